//! The control API (`/_mock/...`) and the dashboard (`/_mock/ui`): thin handlers over [`Shared`]'s operations.
//!
//! The routes sit outside the Mp1 and Mm5 paths and their token checks, and outside the recorder (a test's
//! control calls are neither recorded nor counted by expectations). Bodies are JSON; a `POST` or `PUT` must say
//! `Content-Type: application/json` (an empty body stands for `{}`), which a web page of another origin cannot
//! send without the browser asking first (and this API answers no such question), so a page the tester visits
//! cannot reset or drive the mock behind their back. Errors are problem+json.

use super::{
    MAX_ADVANCE, RequestView, Shared, delivery_view, epoch_seconds, expectation_view, fault_view,
};
use crate::mep::{Answered, AppInstance, Fault, RequestMatcher, Seed, Times};
use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use futures_util::Stream;
use http::{HeaderValue, Method, StatusCode, header};
use mec_core::ProblemDetails;
use mec_core::server::{ApiError, Json, Path, Query, RawBody, parse_json};
use mec_mm5::model::AppDConfig;
use mec_mp1::model::ServiceState;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The prefix of every control route.
pub(crate) const PREFIX: &str = "/_mock";

type St = State<Arc<Shared>>;

/// The control routes and the dashboard, over the mock's shared state.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let hosts = shared.control_hosts.clone();
    Router::new()
        .route("/_mock", get(index))
        .route("/_mock/reset", post(reset))
        .route("/_mock/seed", get(get_seed).put(put_seed))
        .route("/_mock/state", get(state))
        .route("/_mock/requests", get(requests).delete(clear_requests))
        .route(
            "/_mock/expectations",
            get(expectations)
                .post(add_expectation)
                .delete(clear_expectations),
        )
        .route("/_mock/expectations/verify", get(verify))
        .route(
            "/_mock/faults",
            get(faults).post(add_fault).delete(clear_faults),
        )
        .route(
            "/_mock/faults/notifications",
            get(notification_faults).put(set_notification_faults),
        )
        .route("/_mock/clock", get(clock))
        .route("/_mock/clock/advance", post(advance))
        .route("/_mock/apps", post(add_app))
        .route("/_mock/apps/{app}/terminate", post(terminate))
        .route("/_mock/apps/{app}/config", put(configure))
        .route("/_mock/services/{service}/state", put(set_service_state))
        .route("/_mock/tokens/expire", post(expire_tokens))
        .route("/_mock/notifications", get(notifications))
        .route("/_mock/events", get(events))
        .route("/_mock/ui", get(ui_page))
        .route("/_mock/ui/app.js", get(ui_script))
        .route("/_mock/ui/style.css", get(ui_style))
        // Unknown control paths are answered here, not by the Mp1 fallback (which would record them).
        .route("/_mock/{*rest}", axum::routing::any(unknown))
        .method_not_allowed_fallback(mec_core::server::method_not_allowed_fallback)
        .layer(axum::middleware::from_fn(
            move |req: Request, next: axum::middleware::Next| {
                let allowed = host_allowed(req.headers(), &hosts);
                async move {
                    match allowed {
                        Ok(()) => next.run(req).await,
                        Err(e) => e.into_response(),
                    }
                }
            },
        ))
        .with_state(shared)
}

/// Whether a control call names the mock in a way a web page's DNS cannot fake: by an IP address, as
/// `localhost`, or as a name allowed with `--control-host` (a page whose name was rebound to 127.0.0.1 sends its
/// own name, and is refused).
fn host_allowed(headers: &http::HeaderMap, allowed: &[String]) -> Result<(), ApiError> {
    let Some(host) = headers.get(header::HOST) else {
        return Ok(());
    };
    let host = host
        .to_str()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let name = if host.starts_with('[') {
        return Ok(());
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host.as_str(),
        }
    };
    let ok = name.parse::<std::net::IpAddr>().is_ok()
        || name == "localhost"
        || name.ends_with(".localhost")
        || allowed.iter().any(|a| a.eq_ignore_ascii_case(name));
    if ok {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "control calls must reach the mock by IP address or as localhost, not as {name:?} (a defence \
             against DNS rebinding); allow this name with --control-host {name} \
             (MockMepBuilder::control_host)"
        )))
    }
}

/// A JSON body that must be declared as JSON; an empty one reads as `{}`.
struct Body<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let declared_json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|v| v == "application/json");
        if !declared_json {
            return Err(ApiError::unsupported_media_type(
                "control requests must be sent with Content-Type: application/json (an empty body is {})",
            ));
        }
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return parse_json(&headers, b"{}").map(Self);
        }
        parse_json(&headers, &bytes).map(Self)
    }
}

/// An empty body, checked as [`Body`] is (for operations that take none).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Nothing {}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

async fn index() -> Json<Value> {
    Json(json!({
        "dashboard": "/_mock/ui",
        "routes": [
            "POST /_mock/reset", "GET|PUT /_mock/seed", "GET /_mock/state",
            "GET|DELETE /_mock/requests", "GET|POST|DELETE /_mock/expectations", "GET /_mock/expectations/verify",
            "GET|POST|DELETE /_mock/faults", "GET|PUT /_mock/faults/notifications",
            "GET /_mock/clock", "POST /_mock/clock/advance", "POST /_mock/apps",
            "POST /_mock/apps/{appInstanceId}/terminate", "PUT /_mock/apps/{appInstanceId}/config",
            "PUT /_mock/services/{serInstanceId}/state", "POST /_mock/tokens/expire",
            "GET /_mock/notifications", "GET /_mock/events"
        ]
    }))
}

async fn unknown(method: Method, uri: http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no control route {method} {}; GET /_mock lists them",
        uri.path()
    ))
    .with_instance(uri.path().to_owned())
}

fn credentials_view(apps: &[(String, mec_core::signature::Credentials)]) -> Value {
    json!({
        "apps": apps.iter().map(|(id, c)| json!({
            "appInstanceId": id, "accessKey": c.access_key(), "secretKey": c.secret_key()
        })).collect::<Vec<_>>()
    })
}

async fn reset(State(s): St, Body(Nothing {}): Body<Nothing>) -> Result<Json<Value>, ApiError> {
    let apps = s.reset().await?;
    Ok(Json(credentials_view(&apps)))
}

async fn get_seed(State(s): St) -> Json<Seed> {
    Json(
        s.seed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone(),
    )
}

async fn put_seed(State(s): St, Body(seed): Body<Seed>) -> Result<Json<Value>, ApiError> {
    let apps = s.load_seed(seed).await?;
    Ok(Json(credentials_view(&apps)))
}

async fn state(State(s): St) -> Json<Value> {
    Json(s.snapshot())
}

/// Which requests: every member given must hold.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MatcherSpec {
    method: Option<String>,
    /// The whole path, `*` standing for any run of characters.
    path: Option<String>,
    path_contains: Option<String>,
    path_ends_with: Option<String>,
    app_instance_id: Option<String>,
}

impl MatcherSpec {
    fn matcher(self) -> Result<RequestMatcher, ApiError> {
        let mut m = RequestMatcher::any();
        if let Some(method) = self.method {
            let method =
                Method::from_bytes(method.to_ascii_uppercase().as_bytes()).map_err(|_| {
                    ApiError::bad_request(format!("method: {method:?} is not an HTTP method"))
                })?;
            m = m.method(method);
        }
        if let Some(p) = self.path {
            m = m.path_matches(p);
        }
        if let Some(p) = self.path_contains {
            m = m.path_contains(p);
        }
        if let Some(p) = self.path_ends_with {
            m = m.path_ends_with(p);
        }
        if let Some(a) = self.app_instance_id {
            m = m.app_instance(a);
        }
        Ok(m)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RequestQuery {
    method: Option<String>,
    path: Option<String>,
    path_contains: Option<String>,
    path_ends_with: Option<String>,
    app_instance_id: Option<String>,
    status: Option<u16>,
}

async fn requests(State(s): St, Query(q): Query<RequestQuery>) -> Result<Json<Value>, ApiError> {
    let status = q.status;
    let matcher = MatcherSpec {
        method: q.method,
        path: q.path,
        path_contains: q.path_contains,
        path_ends_with: q.path_ends_with,
        app_instance_id: q.app_instance_id,
    }
    .matcher()?;
    let kept = s.recorder.numbered();
    let kept_count = kept.len();
    let matching: Vec<RequestView> = kept
        .into_iter()
        .filter(|(_, r)| matcher.matches(r) && status.is_none_or(|st| st == r.status))
        .map(|(n, r)| RequestView::new(n, r))
        .collect();
    Ok(Json(json!({
        "received": s.recorder.received(),
        "kept": kept_count,
        "count": matching.len(),
        "requests": matching,
    })))
}

async fn clear_requests(State(s): St) -> Response {
    s.recorder.clear();
    no_content()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExpectationSpec {
    name: Option<String>,
    method: Option<String>,
    path: Option<String>,
    path_contains: Option<String>,
    path_ends_with: Option<String>,
    app_instance_id: Option<String>,
    times: Option<usize>,
    at_least: Option<usize>,
    /// `"2xx"` (the default), `"any"`, or one status.
    answered: Option<Value>,
}

async fn add_expectation(
    State(s): St,
    Body(e): Body<ExpectationSpec>,
) -> Result<Response, ApiError> {
    let times = match (e.times, e.at_least) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("give times or atLeast, not both"));
        }
        (Some(n), None) => Times::Exactly(n),
        (None, Some(n)) => Times::AtLeast(n),
        (None, None) => Times::AtLeast(1),
    };
    let answered = match &e.answered {
        None => Answered::Successfully,
        Some(Value::String(s)) if s == "2xx" => Answered::Successfully,
        Some(Value::String(s)) if s == "any" => Answered::AnyStatus,
        Some(Value::Number(n)) => {
            let status = n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .and_then(|n| StatusCode::from_u16(n).ok())
                .ok_or_else(|| ApiError::bad_request(format!("answered: {n} is not a status")))?;
            Answered::With(status)
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "answered: {other} is not \"2xx\", \"any\" or a status"
            )));
        }
    };
    let matcher = MatcherSpec {
        method: e.method,
        path: e.path,
        path_contains: e.path_contains,
        path_ends_with: e.path_ends_with,
        app_instance_id: e.app_instance_id,
    }
    .matcher()?;
    let name = e.name.unwrap_or_else(|| matcher.to_string());
    s.expect(name.clone(), matcher, times, answered);
    let added = s
        .expectations()
        .into_iter()
        .rev()
        .find(|x| x.name == name)
        .map(|x| expectation_view(&x))
        .unwrap_or_default();
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

async fn expectations(State(s): St) -> Json<Value> {
    Json(json!(
        s.expectations()
            .iter()
            .map(expectation_view)
            .collect::<Vec<_>>()
    ))
}

async fn clear_expectations(State(s): St) -> Response {
    s.recorder.clear_expectations();
    no_content()
}

/// 200 when every expectation is met; 409 with the unmet ones (member `unmet`) and the full report otherwise.
async fn verify(State(s): St) -> Result<Json<Value>, ApiError> {
    let all = s.expectations();
    let unmet: Vec<Value> = all
        .iter()
        .filter(|e| !e.met)
        .map(expectation_view)
        .collect();
    if unmet.is_empty() {
        return Ok(Json(json!({"met": all.len(), "unmet": []})));
    }
    let report = s
        .recorder
        .verify()
        .err()
        .map_or_else(String::new, |e| e.report);
    let mut problem = ProblemDetails::new(409, report);
    problem.title = Some("Expectations not met".to_owned());
    problem.extra.insert("unmet".to_owned(), json!(unmet));
    Err(ApiError::from_problem(StatusCode::CONFLICT, problem))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultSpec {
    method: Option<String>,
    path: Option<String>,
    path_contains: Option<String>,
    path_ends_with: Option<String>,
    app_instance_id: Option<String>,
    /// Answer with this status instead.
    status: Option<u16>,
    /// Answer this much later.
    latency_ms: Option<u64>,
    /// Apply to the next this many matching requests (absent: to every one).
    times: Option<usize>,
}

/// The longest injected latency (the server's own request time limit cuts longer ones anyway).
const MAX_LATENCY: Duration = Duration::from_secs(60);

async fn add_fault(State(s): St, Body(f): Body<FaultSpec>) -> Result<Response, ApiError> {
    if f.status.is_none() && f.latency_ms.is_none() {
        return Err(ApiError::bad_request("give status, latencyMs, or both"));
    }
    if f.times == Some(0) {
        return Err(ApiError::bad_request(
            "times: must be at least 1 (omit it for every request)",
        ));
    }
    let status = f
        .status
        .map(|n| {
            StatusCode::from_u16(n)
                .ok()
                .filter(|s| s.as_u16() >= 400)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("status: {n} is not an error status (400-599)"))
                })
        })
        .transpose()?;
    let latency = f.latency_ms.map(Duration::from_millis);
    if latency.is_some_and(|l| l > MAX_LATENCY) {
        return Err(ApiError::bad_request(format!(
            "latencyMs: at most {}",
            MAX_LATENCY.as_millis()
        )));
    }
    let matcher = MatcherSpec {
        method: f.method,
        path: f.path,
        path_contains: f.path_contains,
        path_ends_with: f.path_ends_with,
        app_instance_id: f.app_instance_id,
    }
    .matcher()?;
    if let Some(l) = latency {
        s.inject(matcher.clone(), Fault::Latency(l), f.times);
    }
    if let Some(st) = status {
        s.inject(matcher, Fault::Status(st), f.times);
    }
    Ok((StatusCode::CREATED, faults(State(s)).await).into_response())
}

async fn faults(State(s): St) -> Json<Value> {
    Json(json!(s.faults().iter().map(fault_view).collect::<Vec<_>>()))
}

async fn clear_faults(State(s): St) -> Response {
    s.clear_faults();
    no_content()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NotificationFaultSpec {
    drop: Option<bool>,
    delay_ms: Option<u64>,
    fail_next: Option<u32>,
}

async fn notification_faults(State(s): St) -> Json<Value> {
    let (drop, delay, fail_next) = s.faults.state();
    Json(json!({"drop": drop, "delayMs": delay.as_millis(), "failNext": fail_next}))
}

async fn set_notification_faults(
    State(s): St,
    Body(f): Body<NotificationFaultSpec>,
) -> Result<Json<Value>, ApiError> {
    let delay = f.delay_ms.map(Duration::from_millis);
    if delay.is_some_and(|d| d > MAX_LATENCY) {
        return Err(ApiError::bad_request(format!(
            "delayMs: at most {}",
            MAX_LATENCY.as_millis()
        )));
    }
    if let Some(on) = f.drop {
        s.faults.set_drop(on);
    }
    if let Some(d) = delay {
        s.faults.set_delay(d);
    }
    if let Some(n) = f.fail_next {
        s.faults.fail_next(n);
    }
    Ok(notification_faults(State(s)).await)
}

async fn clock(State(s): St) -> Json<Value> {
    let now = s.engine.clock().now();
    Json(json!({"now": epoch_seconds(now), "manual": s.clock.manual().is_some()}))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AdvanceSpec {
    seconds: Option<f64>,
    milliseconds: Option<u64>,
}

/// Moves the clock and runs the background pass at once (overdue services are suspended before the answer).
async fn advance(State(s): St, Body(a): Body<AdvanceSpec>) -> Result<Json<Value>, ApiError> {
    let by = match (a.seconds, a.milliseconds) {
        (Some(secs), None) if secs.is_finite() && secs >= 0.0 => Duration::try_from_secs_f64(secs)
            .map_err(|e| ApiError::bad_request(format!("seconds: {e}")))?,
        (Some(_), None) => {
            return Err(ApiError::bad_request("seconds: must be a number 0 or more"));
        }
        (None, Some(ms)) => Duration::from_millis(ms),
        _ => {
            return Err(ApiError::bad_request(
                "give seconds or milliseconds (one of them)",
            ));
        }
    };
    if by > MAX_ADVANCE {
        return Err(ApiError::bad_request(format!(
            "the clock moves at most {} s at once",
            MAX_ADVANCE.as_secs()
        )));
    }
    let now = s.advance(by, true).await?;
    Ok(Json(
        json!({"now": epoch_seconds(now), "manual": s.clock.manual().is_some()}),
    ))
}

async fn add_app(State(s): St, Body(app): Body<AppInstance>) -> Result<Response, ApiError> {
    let id = app.app_instance_id.clone();
    let creds = s.add_app(app).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"appInstanceId": id, "accessKey": creds.access_key(), "secretKey": creds.secret_key()})),
    )
        .into_response())
}

async fn terminate(
    State(s): St,
    Path(app): Path<String>,
    Body(Nothing {}): Body<Nothing>,
) -> Result<Json<Value>, ApiError> {
    let state = s.terminate(&app).await?;
    Ok(Json(json!({"appInstanceId": app, "state": state})))
}

async fn configure(
    State(s): St,
    Path(app): Path<String>,
    Body(config): Body<AppDConfig>,
) -> Result<Json<Value>, ApiError> {
    let task = s.configure(&app, config).await?;
    Ok(Json(json!(task)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StateSpec {
    state: ServiceState,
}

async fn set_service_state(
    State(s): St,
    Path(service): Path<String>,
    Body(spec): Body<StateSpec>,
) -> Result<Response, ApiError> {
    s.set_service_state(&service, spec.state).await?;
    Ok(no_content())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExpireSpec {
    app_instance_id: Option<String>,
}

async fn expire_tokens(State(s): St, Body(e): Body<ExpireSpec>) -> Result<Response, ApiError> {
    s.expire_tokens(e.app_instance_id.as_deref()).await?;
    Ok(no_content())
}

async fn notifications(State(s): St) -> Json<Value> {
    let list: Vec<Value> = s
        .engine
        .recent_deliveries()
        .iter()
        .map(delivery_view)
        .collect();
    Json(json!({"stats": s.engine.delivery_stats(), "notifications": list}))
}

/// Server-sent events: `request` (each request recorded, as `GET /_mock/requests` lists them), `changed`
/// (the MEP's state changed: read `GET /_mock/state` again), `lagged` (this listener missed some requests).
async fn events(
    State(s): St,
) -> Sse<impl Stream<Item = Result<SseEvent, std::convert::Infallible>>> {
    let live = s.recorder.live();
    let changes = s.engine.subscribe_changes();
    let stream =
        futures_util::stream::unfold((live, changes), |(mut live, mut changes)| async move {
            let event = tokio::select! {
                r = live.recv() => match r {
                    Ok((n, request)) => SseEvent::default()
                        .event("request")
                        .json_data(RequestView::new(n, request))
                        .unwrap_or_else(|_| SseEvent::default().event("lagged").data("0")),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        SseEvent::default().event("lagged").data(missed.to_string())
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                },
                r = changes.changed() => match r {
                    Ok(()) => {
                        let version = *changes.borrow_and_update();
                        SseEvent::default().event("changed").data(version.to_string())
                    }
                    Err(_) => return None,
                },
            };
            Some((Ok(event), (live, changes)))
        });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

// ---- the dashboard: static, embedded, no inline script (the page forbids it) ----

const UI_HTML: &str = include_str!("ui/index.html");
const UI_JS: &str = include_str!("ui/app.js");
const UI_CSS: &str = include_str!("ui/style.css");

/// Nothing from elsewhere, no inline script or style, no framing by other pages.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

async fn ui_page() -> Response {
    asset("text/html; charset=utf-8", UI_HTML)
}

async fn ui_script() -> Response {
    asset("text/javascript; charset=utf-8", UI_JS)
}

async fn ui_style() -> Response {
    asset("text/css; charset=utf-8", UI_CSS)
}
