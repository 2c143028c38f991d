//! `xverify eval`: JSON Lines of cases in, one decision line out per case (interfaces.md §2).

use std::io::{BufRead, Write};

use xverify_engine::case::{peek_id_expect, Case, Expect, PolicyCache};
use xverify_engine::json::{quote, write_decimal, write_str};
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
    /// Compile every policy of every case, instead of once per thread for the policies that
    /// come again with the same text at the same place ([`PolicyCache`]). The output is the
    /// same either way.
    pub no_cache: bool,
}

/// Lines given to one thread at a time by the parallel runs.
const CHUNK_LINES: usize = 64;

/// A chunk of the parallel runs ends after this many bytes of lines even when it has fewer than
/// [`CHUNK_LINES`] lines, so that long lines do not hold much memory.
const CHUNK_BYTES: usize = 4 << 20;

/// Chunks per thread read ahead and not yet written in the parallel runs: enough that a thread
/// never waits for the reading, few enough to bound the memory held.
const IN_FLIGHT_CHUNKS: usize = 4;

/// The policy texts the threads of a run keep compiled in all ([`PolicyCache`]; the compiled
/// policies take about 20 times that in memory). Each thread keeps its share, and at least
/// [`MIN_CACHE_TEXT_BYTES`].
const CACHE_TEXT_BYTES: usize = 4 << 20;

/// A thread's least share of [`CACHE_TEXT_BYTES`].
const MIN_CACHE_TEXT_BYTES: usize = 256 << 10;

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvalSummary {
    pub cases: usize,
    pub errors: usize,
    pub passed: usize,
    pub failed: usize,
    /// With `--check`: lines in error whose `expect` is not `Error` (counted in `failed` too).
    pub unexpected_errors: usize,
}

impl EvalSummary {
    fn add(&mut self, other: EvalSummary) {
        self.cases += other.cases;
        self.errors += other.errors;
        self.passed += other.passed;
        self.failed += other.failed;
        self.unexpected_errors += other.unexpected_errors;
    }

    /// Exit code: 2 when a line was in error (with `--check`, one that did not expect it: a bad
    /// case file is told from a wrong decision); otherwise, with `--check`, 1 on any difference.
    pub fn exit_code(&self, check: bool) -> i32 {
        if check {
            if self.unexpected_errors > 0 {
                2
            } else {
                i32::from(self.failed > 0)
            }
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
            out.push_str(",\"level\":");
            write_decimal(out, level);
        }
        out.push_str(",\"statement\":");
        write_decimal(out, reason.statement);
        if let Some(sid) = reason.sid() {
            out.push_str(",\"sid\":");
            write_str(out, sid);
        }
        out.push_str(",\"effect\":");
        write_str(out, reason.effect().as_str());
        if with_text {
            if let Some(st) = reason.policy.statements().get(reason.statement) {
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
    out: impl Write,
    opts: &EvalOptions,
) -> std::io::Result<EvalSummary> {
    run_eval_jobs(input, out, opts, 1)
}

/// [`run_eval`] on `jobs` threads: the lines are read and evaluated in chunks of [`CHUNK_LINES`]
/// in parallel; the output is the same, in input order.
pub fn run_eval_jobs(
    input: impl BufRead,
    out: impl Write,
    opts: &EvalOptions,
    jobs: usize,
) -> std::io::Result<EvalSummary> {
    let popts = ParseOptions {
        size_limits: !opts.no_size_limits,
    };
    // Each thread keeps its own policy cache, of an equal share of the run's budget.
    let limit = (CACHE_TEXT_BYTES / jobs.max(1)).max(MIN_CACHE_TEXT_BYTES);
    let new_cache = || {
        if opts.no_cache {
            PolicyCache::disabled()
        } else {
            PolicyCache::with_limit(limit)
        }
    };
    run_lines(
        input,
        out,
        jobs,
        new_cache,
        |n, line, buf, sum, cache: &mut PolicyCache| {
            eval_case_line(n, line, popts, opts, buf, sum, cache)
        },
    )
}

/// Append the output line of case line `n` (0-based) to `buf`.
fn eval_case_line(
    n: usize,
    line: &str,
    popts: ParseOptions,
    opts: &EvalOptions,
    buf: &mut String,
    sum: &mut EvalSummary,
    cache: &mut PolicyCache,
) {
    sum.cases += 1;
    buf.push('{');
    if wrote_unreadable(n, line, opts, buf, sum) {
        return;
    }
    let parsed = Case::parse_line_with(line, popts, cache);
    let expect = parsed.expect;
    if let Some(id) = &parsed.id {
        buf.push_str("\"id\":");
        buf.push_str(id);
        buf.push(',');
    }
    match parsed.case {
        Ok(case) => {
            let r = authorize(&case.policies, &case.request);
            write_decision(buf, &r, opts);
            if opts.check {
                let ok = expect == Some(Expect::Decision(r.decision));
                check_fields(buf, expect, ok, sum);
            }
        }
        Err(e) => write_error(buf, n, &e, expect, opts, sum),
    }
    buf.push_str("}\n");
}

/// A decided line's `"decision"`, `"explain"` and `"reason"`.
fn write_decision(buf: &mut String, r: &Response<'_>, opts: &EvalOptions) {
    buf.push_str("\"decision\":");
    write_str(buf, r.decision.as_str());
    buf.push_str(",\"explain\":");
    write_explain(buf, r, opts.explain);
    if let Some(note) = &r.note {
        buf.push_str(",\"reason\":");
        write_str(buf, note);
    }
}

/// A line in error: its `"error"` (`line N: ...`) and, with `--check`, the expectation fields.
fn write_error(
    buf: &mut String,
    n: usize,
    e: &dyn std::fmt::Display,
    expect: Option<Expect>,
    opts: &EvalOptions,
    sum: &mut EvalSummary,
) {
    sum.errors += 1;
    buf.push_str("\"error\":");
    write_str(buf, &format!("line {}: {e}", n + 1));
    if opts.check {
        let ok = expect == Some(Expect::Error);
        sum.unexpected_errors += usize::from(!ok);
        check_fields(buf, expect, ok, sum);
    }
}

/// Read the next line into `line` without its line ending, as [`BufRead::lines`] gives it, but
/// into the same buffers each time (`raw` holds its bytes); `false` at the end of the input. A
/// line that is not UTF-8 is read as the mark [`wrote_unreadable`] looks for, so that the batch
/// goes on past it.
fn next_line(
    input: &mut impl BufRead,
    raw: &mut Vec<u8>,
    line: &mut String,
) -> std::io::Result<bool> {
    line.clear();
    raw.clear();
    if input.read_until(b'\n', raw)? == 0 {
        return Ok(false);
    }
    if raw.ends_with(b"\n") {
        raw.pop();
        if raw.ends_with(b"\r") {
            raw.pop();
        }
    }
    match std::str::from_utf8(raw) {
        Ok(text) => line.push_str(text),
        Err(e) => {
            let at = e.valid_up_to();
            line.push('\n');
            line.push_str(&format!(
                "not UTF-8: byte 0x{:02x} at column {}",
                raw.get(at).copied().unwrap_or(0),
                at + 1
            ));
        }
    }
    Ok(true)
}

/// When line `n` is one [`next_line`] could not read as UTF-8 (it starts with a line feed, which
/// no line read from the input holds, and then says why), write its error and the end of its
/// output line, as `eval` and `eval --spec` both do.
fn wrote_unreadable(
    n: usize,
    line: &str,
    opts: &EvalOptions,
    buf: &mut String,
    sum: &mut EvalSummary,
) -> bool {
    let Some(why) = line.strip_prefix('\n') else {
        return false;
    };
    write_error(buf, n, &why, None, opts, sum);
    buf.push_str("}\n");
    true
}

/// Run `per_line` on every non-blank line of `input` (with its 0-based line number), writing
/// what it appends to its buffer to `out`, in input order. With `jobs` > 1 the lines are read in
/// chunks of [`CHUNK_LINES`] and `jobs` threads evaluate a chunk at a time while this one reads
/// the next chunks and writes the finished ones in order; the output, the counts and the error on
/// a line that cannot be read (after the output of every line before it) are the same as with one.
fn run_lines<S, F>(
    mut input: impl BufRead,
    mut out: impl Write,
    jobs: usize,
    new_state: impl Fn() -> S + Sync,
    per_line: F,
) -> std::io::Result<EvalSummary>
where
    F: Fn(usize, &str, &mut String, &mut EvalSummary, &mut S) + Sync,
{
    if jobs <= 1 {
        let mut sum = EvalSummary::default();
        let mut line = String::new();
        let mut raw = Vec::new();
        let mut buf = String::new();
        let mut state = new_state();
        let mut n = 0;
        while next_line(&mut input, &mut raw, &mut line)? {
            if !line.trim().is_empty() {
                buf.clear();
                per_line(n, &line, &mut buf, &mut sum, &mut state);
                out.write_all(buf.as_bytes())?;
            }
            n += 1;
        }
        out.flush()?;
        return Ok(sum);
    }
    let (work_tx, work_rx) = std::sync::mpsc::channel::<Chunk>();
    let work_rx = std::sync::Mutex::new(work_rx);
    let (done_tx, done_rx) = std::sync::mpsc::channel::<Evaluated>();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                let (done_tx, work_rx, per_line) = (done_tx.clone(), &work_rx, &per_line);
                let new_state = &new_state;
                scope.spawn(move || {
                    let mut state = new_state();
                    loop {
                        let next = match work_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => break,
                        };
                        let Ok(mut chunk) = next else {
                            break;
                        };
                        // A panic while evaluating is a bug: it is passed on to the caller, as the
                        // sequential run would, once the other threads have stopped.
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            chunk.text.clear();
                            chunk.sum = EvalSummary::default();
                            for (n, line) in &chunk.lines[..chunk.count] {
                                per_line(*n, line, &mut chunk.text, &mut chunk.sum, &mut state);
                            }
                        }));
                        let stop = r.is_err();
                        if done_tx.send(r.map(|()| chunk)).is_err() || stop {
                            break;
                        }
                    }
                })
            })
            .collect();
        drop(done_tx);
        let r = pipeline(&mut input, &mut out, jobs, &work_tx, &done_rx);
        // The threads stop once the chunks sent are evaluated.
        drop(work_tx);
        for w in workers {
            if let Err(p) = w.join() {
                std::panic::resume_unwind(p);
            }
        }
        match r {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }
    })
}

/// Lines read for one step of the parallel run, and what evaluating them wrote.
#[derive(Default)]
struct Chunk {
    /// Its place in the input, counted in chunks.
    seq: usize,
    /// The first `count` slots hold numbered non-blank lines (the others are buffers to reuse).
    lines: Vec<(usize, String)>,
    count: usize,
    text: String,
    sum: EvalSummary,
}

/// A chunk evaluated, or the panic that stopped its evaluation.
type Evaluated = std::thread::Result<Chunk>;

/// The reading and writing side of [`run_lines`]: send chunks to the threads, at most
/// [`IN_FLIGHT_CHUNKS`] per thread ahead of the output, and write their output in input order.
/// `Err` is a panic of a thread, to pass on.
fn pipeline(
    input: &mut impl BufRead,
    out: &mut impl Write,
    jobs: usize,
    work: &std::sync::mpsc::Sender<Chunk>,
    done: &std::sync::mpsc::Receiver<Evaluated>,
) -> std::thread::Result<std::io::Result<EvalSummary>> {
    let mut sum = EvalSummary::default();
    let mut n = 0;
    let (mut sent, mut written) = (0, 0);
    let mut failed: Option<std::io::Error> = None;
    let mut eof = false;
    // Chunks evaluated ahead of the next one to write, and chunks whose buffers can be reused.
    let mut ready: std::collections::BTreeMap<usize, Chunk> = std::collections::BTreeMap::new();
    let mut free: Vec<Chunk> = Vec::new();
    loop {
        while !eof && failed.is_none() && sent - written < jobs * IN_FLIGHT_CHUNKS {
            let mut chunk = free.pop().unwrap_or_default();
            (eof, failed) = read_chunk(input, &mut chunk, &mut n);
            if chunk.count == 0 {
                free.push(chunk);
                continue;
            }
            chunk.seq = sent;
            if work.send(chunk).is_err() {
                // Every thread stopped: one panicked, and its panic is in `done`.
                break;
            }
            sent += 1;
        }
        if written == sent {
            break;
        }
        let Ok(evaluated) = done.recv() else {
            // Unreachable: a thread stops early only after sending its panic.
            return Ok(Err(std::io::Error::other("the evaluation threads stopped")));
        };
        let chunk = evaluated?;
        ready.insert(chunk.seq, chunk);
        while let Some(chunk) = ready.remove(&written) {
            if let Err(e) = out.write_all(chunk.text.as_bytes()) {
                return Ok(Err(e));
            }
            sum.add(chunk.sum);
            written += 1;
            free.push(chunk);
        }
    }
    if let Some(e) = failed {
        return Ok(Err(e));
    }
    Ok(out.flush().map(|()| sum))
}

/// Read up to [`CHUNK_LINES`] non-blank lines (or [`CHUNK_BYTES`]) into `chunk`, counting every
/// line in `n`: whether the input ended, and the error that stopped the reading.
fn read_chunk(
    input: &mut impl BufRead,
    chunk: &mut Chunk,
    n: &mut usize,
) -> (bool, Option<std::io::Error>) {
    let (mut count, mut bytes) = (0, 0);
    let mut stop = (false, None);
    let mut raw = Vec::new();
    while count < CHUNK_LINES && bytes < CHUNK_BYTES {
        if chunk.lines.len() == count {
            chunk.lines.push((0, String::new()));
        }
        let slot = &mut chunk.lines[count];
        match next_line(input, &mut raw, &mut slot.1) {
            Ok(true) => {
                if !slot.1.trim().is_empty() {
                    slot.0 = *n;
                    count += 1;
                    bytes += slot.1.len();
                }
                *n += 1;
            }
            Ok(false) => {
                stop.0 = true;
                break;
            }
            Err(e) => {
                stop.1 = Some(e);
                break;
            }
        }
    }
    chunk.count = count;
    stop
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
    let j = Json::parse(line)?;
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
                JsonValue::String(s) => Ok(Some(s.to_string())),
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
    if let Some(why) = er
        .resource_account
        .as_deref()
        .and_then(xverify_engine::model::resource_account_error)
    {
        return Err(err(
            "resource_account",
            j.get("resource_account").map_or(j.span, |v| v.span),
            why,
        ));
    }
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
            er.session_tags.insert(k.name.to_string(), val.to_string());
        }
    }
    Ok(er)
}

/// `xverify eval --spec SPEC FILE`: requests against an estate.
pub fn run_eval_spec(
    estate: &xverify_engine::estate::Estate,
    input: impl BufRead,
    out: impl Write,
    opts: &EvalOptions,
) -> std::io::Result<EvalSummary> {
    run_eval_spec_jobs(estate, input, out, opts, 1)
}

/// [`run_eval_spec`] on `jobs` threads, as [`run_eval_jobs`].
pub fn run_eval_spec_jobs(
    estate: &xverify_engine::estate::Estate,
    input: impl BufRead,
    out: impl Write,
    opts: &EvalOptions,
    jobs: usize,
) -> std::io::Result<EvalSummary> {
    run_lines(
        input,
        out,
        jobs,
        || (),
        |n, line, buf, sum, (): &mut ()| eval_request_line(estate, n, line, opts, buf, sum),
    )
}

/// Append the output line of request line `n` (0-based) to `buf`.
fn eval_request_line(
    estate: &xverify_engine::estate::Estate,
    n: usize,
    line: &str,
    opts: &EvalOptions,
    buf: &mut String,
    sum: &mut EvalSummary,
) {
    sum.cases += 1;
    buf.push('{');
    if wrote_unreadable(n, line, opts, buf, sum) {
        return;
    }
    let (id, expect) = peek_id_expect(line);
    if let Some(id) = &id {
        buf.push_str("\"id\":");
        buf.push_str(id);
        buf.push(',');
    }
    let gathered = read_estate_request(line)
        .map_err(|e| e.to_string())
        .and_then(|er| estate.gather(&er).map_err(|e| e.to_string()));
    match gathered {
        Ok((set, req)) => {
            let r = authorize(&set, &req);
            write_decision(buf, &r, opts);
            if opts.explain {
                buf.push_str(",\"applied\":");
                write_applied(buf, &set, &req);
            }
            if opts.check {
                let ok = expect == Some(Expect::Decision(r.decision));
                check_fields(buf, expect, ok, sum);
            }
        }
        Err(e) => write_error(buf, n, &e, expect, opts, sum),
    }
    buf.push_str("}\n");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// Every vector line, blank lines, lines that are not JSON or not a case, CRLF endings,
    /// repeated over many chunks of the parallel run, and no newline at the very end.
    fn mixed_input() -> Vec<u8> {
        let mut lines = Vec::new();
        let dir = root().join("corpus/vectors");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        for f in files {
            lines.extend(
                std::fs::read_to_string(f)
                    .unwrap()
                    .lines()
                    .map(str::to_string),
            );
        }
        lines.extend(["".into(), "   ".into(), "not json".into(), "[1]".into()]);
        let mut text = String::new();
        // Twice what a three-thread run reads ahead, and some.
        for i in 0..CHUNK_LINES * 3 * IN_FLIGHT_CHUNKS * 2 + 100 {
            let l = &lines[i % lines.len()];
            text.push_str(l);
            text.push_str(if i % 7 == 0 { "\r\n" } else { "\n" });
        }
        text.push_str(&lines[0]);
        text.into_bytes()
    }

    fn run(input: &[u8], opts: &EvalOptions, jobs: usize) -> (Vec<u8>, String) {
        let mut out = Vec::new();
        let r = run_eval_jobs(input, &mut out, opts, jobs);
        (out, format!("{r:?}"))
    }

    #[test]
    fn parallel_runs_write_what_the_sequential_run_writes() {
        let input = mixed_input();
        let full = EvalOptions {
            explain: true,
            check: true,
            no_size_limits: false,
            no_cache: false,
        };
        for opts in [
            EvalOptions::default(),
            full.clone(),
            EvalOptions {
                no_cache: true,
                ..full.clone()
            },
        ] {
            let (want, want_sum) = run(&input, &opts, 1);
            // The policy cache changes nothing but the work: the lines repeat, so most
            // policies come from it.
            let uncached = EvalOptions {
                no_cache: true,
                ..opts.clone()
            };
            assert!(run(&input, &uncached, 1) == (want.clone(), want_sum.clone()));
            assert!(!want_sum.contains(", errors: 0,"), "{want_sum}");
            let mut seq = Vec::new();
            let seq_sum = run_eval(&input[..], &mut seq, &opts).unwrap();
            assert_eq!(seq, want);
            assert_eq!(format!("{:?}", Ok::<_, ()>(seq_sum)), want_sum);
            for jobs in [2, 3, 8] {
                let (got, sum) = run(&input, &opts, jobs);
                assert!(got == want, "jobs {jobs}: output differs");
                assert_eq!(sum, want_sum, "jobs {jobs}");
            }
        }
    }

    /// The non-blank lines of `input`: those with an output line.
    fn non_blank(input: &[u8]) -> usize {
        input
            .split(|&c| c == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .count()
    }

    /// A line that is not UTF-8 is an error line of its own, and the batch goes on past it
    /// (audit 10, bug 1: the run stopped there, the lines after it unread); the parallel runs
    /// write what the sequential run writes.
    #[test]
    fn runs_go_on_past_a_line_that_is_not_utf8() {
        let mut input = mixed_input();
        // Invalid UTF-8 past the chunks a two-thread run reads ahead at first.
        let newlines: Vec<usize> = input
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == b'\n')
            .map(|(i, _)| i)
            .collect();
        let line = CHUNK_LINES * 2 * IN_FLIGHT_CHUNKS + 300;
        input.insert(newlines[line] + 1, 0xff);
        let opts = EvalOptions::default();
        let (want, want_sum) = run(&input, &opts, 1);
        assert!(want_sum.starts_with("Ok("), "{want_sum}");
        let text = String::from_utf8(want.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            non_blank(&input),
            "every line has its output line"
        );
        let bad: Vec<&&str> = lines.iter().filter(|l| l.contains("not UTF-8")).collect();
        assert_eq!(
            bad,
            [&format!(
                r#"{{"error":"line {}: not UTF-8: byte 0xff at column 1"}}"#,
                line + 2
            )
            .as_str()]
        );
        for jobs in [2, 3] {
            let (got, sum) = run(&input, &opts, jobs);
            assert!(got == want, "jobs {jobs}: output differs");
            assert_eq!(sum, want_sum);
        }
    }

    /// Input that cannot be read stops the run with that error, after the output of every line
    /// before it, in the sequential and the parallel runs alike.
    #[test]
    fn parallel_runs_stop_where_the_input_cannot_be_read() {
        struct Failing<'a>(&'a [u8]);
        impl std::io::Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::other("device gone"));
                }
                let n = buf.len().min(self.0.len()).min(1000);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let input = mixed_input();
        let cut = input
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == b'\n')
            .nth(CHUNK_LINES * 2 * IN_FLIGHT_CHUNKS + 300)
            .unwrap()
            .0
            + 1;
        let go = |jobs: usize| {
            let mut out = Vec::new();
            let r = run_eval_jobs(
                std::io::BufReader::new(Failing(&input[..cut])),
                &mut out,
                &EvalOptions::default(),
                jobs,
            );
            (out, format!("{r:?}"))
        };
        let (want, want_sum) = go(1);
        assert!(want_sum.contains("device gone"), "{want_sum}");
        assert_eq!(
            String::from_utf8(want.clone()).unwrap().lines().count(),
            non_blank(&input[..cut])
        );
        for jobs in [2, 3] {
            let (got, sum) = go(jobs);
            assert!(got == want, "jobs {jobs}: output differs");
            assert_eq!(sum, want_sum);
        }
    }

    /// A panic while evaluating reaches the caller with its own message, from any thread and
    /// whatever the other threads are doing (no thread is left waiting).
    #[test]
    fn a_panic_while_evaluating_reaches_the_caller() {
        let text: String = (0..CHUNK_LINES * 20).map(|i| format!("{i}\n")).collect();
        for jobs in [1, 2, 3] {
            for bad in [3, CHUNK_LINES * 5 + 3, CHUNK_LINES * 20 - 1] {
                let r = std::panic::catch_unwind(|| {
                    run_lines(
                        text.as_bytes(),
                        Vec::new(),
                        jobs,
                        || (),
                        |n, _, buf, _, (): &mut ()| {
                            assert_ne!(n, bad, "line {n}");
                            buf.push_str("x\n");
                        },
                    )
                });
                let p = r.expect_err("the panic");
                let msg = p
                    .downcast_ref::<String>()
                    .map_or("", String::as_str)
                    .to_string();
                assert!(msg.contains(&format!("line {bad}")), "jobs {jobs}: {msg}");
            }
        }
    }

    /// Output that cannot be written stops the run with that error.
    #[test]
    fn a_write_error_stops_the_run() {
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if self.0 < b.len() {
                    return Err(std::io::Error::other("disk full"));
                }
                self.0 -= b.len();
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let text: String = (0..CHUNK_LINES * 20).map(|i| format!("{i}\n")).collect();
        for jobs in [1, 2, 3] {
            let r = run_lines(
                text.as_bytes(),
                Full(1000),
                jobs,
                || (),
                |_, _, buf, sum, (): &mut ()| {
                    sum.cases += 1;
                    buf.push_str("x\n");
                },
            );
            assert_eq!(r.map_err(|e| e.to_string()), Err("disk full".to_string()));
        }
    }

    #[test]
    fn parallel_spec_runs_write_what_the_sequential_run_writes() {
        let dir = root().join("corpus/specs/09-role-chaining");
        let spec = crate::spec::load_spec(&dir.join("spec.json")).unwrap();
        let reqs = std::fs::read_to_string(dir.join("requests.jsonl")).unwrap();
        // Twice what a three-thread run reads ahead, and some.
        let reps = CHUNK_LINES * 3 * IN_FLIGHT_CHUNKS * 2 / reqs.lines().count() + 1;
        let mut text = String::new();
        for _ in 0..reps {
            text.push_str(&reqs);
            text.push_str("not json\n\n");
        }
        let opts = EvalOptions {
            explain: true,
            check: true,
            no_size_limits: false,
            no_cache: false,
        };
        let mut want = Vec::new();
        let want_sum = run_eval_spec(&spec.estate, text.as_bytes(), &mut want, &opts).unwrap();
        for jobs in [2, 3] {
            let mut got = Vec::new();
            let sum =
                run_eval_spec_jobs(&spec.estate, text.as_bytes(), &mut got, &opts, jobs).unwrap();
            assert!(got == want, "jobs {jobs}: output differs");
            assert_eq!(sum, want_sum);
        }
    }
}
