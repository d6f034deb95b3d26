//! What the engine tests share: an engine over a given store, served through the real routers, a manual clock,
//! and a notification sink on a real socket.

#![allow(clippy::unwrap_used, clippy::panic, dead_code, unreachable_pub)]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, State};
use axum::routing::post;
use http::{Request, StatusCode};
use mec_core::ManualClock;
use mec_mep::store::{MemoryStore, Store};
use mec_mep::{AppInstance, Engine, EngineConfig, Seed};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

pub const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";
pub const OTHER: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
pub const SM: &str = "/mec_service_mgmt/v1";
pub const AS: &str = "/mec_app_support/v1";

/// A temporary directory removed when dropped.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("mec-mep-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[path = "../support/etcd.rs"]
mod etcd_server;

/// Where a test's engine keeps its state.
#[derive(Clone)]
pub enum Backend {
    /// A memory store; every `open` of one backend gives the same data.
    Memory(MemoryStore),
    File(Arc<TempDir>),
    /// A real etcd, under a prefix of the test's own.
    Etcd(Arc<etcd_server::Etcd>, String),
}

impl Backend {
    pub fn memory() -> Self {
        Self::Memory(MemoryStore::new())
    }

    pub fn file() -> Self {
        Self::File(Arc::new(TempDir::new()))
    }

    /// A real etcd (the shared one `MEC_TEST_ETCD` names, or one started for the test); `None`, with the reason
    /// printed, when there is none.
    pub async fn etcd() -> Option<Self> {
        let etcd = etcd_server::Etcd::shared_or_own().await?;
        Some(Self::Etcd(
            Arc::new(etcd),
            format!("test-{}/", uuid::Uuid::new_v4().simple()),
        ))
    }

    /// The engine's key prefix on this backend.
    pub fn prefix(&self) -> String {
        match self {
            Self::Etcd(_, prefix) => prefix.clone(),
            _ => EngineConfig::default().prefix,
        }
    }

    pub async fn open(&self) -> Arc<dyn Store> {
        match self {
            Self::Memory(store) => Arc::new(store.clone()),
            Self::File(dir) => {
                // A previous engine over the file lets it go when its aborted tasks are dropped: wait for that.
                let path = dir.0.join("mep.redb");
                for _ in 0..500 {
                    match mec_mep::store::FileStore::open(&path) {
                        Ok(store) => return Arc::new(store),
                        Err(e) if e.to_string().contains("already open") => {
                            std::thread::sleep(Duration::from_millis(10));
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                panic!("{} stays open", path.display());
            }
            Self::Etcd(etcd, _) => Arc::new(
                mec_mep::store::EtcdStore::connect(mec_mep::store::EtcdOptions::new([
                    etcd.endpoint()
                ]))
                .await
                .unwrap(),
            ),
        }
    }
}

pub struct Harness {
    pub engine: Engine,
    pub clock: ManualClock,
    pub mp1: Router,
    pub mm5: Router,
}

pub fn test_config() -> EngineConfig {
    let mut config = EngineConfig::default();
    config.delivery.timeout = Duration::from_secs(5);
    config.delivery.initial_backoff = Duration::from_secs(1);
    config.delivery.max_backoff = Duration::from_secs(4);
    config
}

impl Harness {
    pub async fn on(backend: &Backend) -> Self {
        Self::with(backend, ManualClock::starting_now(), test_config()).await
    }

    pub async fn with(backend: &Backend, clock: ManualClock, mut config: EngineConfig) -> Self {
        config.prefix = backend.prefix();
        let engine = Engine::open_shared(backend.open().await, Arc::new(clock.clone()), config)
            .await
            .unwrap();
        let mut seed = Seed::new().with_apps(vec![AppInstance::new(APP), AppInstance::new(OTHER)]);
        seed.apply(&engine).await.unwrap();
        engine.set_public_url("http://mep.test");
        let mp1 = mec_mp1::server::router(engine.clone());
        let mm5 = mec_mm5::server::router(engine.clone());
        Self {
            engine,
            clock,
            mp1,
            mm5,
        }
    }

    pub async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> Answer {
        call_with(&self.mp1, method, uri, body, &[]).await
    }

    pub async fn mm5(&self, method: &str, uri: &str, body: Option<Value>) -> Answer {
        call_with(&self.mm5, method, uri, body, &[]).await
    }

    /// Registers a service for `app`; returns its id.
    pub async fn register(&self, app: &str, body: Value) -> String {
        let r = self
            .call(
                "POST",
                &format!("{SM}/applications/{app}/services"),
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["serInstanceId"].as_str().unwrap().to_owned()
    }

    /// Moves the clock and runs the background pass.
    pub async fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.engine.sweep().await.unwrap();
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Value,
}

pub async fn call_with(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(serde_json::to_vec(&v).unwrap())
        }
        None => Body::empty(),
    };
    let response = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Answer {
        status,
        headers,
        body,
    }
}

pub fn service(name: &str, category: &str) -> Value {
    json!({"serName": name, "version": "1.0", "state": "ACTIVE", "serializer": "JSON",
        "serCategory": {"href": format!("/catalogue/{category}"), "id": category, "name": category, "version": "v1"},
        "transportInfo": {"id": "rest", "name": "REST", "type": "REST_HTTP", "protocol": "HTTP", "version": "2.0",
                          "endpoint": {"uris": [format!("http://10.0.0.9:8080/{name}")]}, "security": {}}})
}

/// A callback server on 127.0.0.1 that records what it receives per path, and fails the first attempts of the
/// paths told to.
#[derive(Clone, Default)]
pub struct Sink {
    pub received: Arc<Mutex<HashMap<String, Vec<Value>>>>,
    pub attempts: Arc<Mutex<HashMap<String, usize>>>,
    /// Path -> how many first attempts answer 503.
    pub failing: Arc<Mutex<HashMap<String, usize>>>,
    pub addr: Arc<Mutex<Option<SocketAddr>>>,
}

impl Sink {
    pub async fn start() -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub async fn start_on(addr: SocketAddr) -> Self {
        let sink = Self::default();
        let app = Router::new()
            .route("/{*path}", post(receive))
            .with_state(sink.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        *sink.addr.lock().unwrap() = Some(listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        sink
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr.lock().unwrap().unwrap())
    }

    pub fn fail_first(&self, path: &str, attempts: usize) {
        self.failing
            .lock()
            .unwrap()
            .insert(path.to_owned(), attempts);
    }

    pub fn count(&self, path: &str) -> usize {
        self.received.lock().unwrap().get(path).map_or(0, Vec::len)
    }

    pub fn total(&self) -> usize {
        self.received.lock().unwrap().values().map(Vec::len).sum()
    }

    pub fn got(&self, path: &str) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .get(path)
            .cloned()
            .unwrap_or_default()
    }
}

async fn receive(State(sink): State<Sink>, Path(path): Path<String>, body: String) -> StatusCode {
    let attempt = {
        let mut a = sink.attempts.lock().unwrap();
        let n = a.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    let failing = sink
        .failing
        .lock()
        .unwrap()
        .get(&path)
        .copied()
        .unwrap_or(0);
    if attempt <= failing {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    sink.received
        .lock()
        .unwrap()
        .entry(path)
        .or_default()
        .push(value);
    StatusCode::NO_CONTENT
}

/// Waits (real time, bounded) until `done` holds; panics with `what` when it never does.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

/// As [`eventually`], moving `clock` forward a little each time, to drive retries waiting on it.
pub async fn eventually_advancing(
    what: &str,
    clock: &ManualClock,
    step: Duration,
    mut done: impl FnMut() -> bool,
) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        clock.advance(step);
    }
    panic!("never happened: {what}");
}
