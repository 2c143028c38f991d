#![no_main]
//! See `fuzz/README.md` and `xverify_fuzz::fuzz_checks::compiled_vs_reference` for the property;
//! the oracle is the engine's reference interpreter (`engine/tests/reference`), compiled in here.

use libfuzzer_sys::{fuzz_target, Corpus};

#[allow(dead_code, clippy::all)]
#[path = "../../engine/tests/reference/mod.rs"]
mod reference;

fuzz_target!(|data: &[u8]| -> Corpus {
    if xverify_fuzz::fuzz_checks::compiled_vs_reference(data, Some(&reference::decide_line)) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
