//! Traffic rules (`TrafficRule`) and what they carry.

use super::common::{Blank, blank_struct_as_none, null_as_empty};
use mec_core::wire::empty_as_none;
use serde::{Deserialize, Deserializer, Serialize};

mec_core::wire_enum! {
    /// Whether a rule is in force (`TrafficRule.state`, `DnsRule.state`).
    pub enum RuleState {
        /// In force (EdgeGallery treats an empty or absent state as this).
        Active = "ACTIVE",
        /// Stored but not applied.
        Inactive = "INACTIVE",
    }
}

#[allow(clippy::derivable_impls)] // declared by a macro, which derives no Default
impl Default for RuleState {
    fn default() -> Self {
        Self::Active
    }
}

mec_core::wire_enum! {
    /// What a traffic filter applies to (`filterType`).
    pub enum FilterType {
        /// Flows (the user plane).
        Flow = "FLOW",
        /// Packets.
        Packet = "PACKET",
    }
}

mec_core::wire_enum! {
    /// What to do with matching traffic (`action`).
    ///
    /// ETSI's six actions, and EdgeGallery's `FORWARD_AS_IS` and `DUPLICATE_AS_IS`, which its MEP accepts.
    pub enum TrafficAction {
        /// Drop it.
        Drop = "DROP",
        /// Forward it, decapsulated.
        ForwardDecapsulated = "FORWARD_DECAPSULATED",
        /// Forward it, encapsulated.
        ForwardEncapsulated = "FORWARD_ENCAPSULATED",
        /// Let it pass.
        Passthrough = "PASSTHROUGH",
        /// Duplicate it, decapsulated.
        DuplicateDecapsulated = "DUPLICATE_DECAPSULATED",
        /// Duplicate it, encapsulated.
        DuplicateEncapsulated = "DUPLICATE_ENCAPSULATED",
        /// Forward it unchanged (EdgeGallery).
        ForwardAsIs = "FORWARD_AS_IS",
        /// Duplicate it unchanged (EdgeGallery).
        DuplicateAsIs = "DUPLICATE_AS_IS",
    }
}

/// Which traffic a rule matches (`TrafficFilter`). Addresses and ports are strings: prefixes and ranges allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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
    /// Target tunnel addresses (EdgeGallery's MEP manager writes `dstTunnelAddress`, read too).
    #[serde(
        default,
        alias = "dstTunnelAddress",
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

mec_core::wire_enum! {
    /// The kind of a destination interface (`interfaceType`).
    pub enum InterfaceType {
        /// A tunnel.
        Tunnel = "TUNNEL",
        /// A MAC address.
        Mac = "MAC",
        /// An IP address.
        Ip = "IP",
    }
}

mec_core::wire_enum! {
    /// The kind of a tunnel (`tunnelType`).
    pub enum TunnelType {
        /// GTP-U.
        GtpU = "GTP_U",
        /// GRE.
        Gre = "GRE",
    }
}

/// A tunnel's ends (`TunnelInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TunnelInfo {
    /// The kind of tunnel.
    pub tunnel_type: TunnelType,
    /// Its destination address.
    #[serde(
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub tunnel_dst_address: Option<String>,
    /// Its source address.
    #[serde(
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub tunnel_src_address: Option<String>,
}

impl Blank for TunnelInfo {
    fn is_blank(&self) -> bool {
        self.tunnel_type.is_blank()
            && self.tunnel_dst_address.is_none()
            && self.tunnel_src_address.is_none()
    }
}

/// Where matching traffic goes (`DestinationInterface`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DestinationInterface {
    /// The kind of interface.
    pub interface_type: InterfaceType,
    /// The tunnel, for `TUNNEL`. EdgeGallery's MEP writes an all-empty tunnel for other interfaces (read as
    /// absent); its MEP manager writes the key as `TunnelInfo`.
    #[serde(
        default,
        alias = "TunnelInfo",
        deserialize_with = "blank_struct_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub tunnel_info: Option<TunnelInfo>,
    /// Source MAC address (`""`, which EdgeGallery's MEP manager always sends, reads as absent).
    #[serde(
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub src_mac_address: Option<String>,
    /// Destination MAC address (`""` reads as absent).
    #[serde(
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub dst_mac_address: Option<String>,
    /// Destination IP address (`""` reads as absent).
    #[serde(
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub dst_ip_address: Option<String>,
}

/// A traffic rule (`TrafficRule`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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

/// Reads `dstInterface` as an array (2.2.1, EdgeGallery), one object (2.1.1) or `null`. A visitor rather than an
/// untagged enum, so that the elements are read by the caller's deserializer (keys in any case included).
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DestinationInterface>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<DestinationInterface>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a destination interface or an array of them")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut all = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
            while let Some(i) = seq.next_element()? {
                all.push(i);
            }
            Ok(all)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            DestinationInterface::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                .map(|i| vec![i])
        }
    }
    d.deserialize_any(V)
}

impl TrafficFilter {
    /// A filter matching every packet; narrow it with the setters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Matching these source addresses.
    #[must_use]
    pub fn with_src_address(mut self, addresses: Vec<String>) -> Self {
        self.src_address = addresses;
        self
    }

    /// Matching these destination addresses.
    #[must_use]
    pub fn with_dst_address(mut self, addresses: Vec<String>) -> Self {
        self.dst_address = addresses;
        self
    }

    /// Matching these source ports.
    #[must_use]
    pub fn with_src_port(mut self, ports: Vec<String>) -> Self {
        self.src_port = ports;
        self
    }

    /// Matching these destination ports.
    #[must_use]
    pub fn with_dst_port(mut self, ports: Vec<String>) -> Self {
        self.dst_port = ports;
        self
    }

    /// Matching these protocols.
    #[must_use]
    pub fn with_protocol(mut self, protocols: Vec<String>) -> Self {
        self.protocol = protocols;
        self
    }
}

impl TunnelInfo {
    /// A tunnel of kind `tunnel_type`, its ends not given.
    pub fn new(tunnel_type: TunnelType) -> Self {
        Self {
            tunnel_type,
            tunnel_dst_address: None,
            tunnel_src_address: None,
        }
    }

    /// With its source and destination addresses.
    #[must_use]
    pub fn with_addresses(mut self, src: impl Into<String>, dst: impl Into<String>) -> Self {
        self.tunnel_src_address = Some(src.into());
        self.tunnel_dst_address = Some(dst.into());
        self
    }
}

impl DestinationInterface {
    /// An interface of kind `interface_type`, nothing else given.
    pub fn new(interface_type: InterfaceType) -> Self {
        Self {
            interface_type,
            tunnel_info: None,
            src_mac_address: None,
            dst_mac_address: None,
            dst_ip_address: None,
        }
    }

    /// An `IP` interface to `address`.
    pub fn ip(address: impl Into<String>) -> Self {
        Self::new(InterfaceType::Ip).with_dst_ip_address(address)
    }

    /// A `TUNNEL` interface through `tunnel`.
    pub fn tunnel(tunnel: TunnelInfo) -> Self {
        Self {
            tunnel_info: Some(tunnel),
            ..Self::new(InterfaceType::Tunnel)
        }
    }

    /// With a destination IP address.
    #[must_use]
    pub fn with_dst_ip_address(mut self, address: impl Into<String>) -> Self {
        self.dst_ip_address = Some(address.into());
        self
    }

    /// With source and destination MAC addresses.
    #[must_use]
    pub fn with_mac_addresses(mut self, src: impl Into<String>, dst: impl Into<String>) -> Self {
        self.src_mac_address = Some(src.into());
        self.dst_mac_address = Some(dst.into());
        self
    }
}

impl TrafficRule {
    /// An active rule `traffic_rule_id` doing `action` to the traffic `traffic_filter` matches, with no
    /// destination interface (add one with [`with_dst_interface`](Self::with_dst_interface) to forward or
    /// duplicate).
    pub fn new(
        traffic_rule_id: impl Into<String>,
        filter_type: FilterType,
        priority: u32,
        traffic_filter: Vec<TrafficFilter>,
        action: TrafficAction,
    ) -> Self {
        Self {
            traffic_rule_id: traffic_rule_id.into(),
            filter_type,
            priority,
            traffic_filter,
            action,
            dst_interface: Vec::new(),
            state: RuleState::default(),
        }
    }

    /// With one more destination interface.
    #[must_use]
    pub fn with_dst_interface(mut self, interface: DestinationInterface) -> Self {
        self.dst_interface.push(interface);
        self
    }

    /// In `state`.
    #[must_use]
    pub fn with_state(mut self, state: RuleState) -> Self {
        self.state = state;
        self
    }
}
