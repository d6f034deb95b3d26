//! Traffic rules (`TrafficRule`) and what they carry.

use super::common::null_as_empty;
use serde::{Deserialize, Deserializer, Serialize};

/// Whether a rule is in force (`TrafficRule.state`, `DnsRule.state`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum RuleState {
    /// In force (EdgeGallery treats an empty state as this).
    #[default]
    Active,
    /// Stored but not applied.
    Inactive,
}

/// What a traffic filter applies to (`filterType`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum FilterType {
    /// Flows (the user plane).
    Flow,
    /// Packets.
    Packet,
}

/// What to do with matching traffic (`action`).
///
/// ETSI's six actions, and EdgeGallery's `FORWARD_AS_IS` and `DUPLICATE_AS_IS`, which its MEP accepts.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum TrafficAction {
    /// Drop it.
    Drop,
    /// Forward it, decapsulated.
    ForwardDecapsulated,
    /// Forward it, encapsulated.
    ForwardEncapsulated,
    /// Let it pass.
    Passthrough,
    /// Duplicate it, decapsulated.
    DuplicateDecapsulated,
    /// Duplicate it, encapsulated.
    DuplicateEncapsulated,
    /// Forward it unchanged (EdgeGallery).
    ForwardAsIs,
    /// Duplicate it unchanged (EdgeGallery).
    DuplicateAsIs,
}

/// Which traffic a rule matches (`TrafficFilter`). Addresses and ports are strings: prefixes and ranges allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficFilter {
    /// Source addresses.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub src_address: Vec<String>,
    /// Destination addresses.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dst_address: Vec<String>,
    /// Source ports.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub src_port: Vec<String>,
    /// Destination ports.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dst_port: Vec<String>,
    /// Protocols.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub protocol: Vec<String>,
    /// Tags (3.x `tag`; 2.1.1 named it `token`, read too).
    #[serde(
        default,
        alias = "token",
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tag: Vec<String>,
    /// Source tunnel addresses.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub src_tunnel_address: Vec<String>,
    /// Target tunnel addresses.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tgt_tunnel_address: Vec<String>,
    /// Source tunnel ports.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub src_tunnel_port: Vec<String>,
    /// Destination tunnel ports.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dst_tunnel_port: Vec<String>,
    /// QoS class identifier.
    #[serde(rename = "qCI", default, skip_serializing_if = "Option::is_none")]
    pub q_ci: Option<u32>,
    /// DSCP value.
    #[serde(rename = "dSCP", default, skip_serializing_if = "Option::is_none")]
    pub d_scp: Option<u32>,
    /// Traffic class.
    #[serde(rename = "tC", default, skip_serializing_if = "Option::is_none")]
    pub t_c: Option<u32>,
}

/// The kind of a destination interface (`interfaceType`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum InterfaceType {
    /// A tunnel.
    Tunnel,
    /// A MAC address.
    Mac,
    /// An IP address.
    Ip,
}

/// The kind of a tunnel (`tunnelType`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TunnelType {
    /// GTP-U.
    #[serde(rename = "GTP_U")]
    GtpU,
    /// GRE.
    #[serde(rename = "GRE")]
    Gre,
}

/// A tunnel's ends (`TunnelInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TunnelInfo {
    /// The kind of tunnel.
    pub tunnel_type: TunnelType,
    /// Its destination address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_dst_address: Option<String>,
    /// Its source address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_src_address: Option<String>,
}

/// Where matching traffic goes (`DestinationInterface`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationInterface {
    /// The kind of interface.
    pub interface_type: InterfaceType,
    /// The tunnel, for `TUNNEL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_info: Option<TunnelInfo>,
    /// Source MAC address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_mac_address: Option<String>,
    /// Destination MAC address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_mac_address: Option<String>,
    /// Destination IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_ip_address: Option<String>,
}

/// A traffic rule (`TrafficRule`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficRule {
    /// The rule id.
    pub traffic_rule_id: String,
    /// What the filters apply to.
    pub filter_type: FilterType,
    /// Priority, 0 (highest) to 255.
    pub priority: u32,
    /// The filters (EdgeGallery writes `null` for none).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub traffic_filter: Vec<TrafficFilter>,
    /// What to do with matching traffic.
    pub action: TrafficAction,
    /// Where it goes: none for DROP, one to forward, two to duplicate. 2.1.1 writes one object, 2.2.1 and
    /// EdgeGallery an array; both are read, an array is written.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dst_interface: Vec<DestinationInterface>,
    /// Whether the rule is in force (EdgeGallery may omit it: ACTIVE).
    #[serde(default)]
    pub state: RuleState,
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DestinationInterface>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<DestinationInterface>),
        One(DestinationInterface),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        Some(OneOrMany::Many(v)) => v,
        Some(OneOrMany::One(i)) => vec![i],
        None => Vec::new(),
    })
}
