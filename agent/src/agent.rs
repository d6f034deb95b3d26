//! The agent's flow: token, registrations, subscriptions, `confirm_ready`, then renewals and heartbeats until
//! shutdown, then deregistration.

use crate::api;
use crate::clock::AgentClock;
use crate::config::AgentConfig;
use crate::error::Error;
use crate::status::{
    AgentStatus, Phase, Registration, ServiceStatus, SubscriptionStatus, TokenStatus,
};
use crate::token::TokenSource;
use futures_util::future::join_all;
use mec_core::client::HttpClient;
use mec_mp1::Error as ClientError;
use mec_mp1::client::{AppClient, Client};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The sidecar: gets and renews the app's token, registers its services and keeps them alive, makes its
/// subscriptions, serves the local API, and deregisters everything on shutdown.
///
/// ```no_run
/// # async fn run(config: mec_agent::AgentConfig) -> Result<(), mec_agent::Error> {
/// use mec_agent::{Agent, AgentClock};
///
/// let agent = Agent::bind(config, AgentClock::system()).await?;
/// println!("local API on http://{}", agent.local_addr());
/// agent.run_until(async { tokio::signal::ctrl_c().await.ok(); }).await
/// # }
/// ```
#[derive(Debug)]
pub struct Agent {
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
}

/// What the flow and the local API share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: AgentConfig,
    pub(crate) clock: AgentClock,
    pub(crate) tokens: Arc<TokenSource>,
    pub(crate) client: Client,
    pub(crate) status: watch::Sender<AgentStatus>,
}

fn client_config_error(e: &dyn std::fmt::Display) -> Error {
    Error::Config(format!("MEP client: {e}"))
}

impl Agent {
    /// Checks the configuration, builds the MEP clients and binds the local API's socket (so a port in use
    /// fails here, before anything is sent to the MEP). Nothing is sent until [`run_until`](Self::run_until).
    pub async fn bind(config: AgentConfig, clock: AgentClock) -> Result<Self, Error> {
        let tls_verified = !config.tls.insecure_skip_verify && config.api_root.scheme() == "https";
        if config.tls.insecure_skip_verify {
            tracing::warn!(
                "TLS CERTIFICATE CHECKS ARE OFF (insecure-skip-tls-verify): anyone on the path to the MEP can \
                 read the app's token and pose as the MEP. Give the MEP's CA with --ca-cert / CA_CERT instead."
            );
        } else if config.api_root.scheme() == "http" {
            tracing::warn!(
                "the MEP is reached over plain HTTP ({}): the app's token crosses the network unencrypted",
                config.api_root
            );
        }
        if !config.listen.ip().is_loopback() {
            tracing::warn!(
                "the local API listens on {}: it hands the app's token to anyone who can reach that address",
                config.listen
            );
        }
        let origin = config
            .token_url
            .join("/")
            .map_err(|e| Error::Config(format!("token URL {}: {e}", config.token_url)))?;
        let mut token_http = HttpClient::builder(origin.as_str())
            .timeout(Some(config.request_timeout))
            .danger_accept_invalid_certs(config.tls.insecure_skip_verify);
        let mut client = Client::builder(config.api_root.as_str())
            .timeout(config.request_timeout)
            .danger_accept_invalid_certs(config.tls.insecure_skip_verify)
            .liveness_method(config.liveness_method);
        if let Some(pem) = &config.tls.ca_pem {
            token_http = token_http.add_root_certificate_pem(pem.clone());
            client = client.add_root_certificate_pem(pem.clone());
        }
        let token_http = token_http.build().map_err(|e| client_config_error(&e))?;
        let tokens = Arc::new(
            TokenSource::new(
                token_http,
                &config.token_url,
                config.credentials.clone(),
                clock.clone(),
            )
            .map_err(|e| client_config_error(&e))?,
        );
        let client = client
            .token_provider(tokens.clone())
            .build()
            .map_err(|e| client_config_error(&e))?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Listen {
                addr: config.listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| Error::Listen {
            addr: config.listen,
            source,
        })?;
        let status = AgentStatus {
            phase: Phase::Starting,
            app_instance_id: config.app_instance_id.clone(),
            tls_verified,
            token: TokenStatus::default(),
            services: config
                .services
                .iter()
                .map(|s| ServiceStatus::pending(s.ser_name.clone()))
                .collect(),
            subscriptions: config
                .subscriptions
                .iter()
                .map(|s| SubscriptionStatus {
                    callback_reference: s.callback_reference.clone(),
                    registration: Registration::Pending,
                    href: None,
                    last_error: None,
                })
                .collect(),
            ready_confirmed: false,
            error: None,
        };
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                clock,
                tokens,
                client,
                status: watch::Sender::new(status),
            }),
            listener,
            local_addr,
        })
    }

    /// The local API's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The agent's state, updated as it works: `wait_for` on the receiver waits for a registration, a renewal or
    /// a heartbeat.
    pub fn status(&self) -> watch::Receiver<AgentStatus> {
        self.shared.status.subscribe()
    }

    /// Runs the agent until `shutdown` completes or a fatal error, then deregisters its services and deletes
    /// its subscriptions (bounded by the configured shutdown timeout) and stops the local API.
    ///
    /// Fatal errors: the first token, a registration, a subscription, `confirm_ready` or a token renewal that
    /// the MEP refuses for good or that fails until the retries run out. Heartbeat failures are not fatal; they
    /// are retried and shown by the health API.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), Error> {
        let Self {
            shared, listener, ..
        } = self;
        let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
        let app = api::router(shared.clone());
        let mut server = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = api_stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "the local API stopped");
            }
        });
        let outcome = tokio::select! {
            e = Box::pin(shared.work()) => Err(e),
            () = shutdown => {
                tracing::info!("shutting down");
                Ok(())
            }
        };
        if let Err(e) = &outcome {
            tracing::error!("{}", error_chain(e));
        }
        shared.update(|s| s.phase = Phase::Stopping);
        let limit = shared.config.shutdown_timeout;
        if tokio::time::timeout(limit, shared.clean_up())
            .await
            .is_err()
        {
            tracing::error!(
                "deregistration did not finish within {limit:?}; the MEP may keep some services or subscriptions"
            );
        }
        shared.update(|s| {
            s.phase = if outcome.is_ok() {
                Phase::Stopped
            } else {
                Phase::Failed
            };
            s.error = outcome.as_ref().err().map(|e| error_chain(e));
        });
        let _ = stop_api.send(());
        // Requests under way get a moment to finish; a client holding its connection open does not hold the
        // agent.
        if tokio::time::timeout(Duration::from_secs(5), &mut server)
            .await
            .is_err()
        {
            server.abort();
            tracing::warn!("the local API still had connections open at exit; they were closed");
        }
        outcome
    }
}

/// An error and its causes on one line, each said once.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    mec_core::client::report(e)
}

/// Whether a failed request may succeed later.
fn retryable(e: &ClientError) -> bool {
    e.is_retryable()
}

impl Shared {
    pub(crate) fn update(&self, f: impl FnOnce(&mut AgentStatus)) {
        self.status.send_modify(f);
    }

    fn app(&self) -> AppClient {
        self.client.app(&self.config.app_instance_id)
    }

    /// Runs `attempt` until it succeeds, backing off on the agent's clock after each retryable failure, at most
    /// `backoff.attempts` times. `on_failure` sees every failure.
    async fn retry<T, F, Fut>(
        &self,
        operation: &str,
        also_retry: fn(&ClientError) -> bool,
        mut attempt: F,
        on_failure: impl Fn(&Self, &ClientError),
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let backoff = self.config.backoff;
        let mut failures = 0u32;
        loop {
            let e = match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            on_failure(self, &e);
            if !retryable(&e) && !also_retry(&e) {
                return Err(Error::Refused {
                    operation: operation.to_owned(),
                    source: e,
                });
            }
            failures += 1;
            if failures >= backoff.attempts {
                return Err(Error::GaveUp {
                    operation: operation.to_owned(),
                    attempts: failures,
                    source: e,
                });
            }
            let delay = backoff.delay(failures);
            tracing::warn!(
                "{operation} failed (attempt {failures} of {}), next try in {delay:?}: {}",
                backoff.attempts,
                error_chain(&e)
            );
            self.clock.sleep(delay).await;
        }
    }

    /// The flow; returns only on a fatal error.
    async fn work(&self) -> Error {
        match self.start().await {
            Ok(()) => {}
            Err(e) => return e,
        }
        self.update(|s| s.phase = Phase::Running);
        tracing::info!("running: services registered, heartbeats and token renewal scheduled");
        let heartbeats = join_all((0..self.config.services.len()).map(|i| self.heartbeats(i)));
        tokio::select! {
            e = self.renewals() => e,
            _ = heartbeats => {
                // Heartbeat loops end only when their service could not be registered again; keep renewing.
                self.renewals().await
            }
        }
    }

    async fn start(&self) -> Result<(), Error> {
        let first = self
            .retry(
                "getting the first token",
                |_| false,
                || async { Ok(self.tokens.renew().await?) },
                Self::token_failed,
            )
            .await?;
        self.token_received(&first, false);
        tracing::info!("token received");
        for i in 0..self.config.services.len() {
            self.register(i).await?;
        }
        for i in 0..self.config.subscriptions.len() {
            self.subscribe(i).await?;
        }
        if self.config.confirm_ready {
            // EdgeGallery answers 409 while the MEP manager is still configuring the app: worth waiting for.
            let app = self.app();
            self.retry(
                "confirming the app is ready",
                ClientError::is_conflict,
                || app.confirm_ready(),
                |_, _| {},
            )
            .await?;
            self.update(|s| s.ready_confirmed = true);
            tracing::info!("confirmed ready");
        }
        Ok(())
    }

    fn token_failed(&self, e: &ClientError) {
        let text = error_chain(e);
        self.update(|s| {
            s.token.failures += 1;
            s.token.last_error = Some(text);
        });
    }

    fn token_received(&self, t: &crate::token::HeldToken, renewal: bool) {
        self.update(|s| {
            s.token.present = true;
            s.token.obtained_at = Some(t.obtained_at);
            s.token.expires_at = Some(t.expires_at);
            s.token.last_error = None;
            if renewal {
                s.token.renewals += 1;
            }
        });
    }

    /// Renews the token a margin before each expiry; returns only when a renewal fails for good.
    async fn renewals(&self) -> Error {
        loop {
            let Some(held) = self.tokens.current() else {
                // Unreachable after `start`; renew at once.
                match self.renew().await {
                    Ok(()) => continue,
                    Err(e) => return e,
                }
            };
            let lifetime = held
                .expires_at
                .duration_since(held.obtained_at)
                .unwrap_or_default();
            let margin = self.config.token_refresh_margin.min(lifetime / 2);
            self.clock.sleep_until(held.expires_at - margin).await;
            // A token fetched meanwhile (after a 401) moves the deadline.
            if self
                .tokens
                .current()
                .is_some_and(|t| t.obtained_at > held.obtained_at)
            {
                continue;
            }
            if let Err(e) = self.renew().await {
                return e;
            }
        }
    }

    async fn renew(&self) -> Result<(), Error> {
        let t = self
            .retry(
                "renewing the token",
                |_| false,
                || async { Ok(self.tokens.renew().await?) },
                Self::token_failed,
            )
            .await?;
        self.token_received(&t, true);
        tracing::info!("token renewed");
        Ok(())
    }

    async fn register(&self, i: usize) -> Result<(), Error> {
        let service = &self.config.services[i];
        let operation = format!("registering service {}", service.ser_name);
        let services = self.app().services();
        let result = self
            .retry(
                &operation,
                |_| false,
                || services.register(service),
                |me, e| me.service_failed(i, e, false),
            )
            .await;
        match result {
            Ok(created) => {
                let info = created.resource;
                let id = info.ser_instance_id.clone().or_else(|| {
                    created
                        .location
                        .as_deref()
                        .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
                        .map(str::to_owned)
                });
                if id.is_none() {
                    tracing::warn!(
                        "the MEP registered {} without telling its serInstanceId: it cannot be kept alive or \
                         deregistered",
                        service.ser_name
                    );
                }
                tracing::info!(
                    "registered {} as {}",
                    service.ser_name,
                    id.as_deref().unwrap_or("?")
                );
                let now = self.clock.now();
                self.update(|s| {
                    let st = &mut s.services[i];
                    st.registration = Registration::Registered;
                    st.ser_instance_id = id;
                    st.liveness_interval = info.liveness_interval.filter(|n| *n > 0);
                    st.liveness_uri = info.liveness_uri().map(str::to_owned);
                    st.registered_at = Some(now);
                    st.last_error = None;
                });
                Ok(())
            }
            Err(e) => {
                self.update(|s| s.services[i].registration = Registration::Failed);
                Err(e)
            }
        }
    }

    fn service_failed(&self, i: usize, e: &ClientError, heartbeat: bool) {
        let text = error_chain(e);
        self.update(|s| {
            let st = &mut s.services[i];
            if heartbeat {
                st.heartbeat_failures += 1;
            }
            st.last_error = Some(text);
        });
    }

    async fn subscribe(&self, i: usize) -> Result<(), Error> {
        let sub = &self.config.subscriptions[i];
        let operation = format!("subscribing {}", sub.callback_reference);
        let subscriptions = self.app().service_subscriptions();
        let result = self
            .retry(
                &operation,
                |_| false,
                || subscriptions.create(sub),
                |me, e| {
                    let text = error_chain(e);
                    me.update(|s| s.subscriptions[i].last_error = Some(text));
                },
            )
            .await;
        match result {
            Ok(created) => {
                let href = created.location.or_else(|| {
                    created
                        .resource
                        .links
                        .as_ref()
                        .map(|l| l.self_.href.clone())
                });
                tracing::info!("subscribed: {}", href.as_deref().unwrap_or("?"));
                self.update(|s| {
                    let st = &mut s.subscriptions[i];
                    st.registration = Registration::Registered;
                    st.href = href;
                    st.last_error = None;
                });
                Ok(())
            }
            Err(e) => {
                self.update(|s| s.subscriptions[i].registration = Registration::Failed);
                Err(e)
            }
        }
    }

    /// Keeps service `i` alive: a heartbeat a little before each interval ends (a tenth of it, at most 5 s,
    /// so the MEP never suspends it for a late one), failures retried with backoff, and the service registered
    /// again when the MEP has forgotten it (404). Returns only if that registration fails for good.
    async fn heartbeats(&self, i: usize) {
        let backoff = self.config.backoff;
        let mut failures = 0u32;
        loop {
            let st = self.status.borrow().services[i].clone();
            let (Some(interval), Some(id)) = (st.liveness_interval, st.ser_instance_id.clone())
            else {
                return;
            };
            let interval = Duration::from_secs(u64::from(interval));
            let period = interval - (interval / 10).min(Duration::from_secs(5));
            // Counted from the last heartbeat, or from the registration if that came later (registered again).
            let last = st
                .last_heartbeat
                .max(st.registered_at)
                .unwrap_or_else(|| self.clock.now());
            let due = if failures == 0 {
                last + period
            } else {
                self.clock.now() + backoff.delay(failures).min(period)
            };
            self.clock.sleep_until(due).await;
            let services = self.app().services();
            let sent = match &st.liveness_uri {
                Some(uri) => services.heartbeat_at(uri).await,
                None => services.heartbeat(&id).await,
            };
            match sent {
                Ok(_) => {
                    failures = 0;
                    let now = self.clock.now();
                    self.update(|s| {
                        let st = &mut s.services[i];
                        st.heartbeats += 1;
                        st.last_heartbeat = Some(now);
                        st.last_error = None;
                    });
                }
                Err(e) if e.is_not_found() => {
                    tracing::warn!(
                        "the MEP no longer knows service {} ({id}); registering it again",
                        st.ser_name
                    );
                    self.service_failed(i, &e, true);
                    if let Err(e) = self.register(i).await {
                        tracing::error!("{}; its heartbeats stop", error_chain(&e));
                        return;
                    }
                    failures = 0;
                    self.update(|s| s.services[i].reregistrations += 1);
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!("heartbeat of {} failed: {}", st.ser_name, error_chain(&e));
                    self.service_failed(i, &e, true);
                }
            }
        }
    }

    /// Deregisters every registered service and deletes every subscription made.
    async fn clean_up(&self) {
        let status = self.status.borrow().clone();
        let services = status.services.iter().enumerate().filter_map(|(i, s)| {
            (s.registration == Registration::Registered)
                .then_some(())
                .and(s.ser_instance_id.clone())
                .map(|id| (i, id))
        });
        let subscriptions = status
            .subscriptions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                (s.registration == Registration::Registered)
                    .then_some(())
                    .and(s.href.clone())
                    .map(|href| (i, href))
            });
        let deregister = join_all(services.map(|(i, id)| async move {
            let services = self.app().services();
            let result = once_more(|| services.delete(&id)).await;
            self.cleaned(result, &format!("service {id}"), |s| {
                &mut s.services[i].registration
            });
        }));
        let unsubscribe = join_all(subscriptions.map(|(i, href)| async move {
            let id = href
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            let subscriptions = self.app().service_subscriptions();
            let result = once_more(|| subscriptions.delete(&id)).await;
            self.cleaned(result, &format!("subscription {href}"), |s| {
                &mut s.subscriptions[i].registration
            });
        }));
        tokio::join!(deregister, unsubscribe);
    }

    fn cleaned(
        &self,
        result: Result<(), ClientError>,
        what: &str,
        field: impl FnOnce(&mut AgentStatus) -> &mut Registration,
    ) {
        match result {
            // Already gone is as good as deleted.
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                tracing::error!("could not delete {what}: {}", error_chain(&e));
                return;
            }
        }
        tracing::info!("deleted {what}");
        self.update(|s| *field(s) = Registration::Deregistered);
    }
}

/// One attempt, and a second right away if the first failed in a way that may pass (at shutdown there is no
/// time for backoff).
async fn once_more<F, Fut>(mut attempt: F) -> Result<(), ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), ClientError>>,
{
    match attempt().await {
        Err(e) if retryable(&e) => attempt().await,
        other => other,
    }
}
