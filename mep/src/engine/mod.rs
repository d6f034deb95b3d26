//! The MEP engine: the behaviour of a MEC platform over a [`Store`].
//!
//! [`Engine`] implements Mp1 ([`ServiceManagement`](mec_mp1::server::ServiceManagement),
//! [`AppSupport`](mec_mp1::server::AppSupport)) and Mm5 ([`Mm5`](mec_mm5::server::Mm5)). Its state lives in the
//! store; every write is one conditional commit (so `If-Match` and every read-modify-write are atomic, also across
//! replicas), and the engine keeps a decoded cache for reads, kept current by its own commits and the store's
//! watch. Background work runs on the injected clock: the liveness sweep, termination deadlines, and notification
//! delivery with retries ([`delivery`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use mec_mep::{Engine, EngineConfig, store::MemoryStore};
//!
//! let engine = Engine::open(MemoryStore::new(), mec_core::system_clock(), EngineConfig::default()).await?;
//! let app: axum::Router = mec_mp1::server::router(engine.clone());
//! # let _ = app; Ok(()) }
//! ```

mod app_support;
mod cache;
pub mod delivery;
mod follow;
mod leader;
mod limits;
mod mm5;
pub(crate) mod records;
mod service_mgmt;
mod sweep;

pub use delivery::{
    DeliveryConfig, DeliveryInterceptor, DeliveryOutcome, DeliveryRecord, DeliveryStats,
    Interception,
};
pub use records::{AppRecord, AppState, CredentialRecord, SubscriptionBody, SubscriptionRecord};

use crate::store::{Entry, Op, Revision, Store, StoreError, Txn, WatchEvent};
use cache::Cache;
use mec_core::server::ApiError;
use mec_core::signature::Credentials;
use mec_core::{SharedClock, TimeStamp};
use mec_mp1::model::{ChangeType, DnsRule, ServiceInfo, TrafficRule, TransportInfo};
use records::*;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, Weak};
use std::time::{Duration, SystemTime};

/// How an [`Engine`] behaves. Start from [`EngineConfig::default`] and change what you need.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EngineConfig {
    /// The prefix of every key the engine writes (default `mep/`), so several MEPs can share one store.
    pub prefix: String,
    /// The heartbeat interval given to a service that asks for 0 ("let the MEP choose"), in seconds (default 60).
    pub default_liveness_interval: u32,
    /// Seconds an app has to confirm its termination (`maxGracefulTimeout`; default 10).
    pub max_graceful_timeout: u32,
    /// Subscriptions of each kind one app instance may hold (default 50, EdgeGallery's limit).
    pub max_subscriptions_per_app: usize,
    /// Services one app instance may register (default 500).
    pub max_services_per_app: usize,
    /// How often the background sweep runs (liveness, termination deadlines, clean-up), on the engine's clock
    /// (default 1 s).
    pub sweep_interval: Duration,
    /// Undelivered notifications kept at most; past it the oldest are dropped and counted (default 100,000).
    pub max_pending_events: usize,
    /// Mm5 tasks kept; the oldest are forgotten past it (default 1,000).
    pub max_tasks: usize,
    /// API-gateway call records (`kong_log`) kept in memory (default 10,000).
    pub max_api_call_records: usize,
    /// How notifications are delivered.
    pub delivery: DeliveryConfig,
    /// Over a shared store (etcd), the lease of the replica elected to run the sweep and deliver notifications:
    /// when it dies, another takes over within this time (default 10 s, in real time; see [`Engine::is_leader`]).
    pub leader_lease: Duration,
    /// Whose behaviour to follow where ETSI and EdgeGallery disagree (default [`Profile::Etsi`](crate::Profile::Etsi); see
    /// [`crate::profile`]).
    pub profile: crate::Profile,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            prefix: "mep/".to_owned(),
            default_liveness_interval: 60,
            max_graceful_timeout: 10,
            max_subscriptions_per_app: 50,
            max_services_per_app: 500,
            sweep_interval: Duration::from_secs(1),
            max_pending_events: 100_000,
            max_tasks: 1_000,
            max_api_call_records: 10_000,
            delivery: DeliveryConfig::default(),
            leader_lease: Duration::from_secs(10),
            profile: crate::Profile::Etsi,
        }
    }
}

/// Something that happened inside the MEP, in order, for observers (tests, dashboards, audit logs).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A service was added, removed or changed.
    ServiceChanged {
        /// Its owner.
        app_instance_id: String,
        /// The service.
        ser_instance_id: String,
        /// What happened.
        change_type: ChangeType,
    },
    /// An app confirmed it is ready.
    Ready {
        /// The app instance.
        app_instance_id: String,
    },
    /// A termination started: the app's termination subscribers are being told.
    TerminationStarted {
        /// The app instance.
        app_instance_id: String,
    },
    /// An app instance was terminated.
    Terminated {
        /// The app instance.
        app_instance_id: String,
    },
    /// A traffic rule was changed over Mp1.
    TrafficRuleUpdated {
        /// The app instance.
        app_instance_id: String,
        /// The rule.
        traffic_rule_id: String,
    },
    /// A DNS rule was changed over Mp1.
    DnsRuleUpdated {
        /// The app instance.
        app_instance_id: String,
        /// The rule.
        dns_rule_id: String,
    },
    /// An app's configuration was set or removed over Mm5.
    Configured {
        /// The app instance.
        app_instance_id: String,
    },
    /// A notification was delivered, given up on, or dropped by an interceptor.
    Notification(DeliveryRecord),
}

/// Receives the engine's [`Event`]s as they happen (synchronously: keep it quick).
pub trait Observer: Send + Sync + 'static {
    /// Called after the change is committed.
    fn on_event(&self, event: &Event);
}

/// Why an engine could not open.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The store could not be read.
    #[error("cannot read the store: {0}")]
    Store(#[from] StoreError),
}

/// The MEP engine. Cheap to clone; clones share everything. Needs a tokio runtime.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    store: Arc<dyn Store>,
    clock: SharedClock,
    config: EngineConfig,
    cache: RwLock<Cache>,
    observer: RwLock<Option<Arc<dyn Observer>>>,
    deliveries: delivery::Deliveries,
    /// The MEP's external base URL (`https://mep.example:8443`), for absolute links in notifications.
    public_url: RwLock<String>,
    api_calls: Mutex<std::collections::VecDeque<serde_json::Value>>,
    background: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Bumped whenever the state changes (own commits, other replicas' writes, reloads).
    changes: tokio::sync::watch::Sender<u64>,
    /// Whether this replica runs the shared duties (sweep, deliveries).
    replica: leader::Replica,
    /// Whether the cache follows the store.
    sync: follow::Sync,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self
            .background
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
        self.deliveries.stop();
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.inner.store)
            .field("prefix", &self.inner.config.prefix)
            .finish_non_exhaustive()
    }
}

/// The answer to a failed store write: 503 for a store that cannot be reached (never a stale or partial write),
/// 413 for a change larger than the store takes in one transaction (retrying the same cannot succeed).
fn unavailable(e: &StoreError) -> ApiError {
    if e.is_too_large() {
        return ApiError::new(
            http::StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the change is larger than the MEP's store takes at once; make it smaller: {e}"
            ),
        );
    }
    ApiError::new(
        http::StatusCode::SERVICE_UNAVAILABLE,
        format!("the MEP's store is unavailable, try again: {e}"),
    )
}

pub(crate) fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::not_found(format!("{what} {id} not found"))
}

/// A service instance id as EdgeGallery makes them: 32 lowercase hex digits.
pub(crate) fn new_service_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A record's JSON, exactly as long as it is: the memory store keeps the buffer it is given, and serde_json's
/// grows by doubling (a 556-byte service would hold 1 KiB).
fn json(value: &impl serde::Serialize) -> Result<Vec<u8>, ApiError> {
    let mut bytes = serde_json::to_vec(value).map_err(ApiError::internal)?;
    bytes.shrink_to_fit();
    Ok(bytes)
}

/// Keys deleted in one transaction by [`Engine::clear`] (etcd takes 128 operations in one by default).
pub const CLEAR_BATCH: usize = 100;

/// How many times a conflicting write is retried before the caller gets 503.
const MAX_RETRIES: usize = 32;

impl Engine {
    /// Opens an engine over `store`: reads its state, then follows the store's writes and starts the background
    /// work (sweep, deliveries) on `clock`.
    pub async fn open(
        store: impl Store,
        clock: SharedClock,
        config: EngineConfig,
    ) -> Result<Self, OpenError> {
        Self::open_shared(Arc::new(store), clock, config).await
    }

    /// As [`open`](Self::open), over a store already shared.
    pub async fn open_shared(
        store: Arc<dyn Store>,
        clock: SharedClock,
        config: EngineConfig,
    ) -> Result<Self, OpenError> {
        // Watch first, then read: nothing written in between is missed (the cache ignores what it has already).
        let watch = store.watch(&config.prefix).await?;
        let deliveries = delivery::Deliveries::new(config.delivery.clone());
        let engine = Self {
            inner: Arc::new(Inner {
                store,
                clock,
                cache: RwLock::new(Cache::default()),
                observer: RwLock::new(None),
                deliveries,
                public_url: RwLock::new(String::new()),
                api_calls: Mutex::new(std::collections::VecDeque::new()),
                background: Mutex::new(Vec::new()),
                changes: tokio::sync::watch::channel(0).0,
                replica: leader::Replica::default(),
                sync: follow::Sync::default(),
                config,
            }),
        };
        engine.reload().await?;
        let follower = follow::spawn(Arc::downgrade(&engine.inner), watch);
        engine.background().push(follower);
        leader::start(&engine);
        Ok(engine)
    }

    fn background(&self) -> std::sync::MutexGuard<'_, Vec<tokio::task::JoinHandle<()>>> {
        self.inner
            .background
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops the background work (sweeps, deliveries) now; the engine still answers calls. Over a shared store it
    /// gives up the lead at once, so another replica takes over. Also done when the last clone is dropped (then
    /// the lead is left to expire with its lease, as when the process dies).
    pub fn shutdown(&self) {
        for task in self.background().drain(..) {
            task.abort();
        }
        leader::stop(self);
    }

    /// Whether this engine runs the shared duties now: the liveness sweep and notification delivery. Always true
    /// over a store of this process alone; over a shared store (etcd), true on the one replica elected for them.
    pub fn is_leader(&self) -> bool {
        self.inner.replica.is_leading()
    }

    /// This replica's name, as the leader key holds it while it leads.
    pub fn replica_id(&self) -> &str {
        &self.inner.replica.id
    }

    /// Whether the engine's view follows the store. False while a shared store cannot be reached (what the engine
    /// knows may be stale: its servers answer 503), true again once the store is back and was read again.
    pub fn in_sync(&self) -> bool {
        self.inner.sync.get()
    }

    /// How many times the cache fell behind the store's changes and read it all again (a watcher that missed
    /// writes): rare under normal load; a growing count means writes come faster than this replica follows.
    pub fn store_resyncs(&self) -> u64 {
        self.inner.sync.resyncs()
    }

    /// How many services are registered.
    pub fn service_count(&self) -> usize {
        self.read().services.len()
    }

    pub(crate) fn from_weak(weak: &Weak<Inner>) -> Option<Self> {
        weak.upgrade().map(|inner| Self { inner })
    }

    pub(crate) fn downgrade(&self) -> Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    /// Reads the whole state from the store again, into the cache in place: what did not change since it was
    /// cached is neither decoded nor copied again (a watcher that fell behind catches up without doubling the
    /// memory), what is gone from the store leaves the cache.
    async fn reload(&self) -> Result<(), StoreError> {
        let prefix = &self.inner.config.prefix;
        // Whatever the cache holds now was written before the listing: a listing older than that is a store
        // that went backwards. Writes applied while it runs are newer than it, and stay.
        let known = self.read().highest_revision;
        let (entries, revision) = self.inner.store.list(prefix).await?;
        self.cache_mut()
            .reconcile(&entries, revision, prefix, known);
        self.changed();
        Ok(())
    }

    fn apply_watched(&self, events: &[WatchEvent]) {
        {
            let mut cache = self.cache_mut();
            for event in events {
                cache.apply(event, &self.inner.config.prefix);
            }
        }
        self.changed();
    }

    fn changed(&self) {
        self.inner.deliveries.changed(self);
        self.inner.changes.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// A receiver that is told whenever the engine's state changes (its own writes, other replicas' writes
    /// seen through the store's watch, reloads): for components that follow the state, such as a DNS
    /// responder following the DNS rules. Read the state again when it fires.
    pub fn subscribe_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// The engine's clock.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// The engine's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The store the engine runs on.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Cache> {
        self.inner
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn cache_mut(&self) -> std::sync::RwLockWriteGuard<'_, Cache> {
        self.inner
            .cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets who is told of events.
    pub fn set_observer(&self, observer: Arc<dyn Observer>) {
        *self
            .inner
            .observer
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(observer);
    }

    pub(crate) fn emit(&self, event: Event) {
        let observer = self
            .inner
            .observer
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(o) = observer {
            o.on_event(&event);
        }
    }

    /// Sets the MEP's external base URL (`https://mep.example:8443`), used to make the links in notifications
    /// absolute.
    pub fn set_public_url(&self, url: impl Into<String>) {
        *self
            .inner
            .public_url
            .write()
            .unwrap_or_else(PoisonError::into_inner) = url.into().trim_end_matches('/').to_owned();
    }

    pub(crate) fn public_url(&self) -> String {
        self.inner
            .public_url
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The full store key of a key relative to the prefix.
    pub(crate) fn key(&self, relative: &str) -> String {
        format!("{}{relative}", self.inner.config.prefix)
    }

    /// Commits a transaction and applies it to the cache.
    pub(crate) async fn commit(&self, txn: Txn) -> Result<Revision, StoreError> {
        let ops = txn.ops().to_vec();
        let revision = self.inner.store.commit(txn).await?;
        {
            let prefix = &self.inner.config.prefix;
            let mut cache = self.cache_mut();
            for op in &ops {
                match op {
                    Op::Put { key, value, .. } => {
                        if let Some(rel) = key.strip_prefix(prefix.as_str()) {
                            cache.put(
                                rel,
                                &Entry {
                                    key: key.clone(),
                                    value: value.clone(),
                                    revision,
                                },
                            );
                        }
                    }
                    Op::Delete(key) => {
                        if let Some(rel) = key.strip_prefix(prefix.as_str()) {
                            cache.delete(rel, revision);
                        }
                    }
                }
            }
        }
        self.changed();
        Ok(revision)
    }

    /// Reads one key again from the store (after a conflict), so the next attempt sees the current value.
    async fn refresh(&self, key: &str) -> Result<(), StoreError> {
        let Some(rel) = key.strip_prefix(&self.inner.config.prefix) else {
            return Ok(());
        };
        match self.inner.store.get(key).await? {
            Some(entry) => self.cache_mut().put(rel, &entry),
            None => {
                let (_, revision) = self.inner.store.list(key).await?;
                self.cache_mut().delete(rel, revision);
            }
        }
        Ok(())
    }

    /// Runs a read-modify-write: `step` reads the cache and returns the transaction to commit (conditional on what
    /// it read) and the result. A conflict re-reads the key and runs `step` again.
    pub(crate) async fn transact<T>(
        &self,
        mut step: impl FnMut(&Cache, SystemTime) -> Result<(Txn, T), ApiError>,
    ) -> Result<T, ApiError> {
        for _ in 0..MAX_RETRIES {
            let (txn, value) = {
                let cache = self.read();
                step(&cache, self.now())?
            };
            if txn.is_empty() {
                return Ok(value);
            }
            match self.commit(txn).await {
                Ok(_) => return Ok(value),
                Err(StoreError::Conflict { key }) => {
                    self.refresh(&key).await.map_err(|e| unavailable(&e))?;
                }
                Err(e) => return Err(unavailable(&e)),
            }
        }
        Err(ApiError::new(
            http::StatusCode::SERVICE_UNAVAILABLE,
            "the resource is being changed by many requests at once; try again",
        ))
    }

    /// Adds events to a transaction: the event sequence is bumped conditionally, so events are numbered without
    /// gaps or duplicates even across replicas.
    pub(crate) fn with_events(
        &self,
        cache: &Cache,
        txn: Txn,
        events: Vec<EventRecord>,
    ) -> Result<Txn, ApiError> {
        if events.is_empty() {
            return Ok(txn);
        }
        let mut seq = cache.last_event();
        let mut txn = txn.when_unchanged(
            self.key(EVENT_SEQ),
            cache.event_seq.as_ref().map(|v| v.revision),
        );
        for event in &events {
            seq += 1;
            txn = txn.put(self.key(&event_key(seq)), json(event)?);
        }
        Ok(txn.put(self.key(EVENT_SEQ), json(&seq)?))
    }

    /// The availability events of service changes, when anyone could be told of them.
    pub(crate) fn service_events(
        cache: &Cache,
        changes: impl IntoIterator<Item = ServiceChange>,
    ) -> Vec<EventRecord> {
        let anyone = cache
            .subscriptions
            .values()
            .any(|s| matches!(s.value.body, SubscriptionBody::Availability(_)));
        if !anyone {
            return Vec::new();
        }
        changes
            .into_iter()
            .map(|(owner, info, change)| EventRecord::ServiceChanged {
                owner,
                info,
                change,
            })
            .collect()
    }

    pub(crate) fn emit_service_changes(&self, changes: &[ServiceChange]) {
        for (owner, info, change) in changes {
            self.emit(Event::ServiceChanged {
                app_instance_id: owner.clone(),
                ser_instance_id: info.ser_instance_id.clone().unwrap_or_default(),
                change_type: change.clone(),
            });
        }
    }

    /// The app record if the app may use Mp1: 404 if unknown, 403 if its configuration forbids Mp1, 409 once
    /// terminated.
    pub(crate) fn usable_app<'a>(
        cache: &'a Cache,
        id: &str,
    ) -> Result<&'a cache::Versioned<AppRecord>, ApiError> {
        let app = cache.app(id).ok_or_else(|| not_found("app instance", id))?;
        if app.value.state == AppState::Terminated {
            return Err(ApiError::conflict(format!(
                "app instance {id} is terminated"
            )));
        }
        if !app.value.mp1_allowed {
            return Err(ApiError::forbidden(format!(
                "app instance {id} is not configured to use Mp1 (appSupportMp1 is false)"
            )));
        }
        Ok(app)
    }

    // ---- what tests, dashboards and operators read ----

    /// The state of an app instance.
    pub fn app_state(&self, app_instance_id: &str) -> Option<AppState> {
        self.read().app(app_instance_id).map(|a| a.value.state)
    }

    /// Every app instance, by id.
    pub fn apps(&self) -> Vec<(String, AppRecord)> {
        let cache = self.read();
        let mut apps: Vec<_> = cache
            .apps
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        apps.sort_by(|a, b| a.0.cmp(&b.0));
        apps
    }

    /// Every registered service.
    pub fn services(&self) -> Vec<ServiceInfo> {
        self.read()
            .services
            .values()
            .map(|s| ServiceInfo::clone(&s.value.info))
            .collect()
    }

    /// When a service last sent a heartbeat (or registered).
    pub fn last_heartbeat(&self, ser_instance_id: &str) -> Option<SystemTime> {
        self.read()
            .services
            .get(ser_instance_id)
            .map(|s| s.value.last_heartbeat.to_system_time())
    }

    /// An app instance's traffic rules.
    pub fn traffic_rules(&self, app_instance_id: &str) -> Vec<TrafficRule> {
        self.read()
            .traffic_rules
            .get(app_instance_id)
            .map(|r| r.values().map(|v| v.value.clone()).collect())
            .unwrap_or_default()
    }

    /// An app instance's DNS rules.
    pub fn dns_rules(&self, app_instance_id: &str) -> Vec<DnsRule> {
        self.read()
            .dns_rules
            .get(app_instance_id)
            .map(|r| r.values().map(|v| v.value.clone()).collect())
            .unwrap_or_default()
    }

    /// Every ACTIVE DNS rule of every app instance that is not terminated, with its owner.
    pub fn active_dns_rules(&self) -> Vec<(String, DnsRule)> {
        let cache = self.read();
        cache
            .dns_rules
            .iter()
            .filter(|(app, _)| {
                cache
                    .app(app)
                    .is_some_and(|a| a.value.state != AppState::Terminated)
            })
            .flat_map(|(app, rules)| {
                rules
                    .values()
                    .filter(|r| r.value.state == mec_mp1::model::RuleState::Active)
                    .map(|r| (app.clone(), r.value.clone()))
            })
            .collect()
    }

    /// The transports offered.
    pub fn transports(&self) -> Vec<TransportInfo> {
        self.read()
            .transports
            .values()
            .map(|t| t.value.clone())
            .collect()
    }

    /// The subscriptions of an app instance (availability and termination), by id.
    pub fn subscriptions(&self, app_instance_id: &str) -> Vec<(String, SubscriptionRecord)> {
        let cache = self.read();
        let mut subs: Vec<_> = cache
            .subscriptions
            .iter()
            .filter(|(_, s)| s.value.app_instance_id == app_instance_id)
            .map(|(id, s)| (id.clone(), (*s.value).clone()))
            .collect();
        subs.sort_by(|a, b| a.0.cmp(&b.0));
        subs
    }

    /// Records in the store that could not be decoded (key and reason): they are ignored, and listed here.
    pub fn undecodable_records(&self) -> Vec<(String, String)> {
        self.read().undecodable.clone()
    }

    /// Notification delivery counters.
    pub fn delivery_stats(&self) -> DeliveryStats {
        self.inner.deliveries.stats(self)
    }

    /// The last notifications delivered or given up on, newest last.
    pub fn recent_deliveries(&self) -> Vec<DeliveryRecord> {
        self.inner.deliveries.recent()
    }

    /// Puts an interceptor in front of every notification delivery (fault injection in tests).
    pub fn set_delivery_interceptor(&self, interceptor: Option<Arc<dyn DeliveryInterceptor>>) {
        self.inner.deliveries.set_interceptor(interceptor);
    }

    /// The access keys of an app instance.
    pub fn access_keys(&self, app_instance_id: &str) -> Vec<String> {
        let mut keys: Vec<String> = self
            .read()
            .credentials
            .iter()
            .filter(|(_, c)| c.value.app_instance_id == app_instance_id)
            .map(|(ak, _)| ak.clone())
            .collect();
        keys.sort();
        keys
    }

    /// The app instance an access key belongs to, and its secret key.
    pub fn credential(&self, access_key: &str) -> Option<CredentialRecord> {
        self.read()
            .credentials
            .get(access_key)
            .map(|c| c.value.clone())
    }

    // ---- what the platform does on its own ----

    /// Provisions an app instance (created if unknown) with these credentials, as MEP-auth's configuration
    /// (EdgeGallery's `PUT /mep/appMng/v1/applications/{id}/confs`) or a seed does. Other keys of the app stay.
    pub async fn provision_app(
        &self,
        app_instance_id: &str,
        credentials: Option<&Credentials>,
        mp1_allowed: bool,
    ) -> Result<(), ApiError> {
        self.transact(|cache, _| {
            let app_key = self.key(&format!("{APPS}{app_instance_id}"));
            let current = cache.app(app_instance_id);
            let mut record = current.map(|a| a.value.clone()).unwrap_or_default();
            if record.state == AppState::Terminated {
                record = AppRecord::new();
            }
            record.mp1_allowed = mp1_allowed;
            let mut txn = Txn::new()
                .when_unchanged(app_key.clone(), current.map(|a| a.revision))
                .put(app_key, json(&record)?);
            if let Some(c) = credentials {
                let key = self.key(&format!("{CREDENTIALS}{}", c.access_key()));
                if let Some(other) = cache.credentials.get(c.access_key())
                    && other.value.app_instance_id != app_instance_id
                {
                    return Err(ApiError::conflict(format!(
                        "access key {} belongs to another app instance",
                        c.access_key()
                    )));
                }
                txn = txn.put(
                    key,
                    json(&CredentialRecord {
                        app_instance_id: app_instance_id.to_owned(),
                        secret_key: c.secret_key().to_owned(),
                    })?,
                );
            }
            Ok((txn, ()))
        })
        .await
    }

    /// Sets (adds or replaces) a traffic rule of an app instance, as the MEP manager would.
    pub async fn set_traffic_rule(
        &self,
        app_instance_id: &str,
        rule: TrafficRule,
    ) -> Result<(), ApiError> {
        let key = self.key(&format!(
            "{TRAFFIC_RULES}{app_instance_id}/{}",
            rule.traffic_rule_id
        ));
        self.set_rule(app_instance_id, key, json(&rule)?).await
    }

    /// Sets (adds or replaces) a DNS rule of an app instance, as the MEP manager would.
    pub async fn set_dns_rule(&self, app_instance_id: &str, rule: DnsRule) -> Result<(), ApiError> {
        let key = self.key(&format!(
            "{DNS_RULES}{app_instance_id}/{}",
            rule.dns_rule_id
        ));
        self.set_rule(app_instance_id, key, json(&rule)?).await
    }

    async fn set_rule(
        &self,
        app_instance_id: &str,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), ApiError> {
        let domain = serde_json::from_slice::<DnsRule>(&value)
            .ok()
            .map(|r| r.domain_name);
        self.transact(|cache, _| {
            if let Some(domain) = &domain
                && let Some(owner) = Self::owner_of_domain(cache, domain, app_instance_id)
            {
                return Err(ApiError::forbidden(format!(
                    "domainName: {domain} is held by another app instance ({owner})"
                )));
            }
            let app = cache
                .app(app_instance_id)
                .filter(|a| a.value.state != AppState::Terminated)
                .ok_or_else(|| not_found("app instance", app_instance_id))?;
            let txn = Txn::new()
                .when_revision(self.key(&format!("{APPS}{app_instance_id}")), app.revision)
                .put(key.clone(), value.clone());
            Ok((txn, ()))
        })
        .await
    }

    /// Revokes every token an app instance holds now (its next request gets 401 and it must request a new one).
    pub async fn revoke_tokens(&self, app_instance_id: &str) -> Result<(), ApiError> {
        self.transact(|cache, now| {
            let app = cache
                .app(app_instance_id)
                .ok_or_else(|| not_found("app instance", app_instance_id))?;
            let mut record = app.value.clone();
            // Tokens carry whole seconds: those of this second and before are refused.
            let next_second = TimeStamp {
                seconds: TimeStamp::from(now).seconds + 1,
                nano_seconds: 0,
            };
            record.tokens_valid_from = Some(next_second);
            let key = self.key(&format!("{APPS}{app_instance_id}"));
            Ok((
                Txn::new()
                    .when_revision(key.clone(), app.revision)
                    .put(key, json(&record)?),
                (),
            ))
        })
        .await
    }

    /// Sets the transports `GET /transports` offers (replacing the current ones).
    pub async fn set_transports(&self, transports: Vec<TransportInfo>) -> Result<(), ApiError> {
        self.transact(|cache, _| {
            let mut txn = Txn::new();
            for id in cache.transports.keys() {
                if !transports.iter().any(|t| &t.id == id) {
                    txn = txn.delete(self.key(&format!("{TRANSPORTS}{id}")));
                }
            }
            for t in &transports {
                txn = txn.put(self.key(&format!("{TRANSPORTS}{}", t.id)), json(t)?);
            }
            Ok((txn, ()))
        })
        .await
    }

    /// Registers a service for an app as if it had posted it (seeding), keeping its `serInstanceId` if it has
    /// one. Subscribers are told, as of any registration.
    pub async fn seed_service(
        &self,
        owner: &str,
        mut info: ServiceInfo,
    ) -> Result<ServiceInfo, ApiError> {
        let id = info.ser_instance_id.clone().unwrap_or_else(new_service_id);
        info.ser_instance_id = Some(id.clone());
        info.links = Some(service_mgmt::owner_links(owner));
        let stored = Arc::new(info.clone());
        self.transact(|cache, now| {
            // Seeding again (another replica applying the same seed at once) changes nothing.
            if cache
                .services
                .get(id.as_str())
                .is_some_and(|s| s.value.owner() == owner)
            {
                return Ok((Txn::new(), ()));
            }
            let record = ServiceRecord::new(stored.clone(), TimeStamp::from(now));
            let txn = Txn::new()
                .when_absent(self.key(&format!("{SERVICES}{id}")))
                .put(self.key(&format!("{SERVICES}{id}")), json(&record)?);
            let events = Self::service_events(
                cache,
                [(owner.to_owned(), stored.clone(), ChangeType::Added)],
            );
            Ok((self.with_events(cache, txn, events)?, ()))
        })
        .await?;
        Ok(info)
    }

    /// Changes a service's state, as the platform might, and tells subscribers (`STATE_CHANGED`).
    pub async fn set_service_state(
        &self,
        ser_instance_id: &str,
        state: mec_mp1::model::ServiceState,
    ) -> Result<(), ApiError> {
        let changes = self
            .transact(|cache, _| {
                let stored = cache
                    .services
                    .get(ser_instance_id)
                    .ok_or_else(|| not_found("service", ser_instance_id))?;
                if stored.value.info.state == state {
                    return Ok((Txn::new(), Vec::new()));
                }
                let mut record = stored.value.clone();
                Arc::make_mut(&mut record.info).state = state.clone();
                let key = self.key(&format!("{SERVICES}{ser_instance_id}"));
                let changes = vec![(
                    record.owner().to_owned(),
                    record.info.clone(),
                    ChangeType::StateChanged,
                )];
                let txn = Txn::new()
                    .when_revision(key.clone(), stored.revision)
                    .put(key, json(&record)?);
                let txn =
                    self.with_events(cache, txn, Self::service_events(cache, changes.clone()))?;
                Ok((txn, changes))
            })
            .await?;
        self.emit_service_changes(&changes);
        Ok(())
    }

    /// Records an API-gateway call (EdgeGallery's `kong_log`), keeping the last
    /// [`max_api_call_records`](EngineConfig::max_api_call_records).
    pub(crate) fn record_api_call(&self, record: serde_json::Value) {
        let mut calls = self
            .inner
            .api_calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while calls.len() >= self.inner.config.max_api_call_records.max(1) {
            calls.pop_front();
        }
        calls.push_back(record);
    }

    pub(crate) fn api_calls(&self) -> Vec<serde_json::Value> {
        self.inner
            .api_calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// Clears the MEP back to nothing, as a fresh store would be: every app, credential, service, subscription,
    /// rule, transport, task and pending notification under the engine's prefix is deleted from the store (the
    /// leader key stays), notification workers in flight are stopped, and the delivery records, counters and
    /// API-call records are forgotten. Apply a [`Seed`](crate::Seed) afterwards to start again from it (what
    /// `mock-mep`'s reset does). Another replica over the same store sees the deletions through its watch.
    ///
    /// The deletions are committed in batches of [`CLEAR_BATCH`] keys (a store takes a bounded number of
    /// operations in one transaction); a failure part-way answers 503 and leaves the rest for a second call.
    pub async fn clear(&self) -> Result<(), ApiError> {
        // Stop the workers first, so none delivers an event that is about to go.
        self.inner.deliveries.reset();
        let prefix = &self.inner.config.prefix;
        let (entries, _) = self
            .inner
            .store
            .list(prefix)
            .await
            .map_err(|e| unavailable(&e))?;
        let leader = self.key(leader::LEADER);
        let keys: Vec<String> = entries
            .into_iter()
            .map(|e| e.key)
            .filter(|k| *k != leader)
            .collect();
        for batch in keys.chunks(CLEAR_BATCH) {
            let txn = batch
                .iter()
                .fold(Txn::new(), |txn, key| txn.delete(key.clone()));
            self.commit(txn).await.map_err(|e| unavailable(&e))?;
        }
        // Records no longer in the store are no longer undecodable either.
        self.cache_mut().undecodable.clear();
        self.inner.deliveries.reset();
        self.inner
            .api_calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.changed();
        Ok(())
    }

    /// Runs one pass of the background work now (liveness sweep, termination deadlines, clean-up), as the
    /// sweeper does every [`sweep_interval`](EngineConfig::sweep_interval).
    pub async fn sweep(&self) -> Result<(), ApiError> {
        sweep::run(self).await
    }

    pub(crate) fn deliveries(&self) -> &delivery::Deliveries {
        &self.inner.deliveries
    }
}

#[async_trait::async_trait]
impl crate::auth::KeyStore for Engine {
    async fn app_key(
        &self,
        access_key: &str,
    ) -> Result<Option<crate::auth::AppKey>, crate::auth::AuthError> {
        let cache = self.read();
        let Some(c) = cache.credentials.get(access_key) else {
            return Ok(None);
        };
        // Credentials of a terminated or unknown app are void.
        Ok(cache
            .app(&c.value.app_instance_id)
            .filter(|a| a.value.state != AppState::Terminated)
            .map(|_| crate::auth::AppKey::new(&c.value.app_instance_id, &c.value.secret_key)))
    }
}

#[async_trait::async_trait]
impl crate::auth::AppDirectory for Engine {
    async fn accepts_tokens(
        &self,
        app_instance_id: &str,
        issued_at: SystemTime,
    ) -> Result<bool, crate::auth::AuthError> {
        let cache = self.read();
        Ok(cache.app(app_instance_id).is_some_and(|a| {
            a.value.state != AppState::Terminated
                && a.value
                    .tokens_valid_from
                    .is_none_or(|from| issued_at >= from.to_system_time())
        }))
    }
}
