//! Profiles: whose behaviour the MEP follows where ETSI GS MEC 011 and EdgeGallery's MEP disagree.
//!
//! [`Profile::Etsi`] (the default) answers as MEC 011 says and accepts EdgeGallery's forms wherever they do not
//! conflict. [`Profile::EdgeGallery`] answers as EdgeGallery's own MEP does (EdgeGallery/mep `mepserver`,
//! `mepauth`), for EdgeGallery's unchanged components (mep-agent, the MEPM's `mecm-apprulemgr`, the MECM's
//! lcmcontroller) that rely on it. Choose it with `profile: edgegallery` in `mep`'s configuration,
//! `mock-mep --profile edgegallery`, or [`EngineConfig::profile`](crate::EngineConfig::profile).
//!
//! | behaviour | ETSI profile | EdgeGallery profile |
//! |---|---|---|
//! | termination of an unknown app instance | 404 | 200 |
//! | `appName` | letters, digits, `-`, `_`, `.` | any characters, 1 to 63 (length only) |
//! | Mm5 configuration without rules, or a PUT changing no rule | 200 | 404 "no modification data found in the input" |
//! | traffic rule `priority` 0, `*_ENCAPSULATED` actions | accepted | 400 |
//! | requested liveness interval | kept (0: the MEP's default) | any non-zero value becomes 60 s |
//! | subscription `Location` and `_links.self.href` | absolute, under the mount point | a path without `/mep` |
//! | availability notifications | `STATE_CHANGED`, absolute links, no `link` on `REMOVED` | `ATTRIBUTES_CHANGED`, paths without `/mep`, `"link":{}` on `REMOVED` |
//! | termination notifications | `_links` members are `{"href"}` | `_links` members are strings (paths under `/mep`) |
//! | `X-AppinstanceID` | ignored | required on app-scoped routes its gateway checks |
//! | `x-sdk-date` window | `max_skew` (15 min) | at least [`EDGEGALLERY_MAX_SKEW`] (mep-agent writes local time) |
//! | capabilities `ser_name` | filters | ignored |
//!
//! The README has the full table with the sources of each answer.

mod http;

pub use http::{APP_INSTANCE_HEADER, CONFS_PATH, ConfsBody, confs_router, edgegallery_mp1_layer};

use crate::engine::Engine;
use axum::Router;
use mec_mp1::paths;
use std::time::Duration;

/// The Mp1 routes as the engine's profile serves them: unchanged in the ETSI profile; with
/// [`edgegallery_mp1_layer`] in the EdgeGallery profile. Applied inside the token check.
pub(crate) fn mp1_layer(engine: &Engine, router: Router) -> Router {
    if engine.config().profile.is_edgegallery() {
        edgegallery_mp1_layer(router)
    } else {
        router
    }
}

/// The management routes with mepauth's `confs` route (both profiles: it conflicts with nothing in ETSI; it
/// refuses every request unless `protected`, see [`confs_router`]), and in the EdgeGallery profile
/// `X-AppinstanceID` checked on `AppInstanceTermination` as lcmcontroller sends it.
pub(crate) fn management_layer(engine: &Engine, router: Router, protected: bool) -> Router {
    let router = if engine.config().profile.is_edgegallery() {
        router.layer(axum::middleware::from_fn(http::termination_header))
    } else {
        router
    };
    router.merge(confs_router(engine, protected))
}

/// Whose behaviour the MEP follows where ETSI and EdgeGallery disagree (see the [module](self) docs).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Profile {
    /// ETSI GS MEC 011, accepting EdgeGallery's forms where they do not conflict (the default).
    #[default]
    Etsi,
    /// EdgeGallery's MEP, where its answers differ from ETSI's.
    EdgeGallery,
}

/// The liveness interval EdgeGallery's MEP gives every service that asks for heartbeats, whatever it asked for
/// (mepserver `common/models/serviceinfo.go`, `DefaultHeartbeatInterval`).
pub const EDGEGALLERY_LIVENESS_INTERVAL: u32 = 60;

/// The smallest `x-sdk-date` window of the EdgeGallery profile: mep-agent stamps its local time with a literal
/// `Z` (mep-agent `src/service/request.go`), so a correct agent in UTC+14 or UTC-12 is up to 14 hours off; the
/// window is that plus the default 15 minutes of clock skew. A replayed signature is still refused within it.
pub const EDGEGALLERY_MAX_SKEW: Duration = Duration::from_secs(14 * 3600 + 15 * 60);

/// EdgeGallery's answer to a configuration that changes no rule (mepserver `mm5/plans/appd_config_*.go`).
pub const NO_MODIFICATION: &str = "no modification data found in the input";

/// Why a profile name was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {0:?}: expected etsi or edgegallery")]
pub struct UnknownProfile(pub String);

impl std::str::FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "etsi" => Ok(Self::Etsi),
            "edgegallery" => Ok(Self::EdgeGallery),
            _ => Err(UnknownProfile(s.to_owned())),
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Etsi => "etsi",
            Self::EdgeGallery => "edgegallery",
        })
    }
}

impl Profile {
    /// Whether this is the EdgeGallery profile.
    pub fn is_edgegallery(self) -> bool {
        self == Self::EdgeGallery
    }

    /// The `x-sdk-date` window of the token endpoint: `configured` in the ETSI profile; at least
    /// `edgegallery_window` in the EdgeGallery profile (mep-agent's local-time dates).
    pub fn max_skew(self, configured: Duration, edgegallery_window: Duration) -> Duration {
        match self {
            Self::Etsi => configured,
            Self::EdgeGallery => configured.max(edgegallery_window),
        }
    }

    /// The liveness interval a service gets for the one it asked for. ETSI: as asked, 0 becoming
    /// `default_interval` ("let the MEP choose"). EdgeGallery: every non-zero value becomes
    /// [`EDGEGALLERY_LIVENESS_INTERVAL`], 0 means no heartbeats (mepserver `svc_register.go`).
    pub(crate) fn liveness_interval(
        self,
        requested: Option<u32>,
        default_interval: u32,
    ) -> Option<u32> {
        requested.map(|i| match (self, i) {
            (Self::Etsi, 0) => default_interval,
            (Self::Etsi, i) => i,
            (Self::EdgeGallery, 0) => 0,
            (Self::EdgeGallery, _) => EDGEGALLERY_LIVENESS_INTERVAL,
        })
    }
}

/// The EdgeGallery profile's check of an Mm5 configuration (mepserver `common/models/app_config.go` and its
/// validator): `appName` by length alone; rule priorities 1 to 255; the actions of EdgeGallery's `oneof` list, so
/// neither `FORWARD_ENCAPSULATED` nor `DUPLICATE_ENCAPSULATED`. The rule counts stay capped (16 traffic, 32 DNS
/// rules): EdgeGallery's `dive,max=16` caps each element's size, leaving counts unbounded, which this MEP does not
/// copy.
pub(crate) fn check_edgegallery_config(
    config: &mec_mm5::model::AppDConfig,
) -> Result<(), mec_core::server::ApiError> {
    use mec_mp1::model::TrafficAction;
    let invalid = mec_mm5::server::invalid_config;
    config.validate_name_length().map_err(invalid)?;
    config.validate_rules().map_err(invalid)?;
    for (i, rule) in config.app_traffic_rule.iter().enumerate() {
        let refused = |member: &str, reason: &str| {
            mec_core::server::ApiError::bad_request(format!(
                "Invalid value for input on: appTrafficRule[{i}].{member}: {reason}"
            ))
        };
        if rule.priority == 0 {
            return Err(refused("priority", "must be 1 to 255"));
        }
        if matches!(
            rule.action,
            TrafficAction::ForwardEncapsulated | TrafficAction::DuplicateEncapsulated
        ) {
            return Err(refused(
                "action",
                "must be DROP, FORWARD_DECAPSULATED, FORWARD_AS_IS, PASSTHROUGH, DUPLICATE_DECAPSULATED or \
                 DUPLICATE_AS_IS",
            ));
        }
    }
    Ok(())
}

/// A notification as EdgeGallery's MEP writes it, if the event concerns the subscription.
///
/// - Service availability (mepserver `mp1/event/instance_event_handler.go`): links are paths without `/mep`;
///   `STATE_CHANGED` is never sent (a state change is `ATTRIBUTES_CHANGED`); on `REMOVED` the `link` is `{}`.
/// - App termination (mepserver `mm5/plans/app_instance_termination.go`): `_links.subscription` and
///   `_links.confirmTermination` are plain strings, paths under `/mep`, next to `maxGracefulTimeout`.
pub(crate) fn edgegallery_notification(
    subscription_id: &str,
    sub: &crate::engine::SubscriptionRecord,
    event: &crate::engine::records::EventRecord,
) -> Option<serde_json::Value> {
    use crate::engine::SubscriptionBody;
    use crate::engine::records::EventRecord;
    use mec_mp1::model::ChangeType;
    let app = &sub.app_instance_id;
    let app_id = mec_mp1::model::AppInstanceId::from(&**app);
    let subscription_id = mec_mp1::model::SubscriptionId::from(subscription_id);
    match (&sub.body, event) {
        (SubscriptionBody::Availability(s), EventRecord::ServiceChanged { info, change, .. }) => {
            if !crate::engine::delivery::matches(s, info) {
                return None;
            }
            let id =
                mec_mp1::model::ServiceId::from(info.ser_instance_id.clone().unwrap_or_default());
            let (change, link) = match change {
                ChangeType::Removed => (ChangeType::Removed, serde_json::json!({})),
                ChangeType::StateChanged => (
                    ChangeType::AttributesChanged,
                    serde_json::json!({ "href": paths::service(&id) }),
                ),
                other => (
                    other.clone(),
                    serde_json::json!({ "href": paths::service(&id) }),
                ),
            };
            Some(serde_json::json!({
                "notificationType": mec_mp1::model::SER_AVAILABILITY_NOTIFICATION_TYPE,
                "serviceReferences": [{
                    "link": link,
                    "serName": info.ser_name,
                    "serInstanceId": id,
                    "state": info.state,
                    "changeType": change,
                }],
                "_links": { "subscription": {
                    "href": paths::subscription(paths::SERVICE_MGMT, &app_id, &subscription_id)
                } },
            }))
        }
        (
            SubscriptionBody::Termination(_),
            EventRecord::AppTerminating {
                app_instance_id,
                max_graceful_timeout,
            },
        ) if app_instance_id == app => Some(serde_json::json!({
            "notificationType": mec_mp1::model::APP_TERMINATION_NOTIFICATION_TYPE,
            "operationAction": mec_mp1::model::OperationAction::Terminating,
            "maxGracefulTimeout": max_graceful_timeout,
            "_links": {
                "subscription": format!(
                    "{}{}",
                    paths::EDGEGALLERY_PREFIX,
                    paths::subscription(paths::APP_SUPPORT_V1, &app_id, &subscription_id)
                ),
                "confirmTermination": format!(
                    "{}{}",
                    paths::EDGEGALLERY_PREFIX,
                    paths::confirm_termination(paths::APP_SUPPORT_V1, &app_id)
                ),
            },
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_and_write_in_lowercase() {
        assert_eq!("edgegallery".parse::<Profile>(), Ok(Profile::EdgeGallery));
        assert_eq!("ETSI".parse::<Profile>(), Ok(Profile::Etsi));
        assert!("kong".parse::<Profile>().is_err());
        assert_eq!(
            serde_json::to_string(&Profile::EdgeGallery).unwrap(),
            "\"edgegallery\""
        );
        assert_eq!(
            serde_json::from_str::<Profile>("\"etsi\"").unwrap(),
            Profile::Etsi
        );
        assert_eq!(Profile::default(), Profile::Etsi);
        assert_eq!(Profile::EdgeGallery.to_string(), "edgegallery");
    }

    #[test]
    fn edgegallery_forces_sixty_seconds_and_a_wide_date_window() {
        let eg = Profile::EdgeGallery;
        assert_eq!(eg.liveness_interval(Some(10), 30), Some(60));
        assert_eq!(eg.liveness_interval(Some(0), 30), Some(0));
        assert_eq!(Profile::Etsi.liveness_interval(Some(10), 30), Some(10));
        assert_eq!(Profile::Etsi.liveness_interval(Some(0), 30), Some(30));
        assert_eq!(Profile::Etsi.liveness_interval(None, 30), None);
        let fifteen = Duration::from_secs(900);
        assert_eq!(
            Profile::Etsi.max_skew(fifteen, EDGEGALLERY_MAX_SKEW),
            fifteen
        );
        assert_eq!(
            eg.max_skew(fifteen, EDGEGALLERY_MAX_SKEW),
            EDGEGALLERY_MAX_SKEW
        );
    }
}
