//! The Mp1 routers through `oneshot`, over the testkit's in-memory MEP: every route's success answer, its links,
//! `Location` and `ETag`, and the refusals of bad input.

#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::{Body, to_bytes};
use http::{Request, StatusCode};
use mec_mp1::model::{DnsRule, TrafficRule};
use mec_testkit::{AppInstance, MockMep};
use serde_json::{Value, json};
use tower::ServiceExt;

const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";
const OTHER: &str = "47e9880b-c327-46b4-871f-36945742cd22";

fn dns_rule() -> DnsRule {
    serde_json::from_value(json!({
        "dnsRuleId": "dns1", "domainName": "www.example.com", "ipAddressType": "IP_V4",
        "ipAddress": "192.0.2.1", "ttl": 30, "state": "ACTIVE"
    }))
    .unwrap()
}

fn traffic_rule() -> TrafficRule {
    serde_json::from_value(json!({
        "trafficRuleId": "tr1", "filterType": "FLOW", "priority": 5,
        "trafficFilter": [{"srcAddress": ["192.0.2.0/24"], "dstPort": ["8080"]}],
        "action": "FORWARD_DECAPSULATED",
        "dstInterface": [{"interfaceType": "IP", "dstIpAddress": "198.51.100.7"}],
        "state": "ACTIVE"
    }))
    .unwrap()
}

async fn mep() -> Router {
    let mep = MockMep::builder()
        .app(
            AppInstance::new(APP)
                .with_dns_rule(dns_rule())
                .with_traffic_rule(traffic_rule()),
        )
        .app(AppInstance::new(OTHER))
        .build_engine()
        .await
        .unwrap();
    mec_mp1::server::router(mep)
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
}

async fn call(app: &Router, method: &str, uri: &str, body: Option<Value>) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(serde_json::to_vec(&v).unwrap())
        }
        None => Body::empty(),
    };
    raw(app, req.body(body).unwrap()).await
}

async fn raw(app: &Router, req: Request<Body>) -> Answer {
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), 1 << 24).await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    if !status.is_success() {
        assert_eq!(
            headers["content-type"], "application/problem+json",
            "{status} {body}"
        );
        assert_eq!(body["status"], status.as_u16(), "{body}");
    }
    Answer {
        status,
        headers,
        body,
    }
}

fn service(name: &str) -> Value {
    json!({
        "serName": name, "version": "1.0", "state": "ACTIVE", "serializer": "JSON",
        "serCategory": {"href": "catalogue/rni", "id": "RNI", "name": "RNI", "version": "v2"},
        "transportInfo": {
            "id": "t1", "name": "REST", "type": "REST_HTTP", "protocol": "HTTP", "version": "2.0",
            "endpoint": {"uris": ["http://10.0.0.5:8080/rni/v2"]}, "security": {}
        },
        "livenessInterval": 0
    })
}

const SM: &str = "/mec_service_mgmt/v1";
const AS: &str = "/mec_app_support/v1";

#[tokio::test]
async fn service_lifecycle_with_links_location_etag_and_if_match() {
    let app = mep().await;
    let created = call(
        &app,
        "POST",
        &format!("{SM}/applications/{APP}/services"),
        Some(service("rni")),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["serInstanceId"].as_str().unwrap().to_owned();
    let href = format!("{SM}/applications/{APP}/services/{id}");
    assert_eq!(created.headers["location"], href.as_str());
    assert_eq!(created.body["_links"]["self"]["href"], href.as_str());
    assert_eq!(created.body["livenessInterval"], 60);
    assert_eq!(
        created.body["_links"]["liveness"]["href"],
        format!("{href}/liveness")
    );

    let one = call(&app, "GET", &href, None).await;
    assert_eq!(one.status, StatusCode::OK);
    let etag = one.headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.len() == 66);
    assert_eq!(
        call(&app, "GET", &format!("{SM}/services/{id}"), None)
            .await
            .body["serName"],
        "rni"
    );

    let mut changed = service("rni");
    changed["version"] = json!("2.0");
    let stale = raw(
        &app,
        Request::put(&href)
            .header("content-type", "application/json")
            .header("if-match", "\"0000\"")
            .body(Body::from(changed.to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let updated = raw(
        &app,
        Request::put(&href)
            .header("content-type", "application/json")
            .header("if-match", etag.as_str())
            .body(Body::from(changed.to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.body["version"], "2.0");
    assert_ne!(updated.headers["etag"], etag.as_str());

    let listed = call(
        &app,
        "GET",
        &format!("{SM}/applications/{APP}/services"),
        None,
    )
    .await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(
        call(
            &app,
            "GET",
            &format!("{SM}/applications/{OTHER}/services"),
            None
        )
        .await
        .body,
        json!([])
    );

    assert_eq!(
        call(&app, "DELETE", &href, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&app, "GET", &href, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, "DELETE", &href, None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn discovery_filters() {
    let app = mep().await;
    for (owner, name, category) in [(APP, "a", "RNI"), (APP, "b", "LOC"), (OTHER, "c", "RNI")] {
        let mut s = service(name);
        s["serCategory"]["id"] = json!(category);
        assert_eq!(
            call(
                &app,
                "POST",
                &format!("{SM}/applications/{owner}/services"),
                Some(s)
            )
            .await
            .status,
            201
        );
    }
    let names = |v: &Value| {
        let mut n: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["serName"].as_str().unwrap().to_owned())
            .collect();
        n.sort();
        n
    };
    let get = |q: &'static str| {
        let app = app.clone();
        async move { call(&app, "GET", &format!("{SM}/services{q}"), None).await }
    };
    assert_eq!(names(&get("").await.body), ["a", "b", "c"]);
    assert_eq!(names(&get("?ser_category_id=RNI").await.body), ["a", "c"]);
    assert_eq!(names(&get("?ser_name=a&ser_name=b").await.body), ["a", "b"]);
    assert_eq!(names(&get("?ser_name=a,c").await.body), ["a", "c"]);
    assert_eq!(
        names(&get("?scope_of_locality=MEC_HOST&is_local=true").await.body),
        ["a", "b", "c"]
    );
    assert_eq!(
        names(&get("?consumed_local_only=false").await.body),
        Vec::<String>::new()
    );
    let all = get("").await.body;
    let id = all[0]["serInstanceId"].as_str().unwrap().to_owned();
    let by_id = call(
        &app,
        "GET",
        &format!("{SM}/services?ser_instance_id={id}"),
        None,
    )
    .await;
    assert_eq!(by_id.body.as_array().unwrap().len(), 1);
    assert!(
        all[0]["_links"]["self"]["href"]
            .as_str()
            .unwrap()
            .contains("/applications/")
    );

    for bad in [
        "?ser_name=a&ser_category_id=RNI",
        "?instance_id=INVALID_VALUE",
        "?is_local=maybe",
        "?scope_of_locality=MOON",
        "?ser_category_id=a&ser_category_id=b",
    ] {
        assert_eq!(get(bad).await.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn liveness_get_and_heartbeats_by_patch_and_put() {
    let app = mep().await;
    let created = call(
        &app,
        "POST",
        &format!("{SM}/applications/{APP}/services"),
        Some(service("hb")),
    )
    .await;
    let liveness = created.body["_links"]["liveness"]["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let info = call(&app, "GET", &liveness, None).await;
    assert_eq!(info.status, 200);
    assert_eq!(
        (info.body["state"].clone(), info.body["interval"].clone()),
        (json!("ACTIVE"), json!(60))
    );
    assert!(info.body["timeStamp"]["seconds"].as_u64().unwrap() > 0);
    for method in ["PATCH", "PUT"] {
        let r = call(&app, method, &liveness, Some(json!({"state": "ACTIVE"}))).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{method}");
    }
    let bad = call(&app, "PATCH", &liveness, Some(json!({"state": "INACTIVE"}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let mut no_hb = service("quiet");
    no_hb.as_object_mut().unwrap().remove("livenessInterval");
    let quiet = call(
        &app,
        "POST",
        &format!("{SM}/applications/{APP}/services"),
        Some(no_hb),
    )
    .await;
    assert!(quiet.body["_links"]["liveness"].is_null());
    let id = quiet.body["serInstanceId"].as_str().unwrap();
    let r = call(
        &app,
        "GET",
        &format!("{SM}/applications/{APP}/services/{id}/liveness"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn transports_and_timing() {
    let app = mep().await;
    let t = call(&app, "GET", &format!("{SM}/transports"), None).await;
    assert_eq!(t.status, 200);
    assert_eq!(t.body[0]["type"], "REST_HTTP");
    assert_eq!(
        t.body[0]["security"]["oAuth2Info"]["grantTypes"][0],
        "OAUTH2_CLIENT_CREDENTIALS"
    );
    let now = call(&app, "GET", &format!("{AS}/timing/current_time"), None).await;
    assert_eq!(now.body["timeSourceStatus"], "NONTRACEABLE");
    assert!(now.body["seconds"].as_u64().unwrap() > 1_600_000_000);
    let caps = call(&app, "GET", &format!("{AS}/timing/timing_caps"), None).await;
    assert_eq!(caps.body["ntpServers"][0]["ntpServerAddrType"], "DNS_NAME");
    assert_eq!(
        call(&app, "GET", "/mec_app_support/v2/timing/current_time", None)
            .await
            .status,
        200
    );
}

async fn subscription_round_trip(app: &Router, root: &str, body: Value, kind: &str) {
    let base = format!("{root}/applications/{APP}/subscriptions");
    let created = call(app, "POST", &base, Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let href = created.headers["location"].to_str().unwrap().to_owned();
    assert!(href.starts_with(&format!("{base}/")));
    assert_eq!(created.body["_links"]["self"]["href"], href.as_str());
    let list = call(app, "GET", &base, None).await;
    assert_eq!(list.body["_links"]["self"]["href"], base.as_str());
    assert_eq!(
        list.body["_links"]["subscriptions"][0]["href"],
        href.as_str()
    );
    assert_eq!(list.body["_links"]["subscriptions"][0]["rel"], kind);
    let one = call(app, "GET", &href, None).await;
    assert_eq!(one.body["subscriptionType"], kind);
    assert_eq!(one.body["_links"]["self"]["href"], href.as_str());
    assert_eq!(
        call(app, "DELETE", &href, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(app, "GET", &href, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(app, "GET", &base, None).await.body["_links"]["subscriptions"],
        json!([])
    );
}

#[tokio::test]
async fn subscriptions_of_both_apis() {
    let app = mep().await;
    subscription_round_trip(
        &app,
        SM,
        json!({"subscriptionType": "SerAvailabilityNotificationSubscription", "callbackReference": "http://127.0.0.1:9/cb",
               "filteringCriteria": {"serNames": ["rni"], "states": ["ACTIVE"]}}),
        "SerAvailabilityNotificationSubscription",
    )
    .await;
    subscription_round_trip(
        &app,
        AS,
        json!({"subscriptionType": "AppTerminationNotificationSubscription", "callbackReference": "http://127.0.0.1:9/cb",
               "appInstanceId": APP}),
        "AppTerminationNotificationSubscription",
    )
    .await;
    let wrong = call(
        &app,
        "POST",
        &format!("{SM}/applications/{APP}/subscriptions"),
        Some(json!({"subscriptionType": "AppTerminationNotificationSubscription", "callbackReference": "http://127.0.0.1:9/cb"})),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let not_a_url = call(
        &app,
        "POST",
        &format!("{AS}/applications/{APP}/subscriptions"),
        Some(json!({"subscriptionType": "AppTerminationNotificationSubscription", "callbackReference": "nowhere", "appInstanceId": APP})),
    )
    .await;
    assert_eq!(not_a_url.status, StatusCode::BAD_REQUEST);
    assert!(
        not_a_url.body["detail"]
            .as_str()
            .unwrap()
            .contains("callbackReference")
    );
}

#[tokio::test]
async fn rules_with_etags() {
    let app = mep().await;
    let list = call(
        &app,
        "GET",
        &format!("{AS}/applications/{APP}/dns_rules"),
        None,
    )
    .await;
    assert_eq!(list.body[0]["dnsRuleId"], "dns1");
    let href = format!("{AS}/applications/{APP}/dns_rules/dns1");
    let one = call(&app, "GET", &href, None).await;
    let etag = one.headers["etag"].to_str().unwrap().to_owned();
    let mut inactive = one.body.clone();
    inactive["state"] = json!("INACTIVE");
    let put = |tag: &str, body: &Value| {
        raw(
            &app,
            Request::put(&href)
                .header("content-type", "application/json")
                .header("if-match", tag)
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
    };
    assert_eq!(
        put("\"nope\"", &inactive).await.status,
        StatusCode::PRECONDITION_FAILED
    );
    let ok = put(&etag, &inactive).await;
    assert_eq!(
        (ok.status, ok.body["state"].clone()),
        (StatusCode::OK, json!("INACTIVE"))
    );
    assert_eq!(
        put(&etag, &inactive).await.status,
        StatusCode::PRECONDITION_FAILED
    );
    let mut other_id = inactive.clone();
    other_id["dnsRuleId"] = json!("dns2");
    assert_eq!(put("*", &other_id).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        call(
            &app,
            "GET",
            &format!("{AS}/applications/{APP}/dns_rules/none"),
            None
        )
        .await
        .status,
        404
    );

    let tr = format!("{AS}/applications/{APP}/traffic_rules/tr1");
    let got = call(&app, "GET", &tr, None).await;
    assert_eq!(got.body["dstInterface"][0]["dstIpAddress"], "198.51.100.7");
    let mut changed = got.body.clone();
    changed["priority"] = json!(7);
    let put = call(&app, "PUT", &tr, Some(changed)).await;
    assert_eq!(
        (put.status, put.body["priority"].clone()),
        (StatusCode::OK, json!(7))
    );
    assert_eq!(
        call(
            &app,
            "GET",
            &format!("{AS}/applications/{APP}/traffic_rules"),
            None
        )
        .await
        .body[0]["priority"],
        7
    );
}

#[tokio::test]
async fn readiness_termination_confirmation_and_registrations() {
    let app = mep().await;
    let ready = call(
        &app,
        "POST",
        &format!("{AS}/applications/{APP}/confirm_ready"),
        Some(json!({"indication": "READY"})),
    )
    .await;
    assert_eq!(ready.status, StatusCode::NO_CONTENT);
    let bad = call(
        &app,
        "POST",
        &format!("{AS}/applications/{APP}/confirm_ready"),
        Some(json!({"indication": "SOON"})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let early = call(
        &app,
        "POST",
        &format!("{AS}/applications/{APP}/confirm_termination"),
        Some(json!({"operationAction": "TERMINATING"})),
    )
    .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    let unknown = call(
        &app,
        "POST",
        &format!("{AS}/applications/nobody/confirm_ready"),
        Some(json!({"indication": "READY"})),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let reg = call(
        &app,
        "POST",
        &format!("{AS}/registrations"),
        Some(json!({"appName": "demo", "appProvider": "acme", "endpoint": {"uris": ["http://10.0.0.5/"]}})),
    )
    .await;
    assert_eq!(reg.status, StatusCode::CREATED);
    let id = reg.body["appInstanceId"].as_str().unwrap().to_owned();
    let href = format!("{AS}/registrations/{id}");
    assert_eq!(reg.headers["location"], href.as_str());
    assert_eq!(call(&app, "GET", &href, None).await.body["appName"], "demo");
    let put = call(
        &app,
        "PUT",
        &href,
        Some(json!({"appName": "demo2", "endpoint": {"uris": ["http://10.0.0.5/"]}})),
    )
    .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&app, "GET", &href, None).await.body["appName"],
        "demo2"
    );
    assert_eq!(
        call(&app, "DELETE", &href, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&app, "GET", &href, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            &app,
            "POST",
            &format!("{AS}/registrations"),
            Some(json!({"appProvider": "x"}))
        )
        .await
        .status,
        400
    );
}

#[tokio::test]
async fn nested_under_mep_links_follow_the_prefix() {
    let app = Router::new().nest("/mep", mep().await);
    let created = call(
        &app,
        "POST",
        &format!("/mep{SM}/applications/{APP}/services"),
        Some(service("p")),
    )
    .await;
    assert_eq!(created.status, 201);
    assert!(
        created.headers["location"]
            .to_str()
            .unwrap()
            .starts_with(&format!("/mep{SM}/applications/{APP}/services/"))
    );
    let sub = call(
        &app,
        "POST",
        &format!("/mep{AS}/applications/{APP}/subscriptions"),
        Some(json!({"subscriptionType": "AppTerminationNotificationSubscription", "callbackReference": "http://127.0.0.1:9/", "appInstanceId": APP})),
    )
    .await;
    assert!(
        sub.body["_links"]["self"]["href"]
            .as_str()
            .unwrap()
            .starts_with("/mep/mec_app_support/v1/")
    );
}

#[tokio::test]
async fn operations_a_vendor_does_not_implement_answer_501() {
    struct Nothing;
    impl mec_mp1::server::ServiceManagement for Nothing {}
    impl mec_mp1::server::AppSupport for Nothing {}
    let app = mec_mp1::server::router(Nothing);
    let r = call(&app, "GET", &format!("{SM}/services"), None).await;
    assert_eq!(r.status, StatusCode::NOT_IMPLEMENTED);
    let r = call(
        &app,
        "POST",
        &format!("{AS}/applications/{APP}/confirm_ready"),
        Some(json!({"indication": "READY"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_IMPLEMENTED);
}

#[tokio::test]
async fn bad_input_gets_4xx_problem_json() {
    let app = mep().await;
    let post = |uri: String, ct: &'static str, body: Vec<u8>| {
        let app = app.clone();
        async move {
            raw(
                &app,
                Request::post(uri)
                    .header("content-type", ct)
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
        }
    };
    let services = format!("{SM}/applications/{APP}/services");
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("malformed JSON", b"{\"serName\":".to_vec(), 400),
        (
            "wrong type",
            serde_json::to_vec(
                &json!({"serName": 5, "version": "1", "state": "ACTIVE", "serializer": "JSON"}),
            )
            .unwrap(),
            400,
        ),
        (
            "unknown enum",
            {
                let mut s = service("x");
                s["state"] = json!("SLEEPY");
                serde_json::to_vec(&s).unwrap()
            },
            400,
        ),
        (
            "missing member",
            serde_json::to_vec(&json!({"serName": "x", "state": "ACTIVE", "serializer": "JSON"}))
                .unwrap(),
            400,
        ),
        (
            "bad name",
            {
                let mut s = service("x");
                s["serName"] = json!("no spaces please");
                serde_json::to_vec(&s).unwrap()
            },
            400,
        ),
        (
            "oversize",
            {
                let mut s = service("x");
                s["version"] = json!("v".repeat(300 * 1024));
                serde_json::to_vec(&s).unwrap()
            },
            413,
        ),
        ("not JSON at all", vec![0xff, 0xfe, 0x00], 400),
        ("array instead of object", b"[]".to_vec(), 400),
    ];
    for (what, body, code) in cases {
        let r = post(services.clone(), "application/json", body).await;
        assert_eq!(r.status.as_u16(), code, "{what}: {}", r.body);
    }
    let r = post(
        services.clone(),
        "text/plain",
        serde_json::to_vec(&service("x")).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = call(
        &app,
        "GET",
        &format!("{SM}/applications/{}/services", "%20bad%2Fid"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = call(&app, "GET", "/nowhere", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = call(&app, "DELETE", &format!("{SM}/transports"), None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

mod generated_junk {
    use super::*;
    use proptest::prelude::*;

    const ROUTES: [(&str, &str); 8] = [
        ("POST", "/mec_service_mgmt/v1/applications/{app}/services"),
        ("PUT", "/mec_service_mgmt/v1/applications/{app}/services/x1"),
        (
            "POST",
            "/mec_service_mgmt/v1/applications/{app}/subscriptions",
        ),
        (
            "POST",
            "/mec_app_support/v1/applications/{app}/subscriptions",
        ),
        (
            "PUT",
            "/mec_app_support/v1/applications/{app}/dns_rules/dns1",
        ),
        (
            "PUT",
            "/mec_app_support/v1/applications/{app}/traffic_rules/tr1",
        ),
        (
            "POST",
            "/mec_app_support/v1/applications/{app}/confirm_termination",
        ),
        (
            "PATCH",
            "/mec_service_mgmt/v1/applications/{app}/services/x1/liveness",
        ),
    ];

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
            prop_oneof![
                Just("ACTIVE"),
                Just("IP_V4"),
                Just("FLOW"),
                Just("READY"),
                Just("TERMINATING")
            ]
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("serName".to_owned()),
                        Just("state".to_owned()),
                        Just("version".to_owned()),
                        Just("callbackReference".to_owned()),
                        Just("dnsRuleId".to_owned()),
                        Just("trafficFilter".to_owned()),
                        "[a-zA-Z]{1,8}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn junk_never_gets_a_5xx(route in 0usize..ROUTES.len(), body in json_value(), raw_bytes in proptest::collection::vec(any::<u8>(), 0..64), use_raw in any::<bool>(), app_id in prop_oneof![Just(APP.to_owned()), "[a-z0-9%.~-]{1,20}"]) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let app = mep().await;
                let (method, path) = ROUTES[route];
                let path = path.replace("{app}", &app_id);
                let bytes = if use_raw { raw_bytes.clone() } else { serde_json::to_vec(&body).unwrap() };
                let Ok(req) = Request::builder().method(method).uri(&path).header("content-type", "application/json").body(Body::from(bytes)) else { return Ok(()) };
                let response = app.clone().oneshot(req).await.unwrap();
                let status = response.status();
                prop_assert!(!status.is_server_error(), "{method} {path} answered {status}");
                if status.is_client_error() {
                    prop_assert_eq!(response.headers()["content-type"].to_str().unwrap(), "application/problem+json");
                }
                Ok(())
            })?;
        }
    }
}
