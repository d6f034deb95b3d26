#![no_main]
//! Opening and validating arbitrary bytes as a package, with small limits.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut limits = mec_csar::Limits::default();
    limits.max_in_memory = 1 << 20;
    limits.max_entry_size = 16 << 20;
    limits.max_total_size = 64 << 20;
    let _ = mec_csar::validate(std::io::Cursor::new(data), &limits);
});
