//! SOL004 packages as other NFV tools write them, built here: a manifest named by `ETSI-Entry-Manifest` anywhere
//! in the package, several manifests, quoted TOSCA.meta values, SOL001 VNF descriptors with imported types,
//! YAML scalars a YAML 1.2 parser would misread, highly compressible declared images; and what must be checked:
//! `Name:`-block digests, `ETSI-Entry-*` files, manifest entries without an algorithm, EdgeGallery's layout.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use mec_csar::{Limits, Package, Severity, codes, read_app_descriptor};
use sha2::Digest;
use std::io::Cursor;

fn sha256(data: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(data))
}

fn sha512(data: &[u8]) -> String {
    hex::encode(sha2::Sha512::digest(data))
}

/// A SOL004 manifest listing `files` with SHA-256 digests.
fn manifest(files: &[(&str, &[u8])]) -> String {
    let mut m = String::from(
        "metadata:\nvnf_product_name: sample\nvnf_provider_id: acme\nvnf_package_version: 1.0\nvnf_release_date_time: 2026-12-02T10:00:00+00:00\n",
    );
    for (name, data) in files {
        m.push_str(&format!(
            "\nSource: {name}\nAlgorithm: SHA-256\nHash: {}\n",
            sha256(data)
        ));
    }
    m
}

const TYPES_YAML: &str = r#"tosca_definitions_version: tosca_simple_yaml_1_3
node_types:
  company.sample.VNF:
    derived_from: tosca.nodes.nfv.VNF
    properties:
      descriptor_id:
        type: string
        constraints: [ valid_values: [ b1bb0ce7-ebca-4fa7-95ed-4840d70a1177 ] ]
        default: b1bb0ce7-ebca-4fa7-95ed-4840d70a1177
      provider:
        type: string
        default: Company
"#;

const VNFD_YAML: &str = r#"tosca_definitions_version: tosca_simple_yaml_1_3
imports:
  - etsi_nfv_sol001_common_types.yaml
  - types.yaml
topology_template:
  node_templates:
    VNF:
      type: company.sample.VNF
      properties:
        descriptor_version: '1.0'
        product_name: Sample VNF
        software_version: '1.0'
        flavour_id: simple
"#;

/// A SOL004 option 1 package: TOSCA.meta naming the entry definitions and a manifest in `Definitions/`.
fn sol004_package(meta: &str, vnfd: &str) -> Vec<u8> {
    let files: Vec<(&str, &[u8])> = vec![
        ("TOSCA-Metadata/TOSCA.meta", meta.as_bytes()),
        ("Definitions/vnfd.yaml", vnfd.as_bytes()),
        ("Definitions/types.yaml", TYPES_YAML.as_bytes()),
        ("Files/ChangeLog.txt", b"1.0: first release\n"),
    ];
    let mf = manifest(&files);
    let mut all = files.clone();
    all.push(("Definitions/vnfd.mf", mf.as_bytes()));
    zip_of(&all)
}

const META: &str = "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: Company\nEntry-Definitions: Definitions/vnfd.yaml\nETSI-Entry-Manifest: Definitions/vnfd.mf\nETSI-Entry-Change-Log: Files/ChangeLog.txt\n";

// ---- 6. the manifest where SOL004 allows it ----

#[test]
fn a_manifest_named_by_etsi_entry_manifest_anywhere_is_the_manifest() {
    let bytes = sol004_package(META, VNFD_YAML);
    let r = check(&bytes);
    assert!(r.is_valid(), "{r}");
    assert!(codes_of(&r).is_empty(), "{r}");
    let mut p = Package::from_reader(Cursor::new(bytes), Limits::default()).unwrap();
    assert_eq!(p.manifest_name().unwrap(), "Definitions/vnfd.mf");
}

#[test]
fn several_manifests_are_fine_when_tosca_meta_names_one() {
    let bytes = rezip(
        &sol004_package(META, VNFD_YAML),
        &[("old.mf", Some(b"metadata:\nvnf_product_name: old\n"))],
    );
    let r = check(&bytes);
    assert!(r.is_valid(), "{r}");
    assert!(r.with_code(codes::SEVERAL_MANIFESTS).is_empty(), "{r}");
}

#[test]
fn quoted_tosca_meta_values_are_read_without_their_quotes() {
    let quoted = META
        .replace(
            "Entry-Definitions: Definitions/vnfd.yaml",
            "Entry-Definitions: 'Definitions/vnfd.yaml'",
        )
        .replace(
            "ETSI-Entry-Manifest: Definitions/vnfd.mf",
            "ETSI-Entry-Manifest: \"Definitions/vnfd.mf\"",
        );
    let r = check(&sol004_package(&quoted, VNFD_YAML));
    assert!(r.is_valid(), "{r}");
    assert!(codes_of(&r).is_empty(), "{r}");
}

// ---- 7. SOL001 descriptors ----

#[test]
fn a_sol001_vnf_whose_type_derives_from_the_vnf_type_is_valid() {
    let bytes = sol004_package(META, VNFD_YAML);
    let r = check(&bytes);
    assert!(r.with_code(codes::APPD_MEMBER_MISSING).is_empty(), "{r}");
    // Its identity comes from the imported type, which fixes descriptor_id.
    let mut p = Package::from_reader(Cursor::new(bytes), Limits::default()).unwrap();
    let d = read_app_descriptor(&mut p).unwrap();
    assert_eq!(
        d.app_d_id.as_deref(),
        Some("b1bb0ce7-ebca-4fa7-95ed-4840d70a1177")
    );
    assert_eq!(d.app_d_version.as_deref(), Some("1.0"));
    assert_eq!(d.app_provider.as_deref(), Some("Company"));
}

#[test]
fn a_sol001_vnf_without_its_identity_is_not() {
    let no_version = VNFD_YAML.replace("        descriptor_version: '1.0'\n", "");
    let r = refused_with(
        &sol004_package(META, &no_version),
        codes::APPD_MEMBER_MISSING,
    );
    let f = r.with_code(codes::APPD_MEMBER_MISSING)[0];
    assert!(f.message.contains("descriptor_version"), "{f}");
    // vnfd_id is EdgeGallery's: never asked of a SOL001 descriptor.
    assert!(!r.to_string().contains("vnfd_id"), "{r}");
}

#[test]
fn plain_scalars_like_78e510_are_strings() {
    let vnfd = VNFD_YAML.replace(
        "        descriptor_version: '1.0'\n",
        "        descriptor_version: 1e5\n        descriptor_id: 78e510\n",
    );
    let bytes = sol004_package(META, &vnfd);
    let r = check(&bytes);
    assert!(r.is_valid(), "{r}");
    let mut p = Package::from_reader(Cursor::new(bytes), Limits::default()).unwrap();
    let d = read_app_descriptor(&mut p).unwrap();
    assert_eq!(d.app_d_id.as_deref(), Some("78e510"));
    assert_eq!(d.app_d_version.as_deref(), Some("1e5"));
}

// ---- 8. compressible images declared in the manifest ----

#[test]
fn a_sparse_image_declared_in_the_manifest_is_not_a_bomb_by_ratio_alone() {
    // 8 MiB of zeros deflates about a thousandfold.
    let image = vec![0u8; 8 << 20];
    let declared = build(eg_builder().file("Image/vm.qcow2", image.clone()));
    let r = check(&declared);
    assert!(r.is_valid(), "{r}");
    let bomb = r.with_code(codes::ZIP_BOMB);
    assert_eq!(bomb.len(), 1);
    assert_eq!(bomb[0].severity, Severity::Info, "{}", bomb[0]);
    assert!(bomb[0].message.contains("declares it"), "{}", bomb[0]);
    assert!(r.bytes_hashed >= 8 << 20);
    let tmp = TempDir::new("sparse");
    let n = Package::from_reader(Cursor::new(declared), Limits::default())
        .unwrap()
        .extract(tmp.path().join("out"))
        .unwrap();
    assert_eq!(n, 7);
    assert_eq!(
        std::fs::metadata(tmp.path().join("out/Image/vm.qcow2"))
            .unwrap()
            .len(),
        8 << 20
    );
    // The same image, undeclared, is a bomb.
    let undeclared = rezip(&build(eg_builder()), &[("Image/vm.qcow2", Some(&image))]);
    refused_with(&undeclared, codes::ZIP_BOMB);
    // Declared but larger than the limit per entry, it is refused still.
    let mut limits = Limits::default();
    limits.max_entry_size = 4 << 20;
    let r = mec_csar::validate(
        Cursor::new(&build(eg_builder().file("Image/vm.qcow2", image))),
        &limits,
    );
    assert!(
        r.findings
            .iter()
            .any(|f| f.code == codes::ZIP_BOMB && f.severity == Severity::Error),
        "{r}"
    );
}

// ---- 9. what must be checked ----

#[test]
fn name_block_digests_in_tosca_meta_are_verified() {
    let script = b"#!/bin/sh\necho hello\n";
    let with_block = |algorithm: Option<&str>, hash: Option<String>| {
        let mut meta = format!("{META}\nName: Scripts/install.sh\nContent-Type: text/x-sh\n");
        if let Some(a) = algorithm {
            meta.push_str(&format!("Algorithm: {a}\n"));
        }
        if let Some(h) = hash {
            meta.push_str(&format!("Hash: {h}\n"));
        }
        rezip(
            &sol004_package(&meta, VNFD_YAML),
            &[("Scripts/install.sh", Some(script))],
        )
    };
    let r = check(&with_block(Some("SHA-256"), Some(sha256(script))));
    assert!(r.with_code(codes::DIGEST_MISMATCH).is_empty(), "{r}");
    assert!(r.bytes_hashed > 0);
    let r = refused_with(
        &with_block(Some("SHA-256"), Some(sha256(b"another script"))),
        codes::DIGEST_MISMATCH,
    );
    let f = r
        .with_code(codes::DIGEST_MISMATCH)
        .into_iter()
        .find(|f| f.entry.as_deref() == Some("Scripts/install.sh"))
        .unwrap();
    assert!(f.message.contains("TOSCA-Metadata/TOSCA.meta:8"), "{f}");
    refused_with(
        &with_block(None, Some(sha256(script))),
        codes::ALGORITHM_MISSING,
    );
    refused_with(
        &with_block(Some("MD5"), Some(sha256(script))),
        codes::UNKNOWN_ALGORITHM,
    );
    refused_with(&with_block(Some("SHA-512"), None), codes::HASH_MISSING);
}

#[test]
fn etsi_entry_keys_naming_missing_files_are_errors() {
    let meta = format!(
        "{META}ETSI-Entry-Licenses: Licenses\nETSI-Entry-Certificate: Files/Certificates/vnf.cert\n"
    )
    .replace("Files/ChangeLog.txt", "Files/CHANGES.txt");
    let r = refused_with(&sol004_package(&meta, VNFD_YAML), codes::ETSI_ENTRY_MISSING);
    let missing: Vec<&str> = r
        .with_code(codes::ETSI_ENTRY_MISSING)
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(missing.len(), 3, "{r}");
    assert!(missing.iter().any(|m| m.contains("ETSI-Entry-Change-Log")));
    assert!(missing.iter().any(|m| m.contains("Licenses")));
    assert!(missing.iter().any(|m| m.contains("vnf.cert")));
    // A directory named by ETSI-Entry-Licenses is there when a file is under it.
    let meta = format!("{META}ETSI-Entry-Licenses: Licenses\n");
    let bytes = rezip(
        &sol004_package(&meta, VNFD_YAML),
        &[("Licenses/LICENSE", Some(b"Apache-2.0\n"))],
    );
    assert!(
        check(&bytes)
            .with_code(codes::ETSI_ENTRY_MISSING)
            .is_empty()
    );
    // A manifest that is not where ETSI-Entry-Manifest says.
    let meta = META.replace("Definitions/vnfd.mf", "Definitions/gone.mf");
    let r = refused_with(&sol004_package(&meta, VNFD_YAML), codes::ETSI_ENTRY_MISSING);
    assert!(!r.with_code(codes::NO_MANIFEST).is_empty(), "{r}");
}

#[test]
fn a_source_without_an_algorithm_is_its_own_finding_not_a_digest_mismatch() {
    // A SHA-512 digest without its Algorithm line: reading it as SHA-256 would report a false mismatch.
    let data = b"tosca_definitions_version: tosca_simple_yaml_1_3\n";
    let mf = format!(
        "metadata:\nvnf_product_name: x\n\nSource: a.yaml\nHash: {}\n",
        sha512(data)
    );
    let bytes = zip_of(&[("a.yaml", data), ("a.mf", mf.as_bytes())]);
    let r = refused_with(&bytes, codes::ALGORITHM_MISSING);
    assert!(r.with_code(codes::DIGEST_MISMATCH).is_empty(), "{r}");
    // A wrong digest still shows as one.
    let mf = mf.replace(&sha512(data), &sha512(b"else"));
    let r = refused_with(
        &zip_of(&[("a.yaml", data), ("a.mf", mf.as_bytes())]),
        codes::DIGEST_MISMATCH,
    );
    assert!(!r.with_code(codes::ALGORITHM_MISSING).is_empty());
}

#[test]
fn an_edgegallery_package_without_its_directories_is_warned_about() {
    // CSAR025: EdgeGallery's test platform wants APPD/ and Artifacts/.
    let bytes = rezip(
        &build(eg_builder()),
        &[
            ("Artifacts/Docs/README.md", None),
            ("Artifacts/Deployment/Charts/demo.tgz", None),
        ],
    );
    let r = check(&bytes);
    let layout = r.with_code(codes::EDGEGALLERY_LAYOUT);
    assert_eq!(layout.len(), 1, "{r}");
    assert_eq!(layout[0].severity, Severity::Warning);
    assert!(layout[0].message.contains("Artifacts/"));
    // SOL004 packages are not EdgeGallery's: no such warning.
    assert!(
        check(&sol004_package(META, VNFD_YAML))
            .with_code(codes::EDGEGALLERY_LAYOUT)
            .is_empty()
    );
}
