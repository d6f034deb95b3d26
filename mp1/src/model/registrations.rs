//! App registration (`/registrations`, ETSI GS MEC 011 3.x): `AppInfo` and its dependencies.

use super::common::{CategoryRef, blank_struct_as_none, null_as_empty};
use super::services::{EndPointInfo, SecurityInfo, SerializerType, TransportType};
use serde::{Deserialize, Serialize};

/// A transport an app can use (`TransportDescriptor`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
pub struct FeatureDependency {
    /// Feature name.
    pub feature_name: String,
    /// Feature version.
    pub version: String,
}

/// An app registering itself with the MEP (`AppInfo`, MEC 011 3.x).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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

impl TransportDescriptor {
    /// The transport `name` of kind `type_`, speaking `protocol` `version`, without security.
    pub fn new(
        name: impl Into<String>,
        type_: TransportType,
        protocol: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            description: None,
            type_,
            protocol: protocol.into(),
            version: version.into(),
            security: SecurityInfo::default(),
            impl_specific_info: None,
        }
    }

    /// With a description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// With its security.
    #[must_use]
    pub fn with_security(mut self, security: SecurityInfo) -> Self {
        self.security = security;
        self
    }
}

impl TransportDependency {
    /// A dependency on `transport` with the serializers the app can use over it.
    pub fn new(transport: TransportDescriptor, serializers: Vec<SerializerType>) -> Self {
        Self {
            transport,
            serializers,
            labels: Vec::new(),
        }
    }
}

impl ServiceDependency {
    /// A dependency on the service `ser_name` `version`.
    pub fn new(ser_name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            ser_name: ser_name.into(),
            ser_category: None,
            version: version.into(),
            ser_transport_dependencies: Vec::new(),
            requested_permissions: None,
        }
    }

    /// With the service's category.
    #[must_use]
    pub fn with_category(mut self, category: CategoryRef) -> Self {
        self.ser_category = Some(category);
        self
    }

    /// With one more transport the app can use with it.
    #[must_use]
    pub fn with_transport_dependency(mut self, dependency: TransportDependency) -> Self {
        self.ser_transport_dependencies.push(dependency);
        self
    }
}

impl FeatureDependency {
    /// A dependency on the feature `feature_name` `version`.
    pub fn new(feature_name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            feature_name: feature_name.into(),
            version: version.into(),
        }
    }
}

impl AppInfo {
    /// The registration of the app `app_name`, every other member absent.
    pub fn new(app_name: impl Into<String>) -> Self {
        Self {
            app_name: app_name.into(),
            ..Self::default()
        }
    }

    /// With its provider.
    #[must_use]
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        self.app_provider = Some(provider.into());
        self
    }

    /// With its app instance id (when MEC management instantiated it).
    #[must_use]
    pub fn with_app_instance_id(mut self, app_instance_id: impl Into<String>) -> Self {
        self.app_instance_id = Some(app_instance_id.into());
        self
    }

    /// With its app descriptor id.
    #[must_use]
    pub fn with_app_d_id(mut self, app_d_id: impl Into<String>) -> Self {
        self.app_d_id = Some(app_d_id.into());
        self
    }

    /// With where it is reached.
    #[must_use]
    pub fn with_endpoint(mut self, endpoint: EndPointInfo) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// With one more service it requires.
    #[must_use]
    pub fn with_service_required(mut self, dependency: ServiceDependency) -> Self {
        self.app_service_required.push(dependency);
        self
    }
}
