//! The `.mf` manifest (ETSI GS NFV-SOL 004; EdgeGallery's form): a `metadata:` block, `Source:` / `Algorithm:` /
//! `Hash:` entries (with optional `Signature:` and `Certificate:`), `non_mano_artifact_sets:`, and a CMS block.
//!
//! Parsed line by line: keys without regard to case, entries in any key order, CRLF accepted.

use crate::Error;
use std::fmt;

/// A digest algorithm of a manifest entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// Another name, kept as written.
    Other(String),
}

impl Algorithm {
    /// Reads `SHA-256`, `sha256`, `SHA256` and the like.
    pub fn parse(s: &str) -> Self {
        match s
            .trim()
            .to_ascii_uppercase()
            .replace(['-', '_'], "")
            .as_str()
        {
            "SHA256" => Self::Sha256,
            "SHA384" => Self::Sha384,
            "SHA512" => Self::Sha512,
            _ => Self::Other(s.trim().to_owned()),
        }
    }

    /// The SHA-2 algorithm whose digests have this many hex digits (64, 96, 128).
    pub(crate) fn for_hex_len(len: usize) -> Option<Self> {
        match len {
            64 => Some(Self::Sha256),
            96 => Some(Self::Sha384),
            128 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The spelling written to manifests.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
            Self::Other(s) => s,
        }
    }
}

/// Several digests of one stream, computed in one pass.
pub(crate) struct Digests(Vec<(Algorithm, Hasher)>);

enum Hasher {
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Digests {
    /// Digests with each of these algorithms, once each; unknown algorithms are left out.
    pub(crate) fn new<'a>(algorithms: impl IntoIterator<Item = &'a Algorithm>) -> Self {
        use sha2::Digest;
        let mut all: Vec<(Algorithm, Hasher)> = Vec::new();
        for a in algorithms {
            if all.iter().any(|(x, _)| x == a) {
                continue;
            }
            let hasher = match a {
                Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
                Algorithm::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
                Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
                Algorithm::Other(_) => continue,
            };
            all.push((a.clone(), hasher));
        }
        Self(all)
    }

    pub(crate) fn update(&mut self, chunk: &[u8]) {
        use sha2::Digest;
        for (_, h) in &mut self.0 {
            match h {
                Hasher::Sha256(d) => d.update(chunk),
                Hasher::Sha384(d) => d.update(chunk),
                Hasher::Sha512(d) => d.update(chunk),
            }
        }
    }

    /// The hex digests, by algorithm.
    pub(crate) fn finish(self) -> std::collections::HashMap<Algorithm, String> {
        use sha2::Digest;
        self.0
            .into_iter()
            .map(|(a, h)| {
                let hex = match h {
                    Hasher::Sha256(d) => hex::encode(d.finalize()),
                    Hasher::Sha384(d) => hex::encode(d.finalize()),
                    Hasher::Sha512(d) => hex::encode(d.finalize()),
                };
                (a, hex)
            })
            .collect()
    }
}

/// One `Source:` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SourceEntry {
    /// The file's path in the package (or a URI).
    pub source: String,
    /// The digest algorithm.
    pub algorithm: Option<Algorithm>,
    /// The digest, hex.
    pub hash: Option<String>,
    /// A per-artifact signature file (SOL004 security option 1).
    pub signature: Option<String>,
    /// A per-artifact certificate file.
    pub certificate: Option<String>,
    /// The 1-based line of its `Source:`.
    pub line: usize,
}

/// A parsed manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Manifest {
    /// The `metadata:` block, in file order.
    pub metadata: Vec<(String, String)>,
    /// The `Source:` entries.
    pub sources: Vec<SourceEntry>,
    /// `non_mano_artifact_sets:`: set name → its `Source:` paths.
    pub non_mano_artifact_sets: Vec<(String, Vec<String>)>,
    /// The base64 of the `-----BEGIN CMS-----` block, if any (empty when the block is empty).
    pub cms: Option<String>,
}

/// The metadata keys EdgeGallery's AppStore and test platform require.
pub const EDGEGALLERY_METADATA: [&str; 5] = [
    "app_product_name",
    "app_provider_id",
    "app_package_version",
    "app_release_data_time",
    "app_class",
];

#[derive(PartialEq)]
enum Section {
    Start,
    Metadata,
    Sources,
    ArtifactSets,
    Cms,
}

impl Manifest {
    /// A metadata value by key, matched without regard to case.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Parses the text.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_limited(text, usize::MAX)
    }

    /// As [`parse`](Self::parse), refusing more than `max_items` metadata lines, `Source` entries and artifact
    /// set members in all (untrusted input: each costs memory).
    pub fn parse_limited(text: &str, max_items: usize) -> Result<Self, Error> {
        let mut m = Self::default();
        let mut items = 0usize;
        let mut section = Section::Start;
        let mut cms = String::new();
        let err = |line: usize, message: String| Error::Manifest { line, message };
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim_end_matches('\r');
            let trimmed = line.trim();
            if section == Section::Cms {
                if trimmed == "-----END CMS-----" {
                    m.cms = Some(std::mem::take(&mut cms));
                    section = Section::Sources;
                } else {
                    cms.push_str(trimmed);
                }
                continue;
            }
            if trimmed.is_empty() {
                continue;
            }
            if trimmed == "-----BEGIN CMS-----" {
                section = Section::Cms;
                continue;
            }
            if trimmed.eq_ignore_ascii_case("metadata:") {
                section = Section::Metadata;
                continue;
            }
            if trimmed.eq_ignore_ascii_case("non_mano_artifact_sets:") {
                section = Section::ArtifactSets;
                continue;
            }
            let Some((key, value)) = trimmed.split_once(':') else {
                return Err(err(
                    n,
                    format!(
                        "expected `key: value`, found {:?}",
                        trimmed.chars().take(60).collect::<String>()
                    ),
                ));
            };
            let (key, value) = (key.trim(), value.trim());
            let lower = key.to_ascii_lowercase();
            if lower == "source" || matches!(section, Section::Metadata | Section::Start) {
                items += 1;
                if items > max_items {
                    return Err(err(n, format!("more than {max_items} entries")));
                }
            }
            match (&section, lower.as_str()) {
                (Section::ArtifactSets, "source") => match m.non_mano_artifact_sets.last_mut() {
                    Some((_, list)) => list.push(value.to_owned()),
                    None => return Err(err(n, "Source outside a non-MANO artifact set".into())),
                },
                (Section::ArtifactSets, _) if value.is_empty() => {
                    m.non_mano_artifact_sets.push((key.to_owned(), Vec::new()));
                }
                (_, "source") => {
                    section = Section::Sources;
                    m.sources.push(SourceEntry {
                        source: value.to_owned(),
                        algorithm: None,
                        hash: None,
                        signature: None,
                        certificate: None,
                        line: n,
                    });
                }
                (_, "algorithm" | "hash" | "signature" | "certificate") => {
                    let Some(entry) = m.sources.last_mut() else {
                        return Err(err(n, format!("{key} before any Source")));
                    };
                    match lower.as_str() {
                        "algorithm" => entry.algorithm = Some(Algorithm::parse(value)),
                        "hash" => entry.hash = Some(value.to_ascii_lowercase()),
                        "signature" => entry.signature = Some(value.to_owned()),
                        _ => entry.certificate = Some(value.to_owned()),
                    }
                }
                (Section::Metadata | Section::Start, _) => {
                    section = Section::Metadata;
                    m.metadata.push((key.to_owned(), value.to_owned()));
                }
                _ => return Err(err(n, format!("unexpected key {key:?}"))),
            }
        }
        if section == Section::Cms {
            return Err(err(
                text.lines().count(),
                "the CMS block has no -----END CMS----- line".into(),
            ));
        }
        Ok(m)
    }

    /// The text EdgeGallery signs: the `Source`/`Algorithm`/`Hash` entries, one per line, entries separated by a
    /// blank line, trimmed.
    pub fn signed_content(&self) -> String {
        self.sources
            .iter()
            .map(|s| {
                let mut block = format!("Source: {}", s.source);
                if let Some(a) = &s.algorithm {
                    block.push_str(&format!("\nAlgorithm: {}", a.as_str()));
                }
                if let Some(h) = &s.hash {
                    block.push_str(&format!("\nHash: {h}"));
                }
                block
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

impl fmt::Display for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "metadata:")?;
        for (k, v) in &self.metadata {
            writeln!(f, "{k}: {v}")?;
        }
        for s in &self.sources {
            writeln!(f)?;
            writeln!(f, "Source: {}", s.source)?;
            if let Some(a) = &s.algorithm {
                writeln!(f, "Algorithm: {}", a.as_str())?;
            }
            if let Some(h) = &s.hash {
                writeln!(f, "Hash: {h}")?;
            }
            if let Some(sig) = &s.signature {
                writeln!(f, "Signature: {sig}")?;
            }
            if let Some(c) = &s.certificate {
                writeln!(f, "Certificate: {c}")?;
            }
        }
        if !self.non_mano_artifact_sets.is_empty() {
            writeln!(f)?;
            writeln!(f, "non_mano_artifact_sets:")?;
            for (name, sources) in &self.non_mano_artifact_sets {
                writeln!(f, "  {name}:")?;
                for s in sources {
                    writeln!(f, "    Source: {s}")?;
                }
            }
        }
        if let Some(cms) = &self.cms {
            writeln!(f)?;
            writeln!(f, "-----BEGIN CMS-----")?;
            if !cms.is_empty() {
                writeln!(f, "{cms}")?;
            }
            writeln!(f, "-----END CMS-----")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // appstore-be src/test/resources/appd/loactionAppTest.mf
    const EG: &str = "metadata:\napp_product_name: loactionAppTest\napp_provider_id: HUAWEI\napp_package_version: v1.2\napp_release_data_time: 2021-06-24 20:21\napp_type: edgegallery_vm_package\napp_class: vm\napp_package_description: dadad\n\nSource: APPD/loactionAppTest.zip\nAlgorithm: SHA-256\nHash: 556a62edb8a15a457152c6c9d02607c28ebc69d9bdcab9e9f8c411eac75b3924\n\nSource: Image/SwImageDesc.json\nAlgorithm: SHA-256\nHash: 31c7e3b82418f736fb2ff34057dbdf8a2de9136bf9e60a178399346fb1dd7f5d\n";

    #[test]
    fn reads_edgegallerys_manifest_and_writes_it_back() {
        let m = Manifest::parse(EG).unwrap();
        assert_eq!(m.metadata("APP_CLASS"), Some("vm"));
        assert_eq!(m.sources.len(), 2);
        assert_eq!(m.sources[1].algorithm, Some(Algorithm::Sha256));
        assert_eq!(m.sources[1].line, 14);
        assert_eq!(m.to_string(), EG);
        assert!(
            m.signed_content()
                .starts_with("Source: APPD/loactionAppTest.zip\nAlgorithm: SHA-256\nHash: 556a")
        );
        assert!(!m.signed_content().ends_with('\n'));
    }

    #[test]
    fn sol004_forms_lowercase_keys_hash_first_artifact_sets_and_cms() {
        let text = "metadata:\r\nvnf_product_name: x\r\n\r\nsource: a.yaml\r\nhash: ABCD\r\nalgorithm: sha-512\r\nSignature: a.sig.cms\r\n\r\nnon_mano_artifact_sets:\r\n  onap_others:\r\n    Source: Artifacts/Other/x.txt\r\n\r\n-----BEGIN CMS-----\r\nMIAG\r\nCSqG\r\n-----END CMS-----\r\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.sources[0].hash.as_deref(), Some("abcd"));
        assert_eq!(m.sources[0].algorithm, Some(Algorithm::Sha512));
        assert_eq!(m.sources[0].signature.as_deref(), Some("a.sig.cms"));
        assert_eq!(
            m.non_mano_artifact_sets,
            vec![(
                "onap_others".to_owned(),
                vec!["Artifacts/Other/x.txt".to_owned()]
            )]
        );
        assert_eq!(m.cms.as_deref(), Some("MIAGCSqG"));
        assert_eq!(Manifest::parse(&m.to_string()).unwrap(), m);
    }

    #[test]
    fn malformed_manifests_say_where() {
        assert_eq!(
            Manifest::parse("metadata:\nno colon here\n")
                .unwrap_err()
                .line(),
            Some(2)
        );
        assert!(Manifest::parse("Hash: abc\n").is_err());
        assert!(Manifest::parse("Source: a\n-----BEGIN CMS-----\nMIAG\n").is_err());
        let many = "Source: a\nAlgorithm: SHA-256\nHash: 00\n\n".repeat(5);
        assert!(Manifest::parse_limited(&many, 5).is_ok());
        assert!(
            Manifest::parse_limited(&many, 4)
                .unwrap_err()
                .to_string()
                .contains("more than 4")
        );
        assert_eq!(Algorithm::parse("md5"), Algorithm::Other("md5".into()));
    }
}
