//! The `xverify` command line: subcommands and exit codes (interfaces.md).

pub mod eval;
pub mod graph;
pub mod prove;
