//! Subscriptions to service availability and to app termination.

use super::common::{CategoryRef, LinkType, null_as_empty};
use super::services::ServiceState;
use serde::{Deserialize, Serialize};

/// The `subscriptionType` of a [`SerAvailabilityNotificationSubscription`].
pub const SER_AVAILABILITY_SUBSCRIPTION_TYPE: &str = "SerAvailabilityNotificationSubscription";
/// The `subscriptionType` of an [`AppTerminationNotificationSubscription`].
pub const APP_TERMINATION_SUBSCRIPTION_TYPE: &str = "AppTerminationNotificationSubscription";

/// The `_links` of a subscription: `{"self": {"href": ..}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionSelfLinks {
    /// The subscription itself.
    #[serde(rename = "self")]
    pub self_: LinkType,
}

/// Which services a subscriber wants to hear about (`FilteringCriteria`). ETSI: at most one of
/// `serInstanceIds`, `serNames`, `serCategories`; the members given are ANDed; none given matches every service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FilteringCriteria {
    /// Service instance ids.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ser_instance_ids: Vec<String>,
    /// Service names.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ser_names: Vec<String>,
    /// Service categories.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ser_categories: Vec<CategoryRef>,
    /// Service states (after the change).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub states: Vec<ServiceState>,
    /// Only local services (`true`) or only remote ones (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_local: Option<bool>,
}

/// A subscription to service availability notifications (`SerAvailabilityNotificationSubscription`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SerAvailabilityNotificationSubscription {
    /// Always [`SER_AVAILABILITY_SUBSCRIPTION_TYPE`].
    pub subscription_type: String,
    /// Where notifications are POSTed.
    pub callback_reference: String,
    /// Links, set by the MEP.
    #[serde(rename = "_links", default, skip_serializing_if = "Option::is_none")]
    pub links: Option<SubscriptionSelfLinks>,
    /// Which services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filtering_criteria: Option<FilteringCriteria>,
}

impl SerAvailabilityNotificationSubscription {
    /// A subscription to every service's availability, notified at `callback_reference`.
    pub fn new(callback_reference: impl Into<String>) -> Self {
        Self {
            subscription_type: SER_AVAILABILITY_SUBSCRIPTION_TYPE.to_owned(),
            callback_reference: callback_reference.into(),
            links: None,
            filtering_criteria: None,
        }
    }

    /// With the services it is about.
    #[must_use]
    pub fn with_filtering_criteria(mut self, criteria: FilteringCriteria) -> Self {
        self.filtering_criteria = Some(criteria);
        self
    }

    /// With its self link (which the MEP sets).
    #[must_use]
    pub fn with_self_link(mut self, href: impl Into<String>) -> Self {
        self.links = Some(SubscriptionSelfLinks::new(href));
        self
    }
}

/// A subscription to app termination notifications (`AppTerminationNotificationSubscription`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AppTerminationNotificationSubscription {
    /// Always [`APP_TERMINATION_SUBSCRIPTION_TYPE`].
    pub subscription_type: String,
    /// Where notifications are POSTed.
    pub callback_reference: String,
    /// Links, set by the MEP.
    #[serde(rename = "_links", default, skip_serializing_if = "Option::is_none")]
    pub links: Option<SubscriptionSelfLinks>,
    /// The app instance whose termination is of interest.
    pub app_instance_id: String,
}

impl AppTerminationNotificationSubscription {
    /// A subscription to the termination of `app_instance_id`, notified at `callback_reference`.
    pub fn new(callback_reference: impl Into<String>, app_instance_id: impl Into<String>) -> Self {
        Self {
            subscription_type: APP_TERMINATION_SUBSCRIPTION_TYPE.to_owned(),
            callback_reference: callback_reference.into(),
            links: None,
            app_instance_id: app_instance_id.into(),
        }
    }

    /// With its self link (which the MEP sets).
    #[must_use]
    pub fn with_self_link(mut self, href: impl Into<String>) -> Self {
        self.links = Some(SubscriptionSelfLinks::new(href));
        self
    }
}

impl SubscriptionSelfLinks {
    /// The subscription at `href`.
    pub fn new(href: impl Into<String>) -> Self {
        Self {
            self_: LinkType::new(href),
        }
    }
}

impl FilteringCriteria {
    /// No criteria: every service.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only the services with these instance ids.
    #[must_use]
    pub fn with_ser_instance_ids(mut self, ids: Vec<String>) -> Self {
        self.ser_instance_ids = ids;
        self
    }

    /// Only the services with these names.
    #[must_use]
    pub fn with_ser_names(mut self, names: Vec<String>) -> Self {
        self.ser_names = names;
        self
    }

    /// Only the services in these categories.
    #[must_use]
    pub fn with_ser_categories(mut self, categories: Vec<CategoryRef>) -> Self {
        self.ser_categories = categories;
        self
    }

    /// Only the services in these states after the change.
    #[must_use]
    pub fn with_states(mut self, states: Vec<ServiceState>) -> Self {
        self.states = states;
        self
    }

    /// Only local services (`true`) or only remote ones (`false`).
    #[must_use]
    pub fn with_is_local(mut self, is_local: bool) -> Self {
        self.is_local = Some(is_local);
        self
    }
}
