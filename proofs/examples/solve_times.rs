//! Solve times of "is any request allowed" queries (action, resource and the caller's context
//! free; principal fixed; `sts:GetCallerIdentity`, which is always allowed, excluded).
//!
//! ```text
//! cargo run --release -p xverify-proofs --example solve_times
//! ```
//!
//! Inputs: the policy set of every role and user of every estate in `corpus/specs/*/spec.json`
//! (identity policies, permissions boundary, SCP levels); each of the AWS managed policies in
//! `../shared/corpus/aws-managed-policies` as the one identity policy of a user (skipped when the
//! folder is absent); random identity policies of 10, 100 and 1,000 statements from the engine's
//! generators. Times are wall-clock per query: encoding (formula), classes (string-class
//! computation), lowering (building the Z3 terms) and Z3 solving, medians and worst.
//! `SAMPLES=n` sets the random policies per size (20).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config as PtConfig, RngAlgorithm, TestRng, TestRunner};
use xverify_engine::generate::{statement, GenPolicy, Settings, Style};
use xverify_engine::model::Version;
use xverify_engine::{
    parse_policy, parse_policy_with, Context, ParseOptions, PolicyKind, PolicySet, Principal,
    Request,
};
use xverify_proofs::classes::{Lang, Pattern};
use xverify_proofs::encode::{allow_formula, F};
use xverify_proofs::fixed::{sym_for_fixing, unexpressible_keys};
use xverify_proofs::solve::{check, Config, Outcome};

/// One query's times (ms) and answer.
struct Sample {
    encode: f64,
    classes: f64,
    lower: f64,
    solve: f64,
    class_count: usize,
    answer: &'static str,
}

impl Sample {
    fn total(&self) -> f64 {
        self.encode + self.classes + self.lower + self.solve
    }
}

/// Ask whether `principal` can do anything (but sts:GetCallerIdentity) under `set`.
fn any_allowed(set: &PolicySet, principal: Principal, account: &str, cfg: &Config) -> Sample {
    let req = Request::new(
        principal,
        "s3:GetObject",
        "arn:aws:s3:::bucket/key",
        Some(account.to_string()),
        Context::new(),
    );
    let t0 = Instant::now();
    let mut fixed = Vec::new();
    let mut sym = sym_for_fixing(&req, &fixed);
    let mut f = allow_formula(&mut sym, set);
    if f.is_err() {
        // Policy variables over the caller's keys ...: fix those keys (to absent).
        fixed = unexpressible_keys(set);
        sym = sym_for_fixing(&req, &fixed);
        f = allow_formula(&mut sym, set);
    }
    let encode = t0.elapsed().as_secs_f64() * 1e3;
    let Ok(f) = f else {
        return Sample {
            encode,
            classes: 0.0,
            lower: 0.0,
            solve: 0.0,
            class_count: 0,
            answer: "unsupported",
        };
    };
    let gci = sym.test(
        sym.action,
        Lang::single(Pattern::literal("sts:getcalleridentity", true)),
    );
    sym.constraints.push(F::not(gci));
    let (out, timing) = check(&sym, &f, cfg, "solve-times");
    Sample {
        encode,
        classes: timing.classes_ms,
        lower: timing.lower_ms,
        solve: timing.solve_ms - timing.lower_ms,
        class_count: timing.class_count,
        answer: match out {
            Outcome::Sat(_) => "sat",
            Outcome::Unsat => "unsat",
            Outcome::Unknown(why) => {
                eprintln!("unknown: {why}");
                "unknown"
            }
        },
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn worst(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

fn row(name: &str, samples: &[Sample]) {
    let col = |f: &dyn Fn(&Sample) -> f64| -> Vec<f64> { samples.iter().map(f).collect() };
    let total = col(&Sample::total);
    let enc = col(&|s| s.encode);
    let cls = col(&|s| s.classes);
    let low = col(&|s| s.lower);
    let z3 = col(&|s| s.solve);
    let classes = median(samples.iter().map(|s| s.class_count as f64).collect());
    let count = |a: &str| samples.iter().filter(|s| s.answer == a).count();
    println!(
        "| {name} | {} | {:.1} / {:.1} | {:.1} / {:.1} | {:.1} / {:.1} | {:.1} / {:.1} | {:.1} / {:.1} | {classes:.0} | {}/{}/{}/{} |",
        samples.len(),
        median(total.clone()),
        worst(&total),
        median(enc.clone()),
        worst(&enc),
        median(cls.clone()),
        worst(&cls),
        median(low.clone()),
        worst(&low),
        median(z3.clone()),
        worst(&z3),
        count("sat"),
        count("unsat"),
        count("unknown"),
        count("unsupported"),
    );
}

fn spec_samples(root: &Path, cfg: &Config) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("corpus/specs"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    for d in dirs {
        let path = d.join("spec.json");
        if !path.exists() {
            continue;
        }
        let Ok(spec) = xverify_proofs::spec::load_spec(&path) else {
            eprintln!("cannot read {}", path.display());
            continue;
        };
        let estate = &spec.estate;
        for (acct, a) in &estate.accounts {
            let scps = estate.levels(acct, true);
            for role in a.roles.values() {
                let set = PolicySet {
                    identity: role.policies.clone(),
                    boundary: role.permissions_boundary.clone(),
                    scps: scps.clone(),
                    ..PolicySet::default()
                };
                let p = Principal::AssumedRole {
                    partition: "aws".into(),
                    account: acct.clone(),
                    role: role.name.clone(),
                    session: "s".into(),
                };
                out.push(any_allowed(&set, p, acct, cfg));
            }
            for user in a.users.values() {
                let mut identity = user.policies.clone();
                for g in &user.groups {
                    if let Some(gd) = a.groups.get(g) {
                        identity.extend(gd.policies.iter().cloned());
                    }
                }
                let set = PolicySet {
                    identity,
                    boundary: user.permissions_boundary.clone(),
                    scps: scps.clone(),
                    ..PolicySet::default()
                };
                let p = Principal::User {
                    partition: "aws".into(),
                    account: acct.clone(),
                    path: user.path.clone(),
                    name: user.name.clone(),
                };
                out.push(any_allowed(&set, p, acct, cfg));
            }
        }
    }
    out
}

fn user() -> Principal {
    Principal::parse("arn:aws:iam::111111111111:user/alice").unwrap()
}

fn managed_samples(dir: &Path, cfg: &Config) -> Option<Vec<Sample>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).ok()?;
        let name = format!(
            "arn:aws:iam::aws:policy/{}",
            f.file_stem().unwrap_or_default().to_string_lossy()
        );
        let Ok(p) = parse_policy(&src, PolicyKind::Identity, &name) else {
            eprintln!("cannot parse {}", f.display());
            continue;
        };
        let set = PolicySet {
            identity: vec![p],
            ..PolicySet::default()
        };
        let sample = any_allowed(&set, user(), "111111111111", cfg);
        if sample.answer == "unknown" {
            eprintln!("  ({name})");
        }
        out.push(sample);
    }
    Some(out)
}

fn random_samples(statements: usize, n: usize, cfg: &Config) -> Vec<Sample> {
    let s = Settings {
        // Mostly supported constructs: no variables, no operators on keys of another type.
        variables: false,
        type_mismatches: false,
        ..Settings::DEFAULT
    };
    let strategy = statement(PolicyKind::Identity, None, &s);
    let mut runner = TestRunner::new_with_rng(
        PtConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let mut out = Vec::new();
    for _ in 0..n {
        let sts = (0..statements)
            .map(|_| strategy.new_tree(&mut runner).unwrap().current())
            .collect();
        let mut gp = GenPolicy {
            kind: PolicyKind::Identity,
            version: Some(Version::V2012),
            id: None,
            statements: sts,
        };
        gp.renumber_sids();
        let text = gp.to_json(Style::default());
        let p = parse_policy_with(
            &text,
            PolicyKind::Identity,
            "random",
            ParseOptions { size_limits: false },
        )
        .unwrap();
        let set = PolicySet {
            identity: vec![p],
            ..PolicySet::default()
        };
        out.push(any_allowed(&set, user(), "111111111111", cfg));
    }
    out
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let cfg = Config {
        timeout_ms: 60_000,
        ..Config::default()
    };
    let n: usize = std::env::var("SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    println!(
        "| inputs | queries | total ms, median / worst | encoding | classes | lowering to Z3 | Z3 solving | classes (median) | sat/unsat/unknown/unsupported |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    row(
        "corpus/specs: every role and user (identity + boundary + SCPs)",
        &spec_samples(&root, &cfg),
    );
    let managed = root.join("../shared/corpus/aws-managed-policies");
    match managed_samples(&managed, &cfg) {
        Some(v) => row("AWS managed policies, one each", &v),
        None => eprintln!(
            "{} is absent: AWS managed policies skipped",
            managed.display()
        ),
    }
    for statements in [10, 100, 1_000] {
        row(
            &format!("random policy, {statements} statements"),
            &random_samples(statements, n, &cfg),
        );
    }
}
