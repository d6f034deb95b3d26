#![no_main]
//! The manifest parser on arbitrary text; a parsed manifest must read back the same after writing.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(m) = mec_csar::Manifest::parse(text)
    {
        let _ = m.signed_content();
        let _ = mec_csar::Manifest::parse(&m.to_string());
    }
});
