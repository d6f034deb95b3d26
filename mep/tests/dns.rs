//! The `mep` server's DNS responder: started from the configuration file's `dns:` key and from `--dns ADDR`, its
//! counters on the Mm5 listener's `GET /mep/status`, its settings checked before anything starts.

#![cfg(all(feature = "dns", feature = "cli"))]
#![allow(clippy::unwrap_used, clippy::panic)]

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{Name, RecordType};
use hickory_resolver::{Resolver, TokioResolver};
use mec_mep::config::MepConfig;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(10);

const SEED: &str = r#"
apps:
  - appInstanceId: app-1
    dnsRules:
      - dnsRuleId: v4
        domainName: api.edge.example
        ipAddressType: IP_V4
        ipAddress: 192.0.2.7
        ttl: 45
      - dnsRuleId: v6
        domainName: api6.edge.example
        ipAddressType: IP_V6
        ipAddress: 2001:db8::7
"#;

/// A directory of its own for each test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mep-dns-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn resolver(server: SocketAddr) -> TokioResolver {
    let mut udp = ConnectionConfig::udp();
    udp.port = server.port();
    let mut options = ResolverOpts::default();
    options.cache_size = 0;
    options.timeout = PATIENCE;
    options.use_hosts_file = ResolveHosts::Never;
    Resolver::builder_with_config(
        ResolverConfig::from_parts(
            None,
            Vec::new(),
            vec![NameServerConfig::new(server.ip(), true, vec![udp])],
        ),
        TokioRuntimeProvider::default(),
    )
    .with_options(options)
    .build()
    .unwrap()
}

async fn addresses(r: &TokioResolver, name: &str, t: RecordType) -> Vec<(String, u32)> {
    r.clear_cache();
    r.lookup(Name::from_ascii(name).unwrap(), t)
        .await
        .unwrap()
        .answers()
        .iter()
        .map(|r| (r.data.to_string(), r.ttl))
        .collect()
}

#[tokio::test]
async fn the_configuration_file_starts_the_responder_with_its_settings() {
    let dir = scratch("config");
    std::fs::write(dir.join("seed.yaml"), SEED).unwrap();
    let config_path = dir.join("mep.yaml");
    std::fs::write(
        &config_path,
        format!(
            "mp1: {{ listen: 127.0.0.1:0 }}\nmm5: {{ listen: 127.0.0.1:0 }}\nseed: {}\n\
             dns:\n  listen: 127.0.0.1:0\n  default_ttl_secs: 12\n  not_held: nxdomain\n",
            dir.join("seed.yaml").display()
        ),
    )
    .unwrap();
    let mep = MepConfig::from_file(&config_path)
        .unwrap()
        .start()
        .await
        .unwrap();
    let dns = mep.dns_addr.unwrap();
    let r = resolver(dns);
    assert_eq!(
        addresses(&r, "api.edge.example.", RecordType::A).await,
        [("192.0.2.7".to_owned(), 45)]
    );
    assert_eq!(
        addresses(&r, "api6.edge.example.", RecordType::AAAA).await,
        [("2001:db8::7".to_owned(), 12)]
    );
    r.clear_cache();
    let e = r
        .lookup(
            Name::from_ascii("nope.edge.example.").unwrap(),
            RecordType::A,
        )
        .await
        .unwrap_err();
    assert!(e.is_nx_domain(), "{e:?}");

    // The counters, on the MEP manager's listener.
    let status: serde_json::Value =
        reqwest::get(format!("http://{}/mep/status", mep.mm5_addr.unwrap()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(status["dns"]["answers"], 2, "{status}");
    assert!(status["dns"]["nxdomain"].as_u64().unwrap() >= 1, "{status}");
    assert_eq!(status["dns"]["names"], 2, "{status}");
    mep.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn settings_that_cannot_work_are_refused_before_anything_starts() {
    let dir = scratch("check");
    let bad = [
        (
            "dns: { listen: 127.0.0.1:5353, upstreams: [192.0.2.53:53] }\n",
            "not_held is not forward",
        ),
        (
            "dns: { listen: 127.0.0.1:5353, not_held: forward }\n",
            "no upstreams",
        ),
        (
            "dns: { listen: 127.0.0.1:5353, tcp: { max_connections: 0 } }\n",
            "greater than 0",
        ),
        (
            "dns: { listen: 127.0.0.1:5353, forwarders: [] }\n",
            "forwarders",
        ),
    ];
    for (i, (yaml, message)) in bad.iter().enumerate() {
        let path = dir.join(format!("bad{i}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let e = MepConfig::from_file(&path).unwrap_err();
        assert!(e.to_string().contains(message), "{yaml}: {e}");
        let out = Command::new(env!("CARGO_BIN_EXE_mep"))
            .args(["--check", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{yaml}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(message));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_mep"))
        .args(["--check", "--dns-upstream", "192.0.2.53:53"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dns-upstream needs"));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_mep_binary_answers_with_dns_flag() {
    let dir = scratch("binary");
    std::fs::write(dir.join("seed.yaml"), SEED).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mep"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--mm5-listen",
            "127.0.0.1:0",
            "--dns",
            "127.0.0.1:0",
            "--log",
            "warn",
            "--seed",
        ])
        .arg(dir.join("seed.yaml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("  DNS (the DNS rules, UDP and TCP) on ") {
                let _ = tx.send(addr.trim().to_owned());
            }
        }
    });
    let addr = tokio::task::spawn_blocking(move || rx.recv_timeout(PATIENCE))
        .await
        .unwrap();
    let outcome = match addr {
        Ok(addr) => {
            let r = resolver(addr.parse().unwrap());
            Ok(addresses(&r, "API.edge.example.", RecordType::A).await)
        }
        Err(e) => Err(e),
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(dir);
    assert_eq!(outcome.unwrap(), [("192.0.2.7".to_owned(), 45)]);
}
