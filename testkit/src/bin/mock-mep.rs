//! `mock-mep`: the mock MEC platform as a server, for apps written in any language.

use clap::Parser;
use mec_mep::dns::DnsConfig;
use mec_testkit::{AppInstance, MockMep, Seed};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// A mock MEC platform: ETSI MEC 011 Mp1 (ETSI paths and EdgeGallery's /mep paths) and MEP-auth's token endpoint,
/// in memory, with real behaviour.
#[derive(Debug, Parser)]
#[command(name = "mock-mep", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seed file (JSON or YAML): app instances with their AK/SK, rules and services, and transports.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Log level: error, warn, info, debug or trace (or a tracing filter such as `mec_testkit=debug`).
    #[arg(long, default_value = "info")]
    log: String,
    /// Serve Mp1 without requiring tokens.
    #[arg(long)]
    no_auth: bool,
    /// Keep the MEP's state in this file (an embedded database) instead of memory, so it survives restarts.
    #[arg(long)]
    store: Option<PathBuf>,
    /// Also answer DNS queries for the DNS rules on this address, over UDP and TCP (e.g. 127.0.0.1:5353; off by
    /// default). Names no rule holds are refused unless --dns-upstream is given.
    #[arg(long, value_name = "ADDR")]
    dns: Option<SocketAddr>,
    /// Forward names no DNS rule holds to this resolver (address:port; repeat for more), instead of refusing them.
    #[arg(long, value_name = "ADDR", requires = "dns")]
    dns_upstream: Vec<SocketAddr>,
    /// The bearer secret the MEP manager must send on Mm5 (default: a random one, printed at start).
    #[arg(long, conflicts_with = "open_mm5")]
    mm5_secret: Option<String>,
    /// Serve Mm5 without credentials, as EdgeGallery's MEP does for its MEP manager (which sends none).
    #[arg(long)]
    open_mm5: bool,
    /// Write HTTP/1 header names in lower case (`content-type`) instead of title case (`Content-Type`).
    #[arg(long)]
    lowercase_headers: bool,
    /// Check the seed file (--config): load it into a MEP in memory, print what it provisions, and exit: 0 when
    /// it loads, 2 otherwise. Nothing is served.
    #[arg(long, requires = "config")]
    check: bool,
    /// Whose behaviour to follow where ETSI MEC 011 and EdgeGallery's MEP disagree: etsi or edgegallery (status
    /// codes, notification forms, links, X-AppinstanceID, the forced 60 s liveness interval; see the README).
    #[arg(long, default_value = "etsi", value_name = "PROFILE")]
    profile: mec_testkit::Profile,
    /// Serve neither the control API (/_mock/...) nor the dashboard (/_mock/ui), both on by default.
    #[arg(long)]
    no_control: bool,
    /// Also answer control calls that name the mock as this host (repeat for more): by default only calls to an
    /// IP address or localhost are answered, a defence against DNS rebinding (e.g. `mock-mep` in a container
    /// network).
    #[arg(long, value_name = "NAME", conflicts_with = "no_control")]
    control_host: Vec<String>,
}

/// The demo app instance provisioned when no seed file is given: fixed, so walkthroughs can be repeated.
const DEMO_APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";
const DEMO_AK: &str = "QVUJMSUMgS0VZLS0tLS0";
const DEMO_SK: &str = "DXPb4sqElKhcHe07Kw5uorayETwId1JOjjOIRomRs5wyszoCR5R7AtVa28KT3lSc";

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

    let seed = match &args.config {
        Some(path) => match Seed::from_file(path) {
            Ok(seed) => seed,
            Err(e) => {
                eprintln!("mock-mep: {e}");
                return ExitCode::from(2);
            }
        },
        None => Seed::new().with_app(
            AppInstance::new(DEMO_APP)
                .with_credentials(&mec_core::signature::Credentials::new(DEMO_AK, DEMO_SK)),
        ),
    };
    if args.check {
        return match seed.dry_run().await {
            Ok(apps) => {
                println!("mock-mep: the seed loads: {} app instances", apps.len());
                for app in apps {
                    println!("  {app}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("mock-mep: the seed does not load: {e}");
                ExitCode::from(2)
            }
        };
    }
    let mut builder = MockMep::builder()
        .listen(args.listen)
        .seed(seed)
        .system_clock()
        .title_case_headers(!args.lowercase_headers)
        .profile(args.profile);
    if args.no_auth {
        builder = builder.without_auth();
    }
    if let Some(path) = &args.store {
        builder = builder.store(path);
    }
    if let Some(addr) = args.dns {
        let mut dns = DnsConfig::new(addr);
        if !args.dns_upstream.is_empty() {
            dns = dns.forwarding_to(args.dns_upstream.iter().copied());
        }
        if let Err(e) = dns.check() {
            eprintln!("mock-mep: {e}");
            return ExitCode::from(2);
        }
        builder = builder.dns_config(dns);
    }
    if let Some(secret) = &args.mm5_secret {
        builder = builder.mm5_secret(secret);
    }
    if args.open_mm5 {
        builder = builder.open_mm5();
    }
    if args.no_control {
        builder = builder.without_control();
    }
    for host in &args.control_host {
        builder = builder.control_host(host);
    }
    let mep = match builder.start().await {
        Ok(mep) => mep,
        Err(e) => {
            eprintln!("mock-mep: {e}");
            return ExitCode::from(1);
        }
    };
    println!(
        "mock MEP listening on {} (profile {})",
        mep.url(),
        args.profile
    );
    println!(
        "  Mp1 (EdgeGallery layout): {}/mec_service_mgmt/v1, {}/mec_app_support/v1",
        mep.mep_url(),
        mep.mep_url()
    );
    println!(
        "  Mp1 (ETSI layout):        {}/mec_service_mgmt/v1, {}/mec_app_support/v1",
        mep.url(),
        mep.url()
    );
    println!(
        "  token endpoint:           POST {}/mep/token (SDK-HMAC-SHA256 signed)",
        mep.url()
    );
    if args.no_auth {
        println!("  tokens are not required (--no-auth)");
    }
    if let Some(addr) = mep.dns_addr() {
        println!("  DNS (the DNS rules):      {addr} (UDP and TCP)");
    }
    match mep.mm5_secret() {
        Some(secret) => println!("  Mm5 (/mepcfg/...):        Authorization: Bearer {secret}"),
        None => println!("  Mm5 (/mepcfg/...):        open, no credential (--open-mm5)"),
    }
    match mep.control_url() {
        Some(control) => {
            println!("  control API:              {control} (GET {control} lists the routes)");
            println!("  dashboard:                {control}/ui");
        }
        None => println!("  control API and dashboard: off (--no-control)"),
    }
    for (app, creds) in mep.apps() {
        println!("app instance {app}");
        println!("  AK {}", creds.access_key());
        println!("  SK {}", creds.secret_key());
    }
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("mock-mep: cannot wait for Ctrl-C");
    }
    // Expectations set over the control API are reported, not panicked on, when the server stops.
    if let Err(e) = mep.verify() {
        eprintln!("mock-mep: {e}");
    }
    mep.clear_expectations();
    println!("mock MEP stopped");
    ExitCode::SUCCESS
}
