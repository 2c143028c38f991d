//! JSON → validated [`Policy`], accepting every shape AWS accepts and rejecting what it rejects.
//!
//! Shapes (iam-semantics.md §2, interfaces.md §1): `Statement` as one object or an array; each
//! element a string or an array of strings; `Principal` as `"*"` or a map of `AWS`/`Service`/
//! `Federated`/`CanonicalUser`; `Not*` forms; condition values as strings, numbers or booleans;
//! `Version` 2012-10-17, 2008-10-17 or absent. A document may also arrive as a JSON string holding
//! it, URL-encoded, or wrapped the way the AWS CLI prints it (`{"PolicyVersion": {"Document": ...}}`,
//! `{"Policy": "..."}`, `{"PolicyDocument": ...}`).
//!
//! Every error names the JSON path and the span it is about, so a caller can print
//! `policy.json:14: Statement[2].Condition: unknown operator "StringEqual"`.

use std::borrow::Cow;

use crate::json::{line_col, quote, Json, JsonValue, Key, Span};
use crate::model::*;
use crate::pattern::{
    decode_base64, fold, parse_date, parse_number, ArnTemplate, Cidr, Template, TemplateOpts,
};

/// A policy that AWS would not accept, or JSON that is not a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message_with_path())]
pub struct PolicyError {
    /// JSON path of the offending value (`Statement[2].Condition`); empty for the whole document.
    pub path: String,
    /// Byte span in the source text the policy was read from.
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

impl PolicyError {
    fn new(path: &str, span: Span, message: impl Into<String>) -> PolicyError {
        PolicyError {
            path: path.to_string(),
            span,
            message: message.into(),
            help: None,
        }
    }

    /// An error at a path that is written out only now, when the error is made.
    pub(crate) fn at(path: &Path<'_>, span: Span, message: impl Into<String>) -> PolicyError {
        PolicyError {
            path: path.render(),
            span,
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> PolicyError {
        self.help = Some(help.into());
        self
    }

    fn message_with_path(&self) -> String {
        if self.path.is_empty() {
            self.message_with_hint()
        } else {
            format!("{}: {}", self.path, self.message_with_hint())
        }
    }

    /// The message, with a "did you mean" suggestion when there is one.
    pub fn message_with_hint(&self) -> String {
        match &self.help {
            Some(h) if h.starts_with("did you mean") => format!("{} ({h})", self.message),
            _ => self.message.clone(),
        }
    }

    /// Put `prefix` in front of the path (`identity_policies[0]`).
    pub fn with_prefix(mut self, prefix: &str) -> PolicyError {
        self.path = join_path(prefix, &self.path);
        self
    }

    /// The 1-based line of the error in `src`.
    pub fn line(&self, src: &str) -> usize {
        line_col(src, self.span.start).0
    }

    /// `file:line: path: message`, one line.
    pub fn render(&self, file: &str, src: &str) -> String {
        format!("{file}:{}: {self}", self.line(src))
    }
}

/// Join JSON path pieces: `a` + `b` → `a.b`, `a` + `[0]` → `a[0]`.
pub fn join_path(prefix: &str, rest: &str) -> String {
    // Built by hand: paths are made for every element read, and `format!` costs several times
    // a push.
    let mut p = String::with_capacity(prefix.len() + rest.len() + 1);
    p.push_str(prefix);
    if !prefix.is_empty() && !rest.is_empty() && !rest.starts_with('[') {
        p.push('.');
    }
    p.push_str(rest);
    p
}

/// `path[i]`.
pub fn index_path(path: &str, i: usize) -> String {
    let mut p = String::with_capacity(path.len() + 6);
    p.push_str(path);
    p.push('[');
    crate::json::write_decimal(&mut p, i);
    p.push(']');
    p
}

/// A JSON path as the reader descends: each step borrows its parent, so that reading a valid
/// document builds no path string. [`Path::render`] writes it out, with exactly the text that
/// [`join_path`] and [`index_path`] give, when an error needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path<'p> {
    parent: Option<&'p Path<'p>>,
    seg: Seg<'p>,
}

#[derive(Debug, Clone, Copy)]
enum Seg<'p> {
    /// A member name, or a whole path already written out (`join_path` is associative).
    Text(&'p str),
    Index(usize),
}

impl<'p> Path<'p> {
    /// A path given as text (`""` for the document itself).
    pub(crate) fn new(text: &'p str) -> Path<'p> {
        Path {
            parent: None,
            seg: Seg::Text(text),
        }
    }

    /// `self.name`, as [`join_path`] joins them.
    pub(crate) fn key<'q>(&'q self, name: &'q str) -> Path<'q> {
        Path {
            parent: Some(self),
            seg: Seg::Text(name),
        }
    }

    /// `self[i]`.
    pub(crate) fn index(&self, i: usize) -> Path<'_> {
        Path {
            parent: Some(self),
            seg: Seg::Index(i),
        }
    }

    /// The path as text.
    pub(crate) fn render(&self) -> String {
        let mut out = String::with_capacity(self.max_len());
        self.write(&mut out);
        out
    }

    /// At least the length of the rendered path.
    fn max_len(&self) -> usize {
        let own = match self.seg {
            Seg::Text(t) => t.len() + 1,
            Seg::Index(_) => 22,
        };
        own + self.parent.map_or(0, Path::max_len)
    }

    fn write(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write(out);
        }
        match self.seg {
            Seg::Text(t) => {
                // As `join_path`.
                if !out.is_empty() && !t.is_empty() && !t.starts_with('[') {
                    out.push('.');
                }
                out.push_str(t);
            }
            Seg::Index(i) => {
                out.push('[');
                crate::json::write_decimal(out, i);
                out.push(']');
            }
        }
    }
}

/// Options for reading a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Enforce AWS's size limit for the policy's kind. AWS-managed policies
    /// (`arn:aws:iam::aws:policy/...`) are exempt whatever this says: AWS does not hold its own
    /// policies to the customer limits (ReadOnlyAccess is over 80 KB).
    pub size_limits: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions { size_limits: true }
    }
}

/// Parse a policy from text: a document, a JSON string holding one, URL-encoded text, or an
/// AWS CLI wrapper.
pub fn parse_policy(src: &str, kind: PolicyKind, name: &str) -> Result<Policy, PolicyError> {
    parse_policy_with(src, kind, name, ParseOptions::default())
}

/// [`parse_policy`] with options.
pub fn parse_policy_with(
    src: &str,
    kind: PolicyKind,
    name: &str,
    opts: ParseOptions,
) -> Result<Policy, PolicyError> {
    let trimmed = src.trim();
    if trimmed.starts_with('%') {
        let decoded = url_decode(trimmed).map_err(|why| {
            PolicyError::new(
                "",
                Span::default(),
                format!("invalid URL-encoded policy document: {why}"),
            )
        })?;
        return parse_policy_with(&decoded, kind, name, opts);
    }
    let json = Json::parse(src).map_err(|e| PolicyError::new("", e.span(), e.to_string()))?;
    policy_from_json_with(&json, src, kind, name, opts)
}

/// Read a policy from an already parsed JSON value whose spans point into `src`.
pub fn policy_from_json(
    json: &Json,
    src: &str,
    kind: PolicyKind,
    name: &str,
) -> Result<Policy, PolicyError> {
    policy_from_json_with(json, src, kind, name, ParseOptions::default())
}

/// [`policy_from_json`] with options.
pub fn policy_from_json_with(
    json: &Json<'_>,
    src: &str,
    kind: PolicyKind,
    name: &str,
    opts: ParseOptions,
) -> Result<Policy, PolicyError> {
    read_document(json, src, kind, name.to_string(), opts)
}

/// [`policy_from_json_with`] taking the policy's name by value, so that it is not copied again.
pub(crate) fn read_document(
    json: &Json<'_>,
    src: &str,
    kind: PolicyKind,
    name: String,
    opts: ParseOptions,
) -> Result<Policy, PolicyError> {
    match &json.value {
        JsonValue::String(text) => {
            // A document given as a string (as `get-bucket-policy` and
            // `get-account-authorization-details` print them), possibly URL-encoded.
            let text: Cow<'_, str> = if text.trim_start().starts_with('%') {
                Cow::Owned(url_decode(text.trim()).map_err(|why| {
                    PolicyError::new(
                        "",
                        json.span,
                        format!("invalid URL-encoded policy document: {why}"),
                    )
                })?)
            } else {
                Cow::Borrowed(text)
            };
            let inner = Json::parse(&text).map_err(|e| {
                PolicyError::new(
                    "",
                    json.span,
                    format!("policy string is not JSON: {}", e.message),
                )
            })?;
            if matches!(inner.value, JsonValue::String(_)) {
                return Err(PolicyError::new(
                    "",
                    json.span,
                    "policy string holds a string, not a document",
                ));
            }
            // Errors inside the inner text point at the string as a whole.
            read_document(&inner, &text, kind, name, opts).map_err(|mut e| {
                e.span = json.span;
                e
            })
        }
        JsonValue::Object(members) => {
            if json.get("Statement").is_none() {
                for (wrapper, inner_key) in [
                    ("PolicyVersion", Some("Document")),
                    ("Policy", None),
                    ("PolicyDocument", None),
                    ("Document", None),
                ] {
                    if let Some(w) = json.get(wrapper) {
                        let inner = match inner_key {
                            Some(k) => match w.get(k) {
                                Some(d) => d,
                                None => continue,
                            },
                            None => w,
                        };
                        return read_document(inner, src, kind, name, opts).map_err(|e| {
                            e.with_prefix(&match inner_key {
                                Some(k) => format!("{wrapper}.{k}"),
                                None => wrapper.to_string(),
                            })
                        });
                    }
                }
            }
            if opts.size_limits && !name.starts_with("arn:aws:iam::aws:policy/") {
                check_size(json, src, kind)?;
            }
            Reader { kind }.policy(json, members, name)
        }
        _ => Err(PolicyError::new(
            "",
            json.span,
            format!("a policy must be a JSON object, found {}", json.kind_name()),
        )),
    }
}

fn check_size(json: &Json, src: &str, kind: PolicyKind) -> Result<(), PolicyError> {
    let text = src.get(json.span.start..json.span.end).unwrap_or("");
    let (limit, how) = kind.size_limit();
    let size = match how {
        SizeCount::Bytes => text.len(),
        SizeCount::AllChars => text.chars().count(),
        SizeCount::NonWhitespace => non_whitespace_chars(text),
    };
    if size > limit {
        let unit = match how {
            SizeCount::Bytes => "bytes",
            SizeCount::AllChars => "characters",
            SizeCount::NonWhitespace => "characters (white space not counted)",
        };
        return Err(PolicyError::new(
            "",
            json.span,
            format!(
                "{} is {size} {unit}, over AWS's limit of {limit}",
                kind.name()
            ),
        ));
    }
    Ok(())
}

/// Characters of a JSON text, white space outside strings not counted. The same count as
/// walking the characters with an in-string flag, but a run at a time: inside a string every
/// character counts (a UTF-8 continuation byte belongs to the character its lead byte began), and
/// outside one every character but white space.
fn non_whitespace_chars(text: &str) -> usize {
    let b = text.as_bytes();
    // Compact ASCII JSON (no byte that is white space, a control character or non-ASCII): every
    // byte is a character that counts, in a string or not. No early exit, so that it vectorises.
    if !b
        .iter()
        .fold(false, |any, &c| any | (c <= b' ') | (c >= 0x80))
    {
        return b.len();
    }
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        // Outside a string, up to the next quote.
        let run = &b[i..];
        let end = run.iter().position(|&c| c == b'"').unwrap_or(run.len());
        for (j, &c) in run[..end].iter().enumerate() {
            if c < 0x80 {
                n += usize::from(!char::from(c).is_whitespace());
            } else if c & 0xC0 != 0x80 {
                // Not reached for JSON text (outside strings it is ASCII), kept exact all the same.
                let ws = text
                    .get(i + j..)
                    .and_then(|t| t.chars().next())
                    .is_some_and(char::is_whitespace);
                n += usize::from(!ws);
            }
        }
        i += end;
        if i >= b.len() {
            break;
        }
        // The opening quote, then the string up to its closing quote (escapes skipped over).
        n += 1;
        i += 1;
        loop {
            let run = &b[i..];
            let end = run
                .iter()
                .position(|&c| c == b'"' || c == b'\\')
                .unwrap_or(run.len());
            n += run[..end].iter().filter(|&&c| c & 0xC0 != 0x80).count();
            i += end;
            match b.get(i) {
                None => break,
                Some(b'"') => {
                    n += 1;
                    i += 1;
                    break;
                }
                Some(_) => {
                    // A backslash and the character it escapes, whatever it is.
                    n += 1;
                    i += 1;
                    if let Some(&c) = b.get(i) {
                        if c & 0xC0 != 0x80 {
                            n += 1;
                        }
                        i += 1;
                    }
                }
            }
        }
    }
    n
}

/// RFC 3986 percent-decoding, as IAM encodes documents (`+` is not a space there).
pub fn url_decode(s: &str) -> std::result::Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(x) => out.push(x),
                None => {
                    let seen: String = s[i..].chars().take(3).collect();
                    return Err(format!(
                        "\"{seen}\" at offset {i} is not % followed by two hex digits"
                    ));
                }
            }
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|e| {
        format!(
            "the decoded bytes are not UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest known name, when it is close enough to be a typo.
pub fn suggest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lw = word.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        let d = if k.to_lowercase() == lw {
            0
        } else {
            distance(&lw, &k.to_lowercase())
        };
        if d <= 2.max(word.len() / 5) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    best.map(|(_, k)| k)
}

fn unknown(path: &Path<'_>, span: Span, what: &str, word: &str, known: &[&str]) -> PolicyError {
    let e = PolicyError::at(path, span, format!("unknown {what} {}", quote(word)));
    match suggest(word, known.iter().copied()) {
        Some(s) => e.help(format!("did you mean {}?", quote(s))),
        None => e.help(format!("expected one of {}", known.join(", "))),
    }
}

const POLICY_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];
const PRINCIPAL_KEYS: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];

struct Reader {
    kind: PolicyKind,
}

/// Values of an element: a string or an array of strings. Every item of the returned slice is a
/// string; the flag says whether the element was an array (each item's path is then `path[i]`,
/// see [`StringItems::path`]).
struct StringItems<'j, 'a> {
    items: &'j [Json<'a>],
    array: bool,
}

impl<'j, 'a> StringItems<'j, 'a> {
    fn read(path: &Path<'_>, v: &'j Json<'a>) -> Result<StringItems<'j, 'a>, PolicyError> {
        match &v.value {
            JsonValue::String(_) => Ok(StringItems {
                items: std::slice::from_ref(v),
                array: false,
            }),
            JsonValue::Array(items) => {
                if items.is_empty() {
                    return Err(PolicyError::at(path, v.span, "empty list"));
                }
                // Every item is checked before any is used, so a non-string is reported first.
                for (i, it) in items.iter().enumerate() {
                    if !matches!(it.value, JsonValue::String(_)) {
                        return Err(PolicyError::at(
                            &path.index(i),
                            it.span,
                            format!("expected a string, found {}", it.kind_name()),
                        ));
                    }
                }
                Ok(StringItems { items, array: true })
            }
            _ => Err(PolicyError::at(
                path,
                v.span,
                format!(
                    "expected a string or an array of strings, found {}",
                    v.kind_name()
                ),
            )),
        }
    }

    /// The strings with their spans and item numbers.
    fn iter(&self) -> impl Iterator<Item = (usize, &'j str, Span)> + '_ {
        self.items
            .iter()
            .enumerate()
            .map(|(i, it)| (i, it.as_str().unwrap_or(""), it.span))
    }

    /// The path of item `i`.
    fn path<'q>(&self, path: &'q Path<'q>, i: usize) -> Path<'q> {
        if self.array {
            path.index(i)
        } else {
            *path
        }
    }
}

fn check_duplicates(path: &Path<'_>, members: &[(Key<'_>, Json<'_>)]) -> Result<(), PolicyError> {
    for (i, (k, _)) in members.iter().enumerate() {
        if members[..i].iter().any(|(f, _)| f.name == k.name) {
            return Err(PolicyError::at(
                &path.key(&k.name),
                k.span,
                format!("duplicate key {}", quote(&k.name)),
            )
            .help("AWS rejects a document that repeats a key; merge the two values"));
        }
    }
    Ok(())
}

impl Reader {
    fn policy(
        &self,
        json: &Json<'_>,
        members: &[(Key<'_>, Json<'_>)],
        name: String,
    ) -> Result<Policy, PolicyError> {
        check_duplicates(&Path::new(""), members)?;
        let mut version = None;
        let mut id = None;
        let mut statement = None;
        for (k, v) in members {
            match &*k.name {
                "Version" => {
                    version = Some(match v.as_str() {
                        Some("2012-10-17") => Version::V2012,
                        Some("2008-10-17") => Version::V2008,
                        _ => {
                            return Err(PolicyError::new(
                                "Version",
                                v.span,
                                format!(
                                    "unsupported version {}",
                                    v.as_str().map_or_else(|| v.kind_name().to_string(), quote)
                                ),
                            )
                            .help("expected \"2012-10-17\" or \"2008-10-17\""))
                        }
                    })
                }
                "Id" => match v.as_str() {
                    Some(s) => id = Some(s.to_string()),
                    None => {
                        return Err(PolicyError::new(
                            "Id",
                            v.span,
                            format!("expected a string, found {}", v.kind_name()),
                        ))
                    }
                },
                "Statement" => statement = Some(v),
                other => {
                    return Err(unknown(
                        &Path::new(other),
                        k.span,
                        "policy element",
                        other,
                        POLICY_KEYS,
                    ))
                }
            }
        }
        let statement =
            statement.ok_or_else(|| PolicyError::new("", json.span, "missing Statement"))?;
        let policy_vars = version == Some(Version::V2012);
        let spath = Path::new("Statement");
        let statements = match &statement.value {
            JsonValue::Object(_) => vec![self.statement(&spath, statement, policy_vars)?],
            JsonValue::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, s) in items.iter().enumerate() {
                    out.push(self.statement(&spath.index(i), s, policy_vars)?);
                }
                out
            }
            _ => {
                return Err(PolicyError::new(
                    "Statement",
                    statement.span,
                    format!(
                        "expected an object or an array of objects, found {}",
                        statement.kind_name()
                    ),
                ))
            }
        };
        // Statement IDs must be unique within a policy.
        for (i, s) in statements.iter().enumerate() {
            if let Some(sid) = s.sid.as_deref().filter(|s| !s.is_empty()) {
                if let Some(j) = statements[..i]
                    .iter()
                    .position(|t| t.sid.as_deref() == Some(sid))
                {
                    let span = match &statement.value {
                        JsonValue::Array(items) => items[i].span,
                        _ => statement.span,
                    };
                    return Err(PolicyError::new(
                        &format!("Statement[{i}].Sid"),
                        span,
                        format!("duplicate Sid {} (also Statement[{j}])", quote(sid)),
                    ));
                }
            }
        }
        Ok(Policy::new(name, self.kind, version, id, statements))
    }

    fn statement(
        &self,
        path: &Path<'_>,
        json: &Json<'_>,
        vars: bool,
    ) -> Result<Statement, PolicyError> {
        let Some(members) = json.as_object() else {
            return Err(PolicyError::at(
                path,
                json.span,
                format!("a statement must be an object, found {}", json.kind_name()),
            ));
        };
        check_duplicates(path, members)?;
        let mut sid = None;
        let mut effect = None;
        let mut principal: Option<(bool, &Json<'_>, Span)> = None;
        let mut action: Option<(bool, &Json<'_>)> = None;
        let mut resource: Option<(bool, &Json<'_>, Span)> = None;
        let mut condition = None;
        for (k, v) in members {
            let p = path.key(&k.name);
            match &*k.name {
                "Sid" => match v.as_str() {
                    Some(s) => sid = Some(s.to_string()),
                    None => {
                        return Err(PolicyError::at(
                            &p,
                            v.span,
                            format!("expected a string, found {}", v.kind_name()),
                        ))
                    }
                },
                "Effect" => {
                    effect = Some(match v.as_str() {
                        Some("Allow") => Effect::Allow,
                        Some("Deny") => Effect::Deny,
                        Some(other) => {
                            return Err(unknown(&p, v.span, "effect", other, &["Allow", "Deny"]))
                        }
                        None => {
                            return Err(PolicyError::at(
                                &p,
                                v.span,
                                format!("expected \"Allow\" or \"Deny\", found {}", v.kind_name()),
                            ))
                        }
                    })
                }
                "Principal" | "NotPrincipal" => {
                    if let Some((not, _, _)) = principal {
                        let other = if not { "NotPrincipal" } else { "Principal" };
                        return Err(PolicyError::at(
                            &p,
                            k.span,
                            format!("a statement cannot have both {other} and {}", k.name),
                        ));
                    }
                    principal = Some((k.name == "NotPrincipal", v, k.span));
                }
                "Action" | "NotAction" => {
                    if action.is_some() {
                        return Err(PolicyError::at(
                            &p,
                            k.span,
                            "a statement cannot have both Action and NotAction",
                        ));
                    }
                    action = Some((k.name == "NotAction", v));
                }
                "Resource" | "NotResource" => {
                    if resource.is_some() {
                        return Err(PolicyError::at(
                            &p,
                            k.span,
                            "a statement cannot have both Resource and NotResource",
                        ));
                    }
                    resource = Some((k.name == "NotResource", v, k.span));
                }
                "Condition" => condition = Some(v),
                other => {
                    return Err(unknown(
                        &p,
                        k.span,
                        "statement element",
                        other,
                        STATEMENT_KEYS,
                    ))
                }
            }
        }
        let effect = effect.ok_or_else(|| PolicyError::at(path, json.span, "missing Effect"))?;
        let (not_action, action_json) = action
            .ok_or_else(|| PolicyError::at(path, json.span, "missing Action or NotAction"))?;
        let action = ActionElement::new(
            not_action,
            self.actions(
                &path.key(if not_action { "NotAction" } else { "Action" }),
                action_json,
            )?,
        );
        let principal = match principal {
            None => {
                if matches!(self.kind, PolicyKind::Resource(_) | PolicyKind::Trust) {
                    return Err(PolicyError::at(
                        path,
                        json.span,
                        format!(
                            "missing Principal: {} must name who it applies to",
                            a_kind(self.kind)
                        ),
                    ));
                }
                if self.kind == PolicyKind::Rcp {
                    return Err(PolicyError::at(
                        path,
                        json.span,
                        "missing Principal: resource control policies need \"Principal\": \"*\"",
                    ));
                }
                None
            }
            Some((not, v, kspan)) => {
                let name = if not { "NotPrincipal" } else { "Principal" };
                let p = path.key(name);
                if !self.kind.is_resource_based() {
                    return Err(PolicyError::at(
                        &p,
                        kspan,
                        format!("{name} is not allowed in {}", a_kind(self.kind)),
                    )
                    .help("only resource-based policies (bucket, key, trust policies ...) name principals"));
                }
                if not && matches!(self.kind, PolicyKind::Trust | PolicyKind::Rcp) {
                    return Err(PolicyError::at(
                        &p,
                        kspan,
                        format!("NotPrincipal is not allowed in {}", a_kind(self.kind)),
                    ));
                }
                let set = self.principals(&p, v)?;
                if self.kind == PolicyKind::Rcp
                    && !(set.aws == [AwsPrincipalRef::Any]
                        && set.service.is_empty()
                        && set.federated.is_empty()
                        && set.canonical_user.is_empty())
                {
                    return Err(PolicyError::at(
                        &p,
                        v.span,
                        "resource control policies only take \"Principal\": \"*\"",
                    ));
                }
                Some(PrincipalElement { not, set })
            }
        };
        let resource = match resource {
            // A trust policy's statements apply to their role, and a resource policy's may leave
            // `Resource` out to apply to the resource it is attached to (an ECR repository
            // policy has none: Amazon ECR user guide, "Private repository policy examples"). An
            // identity policy, a boundary, a session policy, an SCP or an RCP must name one.
            None => {
                if !matches!(self.kind, PolicyKind::Trust | PolicyKind::Resource(_)) {
                    return Err(PolicyError::at(
                        path,
                        json.span,
                        "missing Resource or NotResource",
                    ));
                }
                None
            }
            Some((not, v, kspan)) => {
                let p = path.key(if not { "NotResource" } else { "Resource" });
                if self.kind == PolicyKind::Trust {
                    return Err(PolicyError::at(
                        &p,
                        kspan,
                        "a role trust policy has no Resource: the resource is the role itself",
                    ));
                }
                Some(ResourceElement::new(not, self.resources(&p, v, vars)?))
            }
        };
        let conditions = match condition {
            None => vec![],
            Some(c) => self.conditions(&path.key("Condition"), c, vars)?,
        };
        let st = Statement {
            sid,
            effect,
            principal,
            action,
            resource,
            conditions,
        };
        if self.kind == PolicyKind::Rcp && st.effect == Effect::Allow && !is_full_access(&st) {
            return Err(PolicyError::at(
                path,
                json.span,
                "resource control policies may only Deny (Allow is reserved for RCPFullAWSAccess)",
            ));
        }
        Ok(st)
    }

    fn actions(&self, path: &Path<'_>, v: &Json<'_>) -> Result<Vec<Template>, PolicyError> {
        let opts = TemplateOpts {
            wildcards: true,
            variables: false,
            ci: true,
        };
        let items = StringItems::read(path, v)?;
        let mut out = Vec::with_capacity(items.items.len());
        for (i, s, span) in items.iter() {
            if s != "*" {
                // `split_once(':')` by byte: the colon is ASCII.
                let colon = s.bytes().position(|b| b == b':');
                let valid = colon
                    .map(|c| (&s[..c], &s[c + 1..]))
                    .is_some_and(|(svc, name)| {
                        !svc.is_empty()
                            && !name.is_empty()
                            && svc.bytes().all(|b| {
                                b.is_ascii_alphanumeric() || b == b'-' || b == b'*' || b == b'?'
                            })
                    });
                if !valid {
                    return Err(PolicyError::at(
                        &items.path(path, i),
                        span,
                        format!(
                            "invalid action {}: expected \"service:Action\" or \"*\"",
                            quote(s)
                        ),
                    ));
                }
            }
            out.push(Template::new(s, opts));
        }
        Ok(out)
    }

    fn resources(
        &self,
        path: &Path<'_>,
        v: &Json<'_>,
        vars: bool,
    ) -> Result<Vec<Template>, PolicyError> {
        let opts = TemplateOpts {
            wildcards: true,
            variables: vars,
            ci: false,
        };
        let items = StringItems::read(path, v)?;
        let mut out = Vec::with_capacity(items.items.len());
        for (i, s, span) in items.iter() {
            if s != "*" && !s.starts_with("arn:") {
                return Err(PolicyError::at(
                    &items.path(path, i),
                    span,
                    format!("invalid resource {}: expected an ARN or \"*\"", quote(s)),
                ));
            }
            // ARNs with wildcards spanning segments (`arn:aws:s3:::*`) are fine; `arn:aws:s3`
            // is not.
            // Fewer than six `:`-separated parts: fewer than five colons.
            if s != "*" && s.bytes().filter(|&b| b == b':').nth(4).is_none() && !s.ends_with('*') {
                return Err(PolicyError::at(
                    &items.path(path, i),
                    span,
                    format!("invalid resource {}: an ARN has six parts (arn:partition:service:region:account:resource)", quote(s)),
                ));
            }
            out.push(Template::new(s, opts));
        }
        Ok(out)
    }

    fn principals(&self, path: &Path<'_>, v: &Json<'_>) -> Result<PrincipalSet, PolicyError> {
        let mut set = PrincipalSet::default();
        match &v.value {
            JsonValue::String(s) if s == "*" => {
                set.aws.push(AwsPrincipalRef::Any);
                set.bare_star = true;
                return Ok(set);
            }
            JsonValue::Object(members) => {
                check_duplicates(path, members)?;
                if members.is_empty() {
                    return Err(PolicyError::at(path, v.span, "empty principal map"));
                }
                for (k, val) in members {
                    let p = path.key(&k.name);
                    let items = StringItems::read(&p, val)?;
                    match &*k.name {
                        "AWS" => {
                            set.aws.reserve_exact(items.items.len());
                            for (i, s, span) in items.iter() {
                                set.aws.push(aws_principal(&items.path(&p, i), span, s)?);
                            }
                        }
                        "Service" | "Federated" | "CanonicalUser" => {
                            let list = match &*k.name {
                                "Service" => &mut set.service,
                                "Federated" => &mut set.federated,
                                _ => &mut set.canonical_user,
                            };
                            list.reserve_exact(items.items.len());
                            for (i, s, span) in items.iter() {
                                if s.is_empty() || s.contains('*') || s.contains('?') {
                                    return Err(PolicyError::at(
                                        &items.path(&p, i),
                                        span,
                                        format!("invalid principal {}: wildcards are not allowed in Principal", quote(s)),
                                    ));
                                }
                                list.push(s.to_string());
                            }
                        }
                        other => {
                            return Err(unknown(
                                &p,
                                k.span,
                                "principal type",
                                other,
                                PRINCIPAL_KEYS,
                            ))
                        }
                    }
                }
            }
            _ => {
                return Err(PolicyError::at(
                    path,
                    v.span,
                    format!(
                        "expected \"*\" or an object such as {{\"AWS\": ...}}, found {}",
                        match &v.value {
                            JsonValue::String(s) => quote(s),
                            _ => v.kind_name().to_string(),
                        }
                    ),
                ))
            }
        }
        Ok(set)
    }

    fn conditions(
        &self,
        path: &Path<'_>,
        v: &Json<'_>,
        vars: bool,
    ) -> Result<Vec<Condition>, PolicyError> {
        let Some(ops) = v.as_object() else {
            return Err(PolicyError::at(
                path,
                v.span,
                format!("expected an object of operators, found {}", v.kind_name()),
            ));
        };
        check_duplicates(path, ops)?;
        let mut out = Vec::with_capacity(
            ops.iter()
                .map(|(_, block)| block.as_object().map_or(0, <[_]>::len))
                .sum(),
        );
        for (opk, block) in ops {
            let op = parse_operator(&opk.name).map_err(|msg| {
                let base_names: Vec<String> = BaseOp::ALL
                    .iter()
                    .flat_map(|b| {
                        let n = b.name();
                        // Every operator but `Null` takes `IfExists` (IAM user guide, "Condition
                        // operators"): `NullIfExists` is refused, and suggested `Null`.
                        let if_exists = (*b != BaseOp::Null).then(|| format!("{n}IfExists"));
                        std::iter::once(n.to_string()).chain(if_exists)
                    })
                    .collect();
                let stripped = opk
                    .name
                    .strip_prefix("ForAllValues:")
                    .or_else(|| opk.name.strip_prefix("ForAnyValue:"));
                let prefix = opk.name.len() - stripped.map_or(opk.name.len(), str::len);
                let word = stripped.unwrap_or(&opk.name);
                let e = PolicyError::at(path, opk.span, msg);
                match suggest(word, base_names.iter().map(String::as_str)) {
                    Some(s) => e.help(format!(
                        "did you mean {}?",
                        quote(&format!("{}{s}", &opk.name[..prefix]))
                    )),
                    None => e,
                }
            })?;
            let opath = path.key(&opk.name);
            let Some(keys) = block.as_object() else {
                return Err(PolicyError::at(
                    &opath,
                    block.span,
                    format!(
                        "expected an object of condition keys, found {}",
                        block.kind_name()
                    ),
                ));
            };
            check_duplicates(&opath, keys)?;
            if keys.is_empty() {
                return Err(PolicyError::at(&opath, block.span, "no condition keys"));
            }
            for (key, vals) in keys {
                let kpath = opath.key(&key.name);
                if key.name.is_empty() {
                    return Err(PolicyError::at(&kpath, key.span, "empty condition key"));
                }
                let raw = condition_values(&kpath, vals)?;
                out.push(compile(op, &key.name, raw, &kpath, vals.span, vars)?);
            }
        }
        Ok(out)
    }
}

/// A statement equal to `RCPFullAWSAccess`'s: Allow, Principal *, Action *, Resource *.
fn is_full_access(st: &Statement) -> bool {
    !st.action.not
        && st.action.patterns.iter().any(Template::is_star)
        && st
            .resource
            .as_ref()
            .is_some_and(|r| !r.not && r.patterns.iter().any(Template::is_star))
        && st.conditions.is_empty()
}

/// Condition values: a string, number or boolean, or an array of them; all as text.
fn condition_values(path: &Path<'_>, v: &Json<'_>) -> Result<Vec<String>, PolicyError> {
    let one = |p: &Path<'_>, x: &Json<'_>| -> Result<String, PolicyError> {
        match &x.value {
            JsonValue::String(s) => Ok(s.to_string()),
            JsonValue::Number(n) => Ok(n.to_string()),
            JsonValue::Bool(b) => Ok(if *b { "true" } else { "false" }.to_string()),
            _ => Err(PolicyError::at(
                p,
                x.span,
                format!(
                    "a condition value must be a string, number or boolean, found {}",
                    x.kind_name()
                ),
            )),
        }
    };
    match &v.value {
        JsonValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, x) in items.iter().enumerate() {
                out.push(one(&path.index(i), x)?);
            }
            Ok(out)
        }
        _ => Ok(vec![one(path, v)?]),
    }
}

/// Read an operator name: `[ForAllValues:|ForAnyValue:]Base[IfExists]`.
pub fn parse_operator(name: &str) -> Result<Operator, String> {
    let (set, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
        (Some(SetOp::ForAllValues), r)
    } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
        (Some(SetOp::ForAnyValue), r)
    } else {
        (None, name)
    };
    let (base_name, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let base = BaseOp::ALL
        .iter()
        .copied()
        .find(|b| b.name() == base_name)
        .ok_or_else(|| format!("unknown operator {}", quote(name)))?;
    if base == BaseOp::Null && if_exists {
        return Err(format!(
            "unknown operator {}: Null cannot take IfExists",
            quote(name)
        ));
    }
    Ok(Operator {
        set,
        base,
        if_exists,
    })
}

/// Compile one condition's values for its operator family.
pub fn compile_condition(
    op: Operator,
    key: &str,
    raw: Vec<String>,
    path: &str,
    span: Span,
    vars: bool,
) -> Result<Condition, PolicyError> {
    compile(op, key, raw, &Path::new(path), span, vars)
}

/// [`compile_condition`] at a path written out only for an error.
fn compile(
    op: Operator,
    key: &str,
    raw: Vec<String>,
    path: &Path<'_>,
    span: Span,
    vars: bool,
) -> Result<Condition, PolicyError> {
    let bad = |v: &str, what: &str| {
        PolicyError::at(
            path,
            span,
            format!("{} takes {what}, found {}", op.base.name(), quote(v)),
        )
    };
    let vars = vars && op.base.takes_variables();
    let values = match op.base {
        BaseOp::StringEquals
        | BaseOp::StringNotEquals
        | BaseOp::StringEqualsIgnoreCase
        | BaseOp::StringNotEqualsIgnoreCase
        | BaseOp::StringLike
        | BaseOp::StringNotLike => {
            let opts = TemplateOpts {
                wildcards: matches!(op.base, BaseOp::StringLike | BaseOp::StringNotLike),
                variables: vars,
                ci: matches!(
                    op.base,
                    BaseOp::StringEqualsIgnoreCase | BaseOp::StringNotEqualsIgnoreCase
                ),
            };
            CondValues::Strings(raw.iter().map(|v| Template::new(v, opts)).collect())
        }
        BaseOp::Bool => {
            let opts = TemplateOpts {
                wildcards: false,
                variables: vars,
                ci: true,
            };
            let mut out = Vec::new();
            for v in &raw {
                let t = Template::new(v, opts);
                if !t.has_vars() && !matches!(fold(v).as_str(), "true" | "false") {
                    return Err(bad(v, "\"true\" or \"false\""));
                }
                out.push(t);
            }
            CondValues::Strings(out)
        }
        BaseOp::NumericEquals
        | BaseOp::NumericNotEquals
        | BaseOp::NumericLessThan
        | BaseOp::NumericLessThanEquals
        | BaseOp::NumericGreaterThan
        | BaseOp::NumericGreaterThanEquals => CondValues::Numbers(
            raw.iter()
                .map(|v| parse_number(v).ok_or_else(|| bad(v, "numbers")))
                .collect::<Result<_, _>>()?,
        ),
        BaseOp::DateEquals
        | BaseOp::DateNotEquals
        | BaseOp::DateLessThan
        | BaseOp::DateLessThanEquals
        | BaseOp::DateGreaterThan
        | BaseOp::DateGreaterThanEquals => CondValues::Dates(
            raw.iter()
                .map(|v| parse_date(v).ok_or_else(|| bad(v, "ISO 8601 dates or epoch seconds")))
                .collect::<Result<_, _>>()?,
        ),
        BaseOp::BinaryEquals => CondValues::Binary(
            raw.iter()
                .map(|v| decode_base64(v).ok_or_else(|| bad(v, "base64 values")))
                .collect::<Result<_, _>>()?,
        ),
        BaseOp::IpAddress | BaseOp::NotIpAddress => CondValues::Ips(
            raw.iter()
                .map(|v| Cidr::parse(v).ok_or_else(|| bad(v, "IP addresses or CIDR ranges")))
                .collect::<Result<_, _>>()?,
        ),
        BaseOp::ArnEquals | BaseOp::ArnLike | BaseOp::ArnNotEquals | BaseOp::ArnNotLike => {
            CondValues::Arns(raw.iter().map(|v| ArnTemplate::new(v, vars)).collect())
        }
        BaseOp::Null => CondValues::Null(
            raw.iter()
                .map(|v| match fold(v).as_str() {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err(bad(v, "\"true\" or \"false\"")),
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    Ok(Condition::new(op, key, values, raw))
}

/// "an identity policy", "a service control policy".
fn a_kind(kind: PolicyKind) -> String {
    let n = kind.name();
    let article = if n.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {n}")
}

/// One entry of `"AWS": ...` in a Principal element (iam-semantics.md §3.4).
fn aws_principal(path: &Path<'_>, span: Span, s: &str) -> Result<AwsPrincipalRef, PolicyError> {
    let bad =
        |why: &str| PolicyError::at(path, span, format!("invalid principal {}: {why}", quote(s)));
    if s == "*" {
        return Ok(AwsPrincipalRef::Any);
    }
    if s.contains('*') || s.contains('?') {
        return Err(bad("wildcards are not allowed in Principal")
            .help("use \"Principal\": \"*\" with an ArnLike condition on aws:PrincipalArn"));
    }
    if is_account_id(s) {
        return Ok(AwsPrincipalRef::Account {
            account: s.to_string(),
            short: true,
        });
    }
    if !s.starts_with("arn:") {
        // Unique IDs (AIDA..., AROA..., AIPA...) as IAM stores resolved principals.
        if s.len() >= 16 && s.bytes().all(|b| b.is_ascii_alphanumeric()) && s.starts_with('A') {
            return Ok(AwsPrincipalRef::UniqueId(s.to_string()));
        }
        return Err(bad("expected an account ID, an IAM or STS ARN, or \"*\""));
    }
    let Some([_, _, service, _, account, res]) = crate::pattern::split_arn(s) else {
        return Err(bad("not an ARN"));
    };
    // A CloudFront origin access identity (Amazon CloudFront developer guide, "Restrict access to
    // an Amazon S3 origin": S3 stores `"CanonicalUser"` OAI grants in this form).
    if let ("iam", "cloudfront", Some(id)) = (
        service,
        account,
        res.strip_prefix("user/CloudFront Origin Access Identity "),
    ) {
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(AwsPrincipalRef::CloudFrontOai(s.to_string()));
        }
    }
    if !is_account_id(account) {
        return Err(bad("the account must be 12 digits"));
    }
    let account = account.to_string();
    let arn = s.to_string();
    let last = |r: &str| r.rsplit('/').next().unwrap_or("").to_string();
    match (service, res.split_once('/')) {
        ("iam", None) if res == "root" => Ok(AwsPrincipalRef::Account {
            account,
            short: false,
        }),
        ("iam", Some(("user", rest))) if !last(rest).is_empty() => Ok(AwsPrincipalRef::User {
            name: last(rest),
            arn,
            account,
        }),
        ("iam", Some(("role", rest))) if !last(rest).is_empty() => Ok(AwsPrincipalRef::Role {
            name: last(rest),
            arn,
            account,
        }),
        ("sts", Some(("assumed-role", rest))) => match rest.split_once('/') {
            Some((role, session)) if !role.is_empty() && !session.is_empty() => {
                Ok(AwsPrincipalRef::AssumedRole {
                    role: role.to_string(),
                    session: session.to_string(),
                    arn,
                    account,
                })
            }
            _ => Err(bad("expected assumed-role/ROLE/SESSION")),
        },
        ("sts", Some(("federated-user", name))) if !name.is_empty() => {
            Ok(AwsPrincipalRef::FederatedUser {
                name: name.to_string(),
                arn,
                account,
            })
        }
        _ => Err(bad(
            "expected an account, user, role, assumed-role or federated-user ARN",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str, kind: PolicyKind) -> String {
        parse_policy(src, kind, "p")
            .unwrap_err()
            .render("policy.json", src)
    }

    #[test]
    fn json_paths_join_as_written() {
        assert_eq!(join_path("", "Statement"), "Statement");
        assert_eq!(join_path("a", ""), "a");
        assert_eq!(join_path("a", "Statement"), "a.Statement");
        assert_eq!(join_path("a", "[3]"), "a[3]");
        assert_eq!(index_path("Action", 0), "Action[0]");
        assert_eq!(index_path("Action", 7), "Action[7]");
        assert_eq!(index_path("x.y", 1203), "x.y[1203]");
        assert_eq!(index_path("", usize::MAX), format!("[{}]", usize::MAX));
    }

    #[test]
    fn lazy_paths_render_as_joined_paths() {
        for root in ["", "identity_policies[3]", "a.b", "[0]"] {
            for k1 in ["Statement", "", "[x]", "a.b", "Condition"] {
                for k2 in ["StringEquals", "", "[y", "aws:PrincipalTag/x"] {
                    let r = Path::new(root);
                    let p1 = r.key(k1);
                    let p2 = p1.index(7);
                    let p3 = p2.key(k2);
                    let p4 = p3.index(1203);
                    let j1 = join_path(root, k1);
                    let j2 = index_path(&j1, 7);
                    let j3 = join_path(&j2, k2);
                    let j4 = index_path(&j3, 1203);
                    assert_eq!(p1.render(), j1);
                    assert_eq!(p2.render(), j2);
                    assert_eq!(p3.render(), j3);
                    assert_eq!(p4.render(), j4);
                    // As an error inside a policy is prefixed with where the policy sits.
                    assert_eq!(
                        join_path(root, &Path::new("").key(k1).index(7).key(k2).render()),
                        j3
                    );
                }
            }
        }
        assert_eq!(
            Path::new("x").index(usize::MAX).render(),
            format!("x[{}]", usize::MAX)
        );
        assert_eq!(Path::new("x").index(0).render(), "x[0]");
    }

    /// The size count as first written: character by character.
    fn non_whitespace_chars_by_char(text: &str) -> usize {
        let mut n = 0;
        let mut in_str = false;
        let mut esc = false;
        for c in text.chars() {
            if in_str {
                n += 1;
                if esc {
                    esc = false;
                } else if c == '\\' {
                    esc = true;
                } else if c == '"' {
                    in_str = false;
                }
            } else if c == '"' {
                in_str = true;
                n += 1;
            } else if !c.is_whitespace() {
                n += 1;
            }
        }
        n
    }

    #[test]
    fn size_count_agrees_with_the_character_walk() {
        let texts = [
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
            "{\n  \"Statement\": { \"Effect\" :\t\"Allow\",\r\n \"Sid\": \"a b\" } }",
            r#"{"a":"q\"uo\\te\" x","b":"\u00e9 é","c":"\é€ 𐍈"}"#,
            "\u{a0}{\u{3000}\"x y\u{a0}\u{3000}\"\u{2028} }\u{85}",
            "\"unterminated \\",
            "\"ends in an escape\\",
            "\"\\\u{e9}x\" \u{b}\u{c}\u{1c}",
            "",
            " ",
            "\"\"",
            "[1, 2,\t3]",
        ];
        for t in texts {
            assert_eq!(
                non_whitespace_chars(t),
                non_whitespace_chars_by_char(t),
                "{t:?}"
            );
        }
        // Every prefix of a mixed text, so that runs end everywhere.
        let mixed = "{\"é\\\"x\": [\"a b\", \u{a0}\"\u{20ac}\"],\n\"k\":\"\\\u{10348}\"}";
        for (i, _) in mixed.char_indices() {
            let t = &mixed[..i];
            assert_eq!(
                non_whitespace_chars(t),
                non_whitespace_chars_by_char(t),
                "{t:?}"
            );
        }
    }

    #[test]
    fn error_messages_name_file_line_and_path() {
        let src = "{\n \"Version\": \"2012-10-17\",\n \"Statement\": [\n  {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"},\n  {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\",\n   \"Condition\": {\"StringEqual\": {\"aws:username\": \"bob\"}}}\n ]\n}";
        assert_eq!(
            err(src, PolicyKind::Identity),
            "policy.json:6: Statement[1].Condition: unknown operator \"StringEqual\" (did you mean \"StringEquals\"?)"
        );
    }

    /// `IfExists` goes on every operator but `Null` (IAM user guide, "Condition operators"): the
    /// refusal of `NullIfExists` says why, and no longer suggests the operator it refuses (audit 9,
    /// bug 2).
    #[test]
    fn null_if_exists_is_refused_without_suggesting_itself() {
        let policy = |op: &str| {
            format!(
                "{{\"Version\": \"2012-10-17\", \"Statement\": {{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\", \"Condition\": {{\"{op}\": {{\"aws:TokenIssueTime\": \"true\"}}}}}}}}"
            )
        };
        assert_eq!(
            err(&policy("NullIfExists"), PolicyKind::Identity),
            "policy.json:1: Statement.Condition: unknown operator \"NullIfExists\": Null cannot take IfExists"
        );
        assert_eq!(
            err(&policy("ForAnyValue:NullIfExists"), PolicyKind::Identity),
            "policy.json:1: Statement.Condition: unknown operator \"ForAnyValue:NullIfExists\": Null cannot take IfExists"
        );
        // The other operators' `IfExists` forms are still suggested.
        assert!(err(&policy("StringEqualIfExists"), PolicyKind::Identity)
            .ends_with("(did you mean \"StringEqualsIfExists\"?)"));
    }

    /// A resource policy's statement may leave `Resource` out and applies to the resource it is
    /// attached to, as a trust policy's applies to its role (an ECR repository policy has none;
    /// audit 10, bug 6); the other kinds must name one.
    #[test]
    fn a_resource_policy_may_leave_resource_out() {
        let src = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "999999999999"}, "Action": "ecr:BatchGetImage"}}"#;
        let repo = "arn:aws:ecr:us-east-1:111111111111:repository/app";
        let kind = PolicyKind::Resource(ResourceService::from_arn(repo));
        let p = parse_policy(src, kind, "repo").unwrap();
        assert!(p.statements()[0].resource.is_none());
        let set = crate::PolicySet {
            resource: Some(p),
            ..Default::default()
        };
        let req = |principal: &str| {
            crate::Request::new(
                crate::model::Principal::parse(principal).unwrap(),
                "ecr:BatchGetImage",
                repo,
                None,
                crate::Context::new(),
            )
        };
        assert_eq!(
            crate::decide(&set, &req("arn:aws:iam::999999999999:root")),
            crate::Decision::Allow
        );
        assert_eq!(
            crate::decide(&set, &req("arn:aws:iam::888888888888:root")),
            crate::Decision::ImplicitDeny
        );
        for kind in [
            PolicyKind::Identity,
            PolicyKind::Boundary,
            PolicyKind::Session,
            PolicyKind::Scp,
            PolicyKind::Rcp,
        ] {
            let src = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:*"}}"#;
            let src = if matches!(kind, PolicyKind::Rcp) {
                src.to_string()
            } else {
                src.replace(r#""Principal": "*", "#, "")
            };
            assert!(
                err(&src, kind).ends_with("missing Resource or NotResource"),
                "{kind:?}: {}",
                err(&src, kind)
            );
        }
    }

    #[test]
    fn rejects_what_aws_rejects() {
        let cases = [
            (r#"{"Statement": {"Effect": "Allow", "Action": "*", "NotAction": "s3:*", "Resource": "*"}}"#,
             "policy.json:1: Statement.NotAction: a statement cannot have both Action and NotAction"),
            (r#"{"Statement": {"Action": "*", "Resource": "*"}}"#,
             "policy.json:1: Statement: missing Effect"),
            (r#"{"Statement": {"Effect": "allow", "Action": "*", "Resource": "*"}}"#,
             "policy.json:1: Statement.Effect: unknown effect \"allow\" (did you mean \"Allow\"?)"),
            (r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}"#,
             "policy.json:1: Statement.Principal: Principal is not allowed in an identity policy"),
            (r#"{"Version": "2020-01-01", "Statement": []}"#,
             "policy.json:1: Version: unsupported version \"2020-01-01\""),
            (r#"{"Statement": {"Effect": "Allow", "Action": "s3GetObject", "Resource": "*"}}"#,
             "policy.json:1: Statement.Action: invalid action \"s3GetObject\": expected \"service:Action\" or \"*\""),
            (r#"{"Statement": {"Effect": "Allow", "Effect": "Deny", "Action": "*", "Resource": "*"}}"#,
             "policy.json:1: Statement.Effect: duplicate key \"Effect\""),
            (r#"{"Statement": {"Effect": "Allow", "Actions": "*", "Resource": "*"}}"#,
             "policy.json:1: Statement.Actions: unknown statement element \"Actions\" (did you mean \"Action\"?)"),
            (r#"{"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"}, {"Sid": "A", "Effect": "Deny", "Action": "*", "Resource": "*"}]}"#,
             "policy.json:1: Statement[1].Sid: duplicate Sid \"A\" (also Statement[0])"),
            (r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"NumericLessThan": {"s3:max-keys": "ten"}}}}"#,
             "policy.json:1: Statement.Condition.NumericLessThan.s3:max-keys: NumericLessThan takes numbers, found \"ten\""),
            ("{\"Statement\": ", "policy.json:1: invalid JSON: unexpected end of input"),
        ];
        for (src, want) in cases {
            assert_eq!(err(src, PolicyKind::Identity), want, "{src}");
        }
        let trust_wild = r#"{"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/*"}, "Action": "sts:AssumeRole"}}"#;
        assert_eq!(
            err(trust_wild, PolicyKind::Trust),
            "policy.json:1: Statement.Principal.AWS: invalid principal \"arn:aws:iam::111111111111:role/*\": wildcards are not allowed in Principal"
        );
        let scp_np = r#"{"Statement": {"Effect": "Deny", "NotPrincipal": {"AWS": "111111111111"}, "Action": "*", "Resource": "*"}}"#;
        assert_eq!(
            err(scp_np, PolicyKind::Scp),
            "policy.json:1: Statement.NotPrincipal: NotPrincipal is not allowed in a service control policy"
        );
        let rcp_allow = r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}}"#;
        assert_eq!(
            err(rcp_allow, PolicyKind::Rcp),
            "policy.json:1: Statement: resource control policies may only Deny (Allow is reserved for RCPFullAWSAccess)"
        );
    }

    #[test]
    fn size_limits() {
        let big = format!(
            r#"{{"Statement": {{"Effect": "Allow", "Action": "s3:GetObject", "Resource": [{}]}}}}"#,
            (0..200)
                .map(|i| format!("\"arn:aws:s3:::bucket-number-{i}/*\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        let e = err(&big, PolicyKind::Scp);
        assert!(
            e.starts_with("policy.json:1: service control policy is "),
            "{e}"
        );
        assert!(e.ends_with("characters, over AWS's limit of 5120"), "{e}");
        assert!(parse_policy(&big, PolicyKind::Identity, "p").is_ok());
    }

    #[test]
    fn accepts_every_shape() {
        let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;
        let a = parse_policy(doc, PolicyKind::Identity, "p").unwrap();
        let as_string = quote(doc);
        let b = parse_policy(&as_string, PolicyKind::Identity, "p").unwrap();
        assert_eq!(a, b);
        let encoded: String = doc
            .bytes()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    (c as char).to_string()
                } else {
                    format!("%{c:02X}")
                }
            })
            .collect();
        let c = parse_policy(&encoded, PolicyKind::Identity, "p").unwrap();
        assert_eq!(a, c);
        let wrapped = format!(r#"{{"PolicyVersion": {{"Document": {doc}, "VersionId": "v1"}}}}"#);
        assert_eq!(
            parse_policy(&wrapped, PolicyKind::Identity, "p").unwrap(),
            a
        );
        let s3 = format!(r#"{{"Policy": {}}}"#, quote(doc));
        assert_eq!(parse_policy(&s3, PolicyKind::Identity, "p").unwrap(), a);
    }
}
