//! The whole life of an edge app against `MockMep`, through the `mec-mp1` client and notification receiver:
//! token, register, discover, subscribe, receive the notification, confirm ready, terminate, receive the
//! termination notification, confirm termination.

#![allow(clippy::unwrap_used)]

use mec_mep::engine::DeliveryOutcome;
use mec_mp1::client::{Client, ServiceQuery};
use mec_mp1::model::{
    AppTerminationNotificationSubscription, CategoryRef, ChangeType, EndPointInfo,
    FilteringCriteria, Notification, OperationAction, SerAvailabilityNotificationSubscription,
    SerializerType, ServiceInfo, ServiceState, TransportInfo, TransportType,
};
use mec_mp1::receiver::NotificationReceiver;
use mec_testkit::{AppInstance, AppState, Event, MockMep};
use std::time::Duration;

fn service(name: &str, category: &str) -> ServiceInfo {
    let mut s = ServiceInfo::new(
        name.to_owned(),
        "1.0".to_owned(),
        ServiceState::Active,
        SerializerType::Json,
    );
    s.ser_category = Some(CategoryRef::new(
        format!("/catalogue/{category}"),
        category.to_owned(),
        category.to_owned(),
        "v1".to_owned(),
    ));
    s.transport_info = Some(TransportInfo::new(
        "rest".to_owned(),
        "REST".to_owned(),
        TransportType::RestHttp,
        "HTTP".to_owned(),
        "2.0".to_owned(),
        EndPointInfo::Uris(vec![format!("http://10.0.0.9:8080/{name}")]),
    ));
    s
}

async fn next(notifications: &mut mec_mp1::receiver::Notifications) -> Notification {
    tokio::time::timeout(Duration::from_secs(10), notifications.recv())
        .await
        .expect("no notification within 10 s")
        .expect("the receiver stopped")
        .notification
}

#[tokio::test]
async fn an_app_lives_its_whole_life_against_the_mock() {
    let provider_id = "11111111-1111-4111-8111-111111111111";
    let mep = MockMep::builder()
        .app(AppInstance::new("5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f"))
        .app(AppInstance::new(provider_id))
        .start()
        .await
        .unwrap();
    let (app_id, creds) = mep.app();
    mep.expect_registration(&app_id);
    mep.expect_confirm_ready(&app_id);
    mep.expect_confirm_termination(&app_id);

    // The app's notification endpoint.
    let (receiver, mut notifications) = NotificationReceiver::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let callback = receiver.url().to_string();

    // Token (AK/SK signed) on first use, EdgeGallery layout.
    let client = Client::builder(mep.mep_url()).aksk(creds).build().unwrap();
    let app = client.app(&app_id);

    // Subscribe to availability of "location" services, then another app registers one.
    let mut sub = SerAvailabilityNotificationSubscription::new(callback.clone());
    sub.filtering_criteria =
        Some(FilteringCriteria::new().with_ser_names(vec!["location".to_owned()]));
    let created = app.service_subscriptions().create(&sub).await.unwrap();
    assert!(created.location.unwrap().contains("/subscriptions/"));

    let provider = Client::builder(mep.mep_url())
        .aksk(mep.credentials(provider_id).unwrap())
        .build()
        .unwrap();
    let registered = provider
        .app(provider_id)
        .services()
        .register(&service("location", "LOC"))
        .await
        .unwrap();
    let location_id = registered.resource.ser_instance_id.clone().unwrap();

    match next(&mut notifications).await {
        Notification::ServiceAvailability(n) => {
            assert_eq!(n.service_references[0].ser_instance_id, location_id);
            assert_eq!(n.service_references[0].change_type, ChangeType::Added);
        }
        other => panic!("unexpected {other:?}"),
    }

    // Register our own service and discover the other one by name and by category.
    let ours = app
        .services()
        .register(&service("analytics", "AI"))
        .await
        .unwrap();
    assert!(ours.resource.ser_instance_id.is_some());
    let found = client
        .services()
        .list(&ServiceQuery::new().ser_name("location"))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].ser_instance_id.as_deref(),
        Some(location_id.as_str())
    );
    let by_category = client
        .services()
        .list(&ServiceQuery::new().ser_category_id("AI"))
        .await
        .unwrap();
    assert_eq!(by_category[0].ser_name, "analytics");

    // Ready.
    app.confirm_ready().await.unwrap();
    assert_eq!(mep.app_state(&app_id), Some(AppState::Ready));

    // Termination: subscribe, the MEP terminates, the app is told and confirms.
    app.termination_subscriptions()
        .create(&AppTerminationNotificationSubscription::new(
            callback.clone(),
            app_id.clone(),
        ))
        .await
        .unwrap();
    assert_eq!(mep.terminate(&app_id).await.unwrap(), AppState::Terminating);
    match next(&mut notifications).await {
        Notification::AppTermination(n) => {
            assert_eq!(n.operation_action, OperationAction::Terminating);
            assert!(
                n.links
                    .confirm_termination
                    .unwrap()
                    .href
                    .ends_with(&format!("/applications/{app_id}/confirm_termination"))
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    app.confirm_termination(OperationAction::Terminating)
        .await
        .unwrap();
    assert_eq!(mep.app_state(&app_id), Some(AppState::Terminated));
    assert!(mep.services().iter().all(|s| s.ser_name != "analytics"));
    assert!(mep.events().contains(&Event::Terminated {
        app_instance_id: app_id.clone()
    }));
    mep.verify().unwrap();
}

#[tokio::test]
async fn expectations_report_what_was_received_instead() {
    let mep = MockMep::start().await;
    let (app_id, creds) = mep.app();
    mep.expect_confirm_ready(&app_id);
    let client = Client::builder(mep.url()).aksk(creds).build().unwrap();
    client.timing().current_time().await.unwrap();
    let report = mep.verify().unwrap_err().report;
    assert!(
        report.contains(&format!("ready confirmation by {app_id}")),
        "{report}"
    );
    assert!(
        report.contains("GET /mec_app_support/v1/timing/current_time -> 200"),
        "{report}"
    );
    assert!(report.contains("POST /mep/token -> 200"), "{report}");
    // Meet the expectation so that the drop check passes.
    client.app(&app_id).confirm_ready().await.unwrap();
}

#[tokio::test]
#[should_panic(expected = "expectation(s) of the mock MEP not met")]
async fn unmet_expectations_fail_the_test_on_drop() {
    let mep = MockMep::start().await;
    mep.expect_registration("someone");
}

#[tokio::test]
async fn tokens_expire_and_are_renewed_transparently() {
    let mep = MockMep::builder()
        .token_lifetime(Duration::from_secs(600))
        .start()
        .await
        .unwrap();
    let (app_id, creds) = mep.app();
    let client = Client::builder(mep.mep_url()).aksk(creds).build().unwrap();
    client.app(&app_id).dns_rules().list().await.unwrap();
    mep.advance(Duration::from_secs(601));
    // The client still holds the old token: the mock answers 401, the client fetches a new one and retries.
    client.app(&app_id).dns_rules().list().await.unwrap();
    let statuses: Vec<u16> = mep.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 401, 200, 200]);
}

#[tokio::test]
async fn bad_signatures_and_missing_or_expired_tokens_get_401_problem_json() {
    let mep = MockMep::start().await;
    let (app_id, creds) = mep.app();
    let http = reqwest::Client::new();
    let url = format!(
        "{}/mep/mec_app_support/v1/applications/{app_id}/dns_rules",
        mep.url()
    );

    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    let forged = mec_core::signature::Credentials::new(creds.access_key(), "x".repeat(64));
    let bad = Client::builder(mep.mep_url()).aksk(forged).build().unwrap();
    let e = bad.app(&app_id).dns_rules().list().await.unwrap_err();
    assert!(e.is_unauthorized(), "{e}");
    // One message for every credential failure: nothing tells which access keys exist.
    assert_eq!(e.problem().unwrap().detail, "Invalid access or signature.");

    let good = Client::builder(mep.mep_url()).aksk(creds).build().unwrap();
    good.app(&app_id).dns_rules().list().await.unwrap();
    mep.expire_tokens();
    let token_requests = || {
        mep.requests()
            .iter()
            .filter(|r| r.path == "/mep/token")
            .count()
    };
    let before = token_requests();
    good.app(&app_id).dns_rules().list().await.unwrap();
    assert_eq!(token_requests(), before + 1);
}

#[tokio::test]
async fn another_apps_token_is_forbidden_on_my_resources() {
    let mep = MockMep::builder()
        .app(AppInstance::new("a-1"))
        .app(AppInstance::new("b-2"))
        .start()
        .await
        .unwrap();
    let client = Client::builder(mep.url())
        .aksk(mep.credentials("a-1").unwrap())
        .build()
        .unwrap();
    let e = client.app("b-2").dns_rules().list().await.unwrap_err();
    assert!(e.is_forbidden(), "{e}");
}

#[tokio::test]
async fn faults_delay_fail_and_drop() {
    use mec_testkit::{Fault, RequestMatcher};
    let mep = MockMep::builder().without_auth().start().await.unwrap();
    let (app_id, _) = mep.app();
    let client = Client::builder(mep.url()).build().unwrap();
    mep.inject_times(
        RequestMatcher::any().path_ends_with("/confirm_ready"),
        Fault::Status(http::StatusCode::SERVICE_UNAVAILABLE),
        1,
    );
    let e = client.app(&app_id).confirm_ready().await.unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert!(e.is_retryable());
    client.app(&app_id).confirm_ready().await.unwrap();

    let (receiver, mut notifications) = NotificationReceiver::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    client
        .app(&app_id)
        .service_subscriptions()
        .create(&SerAvailabilityNotificationSubscription::new(
            receiver.url().to_string(),
        ))
        .await
        .unwrap();
    mep.drop_notifications(true);
    client
        .app(&app_id)
        .services()
        .register(&service("dropped", "X"))
        .await
        .unwrap();
    // The drop happens on the delivery worker: wait for it to be reported.
    let dropped = || {
        mep.events().iter().any(|e| {
            matches!(e, Event::Notification(r) if matches!(r.outcome, DeliveryOutcome::Dropped { .. }))
        })
    };
    for _ in 0..200 {
        if dropped() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(dropped(), "{:?}", mep.events());
    assert_eq!(mep.delivery_stats().dropped, 1);
    mep.drop_notifications(false);
    client
        .app(&app_id)
        .services()
        .register(&service("kept", "X"))
        .await
        .unwrap();
    match next(&mut notifications).await {
        Notification::ServiceAvailability(n) => {
            assert_eq!(n.service_references[0].ser_name, "kept");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn heartbeats_keep_a_service_active_and_silence_suspends_it() {
    let mep = MockMep::builder().without_auth().start().await.unwrap();
    let (app_id, _) = mep.app();
    let client = Client::builder(mep.url()).build().unwrap();
    let mut s = service("beating", "X");
    s.liveness_interval = Some(30);
    let id = client
        .app(&app_id)
        .services()
        .register(&s)
        .await
        .unwrap()
        .resource
        .ser_instance_id
        .unwrap();
    mep.advance(Duration::from_secs(25));
    client.app(&app_id).services().heartbeat(&id).await.unwrap();
    mep.advance(Duration::from_secs(25));
    assert_eq!(
        client
            .app(&app_id)
            .services()
            .get(&id)
            .await
            .unwrap()
            .value
            .state,
        ServiceState::Active
    );
    mep.advance(Duration::from_secs(40));
    mep.sweep().await.unwrap();
    assert_eq!(
        client
            .app(&app_id)
            .services()
            .get(&id)
            .await
            .unwrap()
            .value
            .state,
        ServiceState::Suspended
    );
    client.app(&app_id).services().heartbeat(&id).await.unwrap();
    assert_eq!(
        client
            .app(&app_id)
            .services()
            .get(&id)
            .await
            .unwrap()
            .value
            .state,
        ServiceState::Active
    );
}

#[tokio::test]
async fn an_app_refused_mp1_gets_403() {
    let mep = MockMep::builder()
        .without_auth()
        .app(AppInstance::new("no-mp1").without_mp1())
        .start()
        .await
        .unwrap();
    let client = Client::builder(mep.url()).build().unwrap();
    let e = client.app("no-mp1").confirm_ready().await.unwrap_err();
    assert!(e.is_forbidden(), "{e}");
}
