//! Validating a package that holds a large image, against `sha256sum` over the same image file in the same run,
//! and the peak memory of validation for growing packages.
//!
//! `cargo bench -p mec-csar --bench validate` (sizes in MiB as arguments; default 100 and 1024). Each validation
//! runs in a child process so that its peak RSS (VmHWM) is its own.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::cast_precision_loss)]

use mec_csar::{Limits, PackageBuilder, validate_path};
use std::io::Write;
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

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    // Child mode: validate one package and report time and peak memory.
    if let [mode, package] = args.as_slice()
        && mode == "child"
    {
        let t = Instant::now();
        let report = validate_path(package, &Limits::default());
        let secs = t.elapsed().as_secs_f64();
        assert!(report.is_valid(), "{report}");
        println!("{secs} {} {}", peak_rss_kib(), report.bytes_hashed);
        return;
    }
    let sizes: Vec<u64> = if args.is_empty() {
        vec![100, 1024]
    } else {
        args.iter().map(|a| a.parse().unwrap()).collect()
    };
    let dir = std::env::temp_dir().join(format!("mec-csar-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let me = std::env::current_exe().unwrap();
    for mib in sizes {
        let image = dir.join("image.qcow2");
        let package = dir.join("bench.csar");
        write_image(&image, mib);
        let f = std::fs::File::create(&package).unwrap();
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
            .write(std::io::BufWriter::new(f))
            .unwrap();

        let t = Instant::now();
        let out = Command::new("sha256sum")
            .arg(&image)
            .output()
            .expect("sha256sum is needed");
        assert!(out.status.success());
        let baseline = t.elapsed().as_secs_f64();

        let out = Command::new(&me)
            .args(["child", package.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text.split_whitespace();
        let secs: f64 = parts.next().unwrap().parse().unwrap();
        let rss: u64 = parts.next().unwrap().parse().unwrap();
        let hashed: u64 = parts.next().unwrap().parse().unwrap();
        println!(
            "{mib} MiB image: sha256sum {baseline:.2} s, csar validate {secs:.2} s (ratio {:.2}), {} MiB hashed, peak RSS {} KiB",
            secs / baseline,
            hashed >> 20,
            rss
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
