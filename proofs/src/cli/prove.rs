//! `xverify prove SPEC`: every property proved, refuted or unknown, as text, JSON or SARIF.

use std::path::Path;

use serde_json::{json, Value};

use crate::properties::{prove_property, PropertyResult, Status, Step};
use crate::solve::Config;
use crate::spec::Spec;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

/// Prove the selected properties (all when `names` is empty), one after the other, each on
/// `cfg.threads` threads.
pub fn prove_all(spec: &Spec, names: &[String], cfg: &Config) -> Vec<PropertyResult> {
    spec.properties
        .iter()
        .filter(|p| names.is_empty() || names.contains(&p.name))
        .map(|p| prove_property(spec, p, cfg))
        .collect()
}

/// [`prove_all`], with a progress line on standard error when `show` (the caller checks that
/// standard error is a terminal): drawn once a second of work has passed, so that quick runs print
/// nothing, redrawn in place (`\r`, ANSI erase line) with the queries done out of those planned so
/// far and the property being proved, and erased before this returns.
pub fn prove_all_with_progress(
    spec: &Spec,
    names: &[String],
    cfg: &Config,
    show: bool,
) -> Vec<PropertyResult> {
    if !show {
        return prove_all(spec, names, cfg);
    }
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    let selected: Vec<&crate::spec::Property> = spec
        .properties
        .iter()
        .filter(|p| names.is_empty() || names.contains(&p.name))
        .collect();
    let (done0, planned0) = crate::properties::progress::snapshot();
    let current: Mutex<(usize, String)> = Mutex::new((0, String::new()));
    let stop = AtomicBool::new(false);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        let drawer = s.spawn(|| {
            let mut drawn = false;
            while !stop.load(Ordering::SeqCst) {
                std::thread::park_timeout(Duration::from_millis(200));
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                if t0.elapsed() < Duration::from_secs(1) {
                    continue;
                }
                let (done, planned) = crate::properties::progress::snapshot();
                let (done, planned) = (done - done0.min(done), planned - planned0.min(planned));
                let (i, name) = current.lock().map(|g| g.clone()).unwrap_or_default();
                let line = progress_line(done, planned, i, selected.len(), &name);
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K{line}");
                let _ = err.flush();
                drawn = true;
            }
            if drawn {
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K");
                let _ = err.flush();
            }
        });
        let mut results = Vec::new();
        for (i, p) in selected.iter().enumerate() {
            if let Ok(mut g) = current.lock() {
                *g = (i + 1, p.name.clone());
            }
            results.push(prove_property(spec, p, cfg));
        }
        stop.store(true, Ordering::SeqCst);
        drawer.thread().unpark();
        let _ = drawer.join();
        results
    })
}

/// `[#######.............]  37/120 queries  property 2/5 T-stays-in-org`, at most ~80 columns.
pub fn progress_line(done: usize, planned: usize, i: usize, n: usize, name: &str) -> String {
    const WIDTH: usize = 20;
    let filled = (done * WIDTH).checked_div(planned).unwrap_or(0).min(WIDTH);
    let mut short: String = name.chars().take(32).collect();
    if name.chars().count() > 32 {
        short.push('…');
    }
    let name = short;
    format!(
        "[{}{}] {done}/{planned} queries  property {i}/{n} {name}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled)
    )
}

/// Exit code: 0 all hold, 1 one refuted, 3 nothing refuted but one unknown (interfaces.md §3).
pub fn exit_code(results: &[PropertyResult]) -> u8 {
    if results.iter().any(|r| r.status == Status::Refuted) {
        1
    } else if results.iter().any(|r| r.status == Status::Unknown) {
        3
    } else {
        0
    }
}

/// A step as an `xverify eval --spec` line would give it (interfaces.md §2): the keys the estate
/// works out itself are left out, the session tags are kept.
fn step_json(s: &Step) -> Value {
    let ctx: serde_json::Map<String, Value> = s
        .context
        .iter()
        .filter(|(k, _)| !s.derived.contains(*k))
        .map(|(k, v)| {
            (
                k.clone(),
                match v {
                    xverify_engine::ContextValue::One(x) => json!(x),
                    xverify_engine::ContextValue::Many(xs) => json!(xs),
                },
            )
        })
        .collect();
    let mut o = json!({"principal": s.principal, "action": s.action, "resource": s.resource, "context": ctx});
    if !s.session_tags.is_empty() {
        o["session_tags"] = json!(s.session_tags);
    }
    if let Some(a) = &s.resource_account {
        o["resource_account"] = json!(a);
    }
    o
}

/// The JSON report of interfaces.md §3.
pub fn json_report(spec_path: &Path, results: &[PropertyResult]) -> Value {
    let rs: Vec<Value> = results
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            o.insert("name".into(), json!(r.name));
            o.insert("status".into(), json!(r.status.as_str()));
            o.insert("elapsed_ms".into(), json!(r.elapsed_ms));
            if !r.chain.is_empty() {
                let key = if r.status == Status::Proved { "witness" } else { "counterexample" };
                let explain: Vec<Value> = r
                    .chain
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let mut e = json!({"step": i, "decision": s.decision.as_str(), "statements": s.explain});
                        if let Some(n) = &s.note {
                            e["reason"] = json!(n);
                        }
                        e
                    })
                    .collect();
                o.insert(
                    key.into(),
                    json!({"chain": r.chain.iter().map(step_json).collect::<Vec<_>>(), "explain": explain}),
                );
            }
            if let Some(reason) = &r.reason {
                o.insert("reason".into(), json!(reason));
            }
            if !r.why.is_empty() {
                o.insert("why".into(), json!(r.why));
            }
            o.insert("queries".into(), json!(r.queries));
            Value::Object(o)
        })
        .collect();
    json!({"spec": spec_path.display().to_string(), "results": rs})
}

/// A report a person reads at a glance.
pub fn text_report(spec_path: &Path, results: &[PropertyResult]) -> String {
    let mut out = String::new();
    for r in results {
        let mark = match r.status {
            Status::Proved => "PROVED ",
            Status::Refuted => "REFUTED",
            Status::Unknown => "UNKNOWN",
        };
        out.push_str(&format!("{mark}  {}  ({} ms)\n", r.name, r.elapsed_ms));
        if let Some(reason) = &r.reason {
            if r.status != Status::Proved || !r.chain.is_empty() {
                out.push_str(&format!("         {reason}\n"));
            }
        }
        if !r.why.is_empty() {
            out.push_str("         holds because of:\n");
            for w in r.why.iter().take(12) {
                out.push_str(&format!("           - {w}\n"));
            }
            if r.why.len() > 12 {
                out.push_str(&format!(
                    "           (and {} more: --format json lists all)\n",
                    r.why.len() - 12
                ));
            }
        }
        for (i, s) in r.chain.iter().enumerate() {
            out.push_str(&format!(
                "         {}. {} {} {}\n",
                i + 1,
                s.principal,
                s.action,
                s.resource
            ));
            let ctx: Vec<String> = s
                .context
                .iter()
                .filter(|(k, _)| !s.derived.contains(*k))
                .map(|(k, v)| format!("{k}={}", v.values().join(",")))
                .collect();
            if !ctx.is_empty() {
                out.push_str(&format!("            context: {}\n", ctx.join(" ")));
            }
            if !s.session_tags.is_empty() {
                let tags: Vec<String> = s
                    .session_tags
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                out.push_str(&format!("            session tags: {}\n", tags.join(" ")));
            }
            if s.decision == xverify_engine::Decision::Allow {
                for e in &s.explain {
                    out.push_str(&format!("            allowed by {e}\n"));
                }
            } else {
                out.push_str(&format!(
                    "            {}: {}\n",
                    s.decision.as_str(),
                    s.note.clone().unwrap_or_else(|| s.explain.join("; "))
                ));
            }
        }
    }
    let (p, f, u) = results
        .iter()
        .fold((0, 0, 0), |(p, f, u), r| match r.status {
            Status::Proved => (p + 1, f, u),
            Status::Refuted => (p, f + 1, u),
            Status::Unknown => (p, f, u + 1),
        });
    out.push_str(&format!(
        "{}: {p} proved, {f} refuted, {u} unknown\n",
        spec_path.display()
    ));
    out
}

/// A path as a URI reference (SARIF's `artifactLocation.uri`, RFC 3986): every byte but the
/// unreserved ones and `/` percent-encoded, so that a space, `#` or `%` in a path stays part of
/// it (audit 10).
pub fn uri_reference(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SARIF 2.1.0 for code scanning: one result per property that does not hold.
pub fn sarif_report(
    spec_path: &Path,
    spec_text: &str,
    spec: &Spec,
    results: &[PropertyResult],
) -> Value {
    let uri = uri_reference(&spec_path.display().to_string());
    let rules: Vec<Value> = spec
        .properties
        .iter()
        .map(|p| {
            json!({"id": p.name, "name": p.name,
                   "shortDescription": {"text": p.description.clone().unwrap_or_else(|| p.name.clone())}})
        })
        .collect();
    let _ = spec_text;
    let res: Vec<Value> = results
        .iter()
        .filter(|r| r.status != Status::Proved)
        .map(|r| {
            let line = spec.properties.iter().find(|p| p.name == r.name).map_or(1, |p| p.line.max(1));
            let level = if r.status == Status::Refuted { "error" } else { "warning" };
            let mut msg = format!("{}: {}", r.status.as_str(), r.reason.clone().unwrap_or_default());
            for (i, s) in r.chain.iter().enumerate() {
                msg.push_str(&format!(" | step {}: {} {} {}", i + 1, s.principal, s.action, s.resource));
                if let Some(e) = s.explain.first() {
                    msg.push_str(&format!(" (allowed by {e})"));
                }
            }
            json!({
                "ruleId": r.name,
                "level": level,
                "message": {"text": msg},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}}]
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "xverify", "informationUri": "https://example.invalid/xverify",
                                 "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": res
        }]
    })
}
