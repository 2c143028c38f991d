//! Seed inputs for the fuzz targets, derived at run time from the project's own corpus
//! (`corpus/vectors`, `corpus/specs`, `corpus/import`) and, when given, from the AWS managed
//! policies of `../shared/corpus` (GPL data: read at run time, never committed).
//!
//! ```text
//! cargo run --release --example seeds -- OUT_DIR [--shared ../shared/corpus/aws-managed-policies]
//! ```
//!
//! writes `OUT_DIR/<target>/<name>` for every target that takes such inputs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use serde_json::Value;
use xverify_fuzz::fuzz_checks::IMPORT_MAGIC;

/// At most this many managed policies, the smallest first.
const MAX_SHARED: usize = 200;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = PathBuf::from(args.first().expect("usage: seeds OUT_DIR [--shared DIR]"));
    let shared = args
        .iter()
        .position(|a| a == "--shared")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = root.join("corpus");
    let mut w = Writer { out, n: 0 };

    // Case lines: eval, compiled_vs_reference, symbolic_vs_concrete; their policies: parse_policy.
    for f in sorted(&corpus.join("vectors")) {
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            if line.trim().is_empty() {
                continue;
            }
            for t in ["eval", "compiled_vs_reference", "symbolic_vs_concrete"] {
                w.put(t, line);
            }
            if let Ok(v) = serde_json::from_str::<Value>(line) {
                policies_in(&v, &mut |p| w.put("parse_policy", &p.to_string()));
            }
        }
    }
    // Specs: parse_spec; spec + each request: estate_eval; their policies: parse_policy.
    for d in sorted(&corpus.join("specs")) {
        let Ok(spec) = std::fs::read_to_string(d.join("spec.json")) else {
            continue;
        };
        w.put("parse_spec", &spec);
        if let Ok(v) = serde_json::from_str::<Value>(&spec) {
            policies_in(&v, &mut |p| w.put("parse_policy", &p.to_string()));
        }
        let requests = std::fs::read_to_string(d.join("requests.jsonl")).unwrap_or_default();
        for line in requests.lines().filter(|l| !l.trim().is_empty()) {
            w.put("estate_eval", &format!("{}\n{line}\n", spec.trim_end()));
        }
    }
    // AWS CLI output directories: parse_spec in its import form.
    for d in sorted(&corpus.join("import")) {
        if d.is_dir() {
            let mut text = String::from(IMPORT_MAGIC);
            walk(&d, &d, &mut text);
            w.put("parse_spec", &text);
        }
    }
    // The managed policies, smallest first.
    if let Some(dir) = shared {
        let mut fs: Vec<(u64, PathBuf)> = sorted(&dir)
            .into_iter()
            .filter_map(|p| Some((std::fs::metadata(&p).ok()?.len(), p)))
            .filter(|(n, _)| *n > 0)
            .collect();
        fs.sort();
        for (_, p) in fs.into_iter().take(MAX_SHARED) {
            w.put("parse_policy", &std::fs::read_to_string(&p).unwrap_or_default());
        }
    }
    eprintln!("{} seeds written to {}", w.n, w.out.display());
}

struct Writer {
    out: PathBuf,
    n: usize,
}

impl Writer {
    fn put(&mut self, target: &str, text: &str) {
        let dir = self.out.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        self.n += 1;
        std::fs::write(dir.join(format!("seed-{:05}", self.n)), text).unwrap();
    }
}

fn sorted(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Every value that looks like a policy document (an object with `Statement`).
fn policies_in(v: &Value, f: &mut dyn FnMut(&Value)) {
    match v {
        Value::Object(m) => {
            if m.contains_key("Statement") {
                f(v);
                return;
            }
            for x in m.values() {
                policies_in(x, f);
            }
        }
        Value::Array(a) => {
            for x in a {
                policies_in(x, f);
            }
        }
        _ => {}
    }
}

/// `@@ relative/path` + contents for every file under `dir`.
fn walk(base: &Path, dir: &Path, out: &mut String) {
    for p in sorted(dir) {
        if p.is_dir() {
            walk(base, &p, out);
        } else if let (Ok(rel), Ok(body)) = (p.strip_prefix(base), std::fs::read_to_string(&p)) {
            if rel.starts_with("expected-spec.json") {
                continue;
            }
            out.push_str(&format!("@@ {}\n{body}", rel.display()));
            if !body.ends_with('\n') {
                out.push('\n');
            }
        }
    }
}
