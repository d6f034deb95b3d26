//! Opening a package: the archive's structure checked by hand ([`crate::zipscan`]), every entry checked for unsafe
//! paths and sizes before anything is read, and bounded, streaming reads of their contents.

use crate::Error;
use crate::findings::{Finding, Severity, codes};
use crate::limits::Limits;
use crate::manifest::{Algorithm, Digests, Manifest};
use crate::zipscan::{self, ScanError};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read, Seek, Write};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

/// One entry of a package.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// Its path, `/`-separated, as stored (lossily decoded when not UTF-8).
    pub name: String,
    /// Bytes once inflated, as declared.
    pub size: u64,
    /// Bytes stored.
    pub compressed_size: u64,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Whether it may be read: a safe, unique path within the limits, in a package whose structure holds.
    pub safe: bool,
    /// The bytes of the archive it occupies: local header, data and data descriptor.
    pub stored: Range<u64>,
    /// The zip reader's index of the entry (duplicates have none).
    index: Option<usize>,
    /// The codes of what makes it unsafe.
    problems: Vec<&'static str>,
}

/// An opened package: its entries and the structural findings about them.
#[derive(Debug)]
pub struct Package<R: Read + Seek> {
    zip: Option<zip::ZipArchive<R>>,
    entries: Vec<Entry>,
    /// Safe file entries by name.
    by_name: HashMap<String, usize>,
    findings: Vec<Finding>,
    limits: Limits,
    refused: Option<String>,
}

impl Package<BufReader<File>> {
    /// Opens the package at `path`.
    pub fn open(path: impl AsRef<Path>, limits: Limits) -> Result<Self, Error> {
        let file = File::open(path.as_ref()).map_err(|e| Error::Io {
            path: path.as_ref().display().to_string(),
            source: e,
        })?;
        Self::from_reader(BufReader::with_capacity(256 * 1024, file), limits)
    }
}

/// Whether a stored name is a safe relative path: no `..`, no root, no drive, no backslash trickery.
pub(crate) fn safe_relative_path(name: &str) -> Option<PathBuf> {
    if name.contains('\\') || name.contains('\0') {
        return None;
    }
    let path = Path::new(name);
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Whether a name, or a name with the same path once normalized, is an absolute path.
fn is_absolute(name: &str) -> bool {
    name.starts_with('/') || name.starts_with('\\') || name.get(1..2) == Some(":")
}

impl<R: Read + Seek> Package<R> {
    /// Opens a package from any seekable reader. Fails only when the data is not a zip archive; every other
    /// problem becomes a [`Finding`]. A package whose structure cannot be trusted (too many entries, entries
    /// overlapping one another, local headers disagreeing with the central directory, more bytes than
    /// [`Limits::max_total_size`], a zip bomb's ratio over its small entries) is refused whole: it is listed,
    /// but nothing of it is read.
    pub fn from_reader(mut reader: R, limits: Limits) -> Result<Self, Error> {
        let mut pkg = Self {
            zip: None,
            entries: Vec::new(),
            by_name: HashMap::new(),
            findings: Vec::new(),
            limits,
            refused: None,
        };
        let scan = match zipscan::scan(
            &mut reader,
            pkg.limits.max_entries,
            pkg.limits.max_in_memory,
        ) {
            Ok(scan) => scan,
            Err(ScanError::NotAZip(m)) => return Err(Error::NotAZip(m)),
            Err(ScanError::TooManyEntries(n)) => {
                pkg.refuse(
                    codes::TOO_MANY_ENTRIES,
                    None,
                    format!(
                        "{n} entries; at most {} are accepted",
                        pkg.limits.max_entries
                    ),
                );
                return Ok(pkg);
            }
            Err(ScanError::Inconsistent(m)) => {
                pkg.refuse(codes::CENTRAL_DIRECTORY_INCONSISTENT, None, m);
                return Ok(pkg);
            }
        };
        reader
            .seek(std::io::SeekFrom::Start(0))
            .map_err(|e| Error::NotAZip(e.to_string()))?;
        let mut zip = zip::ZipArchive::new(reader).map_err(|e| Error::NotAZip(e.to_string()))?;
        // The zip reader keeps one entry per name; each name read once by hand must be the zip reader's entry
        // at the same place, so that both readers agree on what is read.
        let mut name_count: HashMap<&[u8], usize> = HashMap::new();
        let mut record_of: HashMap<&[u8], &zipscan::Record> = HashMap::new();
        for r in &scan.records {
            *name_count.entry(r.name.as_slice()).or_default() += 1;
            record_of.entry(r.name.as_slice()).or_insert(r);
        }
        let mut zip_index: HashMap<Vec<u8>, (usize, bool)> = HashMap::new();
        let mut disagreement = (zip.offset() != 0 || zip.len() != name_count.len())
            .then(|| "the zip reader and the central directory disagree on the entries".to_owned());
        for i in 0..zip.len() {
            // An entry the zip reader cannot place is left without an index: unreadable, and reported below.
            let Ok(file) = zip.by_index_raw(i) else {
                continue;
            };
            let at = (
                file.header_start(),
                file.compressed_size(),
                file.size(),
                file.is_symlink(),
            );
            let name = file.name_raw().to_vec();
            drop(file);
            match record_of.get(name.as_slice()) {
                Some(r)
                    if name_count.get(name.as_slice()) == Some(&1)
                        && (r.header_offset, r.compressed, r.size) != (at.0, at.1, at.2) =>
                {
                    disagreement = Some(format!(
                        "the zip reader places {:?} elsewhere than its central-directory record",
                        String::from_utf8_lossy(&name)
                    ));
                }
                None => {
                    disagreement = Some(format!(
                        "the zip reader lists {:?}, which the central directory does not",
                        String::from_utf8_lossy(&name)
                    ));
                }
                Some(_) => {}
            }
            zip_index.insert(name, (i, at.3));
        }
        pkg.zip = Some(zip);
        pkg.check_entries(&scan, &name_count, &zip_index);
        if let Some(m) = disagreement {
            pkg.refuse(codes::CENTRAL_DIRECTORY_INCONSISTENT, None, m);
        }
        if pkg.refused.is_none() {
            pkg.accept_declared_entries();
        }
        Ok(pkg)
    }

    /// Records a finding that refuses the whole package.
    fn refuse(&mut self, code: &'static str, entry: Option<String>, message: String) {
        if self.refused.is_none() {
            self.refused = Some(match &entry {
                Some(e) => format!("{e}: {message}"),
                None => message.clone(),
            });
        }
        self.findings
            .push(Finding::new(code, Severity::Error, entry, message));
    }

    /// The per-entry checks, and the package-wide ones over all entries.
    fn check_entries(
        &mut self,
        scan: &zipscan::Scan,
        name_count: &HashMap<&[u8], usize>,
        zip_index: &HashMap<Vec<u8>, (usize, bool)>,
    ) {
        let limits = self.limits.clone();
        let mut seen = HashSet::new();
        let (mut total, mut small, mut small_compressed) = (0u64, 0u64, 0u64);
        let lossy = |raw: &[u8]| String::from_utf8_lossy(raw).into_owned();
        for (i, rec) in scan.records.iter().enumerate() {
            let name = lossy(&rec.name);
            let unique = name_count.get(rec.name.as_slice()) == Some(&1);
            let (index, zip_symlink) = match zip_index.get(&rec.name) {
                Some(&(index, link)) if unique => (Some(index), link),
                _ => (None, false),
            };
            let mut problems: Vec<(&'static str, String)> = Vec::new();
            let mut refusals: Vec<(&'static str, String)> = Vec::new();
            if std::str::from_utf8(&rec.name).is_err() {
                problems.push((
                    codes::INVALID_NAME,
                    "the entry name is not valid UTF-8".into(),
                ));
            }
            if is_absolute(&name) {
                problems.push((
                    codes::ABSOLUTE_PATH,
                    "the entry has an absolute path".into(),
                ));
            } else if safe_relative_path(&name).is_none() {
                problems.push((
                    codes::PATH_ESCAPE,
                    "the entry's path leaves the package root ('..', backslashes or NUL)".into(),
                ));
            }
            if rec.is_symlink() || zip_symlink {
                problems.push((codes::SYMLINK, "the entry is a symbolic link".into()));
            }
            // A file and a directory of the same name collide as surely as two files.
            if !unique || !seen.insert(name.trim_end_matches('/').to_owned()) {
                problems.push((
                    codes::DUPLICATE_ENTRY,
                    "the entry appears more than once in the central directory".into(),
                ));
            }
            if name.split('/').filter(|s| !s.is_empty()).count() > limits.max_depth {
                problems.push((
                    codes::TOO_DEEP,
                    format!("more than {} path segments", limits.max_depth),
                ));
            }
            if rec.size > limits.max_entry_size {
                problems.push((
                    codes::TOO_LARGE,
                    format!(
                        "inflates to {} bytes; at most {} are accepted",
                        rec.size, limits.max_entry_size
                    ),
                ));
            }
            let ratio = rec.size / rec.compressed.max(1);
            if rec.size > limits.ratio_min_size && ratio > limits.max_ratio {
                problems.push((
                    codes::ZIP_BOMB,
                    format!("compression ratio {ratio}:1 exceeds {}:1", limits.max_ratio),
                ));
            } else if rec.size <= limits.ratio_min_size {
                small = small.saturating_add(rec.size);
                small_compressed = small_compressed.saturating_add(rec.compressed);
            }
            if let Some(m) = &rec.header_mismatch {
                refusals.push((codes::LOCAL_HEADER_MISMATCH, m.clone()));
            }
            if !rec.overlaps.is_empty() {
                let others: Vec<String> = rec
                    .overlaps
                    .iter()
                    .take(3)
                    .filter_map(|&o| scan.records.get(o).map(|r| lossy(&r.name)))
                    .collect();
                refusals.push((
                    codes::OVERLAPPING_ENTRIES,
                    format!(
                        "its bytes are shared with {} other entr{} ({}{})",
                        rec.overlaps.len(),
                        if rec.overlaps.len() == 1 { "y" } else { "ies" },
                        others.join(", "),
                        if rec.overlaps.len() > 3 { ", ..." } else { "" }
                    ),
                ));
            }
            if rec.overlaps_directory {
                refusals.push((
                    codes::OVERLAPPING_ENTRIES,
                    "its data reaches into the central directory".into(),
                ));
            }
            if unique && index.is_none() && refusals.is_empty() {
                refusals.push((
                    codes::CENTRAL_DIRECTORY_INCONSISTENT,
                    "the zip reader does not find it where the central directory says".into(),
                ));
            }
            total = total.saturating_add(rec.size);
            let safe = problems.is_empty() && refusals.is_empty() && index.is_some();
            let is_dir = name.ends_with('/');
            self.entries.push(Entry {
                name: name.clone(),
                size: rec.size,
                compressed_size: rec.compressed,
                is_dir,
                safe,
                stored: rec.span.clone(),
                index,
                problems: problems.iter().map(|(c, _)| *c).collect(),
            });
            if safe && !is_dir {
                self.by_name.insert(name.clone(), i);
            }
            for (code, message) in problems {
                self.findings.push(Finding::new(
                    code,
                    Severity::Error,
                    Some(name.clone()),
                    message,
                ));
            }
            for (code, message) in refusals {
                self.refuse(code, Some(name.clone()), message);
            }
        }
        if total > limits.max_total_size {
            self.refuse(
                codes::TOO_LARGE,
                None,
                format!(
                    "the package inflates to {total} bytes; at most {} are accepted",
                    limits.max_total_size
                ),
            );
        }
        // Small entries escape the per-entry ratio; together they must not inflate like a bomb either.
        let small_ratio = small / small_compressed.max(1);
        if small > limits.ratio_min_size && small_ratio > limits.max_ratio {
            self.refuse(
                codes::ZIP_BOMB,
                None,
                format!(
                    "the entries of at most {} bytes inflate to {small} bytes from {small_compressed} (ratio {small_ratio}:1, more than {}:1)",
                    limits.ratio_min_size, limits.max_ratio
                ),
            );
        }
    }

    /// An entry over the compression ratio that the manifest declares with a digest is read after all: its
    /// inflation is bounded by its declared size, which is within the limits (a sparse VM image compresses
    /// that well). Its finding becomes information.
    fn accept_declared_entries(&mut self) {
        if !self.entries.iter().any(|e| e.problems == [codes::ZIP_BOMB]) {
            return;
        }
        let Ok(name) = crate::layout::manifest_name(self) else {
            return;
        };
        let max = self.limits.max_list_items;
        let Some(manifest) = self
            .read_text(&name)
            .ok()
            .and_then(|t| Manifest::parse_limited(&t, max).ok())
        else {
            return;
        };
        let declared: HashSet<&str> = manifest
            .sources
            .iter()
            .filter(|s| s.hash.is_some())
            .map(|s| s.source.as_str())
            .collect();
        for (i, e) in self.entries.iter_mut().enumerate() {
            if e.problems == [codes::ZIP_BOMB]
                && e.index.is_some()
                && !e.is_dir
                && declared.contains(e.name.as_str())
            {
                e.safe = true;
                e.problems.clear();
                self.by_name.insert(e.name.clone(), i);
                for f in &mut self.findings {
                    if f.code == codes::ZIP_BOMB && f.entry.as_deref() == Some(e.name.as_str()) {
                        f.severity = Severity::Info;
                        f.message = format!(
                            "{}; accepted: {name} declares it, and it is read within its declared {} bytes",
                            f.message, e.size
                        );
                    }
                }
            }
        }
    }

    /// The entries, in the central directory's order (duplicates included).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The findings about the package's structure (unsafe entries, limits).
    pub fn structural_findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Why the package is refused whole, if it is: nothing of it is read.
    pub fn refusal(&self) -> Option<&str> {
        self.refused.as_deref()
    }

    /// A safe file entry by exact name.
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.by_name.get(name).and_then(|&i| self.entries.get(i))
    }

    /// The names of the safe file entries, in stored order.
    pub fn files(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.safe && !e.is_dir)
            .map(|e| e.name.clone())
            .collect()
    }

    /// The name of the package's manifest: the one TOSCA.meta's `ETSI-Entry-Manifest` names; else, in a package
    /// without TOSCA.meta (SOL004 option 2), the `.mf` named after its root YAML; else the only `.mf` in the
    /// root.
    pub fn manifest_name(&mut self) -> Result<String, Error> {
        crate::layout::manifest_name(self).map_err(|(_, m)| Error::NoManifest(m))
    }

    /// The zip index and declared size of a safe file entry.
    fn readable(&self, name: &str) -> Result<(usize, u64), Error> {
        if let Some(why) = &self.refused {
            return Err(Error::Refused(why.clone()));
        }
        let entry = self
            .entry(name)
            .ok_or_else(|| Error::NoEntry(name.to_owned()))?;
        let index = entry.index.ok_or_else(|| Error::Unsafe(name.to_owned()))?;
        Ok((index, entry.size))
    }

    /// Reads a safe file entry into memory, refusing more than [`Limits::max_in_memory`] bytes.
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, Error> {
        let (_, declared) = self.readable(name)?;
        let max = self.limits.max_in_memory;
        if declared > max {
            return Err(Error::TooLarge(name.to_owned(), max));
        }
        let mut buf = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
        self.stream(name, |chunk| buf.extend_from_slice(chunk))?;
        Ok(buf)
    }

    /// Reads a safe file entry as UTF-8 text (bounded as [`read`](Self::read)).
    pub fn read_text(&mut self, name: &str) -> Result<String, Error> {
        String::from_utf8(self.read(name)?)
            .map_err(|_| Error::Corrupt(name.to_owned(), "not UTF-8 text".into()))
    }

    /// Streams an entry through `sink`, 256 KiB at a time, never past its declared size; the data must inflate to
    /// exactly that size and match its CRC. Returns the bytes seen.
    pub fn stream(&mut self, name: &str, mut sink: impl FnMut(&[u8])) -> Result<u64, Error> {
        let (index, declared) = self.readable(name)?;
        let corrupt = |m: String| Error::Corrupt(name.to_owned(), m);
        let zip = self
            .zip
            .as_mut()
            .ok_or_else(|| Error::Refused("the archive is not readable".into()))?;
        let mut file = zip.by_index(index).map_err(|e| corrupt(e.to_string()))?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut seen: u64 = 0;
        loop {
            let n = file.read(&mut buf).map_err(|e| corrupt(e.to_string()))?;
            if n == 0 {
                break;
            }
            seen += n as u64;
            if seen > declared {
                return Err(corrupt(format!(
                    "inflates past its declared {declared} bytes"
                )));
            }
            sink(buf.get(..n).unwrap_or_default());
        }
        if seen != declared {
            return Err(corrupt(format!(
                "inflates to {seen} bytes, not its declared {declared}"
            )));
        }
        Ok(seen)
    }

    /// The hex digest of an entry, computed while streaming it.
    pub fn digest(&mut self, name: &str, algorithm: &Algorithm) -> Result<String, Error> {
        let mut digests = self.digests(name, std::slice::from_ref(algorithm), &mut |_| {})?;
        digests
            .pop()
            .ok_or_else(|| Error::UnknownAlgorithm(algorithm.as_str().to_owned()))
    }

    /// As [`digest`](Self::digest), telling `observer` the size of each chunk hashed (for progress bars).
    pub fn digest_observed(
        &mut self,
        name: &str,
        algorithm: &Algorithm,
        observer: &mut dyn FnMut(usize),
    ) -> Result<String, Error> {
        let mut digests = self.digests(name, std::slice::from_ref(algorithm), observer)?;
        digests
            .pop()
            .ok_or_else(|| Error::UnknownAlgorithm(algorithm.as_str().to_owned()))
    }

    /// Several digests of an entry in one pass (none: the entry is only read, which checks its size and CRC),
    /// in the order of `algorithms`.
    pub fn digests(
        &mut self,
        name: &str,
        algorithms: &[Algorithm],
        observer: &mut dyn FnMut(usize),
    ) -> Result<Vec<String>, Error> {
        if let Some(Algorithm::Other(a)) =
            algorithms.iter().find(|a| matches!(a, Algorithm::Other(_)))
        {
            return Err(Error::UnknownAlgorithm(a.clone()));
        }
        let mut digests = Digests::new(algorithms);
        self.stream(name, |chunk| {
            observer(chunk.len());
            digests.update(chunk);
        })?;
        let by_algorithm = digests.finish();
        algorithms
            .iter()
            .map(|a| {
                by_algorithm
                    .get(a)
                    .cloned()
                    .ok_or_else(|| Error::UnknownAlgorithm(a.as_str().to_owned()))
            })
            .collect()
    }

    /// Extracts every entry into the directory `target`, which must not exist yet (or be empty).
    ///
    /// The package is refused whole when any entry is unsafe. Entries are written into a new directory beside
    /// `target`, created for this extraction and never shared (so no link planted in advance is followed; files
    /// are created exclusively), which is renamed to `target` only once every entry is written: a failure
    /// leaves nothing behind. Returns the number of files written.
    pub fn extract(&mut self, target: impl AsRef<Path>) -> Result<usize, Error> {
        let target = target.as_ref();
        if let Some(why) = &self.refused {
            return Err(Error::Refused(why.clone()));
        }
        if let Some(bad) = self.entries.iter().find(|e| !e.safe) {
            return Err(Error::Unsafe(bad.name.clone()));
        }
        let io = |p: &Path, e| Error::Io {
            path: p.display().to_string(),
            source: e,
        };
        match std::fs::symlink_metadata(target) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(target, e)),
            Ok(m) if m.is_dir() && !m.file_type().is_symlink() => {
                let empty = std::fs::read_dir(target)
                    .map_err(|e| io(target, e))?
                    .next()
                    .is_none();
                if !empty {
                    return Err(Error::TargetExists(target.display().to_string()));
                }
            }
            Ok(_) => return Err(Error::TargetExists(target.display().to_string())),
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| io(&parent, e))?;
        let staging = tempfile::Builder::new()
            .prefix(".csar-extract-")
            .tempdir_in(&parent)
            .map_err(|e| io(&parent, e))?;
        let written = self.extract_into(staging.path())?;
        set_directory_mode(staging.path()).map_err(|e| io(staging.path(), e))?;
        let staged = staging.keep();
        std::fs::rename(&staged, target).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            io(target, e)
        })?;
        Ok(written)
    }

    /// Writes every entry under `root`, a directory created for this extraction.
    fn extract_into(&mut self, root: &Path) -> Result<usize, Error> {
        let io = |p: &Path, e| Error::Io {
            path: p.display().to_string(),
            source: e,
        };
        let mut written = 0;
        let names: Vec<(String, bool)> = self
            .entries
            .iter()
            .map(|e| (e.name.clone(), e.is_dir))
            .collect();
        for (name, is_dir) in names {
            let relative = safe_relative_path(&name).ok_or_else(|| Error::Unsafe(name.clone()))?;
            let path = root.join(&relative);
            let dir = if is_dir {
                Some(path.as_path())
            } else {
                path.parent()
            };
            if let Some(dir) = dir {
                create_dirs_below(root, dir)?;
            }
            if is_dir {
                continue;
            }
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| io(&path, e))?;
            let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
            let mut failure = None;
            self.stream(&name, |chunk| {
                if failure.is_none()
                    && let Err(e) = out.write_all(chunk)
                {
                    failure = Some(e);
                }
            })?;
            if let Some(e) = failure {
                return Err(io(&path, e));
            }
            out.flush().map_err(|e| io(&path, e))?;
            written += 1;
        }
        Ok(written)
    }
}

/// Creates `dir` and its parents below `root`, one component at a time, refusing anything in the way that is not
/// a directory (a link is never followed).
fn create_dirs_below(root: &Path, dir: &Path) -> Result<(), Error> {
    let relative = dir
        .strip_prefix(root)
        .map_err(|_| Error::Unsafe(format!("{} is outside {}", dir.display(), root.display())))?;
    let mut at = root.to_path_buf();
    for c in relative.components() {
        at.push(c);
        match std::fs::create_dir(&at) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let m = std::fs::symlink_metadata(&at).map_err(|e| Error::Io {
                    path: at.display().to_string(),
                    source: e,
                })?;
                if !m.is_dir() || m.file_type().is_symlink() {
                    return Err(Error::Unsafe(format!(
                        "{} is a file and a directory",
                        at.display()
                    )));
                }
            }
            Err(e) => {
                return Err(Error::Io {
                    path: at.display().to_string(),
                    source: e,
                });
            }
        }
    }
    Ok(())
}

/// The mode of an extracted package's root (the staging directory is created private, 0700).
fn set_directory_mode(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
