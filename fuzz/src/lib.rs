//! Library of the fuzz targets: the shared checkers (also compiled into
//! `proofs/tests/fuzz_replay.rs` through `#[path]`, so `cargo test` replays the corpus through
//! the same code).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

pub mod fuzz_checks;
