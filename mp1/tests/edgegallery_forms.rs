//! What EdgeGallery's MEP writes, fed through the client: no answer fails as a whole because one member holds a
//! value a strict reader would refuse (`""` for an absent enum or address, all-empty structs, unknown values).
//! The bodies are written from the forms mepserver produces (its Go models are value structs, so every member is
//! emitted; see shared/reference/edgegallery-mep.md §1.2, §5, §7 T7, §9).

#![allow(clippy::unwrap_used)]

use mec_mp1::client::{Client, ServiceQuery};
use mec_mp1::model::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";

async fn serving(route: &str, body: Value) -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(route))
        // mepserver ends every JSON body with a newline.
        .respond_with(ResponseTemplate::new(200).set_body_string(format!("{body}\n")))
        .mount(&server)
        .await;
    let client = Client::builder(format!("{}/mep", server.uri()))
        .bearer_token("tok")
        .build()
        .unwrap();
    (server, client)
}

/// A service as mepserver lists it after a registration without transport information, and one as its own
/// unit-test fixture writes (state and serializer empty, grant types `[""]`, an empty `_links.self`).
fn edgegallery_services() -> Value {
    json!([
        {"serInstanceId": "0bc92b06cc213d2ad8beda71bd0e1460", "serName": "bare",
         "serCategory": {"href": "", "id": "", "name": "", "version": ""},
         "version": "1.0", "state": "ACTIVE", "transportId": "",
         "transportInfo": {"id": "", "name": "", "description": "", "type": "", "protocol": "", "version": "",
                           "endpoint": {"uris": null, "addresses": null, "alternative": null},
                           "security": {"oAuth2Info": {"grantTypes": [""], "tokenEndpoint": ""}}},
         "serializer": "JSON", "scopeOfLocality": "", "livenessInterval": 0,
         "_links": {"self": {}, "appInstanceId": APP}},
        {"serInstanceId": "16384563dca094183778a41ea7701d15", "serName": "fixture",
         "serCategory": {"href": "/example/catalogue1", "id": "id12345", "name": "RNI", "version": "1.2.2"},
         "version": "3.2.1", "state": "", "transportId": "Rest1",
         "transportInfo": {"id": "Rest1", "name": "REST", "description": "REST API", "type": "REST_HTTP",
                           "protocol": "HTTP", "version": "2.0",
                           "endpoint": {"uris": ["https://mep-api-gw.mep:8443/fixture95f7b8c4ba3b4ee6a0f1"],
                                        "addresses": null, "alternative": null},
                           "security": {"oAuth2Info": {"grantTypes": [""], "tokenEndpoint": ""}}},
         "serializer": "", "scopeOfLocality": "MEC_HOST", "consumedLocalOnly": true, "isLocal": true,
         "livenessInterval": 60,
         "_links": {"self": {"liveness": format!("/mep/mec_service_mgmt/v1/applications/{APP}/services/16384563dca094183778a41ea7701d15/liveness")},
                    "appInstanceId": APP}},
        {"serInstanceId": "26384563dca094183778a41ea7701d15", "serName": "future", "version": "1",
         "state": "HIBERNATING", "serializer": "CBOR", "scopeOfLocality": "PLANET",
         "transportInfo": {"id": "t", "name": "n", "type": "QUIC_STREAMS", "protocol": "QUIC", "version": "1",
                           "endpoint": {"uris": ["https://x"]}, "security": {}}}
    ])
}

#[tokio::test]
async fn discovery_reads_every_service_edgegallery_lists() {
    let (_server, client) =
        serving("/mep/mec_service_mgmt/v1/services", edgegallery_services()).await;
    let found = client.services().list(&ServiceQuery::new()).await.unwrap();
    assert_eq!(found.len(), 3);

    let bare = &found[0];
    assert_eq!(bare.ser_category, None, "an all-empty category is absent");
    assert_eq!(bare.transport_id, None, "an empty transportId is absent");
    assert_eq!(
        bare.transport_info, None,
        "an all-empty transport is absent"
    );
    assert_eq!(bare.scope_of_locality, None, "an empty scope is absent");

    let fixture = &found[1];
    assert_eq!(fixture.state, ServiceState::Unknown(String::new()));
    assert_eq!(fixture.serializer, SerializerType::Unknown(String::new()));
    assert_eq!(
        fixture.liveness_uri(),
        Some(
            "/mep/mec_service_mgmt/v1/applications/5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f/services/16384563dca094183778a41ea7701d15/liveness"
        )
    );
    let transport = fixture.transport_info.as_ref().unwrap();
    assert_eq!(
        transport
            .security
            .o_auth2_info
            .as_ref()
            .unwrap()
            .grant_types,
        [GrantType::Unknown(String::new())]
    );

    let future = &found[2];
    assert_eq!(future.state, ServiceState::Unknown("HIBERNATING".into()));
    assert_eq!(future.serializer, SerializerType::Unknown("CBOR".into()));
    assert_eq!(
        future.scope_of_locality,
        Some(LocalityType::Unknown("PLANET".into()))
    );
    assert_eq!(
        future.transport_info.as_ref().unwrap().type_,
        TransportType::Unknown("QUIC_STREAMS".into())
    );
    // Unknown values are written back as they came.
    let again = serde_json::to_value(future).unwrap();
    assert_eq!(again["state"], "HIBERNATING");
    assert_eq!(again["transportInfo"]["type"], "QUIC_STREAMS");
}

/// A traffic rule as mepserver returns it: every destination interface carries a value-struct `tunnelInfo`
/// (empty unless the interface is a tunnel) and may carry an empty `interfaceType`; MAC and IP members are
/// always there, empty when unused.
fn edgegallery_traffic_rules() -> Value {
    let empty_tunnel = json!({"tunnelType": "", "tunnelDstAddress": "", "tunnelSrcAddress": ""});
    json!([
        {"trafficRuleId": "TrafficRule1", "filterType": "FLOW", "priority": 1,
         "trafficFilter": [{"srcAddress": ["192.168.1.1/28"], "dstAddress": null, "srcPort": ["8080"],
                            "dstPort": null, "protocol": ["tcp"], "tag": null, "srcTunnelAddress": null,
                            "tgtTunnelAddress": null, "srcTunnelPort": null, "dstTunnelPort": null,
                            "qCI": 1, "dSCP": 0, "tC": 1}],
         "action": "FORWARD_DECAPSULATED",
         "dstInterface": [
            {"interfaceType": "IP", "tunnelInfo": empty_tunnel, "srcMacAddress": "", "dstMacAddress": "",
             "dstIpAddress": "20.1.1.1"},
            {"interfaceType": "", "tunnelInfo": empty_tunnel, "srcMacAddress": "", "dstMacAddress": "",
             "dstIpAddress": ""}],
         "state": "ACTIVE"},
        {"trafficRuleId": "TrafficRule2", "filterType": "PACKET", "priority": 2, "trafficFilter": null,
         "action": "FORWARD_ENCAPSULATED",
         "dstInterface": [
            {"interfaceType": "TUNNEL",
             "tunnelInfo": {"tunnelType": "GTP_U", "tunnelDstAddress": "10.1.1.1", "tunnelSrcAddress": ""},
             "srcMacAddress": "", "dstMacAddress": "", "dstIpAddress": ""}],
         "state": ""},
        {"trafficRuleId": "8ft68t22-81f3-47bb-a2fc-56996er4tf37", "filterType": "FLOW", "priority": 5,
         "trafficFilter": null, "action": "DROP", "dstInterface": null, "state": "ACTIVE"}
    ])
}

#[tokio::test]
async fn traffic_rules_read_edgegallerys_destination_interfaces() {
    let (_server, client) = serving(
        &format!("/mep/mec_app_support/v1/applications/{APP}/traffic_rules"),
        edgegallery_traffic_rules(),
    )
    .await;
    let rules = client.app(APP).traffic_rules().list().await.unwrap();
    assert_eq!(rules.len(), 3);

    let ip = &rules[0].dst_interface[0];
    assert_eq!(ip.interface_type, InterfaceType::Ip);
    assert_eq!(ip.tunnel_info, None, "an all-empty tunnel is absent");
    assert_eq!(ip.src_mac_address, None);
    assert_eq!(ip.dst_ip_address.as_deref(), Some("20.1.1.1"));
    let blank = &rules[0].dst_interface[1];
    assert_eq!(blank.interface_type, InterfaceType::Unknown(String::new()));
    assert_eq!(blank.dst_ip_address, None);

    let tunnel = rules[1].dst_interface[0].tunnel_info.as_ref().unwrap();
    assert_eq!(tunnel.tunnel_type, TunnelType::GtpU);
    assert_eq!(tunnel.tunnel_dst_address.as_deref(), Some("10.1.1.1"));
    assert_eq!(tunnel.tunnel_src_address, None);
    assert_eq!(rules[1].state, RuleState::Unknown(String::new()));

    assert!(rules[2].dst_interface.is_empty());
}

#[test]
fn the_mepm_rule_form_reads_its_tunnel_and_drops_empty_addresses() {
    // mecm-apprulemgr re-marshals its own struct: `TunnelInfo` without a JSON tag (capital T), empty strings for
    // unused addresses, `dstTunnelAddress` for the target tunnel address, ids of its own database rows.
    let body = br#"{"trafficRuleId":"r1","filterType":"FLOW","priority":1,"action":"PASSTHROUGH",
        "trafficFilter":[{"trafficFilterId":"f1","srcAddress":["10.0.0.0/24"],"dstTunnelAddress":["10.9.9.9"],
                          "qCI":0,"dSCP":0,"tC":0}],
        "dstInterface":[{"dstInterfaceId":"i1","interfaceType":"TUNNEL","srcMacAddress":"","dstMacAddress":"",
                         "dstIpAddress":"","TunnelInfo":{"tunnelInfoId":"t1","tunnelType":"GRE",
                         "tunnelDstAddress":"10.2.2.2","tunnelSrcAddress":"10.3.3.3","tunnelSpecificData":""}}]}"#;
    let rule: TrafficRule = serde_json::from_slice(body).unwrap();
    rule.validate().unwrap();
    let i = &rule.dst_interface[0];
    assert_eq!(i.tunnel_info.as_ref().unwrap().tunnel_type, TunnelType::Gre);
    assert_eq!((&i.src_mac_address, &i.dst_ip_address), (&None, &None));
    assert_eq!(rule.traffic_filter[0].tgt_tunnel_address, ["10.9.9.9"]);
    // The same through the case-insensitive reader servers use, with keys in other cases still.
    let lower = String::from_utf8_lossy(body).replace("\"TunnelInfo\"", "\"TUNNELINFO\"");
    let rule: TrafficRule = mec_core::wire::from_slice_ignoring_case(lower.as_bytes()).unwrap();
    assert!(rule.dst_interface[0].tunnel_info.is_some());
}

#[tokio::test]
async fn notifications_read_edgegallerys_forms() {
    // AppTerminationNotification with string links; a REMOVED availability reference with an empty link.
    let n: Notification = serde_json::from_value(json!({
        "notificationType": "AppTerminationNotification", "operationAction": "TERMINATING",
        "maxGracefulTimeout": 5,
        "_links": {"subscription": format!("/mep/mec_app_support/v1/applications/{APP}/subscriptions/s1"),
                   "confirmTermination": format!("/mep/mec_app_support/v1/applications/{APP}/confirm_termination")}}))
    .unwrap();
    assert!(matches!(n, Notification::AppTermination(ref t) if t.max_graceful_timeout == 5));
    let n: Notification = serde_json::from_value(json!({
        "notificationType": "SerAvailabilityNotification",
        "serviceReferences": [{"link": {}, "serName": "a", "serInstanceId": "0bc92b06cc213d2ad8beda71bd0e1460",
                               "state": "", "changeType": "REMOVED"}],
        "_links": {"subscription": {"href": "/mec_service_mgmt/v1/applications/x/subscriptions/y"}}}))
    .unwrap();
    let Notification::ServiceAvailability(n) = n else {
        panic!("not an availability notification")
    };
    assert_eq!(n.service_references[0].link, None);
    assert_eq!(n.service_references[0].change_type, ChangeType::Removed);
}
