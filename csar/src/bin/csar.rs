//! `csar`: inspect, validate, pack, unpack, sign and verify MEC application packages, and make Helm charts.

use clap::{Parser, Subcommand, ValueEnum};
use mec_csar::{
    ChartOptions, Coverage, KubernetesFile, Limits, Manifest, Package, PackageBuilder,
    TOSCA_META_PATH, ToscaMeta, Verifier, helm_chart_from_yaml, parse_size, read_app_descriptor,
    sign_manifest, validate_with_progress, write_file_atomically,
};
use std::path::PathBuf;
use std::process::ExitCode;

/// Read, validate, build and extract MEC application packages (CSAR).
#[derive(Debug, Parser)]
#[command(name = "csar", version)]
struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    limits: LimitArgs,
}

/// The budgets applied to untrusted packages (every field of `mec_csar::Limits`); sizes take K, M, G or T.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Limits (untrusted packages)")]
struct LimitArgs {
    /// Most entries in a package [default: 4096].
    #[arg(long, global = true, value_name = "N")]
    max_entries: Option<usize>,
    /// Most bytes one entry may inflate to [default: 8G].
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    max_entry_size: Option<u64>,
    /// Most bytes all entries may inflate to [default: 16G].
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    max_total_size: Option<u64>,
    /// Highest compression ratio (of a large entry, or of the small ones together) [default: 500].
    #[arg(long, global = true, value_name = "N")]
    max_ratio: Option<u64>,
    /// Size from which an entry's ratio is checked on its own [default: 1M].
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    ratio_min_size: Option<u64>,
    /// Most path segments of an entry [default: 16].
    #[arg(long, global = true, value_name = "N")]
    max_depth: Option<usize>,
    /// Most bytes read into memory for one file or the central directory [default: 64M].
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    max_in_memory: Option<u64>,
    /// Most items of one list (manifest entries, TOSCA.meta blocks, images, imports) [default: 65536].
    #[arg(long, global = true, value_name = "N")]
    max_list_items: Option<usize>,
    /// Most findings listed per code (the rest are counted) [default: 100].
    #[arg(long, global = true, value_name = "N")]
    max_findings_per_code: Option<usize>,
    /// Most YAML parser events per document [default: 1000000].
    #[arg(long, global = true, value_name = "N")]
    yaml_max_events: Option<usize>,
    /// Most YAML aliases per document [default: 10000].
    #[arg(long, global = true, value_name = "N")]
    yaml_max_aliases: Option<usize>,
    /// Deepest YAML nesting [default: 64].
    #[arg(long, global = true, value_name = "N")]
    yaml_max_depth: Option<usize>,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        let mut l = Limits::default();
        macro_rules! set {
            ($($field:ident),*) => {$(
                if let Some(v) = self.$field {
                    l.$field = v;
                }
            )*};
        }
        set!(
            max_entries,
            max_entry_size,
            max_total_size,
            max_ratio,
            ratio_min_size,
            max_depth,
            max_in_memory,
            max_list_items,
            max_findings_per_code,
            yaml_max_events,
            yaml_max_aliases,
            yaml_max_depth
        );
        l
    }
}

/// Which files a signature must cover.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum CoverageArg {
    /// Every file but the manifest, signatures and certificates.
    All,
    /// The entry definitions and the ETSI-Entry-* files (what EdgeGallery signs).
    Entry,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show a package's metadata, manifest and entries.
    Inspect {
        /// The package.
        package: PathBuf,
    },
    /// Validate a package; exits with 1 when it has errors.
    Validate {
        /// The package.
        package: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Build a package from a directory laid out as one (TOSCA.meta and manifest kept; without TOSCA.meta and
    /// with one root YAML, a SOL004 option 2 package). A signed package whose files changed is refused unless
    /// --cert and --key sign it again.
    Pack {
        /// The directory.
        dir: PathBuf,
        /// The package to write (through a temporary file: nothing is left on failure).
        #[arg(short, long)]
        output: PathBuf,
        /// Sign the manifest with this certificate (PEM).
        #[arg(long, requires = "key")]
        cert: Option<PathBuf>,
        /// The signing key (PEM, PKCS #8).
        #[arg(long, requires = "cert")]
        key: Option<PathBuf>,
    },
    /// Make a Helm chart (.tgz) from plain Kubernetes YAML files.
    HelmFromYaml {
        /// The Kubernetes YAML files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The chart's name (default: the first file's base name).
        #[arg(long)]
        name: Option<String>,
        /// The chart's version.
        #[arg(long, default_value = "1.0.0")]
        chart_version: String,
        /// Keep image references as they are (by default they are rewritten to the chart's registry values).
        #[arg(long)]
        keep_images: bool,
        /// The chart to write.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Sign a package's manifest (CMS, SHA-256 with RSA) with a PEM certificate and PKCS #8 key.
    Sign {
        /// The package.
        package: PathBuf,
        /// The signer's certificate (PEM).
        #[arg(long)]
        cert: PathBuf,
        /// The signer's private key (PEM, PKCS #8).
        #[arg(long)]
        key: PathBuf,
        /// The signed package to write.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Verify a package's signature against a trust anchor, that it covers the package's files, and every
    /// listed file's digest; exits with 1 when it does not hold.
    Verify {
        /// The package.
        package: PathBuf,
        /// The trust anchor: the signer's certificate or its CA (PEM; several certificates may be given).
        #[arg(long)]
        trust: PathBuf,
        /// Check the certificates' validity at this time (`2026-12-01T00:00:00Z`, or seconds since 1970)
        /// instead of now.
        #[arg(long, value_parser = parse_time)]
        at: Option<std::time::SystemTime>,
        /// Which files the signature must cover.
        #[arg(long, value_enum, default_value = "all")]
        coverage: CoverageArg,
    },
    /// Extract a package into a new directory (refused when any entry is unsafe; nothing is left on failure).
    Unpack {
        /// The package.
        package: PathBuf,
        /// The directory to create (it must not exist, or be empty).
        #[arg(short, long)]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("csar: {}", mec_csar::report(e.as_ref()));
            ExitCode::from(2)
        }
    }
}

/// Reads a time: RFC 3339 in UTC (`2026-12-01T00:00:00Z`) or seconds since 1970.
fn parse_time(text: &str) -> Result<std::time::SystemTime, String> {
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
    }
    text.parse::<der::DateTime>()
        .map(|d| d.to_system_time())
        .map_err(|_| {
            format!("{text:?} is not a time (2026-12-01T00:00:00Z, or seconds since 1970)")
        })
}

fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let limits = args.limits.limits();
    match args.command {
        Command::Inspect { package } => {
            let mut pkg = Package::open(&package, limits)?;
            if let Some(why) = pkg.refusal() {
                println!("refused: {why}");
            }
            if let Ok(text) = pkg.read_text(TOSCA_META_PATH) {
                let meta = ToscaMeta::parse(&text)?;
                println!("TOSCA.meta");
                for (k, v) in &meta.block0 {
                    println!("  {k}: {v}");
                }
            }
            if let Ok(mf) = pkg.manifest_name() {
                let manifest = Manifest::parse(&pkg.read_text(&mf)?)?;
                println!("{mf}");
                for (k, v) in &manifest.metadata {
                    println!("  {k}: {v}");
                }
                println!(
                    "  {} source(s){}",
                    manifest.sources.len(),
                    if manifest.cms.is_some() {
                        ", signed (CMS)"
                    } else {
                        ""
                    }
                );
            }
            if let Ok(appd) = read_app_descriptor(&mut pkg) {
                println!("app descriptor");
                for (k, v) in [
                    ("appDId", &appd.app_d_id),
                    ("appName", &appd.app_name),
                    ("appProvider", &appd.app_provider),
                    ("appSoftVersion", &appd.app_soft_version),
                    ("appDVersion", &appd.app_d_version),
                ] {
                    println!("  {k}: {}", v.as_deref().unwrap_or("-"));
                }
                for vc in &appd.virtual_compute {
                    println!(
                        "  VDU {}: {} vCPU, {} MB, image {}",
                        vc.node,
                        vc.num_virtual_cpu.map_or("-".into(), |n| n.to_string()),
                        vc.virtual_mem_size.map_or("-".into(), |n| n.to_string()),
                        vc.sw_image.as_deref().unwrap_or("-")
                    );
                }
            }
            println!("entries");
            for e in pkg.entries() {
                let flag = if e.safe { "" } else { "  UNSAFE" };
                println!("  {:>12}  {}{flag}", e.size, e.name);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { package, json } => {
            let file =
                std::fs::File::open(&package).map_err(|e| format!("{}: {e}", package.display()))?;
            let bar = progress_bar("hashing");
            let report = validate_with_progress(
                std::io::BufReader::with_capacity(256 * 1024, file),
                &limits,
                &mut |done, total| {
                    if let Some(b) = &bar {
                        b.set_length(total);
                        b.set_position(done);
                    }
                },
            );
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{report}");
            }
            Ok(if report.is_valid() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Pack {
            dir,
            output,
            cert,
            key,
        } => {
            let mut builder = PackageBuilder::from_dir(&dir)?;
            if let (Some(cert), Some(key)) = (cert, key) {
                builder = builder.sign_with(
                    std::fs::read_to_string(&cert)
                        .map_err(|e| format!("{}: {e}", cert.display()))?,
                    std::fs::read_to_string(&key).map_err(|e| format!("{}: {e}", key.display()))?,
                );
            }
            let bar = progress_bar("packing");
            let written = builder.write_to_path(&output, &mut |done, total| {
                if let Some(b) = &bar {
                    b.set_length(total);
                    b.set_position(done);
                }
            });
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let written = written?;
            for f in &written.changed {
                println!("digest updated: {f}");
            }
            for f in &written.removed {
                println!("manifest entry removed (file gone): {f}");
            }
            println!(
                "wrote {}{}",
                output.display(),
                if written.signed { " (signed)" } else { "" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::HelmFromYaml {
            files,
            name,
            chart_version,
            keep_images,
            output,
        } => {
            let mut inputs = Vec::new();
            for f in &files {
                inputs.push(KubernetesFile::new(
                    f.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?,
                ));
            }
            let name = name.unwrap_or_else(|| {
                files
                    .first()
                    .and_then(|f| f.file_stem())
                    .map(|s| {
                        s.to_string_lossy()
                            .to_ascii_lowercase()
                            .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                    })
                    .unwrap_or_else(|| "chart".to_owned())
            });
            let chart = helm_chart_from_yaml(
                &inputs,
                &ChartOptions::new(name, chart_version).with_rewrite_images(!keep_images),
            )?;
            write_file_atomically(&output, |out| {
                std::io::Write::write_all(out, &chart).map_err(|e| mec_csar::Error::Io {
                    path: output.display().to_string(),
                    source: e,
                })
            })?;
            println!("wrote {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Sign {
            package,
            cert,
            key,
            output,
        } => {
            let mut pkg = Package::open(&package, limits)?;
            if let Some(why) = pkg.refusal() {
                return Err(format!("refusing to sign: {why}").into());
            }
            let manifest = pkg.manifest_name()?;
            let text = pkg.read_text(&manifest)?;
            let signed = sign_manifest(
                &text,
                &std::fs::read_to_string(&cert)?,
                &std::fs::read_to_string(&key)?,
            )?;
            let source = std::io::BufReader::new(std::fs::File::open(&package)?);
            write_file_atomically(&output, |out| {
                mec_csar::replace_entry(source, &manifest, signed.as_bytes(), out).map(|_| ())
            })?;
            println!("wrote {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify {
            package,
            trust,
            at,
            coverage,
        } => {
            let mut pkg = Package::open(&package, limits)?;
            let mut verifier =
                Verifier::new(&std::fs::read_to_string(&trust)?)?.coverage(match coverage {
                    CoverageArg::All => Coverage::AllFiles,
                    CoverageArg::Entry => Coverage::EntryFiles,
                });
            if let Some(at) = at {
                verifier = verifier.at(at);
            }
            match verifier.verify_package(&mut pkg) {
                Ok(v) => {
                    println!(
                        "verified: signed by {} ({} file(s) checked; chain: {})",
                        v.signer,
                        v.files_checked,
                        v.chain.join(" <- ")
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("not verified: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Unpack { package, output } => {
            let n = Package::open(&package, limits)?.extract(&output)?;
            println!("extracted {n} file(s) into {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A progress bar on standard error, only when it is a terminal (scripts and CI logs get none).
fn progress_bar(what: &'static str) -> Option<indicatif::ProgressBar> {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    let style = indicatif::ProgressStyle::with_template(
        "{msg} {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what);
    Some(bar)
}
