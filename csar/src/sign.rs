//! Signing and verifying a package's manifest as EdgeGallery does: an attached CMS (PKCS #7) SignedData over
//! the manifest's `Source` section, SHA-256 with RSA (PKCS #1 v1.5), the signer's certificate embedded, in a
//! `-----BEGIN CMS-----` block at the end of the manifest.
//!
//! Verification goes further than EdgeGallery's: the signed content must be the manifest's own `Source`
//! section, the signer must be the trust anchor or certified by it, and [`verify_package`] re-checks every
//! listed file's digest. Each failure is its own [`SignatureError`] variant.

use crate::manifest::{Algorithm, Manifest};
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
use rsa::signature::Verifier;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use std::io::{Read, Seek};
use x509_cert::Certificate;

const ID_DATA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_SHA_256: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_MESSAGE_DIGEST: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// Why a signature could not be made or does not hold.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The certificate or key given for signing cannot be read.
    #[error("invalid signing material: {0}")]
    InvalidKey(String),
    /// The manifest cannot be read.
    #[error("invalid manifest: {0}")]
    InvalidManifest(String),
    /// The manifest has no CMS block, or an empty one.
    #[error("the manifest is not signed")]
    NotSigned,
    /// The CMS block is not a readable SignedData (DER, or BER as EdgeGallery writes it).
    #[error("the signature cannot be read: {0}")]
    Malformed(String),
    /// The signature uses another digest than SHA-256.
    #[error("unsupported signature algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// What was signed is not the manifest's `Source` section: the manifest was changed after signing.
    #[error("the manifest was changed after it was signed")]
    ManifestChanged,
    /// The signed digest does not match the signed content.
    #[error("the signed digest does not match the signed content")]
    DigestMismatch,
    /// The cryptographic signature does not verify with the signer's certificate.
    #[error("the signature does not verify")]
    BadSignature,
    /// The signature carries no certificate for its signer.
    #[error("the signature carries no signer certificate")]
    NoSignerCertificate,
    /// The signer is neither the trust anchor nor certified by it.
    #[error("the signer ({0}) is not trusted")]
    UntrustedSigner(String),
    /// A listed file's digest does not match the (signed) manifest.
    #[error("{0} was changed after the package was signed")]
    FileChanged(String),
    /// A listed file cannot be read.
    #[error("cannot check {0}: {1}")]
    Unreadable(String, String),
}

/// The first certificate of a PEM text, ignoring what surrounds it (`openssl` writes `subject=` lines before it).
fn certificate_from_pem(text: &str, what: &str) -> Result<Certificate, SignatureError> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let block = text
        .find(BEGIN)
        .and_then(|b| text[b..].find(END).map(|e| &text[b..b + e + END.len()]))
        .ok_or_else(|| SignatureError::InvalidKey(format!("{what}: no PEM certificate")))?;
    Certificate::from_pem(block.as_bytes())
        .map_err(|e| SignatureError::InvalidKey(format!("{what}: {e}")))
}

fn sha256_id() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_SHA_256,
        parameters: None,
    }
}

/// Signs a manifest with a PEM certificate and its PEM (PKCS #8) RSA key; returns the manifest text with its CMS
/// block (replacing any previous one).
pub fn sign_manifest(
    manifest_text: &str,
    certificate_pem: &str,
    key_pem: &str,
) -> Result<String, SignatureError> {
    let mut manifest = Manifest::parse(manifest_text)
        .map_err(|e| SignatureError::InvalidManifest(e.to_string()))?;
    let cert = certificate_from_pem(certificate_pem, "certificate")?;
    let key = rsa::PrivateKey::from_pkcs8_pem(key_pem)
        .map_err(|e| SignatureError::InvalidKey(format!("key: {e}")))?;
    let content = manifest.signed_content().into_bytes();
    let econtent = Any::new(Tag::OctetString, content)
        .map_err(|e| SignatureError::InvalidManifest(e.to_string()))?;
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
        .map_err(|e| SignatureError::InvalidKey(e.to_string()))?;
    let signed = SignedDataBuilder::new(&encapsulated)
        .add_digest_algorithm(sha256_id())
        .map_err(|e| SignatureError::InvalidKey(e.to_string()))?
        .add_certificate(CertificateChoices::Certificate(cert))
        .map_err(|e| SignatureError::InvalidKey(e.to_string()))?
        .add_signer_info::<SigningKey<Sha256>, Signature>(info, &signer)
        .map_err(|e| SignatureError::InvalidKey(e.to_string()))?
        .build()
        .map_err(|e| SignatureError::InvalidKey(e.to_string()))?;
    let der = signed
        .to_der()
        .map_err(|e| SignatureError::InvalidKey(e.to_string()))?;
    manifest.cms = Some(STANDARD.encode(der));
    Ok(manifest.to_string())
}

/// What a verified signature established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// The signer's subject.
    pub signer: String,
}

fn public_key(cert: &Certificate) -> Result<rsa::PublicKey, SignatureError> {
    let spki = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    rsa::PublicKey::from_public_key_der(&spki)
        .map_err(|e| SignatureError::UnsupportedAlgorithm(format!("signer key: {e}")))
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

/// Whether `anchor`'s key signed `cert` (SHA-256 with RSA).
fn certified_by(cert: &Certificate, anchor: &Certificate) -> bool {
    let Ok(tbs) = cert.tbs_certificate().to_der() else {
        return false;
    };
    let Some(sig) = cert.signature().as_bytes() else {
        return false;
    };
    let (Ok(sig), Ok(key)) = (Signature::try_from(sig), public_key(anchor)) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(key).verify(&tbs, &sig).is_ok()
}

/// Verifies a manifest's signature against a PEM trust anchor (the signer's certificate itself, or the CA that
/// issued it).
pub fn verify_manifest(
    manifest_text: &str,
    trust_anchor_pem: &str,
) -> Result<VerifiedSignature, SignatureError> {
    let manifest = Manifest::parse(manifest_text)
        .map_err(|e| SignatureError::InvalidManifest(e.to_string()))?;
    let anchor = certificate_from_pem(trust_anchor_pem, "trust anchor")?;
    let b64 = manifest
        .cms
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or(SignatureError::NotSigned)?;
    let der = STANDARD
        .decode(b64)
        .map_err(|e| SignatureError::Malformed(format!("base64: {e}")))?;
    // EdgeGallery's signatures are BER with indefinite lengths; ours are DER.
    let info = ContentInfo::from_der(&der)
        .or_else(|_| ContentInfo::from_ber(&der))
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(SignatureError::Malformed(format!(
            "content type {} is not signed data",
            info.content_type
        )));
    }
    let content_der = info
        .content
        .to_der()
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    let signed = SignedData::from_der(&content_der)
        .or_else(|_| SignedData::from_ber(&content_der))
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    let econtent =
        signed.encap_content_info.econtent.as_ref().ok_or_else(|| {
            SignatureError::Malformed("detached signature: no signed content".into())
        })?;
    // DER writes one OCTET STRING; BER (EdgeGallery) splits it into segments, which the BER reader leaves in
    // the value: the segments are joined when the raw value is not the manifest's content.
    let expected = manifest.signed_content().into_bytes();
    let raw = econtent.value();
    let content_bytes = if raw == expected.as_slice() {
        raw.to_vec()
    } else {
        let mut joined = Vec::new();
        match flatten_octets(raw, &mut joined, 0) {
            Some(n)
                if n == raw.len()
                    && (econtent.tag().is_constructed() || raw.first() == Some(&0x04)) =>
            {
                joined
            }
            _ => raw.to_vec(),
        }
    };
    let content =
        OctetString::new(content_bytes).map_err(|e| SignatureError::Malformed(e.to_string()))?;
    if content.as_bytes() != expected.as_slice() {
        return Err(SignatureError::ManifestChanged);
    }
    let signer_info = signed
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| SignatureError::Malformed("no signer".into()))?;
    if signer_info.digest_alg.oid != ID_SHA_256 {
        return Err(SignatureError::UnsupportedAlgorithm(
            signer_info.digest_alg.oid.to_string(),
        ));
    }
    let attrs = signer_info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| SignatureError::Malformed("no signed attributes".into()))?;
    let digest_attr = attrs
        .iter()
        .find(|a| a.oid == ID_MESSAGE_DIGEST)
        .and_then(|a| a.values.iter().next())
        .ok_or_else(|| SignatureError::Malformed("no message-digest attribute".into()))?;
    let signed_digest = OctetString::from_der(
        &digest_attr
            .to_der()
            .map_err(|e| SignatureError::Malformed(e.to_string()))?,
    )
    .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    if signed_digest.as_bytes() != Sha256::digest(content.as_bytes()).as_slice() {
        return Err(SignatureError::DigestMismatch);
    }
    let certs: Vec<&Certificate> = signed
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
    .ok_or(SignatureError::NoSignerCertificate)?;
    let signed_attrs_der = attrs
        .to_der()
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    let signature = Signature::try_from(signer_info.signature.as_bytes())
        .map_err(|_| SignatureError::BadSignature)?;
    VerifyingKey::<Sha256>::new(public_key(signer_cert)?)
        .verify(&signed_attrs_der, &signature)
        .map_err(|_| SignatureError::BadSignature)?;
    let subject = signer_cert.tbs_certificate().subject().to_string();
    let same = signer_cert.to_der().ok() == anchor.to_der().ok();
    if !same {
        let issued_by_anchor = signer_cert.tbs_certificate().issuer()
            == anchor.tbs_certificate().subject()
            && certified_by(signer_cert, &anchor);
        if !issued_by_anchor {
            return Err(SignatureError::UntrustedSigner(subject));
        }
    }
    Ok(VerifiedSignature { signer: subject })
}

/// Verifies a package: its manifest's signature against the trust anchor, then every listed file's digest.
pub fn verify_package<R: Read + Seek>(
    package: &mut Package<R>,
    trust_anchor_pem: &str,
) -> Result<VerifiedSignature, SignatureError> {
    let manifests: Vec<String> = package
        .entries()
        .iter()
        .filter(|e| e.safe && !e.name.contains('/') && e.name.ends_with(".mf"))
        .map(|e| e.name.clone())
        .collect();
    let [name] = manifests.as_slice() else {
        return Err(SignatureError::InvalidManifest(format!(
            "{} manifests in the package root",
            manifests.len()
        )));
    };
    let text = package
        .read_text(name)
        .map_err(|e| SignatureError::InvalidManifest(e.to_string()))?;
    let verified = verify_manifest(&text, trust_anchor_pem)?;
    let manifest =
        Manifest::parse(&text).map_err(|e| SignatureError::InvalidManifest(e.to_string()))?;
    for source in &manifest.sources {
        let algorithm = source.algorithm.clone().unwrap_or(Algorithm::Sha256);
        let actual = package
            .digest(&source.source, &algorithm)
            .map_err(|e| SignatureError::Unreadable(source.source.clone(), e.to_string()))?;
        if Some(&actual) != source.hash.as_ref() {
            return Err(SignatureError::FileChanged(source.source.clone()));
        }
    }
    Ok(verified)
}
