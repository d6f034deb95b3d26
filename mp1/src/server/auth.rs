//! Bearer-token authentication in front of the Mp1 routers: a [`TokenValidator`] decides who calls.

use super::context::Caller;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use mec_core::server::ApiError;
use std::sync::Arc;

/// Checks a bearer token and tells whose it is.
///
/// The mock MEP validates the JWTs it issues; a vendor plugs in its own scheme.
#[async_trait::async_trait]
pub trait TokenValidator: Send + Sync + 'static {
    /// The app instance the token was issued to, or an error (usually 401) when it is not valid.
    async fn validate(&self, token: &str) -> Result<Caller, ApiError>;
}

/// Puts a bearer token check in front of a router: requests without a valid `Authorization: Bearer` token get
/// 401 problem+json; accepted requests carry the [`Caller`], which the Mp1 routers compare with the path's
/// `appInstanceId` (403 when they differ).
pub fn require_bearer<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    validator: Arc<dyn TokenValidator>,
) -> Router<S> {
    router.layer(middleware::from_fn_with_state(validator, check_bearer))
}

async fn check_bearer(
    State(validator): State<Arc<dyn TokenValidator>>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        });
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return ApiError::unauthorized(
            "a bearer token is required (Authorization: Bearer <token>)",
        )
        .into_response();
    };
    match validator.validate(&token).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}
