//! The client against `MockAppStore`: upload (one request and chunked), test, publish, download byte for byte,
//! comments, deletion; refused uploads give typed errors and leave nothing behind.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use mec_appstore_client::{AppQuery, Client, PackageStatus, UploadForm};
use mec_csar::PackageBuilder;
use mec_testkit::MockAppStore;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn package(name: &str, version: &str, padding: usize) -> Vec<u8> {
    PackageBuilder::new(name)
        .metadata("app_product_name", name)
        .metadata("app_provider_id", "acme")
        .metadata("app_package_version", version)
        .metadata("app_release_data_time", "2026-11-24 12:00")
        .metadata("app_class", "container")
        .file(
            "APPD/app.yaml",
            "tosca_definitions_version: tosca_simple_yaml_1_2\n",
        )
        .file("Artifacts/Other/padding.bin", noise(padding))
        .entry_definitions("APPD/app.yaml")
        .write(Cursor::new(Vec::new()))
        .unwrap()
        .into_inner()
}

/// Incompressible bytes (xorshift), so that a package's size is what the test wants.
fn noise(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

struct Files(PathBuf);

impl Files {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("appstore-client-test-{}", uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn form(&self, package: &Path) -> UploadForm {
        UploadForm {
            package: package.to_owned(),
            icon: self.write("icon.png", b"\x89PNG fake icon"),
            app_type: "Game".into(),
            affinity: "X86".into(),
            industry: "Others".into(),
            show_type: "public".into(),
            user_id: "u1".into(),
            user_name: "tenant".into(),
        }
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn uuid_like() -> String {
    format!("{}-{:?}", std::process::id(), std::thread::current().id())
        .replace(|c: char| !c.is_ascii_alphanumeric(), "")
}

async fn client(store: &MockAppStore) -> Client {
    Client::builder(store.url())
        .access_token(store.token())
        .build()
        .unwrap()
}

#[tokio::test]
async fn upload_test_publish_download_comment_delete() {
    let store = MockAppStore::start().await;
    let client = client(&store).await;
    let files = Files::new();
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

    let apps = client.query_apps(&AppQuery::default()).await.unwrap();
    assert_eq!(apps.total, 1);
    assert_eq!(
        client.packages(&reg.app_id).await.unwrap()[0].status,
        Some(PackageStatus::Upload)
    );
    let e = client
        .publish(&reg.app_id, &reg.package_id, None)
        .await
        .unwrap_err();
    assert_eq!(
        e.problem().unwrap().status,
        11002,
        "publishing before a test is refused"
    );

    client
        .test_package(&reg.app_id, &reg.package_id)
        .await
        .unwrap();
    let tested = client
        .wait_for_test(
            &reg.app_id,
            &reg.package_id,
            Duration::from_millis(10),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(tested.status, Some(PackageStatus::TestSuccess));
    client
        .publish(&reg.app_id, &reg.package_id, None)
        .await
        .unwrap();
    assert_eq!(
        client
            .package(&reg.app_id, &reg.package_id)
            .await
            .unwrap()
            .status,
        Some(PackageStatus::Published)
    );

    let mut downloaded = Vec::new();
    client
        .download(&reg.app_id, &reg.package_id, &mut downloaded, |_, _| {})
        .await
        .unwrap();
    assert_eq!(downloaded, bytes, "byte for byte");
    assert_eq!(
        client.app(&reg.app_id).await.unwrap().download_count,
        Some(1)
    );

    client
        .add_comment(&reg.app_id, "u2", "fan", "fun", 5.0)
        .await
        .unwrap();
    assert_eq!(client.comments(&reg.app_id).await.unwrap()[0].body, "fun");

    let again = client
        .upload(&files.form(&path), |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(
        again.problem().unwrap().status,
        10022,
        "the same published version twice"
    );

    client
        .unpublish(&reg.app_id, &reg.package_id, "u1", "tenant")
        .await
        .unwrap();
    client
        .delete_package(&reg.app_id, &reg.package_id, "u1", "tenant")
        .await
        .unwrap();
    client
        .delete_app(&reg.app_id, "u1", "tenant")
        .await
        .unwrap();
    assert!(client.app(&reg.app_id).await.is_err());
    assert!(
        store
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/action/publish"))
    );
}

#[tokio::test]
async fn large_packages_go_in_chunks_and_arrive_whole() {
    let store = MockAppStore::start().await;
    let client = client(&store).await;
    let files = Files::new();
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
}

#[tokio::test]
async fn refused_uploads_say_why_and_leave_nothing_behind() {
    let store = MockAppStore::start().await;
    let client = client(&store).await;
    let files = Files::new();

    // A tampered package: a listed file changed after the manifest was written.
    let bytes = package("evil", "1.0", 100);
    let evil = mec_csar::replace_entry(
        Cursor::new(bytes),
        "Artifacts/Other/padding.bin",
        b"changed",
        Cursor::new(Vec::new()),
    )
    .unwrap()
    .into_inner();
    let tampered = files.write("evil.csar", &evil);
    let e = client
        .upload(&files.form(&tampered), |_, _| {})
        .await
        .unwrap_err();
    assert!(e.is_bad_request());
    assert_eq!(e.problem().unwrap().status, 10031, "{e}");

    // Not a package at all.
    let junk = files.write("junk.csar", b"not a zip");
    let e = client
        .upload(&files.form(&junk), |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(e.problem().unwrap().status, 10029, "{e}");
    assert!(store.packages().is_empty(), "nothing half-registered");

    // No token.
    let anonymous = Client::builder(store.url()).build().unwrap();
    let good = files.write("good.csar", &package("good", "1.0", 10));
    let e = anonymous
        .upload(&files.form(&good), |_, _| {})
        .await
        .unwrap_err();
    assert!(e.is_unauthorized());
    assert_eq!(e.problem().unwrap().detail, "Access token is empty");

    // A name with spaces is refused before anything is sent; a store that is gone is a transport error.
    let spaced = files.write("with space.csar", &package("s", "1.0", 10));
    assert!(matches!(
        client.upload(&files.form(&spaced), |_, _| {}).await,
        Err(mec_appstore_client::Error::InvalidRequest(_))
    ));
    let url = store.url().to_owned();
    drop(store);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let gone = Client::builder(url).access_token("x").build().unwrap();
    let e = gone
        .upload(&files.form(&good), |_, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(e, mec_appstore_client::Error::Transport { .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn push_to_and_pull_from_other_stores() {
    let store = MockAppStore::start().await;
    store.add_external_store("s1", "partner", "https://partner.example");
    store.offer_from("s1", serde_json::json!({"packageId": "p9", "name": "tetris", "provider": "other", "version": "2.0"}));
    let client = client(&store).await;
    let files = Files::new();
    let path = files.write("fed.csar", &package("fed", "1.0", 10));
    let reg = client.upload(&files.form(&path), |_, _| {}).await.unwrap();
    assert!(
        client.pushable_packages().await.unwrap().is_empty(),
        "only published packages are pushable"
    );
    client
        .test_package(&reg.app_id, &reg.package_id)
        .await
        .unwrap();
    client
        .wait_for_test(
            &reg.app_id,
            &reg.package_id,
            Duration::from_millis(5),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    client
        .publish(&reg.app_id, &reg.package_id, None)
        .await
        .unwrap();

    assert_eq!(
        client.external_stores().await.unwrap()[0].app_store_id,
        "s1"
    );
    assert_eq!(
        client.pushable_packages().await.unwrap()[0].package_id,
        reg.package_id
    );
    assert_eq!(
        client
            .push_package(&reg.package_id, &["s1".into(), "nowhere".into()])
            .await
            .unwrap(),
        [true, false]
    );
    assert_eq!(store.pushes(), [(reg.package_id.clone(), "s1".to_owned())]);
    assert_eq!(
        client.pushable_packages().await.unwrap()[0].target_platform,
        Some(vec!["s1".to_owned()])
    );

    let offered = client.pullable_packages("s1").await.unwrap();
    assert_eq!(offered[0].name, "tetris");
    assert!(
        client
            .pull_package("p9", &serde_json::json!({"sourceStoreId": "s1"}))
            .await
            .unwrap()
    );
    assert!(
        !client
            .pull_package("p9", &serde_json::json!({"sourceStoreId": "s1"}))
            .await
            .unwrap(),
        "pulled once"
    );
    assert!(
        client
            .pullable_packages("unknown")
            .await
            .unwrap_err()
            .problem()
            .unwrap()
            .status
            == 13001
    );
    let apps = client.list_apps(Some("fed"), None).await.unwrap();
    assert_eq!(apps.len(), 1);
}
