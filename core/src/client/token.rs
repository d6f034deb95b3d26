//! Where bearer tokens come from: none, a fixed one, or MEP-auth's AK/SK exchange (cached and renewed).

use super::Error;
use crate::problem::ProblemDetails;
use crate::signature::{Credentials, Signer};
use crate::time::SharedClock;
use http::{HeaderMap, HeaderValue, Method};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::time::{Duration, SystemTime};

/// MEP-auth's answer to `POST /mep/token`: `{"access_token": .., "token_type": "Bearer", "expires_in": 3600}`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The bearer token (a JWT with EdgeGallery).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the token is valid for from now (fractions are accepted when reading and dropped).
    #[serde(deserialize_with = "lenient_seconds")]
    pub expires_in: u64,
}

impl TokenResponse {
    /// A `Bearer` token valid for `expires_in` seconds.
    pub fn bearer(access_token: impl Into<String>, expires_in: u64) -> Self {
        Self {
            access_token: access_token.into(),
            token_type: "Bearer".to_owned(),
            expires_in,
        }
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

fn lenient_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    if let Some(u) = n.as_u64() {
        return Ok(u);
    }
    match n.as_f64() {
        // A float that is finite and non-negative saturates into u64; fractions of a second are dropped.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(f) if f.is_finite() && f >= 0.0 => Ok(f.floor() as u64),
        _ => Err(serde::de::Error::custom(
            "expires_in must be a non-negative number",
        )),
    }
}

/// Supplies the bearer token of each request.
///
/// Implemented by [`StaticToken`], [`NoAuth`] and [`AkSkTokenProvider`]; implement it to plug in another scheme.
#[async_trait::async_trait]
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// The token to send, or `None` to send no `Authorization` header.
    async fn token(&self) -> Result<Option<String>, Error>;

    /// Forgets a cached token after the server refused it with 401. Returns whether a retry with a new token
    /// could help.
    async fn invalidate(&self) -> bool {
        false
    }

    /// Forgets `refused`, the token a request was refused with (401), unless a newer token has replaced it
    /// meanwhile: then that one is kept, so concurrent 401s do not throw away a token fetched for them. Returns
    /// whether a retry could help. Defaults to [`invalidate`](Self::invalidate).
    async fn invalidate_refused(&self, refused: &str) -> bool {
        let _ = refused;
        self.invalidate().await
    }
}

/// Sends no `Authorization` header.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAuth;

#[async_trait::async_trait]
impl TokenProvider for NoAuth {
    async fn token(&self) -> Result<Option<String>, Error> {
        Ok(None)
    }
}

/// Sends the same bearer token on every request.
#[derive(Clone)]
pub struct StaticToken(String);

impl StaticToken {
    /// A provider of `token`.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken(<redacted>)")
    }
}

#[async_trait::async_trait]
impl TokenProvider for StaticToken {
    async fn token(&self) -> Result<Option<String>, Error> {
        Ok(Some(self.0.clone()))
    }
}

struct Cached {
    token: String,
    expires_at: SystemTime,
}

/// Fetches tokens from MEP-auth with a signed AK/SK request and caches them.
///
/// The first request fetches a token; later ones reuse it until `refresh_before` ahead of its expiry; a 401 from
/// the API drops it so the next request fetches a new one. Concurrent callers share one fetch.
pub struct AkSkTokenProvider {
    http: reqwest::Client,
    token_url: url::Url,
    signer: Signer,
    clock: SharedClock,
    refresh_before: Duration,
    timeout: Option<Duration>,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

impl fmt::Debug for AkSkTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AkSkTokenProvider")
            .field("token_url", &self.token_url.as_str())
            .field("access_key", &self.signer.credentials().access_key())
            .field("refresh_before", &self.refresh_before)
            .finish_non_exhaustive()
    }
}

impl AkSkTokenProvider {
    /// The default margin before expiry at which a token is renewed.
    pub const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(60);

    pub(crate) fn new(
        http: reqwest::Client,
        token_url: url::Url,
        credentials: Credentials,
        clock: SharedClock,
    ) -> Self {
        Self {
            http,
            token_url,
            signer: Signer::new(credentials),
            clock,
            refresh_before: Self::DEFAULT_REFRESH_BEFORE,
            timeout: None,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    pub(crate) fn with_refresh_before(mut self, margin: Duration) -> Self {
        self.refresh_before = margin;
        self
    }

    /// The timeout of a token request (the client's overall timeout).
    pub(crate) fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Fetches a new token now, whatever is cached.
    pub async fn fetch(&self) -> Result<TokenResponse, Error> {
        // The MEP checks the signature's date against real time, whatever clock drives expiry here; each request
        // of this provider is dated in a second of its own, so that a quick second request is no replay.
        let now = crate::signature::signing_date(self.signer.credentials().access_key()).await;
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let uri: http::Uri = self
            .token_url
            .as_str()
            .parse()
            .map_err(|e| Error::InvalidRequest(format!("token URL: {e}")))?;
        self.signer
            .sign(&Method::POST, &uri, &mut headers, b"", now);
        let mut request = self.http.post(self.token_url.clone()).headers(headers);
        if let Some(t) = self.timeout {
            request = request.timeout(t);
        }
        let response = request.send().await.map_err(Error::from_reqwest)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(Error::from_reqwest)?;
        if !(200..300).contains(&status) {
            return Err(Error::api(status, ProblemDetails::from_body(status, &body)));
        }
        serde_json::from_slice(&body)
            .map_err(|e| Error::Auth(format!("the token answer does not decode: {e}")))
    }
}

#[async_trait::async_trait]
impl TokenProvider for AkSkTokenProvider {
    async fn token(&self) -> Result<Option<String>, Error> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && self.clock.now() + self.refresh_before < c.expires_at
        {
            return Ok(Some(c.token.clone()));
        }
        let fresh = self.fetch().await?;
        let expires_at = self.clock.now() + Duration::from_secs(fresh.expires_in);
        *cached = Some(Cached {
            token: fresh.access_token.clone(),
            expires_at,
        });
        Ok(Some(fresh.access_token))
    }

    async fn invalidate(&self) -> bool {
        *self.cached.lock().await = None;
        true
    }

    async fn invalidate_refused(&self, refused: &str) -> bool {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == refused) {
            *cached = None;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_401_forgets_the_refused_token_only() {
        let provider = AkSkTokenProvider::new(
            reqwest::Client::new(),
            url::Url::parse("http://127.0.0.1:9/mep/token").unwrap(),
            Credentials::new("ak", "sk"),
            crate::time::system_clock(),
        );
        let cache = |token: &str| Cached {
            token: token.to_owned(),
            expires_at: SystemTime::now() + Duration::from_secs(3600),
        };
        // Another request's 401 fetched "new" meanwhile: a late 401 for "old" keeps it.
        *provider.cached.lock().await = Some(cache("new"));
        assert!(provider.invalidate_refused("old").await);
        assert_eq!(provider.token().await.unwrap().as_deref(), Some("new"));
        // The 401 for the token in the cache forgets it.
        assert!(provider.invalidate_refused("new").await);
        assert!(provider.cached.lock().await.is_none());
    }

    #[test]
    fn token_response_reads_fractional_and_integer_expiry() {
        let t: TokenResponse = serde_json::from_str(
            r#"{"access_token":"a.b.c","token_type":"Bearer","expires_in":3600}"#,
        )
        .unwrap();
        assert_eq!(t.expires_in, 3600);
        let t: TokenResponse = serde_json::from_str(
            r#"{"access_token":"a.b.c","token_type":"Bearer","expires_in":3599.7}"#,
        )
        .unwrap();
        assert_eq!(t.expires_in, 3599);
        assert!(
            serde_json::from_str::<TokenResponse>(
                r#"{"access_token":"a","token_type":"Bearer","expires_in":-1}"#
            )
            .is_err()
        );
        assert!(!format!("{t:?}").contains("a.b.c"));
    }
}
