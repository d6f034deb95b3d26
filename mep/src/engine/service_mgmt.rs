//! The service management API (MEC 011 clause 8.2) over the engine: registry, discovery, liveness, transports,
//! availability subscriptions.

use super::cache::Cache;
use super::records::*;
use super::{Engine, json, new_id, new_service_id, not_found};
use crate::store::Txn;
use mec_core::TimeStamp;
use mec_core::server::ApiError;
use mec_mp1::model::{
    ChangeType, SerAvailabilityNotificationSubscription, ServiceInfo, ServiceLinks,
    ServiceLivenessInfo, ServiceLivenessUpdate, ServiceState, TransportInfo,
};
use mec_mp1::server::{
    RequestContext, ServiceFilter, ServiceManagement, check_if_match, service_representation,
};
use std::sync::Arc;

/// The links a stored service carries: its owner, so that discovery answers can link to it (EdgeGallery's
/// `_links.appInstanceId`).
pub(crate) fn owner_links(app: &str) -> ServiceLinks {
    ServiceLinks::default().with_app_instance_id(app)
}

/// Resolves `transportId` against the offered transports. EdgeGallery's mep-agent always sends `transportId`
/// next to a full `transportInfo` (mep-agent `src/model/instance.go`, no `omitempty`): the two are accepted
/// together when they agree, or when the id names no offered transport and the (validated) info is complete;
/// they conflict only when the id names an offered transport other than the info's.
fn resolve_transport(cache: &Cache, info: &mut ServiceInfo) -> Result<(), ApiError> {
    let Some(tid) = &info.transport_id else {
        return Ok(());
    };
    let offered = cache.transports.get(tid).map(|t| &t.value);
    match (&info.transport_info, offered) {
        (None, Some(t)) => info.transport_info = Some(t.clone()),
        (None, None) => {
            return Err(ApiError::bad_request(format!(
                "transportId: no transport {tid} (see GET /transports)"
            )));
        }
        (Some(given), Some(_)) if &given.id != tid => {
            return Err(ApiError::bad_request(format!(
                "transportId: names the offered transport {tid}, but transportInfo.id is {:?}; give one of \
                 them, or make them agree",
                given.id
            )));
        }
        (Some(_), _) => {}
    }
    Ok(())
}

impl Engine {
    fn interval(&self, requested: Option<u32>) -> Option<u32> {
        self.config()
            .profile
            .liveness_interval(requested, self.config().default_liveness_interval)
    }

    fn owned_service<'a>(
        cache: &'a Cache,
        app: &str,
        id: &str,
    ) -> Result<&'a super::cache::Versioned<ServiceRecord>, ApiError> {
        cache
            .services
            .get(id)
            .filter(|s| s.value.owner() == app)
            .ok_or_else(|| not_found("service", id))
    }

    async fn create_subscription(
        &self,
        ctx: RequestContext,
        app: String,
        body: SubscriptionBody,
    ) -> Result<String, ApiError> {
        let id = new_id();
        self.put_subscription(&id, ctx.base_path, app, body, false)
            .await?;
        Ok(id)
    }

    /// Creates subscription `id` for `app` as if the app had posted it (seeding, under the ETSI paths): its
    /// notifications start with the next change. Seeding the same id for the same app again changes nothing.
    pub async fn seed_subscription(
        &self,
        app: &str,
        id: &str,
        body: SubscriptionBody,
    ) -> Result<(), ApiError> {
        self.put_subscription(id, String::new(), app.to_owned(), body, true)
            .await
    }

    async fn put_subscription(
        &self,
        id: &str,
        base_path: String,
        app: String,
        body: SubscriptionBody,
        seeding: bool,
    ) -> Result<(), ApiError> {
        let termination = matches!(body, SubscriptionBody::Termination(_));
        let record = SubscriptionRecord {
            app_instance_id: app.clone(),
            base_path,
            body,
        };
        self.transact(|cache, _| {
            if let Some(held) = cache.subscriptions.get(id) {
                return if seeding && held.value.app_instance_id == app {
                    Ok((Txn::new(), ()))
                } else {
                    Err(ApiError::conflict(format!(
                        "subscription {id} exists already"
                    )))
                };
            }
            let a = Self::usable_app(cache, &app)?;
            let held = cache.subscriptions_of(&app, termination).count();
            let limit = self.config().max_subscriptions_per_app;
            if held >= limit {
                return Err(ApiError::forbidden(format!(
                    "app instance {app} holds {held} subscriptions of this kind, the most this MEP allows \
                     ({limit}); delete one first"
                )));
            }
            let key = self.key(&format!("{SUBSCRIPTIONS}{id}"));
            // The cursor starts at the last event: conditional on it, so that a replica whose view lags behind
            // another's events never starts a subscription before them.
            let txn = Txn::new()
                .when_revision(self.key(&format!("{APPS}{app}")), a.revision)
                .when_unchanged(
                    self.key(EVENT_SEQ),
                    cache.event_seq.as_ref().map(|v| v.revision),
                )
                .when_absent(key.clone())
                .put(key, json(&record)?)
                .put(
                    self.key(&format!("{CURSORS}{id}")),
                    json(&Cursor {
                        seq: cache.last_event(),
                    })?,
                );
            Ok((txn, ()))
        })
        .await
    }

    pub(crate) fn subscription_of(
        cache: &Cache,
        app: &str,
        id: &str,
        termination: bool,
    ) -> Result<std::sync::Arc<SubscriptionRecord>, ApiError> {
        Self::usable_app(cache, app)?;
        cache
            .subscriptions
            .get(id)
            .filter(|s| {
                s.value.app_instance_id == app
                    && matches!(s.value.body, SubscriptionBody::Termination(_)) == termination
            })
            .map(|s| s.value.clone())
            .ok_or_else(|| not_found("subscription", id))
    }

    async fn delete_subscription(
        &self,
        app: String,
        id: String,
        termination: bool,
    ) -> Result<(), ApiError> {
        self.transact(|cache, _| {
            Self::subscription_of(cache, &app, &id, termination)?;
            let revision = cache
                .subscriptions
                .get(&id)
                .map(|s| s.revision)
                .unwrap_or_default();
            let key = self.key(&format!("{SUBSCRIPTIONS}{id}"));
            let txn = Txn::new()
                .when_revision(key.clone(), revision)
                .delete(key)
                .delete(self.key(&format!("{CURSORS}{id}")));
            Ok((txn, ()))
        })
        .await
    }

    pub(crate) fn list_subscriptions(
        &self,
        app: &str,
        termination: bool,
    ) -> Result<Vec<String>, ApiError> {
        let cache = self.read();
        Self::usable_app(&cache, app)?;
        let mut ids: Vec<String> = cache
            .subscriptions_of(app, termination)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        Ok(ids)
    }
}

fn copies(services: Vec<Arc<ServiceInfo>>) -> Vec<ServiceInfo> {
    services.iter().map(|s| ServiceInfo::clone(s)).collect()
}

impl Engine {
    /// The services matching `filter` (registered by `owner`, when given), shared with the cache.
    fn discover(
        &self,
        owner: Option<&str>,
        filter: &ServiceFilter,
    ) -> Result<Vec<Arc<ServiceInfo>>, ApiError> {
        let cache = self.read();
        if let Some(app) = owner {
            Self::usable_app(&cache, app)?;
        }
        Ok(cache
            .candidate_services(filter)
            .filter(|s| owner.is_none_or(|o| owner_of(s) == o) && filter.matches(s))
            .map(Arc::clone)
            .collect())
    }
}

impl ServiceManagement for Engine {
    const CHECKS_IF_MATCH: bool = true;

    async fn list_services(
        &self,
        _: RequestContext,
        filter: ServiceFilter,
    ) -> Result<Vec<ServiceInfo>, ApiError> {
        Ok(copies(self.discover(None, &filter)?))
    }

    async fn get_service(
        &self,
        _: RequestContext,
        service_id: String,
    ) -> Result<ServiceInfo, ApiError> {
        self.read()
            .services
            .get(service_id.as_str())
            .map(|s| ServiceInfo::clone(&s.value.info))
            .ok_or_else(|| not_found("service", &service_id))
    }

    async fn list_app_services(
        &self,
        _: RequestContext,
        app: String,
        filter: ServiceFilter,
    ) -> Result<Vec<ServiceInfo>, ApiError> {
        Ok(copies(self.discover(Some(&app), &filter)?))
    }

    async fn discover_services(
        &self,
        _: RequestContext,
        owner: Option<String>,
        filter: ServiceFilter,
    ) -> Result<Vec<Arc<ServiceInfo>>, ApiError> {
        self.discover(owner.as_deref(), &filter)
    }

    async fn register_service(
        &self,
        _: RequestContext,
        app: String,
        mut info: ServiceInfo,
    ) -> Result<ServiceInfo, ApiError> {
        let id = new_service_id();
        info.ser_instance_id = Some(id.clone());
        info.liveness_interval = self.interval(info.liveness_interval);
        info.links = Some(owner_links(&app));
        let created = self
            .transact(|cache, now| {
                let a = Self::usable_app(cache, &app)?;
                let mut info = info.clone();
                resolve_transport(cache, &mut info)?;
                let held = cache.services.values().filter(|s| s.value.owner() == app).count();
                let limit = self.config().max_services_per_app;
                if held >= limit {
                    return Err(ApiError::forbidden(format!(
                        "app instance {app} has registered {held} services, the most this MEP allows ({limit})"
                    )));
                }
                let info = Arc::new(info);
                let record = ServiceRecord::new(Arc::clone(&info), TimeStamp::from(now));
                let key = self.key(&format!("{SERVICES}{id}"));
                let txn = Txn::new()
                    .when_revision(self.key(&format!("{APPS}{app}")), a.revision)
                    .when_absent(key.clone())
                    .put(key, json(&record)?);
                let events = Self::service_events(
                    cache,
                    [(app.clone(), Arc::clone(&info), ChangeType::Added)],
                );
                Ok((self.with_events(cache, txn, events)?, info))
            })
            .await?;
        self.emit_service_changes(&[(app, Arc::clone(&created), ChangeType::Added)]);
        Ok(ServiceInfo::clone(&created))
    }

    async fn get_app_service(
        &self,
        _: RequestContext,
        app: String,
        service_id: String,
    ) -> Result<ServiceInfo, ApiError> {
        let cache = self.read();
        Self::usable_app(&cache, &app)?;
        Ok(ServiceInfo::clone(
            &Self::owned_service(&cache, &app, &service_id)?.value.info,
        ))
    }

    async fn update_service(
        &self,
        ctx: RequestContext,
        app: String,
        service_id: String,
        info: ServiceInfo,
    ) -> Result<ServiceInfo, ApiError> {
        let (updated, change) = self
            .transact(|cache, now| {
                Self::usable_app(cache, &app)?;
                let stored = Self::owned_service(cache, &app, &service_id)?;
                if let Some(if_match) = &ctx.if_match {
                    let current =
                        service_representation(&ctx, &app, ServiceInfo::clone(&stored.value.info));
                    check_if_match(if_match, &current)?;
                }
                let mut info = info.clone();
                if info.transport_id.is_some() {
                    resolve_transport(cache, &mut info)?;
                } else if info.transport_info.is_none() {
                    info.transport_info
                        .clone_from(&stored.value.info.transport_info);
                }
                info.ser_instance_id = Some(service_id.clone());
                info.links = Some(owner_links(&app));
                info.liveness_interval = self.interval(info.liveness_interval);
                let change = if info.state == stored.value.info.state {
                    ChangeType::AttributesChanged
                } else {
                    ChangeType::StateChanged
                };
                let info = Arc::new(info);
                let record = ServiceRecord::new(Arc::clone(&info), TimeStamp::from(now));
                let key = self.key(&format!("{SERVICES}{service_id}"));
                let txn = Txn::new()
                    .when_revision(key.clone(), stored.revision)
                    .put(key, json(&record)?);
                let events =
                    Self::service_events(cache, [(app.clone(), info.clone(), change.clone())]);
                Ok((self.with_events(cache, txn, events)?, (info, change)))
            })
            .await?;
        self.emit_service_changes(&[(app, Arc::clone(&updated), change)]);
        Ok(ServiceInfo::clone(&updated))
    }

    async fn deregister_service(
        &self,
        _: RequestContext,
        app: String,
        service_id: String,
    ) -> Result<(), ApiError> {
        let removed = self
            .transact(|cache, _| {
                Self::usable_app(cache, &app)?;
                let stored = Self::owned_service(cache, &app, &service_id)?;
                let key = self.key(&format!("{SERVICES}{service_id}"));
                let txn = Txn::new()
                    .when_revision(key.clone(), stored.revision)
                    .delete(key);
                let info = stored.value.info.clone();
                let events =
                    Self::service_events(cache, [(app.clone(), info.clone(), ChangeType::Removed)]);
                Ok((self.with_events(cache, txn, events)?, info))
            })
            .await?;
        self.emit_service_changes(&[(app, removed, ChangeType::Removed)]);
        Ok(())
    }

    async fn get_liveness(
        &self,
        _: RequestContext,
        app: String,
        service_id: String,
    ) -> Result<ServiceLivenessInfo, ApiError> {
        let cache = self.read();
        Self::usable_app(&cache, &app)?;
        let s = Self::owned_service(&cache, &app, &service_id)?;
        let interval = s
            .value
            .info
            .liveness_interval
            .filter(|i| *i > 0)
            .ok_or_else(|| {
                ApiError::not_found(format!("service {service_id} does not send heartbeats"))
            })?;
        Ok(ServiceLivenessInfo::new(
            s.value.info.state.clone(),
            s.value.last_heartbeat,
            interval,
        ))
    }

    async fn update_liveness(
        &self,
        _: RequestContext,
        app: String,
        service_id: String,
        _: ServiceLivenessUpdate,
    ) -> Result<Option<ServiceLivenessInfo>, ApiError> {
        let (answer, revived) = self
            .transact(|cache, now| {
                Self::usable_app(cache, &app)?;
                let s = Self::owned_service(cache, &app, &service_id)?;
                let interval = s
                    .value
                    .info
                    .liveness_interval
                    .filter(|i| *i > 0)
                    .ok_or_else(|| {
                        ApiError::not_found(format!(
                            "service {service_id} does not send heartbeats"
                        ))
                    })?;
                if s.value.info.state == ServiceState::Inactive {
                    return Err(ApiError::conflict(format!(
                        "service {service_id} is INACTIVE"
                    )));
                }
                let mut record = s.value.clone();
                record.last_heartbeat = TimeStamp::from(now);
                let revived = record.info.state == ServiceState::Suspended;
                if revived {
                    Arc::make_mut(&mut record.info).state = ServiceState::Active;
                }
                let key = self.key(&format!("{SERVICES}{service_id}"));
                let txn = Txn::new()
                    .when_revision(key.clone(), s.revision)
                    .put(key, json(&record)?);
                let (txn, answer) = if revived {
                    let events = Self::service_events(
                        cache,
                        [(app.clone(), record.info.clone(), ChangeType::StateChanged)],
                    );
                    let info = ServiceLivenessInfo::new(
                        ServiceState::Active,
                        record.last_heartbeat,
                        interval,
                    );
                    (self.with_events(cache, txn, events)?, Some(info))
                } else {
                    (txn, None)
                };
                Ok((txn, (answer, revived.then_some(record.info))))
            })
            .await?;
        if let Some(info) = revived {
            self.emit_service_changes(&[(app, info, ChangeType::StateChanged)]);
        }
        Ok(answer)
    }

    async fn list_transports(&self, _: RequestContext) -> Result<Vec<TransportInfo>, ApiError> {
        Ok(self.transports())
    }

    async fn list_availability_subscriptions(
        &self,
        _: RequestContext,
        app: String,
    ) -> Result<Vec<String>, ApiError> {
        self.list_subscriptions(&app, false)
    }

    async fn create_availability_subscription(
        &self,
        ctx: RequestContext,
        app: String,
        subscription: SerAvailabilityNotificationSubscription,
    ) -> Result<String, ApiError> {
        self.create_subscription(ctx, app, SubscriptionBody::Availability(subscription))
            .await
    }

    async fn get_availability_subscription(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<SerAvailabilityNotificationSubscription, ApiError> {
        let cache = self.read();
        match &Self::subscription_of(&cache, &app, &id, false)?.body {
            SubscriptionBody::Availability(s) => Ok(s.clone()),
            SubscriptionBody::Termination(_) => Err(not_found("subscription", &id)),
        }
    }

    async fn delete_availability_subscription(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<(), ApiError> {
        self.delete_subscription(app, id, false).await
    }
}

impl Engine {
    pub(crate) async fn create_termination_subscription_impl(
        &self,
        ctx: RequestContext,
        app: String,
        subscription: mec_mp1::model::AppTerminationNotificationSubscription,
    ) -> Result<String, ApiError> {
        self.create_subscription(ctx, app, SubscriptionBody::Termination(subscription))
            .await
    }

    pub(crate) async fn delete_termination_subscription_impl(
        &self,
        app: String,
        id: String,
    ) -> Result<(), ApiError> {
        self.delete_subscription(app, id, true).await
    }
}
