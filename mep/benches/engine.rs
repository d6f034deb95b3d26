//! The engine measured against baselines doing the same work, in one run (`cargo bench -p mec-mep --bench engine`):
//!
//! 1. discovery of 200 of 10,000 services by category through the `mep` Mp1 router, against a hand-written axum
//!    handler that filters the same `Vec<ServiceInfo>` and serializes the matches (the limit of the work);
//! 2. registrations per second on the file store, against the memory store (same engine, same calls);
//! 3. the memory one registered service takes: on the engine over the memory store, and through MockMep over
//!    HTTP (recorder included).
//!
//! Medians of several rounds; ratios are what matter (the machine varies).

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::RawQuery;
use axum::routing::get;
use http::Request;
use mec_mep::store::{MemoryStore, Store};
use mec_mep::{AppInstance, Engine, EngineConfig, Seed};
use mec_mp1::model::{
    CategoryRef, EndPointInfo, SerializerType, ServiceInfo, ServiceState, TransportInfo,
    TransportType,
};
use mec_mp1::server::{RequestContext, ServiceFilter, ServiceManagement};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const SERVICES: usize = 10_000;
const CATEGORIES: usize = 50;
const APPS: usize = 40;
const ROUNDS: usize = 9;
const REQUESTS_PER_ROUND: usize = 50;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn service(i: usize) -> ServiceInfo {
    let mut s = ServiceInfo::new(
        format!("svc{i}"),
        "1.0".to_owned(),
        ServiceState::Active,
        SerializerType::Json,
    );
    s.ser_category = Some(CategoryRef::new(
        "/catalogue".to_owned(),
        format!("cat{}", i % CATEGORIES),
        format!("category {}", i % CATEGORIES),
        "v1".to_owned(),
    ));
    s.transport_info = Some(TransportInfo::new(
        format!("t{i}"),
        "REST".to_owned(),
        TransportType::RestHttp,
        "HTTP".to_owned(),
        "2.0".to_owned(),
        EndPointInfo::Uris(vec![format!(
            "http://10.0.{}.{}:8080/svc{i}",
            i / 250,
            i % 250
        )]),
    ));
    s
}

fn app(i: usize) -> String {
    format!("app-{i}")
}

async fn engine_on(store: Arc<dyn Store>) -> Engine {
    let engine = Engine::open_shared(store, mec_core::system_clock(), EngineConfig::default())
        .await
        .unwrap();
    let mut seed = Seed::new().with_apps((0..APPS).map(|i| AppInstance::new(app(i))));
    seed.apply(&engine).await.unwrap();
    engine
}

async fn register_all(engine: &Engine, count: usize) -> Duration {
    let start = Instant::now();
    for i in 0..count {
        engine
            .register_service(RequestContext::default(), app(i % APPS), service(i))
            .await
            .unwrap();
    }
    start.elapsed()
}

/// The median time per request over several rounds, and the last answer.
async fn median_per_request(app: &Router, uri: &str) -> (Duration, Vec<serde_json::Value>) {
    let mut rounds = Vec::new();
    let mut last = axum::body::Bytes::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..REQUESTS_PER_ROUND {
            let response = app
                .clone()
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            // The body is read (its bytes are the work measured); it is parsed once, after the rounds.
            last = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        }
        rounds.push(start.elapsed() / u32::try_from(REQUESTS_PER_ROUND).unwrap());
    }
    rounds.sort();
    (rounds[ROUNDS / 2], serde_json::from_slice(&last).unwrap())
}

async fn discovery() {
    let engine = engine_on(Arc::new(MemoryStore::new())).await;
    register_all(&engine, SERVICES).await;
    let router = mec_mp1::server::router(engine.clone());
    // The baseline: the same services in a Vec, as the router serves them (links included, so that both answers
    // are the same bytes), filtered by the same parsed filter and serialized.
    let services: Vec<ServiceInfo> = {
        let response = router
            .clone()
            .oneshot(
                Request::get("/mec_service_mgmt/v1/services")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        serde_json::from_slice(&to_bytes(response.into_body(), usize::MAX).await.unwrap()).unwrap()
    };
    assert_eq!(services.len(), SERVICES);
    let shared = Arc::new(services);
    let baseline = Router::new().route(
        "/mec_service_mgmt/v1/services",
        get(move |RawQuery(q): RawQuery| {
            let services = shared.clone();
            async move {
                let filter = ServiceFilter::parse(q.as_deref()).unwrap();
                let matches: Vec<&ServiceInfo> =
                    services.iter().filter(|s| filter.matches(s)).collect();
                (
                    [(http::header::CONTENT_TYPE, "application/json")],
                    serde_json::to_vec(&matches).unwrap(),
                )
            }
        }),
    );
    let uri = "/mec_service_mgmt/v1/services?ser_category_id=cat7";
    let (ours, ours_body) = median_per_request(&router, uri).await;
    let (base, base_body) = median_per_request(&baseline, uri).await;
    // The same work: the same services, the same representation.
    let sorted = |body: Vec<serde_json::Value>| {
        let mut v: Vec<String> = body.iter().map(ToString::to_string).collect();
        v.sort();
        v
    };
    let n = ours_body.len();
    assert_eq!(n, SERVICES / CATEGORIES);
    assert_eq!(sorted(ours_body), sorted(base_body));
    println!(
        "discovery of {n} of {SERVICES} services by category: mep router {ours:?}, hand-written handler {base:?}, ratio {:.2}",
        ours.as_secs_f64() / base.as_secs_f64()
    );
}

async fn registration_throughput() {
    const N: usize = 2_000;
    let memory = engine_on(Arc::new(MemoryStore::new())).await;
    let mem = register_all(&memory, N).await;
    let dir = std::env::temp_dir().join(format!("mep-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = engine_on(Arc::new(
        mec_mep::store::FileStore::open(dir.join("b.redb")).unwrap(),
    ))
    .await;
    let disk = register_all(&file, N).await;
    let rate = |d: Duration| N as f64 / d.as_secs_f64();
    println!(
        "registrations: file store {:.0}/s, memory store {:.0}/s, ratio {:.2} (file/memory time)",
        rate(disk),
        rate(mem),
        disk.as_secs_f64() / mem.as_secs_f64()
    );
    drop(file);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The growth of this process's resident memory per registered service, each measure in a fresh process so
/// that memory freed by an earlier measure does not hide the growth.
async fn memory_per_service(which: &str) {
    if which == "engine" {
        let engine = engine_on(Arc::new(MemoryStore::new())).await;
        register_all(&engine, 200).await; // warm the allocator and the indexes
        let before = rss_kib();
        register_all(&engine, SERVICES).await;
        let after = rss_kib();
        println!(
            "memory per registered service, engine on the memory store: {:.2} KiB (cache resyncs: {})",
            (after.saturating_sub(before)) as f64 / SERVICES as f64,
            engine.store_resyncs()
        );
        return;
    }
    let mut builder = mec_testkit::MockMep::builder()
        .without_auth()
        .system_clock();
    for i in 0..APPS {
        builder = builder.app(AppInstance::new(app(i)));
    }
    let mep = builder.start().await.unwrap();
    let client = reqwest::Client::new();
    let post = |i: usize| {
        client
            .post(format!(
                "{}/mec_service_mgmt/v1/applications/{}/services",
                mep.url(),
                app(i % APPS)
            ))
            .json(&service(i))
            .send()
    };
    for i in 0..200 {
        post(i).await.unwrap();
    }
    let before = rss_kib();
    for i in 200..200 + SERVICES {
        assert_eq!(post(i).await.unwrap().status(), 201);
    }
    let after = rss_kib();
    println!(
        "memory per registered service, MockMep over HTTP (recorder included): {:.2} KiB",
        (after.saturating_sub(before)) as f64 / SERVICES as f64
    );
}

fn measure_in_a_fresh_process(which: &str) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--memory", which])
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Some(i) = args.iter().position(|a| a == "--memory") {
        let which = args.get(i + 1).cloned().unwrap_or_default();
        rt.block_on(memory_per_service(&which));
        return;
    }
    rt.block_on(async {
        discovery().await;
        registration_throughput().await;
    });
    measure_in_a_fresh_process("engine");
    measure_in_a_fresh_process("mock");
}
