//! The `mec-appstore` command line against `MockAppStore`: upload, list, test, publish, download, delete, with
//! `--json`; credentials from flags or the environment, never echoed.

#![allow(clippy::unwrap_used)]

use mec_testkit::MockAppStore;
use std::io::Cursor;
use std::process::Output;

async fn run(args: Vec<String>, env: Vec<(&'static str, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mec-appstore"))
            .args(&args)
            .env_remove("MEC_APPSTORE_URL")
            .env_remove("MEC_APPSTORE_TOKEN")
            .envs(env)
            .env(
                "XDG_CONFIG_HOME",
                std::env::temp_dir().join("mec-appstore-cli-test-config"),
            )
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[tokio::test]
async fn a_publishing_session_from_the_command_line() {
    let store = MockAppStore::start().await;
    let dir = std::env::temp_dir().join(format!("mec-appstore-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = mec_csar::PackageBuilder::new("cliapp")
        .metadata("app_product_name", "cliapp")
        .metadata("app_provider_id", "acme")
        .metadata("app_package_version", "1.0")
        .metadata("app_release_data_time", "2026-11-24 12:00")
        .metadata("app_class", "container")
        .file(
            "APPD/app.yaml",
            "tosca_definitions_version: tosca_simple_yaml_1_2\n",
        )
        .entry_definitions("APPD/app.yaml")
        .write(Cursor::new(Vec::new()))
        .unwrap()
        .into_inner();
    let package = dir.join("cliapp.csar");
    let icon = dir.join("icon.png");
    std::fs::write(&package, &bytes).unwrap();
    std::fs::write(&icon, b"png").unwrap();
    let s = |x: &str| x.to_owned();
    let url = store.url().to_owned();
    let env = vec![
        ("MEC_APPSTORE_URL", url.clone()),
        ("MEC_APPSTORE_TOKEN", store.token().to_owned()),
    ];

    let out = run(
        vec![
            s("--json"),
            s("upload"),
            package.display().to_string(),
            s("--icon"),
            icon.display().to_string(),
            s("--user-id"),
            s("u1"),
            s("--user-name"),
            s("tenant"),
        ],
        env.clone(),
    )
    .await;
    let reg = json(&out);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(store.token()),
        "the token is never printed"
    );
    let (app, pkg) = (
        reg["appId"].as_str().unwrap().to_owned(),
        reg["packageId"].as_str().unwrap().to_owned(),
    );

    let list = json(&run(vec![s("--json"), s("apps"), s("list")], env.clone()).await);
    assert_eq!(list["results"][0]["name"], "cliapp");
    let tested = json(
        &run(
            vec![s("--json"), s("test"), app.clone(), pkg.clone()],
            env.clone(),
        )
        .await,
    );
    assert!(tested["atpTaskId"].is_string());
    let done = json(
        &run(
            vec![
                s("--json"),
                s("test"),
                app.clone(),
                pkg.clone(),
                s("--wait"),
                s("10"),
            ],
            env.clone(),
        )
        .await,
    );
    assert_eq!(done["status"], "Test_success");
    assert!(
        run(vec![s("publish"), app.clone(), pkg.clone()], env.clone())
            .await
            .status
            .success()
    );
    let show = json(
        &run(
            vec![s("--json"), s("apps"), s("show"), app.clone()],
            env.clone(),
        )
        .await,
    );
    assert_eq!(show["packages"][0]["status"], "Published");

    let target = dir.join("copy.csar");
    // Flags instead of the environment this time.
    let dl = run(
        vec![
            s("--url"),
            url.clone(),
            s("--token"),
            store.token().to_owned(),
            s("download"),
            app.clone(),
            pkg.clone(),
            s("-o"),
            target.display().to_string(),
        ],
        vec![],
    )
    .await;
    assert!(
        dl.status.success(),
        "{}",
        String::from_utf8_lossy(&dl.stderr)
    );
    assert_eq!(std::fs::read(&target).unwrap(), bytes);

    let denied = run(
        vec![s("apps"), s("list")],
        vec![
            ("MEC_APPSTORE_URL", url.clone()),
            ("MEC_APPSTORE_TOKEN", s("wrong")),
        ],
    )
    .await;
    assert_eq!(denied.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&denied.stderr).contains("Invalid access token"));
    assert!(
        !String::from_utf8_lossy(&denied.stderr).contains("wrong"),
        "the token is never printed"
    );

    assert!(
        run(
            vec![
                s("delete"),
                app.clone(),
                s("--user-id"),
                s("u1"),
                s("--user-name"),
                s("tenant")
            ],
            env.clone()
        )
        .await
        .status
        .success()
    );
    assert!(store.packages().is_empty());
    let none = run(vec![s("apps"), s("list")], vec![]).await;
    assert!(String::from_utf8_lossy(&none.stderr).contains("no AppStore URL"));
    std::fs::remove_dir_all(&dir).unwrap();
}
