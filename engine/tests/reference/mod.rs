//! A reference interpreter of the IAM decision, kept for tests only.
//!
//! Written from ../shared/iam-semantics.md (§1 the algorithm, §3 matching, §4 operators, §5
//! variables) and corpus/DECISIONS.md, and deliberately *not* from engine/src/eval.rs: it reads
//! the case line (interfaces.md §2) with serde_json instead of the engine's parser, matches every
//! wildcard with the `regex` crate, evaluates conditions from the operator tables, and redoes all
//! of it on every call. Plain and slow on purpose; the invariant suite uses it as the oracle.

// Test-only code: a malformed case is a bug in the generator or the vectors; fail loudly.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use regex::Regex;
use serde_json::Value;
use xverify_engine::Decision;

/// Services whose resources RCPs restrict (DECISIONS 6).
const RCP_SERVICES: &[&str] = &[
    "s3",
    "sts",
    "kms",
    "sqs",
    "secretsmanager",
    "dynamodb",
    "ecr",
    "aoss",
    "logs",
    "cognito-idp",
    "events",
    "codebuild",
];

/// Actions whose resource policy is the role's trust policy (§1.5).
const TRUST_ACTIONS: &[&str] = &[
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
];

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    Service(String),
    Root {
        account: String,
    },
    User {
        account: String,
        path: String,
        name: String,
        arn: String,
    },
    /// A role ARN given as the caller: some session of the role.
    Role {
        account: String,
        path: String,
        name: String,
        arn: String,
    },
    Session {
        account: String,
        role: String,
        session: String,
    },
    Federated {
        account: String,
        name: String,
        arn: String,
    },
}

impl Caller {
    fn parse(s: &str) -> Caller {
        if s == "anonymous" {
            return Caller::Anonymous;
        }
        if !s.starts_with("arn:") {
            return Caller::Service(s.to_ascii_lowercase());
        }
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let (service, account, res) = (parts[2], parts[4].to_string(), parts[5]);
        let path_and_name = |rest: &str| -> (String, String) {
            match rest.rfind('/') {
                Some(i) => (format!("/{}", &rest[..=i]), rest[i + 1..].to_string()),
                None => ("/".to_string(), rest.to_string()),
            }
        };
        match service {
            "iam" if res == "root" => Caller::Root { account },
            "iam" if res.starts_with("user/") => {
                let (path, name) = path_and_name(&res[5..]);
                Caller::User {
                    account,
                    path,
                    name,
                    arn: s.to_string(),
                }
            }
            "iam" if res.starts_with("role/") => {
                let (path, name) = path_and_name(&res[5..]);
                Caller::Role {
                    account,
                    path,
                    name,
                    arn: s.to_string(),
                }
            }
            "sts" if res.starts_with("assumed-role/") => {
                let mut it = res["assumed-role/".len()..].splitn(2, '/');
                let role = it.next().unwrap_or("").to_string();
                let session = it.next().unwrap_or("").to_string();
                Caller::Session {
                    account,
                    role,
                    session,
                }
            }
            "sts" if res.starts_with("federated-user/") => Caller::Federated {
                account,
                name: res["federated-user/".len()..].to_string(),
                arn: s.to_string(),
            },
            _ => panic!("reference: unknown caller {s}"),
        }
    }

    fn account(&self) -> Option<&str> {
        match self {
            Caller::Root { account }
            | Caller::User { account, .. }
            | Caller::Role { account, .. }
            | Caller::Session { account, .. }
            | Caller::Federated { account, .. } => Some(account),
            Caller::Anonymous | Caller::Service(_) => None,
        }
    }

    /// A service-linked role or a session of one (DECISIONS 6).
    fn is_slr(&self) -> bool {
        match self {
            Caller::Role { path, name, .. } => {
                path.starts_with("/aws-service-role/") || name.starts_with("AWSServiceRoleFor")
            }
            Caller::Session { role, .. } => role.starts_with("AWSServiceRoleFor"),
            _ => false,
        }
    }
}

/// One context entry: its values (one, several, or none for an empty array).
#[derive(Debug, Clone)]
struct Entry {
    values: Vec<String>,
}

/// The request context, keyed by lower-cased key.
type Ctx = BTreeMap<String, Entry>;

/// A request as the reference sees it.
#[derive(Debug, Clone)]
pub struct Req {
    pub caller: Caller,
    pub action: String,
    pub resource: String,
    pub resource_account: Option<String>,
    ctx: Ctx,
}

/// A case: the policies as JSON and the request.
#[derive(Debug, Clone)]
pub struct RefCase {
    identity: Vec<Value>,
    resource: Option<Value>,
    boundary: Option<Value>,
    session: Option<Value>,
    scps: Vec<Vec<Value>>,
    rcps: Vec<Vec<Value>>,
    pub req: Req,
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => panic!("reference: unexpected value {other}"),
    }
}

/// A string or an array of strings (numbers and booleans as their text).
fn list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(scalar_text).collect(),
        other => vec![scalar_text(other)],
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            if let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8(out).expect("decoded policy is UTF-8")
}

/// A policy entry as interfaces.md §1/§2 allow it: a document, a JSON string holding one
/// (possibly URL-encoded), `{"name", "policy"}`, or an AWS CLI wrapper.
fn document(v: &Value) -> Value {
    match v {
        Value::String(s) if s.trim_start().starts_with('%') => {
            document(&Value::String(percent_decode(s.trim())))
        }
        Value::String(s) => document(&serde_json::from_str(s).expect("policy string holds JSON")),
        Value::Object(o) if !o.contains_key("Statement") => {
            if let Some(p) = o.get("policy") {
                return document(p);
            }
            for w in ["PolicyVersion", "Policy", "PolicyDocument", "Document"] {
                if let Some(inner) = o.get(w) {
                    return match inner.get("Document") {
                        Some(d) if w == "PolicyVersion" => document(d),
                        _ => document(inner),
                    };
                }
            }
            v.clone()
        }
        other => other.clone(),
    }
}

impl RefCase {
    /// Read a case line.
    pub fn parse(line: &str) -> RefCase {
        let j: Value = serde_json::from_str(line).expect("case line is JSON");
        let opt = |k: &str| j.get(k).filter(|v| !v.is_null()).map(document);
        let levels = |k: &str| -> Vec<Vec<Value>> {
            j.get(k)
                .and_then(Value::as_array)
                .map(|ls| {
                    ls.iter()
                        .map(|l| l.as_array().expect("level").iter().map(document).collect())
                        .collect()
                })
                .unwrap_or_default()
        };
        let r = &j["request"];
        let caller = Caller::parse(r["principal"].as_str().expect("principal"));
        let action = r["action"].as_str().expect("action").to_string();
        let resource = r["resource"].as_str().expect("resource").to_string();
        let resource_account = r
            .get("resource_account")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut ctx = Ctx::new();
        if let Some(Value::Object(m)) = r.get("context") {
            for (k, v) in m {
                if v.is_null() {
                    continue;
                }
                let values = match v {
                    Value::Array(a) => a.iter().map(scalar_text).collect(),
                    other => vec![scalar_text(other)],
                };
                ctx.insert(k.to_lowercase(), Entry { values });
            }
        }
        let mut req = Req {
            caller,
            action,
            resource,
            resource_account,
            ctx,
        };
        fill_context(&mut req);
        RefCase {
            identity: j
                .get("identity_policies")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(document).collect())
                .unwrap_or_default(),
            resource: opt("resource_policy"),
            boundary: opt("permission_boundary"),
            session: opt("session_policy"),
            scps: levels("scps"),
            rcps: levels("rcps"),
            req,
        }
    }
}

/// The account owning the resource: given, or the ARN's account field when it is 12 digits.
fn resource_account(req: &Req) -> Option<String> {
    req.resource_account.clone().or_else(|| {
        let parts: Vec<&str> = req.resource.splitn(6, ':').collect();
        parts
            .get(4)
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            .map(|a| a.to_string())
    })
}

/// Keys AWS sets from the request, unless the case gives them (DECISIONS 8).
fn fill_context(req: &mut Req) {
    let raccount = resource_account(req);
    let mut put = |k: &str, v: String| {
        req.ctx
            .entry(k.to_lowercase())
            .or_insert(Entry { values: vec![v] });
    };
    let c = req.caller.clone();
    match &c {
        Caller::Root { account } => put("aws:PrincipalArn", format!("arn:aws:iam::{account}:root")),
        Caller::User { arn, .. } | Caller::Role { arn, .. } | Caller::Federated { arn, .. } => {
            put("aws:PrincipalArn", arn.clone())
        }
        Caller::Session { account, role, .. } => put(
            "aws:PrincipalArn",
            format!("arn:aws:iam::{account}:role/{role}"),
        ),
        _ => {}
    }
    match (&c, c.account()) {
        (_, Some(a)) => put("aws:PrincipalAccount", a.to_string()),
        // "For anonymous requests, the request context returns `anonymous`."
        (Caller::Anonymous, None) => put("aws:PrincipalAccount", "anonymous".to_string()),
        _ => {}
    }
    if let Some(a) = raccount {
        put("aws:ResourceAccount", a);
    }
    let ty = match &c {
        Caller::Anonymous => "Anonymous",
        Caller::Service(_) => "Service",
        Caller::Root { .. } => "Account",
        Caller::User { .. } => "User",
        Caller::Role { .. } | Caller::Session { .. } => "AssumedRole",
        Caller::Federated { .. } => "FederatedUser",
    };
    put("aws:PrincipalType", ty.to_string());
    // Every signed request; "Anonymous requests do not include this key".
    if !matches!(c, Caller::Anonymous) {
        put(
            "aws:PrincipalIsAWSService",
            matches!(c, Caller::Service(_)).to_string(),
        );
    }
    match &c {
        Caller::User { name, .. } => put("aws:username", name.clone()),
        Caller::Root { account } => put("aws:userid", account.clone()),
        Caller::Federated { account, name, .. } => put("aws:userid", format!("{account}:{name}")),
        Caller::Service(s) => put("aws:PrincipalServiceName", s.clone()),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Wildcards and variables

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(String),
    Star,
    One,
}

/// The single value of a key, for variable substitution (§5: multivalued keys cannot be
/// variables).
fn single(ctx: &Ctx, key: &str) -> Option<String> {
    match ctx.get(&key.to_lowercase()) {
        Some(e) if e.values.len() == 1 => Some(e.values[0].clone()),
        _ => None,
    }
}

/// Read a policy string into tokens. `vars`: resolve `${...}` from this context. `None` when a
/// variable has no value and no default: the string then matches nothing (§5).
fn tokens(p: &str, wildcards: bool, vars: Option<&Ctx>) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(ctx) = vars {
            if c == '$' && chars.get(i + 1) == Some(&'{') {
                if let Some(close) = chars[i + 2..].iter().position(|&x| x == '}') {
                    let inner: String = chars[i + 2..i + 2 + close].iter().collect();
                    i += close + 3;
                    match inner.as_str() {
                        "*" | "?" | "$" => lit.push_str(&inner),
                        s if s.trim().is_empty() => {
                            lit.push_str("${");
                            lit.push_str(s);
                            lit.push('}');
                        }
                        s => {
                            // `key, 'default'` (corpus/DECISIONS.md 17): the default is the
                            // text after the first comma when, trimmed, it is quoted at both
                            // ends; otherwise the whole text is the key.
                            fn quoted(d: &str) -> Option<&str> {
                                let d = d.trim();
                                (d.len() >= 2 && d.starts_with('\'') && d.ends_with('\''))
                                    .then(|| &d[1..d.len() - 1])
                            }
                            let (key, default) = match s.split_once(',') {
                                Some((k, d)) if quoted(d).is_some() => (k.trim(), quoted(d)),
                                _ => (s.trim(), None),
                            };
                            match single(ctx, key).or(default.map(str::to_string)) {
                                Some(v) => lit.push_str(&v),
                                None => return None,
                            }
                        }
                    }
                    continue;
                }
            }
        }
        match c {
            '*' if wildcards => {
                if !lit.is_empty() {
                    out.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                out.push(Tok::Star);
            }
            '?' if wildcards => {
                if !lit.is_empty() {
                    out.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                out.push(Tok::One);
            }
            c => lit.push(c),
        }
        i += 1;
    }
    if !lit.is_empty() {
        out.push(Tok::Lit(lit));
    }
    Some(out)
}

thread_local! {
    static REGEXES: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
}

/// Full match of `text` against the tokens, through a regex.
fn glob(toks: &[Tok], text: &str, ci: bool) -> bool {
    let mut re = String::from(if ci { "(?si)^" } else { "(?s)^" });
    for t in toks {
        match t {
            Tok::Lit(s) => re.push_str(&regex::escape(s)),
            Tok::Star => re.push_str(".*"),
            Tok::One => re.push('.'),
        }
    }
    re.push('$');
    REGEXES.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() > 50_000 {
            m.clear();
        }
        m.entry(re.clone())
            .or_insert_with(|| Regex::new(&re).expect("valid regex"))
            .is_match(text)
    })
}

/// `p` as a glob (wildcards on), matched against `text`.
pub fn wildcard_match(p: &str, text: &str, ci: bool) -> bool {
    glob(&tokens(p, true, None).unwrap_or_default(), text, ci)
}

/// ARN matching per component (§3.3): both split at their first five colons, each component
/// matched on its own.
fn arn_match(policy_toks: &[Tok], value: &str) -> bool {
    let v: Vec<&str> = value.splitn(6, ':').collect();
    if v.len() != 6 {
        return false;
    }
    let mut parts: Vec<Vec<Tok>> = vec![vec![]];
    for t in policy_toks {
        match t {
            Tok::Lit(s) => {
                let mut cur = String::new();
                for ch in s.chars() {
                    if ch == ':' && parts.len() < 6 {
                        if !cur.is_empty() {
                            parts
                                .last_mut()
                                .unwrap()
                                .push(Tok::Lit(std::mem::take(&mut cur)));
                        }
                        parts.push(vec![]);
                    } else {
                        cur.push(ch);
                    }
                }
                if !cur.is_empty() {
                    parts.last_mut().unwrap().push(Tok::Lit(cur));
                }
            }
            other => parts.last_mut().unwrap().push(other.clone()),
        }
    }
    parts.len() == 6 && parts.iter().zip(&v).all(|(p, s)| glob(p, s, false))
}

/// `ArnLike` of a plain pattern (no variables).
pub fn arn_like(p: &str, value: &str) -> bool {
    arn_match(&tokens(p, true, None).unwrap_or_default(), value)
}

// ---------------------------------------------------------------------------------------------
// Typed values

fn number(s: &str) -> Option<f64> {
    let re = Regex::new(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$").unwrap();
    re.is_match(s.trim())
        .then(|| s.trim().parse::<f64>().ok())
        .flatten()
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days from 1970-01-01, counted year by year.
fn days_since_epoch(y: i64, m: i64, d: i64) -> i64 {
    let mut days = 0;
    if y >= 1970 {
        for yy in 1970..y {
            days += if is_leap(yy) { 366 } else { 365 };
        }
    } else {
        for yy in y..1970 {
            days -= if is_leap(yy) { 366 } else { 365 };
        }
    }
    let month_days = [
        31,
        if is_leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    for md in month_days.iter().take((m - 1) as usize) {
        days += md;
    }
    days + d - 1
}

/// Milliseconds since the epoch: epoch seconds or the W3C profile of ISO 8601 (§4.1).
fn date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('-') {
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            return rest.parse::<i64>().ok().map(|x| -x * 1000);
        }
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok().and_then(|x| x.checked_mul(1000));
    }
    let re = Regex::new(
        r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?)?)?$",
    )
    .unwrap();
    let c = re.captures(s)?;
    let n = |i: usize, d: i64| c.get(i).map_or(Some(d), |m| m.as_str().parse::<i64>().ok());
    let (y, mo, d, h, mi, se) = (n(1, 0)?, n(2, 1)?, n(3, 1)?, n(4, 0)?, n(5, 0)?, n(6, 0)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 24 || mi > 59 || se > 60 {
        return None;
    }
    let ms = c.get(7).map_or(0, |m| {
        let digits: String = m.as_str().chars().chain("000".chars()).take(3).collect();
        digits.parse::<i64>().unwrap_or(0)
    });
    let offset_min = match c.get(8).map(|m| m.as_str()) {
        None | Some("Z") | Some("z") => 0,
        Some(z) => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(char::is_ascii_digit).collect();
            let hh: i64 = digits[..2].parse().ok()?;
            let mm: i64 = if digits.len() >= 4 {
                digits[2..4].parse().ok()?
            } else {
                0
            };
            sign * (hh * 60 + mm)
        }
    };
    let secs = days_since_epoch(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset_min * 60;
    Some(secs * 1000 + ms)
}

fn base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim().trim_end_matches('=');
    if s.len() % 4 == 1 {
        return None;
    }
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits: Vec<bool> = Vec::new();
    for c in s.chars() {
        let v = alphabet.find(c)?;
        for i in (0..6).rev() {
            bits.push((v >> i) & 1 == 1);
        }
    }
    Some(
        bits.chunks(8)
            .filter(|c| c.len() == 8)
            .map(|c| c.iter().fold(0u8, |acc, &b| (acc << 1) | u8::from(b)))
            .collect(),
    )
}

/// A CIDR as (address bits, family width, prefix length).
fn cidr(s: &str) -> Option<(u128, u32, u32)> {
    let (a, p) = match s.trim().split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s.trim(), None),
    };
    let (bits, width) = match a.parse::<IpAddr>().ok()? {
        IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
        IpAddr::V6(v) => (u128::from(v), 128),
    };
    let prefix = match p {
        Some(p) => p.parse::<u32>().ok().filter(|&p| p <= width)?,
        None => width,
    };
    Some((bits, width, prefix))
}

fn ip_in(net: &str, ip: &str) -> bool {
    let (Some((nbits, nw, prefix)), Ok(addr)) = (cidr(net), ip.trim().parse::<IpAddr>()) else {
        return false;
    };
    let (abits, aw) = match addr {
        IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
        IpAddr::V6(v) => (u128::from(v), 128),
    };
    if aw != nw {
        return false;
    }
    let shift = nw - prefix;
    (prefix == 0) || (abits >> shift == nbits >> shift)
}

// ---------------------------------------------------------------------------------------------
// Conditions (§4)

fn is_negated(base: &str) -> bool {
    matches!(
        base,
        "StringNotEquals"
            | "StringNotEqualsIgnoreCase"
            | "StringNotLike"
            | "NumericNotEquals"
            | "DateNotEquals"
            | "NotIpAddress"
            | "ArnNotEquals"
            | "ArnNotLike"
    )
}

/// Does policy value `pv` match request value `rv` under the positive form of `base`?
fn value_match(base: &str, pv: &str, rv: &str, ctx: &Ctx, vars: bool) -> bool {
    let v = vars.then_some(ctx);
    match base {
        "StringEquals" | "StringNotEquals" => {
            tokens(pv, false, v).is_some_and(|t| glob(&t, rv, false))
        }
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => {
            tokens(pv, false, v).is_some_and(|t| glob(&t, rv, true))
        }
        "StringLike" | "StringNotLike" => tokens(pv, true, v).is_some_and(|t| glob(&t, rv, false)),
        "Bool" => {
            let rl = rv.to_lowercase();
            (rl == "true" || rl == "false")
                && tokens(pv, false, v).is_some_and(|t| glob(&t, &rl, true))
        }
        "ArnEquals" | "ArnLike" | "ArnNotEquals" | "ArnNotLike" => {
            tokens(pv, true, v).is_some_and(|t| arn_match(&t, rv))
        }
        "BinaryEquals" => matches!((base64(pv), base64(rv)), (Some(a), Some(b)) if a == b),
        "IpAddress" | "NotIpAddress" => ip_in(pv, rv),
        b if b.starts_with("Numeric") => {
            let (Some(p), Some(r)) = (number(pv), number(rv)) else {
                return false;
            };
            match b {
                "NumericEquals" | "NumericNotEquals" => r == p,
                "NumericLessThan" => r < p,
                "NumericLessThanEquals" => r <= p,
                "NumericGreaterThan" => r > p,
                "NumericGreaterThanEquals" => r >= p,
                _ => unreachable!(),
            }
        }
        b if b.starts_with("Date") => {
            let (Some(p), Some(r)) = (date(pv), date(rv)) else {
                return false;
            };
            match b {
                "DateEquals" | "DateNotEquals" => r == p,
                "DateLessThan" => r < p,
                "DateLessThanEquals" => r <= p,
                "DateGreaterThan" => r > p,
                "DateGreaterThanEquals" => r >= p,
                _ => unreachable!(),
            }
        }
        other => panic!("reference: unknown operator {other}"),
    }
}

/// One condition: `op` as written, one key, its policy values.
fn condition_holds(op: &str, key: &str, pvs: &[String], ctx: &Ctx, vars: bool) -> bool {
    let (set, rest) = if let Some(r) = op.strip_prefix("ForAllValues:") {
        (Some(true), r)
    } else if let Some(r) = op.strip_prefix("ForAnyValue:") {
        (Some(false), r)
    } else {
        (None, op)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let entry = ctx.get(&key.to_lowercase());
    if base == "Null" {
        // "true": the key is absent; "false": present. An empty array is absent (DECISIONS 2).
        let present = entry.is_some_and(|e| !e.values.is_empty());
        return pvs.iter().any(|v| match v.to_lowercase().as_str() {
            "true" => !present,
            "false" => present,
            _ => false,
        });
    }
    let negated = is_negated(base);
    // Per request value: OR over policy values, NOR for negated operators (§4.3).
    let test = |rv: &String| {
        let any = pvs.iter().any(|pv| value_match(base, pv, rv, ctx, vars));
        any != negated
    };
    match set {
        // Plain operators: absent or empty → IfExists/negated true, positive false (§4.2,
        // DECISIONS 2); several values → false (DECISIONS 1).
        None => match entry.map(|e| e.values.as_slice()) {
            None | Some([]) => if_exists || negated,
            Some([v]) => test(v),
            Some(_) => false,
        },
        // ForAllValues: vacuously true on a missing key or an empty set (§4.2).
        Some(true) => entry.is_none_or(|e| e.values.iter().all(test)),
        // ForAnyValue: false on a missing key unless IfExists; an empty set is a present key
        // with no value, so false (DECISIONS 2).
        Some(false) => match entry {
            None => if_exists,
            Some(e) => e.values.iter().any(test),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Statements (§2, §3)

/// How a resource-based statement names the caller (§1.3's table), weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Named {
    Account,
    Role,
    Direct,
}

fn is_account_entry(e: &str) -> Option<String> {
    if e.len() == 12 && e.bytes().all(|b| b.is_ascii_digit()) {
        return Some(e.to_string());
    }
    let parts: Vec<&str> = e.splitn(6, ':').collect();
    (parts.len() == 6 && parts[2] == "iam" && parts[5] == "root").then(|| parts[4].to_string())
}

/// What an `"AWS"` entry names: (kind, account, name[, session]).
fn aws_entry(e: &str) -> Option<(&'static str, String, String, String)> {
    let parts: Vec<&str> = e.splitn(6, ':').collect();
    if parts.len() != 6 {
        return None;
    }
    let (svc, acct, res) = (parts[2], parts[4].to_string(), parts[5]);
    let last = |r: &str| r.rsplit('/').next().unwrap_or("").to_string();
    if svc == "iam" {
        if let Some(r) = res.strip_prefix("user/") {
            return Some(("user", acct, last(r), String::new()));
        }
        if let Some(r) = res.strip_prefix("role/") {
            return Some(("role", acct, last(r), String::new()));
        }
    }
    if svc == "sts" {
        if let Some(r) = res.strip_prefix("assumed-role/") {
            let (role, session) = r.split_once('/')?;
            return Some(("session", acct, role.to_string(), session.to_string()));
        }
        if let Some(r) = res.strip_prefix("federated-user/") {
            return Some(("federated", acct, r.to_string(), String::new()));
        }
    }
    None
}

fn principal_entries(pe: &Value) -> (Vec<String>, Vec<String>) {
    match pe {
        Value::String(s) if s == "*" => (vec!["*".to_string()], vec![]),
        Value::Object(m) => (
            m.get("AWS").map(list).unwrap_or_default(),
            m.get("Service").map(list).unwrap_or_default(),
        ),
        other => panic!("reference: bad principal {other}"),
    }
}

/// §3.4: the strongest way the `Principal` element names the caller.
fn principal_names(pe: &Value, c: &Caller) -> Option<Named> {
    let (aws, services) = principal_entries(pe);
    let mut best = None;
    for e in &aws {
        let m = if e == "*" {
            Some(Named::Direct)
        } else if let Some(a) = is_account_entry(e) {
            (c.account() == Some(a.as_str())).then_some(Named::Account)
        } else {
            match (aws_entry(e), c) {
                (Some(("user", a, n, _)), Caller::User { account, name, .. }) => {
                    (a == *account && n == *name).then_some(Named::Direct)
                }
                (Some(("role", a, n, _)), Caller::Role { account, name, .. })
                | (
                    Some(("role", a, n, _)),
                    Caller::Session {
                        account,
                        role: name,
                        ..
                    },
                ) => (a == *account && n == *name).then_some(Named::Role),
                (
                    Some(("session", a, r, s)),
                    Caller::Session {
                        account,
                        role,
                        session,
                    },
                ) => (a == *account && r == *role && s == *session).then_some(Named::Direct),
                (Some(("federated", a, n, _)), Caller::Federated { account, name, .. }) => {
                    (a == *account && n == *name).then_some(Named::Direct)
                }
                _ => None,
            }
        };
        best = best.max(m);
    }
    if let Caller::Service(s) = c {
        if services.iter().any(|x| x.eq_ignore_ascii_case(s)) {
            best = best.max(Some(Named::Direct));
        }
    }
    best
}

/// §3.5: is the caller exempt from a `NotPrincipal` (every level of it listed)?
fn not_principal_exempts(pe: &Value, c: &Caller) -> bool {
    let (aws, services) = principal_entries(pe);
    if aws.iter().any(|e| e == "*") {
        return true;
    }
    let account_listed = |a: &str| {
        aws.iter()
            .any(|e| is_account_entry(e).as_deref() == Some(a))
    };
    let listed = |kind: &str, acct: &str, name: &str, session: &str| {
        aws.iter().any(|e| {
            aws_entry(e)
                .is_some_and(|(k, a, n, s)| k == kind && a == acct && n == name && s == session)
        })
    };
    match c {
        Caller::Anonymous => false,
        Caller::Service(s) => services.iter().any(|x| x.eq_ignore_ascii_case(s)),
        Caller::Root { account } => account_listed(account),
        Caller::User { account, name, .. } => {
            account_listed(account) && listed("user", account, name, "")
        }
        Caller::Role { account, name, .. } => {
            account_listed(account) && listed("role", account, name, "")
        }
        Caller::Session {
            account,
            role,
            session,
        } => {
            account_listed(account)
                && listed("role", account, role, "")
                && listed("session", account, role, session)
        }
        Caller::Federated { account, name, .. } => {
            account_listed(account) && listed("federated", account, name, "")
        }
    }
}

fn statements(policy: &Value) -> Vec<&Value> {
    match &policy["Statement"] {
        Value::Array(a) => a.iter().collect(),
        s => vec![s],
    }
}

/// Does the statement match the request? For resource-based statements, how it names the caller.
fn statement_matches(st: &Value, vars: bool, req: &Req, has_pb: bool) -> Option<Named> {
    let action = req.action.to_lowercase();
    let (not, pats) = match (st.get("Action"), st.get("NotAction")) {
        (Some(a), _) => (false, list(a)),
        (None, Some(a)) => (true, list(a)),
        _ => panic!("reference: statement without action"),
    };
    let hit = pats.iter().any(|p| wildcard_match(p, &action, true));
    if hit == not {
        return None;
    }
    let res = match (st.get("Resource"), st.get("NotResource")) {
        (Some(r), _) => Some((false, list(r))),
        (None, Some(r)) => Some((true, list(r))),
        _ => None,
    };
    if let Some((not, pats)) = res {
        let ctx = vars.then_some(&req.ctx);
        let hit = pats
            .iter()
            .any(|p| tokens(p, true, ctx).is_some_and(|t| glob(&t, &req.resource, false)));
        if hit == not {
            return None;
        }
    }
    let named = match (st.get("Principal"), st.get("NotPrincipal")) {
        (Some(p), _) => principal_names(p, &req.caller)?,
        (None, Some(p)) => {
            // A Deny + NotPrincipal always applies to a caller with a boundary (§1.3, §3.5).
            let quirk = has_pb && st["Effect"] == "Deny";
            if !quirk && not_principal_exempts(p, &req.caller) {
                return None;
            }
            Named::Direct
        }
        _ => Named::Direct,
    };
    if let Some(Value::Object(ops)) = st.get("Condition") {
        for (op, block) in ops {
            for (key, vals) in block.as_object().expect("condition block") {
                if !condition_holds(op, key, &list(vals), &req.ctx, vars) {
                    return None;
                }
            }
        }
    }
    Some(named)
}

fn variables_on(policy: &Value) -> bool {
    policy.get("Version").and_then(Value::as_str) == Some("2012-10-17")
}

/// The strongest match among the policy's statements of `effect`.
fn matching(policy: &Value, effect: &str, req: &Req, has_pb: bool) -> Option<Named> {
    let vars = variables_on(policy);
    statements(policy)
        .into_iter()
        .filter(|st| st["Effect"] == effect)
        .filter_map(|st| statement_matches(st, vars, req, has_pb))
        .max()
}

// ---------------------------------------------------------------------------------------------
// The decision (§1)

/// Decide one case line.
pub fn decide_line(line: &str) -> Decision {
    decide(&RefCase::parse(line))
}

/// Decide a case.
pub fn decide(c: &RefCase) -> Decision {
    let req = &c.req;
    let caller = &req.caller;
    let action = req.action.to_lowercase();
    let (service, _) = action.split_once(':').unwrap_or((&action, ""));
    let signed = caller.account().is_some();

    // §1.6: GetCallerIdentity needs no permission and cannot be denied.
    if action == "sts:getcalleridentity" && signed {
        return Decision::Allow;
    }
    let has_pb = c.boundary.is_some();
    let slr = caller.is_slr();
    // §8, DECISIONS 5/6: SCPs bind signed, non-SLR callers; RCPs bind every caller but SLRs, on
    // supported services, except kms:RetireGrant.
    let scps_apply = signed && !slr && !c.scps.is_empty();
    let rcps_apply = !slr
        && !c.rcps.is_empty()
        && RCP_SERVICES.contains(&service)
        && action != "kms:retiregrant";

    // Step 1: an explicit deny anywhere decides.
    let mut all: Vec<&Value> = c.identity.iter().collect();
    all.extend(c.resource.iter());
    all.extend(c.boundary.iter());
    all.extend(c.session.iter());
    if scps_apply {
        all.extend(c.scps.iter().flatten());
    }
    if rcps_apply {
        all.extend(c.rcps.iter().flatten());
    }
    if all
        .iter()
        .any(|p| matching(p, "Deny", req, has_pb).is_some())
    {
        return Decision::ExplicitDeny;
    }
    // Step 2: RCPs — RCPFullAWSAccess is implied at every level, so nothing more.
    // Step 3: every SCP level needs an Allow.
    if scps_apply
        && c.scps.iter().any(|level| {
            !level
                .iter()
                .any(|p| matching(p, "Allow", req, has_pb).is_some())
        })
    {
        return Decision::ImplicitDeny;
    }
    // DECISIONS 3: a root user cannot call sts:AssumeRole*, and STS takes only signed
    // AssumeRole calls.
    if (matches!(caller, Caller::Root { .. }) && TRUST_ACTIONS[..3].contains(&action.as_str()))
        || (matches!(caller, Caller::Anonymous) && action == "sts:assumerole")
    {
        return Decision::ImplicitDeny;
    }
    // DECISIONS 19: a role session holds temporary credentials; GetFederationToken and
    // GetSessionToken take long-term ones.
    if matches!(caller, Caller::Role { .. } | Caller::Session { .. })
        && matches!(
            action.as_str(),
            "sts:getfederationtoken" | "sts:getsessiontoken"
        )
    {
        return Decision::ImplicitDeny;
    }
    // DECISIONS 16: a GetFederationToken session calls no IAM operation and no STS operation
    // but GetCallerIdentity (answered above).
    if matches!(caller, Caller::Federated { .. })
        && (action.starts_with("iam:") || action.starts_with("sts:"))
    {
        return Decision::ImplicitDeny;
    }

    // Step 4: the grant.
    let allows = |p: &Value| matching(p, "Allow", req, has_pb).is_some();
    let named = c
        .resource
        .as_ref()
        .and_then(|p| matching(p, "Allow", req, has_pb));
    if !signed {
        // DECISIONS 5: only a resource policy grants anonymous and service callers.
        return if named.is_some() {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        };
    }
    let identity_allows = matches!(caller, Caller::Root { .. }) || c.identity.iter().any(allows);
    let pb_ok = c.boundary.as_ref().is_none_or(allows);
    // DECISIONS 18: a GetFederationToken session without a session policy has no permissions.
    let sp_ok = match &c.session {
        Some(p) => allows(p),
        None => !matches!(caller, Caller::Federated { .. }),
    };
    let identity_path = identity_allows && pb_ok && sp_ok;

    let parts: Vec<&str> = req.resource.splitn(6, ':').collect();
    let trust = TRUST_ACTIONS.contains(&action.as_str())
        && parts.len() == 6
        && parts[2] == "iam"
        && parts[5].starts_with("role/");
    // DECISIONS 4: a key (`key/…`); an alias is governed by IAM policies alone.
    let key = action.starts_with("kms:")
        && parts.len() == 6
        && parts[2] == "kms"
        && parts[5].starts_with("key/");
    let must_allow = trust || key;

    let same_account = match resource_account(req) {
        Some(b) => caller.account() == Some(b.as_str()),
        None => true,
    };
    let granted = if same_account {
        // §1.3: identity path ∪ resource path; §1.5: trust and key policies must allow.
        let alone = match named {
            Some(Named::Direct) => true,
            Some(Named::Role) => pb_ok && sp_ok,
            Some(Named::Account) | None => false,
        };
        alone || (identity_path && (!must_allow || named.is_some()))
    } else {
        // §1.4: both sides.
        identity_path && named.is_some()
    };
    if granted {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}
