//! Users and their tokens, as user-mgmt and appstore-be handle them.
//!
//! user-mgmt signs in with `POST /v1/accesstoken` behind Spring's cookie CSRF (user-mgmt
//! `config/security/SecurityConfig.java`) and signs a JWT whose claims are `user_name`, `userName`, `userId`,
//! `authorities` (`ROLE_<PLATFORM>_<ROLE>`), `jti`, `exp` (12 hours) and `scope` (`service/AccessTokenService.java`).
//! appstore-be's `AccessTokenFilter` reads the `access_token` header, refuses a missing, invalid or expired token
//! and any `userId`/`userName` request parameter that differs from the claims (401, Spring's default error body),
//! and its controllers' `@PreAuthorize` refuse a missing role (403).

use super::{Shared, fail, lock, new_id};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use mec_core::Clock;
use serde_json::json;
use sha2::Sha256;
use std::time::{Duration, UNIX_EPOCH};

/// How long a token lives (user-mgmt `Consts.SECOND_HALF_DAY`).
pub(super) const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// An AppStore role, as user-mgmt grants it (`ROLE_APPSTORE_<ROLE>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AppStoreRole {
    /// Uploads, tests, publishes, comments.
    Tenant,
    /// Everything a tenant does, on everyone's packages, and federation.
    Admin,
    /// Reads.
    Guest,
}

impl AppStoreRole {
    fn name(self) -> &'static str {
        match self {
            Self::Tenant => "TENANT",
            Self::Admin => "ADMIN",
            Self::Guest => "GUEST",
        }
    }

    /// The authorities user-mgmt puts in the token for this role.
    fn authorities(self) -> Vec<String> {
        ["APPSTORE", "ATP", "DEVELOPER"]
            .iter()
            .map(|platform| format!("ROLE_{platform}_{}", self.name()))
            .collect()
    }
}

/// A user of the mock AppStore.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppStoreUser {
    /// Its id: a lowercase UUID, as user-mgmt gives tenants.
    pub user_id: String,
    /// Its name (what it signs in with).
    pub user_name: String,
    /// Its role in the AppStore.
    pub role: AppStoreRole,
}

#[derive(Debug)]
pub(super) struct Account {
    pub(super) user: AppStoreUser,
    pub(super) password: String,
}

impl Account {
    pub(super) fn new(name: &str, password: &str, role: AppStoreRole) -> Self {
        Self {
            user: AppStoreUser {
                user_id: uuid::Uuid::new_v4().hyphenated().to_string(),
                user_name: name.to_owned(),
                role,
            },
            password: password.to_owned(),
        }
    }
}

/// The caller of a request, from its token (a request extension).
#[derive(Clone, Debug)]
pub(super) struct Caller {
    pub(super) user_id: String,
    pub(super) user_name: String,
    /// `None` when the token carries no AppStore role.
    pub(super) role: Option<AppStoreRole>,
}

impl Caller {
    pub(super) fn is_admin(&self) -> bool {
        self.role == Some(AppStoreRole::Admin)
    }
}

fn mac(key: &[u8], input: &str) -> Vec<u8> {
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// A token for `user`, valid for [`TOKEN_LIFETIME`] from `now_secs`. user-mgmt signs with RSA; the mock with
/// HMAC-SHA256 under a key of its own (the claims are what clients read).
pub(super) fn issue(key: &[u8], user: &AppStoreUser, now_secs: u64) -> String {
    let claims = json!({
        "user_name": user.user_name, "userName": user.user_name, "userId": user.user_id,
        "authorities": user.role.authorities(), "jti": uuid::Uuid::new_v4().to_string(),
        "exp": now_secs + TOKEN_LIFETIME.as_secs(), "scope": ["all"],
    });
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(mac(key, &input));
    format!("{input}.{signature}")
}

/// The caller a token names, or why appstore-be refuses it (its own messages).
fn verify(key: &[u8], token: &str, now_secs: u64) -> Result<Caller, &'static str> {
    const INVALID: &str = "Invalid access token.";
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(INVALID);
    };
    let given = URL_SAFE_NO_PAD.decode(signature).map_err(|_| INVALID)?;
    let expected = mac(key, &format!("{header}.{payload}"));
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        given.as_slice(),
        expected.as_slice(),
    )) {
        return Err(INVALID);
    }
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).map_err(|_| INVALID)?)
            .map_err(|_| INVALID)?;
    if claims["exp"].as_u64().is_none_or(|exp| exp <= now_secs) {
        return Err("Access token expired");
    }
    let text = |k: &str| claims[k].as_str().map(str::to_owned);
    let (Some(user_id), Some(user_name)) = (text("userId"), text("userName")) else {
        return Err("Invalid access token, Additional is null.");
    };
    let roles: Vec<&str> = claims["authorities"]
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    let role = [
        AppStoreRole::Admin,
        AppStoreRole::Tenant,
        AppStoreRole::Guest,
    ]
    .into_iter()
    .find(|r| roles.contains(&format!("ROLE_APPSTORE_{}", r.name()).as_str()));
    // A token without an AppStore role passes the filter and is refused by the controllers (403).
    Ok(Caller {
        user_id,
        user_name,
        role,
    })
}

pub(super) fn now_secs(inner: &Shared) -> u64 {
    inner
        .clock
        .now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Routes appstore-be serves without a token (`AccessTokenFilter.NO_NEED_TOKEN_URLS`), and user-mgmt's.
fn needs_token(method: &Method, path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/mec/appstore") else {
        return !(path == "/v1/accesstoken" || path == "/health");
    };
    let open = (method == Method::POST && rest == "/v1/messages")
        || (method == Method::GET
            && (rest == "/v1/packages/pullable"
                || rest == "/v2/packages/pullable"
                || rest.ends_with("/action/download-package")
                || rest.ends_with("/action/download-icon")));
    !open
}

/// The roles a route takes (its controller's `@PreAuthorize`); `path` is the matched route.
fn roles(method: &Method, path: &str) -> &'static [AppStoreRole] {
    use AppStoreRole::{Admin, Guest, Tenant};
    const ALL: &[AppStoreRole] = &[Tenant, Admin, Guest];
    const WRITERS: &[AppStoreRole] = &[Tenant, Admin];
    const ADMIN: &[AppStoreRole] = &[Admin];
    let rest = path.strip_prefix("/mec/appstore").unwrap_or(path);
    if rest.starts_with("/v1/appstores")
        || rest.starts_with("/v2/appstores")
        || rest.contains("pushable")
        || rest.ends_with("/pullable")
        || rest.ends_with("/action/push")
        || rest.ends_with("/action/pull")
    {
        return ADMIN;
    }
    let reading = method == Method::GET
        && (rest == "/v1/apps"
            || rest == "/v1/apps/{app}"
            || rest.ends_with("/icon")
            || rest.ends_with("/demoVideo")
            || rest.ends_with("/packages")
            || rest.ends_with("/comments"));
    if reading
        || rest == "/v2/apps/action/query"
        || (method == Method::GET && rest == "/v2/packages")
    {
        return ALL;
    }
    WRITERS
}

/// Spring Boot's default error body, as `response.sendError` leaves it: `message` is empty (Spring Boot 2.3+
/// includes no message by default; appstore-be runs 2.3.3).
pub(super) fn spring_error(status: StatusCode, path: &str) -> Response {
    let body = json!({
        "timestamp": super::timestamp(), "status": status.as_u16(),
        "error": status.canonical_reason().unwrap_or(""), "message": "", "path": path,
    });
    (status, axum::Json(body)).into_response()
}

/// appstore-be's `AccessTokenFilter`, then the role check of `@PreAuthorize`.
pub(super) async fn check(
    State(inner): State<Shared>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if !needs_token(request.method(), &path) {
        return next.run(request).await;
    }
    let query = axum::extract::Query::<std::collections::HashMap<String, String>>::try_from_uri(
        request.uri(),
    )
    .map(|q| q.0)
    .unwrap_or_default();
    let param = |k: &str| query.get(k).filter(|v| !v.is_empty());
    let refusal = match request
        .headers()
        .get("access_token")
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty())
    {
        None => Err("Access token is empty"),
        Some(t) => verify(&inner.key, t, now_secs(&inner)),
    }
    .and_then(|caller| {
        if param("userId").is_some_and(|u| *u != caller.user_id) {
            Err("Illegal userId")
        } else if param("userName").is_some_and(|u| *u != caller.user_name) {
            Err("Illegal userName")
        } else {
            Ok(caller)
        }
    });
    let caller = match refusal {
        Ok(c) => c,
        Err(reason) => {
            lock(&inner)
                .refusals
                .push(format!("{} {path}: {reason}", request.method()));
            drain(request).await;
            return spring_error(StatusCode::UNAUTHORIZED, &path);
        }
    };
    let matched = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or(path);
    if !caller
        .role
        .is_some_and(|r| roles(request.method(), &matched).contains(&r))
    {
        drain(request).await;
        return forbidden();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// Reads a refused request's body before answering, so that a client still sending it sees the answer, not a
/// reset.
async fn drain(request: Request) {
    let _ = axum::body::to_bytes(request.into_body(), super::MAX_REQUEST).await;
}

/// What `@PreAuthorize` answers through appstore-be's `GlobalExceptionConvert.accessDeniedException`.
fn forbidden() -> Response {
    fail(StatusCode::FORBIDDEN, 1, "Access is denied")
}

/// user-mgmt's `POST /v1/accesstoken` `{"userFlag", "password"}` → `{"accessToken"}`, behind Spring's cookie
/// CSRF: a request without the `XSRF-TOKEN` cookie and a matching `X-XSRF-TOKEN` header is refused (403) and
/// given the cookie.
pub(super) async fn access_token(
    State(inner): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("XSRF-TOKEN=").map(str::to_owned));
    let sent = headers
        .get("X-XSRF-TOKEN")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let csrf_ok =
        matches!((&cookie, &sent), (Some(c), Some(h)) if c == h && lock(&inner).xsrf.contains(c));
    if !csrf_ok {
        let token = new_id();
        lock(&inner).xsrf.insert(token.clone());
        let mut response = spring_error(StatusCode::FORBIDDEN, "/v1/accesstoken");
        if let Ok(v) = header::HeaderValue::from_str(&format!("XSRF-TOKEN={token}; Path=/")) {
            response.headers_mut().insert(header::SET_COOKIE, v);
        }
        return response;
    }
    let login_failed = || {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"code": 70017, "message": "Login failed."})),
        )
            .into_response()
    };
    let Ok(req) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"code": 70001, "message": "Parameter is illegal."})),
        )
            .into_response();
    };
    let (flag, password) = (
        req["userFlag"].as_str().unwrap_or_default(),
        req["password"].as_str().unwrap_or_default(),
    );
    let user = {
        let state = lock(&inner);
        state
            .accounts
            .iter()
            .find(|a| a.user.user_name == flag && a.password == password)
            .map(|a| a.user.clone())
    };
    match user {
        Some(u) => {
            let token = issue(&inner.key, &u, now_secs(&inner));
            axum::Json(json!({"accessToken": token})).into_response()
        }
        None => login_failed(),
    }
}
