//! Print generated `xverify eval` case lines, the input of the `eval_batch` benchmark.
//!
//! usage: cargo run --release -p xverify-benches --example gen_cases -- [N [SEED]] > cases.jsonl

use std::io::Write;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let n = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in xverify_benches::case_lines(n, seed) {
        writeln!(out, "{line}")?;
    }
    out.flush()
}
