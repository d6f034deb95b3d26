//! The initial state of a MEP: app instances with their credentials, rules and services, and the transports
//! offered. Written in code or read from a JSON or YAML file; checked with the same rules as requests.

use crate::engine::SubscriptionBody;
use mec_core::signature::Credentials;
use mec_mp1::model::{
    AppInfo, AppTerminationNotificationSubscription, DnsRule,
    SerAvailabilityNotificationSubscription, ServiceInfo, TrafficRule, TransportInfo, Validate,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One app instance known to the MEP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AppInstance {
    /// The app instance id.
    pub app_instance_id: String,
    /// The access key the app signs its token requests with; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    /// The secret key; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// Whether the app may use Mp1 (Mm5's `appSupportMp1`; default true).
    #[serde(default = "yes")]
    pub app_support_mp1: bool,
    /// Its traffic rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traffic_rules: Vec<TrafficRule>,
    /// Its DNS rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_rules: Vec<DnsRule>,
    /// Services it has registered already.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceInfo>,
    /// Its registration (MEC 011 3.x `AppInfo`, as posted to `/mec_app_support/v2/registrations`); its
    /// `appInstanceId`, when given, is the app's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<AppInfo>,
    /// Its service availability subscriptions, with fixed ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability_subscriptions: Vec<Seeded<SerAvailabilityNotificationSubscription>>,
    /// Its app termination subscriptions (to its own termination), with fixed ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub termination_subscriptions: Vec<Seeded<AppTerminationNotificationSubscription>>,
}

/// A resource with the id it is seeded under (`id` next to the resource's own members).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Seeded<T> {
    /// The resource's id, as in its URI (`.../subscriptions/{id}`).
    pub id: String,
    /// The resource.
    #[serde(flatten)]
    pub value: T,
}

impl<T> Seeded<T> {
    /// `value` seeded under `id`.
    pub fn new(id: impl Into<String>, value: T) -> Self {
        Self {
            id: id.into(),
            value,
        }
    }
}

fn yes() -> bool {
    true
}

impl AppInstance {
    /// An app instance with generated credentials and nothing else.
    pub fn new(app_instance_id: impl Into<String>) -> Self {
        Self {
            app_instance_id: app_instance_id.into(),
            access_key: None,
            secret_key: None,
            app_support_mp1: true,
            traffic_rules: Vec::new(),
            dns_rules: Vec::new(),
            services: Vec::new(),
            registration: None,
            availability_subscriptions: Vec::new(),
            termination_subscriptions: Vec::new(),
        }
    }

    /// Uses these credentials instead of generated ones.
    #[must_use]
    pub fn with_credentials(mut self, credentials: &Credentials) -> Self {
        self.access_key = Some(credentials.access_key().to_owned());
        self.secret_key = Some(credentials.secret_key().to_owned());
        self
    }

    /// Adds a traffic rule.
    #[must_use]
    pub fn with_traffic_rule(mut self, rule: TrafficRule) -> Self {
        self.traffic_rules.push(rule);
        self
    }

    /// Adds a DNS rule.
    #[must_use]
    pub fn with_dns_rule(mut self, rule: DnsRule) -> Self {
        self.dns_rules.push(rule);
        self
    }

    /// Adds a service the app has registered already.
    #[must_use]
    pub fn with_service(mut self, service: ServiceInfo) -> Self {
        self.services.push(service);
        self
    }

    /// Registers the app (MEC 011 3.x `AppInfo`); its `appInstanceId` is set to the app's.
    #[must_use]
    pub fn with_registration(mut self, mut info: AppInfo) -> Self {
        info.app_instance_id = Some(self.app_instance_id.clone());
        self.registration = Some(info);
        self
    }

    /// Adds a service availability subscription with a fixed id.
    #[must_use]
    pub fn with_availability_subscription(
        mut self,
        id: impl Into<String>,
        subscription: SerAvailabilityNotificationSubscription,
    ) -> Self {
        self.availability_subscriptions.push(Seeded {
            id: id.into(),
            value: subscription,
        });
        self
    }

    /// Adds a subscription to the app's own termination with a fixed id, notified at `callback_reference`.
    #[must_use]
    pub fn with_termination_subscription(
        mut self,
        id: impl Into<String>,
        callback_reference: impl Into<String>,
    ) -> Self {
        let value =
            AppTerminationNotificationSubscription::new(callback_reference, &self.app_instance_id);
        self.termination_subscriptions.push(Seeded {
            id: id.into(),
            value,
        });
        self
    }

    /// Refuses this app on Mp1, as when its configuration says `appSupportMp1: false`.
    #[must_use]
    pub fn without_mp1(mut self) -> Self {
        self.app_support_mp1 = false;
        self
    }

    /// The app's credentials, generating missing keys in EdgeGallery's shape (20 and 64 characters) and
    /// keeping them in the seed.
    pub fn resolve_credentials(&mut self) -> Credentials {
        let random = |len: usize| {
            let mut s = String::new();
            while s.len() < len {
                s.push_str(&uuid::Uuid::new_v4().simple().to_string());
            }
            s.truncate(len);
            s
        };
        let ak = self
            .access_key
            .get_or_insert_with(|| random(20).to_uppercase())
            .clone();
        let sk = self.secret_key.get_or_insert_with(|| random(64)).clone();
        Credentials::new(ak, sk)
    }
}

/// The whole initial state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Seed {
    /// App instances.
    #[serde(default)]
    pub apps: Vec<AppInstance>,
    /// Transports offered by `GET /transports`; a default REST one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transports: Option<Vec<TransportInfo>>,
}

/// Why a seed file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid seed.
    #[error("{path} is not a valid MEP seed: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, with its position.
        message: String,
    },
}

impl Seed {
    /// No apps, the default transports.
    pub fn new() -> Self {
        Self::default()
    }

    /// With one more app instance.
    #[must_use]
    pub fn with_app(mut self, app: AppInstance) -> Self {
        self.apps.push(app);
        self
    }

    /// With these app instances too.
    #[must_use]
    pub fn with_apps(mut self, apps: impl IntoIterator<Item = AppInstance>) -> Self {
        self.apps.extend(apps);
        self
    }

    /// With the transports `GET /transports` offers instead of the default one.
    #[must_use]
    pub fn with_transports(mut self, transports: Vec<TransportInfo>) -> Self {
        self.transports = Some(transports);
        self
    }

    /// Reads a seed from JSON (`.json`) or YAML (any other extension).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SeedError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Io {
            path: shown.clone(),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json {
            Self::from_json(&text)
        } else {
            Self::from_yaml(&text)
        }
        .map_err(|message| SeedError::Invalid {
            path: shown,
            message,
        })
    }

    /// Reads a seed from JSON text, and checks it.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let seed: Self = serde_json::from_str(text).map_err(|e| e.to_string())?;
        seed.check().map(|()| seed)
    }

    /// Reads a seed from YAML text, and checks it.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let seed: Self = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        seed.check().map(|()| seed)
    }

    /// Checks every app, rule and service with the rules requests are checked with, and that ids are unique;
    /// the error names the member at fault (`apps[0].dnsRules[1].ipAddress: ...`).
    pub fn check(&self) -> Result<(), String> {
        let mut ids = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        let mut domains = std::collections::HashMap::new();
        let mut subscription_ids = std::collections::HashSet::new();
        for (i, app) in self.apps.iter().enumerate() {
            let at = |member: &str, e: &dyn std::fmt::Display| format!("apps[{i}].{member}{e}");
            if app.app_instance_id.is_empty() || app.app_instance_id.len() > 128 {
                return Err(at("appInstanceId: ", &"must be 1 to 128 characters"));
            }
            if !ids.insert(app.app_instance_id.as_str()) {
                return Err(at(
                    "appInstanceId: ",
                    &format!("{} is given twice", app.app_instance_id),
                ));
            }
            if let Some(ak) = &app.access_key
                && !keys.insert(ak.as_str())
            {
                return Err(at("accessKey: ", &"is given to two apps"));
            }
            for (j, r) in app.traffic_rules.iter().enumerate() {
                r.validate()
                    .map_err(|e| at(&format!("trafficRules[{j}]."), &e))?;
            }
            for (j, r) in app.dns_rules.iter().enumerate() {
                r.validate()
                    .map_err(|e| at(&format!("dnsRules[{j}]."), &e))?;
                let owner = domains
                    .entry(r.domain_name.to_ascii_lowercase())
                    .or_insert(app.app_instance_id.as_str());
                if *owner != app.app_instance_id {
                    return Err(at(
                        &format!("dnsRules[{j}].domainName: "),
                        &format!("{} is given to another app ({owner}) too", r.domain_name),
                    ));
                }
            }
            for (j, s) in app.services.iter().enumerate() {
                s.validate()
                    .map_err(|e| at(&format!("services[{j}]."), &e))?;
            }
            if let Some(r) = &app.registration {
                if r.app_instance_id
                    .as_ref()
                    .is_some_and(|id| *id != app.app_instance_id)
                {
                    return Err(at(
                        "registration.appInstanceId: ",
                        &"is another app's; leave it out or give the app's own",
                    ));
                }
                let mut r = r.clone();
                r.app_instance_id = Some(app.app_instance_id.clone());
                r.validate().map_err(|e| at("registration.", &e))?;
            }
            let subscriptions = app
                .availability_subscriptions
                .iter()
                .map(|s| ("availabilitySubscriptions", &s.id, s.value.validate()))
                .chain(
                    app.termination_subscriptions
                        .iter()
                        .map(|s| ("terminationSubscriptions", &s.id, s.value.validate())),
                );
            for (j, (member, id, valid)) in subscriptions.enumerate() {
                let member = format!("{member}[{j}].");
                valid.map_err(|e| at(&member, &e))?;
                if id.is_empty() || id.len() > 128 || id.contains('/') {
                    return Err(at(
                        &format!("{member}id: "),
                        &"must be 1 to 128 characters, without '/'",
                    ));
                }
                if !subscription_ids.insert(id.clone()) {
                    return Err(at(
                        &format!("{member}id: "),
                        &format!("{id} is given twice"),
                    ));
                }
            }
            for (j, s) in app.termination_subscriptions.iter().enumerate() {
                if s.value.app_instance_id != app.app_instance_id {
                    return Err(at(
                        &format!("terminationSubscriptions[{j}].appInstanceId: "),
                        &"an app subscribes to its own termination only",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A service id derived from its owner, name and version, so that seeding twice (a restart over a durable store)
/// finds the service it made the first time instead of registering it again.
fn seeded_service_id(app: &str, s: &ServiceInfo) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{app}/{}/{}", s.ser_name, s.version));
    let mut id = String::with_capacity(32);
    for b in digest.iter().take(16) {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

impl Seed {
    /// Applies the seed to a fresh engine in memory, then drops it: the check `--check` makes, which finds what
    /// [`check`](Self::check) cannot (a registration or subscription the engine refuses). Returns the app
    /// instances it would provision.
    pub async fn dry_run(&self) -> Result<Vec<String>, mec_core::server::ApiError> {
        let engine = crate::Engine::open(
            crate::store::MemoryStore::new(),
            mec_core::system_clock(),
            crate::engine::EngineConfig::default(),
        )
        .await
        .map_err(mec_core::server::ApiError::internal)?;
        let applied = self.clone().apply(&engine).await;
        engine.shutdown();
        Ok(applied?.into_iter().map(|(id, _)| id).collect())
    }

    /// Provisions the seed into an engine: app instances and their credentials (generated where missing, and
    /// kept in the seed), rules, services and transports. Applying a seed again changes nothing it made before,
    /// so a MEP over a durable store can apply its seed at every start.
    pub async fn apply(
        &mut self,
        engine: &crate::Engine,
    ) -> Result<Vec<(String, Credentials)>, mec_core::server::ApiError> {
        self.check()
            .map_err(mec_core::server::ApiError::bad_request)?;
        if let Some(transports) = &self.transports {
            engine.set_transports(transports.clone()).await?;
        }
        let mut provisioned = Vec::new();
        for app in &mut self.apps {
            let credentials = app.resolve_credentials();
            engine
                .provision_app(
                    &app.app_instance_id,
                    Some(&credentials),
                    app.app_support_mp1,
                )
                .await?;
            for r in &app.traffic_rules {
                engine
                    .set_traffic_rule(&app.app_instance_id, r.clone())
                    .await?;
            }
            for r in &app.dns_rules {
                engine.set_dns_rule(&app.app_instance_id, r.clone()).await?;
            }
            for s in &app.services {
                let mut s = s.clone();
                let id = s
                    .ser_instance_id
                    .clone()
                    .unwrap_or_else(|| seeded_service_id(&app.app_instance_id, &s));
                if engine
                    .services()
                    .iter()
                    .any(|x| x.ser_instance_id.as_deref() == Some(id.as_str()))
                {
                    continue;
                }
                s.ser_instance_id = Some(id);
                engine.seed_service(&app.app_instance_id, s).await?;
            }
            if let Some(r) = &app.registration {
                let mut r = r.clone();
                r.app_instance_id = Some(app.app_instance_id.clone());
                engine.seed_registration(r).await?;
            }
            for s in &app.availability_subscriptions {
                let body = SubscriptionBody::Availability(s.value.clone());
                engine
                    .seed_subscription(&app.app_instance_id, &s.id, body)
                    .await?;
            }
            for s in &app.termination_subscriptions {
                let body = SubscriptionBody::Termination(s.value.clone());
                engine
                    .seed_subscription(&app.app_instance_id, &s.id, body)
                    .await?;
            }
            provisioned.push((app.app_instance_id.clone(), credentials));
        }
        Ok(provisioned)
    }
}
