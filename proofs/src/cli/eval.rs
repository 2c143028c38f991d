//! `xverify eval`: JSON Lines of cases in, one decision line out per case (interfaces.md §2).

use std::io::{BufRead, Write};

use xverify_engine::case::{peek_id_expect, Case, Expect};
use xverify_engine::json::{quote, write_str};
use xverify_engine::{authorize, ParseOptions, Response};

/// Options of `xverify eval`.
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    /// Include each deciding statement's text in `explain`.
    pub explain: bool,
    /// Compare with `expect`; exit 1 on a difference.
    pub check: bool,
    /// Skip AWS's policy size limits.
    pub no_size_limits: bool,
}

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvalSummary {
    pub cases: usize,
    pub errors: usize,
    pub passed: usize,
    pub failed: usize,
}

impl EvalSummary {
    /// Exit code: with `--check`, 1 on any difference; otherwise 2 when a line was in error.
    pub fn exit_code(&self, check: bool) -> i32 {
        if check {
            i32::from(self.failed > 0)
        } else if self.errors > 0 {
            2
        } else {
            0
        }
    }
}

/// Write the `explain` array of a response.
pub fn write_explain(out: &mut String, r: &Response<'_>, with_text: bool) {
    out.push('[');
    for (i, reason) in r.reasons.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"policy\":");
        write_str(out, &reason.policy.name);
        out.push_str(",\"type\":");
        write_str(out, reason.role.name());
        if let xverify_engine::Role::Scp { level } | xverify_engine::Role::Rcp { level } = reason.role
        {
            out.push_str(&format!(",\"level\":{level}"));
        }
        out.push_str(&format!(",\"statement\":{}", reason.statement));
        if let Some(sid) = reason.sid() {
            out.push_str(",\"sid\":");
            write_str(out, sid);
        }
        out.push_str(",\"effect\":");
        write_str(out, reason.effect().as_str());
        if with_text {
            if let Some(st) = reason.policy.statements.get(reason.statement) {
                out.push_str(",\"text\":");
                out.push_str(&st.to_json());
            }
        }
        out.push('}');
    }
    out.push(']');
}

/// Evaluate every case of `input`, writing one line per case to `out`.
pub fn run_eval(
    input: impl BufRead,
    mut out: impl Write,
    opts: &EvalOptions,
) -> std::io::Result<EvalSummary> {
    let popts = ParseOptions {
        size_limits: !opts.no_size_limits,
    };
    let mut sum = EvalSummary::default();
    let mut buf = String::new();
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        buf.clear();
        sum.cases += 1;
        buf.push('{');
        let (id, expect) = peek_id_expect(&line);
        if let Some(id) = &id {
            buf.push_str("\"id\":");
            buf.push_str(id);
            buf.push(',');
        }
        match Case::parse(&line, popts) {
            Ok(case) => {
                let r = authorize(&case.policies, &case.request);
                buf.push_str("\"decision\":");
                write_str(&mut buf, r.decision.as_str());
                buf.push_str(",\"explain\":");
                write_explain(&mut buf, &r, opts.explain);
                if let Some(note) = &r.note {
                    buf.push_str(",\"reason\":");
                    write_str(&mut buf, note);
                }
                if opts.check {
                    let ok = expect == Some(Expect::Decision(r.decision));
                    check_fields(&mut buf, expect, ok, &mut sum);
                }
            }
            Err(e) => {
                sum.errors += 1;
                buf.push_str("\"error\":");
                write_str(&mut buf, &format!("line {}: {e}", n + 1));
                if opts.check {
                    let ok = expect == Some(Expect::Error);
                    check_fields(&mut buf, expect, ok, &mut sum);
                }
            }
        }
        buf.push_str("}\n");
        out.write_all(buf.as_bytes())?;
    }
    out.flush()?;
    Ok(sum)
}

fn check_fields(buf: &mut String, expect: Option<Expect>, ok: bool, sum: &mut EvalSummary) {
    buf.push_str(",\"expect\":");
    match expect {
        Some(Expect::Decision(d)) => buf.push_str(&quote(d.as_str())),
        Some(Expect::Error) => buf.push_str("\"Error\""),
        None => buf.push_str("null"),
    }
    buf.push_str(if ok { ",\"ok\":true" } else { ",\"ok\":false" });
    if ok {
        sum.passed += 1;
    } else {
        sum.failed += 1;
    }
}
