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
        if let xverify_engine::Role::Scp { level } | xverify_engine::Role::Rcp { level } =
            reason.role
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
        let parsed = Case::parse_line(&line, popts);
        let expect = parsed.expect;
        if let Some(id) = &parsed.id {
            buf.push_str("\"id\":");
            buf.push_str(id);
            buf.push(',');
        }
        match parsed.case {
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

/// Read one `eval --spec` line: `{"id", "principal", "action", "resource", "resource_account"?,
/// "context"?, "session_policy"?, "session_tags"?}`; other fields (`expect`, `doc`) are ignored.
pub fn read_estate_request(
    line: &str,
) -> Result<xverify_engine::estate::EstateRequest, xverify_engine::case::CaseError> {
    use xverify_engine::case::{read_context, read_policy, CaseError};
    use xverify_engine::json::{Json, JsonValue, Span};
    use xverify_engine::{PolicyKind, Principal};
    let err = |path: &str, span: Span, m: String| CaseError {
        path: path.to_string(),
        span,
        message: m,
    };
    let j = Json::parse(line)
        .map_err(|e| err("", Span::default(), format!("invalid JSON: {}", e.message)))?;
    if j.as_object().is_none() {
        return Err(err(
            "",
            j.span,
            format!("a request must be a JSON object, found {}", j.kind_name()),
        ));
    }
    let s = |name: &str| -> Result<Option<String>, CaseError> {
        match j.get(name) {
            None => Ok(None),
            Some(v) => match &v.value {
                JsonValue::String(s) => Ok(Some(s.clone())),
                JsonValue::Null => Ok(None),
                _ => Err(err(
                    name,
                    v.span,
                    format!("expected a string, found {}", v.kind_name()),
                )),
            },
        }
    };
    let need = |name: &str| -> Result<String, CaseError> {
        s(name)?.ok_or_else(|| err("", j.span, format!("missing {name}")))
    };
    let principal_s = need("principal")?;
    let principal = Principal::parse(&principal_s).map_err(|e| {
        err(
            "principal",
            j.get("principal").map_or(j.span, |v| v.span),
            e.0,
        )
    })?;
    let action = need("action")?;
    if action
        .split_once(':')
        .is_none_or(|(a, b)| a.is_empty() || b.is_empty())
    {
        return Err(err(
            "action",
            j.span,
            format!(
                "invalid action {}: expected \"service:Action\"",
                quote(&action)
            ),
        ));
    }
    let resource = need("resource")?;
    if resource != "*"
        && (!resource.starts_with("arn:")
            || xverify_engine::pattern::split_arn(&resource).is_none())
    {
        return Err(err(
            "resource",
            j.get("resource").map_or(j.span, |v| v.span),
            format!(
                "invalid resource {}: expected an ARN or \"*\"",
                quote(&resource)
            ),
        ));
    }
    let mut er = xverify_engine::estate::EstateRequest::new(principal, &action, &resource);
    er.resource_account = s("resource_account")?;
    if let Some(c) = j.get("context") {
        er.context = read_context("context", c)?;
    }
    if let Some(p) = j
        .get("session_policy")
        .filter(|p| !matches!(p.value, JsonValue::Null))
    {
        er.session_policy = Some(read_policy(
            "session_policy",
            p,
            line,
            PolicyKind::Session,
            ParseOptions::default(),
        )?);
    }
    if let Some(t) = j.get("session_tags") {
        let Some(m) = t.as_object() else {
            return Err(err(
                "session_tags",
                t.span,
                "expected an object of tag key to value".into(),
            ));
        };
        for (k, v) in m {
            let Some(val) = v.as_str() else {
                return Err(err(
                    &format!("session_tags.{}", k.name),
                    v.span,
                    "expected a string".into(),
                ));
            };
            er.session_tags.insert(k.name.clone(), val.to_string());
        }
    }
    Ok(er)
}

/// `xverify eval --spec SPEC FILE`: requests against an estate.
pub fn run_eval_spec(
    estate: &xverify_engine::estate::Estate,
    input: impl BufRead,
    mut out: impl Write,
    opts: &EvalOptions,
) -> std::io::Result<EvalSummary> {
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
        let gathered = read_estate_request(&line)
            .map_err(|e| e.to_string())
            .and_then(|er| estate.gather(&er).map_err(|e| e.to_string()));
        match gathered {
            Ok((set, req)) => {
                let r = authorize(&set, &req);
                buf.push_str("\"decision\":");
                write_str(&mut buf, r.decision.as_str());
                buf.push_str(",\"explain\":");
                write_explain(&mut buf, &r, opts.explain);
                if let Some(note) = &r.note {
                    buf.push_str(",\"reason\":");
                    write_str(&mut buf, note);
                }
                if opts.explain {
                    buf.push_str(",\"applied\":");
                    write_applied(&mut buf, &set, &req);
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

/// Every policy that took part, by role, and the context the estate set.
fn write_applied(buf: &mut String, set: &xverify_engine::PolicySet, req: &xverify_engine::Request) {
    let names = |ps: &[xverify_engine::Policy]| -> Vec<String> {
        ps.iter().map(|p| quote(&p.name)).collect()
    };
    buf.push_str("{\"identity\":[");
    buf.push_str(&names(&set.identity).join(","));
    buf.push(']');
    for (k, p) in [
        ("resource", &set.resource),
        ("permissions_boundary", &set.boundary),
        ("session", &set.session),
    ] {
        if let Some(p) = p {
            buf.push_str(&format!(",\"{k}\":{}", quote(&p.name)));
        }
    }
    for (k, levels) in [("scps", &set.scps), ("rcps", &set.rcps)] {
        let ls: Vec<String> = levels
            .iter()
            .map(|l| format!("[{}]", names(l).join(",")))
            .collect();
        buf.push_str(&format!(",\"{k}\":[{}]", ls.join(",")));
    }
    buf.push_str(",\"context\":{");
    for (i, (k, v)) in req.context.iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        write_str(buf, k);
        buf.push(':');
        match v {
            xverify_engine::ContextValue::One(s) => write_str(buf, s),
            xverify_engine::ContextValue::Many(vs) => {
                buf.push('[');
                buf.push_str(&vs.iter().map(|s| quote(s)).collect::<Vec<_>>().join(","));
                buf.push(']');
            }
        }
    }
    buf.push_str("}}");
}
