//! Signing and verifying a package's manifest as EdgeGallery does: an attached CMS (PKCS #7) SignedData over
//! the manifest's `Source` section, SHA-256 with RSA (PKCS #1 v1.5), the signer's certificate embedded, in a
//! `-----BEGIN CMS-----` block at the end of the manifest.
//!
//! Verification goes further than EdgeGallery's: the signed content must be the manifest's own `Source`
//! section (or, SOL004's detached form, the manifest's text before its CMS block); every certificate from the
//! signer to the trust anchor must be valid at the time of verification (now, unless [`Verifier::at`] says
//! otherwise) and each certified by the next, intermediates being certificate authorities; and
//! [`Verifier::verify_package`] checks that the signed manifest covers what the package will be read by: by
//! default every file (but the manifest, signatures and certificates), or with [`Coverage::EntryFiles`] the
//! entry definitions and the `ETSI-Entry-*` files, with matching digests. Each failure is its own
//! [`Error`] variant, naming the file or certificate concerned.

use crate::Error;
use crate::layout;
use crate::manifest::{Algorithm, Manifest, SourceEntry};
use crate::package::Package;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::ContentInfo;
use cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerIdentifier};
use der::asn1::OctetString;
use der::{Any, Decode, DecodePem, Encode, Tag, Tagged};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::Verifier as _;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use std::collections::HashMap;
use std::io::{Read, Seek};
use std::time::SystemTime;
use x509_cert::Certificate;

const ID_DATA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_SHA_256: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_MESSAGE_DIGEST: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// Every certificate of a PEM text, ignoring what surrounds them (`openssl` writes `subject=` lines before
/// them).
fn certificates_from_pem(text: &str, what: &str) -> Result<Vec<Certificate>, Error> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(b) = rest.find(BEGIN) {
        let Some(e) = rest[b..].find(END) else {
            break;
        };
        let block = &rest[b..b + e + END.len()];
        out.push(
            Certificate::from_pem(block.as_bytes())
                .map_err(|e| Error::InvalidKey(format!("{what}: {e}")))?,
        );
        rest = &rest[b + e + END.len()..];
    }
    if out.is_empty() {
        return Err(Error::InvalidKey(format!("{what}: no PEM certificate")));
    }
    Ok(out)
}

/// Certificates from a file of the package: PEM (one or more), or one DER certificate.
fn certificates_from_bytes(bytes: &[u8], what: &str) -> Result<Vec<Certificate>, Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN CERTIFICATE-----") => {
            certificates_from_pem(text, what)
        }
        _ => Certificate::from_der(bytes)
            .map(|c| vec![c])
            .map_err(|e| Error::InvalidKey(format!("{what}: {e}"))),
    }
}

fn sha256_id() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_SHA_256,
        parameters: None,
    }
}

/// Signs a manifest with a PEM certificate and its PEM (PKCS #8) RSA key; returns the manifest text with its CMS
/// block (replacing any previous one). Further certificates after the signer's in `certificate_pem` (the
/// intermediate authorities up to a trust anchor) are embedded too, so that verifiers can build the chain.
pub fn sign_manifest(
    manifest_text: &str,
    certificate_pem: &str,
    key_pem: &str,
) -> Result<String, Error> {
    let mut manifest = Manifest::parse(manifest_text)?;
    let mut chain = certificates_from_pem(certificate_pem, "certificate")?.into_iter();
    let cert = chain
        .next()
        .ok_or_else(|| Error::InvalidKey("certificate: no PEM certificate".into()))?;
    let key = rsa::PrivateKey::from_pkcs8_pem(key_pem)
        .map_err(|e| Error::InvalidKey(format!("key: {e}")))?;
    let content = manifest.signed_content().into_bytes();
    let econtent =
        Any::new(Tag::OctetString, content).map_err(|e| Error::InvalidManifest(e.to_string()))?;
    let encapsulated = EncapsulatedContentInfo {
        econtent_type: ID_DATA,
        econtent: Some(econtent),
    };
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: cert.tbs_certificate().issuer().clone(),
        serial_number: cert.tbs_certificate().serial_number().clone(),
    });
    let signer = SigningKey::<Sha256>::new(key);
    let info = SignerInfoBuilder::new(sid, sha256_id(), &encapsulated, None)
        .map_err(|e| Error::InvalidKey(e.to_string()))?;
    let mut builder = SignedDataBuilder::new(&encapsulated);
    builder
        .add_digest_algorithm(sha256_id())
        .map_err(|e| Error::InvalidKey(e.to_string()))?
        .add_certificate(CertificateChoices::Certificate(cert))
        .map_err(|e| Error::InvalidKey(e.to_string()))?;
    for c in chain {
        builder
            .add_certificate(CertificateChoices::Certificate(c))
            .map_err(|e| Error::InvalidKey(e.to_string()))?;
    }
    let signed = builder
        .add_signer_info::<SigningKey<Sha256>, Signature>(info, &signer)
        .map_err(|e| Error::InvalidKey(e.to_string()))?
        .build()
        .map_err(|e| Error::InvalidKey(e.to_string()))?;
    let der = signed
        .to_der()
        .map_err(|e| Error::InvalidKey(e.to_string()))?;
    manifest.cms = Some(STANDARD.encode(der));
    Ok(manifest.to_string())
}

/// What a verified signature established.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedSignature {
    /// The signer's subject.
    pub signer: String,
    /// The subjects from the signer to the trust anchor.
    pub chain: Vec<String>,
    /// The files whose digests were checked against the signed manifest ([`Verifier::verify_package`]).
    pub files_checked: usize,
}

fn public_key(cert: &Certificate) -> Result<rsa::PublicKey, Error> {
    let spki = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| Error::MalformedSignature(e.to_string()))?;
    rsa::PublicKey::from_public_key_der(&spki)
        .map_err(|e| Error::UnsupportedAlgorithm(format!("signer key: {e}")))
}

/// Concatenates the primitive OCTET STRING segments of a BER constructed OCTET STRING's value (nested and
/// indefinite-length segments included). `None` on anything else.
fn flatten_octets(mut value: &[u8], out: &mut Vec<u8>, depth: usize) -> Option<usize> {
    let start = value.len();
    while !value.is_empty() {
        if depth > 8 {
            return None;
        }
        let (&tag, rest) = value.split_first()?;
        if tag == 0 && rest.first() == Some(&0) {
            // End of contents of an indefinite-length segment.
            return Some(start - value.len() + 2);
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = match first {
            0x80 => None,
            n if n < 0x80 => Some(usize::from(n)),
            n => {
                let count = usize::from(n & 0x7f);
                if count > 4 || rest.len() < count {
                    return None;
                }
                let (bytes, tail) = rest.split_at(count);
                rest = tail;
                Some(
                    bytes
                        .iter()
                        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b)),
                )
            }
        };
        match (tag, len) {
            (0x04, Some(n)) => {
                out.extend_from_slice(rest.get(..n)?);
                value = rest.get(n..)?;
            }
            (0x24, Some(n)) => {
                flatten_octets(rest.get(..n)?, out, depth + 1)?;
                value = rest.get(n..)?;
            }
            (0x24, None) => {
                let used = flatten_octets(rest, out, depth + 1)?;
                value = rest.get(used..)?;
            }
            _ => return None,
        }
    }
    Some(start)
}

const SHA256_WITH_RSA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");

/// Whether `issuer` issued `cert`: names chained, and `issuer`'s key signed it (SHA-2 with RSA).
fn certified_by(cert: &Certificate, issuer: &Certificate) -> bool {
    if cert.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
        return false;
    }
    let Ok(tbs) = cert.tbs_certificate().to_der() else {
        return false;
    };
    let Some(sig) = cert.signature().as_bytes() else {
        return false;
    };
    let (Ok(sig), Ok(key)) = (Signature::try_from(sig), public_key(issuer)) else {
        return false;
    };
    let oid = cert.signature_algorithm().oid;
    if oid == SHA256_WITH_RSA {
        VerifyingKey::<Sha256>::new(key).verify(&tbs, &sig).is_ok()
    } else if oid == SHA384_WITH_RSA {
        VerifyingKey::<sha2::Sha384>::new(key)
            .verify(&tbs, &sig)
            .is_ok()
    } else if oid == SHA512_WITH_RSA {
        VerifyingKey::<sha2::Sha512>::new(key)
            .verify(&tbs, &sig)
            .is_ok()
    } else {
        false
    }
}

fn subject(cert: &Certificate) -> String {
    cert.tbs_certificate().subject().to_string()
}

/// Whether a certificate may issue others (basic constraints with `cA`, RFC 5280 4.2.1.9).
fn is_authority(cert: &Certificate) -> bool {
    matches!(
        cert.tbs_certificate()
            .get_extension::<x509_cert::ext::pkix::BasicConstraints>(),
        Ok(Some((_, bc))) if bc.ca
    )
}

/// Whether a certificate is valid at `at`.
fn check_validity(cert: &Certificate, at: SystemTime) -> Result<(), Error> {
    let validity = cert.tbs_certificate().validity();
    let (from, to) = (validity.not_before, validity.not_after);
    if at < from.to_system_time() || at > to.to_system_time() {
        let when = der::DateTime::from_system_time(at)
            .map_or_else(|_| "the time of verification".to_owned(), |t| t.to_string());
        return Err(Error::CertificateNotValid(format!(
            "{} is valid from {} to {}, not at {when}",
            subject(cert),
            from.to_date_time(),
            to.to_date_time()
        )));
    }
    Ok(())
}

/// Most certificates between a signer and its trust anchor.
const MAX_CHAIN: usize = 8;

/// The chain from `signer` to a trust anchor through the certificate authorities of `pool`, every certificate
/// valid at `at`. Returns the subjects, signer first.
fn chain_to_anchor(
    signer: &Certificate,
    pool: &[&Certificate],
    anchors: &[Certificate],
    at: SystemTime,
) -> Result<Vec<String>, Error> {
    let same = |a: &Certificate, b: &Certificate| a.to_der().ok() == b.to_der().ok();
    let mut current = signer;
    let mut path = vec![subject(signer)];
    check_validity(signer, at)?;
    for _ in 0..MAX_CHAIN {
        if anchors.iter().any(|a| same(a, current)) {
            return Ok(path);
        }
        if let Some(anchor) = anchors
            .iter()
            .find(|a| is_authority(a) && certified_by(current, a))
        {
            check_validity(anchor, at)?;
            path.push(subject(anchor));
            return Ok(path);
        }
        let Some(next) = pool
            .iter()
            .find(|c| !same(c, current) && is_authority(c) && certified_by(current, c))
        else {
            break;
        };
        check_validity(next, at)?;
        path.push(subject(next));
        current = next;
    }
    Err(Error::UntrustedSigner(subject(signer)))
}

/// Which files a signature must cover.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Coverage {
    /// Every file of the package, except the manifest itself and signature and certificate files (`.cms`,
    /// `.cert`, `ETSI-Entry-Certificate`, per-artifact `Signature:`/`Certificate:` files). TOSCA.meta included:
    /// it says what is read.
    #[default]
    AllFiles,
    /// Only the files a reader of the package starts from: the entry definitions and the `ETSI-Entry-*` files
    /// (all files under an `ETSI-Entry-*` directory). EdgeGallery signs only these; TOSCA.meta itself is then
    /// not covered.
    EntryFiles,
}

/// Verifies signed manifests and packages against trust anchors, at a given time, with a given coverage.
#[derive(Clone, Debug)]
pub struct Verifier {
    anchors: Vec<Certificate>,
    at: Option<SystemTime>,
    coverage: Coverage,
}

impl Verifier {
    /// A verifier trusting the certificates of a PEM text (one or several: the signer's own certificate, or the
    /// certificate authorities that issue signers).
    pub fn new(trust_anchors_pem: &str) -> Result<Self, Error> {
        Ok(Self {
            anchors: certificates_from_pem(trust_anchors_pem, "trust anchor")?,
            at: None,
            coverage: Coverage::default(),
        })
    }

    /// Checks certificates' validity at `time` instead of now.
    #[must_use]
    pub fn at(mut self, time: SystemTime) -> Self {
        self.at = Some(time);
        self
    }

    /// Sets which files the signature must cover (default: [`Coverage::AllFiles`]).
    #[must_use]
    pub fn coverage(mut self, coverage: Coverage) -> Self {
        self.coverage = coverage;
        self
    }

    /// Verifies a manifest's signature.
    pub fn verify_manifest(&self, manifest_text: &str) -> Result<VerifiedSignature, Error> {
        self.verify_manifest_with(manifest_text, &[])
    }

    /// Verifies a package: its manifest's signature, that the manifest covers what the package is read by (see
    /// [`Coverage`]), and every listed file's digest.
    pub fn verify_package<R: Read + Seek>(
        &self,
        package: &mut Package<R>,
    ) -> Result<VerifiedSignature, Error> {
        verify_package_with(self, package)
    }
}

/// Verifies a manifest's signature against a PEM trust anchor (the signer's certificate itself, or the CA that
/// issued it), now. See [`Verifier`] for another time.
pub fn verify_manifest(
    manifest_text: &str,
    trust_anchor_pem: &str,
) -> Result<VerifiedSignature, Error> {
    Verifier::new(trust_anchor_pem)?.verify_manifest(manifest_text)
}

/// Verifies a package: its manifest's signature against the trust anchor (now), that the signed manifest covers
/// every file of the package, and every listed file's digest. See [`Verifier`] for another time or coverage.
pub fn verify_package<R: Read + Seek>(
    package: &mut Package<R>,
    trust_anchor_pem: &str,
) -> Result<VerifiedSignature, Error> {
    Verifier::new(trust_anchor_pem)?.verify_package(package)
}

/// The signed content of a manifest with a detached signature (SOL004): its text before the CMS block, as
/// written, or without its final line break (tools differ); the signed digest says which.
fn detached_candidates(manifest_text: &str) -> Vec<Vec<u8>> {
    let Some(begin) = manifest_text.find("-----BEGIN CMS-----") else {
        return Vec::new();
    };
    let before = &manifest_text[..begin];
    let trimmed = before.trim_end_matches(['\r', '\n']);
    vec![
        before.as_bytes().to_vec(),
        trimmed.as_bytes().to_vec(),
        format!("{trimmed}\n").into_bytes(),
        format!("{trimmed}\r\n").into_bytes(),
    ]
}

impl Verifier {
    /// Verifies a manifest's signature, with certificates found beside it (SOL004 puts the signer's certificate
    /// in the `ETSI-Entry-Certificate` file or a root `.cert` when the CMS does not carry it).
    fn verify_manifest_with(
        &self,
        manifest_text: &str,
        extra_certificates: &[Certificate],
    ) -> Result<VerifiedSignature, Error> {
        let manifest = Manifest::parse(manifest_text)?;
        let b64 = manifest
            .cms
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or(Error::NotSigned)?;
        let der = STANDARD
            .decode(b64)
            .map_err(|e| Error::MalformedSignature(format!("base64: {e}")))?;
        // EdgeGallery's signatures are BER with indefinite lengths; ours are DER.
        let info = ContentInfo::from_der(&der)
            .or_else(|_| ContentInfo::from_ber(&der))
            .map_err(|e| Error::MalformedSignature(e.to_string()))?;
        if info.content_type != ID_SIGNED_DATA {
            return Err(Error::MalformedSignature(format!(
                "content type {} is not signed data",
                info.content_type
            )));
        }
        let content_der = info
            .content
            .to_der()
            .map_err(|e| Error::MalformedSignature(e.to_string()))?;
        let signed = SignedData::from_der(&content_der)
            .or_else(|_| SignedData::from_ber(&content_der))
            .map_err(|e| Error::MalformedSignature(e.to_string()))?;
        let signer_info = signed
            .signer_infos
            .0
            .iter()
            .next()
            .ok_or_else(|| Error::MalformedSignature("no signer".into()))?;
        if signer_info.digest_alg.oid != ID_SHA_256 {
            return Err(Error::UnsupportedAlgorithm(
                signer_info.digest_alg.oid.to_string(),
            ));
        }
        let attrs = signer_info
            .signed_attrs
            .as_ref()
            .ok_or_else(|| Error::MalformedSignature("no signed attributes".into()))?;
        let digest_attr = attrs
            .iter()
            .find(|a| a.oid == ID_MESSAGE_DIGEST)
            .and_then(|a| a.values.iter().next())
            .ok_or_else(|| Error::MalformedSignature("no message-digest attribute".into()))?;
        let signed_digest = OctetString::from_der(
            &digest_attr
                .to_der()
                .map_err(|e| Error::MalformedSignature(e.to_string()))?,
        )
        .map_err(|e| Error::MalformedSignature(e.to_string()))?;
        match signed.encap_content_info.econtent.as_ref() {
            // EdgeGallery: the signature carries what it signs, which must be the manifest's Source section.
            Some(econtent) => {
                // DER writes one OCTET STRING; BER (EdgeGallery) splits it into segments, which the BER reader
                // leaves in the value: the segments are joined when the raw value is not the manifest's content.
                let expected = manifest.signed_content().into_bytes();
                let raw = econtent.value();
                let content_bytes = if raw == expected.as_slice() {
                    raw.to_vec()
                } else {
                    let mut joined = Vec::new();
                    match flatten_octets(raw, &mut joined, 0) {
                        Some(n)
                            if n == raw.len()
                                && (econtent.tag().is_constructed()
                                    || raw.first() == Some(&0x04)) =>
                        {
                            joined
                        }
                        _ => raw.to_vec(),
                    }
                };
                let content = OctetString::new(content_bytes)
                    .map_err(|e| Error::MalformedSignature(e.to_string()))?;
                if content.as_bytes() != expected.as_slice() {
                    return Err(Error::ManifestChanged);
                }
                if signed_digest.as_bytes() != Sha256::digest(content.as_bytes()).as_slice() {
                    return Err(Error::DigestMismatch);
                }
            }
            // SOL004: a detached signature over the manifest's text before the CMS block.
            None => {
                let matches = detached_candidates(manifest_text)
                    .iter()
                    .any(|c| signed_digest.as_bytes() == Sha256::digest(c).as_slice());
                if !matches {
                    return Err(Error::ManifestChanged);
                }
            }
        }
        let mut certs: Vec<&Certificate> = signed
            .certificates
            .as_ref()
            .map(|c| {
                c.0.iter()
                    .filter_map(|choice| match choice {
                        CertificateChoices::Certificate(cert) => Some(cert),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        certs.extend(extra_certificates.iter());
        let signer_cert = match &signer_info.sid {
            SignerIdentifier::IssuerAndSerialNumber(id) => certs
                .iter()
                .find(|c| {
                    c.tbs_certificate().issuer() == &id.issuer
                        && c.tbs_certificate().serial_number() == &id.serial_number
                })
                .copied(),
            SignerIdentifier::SubjectKeyIdentifier(_) => certs.first().copied(),
        }
        .ok_or(Error::NoSignerCertificate)?;
        let signed_attrs_der = attrs
            .to_der()
            .map_err(|e| Error::MalformedSignature(e.to_string()))?;
        let signature = Signature::try_from(signer_info.signature.as_bytes())
            .map_err(|_| Error::BadSignature)?;
        VerifyingKey::<Sha256>::new(public_key(signer_cert)?)
            .verify(&signed_attrs_der, &signature)
            .map_err(|_| Error::BadSignature)?;
        let at = self.at.unwrap_or_else(SystemTime::now);
        let chain = chain_to_anchor(signer_cert, &certs, &self.anchors, at)?;
        Ok(VerifiedSignature {
            signer: subject(signer_cert),
            chain,
            files_checked: 0,
        })
    }
}

/// The files a package is read by, under a coverage: with [`Coverage::EntryFiles`], the entry definitions and
/// the `ETSI-Entry-*` files (and the files under an `ETSI-Entry-*` directory); with [`Coverage::AllFiles`],
/// every file but the manifest and signatures and certificates.
fn files_to_cover<R: Read + Seek>(
    package: &Package<R>,
    layout: &layout::Layout,
    manifest_name: &str,
    manifest: &Manifest,
    coverage: Coverage,
) -> Result<Vec<String>, Error> {
    let files = package.files();
    match coverage {
        Coverage::AllFiles => Ok(files
            .into_iter()
            .filter(|f| {
                !crate::validate::exempt_from_listing(f, manifest_name, layout, manifest)
                    || f == crate::meta::TOSCA_META_PATH
            })
            .collect()),
        Coverage::EntryFiles => {
            let ed = layout.entry_definitions.clone().ok_or_else(|| {
                Error::NotCovered(
                    "the entry definitions".into(),
                    "the package names none".into(),
                )
            })?;
            let mut wanted = vec![ed];
            if let Some(meta) = &layout.meta {
                for (key, value) in meta.etsi_entries() {
                    if key == "ETSI-Entry-Manifest" || key == "ETSI-Entry-Certificate" {
                        continue;
                    }
                    let dir = format!("{}/", value.trim_end_matches('/'));
                    let under: Vec<String> = files
                        .iter()
                        .filter(|f| f.starts_with(&dir))
                        .cloned()
                        .collect();
                    if under.is_empty() {
                        wanted.push(value.to_owned());
                    } else {
                        wanted.extend(under);
                    }
                }
            }
            for w in &wanted {
                if package.entry(w).is_none() {
                    return Err(Error::NotCovered(
                        w.clone(),
                        "the package names it, but has no such file".into(),
                    ));
                }
            }
            Ok(wanted)
        }
    }
}

fn verify_package_with<R: Read + Seek>(
    verifier: &Verifier,
    package: &mut Package<R>,
) -> Result<VerifiedSignature, Error> {
    if let Some(why) = package.refusal() {
        return Err(Error::Refused(why.to_owned()));
    }
    if let Some(f) = package
        .structural_findings()
        .iter()
        .find(|f| f.severity == crate::Severity::Error)
    {
        return Err(match &f.entry {
            Some(entry) => Error::Unsafe(entry.clone()),
            None => Error::Refused(f.to_string()),
        });
    }
    let layout = layout::read(package);
    let name = layout
        .manifest
        .clone()
        .map_err(|(_, m)| Error::NoManifest(m))?;
    let text = package.read_text(&name)?;
    let max = package.limits().max_list_items;
    let manifest = Manifest::parse_limited(&text, max)?;
    // SOL004: the signer's certificate may sit in the ETSI-Entry-Certificate file, or a root .cert.
    let mut extra = Vec::new();
    let cert_files: Vec<String> = match layout.meta.as_ref().and_then(|m| m.entry_certificate()) {
        Some(c) => vec![c.to_owned()],
        None => package
            .files()
            .into_iter()
            .filter(|f| !f.contains('/') && f.to_ascii_lowercase().ends_with(".cert"))
            .collect(),
    };
    for f in cert_files {
        if let Ok(bytes) = package.read(&f) {
            extra.extend(certificates_from_bytes(&bytes, &f).unwrap_or_default());
        }
    }
    let mut verified = verifier.verify_manifest_with(&text, &extra)?;
    let mut listed: HashMap<&str, &SourceEntry> = HashMap::new();
    for s in &manifest.sources {
        if let Some(other) = listed.insert(s.source.as_str(), s)
            && other.hash != s.hash
        {
            return Err(Error::InvalidManifest(format!(
                "{} is listed twice with different digests",
                s.source
            )));
        }
    }
    for file in files_to_cover(package, &layout, &name, &manifest, verifier.coverage)? {
        let Some(source) = listed.get(file.as_str()) else {
            return Err(Error::NotCovered(file, format!("{name} does not list it")));
        };
        if source.hash.is_none() || source.algorithm.is_none() {
            return Err(Error::NotCovered(
                file,
                format!("{name} lists it without an Algorithm and a Hash"),
            ));
        }
    }
    let mut checked = 0;
    for source in listed.values() {
        if source.source.contains("://") {
            continue;
        }
        if package.entry(&source.source).is_none() {
            return Err(Error::MissingFile(source.source.clone()));
        }
        let (Some(algorithm), Some(hash)) = (&source.algorithm, &source.hash) else {
            continue;
        };
        if let Algorithm::Other(a) = algorithm {
            return Err(Error::UnsupportedAlgorithm(format!(
                "{a} (for {})",
                source.source
            )));
        }
        let actual = package.digest(&source.source, algorithm)?;
        if &actual != hash {
            return Err(Error::FileChanged(source.source.clone()));
        }
        checked += 1;
    }
    verified.files_checked = checked;
    Ok(verified)
}
