//! Packages built by the tests: an EdgeGallery-shaped package validates clean; a hostile corpus is refused, each
//! with its own finding code; extraction never writes outside its target; building is deterministic.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

mod common;

use common::*;
use mec_csar::{Limits, Package, PackageBuilder, codes, validate};
use std::io::{Cursor, Write};

#[test]
fn an_edgegallery_shaped_package_validates_clean() {
    let bytes = build(eg_builder());
    let r = check(&bytes);
    assert!(r.is_valid(), "{r}");
    assert!(codes_of(&r).is_empty(), "{r}");
    assert!(r.bytes_hashed > 0);
}

#[test]
fn building_is_deterministic() {
    assert_eq!(build(eg_builder()), build(eg_builder()));
}

#[test]
fn pack_from_a_directory_and_unpack_round_trip() {
    let base = std::env::temp_dir().join(format!("mec-csar-test-{}", std::process::id()));
    let src = base.join("demo");
    let out = base.join("out");
    let _ = std::fs::remove_dir_all(&base);
    let mut pkg =
        Package::from_reader(Cursor::new(build(eg_builder())), Limits::default()).unwrap();
    assert_eq!(pkg.extract(&src).unwrap(), 6);
    let packed = PackageBuilder::from_dir(&src)
        .unwrap()
        .write(Cursor::new(Vec::new()))
        .unwrap()
        .into_inner();
    let r = check(&packed);
    assert!(r.is_valid() && codes_of(&r).is_empty(), "{r}");
    Package::from_reader(Cursor::new(packed), Limits::default())
        .unwrap()
        .extract(&out)
        .unwrap();
    assert_eq!(
        std::fs::read(out.join("Artifacts/Docs/README.md")).unwrap(),
        b"# demo\n"
    );
    std::fs::remove_dir_all(&base).unwrap();
}

// ---- a hostile corpus: each refused with its own code ----

#[test]
fn path_escape() {
    refused_with(
        &raw_zip(&[(b"../../etc/passwd", b"x", FILE)]),
        codes::PATH_ESCAPE,
    );
    refused_with(&raw_zip(&[(b"a/../../b", b"x", FILE)]), codes::PATH_ESCAPE);
    refused_with(&raw_zip(&[(b"a\\..\\b", b"x", FILE)]), codes::PATH_ESCAPE);
}

#[test]
fn absolute_path() {
    refused_with(
        &raw_zip(&[(b"/etc/passwd", b"x", FILE)]),
        codes::ABSOLUTE_PATH,
    );
    refused_with(&raw_zip(&[(b"C:/x", b"x", FILE)]), codes::ABSOLUTE_PATH);
}

#[test]
fn symlink() {
    refused_with(&raw_zip(&[(b"link", b"/etc/passwd", LINK)]), codes::SYMLINK);
}

#[test]
fn duplicate_entry() {
    refused_with(
        &raw_zip(&[(b"a.txt", b"1", FILE), (b"a.txt", b"2", FILE)]),
        codes::DUPLICATE_ENTRY,
    );
}

#[test]
fn invalid_utf8_name() {
    refused_with(
        &raw_zip(&[(b"caf\xe9.txt", b"x", FILE)]),
        codes::INVALID_NAME,
    );
}

#[test]
fn zip_bomb() {
    let zeros = vec![0u8; 16 << 20];
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file(
        "bomb.bin",
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated),
    )
    .unwrap();
    w.write_all(&zeros).unwrap();
    let bytes = w.finish().unwrap().into_inner();
    assert!(bytes.len() < 100_000);
    refused_with(&bytes, codes::ZIP_BOMB);
}

#[test]
fn too_many_entries_and_too_deep() {
    let many: Vec<(Vec<u8>, &[u8], u32)> = (0..40)
        .map(|i| (format!("f{i}").into_bytes(), &b"x"[..], FILE))
        .collect();
    let refs: Vec<(&[u8], &[u8], u32)> = many
        .iter()
        .map(|(n, d, a)| (n.as_slice(), *d, *a))
        .collect();
    let mut limits = Limits::default();
    limits.max_entries = 10;
    let r = validate(Cursor::new(raw_zip(&refs)), &limits);
    assert!(r.findings.iter().any(|f| f.code == codes::TOO_MANY_ENTRIES));
    let deep = "a/".repeat(20) + "f";
    refused_with(&raw_zip(&[(deep.as_bytes(), b"x", FILE)]), codes::TOO_DEEP);
}

#[test]
fn truncated_zip() {
    let bytes = build(eg_builder());
    refused_with(&bytes[..bytes.len() / 2], codes::NOT_A_ZIP);
    refused_with(b"not a zip at all", codes::NOT_A_ZIP);
}

/// Rewrites one file of a built package (a tampered package).
fn tamper(path: &str, data: &[u8]) -> Vec<u8> {
    rezip(&build(eg_builder()), &[(path, Some(data))])
}

#[test]
fn wrong_digest() {
    refused_with(
        &tamper("Artifacts/Docs/README.md", b"# changed\n"),
        codes::DIGEST_MISMATCH,
    );
}

#[test]
fn missing_manifest_entry_and_unlisted_file() {
    let manifest = String::from_utf8(zip_read(&build(eg_builder()), "demo.mf")).unwrap();
    let dropped = manifest.replace(
        "Source: Artifacts/Docs/README.md",
        "Source: Artifacts/Docs/GONE.md",
    );
    let r = check(&tamper("demo.mf", dropped.as_bytes()));
    assert!(
        r.findings.iter().any(|f| f.code == codes::SOURCE_MISSING
            && f.entry.as_deref() == Some("Artifacts/Docs/GONE.md")),
        "{r}"
    );
    assert!(
        r.findings.iter().any(|f| f.code == codes::FILE_NOT_LISTED
            && f.entry.as_deref() == Some("Artifacts/Docs/README.md")),
        "{r}"
    );
    let unknown = manifest.replacen("Algorithm: SHA-256", "Algorithm: MD5", 1);
    refused_with(
        &tamper("demo.mf", unknown.as_bytes()),
        codes::UNKNOWN_ALGORITHM,
    );
    let no_hash: String = manifest
        .lines()
        .filter(|l| !l.starts_with("Hash: ") || !manifest.contains(l) || l.len() < 10)
        .collect::<Vec<_>>()
        .join("\n");
    let no_hash = no_hash.replace(
        &manifest
            .lines()
            .find(|l| l.starts_with("Hash: "))
            .unwrap_or("")
            .to_owned(),
        "",
    );
    refused_with(&tamper("demo.mf", no_hash.as_bytes()), codes::HASH_MISSING);
    let no_version = manifest.replace("app_package_version: 1.0\n", "");
    refused_with(
        &tamper("demo.mf", no_version.as_bytes()),
        codes::MANIFEST_METADATA_MISSING,
    );
}

#[test]
fn yaml_alias_bomb() {
    let mut yaml = String::from(
        "tosca_definitions_version: x\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..12 {
        let p = i - 1;
        yaml.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    refused_with(
        &tamper("APPD/demo.zip", &appd_zip(&yaml)),
        codes::YAML_BUDGET,
    );
}

#[test]
fn appd_chart_image_and_meta_problems() {
    let no_vnf_props = APPD_YAML.replace("        provider: acme\n", "");
    refused_with(
        &tamper("APPD/demo.zip", &appd_zip(&no_vnf_props)),
        codes::APPD_MEMBER_MISSING,
    );
    refused_with(
        &tamper("APPD/demo.zip", &appd_zip("key: [unclosed\n")),
        codes::APPD_UNREADABLE,
    );
    refused_with(
        &tamper("Artifacts/Deployment/Charts/demo.tgz", b"not gzip"),
        codes::CHART_INVALID,
    );
    refused_with(
        &tamper(
            "Artifacts/Deployment/Charts/demo.tgz",
            &chart(&["Chart.yaml"]),
        ),
        codes::CHART_INCOMPLETE,
    );
    refused_with(
        &tamper("Image/SwImageDesc.json", b"{\"not\": \"an array\"}"),
        codes::IMAGE_DESCRIPTOR_INVALID,
    );
    refused_with(
        &tamper(
            "Image/SwImageDesc.json",
            br#"[{"name":"vm","version":"1","swImage":"Image/vm.zip/vm/disk.qcow2"}]"#,
        ),
        codes::IMAGE_MISSING,
    );
    refused_with(
        &tamper("TOSCA-Metadata/TOSCA.meta", b"TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: x\nEntry-Definitions: APPD/none.zip\n"),
        codes::ENTRY_DEFINITIONS_MISSING,
    );
    refused_with(
        &tamper(
            "TOSCA-Metadata/TOSCA.meta",
            b"TOSCA-Meta-File-Version: 1.0\nEntry-Definitions: APPD/demo.zip\n",
        ),
        codes::META_KEY_MISSING,
    );
    refused_with(
        &tamper("TOSCA-Metadata/TOSCA.meta", b"garbage line\n"),
        codes::META_MALFORMED,
    );
}

#[test]
fn manifests_missing_or_several() {
    refused_with(
        &zip_of(&[("a.yaml", b"tosca_definitions_version: x\n")]),
        codes::NO_MANIFEST,
    );
    refused_with(
        &zip_of(&[
            ("a.yaml", b"tosca_definitions_version: x\n"),
            ("x.mf", b"metadata:\n"),
            ("y.mf", b"metadata:\n"),
        ]),
        codes::SEVERAL_MANIFESTS,
    );
    refused_with(
        &zip_of(&[("a.mf", b"metadata:\n")]),
        codes::NO_ENTRY_DEFINITIONS,
    );
}

#[test]
fn extraction_refuses_unsafe_packages_and_writes_nothing_outside() {
    let base = std::env::temp_dir().join(format!("mec-csar-extract-{}", std::process::id()));
    let target = base.join("target");
    let _ = std::fs::remove_dir_all(&base);
    for bytes in [
        raw_zip(&[(b"ok.txt", b"x", FILE), (b"../escaped.txt", b"x", FILE)]),
        raw_zip(&[
            (b"ok.txt", b"x", FILE),
            (b"link", b"../../escaped.txt", LINK),
        ]),
        raw_zip(&[(b"/tmp/escaped-abs.txt", b"x", FILE)]),
    ] {
        let mut p = Package::from_reader(Cursor::new(bytes), Limits::default()).unwrap();
        assert!(matches!(
            p.extract(&target),
            Err(mec_csar::Error::Unsafe(_))
        ));
    }
    assert!(!base.join("escaped.txt").exists());
    assert!(!std::path::Path::new("/tmp/escaped-abs.txt").exists());
    assert!(
        !target.join("ok.txt").exists(),
        "nothing is extracted from an unsafe package"
    );
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn builder_refuses_unsafe_paths_and_a_missing_entry() {
    let e = PackageBuilder::new("x")
        .file("../x", "a")
        .entry_definitions("../x")
        .write(Cursor::new(Vec::new()))
        .unwrap_err();
    assert!(e.to_string().contains("unsafe"), "{e}");
    let e = PackageBuilder::new("x")
        .file("a.yaml", "a")
        .entry_definitions("b.yaml")
        .write(Cursor::new(Vec::new()))
        .unwrap_err();
    assert!(e.to_string().contains("not among"), "{e}");
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn on_mangled_packages(cut in 0usize..4000, flips in proptest::collection::vec((0usize..4000, any::<u8>()), 0..8)) {
            let mut bytes = build(eg_builder());
            for (at, b) in flips {
                let n = bytes.len();
                bytes[at % n] ^= b;
            }
            bytes.truncate(bytes.len().saturating_sub(cut % 200));
            let _ = check(&bytes);
        }

        #[test]
        fn on_arbitrary_text(text in "\\PC{0,300}") {
            let _ = mec_csar::ToscaMeta::parse(&text);
            let _ = mec_csar::Manifest::parse(&text);
        }
    }
}
