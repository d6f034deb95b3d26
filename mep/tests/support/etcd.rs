//! A real etcd for tests: the one `MEC_TEST_ETCD` names (`.ci/run` starts one), or one started for the test from
//! the `etcd` binary on free loopback ports with a temporary data directory. Without either, the test is skipped
//! with a printed reason. No mock: every test talks to a real etcd.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// An etcd a test can use.
pub(crate) struct Etcd {
    endpoint: String,
    own: Option<Own>,
}

/// An etcd process this test started, with its ports and data directory (kept across stop and start).
struct Own {
    binary: PathBuf,
    dir: PathBuf,
    client_port: u16,
    peer_port: u16,
    child: Option<Child>,
}

/// Two distinct free loopback ports (both held while the second is chosen, so they differ).
fn free_ports() -> (u16, u16) {
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let (a, b) = (bind(), bind());
    let port = |l: &std::net::TcpListener| l.local_addr().expect("a bound address").port();
    (port(&a), port(&b))
}

/// The `etcd` binary: `MEC_TEST_ETCD_BIN`, or `etcd` on the `PATH` (Debian's `etcd-server` installs it).
fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MEC_TEST_ETCD_BIN") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("etcd"))
        .find(|p| p.is_file())
}

impl Own {
    fn spawn(&mut self) -> std::io::Result<()> {
        let client = format!("http://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let child = Command::new(&self.binary)
            .args(["--name", "test", "--data-dir"])
            .arg(&self.dir)
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &format!("test={peer}")])
            .args(["--logger", "zap", "--log-level", "error"])
            .env(
                "ETCD_UNSUPPORTED_ARCH",
                std::env::consts::ARCH
                    .replace("x86_64", "amd64")
                    .replace("aarch64", "arm64"),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether etcd answers its health check at `endpoint` (`http://host:port`).
async fn healthy(endpoint: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(addr) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let check = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        s.write_all(b"GET /health HTTP/1.0\r\n\r\n").await.ok()?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).await.ok()?;
        Some(String::from_utf8_lossy(&answer).contains("\"health\":\"true\""))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), check).await,
        Ok(Some(true))
    )
}

async fn wait_healthy(endpoint: &str) -> bool {
    for _ in 0..150 {
        if healthy(endpoint).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

impl Etcd {
    /// The etcd `MEC_TEST_ETCD` names, else one of the test's own; `None` (with the reason printed) when there
    /// is neither.
    pub(crate) async fn shared_or_own() -> Option<Self> {
        if let Ok(endpoint) = std::env::var("MEC_TEST_ETCD")
            && !endpoint.is_empty()
        {
            return Some(Self {
                endpoint,
                own: None,
            });
        }
        Self::own().await
    }

    /// An etcd of the test's own (which it may stop and start); `None` (with the reason printed) without the
    /// `etcd` binary.
    pub(crate) async fn own() -> Option<Self> {
        let Some(binary) = binary() else {
            eprintln!(
                "SKIPPED: this test needs etcd: no `etcd` binary on the PATH (install Debian's etcd-server) and \
                 no MEC_TEST_ETCD endpoint"
            );
            return None;
        };
        for _ in 0..3 {
            let dir = std::env::temp_dir().join(format!("mec-test-etcd-{}", uuid::Uuid::new_v4()));
            let (client_port, peer_port) = free_ports();
            let mut own = Own {
                binary: binary.clone(),
                dir,
                client_port,
                peer_port,
                child: None,
            };
            if let Err(e) = own.spawn() {
                panic!("cannot start {}: {e}", binary.display());
            }
            let etcd = Self {
                endpoint: format!("http://127.0.0.1:{}", own.client_port),
                own: Some(own),
            };
            if wait_healthy(&etcd.endpoint).await {
                return Some(etcd);
            }
            // A port taken meanwhile, most likely: try other ones.
        }
        panic!("{} did not become healthy", binary.display());
    }

    /// Its client URL.
    pub(crate) fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// Kills it (as a crash would): clients lose their connections at once.
    pub(crate) fn stop(&mut self) {
        self.own.as_mut().expect("an etcd of the test's own").kill();
    }

    /// Starts it again, on the same ports and data, and waits until it is healthy.
    pub(crate) async fn start(&mut self) {
        self.own
            .as_mut()
            .expect("an etcd of the test's own")
            .spawn()
            .expect("etcd starts again");
        assert!(wait_healthy(&self.endpoint).await, "etcd did not come back");
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        if let Some(own) = &mut self.own {
            own.kill();
            let _ = std::fs::remove_dir_all(&own.dir);
        }
    }
}
