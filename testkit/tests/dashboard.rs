//! The dashboard in a real browser: headless Chromium driven over WebDriver (chromedriver, started by the test on
//! a free port) loads `/_mock/ui` from the `mock-mep` binary, sees a service the test registers over Mp1 appear
//! without a reload, shows attacker-controlled text as text, and terminates the app with its button.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`, `/usr/bin/chromedriver`; other places
//! with `MEC_TEST_CHROMIUM` and `MEC_TEST_CHROMEDRIVER`). Without them the test is skipped with the reason
//! printed, unless `MEC_TEST_BROWSER=required` (as `.ci/run` sets, after installing them): then it fails.
//! The screenshot it takes is written to the target directory, and to `docs/dashboard.png` when
//! `MEC_UPDATE_SCREENSHOT=1`.

#![allow(clippy::unwrap_used, clippy::panic)]

mod mock_process;

use fantoccini::{ClientBuilder, Locator};
use mec_core::signature::Credentials;
use mec_mp1::client::Client;
use mec_mp1::model::{SerializerType, ServiceInfo, ServiceState};
use mock_process::{DEMO_AK, DEMO_APP, DEMO_SK, MockProcess};
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn tool(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// The browser and its driver, or why the test cannot run.
fn browser() -> Result<(PathBuf, PathBuf), String> {
    let chromium = tool("MEC_TEST_CHROMIUM", "/usr/bin/chromium");
    let driver = tool("MEC_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
    for p in [&chromium, &driver] {
        if !p.is_file() {
            return Err(format!(
                "{} is missing (apt-get install chromium chromium-driver)",
                p.display()
            ));
        }
    }
    Ok((chromium, driver))
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

async fn start_driver(path: &PathBuf) -> (Driver, String) {
    let port = free_port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (driver, format!("http://127.0.0.1:{port}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not listen within 15 s");
}

/// The text of the element `css` finds once `done` accepts it (the page rebuilds its tables on every change, so
/// an element found may be replaced before it is read: it is found again).
async fn text_when(
    browser: &fantoccini::Client,
    css: &str,
    done: impl Fn(&str) -> bool,
) -> Result<String, String> {
    let mut last = String::new();
    for _ in 0..150 {
        if let Ok(e) = browser.find(Locator::Css(css)).await
            && let Ok(text) = e.text().await
        {
            if done(&text) {
                return Ok(text);
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{css} never read as expected; last {last:?}"))
}

/// What a client might send: shown by the dashboard, it must stay text.
const HOSTILE: &str = "<img src=x id=xss onerror=f()>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_live_state_and_terminates_an_app() {
    let (chromium, chromedriver) = match browser() {
        Ok(b) => b,
        Err(reason) => {
            if std::env::var("MEC_TEST_BROWSER").as_deref() == Ok("required") {
                panic!("MEC_TEST_BROWSER=required, but {reason}");
            }
            eprintln!("skipped: {reason} (set MEC_TEST_BROWSER=required to fail instead)");
            return;
        }
    };
    let mock = MockProcess::start(&[]).await;
    let (_driver, webdriver) = start_driver(&chromedriver).await;
    let profile = std::env::temp_dir().join(format!("mock-mep-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,1100", format!("--user-data-dir={}", profile.display())],
        }),
    );
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&webdriver)
        .await
        .expect("a browser session");
    let outcome = run(&browser, &mock).await;
    let _ = browser.close().await;
    let _ = std::fs::remove_dir_all(&profile);
    outcome.unwrap();
}

async fn run(browser: &fantoccini::Client, mock: &MockProcess) -> Result<(), String> {
    let wait = |secs| browser.wait().at_most(Duration::from_secs(secs));
    browser
        .goto(&mock.at("/_mock/ui"))
        .await
        .map_err(|e| e.to_string())?;
    wait(15)
        .for_element(Locator::Css("#live.on"))
        .await
        .map_err(|e| format!("the live stream did not connect: {e}"))?;
    wait(15)
        .for_element(Locator::Css(&format!("#apps tr[data-app='{DEMO_APP}']")))
        .await
        .map_err(|e| format!("the demo app is not listed: {e}"))?;
    // Anything set on the page now would be gone after a reload.
    browser
        .execute("window.__notReloaded = 42; return true;", vec![])
        .await
        .map_err(|e| e.to_string())?;

    // A service registered over Mp1, with a name no page should run, and a request with the same in its query.
    let client = Client::builder(&mock.url)
        .aksk(Credentials::new(DEMO_AK, DEMO_SK))
        .build()
        .unwrap();
    let (receiver, _notifications) =
        mec_mp1::receiver::NotificationReceiver::bind("127.0.0.1:0".parse().unwrap())
            .await
            .map_err(|e| e.to_string())?;
    client
        .app(DEMO_APP)
        .service_subscriptions()
        .create(
            &mec_mp1::model::SerAvailabilityNotificationSubscription::new(
                receiver.url().to_string(),
            ),
        )
        .await
        .map_err(|e| e.to_string())?;
    let (status, task) = mock
        .put(
            &format!("/_mock/apps/{DEMO_APP}/config"),
            json!({"appName": "demo", "appSupportMp1": true,
                   "appDNSRule": [{"dnsRuleId": "dns1", "domainName": "demo.example", "ipAddressType": "IP_V4",
                                   "ipAddress": "192.0.2.10", "ttl": 30, "state": "ACTIVE"}]}),
        )
        .await;
    if status != 200 {
        return Err(format!("the Mm5 configuration failed: {task}"));
    }
    let mut s = ServiceInfo::new(
        "live-service".to_owned(),
        "1.0".to_owned(),
        ServiceState::Active,
        SerializerType::Json,
    );
    s.transport_id = Some(client.transports().list().await.unwrap()[0].id.clone());
    s.liveness_interval = Some(60);
    client
        .app(DEMO_APP)
        .services()
        .register(&s)
        .await
        .map_err(|e| e.to_string())?;
    // MEC 011 leaves a service's version free text: whatever an app sends is shown.
    let mut hostile = s.clone();
    hostile.ser_name = "hostile-service".to_owned();
    hostile.version = HOSTILE.to_owned();
    client
        .app(DEMO_APP)
        .services()
        .register(&hostile)
        .await
        .map_err(|e| format!("a service with any version registers: {e}"))?;
    mock.http
        .get(mock.at("/mec_service_mgmt/v1/services"))
        .query(&[("ser_name", HOSTILE)])
        .send()
        .await
        .map_err(|e| e.to_string())?;

    text_when(browser, "#services tr[data-ser-name='live-service']", |t| {
        t.contains("ACTIVE") && t.contains(DEMO_APP)
    })
    .await
    .map_err(|e| format!("the registered service did not appear: {e}"))?;
    wait(15)
        .for_element(Locator::XPath(
            "//table[@id='requests']//td[contains(., 'ser_name=')]",
        ))
        .await
        .map_err(|e| format!("the live requests did not show the query: {e}"))?;
    let kept = browser
        .execute("return window.__notReloaded;", vec![])
        .await
        .map_err(|e| e.to_string())?;
    if kept != json!(42) {
        return Err(format!("the page was reloaded ({kept})"));
    }
    // Hostile text is shown as text: no element made of it, nothing run.
    text_when(
        browser,
        "#services tr[data-ser-name='hostile-service']",
        |t| t.contains(HOSTILE),
    )
    .await
    .map_err(|e| format!("the hostile version is not shown as text: {e}"))?;
    let injected = browser
        .execute(
            "return [document.getElementById('xss') !== null, document.title];",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    if injected != json!([false, "mock-mep dashboard"]) {
        return Err(format!("markup from the MEP's data ran: {injected}"));
    }

    let png = browser.screenshot().await.map_err(|e| e.to_string())?;
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    std::fs::write(&shot, &png).map_err(|e| e.to_string())?;
    eprintln!("screenshot: {}", shot.display());
    if std::env::var("MEC_UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/dashboard.png");
        std::fs::write(&docs, &png).map_err(|e| e.to_string())?;
    }

    // The terminate button ends the app (no termination subscriber: at once).
    let button = format!("button.terminate[data-app='{DEMO_APP}']");
    let mut clicked = Err(String::new());
    for _ in 0..50 {
        clicked = match browser.find(Locator::Css(&button)).await {
            Ok(b) => b.click().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if clicked.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    clicked.map_err(|e| format!("cannot press terminate: {e}"))?;
    for _ in 0..100 {
        let state = mock.get("/_mock/state").await;
        let app = state["apps"]
            .as_array()
            .and_then(|apps| apps.iter().find(|a| a["appInstanceId"] == DEMO_APP))
            .cloned()
            .unwrap_or_default();
        if app["state"] == "TERMINATED" {
            // And the page shows it, still without a reload.
            text_when(browser, &format!("#apps tr[data-app='{DEMO_APP}']"), |t| {
                t.contains("TERMINATED")
            })
            .await
            .map_err(|e| format!("the page does not show the termination: {e}"))?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the terminate button did not terminate the app".to_owned())
}
