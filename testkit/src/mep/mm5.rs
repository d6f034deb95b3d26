//! The mock MEP's Mm5 side: what the MEP manager configures becomes what the app sees over Mp1.

use super::store::{App, AppState, InMemoryMep};
use mec_core::server::ApiError;
use mec_mm5::model::{
    AppDConfig, CallStatistics, CapabilityConsumer, ConfigResult, PlatformCapability, ServiceCalls,
    SubscribeNum, SubscribeRelation, SubscribeStatistic, TaskProgress,
};
use mec_mm5::server::Mm5;
use mec_mp1::model::ServiceInfo;
use mec_mp1::server::ServiceFilter;
use std::collections::BTreeSet;

fn task(app: &str) -> TaskProgress {
    TaskProgress {
        task_id: uuid::Uuid::new_v4().to_string(),
        app_instance_id: app.to_owned(),
        config_result: ConfigResult::Success,
        config_phase: "100".to_owned(),
        detailed: String::new(),
    }
}

/// What EdgeGallery answers while a task runs; the mock applies configurations at once, so a later poll of the
/// task reads SUCCESS.
fn processing(t: &TaskProgress) -> TaskProgress {
    TaskProgress {
        task_id: t.task_id.clone(),
        app_instance_id: String::new(),
        config_result: ConfigResult::Processing,
        config_phase: "0".to_owned(),
        detailed: "Operation In progress".to_owned(),
    }
}

/// One domain name belongs to one app instance (EdgeGallery answers 400 "duplicate" otherwise). The MEPM's
/// `IPv4`/`IPv6` spellings are read by the model into `IP_V4`/`IP_V6` already.
fn domain_taken_elsewhere(
    state: &super::store::State,
    app: &str,
    config: &AppDConfig,
) -> Option<String> {
    config.app_dns_rule.iter().find_map(|r| {
        state
            .apps
            .iter()
            .filter(|(id, a)| id.as_str() != app && a.state != AppState::Terminated)
            .any(|(_, a)| {
                a.dns_rules
                    .values()
                    .any(|d| d.domain_name.eq_ignore_ascii_case(&r.domain_name))
            })
            .then(|| r.domain_name.clone())
    })
}

fn apply(app: &mut App, config: &AppDConfig) {
    app.mp1_allowed = config.app_support_mp1;
    app.traffic_rules = config
        .app_traffic_rule
        .iter()
        .map(|r| (r.traffic_rule_id.clone(), r.clone()))
        .collect();
    app.dns_rules = config
        .app_dns_rule
        .iter()
        .map(|r| (r.dns_rule_id.clone(), r.clone()))
        .collect();
    app.config = Some(config.clone());
}

impl InMemoryMep {
    fn consumers_of(state: &super::store::State, s: &ServiceInfo) -> Vec<CapabilityConsumer> {
        state
            .apps
            .iter()
            .filter(|(_, a)| {
                a.availability_subscription_values()
                    .any(|sub| super::store::names_service(sub, s))
            })
            .map(|(id, _)| CapabilityConsumer {
                application_instance_id: id.clone(),
            })
            .collect()
    }

    fn capability(state: &super::store::State, s: &ServiceInfo) -> PlatformCapability {
        PlatformCapability {
            capability_id: s.ser_instance_id.clone().unwrap_or_default(),
            capability_name: s.ser_name.clone(),
            status: serde_json::to_value(&s.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            version: s.version.clone(),
            consumers: Self::consumers_of(state, s),
        }
    }
}

impl Mm5 for InMemoryMep {
    async fn create_app_config(
        &self,
        app_instance_id: String,
        config: AppDConfig,
    ) -> Result<TaskProgress, ApiError> {
        let mut state = self.lock();
        if state
            .apps
            .get(&app_instance_id)
            .is_some_and(|a| a.config.is_some())
        {
            return Err(ApiError::bad_request(format!(
                "duplicate app instance {app_instance_id}"
            )));
        }
        if state.apps.iter().any(|(id, a)| {
            id != &app_instance_id
                && a.config
                    .as_ref()
                    .is_some_and(|c| c.app_name == config.app_name)
        }) {
            return Err(ApiError::bad_request(format!(
                "appName: {} is configured for another app instance",
                config.app_name
            )));
        }
        if let Some(domain) = domain_taken_elsewhere(&state, &app_instance_id, &config) {
            return Err(ApiError::bad_request(format!(
                "appDNSRule: domain name {domain} belongs to another app instance"
            )));
        }
        let app = state
            .apps
            .entry(app_instance_id.clone())
            .or_insert_with(App::new);
        apply(app, &config);
        let t = task(&app_instance_id);
        state.tasks.insert(t.task_id.clone(), t.clone());
        Ok(processing(&t))
    }

    async fn update_app_config(
        &self,
        app_instance_id: String,
        config: AppDConfig,
    ) -> Result<TaskProgress, ApiError> {
        let mut state = self.lock();
        let current = state
            .apps
            .get(&app_instance_id)
            .and_then(|a| a.config.as_ref())
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "app instance {app_instance_id} has no configuration"
                ))
            })?;
        if current.app_name != config.app_name {
            return Err(ApiError::bad_request(
                "appName: does not match the app's configured name",
            ));
        }
        if let Some(domain) = domain_taken_elsewhere(&state, &app_instance_id, &config) {
            return Err(ApiError::bad_request(format!(
                "appDNSRule: domain name {domain} belongs to another app instance"
            )));
        }
        if let Some(app) = state.apps.get_mut(&app_instance_id) {
            apply(app, &config);
        }
        let t = task(&app_instance_id);
        state.tasks.insert(t.task_id.clone(), t.clone());
        Ok(processing(&t))
    }

    async fn get_app_config(&self, app_instance_id: String) -> Result<AppDConfig, ApiError> {
        self.lock()
            .apps
            .get(&app_instance_id)
            .and_then(|a| a.config.clone())
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "app instance {app_instance_id} has no configuration"
                ))
            })
    }

    async fn delete_app_config(&self, app_instance_id: String) -> Result<TaskProgress, ApiError> {
        let mut state = self.lock();
        let app = state
            .apps
            .get_mut(&app_instance_id)
            .filter(|a| a.config.is_some())
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "app instance {app_instance_id} has no configuration"
                ))
            })?;
        app.config = None;
        app.traffic_rules.clear();
        app.dns_rules.clear();
        let t = task(&app_instance_id);
        state.tasks.insert(t.task_id.clone(), t.clone());
        Ok(processing(&t))
    }

    async fn get_task(&self, task_id: String) -> Result<TaskProgress, ApiError> {
        self.lock()
            .tasks
            .get(&task_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("task {task_id} not found")))
    }

    async fn list_capabilities(
        &self,
        filter: ServiceFilter,
    ) -> Result<Vec<PlatformCapability>, ApiError> {
        let state = self.lock();
        Ok(state
            .services_iter()
            .filter(|s| filter.matches(s))
            .map(|s| Self::capability(&state, s))
            .collect())
    }

    async fn get_capability(&self, capability_id: String) -> Result<PlatformCapability, ApiError> {
        let state = self.lock();
        let s = state
            .services_iter()
            .find(|s| s.ser_instance_id.as_deref() == Some(capability_id.as_str()))
            .ok_or_else(|| ApiError::not_found(format!("capability {capability_id} not found")))?;
        Ok(Self::capability(&state, s))
    }

    async fn terminate_app_instance(&self, app_instance_id: String) -> Result<(), ApiError> {
        if self.app_state(&app_instance_id) == Some(AppState::Terminating) {
            return Err(ApiError::forbidden(
                "app instance has other operation in progress",
            ));
        }
        self.terminate(&app_instance_id).map(drop)
    }

    async fn record_api_call(&self, record: serde_json::Value) -> Result<(), ApiError> {
        self.lock().api_calls.push(record);
        Ok(())
    }

    async fn call_statistics(&self) -> Result<CallStatistics, ApiError> {
        let state = self.lock();
        let uri_of =
            |r: &serde_json::Value| r["upstream_uri"].as_str().unwrap_or_default().to_owned();
        let method_of = |r: &serde_json::Value| {
            r["request"]["method"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        let names: BTreeSet<String> = state.services_iter().map(|s| s.ser_name.clone()).collect();
        let today = |n: usize| {
            let mut v = vec![0u64; 7];
            if let Some(first) = v.first_mut() {
                *first = n as u64;
            }
            v
        };
        let app_services = names
            .into_iter()
            .map(|name| {
                let n = state
                    .api_calls
                    .iter()
                    .filter(|r| {
                        r["service"]["name"]
                            .as_str()
                            .is_some_and(|s| s.starts_with(&name))
                    })
                    .count();
                ServiceCalls {
                    name,
                    desc: String::new(),
                    call_times: today(n),
                }
            })
            .collect();
        let registrations = state
            .api_calls
            .iter()
            .filter(|r| {
                method_of(r) == "POST"
                    && uri_of(r).contains("/mec_service_mgmt/v1/applications/")
                    && uri_of(r).ends_with("/services")
            })
            .count();
        let discoveries = state
            .api_calls
            .iter()
            .filter(|r| {
                method_of(r) == "GET" && uri_of(r).contains("/mec_service_mgmt/v1/services")
            })
            .count();
        Ok(CallStatistics {
            app_services,
            mep_services: vec![
                ServiceCalls {
                    name: "serviceRegister".to_owned(),
                    desc: String::new(),
                    call_times: today(registrations),
                },
                ServiceCalls {
                    name: "serviceDiscovery".to_owned(),
                    desc: String::new(),
                    call_times: today(discoveries),
                },
            ],
        })
    }

    async fn subscribe_statistic(&self) -> Result<SubscribeStatistic, ApiError> {
        let state = self.lock();
        let mut relations = Vec::new();
        let mut names = BTreeSet::new();
        for (id, app) in &state.apps {
            let subs: Vec<_> = app.availability_subscription_values().collect();
            if subs.is_empty() {
                continue;
            }
            let mut ids = Vec::new();
            for sub in subs {
                if let Some(c) = &sub.filtering_criteria {
                    names.extend(c.ser_names.iter().cloned());
                    ids.extend(c.ser_instance_ids.iter().cloned());
                }
            }
            relations.push(SubscribeRelation {
                subscribe_app_id: id.clone(),
                service_list: ids,
            });
        }
        Ok(SubscribeStatistic {
            subscribe_num: SubscribeNum {
                app_subscribe_num: relations.len() as u64,
                service_subscribed_num: names.len() as u64,
            },
            subscribe_relations: relations,
        })
    }

    async fn governed_services(&self) -> Result<Vec<ServiceInfo>, ApiError> {
        Ok(self.lock().services_iter().cloned().collect())
    }
}
