//! The fuzz targets' checkers, shared by `fuzz/fuzz_targets/*.rs` (through the `xverify-fuzz`
//! library) and by `proofs/tests/fuzz_replay.rs` (through `#[path]`), so that every corpus file
//! and every regression goes through exactly the same checks under `cargo test` as under
//! libFuzzer.
//!
//! Inputs are plain bytes read by [`inputs::Src`], a cursor of choices that reads zeros past the end, so
//! every byte string decodes (the `generate` feature's `Arbitrary` types did not exist when these
//! targets were written; when they do, `case_line` and `spec_and_request` are the two places to
//! swap). Inputs that begin with `{` are taken as text as written — a case line, a policy, a spec
//! followed by a request line — so corpus files from `corpus/` seed the targets unchanged; any
//! other first byte drives a generator that draws policies and requests from a small universe of
//! accounts, principals, actions, resources and context keys (STYLE.md, Generators).
//!
//! Every checker panics with a reproducer (the case line, the spec and request, the pattern) when
//! a property fails, and returns `false` for an input it rejects as oversize.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use xverify_engine::case::{Case, PolicyCache};
use xverify_engine::eval::statement_applies;
use xverify_engine::pattern::{fold, ArnTemplate, Template, TemplateOpts};
use xverify_engine::{
    authorize, decide, parse_policy_with, ContextValue, Decision, Effect, ParseOptions, Policy,
    PolicyKind, PolicySet, Principal, Request, ResourceService, Role,
};

#[path = "fuzz_inputs.rs"]
pub mod inputs;

pub use inputs::{case_line, case_line_of, spec_and_request};

/// Every target, in the order of `fuzz/README.md`.
pub const TARGETS: &[&str] = &[
    "parse_policy",
    "parse_spec",
    "pattern",
    "eval",
    "compiled_vs_reference",
    "symbolic_vs_concrete",
    "estate_eval",
];

/// Inputs larger than this are rejected (`Corpus::Reject`): the properties are about structure,
/// and big inputs only slow the search.
pub const MAX_INPUT: usize = 16 * 1024;

/// The reference interpreter: a case line → its decision.
pub type ReferenceOracle = dyn Fn(&str) -> Decision;

/// Run the checker of `target` on `data` (the dispatcher of the replay test). `regex` is the
/// `pattern` target's extra oracle (a regular expression and a text → does it match), `reference`
/// `compiled_vs_reference`'s.
pub fn run(
    target: &str,
    data: &[u8],
    regex: Option<&RegexOracle>,
    reference: Option<&ReferenceOracle>,
) -> bool {
    match target {
        "parse_policy" => parse_policy(data),
        "parse_spec" => parse_spec(data),
        "pattern" => pattern(data, regex),
        "eval" => eval(data),
        "compiled_vs_reference" => compiled_vs_reference(data, reference),
        "symbolic_vs_concrete" => symbolic_vs_concrete(data),
        "estate_eval" => estate_eval(data),
        other => panic!("unknown fuzz target {other:?}"),
    }
}

/// Is a known, reported and not yet fixed bug to be stepped over? Each call names its regression
/// (`corpus/regressions/<target>/<name>`, listed in `corpus/regressions/open.txt` until the fix
/// lands; delete the call with the fix). While fuzzing (`cargo fuzz` builds with `--cfg fuzzing`)
/// always, so the search goes on past it; in the replay test when `open.txt` lists it, except
/// for the regression files themselves, which run under [`strict`] and must still fail.
#[allow(unexpected_cfgs, dead_code)] // unused while no regression is open
fn known_open(regression: &str) -> bool {
    if cfg!(fuzzing) {
        return true;
    }
    !STRICT.with(std::cell::Cell::get) && open_regressions().iter().any(|r| r == regression)
}

thread_local! {
    static STRICT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` with no known bug stepped over (how the replay test runs a regression file).
pub fn strict<R>(f: impl FnOnce() -> R) -> R {
    STRICT.with(|s| s.set(true));
    let r = f();
    STRICT.with(|s| s.set(false));
    r
}

/// The lines of `corpus/regressions/open.txt` (comments dropped).
pub fn open_regressions() -> &'static [String] {
    static OPEN: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    OPEN.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/regressions/open.txt");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// parse_policy

const KINDS: [PolicyKind; 9] = [
    PolicyKind::Identity,
    PolicyKind::Boundary,
    PolicyKind::Session,
    PolicyKind::Scp,
    PolicyKind::Rcp,
    PolicyKind::Resource(ResourceService::S3),
    PolicyKind::Resource(ResourceService::Kms),
    PolicyKind::Resource(ResourceService::Sqs),
    PolicyKind::Trust,
];

const NO_LIMITS: ParseOptions = ParseOptions { size_limits: false };

/// Bytes → the policy parser, as every kind: never panics; what it accepts prints with
/// `Policy::to_json` and re-parses to an equal policy that prints the same; the size-limited
/// parse accepts a subset of the unlimited one, with the same result.
pub fn parse_policy(data: &[u8]) -> bool {
    if data.len() > MAX_INPUT {
        return false;
    }
    let src = String::from_utf8_lossy(data);
    for kind in KINDS {
        let name = "fuzz";
        let unlimited = parse_policy_with(&src, kind, name, NO_LIMITS);
        let limited = parse_policy_with(&src, kind, name, ParseOptions::default());
        if let Ok(l) = &limited {
            assert!(
                unlimited.as_ref() == Ok(l),
                "{kind:?}: accepted with size limits but not equally without: {src:?}"
            );
        }
        match unlimited {
            Ok(p) => round_trip(&p, kind, &src),
            Err(e) => {
                let _ = e.render("fuzz.json", &src);
                let _ = e.line(&src);
            }
        }
    }
    true
}

fn round_trip(p: &Policy, kind: PolicyKind, src: &str) {
    let printed = p.to_json();
    let again = match parse_policy_with(&printed, kind, &p.name, NO_LIMITS) {
        Ok(a) => a,
        Err(e) => panic!(
            "{kind:?}: the printed policy does not parse: {e}\n input: {src:?}\n printed: {printed}"
        ),
    };
    assert!(
        *p == again,
        "{kind:?}: print/parse round trip differs\n input: {src:?}\n printed: {printed}\n first: {p:?}\n again: {again:?}"
    );
    let twice = again.to_json();
    assert!(
        printed == twice,
        "{kind:?}: printing is not stable\n input: {src:?}\n printed: {printed}\n twice: {twice}"
    );
}

// ---------------------------------------------------------------------------------------------
// parse_spec

/// An input starting with this is a directory of AWS CLI outputs for `xverify import`.
pub const IMPORT_MAGIC: &str = "#xverify-import\n";

/// Bytes → the spec parser (and the URL decoder), or with [`IMPORT_MAGIC`] a directory of AWS CLI
/// outputs → `xverify import` → the spec parser: never panics; an import's output is JSON the
/// spec reader understands (no unknown fields).
pub fn parse_spec(data: &[u8]) -> bool {
    if data.len() > 4 * MAX_INPUT {
        return false;
    }
    let src = String::from_utf8_lossy(data);
    if let Some(rest) = src.strip_prefix(IMPORT_MAGIC) {
        import(rest);
        return true;
    }
    if let Ok(decoded) = xverify_engine::parse::url_decode(&src) {
        if decoded != src {
            let _ = parse_policy_with(&decoded, PolicyKind::Identity, "fuzz", NO_LIMITS);
        }
    }
    match xverify_proofs::spec::parse_spec(&src, Path::new("fuzz/spec.json")) {
        Ok(spec) => gather_some(&spec.estate),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    true
}

/// Gather a few requests of every described principal: never panics.
fn gather_some(estate: &xverify_engine::estate::Estate) {
    use xverify_engine::estate::EstateRequest;
    let mut principals: Vec<String> = Vec::new();
    for (id, a) in estate.accounts.iter().take(3) {
        principals.push(format!("arn:aws:iam::{id}:root"));
        for r in a.roles.keys().take(2) {
            principals.push(format!("arn:aws:sts::{id}:assumed-role/{r}/s1"));
        }
        for u in a.users.keys().take(2) {
            principals.push(format!("arn:aws:iam::{id}:user/{u}"));
        }
    }
    let resources: Vec<String> = estate
        .accounts
        .values()
        .flat_map(|a| a.resources.keys().take(2).cloned())
        .take(3)
        .chain(std::iter::once("*".to_string()))
        .collect();
    for p in principals.iter().take(6) {
        let Ok(principal) = Principal::parse(p) else {
            continue;
        };
        for r in &resources {
            let er = EstateRequest::new(principal.clone(), "s3:GetObject", r);
            if let Ok((set, req)) = estate.gather(&er) {
                let _ = authorize(&set, &req);
            }
        }
    }
}

static IMPORT_DIRS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `@@ relative/path` lines start files; the text up to the next such line is the file.
fn import(text: &str) {
    let n = IMPORT_DIRS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Memory-backed where there is one: directory churn on a disk costs more than the import.
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!(
        "xverify-fuzz-import-{}-{}",
        std::process::id(),
        n % 4
    ));
    let _ = std::fs::remove_dir_all(&dir);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("@@ ") {
            files.push((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
        }
    }
    for (name, body) in files.iter().take(48) {
        let safe = !name.is_empty()
            && name.split('/').count() <= 4
            && name.split('/').all(|c| {
                !c.is_empty()
                    && c != "."
                    && c != ".."
                    && c.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            });
        if !safe {
            continue;
        }
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(&path, body);
    }
    let result = xverify_proofs::import::import_dir(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Ok(value) => {
            let spec = serde_json::to_string_pretty(&value).unwrap_or_default();
            if let Err(e) = xverify_proofs::spec::parse_spec(&spec, Path::new("imported.json")) {
                let m = e.to_string();
                assert!(
                    !m.contains("unknown field") && !m.contains("invalid JSON"),
                    "the import wrote a spec the spec reader does not understand: {m}\n input:\n{text}\n spec:\n{spec}"
                );
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// pattern

/// A regular-expression oracle: does the regex (regex-crate syntax) match the whole text?
/// `None` when the regex cannot be built (too large).
pub type RegexOracle = dyn Fn(&str, &str) -> Option<bool>;

/// One token of the reference reading of a policy string.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ch(char),
    One,
    Star,
    Var {
        key_lc: String,
        default: Option<String>,
    },
}

/// The reference reading of a policy string, written from iam-semantics.md §5 and
/// corpus/DECISIONS.md 11: `*` and `?` are wildcards where allowed; with variables, `${key}` and
/// `${key, 'default'}` are variables (up to the first `}`), and `${*}`, `${?}`, `${$}` escapes.
fn ref_tokens(s: &str, wildcards: bool, variables: bool) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if variables && rest.starts_with("${") {
            if let Some(end) = rest.find('}') {
                let inner = &rest[2..end];
                if matches!(inner, "*" | "?" | "$") {
                    out.extend(inner.chars().map(Tok::Ch));
                } else if inner.trim().is_empty() {
                    out.extend(rest[..=end].chars().map(Tok::Ch));
                } else {
                    let (key, default) = match inner.split_once(',') {
                        Some((k, d))
                            if d.trim().len() >= 2
                                && d.trim().starts_with('\'')
                                && d.trim().ends_with('\'') =>
                        {
                            let d = d.trim();
                            (k.trim(), Some(d[1..d.len() - 1].to_string()))
                        }
                        _ => (inner.trim(), None),
                    };
                    out.push(Tok::Var {
                        key_lc: key.to_lowercase(),
                        default,
                    });
                }
                rest = &rest[end + 1..];
                continue;
            }
        }
        out.push(match c {
            '*' if wildcards => Tok::Star,
            '?' if wildcards => Tok::One,
            c => Tok::Ch(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Case folding of one character: its lowercase when that is one character.
fn fold1(c: char) -> char {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// Substitute variables (values are literal text); `None` when one has no value and no default.
fn expand(toks: &[Tok], vars: &BTreeMap<String, String>, ci: bool) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    for t in toks {
        match t {
            Tok::Var { key_lc, default } => {
                let v = vars.get(key_lc).or(default.as_ref())?;
                out.extend(v.chars().map(Tok::Ch));
            }
            t => out.push(t.clone()),
        }
    }
    if ci {
        for t in &mut out {
            if let Tok::Ch(c) = t {
                *c = fold1(*c);
            }
        }
    }
    Some(out)
}

/// Reference glob matching by dynamic programming over characters.
fn dp_match(p: &[Tok], text: &[char]) -> bool {
    // row[j]: does p[..i] match text[..j]?
    let mut row = vec![false; text.len() + 1];
    row[0] = true;
    for t in p {
        let mut next = vec![false; text.len() + 1];
        match t {
            Tok::Star => {
                let mut any = false;
                for j in 0..=text.len() {
                    any |= row[j];
                    next[j] = any;
                }
            }
            Tok::One => {
                next[1..=text.len()].copy_from_slice(&row[..text.len()]);
            }
            Tok::Ch(c) => {
                for j in 1..=text.len() {
                    next[j] = row[j - 1] && text[j - 1] == *c;
                }
            }
            Tok::Var { .. } => return false,
        }
        row = next;
    }
    row[text.len()]
}

/// The expanded tokens as a regex (every character as `\x{..}`), anchored at both ends.
fn to_regex(p: &[Tok], ci: bool) -> String {
    let mut re = String::from(if ci { "(?is)\\A" } else { "(?s)\\A" });
    for t in p {
        match t {
            Tok::Ch(c) => re.push_str(&format!("\\x{{{:x}}}", u32::from(*c))),
            Tok::One => re.push('.'),
            Tok::Star => re.push_str(".*"),
            Tok::Var { .. } => {}
        }
    }
    re.push_str("\\z");
    re
}

/// The reference answer for one component; `regex` checked against the DP on the way.
fn ref_match(
    src: &str,
    opts: TemplateOpts,
    text: &str,
    vars: &BTreeMap<String, String>,
    regex: Option<&RegexOracle>,
) -> bool {
    let toks = ref_tokens(src, opts.wildcards, opts.variables);
    let Some(p) = expand(&toks, vars, opts.ci) else {
        return false;
    };
    let text_chars: Vec<char> = if opts.ci {
        text.chars().map(fold1).collect()
    } else {
        text.chars().collect()
    };
    let dp = dp_match(&p, &text_chars);
    if let Some(re) = regex {
        let folded: String = text_chars.iter().collect();
        if let Some(r) = re(&to_regex(&p, false), &folded) {
            assert!(
                r == dp,
                "the DP reference and the regex disagree on {src:?} vs {text:?}: dp {dp}, regex {r}"
            );
        }
        // Case-insensitive ASCII: the regex crate's own case folding must agree.
        if opts.ci && text.is_ascii() && src.is_ascii() && vars.values().all(|v| v.is_ascii()) {
            if let Some(raw) = expand(&toks, vars, false) {
                if let Some(r) = re(&to_regex(&raw, true), text) {
                    assert!(
                        r == dp,
                        "ASCII case folding: regex (?i) {r}, reference {dp} on {src:?} vs {text:?}"
                    );
                }
            }
        }
    }
    dp
}

/// Split an ARN pattern at the colons outside `${...}` (ArnLike's component rule).
fn ref_arn_parts(s: &str, variables: bool) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if variables && b[i] == b'$' && b.get(i + 1) == Some(&b'{') {
            depth += 1;
            i += 2;
            continue;
        }
        match b[i] {
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 && parts.len() < 5 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&s[start..]);
    parts
}

/// One pattern input: flags, pattern, text and variable bindings, split at `0xFF` bytes (never
/// part of UTF-8, so any text can appear in a field).
#[derive(Debug)]
pub struct PatternInput {
    pub wildcards: bool,
    pub variables: bool,
    pub ci: bool,
    pub arn: bool,
    pub pattern: String,
    pub text: String,
    /// Lower-cased key → value.
    pub vars: BTreeMap<String, String>,
}

impl PatternInput {
    pub fn read(data: &[u8]) -> PatternInput {
        let flags = data.first().copied().unwrap_or(0);
        let rest = data.get(1..).unwrap_or(&[]);
        let mut fields = rest.split(|&b| b == 0xFF).map(String::from_utf8_lossy);
        let pattern = fields.next().unwrap_or_default().into_owned();
        let text = fields.next().unwrap_or_default().into_owned();
        let mut vars = BTreeMap::new();
        for f in fields.take(8) {
            let (k, v) = f.split_once('=').unwrap_or((&f, ""));
            vars.insert(fold(k), v.to_string());
        }
        PatternInput {
            wildcards: flags & 1 != 0,
            variables: flags & 2 != 0,
            ci: flags & 4 != 0,
            arn: flags & 8 != 0,
            pattern,
            text,
            vars,
        }
    }
}

/// The wildcard matcher (`Template`, and `ArnTemplate` component by component) equals the
/// reference: a DP glob over characters after substituting variables as literal text, with
/// case-insensitive templates folding every character on both sides (`regex` checked as well).
/// Also: `render` re-compiles to the same template, and `Template::literal` text matches itself.
pub fn pattern(data: &[u8], regex: Option<&RegexOracle>) -> bool {
    if data.len() > 512 {
        return false;
    }
    let input = PatternInput::read(data);
    let resolve = |k: &str| input.vars.get(k).map(String::as_str);
    if input.arn {
        let t = ArnTemplate::new(&input.pattern, input.variables);
        let got = t.matches(&input.text, &resolve);
        let parts = ref_arn_parts(&input.pattern, input.variables);
        let text_parts: Vec<&str> = input.text.splitn(6, ':').collect();
        let opts = TemplateOpts {
            wildcards: true,
            variables: input.variables,
            ci: false,
        };
        let want = parts.len() == 6
            && text_parts.len() == 6
            && parts
                .iter()
                .zip(&text_parts)
                .all(|(p, s)| ref_match(p, opts, s, &input.vars, regex));
        assert!(
            got == want,
            "ArnTemplate: engine {got}, reference {want}: {input:?}"
        );
        return true;
    }
    let opts = TemplateOpts {
        wildcards: input.wildcards,
        variables: input.variables,
        ci: input.ci,
    };
    let t = Template::new(&input.pattern, opts);
    let got = t.matches(&input.text, &resolve);
    let want = ref_match(&input.pattern, opts, &input.text, &input.vars, regex);
    assert!(
        got == want,
        "Template: engine {got}, reference {want}: {input:?}"
    );
    if input.variables && input.wildcards {
        let again = Template::new(&t.render(), opts);
        assert!(
            again.atoms == t.atoms,
            "render does not re-compile to the same template: {:?} rendered {:?}: {input:?}",
            t.atoms,
            t.render()
        );
    }
    let lit = Template::literal(&input.text);
    assert!(
        lit.matches_plain(&input.text),
        "literal does not match itself: {input:?}"
    );
    let written = Template::new(
        lit.source(),
        TemplateOpts {
            wildcards: true,
            variables: true,
            ci: false,
        },
    );
    assert!(
        written.matches_plain(&input.text),
        "Template::literal's source {:?} does not match its text: {input:?}",
        lit.source()
    );
    true
}

// ---------------------------------------------------------------------------------------------
// eval

const DENY_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn identity_policy(src: &str, name: &str) -> Policy {
    builtin_policy(src, PolicyKind::Identity, name)
}

fn session_policy(src: &str, name: &str) -> Policy {
    builtin_policy(src, PolicyKind::Session, name)
}

fn builtin_policy(src: &str, kind: PolicyKind, name: &str) -> Policy {
    match parse_policy_with(src, kind, name, NO_LIMITS) {
        Ok(p) => p,
        Err(e) => panic!("built-in policy does not parse: {e}"),
    }
}

/// `sts:GetCallerIdentity` by an IAM principal: allowed whatever the policies say.
fn caller_identity(req: &Request) -> bool {
    req.action_lc == "sts:getcalleridentity" && req.principal.is_iam()
}

/// An arbitrary case line: reading and deciding never panic, and the decision keeps the core
/// invariants: a Deny-everything identity policy gives ExplicitDeny; taking away SCPs, RCPs, the
/// permissions boundary or the session policy never turns Allow into a deny; explicit deny wins
/// over any added Allow; a cross-account Allow has an allowing identity side and resource side; a
/// caller with no identity side (anonymous, services) is allowed only by a resource policy; trust
/// and key policies must allow.
/// A line read through a policy cache reads as it does alone: the first time, the second
/// (its policies then come from the cache), and its first half after it (a policy text cut
/// short beside the known one).
fn policy_cache_reads_as_alone(line: &str) {
    let opts = ParseOptions::default();
    let mut cache = PolicyCache::new();
    let mut half = line.len() / 2;
    while !line.is_char_boundary(half) {
        half -= 1;
    }
    for text in [line, line, &line[..half]] {
        let got = Case::parse_line_with(text, opts, &mut cache);
        let want = Case::parse_line(text, opts);
        if (&got.id, got.expect, &got.case) != (&want.id, want.expect, &want.case) {
            panic!("the policy cache changes what a line reads\n line: {text}");
        }
    }
}

pub fn eval(data: &[u8]) -> bool {
    if data.len() > MAX_INPUT {
        return false;
    }
    let line = case_line(data);
    policy_cache_reads_as_alone(&line);
    let case = match Case::parse(&line, ParseOptions::default()) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.to_string();
            return true;
        }
    };
    let set = &case.policies;
    let req = &case.request;
    let d = decide(set, req);
    let r = authorize(set, req);
    let exempt = caller_identity(req);
    let fail = |what: &str| -> ! { panic!("{what}\n case: {line}") };

    // Deny wins: a Deny of everything among the identity policies.
    let mut denied = set.clone();
    denied
        .identity
        .push(identity_policy(DENY_ALL, "fuzz deny-all"));
    if !exempt && decide(&denied, req) != Decision::ExplicitDeny {
        fail("a Deny-everything identity policy does not give ExplicitDeny");
    }
    // ... and no added Allow undoes an explicit deny.
    if d == Decision::ExplicitDeny {
        let mut more = set.clone();
        more.identity
            .push(identity_policy(ALLOW_ALL, "fuzz allow-all"));
        if decide(&more, req) != Decision::ExplicitDeny {
            fail("an added Allow-everything identity policy undoes an explicit deny");
        }
        if r.reasons.is_empty() || r.reasons.iter().any(|x| x.effect() != Effect::Deny) {
            fail("an ExplicitDeny is not explained by Deny statements only");
        }
    }

    if d == Decision::Allow && !exempt {
        // Guardrails never grant: removing any of them keeps the Allow.
        let mut variants: Vec<(&str, PolicySet)> = Vec::new();
        let mut v = set.clone();
        v.scps.clear();
        variants.push(("without SCPs", v));
        let mut v = set.clone();
        v.rcps.clear();
        variants.push(("without RCPs", v));
        let mut v = set.clone();
        v.boundary = None;
        variants.push(("without the permissions boundary", v));
        // A federated user session without a session policy has no permissions (DECISIONS 18):
        // its session policy is relaxed to an allow-everything one instead.
        let relaxed_session = matches!(req.principal, Principal::FederatedUser { .. })
            .then(|| session_policy(ALLOW_ALL, "fuzz allow-all session"));
        let mut v = set.clone();
        v.session = relaxed_session.clone();
        variants.push(("without the session policy", v));
        let mut v = set.clone();
        v.scps.clear();
        v.rcps.clear();
        v.boundary = None;
        v.session = relaxed_session;
        variants.push(("without any guardrail", v));
        for level in 0..set.scps.len() {
            let mut v = set.clone();
            v.scps.remove(level);
            variants.push(("without one SCP level", v));
        }
        for (what, v) in &variants {
            if decide(v, req) != Decision::Allow {
                fail(&format!("Allow turns into a deny {what}"));
            }
        }

        let p = &req.principal;
        let has = |role: Role| r.reasons.iter().any(|x| x.role == role);
        // Only a resource policy lets anonymous callers, services and identity providers in.
        if !p.is_iam() && set.resource.is_none() {
            fail("Allow for a caller with no identity side and no resource policy");
        }
        // Trust and key policies must allow, even within one account.
        if xverify_engine::estate::must_allow(&req.action_lc, &req.resource)
            && set.resource.is_none()
        {
            fail("Allow of a trust or key request with no trust or key policy");
        }
        // Cross-account: both sides allow.
        if let (Some(a), Some(b)) = (p.account(), req.resource_account.as_deref()) {
            if a != b {
                let resource_side = has(Role::Resource);
                let identity_side = matches!(p, Principal::Root { .. }) || has(Role::Identity);
                let pb_side = set.boundary.is_none() || has(Role::Boundary);
                let sp_side = set.session.is_none() || has(Role::Session);
                if !(resource_side && identity_side && pb_side && sp_side) {
                    fail(&format!(
                        "cross-account Allow without both sides: resource {resource_side}, identity {identity_side}, boundary {pb_side}, session {sp_side}"
                    ));
                }
                let applies = set.resource.as_ref().is_some_and(|rp| {
                    rp.statements().iter().any(|st| {
                        st.effect == Effect::Allow
                            && statement_applies(st, rp, req, set.boundary.is_some()).is_some()
                    })
                });
                if !applies {
                    fail("cross-account Allow with no applying Allow statement in the resource policy");
                }
            }
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// compiled_vs_reference

/// `decide` (the hot path) equals `authorize(..).decision` (the explaining path) and `xverify
/// eval`'s output line; every statement an explanation names exists, has the decision's effect
/// and applies to the request; the policies re-read from their printed form decide the same.
///
/// With `reference` (the interpreter of `engine/tests/reference`, written from iam-semantics.md
/// apart from the engine): it decides the case, read back in canonical form, as `decide` does.
/// The fuzz target and `engine/tests/fuzz_reference.rs` pass it; `proofs/tests/fuzz_replay.rs`
/// cannot (it needs `regex`, a dependency of the fuzz crate and the engine's tests only).
pub fn compiled_vs_reference(data: &[u8], reference: Option<&ReferenceOracle>) -> bool {
    if data.len() > MAX_INPUT {
        return false;
    }
    let line = case_line(data);
    let Ok(case) = Case::parse(&line, ParseOptions::default()) else {
        return true;
    };
    let set = &case.policies;
    let req = &case.request;
    let d = decide(set, req);
    let r = authorize(set, req);
    let fail = |what: String| -> ! { panic!("{what}\n case: {line}") };
    if d != r.decision {
        fail(format!("decide {d:?}, authorize {:?}", r.decision));
    }
    // The reference knows every caller but identity providers (`AssumeRoleWith*` callers).
    let in_domain = !matches!(req.principal, Principal::IdentityProvider(_));
    if let Some(reference) = reference.filter(|_| in_domain) {
        let canonical = case_line_of(set, req);
        let want = reference(&canonical);
        if want != d {
            fail(format!(
                "decide {d:?}, the reference interpreter {want:?}\n canonical case: {canonical}"
            ));
        }
    }
    // The CLI path.
    let mut out = Vec::new();
    let one_line = line.replace(['\n', '\r'], " ");
    let opts = xverify_proofs::cli::eval::EvalOptions::default();
    if xverify_proofs::cli::eval::run_eval(one_line.as_bytes(), &mut out, &opts).is_ok() {
        let text = String::from_utf8_lossy(&out);
        let v: Value = serde_json::from_str(text.trim()).unwrap_or(Value::Null);
        if v.get("decision").and_then(Value::as_str) != Some(d.as_str()) {
            fail(format!("xverify eval printed {text:?}, decide {d:?}"));
        }
    }
    // Explanations name applying statements of the decision's effect.
    let has_pb = set.boundary.is_some();
    for reason in &r.reasons {
        let Some(st) = reason.policy.statements().get(reason.statement) else {
            fail(format!(
                "explanation names statement {} of {:?}, which has {}",
                reason.statement,
                reason.policy.name,
                reason.policy.statements().len()
            ));
        };
        if statement_applies(st, reason.policy, req, has_pb).is_none() {
            fail(format!(
                "explanation names statement {} of {:?}, which does not apply",
                reason.statement, reason.policy.name
            ));
        }
        let want = if d == Decision::ExplicitDeny {
            Effect::Deny
        } else {
            Effect::Allow
        };
        if st.effect != want {
            fail(format!("a {d:?} explained by a {:?} statement", st.effect));
        }
    }
    if d == Decision::ImplicitDeny && !r.reasons.is_empty() {
        // Allow statements of a partial grant may be listed only when something else was missing.
        if r.note.is_none() {
            fail("an ImplicitDeny with no note".to_string());
        }
    }
    // Printed and re-read policies decide the same.
    let reread = |p: &Policy| -> Policy {
        match parse_policy_with(&p.to_json(), p.kind, &p.name, NO_LIMITS) {
            Ok(q) => q,
            Err(e) => fail(format!("{}: printed policy does not parse: {e}", p.name)),
        }
    };
    let again = PolicySet {
        identity: set.identity.iter().map(reread).collect(),
        resource: set.resource.as_ref().map(reread),
        boundary: set.boundary.as_ref().map(reread),
        session: set.session.as_ref().map(reread),
        scps: set
            .scps
            .iter()
            .map(|l| l.iter().map(reread).collect())
            .collect(),
        rcps: set
            .rcps
            .iter()
            .map(|l| l.iter().map(reread).collect())
            .collect(),
    };
    let d2 = decide(&again, req);
    if d2 != d {
        fail(format!(
            "printed policies decide {d2:?}, the originals {d:?}"
        ));
    }
    true
}

// ---------------------------------------------------------------------------------------------
// symbolic_vs_concrete

/// Z3 runs only on inputs this small (by total policy text), so the target keeps tens of
/// executions per second.
pub const Z3_MAX_POLICY_TEXT: usize = 700;

fn policy_text_len(set: &PolicySet) -> usize {
    let one = |p: &Policy| p.to_json().len();
    set.identity.iter().map(one).sum::<usize>()
        + set.resource.iter().map(one).sum::<usize>()
        + set.boundary.iter().map(one).sum::<usize>()
        + set.session.iter().map(one).sum::<usize>()
        + set.scps.iter().flatten().map(one).sum::<usize>()
        + set.rcps.iter().flatten().map(one).sum::<usize>()
}

/// With the request fixed, the encoding decides as the engine: the formula evaluated without a
/// solver always; on small inputs Z3 with every variable pinned, and Z3 with the caller's fields
/// free, whose model must replay as an Allow through the engine (and whose `unsat` means the
/// engine denies the request itself). Unsupported constructs and solver `unknown` are skipped.
pub fn symbolic_vs_concrete(data: &[u8]) -> bool {
    use xverify_proofs::fixed::{ir_decides_allow, z3_decides_allow};
    if data.len() > 4096 {
        return false;
    }
    let line = case_line(data);
    let Ok(case) = Case::parse(&line, ParseOptions::default()) else {
        return true;
    };
    let set = &case.policies;
    let req = &case.request;
    let engine = decide(set, req) == Decision::Allow;
    let fail = |what: String| -> ! { panic!("{what}\n case: {line}") };
    if let Ok(Some(ir)) = ir_decides_allow(set, req) {
        if ir != engine {
            fail(format!("engine allows: {engine}, formula: {ir}"));
        }
    }
    if policy_text_len(set) > Z3_MAX_POLICY_TEXT {
        return true;
    }

    if let Ok(Some(z)) = z3_decides_allow(set, req) {
        if z != engine {
            fail(format!("engine allows: {engine}, Z3 (pinned): {z}"));
        }
    }
    if let Some(msg) = free_fields_replay(set, req, engine) {
        fail(msg);
    }
    true
}

/// Keys `Request::new` fills from the principal and resource (fixed in `fixed::sym_for`).
const DERIVED: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:resourceaccount",
    "aws:principaltype",
    "aws:principalisawsservice",
    "aws:username",
    "aws:userid",
    "aws:principalservicename",
];

/// The query of `req` with action, resource and the caller's context keys free: a model must
/// replay as an Allow; `unsat` means the concrete request is not allowed either.
fn free_fields_replay(set: &PolicySet, req: &Request, engine: bool) -> Option<String> {
    use xverify_proofs::encode::{allow_formula, eval_formula, Family};
    use xverify_proofs::fixed::{assignment_of, sym_for};
    use xverify_proofs::solve::{check, Config, Outcome};
    // With no resource account, the engine takes it from the ARN the model picks; the query keeps
    // it fixed. Compare only where both agree.
    req.resource_account.as_ref()?;
    let mut sym = sym_for(req);
    let f = allow_formula(&mut sym, set).ok()?;
    let cfg = Config {
        timeout_ms: 2_000,
        ..Config::default()
    };
    match check(&sym, &f, &cfg, "fuzz").0 {
        Outcome::Sat(a) => {
            if !eval_formula(&sym, &f, &a) {
                return Some(format!("Z3's model does not satisfy the formula: {a:?}"));
            }
            let action = a.strs.get(sym.action).cloned().flatten()?;
            let resource = a.strs.get(sym.resource).cloned().flatten()?;
            let mut ctx = xverify_engine::Context::new();
            for (k, v) in req.context.iter() {
                if DERIVED.contains(&k.to_ascii_lowercase().as_str()) {
                    ctx.insert(k, v.clone());
                }
            }
            for (i, k) in sym.keys.iter().enumerate() {
                let Some(Some(vals)) = a.keys.get(i) else {
                    continue;
                };
                let value = match (k.family, vals.as_slice()) {
                    (Family::Multi, _) | (Family::Untyped, [] | [_, _, ..]) => {
                        ContextValue::Many(vals.clone())
                    }
                    (_, [one]) => ContextValue::One(one.clone()),
                    _ => ContextValue::Many(vals.clone()),
                };
                ctx.insert(&k.name, value);
            }
            let replay = Request::new(
                req.principal.clone(),
                &action,
                &resource,
                req.resource_account.clone(),
                ctx,
            );
            // A trust policy in a policy set applies to every action in `decide`, to the
            // sts:AssumeRole* family only in the encoding (as `Estate::gather` hands it out); the
            // case format never pairs one with another action, so neither does the replay.
            let trust = xverify_engine::eval::is_trust_request(&replay.action_lc, &replay.resource);
            if set
                .resource
                .as_ref()
                .is_some_and(|p| p.kind == PolicyKind::Trust)
                && !trust
            {
                return None;
            }
            let d = decide(set, &replay);
            (d != Decision::Allow).then(|| {
                format!(
                    "Z3's model replays as {d:?}: action {action:?}, resource {resource:?}, context {:?}",
                    replay.context
                )
            })
        }
        Outcome::Unsat => (engine && assignment_of(&sym, req).is_some()).then(|| {
            "Z3 says no request with these fields free is allowed, but the engine allows this one"
                .to_string()
        }),
        Outcome::Unknown(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// estate_eval

/// Random small estates and requests: `xverify eval --spec` decides (and explains) each request
/// exactly as the case evaluator does when fed the policies and context `Estate::gather`
/// returned; a request `eval --spec` refuses is one `gather` refuses.
pub fn estate_eval(data: &[u8]) -> bool {
    use xverify_proofs::cli::eval::{
        read_estate_request, run_eval_spec, write_explain, EvalOptions,
    };
    if data.len() > MAX_INPUT {
        return false;
    }
    let (spec_src, line) = spec_and_request(data);
    let Ok(spec) = xverify_proofs::spec::parse_spec(&spec_src, Path::new("fuzz/spec.json")) else {
        return true;
    };
    let line = line.replace(['\n', '\r'], " ");
    if line.trim().is_empty() {
        return true;
    }
    let estate = &spec.estate;
    let fail = |what: String| -> ! { panic!("{what}\n spec: {spec_src}\n request: {line}") };
    let mut out = Vec::new();
    if run_eval_spec(estate, line.as_bytes(), &mut out, &EvalOptions::default()).is_err() {
        return true;
    }
    let printed: Value =
        serde_json::from_str(String::from_utf8_lossy(&out).trim()).unwrap_or(Value::Null);
    let gathered = read_estate_request(&line)
        .ok()
        .and_then(|er| estate.gather(&er).ok());
    let Some((set, req)) = gathered else {
        if printed.get("error").is_none() {
            fail(format!(
                "gather refuses the request, eval --spec printed {printed}"
            ));
        }
        return true;
    };
    if Principal::parse(&req.principal.to_arn_string()).as_ref() != Ok(&req.principal) {
        fail(format!(
            "principal {:?} does not read back from {:?}",
            req.principal,
            req.principal.to_arn_string()
        ));
    }
    let case_line = case_line_of(&set, &req);
    let case = match Case::parse(&case_line, NO_LIMITS) {
        Ok(c) => c,
        Err(e) => fail(format!(
            "the case evaluator refuses what gather applied: {e}\n case: {case_line}"
        )),
    };
    let r = authorize(&case.policies, &case.request);
    if printed.get("decision").and_then(Value::as_str) != Some(r.decision.as_str()) {
        fail(format!(
            "eval --spec printed {printed}, the case evaluator decides {:?}\n case: {case_line}",
            r.decision
        ));
    }
    let mut explain = String::new();
    write_explain(&mut explain, &r, false);
    let want: Value = serde_json::from_str(&explain).unwrap_or(Value::Null);
    if printed.get("explain") != Some(&want) {
        fail(format!(
            "eval --spec explains {}, the case evaluator {explain}\n case: {case_line}",
            printed.get("explain").unwrap_or(&Value::Null)
        ));
    }
    true
}
