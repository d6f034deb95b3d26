//! One app instance driven through both interfaces of `MockMep`: the MEP manager configures its rules over Mm5,
//! the app reads and updates them over Mp1, the manager terminates it over Mm5, the app is told and confirms.

#![allow(clippy::unwrap_used)]

use mec_mm5::{AppDConfig, ConfigResult, WaitOptions};
use mec_mp1::client::Client;
use mec_mp1::model::{
    AppTerminationNotificationSubscription, DnsRule, Notification, OperationAction, RuleState,
    SerAvailabilityNotificationSubscription, SerializerType, ServiceInfo, ServiceState,
    TrafficRule,
};
use mec_mp1::receiver::NotificationReceiver;
use mec_testkit::{AppInstance, AppState, MockMep};
use serde_json::json;
use std::time::Duration;

const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";

fn config(mp1: bool) -> AppDConfig {
    serde_json::from_value(json!({
        "appName": "face-recognition", "appSupportMp1": mp1,
        "appTrafficRule": [{"trafficRuleId": "tr1", "filterType": "FLOW", "priority": 1,
            "trafficFilter": [{"srcAddress": ["192.0.2.0/24"], "dstPort": ["8080"]}],
            "action": "FORWARD_DECAPSULATED", "dstInterface": [{"interfaceType": "IP", "dstIpAddress": "198.51.100.7"}],
            "state": "ACTIVE"}],
        "appDnsRule": [{"dnsRuleId": "dns1", "domainName": "faces.example.com", "ipAddressType": "IPv4",
            "ipAddress": "192.0.2.10", "ttl": 60, "state": "ACTIVE"}]
    }))
    .unwrap()
}

#[tokio::test]
async fn the_mepm_configures_and_terminates_the_app_sees_and_confirms() {
    let mep = MockMep::builder()
        .app(AppInstance::new(APP))
        .start()
        .await
        .unwrap();
    let creds = mep.credentials(APP).unwrap();
    let mepm = mep.mm5_client();
    let app = Client::builder(mep.mep_url())
        .aksk(creds)
        .build()
        .unwrap()
        .app(APP);

    // MEPM: configure, wait for the task.
    let task = mepm.app_config(APP).create(&config(true)).await.unwrap();
    let done = mepm
        .wait_for_task(&task.task_id, &WaitOptions::default())
        .await
        .unwrap();
    assert_eq!(done.config_result, ConfigResult::Success);

    // App: read the rules over Mp1, update them.
    let rules = app.dns_rules().list().await.unwrap();
    assert_eq!(rules.len(), 1);
    let tagged = app.dns_rules().get("dns1").await.unwrap();
    let mut rule: DnsRule = tagged.value.clone();
    rule.state = RuleState::Inactive;
    let updated = app
        .dns_rules()
        .update("dns1", &rule, tagged.etag.as_deref())
        .await
        .unwrap();
    assert_eq!(updated.value.state, RuleState::Inactive);
    let traffic: Vec<TrafficRule> = app.traffic_rules().list().await.unwrap();
    assert_eq!(
        traffic[0].dst_interface[0].dst_ip_address.as_deref(),
        Some("198.51.100.7")
    );
    assert_eq!(mep.dns_rules(APP)[0].state, RuleState::Inactive);

    // The platform lists what the app registers as a capability, with its consumers.
    // A service registered by reference to one of the platform's transports.
    let mut svc = ServiceInfo::new(
        "faces".to_owned(),
        "1.0".to_owned(),
        ServiceState::Active,
        SerializerType::Json,
    );
    let transports = Client::builder(mep.mep_url())
        .aksk(mep.credentials(APP).unwrap())
        .build()
        .unwrap()
        .transports()
        .list()
        .await
        .unwrap();
    svc.transport_id = Some(transports[0].id.clone());
    let registered = app.services().register(&svc).await.unwrap().resource;
    let (receiver, mut notifications) = NotificationReceiver::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut sub = SerAvailabilityNotificationSubscription::new(receiver.url().to_string());
    sub.filtering_criteria =
        Some(mec_mp1::model::FilteringCriteria::new().with_ser_names(vec!["faces".to_owned()]));
    app.service_subscriptions().create(&sub).await.unwrap();
    let caps = mepm.capabilities().await.unwrap();
    let cap = caps.iter().find(|c| c.capability_name == "faces").unwrap();
    assert_eq!(
        Some(&cap.capability_id),
        registered.ser_instance_id.as_ref()
    );
    assert_eq!(cap.consumers[0].application_instance_id, APP);
    assert_eq!(
        mepm.capability(&cap.capability_id).await.unwrap().status,
        "ACTIVE"
    );

    // MEPM terminates; the app hears of it and confirms.
    app.termination_subscriptions()
        .create(&AppTerminationNotificationSubscription::new(
            receiver.url().to_string(),
            APP.to_owned(),
        ))
        .await
        .unwrap();
    mepm.terminate_app_instance(APP).await.unwrap();
    assert_eq!(mep.app_state(APP), Some(AppState::Terminating));
    let termination = loop {
        let n = tokio::time::timeout(Duration::from_secs(10), notifications.recv())
            .await
            .unwrap()
            .unwrap();
        if let Notification::AppTermination(t) = n.notification {
            break t;
        }
    };
    assert_eq!(termination.operation_action, OperationAction::Terminating);
    app.confirm_termination(OperationAction::Terminating)
        .await
        .unwrap();
    assert_eq!(mep.app_state(APP), Some(AppState::Terminated));
    assert!(mep.dns_rules(APP).is_empty());
    assert!(
        mepm.capabilities()
            .await
            .unwrap()
            .iter()
            .all(|c| c.capability_name != "faces")
    );
}

#[tokio::test]
async fn an_app_configured_without_mp1_is_refused_on_mp1() {
    let mep = MockMep::builder()
        .app(AppInstance::new(APP))
        .start()
        .await
        .unwrap();
    let mepm = mep.mm5_client();
    mepm.app_config(APP).create(&config(false)).await.unwrap();
    let app = Client::builder(mep.mep_url())
        .aksk(mep.credentials(APP).unwrap())
        .build()
        .unwrap()
        .app(APP);
    let e = app.dns_rules().list().await.unwrap_err();
    assert!(e.is_forbidden(), "{e}");
    assert!(e.problem().unwrap().detail.contains("appSupportMp1"));
}

#[tokio::test]
async fn invalid_configurations_are_refused_naming_the_member() {
    let mep = MockMep::start().await;
    let mepm = mep.mm5_client();
    let mut c = config(true);
    c.app_dns_rule[0].ip_address = "not-an-ip".to_owned();
    let e = mepm.app_config(APP).create(&c).await.unwrap_err();
    assert!(e.is_bad_request());
    assert!(
        e.problem()
            .unwrap()
            .detail
            .contains("appDNSRule[0].ipAddress"),
        "{e}"
    );
}
