//! # mec-appstore-client
//!
//! A typed async client of EdgeGallery's AppStore back end (appstore-be): sign-in through user management, apps
//! and their packages, test requests and their status, publishing, comments, federation with other stores, and
//! transfers streamed from and to disk with progress.
//!
//! ```no_run
//! # async fn run() -> Result<(), mec_appstore_client::Error> {
//! use mec_appstore_client::{AppQuery, AppSortKey, Client, SortOrder};
//!
//! // appstore-be itself (port 8099), not the portal: see "Which address" below.
//! let store = Client::builder("http://appstore-be.example:8099").build()?;
//! store.login("http://user-mgmt.example:8067", "tenant", "secret").await?;
//! println!("signed in as {}", store.identity()?.user_name);
//! let page = store.query_apps(&AppQuery::default().sort(AppSortKey::AppName, SortOrder::Asc)).await?;
//! for app in page.results {
//!     println!("{} {} by {}", app.app_id, app.name, app.provider);
//! }
//!
//! // One resource, one handle: an app, its packages, one package.
//! let package = store.app("2f9b3e1c").packages().package("9c1d7a4e");
//! let mut file = tokio::fs::File::create("app.csar").await.map_err(|source| {
//!     mec_appstore_client::Error::Io { context: "creating app.csar".into(), source }
//! })?;
//! package.download_to(&Default::default(), &mut file, |done, total| println!("{done} of {total:?}")).await?;
//! # Ok(()) }
//! ```
//!
//! ## Which address
//!
//! Give the client **appstore-be's own address** (`http://<host>:8099`, the `appstore-be-svc` service; from
//! outside the cluster through a port forward or a NodePort you expose) and **user-mgmt's** for
//! [`Client::login`] (`http://<host>:8067`, or its NodePort 30067). The portal's address
//! (`https://<host>:30091/mec-appstore`, website-gateway in front of appstore-fe) is made for a browser: it
//! wants a session cookie from its single sign-on and a CSRF token on every change, caps multipart requests at
//! 10 MB (so chunked uploads above that fail) and limits each user to 100 requests in 10 seconds. GET requests
//! may pass through it with the token in `X-ACCESS-TOKEN`; uploads, publishing and every other change fail.
//!
//! ## Who the user is
//!
//! appstore-be refuses (401) any `userId` or `userName` that differs from the token's claims, and wants
//! `userId` to be a lowercase UUID. The client reads both from the token ([`Client::identity`]) wherever the
//! store needs them: uploads, deletions, unpublishing, comments, pulls, and the lists of one's own entries
//! ([`Scope::Mine`]).
//!
//! ## Transfers
//!
//! Uploads go in one multipart request up to [`CHUNKED_ABOVE`] bytes (and while the request stays under
//! [`MAX_REQUEST`]), and above it in [`CHUNK_SIZE`] chunks merged by the store, as its own portal does: the
//! client never holds more than one chunk in memory. Downloads are streamed to any writer; the store sends no
//! `Content-Length`, so progress counts bytes and a download cut short is found by the HTTP framing and by the
//! zip end record every package ends with (see [`PackageHandle::download_to`]). Every request goes through
//! [`mec_core`]'s HTTP client: requests whose bodies fit in memory have an overall timeout, transfers an idle
//! timeout ([`ClientBuilder::idle_timeout`]) so that a stalled one fails instead of hanging.
//!
//! ## Handles
//!
//! The store's resources are reached by handles, each naming its path once: [`Client::app`] gives an
//! [`AppHandle`] (the app, its icon, video, [comments](AppHandle::comments) and [packages](AppHandle::packages)),
//! whose [`PackagesHandle::package`] gives a [`PackageHandle`] (read, test, publish, edit, download, delete).
//! Lists across apps ([`Client::query_apps`], [`Client::my_packages`]...), sign-in and [`Client::upload`] are
//! the client's own methods.
//!
//! ## Federation (admin role)
//!
//! The external stores known ([`Client::external_stores`]: list, add, and [`ExternalStoreHandle`] for one),
//! packages pushed to them ([`Client::pushable_packages`], [`FederatedPackageHandle::push`]) or pulled from them
//! ([`ExternalStoreHandle::pullable_packages`], [`FederatedPackageHandle::pull`]).

mod error;
mod federation;
mod identity;
mod model;
mod paths;
mod query;
mod transfer;

pub use error::Error;
pub use federation::{ExternalStoreHandle, ExternalStoresHandle, FederatedPackageHandle};
pub use model::{
    Affinity, App, AppPackage, AppStatus, AppType, Comment, CommentUser, DownloadOptions,
    ExternalStore, ExternalStoreForm, FederatedPackage, Identity, Industry, PackageEdit,
    PackageStatus, Page, PullRequest, Registered, ShowType, TestTask, UploadForm, WorkloadType,
};
pub use query::{
    AppFilter, AppQuery, AppSortKey, MAX_PAGE, PackageQuery, PackageSortKey, QueryCtrl, Scope,
    SortOrder,
};
pub use transfer::{CHUNK_SIZE, CHUNKED_ABOVE, MAX_ICON, MAX_PACKAGE, MAX_REQUEST, MAX_VIDEO};

use mec_core::ProblemDetails;
use mec_core::client::{
    ApiRequest, ApiResponse, HttpClient, HttpClientBuilder, ResponseStream, path_segment,
};
use serde::de::DeserializeOwned;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// Builds a [`Client`].
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    http: HttpClientBuilder,
    token: Option<String>,
}

impl ClientBuilder {
    /// Uses this access token (a JWT from user management) instead of signing in.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sets the timeout of one request whose bodies fit in memory (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http = self.http.timeout(Some(timeout));
        self
    }

    /// Sets the idle timeout of transfers (uploads of files, downloads): one fails when nothing was sent or
    /// received for this long (default 60 s); there is no overall limit on a transfer that moves.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.http = self.http.idle_timeout(timeout);
        self
    }

    /// Sets the connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.http = self.http.connect_timeout(timeout);
        self
    }

    /// Accepts any server certificate (EdgeGallery installations use self-signed ones; prefer
    /// [`add_root_certificate_pem`](Self::add_root_certificate_pem)).
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.http = self.http.danger_accept_invalid_certs(accept);
        self
    }

    /// Trusts the certificates of a PEM bundle besides the system's roots.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.http = self.http.add_root_certificate_pem(pem);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        Ok(Client {
            inner: Arc::new(Inner {
                http: self.http.build()?,
                token: RwLock::new(self.token),
            }),
        })
    }
}

#[derive(Debug)]
struct Inner {
    http: HttpClient,
    token: RwLock<Option<String>>,
}

/// A client of one AppStore. Cheap to clone; its handles hold a clone.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

/// What a 401 with an empty message means: appstore-be's token filter answers with Spring's default error body,
/// whose message Spring Boot 2.3+ leaves empty (appstore-be `AccessTokenFilter`).
const REFUSED_TOKEN: &str = "the AppStore refused the access token: it is missing, invalid or expired, or a \
                             userId/userName sent differs from its claims";

/// What an answer from the portal's gateway means (its path starts with `/mec-appstore/`, or it is the HTML of its
/// sign-in page).
const PORTAL: &str = "this is the AppStore portal (website-gateway), which wants a browser session and a CSRF \
                      token: give the client appstore-be's own address, http://<host>:8099";

/// The AppStore writes errors as `{"code":..,"message":..,"retCode":..}`: the message becomes the problem's
/// detail and `retCode` its status, so `problem().status` is the AppStore's code (10031: tampered package...).
/// Its token filter writes Spring's `{"status":401,"message":""}`: the detail then says what a 401 means. An
/// error from the portal's gateway says to use appstore-be's address.
pub(crate) fn appstore_problem(status: u16, mut problem: Box<ProblemDetails>) -> Error {
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
    if status == 401 && problem.detail.is_empty() {
        REFUSED_TOKEN.clone_into(&mut problem.detail);
    }
    let via_portal = problem
        .extra
        .get("path")
        .and_then(|p| p.as_str())
        .is_some_and(|p| p.starts_with("/mec-appstore/"));
    if via_portal {
        problem.detail = if problem.detail.is_empty() {
            PORTAL.to_owned()
        } else {
            format!("{}; {PORTAL}", problem.detail)
        };
    }
    Error::Api { status, problem }
}

/// Decodes a successful answer; an HTML page (the portal's sign-in page, reached by redirection) says so.
pub(crate) fn decode_body<T: DeserializeOwned>(
    status: u16,
    body: &[u8],
    what: &str,
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| {
        let html = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
        Error::Decode {
            status,
            message: if html {
                format!("{what}: the answer is an HTML page, not JSON: {PORTAL}")
            } else {
                format!("{what}: {e}")
            },
        }
    })
}

impl Client {
    /// A builder for a client of the AppStore whose root is `base_url`: appstore-be itself
    /// (`http://host:8099`; see the crate documentation for why not the portal).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            http: HttpClient::builder(base_url)
                .timeout(Some(Duration::from_secs(60)))
                .idle_timeout(Duration::from_secs(60)),
            token: None,
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
        self.inner
            .token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The signed-in user, read from the token's claims (`userId`, `userName`, `authorities`, `exp`; the
    /// signature is not checked here, the AppStore does).
    pub fn identity(&self) -> Result<Identity, Error> {
        let token = self.access_token().ok_or_else(|| {
            Error::Auth("no access token: sign in first, or give the client a token".into())
        })?;
        identity::decode(&token)
    }

    /// The user to name in a request: the token's, whose `userId` appstore-be wants as a lowercase UUID.
    pub(crate) fn user(&self) -> Result<Identity, Error> {
        let id = self.identity()?;
        if !identity::is_lowercase_uuid(&id.user_id) {
            return Err(Error::InvalidRequest(format!(
                "the token's userId {:?} is not a lowercase UUID, which appstore-be requires where it names the \
                 user (uploads, deletions, comments, one's own lists); sign in as a user, not a service client",
                id.user_id
            )));
        }
        Ok(id)
    }

    /// Signs in with EdgeGallery's user management (`POST {user_mgmt}/v1/accesstoken`), doing its CSRF
    /// handshake (a first request obtains the `XSRF-TOKEN` cookie, the second sends it back), and keeps the token.
    pub async fn login(
        &self,
        user_mgmt_url: &str,
        user: &str,
        password: &str,
    ) -> Result<(), Error> {
        let url = paths::access_token(user_mgmt_url);
        let body = serde_json::json!({"userFlag": user, "password": password});
        let send = |xsrf: Option<&str>| -> Result<ApiRequest, Error> {
            let mut r = ApiRequest::post(url.as_str()).json(&body)?.any_status();
            if let Some(t) = xsrf {
                let value = |v: String| {
                    http::HeaderValue::try_from(v).map_err(|_| {
                        Error::Auth("user management sent an unusable XSRF-TOKEN cookie".into())
                    })
                };
                r = r
                    .header(
                        http::HeaderName::from_static("x-xsrf-token"),
                        value(t.to_owned())?,
                    )
                    .header(http::header::COOKIE, value(format!("XSRF-TOKEN={t}"))?);
            }
            Ok(r)
        };
        let mut response = self.inner.http.execute(send(None)?).await?;
        if !response.is_success() {
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
                response = self.inner.http.execute(send(Some(&t))?).await?;
            }
        }
        let response = response.error_for_status()?;
        let v: serde_json::Value = serde_json::from_slice(response.body())
            .map_err(|e| Error::Auth(format!("the sign-in answer does not decode: {e}")))?;
        let token = v
            .get("accessToken")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| Error::Auth("the sign-in answer has no accessToken".into()))?;
        self.set_access_token(token);
        Ok(())
    }

    fn with_token(&self, mut request: ApiRequest) -> Result<ApiRequest, Error> {
        if let Some(t) = self.access_token() {
            let v = http::HeaderValue::from_str(&t).map_err(|_| {
                Error::InvalidRequest("the access token is not a valid header value".into())
            })?;
            request = request.header(http::HeaderName::from_static("access_token"), v);
        }
        Ok(request)
    }

    /// Sends a request with the token and reads the answer into memory.
    pub(crate) async fn send(&self, request: ApiRequest) -> Result<ApiResponse, Error> {
        Ok(self.inner.http.execute(self.with_token(request)?).await?)
    }

    /// Sends a request with the token and returns as soon as the answer's headers came.
    pub(crate) async fn send_streaming(
        &self,
        request: ApiRequest,
    ) -> Result<ResponseStream, Error> {
        Ok(self
            .inner
            .http
            .execute_streaming(self.with_token(request)?)
            .await?)
    }

    pub(crate) async fn json<T: DeserializeOwned>(&self, request: ApiRequest) -> Result<T, Error> {
        let what = format!("{} {}", request.method(), request.path());
        let response = self.send(request).await?;
        decode_body(response.status(), response.body(), &what)
    }

    /// Adds the token's `userId` and `userName` to a request's query.
    pub(crate) fn as_user(&self, request: ApiRequest) -> Result<ApiRequest, Error> {
        let me = self.user()?;
        Ok(request
            .query("userId", me.user_id)
            .query("userName", me.user_name))
    }

    /// Adds the token's `userId` when the scope is [`Scope::Mine`].
    fn scoped(&self, request: ApiRequest, scope: Scope) -> Result<ApiRequest, Error> {
        Ok(match scope {
            Scope::Mine => request.query("userId", self.user()?.user_id),
            Scope::Published => request,
        })
    }

    /// One app, by its id: a handle to it, its packages and comments (nothing is sent until a method is called).
    pub fn app(&self, app_id: &str) -> AppHandle {
        AppHandle {
            client: self.clone(),
            id: app_id.to_owned(),
            path: paths::app(app_id),
        }
    }

    /// `GET /v1/apps`: apps by name, provider, type and architecture; the published ones, or the signed-in user's
    /// ([`Scope::Mine`]: every app in which they have a package, in any status). The store answers the first 100.
    pub async fn list_apps(&self, filter: &AppFilter) -> Result<Vec<App>, Error> {
        let mut r = ApiRequest::get(paths::apps(paths::V1));
        for (key, value) in [
            ("name", filter.name.as_deref()),
            ("provider", filter.provider.as_deref()),
            ("type", filter.app_type.as_ref().map(AppType::as_str)),
            ("affinity", filter.affinity.as_ref().map(Affinity::as_str)),
        ] {
            if let Some(v) = value {
                r = r.query(key, v);
            }
        }
        self.json(self.scoped(r, filter.scope)?).await
    }

    /// `POST /v2/apps/action/query`: a page of apps, filtered and sorted. Refused before sending when the page
    /// size is not 1 to [`MAX_PAGE`].
    pub async fn query_apps(&self, query: &AppQuery) -> Result<Page<App>, Error> {
        query.check()?;
        self.json(ApiRequest::post(format!("{}/action/query", paths::apps(paths::V2))).json(query)?)
            .await
    }

    /// `GET /v1/packages?userId`: every package of the signed-in user, newest first.
    pub async fn my_packages(&self) -> Result<Vec<AppPackage>, Error> {
        let r = ApiRequest::get(paths::packages(paths::V1)).query("userId", self.user()?.user_id);
        self.json(r).await
    }

    /// `POST /v2/packages/action/query`: a page of the signed-in user's packages (every user's for an admin),
    /// filtered and sorted.
    pub async fn query_my_packages(&self, query: &PackageQuery) -> Result<Page<AppPackage>, Error> {
        query.check()?;
        self.json(
            ApiRequest::post(format!("{}/action/query", paths::packages(paths::V2))).json(query)?,
        )
        .await
    }

    /// `GET /v2/packages?limit&offset[&startTime&endTime]`: a page of the published, non-private packages,
    /// newest first; `created` (`yyyy-MM-dd`, both ends) narrows them to a creation period.
    pub async fn published_packages(
        &self,
        offset: u64,
        limit: u64,
        created: Option<(&str, &str)>,
    ) -> Result<Page<AppPackage>, Error> {
        let mut r = paged(ApiRequest::get(paths::packages(paths::V2)), offset, limit)?;
        if let Some((start, end)) = created {
            for d in [start, end] {
                if !is_date(d) {
                    return Err(Error::InvalidRequest(format!(
                        "{d:?} is not a date as the AppStore reads it (yyyy-MM-dd)"
                    )));
                }
            }
            r = r.query("startTime", start).query("endTime", end);
        }
        self.json(r).await
    }
}

/// One app of the store (`/v1/apps/{appId}`), from [`Client::app`].
#[derive(Clone, Debug)]
pub struct AppHandle {
    client: Client,
    id: String,
    path: String,
}

impl AppHandle {
    /// The app's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `GET /v1/apps/{appId}`.
    pub async fn get(&self) -> Result<App, Error> {
        self.client.json(ApiRequest::get(&self.path)).await
    }

    /// `DELETE /v1/apps/{appId}`: the app, its packages and comments (its owner or an admin; else 403).
    pub async fn delete(&self) -> Result<(), Error> {
        let r = self.client.as_user(ApiRequest::delete(&self.path))?;
        self.client.send(r).await.map(drop)
    }

    /// The app's packages.
    pub fn packages(&self) -> PackagesHandle {
        PackagesHandle { app: self.clone() }
    }

    /// The app's comments.
    pub fn comments(&self) -> CommentsHandle {
        CommentsHandle { app: self.clone() }
    }
}

/// The packages of one app (`/v1/apps/{appId}/packages`), from [`AppHandle::packages`].
#[derive(Clone, Debug)]
pub struct PackagesHandle {
    app: AppHandle,
}

impl PackagesHandle {
    /// `GET /v1/apps/{appId}/packages`: the published packages (not private), or the signed-in user's own in any
    /// status ([`Scope::Mine`]; the store then refreshes their test status). The first 100.
    pub async fn list(&self, scope: Scope) -> Result<Vec<AppPackage>, Error> {
        let c = &self.app.client;
        let r = ApiRequest::get(format!("{}/packages", self.app.path));
        c.json(c.scoped(r, scope)?).await
    }

    /// `GET /v2/apps/{appId}/packages?limit&offset`: as [`list`](Self::list), a page at a time. The store pages
    /// over all the app's packages and filters the page afterwards, so a page may hold fewer than `limit`.
    pub async fn page(
        &self,
        scope: Scope,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<AppPackage>, Error> {
        let c = &self.app.client;
        let r = paged(
            ApiRequest::get(format!("{}/packages", paths::v2(&self.app.path))),
            offset,
            limit,
        )?;
        c.json(c.scoped(r, scope)?).await
    }

    /// One package of the app (nothing is sent until a method is called).
    pub fn package(&self, package_id: &str) -> PackageHandle {
        PackageHandle {
            client: self.app.client.clone(),
            app_id: self.app.id.clone(),
            id: package_id.to_owned(),
            path: format!("{}/packages/{}", self.app.path, path_segment(package_id)),
        }
    }
}

/// One package of an app (`/v1/apps/{appId}/packages/{packageId}`), from [`PackagesHandle::package`].
#[derive(Clone, Debug)]
pub struct PackageHandle {
    client: Client,
    app_id: String,
    id: String,
    path: String,
}

impl PackageHandle {
    /// The app's id.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The package's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `GET /v1/apps/{appId}/packages/{packageId}` (the AppStore refreshes the test status on each read).
    pub async fn get(&self) -> Result<AppPackage, Error> {
        self.client.json(ApiRequest::get(&self.path)).await
    }

    /// `DELETE /v1/apps/{appId}/packages/{packageId}` (its owner or an admin). Deleting an app's last package
    /// deletes the app.
    pub async fn delete(&self) -> Result<(), Error> {
        let r = self.client.as_user(ApiRequest::delete(&self.path))?;
        self.client.send(r).await.map(drop)
    }

    /// `POST .../action/test`: asks the test platform to test the package (from `Upload`, `Test_failed`,
    /// `Test_create_failed` or `Test_success`; else the store's code 11005).
    pub async fn test(&self) -> Result<TestTask, Error> {
        self.client
            .json(ApiRequest::post(format!("{}/action/test", self.path)))
            .await
    }

    /// Polls the package until its test has ended (any status but the testing ones), checking every `interval`,
    /// for at most `timeout` ([`Error::WaitTimeout`] then).
    pub async fn wait_for_test(
        &self,
        interval: Duration,
        timeout: Duration,
    ) -> Result<AppPackage, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let p = self.get().await?;
            if !p.status.as_ref().is_some_and(PackageStatus::is_testing) {
                return Ok(p);
            }
            if tokio::time::Instant::now() >= deadline {
                let status = p.status.map(|s| s.to_string()).unwrap_or_default();
                return Err(Error::WaitTimeout(format!(
                    "package {} is still {status} after {timeout:?}",
                    self.id
                )));
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// `POST .../action/publish` (after a successful test; else the store's code 11002). `price` `None`
    /// publishes for free. Both `free` and `isFree` are sent: appstore-be reads one, its own portal sends the
    /// other.
    pub async fn publish(&self, price: Option<f64>) -> Result<(), Error> {
        let free = price.is_none();
        let body = serde_json::json!({"free": free, "isFree": free, "price": price.unwrap_or(0.0)});
        let r = ApiRequest::post(format!("{}/action/publish", self.path)).json(&body)?;
        self.client.send(r).await.map(drop)
    }

    /// `POST .../action/unpublish`: takes a published package off the shelf (its owner or an admin; the store's
    /// code 11011 when it is not published). The app becomes `UnPublish` when none of its packages is published.
    pub async fn unpublish(&self) -> Result<(), Error> {
        let r = ApiRequest::post(format!("{}/action/unpublish", self.path));
        self.client.send(self.client.as_user(r)?).await.map(drop)
    }
}

/// The comments of one app (`/v1/apps/{appId}/comments`), from [`AppHandle::comments`].
#[derive(Clone, Debug)]
pub struct CommentsHandle {
    app: AppHandle,
}

impl CommentsHandle {
    /// `GET /v1/apps/{appId}/comments`: the newest 100.
    pub async fn list(&self) -> Result<Vec<Comment>, Error> {
        self.app
            .client
            .json(ApiRequest::get(format!("{}/comments", self.app.path)))
            .await
    }

    /// `GET /v2/apps/{appId}/comments?limit&offset`: a page of comments, newest first.
    pub async fn page(&self, offset: u64, limit: u64) -> Result<Page<Comment>, Error> {
        let r = ApiRequest::get(format!("{}/comments", paths::v2(&self.app.path)));
        self.app.client.json(paged(r, offset, limit)?).await
    }

    /// `POST /v1/apps/{appId}/comments`: a comment (1 to 1024 characters) and a score (0 to 5) by the signed-in
    /// user. The store refuses comments on one's own app (its code 12001).
    pub async fn add(&self, body: &str, score: f64) -> Result<(), Error> {
        if body.is_empty() || body.chars().count() > 1024 || !(0.0..=5.0).contains(&score) {
            return Err(Error::InvalidRequest(
                "a comment is 1 to 1024 characters, a score 0 to 5".into(),
            ));
        }
        let c = &self.app.client;
        let r = ApiRequest::post(format!("{}/comments", self.app.path))
            .json(&serde_json::json!({"body": body, "score": score}))?;
        c.send(c.as_user(r)?).await.map(drop)
    }
}

/// Adds `limit` and `offset`, refusing a page size the store does not take (`@Min(1)`; at most [`MAX_PAGE`]).
pub(crate) fn paged(request: ApiRequest, offset: u64, limit: u64) -> Result<ApiRequest, Error> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::InvalidRequest(format!(
            "a page holds 1 to {MAX_PAGE} results, not {limit}"
        )));
    }
    Ok(request
        .query("limit", limit.to_string())
        .query("offset", offset.to_string()))
}

/// `yyyy-MM-dd`.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}
