//! Checks of request bodies beyond their types: the rules ETSI GS MEC 011 states in prose and the limits
//! EdgeGallery's MEP enforces. Each failure names the member at fault as a JSON path.

use super::app_support::{AppReadyConfirmation, AppTerminationConfirmation};
use super::dns_rules::{DnsRule, IpAddressType};
use super::registrations::AppInfo;
use super::services::{
    EndPointInfo, ServiceInfo, ServiceLivenessUpdate, ServiceState, TransportInfo,
};
use super::subscriptions::{
    AppTerminationNotificationSubscription, FilteringCriteria,
    SerAvailabilityNotificationSubscription,
};
use super::traffic_rules::{InterfaceType, TrafficAction, TrafficFilter, TrafficRule};
use mec_core::wire::WireEnum;
use std::fmt;
use std::net::IpAddr;

/// A request body member that breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidMember {
    /// The member's JSON path, e.g. `transportInfo.endpoint.addresses[0].port`.
    pub member: String,
    /// What is wrong with it.
    pub reason: String,
}

impl InvalidMember {
    /// `member` (a JSON path) breaks a rule, `reason` says which.
    pub fn new(member: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            member: member.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for InvalidMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.member, self.reason)
    }
}

impl std::error::Error for InvalidMember {}

/// A body that can be checked before it is acted on.
pub trait Validate {
    /// Ok, or the first member at fault.
    fn validate(&self) -> Result<(), InvalidMember>;
}

fn fail<T>(member: impl Into<String>, reason: impl Into<String>) -> Result<T, InvalidMember> {
    Err(InvalidMember {
        member: member.into(),
        reason: reason.into(),
    })
}

/// Refuses a value this version does not know (readers keep them; requests may not carry them).
fn known<E: WireEnum>(member: &str, value: &E) -> Result<(), InvalidMember> {
    if value.is_known() {
        return Ok(());
    }
    fail(
        member,
        format!(
            "unknown value {:?}; expected one of {}",
            value.as_str(),
            E::KNOWN.join(", ")
        ),
    )
}

fn length(member: &str, value: &str, min: usize, max: usize) -> Result<(), InvalidMember> {
    let n = value.chars().count();
    if n < min || n > max {
        return fail(
            member,
            format!("must be {min} to {max} characters long, got {n}"),
        );
    }
    Ok(())
}

/// EdgeGallery's `validateName`: letters and digits, with `_` and `-` inside.
fn is_name(s: &str) -> bool {
    let inner = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let (first, last) = (s.chars().next(), s.chars().last());
    s.chars().all(inner)
        && first.is_some_and(|c| c.is_ascii_alphanumeric())
        && last.is_some_and(|c| c.is_ascii_alphanumeric())
}

fn http_url(member: &str, value: &str) -> Result<(), InvalidMember> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => fail(
            member,
            format!("must be an absolute http(s) URL, got {value:?}"),
        ),
    }
}

fn validate_transport(member: &str, t: &TransportInfo) -> Result<(), InvalidMember> {
    length(&format!("{member}.id"), &t.id, 1, 64)?;
    known(&format!("{member}.type"), &t.type_)?;
    length(&format!("{member}.name"), &t.name, 1, 128)?;
    length(&format!("{member}.protocol"), &t.protocol, 1, 32)?;
    length(&format!("{member}.version"), &t.version, 1, 32)?;
    validate_endpoint(&format!("{member}.endpoint"), &t.endpoint)
}

fn validate_endpoint(endpoint: &str, e: &EndPointInfo) -> Result<(), InvalidMember> {
    match e {
        EndPointInfo::Uris(uris) => {
            // "formatted according to URI syntax" (RFC 3986): absolute URIs and references such as the
            // spec's own example `/mecSerMgmtApi/service/EntryPoint`.
            for (i, u) in uris.iter().enumerate() {
                if u.is_empty() || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return fail(format!("{endpoint}.uris[{i}]"), format!("not a URI: {u:?}"));
                }
            }
        }
        EndPointInfo::Addresses(addresses) => {
            for (i, a) in addresses.iter().enumerate() {
                length(&format!("{endpoint}.addresses[{i}].host"), &a.host, 1, 253)?;
                if a.port == 0 || a.port > 65535 {
                    return fail(
                        format!("{endpoint}.addresses[{i}].port"),
                        "must be 1 to 65535",
                    );
                }
            }
        }
        EndPointInfo::Fqdn(names) => {
            for (i, n) in names.iter().enumerate() {
                if !is_domain(n) {
                    return fail(
                        format!("{endpoint}.fqdn[{i}]"),
                        format!("not a domain name: {n:?}"),
                    );
                }
            }
        }
        EndPointInfo::Alternative(_) => {}
    }
    Ok(())
}

impl ServiceInfo {
    /// Checks a registration (POST): besides [`Validate::validate`], `transportId` or `transportInfo` (ETSI GS
    /// MEC 011 `ServiceInfo` note 2). Both together are accepted, as EdgeGallery's MEP does: its mep-agent always
    /// sends `transportId` next to a full `transportInfo`; the MEP checks that they agree.
    pub fn validate_for_create(&self) -> Result<(), InvalidMember> {
        self.validate()?;
        if self.transport_id.is_none() && self.transport_info.is_none() {
            return fail("transportInfo", "give transportId or transportInfo");
        }
        Ok(())
    }
}

impl Validate for ServiceInfo {
    fn validate(&self) -> Result<(), InvalidMember> {
        length("serName", &self.ser_name, 1, 128)?;
        if !is_name(&self.ser_name) {
            return fail(
                "serName",
                "may only contain letters, digits, '_' and '-', and start and end with a letter or digit",
            );
        }
        length("version", &self.version, 1, 32)?;
        known("state", &self.state)?;
        known("serializer", &self.serializer)?;
        if let Some(scope) = &self.scope_of_locality {
            known("scopeOfLocality", scope)?;
        }
        if let Some(id) = &self.ser_instance_id {
            length("serInstanceId", id, 1, 64)?;
        }
        if let Some(id) = &self.transport_id {
            length("transportId", id, 1, 64)?;
        }
        if let Some(c) = &self.ser_category {
            length("serCategory.id", &c.id, 1, 64)?;
            length("serCategory.name", &c.name, 1, 128)?;
            length("serCategory.version", &c.version, 1, 32)?;
        }
        if let Some(t) = &self.transport_info {
            validate_transport("transportInfo", t)?;
        }
        if self.liveness_interval.is_some_and(|i| i > 2_147_483_646) {
            return fail("livenessInterval", "must be at most 2147483646");
        }
        Ok(())
    }
}

impl Validate for ServiceLivenessUpdate {
    fn validate(&self) -> Result<(), InvalidMember> {
        if self.state == ServiceState::Active {
            Ok(())
        } else {
            fail("state", "a heartbeat can only set ACTIVE")
        }
    }
}

impl Validate for FilteringCriteria {
    fn validate(&self) -> Result<(), InvalidMember> {
        let given = [
            !self.ser_instance_ids.is_empty(),
            !self.ser_names.is_empty(),
            !self.ser_categories.is_empty(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return fail(
                "filteringCriteria",
                "give at most one of serInstanceIds, serNames and serCategories",
            );
        }
        for (i, id) in self.ser_instance_ids.iter().enumerate() {
            length(&format!("filteringCriteria.serInstanceIds[{i}]"), id, 1, 64)?;
        }
        for (i, n) in self.ser_names.iter().enumerate() {
            length(&format!("filteringCriteria.serNames[{i}]"), n, 1, 128)?;
        }
        for (i, state) in self.states.iter().enumerate() {
            known(&format!("filteringCriteria.states[{i}]"), state)?;
        }
        Ok(())
    }
}

impl Validate for SerAvailabilityNotificationSubscription {
    fn validate(&self) -> Result<(), InvalidMember> {
        http_url("callbackReference", &self.callback_reference)?;
        if let Some(f) = &self.filtering_criteria {
            f.validate()?;
        }
        Ok(())
    }
}

impl Validate for AppTerminationNotificationSubscription {
    fn validate(&self) -> Result<(), InvalidMember> {
        http_url("callbackReference", &self.callback_reference)?;
        length("appInstanceId", &self.app_instance_id, 1, 64)
    }
}

fn is_port_spec(p: &str) -> bool {
    let port = |s: &str| s.parse::<u32>().is_ok_and(|n| n <= 65535);
    match p.split_once('-') {
        Some((a, b)) => port(a) && port(b) && a.parse::<u32>().ok() <= b.parse::<u32>().ok(),
        None => port(p),
    }
}

fn is_address_spec(a: &str) -> bool {
    match a.split_once('/') {
        Some((ip, prefix)) => ip.parse::<IpAddr>().is_ok_and(|ip| {
            let max = if ip.is_ipv4() { 32 } else { 128 };
            prefix.parse::<u8>().is_ok_and(|p| p <= max)
        }),
        None => a.parse::<IpAddr>().is_ok(),
    }
}

fn is_domain(d: &str) -> bool {
    let d = d.strip_suffix('.').unwrap_or(d);
    !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*')
        })
}

fn validate_filter(member: &str, f: &TrafficFilter) -> Result<(), InvalidMember> {
    let addresses = [
        ("srcAddress", &f.src_address),
        ("dstAddress", &f.dst_address),
        ("srcTunnelAddress", &f.src_tunnel_address),
        ("tgtTunnelAddress", &f.tgt_tunnel_address),
    ];
    for (name, list) in addresses {
        if let Some(bad) = list.iter().find(|a| !is_address_spec(a)) {
            return fail(
                format!("{member}.{name}"),
                format!("not an IP address or prefix: {bad:?}"),
            );
        }
    }
    let ports = [
        ("srcPort", &f.src_port),
        ("dstPort", &f.dst_port),
        ("srcTunnelPort", &f.src_tunnel_port),
        ("dstTunnelPort", &f.dst_tunnel_port),
    ];
    for (name, list) in ports {
        if let Some(bad) = list.iter().find(|p| !is_port_spec(p)) {
            return fail(
                format!("{member}.{name}"),
                format!("not a port or port range: {bad:?}"),
            );
        }
    }
    if f.q_ci.is_some_and(|v| v > 255) {
        return fail(format!("{member}.qCI"), "must be 0 to 255");
    }
    if f.d_scp.is_some_and(|v| v > 63) {
        return fail(format!("{member}.dSCP"), "must be 0 to 63");
    }
    if f.t_c.is_some_and(|v| v > 255) {
        return fail(format!("{member}.tC"), "must be 0 to 255");
    }
    Ok(())
}

impl Validate for TrafficRule {
    fn validate(&self) -> Result<(), InvalidMember> {
        length("trafficRuleId", &self.traffic_rule_id, 1, 63)?;
        known("filterType", &self.filter_type)?;
        known("action", &self.action)?;
        known("state", &self.state)?;
        if self.priority > 255 {
            return fail("priority", "must be 0 to 255");
        }
        for (i, f) in self.traffic_filter.iter().enumerate() {
            validate_filter(&format!("trafficFilter[{i}]"), f)?;
        }
        let most = match self.action {
            TrafficAction::Drop => 0,
            TrafficAction::DuplicateDecapsulated
            | TrafficAction::DuplicateEncapsulated
            | TrafficAction::DuplicateAsIs => 2,
            _ => 2,
        };
        if self.dst_interface.len() > most {
            return fail(
                "dstInterface",
                format!("at most {most} destination interfaces for this action"),
            );
        }
        for (i, d) in self.dst_interface.iter().enumerate() {
            let member = format!("dstInterface[{i}]");
            known(&format!("{member}.interfaceType"), &d.interface_type)?;
            if let Some(t) = &d.tunnel_info {
                known(&format!("{member}.tunnelInfo.tunnelType"), &t.tunnel_type)?;
            }
            if d.interface_type == InterfaceType::Tunnel && d.tunnel_info.is_none() {
                return fail(
                    format!("{member}.tunnelInfo"),
                    "required for interfaceType TUNNEL",
                );
            }
            if let Some(ip) = &d.dst_ip_address
                && ip.parse::<IpAddr>().is_err()
            {
                return fail(
                    format!("{member}.dstIpAddress"),
                    format!("not an IP address: {ip:?}"),
                );
            }
            for (name, mac) in [
                ("srcMacAddress", &d.src_mac_address),
                ("dstMacAddress", &d.dst_mac_address),
            ] {
                if let Some(mac) = mac
                    && !is_mac(mac)
                {
                    return fail(
                        format!("{member}.{name}"),
                        format!("not a MAC address: {mac:?}"),
                    );
                }
            }
        }
        Ok(())
    }
}

fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

impl Validate for DnsRule {
    fn validate(&self) -> Result<(), InvalidMember> {
        length("dnsRuleId", &self.dns_rule_id, 1, 63)?;
        length("domainName", &self.domain_name, 1, 255)?;
        if !is_domain(&self.domain_name) {
            return fail(
                "domainName",
                format!("not a domain name: {:?}", self.domain_name),
            );
        }
        known("ipAddressType", &self.ip_address_type)?;
        known("state", &self.state)?;
        let ip: IpAddr = self.ip_address.parse().map_err(|_| InvalidMember {
            member: "ipAddress".into(),
            reason: format!("not an IP address: {:?}", self.ip_address),
        })?;
        match (&self.ip_address_type, ip) {
            (IpAddressType::IpV4, IpAddr::V4(_)) | (IpAddressType::IpV6, IpAddr::V6(_)) => Ok(()),
            _ => fail("ipAddress", "does not match ipAddressType"),
        }
    }
}

impl Validate for AppInfo {
    /// MEC 011 3.1.1 clause 7.1.2.6 and its conditional presences: `endpoint` shall be present when `isInsByMec`
    /// is FALSE (its default); `appDId` and `appInstanceId` when it is TRUE; the service and feature dependencies
    /// shall not be given when an AppD is available (`appDId` given); `appProvider` shall be the `appProfile`'s
    /// `provId` when both are given (note 1).
    fn validate(&self) -> Result<(), InvalidMember> {
        length("appName", &self.app_name, 1, 128)?;
        if let Some(id) = &self.app_instance_id {
            length("appInstanceId", id, 1, 64)?;
        }
        let by_mec = self.is_ins_by_mec.unwrap_or(false);
        if !by_mec && self.endpoint.is_none() {
            return fail(
                "endpoint",
                "shall be present when isInsByMec is FALSE (its default when absent)",
            );
        }
        if by_mec {
            if self.app_d_id.is_none() {
                return fail("appDId", "shall be present when isInsByMec is TRUE");
            }
            if self.app_instance_id.is_none() {
                return fail("appInstanceId", "shall be present when isInsByMec is TRUE");
            }
        }
        if self.app_d_id.is_some() {
            let given = [
                ("appServiceRequired", !self.app_service_required.is_empty()),
                ("appServiceOptional", !self.app_service_optional.is_empty()),
                ("appFeatureRequired", !self.app_feature_required.is_empty()),
                ("appFeatureOptional", !self.app_feature_optional.is_empty()),
            ];
            if let Some((member, _)) = given.iter().find(|(_, g)| *g) {
                return fail(
                    *member,
                    "shall not be given when an AppD is available (appDId is given)",
                );
            }
        }
        if let (Some(provider), Some(prov_id)) = (
            &self.app_provider,
            self.app_profile
                .as_ref()
                .and_then(|p| p.get("provId"))
                .and_then(|v| v.as_str()),
        ) && provider != prov_id
        {
            return fail(
                "appProvider",
                format!("shall be the appProfile's provId ({prov_id:?})"),
            );
        }
        if let Some(endpoint) = &self.endpoint {
            validate_endpoint("endpoint", endpoint)?;
            same_end_point(endpoint, self.app_profile.as_ref())?;
        }
        let dependencies = [
            ("appServiceRequired", &self.app_service_required),
            ("appServiceOptional", &self.app_service_optional),
        ];
        for (name, list) in dependencies {
            for (i, dependency) in list.iter().enumerate() {
                for (j, t) in dependency.ser_transport_dependencies.iter().enumerate() {
                    let member = format!("{name}[{i}].serTransportDependencies[{j}]");
                    known(&format!("{member}.transport.type"), &t.transport.type_)?;
                    for (k, serializer) in t.serializers.iter().enumerate() {
                        known(&format!("{member}.serializers[{k}]"), serializer)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Note 2 of clause 7.1.2.6: with an `appProfile`, `endpoint` refers to the end point of its `endPt` (3GPP TS
/// 29.558 `EndPoint`: `uri`, `fqdn`). Where both name a URI (or both an FQDN), the profile's is one of the
/// endpoint's; other forms cannot be compared and are left alone.
fn same_end_point(
    endpoint: &EndPointInfo,
    profile: Option<&serde_json::Value>,
) -> Result<(), InvalidMember> {
    let Some(end_pt) = profile.and_then(|p| p.get("endPt")) else {
        return Ok(());
    };
    let (named, key) = match endpoint {
        EndPointInfo::Uris(uris) => (uris, "uri"),
        EndPointInfo::Fqdn(names) => (names, "fqdn"),
        _ => return Ok(()),
    };
    match end_pt.get(key).and_then(|v| v.as_str()) {
        Some(theirs) if !named.iter().any(|n| n.eq_ignore_ascii_case(theirs)) => fail(
            "endpoint",
            format!("shall refer to the appProfile's endPt ({key} {theirs:?})"),
        ),
        _ => Ok(()),
    }
}

impl Validate for AppReadyConfirmation {
    fn validate(&self) -> Result<(), InvalidMember> {
        known("indication", &self.indication)
    }
}

impl Validate for AppTerminationConfirmation {
    fn validate(&self) -> Result<(), InvalidMember> {
        known("operationAction", &self.operation_action)
    }
}
