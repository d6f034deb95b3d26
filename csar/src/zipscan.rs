//! The archive's own structure, read by hand before any entry is trusted (APPNOTE.TXT 6.3: 4.3.7 local file
//! header, 4.3.12 central directory header, 4.3.14-4.3.16 ZIP64 and end records, 4.5.3 ZIP64 extra field, 4.3.9
//! data descriptor).
//!
//! Every central-directory record is read (duplicates included, which the zip crate folds into one), then its
//! local header: the two must agree (name, method, flags, CRC and sizes), and no two entries (local header,
//! data and data descriptor) may share a byte, nor reach into the central directory. A "non-recursive zip bomb"
//! (many records pointing into one compressed stream) fails the second check; a package that streaming readers
//! would see differently from central-directory readers fails the first.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

const EOCD: u32 = 0x0605_4b50;
const EOCD64: u32 = 0x0606_4b50;
const EOCD64_LOCATOR: u32 = 0x0706_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const LOCAL: u32 = 0x0403_4b50;
const DESCRIPTOR: u32 = 0x0807_4b50;
const SATURATED16: u16 = 0xFFFF;
const SATURATED32: u32 = 0xFFFF_FFFF;

/// One central-directory record and what its local header says.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    pub(crate) name: Vec<u8>,
    pub(crate) method: u16,
    pub(crate) flags: u16,
    pub(crate) crc: u32,
    pub(crate) compressed: u64,
    pub(crate) size: u64,
    pub(crate) header_offset: u64,
    pub(crate) made_by: u16,
    pub(crate) external: u32,
    /// The bytes the entry occupies: local header, data and data descriptor (empty when its local header could
    /// not be read).
    pub(crate) span: Range<u64>,
    /// Where its local header disagrees with this record, if it does.
    pub(crate) header_mismatch: Option<String>,
    /// The records it overlaps (indexes), and whether it reaches into the central directory.
    pub(crate) overlaps: Vec<usize>,
    pub(crate) overlaps_directory: bool,
}

impl Record {
    /// Whether the record describes a symbolic link (Unix mode in the external attributes, Unix or macOS host).
    pub(crate) fn is_symlink(&self) -> bool {
        let host = self.made_by >> 8;
        (host == 3 || host == 19) && (self.external >> 16) & 0o170_000 == 0o120_000
    }
}

/// The structure of an archive.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scan {
    pub(crate) records: Vec<Record>,
}

/// Why an archive cannot be scanned: not a zip at all, or a structure that cannot be trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ScanError {
    /// No end record, truncated, unreadable.
    NotAZip(String),
    /// More records than [`crate::Limits::max_entries`]; the count is given.
    TooManyEntries(u64),
    /// The records disagree with the end record, lie outside the archive, span disks...
    Inconsistent(String),
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?))
}

fn read_at<R: Read + Seek>(r: &mut R, at: u64, len: usize) -> std::io::Result<Vec<u8>> {
    r.seek(SeekFrom::Start(at))?;
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// The ZIP64 extended-information extra field (id 1) of a record: the values that were saturated, in order.
fn zip64_field(extra: &[u8]) -> Option<&[u8]> {
    let mut i = 0;
    while i + 4 <= extra.len() {
        let id = u16_at(extra, i)?;
        let len = usize::from(u16_at(extra, i + 2)?);
        let data = extra.get(i + 4..i + 4 + len)?;
        if id == 1 {
            return Some(data);
        }
        i += 4 + len;
    }
    None
}

/// Replaces saturated 32-bit values with their ZIP64 values, in APPNOTE 4.5.3's order. `None` when a saturated
/// value has no ZIP64 counterpart.
fn widen(extra: &[u8], fields: &mut [(&mut u64, bool)]) -> Option<()> {
    if !fields.iter().any(|(_, saturated)| *saturated) {
        return Some(());
    }
    let data = zip64_field(extra)?;
    let mut at = 0;
    for (value, saturated) in fields.iter_mut() {
        if *saturated {
            **value = u64_at(data, at)?;
            at += 8;
        }
    }
    Some(())
}

/// Finds the end-of-central-directory record: the last signature whose comment length reaches exactly the end
/// of the data. Returns its offset and bytes (22 + comment).
fn find_end<R: Read + Seek>(r: &mut R, len: u64) -> Result<(u64, Vec<u8>), ScanError> {
    let tail_len = len.min(22 + 0xFFFF);
    let start = len - tail_len;
    let tail = read_at(r, start, usize::try_from(tail_len).unwrap_or(0))
        .map_err(|e| ScanError::NotAZip(format!("cannot read the end of the archive: {e}")))?;
    let mut at = tail.len().saturating_sub(22);
    loop {
        if u32_at(&tail, at) == Some(EOCD)
            && u16_at(&tail, at + 20).map(|c| at + 22 + usize::from(c)) == Some(tail.len())
        {
            return Ok((start + at as u64, tail[at..].to_vec()));
        }
        if at == 0 {
            return Err(ScanError::NotAZip(
                "no end-of-central-directory record (not a zip, or truncated)".into(),
            ));
        }
        at -= 1;
    }
}

/// Reads the archive's structure. `max_entries` and `max_directory` bound what is read.
pub(crate) fn scan<R: Read + Seek>(
    r: &mut R,
    max_entries: usize,
    max_directory: u64,
) -> Result<Scan, ScanError> {
    let len = r
        .seek(SeekFrom::End(0))
        .map_err(|e| ScanError::NotAZip(e.to_string()))?;
    if len < 22 {
        return Err(ScanError::NotAZip(format!(
            "{len} bytes: too short for a zip"
        )));
    }
    let (end_at, end) = find_end(r, len)?;
    let inconsistent = |m: &str| ScanError::Inconsistent(m.to_owned());
    let bad = || inconsistent("the end-of-central-directory record is malformed");
    let (disk, cd_disk) = (
        u16_at(&end, 4).ok_or_else(bad)?,
        u16_at(&end, 6).ok_or_else(bad)?,
    );
    let (here, total) = (
        u16_at(&end, 8).ok_or_else(bad)?,
        u16_at(&end, 10).ok_or_else(bad)?,
    );
    let (cd_size32, cd_offset32) = (
        u32_at(&end, 12).ok_or_else(bad)?,
        u32_at(&end, 16).ok_or_else(bad)?,
    );
    let mut entries = u64::from(total);
    let mut cd_size = u64::from(cd_size32);
    let mut cd_offset = u64::from(cd_offset32);
    // The end of the last entry's data: the ZIP64 end record, when there is one, else the end record.
    let mut records_end = end_at;
    let locator = if end_at >= 20 {
        read_at(r, end_at - 20, 20).ok()
    } else {
        None
    };
    if let Some(locator) = locator.filter(|l| u32_at(l, 0) == Some(EOCD64_LOCATOR)) {
        let bad = || inconsistent("the ZIP64 end record is malformed");
        let at = u64_at(&locator, 8).ok_or_else(bad)?;
        if u32_at(&locator, 4) != Some(0) || u32_at(&locator, 16) != Some(1) {
            return Err(inconsistent("the archive spans several disks"));
        }
        if at.checked_add(56).is_none_or(|e| e > end_at - 20) {
            return Err(inconsistent(
                "the ZIP64 end record lies outside the archive",
            ));
        }
        let rec = read_at(r, at, 56).map_err(|e| ScanError::NotAZip(e.to_string()))?;
        if u32_at(&rec, 0) != Some(EOCD64) {
            return Err(inconsistent(
                "the ZIP64 end record is not where its locator says",
            ));
        }
        let (disk64, cd_disk64) = (
            u32_at(&rec, 16).ok_or_else(bad)?,
            u32_at(&rec, 20).ok_or_else(bad)?,
        );
        let (here64, total64) = (
            u64_at(&rec, 24).ok_or_else(bad)?,
            u64_at(&rec, 32).ok_or_else(bad)?,
        );
        let (size64, offset64) = (
            u64_at(&rec, 40).ok_or_else(bad)?,
            u64_at(&rec, 48).ok_or_else(bad)?,
        );
        if disk64 != 0 || cd_disk64 != 0 || here64 != total64 {
            return Err(inconsistent("the archive spans several disks"));
        }
        // A 32-bit value that is not saturated must agree with its ZIP64 value.
        let agree = (total == SATURATED16 || u64::from(total) == total64)
            && (cd_size32 == SATURATED32 || u64::from(cd_size32) == size64)
            && (cd_offset32 == SATURATED32 || u64::from(cd_offset32) == offset64);
        if !agree {
            return Err(inconsistent(
                "the end record and the ZIP64 end record disagree",
            ));
        }
        (entries, cd_size, cd_offset) = (total64, size64, offset64);
        records_end = at;
    } else if total == SATURATED16 || cd_size32 == SATURATED32 || cd_offset32 == SATURATED32 {
        return Err(inconsistent("a ZIP64 archive without its ZIP64 end record"));
    }
    if disk != 0 || cd_disk != 0 || here != total {
        return Err(inconsistent("the archive spans several disks"));
    }
    if entries > max_entries as u64 {
        return Err(ScanError::TooManyEntries(entries));
    }
    if cd_offset
        .checked_add(cd_size)
        .is_none_or(|e| e != records_end)
    {
        return Err(inconsistent(
            "the central directory is not where the end record says (data before or after it)",
        ));
    }
    if cd_size > max_directory {
        return Err(inconsistent(&format!(
            "the central directory is {cd_size} bytes, more than the {max_directory} read into memory"
        )));
    }
    let cd = read_at(r, cd_offset, usize::try_from(cd_size).unwrap_or(usize::MAX))
        .map_err(|e| ScanError::NotAZip(format!("cannot read the central directory: {e}")))?;
    let mut records = Vec::new();
    let mut i = 0usize;
    for n in 0..entries {
        let bad = || inconsistent(&format!("central directory record {n} is malformed"));
        if u32_at(&cd, i) != Some(CENTRAL) {
            return Err(inconsistent(&format!(
                "the end record announces {entries} entries; the central directory holds {n}"
            )));
        }
        let (name_len, extra_len, comment_len) = (
            usize::from(u16_at(&cd, i + 28).ok_or_else(bad)?),
            usize::from(u16_at(&cd, i + 30).ok_or_else(bad)?),
            usize::from(u16_at(&cd, i + 32).ok_or_else(bad)?),
        );
        let name = cd.get(i + 46..i + 46 + name_len).ok_or_else(bad)?.to_vec();
        let extra = cd
            .get(i + 46 + name_len..i + 46 + name_len + extra_len)
            .ok_or_else(bad)?;
        let (c32, s32, o32) = (
            u32_at(&cd, i + 20).ok_or_else(bad)?,
            u32_at(&cd, i + 24).ok_or_else(bad)?,
            u32_at(&cd, i + 42).ok_or_else(bad)?,
        );
        let (mut size, mut compressed, mut header_offset) =
            (u64::from(s32), u64::from(c32), u64::from(o32));
        widen(
            extra,
            &mut [
                (&mut size, s32 == SATURATED32),
                (&mut compressed, c32 == SATURATED32),
                (&mut header_offset, o32 == SATURATED32),
            ],
        )
        .ok_or_else(|| {
            inconsistent(&format!(
                "central directory record {n} lacks the ZIP64 values it announces"
            ))
        })?;
        if u16_at(&cd, i + 34) != Some(0) && u16_at(&cd, i + 34) != Some(SATURATED16) {
            return Err(inconsistent("the archive spans several disks"));
        }
        records.push(Record {
            name,
            method: u16_at(&cd, i + 10).ok_or_else(bad)?,
            flags: u16_at(&cd, i + 8).ok_or_else(bad)?,
            crc: u32_at(&cd, i + 16).ok_or_else(bad)?,
            compressed,
            size,
            header_offset,
            made_by: u16_at(&cd, i + 4).ok_or_else(bad)?,
            external: u32_at(&cd, i + 38).ok_or_else(bad)?,
            span: 0..0,
            header_mismatch: None,
            overlaps: Vec::new(),
            overlaps_directory: false,
        });
        i += 46 + name_len + extra_len + comment_len;
    }
    if i as u64 != cd_size {
        return Err(inconsistent(&format!(
            "the central directory is {cd_size} bytes, its {entries} records {i}"
        )));
    }
    for record in &mut records {
        check_local_header(r, record, cd_offset);
    }
    find_overlaps(&mut records, cd_offset);
    Ok(Scan { records })
}

/// Reads a record's local header, compares it with the record, and sets the record's span.
fn check_local_header<R: Read + Seek>(r: &mut R, rec: &mut Record, cd_offset: u64) {
    let mismatch = |rec: &mut Record, m: String| rec.header_mismatch = Some(m);
    if rec.header_offset.saturating_add(30) > cd_offset {
        return mismatch(
            rec,
            "its local header lies outside the entries' area".into(),
        );
    }
    let Ok(fixed) = read_at(r, rec.header_offset, 30) else {
        return mismatch(rec, "its local header cannot be read".into());
    };
    if u32_at(&fixed, 0) != Some(LOCAL) {
        return mismatch(
            rec,
            "no local header where the central directory says".into(),
        );
    }
    let field16 = |i| u16_at(&fixed, i).unwrap_or_default();
    let field32 = |i| u32_at(&fixed, i).unwrap_or_default();
    let (flags, method, crc) = (field16(6), field16(8), field32(14));
    let (c32, s32) = (field32(18), field32(22));
    let (name_len, extra_len) = (usize::from(field16(26)), usize::from(field16(28)));
    let Ok(variable) = read_at(r, rec.header_offset + 30, name_len + extra_len) else {
        return mismatch(rec, "its local header is truncated".into());
    };
    let (name, extra) = variable.split_at(name_len);
    let data_start = rec.header_offset + 30 + (name_len + extra_len) as u64;
    let Some(data_end) = data_start.checked_add(rec.compressed) else {
        return mismatch(rec, "its compressed size overflows".into());
    };
    rec.span = rec.header_offset..data_end;
    if name != rec.name.as_slice() {
        return mismatch(
            rec,
            format!(
                "its local header names it {:?}",
                String::from_utf8_lossy(name)
            ),
        );
    }
    if method != rec.method {
        return mismatch(
            rec,
            format!(
                "compression method {method} in its local header, {} in the central directory",
                rec.method
            ),
        );
    }
    // Bit 0 (encrypted) and bit 3 (sizes in a data descriptor) change how the data is read.
    if flags & 0b1001 != rec.flags & 0b1001 {
        return mismatch(
            rec,
            "its local header's flags (encryption, data descriptor) differ".into(),
        );
    }
    if rec.method == 0 && rec.compressed != rec.size {
        return mismatch(
            rec,
            format!(
                "stored, yet {} bytes stored for {} declared",
                rec.compressed, rec.size
            ),
        );
    }
    let zip64 = zip64_field(extra).is_some();
    if flags & 0b1000 == 0 {
        // APPNOTE 4.5.3: a local header's ZIP64 field holds both sizes.
        let (mut size, mut compressed) = (u64::from(s32), u64::from(c32));
        if (s32 == SATURATED32 || c32 == SATURATED32)
            && widen(extra, &mut [(&mut size, true), (&mut compressed, true)]).is_none()
        {
            return mismatch(rec, "its local header lacks its ZIP64 sizes".into());
        }
        if crc != rec.crc || size != rec.size || compressed != rec.compressed {
            mismatch(
                rec,
                format!(
                    "its local header says CRC {crc:08x}, {compressed} bytes stored, {size} inflated; the central directory CRC {:08x}, {}, {}",
                    rec.crc, rec.compressed, rec.size
                ),
            );
        }
    } else {
        // The data descriptor follows the data: an optional signature, the CRC, then both sizes (8 bytes each in
        // ZIP64 entries).
        let sizes = if zip64 || rec.size >= u64::from(SATURATED32) {
            16
        } else {
            8
        };
        let signed = read_at(r, data_end, 4)
            .ok()
            .is_some_and(|b| u32_at(&b, 0) == Some(DESCRIPTOR));
        let len = if signed { 4 } else { 0 } + 4 + sizes;
        rec.span = rec.header_offset..data_end.saturating_add(len);
    }
}

/// Marks every record that shares a byte with another, or reaches into the central directory.
fn find_overlaps(records: &mut [Record], cd_offset: u64) {
    let mut order: Vec<usize> = (0..records.len())
        .filter(|&i| !records[i].span.is_empty())
        .collect();
    order.sort_by_key(|&i| (records[i].span.start, records[i].span.end));
    // The record reaching furthest so far: any later record starting before its end overlaps it.
    let mut furthest: Option<usize> = None;
    for &i in &order {
        if records[i].span.end > cd_offset {
            records[i].overlaps_directory = true;
        }
        if let Some(f) = furthest {
            if records[i].span.start < records[f].span.end {
                records[i].overlaps.push(f);
                records[f].overlaps.push(i);
            }
            if records[i].span.end > records[f].span.end {
                furthest = Some(i);
            }
        } else {
            furthest = Some(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn record(span: Range<u64>) -> Record {
        Record {
            name: Vec::new(),
            method: 0,
            flags: 0,
            crc: 0,
            compressed: 0,
            size: 0,
            header_offset: span.start,
            made_by: 0,
            external: 0,
            span,
            header_mismatch: None,
            overlaps: Vec::new(),
            overlaps_directory: false,
        }
    }

    #[test]
    fn overlaps_are_found_in_any_order_and_adjacent_spans_are_not_overlaps() {
        let mut r = vec![record(0..10), record(10..20), record(5..12), record(30..50)];
        find_overlaps(&mut r, 40);
        assert_eq!(r[0].overlaps, [2]);
        assert_eq!(r[1].overlaps, [2]);
        assert_eq!(r[2].overlaps.len(), 2);
        assert!(r[3].overlaps.is_empty() && r[3].overlaps_directory);
        assert!(!r[1].overlaps_directory);
    }

    #[test]
    fn a_record_inside_a_long_one_is_caught_after_a_short_one() {
        // 0..100 contains 10..20 and 30..40; 30..40 starts after 10..20 ends but inside 0..100.
        let mut r = vec![record(0..100), record(10..20), record(30..40)];
        find_overlaps(&mut r, 1000);
        assert_eq!(r[2].overlaps, [0]);
    }

    #[test]
    fn junk_and_truncation_are_not_zips() {
        assert!(matches!(
            scan(&mut Cursor::new(b"short"), 10, 1 << 20),
            Err(ScanError::NotAZip(_))
        ));
        assert!(matches!(
            scan(&mut Cursor::new(vec![0u8; 100]), 10, 1 << 20),
            Err(ScanError::NotAZip(_))
        ));
    }
}
