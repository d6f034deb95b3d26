//! Start-to-ready of `MockMep::start()` against wiremock's `MockServer::start()`, measured in the same run.
//!
//! `cargo bench -p mec-testkit --bench startup` prints the medians and their ratio. "Ready" means a first request
//! has been answered.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

const ROUNDS: usize = 31;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let mut mock_mep = Vec::new();
        let mut wiremock = Vec::new();
        for round in 0..ROUNDS + 2 {
            let t = Instant::now();
            let mep = mec_testkit::MockMep::start().await;
            let r = http
                .get(format!("{}/health", mep.url()))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
            let d_mep = t.elapsed();
            drop(mep);

            let t = Instant::now();
            let server = wiremock::MockServer::start().await;
            let r = http
                .get(format!("{}/health", server.uri()))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404);
            let d_wm = t.elapsed();
            drop(server);

            if round >= 2 {
                mock_mep.push(d_mep);
                wiremock.push(d_wm);
            }
        }
        let (m, w) = (median(mock_mep), median(wiremock));
        println!("start-to-ready, median of {ROUNDS} starts each");
        println!("  wiremock MockServer::start: {w:?}");
        println!("  mec-testkit MockMep::start: {m:?}");
        println!(
            "  ratio MockMep / wiremock: {:.2}",
            m.as_secs_f64() / w.as_secs_f64()
        );
    });
}
