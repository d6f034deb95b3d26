//! Queries per second of the DNS responder against dnsmasq answering the same 1,000 names from a hosts file,
//! both on loopback, driven by the same load: `dnsperf` when installed (Debian `dnsperf`), otherwise an
//! in-process client (hickory-proto queries over UDP, a fixed number in flight). Bounded: a few seconds each.
//!
//! `cargo bench -p mec-mep --bench dns` (set `MEC_DNS_BENCH_DRIVER=inprocess` to use the in-process client
//! even where dnsperf is installed, `MEC_DNS_BENCH_SECS` for the seconds of each run, 3 by default). Skips with
//! the reason when dnsmasq is not installed (Debian: `apt-get install dnsmasq-base`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use hickory_resolver::proto::op::{Message, MessageType, OpCode, Query};
use hickory_resolver::proto::rr::{Name, RecordType};
use mec_mep::dns::{DnsConfig, DnsServer, RateLimitConfig};
use mec_mep::store::MemoryStore;
use mec_mep::{Engine, EngineConfig};
use mec_mp1::model::{DnsRule, IpAddressType, RuleState};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const NAMES: usize = 1_000;
/// Queries in flight at once (dnsperf `-q`, or in-process client tasks).
const IN_FLIGHT: usize = 32;

fn name(i: usize) -> String {
    format!("host-{i}.bench.mec")
}

fn address(i: usize) -> Ipv4Addr {
    let [.., high, low] = u32::try_from(i).unwrap().to_be_bytes();
    Ipv4Addr::new(10, 0, high, low)
}

fn installed(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

fn free_port() -> u16 {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    // TCP too, as both servers listen on both.
    let _tcp = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    port
}

struct Dnsmasq(Child);

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_dnsmasq(program: &Path, hosts: &Path, port: u16) -> Dnsmasq {
    let child = Command::new(program)
        .args([
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--local-ttl=30",
            "--pid-file=",
            "--user=root",
        ])
        .arg(format!("--addn-hosts={}", hosts.display()))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dnsmasq starts");
    Dnsmasq(child)
}

/// One query, as bytes.
fn query(id: u16, i: usize) -> Vec<u8> {
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(
        Name::from_ascii(format!("{}.", name(i))).unwrap(),
        RecordType::A,
    ));
    m.to_vec().unwrap()
}

/// Whether `server` answers name 0 with its address: the check both servers pass before being measured.
fn answers(server: SocketAddr) -> bool {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 512];
    for _ in 0..50 {
        socket.send_to(&query(7, 0), server).unwrap();
        if let Ok(n) = socket.recv(&mut buf)
            && let Ok(m) = Message::from_vec(&buf[..n])
        {
            return m.answers.first().map(|r| r.data.to_string()) == Some(address(0).to_string());
        }
    }
    false
}

/// Queries per second measured by dnsperf (which checks every answer's id and counts response codes).
fn dnsperf(program: &Path, data: &Path, server: SocketAddr, secs: u64) -> f64 {
    let out = Command::new(program)
        .args(["-s", "127.0.0.1", "-c", "1", "-T", "1"])
        .args(["-p", &server.port().to_string()])
        .args(["-q", &IN_FLIGHT.to_string()])
        .args(["-l", &secs.to_string()])
        .arg("-d")
        .arg(data)
        .output()
        .expect("dnsperf runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |label: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(|v| v.split_whitespace().next().unwrap_or("").to_owned())
            .unwrap_or_else(|| panic!("dnsperf printed no {label:?}:\n{text}"))
    };
    let completed: f64 = field("Queries completed:").parse().unwrap();
    let noerror = text.contains(&format!("NOERROR {completed} (100.00%)"));
    assert!(noerror, "every answer should be NOERROR:\n{text}");
    field("Queries per second:").parse().unwrap()
}

/// Queries per second measured by the in-process client: `IN_FLIGHT` tasks, each with its own socket, sending
/// the names in turn and checking each answer's id and response code.
fn in_process(server: SocketAddr, secs: u64) -> f64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let queries: Arc<Vec<Vec<u8>>> = Arc::new((0..NAMES).map(|i| query(0, i)).collect());
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for t in 0..IN_FLIGHT {
            let (queries, done) = (queries.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                socket.connect(server).await.unwrap();
                let mut buf = [0u8; 512];
                let mut n = t;
                let mut id = 0u16;
                while Instant::now() < deadline {
                    let mut q = queries[n % NAMES].clone();
                    id = id.wrapping_add(1);
                    q[..2].copy_from_slice(&id.to_be_bytes());
                    socket.send(&q).await.unwrap();
                    let got =
                        tokio::time::timeout(Duration::from_secs(1), socket.recv(&mut buf)).await;
                    if let Ok(Ok(len)) = got
                        && len >= 12
                        && buf[..2] == id.to_be_bytes()
                        && buf[3] & 0x0f == 0
                    {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    n += IN_FLIGHT;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    // `cargo test --benches` runs this with `--bench`-less arguments; only `cargo bench` measures.
    if !std::env::args().any(|a| a == "--bench") {
        println!("dns bench: run with `cargo bench -p mec-mep --bench dns`");
        return;
    }
    let Some(dnsmasq) = installed("dnsmasq") else {
        println!(
            "dns bench skipped: dnsmasq is not installed (Debian: apt-get install dnsmasq-base)"
        );
        return;
    };
    let secs: u64 = std::env::var("MEC_DNS_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .clamp(1, 30);
    let dnsperf_program = match std::env::var("MEC_DNS_BENCH_DRIVER").as_deref() {
        Ok("inprocess") => None,
        _ => installed("dnsperf"),
    };

    let dir = std::env::temp_dir().join(format!("mec-dns-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hosts = dir.join("hosts");
    let data = dir.join("queries");
    std::fs::write(
        &hosts,
        (0..NAMES)
            .map(|i| format!("{} {}\n", address(i), name(i)))
            .collect::<String>(),
    )
    .unwrap();
    std::fs::write(
        &data,
        (0..NAMES)
            .map(|i| format!("{} A\n", name(i)))
            .collect::<String>(),
    )
    .unwrap();

    // The responder: the engine with the same 1,000 names as rules, one worker thread (dnsmasq has one).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let responder = runtime.block_on(async {
        let engine = Engine::open(
            MemoryStore::new(),
            mec_core::system_clock(),
            EngineConfig::default(),
        )
        .await
        .unwrap();
        engine.provision_app("bench-app", None, true).await.unwrap();
        for i in 0..NAMES {
            let rule = DnsRule::new(
                format!("r{i}"),
                name(i),
                IpAddressType::IpV4,
                address(i).to_string(),
            )
            .with_ttl(30)
            .with_state(RuleState::Active);
            engine.set_dns_rule("bench-app", rule).await.unwrap();
        }
        let mut config = DnsConfig::new("127.0.0.1:0".parse().unwrap());
        config.rate_limit = RateLimitConfig::off();
        let server = DnsServer::start(&engine, config).await.unwrap();
        (engine, server)
    });
    let ours = responder.1.local_addr();
    let port = free_port();
    let theirs = SocketAddr::from(([127, 0, 0, 1], port));
    let _dnsmasq = start_dnsmasq(&dnsmasq, &hosts, port);
    assert!(answers(ours), "the responder does not answer");
    assert!(answers(theirs), "dnsmasq does not answer on {theirs}");

    let driver = if dnsperf_program.is_some() {
        "dnsperf"
    } else {
        "the in-process client"
    };
    println!(
        "dns bench: {NAMES} names, {IN_FLIGHT} queries in flight, {secs} s per run, driven by {driver}"
    );
    let measure = |server| match &dnsperf_program {
        Some(p) => dnsperf(p, &data, server, secs),
        None => in_process(server, secs),
    };
    let (mut ours_qps, mut theirs_qps) = (Vec::new(), Vec::new());
    for round in 1..=2 {
        let a = measure(ours);
        let b = measure(theirs);
        println!("  round {round}: mec-mep responder {a:.0} q/s, dnsmasq {b:.0} q/s");
        ours_qps.push(a);
        theirs_qps.push(b);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (a, b) = (mean(&ours_qps), mean(&theirs_qps));
    println!(
        "dns bench: mec-mep responder {a:.0} q/s, dnsmasq {b:.0} q/s, ratio (responder / dnsmasq) {:.2}",
        a / b
    );
    let counters = responder.1.counters();
    assert_eq!(counters.malformed, 0);
    assert_eq!(counters.refused, 0);
    drop(responder);
    let _ = std::fs::remove_dir_all(dir);
}
