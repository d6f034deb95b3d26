//! Every Mp1 client operation against wiremock: method, path (ETSI root and EdgeGallery's `/mep` root), query,
//! headers and body as sent, and the answer (including EdgeGallery's wire forms) as decoded.

#![allow(clippy::unwrap_used)]

use mec_mp1::client::{Client, LivenessMethod, ServiceQuery};
use mec_mp1::model::*;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";

async fn server_and_client(root: &str) -> (MockServer, Client) {
    let server = MockServer::start().await;
    let client = Client::builder(format!("{}{root}", server.uri()))
        .bearer_token("tok")
        .build()
        .unwrap();
    (server, client)
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn service_json() -> Value {
    json!({"serName": "rni", "version": "1.0", "state": "ACTIVE", "serializer": "JSON",
           "transportInfo": {"id": "t", "name": "REST", "type": "REST_HTTP", "protocol": "HTTP", "version": "2.0",
                             "endpoint": {"addresses": [{"host": "10.0.0.1", "port": 8080}]}, "security": {}}})
}

fn service() -> ServiceInfo {
    serde_json::from_value(service_json()).unwrap()
}

#[tokio::test]
async fn discovery_sends_filters_as_repeated_keys_and_the_bearer_token() {
    for root in ["", "/mep"] {
        let (server, client) = server_and_client(root).await;
        Mock::given(method("GET"))
            .and(path(format!("{root}/mec_service_mgmt/v1/services")))
            .and(header("authorization", "Bearer tok"))
            .and(query_param("ser_name", "a"))
            .and(query_param("is_local", "true"))
            .and(query_param("scope_of_locality", "MEC_HOST"))
            .and(query_param("consumed_local_only", "false"))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(format!("[{}]\n", service_json())),
            )
            .expect(1)
            .mount(&server)
            .await;
        let found = client
            .services()
            .list(
                &ServiceQuery::new()
                    .ser_name("a")
                    .is_local(true)
                    .scope_of_locality(LocalityType::MecHost)
                    .consumed_local_only(false),
            )
            .await
            .unwrap();
        assert_eq!(found[0].ser_name, "rni");
        let requests = server.received_requests().await.unwrap();
        assert_eq!(
            requests[0]
                .url
                .query_pairs()
                .filter(|(k, _)| k == "ser_name")
                .count(),
            1
        );
    }
}

#[tokio::test]
async fn discovery_reads_edgegallerys_null_and_refuses_exclusive_filters() {
    let (server, client) = server_and_client("/mep").await;
    Mock::given(method("GET"))
        .and(path("/mep/mec_service_mgmt/v1/services"))
        .and(query_param("ser_instance_id", "x"))
        .and(query_param_is_missing("ser_name"))
        .respond_with(ResponseTemplate::new(200).set_body_string("null\n"))
        .mount(&server)
        .await;
    assert!(
        client
            .services()
            .list(&ServiceQuery::new().ser_instance_id("x"))
            .await
            .unwrap()
            .is_empty()
    );
    let e = client
        .services()
        .list(&ServiceQuery::new().ser_name("a").ser_category_id("b"))
        .await
        .unwrap_err();
    assert!(matches!(e, mec_mp1::Error::InvalidRequest(_)));
}

#[tokio::test]
async fn one_service_with_its_etag_and_transports() {
    let (server, client) = server_and_client("").await;
    Mock::given(method("GET"))
        .and(path("/mec_service_mgmt/v1/services/abc"))
        .respond_with(ok(service_json()).insert_header("etag", "\"e1\""))
        .mount(&server)
        .await;
    // EdgeGallery's transports answer (mepserver mp1/controller_test.go writeTransport).
    Mock::given(method("GET"))
        .and(path("/mec_service_mgmt/v1/transports"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "[{\"id\":\"0bc92b06cc213d2ad8beda71bd0e1460\",\"name\":\"REST\",\"description\":\"REST API\",\"type\":\"REST_HTTP\",\"protocol\":\"HTTP\",\"version\":\"2.0\",\"endpoint\":{\"uris\":null,\"addresses\":null,\"alternative\":null},\"security\":{\"oAuth2Info\":{\"grantTypes\":[\"OAUTH2_CLIENT_CREDENTIALS\"],\"tokenEndpoint\":\"/mep/token\"}}}]\n",
        ))
        .mount(&server)
        .await;
    let one = client.services().get("abc").await.unwrap();
    assert_eq!(one.etag.as_deref(), Some("\"e1\""));
    let t = client.transports().list().await.unwrap();
    assert_eq!(t[0].endpoint, EndPointInfo::Uris(vec![]));
    assert_eq!(
        t[0].security.o_auth2_info.as_ref().unwrap().grant_types,
        [GrantType::Oauth2ClientCredentials]
    );
}

#[tokio::test]
async fn app_services_register_list_get_update_delete() {
    let (server, client) = server_and_client("/mep").await;
    let base = format!("/mep/mec_service_mgmt/v1/applications/{APP}/services");
    let mut created = service_json();
    created["serInstanceId"] = json!("s1");
    Mock::given(method("POST"))
        .and(path(base.as_str()))
        .and(header("content-type", "application/json"))
        .and(body_json(service_json()))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(&created)
                .insert_header("location", "/mep/mp1/v1/services/s1"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(base.as_str()))
        .and(query_param("ser_category_id", "RNI"))
        .respond_with(ok(json!([created.clone()])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/s1")))
        .respond_with(ok(created.clone()).insert_header("etag", "\"v1\""))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{base}/s1")))
        .and(header("if-match", "\"v1\""))
        .and(body_json(service_json()))
        .respond_with(ok(created.clone()).insert_header("etag", "\"v2\""))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{base}/s1")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let services = client.app(APP).services();
    let c = services.register(&service()).await.unwrap();
    assert_eq!(c.resource.ser_instance_id.as_deref(), Some("s1"));
    assert_eq!(c.location.as_deref(), Some("/mep/mp1/v1/services/s1"));
    assert_eq!(
        services
            .list(&ServiceQuery::new().ser_category_id("RNI"))
            .await
            .unwrap()
            .len(),
        1
    );
    // Ids are typed or plain strings, as the caller holds them.
    let id = ServiceId::from(c.resource.ser_instance_id.clone().unwrap());
    let got = services.get(&id).await.unwrap();
    let updated = services
        .update(id, &service(), got.etag.as_deref())
        .await
        .unwrap();
    assert_eq!(updated.etag.as_deref(), Some("\"v2\""));
    services.delete("s1").await.unwrap();
}

#[tokio::test]
async fn liveness_and_heartbeats_by_patch_put_and_link() {
    let server = MockServer::start().await;
    let live = format!("/mep/mec_service_mgmt/v1/applications/{APP}/services/s1/liveness");
    Mock::given(method("GET"))
        .and(path(live.as_str()))
        .respond_with(ok(json!({"state": "ACTIVE", "timeStamp": {"seconds": 1, "nanoSeconds": 2}, "interval": 60})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(live.as_str()))
        .and(body_json(json!({"state": "ACTIVE"})))
        .respond_with(ok(json!({"state": "ACTIVE", "timeStamp": {"seconds": 3, "nanoSeconds": 0}, "interval": 30})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(live.as_str()))
        .and(body_json(json!({"state": "ACTIVE"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(2)
        .mount(&server)
        .await;
    let etsi = Client::builder(format!("{}/mep", server.uri()))
        .build()
        .unwrap();
    let eg = Client::builder(format!("{}/mep", server.uri()))
        .liveness_method(LivenessMethod::Put)
        .build()
        .unwrap();
    let info = etsi.app(APP).services().liveness("s1").await.unwrap();
    assert_eq!((info.interval, info.time_stamp.nano_seconds), (60, 2));
    assert_eq!(
        etsi.app(APP)
            .services()
            .heartbeat("s1")
            .await
            .unwrap()
            .unwrap()
            .interval,
        30
    );
    assert_eq!(eg.app(APP).services().heartbeat("s1").await.unwrap(), None);
    // EdgeGallery's `_links.self.liveness`, rooted at the server.
    let registered: ServiceInfo = serde_json::from_value(json!({
        "serInstanceId": "s1", "serName": "rni", "version": "1", "state": "ACTIVE", "serializer": "JSON",
        "livenessInterval": 60, "_links": {"self": {"liveness": live.clone()}, "appInstanceId": APP}
    }))
    .unwrap();
    let uri = registered.liveness_uri().unwrap();
    assert_eq!(
        eg.app(APP).services().heartbeat_at(uri).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn subscriptions_of_both_kinds() {
    let (server, client) = server_and_client("").await;
    let sm = format!("/mec_service_mgmt/v1/applications/{APP}/subscriptions");
    let asp = format!("/mec_app_support/v1/applications/{APP}/subscriptions");
    let avail = SerAvailabilityNotificationSubscription::new("http://10.0.0.9/cb");
    let term = AppTerminationNotificationSubscription::new("http://10.0.0.9/cb", APP);
    Mock::given(method("POST"))
        .and(path(sm.as_str()))
        .and(body_json(json!({"subscriptionType": "SerAvailabilityNotificationSubscription", "callbackReference": "http://10.0.0.9/cb"})))
        .respond_with(ResponseTemplate::new(201)
            .set_body_json(json!({"subscriptionType": "SerAvailabilityNotificationSubscription", "callbackReference": "http://10.0.0.9/cb", "_links": {"self": {"href": format!("{sm}/1")}}}))
            .insert_header("location", format!("{sm}/1").as_str()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(asp.as_str()))
        .and(body_json(json!({"subscriptionType": "AppTerminationNotificationSubscription", "callbackReference": "http://10.0.0.9/cb", "appInstanceId": APP})))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::to_value(&term).unwrap()).insert_header("location", format!("{asp}/2").as_str()))
        .expect(1)
        .mount(&server)
        .await;
    // 2.1.1's `rel` and 3.x's `subscriptionType`, EdgeGallery's answer without /mep.
    Mock::given(method("GET"))
        .and(path(sm.as_str()))
        .respond_with(ok(json!({"_links": {"self": {"href": sm}, "subscriptions": [{"href": format!("{sm}/1"), "rel": "SerAvailabilityNotificationSubscription"}]}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(asp.as_str()))
        .respond_with(ok(
            json!({"_links": {"self": {"href": asp}, "subscriptions": null}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{sm}/1")))
        .respond_with(ok(serde_json::to_value(&avail).unwrap()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{asp}/2")))
        .respond_with(ok(serde_json::to_value(&term).unwrap()))
        .mount(&server)
        .await;
    for p in [format!("{sm}/1"), format!("{asp}/2")] {
        Mock::given(method("DELETE"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
    }
    let app = client.app(AppInstanceId::from(APP));
    let c = app.service_subscriptions().create(&avail).await.unwrap();
    assert_eq!(c.location.as_deref(), Some(format!("{sm}/1").as_str()));
    assert_eq!(c.resource.links.unwrap().self_.href, format!("{sm}/1"));
    assert_eq!(
        app.termination_subscriptions()
            .create(&term)
            .await
            .unwrap()
            .location,
        Some(format!("{asp}/2"))
    );
    let list = app.service_subscriptions().list().await.unwrap();
    assert_eq!(
        list.links.subscriptions[0].rel.as_deref(),
        Some("SerAvailabilityNotificationSubscription")
    );
    assert!(
        app.termination_subscriptions()
            .list()
            .await
            .unwrap()
            .links
            .subscriptions
            .is_empty()
    );
    assert_eq!(app.service_subscriptions().get("1").await.unwrap(), avail);
    assert_eq!(
        app.termination_subscriptions().get("2").await.unwrap(),
        term
    );
    app.service_subscriptions().delete("1").await.unwrap();
    app.termination_subscriptions().delete("2").await.unwrap();
}

#[tokio::test]
async fn dns_and_traffic_rules_with_etags_and_edgegallery_bodies() {
    let (server, client) = server_and_client("/mep").await;
    let base = format!("/mep/mec_app_support/v1/applications/{APP}");
    // mepserver's own answers (mp1/controller_test.go), trailing newline included.
    let dns = "{\"dnsRuleId\":\"7d71e54e-81f3-47bb-a2fc-b565a326d794\",\"domainName\":\"www.example.com\",\"ipAddressType\":\"IP_V4\",\"ipAddress\":\"192.0.2.1\",\"ttl\":30,\"state\":\"ACTIVE\"}\n";
    let traffic = "{\"trafficRuleId\":\"8ft68t22-81f3-47bb-a2fc-56996er4tf37\",\"filterType\":\"FLOW\",\"priority\":5,\"trafficFilter\":null,\"action\":\"DROP\",\"dstInterface\":null,\"state\":\"ACTIVE\"}\n";
    Mock::given(method("GET"))
        .and(path(format!("{base}/dns_rules")))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!("[{}]", dns.trim())))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "{base}/dns_rules/7d71e54e-81f3-47bb-a2fc-b565a326d794"
        )))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(dns)
                .insert_header("etag", "\"d1\""),
        )
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{base}/dns_rules/7d71e54e-81f3-47bb-a2fc-b565a326d794")))
        .and(header("if-match", "\"d1\""))
        .and(body_json(json!({"dnsRuleId": "7d71e54e-81f3-47bb-a2fc-b565a326d794", "domainName": "www.example.com", "ipAddressType": "IP_V4", "ipAddress": "192.0.2.1", "ttl": 30, "state": "INACTIVE"})))
        .respond_with(ResponseTemplate::new(200).set_body_string(dns.replace("ACTIVE", "INACTIVE")).insert_header("etag", "\"d2\""))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/traffic_rules")))
        .respond_with(ResponseTemplate::new(200).set_body_string("null"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "{base}/traffic_rules/8ft68t22-81f3-47bb-a2fc-56996er4tf37"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_string(traffic))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{base}/traffic_rules/8ft68t22-81f3-47bb-a2fc-56996er4tf37")))
        .and(body_json(json!({"trafficRuleId": "8ft68t22-81f3-47bb-a2fc-56996er4tf37", "filterType": "FLOW", "priority": 5, "trafficFilter": [], "action": "DROP", "state": "INACTIVE"})))
        .respond_with(ResponseTemplate::new(200).set_body_string(traffic.replace("ACTIVE", "INACTIVE")))
        .expect(1)
        .mount(&server)
        .await;
    let app = client.app(APP);
    assert_eq!(app.dns_rules().list().await.unwrap().len(), 1);
    let tagged = app
        .dns_rules()
        .get("7d71e54e-81f3-47bb-a2fc-b565a326d794")
        .await
        .unwrap();
    let mut rule = tagged.value.clone();
    rule.state = RuleState::Inactive;
    let put = app
        .dns_rules()
        .update(&rule.dns_rule_id, &rule, tagged.etag.as_deref())
        .await
        .unwrap();
    assert_eq!(
        (put.value.state, put.etag.as_deref()),
        (RuleState::Inactive, Some("\"d2\""))
    );
    assert!(app.traffic_rules().list().await.unwrap().is_empty());
    let mut t = app
        .traffic_rules()
        .get("8ft68t22-81f3-47bb-a2fc-56996er4tf37")
        .await
        .unwrap()
        .value;
    assert!(t.traffic_filter.is_empty() && t.dst_interface.is_empty());
    t.state = RuleState::Inactive;
    assert_eq!(
        app.traffic_rules()
            .update(&t.traffic_rule_id.clone(), &t, None)
            .await
            .unwrap()
            .value
            .state,
        RuleState::Inactive
    );
}

#[tokio::test]
async fn confirmations_timing_and_registrations() {
    let (server, client) = server_and_client("").await;
    let asp = format!("/mec_app_support/v1/applications/{APP}");
    Mock::given(method("POST"))
        .and(path(format!("{asp}/confirm_ready")))
        .and(body_json(json!({"indication": "READY"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{asp}/confirm_termination")))
        .and(body_json(json!({"operationAction": "STOPPING"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET")).and(path("/mec_app_support/v1/timing/current_time"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"seconds\":1623770544,\"nanoSeconds\":468538768,\"timeSourceStatus\":\"TRACEABLE\"}\n"))
        .mount(&server).await;
    Mock::given(method("GET")).and(path("/mec_app_support/v1/timing/timing_caps"))
        .respond_with(ok(json!({"timeStamp": {"seconds": 1, "nanoSeconds": 0}, "ntpServers": [{"ntpServerAddrType": "DNS_NAME", "ntpServerAddr": "mep-ntp", "minPollingInterval": 4, "maxPollingInterval": 17, "localPriority": 1, "authenticationOption": "NONE", "authenticationKeyNum": 0}]})))
        .mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/mec_app_support/v1/registrations"))
        .and(body_json(json!({"appName": "demo"})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"appName": "demo", "appInstanceId": "r1"}))
                .insert_header("location", "/mec_app_support/v1/registrations/r1"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/mec_app_support/v1/registrations/r1"))
        .respond_with(ok(
            json!({"appName": "demo", "appInstanceId": "r1", "appDId": "d"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/mec_app_support/v1/registrations/r1"))
        .and(body_json(json!({"appName": "demo2"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/mec_app_support/v1/registrations/r1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    client.app(APP).confirm_ready().await.unwrap();
    client
        .app(APP)
        .confirm_termination(OperationAction::Stopping)
        .await
        .unwrap();
    let now = client.timing().current_time().await.unwrap();
    assert_eq!(
        (now.seconds, now.time_source_status),
        (1_623_770_544, TimeSourceStatus::Traceable)
    );
    assert_eq!(
        client.timing().timing_caps().await.unwrap().ntp_servers[0].ntp_server_addr,
        "mep-ntp"
    );
    let reg = client.registrations();
    let created = reg.create(&AppInfo::new("demo")).await.unwrap();
    assert_eq!(created.resource.app_instance_id.as_deref(), Some("r1"));
    assert_eq!(reg.get("r1").await.unwrap().app_d_id.as_deref(), Some("d"));
    reg.update("r1", &AppInfo::new("demo2")).await.unwrap();
    reg.delete("r1").await.unwrap();
}

#[tokio::test]
async fn app_support_v2_root_for_3x_meps() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/mec_app_support/v2/timing/current_time"))
        .respond_with(ok(
            json!({"seconds": 5, "nanoSeconds": 0, "timeSourceStatus": "NONTRACEABLE"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .app_support_version("v2")
        .build()
        .unwrap();
    assert_eq!(client.timing().current_time().await.unwrap().seconds, 5);
}

#[tokio::test]
async fn errors_map_to_predicates_and_ids_are_escaped() {
    let (server, client) = server_and_client("/mep").await;
    Mock::given(method("GET"))
        .and(path("/mep/mec_app_support/v1/applications/a%2Fb/dns_rules/x"))
        .respond_with(ResponseTemplate::new(404).set_body_raw("{\"title\":\"Can not found resource\",\"status\":5,\"detail\":\"dns rule retrieval failed\"}\n", "text/plain"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/mep/mec_app_support/v1/applications/busy/confirm_ready",
        ))
        .respond_with(ResponseTemplate::new(409).set_body_raw(
            r#"{"type":"about:blank","title":"Conflict","status":409,"detail":"busy"}"#,
            "application/problem+json",
        ))
        .mount(&server)
        .await;
    let e = client.app("a/b").dns_rules().get("x").await.unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(e.problem().unwrap().status, 5);
    let e = client.app("busy").confirm_ready().await.unwrap_err();
    assert!(e.is_conflict() && !e.is_retryable());
}

#[tokio::test]
async fn a_refused_update_is_a_failed_precondition() {
    let (server, client) = server_and_client("/mep").await;
    Mock::given(method("PUT"))
        .and(path("/mep/mec_app_support/v1/applications/a/dns_rules/r"))
        .and(header("if-match", "\"old\""))
        .respond_with(ResponseTemplate::new(412).set_body_raw(
            r#"{"title":"Precondition Failed","status":412,"detail":"changed meanwhile"}"#,
            "application/problem+json",
        ))
        .mount(&server)
        .await;
    let rule: mec_mp1::model::DnsRule = serde_json::from_value(serde_json::json!({
        "dnsRuleId": "r", "domainName": "x.example", "ipAddressType": "IP_V4",
        "ipAddress": "10.0.0.1", "ttl": 30, "state": "ACTIVE"
    }))
    .unwrap();
    let e = client
        .app("a")
        .dns_rules()
        .update("r", &rule, Some("\"old\""))
        .await
        .unwrap_err();
    assert!(e.is_precondition_failed() && !e.is_conflict(), "{e}");
    assert_eq!(e.status(), Some(412));
    assert_eq!(e.problem().unwrap().detail, "changed meanwhile");
    let e = client
        .app("a")
        .dns_rules()
        .update("r", &rule, Some("bad\nvalue"))
        .await
        .unwrap_err();
    assert!(e.is_invalid_request() && e.status().is_none(), "{e}");
}

#[tokio::test]
async fn a_transport_error_says_its_cause_once() {
    // Nothing listens on port 1 of the loopback address: the connection is refused.
    let client = Client::builder("http://127.0.0.1:1").build().unwrap();
    let e = client.transports().list().await.unwrap_err();
    assert!(
        e.is_transport() && e.is_retryable() && !e.is_timeout(),
        "{e}"
    );
    assert!(e.status().is_none() && e.problem().is_none());
    let deepest = {
        let mut c: &dyn std::error::Error = &e;
        while let Some(next) = c.source() {
            c = next;
        }
        c.to_string()
    };
    let shown = e.to_string();
    assert!(!shown.contains(&deepest), "{shown}");
    let report = e.report();
    assert_eq!(report.matches(&deepest).count(), 1, "{report}");
    assert!(report.starts_with(&shown), "{report}");
}
