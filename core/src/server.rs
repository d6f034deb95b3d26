//! Server-side error plumbing for axum: [`ApiError`] renders exactly one `application/problem+json` response,
//! and [`Json`], [`Path`] and [`Query`] turn extractor rejections into 400 problems too.

use crate::problem::{PROBLEM_JSON, ProblemDetails};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::error::Error as StdError;
use std::fmt;

/// An error a handler returns. It renders as one problem+json response; an internal cause is logged with
/// `tracing`, never sent to the client.
///
/// ```
/// use mec_core::server::ApiError;
/// use axum::response::IntoResponse;
///
/// let response = ApiError::not_found("service 42 is not registered").into_response();
/// assert_eq!(response.status(), 404);
/// assert_eq!(response.headers()["content-type"], "application/problem+json");
/// ```
pub struct ApiError(Box<Inner>);

/// Boxed so that `Result<T, ApiError>` stays small.
struct Inner {
    status: StatusCode,
    problem: ProblemDetails,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    cause: Option<Box<dyn StdError + Send + Sync>>,
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.0.status)
            .field("problem", &self.0.problem)
            .field("cause", &self.0.cause.as_ref().map(ToString::to_string))
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.problem, f)
    }
}

impl StdError for ApiError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0
            .cause
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl ApiError {
    /// An error with this status and detail; the title is the status's reason phrase.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        let mut problem = ProblemDetails::new(u32::from(status.as_u16()), detail);
        problem.title = status.canonical_reason().map(str::to_owned);
        Self(Box::new(Inner {
            status,
            problem,
            headers: Vec::new(),
            cause: None,
        }))
    }

    /// An error with a complete problem body; the HTTP status is `status`, whatever `problem.status` says.
    pub fn from_problem(status: StatusCode, problem: ProblemDetails) -> Self {
        Self(Box::new(Inner {
            status,
            problem,
            headers: Vec::new(),
            cause: None,
        }))
    }

    /// 400 Bad Request: the request is malformed or a member is invalid.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 401 Unauthorized: no valid credentials; adds `WWW-Authenticate: Bearer`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    /// 403 Forbidden: the caller may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    /// 404 Not Found.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// 405 Method Not Allowed.
    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, detail)
    }

    /// 409 Conflict: the resource is not in a state that allows this.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// 412 Precondition Failed: `If-Match` does not match the current ETag.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, detail)
    }

    /// 413 Content Too Large: the body exceeds the server's limit.
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, detail)
    }

    /// 415 Unsupported Media Type: the body is not `application/json`.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, detail)
    }

    /// 422 Unprocessable Content: well-formed but semantically wrong.
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }

    /// 429 Too Many Requests.
    pub fn too_many_requests(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, detail)
    }

    /// 500 Internal Server Error. The cause is logged when the response is rendered; the client only sees a
    /// generic detail.
    pub fn internal(cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server failed to process the request",
        );
        e.0.cause = Some(cause.into());
        e
    }

    /// 501 Not Implemented: the server does not offer this operation.
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, detail)
    }

    /// 503 Service Unavailable: a backend the server depends on failed.
    pub fn service_unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, detail)
    }

    /// Sets the problem's `instance` (usually the request path).
    #[must_use]
    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.0.problem.instance = Some(instance.into());
        self
    }

    /// Sets the problem's `title`.
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.0.problem.title = Some(title.into());
        self
    }

    /// Adds a header to the response.
    #[must_use]
    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.0.headers.push((name, value));
        self
    }

    /// Attaches an internal cause that is logged, never sent.
    #[must_use]
    pub fn with_cause(mut self, cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.0.cause = Some(cause.into());
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The problem body that will be sent.
    pub fn problem(&self) -> &ProblemDetails {
        &self.0.problem
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Inner {
            status,
            problem,
            headers: extra,
            cause,
        } = *self.0;
        if let Some(cause) = &cause {
            tracing::error!(status = status.as_u16(), detail = %problem.detail, cause = %cause, "request failed");
        } else if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), detail = %problem.detail, "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), detail = %problem.detail, "request refused");
        }
        let body = serde_json::to_vec(&problem).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (name, value) in extra {
            headers.append(name, value);
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::unsupported_media_type(
                "the request body must be sent as Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::payload_too_large("the request body is larger than the server accepts")
            }
            other => Self::bad_request(format!("invalid request body: {}", other.body_text())),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request(format!("invalid path parameter: {}", rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(format!("invalid query: {}", rejection.body_text()))
    }
}

/// `axum::Json`, with rejections rendered as problem+json ([`ApiError`]) instead of plain text.
///
/// As a response it writes `application/json`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&headers, &bytes).map(Self)
    }
}

/// The raw request body, with a body over the router's limit refused as 413 problem+json.
#[derive(Clone, Debug, Default)]
pub struct RawBody(pub bytes::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match bytes::Bytes::from_request(req, state).await {
            Ok(b) => Ok(Self(b)),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(
                ApiError::payload_too_large("the request body is larger than the server accepts"),
            ),
            Err(r) => Err(ApiError::bad_request(format!(
                "cannot read the request body: {}",
                r.body_text()
            ))),
        }
    }
}

/// Parses a JSON request body. A missing `Content-Type` is taken as JSON (EdgeGallery's clients do not always
/// send one); another media type than JSON is refused with 415; an empty or invalid body with 400, saying where.
/// Member names are matched without regard to case, as Go's `encoding/json` (EdgeGallery's clients) does; an
/// exactly spelled member always wins ([`crate::wire::from_slice_ignoring_case`]).
pub fn parse_json<T: DeserializeOwned>(
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<T, ApiError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or_default().trim();
        if !(essence == "application/json" || essence.ends_with("+json")) {
            return Err(ApiError::unsupported_media_type(format!(
                "the request body must be application/json, not {essence:?}"
            )));
        }
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty; a JSON object is expected",
        ));
    }
    crate::wire::from_slice_ignoring_case(body)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(e) => ApiError::internal(e).into_response(),
        }
    }
}

/// `axum::extract::Path`, with rejections rendered as a 400 problem.
#[derive(Clone, Copy, Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// `axum::extract::Query`, with rejections rendered as a 400 problem.
#[derive(Clone, Copy, Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// A fallback handler for routers: 404 problem+json naming the path.
pub async fn not_found_fallback(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no resource at {}", uri.path()))
        .with_instance(uri.path().to_owned())
}

/// A handler for a known path called with a method it does not serve: 405 problem+json.
pub async fn method_not_allowed_fallback(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> ApiError {
    ApiError::method_not_allowed(format!("{method} is not allowed on {}", uri.path()))
        .with_instance(uri.path().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::routing::post;
    use tower::ServiceExt;

    async fn problem_of(response: Response) -> (StatusCode, String, ProblemDetails) {
        let status = response.status();
        let ct = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, ct, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn every_constructor_renders_its_status_as_problem_json() {
        let cases = [
            (ApiError::bad_request("x"), 400),
            (ApiError::unauthorized("x"), 401),
            (ApiError::forbidden("x"), 403),
            (ApiError::not_found("x"), 404),
            (ApiError::method_not_allowed("x"), 405),
            (ApiError::conflict("x"), 409),
            (ApiError::precondition_failed("x"), 412),
            (ApiError::payload_too_large("x"), 413),
            (ApiError::unsupported_media_type("x"), 415),
            (ApiError::unprocessable("x"), 422),
            (ApiError::too_many_requests("x"), 429),
            (ApiError::not_implemented("x"), 501),
            (ApiError::service_unavailable("x"), 503),
        ];
        for (error, code) in cases {
            let (status, ct, p) = problem_of(error.into_response()).await;
            assert_eq!(status.as_u16(), code);
            assert_eq!(ct, PROBLEM_JSON);
            assert_eq!(p.status, u32::from(code));
            assert_eq!(p.detail, "x");
            assert!(p.title.is_some());
        }
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let e = ApiError::internal(std::io::Error::other("database password is hunter2"));
        assert!(e.source().is_some());
        let (status, _, p) = problem_of(e.into_response()).await;
        assert_eq!(status, 500);
        assert!(!p.detail.contains("hunter2"));
    }

    #[tokio::test]
    async fn unauthorized_asks_for_a_bearer_token() {
        let r = ApiError::unauthorized("no token").into_response();
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Body1 {
        n: u8,
    }

    async fn echo(Json(b): Json<Body1>) -> String {
        b.n.to_string()
    }

    #[tokio::test]
    async fn json_rejections_become_problems() {
        let app = axum::Router::new()
            .route("/", post(echo))
            .layer(axum::extract::DefaultBodyLimit::max(16));
        let send = |ct: Option<&'static str>, body: &'static str| {
            let mut b = Request::builder().method("POST").uri("/");
            if let Some(ct) = ct {
                b = b.header("content-type", ct);
            }
            app.clone().oneshot(b.body(Body::from(body)).unwrap())
        };
        let cases = [
            (Some("application/json"), "{", 400),
            (Some("application/json"), r#"{"n":"x"}"#, 400),
            (Some("application/json"), r#"{"n":300}"#, 400),
            (Some("application/json"), r#"{}"#, 400),
            (Some("text/plain"), r#"{"n":1}"#, 415),
            (Some("application/json"), "", 400),
            (
                Some("application/json"),
                r#"{"n":1,"padding":"0123456789"}"#,
                413,
            ),
        ];
        for (ct, body, code) in cases {
            let (status, content_type, p) = problem_of(send(ct, body).await.unwrap()).await;
            assert_eq!(status.as_u16(), code, "{body}");
            assert_eq!(content_type, PROBLEM_JSON);
            assert!(!p.detail.is_empty());
        }
        for ct in [
            Some("application/json"),
            Some("application/merge-patch+json; charset=utf-8"),
            None,
        ] {
            let ok = send(ct, r#"{"n":7}"#).await.unwrap();
            assert_eq!(ok.status(), 200, "{ct:?}");
        }
    }
}
