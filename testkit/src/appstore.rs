//! [`MockAppStore`]: an in-memory EdgeGallery AppStore (appstore-be) on 127.0.0.1, for the AppStore client's
//! tests and for trying publishing pipelines. Packages are checked with `mec-csar` as they arrive and kept on
//! disk, so uploads and downloads of any size keep memory flat.

use crate::mep::{RecordedRequest, Recorder};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mec_appstore_client::{App, AppPackage, AppStatus, PackageStatus, Page, Registered};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::AsyncWriteExt;

#[derive(Debug)]
struct StoredPackage {
    info: AppPackage,
    file: PathBuf,
}

#[derive(Debug)]
struct StoredApp {
    info: App,
    packages: BTreeMap<String, StoredPackage>,
    comments: Vec<serde_json::Value>,
}

#[derive(Debug, Default)]
struct State_ {
    apps: BTreeMap<String, StoredApp>,
    merged: BTreeMap<String, PathBuf>,
    /// External stores: id -> (name, url).
    stores: BTreeMap<String, (String, String)>,
    /// Packages the external stores offer: store id -> packages.
    offers: BTreeMap<String, Vec<serde_json::Value>>,
    /// (package id, store id) pushed.
    pushed: Vec<(String, String)>,
    /// (package id, store id) pulled.
    pulled: Vec<(String, String)>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State_>,
    dir: PathBuf,
    token: Option<String>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

type Shared = Arc<Inner>;

/// An in-memory AppStore serving appstore-be's routes under `/mec/appstore`.
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
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The token the mock accepts (send it as the `access_token` header).
pub const MOCK_APPSTORE_TOKEN: &str = "mock-appstore-token";

fn fail(status: StatusCode, ret_code: u32, message: impl Into<String>) -> Response {
    let message = message.into();
    let body = json!({
        "timestamp": "2026-01-01T00:00:00.000+0000", "code": status.as_u16(),
        "error": status.canonical_reason().unwrap_or(""), "message": message,
        "retCode": ret_code, "params": [], "data": null
    });
    (status, axum::Json(body)).into_response()
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl MockAppStore {
    /// Starts a mock requiring the token [`MOCK_APPSTORE_TOKEN`].
    ///
    /// # Panics
    /// When no port can be bound on 127.0.0.1 or no temporary directory can be made.
    #[allow(clippy::panic)]
    pub async fn start() -> Self {
        match Self::try_start(Some(MOCK_APPSTORE_TOKEN.to_owned())).await {
            Ok(s) => s,
            Err(e) => panic!("the mock AppStore did not start: {e}"),
        }
    }

    /// Starts a mock; `token` `None` accepts every request.
    pub async fn try_start(token: Option<String>) -> Result<Self, std::io::Error> {
        let dir = std::env::temp_dir().join(format!("mock-appstore-{}", new_id()));
        std::fs::create_dir_all(&dir)?;
        let inner = Arc::new(Inner {
            state: Mutex::default(),
            dir,
            token,
        });
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
            stop: Some(stop),
        })
    }

    /// The store's root URL (the client's base URL).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The token it accepts.
    pub fn token(&self) -> &str {
        self.inner.token.as_deref().unwrap_or("")
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.recorder.requests()
    }

    /// The packages stored, as `(app id, package)`.
    pub fn packages(&self) -> Vec<(String, AppPackage)> {
        let state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state
            .apps
            .iter()
            .flat_map(|(id, a)| {
                a.packages
                    .values()
                    .map(move |p| (id.clone(), p.info.clone()))
            })
            .collect()
    }

    /// Declares an external store this one federates with.
    pub fn add_external_store(&self, id: &str, name: &str, url: &str) {
        lock(&self.inner)
            .stores
            .insert(id.to_owned(), (name.to_owned(), url.to_owned()));
    }

    /// Makes an external store offer a package for pulling (a `PushablePackageDto`-shaped JSON object with at
    /// least `packageId`).
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

    /// The bytes of a stored package.
    pub fn package_bytes(&self, app_id: &str, package_id: &str) -> Option<Vec<u8>> {
        let state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let file = state
            .apps
            .get(app_id)?
            .packages
            .get(package_id)?
            .file
            .clone();
        drop(state);
        std::fs::read(file).ok()
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

fn router(inner: Shared) -> Router {
    Router::new()
        .route(&format!("{P}/v1/apps"), get(list_apps).post(register))
        .route(&format!("{P}/v1/apps/upload"), post(upload_chunk))
        .route(&format!("{P}/v1/apps/merge"), get(merge))
        .route(&format!("{P}/v1/apps/vm-register"), post(register))
        .route(&format!("{P}/v2/apps/action/query"), post(query_apps))
        .route(
            &format!("{P}/v1/apps/{{app}}"),
            get(get_app).delete(delete_app),
        )
        .route(&format!("{P}/v1/apps/{{app}}/packages"), get(list_packages))
        .route(
            &format!("{P}/v1/apps/{{app}}/packages/{{pkg}}"),
            get(get_package).delete(delete_package),
        )
        .route(
            &format!("{P}/v1/apps/{{app}}/packages/{{pkg}}/action/test"),
            post(test_package),
        )
        .route(
            &format!("{P}/v1/apps/{{app}}/packages/{{pkg}}/action/publish"),
            post(publish),
        )
        .route(
            &format!("{P}/v1/apps/{{app}}/packages/{{pkg}}/action/unpublish"),
            post(unpublish),
        )
        .route(
            &format!("{P}/v1/apps/{{app}}/packages/{{pkg}}/action/download"),
            get(download),
        )
        .route(
            &format!("{P}/v1/apps/{{app}}/comments"),
            get(comments).post(add_comment),
        )
        .route(&format!("{P}/v1/appstores"), get(external_stores))
        .route(&format!("{P}/v1/packages/pushable"), get(pushable))
        .route(&format!("{P}/v1/packages/{{id}}/pullable"), get(pullable))
        .route(&format!("{P}/v1/packages/{{id}}/action/push"), post(push))
        .route(&format!("{P}/v1/packages/{{id}}/action/pull"), post(pull))
        .layer(DefaultBodyLimit::max(64 << 20))
        .layer(axum::middleware::from_fn_with_state(
            inner.clone(),
            check_token,
        ))
        .with_state(inner)
}

async fn check_token(
    State(inner): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(expected) = &inner.token {
        let refusal = match request
            .headers()
            .get("access_token")
            .and_then(|v| v.to_str().ok())
        {
            None => Some("Access token is empty"),
            Some(t) if t != expected => Some("Invalid access token."),
            Some(_) => None,
        };
        if let Some(message) = refusal {
            // Read the body before answering, so that a client still sending it sees the answer, not a reset.
            let _ = axum::body::to_bytes(request.into_body(), 64 << 20).await;
            return fail(StatusCode::UNAUTHORIZED, 0, message);
        }
    }
    next.run(request).await
}

fn lock(inner: &Shared) -> std::sync::MutexGuard<'_, State_> {
    inner.state.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserQuery {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    user_name: Option<String>,
}

/// Reads a multipart form: text fields into a map, the `file` part streamed to `target`.
async fn read_form(
    mut form: Multipart,
    target: &std::path::Path,
) -> Result<(BTreeMap<String, String>, bool), Response> {
    let bad = |e: String| fail(StatusCode::BAD_REQUEST, 1, e);
    let mut fields = BTreeMap::new();
    let mut got_file = false;
    while let Some(mut field) = form.next_field().await.map_err(|e| bad(e.to_string()))? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let mut out = tokio::fs::File::create(target)
                .await
                .map_err(|e| bad(e.to_string()))?;
            while let Some(chunk) = field.chunk().await.map_err(|e| bad(e.to_string()))? {
                out.write_all(&chunk)
                    .await
                    .map_err(|e| bad(e.to_string()))?;
            }
            out.flush().await.map_err(|e| bad(e.to_string()))?;
            got_file = true;
        } else if name == "icon" {
            let bytes = field.bytes().await.map_err(|e| bad(e.to_string()))?;
            fields.insert("icon".to_owned(), bytes.len().to_string());
        } else {
            let text = field.text().await.map_err(|e| bad(e.to_string()))?;
            fields.insert(name, text);
        }
    }
    Ok((fields, got_file))
}

async fn register(
    State(inner): State<Shared>,
    Query(user): Query<UserQuery>,
    form: Multipart,
) -> Response {
    let staged = inner.dir.join(format!("upload-{}", new_id()));
    let (fields, got_file) = match read_form(form, &staged).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let file = if got_file {
        staged
    } else if let Some(address) = fields.get("fileAddress") {
        match lock(&inner).merged.remove(address) {
            Some(p) => p,
            None => {
                return fail(
                    StatusCode::BAD_REQUEST,
                    10010,
                    format!("file {address} not found"),
                );
            }
        }
    } else {
        return fail(StatusCode::BAD_REQUEST, 10005, "file is null");
    };
    for required in ["type", "affinity", "industry", "icon"] {
        if fields
            .get(required)
            .is_none_or(|v| v.is_empty() || v == "0")
        {
            let _ = std::fs::remove_file(&file);
            return fail(
                StatusCode::BAD_REQUEST,
                10001,
                format!("app param is invalid! ({required})"),
            );
        }
    }
    // The real AppStore checks the package as it registers it; so does the mock, with mec-csar.
    let report = mec_csar::validate_path(&file, &mec_csar::Limits::default());
    if !report.is_valid() {
        let _ = std::fs::remove_file(&file);
        let tampered = report
            .findings
            .iter()
            .any(|f| f.code == mec_csar::codes::DIGEST_MISMATCH);
        let first = report
            .findings
            .iter()
            .find(|f| f.severity == mec_csar::Severity::Error)
            .map(ToString::to_string)
            .unwrap_or_default();
        return if tampered {
            fail(
                StatusCode::BAD_REQUEST,
                10031,
                "the app package is illegal and may have been tampered!",
            )
        } else {
            fail(
                StatusCode::BAD_REQUEST,
                10029,
                format!("the package is invalid: {first}"),
            )
        };
    }
    let metadata = mec_csar::Package::open(&file, mec_csar::Limits::default())
        .ok()
        .and_then(|mut p| {
            let mf = p
                .entries()
                .iter()
                .find(|e| !e.name.contains('/') && e.name.ends_with(".mf"))?
                .name
                .clone();
            mec_csar::Manifest::parse(&p.read_text(&mf).ok()?).ok()
        });
    let get = |k: &str| {
        metadata
            .as_ref()
            .and_then(|m| m.metadata(k))
            .unwrap_or_default()
            .to_owned()
    };
    let (name, provider, version) = (
        get("app_product_name"),
        get("app_provider_id"),
        get("app_package_version"),
    );
    if name.is_empty() || provider.is_empty() || version.is_empty() {
        let _ = std::fs::remove_file(&file);
        return fail(
            StatusCode::BAD_REQUEST,
            10029,
            "app_product_name, app_provider_id or app_package_version is empty.",
        );
    }
    let mut state = lock(&inner);
    let app_id = state
        .apps
        .iter()
        .find(|(_, a)| a.info.name == name && a.info.provider == provider)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(new_id);
    let app = state
        .apps
        .entry(app_id.clone())
        .or_insert_with(|| StoredApp {
            info: App {
                app_id: app_id.clone(),
                name: name.clone(),
                provider: provider.clone(),
                type_: fields.get("type").cloned(),
                affinity: fields.get("affinity").cloned(),
                industry: fields.get("industry").cloned(),
                show_type: Some(
                    fields
                        .get("showType")
                        .cloned()
                        .unwrap_or_else(|| "public".to_owned()),
                ),
                status: Some(AppStatus::UnPublish),
                user_id: user.user_id.clone(),
                user_name: user.user_name.clone(),
                download_count: Some(0),
                ..App::default()
            },
            packages: BTreeMap::new(),
            comments: Vec::new(),
        });
    if app
        .packages
        .values()
        .any(|p| p.info.version == version && p.info.status == Some(PackageStatus::Published))
    {
        drop(state);
        let _ = std::fs::remove_file(&file);
        return fail(StatusCode::BAD_REQUEST, 10022, "The same app has existed.");
    }
    let package_id = new_id();
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    app.info.package_id = Some(package_id.clone());
    app.packages.insert(
        package_id.clone(),
        StoredPackage {
            info: AppPackage {
                package_id: package_id.clone(),
                app_id: app_id.clone(),
                name: name.clone(),
                version: version.clone(),
                provider: Some(provider.clone()),
                size: Some(json!(size.to_string())),
                status: Some(PackageStatus::Upload),
                user_id: user.user_id,
                ..AppPackage::default()
            },
            file,
        },
    );
    axum::Json(Registered {
        app_id,
        package_id,
        app_name: name,
        provider,
        version,
    })
    .into_response()
}

async fn upload_chunk(State(inner): State<Shared>, form: Multipart) -> Response {
    let staged = inner.dir.join(format!("chunk-{}", new_id()));
    let (fields, got_file) = match read_form(form, &staged).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (Some(id), Some(number)) = (
        fields.get("identifier"),
        fields
            .get("chunkNumber")
            .and_then(|n| n.parse::<u64>().ok()),
    ) else {
        let _ = std::fs::remove_file(&staged);
        return fail(
            StatusCode::BAD_REQUEST,
            1,
            "identifier and chunkNumber are required",
        );
    };
    if !got_file || number == 0 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        let _ = std::fs::remove_file(&staged);
        return fail(StatusCode::BAD_REQUEST, 1, "invalid chunk");
    }
    let dir = inner.dir.join(format!("chunks-{id}"));
    if std::fs::create_dir_all(&dir).is_err()
        || std::fs::rename(&staged, dir.join(format!("{number}.part"))).is_err()
    {
        return fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            19001,
            "cannot store the chunk",
        );
    }
    "upload package block success".into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MergeQuery {
    file_name: String,
    guid: String,
}

async fn merge(State(inner): State<Shared>, Query(q): Query<MergeQuery>) -> Response {
    if !q
        .guid
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return fail(StatusCode::BAD_REQUEST, 1, "invalid guid");
    }
    let dir = inner.dir.join(format!("chunks-{}", q.guid));
    let target = inner.dir.join(format!("merged-{}", new_id()));
    let result = (|| -> std::io::Result<()> {
        let mut out = std::fs::File::create(&target)?;
        let mut n = 1;
        while let Ok(mut part) = std::fs::File::open(dir.join(format!("{n}.part"))) {
            std::io::copy(&mut part, &mut out)?;
            n += 1;
        }
        if n == 1 {
            return Err(std::io::Error::other("no chunk"));
        }
        std::fs::remove_dir_all(&dir)
    })();
    if let Err(e) = result {
        return fail(StatusCode::BAD_REQUEST, 10010, format!("merge failed: {e}"));
    }
    let address = format!("{}/{}", new_id(), q.file_name);
    lock(&inner).merged.insert(address.clone(), target);
    address.into_response()
}

async fn list_apps(State(inner): State<Shared>) -> Response {
    let state = lock(&inner);
    let apps: Vec<App> = state
        .apps
        .values()
        .map(|a| a.info.clone())
        .take(100)
        .collect();
    axum::Json(apps).into_response()
}

async fn query_apps(
    State(inner): State<Shared>,
    axum::Json(q): axum::Json<serde_json::Value>,
) -> Response {
    let state = lock(&inner);
    let limit = q
        .pointer("/queryCtrl/limit")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(20)
        .clamp(1, 500);
    let offset = q
        .pointer("/queryCtrl/offset")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    let name = q
        .pointer("/queryCtrl/appName")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_lowercase();
    let all: Vec<App> = state
        .apps
        .values()
        .map(|a| a.info.clone())
        .filter(|a| a.name.to_lowercase().contains(&name))
        .collect();
    let total = all.len() as u64;
    let results = all
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(500))
        .collect();
    axum::Json(Page {
        results,
        limit,
        offset,
        total,
    })
    .into_response()
}

fn app_missing(app: &str) -> Response {
    fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        10027,
        format!("app {app} not found"),
    )
}

fn package_missing(pkg: &str) -> Response {
    fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        11001,
        format!("package {pkg} not found"),
    )
}

async fn get_app(State(inner): State<Shared>, Path(app): Path<String>) -> Response {
    match lock(&inner).apps.get(&app) {
        Some(a) => axum::Json(a.info.clone()).into_response(),
        None => app_missing(&app),
    }
}

async fn delete_app(State(inner): State<Shared>, Path(app): Path<String>) -> Response {
    match lock(&inner).apps.remove(&app) {
        Some(a) => {
            for p in a.packages.values() {
                let _ = std::fs::remove_file(&p.file);
            }
            "delete App success.".into_response()
        }
        None => app_missing(&app),
    }
}

async fn list_packages(State(inner): State<Shared>, Path(app): Path<String>) -> Response {
    match lock(&inner).apps.get(&app) {
        Some(a) => axum::Json(
            a.packages
                .values()
                .map(|p| p.info.clone())
                .collect::<Vec<_>>(),
        )
        .into_response(),
        None => app_missing(&app),
    }
}

/// Runs `f` on a stored package, or answers as the real store does for an unknown one.
fn with_package(
    inner: &Shared,
    app: &str,
    pkg: &str,
    f: impl FnOnce(&mut StoredApp, &str) -> Response,
) -> Response {
    let mut state = lock(inner);
    match state.apps.get_mut(app) {
        Some(a) if a.packages.contains_key(pkg) => f(a, pkg),
        Some(_) => package_missing(pkg),
        None => app_missing(app),
    }
}

async fn get_package(
    State(inner): State<Shared>,
    Path((app, pkg)): Path<(String, String)>,
) -> Response {
    with_package(&inner, &app, &pkg, |a, pkg| {
        let Some(p) = a.packages.get_mut(pkg) else {
            return package_missing(pkg);
        };
        // The test platform "finishes" the test by the next read, as a tester would.
        if p.info.status == Some(PackageStatus::TestRunning) {
            p.info.status = Some(PackageStatus::TestSuccess);
        }
        axum::Json(p.info.clone()).into_response()
    })
}

async fn delete_package(
    State(inner): State<Shared>,
    Path((app, pkg)): Path<(String, String)>,
) -> Response {
    with_package(&inner, &app, &pkg, |a, pkg| {
        if let Some(p) = a.packages.remove(pkg) {
            let _ = std::fs::remove_file(p.file);
        }
        "delete package success.".into_response()
    })
}

async fn test_package(
    State(inner): State<Shared>,
    Path((app, pkg)): Path<(String, String)>,
) -> Response {
    with_package(&inner, &app, &pkg, |a, pkg| {
        let Some(p) = a.packages.get_mut(pkg) else {
            return package_missing(pkg);
        };
        let allowed = matches!(
            p.info.status,
            Some(
                PackageStatus::Upload
                    | PackageStatus::TestFailed
                    | PackageStatus::TestCreateFailed
                    | PackageStatus::TestSuccess
            )
        );
        if !allowed {
            let status = p
                .info
                .status
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            return fail(
                StatusCode::BAD_REQUEST,
                11005,
                format!("not allowed to test a package in status {status}"),
            );
        }
        let task = new_id();
        p.info.status = Some(PackageStatus::TestRunning);
        p.info.test_task_id = Some(task.clone());
        axum::Json(json!({"atpTaskId": task, "status": "running"})).into_response()
    })
}

async fn publish(
    State(inner): State<Shared>,
    Path((app, pkg)): Path<(String, String)>,
) -> Response {
    with_package(&inner, &app, &pkg, |a, pkg| {
        let Some(p) = a.packages.get_mut(pkg) else {
            return package_missing(pkg);
        };
        if !matches!(
            p.info.status,
            Some(PackageStatus::TestSuccess | PackageStatus::Unpublished)
        ) {
            return fail(
                StatusCode::BAD_REQUEST,
                11002,
                "Test status is not success, publish failed",
            );
        }
        p.info.status = Some(PackageStatus::Published);
        a.info.status = Some(AppStatus::Published);
        "Publish Success".into_response()
    })
}

async fn unpublish(
    State(inner): State<Shared>,
    Path((app, pkg)): Path<(String, String)>,
) -> Response {
    with_package(&inner, &app, &pkg, |a, pkg| {
        let Some(p) = a.packages.get_mut(pkg) else {
            return package_missing(pkg);
        };
        if p.info.status != Some(PackageStatus::Published) {
            return fail(
                StatusCode::BAD_REQUEST,
                11011,
                "only a published package can be unpublished",
            );
        }
        p.info.status = Some(PackageStatus::Unpublished);
        "Unpublish Success".into_response()
    })
}

async fn download(
    State(inner): State<Shared>,
    Path((app, pkg)): Path<(String, String)>,
) -> Response {
    let found = {
        let mut state = lock(&inner);
        state.apps.get_mut(&app).and_then(|a| {
            let file = a.packages.get(&pkg)?.file.clone();
            a.info.download_count = Some(a.info.download_count.unwrap_or(0) + 1);
            Some((file, a.info.name.clone()))
        })
    };
    let Some((file, name)) = found else {
        return package_missing(&pkg);
    };
    let Ok(f) = tokio::fs::File::open(&file).await else {
        return package_missing(&pkg);
    };
    let len = f.metadata().await.map(|m| m.len()).unwrap_or(0);
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(f));
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) =
        header::HeaderValue::from_str(&format!("attachment; filename={name}_download.zip"))
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = header::HeaderValue::from_str(&len.to_string()) {
        headers.insert(header::CONTENT_LENGTH, v);
    }
    (headers, body).into_response()
}

async fn comments(State(inner): State<Shared>, Path(app): Path<String>) -> Response {
    match lock(&inner).apps.get(&app) {
        Some(a) => axum::Json(a.comments.clone()).into_response(),
        None => app_missing(&app),
    }
}

async fn add_comment(
    State(inner): State<Shared>,
    Path(app): Path<String>,
    Query(user): Query<UserQuery>,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    let text = body
        .get("body")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let score = body
        .get("score")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(-1.0);
    if text.is_empty() || text.chars().count() > 1024 || !(0.0..=5.0).contains(&score) {
        return fail(
            StatusCode::BAD_REQUEST,
            1,
            "a comment is 1 to 1024 characters, a score 0 to 5",
        );
    }
    match lock(&inner).apps.get_mut(&app) {
        Some(a) => {
            let n = a.comments.len();
            a.comments
                .push(json!({"commentId": n + 1, "body": text, "score": score,
                "user": {"userId": user.user_id, "userName": user.user_name}, "appId": app}));
            "comments success.".into_response()
        }
        None => app_missing(&app),
    }
}

async fn external_stores(State(inner): State<Shared>) -> Response {
    let state = lock(&inner);
    let list: Vec<serde_json::Value> = state
        .stores
        .iter()
        .map(|(id, (name, url))| json!({"appStoreId": id, "appStoreName": name, "url": url}))
        .collect();
    axum::Json(list).into_response()
}

async fn pushable(State(inner): State<Shared>) -> Response {
    let state = lock(&inner);
    let list: Vec<serde_json::Value> = state
        .apps
        .values()
        .flat_map(|a| a.packages.values())
        .filter(|p| p.info.status == Some(PackageStatus::Published))
        .map(|p| {
            let targets: Vec<&String> = state.pushed.iter().filter(|(id, _)| id == &p.info.package_id).map(|(_, s)| s).collect();
            json!({"packageId": p.info.package_id, "appId": p.info.app_id, "name": p.info.name, "provider": p.info.provider,
                   "version": p.info.version, "atpTestStatus": "success", "targetPlatform": targets})
        })
        .collect();
    axum::Json(list).into_response()
}

async fn pullable(State(inner): State<Shared>, Path(store): Path<String>) -> Response {
    let state = lock(&inner);
    if !state.stores.contains_key(&store) {
        return fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            13001,
            format!("app store {store} not found"),
        );
    }
    axum::Json(state.offers.get(&store).cloned().unwrap_or_default()).into_response()
}

async fn push(
    State(inner): State<Shared>,
    Path(pkg): Path<String>,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    let mut state = lock(&inner);
    let published = state.apps.values().any(|a| {
        a.packages
            .get(&pkg)
            .is_some_and(|p| p.info.status == Some(PackageStatus::Published))
    });
    if !published {
        return package_missing(&pkg);
    }
    let targets: Vec<String> = body
        .get("targetPlatform")
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let results: Vec<bool> = targets
        .iter()
        .map(|t| {
            let known = state.stores.contains_key(t);
            if known {
                state.pushed.push((pkg.clone(), t.clone()));
            }
            known
        })
        .collect();
    axum::Json(results).into_response()
}

async fn pull(
    State(inner): State<Shared>,
    Path(pkg): Path<String>,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    let mut state = lock(&inner);
    let store = body
        .get("sourceStoreId")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let offered = state.offers.get(&store).is_some_and(|o| {
        o.iter()
            .any(|p| p.get("packageId").and_then(serde_json::Value::as_str) == Some(pkg.as_str()))
    });
    let fresh = !state.pulled.iter().any(|(p, s)| p == &pkg && s == &store);
    if offered && fresh {
        state.pulled.push((pkg, store));
    }
    axum::Json(offered && fresh).into_response()
}
