#![no_main]
//! See vigia_domain::fuzzing::bulletin.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vigia_domain::fuzzing::bulletin(data);
});
