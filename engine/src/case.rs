//! The case format of `xverify eval` (interfaces.md §2): one JSON object per line holding the
//! policies that apply and one request.

use crate::eval::{is_trust_request, PolicySet};
use crate::json::{quote, Json, JsonValue, Span};
use crate::model::*;
use crate::parse::{index_path, join_path, policy_from_json_with, ParseOptions, PolicyError};

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

fn id_of(j: &Json) -> Option<String> {
    j.get("id").and_then(|v| match &v.value {
        JsonValue::String(_) | JsonValue::Number(_) => Some(v.to_json_string()),
        _ => None,
    })
}

fn expect_of(j: &Json) -> Option<Expect> {
    j.get("expect").and_then(Json::as_str).and_then(|s| {
        if s == "Error" {
            Some(Expect::Error)
        } else {
            Decision::parse(s).map(Expect::Decision)
        }
    })
}

const CASE_FIELDS: &[&str] = &[
    "identity_policies",
    "resource_policy",
    "permission_boundary",
    "session_policy",
    "scps",
    "rcps",
    "request",
];

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
            Ok(j) => Line {
                id: id_of(&j),
                expect: expect_of(&j),
                case: Case::from_json(&j, line, opts),
            },
        }
    }

    /// Read one case line.
    pub fn parse(line: &str, opts: ParseOptions) -> Result<Case, CaseError> {
        Case::parse_line(line, opts).case
    }

    /// Read a case from its parsed line (`src` is the line's text).
    pub fn from_json(j: &Json, line: &str, opts: ParseOptions) -> Result<Case, CaseError> {
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
        let request = read_request("request", req_json)?;
        let mut set = PolicySet::default();
        let null = |v: &Json| matches!(v.value, JsonValue::Null);
        for (k, v) in j.as_object().unwrap_or(&[]) {
            if !CASE_FIELDS.contains(&k.name.as_str()) || null(v) {
                continue;
            }
            let path = k.name.as_str();
            match path {
                "identity_policies" => {
                    for (i, p) in array(path, v)?.iter().enumerate() {
                        let pp = index_path(path, i);
                        set.identity
                            .push(read_policy(&pp, p, line, PolicyKind::Identity, opts)?);
                    }
                }
                "resource_policy" => {
                    let kind = if is_trust_request(&request.action_lc, &request.resource) {
                        PolicyKind::Trust
                    } else {
                        PolicyKind::Resource(ResourceService::from_arn(&request.resource))
                    };
                    set.resource = Some(read_policy(path, v, line, kind, opts)?);
                }
                "permission_boundary" => {
                    set.boundary = Some(read_policy(path, v, line, PolicyKind::Boundary, opts)?)
                }
                "session_policy" => {
                    set.session = Some(read_policy(path, v, line, PolicyKind::Session, opts)?)
                }
                "scps" | "rcps" => {
                    let kind = if path == "scps" {
                        PolicyKind::Scp
                    } else {
                        PolicyKind::Rcp
                    };
                    let mut levels = Vec::new();
                    for (l, level) in array(path, v)?.iter().enumerate() {
                        let lp = index_path(path, l);
                        let mut pols = Vec::new();
                        for (i, p) in array(&lp, level)?.iter().enumerate() {
                            pols.push(read_policy(&index_path(&lp, i), p, line, kind, opts)?);
                        }
                        levels.push(pols);
                    }
                    if path == "scps" {
                        set.scps = levels;
                    } else {
                        set.rcps = levels;
                    }
                }
                _ => {}
            }
        }
        Ok(Case {
            id: id_of(j),
            policies: set,
            request,
            expect,
        })
    }
}

fn array<'a>(path: &str, v: &'a Json) -> Result<&'a [Json], CaseError> {
    match &v.value {
        JsonValue::Array(items) => Ok(items),
        _ => Err(CaseError::new(
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
    v: &Json,
    src: &str,
    kind: PolicyKind,
    opts: ParseOptions,
) -> Result<Policy, CaseError> {
    if let (Some(doc), None) = (v.get("policy"), v.get("Statement")) {
        let name = match v.get("name") {
            Some(n) => n
                .as_str()
                .ok_or_else(|| {
                    CaseError::new(&join_path(path, "name"), n.span, "expected a string")
                })?
                .to_string(),
            None => path.to_string(),
        };
        for (k, _) in v.as_object().unwrap_or(&[]) {
            if k.name != "name" && k.name != "policy" {
                return Err(CaseError::new(
                    &join_path(path, &k.name),
                    k.span,
                    format!(
                        "unknown field {} (a named policy is {{\"name\": ..., \"policy\": ...}})",
                        quote(&k.name)
                    ),
                ));
            }
        }
        let pp = join_path(path, "policy");
        return policy_from_json_with(doc, src, kind, &name, opts)
            .map_err(|e| CaseError::from(e.with_prefix(&pp)));
    }
    policy_from_json_with(v, src, kind, path, opts)
        .map_err(|e| CaseError::from(e.with_prefix(path)))
}

const REQUEST_FIELDS: &[&str] = &[
    "principal",
    "action",
    "resource",
    "resource_account",
    "context",
];

/// Read `{"principal", "action", "resource", "resource_account"?, "context"?}`.
pub fn read_request(path: &str, v: &Json) -> Result<Request, CaseError> {
    let Some(members) = v.as_object() else {
        return Err(CaseError::new(
            path,
            v.span,
            format!("expected an object, found {}", v.kind_name()),
        ));
    };
    for (k, _) in members {
        if !REQUEST_FIELDS.contains(&k.name.as_str()) {
            let e = CaseError::new(
                &join_path(path, &k.name),
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
                JsonValue::String(s) => Ok(Some((s.as_str(), x.span))),
                JsonValue::Null => Ok(None),
                _ => Err(CaseError::new(
                    &join_path(path, name),
                    x.span,
                    format!("expected a string, found {}", x.kind_name()),
                )),
            },
        }
    };
    let need = |name: &str| -> Result<(&str, Span), CaseError> {
        string(name)?.ok_or_else(|| CaseError::new(path, v.span, format!("missing {name}")))
    };
    let (p, pspan) = need("principal")?;
    let principal = Principal::parse(p)
        .map_err(|e| CaseError::new(&join_path(path, "principal"), pspan, e.0))?;
    let (action, aspan) = need("action")?;
    if action
        .split_once(':')
        .is_none_or(|(s, n)| s.is_empty() || n.is_empty())
    {
        return Err(CaseError::new(
            &join_path(path, "action"),
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
        return Err(CaseError::new(
            &join_path(path, "resource"),
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
        Some(c) => read_context(&join_path(path, "context"), c)?,
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
pub fn read_context(path: &str, v: &Json) -> Result<Context, CaseError> {
    let mut ctx = Context::new();
    if matches!(v.value, JsonValue::Null) {
        return Ok(ctx);
    }
    let Some(members) = v.as_object() else {
        return Err(CaseError::new(
            path,
            v.span,
            format!("expected an object, found {}", v.kind_name()),
        ));
    };
    let scalar = |p: &str, x: &Json| -> Result<String, CaseError> {
        match &x.value {
            JsonValue::String(s) => Ok(s.clone()),
            JsonValue::Number(n) => Ok(n.clone()),
            JsonValue::Bool(b) => Ok(b.to_string()),
            _ => Err(CaseError::new(
                p,
                x.span,
                format!(
                    "a context value must be a string or an array of strings, found {}",
                    x.kind_name()
                ),
            )),
        }
    };
    for (k, x) in members {
        let kp = join_path(path, &k.name);
        let value = match &x.value {
            JsonValue::Null => continue,
            JsonValue::Array(items) => ContextValue::Many(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, it)| scalar(&index_path(&kp, i), it))
                    .collect::<Result<_, _>>()?,
            ),
            _ => ContextValue::One(scalar(&kp, x)?),
        };
        ctx.insert(&k.name, value);
    }
    Ok(ctx)
}
