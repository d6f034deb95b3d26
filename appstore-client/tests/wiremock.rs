//! Every client operation against wiremock fixtures in appstore-be's own shapes: method, path, query, headers and
//! body as sent, answers decoded, errors typed.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use mec_appstore_client::{AppQuery, AppStatus, Client, PackageStatus};
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const APP: &str = "0123456789abcdef0123456789abcdef";
const PKG: &str = "fedcba9876543210fedcba9876543210";

async fn setup() -> (MockServer, Client) {
    let server = MockServer::start().await;
    let client = Client::builder(format!("{}/mec-appstore", server.uri()))
        .access_token("jwt")
        .build()
        .unwrap();
    (server, client)
}

fn app_json() -> serde_json::Value {
    json!({"appId": APP, "packageId": PKG, "name": "snake", "provider": "acme", "type": "Game", "shortDesc": "a game",
           "showType": "public", "createTime": "2021-07-02T14:50:00.000+0000", "downloadCount": 3, "affinity": "X86",
           "industry": "Others", "score": 4.5, "status": "Published", "deployMode": "container", "free": true, "price": 0,
           "experienceAble": false, "hotApp": false})
}

fn package_json(status: &str) -> serde_json::Value {
    json!({"packageId": PKG, "appId": APP, "name": "snake", "version": "1.0", "provider": "acme", "size": "11879",
           "status": status, "testTaskId": "t1", "deployMode": "container", "createTime": 1625237400000u64})
}

const BASE: &str = "/mec-appstore/mec/appstore";

#[tokio::test]
async fn list_query_and_get_apps_with_the_access_token_header() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps")))
        .and(header("access_token", "jwt"))
        .and(query_param("name", "snake"))
        .and(query_param("provider", "acme"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([app_json()])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v2/apps/action/query")))
        .and(body_json(json!({"types": [], "showType": [], "affinity": [], "industry": [], "workloadType": [], "userId": "",
            "queryCtrl": {"offset": 0, "limit": 20, "sortItem": "createTime", "sortType": "DESC", "appName": "", "status": ["Published"]}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [app_json()], "limit": 20, "offset": 0, "total": 1})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps/{APP}")))
        .respond_with(ResponseTemplate::new(200).set_body_json({
            let mut a = app_json();
            a["status"] = json!("Archived");
            a
        }))
        .mount(&server)
        .await;
    let apps = client.list_apps(Some("snake"), Some("acme")).await.unwrap();
    assert_eq!(
        (apps[0].name.as_str(), apps[0].status.clone()),
        ("snake", Some(AppStatus::Published))
    );
    let page = client.query_apps(&AppQuery::default()).await.unwrap();
    assert_eq!(page.total, 1);
    let app = client.app(APP).await.unwrap();
    assert_eq!(
        app.status,
        Some(AppStatus::Other("Archived".into())),
        "unknown values are kept"
    );
}

#[tokio::test]
async fn packages_test_publish_unpublish_and_delete() {
    let (server, client) = setup().await;
    let pkg = format!("{BASE}/v1/apps/{APP}/packages/{PKG}");
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps/{APP}/packages")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([package_json("Upload")])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{pkg}/action/test")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"atpTaskId": "t1", "status": "created"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{pkg}/action/publish")))
        .and(body_json(
            json!({"free": false, "isFree": false, "price": 9.5}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string("Publish Success"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{pkg}/action/unpublish")))
        .and(query_param("userId", "u1"))
        .and(query_param("userName", "tenant"))
        .respond_with(ResponseTemplate::new(200).set_body_string("Unpublish Success"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(pkg.clone()))
        .and(query_param("userId", "u1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("delete package success."))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{BASE}/v1/apps/{APP}")))
        .and(query_param("userName", "tenant"))
        .respond_with(ResponseTemplate::new(200).set_body_string("delete App success."))
        .expect(1)
        .mount(&server)
        .await;
    let list = client.packages(APP).await.unwrap();
    assert_eq!(list[0].status, Some(PackageStatus::Upload));
    assert_eq!(
        client.test_package(APP, PKG).await.unwrap().atp_task_id,
        "t1"
    );
    client.publish(APP, PKG, Some(9.5)).await.unwrap();
    client.unpublish(APP, PKG, "u1", "tenant").await.unwrap();
    client
        .delete_package(APP, PKG, "u1", "tenant")
        .await
        .unwrap();
    client.delete_app(APP, "u1", "tenant").await.unwrap();
}

/// Answers "running" twice, then "success".
struct Testing(std::sync::atomic::AtomicUsize);

impl Respond for Testing {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        ResponseTemplate::new(200).set_body_json(package_json(if n < 2 {
            "Test_running"
        } else {
            "Test_success"
        }))
    }
}

#[tokio::test]
async fn wait_for_test_polls_until_the_test_ends_or_times_out() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps/{APP}/packages/{PKG}")))
        .respond_with(Testing(std::sync::atomic::AtomicUsize::new(0)))
        .expect(3)
        .mount(&server)
        .await;
    let p = client
        .wait_for_test(APP, PKG, Duration::from_millis(1), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(p.status, Some(PackageStatus::TestSuccess));

    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(package_json("Test_waiting")))
        .mount(&server)
        .await;
    let e = client
        .wait_for_test(
            APP,
            PKG,
            Duration::from_millis(5),
            Duration::from_millis(20),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Test_waiting"), "{e}");
}

#[tokio::test]
async fn errors_carry_the_appstore_code_and_message() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v1/apps/{APP}/packages/{PKG}/action/publish")))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"timestamp": "2021-07-02T14:50:00.000+0000", "code": 400,
            "error": "Bad Request", "message": "Test status is not success, publish failed", "path": "/x", "retCode": 11002, "params": [], "data": null})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps/{APP}")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"timestamp": "x", "status": 401, "error": "Unauthorized", "message": "Access token expired", "path": "/x"})))
        .mount(&server)
        .await;
    let e = client.publish(APP, PKG, None).await.unwrap_err();
    assert!(e.is_bad_request());
    let p = e.problem().unwrap();
    assert_eq!(
        (p.status, p.detail.as_str()),
        (11002, "Test status is not success, publish failed")
    );
    let e = client.app(APP).await.unwrap_err();
    assert!(e.is_unauthorized());
    assert_eq!(e.problem().unwrap().detail, "Access token expired");
}

#[tokio::test]
async fn comments_list_and_add() {
    let (server, client) = setup().await;
    Mock::given(method("GET")).and(path(format!("{BASE}/v1/apps/{APP}/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"commentId": 1, "user": {"userId": "u", "userName": "n"}, "appId": APP, "body": "great", "score": 5, "commentTime": "2021-07-02"}])))
        .mount(&server).await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v1/apps/{APP}/comments")))
        .and(query_param("userId", "u1"))
        .and(body_json(json!({"body": "nice", "score": 4.0})))
        .respond_with(ResponseTemplate::new(200).set_body_string("comments success."))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(client.comments(APP).await.unwrap()[0].body, "great");
    client
        .add_comment(APP, "u1", "tenant", "nice", 4.0)
        .await
        .unwrap();
    assert!(
        client
            .add_comment(APP, "u1", "tenant", "", 4.0)
            .await
            .is_err()
    );
    assert!(
        client
            .add_comment(APP, "u1", "tenant", "x", 6.0)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn download_streams_to_a_writer_with_progress() {
    let (server, client) = setup().await;
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    Mock::given(method("GET"))
        .and(path(format!(
            "{BASE}/v1/apps/{APP}/packages/{PKG}/action/download"
        )))
        .and(header("access_token", "jwt"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(data.clone())
                .insert_header(
                    "content-disposition",
                    "attachment; filename=snake_download.zip",
                ),
        )
        .mount(&server)
        .await;
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let n = client
        .download(APP, PKG, &mut out, |done, total| seen.push((done, total)))
        .await
        .unwrap();
    assert_eq!(n, 300_000);
    assert_eq!(out, data);
    assert_eq!(seen.last(), Some(&(300_000, Some(300_000))));
    Mock::given(method("GET"))
        .and(path(format!(
            "{BASE}/v1/apps/{APP}/packages/missing/action/download"
        )))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"message": "package not found", "retCode": 11001})),
        )
        .mount(&server)
        .await;
    let e = client
        .download(APP, "missing", &mut Vec::new(), |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(e.problem().unwrap().status, 11001);
}

/// First answer: 403 with the XSRF cookie; second (with the cookie and header): the token.
struct Csrf;

impl Respond for Csrf {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        match req
            .headers
            .get("x-xsrf-token")
            .and_then(|v| v.to_str().ok())
        {
            Some("xsrf-123")
                if req
                    .headers
                    .get("cookie")
                    .is_some_and(|c| c.to_str().unwrap_or("").contains("XSRF-TOKEN=xsrf-123")) =>
            {
                ResponseTemplate::new(200).set_body_json(json!({"accessToken": "fresh-jwt"}))
            }
            _ => ResponseTemplate::new(403)
                .insert_header("set-cookie", "XSRF-TOKEN=xsrf-123; Path=/"),
        }
    }
}

#[tokio::test]
async fn login_does_the_csrf_handshake_and_uses_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/accesstoken"))
        .and(body_json(
            json!({"userFlag": "tenant", "password": "secret"}),
        ))
        .respond_with(Csrf)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/mec/appstore/v1/apps"))
        .and(header("access_token", "fresh-jwt"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(server.uri()).build().unwrap();
    client
        .login(&server.uri(), "tenant", "secret")
        .await
        .unwrap();
    assert!(client.list_apps(None, None).await.unwrap().is_empty());

    let denied = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": 401, "message": "wrong password"})),
        )
        .mount(&denied)
        .await;
    let e = client
        .login(&denied.uri(), "tenant", "nope")
        .await
        .unwrap_err();
    assert!(e.is_unauthorized());
    assert_eq!(e.problem().unwrap().detail, "wrong password");
}

fn upload_form(dir: &std::path::Path, size: usize) -> mec_appstore_client::UploadForm {
    std::fs::create_dir_all(dir).unwrap();
    let package = dir.join("app.csar");
    std::fs::write(&package, vec![7u8; size]).unwrap();
    let icon = dir.join("icon.png");
    std::fs::write(&icon, b"png").unwrap();
    mec_appstore_client::UploadForm {
        package,
        icon,
        app_type: "Game".into(),
        affinity: "X86".into(),
        industry: "Others".into(),
        show_type: "public".into(),
        user_id: "u1".into(),
        user_name: "tenant".into(),
    }
}

fn multipart_has(req: &Request, needles: &[&str]) -> bool {
    let ct = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let body = String::from_utf8_lossy(&req.body);
    ct.starts_with("multipart/form-data") && needles.iter().all(|n| body.contains(n))
}

/// Accepts a registration only when the multipart form carries every expected part.
struct Register(&'static [&'static str]);

impl Respond for Register {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if multipart_has(req, self.0) {
            ResponseTemplate::new(200).set_body_json(json!({"appName": "snake", "appId": APP, "packageId": PKG, "provider": "acme", "version": "1.0"}))
        } else {
            ResponseTemplate::new(400)
                .set_body_json(json!({"message": "missing parts", "retCode": 1}))
        }
    }
}

#[tokio::test]
async fn upload_sends_one_multipart_request_with_every_part() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v1/apps")))
        .and(header("access_token", "jwt"))
        .and(query_param("userId", "u1"))
        .and(query_param("userName", "tenant"))
        .respond_with(Register(&[
            "name=\"file\"; filename=\"app.csar\"",
            "name=\"icon\"; filename=\"icon.png\"",
            "name=\"type\"\r\n\r\nGame",
            "name=\"affinity\"\r\n\r\nX86",
            "name=\"industry\"\r\n\r\nOthers",
            "name=\"showType\"\r\n\r\npublic",
        ]))
        .expect(1)
        .mount(&server)
        .await;
    let dir = std::env::temp_dir().join(format!("wm-upload-{}", std::process::id()));
    let r = client
        .upload(&upload_form(&dir, 1000), |_, _| {})
        .await
        .unwrap();
    assert_eq!((r.app_id.as_str(), r.package_id.as_str()), (APP, PKG));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn large_uploads_send_numbered_chunks_then_merge_then_register() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v1/apps/upload")))
        .respond_with(ResponseTemplate::new(200).set_body_string("upload package block success"))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps/merge")))
        .and(query_param("fileName", "app.csar"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("0123456789abcdef0123456789abcdef/app.csar"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v1/apps/vm-register")))
        .respond_with(Register(&[
            "name=\"fileAddress\"\r\n\r\n0123456789abcdef0123456789abcdef/app.csar",
            "name=\"icon\"",
        ]))
        .expect(1)
        .mount(&server)
        .await;
    let dir = std::env::temp_dir().join(format!("wm-chunks-{}", std::process::id()));
    let size = (mec_appstore_client::CHUNKED_ABOVE + 1) as usize;
    client
        .upload(&upload_form(&dir, size), |_, _| {})
        .await
        .unwrap();
    let chunks: Vec<Request> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().ends_with("/v1/apps/upload"))
        .collect();
    assert!(multipart_has(
        &chunks[0],
        &[
            "name=\"chunkNumber\"\r\n\r\n1",
            "name=\"totalChunks\"\r\n\r\n2",
            &format!("name=\"totalSize\"\r\n\r\n{size}")
        ]
    ));
    assert!(multipart_has(
        &chunks[1],
        &[
            "name=\"chunkNumber\"\r\n\r\n2",
            "name=\"currentChunkSize\"\r\n\r\n2097153"
        ]
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn federation_push_and_pull() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/appstores")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!([{"appStoreId": "s1", "appStoreName": "partner", "url": "https://partner"}]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET")).and(path(format!("{BASE}/v1/packages/pushable")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"packageId": PKG, "name": "snake", "targetPlatform": ["s2"], "latestPushTime": "x"}])))
        .mount(&server).await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v1/packages/{PKG}/action/push")))
        .and(body_json(json!({"targetPlatform": ["s1"]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([true])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/packages/s1/pullable")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"packageId": "p9", "name": "tetris", "version": "2"}])),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v1/packages/p9/action/pull")))
        .and(body_json(json!({"sourceStoreId": "s1"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(true)))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        client.external_stores().await.unwrap()[0].app_store_name,
        "partner"
    );
    let pushable = client.pushable_packages().await.unwrap();
    assert_eq!(pushable[0].extra["latestPushTime"], "x");
    assert_eq!(
        client.push_package(PKG, &["s1".into()]).await.unwrap(),
        [true]
    );
    assert_eq!(
        client.pullable_packages("s1").await.unwrap()[0].name,
        "tetris"
    );
    assert!(
        client
            .pull_package("p9", &json!({"sourceStoreId": "s1"}))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn failed_uploads_are_typed() {
    let dir = std::env::temp_dir().join(format!("wm-fail-{}", std::process::id()));
    for (status, body, check) in [
        (
            413,
            json!({"status": 413, "error": "Payload Too Large", "message": "request content size exceeded limit"}),
            413u16,
        ),
        (
            500,
            json!({"code": 500, "message": "unzip csar with exception.", "retCode": 10013}),
            500,
        ),
        (
            401,
            json!({"status": 401, "message": "Access token expired"}),
            401,
        ),
    ] {
        let (server, client) = setup().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
        let e = client
            .upload(&upload_form(&dir, 100), |_, _| {})
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(check), "{e}");
        assert!(!e.problem().unwrap().detail.is_empty(), "{e}");
        if status == 500 {
            assert!(e.is_retryable());
            assert_eq!(e.problem().unwrap().status, 10013);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_upload_whose_connection_is_cut_is_a_transport_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 1024];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
            drop(socket); // cut while the body is still coming
        }
    });
    let client = Client::builder(format!("http://{addr}"))
        .access_token("jwt")
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("wm-cut-{}", std::process::id()));
    let e = client
        .upload(&upload_form(&dir, 2 << 20), |_, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(e, mec_appstore_client::Error::Transport { .. }),
        "{e:?}"
    );
    assert!(e.is_retryable());
    let _ = std::fs::remove_dir_all(&dir);
}
