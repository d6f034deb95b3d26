//! The HTTP client every API client is built on: base URL, authentication, timeouts, typed requests and
//! answers with their problem details, bodies streamed both ways for big transfers.

use super::Error;
use super::body::{Activity, Body, Payload};
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
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use url::Url;

/// How much of an error answer is read (the rest is dropped: an error body is for a person to read).
const MAX_ERROR_BODY: u64 = 64 << 10;

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
    idle_timeout: Duration,
    max_response_body: u64,
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

    /// Sets the timeout of a whole request whose bodies are in memory, answered by
    /// [`execute`](HttpClient::execute) (default 30 s; `None` for no limit).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the idle timeout of transfers, which have no overall timeout: a request with a streamed body, or
    /// any request sent with [`execute_streaming`](HttpClient::execute_streaming), fails with a
    /// [timeout](Error::is_timeout) when no byte of its body was sent and no byte of the answer came for this
    /// long (default 30 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets the largest body [`execute`](HttpClient::execute) reads into memory (default 16 MiB); a larger one
    /// is [`Error::TooLarge`]. Stream bigger answers with [`execute_streaming`](HttpClient::execute_streaming).
    pub fn max_response_body(mut self, bytes: u64) -> Self {
        self.max_response_body = bytes;
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
                        .with_refresh_before(self.refresh_before)
                        .with_timeout(self.timeout),
                )
            }
        };
        Ok(HttpClient {
            inner: Arc::new(Inner {
                http,
                base,
                auth,
                timeout: self.timeout,
                idle_timeout: self.idle_timeout,
                max_response_body: self.max_response_body,
            }),
        })
    }
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: Arc<dyn TokenProvider>,
    timeout: Option<Duration>,
    idle_timeout: Duration,
    max_response_body: u64,
}

/// How long an exchange may take.
#[derive(Clone, Copy)]
enum Deadline {
    /// The whole exchange, the answer's body included (reqwest's request timeout).
    Total(Option<Duration>),
    /// The longest time without progress.
    Idle(Duration),
}

/// The HTTP client every client of the suite is built on: a base URL, authentication with token renewal, and
/// error bodies decoded into [`Error::Api`]. Cheap to clone.
///
/// Two ways to send a request:
///
/// | | answer | timeout |
/// |---|---|---|
/// | [`execute`](Self::execute) | read into memory (at most [`max_response_body`](HttpClientBuilder::max_response_body)) | the [overall timeout](HttpClientBuilder::timeout); the [idle timeout](HttpClientBuilder::idle_timeout) when the request's body is streamed |
/// | [`execute_streaming`](Self::execute_streaming) | a [`ResponseStream`], read chunk by chunk or copied to a writer | the [idle timeout](HttpClientBuilder::idle_timeout) |
///
/// A request body is bytes ([`ApiRequest::body`], [`ApiRequest::json`]), a stream
/// ([`ApiRequest::body_reader`]) or a [`Multipart`](super::Multipart) form ([`ApiRequest::multipart`]). A
/// streamed body is read once: after a 401 the token is dropped (so the next request gets a new one) but the
/// request is not sent again; a body in memory is.
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
            idle_timeout: Duration::from_secs(30),
            max_response_body: 16 << 20,
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

    /// Sends a request and reads the answer into memory. A non-2xx answer becomes [`Error::Api`] (unless the
    /// request [accepts any status](ApiRequest::any_status)); a 401 makes the token provider drop its token and
    /// the request is sent once more when a new token could help and its body is in memory.
    pub async fn execute(&self, request: ApiRequest) -> Result<ApiResponse, Error> {
        let deadline = if request.body.is_streamed() {
            Deadline::Idle(self.inner.idle_timeout)
        } else {
            Deadline::Total(self.inner.timeout)
        };
        let mut stream = self.exchange(request, deadline).await?;
        stream.limit = Some(self.inner.max_response_body);
        let (status, headers) = (stream.status, stream.headers.clone());
        let body = stream.bytes().await?;
        Ok(ApiResponse {
            status,
            headers,
            body,
        })
    }

    /// Sends a request and returns as soon as the answer's headers came: its body is then read as a stream
    /// ([`ResponseStream::chunk`], [`ResponseStream::copy_to`]), for answers too big for memory. The whole
    /// exchange runs under the [idle timeout](HttpClientBuilder::idle_timeout) instead of the overall one: a
    /// transfer of any length succeeds while it moves, and a stalled one fails. Statuses and 401s are handled as
    /// by [`execute`](Self::execute).
    ///
    /// ```no_run
    /// # async fn run(client: mec_core::client::HttpClient) -> Result<(), mec_core::client::Error> {
    /// use mec_core::client::ApiRequest;
    ///
    /// let mut file = tokio::fs::File::create("app.csar").await.map_err(|source| {
    ///     mec_core::client::Error::Io { context: "creating app.csar".into(), source }
    /// })?;
    /// let answer = client.execute_streaming(ApiRequest::get("apps/a1/action/download")).await?;
    /// let written = answer.limit(5 << 30).copy_to(&mut file).await?;
    /// # Ok(()) }
    /// ```
    pub async fn execute_streaming(&self, request: ApiRequest) -> Result<ResponseStream, Error> {
        self.exchange(request, Deadline::Idle(self.inner.idle_timeout))
            .await
    }

    /// Sends the request (again after a 401 when it can), and answers a non-2xx status with its error unless the
    /// request takes any status.
    async fn exchange(
        &self,
        mut request: ApiRequest,
        deadline: Deadline,
    ) -> Result<ResponseStream, Error> {
        let url = self.url(&request.path)?;
        let replayable = !request.body.is_streamed();
        let idle = match deadline {
            Deadline::Idle(idle) => Some(idle),
            Deadline::Total(_) => None,
        };
        let mut retried = false;
        loop {
            let activity = Activity::new();
            let mut builder = self
                .inner
                .http
                .request(request.method.clone(), url.clone())
                .headers(request.headers.clone());
            if !request.query.is_empty() {
                builder = builder.query(&request.query);
            }
            if let Deadline::Total(Some(t)) = deadline {
                builder = builder.timeout(t);
            }
            let token = self.inner.auth.token().await?;
            if let Some(token) = &token {
                builder = builder.bearer_auth(token);
            }
            builder = match request.body.payload(&activity)? {
                Payload::None => builder,
                Payload::Body(body, length) => {
                    if let Some(length) = length {
                        builder = builder.header(http::header::CONTENT_LENGTH, length);
                    }
                    builder.body(body)
                }
                Payload::Form(form) => builder.multipart(form),
            };
            let sent = async { builder.send().await.map_err(Error::from_reqwest) };
            let response = match idle {
                Some(idle) => until_idle(sent, idle, &activity).await?,
                None => sent.await?,
            };
            let stream = ResponseStream {
                status: response.status().as_u16(),
                headers: response.headers().clone(),
                response,
                idle,
                activity,
                limit: None,
                received: 0,
            };
            if (200..300).contains(&stream.status) || request.any_status {
                return Ok(stream);
            }
            if stream.status == 401
                && !retried
                && self
                    .inner
                    .auth
                    .invalidate_refused(token.as_deref().unwrap_or_default())
                    .await
                && replayable
            {
                retried = true;
                continue;
            }
            return Err(stream.into_error().await);
        }
    }
}

/// Runs `fut` until it ends or `activity` shows no progress for `idle`.
async fn until_idle<T>(
    fut: impl Future<Output = Result<T, Error>>,
    idle: Duration,
    activity: &Activity,
) -> Result<T, Error> {
    tokio::pin!(fut);
    loop {
        tokio::select! {
            out = &mut fut => return out,
            () = tokio::time::sleep_until(activity.last() + idle) => {
                if activity.last() + idle <= tokio::time::Instant::now() {
                    return Err(stalled(idle));
                }
            }
        }
    }
}

fn stalled(idle: Duration) -> Error {
    Error::Transport {
        kind: super::TransportErrorKind::Timeout,
        message: format!("the transfer stalled: nothing sent or received for {idle:?}"),
        source: None,
    }
}

/// An answer whose body is read as it comes, from [`HttpClient::execute_streaming`]: chunk by chunk
/// ([`chunk`](Self::chunk)), into a writer ([`copy_to`](Self::copy_to)) or into memory ([`bytes`](Self::bytes)),
/// each read under the client's idle timeout and within the [`limit`](Self::limit) if one is set.
#[must_use]
pub struct ResponseStream {
    status: u16,
    headers: HeaderMap,
    response: reqwest::Response,
    idle: Option<Duration>,
    activity: Activity,
    limit: Option<u64>,
    received: u64,
}

impl fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseStream")
            .field("status", &self.status)
            .field("limit", &self.limit)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl ResponseStream {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `Content-Length` the server declared, if any (a body that ends before it is a transport error).
    pub fn content_length(&self) -> Option<u64> {
        self.headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    }

    /// Refuses a body of more than `bytes` with [`Error::TooLarge`] (checked as it comes, before a byte past
    /// the limit is handed out).
    pub fn limit(mut self, bytes: u64) -> Self {
        self.limit = Some(bytes);
        self
    }

    /// The bytes of the body received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The next chunk of the body, `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        let next = self.response.chunk();
        let chunk = match self.idle {
            Some(idle) => tokio::time::timeout(idle, next)
                .await
                .map_err(|_| stalled(idle))?,
            None => next.await,
        }
        .map_err(Error::from_reqwest)?;
        if let Some(chunk) = &chunk {
            self.activity.touch();
            self.received += chunk.len() as u64;
            if let Some(limit) = self.limit
                && self.received > limit
            {
                return Err(Error::TooLarge {
                    status: self.status,
                    limit,
                });
            }
        }
        Ok(chunk)
    }

    /// Writes the body to `out` and flushes it; returns the bytes written. A failing writer is
    /// [`Error::Io`].
    pub async fn copy_to<W: AsyncWrite + Unpin + ?Sized>(
        mut self,
        out: &mut W,
    ) -> Result<u64, Error> {
        let io = |source| Error::Io {
            context: "writing the response body".into(),
            source,
        };
        while let Some(chunk) = self.chunk().await? {
            out.write_all(&chunk).await.map_err(io)?;
        }
        out.flush().await.map_err(io)?;
        Ok(self.received)
    }

    /// Reads the whole body into memory (set a [`limit`](Self::limit) first when the server is not trusted).
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        let mut first: Option<Bytes> = None;
        let mut rest: Vec<u8> = Vec::new();
        while let Some(chunk) = self.chunk().await? {
            match &first {
                None => first = Some(chunk),
                Some(f) => {
                    if rest.is_empty() {
                        rest.extend_from_slice(f);
                    }
                    rest.extend_from_slice(&chunk);
                }
            }
        }
        Ok(if rest.is_empty() {
            first.unwrap_or_default()
        } else {
            Bytes::from(rest)
        })
    }

    /// The answer of a failed request as an [`Error::Api`], its body read up to 64 KiB.
    async fn into_error(mut self) -> Error {
        let mut body = Vec::new();
        while let Ok(Some(chunk)) = self.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() as u64 >= MAX_ERROR_BODY {
                break;
            }
        }
        Error::api(self.status, ProblemDetails::from_body(self.status, &body))
    }
}

/// A request to send with [`HttpClient::execute`] or [`HttpClient::execute_streaming`].
#[derive(Debug)]
#[must_use]
pub struct ApiRequest {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Body,
    any_status: bool,
}

impl ApiRequest {
    /// A request with this method to `path` (relative to the client's base URL).
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Body::Empty,
            any_status: false,
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
        self.body = Body::Bytes(Bytes::from(bytes));
        Ok(self)
    }

    /// Sets a raw body; set the content type with [`header`](Self::header).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Body::Bytes(body.into());
        self
    }

    /// Sets a body read from `reader` as it is sent (a file, a pipe), `length` bytes when known (sent as
    /// `Content-Length`; else the body is sent chunked). A reader that ends before `length` fails the request.
    /// The request is then sent once, under the [idle timeout](HttpClientBuilder::idle_timeout).
    pub fn body_reader(
        mut self,
        reader: impl AsyncRead + Send + 'static,
        length: Option<u64>,
    ) -> Self {
        self.body = Body::Reader {
            reader: Some(Box::pin(reader)),
            length,
        };
        self
    }

    /// Sets a `multipart/form-data` body (its content type with its boundary is set when sent).
    pub fn multipart(mut self, form: super::Multipart) -> Self {
        self.body = Body::Multipart(form);
        self
    }

    /// Returns answers of any status as they are, instead of turning a non-2xx one into [`Error::Api`] (see
    /// [`ApiResponse::error_for_status`]); for exchanges that read an error answer's headers, such as a CSRF
    /// handshake. A 401 is still retried with a new token first.
    pub fn any_status(mut self) -> Self {
        self.any_status = true;
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

/// A response, fully read: successful (2xx) unless the request [took any status](ApiRequest::any_status).
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

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The response itself when it is successful, else its [`Error::Api`].
    pub fn error_for_status(self) -> Result<Self, Error> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(Error::api(
                self.status,
                ProblemDetails::from_body(self.status, &self.body),
            ))
        }
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
