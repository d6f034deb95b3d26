//! The two Mp1 notifications, and [`Notification`], which reads either.

use super::app_support::OperationAction;
use super::common::{LinkType, link_or_string, opt_link_or_string};
use super::services::ServiceState;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `notificationType` of a [`ServiceAvailabilityNotification`] (not the schema's name: ETSI GS MEC 011
/// writes `SerAvailabilityNotification`).
pub const SER_AVAILABILITY_NOTIFICATION_TYPE: &str = "SerAvailabilityNotification";
/// The `notificationType` of an [`AppTerminationNotification`].
pub const APP_TERMINATION_NOTIFICATION_TYPE: &str = "AppTerminationNotification";

mec_core::wire_enum! {
    /// What happened to a service (`ServiceReferences.changeType`).
    pub enum ChangeType {
        /// Registered.
        Added = "ADDED",
        /// Deregistered.
        Removed = "REMOVED",
        /// Its state changed.
        StateChanged = "STATE_CHANGED",
        /// Other attributes changed.
        AttributesChanged = "ATTRIBUTES_CHANGED",
    }
}

/// One changed service in a [`ServiceAvailabilityNotification`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceReference {
    /// A link to the service (EdgeGallery sends `{}` on REMOVED, read as `None`).
    #[serde(
        default,
        deserialize_with = "opt_link_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub link: Option<LinkType>,
    /// The service name.
    pub ser_name: String,
    /// The service instance id.
    pub ser_instance_id: String,
    /// Its state after the change.
    pub state: ServiceState,
    /// What changed.
    pub change_type: ChangeType,
}

/// The `_links` of a service availability notification.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionNotificationLinks {
    /// The subscription that caused it.
    #[serde(deserialize_with = "link_or_string")]
    pub subscription: LinkType,
}

/// Services became available, changed or went away (`ServiceAvailabilityNotification`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceAvailabilityNotification {
    /// Always [`SER_AVAILABILITY_NOTIFICATION_TYPE`].
    pub notification_type: String,
    /// The services concerned.
    pub service_references: Vec<ServiceReference>,
    /// Links.
    #[serde(rename = "_links")]
    pub links: SubscriptionNotificationLinks,
}

/// The `_links` of an app termination notification. EdgeGallery writes both as plain strings; they are read
/// into [`LinkType`] either way.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AppTerminationNotificationLinks {
    /// The subscription that caused it.
    #[serde(deserialize_with = "link_or_string")]
    pub subscription: LinkType,
    /// Where the app confirms its termination.
    #[serde(
        default,
        deserialize_with = "opt_link_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub confirm_termination: Option<LinkType>,
}

/// The app is about to be terminated (`AppTerminationNotification`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AppTerminationNotification {
    /// Always [`APP_TERMINATION_NOTIFICATION_TYPE`].
    pub notification_type: String,
    /// Stopping or terminating.
    pub operation_action: OperationAction,
    /// Seconds the app has to shut down gracefully.
    pub max_graceful_timeout: u32,
    /// Links.
    #[serde(rename = "_links")]
    pub links: AppTerminationNotificationLinks,
}

/// Any Mp1 notification, told apart by its `notificationType`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notification {
    /// A service availability notification.
    ServiceAvailability(ServiceAvailabilityNotification),
    /// An app termination notification.
    AppTermination(AppTerminationNotification),
}

impl Serialize for Notification {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::ServiceAvailability(n) => n.serialize(s),
            Self::AppTermination(n) => n.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Notification {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let kind = value
            .get("notificationType")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| D::Error::custom("notificationType: missing or not a string"))?;
        match kind {
            SER_AVAILABILITY_NOTIFICATION_TYPE => serde_json::from_value(value)
                .map(Self::ServiceAvailability)
                .map_err(D::Error::custom),
            APP_TERMINATION_NOTIFICATION_TYPE => serde_json::from_value(value)
                .map(Self::AppTermination)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "notificationType: unknown notification {other:?}"
            ))),
        }
    }
}

impl ServiceReference {
    /// The service `ser_instance_id` named `ser_name`, in `state` after `change_type`, without a link.
    pub fn new(
        ser_name: impl Into<String>,
        ser_instance_id: impl Into<String>,
        state: ServiceState,
        change_type: ChangeType,
    ) -> Self {
        Self {
            link: None,
            ser_name: ser_name.into(),
            ser_instance_id: ser_instance_id.into(),
            state,
            change_type,
        }
    }

    /// With a link to the service.
    #[must_use]
    pub fn with_link(mut self, href: impl Into<String>) -> Self {
        self.link = Some(LinkType::new(href));
        self
    }
}

impl SubscriptionNotificationLinks {
    /// Links to the subscription at `subscription_href`.
    pub fn new(subscription_href: impl Into<String>) -> Self {
        Self {
            subscription: LinkType::new(subscription_href),
        }
    }
}

impl ServiceAvailabilityNotification {
    /// A notification for the subscription at `subscription_href` about `service_references`.
    pub fn new(
        subscription_href: impl Into<String>,
        service_references: Vec<ServiceReference>,
    ) -> Self {
        Self {
            notification_type: SER_AVAILABILITY_NOTIFICATION_TYPE.to_owned(),
            service_references,
            links: SubscriptionNotificationLinks::new(subscription_href),
        }
    }
}

impl AppTerminationNotificationLinks {
    /// Links to the subscription at `subscription_href`, without a confirmation link.
    pub fn new(subscription_href: impl Into<String>) -> Self {
        Self {
            subscription: LinkType::new(subscription_href),
            confirm_termination: None,
        }
    }

    /// With where the app confirms its termination.
    #[must_use]
    pub fn with_confirm_termination(mut self, href: impl Into<String>) -> Self {
        self.confirm_termination = Some(LinkType::new(href));
        self
    }
}

impl AppTerminationNotification {
    /// A notification that the app is about to be stopped or terminated, with `max_graceful_timeout` seconds
    /// to shut down.
    pub fn new(
        operation_action: OperationAction,
        max_graceful_timeout: u32,
        links: AppTerminationNotificationLinks,
    ) -> Self {
        Self {
            notification_type: APP_TERMINATION_NOTIFICATION_TYPE.to_owned(),
            operation_action,
            max_graceful_timeout,
            links,
        }
    }
}
