//! The mock's control side, one implementation seen two ways: [`Shared`] holds the mock's state and does every
//! operation (reset, seed, expectations, faults, the clock, triggers, what the dashboard shows); [`MockMep`]'s
//! methods call it in-process, and [`http`] serves the same calls under `/_mock` for tests in any language, with
//! the dashboard at `/_mock/ui`.
//!
//! [`MockMep`]: super::MockMep

pub(crate) mod http;

use super::clock::MockClock;
use super::events::EventLog;
use super::faults::NotificationFaults;
use super::recorder::{Expectation, ExpectationStatus, FaultStatus, Recorder};
use super::{Answered, AppInstance, Fault, RecordedRequest, RequestMatcher, Seed, Times};
use mec_core::server::ApiError;
use mec_core::signature::Credentials;
use mec_mep::Engine;
use mec_mep::auth::TokenService;
use mec_mep::engine::{AppState, DeliveryOutcome, DeliveryRecord, SubscriptionBody};
use mec_mm5::model::{AppDConfig, TaskProgress};
use mec_mp1::model::{ServiceState, TransportInfo};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest single move of the clock (a hundred years): further would overflow the clock.
pub(crate) const MAX_ADVANCE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Everything a running mock holds, shared by its Rust API and its control API.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) engine: Engine,
    pub(crate) tokens: TokenService,
    pub(crate) recorder: Recorder,
    pub(crate) events: EventLog,
    pub(crate) faults: std::sync::Arc<NotificationFaults>,
    pub(crate) clock: MockClock,
    pub(crate) apps: Mutex<Vec<(String, Credentials)>>,
    /// The seed the mock started from (credentials resolved), which a reset returns to.
    pub(crate) seed: Mutex<Seed>,
    /// The transports offered when the seed gives none.
    pub(crate) default_transports: Option<Vec<TransportInfo>>,
    /// When every token was last expired at once.
    tokens_expired_at: Mutex<Option<SystemTime>>,
    /// Serializes resets and seed loads (two at once would interleave their deletions and writes).
    resetting: tokio::sync::Mutex<()>,
    /// Host names the control API answers besides IP addresses and `localhost`.
    pub(crate) control_hosts: Vec<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Seconds since the epoch, as the dashboard and the control API show times.
pub(crate) fn epoch_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        engine: Engine,
        tokens: TokenService,
        recorder: Recorder,
        events: EventLog,
        faults: std::sync::Arc<NotificationFaults>,
        clock: MockClock,
        provisioned: Vec<(String, Credentials)>,
        seed: Seed,
        default_transports: Option<Vec<TransportInfo>>,
        control_hosts: Vec<String>,
    ) -> Self {
        Self {
            engine,
            tokens,
            recorder,
            events,
            faults,
            clock,
            apps: Mutex::new(provisioned),
            seed: Mutex::new(seed),
            default_transports,
            tokens_expired_at: Mutex::new(None),
            resetting: tokio::sync::Mutex::new(()),
            control_hosts,
        }
    }

    // ---- state ----

    pub(crate) fn apps(&self) -> Vec<(String, Credentials)> {
        lock(&self.apps).clone()
    }

    pub(crate) async fn add_app(&self, app: AppInstance) -> Result<Credentials, ApiError> {
        let mut seed = Seed::new().with_app(app);
        let provisioned = seed.apply(&self.engine).await?;
        let mut apps = lock(&self.apps);
        for (id, creds) in &provisioned {
            apps.retain(|(known, _)| known != id);
            apps.push((id.clone(), creds.clone()));
        }
        provisioned
            .into_iter()
            .next()
            .map(|(_, c)| c)
            .ok_or_else(|| ApiError::internal("the app was not provisioned"))
    }

    /// Back to the seed: the MEP's state is cleared and the seed applied again (same credentials), the recorded
    /// requests, expectations, route and notification faults and events are forgotten. The clock is not moved
    /// back, and tokens issued before stay valid until they expire.
    pub(crate) async fn reset(&self) -> Result<Vec<(String, Credentials)>, ApiError> {
        let seed = lock(&self.seed).clone();
        self.reset_to(seed).await
    }

    /// Replaces the seed (checked first: a bad one changes nothing) and resets to it.
    pub(crate) async fn load_seed(
        &self,
        seed: Seed,
    ) -> Result<Vec<(String, Credentials)>, ApiError> {
        seed.check().map_err(ApiError::bad_request)?;
        self.reset_to(seed).await
    }

    async fn reset_to(&self, mut seed: Seed) -> Result<Vec<(String, Credentials)>, ApiError> {
        let _one_at_a_time = self.resetting.lock().await;
        // Faults first, so nothing in flight is failed or delayed by a fault of the last test.
        self.recorder.reset();
        self.faults.clear();
        self.engine.clear().await?;
        let provisioned = seed.apply(&self.engine).await?;
        if seed.transports.is_none()
            && let Some(t) = &self.default_transports
        {
            self.engine.set_transports(t.clone()).await?;
        }
        *lock(&self.seed) = seed;
        *lock(&self.apps) = provisioned.clone();
        self.events.clear();
        Ok(provisioned)
    }

    // ---- requests and expectations ----

    pub(crate) fn expect(
        &self,
        name: String,
        matcher: RequestMatcher,
        times: Times,
        answered: Answered,
    ) {
        self.recorder.expect(Expectation {
            name,
            matcher,
            times,
            answered,
            seen: 0,
        });
    }

    pub(crate) fn expectations(&self) -> Vec<ExpectationStatus> {
        self.recorder.expectations()
    }

    // ---- faults ----

    pub(crate) fn inject(&self, matcher: RequestMatcher, fault: Fault, times: Option<usize>) {
        self.recorder.inject(matcher, fault, times);
    }

    pub(crate) fn faults(&self) -> Vec<FaultStatus> {
        self.recorder.faults()
    }

    pub(crate) fn clear_faults(&self) {
        self.recorder.clear_faults();
        self.faults.clear();
    }

    // ---- clock ----

    /// Moves the clock (at most [`MAX_ADVANCE`]); with `sweep`, the background pass then runs at once, so
    /// services whose heartbeats are overdue are suspended before this returns.
    pub(crate) async fn advance(&self, by: Duration, sweep: bool) -> Result<SystemTime, ApiError> {
        if by > MAX_ADVANCE {
            return Err(ApiError::bad_request(format!(
                "the clock moves at most {} s at once",
                MAX_ADVANCE.as_secs()
            )));
        }
        self.clock.advance(by);
        if sweep {
            self.engine.sweep().await?;
        }
        Ok(self.engine.clock().now())
    }

    // ---- triggers ----

    pub(crate) async fn terminate(&self, app_instance_id: &str) -> Result<AppState, ApiError> {
        self.engine.terminate(app_instance_id).await
    }

    pub(crate) async fn set_service_state(
        &self,
        ser_instance_id: &str,
        state: ServiceState,
    ) -> Result<(), ApiError> {
        self.engine.set_service_state(ser_instance_id, state).await
    }

    /// Expires every token issued so far.
    pub(crate) fn expire_all_tokens(&self) {
        self.tokens.expire_all();
        *lock(&self.tokens_expired_at) = Some(self.engine.clock().now());
    }

    /// Expires every token at once, or those of one app instance.
    pub(crate) async fn expire_tokens(
        &self,
        app_instance_id: Option<&str>,
    ) -> Result<(), ApiError> {
        match app_instance_id {
            Some(app) => self.engine.revoke_tokens(app).await,
            None => {
                self.expire_all_tokens();
                Ok(())
            }
        }
    }

    /// Sets an app's Mm5 configuration as the MEP manager does (created, or updated when it has one).
    pub(crate) async fn configure(
        &self,
        app_instance_id: &str,
        config: AppDConfig,
    ) -> Result<TaskProgress, ApiError> {
        use mec_mm5::server::Mm5;
        let configured = self
            .engine
            .apps()
            .into_iter()
            .any(|(id, a)| id == app_instance_id && a.configured_name.is_some());
        if configured {
            self.engine
                .update_app_config(app_instance_id.to_owned(), config)
                .await
        } else {
            self.engine
                .create_app_config(app_instance_id.to_owned(), config)
                .await
        }
    }

    // ---- what the dashboard and the control API show ----

    /// The MEP's state as the dashboard shows it.
    pub(crate) fn snapshot(&self) -> Value {
        let now = self.engine.clock().now();
        let expired_at = *lock(&self.tokens_expired_at);
        let apps: Vec<Value> = self
            .engine
            .apps()
            .into_iter()
            .map(|(id, a)| {
                let subscriptions: Vec<Value> = self
                    .engine
                    .subscriptions(&id)
                    .into_iter()
                    .map(|(sub_id, s)| {
                        let kind = match &s.body {
                            SubscriptionBody::Availability(_) => "SerAvailability",
                            SubscriptionBody::Termination(_) => "AppTermination",
                        };
                        json!({"subscriptionId": sub_id, "type": kind, "callbackReference": s.body.callback()})
                    })
                    .collect();
                let valid_from = a
                    .tokens_valid_from
                    .map(|t| epoch_seconds(t.to_system_time()));
                let tokens = if a.state == AppState::Terminated {
                    "refused (terminated)".to_owned()
                } else if valid_from.is_some() {
                    "revoked before the time shown".to_owned()
                } else if expired_at.is_some() {
                    "every token issued before the time shown expired".to_owned()
                } else {
                    "valid until they expire".to_owned()
                };
                json!({
                    "appInstanceId": id,
                    "state": a.state,
                    "mp1Allowed": a.mp1_allowed,
                    "configuredName": a.configured_name,
                    "terminationDeadline": a.termination_deadline.map(|t| epoch_seconds(t.to_system_time())),
                    "accessKeys": self.engine.access_keys(&id),
                    "tokens": tokens,
                    "tokensValidFrom": valid_from.or(expired_at.map(epoch_seconds)),
                    "subscriptions": subscriptions,
                    "dnsRules": self.engine.dns_rules(&id),
                    "trafficRules": self.engine.traffic_rules(&id),
                })
            })
            .collect();
        let mut services: Vec<Value> = self
            .engine
            .services()
            .into_iter()
            .map(|s| {
                let id = s.ser_instance_id.clone().unwrap_or_default();
                let last = self.engine.last_heartbeat(&id);
                let due = match (last, s.liveness_interval) {
                    (Some(l), Some(i)) if i > 0 => Some(l + Duration::from_secs(u64::from(i))),
                    _ => None,
                };
                json!({
                    "serInstanceId": id,
                    "serName": s.ser_name,
                    "version": s.version,
                    "state": s.state,
                    "owner": s.links.as_ref().and_then(|l| l.app_instance_id.clone()),
                    "livenessInterval": s.liveness_interval,
                    "lastHeartbeat": last.map(epoch_seconds),
                    "heartbeatDue": due.map(epoch_seconds),
                    "late": due.is_some_and(|d| now > d),
                })
            })
            .collect();
        services.sort_by(|a, b| a["serName"].as_str().cmp(&b["serName"].as_str()));
        json!({
            "now": epoch_seconds(now),
            "manualClock": self.clock.manual().is_some(),
            "tokenLifetimeSeconds": self.tokens.lifetime().as_secs(),
            "apps": apps,
            "services": services,
            "requestsReceived": self.recorder.received(),
            "deliveries": self.engine.delivery_stats(),
            "expectations": self.expectations().iter().map(expectation_view).collect::<Vec<_>>(),
        })
    }
}

/// A recorded request on the wire.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestView {
    /// Its number, from 1 in the order received.
    number: u64,
    method: String,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_instance_id: Option<String>,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Value>,
}

impl RequestView {
    pub(crate) fn new(number: u64, r: RecordedRequest) -> Self {
        Self {
            number,
            method: r.method.to_string(),
            path: r.path,
            query: r.query,
            app_instance_id: r.app_instance_id,
            status: r.status,
            body: r.body,
        }
    }
}

pub(crate) fn expectation_view(e: &ExpectationStatus) -> Value {
    let (kind, n) = match e.times {
        Times::Exactly(n) => ("exactly", n),
        Times::AtLeast(n) => ("atLeast", n),
    };
    let answered = match e.answered {
        Answered::Successfully => json!("2xx"),
        Answered::With(s) => json!(s.as_u16()),
        Answered::AnyStatus => json!("any"),
    };
    json!({
        "name": e.name,
        "matches": e.matches,
        kind: n,
        "answered": answered,
        "seen": e.seen,
        "met": e.met,
    })
}

pub(crate) fn fault_view(f: &FaultStatus) -> Value {
    let mut v = json!({"matches": f.matches, "remaining": f.remaining});
    match &f.fault {
        Fault::Latency(d) => v["latencyMs"] = json!(d.as_millis()),
        Fault::Status(s) => v["status"] = json!(s.as_u16()),
    }
    v
}

pub(crate) fn delivery_view(d: &DeliveryRecord) -> Value {
    let outcome = match &d.outcome {
        DeliveryOutcome::Delivered { status } => json!({"result": "DELIVERED", "status": status}),
        DeliveryOutcome::Failed { reason } => json!({"result": "FAILED", "reason": reason}),
        DeliveryOutcome::Dropped { reason } => json!({"result": "DROPPED", "reason": reason}),
        _ => json!({"result": "OTHER"}),
    };
    json!({
        "at": epoch_seconds(d.at),
        "subscriptionId": d.subscription_id,
        "appInstanceId": d.app_instance_id,
        "callbackReference": d.callback,
        "attempts": d.attempts,
        "outcome": outcome,
        "notification": d.notification,
    })
}
