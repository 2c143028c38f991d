#![no_main]
//! See `fuzz/README.md` and `xverify_fuzz::fuzz_checks::pattern` for the property. Here the
//! reference matcher is also checked against the `regex` crate.

use libfuzzer_sys::{fuzz_target, Corpus};

fn regex_matches(re: &str, text: &str) -> Option<bool> {
    regex::RegexBuilder::new(re)
        .size_limit(1 << 22)
        .build()
        .ok()
        .map(|r| r.is_match(text))
}

fuzz_target!(|data: &[u8]| -> Corpus {
    if xverify_fuzz::fuzz_checks::pattern(data, Some(&regex_matches)) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
