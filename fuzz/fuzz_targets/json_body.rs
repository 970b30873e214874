#![no_main]
//! See vigia_domain::fuzzing::json_body.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vigia_domain::fuzzing::json_body(data);
});
