//! How long does a proof take, and how does it grow with the estate?
//!
//! `prove_property` on generated estates (the shape of `benches/scripts/gen_estate.py`, ported to
//! Rust in `xverify_benches::estate_spec`): accounts in one organization, ten roles each, five
//! resources with policies, an RCP perimeter. The property: nobody outside the organization reads
//! the organization's tables (`none`, `outside-organization`), directly and through role chains;
//! both must be proved. Sizes: 10 and 100 accounts (`XVERIFY_BENCH_ACCOUNTS=10,100,1000` to
//! choose; `cargo test --benches` runs the smallest only).
//!
//! `prove-phases` splits one query ("what may this role session do?") over the small and medium
//! decide sets (1 and 5 policies, 5 and 50 statements) into its stages: encoding
//! (`allow_formula`), the string-class computation alone, and `solve::check` (classes + Z3). The
//! large set (1,000 statements) is left out: its resource variable exceeds the default class
//! limit (200,000 automaton states) and the check answers unknown.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode};
use xverify_benches::{
    estate_spec, policy_set, request, Planted, Scenario, StmtOpts, MEDIUM, SMALL,
};
use xverify_proofs::classes::{classes, Atom, Lang, Limits, Pattern};
use xverify_proofs::encode::{allow_formula, Source, Sym};
use xverify_proofs::fixed::sym_for;
use xverify_proofs::properties::{prove_property, Status};
use xverify_proofs::solve::{check, Config, Outcome};
use xverify_proofs::spec::parse_spec;

/// `cargo bench` passes `--bench`; `cargo test --benches` does not (criterion then runs each
/// benchmark once): keep the test run short.
fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn sizes() -> Vec<usize> {
    let mut sizes: Vec<usize> = std::env::var("XVERIFY_BENCH_ACCOUNTS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10, 100]);
    sizes.sort_unstable();
    if !bench_mode() {
        sizes.truncate(1);
    }
    sizes
}

fn load(c: &mut Criterion) {
    let mut g = c.benchmark_group("prove-load-spec");
    g.sample_size(10);
    for n in sizes() {
        let text = estate_spec(n);
        let path = format!("estate-{n}.json");
        parse_spec(&text, Path::new(&path)).unwrap();
        g.bench_with_input(BenchmarkId::new("accounts", n), &text, |b, text| {
            b.iter(|| parse_spec(black_box(text), Path::new(&path)).unwrap())
        });
    }
    g.finish();
}

fn prove(c: &mut Criterion) {
    let mut g = c.benchmark_group("prove");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500));
    let cfg = Config::default();
    for n in sizes() {
        let spec = parse_spec(&estate_spec(n), Path::new(&format!("estate-{n}.json"))).unwrap();
        for prop in &spec.properties {
            g.bench_with_input(BenchmarkId::new(&prop.name, n), prop, |b, prop| {
                b.iter(|| {
                    let r = prove_property(&spec, prop, &cfg);
                    assert_eq!(r.status, Status::Proved, "{}: {:?}", r.name, r.reason);
                    r.queries
                })
            });
        }
    }
    g.finish();
}

/// The shape domains `solve::check` gives the action and resource variables.
fn domain(name: &str) -> Option<Lang> {
    match name {
        "action" => Some(Lang::single(Pattern::glob("?*:?*", false))),
        "resource" => {
            let mut arn = Pattern::glob("arn:*", false);
            arn.atoms.push(Atom::AnyNot('/'));
            Some(Lang {
                alts: vec![arn, Pattern::literal("*", false)],
            })
        }
        _ => None,
    }
}

/// The query "what may this session do?": action, resource and the caller's context keys free;
/// the principal, its derived keys and its tag `team` (as an estate sets principal tags) fixed.
fn query(req: &xverify_engine::Request) -> Sym {
    let mut sym = sym_for(req);
    let team = req.context.get("aws:principaltag/team").unwrap().clone();
    sym.fixed.context.insert("aws:PrincipalTag/team", team);
    sym.sources
        .insert("aws:principaltag/team".to_string(), Source::Fixed);
    sym
}

fn phases(c: &mut Criterion) {
    let mut g = c.benchmark_group("prove-phases");
    let cfg = Config::default();
    let limits = Limits {
        max_states: cfg.max_class_states,
    };
    let s = Scenario::SameAllow;
    for size in [SMALL, MEDIUM] {
        let set = policy_set(size, s, Planted::Variables, StmtOpts::FULL);
        let req = request(s);
        let mut sym = query(&req);
        let goal = allow_formula(&mut sym, &set).unwrap();
        let (outcome, timing) = check(&sym, &goal, &cfg, "bench");
        assert!(
            matches!(outcome, Outcome::Sat(_)),
            "{}: the role may do something: {outcome:?}",
            size.name
        );
        println!(
            "prove-phases/{}: {} string variables, {} classes",
            size.name,
            sym.vars.len(),
            timing.class_count
        );
        g.bench_function(BenchmarkId::new("encode", size.name), |b| {
            b.iter_batched(
                || query(&req),
                |mut sym| allow_formula(&mut sym, black_box(&set)).unwrap(),
                BatchSize::SmallInput,
            )
        });
        g.bench_function(BenchmarkId::new("classes", size.name), |b| {
            b.iter(|| {
                sym.vars
                    .iter()
                    .map(|v| {
                        classes(black_box(&v.langs), domain(&v.name).as_ref(), &limits)
                            .unwrap()
                            .len()
                    })
                    .sum::<usize>()
            })
        });
        g.bench_function(BenchmarkId::new("check", size.name), |b| {
            b.iter(|| {
                check(black_box(&sym), black_box(&goal), &cfg, "bench")
                    .1
                    .class_count
            })
        });
    }
    g.finish();
}

criterion_group!(benches, load, phases, prove);
criterion_main!(benches);
