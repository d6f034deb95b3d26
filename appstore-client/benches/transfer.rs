//! Peak memory and time of the client while it uploads and downloads a large package, against `MockAppStore`,
//! next to a baseline doing the same work with raw reqwest (the same chunks, merge and registration; the same
//! streamed download to a file).
//!
//! `cargo bench -p mec-appstore-client --bench transfer` (sizes in MiB as arguments; default 100 and 1024). Each
//! transfer runs in a child process, so that its peak RSS (VmHWM) is its own and not the mock's.

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
    let line = if mode == "raw-upload" {
        raw_upload(url, token, file, &client.identity().unwrap()).await
    } else if mode == "raw-download" {
        let response = reqwest::Client::new()
            .get(format!(
                "{url}/mec/appstore/v1/apps/{app}/packages/{pkg}/action/download"
            ))
            .header("access_token", token)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
        let mut out = tokio::fs::File::create(file).await.unwrap();
        let mut stream = response.bytes_stream();
        let mut n = 0u64;
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            let chunk = chunk.unwrap();
            n += chunk.len() as u64;
            tokio::io::AsyncWriteExt::write_all(&mut out, &chunk)
                .await
                .unwrap();
        }
        format!("{n} -")
    } else if mode == "upload" {
        let dir = PathBuf::from(file).parent().unwrap().to_owned();
        let icon = dir.join("icon.png");
        std::fs::write(&icon, b"png").unwrap();
        let r = client
            .upload(&UploadForm::new(PathBuf::from(file), icon), |_, _| {})
            .await
            .unwrap();
        format!("{} {}", r.app_id, r.package_id)
    } else {
        let mut out = tokio::fs::File::create(file).await.unwrap();
        let n = client
            .app(app)
            .packages()
            .package(pkg)
            .download_to(&Default::default(), &mut out, |_, _| {})
            .await
            .unwrap();
        format!("{n} -")
    };
    println!("{line} {} {}", t.elapsed().as_secs_f64(), peak_rss_kib());
}

/// Whether two files hold the same bytes (read 1 MiB at a time).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (mut a, mut b) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = a.read(&mut x).unwrap();
        if n == 0 {
            return b.read(&mut y).unwrap() == 0;
        }
        if b.read_exact(&mut y[..n]).is_err() || x[..n] != y[..n] {
            return false;
        }
    }
}

/// The client's chunked upload done by hand with reqwest: 8 MiB chunks read one at a time, the merge, the
/// registration.
async fn raw_upload(
    url: &str,
    token: &str,
    file: &str,
    me: &mec_appstore_client::Identity,
) -> String {
    use reqwest::multipart::{Form, Part};
    use tokio::io::AsyncReadExt;
    let http = reqwest::Client::new();
    let base = format!("{url}/mec/appstore/v1/apps");
    let size = std::fs::metadata(file).unwrap().len();
    let chunk_size = mec_appstore_client::CHUNK_SIZE;
    let chunks = size.div_ceil(chunk_size);
    let mut f = tokio::fs::File::open(file).await.unwrap();
    let identifier = format!("raw-{size}-{}", std::process::id());
    for number in 1..=chunks {
        let len = chunk_size.min(size - (number - 1) * chunk_size);
        let mut chunk = vec![0u8; usize::try_from(len).unwrap()];
        f.read_exact(&mut chunk).await.unwrap();
        let form = Form::new()
            .part("file", Part::bytes(chunk).file_name("raw.csar"))
            .text("chunkNumber", number.to_string())
            .text("identifier", identifier.clone());
        http.post(format!("{base}/upload"))
            .header("access_token", token)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
    }
    let address = http
        .get(format!("{base}/merge"))
        .header("access_token", token)
        .query(&[("fileName", "raw.csar"), ("guid", &identifier)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = Form::new()
        .text("fileAddress", address)
        .part("icon", Part::bytes(b"png".to_vec()).file_name("icon.png"))
        .text("type", "Others")
        .text("affinity", "X86")
        .text("industry", "Others")
        .text("showType", "public");
    let r: serde_json::Value = http
        .post(format!("{base}/vm-register"))
        .header("access_token", token)
        .query(&[("userId", &me.user_id), ("userName", &me.user_name)])
        .multipart(form)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    format!(
        "{} {}",
        r["appId"].as_str().unwrap(),
        r["packageId"].as_str().unwrap()
    )
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
            let down_file = dir.join("download.bin");
            let mut lines = Vec::new();
            for (up_mode, down_mode) in [("upload", "download"), ("raw-upload", "raw-download")] {
                let up = run(vec!["child".into(), up_mode.into(), store.url().into(), store.token().into(), package.display().to_string()]).await;
                let down = run(vec![
                    "child".into(),
                    down_mode.into(),
                    store.url().into(),
                    store.token().into(),
                    down_file.display().to_string(),
                    up[0].clone(),
                    up[1].clone(),
                ])
                .await;
                let same = same_file(&down_file, &package);
                assert!(same, "{down_mode}: the bytes differ");
                let f = |v: &str| v.parse::<f64>().unwrap();
                lines.push((f(&up[2]), f(&up[3]), f(&down[2]), f(&down[3])));
                let _ = std::fs::remove_file(&down_file);
            }
            let ((cu, cur, cd, cdr), (ru, rur, rd, rdr)) = (lines[0], lines[1]);
            println!(
                "{mib} MiB package: upload {cu:.1} s, peak RSS {cur} KiB (raw reqwest {ru:.1} s, {rur} KiB: ratios {:.2} time, {:.2} memory); \
                 download {cd:.1} s, peak RSS {cdr} KiB (raw reqwest {rd:.1} s, {rdr} KiB: ratios {:.2} time, {:.2} memory)",
                cu / ru,
                cur / rur,
                cd / rd,
                cdr / rdr
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    });
}
