//! The agent against `MockMep`, end to end: configured by a YAML file and the environment EdgeGallery sets,
//! on a clock shared with the mock and moved by the test.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{config_file, get, service_yaml, subscription_yaml, wait_for};
use http::Method;
use mec_agent::{Agent, AgentClock, AgentConfig, Backoff, Error, Phase, Registration, Settings};
use mec_core::ManualClock;
use mec_core::signature::Credentials;
use mec_mp1::client::Client;
use mec_mp1::model::ServiceState;
use mec_mp1::receiver::NotificationReceiver;
use mec_testkit::{AppInstance, AppState, Fault, MockMep, RequestMatcher};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// The agent running in a task.
struct Running {
    clock: AgentClock,
    status: watch::Receiver<mec_agent::AgentStatus>,
    api: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), Error>>,
}

impl Running {
    async fn start(config: AgentConfig, clock: AgentClock) -> Self {
        let agent = Agent::bind(config, clock.clone()).await.unwrap();
        let api = format!("http://{}", agent.local_addr());
        let status = agent.status();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(agent.run_until(async {
            let _ = stopped.await;
        }));
        Self {
            clock,
            status,
            api,
            stop: Some(stop),
            task,
        }
    }

    async fn running(&mut self) -> mec_agent::AgentStatus {
        wait_for(&mut self.status, "running", |s| s.phase == Phase::Running).await
    }

    async fn shut_down(mut self) -> Result<(), Error> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(common::PATIENCE, self.task)
            .await
            .expect("the agent stops")
            .expect("no panic")
    }
}

/// The environment EdgeGallery gives its agent, pointing at the mock over plain HTTP.
fn edgegallery_env(app: &str, credentials: &Credentials, config: &Path) -> HashMap<String, String> {
    [
        ("AK", credentials.access_key()),
        ("SK", credentials.secret_key()),
        ("APPINSTID", app),
        ("MEP_IP", "127.0.0.1"),
        ("MEP_APIGW_PORT", "8443"),
        ("EG_PROTOCOL", "http"),
        ("CA_CERT_DOMAIN_NAME", "edgegallery"),
        ("MEP_AGENT_CONFIG", &config.display().to_string()),
        ("MEP_AGENT_LISTEN", "127.0.0.1:0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The agent's configuration from that environment; over HTTP EdgeGallery would use port 8000, so the test
/// names the mock's port as the `--mep-port` flag would.
fn resolve(env: &HashMap<String, String>, port: u16) -> AgentConfig {
    let mut flags = Settings::default();
    flags.mep_port = Some(port.to_string());
    let mut config = Settings::from_env(|k| env.get(k).cloned())
        .or(flags)
        .resolve()
        .unwrap();
    config.backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(8), 6);
    config
}

/// Tokens for the test's own client, issued by the mock directly (fresh on each request): a second signed token
/// request of the app in the same second as the agent's would be identical to it, and the MEP refuses it as a
/// replay.
#[derive(Debug)]
struct MockTokens(mec_mep::auth::TokenService, String);

#[async_trait::async_trait]
impl mec_core::client::TokenProvider for MockTokens {
    async fn token(&self) -> Result<Option<String>, mec_core::client::Error> {
        Ok(self.0.issue(&self.1, None).ok().map(|t| t.access_token))
    }
}

fn mp1_client(mep: &MockMep, credentials: &Credentials) -> Client {
    let (app, _) = mep
        .apps()
        .into_iter()
        .find(|(_, c)| c.access_key() == credentials.access_key())
        .unwrap();
    Client::builder(mep.mep_url())
        .token_provider(std::sync::Arc::new(MockTokens(mep.tokens().clone(), app)))
        .build()
        .unwrap()
}

#[tokio::test]
async fn registers_subscribes_confirms_and_answers_the_local_api() {
    let mep = MockMep::start().await;
    let (app, credentials) = mep.app();
    mep.expect_confirm_ready(&app);
    let (receiver, mut notifications) = NotificationReceiver::bind(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let (_dir, path) = config_file(
        &[
            service_yaml("location", "http://10.0.0.7:8080/location/v2", Some(60)),
            service_yaml("faces", "http://10.0.0.7:9090/faces", None),
        ],
        &[subscription_yaml(receiver.url().as_str(), "weather")],
    );
    let mut env = edgegallery_env(&app, &credentials, &path);
    env.insert("MEP_AGENT_LIVENESS_METHOD".into(), "put".into());
    let config = resolve(&env, mep.addr().port());
    assert_eq!(
        config.api_root.as_str(),
        format!("{}/", mep.mep_url()).trim_end_matches('/')
    );
    let clock = AgentClock::manual(mep.clock().unwrap().clone());
    let mut agent = Running::start(config, clock).await;
    let status = agent.running().await;

    // Both services registered under the app, with what the file says.
    assert!(status.ready_confirmed);
    let services = mep.services();
    let mut names: Vec<&str> = services.iter().map(|s| s.ser_name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["faces", "location"]);
    for s in &services {
        assert_eq!(
            s.links.as_ref().and_then(|l| l.app_instance_id.as_deref()),
            Some(app.as_str())
        );
        assert_eq!(s.state, ServiceState::Active);
    }
    assert_eq!(mep.app_state(&app), Some(AppState::Ready));
    let location = &status.services[0];
    assert_eq!(location.registration, Registration::Registered);
    assert_eq!(location.liveness_interval, Some(60));
    assert!(
        location
            .liveness_uri
            .as_deref()
            .is_some_and(|u| u.ends_with("/liveness"))
    );
    assert_eq!(status.services[1].liveness_interval, None);

    // The subscription is at the MEP, and real: another app's "weather" service reaches the callback.
    let client = mp1_client(&mep, &credentials);
    let subs = client
        .app(&app)
        .service_subscriptions()
        .list()
        .await
        .unwrap();
    assert_eq!(subs.links.subscriptions.len(), 1);
    let other = mep
        .add_app(AppInstance::new("0f8fad5b-d9cb-469f-a165-70867728950e"))
        .await
        .unwrap();
    let weather = mec_mp1::model::ServiceInfo::new(
        "weather".into(),
        "1".into(),
        ServiceState::Active,
        mec_mp1::model::SerializerType::Json,
    )
    .with_transport(mec_mp1::model::TransportInfo::rest_http("http://10.0.0.8/w").with_id("rest"));
    mp1_client(&mep, &other)
        .app("0f8fad5b-d9cb-469f-a165-70867728950e")
        .services()
        .register(&weather)
        .await
        .unwrap();
    let n = tokio::time::timeout(common::PATIENCE, notifications.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(format!("{:?}", n.notification).contains("weather"));

    // The local API: the token, as EdgeGallery's agent answers it.
    let (code, headers, body) = get(&agent.api, "/mep-agent/v1/token").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    let keys: Vec<&String> = token.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    let claims = mep
        .check_token(token["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims.sub, app);

    // Endpoints: the first matching service's, in EdgeGallery's shape; 400 for an unknown name.
    let (code, _, body) = get(&agent.api, "/mep-agent/v1/endpoint/location").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"uris": ["http://10.0.0.7:8080/location/v2"], "addresses": null, "alternative": null})
    );
    let (code, _, body) = get(&agent.api, "/mep-agent/v1/endpoint/nothing-here").await;
    assert_eq!((code, body.as_str()), (400, "\"Service does not exist.\""));
    let (code, _, _) = get(&agent.api, "/mep-agent/v1/nope").await;
    assert_eq!(code, 404);

    // Health: running, every registration listed.
    let (code, _, body) = get(&agent.api, "/mep-agent/v1/health").await;
    assert_eq!(code, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["phase"], "RUNNING");
    assert_eq!(health["token"]["present"], true);
    assert_eq!(health["services"][0]["registration"], "REGISTERED");
    assert_eq!(health["subscriptions"][0]["registration"], "REGISTERED");
    assert!(!body.contains(token["access_token"].as_str().unwrap()));

    // A heartbeat goes out as PUT (EdgeGallery's MEP) when the clock says it is due.
    agent.clock.advance(Duration::from_secs(60));
    wait_for(&mut agent.status, "a heartbeat", |s| {
        s.services[0].heartbeats >= 1
    })
    .await;
    assert!(
        mep.requests()
            .iter()
            .any(|r| r.method == Method::PUT && r.path.ends_with("/liveness") && r.status == 204)
    );

    // Shutdown: services deregistered, subscription deleted, clean exit.
    agent.shut_down().await.unwrap();
    assert!(
        mep.services().iter().all(
            |s| s.links.as_ref().and_then(|l| l.app_instance_id.as_deref()) != Some(app.as_str())
        ),
        "{:?}",
        mep.services()
    );
    let left = client.app(&app).service_subscriptions().list().await;
    assert!(
        left.as_ref()
            .map_or_else(|e| e.is_not_found(), |l| l.links.subscriptions.is_empty()),
        "{left:?}"
    );
    let deletes = mep
        .requests()
        .into_iter()
        .filter(|r| r.method == Method::DELETE && r.status == 204)
        .count();
    assert_eq!(deletes, 3);
}

#[tokio::test]
async fn heartbeats_keep_services_active_across_clock_advances() {
    let mep = MockMep::start().await;
    let (app, credentials) = mep.app();
    let (_dir, path) = config_file(
        &[service_yaml(
            "location",
            "http://10.0.0.7:8080/loc",
            Some(60),
        )],
        &[],
    );
    let config = resolve(
        &edgegallery_env(&app, &credentials, &path),
        mep.addr().port(),
    );
    let manual = mep.clock().unwrap().clone();
    let mut agent = Running::start(config, AgentClock::manual(manual.clone())).await;
    let status = agent.running().await;
    let id = status.services[0].ser_instance_id.clone().unwrap();
    let client = mp1_client(&mep, &credentials);
    let liveness = || async { client.app(&app).services().liveness(&id).await.unwrap() };

    for n in 1..=3 {
        agent.clock.advance(Duration::from_secs(60));
        wait_for(&mut agent.status, "the next heartbeat", |s| {
            s.services[0].heartbeats >= n
        })
        .await;
        assert_eq!(
            liveness().await.state,
            ServiceState::Active,
            "after {n} minute(s)"
        );
    }
    // PATCH is the default (ETSI GS MEC 011 2.2.1).
    let beats: Vec<_> = mep
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/liveness") && r.method != Method::GET)
        .collect();
    assert_eq!(beats.len(), 3);
    assert!(
        beats
            .iter()
            .all(|r| r.method == Method::PATCH && r.status == 204)
    );

    // Without the agent (the clock moved behind its back), the MEP suspends the service ...
    manual.advance(Duration::from_secs(70));
    assert_eq!(liveness().await.state, ServiceState::Suspended);
    // ... and the heartbeat the agent sends as soon as it looks at the clock makes it active again.
    agent.clock.wake();
    wait_for(&mut agent.status, "a late heartbeat", |s| {
        s.services[0].heartbeats >= 4
    })
    .await;
    assert_eq!(liveness().await.state, ServiceState::Active);
    agent.shut_down().await.unwrap();
}

#[tokio::test]
async fn the_token_is_renewed_before_expiry_even_when_the_mep_refuses_once() {
    let mep = MockMep::start().await;
    let (app, credentials) = mep.app();
    let (_dir, path) = config_file(&[service_yaml("location", "http://10.0.0.7/l", None)], &[]);
    let config = resolve(
        &edgegallery_env(&app, &credentials, &path),
        mep.addr().port(),
    );
    let mut agent = Running::start(config, AgentClock::manual(mep.clock().unwrap().clone())).await;
    agent.running().await;
    let first = token_of(&agent.api).await;

    // Renewal falls due 60 s before the hour; the MEP refuses it once.
    let token_requests = RequestMatcher::any()
        .method(Method::POST)
        .path_ends_with("/mep/token");
    mep.inject_times(
        token_requests.clone(),
        Fault::Status(http::StatusCode::SERVICE_UNAVAILABLE),
        1,
    );
    agent.clock.advance(Duration::from_secs(3539));
    tokio::task::yield_now().await;
    assert_eq!(agent.status.borrow().token.failures, 0, "not due yet");
    agent.clock.advance(Duration::from_secs(1));
    let s = wait_for(&mut agent.status, "a refused renewal", |s| {
        s.token.failures >= 1
    })
    .await;
    assert_eq!(s.token.renewals, 0);
    assert!(
        s.token
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("503")),
        "{s:?}"
    );
    // The first retry comes after the backoff's first delay (1 s), on the agent's clock.
    agent.clock.advance(Duration::from_secs(1));
    let s = wait_for(&mut agent.status, "a renewal", |s| s.token.renewals >= 1).await;
    assert_eq!(s.token.last_error, None);
    let second = token_of(&agent.api).await;
    assert_ne!(first["access_token"], second["access_token"]);
    assert_eq!(second["expires_in"], 3600);
    assert_eq!(
        mep.requests()
            .iter()
            .filter(|r| token_requests.matches(r))
            .count(),
        3
    );

    // Once the first token has expired, the agent works on with the new one.
    agent.clock.advance(Duration::from_secs(120));
    assert!(
        mep.check_token(first["access_token"].as_str().unwrap())
            .await
            .is_err()
    );
    assert!(
        mep.check_token(second["access_token"].as_str().unwrap())
            .await
            .is_ok()
    );
    let (code, _, body) = get(&agent.api, "/mep-agent/v1/endpoint/location").await;
    assert_eq!(code, 200, "{body}");
    let (_, _, body) = get(&agent.api, "/mep-agent/v1/token").await;
    let left: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        left["expires_in"],
        3600 - 120,
        "seconds left, not the lifetime"
    );
    agent.shut_down().await.unwrap();
}

async fn token_of(api: &str) -> serde_json::Value {
    let (code, _, body) = get(api, "/mep-agent/v1/token").await;
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn recovers_when_the_mep_is_down_at_start() {
    let app = "7d71e54e-81f3-47bb-a2fc-b565a326d794";
    let credentials = Credentials::new(
        "QVUJMSUMgS0VZLS0tLS0",
        "DXPb4sqElKhcHe07Kw5uorayETwId1JOjjOIRomRs5wyszoCR5R7AtVa28KT3lSc",
    );
    // A port nobody listens on, for now.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (_dir, path) = config_file(
        &[service_yaml("location", "http://10.0.0.7/l", Some(60))],
        &[],
    );
    let config = resolve(&edgegallery_env(app, &credentials, &path), addr.port());
    let manual = ManualClock::starting_now();
    let mut agent = Running::start(config, AgentClock::manual(manual.clone())).await;

    let s = wait_for(&mut agent.status, "a failed token request", |s| {
        s.token.failures >= 1
    })
    .await;
    assert_eq!(s.phase, Phase::Starting);
    assert!(
        s.token
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("connect")),
        "{s:?}"
    );
    let (code, _, _) = get(&agent.api, "/mep-agent/v1/token").await;
    assert_eq!(code, 412, "no token yet");
    let (code, _, _) = get(&agent.api, "/mep-agent/v1/health").await;
    assert_eq!(code, 503);

    // The MEP comes up; the agent's next try (after its backoff, on its clock) gets through.
    let mep = MockMep::builder()
        .listen(addr)
        .clock(manual)
        .app(AppInstance::new(app).with_credentials(&credentials))
        .start()
        .await
        .unwrap();
    agent.clock.advance(Duration::from_secs(8));
    let s = agent.running().await;
    assert!(s.token.failures >= 1);
    assert_eq!(s.services[0].registration, Registration::Registered);
    assert_eq!(mep.services().len(), 1);
    assert_eq!(mep.app_state(app), Some(AppState::Ready));
    let (code, _, _) = get(&agent.api, "/mep-agent/v1/token").await;
    assert_eq!(code, 200);
    agent.shut_down().await.unwrap();
    assert!(mep.services().is_empty());
}

#[tokio::test]
async fn gives_up_after_the_configured_attempts() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut config = AgentConfig::new(
        Credentials::new("QVUJMSUMgS0VZLS0tLS0", "x"),
        "7d71e54e-81f3-47bb-a2fc-b565a326d794",
        format!("http://{addr}/mep").parse().unwrap(),
    );
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(2), 3);
    let clock = AgentClock::manual(ManualClock::starting_now());
    let mut agent = Running::start(config, clock.clone()).await;
    for n in 1..=3 {
        wait_for(&mut agent.status, "a failure", |s| s.token.failures >= n).await;
        clock.advance(Duration::from_secs(2));
    }
    let e = tokio::time::timeout(common::PATIENCE, &mut agent.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(e.is_gave_up(), "{e}");
    assert!(
        e.to_string()
            .contains("getting the first token: gave up after 3 attempt(s)"),
        "{e}"
    );
    assert_eq!(agent.status.borrow().phase, Phase::Failed);
}

#[tokio::test]
async fn a_refused_registration_stops_the_agent_and_cleans_up() {
    let mep = MockMep::start().await;
    let (app, credentials) = mep.app();
    // The second service names a transport the MEP does not offer: 400, which no retry can fix.
    let bad = "  - serName: broken\n    version: v1\n    state: ACTIVE\n    serializer: JSON\n    transportId: no-such-transport\n";
    let (_dir, path) = config_file(
        &[
            service_yaml("location", "http://10.0.0.7/l", Some(60)),
            bad.to_owned(),
        ],
        &[],
    );
    let config = resolve(
        &edgegallery_env(&app, &credentials, &path),
        mep.addr().port(),
    );
    let agent = Running::start(config, AgentClock::manual(mep.clock().unwrap().clone())).await;
    let e = tokio::time::timeout(common::PATIENCE, agent.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(e.is_refused(), "{e}");
    assert!(e.to_string().contains("registering service broken"), "{e}");
    assert_eq!(e.client_error().and_then(|c| c.status()), Some(400));
    // What was registered before is gone again.
    assert!(mep.services().is_empty(), "{:?}", mep.services());
    assert!(
        !mep.requests()
            .iter()
            .any(|r| r.path.ends_with("/confirm_ready"))
    );
}

#[tokio::test]
async fn a_service_the_mep_forgot_is_registered_again() {
    let mep = MockMep::start().await;
    let (app, credentials) = mep.app();
    let (_dir, path) = config_file(
        &[service_yaml("location", "http://10.0.0.7/l", Some(30))],
        &[],
    );
    let config = resolve(
        &edgegallery_env(&app, &credentials, &path),
        mep.addr().port(),
    );
    let mut agent = Running::start(config, AgentClock::manual(mep.clock().unwrap().clone())).await;
    let s = agent.running().await;
    let old = s.services[0].ser_instance_id.clone().unwrap();
    mp1_client(&mep, &credentials)
        .app(&app)
        .services()
        .delete(&old)
        .await
        .unwrap();
    agent.clock.advance(Duration::from_secs(30));
    let s = wait_for(&mut agent.status, "a new registration", |s| {
        s.services[0].reregistrations >= 1
    })
    .await;
    let new = s.services[0].ser_instance_id.clone().unwrap();
    assert_ne!(new, old);
    let services = mep.services();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].ser_instance_id.as_deref(), Some(new.as_str()));
    // And its heartbeats go on under the new id.
    agent.clock.advance(Duration::from_secs(30));
    wait_for(&mut agent.status, "a heartbeat", |s| {
        s.services[0].heartbeats >= 1
    })
    .await;
    agent.shut_down().await.unwrap();
    assert!(mep.services().is_empty());
}

#[tokio::test]
async fn the_configuration_is_checked_before_anything_is_sent() {
    let (_dir, path) = config_file(&[], &[]);
    let creds = Credentials::new("QVUJMSUMgS0VZLS0tLS0", "s");
    let mut env = edgegallery_env("not-a-uuid", &creds, &path);
    let e = Settings::from_env(|k| env.get(k).cloned())
        .resolve()
        .unwrap_err();
    assert!(
        e.is_config()
            && e.to_string()
                .contains("APPINSTID \"not-a-uuid\" is not a UUID"),
        "{e}"
    );
    env.remove("APPINSTID");
    let e = Settings::from_env(|k| env.get(k).cloned())
        .resolve()
        .unwrap_err();
    assert!(e.to_string().contains("APPINSTID is not set"), "{e}");
    env.insert(
        "APPINSTID".into(),
        "7d71e54e-81f3-47bb-a2fc-b565a326d794".into(),
    );
    env.insert(
        "MEP_AGENT_CONFIG".into(),
        "/nonexistent/app_instance_info.yaml".into(),
    );
    let e = Settings::from_env(|k| env.get(k).cloned())
        .resolve()
        .unwrap_err();
    assert!(
        e.is_config()
            && e.to_string()
                .contains("/nonexistent/app_instance_info.yaml"),
        "{e}"
    );
    // A local API port in use fails at bind, before the MEP is contacted.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = AgentConfig::new(
        creds,
        "7d71e54e-81f3-47bb-a2fc-b565a326d794",
        "http://127.0.0.1:1/mep".parse().unwrap(),
    );
    config.listen = busy.local_addr().unwrap();
    let e = Agent::bind(config, AgentClock::system()).await.unwrap_err();
    assert!(e.is_listen(), "{e}");
    let _ = common::read(&path);
}
