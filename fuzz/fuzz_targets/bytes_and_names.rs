#![no_main]
//! See vigia_domain::fuzzing::bytes_and_names.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vigia_domain::fuzzing::bytes_and_names(data);
});
