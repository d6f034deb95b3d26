//! The Mp1 paths of ETSI GS MEC 011, written once: the client, the routers, links, notifications and the MEP
//! build theirs here, so that a version or a prefix is one edit. Ids are put in as given: callers encode or
//! check them first.
//!
//! Ids are typed ([`AppInstanceId`], [`ServiceId`], [`SubscriptionId`]) so that two cannot be swapped; a route
//! pattern passes its placeholder as one (`AppInstanceId::from("{app}")`).

use crate::model::{AppInstanceId, ServiceId, SubscriptionId};

/// The service management API (MEC 011 clause 8.2).
pub const SERVICE_MGMT: &str = "/mec_service_mgmt/v1";
/// The application support API of MEC 011 2.x (clause 7.2), which EdgeGallery serves.
pub const APP_SUPPORT_V1: &str = "/mec_app_support/v1";
/// The application support API of MEC 011 3.x.
pub const APP_SUPPORT_V2: &str = "/mec_app_support/v2";
/// Every root the application support API is served under.
pub const APP_SUPPORT_ROOTS: [&str; 2] = [APP_SUPPORT_V1, APP_SUPPORT_V2];
/// EdgeGallery's prefix in front of both APIs (`/mep/mec_service_mgmt/v1/...`) and of MEP-auth (`/mep/token`).
pub const EDGEGALLERY_PREFIX: &str = "/mep";
/// The API names, which begin a path after any prefix: what precedes the first of them is the mount point.
pub const API_NAMES: [&str; 2] = ["/mec_service_mgmt/", "/mec_app_support/"];

/// The application support root of `version` (`v1`, `v2`).
pub fn app_support(version: &str) -> String {
    format!("/mec_app_support/{version}")
}

/// `GET /services/{serviceId}`: a service as any app discovers it.
pub fn service(service_id: &ServiceId) -> String {
    raw::service(service_id)
}

/// The services an app provides.
pub fn app_services(app_instance_id: &AppInstanceId) -> String {
    raw::app_services(app_instance_id)
}

/// One service an app provides.
pub fn app_service(app_instance_id: &AppInstanceId, service_id: &ServiceId) -> String {
    raw::app_service(app_instance_id, service_id)
}

/// The liveness resource of a service an app provides (MEC 011 3.x; the MEP allocates its URI).
pub fn liveness(app_instance_id: &AppInstanceId, service_id: &ServiceId) -> String {
    raw::liveness(app_instance_id, service_id)
}

/// An app's subscriptions under `root` ([`SERVICE_MGMT`]: service availability; an application support root:
/// app termination).
pub fn subscriptions(root: &str, app_instance_id: &AppInstanceId) -> String {
    raw::subscriptions(root, app_instance_id)
}

/// One of an app's subscriptions under `root` (see [`subscriptions`]).
///
/// ```
/// use mec_mp1::model::{AppInstanceId, SubscriptionId};
/// use mec_mp1::paths;
///
/// let app = AppInstanceId::from("a1");
/// let sub = SubscriptionId::from("s1");
/// assert_eq!(
///     paths::subscription(paths::SERVICE_MGMT, &app, &sub),
///     "/mec_service_mgmt/v1/applications/a1/subscriptions/s1"
/// );
/// ```
pub fn subscription(
    root: &str,
    app_instance_id: &AppInstanceId,
    subscription_id: &SubscriptionId,
) -> String {
    raw::subscription(root, app_instance_id, subscription_id)
}

/// Where an app confirms its termination, under an application support root.
pub fn confirm_termination(root: &str, app_instance_id: &AppInstanceId) -> String {
    format!("{root}/applications/{app_instance_id}/confirm_termination")
}

/// EdgeGallery's `DELETE` that terminates an app instance (its MEP manager's, and the app's own).
pub fn app_instance_termination(app_instance_id: &AppInstanceId) -> String {
    format!(
        "{EDGEGALLERY_PREFIX}{APP_SUPPORT_V1}/applications/{app_instance_id}/AppInstanceTermination"
    )
}

/// The same paths from plain string ids, for the crate's own routers, which hold ids as they came in the path
/// (no copy into an id type).
pub(crate) mod raw {
    use super::SERVICE_MGMT;

    /// See [`super::service`].
    pub(crate) fn service(service_id: &str) -> String {
        format!("{SERVICE_MGMT}/services/{service_id}")
    }

    /// See [`super::app_services`].
    pub(crate) fn app_services(app_instance_id: &str) -> String {
        format!("{SERVICE_MGMT}/applications/{app_instance_id}/services")
    }

    /// See [`super::app_service`].
    pub(crate) fn app_service(app_instance_id: &str, service_id: &str) -> String {
        format!("{}/{service_id}", app_services(app_instance_id))
    }

    /// See [`super::liveness`].
    pub(crate) fn liveness(app_instance_id: &str, service_id: &str) -> String {
        format!("{}/liveness", app_service(app_instance_id, service_id))
    }

    /// See [`super::subscriptions`].
    pub(crate) fn subscriptions(root: &str, app_instance_id: &str) -> String {
        format!("{root}/applications/{app_instance_id}/subscriptions")
    }

    /// See [`super::subscription`].
    pub(crate) fn subscription(root: &str, app_instance_id: &str, subscription_id: &str) -> String {
        format!("{}/{subscription_id}", subscriptions(root, app_instance_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_etsis() {
        assert_eq!(
            liveness(&"a".into(), &"s".into()),
            "/mec_service_mgmt/v1/applications/a/services/s/liveness"
        );
        assert_eq!(
            subscription(APP_SUPPORT_V1, &"a".into(), &"x".into()),
            "/mec_app_support/v1/applications/a/subscriptions/x"
        );
        assert_eq!(app_support("v2"), APP_SUPPORT_V2);
        assert_eq!(
            app_instance_termination(&"a".into()),
            "/mep/mec_app_support/v1/applications/a/AppInstanceTermination"
        );
    }
}
