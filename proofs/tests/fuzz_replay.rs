//! Replays every fuzz corpus file (`corpus/fuzz/<target>/*`) and every kept crash
//! (`corpus/regressions/<target>/*`) through the fuzz targets' own checkers, without libFuzzer, so
//! a crash found once stays fixed. The checkers are `fuzz/src/fuzz_checks.rs`, compiled in here.
//!
//! A regression whose fix has not landed yet is listed in `corpus/regressions/open.txt`: it must
//! still fail (so the list stays honest), and the test says when it starts passing. The
//! `compiled_vs_reference` oracle (the reference interpreter) needs `regex`, which only the fuzz
//! crate and the engine's tests have: it replays in `engine/tests/fuzz_reference.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "../../fuzz/src/fuzz_checks.rs"]
mod fuzz_checks;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Run one input; the panic message when a check fails. A regression file runs `strict`: no
/// known open bug is stepped over.
fn replay(target: &str, path: &Path, strict: bool) -> Result<(), String> {
    let data = std::fs::read(path).unwrap();
    std::panic::catch_unwind(|| {
        if strict {
            fuzz_checks::strict(|| fuzz_checks::run(target, &data, None, None));
        } else {
            fuzz_checks::run(target, &data, None, None);
        }
    })
    .map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

#[test]
fn every_fuzz_corpus_file_passes_its_checks() {
    let mut n = 0;
    let mut failures = Vec::new();
    for target in fuzz_checks::TARGETS {
        let t0 = std::time::Instant::now();
        let fs = files(&corpus().join("fuzz").join(target));
        for f in &fs {
            n += 1;
            if let Err(m) = replay(target, f, false) {
                failures.push(format!("{}: {m}", f.display()));
            }
        }
        eprintln!(
            "{target}: {} inputs in {} ms",
            fs.len(),
            t0.elapsed().as_millis()
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {n} corpus inputs fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{n} fuzz corpus inputs replayed");
}

#[test]
fn every_regression_stays_fixed() {
    let dir = corpus().join("regressions");
    let open: BTreeSet<String> = fuzz_checks::open_regressions().iter().cloned().collect();
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    for target in fuzz_checks::TARGETS {
        for f in files(&dir.join(target)) {
            let name = format!("{target}/{}", f.file_name().unwrap().to_string_lossy());
            if open.contains(&name) && *target == "compiled_vs_reference" {
                // Its oracle is the reference interpreter: engine/tests/fuzz_reference.rs.
                seen.insert(name);
                continue;
            }
            let result = replay(target, &f, true);
            if open.contains(&name) {
                seen.insert(name.clone());
                if result.is_ok() {
                    failures.push(format!(
                        "{name} passes now: remove it from corpus/regressions/open.txt"
                    ));
                } else {
                    eprintln!("open (not fixed yet): {name}");
                }
            } else if let Err(m) = result {
                failures.push(format!("{name}: {m}"));
            }
        }
    }
    for o in open.difference(&seen) {
        failures.push(format!(
            "open.txt lists {o}, which is not in corpus/regressions/"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
