//! The `mep` server's configuration file (YAML), and running a MEP from it.
//!
//! ```yaml
//! # Where state lives: `memory` (lost at exit), `file` (an embedded database that survives restarts) or `etcd`
//! # (shared by several replicas: see below).
//! store:
//!   file: /var/lib/mep/mep.redb
//! # Whose behaviour to follow where ETSI GS MEC 011 and EdgeGallery's MEP disagree: etsi (default) or
//! # edgegallery (see `crate::profile`).
//! profile: etsi
//! # Mp1 and MEP-auth, for apps.
//! mp1:
//!   listen: 0.0.0.0:8443
//!   tls: { cert: /etc/mep/tls.crt, key: /etc/mep/tls.key }
//! # Mm5 and the status endpoint, for the MEP manager: never on the Mp1 port.
//! mm5:
//!   listen: 127.0.0.1:8081
//! # The address apps reach the MEP at, for absolute links in notifications.
//! public_url: https://mep.example:8443
//! # App instances with their AK/SK, rules and services (a seed file, JSON or YAML).
//! seed: /etc/mep/apps.yaml
//! http:
//!   header_read_timeout_secs: 10
//!   request_timeout_secs: 30
//!   max_connections: 512
//!   body_limit_bytes: 262144
//!   title_case_headers: true
//! engine:
//!   default_liveness_interval_secs: 60
//!   max_graceful_timeout_secs: 10
//!   max_subscriptions_per_app: 50
//!   max_services_per_app: 500
//! tokens:
//!   lifetime_secs: 3600
//!   max_skew_secs: 900                 # how far x-sdk-date may be from the clock
//!   edgegallery_max_skew_secs: 51300   # profile edgegallery: at least this (mep-agent signs in local time)
//! # The DNS responder answering UEs from the DNS rules (off without this key; see `crate::dns`).
//! dns:
//!   listen: 0.0.0.0:53
//!   not_held: refused            # refused | nxdomain | forward (with upstreams)
//! ```
//!
//! Several replicas behave as one MEP over one etcd (v3): give each the same `store` section.
//!
//! ```yaml
//! store:
//!   etcd:
//!     endpoints: [https://etcd-0.example:2379, https://etcd-1.example:2379, https://etcd-2.example:2379]
//!     prefix: mep/                  # every key the MEP writes starts with it (default mep/)
//!     username: mep                 # when etcd's authentication is on
//!     password_file: /etc/mep/etcd-password
//!     tls:
//!       ca: /etc/mep/etcd-ca.pem
//!       cert: /etc/mep/etcd-client.pem   # a client certificate, if etcd asks for one
//!       key: /etc/mep/etcd-client.key
//!     request_timeout_secs: 5
//!     max_txn_ops: 128              # etcd's --max-txn-ops: change both together
//! engine:
//!   leader_lease_secs: 10           # a dead replica's duties (sweep, deliveries) move within this
//! ```

use crate::server::{HttpLimits, TlsFiles};
use crate::{EngineConfig, Seed};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the engine keeps its state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum StoreConfig {
    /// In memory: lost when the process ends.
    #[default]
    Memory,
    /// In an embedded database file (redb), which survives restarts and crashes.
    File(PathBuf),
    /// In etcd (v3), shared by several replicas.
    Etcd(Box<EtcdStoreConfig>),
}

/// How to reach etcd.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EtcdStoreConfig {
    /// The cluster's client URLs, all `http://` or all `https://` (then `tls` is required).
    pub endpoints: Vec<String>,
    /// The prefix of every key the MEP writes (default `mep/`): replicas of one MEP share it, two MEPs on one
    /// etcd do not.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// The user, when etcd's authentication is on (with `password` or `password_file`).
    #[serde(default)]
    pub username: Option<String>,
    /// The user's password (prefer `password_file`).
    #[serde(default)]
    pub password: Option<String>,
    /// A file holding the user's password (a trailing newline is ignored).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// TLS towards etcd.
    #[serde(default)]
    pub tls: Option<EtcdTlsFiles>,
    /// Time for one request to etcd; past it the request fails and the MEP answers 503 (default 5).
    #[serde(default = "default_etcd_timeout")]
    pub request_timeout_secs: u64,
    /// The most writes in one transaction: etcd's `--max-txn-ops` (default 128, etcd's default).
    #[serde(default = "default_max_txn_ops")]
    pub max_txn_ops: usize,
}

impl std::fmt::Debug for EtcdStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStoreConfig")
            .field("endpoints", &self.endpoints)
            .field("prefix", &self.prefix)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("password_file", &self.password_file)
            .field("tls", &self.tls)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("max_txn_ops", &self.max_txn_ops)
            .finish()
    }
}

fn default_prefix() -> String {
    EngineConfig::default().prefix
}

fn default_etcd_timeout() -> u64 {
    5
}

fn default_max_txn_ops() -> usize {
    128
}

/// The smallest `max_txn_ops` accepted: room for a batch of a large termination.
pub const MIN_TXN_OPS: usize = 8;

/// TLS files towards etcd (PEM).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EtcdTlsFiles {
    /// The CA that signed etcd's certificate.
    pub ca: PathBuf,
    /// A client certificate chain, for etcd's `--client-cert-auth` (with `key`).
    #[serde(default)]
    pub cert: Option<PathBuf>,
    /// The client certificate's key.
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// The name etcd's certificate is checked against, when it differs from the endpoints' host.
    #[serde(default)]
    pub server_name: Option<String>,
}

impl EtcdTlsFiles {
    /// TLS towards etcd trusting the CA in `ca`, without a client certificate.
    pub fn new(ca: impl Into<PathBuf>) -> Self {
        Self {
            ca: ca.into(),
            cert: None,
            key: None,
            server_name: None,
        }
    }

    /// With a client certificate chain and its key, for etcd's `--client-cert-auth`.
    #[must_use]
    pub fn with_client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.cert = Some(cert.into());
        self.key = Some(key.into());
        self
    }

    /// With the name etcd's certificate is checked against.
    #[must_use]
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }
}

impl EtcdStoreConfig {
    /// The store configuration for these endpoints, with the defaults.
    pub fn new<S: Into<String>>(endpoints: impl IntoIterator<Item = S>) -> Self {
        Self {
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            prefix: default_prefix(),
            username: None,
            password: None,
            password_file: None,
            tls: None,
            request_timeout_secs: default_etcd_timeout(),
            max_txn_ops: default_max_txn_ops(),
        }
    }

    /// Checks what the types do not; the message names the member at fault.
    pub fn check(&self) -> Result<(), String> {
        if self.endpoints.is_empty() {
            return Err("store.etcd.endpoints: at least one endpoint is needed".to_owned());
        }
        let mut schemes = std::collections::BTreeSet::new();
        for e in &self.endpoints {
            let url = url::Url::parse(e)
                .map_err(|err| format!("store.etcd.endpoints: {e} is not a URL: {err}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(format!(
                    "store.etcd.endpoints: {e} must be http://host:port or https://host:port"
                ));
            }
            schemes.insert(url.scheme().to_owned());
        }
        if schemes.len() > 1 {
            return Err("store.etcd.endpoints: mix http:// and https:// endpoints".to_owned());
        }
        let https = schemes.contains("https");
        if https != self.tls.is_some() {
            return Err(if https {
                "store.etcd.tls: https:// endpoints need tls.ca (the CA of etcd's certificate)"
                    .to_owned()
            } else {
                "store.etcd.tls: TLS is configured but the endpoints are http://".to_owned()
            });
        }
        if let Some(tls) = &self.tls
            && tls.cert.is_some() != tls.key.is_some()
        {
            return Err("store.etcd.tls: a client certificate needs both cert and key".to_owned());
        }
        match (&self.username, &self.password, &self.password_file) {
            (Some(_), Some(_), Some(_)) => {
                return Err("store.etcd: give password or password_file, not both".to_owned());
            }
            (Some(_), None, None) => {
                return Err("store.etcd: username needs password or password_file".to_owned());
            }
            (None, Some(_), _) | (None, _, Some(_)) => {
                return Err("store.etcd: a password needs a username".to_owned());
            }
            _ => {}
        }
        if self.prefix.is_empty() {
            return Err("store.etcd.prefix: must not be empty (for example mep/)".to_owned());
        }
        if self.max_txn_ops < MIN_TXN_OPS {
            return Err(format!(
                "store.etcd.max_txn_ops: at least {MIN_TXN_OPS} (etcd's default is 128)"
            ));
        }
        Ok(())
    }
}

/// One listener.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ListenerConfig {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// TLS, when given.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
}

impl ListenerConfig {
    /// A plain HTTP listener on `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        Self { listen, tls: None }
    }

    /// Serves HTTPS with these files.
    #[must_use]
    pub fn with_tls(mut self, tls: TlsFiles) -> Self {
        self.tls = Some(tls);
        self
    }
}

/// The HTTP limits, as written in the file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
#[non_exhaustive]
pub struct HttpConfig {
    pub header_read_timeout_secs: u64,
    pub request_timeout_secs: u64,
    pub max_connections: usize,
    pub body_limit_bytes: usize,
    pub title_case_headers: bool,
    pub shutdown_grace_secs: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let d = HttpLimits::default();
        Self {
            header_read_timeout_secs: d.header_read_timeout.as_secs(),
            request_timeout_secs: d.request_timeout.as_secs(),
            max_connections: d.max_connections,
            body_limit_bytes: d.body_limit,
            title_case_headers: d.title_case_headers,
            shutdown_grace_secs: d.shutdown_grace.as_secs(),
        }
    }
}

impl HttpConfig {
    /// The defaults (the server's [`HttpLimits::default`]); change the fields to taste.
    pub fn new() -> Self {
        Self::default()
    }

    /// As the server takes them.
    pub fn limits(&self) -> HttpLimits {
        HttpLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
            body_limit: self.body_limit_bytes,
            title_case_headers: self.title_case_headers,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
        }
    }
}

/// The engine's settings, as written in the file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
#[non_exhaustive]
pub struct EngineSettings {
    pub default_liveness_interval_secs: u32,
    pub max_graceful_timeout_secs: u32,
    pub max_subscriptions_per_app: usize,
    pub max_services_per_app: usize,
    pub max_pending_events: usize,
    pub delivery_timeout_secs: u64,
    pub delivery_max_attempts: u32,
    pub delivery_per_app_concurrency: usize,
    pub leader_lease_secs: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        let d = EngineConfig::default();
        Self {
            default_liveness_interval_secs: d.default_liveness_interval,
            max_graceful_timeout_secs: d.max_graceful_timeout,
            max_subscriptions_per_app: d.max_subscriptions_per_app,
            max_services_per_app: d.max_services_per_app,
            max_pending_events: d.max_pending_events,
            delivery_timeout_secs: d.delivery.timeout.as_secs(),
            delivery_max_attempts: d.delivery.max_attempts,
            delivery_per_app_concurrency: d.delivery.per_app_concurrency,
            leader_lease_secs: d.leader_lease.as_secs(),
        }
    }
}

impl EngineSettings {
    /// The defaults (the engine's [`EngineConfig::default`]); change the fields to taste.
    pub fn new() -> Self {
        Self::default()
    }

    /// As the engine takes them.
    pub fn engine_config(&self) -> EngineConfig {
        let defaults = EngineConfig::default();
        EngineConfig {
            default_liveness_interval: self.default_liveness_interval_secs.max(1),
            max_graceful_timeout: self.max_graceful_timeout_secs,
            max_subscriptions_per_app: self.max_subscriptions_per_app,
            max_services_per_app: self.max_services_per_app,
            max_pending_events: self.max_pending_events.max(1),
            delivery: crate::engine::DeliveryConfig {
                timeout: Duration::from_secs(self.delivery_timeout_secs.max(1)),
                max_attempts: self.delivery_max_attempts.max(1),
                per_app_concurrency: self.delivery_per_app_concurrency.max(1),
                ..defaults.delivery.clone()
            },
            leader_lease: Duration::from_secs(self.leader_lease_secs.max(2)),
            ..defaults
        }
    }
}

/// A token signing key file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct KeyFile {
    /// Its key id (`kid`).
    pub kid: String,
    /// An RSA private key, PEM, at least 2048 bits.
    pub private_key_file: PathBuf,
}

impl KeyFile {
    /// The key `kid` in the PEM file `private_key_file`.
    pub fn new(kid: impl Into<String>, private_key_file: impl Into<PathBuf>) -> Self {
        Self {
            kid: kid.into(),
            private_key_file: private_key_file.into(),
        }
    }
}

/// MEP-auth's settings, as written in the file (defaults: EdgeGallery's gateway configuration).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
#[non_exhaustive]
pub struct TokenSettings {
    /// How long issued tokens stay valid, in seconds (default 3600, EdgeGallery's).
    pub lifetime_secs: u64,
    /// Signing keys: the first signs, the others still verify their tokens (rotation). None: a key is generated
    /// at start, and tokens die with the process (apps fetch new ones on their next 401).
    pub keys: Vec<KeyFile>,
    pub bind_client_ip: bool,
    pub requests_per_minute_per_ip: u32,
    pub requests_per_minute_per_key: u32,
    pub mp1_requests_per_minute_per_token: u32,
    pub lockout_failures: u32,
    pub lockout_window_secs: u64,
    pub lockout_secs: u64,
    pub max_skew_secs: u64,
    /// In the EdgeGallery profile, the `x-sdk-date` window is at least this many seconds (default 51,300:
    /// 14 h 15 min, since mep-agent stamps its local time with a literal `Z`); unused in the ETSI profile.
    pub edgegallery_max_skew_secs: u64,
    /// Addresses and CIDR blocks the token endpoint serves (empty: all).
    pub allow_list: Vec<crate::auth::IpRange>,
}

impl Default for TokenSettings {
    fn default() -> Self {
        let d = crate::auth::AuthConfig::default();
        Self {
            lifetime_secs: d.token_lifetime.as_secs(),
            keys: Vec::new(),
            bind_client_ip: d.bind_client_ip,
            requests_per_minute_per_ip: d.token_requests_per_minute_per_ip,
            requests_per_minute_per_key: d.token_requests_per_minute_per_key,
            mp1_requests_per_minute_per_token: d.mp1_requests_per_minute_per_token,
            lockout_failures: d.lockout_failures,
            lockout_window_secs: d.lockout_window.as_secs(),
            lockout_secs: d.lockout_duration.as_secs(),
            max_skew_secs: d.max_skew.as_secs(),
            edgegallery_max_skew_secs: crate::profile::EDGEGALLERY_MAX_SKEW.as_secs(),
            allow_list: Vec::new(),
        }
    }
}

impl TokenSettings {
    /// The defaults (EdgeGallery's gateway configuration); change the fields to taste.
    pub fn new() -> Self {
        Self::default()
    }

    /// As the token service takes them.
    pub fn auth_config(&self) -> crate::auth::AuthConfig {
        crate::auth::AuthConfig {
            token_lifetime: Duration::from_secs(self.lifetime_secs.max(1)),
            max_skew: Duration::from_secs(self.max_skew_secs),
            bind_client_ip: self.bind_client_ip,
            token_requests_per_minute_per_ip: self.requests_per_minute_per_ip,
            token_requests_per_minute_per_key: self.requests_per_minute_per_key,
            mp1_requests_per_minute_per_token: self.mp1_requests_per_minute_per_token,
            lockout_failures: self.lockout_failures,
            lockout_window: Duration::from_secs(self.lockout_window_secs),
            lockout_duration: Duration::from_secs(self.lockout_secs),
            token_allow_list: self.allow_list.clone(),
            ..crate::auth::AuthConfig::default()
        }
    }

    /// As the token service takes them in `profile`: in the EdgeGallery profile the `x-sdk-date` window is at
    /// least [`edgegallery_max_skew_secs`](Self::edgegallery_max_skew_secs).
    pub fn auth_config_for(&self, profile: crate::Profile) -> crate::auth::AuthConfig {
        let mut config = self.auth_config();
        config.max_skew = profile.max_skew(
            config.max_skew,
            Duration::from_secs(self.edgegallery_max_skew_secs),
        );
        config
    }

    /// The signing keys: read from the files, or generated.
    pub fn signing_keys(&self) -> Result<crate::auth::SigningKeys, crate::auth::KeyError> {
        let mut files = self.keys.iter();
        let Some(first) = files.next() else {
            return crate::auth::SigningKeys::generate();
        };
        let mut keys = crate::auth::SigningKeys::new(crate::auth::TokenKey::from_rsa_pem_file(
            &first.kid,
            &first.private_key_file,
        )?);
        for k in files {
            keys = keys.accepting(
                crate::auth::TokenKey::from_rsa_pem_file(&k.kid, &k.private_key_file)?,
                None,
            );
        }
        Ok(keys)
    }
}

/// The Mm5 (management) listener.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Mm5Config {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// TLS, when given.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
    /// The bearer secret the MEP manager must send.
    #[serde(default)]
    pub bearer_secret: Option<String>,
    /// A file holding the bearer secret (preferred over writing it in the configuration).
    #[serde(default)]
    pub bearer_secret_file: Option<PathBuf>,
}

impl Mm5Config {
    /// A plain HTTP Mm5 listener on `listen`, without a bearer secret.
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            tls: None,
            bearer_secret: None,
            bearer_secret_file: None,
        }
    }

    /// Serves HTTPS with these files.
    #[must_use]
    pub fn with_tls(mut self, tls: TlsFiles) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Requires this bearer secret from the MEP manager.
    #[must_use]
    pub fn with_bearer_secret(mut self, secret: impl Into<String>) -> Self {
        self.bearer_secret = Some(secret.into());
        self
    }

    /// Requires the bearer secret held in this file.
    #[must_use]
    pub fn with_bearer_secret_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.bearer_secret_file = Some(path.into());
        self
    }

    /// The bearer secret, from the file or the configuration.
    pub fn secret(&self) -> Result<Option<String>, ConfigError> {
        if let Some(path) = &self.bearer_secret_file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
                path: path.clone(),
                source,
            })?;
            let secret = text.trim().to_owned();
            if secret.len() < 16 {
                return Err(ConfigError::WeakSecret);
            }
            return Ok(Some(secret));
        }
        match &self.bearer_secret {
            Some(s) if s.len() < 16 => Err(ConfigError::WeakSecret),
            other => Ok(other.clone()),
        }
    }
}

/// The whole file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct MepConfig {
    /// Whose behaviour to follow where ETSI and EdgeGallery disagree (default `etsi`; see [`crate::profile`]).
    pub profile: crate::Profile,
    /// Where state lives.
    pub store: StoreConfig,
    /// The Mp1 listener (default 127.0.0.1:8080, plain HTTP).
    pub mp1: ListenerConfig,
    /// The Mm5 (management) listener (default 127.0.0.1:8081, no credential: loopback only); `null` turns Mm5
    /// off. On any other address a bearer secret is required.
    pub mm5: Option<Mm5Config>,
    /// The address apps reach the MEP at, for absolute links (default: the Mp1 listener's).
    pub public_url: Option<String>,
    /// A seed file applied at every start (idempotent).
    pub seed: Option<PathBuf>,
    /// Require tokens on Mp1 (default true).
    pub require_tokens: bool,
    /// HTTP limits.
    pub http: HttpConfig,
    /// Engine settings.
    pub engine: EngineSettings,
    /// Token settings.
    pub tokens: TokenSettings,
    /// The DNS responder (off when absent).
    pub dns: Option<crate::dns::DnsConfig>,
}

impl Default for MepConfig {
    fn default() -> Self {
        Self {
            profile: crate::Profile::Etsi,
            store: StoreConfig::Memory,
            mp1: ListenerConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
                tls: None,
            },
            mm5: Some(Mm5Config {
                listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
                tls: None,
                bearer_secret: None,
                bearer_secret_file: None,
            }),
            public_url: None,
            seed: None,
            require_tokens: true,
            http: HttpConfig::default(),
            engine: EngineSettings::default(),
            tokens: TokenSettings::default(),
            dns: None,
        }
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid configuration.
    #[error("{path} is not a valid mep configuration: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The store section is not usable.
    #[error("{0}")]
    Store(String),
    /// The listeners clash.
    #[error(
        "Mp1 and Mm5 are configured on one address ({0}): Mm5 must not be reachable on the Mp1 port"
    )]
    SharedPort(SocketAddr),
    /// The seed file is not valid.
    #[error(transparent)]
    Seed(#[from] crate::SeedError),
    /// Mm5 would be reachable beyond this host without a credential.
    #[error(
        "Mm5 listens on {0}, beyond this host, without a credential: set mm5.bearer_secret_file"
    )]
    OpenMm5(SocketAddr),
    /// A setting has a value it cannot take (the message names the setting).
    #[error("{0}")]
    Value(String),
    /// The Mm5 bearer secret is too short.
    #[error("the Mm5 bearer secret must be at least 16 characters")]
    WeakSecret,
    /// A token key cannot be used.
    #[error(transparent)]
    Key(#[from] crate::auth::KeyError),
    /// The DNS responder's settings are not valid.
    #[error(transparent)]
    Dns(#[from] crate::dns::DnsConfigError),
}

impl MepConfig {
    /// Reads and checks a configuration file (its seed file too).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        let config: Self = serde_saphyr::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        config.check()?;
        Ok(config)
    }

    /// Checks what the types do not: Mm5 on its own port, with a credential unless on loopback; the token keys
    /// readable; the seed readable and valid.
    pub fn check(&self) -> Result<(), ConfigError> {
        if let Some(mm5) = &self.mm5 {
            if mm5.listen == self.mp1.listen && mm5.listen.port() != 0 {
                return Err(ConfigError::SharedPort(mm5.listen));
            }
            if mm5.secret()?.is_none() && !mm5.listen.ip().is_loopback() {
                return Err(ConfigError::OpenMm5(mm5.listen));
            }
        }
        if let Some(url) = &self.public_url {
            let parsed = url::Url::parse(url)
                .map_err(|e| ConfigError::Value(format!("public_url: {url} is not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https")
                || parsed.host_str().is_none()
                || parsed.query().is_some()
                || parsed.fragment().is_some()
            {
                return Err(ConfigError::Value(format!(
                    "public_url: {url} must be http(s)://host[:port][/prefix], without query or fragment"
                )));
            }
        }
        for k in &self.tokens.keys {
            crate::auth::TokenKey::from_rsa_pem_file(&k.kid, &k.private_key_file)?;
        }
        if let Some(dns) = &self.dns {
            dns.check()?;
        }
        if let StoreConfig::Etcd(etcd) = &self.store {
            etcd.check().map_err(ConfigError::Store)?;
        }
        self.load_seed().map(drop)
    }

    /// The seed, if one is configured.
    pub fn load_seed(&self) -> Result<Option<Seed>, ConfigError> {
        self.seed
            .as_ref()
            .map(Seed::from_file)
            .transpose()
            .map_err(ConfigError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<MepConfig, String> {
        let config: MepConfig = serde_saphyr::from_str(yaml).map_err(|e| e.to_string())?;
        config.check().map_err(|e| e.to_string())?;
        Ok(config)
    }

    #[test]
    fn the_profile_is_read_and_widens_the_date_window() {
        assert_eq!(parse("{}").unwrap().profile, crate::Profile::Etsi);
        let c =
            parse("profile: edgegallery\ntokens:\n  edgegallery_max_skew_secs: 7200\n").unwrap();
        assert_eq!(c.profile, crate::Profile::EdgeGallery);
        assert_eq!(
            c.tokens.auth_config_for(c.profile).max_skew,
            Duration::from_secs(7200)
        );
        assert_eq!(
            c.tokens.auth_config_for(crate::Profile::Etsi).max_skew,
            Duration::from_secs(900)
        );
        assert!(parse("profile: kong\n").is_err());
    }

    #[test]
    fn an_etcd_store_is_read_with_its_defaults_and_checked() {
        let c = parse(
            "store:\n  etcd:\n    endpoints: [http://127.0.0.1:2379]\nengine:\n  leader_lease_secs: 4\n",
        )
        .unwrap();
        let StoreConfig::Etcd(etcd) = &c.store else {
            panic!("{:?}", c.store)
        };
        assert_eq!(etcd.prefix, "mep/");
        assert_eq!((etcd.request_timeout_secs, etcd.max_txn_ops), (5, 128));
        assert_eq!(
            c.engine.engine_config().leader_lease,
            Duration::from_secs(4)
        );

        let full = parse(
            "store:\n  etcd:\n    endpoints: [https://etcd-0:2379, https://etcd-1:2379]\n    prefix: edge-1/\n    \
             username: mep\n    password: hunter2\n    tls: { ca: /etc/ca.pem, cert: /etc/c.pem, key: /etc/c.key }\n",
        )
        .unwrap();
        assert!(
            !format!("{full:?}").contains("hunter2"),
            "the password is never shown"
        );

        for (yaml, says) in [
            (
                "store:\n  etcd:\n    endpoints: []\n",
                "at least one endpoint",
            ),
            (
                "store:\n  etcd:\n    endpoints: [etcd:2379]\n",
                "must be http://",
            ),
            (
                "store:\n  etcd:\n    endpoints: [http://a:2379, https://b:2379]\n    tls: { ca: /ca }\n",
                "mix",
            ),
            (
                "store:\n  etcd:\n    endpoints: [https://a:2379]\n",
                "need tls.ca",
            ),
            (
                "store:\n  etcd:\n    endpoints: [http://a:2379]\n    tls: { ca: /ca }\n",
                "endpoints are http://",
            ),
            (
                "store:\n  etcd:\n    endpoints: [https://a:2379]\n    tls: { ca: /ca, cert: /c }\n",
                "both cert and key",
            ),
            (
                "store:\n  etcd:\n    endpoints: [http://a:2379]\n    username: mep\n",
                "needs password",
            ),
            (
                "store:\n  etcd:\n    endpoints: [http://a:2379]\n    password: x\n",
                "needs a username",
            ),
            (
                "store:\n  etcd:\n    endpoints: [http://a:2379]\n    prefix: ''\n",
                "must not be empty",
            ),
            (
                "store:\n  etcd:\n    endpoints: [http://a:2379]\n    max_txn_ops: 3\n",
                "at least 8",
            ),
            (
                "store:\n  etcd:\n    endpoints: [http://a:2379]\n    endpoint: x\n",
                "unknown field",
            ),
        ] {
            let e = parse(yaml).unwrap_err();
            assert!(e.contains(says), "{yaml}: {e}");
        }
    }
}
