//! The engine on etcd, against baselines doing the same work in the same run.
//!
//! `cargo bench -p mec-mep --bench etcd` needs an etcd: `MEC_TEST_ETCD`, or the `etcd` binary (one is started on a
//! free loopback port). It prints:
//!
//! - **registration throughput**: services registered one after another through the engine (each one etcd
//!   transaction: the app's revision and the service's absence compared, the record written), against putting
//!   the same bytes under the same number of keys with a bare etcd client (the limit of one writer), and with
//!   `etcdctl put` (one process per put, when `etcdctl` is installed);
//! - **discovery latency**: a filtered discovery answered by a replica from the cache its etcd watch keeps
//!   (the services were registered through another replica), against the same engine on the memory store
//!   holding the same services.

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

#[path = "../tests/support/etcd.rs"]
#[allow(dead_code, clippy::panic)]
mod etcd_server;
#[path = "../tests/support/service.rs"]
mod fixture;

use fixture::service;
use mec_mep::store::{EtcdOptions, EtcdStore, MemoryStore};
use mec_mep::{Engine, EngineConfig};
use mec_mp1::server::{RequestContext, ServiceFilter, ServiceManagement};
use std::time::{Duration, Instant};

const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";
/// Registrations timed (after a warm-up).
const REGISTRATIONS: usize = 400;
/// `etcdctl put` processes timed.
const ETCDCTL_PUTS: usize = 60;
/// Services the replicas hold for discovery, spread over this many names.
const SERVICES: usize = 2_000;
const NAMES: usize = 20;
/// Discoveries timed on each engine.
const DISCOVERIES: usize = 3_000;

fn config(prefix: &str) -> EngineConfig {
    let mut c = EngineConfig::default();
    c.prefix = prefix.to_owned();
    c.max_services_per_app = SERVICES * 2;
    c
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn per_second(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

async fn etcd_engine(endpoint: &str, prefix: &str) -> Engine {
    let store = EtcdStore::connect(EtcdOptions::new([endpoint]))
        .await
        .unwrap();
    Engine::open(store, mec_core::system_clock(), config(prefix))
        .await
        .unwrap()
}

async fn register(engine: &Engine, name: &str) -> String {
    engine
        .register_service(
            RequestContext::for_caller(APP),
            APP.to_owned(),
            service(name, None),
        )
        .await
        .unwrap()
        .ser_instance_id
        .unwrap()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let Some(etcd) = etcd_server::Etcd::shared_or_own().await else {
            println!("etcd benchmark skipped: no etcd (see above)");
            return;
        };
        let endpoint = etcd.endpoint();
        Box::pin(registrations(&endpoint)).await;
        Box::pin(discovery(&endpoint)).await;
    });
}

async fn registrations(endpoint: &str) {
    let prefix = format!("bench-{}/", uuid::Uuid::new_v4());
    let engine = etcd_engine(endpoint, &prefix).await;
    engine.provision_app(APP, None, true).await.unwrap();
    for i in 0..20 {
        register(&engine, &format!("warm-{i}")).await;
    }
    let t = Instant::now();
    let mut last = String::new();
    for i in 0..REGISTRATIONS {
        last = register(&engine, &format!("svc-{i}")).await;
    }
    let through_engine = t.elapsed();
    // The bytes the engine wrote for one registration, put as they are by the baselines.
    let value = engine
        .store()
        .get(&format!("{prefix}services/{last}"))
        .await
        .unwrap()
        .unwrap()
        .value;

    let mut client = etcd_client::Client::connect([endpoint], None)
        .await
        .unwrap();
    for i in 0..20 {
        client
            .put(format!("{prefix}raw-warm/{i}"), value.to_vec(), None)
            .await
            .unwrap();
    }
    let t = Instant::now();
    for i in 0..REGISTRATIONS {
        client
            .put(format!("{prefix}raw/{i:032x}"), value.to_vec(), None)
            .await
            .unwrap();
    }
    let bare = t.elapsed();

    println!(
        "registration throughput on etcd, {REGISTRATIONS} one after another ({} bytes each)",
        value.len()
    );
    let engine_rate = per_second(REGISTRATIONS, through_engine);
    let bare_rate = per_second(REGISTRATIONS, bare);
    println!("  etcd-client put of the same bytes: {bare_rate:.0}/s");
    println!("  mec-mep engine registrations:      {engine_rate:.0}/s");
    println!(
        "  ratio engine / bare put:           {:.2}",
        engine_rate / bare_rate
    );

    let text = String::from_utf8_lossy(&value).into_owned();
    let etcdctl = std::process::Command::new("etcdctl")
        .arg("version")
        .env("ETCDCTL_API", "3")
        .output()
        .is_ok_and(|o| o.status.success());
    if etcdctl {
        let t = Instant::now();
        for i in 0..ETCDCTL_PUTS {
            let status = std::process::Command::new("etcdctl")
                .env("ETCDCTL_API", "3")
                .args(["--endpoints", endpoint, "put"])
                .arg(format!("{prefix}etcdctl/{i:032x}"))
                .arg(&text)
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let ctl_rate = per_second(ETCDCTL_PUTS, t.elapsed());
        println!("  etcdctl put of the same bytes:     {ctl_rate:.0}/s (one process per put)");
        println!(
            "  ratio engine / etcdctl put:        {:.2}",
            engine_rate / ctl_rate
        );
    } else {
        println!("  etcdctl put: skipped (no etcdctl; Debian's etcd-client package has it)");
    }
    let _ = client
        .delete(
            prefix.clone(),
            Some(etcd_client::DeleteOptions::new().with_prefix()),
        )
        .await;
}

async fn discovery(endpoint: &str) {
    let prefix = format!("bench-{}/", uuid::Uuid::new_v4());
    let writer = etcd_engine(endpoint, &prefix).await;
    let reader = etcd_engine(endpoint, &prefix).await;
    let memory = Engine::open(MemoryStore::new(), mec_core::system_clock(), config("mep/"))
        .await
        .unwrap();
    for e in [&writer, &memory] {
        e.provision_app(APP, None, true).await.unwrap();
    }
    for i in 0..SERVICES {
        let name = format!("svc-{}", i % NAMES);
        register(&writer, &name).await;
        register(&memory, &name).await;
    }
    // The reader learns of the writer's registrations through its watch.
    let waited = Instant::now();
    while reader.services().len() < SERVICES {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "the watch did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let filter = ServiceFilter::new().ser_name("svc-3");
    let time = async |engine: &Engine| {
        let mut samples = Vec::with_capacity(DISCOVERIES);
        for _ in 0..DISCOVERIES {
            let t = Instant::now();
            let found = engine
                .list_services(RequestContext::for_caller(APP), filter.clone())
                .await
                .unwrap();
            samples.push(t.elapsed());
            assert_eq!(found.len(), SERVICES / NAMES);
        }
        median(samples)
    };
    // Interleaved rounds, so that neither side gets a warmer machine.
    let (mut on_replica, mut on_memory) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        on_replica.push(time(&reader).await);
        on_memory.push(time(&memory).await);
    }
    let (r, m) = (median(on_replica), median(on_memory));
    println!(
        "discovery latency, {SERVICES} services, a filter matching {} (median of {DISCOVERIES} calls x 3)",
        SERVICES / NAMES
    );
    println!("  memory store:                       {m:?}");
    println!("  replica on etcd (watched cache):    {r:?}");
    println!(
        "  ratio replica / memory:             {:.2}",
        r.as_secs_f64() / m.as_secs_f64()
    );
    if let Ok(mut client) = etcd_client::Client::connect([endpoint], None).await {
        let _ = client
            .delete(
                prefix,
                Some(etcd_client::DeleteOptions::new().with_prefix()),
            )
            .await;
    }
}
