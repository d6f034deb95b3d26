//! The `mep-agent` binary as a container runs it: configured by EdgeGallery's environment, stopped by SIGTERM.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{PATIENCE, config_file, get, service_yaml, subscription_yaml};
use mec_testkit::MockMep;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use tokio::sync::mpsc;

const BIN: &str = env!("CARGO_BIN_EXE_mep-agent");

/// The agent's process and its standard error, line by line.
struct Process {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Process {
    fn spawn(mut command: Command) -> Self {
        command.stderr(Stdio::piped()).stdout(Stdio::null());
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line of the log containing `text`; returns it.
    async fn line(&mut self, text: &str) -> String {
        let found = tokio::time::timeout(PATIENCE, async {
            while let Some(line) = self.lines.recv().await {
                self.seen.push(line.clone());
                if line.contains(text) {
                    return Some(line);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(line)) => line,
            _ => panic!(
                "no log line with {text:?}; the agent wrote:\n{}",
                self.seen.join("\n")
            ),
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end; its exit code.
    async fn exit_code(mut self) -> (Option<i32>, Vec<String>) {
        let child = tokio::task::spawn_blocking(move || {
            let status = self.child.wait().unwrap();
            (status.code(), self.child)
        });
        let (code, _) = tokio::time::timeout(PATIENCE, child)
            .await
            .unwrap()
            .unwrap();
        while let Ok(Some(line)) =
            tokio::time::timeout(std::time::Duration::from_secs(2), self.lines.recv()).await
        {
            self.seen.push(line);
        }
        (code, self.seen)
    }
}

fn agent_command(mep: &MockMep, config: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    for key in [
        "AK",
        "SK",
        "APPINSTID",
        "MEP_IP",
        "MEP_APIGW_PORT",
        "EG_PROTOCOL",
        "CA_CERT",
    ] {
        command.env_remove(key);
    }
    command
        .env("MEP_IP", "127.0.0.1")
        .env("MEP_APIGW_PORT", "8443")
        .env("EG_PROTOCOL", "http")
        .args(["--mep-port", &mep.addr().port().to_string()])
        .args(["--listen", "127.0.0.1:0", "--log", "info"])
        .arg("--config")
        .arg(config);
    command
}

fn environ(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/environ"))
        .unwrap()
        .split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_from_edgegallery_s_environment_hides_the_secrets_and_deregisters_on_sigterm() {
    let mep = MockMep::start().await;
    let (app, credentials) = mep.app();
    mep.expect_confirm_ready(&app);
    let (_dir, config) = config_file(
        &[service_yaml("location", "http://10.0.0.7:8080/l", Some(60))],
        &[subscription_yaml("http://127.0.0.1:9/notify", "weather")],
    );
    let mut command = agent_command(&mep, &config);
    command
        .env("AK", credentials.access_key())
        .env("SK", credentials.secret_key())
        .env("APPINSTID", &app);
    let mut agent = Process::spawn(command);
    let line = agent.line("local API on http://").await;
    let api = line[line.find("http://").unwrap()..].trim().to_owned();
    agent.line("running").await;
    assert_eq!(mep.services().len(), 1);

    // AK, SK and APPINSTID are gone from the process's environment (it started itself again without them);
    // the rest is there.
    let env = environ(agent.child.id());
    let names: Vec<&str> = env.iter().filter_map(|v| v.split('=').next()).collect();
    assert!(env.iter().any(|v| v == "MEP_IP=127.0.0.1"), "{names:?}");
    for key in ["AK", "SK", "APPINSTID"] {
        assert!(!names.contains(&key), "{key} still in {names:?}");
    }
    let (code, _, body) = get(&api, "/mep-agent/v1/token").await;
    assert_eq!(code, 200, "{body}");
    assert!(
        !agent
            .seen
            .iter()
            .any(|l| l.contains(credentials.secret_key()))
    );

    agent.signal("TERM");
    let (code, log) = agent.exit_code().await;
    assert_eq!(code, Some(0), "{}", log.join("\n"));
    let log = log.join("\n");
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(log.contains("deleted service"), "{log}");
    assert!(mep.services().is_empty(), "{:?}", mep.services());
    assert!(
        mep.requests()
            .iter()
            .any(|r| r.method == http::Method::DELETE && r.path.contains("/subscriptions/"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn takes_credentials_on_standard_input() {
    let mep = MockMep::start().await;
    let (app, credentials) = mep.app();
    let (_dir, config) = config_file(&[], &[]);
    let mut command = agent_command(&mep, &config);
    command.arg("--credentials-stdin").stdin(Stdio::piped());
    let mut agent = Process::spawn(command);
    let mut stdin = agent.child.stdin.take().unwrap();
    write!(
        stdin,
        "AK={}\nSK={}\nAPPINSTID={app}\n",
        credentials.access_key(),
        credentials.secret_key()
    )
    .unwrap();
    drop(stdin);
    agent.line("running").await;
    agent.signal("INT");
    let (code, log) = agent.exit_code().await;
    assert_eq!(code, Some(0), "{}", log.join("\n"));
}

#[test]
fn a_bad_configuration_exits_2_with_the_reason() {
    let out = Command::new(BIN)
        .env_remove("AK")
        .env_remove("SK")
        .env_remove("APPINSTID")
        .env("MEP_IP", "127.0.0.1")
        .env("MEP_APIGW_PORT", "99999")
        .args(["--config", "/nonexistent.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent.yaml"), "{err}");
}

#[test]
fn help_lists_every_setting() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "AK, SK, APPINSTID",
        "MEP_IP",
        "MEP_APIGW_PORT",
        "EG_PROTOCOL",
        "CA_CERT_DOMAIN_NAME",
        "CA_CERT",
        "--config",
        "--ak",
        "--sk-file",
        "--app-instance-id",
        "--mep-ip",
        "--mep-port",
        "--protocol",
        "--ca-cert",
        "--tls-server-name",
        "--insecure-skip-tls-verify",
        "--listen",
        "--liveness-method",
        "--retry-attempts",
        "/mep-agent/v1/token",
        "SIGTERM",
    ] {
        assert!(help.contains(expected), "--help lacks {expected}:\n{help}");
    }
}
