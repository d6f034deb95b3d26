//! The client against `MockAppStore`, which answers as appstore-be does: uploads (one request and chunked) as the
//! token's user, the default query, one's own packages, sorting, downloads without `Content-Length`, edits,
//! icons, pages, comments, unpublishing, deletion, federation; refused requests give typed errors.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use mec_appstore_client::{
    Affinity, AppFilter, AppQuery, AppSortKey, AppStatus, AppType, Client, DownloadOptions,
    ExternalStoreForm, Industry, PackageEdit, PackageQuery, PackageStatus, PullRequest, Scope,
    ShowType, SortOrder, UploadForm,
};
use mec_testkit::{AppStoreRole, MockAppStore};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn package(name: &str, version: &str, padding: usize) -> Vec<u8> {
    MockAppStore::sample_package(name, version, padding)
}

struct Files(PathBuf);

impl Files {
    fn new(tag: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("appstore-client-test-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn form(&self, package: &Path) -> UploadForm {
        UploadForm::new(package, self.write("icon.png", b"\x89PNG fake icon"))
            .app_type(AppType::Game)
    }

    fn upload_form(&self, name: &str, version: &str) -> UploadForm {
        let p = self.write(
            &format!("{name}-{version}.csar"),
            &package(name, version, 1000),
        );
        self.form(&p)
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn client(store: &MockAppStore) -> Client {
    Client::builder(store.url())
        .access_token(store.token())
        .build()
        .unwrap()
}

fn client_as(store: &MockAppStore, name: &str, role: AppStoreRole) -> Client {
    let user = store
        .user(name)
        .unwrap_or_else(|| store.add_user(name, "pw", role));
    Client::builder(store.url())
        .access_token(store.token_for(&user))
        .build()
        .unwrap()
}

async fn tested_and_published(client: &Client, app: &str, pkg: &str) {
    let package = client.app(app).packages().package(pkg);
    package.test().await.unwrap();
    let tested = package
        .wait_for_test(Duration::from_millis(5), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(tested.status, Some(PackageStatus::TestSuccess));
    package.publish(None).await.unwrap();
}

#[tokio::test]
async fn a_package_from_upload_to_deletion() {
    let store = MockAppStore::start().await;
    let client = client(&store);
    let files = Files::new("life");
    let bytes = package("snake", "1.0", 1000);
    let path = files.write("snake.csar", &bytes);
    let mut progress = Vec::new();
    let reg = client
        .upload(&files.form(&path), |done, total| {
            progress.push((done, total));
        })
        .await
        .unwrap();
    assert_eq!(
        (
            reg.app_name.as_str(),
            reg.provider.as_str(),
            reg.version.as_str()
        ),
        ("snake", "acme", "1.0")
    );
    assert_eq!(
        progress.last(),
        Some(&(bytes.len() as u64, bytes.len() as u64))
    );

    // Publishing before a test: appstore-be's 500 with its code, a refusal (not worth retrying).
    let e = client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .publish(None)
        .await
        .unwrap_err();
    assert_eq!((e.status(), e.store_code()), (Some(500), Some(11002)));
    assert!(e.is_refusal());
    tested_and_published(&client, &reg.app_id, &reg.package_id).await;
    assert_eq!(
        client.app(&reg.app_id).get().await.unwrap().status,
        Some(AppStatus::Published)
    );

    let mut downloaded = Vec::new();
    client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .download_to(&Default::default(), &mut downloaded, |_, _| {})
        .await
        .unwrap();
    assert_eq!(downloaded, bytes, "byte for byte");
    assert_eq!(
        client.app(&reg.app_id).get().await.unwrap().download_count,
        Some(1)
    );

    // Comments: not on one's own app (12001); another user's counts.
    let e = client
        .app(&reg.app_id)
        .comments()
        .add("mine is best", 5.0)
        .await
        .unwrap_err();
    assert_eq!(e.store_code(), Some(12001), "{e}");
    let fan = client_as(&store, "fan", AppStoreRole::Tenant);
    fan.app(&reg.app_id)
        .comments()
        .add("fun", 4.0)
        .await
        .unwrap();
    let comments = client.app(&reg.app_id).comments().list().await.unwrap();
    assert_eq!(
        (
            comments[0].body.as_str(),
            comments[0]
                .user
                .as_ref()
                .and_then(|u| u.user_name.as_deref())
        ),
        ("fun", Some("fan"))
    );
    assert_eq!(
        client.app(&reg.app_id).get().await.unwrap().score,
        Some(4.5)
    );

    let again = client
        .upload(&files.form(&path), |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(
        again.store_code(),
        Some(10022),
        "the same published version twice"
    );

    // Unpublishing takes the app off the shelf.
    client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .unpublish()
        .await
        .unwrap();
    assert_eq!(
        client.app(&reg.app_id).get().await.unwrap().status,
        Some(AppStatus::UnPublish)
    );
    let e = client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .unpublish()
        .await
        .unwrap_err();
    assert_eq!(e.store_code(), Some(11011));
    // Another tenant may not delete it (403); deleting the last package deletes the app.
    let e = fan
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .delete()
        .await
        .unwrap_err();
    assert!(e.is_forbidden(), "{e}");
    client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .delete()
        .await
        .unwrap();
    let e = client.app(&reg.app_id).get().await.unwrap_err();
    assert_eq!(e.store_code(), Some(10027), "{e}");
    assert!(store.packages().is_empty());
}

#[tokio::test]
async fn the_default_query_lists_what_the_portal_lists_sorted_by_real_columns() {
    let store = MockAppStore::start().await;
    let client = client(&store);
    let files = Files::new("query");
    let mut ids = Vec::new();
    for (name, show, affinity, industry) in [
        (
            "cherry",
            ShowType::Public,
            Affinity::X86,
            Industry::SmartCity,
        ),
        (
            "apple",
            ShowType::InnerPublic,
            Affinity::Arm64,
            Industry::Others,
        ),
        ("banana", ShowType::Private, Affinity::X86, Industry::Others),
        (
            "date",
            ShowType::Public,
            Affinity::Arm64,
            Industry::SmartCity,
        ),
    ] {
        let form = files
            .upload_form(name, "1.0")
            .show_type(show)
            .affinity(affinity)
            .industry(industry)
            .app_type(if name == "apple" {
                AppType::Game
            } else {
                AppType::Others
            });
        let reg = client.upload(&form, |_, _| {}).await.unwrap();
        ids.push(reg);
    }
    for reg in &ids[..3] {
        tested_and_published(&client, &reg.app_id, &reg.package_id).await;
    }

    // The default: published, public or inner-public (an empty showType list would be a 500).
    let page = client.query_apps(&AppQuery::default()).await.unwrap();
    let names: Vec<&str> = page.results.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        (names.as_slice(), page.total),
        (["apple", "cherry"].as_slice(), 2)
    );
    let by_name = client
        .query_apps(&AppQuery::new().sort(AppSortKey::AppName, SortOrder::Asc))
        .await
        .unwrap();
    let names: Vec<&str> = by_name.results.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["apple", "cherry"]);
    // No visibility filter: the private one too (the filter is left out, never sent empty).
    let all = client
        .query_apps(
            &AppQuery::new()
                .show_types([])
                .sort(AppSortKey::AppName, SortOrder::Desc),
        )
        .await
        .unwrap();
    let names: Vec<&str> = all.results.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["cherry", "banana", "apple"]);
    // One's own apps in every status and visibility.
    let me = client.identity().unwrap();
    let mine = client
        .query_apps(
            &AppQuery::new()
                .user_id(&me.user_id)
                .statuses([])
                .show_types([])
                .page(0, 10),
        )
        .await
        .unwrap();
    assert_eq!(mine.total, 4);
    // Every filter the store applies: type, architecture, industry, workload, together.
    let names = |p: mec_appstore_client::Page<mec_appstore_client::App>| {
        let mut n: Vec<String> = p.results.into_iter().map(|a| a.name).collect();
        n.sort_unstable();
        n
    };
    let every = || AppQuery::new().show_types([]).statuses([]);
    let q = every().types([AppType::Game]);
    assert_eq!(names(client.query_apps(&q).await.unwrap()), ["apple"]);
    let q = every().affinities([Affinity::Arm64]);
    assert_eq!(
        names(client.query_apps(&q).await.unwrap()),
        ["apple", "date"]
    );
    let q = every().industries([Industry::SmartCity]);
    assert_eq!(
        names(client.query_apps(&q).await.unwrap()),
        ["cherry", "date"]
    );
    let q = every()
        .industries([Industry::SmartCity])
        .affinities([Affinity::X86]);
    assert_eq!(names(client.query_apps(&q).await.unwrap()), ["cherry"]);
    let q = every().workload_types([mec_appstore_client::WorkloadType::Vm]);
    assert!(client.query_apps(&q).await.unwrap().results.is_empty());
    // The total is appstore-be's count, whose SQL joins architecture, workload and type with `or`: what it
    // selects is not always what it counts.
    let q = AppQuery::new()
        .affinities([Affinity::Arm64])
        .types([AppType::Others]);
    let page = client.query_apps(&q).await.unwrap();
    assert_eq!((page.results.len(), page.total), (0, 3), "{page:?}");
    let named = client
        .query_apps(&AppQuery::new().name("APP"))
        .await
        .unwrap();
    assert_eq!(named.results[0].name, "apple", "names match in any case");
    // Every sort key is a column the store sorts by.
    for key in AppSortKey::ALL {
        client
            .query_apps(&AppQuery::new().sort(*key, SortOrder::Asc))
            .await
            .unwrap_or_else(|e| panic!("{key:?}: {e}"));
    }
    // The v1 list: published, not private.
    let listed = client.list_apps(&AppFilter::new()).await.unwrap();
    let mut names: Vec<&str> = listed.iter().map(|a| a.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["apple", "cherry"]);
    assert!(matches!(
        client.query_apps(&AppQuery::new().page(0, 501)).await,
        Err(mec_appstore_client::Error::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn ones_own_packages_show_with_the_tokens_user_id() {
    let store = MockAppStore::start().await;
    let client = client(&store);
    let files = Files::new("mine");
    let reg = client
        .upload(&files.upload_form("mine", "1.0"), |_, _| {})
        .await
        .unwrap();
    let me = client.identity().unwrap();
    assert_eq!(me.user_id, store.tenant().user_id);

    // What everyone sees: nothing yet. What the uploader sees: the package, refreshed.
    assert!(
        client
            .app(&reg.app_id)
            .packages()
            .list(Scope::Published)
            .await
            .unwrap()
            .is_empty()
    );
    let mine = client
        .app(&reg.app_id)
        .packages()
        .list(Scope::Mine)
        .await
        .unwrap();
    assert_eq!(
        (mine[0].package_id.as_str(), mine[0].user_id.as_deref()),
        (reg.package_id.as_str(), Some(me.user_id.as_str()))
    );
    assert!(
        client
            .list_apps(&AppFilter::new())
            .await
            .unwrap()
            .is_empty()
    );
    let my_apps = client
        .list_apps(&AppFilter::new().scope(Scope::Mine))
        .await
        .unwrap();
    assert_eq!(my_apps[0].app_id, reg.app_id);
    assert_eq!(
        client.my_packages().await.unwrap()[0].package_id,
        reg.package_id
    );
    let page = client
        .query_my_packages(&PackageQuery::new().statuses([PackageStatus::Upload]))
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    let paged = client
        .app(&reg.app_id)
        .packages()
        .page(Scope::Mine, 0, 10)
        .await
        .unwrap();
    assert_eq!(paged.len(), 1);

    // Another tenant's own lists do not hold it; an admin's query of packages does.
    let bob = client_as(&store, "bob", AppStoreRole::Tenant);
    assert!(
        bob.app(&reg.app_id)
            .packages()
            .list(Scope::Mine)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(bob.my_packages().await.unwrap().is_empty());
    let admin = client_as(&store, "admin", AppStoreRole::Admin);
    assert_eq!(
        admin
            .query_my_packages(&PackageQuery::new())
            .await
            .unwrap()
            .total,
        1
    );

    // A package bob uploads is bob's (the user comes from his token).
    let bobs = bob
        .upload(&files.upload_form("mine", "2.0"), |_, _| {})
        .await
        .unwrap();
    let stored = store
        .packages()
        .into_iter()
        .find(|(_, p)| p.package_id == bobs.package_id)
        .unwrap()
        .1;
    assert_eq!(stored.user_name.as_deref(), Some("bob"));
    assert_eq!(
        bobs.app_id, reg.app_id,
        "same name and provider: the same app"
    );
}

#[tokio::test]
async fn the_user_comes_from_the_token_or_nothing_is_sent() {
    let store = MockAppStore::start().await;
    let files = Files::new("token");
    let sent = || store.requests().len();

    // Not a JWT: refused before anything is sent.
    let opaque = Client::builder(store.url())
        .access_token("opaque")
        .build()
        .unwrap();
    let before = sent();
    let e = opaque
        .upload(&files.upload_form("t", "1.0"), |_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(e, mec_appstore_client::Error::Auth(_)), "{e:?}");
    // A service client's token names no user UUID: refused before anything is sent, saying why.
    let service = Client::builder(store.url())
        .access_token(jwt(
            &serde_json::json!({"userId": "appstore-be", "userName": "appstore-be",
            "authorities": ["ROLE_APPSTORE_TENANT"]}),
        ))
        .build()
        .unwrap();
    let e = service
        .app("0123456789abcdef0123456789abcdef")
        .delete()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("lowercase UUID"), "{e}");
    assert_eq!(sent(), before, "nothing reached the store");
    let anonymous = Client::builder(store.url()).build().unwrap();
    assert!(matches!(
        anonymous.identity(),
        Err(mec_appstore_client::Error::Auth(_))
    ));

    // An expired token: the store's 401, with a detail saying what it means.
    let client = client(&store);
    store.advance(Duration::from_secs(13 * 3600));
    let e = client.my_packages().await.unwrap_err();
    assert!(e.is_unauthorized());
    assert!(
        e.problem()
            .unwrap()
            .detail
            .contains("refused the access token"),
        "{e}"
    );
    assert!(store.refusals()[0].ends_with("Access token expired"));

    // Signing in with user management (its CSRF handshake) gives a token with the user's claims.
    let signed = Client::builder(store.url()).build().unwrap();
    signed
        .login(store.user_mgmt_url(), "tenant", "tenant")
        .await
        .unwrap();
    assert_eq!(signed.identity().unwrap().user_id, store.tenant().user_id);
    signed
        .upload(&files.upload_form("signed", "1.0"), |_, _| {})
        .await
        .unwrap();
    let e = signed
        .login(store.user_mgmt_url(), "tenant", "wrong")
        .await
        .unwrap_err();
    assert!(e.is_unauthorized() && e.problem().unwrap().detail == "Login failed.");
}

fn jwt(claims: &serde_json::Value) -> String {
    use base64::Engine;
    let enc = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    format!(
        "{}.{}.sig",
        enc(br#"{"alg":"RS256"}"#),
        enc(&serde_json::to_vec(claims).unwrap())
    )
}

#[tokio::test]
async fn downloads_without_content_length_keep_progress_and_find_truncation() {
    let store = MockAppStore::start().await;
    let client = client(&store);
    let files = Files::new("download");
    let bytes = package("big", "1.0", 300_000);
    let reg = client
        .upload(&files.form(&files.write("big.csar", &bytes)), |_, _| {})
        .await
        .unwrap();

    // No Content-Length: the package's size drives progress.
    let size = client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .get()
        .await
        .unwrap()
        .size_bytes();
    assert_eq!(size, Some(bytes.len() as u64));
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let n = client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .download_to(
            &DownloadOptions::default().size_hint(size),
            &mut out,
            |done, total| seen.push((done, total)),
        )
        .await
        .unwrap();
    assert_eq!((n, out == bytes), (bytes.len() as u64, true));
    assert!(seen.len() > 1, "progress along the way: {seen:?}");
    assert_eq!(seen.last(), Some(&(n, Some(n))));
    // Without a hint: bytes counted, no total.
    let mut seen = Vec::new();
    client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .download_to(&Default::default(), &mut Vec::new(), |d, t| {
            seen.push((d, t));
        })
        .await
        .unwrap();
    assert_eq!(seen.last(), Some(&(n, None)));
    // VM images asked for: the mock has none to add, the bytes are the package's.
    let mut with_images = Vec::new();
    client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .download_to(
            &DownloadOptions::default().with_images(true),
            &mut with_images,
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(with_images, bytes);

    // A download cut half-way is an error, not a short file.
    store.cut_downloads_after(Some(100_000));
    let mut partial = Vec::new();
    let e = client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .download_to(&Default::default(), &mut partial, |_, _| {})
        .await
        .unwrap_err();
    assert!(e.is_transport(), "{e:?}");
    assert!(partial.len() <= 100_000);
    store.cut_downloads_after(None);

    // A server that closes the connection to end the body (no length, no chunks): the zip end record decides.
    for (body, complete) in [
        (bytes.clone(), true),
        (bytes[..bytes.len() - 10].to_vec(), false),
    ] {
        let url = close_delimited_server(body).await;
        let raw = Client::builder(url)
            .access_token(store.token())
            .build()
            .unwrap();
        let result = raw
            .app("a")
            .packages()
            .package("p")
            .download_to(&Default::default(), &mut Vec::new(), |_, _| {})
            .await;
        match (complete, result) {
            (true, Ok(n)) => assert_eq!(n, bytes.len() as u64),
            (false, Err(e)) => assert!(
                e.is_incomplete() && e.to_string().contains("zip end record"),
                "{e}"
            ),
            (c, r) => panic!("complete {c}: {r:?}"),
        }
    }
}

/// A server answering every request with `body`, ended by closing the connection.
async fn close_delimited_server(body: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n")
                .await;
            let _ = socket.write_all(&body).await;
            let _ = socket.shutdown().await;
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn uploads_carry_video_test_and_experience_and_edits_keep_what_is_not_changed() {
    let store = MockAppStore::start().await;
    let client = client(&store);
    let files = Files::new("edit");
    let video = files.write("demo.mp4", b"not really a video");
    let form = files
        .upload_form("edited", "1.0")
        .demo_video(&video)
        .test_task_id("atp-task-1")
        .experience_able(true);
    let reg = client.upload(&form, |_, _| {}).await.unwrap();
    let p = client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .get()
        .await
        .unwrap();
    assert_eq!(
        (
            p.status,
            p.test_task_id.as_deref(),
            p.experience_able,
            p.demo_video_name.as_deref()
        ),
        (
            Some(PackageStatus::TestSuccess),
            Some("atp-task-1"),
            Some(true),
            Some("demo.mp4")
        ),
        "an ATP test already run stands"
    );
    assert_eq!(
        client.app(&reg.app_id).icon().await.unwrap(),
        b"\x89PNG fake icon"
    );
    let mut v = Vec::new();
    assert_eq!(
        client.app(&reg.app_id).demo_video(&mut v).await.unwrap(),
        18
    );
    assert_eq!(v, b"not really a video");

    // Changing the description leaves experienceAble as it was (the store would reset it to false).
    let mut edit = PackageEdit::default();
    edit.short_desc = Some("now with more snakes".into());
    edit.icon = Some(files.write("new.png", b"new icon"));
    let changed = client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .edit(&edit)
        .await
        .unwrap();
    assert_eq!(
        (changed.short_desc.as_deref(), changed.experience_able),
        (Some("now with more snakes"), Some(true))
    );
    assert_eq!(
        client
            .app(&reg.app_id)
            .packages()
            .package(&reg.package_id)
            .icon()
            .await
            .unwrap(),
        b"new icon"
    );
    assert_eq!(
        client
            .app(&reg.app_id)
            .get()
            .await
            .unwrap()
            .short_desc
            .as_deref(),
        Some("now with more snakes")
    );
    let mut off = PackageEdit::default();
    off.experience_able = Some(false);
    off.show_type = Some(ShowType::Private);
    let changed = client
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .edit(&off)
        .await
        .unwrap();
    assert_eq!(
        (changed.experience_able, changed.show_type),
        (Some(false), Some(ShowType::Private))
    );
    let e = client_as(&store, "eve", AppStoreRole::Tenant)
        .app(&reg.app_id)
        .packages()
        .package(&reg.package_id)
        .edit(&off)
        .await
        .unwrap_err();
    assert_eq!((e.status(), e.store_code()), (Some(403), Some(18005)));

    // Files are checked as the store checks them, before sending.
    let mut bad = PackageEdit::default();
    bad.icon = Some(files.write("icon.gif", b"gif"));
    assert!(matches!(
        client
            .app(&reg.app_id)
            .packages()
            .package(&reg.package_id)
            .edit(&bad)
            .await,
        Err(mec_appstore_client::Error::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn pages_of_packages_and_comments() {
    let store = MockAppStore::start().await;
    let client = client(&store);
    let files = Files::new("pages");
    let mut regs = Vec::new();
    for v in ["1.0", "1.1", "1.2"] {
        regs.push(
            client
                .upload(&files.upload_form("paged", v), |_, _| {})
                .await
                .unwrap(),
        );
    }
    let app = regs[0].app_id.clone();
    for r in &regs[..2] {
        tested_and_published(&client, &r.app_id, &r.package_id).await;
    }
    let first = client
        .app(&app)
        .packages()
        .page(Scope::Published, 0, 1)
        .await
        .unwrap();
    let second = client
        .app(&app)
        .packages()
        .page(Scope::Published, 1, 1)
        .await
        .unwrap();
    assert_eq!((first.len(), second.len()), (1, 1));
    assert_ne!(first[0].package_id, second[0].package_id);
    let published = client.published_packages(0, 10, None).await.unwrap();
    assert_eq!(published.total, 2);
    let today = &published.results[0];
    assert!(
        today
            .create_time
            .as_ref()
            .is_some_and(serde_json::Value::is_u64),
        "epoch ms, as Jackson writes a Date"
    );
    let none = client
        .published_packages(0, 10, Some(("2001-01-01", "2001-01-02")))
        .await
        .unwrap();
    assert_eq!(none.total, 0);
    assert!(
        client
            .published_packages(0, 10, Some(("01/01/2001", "x")))
            .await
            .is_err()
    );
    let mine = client
        .query_my_packages(
            &PackageQuery::new()
                .sort(mec_appstore_client::PackageSortKey::Version, SortOrder::Asc)
                .page(1, 1),
        )
        .await
        .unwrap();
    assert_eq!((mine.total, mine.results[0].version.as_str()), (3, "1.1"));

    for (i, who) in ["ann", "ben", "cat"].iter().enumerate() {
        client_as(&store, who, AppStoreRole::Tenant)
            .app(&app)
            .comments()
            .add(&format!("comment {i}"), 3.0)
            .await
            .unwrap();
    }
    let page = client.app(&app).comments().page(0, 2).await.unwrap();
    assert_eq!(
        (
            page.total,
            page.results.len(),
            page.results[0].body.as_str()
        ),
        (3, 2, "comment 2")
    );
    assert!(
        client.app(&app).comments().page(0, 0).await.is_err(),
        "a page holds at least one"
    );
}

#[tokio::test]
async fn large_packages_go_in_chunks_and_arrive_whole() {
    let store = MockAppStore::start().await;
    let client = client(&store);
    let files = Files::new("chunks");
    let bytes = package("big", "2.0", 12 << 20);
    assert!(bytes.len() as u64 > mec_appstore_client::CHUNKED_ABOVE);
    let path = files.write("big.csar", &bytes);
    let mut steps = Vec::new();
    let reg = client
        .upload(&files.form(&path), |done, _| steps.push(done))
        .await
        .unwrap();
    assert_eq!(steps.len(), 2, "two chunks of 8 MiB at most");
    assert_eq!(
        store.package_bytes(&reg.app_id, &reg.package_id).unwrap(),
        bytes
    );
    let chunks = store
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/v1/apps/upload"))
        .count();
    assert_eq!(chunks, 2);
    assert!(
        store
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/v1/apps/vm-register"))
    );

    // A small package with a large video goes in chunks too: one request may carry 50 MiB at most.
    let video = files.write("demo.mp4", &vec![0u8; 45 << 20]);
    let small = files.write("small.csar", &package("small", "1.0", 6 << 20));
    let before = store.requests().len();
    client
        .upload(&files.form(&small).demo_video(&video), |_, _| {})
        .await
        .unwrap();
    assert!(
        store.requests()[before..]
            .iter()
            .any(|r| r.path.ends_with("/v1/apps/vm-register"))
    );
}

#[tokio::test]
async fn refused_uploads_say_why_and_leave_nothing_behind() {
    let store = MockAppStore::start().await;
    let client = client(&store);
    let files = Files::new("refused");

    // A tampered package: a listed file changed after the manifest was written.
    let evil = mec_csar::replace_entry(
        Cursor::new(package("evil", "1.0", 100)),
        "Artifacts/Other/padding.bin",
        b"changed",
        Cursor::new(Vec::new()),
    )
    .unwrap()
    .into_inner();
    let e = client
        .upload(&files.form(&files.write("evil.csar", &evil)), |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.store_code()),
        (Some(500), Some(10031)),
        "{e}"
    );
    assert!(e.is_refusal());

    // Not a zip: the store's unzip fails (400, 10013).
    let e = client
        .upload(
            &files.form(&files.write("junk.csar", b"not a zip")),
            |_, _| {},
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.store_code()),
        (Some(400), Some(10013)),
        "{e}"
    );

    // A manifest without a version (500, 10029).
    let unversioned = mec_csar::PackageBuilder::new("nover")
        .metadata("app_product_name", "nover")
        .metadata("app_provider_id", "acme")
        .metadata("app_class", "container")
        .file(
            "APPD/app.yaml",
            "tosca_definitions_version: tosca_simple_yaml_1_2\n",
        )
        .entry_definitions("APPD/app.yaml")
        .write(Cursor::new(Vec::new()))
        .unwrap()
        .into_inner();
    let e = client
        .upload(
            &files.form(&files.write("nover.csar", &unversioned)),
            |_, _| {},
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.store_code()),
        (Some(500), Some(10029)),
        "{e}"
    );

    // A listing value appstore-be does not know (500, 10001).
    let form = files
        .upload_form("typo", "1.0")
        .app_type(AppType::parse_lenient("Gaem"));
    let e = client.upload(&form, |_, _| {}).await.unwrap_err();
    assert_eq!(
        (e.status(), e.store_code()),
        (Some(500), Some(10001)),
        "{e}"
    );
    assert!(store.packages().is_empty(), "nothing half-registered");

    // No token.
    let anonymous = Client::builder(store.url()).build().unwrap();
    let good = files.write("good.csar", &package("good", "1.0", 10));
    assert!(matches!(
        anonymous.upload(&files.form(&good), |_, _| {}).await,
        Err(mec_appstore_client::Error::Auth(_))
    ));

    // Names and files the store refuses, refused before anything is sent.
    let before = store.requests().len();
    for (package, icon) in [
        (
            files.write("with space.csar", b"x"),
            files.write("i.png", b"i"),
        ),
        (files.write("app.tar", b"x"), files.write("i.png", b"i")),
        (good.clone(), files.write("icon.svg", b"i")),
        (
            good.clone(),
            files.write("huge.png", &vec![0u8; (10 << 20) + 1]),
        ),
    ] {
        let e = client
            .upload(&UploadForm::new(&package, &icon), |_, _| {})
            .await
            .unwrap_err();
        assert!(
            matches!(e, mec_appstore_client::Error::InvalidRequest(_)),
            "{e:?}"
        );
    }
    assert_eq!(store.requests().len(), before);

    // A store that is gone is a transport error.
    let url = store.url().to_owned();
    let token = store.token().to_owned();
    drop(store);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let gone = Client::builder(url).access_token(token).build().unwrap();
    let e = gone
        .upload(&files.form(&good), |_, _| {})
        .await
        .unwrap_err();
    assert!(e.is_transport(), "{e:?}");
}

#[tokio::test]
async fn federation_manages_stores_and_pushes_and_pulls() {
    let store = MockAppStore::start().await;
    let admin = client_as(&store, "admin", AppStoreRole::Admin);
    let tenant = client(&store);

    let form = ExternalStoreForm::new(
        "partner",
        "1.5",
        "acme",
        "http://192.168.1.20:30091",
        "trans-1",
    );
    let added = admin.external_stores().add(&form).await.unwrap();
    assert_eq!(added.app_store_name, "partner");
    let id = added.app_store_id.clone();
    // appstore-be takes only IPv4 URLs: refused before sending.
    let hostname = ExternalStoreForm::new("x", "1", "y", "https://partner.example", "t");
    assert!(matches!(
        admin.external_stores().add(&hostname).await,
        Err(mec_appstore_client::Error::InvalidRequest(_))
    ));
    let mut change = ExternalStoreForm::default();
    change.description = Some("our partner".into());
    let changed = admin
        .external_stores()
        .store(&id)
        .edit(&change)
        .await
        .unwrap();
    assert_eq!(
        (
            changed.description.as_deref(),
            changed.app_store_name.as_str()
        ),
        (Some("our partner"), "partner")
    );
    assert_eq!(admin.external_stores().list().await.unwrap().len(), 1);
    assert_eq!(
        admin
            .external_stores()
            .page("PART", 0, 10)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        admin
            .external_stores()
            .store(&id)
            .get()
            .await
            .unwrap()
            .unwrap()
            .app_store_id,
        id
    );
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert_eq!(
        admin.external_stores().store(unknown).get().await.unwrap(),
        None
    );
    let e = admin
        .external_stores()
        .store(unknown)
        .edit(&change)
        .await
        .unwrap_err();
    assert_eq!(e.store_code(), Some(13003));
    assert!(
        tenant
            .external_stores()
            .list()
            .await
            .unwrap_err()
            .is_forbidden(),
        "the admin's"
    );

    // Push a published package.
    let files = Files::new("federation");
    let reg = tenant
        .upload(&files.upload_form("fed", "1.0"), |_, _| {})
        .await
        .unwrap();
    assert!(
        admin.pushable_packages().await.unwrap().is_empty(),
        "only published packages"
    );
    tested_and_published(&tenant, &reg.app_id, &reg.package_id).await;
    assert_eq!(
        admin.pushable_packages().await.unwrap()[0].package_id,
        reg.package_id
    );
    assert_eq!(
        admin
            .federated_package(&reg.package_id)
            .push(&[id.clone(), unknown.to_owned()])
            .await
            .unwrap(),
        [true, false]
    );
    assert_eq!(store.pushes(), [(reg.package_id.clone(), id.clone())]);
    assert_eq!(
        admin
            .federated_package(&reg.package_id)
            .pushable()
            .await
            .unwrap()
            .target_platform,
        Some(vec![id.clone()])
    );

    // Pull what the partner offers, with the typed body; it arrives as Upload, the admin's.
    store.offer_from(&id, serde_json::json!({"packageId": "p9", "name": "tetris", "provider": "other",
        "version": "2.0", "type": "Game", "affinity": "X86", "industry": "Others", "atpTestStatus": "success"}));
    assert!(
        admin
            .external_stores()
            .store(unknown)
            .pullable_packages()
            .await
            .unwrap()
            .is_empty(),
        "an unknown store offers nothing"
    );
    let offered = admin
        .external_stores()
        .store(&id)
        .pullable_packages()
        .await
        .unwrap();
    assert_eq!(offered[0].name, "tetris");
    let source = admin
        .external_stores()
        .store(&id)
        .get()
        .await
        .unwrap()
        .unwrap();
    assert!(
        admin
            .federated_package("p9")
            .pull(&PullRequest::new(&source, &offered[0]))
            .await
            .unwrap()
    );
    let pulled = store
        .packages()
        .into_iter()
        .find(|(_, p)| p.name == "tetris")
        .unwrap()
        .1;
    assert_eq!(
        (pulled.status, pulled.user_name.as_deref(), pulled.user_id),
        (
            Some(PackageStatus::Upload),
            Some("admin"),
            Some(admin.identity().unwrap().user_id)
        )
    );
    assert!(
        admin
            .external_stores()
            .store(&id)
            .pullable_packages()
            .await
            .unwrap()
            .is_empty(),
        "what is here is no longer offered"
    );
    let mut elsewhere = PullRequest::new(&source, &offered[0]);
    elsewhere.source_store_id = unknown.to_owned();
    assert!(
        !admin
            .federated_package("p9")
            .pull(&elsewhere)
            .await
            .unwrap()
    );
    admin.external_stores().store(&id).delete().await.unwrap();
    assert!(admin.external_stores().list().await.unwrap().is_empty());
}
