//! Apps, their packages and comments: appstore-be's `AppController`, `AppV2Controller`, `PackageController`,
//! `PackageV2Controller` and `CommentController`, with what their services and SQL do
//! (`application/inner/{AppService,PackageService,AppCommentService}.java`,
//! `resources/mybatis/sql/{APPMapper,PackageMapper}.xml`).

use super::auth::Caller;
use super::{Shared, State, business, fail, invalid, lock};
use axum::Extension;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mec_appstore_client::{AppStatus, PackageStatus};
use mec_core::Clock;
use serde_json::{Value, json};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// A package as appstore-be keeps it (`Release`).
#[derive(Debug, Clone)]
pub(super) struct Release {
    pub(super) package_id: String,
    pub(super) app_id: String,
    pub(super) name: String,
    pub(super) version: String,
    pub(super) provider: String,
    pub(super) short_desc: String,
    pub(super) app_type: String,
    pub(super) affinity: String,
    pub(super) industry: String,
    pub(super) show_type: String,
    pub(super) deploy_mode: String,
    pub(super) user_id: String,
    pub(super) user_name: String,
    pub(super) status: PackageStatus,
    pub(super) test_task_id: Option<String>,
    pub(super) experience_able: bool,
    pub(super) details: Option<String>,
    pub(super) size: u64,
    /// Creation time, epoch milliseconds (a `java.util.Date`, which Jackson writes as a number).
    pub(super) created_ms: u64,
    pub(super) seq: u64,
    /// The package file; `None` for a pulled listing.
    pub(super) file: Option<PathBuf>,
    pub(super) icon: (String, Vec<u8>),
    pub(super) video: Option<(String, PathBuf)>,
}

impl Release {
    /// `PackageDto`.
    pub(super) fn dto(&self) -> Value {
        json!({
            "packageId": self.package_id, "size": self.size.to_string(), "format": "{}",
            "createTime": self.created_ms, "name": self.name, "version": self.version, "type": self.app_type,
            "details": self.details, "affinity": self.affinity, "industry": self.industry, "contact": null,
            "appId": self.app_id, "userId": self.user_id, "userName": self.user_name, "status": self.status,
            "shortDesc": self.short_desc, "showType": self.show_type, "testTaskId": self.test_task_id,
            "provider": self.provider, "demoVideoName": self.video.as_ref().map(|v| v.0.clone()),
            "deployMode": self.deploy_mode, "experienceAble": self.experience_able,
        })
    }

    /// The test platform finishes a running test by the next read that refreshes it (appstore-be refreshes
    /// from ATP while the status needs it, `EnumPackageStatus.needRefresh`).
    fn refresh(&mut self) {
        if self.status.is_testing() {
            self.status = PackageStatus::TestSuccess;
        }
    }

    fn is_listed(&self) -> bool {
        self.status == PackageStatus::Published
            && (self.show_type == "public" || self.show_type == "inner-public")
    }

    fn remove_files(&self) {
        for f in self.file.iter().chain(self.video.iter().map(|v| &v.1)) {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// An app as appstore-be keeps it (`App`).
#[derive(Debug)]
pub(super) struct StoredApp {
    pub(super) app_id: String,
    pub(super) name: String,
    pub(super) provider: String,
    pub(super) app_type: String,
    pub(super) short_desc: String,
    pub(super) show_type: String,
    pub(super) affinity: String,
    pub(super) industry: String,
    pub(super) deploy_mode: String,
    pub(super) details: Option<String>,
    /// The first uploader.
    pub(super) user_id: String,
    pub(super) user_name: String,
    pub(super) status: AppStatus,
    pub(super) download_count: u64,
    pub(super) score: f64,
    pub(super) hot_app: bool,
    pub(super) free: bool,
    pub(super) price: f64,
    /// `yyyy-MM-dd HH:mm:ss`, as PostgreSQL writes a timestamp.
    pub(super) created: String,
    pub(super) seq: u64,
    pub(super) modified_seq: u64,
    pub(super) releases: BTreeMap<String, Release>,
    pub(super) comments: Vec<Value>,
}

impl StoredApp {
    /// A new app, from its first package (appstore-be `App(appId, release)`).
    pub(super) fn new(release: &Release, created: String) -> Self {
        Self {
            app_id: release.app_id.clone(),
            name: release.name.clone(),
            provider: release.provider.clone(),
            app_type: release.app_type.clone(),
            short_desc: release.short_desc.clone(),
            show_type: release.show_type.clone(),
            affinity: release.affinity.clone(),
            industry: release.industry.clone(),
            deploy_mode: release.deploy_mode.clone(),
            details: release.details.clone(),
            user_id: release.user_id.clone(),
            user_name: release.user_name.clone(),
            status: AppStatus::UnPublish,
            download_count: 0,
            score: 5.0,
            hot_app: false,
            free: true,
            price: 0.0,
            created,
            seq: release.seq,
            modified_seq: release.seq,
            releases: BTreeMap::new(),
            comments: Vec::new(),
        }
    }

    /// Another package of the app (appstore-be `App.upload`: the listing follows the newest package).
    pub(super) fn upload(&mut self, release: Release) {
        self.short_desc.clone_from(&release.short_desc);
        self.show_type.clone_from(&release.show_type);
        self.affinity.clone_from(&release.affinity);
        self.app_type.clone_from(&release.app_type);
        self.deploy_mode.clone_from(&release.deploy_mode);
        self.details.clone_from(&release.details);
        self.modified_seq = release.seq;
        self.releases.insert(release.package_id.clone(), release);
    }

    /// Refuses a package of a version already published (10022), or a sixth unpublished one of a version by the
    /// same user (10023) (appstore-be `App.checkReleases`).
    pub(super) fn check_release(&self, version: &str, user_id: &str) -> Result<(), Response> {
        if self
            .releases
            .values()
            .any(|r| r.status == PackageStatus::Published && r.version == version)
        {
            return Err(business(10022, "The same app has existed."));
        }
        let same = self
            .releases
            .values()
            .filter(|r| {
                r.status != PackageStatus::Published && r.version == version && r.user_id == user_id
            })
            .count();
        if same >= 5 {
            return Err(business(
                10023,
                "The same unPublished apps have reach the limit.",
            ));
        }
        Ok(())
    }

    fn last_published(&self) -> Option<&Release> {
        self.releases
            .values()
            .filter(|r| r.status == PackageStatus::Published)
            .max_by_key(|r| r.seq)
    }

    pub(super) fn latest(&self) -> Option<&Release> {
        self.releases.values().max_by_key(|r| r.seq)
    }

    fn settle_status(&mut self) {
        if self.last_published().is_none() {
            self.status = AppStatus::UnPublish;
        }
    }

    /// `AppDto`.
    pub(super) fn dto(&self) -> Value {
        let last = self.last_published();
        json!({
            "appId": self.app_id, "packageId": last.map(|r| r.package_id.clone()), "name": self.name,
            "provider": self.provider, "type": self.app_type, "shortDesc": self.short_desc,
            "showType": self.show_type, "createTime": self.created, "details": self.details,
            "downloadCount": self.download_count, "affinity": self.affinity, "industry": self.industry,
            "contact": null, "score": self.score, "userId": self.user_id, "userName": self.user_name,
            "status": self.status, "deployMode": self.deploy_mode, "hotApp": self.hot_app, "free": self.free,
            "price": self.price, "experienceAble": last.is_some_and(|r| r.experience_able),
        })
    }

    pub(super) fn is_user_in(&self, user_id: &str) -> bool {
        self.releases.values().any(|r| r.user_id == user_id)
    }
}

/// Registers a package (appstore-be `AppService.registerApp`): the app of the same name and provider takes it
/// (after `App.checkReleases`), or a new app does. Sets the package's app id, creation time and order; returns
/// the package as stored.
pub(super) fn add_release(
    state: &mut State,
    mut release: Release,
    now: std::time::SystemTime,
) -> Result<Release, Response> {
    let existing = state
        .apps
        .values()
        .find(|a| a.name == release.name && a.provider == release.provider);
    if let Some(a) = existing {
        a.check_release(&release.version, &release.user_id)?;
    }
    let app_id = existing.map_or_else(super::new_id, |a| a.app_id.clone());
    release.app_id.clone_from(&app_id);
    release.seq = state.next_seq();
    release.created_ms = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let stored = release.clone();
    match state.apps.get_mut(&app_id) {
        Some(a) => a.upload(release),
        None => {
            let created = super::timestamp_of(now).replace('T', " ");
            let mut app =
                StoredApp::new(&release, created.get(..19).unwrap_or_default().to_owned());
            app.releases.insert(release.package_id.clone(), release);
            state.apps.insert(app_id, app);
        }
    }
    Ok(stored)
}

/// appstore-be's user id pattern (`Consts.REG_USER_ID`).
pub(super) fn is_user_id(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

/// The `@Pattern(regexp = Consts.REG_USER_ID)` of a `userId` parameter: a `ConstraintViolationException`, 400.
pub(super) fn check_user_id(user_id: Option<&String>) -> Result<(), Response> {
    match user_id {
        Some(u) if !is_user_id(u) => Err(invalid(format!(
            "userId: must match \"[0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}\" (was {u:?})"
        ))),
        _ => Ok(()),
    }
}

/// The required `userId` and `userName` of a change (`@RequestParam`): missing is a 400.
pub(super) fn required_user(q: &HashMap<String, String>) -> Result<(String, String), Response> {
    let (Some(id), Some(name)) = (q.get("userId"), q.get("userName")) else {
        return Err(invalid(
            "Required request parameter 'userId' or 'userName' is not present",
        ));
    };
    check_user_id(Some(id))?;
    Ok((id.clone(), name.clone()))
}

pub(super) fn app_missing(app: &str) -> Response {
    business(10027, format!("App not found, appId is {app}."))
}

pub(super) fn package_missing(pkg: &str) -> Response {
    business(11001, format!("Package not found, packageId is {pkg}."))
}

/// Runs `f` on a stored package, or answers as appstore-be does for an unknown one (`AppService.getRelease`).
pub(super) fn with_release(
    inner: &Shared,
    app: &str,
    pkg: &str,
    f: impl FnOnce(&mut State, &str) -> Response,
) -> Response {
    let mut state = lock(inner);
    match state.apps.get(app) {
        Some(a) if a.releases.contains_key(pkg) => f(&mut state, app),
        Some(_) => package_missing(pkg),
        None => app_missing(app),
    }
}

fn release_mut<'a>(state: &'a mut State, app: &str, pkg: &str) -> Option<&'a mut Release> {
    state.apps.get_mut(app)?.releases.get_mut(pkg)
}

type Q = Query<HashMap<String, String>>;

/// `GET /v1/apps`: exact filters; with `userId` the apps where the user has a package, in any status; without,
/// only published, non-private apps. Newest first, the first 100 (appstore-be `queryAppsByCond`).
pub(super) async fn list_apps(AxState(inner): AxState<Shared>, Query(q): Q) -> Response {
    if let Err(r) = check_user_id(q.get("userId")) {
        return r;
    }
    let state = lock(&inner);
    let mut apps: Vec<&StoredApp> = state
        .apps
        .values()
        .filter(|a| {
            q.get("name").is_none_or(|n| a.name == *n)
                && q.get("provider").is_none_or(|p| a.provider == *p)
                && q.get("type").is_none_or(|t| a.app_type == *t)
                && q.get("affinity").is_none_or(|x| a.affinity == *x)
                && q.get("userId").is_none_or(|u| a.is_user_in(u))
        })
        .collect();
    apps.sort_by_key(|a| std::cmp::Reverse(a.seq));
    let list: Vec<Value> = apps
        .into_iter()
        .take(100)
        .filter(|a| {
            q.contains_key("userId")
                || (a.status == AppStatus::Published && a.show_type != "private")
        })
        .map(StoredApp::dto)
        .collect();
    axum::Json(list).into_response()
}

/// A value to sort by.
#[derive(PartialEq, PartialOrd)]
enum SortVal {
    Num(f64),
    Text(String),
}

/// The columns of `app_table` (PostgreSQL folds unquoted names to lower case).
fn app_column(a: &StoredApp, column: &str) -> Option<SortVal> {
    use SortVal::{Num, Text};
    let flag = |b: bool| Num(if b { 1.0 } else { 0.0 });
    #[allow(clippy::cast_precision_loss)]
    Some(match column.to_ascii_lowercase().as_str() {
        "createtime" => Num(a.seq as f64),
        "modifytime" => Num(a.modified_seq as f64),
        "appid" => Text(a.app_id.clone()),
        "appname" => Text(a.name.clone()),
        "provider" => Text(a.provider.clone()),
        "applicationtype" => Text(a.app_type.clone()),
        "shortdesc" => Text(a.short_desc.clone()),
        "showtype" => Text(a.show_type.clone()),
        "affinity" => Text(a.affinity.clone()),
        "industry" => Text(a.industry.clone()),
        "userid" => Text(a.user_id.clone()),
        "username" => Text(a.user_name.clone()),
        "status" => Text(a.status.to_string()),
        "deploymode" => Text(a.deploy_mode.clone()),
        "downloadcount" => Num(a.download_count as f64),
        "score" => Num(a.score),
        "price" => Num(a.price),
        "ishotapp" => flag(a.hot_app),
        "isfree" => flag(a.free),
        _ => return None,
    })
}

/// The columns of `catalog_package_table`.
fn package_column(r: &Release, column: &str) -> Option<SortVal> {
    use SortVal::{Num, Text};
    #[allow(clippy::cast_precision_loss)]
    Some(match column.to_ascii_lowercase().as_str() {
        "createtime" => Num(r.seq as f64),
        "packageid" => Text(r.package_id.clone()),
        "appid" => Text(r.app_id.clone()),
        "appname" => Text(r.name.clone()),
        "version" => Text(r.version.clone()),
        "provider" => Text(r.provider.clone()),
        "status" => Text(r.status.to_string()),
        "shortdesc" => Text(r.short_desc.clone()),
        "applicationtype" => Text(r.app_type.clone()),
        "deploymode" => Text(r.deploy_mode.clone()),
        "affinity" => Text(r.affinity.clone()),
        "industry" => Text(r.industry.clone()),
        "showtype" => Text(r.show_type.clone()),
        "userid" => Text(r.user_id.clone()),
        "username" => Text(r.user_name.clone()),
        "size" => Text(r.size.to_string()),
        "testtaskid" => Text(r.test_task_id.clone().unwrap_or_default()),
        _ => return None,
    })
}

/// The columns of `app_table` one may sort by.
const APP_COLUMNS: &[&str] = &[
    "createtime",
    "modifytime",
    "appid",
    "appname",
    "provider",
    "applicationtype",
    "shortdesc",
    "showtype",
    "affinity",
    "industry",
    "userid",
    "username",
    "status",
    "deploymode",
    "downloadcount",
    "score",
    "price",
    "ishotapp",
    "isfree",
];

/// The columns of `catalog_package_table` one may sort by.
const PACKAGE_COLUMNS: &[&str] = &[
    "createtime",
    "packageid",
    "appid",
    "appname",
    "version",
    "provider",
    "status",
    "shortdesc",
    "applicationtype",
    "deploymode",
    "affinity",
    "industry",
    "showtype",
    "userid",
    "username",
    "size",
    "testtaskid",
];

/// The `order by ${sortItem} ${sortType}, createTime ${sortType}` of appstore-be's mappers: an unknown column or
/// order is an SQL error, which appstore-be answers 500 (`retCode` 1), rows or not.
fn sort_by<T>(
    items: &mut [T],
    item: &str,
    order: &str,
    columns: &[&str],
    column: impl Fn(&T, &str) -> Option<SortVal>,
) -> Result<(), Response> {
    let descending = match order.to_ascii_lowercase().as_str() {
        "asc" => false,
        "desc" => true,
        _ => {
            return Err(business(
                1,
                format!("ERROR: syntax error at or near \"{order}\""),
            ));
        }
    };
    if !columns.contains(&item.to_ascii_lowercase().as_str()) {
        return Err(business(
            1,
            format!(
                "ERROR: column \"{}\" does not exist",
                item.to_ascii_lowercase()
            ),
        ));
    }
    items.sort_by(|a, b| {
        let key = |x: &T| (column(x, item), column(x, "createTime"));
        let o = key(a).partial_cmp(&key(b)).unwrap_or(Ordering::Equal);
        if descending { o.reverse() } else { o }
    });
    Ok(())
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array().map(|a| {
        a.iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
            .collect()
    })
}

/// Paging as the mappers do it: `limit`/`offset` only when `offset >= 0` and `limit > 0`.
fn page<T>(items: Vec<T>, offset: i64, limit: i64) -> Vec<T> {
    if offset >= 0 && limit > 0 {
        items
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect()
    } else {
        items
    }
}

/// A list filter of the v2 query: whether the count query joins it with `or`, its values, the field it tests.
type ListFilter = (bool, Option<Vec<String>>, fn(&StoredApp) -> String);

/// `POST /v2/apps/action/query` (appstore-be `queryAppsByCondV2`, `APPMapper.xml`
/// `findAllWithAppPaginationV2` and `countTotalV2`).
pub(super) async fn query_apps(
    AxState(inner): AxState<Shared>,
    body: axum::body::Bytes,
) -> Response {
    let Ok(q) = serde_json::from_slice::<Value>(&body) else {
        return invalid("JSON parse error: the request body is not a QueryAppReqDto");
    };
    let ctrl = &q["queryCtrl"];
    if !ctrl.is_object() {
        // queryAppReqDto.getQueryCtrl().getStatus() on null.
        return business(1, "java.lang.NullPointerException");
    }
    let list = |k: &str| strings(&q[k]);
    let show_type = list("showType");
    // countTotalV2 tests `showType != ''`, not its size: an empty list leaves `and showType in` with nothing
    // after it, and PostgreSQL refuses the statement.
    if show_type.as_ref().is_some_and(Vec::is_empty) {
        return business(1, "ERROR: syntax error at end of input");
    }
    let user_id = q["userId"].as_str().filter(|u| !u.is_empty());
    let name = ctrl["appName"].as_str().unwrap_or_default().to_lowercase();
    let status = strings(&ctrl["status"]);
    let filters: [ListFilter; 4] = [
        (false, list("industry"), |a| a.industry.clone()),
        (true, list("affinity"), |a| a.affinity.clone()),
        (true, list("workloadType"), |a| a.deploy_mode.clone()),
        (true, list("types"), |a| a.app_type.clone()),
    ];
    let state = lock(&inner);
    // Each clause the mappers write, with `or` when the count query joins it with `or` (`countTotalV2` writes
    // `or` before affinity, deploymode and applicationtype: a bug of appstore-be, copied so that totals match).
    let clauses = |a: &StoredApp| -> Vec<(bool, bool)> {
        let mut c = Vec::new();
        for (or, values, field) in &filters {
            if let Some(v) = values.as_ref().filter(|v| !v.is_empty()) {
                c.push((*or, v.contains(&field(a))));
            }
        }
        if !name.is_empty() {
            c.push((false, a.name.to_lowercase().contains(&name)));
        }
        if let Some(s) = status.as_ref().filter(|s| !s.is_empty()) {
            c.push((false, s.contains(&a.status.to_string())));
        }
        if let Some(s) = &show_type {
            c.push((false, s.contains(&a.show_type)));
        }
        if let Some(u) = user_id {
            c.push((false, a.is_user_in(u)));
        }
        c
    };
    let selected = |a: &&StoredApp| clauses(a).iter().all(|(_, ok)| *ok);
    // SQL: `and` binds tighter than `or`; `<where>` drops the first connector.
    let counted = |a: &&StoredApp| {
        let mut groups: Vec<bool> = Vec::new();
        for (i, (or, ok)) in clauses(a).into_iter().enumerate() {
            match groups.last_mut() {
                Some(g) if i > 0 && !or => *g = *g && ok,
                _ => groups.push(ok),
            }
        }
        groups.is_empty() || groups.iter().any(|g| *g)
    };
    let total = state.apps.values().filter(counted).count();
    let mut apps: Vec<&StoredApp> = state.apps.values().filter(selected).collect();
    let (item, order) = (
        ctrl["sortItem"].as_str().unwrap_or_default(),
        ctrl["sortType"].as_str().unwrap_or_default(),
    );
    if !item.is_empty()
        && !order.is_empty()
        && let Err(r) = sort_by(&mut apps, item, order, APP_COLUMNS, |a, c| app_column(a, c))
    {
        return r;
    }
    let (offset, limit) = (
        ctrl["offset"].as_i64().unwrap_or(0),
        ctrl["limit"].as_i64().unwrap_or(0),
    );
    let results: Vec<Value> = page(apps, offset, limit)
        .into_iter()
        .map(StoredApp::dto)
        .collect();
    axum::Json(json!({"results": results, "limit": limit, "offset": offset, "total": total}))
        .into_response()
}

/// `GET /v1/apps/{appId}`.
pub(super) async fn get_app(AxState(inner): AxState<Shared>, Path(app): Path<String>) -> Response {
    match lock(&inner).apps.get(&app) {
        Some(a) => axum::Json(a.dto()).into_response(),
        None => app_missing(&app),
    }
}

/// `DELETE /v1/apps/{appId}`: the owner or an admin (else 403, 18001); packages, files and comments go.
pub(super) async fn delete_app(
    AxState(inner): AxState<Shared>,
    Path(app): Path<String>,
    Extension(caller): Extension<Caller>,
    Query(q): Q,
) -> Response {
    let (user_id, _) = match required_user(&q) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut state = lock(&inner);
    let Some(a) = state.apps.get(&app) else {
        return app_missing(&app);
    };
    if a.user_id != user_id && !caller.is_admin() {
        return fail(StatusCode::FORBIDDEN, 18001, "can not delete app");
    }
    if let Some(a) = state.apps.remove(&app) {
        a.releases.values().for_each(Release::remove_files);
    }
    "delete App success.".into_response()
}

/// The packages of an app as `findAllPackages` gives them: a page over all of them, then filtered: the user's
/// (refreshed) with `userId`, else the published, listed ones.
fn app_packages(
    state: &mut State,
    app: &str,
    user_id: Option<&str>,
    offset: i64,
    limit: i64,
) -> Vec<Value> {
    let Some(a) = state.apps.get_mut(app) else {
        // findAllWithPagination reads packages by app id without looking the app up.
        return Vec::new();
    };
    let mut all: Vec<&mut Release> = a.releases.values_mut().collect();
    all.sort_by_key(|r| r.seq);
    page(all, offset, limit)
        .into_iter()
        .filter_map(|r| match user_id {
            Some(u) if r.user_id == u => {
                r.refresh();
                Some(r.dto())
            }
            Some(_) => None,
            None => r.is_listed().then(|| r.dto()),
        })
        .collect()
}

/// `GET /v1/apps/{appId}/packages[?userId]`: the first 100.
pub(super) async fn list_packages(
    AxState(inner): AxState<Shared>,
    Path(app): Path<String>,
    Query(q): Q,
) -> Response {
    if let Err(r) = check_user_id(q.get("userId")) {
        return r;
    }
    let list = app_packages(
        &mut lock(&inner),
        &app,
        q.get("userId").map(String::as_str),
        0,
        100,
    );
    axum::Json(list).into_response()
}

fn required_page(q: &HashMap<String, String>) -> Result<(i64, i64), Response> {
    let number = |k: &str| {
        q.get(k)
            .ok_or_else(|| invalid(format!("Required request parameter '{k}' is not present")))
            .and_then(|v| {
                v.parse::<i64>()
                    .map_err(|_| invalid(format!("'{k}' is not a number: {v:?}")))
            })
    };
    let (limit, offset) = (number("limit")?, number("offset")?);
    if limit < 1 || offset < 0 {
        return Err(invalid(
            "limit: must be greater than or equal to 1; offset: must be greater than or equal to 0",
        ));
    }
    Ok((offset, limit))
}

/// `GET /v2/apps/{appId}/packages?limit&offset[&userId]`: a list (not a page).
pub(super) async fn list_packages_v2(
    AxState(inner): AxState<Shared>,
    Path(app): Path<String>,
    Query(q): Q,
) -> Response {
    let (offset, limit) = match required_page(&q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = check_user_id(q.get("userId")) {
        return r;
    }
    let list = app_packages(
        &mut lock(&inner),
        &app,
        q.get("userId").map(String::as_str),
        offset,
        limit,
    );
    axum::Json(list).into_response()
}

/// `GET /v1/packages?userId`: the user's packages, refreshed, newest first.
pub(super) async fn my_packages(AxState(inner): AxState<Shared>, Query(q): Q) -> Response {
    let Some(user) = q.get("userId") else {
        return invalid("Required request parameter 'userId' is not present");
    };
    if let Err(r) = check_user_id(Some(user)) {
        return r;
    }
    let mut state = lock(&inner);
    let mut mine: Vec<&mut Release> = state
        .apps
        .values_mut()
        .flat_map(|a| a.releases.values_mut())
        .filter(|r| r.user_id == *user)
        .collect();
    mine.sort_by_key(|r| std::cmp::Reverse(r.seq));
    let list: Vec<Value> = mine
        .into_iter()
        .map(|r| {
            r.refresh();
            r.dto()
        })
        .collect();
    axum::Json(list).into_response()
}

/// `POST /v2/packages/action/query` (`QueryAppCtrlDto`): the caller's packages (every user's for an admin),
/// `PackageMapper.xml` `findReleaseByUserIdV2`.
pub(super) async fn query_packages(
    AxState(inner): AxState<Shared>,
    Extension(caller): Extension<Caller>,
    body: axum::body::Bytes,
) -> Response {
    let Ok(ctrl) = serde_json::from_slice::<Value>(&body) else {
        return invalid("JSON parse error: the request body is not a QueryAppCtrlDto");
    };
    let owner = (!caller.is_admin()).then(|| caller.user_id.clone());
    let name = ctrl["appName"].as_str().unwrap_or_default().to_lowercase();
    let status = strings(&ctrl["status"]).unwrap_or_default();
    let mut state = lock(&inner);
    let mut rows: Vec<&mut Release> = state
        .apps
        .values_mut()
        .flat_map(|a| a.releases.values_mut())
        .filter(|r| {
            owner.as_ref().is_none_or(|o| r.user_id == *o)
                && r.name.to_lowercase().contains(&name)
                && (status.is_empty() || status.contains(&r.status.to_string()))
        })
        .collect();
    let total = rows.len();
    let (item, order) = (
        ctrl["sortItem"].as_str().unwrap_or_default(),
        ctrl["sortType"].as_str().unwrap_or_default(),
    );
    if !item.is_empty()
        && !order.is_empty()
        && let Err(r) = sort_by(&mut rows, item, order, PACKAGE_COLUMNS, |r, c| {
            package_column(r, c)
        })
    {
        return r;
    }
    let (offset, limit) = (
        ctrl["offset"].as_i64().unwrap_or(0),
        ctrl["limit"].as_i64().unwrap_or(0),
    );
    // `limit #{limit} offset #{offset}` is always written here: a limit of 0 gives nothing.
    let results: Vec<Value> = rows
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(0))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|r| {
            r.refresh();
            r.dto()
        })
        .collect();
    axum::Json(json!({"results": results, "limit": limit, "offset": offset, "total": total}))
        .into_response()
}

/// `GET /v2/packages?limit&offset[&startTime&endTime]`: published, listed packages, newest first; the period
/// applies only with both ends (`yyyy-MM-dd`, `between` midnights).
pub(super) async fn published_packages(AxState(inner): AxState<Shared>, Query(q): Q) -> Response {
    let (offset, limit) = match required_page(&q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let date = |k: &str| q.get(k).filter(|v| !v.is_empty()).cloned();
    let (start, end) = (date("startTime"), date("endTime"));
    for d in [&start, &end].into_iter().flatten() {
        let ok = d.len() == 10
            && d.bytes().enumerate().all(|(i, c)| match i {
                4 | 7 => c == b'-',
                _ => c.is_ascii_digit(),
            });
        if !ok {
            return business(10001, "The time parameter format is incorrect.");
        }
    }
    let state = lock(&inner);
    let mut rows: Vec<&Release> = state
        .apps
        .values()
        .flat_map(|a| a.releases.values())
        .filter(|r| r.is_listed())
        .filter(|r| match (&start, &end) {
            (Some(s), Some(e)) => {
                let day = super::timestamp_of(
                    std::time::UNIX_EPOCH + std::time::Duration::from_millis(r.created_ms),
                );
                day.get(..10)
                    .is_some_and(|d| d >= s.as_str() && d < e.as_str())
            }
            _ => true,
        })
        .collect();
    let total = rows.len();
    rows.sort_by_key(|r| std::cmp::Reverse(r.seq));
    let results: Vec<Value> = page(rows, offset, limit)
        .into_iter()
        .map(Release::dto)
        .collect();
    axum::Json(json!({"results": results, "limit": limit, "offset": offset, "total": total}))
        .into_response()
}

/// `GET /v1/apps/{appId}/packages/{packageId}`: refreshes the test status.
pub(super) async fn get_package(
    AxState(inner): AxState<Shared>,
    Path((app, pkg)): Path<(String, String)>,
) -> Response {
    with_release(&inner, &app, &pkg, |state, app| {
        match release_mut(state, app, &pkg) {
            Some(r) => {
                r.refresh();
                axum::Json(r.dto()).into_response()
            }
            None => package_missing(&pkg),
        }
    })
}

/// `DELETE /v1/apps/{appId}/packages/{packageId}`: the package's owner or an admin (else 403, 18002). The app
/// goes back to `UnPublish` without a published package, and goes when its last package goes.
pub(super) async fn delete_package(
    AxState(inner): AxState<Shared>,
    Path((app, pkg)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    Query(q): Q,
) -> Response {
    let (user_id, _) = match required_user(&q) {
        Ok(u) => u,
        Err(r) => return r,
    };
    with_release(&inner, &app, &pkg, |state, app| {
        let Some(a) = state.apps.get_mut(app) else {
            return app_missing(app);
        };
        if a.releases.get(&pkg).is_some_and(|r| r.user_id != user_id) && !caller.is_admin() {
            return fail(
                StatusCode::FORBIDDEN,
                18002,
                "operator do not have permission",
            );
        }
        if let Some(r) = a.releases.remove(&pkg) {
            r.remove_files();
        }
        a.settle_status();
        if a.releases.is_empty() {
            state.apps.remove(app);
        }
        state.pushed.retain(|(p, _)| *p != pkg);
        "delete App package success.".into_response()
    })
}

/// `POST .../action/test`: from `Upload`, `Test_failed`, `Test_create_failed` or `Test_success` (else 500,
/// 11005); the test platform's task starts running.
pub(super) async fn test_package(
    AxState(inner): AxState<Shared>,
    Path((app, pkg)): Path<(String, String)>,
) -> Response {
    with_release(&inner, &app, &pkg, |state, app| {
        let Some(r) = release_mut(state, app, &pkg) else {
            return package_missing(&pkg);
        };
        let allowed = matches!(
            r.status,
            PackageStatus::Upload
                | PackageStatus::TestFailed
                | PackageStatus::TestCreateFailed
                | PackageStatus::TestSuccess
        );
        if !allowed {
            return business(11005, "The package status is not allowed to test again.");
        }
        let task = super::new_id();
        r.status = PackageStatus::TestRunning;
        r.test_task_id = Some(task.clone());
        axum::Json(json!({"atpTaskId": task, "status": "running"})).into_response()
    })
}

/// `POST .../action/publish` `{"isFree"/"free", "price"}`: from `Test_success` or `Unpublished` (else 500,
/// 11002); the app is published, free or priced the first time.
pub(super) async fn publish(
    AxState(inner): AxState<Shared>,
    Path((app, pkg)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Required request body is missing or not JSON");
    };
    with_release(&inner, &app, &pkg, |state, app| {
        let Some(a) = state.apps.get_mut(app) else {
            return app_missing(app);
        };
        let Some(r) = a.releases.get(&pkg) else {
            return package_missing(&pkg);
        };
        if !matches!(
            r.status,
            PackageStatus::TestSuccess | PackageStatus::Unpublished
        ) {
            return business(11002, "Test status is not success, publish failed");
        }
        let version = r.version.clone();
        if a.releases
            .values()
            .any(|o| o.status == PackageStatus::Published && o.version == version)
        {
            return business(10022, "The same app has existed.");
        }
        if a.status != AppStatus::Published {
            a.status = AppStatus::Published;
            // Jackson binds the field `isFree` of PublishAppReqDto under the name `free`.
            a.free = req["free"].as_bool().unwrap_or(false);
            a.price = req["price"].as_f64().unwrap_or(0.0);
        }
        if let Some(r) = a.releases.get_mut(&pkg) {
            r.status = PackageStatus::Published;
        }
        "Publish Success".into_response()
    })
}

/// `POST .../action/unpublish?userId&userName`: the owner or an admin (else 403, 18006), a published package
/// (else 500, 11011); the app goes back to `UnPublish` when none of its packages is published.
pub(super) async fn unpublish(
    AxState(inner): AxState<Shared>,
    Path((app, pkg)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    Query(q): Q,
) -> Response {
    let (user_id, _) = match required_user(&q) {
        Ok(u) => u,
        Err(r) => return r,
    };
    with_release(&inner, &app, &pkg, |state, app| {
        let Some(a) = state.apps.get_mut(app) else {
            return app_missing(app);
        };
        let Some(r) = a.releases.get_mut(&pkg) else {
            return package_missing(&pkg);
        };
        if r.user_id != user_id && !caller.is_admin() {
            return fail(
                StatusCode::FORBIDDEN,
                18006,
                "operator do not have permission",
            );
        }
        if r.status != PackageStatus::Published {
            return business(
                11011,
                "The application can be taken off shelf only after it is published.",
            );
        }
        r.status = PackageStatus::Unpublished;
        a.settle_status();
        "Unpublish Success".into_response()
    })
}

fn comment_list(a: &StoredApp) -> Vec<Value> {
    a.comments.iter().rev().cloned().collect()
}

/// `GET /v1/apps/{appId}/comments`: the newest 100.
pub(super) async fn comments(AxState(inner): AxState<Shared>, Path(app): Path<String>) -> Response {
    match lock(&inner).apps.get(&app) {
        Some(a) => {
            axum::Json(comment_list(a).into_iter().take(100).collect::<Vec<_>>()).into_response()
        }
        None => app_missing(&app),
    }
}

/// `GET /v2/apps/{appId}/comments?limit&offset`: a page.
pub(super) async fn comments_v2(
    AxState(inner): AxState<Shared>,
    Path(app): Path<String>,
    Query(q): Q,
) -> Response {
    let (offset, limit) = match required_page(&q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match lock(&inner).apps.get(&app) {
        Some(a) => {
            let all = comment_list(a);
            let total = all.len();
            let results = page(all, offset, limit);
            axum::Json(
                json!({"results": results, "limit": limit, "offset": offset, "total": total}),
            )
            .into_response()
        }
        None => app_missing(&app),
    }
}

/// `POST /v1/apps/{appId}/comments?userId&userName` `{"body": 1..1024, "score": 0..5}`: not on one's own app
/// (500, 12001); the app's score becomes `(n * score + s) / (n + 1)`, n counting the new comment
/// (`AppCommentService.comment`, `App.comment`).
pub(super) async fn add_comment(
    AxState(inner): AxState<Shared>,
    Path(app): Path<String>,
    Query(q): Q,
    body: axum::body::Bytes,
) -> Response {
    let (user_id, user_name) = match required_user(&q) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Required request body is missing or not JSON");
    };
    let (text, score) = (req["body"].as_str(), req["score"].as_f64());
    let (Some(text), Some(score)) = (text, score) else {
        return invalid("body: must not be null; score: must not be null");
    };
    let n = text.chars().count();
    if !(1..=1024).contains(&n) || !(0.0..=5.0).contains(&score) {
        return invalid("body: length must be between 1 and 1024; score: must be between 0 and 5");
    }
    let now = super::timestamp_of(inner.clock.now());
    let mut state = lock(&inner);
    let Some(a) = state.apps.get_mut(&app) else {
        return app_missing(&app);
    };
    if a.user_id == user_id {
        return business(12001, "user can not comment own app.");
    }
    let id = a.comments.len() + 1;
    a.comments.push(json!({"commentId": id, "user": {"userId": user_id, "userName": user_name},
        "appId": app, "body": text, "score": score, "commentTime": now.replace('T', " ").get(..19)}));
    #[allow(clippy::cast_precision_loss)]
    let count = a.comments.len() as f64;
    a.score = (count * a.score + score) / (count + 1.0);
    "comments success.".into_response()
}
