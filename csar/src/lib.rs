//! # mec-csar
//!
//! MEC application packages (CSAR, ETSI GS NFV-SOL 004 and MEC 010-2, as EdgeGallery builds them): read them,
//! validate them into a report of findings, build them deterministically, extract them safely.
//!
//! - [`Package`]: a package opened from a path or any `Read + Seek`. The archive's structure is read by hand
//!   first: every central-directory record (duplicates included) against its local header, no two entries
//!   sharing a byte (the "non-recursive zip bomb"), the zip reader agreeing; a package failing these, or over
//!   the [`Limits`] as a whole, is refused and nothing of it is read. Every entry is checked (path escapes,
//!   absolute paths, symlinks, duplicates, invalid names, depth, size and compression ratio), and contents are
//!   streamed, never loaded whole, never inflated past their declared size. [`Package::extract`] writes a new
//!   directory, and only whole.
//! - [`ToscaMeta`] and [`Manifest`]: `TOSCA-Metadata/TOSCA.meta` and the `.mf` manifest, parsed line by line;
//!   [`read_app_descriptor`] and [`read_images`]: the APPD ([`AppDescriptor`], EdgeGallery's or a SOL001 VNFD)
//!   and `SwImageDesc.json`.
//! - [`validate`]: a [`Report`] of [`Finding`]s with stable codes ([`codes`]), capped per code: structure,
//!   metadata (SOL004 options 1 and 2, `ETSI-Entry-*`), manifest entries and digests (SHA-256/384/512, every
//!   entry read once while hashing), TOSCA.meta `Name:`-block digests, the APPD (nested zip or YAML, parsed with
//!   a budget), image descriptors, Helm charts.
//! - [`PackageBuilder`]: writes TOSCA.meta and the manifest with digests, and zips deterministically (ZIP64 for
//!   files over 4 GiB); repacks a directory without changing it silently.
//! - [`helm_chart_from_yaml`]: a Helm chart from plain Kubernetes YAML files.
//! - [`sign_manifest`] and [`Verifier`] ([`verify_manifest`], [`verify_package`]): the manifest's CMS signature
//!   as EdgeGallery makes it (attached SignedData over the `Source` section, SHA-256 with RSA, certificates
//!   embedded; EdgeGallery's BER and SOL004's detached form verify too), verified against trust anchors at a
//!   given time through the certificate chain, and covering every file the package is read by ([`Coverage`]).
//!
//! ```
//! use mec_csar::{PackageBuilder, validate, Limits};
//! use std::io::Cursor;
//!
//! let mut zip = Vec::new();
//! PackageBuilder::new("demo")
//!     .metadata("app_product_name", "demo")
//!     .metadata("app_provider_id", "acme")
//!     .metadata("app_package_version", "1.0")
//!     .metadata("app_release_data_time", "2026-11-24 12:00")
//!     .metadata("app_class", "container")
//!     .file("APPD/demo.yaml", "tosca_definitions_version: tosca_simple_yaml_1_2\n")
//!     .entry_definitions("APPD/demo.yaml")
//!     .write(Cursor::new(&mut zip))
//!     .unwrap();
//! let report = validate(Cursor::new(&zip), &Limits::default());
//! assert!(report.is_valid(), "{report}");
//! ```
//!
//! ## Finding codes
//!
//! | code | meaning |
//! |---|---|
//! | CSAR001 | not a zip, or truncated |
//! | CSAR002 .. CSAR005 | too many entries; too large (an entry, or the package); zip bomb ratio (an entry, or the small entries together); nothing read, the structure being refused (info) |
//! | CSAR010 .. CSAR019 | path escape, absolute path, symlink, duplicate, invalid UTF-8 name, too deep, unreadable entry (corrupt, or inflating to another size than declared); local header disagreeing with the central directory; overlapping entries; inconsistent central directory |
//! | CSAR020 .. CSAR026 | no entry definitions; TOSCA.meta malformed, key missing, Entry-Definitions missing, `Name:` missing; EdgeGallery layout (`APPD/`, `Artifacts/`; warning); an `ETSI-Entry-*` key naming no entry |
//! | CSAR030 .. CSAR039 | no manifest, several, malformed (or a file listed twice, or too many entries), metadata missing, Source missing, file not listed, digest mismatch, unknown algorithm, hash missing, algorithm missing |
//! | CSAR040 .. CSAR043 | APPD unreadable, member missing, YAML budget exceeded, no compute description |
//! | CSAR050, CSAR051 | image descriptor invalid; image missing |
//! | CSAR060, CSAR061 | chart not a gzip tarball; chart incomplete |
//! | CSAR070 | signature present; validation does not check it (`csar verify` does) |
//!
//! When a code has more findings than [`Limits::max_findings_per_code`], the rest are counted in one last
//! finding of that code.
//!
//! ## Errors
//!
//! Every fallible function returns the crate's [`Error`]: reading, building, extracting, parsing `TOSCA.meta`
//! and manifests (with the line at fault, [`Error::line`]), signing and verifying. Its `is_*` helpers answer the
//! usual questions ([`Error::is_bad_signature`], [`Error::is_untrusted`], [`Error::is_content_mismatch`],
//! [`Error::is_unsafe`], ...), [`Error::entry`] names the package entry concerned, and [`Error::finding_code`]
//! the finding [`validate`] reports for the same fault.

mod appd;
mod builder;
mod error;
mod findings;
mod helm;
mod layout;
mod limits;
mod manifest;
mod meta;
mod package;
mod sign;
mod validate;
mod yaml;
mod zipscan;

pub use appd::{AppDescriptor, FeatureRef, ServiceRef, SwImageDesc, VirtualCompute};
pub use builder::{PackageBuilder, Written, replace_entry, write_file_atomically};
pub use error::{Error, report};
pub use findings::{Finding, Severity, codes};
pub use helm::{ChartOptions, KubernetesFile, helm_chart_from_yaml};
pub use limits::{Limits, parse_size};
pub use manifest::{Algorithm, EDGEGALLERY_METADATA, Manifest, SourceEntry};
pub use meta::{ETSI_ENTRY_KEYS, MetaEntry, TOSCA_META_PATH, ToscaMeta};
pub use package::{Entry, Package};
pub use sign::{
    Coverage, VerifiedSignature, Verifier, sign_manifest, verify_manifest, verify_package,
};
pub use validate::{
    Report, read_app_descriptor, read_images, validate, validate_path, validate_with_progress,
};
