//! The HTTP client every API client is built on: base URL, authentication, timeouts, typed requests and
//! answers with their problem details.

use super::Error;
use super::token::{AkSkTokenProvider, NoAuth, StaticToken, TokenProvider};
use crate::problem::ProblemDetails;
use crate::signature::Credentials;
use crate::time::{SharedClock, system_clock};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Characters escaped in one path segment (RFC 3986 `pchar` minus what must be escaped).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// Escapes one path segment (an id given by a user) so it cannot change the path's structure.
pub fn path_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// How requests authenticate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Auth {
    /// No `Authorization` header.
    None,
    /// A fixed bearer token.
    Bearer(String),
    /// MEP-auth's AK/SK exchange: a token from `token_path` (relative to the base URL, `/mep/token` on
    /// EdgeGallery), fetched on first use, cached, renewed before expiry and once after a 401.
    AkSk {
        /// The app's access key and secret key.
        credentials: Credentials,
        /// Where the token is requested; absolute, or relative to the base URL's origin.
        token_path: String,
    },
    /// A token provider of your own.
    Custom(Arc<dyn TokenProvider>),
}

/// Builds an [`HttpClient`].
#[derive(Debug)]
#[must_use]
pub struct HttpClientBuilder {
    base_url: String,
    auth: Auth,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    user_agent: String,
    accept_invalid_certs: bool,
    root_certs_pem: Vec<Vec<u8>>,
    default_headers: HeaderMap,
    clock: SharedClock,
    refresh_before: Duration,
}

impl HttpClientBuilder {
    /// Sets how requests authenticate (default: none).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the timeout of a whole request (default 30 s; `None` for no limit).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Accepts any server certificate. EdgeGallery deployments use self-signed certificates; prefer
    /// [`add_root_certificate_pem`](Self::add_root_certificate_pem) where you can.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }

    /// Trusts the certificates of a PEM bundle besides the system's roots.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certs_pem.push(pem.into());
        self
    }

    /// Adds a header sent on every request.
    pub fn default_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.default_headers.insert(name, value);
        self
    }

    /// Sets the clock that token expiry is measured with (default: the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets how long before its expiry an AK/SK token is renewed (default 60 s).
    pub fn refresh_token_before(mut self, margin: Duration) -> Self {
        self.refresh_before = margin;
        self
    }

    /// Builds the client. Fails on a base URL that is not an absolute http(s) URL or a bad certificate.
    pub fn build(self) -> Result<HttpClient, Error> {
        let mut base = Url::parse(&self.base_url)
            .map_err(|e| Error::InvalidRequest(format!("base URL {:?}: {e}", self.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::InvalidRequest(format!(
                "base URL {:?} is not an http(s) URL",
                self.base_url
            )));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.set_fragment(None);
        let mut http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .connect_timeout(self.connect_timeout)
            .default_headers(self.default_headers)
            .tls_danger_accept_invalid_certs(self.accept_invalid_certs);
        if let Some(t) = self.timeout {
            http = http.timeout(t);
        }
        for pem in &self.root_certs_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::InvalidRequest(format!("root certificate: {e}")))?
            {
                http = http.add_root_certificate(cert);
            }
        }
        let http = http
            .build()
            .map_err(|e| Error::InvalidRequest(format!("HTTP client: {e}")))?;
        let auth: Arc<dyn TokenProvider> = match self.auth {
            Auth::None => Arc::new(NoAuth),
            Auth::Bearer(token) => Arc::new(StaticToken::new(token)),
            Auth::Custom(p) => p,
            Auth::AkSk {
                credentials,
                token_path,
            } => {
                let token_url = base.join(&token_path).map_err(|e| {
                    Error::InvalidRequest(format!("token path {token_path:?}: {e}"))
                })?;
                Arc::new(
                    AkSkTokenProvider::new(http.clone(), token_url, credentials, self.clock)
                        .with_refresh_before(self.refresh_before),
                )
            }
        };
        Ok(HttpClient {
            inner: Arc::new(Inner { http, base, auth }),
        })
    }
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: Arc<dyn TokenProvider>,
}

/// The HTTP client every client of the suite is built on: a base URL, authentication with token renewal, and
/// error bodies decoded into [`Error::Api`]. Cheap to clone.
///
/// ```no_run
/// # async fn run() -> Result<(), mec_core::client::Error> {
/// use mec_core::client::{Auth, HttpClient, ApiRequest};
///
/// let client = HttpClient::builder("https://mep.example:8443/mep/")
///     .auth(Auth::Bearer("token".into()))
///     .build()?;
/// let response = client.execute(ApiRequest::get("mec_app_support/v1/timing/current_time")).await?;
/// let now: serde_json::Value = response.json()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("base", &self.inner.base.as_str())
            .field("auth", &self.inner.auth)
            .finish()
    }
}

impl HttpClient {
    /// A builder for a client of the API at `base_url` (paths of requests are resolved against it).
    pub fn builder(base_url: impl Into<String>) -> HttpClientBuilder {
        HttpClientBuilder {
            base_url: base_url.into(),
            auth: Auth::None,
            timeout: Some(Duration::from_secs(30)),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("mec-sdk/", env!("CARGO_PKG_VERSION")).to_owned(),
            accept_invalid_certs: false,
            root_certs_pem: Vec::new(),
            default_headers: HeaderMap::new(),
            clock: system_clock(),
            refresh_before: AkSkTokenProvider::DEFAULT_REFRESH_BEFORE,
        }
    }

    /// The base URL (always ending with `/`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The token provider in use.
    pub fn token_provider(&self) -> &Arc<dyn TokenProvider> {
        &self.inner.auth
    }

    /// Resolves a request path against the base URL.
    pub fn url(&self, path: &str) -> Result<Url, Error> {
        self.inner
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::InvalidRequest(format!("path {path:?}: {e}")))
    }

    /// Sends a request. A non-2xx answer becomes [`Error::Api`]; a 401 makes the token provider drop its token
    /// and the request is sent once more when a new token could help.
    pub async fn execute(&self, request: ApiRequest) -> Result<ApiResponse, Error> {
        let url = self.url(&request.path)?;
        let mut retried = false;
        loop {
            let mut builder = self
                .inner
                .http
                .request(request.method.clone(), url.clone())
                .headers(request.headers.clone());
            if !request.query.is_empty() {
                builder = builder.query(&request.query);
            }
            let token = self.inner.auth.token().await?;
            if let Some(token) = &token {
                builder = builder.bearer_auth(token);
            }
            if let Some(body) = &request.body {
                builder = builder.body(body.clone());
            }
            let response = builder.send().await.map_err(Error::from_reqwest)?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(Error::from_reqwest)?;
            if (200..300).contains(&status) {
                return Ok(ApiResponse {
                    status,
                    headers,
                    body,
                });
            }
            if status == 401
                && !retried
                && self
                    .inner
                    .auth
                    .invalidate_refused(token.as_deref().unwrap_or_default())
                    .await
            {
                retried = true;
                continue;
            }
            return Err(Error::api(status, ProblemDetails::from_body(status, &body)));
        }
    }
}

/// A request to send with [`HttpClient::execute`].
#[derive(Clone, Debug)]
#[must_use]
pub struct ApiRequest {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Option<Bytes>,
}

impl ApiRequest {
    /// A request with this method to `path` (relative to the client's base URL).
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
        }
    }

    /// A GET request.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    /// A POST request.
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    /// A PUT request.
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }

    /// A PATCH request.
    pub fn patch(path: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path)
    }

    /// A DELETE request.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// Adds a query parameter (repeat the call for repeated parameters).
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Adds a header. Values that are not valid header values are refused when sent.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Sets a JSON body (and `Content-Type: application/json`).
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self, Error> {
        let bytes =
            serde_json::to_vec(body).map_err(|e| Error::InvalidRequest(format!("body: {e}")))?;
        self.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }

    /// Sets a raw body; set the content type with [`header`](Self::header).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path, relative to the base URL.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// A successful (2xx) response, fully read.
#[derive(Clone, Debug)]
pub struct ApiResponse {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl ApiResponse {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The raw body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The `Location` header, if present and readable.
    pub fn location(&self) -> Option<String> {
        self.header_str(http::header::LOCATION)
    }

    /// The `ETag` header, if present and readable.
    pub fn etag(&self) -> Option<String> {
        self.header_str(http::header::ETAG)
    }

    fn header_str(&self, name: HeaderName) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Decodes the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Decode {
            status: self.status,
            message: e.to_string(),
        })
    }
}
