//! The local API the app calls, with EdgeGallery's paths and answers (mep-agent `src/router/router.go`,
//! `src/controllers/tokencontroller.go`, `src/controllers/endpointcontroller.go`), plus a health route.

use crate::agent::{Shared, error_chain};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mec_core::server::{ApiError, Json};
use mec_mp1::client::ServiceQuery;
use mec_mp1::model::EndPointInfo;
use serde::Serialize;
use std::sync::Arc;

/// The answer of `GET /mep-agent/v1/endpoint/{serName}` when nothing matches (a JSON string, status 400, as
/// EdgeGallery's agent answers).
pub const SERVICE_DOES_NOT_EXIST: &str = "Service does not exist.";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/mep-agent/v1/token", get(token))
        .route("/mep-agent/v1/endpoint/{ser_name}", get(endpoint))
        .route("/mep-agent/v1/health", get(health))
        .method_not_allowed_fallback(mec_core::server::method_not_allowed_fallback)
        .fallback(mec_core::server::not_found_fallback)
        .with_state(shared)
}

/// The token as the app gets it; the members in EdgeGallery's order.
#[derive(Serialize)]
struct TokenAnswer {
    access_token: String,
    token_type: String,
    /// Seconds left from now (EdgeGallery's agent repeats the lifetime the token had when fetched, which
    /// overstates it; OAuth's `expires_in` counts from the answer, RFC 6749 §5.1).
    expires_in: u64,
}

async fn token(State(shared): State<Arc<Shared>>) -> Response {
    let Some(held) = shared.tokens.current() else {
        // EdgeGallery: 412 until the first token has arrived.
        return ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "the first token has not been received from the MEP yet",
        )
        .into_response();
    };
    let Ok(left) = held.expires_at.duration_since(shared.clock.now()) else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the token expired and could not be renewed yet; see /mep-agent/v1/health",
        )
        .into_response();
    };
    let mut response = Json(TokenAnswer {
        access_token: held.access_token,
        token_type: held.token_type,
        expires_in: left.as_secs(),
    })
    .into_response();
    // A token answer is not to be cached (RFC 6749 §5.1).
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// EdgeGallery's endpoint shape: `uris`, `addresses` and `alternative` always present, `null` when unused.
#[derive(Serialize)]
struct EndpointAnswer {
    uris: Option<Vec<String>>,
    addresses: Option<Vec<mec_mp1::model::Address>>,
    alternative: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fqdn: Option<Vec<String>>,
}

impl EndpointAnswer {
    fn of(endpoint: Option<EndPointInfo>) -> Self {
        let mut answer = Self {
            uris: None,
            addresses: None,
            alternative: None,
            fqdn: None,
        };
        match endpoint {
            Some(EndPointInfo::Uris(v)) => answer.uris = Some(v),
            Some(EndPointInfo::Addresses(v)) => answer.addresses = Some(v),
            Some(EndPointInfo::Alternative(v)) => answer.alternative = Some(v),
            Some(EndPointInfo::Fqdn(v)) => answer.fqdn = Some(v),
            // A form this agent does not know yet: the service exists, its endpoint is not readable.
            Some(_) | None => {}
        }
        answer
    }
}

fn does_not_exist() -> Response {
    (StatusCode::BAD_REQUEST, Json(SERVICE_DOES_NOT_EXIST)).into_response()
}

async fn endpoint(State(shared): State<Arc<Shared>>, Path(ser_name): Path<String>) -> Response {
    // EdgeGallery's MEP accepts names of at most 128 characters; a longer one cannot exist.
    if ser_name.is_empty() || ser_name.chars().count() > 128 {
        return does_not_exist();
    }
    match shared
        .client
        .services()
        .list(&ServiceQuery::new().ser_name(ser_name.clone()))
        .await
    {
        Ok(found) => match found.into_iter().next() {
            Some(service) => Json(EndpointAnswer::of(
                service.transport_info.map(|t| t.endpoint),
            ))
            .into_response(),
            None => does_not_exist(),
        },
        Err(e) if e.is_not_found() => does_not_exist(),
        Err(e) => {
            tracing::warn!("discovery of {ser_name} failed: {}", error_chain(&e));
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!(
                    "the MEP could not be asked for {ser_name}: {}",
                    error_chain(&e)
                ),
            )
            .into_response()
        }
    }
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let status = shared.status.borrow().clone();
    let code = if status.is_healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(status)).into_response()
}
