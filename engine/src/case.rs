//! The case format of `xverify eval` (interfaces.md §2): one JSON object per line holding the
//! policies that apply and one request.

use crate::eval::{is_trust_request, PolicySet};
use crate::json::{quote, Json, JsonError, JsonValue, Span};
use crate::model::*;
use crate::parse::{read_document, ParseOptions, Path, PolicyError};

/// What a case expects (`expect`), for `--check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Decision(Decision),
    /// The line must be refused (a policy AWS would reject).
    Error,
}

/// One parsed case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The `id` as JSON text (a string or a number), echoed back.
    pub id: Option<String>,
    pub policies: PolicySet,
    pub request: Request,
    pub expect: Option<Expect>,
}

/// A case line that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct CaseError {
    pub path: String,
    pub span: Span,
    pub message: String,
}

impl CaseError {
    fn new(path: &str, span: Span, message: impl Into<String>) -> CaseError {
        CaseError {
            path: path.to_string(),
            span,
            message: message.into(),
        }
    }

    /// An error at a path written out only now.
    fn at(path: &Path<'_>, span: Span, message: impl Into<String>) -> CaseError {
        CaseError {
            path: path.render(),
            span,
            message: message.into(),
        }
    }

    fn message(&self) -> String {
        if self.path.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.path, self.message)
        }
    }
}

/// A line that is not JSON.
impl From<JsonError> for CaseError {
    fn from(e: JsonError) -> CaseError {
        CaseError::new("", e.span(), e.to_string())
    }
}

impl From<PolicyError> for CaseError {
    fn from(e: PolicyError) -> CaseError {
        CaseError {
            message: e.message_with_hint(),
            path: e.path,
            span: e.span,
        }
    }
}

/// The id and expectation of a line, read even when the rest of it is bad.
pub fn peek_id_expect(line: &str) -> (Option<String>, Option<Expect>) {
    let Ok(j) = Json::parse(line) else {
        return (None, None);
    };
    (id_of(&j), expect_of(&j))
}

fn id_of(j: &Json<'_>) -> Option<String> {
    j.get("id").and_then(|v| match &v.value {
        JsonValue::String(_) | JsonValue::Number(_) => Some(v.to_json_string()),
        _ => None,
    })
}

fn expect_of(j: &Json<'_>) -> Option<Expect> {
    j.get("expect").and_then(Json::as_str).and_then(|s| {
        if s == "Error" {
            Some(Expect::Error)
        } else {
            Decision::parse(s).map(Expect::Decision)
        }
    })
}

/// A line read as far as it goes: its id and expectation even when the case itself is bad.
pub struct Line {
    pub id: Option<String>,
    pub expect: Option<Expect>,
    pub case: Result<Case, CaseError>,
}

impl Case {
    /// Read one case line, keeping its id and `expect` even when the rest is bad.
    pub fn parse_line(line: &str, opts: ParseOptions) -> Line {
        Case::parse_line_with(line, opts, &mut PolicyCache::disabled())
    }

    /// [`Case::parse_line`], taking the policies met before from `cache` (and leaving the new
    /// ones there): what a batch of cases that share policies compiles once.
    pub fn parse_line_with(line: &str, opts: ParseOptions, cache: &mut PolicyCache) -> Line {
        cache.line.clear();
        let json = if cache.is_empty() {
            Json::parse(line)
        } else {
            // The policies whose text the cache holds are left unread.
            Json::parse_lazy(line, cache)
        };
        match json {
            Err(e) => Line {
                id: None,
                expect: None,
                case: Err(CaseError::from(e)),
            },
            Ok(j) => {
                let id = id_of(&j);
                Line {
                    expect: expect_of(&j),
                    case: Case::read(&j, line, opts, id.clone(), cache),
                    id,
                }
            }
        }
    }

    /// Read one case line.
    pub fn parse(line: &str, opts: ParseOptions) -> Result<Case, CaseError> {
        Case::parse_line(line, opts).case
    }

    /// Read a case from its parsed line (`src` is the line's text).
    pub fn from_json(j: &Json<'_>, line: &str, opts: ParseOptions) -> Result<Case, CaseError> {
        Case::read(j, line, opts, id_of(j), &mut PolicyCache::disabled())
    }

    /// [`Case::from_json`] given the line's id, already read.
    fn read(
        j: &Json<'_>,
        line: &str,
        opts: ParseOptions,
        id: Option<String>,
        cache: &mut PolicyCache,
    ) -> Result<Case, CaseError> {
        if j.as_object().is_none() {
            return Err(CaseError::new(
                "",
                j.span,
                format!("a case must be a JSON object, found {}", j.kind_name()),
            ));
        }
        // Top-level fields other than the case's are ignored (interfaces.md §2): an `expect` that
        // is not a decision is no expectation, which `--check` reports as not met (audit 10,
        // bug 7: it made the line an error without `--check` too).
        let expect = expect_of(j);
        let req_json = j
            .get("request")
            .ok_or_else(|| CaseError::new("", j.span, "missing request"))?;
        let request = read_request_at(&Path::new("request"), req_json)?;
        let mut set = PolicySet::default();
        // The kind a member's policies are read as (a resource policy's is the request's).
        let kind_of = |field: Field| match field {
            Field::Identity => PolicyKind::Identity,
            Field::Resource if is_trust_request(&request.action_lc, &request.resource) => {
                PolicyKind::Trust
            }
            Field::Resource => PolicyKind::Resource(ResourceService::from_arn(&request.resource)),
            Field::Boundary => PolicyKind::Boundary,
            Field::Session => PolicyKind::Session,
            Field::Scp => PolicyKind::Scp,
            Field::Rcp => PolicyKind::Rcp,
        };
        let mut read = |path: &Path<'_>, v: &Json<'_>, place: Place| {
            cache.read(path, v, line, kind_of(place.field), opts, place)
        };
        for (k, v) in j.as_object().unwrap_or(&[]) {
            if matches!(v.value, JsonValue::Null) {
                continue;
            }
            let Some(field) = Field::of_member(&k.name) else {
                continue;
            };
            let path = Path::new(&k.name);
            let one = Place::new(field, 0, 0);
            match field {
                Field::Identity => {
                    let items = array(&path, v)?;
                    set.identity.reserve_exact(items.len());
                    for (i, p) in items.iter().enumerate() {
                        set.identity
                            .push(read(&path.index(i), p, Place::new(field, 0, i))?);
                    }
                }
                Field::Resource => set.resource = Some(read(&path, v, one)?),
                Field::Boundary => set.boundary = Some(read(&path, v, one)?),
                Field::Session => set.session = Some(read(&path, v, one)?),
                Field::Scp | Field::Rcp => {
                    let items = array(&path, v)?;
                    let mut levels = Vec::with_capacity(items.len());
                    for (l, level) in items.iter().enumerate() {
                        let lp = path.index(l);
                        let ps = array(&lp, level)?;
                        let mut pols = Vec::with_capacity(ps.len());
                        for (i, p) in ps.iter().enumerate() {
                            pols.push(read(&lp.index(i), p, Place::new(field, l, i))?);
                        }
                        levels.push(pols);
                    }
                    if field == Field::Scp {
                        set.scps = levels;
                    } else {
                        set.rcps = levels;
                    }
                }
            }
        }
        Ok(Case {
            id,
            policies: set,
            request,
            expect,
        })
    }
}

/// The member of a case a policy is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Identity,
    Resource,
    Boundary,
    Session,
    Scp,
    Rcp,
}

/// Where a policy stands in a case: its member, and its level and index there (0 where the
/// member holds one policy). The policy's default name is its path, so the place is part of
/// what the policy read from a text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    field: Field,
    level: usize,
    index: usize,
}

impl Field {
    /// The field of a case member that holds policies.
    fn of_member(name: &str) -> Option<Field> {
        Some(match name {
            "identity_policies" => Field::Identity,
            "resource_policy" => Field::Resource,
            "permission_boundary" => Field::Boundary,
            "session_policy" => Field::Session,
            "scps" => Field::Scp,
            "rcps" => Field::Rcp,
            _ => return None,
        })
    }

    /// The JSON depth of its policies in a case line (the line's object is at depth 0).
    fn depth(self) -> usize {
        match self {
            Field::Resource | Field::Boundary | Field::Session => 1,
            Field::Identity => 2,
            Field::Scp | Field::Rcp => 3,
        }
    }
}

impl Place {
    fn new(field: Field, level: usize, index: usize) -> Place {
        Place {
            field,
            level,
            index,
        }
    }
}

/// The policies a batch of cases has compiled, for the cases after (`xverify eval` keeps one
/// per thread). Reading a policy is a function of its text, its place in the case (which names
/// it), its kind (which the request decides for a resource policy) and the parse options: a
/// policy met again with all four the same is the compiled policy of the first time, cloned
/// (which shares its statements: [`Policy`]). Only policies that were read without error are
/// kept; a bad one is read again, so its error names its own line.
///
/// Bounded: when the texts kept would pass [`PolicyCache::MAX_TEXT_BYTES`], the policies not
/// met again since the last such sweep are dropped (a batch's common policies stay), and all of
/// them when those left still hold half the limit.
#[derive(Debug)]
pub struct PolicyCache {
    enabled: bool,
    /// [`PolicyCache::MAX_TEXT_BYTES`] but in tests.
    limit: usize,
    /// By the hash of the text ([`text_hash`]); the place, kind, options and text are compared.
    buckets: std::collections::HashMap<u64, Vec<Cached>>,
    text_bytes: usize,
    /// The texts [`Json::parse_lazy`] left unread in the line being read.
    line: Vec<Seen>,
    /// Policies taken from the cache, and policies compiled (and kept when they read well).
    pub hits: u64,
    pub misses: u64,
}

/// A text of the line being read that the cache knows: where it is in the line, its hash,
/// and which entries of its bucket hold the same text (one bit each).
#[derive(Debug)]
struct Seen {
    at: usize,
    len: usize,
    hash: u64,
    same: u8,
}

#[derive(Debug)]
struct Cached {
    place: Place,
    kind: PolicyKind,
    opts: ParseOptions,
    text: Box<str>,
    policy: Policy,
    /// Taken from the cache since the last sweep.
    used: bool,
}

impl Default for PolicyCache {
    fn default() -> PolicyCache {
        PolicyCache::new()
    }
}

impl PolicyCache {
    /// The policy texts a cache keeps before it sweeps.
    pub const MAX_TEXT_BYTES: usize = 4 << 20;

    /// Policies kept under one hash: texts beyond that many with one hash are compiled every
    /// time (a guard against texts made to collide).
    const MAX_BUCKET: usize = 4;

    /// An empty cache.
    pub fn new() -> PolicyCache {
        PolicyCache::with_limit(PolicyCache::MAX_TEXT_BYTES)
    }

    /// An empty cache that sweeps when its texts would pass `bytes`.
    pub fn with_limit(bytes: usize) -> PolicyCache {
        PolicyCache {
            enabled: true,
            limit: bytes,
            buckets: std::collections::HashMap::new(),
            text_bytes: 0,
            line: Vec::new(),
            hits: 0,
            misses: 0,
        }
    }

    /// A cache that keeps nothing: every policy is compiled.
    pub fn disabled() -> PolicyCache {
        PolicyCache {
            enabled: false,
            ..PolicyCache::with_limit(0)
        }
    }

    /// Policies kept.
    pub fn len(&self) -> usize {
        self.buckets.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// [`read_policy_at`] through the cache. `v` may be a value [`Json::parse_lazy`] had
    /// left unread.
    fn read(
        &mut self,
        path: &Path<'_>,
        v: &Json<'_>,
        src: &str,
        kind: PolicyKind,
        opts: ParseOptions,
        place: Place,
    ) -> Result<Policy, CaseError> {
        let (Some(text), true) = (src.get(v.span.start..v.span.end), self.enabled) else {
            return read_policy_at(path, v, src, kind, opts);
        };
        // A text `knows` found this line: its hash, and which entries hold the same text.
        let at = text.as_ptr() as usize;
        let seen = match v.value {
            JsonValue::Raw(_) => self.line.iter().find(|s| s.at == at && s.len == text.len()),
            _ => None,
        };
        let (hash, same_text) = match seen {
            Some(s) => (s.hash, Some(s.same)),
            None => (text_hash(text.as_bytes()), None),
        };
        let found = self.buckets.get_mut(&hash).and_then(|b| {
            b.iter_mut().enumerate().find_map(|(i, c)| {
                let same = c.place == place && c.kind == kind && c.opts == opts;
                let text_same = match same_text {
                    Some(m) => m & (1 << i) != 0,
                    None => &*c.text == text,
                };
                (same && text_same).then_some(c)
            })
        });
        if let Some(c) = found {
            c.used = true;
            self.hits += 1;
            return Ok(c.policy.clone());
        }
        self.misses += 1;
        let policy = if let JsonValue::Raw(_) = v.value {
            // Known at this depth, so it reads as it did then; met under another kind or place.
            let v = Json::parse_at(src, v.span.start, place.field.depth())?;
            read_policy_at(path, &v, src, kind, opts)?
        } else {
            read_policy_at(path, v, src, kind, opts)?
        };
        if self.text_bytes + text.len() > self.limit {
            self.sweep();
        }
        let bucket = self.buckets.entry(hash).or_default();
        if bucket.len() < PolicyCache::MAX_BUCKET {
            self.text_bytes += text.len();
            bucket.push(Cached {
                place,
                kind,
                opts,
                text: text.into(),
                policy: policy.clone(),
                used: false,
            });
        }
        Ok(policy)
    }

    /// Drop the policies not taken since the last sweep, and every policy when those left
    /// still hold half the limit.
    fn sweep(&mut self) {
        // The entries move: what `knows` saw of this line no longer holds.
        self.line.clear();
        self.buckets.retain(|_, b| {
            b.retain_mut(|c| std::mem::take(&mut c.used));
            !b.is_empty()
        });
        self.text_bytes = self.buckets.values().flatten().map(|c| c.text.len()).sum();
        if self.text_bytes > self.limit / 2 {
            self.buckets.clear();
            self.text_bytes = 0;
        }
    }
}

/// [`Json::parse_lazy`] leaves unread the policies the cache holds a text of.
impl crate::json::Known for PolicyCache {
    fn depth_under(&self, top: &str) -> Option<usize> {
        Field::of_member(top).map(Field::depth)
    }

    /// Whether a policy was read from `text` under the case member `top` (at its depth): the
    /// text is then valid JSON there.
    fn knows(&mut self, top: &str, text: &str) -> bool {
        let Some(field) = Field::of_member(top) else {
            return false;
        };
        let hash = text_hash(text.as_bytes());
        let Some(bucket) = self.buckets.get(&hash) else {
            return false;
        };
        let (mut same, mut known) = (0u8, false);
        for (i, c) in bucket.iter().enumerate() {
            if &*c.text == text {
                same |= 1 << i;
                known |= c.place.field == field;
            }
        }
        if known {
            // For `read`, which then need not hash nor compare the text again.
            self.line.push(Seen {
                at: text.as_ptr() as usize,
                len: text.len(),
                hash,
                same,
            });
        }
        known
    }
}

/// A 64-bit hash of a policy's text, eight bytes a step in four lanes (the cache compares the
/// texts, so a collision costs a comparison, never a wrong policy).
fn text_hash(b: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let step = |h: u64, w: u64| (h.rotate_left(23) ^ w).wrapping_mul(K);
    let word = |c: &[u8]| {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        u64::from_le_bytes(w)
    };
    // Four lanes of 32-byte blocks, so that the multiplications overlap.
    let mut lanes = [b.len() as u64, 1, 2, 3];
    let mut blocks = b.chunks_exact(32);
    for block in &mut blocks {
        for (lane, c) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            *lane = step(*lane, word(c));
        }
    }
    let mut h = lanes[0];
    for c in blocks.remainder().chunks(8) {
        h = step(h, word(c));
    }
    for &lane in &lanes[1..] {
        h = step(h, lane);
    }
    h ^ (h >> 29)
}

fn array<'j, 'a>(path: &Path<'_>, v: &'j Json<'a>) -> Result<&'j [Json<'a>], CaseError> {
    match &v.value {
        JsonValue::Array(items) => Ok(items),
        _ => Err(CaseError::at(
            path,
            v.span,
            format!("expected an array, found {}", v.kind_name()),
        )),
    }
}

/// A policy entry: a document (object, JSON string, URL-encoded string) or
/// `{"name": "...", "policy": document}`.
pub fn read_policy(
    path: &str,
    v: &Json<'_>,
    src: &str,
    kind: PolicyKind,
    opts: ParseOptions,
) -> Result<Policy, CaseError> {
    read_policy_at(&Path::new(path), v, src, kind, opts)
}

/// [`read_policy`] at a path written out only for the policy's default name or an error.
fn read_policy_at(
    path: &Path<'_>,
    v: &Json<'_>,
    src: &str,
    kind: PolicyKind,
    opts: ParseOptions,
) -> Result<Policy, CaseError> {
    if let (Some(doc), None) = (v.get("policy"), v.get("Statement")) {
        let name = match v.get("name") {
            Some(n) => n
                .as_str()
                .ok_or_else(|| CaseError::at(&path.key("name"), n.span, "expected a string"))?
                .to_string(),
            None => path.render(),
        };
        for (k, _) in v.as_object().unwrap_or(&[]) {
            if k.name != "name" && k.name != "policy" {
                return Err(CaseError::at(
                    &path.key(&k.name),
                    k.span,
                    format!(
                        "unknown field {} (a named policy is {{\"name\": ..., \"policy\": ...}})",
                        quote(&k.name)
                    ),
                ));
            }
        }
        return read_document(doc, src, kind, name, opts)
            .map_err(|e| CaseError::from(e.with_prefix(&path.key("policy").render())));
    }
    let name = path.render();
    read_document(v, src, kind, name, opts)
        .map_err(|e| CaseError::from(e.with_prefix(&path.render())))
}

const REQUEST_FIELDS: &[&str] = &[
    "principal",
    "action",
    "resource",
    "resource_account",
    "context",
];

/// Read `{"principal", "action", "resource", "resource_account"?, "context"?}`.
pub fn read_request(path: &str, v: &Json<'_>) -> Result<Request, CaseError> {
    read_request_at(&Path::new(path), v)
}

fn read_request_at(path: &Path<'_>, v: &Json<'_>) -> Result<Request, CaseError> {
    let Some(members) = v.as_object() else {
        return Err(CaseError::at(
            path,
            v.span,
            format!("expected an object, found {}", v.kind_name()),
        ));
    };
    for (k, _) in members {
        if !REQUEST_FIELDS.contains(&&*k.name) {
            let e = CaseError::at(
                &path.key(&k.name),
                k.span,
                format!("unknown field {}", quote(&k.name)),
            );
            return Err(
                match crate::parse::suggest(&k.name, REQUEST_FIELDS.iter().copied()) {
                    Some(s) => CaseError {
                        message: format!("{} (did you mean {}?)", e.message, quote(s)),
                        ..e
                    },
                    None => e,
                },
            );
        }
    }
    let string = |name: &str| -> Result<Option<(&str, Span)>, CaseError> {
        match v.get(name) {
            None => Ok(None),
            Some(x) => match &x.value {
                JsonValue::String(s) => Ok(Some((&**s, x.span))),
                JsonValue::Null => Ok(None),
                _ => Err(CaseError::at(
                    &path.key(name),
                    x.span,
                    format!("expected a string, found {}", x.kind_name()),
                )),
            },
        }
    };
    let need = |name: &str| -> Result<(&str, Span), CaseError> {
        string(name)?.ok_or_else(|| CaseError::at(path, v.span, format!("missing {name}")))
    };
    let (p, pspan) = need("principal")?;
    let principal =
        Principal::parse(p).map_err(|e| CaseError::at(&path.key("principal"), pspan, e.0))?;
    let (action, aspan) = need("action")?;
    if action
        .split_once(':')
        .is_none_or(|(s, n)| s.is_empty() || n.is_empty())
    {
        return Err(CaseError::at(
            &path.key("action"),
            aspan,
            format!(
                "invalid action {}: expected \"service:Action\"",
                quote(action)
            ),
        ));
    }
    let (resource, rspan) = need("resource")?;
    if resource != "*"
        && (!resource.starts_with("arn:") || crate::pattern::split_arn(resource).is_none())
    {
        return Err(CaseError::at(
            &path.key("resource"),
            rspan,
            format!(
                "invalid resource {}: expected an ARN or \"*\"",
                quote(resource)
            ),
        ));
    }
    let resource_account = match string("resource_account")? {
        Some((s, span)) => {
            if let Some(why) = resource_account_error(s) {
                return Err(CaseError::at(&path.key("resource_account"), span, why));
            }
            Some(s.to_string())
        }
        None => None,
    };
    let context = match v.get("context") {
        None => Context::new(),
        Some(c) => read_context_at(&path.key("context"), c)?,
    };
    Ok(Request::new(
        principal,
        action,
        resource,
        resource_account,
        context,
    ))
}

/// Context: key → string, or array of strings (numbers and booleans read as their text);
/// `null` leaves the key absent.
pub fn read_context(path: &str, v: &Json<'_>) -> Result<Context, CaseError> {
    read_context_at(&Path::new(path), v)
}

fn read_context_at(path: &Path<'_>, v: &Json<'_>) -> Result<Context, CaseError> {
    if matches!(v.value, JsonValue::Null) {
        return Ok(Context::new());
    }
    let Some(members) = v.as_object() else {
        return Err(CaseError::at(
            path,
            v.span,
            format!("expected an object, found {}", v.kind_name()),
        ));
    };
    let scalar = |p: &Path<'_>, x: &Json<'_>| -> Result<String, CaseError> {
        match &x.value {
            JsonValue::String(s) => Ok(s.to_string()),
            JsonValue::Number(n) => Ok(n.to_string()),
            JsonValue::Bool(b) => Ok(if *b { "true" } else { "false" }.to_string()),
            _ => Err(CaseError::at(
                p,
                x.span,
                format!(
                    "a context value must be a string or an array of strings, found {}",
                    x.kind_name()
                ),
            )),
        }
    };
    let mut pairs = Vec::with_capacity(members.len());
    for (k, x) in members {
        let kp = path.key(&k.name);
        let value = match &x.value {
            JsonValue::Null => continue,
            JsonValue::Array(items) => {
                if items.len() > 1
                    && crate::model::is_single_valued_key(&crate::pattern::fold(&k.name))
                {
                    return Err(CaseError::at(
                        &kp,
                        x.span,
                        format!(
                            "{} is a single-valued key (AWS global condition keys): no request carries {} values for it",
                            k.name,
                            items.len()
                        ),
                    ));
                }
                let mut vals = Vec::with_capacity(items.len());
                for (i, it) in items.iter().enumerate() {
                    vals.push(scalar(&kp.index(i), it)?);
                }
                ContextValue::Many(vals)
            }
            _ => ContextValue::One(scalar(&kp, x)?),
        };
        pairs.push((&*k.name, value));
    }
    Ok(Context::from_pairs(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(resource: &str) -> String {
        format!(
            r#"{{"identity_policies":[{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"{resource}"}}]}}],"request":{{"principal":"arn:aws:iam::111111111111:user/u","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}}}"#
        )
    }

    /// A full cache keeps the policies met again since its last sweep and drops the others; its
    /// texts stay under its limit.
    #[test]
    fn a_full_cache_keeps_the_policies_met_again() {
        let opts = ParseOptions::default();
        let mut cache = PolicyCache::with_limit(1_000);
        let hot = line("*");
        let read = |cache: &mut PolicyCache, l: &str| {
            let got = Case::parse_line_with(l, opts, cache).case;
            assert_eq!(got, Case::parse_line(l, opts).case);
        };
        read(&mut cache, &hot);
        for i in 0..100 {
            read(&mut cache, &hot);
            let hits = cache.hits;
            read(&mut cache, &line(&format!("arn:aws:s3:::bucket-{i}/*")));
            assert_eq!(cache.hits, hits, "a new policy is compiled");
            assert!(cache.text_bytes <= 1_000, "{}", cache.text_bytes);
        }
        assert_eq!(
            cache.hits, 100,
            "the policy met again stayed through every sweep"
        );
        assert_eq!(cache.misses, 101);
        assert!(cache.len() < 12, "{} kept", cache.len());
        // A policy not met again is gone after a sweep.
        let first = line("arn:aws:s3:::bucket-0/*");
        let misses = cache.misses;
        read(&mut cache, &first);
        assert_eq!(cache.misses, misses + 1);
    }
}
