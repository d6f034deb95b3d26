//! Every Mm5 client operation against wiremock: method, path, headers and body as EdgeGallery's MEP expects them,
//! and its answers (EdgeGallery's own wire forms) decoded.

#![allow(clippy::unwrap_used)]

use mec_mm5::{AppDConfig, Client, ConfigResult, WaitOptions};
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";
const CFG_PATH: &str =
    "/mepcfg/app_lcm/v1/applications/5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f/appd_configuration";
/// mepserver's own test vector (`mm5/controller_test.go appUpdateRsp`), trailing newline included.
const PROCESSING: &str = "{\"taskId\":\"703e0f3b-b993-4d35-8d93-a469a4909ca3\",\"appInstanceId\":\"\",\"configResult\":\"PROCESSING\",\"configPhase\":\"0\",\"Detailed\":\"Operation In progress\"}\n";

fn config() -> AppDConfig {
    serde_json::from_value(json!({
        "appName": "demo",
        "appSupportMp1": true,
        "appTrafficRule": [{
            "trafficRuleId": "tr1", "filterType": "FLOW", "priority": 1,
            "trafficFilter": [{"srcAddress": ["192.0.2.0/24"]}], "action": "DROP", "state": "ACTIVE"
        }],
        "appDnsRule": [{
            "dnsRuleId": "dns1", "domainName": "www.example.com", "ipAddressType": "IPv4",
            "ipAddress": "192.0.2.1", "ttl": 30, "state": "ACTIVE"
        }]
    }))
    .unwrap()
}

async fn setup() -> (MockServer, Client) {
    let server = MockServer::start().await;
    let client = Client::builder(server.uri()).build().unwrap();
    (server, client)
}

#[tokio::test]
async fn create_posts_the_configuration_and_reads_the_task() {
    let (server, client) = setup().await;
    let expected = serde_json::to_value(config()).unwrap();
    assert_eq!(expected["appDNSRule"][0]["ipAddressType"], "IP_V4");
    Mock::given(method("POST"))
        .and(path(CFG_PATH))
        .and(header("content-type", "application/json"))
        .and(body_json(&expected))
        .respond_with(ResponseTemplate::new(200).set_body_string(PROCESSING))
        .expect(1)
        .mount(&server)
        .await;
    let t = client.app_config(APP).create(&config()).await.unwrap();
    assert_eq!(t.task_id, "703e0f3b-b993-4d35-8d93-a469a4909ca3");
    assert_eq!(t.config_result, ConfigResult::Processing);
    assert_eq!(t.detailed, "Operation In progress");
}

#[tokio::test]
async fn update_puts_get_reads_and_delete_deletes() {
    let (server, client) = setup().await;
    Mock::given(method("PUT"))
        .and(path(CFG_PATH))
        .and(body_json(serde_json::to_value(config()).unwrap()))
        .respond_with(ResponseTemplate::new(200).set_body_string(PROCESSING))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(CFG_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "appTrafficRule": null, "appDNSRule": null, "appSupportMp1": false, "appName": "demo"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(CFG_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string(PROCESSING))
        .expect(1)
        .mount(&server)
        .await;
    let apps = client.app_config(APP);
    assert_eq!(apps.update(&config()).await.unwrap().config_phase, "0");
    let got = apps.get().await.unwrap();
    assert_eq!(
        (
            got.app_name.as_str(),
            got.app_traffic_rule.len(),
            got.app_support_mp1
        ),
        ("demo", 0, false)
    );
    assert_eq!(
        apps.delete().await.unwrap().config_result,
        ConfigResult::Processing
    );
}

#[tokio::test]
async fn errors_keep_edgegallerys_internal_code() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path(CFG_PATH))
        .respond_with(ResponseTemplate::new(400).set_body_string("{\"title\":\"Duplicate request error\",\"status\":19,\"detail\":\"duplicate app instance\"}\n"))
        .mount(&server)
        .await;
    let e = client.app_config(APP).create(&config()).await.unwrap_err();
    assert!(e.is_bad_request());
    assert_eq!(e.problem().unwrap().status, 19);
    assert_eq!(e.problem().unwrap().detail, "duplicate app instance");
}

#[tokio::test]
async fn wait_for_task_polls_until_final_and_reads_lowercase_detailed() {
    let (server, client) = setup().await;
    let task_path = "/mepcfg/app_lcm/v1/tasks/t-1/appd_configuration";
    Mock::given(method("GET"))
        .and(path(task_path))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "taskId": "t-1", "appInstanceId": APP, "configResult": "PROCESSING", "configPhase": "50", "Detailed": ""
        })))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(task_path))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "taskId": "t-1", "appInstanceId": APP, "configResult": "FAILURE", "configPhase": "0", "detailed": "dns server down"
        })))
        .mount(&server)
        .await;
    let options = WaitOptions::new()
        .with_timeout(Duration::from_secs(10))
        .with_intervals(Duration::from_millis(1), Duration::from_millis(5));
    let t = client.wait_for_task("t-1", &options).await.unwrap();
    assert_eq!(t.config_result, ConfigResult::Failure);
    assert_eq!(t.detailed, "dns server down");
}

#[tokio::test]
async fn wait_for_task_gives_up_after_its_timeout() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "taskId": "t-2", "configResult": "PROCESSING", "configPhase": "10", "Detailed": ""
        })))
        .mount(&server)
        .await;
    let options = WaitOptions::new()
        .with_timeout(Duration::from_millis(30))
        .with_intervals(Duration::from_millis(5), Duration::from_millis(10));
    let e = client.wait_for_task("t-2", &options).await.unwrap_err();
    assert!(
        e.is_task_timed_out() && !e.is_timeout() && e.is_retryable(),
        "{e}"
    );
    assert!(
        matches!(&e, mec_mm5::Error::TaskTimedOut { task_id, last, .. } if task_id == "t-2" && last.config_phase == "10"),
        "{e}"
    );
    assert!(e.to_string().contains("PROCESSING"));
}

#[tokio::test]
async fn unknown_task_results_are_kept() {
    let t: mec_mm5::TaskProgress = serde_json::from_str(
        r#"{"taskId":"x","configResult":"ROLLING_BACK","configPhase":"3","Detailed":""}"#,
    )
    .unwrap();
    assert_eq!(
        t.config_result,
        ConfigResult::Unknown("ROLLING_BACK".into())
    );
    assert!(!t.config_result.is_final());
    assert_eq!(
        serde_json::to_value(&t).unwrap()["configResult"],
        "ROLLING_BACK"
    );
}

#[tokio::test]
async fn capabilities_list_filter_and_one() {
    let (server, client) = setup().await;
    // mepserver's test vector (`mm5/controller_test.go respMsg`).
    let body = "[{\"capabilityId\":\"16384563dca094183778a41ea7701d15\",\"capabilityName\":\"FaceRegService6\",\"status\":\"ACTIVE\",\"version\":\"3.2.1\",\"consumers\":[{\"applicationInstanceId\":\"5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f\"}]}]\n";
    // EdgeGallery's MEP ignores `ser_name` and answers every capability: the client keeps the named one.
    let with_another = body.replacen(
        "[",
        "[{\"capabilityId\":\"26384563dca094183778a41ea7701d15\",\"capabilityName\":\"Other\",\"status\":\"ACTIVE\",\"version\":\"1\",\"consumers\":null},",
        1,
    );
    Mock::given(method("GET"))
        .and(path("/mepcfg/mec_platform_config/v1/capabilities"))
        .and(query_param("ser_name", "FaceRegService6"))
        .respond_with(ResponseTemplate::new(200).set_body_string(with_another))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/mepcfg/mec_platform_config/v1/capabilities"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/mepcfg/mec_platform_config/v1/capabilities/16384563dca094183778a41ea7701d15",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "capabilityId": "16384563dca094183778a41ea7701d15", "capabilityName": "FaceRegService6",
            "status": "ACTIVE", "version": "3.2.1", "consumers": null
        })))
        .expect(1)
        .mount(&server)
        .await;
    let named = client.capabilities_named("FaceRegService6").await.unwrap();
    assert_eq!(named.len(), 1);
    assert_eq!(named[0].consumers[0].application_instance_id, APP);
    assert_eq!(client.capabilities().await.unwrap().len(), 1);
    let one = client
        .capability("16384563dca094183778a41ea7701d15")
        .await
        .unwrap();
    assert!(one.consumers.is_empty());
}

#[tokio::test]
async fn termination_sends_the_app_instance_header() {
    let (server, client) = setup().await;
    Mock::given(method("DELETE"))
        .and(path(format!(
            "/mep/mec_app_support/v1/applications/{APP}/AppInstanceTermination"
        )))
        .and(header("x-appinstanceid", APP))
        .respond_with(ResponseTemplate::new(200).set_body_string("\"\""))
        .expect(1)
        .mount(&server)
        .await;
    client.terminate_app_instance(APP).await.unwrap();
}

#[tokio::test]
async fn governance_views() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/mep/service_govern/v1/kong_log"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"appServices": [{"name": "rni", "desc": "", "callTimes": [3, 0, 0, 0, 0, 0, 1]}],
                     "mepServices": [{"name": "serviceRegister", "desc": "", "callTimes": [1, 0, 0, 0, 0, 0, 0]}]},
            "retCode": 0, "message": "", "params": ""
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/mep/service_govern/v1/kong_log"))
        .and(body_json(
            json!({"upstream_uri": "/mep/mec_service_mgmt/v1/services"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": null, "retCode": 0})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/mep/service_govern/v1/subscribe_statistic"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"subscribeNum": {"appSubscribeNum": 1, "serviceSubscribedNum": 2},
                     "subscribeRelations": [{"subscribeAppId": APP, "serviceList": null}]},
            "retCode": 0, "message": "", "params": ""
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/mep/service_govern/v1/services"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": null, "retCode": 0, "message": "", "params": ""})),
        )
        .mount(&server)
        .await;
    let stats = client.call_statistics().await.unwrap();
    assert_eq!(stats.app_services[0].call_times[6], 1);
    assert_eq!(stats.mep_services[0].name, "serviceRegister");
    client
        .record_api_call(&json!({"upstream_uri": "/mep/mec_service_mgmt/v1/services"}))
        .await
        .unwrap();
    let subs = client.subscribe_statistic().await.unwrap();
    assert_eq!(subs.subscribe_num.service_subscribed_num, 2);
    assert!(subs.subscribe_relations[0].service_list.is_empty());
    assert!(client.governed_services().await.unwrap().is_empty());
}

#[tokio::test]
async fn refusals_and_transport_errors_have_helpers() {
    let (server, client) = setup().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(404).set_body_raw(
            r#"{"title":"Not Found","status":404,"detail":"no such app instance"}"#,
            "application/problem+json",
        ))
        .mount(&server)
        .await;
    let e = client.app_config("gone").delete().await.unwrap_err();
    assert!(e.is_not_found() && !e.is_transport(), "{e}");
    assert_eq!(e.problem().unwrap().detail, "no such app instance");
    let e = client.terminate_app_instance("bad\nid").await.unwrap_err();
    assert!(e.is_invalid_request() && e.status().is_none(), "{e}");
    // Nothing listens on port 1 of the loopback address: the connection is refused.
    let e = mec_mm5::Client::builder("http://127.0.0.1:1")
        .build()
        .unwrap()
        .capabilities()
        .await
        .unwrap_err();
    assert!(e.is_transport() && e.is_retryable(), "{e}");
    let deepest = {
        let mut c: &dyn std::error::Error = &e;
        while let Some(next) = c.source() {
            c = next;
        }
        c.to_string()
    };
    assert!(!e.to_string().contains(&deepest), "{e}");
    assert_eq!(e.report().matches(&deepest).count(), 1, "{}", e.report());
}
