//! `spec.json` → estate + properties (interfaces.md §3), validated with precise errors: every
//! message names the file, the line and the JSON path; unknown fields are rejected; references to
//! missing policies, OUs, accounts and groups are named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use xverify_engine::estate::{
    Account, Estate, GroupDef, OrgUnit, Organization, ResourceDef, RoleDef, UserDef,
};
use xverify_engine::json::{line_col, quote, Json, JsonValue, Key, Span};
use xverify_engine::parse::{join_path, policy_from_json_with, suggest, ParseOptions};
use xverify_engine::{ContextValue, Policy, PolicyKind, ResourceService};

/// A spec that cannot be read: `file:line: path: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {}", if self.path.is_empty() { self.message.clone() } else { format!("{}: {}", self.path, self.message) })]
pub struct SpecError {
    pub file: String,
    pub line: usize,
    pub path: String,
    pub message: String,
}

/// A whole spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub file: PathBuf,
    pub estate: Estate,
    pub properties: Vec<Property>,
}

/// What a property expects of the decisions over its request set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// No request is allowed.
    None,
    /// Some request is allowed.
    Some,
    /// Every request is allowed.
    All,
    /// The spec grants nothing the `before` spec did not.
    NoNewAccess { before: PathBuf },
}

/// One principal selector; a property's list must all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Anyone,
    OutsideOrganization,
    OutsideAccount,
    Anonymous,
    Accounts(Vec<String>),
    NotAccounts(Vec<String>),
    Arns(Vec<String>),
    NotArns(Vec<String>),
    Service(String),
}

/// A property: a request set and an expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub name: String,
    pub description: Option<String>,
    pub expect: Expectation,
    pub principals: Vec<Selector>,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// Key → value (`None`: the key is absent).
    pub context: BTreeMap<String, Option<ContextValue>>,
    pub via_assume_role: bool,
    /// 1-based line of the property in the spec.
    pub line: usize,
}

/// Read a spec file.
pub fn load_spec(path: &Path) -> Result<Spec, SpecError> {
    let file = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|e| SpecError {
        file: file.clone(),
        line: 0,
        path: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    parse_spec(&src, path)
}

/// Read a spec from text; `path` names it in errors and anchors `before` paths.
pub fn parse_spec(src: &str, path: &Path) -> Result<Spec, SpecError> {
    let r = Reader {
        src,
        file: path.display().to_string(),
    };
    let json = Json::parse(src).map_err(|e| r.err_at(e.offset, "", e.to_string()))?;
    r.spec(&json, path)
}

struct Reader<'s> {
    src: &'s str,
    file: String,
}

/// An object whose fields have been checked against a list.
struct Obj<'j> {
    path: String,
    json: &'j Json<'j>,
    members: &'j [(Key<'j>, Json<'j>)],
}

impl<'j> Obj<'j> {
    fn get(&self, name: &str) -> Option<&'j Json<'j>> {
        self.members
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(_, v)| v)
    }
    fn p(&self, name: &str) -> String {
        join_path(&self.path, name)
    }
}

impl Reader<'_> {
    fn err_at(&self, offset: usize, path: &str, message: impl Into<String>) -> SpecError {
        SpecError {
            file: self.file.clone(),
            line: line_col(self.src, offset).0,
            path: path.to_string(),
            message: message.into(),
        }
    }

    fn err(&self, span: Span, path: &str, message: impl Into<String>) -> SpecError {
        self.err_at(span.start, path, message)
    }

    fn obj<'j>(&self, path: &str, v: &'j Json, fields: &[&str]) -> Result<Obj<'j>, SpecError> {
        let Some(members) = v.as_object() else {
            return Err(self.err(
                v.span,
                path,
                format!("expected an object, found {}", v.kind_name()),
            ));
        };
        for (i, (k, _)) in members.iter().enumerate() {
            if !fields.contains(&&*k.name) {
                let mut m = format!("unknown field {}", quote(&k.name));
                if let Some(s) = suggest(&k.name, fields.iter().copied()) {
                    m.push_str(&format!(" (did you mean {}?)", quote(s)));
                }
                return Err(self.err(k.span, &join_path(path, &k.name), m));
            }
            if members[..i].iter().any(|(f, _)| f.name == k.name) {
                return Err(self.err(
                    k.span,
                    &join_path(path, &k.name),
                    format!("duplicate field {}", quote(&k.name)),
                ));
            }
        }
        Ok(Obj {
            path: path.to_string(),
            json: v,
            members,
        })
    }

    /// A map with free keys; duplicates rejected with `what` naming the entry kind.
    fn map<'j>(
        &self,
        path: &str,
        v: &'j Json<'j>,
        what: &str,
    ) -> Result<&'j [(Key<'j>, Json<'j>)], SpecError> {
        let Some(members) = v.as_object() else {
            return Err(self.err(
                v.span,
                path,
                format!("expected an object, found {}", v.kind_name()),
            ));
        };
        for (i, (k, _)) in members.iter().enumerate() {
            if members[..i].iter().any(|(f, _)| f.name == k.name) {
                return Err(self.err(
                    k.span,
                    &join_path(path, &k.name),
                    format!("duplicate {what} {}", quote(&k.name)),
                ));
            }
        }
        Ok(members)
    }

    fn string(&self, path: &str, v: &Json) -> Result<String, SpecError> {
        v.as_str().map(str::to_string).ok_or_else(|| {
            self.err(
                v.span,
                path,
                format!("expected a string, found {}", v.kind_name()),
            )
        })
    }

    fn strings(&self, path: &str, v: &Json) -> Result<Vec<(String, Span)>, SpecError> {
        match &v.value {
            JsonValue::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, it)| Ok((self.string(&format!("{path}[{i}]"), it)?, it.span)))
                .collect(),
            JsonValue::String(s) => Ok(vec![(s.to_string(), v.span)]),
            _ => Err(self.err(
                v.span,
                path,
                format!("expected an array of strings, found {}", v.kind_name()),
            )),
        }
    }

    fn account_id(&self, path: &str, s: &str, span: Span) -> Result<(), SpecError> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(())
        } else {
            Err(self.err(
                span,
                path,
                format!("invalid account ID {}: expected 12 digits", quote(s)),
            ))
        }
    }

    fn policy(
        &self,
        path: &str,
        v: &Json,
        kind: PolicyKind,
        default_name: &str,
    ) -> Result<Policy, SpecError> {
        // A document or {"name": ..., "policy": ...}.
        let (doc, name, ppath) = match (v.get("policy"), v.get("Statement")) {
            (Some(doc), None) => {
                let o = self.obj(path, v, &["name", "policy"])?;
                let name = match o.get("name") {
                    Some(n) => self.string(&o.p("name"), n)?,
                    None => default_name.to_string(),
                };
                (doc, name, o.p("policy"))
            }
            _ => (v, default_name.to_string(), path.to_string()),
        };
        policy_from_json_with(doc, self.src, kind, &name, ParseOptions::default()).map_err(|e| {
            let e = e.with_prefix(&ppath);
            self.err(e.span, &e.path, e.message_with_hint())
        })
    }

    fn policies(
        &self,
        path: &str,
        v: &Json,
        kind: PolicyKind,
        owner: &str,
    ) -> Result<Vec<Policy>, SpecError> {
        let JsonValue::Array(items) = &v.value else {
            return Err(self.err(
                v.span,
                path,
                format!("expected an array of policies, found {}", v.kind_name()),
            ));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, it)| self.policy(&format!("{path}[{i}]"), it, kind, &format!("{owner}[{i}]")))
            .collect()
    }

    /// A role's or user's own `policies` and `permissions_boundary` (`who`: "role" or "user").
    fn own_policies(
        &self,
        o: &Obj<'_>,
        who: &str,
        name: &str,
    ) -> Result<(Vec<Policy>, Option<Policy>), SpecError> {
        let policies = match o.get("policies") {
            Some(p) => self.policies(
                &o.p("policies"),
                p,
                PolicyKind::Identity,
                &format!("{who} {name}"),
            )?,
            None => vec![],
        };
        let boundary = o
            .get("permissions_boundary")
            .map(|b| {
                self.policy(
                    &o.p("permissions_boundary"),
                    b,
                    PolicyKind::Boundary,
                    &format!("{name} permissions boundary"),
                )
            })
            .transpose()?;
        Ok((policies, boundary))
    }

    fn tags(&self, path: &str, v: Option<&Json>) -> Result<BTreeMap<String, String>, SpecError> {
        let mut out = BTreeMap::new();
        if let Some(v) = v {
            for (k, val) in self.map(path, v, "tag")? {
                out.insert(
                    k.name.to_string(),
                    self.string(&join_path(path, &k.name), val)?,
                );
            }
        }
        Ok(out)
    }

    fn spec(&self, json: &Json, file: &Path) -> Result<Spec, SpecError> {
        let top = self.obj(
            "",
            json,
            &[
                "organization",
                "accounts",
                "properties",
                "description",
                "name",
            ],
        )?;
        let mut estate = Estate::default();
        let mut named: BTreeMap<String, (&Json, String)> = BTreeMap::new();
        if let Some(org) = top.get("organization") {
            let o = self.obj(
                "organization",
                org,
                &["id", "management_account", "policies", "root"],
            )?;
            let id_json = o
                .get("id")
                .ok_or_else(|| self.err(org.span, "organization", "missing id"))?;
            let id = self.string(&o.p("id"), id_json)?;
            if !id.starts_with("o-") {
                return Err(self.err(
                    id_json.span,
                    &o.p("id"),
                    format!("invalid organization ID {}: expected o-...", quote(&id)),
                ));
            }
            let mgmt_json = o
                .get("management_account")
                .ok_or_else(|| self.err(org.span, "organization", "missing management_account"))?;
            let mgmt = self.string(&o.p("management_account"), mgmt_json)?;
            self.account_id(&o.p("management_account"), &mgmt, mgmt_json.span)?;
            if let Some(pols) = o.get("policies") {
                for (k, v) in self.map(&o.p("policies"), pols, "policy")? {
                    named.insert(
                        k.name.to_string(),
                        (v, join_path(&o.p("policies"), &k.name)),
                    );
                }
            }
            let root_json = o
                .get("root")
                .ok_or_else(|| self.err(org.span, "organization", "missing root"))?;
            let mut seen = BTreeMap::new();
            let root = self.unit("organization.root", root_json, &named, &mut seen, true)?;
            if !seen.contains_key(&mgmt) {
                return Err(self.err(mgmt_json.span, &o.p("management_account"), format!("management account {mgmt} is not listed under the organization root or any OU")));
            }
            estate.organization = Some(Organization {
                id,
                management_account: mgmt,
                root,
            });
        }
        if let Some(accts) = top.get("accounts") {
            for (k, v) in self.map("accounts", accts, "account")? {
                let path = join_path("accounts", &k.name);
                self.account_id(&path, &k.name, k.span)?;
                let a = self.account(&path, &k.name, v, &named, estate.organization.as_ref())?;
                estate.accounts.insert(k.name.to_string(), a);
            }
        }
        let mut properties = Vec::new();
        if let Some(props) = top.get("properties") {
            let JsonValue::Array(items) = &props.value else {
                return Err(self.err(
                    props.span,
                    "properties",
                    format!("expected an array, found {}", props.kind_name()),
                ));
            };
            let mut names = BTreeSet::new();
            for (i, it) in items.iter().enumerate() {
                let p = self.property(&format!("properties[{i}]"), it, file)?;
                if !names.insert(p.name.clone()) {
                    return Err(self.err(
                        it.span,
                        &format!("properties[{i}].name"),
                        format!("duplicate property name {}", quote(&p.name)),
                    ));
                }
                properties.push(p);
            }
        }
        Ok(Spec {
            file: file.to_path_buf(),
            estate,
            properties,
        })
    }

    fn attached(
        &self,
        path: &str,
        v: Option<&Json>,
        named: &BTreeMap<String, (&Json, String)>,
        kind: PolicyKind,
    ) -> Result<Option<Vec<Policy>>, SpecError> {
        let Some(v) = v else { return Ok(None) };
        let mut out = Vec::new();
        for (i, (name, span)) in self.strings(path, v)?.into_iter().enumerate() {
            let Some((doc, ppath)) = named.get(&name) else {
                let mut m = format!("unknown policy {}", quote(&name));
                match suggest(&name, named.keys().map(String::as_str)) {
                    Some(s) => m.push_str(&format!(" (did you mean {}?)", quote(s))),
                    None => m.push_str(" (not in organization.policies)"),
                }
                return Err(self.err(span, &format!("{path}[{i}]"), m));
            };
            out.push(self.policy(ppath, doc, kind, &name)?);
        }
        Ok(Some(out))
    }

    fn unit(
        &self,
        path: &str,
        v: &Json,
        named: &BTreeMap<String, (&Json, String)>,
        seen: &mut BTreeMap<String, String>,
        root: bool,
    ) -> Result<OrgUnit, SpecError> {
        let o = self.obj(
            path,
            v,
            &["id", "name", "scps", "rcps", "accounts", "units"],
        )?;
        let id_json = o
            .get("id")
            .ok_or_else(|| self.err(v.span, path, "missing id"))?;
        let id = self.string(&o.p("id"), id_json)?;
        let want = if root { "r-" } else { "ou-" };
        if !id.starts_with(want) {
            return Err(self.err(
                id_json.span,
                &o.p("id"),
                format!(
                    "invalid {} ID {}: expected {want}...",
                    if root { "root" } else { "OU" },
                    quote(&id)
                ),
            ));
        }
        if let Some(prev) = seen.insert(id.clone(), path.to_string()) {
            return Err(self.err(
                id_json.span,
                &o.p("id"),
                format!("duplicate ID {} (also at {prev})", quote(&id)),
            ));
        }
        let name = o
            .get("name")
            .map(|n| self.string(&o.p("name"), n))
            .transpose()?;
        let scps = self.attached(&o.p("scps"), o.get("scps"), named, PolicyKind::Scp)?;
        let rcps = self
            .attached(&o.p("rcps"), o.get("rcps"), named, PolicyKind::Rcp)?
            .unwrap_or_default();
        let mut accounts = Vec::new();
        if let Some(a) = o.get("accounts") {
            for (i, (acct, span)) in self.strings(&o.p("accounts"), a)?.into_iter().enumerate() {
                let ap = format!("{}[{i}]", o.p("accounts"));
                self.account_id(&ap, &acct, span)?;
                if let Some(prev) = seen.insert(acct.clone(), ap.clone()) {
                    return Err(self.err(
                        span,
                        &ap,
                        format!("account {acct} is listed twice (also at {prev})"),
                    ));
                }
                accounts.push(acct);
            }
        }
        let mut units = Vec::new();
        if let Some(us) = o.get("units") {
            let JsonValue::Array(items) = &us.value else {
                return Err(self.err(us.span, &o.p("units"), "expected an array of OUs"));
            };
            for (i, u) in items.iter().enumerate() {
                units.push(self.unit(&format!("{}[{i}]", o.p("units")), u, named, seen, false)?);
            }
        }
        Ok(OrgUnit {
            id,
            name,
            scps,
            rcps,
            accounts,
            units,
        })
    }

    fn account(
        &self,
        path: &str,
        id: &str,
        v: &Json,
        named: &BTreeMap<String, (&Json, String)>,
        org: Option<&Organization>,
    ) -> Result<Account, SpecError> {
        let o = self.obj(
            path,
            v,
            &[
                "name",
                "scps",
                "rcps",
                "roles",
                "users",
                "groups",
                "resources",
            ],
        )?;
        let in_org = org.is_some_and(|org| org.path(id).is_some());
        for f in ["scps", "rcps"] {
            if let Some(x) = o.get(f) {
                if !in_org {
                    return Err(self.err(x.span, &o.p(f), format!("account {id} has {} attached but the organization does not list it under its root or any OU", f.to_uppercase())));
                }
            }
        }
        let mut a = Account {
            id: id.to_string(),
            name: o
                .get("name")
                .map(|n| self.string(&o.p("name"), n))
                .transpose()?,
            scps: self.attached(&o.p("scps"), o.get("scps"), named, PolicyKind::Scp)?,
            rcps: self
                .attached(&o.p("rcps"), o.get("rcps"), named, PolicyKind::Rcp)?
                .unwrap_or_default(),
            ..Account::default()
        };
        if let Some(gs) = o.get("groups") {
            for (k, g) in self.map(&o.p("groups"), gs, "group")? {
                let gp = join_path(&o.p("groups"), &k.name);
                let go = self.obj(&gp, g, &["policies"])?;
                let policies = match go.get("policies") {
                    Some(p) => self.policies(
                        &go.p("policies"),
                        p,
                        PolicyKind::Identity,
                        &format!("group {}", k.name),
                    )?,
                    None => vec![],
                };
                a.groups.insert(k.name.to_string(), GroupDef { policies });
            }
        }
        if let Some(rs) = o.get("roles") {
            for (k, r) in self.map(&o.p("roles"), rs, "role")? {
                let rp = join_path(&o.p("roles"), &k.name);
                self.iam_name(&rp, k.span, "role", &k.name)?;
                let ro = self.obj(
                    &rp,
                    r,
                    &[
                        "trust_policy",
                        "policies",
                        "permissions_boundary",
                        "tags",
                        "path",
                        "description",
                    ],
                )?;
                let trust_policy = ro
                    .get("trust_policy")
                    .map(|t| {
                        self.policy(
                            &ro.p("trust_policy"),
                            t,
                            PolicyKind::Trust,
                            &format!("{} trust policy", k.name),
                        )
                    })
                    .transpose()?;
                let (policies, permissions_boundary) = self.own_policies(&ro, "role", &k.name)?;
                let path_s = self.path_field(&ro, "path")?;
                a.roles.insert(
                    k.name.to_string(),
                    RoleDef {
                        name: k.name.to_string(),
                        path: path_s,
                        trust_policy,
                        policies,
                        permissions_boundary,
                        tags: self.tags(&ro.p("tags"), ro.get("tags"))?,
                    },
                );
            }
        }
        if let Some(us) = o.get("users") {
            for (k, u) in self.map(&o.p("users"), us, "user")? {
                let up = join_path(&o.p("users"), &k.name);
                self.iam_name(&up, k.span, "user", &k.name)?;
                let uo = self.obj(
                    &up,
                    u,
                    &["policies", "groups", "permissions_boundary", "tags", "path"],
                )?;
                let (policies, permissions_boundary) = self.own_policies(&uo, "user", &k.name)?;
                let mut groups = Vec::new();
                if let Some(g) = uo.get("groups") {
                    for (i, (name, span)) in
                        self.strings(&uo.p("groups"), g)?.into_iter().enumerate()
                    {
                        if !a.groups.contains_key(&name) {
                            return Err(self.err(
                                span,
                                &format!("{}[{i}]", uo.p("groups")),
                                format!("unknown group {} (not in {}.groups)", quote(&name), path),
                            ));
                        }
                        groups.push(name);
                    }
                }
                a.users.insert(
                    k.name.to_string(),
                    UserDef {
                        name: k.name.to_string(),
                        path: self.path_field(&uo, "path")?,
                        policies,
                        groups,
                        permissions_boundary,
                        tags: self.tags(&uo.p("tags"), uo.get("tags"))?,
                    },
                );
            }
        }
        if let Some(rs) = o.get("resources") {
            for (k, r) in self.map(&o.p("resources"), rs, "resource")? {
                let rp = join_path(&o.p("resources"), &k.name);
                let parts = xverify_engine::pattern::split_arn(&k.name);
                let Some(parts) = parts.filter(|p| p[0] == "arn") else {
                    return Err(self.err(
                        k.span,
                        &rp,
                        format!("invalid resource ARN {}", quote(&k.name)),
                    ));
                };
                if !parts[4].is_empty() && parts[4] != id {
                    return Err(self.err(
                        k.span,
                        &rp,
                        format!(
                            "resource {} belongs to account {}, not {id}",
                            quote(&k.name),
                            parts[4]
                        ),
                    ));
                }
                let ro = self.obj(&rp, r, &["policy", "tags"])?;
                let policy = ro
                    .get("policy")
                    .filter(|p| !matches!(p.value, JsonValue::Null))
                    .map(|p| {
                        self.policy(
                            &ro.p("policy"),
                            p,
                            PolicyKind::Resource(ResourceService::from_arn(&k.name)),
                            &format!("{} policy", k.name),
                        )
                    })
                    .transpose()?;
                a.resources.insert(
                    k.name.to_string(),
                    ResourceDef {
                        arn: k.name.to_string(),
                        policy,
                        tags: self.tags(&ro.p("tags"), ro.get("tags"))?,
                    },
                );
            }
        }
        let _ = o.json;
        Ok(a)
    }

    fn path_field(&self, o: &Obj<'_>, f: &str) -> Result<String, SpecError> {
        match o.get(f) {
            None => Ok("/".to_string()),
            Some(v) => {
                let s = self.string(&o.p(f), v)?;
                if !xverify_engine::estate::valid_iam_path(&s) {
                    return Err(self.err(
                        v.span,
                        &o.p(f),
                        format!("invalid path {}: IAM takes / or /.../ of printable ASCII, at most 512 characters", quote(&s)),
                    ));
                }
                Ok(s)
            }
        }
    }

    /// A role's or user's name as IAM takes it (corpus/DECISIONS.md 33).
    fn iam_name(&self, path: &str, span: Span, what: &str, name: &str) -> Result<(), SpecError> {
        if xverify_engine::estate::valid_iam_name(name) {
            return Ok(());
        }
        Err(self.err(
            span,
            path,
            format!(
                "invalid {what} name {}: IAM takes 1-64 characters of [A-Za-z0-9_+=,.@-]",
                quote(name)
            ),
        ))
    }

    fn property(&self, path: &str, v: &Json, file: &Path) -> Result<Property, SpecError> {
        let o = self.obj(
            path,
            v,
            &[
                "name",
                "description",
                "expect",
                "principals",
                "actions",
                "resources",
                "context",
                "via_assume_role",
                "before",
            ],
        )?;
        let name_json = o
            .get("name")
            .ok_or_else(|| self.err(v.span, path, "missing name"))?;
        let name = self.string(&o.p("name"), name_json)?;
        let description = o
            .get("description")
            .map(|d| self.string(&o.p("description"), d))
            .transpose()?;
        let ej = o
            .get("expect")
            .ok_or_else(|| self.err(v.span, path, "missing expect"))?;
        let es = self.string(&o.p("expect"), ej)?;
        let expect = match es.as_str() {
            "none" => Expectation::None,
            "some" => Expectation::Some,
            "all" => Expectation::All,
            "no-new-access" => {
                let b = o.get("before").ok_or_else(|| {
                    self.err(
                        v.span,
                        path,
                        "expect \"no-new-access\" needs \"before\": the earlier spec's path",
                    )
                })?;
                let rel = self.string(&o.p("before"), b)?;
                let base = file.parent().unwrap_or(Path::new("."));
                Expectation::NoNewAccess {
                    before: base.join(rel),
                }
            }
            other => {
                let mut m = format!("unknown expectation {}", quote(other));
                if let Some(s) = suggest(other, ["none", "some", "all", "no-new-access"]) {
                    m.push_str(&format!(" (did you mean {}?)", quote(s)));
                }
                return Err(self.err(ej.span, &o.p("expect"), m));
            }
        };
        let is_diff = matches!(expect, Expectation::NoNewAccess { .. });
        if !is_diff {
            if let Some(b) = o.get("before") {
                return Err(self.err(
                    b.span,
                    &o.p("before"),
                    "\"before\" goes with expect \"no-new-access\"",
                ));
            }
        }
        let principals = match o.get("principals") {
            None if is_diff => vec![Selector::Anyone],
            None => return Err(self.err(v.span, path, "missing principals")),
            Some(p) => match &p.value {
                JsonValue::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, it)| self.selector(&format!("{}[{i}]", o.p("principals")), it))
                    .collect::<Result<_, _>>()?,
                _ => vec![self.selector(&o.p("principals"), p)?],
            },
        };
        let pats = |f: &str| -> Result<Vec<String>, SpecError> {
            match o.get(f) {
                None if is_diff => Ok(vec!["*".to_string()]),
                None => Err(self.err(v.span, path, format!("missing {f}"))),
                Some(x) => {
                    let list = self.strings(&o.p(f), x)?;
                    if list.is_empty() {
                        return Err(self.err(x.span, &o.p(f), "empty list"));
                    }
                    Ok(list.into_iter().map(|(s, _)| s).collect())
                }
            }
        };
        let actions = pats("actions")?;
        for (i, a) in actions.iter().enumerate() {
            if a != "*" && !a.contains(':') {
                return Err(self.err(
                    o.get("actions").map_or(v.span, |x| x.span),
                    &format!("{}[{i}]", o.p("actions")),
                    format!("invalid action {}: expected \"service:Action\"", quote(a)),
                ));
            }
        }
        let resources = pats("resources")?;
        let mut context = BTreeMap::new();
        if let Some(c) = o.get("context") {
            for (k, val) in self.map(&o.p("context"), c, "context key")? {
                let kp = join_path(&o.p("context"), &k.name);
                let value = match &val.value {
                    JsonValue::Null => None,
                    JsonValue::Array(items)
                        if items.len() > 1
                            && xverify_engine::model::is_single_valued_key(
                                &xverify_engine::pattern::fold(&k.name),
                            ) =>
                    {
                        return Err(self.err(
                            val.span,
                            &kp,
                            format!(
                                "{} is a single-valued key (AWS global condition keys): no request carries {} values for it",
                                k.name,
                                items.len()
                            ),
                        ));
                    }
                    JsonValue::Array(_) => Some(ContextValue::Many(
                        self.strings(&kp, val)?
                            .into_iter()
                            .map(|(s, _)| s)
                            .collect(),
                    )),
                    JsonValue::String(s) => Some(ContextValue::One(s.to_string())),
                    JsonValue::Number(n) => Some(ContextValue::One(n.to_string())),
                    JsonValue::Bool(b) => Some(ContextValue::One(b.to_string())),
                    // (`Raw` is only in what `Json::parse_lazy` reads.)
                    JsonValue::Object(_) | JsonValue::Raw(_) => {
                        return Err(self.err(
                            val.span,
                            &kp,
                            "expected a string, an array of strings or null",
                        ))
                    }
                };
                context.insert(k.name.to_string(), value);
            }
        }
        let via_assume_role = match o.get("via_assume_role") {
            None => true,
            Some(b) => match b.value {
                JsonValue::Bool(b) => b,
                _ => {
                    return Err(self.err(b.span, &o.p("via_assume_role"), "expected true or false"))
                }
            },
        };
        Ok(Property {
            name,
            description,
            expect,
            principals,
            actions,
            resources,
            context,
            via_assume_role,
            line: line_col(self.src, v.span.start).0,
        })
    }

    fn selector(&self, path: &str, v: &Json) -> Result<Selector, SpecError> {
        const WORDS: [&str; 4] = [
            "anyone",
            "outside-organization",
            "outside-account",
            "anonymous",
        ];
        match &v.value {
            JsonValue::String(s) => match &**s {
                "anyone" => Ok(Selector::Anyone),
                "outside-organization" => Ok(Selector::OutsideOrganization),
                "outside-account" => Ok(Selector::OutsideAccount),
                "anonymous" => Ok(Selector::Anonymous),
                other => {
                    let mut m = format!("unknown principal selector {}", quote(other));
                    match suggest(other, WORDS) {
                        Some(w) => m.push_str(&format!(" (did you mean {}?)", quote(w))),
                        None => m.push_str(" (expected \"anyone\", \"outside-organization\", \"outside-account\", \"anonymous\" or an object)"),
                    }
                    Err(self.err(v.span, path, m))
                }
            },
            JsonValue::Object(m) if m.len() == 1 => {
                let (k, val) = &m[0];
                let kp = join_path(path, &k.name);
                let list = |this: &Self| -> Result<Vec<String>, SpecError> {
                    Ok(this.strings(&kp, val)?.into_iter().map(|(s, _)| s).collect())
                };
                match &*k.name {
                    "accounts" | "not_accounts" => {
                        let l = self.strings(&kp, val)?;
                        for (i, (a, span)) in l.iter().enumerate() {
                            self.account_id(&format!("{kp}[{i}]"), a, *span)?;
                        }
                        let l = l.into_iter().map(|(s, _)| s).collect();
                        Ok(if k.name == "accounts" { Selector::Accounts(l) } else { Selector::NotAccounts(l) })
                    }
                    "arns" => Ok(Selector::Arns(list(self)?)),
                    "not_arns" => Ok(Selector::NotArns(list(self)?)),
                    "service" => {
                        let s = self.string(&kp, val)?;
                        match xverify_engine::Principal::parse(&s) {
                            Ok(xverify_engine::Principal::Service(_)) => Ok(Selector::Service(s)),
                            _ => Err(self.err(
                                val.span,
                                &kp,
                                format!("{} is not a service principal (such as \"cloudtrail.amazonaws.com\")", quote(&s)),
                            )),
                        }
                    }
                    other => {
                        let mut msg = format!("unknown principal selector {}", quote(other));
                        if let Some(w) = suggest(other, ["accounts", "not_accounts", "arns", "not_arns", "service"]) {
                            msg.push_str(&format!(" (did you mean {}?)", quote(w)));
                        }
                        Err(self.err(k.span, &kp, msg))
                    }
                }
            }
            _ => Err(self.err(v.span, path, "expected a selector: a string such as \"outside-organization\" or an object with one key (accounts, not_accounts, arns, not_arns, service)")),
        }
    }
}
