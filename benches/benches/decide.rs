//! How long does one decision take, and how does it grow with the policy set?
//!
//! One request against small (1 policy, 5 statements), medium (5 policies, 50 statements) and
//! large (20 policies, 1,000 statements) sets of generated identity policies with conditions and
//! policy variables; same-account (allow, implicit deny on a failed condition, explicit deny by the
//! guard statement) and cross-account (with a bucket policy: allow, deny). Each decision is checked
//! against its planted answer before it is timed. `decide` is the hot path (no explanation);
//! `authorize` also collects the deciding statements, as `xverify eval` does.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use xverify_benches::{policy_set, request, Planted, Scenario, StmtOpts, LARGE, MEDIUM, SMALL};
use xverify_engine::{authorize, decide};

fn decide_sizes(c: &mut Criterion) {
    let mut g = c.benchmark_group("decide");
    g.throughput(Throughput::Elements(1));
    for size in [SMALL, MEDIUM, LARGE] {
        for s in Scenario::ALL {
            let set = policy_set(size, s, Planted::Variables, StmtOpts::FULL);
            let req = request(s);
            assert_eq!(
                decide(&set, &req),
                s.expected(),
                "{} {}",
                size.name,
                s.name()
            );
            g.bench_with_input(
                BenchmarkId::new(size.name, s.name()),
                &(set, req),
                |b, (set, req)| b.iter(|| decide(black_box(set), black_box(req))),
            );
        }
    }
    g.finish();
}

fn authorize_sizes(c: &mut Criterion) {
    let mut g = c.benchmark_group("authorize");
    g.throughput(Throughput::Elements(1));
    for size in [SMALL, MEDIUM, LARGE] {
        for s in [Scenario::SameAllow, Scenario::CrossAllow] {
            let set = policy_set(size, s, Planted::Variables, StmtOpts::FULL);
            let req = request(s);
            assert_eq!(authorize(&set, &req).decision, s.expected());
            g.bench_with_input(
                BenchmarkId::new(size.name, s.name()),
                &(set, req),
                |b, (set, req)| b.iter(|| authorize(black_box(set), black_box(req))),
            );
        }
    }
    g.finish();
}

/// What conditions and variables cost: the medium set, same-account allow, with plain statements,
/// with conditions, and with conditions and `${aws:PrincipalTag/team}`.
fn decide_features(c: &mut Criterion) {
    let mut g = c.benchmark_group("decide-features");
    g.throughput(Throughput::Elements(1));
    let s = Scenario::SameAllow;
    for (name, planted, fillers) in [
        ("plain", Planted::Plain, StmtOpts::PLAIN),
        (
            "conditions",
            Planted::Conditions,
            StmtOpts {
                conditions: true,
                variables: false,
            },
        ),
        ("conditions+variables", Planted::Variables, StmtOpts::FULL),
    ] {
        let set = policy_set(MEDIUM, s, planted, fillers);
        let req = request(s);
        assert_eq!(decide(&set, &req), s.expected(), "{name}");
        g.bench_with_input(
            BenchmarkId::new("medium/same-account/allow", name),
            &(set, req),
            |b, (set, req)| b.iter(|| decide(black_box(set), black_box(req))),
        );
    }
    g.finish();
}

criterion_group!(benches, decide_sizes, authorize_sizes, decide_features);
criterion_main!(benches);
