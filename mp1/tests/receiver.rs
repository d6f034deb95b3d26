//! The notification receiver through `oneshot` and over a real socket.

#![allow(clippy::unwrap_used)]

use axum::body::{Body, to_bytes};
use futures_util::StreamExt;
use http::{Request, StatusCode};
use mec_mp1::model::{ChangeType, Notification, OperationAction};
use mec_mp1::receiver::NotificationReceiver;
use serde_json::json;
use tower::ServiceExt;

const ETSI_AVAILABILITY: &str = r#"{"notificationType":"SerAvailabilityNotification","serviceReferences":[{"link":{"href":"/mec_service_mgmt/v1/services/s1"},"serName":"rni","serInstanceId":"s1","state":"ACTIVE","changeType":"ADDED"}],"_links":{"subscription":{"href":"/mec_service_mgmt/v1/applications/a/subscriptions/1"}}}"#;
/// EdgeGallery's termination notification: links as plain strings, sent without a Content-Type.
const EG_TERMINATION: &str = r#"{"notificationType":"AppTerminationNotification","operationAction":"TERMINATING","maxGracefulTimeout":5,"_links":{"subscription":"/mep/mec_app_support/v1/applications/a/subscriptions/2","confirmTermination":"/mep/mec_app_support/v1/applications/a/confirm_termination"}}"#;
/// EdgeGallery's REMOVED reference carries `"link":{}`.
const EG_REMOVED: &str = r#"{"notificationType":"SerAvailabilityNotification","serviceReferences":[{"link":{},"serName":"rni","serInstanceId":"s1","state":"INACTIVE","changeType":"REMOVED"}],"_links":{"subscription":{"href":"/x"}}}"#;

async fn post(
    router: &axum::Router,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, serde_json::Value) {
    let mut req = Request::post(path);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let response = router
        .clone()
        .oneshot(req.body(body.into()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    if !status.is_success() {
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let bytes = to_bytes(response.into_body(), 1 << 22).await.unwrap();
    (
        status,
        if bytes.is_empty() {
            json!(null)
        } else {
            serde_json::from_slice(&bytes).unwrap()
        },
    )
}

#[tokio::test]
async fn both_notification_types_arrive_typed_with_204() {
    let (receiver, mut notifications) = NotificationReceiver::new();
    let router = receiver.router();
    assert_eq!(
        post(
            &router,
            "/cb/availability",
            Some("application/json"),
            ETSI_AVAILABILITY
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        post(&router, "/", None, EG_TERMINATION).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        post(
            &router,
            "/x",
            Some("application/json; charset=utf-8"),
            EG_REMOVED
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );

    let first = notifications.recv().await.unwrap();
    assert_eq!(first.path, "/cb/availability");
    match first.notification {
        Notification::ServiceAvailability(n) => {
            assert_eq!(n.service_references[0].change_type, ChangeType::Added);
            assert_eq!(
                n.links.subscription.href,
                "/mec_service_mgmt/v1/applications/a/subscriptions/1"
            );
        }
        other => panic!("{other:?}"),
    }
    match notifications.next().await.unwrap().notification {
        Notification::AppTermination(t) => {
            assert_eq!(
                (t.operation_action, t.max_graceful_timeout),
                (OperationAction::Terminating, 5)
            );
            assert_eq!(
                t.links.confirm_termination.unwrap().href,
                "/mep/mec_app_support/v1/applications/a/confirm_termination"
            );
        }
        other => panic!("{other:?}"),
    }
    match notifications.recv().await.unwrap().notification {
        Notification::ServiceAvailability(n) => assert!(n.service_references[0].link.is_none()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unknown_enum_value_is_delivered_as_unknown_not_refused() {
    let (receiver, mut notifications) = NotificationReceiver::new();
    let router = receiver.router();
    let body = EG_TERMINATION.replace("TERMINATING", "VANISHING");
    let (status, _) = post(&router, "/", Some("application/json"), body).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    match notifications.recv().await.unwrap().notification {
        Notification::AppTermination(t) => assert_eq!(
            t.operation_action,
            OperationAction::Unknown("VANISHING".into())
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn junk_gets_400_and_oversize_413_problem_json() {
    let (receiver, _notifications) = NotificationReceiver::new();
    let router = receiver.body_limit(1024).router();
    let cases = [
        ("not json", "hello".to_owned()),
        ("empty", String::new()),
        ("unknown type", r#"{"notificationType":"Surprise"}"#.to_owned()),
        ("no type", r#"{"serviceReferences":[]}"#.to_owned()),
        ("wrong types", r#"{"notificationType":"AppTerminationNotification","operationAction":7,"maxGracefulTimeout":"x","_links":{}}"#.to_owned()),
        ("missing member", r#"{"notificationType":"SerAvailabilityNotification","_links":{"subscription":{"href":"/x"}}}"#.to_owned()),
    ];
    for (what, body) in cases {
        let (status, problem) = post(&router, "/", Some("application/json"), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}");
        assert!(
            problem["detail"].as_str().unwrap().contains("notification"),
            "{what}: {problem}"
        );
    }
    let big = format!(
        r#"{{"notificationType":"SerAvailabilityNotification","pad":"{}"}}"#,
        "x".repeat(4096)
    );
    assert_eq!(
        post(&router, "/", Some("application/json"), big).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn a_receiver_nobody_reads_answers_503() {
    let (receiver, notifications) = NotificationReceiver::with_capacity(1);
    let router = receiver.router();
    assert_eq!(
        post(&router, "/", None, EG_TERMINATION).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        post(&router, "/", None, EG_TERMINATION).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    drop(notifications);
    assert_eq!(
        post(&router, "/", None, EG_TERMINATION).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn bind_serves_on_a_real_socket() {
    let (bound, mut notifications) = NotificationReceiver::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    assert!(
        bound
            .url()
            .as_str()
            .starts_with(&format!("http://{}/", bound.addr()))
    );
    let r = reqwest::Client::new()
        .post(bound.url().clone())
        .header("content-type", "application/json")
        .body(ETSI_AVAILABILITY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let got = notifications.recv().await.unwrap();
    assert_eq!(got.path, "/notifications");
    let r = reqwest::Client::new()
        .get(bound.url().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn a_receiver_on_every_interface_advertises_a_reachable_url() {
    let e = NotificationReceiver::bind("0.0.0.0:0".parse().unwrap())
        .await
        .unwrap_err();
    assert!(e.is_invalid_callback() && !e.is_bind(), "{e}");
    assert!(e.to_string().contains("bind_advertising"), "{e}");
    let (bound, mut notifications) = NotificationReceiver::bind_advertising(
        "0.0.0.0:0".parse().unwrap(),
        "http://127.0.0.1:0/mep/callbacks".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(bound.url().port(), Some(bound.addr().port()));
    assert_eq!(bound.url().path(), "/mep/callbacks");
    assert!(!bound.url().as_str().contains("0.0.0.0"));
    let r = reqwest::Client::new()
        .post(bound.url().clone())
        .header("content-type", "application/json")
        .body(ETSI_AVAILABILITY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(notifications.recv().await.unwrap().path, "/mep/callbacks");
    assert!(
        NotificationReceiver::bind_advertising(
            "0.0.0.0:0".parse().unwrap(),
            "ftp://x/".parse().unwrap()
        )
        .await
        .unwrap_err()
        .is_invalid_callback()
    );
}

#[tokio::test]
async fn an_address_in_use_is_a_bind_error_with_its_cause() {
    let (bound, _notifications) = NotificationReceiver::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let e = NotificationReceiver::bind(bound.addr()).await.unwrap_err();
    assert!(e.is_bind() && !e.is_invalid_callback(), "{e}");
    assert_eq!(e.to_string(), format!("cannot listen on {}", bound.addr()));
    let cause = std::error::Error::source(&e).unwrap().to_string();
    assert_eq!(
        e.report(),
        format!("cannot listen on {}: {cause}", bound.addr())
    );
}
