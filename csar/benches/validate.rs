//! Validating a package that holds a large image, against the same work done bare in the same run: an
//! in-process SHA-256 pass over the same image bytes (read from the same page cache, 256 KiB at a time), and
//! `openssl dgst -sha256` of the image when openssl is installed. Validation also inflates the entry and checks
//! its CRC; the goal is at least 0.9 of the in-process pass's speed, with flat memory.
//!
//! Then two hostile inputs from issue 11: a TOSCA.meta of 600,000 `Name:` blocks (checked, the list limit
//! raised), and a manifest of 1,000,000 sources (refused at the default limits, and parsed whole with the list
//! and memory limits raised): their time and peak memory.
//!
//! `cargo bench -p mec-csar --bench validate` (image sizes in MiB as arguments; default 100 and 1024). Each
//! measurement runs in a child process so that its peak RSS (VmHWM) is its own; each is the best of five.

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::panic,
    missing_docs
)]

use mec_csar::{Limits, PackageBuilder, validate_path};
use sha2::Digest;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Incompressible bytes from a xorshift generator (a VM image does not deflate much either).
fn write_image(path: &Path, mib: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        f.write_all(&block).unwrap();
    }
}

/// The baseline: SHA-256 of a file, read as validation reads, 256 KiB at a time.
fn sha256_file(path: &str) -> String {
    let mut f = std::fs::File::open(path).unwrap();
    let mut d = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        d.update(&buf[..n]);
    }
    hex::encode(d.finalize())
}

/// Child mode: one measurement, printed as `seconds peak-rss-KiB detail`.
fn child(mode: &str, path: &str) {
    let t = Instant::now();
    let detail = match mode {
        "validate" => {
            let report = validate_path(path, &Limits::default());
            assert!(report.is_valid(), "{report}");
            report.bytes_hashed.to_string()
        }
        "sha256" => sha256_file(path),
        "hostile" => {
            let mut limits = Limits::default();
            limits.max_list_items = 2_000_000;
            limits.max_in_memory = 1 << 30;
            let report = validate_path(path, &limits);
            format!("{}-findings", report.findings.len())
        }
        "hostile-default" => {
            let report = validate_path(path, &Limits::default());
            format!("{}-findings", report.findings.len())
        }
        other => panic!("unknown mode {other}"),
    };
    println!("{} {} {detail}", t.elapsed().as_secs_f64(), peak_rss_kib());
}

/// Runs a child measurement five times; the best time, and the peak RSS of that run.
fn measure(mode: &str, path: &Path) -> (f64, u64) {
    let me = std::env::current_exe().unwrap();
    (0..5)
        .map(|_| {
            let out = Command::new(&me)
                .args(["child", mode, path.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let mut parts = text.split_whitespace();
            let secs: f64 = parts.next().unwrap().parse().unwrap();
            let rss: u64 = parts.next().unwrap().parse().unwrap();
            (secs, rss)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap()
}

/// `openssl dgst -sha256` of a file: the best of five, or `None` without openssl.
fn openssl(path: &Path) -> Option<f64> {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            let out = Command::new("openssl")
                .args(["dgst", "-sha256"])
                .arg(path)
                .output()
                .ok()?;
            out.status.success().then(|| t.elapsed().as_secs_f64())
        })
        .collect::<Option<Vec<f64>>>()
        .and_then(|v| v.into_iter().min_by(f64::total_cmp))
}

fn mib_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / (1 << 20) as f64 / secs
}

fn images(dir: &Path, sizes: &[u64]) {
    for &mib in sizes {
        let image = dir.join("image.qcow2");
        let package = dir.join("bench.csar");
        write_image(&image, mib);
        PackageBuilder::new("bench")
            .metadata("app_product_name", "bench")
            .metadata("app_provider_id", "bench")
            .metadata("app_package_version", "1.0")
            .metadata("app_release_data_time", "2026-11-24 12:00")
            .metadata("app_class", "vm")
            .file(
                "APPD/bench.yaml",
                "tosca_definitions_version: tosca_simple_yaml_1_2\n",
            )
            .entry_definitions("APPD/bench.yaml")
            .file_from_disk("Image/bench.qcow2", &image)
            .write_to_path(&package, &mut |_, _| {})
            .unwrap();
        let bytes = mib << 20;
        let (sha, sha_rss) = measure("sha256", &image);
        let (val, val_rss) = measure("validate", &package);
        print!(
            "{mib} MiB image: csar validate {val:.3} s ({:.0} MiB/s, peak RSS {val_rss} KiB); in-process SHA-256 {sha:.3} s ({:.0} MiB/s, peak RSS {sha_rss} KiB): ratio {:.2} of the in-process pass",
            mib_s(bytes, val),
            mib_s(bytes, sha),
            sha / val
        );
        match openssl(&image) {
            Some(o) => println!(
                "; openssl dgst -sha256 {o:.3} s ({:.0} MiB/s): ratio {:.2}",
                mib_s(bytes, o),
                o / val
            ),
            None => println!("; openssl not found"),
        }
    }
}

fn hostile(dir: &Path) {
    // A TOSCA.meta of 600,000 Name blocks naming absent files, in a package of 1,000 entries.
    let mut meta = String::from(
        "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: x\nEntry-Definitions: a.yaml\n",
    );
    for i in 0..600_000 {
        meta.push_str(&format!(
            "\nName: Files/absent{i}.txt\nContent-Type: text\n"
        ));
    }
    let mut b = PackageBuilder::new("a")
        .file(
            "a.yaml",
            "tosca_definitions_version: tosca_simple_yaml_1_3\n",
        )
        .entry_definitions("a.yaml");
    for i in 0..1_000 {
        b = b.file(format!("Files/f{i}.txt"), format!("{i}\n"));
    }
    let package = dir.join("meta.csar");
    b.write_to_path(&package, &mut |_, _| {}).unwrap();
    let with_meta = dir.join("meta2.csar");
    rezip(
        &package,
        &with_meta,
        "TOSCA-Metadata/TOSCA.meta",
        meta.as_bytes(),
    );
    let (secs, rss) = measure("hostile", &with_meta);
    println!(
        "TOSCA.meta of 600,000 Name blocks ({} MiB) in a package of 1,000 entries: validated in {secs:.2} s, peak RSS {} MiB",
        meta.len() >> 20,
        rss >> 10
    );
    // A manifest of 1,000,000 sources.
    let mut mf = String::from("metadata:\nvnf_product_name: x\n");
    for i in 0..1_000_000 {
        mf.push_str(&format!(
            "\nSource: f{i}\nAlgorithm: SHA-256\nHash: {:064x}\n",
            i
        ));
    }
    let mf_package = dir.join("mf.csar");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&mf_package).unwrap());
    for (name, data) in [
        (
            "a.yaml",
            &b"tosca_definitions_version: tosca_simple_yaml_1_3\n"[..],
        ),
        ("a.mf", mf.as_bytes()),
    ] {
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
    let (secs, rss) = measure("hostile-default", &mf_package);
    let (secs_all, rss_all) = measure("hostile", &mf_package);
    println!(
        "manifest of 1,000,000 sources ({} MiB): refused at the default limits in {secs:.2} s, peak RSS {} MiB; parsed whole (limits raised) in {secs_all:.2} s, peak RSS {} MiB",
        mf.len() >> 20,
        rss >> 10,
        rss_all >> 10
    );
}

/// Copies a zip with one entry replaced.
fn rezip(from: &Path, to: &Path, name: &str, data: &[u8]) {
    let mut a = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut w = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    for i in 0..a.len() {
        let mut f = a.by_index(i).unwrap();
        let n = f.name().unwrap().into_owned();
        let mut content = Vec::new();
        f.read_to_end(&mut content).unwrap();
        w.start_file(n.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(if n == name { data } else { &content })
            .unwrap();
    }
    w.finish().unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let [first, mode, path] = args.as_slice()
        && first == "child"
    {
        child(mode, path);
        return;
    }
    let sizes: Vec<u64> = if args.is_empty() {
        vec![100, 1024]
    } else {
        args.iter().map(|a| a.parse().unwrap()).collect()
    };
    let dir = std::env::temp_dir().join(format!("mec-csar-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    images(&dir, &sizes);
    hostile(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
}
