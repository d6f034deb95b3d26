//! The `mep` server over real sockets: it defends itself (idle and slow clients, connection and body limits),
//! writes title-case headers, keeps Mm5 off the Mp1 port, and (as the `mep` binary over a file store) keeps its
//! state and pending notifications across a restart, after SIGTERM as after SIGKILL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use mec_mep::config::{ListenerConfig, MepConfig, Mm5Config};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn local() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn mm5_on(listen: SocketAddr) -> Mm5Config {
    Mm5Config::new(listen)
}

fn config() -> MepConfig {
    let mut c = MepConfig::default();
    c.mp1 = ListenerConfig::new(local());
    c.mm5 = Some(mm5_on(SocketAddr::from(([127, 0, 0, 1], 0))));
    c.require_tokens = false;
    c
}

/// Reads until the peer closes or `limit` passes; returns what came.
async fn read_all(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(limit, stream.read_to_end(&mut buf))
        .await
        .is_ok();
    (String::from_utf8_lossy(&buf).into_owned(), closed)
}

#[tokio::test]
async fn silent_and_idle_connections_are_closed() {
    let mut c = config();
    c.http.header_read_timeout_secs = 1;
    let mep = c.start().await.unwrap();
    // A connection that never sends anything.
    let mut silent = TcpStream::connect(mep.mp1_addr).await.unwrap();
    let (_, closed) = read_all(&mut silent, Duration::from_secs(30)).await;
    assert!(closed, "a silent connection is closed by the server");
    // A kept-alive connection that goes idle after one request.
    let mut idle = TcpStream::connect(mep.mp1_addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (text, closed) = read_all(&mut idle, Duration::from_secs(30)).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        closed,
        "an idle kept-alive connection is closed by the server"
    );
    mep.stop().await;
}

#[tokio::test]
async fn connections_over_the_limit_get_a_503_problem() {
    let mut c = config();
    c.http.max_connections = 2;
    c.http.header_read_timeout_secs = 30;
    let mep = c.start().await.unwrap();
    let _a = TcpStream::connect(mep.mp1_addr).await.unwrap();
    let _b = TcpStream::connect(mep.mp1_addr).await.unwrap();
    // Give the server the time to take both (they hold their slots while silent).
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(mep.mp1_addr).await.unwrap();
    third
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (text, _) = read_all(&mut third, Duration::from_secs(10)).await;
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("Retry-After: 1"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    mep.stop().await;
}

#[tokio::test]
async fn slow_bodies_get_408_and_large_ones_413() {
    let mut c = config();
    c.http.request_timeout_secs = 1;
    c.http.body_limit_bytes = 1024;
    let mep = c.start().await.unwrap();
    let path = format!("/mep{SM}/applications/{APP}/services");
    let mut slow = TcpStream::connect(mep.mp1_addr).await.unwrap();
    slow.write_all(
        format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"ser")
            .as_bytes(),
    )
    .await
    .unwrap();
    let (text, _) = read_all(&mut slow, Duration::from_secs(30)).await;
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");

    let big = "x".repeat(4096);
    let answer = reqwest::Client::new()
        .post(format!("http://{}{path}", mep.mp1_addr))
        .header("content-type", "application/json")
        .body(format!("{{\"pad\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
    assert_eq!(answer.headers()["content-type"], "application/problem+json");
    mep.stop().await;
}

#[tokio::test]
async fn headers_are_written_in_title_case_unless_turned_off() {
    for (title, expected) in [(true, "Content-Type: "), (false, "content-type: ")] {
        let mut c = config();
        c.http.title_case_headers = title;
        let mep = c.start().await.unwrap();
        let mut s = TcpStream::connect(mep.mp1_addr).await.unwrap();
        s.write_all(
            format!("GET /mep{SM}/services HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let (text, _) = read_all(&mut s, Duration::from_secs(10)).await;
        assert!(text.contains(expected), "{title}: {text}");
        mep.stop().await;
    }
}

#[tokio::test]
async fn mm5_is_served_on_its_own_listener_only() {
    let mep = config().start().await.unwrap();
    let path = format!("/mepcfg/app_lcm/v1/applications/{APP}/appd_configuration");
    let body = json!({"appName": "x", "appSupportMp1": true});
    let on_mp1 = reqwest::Client::new()
        .post(format!("http://{}{path}", mep.mp1_addr))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(on_mp1.status(), 404);
    let on_mm5 = reqwest::Client::new()
        .post(format!("http://{}{path}", mep.mm5_addr.unwrap()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(on_mm5.status(), 200);
    let status: Value = reqwest::get(format!("http://{}/mep/status", mep.mm5_addr.unwrap()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(status["deliveries"]["delivered"].is_u64(), "{status}");
    assert_eq!(status["storeResyncs"], 0, "{status}");
    assert_eq!(status["inSync"], true, "{status}");
    // The same port for both is refused at configuration time.
    let mut clash = config();
    clash.mp1.listen = SocketAddr::from(([127, 0, 0, 1], 18099));
    clash.mm5 = Some(mm5_on(SocketAddr::from(([127, 0, 0, 1], 18099))));
    assert!(clash.check().is_err());
    mep.stop().await;
}

// ---- the binary, over a file store ----

/// Two distinct free ports (both held while the second is chosen, so they differ).
fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

struct MepProcess {
    child: std::process::Child,
    mp1: String,
}

fn spawn_mep(dir: &std::path::Path, mp1: u16, mm5: u16) -> MepProcess {
    let config = dir.join("mep.yaml");
    std::fs::write(
        &config,
        format!(
            "store:\n  file: {}\nmp1:\n  listen: 127.0.0.1:{mp1}\nmm5:\n  listen: 127.0.0.1:{mm5}\nrequire_tokens: false\nseed: {}\nengine:\n  delivery_timeout_secs: 60\n",
            dir.join("state.redb").display(),
            dir.join("seed.yaml").display()
        ),
    )
    .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_mep"))
        .arg("--config")
        .arg(&config)
        .arg("--log")
        .arg("warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    MepProcess {
        child,
        mp1: format!("http://127.0.0.1:{mp1}"),
    }
}

async fn wait_ready(url: &str) {
    for _ in 0..500 {
        if reqwest::get(format!("{url}/health"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("mep did not start at {url}");
}

async fn restart_keeps_state(kill: bool) {
    let dir = TempDir::new();
    std::fs::write(
        dir.0.join("seed.yaml"),
        format!("apps:\n  - appInstanceId: {APP}\n  - appInstanceId: {OTHER}\n    dnsRules:\n      - dnsRuleId: d1\n        domainName: kept.example.com\n        ipAddressType: IP_V4\n        ipAddress: 192.0.2.7\n        ttl: 30\n"),
    )
    .unwrap();
    let (mp1, mm5) = free_ports();
    // The subscriber's callback: a listener that accepts and never answers, so the notification is still in
    // flight when the MEP goes away.
    let hold = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let callback_addr = hold.local_addr().unwrap();
    let mut mep = spawn_mep(&dir.0, mp1, mm5);
    wait_ready(&mep.mp1).await;
    let client = reqwest::Client::new();
    let sub = client
        .post(format!(
            "{}/mep{SM}/applications/{OTHER}/subscriptions",
            mep.mp1
        ))
        .json(
            &json!({"subscriptionType": "SerAvailabilityNotificationSubscription",
                      "callbackReference": format!("http://{callback_addr}/cb")}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(sub.status(), 201);
    let created: Value = client
        .post(format!("{}/mep{SM}/applications/{APP}/services", mep.mp1))
        .json(&service("persisted", "P"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["serInstanceId"].as_str().unwrap().to_owned();
    // Wait until the MEP is attempting the delivery (the held listener has a connection to accept).
    hold.set_nonblocking(false).unwrap();
    let (stalled, _) = tokio::task::spawn_blocking(move || {
        let c = hold.accept().unwrap();
        (c, hold)
    })
    .await
    .unwrap();
    if kill {
        mep.child.kill().unwrap();
    } else {
        let pid = mep.child.id().to_string();
        assert!(
            std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
    }
    let status = mep.child.wait().unwrap();
    assert_eq!(status.success(), !kill, "{status:?}");
    drop(stalled);

    // The subscriber is up now, on the same address.
    let received = Sink::start_on(callback_addr).await;
    let mut again = spawn_mep(&dir.0, mp1, mm5);
    wait_ready(&again.mp1).await;
    let found: Value = client
        .get(format!("{}/mep{SM}/services/{id}", again.mp1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["serName"], "persisted");
    let rules: Value = client
        .get(format!(
            "{}/mep{AS}/applications/{OTHER}/dns_rules",
            again.mp1
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rules.as_array().unwrap().len(), 1, "{rules}");
    let subs: Value = client
        .get(format!(
            "{}/mep{SM}/applications/{OTHER}/subscriptions",
            again.mp1
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(subs["_links"]["subscriptions"].as_array().unwrap().len(), 1);
    eventually(
        "the pending notification is delivered after the restart",
        || received.count("cb") >= 1,
    )
    .await;
    assert_eq!(
        received.got("cb")[0]["serviceReferences"][0]["serInstanceId"],
        id.as_str()
    );
    again.child.kill().unwrap();
    let _ = again.child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_keeps_state_and_pending_notifications_across_sigterm() {
    restart_keeps_state(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_keeps_state_and_pending_notifications_across_sigkill() {
    restart_keeps_state(true).await;
}

#[tokio::test]
async fn check_validates_a_configuration_and_its_seed() {
    let dir = TempDir::new();
    let good = dir.0.join("good.yaml");
    std::fs::write(&good, "store: memory\nmp1:\n  listen: 127.0.0.1:0\n").unwrap();
    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_mep"))
        .args(["--check", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    let bad = dir.0.join("bad.yaml");
    std::fs::write(
        &bad,
        "store: memory\nmp1:\n  listen: 127.0.0.1:0\n  tsl: {}\n",
    )
    .unwrap();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_mep"))
        .args(["--check", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("tsl"),
        "{refused:?}"
    );
    let seed = dir.0.join("seed.yaml");
    std::fs::write(
        &seed,
        "apps:\n  - appInstanceId: a\n    dnsRules:\n      - dnsRuleId: d\n        domainName: x.example\n        ipAddressType: IP_V4\n        ipAddress: not-an-ip\n",
    )
    .unwrap();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_mep"))
        .args(["--check", "--seed"])
        .arg(&seed)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("apps[0].dnsRules[0].ipAddress"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn mp1_is_served_over_tls_from_pem_files() {
    let tls = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls");
    let mut c = config();
    c.mp1.tls = Some(mec_mep::server::TlsFiles::new(
        tls.join("server.pem"),
        tls.join("server.key"),
    ));
    let mep = c.start().await.unwrap();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(tls.join("ca.pem")).unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let answer = client
        .get(format!(
            "https://localhost:{}/mep{SM}/services",
            mep.mp1_addr.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    // Plain HTTP on the TLS port is not served.
    assert!(
        reqwest::get(format!("http://{}/health", mep.mp1_addr))
            .await
            .is_err()
    );
    // A key that does not exist is a clear start-up error, not a panic.
    let mut broken = config();
    broken.mp1.tls = Some(mec_mep::server::TlsFiles::new(
        tls.join("server.pem"),
        tls.join("missing.key"),
    ));
    let e = broken.start().await.unwrap_err();
    assert!(e.to_string().contains("missing.key"), "{e}");
    mep.stop().await;
}

#[tokio::test]
async fn mm5_beyond_loopback_needs_a_secret_and_then_asks_for_it() {
    let mut open = config();
    open.mm5 = Some(mm5_on(SocketAddr::from(([0, 0, 0, 0], 18111))));
    let e = open.check().unwrap_err();
    assert!(e.to_string().contains("without a credential"), "{e}");
    let mut weak = config();
    let mut mm5 = mm5_on(SocketAddr::from(([0, 0, 0, 0], 18111)));
    mm5.bearer_secret = Some("short".to_owned());
    weak.mm5 = Some(mm5);
    assert!(
        weak.check()
            .unwrap_err()
            .to_string()
            .contains("16 characters")
    );

    let secret = "a-secret-of-thirty-two-characters";
    let mut c = config();
    let mut mm5 = mm5_on(SocketAddr::from(([127, 0, 0, 1], 0)));
    mm5.bearer_secret = Some(secret.to_owned());
    c.mm5 = Some(mm5);
    let mep = c.start().await.unwrap();
    let status = format!("http://{}/mep/status", mep.mm5_addr.unwrap());
    let http = reqwest::Client::new();
    assert_eq!(http.get(&status).send().await.unwrap().status(), 401);
    assert_eq!(
        http.get(&status)
            .bearer_auth("wrong-but-long-enough-secret")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        http.get(&status)
            .bearer_auth(secret)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    mep.stop().await;
}

/// Registers a service for app `a` over `client` at `base`; returns the `Location` of the answer.
async fn location_of_new_service(client: &reqwest::Client, base: &str) -> String {
    let answer = client
        .post(format!("{base}/mep{SM}/applications/a/services"))
        .json(&json!({
            "serName": "located", "version": "1", "state": "ACTIVE", "serializer": "JSON",
            "transportInfo": {"id": "t", "name": "REST", "type": "REST_HTTP", "protocol": "HTTP",
                              "version": "2.0", "endpoint": {"uris": ["http://10.0.0.1/"]}, "security": {}}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    answer.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn links_start_with_the_public_url_else_the_scheme_and_host_of_the_request() {
    let mut c = config();
    c.public_url = Some("https://mep.example:8443/edge".to_owned());
    let mep = c.start().await.unwrap();
    mep.engine.provision_app("a", None, true).await.unwrap();
    let location =
        location_of_new_service(&reqwest::Client::new(), &format!("http://{}", mep.mp1_addr)).await;
    assert!(
        location.starts_with(&format!(
            "https://mep.example:8443/edge/mep{SM}/applications/a/services/"
        )),
        "{location}"
    );
    mep.stop().await;

    // Without one, over TLS: https and the Host the client named.
    let tls = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls");
    let mut c = config();
    c.mp1.tls = Some(mec_mep::server::TlsFiles::new(
        tls.join("server.pem"),
        tls.join("server.key"),
    ));
    let mep = c.start().await.unwrap();
    mep.engine.provision_app("a", None, true).await.unwrap();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(tls.join("ca.pem")).unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let base = format!("https://localhost:{}", mep.mp1_addr.port());
    let location = location_of_new_service(&client, &base).await;
    assert!(
        location.starts_with(&format!("{base}/mep{SM}/applications/a/services/")),
        "{location}"
    );
    mep.stop().await;

    // A public URL that is not one is refused by the configuration check.
    let mut c = config();
    c.public_url = Some("mep.example:8443".to_owned());
    let e = c.check().unwrap_err();
    assert!(e.to_string().contains("public_url"), "{e}");
}
