//! How many cases per second does `xverify eval` get through?
//!
//! 10,000 generated case lines (~1.9 KB each: two identity policies with conditions, a resource
//! policy, two SCP levels; about half allowed), decided as the command does: read the line's JSON,
//! compile its policies, authorize, write the output line. `run_eval` is the command's own loop
//! (from memory to memory), `run_eval_jobs/2` the same on two threads (as `xverify eval --jobs 2`);
//! the other three split it into its parts; `vectors/run_eval` runs the known-answer vectors,
//! smaller cases, the same way. The suite runs on the `xverify` binary's allocator (mimalloc), so
//! that its figures are the command's.
//!
//! The command compiles a policy once per thread when it comes again with the same text at the
//! same place in a case (`PolicyCache`); the generated batch draws its policies from a small
//! universe, so most of them come again. The `no-cache` rows (`xverify eval --no-cache`) compile
//! every policy of every line: fresh cases, each parsed, compiled and decided.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use xverify_benches::case_lines;
use xverify_engine::case::{Case, PolicyCache};
use xverify_engine::json::write_str;
use xverify_engine::{authorize, ParseOptions};
use xverify_proofs::cli::eval::{run_eval_jobs, write_explain, EvalOptions};

const CASES: usize = 10_000;

/// Parse, authorize and write one output line per case into `out`, as `run_eval` does.
fn pipeline(lines: &[String], out: &mut String) {
    out.clear();
    for line in lines {
        let parsed = Case::parse_line(line, ParseOptions::default());
        out.push('{');
        if let Some(id) = &parsed.id {
            out.push_str("\"id\":");
            out.push_str(id);
            out.push(',');
        }
        match parsed.case {
            Ok(case) => {
                let r = authorize(&case.policies, &case.request);
                out.push_str("\"decision\":");
                write_str(out, r.decision.as_str());
                out.push_str(",\"explain\":");
                write_explain(out, &r, false);
                if let Some(note) = &r.note {
                    out.push_str(",\"reason\":");
                    write_str(out, note);
                }
            }
            Err(e) => {
                out.push_str("\"error\":");
                write_str(out, &e.to_string());
            }
        }
        out.push_str("}\n");
    }
}

fn batch(c: &mut Criterion) {
    let lines = case_lines(CASES, 42);
    let text = lines.join("\n") + "\n";
    let cases: Vec<Case> = lines
        .iter()
        .map(|l| Case::parse(l, ParseOptions::default()).unwrap())
        .collect();
    let mut cache = PolicyCache::new();
    for l in &lines {
        Case::parse_line_with(l, ParseOptions::default(), &mut cache)
            .case
            .unwrap();
    }
    println!(
        "eval batch: {CASES} cases, {} bytes ({} bytes per case); one thread's policy cache: \
         {} policies compiled, {} taken from it",
        text.len(),
        text.len() / CASES,
        cache.misses,
        cache.hits,
    );
    let mut g = c.benchmark_group("eval-batch");
    g.throughput(Throughput::Elements(CASES as u64));
    // `run_eval` is the one-thread run (`--jobs 1`); the other, `--jobs 2`.
    for (name, jobs) in [("run_eval", 1), ("run_eval_jobs/2", 2)] {
        bench_run_eval(&mut g, name, &text, jobs, 0, false);
        bench_run_eval(&mut g, &format!("{name}/no-cache"), &text, jobs, 0, true);
    }
    g.bench_function("parse+authorize+write", |b| {
        let mut out = String::with_capacity(4 << 20);
        b.iter(|| {
            pipeline(black_box(&lines), &mut out);
            black_box(out.len())
        })
    });
    g.bench_function("parse-only", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(Case::parse_line(black_box(l), ParseOptions::default()));
            }
        })
    });
    g.bench_function("authorize-only", |b| {
        b.iter(|| {
            for c in &cases {
                black_box(authorize(black_box(&c.policies), black_box(&c.request)));
            }
        })
    });
    g.finish();
    vectors(c);
}

/// The known-answer vectors (`corpus/vectors`: cases of every policy type, condition family and
/// principal shape, ~700 bytes a case, 5% of them lines AWS would refuse) repeated to 10,000
/// lines: `run_eval` on cases smaller than the generated ones, with the policy cache (each
/// vector comes 17 or 18 times) and without it.
fn vectors(c: &mut Criterion) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/vectors");
    let Ok(entries) = std::fs::read_dir(dir) else {
        println!("eval batch: {dir} is absent; the vectors row is skipped");
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut one_round = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        one_round.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string),
        );
    }
    assert!(!one_round.is_empty(), "no vectors in {dir}");
    let lines: Vec<&str> = one_round
        .iter()
        .map(String::as_str)
        .cycle()
        .take(CASES)
        .collect();
    let text = lines.join("\n") + "\n";
    // What the suite claims: every line decided or refused as the vectors expect.
    let check = EvalOptions {
        check: true,
        ..EvalOptions::default()
    };
    let sum = run_eval_jobs(text.as_bytes(), &mut Vec::new(), &check, 1).unwrap();
    assert_eq!(sum.failed, 0, "a vector failed its expectation");
    assert_eq!(
        sum.passed, CASES,
        "every line has an expectation, and met it"
    );
    println!(
        "eval batch (vectors): {CASES} lines from {} vectors, {} bytes per line, {} lines refused",
        one_round.len(),
        text.len() / CASES,
        sum.errors
    );
    let mut g = c.benchmark_group("eval-batch");
    g.throughput(Throughput::Elements(CASES as u64));
    bench_run_eval(&mut g, "vectors/run_eval", &text, 1, sum.errors, false);
    bench_run_eval(
        &mut g,
        "vectors/run_eval/no-cache",
        &text,
        1,
        sum.errors,
        true,
    );
    g.finish();
}

/// Time `run_eval_jobs` over `text` on `jobs` threads, as `xverify eval --jobs JOBS` runs it
/// (with `--no-cache` when `no_cache`), memory to memory; every run must refuse exactly
/// `errors` lines. Each run starts with empty caches.
fn bench_run_eval(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    text: &str,
    jobs: usize,
    errors: usize,
    no_cache: bool,
) {
    let opts = EvalOptions {
        no_cache,
        ..EvalOptions::default()
    };
    g.bench_function(name, |b| {
        let mut out = Vec::with_capacity(4 << 20);
        b.iter(|| {
            out.clear();
            let sum = run_eval_jobs(black_box(text.as_bytes()), &mut out, &opts, jobs).unwrap();
            assert_eq!(sum.errors, errors);
        })
    });
}

criterion_group! {
    name = benches;
    // Each iteration is a whole batch: ten samples are enough.
    config = Criterion::default().sample_size(10);
    targets = batch
}
criterion_main!(benches);
