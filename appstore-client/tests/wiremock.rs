//! Every client operation against wiremock fixtures in appstore-be's own shapes: method, path, query, headers and
//! body exactly as sent (no empty lists, the token's `userId`/`userName`, real sort keys, typed bodies), answers
//! decoded, errors typed.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use base64::Engine;
use mec_appstore_client::{
    AppFilter, AppQuery, AppSortKey, AppStatus, AppType, Client, DownloadOptions,
    ExternalStoreForm, Industry, PackageEdit, PackageQuery, PackageSortKey, PackageStatus,
    PullRequest, Scope, ShowType, SortOrder, UploadForm,
};
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const APP: &str = "0123456789abcdef0123456789abcdef";
const PKG: &str = "fedcba9876543210fedcba9876543210";
const USER: &str = "39937079-99fe-4cd8-881f-04ca8c4fe09d";

/// A token with user-mgmt's claims.
fn token() -> String {
    let enc = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let claims = json!({"user_name": "tenant", "userName": "tenant", "userId": USER,
        "authorities": ["ROLE_APPSTORE_TENANT"], "exp": 4_000_000_000u64, "jti": "j", "scope": ["all"]});
    format!(
        "{}.{}.c2lnbmF0dXJl",
        enc(br#"{"alg":"RS256","typ":"JWT"}"#),
        enc(&serde_json::to_vec(&claims).unwrap())
    )
}

async fn setup() -> (MockServer, Client) {
    let server = MockServer::start().await;
    let client = Client::builder(format!("{}/be", server.uri()))
        .access_token(token())
        .build()
        .unwrap();
    (server, client)
}

fn app_json() -> serde_json::Value {
    json!({"appId": APP, "packageId": PKG, "name": "snake", "provider": "acme", "type": "Game", "shortDesc": "a game",
           "showType": "public", "createTime": "2021-07-02 14:50:00", "downloadCount": 3, "affinity": "X86",
           "industry": "Others", "score": 4.5, "status": "Published", "deployMode": "container", "free": true, "price": 0,
           "experienceAble": false, "hotApp": false})
}

fn package_json(status: &str) -> serde_json::Value {
    json!({"packageId": PKG, "appId": APP, "name": "snake", "version": "1.0", "provider": "acme", "size": "11879",
           "status": status, "testTaskId": "t1", "deployMode": "container", "createTime": 1625237400000u64,
           "experienceAble": true, "showType": "public", "userId": USER, "userName": "tenant"})
}

const BASE: &str = "/be/mec/appstore";

#[tokio::test]
async fn the_default_query_sends_no_empty_list_and_real_sort_keys() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v2/apps/action/query")))
        .and(header("access_token", token().as_str()))
        .and(body_json(json!({"showType": ["public", "inner-public"],
            "queryCtrl": {"offset": 0, "limit": 20, "sortItem": "createTime", "sortType": "DESC", "status": ["Published"]}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [app_json()], "limit": 20, "offset": 0, "total": 1})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v2/apps/action/query")))
        .and(body_json(json!({"types": ["Game"], "industry": ["Smart City"], "workloadType": ["vm"], "userId": USER,
            "queryCtrl": {"offset": 40, "limit": 20, "sortItem": "appName", "sortType": "ASC", "appName": "sn"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [], "limit": 20, "offset": 40, "total": 0})))
        .expect(1)
        .mount(&server)
        .await;
    let page = client.query_apps(&AppQuery::default()).await.unwrap();
    assert_eq!(
        (page.total, page.results[0].status.clone()),
        (1, Some(AppStatus::Published))
    );
    let q = AppQuery::new()
        .name("sn")
        .page(40, 20)
        .sort(AppSortKey::AppName, SortOrder::Asc)
        .types([AppType::Game])
        .industries([Industry::SmartCity])
        .workload_types([mec_appstore_client::WorkloadType::Vm])
        .show_types([])
        .statuses([])
        .user_id(USER);
    client.query_apps(&q).await.unwrap();
    // Every sort key has a column name the store knows (none is `name`).
    let keys: Vec<&str> = AppSortKey::ALL.iter().map(|k| k.as_str()).collect();
    assert!(keys.contains(&"appName") && !keys.contains(&"name"));
}

#[tokio::test]
async fn lists_send_the_tokens_user_id_for_ones_own_entries() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps")))
        .and(query_param("name", "snake"))
        .and(query_param("type", "Game"))
        .and(query_param_is_missing("userId"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([app_json()])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps")))
        .and(query_param("userId", USER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([app_json()])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps/{APP}/packages")))
        .and(query_param("userId", USER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([package_json("Upload")])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps/{APP}/packages")))
        .and(query_param_is_missing("userId"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v2/apps/{APP}/packages")))
        .and(query_param("userId", USER))
        .and(query_param("limit", "5"))
        .and(query_param("offset", "10"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([package_json("Upload")])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/packages")))
        .and(query_param("userId", USER))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([package_json("Test_running")])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v2/packages/action/query")))
        .and(body_json(json!({"offset": 0, "limit": 20, "sortItem": "version", "sortType": "ASC", "status": ["Upload"]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [package_json("Upload")], "limit": 20, "offset": 0, "total": 1})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v2/packages")))
        .and(query_param("startTime", "2021-07-01"))
        .and(query_param("endTime", "2021-08-01"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"results": [], "limit": 10, "offset": 0, "total": 0})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let published = client
        .list_apps(&AppFilter::new().name("snake").app_type(AppType::Game))
        .await
        .unwrap();
    assert_eq!(published[0].type_, Some(AppType::Game));
    client
        .list_apps(&AppFilter::new().scope(Scope::Mine))
        .await
        .unwrap();
    let mine = client.app(APP).packages().list(Scope::Mine).await.unwrap();
    assert_eq!(
        (mine[0].size_bytes(), mine[0].experience_able),
        (Some(11879), Some(true))
    );
    assert!(
        client
            .app(APP)
            .packages()
            .list(Scope::Published)
            .await
            .unwrap()
            .is_empty()
    );
    client
        .app(APP)
        .packages()
        .page(Scope::Mine, 10, 5)
        .await
        .unwrap();
    assert_eq!(
        client.my_packages().await.unwrap()[0].status,
        Some(PackageStatus::TestRunning)
    );
    let q = PackageQuery::new()
        .sort(PackageSortKey::Version, SortOrder::Asc)
        .statuses([PackageStatus::Upload]);
    assert_eq!(client.query_my_packages(&q).await.unwrap().total, 1);
    client
        .published_packages(0, 10, Some(("2021-07-01", "2021-08-01")))
        .await
        .unwrap();
}

#[tokio::test]
async fn changes_name_the_tokens_user() {
    let (server, client) = setup().await;
    let pkg = format!("{BASE}/v1/apps/{APP}/packages/{PKG}");
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
    for (m, p) in [
        ("POST", format!("{pkg}/action/unpublish")),
        ("DELETE", pkg.clone()),
        ("DELETE", format!("{BASE}/v1/apps/{APP}")),
    ] {
        Mock::given(method(m))
            .and(path(p))
            .and(query_param("userId", USER))
            .and(query_param("userName", "tenant"))
            .respond_with(ResponseTemplate::new(200).set_body_string("done"))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v1/apps/{APP}/comments")))
        .and(query_param("userId", USER))
        .and(query_param("userName", "tenant"))
        .and(body_json(json!({"body": "nice", "score": 4.0})))
        .respond_with(ResponseTemplate::new(200).set_body_string("comments success."))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        client
            .app(APP)
            .packages()
            .package(PKG)
            .test()
            .await
            .unwrap()
            .atp_task_id,
        "t1"
    );
    client
        .app(APP)
        .packages()
        .package(PKG)
        .publish(Some(9.5))
        .await
        .unwrap();
    client
        .app(APP)
        .packages()
        .package(PKG)
        .unpublish()
        .await
        .unwrap();
    client
        .app(APP)
        .packages()
        .package(PKG)
        .delete()
        .await
        .unwrap();
    client.app(APP).delete().await.unwrap();
    client.app(APP).comments().add("nice", 4.0).await.unwrap();
    assert!(client.app(APP).comments().add("", 4.0).await.is_err());
    assert!(client.app(APP).comments().add("x", 6.0).await.is_err());
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
        .app(APP)
        .packages()
        .package(PKG)
        .wait_for_test(Duration::from_millis(1), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(p.status, Some(PackageStatus::TestSuccess));

    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(package_json("Test_waiting")))
        .mount(&server)
        .await;
    let e = client
        .app(APP)
        .packages()
        .package(PKG)
        .wait_for_test(Duration::from_millis(5), Duration::from_millis(20))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Test_waiting"), "{e}");
}

#[tokio::test]
async fn errors_carry_the_appstore_code_and_message() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v1/apps/{APP}/packages/{PKG}/action/publish")))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"timestamp": "2021-07-02T14:50:00.000+0000", "code": 500,
            "error": "Internal Server Error", "message": "Test status is not success, publish failed", "path": "/x", "retCode": 11002, "params": null, "data": null})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps/{APP}")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"timestamp": "x", "status": 401, "error": "Unauthorized", "message": "", "path": "/mec/appstore/v1/apps/x"})))
        .mount(&server)
        .await;
    let e = client
        .app(APP)
        .packages()
        .package(PKG)
        .publish(None)
        .await
        .unwrap_err();
    let p = e.problem().unwrap();
    assert_eq!(
        (e.status(), p.status, p.detail.as_str()),
        (
            Some(500),
            11002,
            "Test status is not success, publish failed"
        )
    );
    assert!(e.is_refusal() && e.store_code() == Some(11002));
    let e = client.app(APP).get().await.unwrap_err();
    assert!(e.is_unauthorized() && !e.is_refusal());
    assert!(
        e.problem()
            .unwrap()
            .detail
            .contains("refused the access token"),
        "{e}"
    );
}

#[tokio::test]
async fn the_portal_is_named_when_it_answers() {
    let (server, client) = setup().await;
    // The gateway's sign-in page, reached by redirection, and its CSRF refusal.
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("<!DOCTYPE html><html><title>EdgeGallery</title></html>"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({"timestamp": "x", "status": 403, "error": "Forbidden",
            "message": "", "path": "/mec-appstore/mec/appstore/v1/apps/x/packages/y/action/test"}),
        ))
        .mount(&server)
        .await;
    let e = client.app(APP).get().await.unwrap_err();
    assert!(e.to_string().contains("appstore-be's own address"), "{e}");
    let e = client
        .app(APP)
        .packages()
        .package(PKG)
        .test()
        .await
        .unwrap_err();
    assert!(e.is_forbidden());
    assert!(
        e.problem().unwrap().detail.contains("http://<host>:8099"),
        "{e}"
    );
}

#[tokio::test]
async fn downloads_ask_for_images_and_stream_with_progress() {
    let (server, client) = setup().await;
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    Mock::given(method("GET"))
        .and(path(format!(
            "{BASE}/v1/apps/{APP}/packages/{PKG}/action/download"
        )))
        .and(header("access_token", token().as_str()))
        .and(query_param_is_missing("isDownloadImage"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(data.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "{BASE}/v1/apps/{APP}/packages/{PKG}/action/download"
        )))
        .and(query_param("isDownloadImage", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"with images".to_vec()))
        .expect(1)
        .mount(&server)
        .await;
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let n = client
        .app(APP)
        .packages()
        .package(PKG)
        .download_to(&Default::default(), &mut out, |done, total| {
            seen.push((done, total));
        })
        .await
        .unwrap();
    assert_eq!((n, out == data), (300_000, true));
    assert_eq!(
        seen.last(),
        Some(&(300_000, Some(300_000))),
        "a Content-Length, when sent, is the total"
    );
    let mut images = Vec::new();
    client
        .app(APP)
        .packages()
        .package(PKG)
        .download_to(
            &DownloadOptions::default().with_images(true),
            &mut images,
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(images, b"with images");
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps/{APP}/icon")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"icon".to_vec()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps/{APP}/packages/{PKG}/icon")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![0u8; (10 << 20) + 1]))
        .mount(&server)
        .await;
    assert_eq!(client.app(APP).icon().await.unwrap(), b"icon");
    assert!(
        client
            .app(APP)
            .packages()
            .package(PKG)
            .icon()
            .await
            .is_err(),
        "an icon is 10 MiB at most"
    );
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
                ResponseTemplate::new(200).set_body_json(json!({"accessToken": token()}))
            }
            _ => ResponseTemplate::new(403)
                .insert_header("set-cookie", "XSRF-TOKEN=xsrf-123; Path=/"),
        }
    }
}

#[tokio::test]
async fn login_does_the_csrf_handshake_and_reads_the_user_from_the_token() {
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
    let client = Client::builder(server.uri()).build().unwrap();
    client
        .login(&server.uri(), "tenant", "secret")
        .await
        .unwrap();
    let me = client.identity().unwrap();
    assert_eq!(
        (me.user_id.as_str(), me.user_name.as_str()),
        (USER, "tenant")
    );

    let denied = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": 70017, "message": "Login failed."})),
        )
        .mount(&denied)
        .await;
    let e = client
        .login(&denied.uri(), "tenant", "nope")
        .await
        .unwrap_err();
    assert!(e.is_unauthorized());
    assert_eq!(e.problem().unwrap().detail, "Login failed.");
}

fn upload_form(dir: &std::path::Path, size: usize) -> UploadForm {
    std::fs::create_dir_all(dir).unwrap();
    let package = dir.join("app.csar");
    std::fs::write(&package, vec![7u8; size]).unwrap();
    let icon = dir.join("icon.png");
    std::fs::write(&icon, b"png").unwrap();
    UploadForm::new(package, icon).app_type(AppType::Game)
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

fn multipart_lacks(req: &Request, needles: &[&str]) -> bool {
    let body = String::from_utf8_lossy(&req.body);
    needles.iter().all(|n| !body.contains(n))
}

/// Accepts a multipart request only when it carries every expected part and none of the unwanted ones.
struct Parts(
    &'static [&'static str],
    &'static [&'static str],
    serde_json::Value,
);

impl Respond for Parts {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if multipart_has(req, self.0) && multipart_lacks(req, self.1) {
            ResponseTemplate::new(200).set_body_json(self.2.clone())
        } else {
            ResponseTemplate::new(400)
                .set_body_json(json!({"message": "unexpected parts", "retCode": 1}))
        }
    }
}

fn registered() -> serde_json::Value {
    json!({"appName": "snake", "appId": APP, "packageId": PKG, "provider": "acme", "version": "1.0"})
}

#[tokio::test]
async fn upload_sends_one_multipart_request_with_every_part_as_the_tokens_user() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v1/apps")))
        .and(header("access_token", token().as_str()))
        .and(query_param("userId", USER))
        .and(query_param("userName", "tenant"))
        .respond_with(Parts(
            &[
                "name=\"file\"; filename=\"app.csar\"",
                "name=\"icon\"; filename=\"icon.png\"",
                "name=\"demoVideo\"; filename=\"demo.mp4\"",
                "name=\"type\"\r\n\r\nGame",
                "name=\"affinity\"\r\n\r\nARM64",
                "name=\"industry\"\r\n\r\nOthers",
                "name=\"showType\"\r\n\r\ninner-public",
                "name=\"testTaskId\"\r\n\r\natp-7",
                "name=\"experienceAble\"\r\n\r\ntrue",
            ],
            &[],
            registered(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let dir = std::env::temp_dir().join(format!("wm-upload-{}", std::process::id()));
    let video = dir.join("demo.mp4");
    let form = upload_form(&dir, 1000)
        .affinity(mec_appstore_client::Affinity::Arm64)
        .show_type(ShowType::InnerPublic)
        .test_task_id("atp-7")
        .experience_able(true);
    std::fs::write(&video, b"mp4").unwrap();
    let r = client
        .upload(&form.demo_video(&video), |_, _| {})
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
        .respond_with(
            ResponseTemplate::new(200).set_body_string("Upload package block successfully."),
        )
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
        .and(query_param("userId", USER))
        .respond_with(Parts(
            &[
                "name=\"fileAddress\"\r\n\r\n0123456789abcdef0123456789abcdef/app.csar",
                "name=\"icon\"",
                "name=\"showType\"\r\n\r\npublic",
            ],
            &["name=\"file\""],
            registered(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let dir = std::env::temp_dir().join(format!("wm-chunks-{}", std::process::id()));
    let size = (mec_appstore_client::CHUNKED_ABOVE + 1) as usize;
    client
        .upload(&upload_form(&dir, size), |_, _| {})
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let chunks: Vec<&Request> = requests
        .iter()
        .filter(|r| r.url.path().ends_with("/v1/apps/upload"))
        .collect();
    assert!(multipart_has(
        chunks[0],
        &[
            "name=\"chunkNumber\"\r\n\r\n1",
            "name=\"totalChunks\"\r\n\r\n2",
            &format!("name=\"totalSize\"\r\n\r\n{size}")
        ]
    ));
    assert!(multipart_has(
        chunks[1],
        &[
            "name=\"chunkNumber\"\r\n\r\n2",
            "name=\"currentChunkSize\"\r\n\r\n2097153"
        ]
    ));
    // One identifier per upload, the same for its chunks and the merge.
    let identifier = |r: &Request| {
        let body = String::from_utf8_lossy(&r.body).into_owned();
        body.split("name=\"identifier\"\r\n\r\n")
            .nth(1)
            .unwrap()
            .split("\r\n")
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(identifier(chunks[0]), identifier(chunks[1]));
    let merge = requests
        .iter()
        .find(|r| r.url.path().ends_with("/merge"))
        .unwrap();
    assert!(
        merge
            .url
            .query()
            .unwrap()
            .contains(&format!("guid={}", identifier(chunks[0])))
    );

    // A merge that finds nothing (200 and an empty address) is an error, not a registration of nothing.
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(""))
        .mount(&server)
        .await;
    let e = client
        .upload(&upload_form(&dir, size), |_, _| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("merged nothing"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn edits_send_what_changes_and_keep_experience_able() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/apps/{APP}/packages/{PKG}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(package_json("Published")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{BASE}/v1/apps/{APP}/package/{PKG}")))
        .respond_with(Parts(
            &[
                "name=\"shortDesc\"\r\n\r\nbetter",
                "name=\"experienceAble\"\r\n\r\ntrue",
                "name=\"doc\"; filename=\"README.md\"",
            ],
            &["name=\"type\"", "name=\"industry\"", "name=\"icon\""],
            package_json("Published"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let dir = std::env::temp_dir().join(format!("wm-edit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("README.md"), b"# snake").unwrap();
    let mut edit = PackageEdit::default();
    edit.short_desc = Some("better".into());
    edit.doc = Some(dir.join("README.md"));
    client
        .app(APP)
        .packages()
        .package(PKG)
        .edit(&edit)
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
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
            json!({"code": 500, "message": "the app package is illegal and may have been tampered!", "retCode": 10031}),
            500,
        ),
        (401, json!({"status": 401, "message": ""}), 401),
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
        assert_eq!(e.is_refusal(), status == 500, "{e}");
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
        .access_token(token())
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("wm-cut-{}", std::process::id()));
    let e = client
        .upload(&upload_form(&dir, 2 << 20), |_, _| {})
        .await
        .unwrap_err();
    assert!(e.is_transport(), "{e:?}");
    assert!(e.is_retryable());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn federation_sends_typed_bodies() {
    let (server, client) = setup().await;
    let store = json!({"appStoreId": "2c1d7e0a-0000-4000-8000-000000000001", "appStoreName": "partner",
        "appStoreVersion": "1.5", "company": "acme", "url": "http://10.0.0.9:30091", "appdTransId": "t1",
        "addedTime": "2022-01-01 00:00:00"});
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v1/appstores")))
        .respond_with(Parts(
            &[
                "name=\"appStoreName\"\r\n\r\npartner",
                "name=\"appStoreVersion\"\r\n\r\n1.5",
                "name=\"company\"\r\n\r\nacme",
                "name=\"url\"\r\n\r\nhttp://10.0.0.9:30091",
                "name=\"appdTransId\"\r\n\r\nt1",
                "name=\"schema\"\r\n\r\nhttp",
            ],
            &["name=\"description\""],
            store.clone(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "{BASE}/v1/appstores/2c1d7e0a-0000-4000-8000-000000000001"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(store.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "{BASE}/v1/appstores/00000000-0000-4000-8000-000000000000"
        )))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/packages/pushable")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([{"packageId": PKG, "name": "snake",
            "targetPlatform": ["s2"], "latestPushTime": "x", "type": "Game"}])),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v1/packages/{PKG}/action/push")))
        .and(body_json(json!({"targetPlatform": ["s1"]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([true])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/v1/packages/2c1d7e0a-0000-4000-8000-000000000001/pullable")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"packageId": "p9", "name": "tetris",
            "provider": "other", "version": "2", "affinity": "X86", "industry": "Others", "type": "Game",
            "shortDesc": "blocks", "atpTestStatus": "success"}])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/v1/packages/p9/action/pull")))
        .and(body_json(json!({"sourceStoreId": "2c1d7e0a-0000-4000-8000-000000000001", "sourceStoreName": "partner",
            "name": "tetris", "provider": "other", "version": "2", "atpTestStatus": "success", "affinity": "X86",
            "shortDesc": "blocks", "industry": "Others", "type": "Game", "userId": USER, "userName": "tenant"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(true)))
        .expect(1)
        .mount(&server)
        .await;
    let mut form = ExternalStoreForm::new("partner", "1.5", "acme", "http://10.0.0.9:30091", "t1");
    form.schema = Some("http".into());
    let added = client.external_stores().add(&form).await.unwrap();
    let mut bad = form.clone();
    bad.schema = Some("ftp".into());
    assert!(
        client.external_stores().add(&bad).await.is_err(),
        "schema is http or https"
    );
    let mut long = form.clone();
    long.app_store_name = Some("x".repeat(65));
    assert!(
        client.external_stores().add(&long).await.is_err(),
        "names are 64 characters at most"
    );
    assert_eq!(
        client
            .external_stores()
            .store("00000000-0000-4000-8000-000000000000")
            .get()
            .await
            .unwrap(),
        None
    );
    let pushable = client.pushable_packages().await.unwrap();
    assert_eq!(
        (
            pushable[0].extra["latestPushTime"].clone(),
            pushable[0].type_.clone()
        ),
        (json!("x"), Some(AppType::Game))
    );
    assert_eq!(
        client
            .federated_package(PKG)
            .push(&["s1".into()])
            .await
            .unwrap(),
        [true]
    );
    let source = client
        .external_stores()
        .store(&added.app_store_id)
        .get()
        .await
        .unwrap()
        .unwrap();
    let offered = client
        .external_stores()
        .store(&source.app_store_id)
        .pullable_packages()
        .await
        .unwrap();
    assert!(
        client
            .federated_package("p9")
            .pull(&PullRequest::new(&source, &offered[0]))
            .await
            .unwrap()
    );
}
