//! App registration (`/registrations`, ETSI GS MEC 011 3.x): `AppInfo` and its dependencies.

use super::common::{CategoryRef, blank_struct_as_none, null_as_empty};
use super::services::{EndPointInfo, SecurityInfo, SerializerType, TransportType};
use serde::{Deserialize, Serialize};

/// A transport an app can use (`TransportDescriptor`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransportDescriptor {
    /// Transport name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The kind of transport.
    #[serde(rename = "type")]
    pub type_: TransportType,
    /// Protocol.
    pub protocol: String,
    /// Protocol version.
    pub version: String,
    /// Security.
    #[serde(default)]
    pub security: SecurityInfo,
    /// Implementation-specific information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impl_specific_info: Option<serde_json::Value>,
}

/// A transport an app depends on (`TransportDependency`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransportDependency {
    /// The transport.
    pub transport: TransportDescriptor,
    /// Serializers the app can use over it.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub serializers: Vec<SerializerType>,
    /// Labels.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub labels: Vec<String>,
}

/// A service an app depends on (`ServiceDependency`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDependency {
    /// Service name.
    pub ser_name: String,
    /// Service category.
    #[serde(
        default,
        deserialize_with = "blank_struct_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub ser_category: Option<CategoryRef>,
    /// Service version.
    pub version: String,
    /// Transports the app can use with it.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ser_transport_dependencies: Vec<TransportDependency>,
    /// Permissions the app asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_permissions: Option<serde_json::Value>,
}

/// A platform feature an app depends on (`FeatureDependency`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureDependency {
    /// Feature name.
    pub feature_name: String,
    /// Feature version.
    pub version: String,
}

/// An app registering itself with the MEP (`AppInfo`, MEC 011 3.x).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// App name (the only required member).
    pub app_name: String,
    /// App provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_provider: Option<String>,
    /// App category.
    #[serde(
        default,
        deserialize_with = "blank_struct_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub app_category: Option<CategoryRef>,
    /// App descriptor id.
    #[serde(rename = "appDId", default, skip_serializing_if = "Option::is_none")]
    pub app_d_id: Option<String>,
    /// App instance id (present when instantiated by MEC management; assigned by the MEP otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_instance_id: Option<String>,
    /// Where the app is reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EndPointInfo>,
    /// Services it requires.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub app_service_required: Vec<ServiceDependency>,
    /// Services it can use.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub app_service_optional: Vec<ServiceDependency>,
    /// Features it requires.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub app_feature_required: Vec<FeatureDependency>,
    /// Features it can use.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub app_feature_optional: Vec<FeatureDependency>,
    /// Whether MEC management instantiated it.
    #[serde(
        rename = "isInsByMec",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_ins_by_mec: Option<bool>,
    /// Its EAS profile (3GPP TS 29.558), kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_profile: Option<serde_json::Value>,
}
