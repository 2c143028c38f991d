//! Every AWS managed policy in ../shared/corpus must parse, print and re-parse to itself, and
//! evaluate without panicking. Skips (with a line saying so) when the folder is absent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use xverify_engine::*;

fn corpus_dir() -> Option<PathBuf> {
    let d =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/aws-managed-policies");
    d.is_dir().then_some(d)
}

#[test]
fn every_managed_policy_parses_round_trips_and_evaluates() {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: ../shared/corpus/aws-managed-policies is absent");
        return;
    };
    let mut n = 0;
    let mut empty = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    let req = Request::new(
        Principal::parse("arn:aws:sts::111111111111:assumed-role/Admin/s").unwrap(),
        "s3:GetObject",
        "arn:aws:s3:::bucket/key",
        Some("111111111111".into()),
        Context::new(),
    );
    for e in entries {
        let path = e.path();
        if path.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        if src.trim().is_empty() {
            // Two files of the collection are empty (the upstream project stored nothing).
            eprintln!("note: {stem}.json is empty, not a policy");
            empty += 1;
            continue;
        }
        // AWS-managed policies are named by their ARN, which exempts them from customer size limits.
        let name = format!("arn:aws:iam::aws:policy/{stem}");
        match parse_policy(&src, PolicyKind::Identity, &name) {
            Ok(p) => {
                let printed = p.to_json();
                let again = parse_policy(&printed, PolicyKind::Identity, &name).unwrap();
                assert_eq!(p, again, "{name}: print/parse round trip differs");
                let set = PolicySet {
                    identity: vec![p],
                    ..PolicySet::default()
                };
                let _ = authorize(&set, &req);
                n += 1;
            }
            Err(err) => failures.push(err.render(&name, &src)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        n + failures.len(),
        failures.join("\n")
    );
    assert!(n > 1000, "only {n} policies read");
    assert!(empty <= 2, "{empty} empty files");
}
