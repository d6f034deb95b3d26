//! Building packages: TOSCA.meta, the manifest with SHA-256 digests, and a deterministic zip (sorted entries,
//! fixed timestamps and permissions), so the same inputs give the same bytes.

use crate::Error;
use crate::manifest::{Algorithm, Manifest, SourceEntry};
use crate::meta::{MetaEntry, TOSCA_META_PATH, ToscaMeta};
use crate::package::safe_relative_path;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;

/// Where a file's bytes come from.
#[derive(Clone, Debug)]
enum Content {
    Bytes(Vec<u8>),
    File(PathBuf),
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
        self.meta_entries.push(MetaEntry {
            name: name.into(),
            content_type: Some(content_type.into()),
        });
        self
    }

    /// A builder for the package laid out in `dir`: every file under it; the metadata of its root `.mf`, if it
    /// has one (its digests are recomputed); its TOSCA.meta's `Entry-Definitions`, if it has one. Symbolic links
    /// are refused.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "package".to_owned());
        let mut builder = Self::new(name);
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let read = std::fs::read_dir(&d).map_err(|e| Error::Io(d.display().to_string(), e))?;
            for entry in read {
                let entry = entry.map_err(|e| Error::Io(d.display().to_string(), e))?;
                let path = entry.path();
                let kind = entry
                    .file_type()
                    .map_err(|e| Error::Io(path.display().to_string(), e))?;
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
        let root_mf: Vec<String> = builder
            .files
            .keys()
            .filter(|k| !k.contains('/') && k.ends_with(".mf"))
            .cloned()
            .collect();
        if let [mf] = root_mf.as_slice() {
            let text =
                std::fs::read_to_string(dir.join(mf)).map_err(|e| Error::Io(mf.clone(), e))?;
            let manifest =
                Manifest::parse(&text).map_err(|e| Error::Build(format!("{mf}: {e}")))?;
            builder.metadata = manifest.metadata;
            builder.name = mf.trim_end_matches(".mf").to_owned();
            builder.files.remove(mf);
        } else if root_mf.len() > 1 {
            return Err(Error::Build(format!(
                "several manifests in the root: {}",
                root_mf.join(", ")
            )));
        }
        if let Some(Content::File(p)) = builder.files.remove(TOSCA_META_PATH) {
            let text =
                std::fs::read_to_string(&p).map_err(|e| Error::Io(p.display().to_string(), e))?;
            let meta = ToscaMeta::parse(&text)
                .map_err(|e| Error::Build(format!("{TOSCA_META_PATH}: {e}")))?;
            builder.entry_definitions = meta.entry_definitions().map(str::to_owned);
            builder.meta_entries = meta.entries;
        }
        Ok(builder)
    }

    /// Writes the package: the files in path order, then TOSCA.meta and the manifest, all with the zip epoch as
    /// time stamp. Fails on unsafe paths and on a missing `Entry-Definitions` target.
    pub fn write<W: Write + Seek>(self, out: W) -> Result<W, Error> {
        self.write_with_progress(out, &mut |_, _| {})
    }

    /// As [`write`](Self::write), telling `progress(bytes written, bytes to write)` how it advances.
    pub fn write_with_progress<W: Write + Seek>(
        self,
        out: W,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<W, Error> {
        let total: u64 = self
            .files
            .values()
            .map(|c| match c {
                Content::Bytes(b) => b.len() as u64,
                Content::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            })
            .sum();
        let mut done: u64 = 0;
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
        let mut meta = ToscaMeta::new(&entry);
        meta.entries = self.meta_entries.clone();
        let mut manifest = Manifest {
            metadata: self.metadata.clone(),
            ..Manifest::default()
        };
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        let mut zip = zip::ZipWriter::new(out);
        let mut buf = vec![0u8; 64 * 1024];
        for (path, content) in &self.files {
            zip.start_file(path.as_str(), options)
                .map_err(|e| Error::Build(format!("{path}: {e}")))?;
            let mut hasher = Sha256::new();
            match content {
                Content::Bytes(b) => {
                    hasher.update(b);
                    zip.write_all(b).map_err(|e| Error::Io(path.clone(), e))?;
                    done += b.len() as u64;
                    progress(done, total);
                }
                Content::File(p) => {
                    let mut f = std::fs::File::open(p)
                        .map_err(|e| Error::Io(p.display().to_string(), e))?;
                    loop {
                        let n = f
                            .read(&mut buf)
                            .map_err(|e| Error::Io(p.display().to_string(), e))?;
                        let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                            break;
                        };
                        hasher.update(chunk);
                        zip.write_all(chunk)
                            .map_err(|e| Error::Io(path.clone(), e))?;
                    }
                }
            }
            manifest.sources.push(SourceEntry {
                source: path.clone(),
                algorithm: Some(Algorithm::Sha256),
                hash: Some(hex::encode(hasher.finalize())),
                signature: None,
                certificate: None,
                line: 0,
            });
        }
        for (path, text) in [
            (TOSCA_META_PATH.to_owned(), meta.to_string()),
            (format!("{}.mf", self.name), manifest.to_string()),
        ] {
            zip.start_file(path.as_str(), options)
                .map_err(|e| Error::Build(format!("{path}: {e}")))?;
            zip.write_all(text.as_bytes())
                .map_err(|e| Error::Io(path.clone(), e))?;
        }
        zip.finish().map_err(|e| Error::Build(e.to_string()))
    }
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
            zip.write_all(data)
                .map_err(|e| Error::Io(name.to_owned(), e))?;
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
