//! The `mec-appstore` command line against `MockAppStore`: sign-in, upload, list, show (one's own packages
//! included), test, publish, unpublish, comments, download, delete, federation, with `--json`; credentials from
//! flags, the environment or the saved file, never echoed; the user from the token.

#![allow(clippy::unwrap_used)]

use mec_testkit::{AppStoreRole, MockAppStore};
use std::path::{Path, PathBuf};
use std::process::Output;

struct Cli {
    config: PathBuf,
}

impl Cli {
    fn new(tag: &str) -> Self {
        let config = std::env::temp_dir().join(format!(
            "mec-appstore-cli-config-{}-{tag}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&config);
        Self { config }
    }

    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let config = self.config.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_mec-appstore"))
                .args(&args)
                .env_remove("MEC_APPSTORE_URL")
                .env_remove("MEC_APPSTORE_TOKEN")
                .env_remove("MEC_APPSTORE_PASSWORD")
                .envs(env)
                .env("XDG_CONFIG_HOME", config)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.config);
    }
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn files(tag: &str) -> (PathBuf, PathBuf, PathBuf, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!("mec-appstore-cli-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = MockAppStore::sample_package("cliapp", "1.0", 100);
    let package = dir.join("cliapp.csar");
    let icon = dir.join("icon.png");
    std::fs::write(&package, &bytes).unwrap();
    std::fs::write(&icon, b"png").unwrap();
    (dir, package, icon, bytes)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test]
async fn the_help_lists_every_command() {
    let cli = Cli::new("help");
    let help = ok(&cli.run(&["--help"], &[]).await);
    for command in [
        "login",
        "whoami",
        "apps",
        "packages",
        "upload",
        "test",
        "publish",
        "unpublish",
        "download",
        "delete",
        "comments",
        "federation",
    ] {
        assert!(
            help.contains(&format!("  {command} ")),
            "{command} in:\n{help}"
        );
    }
    let federation = ok(&cli.run(&["federation", "--help"], &[]).await);
    for command in ["stores", "pushable", "push", "pullable", "pull"] {
        assert!(
            federation.contains(&format!("  {command} ")),
            "{command} in:\n{federation}"
        );
    }
    let list = ok(&cli.run(&["apps", "list", "--help"], &[]).await);
    assert!(
        list.contains("--mine") && list.contains("appName"),
        "{list}"
    );
}

#[tokio::test]
async fn a_publishing_session_from_the_command_line() {
    let store = MockAppStore::start().await;
    let cli = Cli::new("session");
    let (dir, package, icon, bytes) = files("session");
    let url = store.url().to_owned();

    // Sign in with user management; the token is saved (0600), never printed.
    let login = cli
        .run(
            &[
                "--url",
                &url,
                "--json",
                "login",
                "--user-mgmt",
                store.user_mgmt_url(),
                "--user",
                "tenant",
            ],
            &[("MEC_APPSTORE_PASSWORD", "tenant")],
        )
        .await;
    let me = json(&login);
    assert_eq!(me["userId"], store.tenant().user_id.as_str());
    let saved = std::fs::read_to_string(cli.config.join("mec-appstore/config.json")).unwrap();
    let token = serde_json::from_str::<serde_json::Value>(&saved).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!String::from_utf8_lossy(&login.stdout).contains(&token));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cli.config.join("mec-appstore/config.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let whoami = ok(&cli.run(&["whoami"], &[]).await);
    assert!(
        whoami.contains("tenant") && whoami.contains("ROLE_APPSTORE_TENANT"),
        "{whoami}"
    );

    // Upload as the token's user (no user flags), from the saved settings.
    let reg = json(
        &cli.run(
            &[
                "--json",
                "upload",
                &s(&package),
                "--icon",
                &s(&icon),
                "--type",
                "game",
                "--experience-able",
            ],
            &[],
        )
        .await,
    );
    let (app, pkg) = (
        reg["appId"].as_str().unwrap().to_owned(),
        reg["packageId"].as_str().unwrap().to_owned(),
    );
    // Before publishing, `apps show` lists the uploader's own package; `apps list --mine` the app.
    let show = json(&cli.run(&["--json", "apps", "show", &app], &[]).await);
    assert_eq!(show["packages"][0]["status"], "Upload");
    assert_eq!(show["app"]["type"], "Game", "the type was read in any case");
    let list = json(&cli.run(&["--json", "apps", "list", "--mine"], &[]).await);
    assert_eq!(list["results"][0]["name"], "cliapp");
    let listed = json(&cli.run(&["--json", "apps", "list"], &[]).await);
    assert_eq!(listed["total"], 0, "not published yet");
    let mine = json(
        &cli.run(&["--json", "packages", "mine", "--status", "Upload"], &[])
            .await,
    );
    assert_eq!(mine["results"][0]["packageId"], pkg.as_str());

    let tested = json(&cli.run(&["--json", "test", &app, &pkg], &[]).await);
    assert!(tested["atpTaskId"].is_string());
    let done = json(
        &cli.run(&["--json", "test", &app, &pkg, "--wait", "10"], &[])
            .await,
    );
    assert_eq!(done["status"], "Test_success");
    ok(&cli.run(&["publish", &app, &pkg], &[]).await);
    let listed = json(
        &cli.run(
            &[
                "--json", "apps", "list", "--sort", "appName", "--order", "asc",
            ],
            &[],
        )
        .await,
    );
    assert_eq!(listed["results"][0]["name"], "cliapp");
    let bad_sort = cli.run(&["apps", "list", "--sort", "name"], &[]).await;
    assert!(!bad_sort.status.success());
    assert!(String::from_utf8_lossy(&bad_sort.stderr).contains("appName"));

    // Comments: not on one's own app; another user's, listed.
    let own = cli
        .run(&["comments", "add", &app, "--score", "5", "mine"], &[])
        .await;
    assert!(!own.status.success());
    assert!(String::from_utf8_lossy(&own.stderr).contains("own app"));
    let fan = store.add_user("fan", "pw", AppStoreRole::Tenant);
    let fan_token = store.token_for(&fan);
    ok(&cli
        .run(
            &["comments", "add", &app, "--score", "4", "nice game"],
            &[("MEC_APPSTORE_TOKEN", &fan_token)],
        )
        .await);
    let comments = json(&cli.run(&["--json", "comments", "list", &app], &[]).await);
    assert_eq!(comments["results"][0]["body"], "nice game");

    // Download with flags instead of the saved settings.
    let target = dir.join("copy.csar");
    let dl = cli
        .run(
            &[
                "--url",
                &url,
                "--token",
                &token,
                "download",
                &app,
                &pkg,
                "-o",
                &s(&target),
            ],
            &[],
        )
        .await;
    ok(&dl);
    assert_eq!(std::fs::read(&target).unwrap(), bytes);
    store.cut_downloads_after(Some(50));
    let cut_target = dir.join("cut.csar");
    let cut = cli
        .run(&["download", &app, &pkg, "-o", &s(&cut_target)], &[])
        .await;
    assert!(!cut.status.success());
    assert!(!cut_target.exists(), "no partial file left behind");
    store.cut_downloads_after(None);

    ok(&cli.run(&["unpublish", &app, &pkg], &[]).await);
    let show = json(&cli.run(&["--json", "apps", "show", &app], &[]).await);
    assert_eq!(show["app"]["status"], "UnPublish");

    let denied = cli
        .run(&["apps", "list"], &[("MEC_APPSTORE_TOKEN", "wrong")])
        .await;
    assert_eq!(denied.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(stderr.contains("refused the access token"), "{stderr}");
    assert!(!stderr.contains("wrong"), "the token is never printed");

    ok(&cli.run(&["delete", &app, &pkg], &[]).await);
    assert!(
        store.packages().is_empty(),
        "the last package took the app with it"
    );
    let none = Cli::new("none").run(&["apps", "list"], &[]).await;
    assert!(String::from_utf8_lossy(&none.stderr).contains("no AppStore URL"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn federation_from_the_command_line() {
    let store = MockAppStore::start().await;
    let cli = Cli::new("federation");
    let (dir, package, icon, _) = files("federation");
    let admin = store.token_for(&store.user("admin").unwrap());
    let url = store.url().to_owned();
    let as_admin = [
        ("MEC_APPSTORE_URL", url.as_str()),
        ("MEC_APPSTORE_TOKEN", admin.as_str()),
    ];
    let as_tenant = [
        ("MEC_APPSTORE_URL", url.as_str()),
        ("MEC_APPSTORE_TOKEN", store.token()),
    ];

    let added = json(
        &cli.run(
            &[
                "--json",
                "federation",
                "stores",
                "add",
                "--name",
                "partner",
                "--version",
                "1.5",
                "--company",
                "acme",
                "--store-url",
                "http://10.0.0.9:30091",
                "--appd-trans-id",
                "t1",
            ],
            &as_admin,
        )
        .await,
    );
    let id = added["appStoreId"].as_str().unwrap().to_owned();
    let bad = cli
        .run(
            &[
                "federation",
                "stores",
                "add",
                "--name",
                "x",
                "--version",
                "1",
                "--company",
                "y",
                "--store-url",
                "https://partner.example",
                "--appd-trans-id",
                "t",
            ],
            &as_admin,
        )
        .await;
    assert!(String::from_utf8_lossy(&bad.stderr).contains("IPv4"));
    ok(&cli
        .run(
            &["federation", "stores", "edit", &id, "--description", "ours"],
            &as_admin,
        )
        .await);
    let shown = json(
        &cli.run(&["--json", "federation", "stores", "show", &id], &as_admin)
            .await,
    );
    assert_eq!(shown["description"], "ours");
    let listed = ok(&cli.run(&["federation", "stores", "list"], &as_admin).await);
    assert!(listed.contains("partner"));
    let forbidden = cli.run(&["federation", "stores", "list"], &as_tenant).await;
    assert!(!forbidden.status.success(), "the admin's");

    let reg = json(
        &cli.run(
            &["--json", "upload", &s(&package), "--icon", &s(&icon)],
            &as_tenant,
        )
        .await,
    );
    let (app, pkg) = (
        reg["appId"].as_str().unwrap(),
        reg["packageId"].as_str().unwrap(),
    );
    ok(&cli.run(&["test", app, pkg], &as_tenant).await);
    ok(&cli
        .run(&["test", app, pkg, "--wait", "10"], &as_tenant)
        .await);
    ok(&cli.run(&["publish", app, pkg], &as_tenant).await);
    let pushable = json(
        &cli.run(&["--json", "federation", "pushable"], &as_admin)
            .await,
    );
    assert_eq!(pushable[0]["packageId"], pkg);
    let pushed = json(
        &cli.run(
            &["--json", "federation", "push", pkg, "--to", &id],
            &as_admin,
        )
        .await,
    );
    assert_eq!(pushed[0]["pushed"], true);
    let unknown = cli
        .run(
            &[
                "federation",
                "push",
                pkg,
                "--to",
                "00000000-0000-4000-8000-000000000000",
            ],
            &as_admin,
        )
        .await;
    assert!(
        !unknown.status.success(),
        "a store that did not take it fails the command"
    );

    store.offer_from(
        &id,
        serde_json::json!({"packageId": "p9", "name": "tetris", "provider": "other",
        "version": "2.0", "type": "Game", "affinity": "X86", "industry": "Others"}),
    );
    let offered = ok(&cli.run(&["federation", "pullable", &id], &as_admin).await);
    assert!(offered.contains("tetris"));
    ok(&cli.run(&["federation", "pull", &id, "p9"], &as_admin).await);
    assert_eq!(store.pulls(), [("p9".to_owned(), id.clone())]);
    let again = cli.run(&["federation", "pull", &id, "p9"], &as_admin).await;
    assert!(String::from_utf8_lossy(&again.stderr).contains("offers no package"));
    ok(&cli
        .run(&["federation", "stores", "delete", &id], &as_admin)
        .await);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_stalled_download_ends_with_a_timeout_after_idle_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A store that answers the download's headers and a few bytes, then goes silent with the connection open.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nPK\r\n")
                    .await;
                std::future::pending::<()>().await;
            });
        }
    });
    let store = MockAppStore::start().await;
    let cli = Cli::new("stalled");
    std::fs::create_dir_all(&cli.config).unwrap();
    let out = cli.config.join("copy.csar");
    let o = cli
        .run(
            &[
                "--url",
                &url,
                "--token",
                store.token(),
                "--timeout",
                "1",
                "--idle-timeout",
                "1",
                "download",
                "a",
                "p",
                "-o",
                out.to_str().unwrap(),
            ],
            &[],
        )
        .await;
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("timed out") && stderr.contains("stalled"),
        "{stderr}"
    );
    assert!(!out.exists(), "a failed download leaves no partial file");
}
