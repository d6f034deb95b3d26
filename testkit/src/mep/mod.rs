//! [`MockMep`]: the `mec-mep` engine on a memory store and a manual clock, served on 127.0.0.1, with a recorder,
//! expectations and faults.

mod clock;
mod control;
mod events;
mod faults;
mod recorder;

pub use mec_mep::auth::{Claims, TOKEN_PATH};
pub use mec_mep::engine::{AppState, DeliveryRecord, DeliveryStats, Event};
pub use mec_mep::{AppInstance, Profile, Seed, SeedError};
pub use recorder::{
    Answered, ExpectationStatus, Fault, FaultStatus, RecordedRequest, RequestMatcher, Times,
    VerificationError,
};

use axum::Router;
use clock::{MockClock, ShiftedClock};
use control::Shared;
use events::EventLog;
use faults::NotificationFaults;
use http::Method;
use mec_core::server::ApiError;
use mec_core::signature::Credentials;
use mec_core::{ManualClock, SharedClock};
use mec_mep::auth::{AuthConfig, SigningKeys, TokenService};
use mec_mep::dns::{DnsConfig, DnsCounters, DnsServer};
use mec_mep::engine::DeliveryConfig;
use mec_mep::server::{self, HttpLimits, Mm5Access, Mp1Options, StatusSections};
use mec_mep::store::{MemoryStore, Store};
use mec_mep::{Engine, EngineConfig};
use mec_mp1::model::{
    AppTerminationNotificationSubscription, DnsRule, GrantType, OAuth2Info, SecurityInfo,
    ServiceInfo, ServiceState, TrafficRule, TransportInfo,
};
pub(crate) use recorder::Recorder;
#[cfg(feature = "appstore")]
pub(crate) use recorder::record;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

/// The liveness interval the mock assigns when a service asks for 0 ("let the MEP choose").
pub const DEFAULT_LIVENESS_INTERVAL: u32 = 60;

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
    /// The store could not be opened or read.
    #[error("cannot open the store: {0}")]
    Store(String),
    /// The seed is inconsistent (for example two apps with one id).
    #[error("invalid seed: {0}")]
    Seed(String),
    /// The DNS responder could not start.
    #[error(transparent)]
    Dns(#[from] mec_mep::dns::DnsError),
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
    engine: EngineConfig,
    store: Option<PathBuf>,
    record_limit: usize,
    event_limit: usize,
    mm5_secret: Option<String>,
    auth_config: AuthConfig,
    dns: Option<DnsConfig>,
    http: HttpLimits,
    control: bool,
    control_hosts: Vec<String>,
}

#[derive(Debug)]
enum ClockChoice {
    Manual(ManualClock),
    System,
}

impl Default for MockMepBuilder {
    fn default() -> Self {
        let mut engine = EngineConfig::default();
        engine.default_liveness_interval = DEFAULT_LIVENESS_INTERVAL;
        let mut delivery = DeliveryConfig::default();
        delivery.timeout = Duration::from_secs(2);
        delivery.initial_backoff = Duration::from_millis(50);
        delivery.max_backoff = Duration::from_secs(2);
        engine.delivery = delivery;
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: Seed::default(),
            auth: true,
            clock: ClockChoice::Manual(ManualClock::starting_now()),
            token_lifetime: Duration::from_secs(3600),
            engine,
            store: None,
            record_limit: recorder::DEFAULT_RECORD_LIMIT,
            event_limit: events::DEFAULT_EVENT_LIMIT,
            mm5_secret: Some(uuid::Uuid::new_v4().simple().to_string()),
            auth_config: AuthConfig::permissive(),
            dns: None,
            http: HttpLimits::default(),
            control: true,
            control_hosts: Vec::new(),
        }
    }
}

/// The signing key of every mock in this process: generating an RSA key takes a while, and a mock's tokens need
/// no secrecy beyond the process.
fn mock_signing_keys() -> Result<SigningKeys, StartError> {
    static KEYS: std::sync::OnceLock<Result<SigningKeys, String>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| SigningKeys::generate().map_err(|e| e.to_string()))
        .clone()
        .map_err(StartError::Store)
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

    /// Uses this clock for token expiry, heartbeats, notification retries and the timing API (default: a
    /// [`ManualClock`] started at the current time, moved only by [`MockMep::advance`]).
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = ClockChoice::Manual(clock);
        self
    }

    /// Follows real time (as the `mock-mep` binary does): the system clock, shifted forward by every
    /// [`MockMep::advance`].
    pub fn system_clock(mut self) -> Self {
        self.clock = ClockChoice::System;
        self
    }

    /// How long issued tokens stay valid (default one hour).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// MEP-auth's protections (rate limits, lockout, allow list, client binding); the mock's default turns the
    /// rate limits and the lockout off, so they never get in a test's way unless asked for.
    pub fn auth_config(mut self, config: AuthConfig) -> Self {
        self.auth_config = config;
        self
    }

    /// The bearer secret the MEP manager must send on Mm5 (default: a random one, [`MockMep::mm5_secret`]).
    pub fn mm5_secret(mut self, secret: impl Into<String>) -> Self {
        self.mm5_secret = Some(secret.into());
        self
    }

    /// Serves Mm5 without credentials, as EdgeGallery's MEP does for its MEP manager (which sends none). Anyone
    /// who reaches the mock can then configure and terminate apps.
    pub fn open_mm5(mut self) -> Self {
        self.mm5_secret = None;
        self
    }

    /// The `maxGracefulTimeout` sent in termination notifications, in seconds, after which the termination
    /// completes without the app's confirmation (default 10, on the mock's clock).
    pub fn max_graceful_timeout(mut self, seconds: u32) -> Self {
        self.engine.max_graceful_timeout = seconds;
        self
    }

    /// Whose behaviour to follow where ETSI and EdgeGallery disagree (default [`Profile::Etsi`]; see
    /// [`mec_mep::profile`]). In the EdgeGallery profile the token endpoint also accepts `x-sdk-date` values up to
    /// [`EDGEGALLERY_MAX_SKEW`](mec_mep::profile::EDGEGALLERY_MAX_SKEW) away (mep-agent signs in local time), or
    /// the [`auth_config`](Self::auth_config)'s `max_skew` if larger. Set it after
    /// [`engine_config`](Self::engine_config), which replaces it.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.engine.profile = profile;
        self
    }

    /// How notifications are delivered (time limit, attempts, backoff on the mock's clock).
    pub fn delivery(mut self, config: DeliveryConfig) -> Self {
        self.engine.delivery = config;
        self
    }

    /// The engine's settings (limits, intervals); the other builder methods change parts of it.
    pub fn engine_config(mut self, config: EngineConfig) -> Self {
        self.engine = config;
        self
    }

    /// Keeps the MEP's state in this file (an embedded database) instead of memory, so it survives restarts.
    pub fn store(mut self, path: impl Into<PathBuf>) -> Self {
        self.store = Some(path.into());
        self
    }

    /// Writes HTTP/1 header names in title case (`Content-Type`, `Location`, `ETag`: the default, for clients
    /// that look them up case-sensitively) or, with `false`, in lower case.
    pub fn title_case_headers(mut self, on: bool) -> Self {
        self.http.title_case_headers = on;
        self
    }

    /// How many requests the recorder keeps (default 1,000; older ones are forgotten, but still counted by
    /// expectations).
    pub fn record_limit(mut self, requests: usize) -> Self {
        self.record_limit = requests;
        self
    }

    /// How many events [`MockMep::events`] keeps (default 1,000; older ones are forgotten).
    pub fn event_limit(mut self, events: usize) -> Self {
        self.event_limit = events;
        self
    }

    /// Also answers DNS queries for the DNS rules on `addr`, over UDP and TCP (`127.0.0.1:0` for a free port;
    /// [`MockMep::dns_addr`] tells which), with the responder's defaults: names no rule holds are refused, 200
    /// queries a second per source (measured on the mock's clock, see [`MockMep::advance`]). Off by default.
    pub fn dns(mut self, addr: SocketAddr) -> Self {
        self.dns = Some(DnsConfig::new(addr));
        self
    }

    /// Also answers DNS queries for the DNS rules, configured in full (forwarding, limits, timeouts).
    pub fn dns_config(mut self, config: DnsConfig) -> Self {
        self.dns = Some(config);
        self
    }

    /// Serves no control API and no dashboard (`/_mock/...`, on by default; see [`MockMep::control_url`]).
    pub fn without_control(mut self) -> Self {
        self.control = false;
        self
    }

    /// Lets the control API answer calls that name the mock as `host` (e.g. `mock-mep` in a container network):
    /// by default it answers only calls to an IP address or `localhost`, so that a web page whose name was
    /// rebound to the mock's address cannot drive it.
    pub fn control_host(mut self, host: impl Into<String>) -> Self {
        self.control_hosts.push(host.into());
        self
    }

    /// The engine alone, with the seed applied, without a server: serve it with `mec_mp1::server::router` or call
    /// its trait methods directly.
    pub async fn build_engine(self) -> Result<Engine, StartError> {
        let parts = self.into_parts().await?;
        if parts.default_transports {
            parts
                .engine
                .set_transports(default_transports("http://localhost"))
                .await
                .map_err(|e| StartError::Store(e.to_string()))?;
        }
        Ok(parts.engine)
    }

    async fn into_parts(mut self) -> Result<Parts, StartError> {
        let mock_clock = match self.clock {
            ClockChoice::Manual(c) => MockClock::Manual(c),
            ClockChoice::System => MockClock::Shifted(ShiftedClock::default()),
        };
        let clock: SharedClock = mock_clock.shared();
        let store: Arc<dyn Store> = match &self.store {
            None => Arc::new(MemoryStore::new()),
            Some(path) => Arc::new(
                mec_mep::store::FileStore::open(path)
                    .map_err(|e| StartError::Store(e.to_string()))?,
            ),
        };
        let engine = Engine::open_shared(store, clock, self.engine)
            .await
            .map_err(|e| StartError::Store(e.to_string()))?;
        let events = EventLog::new(self.event_limit);
        engine.set_observer(Arc::new(events.clone()));
        let faults = Arc::new(NotificationFaults::default());
        engine.set_delivery_interceptor(Some(faults.clone()));
        if self.seed.apps.is_empty() {
            self.seed
                .apps
                .push(AppInstance::new(uuid::Uuid::new_v4().to_string()));
        }
        let default_transports = self.seed.transports.is_none() && engine.transports().is_empty();
        let provisioned = self
            .seed
            .apply(&engine)
            .await
            .map_err(|e| StartError::Seed(e.to_string()))?;
        let mut auth_config = self.auth_config;
        auth_config.token_lifetime = self.token_lifetime;
        auth_config.max_skew = engine
            .config()
            .profile
            .max_skew(auth_config.max_skew, mec_mep::profile::EDGEGALLERY_MAX_SKEW);
        let tokens = TokenService::for_engine(&engine, mock_signing_keys()?, auth_config);
        Ok(Parts {
            engine,
            tokens,
            clock: mock_clock,
            seed: self.seed,
            control: self.control,
            control_hosts: self.control_hosts,
            provisioned,
            events,
            faults,
            default_transports,
            auth: self.auth,
            listen: self.listen,
            record_limit: self.record_limit,
            http: self.http,
            mm5_secret: self.mm5_secret,
            dns: self.dns,
        })
    }

    /// Starts the mock. Without any app configured, one demo app instance is provisioned.
    pub async fn start(self) -> Result<MockMep, StartError> {
        let parts = self.into_parts().await?;
        let listener = server::bind(parts.listen).await.map_err(|e| match e {
            server::ServeError::Bind { addr, source } => StartError::Bind { addr, source },
            other => StartError::Store(other.to_string()),
        })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: parts.listen,
            source,
        })?;
        let url = format!("http://{addr}");
        parts.engine.set_public_url(&url);
        let offered = default_transports(&url);
        if parts.default_transports {
            parts
                .engine
                .set_transports(offered.clone())
                .await
                .map_err(|e| StartError::Store(e.to_string()))?;
        }
        // On the mock's manual clock, rate limits follow it (moved by `advance`); on the system clock, real time.
        let dns = match parts.dns {
            Some(config) if parts.clock.manual().is_some() => {
                Some(DnsServer::start_on_engine_clock(&parts.engine, config).await?)
            }
            Some(config) => Some(DnsServer::start(&parts.engine, config).await?),
            None => None,
        };
        let mut sections = StatusSections::default();
        if let Some(dns) = &dns {
            sections = sections.with("dns", dns.counters_source());
        }
        let limits = parts.http.clone();
        let recorder = Recorder::new(parts.record_limit);
        let mut options = Mp1Options::default();
        options.require_tokens = parts.auth;
        let mut access = Mm5Access::default();
        access.bearer_secret.clone_from(&parts.mm5_secret);
        access.tokens = Some(parts.tokens.clone());
        let shared = Arc::new(Shared::new(
            parts.engine.clone(),
            parts.tokens.clone(),
            recorder.clone(),
            parts.events,
            parts.faults,
            parts.clock,
            parts.provisioned,
            parts.seed,
            Some(offered),
            parts.control_hosts,
        ));
        let mut router: Router = server::mp1_router(&parts.engine, &parts.tokens, &options)
            .merge(server::management_router_with(
                &parts.engine,
                &access,
                sections,
            ))
            .merge(server::health_router())
            .layer(axum::middleware::from_fn_with_state(
                recorder,
                recorder::record,
            ));
        if parts.control {
            // Merged after the recorder's layer: control calls are not recorded, and stay off the Mp1 token path.
            router = router.merge(control::http::router(shared.clone()));
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server::serve(listener, router, limits, None, async {
            let _ = stopped.await;
        }));
        Ok(MockMep {
            url,
            addr,
            shared,
            control: parts.control,
            mm5_secret: parts.mm5_secret,
            stop: Some(stop),
            dns,
        })
    }
}

struct Parts {
    http: HttpLimits,
    engine: Engine,
    tokens: TokenService,
    clock: MockClock,
    seed: Seed,
    control: bool,
    control_hosts: Vec<String>,
    provisioned: Vec<(String, Credentials)>,
    events: EventLog,
    faults: Arc<NotificationFaults>,
    default_transports: bool,
    auth: bool,
    listen: SocketAddr,
    record_limit: usize,
    mm5_secret: Option<String>,
    dns: Option<DnsConfig>,
}

/// The transport EdgeGallery's MEP offers: REST over HTTP with MEP-auth tokens.
fn default_transports(base_url: &str) -> Vec<TransportInfo> {
    vec![
        TransportInfo::rest_http(format!("{base_url}/mep"))
            .with_id("0f4a39a1f1f84a9c9f5e8b6d2c7e3a10")
            .with_description("REST API")
            .with_security(SecurityInfo::oauth2(OAuth2Info::new(
                vec![GrantType::Oauth2ClientCredentials],
                Some(format!("{base_url}{TOKEN_PATH}")),
            ))),
    ]
}

/// A MEP served on 127.0.0.1 for tests and local development: the production engine (`mec-mep`) on a memory
/// store and a manual clock, with a recorder, expectations and faults.
///
/// Behaviour is real: registrations persist for the life of the mock, discovery filters work, subscriptions get
/// real HTTP callbacks (retried on the mock's clock: [`advance`](Self::advance) it), rules can be read and
/// updated, confirmations change the app's state, tokens expire. The last requests are recorded; expectations
/// count requests answered 2xx and are checked when the mock is dropped (without panicking twice).
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
    /// The state the control API shares.
    shared: Arc<Shared>,
    control: bool,
    mm5_secret: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    dns: Option<DnsServer>,
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

    /// Where the DNS responder answers (UDP and TCP), when it was asked for
    /// ([`MockMepBuilder::dns`]).
    pub fn dns_addr(&self) -> Option<SocketAddr> {
        self.dns.as_ref().map(DnsServer::local_addr)
    }

    /// The DNS responder's counters (also on `GET /mep/status`, member `dns`), when it runs.
    pub fn dns_counters(&self) -> Option<DnsCounters> {
        self.dns.as_ref().map(DnsServer::counters)
    }

    /// The bearer secret Mm5 requires (`None` when the mock was built with [`MockMepBuilder::open_mm5`]).
    pub fn mm5_secret(&self) -> Option<&str> {
        self.mm5_secret.as_deref()
    }

    /// An Mm5 client for this mock, as the MEP manager (with the Mm5 secret).
    #[allow(clippy::panic)]
    pub fn mm5_client(&self) -> mec_mm5::Client {
        let auth = match &self.mm5_secret {
            Some(s) => mec_core::client::Auth::Bearer(s.clone()),
            None => mec_core::client::Auth::None,
        };
        match mec_mm5::Client::builder(self.url()).auth(auth).build() {
            Ok(c) => c,
            Err(e) => panic!("cannot build an Mm5 client: {e}"),
        }
    }

    /// The token service (to issue or check tokens directly).
    pub fn tokens(&self) -> &TokenService {
        &self.shared.tokens
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
        self.shared.apps()
    }

    /// The credentials of an app instance.
    pub fn credentials(&self, app_instance_id: &str) -> Option<Credentials> {
        self.apps()
            .into_iter()
            .find(|(id, _)| id == app_instance_id)
            .map(|(_, c)| c)
    }

    /// Adds an app instance while the mock runs; returns its credentials.
    pub async fn add_app(&self, app: AppInstance) -> Result<Credentials, ApiError> {
        self.shared.add_app(app).await
    }

    /// Back to the seed the mock started from (or the last one [loaded](Self::load_seed)): the MEP's state is
    /// cleared and the seed applied again with the same credentials; recorded requests, expectations, route and
    /// notification faults and events are forgotten. The clock is not moved back, and tokens issued before stay
    /// valid until they expire ([`expire_tokens`](Self::expire_tokens) ends them). Returns the apps provisioned.
    /// `POST /_mock/reset` does the same.
    pub async fn reset(&self) -> Result<Vec<(String, Credentials)>, ApiError> {
        self.shared.reset().await
    }

    /// Replaces the seed (checked first: a bad one changes nothing, 400) and [resets](Self::reset) to it.
    /// `PUT /_mock/seed` does the same.
    pub async fn load_seed(&self, seed: Seed) -> Result<Vec<(String, Credentials)>, ApiError> {
        self.shared.load_seed(seed).await
    }

    /// The seed a [reset](Self::reset) returns to, with every credential resolved.
    pub fn seed(&self) -> Seed {
        self.shared
            .seed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The control API's root (`{url}/_mock`) and the dashboard's parent, unless the mock was built
    /// [without](MockMepBuilder::without_control) them.
    pub fn control_url(&self) -> Option<String> {
        self.control
            .then(|| format!("{}{}", self.url, control::http::PREFIX))
    }

    /// The engine behind the server, to use its trait implementations and state directly.
    pub fn engine(&self) -> &Engine {
        &self.shared.engine
    }

    // ---- state ----

    /// The state of an app instance.
    pub fn app_state(&self, app_instance_id: &str) -> Option<AppState> {
        self.shared.engine.app_state(app_instance_id)
    }

    /// Every registered service.
    pub fn services(&self) -> Vec<ServiceInfo> {
        self.shared.engine.services()
    }

    /// An app instance's traffic rules as the MEP holds them.
    pub fn traffic_rules(&self, app_instance_id: &str) -> Vec<TrafficRule> {
        self.shared.engine.traffic_rules(app_instance_id)
    }

    /// An app instance's DNS rules as the MEP holds them.
    pub fn dns_rules(&self, app_instance_id: &str) -> Vec<DnsRule> {
        self.shared.engine.dns_rules(app_instance_id)
    }

    /// Sets (adds or replaces) a traffic rule of an app instance, as the MEP manager would.
    pub async fn put_traffic_rule(
        &self,
        app_instance_id: &str,
        rule: TrafficRule,
    ) -> Result<(), ApiError> {
        self.shared
            .engine
            .set_traffic_rule(app_instance_id, rule)
            .await
    }

    /// Sets (adds or replaces) a DNS rule of an app instance, as the MEP manager would.
    pub async fn put_dns_rule(&self, app_instance_id: &str, rule: DnsRule) -> Result<(), ApiError> {
        self.shared.engine.set_dns_rule(app_instance_id, rule).await
    }

    /// What happened so far (service changes, confirmations, terminations, notifications), in order (the last
    /// 1,000 events, or as many as [`MockMepBuilder::event_limit`] says).
    pub fn events(&self) -> Vec<Event> {
        self.shared.events.snapshot()
    }

    /// Notification delivery counters.
    pub fn delivery_stats(&self) -> DeliveryStats {
        self.shared.engine.delivery_stats()
    }

    /// The last notifications and how they ended.
    pub fn notifications(&self) -> Vec<DeliveryRecord> {
        self.shared.engine.recent_deliveries()
    }

    // ---- triggers ----

    /// Starts terminating an app instance, as the MEP manager does: the app's termination subscribers get an
    /// `AppTerminationNotification`; the termination completes when the app confirms it, or after
    /// `maxGracefulTimeout` seconds of the mock's clock. Without subscribers it completes at once.
    pub async fn terminate(&self, app_instance_id: &str) -> Result<AppState, ApiError> {
        self.shared.terminate(app_instance_id).await
    }

    /// Changes a service's state, as the platform might, and notifies subscribers (`STATE_CHANGED`).
    pub async fn set_service_state(
        &self,
        ser_instance_id: &str,
        state: ServiceState,
    ) -> Result<(), ApiError> {
        self.shared.set_service_state(ser_instance_id, state).await
    }

    /// Makes every token issued so far invalid; the next request with one gets 401.
    pub fn expire_tokens(&self) {
        self.shared.expire_all_tokens();
    }

    /// Revokes the tokens one app instance holds now (its next request with one gets 401).
    pub async fn expire_app_tokens(&self, app_instance_id: &str) -> Result<(), ApiError> {
        self.shared.expire_tokens(Some(app_instance_id)).await
    }

    /// Sets an app's Mm5 configuration as the MEP manager does (`appName`, rules, `appSupportMp1`): created, or
    /// updated when the app has one. `PUT /_mock/apps/{id}/config` does the same.
    pub async fn configure(
        &self,
        app_instance_id: &str,
        config: mec_mm5::model::AppDConfig,
    ) -> Result<mec_mm5::model::TaskProgress, ApiError> {
        self.shared.configure(app_instance_id, config).await
    }

    /// Checks a token as the mock's Mp1 routes do and returns its claims.
    pub async fn check_token(&self, token: &str) -> Result<Claims, ApiError> {
        self.shared.tokens.authenticate(token, None).await
    }

    // ---- clock ----

    /// The mock's clock, unless it runs on the system clock.
    pub fn clock(&self) -> Option<&ManualClock> {
        self.shared.clock.manual()
    }

    /// Moves the mock's clock forward: tokens expire, heartbeats fall due, retries and termination deadlines
    /// come. The background sweep runs soon after; [`sweep`](Self::sweep) runs it now, and
    /// [`advance_and_sweep`](Self::advance_and_sweep) does both. On a mock following real time
    /// ([`MockMepBuilder::system_clock`]) the move adds to real time.
    pub fn advance(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// Moves the clock (at most a hundred years at once, 400 past that) and runs the background pass at once, as
    /// `POST /_mock/clock/advance` does: services whose heartbeats are overdue are suspended (and subscribers
    /// told) before this returns. Returns the new time.
    pub async fn advance_and_sweep(&self, by: Duration) -> Result<std::time::SystemTime, ApiError> {
        self.shared.advance(by, true).await
    }

    /// Runs the MEP's background pass now: services whose heartbeats stopped are suspended (and subscribers
    /// told), terminations past their deadline complete.
    pub async fn sweep(&self) -> Result<(), ApiError> {
        self.shared.engine.sweep().await
    }

    /// The mock's current time.
    pub fn now(&self) -> std::time::SystemTime {
        self.shared.engine.clock().now()
    }

    // ---- faults ----

    /// Injects a fault on every request matching `matcher`.
    pub fn inject(&self, matcher: RequestMatcher, fault: Fault) {
        self.shared.inject(matcher, fault, None);
    }

    /// Injects a fault on the next `times` requests matching `matcher`.
    pub fn inject_times(&self, matcher: RequestMatcher, fault: Fault, times: usize) {
        self.shared.inject(matcher, fault, Some(times));
    }

    /// Removes every injected route and notification fault.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// The route faults in force (counted ones until they wear off).
    pub fn faults(&self) -> Vec<FaultStatus> {
        self.shared.faults()
    }

    /// Drops (does not send) notifications while on; each counts as dropped.
    pub fn drop_notifications(&self, on: bool) {
        self.shared.faults.set_drop(on);
    }

    /// Delays notifications by this much of real time (zero to stop).
    pub fn delay_notifications(&self, by: Duration) {
        self.shared.faults.set_delay(by);
    }

    /// Fails the next `attempts` delivery attempts (they are retried as real failures are, on the mock's clock).
    pub fn fail_notifications(&self, attempts: u32) {
        self.shared.faults.fail_next(attempts);
    }

    // ---- requests and expectations ----

    /// The last requests received (at most the record limit), in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.recorder.requests()
    }

    /// Requests received in all, including those no longer kept.
    pub fn requests_received(&self) -> u64 {
        self.shared.recorder.received()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.shared.recorder.clear();
    }

    /// Expects `times` requests matching `matcher` answered 2xx; checked by [`verify`](Self::verify) and on drop.
    pub fn expect(&self, name: impl Into<String>, matcher: RequestMatcher, times: Times) {
        self.expect_answered(name, matcher, times, Answered::Successfully);
    }

    /// Expects `times` requests matching `matcher` with answers as `answered` says.
    pub fn expect_answered(
        &self,
        name: impl Into<String>,
        matcher: RequestMatcher,
        times: Times,
        answered: Answered,
    ) {
        self.shared.expect(name.into(), matcher, times, answered);
    }

    /// Expects the app instance to register at least one service (successfully).
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

    /// Expects the app instance to confirm it is ready, once (successfully).
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

    /// Expects the app instance to confirm its termination, once (successfully).
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

    /// Every expectation and how far it is met (`GET /_mock/expectations`).
    pub fn expectations(&self) -> Vec<ExpectationStatus> {
        self.shared.expectations()
    }

    /// Forgets every expectation (`DELETE /_mock/expectations`).
    pub fn clear_expectations(&self) {
        self.shared.recorder.clear_expectations();
    }

    /// Checks every expectation now.
    pub fn verify(&self) -> Result<(), VerificationError> {
        self.shared.recorder.verify()
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
        // Dropping the DNS responder stops it.
        self.dns.take();
        self.shared.engine.shutdown();
        if let Err(e) = self.shared.recorder.verify()
            && !std::thread::panicking()
        {
            panic!("{e}");
        }
    }
}
