//! MEP-auth: `POST /mep/token` exchanges an AK/SK-signed request (EdgeGallery's `SDK-HMAC-SHA256`) for a bearer
//! token; Mp1 requests carry it.

use crate::engine::{AppState, Engine};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, Method, Uri};
use mec_core::client::TokenResponse;
use mec_core::server::{ApiError, Json};
use mec_core::signature::Verifier;
use mec_core::{SharedClock, system_clock};
use mec_mp1::server::{Caller, TokenValidator};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

/// The path of MEP-auth's token endpoint, as EdgeGallery serves it.
pub const TOKEN_PATH: &str = "/mep/token";

/// The claims of the tokens the MEP issues (EdgeGallery's set: `exp`, `iss`, `sub`, `clientip`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issuer: `mepauth`.
    pub iss: String,
    /// The app instance id.
    pub sub: String,
    /// The client's IP address, as EdgeGallery binds tokens to it.
    pub clientip: String,
    /// The token generation: tokens of an older generation were expired by force.
    #[serde(default)]
    pub generation: u64,
}

/// Issues and checks tokens for the apps an [`Engine`] knows. Cheap to clone.
#[derive(Clone)]
pub struct TokenService {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    key: [u8; 32],
    clock: SharedClock,
    lifetime: Duration,
    generation: AtomicU64,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("lifetime", &self.inner.lifetime)
            .finish_non_exhaustive()
    }
}

impl TokenService {
    /// Tokens for `engine`'s apps, valid for `lifetime` on the engine's clock, signed with a key of their own.
    pub fn new(engine: Engine, lifetime: Duration) -> Self {
        Self::with_signing_key(engine, lifetime, random_key())
    }

    /// Tokens signed with `key`: replicas of one MEP share it, so that a token one issued is good on all.
    pub fn with_signing_key(engine: Engine, lifetime: Duration, key: [u8; 32]) -> Self {
        Self {
            inner: Arc::new(Inner {
                clock: engine.clock().clone(),
                engine,
                key,
                lifetime,
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// How long tokens stay valid.
    pub fn lifetime(&self) -> Duration {
        self.inner.lifetime
    }

    fn now_secs(&self) -> u64 {
        self.inner
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
    }

    /// Makes every token issued so far invalid.
    pub fn expire_all(&self) {
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// A token for an app instance.
    pub fn issue(&self, app_instance_id: &str) -> String {
        let claims = Claims {
            exp: self.now_secs() + self.inner.lifetime.as_secs(),
            iss: "mepauth".to_owned(),
            sub: app_instance_id.to_owned(),
            clientip: "127.0.0.1".to_owned(),
            generation: self.inner.generation.load(Ordering::SeqCst),
        };
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let signing_input = format!("{header}.{payload}");
        let sig = URL_SAFE_NO_PAD.encode(self.mac(&signing_input));
        format!("{signing_input}.{sig}")
    }

    fn mac(&self, input: &str) -> Vec<u8> {
        match <Hmac<Sha256> as KeyInit>::new_from_slice(&self.inner.key) {
            Ok(mut m) => {
                m.update(input.as_bytes());
                m.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }

    /// Checks a token's signature and expiry, and that its app instance is still alive; returns its claims.
    pub fn check(&self, token: &str) -> Result<Claims, ApiError> {
        let invalid = || ApiError::unauthorized("the token is not valid");
        let (signing_input, sig) = token.rsplit_once('.').ok_or_else(invalid)?;
        let given = URL_SAFE_NO_PAD.decode(sig).map_err(|_| invalid())?;
        let expected = self.mac(signing_input);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_slice(),
            given.as_slice(),
        )) {
            return Err(invalid());
        }
        let payload = signing_input.split('.').nth(1).ok_or_else(invalid)?;
        let claims: Claims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?)
                .map_err(|_| invalid())?;
        if self.now_secs() >= claims.exp
            || claims.generation != self.inner.generation.load(Ordering::SeqCst)
        {
            return Err(ApiError::unauthorized(
                "the token has expired; request a new one at /mep/token",
            ));
        }
        match self.inner.engine.app_state(&claims.sub) {
            Some(AppState::Terminated) | None => Err(invalid()),
            Some(_) => Ok(claims),
        }
    }

    /// `POST /mep/token`, to merge into a router.
    pub fn routes(&self) -> Router {
        // Signatures are dated by the app's own clock, so they are checked against real time; token expiry follows
        // the engine's clock.
        let state = TokenState {
            verifier: Arc::new(Verifier::with_keys(
                self.inner.engine.clone(),
                system_clock(),
            )),
            tokens: self.clone(),
        };
        Router::new().route(TOKEN_PATH, post(issue_token).with_state(state))
    }
}

/// 32 random bytes (two v4 UUIDs, from the operating system's generator).
pub(crate) fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    key.iter_mut()
        .zip(
            uuid::Uuid::new_v4()
                .as_bytes()
                .iter()
                .chain(uuid::Uuid::new_v4().as_bytes()),
        )
        .for_each(|(k, r)| *k = *r);
    key
}

#[async_trait::async_trait]
impl TokenValidator for TokenService {
    async fn validate(&self, token: &str) -> Result<Caller, ApiError> {
        self.check(token).map(|c| Caller {
            app_instance_id: c.sub,
        })
    }
}

#[derive(Clone)]
struct TokenState {
    verifier: Arc<Verifier>,
    tokens: TokenService,
}

async fn issue_token(
    State(s): State<TokenState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use mec_core::signature::VerifyError;
    match s.verifier.verify(&method, &uri, &headers, &body) {
        Ok(v) => match s.tokens.inner.engine.credential(&v.access_key) {
            Some(c) => Json(TokenResponse {
                access_token: s.tokens.issue(&c.app_instance_id),
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
