//! The control API of the `mock-mep` binary, driven from outside the process as a test in any language would:
//! the real binary on a free port of 127.0.0.1, Mp1 calls through the `mec-mp1` client with the demo app's AK/SK
//! (the real token path), control calls with reqwest.

#![allow(clippy::unwrap_used, clippy::panic)]

mod mock_process;

use mec_core::signature::Credentials;
use mec_mp1::client::Client;
use mec_mp1::model::{
    AppTerminationNotificationSubscription, Notification, OperationAction, SerializerType,
    ServiceInfo, ServiceState,
};
use mec_mp1::receiver::NotificationReceiver;
use mock_process::{DEMO_AK, DEMO_APP, DEMO_SK, MockProcess};
use serde_json::{Value, json};
use std::time::Duration;

fn mp1(mock: &MockProcess) -> Client {
    Client::builder(&mock.url)
        .aksk(Credentials::new(DEMO_AK, DEMO_SK))
        .build()
        .unwrap()
}

async fn register(client: &Client, name: &str, liveness: Option<u32>) -> String {
    let transport = client.transports().list().await.unwrap()[0].id.clone();
    let mut s = ServiceInfo::new(
        name.to_owned(),
        "1.0".to_owned(),
        ServiceState::Active,
        SerializerType::Json,
    );
    s.transport_id = Some(transport);
    s.liveness_interval = liveness;
    client
        .app(DEMO_APP)
        .services()
        .register(&s)
        .await
        .unwrap()
        .resource
        .ser_instance_id
        .unwrap()
}

#[tokio::test]
async fn reset_returns_to_the_seed_and_control_calls_are_not_mp1_traffic() {
    let mock = MockProcess::start(&[]).await;
    let client = mp1(&mock);
    register(&client, "before-reset", None).await;
    let state = mock.get("/_mock/state").await;
    assert_eq!(state["services"].as_array().unwrap().len(), 1, "{state}");
    assert_eq!(state["services"][0]["serName"], "before-reset");
    assert_eq!(state["services"][0]["owner"], DEMO_APP);
    assert_eq!(state["apps"][0]["appInstanceId"], DEMO_APP);

    // Only the Mp1 calls were recorded: the token, the transports, the registration.
    let requests = mock.get("/_mock/requests").await;
    let paths: Vec<&str> = requests["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert!(paths.iter().all(|p| !p.starts_with("/_mock")), "{paths:?}");
    assert!(paths.iter().any(|p| p.ends_with("/services")), "{paths:?}");
    let received = requests["received"].as_u64().unwrap();

    // A control call must be declared JSON (a page of another origin cannot send one unasked).
    let bare = mock
        .http
        .post(mock.at("/_mock/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 415);
    assert_eq!(
        bare.headers()["content-type"],
        "application/problem+json",
        "errors are problem+json"
    );
    let unknown = mock
        .http
        .get(mock.at("/_mock/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    // Nor is the control API behind the Mp1 prefix, where a token would be asked for.
    let under_mep = mock
        .http
        .get(mock.at("/mep/_mock/state"))
        .send()
        .await
        .unwrap();
    assert!(
        under_mep.status() == 404 || under_mep.status() == 401,
        "{}",
        under_mep.status()
    );
    let after = mock.get("/_mock/requests").await;
    assert_eq!(
        after["received"].as_u64().unwrap(),
        received,
        "control calls are not recorded: {after}"
    );

    let (status, answer) = mock.post("/_mock/reset", json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["apps"][0]["appInstanceId"], DEMO_APP);
    assert_eq!(answer["apps"][0]["accessKey"], DEMO_AK);
    let state = mock.get("/_mock/state").await;
    assert_eq!(state["services"], json!([]), "{state}");
    assert_eq!(mock.get("/_mock/requests").await["received"], 0);
    // The seed's app is back, with its credentials: the app goes on with a new token.
    let fresh = mp1(&mock);
    assert!(
        fresh
            .services()
            .list(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    register(&fresh, "after-reset", None).await;

    // A new seed: checked first (a bad one changes nothing), then the mock resets to it.
    let (status, problem) = mock
        .put(
            "/_mock/seed",
            json!({"apps": [{"appInstanceId": "x"}, {"appInstanceId": "x"}]}),
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("given twice"),
        "{problem}"
    );
    assert_eq!(
        mock.get("/_mock/state").await["services"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (status, answer) = mock
        .put(
            "/_mock/seed",
            json!({"apps": [{"appInstanceId": "seeded", "services": [
                {"serName": "from-seed", "version": "1", "state": "ACTIVE", "serializer": "JSON"}]}]}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let state = mock.get("/_mock/state").await;
    assert_eq!(state["apps"].as_array().unwrap().len(), 1);
    assert_eq!(state["apps"][0]["appInstanceId"], "seeded");
    assert_eq!(state["services"][0]["serName"], "from-seed");
    assert_eq!(
        mock.get("/_mock/seed").await["apps"][0]["appInstanceId"],
        "seeded"
    );
}

#[tokio::test]
async fn expectations_are_met_or_listed_unmet() {
    let mock = MockProcess::start(&[]).await;
    let client = mp1(&mock);
    let (status, added) = mock
        .post(
            "/_mock/expectations",
            json!({"name": "registers once", "method": "POST", "path": "*/applications/*/services",
                   "appInstanceId": DEMO_APP, "times": 1}),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["exactly"], 1);
    mock.post(
        "/_mock/expectations",
        json!({"name": "confirms ready", "pathEndsWith": "/confirm_ready", "atLeast": 1}),
    )
    .await;

    let (status, problem) = mock.get_status("/_mock/expectations/verify").await;
    assert_eq!(status, 409, "{problem}");
    let unmet: Vec<&str> = problem["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(unmet, ["registers once", "confirms ready"]);

    register(&client, "expected", None).await;
    let (status, problem) = mock.get_status("/_mock/expectations/verify").await;
    assert_eq!(status, 409);
    assert_eq!(problem["unmet"].as_array().unwrap().len(), 1);
    assert_eq!(problem["unmet"][0]["name"], "confirms ready");
    assert!(
        problem["detail"].as_str().unwrap().contains("received 0"),
        "{problem}"
    );

    client.app(DEMO_APP).confirm_ready().await.unwrap();
    let (status, ok) = mock.get_status("/_mock/expectations/verify").await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok, json!({"met": 2, "unmet": []}));

    // A second registration breaks "exactly once".
    register(&client, "again", None).await;
    let (status, problem) = mock.get_status("/_mock/expectations/verify").await;
    assert_eq!(status, 409);
    assert_eq!(problem["unmet"][0]["seen"], 2);

    // The recorded requests, filtered.
    let posts = mock
        .get(&format!(
            "/_mock/requests?method=POST&pathEndsWith=/services&appInstanceId={DEMO_APP}&status=201"
        ))
        .await;
    assert_eq!(posts["count"], 2, "{posts}");
    assert_eq!(posts["requests"][0]["body"]["serName"], "expected");
    let none = mock.get("/_mock/requests?status=500").await;
    assert_eq!(none["count"], 0);

    let (status, bad) = mock
        .post("/_mock/expectations", json!({"times": 1, "atLeast": 1}))
        .await;
    assert_eq!(status, 400, "{bad}");
    let (status, bad) = mock.post("/_mock/expectations", json!({"tmes": 1})).await;
    assert_eq!(status, 400, "unknown members are refused: {bad}");

    let gone = mock
        .http
        .delete(mock.at("/_mock/expectations"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    assert_eq!(mock.get_status("/_mock/expectations/verify").await.0, 200);
}

#[tokio::test]
async fn injected_faults_are_seen_by_the_client_then_wear_off() {
    let mock = MockProcess::start(&[]).await;
    let client = mp1(&mock);
    client.transports().list().await.unwrap();
    let (status, faults) = mock
        .post(
            "/_mock/faults",
            json!({"method": "GET", "path": "*/mec_service_mgmt/v1/transports", "status": 503, "times": 1}),
        )
        .await;
    assert_eq!(status, 201, "{faults}");
    assert_eq!(faults[0]["status"], 503);
    assert_eq!(faults[0]["remaining"], 1);

    let e = client.transports().list().await.unwrap_err();
    assert_eq!(e.status(), Some(503), "{e}");
    assert_eq!(client.transports().list().await.unwrap().len(), 1);
    assert_eq!(
        mock.get("/_mock/faults").await,
        json!([]),
        "the fault wore off"
    );

    // Always, until cleared.
    mock.post(
        "/_mock/faults",
        json!({"pathEndsWith": "/transports", "status": 500}),
    )
    .await;
    for _ in 0..2 {
        assert!(client.transports().list().await.is_err());
    }
    let cleared = mock
        .http
        .delete(mock.at("/_mock/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 204);
    client.transports().list().await.unwrap();
    let failed = mock.get("/_mock/requests?status=500").await;
    assert_eq!(failed["count"], 2);

    let (status, bad) = mock.post("/_mock/faults", json!({"status": 200})).await;
    assert_eq!(status, 400, "{bad}");
    let (status, bad) = mock.post("/_mock/faults", json!({"path": "/x"})).await;
    assert_eq!(status, 400, "{bad}");
}

#[tokio::test]
async fn advancing_the_clock_suspends_a_service_that_stopped_its_heartbeats() {
    let mock = MockProcess::start(&[]).await;
    let client = mp1(&mock);
    let id = register(&client, "beating", Some(30)).await;
    let before = mock.get("/_mock/clock").await["now"].as_f64().unwrap();
    let (status, moved) = mock
        .post("/_mock/clock/advance", json!({"seconds": 20}))
        .await;
    assert_eq!(status, 200, "{moved}");
    assert!(moved["now"].as_f64().unwrap() >= before + 20.0);
    client
        .app(DEMO_APP)
        .services()
        .heartbeat(&id)
        .await
        .unwrap();
    mock.post("/_mock/clock/advance", json!({"seconds": 20}))
        .await;
    let state = mock.get("/_mock/state").await;
    assert_eq!(
        state["services"][0]["state"], "ACTIVE",
        "the heartbeat came in time"
    );

    // Silence past the interval (and its grace): suspended by the time the answer comes.
    mock.post("/_mock/clock/advance", json!({"seconds": 40}))
        .await;
    let state = mock.get("/_mock/state").await;
    assert_eq!(state["services"][0]["state"], "SUSPENDED", "{state}");
    let seen = client
        .app(DEMO_APP)
        .services()
        .get(&id)
        .await
        .unwrap()
        .value;
    assert_eq!(seen.state, ServiceState::Suspended);

    let (status, bad) = mock
        .post("/_mock/clock/advance", json!({"seconds": -1}))
        .await;
    assert_eq!(status, 400, "{bad}");
    let (status, bad) = mock
        .post("/_mock/clock/advance", json!({"seconds": 1e12}))
        .await;
    assert_eq!(status, 400, "{bad}");

    // The other triggers: a service state, tokens.
    let set = mock
        .http
        .put(mock.at(&format!("/_mock/services/{id}/state")))
        .json(&json!({"state": "INACTIVE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 204);
    assert_eq!(
        client
            .app(DEMO_APP)
            .services()
            .get(&id)
            .await
            .unwrap()
            .value
            .state,
        ServiceState::Inactive
    );
    let (status, _) = mock.post("/_mock/tokens/expire", json!({})).await;
    assert_eq!(status, 204);
    let state = mock.get("/_mock/state").await;
    assert!(state["apps"][0]["tokensValidFrom"].is_number(), "{state}");
}

#[tokio::test]
async fn a_triggered_termination_reaches_the_subscribed_receiver() {
    let mock = MockProcess::start(&[]).await;
    let client = mp1(&mock);
    let (receiver, mut notifications) = NotificationReceiver::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    client
        .app(DEMO_APP)
        .termination_subscriptions()
        .create(&AppTerminationNotificationSubscription::new(
            receiver.url().to_string(),
            DEMO_APP,
        ))
        .await
        .unwrap();
    // The first attempt fails (a notification fault); the retry delivers it.
    let faults = mock
        .http
        .put(mock.at("/_mock/faults/notifications"))
        .json(&json!({"failNext": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(faults.status(), 200);
    assert_eq!(faults.json::<Value>().await.unwrap()["failNext"], 1);

    let (status, answer) = mock
        .post(&format!("/_mock/apps/{DEMO_APP}/terminate"), json!({}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["state"], "TERMINATING");
    let received = tokio::time::timeout(Duration::from_secs(20), notifications.recv())
        .await
        .expect("a termination notification within 20 s")
        .unwrap();
    let Notification::AppTermination(n) = received.notification else {
        panic!(
            "not a termination notification: {:?}",
            received.notification
        )
    };
    assert_eq!(n.operation_action, OperationAction::Terminating);

    let mut delivered = Value::Null;
    for _ in 0..100 {
        delivered = mock.get("/_mock/notifications").await;
        if delivered["notifications"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let record = &delivered["notifications"][0];
    assert_eq!(record["outcome"]["result"], "DELIVERED", "{delivered}");
    assert_eq!(record["attempts"], 2, "{delivered}");
    assert_eq!(record["appInstanceId"], DEMO_APP);
    assert_eq!(
        record["notification"]["notificationType"],
        "AppTerminationNotification"
    );
    assert_eq!(delivered["stats"]["delivered"], 1);
    assert_eq!(delivered["stats"]["retries"], 1);

    let unknown = mock
        .post("/_mock/apps/no-such-app/terminate", json!({}))
        .await;
    assert_eq!(unknown.0, 404, "{}", unknown.1);
}

#[tokio::test]
async fn mm5_configuration_and_new_apps_through_the_control_api() {
    let mock = MockProcess::start(&[]).await;
    let (status, app) = mock
        .post("/_mock/apps", json!({"appInstanceId": "added-app"}))
        .await;
    assert_eq!(status, 201, "{app}");
    assert_eq!(app["secretKey"].as_str().unwrap().len(), 64);
    let config = json!({
        "appName": "configured",
        "appSupportMp1": true,
        "appDNSRule": [{"dnsRuleId": "dns1", "domainName": "svc.example", "ipAddressType": "IP_V4",
                        "ipAddress": "192.0.2.7", "ttl": 30, "state": "ACTIVE"}]
    });
    let configured = mock
        .http
        .put(mock.at("/_mock/apps/added-app/config"))
        .json(&config)
        .send()
        .await
        .unwrap();
    assert_eq!(
        configured.status(),
        200,
        "{}",
        configured.text().await.unwrap()
    );
    let state = mock.get("/_mock/state").await;
    let added = state["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["appInstanceId"] == "added-app")
        .unwrap();
    assert_eq!(added["configuredName"], "configured");
    assert_eq!(added["dnsRules"][0]["domainName"], "svc.example");
}

#[tokio::test]
async fn no_control_turns_the_control_api_and_the_dashboard_off() {
    let mock = MockProcess::start(&["--no-control"]).await;
    for path in ["/_mock/state", "/_mock/ui"] {
        let r = mock.http.get(mock.at(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = mock
        .http
        .post(mock.at("/_mock/reset"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Mp1 is served as ever.
    mp1(&mock).transports().list().await.unwrap();
}

#[tokio::test]
async fn the_event_stream_tells_of_requests_and_changes_as_they_happen() {
    let mock = MockProcess::start(&[]).await;
    let mut stream = mock
        .http
        .get(mock.at("/_mock/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let client = mp1(&mock);
    register(&client, "streamed", None).await;
    let mut seen = String::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("event: changed")
                && seen.contains("event: request")
                && seen.contains("\"status\":201")
            {
                return;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the stream said: {seen}");
    assert!(seen.contains("/services"), "{seen}");
    assert!(
        !seen.contains("/_mock"),
        "control calls are not streamed: {seen}"
    );
}

#[tokio::test]
async fn control_calls_must_name_the_mock_by_address_localhost_or_an_allowed_name() {
    let mock = MockProcess::start(&["--control-host", "mock-mep.test"]).await;
    let call = |host: &'static str| {
        let mock = &mock;
        async move {
            mock.http
                .get(mock.at("/_mock/clock"))
                .header("host", host)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // A page whose name was rebound to 127.0.0.1 sends its own name.
    assert_eq!(call("attacker.example:8080").await, 403);
    assert_eq!(call("localhost:8080").await, 200);
    assert_eq!(call("127.0.0.1").await, 200);
    assert_eq!(call("[::1]:8080").await, 200);
    assert_eq!(call("MOCK-MEP.test:80").await, 200);
    // Mp1 is not concerned.
    let r = mock
        .http
        .get(mock.at("/mec_service_mgmt/v1/transports"))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "Mp1 answers as ever (a token is needed)");
}
