//! The Mp1 model: the spec's own examples and EdgeGallery's wire forms round-trip; bad bodies fail to decode;
//! every validation rule names the member at fault.

#![allow(clippy::unwrap_used)]

use mec_mp1::model::*;
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Decodes, encodes, and compares with `expected` (defaults to the input).
fn round_trip<T: Serialize + DeserializeOwned + std::fmt::Debug + PartialEq>(
    input: Value,
    expected: Option<Value>,
) -> T {
    let decoded: T = serde_json::from_value(input.clone()).unwrap();
    let encoded = serde_json::to_value(&decoded).unwrap();
    assert_eq!(encoded, expected.unwrap_or(input));
    let again: T = serde_json::from_value(encoded).unwrap();
    assert_eq!(again, decoded);
    decoded
}

// ---- ETSI GS MEC 011 V2.1.1 examples (MecServiceMgmtApi.json / MecAppSupportApi.json `components/examples`) ----

#[test]
fn constructors_write_what_the_wire_forms_read() {
    let rule =
        DnsRule::new("dns1", "www.example.com", IpAddressType::IpV4, "192.0.2.1").with_ttl(30);
    assert_eq!(
        serde_json::to_value(&rule).unwrap(),
        json!({"dnsRuleId": "dns1", "domainName": "www.example.com", "ipAddressType": "IP_V4",
               "ipAddress": "192.0.2.1", "ttl": 30, "state": "ACTIVE"})
    );
    let rule = TrafficRule::new(
        "tr1",
        FilterType::Flow,
        5,
        vec![TrafficFilter::new().with_dst_port(vec!["8080".into()])],
        TrafficAction::ForwardDecapsulated,
    )
    .with_dst_interface(DestinationInterface::ip("198.51.100.7"));
    let back: TrafficRule = serde_json::from_value(json!({
        "trafficRuleId": "tr1", "filterType": "FLOW", "priority": 5,
        "trafficFilter": [{"dstPort": ["8080"]}], "action": "FORWARD_DECAPSULATED",
        "dstInterface": [{"interfaceType": "IP", "dstIpAddress": "198.51.100.7"}]
    }))
    .unwrap();
    assert_eq!(rule, back);

    let availability = ServiceAvailabilityNotification::new(
        "http://mep/subscriptions/1",
        vec![
            ServiceReference::new("rnis", "s1", ServiceState::Active, ChangeType::Added)
                .with_link("http://mep/services/s1"),
        ],
    );
    let termination = AppTerminationNotification::new(
        OperationAction::Terminating,
        10,
        AppTerminationNotificationLinks::new("http://mep/subscriptions/2")
            .with_confirm_termination("http://mep/confirm_termination"),
    );
    for n in [
        Notification::ServiceAvailability(availability),
        Notification::AppTermination(termination),
    ] {
        let read: Notification = serde_json::from_value(serde_json::to_value(&n).unwrap()).unwrap();
        assert_eq!(read, n);
    }

    let app = AppInfo::new("demo")
        .with_provider("acme")
        .with_service_required(ServiceDependency::new("rnis", "2.0"))
        .with_app_instance_id("a1");
    assert_eq!(
        serde_json::to_value(&app).unwrap(),
        json!({"appName": "demo", "appProvider": "acme", "appInstanceId": "a1",
               "appServiceRequired": [{"serName": "rnis", "version": "2.0"}]})
    );
    let caps =
        TimingCaps::new().with_ntp_server(NtpServer::new(NtpServerAddrType::DnsName, "ntp", 4, 17));
    let read: TimingCaps = serde_json::from_value(serde_json::to_value(&caps).unwrap()).unwrap();
    assert_eq!(read, caps);
}

#[test]
fn spec_example_service_info() {
    let s: ServiceInfo = round_trip(
        json!({"serInstanceId": "ServiceInstance123", "serName": "ExampleService",
               "serCategory": {"href": "catItem1", "id": "id12345", "name": "RNI", "version": "version1"},
               "version": "ServiceVersion1", "state": "ACTIVE",
               "transportInfo": {"id": "TransId12345", "name": "REST", "description": "REST API", "type": "REST_HTTP",
                                 "protocol": "HTTP", "version": "2.0", "endpoint": {"uris": ["/mecSerMgmtApi/service/EntryPoint"]},
                                 "security": {"oAuth2Info": {"grantTypes": ["OAUTH2_CLIENT_CREDENTIALS"],
                                                             "tokenEndpoint": "/mecSerMgmtApi/security/TokenEndPoint"}}},
               "serializer": "JSON"}),
        None,
    );
    assert_eq!(s.transport_info.unwrap().type_, TransportType::RestHttp);
}

#[test]
fn spec_example_traffic_rule_with_a_single_dst_interface_and_an_unknown_member() {
    let input = json!({"trafficRuleId": "TrafficRule123", "serName": "ExampleService", "filterType": "FLOW", "priority": 1,
        "trafficFilter": [{"srcAddress": ["192.168.2.0/24", "192.168.3.0/24"], "dstAddress": ["192.127.4.100/32"], "dstPort": ["80"]}],
        "action": "FORWARD_DECAPSULATED", "dstInterface": {"interfaceType": "IP", "dstIpAddress": "20.1.1.1"}, "state": "ACTIVE"});
    let mut expected = input.clone();
    expected.as_object_mut().unwrap().remove("serName");
    expected["dstInterface"] = json!([{"interfaceType": "IP", "dstIpAddress": "20.1.1.1"}]);
    let r: TrafficRule = round_trip(input, Some(expected));
    assert_eq!(r.dst_interface.len(), 1);
    r.validate().unwrap();
}

#[test]
fn spec_example_dns_rule() {
    let r: DnsRule = round_trip(
        json!({"dnsRuleId": "DnsRule1", "domainName": "www.example.com", "ipAddressType": "IP_V4", "ipAddress": "146.241.7.3", "ttl": 300, "state": "ACTIVE"}),
        None,
    );
    r.validate().unwrap();
}

#[test]
fn every_other_schema_round_trips() {
    round_trip::<SerAvailabilityNotificationSubscription>(
        json!({"subscriptionType": "SerAvailabilityNotificationSubscription", "callbackReference": "http://a/cb",
               "_links": {"self": {"href": "/s/1"}},
               "filteringCriteria": {"serCategories": [{"href": "h", "id": "i", "name": "n", "version": "v"}], "states": ["ACTIVE", "SUSPENDED"], "isLocal": true}}),
        None,
    );
    round_trip::<AppTerminationNotificationSubscription>(
        json!({"subscriptionType": "AppTerminationNotificationSubscription", "callbackReference": "http://a/cb", "appInstanceId": "a1"}),
        None,
    );
    round_trip::<AppReadyConfirmation>(json!({"indication": "READY"}), None);
    round_trip::<AppTerminationConfirmation>(json!({"operationAction": "STOPPING"}), None);
    round_trip::<CurrentTime>(
        json!({"seconds": 1623770544, "nanoSeconds": 468538768, "timeSourceStatus": "TRACEABLE"}),
        None,
    );
    round_trip::<TimingCaps>(
        json!({"timeStamp": {"seconds": 1, "nanoSeconds": 2},
               "ntpServers": [{"ntpServerAddrType": "IP_ADDRESS", "ntpServerAddr": "192.0.2.1", "minPollingInterval": 4, "maxPollingInterval": 17,
                               "localPriority": 1, "authenticationOption": "SYMMETRIC_KEY", "authenticationKeyNum": 3}],
               "ptpMasters": [{"ptpMasterIpAddress": "192.0.2.2", "ptpMasterLocalPriority": 1, "delayReqMaxRate": 2}]}),
        None,
    );
    round_trip::<ServiceLivenessInfo>(
        json!({"state": "SUSPENDED", "timeStamp": {"seconds": 9, "nanoSeconds": 0}, "interval": 60}),
        None,
    );
    round_trip::<ServiceLivenessUpdate>(json!({"state": "ACTIVE"}), None);
    round_trip::<SubscriptionLinkList>(
        json!({"_links": {"self": {"href": "/l"}, "subscriptions": [{"href": "/l/1", "subscriptionType": "SerAvailabilityNotificationSubscription"}]}}),
        None,
    );
    round_trip::<AppInfo>(
        json!({"appName": "demo", "appProvider": "acme", "appDId": "d1", "appInstanceId": "a1", "isInsByMec": false,
               "endpoint": {"fqdn": ["demo.example.com"]},
               "appServiceRequired": [{"serName": "rni", "version": "2",
                   "serTransportDependencies": [{"transport": {"name": "REST", "type": "REST_HTTP", "protocol": "HTTP", "version": "2.0", "security": {}},
                                                 "serializers": ["JSON", "PROTOBUF3"], "labels": ["l"]}]}],
               "appFeatureOptional": [{"featureName": "UserApps", "version": "1"}]}),
        None,
    );
    let n: Notification = round_trip(
        json!({"notificationType": "SerAvailabilityNotification",
               "serviceReferences": [{"link": {"href": "/s/1"}, "serName": "a", "serInstanceId": "1", "state": "ACTIVE", "changeType": "STATE_CHANGED"}],
               "_links": {"subscription": {"href": "/sub/1"}}}),
        None,
    );
    assert!(matches!(n, Notification::ServiceAvailability(_)));
    round_trip::<ServiceInfo>(
        json!({"serName": "x", "version": "1", "state": "INACTIVE", "serializer": "PROTOBUF3", "transportId": "t1",
               "scopeOfLocality": "ZONE_GROUP", "consumedLocalOnly": false, "isLocal": false, "livenessInterval": 10,
               "_links": {"self": {"href": "/s"}, "liveness": {"href": "/s/liveness"}}}),
        None,
    );
}

// ---- EdgeGallery's wire forms (shared/reference/edgegallery-mep.md §1, §4, §7) ----

#[test]
fn edgegallery_service_list_form() {
    // mepserver mm5/controller_test.go writeAllServices: grantTypes [""], nulls, self without href.
    let eg = json!({"serInstanceId": "0bc92b06cc213d2ad8beda71bd0e1460", "serName": "FaceRegService", "serCategory": {"href": "", "id": "", "name": "", "version": ""},
        "version": "3.2.1", "state": "ACTIVE", "transportId": "",
        "transportInfo": {"id": "", "name": "", "description": "", "type": "REST_HTTP", "protocol": "HTTP", "version": "",
                          "endpoint": {"uris": ["https://mep-api-gw.mep:8443/FaceRegService0123456789abcdef0123"], "addresses": null, "alternative": null},
                          "security": {"oAuth2Info": {"grantTypes": [""], "tokenEndpoint": ""}}},
        "serializer": "JSON", "scopeOfLocality": "MEC_HOST", "livenessInterval": 60,
        "_links": {"self": {"liveness": "/mep/mec_service_mgmt/v1/applications/a/services/0bc92b06cc213d2ad8beda71bd0e1460/liveness"}, "appInstanceId": "a"}});
    let s: ServiceInfo = serde_json::from_value(eg).unwrap();
    let t = s.transport_info.as_ref().unwrap();
    assert_eq!(
        t.endpoint,
        EndPointInfo::Uris(vec![
            "https://mep-api-gw.mep:8443/FaceRegService0123456789abcdef0123".into()
        ])
    );
    assert_eq!(
        t.security.o_auth2_info.as_ref().unwrap().grant_types,
        [GrantType::Unknown(String::new())]
    );
    assert_eq!(
        s.liveness_uri(),
        Some(
            "/mep/mec_service_mgmt/v1/applications/a/services/0bc92b06cc213d2ad8beda71bd0e1460/liveness"
        )
    );
    assert_eq!(
        s.links.as_ref().unwrap().app_instance_id.as_deref(),
        Some("a")
    );
    let out = serde_json::to_value(&s).unwrap();
    assert_eq!(
        out["transportInfo"]["endpoint"],
        json!({"uris": ["https://mep-api-gw.mep:8443/FaceRegService0123456789abcdef0123"]})
    );
    assert_eq!(
        out["transportInfo"]["security"]["oAuth2Info"]["grantTypes"],
        json!([""])
    );
}

#[test]
fn edgegallery_rule_forms() {
    let t: TrafficRule = serde_json::from_str(
        "{\"trafficRuleId\":\"8ft68t22-81f3-47bb-a2fc-56996er4tf37\",\"filterType\":\"FLOW\",\"priority\":5,\"trafficFilter\":null,\"action\":\"DROP\",\"dstInterface\":null,\"state\":\"ACTIVE\"}\n",
    )
    .unwrap();
    assert!(t.traffic_filter.is_empty() && t.dst_interface.is_empty());
    let t: TrafficRule = serde_json::from_value(json!({"trafficRuleId": "t", "filterType": "PACKET", "priority": 1, "action": "FORWARD_AS_IS",
        "trafficFilter": [{"token": ["a"], "qCI": 1, "dSCP": 2, "tC": 3, "srcPort": null}],
        "dstInterface": [{"interfaceType": "TUNNEL", "tunnelInfo": {"tunnelType": "GTP_U", "tunnelDstAddress": "10.0.0.1"}}, {"interfaceType": "MAC", "dstMacAddress": "00:11:22:33:44:55"}]}))
    .unwrap();
    assert_eq!(
        (t.action.clone(), t.state.clone()),
        (TrafficAction::ForwardAsIs, RuleState::Active)
    );
    let out = serde_json::to_value(&t).unwrap();
    assert_eq!(
        out["trafficFilter"][0],
        json!({"tag": ["a"], "qCI": 1, "dSCP": 2, "tC": 3})
    );
    assert_eq!(out["dstInterface"][0]["tunnelInfo"]["tunnelType"], "GTP_U");
    let d: DnsRule = serde_json::from_value(json!({"dnsRuleId": "d", "domainName": "a.b", "ipAddressType": "IPv6", "ipAddress": "2001:db8::1", "state": "INACTIVE"})).unwrap();
    assert_eq!(serde_json::to_value(&d).unwrap()["ipAddressType"], "IP_V6");
    d.validate().unwrap();
}

#[test]
fn edgegallery_notifications() {
    let n: Notification = serde_json::from_value(json!({"notificationType": "AppTerminationNotification", "operationAction": "TERMINATING", "maxGracefulTimeout": 5,
        "_links": {"subscription": "/mep/mec_app_support/v1/applications/a/subscriptions/s", "confirmTermination": "/mep/mec_app_support/v1/applications/a/confirm_termination"}}))
    .unwrap();
    let Notification::AppTermination(t) = n else {
        panic!()
    };
    assert_eq!(
        t.links.subscription.href,
        "/mep/mec_app_support/v1/applications/a/subscriptions/s"
    );
    let out = serde_json::to_value(&t).unwrap();
    assert_eq!(
        out["_links"]["confirmTermination"],
        json!({"href": "/mep/mec_app_support/v1/applications/a/confirm_termination"})
    );
    let n: Notification = serde_json::from_value(json!({"notificationType": "SerAvailabilityNotification",
        "serviceReferences": [{"link": {}, "serName": "a", "serInstanceId": "1", "state": "INACTIVE", "changeType": "REMOVED"}],
        "_links": {"subscription": {"href": "/mec_service_mgmt/v1/applications/x/subscriptions/y"}}}))
    .unwrap();
    let Notification::ServiceAvailability(a) = n else {
        panic!()
    };
    assert!(a.service_references[0].link.is_none());
    assert!(
        serde_json::to_value(&a).unwrap()["serviceReferences"][0]
            .get("link")
            .is_none()
    );
}

#[test]
fn optional_members_are_skipped_never_null() {
    let s = ServiceInfo::new(
        "a".into(),
        "1".into(),
        ServiceState::Active,
        SerializerType::Xml,
    );
    assert_eq!(
        serde_json::to_value(&s).unwrap(),
        json!({"serName": "a", "version": "1", "state": "ACTIVE", "serializer": "XML"})
    );
    let sub = SerAvailabilityNotificationSubscription::new("http://a/");
    assert_eq!(
        serde_json::to_value(&sub).unwrap(),
        json!({"subscriptionType": "SerAvailabilityNotificationSubscription", "callbackReference": "http://a/"})
    );
}

#[test]
fn bad_bodies_fail_to_decode() {
    let base = json!({"serName": "a", "version": "1", "state": "ACTIVE", "serializer": "JSON"});
    for (what, change) in [
        ("missing serName", json!({"serName": null})),
        ("wrong type", json!({"version": 1})),
        (
            "bad endpoint",
            json!({"transportInfo": {"id": "t", "name": "n", "type": "REST_HTTP", "protocol": "p", "version": "v", "endpoint": {}}}),
        ),
    ] {
        let mut body = base.clone();
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        assert!(
            serde_json::from_value::<ServiceInfo>(body).is_err(),
            "{what}"
        );
    }
    assert!(serde_json::from_value::<Notification>(json!({"notificationType": "Other"})).is_err());
}

/// Unknown enum values never fail a read: they are kept as `Unknown`, written back unchanged, and refused by
/// validation (so a server answers 400 naming the member).
#[test]
fn unknown_enum_values_are_kept_on_round_trip_and_refused_in_requests() {
    let base = json!({"serName": "a", "version": "1", "state": "ACTIVE", "serializer": "JSON",
        "transportId": "t"});
    for (member, value) in [
        ("state", "SLEEPY"),
        ("serializer", "YAML"),
        ("scopeOfLocality", "MOON"),
    ] {
        let mut body = base.clone();
        body[member] = json!(value);
        let s: ServiceInfo = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(serde_json::to_value(&s).unwrap(), body, "{member}");
        let e = s.validate().unwrap_err();
        assert_eq!(e.member, member);
        assert!(e.reason.contains(value), "{e}");
    }
    let rule: DnsRule = serde_json::from_value(
        json!({"dnsRuleId": "d", "domainName": "a.example", "ipAddressType": "IP_V5", "ipAddress": "192.0.2.1"}),
    )
    .unwrap();
    assert_eq!(rule.ip_address_type, IpAddressType::Unknown("IP_V5".into()));
    assert_eq!(member_of(&rule), "ipAddressType");
    let ready: AppReadyConfirmation =
        serde_json::from_value(json!({"indication": "LATER"})).unwrap();
    assert_eq!(member_of(&ready), "indication");
    let t: AppTerminationConfirmation =
        serde_json::from_value(json!({"operationAction": "PAUSING"})).unwrap();
    assert_eq!(member_of(&t), "operationAction");
}

// ---- validation: one failing case per rule, naming the member ----

fn member_of<T: Validate>(v: &T) -> String {
    v.validate().unwrap_err().member
}

#[test]
fn service_validation_names_the_member() {
    let ok: ServiceInfo = serde_json::from_value(json!({"serName": "rni-1", "version": "1", "state": "ACTIVE", "serializer": "JSON",
        "transportInfo": {"id": "t", "name": "n", "type": "REST_HTTP", "protocol": "HTTP", "version": "2",
                          "endpoint": {"addresses": [{"host": "h", "port": 80}]}, "security": {}}}))
    .unwrap();
    ok.validate_for_create().unwrap();
    type Change = Box<dyn Fn(&mut ServiceInfo)>;
    let cases: Vec<(Change, &str)> = vec![
        (Box::new(|s| s.ser_name = String::new()), "serName"),
        (Box::new(|s| s.ser_name = "a b".into()), "serName"),
        (Box::new(|s| s.ser_name = "-a".into()), "serName"),
        (Box::new(|s| s.ser_name = "a".repeat(129)), "serName"),
        (Box::new(|s| s.version = String::new()), "version"),
        (
            Box::new(|s| s.liveness_interval = Some(u32::MAX)),
            "livenessInterval",
        ),
        (
            Box::new(|s| {
                if let Some(t) = &mut s.transport_info {
                    t.endpoint = EndPointInfo::Addresses(vec![Address::new("h", 70000)]);
                }
            }),
            "transportInfo.endpoint.addresses[0].port",
        ),
        (
            Box::new(|s| {
                if let Some(t) = &mut s.transport_info {
                    t.endpoint = EndPointInfo::Uris(vec!["has space".into()]);
                }
            }),
            "transportInfo.endpoint.uris[0]",
        ),
        (
            Box::new(|s| {
                s.ser_category = Some(CategoryRef::default());
            }),
            "serCategory.id",
        ),
    ];
    for (change, member) in cases {
        let mut s = ok.clone();
        change(&mut s);
        assert_eq!(member_of(&s), member);
    }
    // EdgeGallery's mep-agent sends both; the MEP checks they agree.
    let mut both = ok.clone();
    both.transport_id = Some("t".into());
    both.validate_for_create().unwrap();
    let mut neither = ok;
    neither.transport_info = None;
    assert_eq!(
        neither.validate_for_create().unwrap_err().member,
        "transportInfo"
    );
}

#[test]
fn rule_and_subscription_validation_names_the_member() {
    let rule = |v: Value| serde_json::from_value::<TrafficRule>(v).unwrap();
    let base = json!({"trafficRuleId": "t", "filterType": "FLOW", "priority": 1, "action": "FORWARD_DECAPSULATED", "trafficFilter": [{}]});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        rule(b)
    };
    assert_eq!(member_of(&with("priority", json!(256))), "priority");
    assert_eq!(
        member_of(&with("trafficRuleId", json!(""))),
        "trafficRuleId"
    );
    assert_eq!(
        member_of(&with(
            "trafficFilter",
            json!([{"srcAddress": ["10.0.0.0/33"]}])
        )),
        "trafficFilter[0].srcAddress"
    );
    assert_eq!(
        member_of(&with("trafficFilter", json!([{"dstPort": ["9-1"]}]))),
        "trafficFilter[0].dstPort"
    );
    assert_eq!(
        member_of(&with("trafficFilter", json!([{"dSCP": 64}]))),
        "trafficFilter[0].dSCP"
    );
    assert_eq!(
        member_of(&with("dstInterface", json!([{"interfaceType": "TUNNEL"}]))),
        "dstInterface[0].tunnelInfo"
    );
    assert_eq!(
        member_of(&with(
            "dstInterface",
            json!([{"interfaceType": "IP", "dstIpAddress": "x"}])
        )),
        "dstInterface[0].dstIpAddress"
    );
    assert_eq!(
        member_of(&with(
            "dstInterface",
            json!([{"interfaceType": "MAC", "dstMacAddress": "00:11"}])
        )),
        "dstInterface[0].dstMacAddress"
    );
    let three = json!([{"interfaceType": "IP"}, {"interfaceType": "IP"}, {"interfaceType": "IP"}]);
    assert_eq!(member_of(&with("dstInterface", three)), "dstInterface");
    let mut drop_with_dst = base.clone();
    drop_with_dst["action"] = json!("DROP");
    drop_with_dst["dstInterface"] = json!([{"interfaceType": "IP"}]);
    assert_eq!(member_of(&rule(drop_with_dst)), "dstInterface");
    with(
        "trafficFilter",
        json!([{"srcAddress": ["2001:db8::/32", "192.0.2.1"], "dstPort": ["1-65535", "80"]}]),
    )
    .validate()
    .unwrap();

    let dns = |k: &str, v: Value| {
        let mut b = json!({"dnsRuleId": "d", "domainName": "www.example.com", "ipAddressType": "IP_V4", "ipAddress": "192.0.2.1"});
        b[k] = v;
        serde_json::from_value::<DnsRule>(b).unwrap()
    };
    assert_eq!(
        member_of(&dns("domainName", json!("bad domain"))),
        "domainName"
    );
    assert_eq!(
        member_of(&dns("domainName", json!("-x.example"))),
        "domainName"
    );
    assert_eq!(
        member_of(&dns("ipAddress", json!("300.0.0.1"))),
        "ipAddress"
    );
    assert_eq!(
        member_of(&dns("ipAddress", json!("2001:db8::1"))),
        "ipAddress"
    );
    assert_eq!(
        member_of(&dns("dnsRuleId", json!("x".repeat(64)))),
        "dnsRuleId"
    );

    let mut sub = SerAvailabilityNotificationSubscription::new("ftp://x/");
    assert_eq!(member_of(&sub), "callbackReference");
    sub.callback_reference = "http://10.0.0.1:8080/cb".into();
    sub.filtering_criteria = Some(
        FilteringCriteria::new()
            .with_ser_names(vec!["a".into()])
            .with_ser_instance_ids(vec!["b".into()]),
    );
    assert_eq!(member_of(&sub), "filteringCriteria");
    let term = AppTerminationNotificationSubscription::new("http://x/", "");
    assert_eq!(member_of(&term), "appInstanceId");
    assert_eq!(
        member_of(&ServiceLivenessUpdate::new(ServiceState::Inactive)),
        "state"
    );
    assert_eq!(member_of(&AppInfo::default()), "appName");
}

// ---- generated round trips ----

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,16}"
}

prop_compose! {
    fn any_service()(name in text(), version in text(), id in proptest::option::of(text()), interval in proptest::option::of(any::<u32>()),
                     local in proptest::option::of(any::<bool>()), uris in proptest::collection::vec(text(), 0..3),
                     state in prop_oneof![Just(ServiceState::Active), Just(ServiceState::Inactive), Just(ServiceState::Suspended)]) -> ServiceInfo {
        let mut s = ServiceInfo::new(name, version, state, SerializerType::Json);
        s.ser_instance_id = id;
        s.liveness_interval = interval;
        s.is_local = local;
        s.transport_info = Some(TransportInfo::new("t", "n", TransportType::Websocket, "WS", "1", EndPointInfo::Uris(uris)));
        s
    }
}

proptest! {
    #[test]
    fn services_round_trip(s in any_service()) {
        let back: ServiceInfo = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        prop_assert_eq!(back, s);
    }

    #[test]
    fn dns_rules_round_trip(id in text(), domain in text(), ip in text(), ttl in proptest::option::of(any::<u32>()), v6 in any::<bool>()) {
        let mut r = DnsRule::new(id, domain, if v6 { IpAddressType::IpV6 } else { IpAddressType::IpV4 }, ip)
            .with_state(RuleState::Inactive);
        r.ttl = ttl;
        let back: DnsRule = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        prop_assert_eq!(back, r);
    }

    #[test]
    fn traffic_rules_round_trip(id in text(), priority in any::<u32>(), ports in proptest::collection::vec(text(), 0..3), qci in proptest::option::of(any::<u32>())) {
        let mut filter = TrafficFilter::new().with_dst_port(ports);
        filter.q_ci = qci;
        let r = TrafficRule::new(id, FilterType::Packet, priority, vec![filter], TrafficAction::Passthrough)
            .with_state(RuleState::Active);
        let back: TrafficRule = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        prop_assert_eq!(back, r);
    }

    #[test]
    fn validation_never_panics(s in any_service()) {
        let _ = s.validate();
        let _ = s.validate_for_create();
    }
}
