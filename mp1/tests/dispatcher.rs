//! The notification dispatcher against wiremock callbacks: delivery, retries with backoff, no retry on 4xx,
//! timeouts, a full queue, and that dispatching never waits for the network.

#![allow(clippy::unwrap_used)]

use mec_mp1::server::{DeliveryOutcome, DispatcherConfig, NotificationDispatcher};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn config() -> DispatcherConfig {
    DispatcherConfig::new()
        .with_timeout(Duration::from_millis(300))
        .with_backoff(Duration::from_millis(5), Duration::from_millis(20))
}

async fn next_report(
    r: &mut tokio::sync::broadcast::Receiver<mec_mp1::server::DeliveryReport>,
) -> mec_mp1::server::DeliveryReport {
    tokio::time::timeout(Duration::from_secs(10), r.recv())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn delivers_json_to_the_callback() {
    let server = MockServer::start().await;
    let body =
        json!({"notificationType": "AppTerminationNotification", "operationAction": "TERMINATING"});
    Mock::given(method("POST"))
        .and(path("/cb"))
        .and(header("content-type", "application/json"))
        .and(body_json(&body))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let d = NotificationDispatcher::start(config()).unwrap();
    let mut reports = d.reports();
    d.dispatch(&format!("{}/cb", server.uri()), &body).unwrap();
    let r = next_report(&mut reports).await;
    assert_eq!(r.outcome, DeliveryOutcome::Delivered { status: 204 });
    assert_eq!(r.attempts, 1);
}

struct FailTwice(AtomicUsize);

impl Respond for FailTwice {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        match self.0.fetch_add(1, Ordering::SeqCst) {
            0 => ResponseTemplate::new(503),
            1 => ResponseTemplate::new(429),
            _ => ResponseTemplate::new(200),
        }
    }
}

#[tokio::test]
async fn retries_5xx_and_429_with_backoff() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(FailTwice(AtomicUsize::new(0)))
        .expect(3)
        .mount(&server)
        .await;
    let d = NotificationDispatcher::start(config()).unwrap();
    let mut reports = d.reports();
    d.dispatch(&server.uri(), &json!({})).unwrap();
    let r = next_report(&mut reports).await;
    assert_eq!(
        (r.attempts, r.outcome),
        (3, DeliveryOutcome::Delivered { status: 200 })
    );
}

#[tokio::test]
async fn gives_up_after_max_attempts_and_never_retries_a_4xx() {
    let server = MockServer::start().await;
    Mock::given(path("/down"))
        .respond_with(ResponseTemplate::new(500))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(410))
        .expect(1)
        .mount(&server)
        .await;
    let d = NotificationDispatcher::start(config().with_max_attempts(2)).unwrap();
    let mut reports = d.reports();
    d.dispatch(&format!("{}/down", server.uri()), &json!({}))
        .unwrap();
    d.dispatch(&format!("{}/gone", server.uri()), &json!({}))
        .unwrap();
    let mut seen = [
        next_report(&mut reports).await,
        next_report(&mut reports).await,
    ];
    seen.sort_by_key(|r| r.callback.clone());
    assert_eq!(seen[0].attempts, 2);
    assert_eq!(
        seen[0].outcome,
        DeliveryOutcome::Failed {
            reason: "the callback answered 500".into()
        }
    );
    assert_eq!(seen[1].attempts, 1);
    assert_eq!(
        seen[1].outcome,
        DeliveryOutcome::Failed {
            reason: "the callback answered 410".into()
        }
    );
}

#[tokio::test]
async fn a_slow_callback_times_out_and_a_dead_one_fails_to_connect() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let d = NotificationDispatcher::start(config().with_max_attempts(1)).unwrap();
    let mut reports = d.reports();
    d.dispatch(&server.uri(), &json!({})).unwrap();
    assert_eq!(
        next_report(&mut reports).await.outcome,
        DeliveryOutcome::Failed {
            reason: "timed out".into()
        }
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    d.dispatch(&format!("http://{addr}/cb"), &json!({}))
        .unwrap();
    assert_eq!(
        next_report(&mut reports).await.outcome,
        DeliveryOutcome::Failed {
            reason: "connection failed".into()
        }
    );
}

#[tokio::test]
async fn bad_callbacks_and_a_full_queue_are_refused_at_once() {
    let d =
        NotificationDispatcher::start(config().with_queue_capacity(1).with_concurrency(1)).unwrap();
    assert!(
        d.dispatch("not a url", &json!({}))
            .unwrap_err()
            .is_invalid_callback()
    );
    let e = d.dispatch("ftp://x/y", &json!({})).unwrap_err();
    assert!(
        matches!(&e, mec_mp1::Error::InvalidCallback { url, .. } if url == "ftp://x/y"),
        "{e}"
    );
    // A callback that never answers in time keeps the one delivery slot busy; the queue fills up.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let mut refused = false;
    for _ in 0..10 {
        if d.dispatch(&server.uri(), &json!({}))
            .is_err_and(|e| e.is_queue_full() && e.is_retryable())
        {
            refused = true;
            break;
        }
    }
    assert!(refused, "a queue of one never filled up");
}
