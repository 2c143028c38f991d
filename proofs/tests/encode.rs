//! The encoding agrees with the engine: every known-answer vector, with its request fixed, decided
//! by the formula (evaluated concretely, and by Z3) exactly as the engine decides it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use xverify_engine::case::Case;
use xverify_engine::{decide, Decision, ParseOptions};
use xverify_proofs::fixed::{ir_decides_allow, z3_decides_allow};

fn vectors() -> Vec<(String, Case)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/vectors");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            if let Ok(c) = Case::parse(line, ParseOptions::default()) {
                out.push((c.id.clone().unwrap_or_default(), c));
            }
        }
    }
    out
}

#[test]
fn formula_equals_engine_on_every_vector() {
    let mut checked = 0;
    let mut unsupported = Vec::new();
    let mut wrong = Vec::new();
    for (id, c) in vectors() {
        let engine = decide(&c.policies, &c.request) == Decision::Allow;
        match ir_decides_allow(&c.policies, &c.request) {
            Ok(Some(ir)) => {
                checked += 1;
                if ir != engine {
                    wrong.push(format!("{id}: engine {engine}, formula {ir}"));
                }
            }
            Ok(None) => {}
            Err(e) => unsupported.push(format!("{id}: {e}")),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    eprintln!(
        "{checked} vectors agree; unsupported: {}",
        unsupported.len()
    );
    for u in &unsupported {
        eprintln!("  {u}");
    }
    assert!(checked >= 450, "only {checked} vectors checked");
}

#[test]
fn z3_equals_engine_on_every_vector() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (id, c) in vectors() {
        let engine = decide(&c.policies, &c.request) == Decision::Allow;
        if let Ok(Some(z)) = z3_decides_allow(&c.policies, &c.request) {
            checked += 1;
            if z != engine {
                wrong.push(format!("{id}: engine {engine}, z3 {z}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(checked >= 300, "only {checked} vectors checked by z3");
}
