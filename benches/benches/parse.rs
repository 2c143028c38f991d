//! How long does reading policies take?
//!
//! - generated identity policies of 1, 10 and 100 statements (conditions, variables, wildcards);
//! - every AWS managed policy of `../shared/corpus/aws-managed-policies` (skipped with a line when
//!   the folder is absent), as `aws iam get-policy-version` prints them;
//! - a ~1 MB `aws iam get-account-authorization-details` file: the JSON alone, and the JSON with
//!   every policy document in it (trust, inline, managed versions) read into the model.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use xverify_benches::{authorization_details, policy_doc, StmtOpts};
use xverify_engine::json::{Json, JsonValue};
use xverify_engine::{
    parse_policy, parse_policy_with, policy_from_json_with, ParseOptions, PolicyKind,
};

const NO_LIMITS: ParseOptions = ParseOptions { size_limits: false };

fn statements(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse-policy");
    for n in [1, 10, 100] {
        let doc = policy_doc(n as u64, n, StmtOpts::FULL).to_string();
        parse_policy_with(&doc, PolicyKind::Identity, "p", NO_LIMITS).unwrap();
        g.throughput(Throughput::Bytes(doc.len() as u64));
        g.bench_with_input(BenchmarkId::new("statements", n), &doc, |b, doc| {
            b.iter(|| parse_policy_with(black_box(doc), PolicyKind::Identity, "p", NO_LIMITS))
        });
    }
    g.finish();
}

fn managed_dir() -> Option<PathBuf> {
    let d =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/aws-managed-policies");
    d.is_dir().then_some(d)
}

fn managed(c: &mut Criterion) {
    let Some(dir) = managed_dir() else {
        println!("skipped parse-managed: ../shared/corpus/aws-managed-policies is absent");
        return;
    };
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().to_string();
            (
                format!("arn:aws:iam::aws:policy/{stem}"),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        // Two files of the collection are empty.
        .filter(|(_, src)| !src.trim().is_empty())
        .collect();
    files.sort();
    for (name, src) in &files {
        parse_policy(src, PolicyKind::Identity, name).unwrap();
    }
    let bytes: usize = files.iter().map(|(_, s)| s.len()).sum();
    let mut g = c.benchmark_group("parse-managed");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function(format!("all-{}-policies", files.len()), |b| {
        b.iter(|| {
            for (name, src) in &files {
                black_box(parse_policy(black_box(src), PolicyKind::Identity, name).is_ok());
            }
        })
    });
    let (name, src) = files.iter().max_by_key(|(_, s)| s.len()).unwrap();
    g.throughput(Throughput::Bytes(src.len() as u64));
    let short = name.rsplit('/').next().unwrap_or(name);
    g.bench_function(format!("largest-{short}"), |b| {
        b.iter(|| parse_policy(black_box(src), PolicyKind::Identity, name))
    });
    g.finish();
}

/// Every policy document of an authorization-details file, with its kind.
fn documents<'j, 'a>(j: &'j Json<'a>) -> Vec<(&'j Json<'a>, PolicyKind)> {
    let list = |name: &str| match j.get(name).map(|v| &v.value) {
        Some(JsonValue::Array(items)) => items.as_slice(),
        _ => &[],
    };
    let mut out = Vec::new();
    for (l, inline) in [
        ("UserDetailList", "UserPolicyList"),
        ("GroupDetailList", "GroupPolicyList"),
        ("RoleDetailList", "RolePolicyList"),
    ] {
        for item in list(l) {
            if let Some(t) = item.get("AssumeRolePolicyDocument") {
                out.push((t, PolicyKind::Trust));
            }
            if let Some(JsonValue::Array(ps)) = item.get(inline).map(|v| &v.value) {
                for p in ps {
                    if let Some(d) = p.get("PolicyDocument") {
                        out.push((d, PolicyKind::Identity));
                    }
                }
            }
        }
    }
    for p in list("Policies") {
        if let Some(JsonValue::Array(vs)) = p.get("PolicyVersionList").map(|v| &v.value) {
            for v in vs {
                if let Some(d) = v.get("Document") {
                    out.push((d, PolicyKind::Identity));
                }
            }
        }
    }
    out
}

fn read_all(src: &str) -> usize {
    let j = Json::parse(src).unwrap();
    documents(&j)
        .into_iter()
        .filter(|(d, kind)| policy_from_json_with(d, src, *kind, "doc", NO_LIMITS).is_ok())
        .count()
}

fn authorization_details_file(c: &mut Criterion) {
    let src = authorization_details(1_000_000, 5);
    let docs = documents(&Json::parse(&src).unwrap()).len();
    assert_eq!(read_all(&src), docs, "every generated document must parse");
    println!(
        "authorization details: {} bytes, {docs} policy documents",
        src.len()
    );
    let mut g = c.benchmark_group("parse-authorization-details");
    g.throughput(Throughput::Bytes(src.len() as u64));
    g.bench_function("1MB/json", |b| b.iter(|| Json::parse(black_box(&src))));
    g.bench_function(format!("1MB/json+{docs}-policies"), |b| {
        b.iter(|| read_all(black_box(&src)))
    });
    g.finish();
}

criterion_group!(benches, statements, managed, authorization_details_file);
criterion_main!(benches);
