//! The fuzz targets' checkers, shared by `fuzz/fuzz_targets/*.rs` (through the `xverify-fuzz`
//! library) and by `proofs/tests/fuzz_replay.rs` (through `#[path]`), so that every corpus file
//! and every regression goes through exactly the same checks under `cargo test` as under
//! libFuzzer.
//!
//! Inputs are plain bytes read by [`Src`], a cursor of choices that reads zeros past the end, so
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

use serde_json::{json, Map, Value};
use xverify_engine::case::Case;
use xverify_engine::eval::statement_applies;
use xverify_engine::pattern::{fold, ArnTemplate, Atom, Template, TemplateOpts};
use xverify_engine::{
    authorize, decide, parse_policy_with, ContextValue, Decision, Effect, ParseOptions, Policy,
    PolicyKind, PolicySet, Principal, Request, ResourceService, Role,
};

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

/// Run the checker of `target` on `data` (the dispatcher of the replay test). `regex` is the
/// `pattern` target's extra oracle: a regular expression and a text → does it match.
pub fn run(target: &str, data: &[u8], regex: Option<&RegexOracle>) -> bool {
    match target {
        "parse_policy" => parse_policy(data),
        "parse_spec" => parse_spec(data),
        "pattern" => pattern(data, regex),
        "eval" => eval(data),
        "compiled_vs_reference" => compiled_vs_reference(data),
        "symbolic_vs_concrete" => symbolic_vs_concrete(data),
        "estate_eval" => estate_eval(data),
        other => panic!("unknown fuzz target {other:?}"),
    }
}

/// Is a known, reported and not yet fixed bug to be stepped over? Only while fuzzing (`cargo
/// fuzz` builds with `--cfg fuzzing`), so the search goes on past it; the replay test checks it
/// (its input is in `corpus/regressions/`, listed in `open.txt` until the fix lands). Each call
/// names its regression file: delete the call with the fix.
#[allow(unexpected_cfgs)]
fn known_open(_regression: &str) -> bool {
    cfg!(fuzzing)
}

// ---------------------------------------------------------------------------------------------
// Reading choices from bytes

/// A cursor of choices over the fuzz input; reads past the end give 0.
pub struct Src<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Src<'a> {
    pub fn new(data: &'a [u8]) -> Src<'a> {
        Src { data, pos: 0 }
    }

    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// A number in `0..n` (`n` at most 256).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            0
        } else {
            usize::from(self.byte()) % n
        }
    }

    /// True with probability `k`/8.
    pub fn chance(&mut self, k: u8) -> bool {
        self.byte() % 8 < k
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
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
            principals.push(format!("arn:aws:sts::{id}:assumed-role/{r}/s"));
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
    let unfolded_value = |v: &str| v.chars().any(|c| fold1(c) != c);
    if got != want
        && input.ci
        && input.variables
        && t.atoms.iter().any(|a| match a {
            Atom::Var(v) => input
                .vars
                .get(&v.key_lc)
                .or(v.default.as_ref())
                .is_some_and(|x| unfolded_value(x)),
            _ => false,
        })
        && known_open("pattern/ci-variable-value-not-folded")
    {
        return true;
    }
    if got != want
        && input.ci
        && fold(&input.pattern) != input.pattern.chars().map(fold1).collect::<String>()
        && known_open("pattern/ci-literal-folded-as-string")
    {
        return true;
    }
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
        &lit.source,
        TemplateOpts {
            wildcards: true,
            variables: true,
            ci: false,
        },
    );
    assert!(
        written.matches_plain(&input.text),
        "Template::literal's source {:?} does not match its text: {input:?}",
        lit.source
    );
    true
}

// ---------------------------------------------------------------------------------------------
// The universe cases are drawn from

const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];

const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::111111111111:user/alice",
    "arn:aws:iam::111111111111:role/app",
    "arn:aws:sts::111111111111:assumed-role/app/s1",
    "arn:aws:iam::111111111111:root",
    "arn:aws:iam::222222222222:user/bob",
    "arn:aws:sts::222222222222:assumed-role/ops/s2",
    "arn:aws:iam::222222222222:role/service-role/ops",
    "arn:aws:sts::333333333333:federated-user/fed",
    "arn:aws:sts::111111111111:assumed-role/AWSServiceRoleForSupport/s3",
    "arn:aws:iam::333333333333:root",
    "anonymous",
    "s3.amazonaws.com",
    "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com",
];

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "dynamodb:GetItem",
    "kms:Decrypt",
    "kms:RetireGrant",
    "sts:AssumeRole",
    "sts:TagSession",
    "sts:AssumeRoleWithWebIdentity",
    "sts:GetCallerIdentity",
    "iam:GetRole",
    "sqs:SendMessage",
    "ec2:RunInstances",
];

const RESOURCES: &[&str] = &[
    "arn:aws:s3:::bucket-a/home/alice/k.txt",
    "arn:aws:s3:::bucket-a",
    "arn:aws:dynamodb:us-east-1:222222222222:table/T",
    "arn:aws:dynamodb:us-east-1:222222222222:table/T/index/I",
    "arn:aws:kms:us-east-1:111111111111:key/k1",
    "arn:aws:iam::111111111111:role/app",
    "arn:aws:iam::222222222222:role/service-role/ops",
    "arn:aws:sqs:us-east-1:222222222222:q",
    "arn:aws:ec2:us-east-1:111111111111:instance/i-1",
    "*",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fam {
    Str,
    Multi,
    Num,
    Date,
    Bool,
    Ip,
    Arn,
    Bin,
}

const KEYS: &[(&str, Fam, &[&str])] = &[
    ("aws:PrincipalTag/team", Fam::Str, &["red", "Blue", "a*b"]),
    ("aws:username", Fam::Str, &["alice", "bob", "Alice"]),
    ("s3:prefix", Fam::Str, &["home/alice/", "home/", "public/x"]),
    ("sts:ExternalId", Fam::Str, &["ext-1", "ext-2"]),
    ("aws:PrincipalOrgID", Fam::Str, &["o-aaaa", "o-bbbb"]),
    (
        "aws:SourceAccount",
        Fam::Str,
        &["111111111111", "222222222222"],
    ),
    ("aws:TagKeys", Fam::Multi, &["team", "env", "Owner"]),
    (
        "aws:PrincipalOrgPaths",
        Fam::Multi,
        &["o-aaaa/r-1/ou-1/", "o-aaaa/r-1/"],
    ),
    ("s3:max-keys", Fam::Num, &["10", "100", "1e3", "-1.5"]),
    (
        "aws:CurrentTime",
        Fam::Date,
        &["2024-01-01T00:00:00Z", "2030-06-01T12:00:00Z", "1700000000"],
    ),
    ("aws:MultiFactorAuthPresent", Fam::Bool, &["true", "false"]),
    ("aws:SecureTransport", Fam::Bool, &["true", "false", "TRUE"]),
    (
        "aws:SourceIp",
        Fam::Ip,
        &["10.0.0.1", "192.168.1.7", "2001:db8::1"],
    ),
    (
        "aws:SourceArn",
        Fam::Arn,
        &[
            "arn:aws:s3:::bucket-a",
            "arn:aws:sns:us-east-1:111111111111:t",
        ],
    ),
    (
        "s3:ExistingObjectTag/blob",
        Fam::Bin,
        &["aGVsbG8=", "d29ybGQ="],
    ),
];

fn ops_of(f: Fam) -> &'static [&'static str] {
    match f {
        Fam::Str | Fam::Multi => &[
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
        ],
        Fam::Num => &[
            "NumericEquals",
            "NumericNotEquals",
            "NumericLessThan",
            "NumericLessThanEquals",
            "NumericGreaterThan",
            "NumericGreaterThanEquals",
        ],
        Fam::Date => &[
            "DateEquals",
            "DateNotEquals",
            "DateLessThan",
            "DateLessThanEquals",
            "DateGreaterThan",
            "DateGreaterThanEquals",
        ],
        Fam::Bool => &["Bool"],
        Fam::Ip => &["IpAddress", "NotIpAddress"],
        Fam::Arn => &["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"],
        Fam::Bin => &["BinaryEquals"],
    }
}

/// Policy values for a condition on a key of family `f`.
fn cond_value(s: &mut Src, f: Fam, values: &[&str]) -> String {
    let v = s.pick(values).to_string();
    match f {
        Fam::Arn if s.chance(4) => wild_arn(s, &v),
        Fam::Str | Fam::Multi | Fam::Arn => match s.below(6) {
            0 => wild(s, &v),
            1 => "${aws:username}".to_string(),
            2 => format!(
                "home/${{aws:username}}/{}",
                if s.chance(4) { "*" } else { "" }
            ),
            3 => "${aws:PrincipalTag/team, 'red'}".to_string(),
            _ => v,
        },
        Fam::Ip => s
            .pick(&["10.0.0.0/8", "192.168.1.7/32", "2001:db8::/32", "0.0.0.0/0"])
            .to_string(),
        Fam::Num => s.pick(&["10", "100", "0", "1000.5"]).to_string(),
        Fam::Date => s
            .pick(&["2025-01-01T00:00:00Z", "2024-01-01", "1700000000"])
            .to_string(),
        _ => v,
    }
}

/// A policy pattern from a real name: as is, `*`, truncated + `*`, one character as `?`,
/// upper-cased.
fn wild(s: &mut Src, name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match s.below(6) {
        0 => "*".to_string(),
        1 => {
            // Keep the service prefix of an action (`s3:`): `s3*` is not an action pattern.
            let keep = name.find(':').map_or(0, |i| i + 1);
            let cut = (keep + s.below(chars.len() + 1)).min(chars.len());
            chars[..cut].iter().collect::<String>() + "*"
        }
        2 if !chars.is_empty() => {
            let at = s.below(chars.len());
            let mut c = chars.clone();
            c[at] = '?';
            c.into_iter().collect()
        }
        3 => name.to_uppercase(),
        _ => name.to_string(),
    }
}

/// A resource pattern from a real ARN: `arn:` stays, the rest as [`wild`] (no upper-casing).
fn wild_arn(s: &mut Src, arn: &str) -> String {
    let Some(rest) = arn.strip_prefix("arn:") else {
        return arn.to_string();
    };
    match s.below(8) {
        0 => "arn:*".to_string(),
        1..=3 => {
            let w = wild(s, rest);
            if w == rest.to_uppercase() && w != rest {
                arn.to_string()
            } else {
                format!("arn:{w}")
            }
        }
        _ => arn.to_string(),
    }
}

/// What a generated policy is for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Gen {
    Identity,
    Resource,
    Trust,
    Scp,
    Rcp,
    Boundary,
    Session,
}

fn one_or_many(s: &mut Src, mut items: Vec<String>) -> Value {
    if items.len() == 1 && s.chance(4) {
        Value::String(items.remove(0))
    } else {
        Value::Array(items.into_iter().map(Value::String).collect())
    }
}

fn gen_principal(s: &mut Src) -> Value {
    match s.below(8) {
        0 => json!("*"),
        1 => json!({"AWS": "*"}),
        2 => json!({"AWS": s.pick(&ACCOUNTS)}),
        3 => json!({"AWS": format!("arn:aws:iam::{}:root", s.pick(&ACCOUNTS))}),
        4 => json!({"Service": s.pick(&["s3.amazonaws.com", "cloudtrail.amazonaws.com"])}),
        5 => {
            json!({"Federated": "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"})
        }
        _ => {
            let p = s.pick(&[
                "arn:aws:iam::111111111111:user/alice",
                "arn:aws:iam::111111111111:role/app",
                "arn:aws:sts::111111111111:assumed-role/app/s1",
                "arn:aws:iam::222222222222:role/ops",
                "arn:aws:iam::222222222222:user/bob",
                "arn:aws:sts::333333333333:federated-user/fed",
            ]);
            json!({"AWS": p})
        }
    }
}

fn gen_condition(s: &mut Src, block: &mut Map<String, Value>) {
    let (key, fam, values) = s.pick(KEYS);
    let (op, null) = if s.chance(1) {
        ("Null".to_string(), true)
    } else {
        // Mostly the key's own family, sometimes another (the parser or the operator decides).
        let f = if s.chance(1) {
            s.pick(&[Fam::Str, Fam::Num, Fam::Date, Fam::Ip, Fam::Arn])
        } else {
            fam
        };
        let mut op = s.pick(ops_of(f)).to_string();
        if fam == Fam::Multi || s.chance(1) {
            match s.below(3) {
                0 => op = format!("ForAllValues:{op}"),
                1 => op = format!("ForAnyValue:{op}"),
                _ => {}
            }
        }
        if s.chance(1) {
            op.push_str("IfExists");
        }
        (op, false)
    };
    let vals: Vec<String> = if null {
        vec![s.pick(&["true", "false"]).to_string()]
    } else {
        (0..1 + s.below(2))
            .map(|_| cond_value(s, fam, values))
            .collect()
    };
    let v = one_or_many(s, vals);
    let entry = block.entry(op).or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = entry {
        m.insert(key.to_string(), v);
    }
}

fn gen_policy(s: &mut Src, g: Gen) -> Value {
    let mut stmts = Vec::new();
    let n = 1 + s.below(3);
    for i in 0..n {
        let mut st = Map::new();
        if s.chance(2) {
            st.insert("Sid".into(), json!(format!("S{i}")));
        }
        let effect = match g {
            Gen::Rcp => "Deny",
            Gen::Scp | Gen::Boundary | Gen::Session if s.chance(5) => "Allow",
            _ if s.chance(3) => "Deny",
            _ => "Allow",
        };
        st.insert("Effect".into(), json!(effect));
        match g {
            Gen::Resource => {
                let key = if s.chance(if effect == "Deny" { 2 } else { 1 }) {
                    "NotPrincipal"
                } else {
                    "Principal"
                };
                st.insert(key.into(), gen_principal(s));
            }
            Gen::Trust => {
                st.insert("Principal".into(), gen_principal(s));
            }
            Gen::Rcp => {
                st.insert("Principal".into(), json!("*"));
            }
            _ => {}
        }
        let actions: Vec<String> = if g == Gen::Trust {
            vec![s
                .pick(&[
                    "sts:AssumeRole",
                    "sts:TagSession",
                    "sts:AssumeRoleWithWebIdentity",
                    "sts:*",
                ])
                .to_string()]
        } else {
            (0..1 + s.below(2))
                .map(|_| {
                    let a = s.pick(ACTIONS);
                    wild(s, a)
                })
                .collect()
        };
        let key = if s.chance(1) { "NotAction" } else { "Action" };
        let v = one_or_many(s, actions);
        st.insert(key.into(), v);
        if g != Gen::Trust {
            let rs: Vec<String> = (0..1 + s.below(2))
                .map(|_| match s.below(8) {
                    0 => "arn:aws:s3:::bucket-a/home/${aws:username}/*".to_string(),
                    1 => "*".to_string(),
                    _ => {
                        let r = s.pick(RESOURCES);
                        wild_arn(s, r)
                    }
                })
                .collect();
            let key = if s.chance(1) {
                "NotResource"
            } else {
                "Resource"
            };
            let v = one_or_many(s, rs);
            st.insert(key.into(), v);
        }
        if g != Gen::Rcp || s.chance(6) {
            let mut block = Map::new();
            for _ in 0..s.below(3) {
                gen_condition(s, &mut block);
            }
            if !block.is_empty() {
                st.insert("Condition".into(), Value::Object(block));
            }
        }
        stmts.push(Value::Object(st));
    }
    let mut p = Map::new();
    match s.below(8) {
        0 => {}
        1 => {
            p.insert("Version".into(), json!("2008-10-17"));
        }
        _ => {
            p.insert("Version".into(), json!("2012-10-17"));
        }
    }
    p.insert(
        "Statement".into(),
        if stmts.len() == 1 && s.chance(2) {
            stmts.remove(0)
        } else {
            Value::Array(stmts)
        },
    );
    Value::Object(p)
}

fn full_access() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

fn gen_context(s: &mut Src) -> Value {
    let mut ctx = Map::new();
    for _ in 0..s.below(4) {
        let (key, fam, values) = s.pick(KEYS);
        let v = if fam == Fam::Multi || s.chance(1) {
            let n = s.below(3);
            Value::Array((0..n).map(|_| json!(s.pick(values))).collect())
        } else {
            json!(s.pick(values))
        };
        ctx.insert(key.to_string(), v);
    }
    Value::Object(ctx)
}

/// A case line drawn from the universe.
fn gen_case(s: &mut Src) -> String {
    let principal = s.pick(PRINCIPALS);
    let action = s.pick(ACTIONS);
    let resource = s.pick(RESOURCES);
    let mut case = Map::new();
    case.insert("id".into(), json!("fuzz"));
    let ids: Vec<Value> = (0..s.below(3))
        .map(|_| gen_policy(s, Gen::Identity))
        .collect();
    case.insert("identity_policies".into(), Value::Array(ids));
    if s.chance(5) {
        let trust = xverify_engine::eval::is_trust_request(&fold(action), resource);
        let g = if trust { Gen::Trust } else { Gen::Resource };
        case.insert("resource_policy".into(), gen_policy(s, g));
    }
    if s.chance(2) {
        case.insert("permission_boundary".into(), gen_policy(s, Gen::Boundary));
    }
    if s.chance(2) {
        case.insert("session_policy".into(), gen_policy(s, Gen::Session));
    }
    if s.chance(3) {
        let levels: Vec<Value> = (0..1 + s.below(2))
            .map(|_| {
                let mut level = vec![full_access()];
                if s.chance(4) {
                    level.push(gen_policy(s, Gen::Scp));
                }
                if s.chance(2) {
                    level.remove(0);
                }
                Value::Array(level)
            })
            .collect();
        case.insert("scps".into(), Value::Array(levels));
    }
    if s.chance(2) {
        let levels: Vec<Value> = (0..1 + s.below(2))
            .map(|_| Value::Array(vec![gen_policy(s, Gen::Rcp)]))
            .collect();
        case.insert("rcps".into(), Value::Array(levels));
    }
    let mut req = Map::new();
    req.insert("principal".into(), json!(principal));
    req.insert("action".into(), json!(action));
    req.insert("resource".into(), json!(resource));
    if (resource.starts_with("arn:aws:s3") || resource == "*" || s.chance(1)) && s.chance(6) {
        req.insert("resource_account".into(), json!(s.pick(&ACCOUNTS)));
    }
    req.insert("context".into(), gen_context(s));
    case.insert("request".into(), Value::Object(req));
    Value::Object(case).to_string()
}

/// The case line of an input: the input itself when it starts with `{`, else a generated one.
pub fn case_line(data: &[u8]) -> String {
    if data.first() == Some(&b'{') {
        String::from_utf8_lossy(data).into_owned()
    } else {
        gen_case(&mut Src::new(data))
    }
}

// ---------------------------------------------------------------------------------------------
// eval

const DENY_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn identity_policy(src: &str, name: &str) -> Policy {
    match parse_policy_with(src, PolicyKind::Identity, name, NO_LIMITS) {
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
pub fn eval(data: &[u8]) -> bool {
    if data.len() > MAX_INPUT {
        return false;
    }
    let line = case_line(data);
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
        let mut v = set.clone();
        v.session = None;
        variants.push(("without the session policy", v));
        let mut v = set.clone();
        v.scps.clear();
        v.rcps.clear();
        v.boundary = None;
        v.session = None;
        variants.push(("without any guardrail", v));
        for level in 0..set.scps.len() {
            let mut v = set.clone();
            v.scps.remove(level);
            variants.push(("without one SCP level", v));
        }
        // The NotPrincipal quirk (a principal with a boundary is never exempt) is documented for
        // Deny statements only (iam-semantics.md §1); the engine applies it to Allow too.
        let allow_not_principal = set.resource.as_ref().is_some_and(|rp| {
            rp.statements.iter().any(|st| {
                st.effect == Effect::Allow && st.principal.as_ref().is_some_and(|p| p.not)
            })
        });
        for (what, v) in &variants {
            if v.boundary.is_none()
                && set.boundary.is_some()
                && allow_not_principal
                && known_open("eval/allow-notprincipal-boundary-grants")
            {
                continue;
            }
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
                    rp.statements.iter().any(|st| {
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
/// The reference interpreter of `engine/tests/reference` did not exist when this target was
/// written; when it does, compare with it here.
pub fn compiled_vs_reference(data: &[u8]) -> bool {
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
        let Some(st) = reason.policy.statements.get(reason.statement) else {
            fail(format!(
                "explanation names statement {} of {:?}, which has {}",
                reason.statement,
                reason.policy.name,
                reason.policy.statements.len()
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
    if ci_variables(set) && known_open("symbolic_vs_concrete/ci-variable-value-not-folded") {
        return true;
    }
    if let Ok(Some(ir)) = ir_decides_allow(set, req) {
        if ir != engine {
            fail(format!("engine allows: {engine}, formula: {ir}"));
        }
    }
    if policy_text_len(set) > Z3_MAX_POLICY_TEXT {
        return true;
    }
    if req.resource != "*"
        && req.resource.ends_with('/')
        && known_open("symbolic_vs_concrete/resource-ending-in-slash")
    {
        return true;
    }
    if req.resource != "*"
        && !req.resource.starts_with("arn:")
        && known_open("symbolic_vs_concrete/resource-without-arn-prefix")
    {
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

/// Does some policy compare case-insensitively against a policy variable?
fn ci_variables(set: &PolicySet) -> bool {
    use xverify_engine::CondValues;
    let pol = |p: &Policy| {
        p.statements
            .iter()
            .flat_map(|s| &s.conditions)
            .any(|c| match &c.values {
                CondValues::Strings(ts) => ts.iter().any(|t| t.ci && t.has_vars()),
                _ => false,
            })
    };
    set.identity.iter().any(pol)
        || set.resource.iter().any(pol)
        || set.boundary.iter().any(pol)
        || set.session.iter().any(pol)
        || set.scps.iter().flatten().any(pol)
        || set.rcps.iter().flatten().any(pol)
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

const SPEC_ACCOUNTS: [&str; 2] = ["111111111111", "222222222222"];

fn gen_spec(s: &mut Src) -> Value {
    let mut spec = Map::new();
    let org = s.chance(5);
    if org {
        let mut policies = Map::new();
        policies.insert("FullAWSAccess".into(), full_access());
        policies.insert("Guard".into(), gen_policy(s, Gen::Scp));
        policies.insert("Perimeter".into(), gen_policy(s, Gen::Rcp));
        let scps = |s: &mut Src| -> Value {
            match s.below(4) {
                0 => json!(["FullAWSAccess"]),
                1 => json!(["FullAWSAccess", "Guard"]),
                2 => json!(["Guard"]),
                _ => json!([]),
            }
        };
        let mut root_accounts = vec![json!("999999999999")];
        let mut ou_accounts = Vec::new();
        for a in SPEC_ACCOUNTS {
            match s.below(3) {
                0 => root_accounts.push(json!(a)),
                1 => ou_accounts.push(json!(a)),
                _ => {}
            }
        }
        let mut ou = Map::new();
        ou.insert("id".into(), json!("ou-1"));
        if s.chance(6) {
            ou.insert("scps".into(), scps(s));
        }
        ou.insert(
            "rcps".into(),
            if s.chance(3) {
                json!(["Perimeter"])
            } else {
                json!([])
            },
        );
        ou.insert("accounts".into(), Value::Array(ou_accounts));
        let mut root = Map::new();
        root.insert("id".into(), json!("r-1"));
        if s.chance(6) {
            root.insert("scps".into(), scps(s));
        }
        root.insert("accounts".into(), Value::Array(root_accounts));
        root.insert("units".into(), json!([Value::Object(ou)]));
        spec.insert(
            "organization".into(),
            json!({"id": "o-aaaa", "management_account": "999999999999", "policies": policies, "root": root}),
        );
    }
    let mut accounts = Map::new();
    for (i, id) in SPEC_ACCOUNTS.iter().enumerate() {
        if i > 0 && s.chance(3) {
            continue;
        }
        let mut a = Map::new();
        let tags = |s: &mut Src| -> Value {
            if s.chance(4) {
                json!({"team": s.pick(&["red", "blue"])})
            } else {
                json!({})
            }
        };
        let mut roles = Map::new();
        for (name, path) in [("app", None), ("ops", Some("/service-role/"))] {
            if s.chance(2) {
                continue;
            }
            let mut r = Map::new();
            if let Some(p) = path {
                r.insert("path".into(), json!(p));
            }
            if s.chance(6) {
                r.insert("trust_policy".into(), gen_policy(s, Gen::Trust));
            }
            let pols: Vec<Value> = (0..s.below(3))
                .map(|_| gen_policy(s, Gen::Identity))
                .collect();
            r.insert("policies".into(), Value::Array(pols));
            if s.chance(2) {
                r.insert("permissions_boundary".into(), gen_policy(s, Gen::Boundary));
            }
            r.insert("tags".into(), tags(s));
            roles.insert(name.into(), Value::Object(r));
        }
        a.insert("roles".into(), Value::Object(roles));
        let mut groups = Map::new();
        let has_group = s.chance(3);
        if has_group {
            groups.insert(
                "devs".into(),
                json!({"policies": [gen_policy(s, Gen::Identity)]}),
            );
        }
        let mut users = Map::new();
        for name in ["alice", "bob"] {
            if s.chance(3) {
                continue;
            }
            let mut u = Map::new();
            let pols: Vec<Value> = (0..s.below(3))
                .map(|_| gen_policy(s, Gen::Identity))
                .collect();
            u.insert("policies".into(), Value::Array(pols));
            if has_group && s.chance(4) {
                u.insert("groups".into(), json!(["devs"]));
            }
            u.insert("tags".into(), tags(s));
            users.insert(name.into(), Value::Object(u));
        }
        a.insert("users".into(), Value::Object(users));
        a.insert("groups".into(), Value::Object(groups));
        let mut resources = Map::new();
        let candidates: Vec<String> = if *id == "111111111111" {
            vec![
                "arn:aws:s3:::bucket-a".into(),
                "arn:aws:kms:us-east-1:111111111111:key/k1".into(),
            ]
        } else {
            vec![
                "arn:aws:dynamodb:us-east-1:222222222222:table/T".into(),
                "arn:aws:sqs:us-east-1:222222222222:q".into(),
            ]
        };
        for arn in candidates {
            if s.chance(2) {
                continue;
            }
            let mut r = Map::new();
            if s.chance(5) {
                r.insert("policy".into(), gen_policy(s, Gen::Resource));
            }
            r.insert("tags".into(), tags(s));
            resources.insert(arn, Value::Object(r));
        }
        a.insert("resources".into(), Value::Object(resources));
        accounts.insert((*id).to_string(), Value::Object(a));
    }
    spec.insert("accounts".into(), Value::Object(accounts));
    spec.insert("properties".into(), json!([]));
    Value::Object(spec)
}

fn gen_request(s: &mut Src) -> String {
    let mut r = Map::new();
    r.insert("id".into(), json!("fuzz"));
    r.insert("principal".into(), json!(s.pick(PRINCIPALS)));
    r.insert("action".into(), json!(s.pick(ACTIONS)));
    let resource = s.pick(RESOURCES);
    r.insert("resource".into(), json!(resource));
    if s.chance(1) {
        r.insert("resource_account".into(), json!(s.pick(&ACCOUNTS)));
    }
    r.insert("context".into(), gen_context(s));
    if s.chance(1) {
        r.insert("session_policy".into(), gen_policy(s, Gen::Session));
    }
    if s.chance(1) {
        r.insert(
            "session_tags".into(),
            json!({"team": s.pick(&["red", "blue"])}),
        );
    }
    Value::Object(r).to_string()
}

/// The spec and request line of an input: as written (`{`: the spec, then the request on the last
/// line) or generated.
pub fn spec_and_request(data: &[u8]) -> (String, String) {
    if data.first() == Some(&b'{') {
        let text = String::from_utf8_lossy(data);
        let text = text.trim_end();
        match text.rsplit_once('\n') {
            Some((spec, line)) => (spec.to_string(), line.to_string()),
            None => (text.to_string(), String::new()),
        }
    } else {
        let mut s = Src::new(data);
        let spec = gen_spec(&mut s).to_string();
        (spec, gen_request(&mut s))
    }
}

fn policy_entry(p: &Policy) -> Value {
    let doc: Value = serde_json::from_str(&p.to_json()).unwrap_or(Value::Null);
    json!({"name": p.name, "policy": doc})
}

/// The case line that gives the case evaluator exactly what `Estate::gather` applied.
fn case_of(set: &PolicySet, req: &Request) -> String {
    let mut ctx = Map::new();
    for (k, v) in req.context.iter() {
        ctx.insert(
            k.to_string(),
            match v {
                ContextValue::One(s) => json!(s),
                ContextValue::Many(vs) => json!(vs),
            },
        );
    }
    let levels = |ls: &[Vec<Policy>]| -> Value {
        Value::Array(
            ls.iter()
                .map(|l| Value::Array(l.iter().map(policy_entry).collect()))
                .collect(),
        )
    };
    json!({
        "id": "gathered",
        "identity_policies": set.identity.iter().map(policy_entry).collect::<Vec<_>>(),
        "resource_policy": set.resource.as_ref().map(policy_entry),
        "permission_boundary": set.boundary.as_ref().map(policy_entry),
        "session_policy": set.session.as_ref().map(policy_entry),
        "scps": levels(&set.scps),
        "rcps": levels(&set.rcps),
        "request": {
            "principal": req.principal.to_arn_string(),
            "action": req.action,
            "resource": req.resource,
            "resource_account": req.resource_account,
            "context": ctx,
        },
    })
    .to_string()
}

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
    let case_line = case_of(&set, &req);
    if (req.resource != "*" && xverify_engine::pattern::split_arn(&req.resource).is_none())
        && known_open("estate_eval/resource-not-an-arn")
    {
        return true;
    }
    if set
        .resource
        .as_ref()
        .is_some_and(|p| p.kind == PolicyKind::Trust)
        && !xverify_engine::eval::is_trust_request(&req.action_lc, &req.resource)
        && known_open("estate_eval/trust-policy-applied-to-non-trust-action")
    {
        return true;
    }
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
