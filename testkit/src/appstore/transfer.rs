//! Uploads (one request, or chunks merged), edits, downloads: appstore-be `AppServiceFacade.appRegistering`,
//! `appRegister`, `uploadImage`, `merge`, `PackageServiceFacade.downloadPackage`, `PackageService.updateAppById`
//! and the file checkers (`domain/model/releases/{AbstractFileChecker,PackageChecker,IconChecker,VideoChecker}`).

use super::auth::Caller;
use super::catalog::{
    Release, StoredApp, add_release, app_missing, package_missing, required_user, with_release,
};
use super::{MAX_REQUEST, Shared, business, fail, invalid, lock, new_id};
use axum::Extension;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mec_appstore_client::{Affinity, AppType, Industry, PackageStatus, ShowType};
use mec_core::Clock;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path as FsPath, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A file part received.
#[derive(Debug)]
struct Received {
    name: String,
    path: PathBuf,
    size: u64,
}

/// A multipart form read: text fields, file parts on disk.
#[derive(Debug, Default)]
struct Form {
    fields: BTreeMap<String, String>,
    files: BTreeMap<String, Received>,
}

impl Form {
    fn remove_files(&self) {
        for f in self.files.values() {
            let _ = std::fs::remove_file(&f.path);
        }
    }
}

/// Reads a multipart form, streaming file parts (`file_parts`) to disk; at most [`MAX_REQUEST`] bytes in all
/// (Spring's `MaxUploadSizeExceededException`, which appstore-be answers 500).
async fn read_form(
    dir: &FsPath,
    mut form: Multipart,
    file_parts: &[&str],
) -> Result<Form, Response> {
    let mut out = Form::default();
    let mut total: usize = 0;
    let too_big = || {
        business(
            1,
            format!(
                "Maximum upload size exceeded; the request was rejected because its size exceeds {MAX_REQUEST}"
            ),
        )
    };
    let result: Result<(), Response> = async {
        loop {
            let field = match form.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(()),
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_big()),
                Err(e) => return Err(invalid(e.body_text())),
            };
            let name = field.name().unwrap_or_default().to_owned();
            if file_parts.contains(&name.as_str()) {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let path = dir.join(format!("part-{}", new_id()));
                let mut file = tokio::fs::File::create(&path)
                    .await
                    .map_err(|e| business(19001, e.to_string()))?;
                out.files.insert(
                    name,
                    Received {
                        name: file_name,
                        path: path.clone(),
                        size: 0,
                    },
                );
                let mut field = field;
                let mut size = 0u64;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            total += chunk.len();
                            if total > MAX_REQUEST {
                                return Err(too_big());
                            }
                            size += chunk.len() as u64;
                            file.write_all(&chunk)
                                .await
                                .map_err(|e| business(19001, e.to_string()))?;
                        }
                        Ok(None) => break,
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                            return Err(too_big());
                        }
                        Err(e) => return Err(invalid(e.body_text())),
                    }
                }
                file.flush()
                    .await
                    .map_err(|e| business(19001, e.to_string()))?;
                if let Some(r) = out.files.values_mut().find(|r| r.path == path) {
                    r.size = size;
                }
            } else {
                let text = field.text().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        too_big()
                    } else {
                        invalid(e.body_text())
                    }
                })?;
                total += text.len();
                if total > MAX_REQUEST {
                    return Err(too_big());
                }
                out.fields.insert(name, text);
            }
        }
    }
    .await;
    match result {
        Ok(()) => Ok(out),
        Err(r) => {
            out.remove_files();
            Err(r)
        }
    }
}

/// `AbstractFileChecker.check`: no blank in the name, a valid name with an allowed extension, a bounded size
/// (400 with 10002, 10003, 10004).
fn check_file(f: &Received, extensions: &[&str], max: u64) -> Result<(), Response> {
    let bad =
        |code: u32, why: &str| fail(StatusCode::BAD_REQUEST, code, format!("{} :{why}", f.name));
    if f.name.chars().any(char::is_whitespace) {
        return Err(bad(10002, "fileName contain blank"));
    }
    let valid = !f.name.is_empty()
        && f.name.len() <= 255
        && !f
            .name
            .chars()
            .any(|c| matches!(c, '\\' | '/' | ':' | '*' | '?' | '"' | '<' | '>' | '|'))
        && !f.name.ends_with('.');
    let ext = FsPath::new(&f.name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if !valid || !extensions.contains(&ext.as_str()) {
        return Err(bad(10003, "fileName is Illegal"));
    }
    if f.size > max {
        return Err(bad(10004, "fileSize is too big"));
    }
    Ok(())
}

/// The listing values appstore-be accepts (`AppParam.checkValidParam`; an absent `showType` is `public`).
fn listing(fields: &BTreeMap<String, String>) -> Result<[String; 4], Response> {
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let show = fields
        .get("showType")
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| "public".to_owned());
    let (t, a, i) = (get("type"), get("affinity"), get("industry"));
    let known = AppType::from(t.as_str()).is_known()
        && Affinity::from(a.as_str()).is_known()
        && Industry::from(i.as_str()).is_known()
        && ShowType::from(show.as_str()).is_known();
    if !known {
        return Err(business(10001, "app param is invalid!"));
    }
    Ok([t, a, i, show])
}

/// What appstore-be's package checks and manifest reading refuse, with its codes; `mec-csar` does the reading.
fn check_package(file: &FsPath) -> Result<[String; 5], Response> {
    use mec_csar::codes;
    let report = mec_csar::validate_path(file, &mec_csar::Limits::default());
    let has = |wanted: &[&str]| {
        report
            .findings
            .iter()
            .any(|f| f.severity == mec_csar::Severity::Error && wanted.contains(&f.code))
    };
    if has(&[codes::NOT_A_ZIP, codes::UNREADABLE_ENTRY]) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            10013,
            "unzip csar with exception.",
        ));
    }
    if has(&[codes::TOO_MANY_ENTRIES]) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            10015,
            "Too many files to unzip.",
        ));
    }
    if has(&[codes::TOO_LARGE, codes::ZIP_BOMB]) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            10004,
            "File being unzipped is too big",
        ));
    }
    if has(&[codes::PATH_ESCAPE, codes::ABSOLUTE_PATH]) {
        return Err(business(
            19005,
            "File is outside extraction target directory.",
        ));
    }
    let manifest = mec_csar::Package::open(file, mec_csar::Limits::default())
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
        manifest
            .as_ref()
            .and_then(|m| m.metadata(k))
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let (name, provider, version) = (
        get("app_product_name"),
        get("app_provider_id"),
        get("app_package_version"),
    );
    if name.is_empty() || provider.is_empty() || version.is_empty() {
        return Err(business(
            10029,
            "app_product_name, app_provider_id or app_package_version is empty.",
        ));
    }
    if has(&[codes::SOURCE_MISSING]) {
        return Err(business(10029, "get hash value of source file failed"));
    }
    if has(&[codes::DIGEST_MISMATCH]) {
        return Err(business(
            10031,
            "the app package is illegal and may have been tampered!",
        ));
    }
    let class = if get("app_class").eq_ignore_ascii_case("vm") {
        "vm"
    } else {
        "container"
    };
    Ok([
        name,
        provider,
        version,
        get("app_package_description"),
        class.to_owned(),
    ])
}

/// Registers a package received (`appRegistering` / `appRegister` after their own first steps).
async fn register_package(
    inner: &Shared,
    user: (String, String),
    form: Form,
    package: Received,
) -> Response {
    let refuse = |r: Response| {
        form.remove_files();
        let _ = std::fs::remove_file(&package.path);
        r
    };
    let [app_type, affinity, industry, show_type] = match listing(&form.fields) {
        Ok(l) => l,
        Err(r) => return refuse(r),
    };
    if let Err(r) = check_file(&package, &["csar", "zip"], 5 << 30) {
        return refuse(r);
    }
    let checked = {
        let path = package.path.clone();
        tokio::task::spawn_blocking(move || check_package(&path)).await
    };
    let [name, provider, version, description, class] = match checked {
        Ok(Ok(m)) => m,
        Ok(Err(r)) => return refuse(r),
        Err(e) => return refuse(business(19001, e.to_string())),
    };
    let Some(icon) = form.files.get("icon") else {
        return refuse(invalid("Required request part 'icon' is not present"));
    };
    if let Err(r) = check_file(icon, &["jpg", "png", "bmp"], 10 << 20) {
        return refuse(r);
    }
    if let Some(v) = form.files.get("demoVideo")
        && let Err(r) = check_file(v, &["mp4"], 50 << 20)
    {
        return refuse(r);
    }
    let icon_bytes = match std::fs::read(&icon.path) {
        Ok(b) => b,
        Err(e) => return refuse(business(19001, e.to_string())),
    };
    let test_task_id = form
        .fields
        .get("testTaskId")
        .filter(|t| !t.is_empty())
        .cloned();
    let release = Release {
        package_id: new_id(),
        app_id: String::new(),
        name,
        version,
        provider,
        short_desc: description,
        app_type,
        affinity,
        industry,
        show_type,
        deploy_mode: class,
        user_id: user.0,
        user_name: user.1,
        // A test the test platform already ran gives its result (appstore-be `loadTestTask`).
        status: if test_task_id.is_some() {
            PackageStatus::TestSuccess
        } else {
            PackageStatus::Upload
        },
        test_task_id,
        experience_able: form
            .fields
            .get("experienceAble")
            .is_some_and(|e| e.eq_ignore_ascii_case("true")),
        details: None,
        size: package.size,
        created_ms: 0,
        seq: 0,
        file: Some(package.path.clone()),
        icon: (icon.name.clone(), icon_bytes),
        video: form
            .files
            .get("demoVideo")
            .map(|v| (v.name.clone(), v.path.clone())),
    };
    let _ = std::fs::remove_file(&icon.path);
    let added = add_release(&mut lock(inner), release, inner.clock.now());
    match added {
        Ok(r) => axum::Json(serde_json::json!({"appName": r.name, "appId": r.app_id,
            "packageId": r.package_id, "provider": r.provider, "version": r.version}))
        .into_response(),
        Err(r) => {
            if let Some(v) = form.files.get("demoVideo") {
                let _ = std::fs::remove_file(&v.path);
            }
            let _ = std::fs::remove_file(&package.path);
            r
        }
    }
}

fn missing_parts(form: &Form, parts: &[&str]) -> Option<Response> {
    parts
        .iter()
        .find(|p| !form.fields.contains_key(**p) && !form.files.contains_key(**p))
        .map(|p| invalid(format!("Required request part '{p}' is not present")))
}

/// `POST /v1/apps?userId&userName`: the package in part `file`, with `icon`, `demoVideo`, `type`, `showType`,
/// `affinity`, `industry`, `testTaskId`, `experienceAble`.
pub(super) async fn register(
    State(inner): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    multipart: Multipart,
) -> Response {
    let user = match required_user(&q) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut form = match read_form(&inner.dir, multipart, &["file", "icon", "demoVideo"]).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Some(r) = missing_parts(&form, &["file", "icon", "type", "affinity", "industry"]) {
        form.remove_files();
        return r;
    }
    let Some(package) = form.files.remove("file") else {
        return invalid("Required request part 'file' is not present");
    };
    register_package(&inner, user, form, package).await
}

/// `POST /v1/apps/vm-register?userId&userName`: as `/v1/apps`, the package being the merged upload named by
/// `fileAddress`; `showType` is required here.
pub(super) async fn vm_register(
    State(inner): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    multipart: Multipart,
) -> Response {
    let user = match required_user(&q) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let form = match read_form(&inner.dir, multipart, &["icon", "demoVideo"]).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let missing = [
        "fileAddress",
        "icon",
        "type",
        "showType",
        "affinity",
        "industry",
    ];
    if let Some(r) = missing_parts(&form, &missing) {
        form.remove_files();
        return r;
    }
    let address = form.fields.get("fileAddress").cloned().unwrap_or_default();
    let Some(path) = lock(&inner).merged.remove(&address) else {
        form.remove_files();
        return fail(
            StatusCode::BAD_REQUEST,
            10001,
            "Package File name is Illegal.",
        );
    };
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let name = address.rsplit('/').next().unwrap_or_default().to_owned();
    register_package(&inner, user, form, Received { name, path, size }).await
}

/// `POST /v1/apps/upload`: one chunk, kept as `<identifier>/<chunkNumber>.part` (a missing `chunkNumber` is
/// 0, as appstore-be reads it).
pub(super) async fn upload_chunk(State(inner): State<Shared>, multipart: Multipart) -> Response {
    let mut form = match read_form(&inner.dir, multipart, &["file"]).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(chunk) = form.files.remove("file") else {
        return fail(
            StatusCode::BAD_REQUEST,
            10001,
            "Can not find any needed file",
        );
    };
    let id = form.fields.get("identifier").cloned().unwrap_or_default();
    let number: u64 = form
        .fields
        .get("chunkNumber")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    // appstore-be joins the identifier into a path unchecked; the mock refuses what would leave its folder.
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        let _ = std::fs::remove_file(&chunk.path);
        return fail(StatusCode::BAD_REQUEST, 10001, "invalid identifier");
    }
    let dir = inner.dir.join(format!("chunks-{id}"));
    if std::fs::create_dir_all(&dir).is_err()
        || std::fs::rename(&chunk.path, dir.join(format!("{number}.part"))).is_err()
    {
        let _ = std::fs::remove_file(&chunk.path);
        return business(19004, "can not copy part to file");
    }
    "Upload package block successfully.".into_response()
}

/// `GET /v1/apps/merge?fileName&guid`: joins `1.part` to `N.part`, N being the parts held, into
/// `<32 hex>/<fileName>`; no chunk under `guid` answers 200 and an empty address.
pub(super) async fn merge(
    State(inner): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (Some(file_name), Some(guid)) = (q.get("fileName"), q.get("guid")) else {
        return invalid("Required request parameter 'fileName' or 'guid' is not present");
    };
    if !guid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        || file_name.contains(['/', '\\'])
    {
        return "".into_response();
    }
    let dir = inner.dir.join(format!("chunks-{guid}"));
    let parts = std::fs::read_dir(&dir).map(Iterator::count).unwrap_or(0);
    if parts == 0 {
        return "".into_response();
    }
    let target = inner.dir.join(format!("merged-{}", new_id()));
    let joined = (|| -> std::io::Result<()> {
        let mut out = std::fs::File::create(&target)?;
        for n in 1..=parts {
            std::io::copy(
                &mut std::fs::File::open(dir.join(format!("{n}.part")))?,
                &mut out,
            )?;
        }
        std::fs::remove_dir_all(&dir)
    })();
    if joined.is_err() {
        let _ = std::fs::remove_file(&target);
        return business(19004, "can not merge parts to file");
    }
    let address = format!("{}/{file_name}", new_id());
    lock(&inner).merged.insert(address.clone(), target);
    address.into_response()
}

fn attachment(name: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = header::HeaderValue::from_str(&format!("attachment; filename={name}")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers
}

/// `GET .../action/download[?isDownloadImage]`: the package, streamed without `Content-Length` (appstore-be
/// answers an `InputStreamResource`, sent chunked), as `<appName>_download.zip`; counts a download. The mock
/// has no VM images to put in: `isDownloadImage=true` serves the same bytes.
pub(super) async fn download(
    State(inner): State<Shared>,
    Path((app, pkg)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if q.get("isDownloadImage")
        .is_some_and(|v| v.parse::<bool>().is_err())
    {
        return invalid(
            "Failed to convert value of type 'java.lang.String' to required type 'boolean'",
        );
    }
    let found: Result<(Option<PathBuf>, String, Option<u64>), Response> = {
        let mut state = lock(&inner);
        let cut = state.cut_downloads_after;
        match state.apps.get_mut(&app) {
            None => Err(app_missing(&app)),
            Some(a) => match a.releases.get(&pkg) {
                None => Err(package_missing(&pkg)),
                Some(r) => {
                    let file = r.file.clone();
                    a.download_count += 1;
                    Ok((file, a.name.clone(), cut))
                }
            },
        }
    };
    let (file, name, cut) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(Ok(f)) = (match file {
        Some(p) => Some(tokio::fs::File::open(p).await),
        None => None,
    }) else {
        return fail(StatusCode::NOT_FOUND, 1, "the package file is not found");
    };
    let len = f.metadata().await.map(|m| m.len()).unwrap_or(0);
    let reader: Box<dyn tokio::io::AsyncRead + Send + Unpin> = match cut {
        // The body breaks off: the bytes up to the limit, then an error, so the last chunk never comes.
        Some(limit) if limit < len => Box::new(f.take(limit).chain(Broken)),
        _ => Box::new(f),
    };
    (
        attachment(&format!("{name}_download.zip")),
        Body::from_stream(tokio_util::io::ReaderStream::new(reader)),
    )
        .into_response()
}

/// A reader that fails: what follows the bytes of a cut download.
struct Broken;

impl tokio::io::AsyncRead for Broken {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Err(std::io::Error::other("the mock cut the download")))
    }
}

fn icon_of(r: &Release) -> Response {
    let (name, bytes) = r.icon.clone();
    let stream = tokio_util::io::ReaderStream::new(std::io::Cursor::new(bytes));
    (attachment(&name), Body::from_stream(stream)).into_response()
}

/// `GET /v1/apps/{appId}/icon`: the icon of the app's latest package.
pub(super) async fn app_icon(State(inner): State<Shared>, Path(app): Path<String>) -> Response {
    let state = lock(&inner);
    match state.apps.get(&app).and_then(StoredApp::latest) {
        Some(r) => icon_of(r),
        None => app_missing(&app),
    }
}

/// `GET /v1/apps/{appId}/packages/{packageId}/icon`.
pub(super) async fn package_icon(
    State(inner): State<Shared>,
    Path((app, pkg)): Path<(String, String)>,
) -> Response {
    with_release(&inner, &app, &pkg, |state, app| {
        match state.apps.get(app).and_then(|a| a.releases.get(&pkg)) {
            Some(r) => icon_of(r),
            None => package_missing(&pkg),
        }
    })
}

/// `GET /v1/apps/{appId}/demoVideo`: the latest package's video (`video/mp4`), or an empty body.
pub(super) async fn demo_video(State(inner): State<Shared>, Path(app): Path<String>) -> Response {
    let video = {
        let state = lock(&inner);
        match state.apps.get(&app) {
            None => return app_missing(&app),
            Some(a) => a.latest().and_then(|r| r.video.clone()),
        }
    };
    let bytes = match video {
        Some((_, path)) => tokio::fs::read(path).await.unwrap_or_default(),
        None => Vec::new(),
    };
    ([(header::CONTENT_TYPE, "video/mp4")], bytes).into_response()
}

/// `PUT /v1/apps/{appId}/package/{packageId}` (multipart, every part optional): the package's owner or an admin
/// (403, 18005); `experienceAble` absent means `false` (`Boolean.parseBoolean(null)`).
pub(super) async fn edit_package(
    State(inner): State<Shared>,
    Path((app, pkg)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    multipart: Multipart,
) -> Response {
    let form = match read_form(&inner.dir, multipart, &["icon", "video", "doc"]).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let checks = [
        ("icon", &["jpg", "png", "bmp"][..], 10u64 << 20),
        ("video", &["mp4"][..], 50 << 20),
    ];
    for (part, ext, max) in checks {
        if let Some(f) = form.files.get(part)
            && let Err(r) = check_file(f, ext, max)
        {
            form.remove_files();
            return r;
        }
    }
    let icon = form
        .files
        .get("icon")
        .and_then(|f| Some((f.name.clone(), std::fs::read(&f.path).ok()?)));
    let doc = form
        .files
        .get("doc")
        .and_then(|f| std::fs::read_to_string(&f.path).ok());
    let video = form.files.get("video").map(|v| {
        let kept = inner.dir.join(format!("video-{}", new_id()));
        let _ = std::fs::rename(&v.path, &kept);
        (v.name.clone(), kept)
    });
    for (part, f) in &form.files {
        if part != "video" {
            let _ = std::fs::remove_file(&f.path);
        }
    }
    let fields = form.fields;
    with_release(&inner, &app, &pkg, |state, app| {
        let Some(a) = state.apps.get_mut(app) else {
            return app_missing(app);
        };
        let Some(r) = a.releases.get_mut(&pkg) else {
            return package_missing(&pkg);
        };
        if r.user_id != caller.user_id && !caller.is_admin() {
            return fail(
                StatusCode::FORBIDDEN,
                18005,
                "operator do not have permission",
            );
        }
        let set = |k: &str, release: &mut String, app: &mut String| {
            if let Some(v) = fields.get(k) {
                release.clone_from(v);
                app.clone_from(v);
            }
        };
        set("industry", &mut r.industry, &mut a.industry);
        set("type", &mut r.app_type, &mut a.app_type);
        set("affinity", &mut r.affinity, &mut a.affinity);
        set("shortDesc", &mut r.short_desc, &mut a.short_desc);
        set("showType", &mut r.show_type, &mut a.show_type);
        if let Some(i) = icon {
            r.icon = i;
        }
        if let Some(v) = video
            && let Some((_, old)) = r.video.replace(v)
        {
            let _ = std::fs::remove_file(old);
        }
        if let Some(d) = doc {
            r.details = Some(d);
        }
        r.experience_able = fields
            .get("experienceAble")
            .is_some_and(|e| e.eq_ignore_ascii_case("true"));
        axum::Json(r.dto()).into_response()
    })
}
