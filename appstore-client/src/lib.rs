//! # mec-appstore-client
//!
//! A typed async client of EdgeGallery's AppStore back end (appstore-be): sign-in through user management, apps
//! and their packages, test requests and their status, publishing, comments, and downloads streamed to any
//! writer with progress.
//!
//! ```no_run
//! # async fn run() -> Result<(), mec_appstore_client::Error> {
//! use mec_appstore_client::{AppQuery, Client};
//!
//! let store = Client::builder("https://appstore.example:30091/mec-appstore").build()?;
//! store.login("https://user-mgmt.example:30067", "tenant", "secret").await?;
//! let page = store.query_apps(&AppQuery::default()).await?;
//! for app in page.results {
//!     println!("{} {} by {}", app.app_id, app.name, app.provider);
//! }
//! # Ok(()) }
//! ```
//!
//! Uploads go in one multipart request up to [`CHUNKED_ABOVE`] bytes, and above it in [`CHUNK_SIZE`] chunks
//! merged by the store, as its own portal does: the client never holds more than one chunk in memory.
//!
//! Federation (admin role): the external stores known ([`Client::external_stores`]), packages pushed to them
//! ([`Client::pushable_packages`], [`Client::push_package`]) or pulled from them ([`Client::pullable_packages`],
//! [`Client::pull_package`]).

mod model;

pub use mec_core::client::Error;
pub use model::{
    App, AppPackage, AppQuery, AppStatus, Comment, ExternalStore, FederatedPackage, PackageStatus,
    Page, QueryCtrl, Registered, TestTask, UploadForm,
};

use futures_util::StreamExt;
use mec_core::ProblemDetails;
use mec_core::client::{ApiRequest, ApiResponse, HttpClient, HttpClientBuilder, path_segment};
use serde::de::DeserializeOwned;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};

const V1: &str = "mec/appstore/v1";
/// Packages larger than this are uploaded in chunks (the AppStore portal's threshold).
pub const CHUNKED_ABOVE: u64 = 10 << 20;
/// The size of one upload chunk (the AppStore portal's).
pub const CHUNK_SIZE: u64 = 8 << 20;
const V2: &str = "mec/appstore/v2";

/// Builds a [`Client`].
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    http: HttpClientBuilder,
    token: Option<String>,
    accept_invalid_certs: bool,
}

impl ClientBuilder {
    /// Uses this access token (a JWT from user management) instead of signing in.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sets the timeout of one request (downloads excepted; default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http = self.http.timeout(Some(timeout));
        self
    }

    /// Accepts any server certificate (EdgeGallery portals use self-signed ones).
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self.http = self.http.danger_accept_invalid_certs(accept);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let http = self.http.build()?;
        let raw = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .tls_danger_accept_invalid_certs(self.accept_invalid_certs)
            .build()
            .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                raw,
                token: RwLock::new(self.token),
            }),
        })
    }
}

#[derive(Debug)]
struct Inner {
    http: HttpClient,
    raw: reqwest::Client,
    token: RwLock<Option<String>>,
}

/// A client of one AppStore. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

/// The AppStore writes errors as `{"code":..,"message":..,"retCode":..}`: the message becomes the problem's
/// detail and `retCode` its status, so `problem().status` is the AppStore's code (10031: tampered package...).
fn appstore_error(e: Error) -> Error {
    match e {
        Error::Api {
            status,
            mut problem,
        } => {
            if problem.detail.is_empty()
                && let Some(m) = problem.extra.get("message").and_then(|m| m.as_str())
            {
                problem.detail = m.to_owned();
            }
            if let Some(code) = problem
                .extra
                .get("retCode")
                .and_then(serde_json::Value::as_u64)
            {
                problem.status = u32::try_from(code).unwrap_or(problem.status);
            }
            Error::Api { status, problem }
        }
        other => other,
    }
}

impl Client {
    /// A builder for a client of the AppStore whose root is `base_url` (appstore-be itself, `http://host:8099`,
    /// or the portal's route, `https://host:30091/mec-appstore`).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            http: HttpClient::builder(base_url).timeout(Some(Duration::from_secs(60))),
            token: None,
            accept_invalid_certs: false,
        }
    }

    /// Sets the access token sent with every request (`access_token` header).
    pub fn set_access_token(&self, token: impl Into<String>) {
        *self
            .inner
            .token
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(token.into());
    }

    /// The access token in use, if any (to save it after [`login`](Self::login)).
    pub fn access_token(&self) -> Option<String> {
        self.token()
    }

    fn token(&self) -> Option<String> {
        self.inner
            .token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Signs in with EdgeGallery's user management (`POST {user_mgmt}/v1/accesstoken`), doing its CSRF
    /// handshake (a first request obtains the `XSRF-TOKEN` cookie, the second sends it back), and keeps the token.
    pub async fn login(
        &self,
        user_mgmt_url: &str,
        user: &str,
        password: &str,
    ) -> Result<(), Error> {
        let url = format!("{}/v1/accesstoken", user_mgmt_url.trim_end_matches('/'));
        let body = serde_json::json!({"userFlag": user, "password": password});
        let send = |xsrf: Option<&str>| {
            let mut r = self.inner.raw.post(&url).json(&body);
            if let Some(t) = xsrf {
                r = r
                    .header("X-XSRF-TOKEN", t)
                    .header(http::header::COOKIE, format!("XSRF-TOKEN={t}"));
            }
            r.send()
        };
        let mut response = send(None).await.map_err(Self::transport)?;
        if !response.status().is_success() {
            let xsrf = response
                .headers()
                .get_all(http::header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(|c| {
                    c.strip_prefix("XSRF-TOKEN=")
                        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
                });
            if let Some(t) = xsrf {
                response = send(Some(&t)).await.map_err(Self::transport)?;
            }
        }
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(Self::transport)?;
        if !(200..300).contains(&status) {
            return Err(appstore_error(Error::api(
                status,
                ProblemDetails::from_body(status, &bytes),
            )));
        }
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Auth(format!("the sign-in answer does not decode: {e}")))?;
        let token = v
            .get("accessToken")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| Error::Auth("the sign-in answer has no accessToken".into()))?;
        self.set_access_token(token);
        Ok(())
    }

    fn with_token(&self, mut request: ApiRequest) -> Result<ApiRequest, Error> {
        if let Some(t) = self.token() {
            let v = http::HeaderValue::from_str(&t).map_err(|_| {
                Error::InvalidRequest("the access token is not a valid header value".into())
            })?;
            request = request.header(http::HeaderName::from_static("access_token"), v);
        }
        Ok(request)
    }

    async fn send(&self, request: ApiRequest) -> Result<ApiResponse, Error> {
        self.inner
            .http
            .execute(self.with_token(request)?)
            .await
            .map_err(appstore_error)
    }

    async fn json<T: DeserializeOwned>(&self, request: ApiRequest) -> Result<T, Error> {
        self.send(request).await?.json()
    }

    /// `GET /v1/apps`: apps by name, provider, type and architecture (the AppStore answers the first 100).
    pub async fn list_apps(
        &self,
        name: Option<&str>,
        provider: Option<&str>,
    ) -> Result<Vec<App>, Error> {
        let mut r = ApiRequest::get(format!("{V1}/apps"));
        if let Some(n) = name {
            r = r.query("name", n);
        }
        if let Some(p) = provider {
            r = r.query("provider", p);
        }
        self.json(r).await
    }

    /// `POST /v2/apps/action/query`: a page of apps, filtered and sorted.
    pub async fn query_apps(&self, query: &AppQuery) -> Result<Page<App>, Error> {
        self.json(ApiRequest::post(format!("{V2}/apps/action/query")).json(query)?)
            .await
    }

    /// `GET /v1/apps/{appId}`.
    pub async fn app(&self, app_id: &str) -> Result<App, Error> {
        self.json(ApiRequest::get(format!(
            "{V1}/apps/{}",
            path_segment(app_id)
        )))
        .await
    }

    /// `DELETE /v1/apps/{appId}` (owner or admin).
    pub async fn delete_app(
        &self,
        app_id: &str,
        user_id: &str,
        user_name: &str,
    ) -> Result<(), Error> {
        let r = ApiRequest::delete(format!("{V1}/apps/{}", path_segment(app_id)))
            .query("userId", user_id)
            .query("userName", user_name);
        self.send(r).await.map(drop)
    }

    /// `GET /v1/apps/{appId}/packages`.
    pub async fn packages(&self, app_id: &str) -> Result<Vec<AppPackage>, Error> {
        self.json(ApiRequest::get(format!(
            "{V1}/apps/{}/packages",
            path_segment(app_id)
        )))
        .await
    }

    fn package_path(app_id: &str, package_id: &str) -> String {
        format!(
            "{V1}/apps/{}/packages/{}",
            path_segment(app_id),
            path_segment(package_id)
        )
    }

    /// `GET /v1/apps/{appId}/packages/{packageId}` (the AppStore refreshes the test status on each read).
    pub async fn package(&self, app_id: &str, package_id: &str) -> Result<AppPackage, Error> {
        self.json(ApiRequest::get(Self::package_path(app_id, package_id)))
            .await
    }

    /// `POST .../action/test`: asks the test platform to test the package.
    pub async fn test_package(&self, app_id: &str, package_id: &str) -> Result<TestTask, Error> {
        self.json(ApiRequest::post(format!(
            "{}/action/test",
            Self::package_path(app_id, package_id)
        )))
        .await
    }

    /// Polls a package until its test has ended (any status but the testing ones), checking every `interval`,
    /// for at most `timeout`.
    pub async fn wait_for_test(
        &self,
        app_id: &str,
        package_id: &str,
        interval: Duration,
        timeout: Duration,
    ) -> Result<AppPackage, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let p = self.package(app_id, package_id).await?;
            if !p.status.as_ref().is_some_and(PackageStatus::is_testing) {
                return Ok(p);
            }
            if tokio::time::Instant::now() >= deadline {
                let status = p.status.map(|s| s.to_string()).unwrap_or_default();
                return Err(Error::Timeout(format!(
                    "package {package_id} is still {status} after {timeout:?}"
                )));
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// `POST .../action/publish` (after a successful test). `price` `None` publishes for free. Both `free` and
    /// `isFree` are sent: appstore-be reads one, its own portal sends the other.
    pub async fn publish(
        &self,
        app_id: &str,
        package_id: &str,
        price: Option<f64>,
    ) -> Result<(), Error> {
        let free = price.is_none();
        let body = serde_json::json!({"free": free, "isFree": free, "price": price.unwrap_or(0.0)});
        let r = ApiRequest::post(format!(
            "{}/action/publish",
            Self::package_path(app_id, package_id)
        ))
        .json(&body)?;
        self.send(r).await.map(drop)
    }

    /// `POST .../action/unpublish`.
    pub async fn unpublish(
        &self,
        app_id: &str,
        package_id: &str,
        user_id: &str,
        user_name: &str,
    ) -> Result<(), Error> {
        let r = ApiRequest::post(format!(
            "{}/action/unpublish",
            Self::package_path(app_id, package_id)
        ))
        .query("userId", user_id)
        .query("userName", user_name);
        self.send(r).await.map(drop)
    }

    /// `DELETE /v1/apps/{appId}/packages/{packageId}`.
    pub async fn delete_package(
        &self,
        app_id: &str,
        package_id: &str,
        user_id: &str,
        user_name: &str,
    ) -> Result<(), Error> {
        let r = ApiRequest::delete(Self::package_path(app_id, package_id))
            .query("userId", user_id)
            .query("userName", user_name);
        self.send(r).await.map(drop)
    }

    /// `GET /v1/apps/{appId}/comments`.
    pub async fn comments(&self, app_id: &str) -> Result<Vec<Comment>, Error> {
        self.json(ApiRequest::get(format!(
            "{V1}/apps/{}/comments",
            path_segment(app_id)
        )))
        .await
    }

    /// `POST /v1/apps/{appId}/comments`: a comment (1 to 1024 characters) and a score (0 to 5).
    pub async fn add_comment(
        &self,
        app_id: &str,
        user_id: &str,
        user_name: &str,
        body: &str,
        score: f64,
    ) -> Result<(), Error> {
        if body.is_empty() || body.chars().count() > 1024 || !(0.0..=5.0).contains(&score) {
            return Err(Error::InvalidRequest(
                "a comment is 1 to 1024 characters, a score 0 to 5".into(),
            ));
        }
        let r = ApiRequest::post(format!("{V1}/apps/{}/comments", path_segment(app_id)))
            .query("userId", user_id)
            .query("userName", user_name)
            .json(&serde_json::json!({"body": body, "score": score}))?;
        self.send(r).await.map(drop)
    }

    /// `GET /v1/appstores`: the external stores this one federates with (admin).
    pub async fn external_stores(&self) -> Result<Vec<ExternalStore>, Error> {
        self.json(ApiRequest::get(format!("{V1}/appstores"))).await
    }

    /// `GET /v1/packages/pushable`: packages that can be pushed to other stores (admin).
    pub async fn pushable_packages(&self) -> Result<Vec<FederatedPackage>, Error> {
        self.json(ApiRequest::get(format!("{V1}/packages/pushable")))
            .await
    }

    /// `POST /v1/packages/{packageId}/action/push`: pushes a package to stores (by their ids); one result per store.
    pub async fn push_package(
        &self,
        package_id: &str,
        store_ids: &[String],
    ) -> Result<Vec<bool>, Error> {
        let r = ApiRequest::post(format!(
            "{V1}/packages/{}/action/push",
            path_segment(package_id)
        ))
        .json(&serde_json::json!({"targetPlatform": store_ids}))?;
        self.json(r).await
    }

    /// `GET /v1/packages/{storeId}/pullable`: packages another store offers (admin).
    pub async fn pullable_packages(&self, store_id: &str) -> Result<Vec<FederatedPackage>, Error> {
        self.json(ApiRequest::get(format!(
            "{V1}/packages/{}/pullable",
            path_segment(store_id)
        )))
        .await
    }

    /// `POST /v1/packages/{packageId}/action/pull`: imports a package from another store; `request` is the
    /// pull body appstore-be takes (`sourceStoreId`, `sourceStoreName`, `name`, `provider`, `version`, ...).
    pub async fn pull_package(
        &self,
        package_id: &str,
        request: &serde_json::Value,
    ) -> Result<bool, Error> {
        let r = ApiRequest::post(format!(
            "{V1}/packages/{}/action/pull",
            path_segment(package_id)
        ))
        .json(request)?;
        self.json(r).await
    }

    fn transport(e: reqwest::Error) -> Error {
        let kind = if e.is_timeout() {
            mec_core::client::TransportErrorKind::Timeout
        } else if e.is_connect() {
            mec_core::client::TransportErrorKind::Connect
        } else {
            mec_core::client::TransportErrorKind::Io
        };
        Error::Transport {
            kind,
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }

    async fn send_form(
        &self,
        path: &str,
        query: &[(&str, &str)],
        form: reqwest::multipart::Form,
    ) -> Result<Vec<u8>, Error> {
        let url = self.inner.http.url(path)?;
        let mut r = self.inner.raw.post(url).query(query).multipart(form);
        if let Some(t) = self.token() {
            r = r.header("access_token", t);
        }
        let response = r.send().await.map_err(Self::transport)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(Self::transport)?;
        if !(200..300).contains(&status) {
            return Err(appstore_error(Error::api(
                status,
                ProblemDetails::from_body(status, &body),
            )));
        }
        Ok(body.to_vec())
    }

    fn listing_fields(form: reqwest::multipart::Form, f: &UploadForm) -> reqwest::multipart::Form {
        form.text("type", f.app_type.clone())
            .text("affinity", f.affinity.clone())
            .text("industry", f.industry.clone())
            .text("showType", f.show_type.clone())
    }

    async fn file_part(
        path: &std::path::Path,
        max: u64,
    ) -> Result<reqwest::multipart::Part, Error> {
        let bytes = read_bounded(path, max).await?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".to_owned());
        Ok(reqwest::multipart::Part::bytes(bytes).file_name(name))
    }

    /// Uploads a package with its icon (`POST /v1/apps`, or chunks through `/v1/apps/upload`, `/v1/apps/merge` and
    /// `/v1/apps/vm-register` above [`CHUNKED_ABOVE`]), calling `progress(bytes sent, total)`. The store checks the
    /// package before registering it; its refusal is an [`Error::Api`] whose problem status is the store's code
    /// (10029 manifest invalid, 10031 tampered package, ...).
    pub async fn upload(
        &self,
        form: &UploadForm,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Registered, Error> {
        let size = tokio::fs::metadata(&form.package)
            .await
            .map_err(|e| Error::InvalidRequest(format!("{}: {e}", form.package.display())))?
            .len();
        let file_name = form
            .package
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::InvalidRequest("the package path has no file name".into()))?;
        if file_name.chars().any(char::is_whitespace) {
            return Err(Error::InvalidRequest(
                "the AppStore refuses package names with spaces".into(),
            ));
        }
        let query = [
            ("userId", form.user_id.as_str()),
            ("userName", form.user_name.as_str()),
        ];
        let icon = Self::file_part(&form.icon, 10 << 20).await?;
        let body = if size <= CHUNKED_ABOVE {
            // Streamed from the file, never read whole.
            let file = tokio::fs::File::open(&form.package)
                .await
                .map_err(|e| Error::InvalidRequest(format!("{}: {e}", form.package.display())))?;
            let stream = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
            let package = reqwest::multipart::Part::stream_with_length(stream, size)
                .file_name(file_name.clone());
            let multipart = Self::listing_fields(
                reqwest::multipart::Form::new()
                    .part("file", package)
                    .part("icon", icon),
                form,
            );
            let body = self
                .send_form(&format!("{V1}/apps"), &query, multipart)
                .await?;
            progress(size, size);
            body
        } else {
            let address = self
                .upload_chunks(&form.package, &file_name, size, &mut progress)
                .await?;
            let multipart = Self::listing_fields(
                reqwest::multipart::Form::new()
                    .text("fileAddress", address)
                    .part("icon", icon),
                form,
            );
            self.send_form(&format!("{V1}/apps/vm-register"), &query, multipart)
                .await?
        };
        serde_json::from_slice(&body).map_err(|e| Error::Decode {
            status: 200,
            message: format!("the registration answer: {e}"),
        })
    }

    /// Sends the package in chunks of [`CHUNK_SIZE`], then asks the store to merge them; returns the merged file's
    /// address.
    async fn upload_chunks(
        &self,
        path: &std::path::Path,
        file_name: &str,
        size: u64,
        progress: &mut impl FnMut(u64, u64),
    ) -> Result<String, Error> {
        use tokio::io::AsyncReadExt;
        let identifier = format!(
            "{size}-{}",
            file_name.replace(|c: char| !c.is_ascii_alphanumeric(), "")
        );
        let total_chunks = size.div_ceil(CHUNK_SIZE);
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::InvalidRequest(format!("{}: {e}", path.display())))?;
        let mut sent: u64 = 0;
        for number in 1..=total_chunks {
            let len = CHUNK_SIZE.min(size - sent);
            let mut chunk = vec![
                0u8;
                usize::try_from(len)
                    .map_err(|_| Error::InvalidRequest("chunk too large".into()))?
            ];
            file.read_exact(&mut chunk)
                .await
                .map_err(|e| Error::InvalidRequest(format!("{}: {e}", path.display())))?;
            let form = reqwest::multipart::Form::new()
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(chunk).file_name(file_name.to_owned()),
                )
                .text("chunkNumber", number.to_string())
                .text("chunkSize", CHUNK_SIZE.to_string())
                .text("currentChunkSize", len.to_string())
                .text("totalSize", size.to_string())
                .text("identifier", identifier.clone())
                .text("filename", file_name.to_owned())
                .text("relativePath", file_name.to_owned())
                .text("totalChunks", total_chunks.to_string());
            self.send_form(&format!("{V1}/apps/upload"), &[], form)
                .await?;
            sent += len;
            progress(sent, size);
        }
        let merged = self
            .send(
                ApiRequest::get(format!("{V1}/apps/merge"))
                    .query("fileName", file_name)
                    .query("guid", identifier),
            )
            .await?;
        Ok(String::from_utf8_lossy(merged.body())
            .trim()
            .trim_matches('"')
            .to_owned())
    }

    /// `GET .../action/download`: streams the package to `out`, calling `progress(bytes so far, total if known)`,
    /// never holding it in memory. Returns the bytes written; fails if the connection is cut before the announced
    /// length.
    pub async fn download<W: AsyncWrite + Unpin>(
        &self,
        app_id: &str,
        package_id: &str,
        out: &mut W,
        mut progress: impl FnMut(u64, Option<u64>),
    ) -> Result<u64, Error> {
        let url = self.inner.http.url(&format!(
            "{}/action/download",
            Self::package_path(app_id, package_id)
        ))?;
        let mut r = self.inner.raw.get(url);
        if let Some(t) = self.token() {
            r = r.header("access_token", t);
        }
        let response = r.send().await.map_err(Self::transport)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let body = response.bytes().await.map_err(Self::transport)?;
            return Err(appstore_error(Error::api(
                status,
                ProblemDetails::from_body(status, &body),
            )));
        }
        let total = response.content_length();
        let mut stream = response.bytes_stream();
        let mut written: u64 = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(Self::transport)?;
            out.write_all(&chunk).await.map_err(|e| Error::Transport {
                kind: mec_core::client::TransportErrorKind::Io,
                message: format!("writing the download: {e}"),
                source: Some(Box::new(e)),
            })?;
            written += chunk.len() as u64;
            progress(written, total);
        }
        out.flush().await.map_err(|e| Error::Transport {
            kind: mec_core::client::TransportErrorKind::Io,
            message: format!("writing the download: {e}"),
            source: Some(Box::new(e)),
        })?;
        if let Some(t) = total
            && written != t
        {
            return Err(Error::Decode {
                status,
                message: format!("the download stopped at {written} of {t} bytes"),
            });
        }
        Ok(written)
    }
}

/// Reads a file of at most `max` bytes.
async fn read_bounded(path: &std::path::Path, max: u64) -> Result<Vec<u8>, Error> {
    let len = tokio::fs::metadata(path)
        .await
        .map_err(|e| Error::InvalidRequest(format!("{}: {e}", path.display())))?
        .len();
    if len > max {
        return Err(Error::InvalidRequest(format!(
            "{} is larger than {max} bytes",
            path.display()
        )));
    }
    tokio::fs::read(path)
        .await
        .map_err(|e| Error::InvalidRequest(format!("{}: {e}", path.display())))
}
