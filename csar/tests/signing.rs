//! Signing a package's manifest and verifying it: a signed package verifies against its signer or the CA that
//! issued it; tampering with a listed file, the manifest or the signature, or an untrusted signer, each fails
//! with its own error.

#![allow(clippy::unwrap_used)]

use base64::Engine;
use mec_csar::{
    Limits, Manifest, Package, PackageBuilder, SignatureError, sign_manifest, verify_manifest,
    verify_package,
};
use std::io::{Cursor, Read, Write};

const SIGNER_CRT: &str = include_str!("fixtures/signer.crt");
const SIGNER_KEY: &str = include_str!("fixtures/signer.key");
const OTHER_CRT: &str = include_str!("fixtures/other.crt");
const CA_CRT: &str = include_str!("fixtures/ca.crt");
const LEAF_CRT: &str = include_str!("fixtures/leaf.crt");
const LEAF_KEY: &str = include_str!("fixtures/leaf.key");

fn unsigned_package() -> Vec<u8> {
    PackageBuilder::new("demo")
        .metadata("app_product_name", "demo")
        .metadata("app_provider_id", "acme")
        .metadata("app_package_version", "1.0")
        .metadata("app_release_data_time", "2026-11-24 12:00")
        .metadata("app_class", "container")
        .file(
            "APPD/demo.yaml",
            "tosca_definitions_version: tosca_simple_yaml_1_2\n",
        )
        .file("Artifacts/Docs/README.md", "# demo\n")
        .entry_definitions("APPD/demo.yaml")
        .write(Cursor::new(Vec::new()))
        .unwrap()
        .into_inner()
}

fn read(bytes: &[u8], name: &str) -> Vec<u8> {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    a.by_name(name).unwrap().read_to_end(&mut out).unwrap();
    out
}

fn replace(bytes: &[u8], path: &str, data: &[u8]) -> Vec<u8> {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..a.len() {
        let mut f = a.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        let mut content = Vec::new();
        f.read_to_end(&mut content).unwrap();
        w.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(if name == path { data } else { &content })
            .unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn signed_package(cert: &str, key: &str) -> Vec<u8> {
    let bytes = unsigned_package();
    let manifest = String::from_utf8(read(&bytes, "demo.mf")).unwrap();
    let signed = sign_manifest(&manifest, cert, key).unwrap();
    replace(&bytes, "demo.mf", signed.as_bytes())
}

fn verify(bytes: &[u8], anchor: &str) -> Result<String, SignatureError> {
    let mut p = Package::from_reader(Cursor::new(bytes.to_vec()), Limits::default()).unwrap();
    verify_package(&mut p, anchor).map(|v| v.signer)
}

#[test]
fn a_signed_package_verifies_against_its_signer() {
    let bytes = signed_package(SIGNER_CRT, SIGNER_KEY);
    let manifest = String::from_utf8(read(&bytes, "demo.mf")).unwrap();
    assert!(manifest.trim_end().ends_with("-----END CMS-----"));
    assert!(Manifest::parse(&manifest).unwrap().cms.unwrap().len() > 500);
    let signer = verify(&bytes, SIGNER_CRT).unwrap();
    assert!(signer.contains("mec-csar test signer"), "{signer}");
    let report = mec_csar::validate(Cursor::new(&bytes), &Limits::default());
    assert!(report.is_valid(), "{report}");
}

#[test]
fn a_package_signed_by_a_certified_publisher_verifies_against_the_ca() {
    let bytes = signed_package(LEAF_CRT, LEAF_KEY);
    assert!(verify(&bytes, CA_CRT).unwrap().contains("publisher"));
    assert!(matches!(
        verify(&bytes, SIGNER_CRT),
        Err(SignatureError::UntrustedSigner(_))
    ));
}

#[test]
fn a_changed_listed_file_fails() {
    let bytes = replace(
        &signed_package(SIGNER_CRT, SIGNER_KEY),
        "Artifacts/Docs/README.md",
        b"# evil\n",
    );
    assert_eq!(
        verify(&bytes, SIGNER_CRT),
        Err(SignatureError::FileChanged(
            "Artifacts/Docs/README.md".into()
        ))
    );
}

#[test]
fn a_changed_manifest_fails() {
    let bytes = signed_package(SIGNER_CRT, SIGNER_KEY);
    let manifest = String::from_utf8(read(&bytes, "demo.mf")).unwrap();
    let m = Manifest::parse(&manifest).unwrap();
    let hash = m.sources[0].hash.clone().unwrap();
    let evil = manifest.replace(&hash, &"0".repeat(64));
    assert_eq!(
        verify_manifest(&evil, SIGNER_CRT),
        Err(SignatureError::ManifestChanged)
    );
    let added = manifest.replacen(
        "Source: ",
        "Source: Artifacts/extra.sh\nAlgorithm: SHA-256\nHash: 00\n\nSource: ",
        1,
    );
    assert_eq!(
        verify_manifest(&added, SIGNER_CRT),
        Err(SignatureError::ManifestChanged)
    );
}

#[test]
fn a_changed_signature_fails() {
    let bytes = signed_package(SIGNER_CRT, SIGNER_KEY);
    let manifest = String::from_utf8(read(&bytes, "demo.mf")).unwrap();
    let mut m = Manifest::parse(&manifest).unwrap();
    let engine = base64::engine::general_purpose::STANDARD;
    let mut der = engine.decode(m.cms.as_ref().unwrap()).unwrap();
    // The signature value closes the DER: flip a byte of it.
    let n = der.len();
    der[n - 5] ^= 0x01;
    m.cms = Some(engine.encode(&der));
    assert_eq!(
        verify_manifest(&m.to_string(), SIGNER_CRT),
        Err(SignatureError::BadSignature)
    );
    m.cms = Some("bm90IGRlcg==".into());
    assert!(matches!(
        verify_manifest(&m.to_string(), SIGNER_CRT),
        Err(SignatureError::Malformed(_))
    ));
    m.cms = Some("***".into());
    assert!(matches!(
        verify_manifest(&m.to_string(), SIGNER_CRT),
        Err(SignatureError::Malformed(_))
    ));
}

#[test]
fn an_untrusted_signer_and_an_unsigned_package_fail() {
    let bytes = signed_package(SIGNER_CRT, SIGNER_KEY);
    assert!(matches!(
        verify(&bytes, OTHER_CRT),
        Err(SignatureError::UntrustedSigner(_))
    ));
    assert_eq!(
        verify(&unsigned_package(), SIGNER_CRT),
        Err(SignatureError::NotSigned)
    );
}

#[test]
fn bad_signing_material_is_refused() {
    let manifest = String::from_utf8(read(&unsigned_package(), "demo.mf")).unwrap();
    assert!(matches!(
        sign_manifest(&manifest, "not a cert", SIGNER_KEY),
        Err(SignatureError::InvalidKey(_))
    ));
    assert!(matches!(
        sign_manifest(&manifest, SIGNER_CRT, "not a key"),
        Err(SignatureError::InvalidKey(_))
    ));
    assert!(matches!(
        verify_manifest(&manifest, "not a cert"),
        Err(SignatureError::InvalidKey(_))
    ));
}

#[test]
fn ber_signatures_like_edgegallerys_verify() {
    // Made with `openssl cms -sign -binary -nodetach -stream`: indefinite lengths and a segmented content.
    let manifest = include_str!("fixtures/ber-signed.mf");
    let verified = verify_manifest(manifest, SIGNER_CRT).unwrap();
    assert!(verified.signer.contains("mec-csar test signer"));
    let changed = manifest.replace("Hash: 0123", "Hash: 9123");
    assert_eq!(
        verify_manifest(&changed, SIGNER_CRT),
        Err(SignatureError::ManifestChanged)
    );
    // An anchor given with the text openssl writes around it is read too.
    let decorated = format!("subject=CN = mec-csar test signer\n\n{SIGNER_CRT}");
    assert!(verify_manifest(manifest, &decorated).is_ok());
}
