//! The application support API (MEC 011 clause 7.2) over the engine: rules, readiness, termination, timing and
//! 3.x registrations; and the termination of app instances.

use super::cache::{Cache, RuleMap};
use super::records::*;
use super::{Engine, Event, json, new_id, not_found};
use crate::store::Txn;
use mec_core::TimeStamp;
use mec_core::server::ApiError;
use mec_mp1::model::{
    AppInfo, AppReadyConfirmation, AppTerminationConfirmation,
    AppTerminationNotificationSubscription, ChangeType, CurrentTime, DnsRule, NtpServer,
    NtpServerAddrType, OperationAction, TimeSourceStatus, TimingCaps, TrafficRule,
};
use mec_mp1::server::{AppSupport, RequestContext, check_if_match};
use std::time::Duration;

impl Engine {
    /// Registers an app instance (MEC 011 3.x `AppInfo`) as if it had posted its registration (seeding). An app
    /// instance registered already keeps its registration.
    pub async fn seed_registration(&self, mut info: AppInfo) -> Result<(), ApiError> {
        let Some(id) = info.app_instance_id.clone() else {
            return Err(ApiError::bad_request(
                "appInstanceId: a seeded registration names its app instance",
            ));
        };
        let registered = |engine: &Self| {
            engine
                .read()
                .app(&id)
                .is_some_and(|a| a.value.registration.is_some())
        };
        if registered(self) {
            return Ok(());
        }
        info.app_instance_id = Some(id.clone());
        match self.register_app(RequestContext::default(), info).await {
            // Another replica seeding the same registration at once.
            Err(_) if registered(self) => Ok(()),
            other => other.map(drop),
        }
    }

    /// Starts terminating an app instance, as the MEP manager does: its termination subscribers are told
    /// (`AppTerminationNotification`); the termination completes when the app confirms, or after
    /// [`max_graceful_timeout`](super::EngineConfig::max_graceful_timeout) seconds on the engine's clock. Without
    /// termination subscriptions it completes at once. Terminating a terminated app changes nothing.
    pub async fn terminate(&self, app_instance_id: &str) -> Result<AppState, ApiError> {
        let grace = self.config().max_graceful_timeout;
        let started = self
            .transact(|cache, now| {
                let app = cache
                    .app(app_instance_id)
                    .ok_or_else(|| not_found("app instance", app_instance_id))?;
                match app.value.state {
                    AppState::Terminated => return Ok((Txn::new(), Some(AppState::Terminated))),
                    AppState::Terminating => return Ok((Txn::new(), Some(AppState::Terminating))),
                    _ => {}
                }
                if cache
                    .subscriptions_of(app_instance_id, true)
                    .next()
                    .is_none()
                {
                    return Ok((Txn::new(), None));
                }
                let mut record = app.value.clone();
                record.state = AppState::Terminating;
                record.termination_deadline =
                    Some(TimeStamp::from(now + Duration::from_secs(u64::from(grace))));
                let key = self.key(&format!("{APPS}{app_instance_id}"));
                let txn = Txn::new()
                    .when_revision(key.clone(), app.revision)
                    .put(key, json(&record)?);
                let event = EventRecord::AppTerminating {
                    app_instance_id: app_instance_id.to_owned(),
                    max_graceful_timeout: grace,
                };
                Ok((
                    self.with_events(cache, txn, vec![event])?,
                    Some(AppState::Terminating),
                ))
            })
            .await?;
        match started {
            Some(AppState::Terminating) => {
                self.emit(Event::TerminationStarted {
                    app_instance_id: app_instance_id.to_owned(),
                });
                Ok(AppState::Terminating)
            }
            Some(state) => Ok(state),
            None => {
                self.finish_termination(app_instance_id).await?;
                Ok(AppState::Terminated)
            }
        }
    }

    /// Ends an app instance: its services are deregistered (subscribers are told), its subscriptions, rules and
    /// credentials deleted; its record stays, `TERMINATED`, so late requests get a clear answer.
    pub(crate) async fn finish_termination(&self, app_instance_id: &str) -> Result<(), ApiError> {
        self.split_termination(app_instance_id).await?;
        let removed = self
            .transact(|cache, _| {
                let app = cache
                    .app(app_instance_id)
                    .ok_or_else(|| not_found("app instance", app_instance_id))?;
                if app.value.state == AppState::Terminated {
                    return Ok((Txn::new(), None));
                }
                let app_key = self.key(&format!("{APPS}{app_instance_id}"));
                let record = AppRecord {
                    state: AppState::Terminated,
                    mp1_allowed: app.value.mp1_allowed,
                    registration: None,
                    configured_name: None,
                    termination_deadline: None,
                    tokens_valid_from: app.value.tokens_valid_from,
                };
                let mut txn = Txn::new()
                    .when_revision(app_key.clone(), app.revision)
                    .put(app_key, json(&record)?);
                let mut changes = Vec::new();
                for (id, s) in &cache.services {
                    if s.value.owner() == app_instance_id {
                        txn = txn.delete(self.key(&format!("{SERVICES}{id}")));
                        changes.push((
                            app_instance_id.to_owned(),
                            s.value.info.clone(),
                            ChangeType::Removed,
                        ));
                    }
                }
                for (id, s) in &cache.subscriptions {
                    if s.value.app_instance_id == app_instance_id {
                        txn = txn
                            .delete(self.key(&format!("{SUBSCRIPTIONS}{id}")))
                            .delete(self.key(&format!("{CURSORS}{id}")));
                    }
                }
                for id in cache
                    .traffic_rules
                    .get(app_instance_id)
                    .into_iter()
                    .flatten()
                    .map(|r| r.0)
                {
                    txn = txn.delete(self.key(&format!("{TRAFFIC_RULES}{app_instance_id}/{id}")));
                }
                for id in cache
                    .dns_rules
                    .get(app_instance_id)
                    .into_iter()
                    .flatten()
                    .map(|r| r.0)
                {
                    txn = txn.delete(self.key(&format!("{DNS_RULES}{app_instance_id}/{id}")));
                }
                for (ak, c) in &cache.credentials {
                    if c.value.app_instance_id == app_instance_id {
                        txn = txn.delete(self.key(&format!("{CREDENTIALS}{ak}")));
                    }
                }
                let events = Self::service_events(cache, changes.clone());
                Ok((self.with_events(cache, txn, events)?, Some(changes)))
            })
            .await?;
        if let Some(changes) = removed {
            self.emit_service_changes(&changes);
            self.emit(Event::Terminated {
                app_instance_id: app_instance_id.to_owned(),
            });
        }
        Ok(())
    }

    /// The app instance (other than `except`, not terminated) whose DNS rules hold `domain`, if any.
    pub(crate) fn owner_of_domain(
        cache: &super::cache::Cache,
        domain: &str,
        except: &str,
    ) -> Option<String> {
        cache
            .dns_rules
            .iter()
            .filter(|(owner, _)| {
                owner.as_str() != except
                    && cache
                        .app(owner)
                        .is_some_and(|a| a.value.state != AppState::Terminated)
            })
            .find(|(_, rules)| {
                rules
                    .values()
                    .any(|r| r.value.domain_name.eq_ignore_ascii_case(domain))
            })
            .map(|(owner, _)| owner.clone())
    }

    fn rule_key(&self, kind: &str, app: &str, id: &str) -> String {
        self.key(&format!("{kind}{app}/{id}"))
    }

    /// An app instance's rules of one kind.
    fn list_rules<R: StoredRule>(&self, app: &str) -> Result<Vec<R>, ApiError> {
        let cache = self.read();
        Self::usable_app(&cache, app)?;
        Ok(R::of(&cache)
            .get(app)
            .map(|r| r.values().map(|v| v.value.clone()).collect())
            .unwrap_or_default())
    }

    /// One rule of an app instance.
    fn get_rule<R: StoredRule>(&self, app: &str, id: &str) -> Result<R, ApiError> {
        let cache = self.read();
        Self::usable_app(&cache, app)?;
        R::of(&cache)
            .get(app)
            .and_then(|r| r.get(id))
            .map(|r| r.value.clone())
            .ok_or_else(|| not_found(R::NAME, id))
    }

    /// Replaces an existing rule, after the `If-Match` check and `check` (given the stored rule), in one step.
    async fn update_rule<R: StoredRule>(
        &self,
        ctx: &RequestContext,
        app: &str,
        id: &str,
        rule: &R,
        check: impl Fn(&Cache, &R) -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        self.transact(|cache, _| {
            Self::usable_app(cache, app)?;
            let stored = R::of(cache)
                .get(app)
                .and_then(|r| r.get(id))
                .ok_or_else(|| not_found(R::NAME, id))?;
            if let Some(if_match) = &ctx.if_match {
                check_if_match(if_match, &stored.value)?;
            }
            check(cache, &stored.value)?;
            let key = self.rule_key(R::KEYS, app, id);
            let txn = Txn::new()
                .when_revision(key.clone(), stored.revision)
                .put(key, json(rule)?);
            Ok((txn, ()))
        })
        .await
    }
}

/// A kind of rule an app instance has (traffic, DNS): where the engine keeps it.
trait StoredRule: Clone + serde::Serialize {
    /// Its keys' prefix in the store.
    const KEYS: &'static str;
    /// What a 404 calls it.
    const NAME: &'static str;
    /// The cached rules of this kind, per app instance.
    fn of(cache: &Cache) -> &RuleMap<Self>;
}

impl StoredRule for TrafficRule {
    const KEYS: &'static str = TRAFFIC_RULES;
    const NAME: &'static str = "traffic rule";
    fn of(cache: &Cache) -> &RuleMap<Self> {
        &cache.traffic_rules
    }
}

impl StoredRule for DnsRule {
    const KEYS: &'static str = DNS_RULES;
    const NAME: &'static str = "DNS rule";
    fn of(cache: &Cache) -> &RuleMap<Self> {
        &cache.dns_rules
    }
}

impl AppSupport for Engine {
    const CHECKS_IF_MATCH: bool = true;

    async fn check_app_instance(&self, _: RequestContext, app: String) -> Result<(), ApiError> {
        let cache = self.read();
        match cache.app(&app).map(|a| a.value.state) {
            // A terminated app may still confirm (late) termination: the handler answers 409.
            Some(AppState::Terminated) => Ok(()),
            _ => Self::usable_app(&cache, &app).map(drop),
        }
    }

    async fn list_traffic_rules(
        &self,
        _: RequestContext,
        app: String,
    ) -> Result<Vec<TrafficRule>, ApiError> {
        self.list_rules(&app)
    }

    async fn get_traffic_rule(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<TrafficRule, ApiError> {
        self.get_rule(&app, &id)
    }

    async fn update_traffic_rule(
        &self,
        ctx: RequestContext,
        app: String,
        id: String,
        rule: TrafficRule,
    ) -> Result<TrafficRule, ApiError> {
        self.update_rule(&ctx, &app, &id, &rule, |_, _| Ok(()))
            .await?;
        self.emit(Event::TrafficRuleUpdated {
            app_instance_id: app,
            traffic_rule_id: id,
        });
        Ok(rule)
    }

    async fn list_dns_rules(
        &self,
        _: RequestContext,
        app: String,
    ) -> Result<Vec<DnsRule>, ApiError> {
        self.list_rules(&app)
    }

    async fn get_dns_rule(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<DnsRule, ApiError> {
        self.get_rule(&app, &id)
    }

    async fn update_dns_rule(
        &self,
        ctx: RequestContext,
        app: String,
        id: String,
        rule: DnsRule,
    ) -> Result<DnsRule, ApiError> {
        self.update_rule(&ctx, &app, &id, &rule, |cache, stored| {
            // A domain name belongs to one app: the rule that had it first keeps it.
            if !stored.domain_name.eq_ignore_ascii_case(&rule.domain_name)
                && let Some(owner) = Self::owner_of_domain(cache, &rule.domain_name, &app)
            {
                return Err(ApiError::forbidden(format!(
                    "domainName: {} is held by another app instance ({owner})",
                    rule.domain_name
                )));
            }
            Ok(())
        })
        .await?;
        self.emit(Event::DnsRuleUpdated {
            app_instance_id: app,
            dns_rule_id: id,
        });
        Ok(rule)
    }

    async fn list_termination_subscriptions(
        &self,
        _: RequestContext,
        app: String,
    ) -> Result<Vec<String>, ApiError> {
        self.list_subscriptions(&app, true)
    }

    async fn create_termination_subscription(
        &self,
        ctx: RequestContext,
        app: String,
        subscription: AppTerminationNotificationSubscription,
    ) -> Result<String, ApiError> {
        self.create_termination_subscription_impl(ctx, app, subscription)
            .await
    }

    async fn get_termination_subscription(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<AppTerminationNotificationSubscription, ApiError> {
        let cache = self.read();
        match &Self::subscription_of(&cache, &app, &id, true)?.body {
            SubscriptionBody::Termination(s) => Ok(s.clone()),
            SubscriptionBody::Availability(_) => Err(not_found("subscription", &id)),
        }
    }

    async fn delete_termination_subscription(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<(), ApiError> {
        self.delete_termination_subscription_impl(app, id).await
    }

    async fn confirm_ready(
        &self,
        _: RequestContext,
        app: String,
        _: AppReadyConfirmation,
    ) -> Result<(), ApiError> {
        self.transact(|cache, _| {
            let a = Self::usable_app(cache, &app)?;
            match a.value.state {
                AppState::Terminating => {
                    return Err(ApiError::conflict(format!(
                        "app instance {app} is being terminated"
                    )));
                }
                AppState::Ready => return Ok((Txn::new(), ())),
                _ => {}
            }
            let mut record = a.value.clone();
            record.state = AppState::Ready;
            let key = self.key(&format!("{APPS}{app}"));
            Ok((
                Txn::new()
                    .when_revision(key.clone(), a.revision)
                    .put(key, json(&record)?),
                (),
            ))
        })
        .await?;
        self.emit(Event::Ready {
            app_instance_id: app,
        });
        Ok(())
    }

    async fn confirm_termination(
        &self,
        _: RequestContext,
        app: String,
        c: AppTerminationConfirmation,
    ) -> Result<(), ApiError> {
        {
            let cache = self.read();
            let a = cache
                .app(&app)
                .ok_or_else(|| not_found("app instance", &app))?;
            if a.value.state != AppState::Terminating {
                return Err(ApiError::conflict(format!(
                    "no termination of app instance {app} is going on"
                )));
            }
        }
        if c.operation_action != OperationAction::Terminating {
            return Err(ApiError::bad_request(
                "operationAction: does not match the TERMINATING sent in the notification",
            ));
        }
        self.finish_termination(&app).await
    }

    async fn timing_caps(&self, _: RequestContext) -> Result<TimingCaps, ApiError> {
        Ok(TimingCaps::new()
            .with_time_stamp(TimeStamp::from(self.now()))
            .with_ntp_server(NtpServer::new(NtpServerAddrType::DnsName, "mep-ntp", 4, 17)))
    }

    async fn current_time(&self, _: RequestContext) -> Result<CurrentTime, ApiError> {
        let t = TimeStamp::from(self.now());
        Ok(CurrentTime::new(
            t.seconds,
            t.nano_seconds,
            TimeSourceStatus::Nontraceable,
        ))
    }

    async fn register_app(&self, _: RequestContext, info: AppInfo) -> Result<AppInfo, ApiError> {
        let id = info.app_instance_id.clone().unwrap_or_else(new_id);
        let mut info = info;
        info.app_instance_id = Some(id.clone());
        let registered = info.clone();
        self.transact(|cache, _| {
            let current = cache.app(&id);
            if current.is_some_and(|a| a.value.registration.is_some()) {
                return Err(ApiError::conflict(format!(
                    "app instance {id} is already registered"
                )));
            }
            if current.is_some_and(|a| a.value.state == AppState::Terminated) {
                return Err(ApiError::conflict(format!(
                    "app instance {id} is terminated"
                )));
            }
            let mut record = current.map(|a| a.value.clone()).unwrap_or_default();
            record.registration = Some(registered.clone());
            let key = self.key(&format!("{APPS}{id}"));
            Ok((
                Txn::new()
                    .when_unchanged(key.clone(), current.map(|a| a.revision))
                    .put(key, json(&record)?),
                (),
            ))
        })
        .await?;
        Ok(info)
    }

    async fn get_registration(&self, _: RequestContext, app: String) -> Result<AppInfo, ApiError> {
        let cache = self.read();
        Self::usable_app(&cache, &app)?
            .value
            .registration
            .clone()
            .ok_or_else(|| not_found("registration", &app))
    }

    async fn update_registration(
        &self,
        _: RequestContext,
        app: String,
        mut info: AppInfo,
    ) -> Result<(), ApiError> {
        info.app_instance_id = Some(app.clone());
        self.transact(|cache, _| {
            let a = Self::usable_app(cache, &app)?;
            if a.value.registration.is_none() {
                return Err(not_found("registration", &app));
            }
            let mut record = a.value.clone();
            record.registration = Some(info.clone());
            let key = self.key(&format!("{APPS}{app}"));
            Ok((
                Txn::new()
                    .when_revision(key.clone(), a.revision)
                    .put(key, json(&record)?),
                (),
            ))
        })
        .await
    }

    async fn deregister_app(&self, _: RequestContext, app: String) -> Result<(), ApiError> {
        self.transact(|cache, _| {
            let a = Self::usable_app(cache, &app)?;
            if a.value.registration.is_none() {
                return Err(not_found("registration", &app));
            }
            let mut record = a.value.clone();
            record.registration = None;
            let key = self.key(&format!("{APPS}{app}"));
            Ok((
                Txn::new()
                    .when_revision(key.clone(), a.revision)
                    .put(key, json(&record)?),
                (),
            ))
        })
        .await
    }
}
