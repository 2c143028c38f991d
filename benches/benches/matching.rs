//! How fast is wildcard matching?
//!
//! `engine::pattern::Template` (`*`, `?`, policy variables; case-insensitive for actions) and
//! `ArnTemplate` (`ArnLike`, component by component) on typical pairs, one pathological
//! backtracking pair, and many patterns (10, 100, 1,000 drawn from the generator's universe)
//! against one ARN, as a policy set's `Resource` elements are tried against one request.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use xverify_benches::arn_patterns;
use xverify_engine::pattern::{ArnTemplate, Template, TemplateOpts};

const WILD: TemplateOpts = TemplateOpts {
    wildcards: true,
    variables: true,
    ci: false,
};

fn resolve<'a>(key_lc: &str) -> Option<&'a str> {
    match key_lc {
        "aws:principaltag/team" => Some("team-7"),
        "aws:username" => Some("alice"),
        _ => None,
    }
}

fn one(c: &mut Criterion) {
    let long_a = "a".repeat(200);
    let pairs: Vec<(&str, Template, String, bool)> = vec![
        (
            "literal",
            Template::new("arn:aws:s3:::bucket-7/home/team-7/report.csv", WILD),
            "arn:aws:s3:::bucket-7/home/team-7/report.csv".into(),
            true,
        ),
        (
            "prefix-star",
            Template::new("arn:aws:s3:::bucket-7/*", WILD),
            "arn:aws:s3:::bucket-7/home/team-7/report.csv".into(),
            true,
        ),
        (
            "three-stars",
            Template::new("arn:aws:s3:::*-logs/AWSLogs/*/2024/*", WILD),
            "arn:aws:s3:::org-logs/AWSLogs/111111111111/CloudTrail/us-east-1/2024/06/01/x.json.gz"
                .into(),
            true,
        ),
        (
            "question-marks",
            Template::new(
                "arn:aws:secretsmanager:*:111111111111:secret:app/db-??????",
                WILD,
            ),
            "arn:aws:secretsmanager:us-east-1:111111111111:secret:app/db-AbCdEf".into(),
            true,
        ),
        (
            "action-ci",
            Template::new("s3:Get*", TemplateOpts { ci: true, ..WILD }),
            "S3:GetObjectVersion".into(),
            true,
        ),
        (
            "variable",
            Template::new(
                "arn:aws:s3:::bucket-7/home/${aws:PrincipalTag/team}/*",
                WILD,
            ),
            "arn:aws:s3:::bucket-7/home/team-7/report.csv".into(),
            true,
        ),
        (
            "miss-early",
            Template::new("arn:aws:dynamodb:*:111111111111:table/T*", WILD),
            "arn:aws:s3:::bucket-7/home/team-7/report.csv".into(),
            false,
        ),
        (
            "backtracking-200",
            Template::new("*a*a*a*a*a*b", WILD),
            long_a,
            false,
        ),
    ];
    let mut g = c.benchmark_group("match-one");
    g.throughput(Throughput::Elements(1));
    for (name, t, text, want) in &pairs {
        assert_eq!(t.matches(text, &resolve), *want, "{name}");
        g.bench_with_input(
            BenchmarkId::new("template", name),
            &(t, text),
            |b, (t, text)| b.iter(|| black_box(t).matches(black_box(text), &resolve)),
        );
    }
    let arn = ArnTemplate::new("arn:aws:iam::*:role/app-*", true);
    let role = "arn:aws:iam::111111111111:role/app-data";
    assert!(arn.matches(role, &resolve));
    g.bench_function(BenchmarkId::new("arn-like", "role"), |b| {
        b.iter(|| black_box(&arn).matches(black_box(role), &resolve))
    });
    g.finish();
}

fn many(c: &mut Criterion) {
    let text = "arn:aws:s3:::bucket-7/home/team-7/report.csv";
    let mut g = c.benchmark_group("match-many");
    for n in [10, 100, 1_000] {
        let ts: Vec<Template> = arn_patterns(n, 9)
            .iter()
            .map(|p| Template::new(p, WILD))
            .collect();
        let hits = ts.iter().filter(|t| t.matches(text, &resolve)).count();
        println!("match-many/{n}: {hits} of {n} patterns match {text}");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("patterns", n), &ts, |b, ts| {
            b.iter(|| {
                ts.iter()
                    .filter(|t| t.matches(black_box(text), &resolve))
                    .count()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, one, many);
criterion_main!(benches);
