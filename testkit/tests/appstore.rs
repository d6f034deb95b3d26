//! `MockAppStore` on the wire, as appstore-be and user-mgmt answer: Spring's 401 body for every token refusal,
//! roles, the sign-in's CSRF handshake, business errors as 500s with their `retCode`, the v2 query failing where
//! appstore-be's SQL fails, an empty merge, downloads without `Content-Length`.

#![allow(clippy::unwrap_used)]

use mec_appstore_client::{Client, UploadForm};
use mec_testkit::{AppStoreRole, MockAppStore};
use serde_json::{Value, json};
use std::time::Duration;

const P: &str = "/mec/appstore";

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn body(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Uploads a sample package as the tenant; returns (app id, package id).
async fn upload(store: &MockAppStore, name: &str) -> (String, String) {
    let dir =
        std::env::temp_dir().join(format!("mock-appstore-wire-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let package = dir.join(format!("{name}.csar"));
    std::fs::write(&package, MockAppStore::sample_package(name, "1.0", 2000)).unwrap();
    std::fs::write(dir.join("icon.png"), b"png").unwrap();
    let client = Client::builder(store.url())
        .access_token(store.token())
        .build()
        .unwrap();
    let r = client
        .upload(&UploadForm::new(&package, dir.join("icon.png")), |_, _| {})
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    (r.app_id, r.package_id)
}

#[tokio::test]
async fn every_token_refusal_is_springs_401_body() {
    let store = MockAppStore::start().await;
    let apps = format!("{}{P}/v1/apps", store.url());
    let tenant = store.tenant().clone();
    // (token, query, why appstore-be refuses)
    type Case<'a> = (Option<String>, Vec<(&'a str, String)>, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (None, vec![], "Access token is empty"),
        (Some("not.a.jwt".into()), vec![], "Invalid access token."),
        (
            Some(store.token().to_owned()),
            vec![("userId", "00000000-0000-4000-8000-000000000000".into())],
            "Illegal userId",
        ),
        (
            Some(store.token().to_owned()),
            vec![
                ("userId", tenant.user_id.clone()),
                ("userName", "mallory".into()),
            ],
            "Illegal userName",
        ),
    ];
    for (i, (token, query, reason)) in cases.into_iter().enumerate() {
        let mut r = http().get(&apps).query(&query);
        if let Some(t) = token {
            r = r.header("access_token", t);
        }
        let (status, b) = body(r.send().await.unwrap()).await;
        assert_eq!(status, 401, "{reason}");
        assert_eq!(
            (
                b["status"].clone(),
                b["error"].clone(),
                b["message"].clone(),
                b["path"].clone()
            ),
            (
                json!(401),
                json!("Unauthorized"),
                json!(""),
                json!(format!("{P}/v1/apps"))
            ),
            "Spring Boot's default body, message left empty"
        );
        assert!(b["timestamp"].is_string() && b.get("retCode").is_none());
        assert!(
            store.refusals()[i].ends_with(reason),
            "{:?}",
            store.refusals()
        );
    }
    // The token's own values pass.
    let r = http()
        .get(&apps)
        .header("access_token", store.token())
        .query(&[("userId", &tenant.user_id), ("userName", &tenant.user_name)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Tokens live 12 hours of the mock's clock.
    store.advance(Duration::from_secs(12 * 3600 + 1));
    let r = http()
        .get(&apps)
        .header("access_token", store.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        store
            .refusals()
            .last()
            .unwrap()
            .ends_with("Access token expired")
    );
    let fresh = store.token_for(&tenant);
    let r = http()
        .get(&apps)
        .header("access_token", fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn roles_are_checked_as_pre_authorize_does() {
    let store = MockAppStore::start().await;
    let (app, pkg) = upload(&store, "roles").await;
    let guest = store.token_for(&store.user("guest").unwrap());
    let admin = store.token_for(&store.user("admin").unwrap());
    let url = |p: &str| format!("{}{P}{p}", store.url());
    // Guests read the catalogue (apps, their packages, icons, comments) but neither a package's details nor a
    // test.
    for (path, status) in [
        ("/v1/apps".to_owned(), 200),
        (format!("/v1/apps/{app}"), 200),
        (format!("/v1/apps/{app}/packages"), 200),
        (format!("/v1/apps/{app}/icon"), 200),
        (format!("/v1/apps/{app}/comments"), 200),
        (format!("/v1/apps/{app}/packages/{pkg}"), 403),
        (
            format!("/v1/apps/{app}/packages/{pkg}/action/download"),
            403,
        ),
    ] {
        let r = http()
            .get(url(&path))
            .header("access_token", &guest)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{path}");
    }
    let (status, b) = body(
        http()
            .post(url(&format!("/v1/apps/{app}/packages/{pkg}/action/test")))
            .header("access_token", &guest)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, b["code"].clone(), b["retCode"].clone()),
        (403, json!(403), json!(1))
    );
    // Federation is the admin's.
    let r = http()
        .get(url("/v1/appstores"))
        .header("access_token", store.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http()
        .get(url("/v1/appstores"))
        .header("access_token", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Another tenant may not delete the tenant's package; an admin may.
    let other = store.add_user("other", "pw", AppStoreRole::Tenant);
    let r = http()
        .delete(url(&format!("/v1/apps/{app}/packages/{pkg}")))
        .header("access_token", store.token_for(&other))
        .query(&[("userId", &other.user_id), ("userName", &other.user_name)])
        .send()
        .await
        .unwrap();
    let (status, b) = body(r).await;
    assert_eq!((status, b["retCode"].clone()), (403, json!(18002)));
}

#[tokio::test]
async fn sign_in_wants_the_csrf_handshake() {
    let store = MockAppStore::start().await;
    let url = format!("{}/v1/accesstoken", store.user_mgmt_url());
    let creds = json!({"userFlag": "tenant", "password": "tenant"});
    let first = http().post(&url).json(&creds).send().await.unwrap();
    assert_eq!(first.status(), 403);
    let cookie = first.headers()["set-cookie"].to_str().unwrap().to_owned();
    let xsrf = cookie
        .strip_prefix("XSRF-TOKEN=")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let send = |c: Value| {
        http()
            .post(&url)
            .header("cookie", format!("XSRF-TOKEN={xsrf}"))
            .header("X-XSRF-TOKEN", &xsrf)
            .json(&c)
            .send()
    };
    let (status, b) = body(send(creds.clone()).await.unwrap()).await;
    assert_eq!(status, 200);
    let token = b["accessToken"].as_str().unwrap().to_owned();
    let client = Client::builder(store.url())
        .access_token(token)
        .build()
        .unwrap();
    let me = client.identity().unwrap();
    assert_eq!(
        (me.user_id.as_str(), me.user_name.as_str()),
        (store.tenant().user_id.as_str(), "tenant")
    );
    assert!(me.is_tenant() && me.expires_at.is_some());
    let (status, b) = body(
        send(json!({"userFlag": "tenant", "password": "nope"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, b["code"].clone()), (401, json!(70017)));
    // A header that does not match the cookie is refused.
    let r = http()
        .post(&url)
        .header("cookie", format!("XSRF-TOKEN={xsrf}"))
        .header("X-XSRF-TOKEN", "forged")
        .json(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn business_errors_are_500s_with_their_code() {
    let store = MockAppStore::start().await;
    let (app, pkg) = upload(&store, "errors").await;
    let url = |p: &str| format!("{}{P}{p}", store.url());
    let tenant = store.tenant().clone();
    let me = [
        ("userId", tenant.user_id.as_str()),
        ("userName", tenant.user_name.as_str()),
    ];
    let pkg_url = format!("/v1/apps/{app}/packages/{pkg}");
    let cases = [
        (
            http()
                .post(url(&format!("{pkg_url}/action/publish")))
                .json(&json!({"free": true, "price": 0})),
            11002,
        ),
        (
            http()
                .post(url(&format!("{pkg_url}/action/unpublish")))
                .query(&me),
            11011,
        ),
        (
            http().get(url("/v1/apps/0123456789abcdef0123456789abcdef")),
            10027,
        ),
        (
            http().get(url(&format!(
                "/v1/apps/{app}/packages/0123456789abcdef0123456789abcdef"
            ))),
            11001,
        ),
        (
            http()
                .post(url(&format!("/v1/apps/{app}/comments")))
                .query(&me)
                .json(&json!({"body": "mine", "score": 5})),
            12001,
        ),
    ];
    for (request, code) in cases {
        let (status, b) = body(
            request
                .header("access_token", store.token())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 500, "{code}: {b}");
        assert_eq!(
            (b["code"].clone(), b["error"].clone(), b["retCode"].clone()),
            (json!(500), json!("Internal Server Error"), json!(code))
        );
        assert!(b["path"].as_str().unwrap().starts_with(P), "{b}");
    }
    // Testing twice: the second finds the test running.
    for expected in [200, 500] {
        let r = http()
            .post(url(&format!("{pkg_url}/action/test")))
            .header("access_token", store.token())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected);
    }
    // Validation, not business: a userId that is not a lowercase UUID is a 400 (retCode 1) once the token agrees.
    let r = http()
        .delete(url(&pkg_url))
        .header("access_token", store.token())
        .query(&[("userName", "tenant")])
        .send()
        .await
        .unwrap();
    let (status, b) = body(r).await;
    assert_eq!(
        (status, b["retCode"].clone()),
        (400, json!(1)),
        "userId is required"
    );
}

#[tokio::test]
async fn the_v2_query_fails_where_appstore_bes_sql_fails() {
    let store = MockAppStore::start().await;
    upload(&store, "sorted").await;
    let query = |body: Value| {
        http()
            .post(format!("{}{P}/v2/apps/action/query", store.url()))
            .header("access_token", store.token())
            .json(&body)
            .send()
    };
    let ctrl = json!({"offset": 0, "limit": 10, "sortItem": "createTime", "sortType": "DESC", "status": []});
    for bad in [
        json!({"showType": [], "queryCtrl": ctrl}),
        json!({"queryCtrl": {"offset": 0, "limit": 10, "sortItem": "name", "sortType": "ASC"}}),
        json!({"queryCtrl": {"offset": 0, "limit": 10, "sortItem": "appName", "sortType": "UP"}}),
        json!({"showType": ["public"]}),
    ] {
        let (status, b) = body(query(bad.clone()).await.unwrap()).await;
        assert_eq!(
            (status, b["retCode"].clone()),
            (500, json!(1)),
            "{bad} -> {b}"
        );
    }
    // Real columns in any case, as PostgreSQL folds them; `status: []` is no filter.
    for good in [
        json!({"queryCtrl": {"offset": 0, "limit": 10, "sortItem": "AppName", "sortType": "asc", "status": []}}),
        json!({"showType": ["public", "inner-public"], "queryCtrl": {"offset": 0, "limit": 10, "sortItem": "downloadCount", "sortType": "DESC"}}),
    ] {
        let (status, b) = body(query(good.clone()).await.unwrap()).await;
        assert_eq!(status, 200, "{good} -> {b}");
    }
    let (_, b) = body(
        query(json!({"queryCtrl": {"offset": 0, "limit": 10, "status": []}}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        b["total"], 1,
        "an unpublished app, no visibility filter: {b}"
    );
    let (_, b) = body(
        query(json!({"queryCtrl": {"offset": 0, "limit": 10, "status": ["Published"]}}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(b["total"], 0, "{b}");
}

#[tokio::test]
async fn an_unknown_merge_is_an_empty_200_and_downloads_have_no_length() {
    let store = MockAppStore::start().await;
    let r = http()
        .get(format!("{}{P}/v1/apps/merge", store.url()))
        .header("access_token", store.token())
        .query(&[("fileName", "x.csar"), ("guid", "nothing-here")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "");

    let (app, pkg) = upload(&store, "stream").await;
    let r = http()
        .get(format!(
            "{}{P}/v1/apps/{app}/packages/{pkg}/action/download",
            store.url()
        ))
        .header("access_token", store.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("content-length").is_none(),
        "{:?}",
        r.headers()
    );
    assert_eq!(r.headers()["transfer-encoding"], "chunked");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=stream_download.zip"
    );
    let bytes = r.bytes().await.unwrap();
    assert_eq!(bytes.to_vec(), store.package_bytes(&app, &pkg).unwrap());
}

#[tokio::test]
async fn external_stores_answer_as_appstore_be() {
    let store = MockAppStore::start().await;
    let admin = store.token_for(&store.user("admin").unwrap());
    let url = |p: &str| format!("{}{P}{p}", store.url());
    let unknown = "00000000-0000-4000-8000-000000000000";
    let r = http()
        .get(url(&format!("/v1/appstores/{unknown}")))
        .header("access_token", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.bytes().await.unwrap().is_empty(),
        "an unknown store is an empty 200"
    );
    let (status, b) = body(
        http()
            .get(url(&format!("/v1/packages/{unknown}/pullable")))
            .header("access_token", &admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, b), (200, json!([])));
    let (status, b) = body(
        http()
            .get(url("/v1/appstores/not-a-uuid"))
            .header("access_token", &admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, b["retCode"].clone()), (400, json!(1)));
    let (status, b) = body(
        http()
            .post(url("/v1/packages/p9/action/pull"))
            .header("access_token", &admin)
            .json(&json!({"sourceStoreId": unknown}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, b),
        (200, json!(false)),
        "a pull from an unknown store"
    );
}
