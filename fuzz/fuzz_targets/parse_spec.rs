#![no_main]
//! See `fuzz/README.md` and `xverify_fuzz::fuzz_checks::parse_spec` for the property.

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if xverify_fuzz::fuzz_checks::parse_spec(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
