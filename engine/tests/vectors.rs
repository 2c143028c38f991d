//! Known-answer vectors: every case in corpus/vectors/*.jsonl, decided by the engine, must give its
//! `expect` (or be refused when it expects "Error"). Each case's `doc` names the AWS rule it checks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use xverify_engine::case::{peek_id_expect, Case, Expect};
use xverify_engine::{authorize, ParseOptions};

#[test]
fn known_answer_vectors() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus/vectors exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|x| x.to_str()) == Some("jsonl"))
        .collect();
    files.sort();
    let mut total = 0;
    let mut failures = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            total += 1;
            let (id, expect) = peek_id_expect(line);
            let id = id.unwrap_or_default();
            let Some(expect) = expect else {
                failures.push(format!("{name}:{}: {id}: no expect", n + 1));
                continue;
            };
            let got = match Case::parse(line, ParseOptions::default()) {
                Ok(case) => {
                    let r = authorize(&case.policies, &case.request);
                    (Expect::Decision(r.decision), r.note.unwrap_or_default())
                }
                Err(e) => (Expect::Error, e.to_string()),
            };
            if got.0 != expect {
                failures.push(format!(
                    "{name}:{}: {id}: expected {expect:?}, got {:?} ({})",
                    n + 1,
                    got.0,
                    got.1
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 200, "only {total} vectors");
}
