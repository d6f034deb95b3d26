//! Federation: external stores (appstore-be `AppStoreController`, `AppStoreServiceFacade`), pushes and pulls
//! (`PushablePackageController`, `application/inner/{PushablePackageService,PullablePackageService}.java`).
//! The other stores are not called: pushes are recorded, pulls register the offered package's listing.

use super::auth::Caller;
use super::catalog::{Release, add_release, is_user_id};
use super::{Shared, business, invalid, lock, new_id};
use axum::Extension;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mec_appstore_client::PackageStatus;
use mec_core::Clock;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// An external store (`AppStoreDto`).
#[derive(Debug, Clone, Default)]
pub(super) struct Store {
    fields: BTreeMap<&'static str, String>,
}

const FIELDS: [&str; 8] = [
    "appStoreName",
    "appStoreVersion",
    "company",
    "url",
    "schema",
    "appPushIntf",
    "appdTransId",
    "description",
];

impl Store {
    pub(super) fn new(id: &str, name: &str, url: &str, now: &str) -> Self {
        let mut fields = BTreeMap::new();
        for (k, v) in [
            ("appStoreId", id),
            ("appStoreName", name),
            ("url", url),
            ("addedTime", now),
            ("modifiedTime", now),
        ] {
            fields.insert(k, v.to_owned());
        }
        Self { fields }
    }

    fn name(&self) -> &str {
        self.fields.get("appStoreName").map_or("", String::as_str)
    }

    fn dto(&self) -> Value {
        let get = |k: &str| self.fields.get(k).cloned();
        json!({
            "appStoreId": get("appStoreId"), "appStoreName": get("appStoreName"),
            "appStoreVersion": get("appStoreVersion"), "company": get("company"), "url": get("url"),
            "schema": get("schema"), "appPushIntf": get("appPushIntf"), "appdTransId": get("appdTransId"),
            "description": get("description"), "addedTime": get("addedTime"),
            "modifiedTime": get("modifiedTime"),
        })
    }
}

/// `AppStoreController.APPSTORE_URL`: `http(s)://` (optional), an IPv4 address, a port, a path.
fn is_store_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = authority.split_once(':').unwrap_or((authority, ""));
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets.iter().all(|o| {
            !o.is_empty()
                && o.len() <= 3
                && o.bytes().all(|b| b.is_ascii_digit())
                && (o.len() == 1 || !o.starts_with('0'))
                && o.parse::<u16>().is_ok_and(|n| n <= 255)
        })
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
}

/// The bean validation of the store parts (`@Length`, `@Pattern`, `@NotNull`): 400, `retCode` 1.
fn check_store(fields: &BTreeMap<String, String>, adding: bool) -> Result<(), Response> {
    let limits = [
        ("appStoreName", 64),
        ("appStoreVersion", 64),
        ("company", 64),
        ("url", 256),
        ("appPushIntf", 256),
        ("description", 1024),
    ];
    if adding {
        for k in [
            "appStoreName",
            "appStoreVersion",
            "company",
            "url",
            "appdTransId",
        ] {
            if !fields.contains_key(k) {
                return Err(invalid(format!(
                    "Required request part '{k}' is not present"
                )));
            }
        }
    }
    for (k, max) in limits {
        if fields.get(k).is_some_and(|v| v.chars().count() > max) {
            return Err(invalid(format!("{k}: length must be between 0 and {max}")));
        }
    }
    if fields.get("appStoreName").is_some_and(String::is_empty) {
        return Err(invalid("appStoreName: length must be between 1 and 64"));
    }
    if fields.get("url").is_some_and(|u| !is_store_url(u)) {
        return Err(invalid("url: must match the IPv4 URL pattern"));
    }
    if fields
        .get("schema")
        .is_some_and(|s| s != "http" && s != "https")
    {
        return Err(invalid("schema: must match \"(http)|(https)\""));
    }
    Ok(())
}

async fn text_fields(mut form: Multipart) -> Result<BTreeMap<String, String>, Response> {
    let mut fields = BTreeMap::new();
    loop {
        match form.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or_default().to_owned();
                let text = f.text().await.map_err(|e| invalid(e.body_text()))?;
                fields.insert(name, text);
            }
            Ok(None) => return Ok(fields),
            Err(e) => return Err(invalid(e.body_text())),
        }
    }
}

fn check_uuid(id: &str) -> Result<(), Response> {
    if is_user_id(id) {
        Ok(())
    } else {
        Err(invalid(format!(
            "appStoreId: must match \"[0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}\" (was {id:?})"
        )))
    }
}

/// `ilike` with `*` as the wildcard (`AppStoreServiceFacade.replaceSqlPattern`).
fn ilike(value: &str, pattern: &str) -> bool {
    let (v, p) = (value.to_lowercase(), pattern.to_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return v == p;
    }
    let mut rest = v.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

/// `GET /v1/appstores[?appStoreName&company]`.
pub(super) async fn list_stores(
    State(inner): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let state = lock(&inner);
    let wanted = |k: &str, s: &Store| {
        q.get(k)
            .filter(|p| !p.trim().is_empty())
            .is_none_or(|p| ilike(s.fields.get(k).map_or("", String::as_str), p))
    };
    let list: Vec<Value> = state
        .stores
        .values()
        .filter(|s| wanted("appStoreName", s) && wanted("company", s))
        .map(Store::dto)
        .collect();
    axum::Json(list).into_response()
}

/// `GET /v2/appstores?appStoreName&limit&offset` (all three required).
pub(super) async fn stores_page(
    State(inner): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let number = |k: &str| q.get(k).and_then(|v| v.parse::<usize>().ok());
    let (Some(name), Some(limit), Some(offset)) =
        (q.get("appStoreName"), number("limit"), number("offset"))
    else {
        return invalid(
            "Required request parameter 'appStoreName', 'limit' or 'offset' is missing",
        );
    };
    if limit < 1 {
        return invalid("limit: must be greater than or equal to 1");
    }
    let state = lock(&inner);
    let all: Vec<Value> = state
        .stores
        .values()
        .filter(|s| s.name().to_lowercase().contains(&name.to_lowercase()))
        .map(Store::dto)
        .collect();
    let total = all.len();
    let results: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
    axum::Json(json!({"results": results, "limit": limit, "offset": offset, "total": total}))
        .into_response()
}

/// `GET /v1/appstores/{id}`: 200 with an empty body when unknown.
pub(super) async fn get_store(State(inner): State<Shared>, Path(id): Path<String>) -> Response {
    if let Err(r) = check_uuid(&id) {
        return r;
    }
    match lock(&inner).stores.get(&id) {
        Some(s) => axum::Json(s.dto()).into_response(),
        None => StatusCode::OK.into_response(),
    }
}

/// `POST /v1/appstores` (multipart).
pub(super) async fn add_store(State(inner): State<Shared>, form: Multipart) -> Response {
    let fields = match text_fields(form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Err(r) = check_store(&fields, true) {
        return r;
    }
    let id = uuid::Uuid::new_v4().hyphenated().to_string();
    let now = super::timestamp_of(inner.clock.now());
    let mut store = Store::new(&id, "", "", &now);
    for k in FIELDS {
        if let Some(v) = fields.get(k) {
            store.fields.insert(k, v.clone());
        }
    }
    let dto = store.dto();
    lock(&inner).stores.insert(id, store);
    axum::Json(dto).into_response()
}

/// `PUT /v1/appstores/{id}` (multipart, every part optional): unknown is 500, 13003.
pub(super) async fn edit_store(
    State(inner): State<Shared>,
    Path(id): Path<String>,
    form: Multipart,
) -> Response {
    if let Err(r) = check_uuid(&id) {
        return r;
    }
    let fields = match text_fields(form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Err(r) = check_store(&fields, false) {
        return r;
    }
    let now = super::timestamp_of(inner.clock.now());
    let mut state = lock(&inner);
    let Some(store) = state.stores.get_mut(&id) else {
        return business(13003, "failed to edit app store.");
    };
    for k in FIELDS {
        if let Some(v) = fields.get(k) {
            store.fields.insert(k, v.clone());
        }
    }
    store.fields.insert("modifiedTime", now);
    axum::Json(store.dto()).into_response()
}

/// `DELETE /v1/appstores/{id}`: 200 and an empty body, known or not.
pub(super) async fn delete_store(State(inner): State<Shared>, Path(id): Path<String>) -> Response {
    if let Err(r) = check_uuid(&id) {
        return r;
    }
    lock(&inner).stores.remove(&id);
    "".into_response()
}

fn pushable_dto(r: &Release, targets: Vec<String>) -> Value {
    json!({
        "appId": r.app_id, "packageId": r.package_id, "name": r.name, "provider": r.provider,
        "version": r.version, "atpTestStatus": "success", "atpTestTaskId": r.test_task_id,
        "latestPushTime": null, "pushTimes": targets.len(), "sourcePlatform": null,
        "targetPlatform": targets, "affinity": r.affinity, "shortDesc": r.short_desc,
        "industry": r.industry, "type": r.app_type, "deployMode": r.deploy_mode,
    })
}

fn pushable_list(state: &super::State) -> Vec<Value> {
    state
        .apps
        .values()
        .flat_map(|a| a.releases.values())
        .filter(|r| r.status == PackageStatus::Published)
        .map(|r| {
            let targets = state
                .pushed
                .iter()
                .filter(|(p, _)| *p == r.package_id)
                .map(|(_, s)| s.clone())
                .collect();
            pushable_dto(r, targets)
        })
        .collect()
}

/// `GET /v1/packages/pushable`: the published packages, with the stores each was pushed to.
pub(super) async fn pushable(State(inner): State<Shared>) -> Response {
    axum::Json(pushable_list(&lock(&inner))).into_response()
}

/// `GET /v1/packages/{packageId}/pushable`: unknown is 500, 11001.
pub(super) async fn pushable_one(State(inner): State<Shared>, Path(pkg): Path<String>) -> Response {
    let found = pushable_list(&lock(&inner))
        .into_iter()
        .find(|p| p["packageId"] == pkg.as_str());
    match found {
        Some(p) => axum::Json(p).into_response(),
        None => business(11001, format!("Package not found, packageId is {pkg}.")),
    }
}

/// `POST /v1/packages/{packageId}/action/push` `{"targetPlatform": [ids]}`: `true` per known store.
pub(super) async fn push(
    State(inner): State<Shared>,
    Path(pkg): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Required request body is missing or not JSON");
    };
    let mut state = lock(&inner);
    if !pushable_list(&state)
        .iter()
        .any(|p| p["packageId"] == pkg.as_str())
    {
        // getPushablePackages gives null, dereferenced at once.
        return business(1, "java.lang.NullPointerException");
    }
    let targets: Vec<String> = req["targetPlatform"]
        .as_array()
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

/// Whether this store already has the offered package: a release of the same app (name, provider) and version,
/// published or the caller's (`PullablePackageService.filterPullablePackages`).
fn already_here(state: &super::State, offer: &Value, user_id: &str) -> bool {
    let text = |k: &str| offer[k].as_str().unwrap_or_default();
    state
        .apps
        .values()
        .filter(|a| a.name == text("name") && a.provider == text("provider"))
        .flat_map(|a| a.releases.values())
        .any(|r| {
            (r.status == PackageStatus::Published || r.user_id == user_id)
                && r.version == text("version")
        })
}

/// `GET /v1/packages/{storeId}/pullable`: what the store offers less what is here; 200 `[]` for an unknown store.
pub(super) async fn pullable(
    State(inner): State<Shared>,
    Path(store): Path<String>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let state = lock(&inner);
    if !state.stores.contains_key(&store) {
        return axum::Json(Vec::<Value>::new()).into_response();
    }
    let list: Vec<Value> = state
        .offers
        .get(&store)
        .into_iter()
        .flatten()
        .filter(|o| !already_here(&state, o, &caller.user_id))
        .cloned()
        .collect();
    axum::Json(list).into_response()
}

/// `POST /v1/packages/{packageId}/action/pull` (`PullAppReqDto`): `false` for an unknown store; a package the
/// store does not offer fails to download (500, 11010); else registered here for the body's user, `Upload`,
/// `public`.
pub(super) async fn pull(
    State(inner): State<Shared>,
    Path(pkg): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Required request body is missing or not JSON");
    };
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let store = text(&req, "sourceStoreId");
    let mut state = lock(&inner);
    if !state.stores.contains_key(&store) {
        return axum::Json(false).into_response();
    }
    let Some(offer) = state
        .offers
        .get(&store)
        .and_then(|o| o.iter().find(|p| p["packageId"] == pkg.as_str()))
        .cloned()
    else {
        return business(11010, "Failed to pull package.");
    };
    let release = Release {
        package_id: new_id(),
        app_id: String::new(),
        name: text(&offer, "name"),
        version: text(&offer, "version"),
        provider: text(&offer, "provider"),
        short_desc: text(&offer, "shortDesc"),
        app_type: text(&req, "type"),
        affinity: text(&req, "affinity"),
        industry: text(&req, "industry"),
        show_type: "public".to_owned(),
        deploy_mode: text(&offer, "deployMode"),
        user_id: text(&req, "userId"),
        user_name: text(&req, "userName"),
        status: PackageStatus::Upload,
        test_task_id: None,
        experience_able: false,
        details: None,
        size: 0,
        created_ms: 0,
        seq: 0,
        file: None,
        icon: (String::new(), Vec::new()),
        video: None,
    };
    if let Err(r) = add_release(&mut state, release, inner.clock.now()) {
        return r;
    }
    state.pulled.push((pkg, store));
    axum::Json(true).into_response()
}
