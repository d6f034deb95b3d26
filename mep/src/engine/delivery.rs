//! Notification delivery that loses nothing silently.
//!
//! A change that subscribers must hear of is written to the store as an event, in the same commit as the change
//! itself. Each subscription has its own worker and a durable cursor (how far it was served): the worker reads the
//! events after its cursor, delivers those that concern its subscription in order, retries failures with backoff
//! on the engine's clock, and moves its cursor on. So a slow or dead callback only delays its own subscription;
//! a restart resumes where the cursors stand; and every notification ends delivered, given up on after its
//! attempts, or dropped past a configured cap, each counted in [`DeliveryStats`] and listed in
//! [`Engine::recent_deliveries`].

use super::records::*;
use super::{Engine, Event, Inner, json};
use crate::store::Txn;
use mec_mp1::model::{
    AppInstanceId, AppTerminationNotification, AppTerminationNotificationLinks, ChangeType,
    OperationAction, SerAvailabilityNotificationSubscription, ServiceAvailabilityNotification,
    ServiceId, ServiceInfo, ServiceReference, SubscriptionId,
};
use mec_mp1::paths;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, SystemTime};
use tokio::sync::{Semaphore, watch};

/// How notifications are delivered.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DeliveryConfig {
    /// Time limit of one attempt (default 5 s).
    pub timeout: Duration,
    /// Attempts per notification, the first included (default 3).
    pub max_attempts: u32,
    /// Wait before the second attempt, on the engine's clock; doubled for each further attempt (default 1 s).
    pub initial_backoff: Duration,
    /// Longest wait between attempts (default 30 s).
    pub max_backoff: Duration,
    /// Attempts in flight at once, over every subscription (default 256).
    pub concurrency: usize,
    /// Attempts in flight at once for the subscriptions of one app instance (default 8), so that one app's
    /// dead callbacks never take the slots of another's.
    pub per_app_concurrency: usize,
    /// After this many notifications in a row were given up on, a subscription's notifications get one attempt
    /// each until one succeeds (default 3): a dead callback costs one time-out per notification, not its retries.
    pub failures_before_single_attempt: u32,
    /// Delivery records kept for [`Engine::recent_deliveries`] (default 1,000).
    pub recent: usize,
    /// Accept any TLS certificate of a callback server (EdgeGallery's MEP does; default false).
    pub danger_accept_invalid_certs: bool,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            max_attempts: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            concurrency: 256,
            per_app_concurrency: 8,
            failures_before_single_attempt: 3,
            recent: 1_000,
            danger_accept_invalid_certs: false,
        }
    }
}

impl DeliveryConfig {
    /// The wait before attempt `attempt` (2 for the first retry).
    pub fn backoff(&self, attempt: u32) -> Duration {
        mec_mp1::server::retry_backoff(self.initial_backoff, self.max_backoff, attempt)
    }
}

/// How a notification ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryOutcome {
    /// The callback answered 2xx.
    Delivered {
        /// The status it answered.
        status: u16,
    },
    /// Every attempt failed, or the callback refused it with a status that retrying cannot change.
    Failed {
        /// What the last attempt got.
        reason: String,
    },
    /// A [`DeliveryInterceptor`] dropped it.
    Dropped {
        /// Why.
        reason: String,
    },
}

/// One notification and how it ended.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct DeliveryRecord {
    /// When it ended, on the engine's clock.
    pub at: SystemTime,
    /// The subscription.
    pub subscription_id: String,
    /// The subscribing app instance.
    pub app_instance_id: String,
    /// Where it went.
    pub callback: String,
    /// The notification as sent.
    pub notification: serde_json::Value,
    /// Attempts made.
    pub attempts: u32,
    /// How it ended.
    pub outcome: DeliveryOutcome,
}

/// Delivery counters since the engine started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeliveryStats {
    /// Notifications delivered.
    pub delivered: u64,
    /// Notifications given up on after their attempts.
    pub failed: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Notifications dropped by an interceptor.
    pub dropped: u64,
    /// Events dropped undelivered because the pending cap was reached.
    pub lost: u64,
    /// Events written and not yet served to every subscription.
    pub pending_events: u64,
    /// Subscriptions being served.
    pub subscriptions: u64,
}

/// What an interceptor decides for one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Interception {
    /// Send it.
    Send,
    /// Do not send it; it counts as dropped.
    Drop(String),
    /// Do not send it; the attempt counts as failed (and is retried as a real failure would be).
    Fail(String),
}

/// Sees every delivery attempt before it is made: fault injection in tests, policy in production.
#[async_trait::async_trait]
pub trait DeliveryInterceptor: Send + Sync + 'static {
    /// Decides an attempt (it may also wait, to delay the notification).
    async fn intercept(&self, callback: &str, notification: &serde_json::Value) -> Interception;
}

#[derive(Default)]
struct Counters {
    delivered: AtomicU64,
    failed: AtomicU64,
    retries: AtomicU64,
    dropped: AtomicU64,
    lost: AtomicU64,
}

struct Worker {
    task: tokio::task::JoinHandle<()>,
    /// The cursor the worker holds in memory (ahead of the stored one while it skips events).
    cursor: Arc<AtomicU64>,
}

/// The delivery side of an engine.
pub(crate) struct Deliveries {
    config: DeliveryConfig,
    engine: OnceLock<Weak<Inner>>,
    /// Whether this engine serves the subscriptions (over a shared store, only the elected replica does).
    active: AtomicBool,
    workers: Mutex<HashMap<String, Worker>>,
    wake: watch::Sender<u64>,
    counters: Counters,
    recent: Mutex<VecDeque<DeliveryRecord>>,
    global: Arc<Semaphore>,
    per_app: Mutex<HashMap<String, Arc<Semaphore>>>,
    interceptor: Mutex<Option<Arc<dyn DeliveryInterceptor>>>,
    http: OnceLock<Result<reqwest::Client, String>>,
}

impl Deliveries {
    pub(crate) fn new(config: DeliveryConfig) -> Self {
        Self {
            global: Arc::new(Semaphore::new(config.concurrency.max(1))),
            config,
            engine: OnceLock::new(),
            active: AtomicBool::new(false),
            workers: Mutex::new(HashMap::new()),
            wake: watch::channel(0).0,
            counters: Counters::default(),
            recent: Mutex::new(VecDeque::new()),
            per_app: Mutex::new(HashMap::new()),
            interceptor: Mutex::new(None),
            http: OnceLock::new(),
        }
    }

    /// Starts serving subscriptions (on every store change from now on).
    pub(crate) fn start(&self, engine: &Engine) {
        let _ = self.engine.set(engine.downgrade());
        self.active.store(true, Ordering::SeqCst);
        self.changed(engine);
    }

    fn workers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Worker>> {
        self.workers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The store changed: serve new subscriptions, stop serving deleted ones, wake the workers.
    pub(crate) fn changed(&self, engine: &Engine) {
        let Some(weak) = self.engine.get() else {
            return;
        };
        if !self.active.load(Ordering::SeqCst) {
            return;
        }
        {
            let cache = engine.read();
            let mut workers = self.workers();
            workers.retain(|id, w| {
                let keep = cache.subscriptions.contains_key(id) && !w.task.is_finished();
                if !keep {
                    w.task.abort();
                }
                keep
            });
            for id in cache.subscriptions.keys() {
                // A subscription is written with its cursor in one commit, but another replica's commit arrives
                // through the watch one key at a time: its worker starts once the cursor is there too.
                if !workers.contains_key(id)
                    && let Some(c) = cache.cursors.get(id)
                {
                    let cursor = Arc::new(AtomicU64::new(c.value.seq));
                    let task = tokio::spawn(serve(
                        weak.clone(),
                        id.clone(),
                        cursor.clone(),
                        self.wake.subscribe(),
                    ));
                    workers.insert(id.clone(), Worker { task, cursor });
                }
            }
        }
        self.wake.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Stops every worker, until [`start`](Self::start) is called again.
    pub(crate) fn stop(&self) {
        self.active.store(false, Ordering::SeqCst);
        for (_, w) in self.workers().drain() {
            w.task.abort();
        }
    }

    /// Forgets every worker, the recent records and the counters (the engine was cleared): workers in the
    /// middle of a delivery are stopped; serving goes on for the subscriptions that exist from now on.
    pub(crate) fn reset(&self) {
        for (_, w) in self.workers().drain() {
            w.task.abort();
        }
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        for c in [
            &self.counters.delivered,
            &self.counters.failed,
            &self.counters.retries,
            &self.counters.dropped,
            &self.counters.lost,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.per_app
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The cursor a subscription's worker holds in memory.
    pub(crate) fn cursor(&self, subscription_id: &str) -> Option<u64> {
        self.workers()
            .get(subscription_id)
            .map(|w| w.cursor.load(Ordering::SeqCst))
    }

    pub(crate) fn count_lost(&self, n: u64) {
        self.counters.lost.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn set_interceptor(&self, interceptor: Option<Arc<dyn DeliveryInterceptor>>) {
        *self
            .interceptor
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = interceptor;
    }

    fn interceptor(&self) -> Option<Arc<dyn DeliveryInterceptor>> {
        self.interceptor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn stats(&self, engine: &Engine) -> DeliveryStats {
        let c = &self.counters;
        let cache = engine.read();
        DeliveryStats {
            delivered: c.delivered.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            lost: c.lost.load(Ordering::Relaxed),
            pending_events: cache.events.len() as u64,
            subscriptions: cache.subscriptions.len() as u64,
        }
    }

    pub(crate) fn recent(&self) -> Vec<DeliveryRecord> {
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    fn record(&self, engine: &Engine, record: DeliveryRecord) {
        let counter = match &record.outcome {
            DeliveryOutcome::Delivered { .. } => &self.counters.delivered,
            DeliveryOutcome::Failed { reason } => {
                tracing::warn!(callback = %record.callback, attempts = record.attempts, %reason, "notification given up on");
                &self.counters.failed
            }
            DeliveryOutcome::Dropped { .. } => &self.counters.dropped,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        {
            let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            while recent.len() >= self.config.recent.max(1) {
                recent.pop_front();
            }
            recent.push_back(record.clone());
        }
        engine.emit(Event::Notification(record));
    }

    fn app_slots(&self, app: &str) -> Arc<Semaphore> {
        self.per_app
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(app.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.config.per_app_concurrency.max(1))))
            .clone()
    }

    fn http(&self) -> Result<&reqwest::Client, String> {
        self.http
            .get_or_init(|| {
                reqwest::Client::builder()
                    .timeout(self.config.timeout)
                    .danger_accept_invalid_certs(self.config.danger_accept_invalid_certs)
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// One attempt: the status of a 2xx answer, or why not.
    async fn attempt(
        &self,
        app: &str,
        callback: &str,
        body: &serde_json::Value,
    ) -> Result<u16, Missed> {
        let stopping = || Missed::Failed {
            reason: "the MEP is stopping".to_owned(),
            retryable: false,
        };
        let app_slots = self.app_slots(app);
        let _app = app_slots.acquire().await.map_err(|_| stopping())?;
        let _global = self.global.acquire().await.map_err(|_| stopping())?;
        if let Some(i) = self.interceptor() {
            match i.intercept(callback, body).await {
                Interception::Send => {}
                Interception::Drop(reason) => return Err(Missed::Dropped(reason)),
                Interception::Fail(reason) => {
                    return Err(Missed::Failed {
                        reason,
                        retryable: true,
                    });
                }
            }
        }
        let client = self.http().map_err(|reason| Missed::Failed {
            reason,
            retryable: false,
        })?;
        match client.post(callback).json(body).send().await {
            Ok(r) if r.status().is_success() => Ok(r.status().as_u16()),
            Ok(r) => {
                let s = r.status();
                Err(Missed::Failed {
                    reason: format!("the callback answered {s}"),
                    retryable: s.is_server_error() || s.as_u16() == 408 || s.as_u16() == 429,
                })
            }
            Err(e) => Err(Missed::Failed {
                reason: format!("the callback could not be reached: {e}"),
                retryable: true,
            }),
        }
    }
}

/// Why an attempt did not deliver.
enum Missed {
    /// An interceptor dropped the notification.
    Dropped(String),
    /// The attempt failed.
    Failed { reason: String, retryable: bool },
}

/// Whether an availability subscription's filter matches a service (MEC 011 `FilteringCriteria`: the members
/// given are ANDed; an absent one matches all).
pub(crate) fn matches(sub: &SerAvailabilityNotificationSubscription, s: &ServiceInfo) -> bool {
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

/// The notification an event makes for a subscription, if it concerns it.
fn notification(
    engine: &Engine,
    subscription_id: &str,
    sub: &SubscriptionRecord,
    event: &EventRecord,
) -> Option<serde_json::Value> {
    let base = format!("{}{}", engine.public_url(), sub.base_path);
    let app = &sub.app_instance_id;
    if engine.config().profile.is_edgegallery() {
        return crate::profile::edgegallery_notification(subscription_id, sub, event);
    }
    let app_id = AppInstanceId::from(&**app);
    let subscription_id = SubscriptionId::from(subscription_id);
    match (&sub.body, event) {
        (SubscriptionBody::Availability(s), EventRecord::ServiceChanged { info, change, .. }) => {
            if !matches(s, info) {
                return None;
            }
            let id = ServiceId::from(info.ser_instance_id.clone().unwrap_or_default());
            let mut reference = ServiceReference::new(
                info.ser_name.clone(),
                id.as_str(),
                info.state.clone(),
                change.clone(),
            );
            if *change != ChangeType::Removed {
                reference = reference.with_link(format!("{base}{}", paths::service(&id)));
            }
            let n = ServiceAvailabilityNotification::new(
                format!(
                    "{base}{}",
                    paths::subscription(paths::SERVICE_MGMT, &app_id, &subscription_id)
                ),
                vec![reference],
            );
            serde_json::to_value(n).ok()
        }
        (
            SubscriptionBody::Termination(_),
            EventRecord::AppTerminating {
                app_instance_id,
                max_graceful_timeout,
            },
        ) if app_instance_id == app => {
            let links = AppTerminationNotificationLinks::new(format!(
                "{base}{}",
                paths::subscription(paths::APP_SUPPORT_V1, &app_id, &subscription_id)
            ))
            .with_confirm_termination(format!(
                "{base}{}",
                paths::confirm_termination(paths::APP_SUPPORT_V1, &app_id)
            ));
            let n = AppTerminationNotification::new(
                OperationAction::Terminating,
                *max_graceful_timeout,
                links,
            );
            serde_json::to_value(n).ok()
        }
        _ => None,
    }
}

/// What a worker does next.
enum Next {
    /// Nothing to do until the store changes.
    Wait,
    /// The subscription is gone.
    Stop,
    /// The next event after the cursor, and the notification it makes (if any).
    Event {
        seq: u64,
        lost: u64,
        delivery: Option<(Arc<SubscriptionRecord>, serde_json::Value)>,
    },
}

fn next_step(engine: &Engine, subscription_id: &str, cursor: u64) -> Next {
    let cache = engine.read();
    let Some(sub) = cache.subscriptions.get(subscription_id) else {
        return Next::Stop;
    };
    let Some((&seq, event)) = cache.events.range(cursor + 1..).next() else {
        return Next::Wait;
    };
    // Events between the cursor and the first still stored were dropped by the pending cap.
    let lost = seq.saturating_sub(cursor + 1).min(cache.last_event());
    let delivery = notification(engine, subscription_id, &sub.value, &event.value)
        .map(|n| (sub.value.clone(), n));
    Next::Event {
        seq,
        lost: if cursor == 0 { 0 } else { lost },
        delivery,
    }
}

async fn save_cursor(engine: &Engine, subscription_id: &str, seq: u64) {
    let revision = engine
        .read()
        .subscriptions
        .get(subscription_id)
        .map(|s| s.revision);
    let Some(revision) = revision else {
        return;
    };
    let Ok(value) = json(&Cursor { seq }) else {
        return;
    };
    let txn = Txn::new()
        .when_revision(
            engine.key(&format!("{SUBSCRIPTIONS}{subscription_id}")),
            revision,
        )
        .put(engine.key(&format!("{CURSORS}{subscription_id}")), value);
    if let Err(e) = engine.commit(txn).await
        && !e.is_conflict()
    {
        tracing::warn!(subscription = subscription_id, error = %e, "cannot save a delivery cursor; it is saved with the next one");
    }
}

/// Serves one subscription until it is deleted or the engine stops.
async fn serve(
    weak: Weak<Inner>,
    subscription_id: String,
    cursor: Arc<AtomicU64>,
    mut wake: watch::Receiver<u64>,
) {
    let mut unsaved = false;
    let mut failures_in_a_row = 0u32;
    loop {
        wake.borrow_and_update();
        let Some(engine) = Engine::from_weak(&weak) else {
            return;
        };
        let at = cursor.load(Ordering::SeqCst);
        match next_step(&engine, &subscription_id, at) {
            Next::Stop => return,
            Next::Wait => {
                if unsaved {
                    save_cursor(&engine, &subscription_id, at).await;
                    unsaved = false;
                }
                drop(engine);
                if wake.changed().await.is_err() {
                    return;
                }
            }
            Next::Event {
                seq,
                lost,
                delivery,
            } => {
                if lost > 0 {
                    engine.deliveries().count_lost(lost);
                }
                let Some((sub, body)) = delivery else {
                    cursor.store(seq, Ordering::SeqCst);
                    unsaved = true;
                    continue;
                };
                let single =
                    failures_in_a_row >= engine.deliveries().config.failures_before_single_attempt;
                let record = deliver(&engine, &subscription_id, &sub, body, single).await;
                failures_in_a_row = match record.outcome {
                    DeliveryOutcome::Failed { .. } => failures_in_a_row.saturating_add(1),
                    _ => 0,
                };
                engine.deliveries().record(&engine, record);
                cursor.store(seq, Ordering::SeqCst);
                save_cursor(&engine, &subscription_id, seq).await;
                unsaved = false;
            }
        }
    }
}

async fn deliver(
    engine: &Engine,
    subscription_id: &str,
    sub: &SubscriptionRecord,
    body: serde_json::Value,
    single_attempt: bool,
) -> DeliveryRecord {
    let d = engine.deliveries();
    let callback = sub.body.callback().to_owned();
    let max = if single_attempt {
        1
    } else {
        d.config.max_attempts.max(1)
    };
    let mut attempts = 0;
    let outcome = loop {
        attempts += 1;
        if attempts > 1 {
            d.counters.retries.fetch_add(1, Ordering::Relaxed);
        }
        match d.attempt(&sub.app_instance_id, &callback, &body).await {
            Ok(status) => break DeliveryOutcome::Delivered { status },
            Err(Missed::Dropped(reason)) => break DeliveryOutcome::Dropped { reason },
            Err(Missed::Failed { reason, retryable }) => {
                if !retryable || attempts >= max {
                    break DeliveryOutcome::Failed { reason };
                }
                let wake = engine.now() + d.config.backoff(attempts + 1);
                engine.clock().sleep_until(wake).await;
                // The subscription may have been deleted while waiting.
                if !engine.read().subscriptions.contains_key(subscription_id) {
                    break DeliveryOutcome::Failed {
                        reason: "the subscription was deleted".to_owned(),
                    };
                }
            }
        }
    };
    DeliveryRecord {
        at: engine.now(),
        subscription_id: subscription_id.to_owned(),
        app_instance_id: sub.app_instance_id.clone(),
        callback,
        notification: body,
        attempts,
        outcome,
    }
}
