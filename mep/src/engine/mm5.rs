//! EdgeGallery's Mm5 over the engine: what the MEP manager configures becomes what the app sees over Mp1.

use super::cache::Cache;
use super::records::*;
use super::{Engine, Event, json, not_found};
use crate::store::Txn;
use mec_core::server::ApiError;
use mec_mm5::model::{
    AppDConfig, CallStatistics, CapabilityConsumer, ConfigResult, PlatformCapability, ServiceCalls,
    SubscribeNum, SubscribeRelation, SubscribeStatistic, TaskProgress,
};
use mec_mm5::server::Mm5;
use mec_mp1::model::{SerAvailabilityNotificationSubscription, ServiceInfo};
use mec_mp1::server::ServiceFilter;
use std::collections::BTreeSet;

/// The configuration applies at once, so the task is stored as done; the answer is what EdgeGallery answers
/// while a task runs (`PROCESSING`, "0"), with the path's app instance id (mepserver `mm5/appd_config_create.go`).
fn task_pair(app: &str) -> (TaskProgress, TaskProgress) {
    let id = uuid::Uuid::new_v4().to_string();
    let done = TaskProgress::new(id.clone(), ConfigResult::Success)
        .with_app_instance_id(app)
        .with_config_phase("100");
    let answer = TaskProgress::new(id, ConfigResult::Processing)
        .with_app_instance_id(app)
        .with_config_phase("0")
        .with_detailed("Operation In progress");
    (done, answer)
}

/// Whether an availability subscription names a service, as EdgeGallery counts capability consumers: by
/// `serInstanceIds`, else `serNames`, else `serCategories` (mepserver `mm5/plans/capability_all_get.go`).
fn names_service(sub: &SerAvailabilityNotificationSubscription, s: &ServiceInfo) -> bool {
    let Some(c) = &sub.filtering_criteria else {
        return false;
    };
    if !c.ser_instance_ids.is_empty() {
        return s
            .ser_instance_id
            .as_ref()
            .is_some_and(|id| c.ser_instance_ids.contains(id));
    }
    if !c.ser_names.is_empty() {
        return c.ser_names.contains(&s.ser_name);
    }
    !c.ser_categories.is_empty()
        && s.ser_category
            .as_ref()
            .is_some_and(|sc| c.ser_categories.iter().any(|x| x.id == sc.id))
}

fn availability_subscriptions(
    cache: &Cache,
) -> impl Iterator<Item = (&str, &SerAvailabilityNotificationSubscription)> {
    cache
        .subscriptions
        .values()
        .filter_map(|s| match &s.value.body {
            SubscriptionBody::Availability(a) => Some((s.value.app_instance_id.as_str(), a)),
            SubscriptionBody::Termination(_) => None,
        })
}

fn capability(cache: &Cache, s: &ServiceInfo) -> PlatformCapability {
    let consumers: BTreeSet<&str> = availability_subscriptions(cache)
        .filter(|(_, sub)| names_service(sub, s))
        .map(|(app, _)| app)
        .collect();
    PlatformCapability::new(
        s.ser_instance_id.clone().unwrap_or_default(),
        s.ser_name.clone(),
        s.state.clone(),
    )
    .with_version(s.version.clone())
    .with_consumers(consumers.into_iter().map(CapabilityConsumer::new).collect())
}

impl Engine {
    /// One domain name belongs to one app instance (EdgeGallery answers 400 "duplicate" otherwise).
    fn domain_taken_elsewhere(cache: &Cache, app: &str, config: &AppDConfig) -> Option<String> {
        config
            .app_dns_rule
            .iter()
            .find(|r| Self::owner_of_domain(cache, &r.domain_name, app).is_some())
            .map(|r| r.domain_name.clone())
    }

    /// The writes that make an app's rules exactly those of `config`.
    fn apply_config(
        &self,
        cache: &Cache,
        app: &str,
        config: &AppDConfig,
        txn: Txn,
    ) -> Result<Txn, ApiError> {
        let mut txn = txn;
        for id in cache
            .traffic_rules
            .get(app)
            .into_iter()
            .flatten()
            .map(|r| r.0)
        {
            if !config
                .app_traffic_rule
                .iter()
                .any(|r| &r.traffic_rule_id == id)
            {
                txn = txn.delete(self.key(&format!("{TRAFFIC_RULES}{app}/{id}")));
            }
        }
        for id in cache.dns_rules.get(app).into_iter().flatten().map(|r| r.0) {
            if !config.app_dns_rule.iter().any(|r| &r.dns_rule_id == id) {
                txn = txn.delete(self.key(&format!("{DNS_RULES}{app}/{id}")));
            }
        }
        for r in &config.app_traffic_rule {
            txn = txn.put(
                self.key(&format!("{TRAFFIC_RULES}{app}/{}", r.traffic_rule_id)),
                json(r)?,
            );
        }
        for r in &config.app_dns_rule {
            txn = txn.put(
                self.key(&format!("{DNS_RULES}{app}/{}", r.dns_rule_id)),
                json(r)?,
            );
        }
        Ok(txn)
    }

    /// Whether `config`'s rules are exactly the app's rules now (EdgeGallery's "no modification").
    fn same_rules(cache: &Cache, app: &str, config: &AppDConfig) -> bool {
        let traffic = cache.traffic_rules.get(app);
        let dns = cache.dns_rules.get(app);
        traffic.map_or(0, |r| r.len()) == config.app_traffic_rule.len()
            && dns.map_or(0, |r| r.len()) == config.app_dns_rule.len()
            && config.app_traffic_rule.iter().all(|r| {
                traffic
                    .and_then(|t| t.get(&r.traffic_rule_id))
                    .is_some_and(|v| v.value == *r)
            })
            && config.app_dns_rule.iter().all(|r| {
                dns.and_then(|t| t.get(&r.dns_rule_id))
                    .is_some_and(|v| v.value == *r)
            })
    }

    fn with_task(&self, txn: Txn, done: &TaskProgress) -> Result<Txn, ApiError> {
        Ok(txn.put(self.key(&format!("{TASKS}{}", done.task_id)), json(done)?))
    }
}

impl Mm5 for Engine {
    fn check_config(&self, config: &AppDConfig) -> Result<(), ApiError> {
        if self.config().profile.is_edgegallery() {
            crate::profile::check_edgegallery_config(config)
        } else {
            mec_mm5::server::check_app_config(config)
        }
    }

    async fn create_app_config(
        &self,
        app_instance_id: String,
        config: AppDConfig,
    ) -> Result<TaskProgress, ApiError> {
        let (done, answer) = task_pair(&app_instance_id);
        let edgegallery = self.config().profile.is_edgegallery();
        if edgegallery && config.app_traffic_rule.is_empty() && config.app_dns_rule.is_empty() {
            return Err(ApiError::not_found(crate::profile::NO_MODIFICATION));
        }
        self.transact(|cache, _| {
            let current = cache.app(&app_instance_id);
            if current.is_some_and(|a| a.value.configured_name.is_some()) {
                return Err(ApiError::bad_request(format!(
                    "duplicate app instance {app_instance_id}"
                )));
            }
            if cache.apps.iter().any(|(id, a)| {
                id != &app_instance_id
                    && a.value.configured_name.as_deref() == Some(config.app_name.as_str())
            }) {
                return Err(ApiError::bad_request(format!(
                    "appName: {} is configured for another app instance",
                    config.app_name
                )));
            }
            if let Some(domain) = Self::domain_taken_elsewhere(cache, &app_instance_id, &config) {
                return Err(ApiError::bad_request(format!(
                    "appDNSRule: domain name {domain} belongs to another app instance"
                )));
            }
            let mut record = current.map(|a| a.value.clone()).unwrap_or_default();
            if record.state == AppState::Terminated {
                record = AppRecord::new();
            }
            record.mp1_allowed = config.app_support_mp1;
            record.configured_name = Some(config.app_name.clone());
            let key = self.key(&format!("{APPS}{app_instance_id}"));
            let txn = Txn::new()
                .when_unchanged(key.clone(), current.map(|a| a.revision))
                .put(key, json(&record)?);
            let txn = self.apply_config(cache, &app_instance_id, &config, txn)?;
            Ok((self.with_task(txn, &done)?, ()))
        })
        .await?;
        self.emit(Event::Configured { app_instance_id });
        Ok(answer)
    }

    async fn update_app_config(
        &self,
        app_instance_id: String,
        config: AppDConfig,
    ) -> Result<TaskProgress, ApiError> {
        let (done, answer) = task_pair(&app_instance_id);
        let edgegallery = self.config().profile.is_edgegallery();
        self.transact(|cache, _| {
            let current = cache
                .app(&app_instance_id)
                .filter(|a| a.value.configured_name.is_some())
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "app instance {app_instance_id} has no configuration"
                    ))
                })?;
            if current.value.configured_name.as_deref() != Some(config.app_name.as_str()) {
                return Err(ApiError::bad_request(
                    "appName: does not match the app's configured name",
                ));
            }
            if edgegallery && Self::same_rules(cache, &app_instance_id, &config) {
                return Err(ApiError::not_found(crate::profile::NO_MODIFICATION));
            }
            if let Some(domain) = Self::domain_taken_elsewhere(cache, &app_instance_id, &config) {
                return Err(ApiError::bad_request(format!(
                    "appDNSRule: domain name {domain} belongs to another app instance"
                )));
            }
            let mut record = current.value.clone();
            record.mp1_allowed = config.app_support_mp1;
            let key = self.key(&format!("{APPS}{app_instance_id}"));
            let txn = Txn::new()
                .when_revision(key.clone(), current.revision)
                .put(key, json(&record)?);
            let txn = self.apply_config(cache, &app_instance_id, &config, txn)?;
            Ok((self.with_task(txn, &done)?, ()))
        })
        .await?;
        self.emit(Event::Configured { app_instance_id });
        Ok(answer)
    }

    async fn get_app_config(&self, app_instance_id: String) -> Result<AppDConfig, ApiError> {
        let cache = self.read();
        let app = cache
            .app(&app_instance_id)
            .and_then(|a| {
                a.value
                    .configured_name
                    .clone()
                    .map(|n| (n, a.value.mp1_allowed))
            })
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "app instance {app_instance_id} has no configuration"
                ))
            })?;
        let mut config = AppDConfig::new(app.0);
        config.app_support_mp1 = app.1;
        config.app_traffic_rule = cache
            .traffic_rules
            .get(&app_instance_id)
            .map(|r| r.values().map(|v| v.value.clone()).collect())
            .unwrap_or_default();
        config.app_dns_rule = cache
            .dns_rules
            .get(&app_instance_id)
            .map(|r| r.values().map(|v| v.value.clone()).collect())
            .unwrap_or_default();
        Ok(config)
    }

    async fn delete_app_config(&self, app_instance_id: String) -> Result<TaskProgress, ApiError> {
        let (done, answer) = task_pair(&app_instance_id);
        self.transact(|cache, _| {
            let current = cache
                .app(&app_instance_id)
                .filter(|a| a.value.configured_name.is_some())
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "app instance {app_instance_id} has no configuration"
                    ))
                })?;
            let mut record = current.value.clone();
            record.configured_name = None;
            let key = self.key(&format!("{APPS}{app_instance_id}"));
            let txn = Txn::new()
                .when_revision(key.clone(), current.revision)
                .put(key, json(&record)?);
            let txn = self.apply_config(cache, &app_instance_id, &AppDConfig::default(), txn)?;
            Ok((self.with_task(txn, &done)?, ()))
        })
        .await?;
        self.emit(Event::Configured { app_instance_id });
        Ok(answer)
    }

    async fn get_task(&self, task_id: String) -> Result<TaskProgress, ApiError> {
        self.read()
            .tasks
            .get(&task_id)
            .map(|t| t.value.clone())
            .ok_or_else(|| not_found("task", &task_id))
    }

    async fn list_capabilities(
        &self,
        mut filter: ServiceFilter,
    ) -> Result<Vec<PlatformCapability>, ApiError> {
        if self.config().profile.is_edgegallery() {
            // EdgeGallery's capability query ignores `ser_name` (mepserver `mm5/plans/capability_all_get.go`).
            filter.ser_names.clear();
        }
        let cache = self.read();
        Ok(cache
            .candidate_services(&filter)
            .filter(|s| filter.matches(s))
            .map(|s| capability(&cache, s))
            .collect())
    }

    async fn get_capability(&self, capability_id: String) -> Result<PlatformCapability, ApiError> {
        let cache = self.read();
        let s = cache
            .services
            .get(capability_id.as_str())
            .ok_or_else(|| not_found("capability", &capability_id))?;
        Ok(capability(&cache, &s.value.info))
    }

    async fn terminate_app_instance(&self, app_instance_id: String) -> Result<(), ApiError> {
        if self.config().profile.is_edgegallery() && self.app_state(&app_instance_id).is_none() {
            // EdgeGallery answers 200 for an unknown instance (mepserver `mm5/plans/app_instance_termination.go`),
            // and the MECM's lcmcontroller aborts its termination on anything else.
            return Ok(());
        }
        if self.app_state(&app_instance_id) == Some(AppState::Terminating) {
            return Err(ApiError::forbidden(
                "app instance has other operation in progress",
            ));
        }
        self.terminate(&app_instance_id).await.map(drop)
    }

    async fn record_api_call(&self, record: serde_json::Value) -> Result<(), ApiError> {
        Engine::record_api_call(self, record);
        Ok(())
    }

    async fn call_statistics(&self) -> Result<CallStatistics, ApiError> {
        let calls = self.api_calls();
        let uri_of =
            |r: &serde_json::Value| r["upstream_uri"].as_str().unwrap_or_default().to_owned();
        let method_of = |r: &serde_json::Value| {
            r["request"]["method"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        let names: BTreeSet<String> = self
            .read()
            .services
            .values()
            .map(|s| s.value.info.ser_name.clone())
            .collect();
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
                let n = calls
                    .iter()
                    .filter(|r| {
                        r["service"]["name"]
                            .as_str()
                            .is_some_and(|s| s.starts_with(&name))
                    })
                    .count();
                ServiceCalls::new(name, today(n))
            })
            .collect();
        let registrations = calls
            .iter()
            .filter(|r| {
                method_of(r) == "POST"
                    && uri_of(r).contains("/mec_service_mgmt/v1/applications/")
                    && uri_of(r).ends_with("/services")
            })
            .count();
        let discoveries = calls
            .iter()
            .filter(|r| {
                method_of(r) == "GET" && uri_of(r).contains("/mec_service_mgmt/v1/services")
            })
            .count();
        Ok(CallStatistics::new(
            app_services,
            vec![
                ServiceCalls::new("serviceRegister", today(registrations)),
                ServiceCalls::new("serviceDiscovery", today(discoveries)),
            ],
        ))
    }

    async fn subscribe_statistic(&self) -> Result<SubscribeStatistic, ApiError> {
        let cache = self.read();
        let mut by_app: std::collections::BTreeMap<
            &str,
            Vec<&SerAvailabilityNotificationSubscription>,
        > = std::collections::BTreeMap::new();
        for (app, sub) in availability_subscriptions(&cache) {
            by_app.entry(app).or_default().push(sub);
        }
        let mut names = BTreeSet::new();
        let mut relations = Vec::new();
        for (app, subs) in by_app {
            let mut ids = Vec::new();
            for sub in subs {
                if let Some(c) = &sub.filtering_criteria {
                    names.extend(c.ser_names.iter().cloned());
                    ids.extend(c.ser_instance_ids.iter().cloned());
                }
            }
            relations.push(SubscribeRelation::new(app, ids));
        }
        Ok(SubscribeStatistic::new(
            SubscribeNum::new(relations.len() as u64, names.len() as u64),
            relations,
        ))
    }

    async fn governed_services(&self) -> Result<Vec<ServiceInfo>, ApiError> {
        Ok(self.services())
    }
}
