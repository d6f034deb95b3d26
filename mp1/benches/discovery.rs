//! Discovery through the Mp1 router with 10,000 registered services and a category filter, against a bare axum
//! handler returning the same bytes, measured in the same run; and the memory 10,000 services take.
//!
//! `cargo bench -p mec-mp1 --bench discovery` prints the medians and their ratio.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::routing::get;
use http::Request;
use mec_mp1::model::{
    CategoryRef, EndPointInfo, SecurityInfo, SerializerType, ServiceInfo, ServiceState,
    TransportInfo, TransportType,
};
use mec_mp1::server::{RequestContext, ServiceManagement};
use mec_testkit::{AppInstance, MockMep};
use std::time::{Duration, Instant};
use tower::ServiceExt;

const SERVICES: usize = 10_000;
const APPS: usize = 100;
const ROUNDS: usize = 7;
const REQUESTS_PER_ROUND: usize = 40;

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn service(i: usize) -> ServiceInfo {
    let mut s = ServiceInfo::new(
        format!("svc{i}"),
        "1.0".to_owned(),
        ServiceState::Active,
        SerializerType::Json,
    );
    s.ser_category = Some(CategoryRef {
        href: "catalogue".to_owned(),
        id: format!("cat{}", i % 50),
        name: format!("category {}", i % 50),
        version: "v1".to_owned(),
    });
    s.transport_info = Some(TransportInfo {
        id: format!("t{i}"),
        name: "REST".to_owned(),
        description: None,
        type_: TransportType::RestHttp,
        protocol: "HTTP".to_owned(),
        version: "2.0".to_owned(),
        endpoint: EndPointInfo::Uris(vec![format!(
            "http://10.0.{}.{}:8080/svc{i}",
            i / 250,
            i % 250
        )]),
        security: SecurityInfo::default(),
        impl_specific_info: None,
    });
    s
}

async fn median_of(app: &Router, uri: &str) -> (Duration, usize) {
    let mut rounds = Vec::new();
    let mut size = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..REQUESTS_PER_ROUND {
            let response = app
                .clone()
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            size = to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap()
                .len();
        }
        rounds.push(start.elapsed() / u32::try_from(REQUESTS_PER_ROUND).unwrap());
    }
    rounds.sort();
    (rounds[ROUNDS / 2], size)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let apps: Vec<String> = (0..APPS).map(|i| format!("app-{i}")).collect();
        let mut builder = MockMep::builder();
        for a in &apps {
            builder = builder.app(AppInstance::new(a.clone()));
        }
        let mep = builder.build_in_memory().unwrap();
        let before = rss_kib();
        for i in 0..SERVICES {
            let app = apps[i % APPS].clone();
            mep.register_service(RequestContext::default(), app, service(i)).await.unwrap();
        }
        let after = rss_kib();
        let router = mec_mp1::server::router(mep);
        let uri = "/mec_service_mgmt/v1/services?ser_category_id=cat7";

        // The baseline: a bare axum handler returning the very bytes the router answers.
        let reference = router.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
        let bytes: Bytes = to_bytes(reference.into_body(), usize::MAX).await.unwrap();
        let matches = serde_json::from_slice::<serde_json::Value>(&bytes).unwrap().as_array().unwrap().len();
        let bare = Router::new().route(
            "/mec_service_mgmt/v1/services",
            get(move || {
                let b = bytes.clone();
                async move { ([("content-type", "application/json")], b) }
            }),
        );

        let _ = median_of(&bare, uri).await; // warm-up
        let _ = median_of(&router, uri).await;
        let (bare_t, bare_size) = median_of(&bare, uri).await;
        let (router_t, router_size) = median_of(&router, uri).await;
        assert_eq!(bare_size, router_size);

        println!("discovery of {matches} of {SERVICES} services by category ({router_size} bytes per answer)");
        println!("  bare axum handler, same bytes: {bare_t:?} per request (median of {ROUNDS} rounds)");
        println!("  mec-mp1 router + in-memory MEP: {router_t:?} per request");
        println!("  ratio router / bare: {:.1}", router_t.as_secs_f64() / bare_t.as_secs_f64());
        if let (Some(b), Some(a)) = (before, after) {
            println!("  resident memory for {SERVICES} services: {} KiB ({:.2} KiB per service)", a.saturating_sub(b), a.saturating_sub(b) as f64 / SERVICES as f64);
        }
    });
}
