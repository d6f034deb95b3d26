//! DNS rules (`DnsRule`).

use super::traffic_rules::RuleState;
use serde::{Deserialize, Serialize};

mec_core::wire_enum! {
    /// The family of a DNS rule's address. EdgeGallery's MEP manager writes `IPv4`/`IPv6`; both spellings are
    /// read, ETSI's is written.
    pub enum IpAddressType {
        /// IPv6.
        IpV6 = "IP_V6" | "IPv6",
        /// IPv4.
        IpV4 = "IP_V4" | "IPv4",
    }
}

/// A DNS rule: answer `domain_name` with `ip_address` (`DnsRule`). Members are in EdgeGallery's order, which its
/// ETags hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DnsRule {
    /// The rule id.
    pub dns_rule_id: String,
    /// The domain name.
    pub domain_name: String,
    /// The address family.
    pub ip_address_type: IpAddressType,
    /// The address.
    pub ip_address: String,
    /// Time to live in seconds (absent: never expires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    /// Whether the rule is in force (EdgeGallery may omit it: ACTIVE).
    #[serde(default)]
    pub state: RuleState,
}

impl DnsRule {
    /// An active rule answering `domain_name` with `ip_address`, which never expires.
    pub fn new(
        dns_rule_id: impl Into<String>,
        domain_name: impl Into<String>,
        ip_address_type: IpAddressType,
        ip_address: impl Into<String>,
    ) -> Self {
        Self {
            dns_rule_id: dns_rule_id.into(),
            domain_name: domain_name.into(),
            ip_address_type,
            ip_address: ip_address.into(),
            ttl: None,
            state: RuleState::default(),
        }
    }

    /// With a time to live, in seconds.
    #[must_use]
    pub fn with_ttl(mut self, seconds: u32) -> Self {
        self.ttl = Some(seconds);
        self
    }

    /// In `state`.
    #[must_use]
    pub fn with_state(mut self, state: RuleState) -> Self {
        self.state = state;
        self
    }
}
