//! Running a whole MEP from a [`MepConfig`]: the store, the engine, the seed, the Mp1 and Mm5 listeners.

use crate::auth::TokenService;
use crate::config::{ConfigError, MepConfig, StoreConfig};
use crate::engine::{Engine, OpenError};
use crate::server::{self, Mp1Options, ServeError};
use crate::store::{MemoryStore, Store, StoreError};
use mec_core::signature::Credentials;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// Why a MEP could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store could not be opened.
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    /// The engine could not read the store.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The seed could not be applied.
    #[error("cannot apply the seed: {0}")]
    Seed(String),
    /// A listener could not start.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// This build lacks a store the configuration asks for.
    #[error("this build of mep has no {0} store (enable its cargo feature)")]
    Unsupported(&'static str),
    /// The DNS responder could not start.
    #[cfg(feature = "dns")]
    #[error(transparent)]
    Dns(#[from] crate::dns::DnsError),
    /// The configuration asks for the DNS responder, which this build lacks.
    #[error("this build of mep has no DNS responder (enable the cargo feature `dns`)")]
    NoDns,
}

/// A running MEP. Stop it with [`stop`](Self::stop) (requests in flight get the configured grace period).
#[derive(Debug)]
#[non_exhaustive]
pub struct RunningMep {
    /// The engine.
    pub engine: Engine,
    /// The token service.
    pub tokens: TokenService,
    /// Where Mp1 is served.
    pub mp1_addr: SocketAddr,
    /// Where Mm5 is served, if it is.
    pub mm5_addr: Option<SocketAddr>,
    /// Where the DNS responder answers (UDP and TCP), if it runs.
    pub dns_addr: Option<SocketAddr>,
    /// The app instances provisioned by the seed, with their credentials.
    pub provisioned: Vec<(String, Credentials)>,
    stop: watch::Sender<bool>,
    servers: Vec<tokio::task::JoinHandle<()>>,
    #[cfg(feature = "dns")]
    dns: Option<crate::dns::DnsServer>,
}

async fn open_store(config: &StoreConfig) -> Result<Arc<dyn Store>, StartError> {
    match config {
        StoreConfig::Memory => Ok(Arc::new(MemoryStore::new())),
        #[cfg(feature = "file-store")]
        StoreConfig::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            Ok(Arc::new(crate::store::FileStore::open(path)?))
        }
        #[cfg(not(feature = "file-store"))]
        StoreConfig::File(_) => Err(StartError::Unsupported("file")),
        #[cfg(feature = "etcd")]
        StoreConfig::Etcd(etcd) => Ok(Arc::new(open_etcd(etcd).await?)),
        #[cfg(not(feature = "etcd"))]
        StoreConfig::Etcd(_) => Err(StartError::Unsupported("etcd")),
    }
}

#[cfg(feature = "etcd")]
async fn open_etcd(
    config: &crate::config::EtcdStoreConfig,
) -> Result<crate::store::EtcdStore, StartError> {
    use crate::store::{EtcdOptions, EtcdStore, EtcdTls};
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| {
            StartError::Config(ConfigError::Store(format!(
                "store.etcd: cannot read {}: {e}",
                path.display()
            )))
        })
    };
    let mut options = EtcdOptions::new(config.endpoints.clone())
        .request_timeout(std::time::Duration::from_secs(
            config.request_timeout_secs.max(1),
        ))
        .max_txn_ops(config.max_txn_ops);
    if let Some(user) = &config.username {
        let password = match (&config.password, &config.password_file) {
            (Some(p), _) => p.clone(),
            (None, Some(file)) => String::from_utf8_lossy(&read(file)?)
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            (None, None) => String::new(),
        };
        options = options.user(user.clone(), password);
    }
    if let Some(tls) = &config.tls {
        let mut t = EtcdTls::new(read(&tls.ca)?);
        if let (Some(cert), Some(key)) = (&tls.cert, &tls.key) {
            t = t.client_identity(read(cert)?, read(key)?);
        }
        if let Some(name) = &tls.server_name {
            t = t.server_name(name.clone());
        }
        options = options.tls(t);
    }
    Ok(EtcdStore::connect(options).await?)
}

/// The keys that sign tokens: the configured ones; else, over a shared store, one RSA key for every replica,
/// kept in the store (written once, by whichever replica starts first), so that a token one replica issued is
/// good on the others; else a key generated for this process.
async fn token_keys(
    engine: &Engine,
    settings: &crate::config::TokenSettings,
) -> Result<crate::auth::SigningKeys, StartError> {
    use crate::auth::{SigningKeys, TokenKey};
    use crate::store::Txn;
    if !settings.keys.is_empty() || !engine.store().is_shared() {
        return settings
            .signing_keys()
            .map_err(|e| ConfigError::from(e).into());
    }
    let key = format!("{}meta/token-key", engine.config().prefix);
    let decode = |pem: &[u8]| {
        TokenKey::from_rsa_pem("shared", pem)
            .map(SigningKeys::new)
            .map_err(|e| StartError::Store(StoreError::Corrupt(format!("{key}: {e}"))))
    };
    let mine = TokenKey::generate("shared").map_err(ConfigError::from)?;
    let made = engine
        .store()
        .commit(
            Txn::new()
                .when_absent(key.clone())
                .put(key.clone(), mine.private_key_pem().to_owned()),
        )
        .await;
    match made {
        Ok(_) => Ok(SigningKeys::new(mine)),
        Err(e) if e.is_conflict() => match engine.store().get(&key).await? {
            Some(entry) => decode(&entry.value),
            None => Err(StartError::Store(StoreError::Corrupt(format!(
                "{key} was deleted while being read"
            )))),
        },
        Err(e) => Err(e.into()),
    }
}

impl MepConfig {
    /// Opens the store, applies the seed, and starts serving.
    pub async fn start(self) -> Result<RunningMep, StartError> {
        self.check()?;
        let store = open_store(&self.store).await?;
        let mut engine_config = self.engine.engine_config();
        if let StoreConfig::Etcd(etcd) = &self.store {
            engine_config.prefix.clone_from(&etcd.prefix);
        }
        engine_config.profile = self.profile;
        let engine = Engine::open_shared(store, mec_core::system_clock(), engine_config).await?;
        let provisioned = match self.load_seed()? {
            Some(mut seed) => seed
                .apply(&engine)
                .await
                .map_err(|e| StartError::Seed(e.to_string()))?,
            None => Vec::new(),
        };
        let tokens = TokenService::for_engine(
            &engine,
            token_keys(&engine, &self.tokens).await?,
            self.tokens.auth_config_for(self.profile),
        );
        #[cfg(feature = "dns")]
        let dns = match self.dns.clone() {
            Some(config) => Some(crate::dns::DnsServer::start(&engine, config).await?),
            None => None,
        };
        #[cfg(not(feature = "dns"))]
        if self.dns.is_some() {
            return Err(StartError::NoDns);
        }
        #[allow(unused_mut)]
        let mut sections = server::StatusSections::default();
        #[cfg(feature = "dns")]
        if let Some(dns) = &dns {
            sections = sections.with("dns", dns.counters_source());
        }
        let limits = self.http.limits();
        let (stop, stopped) = watch::channel(false);
        let wait = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };

        let mp1_listener = server::bind(self.mp1.listen).await?;
        let mp1_addr = mp1_listener
            .local_addr()
            .map_err(|source| ServeError::Bind {
                addr: self.mp1.listen,
                source,
            })?;
        let scheme = if self.mp1.tls.is_some() {
            "https"
        } else {
            "http"
        };
        engine.set_public_url(
            self.public_url
                .clone()
                .unwrap_or_else(|| format!("{scheme}://{mp1_addr}")),
        );
        let options = Mp1Options {
            require_tokens: self.require_tokens,
        };
        let mp1_tls = self.mp1.tls.as_ref().map(|t| t.load()).transpose()?;
        let mut mp1_router = server::mp1_router(&engine, &tokens, &options)
            .merge(server::app_termination_router(&engine, &tokens))
            .merge(server::health_router());
        if let Some(url) = &self.public_url {
            // Links and Location headers start with it (else with the request's scheme and Host).
            mp1_router = mp1_router.layer(axum::Extension(mec_mp1::server::PublicUrl(url.clone())));
        }
        let mut servers = vec![tokio::spawn(server::serve(
            mp1_listener,
            mp1_router,
            limits.clone(),
            mp1_tls,
            wait(stopped.clone()),
        ))];

        let mm5_addr = match &self.mm5 {
            Some(mm5) => {
                let listener = server::bind(mm5.listen).await?;
                let addr = listener.local_addr().map_err(|source| ServeError::Bind {
                    addr: mm5.listen,
                    source,
                })?;
                let tls = mm5.tls.as_ref().map(|t| t.load()).transpose()?;
                let access = server::Mm5Access {
                    bearer_secret: mm5.secret()?,
                    tokens: None,
                };
                servers.push(tokio::spawn(server::serve(
                    listener,
                    server::management_router_with(&engine, &access, sections)
                        .merge(server::health_router()),
                    limits,
                    tls,
                    wait(stopped),
                )));
                Some(addr)
            }
            None => None,
        };
        Ok(RunningMep {
            engine,
            tokens,
            mp1_addr,
            mm5_addr,
            #[cfg(feature = "dns")]
            dns_addr: dns.as_ref().map(crate::dns::DnsServer::local_addr),
            #[cfg(not(feature = "dns"))]
            dns_addr: None,
            provisioned,
            stop,
            servers,
            #[cfg(feature = "dns")]
            dns,
        })
    }
}

impl RunningMep {
    /// Stops accepting connections, lets requests in flight finish, and stops the background work.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        #[cfg(feature = "dns")]
        if let Some(dns) = self.dns {
            dns.stop().await;
        }
        for s in self.servers {
            let _ = s.await;
        }
        self.engine.shutdown();
    }
}
