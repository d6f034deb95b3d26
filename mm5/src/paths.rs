//! The Mm5 paths EdgeGallery's MEP serves, written once: the client, the router and tests build theirs here.
//! Ids are put in as given: callers encode or check them first. App instance termination is Mp1's path
//! ([`mec_mp1::paths::app_instance_termination`]), which the MEP manager calls too.

/// App lifecycle configuration (`appd_configuration` and its tasks).
pub const APP_LCM: &str = "/mepcfg/app_lcm/v1";
/// The platform's configuration: its capabilities.
pub const PLATFORM_CONFIG: &str = "/mepcfg/mec_platform_config/v1";
/// Service governance views (call records, subscription statistics, services).
pub const SERVICE_GOVERN: &str = "/mep/service_govern/v1";

/// `.../applications/{appInstanceId}/appd_configuration`: an app instance's configuration.
pub fn app_config(app_instance_id: &str) -> String {
    format!("{APP_LCM}/applications/{app_instance_id}/appd_configuration")
}

/// `.../tasks/{taskId}/appd_configuration`: a configuration task's progress.
pub fn task(task_id: &str) -> String {
    format!("{APP_LCM}/tasks/{task_id}/appd_configuration")
}

/// `.../capabilities`: the services the platform offers.
pub fn capabilities() -> String {
    format!("{PLATFORM_CONFIG}/capabilities")
}

/// `.../capabilities/{capabilityId}`: one of them.
pub fn capability(capability_id: &str) -> String {
    format!("{}/{capability_id}", capabilities())
}

/// `.../kong_log`: the API call records.
pub fn call_records() -> String {
    format!("{SERVICE_GOVERN}/kong_log")
}

/// `.../subscribe_statistic`: subscription statistics.
pub fn subscribe_statistic() -> String {
    format!("{SERVICE_GOVERN}/subscribe_statistic")
}

/// `.../services`: the services as governance sees them.
pub fn governed_services() -> String {
    format!("{SERVICE_GOVERN}/services")
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_are_edgegallerys() {
        assert_eq!(
            super::app_config("a1"),
            "/mepcfg/app_lcm/v1/applications/a1/appd_configuration"
        );
        assert_eq!(
            super::task("t1"),
            "/mepcfg/app_lcm/v1/tasks/t1/appd_configuration"
        );
        assert_eq!(
            super::capability("c1"),
            "/mepcfg/mec_platform_config/v1/capabilities/c1"
        );
        assert_eq!(super::call_records(), "/mep/service_govern/v1/kong_log");
        assert_eq!(
            super::subscribe_statistic(),
            "/mep/service_govern/v1/subscribe_statistic"
        );
        assert_eq!(
            super::governed_services(),
            "/mep/service_govern/v1/services"
        );
    }
}
