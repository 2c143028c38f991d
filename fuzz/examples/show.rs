//! Print the input a fuzz target reads from a file, as text to replay by hand:
//!
//! ```text
//! cargo run --release --example show -- eval artifacts/eval/crash-...      # the case line
//! cargo run --release --example show -- estate_eval FILE                   # spec, then request line
//! cargo run --release --example show -- pattern FILE                       # flags, pattern, text, variables
//! cargo run --release --example show -- --stats eval 1000                  # how many generated inputs parse
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use xverify_fuzz::fuzz_checks::{case_line, spec_and_request, PatternInput};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--stats") {
        return stats(&args[1], args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1000));
    }
    let target = args.first().expect("usage: show TARGET FILE");
    let data = std::fs::read(args.get(1).expect("usage: show TARGET FILE")).unwrap();
    match target.as_str() {
        "eval" | "compiled_vs_reference" | "symbolic_vs_concrete" => println!("{}", case_line(&data)),
        "estate_eval" => {
            let (spec, line) = spec_and_request(&data);
            println!("{spec}\n{line}");
        }
        "pattern" => println!("{:#?}", PatternInput::read(&data)),
        _ => println!("{}", String::from_utf8_lossy(&data)),
    }
}

/// Generate `n` inputs from pseudo-random bytes and count how many the readers accept.
fn stats(target: &str, n: usize) {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut ok = 0;
    let mut decisions = std::collections::BTreeMap::new();
    for _ in 0..n {
        let data: Vec<u8> = (0..256)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8 | 1
            })
            .collect();
        if target == "estate_eval" {
            let (spec, line) = spec_and_request(&data);
            match xverify_proofs::spec::parse_spec(&spec, std::path::Path::new("s.json")) {
                Ok(s) => {
                    let er = xverify_proofs::cli::eval::read_estate_request(&line).unwrap();
                    match s.estate.gather(&er) {
                        Ok((set, req)) => {
                            ok += 1;
                            *decisions
                                .entry(xverify_engine::decide(&set, &req).as_str())
                                .or_insert(0) += 1;
                        }
                        Err(e) => *decisions.entry("gather error").or_insert(0) += usize::from(!e.0.is_empty()),
                    }
                }
                Err(e) => eprintln!("{e}"),
            }
        } else {
            let line = case_line(&data);
            match xverify_engine::case::Case::parse(&line, xverify_engine::ParseOptions::default()) {
                Ok(c) => {
                    ok += 1;
                    *decisions
                        .entry(xverify_engine::decide(&c.policies, &c.request).as_str())
                        .or_insert(0) += 1;
                }
                Err(e) => eprintln!("{e}"),
            }
        }
    }
    println!("{ok} of {n} generated inputs read; decisions {decisions:?}");
}
