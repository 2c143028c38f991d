//! # xverify-proofs
//!
//! The estate, the SMT encoding and the `xverify` command line, built on `xverify-engine`.

pub mod cli;
pub mod import;
pub mod spec;
