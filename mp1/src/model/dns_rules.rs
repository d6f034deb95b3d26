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
