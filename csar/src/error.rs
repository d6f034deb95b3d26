//! The crate's one error, with `is_*` helpers and the line, entry and finding code a fault concerns.

use crate::codes;

/// What can go wrong reading, parsing, validating, building, signing, verifying or extracting a package.
///
/// `Display` says what went wrong once; an I/O cause is the [source](std::error::Error::source), and
/// [`report`](Self::report) puts the whole chain on one line. Variants are grouped by what they concern: the
/// archive, `TOSCA.meta` and the manifest, building, and signatures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A size is not bytes or a number with a binary unit ([`parse_size`](crate::parse_size)).
    #[error("{0}")]
    InvalidSize(String),
    /// A file could not be read or written.
    #[error("cannot access {path}")]
    Io {
        /// The file (a path on disk, or the name of a file being packed).
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The data is not a readable zip archive.
    #[error("not a zip archive (or truncated): {0}")]
    NotAZip(String),
    /// No safe file entry has this name.
    #[error("no entry {0:?} in the package")]
    NoEntry(String),
    /// An entry could not be read: the entry, and why.
    #[error("cannot read entry {0:?}: {1}")]
    Corrupt(String, String),
    /// An entry is larger than may be read into memory: the entry, and the limit in bytes.
    #[error("entry {0:?} is larger than {1} bytes")]
    TooLarge(String, u64),
    /// A digest algorithm is not supported.
    #[error("unknown digest algorithm {0:?}")]
    UnknownAlgorithm(String),
    /// The package has an unsafe entry (or would write outside its target), so it is not extracted or
    /// verified.
    #[error("refusing the package: entry {0:?} is unsafe (see `csar validate`)")]
    Unsafe(String),
    /// A package cannot be built from what was given.
    #[error("cannot build the package: {0}")]
    Build(String),
    /// The package's structure is refused (limits, overlapping entries, local headers disagreeing with the
    /// central directory): nothing of it is read.
    #[error("the package is refused: {0}")]
    Refused(String),
    /// The package has no manifest, or several and nothing says which counts.
    #[error("{0}")]
    NoManifest(String),
    /// Extraction would write into something that already exists.
    #[error("{0} already exists and is not an empty directory: extraction writes a new directory")]
    TargetExists(String),
    /// Repacking would change a signed package, and no signing key was given to sign it again.
    #[error(
        "the package is signed and repacking changes {0}: sign it again (`--cert`/`--key`) or restore it"
    )]
    SignedContentChanged(String),
    /// A line of `TOSCA.meta` cannot be read ([`ToscaMeta::parse`](crate::ToscaMeta::parse)).
    #[error("TOSCA.meta line {line}: {message}")]
    Meta {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A line of a manifest cannot be read ([`Manifest::parse`](crate::Manifest::parse)).
    #[error("manifest line {line}: {message}")]
    Manifest {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The manifest cannot be signed or verified as it is (a file listed twice with different digests).
    #[error("invalid manifest: {0}")]
    InvalidManifest(String),
    /// The certificate or key given for signing cannot be read.
    #[error("invalid signing material: {0}")]
    InvalidKey(String),
    /// The manifest has no CMS block, or an empty one.
    #[error("the manifest is not signed")]
    NotSigned,
    /// The CMS block is not a readable SignedData (DER, or BER as EdgeGallery writes it).
    #[error("the signature cannot be read: {0}")]
    MalformedSignature(String),
    /// The signature uses another algorithm than SHA-256 with RSA, or a file the signed manifest lists uses a
    /// digest algorithm that cannot be checked.
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
    /// The signer is neither the trust anchor nor certified by it (through certificate authorities): its
    /// subject.
    #[error("the signer ({0}) is not trusted")]
    UntrustedSigner(String),
    /// A certificate of the chain is not valid at the time of verification (expired, or not yet valid).
    #[error("certificate {0}")]
    CertificateNotValid(String),
    /// A listed file's digest does not match the (signed) manifest: the file.
    #[error("{0} was changed after the package was signed")]
    FileChanged(String),
    /// A file the package is read by is not covered by the signed manifest (not listed, or without a digest):
    /// the file, and why.
    #[error("{0} is not covered by the signature: {1}")]
    NotCovered(String, String),
    /// A file the signed manifest lists is not in the package.
    #[error("{0} is listed in the signed manifest but not in the package")]
    MissingFile(String),
}

impl Error {
    /// Whether a size could not be read.
    pub fn is_invalid_size(&self) -> bool {
        matches!(self, Self::InvalidSize(_))
    }

    /// Whether the data is not a zip archive.
    pub fn is_not_a_zip(&self) -> bool {
        matches!(self, Self::NotAZip(_))
    }

    /// Whether the package has no entry of the name asked for.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NoEntry(_))
    }

    /// Whether the package (or one of its entries) is refused as unsafe.
    pub fn is_unsafe(&self) -> bool {
        matches!(self, Self::Unsafe(_) | Self::Refused(_))
    }

    /// Whether an entry's data is corrupt (CRC, size) or too large to read.
    pub fn is_corrupt(&self) -> bool {
        matches!(self, Self::Corrupt(..) | Self::TooLarge(..))
    }

    /// Whether a file could not be read or written.
    pub fn is_io(&self) -> bool {
        matches!(self, Self::Io { .. })
    }

    /// Whether `TOSCA.meta` or the manifest is missing, malformed or ambiguous.
    pub fn is_invalid_metadata(&self) -> bool {
        matches!(
            self,
            Self::Meta { .. }
                | Self::Manifest { .. }
                | Self::InvalidManifest(_)
                | Self::NoManifest(_)
        )
    }

    /// Whether a digest or signature algorithm is not supported.
    pub fn is_unknown_algorithm(&self) -> bool {
        matches!(
            self,
            Self::UnknownAlgorithm(_) | Self::UnsupportedAlgorithm(_)
        )
    }

    /// Whether a package could not be built, or repacking would change a signed package.
    pub fn is_build(&self) -> bool {
        matches!(self, Self::Build(_) | Self::SignedContentChanged(_))
    }

    /// Whether extraction was refused because its target exists.
    pub fn is_target_exists(&self) -> bool {
        matches!(self, Self::TargetExists(_))
    }

    /// Whether the signing certificate or key cannot be read.
    pub fn is_invalid_key(&self) -> bool {
        matches!(self, Self::InvalidKey(_))
    }

    /// Whether the manifest carries no signature.
    pub fn is_not_signed(&self) -> bool {
        matches!(self, Self::NotSigned)
    }

    /// Whether the signature itself does not hold (changed manifest, bad signature, digest mismatch, unreadable
    /// signature).
    pub fn is_bad_signature(&self) -> bool {
        matches!(
            self,
            Self::ManifestChanged
                | Self::DigestMismatch
                | Self::BadSignature
                | Self::MalformedSignature(_)
        )
    }

    /// Whether the signer is not trusted at the time of verification (chain, validity).
    pub fn is_untrusted(&self) -> bool {
        matches!(
            self,
            Self::UntrustedSigner(_) | Self::CertificateNotValid(_) | Self::NoSignerCertificate
        )
    }

    /// Whether the package's files are not what was signed (changed, missing, or not covered).
    pub fn is_content_mismatch(&self) -> bool {
        matches!(
            self,
            Self::FileChanged(_) | Self::NotCovered(..) | Self::MissingFile(_)
        )
    }

    /// The 1-based line of `TOSCA.meta` or of the manifest at fault.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Meta { line, .. } | Self::Manifest { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The package entry (or listed file) the error concerns, when it names one.
    pub fn entry(&self) -> Option<&str> {
        match self {
            Self::NoEntry(e)
            | Self::Corrupt(e, _)
            | Self::TooLarge(e, _)
            | Self::FileChanged(e)
            | Self::NotCovered(e, _)
            | Self::MissingFile(e) => Some(e),
            _ => None,
        }
    }

    /// The code of the finding [`validate`](crate::validate) reports for the same fault (see
    /// [`codes`](crate::codes)), when there is one.
    pub fn finding_code(&self) -> Option<&'static str> {
        Some(match self {
            Self::NotAZip(_) => codes::NOT_A_ZIP,
            Self::Corrupt(..) => codes::UNREADABLE_ENTRY,
            Self::TooLarge(..) => codes::TOO_LARGE,
            Self::Meta { .. } => codes::META_MALFORMED,
            Self::Manifest { .. } | Self::InvalidManifest(_) => codes::MANIFEST_MALFORMED,
            Self::NoManifest(_) => codes::NO_MANIFEST,
            Self::UnknownAlgorithm(_) => codes::UNKNOWN_ALGORITHM,
            Self::FileChanged(_) => codes::DIGEST_MISMATCH,
            Self::NotCovered(..) => codes::FILE_NOT_LISTED,
            Self::MissingFile(_) => codes::SOURCE_MISSING,
            _ => return None,
        })
    }

    /// The error and every cause under it on one line, each said once
    /// (`cannot access out.csar: Permission denied (os error 13)`), for a person to read.
    pub fn report(&self) -> String {
        report(self)
    }
}

/// An error and every cause under it on one line, each said once (a cause whose text already ends the line, as
/// a wrapped error's message often does, is not repeated). The `csar` command prints its errors so.
pub fn report(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = c.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn an_io_error_says_its_cause_once() {
        let e = Error::Io {
            path: "out.csar".into(),
            source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied"),
        };
        assert!(e.is_io() && !e.is_unsafe());
        assert_eq!(e.to_string(), "cannot access out.csar");
        assert_eq!(
            e.source().map(ToString::to_string).as_deref(),
            Some("permission denied")
        );
        assert_eq!(e.report(), "cannot access out.csar: permission denied");
    }

    #[test]
    fn helpers_and_accessors_tell_the_faults_apart() {
        let meta = Error::Meta {
            line: 2,
            message: "empty key".into(),
        };
        assert!(meta.is_invalid_metadata() && !meta.is_bad_signature());
        assert_eq!(meta.line(), Some(2));
        assert_eq!(meta.finding_code(), Some(codes::META_MALFORMED));
        assert_eq!(meta.to_string(), "TOSCA.meta line 2: empty key");
        let changed = Error::FileChanged("APPD/a.yaml".into());
        assert!(
            changed.is_content_mismatch() && !changed.is_untrusted() && !changed.is_bad_signature()
        );
        assert_eq!(changed.entry(), Some("APPD/a.yaml"));
        assert_eq!(changed.finding_code(), Some(codes::DIGEST_MISMATCH));
        assert_eq!(changed.line(), None);
        assert!(
            Error::BadSignature.is_bad_signature() && !Error::BadSignature.is_content_mismatch()
        );
        assert!(Error::MalformedSignature("x".into()).is_bad_signature());
        assert!(Error::UntrustedSigner("CN=x".into()).is_untrusted());
        assert!(Error::NoSignerCertificate.is_untrusted());
        assert!(Error::NotSigned.is_not_signed() && !Error::NotSigned.is_bad_signature());
        assert!(Error::InvalidKey("x".into()).is_invalid_key());
        assert!(Error::NotAZip("x".into()).is_not_a_zip());
        assert!(
            Error::NoEntry("a".into()).is_not_found() && !Error::NotAZip("x".into()).is_not_found()
        );
        assert!(Error::Corrupt("a".into(), "crc".into()).is_corrupt());
        assert!(Error::TooLarge("a".into(), 1).is_corrupt());
        assert!(Error::Refused("x".into()).is_unsafe() && Error::Unsafe("x".into()).is_unsafe());
        assert!(Error::UnknownAlgorithm("md5".into()).is_unknown_algorithm());
        assert!(Error::SignedContentChanged("x".into()).is_build());
        assert!(Error::TargetExists("x".into()).is_target_exists());
        assert_eq!(Error::BadSignature.finding_code(), None);
    }
}
