//! Configuration as EdgeGallery passes it to its `mep-agent`: the environment (`AK`, `SK`, `APPINSTID`,
//! `MEP_IP`, `MEP_APIGW_PORT`, `EG_PROTOCOL`, `CA_CERT_DOMAIN_NAME`, `CA_CERT`) and
//! `conf/app_instance_info.yaml`, with overrides (the command line's flags) on top.
//!
//! Sources: EdgeGallery `mep-agent` `src/config/address.go` (URLs, `EG_PROTOCOL`), `src/util/util.go`
//! (`AK`, `SK`, `APPINSTID`), `src/service/request.go` (`CA_CERT_DOMAIN_NAME`, strict YAML),
//! `src/model/instance.go` (the YAML's keys), `README.md` (`CA_CERT`).

use crate::clock::Backoff;
use crate::error::Error;
use mec_core::signature::Credentials;
use mec_mp1::client::LivenessMethod;
use mec_mp1::model::{SerAvailabilityNotificationSubscription, ServiceInfo};
use serde::Deserialize;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// Where EdgeGallery's agent reads its YAML, relative to its working directory.
pub const DEFAULT_CONFIG_PATH: &str = "conf/app_instance_info.yaml";
/// Where the local API listens unless told otherwise: loopback only, on the port EdgeGallery's agent uses.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The largest `app_instance_info.yaml` read.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// The most services one app registers (EdgeGallery's MEP refuses more: `maxServiceCount`).
pub const MAX_SERVICES: usize = 50;
/// The most availability subscriptions one app makes (EdgeGallery's MEP refuses more).
pub const MAX_SUBSCRIPTIONS: usize = 50;
/// The API gateway port EdgeGallery's agent uses over plain HTTP, whatever `MEP_APIGW_PORT` says.
pub const EDGEGALLERY_HTTP_PORT: u16 = 8000;

/// `conf/app_instance_info.yaml`: the services to register and the subscriptions to make.
///
/// Parsed strictly, as EdgeGallery does (`yaml.UnmarshalStrict`): a key the agent does not know is an error
/// naming it, so a typo never drops a service silently. The one exception is EdgeGallery's `links` key of a
/// subscription (the MEP sets links itself).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AppInstanceInfo {
    /// The app instance id, in EdgeGallery's older sample files; `APPINSTID` wins over it.
    #[serde(default)]
    pub app_instance_id: Option<String>,
    /// The services to register (`ServiceInfo` bodies).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub service_info_posts: Vec<ServiceInfo>,
    /// The availability subscriptions to make.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub ser_availability_notification_subscriptions: Vec<SerAvailabilityNotificationSubscription>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl AppInstanceInfo {
    /// Parses the YAML text, checking every service and subscription (`name` is used in messages).
    pub fn from_yaml(name: &str, text: &str) -> Result<Self, Error> {
        let mut unknown = Vec::new();
        // `Option`: a file with an empty document (`---`) registers nothing, as with EdgeGallery.
        let parsed: Result<Option<Self>, _> =
            serde_saphyr::with_deserializer_from_str(text, |de| {
                serde_ignored::deserialize(de, |path| {
                    // `?` stands for an `Option` on the way (as in `null_as_empty`); not a key.
                    let path = path.to_string();
                    let path = path.trim_start_matches("?.").replace(".?", "");
                    if !is_edgegallery_subscription_links(&path) {
                        unknown.push(path);
                    }
                })
            });
        let mut info = parsed
            .map_err(|e| Error::Config(format!("{name}: {e}")))?
            .unwrap_or_default();
        if !unknown.is_empty() {
            return Err(Error::Config(format!(
                "{name}: unknown key(s) {}",
                unknown.join(", ")
            )));
        }
        info.check(name)?;
        Ok(info)
    }

    /// Reads and parses a file (at most [`MAX_CONFIG_BYTES`]).
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = read_bounded(path, MAX_CONFIG_BYTES)?;
        Self::from_yaml(&path.display().to_string(), &text)
    }

    fn check(&mut self, name: &str) -> Result<(), Error> {
        use mec_mp1::model::Validate;
        if self.service_info_posts.len() > MAX_SERVICES {
            return Err(Error::Config(format!(
                "{name}: {} services, at most {MAX_SERVICES} may be registered",
                self.service_info_posts.len()
            )));
        }
        if self.ser_availability_notification_subscriptions.len() > MAX_SUBSCRIPTIONS {
            return Err(Error::Config(format!(
                "{name}: {} subscriptions, at most {MAX_SUBSCRIPTIONS} may be made",
                self.ser_availability_notification_subscriptions.len()
            )));
        }
        for (i, s) in self.service_info_posts.iter_mut().enumerate() {
            // EdgeGallery's agent always sends `transportId` next to `transportInfo` (its model has no
            // omitempty); ETSI GS MEC 011 wants one of the two, and a MEP that checks it refuses both. The full
            // description wins.
            if s.transport_info.is_some() {
                s.transport_id = None;
            }
            // Set by the MEP; "shall be absent in HTTP requests".
            s.ser_instance_id = None;
            s.links = None;
            s.validate_for_create()
                .map_err(|e| Error::Config(format!("{name}: serviceInfoPosts[{i}].{e}")))?;
        }
        for (i, s) in self
            .ser_availability_notification_subscriptions
            .iter_mut()
            .enumerate()
        {
            s.links = None;
            s.validate().map_err(|e| {
                Error::Config(format!(
                    "{name}: serAvailabilityNotificationSubscriptions[{i}].{e}"
                ))
            })?;
        }
        Ok(())
    }
}

/// EdgeGallery's sample writes `links: {self: {href}}` in subscriptions, a key its own model knows.
fn is_edgegallery_subscription_links(path: &str) -> bool {
    path.strip_prefix("serAvailabilityNotificationSubscriptions.")
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(index, key)| {
            index.bytes().all(|b| b.is_ascii_digit())
                && (key == "links" || key.starts_with("links."))
        })
}

fn read_bounded(path: &Path, limit: u64) -> Result<String, Error> {
    use std::io::Read;
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = String::new();
    file.take(limit + 1).read_to_string(&mut text).map_err(io)?;
    if text.len() as u64 > limit {
        return Err(Error::Config(format!(
            "{} is larger than {limit} bytes",
            path.display()
        )));
    }
    Ok(text)
}

/// Raw settings, each optional, from the environment or from flags. [`Settings::from_env`] reads the
/// environment; [`Settings::or`] lays flags over it; [`Settings::resolve`] checks everything and reads the files.
///
/// `Debug` never shows the secret key.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// `AK`: the access key.
    pub access_key: Option<String>,
    /// `SK`: the secret key.
    pub secret_key: Option<String>,
    /// `APPINSTID`: the app instance id (a UUID).
    pub app_instance_id: Option<String>,
    /// `MEP_IP`: the MEP's address or host name.
    pub mep_ip: Option<String>,
    /// `MEP_APIGW_PORT`: the API gateway's port. Over plain HTTP EdgeGallery's agent ignores it and uses 8000;
    /// so does this one (use [`mep_port`](Self::mep_port) to choose).
    pub mep_apigw_port: Option<String>,
    /// A port that wins over everything (`--mep-port`).
    pub mep_port: Option<String>,
    /// `EG_PROTOCOL`: `https` (default) or `http`.
    pub protocol: Option<String>,
    /// `CA_CERT_DOMAIN_NAME`: the name the MEP's certificate is checked against.
    pub tls_server_name: Option<String>,
    /// `CA_CERT`: a PEM file of the certificate authorities to trust.
    pub ca_cert: Option<PathBuf>,
    /// Skip certificate checks (only from a flag; never from the environment).
    pub insecure_skip_tls_verify: Option<bool>,
    /// `MEP_AGENT_MEP_URL`: the Mp1 API root, instead of the URL built from `MEP_IP` and the port (for example
    /// `http://127.0.0.1:8080` for a MEP with ETSI's layout).
    pub mep_url: Option<String>,
    /// `MEP_AGENT_TOKEN_PATH`: where tokens are requested, relative to the MEP's origin (default `/mep/token`).
    pub token_path: Option<String>,
    /// `MEP_AGENT_CONFIG`: the YAML file (default `conf/app_instance_info.yaml`).
    pub config_path: Option<PathBuf>,
    /// `MEP_AGENT_LISTEN`: the local API's address (default `127.0.0.1:8080`).
    pub listen: Option<String>,
    /// `MEP_AGENT_LIVENESS_METHOD`: `patch` (ETSI, default) or `put` (EdgeGallery's MEP).
    pub liveness_method: Option<String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("access_key", &self.access_key)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("app_instance_id", &self.app_instance_id)
            .field("mep_ip", &self.mep_ip)
            .field("mep_apigw_port", &self.mep_apigw_port)
            .field("mep_port", &self.mep_port)
            .field("protocol", &self.protocol)
            .field("tls_server_name", &self.tls_server_name)
            .field("ca_cert", &self.ca_cert)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("mep_url", &self.mep_url)
            .field("token_path", &self.token_path)
            .field("config_path", &self.config_path)
            .field("listen", &self.listen)
            .field("liveness_method", &self.liveness_method)
            .finish()
    }
}

/// The environment variables holding secrets, read once and then cleared from the process (see the
/// `mep-agent` binary).
pub const SECRET_ENV: [&str; 3] = ["AK", "SK", "APPINSTID"];

impl Settings {
    /// The settings found in an environment (`lookup` is `std::env::var(..).ok()` for the real one). Empty
    /// values count as absent.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        Self {
            access_key: get("AK"),
            secret_key: get("SK"),
            app_instance_id: get("APPINSTID"),
            mep_ip: get("MEP_IP"),
            mep_apigw_port: get("MEP_APIGW_PORT"),
            mep_port: None,
            protocol: get("EG_PROTOCOL"),
            tls_server_name: get("CA_CERT_DOMAIN_NAME"),
            ca_cert: get("CA_CERT").map(PathBuf::from),
            insecure_skip_tls_verify: None,
            mep_url: get("MEP_AGENT_MEP_URL"),
            token_path: get("MEP_AGENT_TOKEN_PATH"),
            config_path: get("MEP_AGENT_CONFIG").map(PathBuf::from),
            listen: get("MEP_AGENT_LISTEN"),
            liveness_method: get("MEP_AGENT_LIVENESS_METHOD"),
        }
    }

    /// These settings, with every value `over` sets taking precedence (flags over the environment).
    #[must_use]
    pub fn or(self, over: Settings) -> Self {
        Self {
            access_key: over.access_key.or(self.access_key),
            secret_key: over.secret_key.or(self.secret_key),
            app_instance_id: over.app_instance_id.or(self.app_instance_id),
            mep_ip: over.mep_ip.or(self.mep_ip),
            mep_apigw_port: over.mep_apigw_port.or(self.mep_apigw_port),
            mep_port: over.mep_port.or(self.mep_port),
            protocol: over.protocol.or(self.protocol),
            tls_server_name: over.tls_server_name.or(self.tls_server_name),
            ca_cert: over.ca_cert.or(self.ca_cert),
            insecure_skip_tls_verify: over
                .insecure_skip_tls_verify
                .or(self.insecure_skip_tls_verify),
            mep_url: over.mep_url.or(self.mep_url),
            token_path: over.token_path.or(self.token_path),
            config_path: over.config_path.or(self.config_path),
            listen: over.listen.or(self.listen),
            liveness_method: over.liveness_method.or(self.liveness_method),
        }
    }

    /// Checks the settings, reads the CA file and the YAML, and gives the agent's configuration.
    pub fn resolve(self) -> Result<AgentConfig, Error> {
        let missing = |what: &str| Error::Config(format!("{what} is not set"));
        let config_path = self
            .config_path
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH));
        let info = AppInstanceInfo::load(&config_path)?;
        let access_key = self.access_key.clone().ok_or_else(|| missing("AK"))?;
        let secret_key = self.secret_key.clone().ok_or_else(|| missing("SK"))?;
        let app_instance_id = match (&self.app_instance_id, &info.app_instance_id) {
            (Some(env), Some(file)) if env != file => {
                tracing::warn!(
                    "APPINSTID {env} differs from appInstanceId {file} in {}; using APPINSTID",
                    config_path.display()
                );
                env.clone()
            }
            (Some(id), _) | (None, Some(id)) => id.clone(),
            (None, None) => return Err(missing("APPINSTID")),
        };
        if uuid::Uuid::parse_str(&app_instance_id).is_err() {
            return Err(Error::Config(format!(
                "APPINSTID {app_instance_id:?} is not a UUID"
            )));
        }
        let insecure = self.insecure_skip_tls_verify.unwrap_or(false);
        let mep = self.mep(insecure)?;
        let ca_pem = match &self.ca_cert {
            Some(path) => Some(std::fs::read(path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?),
            None => None,
        };
        let listen = self.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen: SocketAddr = listen.parse().map_err(|_| {
            Error::Config(format!(
                "the local API address {listen:?} is not IP:PORT (for example 127.0.0.1:8080)"
            ))
        })?;
        let liveness_method = match self.liveness_method.as_deref().map(str::to_ascii_lowercase) {
            None => LivenessMethod::Patch,
            Some(m) if m == "patch" => LivenessMethod::Patch,
            Some(m) if m == "put" => LivenessMethod::Put,
            Some(m) => {
                return Err(Error::Config(format!(
                    "liveness method {m:?}: expected patch or put"
                )));
            }
        };
        let mut config = AgentConfig::new(
            Credentials::new(access_key, secret_key),
            app_instance_id,
            mep.api_root,
        );
        config.token_url = mep.token_url;
        config.tls = TlsSettings {
            ca_pem,
            insecure_skip_verify: insecure,
        };
        config.services = info.service_info_posts;
        config.subscriptions = info.ser_availability_notification_subscriptions;
        config.listen = listen;
        config.liveness_method = liveness_method;
        Ok(config)
    }

    fn mep(&self, insecure: bool) -> Result<MepUrls, Error> {
        let token_path = self.token_path.as_deref().unwrap_or("/mep/token");
        if let Some(url) = &self.mep_url {
            let api_root = http_url("the MEP URL", url)?;
            let token_url = api_root
                .join(token_path)
                .map_err(|e| Error::Config(format!("token path {token_path:?}: {e}")))?;
            return Ok(MepUrls {
                api_root,
                token_url,
            });
        }
        let ip = self
            .mep_ip
            .as_deref()
            .ok_or_else(|| Error::Config("MEP_IP is not set".to_owned()))?;
        check_host("MEP_IP", ip)?;
        let http = match self.protocol.as_deref().map(str::to_ascii_lowercase) {
            None => false,
            Some(p) if p == "https" => false,
            Some(p) if p == "http" => true,
            Some(p) => {
                return Err(Error::Config(format!(
                    "EG_PROTOCOL {p:?}: expected http or https"
                )));
            }
        };
        let port = match (&self.mep_port, &self.mep_apigw_port) {
            (Some(p), _) => parse_port("--mep-port", p)?,
            (None, Some(p)) if http => {
                parse_port("MEP_APIGW_PORT", p)?;
                tracing::info!(
                    "EG_PROTOCOL is http: using port {EDGEGALLERY_HTTP_PORT} as EdgeGallery does, not \
                     MEP_APIGW_PORT {p} (give --mep-port to choose)"
                );
                EDGEGALLERY_HTTP_PORT
            }
            (None, Some(p)) => parse_port("MEP_APIGW_PORT", p)?,
            (None, None) if http => EDGEGALLERY_HTTP_PORT,
            (None, None) => return Err(Error::Config("MEP_APIGW_PORT is not set".to_owned())),
        };
        // With certificates checked, the MEP is addressed by the name its certificate carries
        // (CA_CERT_DOMAIN_NAME), which must then resolve to it; see `AgentConfig::tls`.
        let host = match &self.tls_server_name {
            Some(name) if !http && !insecure => {
                check_domain(name)?;
                name.clone()
            }
            Some(name) => {
                check_domain(name)?;
                ip.to_owned()
            }
            None => ip.to_owned(),
        };
        let host = match host.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
            _ => host,
        };
        let scheme = if http { "http" } else { "https" };
        let origin = format!("{scheme}://{host}:{port}");
        let api_root = http_url("the MEP URL", &format!("{origin}/mep"))?;
        let token_url = http_url("the token URL", &format!("{origin}/"))?
            .join(token_path)
            .map_err(|e| Error::Config(format!("token path {token_path:?}: {e}")))?;
        Ok(MepUrls {
            api_root,
            token_url,
        })
    }
}

struct MepUrls {
    api_root: Url,
    token_url: Url,
}

fn http_url(what: &str, s: &str) -> Result<Url, Error> {
    match Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u),
        _ => Err(Error::Config(format!(
            "{what} {s:?} is not an absolute http(s) URL"
        ))),
    }
}

fn parse_port(what: &str, s: &str) -> Result<u16, Error> {
    match s.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(Error::Config(format!(
            "{what} {s:?} is not a port (1-65535)"
        ))),
    }
}

/// EdgeGallery's `ValidateDNS`: an IP address that is neither multicast nor broadcast, or a host name.
fn check_host(what: &str, s: &str) -> Result<(), Error> {
    match s.parse::<IpAddr>() {
        Ok(ip) if ip.is_multicast() || ip == IpAddr::from([255, 255, 255, 255]) => Err(
            Error::Config(format!("{what} {s} is a multicast or broadcast address")),
        ),
        Ok(_) => Ok(()),
        Err(_) if is_host_name(s) => Ok(()),
        Err(_) => Err(Error::Config(format!(
            "{what} {s:?} is neither an IP address nor a host name"
        ))),
    }
}

fn check_domain(s: &str) -> Result<(), Error> {
    if is_host_name(s) {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "CA_CERT_DOMAIN_NAME {s:?} is not a domain name"
        )))
    }
}

/// Dot-separated labels of letters, digits and inner hyphens, 1 to 63 characters each, 253 in all
/// (EdgeGallery's `domainPattern`).
fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            let bytes = label.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= 63
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
                && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        })
}

/// How the MEP's certificate is checked.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsSettings {
    /// PEM certificates of the authorities to trust, besides the system's.
    pub ca_pem: Option<Vec<u8>>,
    /// Accept any certificate (logged loudly at start).
    pub insecure_skip_verify: bool,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("ca_pem", &self.ca_pem.as_ref().map(Vec::len))
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .finish()
    }
}

/// Everything the agent needs, checked.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AgentConfig {
    /// The app's AK/SK.
    pub credentials: Credentials,
    /// The app instance the services belong to.
    pub app_instance_id: String,
    /// The Mp1 API root (`https://MEP_IP:PORT/mep` for EdgeGallery).
    pub api_root: Url,
    /// MEP-auth's token endpoint (`https://MEP_IP:PORT/mep/token`).
    pub token_url: Url,
    /// Certificate checks. With checks on, the MEP is addressed by `CA_CERT_DOMAIN_NAME` when given, so the
    /// certificate is checked against that name; the name must resolve to the MEP.
    pub tls: TlsSettings,
    /// The services to register.
    pub services: Vec<ServiceInfo>,
    /// The availability subscriptions to make.
    pub subscriptions: Vec<SerAvailabilityNotificationSubscription>,
    /// The local API's address.
    pub listen: SocketAddr,
    /// How heartbeats are sent: `PATCH` (ETSI) or `PUT` (EdgeGallery's MEP).
    pub liveness_method: LivenessMethod,
    /// Whether `confirm_ready` is sent once everything is registered.
    pub confirm_ready: bool,
    /// Retries of the token, registrations, subscriptions and `confirm_ready`.
    pub backoff: Backoff,
    /// How long before its expiry a token is renewed (at most half its lifetime).
    pub token_refresh_margin: Duration,
    /// The timeout of one request to the MEP.
    pub request_timeout: Duration,
    /// How long deregistration may take at shutdown.
    pub shutdown_timeout: Duration,
}

impl AgentConfig {
    /// A configuration with no services, for the MEP whose Mp1 API root is `api_root` (the token endpoint is
    /// `/mep/token` on the same origin), with the defaults: local API on `127.0.0.1:8080`, `PATCH` heartbeats,
    /// `confirm_ready` sent, [`Backoff::default`], tokens renewed 60 s before expiry, 30 s request timeout,
    /// 10 s for deregistration.
    pub fn new(
        credentials: Credentials,
        app_instance_id: impl Into<String>,
        api_root: Url,
    ) -> Self {
        let token_url = api_root
            .join("/mep/token")
            .unwrap_or_else(|_| api_root.clone());
        Self {
            credentials,
            app_instance_id: app_instance_id.into(),
            api_root,
            token_url,
            tls: TlsSettings::default(),
            services: Vec::new(),
            subscriptions: Vec::new(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            liveness_method: LivenessMethod::Patch,
            confirm_ready: true,
            backoff: Backoff::default(),
            token_refresh_margin: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Settings {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_env(|k| map.get(k).cloned())
    }

    fn urls(s: &Settings) -> (String, String) {
        let m = s.mep(s.insecure_skip_tls_verify.unwrap_or(false)).unwrap();
        (m.api_root.to_string(), m.token_url.to_string())
    }

    #[test]
    fn urls_follow_edgegallery() {
        let s = env(&[("MEP_IP", "10.1.2.3"), ("MEP_APIGW_PORT", "8443")]);
        assert_eq!(
            urls(&s),
            (
                "https://10.1.2.3:8443/mep".to_owned(),
                "https://10.1.2.3:8443/mep/token".to_owned()
            )
        );
        // Plain HTTP: port 8000 whatever MEP_APIGW_PORT says (address.go), unless a flag chooses.
        let s = env(&[
            ("MEP_IP", "10.1.2.3"),
            ("MEP_APIGW_PORT", "8443"),
            ("EG_PROTOCOL", "HTTP"),
        ]);
        assert_eq!(urls(&s).0, "http://10.1.2.3:8000/mep");
        let flags = Settings {
            mep_port: Some("18080".into()),
            ..Settings::default()
        };
        assert_eq!(urls(&s.or(flags)).0, "http://10.1.2.3:18080/mep");
        // IPv6 in brackets.
        let s = env(&[("MEP_IP", "::1"), ("MEP_APIGW_PORT", "8443")]);
        assert_eq!(urls(&s).0, "https://[::1]:8443/mep");
    }

    #[test]
    fn the_certificate_name_addresses_the_mep_only_when_certificates_are_checked() {
        let s = env(&[
            ("MEP_IP", "10.1.2.3"),
            ("MEP_APIGW_PORT", "8443"),
            ("CA_CERT_DOMAIN_NAME", "edgegallery"),
        ]);
        assert_eq!(urls(&s).0, "https://edgegallery:8443/mep");
        let insecure = Settings {
            insecure_skip_tls_verify: Some(true),
            ..Settings::default()
        };
        assert_eq!(urls(&s.or(insecure)).0, "https://10.1.2.3:8443/mep");
    }

    #[test]
    fn bad_values_are_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("MEP_APIGW_PORT", "8443")], "MEP_IP is not set"),
            (&[("MEP_IP", "10.0.0.1")], "MEP_APIGW_PORT is not set"),
            (
                &[("MEP_IP", "10.0.0.1"), ("MEP_APIGW_PORT", "70000")],
                "MEP_APIGW_PORT \"70000\"",
            ),
            (
                &[("MEP_IP", "224.0.0.1"), ("MEP_APIGW_PORT", "1")],
                "multicast",
            ),
            (
                &[("MEP_IP", "bad host!"), ("MEP_APIGW_PORT", "1")],
                "neither an IP",
            ),
            (
                &[
                    ("MEP_IP", "h"),
                    ("MEP_APIGW_PORT", "1"),
                    ("EG_PROTOCOL", "ftp"),
                ],
                "EG_PROTOCOL \"ftp\"",
            ),
            (
                &[
                    ("MEP_IP", "h"),
                    ("MEP_APIGW_PORT", "1"),
                    ("CA_CERT_DOMAIN_NAME", "-x-"),
                ],
                "CA_CERT_DOMAIN_NAME",
            ),
        ];
        for (pairs, expected) in cases {
            let e = match env(pairs).mep(false) {
                Err(e) => e.to_string(),
                Ok(_) => String::new(),
            };
            assert!(e.contains(expected), "{pairs:?}: {e:?}");
        }
    }

    #[test]
    fn flags_win_and_empty_values_are_absent() {
        let s = env(&[("AK", "a"), ("SK", ""), ("MEP_AGENT_LISTEN", "127.0.0.1:1")]);
        assert_eq!(s.secret_key, None);
        let s = s.or(Settings {
            access_key: Some("b".into()),
            ..Settings::default()
        });
        assert_eq!(s.access_key.as_deref(), Some("b"));
        assert_eq!(s.listen.as_deref(), Some("127.0.0.1:1"));
        let shown = format!(
            "{:?}",
            Settings {
                secret_key: Some("topsecret".into()),
                ..Settings::default()
            }
        );
        assert!(!shown.contains("topsecret"), "{shown}");
    }

    const EG_SAMPLE: &str = r#"
serviceInfoPosts:
  - serName: sampleapp
    serCategory:
      href: "/example/catalogue1"
      id: id12345
      name: RNI
      version: version1
    version: v1
    state: ACTIVE
    transportId: Rest1
    transportInfo:
      id: 33b13d69-79ff-4d4f-bb61-eb7d81f59b44
      name: REST
      description: REST API
      type: REST_HTTP
      protocol: http
      version: '2.0'
      endpoint:
        addresses:
          - host: sampleapp.default
            port: 32115
      security:
        oAuth2Info:
          grantTypes:
            - OAUTH2_CLIENT_CREDENTIALS
          tokenEndpoint: /mep/token
      implSpecificInfo: {}
    serializer: JSON
    scopeOfLocality: MEC_SYSTEM
    consumedLocalOnly: false
    isLocal: true
    livenessInterval: 10
serAvailabilityNotificationSubscriptions:
  - subscriptionType: SerAvailabilityNotificationSubscription
    callbackReference: http://10.0.0.9:8080/notify
    links:
      self:
        href: /mecSerMgmtApi/example
    filteringCriteria:
      serNames:
        - ExampleService
      states:
        - ACTIVE
      isLocal: true
"#;

    #[test]
    fn reads_edgegallery_s_file() {
        let info = AppInstanceInfo::from_yaml("sample", EG_SAMPLE).unwrap();
        assert_eq!(info.service_info_posts.len(), 1);
        let s = &info.service_info_posts[0];
        assert_eq!(s.ser_name, "sampleapp");
        assert_eq!(
            s.transport_id, None,
            "transportId dropped next to transportInfo"
        );
        assert_eq!(s.liveness_interval, Some(10));
        assert_eq!(s.consumed_local_only, Some(false));
        let sub = &info.ser_availability_notification_subscriptions[0];
        assert_eq!(sub.callback_reference, "http://10.0.0.9:8080/notify");
        assert_eq!(sub.links, None);
        assert_eq!(
            sub.filtering_criteria.as_ref().map(|f| f.ser_names.clone()),
            Some(vec!["ExampleService".to_owned()])
        );
    }

    #[test]
    fn unknown_keys_and_invalid_services_are_errors() {
        let typo = EG_SAMPLE.replace("serviceInfoPosts:", "serviceInfoPost:");
        let e = AppInstanceInfo::from_yaml("f.yaml", &typo).unwrap_err();
        assert!(
            e.to_string().contains("unknown key(s) serviceInfoPost"),
            "{e}"
        );
        let nested = EG_SAMPLE.replace(
            "    serializer: JSON",
            "    serialiser: JSON\n    serializer: JSON",
        );
        let e = AppInstanceInfo::from_yaml("f.yaml", &nested).unwrap_err();
        assert!(
            e.to_string().contains("serviceInfoPosts.0.serialiser"),
            "{e}"
        );
        let bad_name = EG_SAMPLE.replace("serName: sampleapp", "serName: 'bad name'");
        let e = AppInstanceInfo::from_yaml("f.yaml", &bad_name).unwrap_err();
        assert!(e.to_string().contains("serviceInfoPosts[0].serName"), "{e}");
        let bad_callback = EG_SAMPLE.replace("http://10.0.0.9:8080/notify", "string");
        let e = AppInstanceInfo::from_yaml("f.yaml", &bad_callback).unwrap_err();
        assert!(
            e.to_string()
                .contains("serAvailabilityNotificationSubscriptions[0].callbackReference"),
            "{e}"
        );
        let e = AppInstanceInfo::from_yaml("f.yaml", "serviceInfoPosts: [").unwrap_err();
        assert!(e.is_config());
    }

    #[test]
    fn limits_are_enforced() {
        let one = "  - serName: s\n    version: v\n    state: ACTIVE\n    serializer: JSON\n    transportId: t\n";
        let yaml = format!("serviceInfoPosts:\n{}", one.repeat(MAX_SERVICES + 1));
        let e = AppInstanceInfo::from_yaml("f", &yaml).unwrap_err();
        assert!(e.to_string().contains("at most 50"), "{e}");
        assert!(
            AppInstanceInfo::from_yaml("f", &format!("serviceInfoPosts:\n{}", one.repeat(2)))
                .is_ok()
        );
    }

    #[test]
    fn the_shipped_file_registers_nothing() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CONFIG_PATH);
        assert_eq!(
            AppInstanceInfo::load(&path).unwrap(),
            AppInstanceInfo::default()
        );
    }

    #[test]
    fn an_empty_file_means_nothing_to_register() {
        assert_eq!(
            AppInstanceInfo::from_yaml("f", "serviceInfoPosts: null\n").unwrap(),
            AppInstanceInfo::default()
        );
        for empty in ["", "# nothing yet\n", "---\n"] {
            assert_eq!(
                AppInstanceInfo::from_yaml("f", empty).unwrap(),
                AppInstanceInfo::default(),
                "{empty:?}"
            );
        }
    }
}
