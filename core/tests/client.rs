//! `HttpClient` against a wiremock server: authentication, token renewal, error decoding.

#![allow(clippy::unwrap_used)]

use mec_core::client::{ApiRequest, Auth, Error, HttpClient, TransportErrorKind};
use mec_core::signature::{Credentials, Verifier};
use mec_core::{ManualClock, SharedClock};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const AK: &str = "QVUJMSUMgS0VZLS0tLS0";
const SK: &str = "DXPb4sqElKhcHe07Kw5uorayETwId1JOjjOIRomRs5wyszoCR5R7AtVa28KT3lSc";

/// A token endpoint that checks the signature for real and numbers the tokens it hands out.
struct TokenEndpoint {
    verifier: Verifier,
    issued: Arc<AtomicUsize>,
    expires_in: u64,
}

impl Respond for TokenEndpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let uri: http::Uri = req.url.as_str().parse().unwrap();
        let uri: http::Uri = uri.path_and_query().unwrap().as_str().parse().unwrap();
        match self
            .verifier
            .verify(&http::Method::POST, &uri, &req.headers, &req.body)
        {
            Ok(_) => {
                let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
                ResponseTemplate::new(200).set_body_json(serde_json::json!({
                    "access_token": format!("token-{n}"), "token_type": "Bearer", "expires_in": self.expires_in
                }))
            }
            Err(e) => ResponseTemplate::new(401).set_body_json(e.to_string()),
        }
    }
}

/// A token endpoint that checks signatures as a MEP does: against real time (the app's clock dates them), while
/// the client's token expiry follows its injected clock.
async fn mep(_clock: &ManualClock, expires_in: u64) -> (MockServer, Arc<AtomicUsize>) {
    let server = MockServer::start().await;
    let issued = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path("/mep/token"))
        .and(header("content-type", "application/json"))
        .and(header_exists("x-sdk-date"))
        .respond_with(TokenEndpoint {
            verifier: Verifier::new([Credentials::new(AK, SK)], mec_core::SystemClock),
            issued: issued.clone(),
            expires_in,
        })
        .mount(&server)
        .await;
    (server, issued)
}

fn client(server: &MockServer, clock: &ManualClock, sk: &str) -> HttpClient {
    HttpClient::builder(format!("{}/mep", server.uri()))
        .auth(Auth::AkSk {
            credentials: Credentials::new(AK, sk),
            token_path: "/mep/token".into(),
        })
        .clock(Arc::new(clock.clone()) as SharedClock)
        .build()
        .unwrap()
}

#[tokio::test]
async fn aksk_token_is_fetched_once_cached_and_renewed_before_expiry() {
    let clock = ManualClock::starting_now();
    let (server, issued) = mep(&clock, 3600).await;
    Mock::given(method("GET"))
        .and(path("/mep/mec_app_support/v1/timing/current_time"))
        .and(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"seconds\":1}\n"))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/mep/mec_app_support/v1/timing/current_time"))
        .and(header("authorization", "Bearer token-2"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"seconds\":2}"))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, &clock, SK);
    let get = || c.execute(ApiRequest::get("mec_app_support/v1/timing/current_time"));
    let v: serde_json::Value = get().await.unwrap().json().unwrap();
    assert_eq!(v["seconds"], 1);
    clock.advance(Duration::from_secs(3600 - 61));
    get().await.unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 1);
    clock.advance(Duration::from_secs(2)); // now within the 60 s renewal margin
    let v: serde_json::Value = get().await.unwrap().json().unwrap();
    assert_eq!(v["seconds"], 2);
    assert_eq!(issued.load(Ordering::SeqCst), 2);
}

/// Refuses the first call with 401, then accepts.
struct RefuseOnce(AtomicUsize);

impl Respond for RefuseOnce {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
            ResponseTemplate::new(401).set_body_string("{\"message\":\"Unauthorized\"}")
        } else {
            ResponseTemplate::new(204)
        }
    }
}

#[tokio::test]
async fn a_401_drops_the_token_and_retries_once_with_a_new_one() {
    let clock = ManualClock::starting_now();
    let (server, issued) = mep(&clock, 3600).await;
    Mock::given(method("POST"))
        .and(path("/mep/mec_app_support/v1/applications/a/confirm_ready"))
        .respond_with(RefuseOnce(AtomicUsize::new(0)))
        .expect(2)
        .mount(&server)
        .await;
    let c = client(&server, &clock, SK);
    let r = c
        .execute(
            ApiRequest::post("mec_app_support/v1/applications/a/confirm_ready")
                .json(&serde_json::json!({"indication": "READY"}))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(issued.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_second_401_is_returned_not_retried_forever() {
    let clock = ManualClock::starting_now();
    let (server, _) = mep(&clock, 3600).await;
    Mock::given(method("GET"))
        .and(path("/mep/x"))
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&server)
        .await;
    let e = client(&server, &clock, SK)
        .execute(ApiRequest::get("x"))
        .await
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e}");
}

#[tokio::test]
async fn a_refused_signature_surfaces_as_unauthorized_with_the_servers_detail() {
    let clock = ManualClock::starting_now();
    let (server, _) = mep(&clock, 3600).await;
    let e = client(&server, &clock, &"w".repeat(64))
        .execute(ApiRequest::get("x"))
        .await
        .unwrap_err();
    assert!(e.is_unauthorized());
    assert_eq!(
        e.problem().unwrap().detail,
        "the signature does not match the request"
    );
}

#[tokio::test]
async fn static_bearer_and_query_and_problem_json_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/services"))
        .and(query_param("ser_name", "a"))
        .and(header("authorization", "Bearer fixed"))
        .respond_with(ResponseTemplate::new(404).set_body_raw(
            r#"{"type":"about:blank","title":"Not Found","status":404,"detail":"none","instance":"/x"}"#,
            "application/problem+json",
        ))
        .mount(&server)
        .await;
    let c = HttpClient::builder(format!("{}/api", server.uri()))
        .auth(Auth::Bearer("fixed".into()))
        .build()
        .unwrap();
    let e = c
        .execute(ApiRequest::get("/services").query("ser_name", "a"))
        .await
        .unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(e.status(), Some(404));
    let p = e.problem().unwrap();
    assert_eq!(
        (p.title.as_deref(), p.detail.as_str(), p.instance.as_deref()),
        (Some("Not Found"), "none", Some("/x"))
    );
}

#[tokio::test]
async fn edgegallery_text_plain_errors_keep_internal_code_and_detail() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_raw("{\"title\":\"UnAuthorization\",\"status\":11,\"detail\":\"UnAuthorization to access the resource\"}\n", "text/plain"),
        )
        .mount(&server)
        .await;
    let c = HttpClient::builder(server.uri()).build().unwrap();
    let e = c.execute(ApiRequest::get("a")).await.unwrap_err();
    assert!(e.is_unauthorized());
    assert_eq!(e.problem().unwrap().status, 11);
}

#[tokio::test]
async fn success_bodies_that_do_not_decode_are_decode_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("not json")
                .insert_header("etag", "\"abc\"")
                .insert_header("location", "/l"),
        )
        .mount(&server)
        .await;
    let c = HttpClient::builder(server.uri()).build().unwrap();
    let r = c.execute(ApiRequest::get("a")).await.unwrap();
    assert_eq!(r.etag().as_deref(), Some("\"abc\""));
    assert_eq!(r.location().as_deref(), Some("/l"));
    let e = r.json::<serde_json::Value>().unwrap_err();
    assert!(matches!(e, Error::Decode { status: 200, .. }));
}

#[tokio::test]
async fn connection_refused_is_a_retryable_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = HttpClient::builder(format!("http://{addr}/"))
        .build()
        .unwrap();
    let e = c.execute(ApiRequest::get("a")).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Transport {
                kind: TransportErrorKind::Connect,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_retryable());
}

#[tokio::test]
async fn slow_answers_time_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let c = HttpClient::builder(server.uri())
        .timeout(Some(Duration::from_millis(100)))
        .build()
        .unwrap();
    let e = c.execute(ApiRequest::get("a")).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Transport {
                kind: TransportErrorKind::Timeout,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn bad_base_urls_are_refused() {
    for bad in ["", "mep.example", "ftp://x/", "mailto:a@b"] {
        assert!(
            matches!(
                HttpClient::builder(bad).build(),
                Err(Error::InvalidRequest(_))
            ),
            "{bad}"
        );
    }
    let c = HttpClient::builder("http://h:1/mep?x=1").build().unwrap();
    assert_eq!(c.base_url().as_str(), "http://h:1/mep/");
    assert_eq!(c.url("/a/b").unwrap().as_str(), "http://h:1/mep/a/b");
}

#[test]
fn path_segments_are_escaped() {
    assert_eq!(
        mec_core::client::path_segment("a/b?c#d e%"),
        "a%2Fb%3Fc%23d%20e%25"
    );
    assert_eq!(
        mec_core::client::path_segment("5abe4782-2c70"),
        "5abe4782-2c70"
    );
}
