//! EdgeGallery's own clients, played byte for byte against `MockMep`: the bodies are the ones their Go code
//! marshals (mep-agent `src/model/instance.go`, mecm-apprulemgr `models/appd_rule_config.go`), sent with raw
//! HTTP rather than through our client, so that nothing of ours smooths them over.

#![allow(clippy::unwrap_used)]

use http::{HeaderMap, HeaderValue, Method};
use mec_core::signature::{Credentials, Signer};
use mec_mp1::model::{ServiceInfo, ServiceState, TunnelType};
use mec_testkit::{AppInstance, MockMep};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";

/// A token as mep-agent gets it: `POST /mep/token`, signed over content-type, host and x-sdk-date.
async fn agent_token(mep: &MockMep, credentials: Credentials) -> String {
    let url = format!("{}/token", mep.mep_url());
    let uri: http::Uri = url.parse().unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "host",
        HeaderValue::from_str(&mep.addr().to_string()).unwrap(),
    );
    Signer::new(credentials).sign(&Method::POST, &uri, &mut headers, b"", SystemTime::now());
    let answer = reqwest::Client::new()
        .post(url)
        .headers(headers)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// What mep-agent marshals for a service of its YAML: every member of its value structs, `transportId` next to
/// the whole `transportInfo`, only `addresses` in the endpoint, `_links.self.liveness` empty.
fn agent_body(category: Value, scope: &str, transport_id: &str, interval: u32) -> Value {
    json!({
        "serName": "ExampleService10",
        "serCategory": category,
        "version": "1.0.1",
        "state": "ACTIVE",
        "transportId": transport_id,
        "transportInfo": {
            "id": "Rest1", "name": "REST", "description": "REST API", "type": "REST_HTTP", "protocol": "HTTP",
            "version": "2.0", "endpoint": {"addresses": [{"host": "10.0.0.5", "port": 30005}]},
            "security": {"oAuth2Info": {"grantTypes": ["OAUTH2_CLIENT_CREDENTIALS"],
                                        "tokenEndpoint": "/mecSerMgmtApi/security/TokenEndPoint"}},
            "implSpecificInfo": {}
        },
        "serializer": "JSON",
        "scopeOfLocality": scope,
        "consumedLocalOnly": false,
        "isLocal": true,
        "livenessInterval": interval,
        "_links": {"self": {"liveness": ""}}
    })
}

fn empty_category() -> Value {
    json!({"href": "", "id": "", "name": "", "version": ""})
}

async fn register(mep: &MockMep, token: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!(
            "{}/mec_service_mgmt/v1/applications/{APP}/services",
            mep.mep_url()
        ))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn mock() -> (MockMep, String) {
    // EdgeGallery's MEP manager sends no credential on Mm5: the mock serves Mm5 open, as EdgeGallery's MEP does.
    let mep = MockMep::builder()
        .app(AppInstance::new(APP))
        .open_mm5()
        .start()
        .await
        .unwrap();
    let token = agent_token(&mep, mep.credentials(APP).unwrap()).await;
    (mep, token)
}

#[tokio::test]
async fn the_agents_registration_is_accepted_and_its_heartbeats_keep_the_service_active() {
    let (mep, token) = mock().await;
    let answer = register(&mep, &token, &agent_body(empty_category(), "", "Rest1", 60)).await;
    assert_eq!(answer.status(), 201);
    let created: Value = answer.json().await.unwrap();
    let id = created["serInstanceId"].as_str().unwrap().to_owned();
    // The agent reads only `_links.self.liveness`, a path it appends to the MEP's address.
    let liveness = created["_links"]["self"]["liveness"].as_str().unwrap();
    assert_eq!(
        liveness,
        format!("/mep/mec_service_mgmt/v1/applications/{APP}/services/{id}/liveness")
    );
    assert!(
        created["_links"]["liveness"]["href"].is_string(),
        "ETSI's link stays"
    );
    // Absent category and scope, as EdgeGallery reads the agent's empty ones.
    let stored: ServiceInfo = mep
        .services()
        .into_iter()
        .find(|s| s.ser_instance_id.as_deref() == Some(id.as_str()))
        .unwrap();
    assert_eq!(stored.ser_category, None);
    assert_eq!(stored.scope_of_locality, None);

    // Heartbeats as the agent sends them: PUT every interval to that path; over five intervals the service
    // stays ACTIVE.
    let heartbeat = format!("{}{liveness}", mep.url());
    for _ in 0..5 {
        mep.advance(Duration::from_secs(55));
        let beat = reqwest::Client::new()
            .put(&heartbeat)
            .bearer_auth(&token)
            .json(&json!({"state": "ACTIVE"}))
            .send()
            .await
            .unwrap();
        assert!(matches!(beat.status().as_u16(), 200 | 204), "{beat:?}");
    }
    let seen: Value = reqwest::Client::new()
        .get(format!(
            "{}/mec_service_mgmt/v1/services/{id}",
            mep.mep_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["state"], "ACTIVE");
    // Without heartbeats it is suspended after one interval and its grace.
    mep.advance(Duration::from_secs(64));
    mep.sweep().await.unwrap();
    let seen: ServiceInfo = reqwest::Client::new()
        .get(format!(
            "{}/mec_service_mgmt/v1/services/{id}",
            mep.mep_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen.state, ServiceState::Suspended);
}

#[tokio::test]
async fn transport_id_and_info_together_are_accepted_unless_they_disagree() {
    let (mep, token) = mock().await;
    // An id the MEP does not offer, with a complete transport: accepted, the transport kept as given.
    let answer = register(
        &mep,
        &token,
        &agent_body(empty_category(), "MEC_HOST", "Rest1", 0),
    )
    .await;
    assert_eq!(answer.status(), 201);
    // An id naming the MEP's own transport while the info describes another: refused, naming the member.
    let offered: Value = reqwest::Client::new()
        .get(format!("{}/mec_service_mgmt/v1/transports", mep.mep_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let offered_id = offered[0]["id"].as_str().unwrap();
    let answer = register(
        &mep,
        &token,
        &agent_body(empty_category(), "", offered_id, 0),
    )
    .await;
    assert_eq!(answer.status(), 400);
    let problem: Value = answer.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("transportId"),
        "{problem}"
    );
    // An unknown enum value is still refused, naming the member.
    let mut odd = agent_body(empty_category(), "", "Rest1", 0);
    odd["serializer"] = json!("YAML");
    let answer = register(&mep, &token, &odd).await;
    assert_eq!(answer.status(), 400);
    let problem: Value = answer.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("serializer"),
        "{problem}"
    );
}

#[tokio::test]
async fn the_mepms_configuration_body_with_empty_addresses_and_tunnelinfo_is_applied() {
    let (mep, token) = mock().await;
    // mecm-apprulemgr: no Content-Type, `appDnsRule`, ids of its own rows, empty MAC and IP strings on every
    // destination interface, `TunnelInfo` with a capital T, `dstTunnelAddress`, zero QoS values.
    let body = json!({
        "appdRuleId": "x1", "tenantId": "t1", "appInstanceId": APP, "appName": "face-recognition",
        "appSupportMp1": true,
        "appTrafficRule": [{
            "trafficRuleId": "tr1", "filterType": "FLOW", "priority": 1, "action": "PASSTHROUGH",
            "trafficFilter": [{"trafficFilterId": "f1", "srcAddress": ["192.0.2.0/24"], "srcPort": ["8080"],
                               "dstAddress": null, "dstPort": null, "protocol": ["TCP"], "qCI": 0, "dSCP": 0,
                               "tC": 0, "tag": null, "srcTunnelAddress": null, "dstTunnelAddress": ["10.9.9.9"],
                               "srcTunnelPort": null, "dstTunnelPort": null}],
            "dstInterface": [{"dstInterfaceId": "i1", "interfaceType": "TUNNEL", "srcMacAddress": "",
                              "dstMacAddress": "", "dstIpAddress": "",
                              "TunnelInfo": {"tunnelInfoId": "ti1", "tunnelType": "GTP_U",
                                             "tunnelDstAddress": "10.2.2.2", "tunnelSrcAddress": "10.3.3.3",
                                             "tunnelSpecificData": ""}}]
        }],
        "appDnsRule": [{"dnsRuleId": "dns1", "domainName": "faces.example.com", "ipAddressType": "IP_V4",
                        "ipAddress": "192.0.2.10", "ttl": 30}]
    });
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/mepcfg/app_lcm/v1/applications/{APP}/appd_configuration",
            mep.url()
        ))
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{:?}", answer.text().await);
    let rule: Value = reqwest::Client::new()
        .get(format!(
            "{}/mec_app_support/v1/applications/{APP}/traffic_rules/tr1",
            mep.mep_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let interface = &rule["dstInterface"][0];
    assert_eq!(interface["tunnelInfo"]["tunnelType"], "GTP_U");
    assert_eq!(interface["tunnelInfo"]["tunnelDstAddress"], "10.2.2.2");
    assert!(interface.get("srcMacAddress").is_none(), "{interface}");
    assert_eq!(
        rule["trafficFilter"][0]["tgtTunnelAddress"],
        json!(["10.9.9.9"])
    );
    let stored = mep.traffic_rules(APP);
    assert_eq!(
        stored[0].dst_interface[0]
            .tunnel_info
            .as_ref()
            .unwrap()
            .tunnel_type,
        TunnelType::GtpU
    );
}
