//! The Mm5 data model, as EdgeGallery's MEP serves it (mepserver `common/models/app_config.go`, `capability.go`,
//! `responseinfo.go`; see shared/reference/edgegallery-mep.md §2). Traffic and DNS rules are `mec-mp1`'s types.

use mec_mp1::model::{AppInstanceId, DnsRule, ServiceId, ServiceState, TrafficRule, Validate};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::HashSet;

pub use mec_mp1::model::InvalidMember;

/// The most traffic rules one app-descriptor configuration may carry (EdgeGallery's validator: `max=16`).
pub const MAX_TRAFFIC_RULES: usize = 16;
/// The most DNS rules one app-descriptor configuration may carry (EdgeGallery's validator: `max=32`).
pub const MAX_DNS_RULES: usize = 32;
/// The longest app name (EdgeGallery: 1..63).
pub const MAX_APP_NAME: usize = 63;

/// The app-descriptor configuration the MEP manager sends for an app instance: its rules, and whether it may use
/// Mp1.
///
/// EdgeGallery's MEPM writes `appDnsRule` while the MEP's model says `appDNSRule` (Go matches JSON keys without
/// regard to case); both are read, `appDNSRule` is written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AppDConfig {
    /// The app's traffic rules (at most [`MAX_TRAFFIC_RULES`]).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub app_traffic_rule: Vec<TrafficRule>,
    /// The app's DNS rules (at most [`MAX_DNS_RULES`]).
    #[serde(
        rename = "appDNSRule",
        alias = "appDnsRule",
        default,
        deserialize_with = "null_as_empty"
    )]
    pub app_dns_rule: Vec<DnsRule>,
    /// Whether the app may use Mp1.
    #[serde(default)]
    pub app_support_mp1: bool,
    /// The app's name (1 to 63 characters).
    pub app_name: String,
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl AppDConfig {
    /// A configuration with a name and nothing else.
    pub fn new(app_name: impl Into<String>) -> Self {
        Self {
            app_name: app_name.into(),
            ..Self::default()
        }
    }

    /// With one more traffic rule.
    #[must_use]
    pub fn with_traffic_rule(mut self, rule: TrafficRule) -> Self {
        self.app_traffic_rule.push(rule);
        self
    }

    /// With one more DNS rule.
    #[must_use]
    pub fn with_dns_rule(mut self, rule: DnsRule) -> Self {
        self.app_dns_rule.push(rule);
        self
    }

    /// Sets whether the app may use Mp1.
    #[must_use]
    pub fn with_app_support_mp1(mut self, supported: bool) -> Self {
        self.app_support_mp1 = supported;
        self
    }
}

fn invalid(member: impl Into<String>, reason: impl Into<String>) -> InvalidMember {
    InvalidMember::new(member, reason)
}

impl AppDConfig {
    /// Checks `appName`'s length alone (1 to [`MAX_APP_NAME`] characters), as EdgeGallery's MEP does: its MEPM
    /// allows letters of any script (`\p{L}`).
    pub fn validate_name_length(&self) -> Result<(), InvalidMember> {
        if self.app_name.is_empty() || self.app_name.chars().count() > MAX_APP_NAME {
            return Err(invalid(
                "appName",
                format!("must be 1 to {MAX_APP_NAME} characters long"),
            ));
        }
        Ok(())
    }

    /// Checks everything [`Validate::validate`] checks except `appName`: rule counts, each rule, unique rule ids
    /// and unique DNS domain names.
    pub fn validate_rules(&self) -> Result<(), InvalidMember> {
        if self.app_traffic_rule.len() > MAX_TRAFFIC_RULES {
            return Err(invalid(
                "appTrafficRule",
                format!(
                    "at most {MAX_TRAFFIC_RULES} traffic rules, got {}",
                    self.app_traffic_rule.len()
                ),
            ));
        }
        if self.app_dns_rule.len() > MAX_DNS_RULES {
            return Err(invalid(
                "appDNSRule",
                format!(
                    "at most {MAX_DNS_RULES} DNS rules, got {}",
                    self.app_dns_rule.len()
                ),
            ));
        }
        let mut ids = HashSet::new();
        for (i, rule) in self.app_traffic_rule.iter().enumerate() {
            rule.validate()
                .map_err(|e| invalid(format!("appTrafficRule[{i}].{}", e.member), e.reason))?;
            if !ids.insert(rule.traffic_rule_id.as_str()) {
                return Err(invalid(
                    format!("appTrafficRule[{i}].trafficRuleId"),
                    "duplicate rule id",
                ));
            }
        }
        let mut ids = HashSet::new();
        let mut domains = HashSet::new();
        for (i, rule) in self.app_dns_rule.iter().enumerate() {
            rule.validate()
                .map_err(|e| invalid(format!("appDNSRule[{i}].{}", e.member), e.reason))?;
            if !ids.insert(rule.dns_rule_id.as_str()) {
                return Err(invalid(
                    format!("appDNSRule[{i}].dnsRuleId"),
                    "duplicate rule id",
                ));
            }
            if !domains.insert(rule.domain_name.to_ascii_lowercase()) {
                return Err(invalid(
                    format!("appDNSRule[{i}].domainName"),
                    "duplicate domain name",
                ));
            }
        }
        Ok(())
    }
}

impl Validate for AppDConfig {
    /// Checks the limits EdgeGallery's MEP validates: the app name (letters, digits, `-`, `_`, `.`; see
    /// [`validate_name_length`](Self::validate_name_length) for EdgeGallery's length-only check), then
    /// [`validate_rules`](Self::validate_rules).
    fn validate(&self) -> Result<(), InvalidMember> {
        self.validate_name_length()?;
        let name_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if !self.app_name.chars().all(name_ok) {
            return Err(invalid(
                "appName",
                "may only contain letters, digits, '-', '_' and '.'",
            ));
        }
        self.validate_rules()
    }
}

mec_core::wire_enum! {
    /// Where an asynchronous configuration task stands.
    pub enum ConfigResult {
        /// Still being applied.
        Processing = "PROCESSING",
        /// Applied.
        Success = "SUCCESS",
        /// Failed; the task's `detailed` says why.
        Failure = "FAILURE",
    }
}

impl ConfigResult {
    /// Whether the task has ended (success or failure).
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Success | Self::Failure)
    }
}

/// The state of an asynchronous configuration task (`TaskProgress` in EdgeGallery's MEP).
///
/// EdgeGallery writes the detail as `Detailed` (capital D) while its MEPM reads `detailed`; both are read,
/// `Detailed` is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskProgress {
    /// The task id (a UUID).
    pub task_id: String,
    /// The app instance the task configures. EdgeGallery's MEP answers POST, PUT and DELETE with the path's id
    /// (mepserver `mm5/appd_config_create.go`); only its unit-test fixture, which leaves the path out, shows `""`.
    #[serde(default)]
    pub app_instance_id: String,
    /// Where the task stands.
    pub config_result: ConfigResult,
    /// Progress in percent, as a string (`"0"` .. `"100"`).
    #[serde(default)]
    pub config_phase: String,
    /// A human-readable detail (the reason of a failure).
    #[serde(rename = "Detailed", alias = "detailed", default)]
    pub detailed: String,
}

/// One consumer of a platform capability.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CapabilityConsumer {
    /// The consuming app instance.
    pub application_instance_id: String,
}

/// A service the platform offers, and which app instances subscribed to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PlatformCapability {
    /// The service instance id (`serInstanceId`).
    pub capability_id: String,
    /// The service name (`serName`).
    pub capability_name: String,
    /// The service state (`ACTIVE`, `INACTIVE`, `SUSPENDED`).
    pub status: String,
    /// The service version.
    pub version: String,
    /// The app instances subscribed to it.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub consumers: Vec<CapabilityConsumer>,
}

/// The envelope of EdgeGallery's service-governance answers: `{"data":..,"retCode":0,"message":"","params":""}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GovernResponse<T> {
    /// The payload.
    pub data: T,
    /// 0 on success.
    #[serde(default)]
    pub ret_code: i64,
    /// A message, usually empty.
    #[serde(default)]
    pub message: String,
    /// Parameters echoed, usually empty.
    #[serde(default)]
    pub params: serde_json::Value,
}

impl<T> GovernResponse<T> {
    /// A successful answer carrying `data`.
    pub fn ok(data: T) -> Self {
        Self {
            data,
            ret_code: 0,
            message: String::new(),
            params: serde_json::Value::String(String::new()),
        }
    }
}

/// Subscription statistics of the service-governance view (`GET /mep/service_govern/v1/subscribe_statistic`,
/// mepserver `mm5/plans/subscription_info_get.go`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscribeStatistic {
    /// How many apps subscribe and how many services are subscribed to.
    pub subscribe_num: SubscribeNum,
    /// Which app instance subscribed to which service instances.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub subscribe_relations: Vec<SubscribeRelation>,
}

/// The counts of the subscription statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscribeNum {
    /// App instances with at least one availability subscription.
    pub app_subscribe_num: u64,
    /// Distinct service names named in subscriptions.
    pub service_subscribed_num: u64,
}

/// One subscriber and the service instances its subscriptions name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscribeRelation {
    /// The subscribing app instance.
    pub subscribe_app_id: String,
    /// The service instance ids its filters name (EdgeGallery writes `null` for none).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub service_list: Vec<String>,
}

/// API call statistics of the service-governance view (`GET /mep/service_govern/v1/kong_log`): calls per day over
/// the last seven days, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CallStatistics {
    /// Calls to the services apps registered.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub app_services: Vec<ServiceCalls>,
    /// Calls to the MEP's own capabilities (`serviceRegister`, `serviceDiscovery`).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub mep_services: Vec<ServiceCalls>,
}

/// The daily call counts of one service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceCalls {
    /// The service name.
    pub name: String,
    /// A description, usually empty.
    #[serde(default)]
    pub desc: String,
    /// Calls per day, today first.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub call_times: Vec<u64>,
}

impl TaskProgress {
    /// Task `task_id` at `config_result`; app instance, phase and detail empty.
    pub fn new(task_id: impl Into<String>, config_result: ConfigResult) -> Self {
        Self {
            task_id: task_id.into(),
            app_instance_id: String::new(),
            config_result,
            config_phase: String::new(),
            detailed: String::new(),
        }
    }

    /// With the app instance the task configures.
    #[must_use]
    pub fn with_app_instance_id(mut self, app_instance_id: impl Into<AppInstanceId>) -> Self {
        self.app_instance_id = app_instance_id.into().into_string();
        self
    }

    /// With its progress in percent (`"0"` .. `"100"`).
    #[must_use]
    pub fn with_config_phase(mut self, phase: impl Into<String>) -> Self {
        self.config_phase = phase.into();
        self
    }

    /// With a human-readable detail.
    #[must_use]
    pub fn with_detailed(mut self, detailed: impl Into<String>) -> Self {
        self.detailed = detailed.into();
        self
    }
}

impl CapabilityConsumer {
    /// The consuming app instance `application_instance_id`.
    pub fn new(application_instance_id: impl Into<String>) -> Self {
        Self {
            application_instance_id: application_instance_id.into(),
        }
    }
}

impl PlatformCapability {
    /// The service `capability_id` named `capability_name` in `state`, without consumers; its version is set
    /// with [`with_version`](Self::with_version).
    pub fn new(
        capability_id: impl Into<ServiceId>,
        capability_name: impl Into<String>,
        state: ServiceState,
    ) -> Self {
        Self {
            capability_id: capability_id.into().into_string(),
            capability_name: capability_name.into(),
            status: state.as_str().to_owned(),
            version: String::new(),
            consumers: Vec::new(),
        }
    }

    /// With the service's version.
    #[must_use]
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// With its consumers.
    #[must_use]
    pub fn with_consumers(mut self, consumers: Vec<CapabilityConsumer>) -> Self {
        self.consumers = consumers;
        self
    }
}

impl SubscribeStatistic {
    /// The counts and the relations.
    pub fn new(subscribe_num: SubscribeNum, subscribe_relations: Vec<SubscribeRelation>) -> Self {
        Self {
            subscribe_num,
            subscribe_relations,
        }
    }
}

impl SubscribeNum {
    /// `app_subscribe_num` subscribing apps, `service_subscribed_num` services subscribed to.
    pub fn new(app_subscribe_num: u64, service_subscribed_num: u64) -> Self {
        Self {
            app_subscribe_num,
            service_subscribed_num,
        }
    }
}

impl SubscribeRelation {
    /// `subscribe_app_id` subscribed to `service_list`.
    pub fn new(subscribe_app_id: impl Into<String>, service_list: Vec<String>) -> Self {
        Self {
            subscribe_app_id: subscribe_app_id.into(),
            service_list,
        }
    }
}

impl CallStatistics {
    /// Calls to apps' services and to the MEP's own.
    pub fn new(app_services: Vec<ServiceCalls>, mep_services: Vec<ServiceCalls>) -> Self {
        Self {
            app_services,
            mep_services,
        }
    }
}

impl ServiceCalls {
    /// The calls per day (today first) to the service `name`, without a description.
    pub fn new(name: impl Into<String>, call_times: Vec<u64>) -> Self {
        Self {
            name: name.into(),
            desc: String::new(),
            call_times,
        }
    }
}
