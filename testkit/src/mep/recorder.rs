//! Recorded requests, request matchers, expectations, and fault injection on routes.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode};
use mec_core::server::ApiError;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// One request the mock received, with the status it answered.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
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
    path_pattern: Option<String>,
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

    /// Only requests whose whole path matches `pattern`, where `*` stands for any run of characters, `/`
    /// included (e.g. `/mep/mec_service_mgmt/v1/applications/*/services`).
    pub fn path_matches(mut self, pattern: impl Into<String>) -> Self {
        self.path_pattern = Some(pattern.into());
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
                .path_pattern
                .as_ref()
                .is_none_or(|p| glob_matches(p, path))
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
        if let Some(p) = &self.path_pattern {
            write!(f, " on a path matching {p:?}")?;
        }
        if let Some(a) = &self.app_instance_id {
            write!(f, " for app instance {a}")?;
        }
        Ok(())
    }
}

/// Whether `text` matches `pattern` as a whole, `*` standing for any run of characters (iterative, with one
/// backtracking point: linear in practice, never exponential).
fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
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

/// Which answers an expectation counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answered {
    /// Any 2xx answer (the default: a request the mock refused did not do what was expected).
    Successfully,
    /// This status only.
    With(StatusCode),
    /// Any answer.
    AnyStatus,
}

impl Answered {
    fn accepts(self, status: u16) -> bool {
        match self {
            Self::Successfully => (200..300).contains(&status),
            Self::With(s) => s.as_u16() == status,
            Self::AnyStatus => true,
        }
    }
}

impl fmt::Display for Answered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Successfully => f.write_str("answered 2xx"),
            Self::With(s) => write!(f, "answered {}", s.as_u16()),
            Self::AnyStatus => f.write_str("answered with any status"),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Expectation {
    pub(crate) name: String,
    pub(crate) matcher: RequestMatcher,
    pub(crate) times: Times,
    pub(crate) answered: Answered,
    /// Matching requests seen so far (counted as they come, so the bounded log can forget them).
    pub(crate) seen: usize,
}

/// An expectation and how far it is met.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExpectationStatus {
    /// Its name.
    pub name: String,
    /// The requests it counts, in words.
    pub matches: String,
    /// How many it wants.
    pub times: Times,
    /// Which answers count.
    pub answered: Answered,
    /// Matching requests counted so far.
    pub seen: usize,
    /// Whether `seen` is what it wants.
    pub met: bool,
}

/// An unmet expectation, with what was received instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{report}")]
#[non_exhaustive]
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

/// A fault injected on routes, as listed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FaultStatus {
    /// The requests it applies to, in words.
    pub matches: String,
    /// The fault.
    pub fault: Fault,
    /// Requests it still applies to (`None`: every one).
    pub remaining: Option<usize>,
}

#[derive(Debug)]
struct Inner {
    /// The last requests, their bodies kept as the bytes received (decoded when read: a decoded JSON value
    /// takes several times the memory).
    requests: VecDeque<(RecordedRequest, Option<axum::body::Bytes>)>,
    /// Requests received in all, the forgotten included.
    received: u64,
    limit: usize,
    /// The largest body read before the request is served (a larger one is answered 413).
    body_limit: usize,
    expectations: Vec<Expectation>,
    faults: Vec<RouteFault>,
}

/// The shared recorder: the last requests (a bounded log), expectations, route faults; each request recorded is
/// also told to live listeners (the dashboard), numbered from 1 in the order received.
#[derive(Clone, Debug)]
pub(crate) struct Recorder(
    Arc<Mutex<Inner>>,
    tokio::sync::broadcast::Sender<(u64, RecordedRequest)>,
);

/// Requests a slow live listener may fall behind by before it misses some (it is told how many).
const LIVE_BACKLOG: usize = 256;

/// Requests kept by default.
pub(crate) const DEFAULT_RECORD_LIMIT: usize = 1_000;

impl Default for Recorder {
    fn default() -> Self {
        Self::new(DEFAULT_RECORD_LIMIT)
    }
}

impl Recorder {
    pub(crate) fn new(limit: usize) -> Self {
        Self(
            Arc::new(Mutex::new(Inner {
                requests: VecDeque::new(),
                received: 0,
                limit: limit.max(1),
                body_limit: mec_mp1::server::DEFAULT_BODY_LIMIT,
                expectations: Vec::new(),
                faults: Vec::new(),
            })),
            tokio::sync::broadcast::channel(LIVE_BACKLOG).0,
        )
    }

    /// Live requests, with their numbers, as they are recorded.
    pub(crate) fn live(&self) -> tokio::sync::broadcast::Receiver<(u64, RecordedRequest)> {
        self.1.subscribe()
    }

    /// Forgets everything: requests (and their count), expectations, route faults.
    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        inner.requests.clear();
        inner.received = 0;
        inner.expectations.clear();
        inner.faults.clear();
    }

    /// The last requests with their numbers (from 1, in the order received).
    pub(crate) fn numbered(&self) -> Vec<(u64, RecordedRequest)> {
        let inner = self.lock();
        let first = inner.received - inner.requests.len() as u64 + 1;
        inner
            .requests
            .iter()
            .zip(first..)
            .map(|((r, body), n)| {
                (
                    n,
                    RecordedRequest {
                        body: body.as_ref().and_then(|b| serde_json::from_slice(b).ok()),
                        ..r.clone()
                    },
                )
            })
            .collect()
    }

    /// Every expectation and how far it is met.
    pub(crate) fn expectations(&self) -> Vec<ExpectationStatus> {
        self.lock()
            .expectations
            .iter()
            .map(|e| ExpectationStatus {
                name: e.name.clone(),
                matches: e.matcher.to_string(),
                times: e.times,
                answered: e.answered,
                seen: e.seen,
                met: e.times.accepts(e.seen),
            })
            .collect()
    }

    pub(crate) fn clear_expectations(&self) {
        self.lock().expectations.clear();
    }

    /// The route faults in force.
    pub(crate) fn faults(&self) -> Vec<FaultStatus> {
        self.lock()
            .faults
            .iter()
            .map(|f| FaultStatus {
                matches: f.matcher.to_string(),
                fault: f.fault.clone(),
                remaining: f.remaining,
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.lock()
            .requests
            .iter()
            .map(|(r, body)| RecordedRequest {
                body: body.as_ref().and_then(|b| serde_json::from_slice(b).ok()),
                ..r.clone()
            })
            .collect()
    }

    /// Requests received in all, including those the bounded log no longer holds.
    pub(crate) fn received(&self) -> u64 {
        self.lock().received
    }

    pub(crate) fn clear(&self) {
        self.lock().requests.clear();
    }

    /// Adds an expectation; the requests still in the log count towards it.
    pub(crate) fn expect(&self, mut e: Expectation) {
        let mut inner = self.lock();
        e.seen = inner
            .requests
            .iter()
            .filter(|(r, _)| e.matcher.matches(r) && e.answered.accepts(r.status))
            .count();
        inner.expectations.push(e);
    }

    fn push(&self, r: RecordedRequest) {
        self.push_with_body(r, None);
    }

    fn push_with_body(&self, r: RecordedRequest, body: Option<axum::body::Bytes>) {
        let mut inner = self.lock();
        inner.received += 1;
        for e in &mut inner.expectations {
            if e.matcher.matches(&r) && e.answered.accepts(r.status) {
                e.seen += 1;
            }
        }
        while inner.requests.len() >= inner.limit {
            inner.requests.pop_front();
        }
        let number = inner.received;
        if self.1.receiver_count() > 0 {
            let live = RecordedRequest {
                body: body.as_ref().and_then(|b| serde_json::from_slice(b).ok()),
                ..r.clone()
            };
            // Nobody listening is not an error.
            let _ = self.1.send((number, live));
        }
        inner.requests.push_back((r, body));
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
        let failures: Vec<String> = self
            .expectations()
            .into_iter()
            .filter(|e| !e.met)
            .map(|e| {
                format!(
                    "- {}: expected {} request(s) of {}, {}, received {}",
                    e.name, e.times, e.matches, e.answered, e.seen
                )
            })
            .collect();
        let inner = self.lock();
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
            let forgotten = inner.received - inner.requests.len() as u64;
            report.push_str(&format!(
                "The mock received {} request(s){}:\n",
                inner.received,
                if forgotten > 0 {
                    format!(" (the first {forgotten} no longer kept)")
                } else {
                    String::new()
                }
            ));
            for (r, _) in &inner.requests {
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

/// The largest body the recorder keeps (as JSON); larger ones are recorded without their body.
const KEPT_BODY: usize = 16 * 1024;

/// Records each request and its answer, and applies route faults first. Bodies are read up to `body_limit` (a
/// larger one is answered 413 without being kept); a body is kept only when small and when the request was
/// authenticated (a 401 or 403 answer keeps none).
pub(crate) async fn record(
    State(recorder): State<Recorder>,
    request: Request,
    next: Next,
) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let app = app_in_path(&path);
    // Uploads (multipart, or declared larger than a kept body) pass through unread, unrecorded.
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
            .is_some_and(|n| n > KEPT_BODY);
    let (parts, body) = request.into_parts();
    let body_limit = recorder.lock().body_limit;
    let (body, kept) = if passthrough {
        (body, None)
    } else {
        match to_bytes(body, body_limit).await {
            Ok(bytes) => {
                // A copy of its own: the body's bytes may be a slice of the connection's read buffer, which a
                // kept clone would hold whole.
                let kept = (bytes.len() <= KEPT_BODY && !bytes.is_empty())
                    .then(|| axum::body::Bytes::copy_from_slice(&bytes));
                (Body::from(bytes), kept)
            }
            Err(_) => {
                let response = ApiError::payload_too_large(
                    "the request body is larger than the server accepts",
                )
                .into_response();
                recorder.push(RecordedRequest {
                    method,
                    path,
                    query,
                    app_instance_id: app,
                    body: None,
                    status: response.status().as_u16(),
                });
                return response;
            }
        }
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
    let status = response.status().as_u16();
    let recorded = RecordedRequest {
        method,
        path,
        query,
        app_instance_id: app,
        body: None,
        status,
    };
    tracing::info!("{recorded} in {} ms", started.elapsed().as_millis());
    recorder.push_with_body(recorded, kept.filter(|_| status != 401 && status != 403));
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
            answered: Answered::Successfully,
            seen: 0,
        });
        r.push(RecordedRequest {
            method: Method::GET,
            path: "/mec_service_mgmt/v1/services".into(),
            query: Some("ser_name=x".into()),
            app_instance_id: None,
            body: None,
            status: 200,
        });
        let e = r.verify().unwrap_err();
        assert!(e.report.contains("confirm ready: expected exactly 1 request(s) of POST on a path ending with \"/confirm_ready\" for app instance a, answered 2xx, received 0"), "{e}");
        assert!(
            e.report
                .contains("GET /mec_service_mgmt/v1/services?ser_name=x -> 200"),
            "{e}"
        );
    }

    #[test]
    fn expectations_count_answers_they_accept_and_outlive_the_bounded_log() {
        let r = Recorder::new(2);
        r.expect(Expectation {
            name: "ready".into(),
            matcher: RequestMatcher::any().path_ends_with("/confirm_ready"),
            times: Times::Exactly(2),
            answered: Answered::Successfully,
            seen: 0,
        });
        let req = |status| RecordedRequest {
            method: Method::POST,
            path: "/x/confirm_ready".into(),
            query: None,
            app_instance_id: None,
            body: None,
            status,
        };
        r.push(req(503));
        assert!(r.verify().is_err(), "a refused confirmation is not one");
        for _ in 0..2 {
            r.push(req(204));
        }
        r.push(RecordedRequest {
            path: "/other".into(),
            ..req(200)
        });
        assert_eq!(r.requests().len(), 2, "the log keeps the last two");
        assert_eq!(r.received(), 4);
        r.verify().unwrap();
    }

    #[test]
    fn path_patterns_match_whole_paths() {
        let m = RequestMatcher::any().path_matches("/mep/*/applications/*/services");
        let at = |path: &str| m.matches_parts(&Method::GET, path, None);
        assert!(at("/mep/mec_service_mgmt/v1/applications/a1/services"));
        assert!(!at("/mep/mec_service_mgmt/v1/applications/a1/services/s1"));
        assert!(!at("/mec_service_mgmt/v1/applications/a1/services"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a*b*c", "aXbYbZc"));
        assert!(!glob_matches("a*b*c", "aXbYbZ"));
        // No exponential backtracking on hostile patterns.
        let long = "a".repeat(10_000);
        assert!(!glob_matches("*a*a*a*a*a*a*a*a*b", &long));
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
