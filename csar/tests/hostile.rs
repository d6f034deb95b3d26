//! Hostile archives, each built here byte by byte: entries sharing compressed data (the "non-recursive zip
//! bomb"), local headers disagreeing with the central directory, small entries that inflate like a bomb
//! together, data inflating past its declared size, corrupt unlisted entries, extraction into a tree that
//! already holds links, and inputs built to be slow or large (findings capped, lists bounded).

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

mod common;

use common::*;
use mec_csar::{Error, Limits, Package, Severity, codes, validate};
use std::io::Cursor;

/// Bytes that deflate does not shrink (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn open(bytes: Vec<u8>) -> Package<Cursor<Vec<u8>>> {
    Package::from_reader(Cursor::new(bytes), Limits::default()).unwrap()
}

// ---- 2. overlapping entries, local headers, bytes actually inflated ----

#[test]
fn central_directory_records_sharing_one_compressed_stream_are_refused_before_any_inflation() {
    // Five records point at the one local header and stream: 64 KiB on disk would inflate five times. The data
    // does not compress, so no ratio rule sees it: only the overlap does.
    let data = noise(64 << 10);
    let (crc, packed) = (crc32(&data), deflate(&data));
    let mut z = RawZip::new();
    let at = z.local(b"copy0", DEFLATED, crc, &packed, data.len() as u32);
    for i in 0..5 {
        z.central(
            format!("copy{i}").as_bytes(),
            DEFLATED,
            crc,
            packed.len() as u32,
            data.len() as u32,
            at,
            FILE,
        );
    }
    let bytes = z.finish();
    assert!(bytes.len() < 80 << 10, "small on disk");
    let r = refused_with(&bytes, codes::OVERLAPPING_ENTRIES);
    assert_eq!(r.with_code(codes::OVERLAPPING_ENTRIES).len(), 5, "{r}");
    // The records naming another entry than their local header are caught too.
    assert_eq!(r.with_code(codes::LOCAL_HEADER_MISMATCH).len(), 4, "{r}");
    assert!(!r.with_code(codes::CONTENT_NOT_READ).is_empty(), "{r}");
    assert_eq!(r.bytes_hashed, 0);
    let mut p = open(bytes);
    assert!(p.refusal().is_some());
    assert!(matches!(p.read("copy0"), Err(Error::Refused(_))));
    assert!(matches!(
        p.extract(std::env::temp_dir().join("never-created")),
        Err(Error::Refused(_))
    ));
}

#[test]
fn an_entry_whose_data_holds_the_next_entry_is_refused_though_every_name_agrees() {
    // "a" is stored and its declared data runs over "b"'s local header and data: a streaming reader sees two
    // files, a central-directory reader three copies of b's bytes.
    let mut inner = RawZip::new();
    inner.stored(b"b", b"hello", FILE);
    let b_bytes = inner.body.clone();
    let mut z = RawZip::new();
    let crc = crc32(&b_bytes);
    let at_a = z.header(
        b"a",
        STORED,
        crc,
        b_bytes.len() as u32,
        b_bytes.len() as u32,
    );
    let at_b = z.body.len() as u32;
    z.body.extend_from_slice(&b_bytes);
    z.central(
        b"a",
        STORED,
        crc,
        b_bytes.len() as u32,
        b_bytes.len() as u32,
        at_a,
        FILE,
    );
    z.central(b"b", STORED, crc32(b"hello"), 5, 5, at_b, FILE);
    let r = check(&z.finish());
    assert!(!r.is_valid());
    let overlapping: Vec<_> = r
        .with_code(codes::OVERLAPPING_ENTRIES)
        .iter()
        .filter_map(|f| f.entry.clone())
        .collect();
    assert_eq!(overlapping, ["a", "b"], "{r}");
    assert!(r.with_code(codes::LOCAL_HEADER_MISMATCH).is_empty(), "{r}");
}

#[test]
fn a_local_header_naming_another_file_is_refused() {
    let mut z = RawZip::new();
    let crc = crc32(b"#!/bin/sh\n");
    let at = z.local(b"README.txt", STORED, crc, b"#!/bin/sh\n", 10);
    z.central(b"install.sh", STORED, crc, 10, 10, at, FILE);
    let r = refused_with(&z.finish(), codes::LOCAL_HEADER_MISMATCH);
    let f = r.with_code(codes::LOCAL_HEADER_MISMATCH)[0];
    assert_eq!(f.entry.as_deref(), Some("install.sh"));
    assert!(f.message.contains("README.txt"), "{f}");
    // A record pointing where there is no local header at all.
    let mut z = RawZip::new();
    z.stored(b"a.txt", b"some text", FILE);
    z.central(b"b.txt", STORED, 0, 4, 4, 5, FILE);
    let r = refused_with(&z.finish(), codes::LOCAL_HEADER_MISMATCH);
    let f = r.with_code(codes::LOCAL_HEADER_MISMATCH)[0];
    assert_eq!(f.entry.as_deref(), Some("b.txt"));
    assert!(f.message.contains("no local header"), "{f}");
}

#[test]
fn local_headers_disagreeing_on_size_method_or_crc_are_refused() {
    for (method, crc_delta, size_delta) in [(DEFLATED, 0, 0), (STORED, 1, 0), (STORED, 0, 1)] {
        let data = b"the data";
        let mut z = RawZip::new();
        let crc = crc32(data);
        let at = z.local(b"f", STORED, crc, data, data.len() as u32);
        let size = data.len() as u32 + size_delta;
        z.central(
            b"f",
            method,
            crc + crc_delta,
            data.len() as u32,
            size,
            at,
            FILE,
        );
        refused_with(&z.finish(), codes::LOCAL_HEADER_MISMATCH);
    }
}

#[test]
fn three_thousand_entries_of_a_mebibyte_each_are_a_bomb_together() {
    // Each entry inflates 1 MiB of zeros from about 1 KiB: under the per-entry rule (entries over 1 MiB), but
    // 3 GiB from 3 MiB together.
    let zeros = vec![0u8; 1 << 20];
    let (crc, packed) = (crc32(&zeros), deflate(&zeros));
    let mut z = RawZip::new();
    for i in 0..3000 {
        let name = format!("Artifacts/Other/f{i}.bin");
        let at = z.local(name.as_bytes(), DEFLATED, crc, &packed, 1 << 20);
        z.central(
            name.as_bytes(),
            DEFLATED,
            crc,
            packed.len() as u32,
            1 << 20,
            at,
            FILE,
        );
    }
    let r = refused_with(&z.finish(), codes::ZIP_BOMB);
    let bomb = r.with_code(codes::ZIP_BOMB);
    assert_eq!(
        bomb.len(),
        1,
        "one finding for the package, none per entry: {r}"
    );
    assert_eq!(bomb[0].entry, None);
    assert!(bomb[0].message.contains("3145728000 bytes"), "{}", bomb[0]);
    assert_eq!(r.bytes_hashed, 0, "nothing was inflated");
}

#[test]
fn data_inflating_past_its_declared_size_is_stopped_there() {
    // The record says 1,000 bytes; the stream holds 1 MiB of zeros (and its ratio, at 1,000 declared bytes, is
    // no bomb's).
    let zeros = vec![0u8; 1 << 20];
    let packed = deflate(&zeros);
    let crc = crc32(&zeros[..1000]);
    let mut z = RawZip::new();
    let at = z.local(b"big.bin", DEFLATED, crc, &packed, 1000);
    z.central(
        b"big.bin",
        DEFLATED,
        crc,
        packed.len() as u32,
        1000,
        at,
        FILE,
    );
    let bytes = z.finish();
    let mut p = open(bytes.clone());
    let mut seen = 0usize;
    let e = p.stream("big.bin", |c| seen += c.len()).unwrap_err();
    assert!(e.is_corrupt(), "{e}");
    assert!(seen <= 1000, "{seen} bytes reached the sink");
    let r = refused_with(&bytes, codes::UNREADABLE_ENTRY);
    assert_eq!(
        r.with_code(codes::UNREADABLE_ENTRY)[0].entry.as_deref(),
        Some("big.bin")
    );
}

// ---- 4. unlisted entries are read too ----

#[test]
fn corrupt_or_oversized_unlisted_entries_are_errors() {
    let good = build(eg_builder());
    // An unlisted stored file whose CRC is wrong, appended to a valid package's entries.
    let mut z = RawZip::new();
    let mut archive = zip::ZipArchive::new(Cursor::new(&good)).unwrap();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut data).unwrap();
        z.stored(name.as_bytes(), &data, FILE);
    }
    let at = z.local(
        b"Artifacts/Other/notes.txt",
        STORED,
        0xDEAD_BEEF,
        b"notes",
        5,
    );
    z.central(
        b"Artifacts/Other/notes.txt",
        STORED,
        0xDEAD_BEEF,
        5,
        5,
        at,
        FILE,
    );
    let r = refused_with(&z.finish(), codes::UNREADABLE_ENTRY);
    let f = r.with_code(codes::UNREADABLE_ENTRY)[0];
    assert_eq!(f.entry.as_deref(), Some("Artifacts/Other/notes.txt"));
    assert!(
        r.with_code(codes::FILE_NOT_LISTED)
            .iter()
            .any(|f| f.entry.as_deref() == Some("Artifacts/Other/notes.txt")),
        "it is unlisted: {r}"
    );

    // An unlisted deflated file holding more than it declares.
    let zeros = vec![0u8; 64 << 10];
    let packed = deflate(&zeros);
    let at = z.local(
        b"Artifacts/Other/more.bin",
        DEFLATED,
        crc32(&zeros[..10]),
        &packed,
        10,
    );
    z.central(
        b"Artifacts/Other/more.bin",
        DEFLATED,
        crc32(&zeros[..10]),
        packed.len() as u32,
        10,
        at,
        FILE,
    );
    let r = check(&z.finish());
    assert!(
        r.with_code(codes::UNREADABLE_ENTRY)
            .iter()
            .any(|f| f.entry.as_deref() == Some("Artifacts/Other/more.bin")
                && f.severity == Severity::Error),
        "{r}"
    );
}

// ---- 3. extraction ----

#[test]
fn extraction_never_writes_through_a_link_already_in_the_target() {
    let tmp = TempDir::new("links");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let target = tmp.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::os::unix::fs::symlink(&elsewhere, target.join("Artifacts")).unwrap();
    let e = open(build(eg_builder())).extract(&target).unwrap_err();
    assert!(matches!(e, Error::TargetExists(_)), "{e}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    // A target that is itself a link is refused too.
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    assert!(matches!(
        open(build(eg_builder())).extract(&link),
        Err(Error::TargetExists(_))
    ));
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    // An empty directory is filled.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_eq!(open(build(eg_builder())).extract(&empty).unwrap(), 6);
    assert!(empty.join("Artifacts/Docs/README.md").is_file());
}

#[test]
fn extraction_refuses_duplicates_as_validation_does() {
    let bytes = raw_zip(&[(b"a.txt", b"first", FILE), (b"a.txt", b"second", FILE)]);
    refused_with(&bytes, codes::DUPLICATE_ENTRY);
    let tmp = TempDir::new("dups");
    let target = tmp.path().join("out");
    assert!(matches!(
        open(bytes).extract(&target),
        Err(Error::Unsafe(_))
    ));
    assert!(!target.exists());
    // A file and a directory of the same name collide as well.
    let bytes = raw_zip(&[(b"a", b"file", FILE), (b"a/b", b"in a dir", FILE)]);
    let e = open(bytes).extract(&target).unwrap_err();
    assert!(e.is_io() || e.is_unsafe(), "{e}");
    assert!(!target.exists());
}

#[test]
fn a_failed_extraction_leaves_nothing_behind() {
    // The third entry is corrupt: the first two are written, then the whole extraction is undone.
    let mut z = RawZip::new();
    z.stored(b"a.txt", b"one", FILE)
        .stored(b"dir/b.txt", b"two", FILE);
    let at = z.local(b"dir/c.txt", STORED, 0x1234_5678, b"three", 5);
    z.central(b"dir/c.txt", STORED, 0x1234_5678, 5, 5, at, FILE);
    let tmp = TempDir::new("undo");
    let target = tmp.path().join("out");
    let e = open(z.finish()).extract(&target).unwrap_err();
    assert!(e.is_corrupt(), "{e}");
    assert!(!target.exists());
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "no staging directory left"
    );
}

#[test]
fn a_failed_pack_leaves_no_partial_file_and_keeps_the_old_one() {
    let tmp = TempDir::new("pack");
    let out = tmp.path().join("demo.csar");
    std::fs::write(&out, b"the previous package").unwrap();
    let e = eg_builder()
        .file_from_disk("Image/vm.qcow2", tmp.path().join("no-such-image"))
        .write_to_path(&out, &mut |_, _| {})
        .unwrap_err();
    assert!(e.is_io(), "{e}");
    assert_eq!(std::fs::read(&out).unwrap(), b"the previous package");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
    eg_builder().write_to_path(&out, &mut |_, _| {}).unwrap();
    assert!(check(&std::fs::read(&out).unwrap()).is_valid());
}

// ---- 5. cost: lists bounded, findings capped ----

#[test]
fn a_tosca_meta_of_many_blocks_is_bounded_and_its_findings_capped() {
    // 100,000 `Name:` blocks naming absent files: within the list limit, each found missing in constant time,
    // and reported 100 times plus one count.
    let mut meta = String::from(
        "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: x\nEntry-Definitions: a.yaml\n",
    );
    for i in 0..100_000 {
        meta.push_str(&format!("\nName: Files/f{i}.txt\nContent-Type: text\n"));
    }
    let bytes = zip_of(&[
        ("TOSCA-Metadata/TOSCA.meta", meta.as_bytes()),
        (
            "a.yaml",
            b"tosca_definitions_version: tosca_simple_yaml_1_3\n",
        ),
    ]);
    let mut limits = Limits::default();
    limits.max_list_items = 200_000;
    let r = validate(Cursor::new(&bytes), &limits);
    let missing = r.with_code(codes::META_NAME_MISSING);
    assert_eq!(missing.len(), 101, "100 listed and one count: {r}");
    assert!(
        missing[100].message.contains("99900 more"),
        "{}",
        missing[100]
    );
    assert_eq!(r.findings_omitted, 99_900);
    // With the default limit (65,536 items), the file is refused as malformed without being kept in memory.
    let r = validate(Cursor::new(&bytes), &Limits::default());
    let malformed = r.with_code(codes::META_MALFORMED);
    assert!(malformed[0].message.contains("more than 65536"), "{r}");
}

#[test]
fn a_manifest_of_a_million_sources_is_refused_at_the_list_limit() {
    use std::fmt::Write as _;
    let mut mf = String::with_capacity(40 << 20);
    mf.push_str("metadata:\nvnf_product_name: x\n");
    for i in 0..1_000_000 {
        let _ = write!(mf, "\nSource: f{i}\nAlgorithm: SHA-256\nHash: 00\n");
    }
    let mut z = RawZip::new();
    z.stored(
        b"a.yaml",
        b"tosca_definitions_version: tosca_simple_yaml_1_3\n",
        FILE,
    )
    .stored(b"a.mf", mf.as_bytes(), FILE);
    let bytes = z.finish();
    let r = refused_with(&bytes, codes::MANIFEST_MALFORMED);
    assert!(
        r.with_code(codes::MANIFEST_MALFORMED)[0]
            .message
            .contains("more than 65536 entries"),
        "{r}"
    );
    // Below the limit, each missing source is a finding, capped.
    let mut limits = Limits::default();
    limits.max_findings_per_code = 10;
    let small: String = mf.lines().take(3 + 4 * 500).collect::<Vec<_>>().join("\n");
    let bytes = zip_of(&[
        (
            "a.yaml",
            b"tosca_definitions_version: tosca_simple_yaml_1_3\n",
        ),
        ("a.mf", small.as_bytes()),
    ]);
    let r = validate(Cursor::new(&bytes), &limits);
    assert_eq!(r.with_code(codes::SOURCE_MISSING).len(), 11, "{r}");
    assert_eq!(r.findings_omitted, 490);
}

#[test]
fn every_limit_is_answered_by_a_finding_naming_it() {
    let bytes = build(eg_builder());
    let mut limits = Limits::default();
    limits.max_total_size = 100;
    let r = validate(Cursor::new(&bytes), &limits);
    assert!(
        r.with_code(codes::TOO_LARGE)[0]
            .message
            .contains("at most 100")
    );
    let mut limits = Limits::default();
    limits.max_in_memory = 100;
    let r = validate(Cursor::new(&bytes), &limits);
    assert!(!r.is_valid(), "{r}");
    let mut limits = Limits::default();
    limits.yaml_max_events = 10;
    let r = validate(Cursor::new(&bytes), &limits);
    assert!(!r.with_code(codes::YAML_BUDGET).is_empty(), "{r}");
}

#[test]
fn the_builders_own_packages_pass_every_structural_check() {
    let p = open(build(
        eg_builder().file("Artifacts/Other/data.bin", noise(3 << 20)),
    ));
    assert!(p.refusal().is_none());
    assert!(
        p.structural_findings().is_empty(),
        "{:?}",
        p.structural_findings()
    );
    assert!(
        p.entries()
            .windows(2)
            .all(|w| w[0].stored.end <= w[1].stored.start)
    );
}

#[test]
fn archives_with_data_descriptors_as_java_writes_them_open_cleanly() {
    // A streamed zip (sizes and CRC after the data, flag bit 3), as java.util.zip.ZipOutputStream writes
    // EdgeGallery's packages.
    let mut w = zip::ZipWriter::new_stream(Vec::new());
    for (name, data) in [
        (
            "a.yaml",
            &b"tosca_definitions_version: tosca_simple_yaml_1_3\n"[..],
        ),
        ("Files/data.bin", &noise(100_000)[..]),
        ("Files/empty.txt", &b""[..]),
    ] {
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut w, data).unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    assert_ne!(
        bytes[6] & 0b1000,
        0,
        "the first entry has a data descriptor"
    );
    let mut p = open(bytes);
    assert!(p.refusal().is_none(), "{:?}", p.structural_findings());
    assert!(
        p.structural_findings().is_empty(),
        "{:?}",
        p.structural_findings()
    );
    assert_eq!(p.read("Files/data.bin").unwrap(), noise(100_000));
    assert!(p.read("Files/empty.txt").unwrap().is_empty());
}
