//! Load, bounded and on loopback only (ignored by default; `.ci/run` runs them): many clients registering at once,
//! and a thousand subscribers notified, half of them failing twice first.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use mec_mep::config::{ListenerConfig, MepConfig};
use mec_mep::{AppInstance, Seed};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::SocketAddr;

const CLIENTS: usize = 50;
const REGISTRATIONS: usize = 200;
const SUBSCRIBING_APPS: usize = 20;
const SUBSCRIPTIONS_PER_APP: usize = 50;

fn app(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

async fn start(dir: &TempDir) -> (mec_mep::run::RunningMep, String) {
    let seed = Seed::new().with_apps((0..CLIENTS).map(|i| AppInstance::new(app(i))));
    let seed_path = dir.0.join("seed.json");
    std::fs::write(&seed_path, serde_json::to_vec(&seed).unwrap()).unwrap();
    let mut c = MepConfig::default();
    c.mp1 = ListenerConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    c.mm5 = None;
    c.require_tokens = false;
    c.seed = Some(seed_path);
    c.engine.delivery_per_app_concurrency = 16;
    // Receivers here fail on purpose, never by slowness: a generous timeout keeps a busy machine (the debug build,
    // other jobs) from turning a slow answer into a retry, which the receiver would see twice.
    c.engine.delivery_timeout_secs = 120;
    let mep = c.start().await.unwrap();
    let url = format!("http://{}/mep", mep.mp1_addr);
    (mep, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: run by .ci/run with --ignored"]
async fn fifty_clients_register_two_hundred_services_each() {
    let dir = TempDir::new();
    let (mep, url) = start(&dir).await;
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let client = client.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            let mut errors = Vec::new();
            for i in 0..REGISTRATIONS {
                let r = client
                    .post(format!("{url}{SM}/applications/{}/services", app(c)))
                    .json(&service(&format!("s-{c}-{i}"), &format!("cat{}", i % 10)))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                if status == 201 {
                    let v: Value = r.json().await.unwrap();
                    ids.push(v["serInstanceId"].as_str().unwrap().to_owned());
                } else {
                    errors.push(status);
                }
            }
            (ids, errors)
        }));
    }
    let mut all = HashSet::new();
    for t in tasks {
        let (ids, errors) = t.await.unwrap();
        assert_eq!(errors, Vec::<u16>::new(), "no registration may fail");
        for id in ids {
            assert!(all.insert(id), "duplicate id");
        }
    }
    assert_eq!(all.len(), CLIENTS * REGISTRATIONS);
    let listed: Vec<Value> = client
        .get(format!("{url}{SM}/services"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), CLIENTS * REGISTRATIONS);
    let by_category: Vec<Value> = client
        .get(format!("{url}{SM}/services?ser_category_id=cat3"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_category.len(), CLIENTS * REGISTRATIONS / 10);
    mep.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: run by .ci/run with --ignored"]
async fn a_thousand_subscribers_are_all_notified_even_when_half_fail_twice() {
    let dir = TempDir::new();
    let (mep, url) = start(&dir).await;
    let sink = Sink::start().await;
    let client = reqwest::Client::new();
    for a in 0..SUBSCRIBING_APPS {
        for s in 0..SUBSCRIPTIONS_PER_APP {
            let path = format!("cb-{a}-{s}");
            if (a * SUBSCRIPTIONS_PER_APP + s).is_multiple_of(2) {
                sink.fail_first(&path, 2);
            }
            let r = client
                .post(format!("{url}{SM}/applications/{}/subscriptions", app(a)))
                .json(
                    &json!({"subscriptionType": "SerAvailabilityNotificationSubscription",
                              "callbackReference": sink.url(&path)}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
    }
    for i in 0..3 {
        let r = client
            .post(format!(
                "{url}{SM}/applications/{}/services",
                app(CLIENTS - 1)
            ))
            .json(&service(&format!("news-{i}"), "N"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let expected = SUBSCRIBING_APPS * SUBSCRIPTIONS_PER_APP * 3;
    for _ in 0..6000 {
        if sink.total() >= expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(sink.total(), expected, "{:?}", mep.engine.delivery_stats());
    for a in 0..SUBSCRIBING_APPS {
        for s in 0..SUBSCRIPTIONS_PER_APP {
            let got = sink.got(&format!("cb-{a}-{s}"));
            let names: Vec<&str> = got
                .iter()
                .map(|n| n["serviceReferences"][0]["serName"].as_str().unwrap())
                .collect();
            assert_eq!(names, ["news-0", "news-1", "news-2"], "in order, once each");
        }
    }
    // The sink counts a notification before the engine records the answer: wait for the records.
    for _ in 0..1000 {
        if mep.engine.delivery_stats().delivered >= expected as u64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let stats = mep.engine.delivery_stats();
    assert_eq!(
        (stats.delivered, stats.failed, stats.lost),
        (expected as u64, 0, 0),
        "{stats:?}"
    );
    mep.stop().await;
}
