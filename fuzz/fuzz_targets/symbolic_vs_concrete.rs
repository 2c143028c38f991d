#![no_main]
//! See `fuzz/README.md` and `xverify_fuzz::fuzz_checks::symbolic_vs_concrete` for the property.

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if xverify_fuzz::fuzz_checks::symbolic_vs_concrete(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
