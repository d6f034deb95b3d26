//! `mep-agent`: the EdgeGallery-compatible sidecar. See the `mec_agent` crate and `mep-agent --help`.

use clap::{Parser, ValueEnum};
use mec_agent::{Agent, AgentClock, Backoff, Error, SECRET_ENV, Settings};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const ENV_HELP: &str = "\
Environment (as EdgeGallery sets it; a flag wins over its variable):
  AK, SK, APPINSTID     the app's access key, secret key and instance id; read, then removed from the
                        process's environment (the agent starts itself again without them)
  MEP_IP                the MEP's address or host name
  MEP_APIGW_PORT        the API gateway's port (over http EdgeGallery uses 8000 instead; so does this agent)
  EG_PROTOCOL           https (default) or http
  CA_CERT               PEM file of the CA that signed the MEP's certificate
  CA_CERT_DOMAIN_NAME   the name the MEP's certificate is checked against (the MEP is then addressed by it)
  MEP_AGENT_CONFIG, MEP_AGENT_LISTEN, MEP_AGENT_LIVENESS_METHOD, MEP_AGENT_MEP_URL, MEP_AGENT_TOKEN_PATH
                        the flags of the same name

Local API (loopback only by default: it hands out the app's token):
  GET /mep-agent/v1/token              412 until the first token, then {access_token, token_type, expires_in}
  GET /mep-agent/v1/endpoint/{serName} the first matching service's endpoint, 400 \"Service does not exist.\"
  GET /mep-agent/v1/health             the agent's state; 200 when all is registered, else 503

SIGTERM or Ctrl-C: services are deregistered, subscriptions deleted, and the agent exits.";

/// EdgeGallery-compatible MEP agent: gets and renews the app's token, registers its services, sends their
/// heartbeats, makes its subscriptions, and serves the app a local API for its token and other services'
/// endpoints.
#[derive(Debug, Parser)]
#[command(name = "mep-agent", version, after_help = ENV_HELP)]
struct Cli {
    /// The services and subscriptions to register [env: MEP_AGENT_CONFIG] [default:
    /// conf/app_instance_info.yaml]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The app's access key [env: AK]
    #[arg(long, value_name = "AK")]
    ak: Option<String>,
    /// A file holding the app's secret key [env: SK]. There is no flag taking the key itself: command lines
    /// are visible to every user of the host.
    #[arg(long, value_name = "FILE")]
    sk_file: Option<PathBuf>,
    /// The app instance id, a UUID [env: APPINSTID]
    #[arg(long, value_name = "UUID")]
    app_instance_id: Option<String>,
    /// Read `AK=`, `SK=` and `APPINSTID=` lines from standard input (at most 16 KiB); they win over the
    /// environment
    #[arg(long)]
    credentials_stdin: bool,
    /// The MEP's address or host name [env: MEP_IP]
    #[arg(long, value_name = "HOST")]
    mep_ip: Option<String>,
    /// The MEP's API gateway port, used whatever the protocol [env: MEP_APIGW_PORT, ignored over http]
    #[arg(long, value_name = "PORT")]
    mep_port: Option<String>,
    /// http or https [env: EG_PROTOCOL] [default: https]
    #[arg(long, value_name = "PROTOCOL")]
    protocol: Option<String>,
    /// The Mp1 API root instead of the URL built from the MEP's address and port (e.g.
    /// http://127.0.0.1:8080 for ETSI's layout) [env: MEP_AGENT_MEP_URL]
    #[arg(long, value_name = "URL")]
    mep_url: Option<String>,
    /// Where tokens are requested, on the MEP's origin [env: MEP_AGENT_TOKEN_PATH] [default: /mep/token]
    #[arg(long, value_name = "PATH")]
    token_path: Option<String>,
    /// PEM file of the CA that signed the MEP's certificate [env: CA_CERT]
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// The name the MEP's certificate is checked against; it must resolve to the MEP [env:
    /// CA_CERT_DOMAIN_NAME]
    #[arg(long, value_name = "NAME")]
    tls_server_name: Option<String>,
    /// Accept any certificate from the MEP. Dangerous: logged loudly at start
    #[arg(long)]
    insecure_skip_tls_verify: bool,
    /// Address of the local API [env: MEP_AGENT_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// How heartbeats are sent: patch (ETSI) or put (EdgeGallery's MEP) [env: MEP_AGENT_LIVENESS_METHOD]
    /// [default: patch]
    #[arg(long, value_enum)]
    liveness_method: Option<Method>,
    /// Do not send confirm_ready once the services are registered
    #[arg(long)]
    no_confirm_ready: bool,
    /// First delay before retrying a failed request to the MEP
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    retry_initial: Duration,
    /// Longest delay between retries
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    retry_max: Duration,
    /// Attempts of the token, a registration, a subscription or confirm_ready before the agent gives up and
    /// exits
    #[arg(long, value_name = "N", default_value_t = 10)]
    retry_attempts: u32,
    /// How long before its expiry the token is renewed (at most half its lifetime)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    token_refresh_margin: Duration,
    /// Timeout of one request to the MEP
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    request_timeout: Duration,
    /// How long deregistration may take at shutdown
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    shutdown_timeout: Duration,
    /// Log level: error, warn, info, debug or trace (or a tracing filter)
    #[arg(long, default_value = "info")]
    log: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Method {
    Patch,
    Put,
}

/// `500ms`, `30s`, `5m`, `1h`, or a number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 500ms, 30s, 5m or 1h"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        "h" => Ok(Duration::from_secs(n.saturating_mul(3600))),
        _ => Err(format!("{s:?}: unit must be ms, s, m or h")),
    }
}

/// The largest secret accepted from standard input, in all.
const MAX_STDIN_SECRETS: u64 = 16 * 1024;

type Secrets = Vec<(String, String)>;

fn read_stdin_secrets() -> Result<Secrets, String> {
    let mut text = String::new();
    std::io::stdin()
        .take(MAX_STDIN_SECRETS + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("reading credentials from standard input: {e}"))?;
    if text.len() as u64 > MAX_STDIN_SECRETS {
        return Err(format!(
            "more than {MAX_STDIN_SECRETS} bytes of credentials on standard input"
        ));
    }
    let mut secrets = Secrets::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("standard input line {}: expected KEY=VALUE", n + 1));
        };
        let key = key.trim();
        if !SECRET_ENV.contains(&key) {
            return Err(format!(
                "standard input line {}: {key:?} is not one of {}",
                n + 1,
                SECRET_ENV.join(", ")
            ));
        }
        secrets.retain(|(k, _)| k != key);
        secrets.push((key.to_owned(), value.trim().to_owned()));
    }
    Ok(secrets)
}

/// Takes `AK`, `SK` and `APPINSTID` out of the environment.
///
/// `std::env::remove_var` is `unsafe` in edition 2024 (another thread may read the environment meanwhile) and
/// the workspace forbids `unsafe`. So, before any thread starts, the agent starts itself again with `exec`:
/// the same program and arguments plus `--credentials-stdin`, an environment without the secrets, and the
/// secrets on a pipe as its standard input. The process keeps its id (signals and container PID 1 are
/// unaffected), and its `/proc/<pid>/environ` no longer holds them, which unsetting a variable would not have
/// achieved (Linux keeps the environment the process started with there).
fn take_secrets(cli: &Cli) -> Result<Secrets, String> {
    let mut found = Secrets::new();
    for key in SECRET_ENV {
        match std::env::var(key) {
            Ok(v) => found.push((key.to_owned(), v)),
            Err(std::env::VarError::NotPresent) => {}
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(format!("{key} is not valid UTF-8"));
            }
        }
    }
    let mut secrets = found.clone();
    if cli.credentials_stdin {
        for (k, v) in read_stdin_secrets()? {
            secrets.retain(|(key, _)| *key != k);
            secrets.push((k, v));
        }
    }
    if !found.is_empty() {
        let e = restart_without(&secrets, cli.credentials_stdin);
        tracing::warn!(
            "could not clear {} from the environment ({e}); they stay visible to this process's children and in \
             /proc",
            SECRET_ENV.join(", ")
        );
    }
    Ok(secrets)
}

/// Replaces this process with the same program, without the secrets in its environment. Returns only on
/// failure.
#[cfg(unix)]
fn restart_without(secrets: &Secrets, flag_given: bool) -> String {
    use std::io::Write;
    use std::os::unix::process::CommandExt;
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return format!("cannot find the program: {e}"),
    };
    let (reader, mut writer) = match std::io::pipe() {
        Ok(p) => p,
        Err(e) => return format!("cannot make a pipe: {e}"),
    };
    // At most 16 KiB plus key names: far below a pipe's buffer, so this never blocks.
    for (k, v) in secrets {
        if let Err(e) = writeln!(writer, "{k}={v}") {
            return format!("cannot write to the pipe: {e}");
        }
    }
    drop(writer);
    let mut command = std::process::Command::new(exe);
    if !flag_given {
        command.arg("--credentials-stdin");
    }
    command.args(std::env::args_os().skip(1)).stdin(reader);
    for key in SECRET_ENV {
        command.env_remove(key);
    }
    format!("cannot start again: {}", command.exec())
}

#[cfg(not(unix))]
fn restart_without(_: &Secrets, _: bool) -> String {
    "only possible on Unix".to_owned()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .or_else(|_| tracing_subscriber::EnvFilter::try_new("info"))
        .unwrap_or_default();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Before any thread exists: see `take_secrets`.
    let secrets = match take_secrets(&cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mep-agent: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mep-agent: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, secrets)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mep-agent: {}", e.report());
            if e.is_config() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn run(cli: Cli, secrets: Secrets) -> Result<(), Error> {
    let env = Settings::from_env(|key| {
        if SECRET_ENV.contains(&key) {
            secrets
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        } else {
            std::env::var(key).ok()
        }
    });
    let secret_key = match &cli.sk_file {
        Some(path) => Some(read_secret_file(path)?),
        None => None,
    };
    let mut flags = Settings::default();
    flags.access_key = cli.ak.clone();
    flags.secret_key = secret_key;
    flags.app_instance_id = cli.app_instance_id.clone();
    flags.mep_ip = cli.mep_ip.clone();
    flags.mep_port = cli.mep_port.clone();
    flags.protocol = cli.protocol.clone();
    flags.tls_server_name = cli.tls_server_name.clone();
    flags.ca_cert = cli.ca_cert.clone();
    flags.insecure_skip_tls_verify = cli.insecure_skip_tls_verify.then_some(true);
    flags.mep_url = cli.mep_url.clone();
    flags.token_path = cli.token_path.clone();
    flags.config_path = cli.config.clone();
    flags.listen = cli.listen.clone();
    flags.liveness_method = cli.liveness_method.map(|m| {
        match m {
            Method::Patch => "patch",
            Method::Put => "put",
        }
        .to_owned()
    });
    let mut config = env.or(flags).resolve()?;
    config.confirm_ready = !cli.no_confirm_ready;
    config.backoff = Backoff::new(cli.retry_initial, cli.retry_max, cli.retry_attempts);
    config.token_refresh_margin = cli.token_refresh_margin;
    config.request_timeout = cli.request_timeout;
    config.shutdown_timeout = cli.shutdown_timeout;
    tracing::info!(
        "app instance {}, AK {}, MEP {}, {} service(s), {} subscription(s)",
        config.app_instance_id,
        config.credentials.access_key(),
        config.api_root,
        config.services.len(),
        config.subscriptions.len()
    );
    if let Some(host) = config.api_root.host_str()
        && host.parse::<std::net::IpAddr>().is_err()
        && !host.starts_with('[')
        && let Err(e) = tokio::net::lookup_host((host, 0)).await
    {
        tracing::warn!(
            "the MEP's name {host} does not resolve ({e}): map it to the MEP's address (docker --add-host, \
             Kubernetes hostAliases), or leave CA_CERT_DOMAIN_NAME unset to check the certificate against MEP_IP"
        );
    }
    let agent = Agent::bind(config, AgentClock::system()).await?;
    tracing::info!("local API on http://{}", agent.local_addr());
    agent.run_until(shutdown_signal()).await
}

fn read_secret_file(path: &std::path::Path) -> Result<String, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_STDIN_SECRETS + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    let key = text.lines().next().unwrap_or_default().trim().to_owned();
    if key.is_empty() || text.len() as u64 > MAX_STDIN_SECRETS {
        return Err(Error::Config(format!(
            "{} must hold the secret key on its first line",
            path.display()
        )));
    }
    Ok(key)
}

/// SIGTERM (how Kubernetes and docker stop a container) or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("interrupted"),
                }
                return;
            }
            Err(e) => tracing::warn!("cannot listen for SIGTERM ({e}); stop with Ctrl-C"),
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
