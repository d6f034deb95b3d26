//! `mec-appstore`: the EdgeGallery AppStore from the command line and from CI pipelines.
//!
//! Settings come from flags, else the environment (`MEC_APPSTORE_URL`, `MEC_APPSTORE_TOKEN`,
//! `MEC_APPSTORE_PASSWORD`), else the file written by `login` (`$XDG_CONFIG_HOME/mec-appstore/config.json` or
//! `~/.config/mec-appstore/config.json`, readable by its owner only). Secrets are never printed. The user is
//! the token's: its `userId` and `userName` claims are sent wherever the store needs them.

use clap::{Args as ClapArgs, Parser, Subcommand};
use mec_appstore_client::{
    Affinity, AppPackage, AppQuery, AppSortKey, AppStatus, AppType, Client, DownloadOptions, Error,
    ExternalStoreForm, Industry, PackageEdit, PackageQuery, PackageSortKey, PackageStatus,
    PullRequest, Scope, ShowType, SortOrder, UploadForm, WorkloadType,
};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::ExitCode;

/// The EdgeGallery AppStore from the command line. Give it appstore-be's address (`http://host:8099`), not the
/// portal's: the portal wants a browser session and caps uploads at 10 MB.
#[derive(Debug, Parser)]
#[command(name = "mec-appstore", version)]
struct Args {
    /// appstore-be's root URL (or MEC_APPSTORE_URL, or the saved one).
    #[arg(long, global = true)]
    url: Option<String>,
    /// An access token (or MEC_APPSTORE_TOKEN, or the one saved by `login`).
    #[arg(long, global = true)]
    token: Option<String>,
    /// Print results as JSON, for scripts.
    #[arg(long, global = true)]
    json: bool,
    /// Accept any TLS certificate (EdgeGallery installations often use self-signed ones).
    #[arg(long, global = true)]
    insecure: bool,
    /// Seconds a request that fits in memory may take.
    #[arg(long, global = true, default_value_t = 60, value_name = "SECS")]
    timeout: u64,
    /// Seconds an upload or download may go without moving before it fails.
    #[arg(long, global = true, default_value_t = 60, value_name = "SECS")]
    idle_timeout: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in with user management and save the token (the password comes from MEC_APPSTORE_PASSWORD or the
    /// first line of standard input).
    Login {
        /// User management's URL (`http://host:8067`, or its NodePort 30067).
        #[arg(long)]
        user_mgmt: String,
        /// The user name (or e-mail, or phone).
        #[arg(long)]
        user: String,
    },
    /// Show who the token says you are (never the token).
    Whoami,
    /// Apps.
    Apps {
        #[command(subcommand)]
        command: AppsCommand,
    },
    /// Your packages, and changes to their listing.
    Packages {
        #[command(subcommand)]
        command: PackagesCommand,
    },
    /// Upload a package with its icon, as the token's user.
    Upload {
        /// The package (.csar or .zip).
        package: PathBuf,
        /// The icon (png, jpg or bmp, at most 10 MiB).
        #[arg(long)]
        icon: PathBuf,
        /// A demo video (mp4, at most 50 MiB).
        #[arg(long)]
        demo_video: Option<PathBuf>,
        #[command(flatten)]
        listing: Listing,
        /// Reuse this test task of the test platform (ATP) instead of asking for a new test.
        #[arg(long)]
        test_task_id: Option<String>,
        /// Let users try the app out on an edge node.
        #[arg(long)]
        experience_able: bool,
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
    /// Take a published package off the shelf.
    Unpublish {
        /// The app id.
        app: String,
        /// The package id.
        package: String,
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
        /// VM packages: have the store put the VM images in.
        #[arg(long)]
        with_images: bool,
    },
    /// Delete an app, or one of its packages (deleting its last package deletes the app).
    Delete {
        /// The app id.
        app: String,
        /// The package id (the whole app when absent).
        package: Option<String>,
    },
    /// Comments on apps.
    Comments {
        #[command(subcommand)]
        command: CommentsCommand,
    },
    /// Other stores: the ones known, packages pushed to and pulled from them (admin role).
    Federation {
        #[command(subcommand)]
        command: FederationCommand,
    },
}

/// How the store lists an app.
#[derive(Debug, ClapArgs)]
struct Listing {
    /// The app type (Game, Video Application, Internet of Things, ...).
    #[arg(long = "type", default_value = "Others", value_parser = open::<AppType>)]
    app_type: AppType,
    /// The architecture: X86, ARM64 or ARM32.
    #[arg(long, default_value = "X86", value_parser = open::<Affinity>)]
    affinity: Affinity,
    /// The industry (Smart City, Others, ...).
    #[arg(long, default_value = "Others", value_parser = open::<Industry>)]
    industry: Industry,
    /// public, inner-public or private.
    #[arg(long, default_value = "public", value_parser = open::<ShowType>)]
    show_type: ShowType,
}

#[derive(Debug, Subcommand)]
enum AppsCommand {
    /// List apps (published ones, or yours with --mine).
    List {
        /// Only apps whose name contains this.
        #[arg(long)]
        name: Option<String>,
        /// Page size (1 to 500).
        #[arg(long, default_value_t = 20)]
        limit: u64,
        /// First result.
        #[arg(long, default_value_t = 0)]
        offset: u64,
        /// Only apps in which you have a package, in any status.
        #[arg(long)]
        mine: bool,
        /// Sort key: createTime, modifyTime, appName, provider, downloadCount, score, isHotApp.
        #[arg(long, default_value = "createTime", value_parser = app_sort_key)]
        sort: AppSortKey,
        /// asc or desc.
        #[arg(long, default_value = "desc", value_parser = sort_order)]
        order: SortOrder,
        /// Only these types (repeat the flag).
        #[arg(long = "type", value_parser = open::<AppType>)]
        types: Vec<AppType>,
        /// Only these industries.
        #[arg(long, value_parser = open::<Industry>)]
        industry: Vec<Industry>,
        /// Only these architectures.
        #[arg(long, value_parser = open::<Affinity>)]
        affinity: Vec<Affinity>,
        /// Only these workload types (container, vm).
        #[arg(long, value_parser = open::<WorkloadType>)]
        workload: Vec<WorkloadType>,
        /// Only these visibilities (default public and inner-public, as the portal lists).
        #[arg(long, value_parser = open::<ShowType>)]
        show_type: Vec<ShowType>,
        /// Every status, not only published apps.
        #[arg(long)]
        all_statuses: bool,
    },
    /// Show one app with its published packages and yours.
    Show {
        /// The app id.
        app: String,
    },
    /// Save an app's icon (its latest package's, or the one of --package).
    Icon {
        /// The app id.
        app: String,
        /// The package id.
        #[arg(long)]
        package: Option<String>,
        /// The file to write.
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum PackagesCommand {
    /// List your packages, in every status.
    Mine {
        /// Only apps whose name contains this.
        #[arg(long)]
        name: Option<String>,
        /// Page size (1 to 500).
        #[arg(long, default_value_t = 20)]
        limit: u64,
        /// First result.
        #[arg(long, default_value_t = 0)]
        offset: u64,
        /// Only these statuses (Upload, Test_success, Published, ...).
        #[arg(long, value_parser = open::<PackageStatus>)]
        status: Vec<PackageStatus>,
        /// Sort key: createTime, appName, version, status, provider.
        #[arg(long, default_value = "createTime", value_parser = package_sort_key)]
        sort: PackageSortKey,
        /// asc or desc.
        #[arg(long, default_value = "desc", value_parser = sort_order)]
        order: SortOrder,
    },
    /// Change a package's listing (what is not given stays as it is).
    Edit {
        /// The app id.
        app: String,
        /// The package id.
        package: String,
        /// A new type.
        #[arg(long = "type", value_parser = open::<AppType>)]
        app_type: Option<AppType>,
        /// A new industry.
        #[arg(long, value_parser = open::<Industry>)]
        industry: Option<Industry>,
        /// A new architecture.
        #[arg(long, value_parser = open::<Affinity>)]
        affinity: Option<Affinity>,
        /// A new visibility.
        #[arg(long, value_parser = open::<ShowType>)]
        show_type: Option<ShowType>,
        /// A new short description.
        #[arg(long)]
        short_desc: Option<String>,
        /// Whether users may try the app out (true or false).
        #[arg(long)]
        experience_able: Option<bool>,
        /// A new icon.
        #[arg(long)]
        icon: Option<PathBuf>,
        /// A new demo video.
        #[arg(long)]
        demo_video: Option<PathBuf>,
        /// A new markdown document.
        #[arg(long)]
        doc: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum CommentsCommand {
    /// List an app's comments, newest first.
    List {
        /// The app id.
        app: String,
        /// Page size (1 to 500).
        #[arg(long, default_value_t = 20)]
        limit: u64,
        /// First result.
        #[arg(long, default_value_t = 0)]
        offset: u64,
    },
    /// Comment on an app (not your own) and score it.
    Add {
        /// The app id.
        app: String,
        /// A score, 0 to 5.
        #[arg(long)]
        score: f64,
        /// The comment (1 to 1024 characters).
        text: String,
    },
}

#[derive(Debug, Subcommand)]
enum FederationCommand {
    /// The other stores this one knows.
    Stores {
        #[command(subcommand)]
        command: StoresCommand,
    },
    /// This store's packages that can be pushed, with the stores each went to.
    Pushable,
    /// Push a published package to other stores.
    Push {
        /// The package id.
        package: String,
        /// A store id (repeat the flag).
        #[arg(long = "to", required = true)]
        stores: Vec<String>,
    },
    /// What another store offers that this one lacks.
    Pullable {
        /// The store id.
        store: String,
    },
    /// Import a package another store offers (it arrives as Upload, to be tested here).
    Pull {
        /// The store id.
        store: String,
        /// The package id there.
        package: String,
    },
}

#[derive(Debug, Subcommand)]
enum StoresCommand {
    /// List them.
    List,
    /// Show one.
    Show {
        /// The store id.
        store: String,
    },
    /// Add one (name, version, company, URL and appd-trans-id needed; the URL an IPv4 one:
    /// http://10.0.0.1:30091).
    Add {
        #[command(flatten)]
        fields: StoreFields,
    },
    /// Change one (what is not given stays as it is).
    Edit {
        /// The store id.
        store: String,
        #[command(flatten)]
        fields: StoreFields,
    },
    /// Forget one.
    Delete {
        /// The store id.
        store: String,
    },
}

/// What is known of an external store.
#[derive(Debug, ClapArgs)]
struct StoreFields {
    /// Its name.
    #[arg(long)]
    name: Option<String>,
    /// Its version.
    #[arg(long)]
    version: Option<String>,
    /// Its company.
    #[arg(long)]
    company: Option<String>,
    /// Its URL: http(s), an IPv4 address, a port (http://10.0.0.9:30091).
    #[arg(long = "store-url")]
    store_url: Option<String>,
    /// The package translation it needs (appdTransId).
    #[arg(long)]
    appd_trans_id: Option<String>,
    /// http or https.
    #[arg(long)]
    schema: Option<String>,
    /// Its push interface.
    #[arg(long)]
    push_interface: Option<String>,
    /// A description.
    #[arg(long)]
    description: Option<String>,
}

impl StoreFields {
    fn form(self) -> ExternalStoreForm {
        let mut form = ExternalStoreForm::default();
        form.app_store_name = self.name;
        form.app_store_version = self.version;
        form.company = self.company;
        form.url = self.store_url;
        form.appd_trans_id = self.appd_trans_id;
        form.schema = self.schema;
        form.app_push_intf = self.push_interface;
        form.description = self.description;
        form
    }
}

/// Reads a listing value in any case; a value appstore-be does not list is sent as given, with a warning.
fn open<T>(s: &str) -> Result<T, String>
where
    T: OpenValue,
{
    let v = T::lenient(s);
    if !v.known() {
        eprintln!(
            "mec-appstore: warning: {s:?} is not one of appstore-be's values ({}); the store may refuse it",
            T::known_list()
        );
    }
    Ok(v)
}

trait OpenValue: Sized {
    fn lenient(s: &str) -> Self;
    fn known(&self) -> bool;
    fn known_list() -> String;
}

macro_rules! open_value {
    ($($t:ty),+) => {$(
        impl OpenValue for $t {
            fn lenient(s: &str) -> Self {
                <$t>::parse_lenient(s)
            }
            fn known(&self) -> bool {
                self.is_known()
            }
            fn known_list() -> String {
                <$t>::KNOWN.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
    )+};
}

open_value!(
    AppType,
    Affinity,
    Industry,
    ShowType,
    WorkloadType,
    PackageStatus
);

fn app_sort_key(s: &str) -> Result<AppSortKey, String> {
    AppSortKey::ALL
        .iter()
        .copied()
        .find(|k| k.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            let keys: Vec<&str> = AppSortKey::ALL.iter().map(|k| k.as_str()).collect();
            format!("the AppStore sorts apps by {}", keys.join(", "))
        })
}

fn package_sort_key(s: &str) -> Result<PackageSortKey, String> {
    PackageSortKey::ALL
        .iter()
        .copied()
        .find(|k| k.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            let keys: Vec<&str> = PackageSortKey::ALL.iter().map(|k| k.as_str()).collect();
            format!("the AppStore sorts packages by {}", keys.join(", "))
        })
}

fn sort_order(s: &str) -> Result<SortOrder, String> {
    match s.to_ascii_lowercase().as_str() {
        "asc" => Ok(SortOrder::Asc),
        "desc" => Ok(SortOrder::Desc),
        _ => Err("asc or desc".into()),
    }
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

/// A progress bar on a terminal: with a length when one is known, else counting bytes.
fn progress_bar(what: &'static str, length: Option<u64>) -> Option<indicatif::ProgressBar> {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let (bar, template) = match length {
        Some(n) => (
            indicatif::ProgressBar::new(n),
            "{msg} {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        ),
        None => (
            indicatif::ProgressBar::new_spinner(),
            "{spinner} {msg} {bytes} ({bytes_per_sec})",
        ),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
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

fn status_text<T: ToString>(s: Option<&T>) -> String {
    s.map(ToString::to_string).unwrap_or_default()
}

fn print_packages(packages: &[AppPackage]) {
    for p in packages {
        println!(
            "  {}  {:<10} {:<14} {}",
            p.package_id,
            p.version,
            status_text(p.status.as_ref()),
            p.user_name.as_deref().unwrap_or_default()
        );
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mec-appstore: {}", mec_core::client::report(e.as_ref()));
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
    let mut builder = Client::builder(&url)
        .danger_accept_invalid_certs(args.insecure)
        .timeout(std::time::Duration::from_secs(args.timeout))
        .idle_timeout(std::time::Duration::from_secs(args.idle_timeout));
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
            let me = client.identity()?;
            let path = save_config(&Config {
                url: Some(url),
                token: Some(token),
            })?;
            print(json, &me, |me| {
                println!(
                    "signed in as {} (user id {}); token saved in {}",
                    me.user_name,
                    me.user_id,
                    path.display()
                );
            })?;
        }
        Command::Whoami => {
            let me = client.identity()?;
            print(json, &me, |me| {
                println!("{} (user id {})", me.user_name, me.user_id);
                println!("roles: {}", me.authorities.join(", "));
                if let Some(exp) = me.expires_at {
                    println!("token expires at {exp} (seconds since 1970)");
                }
            })?;
        }
        Command::Apps { command } => apps(&client, json, command).await?,
        Command::Packages { command } => packages(&client, json, command).await?,
        Command::Upload {
            package,
            icon,
            demo_video,
            listing,
            test_task_id,
            experience_able,
        } => {
            let size = std::fs::metadata(&package).map(|m| m.len()).ok();
            let bar = progress_bar("uploading", size);
            let mut form = UploadForm::new(package, icon)
                .app_type(listing.app_type)
                .affinity(listing.affinity)
                .industry(listing.industry)
                .show_type(listing.show_type)
                .experience_able(experience_able);
            form.demo_video = demo_video;
            form.test_task_id = test_task_id;
            let registered = client
                .upload(&form, |done, _| {
                    if let Some(b) = &bar {
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
                None => serde_json::to_value(
                    client.app(&app).packages().package(&package).test().await?,
                )?,
                Some(secs) => serde_json::to_value(
                    client
                        .app(&app)
                        .packages()
                        .package(&package)
                        .wait_for_test(
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
            client
                .app(&app)
                .packages()
                .package(&package)
                .publish(price)
                .await?;
            if !json {
                println!("published {package}");
            }
        }
        Command::Unpublish { app, package } => {
            client
                .app(&app)
                .packages()
                .package(&package)
                .unpublish()
                .await?;
            if !json {
                println!("unpublished {package}");
            }
        }
        Command::Download {
            app,
            package,
            output,
            with_images,
        } => {
            let package = client.app(&app).packages().package(&package);
            // The store sends no Content-Length: the package's recorded size drives the bar.
            let hint = if with_images {
                None
            } else {
                package.get().await.ok().and_then(|p| p.size_bytes())
            };
            let bar = progress_bar("downloading", hint);
            let mut file = tokio::fs::File::create(&output).await?;
            let options = DownloadOptions::default()
                .with_images(with_images)
                .size_hint(hint);
            let result = package
                .download_to(&options, &mut file, |done, total| {
                    if let Some(b) = &bar {
                        if let Some(t) = total {
                            b.set_length(t);
                        }
                        b.set_position(done);
                    }
                })
                .await;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let n = match result {
                Ok(n) => n,
                Err(e) => {
                    drop(file);
                    let _ = std::fs::remove_file(&output);
                    return Err(e.into());
                }
            };
            print(
                json,
                &serde_json::json!({"file": output, "bytes": n}),
                |_| println!("wrote {n} bytes to {}", output.display()),
            )?;
        }
        Command::Delete { app, package } => {
            match &package {
                Some(p) => client.app(&app).packages().package(p).delete().await?,
                None => client.app(&app).delete().await?,
            }
            if !json {
                println!("deleted");
            }
        }
        Command::Comments { command } => match command {
            CommentsCommand::List { app, limit, offset } => {
                let page = client.app(&app).comments().page(offset, limit).await?;
                print(json, &page, |p| {
                    for c in &p.results {
                        let who = c
                            .user
                            .as_ref()
                            .and_then(|u| u.user_name.clone())
                            .unwrap_or_default();
                        println!("{:>3}  {:<16} {}", c.score.unwrap_or_default(), who, c.body);
                    }
                    println!("{} of {} comment(s)", p.results.len(), p.total);
                })?;
            }
            CommentsCommand::Add { app, score, text } => {
                client.app(&app).comments().add(&text, score).await?;
                if !json {
                    println!("commented");
                }
            }
        },
        Command::Federation { command } => federation(&client, json, command).await?,
    }
    Ok(())
}

async fn apps(
    client: &Client,
    json: bool,
    command: AppsCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        AppsCommand::List {
            name,
            limit,
            offset,
            mine,
            sort,
            order,
            types,
            industry,
            affinity,
            workload,
            show_type,
            all_statuses,
        } => {
            let mut q = AppQuery::default()
                .page(offset, limit)
                .sort(sort, order)
                .types(types)
                .industries(industry)
                .affinities(affinity)
                .workload_types(workload);
            if !show_type.is_empty() {
                q = q.show_types(show_type);
            }
            if let Some(n) = name {
                q = q.name(n);
            }
            if mine {
                // Yours in every status and visibility.
                q = q
                    .user_id(client.identity()?.user_id)
                    .statuses(Vec::<AppStatus>::new())
                    .show_types(Vec::new());
            } else if all_statuses {
                q = q.statuses(Vec::<AppStatus>::new());
            }
            let page = client.query_apps(&q).await?;
            print(json, &page, |p| {
                for a in &p.results {
                    println!(
                        "{}  {:<24} {:<16} {}",
                        a.app_id,
                        a.name,
                        a.provider,
                        status_text(a.status.as_ref())
                    );
                }
                println!("{} of {} app(s)", p.results.len(), p.total);
            })?;
        }
        AppsCommand::Show { app } => {
            let info = client.app(&app).get().await?;
            let mut packages = client.app(&app).packages().list(Scope::Published).await?;
            // Your own packages, in every status: the published list alone hides what you just uploaded.
            // (A token that names no user, such as a service client's, has none: the published list stands.)
            let mine = match client.app(&app).packages().list(Scope::Mine).await {
                Ok(mine) => mine,
                Err(Error::Auth(_) | Error::InvalidRequest(_)) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            for p in mine {
                if !packages.iter().any(|q| q.package_id == p.package_id) {
                    packages.push(p);
                }
            }
            let both = serde_json::json!({"app": info, "packages": packages});
            print(json, &both, |_| {
                println!(
                    "{} ({}) by {}, {}",
                    info.name,
                    info.app_id,
                    info.provider,
                    status_text(info.status.as_ref())
                );
                print_packages(&packages);
            })?;
        }
        AppsCommand::Icon {
            app,
            package,
            output,
        } => {
            let bytes = match &package {
                Some(p) => client.app(&app).packages().package(p).icon().await?,
                None => client.app(&app).icon().await?,
            };
            std::fs::write(&output, &bytes)?;
            print(
                json,
                &serde_json::json!({"file": output, "bytes": bytes.len()}),
                |_| println!("wrote {} bytes to {}", bytes.len(), output.display()),
            )?;
        }
    }
    Ok(())
}

async fn packages(
    client: &Client,
    json: bool,
    command: PackagesCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        PackagesCommand::Mine {
            name,
            limit,
            offset,
            status,
            sort,
            order,
        } => {
            let mut q = PackageQuery::new()
                .page(offset, limit)
                .sort(sort, order)
                .statuses(status);
            if let Some(n) = name {
                q = q.name(n);
            }
            let page = client.query_my_packages(&q).await?;
            print(json, &page, |p| {
                for pkg in &p.results {
                    println!(
                        "{}  {}  {:<24} {:<10} {}",
                        pkg.app_id,
                        pkg.package_id,
                        pkg.name,
                        pkg.version,
                        status_text(pkg.status.as_ref())
                    );
                }
                println!("{} of {} package(s)", p.results.len(), p.total);
            })?;
        }
        PackagesCommand::Edit {
            app,
            package,
            app_type,
            industry,
            affinity,
            show_type,
            short_desc,
            experience_able,
            icon,
            demo_video,
            doc,
        } => {
            let mut edit = PackageEdit::default();
            edit.app_type = app_type;
            edit.industry = industry;
            edit.affinity = affinity;
            edit.show_type = show_type;
            edit.short_desc = short_desc;
            edit.experience_able = experience_able;
            edit.icon = icon;
            edit.demo_video = demo_video;
            edit.doc = doc;
            let changed = client
                .app(&app)
                .packages()
                .package(&package)
                .edit(&edit)
                .await?;
            print(json, &changed, |p| {
                println!("changed {} {} ({})", p.name, p.version, p.package_id);
            })?;
        }
    }
    Ok(())
}

async fn federation(
    client: &Client,
    json: bool,
    command: FederationCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        FederationCommand::Stores { command } => match command {
            StoresCommand::List => {
                let stores = client.external_stores().list().await?;
                print(json, &stores, |s| {
                    for st in s {
                        println!(
                            "{}  {:<20} {}",
                            st.app_store_id,
                            st.app_store_name,
                            st.url.as_deref().unwrap_or_default()
                        );
                    }
                })?;
            }
            StoresCommand::Show { store } => {
                let found = client
                    .external_stores()
                    .store(&store)
                    .get()
                    .await?
                    .ok_or_else(|| format!("the AppStore knows no external store {store}"))?;
                print(json, &found, |s| {
                    println!(
                        "{} {} ({}), {}",
                        s.app_store_name,
                        s.app_store_version.as_deref().unwrap_or_default(),
                        s.company.as_deref().unwrap_or_default(),
                        s.url.as_deref().unwrap_or_default()
                    );
                })?;
            }
            StoresCommand::Add { fields } => {
                let added = client.external_stores().add(&fields.form()).await?;
                print(json, &added, |s| {
                    println!("added {} as {}", s.app_store_name, s.app_store_id);
                })?;
            }
            StoresCommand::Edit { store, fields } => {
                let changed = client
                    .external_stores()
                    .store(&store)
                    .edit(&fields.form())
                    .await?;
                print(json, &changed, |s| {
                    println!("changed {}", s.app_store_id);
                })?;
            }
            StoresCommand::Delete { store } => {
                client.external_stores().store(&store).delete().await?;
                if !json {
                    println!("deleted");
                }
            }
        },
        FederationCommand::Pushable => {
            let list = client.pushable_packages().await?;
            print(json, &list, |l| {
                for p in l {
                    println!(
                        "{}  {:<24} {:<10} pushed to: {}",
                        p.package_id,
                        p.name,
                        p.version.as_deref().unwrap_or_default(),
                        p.target_platform.clone().unwrap_or_default().join(", ")
                    );
                }
            })?;
        }
        FederationCommand::Push { package, stores } => {
            let results = client.federated_package(&package).push(&stores).await?;
            let report: Vec<serde_json::Value> = stores
                .iter()
                .zip(&results)
                .map(|(s, ok)| serde_json::json!({"store": s, "pushed": ok}))
                .collect();
            print(json, &report, |_| {
                for (s, ok) in stores.iter().zip(&results) {
                    println!("{s}: {}", if *ok { "pushed" } else { "not pushed" });
                }
            })?;
            if results.iter().any(|ok| !ok) {
                return Err("some stores did not take the package".into());
            }
        }
        FederationCommand::Pullable { store } => {
            let list = client
                .external_stores()
                .store(&store)
                .pullable_packages()
                .await?;
            print(json, &list, |l| {
                for p in l {
                    println!(
                        "{}  {:<24} {:<10} {}",
                        p.package_id,
                        p.name,
                        p.version.as_deref().unwrap_or_default(),
                        p.provider.as_deref().unwrap_or_default()
                    );
                }
            })?;
        }
        FederationCommand::Pull { store, package } => {
            let source = client
                .external_stores()
                .store(&store)
                .get()
                .await?
                .ok_or_else(|| format!("the AppStore knows no external store {store}"))?;
            let offered = client
                .external_stores()
                .store(&store)
                .pullable_packages()
                .await?
                .into_iter()
                .find(|p| p.package_id == package)
                .ok_or_else(|| {
                    format!(
                        "{} offers no package {package} this store lacks",
                        source.app_store_name
                    )
                })?;
            let pulled = client
                .federated_package(&package)
                .pull(&PullRequest::new(&source, &offered))
                .await?;
            if !pulled {
                return Err(format!("the AppStore did not pull {package}").into());
            }
            print(json, &serde_json::json!({"pulled": package}), |_| {
                println!(
                    "pulled {} {}",
                    offered.name,
                    offered.version.as_deref().unwrap_or_default()
                );
            })?;
        }
    }
    Ok(())
}
