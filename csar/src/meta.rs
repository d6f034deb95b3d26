//! `TOSCA-Metadata/TOSCA.meta`: block 0 (`TOSCA-Meta-File-Version`, `CSAR-Version`, `Created-By`,
//! `Entry-Definitions`, SOL004's `ETSI-Entry-*`) and `Name:`/`Content-Type:` blocks.
//!
//! Parsed line by line, never as YAML: keys match without regard to case (EdgeGallery writes `Created-by`, ETSI
//! `Created-By`), CRLF and a missing final newline are accepted, and values are trimmed.

use crate::Error;
use crate::manifest::Algorithm;
use std::fmt;

/// The path of the metadata file in an option 1 package.
pub const TOSCA_META_PATH: &str = "TOSCA-Metadata/TOSCA.meta";

/// One `Name:` block after block 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetaEntry {
    /// The entry's path in the package.
    pub name: String,
    /// Its `Content-Type` (EdgeGallery: `appd`, `SwImageDesc`, `image`).
    pub content_type: Option<String>,
    /// Its digest algorithm (`Algorithm:`), when the block gives one.
    pub algorithm: Option<Algorithm>,
    /// Its digest (`Hash:`, hex, lower case), when the block gives one.
    pub hash: Option<String>,
    /// The 1-based line of its `Name:`.
    pub line: usize,
}

impl MetaEntry {
    /// A block naming `name`, with a content type.
    pub fn new(name: impl Into<String>, content_type: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            content_type: Some(content_type.into()),
            ..Self::default()
        }
    }
}

/// A parsed `TOSCA.meta`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ToscaMeta {
    /// Block 0 keys and values, in file order, keys as written (values without surrounding quotes).
    pub block0: Vec<(String, String)>,
    /// The blocks after block 0.
    pub entries: Vec<MetaEntry>,
}

/// The `ETSI-Entry-*` keys of block 0 that name files or directories of the package (ETSI GS NFV-SOL 004
/// 4.1.2), with the older spellings without `ETSI-` that ONAP's tools read.
pub const ETSI_ENTRY_KEYS: [&str; 5] = [
    "ETSI-Entry-Manifest",
    "ETSI-Entry-Change-Log",
    "ETSI-Entry-Licenses",
    "ETSI-Entry-Certificate",
    "ETSI-Entry-Tests",
];

impl ToscaMeta {
    /// A block 0 value by key, matched without regard to case.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.block0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// `Entry-Definitions`: the main service template (or, with EdgeGallery, the APPD zip).
    pub fn entry_definitions(&self) -> Option<&str> {
        self.get("Entry-Definitions")
    }

    /// `ETSI-Entry-Manifest` (or the older `Entry-Manifest`).
    pub fn entry_manifest(&self) -> Option<&str> {
        self.etsi_entry("ETSI-Entry-Manifest")
    }

    /// `ETSI-Entry-Certificate` (or the older `Entry-Certificate`).
    pub fn entry_certificate(&self) -> Option<&str> {
        self.etsi_entry("ETSI-Entry-Certificate")
    }

    /// An `ETSI-Entry-*` value by its key (one of [`ETSI_ENTRY_KEYS`]), or the older spelling without `ETSI-`.
    pub fn etsi_entry(&self, key: &str) -> Option<&str> {
        self.get(key)
            .or_else(|| key.strip_prefix("ETSI-").and_then(|old| self.get(old)))
            .filter(|v| !v.is_empty())
    }

    /// Every `ETSI-Entry-*` key given, with its value (keys as in [`ETSI_ENTRY_KEYS`]).
    pub fn etsi_entries(&self) -> Vec<(&'static str, &str)> {
        ETSI_ENTRY_KEYS
            .iter()
            .filter_map(|k| self.etsi_entry(k).map(|v| (*k, v)))
            .collect()
    }

    /// A metadata file for a package whose main entry is `entry_definitions`, as EdgeGallery writes them.
    pub fn new(entry_definitions: &str) -> Self {
        Self {
            block0: vec![
                ("TOSCA-Meta-File-Version".into(), "1.0".into()),
                ("CSAR-Version".into(), "1.1".into()),
                ("Created-By".into(), "mec-csar".into()),
                ("Entry-Definitions".into(), entry_definitions.into()),
            ],
            entries: Vec::new(),
        }
    }

    /// Parses the text. Blank lines separate blocks; every other line must be `key: value`. Values may be
    /// quoted (`Entry-Definitions: 'Definitions/x.yaml'`); the quotes are not part of the value.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_limited(text, usize::MAX)
    }

    /// As [`parse`](Self::parse), refusing more than `max_items` blocks and block 0 keys in all (untrusted
    /// input: each costs memory).
    pub fn parse_limited(text: &str, max_items: usize) -> Result<Self, Error> {
        let mut meta = Self::default();
        let mut items = 0usize;
        let mut block = 0usize;
        let mut blank_before = false;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() {
                blank_before = true;
                continue;
            }
            if blank_before && !(meta.block0.is_empty() && meta.entries.is_empty()) {
                block += 1;
            }
            blank_before = false;
            let (key, value) = line.split_once(':').ok_or_else(|| Error::Meta {
                line: i + 1,
                message: format!("expected `key: value`, found {:?}", truncate(line)),
            })?;
            let (key, value) = (key.trim(), unquote(value.trim()));
            if key.is_empty() {
                return Err(Error::Meta {
                    line: i + 1,
                    message: "empty key".into(),
                });
            }
            // Block 0 keys and blocks are kept; other keys of a block replace or are dropped.
            if block == 0 || key.eq_ignore_ascii_case("Name") {
                items += 1;
                if items > max_items {
                    return Err(Error::Meta {
                        line: i + 1,
                        message: format!("more than {max_items} blocks and block 0 keys"),
                    });
                }
            }
            if key.eq_ignore_ascii_case("Name") {
                block = block.max(1);
                meta.entries.push(MetaEntry {
                    name: value.to_owned(),
                    line: i + 1,
                    ..MetaEntry::default()
                });
            } else if key.eq_ignore_ascii_case("Content-Type") {
                in_block(&mut meta, i, "Content-Type")?.content_type = Some(value.to_owned());
            } else if block > 0 && key.eq_ignore_ascii_case("Algorithm") {
                in_block(&mut meta, i, "Algorithm")?.algorithm = Some(Algorithm::parse(value));
            } else if block > 0 && key.eq_ignore_ascii_case("Hash") {
                in_block(&mut meta, i, "Hash")?.hash = Some(value.to_ascii_lowercase());
            } else if block == 0 {
                meta.block0.push((key.to_owned(), value.to_owned()));
            }
            // Other keys in later blocks are kept by nobody; they are tolerated.
        }
        Ok(meta)
    }
}

/// The block a `Content-Type`, `Algorithm` or `Hash` line (at 0-based `i`) belongs to.
fn in_block<'m>(meta: &'m mut ToscaMeta, i: usize, what: &str) -> Result<&'m mut MetaEntry, Error> {
    meta.entries.last_mut().ok_or_else(|| Error::Meta {
        line: i + 1,
        message: format!("{what} outside a Name block"),
    })
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

/// A value without the quotes around it (`'x'` or `"x"`), as YAML-minded tools write them.
fn unquote(v: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// Rewrites the `Hash:` lines of `Name:` blocks in a TOSCA.meta text, leaving every other byte as it was:
/// `new_hash(name)` gives the new digest of the block naming `name`, or `None` to keep it.
pub(crate) fn rewrite_hashes(text: &str, new_hash: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut current: Option<String> = None;
    for raw in text.split_inclusive('\n') {
        let body = raw.trim_end_matches(['\n', '\r']);
        let ending = &raw[body.len()..];
        if body.trim().is_empty() {
            current = None;
            out.push_str(raw);
            continue;
        }
        match body.split_once(':') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("Name") => {
                current = Some(unquote(v.trim()).to_owned());
            }
            Some((k, _)) if k.trim().eq_ignore_ascii_case("Hash") => {
                if let Some(hash) = current.as_deref().and_then(new_hash) {
                    out.push_str(k);
                    out.push_str(": ");
                    out.push_str(&hash);
                    out.push_str(ending);
                    continue;
                }
            }
            _ => {}
        }
        out.push_str(raw);
    }
    out
}

impl fmt::Display for ToscaMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, v) in &self.block0 {
            writeln!(f, "{k}: {v}")?;
        }
        for e in &self.entries {
            writeln!(f)?;
            writeln!(f, "Name: {}", e.name)?;
            if let Some(ct) = &e.content_type {
                writeln!(f, "Content-Type: {ct}")?;
            }
            if let Some(a) = &e.algorithm {
                writeln!(f, "Algorithm: {}", a.as_str())?;
            }
            if let Some(h) = &e.hash {
                writeln!(f, "Hash: {h}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_edgegallerys_file_and_writes_it_back() {
        // appstore-be src/test/resources/testfile/test2048_1.0.csar (no final newline).
        let text = "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 3.25\nCreated-by: EdgeGallery\nEntry-Definitions: APPD/MainServiceTemplate.zip\n\nName: APPD/MainServiceTemplate.zip\nContent-Type: appd\n\nName: Image/SwImageDesc.json\nContent-Type: SwImageDesc";
        let m = ToscaMeta::parse(text).unwrap();
        assert_eq!(m.get("created-by"), Some("EdgeGallery"));
        assert_eq!(m.entry_definitions(), Some("APPD/MainServiceTemplate.zip"));
        assert_eq!(m.entries.len(), 2);
        assert_eq!(m.entries[1].content_type.as_deref(), Some("SwImageDesc"));
        assert_eq!(ToscaMeta::parse(&m.to_string()).unwrap(), m);
    }

    #[test]
    fn crlf_and_etsi_keys() {
        let m = ToscaMeta::parse("TOSCA-Meta-File-Version: 1.0\r\nCSAR-Version: 1.1\r\nCreated-By: x\r\nEntry-Definitions: a.yaml\r\nETSI-Entry-Manifest: a.mf\r\n").unwrap();
        assert_eq!(m.entry_manifest(), Some("a.mf"));
        assert_eq!(m.get("CSAR-VERSION"), Some("1.1"));
    }

    #[test]
    fn quoted_values_hashes_and_old_entry_keys() {
        let m = ToscaMeta::parse("TOSCA-Meta-File-Version: 1.0\nEntry-Definitions: 'Definitions/x.yaml'\nEntry-Change-Log: \"ChangeLog.txt\"\n\nName: a.sh\nContent-Type: text/x-sh\nAlgorithm: SHA-512\nHash: ABC\n").unwrap();
        assert_eq!(m.entry_definitions(), Some("Definitions/x.yaml"));
        assert_eq!(
            m.etsi_entries(),
            vec![("ETSI-Entry-Change-Log", "ChangeLog.txt")]
        );
        assert_eq!(m.entries[0].algorithm, Some(Algorithm::Sha512));
        assert_eq!(m.entries[0].hash.as_deref(), Some("abc"));
        assert_eq!(m.entries[0].line, 5);
        assert_eq!(ToscaMeta::parse(&m.to_string()).unwrap(), m);
    }

    #[test]
    fn hashes_are_rewritten_in_place() {
        let text = "Entry-Definitions: a.yaml\r\n\r\nName: a.sh\r\nHash: 00\r\nX-Other: kept\r\n\r\nName: b.sh\r\nHash: 11";
        let out = rewrite_hashes(text, &|n| (n == "b.sh").then(|| "22".to_owned()));
        assert_eq!(out, text.replace("Hash: 11", "Hash: 22"));
    }

    #[test]
    fn items_are_bounded() {
        let text = "Name: a\n\n".repeat(10);
        assert!(ToscaMeta::parse_limited(&text, 10).is_ok());
        let e = ToscaMeta::parse_limited(&text, 9).unwrap_err();
        assert!(
            matches!(&e, Error::Meta { message, .. } if message.contains("more than 9")),
            "{e}"
        );
    }

    #[test]
    fn malformed_lines_are_reported_with_their_number() {
        let e = ToscaMeta::parse("TOSCA-Meta-File-Version: 1.0\nthis is not a key value line\n")
            .unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(e.is_invalid_metadata(), "{e}");
        assert!(ToscaMeta::parse("Content-Type: appd\n").is_err());
        assert!(ToscaMeta::parse(": x\n").is_err());
    }
}
