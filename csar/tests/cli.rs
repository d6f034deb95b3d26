//! The `csar` command: every limit set from a flag, extraction and packing that leave nothing half-written,
//! verification at a given time and with a given coverage.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Output};

const SIGNER_CRT: &str = include_str!("fixtures/signer.crt");
const SIGNER_KEY: &str = include_str!("fixtures/signer.key");

fn csar(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_csar"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn every_limit_is_a_flag() {
    let tmp = TempDir::new("cli-limits");
    let pkg = tmp.path().join("demo.csar");
    std::fs::write(&pkg, build(eg_builder())).unwrap();
    let ok = csar(&["validate", s(&pkg)]);
    assert!(ok.status.success(), "{}", text(&ok));
    let o = csar(&["validate", "--max-entries", "2", s(&pkg)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("CSAR002"), "{}", text(&o));
    // Before the subcommand too, and sizes with units.
    let o = csar(&["--max-total-size", "1K", "validate", s(&pkg)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("at most 1024"), "{}", text(&o));
    let o = csar(&["validate", "--yaml-max-events", "5", "--json", s(&pkg)]);
    assert_eq!(o.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "CSAR042"),
        "{report}"
    );
    let o = csar(&["validate", "--max-entry-size", "5 parsecs", s(&pkg)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("parsecs"), "{}", text(&o));
    for flag in [
        "--max-entries",
        "--max-entry-size",
        "--max-total-size",
        "--max-ratio",
        "--ratio-min-size",
        "--max-depth",
        "--max-in-memory",
        "--max-list-items",
        "--max-findings-per-code",
        "--yaml-max-events",
        "--yaml-max-aliases",
        "--yaml-max-depth",
    ] {
        let o = csar(&["validate", flag, "1000000", s(&pkg)]);
        assert!(o.status.success(), "{flag}: {}", text(&o));
    }
}

#[test]
fn findings_are_capped_from_the_command_line() {
    let tmp = TempDir::new("cli-cap");
    let pkg = tmp.path().join("demo.csar");
    let extra: Vec<(String, Vec<u8>)> = (0..5)
        .map(|i| (format!("Artifacts/Other/{i}.txt"), vec![b'x']))
        .collect();
    let changes: Vec<(&str, Option<&[u8]>)> = extra
        .iter()
        .map(|(n, d)| (n.as_str(), Some(d.as_slice())))
        .collect();
    std::fs::write(&pkg, rezip(&build(eg_builder()), &changes)).unwrap();
    let o = csar(&["validate", "--max-findings-per-code", "2", s(&pkg)]);
    let out = text(&o);
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("warning CSAR035"))
            .count(),
        3,
        "{out}"
    );
    assert!(out.contains("3 more CSAR035"), "{out}");
}

#[test]
fn unpack_makes_a_new_directory_or_nothing() {
    let tmp = TempDir::new("cli-unpack");
    let pkg = tmp.path().join("demo.csar");
    std::fs::write(&pkg, build(eg_builder())).unwrap();
    let busy = tmp.path().join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("mine.txt"), b"keep me").unwrap();
    let o = csar(&["unpack", s(&pkg), "-o", s(&busy)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    assert_eq!(std::fs::read_dir(&busy).unwrap().count(), 1);
    let out = tmp.path().join("out");
    let o = csar(&["unpack", s(&pkg), "-o", s(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("APPD/demo.zip").is_file());
}

#[test]
fn pack_sign_and_verify_at_a_time() {
    let tmp = TempDir::new("cli-pack");
    let pkg = tmp.path().join("demo.csar");
    std::fs::write(&pkg, build(eg_builder())).unwrap();
    let dir = tmp.path().join("demo");
    assert!(csar(&["unpack", s(&pkg), "-o", s(&dir)]).status.success());
    let (cert, key) = (tmp.path().join("c.pem"), tmp.path().join("k.pem"));
    std::fs::write(&cert, SIGNER_CRT).unwrap();
    std::fs::write(&key, SIGNER_KEY).unwrap();
    let signed = tmp.path().join("signed.csar");
    let o = csar(&[
        "pack",
        s(&dir),
        "-o",
        s(&signed),
        "--cert",
        s(&cert),
        "--key",
        s(&key),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("(signed)"));
    let at = ["--at", "2027-01-01T00:00:00Z"];
    let o = csar(&[&["verify", s(&signed), "--trust", s(&cert)][..], &at[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("5 file(s) checked"), "{}", text(&o));
    // A century later, the signer's certificate has expired.
    let o = csar(&[
        "verify",
        s(&signed),
        "--trust",
        s(&cert),
        "--at",
        "2127-01-01T00:00:00Z",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("is valid from"), "{}", text(&o));
    // A file changed in the directory: repacking the signed package is refused, and nothing is written.
    let out = tmp.path().join("resigned.csar");
    let again = tmp.path().join("again");
    assert!(
        csar(&["unpack", s(&signed), "-o", s(&again)])
            .status
            .success()
    );
    std::fs::write(again.join("Artifacts/Docs/README.md"), b"# changed\n").unwrap();
    let o = csar(&["pack", s(&again), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("Artifacts/Docs/README.md"),
        "{}",
        text(&o)
    );
    assert!(!out.exists());
    // Only the entry files covered: an unlisted script does not matter then.
    let extra = tmp.path().join("extra.csar");
    std::fs::write(
        &extra,
        rezip(
            &std::fs::read(&signed).unwrap(),
            &[("Artifacts/run.sh", Some(b"echo\n"))],
        ),
    )
    .unwrap();
    let o = csar(&[&["verify", s(&extra), "--trust", s(&cert)][..], &at[..]].concat());
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("Artifacts/run.sh"), "{}", text(&o));
    let o = csar(
        &[
            &[
                "verify",
                s(&extra),
                "--trust",
                s(&cert),
                "--coverage",
                "entry",
            ][..],
            &at[..],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn an_error_says_its_cause_once() {
    let tmp = TempDir::new("cli-cause");
    let missing = tmp.path().join("no-such.csar");
    let o = csar(&[
        "unpack",
        s(&missing),
        "--output",
        s(&tmp.path().join("out")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let os = std::fs::File::open(&missing).unwrap_err().to_string();
    assert_eq!(
        err.trim_end(),
        format!("csar: cannot access {}: {os}", missing.display())
    );
    assert_eq!(err.matches(&os).count(), 1, "{err}");
}
