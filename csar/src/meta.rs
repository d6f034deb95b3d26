//! `TOSCA-Metadata/TOSCA.meta`: block 0 (`TOSCA-Meta-File-Version`, `CSAR-Version`, `Created-By`,
//! `Entry-Definitions`, SOL004's `ETSI-Entry-*`) and `Name:`/`Content-Type:` blocks.
//!
//! Parsed line by line, never as YAML: keys match without regard to case (EdgeGallery writes `Created-by`, ETSI
//! `Created-By`), CRLF and a missing final newline are accepted, and values are trimmed.

use std::fmt;

/// The path of the metadata file in an option 1 package.
pub const TOSCA_META_PATH: &str = "TOSCA-Metadata/TOSCA.meta";

/// One `Name:` block after block 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetaEntry {
    /// The entry's path in the package.
    pub name: String,
    /// Its `Content-Type` (EdgeGallery: `appd`, `SwImageDesc`, `image`).
    pub content_type: Option<String>,
}

/// A parsed `TOSCA.meta`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToscaMeta {
    /// Block 0 keys and values, in file order, keys as written.
    pub block0: Vec<(String, String)>,
    /// The blocks after block 0.
    pub entries: Vec<MetaEntry>,
}

/// A line of `TOSCA.meta` that is not `key: value`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct MetaError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

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
        self.get("ETSI-Entry-Manifest")
            .or_else(|| self.get("Entry-Manifest"))
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

    /// Parses the text. Blank lines separate blocks; every other line must be `key: value`.
    pub fn parse(text: &str) -> Result<Self, MetaError> {
        let mut meta = Self::default();
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
            let (key, value) = line.split_once(':').ok_or_else(|| MetaError {
                line: i + 1,
                message: format!("expected `key: value`, found {:?}", truncate(line)),
            })?;
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() {
                return Err(MetaError {
                    line: i + 1,
                    message: "empty key".into(),
                });
            }
            if key.eq_ignore_ascii_case("Name") {
                block = block.max(1);
                meta.entries.push(MetaEntry {
                    name: value.to_owned(),
                    content_type: None,
                });
            } else if key.eq_ignore_ascii_case("Content-Type") {
                match meta.entries.last_mut() {
                    Some(e) => e.content_type = Some(value.to_owned()),
                    None => {
                        return Err(MetaError {
                            line: i + 1,
                            message: "Content-Type outside a Name block".into(),
                        });
                    }
                }
            } else if block == 0 {
                meta.block0.push((key.to_owned(), value.to_owned()));
            }
            // Other keys in later blocks are kept by nobody; they are tolerated.
        }
        Ok(meta)
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
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
    fn malformed_lines_are_reported_with_their_number() {
        let e = ToscaMeta::parse("TOSCA-Meta-File-Version: 1.0\nthis is not a key value line\n")
            .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(ToscaMeta::parse("Content-Type: appd\n").is_err());
        assert!(ToscaMeta::parse(": x\n").is_err());
    }
}
