#![no_main]
//! The central-directory and local-header checks, on archives assembled from fuzzed parts: records pointing at
//! any part's local header, local headers naming other files or disagreeing on method, CRC and sizes, data
//! shared between records, bytes flipped anywhere. Whatever the input, opening never panics, and a package
//! that opens keeps these promises:
//! - a refused package reads nothing;
//! - the entries that may be read never share a byte, and each one's local header names it;
//! - reading an entry never yields more than its declared size, and succeeds only with exactly that size.
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use mec_csar::{Limits, Package};
use std::io::Cursor;

#[derive(Arbitrary, Debug)]
struct Part {
    name: Vec<u8>,
    /// The name in the local header, when it differs.
    local_name: Option<Vec<u8>>,
    data: Vec<u8>,
    deflated: bool,
    /// How far the declared size is from the data's.
    size_delta: i8,
    crc_wrong: bool,
    /// The record points at another part's local header.
    points_at: Option<u8>,
    /// Extra records for this part (several records, one stream).
    copies: u8,
}

#[derive(Arbitrary, Debug)]
struct Input {
    parts: Vec<Part>,
    /// A byte to change after assembly: (position, xor).
    flip: Option<(u16, u8)>,
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn assemble(input: &Input) -> Vec<u8> {
    let mut body = Vec::new();
    let mut central = Vec::new();
    let mut offsets = Vec::new();
    let mut records = 0u16;
    let parts = &input.parts[..input.parts.len().min(16)];
    for p in parts {
        let name = &p.name[..p.name.len().min(64)];
        let local_name = p.local_name.as_deref().unwrap_or(name);
        let local_name = &local_name[..local_name.len().min(64)];
        let data = &p.data[..p.data.len().min(4096)];
        let method: u16 = if p.deflated { 8 } else { 0 };
        let crc = crc32(data) ^ u32::from(p.crc_wrong);
        let size = (data.len() as i64 + i64::from(p.size_delta)).max(0) as u32;
        offsets.push(body.len() as u32);
        for part in [
            &0x0403_4b50u32.to_le_bytes()[..],
            &20u16.to_le_bytes(),
            &0u16.to_le_bytes(),
            &method.to_le_bytes(),
            &[0; 4],
            &crc.to_le_bytes(),
            &(data.len() as u32).to_le_bytes(),
            &size.to_le_bytes(),
            &(local_name.len() as u16).to_le_bytes(),
            &0u16.to_le_bytes(),
            local_name,
            data,
        ] {
            body.extend_from_slice(part);
        }
    }
    for (i, p) in parts.iter().enumerate() {
        let name = &p.name[..p.name.len().min(64)];
        let data_len = p.data.len().min(4096) as u32;
        let size = (i64::from(data_len) + i64::from(p.size_delta)).max(0) as u32;
        let method: u16 = if p.deflated { 8 } else { 0 };
        let crc = crc32(&p.data[..data_len as usize]) ^ u32::from(p.crc_wrong);
        let offset = match p.points_at {
            Some(j) => offsets[usize::from(j) % offsets.len()],
            None => offsets[i],
        };
        for copy in 0..=(p.copies % 4) {
            let mut record_name = name.to_vec();
            if copy > 0 {
                record_name.push(b'0' + copy);
            }
            for part in [
                &0x0201_4b50u32.to_le_bytes()[..],
                &0x031eu16.to_le_bytes(),
                &20u16.to_le_bytes(),
                &0u16.to_le_bytes(),
                &method.to_le_bytes(),
                &[0; 4],
                &crc.to_le_bytes(),
                &data_len.to_le_bytes(),
                &size.to_le_bytes(),
                &(record_name.len() as u16).to_le_bytes(),
                &[0; 8],
                &(0o100_644u32 << 16).to_le_bytes(),
                &offset.to_le_bytes(),
                &record_name,
            ] {
                central.extend_from_slice(part);
            }
            records += 1;
        }
    }
    let mut out = body;
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    for part in [
        &0x0605_4b50u32.to_le_bytes()[..],
        &[0; 4],
        &records.to_le_bytes(),
        &records.to_le_bytes(),
        &(central.len() as u32).to_le_bytes(),
        &cd_offset.to_le_bytes(),
        &0u16.to_le_bytes(),
    ] {
        out.extend_from_slice(part);
    }
    if let Some((at, xor)) = input.flip {
        let n = out.len();
        out[usize::from(at) % n] ^= xor;
    }
    out
}

fuzz_target!(|input: Input| {
    let bytes = assemble(&input);
    let mut limits = Limits::default();
    limits.max_in_memory = 1 << 20;
    let Ok(mut pkg) = Package::from_reader(Cursor::new(bytes.clone()), limits.clone()) else {
        return;
    };
    let names: Vec<(String, u64)> = pkg
        .entries()
        .iter()
        .filter(|e| e.safe && !e.is_dir)
        .map(|e| (e.name.clone(), e.size))
        .collect();
    if pkg.refusal().is_some() {
        for (name, _) in &names {
            assert!(pkg.read(name).is_err(), "a refused package read {name}");
        }
        return;
    }
    let mut spans: Vec<_> = pkg
        .entries()
        .iter()
        .filter(|e| e.safe)
        .map(|e| (e.stored.clone(), e.name.clone()))
        .collect();
    spans.sort_by_key(|(s, _)| s.start);
    for w in spans.windows(2) {
        assert!(w[0].0.end <= w[1].0.start, "{:?} overlaps {:?}", w[0], w[1]);
    }
    for (span, name) in &spans {
        let at = usize::try_from(span.start).unwrap() + 30;
        assert_eq!(
            bytes.get(at..at + name.len()),
            Some(name.as_bytes()),
            "the local header of {name} names another entry"
        );
    }
    for (name, declared) in names {
        let mut seen = 0u64;
        let result = pkg.stream(&name, |c| seen += c.len() as u64);
        assert!(seen <= declared, "{name}: {seen} bytes for {declared} declared");
        if result.is_ok() {
            assert_eq!(seen, declared);
        }
    }
    let _ = mec_csar::validate(Cursor::new(&bytes), &limits);
});
