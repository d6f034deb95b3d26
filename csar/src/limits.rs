//! Every budget applied to an untrusted package, in one place: [`Limits`]. The `csar` command sets each of them
//! from a flag of the same name (`--max-entries`, `--max-entry-size`, ...).

use crate::Error;

/// Bounds on untrusted packages. Each is answered with a finding (or a typed error) naming it, never with a
/// panic or a silent truncation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Most entries in the package (EdgeGallery refuses more than 1024). A package with more is refused whole.
    pub max_entries: usize,
    /// Most bytes one entry may inflate to: its declared size, and the bytes actually inflated, which may never
    /// exceed its declared size.
    pub max_entry_size: u64,
    /// Most bytes all entries together may inflate to (EdgeGallery: 10 GiB). A package declaring more is refused
    /// whole.
    pub max_total_size: u64,
    /// Highest inflated/compressed ratio: of each entry larger than [`ratio_min_size`](Self::ratio_min_size),
    /// and of all smaller entries taken together (a zip bomb's is in the thousands). An entry over the ratio
    /// that the package's manifest declares (with a digest) is accepted: its inflation is bounded by its
    /// declared size, which is within the limits (a sparse VM image compresses that well).
    pub max_ratio: u64,
    /// The size from which an entry's ratio is checked on its own (smaller entries are checked together).
    pub ratio_min_size: u64,
    /// Most path segments (EdgeGallery: 10).
    pub max_depth: usize,
    /// Most bytes read into memory for one text file (TOSCA.meta, manifest, YAML, JSON), a nested APPD zip, a
    /// chart, or the central directory.
    pub max_in_memory: u64,
    /// Most items of one list read from the package: manifest `Source` entries, TOSCA.meta blocks, images of
    /// an image descriptor, templates imported by the main service template.
    pub max_list_items: usize,
    /// Most findings reported per code; the rest are counted in one last finding of that code.
    pub max_findings_per_code: usize,
    /// Most YAML parser events in one document (every scalar, mapping and sequence counts).
    pub yaml_max_events: usize,
    /// Most YAML aliases (`*ref`) in one document (a "billion laughs" is built of them).
    pub yaml_max_aliases: usize,
    /// Deepest YAML nesting.
    pub yaml_max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 4096,
            max_entry_size: 8 << 30,
            max_total_size: 16 << 30,
            max_ratio: 500,
            ratio_min_size: 1 << 20,
            max_depth: 16,
            max_in_memory: 64 << 20,
            max_list_items: 65_536,
            max_findings_per_code: 100,
            yaml_max_events: 1_000_000,
            yaml_max_aliases: 10_000,
            yaml_max_depth: 64,
        }
    }
}

/// Reads a size written as bytes (`1048576`) or with a binary unit (`64K`, `64KiB`, `8M`, `8MiB`, `16G`,
/// `16GiB`, `1T`, `1TiB`; case does not matter). Anything else is [`Error::InvalidSize`].
pub fn parse_size(text: &str) -> Result<u64, Error> {
    parse(text).map_err(Error::InvalidSize)
}

fn parse(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size (bytes, or a number with K, M, G or T)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" | "kb" => 10,
        "m" | "mib" | "mb" => 20,
        "g" | "gib" | "gb" => 30,
        "t" | "tib" | "tb" => 40,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (use K, M, G or T)"
            ));
        }
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_binary_units() {
        assert_eq!(parse_size("1048576").ok(), Some(1 << 20));
        assert_eq!(parse_size("64K").ok(), Some(64 << 10));
        assert_eq!(parse_size("8MiB").ok(), Some(8 << 20));
        assert_eq!(parse_size("16g").ok(), Some(16 << 30));
        assert_eq!(parse_size("1 TiB").ok(), Some(1 << 40));
        assert!(parse_size("lots").unwrap_err().is_invalid_size());
        assert!(parse_size("5 parsecs").unwrap_err().is_invalid_size());
        let e = parse_size("99999999999T").unwrap_err();
        assert_eq!(e.to_string(), "\"99999999999T\" is too large");
    }
}
