//! The `compiled_vs_reference` fuzz target's oracle, replayed without libFuzzer: every case of
//! the fuzz corpora (`corpus/fuzz/{eval,compiled_vs_reference,symbolic_vs_concrete}/`) and every
//! `corpus/regressions/compiled_vs_reference/` input is decided by the engine and by the reference
//! interpreter (`tests/reference`), read back in canonical form, and the two must agree. The inputs
//! are decoded by the fuzz targets' own reader (`fuzz/src/fuzz_inputs.rs`). The rest of each
//! target's checks replays in `proofs/tests/fuzz_replay.rs`.
//!
//! A regression listed in `corpus/regressions/open.txt` must still disagree (its fix has not
//! landed); the test says when it agrees.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "../../fuzz/src/fuzz_inputs.rs"]
mod fuzz_inputs;
mod reference;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use xverify_engine::case::Case;
use xverify_engine::{decide, ParseOptions, Principal};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The open regression (`corpus/regressions/open.txt`) a disagreement on this case would be.
fn open_issue(case: &Case) -> Option<&'static str> {
    let a = &case.request.action_lc;
    (matches!(case.request.principal, Principal::Root { .. })
        && a.starts_with("sts:assumerole")
        && a != "sts:assumerole")
        .then_some("compiled_vs_reference/root-assume-role-with-web-identity")
}

fn open_list() -> BTreeSet<String> {
    std::fs::read_to_string(corpus().join("regressions/open.txt"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// `Err` with both decisions when the engine and the reference disagree on the input. Unless
/// `strict`, a disagreement that is a listed open regression is stepped over.
fn check(path: &Path, strict: bool) -> Result<(), String> {
    let data = std::fs::read(path).unwrap();
    let line = fuzz_inputs::case_line(&data);
    let Ok(case) = Case::parse(&line, ParseOptions::default()) else {
        return Ok(());
    };
    // The reference knows every caller but identity providers.
    if matches!(case.request.principal, Principal::IdentityProvider(_)) {
        return Ok(());
    }
    let canonical = fuzz_inputs::case_line_of(&case.policies, &case.request);
    let engine = decide(&case.policies, &case.request);
    let want = std::panic::catch_unwind(|| reference::decide_line(&canonical))
        .map_err(|_| format!("the reference interpreter cannot read {canonical}"))?;
    let open = open_issue(&case).is_some_and(|id| open_list().contains(id));
    if engine == want || (open && !strict) {
        Ok(())
    } else {
        Err(format!(
            "engine {engine:?}, reference {want:?}\n case: {canonical}"
        ))
    }
}

#[test]
fn engine_equals_reference_on_every_fuzz_case() {
    let mut n = 0;
    let mut failures = Vec::new();
    for target in ["eval", "compiled_vs_reference", "symbolic_vs_concrete"] {
        for f in files(&corpus().join("fuzz").join(target)) {
            n += 1;
            if let Err(m) = check(&f, false) {
                failures.push(format!("{}: {m}", f.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} fuzz cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{n} fuzz cases agree with the reference interpreter");
}

#[test]
fn reference_regressions_stay_fixed() {
    let dir = corpus().join("regressions");
    let open = open_list();
    let mut failures = Vec::new();
    for f in files(&dir.join("compiled_vs_reference")) {
        let name = format!(
            "compiled_vs_reference/{}",
            f.file_name().unwrap().to_string_lossy()
        );
        match (check(&f, true), open.contains(&name)) {
            (Ok(()), true) => failures.push(format!(
                "{name} agrees now: remove it from corpus/regressions/open.txt"
            )),
            (Err(_), true) => eprintln!("open (not fixed yet): {name}"),
            (Err(m), false) => failures.push(format!("{name}: {m}")),
            (Ok(()), false) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
