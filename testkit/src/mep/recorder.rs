//! Recorded requests, request matchers, expectations, and fault injection on routes.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode};
use mec_core::server::ApiError;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// One request the mock received, with the status it answered.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    /// The HTTP method.
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The app instance the request was about (from the path) or made by (from its token).
    pub app_instance_id: Option<String>,
    /// The body as JSON, when it was JSON.
    pub body: Option<serde_json::Value>,
    /// The status the mock answered.
    pub status: u16,
}

impl fmt::Display for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(q) = &self.query {
            write!(f, "?{q}")?;
        }
        write!(f, " -> {}", self.status)?;
        if let Some(app) = &self.app_instance_id {
            write!(f, " (app {app})")?;
        }
        Ok(())
    }
}

/// The app instance id in a path of the form `.../applications/{id}/...` or `.../registrations/{id}`.
pub(crate) fn app_in_path(path: &str) -> Option<String> {
    let mut segments = path.split('/');
    while let Some(s) = segments.next() {
        if s == "applications" || s == "registrations" {
            return segments
                .next()
                .filter(|id| !id.is_empty())
                .map(str::to_owned);
        }
    }
    None
}

/// Which requests an expectation or a fault applies to. All conditions given must hold.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct RequestMatcher {
    method: Option<Method>,
    path_suffix: Option<String>,
    path_contains: Option<String>,
    app_instance_id: Option<String>,
}

impl RequestMatcher {
    /// Matches every request.
    pub fn any() -> Self {
        Self::default()
    }

    /// Only requests with this method.
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// Only requests whose path ends with `suffix` (e.g. `/confirm_ready`).
    pub fn path_ends_with(mut self, suffix: impl Into<String>) -> Self {
        self.path_suffix = Some(suffix.into());
        self
    }

    /// Only requests whose path contains `part` (e.g. `/traffic_rules`).
    pub fn path_contains(mut self, part: impl Into<String>) -> Self {
        self.path_contains = Some(part.into());
        self
    }

    /// Only requests about or by this app instance.
    pub fn app_instance(mut self, id: impl Into<String>) -> Self {
        self.app_instance_id = Some(id.into());
        self
    }

    fn matches_parts(&self, method: &Method, path: &str, app: Option<&str>) -> bool {
        self.method.as_ref().is_none_or(|m| m == method)
            && self
                .path_suffix
                .as_ref()
                .is_none_or(|s| path.ends_with(s.as_str()))
            && self
                .path_contains
                .as_ref()
                .is_none_or(|s| path.contains(s.as_str()))
            && self
                .app_instance_id
                .as_deref()
                .is_none_or(|a| app == Some(a))
    }

    /// Whether a recorded request matches.
    pub fn matches(&self, r: &RecordedRequest) -> bool {
        self.matches_parts(&r.method, &r.path, r.app_instance_id.as_deref())
    }
}

impl fmt::Display for RequestMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = self
            .method
            .as_ref()
            .map_or("any method".to_owned(), ToString::to_string);
        write!(f, "{method}")?;
        if let Some(s) = &self.path_suffix {
            write!(f, " on a path ending with {s:?}")?;
        }
        if let Some(s) = &self.path_contains {
            write!(f, " on a path containing {s:?}")?;
        }
        if let Some(a) = &self.app_instance_id {
            write!(f, " for app instance {a}")?;
        }
        Ok(())
    }
}

/// How many matching requests an expectation wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Times {
    /// Exactly this many.
    Exactly(usize),
    /// This many or more.
    AtLeast(usize),
}

impl Times {
    fn accepts(self, n: usize) -> bool {
        match self {
            Self::Exactly(k) => n == k,
            Self::AtLeast(k) => n >= k,
        }
    }
}

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exactly(k) => write!(f, "exactly {k}"),
            Self::AtLeast(k) => write!(f, "at least {k}"),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Expectation {
    pub(crate) name: String,
    pub(crate) matcher: RequestMatcher,
    pub(crate) times: Times,
}

/// An unmet expectation, with what was received instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{report}")]
pub struct VerificationError {
    /// A readable report: each failed expectation and every request received.
    pub report: String,
}

/// A fault injected on matching routes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Fault {
    /// Answer after this extra delay.
    Latency(Duration),
    /// Answer with this status (as problem+json) instead of serving the request.
    Status(StatusCode),
}

#[derive(Clone, Debug)]
struct RouteFault {
    matcher: RequestMatcher,
    fault: Fault,
    remaining: Option<usize>,
}

#[derive(Debug, Default)]
struct Inner {
    requests: Vec<RecordedRequest>,
    expectations: Vec<Expectation>,
    faults: Vec<RouteFault>,
}

/// The shared recorder: requests, expectations, route faults.
#[derive(Clone, Debug, Default)]
pub(crate) struct Recorder(Arc<Mutex<Inner>>);

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    pub(crate) fn clear(&self) {
        self.lock().requests.clear();
    }

    pub(crate) fn expect(&self, e: Expectation) {
        self.lock().expectations.push(e);
    }

    pub(crate) fn inject(&self, matcher: RequestMatcher, fault: Fault, times: Option<usize>) {
        self.lock().faults.push(RouteFault {
            matcher,
            fault,
            remaining: times,
        });
    }

    pub(crate) fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Checks every expectation; the error lists the failed ones and every request received.
    pub(crate) fn verify(&self) -> Result<(), VerificationError> {
        let inner = self.lock();
        let mut failures = Vec::new();
        for e in &inner.expectations {
            let n = inner
                .requests
                .iter()
                .filter(|r| e.matcher.matches(r))
                .count();
            if !e.times.accepts(n) {
                failures.push(format!(
                    "- {}: expected {} request(s) of {}, received {n}",
                    e.name, e.times, e.matcher
                ));
            }
        }
        if failures.is_empty() {
            return Ok(());
        }
        let mut report = format!(
            "{} expectation(s) of the mock MEP not met:\n{}\n",
            failures.len(),
            failures.join("\n")
        );
        if inner.requests.is_empty() {
            report.push_str("The mock received no request.");
        } else {
            report.push_str(&format!(
                "The mock received {} request(s):\n",
                inner.requests.len()
            ));
            for r in &inner.requests {
                report.push_str(&format!("  {r}\n"));
            }
        }
        Err(VerificationError { report })
    }

    /// The faults that apply to a request (consuming one use of counted faults).
    fn faults_for(&self, method: &Method, path: &str, app: Option<&str>) -> Vec<Fault> {
        let mut inner = self.lock();
        let mut hit = Vec::new();
        for f in &mut inner.faults {
            if f.remaining != Some(0) && f.matcher.matches_parts(method, path, app) {
                if let Some(n) = &mut f.remaining {
                    *n -= 1;
                }
                hit.push(f.fault.clone());
            }
        }
        inner.faults.retain(|f| f.remaining != Some(0));
        hit
    }
}

/// The largest body the recorder keeps as JSON.
const RECORD_LIMIT: usize = 1 << 20;

/// Records each request and its answer, and applies route faults first.
pub(crate) async fn record(
    State(recorder): State<Recorder>,
    request: Request,
    next: Next,
) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let app = app_in_path(&path).or_else(|| {
        request
            .extensions()
            .get::<mec_mp1::server::Caller>()
            .map(|c| c.app_instance_id.clone())
    });
    // Uploads (multipart, or larger than the recorder keeps) pass through unread.
    let passthrough = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/"))
        || request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|n| n > RECORD_LIMIT);
    let (parts, body) = request.into_parts();
    let (body, json) = if passthrough {
        (body, None)
    } else {
        let Ok(bytes) = to_bytes(body, RECORD_LIMIT * 4).await else {
            let response =
                ApiError::payload_too_large("the request body is too large").into_response();
            recorder.lock().requests.push(RecordedRequest {
                method,
                path,
                query,
                app_instance_id: app,
                body: None,
                status: response.status().as_u16(),
            });
            return response;
        };
        let json = (bytes.len() <= RECORD_LIMIT)
            .then(|| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .flatten();
        (Body::from(bytes), json)
    };
    let mut response = None;
    for fault in recorder.faults_for(&method, &path, app.as_deref()) {
        match fault {
            Fault::Latency(d) => tokio::time::sleep(d).await,
            Fault::Status(s) => {
                response = Some(
                    ApiError::new(s, format!("fault injected by the test: {s}"))
                        .with_instance(path.clone())
                        .into_response(),
                );
            }
        }
    }
    let response = match response {
        Some(r) => r,
        None => next.run(Request::from_parts(parts, body)).await,
    };
    let recorded = RecordedRequest {
        method,
        path,
        query,
        app_instance_id: app,
        body: json,
        status: response.status().as_u16(),
    };
    tracing::info!("{recorded} in {} ms", started.elapsed().as_millis());
    recorder.lock().requests.push(recorded);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids_are_read_from_paths() {
        assert_eq!(
            app_in_path("/mep/mec_app_support/v1/applications/a1/confirm_ready").as_deref(),
            Some("a1")
        );
        assert_eq!(
            app_in_path("/mec_app_support/v2/registrations/r9").as_deref(),
            Some("r9")
        );
        assert_eq!(app_in_path("/mec_service_mgmt/v1/services"), None);
    }

    #[test]
    fn verification_lists_what_was_received() {
        let r = Recorder::default();
        r.expect(Expectation {
            name: "confirm ready".into(),
            matcher: RequestMatcher::any()
                .method(Method::POST)
                .path_ends_with("/confirm_ready")
                .app_instance("a"),
            times: Times::Exactly(1),
        });
        r.lock().requests.push(RecordedRequest {
            method: Method::GET,
            path: "/mec_service_mgmt/v1/services".into(),
            query: Some("ser_name=x".into()),
            app_instance_id: None,
            body: None,
            status: 200,
        });
        let e = r.verify().unwrap_err();
        assert!(e.report.contains("confirm ready: expected exactly 1 request(s) of POST on a path ending with \"/confirm_ready\" for app instance a, received 0"), "{e}");
        assert!(
            e.report
                .contains("GET /mec_service_mgmt/v1/services?ser_name=x -> 200"),
            "{e}"
        );
    }

    #[test]
    fn counted_faults_wear_off() {
        let r = Recorder::default();
        r.inject(
            RequestMatcher::any().path_contains("/x"),
            Fault::Status(StatusCode::SERVICE_UNAVAILABLE),
            Some(1),
        );
        assert_eq!(r.faults_for(&Method::GET, "/x", None).len(), 1);
        assert!(r.faults_for(&Method::GET, "/x", None).is_empty());
    }
}
