//! The app's token: fetched from MEP-auth with a signed AK/SK request, kept with its expiry, handed to the Mp1
//! client and to the app.

use crate::clock::AgentClock;
use mec_core::client::{ApiRequest, Error, HttpClient, TokenProvider, TokenResponse};
use mec_core::signature::{Credentials, Signer};
use std::fmt;
use std::time::{Duration, SystemTime};
use url::Url;

/// A token and when it expires (on the agent's clock).
#[derive(Clone)]
pub(crate) struct HeldToken {
    pub(crate) access_token: String,
    pub(crate) token_type: String,
    pub(crate) obtained_at: SystemTime,
    pub(crate) expires_at: SystemTime,
}

impl fmt::Debug for HeldToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldToken")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("obtained_at", &self.obtained_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Fetches and holds the app's token.
///
/// `mec_core`'s own AK/SK provider keeps its token private and cannot be built outside that crate, so the agent,
/// which must hand the token and its remaining lifetime to the app and schedule renewals on its own clock, holds
/// it here. The request is the same: `POST` to the token URL with `Content-Type`, `Host` and `x-sdk-date`
/// signed by [`Signer`], no body.
pub(crate) struct TokenSource {
    http: HttpClient,
    path: String,
    uri: http::Uri,
    signer: Signer,
    clock: AgentClock,
    held: tokio::sync::Mutex<Option<HeldToken>>,
    /// A copy of the held token readable without waiting for a fetch under way.
    current: std::sync::Mutex<Option<HeldToken>>,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("uri", &self.uri)
            .field("access_key", &self.signer.credentials().access_key())
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A source of tokens from `token_url`; `http` must be a client without authentication whose base URL is
    /// the token URL's origin.
    pub(crate) fn new(
        http: HttpClient,
        token_url: &Url,
        credentials: Credentials,
        clock: AgentClock,
    ) -> Result<Self, Error> {
        let uri: http::Uri = token_url
            .as_str()
            .parse()
            .map_err(|e| Error::InvalidRequest(format!("token URL {token_url}: {e}")))?;
        let mut path = token_url.path().trim_start_matches('/').to_owned();
        if let Some(q) = token_url.query() {
            path = format!("{path}?{q}");
        }
        Ok(Self {
            http,
            path,
            uri,
            signer: Signer::new(credentials),
            clock,
            held: tokio::sync::Mutex::new(None),
            current: std::sync::Mutex::new(None),
        })
    }

    /// The token held now, if any (even if it expired).
    pub(crate) fn current(&self) -> Option<HeldToken> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set(&self, token: Option<HeldToken>) {
        *self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = token;
    }

    /// Fetches a new token now and holds it.
    pub(crate) async fn renew(&self) -> Result<HeldToken, Error> {
        let mut held = self.held.lock().await;
        let fresh = self.fetch().await?;
        *held = Some(fresh.clone());
        self.set(Some(fresh.clone()));
        Ok(fresh)
    }

    async fn fetch(&self) -> Result<HeldToken, Error> {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        // The MEP checks the signature's date against real time (a bounded skew), so it is dated by the system
        // clock, whatever clock schedules the agent.
        // Each request of the key is dated in a second of its own: two in one second would be identical, and
        // the second refused as a replay.
        let date = mec_core::signature::signing_date(self.signer.credentials().access_key()).await;
        self.signer
            .sign(&http::Method::POST, &self.uri, &mut headers, b"", date);
        let mut request = ApiRequest::post(self.path.clone());
        for (name, value) in &headers {
            request = request.header(name.clone(), value.clone());
        }
        let response = self.http.execute(request).await?;
        let answer: TokenResponse = response.json()?;
        if answer.access_token.is_empty() {
            return Err(Error::Auth(
                "the token answer has an empty access_token".to_owned(),
            ));
        }
        let obtained_at = self.clock.now();
        Ok(HeldToken {
            access_token: answer.access_token,
            token_type: if answer.token_type.is_empty() {
                "Bearer".to_owned()
            } else {
                answer.token_type
            },
            obtained_at,
            expires_at: obtained_at + Duration::from_secs(answer.expires_in),
        })
    }
}

#[async_trait::async_trait]
impl TokenProvider for TokenSource {
    async fn token(&self) -> Result<Option<String>, Error> {
        let mut held = self.held.lock().await;
        if let Some(t) = held.as_ref()
            && self.clock.now() < t.expires_at
        {
            return Ok(Some(t.access_token.clone()));
        }
        let fresh = self.fetch().await?;
        let token = fresh.access_token.clone();
        *held = Some(fresh.clone());
        self.set(Some(fresh));
        Ok(Some(token))
    }

    async fn invalidate(&self) -> bool {
        *self.held.lock().await = None;
        true
    }
}
