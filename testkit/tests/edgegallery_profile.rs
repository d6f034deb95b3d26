//! The EdgeGallery profile, played by EdgeGallery's own clients over real HTTP on 127.0.0.1: mep-agent (token,
//! registration, heartbeats, token refresh), the MEPM's Mm5 calls (mecm-apprulemgr), the MECM's lcmcontroller
//! (termination, capabilities, mepauth's `confs`), and the request examples EdgeGallery publishes (mep
//! `mepserver/rest-mepserver.http`, docs `Projects/MEP/postman-collection/*.json`), rewritten here as fixtures of
//! our own. Each behaviour that differs from ETSI is also checked in the ETSI profile, which keeps its answer.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use http::{HeaderMap, HeaderValue, Method};
use mec_core::signature::{Credentials, Signer};
use mec_testkit::{AppInstance, MockMep, Profile};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";
const OTHER: &str = "6abe4782-2c70-4e47-9a4e-0ee3a1a0fd1e";
const SECRET: &str = "mm5-secret-of-the-mecm-0123456789";

async fn mock(profile: Profile) -> MockMep {
    MockMep::builder()
        .app(AppInstance::new(APP))
        .app(AppInstance::new(OTHER))
        .mm5_secret(SECRET)
        .token_lifetime(Duration::from_secs(120))
        .profile(profile)
        .start()
        .await
        .unwrap()
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// `POST /mep/token` as mep-agent signs it (mep-agent `src/service/request.go`), dated `signed_at`.
async fn token_request(
    mep: &MockMep,
    credentials: Credentials,
    signed_at: SystemTime,
) -> reqwest::Response {
    support::token_request(mep, &credentials, signed_at)
        .send()
        .await
        .unwrap()
}

/// mep-agent's clock: the local time of a MEC host in UTC+8, written with a literal `Z`.
fn agent_date(mep: &MockMep) -> SystemTime {
    mep.now() + Duration::from_secs(8 * 3600)
}

/// What mep-agent marshals for a service of its YAML (mep-agent `src/model/instance.go`): `transportId` next to
/// the whole `transportInfo`, the empty `serCategory` and `scopeOfLocality` of a YAML without them.
fn agent_body(interval: u32) -> Value {
    json!({
        "serName": "ExampleService10",
        "serCategory": {"href": "", "id": "", "name": "", "version": ""},
        "version": "1.0.1",
        "state": "ACTIVE",
        "transportId": "Rest1",
        "transportInfo": {
            "id": "Rest1", "name": "REST", "description": "REST API", "type": "REST_HTTP", "protocol": "HTTP",
            "version": "2.0", "endpoint": {"addresses": [{"host": "10.0.0.5", "port": 30005}]},
            "security": {"oAuth2Info": {"grantTypes": ["OAUTH2_CLIENT_CREDENTIALS"],
                                        "tokenEndpoint": "/mecSerMgmtApi/security/TokenEndPoint"}},
            "implSpecificInfo": {}
        },
        "serializer": "JSON",
        "scopeOfLocality": "",
        "consumedLocalOnly": false,
        "isLocal": true,
        "livenessInterval": interval,
        "_links": {"self": {"liveness": ""}}
    })
}

/// mep-agent's token handling: a new token once `expires_in - 5` seconds have passed (mep-agent
/// `src/service/token.go`).
struct Agent {
    credentials: Credentials,
    token: String,
    renew_at: SystemTime,
    tokens_fetched: u32,
}

impl Agent {
    async fn start(mep: &MockMep) -> Self {
        let mut agent = Self {
            credentials: mep.credentials(APP).unwrap(),
            token: String::new(),
            renew_at: SystemTime::UNIX_EPOCH,
            tokens_fetched: 0,
        };
        agent.refresh(mep).await;
        agent
    }

    async fn refresh(&mut self, mep: &MockMep) {
        let answer = token_request(mep, self.credentials.clone(), agent_date(mep)).await;
        assert_eq!(answer.status(), 200, "{:?}", answer.text().await);
        let body: Value = answer.json().await.unwrap();
        let expires_in = body["expires_in"].as_u64().unwrap();
        self.token = body["access_token"].as_str().unwrap().to_owned();
        self.renew_at = mep.now() + Duration::from_secs(expires_in - 5);
        self.tokens_fetched += 1;
    }

    async fn token(&mut self, mep: &MockMep) -> String {
        if mep.now() >= self.renew_at {
            self.refresh(mep).await;
        }
        self.token.clone()
    }
}

async fn service_state(mep: &MockMep, token: &str, id: &str) -> String {
    let seen: Value = http()
        .get(format!(
            "{}/mec_service_mgmt/v1/services/{id}",
            mep.mep_url()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    seen["state"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn mep_agent_registers_beats_and_refreshes_its_token_and_the_service_stays_active() {
    let mep = mock(Profile::EdgeGallery).await;
    let mut agent = Agent::start(&mep).await;
    // The agent's exact body, asking for 10 s: EdgeGallery gives every service 60 s.
    let token = agent.token(&mep).await;
    let answer = http()
        .post(format!(
            "{}/mec_service_mgmt/v1/applications/{APP}/services",
            mep.mep_url()
        ))
        .bearer_auth(&token)
        .json(&agent_body(10))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201, "{:?}", answer.text().await);
    let created: Value = answer.json().await.unwrap();
    assert_eq!(created["livenessInterval"], 60, "{created}");
    let id = created["serInstanceId"].as_str().unwrap().to_owned();
    let liveness = created["_links"]["self"]["liveness"].as_str().unwrap();
    let heartbeat = format!("{}{liveness}", mep.url());

    // Six intervals, a heartbeat at each, as the agent sends them (PUT, no X-AppinstanceID: its gateway adds it,
    // and mepserver does not check it under /services); the 120 s token is renewed on the way.
    let first_token = token.clone();
    for _ in 0..6 {
        mep.advance(Duration::from_secs(60));
        let token = agent.token(&mep).await;
        let beat = http()
            .put(&heartbeat)
            .bearer_auth(&token)
            .json(&json!({"state": "ACTIVE"}))
            .send()
            .await
            .unwrap();
        assert!(matches!(beat.status().as_u16(), 200 | 204), "{beat:?}");
        mep.sweep().await.unwrap();
        assert_eq!(service_state(&mep, &token, &id).await, "ACTIVE");
    }
    assert!(agent.tokens_fetched >= 3, "{}", agent.tokens_fetched);
    let stale = http()
        .get(format!("{}/mec_service_mgmt/v1/services", mep.mep_url()))
        .bearer_auth(&first_token)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 401, "the first token has expired");

    // Silent for 30 s (three of the 10 s it asked for): still ACTIVE; past 60 s and the grace: SUSPENDED.
    mep.advance(Duration::from_secs(30));
    mep.sweep().await.unwrap();
    let token = agent.token(&mep).await;
    assert_eq!(service_state(&mep, &token, &id).await, "ACTIVE");
    mep.advance(Duration::from_secs(35));
    mep.sweep().await.unwrap();
    assert_eq!(service_state(&mep, &token, &id).await, "SUSPENDED");
}

#[tokio::test]
async fn the_etsi_profile_keeps_the_requested_interval_and_refuses_local_time_dates() {
    let mep = mock(Profile::Etsi).await;
    let answer = token_request(&mep, mep.credentials(APP).unwrap(), agent_date(&mep)).await;
    assert_eq!(answer.status(), 401);
    let answer = token_request(&mep, mep.credentials(APP).unwrap(), mep.now()).await;
    let token: Value = answer.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap();
    let created: Value = http()
        .post(format!(
            "{}/mec_service_mgmt/v1/applications/{APP}/services",
            mep.mep_url()
        ))
        .bearer_auth(token)
        .json(&agent_body(10))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["livenessInterval"], 10);
}

#[tokio::test]
async fn the_signing_date_window_is_wide_but_bounded_and_replays_are_refused() {
    let mep = mock(Profile::EdgeGallery).await;
    let credentials = mep.credentials(APP).unwrap();
    // UTC-12 is as far behind as UTC+14 is ahead: both are accepted.
    let behind = mep.now() - Duration::from_secs(12 * 3600);
    assert_eq!(
        token_request(&mep, credentials.clone(), behind)
            .await
            .status(),
        200
    );
    let ahead = mep.now() + Duration::from_secs(14 * 3600);
    assert_eq!(
        token_request(&mep, credentials.clone(), ahead)
            .await
            .status(),
        200
    );
    // A day off is no time zone.
    let day = mep.now() + Duration::from_secs(24 * 3600);
    assert_eq!(
        token_request(&mep, credentials.clone(), day).await.status(),
        401
    );
    // The same signature twice: refused the second time.
    let url = format!("{}/token", mep.mep_url());
    let uri: http::Uri = url.parse().unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "host",
        HeaderValue::from_str(&mep.addr().to_string()).unwrap(),
    );
    Signer::new(credentials).sign(&Method::POST, &uri, &mut headers, b"", agent_date(&mep));
    let first = http()
        .post(&url)
        .headers(headers.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let again = http().post(&url).headers(headers).send().await.unwrap();
    assert_eq!(again.status(), 401);
}

async fn app_token(mep: &MockMep, app: &str) -> String {
    let answer = token_request(mep, mep.credentials(app).unwrap(), mep.now()).await;
    let body: Value = answer.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// lcmcontroller's termination call: `DELETE .../AppInstanceTermination` with `X-AppinstanceID` (mecm-applcm
/// `lcmcontroller/config/appconfig.go`).
async fn lcm_terminate(mep: &MockMep, app: &str, header: Option<&str>) -> reqwest::Response {
    let mut request = http()
        .delete(format!(
            "{}/mec_app_support/v1/applications/{app}/AppInstanceTermination",
            mep.mep_url()
        ))
        .bearer_auth(SECRET);
    if let Some(h) = header {
        request = request.header("X-AppinstanceID", h);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn lcmcontroller_terminates_an_unknown_instance_with_200_and_the_header_is_required() {
    let unknown = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
    let mep = mock(Profile::EdgeGallery).await;
    assert_eq!(
        lcm_terminate(&mep, unknown, Some(unknown)).await.status(),
        200
    );
    assert_eq!(lcm_terminate(&mep, unknown, None).await.status(), 400);
    assert_eq!(lcm_terminate(&mep, APP, Some(OTHER)).await.status(), 401);
    assert_eq!(
        mep.app_state(APP),
        Some(mec_testkit::AppState::Instantiated)
    );
    assert_eq!(lcm_terminate(&mep, APP, Some(APP)).await.status(), 200);
    assert_eq!(mep.app_state(APP), Some(mec_testkit::AppState::Terminated));

    let etsi = mock(Profile::Etsi).await;
    assert_eq!(
        lcm_terminate(&etsi, unknown, Some(unknown)).await.status(),
        404
    );
    assert_eq!(
        lcm_terminate(&etsi, APP, None).await.status(),
        200,
        "the ETSI profile does not ask for the header"
    );
}

/// mecm-apprulemgr's configuration call: no Content-Type, `appDnsRule`, a re-marshalled rule with empty MAC and
/// IP strings and `TunnelInfo` (mecm-apprulemgr `models/appd_rule_config.go`).
fn mepm_config(app_name: &str, priority: u32, action: &str) -> Value {
    json!({
        "appdRuleId": "x1", "tenantId": "t1", "appInstanceId": APP, "appName": app_name, "appSupportMp1": true,
        "appTrafficRule": [{
            "trafficRuleId": "tr1", "filterType": "FLOW", "priority": priority, "action": action,
            "trafficFilter": [{"trafficFilterId": "f1", "srcAddress": ["192.0.2.0/24"], "srcPort": ["8080"],
                               "dstAddress": null, "dstPort": null, "protocol": ["TCP"], "qCI": 0, "dSCP": 0,
                               "tC": 0, "tag": null, "srcTunnelAddress": null, "dstTunnelAddress": null,
                               "srcTunnelPort": null, "dstTunnelPort": null}],
            "dstInterface": [{"dstInterfaceId": "i1", "interfaceType": "TUNNEL", "srcMacAddress": "",
                              "dstMacAddress": "", "dstIpAddress": "",
                              "TunnelInfo": {"tunnelInfoId": "ti1", "tunnelType": "GTP_U",
                                             "tunnelDstAddress": "10.2.2.2", "tunnelSrcAddress": "10.3.3.3",
                                             "tunnelSpecificData": ""}}]
        }],
        "appDnsRule": [{"dnsRuleId": "dns1", "domainName": "faces.example.com", "ipAddressType": "IP_V4",
                        "ipAddress": "192.0.2.10", "ttl": 30}]
    })
}

async fn mm5(mep: &MockMep, method: Method, body: Option<&Value>) -> reqwest::Response {
    let mut request = http()
        .request(
            method,
            format!(
                "{}/mepcfg/app_lcm/v1/applications/{APP}/appd_configuration",
                mep.url()
            ),
        )
        .bearer_auth(SECRET);
    if let Some(b) = body {
        request = request.body(serde_json::to_vec(b).unwrap());
    }
    request.send().await.unwrap()
}

async fn detail(answer: reqwest::Response) -> (u16, String) {
    let status = answer.status().as_u16();
    let body: Value = answer.json().await.unwrap_or(Value::Null);
    (
        status,
        body["detail"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn the_mepms_configuration_is_answered_as_edgegallery_answers_it() {
    let mep = mock(Profile::EdgeGallery).await;
    // No rules: nothing to configure.
    let empty =
        json!({"appName": "face", "appSupportMp1": true, "appTrafficRule": [], "appDnsRule": []});
    let (status, why) = detail(mm5(&mep, Method::POST, Some(&empty)).await).await;
    assert_eq!(
        (status, why.as_str()),
        (404, "no modification data found in the input")
    );
    // Priority 0 and an encapsulating action: refused by EdgeGallery's validator.
    let (status, why) = detail(
        mm5(
            &mep,
            Method::POST,
            Some(&mepm_config("face", 0, "PASSTHROUGH")),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(why.contains("priority"), "{why}");
    let body = mepm_config("face", 1, "FORWARD_ENCAPSULATED");
    let (status, why) = detail(mm5(&mep, Method::POST, Some(&body)).await).await;
    assert_eq!(status, 400);
    assert!(why.contains("action"), "{why}");
    // A name in Chinese letters (the MEPM allows `\p{L}`): accepted; the answer carries the path's id.
    let body = mepm_config("人脸识别应用", 1, "PASSTHROUGH");
    let answer = mm5(&mep, Method::POST, Some(&body)).await;
    assert_eq!(answer.status(), 200);
    let task: Value = answer.json().await.unwrap();
    assert_eq!(task["appInstanceId"], APP);
    // The same rules again: no modification.
    let (status, why) = detail(mm5(&mep, Method::PUT, Some(&body)).await).await;
    assert_eq!(
        (status, why.as_str()),
        (404, "no modification data found in the input")
    );
    // A changed rule: applied, answered with the path's id.
    let mut changed = body.clone();
    changed["appDnsRule"][0]["ttl"] = json!(60);
    let answer = mm5(&mep, Method::PUT, Some(&changed)).await;
    assert_eq!(answer.status(), 200);
    let task: Value = answer.json().await.unwrap();
    assert_eq!(task["appInstanceId"], APP);
    assert_eq!(mep.dns_rules(APP)[0].ttl, Some(60));
    let name = "a".repeat(64);
    let (status, _) = detail(
        mm5(
            &mep,
            Method::PUT,
            Some(&mepm_config(&name, 1, "PASSTHROUGH")),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "the length is still checked");
}

#[tokio::test]
async fn the_etsi_profile_keeps_its_configuration_answers() {
    let mep = mock(Profile::Etsi).await;
    let (status, why) = detail(
        mm5(
            &mep,
            Method::POST,
            Some(&mepm_config("人脸识别应用", 1, "PASSTHROUGH")),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(why.contains("appName"), "{why}");
    let body = mepm_config("face", 0, "FORWARD_ENCAPSULATED");
    assert_eq!(mm5(&mep, Method::POST, Some(&body)).await.status(), 200);
    assert_eq!(mm5(&mep, Method::PUT, Some(&body)).await.status(), 200);
    let empty = json!({"appName": "face", "appSupportMp1": true});
    assert_eq!(mm5(&mep, Method::PUT, Some(&empty)).await.status(), 200);
}

#[tokio::test]
async fn termination_deletes_the_configuration_and_notifies_with_string_links() {
    let receiver = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let mep = mock(Profile::EdgeGallery).await;
    assert_eq!(
        mm5(
            &mep,
            Method::POST,
            Some(&mepm_config("face", 1, "PASSTHROUGH"))
        )
        .await
        .status(),
        200
    );
    // The published example's termination subscription, with its extra `appInstanceId` member.
    let token = app_token(&mep, APP).await;
    let answer = http()
        .post(format!(
            "{}/mec_app_support/v1/applications/{APP}/subscriptions",
            mep.mep_url()
        ))
        .bearer_auth(&token)
        .header("X-AppinstanceID", APP)
        .json(&json!({
            "subscriptionType": "AppTerminationNotificationSubscription",
            "callbackReference": format!("{}/terminations", receiver.uri()),
            "appInstanceId": APP
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    let sub_id = location.rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        location,
        format!("/mec_app_support/v1/applications/{APP}/subscriptions/{sub_id}")
    );
    let created: Value = answer.json().await.unwrap();
    assert_eq!(created["_links"]["self"]["href"], location.as_str());

    assert_eq!(lcm_terminate(&mep, APP, Some(APP)).await.status(), 200);
    let notification = wait_for_one(&receiver).await;
    assert_eq!(
        notification,
        json!({
            "notificationType": "AppTerminationNotification",
            "operationAction": "TERMINATING",
            "maxGracefulTimeout": 10,
            "_links": {
                "subscription": format!("/mep/mec_app_support/v1/applications/{APP}/subscriptions/{sub_id}"),
                "confirmTermination": format!("/mep/mec_app_support/v1/applications/{APP}/confirm_termination"),
            }
        })
    );
    // The app confirms; its configuration is gone with it, and the MEPM may configure the id afresh.
    let confirmed = http()
        .post(format!(
            "{}/mec_app_support/v1/applications/{APP}/confirm_termination",
            mep.mep_url()
        ))
        .bearer_auth(&token)
        .json(&json!({"operationAction": "TERMINATING"}))
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 204);
    assert_eq!(mep.app_state(APP), Some(mec_testkit::AppState::Terminated));
    assert_eq!(mm5(&mep, Method::GET, None).await.status(), 404);
    assert!(mep.traffic_rules(APP).is_empty());
    assert_eq!(
        mm5(
            &mep,
            Method::POST,
            Some(&mepm_config("face", 1, "PASSTHROUGH"))
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn the_etsi_profile_also_deletes_the_configuration_at_termination() {
    let mep = mock(Profile::Etsi).await;
    let body = mepm_config("face", 1, "PASSTHROUGH");
    assert_eq!(mm5(&mep, Method::POST, Some(&body)).await.status(), 200);
    assert_eq!(lcm_terminate(&mep, APP, None).await.status(), 200);
    assert_eq!(mm5(&mep, Method::GET, None).await.status(), 404);
    assert_eq!(mm5(&mep, Method::POST, Some(&body)).await.status(), 200);
}

async fn wait_for(receiver: &wiremock::MockServer, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let got = receiver.received_requests().await.unwrap_or_default();
        if got.len() >= n {
            return got
                .iter()
                .map(|r| serde_json::from_slice(&r.body).unwrap())
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fewer than {n} notifications arrived");
}

async fn wait_for_one(receiver: &wiremock::MockServer) -> Value {
    wait_for(receiver, 1).await.remove(0)
}

#[tokio::test]
async fn availability_notifications_take_edgegallerys_form() {
    let receiver = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let mep = mock(Profile::EdgeGallery).await;
    let token = app_token(&mep, OTHER).await;
    let answer = http()
        .post(format!(
            "{}/mec_service_mgmt/v1/applications/{OTHER}/subscriptions",
            mep.mep_url()
        ))
        .bearer_auth(&token)
        .header("X-AppinstanceID", OTHER)
        .json(&json!({
            "subscriptionType": "SerAvailabilityNotificationSubscription",
            "callbackReference": format!("{}/services", receiver.uri()),
            "filteringCriteria": {"serNames": ["ExampleService10"]}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!(
            "/mec_service_mgmt/v1/applications/{OTHER}/subscriptions/"
        )),
        "{location}"
    );
    let sub_id = location.rsplit('/').next().unwrap().to_owned();

    let owner = app_token(&mep, APP).await;
    let created: Value = http()
        .post(format!(
            "{}/mec_service_mgmt/v1/applications/{APP}/services",
            mep.mep_url()
        ))
        .bearer_auth(&owner)
        .json(&agent_body(60))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["serInstanceId"].as_str().unwrap().to_owned();
    mep.set_service_state(&id, mec_mp1::model::ServiceState::Inactive)
        .await
        .unwrap();
    let deleted = http()
        .delete(format!(
            "{}/mec_service_mgmt/v1/applications/{APP}/services/{id}",
            mep.mep_url()
        ))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let got = wait_for(&receiver, 3).await;
    let changes: Vec<&Value> = got.iter().map(|n| &n["serviceReferences"][0]).collect();
    assert_eq!(
        changes
            .iter()
            .map(|c| c["changeType"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["ADDED", "ATTRIBUTES_CHANGED", "REMOVED"]
    );
    assert_eq!(
        changes[0]["link"],
        json!({"href": format!("/mec_service_mgmt/v1/services/{id}")})
    );
    assert_eq!(changes[1]["state"], "INACTIVE");
    assert_eq!(changes[2]["link"], json!({}));
    assert_eq!(
        got[0]["_links"]["subscription"]["href"],
        format!("/mec_service_mgmt/v1/applications/{OTHER}/subscriptions/{sub_id}")
    );
}

/// mepauth's confs body as lcmcontroller writes it: a 20-character AK and a 64-character SK of base64.
fn confs(ak: &str, sk: &str) -> Value {
    json!({"authInfo": {"credentials": {"accessKeyId": ak, "secretKey": sk, "appName": "face"}},
           "appInfo": {"appName": "face", "requiredServices": []}})
}

const NEW_APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd3f";
const NEW_AK: &str = "T2c3ZzBrbWxwcTRuYjE=";
const NEW_SK: &str = "c2VjcmV0LWtleS1vZi10aGUtbmV3LWFwcC1pbnN0YW5jZS0wMTIzNDU2Nzg5YWJj";

async fn put_confs(mep: &MockMep, app: &str, body: &Value, bearer: Option<&str>) -> (u16, Value) {
    let mut request = http()
        .put(format!(
            "{}/mep/appMng/v1/applications/{app}/confs",
            mep.url()
        ))
        .json(body);
    if let Some(b) = bearer {
        request = request.bearer_auth(b);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_confs_route_provisions_keys_only_for_the_manager() {
    for profile in [Profile::EdgeGallery, Profile::Etsi] {
        let mep = mock(profile).await;
        let body = confs(NEW_AK, NEW_SK);
        // Without the manager's credential: refused.
        assert_eq!(put_confs(&mep, NEW_APP, &body, None).await.0, 401);
        let token = app_token(&mep, APP).await;
        assert_eq!(put_confs(&mep, NEW_APP, &body, Some(&token)).await.0, 401);
        // The published example's short keys: refused, never accepted without saving.
        let (status, problem) = put_confs(
            &mep,
            NEW_APP,
            &confs("HCY8BGCN3", "9zYwf1uabSQY0JTn"),
            Some(SECRET),
        )
        .await;
        assert_eq!(
            (status, problem["detail"].as_str()),
            (400, Some("Invalid input for ak or sk"))
        );
        assert_eq!(
            put_confs(&mep, "not-a-uuid", &body, Some(SECRET)).await.0,
            400
        );
        // The manager: 200, the body without the secret key; the keys work at once.
        let (status, answer) = put_confs(&mep, NEW_APP, &body, Some(SECRET)).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["authInfo"]["credentials"]["accessKeyId"], NEW_AK);
        assert!(answer["authInfo"]["credentials"].get("secretKey").is_none());
        let answer = token_request(&mep, Credentials::new(NEW_AK, NEW_SK), mep.now()).await;
        assert_eq!(answer.status(), 200, "{profile}");
        let claims = mep
            .check_token(
                answer.json::<Value>().await.unwrap()["access_token"]
                    .as_str()
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(claims.sub, NEW_APP);
    }
}

#[tokio::test]
async fn the_confs_route_is_never_open() {
    let mep = MockMep::builder()
        .app(AppInstance::new(APP))
        .open_mm5()
        .profile(Profile::EdgeGallery)
        .start()
        .await
        .unwrap();
    let (status, _) = put_confs(&mep, NEW_APP, &confs(NEW_AK, NEW_SK), None).await;
    assert_eq!(status, 401);
    assert!(mep.credentials(NEW_APP).is_none());
    let answer = token_request(&mep, Credentials::new(NEW_AK, NEW_SK), mep.now()).await;
    assert_eq!(answer.status(), 401);
}

#[tokio::test]
async fn lcmcontroller_reads_capabilities_without_the_name_filter() {
    let mep = mock(Profile::EdgeGallery).await;
    let token = app_token(&mep, APP).await;
    let created = http()
        .post(format!(
            "{}/mec_service_mgmt/v1/applications/{APP}/services",
            mep.mep_url()
        ))
        .bearer_auth(&token)
        .json(&agent_body(60))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let capabilities = |mep: &MockMep| {
        http()
            .get(format!(
                "{}/mepcfg/mec_platform_config/v1/capabilities?ser_name=SomethingElse",
                mep.url()
            ))
            .bearer_auth(SECRET)
            .send()
    };
    let all: Vec<Value> = capabilities(&mep).await.unwrap().json().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["capabilityName"], "ExampleService10");

    let etsi = mock(Profile::Etsi).await;
    let token = app_token(&etsi, APP).await;
    http()
        .post(format!(
            "{}/mec_service_mgmt/v1/applications/{APP}/services",
            etsi.mep_url()
        ))
        .bearer_auth(&token)
        .json(&agent_body(60))
        .send()
        .await
        .unwrap();
    let filtered: Vec<Value> = capabilities(&etsi).await.unwrap().json().await.unwrap();
    assert!(filtered.is_empty());
}

/// EdgeGallery's published requests (mepserver `rest-mepserver.http`, docs `(MEP)mepserver.postman_collection`),
/// written again: registration with an unknown `transportId` and a transport of its own, discovery of the app's
/// services with `X-AppinstanceID` and `ser_name`, availability subscriptions with every filter member, and their
/// listing and deletion.
#[tokio::test]
async fn edgegallerys_published_requests_are_served() {
    let mep = mock(Profile::EdgeGallery).await;
    let token = app_token(&mep, APP).await;
    let base = format!("{}/mec_service_mgmt/v1/applications/{APP}", mep.mep_url());
    let registration = json!({
        "serName": "facerecognition_service",
        "serCategory": {"href": "/example/catalogue1", "id": "id12345", "name": "RNI", "version": "1.2.3"},
        "version": "4.5.8",
        "state": "ACTIVE",
        "transportId": "Rest1",
        "transportInfo": {
            "id": "TransId12345", "name": "REST", "description": "REST API", "type": "REST_HTTP",
            "protocol": "HTTP", "version": "2.0",
            "endpoint": {"addresses": [{"host": "face-recognition.default", "port": 9999}]},
            "security": {"oAuth2Info": {"grantTypes": ["OAUTH2_CLIENT_CREDENTIALS"],
                                        "tokenEndpoint": "/mecSerMgmtApi/security/TokenEndPoint"}},
            "implSpecificInfo": {}
        },
        "serializer": "JSON",
        "scopeOfLocality": "MEC_SYSTEM",
        "consumedLocalOnly": false,
        "isLocal": true
    });
    let answer = http()
        .post(format!("{base}/services"))
        .bearer_auth(&token)
        .json(&registration)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201, "{:?}", answer.text().await);
    let found: Vec<Value> = http()
        .get(format!("{base}/services?ser_name=facerecognition_service"))
        .bearer_auth(&token)
        .header("X-AppinstanceID", APP)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["transportInfo"]["id"], "TransId12345");

    let subscription = json!({
        "subscriptionType": "SerAvailabilityNotificationSubscription",
        "callbackReference": "http://example.com",
        "filteringCriteria": {
            "serInstanceIds": ["f7e898d1c9ea9eddb603b4669625dacd"],
            "serNames": ["FaceRegService5"],
            "serCategories": [{"href": "/example/catalogue1", "id": "id12345", "name": "RNI", "version": "1.2.2"}],
            "states": ["ACTIVE"],
            "isLocal": true
        }
    });
    // Behind EdgeGallery's gateway the header is always there: without it, or naming another app, refused.
    let missing = http()
        .post(format!("{base}/subscriptions"))
        .bearer_auth(&token)
        .json(&subscription)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    let foreign = http()
        .post(format!("{base}/subscriptions"))
        .bearer_auth(&token)
        .header("X-AppinstanceID", OTHER)
        .json(&subscription)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 401);
    // The header of the path's app with another app's token: refused too.
    let other_token = app_token(&mep, OTHER).await;
    let borrowed = http()
        .get(format!("{base}/subscriptions"))
        .bearer_auth(&other_token)
        .header("X-AppinstanceID", APP)
        .send()
        .await
        .unwrap();
    assert_eq!(borrowed.status(), 401);
    // The example gives serInstanceIds, serNames and serCategories at once, which EdgeGallery ORs and MEC 011
    // forbids: refused in both profiles, naming the members (a difference the README lists).
    let all_three = http()
        .post(format!("{base}/subscriptions"))
        .bearer_auth(&token)
        .header("X-AppinstanceID", APP)
        .json(&subscription)
        .send()
        .await
        .unwrap();
    let (status, why) = detail(all_three).await;
    assert_eq!(status, 400);
    assert!(why.contains("serNames"), "{why}");
    let mut subscription = subscription;
    let criteria = subscription["filteringCriteria"].as_object_mut().unwrap();
    criteria.remove("serInstanceIds");
    criteria.remove("serCategories");
    let created = http()
        .post(format!("{base}/subscriptions"))
        .bearer_auth(&token)
        .header("X-AppinstanceID", APP)
        .json(&subscription)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let listed = http()
        .get(format!("{base}/subscriptions"))
        .bearer_auth(&token)
        .header("X-AppinstanceID", APP)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let gone = http()
        .delete(format!("{}/mep{location}", mep.url()))
        .bearer_auth(&token)
        .header("X-AppinstanceID", APP)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
}

#[tokio::test]
async fn the_etsi_profile_needs_no_header_and_writes_absolute_links() {
    let mep = mock(Profile::Etsi).await;
    let token = app_token(&mep, APP).await;
    let created = http()
        .post(format!(
            "{}/mec_app_support/v1/applications/{APP}/subscriptions",
            mep.mep_url()
        ))
        .bearer_auth(&token)
        .json(&json!({
            "subscriptionType": "AppTerminationNotificationSubscription",
            "callbackReference": "http://127.0.0.1:9/t",
            "appInstanceId": APP
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with(&format!("{}/mec_app_support/", mep.mep_url())),
        "{location}"
    );
}

#[tokio::test]
async fn our_mp1_client_sends_the_app_instance_header_and_is_served() {
    let mep = mock(Profile::EdgeGallery).await;
    assert_eq!(
        mm5(
            &mep,
            Method::POST,
            Some(&mepm_config("face", 1, "PASSTHROUGH"))
        )
        .await
        .status(),
        200
    );
    let client = mec_mp1::client::Client::builder(mep.mep_url())
        .aksk(mep.credentials(APP).unwrap())
        .build()
        .unwrap();
    let app = client.app(APP);
    let rules = app.dns_rules().list().await.unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(app.traffic_rules().list().await.unwrap().len(), 1);
    assert!(app.termination_subscriptions().list().await.is_ok());
}
