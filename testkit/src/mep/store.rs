//! The mock MEP's state and its implementation of the Mp1 server traits.

use super::events::{Event, EventLog};
use super::faults::Faults;
use mec_core::server::ApiError;
use mec_core::{SharedClock, TimeStamp};
use mec_mp1::model::{
    AppInfo, AppReadyConfirmation, AppTerminationConfirmation, AppTerminationNotification,
    AppTerminationNotificationLinks, AppTerminationNotificationSubscription, ChangeType,
    CurrentTime, DnsRule, LinkType, NtpServer, OperationAction,
    SerAvailabilityNotificationSubscription, ServiceAvailabilityNotification, ServiceInfo,
    ServiceLinks, ServiceLivenessInfo, ServiceLivenessUpdate, ServiceReference, ServiceState,
    SubscriptionNotificationLinks, TimeSourceStatus, TimingCaps, TrafficRule, TransportInfo,
};
use mec_mp1::server::{
    AppSupport, NotificationDispatcher, RequestContext, ServiceFilter, ServiceManagement,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

/// Where an app instance is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppState {
    /// Known to the MEP, not yet confirmed ready.
    Instantiated,
    /// The app confirmed it is ready.
    Ready,
    /// A termination notification was sent; the MEP waits for the app's confirmation.
    Terminating,
    /// Terminated: its services, subscriptions and rules are gone.
    Terminated,
}

#[derive(Debug)]
pub(crate) struct App {
    pub(crate) state: AppState,
    pub(crate) mp1_allowed: bool,
    pub(crate) info: Option<AppInfo>,
    pub(crate) config: Option<mec_mm5::model::AppDConfig>,
    pub(crate) traffic_rules: BTreeMap<String, TrafficRule>,
    pub(crate) dns_rules: BTreeMap<String, DnsRule>,
    termination_subscriptions: BTreeMap<String, Stored<AppTerminationNotificationSubscription>>,
    availability_subscriptions: BTreeMap<String, Stored<SerAvailabilityNotificationSubscription>>,
}

impl App {
    pub(crate) fn availability_subscription_values(
        &self,
    ) -> impl Iterator<Item = &SerAvailabilityNotificationSubscription> {
        self.availability_subscriptions.values().map(|s| &s.value)
    }

    pub(crate) fn from_seed(seed: &super::AppInstance) -> Self {
        let mut a = Self::new();
        a.mp1_allowed = seed.app_support_mp1;
        a.traffic_rules = seed
            .traffic_rules
            .iter()
            .map(|r| (r.traffic_rule_id.clone(), r.clone()))
            .collect();
        a.dns_rules = seed
            .dns_rules
            .iter()
            .map(|r| (r.dns_rule_id.clone(), r.clone()))
            .collect();
        a
    }

    pub(crate) fn new() -> Self {
        Self {
            state: AppState::Instantiated,
            mp1_allowed: true,
            info: None,
            config: None,
            traffic_rules: BTreeMap::new(),
            dns_rules: BTreeMap::new(),
            termination_subscriptions: BTreeMap::new(),
            availability_subscriptions: BTreeMap::new(),
        }
    }
}

/// A subscription and the path prefix it was created under (for the links of its notifications).
#[derive(Clone, Debug)]
struct Stored<T> {
    value: T,
    base_path: String,
}

#[derive(Clone, Debug)]
struct StoredService {
    owner: String,
    info: ServiceInfo,
    last_heartbeat: SystemTime,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) apps: BTreeMap<String, App>,
    services: BTreeMap<String, StoredService>,
    /// The services that send heartbeats, the only ones a sweep looks at.
    heartbeating: std::collections::BTreeSet<String>,
    pub(crate) transports: Vec<TransportInfo>,
    pub(crate) tasks: BTreeMap<String, mec_mm5::model::TaskProgress>,
    pub(crate) api_calls: Vec<serde_json::Value>,
}

impl State {
    fn insert_service(&mut self, id: String, stored: StoredService) {
        if stored.info.liveness_interval.is_some_and(|i| i > 0) {
            self.heartbeating.insert(id.clone());
        } else {
            self.heartbeating.remove(&id);
        }
        self.services.insert(id, stored);
    }

    fn remove_service(&mut self, id: &str) -> Option<StoredService> {
        self.heartbeating.remove(id);
        self.services.remove(id)
    }

    pub(crate) fn services_iter(&self) -> impl Iterator<Item = &ServiceInfo> {
        self.services.values().map(|s| &s.info)
    }
}

/// Whether an availability subscription names a service, as EdgeGallery counts capability consumers: by
/// `serInstanceIds`, else `serNames`, else `serCategories` (mepserver `mm5/plans/capability_all_get.go`).
pub(crate) fn names_service(
    sub: &SerAvailabilityNotificationSubscription,
    s: &ServiceInfo,
) -> bool {
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

/// The liveness interval the mock assigns when a service asks for 0 ("let the MEP choose").
pub const DEFAULT_LIVENESS_INTERVAL: u32 = 60;

/// The in-memory MEP behind [`MockMep`](super::MockMep): real state, real notifications.
#[derive(Clone, Debug)]
pub struct InMemoryMep {
    pub(crate) inner: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) clock: SharedClock,
    pub(crate) dispatcher: NotificationDispatcher,
    pub(crate) faults: Faults,
    pub(crate) events: EventLog,
    /// The mock's own URL (scheme, host, port), for absolute links in notifications.
    pub(crate) public_url: Mutex<String>,
    pub(crate) max_graceful_timeout: u32,
    pub(crate) tokens: super::tokens::TokenAuthority,
}

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::not_found(format!("{what} {id} not found"))
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl InMemoryMep {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    /// The app, if known and allowed on Mp1 (404 if unknown, 403 if its configuration forbids Mp1, 409 once
    /// terminated).
    fn app_mut<'a>(state: &'a mut State, id: &str) -> Result<&'a mut App, ApiError> {
        let app = state
            .apps
            .get_mut(id)
            .ok_or_else(|| not_found("app instance", id))?;
        if !app.mp1_allowed {
            return Err(ApiError::forbidden(format!(
                "app instance {id} is not configured to use Mp1 (appSupportMp1 is false)"
            )));
        }
        if app.state == AppState::Terminated {
            return Err(ApiError::conflict(format!(
                "app instance {id} is terminated"
            )));
        }
        Ok(app)
    }

    /// Marks services whose heartbeats stopped as SUSPENDED (after 1.05 × their interval, as EdgeGallery does).
    fn sweep(&self, state: &mut State) -> Vec<(String, ServiceInfo, ChangeType)> {
        let now = self.now();
        let mut changed = Vec::new();
        let State {
            services,
            heartbeating,
            ..
        } = state;
        for id in heartbeating.iter() {
            let Some(s) = services.get_mut(id) else {
                continue;
            };
            let Some(interval) = s.info.liveness_interval.filter(|i| *i > 0) else {
                continue;
            };
            let grace = Duration::from_secs(u64::from(interval))
                + Duration::from_secs(u64::from(interval).div_ceil(20).min(5));
            if s.info.state == ServiceState::Active
                && now.duration_since(s.last_heartbeat).unwrap_or_default() > grace
            {
                s.info.state = ServiceState::Suspended;
                changed.push((s.owner.clone(), s.info.clone(), ChangeType::StateChanged));
            }
        }
        changed
    }

    /// Sends availability notifications for changed services to every matching subscription.
    pub(crate) fn notify_availability(
        &self,
        state: &State,
        changes: &[(String, ServiceInfo, ChangeType)],
    ) {
        for (owner, info, change) in changes {
            let id = info.ser_instance_id.clone().unwrap_or_default();
            self.inner.events.push(Event::ServiceChanged {
                app_instance_id: owner.clone(),
                ser_instance_id: id.clone(),
                change_type: change.clone(),
            });
            for (subscriber, app) in &state.apps {
                for (sub_id, sub) in &app.availability_subscriptions {
                    if !matches_criteria(&sub.value, info) {
                        continue;
                    }
                    let link = (*change != ChangeType::Removed).then(|| LinkType {
                        href: format!("{}/mec_service_mgmt/v1/services/{id}", sub.base_path),
                    });
                    let notification = ServiceAvailabilityNotification {
                        notification_type: mec_mp1::model::SER_AVAILABILITY_NOTIFICATION_TYPE
                            .to_owned(),
                        service_references: vec![ServiceReference {
                            link,
                            ser_name: info.ser_name.clone(),
                            ser_instance_id: id.clone(),
                            state: info.state.clone(),
                            change_type: change.clone(),
                        }],
                        links: SubscriptionNotificationLinks {
                            subscription: LinkType {
                                href: format!(
                                    "{}/mec_service_mgmt/v1/applications/{subscriber}/subscriptions/{sub_id}",
                                    sub.base_path
                                ),
                            },
                        },
                    };
                    self.send(&sub.value.callback_reference, &notification);
                }
            }
        }
    }

    fn send<T: serde::Serialize>(&self, callback: &str, notification: &T) {
        if self.inner.faults.drop_notifications() {
            self.inner.events.push(Event::NotificationDropped {
                callback: callback.to_owned(),
            });
            return;
        }
        let delay = self.inner.faults.notification_delay();
        let value = serde_json::to_value(notification).unwrap_or_default();
        if delay.is_zero() {
            if let Err(e) = self.inner.dispatcher.dispatch(callback, &value) {
                tracing::warn!(%callback, error = %e, "notification not queued");
            }
        } else {
            let dispatcher = self.inner.dispatcher.clone();
            let callback = callback.to_owned();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Err(e) = dispatcher.dispatch(&callback, &value) {
                    tracing::warn!(%callback, error = %e, "notification not queued");
                }
            });
        }
    }

    /// Starts terminating an app instance: sends its termination notifications, or finishes at once when it has
    /// no termination subscription.
    pub(crate) fn start_termination(&self, app_instance_id: &str) -> Result<AppState, ApiError> {
        let mut state = self.lock();
        let app = state
            .apps
            .get_mut(app_instance_id)
            .ok_or_else(|| not_found("app instance", app_instance_id))?;
        match app.state {
            AppState::Terminated => return Ok(AppState::Terminated),
            AppState::Terminating => return Ok(AppState::Terminating),
            _ => {}
        }
        if app.termination_subscriptions.is_empty() {
            drop(state);
            self.finish_termination(app_instance_id);
            return Ok(AppState::Terminated);
        }
        app.state = AppState::Terminating;
        let public = self
            .inner
            .public_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let subs: Vec<(String, Stored<AppTerminationNotificationSubscription>)> = app
            .termination_subscriptions
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        drop(state);
        for (sub_id, sub) in subs {
            let notification = AppTerminationNotification {
                notification_type: mec_mp1::model::APP_TERMINATION_NOTIFICATION_TYPE.to_owned(),
                operation_action: OperationAction::Terminating,
                max_graceful_timeout: self.inner.max_graceful_timeout,
                links: AppTerminationNotificationLinks {
                    subscription: LinkType {
                        href: format!(
                            "{public}{}/mec_app_support/v1/applications/{app_instance_id}/subscriptions/{sub_id}",
                            sub.base_path
                        ),
                    },
                    confirm_termination: Some(LinkType {
                        href: format!(
                            "{public}{}/mec_app_support/v1/applications/{app_instance_id}/confirm_termination",
                            sub.base_path
                        ),
                    }),
                },
            };
            self.send(&sub.value.callback_reference, &notification);
        }
        self.inner.events.push(Event::TerminationStarted {
            app_instance_id: app_instance_id.to_owned(),
        });
        Ok(AppState::Terminating)
    }

    /// Terminates an app instance: notifies its termination subscribers and completes when it confirms, or after
    /// `maxGracefulTimeout` seconds of real time; without subscribers it completes at once. Its credentials are
    /// revoked when it completes.
    pub(crate) fn terminate(&self, app_instance_id: &str) -> Result<AppState, ApiError> {
        let state = self.start_termination(app_instance_id)?;
        if state == AppState::Terminating {
            let mep = self.clone();
            let app = app_instance_id.to_owned();
            let grace = Duration::from_secs(u64::from(self.inner.max_graceful_timeout));
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                if mep.app_state(&app) == Some(AppState::Terminating) {
                    mep.finish_termination(&app);
                }
            });
        }
        Ok(state)
    }

    /// Ends an app instance: its services are deregistered (REMOVED notifications), its subscriptions and rules
    /// deleted, its credentials revoked by the caller.
    pub(crate) fn finish_termination(&self, app_instance_id: &str) {
        let mut state = self.lock();
        let removed: Vec<String> = state
            .services
            .iter()
            .filter(|(_, s)| s.owner == app_instance_id)
            .map(|(id, _)| id.clone())
            .collect();
        let mut changes = Vec::new();
        for id in removed {
            if let Some(s) = state.remove_service(&id) {
                changes.push((s.owner, s.info, ChangeType::Removed));
            }
        }
        if let Some(app) = state.apps.get_mut(app_instance_id) {
            app.state = AppState::Terminated;
            app.termination_subscriptions.clear();
            app.availability_subscriptions.clear();
            app.traffic_rules.clear();
            app.dns_rules.clear();
        }
        self.notify_availability(&state, &changes);
        drop(state);
        self.inner.tokens.revoke_app(app_instance_id);
        self.inner.events.push(Event::Terminated {
            app_instance_id: app_instance_id.to_owned(),
        });
    }

    /// Sets a service's state (a MEP-side event) and notifies subscribers.
    pub(crate) fn set_service_state(
        &self,
        ser_instance_id: &str,
        new_state: ServiceState,
    ) -> Result<(), ApiError> {
        let mut state = self.lock();
        let s = state
            .services
            .get_mut(ser_instance_id)
            .ok_or_else(|| not_found("service", ser_instance_id))?;
        if s.info.state == new_state {
            return Ok(());
        }
        s.info.state = new_state;
        let change = (s.owner.clone(), s.info.clone(), ChangeType::StateChanged);
        self.notify_availability(&state, &[change]);
        Ok(())
    }

    pub(crate) fn app_state(&self, app_instance_id: &str) -> Option<AppState> {
        self.lock().apps.get(app_instance_id).map(|a| a.state)
    }

    pub(crate) fn services_snapshot(&self) -> Vec<ServiceInfo> {
        self.lock()
            .services
            .values()
            .map(|s| s.info.clone())
            .collect()
    }

    /// Registers a service as if its app had posted it (seeding), without notifications.
    pub(crate) fn seed_service(&self, owner: &str, mut info: ServiceInfo) -> ServiceInfo {
        let mut state = self.lock();
        let id = info
            .ser_instance_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        info.ser_instance_id = Some(id.clone());
        info.links = Some(owner_links(owner));
        state.insert_service(
            id,
            StoredService {
                owner: owner.to_owned(),
                info: info.clone(),
                last_heartbeat: self.now(),
            },
        );
        info
    }
}

/// The links a stored service carries: its owner, so that discovery answers can link to it (EdgeGallery's
/// `_links.appInstanceId`).
fn owner_links(app: &str) -> ServiceLinks {
    ServiceLinks {
        app_instance_id: Some(app.to_owned()),
        ..ServiceLinks::default()
    }
}

/// Resolves `transportId` against the offered transports. EdgeGallery's mep-agent always sends `transportId`
/// next to a full `transportInfo` (mep-agent `src/model/instance.go`, no `omitempty`): the two are accepted
/// together when they agree, or when the id names no offered transport and the (validated) info is complete;
/// they conflict only when the id names an offered transport other than the info's.
fn resolve_transport(transports: &[TransportInfo], info: &mut ServiceInfo) -> Result<(), ApiError> {
    let Some(tid) = &info.transport_id else {
        return Ok(());
    };
    let offered = transports.iter().find(|t| &t.id == tid);
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

/// ETSI's filter semantics (MEC 011 `FilteringCriteria`): the members given are ANDed; an absent one matches all.
fn matches_criteria(sub: &SerAvailabilityNotificationSubscription, s: &ServiceInfo) -> bool {
    let Some(c) = &sub.filtering_criteria else {
        return true;
    };
    let id_ok = c.ser_instance_ids.is_empty()
        || s.ser_instance_id
            .as_ref()
            .is_some_and(|id| c.ser_instance_ids.contains(id));
    let name_ok = c.ser_names.is_empty() || c.ser_names.contains(&s.ser_name);
    let category_ok = c.ser_categories.is_empty()
        || s.ser_category
            .as_ref()
            .is_some_and(|sc| c.ser_categories.iter().any(|x| x.id == sc.id));
    let state_ok = c.states.is_empty() || c.states.contains(&s.state);
    let local_ok = c.is_local.is_none_or(|v| s.is_local.unwrap_or(true) == v);
    id_ok && name_ok && category_ok && state_ok && local_ok
}

impl ServiceManagement for InMemoryMep {
    async fn list_services(
        &self,
        _: RequestContext,
        filter: ServiceFilter,
    ) -> Result<Vec<ServiceInfo>, ApiError> {
        let mut state = self.lock();
        let changed = self.sweep(&mut state);
        self.notify_availability(&state, &changed);
        Ok(state
            .services
            .values()
            .filter(|s| filter.matches(&s.info))
            .map(|s| s.info.clone())
            .collect())
    }

    async fn get_service(
        &self,
        _: RequestContext,
        service_id: String,
    ) -> Result<ServiceInfo, ApiError> {
        let mut state = self.lock();
        let changed = self.sweep(&mut state);
        self.notify_availability(&state, &changed);
        state
            .services
            .get(&service_id)
            .map(|s| s.info.clone())
            .ok_or_else(|| not_found("service", &service_id))
    }

    async fn list_app_services(
        &self,
        _: RequestContext,
        app: String,
        filter: ServiceFilter,
    ) -> Result<Vec<ServiceInfo>, ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?;
        let changed = self.sweep(&mut state);
        self.notify_availability(&state, &changed);
        Ok(state
            .services
            .values()
            .filter(|s| s.owner == app && filter.matches(&s.info))
            .map(|s| s.info.clone())
            .collect())
    }

    async fn register_service(
        &self,
        _: RequestContext,
        app: String,
        mut info: ServiceInfo,
    ) -> Result<ServiceInfo, ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?;
        resolve_transport(&state.transports, &mut info)?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        info.ser_instance_id = Some(id.clone());
        if let Some(i) = info.liveness_interval {
            info.liveness_interval = Some(if i == 0 { DEFAULT_LIVENESS_INTERVAL } else { i });
        }
        info.links = Some(owner_links(&app));
        state.insert_service(
            id,
            StoredService {
                owner: app.clone(),
                info: info.clone(),
                last_heartbeat: self.now(),
            },
        );
        self.notify_availability(&state, &[(app, info.clone(), ChangeType::Added)]);
        Ok(info)
    }

    async fn get_app_service(
        &self,
        _: RequestContext,
        app: String,
        service_id: String,
    ) -> Result<ServiceInfo, ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?;
        let changed = self.sweep(&mut state);
        self.notify_availability(&state, &changed);
        state
            .services
            .get(&service_id)
            .filter(|s| s.owner == app)
            .map(|s| s.info.clone())
            .ok_or_else(|| not_found("service", &service_id))
    }

    async fn update_service(
        &self,
        _: RequestContext,
        app: String,
        service_id: String,
        mut info: ServiceInfo,
    ) -> Result<ServiceInfo, ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?;
        let transports = state.transports.clone();
        let stored = state
            .services
            .get_mut(&service_id)
            .filter(|s| s.owner == app)
            .ok_or_else(|| not_found("service", &service_id))?;
        if info.transport_id.is_some() {
            resolve_transport(&transports, &mut info)?;
        } else if info.transport_info.is_none() {
            info.transport_info.clone_from(&stored.info.transport_info);
        }
        info.ser_instance_id = Some(service_id.clone());
        info.links = Some(owner_links(&app));
        if let Some(i) = info.liveness_interval {
            info.liveness_interval = Some(if i == 0 { DEFAULT_LIVENESS_INTERVAL } else { i });
        }
        let change = if info.state == stored.info.state {
            ChangeType::AttributesChanged
        } else {
            ChangeType::StateChanged
        };
        stored.info = info.clone();
        stored.last_heartbeat = self.now();
        if info.liveness_interval.is_some_and(|i| i > 0) {
            state.heartbeating.insert(service_id);
        } else {
            state.heartbeating.remove(&service_id);
        }
        self.notify_availability(&state, &[(app, info.clone(), change)]);
        Ok(info)
    }

    async fn deregister_service(
        &self,
        _: RequestContext,
        app: String,
        service_id: String,
    ) -> Result<(), ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?;
        if state
            .services
            .get(&service_id)
            .is_none_or(|s| s.owner != app)
        {
            return Err(not_found("service", &service_id));
        }
        if let Some(s) = state.remove_service(&service_id) {
            self.notify_availability(&state, &[(app, s.info, ChangeType::Removed)]);
        }
        Ok(())
    }

    async fn get_liveness(
        &self,
        _: RequestContext,
        app: String,
        service_id: String,
    ) -> Result<ServiceLivenessInfo, ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?;
        let changed = self.sweep(&mut state);
        self.notify_availability(&state, &changed);
        let s = state
            .services
            .get(&service_id)
            .filter(|s| s.owner == app)
            .ok_or_else(|| not_found("service", &service_id))?;
        let interval = s.info.liveness_interval.filter(|i| *i > 0).ok_or_else(|| {
            ApiError::not_found(format!("service {service_id} does not send heartbeats"))
        })?;
        Ok(ServiceLivenessInfo {
            state: s.info.state.clone(),
            time_stamp: TimeStamp::from(s.last_heartbeat),
            interval,
        })
    }

    async fn update_liveness(
        &self,
        _: RequestContext,
        app: String,
        service_id: String,
        _: ServiceLivenessUpdate,
    ) -> Result<Option<ServiceLivenessInfo>, ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?;
        let changed = self.sweep(&mut state);
        self.notify_availability(&state, &changed);
        let now = self.now();
        let s = state
            .services
            .get_mut(&service_id)
            .filter(|s| s.owner == app)
            .ok_or_else(|| not_found("service", &service_id))?;
        let interval = s.info.liveness_interval.filter(|i| *i > 0).ok_or_else(|| {
            ApiError::not_found(format!("service {service_id} does not send heartbeats"))
        })?;
        if s.info.state == ServiceState::Inactive {
            return Err(ApiError::conflict(format!(
                "service {service_id} is INACTIVE"
            )));
        }
        s.last_heartbeat = now;
        if s.info.state == ServiceState::Suspended {
            s.info.state = ServiceState::Active;
            let info = s.info.clone();
            let change = (app, info, ChangeType::StateChanged);
            self.notify_availability(&state, std::slice::from_ref(&change));
            return Ok(Some(ServiceLivenessInfo {
                state: ServiceState::Active,
                time_stamp: TimeStamp::from(now),
                interval,
            }));
        }
        Ok(None)
    }

    async fn list_transports(&self, _: RequestContext) -> Result<Vec<TransportInfo>, ApiError> {
        Ok(self.lock().transports.clone())
    }

    async fn list_availability_subscriptions(
        &self,
        _: RequestContext,
        app: String,
    ) -> Result<Vec<String>, ApiError> {
        let mut state = self.lock();
        Ok(Self::app_mut(&mut state, &app)?
            .availability_subscriptions
            .keys()
            .cloned()
            .collect())
    }

    async fn create_availability_subscription(
        &self,
        ctx: RequestContext,
        app: String,
        subscription: SerAvailabilityNotificationSubscription,
    ) -> Result<String, ApiError> {
        let mut state = self.lock();
        let id = new_id();
        Self::app_mut(&mut state, &app)?
            .availability_subscriptions
            .insert(
                id.clone(),
                Stored {
                    value: subscription,
                    base_path: ctx.base_path,
                },
            );
        Ok(id)
    }

    async fn get_availability_subscription(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<SerAvailabilityNotificationSubscription, ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?
            .availability_subscriptions
            .get(&id)
            .map(|s| s.value.clone())
            .ok_or_else(|| not_found("subscription", &id))
    }

    async fn delete_availability_subscription(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<(), ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?
            .availability_subscriptions
            .remove(&id)
            .map(|_| ())
            .ok_or_else(|| not_found("subscription", &id))
    }
}

impl AppSupport for InMemoryMep {
    async fn check_app_instance(&self, _: RequestContext, app: String) -> Result<(), ApiError> {
        let mut state = self.lock();
        match state.apps.get(&app).map(|a| a.state) {
            // A terminated app may still confirm (late) termination: the handler answers 409.
            Some(AppState::Terminated) => Ok(()),
            _ => Self::app_mut(&mut state, &app).map(drop),
        }
    }

    async fn list_traffic_rules(
        &self,
        _: RequestContext,
        app: String,
    ) -> Result<Vec<TrafficRule>, ApiError> {
        let mut state = self.lock();
        Ok(Self::app_mut(&mut state, &app)?
            .traffic_rules
            .values()
            .cloned()
            .collect())
    }

    async fn get_traffic_rule(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<TrafficRule, ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?
            .traffic_rules
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("traffic rule", &id))
    }

    async fn update_traffic_rule(
        &self,
        _: RequestContext,
        app: String,
        id: String,
        rule: TrafficRule,
    ) -> Result<TrafficRule, ApiError> {
        let mut state = self.lock();
        let stored = Self::app_mut(&mut state, &app)?
            .traffic_rules
            .get_mut(&id)
            .ok_or_else(|| not_found("traffic rule", &id))?;
        *stored = rule.clone();
        drop(state);
        self.inner.events.push(Event::TrafficRuleUpdated {
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
        let mut state = self.lock();
        Ok(Self::app_mut(&mut state, &app)?
            .dns_rules
            .values()
            .cloned()
            .collect())
    }

    async fn get_dns_rule(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<DnsRule, ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?
            .dns_rules
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("DNS rule", &id))
    }

    async fn update_dns_rule(
        &self,
        _: RequestContext,
        app: String,
        id: String,
        rule: DnsRule,
    ) -> Result<DnsRule, ApiError> {
        let mut state = self.lock();
        let stored = Self::app_mut(&mut state, &app)?
            .dns_rules
            .get_mut(&id)
            .ok_or_else(|| not_found("DNS rule", &id))?;
        *stored = rule.clone();
        drop(state);
        self.inner.events.push(Event::DnsRuleUpdated {
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
        let mut state = self.lock();
        Ok(Self::app_mut(&mut state, &app)?
            .termination_subscriptions
            .keys()
            .cloned()
            .collect())
    }

    async fn create_termination_subscription(
        &self,
        ctx: RequestContext,
        app: String,
        subscription: AppTerminationNotificationSubscription,
    ) -> Result<String, ApiError> {
        let mut state = self.lock();
        let id = new_id();
        Self::app_mut(&mut state, &app)?
            .termination_subscriptions
            .insert(
                id.clone(),
                Stored {
                    value: subscription,
                    base_path: ctx.base_path,
                },
            );
        Ok(id)
    }

    async fn get_termination_subscription(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<AppTerminationNotificationSubscription, ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?
            .termination_subscriptions
            .get(&id)
            .map(|s| s.value.clone())
            .ok_or_else(|| not_found("subscription", &id))
    }

    async fn delete_termination_subscription(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<(), ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?
            .termination_subscriptions
            .remove(&id)
            .map(|_| ())
            .ok_or_else(|| not_found("subscription", &id))
    }

    async fn confirm_ready(
        &self,
        _: RequestContext,
        app: String,
        _: AppReadyConfirmation,
    ) -> Result<(), ApiError> {
        let mut state = self.lock();
        let a = Self::app_mut(&mut state, &app)?;
        match a.state {
            AppState::Terminating => {
                return Err(ApiError::conflict(format!(
                    "app instance {app} is being terminated"
                )));
            }
            _ => a.state = AppState::Ready,
        }
        drop(state);
        self.inner.events.push(Event::Ready {
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
        let mut state = self.lock();
        let a = state
            .apps
            .get_mut(&app)
            .ok_or_else(|| not_found("app instance", &app))?;
        if a.state != AppState::Terminating {
            return Err(ApiError::conflict(format!(
                "no termination of app instance {app} is going on"
            )));
        }
        if c.operation_action != OperationAction::Terminating {
            return Err(ApiError::bad_request(
                "operationAction: does not match the TERMINATING sent in the notification",
            ));
        }
        drop(state);
        self.finish_termination(&app);
        Ok(())
    }

    async fn timing_caps(&self, _: RequestContext) -> Result<TimingCaps, ApiError> {
        Ok(TimingCaps {
            time_stamp: Some(TimeStamp::from(self.now())),
            ntp_servers: vec![NtpServer {
                ntp_server_addr_type: mec_mp1::model::NtpServerAddrType::DnsName,
                ntp_server_addr: "mep-ntp".to_owned(),
                min_polling_interval: 4,
                max_polling_interval: 17,
                local_priority: 1,
                authentication_option: mec_mp1::model::AuthenticationOption::None,
                authentication_key_num: 0,
            }],
            ptp_masters: Vec::new(),
        })
    }

    async fn current_time(&self, _: RequestContext) -> Result<CurrentTime, ApiError> {
        let t = TimeStamp::from(self.now());
        Ok(CurrentTime {
            seconds: t.seconds,
            nano_seconds: t.nano_seconds,
            time_source_status: TimeSourceStatus::Nontraceable,
        })
    }

    async fn register_app(
        &self,
        _: RequestContext,
        mut info: AppInfo,
    ) -> Result<AppInfo, ApiError> {
        let mut state = self.lock();
        let id = info.app_instance_id.clone().unwrap_or_else(new_id);
        if state.apps.get(&id).is_some_and(|a| a.info.is_some()) {
            return Err(ApiError::conflict(format!(
                "app instance {id} is already registered"
            )));
        }
        info.app_instance_id = Some(id.clone());
        let app = state.apps.entry(id).or_insert_with(App::new);
        app.info = Some(info.clone());
        Ok(info)
    }

    async fn get_registration(&self, _: RequestContext, app: String) -> Result<AppInfo, ApiError> {
        let mut state = self.lock();
        Self::app_mut(&mut state, &app)?
            .info
            .clone()
            .ok_or_else(|| not_found("registration", &app))
    }

    async fn update_registration(
        &self,
        _: RequestContext,
        app: String,
        mut info: AppInfo,
    ) -> Result<(), ApiError> {
        let mut state = self.lock();
        let a = Self::app_mut(&mut state, &app)?;
        if a.info.is_none() {
            return Err(not_found("registration", &app));
        }
        info.app_instance_id = Some(app);
        a.info = Some(info);
        Ok(())
    }

    async fn deregister_app(&self, _: RequestContext, app: String) -> Result<(), ApiError> {
        let mut state = self.lock();
        let a = Self::app_mut(&mut state, &app)?;
        a.info
            .take()
            .map(|_| ())
            .ok_or_else(|| not_found("registration", &app))
    }
}
