//! What the engine stores, and where: the key layout and the records (JSON values).
//!
//! Keys, under the engine's prefix:
//!
//! | key | record |
//! |---|---|
//! | `apps/{appInstanceId}` | [`AppRecord`] |
//! | `credentials/{accessKey}` | [`CredentialRecord`] |
//! | `services/{serInstanceId}` | [`ServiceRecord`] |
//! | `subscriptions/{subscriptionId}` | [`SubscriptionRecord`] |
//! | `cursors/{subscriptionId}` | [`Cursor`]: how far its notifications were delivered |
//! | `rules/traffic/{appInstanceId}/{ruleId}`, `rules/dns/{appInstanceId}/{ruleId}` | the rule |
//! | `tasks/{taskId}` | Mm5 `TaskProgress` |
//! | `transports/{id}` | `TransportInfo` |
//! | `events/{seq}` (20 digits) | [`EventRecord`]: a change subscribers are told of |
//! | `meta/event-seq` | the last event's sequence number |

use mec_core::TimeStamp;
use mec_mp1::model::{
    AppInfo, AppTerminationNotificationSubscription, ChangeType, EndPointInfo,
    SerAvailabilityNotificationSubscription, ServiceInfo, ServiceView,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub(crate) const APPS: &str = "apps/";
pub(crate) const CREDENTIALS: &str = "credentials/";
pub(crate) const SERVICES: &str = "services/";
pub(crate) const SUBSCRIPTIONS: &str = "subscriptions/";
pub(crate) const CURSORS: &str = "cursors/";
pub(crate) const TRAFFIC_RULES: &str = "rules/traffic/";
pub(crate) const DNS_RULES: &str = "rules/dns/";
pub(crate) const TASKS: &str = "tasks/";
pub(crate) const TRANSPORTS: &str = "transports/";
pub(crate) const EVENTS: &str = "events/";
pub(crate) const EVENT_SEQ: &str = "meta/event-seq";

/// The key of an event: its sequence number, zero-padded so keys sort as numbers.
pub(crate) fn event_key(seq: u64) -> String {
    format!("{EVENTS}{seq:020}")
}

/// Where an app instance is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum AppState {
    /// Known to the MEP, not yet confirmed ready.
    Instantiated,
    /// The app confirmed it is ready.
    Ready,
    /// A termination notification was sent; the MEP waits for the app's confirmation.
    Terminating,
    /// Terminated: its services, subscriptions, rules and credentials are gone.
    Terminated,
}

/// An app instance as the engine keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AppRecord {
    /// Where it is in its life.
    pub state: AppState,
    /// Whether it may use Mp1 (Mm5's `appSupportMp1`).
    pub mp1_allowed: bool,
    /// Its MEC 011 3.x registration (`/registrations`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<AppInfo>,
    /// The name its Mm5 configuration gave it, when configured over Mm5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configured_name: Option<String>,
    /// When a termination in progress completes without the app's confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_deadline: Option<TimeStamp>,
    /// Tokens issued before this are revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_valid_from: Option<TimeStamp>,
}

impl AppRecord {
    /// A new app instance, allowed on Mp1.
    pub fn new() -> Self {
        Self {
            state: AppState::Instantiated,
            mp1_allowed: true,
            registration: None,
            configured_name: None,
            termination_deadline: None,
            tokens_valid_from: None,
        }
    }
}

impl Default for AppRecord {
    fn default() -> Self {
        Self::new()
    }
}

/// An app instance's AK/SK.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CredentialRecord {
    /// The app instance the key belongs to.
    pub app_instance_id: String,
    /// The secret key.
    pub secret_key: String,
}

/// A change to a service: its owner, the service after it (before it, for a removal), what happened.
pub(crate) type ServiceChange = (String, Arc<ServiceInfo>, ChangeType);

/// A registered service. Its owner is the app instance its `_links.appInstanceId` names (every write sets it),
/// so the record keeps no second copy.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(from = "StoredService")]
pub(crate) struct ServiceRecord {
    /// The service as registered (with its id and owner link), shared with discovery's answers.
    pub(crate) info: Arc<ServiceInfo>,
    /// When its last heartbeat (or its registration) arrived.
    pub(crate) last_heartbeat: TimeStamp,
}

/// A service record as stored: the owner apart, the service without what its key and owner already say
/// (`serInstanceId`, `_links`); [`ServiceRecord::restore`] puts the id back. Records written with them read the
/// same.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredService {
    owner: String,
    info: ServiceInfo,
    last_heartbeat: TimeStamp,
}

impl From<StoredService> for ServiceRecord {
    fn from(stored: StoredService) -> Self {
        let mut info = stored.info;
        info.links
            .get_or_insert_with(Default::default)
            .app_instance_id = Some(stored.owner);
        Self {
            info: Arc::new(info),
            last_heartbeat: stored.last_heartbeat,
        }
    }
}

impl Serialize for ServiceRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Stored<'a> {
            owner: &'a str,
            info: ServiceView<'a>,
            last_heartbeat: &'a TimeStamp,
        }
        Stored {
            owner: self.owner(),
            info: ServiceView::new(&self.info)
                .ser_instance_id(None)
                .links(None),
            last_heartbeat: &self.last_heartbeat,
        }
        .serialize(serializer)
    }
}

impl ServiceRecord {
    /// A record of `info`, which carries its owner's link (see [`owner_links`](super::service_mgmt::owner_links)).
    pub(crate) fn new(info: Arc<ServiceInfo>, last_heartbeat: TimeStamp) -> Self {
        debug_assert!(
            info.links
                .as_ref()
                .is_some_and(|l| l.app_instance_id.is_some()),
            "a service record names its owner"
        );
        Self {
            info,
            last_heartbeat,
        }
    }

    /// Its id (`serInstanceId`, which [`Self::restore`] makes the key's).
    pub(crate) fn id(&self) -> &str {
        self.info.ser_instance_id.as_deref().unwrap_or_default()
    }

    /// The app instance that registered it.
    pub(crate) fn owner(&self) -> &str {
        owner_of(&self.info)
    }

    /// Puts back the id its key gives, and returns the spare capacity decoding left in its lists.
    pub(crate) fn restore(&mut self, id: &str) {
        let info = Arc::make_mut(&mut self.info);
        if info.ser_instance_id.as_deref() != Some(id) {
            info.ser_instance_id = Some(id.to_owned());
        }
        if let Some(t) = &mut info.transport_info {
            match &mut t.endpoint {
                EndPointInfo::Uris(list) | EndPointInfo::Fqdn(list) => list.shrink_to_fit(),
                EndPointInfo::Addresses(list) => list.shrink_to_fit(),
                _ => {}
            }
            if let Some(oauth) = &mut t.security.o_auth2_info {
                oauth.grant_types.shrink_to_fit();
            }
        }
    }
}

/// The app instance that registered a stored service (its `_links.appInstanceId`).
pub(crate) fn owner_of(info: &ServiceInfo) -> &str {
    info.links
        .as_ref()
        .and_then(|l| l.app_instance_id.as_deref())
        .unwrap_or_default()
}

/// A subscription of either kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SubscriptionBody {
    /// Service availability (`mec_service_mgmt`).
    Availability(SerAvailabilityNotificationSubscription),
    /// App termination (`mec_app_support`).
    Termination(AppTerminationNotificationSubscription),
}

impl SubscriptionBody {
    /// Where notifications go.
    pub fn callback(&self) -> &str {
        match self {
            Self::Availability(s) => &s.callback_reference,
            Self::Termination(s) => &s.callback_reference,
        }
    }
}

/// A subscription and what its notifications' links need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscriptionRecord {
    /// The subscribing app instance.
    pub app_instance_id: String,
    /// The path prefix it was created under (`""` or `/mep`), for the links of its notifications.
    pub base_path: String,
    /// The subscription.
    pub body: SubscriptionBody,
}

/// How far a subscription's notifications were delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Cursor {
    /// The last event delivered (or found not to concern the subscription, or given up on).
    pub(crate) seq: u64,
}

/// A change that subscribers are told of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(crate) enum EventRecord {
    /// A service was added, removed or changed.
    ServiceChanged {
        /// The service's owner.
        owner: String,
        /// The service after the change (before it, for a removal).
        info: Arc<ServiceInfo>,
        /// What happened.
        change: ChangeType,
    },
    /// An app instance is being terminated: its termination subscribers are told.
    AppTerminating {
        /// The app instance.
        app_instance_id: String,
        /// Seconds it has to confirm.
        max_graceful_timeout: u32,
    },
}
