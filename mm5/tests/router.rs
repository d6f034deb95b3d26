//! The Mm5 router through `oneshot`, over the testkit's in-memory MEP: each route's answer, and invalid
//! configurations refused with a 4xx problem naming the member at fault.

#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::{Body, to_bytes};
use http::{Request, StatusCode};
use mec_testkit::{AppInstance, MockMep};
use serde_json::{Value, json};
use tower::ServiceExt;

const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";

async fn router() -> Router {
    let mep = MockMep::builder()
        .app(AppInstance::new("provider"))
        .build_engine()
        .await
        .unwrap();
    mec_mm5::server::router(mep)
}

async fn call(app: &Router, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let response = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let problem = !status.is_success();
    if problem {
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (
        status,
        if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        },
    )
}

fn config() -> Value {
    json!({
        "appName": "demo", "appSupportMp1": true,
        "appTrafficRule": [{"trafficRuleId": "tr1", "filterType": "FLOW", "priority": 1,
                            "trafficFilter": [{"dstPort": ["80"]}], "action": "DROP", "state": "ACTIVE"}],
        "appDnsRule": [{"dnsRuleId": "dns1", "domainName": "demo.example.com", "ipAddressType": "IPv4",
                        "ipAddress": "192.0.2.1", "ttl": 60, "state": "ACTIVE"}]
    })
}

fn cfg_path(app: &str) -> String {
    format!("/mepcfg/app_lcm/v1/applications/{app}/appd_configuration")
}

#[tokio::test]
async fn configuration_lifecycle_and_tasks() {
    let app = router().await;
    let (status, task) = call(&app, "POST", &cfg_path(APP), Some(config())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (task["configResult"].clone(), task["configPhase"].clone()),
        (json!("PROCESSING"), json!("0"))
    );
    let task_id = task["taskId"].as_str().unwrap().to_owned();
    let (status, done) = call(
        &app,
        "GET",
        &format!("/mepcfg/app_lcm/v1/tasks/{task_id}/appd_configuration"),
        None,
    )
    .await;
    assert_eq!(
        (
            status,
            done["configResult"].clone(),
            done["appInstanceId"].clone()
        ),
        (StatusCode::OK, json!("SUCCESS"), json!(APP))
    );

    let (_, got) = call(&app, "GET", &cfg_path(APP), None).await;
    assert_eq!(got["appDNSRule"][0]["ipAddressType"], "IP_V4");
    assert_eq!(got["appTrafficRule"][0]["trafficRuleId"], "tr1");

    let (status, dup) = call(&app, "POST", &cfg_path(APP), Some(config())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{dup}");

    let mut changed = config();
    changed["appTrafficRule"] = json!([]);
    assert_eq!(
        call(&app, "PUT", &cfg_path(APP), Some(changed)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "GET", &cfg_path(APP), None).await.1["appTrafficRule"],
        json!([])
    );
    let mut renamed = config();
    renamed["appName"] = json!("other");
    let (status, p) = call(&app, "PUT", &cfg_path(APP), Some(renamed)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(p["detail"].as_str().unwrap().contains("appName"));

    assert_eq!(
        call(&app, "DELETE", &cfg_path(APP), None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "GET", &cfg_path(APP), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, "DELETE", &cfg_path(APP), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, "PUT", &cfg_path("nobody"), Some(config()))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            &app,
            "GET",
            "/mepcfg/app_lcm/v1/tasks/unknown-task/appd_configuration",
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn invalid_configurations_name_the_member_at_fault() {
    let app = router().await;
    let many_rules: Vec<Value> = (0..17)
        .map(|i| json!({"trafficRuleId": format!("t{i}"), "filterType": "FLOW", "priority": 1,
                        "trafficFilter": [{"dstPort": ["80"]}], "action": "DROP", "state": "ACTIVE"}))
        .collect();
    let many_dns: Vec<Value> = (0..33)
        .map(|i| json!({"dnsRuleId": format!("d{i}"), "domainName": format!("h{i}.example.com"), "ipAddressType": "IP_V4",
                        "ipAddress": "192.0.2.1", "state": "ACTIVE"}))
        .collect();
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "too many traffic rules",
            Box::new(move |c| c["appTrafficRule"] = json!(many_rules.clone())),
            "appTrafficRule",
        ),
        (
            "too many DNS rules",
            Box::new(move |c| c["appDnsRule"] = json!(many_dns.clone())),
            "appDNSRule",
        ),
        (
            "empty name",
            Box::new(|c| c["appName"] = json!("")),
            "appName",
        ),
        (
            "long name",
            Box::new(|c| c["appName"] = json!("n".repeat(64))),
            "appName",
        ),
        (
            "bad name",
            Box::new(|c| c["appName"] = json!("rm -rf /")),
            "appName",
        ),
        (
            "malformed address",
            Box::new(|c| c["appDnsRule"][0]["ipAddress"] = json!("300.1.1.1")),
            "appDNSRule[0].ipAddress",
        ),
        (
            "address of the wrong family",
            Box::new(|c| c["appDnsRule"][0]["ipAddress"] = json!("2001:db8::1")),
            "appDNSRule[0].ipAddress",
        ),
        (
            "bad domain",
            Box::new(|c| c["appDnsRule"][0]["domainName"] = json!("bad domain")),
            "appDNSRule[0].domainName",
        ),
        (
            "bad port",
            Box::new(|c| c["appTrafficRule"][0]["trafficFilter"][0]["dstPort"] = json!(["http"])),
            "appTrafficRule[0].trafficFilter[0].dstPort",
        ),
        (
            "duplicate rule id",
            Box::new(|c| {
                let r = c["appTrafficRule"][0].clone();
                c["appTrafficRule"].as_array_mut().unwrap().push(r);
            }),
            "appTrafficRule[1].trafficRuleId",
        ),
    ];
    for (what, change, member) in cases {
        let mut c = config();
        change(&mut c);
        let (status, p) = call(&app, "POST", &cfg_path(APP), Some(c)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {p}");
        assert!(
            p["detail"].as_str().unwrap().contains(member),
            "{what}: {p}"
        );
    }
    let (status, _) = call(&app, "POST", &cfg_path("bad%20id!"), Some(config())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(
        &app,
        "POST",
        &cfg_path(APP),
        Some(json!({"appSupportMp1": true})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let big = json!({"appName": "x".repeat(40 * 1024)});
    assert_eq!(
        call(&app, "POST", &cfg_path(APP), Some(big)).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn capabilities_termination_and_governance() {
    let app = router().await;
    let (status, list) = call(
        &app,
        "GET",
        "/mepcfg/mec_platform_config/v1/capabilities",
        None,
    )
    .await;
    assert_eq!((status, list), (StatusCode::OK, json!([])));
    assert_eq!(
        call(
            &app,
            "GET",
            "/mepcfg/mec_platform_config/v1/capabilities/xyz",
            None
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(
            &app,
            "GET",
            "/mepcfg/mec_platform_config/v1/capabilities/0123456789abcdef0123456789abcdef",
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            &app,
            "GET",
            "/mepcfg/mec_platform_config/v1/capabilities?bogus=1",
            None
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let (status, _) = call(
        &app,
        "DELETE",
        "/mep/mec_app_support/v1/applications/provider/AppInstanceTermination",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &app,
        "DELETE",
        "/mep/mec_app_support/v1/applications/ghost/AppInstanceTermination",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, r) = call(&app, "POST", "/mep/service_govern/v1/kong_log", Some(json!({"upstream_uri": "/mep/mec_service_mgmt/v1/services", "request": {"method": "GET"}}))).await;
    assert_eq!((status, r["retCode"].clone()), (StatusCode::OK, json!(0)));
    let (_, stats) = call(&app, "GET", "/mep/service_govern/v1/kong_log", None).await;
    assert_eq!(stats["data"]["mepServices"][1]["name"], "serviceDiscovery");
    assert_eq!(stats["data"]["mepServices"][1]["callTimes"][0], 1);
    let (_, subs) = call(
        &app,
        "GET",
        "/mep/service_govern/v1/subscribe_statistic",
        None,
    )
    .await;
    assert_eq!(subs["data"]["subscribeNum"]["appSubscribeNum"], 0);
    let (_, services) = call(&app, "GET", "/mep/service_govern/v1/services", None).await;
    assert_eq!(services["data"], json!([]));
    assert_eq!(
        call(
            &app,
            "POST",
            "/mep/service_govern/v1/kong_log",
            Some(json!([1]))
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
}
