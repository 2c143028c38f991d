//! # xverify-proofs
//!
//! The estate, the SMT encoding and the `xverify` command line, built on `xverify-engine`.

pub mod accounts;
pub mod classes;
pub mod cli;
pub mod encode;
pub mod fixed;
pub mod import;
pub mod properties;
pub mod solve;
pub mod spec;
