//! Peak memory of the client while it uploads and downloads a large package, against `MockAppStore`.
//!
//! `cargo bench -p mec-appstore-client --bench transfer` (sizes in MiB as arguments; default 100 and 1024). The
//! client runs in a child process, so that its peak RSS (VmHWM) is its own and not the mock's.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use mec_appstore_client::{Client, UploadForm};
use std::io::Write;
use std::path::{Path, PathBuf};
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

fn write_noise(path: &Path, mib: u64) {
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

async fn child(mode: &str, url: &str, token: &str, file: &str, app: &str, pkg: &str) {
    let client = Client::builder(url).access_token(token).build().unwrap();
    let t = Instant::now();
    let line = if mode == "upload" {
        let dir = PathBuf::from(file).parent().unwrap().to_owned();
        let icon = dir.join("icon.png");
        std::fs::write(&icon, b"png").unwrap();
        let r = client
            .upload(
                &UploadForm {
                    package: PathBuf::from(file),
                    icon,
                    app_type: "Others".into(),
                    affinity: "X86".into(),
                    industry: "Others".into(),
                    show_type: "public".into(),
                    user_id: "u".into(),
                    user_name: "n".into(),
                },
                |_, _| {},
            )
            .await
            .unwrap();
        format!("{} {}", r.app_id, r.package_id)
    } else {
        let mut out = tokio::fs::File::create(file).await.unwrap();
        let n = client
            .download(app, pkg, &mut out, |_, _| {})
            .await
            .unwrap();
        format!("{n} -")
    };
    println!("{line} {} {}", t.elapsed().as_secs_f64(), peak_rss_kib());
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if args.first().map(String::as_str) == Some("child") {
        let a = |i: usize| args.get(i).cloned().unwrap_or_default();
        rt.block_on(child(&a(1), &a(2), &a(3), &a(4), &a(5), &a(6)));
        return;
    }
    let sizes: Vec<u64> = if args.is_empty() {
        vec![100, 1024]
    } else {
        args.iter().map(|a| a.parse().unwrap()).collect()
    };
    rt.block_on(async {
        let store = mec_testkit::MockAppStore::start().await;
        let dir = std::env::temp_dir().join(format!("appstore-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let me = std::env::current_exe().unwrap();
        for mib in sizes {
            let payload = dir.join("payload.bin");
            write_noise(&payload, mib);
            let package = dir.join(format!("bench{mib}.csar"));
            mec_csar::PackageBuilder::new("bench")
                .metadata("app_product_name", format!("bench{mib}"))
                .metadata("app_provider_id", "bench")
                .metadata("app_package_version", "1.0")
                .metadata("app_release_data_time", "2026-11-24 12:00")
                .metadata("app_class", "vm")
                .file("APPD/bench.yaml", "tosca_definitions_version: tosca_simple_yaml_1_2\n")
                .entry_definitions("APPD/bench.yaml")
                .file_from_disk("Image/payload.bin", &payload)
                .write(std::io::BufWriter::new(std::fs::File::create(&package).unwrap()))
                .unwrap();
            let run = |args: Vec<String>| {
                let me = me.clone();
                async move {
                    let out = tokio::task::spawn_blocking(move || std::process::Command::new(me).args(args).output().unwrap())
                        .await
                        .unwrap();
                    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                    String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_owned).collect::<Vec<_>>()
                }
            };
            let up = run(vec!["child".into(), "upload".into(), store.url().into(), store.token().into(), package.display().to_string()]).await;
            let down_file = dir.join("download.bin");
            let down = run(vec![
                "child".into(),
                "download".into(),
                store.url().into(),
                store.token().into(),
                down_file.display().to_string(),
                up[0].clone(),
                up[1].clone(),
            ])
            .await;
            let same = std::fs::metadata(&down_file).unwrap().len() == std::fs::metadata(&package).unwrap().len();
            println!(
                "{mib} MiB package: upload {:.1} s, client peak RSS {} KiB; download {:.1} s, client peak RSS {} KiB; sizes match: {same}",
                up[2].parse::<f64>().unwrap(),
                up[3],
                down[2].parse::<f64>().unwrap(),
                down[3]
            );
            let _ = std::fs::remove_file(&down_file);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    });
}
