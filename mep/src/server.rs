//! Serving the engine over HTTP: the routers (Mp1 with MEP-auth, and the management plane with Mm5), and a
//! server that defends itself (header, request and idle time limits, a connection limit, body limits, TLS).

use crate::auth::TokenService;
use crate::engine::Engine;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use mec_core::server::{ApiError, Json};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How the HTTP server defends itself. Every limit is answered with a problem (408, 413, 503), not a silently
/// dropped connection.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpLimits {
    /// Time to receive a request's headers, counted from when the connection is ready for one: it also closes
    /// connections that stay idle (silent new connections and idle kept-alive ones; default 10 s).
    pub header_read_timeout: Duration,
    /// Time to read a request's body and answer it; past it the answer is 408 (default 30 s).
    pub request_timeout: Duration,
    /// Connections served at once; one more gets 503 and is closed (default 512).
    pub max_connections: usize,
    /// The largest request body; a larger one gets 413 (default 256 KiB).
    pub body_limit: usize,
    /// Write HTTP/1 header names in title case (`Content-Type`), for clients that look them up case-sensitively
    /// (default true).
    pub title_case_headers: bool,
    /// Time given to requests in flight at shutdown (default 10 s).
    pub shutdown_grace: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 512,
            body_limit: mec_mp1::server::DEFAULT_BODY_LIMIT,
            title_case_headers: true,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// What the Mp1 router serves and how it authenticates.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Mp1Options {
    /// Require MEP-auth bearer tokens on Mp1 (default true).
    pub require_tokens: bool,
}

impl Default for Mp1Options {
    fn default() -> Self {
        Self {
            require_tokens: true,
        }
    }
}

/// The Mp1 side: both Mp1 APIs under ETSI's layout and EdgeGallery's `/mep` prefix, and MEP-auth's
/// `POST /mep/token`. With [`Mp1Options::require_tokens`], every Mp1 request needs a token of `tokens`, and
/// app-scoped routes serve only the token's app.
pub fn mp1_router(engine: &Engine, tokens: &TokenService, options: &Mp1Options) -> Router {
    let mp1: Router =
        mec_mp1::server::routes::<Engine, Arc<Engine>>().with_state(Arc::new(engine.clone()));
    let mp1 = crate::profile::mp1_layer(engine, mp1);
    let mp1 = if options.require_tokens {
        tokens.protect(mp1)
    } else {
        mp1
    };
    Router::new()
        .merge(mp1.clone())
        .nest("/mep", mp1)
        .merge(tokens.routes())
        .layer(axum::middleware::from_fn_with_state(
            engine.clone(),
            answer_only_in_sync,
        ))
}

/// While the engine's store cannot be reached (a replica cut off from etcd), every request gets 503: what the
/// replica knows may be stale, and writes could not be made anyway.
async fn answer_only_in_sync(State(engine): State<Engine>, req: Request, next: Next) -> Response {
    if engine.in_sync() {
        return next.run(req).await;
    }
    ApiError::new(
        http::StatusCode::SERVICE_UNAVAILABLE,
        "the MEP cannot reach its store; try again shortly",
    )
    .with_header(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    )
    .into_response()
}

/// EdgeGallery's `DELETE /mep/mec_app_support/v1/applications/{appInstanceId}/AppInstanceTermination` for the
/// app itself, on the Mp1 side (EdgeGallery serves it behind its gateway's token check): only the token's app may
/// terminate itself. (The MEP manager calls it on the Mm5 side.)
pub fn app_termination_router(engine: &Engine, tokens: &TokenService) -> Router {
    let route: Router = Router::new()
        .route(
            &mec_mp1::paths::app_instance_termination(&"{app}".into()),
            axum::routing::delete(terminate_self),
        )
        .with_state(engine.clone());
    tokens.protect(crate::profile::mp1_layer(engine, route))
}

async fn terminate_self(
    State(engine): State<Engine>,
    ctx: mec_mp1::server::RequestContext,
    mec_core::server::Path(app): mec_core::server::Path<String>,
) -> Result<http::StatusCode, ApiError> {
    ctx.check_owner(&app)?;
    mec_mm5::server::Mm5::terminate_app_instance(&engine, app).await?;
    Ok(http::StatusCode::OK)
}

/// `GET /health`: `ok` while the server runs (EdgeGallery's probe path).
pub fn health_router() -> Router {
    Router::new().route("/health", get(|| async { "ok" }))
}

/// Who may call the management side.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Mm5Access {
    /// The bearer secret the MEP manager sends (`Authorization: Bearer <secret>`); `None` serves Mm5 without
    /// credentials (EdgeGallery's MEPM sends none: only on a listener nobody else reaches).
    pub bearer_secret: Option<String>,
    /// Apps may also call `AppInstanceTermination` for themselves, with their own token.
    pub tokens: Option<TokenService>,
}

/// The management side: EdgeGallery's Mm5 (`/mepcfg/...`, `AppInstanceTermination`, `service_govern`) and
/// `GET /mep/status` (counters), behind [`Mm5Access`]: the MEP manager's interface.
pub fn management_router(engine: &Engine, access: &Mm5Access) -> Router {
    management_router_with(engine, access, StatusSections::default())
}

/// As [`management_router`], with more sections on `GET /mep/status` (the DNS responder's counters).
pub fn management_router_with(
    engine: &Engine,
    access: &Mm5Access,
    sections: StatusSections,
) -> Router {
    let mm5: Router =
        mec_mm5::server::routes::<Engine, Arc<Engine>>().with_state(Arc::new(engine.clone()));
    let mm5 = crate::profile::management_layer(engine, mm5, access.bearer_secret.is_some());
    let router = mm5
        .layer(axum::middleware::from_fn_with_state(
            engine.clone(),
            answer_only_in_sync,
        ))
        .route(
            "/mep/status",
            get(status).with_state((engine.clone(), sections)),
        );
    if access.bearer_secret.is_none() {
        return router;
    }
    router.layer(axum::middleware::from_fn_with_state(
        access.clone(),
        management_access,
    ))
}

type Section = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

/// Sections of `GET /mep/status` supplied by components beside the engine, each under its own member.
#[derive(Clone, Default)]
pub struct StatusSections(Vec<(&'static str, Section)>);

impl std::fmt::Debug for StatusSections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

impl StatusSections {
    /// Adds the member `name`, whose value `value` gives (called at every request).
    #[must_use]
    pub fn with<T: serde::Serialize>(
        mut self,
        name: &'static str,
        value: impl Fn() -> T + Send + Sync + 'static,
    ) -> Self {
        self.0.push((
            name,
            Arc::new(move || serde_json::to_value(value()).unwrap_or(serde_json::Value::Null)),
        ));
        self
    }
}

async fn management_access(
    State(access): State<Mm5Access>,
    request: Request,
    next: Next,
) -> Response {
    let given = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    if let (Some(given), Some(secret)) = (&given, &access.bearer_secret)
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            given.as_bytes(),
            secret.as_bytes(),
        ))
    {
        return next.run(request).await;
    }
    // An app terminating itself with its own token.
    let path = request.uri().path().to_owned();
    if let (Some(tokens), Some(token)) = (&access.tokens, &given)
        && let Some(app) = path.split('/').nth(5).filter(|app| {
            !app.is_empty() && path == mec_mp1::paths::app_instance_termination(&(*app).into())
        })
        && request.method() == http::Method::DELETE
    {
        let client = request
            .extensions()
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        return match tokens.authenticate(token, client).await {
            Ok(claims) if claims.sub == app => next.run(request).await,
            Ok(_) => ApiError::forbidden("an app may only terminate itself").into_response(),
            Err(e) => e.into_response(),
        };
    }
    ApiError::unauthorized("the MEP manager's credential is missing or wrong").into_response()
}

/// What `GET /mep/status` answers.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    apps: usize,
    services: usize,
    deliveries: crate::engine::DeliveryStats,
    undecodable_records: usize,
    /// Whether this replica runs the sweep and delivers notifications (always, over a store of its own).
    leader: bool,
    /// Whether it can reach its store (false: its other answers are 503).
    in_sync: bool,
    /// How many times it fell behind the store's changes and read it all again.
    store_resyncs: u64,
    #[serde(flatten)]
    sections: serde_json::Map<String, serde_json::Value>,
}

async fn status(State((engine, sections)): State<(Engine, StatusSections)>) -> Json<Status> {
    Json(Status {
        apps: engine.apps().len(),
        services: engine.service_count(),
        deliveries: engine.delivery_stats(),
        undecodable_records: engine.undecodable_records().len(),
        leader: engine.is_leader(),
        in_sync: engine.in_sync(),
        store_resyncs: engine.store_resyncs(),
        sections: sections
            .0
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value()))
            .collect(),
    })
}

/// Adds the limits every router gets: body limit (413), request time limit (408), problem+json fallbacks.
pub fn with_limits(router: Router, limits: &HttpLimits) -> Router {
    let timeout = limits.request_timeout;
    router
        .method_not_allowed_fallback(mec_core::server::method_not_allowed_fallback)
        .fallback(mec_core::server::not_found_fallback)
        .layer(DefaultBodyLimit::max(limits.body_limit))
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| async move {
                match tokio::time::timeout(timeout, next.run(req)).await {
                    Ok(response) => response,
                    Err(_) => ApiError::new(
                        http::StatusCode::REQUEST_TIMEOUT,
                        format!(
                            "the request was not received and answered within {} s",
                            timeout.as_secs()
                        ),
                    )
                    .into_response(),
                }
            },
        ))
}

/// TLS certificate and key files (PEM).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

impl TlsFiles {
    /// The certificate chain in `cert` (leaf first) and its private key in `key`.
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        Self {
            cert: cert.into(),
            key: key.into(),
        }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS files could not be read or do not fit together.
    #[error("TLS: {0}")]
    Tls(String),
}

impl TlsFiles {
    /// A rustls server configuration from the files.
    pub fn load(&self) -> Result<Arc<rustls::ServerConfig>, ServeError> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let shown =
            |p: &Path, e: &dyn std::fmt::Display| ServeError::Tls(format!("{}: {e}", p.display()));
        let certs = CertificateDer::pem_file_iter(&self.cert)
            .map_err(|e| shown(&self.cert, &e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| shown(&self.cert, &e))?;
        if certs.is_empty() {
            return Err(shown(&self.cert, &"no certificate in the file"));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|e| shown(&self.key, &e))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ServeError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| ServeError::Tls(e.to_string()))?;
        Ok(Arc::new(config))
    }
}

/// Binds `addr`.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// The answer to a connection over the limit, written without reading its request.
fn over_capacity() -> Response {
    ApiError::new(
        http::StatusCode::SERVICE_UNAVAILABLE,
        "the server is serving as many connections as it allows; try again shortly",
    )
    .with_header(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    )
    .into_response()
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until `shutdown` completes, then gives requests
/// in flight [`shutdown_grace`](HttpLimits::shutdown_grace) to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let router = with_limits(router, &limits);
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Connections over the limit are answered 503, a bounded number at a time; past that they are closed.
    let refusals = Arc::new(Semaphore::new(64));
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .title_case_headers(limits.title_case_headers)
        .keep_alive(true);
    let http = Arc::new(http);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (permit, answer_busy) = match connections.clone().try_acquire_owned() {
            Ok(p) => (Some(p), false),
            Err(_) => match refusals.clone().try_acquire_owned() {
                Ok(p) => (Some(p), true),
                Err(_) => {
                    tracing::warn!(%peer, "connection closed unanswered: over the connection limit");
                    continue;
                }
            },
        };
        let service = if answer_busy {
            Router::new().fallback(|| async { over_capacity() })
        } else {
            // The peer's address, for the token service (client binding, per-address limits); the scheme, for
            // absolute links.
            let scheme = if tls.is_some() { "https" } else { "http" };
            router
                .clone()
                .layer(axum::Extension(axum::extract::ConnectInfo(peer)))
                .layer(axum::Extension(mec_mp1::server::RequestScheme(scheme)))
        };
        let service = hyper_util::service::TowerToHyperService::new(service.into_service());
        let mut builder = (*http).clone();
        if answer_busy {
            builder.keep_alive(false);
        }
        let tls = tls.clone();
        let watcher = graceful.watcher();
        let header_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                None => {
                    let conn = builder.serve_connection(
                        TokioIo::new(crate::header_case::RespelledHeaders(stream)),
                        service,
                    );
                    let _ = watcher.watch(conn).await;
                }
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(header_timeout, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let conn = builder.serve_connection(
                        TokioIo::new(crate::header_case::RespelledHeaders(stream)),
                        service,
                    );
                    let _ = watcher.watch(conn).await;
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the shutdown grace period were cut");
    }
}
