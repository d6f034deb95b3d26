//! Service management types: `ServiceInfo` and what it carries, and service liveness.

use super::common::{Blank, CategoryRef, LinkType, blank_struct_as_none, null_as_empty};
use mec_core::TimeStamp;
use mec_core::wire::{blank_as_none, empty_as_none};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

mec_core::wire_enum! {
    /// The state of a service instance (`ServiceState`; `SUSPENDED` from MEC 011 2.2.1).
    pub enum ServiceState {
        /// Available.
        Active = "ACTIVE",
        /// Registered but not available.
        Inactive = "INACTIVE",
        /// Stopped sending heartbeats (MEC 011 2.2.1+).
        Suspended = "SUSPENDED",
    }
}

mec_core::wire_enum! {
    /// How a service serializes its messages (`SerializerType`).
    pub enum SerializerType {
        /// JSON.
        Json = "JSON",
        /// XML.
        Xml = "XML",
        /// Protocol buffers version 3.
        Protobuf3 = "PROTOBUF3",
    }
}

mec_core::wire_enum! {
    /// Where a service is available (`LocalityType`).
    pub enum LocalityType {
        /// The whole MEC system.
        MecSystem = "MEC_SYSTEM",
        /// One MEC host (ETSI's default).
        MecHost = "MEC_HOST",
        /// One NFVI point of presence.
        NfviPop = "NFVI_POP",
        /// A zone.
        Zone = "ZONE",
        /// A group of zones.
        ZoneGroup = "ZONE_GROUP",
        /// One NFVI node.
        NfviNode = "NFVI_NODE",
    }
}

mec_core::wire_enum! {
    /// The kind of transport (`TransportType`, `TransportTypes` in 3.x).
    pub enum TransportType {
        /// REST over HTTP.
        RestHttp = "REST_HTTP",
        /// Topic-based message bus.
        MbTopicBased = "MB_TOPIC_BASED",
        /// Routing-based message bus.
        MbRouting = "MB_ROUTING",
        /// Publish-subscribe message bus.
        MbPubsub = "MB_PUBSUB",
        /// Remote procedure calls.
        Rpc = "RPC",
        /// Streaming remote procedure calls.
        RpcStreaming = "RPC_STREAMING",
        /// WebSocket.
        Websocket = "WEBSOCKET",
    }
}

mec_core::wire_enum! {
    /// An OAuth 2.0 grant type (`OAuth2Info.grantTypes`). EdgeGallery reads a missing list back as `[""]`
    /// (mepserver `mm5/controller_test.go writeAllServices`): an `Unknown("")`, kept as sent.
    pub enum GrantType {
        /// `OAUTH2_AUTHORIZATION_CODE`.
        Oauth2AuthorizationCode = "OAUTH2_AUTHORIZATION_CODE",
        /// `OAUTH2_IMPLICIT_GRANT`.
        Oauth2ImplicitGrant = "OAUTH2_IMPLICIT_GRANT",
        /// `OAUTH2_RESOURCE_OWNER`.
        Oauth2ResourceOwner = "OAUTH2_RESOURCE_OWNER",
        /// `OAUTH2_CLIENT_CREDENTIALS`.
        Oauth2ClientCredentials = "OAUTH2_CLIENT_CREDENTIALS",
    }
}

/// OAuth 2.0 parameters of a transport (`OAuth2Info`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OAuth2Info {
    /// The grant types supported.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub grant_types: Vec<GrantType>,
    /// The token endpoint (required in 2.1.1, optional in 3.x).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
}

/// Security of a transport (`SecurityInfo`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SecurityInfo {
    /// OAuth 2.0 parameters.
    #[serde(
        rename = "oAuth2Info",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub o_auth2_info: Option<OAuth2Info>,
    /// Extensions (3.x), kept as sent.
    #[serde(flatten)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// A host and port (`EndPointInfo.Address`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Address {
    /// Host name or IP address.
    pub host: String,
    /// Port number.
    pub port: u32,
}

/// Where a transport is reached (`EndPointInfo`): exactly one of its forms.
///
/// On the wire it is a one-key object (`{"uris":[..]}`, `{"addresses":[..]}`, `{"alternative":{..}}`,
/// `{"fqdn":[..]}` in 3.x). EdgeGallery writes all keys, the unused ones as `null`; the first non-null one is read.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EndPointInfo {
    /// URIs.
    Uris(Vec<String>),
    /// Host and port pairs.
    Addresses(Vec<Address>),
    /// Another form, left to the implementation.
    Alternative(serde_json::Value),
    /// Fully qualified domain names (3.x).
    Fqdn(Vec<String>),
}

impl Serialize for EndPointInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        match self {
            Self::Uris(v) => m.serialize_entry("uris", v)?,
            Self::Addresses(v) => m.serialize_entry("addresses", v)?,
            Self::Alternative(v) => m.serialize_entry("alternative", v)?,
            Self::Fqdn(v) => m.serialize_entry("fqdn", v)?,
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for EndPointInfo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let take = |key: &str| map.get(key).filter(|v| !v.is_null()).cloned();
        if let Some(v) = take("uris") {
            return serde_json::from_value(v)
                .map(Self::Uris)
                .map_err(D::Error::custom);
        }
        if let Some(v) = take("addresses") {
            return serde_json::from_value(v)
                .map(Self::Addresses)
                .map_err(D::Error::custom);
        }
        if let Some(v) = take("fqdn") {
            return serde_json::from_value(v)
                .map(Self::Fqdn)
                .map_err(D::Error::custom);
        }
        if let Some(v) = take("alternative") {
            return Ok(Self::Alternative(v));
        }
        // EdgeGallery's transports list: every key null.
        if ["uris", "addresses", "alternative"]
            .iter()
            .any(|k| map.contains_key(*k))
        {
            return Ok(Self::Uris(Vec::new()));
        }
        Err(D::Error::custom(
            "endpoint: expected one of uris, addresses, alternative or fqdn",
        ))
    }
}

/// A transport a service is offered over (`TransportInfo`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TransportInfo {
    /// Transport id.
    pub id: String,
    /// Transport name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The kind of transport.
    #[serde(rename = "type")]
    pub type_: TransportType,
    /// The protocol (e.g. `HTTP`).
    pub protocol: String,
    /// The protocol version.
    pub version: String,
    /// Where it is reached.
    pub endpoint: EndPointInfo,
    /// Its security.
    #[serde(default)]
    pub security: SecurityInfo,
    /// Implementation-specific information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impl_specific_info: Option<serde_json::Value>,
}

impl TransportInfo {
    /// A REST transport over HTTP at `uri` (`REST_HTTP`, protocol `HTTP` 2.0, as ETSI's examples write it), with
    /// id `rest-http`: what most services offer.
    ///
    /// ```
    /// use mec_mp1::model::{EndPointInfo, TransportInfo, TransportType};
    ///
    /// let t = TransportInfo::rest_http("http://10.0.0.7:8080/rnis").with_id("t1");
    /// assert_eq!((t.id.as_str(), &t.type_), ("t1", &TransportType::RestHttp));
    /// assert_eq!(t.endpoint, EndPointInfo::Uris(vec!["http://10.0.0.7:8080/rnis".into()]));
    /// ```
    pub fn rest_http(uri: impl Into<String>) -> Self {
        Self {
            id: "rest-http".to_owned(),
            name: "REST".to_owned(),
            description: None,
            type_: TransportType::RestHttp,
            protocol: "HTTP".to_owned(),
            version: "2.0".to_owned(),
            endpoint: EndPointInfo::Uris(vec![uri.into()]),
            security: SecurityInfo::default(),
            impl_specific_info: None,
        }
    }

    /// A transport with its required members, no description and no security.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        type_: TransportType,
        protocol: impl Into<String>,
        version: impl Into<String>,
        endpoint: EndPointInfo,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            description: None,
            type_,
            protocol: protocol.into(),
            version: version.into(),
            endpoint,
            security: SecurityInfo::default(),
            impl_specific_info: None,
        }
    }

    /// Sets the id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the security (OAuth 2.0 grant types and token endpoint).
    #[must_use]
    pub fn with_security(mut self, security: SecurityInfo) -> Self {
        self.security = security;
        self
    }
}

impl Blank for TransportInfo {
    fn is_blank(&self) -> bool {
        self.id.is_empty()
            && self.name.is_empty()
            && self.type_.is_blank()
            && self.protocol.is_empty()
            && self.version.is_empty()
    }
}

/// The `self` link of a service. ETSI writes `{"href": ..}`; EdgeGallery puts the liveness URI here as
/// `{"liveness": ".."}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceSelfLink {
    /// The service's URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// The liveness URI, EdgeGallery's place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<String>,
}

/// The `_links` of a service (MEC 011 2.2.1+; "shall be absent in HTTP requests").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceLinks {
    /// The service itself.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_: Option<ServiceSelfLink>,
    /// Where heartbeats go, ETSI's place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<LinkType>,
    /// The owning app instance (EdgeGallery's extra member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_instance_id: Option<String>,
}

/// A service, as registered and discovered (`ServiceInfo`, with 2.1.1's `ServiceInfo.Post` folded in).
///
/// `consumedLocalOnly` and `isLocal` are kept as sent: ETSI defaults an absent value to `true`, EdgeGallery omits
/// `false` in its answers.
///
/// It is written through [`ServiceView`], which a server also uses to write a service it holds with links of its
/// own, without copying it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceInfo {
    /// Service instance id, assigned by the MEP.
    #[serde(default)]
    pub ser_instance_id: Option<String>,
    /// Service name.
    pub ser_name: String,
    /// Service category (EdgeGallery's all-empty category reads as absent).
    #[serde(default, deserialize_with = "blank_struct_as_none")]
    pub ser_category: Option<CategoryRef>,
    /// Service version.
    pub version: String,
    /// Service state.
    pub state: ServiceState,
    /// A transport from `GET /transports`, by id (instead of `transportInfo`; EdgeGallery's `""` reads as
    /// absent).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub transport_id: Option<String>,
    /// The transport (EdgeGallery's all-empty transport, written for a service registered without one, reads as
    /// absent).
    #[serde(default, deserialize_with = "blank_struct_as_none")]
    pub transport_info: Option<TransportInfo>,
    /// How messages are serialized.
    pub serializer: SerializerType,
    /// Where the service is available (`""` reads as absent).
    #[serde(default, deserialize_with = "blank_as_none")]
    pub scope_of_locality: Option<LocalityType>,
    /// Whether only local apps may consume it.
    #[serde(default)]
    pub consumed_local_only: Option<bool>,
    /// Whether it runs on the local MEC host.
    #[serde(default)]
    pub is_local: Option<bool>,
    /// Heartbeat interval in seconds (2.2.1+); 0 in a request lets the MEP choose.
    #[serde(default)]
    pub liveness_interval: Option<u32>,
    /// Links (2.2.1+).
    #[serde(rename = "_links", default)]
    pub links: Option<ServiceLinks>,
}

impl ServiceInfo {
    /// A service with its required members and nothing else.
    pub fn new(
        ser_name: String,
        version: String,
        state: ServiceState,
        serializer: SerializerType,
    ) -> Self {
        Self {
            ser_instance_id: None,
            ser_name,
            ser_category: None,
            version,
            state,
            transport_id: None,
            transport_info: None,
            serializer,
            scope_of_locality: None,
            consumed_local_only: None,
            is_local: None,
            liveness_interval: None,
            links: None,
        }
    }

    /// An active service speaking JSON over REST at `uri`: a registration in one call.
    ///
    /// ```
    /// use mec_mp1::model::{ServiceInfo, ServiceState};
    ///
    /// let s = ServiceInfo::rest_http("rnis", "2.0", "http://10.0.0.7:8080/rnis");
    /// assert_eq!(s.state, ServiceState::Active);
    /// assert_eq!(s.transport_info.unwrap().protocol, "HTTP");
    /// ```
    pub fn rest_http(
        ser_name: impl Into<String>,
        version: impl Into<String>,
        uri: impl Into<String>,
    ) -> Self {
        Self::new(
            ser_name.into(),
            version.into(),
            ServiceState::Active,
            SerializerType::Json,
        )
        .with_transport(TransportInfo::rest_http(uri))
    }

    /// Sets the category.
    #[must_use]
    pub fn with_category(mut self, category: CategoryRef) -> Self {
        self.ser_category = Some(category);
        self
    }

    /// Sets the transport.
    #[must_use]
    pub fn with_transport(mut self, transport: TransportInfo) -> Self {
        self.transport_info = Some(transport);
        self
    }

    /// Asks for heartbeats every `seconds` (0: let the MEP choose).
    #[must_use]
    pub fn with_liveness_interval(mut self, seconds: u32) -> Self {
        self.liveness_interval = Some(seconds);
        self
    }

    /// Sets the service instance id (which the MEP assigns on registration).
    #[must_use]
    pub fn with_ser_instance_id(mut self, id: impl Into<String>) -> Self {
        self.ser_instance_id = Some(id.into());
        self
    }

    /// Sets the scope of locality.
    #[must_use]
    pub fn with_scope_of_locality(mut self, scope: LocalityType) -> Self {
        self.scope_of_locality = Some(scope);
        self
    }

    /// Sets whether only local apps may consume it.
    #[must_use]
    pub fn with_consumed_local_only(mut self, local_only: bool) -> Self {
        self.consumed_local_only = Some(local_only);
        self
    }

    /// Sets whether it is local to the app's MEC host.
    #[must_use]
    pub fn with_is_local(mut self, is_local: bool) -> Self {
        self.is_local = Some(is_local);
        self
    }

    /// Sets the links (which a MEP sends, and requests leave out).
    #[must_use]
    pub fn with_links(mut self, links: ServiceLinks) -> Self {
        self.links = Some(links);
        self
    }

    /// The URI heartbeats go to: ETSI's `_links.liveness.href`, else EdgeGallery's `_links.self.liveness`.
    pub fn liveness_uri(&self) -> Option<&str> {
        let links = self.links.as_ref()?;
        links
            .liveness
            .as_ref()
            .map(|l| l.href.as_str())
            .or_else(|| links.self_.as_ref().and_then(|s| s.liveness.as_deref()))
    }
}

/// A [`ServiceInfo`] as it is written, borrowed, with its `_links` possibly taken from elsewhere: a server holding
/// services shared writes each with the links of the request it answers, without copying the service.
///
/// ```
/// use mec_mp1::model::{ServiceInfo, ServiceLinks, ServiceView, SerializerType, ServiceState};
///
/// let service = ServiceInfo::new("rnis".into(), "1.0".into(), ServiceState::Active, SerializerType::Json);
/// let links = ServiceLinks::default().with_liveness("http://mep/liveness");
/// let json = serde_json::to_value(ServiceView::new(&service).links(Some(&links))).unwrap();
/// assert_eq!(json["_links"]["liveness"]["href"], "http://mep/liveness");
/// assert_eq!(serde_json::to_value(&service).unwrap(), serde_json::to_value(ServiceView::new(&service)).unwrap());
/// ```
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    ser_instance_id: Option<&'a str>,
    ser_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ser_category: Option<&'a CategoryRef>,
    version: &'a str,
    state: &'a ServiceState,
    #[serde(skip_serializing_if = "Option::is_none")]
    transport_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transport_info: Option<&'a TransportInfo>,
    serializer: &'a SerializerType,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope_of_locality: Option<&'a LocalityType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_local_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_local: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    liveness_interval: Option<u32>,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    links: Option<&'a ServiceLinks>,
}

impl<'a> ServiceView<'a> {
    /// The service as it is.
    pub fn new(s: &'a ServiceInfo) -> Self {
        Self {
            ser_instance_id: s.ser_instance_id.as_deref(),
            ser_name: &s.ser_name,
            ser_category: s.ser_category.as_ref(),
            version: &s.version,
            state: &s.state,
            transport_id: s.transport_id.as_deref(),
            transport_info: s.transport_info.as_ref(),
            serializer: &s.serializer,
            scope_of_locality: s.scope_of_locality.as_ref(),
            consumed_local_only: s.consumed_local_only,
            is_local: s.is_local,
            liveness_interval: s.liveness_interval,
            links: s.links.as_ref(),
        }
    }

    /// The service with these `_links` instead of its own.
    #[must_use]
    pub fn links(mut self, links: Option<&'a ServiceLinks>) -> Self {
        self.links = links;
        self
    }

    /// The service with this `serInstanceId` instead of its own (`None` leaves it out, as a store that keys
    /// services by id does).
    #[must_use]
    pub fn ser_instance_id(mut self, id: Option<&'a str>) -> Self {
        self.ser_instance_id = id;
        self
    }
}

impl Serialize for ServiceInfo {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ServiceView::new(self).serialize(serializer)
    }
}

/// A service's liveness (`ServiceLivenessInfo`, 2.2.1+).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceLivenessInfo {
    /// The service state.
    pub state: ServiceState,
    /// When the last heartbeat arrived.
    pub time_stamp: TimeStamp,
    /// The heartbeat interval, in seconds.
    pub interval: u32,
}

/// A heartbeat (`ServiceLivenessUpdate`): `{"state": "ACTIVE"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceLivenessUpdate {
    /// Must be `ACTIVE`.
    pub state: ServiceState,
}

impl ServiceLivenessUpdate {
    /// A liveness update to `state` (a MEP accepts only `ACTIVE`: see [`active`](Self::active)).
    pub fn new(state: ServiceState) -> Self {
        Self { state }
    }

    /// The one valid heartbeat.
    pub fn active() -> Self {
        Self {
            state: ServiceState::Active,
        }
    }
}

impl OAuth2Info {
    /// The grant types supported and the token endpoint.
    pub fn new(grant_types: Vec<GrantType>, token_endpoint: Option<String>) -> Self {
        Self {
            grant_types,
            token_endpoint,
        }
    }
}

impl SecurityInfo {
    /// OAuth 2.0 security, no extensions.
    pub fn oauth2(info: OAuth2Info) -> Self {
        Self {
            o_auth2_info: Some(info),
            extensions: serde_json::Map::new(),
        }
    }
}

impl Address {
    /// `host:port`.
    pub fn new(host: impl Into<String>, port: u32) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }
}

impl ServiceSelfLink {
    /// A link to the service at `href`.
    pub fn new(href: impl Into<String>) -> Self {
        Self {
            href: Some(href.into()),
            liveness: None,
        }
    }

    /// With the liveness URI in EdgeGallery's place.
    #[must_use]
    pub fn with_liveness(mut self, uri: impl Into<String>) -> Self {
        self.liveness = Some(uri.into());
        self
    }
}

impl ServiceLinks {
    /// Links to the service itself, nothing else.
    pub fn new(self_: ServiceSelfLink) -> Self {
        Self {
            self_: Some(self_),
            ..Self::default()
        }
    }

    /// With where heartbeats go (ETSI's place).
    #[must_use]
    pub fn with_liveness(mut self, href: impl Into<String>) -> Self {
        self.liveness = Some(LinkType::new(href));
        self
    }

    /// With the owning app instance (EdgeGallery's extra member).
    #[must_use]
    pub fn with_app_instance_id(mut self, app_instance_id: impl Into<String>) -> Self {
        self.app_instance_id = Some(app_instance_id.into());
        self
    }
}

impl ServiceLivenessInfo {
    /// A service in `state`, last heard of at `time_stamp`, expected every `interval` seconds.
    pub fn new(state: ServiceState, time_stamp: TimeStamp, interval: u32) -> Self {
        Self {
            state,
            time_stamp,
            interval,
        }
    }
}
