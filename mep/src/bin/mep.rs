//! `mep`: a MEC platform server (Mp1 and MEP-auth for apps, Mm5 for the MEP manager) over a durable store (memory, a file, or etcd shared by replicas).

use clap::Parser;
use mec_mep::config::{MepConfig, StoreConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// A MEC platform: ETSI MEC 011 Mp1 (ETSI paths and EdgeGallery's /mep paths) and MEP-auth's token endpoint for
/// apps, EdgeGallery's Mm5 for the MEP manager on its own listener, state in memory, in a file, or in etcd shared by several replicas.
#[derive(Debug, Parser)]
#[command(
    name = "mep",
    version,
    after_help = "The configuration file's keys are documented in the README \
    (section `mep`) and in the mec-mep crate's `config` module. Flags override the file."
)]
struct Args {
    /// Configuration file (YAML).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Keep state in this file (an embedded database) instead of memory.
    #[arg(long)]
    store: Option<PathBuf>,
    /// Address for Mp1 and the token endpoint (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Address for Mm5 and /mep/status (default 127.0.0.1:8081).
    #[arg(long)]
    mm5_listen: Option<SocketAddr>,
    /// Seed file (JSON or YAML): app instances with their AK/SK, rules and services, applied at every start.
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Answer UEs' DNS queries from the DNS rules on this address, over UDP and TCP (e.g. 0.0.0.0:53; off by
    /// default). Names no rule holds are refused unless --dns-upstream is given.
    #[arg(long, value_name = "ADDR")]
    dns: Option<SocketAddr>,
    /// Forward names no DNS rule holds to this resolver (address:port; repeat for more), instead of refusing them.
    #[arg(long, value_name = "ADDR")]
    dns_upstream: Vec<SocketAddr>,
    /// Write HTTP/1 header names as received from the stack, in lower case, instead of title case
    /// (`content-type` rather than `Content-Type`; `http.title_case_headers: false` in the file).
    #[arg(long)]
    lowercase_headers: bool,
    /// Check the configuration (and its seed, applied to an engine in memory) and exit: 0 when valid, 2
    /// otherwise.
    #[arg(long)]
    check: bool,
    /// Log level: error, warn, info, debug or trace (or a tracing filter).
    #[arg(long, default_value = "info")]
    log: String,
}

fn configure(args: &Args) -> Result<MepConfig, String> {
    let mut config = match &args.config {
        Some(path) => MepConfig::from_file(path).map_err(|e| e.to_string())?,
        None => MepConfig::default(),
    };
    if let Some(path) = &args.store {
        config.store = StoreConfig::File(path.clone());
    }
    if let Some(addr) = args.listen {
        config.mp1.listen = addr;
    }
    if let Some(addr) = args.mm5_listen
        && let Some(mm5) = &mut config.mm5
    {
        mm5.listen = addr;
    }
    if let Some(seed) = &args.seed {
        config.seed = Some(seed.clone());
    }
    if args.lowercase_headers {
        config.http.title_case_headers = false;
    }
    if let Some(addr) = args.dns {
        let dns = config.dns.get_or_insert_with(Default::default);
        dns.listen = addr;
    }
    if !args.dns_upstream.is_empty() {
        let Some(dns) = &mut config.dns else {
            return Err(
                "--dns-upstream needs the DNS responder on (--dns ADDR or `dns:` in the file)"
                    .into(),
            );
        };
        *dns = dns.clone().forwarding_to(args.dns_upstream.iter().copied());
    }
    config.check().map_err(|e| e.to_string())?;
    Ok(config)
}

async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .or_else(|_| tracing_subscriber::EnvFilter::try_new("info"))
        .unwrap_or_default();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let config = match configure(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mep: {e}");
            return ExitCode::from(2);
        }
    };
    if args.check {
        // The seed is applied to an engine in memory: what the engine would refuse is found too.
        let seeded = match config.load_seed() {
            Ok(Some(seed)) => seed.dry_run().await.map(|apps| apps.len()),
            Ok(None) => Ok(0),
            Err(e) => {
                eprintln!("mep: {e}");
                return ExitCode::from(2);
            }
        };
        return match seeded {
            Ok(apps) => {
                println!(
                    "mep: the configuration is valid (its seed provisions {apps} app instances)"
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("mep: the seed does not load: {e}");
                ExitCode::from(2)
            }
        };
    }
    let store = config.store.clone();
    let mep = match config.start().await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("mep: {e}");
            return ExitCode::from(1);
        }
    };
    println!(
        "MEP listening: Mp1 on {} (EdgeGallery layout under /mep)",
        mep.mp1_addr
    );
    match mep.mm5_addr {
        Some(addr) => println!("  Mm5 and /mep/status on {addr}"),
        None => println!("  Mm5 is off"),
    }
    if let Some(addr) = mep.dns_addr {
        println!("  DNS (the DNS rules, UDP and TCP) on {addr}");
    }
    match &store {
        StoreConfig::File(path) => println!("  state in {}", path.display()),
        StoreConfig::Etcd(etcd) => println!(
            "  state in etcd at {} under {} (replica {}; one elected replica runs the sweep and deliveries)",
            etcd.endpoints.join(", "),
            etcd.prefix,
            mep.engine.replica_id(),
        ),
        _ => println!("  state in memory (lost at exit; --store FILE keeps it)"),
    }
    for (app, _) in &mep.provisioned {
        println!("  app instance {app} provisioned from the seed");
    }
    terminated().await;
    println!("mep: stopping");
    mep.stop().await;
    ExitCode::SUCCESS
}
