//! The MEP's DNS responder: UEs resolve the domain names of the DNS rules that the MEP manager configures over Mm5
//! and that apps read and (de)activate over Mp1, as EdgeGallery's `mep-dns-server` answers them.
//!
//! [`DnsServer::start`] serves one address over UDP and TCP, on `hickory-server`'s request and response types,
//! with `hickory-resolver` as the forwarding client (feature `dns`). It follows the engine
//! ([`Engine::subscribe_changes`](crate::Engine::subscribe_changes)): no restart is needed for a rule to appear
//! or go, and a query is answered from the state as it is once the call that changed it has returned.
//!
//! # What is answered
//!
//! - Every ACTIVE rule of every app instance that is not terminated: `A` records for `IP_V4` rules, `AAAA` for
//!   `IP_V6`, with the rule's `ttl` (the configured [`default_ttl_secs`](DnsConfig::default_ttl_secs) without
//!   one; several rules for one name form one record set, with the lowest of their TTLs, RFC 2181 section 5.2).
//!   Answers are authoritative (AA), as EdgeGallery's are. INACTIVE rules, deleted rules (an Mm5 configuration
//!   without them) and the rules of terminated apps are not answered.
//! - Names match without regard to case, with or without the final dot.
//! - **Wildcards**: a rule for `*.example.com` answers every name below `example.com` (`a.example.com`,
//!   `a.b.example.com`) that no rule names exactly, and `*.example.com` itself; not `example.com`. The nearest
//!   enclosing wildcard wins (`*.b.example.com` over `*.example.com` for `x.b.example.com`), and answers carry
//!   the name asked (RFC 4592). A `*` anywhere else (`a*.example.com`) is a literal character. EdgeGallery's
//!   dns-server keys its records by the exact name, so there `*.example.com` answers only a query for that
//!   literal name.
//! - **A name held, a type not**: an `A` query for a name with only `IP_V6` rules (or `MX`, `TXT`... for any held
//!   name) is answered `NOERROR` with no records (NODATA, RFC 2308 section 2.2), never `NXDOMAIN`: the name
//!   exists. `ANY` gets the name's `A` and `AAAA` records. (EdgeGallery's dns-server forwards such queries.)
//! - **Names no rule holds** get what [`not_held`](DnsConfig::not_held) says: `REFUSED` (the default, so the MEP
//!   is never an open resolver by accident), `NXDOMAIN`, or an answer from the configured upstream resolvers
//!   (`SERVFAIL` when none comes). Classes other than IN are refused; operations other than QUERY get `NOTIMP`.
//! - **Two apps, one name**: the engine refuses an Mm5 configuration naming a domain another app holds. Where two
//!   apps still claim one name (seeds, rules set directly, replicas writing at once), the app the responder
//!   answered first keeps it (the lowest app instance id when it starts with both); the others are ignored,
//!   counted in `conflicts` and logged.
//!
//! # Hostile input
//!
//! A message is one question (`FORMERR` otherwise, as RFC 9619 and EdgeGallery do); messages that cannot be
//! decoded are answered `FORMERR` when their header can be read and dropped otherwise; responses are never
//! answered. Every source address (IPv6 by /64) has a rate ([`RateLimitConfig`], checked before anything is
//! decoded): over it, UDP queries are dropped (or `REFUSED`, as configured) and TCP ones refused. TCP
//! connections are limited in number, closed after an idle time between messages and a read time within one (a
//! length prefix of 65,535 with nothing after it is closed after the read time), and answered in order.
//! Answers over UDP never exceed what the client can take (truncated with TC set otherwise). Queries being
//! forwarded are bounded ([`ForwardConfig::max_in_flight`]). Everything is counted ([`DnsCounters`], on
//! `GET /mep/status` under `dns`).

mod config;

pub use config::{
    DnsConfig, DnsConfigError, ForwardConfig, NotHeld, OverLimit, RateLimitConfig, TcpConfig,
};

#[cfg(feature = "dns")]
mod forward;
#[cfg(feature = "dns")]
mod limit;
#[cfg(feature = "dns")]
mod responder;
#[cfg(feature = "dns")]
mod stats;
#[cfg(feature = "dns")]
mod table;
#[cfg(feature = "dns")]
mod transport;

#[cfg(feature = "dns")]
pub use server::{DnsError, DnsServer};
#[cfg(feature = "dns")]
pub use stats::DnsCounters;

#[cfg(feature = "dns")]
mod server {
    use super::config::{DnsConfig, DnsConfigError, NotHeld, OverLimit};
    use super::forward::Forwarder;
    use super::limit::{LimitClock, SourceLimiter};
    use super::responder::Responder;
    use super::stats::DnsCounters;
    use super::transport::{self, Shared};
    use crate::Engine;
    use std::net::SocketAddr;
    use std::sync::{Arc, Weak};
    use std::time::Duration;
    use tokio::net::{TcpListener, UdpSocket};
    use tokio::sync::watch;
    use tokio::task::JoinHandle;

    /// Why the DNS responder could not start.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum DnsError {
        /// The configuration is not usable.
        #[error(transparent)]
        Config(#[from] DnsConfigError),
        /// The address could not be bound (over UDP or TCP).
        #[error("cannot serve DNS on {addr}: {source}")]
        Bind {
            /// The address.
            addr: SocketAddr,
            /// The cause.
            source: std::io::Error,
        },
        /// The forwarding client could not be set up.
        #[error("{0}")]
        Forwarder(String),
    }

    impl DnsError {
        /// Whether the address could not be bound.
        pub fn is_bind(&self) -> bool {
            matches!(self, Self::Bind { .. })
        }

        /// Whether the configuration is at fault.
        pub fn is_config(&self) -> bool {
            matches!(self, Self::Config(_))
        }
    }

    /// A running DNS responder. Stopped by [`stop`](Self::stop), or when dropped.
    ///
    /// ```no_run
    /// # async fn run(engine: mec_mep::Engine) -> Result<(), mec_mep::dns::DnsError> {
    /// use mec_mep::dns::{DnsConfig, DnsServer};
    ///
    /// let dns = DnsServer::start(&engine, DnsConfig::new("127.0.0.1:5353".parse().unwrap())).await?;
    /// println!("answering the DNS rules on {}", dns.local_addr());
    /// println!("{:?}", dns.counters());
    /// dns.stop().await;
    /// # Ok(()) }
    /// ```
    #[derive(Debug)]
    pub struct DnsServer {
        addr: SocketAddr,
        shared: Arc<Shared>,
        stop: watch::Sender<bool>,
        tasks: Vec<JoinHandle<()>>,
    }

    /// Binds UDP and TCP on one address; with port 0, a port free for both.
    async fn bind(addr: SocketAddr) -> Result<(UdpSocket, TcpListener), DnsError> {
        let bind_error = |source| DnsError::Bind { addr, source };
        let attempts = if addr.port() == 0 { 16 } else { 1 };
        let mut last = None;
        for _ in 0..attempts {
            let udp = UdpSocket::bind(addr).await.map_err(bind_error)?;
            let port = udp.local_addr().map_err(bind_error)?.port();
            match TcpListener::bind(SocketAddr::new(addr.ip(), port)).await {
                Ok(tcp) => return Ok((udp, tcp)),
                Err(e) => last = Some(e),
            }
        }
        Err(bind_error(last.unwrap_or_else(|| {
            std::io::Error::other("no port free for both UDP and TCP")
        })))
    }

    impl DnsServer {
        /// Starts answering the engine's DNS rules on `config.listen` (UDP and TCP). Rates are measured in real
        /// (monotonic) time.
        pub async fn start(engine: &Engine, config: DnsConfig) -> Result<Self, DnsError> {
            Self::start_with(
                engine,
                config,
                LimitClock::Monotonic(std::time::Instant::now()),
            )
            .await
        }

        /// As [`start`](Self::start), measuring rates on the engine's clock: with a manual clock (as `MockMep`
        /// runs on), a source's allowance refills only when the clock is moved, so limits are tested without
        /// waiting. Use [`start`](Self::start) on the system clock, which may jump.
        pub async fn start_on_engine_clock(
            engine: &Engine,
            config: DnsConfig,
        ) -> Result<Self, DnsError> {
            Self::start_with(engine, config, LimitClock::Injected(engine.clock().clone())).await
        }

        async fn start_with(
            engine: &Engine,
            config: DnsConfig,
            clock: LimitClock,
        ) -> Result<Self, DnsError> {
            config.check()?;
            let forwarder = match config.not_held {
                NotHeld::Forward => Some(Forwarder::new(&config).map_err(DnsError::Forwarder)?),
                _ => None,
            };
            let (udp, tcp) = bind(config.listen).await?;
            let addr = udp.local_addr().map_err(|source| DnsError::Bind {
                addr: config.listen,
                source,
            })?;
            let shared = Arc::new(Shared {
                responder: Responder::new(engine, &config, forwarder),
                limiter: SourceLimiter::new(&config.rate_limit, clock),
                refuse_over_limit: config.rate_limit.over_limit == OverLimit::Refuse,
                idle_timeout: Duration::from_millis(config.tcp.idle_timeout_ms),
                read_timeout: Duration::from_millis(config.tcp.read_timeout_ms),
                max_connections: config.tcp.max_connections,
            });
            let (stop, stopped) = watch::channel(false);
            let tasks = vec![
                tokio::spawn(transport::serve_udp(
                    Arc::new(udp),
                    shared.clone(),
                    stopped.clone(),
                )),
                tokio::spawn(transport::serve_tcp(tcp, shared.clone(), stopped.clone())),
                tokio::spawn(follow(
                    Arc::downgrade(&shared),
                    engine.subscribe_changes(),
                    stopped,
                )),
            ];
            tracing::info!(%addr, not_held = ?config.not_held, "DNS responder serving the DNS rules (UDP and TCP)");
            Ok(Self {
                addr,
                shared,
                stop,
                tasks,
            })
        }

        /// The address served (UDP and TCP).
        pub fn local_addr(&self) -> SocketAddr {
            self.addr
        }

        /// The counters now.
        pub fn counters(&self) -> DnsCounters {
            self.shared.responder.stats.snapshot()
        }

        /// A function giving the counters, for a status page that outlives no one (it holds the counters only).
        pub fn counters_source(&self) -> impl Fn() -> DnsCounters + Send + Sync + 'static {
            let stats = self.shared.responder.stats.clone();
            move || stats.snapshot()
        }

        /// Stops serving: the sockets are closed, connections and forwards in flight ended.
        pub async fn stop(mut self) {
            let _ = self.stop.send(true);
            for task in self.tasks.drain(..) {
                let _ = task.await;
            }
        }
    }

    impl Drop for DnsServer {
        fn drop(&mut self) {
            let _ = self.stop.send(true);
        }
    }

    /// Rebuilds the table as soon as the engine's state changes (queries would rebuild it anyway; this keeps
    /// the work off their path), and forgets idle rate-limited sources now and then.
    async fn follow(
        shared: Weak<Shared>,
        mut changes: watch::Receiver<u64>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut clean = tokio::time::interval(Duration::from_secs(10));
        loop {
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                _ = clean.tick() => {
                    if let Some(s) = shared.upgrade() { s.limiter.clean() }
                    continue;
                }
                _ = stop.wait_for(|s| *s) => return,
            }
            let Some(shared) = shared.upgrade() else {
                return;
            };
            shared.responder.refresh();
        }
    }
}
