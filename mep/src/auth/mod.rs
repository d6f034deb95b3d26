//! MEP-auth, enforced by the MEP itself (EdgeGallery leaves it to its Kong gateway).
//!
//! [`TokenService`] serves `POST /mep/token`: a request signed with EdgeGallery's `SDK-HMAC-SHA256` (an app's
//! AK/SK, looked up asynchronously in a [`KeyStore`]) gets a JWT, RS512 by default as EdgeGallery's, whose `sub`
//! is the app instance. It then protects Mp1 ([`TokenService::protect`]): every request needs a valid token,
//! and app-scoped routes only serve the token's app. Around that:
//!
//! - one 401 message for every credential failure (unknown access key, wrong or malformed signature, replayed
//!   signature, bad or expired token), so a caller learns nothing about which keys exist;
//! - a signature is accepted once: a replay inside the date window is refused;
//! - rate limits per client address and per access key on the token endpoint, per token on Mp1 (429
//!   problem+json with `Retry-After`); an access key locked after repeated failures (403 "Access is locked.",
//!   EdgeGallery's answer); an optional allow list of addresses for the token endpoint;
//! - tokens optionally bound to the client's address (EdgeGallery's `clientip` claim), and revoked at once when
//!   their app is terminated or its credentials are withdrawn ([`AppDirectory`]);
//! - signing keys rotated by `kid`: an old key keeps verifying its tokens until they expire.
//!
//! Time (token expiry, rate limits, lockout) follows the injected clock; signature dates are checked against
//! real time, since apps date them with theirs.
//!
//! The service stands alone: a vendor mounts it in front of their own Mp1 implementation.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mec_mep::auth::{AppKey, AuthConfig, AuthError, KeyStore, SigningKeys, TokenService};
//! use std::sync::Arc;
//!
//! /// The vendor's credential database.
//! struct MyKeys;
//! #[async_trait::async_trait]
//! impl KeyStore for MyKeys {
//!     async fn app_key(&self, access_key: &str) -> Result<Option<AppKey>, AuthError> {
//!         Ok((access_key == "QVUJMSUMgS0VZLS0tLS0").then(|| AppKey::new("5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f", "DXPb4sqE...")))
//!     }
//! }
//!
//! # struct MyMep;
//! # impl mec_mp1::server::ServiceManagement for MyMep {}
//! # impl mec_mp1::server::AppSupport for MyMep {}
//! let tokens = TokenService::new(
//!     Arc::new(MyKeys),
//!     Arc::new(mec_mep::auth::EveryApp), // or the vendor's own revocation check
//!     SigningKeys::generate()?,
//!     mec_core::system_clock(),
//!     AuthConfig::default(),
//! );
//! let app = tokens.protect(mec_mp1::server::router(MyMep)).merge(tokens.routes());
//! # let _ = app; Ok(()) }
//! ```

mod keys;
mod limits;

pub use keys::{KeyError, SigningKeys, TokenKey};
pub use limits::IpRange;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use limits::{Limiter, Lockout, ReplayCache};
use mec_core::client::TokenResponse;
use mec_core::server::{ApiError, Json};
use mec_core::signature::{DEFAULT_MAX_SKEW, Verifier};
use mec_core::{SharedClock, system_clock};
use mec_mp1::server::Caller;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The path of MEP-auth's token endpoint, as EdgeGallery serves it.
pub const TOKEN_PATH: &str = "/mep/token";

/// The one answer to every credential failure on the token endpoint (EdgeGallery's words).
const BAD_CREDENTIALS: &str = "Invalid access or signature.";
/// The one answer to every token failure on Mp1.
const BAD_TOKEN: &str = "the token is missing, invalid or expired; request one at /mep/token";

/// How the token service behaves. [`AuthConfig::default`] is EdgeGallery's gateway configuration;
/// [`AuthConfig::permissive`] turns the limits off (mocks).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuthConfig {
    /// How long tokens stay valid (default 3600 s).
    pub token_lifetime: Duration,
    /// The `iss` claim (default `mepauth`, EdgeGallery's).
    pub issuer: String,
    /// How far a signature's `x-sdk-date` may be from real time, either way (default 15 minutes).
    pub max_skew: Duration,
    /// Bind tokens to the address they were issued to (EdgeGallery's `clientip`); a token used from another
    /// address is refused (default false: behind a proxy, the peer is the proxy).
    pub bind_client_ip: bool,
    /// Token requests per minute per client address (default 100, EdgeGallery's; 0: no limit).
    pub token_requests_per_minute_per_ip: u32,
    /// Token requests per minute per access key (default 100; 0: no limit).
    pub token_requests_per_minute_per_key: u32,
    /// Mp1 requests per minute per token (default 1,000, EdgeGallery's; 0: no limit).
    pub mp1_requests_per_minute_per_token: u32,
    /// Failures after which an access key is locked (default 5; 0: never locked).
    pub lockout_failures: u32,
    /// The window the failures are counted in (default 5 minutes).
    pub lockout_window: Duration,
    /// How long a key stays locked (default 5 minutes).
    pub lockout_duration: Duration,
    /// The addresses the token endpoint serves (empty: all).
    pub token_allow_list: Vec<IpRange>,
    /// Entries kept in each protection table (replay cache, failure counts; default 100,000).
    pub max_tracked: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            token_lifetime: Duration::from_secs(3600),
            issuer: "mepauth".to_owned(),
            max_skew: DEFAULT_MAX_SKEW,
            bind_client_ip: false,
            token_requests_per_minute_per_ip: 100,
            token_requests_per_minute_per_key: 100,
            mp1_requests_per_minute_per_token: 1000,
            lockout_failures: 5,
            lockout_window: Duration::from_secs(300),
            lockout_duration: Duration::from_secs(300),
            token_allow_list: Vec::new(),
            max_tracked: 100_000,
        }
    }
}

impl AuthConfig {
    /// No rate limits and no lockout (the other checks stay): for mocks, where tests must not be throttled.
    pub fn permissive() -> Self {
        Self {
            token_requests_per_minute_per_ip: 0,
            token_requests_per_minute_per_key: 0,
            mp1_requests_per_minute_per_token: 0,
            lockout_failures: 0,
            ..Self::default()
        }
    }
}

/// Why a credential or directory lookup failed (not that the credential was refused: that is `Ok(None)` or
/// `Ok(false)`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The store behind the lookup is unavailable; the caller gets 503.
    #[error("the credential store is unavailable: {0}")]
    Unavailable(String),
}

/// An app's secret key and the app instance it belongs to.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppKey {
    /// The app instance.
    pub app_instance_id: String,
    /// The secret key (SK).
    pub secret_key: String,
}

impl AppKey {
    /// A key of an app instance.
    pub fn new(app_instance_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            app_instance_id: app_instance_id.into(),
            secret_key: secret_key.into(),
        }
    }
}

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppKey")
            .field("app_instance_id", &self.app_instance_id)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

/// Where secret keys are looked up (a database, etcd, the MEP engine).
#[async_trait::async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// The key of `access_key`, if it is known.
    async fn app_key(&self, access_key: &str) -> Result<Option<AppKey>, AuthError>;
}

/// Whether an app instance may hold tokens: unknown, terminated or revoked apps may not.
#[async_trait::async_trait]
pub trait AppDirectory: Send + Sync + 'static {
    /// Whether a token issued to `app_instance_id` at `issued_at` is still good.
    async fn accepts_tokens(
        &self,
        app_instance_id: &str,
        issued_at: SystemTime,
    ) -> Result<bool, AuthError>;
}

/// An [`AppDirectory`] that accepts every app (no revocation beyond expiry).
#[derive(Clone, Copy, Debug, Default)]
pub struct EveryApp;

#[async_trait::async_trait]
impl AppDirectory for EveryApp {
    async fn accepts_tokens(&self, _: &str, _: SystemTime) -> Result<bool, AuthError> {
        Ok(true)
    }
}

/// The claims of the tokens the MEP issues: EdgeGallery's (`exp`, `iss`, `sub`, `clientip`) and `iat`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Claims {
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Issuer.
    pub iss: String,
    /// The app instance id.
    pub sub: String,
    /// The client's address at issuance (`UNKNOWN_IP` when unknown, as EdgeGallery writes it).
    pub clientip: String,
    /// The service's token generation: tokens of an older one were expired by force.
    #[serde(default)]
    pub generation: u64,
}

/// Issues and checks MEP-auth tokens. Cheap to clone.
#[derive(Clone)]
pub struct TokenService {
    inner: Arc<Inner>,
}

struct Inner {
    keys: Arc<dyn KeyStore>,
    apps: Arc<dyn AppDirectory>,
    signing: SigningKeys,
    clock: SharedClock,
    verifier: Verifier,
    config: AuthConfig,
    generation: AtomicU64,
    per_ip: Limiter<IpAddr>,
    per_key: Limiter<String>,
    per_token: Limiter<u64>,
    lockout: Lockout,
    replays: ReplayCache,
}

impl fmt::Debug for TokenService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService")
            .field("config", &self.inner.config)
            .field("kid", &self.inner.signing.active().kid())
            .finish_non_exhaustive()
    }
}

fn seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

fn too_many(wait: Duration) -> ApiError {
    let secs = wait.as_secs().max(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("too many requests; try again in {secs} s"),
    )
    .with_header(
        http::header::RETRY_AFTER,
        HeaderValue::from_str(&secs.to_string()).unwrap_or(HeaderValue::from_static("60")),
    )
}

fn unavailable(e: &AuthError) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
}

/// The peer address a server recorded for the request, if any.
fn client_ip(extensions: &http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

impl TokenService {
    /// A token service over a key store and an app directory, signing with `signing`, its time from `clock`.
    pub fn new(
        keys: Arc<dyn KeyStore>,
        apps: Arc<dyn AppDirectory>,
        signing: SigningKeys,
        clock: SharedClock,
        config: AuthConfig,
    ) -> Self {
        let max = config.max_tracked;
        Self {
            inner: Arc::new(Inner {
                keys,
                apps,
                signing,
                // Signature dates are the app's clock: checked against real time.
                verifier: Verifier::with_keys(|_: &str| None, system_clock())
                    .with_max_skew(config.max_skew),
                per_ip: Limiter::per_minute(config.token_requests_per_minute_per_ip, clock.clone()),
                per_key: Limiter::per_minute(
                    config.token_requests_per_minute_per_key,
                    clock.clone(),
                ),
                per_token: Limiter::per_minute(
                    config.mp1_requests_per_minute_per_token,
                    clock.clone(),
                ),
                lockout: Lockout::new(
                    config.lockout_failures,
                    config.lockout_window,
                    config.lockout_duration,
                    max,
                ),
                replays: ReplayCache::new(max),
                clock,
                config,
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// A token service for the apps of a MEP engine (its credentials, its app states), on its clock.
    pub fn for_engine(engine: &crate::Engine, signing: SigningKeys, config: AuthConfig) -> Self {
        Self::new(
            Arc::new(engine.clone()),
            Arc::new(engine.clone()),
            signing,
            engine.clock().clone(),
            config,
        )
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    /// The signing keys (their public halves verify tokens elsewhere).
    pub fn signing_keys(&self) -> &SigningKeys {
        &self.inner.signing
    }

    /// How long tokens stay valid.
    pub fn lifetime(&self) -> Duration {
        self.inner.config.token_lifetime
    }

    /// Makes every token issued so far invalid.
    pub fn expire_all(&self) {
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// A token for an app instance, bound to `client` when known.
    pub fn issue(
        &self,
        app_instance_id: &str,
        client: Option<IpAddr>,
    ) -> Result<TokenResponse, ApiError> {
        let now = self.inner.clock.now();
        let lifetime = self.inner.config.token_lifetime;
        let claims = Claims {
            exp: seconds(now + lifetime),
            iat: seconds(now),
            iss: self.inner.config.issuer.clone(),
            sub: app_instance_id.to_owned(),
            clientip: client.map_or_else(|| "UNKNOWN_IP".to_owned(), |ip| ip.to_string()),
            generation: self.inner.generation.load(Ordering::SeqCst),
        };
        let (kid, key) = self.inner.signing.encoding();
        let mut header = jsonwebtoken::Header::new(SigningKeys::algorithm());
        header.kid = Some(kid.to_owned());
        let token = jsonwebtoken::encode(&header, &claims, key).map_err(ApiError::internal)?;
        Ok(TokenResponse::bearer(token, lifetime.as_secs()))
    }

    /// Checks a token: its signature (the algorithm and `kid` of a key of this service), issuer, expiry on the
    /// service's clock, generation, client address when bound, and that its app still accepts tokens. Every
    /// failure is the same 401.
    pub async fn authenticate(
        &self,
        token: &str,
        client: Option<IpAddr>,
    ) -> Result<Claims, ApiError> {
        let invalid = || ApiError::unauthorized(BAD_TOKEN);
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != SigningKeys::algorithm() {
            return Err(invalid());
        }
        let now = self.inner.clock.now();
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.inner.signing.decoding(kid, now))
            .ok_or_else(invalid)?;
        let mut validation = jsonwebtoken::Validation::new(SigningKeys::algorithm());
        // Expiry is checked below, on the service's clock.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "iss", "sub"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        validation.set_issuer(&[&self.inner.config.issuer]);
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|_| invalid())?
            .claims;
        if seconds(now) >= claims.exp
            || claims.generation != self.inner.generation.load(Ordering::SeqCst)
        {
            return Err(invalid());
        }
        if self.inner.config.bind_client_ip
            && Some(claims.clientip.as_str()) != client.map(|c| c.to_string()).as_deref()
        {
            return Err(invalid());
        }
        let issued = UNIX_EPOCH + Duration::from_secs(claims.iat);
        match self.inner.apps.accepts_tokens(&claims.sub, issued).await {
            Ok(true) => Ok(claims),
            Ok(false) => Err(invalid()),
            Err(e) => Err(unavailable(&e)),
        }
    }

    /// `POST /mep/token`, to merge into a router.
    pub fn routes(&self) -> Router {
        Router::new().route(TOKEN_PATH, post(issue_token).with_state(self.clone()))
    }

    /// Puts the token check in front of Mp1 routes: the caller's app instance is inserted for the routers'
    /// per-app checks; each token is rate limited.
    pub fn protect(&self, router: Router) -> Router {
        router.layer(axum::middleware::from_fn_with_state(self.clone(), protect))
    }

    /// Forgets rate-limit entries that have recovered (keeps the tables bounded by recent activity).
    pub fn prune(&self) {
        self.inner.per_ip.prune();
        self.inner.per_key.prune();
        self.inner.per_token.prune();
    }

    async fn token_request(
        &self,
        client: Option<IpAddr>,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<TokenResponse, ApiError> {
        let i = &self.inner;
        let config = &i.config;
        if !config.token_allow_list.is_empty()
            && !client.is_some_and(|ip| config.token_allow_list.iter().any(|r| r.contains(ip)))
        {
            return Err(ApiError::forbidden(
                "the token endpoint does not serve this address",
            ));
        }
        if let Some(ip) = client {
            i.per_ip.check(&ip).map_err(too_many)?;
        }
        let refused = || ApiError::unauthorized(BAD_CREDENTIALS);
        let now = i.clock.now();
        let signed = match i.verifier.check_form(headers) {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(reason = %e, "token request refused");
                return Err(refused());
            }
        };
        let ak = signed.access_key().to_owned();
        if i.lockout.is_locked(&ak, now) {
            return Err(ApiError::forbidden("Access is locked."));
        }
        i.per_key.check(&ak).map_err(too_many)?;
        let fail = |reason: &dyn fmt::Display| {
            tracing::debug!(access_key = %ak, %reason, "token request refused");
            i.lockout.fail(&ak, now);
            refused()
        };
        let until = signed.signed_at() + config.max_skew;
        // The access key is not part of what is signed: a use is the pair.
        let used = format!("{ak}:{}", signed.signature());
        match i.replays.first_use(&used, until, SystemTime::now()) {
            Ok(true) => {}
            Ok(false) => return Err(fail(&"the signature was used before")),
            Err(_) => return Err(too_many(Duration::from_secs(60))),
        }
        let key = match i.keys.app_key(&ak).await {
            Ok(Some(k)) => k,
            Ok(None) => return Err(fail(&"unknown access key")),
            Err(e) => return Err(unavailable(&e)),
        };
        if let Err(e) = signed.verify(&key.secret_key, method, uri, headers, body) {
            return Err(fail(&e));
        }
        match i.apps.accepts_tokens(&key.app_instance_id, now).await {
            Ok(true) => {}
            Ok(false) => return Err(fail(&"the app instance does not accept tokens")),
            Err(e) => return Err(unavailable(&e)),
        }
        i.lockout.succeed(&ak);
        self.issue(&key.app_instance_id, client)
    }
}

async fn issue_token(
    State(s): State<TokenService>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let client = client_ip(request.extensions());
    let body: Bytes = match axum::body::to_bytes(request.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::payload_too_large("a token request has no body to speak of")
                .into_response();
        }
    };
    match s
        .token_request(client, &method, &uri, &headers, &body)
        .await
    {
        Ok(t) => Json(t).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The bearer token of a request, if it carries one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn token_key(token: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    token.hash(&mut h);
    h.finish()
}

async fn protect(State(s): State<TokenService>, mut request: Request, next: Next) -> Response {
    let client = client_ip(request.extensions());
    let Some(token) = bearer(request.headers()).map(str::to_owned) else {
        return ApiError::unauthorized(BAD_TOKEN).into_response();
    };
    let claims = match s.authenticate(&token, client).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if let Err(wait) = s.inner.per_token.check(&token_key(&token)) {
        return too_many(wait).into_response();
    }
    request.extensions_mut().insert(Caller::new(claims.sub));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header_only() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            "authorization",
            HeaderValue::from_static("Basic dXNlcjpwdw=="),
        );
        assert_eq!(bearer(&h), None);
        h.insert("authorization", HeaderValue::from_static("bearer abc"));
        assert_eq!(bearer(&h), Some("abc"));
        h.insert("authorization", HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&h), None);
    }
}
