//! The Mp1 paths of ETSI GS MEC 011, written once: the client, the routers, links, notifications and the MEP
//! build theirs here, so that a version or a prefix is one edit. Ids are put in as given: callers encode or
//! check them first.

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
pub fn service(service_id: &str) -> String {
    format!("{SERVICE_MGMT}/services/{service_id}")
}

/// The services an app provides.
pub fn app_services(app_instance_id: &str) -> String {
    format!("{SERVICE_MGMT}/applications/{app_instance_id}/services")
}

/// One service an app provides.
pub fn app_service(app_instance_id: &str, service_id: &str) -> String {
    format!("{}/{service_id}", app_services(app_instance_id))
}

/// The liveness resource of a service an app provides (MEC 011 3.x; the MEP allocates its URI).
pub fn liveness(app_instance_id: &str, service_id: &str) -> String {
    format!("{}/liveness", app_service(app_instance_id, service_id))
}

/// An app's subscriptions under `root` ([`SERVICE_MGMT`]: service availability; an application support root:
/// app termination).
pub fn subscriptions(root: &str, app_instance_id: &str) -> String {
    format!("{root}/applications/{app_instance_id}/subscriptions")
}

/// One of an app's subscriptions under `root` (see [`subscriptions`]).
pub fn subscription(root: &str, app_instance_id: &str, subscription_id: &str) -> String {
    format!("{}/{subscription_id}", subscriptions(root, app_instance_id))
}

/// Where an app confirms its termination, under an application support root.
pub fn confirm_termination(root: &str, app_instance_id: &str) -> String {
    format!("{root}/applications/{app_instance_id}/confirm_termination")
}

/// EdgeGallery's `DELETE` that terminates an app instance (its MEP manager's, and the app's own).
pub fn app_instance_termination(app_instance_id: &str) -> String {
    format!(
        "{EDGEGALLERY_PREFIX}{APP_SUPPORT_V1}/applications/{app_instance_id}/AppInstanceTermination"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_etsis() {
        assert_eq!(
            liveness("a", "s"),
            "/mec_service_mgmt/v1/applications/a/services/s/liveness"
        );
        assert_eq!(
            subscription(APP_SUPPORT_V1, "a", "x"),
            "/mec_app_support/v1/applications/a/subscriptions/x"
        );
        assert_eq!(app_support("v2"), APP_SUPPORT_V2);
        assert_eq!(
            app_instance_termination("a"),
            "/mep/mec_app_support/v1/applications/a/AppInstanceTermination"
        );
    }
}
