//! Building packages: TOSCA.meta, the manifest with digests, and a deterministic zip (sorted entries, fixed
//! timestamps and permissions), so the same inputs give the same bytes.
//!
//! A package laid out in a directory ([`PackageBuilder::from_dir`], `csar pack`) is repacked without being
//! changed silently: its TOSCA.meta and manifest are kept byte for byte when the files they describe are
//! unchanged (keys, `Name:`-block digests, `non_mano_artifact_sets`, per-artifact lines and the CMS signature
//! included); when files changed, only their digests are rewritten, and a signed package is refused unless a
//! key is given to sign it again. Files over 4 GiB are written as ZIP64 entries.

use crate::Error;
use crate::layout::stem;
use crate::manifest::{Algorithm, Digests, Manifest, SourceEntry};
use crate::meta::{MetaEntry, TOSCA_META_PATH, ToscaMeta, rewrite_hashes};
use crate::package::safe_relative_path;
use crate::sign::sign_manifest;
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;

/// From this many bytes an entry is written as ZIP64 (sizes of 4 GiB and over do not fit the 32-bit fields;
/// the margin covers deflate's worst-case growth of incompressible data, 5 bytes per 16 KiB block).
pub(crate) const ZIP64_FROM: u64 = u32::MAX as u64 - (16 << 20);

/// Whether an entry of `size` bytes needs ZIP64 fields.
pub(crate) fn needs_zip64(size: u64) -> bool {
    size >= ZIP64_FROM
}

/// Where a file's bytes come from.
#[derive(Clone, Debug)]
enum Content {
    Bytes(Vec<u8>),
    File(PathBuf),
}

impl Content {
    fn len(&self) -> Result<u64, Error> {
        match self {
            Self::Bytes(b) => Ok(b.len() as u64),
            Self::File(p) => std::fs::metadata(p)
                .map(|m| m.len())
                .map_err(|e| Error::Io {
                    path: p.display().to_string(),
                    source: e,
                }),
        }
    }
}

/// The TOSCA.meta and manifest of a package being repacked, as they were.
#[derive(Clone, Debug)]
struct Original {
    meta_text: Option<String>,
    manifest_name: String,
    manifest_text: String,
    manifest: Manifest,
}

/// What writing a package did to its manifest (repacking a directory).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Written {
    /// Files whose digests were rewritten because their content changed.
    pub changed: Vec<String>,
    /// Manifest entries dropped because their files are gone.
    pub removed: Vec<String>,
    /// Whether the manifest was signed as it was written.
    pub signed: bool,
}

/// Builds a package.
#[derive(Clone, Debug)]
#[must_use]
pub struct PackageBuilder {
    name: String,
    metadata: Vec<(String, String)>,
    files: BTreeMap<String, Content>,
    entry_definitions: Option<String>,
    meta_entries: Vec<MetaEntry>,
    without_meta: bool,
    original: Option<Original>,
    signer: Option<(String, String)>,
}

/// The algorithm of a digest statement: as written, or inferred from the digest's length.
fn algorithm_of(algorithm: Option<&Algorithm>, hash: &str) -> Option<Algorithm> {
    match algorithm {
        Some(Algorithm::Other(_)) => None,
        Some(a) => Some(a.clone()),
        None => Algorithm::for_hex_len(hash.len()),
    }
}

impl PackageBuilder {
    /// A package whose manifest is `<name>.mf`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            metadata: Vec::new(),
            files: BTreeMap::new(),
            entry_definitions: None,
            meta_entries: Vec::new(),
            without_meta: false,
            original: None,
            signer: None,
        }
    }

    /// Adds a manifest metadata line (`app_product_name`, `app_provider_id`, ...).
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// Adds a file from memory at `path` (a `/`-separated path inside the package).
    pub fn file(mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        self.files.insert(path.into(), Content::Bytes(bytes.into()));
        self
    }

    /// Adds a file read from disk when the package is written (streamed, never loaded whole).
    pub fn file_from_disk(mut self, path: impl Into<String>, source: impl Into<PathBuf>) -> Self {
        self.files.insert(path.into(), Content::File(source.into()));
        self
    }

    /// Sets `Entry-Definitions` (the APPD zip or the main service template).
    pub fn entry_definitions(mut self, path: impl Into<String>) -> Self {
        self.entry_definitions = Some(path.into());
        self
    }

    /// Adds a `Name:`/`Content-Type:` block to TOSCA.meta.
    pub fn meta_entry(mut self, name: impl Into<String>, content_type: impl Into<String>) -> Self {
        self.meta_entries.push(MetaEntry::new(name, content_type));
        self
    }

    /// Lays the package out as ETSI GS NFV-SOL 004 option 2: no TOSCA-Metadata directory; the entry definitions
    /// are a YAML file in the root, and the manifest is the `.mf` of the same name beside it.
    pub fn without_tosca_metadata(mut self) -> Self {
        self.without_meta = true;
        self
    }

    /// Signs the manifest as it is written (EdgeGallery's CMS form, see [`sign_manifest`]) with a PEM
    /// certificate and its PEM (PKCS #8) RSA key. Repacking a signed package whose content changed needs it.
    pub fn sign_with(
        mut self,
        certificate_pem: impl Into<String>,
        key_pem: impl Into<String>,
    ) -> Self {
        self.signer = Some((certificate_pem.into(), key_pem.into()));
        self
    }

    /// A builder for the package laid out in `dir`: every file under it; its TOSCA.meta and manifest kept as
    /// they are (see the module's documentation); without TOSCA.meta and with one YAML in the root, an option 2
    /// package. Symbolic links are refused.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "package".to_owned());
        let mut builder = Self::new(name);
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let read = std::fs::read_dir(&d).map_err(|e| Error::Io {
                path: d.display().to_string(),
                source: e,
            })?;
            for entry in read {
                let entry = entry.map_err(|e| Error::Io {
                    path: d.display().to_string(),
                    source: e,
                })?;
                let path = entry.path();
                let kind = entry.file_type().map_err(|e| Error::Io {
                    path: path.display().to_string(),
                    source: e,
                })?;
                if kind.is_symlink() {
                    return Err(Error::Build(format!(
                        "{} is a symbolic link",
                        path.display()
                    )));
                }
                if kind.is_dir() {
                    stack.push(path);
                    continue;
                }
                let rel = path.strip_prefix(dir).map_err(|_| {
                    Error::Build(format!("{} is outside {}", path.display(), dir.display()))
                })?;
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                builder.files.insert(rel, Content::File(path));
            }
        }
        let read_text = |rel: &str| {
            std::fs::read_to_string(dir.join(rel)).map_err(|e| Error::Io {
                path: rel.to_owned(),
                source: e,
            })
        };
        let meta_text = match builder.files.remove(TOSCA_META_PATH) {
            Some(_) => Some(read_text(TOSCA_META_PATH)?),
            None => None,
        };
        let meta = meta_text.as_deref().map(ToscaMeta::parse).transpose()?;
        let root_yaml: Vec<String> = builder
            .files
            .keys()
            .filter(|k| !k.contains('/') && (k.ends_with(".yaml") || k.ends_with(".yml")))
            .cloned()
            .collect();
        match (&meta, root_yaml.as_slice()) {
            (Some(m), _) => {
                builder.entry_definitions = m.entry_definitions().map(str::to_owned);
                builder.meta_entries = m.entries.clone();
            }
            (None, [single]) => {
                builder.without_meta = true;
                builder.entry_definitions = Some(single.clone());
            }
            (None, _) => {}
        }
        let root_mf: Vec<String> = builder
            .files
            .keys()
            .filter(|k| !k.contains('/') && k.ends_with(".mf"))
            .cloned()
            .collect();
        let named = meta
            .as_ref()
            .and_then(|m| m.entry_manifest())
            .map(str::to_owned);
        let same_name = builder
            .entry_definitions
            .as_deref()
            .map(|e| format!("{}.mf", stem(e)))
            .filter(|m| root_mf.contains(m));
        let manifest_name = match (named, same_name, root_mf.as_slice()) {
            (Some(m), _, _) => Some(m),
            (None, Some(m), _) => Some(m),
            (None, None, [one]) => Some(one.clone()),
            (None, None, []) => None,
            (None, None, several) => {
                return Err(Error::Build(format!(
                    "several manifests in the root ({}) and TOSCA.meta names none",
                    several.join(", ")
                )));
            }
        };
        if let Some(mf) = manifest_name {
            if builder.files.remove(&mf).is_none() {
                return Err(Error::Build(format!(
                    "TOSCA.meta's ETSI-Entry-Manifest names {mf}, which {} does not have",
                    dir.display()
                )));
            }
            let text = read_text(&mf)?;
            let manifest =
                Manifest::parse(&text).map_err(|e| Error::Build(format!("{mf}: {e}")))?;
            builder.metadata = manifest.metadata.clone();
            builder.name = stem(mf.rsplit('/').next().unwrap_or(&mf)).to_owned();
            builder.original = Some(Original {
                meta_text,
                manifest_name: mf,
                manifest_text: text,
                manifest,
            });
        } else if let Some(text) = meta_text {
            // A TOSCA.meta without a manifest: kept as it is; the manifest is made.
            builder.original = Some(Original {
                meta_text: Some(text),
                manifest_name: String::new(),
                manifest_text: String::new(),
                manifest: Manifest::default(),
            });
        }
        Ok(builder)
    }

    /// Writes the package: the files in path order, then TOSCA.meta and the manifest, all with the zip epoch as
    /// time stamp. Fails on unsafe paths and on a missing `Entry-Definitions` target.
    pub fn write<W: Write + Seek>(self, out: W) -> Result<W, Error> {
        self.write_with_progress(out, &mut |_, _| {})
    }

    /// As [`write`](Self::write), telling `progress(bytes written, bytes to write)` how it advances (files from
    /// memory and from disk alike).
    pub fn write_with_progress<W: Write + Seek>(
        self,
        out: W,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<W, Error> {
        self.write_inner(out, progress).map(|(w, _)| w)
    }

    /// Writes the package to `path` through a temporary file beside it, renamed into place once complete: a
    /// failure leaves no partial package (and an existing file at `path` untouched).
    pub fn write_to_path(
        self,
        path: impl AsRef<Path>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Written, Error> {
        let mut written = Written::default();
        write_file_atomically(path.as_ref(), |out| {
            written = self.write_inner(out, progress)?.1;
            Ok(())
        })?;
        Ok(written)
    }

    fn write_inner<W: Write + Seek>(
        self,
        out: W,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(W, Written), Error> {
        for path in self.files.keys() {
            if safe_relative_path(path).is_none() || path.starts_with('/') {
                return Err(Error::Build(format!("unsafe path {path:?}")));
            }
        }
        let entry = self
            .entry_definitions
            .clone()
            .ok_or_else(|| Error::Build("no Entry-Definitions given".into()))?;
        if !self.files.contains_key(&entry) {
            return Err(Error::Build(format!(
                "Entry-Definitions {entry:?} is not among the files"
            )));
        }
        if self.without_meta {
            let lower = entry.to_ascii_lowercase();
            if entry.contains('/') || !(lower.ends_with(".yaml") || lower.ends_with(".yml")) {
                return Err(Error::Build(format!(
                    "without TOSCA-Metadata, the entry definitions must be a YAML file in the root, not {entry:?}"
                )));
            }
            if self.files.keys().any(|k| k.starts_with("TOSCA-Metadata/")) {
                return Err(Error::Build(
                    "without TOSCA-Metadata, the package cannot hold a TOSCA-Metadata directory"
                        .into(),
                ));
            }
        }
        let original = self
            .original
            .clone()
            .filter(|o| !o.manifest_name.is_empty());
        let manifest_name = match (&original, self.without_meta) {
            (Some(o), _) => o.manifest_name.clone(),
            (None, true) => format!("{}.mf", stem(&entry)),
            (None, false) => format!("{}.mf", self.name),
        };
        if self.files.contains_key(&manifest_name) {
            return Err(Error::Build(format!(
                "{manifest_name} is written by the builder and cannot also be a file"
            )));
        }
        // Digests each file needs besides SHA-256: those of the manifest and TOSCA.meta being kept.
        let mut wanted: HashMap<String, Vec<Algorithm>> = HashMap::new();
        if let Some(o) = &original {
            for s in &o.manifest.sources {
                if let Some(a) = s
                    .hash
                    .as_deref()
                    .and_then(|h| algorithm_of(s.algorithm.as_ref(), h))
                {
                    wanted.entry(s.source.clone()).or_default().push(a);
                }
            }
        }
        let original_meta = self
            .original
            .as_ref()
            .and_then(|o| o.meta_text.as_deref())
            .map(ToscaMeta::parse)
            .transpose()?;
        for e in original_meta.iter().flat_map(|m| &m.entries) {
            if let Some(a) = e
                .hash
                .as_deref()
                .and_then(|h| algorithm_of(e.algorithm.as_ref(), h))
            {
                wanted.entry(e.name.clone()).or_default().push(a);
            }
        }

        let mut total = 0u64;
        let mut sizes = HashMap::new();
        for (path, content) in &self.files {
            let len = content.len()?;
            total += len;
            sizes.insert(path.clone(), len);
        }
        let mut done: u64 = 0;
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        let mut zip = zip::ZipWriter::new(out);
        let mut buf = vec![0u8; 256 * 1024];
        let mut digests: HashMap<String, HashMap<Algorithm, String>> = HashMap::new();
        for (path, content) in &self.files {
            let size = sizes.get(path).copied().unwrap_or(0);
            zip.start_file(path.as_str(), options.large_file(needs_zip64(size)))
                .map_err(|e| Error::Build(format!("{path}: {e}")))?;
            let mut d = Digests::new(
                std::iter::once(&Algorithm::Sha256).chain(wanted.get(path).into_iter().flatten()),
            );
            match content {
                Content::Bytes(b) => {
                    for chunk in b.chunks(buf.len()) {
                        d.update(chunk);
                        zip.write_all(chunk).map_err(|e| Error::Io {
                            path: path.clone(),
                            source: e,
                        })?;
                        done += chunk.len() as u64;
                        progress(done, total);
                    }
                }
                Content::File(p) => {
                    let mut f = std::fs::File::open(p).map_err(|e| Error::Io {
                        path: p.display().to_string(),
                        source: e,
                    })?;
                    loop {
                        let n = f.read(&mut buf).map_err(|e| Error::Io {
                            path: p.display().to_string(),
                            source: e,
                        })?;
                        let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                            break;
                        };
                        d.update(chunk);
                        zip.write_all(chunk).map_err(|e| Error::Io {
                            path: path.clone(),
                            source: e,
                        })?;
                        done += chunk.len() as u64;
                        progress(done, total);
                    }
                }
            }
            digests.insert(path.clone(), d.finish());
        }

        let digest_of =
            |digests: &HashMap<String, HashMap<Algorithm, String>>, file: &str, a: &Algorithm| {
                digests.get(file).and_then(|d| d.get(a)).cloned()
            };
        let mut written = Written::default();
        if !self.without_meta {
            let text = match self.original.as_ref().and_then(|o| o.meta_text.as_deref()) {
                Some(text) => {
                    let blocks: HashMap<&str, &MetaEntry> = original_meta
                        .iter()
                        .flat_map(|m| &m.entries)
                        .map(|e| (e.name.as_str(), e))
                        .collect();
                    rewrite_hashes(text, &|name| {
                        let e = blocks.get(name)?;
                        let hash = e.hash.as_deref()?;
                        let a = algorithm_of(e.algorithm.as_ref(), hash)?;
                        digest_of(&digests, name, &a).filter(|new| new != hash)
                    })
                }
                None => {
                    let mut meta = ToscaMeta::new(&entry);
                    meta.entries = self.meta_entries.clone();
                    meta.to_string()
                }
            };
            if let Some(meta) = &original_meta {
                for e in &meta.entries {
                    let changed = e.hash.as_deref().is_some_and(|h| {
                        algorithm_of(e.algorithm.as_ref(), h)
                            .and_then(|a| digest_of(&digests, &e.name, &a))
                            .is_some_and(|new| new != h)
                    });
                    if changed {
                        written
                            .changed
                            .push(format!("{} ({TOSCA_META_PATH})", e.name));
                    }
                }
            }
            zip.start_file(TOSCA_META_PATH, options)
                .map_err(|e| Error::Build(format!("{TOSCA_META_PATH}: {e}")))?;
            zip.write_all(text.as_bytes()).map_err(|e| Error::Io {
                path: TOSCA_META_PATH.to_owned(),
                source: e,
            })?;
            let mut d = Digests::new(
                std::iter::once(&Algorithm::Sha256)
                    .chain(wanted.get(TOSCA_META_PATH).into_iter().flatten()),
            );
            d.update(text.as_bytes());
            digests.insert(TOSCA_META_PATH.to_owned(), d.finish());
        }

        let manifest_text = match &original {
            Some(o) => self.repacked_manifest(o, &digests, &mut written)?,
            None => {
                let mut manifest = Manifest {
                    metadata: self.metadata.clone(),
                    ..Manifest::default()
                };
                let mut listed: Vec<&String> = self.files.keys().collect();
                let meta_path = TOSCA_META_PATH.to_owned();
                if !self.without_meta {
                    listed.push(&meta_path);
                }
                for path in listed {
                    manifest.sources.push(SourceEntry {
                        source: path.clone(),
                        algorithm: Some(Algorithm::Sha256),
                        hash: Some(digest_of(&digests, path, &Algorithm::Sha256).ok_or_else(
                            || Error::Build(format!("no digest was computed for {path}")),
                        )?),
                        signature: None,
                        certificate: None,
                        line: 0,
                    });
                }
                self.sign(manifest.to_string(), &mut written)?
            }
        };
        zip.start_file(manifest_name.as_str(), options)
            .map_err(|e| Error::Build(format!("{manifest_name}: {e}")))?;
        zip.write_all(manifest_text.as_bytes())
            .map_err(|e| Error::Io {
                path: manifest_name.clone(),
                source: e,
            })?;
        let out = zip.finish().map_err(|e| Error::Build(e.to_string()))?;
        Ok((out, written))
    }

    /// Signs a manifest text when a key was given.
    fn sign(&self, text: String, written: &mut Written) -> Result<String, Error> {
        match &self.signer {
            Some((cert, key)) => {
                written.signed = true;
                sign_manifest(&text, cert, key)
            }
            None => Ok(text),
        }
    }

    /// The manifest of a package being repacked: as it was when every file it lists is unchanged; else with the
    /// changed digests rewritten and the entries of files now gone dropped (refused for a signed manifest
    /// unless a key was given).
    fn repacked_manifest(
        &self,
        o: &Original,
        digests: &HashMap<String, HashMap<Algorithm, String>>,
        written: &mut Written,
    ) -> Result<String, Error> {
        let mut manifest = o.manifest.clone();
        let mut own_signature_changed = Vec::new();
        let (mut changed, mut removed) = (Vec::new(), Vec::new());
        for s in &mut manifest.sources {
            if s.source.contains("://") {
                continue;
            }
            let Some(file_digests) = digests.get(&s.source) else {
                removed.push(s.source.clone());
                continue;
            };
            let Some(hash) = s.hash.clone() else {
                continue;
            };
            let Some(new) = algorithm_of(s.algorithm.as_ref(), &hash)
                .and_then(|a| file_digests.get(&a).cloned())
            else {
                continue;
            };
            if new != hash {
                changed.push(s.source.clone());
                if s.signature.is_some() {
                    own_signature_changed.push(s.source.clone());
                }
                s.hash = Some(new);
            }
        }
        let signed = o.manifest.cms.as_ref().is_some_and(|c| !c.is_empty())
            || o.manifest.sources.iter().any(|s| s.signature.is_some());
        let changes: Vec<String> = changed
            .iter()
            .cloned()
            .chain(removed.iter().map(|r| format!("{r} (gone)")))
            .collect();
        written.changed.extend(changed);
        written.removed.extend(removed.iter().cloned());
        if !own_signature_changed.is_empty() {
            return Err(Error::SignedContentChanged(format!(
                "{}, which carr{} a signature of its own",
                own_signature_changed.join(", "),
                if own_signature_changed.len() == 1 {
                    "ies"
                } else {
                    "y"
                }
            )));
        }
        if changes.is_empty() {
            return match &self.signer {
                None => Ok(o.manifest_text.clone()),
                Some(_) => self.sign(o.manifest_text.clone(), written),
            };
        }
        if signed && self.signer.is_none() {
            return Err(Error::SignedContentChanged(changes.join(", ")));
        }
        let removed: std::collections::HashSet<&String> = removed.iter().collect();
        manifest.sources.retain(|s| !removed.contains(&s.source));
        for (_, set) in &mut manifest.non_mano_artifact_sets {
            set.retain(|s| !removed.contains(s));
        }
        manifest.cms = None;
        let text = manifest.to_string();
        if signed || self.signer.is_some() {
            self.sign(text, written)
        } else {
            Ok(text)
        }
    }
}

/// Writes `path` through a temporary file beside it (in the same directory, so the final rename is atomic):
/// `write` fills it; only when it succeeds is the file renamed to `path`. A failure leaves no partial file.
pub fn write_file_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<(), Error>,
) -> Result<(), Error> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |e| Error::Io {
        path: path.display().to_string(),
        source: e,
    };
    let temp = tempfile::Builder::new()
        .prefix(".csar-")
        .suffix(".part")
        .tempfile_in(&parent)
        .map_err(io)?;
    let (file, temp_path) = temp.into_parts();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
    write(&mut out)?;
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    drop(file);
    temp_path.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Copies a package to `out` with one entry's content replaced (the others are copied as stored, in the same
/// order), as signing a manifest in place needs.
pub fn replace_entry<R: Read + Seek, W: Write + Seek>(
    package: R,
    name: &str,
    data: &[u8],
    out: W,
) -> Result<W, Error> {
    let mut archive = zip::ZipArchive::new(package).map_err(|e| Error::NotAZip(e.to_string()))?;
    let mut zip = zip::ZipWriter::new(out);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut replaced = false;
    for i in 0..archive.len() {
        let file = archive
            .by_index_raw(i)
            .map_err(|e| Error::NotAZip(e.to_string()))?;
        if file.name_raw() == name.as_bytes() {
            drop(file);
            zip.start_file(name, options)
                .map_err(|e| Error::Build(format!("{name}: {e}")))?;
            zip.write_all(data).map_err(|e| Error::Io {
                path: name.to_owned(),
                source: e,
            })?;
            replaced = true;
        } else {
            zip.raw_copy_file(file)
                .map_err(|e| Error::Build(e.to_string()))?;
        }
    }
    if !replaced {
        return Err(Error::NoEntry(name.to_owned()));
    }
    zip.finish().map_err(|e| Error::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip64_from_just_under_4_gib() {
        assert!(!needs_zip64(0));
        assert!(!needs_zip64(1 << 30));
        assert!(!needs_zip64(ZIP64_FROM - 1));
        assert!(needs_zip64(ZIP64_FROM));
        assert!(needs_zip64(u64::from(u32::MAX)));
        assert!(needs_zip64(5 << 30));
        // Deflate can grow incompressible data by 5 bytes per 16 KiB block: the margin covers a file just under
        // the 32-bit limit.
        let worst = u64::from(u32::MAX) / 16_384 * 5 + 1024;
        assert!((ZIP64_FROM - 1) + worst < u64::from(u32::MAX));
    }
}
