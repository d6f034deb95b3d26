//! The handles against `MockAppStore` (one handle per resource, each reused for every operation on it), packages
//! bigger than one read streamed from disk and back to disk, transfers that stall ended by the idle timeout, and
//! every request of the client going out with the same HTTP settings.

#![allow(clippy::unwrap_used)]

use mec_appstore_client::{Client, DownloadOptions, PackageStatus, Scope, UploadForm};
use mec_testkit::{AppStoreRole, MockAppStore};
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("appstore-handles-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn form(&self, package: &[u8]) -> UploadForm {
        let p = self.0.join("snake.csar");
        std::fs::write(&p, package).unwrap();
        let icon = self.0.join("icon.png");
        std::fs::write(&icon, b"\x89PNG fake icon").unwrap();
        UploadForm::new(p, icon)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn handles_reach_an_app_its_packages_and_comments() {
    let store = MockAppStore::start().await;
    let owner = Client::builder(store.url())
        .access_token(store.token())
        .build()
        .unwrap();
    let dir = Dir::new("handles");
    let reg = owner
        .upload(
            &dir.form(&MockAppStore::sample_package("snake", "1.0", 1000)),
            |_, _| {},
        )
        .await
        .unwrap();

    let app = owner.app(&reg.app_id);
    assert_eq!(app.id(), reg.app_id);
    let package = app.packages().package(&reg.package_id);
    assert_eq!(
        (package.app_id(), package.id()),
        (reg.app_id.as_str(), reg.package_id.as_str())
    );

    assert_eq!(app.get().await.unwrap().name, "snake");
    let mine = app.packages().list(Scope::Mine).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].package_id, reg.package_id);
    assert!(
        app.packages()
            .list(Scope::Published)
            .await
            .unwrap()
            .is_empty()
    );

    package.test().await.unwrap();
    let tested = package
        .wait_for_test(Duration::from_millis(5), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(tested.status, Some(PackageStatus::TestSuccess));
    package.publish(None).await.unwrap();
    assert_eq!(
        package.get().await.unwrap().status,
        Some(PackageStatus::Published)
    );
    assert_eq!(
        app.packages()
            .page(Scope::Published, 0, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(app.icon().await.unwrap(), b"\x89PNG fake icon");
    assert_eq!(package.icon().await.unwrap(), b"\x89PNG fake icon");

    // Another user comments; the app's handle lists them.
    let user = store.add_user("reader", "pw", AppStoreRole::Tenant);
    let reader = Client::builder(store.url())
        .access_token(store.token_for(&user))
        .build()
        .unwrap();
    reader
        .app(&reg.app_id)
        .comments()
        .add("nice", 4.0)
        .await
        .unwrap();
    let comments = app.comments().list().await.unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, "nice");
    assert_eq!(app.comments().page(0, 10).await.unwrap().results.len(), 1);
    assert!(
        app.comments()
            .add("", 4.0)
            .await
            .unwrap_err()
            .is_invalid_request()
    );

    // The same handle, after the package is gone: typed errors.
    package.unpublish().await.unwrap();
    package.delete().await.unwrap();
    let e = package.get().await.unwrap_err();
    assert!(
        e.status().is_some() && !e.is_retryable() || e.is_not_found(),
        "{e:?}"
    );
    let e = owner.app("no-such-app").get().await.unwrap_err();
    assert!(e.status().is_some(), "{e:?}");
    assert!(!e.is_transport() && !e.is_timeout());
}

#[tokio::test]
async fn a_package_bigger_than_one_read_goes_from_disk_to_the_store_and_back_to_disk() {
    let store = MockAppStore::start().await;
    let client = Client::builder(store.url())
        .access_token(store.token())
        .build()
        .unwrap();
    let dir = Dir::new("streamed");
    // About 3 MiB: many reads of the file, one multipart request (below the chunked threshold).
    let bytes = MockAppStore::sample_package("snake", "1.0", 3 << 20);
    assert!(bytes.len() > 1 << 20);
    let mut sent = 0;
    let reg = client
        .upload(&dir.form(&bytes), |done, _| sent = done)
        .await
        .unwrap();
    assert_eq!(sent, bytes.len() as u64);
    let held = store.package_bytes(&reg.app_id, &reg.package_id).unwrap();
    assert_eq!(held, bytes, "the store holds what was on disk");

    let copy = dir.0.join("copy.csar");
    let mut file = tokio::fs::File::create(&copy).await.unwrap();
    let mut seen = Vec::new();
    let written = client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .download_to(
            &DownloadOptions::default().size_hint(Some(bytes.len() as u64)),
            &mut file,
            |done, total| seen.push((done, total)),
        )
        .await
        .unwrap();
    drop(file);
    assert_eq!(written, bytes.len() as u64);
    assert_eq!(std::fs::read(&copy).unwrap(), bytes);
    assert!(seen.len() > 1, "progress came with each chunk: {seen:?}");
    assert_eq!(seen.last(), Some(&(written, Some(written))));
}

/// A server that reads a request's head, then does what `then` does with the connection, and never closes it.
async fn stalling_server<F, Fut>(then: F) -> String
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let then = std::sync::Arc::new(then);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let then = then.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                then(socket).await;
            });
        }
    });
    format!("http://{addr}")
}

fn short_idle(url: String, token: &str) -> Client {
    Client::builder(url)
        .access_token(token)
        .idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_download_that_stalls_is_a_timeout() {
    let url = stalling_server(|mut socket| async move {
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nPK\x03\x04x\r\n")
            .await;
        std::future::pending::<()>().await;
    })
    .await;
    let store = MockAppStore::start().await;
    let client = short_idle(url, store.token());
    let mut out = Vec::new();
    let e = client
        .app("a")
        .packages()
        .package("p")
        .download_to(&DownloadOptions::default(), &mut out, |_, _| {})
        .await
        .unwrap_err();
    assert!(
        e.is_timeout() && e.is_transport() && e.is_retryable(),
        "{e:?}"
    );
    assert_eq!(
        out, b"PK\x03\x04x",
        "what came was written before the stall"
    );
}

#[tokio::test]
async fn an_upload_the_store_stops_reading_is_a_timeout() {
    let url = stalling_server(|socket| async move {
        let _held = socket;
        std::future::pending::<()>().await;
    })
    .await;
    let store = MockAppStore::start().await;
    let client = short_idle(url, store.token());
    let dir = Dir::new("stalled-upload");
    let e = client
        .upload(&dir.form(&vec![7u8; 8 << 20]), |_, _| {})
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(e.report().contains("stalled"), "{}", e.report());
}

#[tokio::test]
async fn json_requests_uploads_downloads_and_sign_in_share_one_http_client() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let store = MockAppStore::start().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/accesstoken"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"accessToken": store.token()})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/mec/appstore/v1/apps"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "appName": "snake", "appId": "a", "packageId": "p", "provider": "acme", "version": "1.0"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/mec/appstore/v1/apps/a/packages/p/icon"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"png".to_vec()))
        .mount(&server)
        .await;
    let client = Client::builder(server.uri()).build().unwrap();
    client.login(&server.uri(), "tenant", "pw").await.unwrap();
    let dir = Dir::new("one-client");
    client
        .upload(
            &dir.form(&MockAppStore::sample_package("snake", "1.0", 10)),
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(
        client
            .app("a")
            .packages()
            .package("p")
            .icon()
            .await
            .unwrap(),
        b"png"
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    let agent = format!("mec-sdk/{}", env!("CARGO_PKG_VERSION"));
    for r in &requests {
        assert_eq!(
            r.headers.get("user-agent").and_then(|v| v.to_str().ok()),
            Some(agent.as_str()),
            "{} {}",
            r.method,
            r.url
        );
    }
    // The token went with the store's requests, not with the sign-in.
    assert!(requests[0].headers.get("access_token").is_none());
    assert!(
        requests[1..]
            .iter()
            .all(|r| r.headers.contains_key("access_token"))
    );
}
