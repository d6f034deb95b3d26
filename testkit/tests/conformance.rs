//! MEC 011 conformance, round two: what a strict outside test suite expects of `mock-mep` (and of the `mec-mep`
//! engine and routers it serves), one test per item, over HTTP on 127.0.0.1.

#![allow(clippy::unwrap_used)]

use mec_mp1::model::{
    AppInfo, Notification, SerAvailabilityNotificationSubscription, ServiceState,
};
use mec_mp1::receiver::NotificationReceiver;
use mec_testkit::{AppInstance, MockMep, Seed};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";
const SM: &str = "/mec_service_mgmt/v1";
const AS: &str = "/mec_app_support/v1";
const AS2: &str = "/mec_app_support/v2";

async fn mock() -> MockMep {
    MockMep::builder()
        .app(AppInstance::new(APP))
        .without_auth()
        .start()
        .await
        .unwrap()
}

fn service(name: &str) -> Value {
    json!({
        "serName": name,
        "serCategory": {"href": "/c", "id": "c1", "name": "Location", "version": "v1"},
        "version": "1.0",
        "state": "ACTIVE",
        "transportInfo": {
            "id": "t1", "name": "REST", "type": "REST_HTTP", "protocol": "HTTP", "version": "2.0",
            "endpoint": {"uris": ["http://10.0.0.1:8080/loc"]}, "security": {}
        },
        "serializer": "JSON",
        "livenessInterval": 60
    })
}

fn dns_rule(id: &str) -> Value {
    json!({"dnsRuleId": id, "domainName": "www.example.com", "ipAddressType": "IP_V4",
           "ipAddress": "10.0.0.1", "ttl": 30, "state": "ACTIVE"})
}

fn traffic_rule(id: &str) -> Value {
    json!({"trafficRuleId": id, "filterType": "FLOW", "priority": 1,
           "trafficFilter": [{"srcAddress": ["10.0.0.0/24"]}], "action": "DROP", "state": "ACTIVE"})
}

async fn status_and_json(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Item 1 (MEC 011 3.1.1 clause 7.1.2.6, `AppInfo`): the conditional presence rules of a registration.
#[tokio::test]
async fn registrations_follow_the_conditional_presence_rules_of_app_info() {
    let mep = mock().await;
    let http = reqwest::Client::new();
    let url = format!("{}{AS2}/registrations", mep.url());
    let post = |body: Value| http.post(&url).json(&body).send();
    let cases = [
        // isInsByMec defaults to FALSE, so endpoint shall be present.
        (json!({"appName": "a", "appInstanceId": APP}), "endpoint"),
        (
            json!({"appName": "a", "appInstanceId": APP, "isInsByMec": false}),
            "endpoint",
        ),
        // isInsByMec TRUE: appDId (and the app instance id) shall be present.
        (
            json!({"appName": "a", "appInstanceId": APP, "isInsByMec": true}),
            "appDId",
        ),
        // appDId given: the AppD holds the dependencies, they shall not be given here.
        (
            json!({"appName": "a", "appInstanceId": APP, "appDId": "d1", "isInsByMec": true,
                   "appServiceRequired": [{"serName": "loc", "version": "1.0", "requestedPermissions": {}}]}),
            "appServiceRequired",
        ),
        // appProvider shall be the appProfile's provId.
        (
            json!({"appName": "a", "appInstanceId": APP, "appProvider": "acme",
                   "endpoint": {"uris": ["http://10.0.0.2/"]}, "appProfile": {"provId": "other"}}),
            "appProvider",
        ),
        // With an appProfile, endpoint refers to its endPt.
        (
            json!({"appName": "a", "appInstanceId": APP, "endpoint": {"uris": ["http://10.0.0.2/"]},
                   "appProfile": {"endPt": {"uri": "http://10.0.0.3/"}}}),
            "endPt",
        ),
    ];
    for (body, member) in cases {
        let (status, problem) = status_and_json(post(body.clone()).await.unwrap()).await;
        assert_eq!(status, 400, "{body}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(member),
            "{body}: {problem}"
        );
    }
    assert!(
        mep.engine()
            .apps()
            .iter()
            .all(|(_, a)| a.registration.is_none()),
        "nothing refused was registered"
    );
    let (status, created) = status_and_json(
        post(
            json!({"appName": "a", "appInstanceId": APP, "appProvider": "acme",
                    "endpoint": {"uris": ["http://10.0.0.2/"]}, "appProfile": {"provId": "acme"}}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let by_mec = post(
        json!({"appName": "b", "appInstanceId": "by-mec", "appDId": "d1", "isInsByMec": true}),
    )
    .await
    .unwrap();
    assert_eq!(by_mec.status(), 201);
}

/// Item 2: a PUT on a resource that does not exist is 404, whatever is wrong with its body.
#[tokio::test]
async fn a_put_on_what_does_not_exist_is_404_before_its_body_is_judged() {
    let mep = mock().await;
    let http = reqwest::Client::new();
    let base = mep.url();
    let puts = [
        // The body names another resource than the path.
        (format!("{base}{SM}/applications/{APP}/services/none"), {
            let mut s = service("loc");
            s["serInstanceId"] = json!("another");
            s.to_string()
        }),
        (
            format!("{base}{AS}/applications/{APP}/dns_rules/none"),
            dns_rule("another").to_string(),
        ),
        (
            format!("{base}{AS}/applications/{APP}/traffic_rules/none"),
            traffic_rule("another").to_string(),
        ),
        // The body is not even JSON, or not a resource of the kind.
        (
            format!("{base}{SM}/applications/{APP}/services/none"),
            "{not json".to_owned(),
        ),
        (
            format!("{base}{AS}/applications/{APP}/dns_rules/none"),
            "[]".to_owned(),
        ),
        (
            format!("{base}{AS}/applications/{APP}/traffic_rules/none"),
            "{\"priority\": -1}".to_owned(),
        ),
    ];
    let others = [
        // The same holds for a registration and a liveness resource.
        (
            reqwest::Method::PUT,
            format!("{base}{AS2}/registrations/{APP}"),
            "{\"appName\": 5}".to_owned(),
        ),
        (
            reqwest::Method::PATCH,
            format!("{base}{SM}/applications/{APP}/services/none/liveness"),
            "{\"state\": \"SLEEPING\"}".to_owned(),
        ),
    ];
    let puts = puts
        .into_iter()
        .map(|(url, body)| (reqwest::Method::PUT, url, body))
        .chain(others);
    for (method, url, body) in puts {
        let r = http
            .request(method, &url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let (status, problem) = status_and_json(r).await;
        assert_eq!(status, 404, "{url} {body}: {problem}");
        assert_eq!(problem["status"], 404);
    }
    // On a resource that exists, the body is judged: the inconsistency is 400.
    let rule_url = format!("{base}{AS}/applications/{APP}/dns_rules/d1");
    mep.put_dns_rule(APP, serde_json::from_value(dns_rule("d1")).unwrap())
        .await
        .unwrap();
    let r = http
        .put(&rule_url)
        .json(&dns_rule("another"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

/// The head of the answer to a raw HTTP/1.1 request, as written on the wire.
async fn raw_head(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed before the head ended");
        answer.extend_from_slice(&buf[..n]);
    }
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    String::from_utf8(answer[..end].to_vec()).unwrap()
}

fn post_service_raw(host: &str, body: &str) -> String {
    format!(
        "POST {SM}/applications/{APP}/services HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Item 3: header names are written in title case by default, for clients that look them up case-sensitively;
/// the builder (and `mock-mep --lowercase-headers`) turns it off.
#[tokio::test]
async fn header_names_are_title_case_unless_turned_off() {
    let mep = mock().await;
    let head = raw_head(
        mep.addr(),
        &post_service_raw(&mep.addr().to_string(), &service("a").to_string()),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 201"), "{head}");
    for name in ["Content-Type: ", "Location: ", "Content-Length: "] {
        assert!(head.contains(&format!("\r\n{name}")), "{name} in {head}");
    }
    // ETag is spelled as RFC 9110 spells it (plain title case would say `Etag`).
    let location = head
        .split("\r\n")
        .find_map(|l| l.strip_prefix("Location: "))
        .unwrap();
    let path = &location[location.find(SM).unwrap()..];
    let get = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        mep.addr()
    );
    let head = raw_head(mep.addr(), &get).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("\r\nETag: \""), "{head}");
    let lower = MockMep::builder()
        .app(AppInstance::new(APP))
        .without_auth()
        .title_case_headers(false)
        .start()
        .await
        .unwrap();
    let head = raw_head(
        lower.addr(),
        &post_service_raw(&lower.addr().to_string(), &service("a").to_string()),
    )
    .await;
    assert!(head.contains("\r\ncontent-type: "), "{head}");
    assert!(head.contains("\r\nlocation: "), "{head}");
}

/// Item 4: links and `Location` are absolute URIs built from the request's scheme and Host, under the prefix and
/// API version the request came in on.
#[tokio::test]
async fn links_and_locations_are_absolute_and_follow_the_version() {
    let mep = mock().await;
    let http = reqwest::Client::new();
    let origin = mep.url().to_owned();
    for prefix in ["", "/mep"] {
        let r = http
            .post(format!("{origin}{prefix}{SM}/applications/{APP}/services"))
            .json(&service(&format!("s{prefix}").replace('/', "")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let body: Value = r.json().await.unwrap();
        let id = body["serInstanceId"].as_str().unwrap();
        let expected = format!("{origin}{prefix}{SM}/applications/{APP}/services/{id}");
        assert_eq!(location, expected);
        assert_eq!(body["_links"]["self"]["href"], expected);
        assert_eq!(
            body["_links"]["liveness"]["href"],
            format!("{expected}/liveness")
        );

        let r = http
            .post(format!(
                "{origin}{prefix}{SM}/applications/{APP}/subscriptions"
            ))
            .json(&SerAvailabilityNotificationSubscription::new(
                "http://127.0.0.1:9/cb",
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with(&format!(
                "{origin}{prefix}{SM}/applications/{APP}/subscriptions/"
            )),
            "{location}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["_links"]["self"]["href"], location);
    }
    // Under v2 the links say v2.
    let r = http
        .post(format!("{origin}{AS2}/registrations"))
        .json(&json!({"appName": "a", "appInstanceId": APP, "endpoint": {"uris": ["http://10.0.0.2/"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.headers()["location"],
        format!("{origin}{AS2}/registrations/{APP}").as_str()
    );
    let r = http
        .post(format!("{origin}{AS2}/applications/{APP}/subscriptions"))
        .json(
            &json!({"subscriptionType": "AppTerminationNotificationSubscription",
                      "callbackReference": "http://127.0.0.1:9/cb", "appInstanceId": APP}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{origin}{AS2}/applications/{APP}/subscriptions/")),
        "{location}"
    );
    // The Host the client used is the one links name.
    let head = raw_head(
        mep.addr(),
        &post_service_raw("mep.example:8443", &service("hosted").to_string()),
    )
    .await;
    assert!(
        head.contains(&format!(
            "\r\nLocation: http://mep.example:8443{SM}/applications/{APP}/services/"
        )),
        "{head}"
    );
}

/// Item 5: subscriptions of both kinds and 3.x registrations are seeded with fixed ids, and work as if posted.
#[tokio::test]
async fn seeds_hold_subscriptions_and_registrations_with_fixed_ids() {
    let (receiver, mut notifications) = NotificationReceiver::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let callback = receiver.url().to_string();
    let yaml = format!(
        "apps:\n\
         - appInstanceId: {APP}\n\
         \x20 registration:\n\
         \x20   appName: seeded\n\
         \x20   endpoint: {{uris: ['http://10.0.0.2/']}}\n\
         \x20 availabilitySubscriptions:\n\
         \x20   - id: avail-1\n\
         \x20     subscriptionType: SerAvailabilityNotificationSubscription\n\
         \x20     callbackReference: {callback}\n\
         \x20 terminationSubscriptions:\n\
         \x20   - id: term-1\n\
         \x20     subscriptionType: AppTerminationNotificationSubscription\n\
         \x20     callbackReference: {callback}\n\
         \x20     appInstanceId: {APP}\n"
    );
    let seed = Seed::from_yaml(&yaml).unwrap();
    let mep = MockMep::builder()
        .seed(seed)
        .without_auth()
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let get = |path: String| http.get(format!("{}{path}", mep.url())).send();
    let (status, sub) = status_and_json(
        get(format!("{SM}/applications/{APP}/subscriptions/avail-1"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(sub["callbackReference"], callback.as_str());
    let (status, _) = status_and_json(
        get(format!("{AS}/applications/{APP}/subscriptions/term-1"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, reg) =
        status_and_json(get(format!("{AS2}/registrations/{APP}")).await.unwrap()).await;
    assert_eq!(status, 200);
    let reg: AppInfo = serde_json::from_value(reg).unwrap();
    assert_eq!(reg.app_name, "seeded");

    // The seeded availability subscription is told of a new service.
    let r = http
        .post(format!("{}{SM}/applications/{APP}/services", mep.url()))
        .json(&service("told"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let got = tokio::time::timeout(Duration::from_secs(10), notifications.recv())
        .await
        .unwrap()
        .unwrap();
    let Notification::ServiceAvailability(n) = got.notification else {
        panic!("{:?}", got.notification)
    };
    assert_eq!(n.service_references[0].ser_name, "told");
    assert!(
        n.links
            .subscription
            .href
            .ends_with("/subscriptions/avail-1")
    );

    // Seeds that name another app's termination, or give an id twice, are refused with the member at fault.
    let other = yaml.replace(
        &format!("     appInstanceId: {APP}"),
        "     appInstanceId: someone-else",
    );
    let e = Seed::from_yaml(&other).unwrap_err();
    assert!(
        e.contains("terminationSubscriptions[0].appInstanceId"),
        "{e}"
    );
    let twice = yaml.replace("id: term-1", "id: avail-1");
    let e = Seed::from_yaml(&twice).unwrap_err();
    assert!(e.contains("avail-1 is given twice"), "{e}");
}

/// Item 5: `mock-mep --check` loads a seed without serving: 0 when it loads, 2 (and the reason) otherwise.
#[cfg(feature = "cli")]
#[test]
fn mock_mep_checks_a_seed_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(
        &good,
        format!(
            "apps:\n- appInstanceId: {APP}\n  availabilitySubscriptions:\n  - id: s1\n    \
             subscriptionType: SerAvailabilityNotificationSubscription\n    callbackReference: http://10.0.0.9/cb\n"
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mock-mep"))
        .args(["--check", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains(APP));

    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        format!(
            "apps:\n- appInstanceId: {APP}\n  availabilitySubscriptions:\n  - id: s1\n    \
             subscriptionType: SerAvailabilityNotificationSubscription\n    callbackReference: not a url\n"
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mock-mep"))
        .args(["--check", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("availabilitySubscriptions[0]"),
        "{out:?}"
    );
}

/// Item 6: GET on a liveness resource gives the service's state and interval; a heartbeat answers 204 when
/// nothing changed and 200 with the resource when it revived a SUSPENDED service (MEC 011 3.1.1 clause 8.2.10.3.3).
#[tokio::test]
async fn liveness_reads_and_heartbeats() {
    let mep = mock().await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}{SM}/applications/{APP}/services", mep.url()))
        .json(&service("beating"))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    let liveness = body["_links"]["liveness"]["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, info) = status_and_json(http.get(&liveness).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        (info["state"].clone(), info["interval"].clone()),
        (json!("ACTIVE"), json!(60))
    );
    assert!(info["timeStamp"]["seconds"].is_u64());

    let beat = || {
        http.patch(&liveness)
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"state":"ACTIVE"}"#)
            .send()
    };
    let r = beat().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.bytes().await.unwrap().is_empty());

    // Missed heartbeats suspend it; the next one revives it, and the answer says so.
    mep.advance(Duration::from_secs(200));
    mep.sweep().await.unwrap();
    let (_, info) = status_and_json(http.get(&liveness).send().await.unwrap()).await;
    assert_eq!(info["state"], "SUSPENDED");
    let (status, info) = status_and_json(beat().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(info["state"], "ACTIVE");
    assert_eq!(info["interval"], 60);
    assert_eq!(
        mep.services()[0].state,
        ServiceState::Active,
        "the service is ACTIVE again"
    );
}

/// Item 7: without tokens (`--no-auth`), Basic and other non-bearer `Authorization` headers are ignored.
#[tokio::test]
async fn other_authorization_schemes_are_ignored_without_tokens() {
    let mep = mock().await;
    let http = reqwest::Client::new();
    for value in [
        "Basic dXNlcjpwYXNzd29yZA==",
        "Digest username=\"u\"",
        "Negotiate abc",
    ] {
        let r = http
            .get(format!("{}{SM}/services", mep.url()))
            .header("authorization", value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{value}");
        let r = http
            .get(format!("{}/mep{AS}/timing/current_time", mep.url()))
            .header("authorization", value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{value}");
    }
    let r = http
        .post(format!("{}{SM}/applications/{APP}/services", mep.url()))
        .basic_auth("user", Some("password"))
        .json(&service("basic"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}
