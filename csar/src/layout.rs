//! Where a package keeps its parts (ETSI GS NFV-SOL 004 4.1): with a `TOSCA-Metadata/TOSCA.meta` (option 1),
//! whose block 0 names the entry definitions and, with `ETSI-Entry-Manifest`, the manifest anywhere in the
//! package; or without one (option 2), one YAML file in the root being the entry definitions, and the manifest
//! the `.mf` of the same name beside it. EdgeGallery's packages have TOSCA.meta without `ETSI-Entry-Manifest`
//! and one `.mf` in the root.

use crate::findings::codes;
use crate::meta::{TOSCA_META_PATH, ToscaMeta};
use crate::package::Package;
use std::io::{Read, Seek};

/// What the package says about itself.
#[derive(Debug)]
pub(crate) struct Layout {
    /// Whether the package has a TOSCA.meta entry (readable or not).
    pub(crate) has_meta: bool,
    /// TOSCA.meta, parsed.
    pub(crate) meta: Option<ToscaMeta>,
    /// Why TOSCA.meta could not be read or parsed.
    pub(crate) meta_error: Option<String>,
    /// The entry definitions as named (TOSCA.meta), or the option 2 root YAML.
    pub(crate) entry_definitions: Option<String>,
    /// YAML files in the root (option 2 wants exactly one).
    pub(crate) root_yamls: Vec<String>,
    /// The manifest's name, or the finding code and message saying why there is none.
    pub(crate) manifest: Result<String, (&'static str, String)>,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            has_meta: false,
            meta: None,
            meta_error: None,
            entry_definitions: None,
            root_yamls: Vec::new(),
            manifest: Err((codes::NO_MANIFEST, String::new())),
        }
    }
}

fn is_yaml(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml")
}

/// The name without its last extension.
pub(crate) fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

/// Reads TOSCA.meta (when there is one) and works out the entry definitions and the manifest.
pub(crate) fn read<R: Read + Seek>(pkg: &mut Package<R>) -> Layout {
    let mut layout = Layout {
        has_meta: pkg.entries().iter().any(|e| e.name == TOSCA_META_PATH),
        ..Layout::default()
    };
    let files = pkg.files();
    layout.root_yamls = files
        .iter()
        .filter(|n| !n.contains('/') && is_yaml(n))
        .cloned()
        .collect();
    if layout.has_meta {
        let max = pkg.limits().max_list_items;
        match pkg.read_text(TOSCA_META_PATH) {
            Ok(text) => match ToscaMeta::parse_limited(&text, max) {
                Ok(meta) => layout.meta = Some(meta),
                Err(e) => layout.meta_error = Some(e.to_string()),
            },
            Err(e) => layout.meta_error = Some(e.to_string()),
        }
        layout.entry_definitions = layout
            .meta
            .as_ref()
            .and_then(|m| m.entry_definitions())
            .filter(|e| !e.is_empty())
            .map(str::to_owned);
    } else if let [single] = layout.root_yamls.as_slice() {
        layout.entry_definitions = Some(single.clone());
    }
    let named = layout
        .meta
        .as_ref()
        .and_then(|m| m.entry_manifest())
        .map(str::to_owned);
    let root_mf: Vec<&String> = files
        .iter()
        .filter(|n| !n.contains('/') && n.to_ascii_lowercase().ends_with(".mf"))
        .collect();
    // SOL004 option 2, and ONAP's rule for option 1: the manifest is named after the entry definitions.
    let same_name = layout.entry_definitions.as_deref().and_then(|ed| {
        let wanted = format!("{}.mf", stem(ed));
        root_mf
            .iter()
            .find(|m| ***m == wanted)
            .map(|m| (*m).clone())
    });
    layout.manifest = match (named, root_mf.as_slice()) {
        (Some(m), _) if pkg.entry(&m).is_some() => Ok(m),
        (Some(m), _) => Err((
            codes::NO_MANIFEST,
            format!(
                "TOSCA.meta's ETSI-Entry-Manifest names {m:?}, which the package does not have"
            ),
        )),
        (None, [one]) => Ok((*one).clone()),
        (None, []) => Err((
            codes::NO_MANIFEST,
            "no .mf manifest in the package root".to_owned(),
        )),
        (None, several) => match same_name {
            Some(m) => Ok(m),
            None => Err((
                codes::SEVERAL_MANIFESTS,
                format!(
                    "{} .mf files in the package root ({}), and neither TOSCA.meta's ETSI-Entry-Manifest nor the entry definitions' name says which counts",
                    several.len(),
                    several
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        },
    };
    layout
}

/// The manifest's name (see [`read`]).
pub(crate) fn manifest_name<R: Read + Seek>(
    pkg: &mut Package<R>,
) -> Result<String, (&'static str, String)> {
    read(pkg).manifest
}
