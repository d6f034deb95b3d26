//! The `mock-mep` binary as a child process on a free port of 127.0.0.1, stopped when dropped.

#![allow(dead_code, unreachable_pub)]

use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The demo app `mock-mep` provisions without a seed file.
pub const DEMO_APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";
pub const DEMO_AK: &str = "QVUJMSUMgS0VZLS0tLS0";
pub const DEMO_SK: &str = "DXPb4sqElKhcHe07Kw5uorayETwId1JOjjOIRomRs5wyszoCR5R7AtVa28KT3lSc";

pub struct MockProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub http: reqwest::Client,
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl MockProcess {
    /// Starts `mock-mep` with these extra arguments and waits until it accepts connections.
    pub async fn start(args: &[&str]) -> Self {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_mock-mep"))
            .args(["--listen", &listen, "--log", "warn"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("mock-mep starts");
        let mut mock = Self {
            child,
            url: format!("http://{listen}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        };
        for _ in 0..600 {
            if tokio::net::TcpStream::connect(&listen).await.is_ok() {
                return mock;
            }
            if let Ok(Some(status)) = mock.child.try_wait() {
                panic!("mock-mep exited at start: {status}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("mock-mep did not listen on {listen} within 30 s");
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// GET, expecting 200 and JSON.
    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.get_status(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// GET: the status and the JSON body (null when none).
    pub async fn get_status(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.at(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// POST a JSON body: the status and the JSON answer (null when none).
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.at(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// PUT a JSON body: the status and the JSON answer (null when none).
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .put(self.at(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}
