//! The EdgeGallery profile on the wire: `X-AppinstanceID` as EdgeGallery's gateway enforces it, subscription
//! links as mepserver writes them, and mepauth's `confs` route.

use crate::engine::{AppState, Engine};
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mec_core::server::{ApiError, Json, Path};
use mec_core::signature::Credentials;
use mec_mp1::server::Caller;
use serde::{Deserialize, Serialize};

/// The header EdgeGallery's gateway (Kong's `appid-header` plugin) sets to the token's app instance, and
/// mepserver compares with the path's (`ValidateAppInstanceIdWithHeader`, mepserver `common/util/meputil.go`).
pub const APP_INSTANCE_HEADER: &str = "x-appinstanceid";

/// mepauth's route the MECM provisions an app's AK/SK with (mepauth `routers/router.go`, `controllers/conf.go`).
pub const CONFS_PATH: &str = "/mep/appMng/v1/applications/{app}/confs";

/// mepserver's words for an `X-AppinstanceID` that is not the path's app (status 11 in its problem bodies).
const NOT_YOURS: &str = "UnAuthorization to access the resource";

/// Largest subscription answer rewritten (a subscription is far smaller; a larger body is passed on unchanged).
const MAX_REWRITTEN: usize = 64 * 1024;

/// The app instance of a path mepserver checks `X-AppinstanceID` on: every `.../applications/{id}/...` route
/// except those under `/services` (service, liveness) and `confirm_ready`, `confirm_termination`, `callback`
/// (mepserver `mp1/plans/*.go`; shared/reference/edgegallery-mep.md §1.1).
fn checked_app(path: &str) -> Option<&str> {
    let (_, rest) = path.split_once("/applications/")?;
    let (app, rest) = rest.split_once('/')?;
    let first = rest.split('/').next().unwrap_or_default();
    let checked = !matches!(
        first,
        "services" | "confirm_ready" | "confirm_termination" | "callback"
    );
    (checked && !app.is_empty()).then_some(app)
}

/// Checks `X-AppinstanceID` where EdgeGallery's MEP does: 400 when it is missing, 401 when it names another app
/// instance than the path or than the caller's token.
pub(crate) fn check_app_header(request: &Request) -> Result<(), ApiError> {
    let Some(app) = checked_app(request.uri().path()) else {
        return Ok(());
    };
    let given = request
        .headers()
        .get(APP_INSTANCE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                "X-AppinstanceID: the header is required on this route (EdgeGallery's gateway sets it to the \
                 token's app instance)",
            )
        })?;
    let caller = request.extensions().get::<Caller>();
    if given != app || caller.is_some_and(|c| c.app_instance_id != given) {
        return Err(ApiError::unauthorized(NOT_YOURS));
    }
    Ok(())
}

/// `X-AppinstanceID` on the management side: only `AppInstanceTermination` is checked (the MEPM's Mm5 calls carry
/// no such header).
pub(crate) async fn termination_header(request: Request, next: Next) -> Response {
    if !request.uri().path().ends_with("/AppInstanceTermination") {
        return next.run(request).await;
    }
    app_header(request, next).await
}

async fn app_header(request: Request, next: Next) -> Response {
    match check_app_header(&request) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// A subscription link as mepserver writes it: the path from `/mec_…` on, without origin or `/mep`
/// (`buildResponse`, mepserver `mp1/plans/app_subscribe.go`).
fn edgegallery_link(href: &str) -> Option<String> {
    ["/mec_service_mgmt/", "/mec_app_support/"]
        .iter()
        .filter_map(|root| href.find(root))
        .min()
        .and_then(|i| href.get(i..))
        .map(str::to_owned)
}

async fn subscription_links(request: Request, next: Next) -> Response {
    let creates_subscription =
        request.method() == http::Method::POST && request.uri().path().ends_with("/subscriptions");
    let response = next.run(request).await;
    if !creates_subscription || response.status() != http::StatusCode::CREATED {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    if let Some(location) = parts
        .headers
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(edgegallery_link)
        .and_then(|l| http::HeaderValue::from_str(&l).ok())
    {
        parts.headers.insert(http::header::LOCATION, location);
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_REWRITTEN).await else {
        return ApiError::internal("the subscription answer could not be read").into_response();
    };
    let rewritten = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|mut v| {
            let href = v.pointer_mut("/_links/self/href")?;
            let link = edgegallery_link(href.as_str()?)?;
            *href = serde_json::Value::String(link);
            serde_json::to_vec(&v).ok()
        });
    match rewritten {
        Some(body) => {
            parts.headers.remove(http::header::CONTENT_LENGTH);
            Response::from_parts(parts, axum::body::Body::from(body))
        }
        None => Response::from_parts(parts, axum::body::Body::from(bytes)),
    }
}

/// The EdgeGallery profile's layers on the Mp1 routes: `X-AppinstanceID` checked as EdgeGallery's MEP does, and
/// subscription `Location` and `_links.self.href` written as its paths without `/mep`. Put it inside the token
/// check, so the header is also compared with the token's app.
pub fn edgegallery_mp1_layer(router: Router) -> Router {
    router
        .layer(axum::middleware::from_fn(subscription_links))
        .layer(axum::middleware::from_fn(app_header))
}

/// The body of mepauth's `PUT .../confs` (mepauth `models/authinfo.go`; the MECM's lcmcontroller writes it,
/// mecm-applcm `lcmcontroller/config/appconfig.go`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConfsBody {
    /// The app's credentials.
    pub auth_info: ConfsAuthInfo,
    /// The app's name and the services it needs.
    #[serde(default)]
    pub app_info: ConfsAppInfo,
}

/// `authInfo` of [`ConfsBody`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConfsAuthInfo {
    /// The AK/SK.
    pub credentials: ConfsCredentials,
}

/// `authInfo.credentials` of [`ConfsBody`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConfsCredentials {
    /// The access key: 20 characters of `[A-Za-z0-9_+/=]`.
    pub access_key_id: String,
    /// The secret key: 64 characters of `[A-Za-z0-9_+/=]`. Never written back.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret_key: String,
}

impl std::fmt::Debug for ConfsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

/// `appInfo` of [`ConfsBody`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConfsAppInfo {
    /// The app's name.
    #[serde(default)]
    pub app_name: String,
    /// The services the app needs (kept by EdgeGallery to scope discovery; accepted and not enforced here).
    #[serde(default)]
    pub required_services: Vec<String>,
}

/// mepauth's key alphabet: `[\w+/=]` (mepauth `util/util.go`, `ValidateAk`/`ValidateSk`).
fn key_ok(key: &str, len: usize) -> bool {
    key.len() == len
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'/' | b'='))
}

async fn put_confs(
    State((engine, protected)): State<(Engine, bool)>,
    Path(app): Path<String>,
    Json(body): Json<ConfsBody>,
) -> Result<Json<ConfsBody>, ApiError> {
    if !protected {
        // mepauth relies on the gateway's IP allow list; an AK/SK route anybody can call would hand out
        // every app's identity.
        return Err(ApiError::unauthorized(
            "provisioning credentials needs the MEP manager's credential: configure one (mm5.bearer_secret)",
        ));
    }
    if uuid::Uuid::parse_str(&app).is_err() {
        return Err(ApiError::bad_request(
            "Invalid input for application instance ID",
        ));
    }
    let c = &body.auth_info.credentials;
    // mepauth answers 200 without saving for a malformed AK (an empty `case` in `controllers/conf.go`); it is
    // refused here, never dropped silently.
    if !key_ok(&c.access_key_id, 20) || !key_ok(&c.secret_key, 64) {
        return Err(ApiError::bad_request("Invalid input for ak or sk"));
    }
    let mp1_allowed = engine
        .apps()
        .into_iter()
        .find(|(id, a)| id == &app && a.state != AppState::Terminated)
        .is_none_or(|(_, a)| a.mp1_allowed);
    let credentials = Credentials::new(&c.access_key_id, &c.secret_key);
    engine
        .provision_app(&app, Some(&credentials), mp1_allowed)
        .await?;
    let mut answer = body;
    answer.auth_info.credentials.secret_key.clear();
    Ok(Json(answer))
}

/// mepauth's `PUT /mep/appMng/v1/applications/{appInstanceId}/confs`: provisions an app instance's AK/SK (the
/// app is created if unknown), usable for token requests at once. Answers 200 with the body, without the secret
/// key. `protected` tells whether the router it is merged into checks the MEP manager's credential: without one
/// the route refuses every request (401), it is never open.
pub fn confs_router(engine: &Engine, protected: bool) -> Router {
    Router::new()
        .route(CONFS_PATH, axum::routing::put(put_confs))
        .with_state((engine.clone(), protected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_checked_where_mepserver_checks_it() {
        let app = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";
        for checked in [
            "/mep/mec_service_mgmt/v1/applications/A/subscriptions",
            "/mec_app_support/v1/applications/A/dns_rules/r",
            "/mep/mec_app_support/v1/applications/A/traffic_rules",
            "/mep/mec_app_support/v1/applications/A/AppInstanceTermination",
        ] {
            assert_eq!(
                checked_app(&checked.replace('A', app)),
                Some(app),
                "{checked}"
            );
        }
        for free in [
            "/mep/mec_service_mgmt/v1/applications/A/services",
            "/mep/mec_service_mgmt/v1/applications/A/services/s/liveness",
            "/mep/mec_app_support/v1/applications/A/confirm_ready",
            "/mep/mec_app_support/v1/applications/A/confirm_termination",
            "/mep/mec_service_mgmt/v1/services",
            "/mep/mec_app_support/v1/timing/current_time",
        ] {
            assert_eq!(checked_app(&free.replace('A', app)), None, "{free}");
        }
    }

    #[test]
    fn links_lose_origin_and_prefix() {
        assert_eq!(
            edgegallery_link(
                "http://127.0.0.1:1/mep/mec_service_mgmt/v1/applications/a/subscriptions/s"
            )
            .as_deref(),
            Some("/mec_service_mgmt/v1/applications/a/subscriptions/s")
        );
        assert_eq!(edgegallery_link("/elsewhere"), None);
    }

    #[test]
    fn keys_follow_mepauths_alphabet() {
        assert!(key_ok("QVUJMSUMgS0VZLS0tLS0", 20));
        assert!(!key_ok("QVUJMSUMgS0VZLS0tLS", 20));
        assert!(!key_ok("QVUJMSUMgS0VZLS0tL-0", 20));
    }
}
