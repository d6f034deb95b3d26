//! [`MockAppStore`]: EdgeGallery's AppStore (appstore-be, with user-mgmt's sign-in) in memory on 127.0.0.1, for
//! the AppStore client's tests and for trying publishing pipelines.
//!
//! It answers as appstore-be does, read from its sources (EdgeGallery/appstore-be @98c2f97, user-mgmt @8abad33):
//! the same routes, bodies and statuses (business errors are 500s with `retCode`, token refusals Spring's 401
//! body, missing roles 403), the same filters and sorting (including the failures a client meets: an empty
//! `showType` list or an unknown sort column is a 500), the same life of apps and packages. Packages are checked
//! with `mec-csar` as they arrive and kept on disk, so uploads and downloads of any size keep memory flat.

// Handlers answer early with the response appstore-be would send: that response is the error value.
#![allow(
    clippy::result_large_err,
    reason = "the error of a handler step is the HTTP answer itself"
)]

mod auth;
mod catalog;
mod federation;
mod transfer;

pub use auth::{AppStoreRole, AppStoreUser};

use crate::mep::{RecordedRequest, Recorder};
use auth::Account;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use catalog::StoredApp;
use mec_appstore_client::AppPackage;
use mec_core::{Clock, ManualClock};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// The largest multipart request appstore-be reads (`spring.servlet.multipart.max-request-size: 50MB`).
const MAX_REQUEST: usize = 50 << 20;

#[derive(Debug, Default)]
struct State {
    accounts: Vec<Account>,
    apps: BTreeMap<String, StoredApp>,
    /// Merged uploads: address -> file.
    merged: BTreeMap<String, PathBuf>,
    stores: BTreeMap<String, federation::Store>,
    /// Packages the external stores offer: store id -> `PushablePackageDto`s.
    offers: BTreeMap<String, Vec<serde_json::Value>>,
    /// (package id, store id) pushed.
    pushed: Vec<(String, String)>,
    /// (package id, store id) pulled.
    pulled: Vec<(String, String)>,
    /// Orders creations (the create time's tie-breaker).
    seq: u64,
    /// Why the token filter refused requests, as appstore-be logs it.
    refusals: Vec<String>,
    /// CSRF tokens handed out by the sign-in.
    xsrf: HashSet<String>,
    /// Downloads break after this many bytes.
    cut_downloads_after: Option<u64>,
}

impl State {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    dir: PathBuf,
    /// Signs the tokens.
    key: Vec<u8>,
    clock: ManualClock,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

type Shared = Arc<Inner>;

/// EdgeGallery's AppStore in memory, serving appstore-be's routes under `/mec/appstore` and user-mgmt's sign-in
/// (`POST /v1/accesstoken`) on one address.
///
/// Three users exist from the start (more with [`add_user`](Self::add_user)): `tenant`, `admin` and `guest`,
/// whose passwords are their names. [`token`](Self::token) is the tenant's token: a JWT with user-mgmt's claims
/// (`userId`, `userName`, `authorities`, `exp`), valid 12 hours of the mock's clock ([`advance`](Self::advance)).
///
/// ```no_run
/// # async fn run() {
/// let store = mec_testkit::MockAppStore::start().await;
/// let client = mec_appstore_client::Client::builder(store.url()).access_token(store.token()).build().unwrap();
/// # }
/// ```
#[derive(Debug)]
pub struct MockAppStore {
    url: String,
    inner: Shared,
    recorder: Recorder,
    tenant: AppStoreUser,
    token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

tokio::task_local! {
    /// The path of the request being answered (appstore-be's error bodies name it).
    static PATH: String;
}

/// appstore-be's time stamp layout (`RestReturn.timestamp`: `yyyy-MM-dd'T'HH:mm:ss.SSSZ`).
fn timestamp_of(t: SystemTime) -> String {
    let d = mec_core::format_sdk_date(t); // YYYYMMDDTHHMMSSZ
    let part = |a: usize, b: usize| d.get(a..b).unwrap_or("00");
    format!(
        "{}-{}-{}T{}:{}:{}.000+0000",
        part(0, 4),
        part(4, 6),
        part(6, 8),
        part(9, 11),
        part(11, 13),
        part(13, 15)
    )
}

fn timestamp() -> String {
    timestamp_of(SystemTime::now())
}

/// appstore-be's error body (`RestReturn`): the HTTP status in `code`, its own code in `retCode`.
fn fail(status: StatusCode, ret_code: u32, message: impl Into<String>) -> Response {
    let body = json!({
        "timestamp": timestamp(), "code": status.as_u16(),
        "error": status.canonical_reason().unwrap_or(""), "message": message.into(),
        "path": PATH.try_with(Clone::clone).unwrap_or_default(),
        "retCode": ret_code, "params": null, "data": null
    });
    (status, axum::Json(body)).into_response()
}

/// A business error: appstore-be's `AppException`, `EntityNotFoundException` ... are all 500s.
fn business(ret_code: u32, message: impl Into<String>) -> Response {
    fail(StatusCode::INTERNAL_SERVER_ERROR, ret_code, message)
}

/// A request refused by validation (a missing or malformed parameter, part or body): 400, `retCode` 1.
fn invalid(message: impl Into<String>) -> Response {
    fail(StatusCode::BAD_REQUEST, 1, message)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn lock(inner: &Shared) -> std::sync::MutexGuard<'_, State> {
    inner.state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MockAppStore {
    /// Starts a mock AppStore.
    ///
    /// # Panics
    /// When no port can be bound on 127.0.0.1 or no temporary directory can be made.
    #[allow(clippy::panic)]
    pub async fn start() -> Self {
        match Self::try_start().await {
            Ok(s) => s,
            Err(e) => panic!("the mock AppStore did not start: {e}"),
        }
    }

    /// Starts a mock AppStore, or says why it could not.
    pub async fn try_start() -> Result<Self, std::io::Error> {
        let dir = std::env::temp_dir().join(format!("mock-appstore-{}", new_id()));
        std::fs::create_dir_all(&dir)?;
        let mut state = State::default();
        for (name, role) in [
            ("tenant", AppStoreRole::Tenant),
            ("admin", AppStoreRole::Admin),
            ("guest", AppStoreRole::Guest),
        ] {
            state.accounts.push(Account::new(name, name, role));
        }
        let tenant = state.accounts[0].user.clone();
        let inner = Arc::new(Inner {
            state: Mutex::new(state),
            dir,
            key: uuid::Uuid::new_v4().as_bytes().to_vec(),
            clock: ManualClock::starting_now(),
        });
        let token = auth::issue(&inner.key, &tenant, auth::now_secs(&inner));
        let recorder = Recorder::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = router(inner.clone()).layer(axum::middleware::from_fn_with_state(
            recorder.clone(),
            crate::mep::record,
        ));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            url,
            inner,
            recorder,
            tenant,
            token,
            stop: Some(stop),
        })
    }

    /// The store's root URL (the client's base URL).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// User management's URL (the same address: `POST /v1/accesstoken`).
    pub fn user_mgmt_url(&self) -> &str {
        &self.url
    }

    /// A token of the `tenant` user (send it as the `access_token` header).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The `tenant` user.
    pub fn tenant(&self) -> &AppStoreUser {
        &self.tenant
    }

    /// The user of this name.
    pub fn user(&self, name: &str) -> Option<AppStoreUser> {
        lock(&self.inner)
            .accounts
            .iter()
            .find(|a| a.user.user_name == name)
            .map(|a| a.user.clone())
    }

    /// Adds a user who signs in with `name` and `password`.
    pub fn add_user(&self, name: &str, password: &str, role: AppStoreRole) -> AppStoreUser {
        let account = Account::new(name, password, role);
        let user = account.user.clone();
        lock(&self.inner).accounts.push(account);
        user
    }

    /// A fresh token of `user`, valid 12 hours from the mock's clock.
    pub fn token_for(&self, user: &AppStoreUser) -> String {
        auth::issue(&self.inner.key, user, auth::now_secs(&self.inner))
    }

    /// Moves the mock's clock (tokens expire after 12 hours of it).
    pub fn advance(&self, by: Duration) {
        self.inner.clock.advance(by);
    }

    /// Why requests were refused with 401, as appstore-be logs it (`Access token is empty`, `Invalid access
    /// token.`, `Access token expired`, `Illegal userId`, `Illegal userName`), one line per refusal.
    pub fn refusals(&self) -> Vec<String> {
        lock(&self.inner).refusals.clone()
    }

    /// Makes downloads break after `bytes` (the connection closes before the body's end), or work again
    /// (`None`).
    pub fn cut_downloads_after(&self, bytes: Option<u64>) {
        lock(&self.inner).cut_downloads_after = bytes;
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.recorder.requests()
    }

    /// The packages stored, as `(app id, package)`.
    pub fn packages(&self) -> Vec<(String, AppPackage)> {
        lock(&self.inner)
            .apps
            .iter()
            .flat_map(|(id, a)| {
                a.releases
                    .values()
                    .filter_map(move |r| Some((id.clone(), serde_json::from_value(r.dto()).ok()?)))
            })
            .collect()
    }

    /// The bytes of a stored package.
    pub fn package_bytes(&self, app_id: &str, package_id: &str) -> Option<Vec<u8>> {
        let file = lock(&self.inner)
            .apps
            .get(app_id)?
            .releases
            .get(package_id)?
            .file
            .clone()?;
        std::fs::read(file).ok()
    }

    /// Declares an external store this one federates with; returns its id (a UUID, as appstore-be gives).
    pub fn add_external_store(&self, name: &str, url: &str) -> String {
        let id = uuid::Uuid::new_v4().hyphenated().to_string();
        let now = timestamp_of(self.inner.clock.now());
        lock(&self.inner)
            .stores
            .insert(id.clone(), federation::Store::new(&id, name, url, &now));
        id
    }

    /// Makes an external store offer a package for pulling (a `PushablePackageDto`-shaped JSON object with at
    /// least `packageId`, `name`, `provider` and `version`). A pull registers its listing here, without bytes:
    /// the mock cannot download from the other store.
    pub fn offer_from(&self, store_id: &str, package: serde_json::Value) {
        lock(&self.inner)
            .offers
            .entry(store_id.to_owned())
            .or_default()
            .push(package);
    }

    /// The pushes made, as `(package id, store id)`.
    pub fn pushes(&self) -> Vec<(String, String)> {
        lock(&self.inner).pushed.clone()
    }

    /// The pulls made, as `(package id, store id)`.
    pub fn pulls(&self) -> Vec<(String, String)> {
        lock(&self.inner).pulled.clone()
    }

    /// A valid container package of app `name` (provider `acme`) in `version`, with `padding` incompressible
    /// bytes in `Artifacts/Other/padding.bin` to give it the size a test wants.
    ///
    /// # Panics
    /// Never in practice: the package is built in memory from fixed parts.
    #[allow(clippy::panic)]
    pub fn sample_package(name: &str, version: &str, padding: usize) -> Vec<u8> {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let noise: Vec<u8> = (0..padding)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[3]
            })
            .collect();
        let built = mec_csar::PackageBuilder::new(name)
            .metadata("app_product_name", name)
            .metadata("app_provider_id", "acme")
            .metadata("app_package_version", version)
            .metadata("app_release_data_time", "2026-11-24 12:00")
            .metadata("app_class", "container")
            .metadata("app_package_description", format!("{name}, a sample"))
            .file(
                "APPD/app.yaml",
                "tosca_definitions_version: tosca_simple_yaml_1_2\n",
            )
            .file("Artifacts/Other/padding.bin", noise)
            .entry_definitions("APPD/app.yaml")
            .write(std::io::Cursor::new(Vec::new()));
        match built {
            Ok(c) => c.into_inner(),
            Err(e) => panic!("the sample package did not build: {e}"),
        }
    }
}

impl Drop for MockAppStore {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

const P: &str = "/mec/appstore";

/// Sets the request's path for the error bodies.
async fn with_path(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path().to_owned();
    PATH.scope(path, next.run(request)).await
}

fn router(inner: Shared) -> Router {
    let r = |path: &str| format!("{P}{path}");
    let pkg = "/v1/apps/{app}/packages/{pkg}";
    Router::new()
        .route(
            &r("/v1/apps"),
            get(catalog::list_apps).post(transfer::register),
        )
        .route(&r("/v1/apps/upload"), post(transfer::upload_chunk))
        .route(&r("/v1/apps/merge"), get(transfer::merge))
        .route(&r("/v1/apps/vm-register"), post(transfer::vm_register))
        .route(&r("/v2/apps/action/query"), post(catalog::query_apps))
        .route(
            &r("/v1/apps/{app}"),
            get(catalog::get_app).delete(catalog::delete_app),
        )
        .route(&r("/v1/apps/{app}/icon"), get(transfer::app_icon))
        .route(&r("/v1/apps/{app}/demoVideo"), get(transfer::demo_video))
        .route(&r("/v1/apps/{app}/packages"), get(catalog::list_packages))
        .route(
            &r("/v2/apps/{app}/packages"),
            get(catalog::list_packages_v2),
        )
        .route(
            &r(pkg),
            get(catalog::get_package).delete(catalog::delete_package),
        )
        .route(
            &r(&format!("{pkg}/action/test")),
            post(catalog::test_package),
        )
        .route(&r(&format!("{pkg}/action/publish")), post(catalog::publish))
        .route(
            &r(&format!("{pkg}/action/unpublish")),
            post(catalog::unpublish),
        )
        .route(
            &r(&format!("{pkg}/action/download")),
            get(transfer::download),
        )
        .route(&r(&format!("{pkg}/icon")), get(transfer::package_icon))
        .route(
            &r("/v1/apps/{app}/package/{pkg}"),
            put(transfer::edit_package),
        )
        .route(&r("/v1/packages"), get(catalog::my_packages))
        .route(&r("/v2/packages"), get(catalog::published_packages))
        .route(
            &r("/v2/packages/action/query"),
            post(catalog::query_packages),
        )
        .route(
            &r("/v1/apps/{app}/comments"),
            get(catalog::comments).post(catalog::add_comment),
        )
        .route(&r("/v2/apps/{app}/comments"), get(catalog::comments_v2))
        .route(
            &r("/v1/appstores"),
            get(federation::list_stores).post(federation::add_store),
        )
        .route(
            &r("/v1/appstores/{id}"),
            get(federation::get_store)
                .put(federation::edit_store)
                .delete(federation::delete_store),
        )
        .route(&r("/v2/appstores"), get(federation::stores_page))
        .route(&r("/v1/packages/pushable"), get(federation::pushable))
        .route(
            &r("/v1/packages/{id}/pushable"),
            get(federation::pushable_one),
        )
        .route(&r("/v1/packages/{id}/pullable"), get(federation::pullable))
        .route(&r("/v1/packages/{id}/action/push"), post(federation::push))
        .route(&r("/v1/packages/{id}/action/pull"), post(federation::pull))
        .route_layer(axum::middleware::from_fn_with_state(
            inner.clone(),
            auth::check,
        ))
        .route("/v1/accesstoken", post(auth::access_token))
        .layer(DefaultBodyLimit::max(MAX_REQUEST))
        .layer(axum::middleware::from_fn(with_path))
        .with_state(inner)
}
