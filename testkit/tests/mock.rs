//! The mock's own features: seeds from files, latency and notification delay, MEP-side events, the clock.

#![allow(clippy::unwrap_used)]

use mec_mp1::client::{Client, ServiceQuery};
use mec_mp1::model::{
    ChangeType, Notification, SerAvailabilityNotificationSubscription, ServiceState,
};
use mec_mp1::receiver::NotificationReceiver;
use mec_testkit::{Fault, MockMep, RequestMatcher, Seed, Times};
use std::time::Duration;

const YAML_SEED: &str = r#"
apps:
  - appInstanceId: seeded-app
    accessKey: AAAAAAAAAAAAAAAAAAAA
    secretKey: BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB
    dnsRules:
      - dnsRuleId: dns1
        domainName: www.example.com
        ipAddressType: IP_V4
        ipAddress: 192.0.2.1
        state: ACTIVE
    services:
      - serName: seeded
        version: "1.0"
        state: ACTIVE
        serializer: JSON
        transportId: rest
  - appInstanceId: second
transports:
  - id: rest
    name: REST
    type: REST_HTTP
    protocol: HTTP
    version: "2.0"
    endpoint: { uris: ["http://10.0.0.1/"] }
"#;

#[tokio::test]
async fn seeds_from_yaml_and_json_files() {
    let dir = std::env::temp_dir().join(format!("mock-mep-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let yaml = dir.join("seed.yaml");
    std::fs::write(&yaml, YAML_SEED).unwrap();
    let seed = Seed::from_file(&yaml).unwrap();
    let json = dir.join("seed.json");
    std::fs::write(&json, serde_json::to_string(&seed).unwrap()).unwrap();
    assert_eq!(Seed::from_file(&json).unwrap(), seed);

    let mep = MockMep::builder().seed(seed).start().await.unwrap();
    let creds = mep.credentials("seeded-app").unwrap();
    assert_eq!(creds.access_key(), "AAAAAAAAAAAAAAAAAAAA");
    assert_eq!(mep.credentials("second").unwrap().secret_key().len(), 64);
    let client = Client::builder(mep.url()).aksk(creds).build().unwrap();
    assert_eq!(
        client.app("seeded-app").dns_rules().list().await.unwrap()[0].dns_rule_id,
        "dns1"
    );
    let found = client
        .services()
        .list(&ServiceQuery::new().ser_name("seeded"))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(client.transports().list().await.unwrap()[0].id, "rest");

    std::fs::write(&yaml, "apps: [{appInstanceId: x, unknownKey: 1}]").unwrap();
    let e = Seed::from_file(&yaml).unwrap_err();
    assert!(e.to_string().contains("unknownKey"), "{e}");
    assert!(Seed::from_file(dir.join("missing.yaml")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

// Tokio's clock is paused: the injected delays pass on it, and nothing here reads the wall clock.
#[tokio::test(start_paused = true)]
async fn injected_latency_delays_matching_requests_only() {
    let mep = MockMep::builder().without_auth().start().await.unwrap();
    let client = Client::builder(mep.url()).build().unwrap();
    mep.inject(
        RequestMatcher::any().path_ends_with("/current_time"),
        Fault::Latency(Duration::from_millis(300)),
    );
    let t = tokio::time::Instant::now();
    client.timing().current_time().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = tokio::time::Instant::now();
    mep.clear_faults();
    client.timing().current_time().await.unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "no latency once cleared"
    );
    mep.expect(
        "two time reads",
        RequestMatcher::any().path_contains("/timing/"),
        Times::Exactly(2),
    );
}

#[tokio::test(start_paused = true)]
async fn state_changes_and_delayed_notifications_arrive() {
    let mep = MockMep::builder().without_auth().start().await.unwrap();
    let (app_id, _) = mep.app();
    let client = Client::builder(mep.url()).build().unwrap();
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
    let mut svc = mec_mp1::model::ServiceInfo::new(
        "s".to_owned(),
        "1".to_owned(),
        ServiceState::Active,
        mec_mp1::model::SerializerType::Json,
    );
    svc.transport_id = Some(client.transports().list().await.unwrap()[0].id.clone());
    mep.delay_notifications(Duration::from_millis(200));
    let id = client
        .app(&app_id)
        .services()
        .register(&svc)
        .await
        .unwrap()
        .resource
        .ser_instance_id
        .unwrap();
    let sent = tokio::time::Instant::now();
    let first = tokio::time::timeout(Duration::from_secs(10), notifications.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(sent.elapsed() >= Duration::from_millis(150));
    let Notification::ServiceAvailability(n) = first.notification else {
        panic!()
    };
    assert_eq!(n.service_references[0].change_type, ChangeType::Added);

    mep.delay_notifications(Duration::ZERO);
    mep.set_service_state(&id, ServiceState::Inactive)
        .await
        .unwrap();
    let next = tokio::time::timeout(Duration::from_secs(10), notifications.recv())
        .await
        .unwrap()
        .unwrap();
    let Notification::ServiceAvailability(n) = next.notification else {
        panic!()
    };
    assert_eq!(
        (
            n.service_references[0].change_type.clone(),
            n.service_references[0].state.clone()
        ),
        (ChangeType::StateChanged, ServiceState::Inactive)
    );
    assert!(
        mep.set_service_state("nope", ServiceState::Active)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_clock_drives_the_timing_api() {
    let mep = MockMep::builder().without_auth().start().await.unwrap();
    let client = Client::builder(mep.url()).build().unwrap();
    let before = client.timing().current_time().await.unwrap().seconds;
    mep.advance(Duration::from_secs(3600));
    let after = client.timing().current_time().await.unwrap().seconds;
    assert_eq!(after - before, 3600);
}

/// The Rust methods and the control API are one implementation: a reset from either is seen by the other, over
/// the memory store and the file store alike; `without_control` serves no `/_mock`.
#[tokio::test]
async fn reset_and_expectations_from_rust_and_over_http_agree() {
    let dir = std::env::temp_dir().join(format!("mock-mep-reset-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for file_store in [false, true] {
        let mut builder = MockMep::builder().without_auth();
        if file_store {
            builder = builder.store(dir.join("state.redb"));
        }
        let mep = builder.start().await.unwrap();
        let (app_id, creds) = mep.app();
        let client = Client::builder(mep.url()).build().unwrap();
        let mut svc = mec_mp1::model::ServiceInfo::new(
            "s".to_owned(),
            "1".to_owned(),
            ServiceState::Active,
            mec_mp1::model::SerializerType::Json,
        );
        svc.transport_id = Some(client.transports().list().await.unwrap()[0].id.clone());
        client.app(&app_id).services().register(&svc).await.unwrap();
        mep.expect(
            "never",
            RequestMatcher::any().path_ends_with("/nothing"),
            Times::AtLeast(1),
        );
        let http = reqwest::Client::new();
        let control = mep.control_url().unwrap();
        let unmet: serde_json::Value = http
            .get(format!("{control}/expectations"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(unmet[0]["name"], "never");
        assert_eq!(unmet[0]["met"], false);

        let apps = mep.reset().await.unwrap();
        assert_eq!(apps, vec![(app_id.clone(), creds.clone())]);
        assert!(mep.services().is_empty());
        assert!(mep.expectations().is_empty());
        assert_eq!(mep.requests_received(), 0);
        assert_eq!(client.transports().list().await.unwrap().len(), 1);

        client.app(&app_id).services().register(&svc).await.unwrap();
        let r = http
            .post(format!("{control}/reset"))
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            mep.services().is_empty(),
            "a reset over HTTP is seen in Rust"
        );
        mep.verify().unwrap();
        drop(mep);
        let _ = std::fs::remove_file(dir.join("state.redb"));
    }
    std::fs::remove_dir_all(&dir).unwrap();

    let quiet = MockMep::builder().without_control().start().await.unwrap();
    assert!(quiet.control_url().is_none());
    let r = reqwest::get(format!("{}/_mock/state", quiet.url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn advance_and_sweep_suspends_at_once_even_on_real_time() {
    let mep = MockMep::builder()
        .without_auth()
        .system_clock()
        .start()
        .await
        .unwrap();
    let (app_id, _) = mep.app();
    let client = Client::builder(mep.url()).build().unwrap();
    let mut svc = mec_mp1::model::ServiceInfo::new(
        "beating".to_owned(),
        "1".to_owned(),
        ServiceState::Active,
        mec_mp1::model::SerializerType::Json,
    );
    svc.transport_id = Some(client.transports().list().await.unwrap()[0].id.clone());
    svc.liveness_interval = Some(30);
    client.app(&app_id).services().register(&svc).await.unwrap();
    let before = mep.now();
    let now = mep
        .advance_and_sweep(Duration::from_secs(60))
        .await
        .unwrap();
    assert!(now >= before + Duration::from_secs(60));
    assert_eq!(mep.services()[0].state, ServiceState::Suspended);
    assert!(
        mep.advance_and_sweep(Duration::from_secs(u64::MAX / 2))
            .await
            .is_err(),
        "too far is refused, not an overflow"
    );
}
