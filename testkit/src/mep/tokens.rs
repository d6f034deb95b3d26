//! MEP-auth in memory: AK/SK credentials per app instance, `POST /mep/token` with signature verification, and
//! HS256 JWTs that expire on the mock's clock.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use mec_core::SharedClock;
use mec_core::server::ApiError;
use mec_core::signature::{Credentials, SecretKeys};
use mec_mp1::server::{Caller, TokenValidator};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, UNIX_EPOCH};

/// The claims of the tokens the mock issues (EdgeGallery's set: `exp`, `iss`, `sub`, `clientip`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issuer: `mepauth`.
    pub iss: String,
    /// The app instance id.
    pub sub: String,
    /// The client's IP address, as EdgeGallery binds tokens to it (not enforced by the mock).
    pub clientip: String,
    /// The mock's token generation: tokens of an older generation were expired by force.
    #[serde(default)]
    pub generation: u64,
}

/// Credentials and issued tokens, shared by the token endpoint and the bearer check.
#[derive(Clone)]
pub(crate) struct TokenAuthority {
    inner: Arc<Inner>,
}

struct Inner {
    key: [u8; 32],
    clock: SharedClock,
    lifetime: Duration,
    /// AK -> (SK, app instance id)
    credentials: Mutex<HashMap<String, (String, String)>>,
    /// Tokens of another generation are refused (bumped by `expire_all`).
    generation: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for TokenAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuthority")
            .field("lifetime", &self.inner.lifetime)
            .finish_non_exhaustive()
    }
}

impl TokenAuthority {
    pub(crate) fn new(clock: SharedClock, lifetime: Duration) -> Self {
        let mut key = [0u8; 32];
        key.iter_mut()
            .zip(
                uuid::Uuid::new_v4()
                    .as_bytes()
                    .iter()
                    .chain(uuid::Uuid::new_v4().as_bytes()),
            )
            .for_each(|(k, r)| *k = *r);
        Self {
            inner: Arc::new(Inner {
                key,
                clock,
                lifetime,
                credentials: Mutex::new(HashMap::new()),
                generation: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    pub(crate) fn lifetime(&self) -> Duration {
        self.inner.lifetime
    }

    pub(crate) fn provision(&self, app_instance_id: &str, credentials: &Credentials) {
        self.inner
            .credentials
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                credentials.access_key().to_owned(),
                (
                    credentials.secret_key().to_owned(),
                    app_instance_id.to_owned(),
                ),
            );
    }

    pub(crate) fn revoke_app(&self, app_instance_id: &str) {
        self.inner
            .credentials
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, (_, app)| app != app_instance_id);
    }

    pub(crate) fn app_of(&self, access_key: &str) -> Option<String> {
        self.inner
            .credentials
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(access_key)
            .map(|(_, app)| app.clone())
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
    pub(crate) fn expire_all(&self) {
        self.inner
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    pub(crate) fn issue(&self, app_instance_id: &str) -> String {
        let now = self.now_secs();
        let claims = Claims {
            exp: now + self.inner.lifetime.as_secs(),
            iss: "mepauth".to_owned(),
            sub: app_instance_id.to_owned(),
            clientip: "127.0.0.1".to_owned(),
            generation: self
                .inner
                .generation
                .load(std::sync::atomic::Ordering::SeqCst),
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

    /// Checks a token's signature and expiry; returns its claims.
    pub(crate) fn check(&self, token: &str) -> Result<Claims, ApiError> {
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
        let now = self.now_secs();
        let generation = self
            .inner
            .generation
            .load(std::sync::atomic::Ordering::SeqCst);
        if now >= claims.exp || claims.generation != generation {
            return Err(ApiError::unauthorized(
                "the token has expired; request a new one at /mep/token",
            ));
        }
        Ok(claims)
    }
}

impl SecretKeys for TokenAuthority {
    fn secret_key(&self, access_key: &str) -> Option<String> {
        self.inner
            .credentials
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(access_key)
            .map(|(sk, _)| sk.clone())
    }
}

#[async_trait::async_trait]
impl TokenValidator for TokenAuthority {
    async fn validate(&self, token: &str) -> Result<Caller, ApiError> {
        self.check(token).map(|c| Caller {
            app_instance_id: c.sub,
        })
    }
}
