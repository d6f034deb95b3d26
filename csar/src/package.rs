//! Opening a package: the zip's entries, checked for unsafe paths and size before anything is read, and bounded,
//! streaming reads of their contents.

use crate::Error;
use crate::findings::{Finding, Severity, codes};
use crate::manifest::Algorithm;
use sha2::Digest;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::{Component, Path, PathBuf};

/// Bounds on untrusted packages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most entries in the package (EdgeGallery refuses more than 1024).
    pub max_entries: usize,
    /// Most bytes one entry may inflate to.
    pub max_entry_size: u64,
    /// Most bytes all entries may inflate to (EdgeGallery: 10 GiB).
    pub max_total_size: u64,
    /// Highest inflated/compressed ratio of an entry over 1 MiB (a zip bomb's is in the thousands).
    pub max_ratio: u64,
    /// Most path segments (EdgeGallery: 10).
    pub max_depth: usize,
    /// Most bytes read into memory for a text file (TOSCA.meta, manifest, YAML, JSON) or a nested APPD zip.
    pub max_in_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 4096,
            max_entry_size: 8 << 30,
            max_total_size: 16 << 30,
            max_ratio: 500,
            max_depth: 16,
            max_in_memory: 64 << 20,
        }
    }
}

/// One entry of a package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its path, `/`-separated, as stored (lossily decoded when not UTF-8).
    pub name: String,
    /// Bytes once inflated, as declared.
    pub size: u64,
    /// Bytes stored.
    pub compressed_size: u64,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Whether it may be read: a safe, unique path within the limits.
    pub safe: bool,
    index: usize,
}

/// An opened package: its entries and the structural findings about them.
#[derive(Debug)]
pub struct Package<R: Read + Seek> {
    zip: zip::ZipArchive<R>,
    entries: Vec<Entry>,
    findings: Vec<Finding>,
    limits: Limits,
}

impl Package<BufReader<File>> {
    /// Opens the package at `path`.
    pub fn open(path: impl AsRef<Path>, limits: Limits) -> Result<Self, Error> {
        let file = File::open(path.as_ref())
            .map_err(|e| Error::Io(path.as_ref().display().to_string(), e))?;
        Self::from_reader(BufReader::new(file), limits)
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

/// The raw names of the central directory, read from the end-of-central-directory record (`None` when it cannot
/// be found or is larger than `max` bytes).
fn central_directory_names<R: Read + Seek>(reader: &mut R, max: u64) -> Option<Vec<Vec<u8>>> {
    use std::io::SeekFrom;
    let len = reader.seek(SeekFrom::End(0)).ok()?;
    let tail_len = len.min(65_557);
    reader.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = vec![0u8; usize::try_from(tail_len).ok()?];
    reader.read_exact(&mut tail).ok()?;
    let at = tail
        .windows(4)
        .rposition(|w| w == [0x50, 0x4b, 0x05, 0x06])?;
    let eocd = tail.get(at..at + 22)?;
    let u32_at = |b: &[u8], i: usize| {
        b.get(i..i + 4)
            .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
    };
    let u16_at = |b: &[u8], i: usize| b.get(i..i + 2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    let (cd_size, cd_offset) = (u64::from(u32_at(eocd, 12)?), u64::from(u32_at(eocd, 16)?));
    if cd_size > max || cd_offset == u64::from(u32::MAX) {
        return None;
    }
    reader.seek(SeekFrom::Start(cd_offset)).ok()?;
    let mut cd = vec![0u8; usize::try_from(cd_size).ok()?];
    reader.read_exact(&mut cd).ok()?;
    let mut names = Vec::new();
    let mut i = 0;
    while u32_at(&cd, i) == Some(0x0201_4b50) {
        let (n, m, k) = (
            usize::from(u16_at(&cd, i + 28)?),
            usize::from(u16_at(&cd, i + 30)?),
            usize::from(u16_at(&cd, i + 32)?),
        );
        names.push(cd.get(i + 46..i + 46 + n)?.to_vec());
        i += 46 + n + m + k;
    }
    Some(names)
}

impl<R: Read + Seek> Package<R> {
    /// Opens a package from any seekable reader. Fails only when the data is not a readable zip; every other
    /// problem becomes a [`Finding`].
    pub fn from_reader(mut reader: R, limits: Limits) -> Result<Self, Error> {
        // The zip reader keeps one entry per name: duplicates are found in the central directory itself.
        let duplicates = central_directory_names(&mut reader, limits.max_in_memory)
            .map(|names| {
                let mut seen = HashSet::new();
                names
                    .into_iter()
                    .filter(|n| !seen.insert(n.clone()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        reader
            .seek(std::io::SeekFrom::Start(0))
            .map_err(|e| Error::NotAZip(e.to_string()))?;
        let mut zip = zip::ZipArchive::new(reader).map_err(|e| Error::NotAZip(e.to_string()))?;
        let mut entries = Vec::new();
        let mut findings = Vec::new();
        for name in duplicates {
            findings.push(Finding::new(
                codes::DUPLICATE_ENTRY,
                Severity::Error,
                Some(String::from_utf8_lossy(&name).into_owned()),
                "the entry appears more than once in the central directory",
            ));
        }
        let mut seen = HashSet::new();
        let mut total: u64 = 0;
        let count = zip.len();
        if count > limits.max_entries {
            findings.push(Finding::new(
                codes::TOO_MANY_ENTRIES,
                Severity::Error,
                None,
                format!(
                    "{count} entries; at most {} are accepted",
                    limits.max_entries
                ),
            ));
        }
        for index in 0..count.min(limits.max_entries) {
            let file = zip
                .by_index_raw(index)
                .map_err(|e| Error::NotAZip(e.to_string()))?;
            let raw = file.name_raw().to_vec();
            let name = String::from_utf8_lossy(&raw).into_owned();
            let (size, compressed_size, is_dir, is_symlink) = (
                file.size(),
                file.compressed_size(),
                file.is_dir(),
                file.is_symlink(),
            );
            drop(file);
            let mut safe = true;
            let mut flag = |code: &'static str, message: String| {
                safe = false;
                findings.push(Finding::new(
                    code,
                    Severity::Error,
                    Some(name.clone()),
                    message,
                ));
            };
            if std::str::from_utf8(&raw).is_err() {
                flag(
                    codes::INVALID_NAME,
                    "the entry name is not valid UTF-8".into(),
                );
            }
            if name.starts_with('/') || name.starts_with('\\') || name.get(1..2) == Some(":") {
                flag(
                    codes::ABSOLUTE_PATH,
                    "the entry has an absolute path".into(),
                );
            } else if safe_relative_path(&name).is_none() {
                flag(
                    codes::PATH_ESCAPE,
                    "the entry's path leaves the package root ('..', backslashes or NUL)".into(),
                );
            }
            if is_symlink {
                flag(codes::SYMLINK, "the entry is a symbolic link".into());
            }
            if !seen.insert(name.trim_end_matches('/').to_owned()) {
                flag(
                    codes::DUPLICATE_ENTRY,
                    "the entry appears more than once".into(),
                );
            }
            if name.split('/').filter(|s| !s.is_empty()).count() > limits.max_depth {
                flag(
                    codes::TOO_DEEP,
                    format!("more than {} path segments", limits.max_depth),
                );
            }
            if size > limits.max_entry_size {
                flag(
                    codes::TOO_LARGE,
                    format!(
                        "inflates to {size} bytes; at most {} are accepted",
                        limits.max_entry_size
                    ),
                );
            }
            if size > (1 << 20) && size / compressed_size.max(1) > limits.max_ratio {
                flag(
                    codes::ZIP_BOMB,
                    format!(
                        "compression ratio {}:1 exceeds {}:1",
                        size / compressed_size.max(1),
                        limits.max_ratio
                    ),
                );
            }
            total = total.saturating_add(size);
            entries.push(Entry {
                name,
                size,
                compressed_size,
                is_dir,
                safe,
                index,
            });
        }
        if total > limits.max_total_size {
            findings.push(Finding::new(
                codes::TOO_LARGE,
                Severity::Error,
                None,
                format!(
                    "the package inflates to {total} bytes; at most {} are accepted",
                    limits.max_total_size
                ),
            ));
        }
        Ok(Self {
            zip,
            entries,
            findings,
            limits,
        })
    }

    /// The entries, in stored order.
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

    /// A safe file entry by exact name.
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.safe && !e.is_dir && e.name == name)
    }

    /// Reads a safe file entry into memory, refusing more than [`Limits::max_in_memory`] bytes.
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, Error> {
        let index = self
            .entry(name)
            .ok_or_else(|| Error::NoEntry(name.to_owned()))?
            .index;
        let max = self.limits.max_in_memory;
        let file = self
            .zip
            .by_index(index)
            .map_err(|e| Error::Corrupt(name.to_owned(), e.to_string()))?;
        let mut buf = Vec::new();
        file.take(max + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Error::Corrupt(name.to_owned(), e.to_string()))?;
        if buf.len() as u64 > max {
            return Err(Error::TooLarge(name.to_owned(), max));
        }
        Ok(buf)
    }

    /// Reads a safe file entry as UTF-8 text (bounded as [`read`](Self::read)).
    pub fn read_text(&mut self, name: &str) -> Result<String, Error> {
        String::from_utf8(self.read(name)?)
            .map_err(|_| Error::Corrupt(name.to_owned(), "not UTF-8 text".into()))
    }

    /// Streams an entry through `sink`, 64 KiB at a time, never past its declared size (nor past
    /// [`Limits::max_entry_size`]). Returns the bytes seen.
    pub fn stream(&mut self, name: &str, mut sink: impl FnMut(&[u8])) -> Result<u64, Error> {
        let entry = self
            .entry(name)
            .ok_or_else(|| Error::NoEntry(name.to_owned()))?;
        let (index, declared) = (entry.index, entry.size);
        let cap = declared.min(self.limits.max_entry_size);
        let mut file = self
            .zip
            .by_index(index)
            .map_err(|e| Error::Corrupt(name.to_owned(), e.to_string()))?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut seen: u64 = 0;
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|e| Error::Corrupt(name.to_owned(), e.to_string()))?;
            if n == 0 {
                break;
            }
            seen += n as u64;
            if seen > cap {
                return Err(Error::Corrupt(
                    name.to_owned(),
                    format!("inflates past its declared {declared} bytes"),
                ));
            }
            sink(buf.get(..n).unwrap_or_default());
        }
        Ok(seen)
    }

    /// The hex digest of an entry, computed while streaming it.
    pub fn digest(&mut self, name: &str, algorithm: &Algorithm) -> Result<String, Error> {
        self.digest_observed(name, algorithm, &mut |_| {})
    }

    /// As [`digest`](Self::digest), telling `observer` the size of each chunk hashed (for progress bars).
    pub fn digest_observed(
        &mut self,
        name: &str,
        algorithm: &Algorithm,
        observer: &mut dyn FnMut(usize),
    ) -> Result<String, Error> {
        fn run<D: Digest>(
            p: &mut impl FnMut(&mut dyn FnMut(&[u8])) -> Result<u64, Error>,
        ) -> Result<String, Error> {
            let mut d = D::new();
            p(&mut |chunk| d.update(chunk))?;
            Ok(hex::encode(d.finalize()))
        }
        let mut stream = |sink: &mut dyn FnMut(&[u8])| {
            self.stream(name, |chunk| {
                observer(chunk.len());
                sink(chunk);
            })
        };
        match algorithm {
            Algorithm::Sha256 => run::<sha2::Sha256>(&mut stream),
            Algorithm::Sha384 => run::<sha2::Sha384>(&mut stream),
            Algorithm::Sha512 => run::<sha2::Sha512>(&mut stream),
            Algorithm::Other(a) => Err(Error::UnknownAlgorithm(a.clone())),
        }
    }

    /// Extracts every file into `target`, refusing the whole package when any entry is unsafe; nothing is ever
    /// written outside `target`.
    pub fn extract(&mut self, target: impl AsRef<Path>) -> Result<usize, Error> {
        let target = target.as_ref();
        if let Some(bad) = self.entries.iter().find(|e| !e.safe) {
            return Err(Error::Unsafe(bad.name.clone()));
        }
        std::fs::create_dir_all(target).map_err(|e| Error::Io(target.display().to_string(), e))?;
        let mut written = 0;
        let names: Vec<(String, bool)> = self
            .entries
            .iter()
            .map(|e| (e.name.clone(), e.is_dir))
            .collect();
        for (name, is_dir) in names {
            let relative = safe_relative_path(&name).ok_or_else(|| Error::Unsafe(name.clone()))?;
            let path = target.join(relative);
            if is_dir {
                std::fs::create_dir_all(&path)
                    .map_err(|e| Error::Io(path.display().to_string(), e))?;
                continue;
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::Io(parent.display().to_string(), e))?;
            }
            let mut out =
                File::create(&path).map_err(|e| Error::Io(path.display().to_string(), e))?;
            let mut failure = None;
            self.stream(&name, |chunk| {
                if failure.is_none()
                    && let Err(e) = std::io::Write::write_all(&mut out, chunk)
                {
                    failure = Some(e);
                }
            })?;
            if let Some(e) = failure {
                return Err(Error::Io(path.display().to_string(), e));
            }
            written += 1;
        }
        Ok(written)
    }
}
