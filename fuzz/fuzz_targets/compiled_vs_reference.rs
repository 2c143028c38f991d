#![no_main]
//! See `fuzz/README.md` and `xverify_fuzz::fuzz_checks::compiled_vs_reference` for the property.

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if xverify_fuzz::fuzz_checks::compiled_vs_reference(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
