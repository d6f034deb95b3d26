//! [`MockMep`]: an in-memory MEP with real behaviour, served on 127.0.0.1.

mod events;
mod faults;
mod mm5;
mod recorder;
mod seed;
mod store;
mod tokens;

pub use events::Event;
pub use recorder::{Fault, RecordedRequest, RequestMatcher, Times, VerificationError};
pub use seed::{AppInstance, Seed, SeedError};
pub use store::{AppState, DEFAULT_LIVENESS_INTERVAL, InMemoryMep};
pub use tokens::Claims;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, Method, Uri};
use mec_core::client::TokenResponse;
use mec_core::server::{ApiError, Json};
use mec_core::signature::{Credentials, Verifier, VerifyError};
use mec_core::{ManualClock, SharedClock, system_clock};
use mec_mp1::model::{
    AppTerminationNotificationSubscription, DnsRule, EndPointInfo, GrantType, OAuth2Info,
    SecurityInfo, ServiceInfo, ServiceState, TrafficRule, TransportInfo, TransportType,
};
use mec_mp1::server::{DispatcherConfig, NotificationDispatcher, require_bearer};
use recorder::Expectation;
pub(crate) use recorder::{Recorder, record};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use store::{App, Shared};
use tokens::TokenAuthority;

/// The path of MEP-auth's token endpoint, as EdgeGallery serves it.
pub const TOKEN_PATH: &str = "/mep/token";

/// Why a mock MEP could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The notification dispatcher could not start.
    #[error("cannot start the notification dispatcher: {0}")]
    Dispatcher(String),
    /// The seed is inconsistent (for example two apps with one id).
    #[error("invalid seed: {0}")]
    Seed(String),
}

/// Configures a [`MockMep`] before it starts.
#[derive(Debug)]
#[must_use]
pub struct MockMepBuilder {
    listen: SocketAddr,
    seed: Seed,
    auth: bool,
    clock: ClockChoice,
    token_lifetime: Duration,
    max_graceful_timeout: u32,
    dispatcher: DispatcherConfig,
}

#[derive(Debug)]
enum ClockChoice {
    Manual(ManualClock),
    System,
}

impl Default for MockMepBuilder {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: Seed::default(),
            auth: true,
            clock: ClockChoice::Manual(ManualClock::starting_now()),
            token_lifetime: Duration::from_secs(3600),
            max_graceful_timeout: 10,
            dispatcher: DispatcherConfig {
                timeout: Duration::from_secs(2),
                initial_backoff: Duration::from_millis(50),
                ..DispatcherConfig::default()
            },
        }
    }
}

impl MockMepBuilder {
    /// Listens on this address (default `127.0.0.1:0`, an ephemeral port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Adds an app instance (with generated credentials unless it has its own).
    pub fn app(mut self, app: AppInstance) -> Self {
        self.seed.apps.push(app);
        self
    }

    /// Starts from this state (apps are added to those given with [`app`](Self::app)).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed.apps.extend(seed.apps);
        if seed.transports.is_some() {
            self.seed.transports = seed.transports;
        }
        self
    }

    /// Serves Mp1 without token checks (the token endpoint still works).
    pub fn without_auth(mut self) -> Self {
        self.auth = false;
        self
    }

    /// Uses this clock for token expiry, heartbeats and the timing API (default: a [`ManualClock`] started at
    /// the current time, moved only by [`MockMep::advance`]).
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = ClockChoice::Manual(clock);
        self
    }

    /// Uses the system clock (as the `mock-mep` binary does); [`MockMep::advance`] then does nothing.
    pub fn system_clock(mut self) -> Self {
        self.clock = ClockChoice::System;
        self
    }

    /// How long issued tokens stay valid (default one hour).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// The `maxGracefulTimeout` sent in termination notifications, in seconds, after which the termination
    /// completes without the app's confirmation (default 10).
    pub fn max_graceful_timeout(mut self, seconds: u32) -> Self {
        self.max_graceful_timeout = seconds;
        self
    }

    /// How notifications are delivered (timeouts, retries).
    pub fn dispatcher(mut self, config: DispatcherConfig) -> Self {
        self.dispatcher = config;
        self
    }

    /// Starts the mock. Without any app configured, one demo app instance is provisioned.
    pub async fn start(self) -> Result<MockMep, StartError> {
        let listen = self.listen;
        let auth = self.auth;
        let Parts {
            mep,
            tokens,
            manual,
            provisioned,
            default_transports: point_transports,
        } = self.into_parts()?;
        let recorder = Recorder::default();
        let router = build_router(&mep, &tokens, &recorder, auth);
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: listen,
            source,
        })?;
        let url = format!("http://{addr}");
        *mep.inner
            .public_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = url.clone();
        if point_transports {
            mep.lock().transports = default_transports(&url);
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "mock MEP stopped");
            }
        });
        Ok(MockMep {
            url,
            addr,
            mep,
            tokens,
            recorder,
            manual_clock: manual,
            apps: Mutex::new(provisioned),
            stop: Some(stop),
        })
    }

    /// The in-memory MEP alone, without a server: serve it with `mec_mp1::server::router` or call its trait
    /// methods directly. Needs a tokio runtime (notifications are delivered by a background task).
    pub fn build_in_memory(self) -> Result<InMemoryMep, StartError> {
        Ok(self.into_parts()?.mep)
    }

    fn into_parts(self) -> Result<Parts, StartError> {
        let seeded_transports = self.seed.transports.is_none();
        let (manual, clock): (Option<ManualClock>, SharedClock) = match self.clock {
            ClockChoice::Manual(c) => (Some(c.clone()), Arc::new(c)),
            ClockChoice::System => (None, system_clock()),
        };
        let dispatcher = NotificationDispatcher::start(self.dispatcher)
            .map_err(|e| StartError::Dispatcher(e.to_string()))?;
        let tokens = TokenAuthority::new(clock.clone(), self.token_lifetime);
        let mep = InMemoryMep {
            inner: Arc::new(Shared {
                state: Mutex::default(),
                clock: clock.clone(),
                dispatcher,
                faults: faults::Faults::default(),
                events: events::EventLog::default(),
                public_url: Mutex::new(String::new()),
                max_graceful_timeout: self.max_graceful_timeout,
                tokens: tokens.clone(),
            }),
        };
        let mut apps = self.seed.apps;
        if apps.is_empty() {
            apps.push(AppInstance::new(uuid::Uuid::new_v4().to_string()));
        }
        let mut provisioned = Vec::new();
        {
            let mut state = mep.lock();
            state.transports = self
                .seed
                .transports
                .unwrap_or_else(|| default_transports("http://localhost"));
            for app in &mut apps {
                if state.apps.contains_key(&app.app_instance_id) {
                    return Err(StartError::Seed(format!(
                        "app instance {} given twice",
                        app.app_instance_id
                    )));
                }
                let creds = app.resolve_credentials();
                tokens.provision(&app.app_instance_id, &creds);
                provisioned.push((app.app_instance_id.clone(), creds));
                state
                    .apps
                    .insert(app.app_instance_id.clone(), App::from_seed(app));
            }
        }
        for app in &apps {
            for s in &app.services {
                mep.seed_service(&app.app_instance_id, s.clone());
            }
        }
        Ok(Parts {
            mep,
            tokens,
            manual,
            provisioned,
            default_transports: seeded_transports,
        })
    }
}

struct Parts {
    mep: InMemoryMep,
    tokens: TokenAuthority,
    manual: Option<ManualClock>,
    provisioned: Vec<(String, Credentials)>,
    /// Whether the transports are the default ones, to be pointed at the server's address once bound.
    default_transports: bool,
}

/// The transport EdgeGallery's MEP offers: REST over HTTP with MEP-auth tokens.
fn default_transports(base_url: &str) -> Vec<TransportInfo> {
    vec![TransportInfo {
        id: "0f4a39a1f1f84a9c9f5e8b6d2c7e3a10".to_owned(),
        name: "REST".to_owned(),
        description: Some("REST API".to_owned()),
        type_: TransportType::RestHttp,
        protocol: "HTTP".to_owned(),
        version: "2.0".to_owned(),
        endpoint: EndPointInfo::Uris(vec![format!("{base_url}/mep")]),
        security: SecurityInfo {
            o_auth2_info: Some(OAuth2Info {
                grant_types: vec![GrantType::Oauth2ClientCredentials],
                token_endpoint: Some(format!("{base_url}{TOKEN_PATH}")),
            }),
            ..SecurityInfo::default()
        },
        impl_specific_info: None,
    }]
}

#[derive(Clone)]
struct TokenState {
    verifier: Arc<Verifier>,
    tokens: TokenAuthority,
}

fn build_router(
    mep: &InMemoryMep,
    tokens: &TokenAuthority,
    recorder: &Recorder,
    auth: bool,
) -> Router {
    let mp1: Router = mec_mp1::server::routes::<InMemoryMep, Arc<InMemoryMep>>()
        .with_state(Arc::new(mep.clone()));
    let mp1 = if auth {
        require_bearer(mp1, Arc::new(tokens.clone()))
    } else {
        mp1
    };
    // Signatures are dated by the app's own clock, so they are checked against real time; token expiry follows
    // the mock's clock.
    let token_state = TokenState {
        verifier: Arc::new(Verifier::with_keys(tokens.clone(), system_clock())),
        tokens: tokens.clone(),
    };
    let mm5: Router = mec_mm5::server::routes::<InMemoryMep, Arc<InMemoryMep>>()
        .with_state(Arc::new(mep.clone()));
    Router::new()
        .merge(mp1.clone())
        .nest("/mep", mp1)
        .merge(mm5)
        .route(TOKEN_PATH, post(issue_token).with_state(token_state))
        .route("/health", get(|| async { "ok" }))
        .method_not_allowed_fallback(mec_core::server::method_not_allowed_fallback)
        .fallback(mec_core::server::not_found_fallback)
        .layer(DefaultBodyLimit::max(mec_mp1::server::DEFAULT_BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            recorder.clone(),
            recorder::record,
        ))
}

async fn issue_token(
    State(s): State<TokenState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match s.verifier.verify(&method, &uri, &headers, &body) {
        Ok(v) => match s.tokens.app_of(&v.access_key) {
            Some(app) => Json(TokenResponse {
                access_token: s.tokens.issue(&app),
                token_type: "Bearer".to_owned(),
                expires_in: s.tokens.lifetime().as_secs(),
            })
            .into_response(),
            None => ApiError::unauthorized("Invalid access or signature.").into_response(),
        },
        Err(
            e @ (VerifyError::MalformedAuthorization(_)
            | VerifyError::UnsupportedAlgorithm(_)
            | VerifyError::MalformedDate(_)
            | VerifyError::MissingDate
            | VerifyError::MissingSignedHeader(_)
            | VerifyError::UnsignedRequiredHeader(_)),
        ) => ApiError::bad_request(e.to_string()).into_response(),
        Err(e) => ApiError::unauthorized(e.to_string()).into_response(),
    }
}

/// An in-memory MEP serving Mp1 and MEP-auth on 127.0.0.1, for tests and local development.
///
/// Behaviour is real: registrations persist for the life of the mock, discovery filters work, subscriptions get
/// real HTTP callbacks, rules can be read and updated, confirmations change the app's state and tokens expire.
/// Every request is recorded; expectations are checked when the mock is dropped (without panicking twice).
///
/// ```no_run
/// # async fn run() {
/// use mec_testkit::MockMep;
///
/// let mep = MockMep::start().await;
/// let (app, credentials) = mep.app();
/// mep.expect_confirm_ready(&app);
/// // ... point the app under test at mep.mep_url() with `credentials` ...
/// # }
/// ```
#[derive(Debug)]
pub struct MockMep {
    url: String,
    addr: SocketAddr,
    mep: InMemoryMep,
    tokens: TokenAuthority,
    recorder: Recorder,
    manual_clock: Option<ManualClock>,
    apps: Mutex<Vec<(String, Credentials)>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl MockMep {
    /// Starts a mock with the defaults: one demo app instance, tokens required, a manual clock.
    ///
    /// # Panics
    /// When no port can be bound on 127.0.0.1 (use [`builder`](Self::builder) to handle that as an error).
    #[allow(clippy::panic)]
    pub async fn start() -> Self {
        match Self::builder().start().await {
            Ok(m) => m,
            Err(e) => panic!("the mock MEP did not start: {e}"),
        }
    }

    /// A builder for a mock with options.
    pub fn builder() -> MockMepBuilder {
        MockMepBuilder::default()
    }

    /// The server's root URL (`http://127.0.0.1:PORT`): ETSI's layout, `{url}/mec_service_mgmt/v1/...`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// EdgeGallery's API root (`http://127.0.0.1:PORT/mep`); the token endpoint is `{url}/mep/token`.
    pub fn mep_url(&self) -> String {
        format!("{}/mep", self.url)
    }

    /// The address the mock listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first app instance and its credentials (the demo app when none was configured).
    #[allow(clippy::panic)]
    pub fn app(&self) -> (String, Credentials) {
        match self.apps().into_iter().next() {
            Some(a) => a,
            None => panic!("the mock MEP has no app instance"),
        }
    }

    /// Every app instance provisioned, with its credentials.
    pub fn apps(&self) -> Vec<(String, Credentials)> {
        self.apps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The credentials of an app instance.
    pub fn credentials(&self, app_instance_id: &str) -> Option<Credentials> {
        self.apps()
            .into_iter()
            .find(|(id, _)| id == app_instance_id)
            .map(|(_, c)| c)
    }

    /// Adds an app instance while the mock runs; returns its credentials.
    pub fn add_app(&self, mut app: AppInstance) -> Credentials {
        let creds = app.resolve_credentials();
        self.tokens.provision(&app.app_instance_id, &creds);
        {
            let mut state = self.mep.lock();
            state
                .apps
                .insert(app.app_instance_id.clone(), App::from_seed(&app));
        }
        for s in &app.services {
            self.mep.seed_service(&app.app_instance_id, s.clone());
        }
        self.apps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((app.app_instance_id, creds.clone()));
        creds
    }

    /// The in-memory MEP behind the server, to use its trait implementations directly.
    pub fn implementation(&self) -> &InMemoryMep {
        &self.mep
    }

    // ---- state ----

    /// The state of an app instance.
    pub fn app_state(&self, app_instance_id: &str) -> Option<AppState> {
        self.mep.app_state(app_instance_id)
    }

    /// Every registered service.
    pub fn services(&self) -> Vec<ServiceInfo> {
        self.mep.services_snapshot()
    }

    /// An app instance's traffic rules as the MEP holds them.
    pub fn traffic_rules(&self, app_instance_id: &str) -> Vec<TrafficRule> {
        self.mep
            .lock()
            .apps
            .get(app_instance_id)
            .map(|a| a.traffic_rules.values().cloned().collect())
            .unwrap_or_default()
    }

    /// An app instance's DNS rules as the MEP holds them.
    pub fn dns_rules(&self, app_instance_id: &str) -> Vec<DnsRule> {
        self.mep
            .lock()
            .apps
            .get(app_instance_id)
            .map(|a| a.dns_rules.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Sets (adds or replaces) a traffic rule of an app instance, as the MEP manager would.
    pub fn put_traffic_rule(
        &self,
        app_instance_id: &str,
        rule: TrafficRule,
    ) -> Result<(), ApiError> {
        let mut state = self.mep.lock();
        let app = state.apps.get_mut(app_instance_id).ok_or_else(|| {
            ApiError::not_found(format!("app instance {app_instance_id} not found"))
        })?;
        app.traffic_rules.insert(rule.traffic_rule_id.clone(), rule);
        Ok(())
    }

    /// Sets (adds or replaces) a DNS rule of an app instance, as the MEP manager would.
    pub fn put_dns_rule(&self, app_instance_id: &str, rule: DnsRule) -> Result<(), ApiError> {
        let mut state = self.mep.lock();
        let app = state.apps.get_mut(app_instance_id).ok_or_else(|| {
            ApiError::not_found(format!("app instance {app_instance_id} not found"))
        })?;
        app.dns_rules.insert(rule.dns_rule_id.clone(), rule);
        Ok(())
    }

    /// What happened so far (service changes, confirmations, terminations, dropped notifications), in order.
    pub fn events(&self) -> Vec<Event> {
        self.mep.inner.events.snapshot()
    }

    // ---- triggers ----

    /// Starts terminating an app instance, as the MEP manager does: the app's termination subscribers get an
    /// `AppTerminationNotification`; the termination completes when the app confirms it, or after
    /// `maxGracefulTimeout` seconds of real time. Without subscribers it completes at once.
    pub fn terminate(&self, app_instance_id: &str) -> Result<AppState, ApiError> {
        self.mep.terminate(app_instance_id)
    }

    /// Changes a service's state, as the platform might, and notifies subscribers (`STATE_CHANGED`).
    pub fn set_service_state(
        &self,
        ser_instance_id: &str,
        state: ServiceState,
    ) -> Result<(), ApiError> {
        self.mep.set_service_state(ser_instance_id, state)
    }

    /// Makes every token issued so far invalid; the next request with one gets 401.
    pub fn expire_tokens(&self) {
        self.tokens.expire_all();
    }

    /// Checks a token as the mock's Mp1 routes do and returns its claims.
    pub fn check_token(&self, token: &str) -> Result<Claims, ApiError> {
        self.tokens.check(token)
    }

    // ---- clock ----

    /// The mock's clock, unless it runs on the system clock.
    pub fn clock(&self) -> Option<&ManualClock> {
        self.manual_clock.as_ref()
    }

    /// Moves the mock's clock forward (tokens expire, heartbeats fall due). Does nothing on the system clock.
    pub fn advance(&self, by: Duration) {
        if let Some(c) = &self.manual_clock {
            c.advance(by);
        }
    }

    /// The mock's current time.
    pub fn now(&self) -> std::time::SystemTime {
        self.mep.inner.clock.now()
    }

    // ---- faults ----

    /// Injects a fault on every request matching `matcher`.
    pub fn inject(&self, matcher: RequestMatcher, fault: Fault) {
        self.recorder.inject(matcher, fault, None);
    }

    /// Injects a fault on the next `times` requests matching `matcher`.
    pub fn inject_times(&self, matcher: RequestMatcher, fault: Fault, times: usize) {
        self.recorder.inject(matcher, fault, Some(times));
    }

    /// Removes every injected route fault.
    pub fn clear_faults(&self) {
        self.recorder.clear_faults();
    }

    /// Drops (does not send) notifications while on.
    pub fn drop_notifications(&self, on: bool) {
        self.mep.inner.faults.set_drop_notifications(on);
    }

    /// Delays notifications by this much (zero to stop).
    pub fn delay_notifications(&self, by: Duration) {
        self.mep.inner.faults.set_notification_delay(by);
    }

    // ---- requests and expectations ----

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.recorder.requests()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.recorder.clear();
    }

    /// Expects `times` requests matching `matcher`; checked by [`verify`](Self::verify) and on drop.
    pub fn expect(&self, name: impl Into<String>, matcher: RequestMatcher, times: Times) {
        self.recorder.expect(Expectation {
            name: name.into(),
            matcher,
            times,
        });
    }

    /// Expects the app instance to register at least one service.
    pub fn expect_registration(&self, app_instance_id: &str) {
        self.expect(
            format!("service registration by {app_instance_id}"),
            RequestMatcher::any()
                .method(Method::POST)
                .path_ends_with("/services")
                .app_instance(app_instance_id),
            Times::AtLeast(1),
        );
    }

    /// Expects the app instance to confirm it is ready, once.
    pub fn expect_confirm_ready(&self, app_instance_id: &str) {
        self.expect(
            format!("ready confirmation by {app_instance_id}"),
            RequestMatcher::any()
                .method(Method::POST)
                .path_ends_with("/confirm_ready")
                .app_instance(app_instance_id),
            Times::Exactly(1),
        );
    }

    /// Expects the app instance to confirm its termination, once.
    pub fn expect_confirm_termination(&self, app_instance_id: &str) {
        self.expect(
            format!("termination confirmation by {app_instance_id}"),
            RequestMatcher::any()
                .method(Method::POST)
                .path_ends_with("/confirm_termination")
                .app_instance(app_instance_id),
            Times::Exactly(1),
        );
    }

    /// Checks every expectation now.
    pub fn verify(&self) -> Result<(), VerificationError> {
        self.recorder.verify()
    }

    /// A termination subscription the app could make, for code that sets one up directly.
    pub fn termination_subscription(
        app_instance_id: &str,
        callback: &str,
    ) -> AppTerminationNotificationSubscription {
        AppTerminationNotificationSubscription::new(callback.to_owned(), app_instance_id.to_owned())
    }
}

impl Drop for MockMep {
    #[allow(clippy::panic)]
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Err(e) = self.recorder.verify()
            && !std::thread::panicking()
        {
            panic!("{e}");
        }
    }
}
