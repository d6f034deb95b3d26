//! Helpers shared by the integration tests: packages built in code (with the zip crate, or byte by byte when
//! the archive must be malformed on purpose).

#![allow(
    dead_code,
    unreachable_pub,
    missing_debug_implementations,
    clippy::unwrap_used,
    clippy::cast_possible_truncation
)]

use mec_csar::{Limits, PackageBuilder, Report, Severity, validate};
use std::io::{Cursor, Read, Write};

pub const EG_METADATA: [(&str, &str); 6] = [
    ("app_product_name", "demo"),
    ("app_provider_id", "acme"),
    ("app_package_version", "1.0"),
    ("app_release_data_time", "2026-11-24 12:00"),
    ("app_class", "container"),
    ("app_package_description", "a demo app"),
];

pub const APPD_YAML: &str = r#"tosca_definitions_version: tosca_simple_profile_yaml_1_2
metadata:
  template_name: demo
topology_template:
  node_templates:
    Simple_VNF:
      type: tosca.nodes.nfv.VNF
      properties:
        vnfd_id: demo
        vnfd_version: v1.0
        provider: acme
        product_name: demo
        software_version: v1.0
    logic0:
      type: tosca.nodes.nfv.Vdu.Compute
      capabilities:
        virtual_compute:
          properties:
            virtual_memory:
              virtual_mem_size: 1024
            virtual_cpu:
              num_virtual_cpu: 1
"#;

/// A zip in memory from (name, data) pairs, with the zip crate (deflated).
pub fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A gzip tarball holding a chart directory.
pub fn chart(files: &[&str]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for f in files {
        let data = b"x: 1\n";
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, format!("demo/{f}"), &data[..])
            .unwrap();
    }
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

pub fn appd_zip(yaml: &str) -> Vec<u8> {
    zip_of(&[
        ("TOSCA_VNFD.meta", b"VNFD-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-by: EdgeGallery\nEntry-Definitions: Definition/demo.yaml\n"),
        ("Definition/demo.yaml", yaml.as_bytes()),
    ])
}

/// An EdgeGallery-shaped package: nested APPD zip, chart, image descriptor, docs.
pub fn eg_builder() -> PackageBuilder {
    let mut b = PackageBuilder::new("demo");
    for (k, v) in EG_METADATA {
        b = b.metadata(k, v);
    }
    b.file("APPD/demo.zip", appd_zip(APPD_YAML))
        .file("Artifacts/Deployment/Charts/demo.tgz", chart(&["Chart.yaml", "values.yaml", "templates/deployment.yaml"]))
        .file("Image/SwImageDesc.json", r#"[{"id":"1","name":"demo:1.0","version":"1.0","checksum":"2","containerFormat":"bare","diskFormat":"raw","minDisk":3,"minRam":6,"swImage":"registry.example/demo:1.0"}]"#)
        .file("Artifacts/Docs/README.md", "# demo\n")
        .entry_definitions("APPD/demo.zip")
        .meta_entry("APPD/demo.zip", "appd")
}

pub fn build(b: PackageBuilder) -> Vec<u8> {
    b.write(Cursor::new(Vec::new())).unwrap().into_inner()
}

pub fn check(bytes: &[u8]) -> Report {
    validate(Cursor::new(bytes), &Limits::default())
}

/// The codes of the errors and warnings of a report.
pub fn codes_of(r: &Report) -> Vec<&str> {
    r.findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .map(|f| f.code)
        .collect()
}

pub fn refused_with(bytes: &[u8], code: &str) -> Report {
    let r = check(bytes);
    assert!(!r.is_valid(), "accepted: {r}");
    assert!(
        r.findings
            .iter()
            .any(|f| f.code == code && f.severity == Severity::Error),
        "no {code} in:\n{r}"
    );
    r
}

/// One entry of a zip read whole.
pub fn zip_read(bytes: &[u8], name: &str) -> Vec<u8> {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut f = a.by_name(name).unwrap();
    let mut out = Vec::new();
    f.read_to_end(&mut out).unwrap();
    out
}

/// Rewrites (or adds, or with `None` removes) entries of a zip, keeping the others' contents.
pub fn rezip(bytes: &[u8], changes: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut done = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        let mut content = Vec::new();
        f.read_to_end(&mut content).unwrap();
        let data = match changes.iter().find(|(n, _)| *n == name) {
            Some((_, None)) => continue,
            Some((_, Some(d))) => d.to_vec(),
            None => content,
        };
        done.push(name.clone());
        w.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(&data).unwrap();
    }
    for (name, data) in changes {
        if let (false, Some(data)) = (done.iter().any(|d| d == name), data) {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
    }
    w.finish().unwrap().into_inner()
}

pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// Raw deflate (as zip stores it).
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub const FILE: u32 = 0o100_644 << 16;
pub const LINK: u32 = 0o120_777 << 16;
pub const STORED: u16 = 0;
pub const DEFLATED: u16 = 8;

/// A zip written byte by byte: local headers and data, central-directory records pointing anywhere, an end
/// record; so that names, offsets and sizes can disagree on purpose.
#[derive(Default)]
pub struct RawZip {
    pub body: Vec<u8>,
    central: Vec<u8>,
    count: u16,
}

impl RawZip {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a local header and its (already compressed) data; returns the header's offset.
    pub fn local(&mut self, name: &[u8], method: u16, crc: u32, data: &[u8], size: u32) -> u32 {
        let offset = self.header(name, method, crc, data.len() as u32, size);
        self.body.extend_from_slice(data);
        offset
    }

    /// Appends a local header alone, saying `compressed` bytes follow; returns its offset.
    pub fn header(
        &mut self,
        name: &[u8],
        method: u16,
        crc: u32,
        compressed: u32,
        size: u32,
    ) -> u32 {
        let offset = self.body.len() as u32;
        for part in [
            &0x0403_4b50u32.to_le_bytes()[..],
            &20u16.to_le_bytes(),
            &0u16.to_le_bytes(),
            &method.to_le_bytes(),
            &0u16.to_le_bytes(),
            &0x21u16.to_le_bytes(),
            &crc.to_le_bytes(),
            &compressed.to_le_bytes(),
            &size.to_le_bytes(),
            &(name.len() as u16).to_le_bytes(),
            &0u16.to_le_bytes(),
            name,
        ] {
            self.body.extend_from_slice(part);
        }
        offset
    }

    /// Adds a central-directory record.
    #[allow(clippy::too_many_arguments)]
    pub fn central(
        &mut self,
        name: &[u8],
        method: u16,
        crc: u32,
        compressed: u32,
        size: u32,
        offset: u32,
        attrs: u32,
    ) {
        for part in [
            &0x0201_4b50u32.to_le_bytes()[..],
            &0x031eu16.to_le_bytes(),
            &20u16.to_le_bytes(),
            &0u16.to_le_bytes(),
            &method.to_le_bytes(),
            &0u16.to_le_bytes(),
            &0x21u16.to_le_bytes(),
            &crc.to_le_bytes(),
            &compressed.to_le_bytes(),
            &size.to_le_bytes(),
            &(name.len() as u16).to_le_bytes(),
            &0u16.to_le_bytes(),
            &0u16.to_le_bytes(),
            &0u16.to_le_bytes(),
            &0u16.to_le_bytes(),
            &attrs.to_le_bytes(),
            &offset.to_le_bytes(),
            name,
        ] {
            self.central.extend_from_slice(part);
        }
        self.count += 1;
    }

    /// A stored file, local header and record agreeing.
    pub fn stored(&mut self, name: &[u8], data: &[u8], attrs: u32) -> &mut Self {
        let crc = crc32(data);
        let at = self.local(name, STORED, crc, data, data.len() as u32);
        self.central(
            name,
            STORED,
            crc,
            data.len() as u32,
            data.len() as u32,
            at,
            attrs,
        );
        self
    }

    /// A deflated file, local header and record agreeing.
    pub fn deflated(&mut self, name: &[u8], data: &[u8]) -> &mut Self {
        let (crc, packed) = (crc32(data), deflate(data));
        let at = self.local(name, DEFLATED, crc, &packed, data.len() as u32);
        self.central(
            name,
            DEFLATED,
            crc,
            packed.len() as u32,
            data.len() as u32,
            at,
            FILE,
        );
        self
    }

    pub fn finish(&self) -> Vec<u8> {
        let mut out = self.body.clone();
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&self.central);
        for part in [
            &0x0605_4b50u32.to_le_bytes()[..],
            &0u16.to_le_bytes(),
            &0u16.to_le_bytes(),
            &self.count.to_le_bytes(),
            &self.count.to_le_bytes(),
            &(self.central.len() as u32).to_le_bytes(),
            &cd_offset.to_le_bytes(),
            &0u16.to_le_bytes(),
        ] {
            out.extend_from_slice(part);
        }
        out
    }
}

/// A stored zip of (name, data, external attributes), written by hand.
pub fn raw_zip(entries: &[(&[u8], &[u8], u32)]) -> Vec<u8> {
    let mut z = RawZip::new();
    for (name, data, attrs) in entries {
        z.stored(name, data, *attrs);
    }
    z.finish()
}

/// A directory under the system's temporary directory, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("mec-csar-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
