//! Findings of a validation: a stable code, a severity, the entry concerned, and a message a person can act on.

use serde::Serialize;
use std::fmt;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// The package is refused.
    Error,
    /// Allowed, but against the specification or a common practice.
    Warning,
    /// For information.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        })
    }
}

/// One thing validation found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// A stable code (see [`codes`]).
    pub code: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// The entry concerned, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// What is wrong, for a person.
    pub message: String,
}

impl Finding {
    /// A finding.
    pub fn new(
        code: &'static str,
        severity: Severity,
        entry: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity,
            entry,
            message: message.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.severity, self.code)?;
        if let Some(e) = &self.entry {
            write!(f, " [{e}]")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The finding codes. They never change meaning; new ones are added at the end of their group.
pub mod codes {
    /// The file is not a zip archive, or it is truncated.
    pub const NOT_A_ZIP: &str = "CSAR001";
    /// More entries than the limit.
    pub const TOO_MANY_ENTRIES: &str = "CSAR002";
    /// An entry, or the whole package, inflates past the limit.
    pub const TOO_LARGE: &str = "CSAR003";
    /// An entry's compression ratio (or that of the small entries together) is that of a zip bomb.
    pub const ZIP_BOMB: &str = "CSAR004";
    /// The package's structure is refused (limits, overlapping or inconsistent entries), so none of its contents
    /// were read (info).
    pub const CONTENT_NOT_READ: &str = "CSAR005";
    /// An entry's path leaves the package root.
    pub const PATH_ESCAPE: &str = "CSAR010";
    /// An entry has an absolute path.
    pub const ABSOLUTE_PATH: &str = "CSAR011";
    /// An entry is a symbolic link.
    pub const SYMLINK: &str = "CSAR012";
    /// An entry appears twice.
    pub const DUPLICATE_ENTRY: &str = "CSAR013";
    /// An entry name is not valid UTF-8.
    pub const INVALID_NAME: &str = "CSAR014";
    /// An entry's path is too deep.
    pub const TOO_DEEP: &str = "CSAR015";
    /// An entry cannot be read (corrupt data, inflates past its declared size).
    pub const UNREADABLE_ENTRY: &str = "CSAR016";
    /// An entry's local header disagrees with its central-directory record (name, method, flags, CRC or sizes),
    /// or is missing: tools reading the archive in order would see another package.
    pub const LOCAL_HEADER_MISMATCH: &str = "CSAR017";
    /// Entries overlap one another or the central directory (the "non-recursive zip bomb": many entries
    /// pointing into one compressed stream).
    pub const OVERLAPPING_ENTRIES: &str = "CSAR018";
    /// The central directory is inconsistent: its record count or size disagrees with the end record, it is not
    /// where the end record says, it spans several disks, or zip readers would not agree on it.
    pub const CENTRAL_DIRECTORY_INCONSISTENT: &str = "CSAR019";
    /// No TOSCA.meta, and no single root YAML either (SOL004 option 2).
    pub const NO_ENTRY_DEFINITIONS: &str = "CSAR020";
    /// TOSCA.meta has a malformed line.
    pub const META_MALFORMED: &str = "CSAR021";
    /// TOSCA.meta lacks a required key.
    pub const META_KEY_MISSING: &str = "CSAR022";
    /// Entry-Definitions names no entry of the package.
    pub const ENTRY_DEFINITIONS_MISSING: &str = "CSAR023";
    /// A `Name:` block of TOSCA.meta names no entry.
    pub const META_NAME_MISSING: &str = "CSAR024";
    /// An EdgeGallery package lacks a directory EdgeGallery's test platform requires (`APPD/`, `Artifacts/`).
    pub const EDGEGALLERY_LAYOUT: &str = "CSAR025";
    /// An `ETSI-Entry-*` key of TOSCA.meta (Manifest, Change-Log, Licenses, Certificate, Tests) names no entry.
    pub const ETSI_ENTRY_MISSING: &str = "CSAR026";
    /// No manifest: none in the package root, or not the one TOSCA.meta or the option 2 layout names.
    pub const NO_MANIFEST: &str = "CSAR030";
    /// More than one manifest in the package root, and nothing says which one counts.
    pub const SEVERAL_MANIFESTS: &str = "CSAR031";
    /// The manifest has a malformed line, lists a file twice, or has more entries than the limit.
    pub const MANIFEST_MALFORMED: &str = "CSAR032";
    /// The manifest lacks a metadata key.
    pub const MANIFEST_METADATA_MISSING: &str = "CSAR033";
    /// A manifest `Source` names no entry.
    pub const SOURCE_MISSING: &str = "CSAR034";
    /// A file is listed by no manifest `Source`.
    pub const FILE_NOT_LISTED: &str = "CSAR035";
    /// A digest (of the manifest or of a TOSCA.meta `Name:` block) does not match the file.
    pub const DIGEST_MISMATCH: &str = "CSAR036";
    /// A digest algorithm is not SHA-256, SHA-384 or SHA-512.
    pub const UNKNOWN_ALGORITHM: &str = "CSAR037";
    /// A manifest `Source` (or a TOSCA.meta `Name:` block with an `Algorithm:`) has no `Hash`.
    pub const HASH_MISSING: &str = "CSAR038";
    /// A manifest `Source` (or a TOSCA.meta `Name:` block) with a `Hash` has no `Algorithm`.
    pub const ALGORITHM_MISSING: &str = "CSAR039";
    /// The APPD cannot be read (not a zip, no YAML, not YAML).
    pub const APPD_UNREADABLE: &str = "CSAR040";
    /// The APPD lacks a required member.
    pub const APPD_MEMBER_MISSING: &str = "CSAR041";
    /// The APPD YAML exceeds the parser's budget (size, depth, aliases: a "billion laughs").
    pub const YAML_BUDGET: &str = "CSAR042";
    /// The APPD describes no virtual CPU or memory (EdgeGallery's test platform requires them).
    pub const APPD_NO_COMPUTE: &str = "CSAR043";
    /// The image descriptor (SwImageDesc.json) is not a JSON array of images.
    pub const IMAGE_DESCRIPTOR_INVALID: &str = "CSAR050";
    /// An image descriptor points at a file the package does not have.
    pub const IMAGE_MISSING: &str = "CSAR051";
    /// A chart is not a valid gzip tarball.
    pub const CHART_INVALID: &str = "CSAR060";
    /// A chart lacks Chart.yaml, values.yaml or templates/.
    pub const CHART_INCOMPLETE: &str = "CSAR061";
    /// The manifest carries a CMS signature, which validation (having no trust anchor) does not check.
    pub const SIGNATURE_NOT_VERIFIED: &str = "CSAR070";

    /// Every code, in order.
    pub const ALL: &[&str] = &[
        NOT_A_ZIP,
        TOO_MANY_ENTRIES,
        TOO_LARGE,
        ZIP_BOMB,
        CONTENT_NOT_READ,
        PATH_ESCAPE,
        ABSOLUTE_PATH,
        SYMLINK,
        DUPLICATE_ENTRY,
        INVALID_NAME,
        TOO_DEEP,
        UNREADABLE_ENTRY,
        LOCAL_HEADER_MISMATCH,
        OVERLAPPING_ENTRIES,
        CENTRAL_DIRECTORY_INCONSISTENT,
        NO_ENTRY_DEFINITIONS,
        META_MALFORMED,
        META_KEY_MISSING,
        ENTRY_DEFINITIONS_MISSING,
        META_NAME_MISSING,
        EDGEGALLERY_LAYOUT,
        ETSI_ENTRY_MISSING,
        NO_MANIFEST,
        SEVERAL_MANIFESTS,
        MANIFEST_MALFORMED,
        MANIFEST_METADATA_MISSING,
        SOURCE_MISSING,
        FILE_NOT_LISTED,
        DIGEST_MISMATCH,
        UNKNOWN_ALGORITHM,
        HASH_MISSING,
        ALGORITHM_MISSING,
        APPD_UNREADABLE,
        APPD_MEMBER_MISSING,
        YAML_BUDGET,
        APPD_NO_COMPUTE,
        IMAGE_DESCRIPTOR_INVALID,
        IMAGE_MISSING,
        CHART_INVALID,
        CHART_INCOMPLETE,
        SIGNATURE_NOT_VERIFIED,
    ];
}

#[cfg(test)]
mod tests {
    use super::codes;

    /// The crate documentation's table (lib.rs) names every code, one by one or in a range of its group, and
    /// nothing else.
    #[test]
    fn the_documented_table_matches_the_codes() {
        let doc = include_str!("lib.rs");
        let table: Vec<&str> = doc
            .lines()
            .filter(|l| l.starts_with("//! | CSAR"))
            .collect();
        let number = |c: &str| c.trim_start_matches("CSAR").parse::<u32>().unwrap_or(0);
        let mut documented = Vec::new();
        for row in &table {
            let first_cell = row.split('|').nth(1).unwrap_or_default();
            let named: Vec<u32> = first_cell
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| w.starts_with("CSAR"))
                .map(number)
                .collect();
            match (first_cell.contains(".."), named.as_slice()) {
                (true, [from, to]) => documented.extend(*from..=*to),
                _ => documented.extend(named),
            }
        }
        let defined = include_str!("findings.rs")
            .lines()
            .filter(|l| l.trim_start().starts_with("pub const") && l.contains(": &str = \"CSAR"))
            .count();
        assert_eq!(codes::ALL.len(), defined, "codes::ALL misses a code");
        let mut all: Vec<u32> = codes::ALL.iter().map(|c| number(c)).collect();
        all.sort_unstable();
        let count = all.len();
        all.dedup();
        assert_eq!(all.len(), count, "a code is defined twice");
        documented.sort_unstable();
        assert_eq!(documented, all, "lib.rs's table and codes::ALL differ");
    }
}
