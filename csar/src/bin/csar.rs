//! `csar`: inspect, validate, pack, unpack, sign and verify MEC application packages, and make Helm charts.

use clap::{Parser, Subcommand};
use mec_csar::{
    ChartOptions, KubernetesFile, Limits, Manifest, Package, PackageBuilder, TOSCA_META_PATH,
    ToscaMeta, helm_chart_from_yaml, read_app_descriptor, sign_manifest, validate_with_progress,
    verify_package,
};
use std::path::PathBuf;
use std::process::ExitCode;

/// Read, validate, build and extract MEC application packages (CSAR).
#[derive(Debug, Parser)]
#[command(name = "csar", version)]
struct Args {
    #[command(subcommand)]
    command: Command,
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
    /// Build a package from a directory laid out as one.
    Pack {
        /// The directory.
        dir: PathBuf,
        /// The package to write.
        #[arg(short, long)]
        output: PathBuf,
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
    /// Verify a package's signature against a trust anchor and every listed file's digest; exits with 1 when it
    /// does not hold.
    Verify {
        /// The package.
        package: PathBuf,
        /// The trust anchor: the signer's certificate or its CA (PEM).
        #[arg(long)]
        trust: PathBuf,
    },
    /// Extract a package into a directory (refused when any entry is unsafe).
    Unpack {
        /// The package.
        package: PathBuf,
        /// The directory to extract into.
        #[arg(short, long)]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("csar: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match args.command {
        Command::Inspect { package } => {
            let mut pkg = Package::open(&package, Limits::default())?;
            if let Ok(text) = pkg.read_text(TOSCA_META_PATH) {
                let meta = ToscaMeta::parse(&text)?;
                println!("TOSCA.meta");
                for (k, v) in &meta.block0 {
                    println!("  {k}: {v}");
                }
            }
            let manifests: Vec<String> = pkg
                .entries()
                .iter()
                .filter(|e| e.safe && !e.name.contains('/') && e.name.ends_with(".mf"))
                .map(|e| e.name.clone())
                .collect();
            for mf in manifests {
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
                std::io::BufReader::new(file),
                &Limits::default(),
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
        Command::Pack { dir, output } => {
            let file = std::fs::File::create(&output)?;
            let bar = progress_bar("packing");
            PackageBuilder::from_dir(&dir)?.write_with_progress(
                std::io::BufWriter::new(file),
                &mut |done, total| {
                    if let Some(b) = &bar {
                        b.set_length(total);
                        b.set_position(done);
                    }
                },
            )?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            println!("wrote {}", output.display());
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
                inputs.push(KubernetesFile {
                    name: f
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    text: std::fs::read_to_string(f)
                        .map_err(|e| format!("{}: {e}", f.display()))?,
                });
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
                &ChartOptions {
                    name,
                    version: chart_version,
                    rewrite_images: !keep_images,
                },
            )?;
            std::fs::write(&output, chart)?;
            println!("wrote {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Sign {
            package,
            cert,
            key,
            output,
        } => {
            let mut pkg = Package::open(&package, Limits::default())?;
            let manifest = pkg
                .entries()
                .iter()
                .find(|e| e.safe && !e.name.contains('/') && e.name.ends_with(".mf"))
                .map(|e| e.name.clone())
                .ok_or("the package has no manifest in its root")?;
            let text = pkg.read_text(&manifest)?;
            let signed = sign_manifest(
                &text,
                &std::fs::read_to_string(&cert)?,
                &std::fs::read_to_string(&key)?,
            )?;
            let out = std::fs::File::create(&output)?;
            mec_csar::replace_entry(
                std::io::BufReader::new(std::fs::File::open(&package)?),
                &manifest,
                signed.as_bytes(),
                out,
            )?;
            println!("wrote {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { package, trust } => {
            let mut pkg = Package::open(&package, Limits::default())?;
            match verify_package(&mut pkg, &std::fs::read_to_string(&trust)?) {
                Ok(v) => {
                    println!("verified: signed by {}", v.signer);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("not verified: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Unpack { package, output } => {
            let n = Package::open(&package, Limits::default())?.extract(&output)?;
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
