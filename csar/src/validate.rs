//! Validation: every check, collected into a [`Report`] rather than stopping at the first problem.

use crate::findings::{Finding, Severity, codes};
use crate::manifest::{Algorithm, EDGEGALLERY_METADATA, Manifest};
use crate::meta::{TOSCA_META_PATH, ToscaMeta};
use crate::package::{Limits, Package};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;
use std::io::{Cursor, Read, Seek};
use std::path::Path;

/// What validation found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Every finding, in the order found.
    pub findings: Vec<Finding>,
    /// Entries in the package.
    pub entries: usize,
    /// Bytes read to check digests.
    pub bytes_hashed: u64,
}

impl Report {
    /// Whether no finding is an error.
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The findings with this code.
    pub fn with_code(&self, code: &str) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.code == code).collect()
    }

    fn push(
        &mut self,
        code: &'static str,
        severity: Severity,
        entry: Option<&str>,
        message: impl Into<String>,
    ) {
        self.findings.push(Finding::new(
            code,
            severity,
            entry.map(str::to_owned),
            message,
        ));
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
        )
    }
}

/// Validates the package at `path`.
pub fn validate_path(path: impl AsRef<Path>, limits: &Limits) -> Report {
    match std::fs::File::open(path.as_ref()) {
        Ok(f) => validate(std::io::BufReader::new(f), limits),
        Err(e) => Report {
            findings: vec![Finding::new(
                codes::NOT_A_ZIP,
                Severity::Error,
                None,
                format!("cannot open {}: {e}", path.as_ref().display()),
            )],
            ..Report::default()
        },
    }
}

/// Validates a package read from `reader`. Never panics; every problem is a finding.
pub fn validate<R: Read + Seek>(reader: R, limits: &Limits) -> Report {
    validate_with_progress(reader, limits, &mut |_, _| {})
}

/// As [`validate`], telling `progress(bytes hashed, bytes to hash)` how the digest checks advance.
pub fn validate_with_progress<R: Read + Seek>(
    reader: R,
    limits: &Limits,
    progress: &mut dyn FnMut(u64, u64),
) -> Report {
    let mut report = Report::default();
    let mut pkg = match Package::from_reader(reader, limits.clone()) {
        Ok(p) => p,
        Err(e) => {
            report.push(codes::NOT_A_ZIP, Severity::Error, None, e.to_string());
            return report;
        }
    };
    report.entries = pkg.entries().len();
    report
        .findings
        .extend(pkg.structural_findings().iter().cloned());

    let entry_definitions = check_meta(&mut pkg, &mut report);
    check_manifest(&mut pkg, &mut report, progress);
    if let Some(ed) = entry_definitions {
        check_appd(&mut pkg, &ed, &mut report);
    }
    check_images(&mut pkg, &mut report);
    check_charts(&mut pkg, &mut report);
    report
}

fn files<R: Read + Seek>(pkg: &Package<R>) -> Vec<String> {
    pkg.entries()
        .iter()
        .filter(|e| e.safe && !e.is_dir)
        .map(|e| e.name.clone())
        .collect()
}

/// TOSCA.meta (option 1) or the single root YAML (option 2); returns the entry definitions when they exist.
fn check_meta<R: Read + Seek>(pkg: &mut Package<R>, report: &mut Report) -> Option<String> {
    if pkg.entry(TOSCA_META_PATH).is_none() {
        let roots: Vec<String> = files(pkg)
            .into_iter()
            .filter(|n| !n.contains('/') && (n.ends_with(".yaml") || n.ends_with(".yml")))
            .collect();
        if let [single] = roots.as_slice() {
            return Some(single.clone());
        }
        report.push(
            codes::NO_ENTRY_DEFINITIONS,
            Severity::Error,
            None,
            format!("no {TOSCA_META_PATH}, and not exactly one YAML file in the package root (found {})", roots.len()),
        );
        return None;
    }
    let text = match pkg.read_text(TOSCA_META_PATH) {
        Ok(t) => t,
        Err(e) => {
            report.push(
                codes::META_MALFORMED,
                Severity::Error,
                Some(TOSCA_META_PATH),
                e.to_string(),
            );
            return None;
        }
    };
    let meta = match ToscaMeta::parse(&text) {
        Ok(m) => m,
        Err(e) => {
            report.push(
                codes::META_MALFORMED,
                Severity::Error,
                Some(TOSCA_META_PATH),
                e.to_string(),
            );
            return None;
        }
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
    for e in &meta.entries {
        if pkg.entry(&e.name).is_none()
            && !pkg
                .entries()
                .iter()
                .any(|x| x.name.starts_with(&format!("{}/", e.name)))
        {
            report.push(
                codes::META_NAME_MISSING,
                Severity::Warning,
                Some(TOSCA_META_PATH),
                format!("`Name: {}` names no entry of the package", e.name),
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

fn check_manifest<R: Read + Seek>(
    pkg: &mut Package<R>,
    report: &mut Report,
    progress: &mut dyn FnMut(u64, u64),
) {
    let all = files(pkg);
    let manifests: Vec<String> = all
        .iter()
        .filter(|n| !n.contains('/') && n.ends_with(".mf"))
        .cloned()
        .collect();
    let name = match manifests.as_slice() {
        [] => {
            report.push(
                codes::NO_MANIFEST,
                Severity::Error,
                None,
                "no .mf manifest in the package root",
            );
            return;
        }
        [one] => one.clone(),
        several => {
            report.push(
                codes::SEVERAL_MANIFESTS,
                Severity::Error,
                None,
                format!(
                    "{} .mf files in the package root ({}); there must be one",
                    several.len(),
                    several.join(", ")
                ),
            );
            return;
        }
    };
    let manifest = match pkg
        .read_text(&name)
        .map_err(|e| e.to_string())
        .and_then(|t| Manifest::parse(&t).map_err(|e| e.to_string()))
    {
        Ok(m) => m,
        Err(e) => {
            report.push(codes::MANIFEST_MALFORMED, Severity::Error, Some(&name), e);
            return;
        }
    };
    let edgegallery = manifest
        .metadata
        .iter()
        .any(|(k, _)| k.to_ascii_lowercase().starts_with("app_"));
    if edgegallery {
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
    let mut listed = HashSet::new();
    let to_hash: u64 = manifest
        .sources
        .iter()
        .filter_map(|s| pkg.entry(&s.source).map(|e| e.size))
        .sum();
    let mut hashed: u64 = 0;
    for source in &manifest.sources {
        let path = source.source.clone();
        if path.contains("://") {
            continue;
        }
        listed.insert(path.clone());
        let at = format!("{name}:{}", source.line);
        if pkg.entry(&path).is_none() {
            report.push(
                codes::SOURCE_MISSING,
                Severity::Error,
                Some(&path),
                format!("listed in {at} but not in the package"),
            );
            continue;
        }
        let Some(expected) = &source.hash else {
            report.push(
                codes::HASH_MISSING,
                Severity::Error,
                Some(&path),
                format!("{at} gives no Hash"),
            );
            continue;
        };
        // EdgeGallery writes and checks SHA-256 only and ignores Algorithm; a missing one is read as SHA-256.
        let algorithm = source.algorithm.clone().unwrap_or(Algorithm::Sha256);
        if let Algorithm::Other(a) = &algorithm {
            report.push(
                codes::UNKNOWN_ALGORITHM,
                Severity::Error,
                Some(&path),
                format!("{at}: algorithm {a:?} is not SHA-256, SHA-384 or SHA-512"),
            );
            continue;
        }
        let size = pkg.entry(&path).map_or(0, |e| e.size);
        let digest = pkg.digest_observed(&path, &algorithm, &mut |n| {
            hashed += n as u64;
            progress(hashed, to_hash);
        });
        match digest {
            Ok(actual) if &actual == expected => report.bytes_hashed += size,
            Ok(actual) => {
                report.bytes_hashed += size;
                report.push(
                    codes::DIGEST_MISMATCH,
                    Severity::Error,
                    Some(&path),
                    format!(
                        "{} digest is {actual}, the manifest ({at}) says {expected}",
                        algorithm.as_str()
                    ),
                );
            }
            Err(e) => report.push(
                codes::UNREADABLE_ENTRY,
                Severity::Error,
                Some(&path),
                e.to_string(),
            ),
        }
    }
    for (_, set) in &manifest.non_mano_artifact_sets {
        listed.extend(set.iter().cloned());
    }
    for file in all {
        let exempt = file == name
            || file == TOSCA_META_PATH
            || file.ends_with(".cert")
            || file.ends_with(".cms")
            || file.ends_with(".sig.cms");
        if !exempt && !listed.contains(&file) {
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
}

/// Parses YAML within the parser's budget (alias, depth and size limits) into JSON values.
fn parse_yaml(text: &str) -> Result<Value, (bool, String)> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| {
        let message = e.to_string();
        let lower = message.to_ascii_lowercase();
        let budget = lower.contains("budget") || lower.contains("alias") || lower.contains("limit");
        (budget, message)
    })
}

/// Finds the main service template: the YAML itself, or (EdgeGallery) inside the APPD zip via its
/// `TOSCA_VNFD.meta`.
fn appd_yaml<R: Read + Seek>(
    pkg: &mut Package<R>,
    entry: &str,
    report: &mut Report,
) -> Option<(String, String)> {
    let lower = entry.to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        return match pkg.read_text(entry) {
            Ok(t) => Some((entry.to_owned(), t)),
            Err(e) => {
                report.push(
                    codes::APPD_UNREADABLE,
                    Severity::Error,
                    Some(entry),
                    e.to_string(),
                );
                None
            }
        };
    }
    if !lower.ends_with(".zip") {
        report.push(
            codes::APPD_UNREADABLE,
            Severity::Error,
            Some(entry),
            "Entry-Definitions is neither YAML nor a zip",
        );
        return None;
    }
    let bytes = match pkg.read(entry) {
        Ok(b) => b,
        Err(e) => {
            report.push(
                codes::APPD_UNREADABLE,
                Severity::Error,
                Some(entry),
                e.to_string(),
            );
            return None;
        }
    };
    let mut inner = match Package::from_reader(Cursor::new(bytes), pkg.limits().clone()) {
        Ok(p) => p,
        Err(e) => {
            report.push(
                codes::APPD_UNREADABLE,
                Severity::Error,
                Some(entry),
                e.to_string(),
            );
            return None;
        }
    };
    for f in inner.structural_findings() {
        report.findings.push(Finding {
            entry: Some(format!("{entry}!{}", f.entry.clone().unwrap_or_default())),
            ..f.clone()
        });
    }
    let metas: Vec<String> = files(&inner)
        .into_iter()
        .filter(|n| n.ends_with(".meta"))
        .collect();
    let target = metas.iter().find_map(|m| {
        inner
            .read_text(m)
            .ok()
            .and_then(|t| ToscaMeta::parse(&t).ok())
            .and_then(|m| m.entry_definitions().map(str::to_owned))
    });
    let Some(target) = target else {
        report.push(
            codes::APPD_UNREADABLE,
            Severity::Error,
            Some(entry),
            "the APPD zip has no .meta file with Entry-Definitions",
        );
        return None;
    };
    // EdgeGallery's test platform compares the name without regard to case.
    let found = files(&inner)
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(&target));
    let Some(found) = found else {
        report.push(
            codes::APPD_UNREADABLE,
            Severity::Error,
            Some(entry),
            format!("the APPD zip's Entry-Definitions {target:?} is not in it"),
        );
        return None;
    };
    match inner.read_text(&found) {
        Ok(t) => Some((format!("{entry}!{found}"), t)),
        Err(e) => {
            report.push(
                codes::APPD_UNREADABLE,
                Severity::Error,
                Some(entry),
                e.to_string(),
            );
            None
        }
    }
}

fn check_appd<R: Read + Seek>(pkg: &mut Package<R>, entry: &str, report: &mut Report) {
    let Some((where_, text)) = appd_yaml(pkg, entry, report) else {
        return;
    };
    let doc = match parse_yaml(&text) {
        Ok(v) => v,
        Err((true, e)) => {
            report.push(
                codes::YAML_BUDGET,
                Severity::Error,
                Some(&where_),
                format!("the YAML exceeds the parser's budget: {e}"),
            );
            return;
        }
        Err((false, e)) => {
            report.push(
                codes::APPD_UNREADABLE,
                Severity::Error,
                Some(&where_),
                format!("not valid YAML: {e}"),
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
    let nodes = doc
        .pointer("/topology_template/node_templates")
        .and_then(Value::as_object);
    let Some(nodes) = nodes else {
        report.push(
            codes::APPD_MEMBER_MISSING,
            Severity::Warning,
            Some(&where_),
            "no topology_template.node_templates",
        );
        return;
    };
    let vnf = nodes
        .values()
        .find(|n| n.get("type").and_then(Value::as_str) == Some("tosca.nodes.nfv.VNF"));
    match vnf {
        None => report.push(
            codes::APPD_MEMBER_MISSING,
            Severity::Warning,
            Some(&where_),
            "no node of type tosca.nodes.nfv.VNF (the app descriptor)",
        ),
        Some(v) => {
            for member in [
                "vnfd_id",
                "provider",
                "product_name",
                "software_version",
                "vnfd_version",
            ] {
                if v.pointer(&format!("/properties/{member}"))
                    .is_none_or(Value::is_null)
                {
                    report.push(
                        codes::APPD_MEMBER_MISSING,
                        Severity::Error,
                        Some(&where_),
                        format!("the VNF node has no properties.{member}"),
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

fn check_images<R: Read + Seek>(pkg: &mut Package<R>, report: &mut Report) {
    let descriptors: Vec<String> = files(pkg)
        .into_iter()
        .filter(|n| n.ends_with("SwImageDesc.json"))
        .collect();
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
        for (i, image) in images.iter().enumerate() {
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
            {
                let exists = pkg.entries().iter().any(|e| {
                    e.safe
                        && (e.name == path
                            || path.starts_with(&format!("{}/", e.name))
                            || e.name.starts_with(&format!("{path}/")))
                });
                if !exists {
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
}

fn check_charts<R: Read + Seek>(pkg: &mut Package<R>, report: &mut Report) {
    let charts: Vec<String> = files(pkg)
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

fn first_error(report: &Report) -> String {
    report
        .findings
        .iter()
        .find(|f| f.severity == Severity::Error)
        .map_or_else(|| "not found".to_owned(), ToString::to_string)
}

/// Reads a package's app descriptor: its entry definitions (TOSCA.meta, or the single root YAML), through
/// EdgeGallery's nested APPD zip when there is one.
pub fn read_app_descriptor<R: Read + Seek>(
    pkg: &mut Package<R>,
) -> Result<crate::AppDescriptor, crate::Error> {
    let mut scratch = Report::default();
    let entry = check_meta(pkg, &mut scratch)
        .ok_or_else(|| crate::Error::Corrupt(TOSCA_META_PATH.to_owned(), first_error(&scratch)))?;
    let (where_, text) = appd_yaml(pkg, &entry, &mut scratch)
        .ok_or_else(|| crate::Error::Corrupt(entry.clone(), first_error(&scratch)))?;
    let doc = parse_yaml(&text).map_err(|(_, e)| crate::Error::Corrupt(where_, e))?;
    Ok(crate::AppDescriptor::from_template(&doc))
}

/// Reads a package's image descriptors (every `SwImageDesc.json`).
pub fn read_images<R: Read + Seek>(
    pkg: &mut Package<R>,
) -> Result<Vec<crate::SwImageDesc>, crate::Error> {
    let mut all = Vec::new();
    for d in files(pkg)
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
