//! The case format of `xverify eval` (interfaces.md §2): one JSON object per line holding the
//! policies that apply and one request.

use crate::eval::{is_trust_request, PolicySet};
use crate::json::{quote, Json, JsonValue, Span};
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
        match Json::parse(line) {
            Err(e) => Line {
                id: None,
                expect: None,
                case: Err(CaseError::new(
                    "",
                    Span {
                        start: e.offset,
                        end: e.offset,
                    },
                    format!("invalid JSON: {}", e.message),
                )),
            },
            Ok(j) => {
                let id = id_of(&j);
                Line {
                    expect: expect_of(&j),
                    case: Case::read(&j, line, opts, id.clone()),
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
        Case::read(j, line, opts, id_of(j))
    }

    /// [`Case::from_json`] given the line's id, already read.
    fn read(
        j: &Json<'_>,
        line: &str,
        opts: ParseOptions,
        id: Option<String>,
    ) -> Result<Case, CaseError> {
        if j.as_object().is_none() {
            return Err(CaseError::new(
                "",
                j.span,
                format!("a case must be a JSON object, found {}", j.kind_name()),
            ));
        }
        let expect = match j.get("expect") {
            None => None,
            Some(v) => Some(expect_of(j).ok_or_else(|| {
                CaseError::new(
                    "expect",
                    v.span,
                    "expected \"Allow\", \"ImplicitDeny\", \"ExplicitDeny\" or \"Error\"",
                )
            })?),
        };
        let req_json = j
            .get("request")
            .ok_or_else(|| CaseError::new("", j.span, "missing request"))?;
        let request = read_request_at(&Path::new("request"), req_json)?;
        let mut set = PolicySet::default();
        for (k, v) in j.as_object().unwrap_or(&[]) {
            if matches!(v.value, JsonValue::Null) {
                continue;
            }
            let path = Path::new(&k.name);
            match &*k.name {
                "identity_policies" => {
                    let items = array(&path, v)?;
                    set.identity.reserve_exact(items.len());
                    for (i, p) in items.iter().enumerate() {
                        set.identity.push(read_policy_at(
                            &path.index(i),
                            p,
                            line,
                            PolicyKind::Identity,
                            opts,
                        )?);
                    }
                }
                "resource_policy" => {
                    let kind = if is_trust_request(&request.action_lc, &request.resource) {
                        PolicyKind::Trust
                    } else {
                        PolicyKind::Resource(ResourceService::from_arn(&request.resource))
                    };
                    set.resource = Some(read_policy_at(&path, v, line, kind, opts)?);
                }
                "permission_boundary" => {
                    set.boundary = Some(read_policy_at(&path, v, line, PolicyKind::Boundary, opts)?)
                }
                "session_policy" => {
                    set.session = Some(read_policy_at(&path, v, line, PolicyKind::Session, opts)?)
                }
                "scps" | "rcps" => {
                    let kind = if &*k.name == "scps" {
                        PolicyKind::Scp
                    } else {
                        PolicyKind::Rcp
                    };
                    let items = array(&path, v)?;
                    let mut levels = Vec::with_capacity(items.len());
                    for (l, level) in items.iter().enumerate() {
                        let lp = path.index(l);
                        let ps = array(&lp, level)?;
                        let mut pols = Vec::with_capacity(ps.len());
                        for (i, p) in ps.iter().enumerate() {
                            pols.push(read_policy_at(&lp.index(i), p, line, kind, opts)?);
                        }
                        levels.push(pols);
                    }
                    if kind == PolicyKind::Scp {
                        set.scps = levels;
                    } else {
                        set.rcps = levels;
                    }
                }
                _ => {}
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
    let resource_account = string("resource_account")?.map(|(s, _)| s.to_string());
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
