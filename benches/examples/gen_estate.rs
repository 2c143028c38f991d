//! Print a generated scaling estate spec, the input of the `prove` benchmark (the Rust port of
//! `benches/scripts/gen_estate.py`).
//!
//! usage: cargo run --release -p xverify-benches --example gen_estate -- ACCOUNTS > spec.json

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    println!("{}", xverify_benches::estate_spec(n));
}
