//! The Mp1 server side: traits a vendor implements over its own storage, and routers that serve them.
//!
//! - [`ServiceManagement`] (`mec_service_mgmt/v1`) and [`AppSupport`] (`mec_app_support/v1`, also served under
//!   `v2` for MEC 011 3.x clients) describe the operations; every method defaults to 501, so implement only what
//!   you offer.
//! - [`router`] serves both over one implementation; [`service_management_router`] and [`app_support_router`]
//!   serve one API; [`routes`] gives the routes over your own state, to merge into a larger router.
//! - Before a method is called, the router checks path ids, query parameters and bodies (every refusal is a
//!   problem+json response, never a panic); after, it adds `_links`, `Location` and `ETag`. `If-Match` on PUT is
//!   checked against the current resource (412 on mismatch).
//! - Mount under a prefix for EdgeGallery's layout: `Router::new().nest("/mep", router(mep))`; links and
//!   `Location` headers follow the prefix.
//! - [`require_bearer`] puts a token check in front; [`NotificationDispatcher`] delivers notifications.
//!
//! ```
//! use mec_mp1::model::{CurrentTime, TimeSourceStatus};
//! use mec_mp1::server::{AppSupport, RequestContext, ServiceManagement};
//! use mec_core::server::ApiError;
//!
//! struct Clockwork;
//!
//! impl ServiceManagement for Clockwork {}
//! impl AppSupport for Clockwork {
//!     async fn current_time(&self, _: RequestContext) -> Result<CurrentTime, ApiError> {
//!         Ok(CurrentTime::new(1_700_000_000, 0, TimeSourceStatus::Nontraceable))
//!     }
//! }
//!
//! let app = axum::Router::new().nest("/mep", mec_mp1::server::router(Clockwork));
//! ```

mod app_support;
mod auth;
mod context;
mod dispatcher;
mod service_mgmt;
mod subscriptions;

/// The discovery filter, now a model type shared with the client.
pub use crate::model::ServiceFilter;
pub use app_support::{AppSupport, app_support_routes};
pub use auth::{TokenValidator, require_bearer};
pub use context::{Caller, PublicUrl, RequestContext, RequestScheme};
pub use dispatcher::{
    DeliveryOutcome, DeliveryReport, DispatcherConfig, NotificationDispatcher, retry_backoff,
};
pub use service_mgmt::{ServiceManagement, service_management_routes, service_representation};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mec_core::server::{ApiError, Json, method_not_allowed_fallback, not_found_fallback};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The largest request body the routers accept by default (bigger bodies get 413).
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// Both Mp1 APIs over one implementation, ready to serve or nest.
pub fn router<S: ServiceManagement + AppSupport>(implementation: S) -> Router {
    finish(routes::<S, Arc<S>>().with_state(Arc::new(implementation)))
}

/// Both Mp1 APIs' routes over a state `T` from which the implementation can be had (`Arc<S>: FromRef<T>`), for
/// merging into a vendor's own stateful router. Add [`DefaultBodyLimit`] and fallbacks as you see fit.
pub fn routes<S, T>() -> Router<T>
where
    S: ServiceManagement + AppSupport,
    Arc<S>: FromRef<T>,
    T: Clone + Send + Sync + 'static,
{
    service_management_routes::<S, T>().merge(app_support_routes::<S, T>())
}

/// The service management API alone.
pub fn service_management_router<S: ServiceManagement>(implementation: S) -> Router {
    finish(service_management_routes::<S, Arc<S>>().with_state(Arc::new(implementation)))
}

/// The application support API alone.
pub fn app_support_router<S: AppSupport>(implementation: S) -> Router {
    finish(app_support_routes::<S, Arc<S>>().with_state(Arc::new(implementation)))
}

fn finish(router: Router) -> Router {
    router
        .method_not_allowed_fallback(method_not_allowed_fallback)
        .fallback(not_found_fallback)
        .layer(DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
}

fn not_implemented<T>(operation: &str) -> std::future::Ready<Result<T, ApiError>> {
    std::future::ready(Err(ApiError::not_implemented(format!(
        "{operation} is not offered by this MEP"
    ))))
}

/// A 201 Created response: the resource as JSON and its `Location`.
#[derive(Debug)]
struct Created<T> {
    location: String,
    resource: T,
}

impl<T> Created<T> {
    fn new(location: String, resource: T) -> Self {
        Self { location, resource }
    }
}

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.resource).into_response();
        if response.status() == StatusCode::OK {
            *response.status_mut() = StatusCode::CREATED;
            match HeaderValue::from_str(&self.location) {
                Ok(v) => {
                    response.headers_mut().insert(header::LOCATION, v);
                }
                Err(e) => return ApiError::internal(e).into_response(),
            }
        }
        response
    }
}

/// Whether a write may go on after reading the resource it names: it exists, or the implementation does not serve
/// reads of it (501: the write itself decides). A resource that does not exist is 404 before the write's body
/// is judged (existence before consistency).
fn exists<T>(read: Result<T, ApiError>) -> Result<(), ApiError> {
    match read {
        Err(e) if e.status() != StatusCode::NOT_IMPLEMENTED => Err(e),
        _ => Ok(()),
    }
}

/// The strong ETag of a resource: the quoted hex SHA-256 of its compact JSON, as EdgeGallery's MEP computes it
/// (`GenerateStrongETag` in mepserver's `common/util/meputil.go`).
pub fn etag_of<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_vec(value)
        .ok()
        .map(|bytes| format!("\"{}\"", hex::encode(Sha256::digest(&bytes))))
}

/// A JSON response with the resource's `ETag`.
fn tagged<T: Serialize>(status: StatusCode, value: &T) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
    let etag = format!("\"{}\"", hex::encode(Sha256::digest(&body)));
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    Ok(response)
}

/// Checks an `If-Match` header value against a resource as the router serves it (its [`etag_of`]): 412 problem
/// when it matches none of the listed tags; `*` matches any existing resource.
///
/// Implementations that check `If-Match` themselves, atomically with their write (see
/// [`ServiceManagement::CHECKS_IF_MATCH`]), call this on the resource they read.
pub fn check_if_match<T: Serialize>(if_match: &str, resource: &T) -> Result<(), ApiError> {
    if if_match.trim() == "*" {
        return Ok(());
    }
    let etag = etag_of(resource).unwrap_or_default();
    let matches = if_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == etag || tag.strip_prefix("W/") == Some(etag.as_str()));
    if matches {
        Ok(())
    } else {
        Err(ApiError::precondition_failed(
            "If-Match does not match the resource's current ETag; read it again and retry",
        ))
    }
}

/// Checks an id taken from the path: 1 to 128 characters, none of them a control character, space or `/`.
/// A malformed id names no resource, so the answer is 404 (every Mp1 operation documents 404, not all 400).
fn check_id(name: &str, value: &str) -> Result<(), ApiError> {
    let well_formed = !value.is_empty()
        && value.len() <= 128
        && !value
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '/');
    if well_formed {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "{name}: no resource has this id (ids are 1 to 128 characters without spaces, controls or '/')"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_matches_edgegallerys_test_vector() {
        // shared/reference/edgegallery-mep.md §7, T6.
        let rule: crate::model::DnsRule = serde_json::from_str(
            r#"{"dnsRuleId":"7d71e54e-81f3-47bb-a2fc-b565a326d794","domainName":"www.example.com","ipAddressType":"IP_V4","ipAddress":"192.0.2.1","ttl":30,"state":"ACTIVE"}"#,
        )
        .unwrap();
        assert_eq!(
            etag_of(&rule).unwrap(),
            "\"a1e5fca52b943ca974f8464fa195583ab326c8f2d6f8f6db70b1fd8a5f6701ac\""
        );
    }

    #[test]
    fn ids_with_separators_or_controls_are_refused() {
        assert!(check_id("x", "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f").is_ok());
        for bad in ["", "a b", "a/b", "a\u{0}", &"a".repeat(129)] {
            assert_eq!(check_id("x", bad).unwrap_err().status(), 404, "{bad:?}");
        }
    }
}
