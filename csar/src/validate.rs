//! Validation: every check, collected into a [`Report`] rather than stopping at the first problem.
//!
//! Every byte of every entry is read once, in the archive's order: entries with digests (the manifest's, or a
//! TOSCA.meta `Name:` block's) are hashed with every algorithm asked for in that one pass; the others are read
//! through, so that their CRC and size are checked too. Text files (TOSCA.meta, the manifest, the APPD, charts,
//! image descriptors) are also read into memory, within [`Limits::max_in_memory`].

use crate::appd::{NodeTypes, VNF_TYPE};
use crate::findings::{Finding, Severity, codes};
use crate::layout::{self, Layout};
use crate::limits::Limits;
use crate::manifest::{Algorithm, EDGEGALLERY_METADATA, Manifest};
use crate::meta::TOSCA_META_PATH;
use crate::package::Package;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::{Cursor, Read, Seek};
use std::path::Path;

/// What validation found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// Every finding, in the order found (at most [`Limits::max_findings_per_code`] per code, then one finding
    /// counting the rest).
    pub findings: Vec<Finding>,
    /// Entries in the package.
    pub entries: usize,
    /// Bytes read to check digests.
    pub bytes_hashed: u64,
    /// Findings left out (over the limit per code).
    pub findings_omitted: u64,
    #[serde(skip)]
    cap: usize,
    #[serde(skip)]
    per_code: BTreeMap<&'static str, usize>,
    #[serde(skip)]
    omitted: BTreeMap<&'static str, (u64, Severity)>,
}

impl Default for Report {
    fn default() -> Self {
        Self::new(Limits::default().max_findings_per_code)
    }
}

impl Report {
    fn new(cap: usize) -> Self {
        Self {
            findings: Vec::new(),
            entries: 0,
            bytes_hashed: 0,
            findings_omitted: 0,
            cap,
            per_code: BTreeMap::new(),
            omitted: BTreeMap::new(),
        }
    }

    /// Whether no finding is an error.
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The findings with this code.
    pub fn with_code(&self, code: &str) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.code == code).collect()
    }

    /// Adds a finding, or counts it when its code already has as many as the cap.
    fn add(&mut self, finding: Finding) {
        let count = self.per_code.entry(finding.code).or_default();
        *count += 1;
        if *count > self.cap {
            let o = self
                .omitted
                .entry(finding.code)
                .or_insert((0, finding.severity));
            o.0 += 1;
            o.1 = o.1.min(finding.severity);
            return;
        }
        self.findings.push(finding);
    }

    fn push(
        &mut self,
        code: &'static str,
        severity: Severity,
        entry: Option<&str>,
        message: impl Into<String>,
    ) {
        self.add(Finding::new(
            code,
            severity,
            entry.map(str::to_owned),
            message,
        ));
    }

    /// Closes the report: one finding per code that had more than the cap, counting the rest.
    fn finish(&mut self) {
        for (code, (n, severity)) in std::mem::take(&mut self.omitted) {
            self.findings_omitted += n;
            self.findings.push(Finding::new(
                code,
                severity,
                None,
                format!(
                    "... and {n} more {code} finding(s), not listed (at most {} per code are)",
                    self.cap
                ),
            ));
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        let errors = self
            .findings
            .iter()
            .filter(|x| x.severity == Severity::Error)
            .count();
        let warnings = self
            .findings
            .iter()
            .filter(|x| x.severity == Severity::Warning)
            .count();
        write!(
            f,
            "{}: {} entries, {errors} error(s), {warnings} warning(s)",
            if self.is_valid() { "valid" } else { "invalid" },
            self.entries
        )?;
        if self.findings_omitted > 0 {
            write!(f, ", {} more finding(s) counted", self.findings_omitted)?;
        }
        Ok(())
    }
}

/// Validates the package at `path`.
pub fn validate_path(path: impl AsRef<Path>, limits: &Limits) -> Report {
    match std::fs::File::open(path.as_ref()) {
        Ok(f) => validate(std::io::BufReader::with_capacity(256 * 1024, f), limits),
        Err(e) => {
            let mut report = Report::new(limits.max_findings_per_code);
            report.push(
                codes::NOT_A_ZIP,
                Severity::Error,
                None,
                format!("cannot open {}: {e}", path.as_ref().display()),
            );
            report
        }
    }
}

/// Validates a package read from `reader`. Never panics; every problem is a finding.
pub fn validate<R: Read + Seek>(reader: R, limits: &Limits) -> Report {
    validate_with_progress(reader, limits, &mut |_, _| {})
}

/// As [`validate`], telling `progress(bytes read, bytes to read)` how the pass over the entries advances.
pub fn validate_with_progress<R: Read + Seek>(
    reader: R,
    limits: &Limits,
    progress: &mut dyn FnMut(u64, u64),
) -> Report {
    let mut report = Report::new(limits.max_findings_per_code);
    let mut pkg = match Package::from_reader(reader, limits.clone()) {
        Ok(p) => p,
        Err(e) => {
            report.push(codes::NOT_A_ZIP, Severity::Error, None, e.to_string());
            return report;
        }
    };
    report.entries = pkg.entries().len();
    for f in pkg.structural_findings() {
        report.add(f.clone());
    }
    if let Some(why) = pkg.refusal() {
        let message = format!("nothing of the package was read: {why}");
        report.push(codes::CONTENT_NOT_READ, Severity::Info, None, message);
        report.finish();
        return report;
    }
    let index = Index::of(&pkg);
    let layout = layout::read(&mut pkg);
    let mut plan = Plan::default();
    let entry_definitions = check_meta(&pkg, &layout, &index, &mut report, &mut plan);
    let manifest = check_manifest(&mut pkg, &layout, &index, &mut report, &mut plan);
    read_everything(&mut pkg, &plan, &mut report, progress);
    let edgegallery = manifest.as_ref().is_some_and(is_edgegallery)
        || entry_definitions
            .as_deref()
            .is_some_and(|e| e.to_ascii_lowercase().ends_with(".zip"));
    if let Some(ed) = entry_definitions {
        check_appd(&mut pkg, &ed, edgegallery, &mut report);
    }
    check_images(&mut pkg, &index, &mut report);
    check_charts(&mut pkg, &mut report);
    if edgegallery {
        check_edgegallery_layout(&index, &mut report);
    }
    report.finish();
    report
}

/// The package's names, to answer "is there such a file, or such a directory" without a scan per question.
struct Index {
    files: HashSet<String>,
    dirs: HashSet<String>,
}

impl Index {
    fn of<R: Read + Seek>(pkg: &Package<R>) -> Self {
        let files: HashSet<String> = pkg.files().into_iter().collect();
        let mut dirs = HashSet::new();
        for e in pkg.entries() {
            let name = e.name.trim_end_matches('/');
            if e.is_dir {
                dirs.insert(name.to_owned());
            }
            let mut at = name;
            while let Some((parent, _)) = at.rsplit_once('/') {
                if !dirs.insert(parent.to_owned()) {
                    break;
                }
                at = parent;
            }
        }
        Self { files, dirs }
    }

    fn file(&self, name: &str) -> bool {
        self.files.contains(name)
    }

    fn file_or_dir(&self, name: &str) -> bool {
        self.files.contains(name) || self.dirs.contains(name.trim_end_matches('/'))
    }

    /// Whether a file is the path, or one of the path's ancestors (`Image/vm.zip` holds `Image/vm.zip/disk`).
    fn holds(&self, path: &str) -> bool {
        self.file_or_dir(path)
            || path
                .match_indices('/')
                .any(|(i, _)| self.files.contains(&path[..i]))
    }
}

/// A digest some file must have.
struct Expected {
    algorithm: Algorithm,
    hash: String,
    /// Where it is stated (`demo.mf:12`, `TOSCA-Metadata/TOSCA.meta:7`).
    origin: String,
}

/// The digests to check, per file.
#[derive(Default)]
struct Plan {
    expected: HashMap<String, Vec<Expected>>,
}

impl Plan {
    fn expect(&mut self, file: &str, algorithm: Algorithm, hash: &str, origin: String) {
        self.expected
            .entry(file.to_owned())
            .or_default()
            .push(Expected {
                algorithm,
                hash: hash.to_owned(),
                origin,
            });
    }
}

/// Checks a digest statement (`Algorithm:` and `Hash:`, either possibly missing): reports what is missing or
/// unknown, and plans the check when it can be made. A missing algorithm is inferred from the digest's length
/// (64, 96 or 128 hex digits) so that a wrong digest is still reported as one.
#[allow(clippy::too_many_arguments)]
fn plan_digest(
    plan: &mut Plan,
    report: &mut Report,
    file: &str,
    algorithm: Option<&Algorithm>,
    hash: Option<&str>,
    origin: String,
) {
    let Some(hash) = hash else {
        if algorithm.is_some() {
            report.push(
                codes::HASH_MISSING,
                Severity::Error,
                Some(file),
                format!("{origin} gives an Algorithm but no Hash"),
            );
        }
        return;
    };
    let algorithm = match algorithm {
        Some(Algorithm::Other(a)) => {
            report.push(
                codes::UNKNOWN_ALGORITHM,
                Severity::Error,
                Some(file),
                format!("{origin}: algorithm {a:?} is not SHA-256, SHA-384 or SHA-512"),
            );
            return;
        }
        Some(a) => a.clone(),
        None => {
            report.push(
                codes::ALGORITHM_MISSING,
                Severity::Error,
                Some(file),
                format!("{origin} gives a Hash but no Algorithm"),
            );
            match Algorithm::for_hex_len(hash.len()) {
                Some(a) => a,
                None => return,
            }
        }
    };
    plan.expect(file, algorithm, hash, origin);
}

/// TOSCA.meta (option 1) or the single root YAML (option 2); returns the entry definitions when they exist.
fn check_meta<R: Read + Seek>(
    pkg: &Package<R>,
    layout: &Layout,
    index: &Index,
    report: &mut Report,
    plan: &mut Plan,
) -> Option<String> {
    if !layout.has_meta {
        if layout.entry_definitions.is_none() {
            report.push(
                codes::NO_ENTRY_DEFINITIONS,
                Severity::Error,
                None,
                format!(
                    "no {TOSCA_META_PATH}, and not exactly one YAML file in the package root (found {})",
                    layout.root_yamls.len()
                ),
            );
        }
        return layout.entry_definitions.clone();
    }
    let Some(meta) = &layout.meta else {
        let why = layout.meta_error.clone().unwrap_or_default();
        report.push(
            codes::META_MALFORMED,
            Severity::Error,
            Some(TOSCA_META_PATH),
            why,
        );
        return None;
    };
    for key in [
        "TOSCA-Meta-File-Version",
        "CSAR-Version",
        "Created-By",
        "Entry-Definitions",
    ] {
        if meta.get(key).is_none_or(str::is_empty) {
            report.push(
                codes::META_KEY_MISSING,
                Severity::Error,
                Some(TOSCA_META_PATH),
                format!("block 0 has no {key}"),
            );
        }
    }
    for (key, value) in meta.etsi_entries() {
        if !index.file_or_dir(value) {
            report.push(
                codes::ETSI_ENTRY_MISSING,
                Severity::Error,
                Some(TOSCA_META_PATH),
                format!("{key} names {value:?}, which the package does not have"),
            );
        }
    }
    for e in &meta.entries {
        let origin = format!("{TOSCA_META_PATH}:{}", e.line);
        if !index.file_or_dir(&e.name) {
            // EdgeGallery names files it has not added yet; a block stating a digest asserts the file is there.
            let severity = if e.hash.is_some() {
                Severity::Error
            } else {
                Severity::Warning
            };
            report.push(
                codes::META_NAME_MISSING,
                severity,
                Some(TOSCA_META_PATH),
                format!(
                    "`Name: {}` ({origin}) names no entry of the package",
                    e.name
                ),
            );
            continue;
        }
        if index.file(&e.name) {
            plan_digest(
                plan,
                report,
                &e.name,
                e.algorithm.as_ref(),
                e.hash.as_deref(),
                origin,
            );
        }
    }
    let ed = meta.entry_definitions()?.to_owned();
    if pkg.entry(&ed).is_none() {
        report.push(
            codes::ENTRY_DEFINITIONS_MISSING,
            Severity::Error,
            Some(TOSCA_META_PATH),
            format!("Entry-Definitions {ed:?} names no entry of the package"),
        );
        return None;
    }
    Some(ed)
}

/// Whether a manifest is EdgeGallery's (its metadata keys are `app_*`).
fn is_edgegallery(manifest: &Manifest) -> bool {
    manifest
        .metadata
        .iter()
        .any(|(k, _)| k.to_ascii_lowercase().starts_with("app_"))
}

/// Files no manifest needs to list: the manifest itself, TOSCA.meta, and signatures and certificates.
pub(crate) fn exempt_from_listing(
    file: &str,
    manifest_name: &str,
    layout: &Layout,
    manifest: &Manifest,
) -> bool {
    let lower = file.to_ascii_lowercase();
    file == manifest_name
        || file == TOSCA_META_PATH
        || lower.ends_with(".cert")
        || lower.ends_with(".cms")
        || layout
            .meta
            .as_ref()
            .and_then(|m| m.entry_certificate())
            .is_some_and(|c| c == file)
        || manifest
            .sources
            .iter()
            .any(|s| s.signature.as_deref() == Some(file) || s.certificate.as_deref() == Some(file))
}

fn check_manifest<R: Read + Seek>(
    pkg: &mut Package<R>,
    layout: &Layout,
    index: &Index,
    report: &mut Report,
    plan: &mut Plan,
) -> Option<Manifest> {
    let name = match &layout.manifest {
        Ok(name) => name.clone(),
        Err((code, message)) => {
            report.push(code, Severity::Error, None, message.clone());
            return None;
        }
    };
    let max = pkg.limits().max_list_items;
    let manifest = match pkg
        .read_text(&name)
        .map_err(|e| e.to_string())
        .and_then(|t| Manifest::parse_limited(&t, max).map_err(|e| e.to_string()))
    {
        Ok(m) => m,
        Err(e) => {
            report.push(codes::MANIFEST_MALFORMED, Severity::Error, Some(&name), e);
            return None;
        }
    };
    if is_edgegallery(&manifest) {
        for key in EDGEGALLERY_METADATA {
            if manifest.metadata(key).is_none_or(str::is_empty) {
                report.push(
                    codes::MANIFEST_METADATA_MISSING,
                    Severity::Error,
                    Some(&name),
                    format!("metadata has no {key} (EdgeGallery's AppStore and test platform require it)"),
                );
            }
        }
    } else if manifest.metadata.is_empty() {
        report.push(
            codes::MANIFEST_METADATA_MISSING,
            Severity::Warning,
            Some(&name),
            "the manifest has no metadata block",
        );
    }
    let mut listed: HashMap<&str, usize> = HashMap::new();
    for source in &manifest.sources {
        let path = source.source.as_str();
        if path.contains("://") {
            continue;
        }
        let at = format!("{name}:{}", source.line);
        if let Some(first) = listed.insert(path, source.line) {
            report.push(
                codes::MANIFEST_MALFORMED,
                Severity::Error,
                Some(path),
                format!("listed twice, at {name}:{first} and {at}"),
            );
            continue;
        }
        if !index.file(path) {
            report.push(
                codes::SOURCE_MISSING,
                Severity::Error,
                Some(path),
                format!("listed in {at} but not in the package"),
            );
            continue;
        }
        if source.hash.is_none() {
            report.push(
                codes::HASH_MISSING,
                Severity::Error,
                Some(path),
                format!("{at} gives no Hash"),
            );
            continue;
        }
        plan_digest(
            plan,
            report,
            path,
            source.algorithm.as_ref(),
            source.hash.as_deref(),
            at,
        );
    }
    let in_sets: HashSet<&str> = manifest
        .non_mano_artifact_sets
        .iter()
        .flat_map(|(_, set)| set.iter().map(String::as_str))
        .collect();
    for file in pkg.files() {
        if !listed.contains_key(file.as_str())
            && !in_sets.contains(file.as_str())
            && !exempt_from_listing(&file, &name, layout, &manifest)
        {
            report.push(
                codes::FILE_NOT_LISTED,
                Severity::Warning,
                Some(&file),
                "no manifest entry lists this file, so nothing protects it",
            );
        }
    }
    if manifest.cms.as_ref().is_some_and(|c| !c.is_empty()) {
        report.push(
            codes::SIGNATURE_NOT_VERIFIED,
            Severity::Info,
            Some(&name),
            "the manifest carries a CMS signature; validation does not check it: use `csar verify --trust <anchor>`",
        );
    }
    Some(manifest)
}

/// One pass over every file, in the archive's order: each hashed with the algorithms its digests need (or just
/// read, which checks its CRC and size), then its digests compared.
fn read_everything<R: Read + Seek>(
    pkg: &mut Package<R>,
    plan: &Plan,
    report: &mut Report,
    progress: &mut dyn FnMut(u64, u64),
) {
    let files = pkg.files();
    let total: u64 = files
        .iter()
        .filter_map(|f| pkg.entry(f).map(|e| e.size))
        .sum();
    let mut done: u64 = 0;
    for file in files {
        let expected = plan.expected.get(&file).map(Vec::as_slice).unwrap_or(&[]);
        let mut algorithms: Vec<Algorithm> = Vec::new();
        for e in expected {
            if !algorithms.contains(&e.algorithm) {
                algorithms.push(e.algorithm.clone());
            }
        }
        let digests = pkg.digests(&file, &algorithms, &mut |n| {
            done += n as u64;
            progress(done, total);
        });
        let digests = match digests {
            Ok(d) => d,
            Err(e) => {
                report.push(
                    codes::UNREADABLE_ENTRY,
                    Severity::Error,
                    Some(&file),
                    e.to_string(),
                );
                continue;
            }
        };
        if !algorithms.is_empty() {
            report.bytes_hashed += pkg.entry(&file).map_or(0, |e| e.size);
        }
        for e in expected {
            let Some(actual) = algorithms
                .iter()
                .position(|a| *a == e.algorithm)
                .and_then(|i| digests.get(i))
            else {
                continue;
            };
            if *actual != e.hash {
                report.push(
                    codes::DIGEST_MISMATCH,
                    Severity::Error,
                    Some(&file),
                    format!(
                        "{} digest is {actual}, {} says {}",
                        e.algorithm.as_str(),
                        e.origin,
                        e.hash
                    ),
                );
            }
        }
    }
}

/// The main service template's text: the YAML itself, or (EdgeGallery) the one inside the APPD zip its
/// `TOSCA_VNFD.meta` names. Returns where it is (for findings), its text, and whether its imports can be
/// resolved in the package (not inside a nested zip).
fn appd_yaml<R: Read + Seek>(
    pkg: &mut Package<R>,
    entry: &str,
    report: &mut Report,
) -> Option<(String, String, bool)> {
    let lower = entry.to_ascii_lowercase();
    let unreadable = |report: &mut Report, m: String| {
        report.push(codes::APPD_UNREADABLE, Severity::Error, Some(entry), m);
        None
    };
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        return match pkg.read_text(entry) {
            Ok(t) => Some((entry.to_owned(), t, true)),
            Err(e) => unreadable(report, e.to_string()),
        };
    }
    if !lower.ends_with(".zip") {
        return unreadable(report, "Entry-Definitions is neither YAML nor a zip".into());
    }
    let bytes = match pkg.read(entry) {
        Ok(b) => b,
        Err(e) => return unreadable(report, e.to_string()),
    };
    let mut inner = match Package::from_reader(Cursor::new(bytes), pkg.limits().clone()) {
        Ok(p) => p,
        Err(e) => return unreadable(report, e.to_string()),
    };
    for f in inner.structural_findings() {
        report.add(Finding {
            entry: Some(format!("{entry}!{}", f.entry.clone().unwrap_or_default())),
            ..f.clone()
        });
    }
    let max = pkg.limits().max_list_items;
    let metas: Vec<String> = inner
        .files()
        .into_iter()
        .filter(|n| n.ends_with(".meta"))
        .collect();
    let target = metas.iter().find_map(|m| {
        inner
            .read_text(m)
            .ok()
            .and_then(|t| crate::ToscaMeta::parse_limited(&t, max).ok())
            .and_then(|m| m.entry_definitions().map(str::to_owned))
    });
    let Some(target) = target else {
        return unreadable(
            report,
            "the APPD zip has no .meta file with Entry-Definitions".into(),
        );
    };
    // EdgeGallery's test platform compares the name without regard to case.
    let found = inner
        .files()
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(&target));
    let Some(found) = found else {
        return unreadable(
            report,
            format!("the APPD zip's Entry-Definitions {target:?} is not in it"),
        );
    };
    match inner.read_text(&found) {
        Ok(t) => Some((format!("{entry}!{found}"), t, false)),
        Err(e) => unreadable(report, e.to_string()),
    }
}

/// Resolves an import of the template at `from` to a package path (`imports: [x.yaml]` or `[{file: x.yaml}]`),
/// relative to the template's directory; `None` for URLs and paths leaving the package.
fn import_path(from: &str, import: &Value) -> Option<String> {
    let file = import
        .as_str()
        .or_else(|| import.get("file").and_then(Value::as_str))
        .or_else(|| {
            // `imports: [{name: {file: x}}]` (TOSCA 1.0's named form).
            import
                .as_object()
                .filter(|o| o.len() == 1)
                .and_then(|o| o.values().next())
                .and_then(|v| v.get("file"))
                .and_then(Value::as_str)
        })?;
    if file.contains("://") || file.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in file.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// The node types of a template and of the templates it imports from the package (each read once, at most
/// [`Limits::max_list_items`] of them; imports naming absent files, as EdgeGallery's often do, are skipped).
fn node_types<R: Read + Seek>(pkg: &mut Package<R>, entry: &str, doc: &Value) -> NodeTypes {
    let mut types = NodeTypes::default();
    types.add(doc);
    let limits = pkg.limits().clone();
    let mut seen: HashSet<String> = HashSet::from([entry.to_owned()]);
    let mut queue: Vec<(String, Value)> = vec![(entry.to_owned(), doc.clone())];
    while let Some((from, doc)) = queue.pop() {
        let imports = doc
            .get("imports")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for import in &imports {
            let Some(path) = import_path(&from, import) else {
                continue;
            };
            if seen.len() >= limits.max_list_items || !seen.insert(path.clone()) {
                continue;
            }
            let Ok(text) = pkg.read_text(&path) else {
                continue;
            };
            if let Ok(imported) = crate::yaml::parse(&text, &limits) {
                types.add(&imported);
                queue.push((path, imported));
            }
        }
    }
    types
}

fn check_appd<R: Read + Seek>(
    pkg: &mut Package<R>,
    entry: &str,
    edgegallery: bool,
    report: &mut Report,
) {
    let Some((where_, text, resolvable)) = appd_yaml(pkg, entry, report) else {
        return;
    };
    let doc = match crate::yaml::parse(&text, pkg.limits()) {
        Ok(v) => v,
        Err(e) if e.over_budget => {
            report.push(
                codes::YAML_BUDGET,
                Severity::Error,
                Some(&where_),
                format!("the YAML exceeds the parser's budget: {}", e.message),
            );
            return;
        }
        Err(e) => {
            report.push(
                codes::APPD_UNREADABLE,
                Severity::Error,
                Some(&where_),
                format!("not valid YAML: {}", e.message),
            );
            return;
        }
    };
    if doc
        .get("tosca_definitions_version")
        .and_then(Value::as_str)
        .is_none()
    {
        report.push(
            codes::APPD_MEMBER_MISSING,
            Severity::Error,
            Some(&where_),
            "no tosca_definitions_version",
        );
    }
    let types = if resolvable {
        node_types(pkg, entry, &doc)
    } else {
        let mut t = NodeTypes::default();
        t.add(&doc);
        t
    };
    let nodes = doc
        .pointer("/topology_template/node_templates")
        .and_then(Value::as_object);
    let substituted = doc
        .pointer("/topology_template/substitution_mappings/node_type")
        .and_then(Value::as_str)
        .is_some_and(|t| types.derives_from(t, VNF_TYPE));
    let Some(nodes) = nodes else {
        if !substituted {
            report.push(
                codes::APPD_MEMBER_MISSING,
                Severity::Warning,
                Some(&where_),
                "no topology_template.node_templates",
            );
        }
        return;
    };
    let vnfs = types.vnf_nodes(&doc);
    if vnfs.is_empty() && !substituted {
        report.push(
            codes::APPD_MEMBER_MISSING,
            Severity::Warning,
            Some(&where_),
            "no node of type tosca.nodes.nfv.VNF, or of a type derived from it (the app descriptor)",
        );
    }
    for (node, vnf) in vnfs {
        let has = |member: &str| types.property(vnf, member).is_some();
        // EdgeGallery's APPD (mec010-2 read through EdgeGallery's template) names the identity vnfd_*; SOL001's
        // VNFD (6.8.1, tosca.nodes.nfv.VNF) descriptor_*, possibly fixed by a derived type.
        let eg_form = edgegallery
            && vnf.get("type").and_then(Value::as_str) == Some(VNF_TYPE)
            && !has("descriptor_id");
        let (required, expected): (&[&str], &[&str]) = if eg_form {
            (
                &[
                    "vnfd_id",
                    "provider",
                    "product_name",
                    "software_version",
                    "vnfd_version",
                ],
                &[],
            )
        } else {
            (
                &["descriptor_id", "descriptor_version"],
                &["provider", "product_name", "software_version"],
            )
        };
        for (members, severity) in [(required, Severity::Error), (expected, Severity::Warning)] {
            for member in members {
                if !has(member) {
                    report.push(
                        codes::APPD_MEMBER_MISSING,
                        severity,
                        Some(&where_),
                        format!("the VNF node {node} has no properties.{member}"),
                    );
                }
            }
        }
    }
    let has = |key: &str| text.contains(&format!("{key}:"));
    let computes = nodes
        .values()
        .any(|n| n.get("type").and_then(Value::as_str) == Some("tosca.nodes.nfv.Vdu.Compute"));
    if computes && !(has("num_virtual_cpu") && has("virtual_mem_size")) {
        report.push(
            codes::APPD_NO_COMPUTE,
            Severity::Warning,
            Some(&where_),
            "a VDU describes no num_virtual_cpu or virtual_mem_size",
        );
    }
}

fn check_images<R: Read + Seek>(pkg: &mut Package<R>, index: &Index, report: &mut Report) {
    let descriptors: Vec<String> = pkg
        .files()
        .into_iter()
        .filter(|n| n.ends_with("SwImageDesc.json"))
        .collect();
    let max = pkg.limits().max_list_items;
    for d in descriptors {
        let parsed = pkg
            .read(&d)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string()));
        let images = match parsed {
            Ok(Value::Array(a)) => a,
            Ok(_) => {
                report.push(
                    codes::IMAGE_DESCRIPTOR_INVALID,
                    Severity::Error,
                    Some(&d),
                    "expected a JSON array of images",
                );
                continue;
            }
            Err(e) => {
                report.push(
                    codes::IMAGE_DESCRIPTOR_INVALID,
                    Severity::Error,
                    Some(&d),
                    e,
                );
                continue;
            }
        };
        if images.len() > max {
            report.push(
                codes::IMAGE_DESCRIPTOR_INVALID,
                Severity::Error,
                Some(&d),
                format!(
                    "{} images; at most {max} are read (--max-list-items)",
                    images.len()
                ),
            );
        }
        for (i, image) in images.iter().take(max).enumerate() {
            for member in ["name", "version", "swImage"] {
                if image.get(member).is_none_or(Value::is_null) {
                    report.push(
                        codes::IMAGE_DESCRIPTOR_INVALID,
                        Severity::Error,
                        Some(&d),
                        format!("image [{i}] has no {member}"),
                    );
                }
            }
            // In-package images are referenced as `Image/<zip>/...`: the zip (or the file) must be there.
            if let Some(path) = image
                .get("swImage")
                .and_then(Value::as_str)
                .filter(|p| p.starts_with("Image/"))
                && !index.holds(path)
            {
                report.push(
                    codes::IMAGE_MISSING,
                    Severity::Error,
                    Some(&d),
                    format!("image [{i}] points at {path}, which the package does not have"),
                );
            }
        }
    }
}

fn check_charts<R: Read + Seek>(pkg: &mut Package<R>, report: &mut Report) {
    let charts: Vec<String> = pkg
        .files()
        .into_iter()
        .filter(|n| {
            n.starts_with("Artifacts/Deployment/Charts/")
                && (n.ends_with(".tgz") || n.ends_with(".tar.gz"))
        })
        .collect();
    for chart in charts {
        let bytes = match pkg.read(&chart) {
            Ok(b) => b,
            Err(e) => {
                report.push(
                    codes::CHART_INVALID,
                    Severity::Error,
                    Some(&chart),
                    e.to_string(),
                );
                continue;
            }
        };
        let limit = pkg.limits().max_in_memory;
        let mut archive =
            tar::Archive::new(flate2::read::GzDecoder::new(Cursor::new(bytes)).take(limit));
        let mut names = Vec::new();
        let listed = archive.entries().and_then(|entries| {
            for e in entries {
                let e = e?;
                names.push(e.path()?.to_string_lossy().into_owned());
            }
            Ok(())
        });
        if let Err(e) = listed {
            report.push(
                codes::CHART_INVALID,
                Severity::Error,
                Some(&chart),
                format!("not a valid gzip tarball: {e}"),
            );
            continue;
        }
        let has = |file: &str| {
            names
                .iter()
                .any(|n| n.trim_start_matches("./").split('/').nth(1) == Some(file))
        };
        for required in ["Chart.yaml", "values.yaml", "templates"] {
            if !has(required) {
                report.push(
                    codes::CHART_INCOMPLETE,
                    Severity::Error,
                    Some(&chart),
                    format!("the chart has no {required}"),
                );
            }
        }
    }
}

/// EdgeGallery's test platform (ATP, "APPD / Artifacts File Dir") requires `APPD/` and `Artifacts/` entries.
fn check_edgegallery_layout(index: &Index, report: &mut Report) {
    for dir in ["APPD", "Artifacts"] {
        if !index.dirs.contains(dir) {
            report.push(
                codes::EDGEGALLERY_LAYOUT,
                Severity::Warning,
                None,
                format!(
                    "no {dir}/ directory: EdgeGallery's test platform refuses packages without one"
                ),
            );
        }
    }
}

fn first_error(report: &Report) -> String {
    report
        .findings
        .iter()
        .find(|f| f.severity == Severity::Error)
        .map_or_else(|| "not found".to_owned(), ToString::to_string)
}

/// Reads a package's app descriptor: its entry definitions (TOSCA.meta, or the single root YAML), through
/// EdgeGallery's nested APPD zip when there is one; node types imported from the package are followed.
pub fn read_app_descriptor<R: Read + Seek>(
    pkg: &mut Package<R>,
) -> Result<crate::AppDescriptor, crate::Error> {
    if let Some(why) = pkg.refusal() {
        return Err(crate::Error::Refused(why.to_owned()));
    }
    let mut scratch = Report::new(usize::MAX);
    let layout = layout::read(pkg);
    let entry = layout
        .entry_definitions
        .filter(|e| pkg.entry(e).is_some())
        .ok_or_else(|| {
            crate::Error::Corrupt(
                TOSCA_META_PATH.to_owned(),
                "no entry definitions in the package".into(),
            )
        })?;
    let (where_, text, resolvable) = appd_yaml(pkg, &entry, &mut scratch)
        .ok_or_else(|| crate::Error::Corrupt(entry.clone(), first_error(&scratch)))?;
    let doc = crate::yaml::parse(&text, pkg.limits())
        .map_err(|e| crate::Error::Corrupt(where_, e.message))?;
    let types = if resolvable {
        node_types(pkg, &entry, &doc)
    } else {
        let mut t = NodeTypes::default();
        t.add(&doc);
        t
    };
    Ok(crate::AppDescriptor::from_template_with_types(&doc, &types))
}

/// Reads a package's image descriptors (every `SwImageDesc.json`).
pub fn read_images<R: Read + Seek>(
    pkg: &mut Package<R>,
) -> Result<Vec<crate::SwImageDesc>, crate::Error> {
    let mut all = Vec::new();
    for d in pkg
        .files()
        .into_iter()
        .filter(|n| n.ends_with("SwImageDesc.json"))
    {
        let bytes = pkg.read(&d)?;
        let images: Vec<crate::SwImageDesc> = serde_json::from_slice(&bytes)
            .map_err(|e| crate::Error::Corrupt(d.clone(), e.to_string()))?;
        all.extend(images);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_capped_per_code_and_the_rest_counted() {
        let mut r = Report::new(2);
        for i in 0..5 {
            r.push(
                codes::FILE_NOT_LISTED,
                Severity::Warning,
                Some(&format!("f{i}")),
                "x",
            );
        }
        r.push(codes::DIGEST_MISMATCH, Severity::Error, None, "y");
        r.finish();
        assert_eq!(r.with_code(codes::FILE_NOT_LISTED).len(), 3);
        assert_eq!(r.findings_omitted, 3);
        let last = r.findings.last().unwrap();
        assert!(last.message.contains("3 more CSAR035"), "{last}");
        assert_eq!(last.severity, Severity::Warning);
    }

    #[test]
    fn imports_resolve_relative_to_the_template() {
        let v = |s: &str| Value::String(s.to_owned());
        assert_eq!(
            import_path("Definitions/top.yaml", &v("types.yaml")).as_deref(),
            Some("Definitions/types.yaml")
        );
        assert_eq!(
            import_path("Definitions/top.yaml", &v("../Common/t.yaml")).as_deref(),
            Some("Common/t.yaml")
        );
        assert_eq!(import_path("top.yaml", &v("../../x.yaml")), None);
        assert_eq!(import_path("top.yaml", &v("https://x/y.yaml")), None);
        assert_eq!(
            import_path("a/t.yaml", &serde_json::json!({"file": "b.yaml"})).as_deref(),
            Some("a/b.yaml")
        );
    }
}
