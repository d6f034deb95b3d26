//! `mec-appstore`: the EdgeGallery AppStore from the command line and from CI pipelines.
//!
//! Settings come from flags, else the environment (`MEC_APPSTORE_URL`, `MEC_APPSTORE_TOKEN`,
//! `MEC_APPSTORE_PASSWORD`), else the file written by `login` (`$XDG_CONFIG_HOME/mec-appstore/config.json` or
//! `~/.config/mec-appstore/config.json`, readable by its owner only). Secrets are never printed.

use clap::{Parser, Subcommand};
use mec_appstore_client::{AppQuery, Client, UploadForm};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::ExitCode;

/// The EdgeGallery AppStore from the command line.
#[derive(Debug, Parser)]
#[command(name = "mec-appstore", version)]
struct Args {
    /// The AppStore's root URL (or MEC_APPSTORE_URL, or the saved one).
    #[arg(long, global = true)]
    url: Option<String>,
    /// An access token (or MEC_APPSTORE_TOKEN, or the one saved by `login`).
    #[arg(long, global = true)]
    token: Option<String>,
    /// Print results as JSON, for scripts.
    #[arg(long, global = true)]
    json: bool,
    /// Accept any TLS certificate (EdgeGallery portals often use self-signed ones).
    #[arg(long, global = true)]
    insecure: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in with user management and save the token (the password comes from MEC_APPSTORE_PASSWORD or the
    /// first line of standard input).
    Login {
        /// User management's URL.
        #[arg(long)]
        user_mgmt: String,
        /// The user name (or e-mail, or phone).
        #[arg(long)]
        user: String,
    },
    /// Apps.
    Apps {
        #[command(subcommand)]
        command: AppsCommand,
    },
    /// Upload a package with its icon.
    Upload {
        /// The package (.csar or .zip).
        package: PathBuf,
        /// The icon (png, jpg or bmp).
        #[arg(long)]
        icon: PathBuf,
        /// The app type.
        #[arg(long = "type", default_value = "Others")]
        app_type: String,
        /// The architecture: X86, ARM64 or ARM32.
        #[arg(long, default_value = "X86")]
        affinity: String,
        /// The industry.
        #[arg(long, default_value = "Others")]
        industry: String,
        /// public, inner-public or private.
        #[arg(long, default_value = "public")]
        show_type: String,
        /// Your user id.
        #[arg(long)]
        user_id: String,
        /// Your user name.
        #[arg(long)]
        user_name: String,
    },
    /// Ask for a package's test, or wait for it with --wait.
    Test {
        /// The app id.
        app: String,
        /// The package id.
        package: String,
        /// Wait up to this many seconds for the test to end.
        #[arg(long)]
        wait: Option<u64>,
    },
    /// Publish a tested package.
    Publish {
        /// The app id.
        app: String,
        /// The package id.
        package: String,
        /// A price (free when absent).
        #[arg(long)]
        price: Option<f64>,
    },
    /// Download a package.
    Download {
        /// The app id.
        app: String,
        /// The package id.
        package: String,
        /// The file to write.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Delete an app, or one of its packages.
    Delete {
        /// The app id.
        app: String,
        /// The package id (the whole app when absent).
        package: Option<String>,
        /// Your user id.
        #[arg(long)]
        user_id: String,
        /// Your user name.
        #[arg(long)]
        user_name: String,
    },
}

#[derive(Debug, Subcommand)]
enum AppsCommand {
    /// List apps.
    List {
        /// Only apps whose name contains this.
        #[arg(long)]
        name: Option<String>,
        /// Page size.
        #[arg(long, default_value_t = 20)]
        limit: u64,
        /// First result.
        #[arg(long, default_value_t = 0)]
        offset: u64,
    },
    /// Show one app and its packages.
    Show {
        /// The app id.
        app: String,
    },
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

fn config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("mec-appstore").join("config.json"))
}

fn load_config() -> Config {
    config_path()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save_config(config: &Config) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let path = config_path().ok_or("no HOME or XDG_CONFIG_HOME to save the token in")?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, serde_json::to_vec_pretty(config)?)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(path)
}

fn progress_bar(what: &'static str) -> Option<indicatif::ProgressBar> {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(what);
    Some(bar)
}

fn print<T: Serialize + std::fmt::Debug>(
    json: bool,
    value: &T,
    human: impl FnOnce(&T),
) -> Result<(), Box<dyn std::error::Error>> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        human(value);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mec-appstore: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let saved = load_config();
    let url = args
        .url
        .or_else(|| std::env::var("MEC_APPSTORE_URL").ok())
        .or(saved.url.clone())
        .ok_or("no AppStore URL: give --url or set MEC_APPSTORE_URL")?;
    let token = args
        .token
        .or_else(|| std::env::var("MEC_APPSTORE_TOKEN").ok())
        .or(saved.token.clone());
    let mut builder = Client::builder(&url).danger_accept_invalid_certs(args.insecure);
    if let Some(t) = &token {
        builder = builder.access_token(t.clone());
    }
    let client = builder.build()?;
    let json = args.json;
    match args.command {
        Command::Login { user_mgmt, user } => {
            let password = match std::env::var("MEC_APPSTORE_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            client.login(&user_mgmt, &user, &password).await?;
            let token = client.access_token().ok_or("the sign-in gave no token")?;
            let path = save_config(&Config {
                url: Some(url),
                token: Some(token),
            })?;
            println!("signed in as {user}; token saved in {}", path.display());
        }
        Command::Apps { command } => match command {
            AppsCommand::List {
                name,
                limit,
                offset,
            } => {
                let mut q = AppQuery::default();
                q.query_ctrl.limit = limit;
                q.query_ctrl.offset = offset;
                q.query_ctrl.app_name = name.unwrap_or_default();
                let page = client.query_apps(&q).await?;
                print(json, &page, |p| {
                    for a in &p.results {
                        println!(
                            "{}  {:<24} {:<16} {}",
                            a.app_id,
                            a.name,
                            a.provider,
                            a.status
                                .as_ref()
                                .map(ToString::to_string)
                                .unwrap_or_default()
                        );
                    }
                    println!("{} of {} app(s)", p.results.len(), p.total);
                })?;
            }
            AppsCommand::Show { app } => {
                let info = client.app(&app).await?;
                let packages = client.packages(&app).await?;
                let both = serde_json::json!({"app": info, "packages": packages});
                print(json, &both, |_| {
                    println!("{} ({}) by {}", info.name, info.app_id, info.provider);
                    for p in &packages {
                        println!(
                            "  {}  {:<10} {}",
                            p.package_id,
                            p.version,
                            p.status
                                .as_ref()
                                .map(ToString::to_string)
                                .unwrap_or_default()
                        );
                    }
                })?;
            }
        },
        Command::Upload {
            package,
            icon,
            app_type,
            affinity,
            industry,
            show_type,
            user_id,
            user_name,
        } => {
            let bar = progress_bar("uploading");
            let form = UploadForm {
                package,
                icon,
                app_type,
                affinity,
                industry,
                show_type,
                user_id,
                user_name,
            };
            let registered = client
                .upload(&form, |done, total| {
                    if let Some(b) = &bar {
                        b.set_length(total);
                        b.set_position(done);
                    }
                })
                .await?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            print(json, &registered, |r| {
                println!(
                    "registered {} {} as app {} package {}",
                    r.app_name, r.version, r.app_id, r.package_id
                );
            })?;
        }
        Command::Test { app, package, wait } => {
            let p = match wait {
                None => {
                    let task = client.test_package(&app, &package).await?;
                    serde_json::to_value(task)?
                }
                Some(secs) => serde_json::to_value(
                    client
                        .wait_for_test(
                            &app,
                            &package,
                            std::time::Duration::from_secs(2),
                            std::time::Duration::from_secs(secs),
                        )
                        .await?,
                )?,
            };
            print(json, &p, |v| println!("{v}"))?;
        }
        Command::Publish {
            app,
            package,
            price,
        } => {
            client.publish(&app, &package, price).await?;
            if !json {
                println!("published {package}");
            }
        }
        Command::Download {
            app,
            package,
            output,
        } => {
            let bar = progress_bar("downloading");
            let mut file = tokio::fs::File::create(&output).await?;
            let n = client
                .download(&app, &package, &mut file, |done, total| {
                    if let Some(b) = &bar {
                        b.set_length(total.unwrap_or(0));
                        b.set_position(done);
                    }
                })
                .await?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            print(
                json,
                &serde_json::json!({"file": output, "bytes": n}),
                |_| println!("wrote {n} bytes to {}", output.display()),
            )?;
        }
        Command::Delete {
            app,
            package,
            user_id,
            user_name,
        } => {
            match &package {
                Some(p) => client.delete_package(&app, p, &user_id, &user_name).await?,
                None => client.delete_app(&app, &user_id, &user_name).await?,
            }
            if !json {
                println!("deleted");
            }
        }
    }
    Ok(())
}
