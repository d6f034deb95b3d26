//! `HttpClient`'s transfers against real servers on loopback: streamed request bodies, multipart forms, streamed
//! answers with limits, and the idle timeout that ends a stalled transfer.

#![cfg(all(feature = "client", feature = "server"))]
#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::Multipart as Form;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use mec_core::client::{ApiRequest, Auth, HttpClient, Multipart, Part};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Bytes that tell their position (a shifted or truncated copy does not compare equal).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect()
}

async fn serve(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/")
}

/// Echoes the body it received, with how it was framed in headers.
async fn echo(headers: HeaderMap, body: Bytes) -> (HeaderMap, Bytes) {
    let mut out = HeaderMap::new();
    for name in ["content-length", "transfer-encoding"] {
        if let Some(v) = headers.get(name) {
            out.insert(
                axum::http::HeaderName::from_bytes(format!("x-sent-{name}").as_bytes()).unwrap(),
                v.clone(),
            );
        }
    }
    (out, body)
}

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("mec-core-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn client(base: &str) -> HttpClient {
    HttpClient::builder(base)
        .idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_file_larger_than_a_chunk_is_streamed_with_its_length_or_chunked() {
    let base = serve(Router::new().route("/echo", post(echo))).await;
    let data = pattern(1 << 20); // 16 reads of 64 KiB
    let path = temp_file("upload.bin", &data);
    let c = client(&base);

    let file = tokio::fs::File::open(&path).await.unwrap();
    let answer = c
        .execute(ApiRequest::post("echo").body_reader(file, Some(data.len() as u64)))
        .await
        .unwrap();
    assert_eq!(answer.body().as_ref(), data.as_slice());
    assert_eq!(
        answer.headers()["x-sent-content-length"],
        data.len().to_string().as_str()
    );

    let file = tokio::fs::File::open(&path).await.unwrap();
    let answer = c
        .execute(ApiRequest::post("echo").body_reader(file, None))
        .await
        .unwrap();
    assert_eq!(answer.body().as_ref(), data.as_slice());
    assert_eq!(answer.headers()["x-sent-transfer-encoding"], "chunked");
    std::fs::remove_file(path).unwrap();
}

#[tokio::test]
async fn a_reader_shorter_than_its_declared_length_fails_the_request() {
    let base = serve(Router::new().route("/echo", post(echo))).await;
    let e = client(&base)
        .execute(ApiRequest::post("echo").body_reader(&b"only ten b"[..], Some(100)))
        .await
        .unwrap_err();
    assert!(e.is_transport(), "{e:?}");
}

#[tokio::test]
async fn a_multipart_form_carries_text_bytes_and_a_streamed_file() {
    async fn parts(mut form: Form) -> axum::Json<Vec<serde_json::Value>> {
        let mut out = Vec::new();
        while let Some(field) = form.next_field().await.unwrap() {
            let name = field.name().map(str::to_owned);
            let file_name = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(str::to_owned);
            let bytes = field.bytes().await.unwrap();
            out.push(serde_json::json!({
                "name": name, "file_name": file_name, "content_type": content_type,
                "len": bytes.len(), "sum": bytes.iter().map(|b| u64::from(*b)).sum::<u64>(),
                "text": String::from_utf8(bytes.to_vec()).ok().filter(|t| t.len() < 64),
            }));
        }
        axum::Json(out)
    }
    let base = serve(Router::new().route("/form", post(parts))).await;
    let data = pattern(300_000);
    let path = temp_file("app.csar", &data);
    let form = Multipart::new()
        .text("type", "Video Application")
        .part(
            "icon",
            Part::bytes(vec![1u8, 2, 3])
                .file_name("icon.png")
                .content_type("image/png"),
        )
        .part("file", Part::file(&path).await.unwrap());
    let answer: Vec<serde_json::Value> = client(&base)
        .execute(ApiRequest::post("form").multipart(form))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(answer.len(), 3);
    assert_eq!(answer[0]["name"], "type");
    assert_eq!(answer[0]["text"], "Video Application");
    assert_eq!(answer[0]["file_name"], serde_json::Value::Null);
    assert_eq!(answer[1]["file_name"], "icon.png");
    assert_eq!(answer[1]["content_type"], "image/png");
    assert_eq!(answer[1]["sum"], 6);
    let expected_sum: u64 = data.iter().map(|b| u64::from(*b)).sum();
    assert_eq!(answer[2]["name"], "file");
    assert_eq!(
        answer[2]["file_name"],
        path.file_name().unwrap().to_str().unwrap()
    );
    assert_eq!(answer[2]["len"], data.len());
    assert_eq!(answer[2]["sum"], expected_sum);
    std::fs::remove_file(path).unwrap();

    let e = Part::file("/nonexistent/mec-core/app.csar")
        .await
        .unwrap_err();
    assert!(matches!(e, mec_core::client::Error::Io { .. }), "{e:?}");
    assert_eq!(e.to_string(), "reading /nonexistent/mec-core/app.csar");
}

#[tokio::test]
async fn a_bad_part_content_type_is_an_invalid_request() {
    let base = serve(Router::new().route("/form", post(|| async { "ok" }))).await;
    let form = Multipart::new().part("p", Part::bytes("x").content_type("not a mime"));
    let e = client(&base)
        .execute(ApiRequest::post("form").multipart(form))
        .await
        .unwrap_err();
    assert!(
        matches!(e, mec_core::client::Error::InvalidRequest(_)),
        "{e:?}"
    );
}

#[tokio::test]
async fn an_answer_is_streamed_into_a_writer_within_its_limit() {
    let data = pattern(2 << 20);
    let served = data.clone();
    let base = serve(Router::new().route("/big", get(move || async move { served }))).await;
    let c = client(&base);

    let mut out: Vec<u8> = Vec::new();
    let answer = c.execute_streaming(ApiRequest::get("big")).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.content_length(), Some(data.len() as u64));
    let written = answer.copy_to(&mut out).await.unwrap();
    assert_eq!(written, data.len() as u64);
    assert_eq!(out, data);

    // Chunk by chunk, the same bytes.
    let mut answer = c.execute_streaming(ApiRequest::get("big")).await.unwrap();
    let mut chunks = 0;
    let mut again = Vec::new();
    while let Some(chunk) = answer.chunk().await.unwrap() {
        chunks += 1;
        again.extend_from_slice(&chunk);
    }
    assert!(chunks > 1, "one chunk only");
    assert_eq!(again, data);

    // A limit below the body's size.
    let e = c
        .execute_streaming(ApiRequest::get("big"))
        .await
        .unwrap()
        .limit(1 << 20)
        .copy_to(&mut tokio::io::sink())
        .await
        .unwrap_err();
    assert!(e.is_too_large(), "{e:?}");

    // The buffered path has its limit too.
    let small = HttpClient::builder(&base)
        .max_response_body(1000)
        .build()
        .unwrap();
    let e = small.execute(ApiRequest::get("big")).await.unwrap_err();
    assert!(e.is_too_large() && e.status() == Some(200), "{e:?}");
}

#[tokio::test]
async fn error_answers_of_a_streamed_request_are_problems() {
    let base = serve(Router::new().route(
        "/missing",
        get(|| async {
            (
                StatusCode::NOT_FOUND,
                [("content-type", "application/problem+json")],
                r#"{"status":404,"detail":"no such package"}"#,
            )
        }),
    ))
    .await;
    let e = client(&base)
        .execute_streaming(ApiRequest::get("missing"))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert_eq!(e.problem().unwrap().detail, "no such package");

    let answer = client(&base)
        .execute(ApiRequest::get("missing").any_status())
        .await
        .unwrap();
    assert!(!answer.is_success());
    assert!(answer.error_for_status().unwrap_err().is_not_found());
}

/// A server that takes connections and then does nothing but what `behave` does with each.
async fn raw_server<F, Fut>(behave: F) -> String
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(behave(socket));
        }
    });
    format!("http://{addr}/")
}

/// Reads a request's head and holds the connection open without a word.
async fn read_head_then_hang(mut socket: tokio::net::TcpStream) -> tokio::net::TcpStream {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    socket
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout() {
    let base = raw_server(|socket| async move {
        let _held = read_head_then_hang(socket).await;
        std::future::pending::<()>().await;
    })
    .await;
    let e = client(&base)
        .execute_streaming(ApiRequest::get("download"))
        .await
        .unwrap_err();
    assert!(e.is_timeout() && e.is_retryable(), "{e:?}");
    assert!(e.to_string().contains("stalled"), "{e}");
}

#[tokio::test]
async fn a_download_that_stalls_midway_is_a_timeout() {
    let base = raw_server(|socket| async move {
        let mut socket = read_head_then_hang(socket).await;
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\nthe first bytes")
            .await;
        std::future::pending::<()>().await;
    })
    .await;
    let c = client(&base);
    let mut answer = c
        .execute_streaming(ApiRequest::get("download"))
        .await
        .unwrap();
    assert_eq!(
        answer.chunk().await.unwrap().unwrap().as_ref(),
        b"the first bytes"
    );
    let e = answer.chunk().await.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");

    // Copying to a writer stops the same way.
    let e = c
        .execute_streaming(ApiRequest::get("download"))
        .await
        .unwrap()
        .copy_to(&mut tokio::io::sink())
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
}

#[tokio::test]
async fn an_upload_the_server_stops_reading_is_a_timeout() {
    let base = raw_server(|socket| async move {
        let _held = read_head_then_hang(socket).await;
        std::future::pending::<()>().await;
    })
    .await;
    // Far more than the socket buffers hold: the upload stops moving once they are full.
    let endless = tokio::io::repeat(7).take(1 << 30);
    let e = client(&base)
        .execute(ApiRequest::put("upload").body_reader(endless, None))
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
}

#[tokio::test]
async fn a_streamed_body_is_not_sent_twice_after_a_401_but_a_form_in_memory_is() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let base = serve(Router::new().route(
        "/up",
        post(move |headers: HeaderMap, _body: Bytes| {
            let seen = seen.clone();
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                if headers["authorization"] == "Bearer token-3" {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                }
            }
        }),
    ))
    .await;
    /// A provider that hands out a new token after each refusal.
    #[derive(Debug, Default)]
    struct Counting(AtomicUsize);
    #[async_trait::async_trait]
    impl mec_core::client::TokenProvider for Counting {
        async fn token(&self) -> Result<Option<String>, mec_core::client::Error> {
            Ok(Some(format!("token-{}", self.0.load(Ordering::SeqCst) + 1)))
        }
        async fn invalidate(&self) -> bool {
            self.0.fetch_add(1, Ordering::SeqCst);
            true
        }
    }
    let c = HttpClient::builder(&base)
        .auth(Auth::Custom(Arc::new(Counting::default())))
        .build()
        .unwrap();
    let e = c
        .execute(ApiRequest::post("up").body_reader(&b"streamed"[..], None))
        .await
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a streamed body is sent once"
    );
    // The refused token was dropped: the next request, a form in memory, goes with a new one (refused too), and
    // again with the next one.
    c.execute(ApiRequest::post("up").multipart(Multipart::new().text("a", "b")))
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}
