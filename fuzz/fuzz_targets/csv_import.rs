#![no_main]
//! See vigia_domain::fuzzing::csv_import.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vigia_domain::fuzzing::csv_import(data);
});
