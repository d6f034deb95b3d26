#![no_main]
//! The TOSCA.meta parser on arbitrary text.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(m) = mec_csar::ToscaMeta::parse(text)
    {
        let _ = mec_csar::ToscaMeta::parse(&m.to_string());
    }
});
