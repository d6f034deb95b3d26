//! What the agent has done so far: served as `GET /mep-agent/v1/health` and watchable from code.

use serde::{Serialize, Serializer};
use std::time::SystemTime;

/// Where the agent is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum Phase {
    /// Getting the first token, registering services, making subscriptions.
    Starting,
    /// Everything registered; renewing the token and sending heartbeats.
    Running,
    /// Deregistering after a shutdown request or a fatal error.
    Stopping,
    /// Stopped cleanly.
    Stopped,
    /// Stopped on an error.
    Failed,
}

/// Where a service registration or a subscription stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum Registration {
    /// Not sent yet, or being retried.
    Pending,
    /// Accepted by the MEP.
    Registered,
    /// Removed at shutdown.
    Deregistered,
    /// Refused by the MEP, or retried until the retries ran out.
    Failed,
}

/// The token's state (never the token itself).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TokenStatus {
    /// Whether a token was received.
    pub present: bool,
    /// When the current token was received.
    #[serde(serialize_with = "rfc3339")]
    pub obtained_at: Option<SystemTime>,
    /// When it expires.
    #[serde(serialize_with = "rfc3339")]
    pub expires_at: Option<SystemTime>,
    /// How many times it was renewed.
    pub renewals: u64,
    /// How many token requests failed.
    pub failures: u64,
    /// The last failure.
    pub last_error: Option<String>,
}

/// One service of `serviceInfoPosts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceStatus {
    /// The service's name.
    pub ser_name: String,
    /// Where its registration stands.
    pub registration: Registration,
    /// The id the MEP gave it.
    pub ser_instance_id: Option<String>,
    /// The heartbeat interval the MEP asked for, in seconds (none: no heartbeats).
    pub liveness_interval: Option<u32>,
    /// Where heartbeats go (`_links.liveness.href`, or EdgeGallery's `_links.self.liveness`).
    pub liveness_uri: Option<String>,
    /// When the MEP accepted the registration.
    #[serde(serialize_with = "rfc3339")]
    pub registered_at: Option<SystemTime>,
    /// Heartbeats the MEP accepted.
    pub heartbeats: u64,
    /// Heartbeats that failed.
    pub heartbeat_failures: u64,
    /// When the last accepted heartbeat was sent.
    #[serde(serialize_with = "rfc3339")]
    pub last_heartbeat: Option<SystemTime>,
    /// How many times the service was registered again after the MEP forgot it.
    pub reregistrations: u64,
    /// The last failure.
    pub last_error: Option<String>,
}

impl ServiceStatus {
    pub(crate) fn pending(ser_name: String) -> Self {
        Self {
            ser_name,
            registration: Registration::Pending,
            ser_instance_id: None,
            liveness_interval: None,
            liveness_uri: None,
            registered_at: None,
            heartbeats: 0,
            heartbeat_failures: 0,
            last_heartbeat: None,
            reregistrations: 0,
            last_error: None,
        }
    }
}

/// One subscription of `serAvailabilityNotificationSubscriptions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscriptionStatus {
    /// Where its notifications go.
    pub callback_reference: String,
    /// Where it stands.
    pub registration: Registration,
    /// The subscription's URI, as the MEP gave it.
    pub href: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
}

/// The agent's state, as `GET /mep-agent/v1/health` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AgentStatus {
    /// Where the agent is in its life.
    pub phase: Phase,
    /// The app instance.
    pub app_instance_id: String,
    /// Whether the MEP's certificate is checked (false only with the insecure flag, or over plain HTTP).
    pub tls_verified: bool,
    /// The token.
    pub token: TokenStatus,
    /// The services, in the order of the configuration.
    pub services: Vec<ServiceStatus>,
    /// The subscriptions, in the order of the configuration.
    pub subscriptions: Vec<SubscriptionStatus>,
    /// Whether `confirm_ready` was accepted.
    pub ready_confirmed: bool,
    /// Why the agent failed, once it has.
    pub error: Option<String>,
}

impl AgentStatus {
    /// Whether all is well: running, every service and subscription registered.
    pub fn is_healthy(&self) -> bool {
        self.phase == Phase::Running
            && self
                .services
                .iter()
                .all(|s| s.registration == Registration::Registered)
            && self
                .subscriptions
                .iter()
                .all(|s| s.registration == Registration::Registered)
    }
}

#[allow(clippy::ref_option)] // serde's `serialize_with` passes a reference to the field.
fn rfc3339<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t.and_then(|t| jiff::Timestamp::try_from(t).ok()) {
        Some(ts) => s.serialize_str(&ts.to_string()),
        None => s.serialize_none(),
    }
}
