//! Properties over an estate: `none`, `some`, `all` over a request set, with `sts:AssumeRole`
//! reachability, and `no-new-access` between two versions of a spec.
//!
//! A property's request set Q is split into finitely many *queries*, one per (principal kind,
//! resource target):
//!
//! - **Principal kinds**: every described role (any session name) and user; the root user of every
//!   account the estate mentions; for every mentioned account the estate does not describe, and for
//!   one fresh account standing for all the others (and one more per class of those others that
//!   the policies' account patterns tell apart, `accounts.rs`), a role session and a user with free
//!   names (the open world, allow-all identity policies; with `--service-linked-roles` also a
//!   service-linked role session with a free `AWSServiceRoleFor…` name, the other role sessions
//!   taking the other names); every service principal the policies name, and one
//!   fresh service; anonymous callers. Q's principal selectors keep the kinds that can be in Q and
//!   constrain their free parts.
//! - **Resource targets**: every described resource whose ARN (or, for a bucket, object space) meets
//!   Q's resource patterns, each with its own policy, tags and account; plus the resources the estate
//!   does not describe (no resource policy; the account of the ARN, or the caller's own when the ARN has
//!   none — the most permissive choice).
//!
//! Each query is `allow ∧ Q` (or `¬allow ∧ Q` for `all`), decided by Z3 over the string classes.
//! Up to `GROUP_MAX` queries of one principal kind over described targets are first solved as one,
//! their disjunction (each disjunct keeps its own policies, fixed context and constraints): unsat
//! settles every member; otherwise the members are solved one by one (`run_group`). A
//! model becomes a concrete request (or chain) that the engine replays through the estate before it is
//! reported; a disagreement is an internal error and the property is `unknown`. `unknown` from any
//! query (timeout, unsupported construct) makes the property `unknown` unless another query already
//! refutes it: it is never folded into `proved`.
//!
//! With `via_assume_role`, the roles each principal kind can reach by chains of `sts:AssumeRole` are
//! computed first (a fixed point, each edge one query), and the sessions of reached roles join the
//! principal kinds, carrying the chain that reached them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use xverify_engine::estate::{Estate, EstateRequest, Residence, RoleDef};
use xverify_engine::model::*;
use xverify_engine::PolicySet;

use crate::classes::{Atom, Lang, Pattern};
use crate::encode::{
    allow_formula, canonical_statements, eval_formula, Assignment, CanonicalStatement, Cmp, Family,
    KeyId, Source, Sym, SymPrincipal, Unsupported, VarId, F,
};
use crate::solve::{check, Config, Outcome};
use crate::spec::{Expectation, Property, Selector, Spec};

/// A property's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Proved,
    Refuted,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Proved => "proved",
            Status::Refuted => "refuted",
            Status::Unknown => "unknown",
        }
    }
}

/// One step of a counterexample or witness: a concrete request, replayed.
#[derive(Debug, Clone)]
pub struct Step {
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub context: BTreeMap<String, ContextValue>,
    /// The session tags the caller passed when its role session was made (a described role's
    /// trust policy allowing `sts:TagSession`); they override the role's tags.
    pub session_tags: BTreeMap<String, String>,
    /// The keys of `context` the estate works out itself from the principal and the resource
    /// (`aws:PrincipalArn`, a described role's `aws:PrincipalTag/*`...): the request says nothing
    /// by giving them, so reports leave them out. Every other key is printed, so that the step
    /// replays through `eval --spec` as printed.
    pub derived: BTreeSet<String>,
    pub decision: Decision,
    /// The statements that decided it (`policy statement N (Sid)`).
    pub explain: Vec<String>,
    /// For a denial, what was missing.
    pub note: Option<String>,
    pub resource_account: Option<String>,
}

/// The outcome of one property.
#[derive(Debug, Clone)]
pub struct PropertyResult {
    pub name: String,
    pub status: Status,
    pub elapsed_ms: u128,
    /// The refuting request chain (`none`, `all`, `no-new-access`) or the witness (`some`).
    pub chain: Vec<Step>,
    pub reason: Option<String>,
    /// Queries run.
    pub queries: usize,
    /// For a proof: the statements, conditions and guardrails it depends on (unsat cores).
    pub why: Vec<String>,
}

/// The kinds of principal a query can be about.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// A described role, any session.
    Role {
        account: String,
        name: String,
        path: String,
    },
    User {
        account: String,
        name: String,
        path: String,
    },
    Root {
        account: String,
    },
    /// A role of an account the estate does not describe (name and path free).
    OpenRole {
        account: String,
    },
    OpenUser {
        account: String,
    },
    /// A federated-user session of an undescribed account (name free).
    OpenFederated {
        account: String,
    },
    /// A service-linked role of an undescribed account (with `--service-linked-roles`): exempt
    /// from SCPs and RCPs. Name and path free, the name (its last segment) a service-linked role's
    /// as the engine reads a session's ([`slr_name_lang`]); `OpenRole` then holds the other names.
    OpenServiceLinkedRole {
        account: String,
    },
    /// A web identity or SAML identity provider's user (`AssumeRoleWithWebIdentity`/`WithSAML`).
    IdentityProvider {
        name: String,
    },
    Service {
        name: String,
    },
    Anonymous,
}

#[derive(Debug, Clone)]
struct Cand {
    kind: Kind,
    /// The chain of AssumeRole steps that reached this role session (empty for Q's own principals).
    chain: Vec<Step>,
    /// Q's principal selectors apply (false for sessions reached through a chain).
    selected: bool,
}

#[derive(Debug, Clone)]
enum Target {
    /// A described resource: ARN; `sub`: where the sub-resources its policy also governs start
    /// ([`sub_prefix`]: a bucket's objects, a table's indexes).
    Described {
        arn: String,
        sub: Option<String>,
        account: String,
    },
    /// Resources the estate does not describe: in `account`, or (`None`) in the account of Q's
    /// ARNs when they name one, else the caller's own (the most permissive choice).
    Undescribed { account: Option<String> },
}

/// Everything mentioned in the estate and the property.
struct World<'s> {
    spec: &'s Spec,
    org_accounts: BTreeSet<String>,
    org_id: Option<String>,
    /// Accounts mentioned anywhere but not described, then one per class of the others that the
    /// policies' account patterns tell apart, the fresh account (standing for the rest) last.
    open_accounts: Vec<String>,
    /// Why the open world misses some principals (the account classes could not be enumerated):
    /// no property over it is `proved`.
    incomplete: Option<String>,
    services: Vec<String>,
    idps: Vec<String>,
    service_linked_roles: bool,
    /// Described resources (and roles, for `sts:AssumeRole*`) by ARN: their policy.
    policies: std::collections::HashMap<String, Option<&'s Policy>>,
}

/// The `sts:AssumeRole*` actions, as a property names them.
const ASSUME_ROLE_ACTION_NAMES: [&str; 3] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
];

/// Identity providers nobody names (a `"*"` principal admits their users).
const OPEN_IDPS: [&str; 2] = [
    "arn:aws:iam::100000000000:oidc-provider/xverify.invalid",
    "arn:aws:iam::100000000000:saml-provider/xverify",
];

/// Most accounts tried for the classes of unmentioned accounts that patterns tell apart.
const MAX_PATTERN_ACCOUNTS: usize = 32;

/// Services that only a pattern on aws:PrincipalServiceName(sList) tells apart from the named ones
/// (`logging.s3.*`): one per class of service names the patterns induce that no service already
/// tried falls in (a service principal holds a `.` and is lower-case).
fn add_pattern_services(globs: &[String], services: &mut Vec<String>) -> Result<(), String> {
    if globs.is_empty() {
        return Ok(());
    }
    let langs: Vec<Lang> = globs
        .iter()
        .map(|g| Lang::single(Pattern::glob(g, false)))
        .collect();
    let sig = |s: &str| -> Vec<bool> { langs.iter().map(|l| l.matches(s)).collect() };
    let domain = Lang::single(Pattern::glob("*.*", false));
    let cs = crate::classes::classes(&langs, Some(&domain), &crate::classes::Limits::default())
        .map_err(|e| format!("service name patterns: {e}"))?;
    for c in cs {
        if services.iter().any(|s| sig(s) == c.sig) {
            continue;
        }
        let w = c.witness.to_lowercase();
        // A class only an upper-case or blank name reaches holds no service principal.
        if sig(&w) == c.sig && !w.contains(char::is_whitespace) && w.contains('.') {
            services.push(w);
        }
    }
    Ok(())
}

/// A value that reaches a condition through a policy variable (a tag, the property's context):
/// the accounts it names, its account patterns, and the service it names.
fn scan_value(
    v: &str,
    accounts: &mut BTreeSet<String>,
    globs: &mut BTreeSet<String>,
    services: &mut BTreeSet<String>,
) {
    for w in v.split(|c: char| !c.is_ascii_digit()) {
        if is_account_id(w) {
            accounts.insert(w.to_string());
        }
    }
    crate::accounts::add_globs(v, globs);
    let lc = v.to_ascii_lowercase();
    if (lc.ends_with(".amazonaws.com") || lc.ends_with(".amazonaws.com.cn"))
        && !lc.contains(['*', '?', '$', ' ', ':', '/'])
    {
        services.insert(lc);
    }
}

fn scan_policy(
    p: &Policy,
    accounts: &mut BTreeSet<String>,
    globs: &mut BTreeSet<String>,
    thresholds: &mut BTreeSet<u64>,
    services: &mut BTreeSet<String>,
    idps: &mut BTreeSet<String>,
) {
    let add_str = |s: &str, accounts: &mut BTreeSet<String>| {
        for w in s.split(|c: char| !c.is_ascii_digit()) {
            if is_account_id(w) {
                accounts.insert(w.to_string());
            }
        }
    };
    for st in p.statements() {
        if let Some(pe) = &st.principal {
            for e in &pe.set.aws {
                add_str(&e.to_policy_string(), accounts);
            }
            for s in &pe.set.service {
                services.insert(s.to_ascii_lowercase());
            }
            for f in &pe.set.federated {
                idps.insert(f.clone());
            }
            // `"*"` (or a NotPrincipal) admits every identity provider's federated users: one
            // provider nobody names, of each kind, stands for them.
            if pe.not || pe.set.bare_star || pe.set.aws.contains(&AwsPrincipalRef::Any) {
                for p in OPEN_IDPS {
                    idps.insert(p.to_string());
                }
            }
        }
        for c in &st.conditions {
            // An ordering test on the caller's account (a root's aws:userid is its account).
            if matches!(
                c.key_lc.as_str(),
                "aws:principalaccount" | "aws:userid" | "kms:calleraccount"
            ) {
                match &c.values {
                    CondValues::Numbers(ns) => crate::accounts::add_thresholds(ns, &[], thresholds),
                    CondValues::Dates(ds) => crate::accounts::add_thresholds(&[], ds, thresholds),
                    _ => {}
                }
            }
            for v in &c.raw {
                add_str(v, accounts);
                crate::accounts::add_globs(v, globs);
            }
            // A service a condition names (`"*"` narrowed to it): one more caller to try. A
            // pattern (`logging.s3.*`) is kept as such: `World::new` gives it callers.
            if matches!(
                c.key_lc.as_str(),
                "aws:principalservicename" | "aws:principalservicenameslist"
            ) {
                for v in &c.raw {
                    if !v.is_empty() && !v.contains('$') {
                        services.insert(v.to_ascii_lowercase());
                    }
                }
            }
        }
        if let Some(r) = &st.resource {
            for t in &r.patterns {
                add_str(t.source(), accounts);
            }
        }
    }
}

impl<'s> World<'s> {
    fn new(spec: &'s Spec, extra: &[&Spec], prop: Option<&Property>) -> World<'s> {
        let mut accounts = BTreeSet::new();
        let mut globs = BTreeSet::new();
        let mut thresholds = BTreeSet::new();
        let mut services = BTreeSet::new();
        let mut idps = BTreeSet::new();
        let mut org_accounts = BTreeSet::new();
        let mut org_id = None;
        for s in std::iter::once(spec).chain(extra.iter().copied()) {
            let e = &s.estate;
            if let Some(o) = &e.organization {
                org_id = Some(o.id.clone());
                for a in o.root.all_accounts() {
                    org_accounts.insert(a.to_string());
                    accounts.insert(a.to_string());
                }
            }
            for_each_policy(e, &mut |p| {
                scan_policy(
                    p,
                    &mut accounts,
                    &mut globs,
                    &mut thresholds,
                    &mut services,
                    &mut idps,
                )
            });
            for a in e.accounts.keys() {
                accounts.insert(a.clone());
            }
            // Values a policy variable may bring into a condition (`${aws:ResourceTag/partner}`):
            // the tags of roles, users and resources.
            for a in e.accounts.values() {
                let tags = a
                    .roles
                    .values()
                    .flat_map(|r| r.tags.values())
                    .chain(a.users.values().flat_map(|u| u.tags.values()))
                    .chain(a.resources.values().flat_map(|r| r.tags.values()));
                for v in tags {
                    scan_value(v, &mut accounts, &mut globs, &mut services);
                }
            }
        }
        if let Some(p) = prop {
            // The property's own context, likewise.
            for v in p.context.values().flatten() {
                for v in v.values() {
                    scan_value(v, &mut accounts, &mut globs, &mut services);
                }
            }
        }
        if let Some(p) = prop {
            for s in &p.principals {
                match s {
                    Selector::Accounts(l) | Selector::NotAccounts(l) => {
                        accounts.extend(l.iter().cloned())
                    }
                    Selector::Service(s) => {
                        services.insert(s.to_ascii_lowercase());
                    }
                    Selector::Arns(l) | Selector::NotArns(l) => {
                        for a in l {
                            crate::accounts::add_globs(a, &mut globs);
                            for w in a.split(':') {
                                if is_account_id(w) {
                                    accounts.insert(w.to_string());
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            for r in &p.resources {
                for w in r.split(':') {
                    if is_account_id(w) {
                        accounts.insert(w.to_string());
                    }
                }
            }
        }
        // One fresh account stands for every account nobody mentions.
        let mut fresh = 100_000_000_000u64;
        while accounts.contains(&fresh.to_string()) {
            fresh += 1;
        }
        let mut open: Vec<String> = accounts
            .iter()
            .filter(|a| !spec.estate.accounts.contains_key(*a))
            .cloned()
            .collect();
        // Accounts nobody mentions that a pattern tells apart: one per class (the fresh one last).
        let mut incomplete = None;
        match crate::accounts::representatives(
            &globs,
            &thresholds,
            &accounts,
            &fresh.to_string(),
            1_000_000,
            MAX_PATTERN_ACCOUNTS,
        ) {
            Ok(reps) => open.extend(reps),
            Err(e) => {
                open.push(fresh.to_string());
                incomplete = Some(e.0);
            }
        }
        let (service_globs, names): (Vec<String>, Vec<String>) =
            services.into_iter().partition(|s| s.contains(['*', '?']));
        let mut services = names;
        services.push("xverify-any-service.amazonaws.com".to_string());
        if let Err(e) = add_pattern_services(&service_globs, &mut services) {
            incomplete.get_or_insert(e);
        }
        World {
            spec,
            org_accounts,
            org_id,
            open_accounts: open,
            incomplete,
            services,
            idps: idps.into_iter().collect(),
            service_linked_roles: false,
            policies: spec
                .estate
                .accounts
                .iter()
                .flat_map(|(id, a)| {
                    a.roles
                        .values()
                        .map(move |r| (role_arn(id, r), r.trust_policy.as_ref()))
                        .chain(
                            a.resources
                                .iter()
                                .map(|(arn, r)| (arn.clone(), r.policy.as_ref())),
                        )
                })
                .collect(),
        }
    }

    fn estate(&self) -> &Estate {
        &self.spec.estate
    }

    fn in_org(&self, a: &str) -> bool {
        self.org_accounts.contains(a)
    }

    fn kinds(&self) -> Vec<Kind> {
        let mut out = Vec::new();
        for (id, a) in &self.estate().accounts {
            for r in a.roles.values() {
                out.push(Kind::Role {
                    account: id.clone(),
                    name: r.name.clone(),
                    path: r.path.clone(),
                });
            }
            for u in a.users.values() {
                out.push(Kind::User {
                    account: id.clone(),
                    name: u.name.clone(),
                    path: u.path.clone(),
                });
            }
            out.push(Kind::Root {
                account: id.clone(),
            });
        }
        for a in &self.open_accounts {
            out.push(Kind::OpenRole { account: a.clone() });
            out.push(Kind::OpenUser { account: a.clone() });
            out.push(Kind::OpenFederated { account: a.clone() });
            if self.service_linked_roles {
                out.push(Kind::OpenServiceLinkedRole { account: a.clone() });
            }
            out.push(Kind::Root { account: a.clone() });
        }
        for s in &self.services {
            out.push(Kind::Service { name: s.clone() });
        }
        for i in &self.idps {
            out.push(Kind::IdentityProvider { name: i.clone() });
        }
        out.push(Kind::Anonymous);
        out
    }
}

fn for_each_policy(e: &Estate, f: &mut dyn FnMut(&Policy)) {
    if let Some(o) = &e.organization {
        let mut stack = vec![&o.root];
        while let Some(u) = stack.pop() {
            for p in u.scps.iter().flatten().chain(u.rcps.iter()) {
                f(p);
            }
            stack.extend(u.units.iter());
        }
    }
    for a in e.accounts.values() {
        for p in a.scps.iter().flatten().chain(a.rcps.iter()) {
            f(p);
        }
        for r in a.roles.values() {
            for p in r
                .trust_policy
                .iter()
                .chain(r.policies.iter())
                .chain(r.permissions_boundary.iter())
            {
                f(p);
            }
        }
        for u in a.users.values() {
            for p in u.policies.iter().chain(u.permissions_boundary.iter()) {
                f(p);
            }
        }
        for g in a.groups.values() {
            for p in &g.policies {
                f(p);
            }
        }
        for r in a.resources.values() {
            if let Some(p) = &r.policy {
                f(p);
            }
        }
    }
}

fn kind_account(k: &Kind) -> Option<&str> {
    match k {
        Kind::Role { account, .. }
        | Kind::User { account, .. }
        | Kind::Root { account }
        | Kind::OpenRole { account }
        | Kind::OpenUser { account }
        | Kind::OpenFederated { account }
        | Kind::OpenServiceLinkedRole { account } => Some(account),
        _ => None,
    }
}

/// Resource targets meeting Q's resource patterns.
fn targets(w: &World<'_>, resources: &[String]) -> Vec<Target> {
    let ql = q_resource_lang(resources);
    let meets = |l: &Lang| -> bool {
        // Does some string lie in both? Classes of [ql, l] include a sig (true, true)?
        crate::classes::classes(
            &[ql.clone(), l.clone()],
            None,
            &crate::classes::Limits {
                max_states: 100_000,
            },
        )
        .map(|cs| cs.iter().any(|c| c.sig == [true, true]))
        .unwrap_or(true)
    };
    let mut out = Vec::new();
    for (id, a) in &w.estate().accounts {
        for r in a.roles.values() {
            let arn = role_arn(id, r);
            if meets(&Lang::single(Pattern::literal(&arn, false))) {
                out.push(Target::Described {
                    arn,
                    sub: None,
                    account: id.clone(),
                });
            }
        }
        for arn in a.resources.keys() {
            let sub = sub_prefix(arn);
            let mut l = Lang::single(Pattern::literal(arn, false));
            if let Some(prefix) = &sub {
                let mut p = Pattern::literal(prefix, false);
                p.atoms.push(Atom::Star);
                l.alts.push(p);
            }
            if meets(&l) {
                out.push(Target::Described {
                    arn: arn.clone(),
                    sub,
                    account: id.clone(),
                });
            }
        }
    }
    out.push(Target::Undescribed { account: None });
    out
}

/// The targets of a search for a denied request (`all`): an undescribed resource is searched in
/// other accounts too (no resource policy: a cross-account request is denied), every account Q's
/// ARNs name and two nobody names (one of them is not the caller's).
fn targets_for_denial(w: &World<'_>, resources: &[String]) -> Vec<Target> {
    let mut out = targets(w, resources);
    let mut accounts: BTreeSet<String> = resources
        .iter()
        .filter_map(|r| xverify_engine::pattern::split_arn(r).map(|p| p[4].to_string()))
        .filter(|a| is_account_id(a))
        .collect();
    accounts.insert("100000000000".into());
    accounts.insert("100000000001".into());
    for a in accounts {
        out.push(Target::Undescribed { account: Some(a) });
    }
    out
}

/// Where a described resource's sub-resources start, when the engine applies its policy to them
/// too (`Estate`'s resource lookup): a bucket's objects (`bucket/…`), a DynamoDB table's indexes
/// (`table/T/index/…`).
fn sub_prefix(arn: &str) -> Option<String> {
    // As the estate looks an object's bucket up: any `s3` ARN, whatever its partition, region
    // and account fields.
    let parts = xverify_engine::pattern::split_arn(arn)?;
    let res = parts[5];
    if parts[2] == "s3" && !res.contains('/') {
        return Some(format!("{arn}/"));
    }
    (parts[2] == "dynamodb" && res.starts_with("table/") && !res["table/".len()..].contains('/'))
        .then(|| format!("{arn}/index/"))
}

/// Langs of every described resource (and bucket object space), to keep the undescribed target apart.
fn described_langs(w: &World<'_>) -> Vec<Lang> {
    let mut out = Vec::new();
    for (id, a) in &w.estate().accounts {
        for r in a.roles.values() {
            out.push(Lang::single(Pattern::literal(&role_arn(id, r), false)));
        }
        for arn in a.resources.keys() {
            out.push(Lang::single(Pattern::literal(arn, false)));
            if let Some(prefix) = sub_prefix(arn) {
                let mut p = Pattern::literal(&prefix, false);
                p.atoms.push(Atom::Star);
                out.push(Lang::single(p));
            }
        }
    }
    out
}

/// A property's resource patterns. An ARN pattern is matched segment by segment, as `ArnLike`
/// does: in `arn:aws:dynamodb:*:2*:table/*` the `*` of the region never runs into the account.
/// Anything else (`*`) is a plain glob.
pub fn q_resource_lang(patterns: &[String]) -> Lang {
    let alts = patterns
        .iter()
        .map(|p| {
            let parts: Vec<&str> = p.splitn(6, ':').collect();
            if parts.len() < 6 || parts[0] != "arn" {
                return Pattern::glob(p, false);
            }
            let mut atoms = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    atoms.push(Atom::Char(':'));
                }
                for c in part.chars() {
                    atoms.push(match (c, i < 5) {
                        ('*', true) => Atom::StarNot(':'),
                        ('?', true) => Atom::AnyNot(':'),
                        ('*', false) => Atom::Star,
                        ('?', false) => Atom::Any,
                        (c, _) => Atom::Char(c),
                    });
                }
            }
            Pattern { atoms, ci: false }
        })
        .collect();
    Lang { alts }
}

/// A role ARN, a user ARN, or the account part tested by a selector pattern.
fn glob_lang(patterns: &[String]) -> Lang {
    Lang {
        alts: patterns.iter().map(|p| Pattern::glob(p, false)).collect(),
    }
}

/// A query under construction: the symbolic request and how to read a model back.
struct Query {
    sym: Sym,
    set: PolicySet,
    /// Variables of the principal's free parts.
    name_var: Option<usize>,
    session_var: Option<usize>,
    /// A role session's unique role ID (`AROA...`), the head of its `aws:userid`.
    role_id_var: Option<usize>,
    kind: Kind,
    target_account: Option<String>,
    /// The statements of `set` naming a `CanonicalUser` ([`member_query`]).
    canonical: Vec<CanonicalStatement>,
}

/// The name of the representative service-linked role (its free name is the query's).
const SLR_NAME: &str = "AWSServiceRoleForXverify";

/// The role names (path and name after `role/`, as an open role's name variable holds them) the
/// engine takes for a service-linked role's when it decides one of its sessions: the last segment
/// starts with `AWSServiceRoleFor` (`Principal::is_service_linked_role`; a session ARN carries no
/// path, so the path does not count).
fn slr_name_lang() -> Lang {
    let prefix = || SERVICE_LINKED_ROLE_PREFIX.chars().map(Atom::Char);
    let mut in_path = vec![Atom::Star, Atom::Char('/')];
    in_path.extend(prefix());
    in_path.push(Atom::StarNot('/'));
    let mut bare: Vec<Atom> = prefix().collect();
    bare.push(Atom::StarNot('/'));
    Lang {
        alts: vec![
            Pattern {
                atoms: bare,
                ci: false,
            },
            Pattern {
                atoms: in_path,
                ci: false,
            },
        ],
    }
}

const FIXED_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:principalisawsservice",
    "aws:username",
    "aws:principalservicename",
    "aws:resourceaccount",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "aws:principalorgid",
    "aws:principalorgpaths",
    // Set by the estate on KMS requests only: the encoding ties it to the action
    // (`encode::cond_formula`).
    "kms:calleraccount",
];

impl Kind {
    /// The concrete principal of this kind: `session` names a role session; `name` is an open
    /// kind's `path/name` (a placeholder per kind when `None`).
    fn principal(&self, session: String, name: Option<String>) -> Principal {
        let open = |default: &str| name.clone().unwrap_or_else(|| default.to_string());
        match self {
            Kind::Role { account, name, .. } => Principal::AssumedRole {
                partition: "aws".into(),
                account: account.clone(),
                role: name.clone(),
                session,
            },
            Kind::OpenRole { account } => {
                let pn = open("role");
                Principal::AssumedRole {
                    partition: "aws".into(),
                    account: account.clone(),
                    role: pn.rsplit('/').next().unwrap_or(&pn).to_string(),
                    session,
                }
            }
            Kind::OpenUser { account } => {
                let pn = open("user");
                let (path, name) = match pn.rfind('/') {
                    Some(i) => (format!("/{}", &pn[..=i]), pn[i + 1..].to_string()),
                    None => ("/".to_string(), pn.clone()),
                };
                Principal::User {
                    partition: "aws".into(),
                    account: account.clone(),
                    path,
                    name,
                }
            }
            Kind::User {
                account,
                name,
                path,
            } => Principal::User {
                partition: "aws".into(),
                account: account.clone(),
                path: path.clone(),
                name: name.clone(),
            },
            Kind::Root { account } => Principal::Root {
                partition: "aws".into(),
                account: account.clone(),
            },
            Kind::OpenFederated { account } => Principal::FederatedUser {
                partition: "aws".into(),
                account: account.clone(),
                name: open("federated"),
            },
            Kind::OpenServiceLinkedRole { account } => {
                let pn = open(SLR_NAME);
                Principal::AssumedRole {
                    partition: "aws".into(),
                    account: account.clone(),
                    role: pn.rsplit('/').next().unwrap_or(&pn).to_string(),
                    session,
                }
            }
            Kind::Service { name } => Principal::Service(name.clone()),
            Kind::IdentityProvider { name } => {
                Principal::parse(name).unwrap_or_else(|_| Principal::IdentityProvider(name.clone()))
            }
            Kind::Anonymous => Principal::Anonymous,
        }
    }
}

/// Build the query for one principal kind and one target (`ask.want_allow` is the caller's).
fn build(
    w: &World<'_>,
    kind: &Kind,
    selected: bool,
    target: &Target,
    ask: &Ask<'_>,
) -> Result<Option<Query>, Unsupported> {
    let Ask {
        actions: prop_actions,
        resources: prop_resources,
        context: prop_context,
        selectors,
        ..
    } = *ask;
    // A representative concrete principal and resource, to gather the policies that apply.
    let rep_name = match kind {
        Kind::OpenServiceLinkedRole { .. } => SLR_NAME,
        _ => "xverify-open-world",
    };
    let rep_principal = kind.principal("xverify".into(), Some(rep_name.into()));
    let rep_resource = match target {
        Target::Described { arn, sub, .. } => match sub {
            Some(prefix) => format!("{prefix}xverify"),
            None => arn.clone(),
        },
        Target::Undescribed { .. } => "arn:aws:xverify:::undescribed".to_string(),
    };
    let resource_account = target_account(kind, target, prop_resources);
    // Selector filtering of the kind itself.
    if selected {
        for s in selectors {
            if !kind_may_match(w, kind, s, resource_account.as_deref()) {
                return Ok(None);
            }
        }
    }
    // A role's trust policy is gathered for the AssumeRole family; the formula gates it by action.
    let rep_action = if rep_resource.starts_with("arn:aws:iam::") && rep_resource.contains(":role/")
    {
        "sts:AssumeRole"
    } else {
        "xverify:Representative"
    };
    let mut er = EstateRequest::new(rep_principal.clone(), rep_action, &rep_resource);
    er.resource_account = resource_account.clone();
    let (set, fixed_req) = match gather_representative(w.estate(), er) {
        Ok(x) => x,
        Err(_) => return Ok(None),
    };
    // The fixed context: what the estate set, plus Q's fixed keys.
    let mut fixed_ctx = fixed_req.context.clone();
    let mut fixed_keys: BTreeSet<String> = FIXED_KEYS.iter().map(|s| s.to_string()).collect();
    // Keys whose value follows from a free name (an open principal's ARN...), or that the
    // request chooses although they follow from the principal (a role's session tags, another
    // organization's ID, KMS's caller account on KMS actions only): Q may not pin them here.
    let open_name = matches!(
        kind,
        Kind::OpenRole { .. }
            | Kind::OpenServiceLinkedRole { .. }
            | Kind::OpenFederated { .. }
            | Kind::OpenUser { .. }
    );
    let outside_org = kind_account(kind).is_some_and(|a| !w.in_org(a));
    let free_tags =
        matches!(kind, Kind::Role { account, name, .. } if session_tags_allowed(w, account, name));
    for (k, v) in prop_context {
        let lc = k.to_ascii_lowercase();
        if lc == "aws:userid"
            && matches!(
                kind,
                Kind::Role { .. } | Kind::OpenRole { .. } | Kind::OpenServiceLinkedRole { .. }
            )
        {
            return Err(Unsupported(format!(
                "the property's context gives {k}, which follows from a role session's unique ID and name, not fixed for {}",
                kind_label(kind)
            )));
        }
        let tag = lc.starts_with("aws:principaltag/");
        let estate_decides = fixed_keys.contains(&lc)
            || tag && matches!(kind, Kind::Role { .. } | Kind::User { .. })
            || lc == "aws:userid" && matches!(kind, Kind::Root { .. });
        if estate_decides {
            // The estate decides these: Q's value selects the principals that have it (audit 7,
            // bug 1: it was ignored, and a request with another value was a witness).
            let symbolic = open_name
                && matches!(lc.as_str(), "aws:principalarn" | "aws:userid" | "aws:username")
                || outside_org
                    && matches!(lc.as_str(), "aws:principalorgid" | "aws:principalorgpaths")
                || tag && free_tags
                || lc == "kms:calleraccount"
                // The undescribed target's account is a stand-in (the caller's own).
                || lc.starts_with("aws:resource")
                    && matches!(target, Target::Undescribed { account: None });
            if symbolic {
                return Err(Unsupported(format!(
                    "the property's context gives {k}, which follows from the principal and is not fixed for {}",
                    kind_label(kind)
                )));
            }
            let values = |c: Option<&ContextValue>| c.map(|c| c.values().to_vec());
            if values(fixed_req.context.get(&lc)) != values(v.as_ref()) {
                return Ok(None);
            }
            continue;
        }
        match v {
            Some(v) => fixed_ctx.insert(k, v.clone()),
            None => fixed_ctx.remove(k),
        }
        fixed_keys.insert(lc);
    }
    let fixed = Request::new(
        rep_principal.clone(),
        rep_action,
        &rep_resource,
        resource_account.clone(),
        fixed_ctx,
    );

    let mut name_var = None;
    let mut session_var = None;
    let mut role_id_var = None;
    let principal = match kind {
        Kind::Role {
            account,
            name,
            path,
        } => SymPrincipal::RoleSession {
            partition: "aws".into(),
            account: account.clone(),
            name: Ok((path.clone(), name.clone())),
            session: 0,
            // As the engine decides for any session of the role (`rep_principal` is one).
            service_linked: rep_principal.is_service_linked_role(),
        },
        Kind::OpenRole { account } => SymPrincipal::RoleSession {
            partition: "aws".into(),
            account: account.clone(),
            name: Err(0),
            session: 0,
            service_linked: false,
        },
        Kind::OpenUser { account } => SymPrincipal::OpenUser {
            partition: "aws".into(),
            account: account.clone(),
            path_name: 0,
        },
        Kind::OpenFederated { account } => SymPrincipal::OpenFederated {
            partition: "aws".into(),
            account: account.clone(),
            name: 0,
        },
        Kind::OpenServiceLinkedRole { account } => SymPrincipal::RoleSession {
            partition: "aws".into(),
            account: account.clone(),
            name: Err(0),
            session: 0,
            service_linked: true,
        },
        _ => SymPrincipal::Concrete(rep_principal.clone()),
    };
    let mut sym = Sym::new(principal, fixed, resource_account.clone());
    // Create the principal's free variables now that the Sym exists.
    match kind {
        Kind::Role { .. } | Kind::OpenRole { .. } | Kind::OpenServiceLinkedRole { .. } => {
            let sv = sym.new_var("session");
            session_var = Some(sv);
            if matches!(
                kind,
                Kind::OpenRole { .. } | Kind::OpenServiceLinkedRole { .. }
            ) {
                name_var = Some(sym.new_var("role"));
            }
            if let SymPrincipal::RoleSession { name, session, .. } = &mut sym.principal {
                *session = sv;
                if let (Err(v), Some(n)) = (name, name_var) {
                    *v = n;
                }
            }
            // `aws:userid` is the role's unique ID and the session name (corpus/DECISIONS.md 35;
            // audit 8, bug 2: it was free, or absent).
            let id = sym.new_var("role id");
            role_id_var = Some(id);
            let mut atoms: Vec<Atom> = "AROA".chars().map(Atom::Char).collect();
            atoms.extend([Atom::AnyNot(':'), Atom::StarNot(':')]);
            let f = sym.test(id, Lang::single(Pattern { atoms, ci: false }));
            sym.constraints.push(f);
            sym.sources
                .insert("aws:userid".into(), Source::Joined { id, session: sv });
        }
        Kind::OpenUser { .. } => {
            let n = sym.new_var("user");
            name_var = Some(n);
            if let SymPrincipal::OpenUser { path_name, .. } = &mut sym.principal {
                *path_name = n;
            }
        }
        Kind::OpenFederated { .. } => {
            let n = sym.new_var("federated");
            name_var = Some(n);
            if let SymPrincipal::OpenFederated { name, .. } = &mut sym.principal {
                *name = n;
            }
        }
        _ => {}
    }
    for k in &fixed_keys {
        sym.sources.insert(k.clone(), Source::Fixed);
    }
    // A root user's aws:userid is its account ID: the estate sets it.
    if matches!(kind, Kind::Root { .. }) {
        sym.sources.insert("aws:userid".into(), Source::Fixed);
    }
    let estate_knows_tags = match kind {
        Kind::Role { account, name, .. } => !session_tags_allowed(w, account, name),
        Kind::User { .. } | Kind::Root { .. } => true,
        _ => false,
    };
    if estate_knows_tags {
        sym.fixed_prefixes.push("aws:principaltag/".into());
    }
    if matches!(target, Target::Described { .. }) {
        sym.fixed_prefixes.push("aws:resourcetag/".into());
    }
    // The open world: names free, ARN and user name derived from them.
    if let Some(n) = name_var {
        let acct = kind_account(kind).unwrap_or_default().to_string();
        match kind {
            Kind::OpenRole { .. } | Kind::OpenServiceLinkedRole { .. } => {
                sym.sources.insert(
                    "aws:principalarn".into(),
                    Source::Prefixed {
                        prefix: format!("arn:aws:iam::{acct}:role/"),
                        var: n,
                    },
                );
                // `aws:username` stays fixed: absent, as the estate leaves it for a role session
                // or a federated user (audit 6, bug 8: made free, a condition on it ended in an
                // internal error).
                // A role name (after an optional path): non-empty, no colon, not ending in '/'.
                let l = Lang::single(Pattern {
                    atoms: vec![Atom::StarNot(':'), Atom::AnyNot('/')],
                    ci: false,
                });
                let f = sym.test(n, l);
                sym.constraints.push(f);
                // Service-linked or not as the engine decides for the session the model replays
                // as: the service-linked kind holds those names, and the other open roles the
                // rest. Without --service-linked-roles there is no such kind: the open world then
                // holds no service-linked roles (DECISIONS 14), and no role of it has such a name
                // (audit 7, bug 2: one was printed, which the engine takes for service-linked).
                let slr = sym.test(n, slr_name_lang());
                if matches!(kind, Kind::OpenServiceLinkedRole { .. }) {
                    sym.constraints.push(slr);
                } else {
                    sym.constraints.push(F::not(slr));
                }
            }
            Kind::OpenFederated { .. } => {
                sym.sources.insert(
                    "aws:principalarn".into(),
                    Source::Prefixed {
                        prefix: format!("arn:aws:sts::{acct}:federated-user/"),
                        var: n,
                    },
                );
                sym.sources.insert(
                    "aws:userid".into(),
                    Source::Prefixed {
                        prefix: format!("{acct}:"),
                        var: n,
                    },
                );
                // `aws:username` stays fixed: absent, as the estate leaves it for a role session
                // or a federated user (audit 6, bug 8: made free, a condition on it ended in an
                // internal error).
                // A federated user name: at least two characters, no '/' or ':' (the rest of
                // GetFederationToken's rule: `sts_name_constraints`).
                let l = Lang::single(Pattern {
                    atoms: vec![Atom::AnyNot('/'), Atom::AnyNot('/'), Atom::StarNot('/')],
                    ci: false,
                });
                let f = sym.test(n, l);
                sym.constraints.push(f);
                let l = Lang::single(Pattern {
                    atoms: vec![Atom::StarNot(':')],
                    ci: false,
                });
                let f = sym.test(n, l);
                sym.constraints.push(f);
            }
            Kind::OpenUser { .. } => {
                sym.sources.insert(
                    "aws:principalarn".into(),
                    Source::Prefixed {
                        prefix: format!("arn:aws:iam::{acct}:user/"),
                        var: n,
                    },
                );
                sym.sources
                    .insert("aws:username".into(), Source::LastSegment { var: n });
                let l = Lang::single(Pattern {
                    atoms: vec![Atom::StarNot(':'), Atom::AnyNot('/')],
                    ci: false,
                });
                let f = sym.test(n, l);
                sym.constraints.push(f);
            }
            _ => {}
        }
    }
    if let Some(s) = session_var {
        // RoleSessionName: at least two characters, no '/' or ':' (the rest of STS's rule:
        // `sts_name_constraints`).
        let l = Lang::single(Pattern {
            atoms: vec![Atom::AnyNot('/'), Atom::AnyNot('/'), Atom::StarNot('/')],
            ci: false,
        });
        let f = sym.test(s, l);
        sym.constraints.push(f);
        let no_colon = Lang::single(Pattern {
            atoms: vec![Atom::StarNot(':')],
            ci: false,
        });
        let f = sym.test(s, no_colon);
        sym.constraints.push(f);
    }
    // Principals outside this organization cannot claim its ID.
    let acct = kind_account(kind).map(str::to_string);
    let outside_org = acct.as_deref().is_some_and(|a| !w.in_org(a));
    if outside_org {
        sym.sources
            .insert("aws:principalorgid".into(), Source::Free);
        sym.sources
            .insert("aws:principalorgpaths".into(), Source::Free);
    }
    // Q: actions and resources.
    let a = sym.action;
    let al = Lang {
        alts: prop_actions
            .iter()
            .map(|p| Pattern::glob(p, true))
            .collect(),
    };
    let fa = sym.test(a, al);
    sym.constraints.push(fa);
    let r = sym.resource;
    let fr = sym.test(r, q_resource_lang(prop_resources));
    sym.constraints.push(fr);
    match target {
        Target::Described { arn, sub, .. } => {
            let mut l = Lang::single(Pattern::literal(arn, false));
            if let Some(prefix) = sub {
                let mut p = Pattern::literal(prefix, false);
                p.atoms.push(Atom::Star);
                l.alts.push(p);
            }
            let f = sym.test(r, l);
            sym.constraints.push(f);
        }
        Target::Undescribed { .. } => {
            // Outside every described resource: one language, the union of theirs (the same
            // constraint as one negated test per resource, with one language on the variable).
            let union = Lang {
                alts: described_langs(w)
                    .into_iter()
                    .flat_map(|l| l.alts)
                    .collect(),
            };
            if !union.alts.is_empty() {
                let f = sym.test(r, union);
                sym.constraints.push(F::not(f));
            }
            // An ARN the engine places in the target's account: its account field is that
            // account, or is not an account ID at all (`arn:aws:route53:::hostedzone/Z`, an S3
            // ARN, `arn:aws:iam::aws:policy/…`), so the request's `resource_account` places it;
            // or `*`. A field of twelve characters that are not all digits is such a field too,
            // but a language cannot say "not all digits": where a pattern could single out such
            // a field, the property is unknown (`twelve_characters_not_an_account`).
            if let Some(acct) = &resource_account {
                let texts = set
                    .policies()
                    .flat_map(|p| p.statements().iter())
                    .flat_map(|st| st.resource.iter())
                    .flat_map(|e| e.patterns.iter())
                    .map(|t| t.source().to_string())
                    .chain(prop_resources.iter().cloned());
                for t in texts {
                    if twelve_characters_not_an_account(&t) {
                        return Err(Unsupported(format!(
                            "resource pattern {} may name an ARN whose account field is twelve characters that are not an account ID",
                            xverify_engine::json::quote(&t)
                        )));
                    }
                }
                // Or `*`, the resource of actions that take none (`ec2:DescribeInstances`).
                let mut alts = vec![
                    arn_in_account(None, acct),
                    arn_in_account(Some("s3"), ""),
                    Pattern::literal("*", false),
                ];
                // Account fields of every length but twelve.
                for n in (0..12).chain([13]) {
                    let mut p = arn_in_account(None, "");
                    let at = p.atoms.len() - 2;
                    let field = std::iter::repeat_n(Atom::AnyNot(':'), n);
                    let field: Vec<Atom> = if n == 13 {
                        field.chain([Atom::StarNot(':')]).collect()
                    } else {
                        field.collect()
                    };
                    p.atoms.splice(at..at, field);
                    alts.push(p);
                }
                let l = Lang { alts };
                let f = sym.test(r, l);
                sym.constraints.push(f);
            }
        }
    }
    Ok(Some(Query {
        sym,
        set,
        name_var,
        session_var,
        role_id_var,
        kind: kind.clone(),
        target_account: resource_account,
        canonical: vec![],
    }))
}

/// May whoever assumes this role pass session tags (does its trust policy allow `sts:TagSession`)?
/// Then the session's `aws:PrincipalTag/*` are the caller's choice.
fn session_tags_allowed(w: &World<'_>, account: &str, role: &str) -> bool {
    w.estate()
        .accounts
        .get(account)
        .and_then(|a| a.roles.get(role))
        .is_none_or(|r| r.may_tag_sessions())
}

/// May a request of this kind carry `aws:SourceIdentity` (corpus/DECISIONS.md 34)? Only a role
/// session, of a role whose trust policy allows `sts:SetSourceIdentity` (an undescribed
/// account's role may); never a user, a root user or a federated user.
fn source_identity_allowed(w: &World<'_>, kind: &Kind) -> bool {
    match kind {
        Kind::Role { account, name, .. } => w
            .estate()
            .accounts
            .get(account)
            .and_then(|a| a.roles.get(name))
            .is_none_or(|r| r.may_set_source_identity()),
        Kind::User { .. }
        | Kind::OpenUser { .. }
        | Kind::Root { .. }
        | Kind::OpenFederated { .. } => false,
        _ => true,
    }
}

/// Keep `aws:SourceIdentity` out of the requests of principals that cannot carry one
/// (`source_identity_allowed`; audit 8, bug 3: a session of a role that allows no
/// `sts:SetSourceIdentity` was a witness with one).
fn source_identity_constraints(w: &World<'_>, q: &mut Query) {
    const KEY: &str = "aws:sourceidentity";
    if !source_identity_allowed(w, &q.kind) {
        key_absent(q, KEY);
    }
}

/// Keep context key `key` (lower-case) out of the query's requests: a property's `context` that
/// gives it holds none of them; a free key the policies read is absent.
fn key_absent(q: &mut Query, key: &str) {
    if q.sym.source(key) == Source::Fixed {
        if q.sym.fixed.context.get(key).is_some() {
            q.sym.constraints.push(F::no());
        }
    } else if let Some(k) = q.sym.key_id(key) {
        q.sym.constraints.push(F::not(F::Present(k)));
    }
}

/// The free key `key` (lower-case), when the query's policies read it.
fn free_key(q: &Query, key: &str) -> Option<KeyId> {
    (q.sym.source(key) == Source::Free)
        .then(|| q.sym.key_id(key))
        .flatten()
}

/// Keep the source keys (`aws:SourceAccount`, `aws:SourceArn`, `aws:SourceOrgID`,
/// `aws:SourceOrgPaths`) out of every request but a service principal's: AWS sends them only when a
/// service calls for a resource (corpus/DECISIONS.md 37; audit 8, bug 7: a user was a witness
/// with `aws:SourceAccount`).
fn source_key_constraints(q: &mut Query) {
    if matches!(q.kind, Kind::Service { .. }) {
        return;
    }
    for (key, _) in SOURCE_KEYS {
        key_absent(q, key);
    }
}

/// The value type AWS gives a global key it sets itself.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AwsType {
    Bool,
    Date,
    /// `aws:EpochTime`: seconds, read with numeric or date operators.
    Epoch,
    Number,
    Ip,
}

/// Global keys AWS sets, with their type and whether every request carries them (IAM user guide,
/// "AWS global condition context keys": each key's Availability; corpus/DECISIONS.md 39).
const AWS_TYPED_KEYS: &[(&str, AwsType, bool)] = &[
    ("aws:securetransport", AwsType::Bool, true),
    ("aws:currenttime", AwsType::Date, true),
    ("aws:epochtime", AwsType::Epoch, true),
    ("aws:multifactorauthpresent", AwsType::Bool, false),
    ("aws:multifactorauthage", AwsType::Number, false),
    ("aws:tokenissuetime", AwsType::Date, false),
    ("aws:viaawsservice", AwsType::Bool, false),
    ("aws:sourceip", AwsType::Ip, false),
    ("aws:vpcsourceip", AwsType::Ip, false),
];

/// Keys every request carries whatever their type: `aws:RequestedRegion` besides the typed ones.
const ALWAYS_PRESENT_KEYS: &[&str] = &["aws:requestedregion"];

/// The keys AWS sets keep to what AWS sends (audit 9, bugs 1, 3 and 4): every request carries
/// `aws:SecureTransport`, `aws:CurrentTime`, `aws:EpochTime` and `aws:RequestedRegion`; a typed key
/// that is present holds a value of its type (`true`/`false`, a date, a number, an address), so
/// that no witness carries `aws:SecureTransport=""` past a pair of `Bool` denies. `aws:CurrentTime`
/// and `aws:EpochTime` are one clock, which the encoding does not tie: a query reading both is
/// unknown. Only keys the query reads are constrained (the others are not printed).
fn aws_key_constraints(q: &mut Query) -> Result<(), Unsupported> {
    if free_key(q, "aws:currenttime").is_some() && free_key(q, "aws:epochtime").is_some() {
        return Err(Unsupported(
            "aws:CurrentTime and aws:EpochTime read together: the prover does not tie the two clocks"
                .into(),
        ));
    }
    let typed = AWS_TYPED_KEYS
        .iter()
        .map(|&(k, t, always)| (k, Some(t), always));
    let untyped = ALWAYS_PRESENT_KEYS.iter().map(|&k| (k, None, true));
    for (key, ty, always) in typed.chain(untyped) {
        if q.sym.source(key) == Source::Fixed {
            if always && q.sym.fixed.context.get(key).is_none() {
                q.sym.constraints.push(F::no());
            }
            continue;
        }
        let Some(k) = q.sym.key_id(key) else {
            continue;
        };
        let family = q.sym.keys[k].family;
        let valid = match (ty, family) {
            (Some(AwsType::Bool), Family::Str) => {
                let var = q.sym.keys[k].var;
                var.map(|v| {
                    let l = Lang {
                        alts: vec![
                            Pattern::literal("true", false),
                            Pattern::literal("false", false),
                        ],
                    };
                    q.sym.test(v, l)
                })
            }
            (Some(AwsType::Number | AwsType::Epoch), Family::Num) => {
                Some(F::or2(F::Num(k, Cmp::Lt, 0), F::Num(k, Cmp::Ge, 0)))
            }
            (Some(AwsType::Date | AwsType::Epoch), Family::Date) => {
                Some(F::or2(F::Date(k, Cmp::Lt, 0), F::Date(k, Cmp::Ge, 0)))
            }
            (Some(AwsType::Ip), Family::Ip) => Some(F::or(
                ["0.0.0.0/0", "::/0"]
                    .iter()
                    .filter_map(|c| xverify_engine::pattern::Cidr::parse(c))
                    .map(|c| F::Ip(k, c))
                    .collect::<Vec<_>>(),
            )),
            // Read only for presence, or as text (a date key with `StringLike`): any value.
            _ => None,
        };
        let present = F::Present(k);
        let f = match (always, valid) {
            (true, Some(v)) => F::and2(present, v),
            (true, None) => present,
            (false, Some(v)) => F::or2(F::not(present), v),
            (false, None) => continue,
        };
        q.sym.constraints.push(f);
    }
    called_via_constraints(q)
}

/// `aws:CalledVia` lists the services that forwarded the call, in order; `aws:CalledViaFirst` and
/// `aws:CalledViaLast` are its first and last, present exactly when it is; and a call a service
/// forwarded has `aws:ViaAWSService` true (IAM user guide, "AWS global condition context keys";
/// corpus/DECISIONS.md 39; audit 9, bug 4). The encoding ties the presence of the three and
/// `aws:ViaAWSService` to them; it cannot say that a first or last value is a member of the list,
/// so a query that reads the list's values beside a first or last value is unknown.
fn called_via_constraints(q: &mut Query) -> Result<(), Unsupported> {
    let list = free_key(q, "aws:calledvia");
    let ends: Vec<KeyId> = ["aws:calledviafirst", "aws:calledvialast"]
        .iter()
        .filter_map(|k| free_key(q, k))
        .collect();
    let valued = |q: &Query, k: KeyId| q.sym.keys[k].var.is_some();
    if let Some(l) = list {
        if valued(q, l) && ends.iter().any(|&e| valued(q, e)) {
            return Err(Unsupported(
                "aws:CalledVia read beside aws:CalledViaFirst or aws:CalledViaLast: the prover does not tie the ends to the list's members"
                    .into(),
            ));
        }
    }
    let chain: Vec<KeyId> = list.into_iter().chain(ends).collect();
    // Present together: each as the first.
    for pair in chain.windows(2) {
        q.sym
            .constraints
            .push(F::iff(F::Present(pair[0]), F::Present(pair[1])));
    }
    if let (Some(&k), Some(via)) = (chain.first(), free_key(q, "aws:viaawsservice")) {
        if let Some(var) = q.sym.keys[via].var {
            let t = q
                .sym
                .test(var, Lang::single(Pattern::literal("true", false)));
            q.sym
                .constraints
                .push(F::or2(F::not(F::Present(k)), F::and2(F::Present(via), t)));
        } else if q.sym.keys[via].family == Family::Untyped {
            q.sym
                .constraints
                .push(F::or2(F::not(F::Present(k)), F::Present(via)));
        }
    }
    Ok(())
}

/// Does a selector's ARN language name a described role itself: its ARN with its path, or
/// without it (a role's name is unique in its account, corpus/DECISIONS.md 13)? Then every
/// session of the role is in the set.
fn role_arn_selected(l: &Lang, account: &str, path: &str, name: &str) -> bool {
    l.matches(&format!("arn:aws:iam::{account}:role{path}{name}"))
        || l.matches(&format!("arn:aws:iam::{account}:role/{name}"))
}

/// The sessions of a described role an ARN language names, as a language of session names.
fn role_sessions_selected(l: &Lang, account: &str, name: &str) -> Lang {
    crate::encode::derive_lang(l, &format!("arn:aws:sts::{account}:assumed-role/{name}/"))
}

/// The sessions of an open-world role (free name and session name) that an ARN language names:
/// `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`, where NAME is the role name's last segment
/// and neither part holds a `/`. The derived language over `NAME/SESSION` is split at each atom
/// that may consume the one `/`, into pairs of a language over the name variable (path and name:
/// the name may follow a path) and one over the session variable; the sessions named are the
/// union of the pairs.
fn open_role_sessions_selected(l: &Lang, account: &str) -> Vec<(Lang, Lang)> {
    let d = crate::encode::derive_lang(l, &format!("arn:aws:sts::{account}:assumed-role/"));
    // Within one segment: wildcards do not cross a `/`.
    let seg = |atoms: &[Atom]| -> Vec<Atom> {
        atoms
            .iter()
            .map(|a| match *a {
                Atom::Star => Atom::StarNot('/'),
                Atom::Any => Atom::AnyNot('/'),
                a => a,
            })
            .collect()
    };
    let mut out = Vec::new();
    for p in &d.alts {
        for (i, a) in p.atoms.iter().enumerate() {
            let (name, session) = match *a {
                Atom::Char('/') | Atom::Any => (seg(&p.atoms[..i]), seg(&p.atoms[i + 1..])),
                Atom::AnyNot(c) if c != '/' => (seg(&p.atoms[..i]), seg(&p.atoms[i + 1..])),
                Atom::Star => (seg(&p.atoms[..=i]), seg(&p.atoms[i..])),
                Atom::StarNot(c) if c != '/' => (seg(&p.atoms[..=i]), seg(&p.atoms[i..])),
                _ => continue,
            };
            // The one `/` between the name and the session is this atom's: a part that still
            // holds one is no role name (its last segment) or session name.
            if name.contains(&Atom::Char('/')) || session.contains(&Atom::Char('/')) {
                continue;
            }
            let mut after_path = vec![Atom::Star, Atom::Char('/')];
            after_path.extend(name.iter().copied());
            out.push((
                Lang {
                    alts: vec![
                        Pattern {
                            atoms: name,
                            ci: p.ci,
                        },
                        Pattern {
                            atoms: after_path,
                            ci: p.ci,
                        },
                    ],
                },
                Lang::single(Pattern {
                    atoms: session,
                    ci: p.ci,
                }),
            ));
        }
    }
    out
}

/// The account a query of `kind` on `target` places the resource in: a described resource's;
/// for the undescribed one, the account Q's resources name when they name one, else the caller's
/// own (the most permissive).
fn target_account(kind: &Kind, target: &Target, prop_resources: &[String]) -> Option<String> {
    match target {
        Target::Described { account, .. } => Some(account.clone()),
        Target::Undescribed { account: Some(a) } => Some(a.clone()),
        Target::Undescribed { account: None } => {
            let from_q: BTreeSet<String> = prop_resources
                .iter()
                .filter_map(|r| xverify_engine::pattern::split_arn(r).map(|p| p[4].to_string()))
                .collect();
            match (from_q.len(), from_q.iter().next()) {
                (1, Some(a)) if is_account_id(a) => Some(a.clone()),
                _ => kind_account(kind).map(str::to_string),
            }
        }
    }
}

/// Can a principal of this kind belong to the selector's set? (Symbolic parts are constrained later.)
fn kind_may_match(
    w: &World<'_>,
    kind: &Kind,
    s: &Selector,
    resource_account: Option<&str>,
) -> bool {
    let acct = kind_account(kind);
    match s {
        Selector::Anyone => true,
        Selector::Anonymous => matches!(kind, Kind::Anonymous),
        Selector::OutsideOrganization => match kind {
            Kind::Anonymous | Kind::Service { .. } | Kind::IdentityProvider { .. } => true,
            _ => acct.is_some_and(|a| !w.in_org(a)),
        },
        Selector::OutsideAccount => match kind {
            Kind::Anonymous | Kind::Service { .. } | Kind::IdentityProvider { .. } => true,
            _ => acct != resource_account,
        },
        // A service is in the account it acts for (`selector_constraints` ties its
        // aws:SourceAccount to the list), as `not_accounts` and `outside-*` read it.
        Selector::Accounts(l) => match kind {
            Kind::Service { .. } => true,
            _ => acct.is_some_and(|a| l.iter().any(|x| x == a)),
        },
        Selector::NotAccounts(l) => acct.is_none_or(|a| !l.iter().any(|x| x == a)),
        Selector::Service(name) => {
            matches!(kind, Kind::Service { name: n } if n.eq_ignore_ascii_case(name))
        }
        Selector::Arns(pats) => match kind {
            // The role, or some of its sessions (`selector_constraints` narrows the session).
            Kind::Role {
                account,
                name,
                path,
            } => {
                let l = glob_lang(pats);
                role_arn_selected(&l, account, path, name)
                    || !role_sessions_selected(&l, account, name).alts.is_empty()
            }
            Kind::User {
                account,
                name,
                path,
            } => glob_lang(pats).matches(&format!("arn:aws:iam::{account}:user{path}{name}")),
            Kind::Root { account } => {
                glob_lang(pats).matches(&format!("arn:aws:iam::{account}:root"))
            }
            // Open-world names are constrained symbolically.
            Kind::OpenRole { .. }
            | Kind::OpenServiceLinkedRole { .. }
            | Kind::OpenUser { .. }
            | Kind::OpenFederated { .. } => true,
            Kind::Service { name } | Kind::IdentityProvider { name } => {
                glob_lang(pats).matches(name)
            }
            Kind::Anonymous => false,
        },
        Selector::NotArns(pats) => match kind {
            // Sessions a pattern names are left out by `selector_constraints`.
            Kind::Role {
                account,
                name,
                path,
            } => !role_arn_selected(&glob_lang(pats), account, path, name),
            Kind::User {
                account,
                name,
                path,
            } => !glob_lang(pats).matches(&format!("arn:aws:iam::{account}:user{path}{name}")),
            Kind::Root { account } => {
                !glob_lang(pats).matches(&format!("arn:aws:iam::{account}:root"))
            }
            Kind::OpenRole { .. }
            | Kind::OpenServiceLinkedRole { .. }
            | Kind::OpenUser { .. }
            | Kind::OpenFederated { .. } => true,
            Kind::Service { name } | Kind::IdentityProvider { name } => {
                !glob_lang(pats).matches(name)
            }
            Kind::Anonymous => true,
        },
    }
}

/// Symbolic constraints of selectors on a kind's free parts (open-world names, service sources).
fn selector_constraints(
    w: &World<'_>,
    q: &mut Query,
    selectors: &[Selector],
) -> Result<(), Unsupported> {
    let acct = kind_account(&q.kind).unwrap_or_default().to_string();
    for s in selectors {
        match s {
            Selector::Arns(pats) | Selector::NotArns(pats) => {
                let positive = matches!(s, Selector::Arns(_));
                if let Some(n) = q.name_var {
                    let prefix = match q.kind {
                        Kind::OpenRole { .. } | Kind::OpenServiceLinkedRole { .. } => {
                            format!("arn:aws:iam::{acct}:role/")
                        }
                        Kind::OpenFederated { .. } => {
                            format!("arn:aws:sts::{acct}:federated-user/")
                        }
                        _ => format!("arn:aws:iam::{acct}:user/"),
                    };
                    let l = crate::encode::derive_lang(&glob_lang(pats), &prefix);
                    let mut f = q.sym.test(n, l);
                    // An open role is also named by the ARNs of its sessions.
                    if let (Kind::OpenRole { .. } | Kind::OpenServiceLinkedRole { .. }, Some(sv)) =
                        (&q.kind, q.session_var)
                    {
                        let mut any = vec![f];
                        for (nl, sl) in open_role_sessions_selected(&glob_lang(pats), &acct) {
                            let a = q.sym.test(n, nl);
                            let b = q.sym.test(sv, sl);
                            any.push(F::and2(a, b));
                        }
                        f = F::or(any);
                    }
                    q.sym.constraints.push(if positive { f } else { F::not(f) });
                } else if let (Some((account, path, name)), Some(sv)) = (
                    match &q.kind {
                        Kind::Role {
                            account,
                            name,
                            path,
                        } => Some((account.as_str(), path.as_str(), name.as_str())),
                        _ => None,
                    },
                    q.session_var,
                ) {
                    // A described role's sessions: all of them when the role itself is named,
                    // else those whose session ARN a pattern names.
                    let l = glob_lang(pats);
                    if !role_arn_selected(&l, account, path, name) {
                        let sessions = role_sessions_selected(&l, account, name);
                        let f = q.sym.test(sv, sessions);
                        q.sym.constraints.push(if positive { f } else { F::not(f) });
                    }
                }
            }
            Selector::OutsideOrganization | Selector::OutsideAccount | Selector::NotAccounts(_) => {
                if let Kind::Service { .. } = q.kind {
                    // A service acting for a source outside the set (or for no source).
                    let bad: Vec<String> = match s {
                        Selector::OutsideOrganization => w.org_accounts.iter().cloned().collect(),
                        Selector::OutsideAccount => q.target_account.iter().cloned().collect(),
                        Selector::NotAccounts(l) => l.clone(),
                        _ => vec![],
                    };
                    // None of them: one language, their union.
                    let f = acting_for(q, &bad)?;
                    q.sym.constraints.push(F::not(f));
                    if matches!(s, Selector::OutsideOrganization) {
                        if let Some(org) = &w.org_id {
                            let l = Lang::single(Pattern::literal(org, false));
                            let f = key_value_in(q, "aws:SourceOrgID", l, true)?;
                            q.sym.constraints.push(F::not(f));
                            let mut p = Pattern::literal(&format!("{org}/"), false);
                            p.atoms.push(Atom::Star);
                            let f = key_value_in(q, "aws:SourceOrgPaths", Lang::single(p), true)?;
                            q.sym.constraints.push(F::not(f));
                        }
                    }
                }
            }
            Selector::Accounts(l) => {
                if let Kind::Service { .. } = q.kind {
                    // A service acting for one of them (audit 7, bug 3: no service was in the
                    // set, while `not_accounts` left out those acting for the accounts it names).
                    let f = acting_for(q, l)?;
                    q.sym.constraints.push(f);
                }
            }
            Selector::Service(_) | Selector::Anyone | Selector::Anonymous => {}
        }
    }
    Ok(())
}

/// ARNs `arn:PARTITION:SERVICE:REGION:ACCT:…` of `service` (any when `None`) whose account field
/// is `acct` (empty for none), in any partition and region.
fn arn_in_account(service: Option<&str>, acct: &str) -> Pattern {
    let mut atoms: Vec<Atom> = "arn:".chars().map(Atom::Char).collect();
    atoms.push(Atom::StarNot(':'));
    atoms.push(Atom::Char(':'));
    match service {
        Some(svc) => atoms.extend(svc.chars().map(Atom::Char)),
        None => atoms.push(Atom::StarNot(':')),
    }
    atoms.push(Atom::Char(':'));
    atoms.push(Atom::StarNot(':'));
    atoms.push(Atom::Char(':'));
    atoms.extend(acct.chars().map(Atom::Char));
    atoms.push(Atom::Char(':'));
    atoms.push(Atom::Star);
    Pattern { atoms, ci: false }
}

/// Does a service act for one of `accounts`: its `aws:SourceAccount`, or the account of the
/// `aws:SourceArn` it acts for when a policy reads that key (AWS sends the two together, the
/// ARN's account field being the source account; audit 7, bug 5: a topic of a member account with
/// no `aws:SourceAccount` counted as an outsider).
fn acting_for(q: &mut Query, accounts: &[String]) -> Result<F, Unsupported> {
    let l = Lang {
        alts: accounts
            .iter()
            .map(|a| Pattern::literal(a, false))
            .collect(),
    };
    let by_account = key_value_in(q, "aws:SourceAccount", l, true)?;
    if q.sym.key_id("aws:SourceArn").is_none() {
        return Ok(by_account);
    }
    let l = Lang {
        alts: accounts.iter().map(|a| arn_in_account(None, a)).collect(),
    };
    let by_arn = key_value_in(q, "aws:SourceArn", l, true)?;
    Ok(F::or2(by_account, by_arn))
}

/// "`name` is present and one of its values is (`pos`) / is not in `lang`", whichever way the
/// query's policies read the key: with plain operators (or only for presence), its one value;
/// with set operators, a member of its set (audit 6, bug 1: a constraint written on the plain
/// value of a key read as a set bound nothing, and one the key's family refused was skipped).
/// The key is registered when no policy reads it, so that the request carries the value chosen.
/// `Err` (the property is then unknown) for a key read as a number, a date or an address.
fn key_value_in(q: &mut Query, name: &str, lang: Lang, pos: bool) -> Result<F, Unsupported> {
    use crate::encode::Family;
    let multi = q
        .sym
        .key_id(name)
        .is_some_and(|k| q.sym.keys[k].family == Family::Multi);
    let k = q
        .sym
        .key(name, if multi { Family::Multi } else { Family::Str })?;
    let Some(var) = q.sym.keys[k].var else {
        return Err(Unsupported(format!(
            "context key {name} has no string value"
        )));
    };
    if multi {
        let id = q.sym.lang(var, lang);
        return Ok(F::AnyIn(k, vec![id], pos));
    }
    let f = q.sym.test(var, lang);
    Ok(F::and2(F::Present(k), if pos { f } else { F::not(f) }))
}

/// Facts that hold whatever the selectors: an account outside the organization cannot claim its ID
/// or paths, and a service's source organization follows from its source account.
fn outsider_constraints(w: &World<'_>, q: &mut Query) -> Result<(), Unsupported> {
    let Some(org) = w.org_id.clone() else {
        return Ok(());
    };
    // Only keys some policy reads (registered): the others the request does not carry.
    let read = |q: &Query, name: &str| q.sym.key_id(name).is_some();
    if let Some(a) = kind_account(&q.kind) {
        if !w.in_org(a) {
            if read(q, "aws:PrincipalOrgID") {
                let l = Lang::single(Pattern::literal(&org, false));
                let f = key_value_in(q, "aws:PrincipalOrgID", l, true)?;
                q.sym.constraints.push(F::not(f));
            }
            if read(q, "aws:PrincipalOrgPaths") {
                // No value is a path of ours.
                let mut p = Pattern::literal(&format!("{org}/"), false);
                p.atoms.push(Atom::Star);
                let f = key_value_in(q, "aws:PrincipalOrgPaths", Lang::single(p), true)?;
                q.sym.constraints.push(F::not(f));
            }
        }
    }
    if let Kind::Service { .. } = &q.kind {
        if read(q, "aws:SourceAccount") && read(q, "aws:SourceOrgID") {
            let org_is = Lang::single(Pattern::literal(&org, false));
            // One of the organization's accounts: one language, their union.
            let in_org = Lang {
                alts: w
                    .org_accounts
                    .iter()
                    .map(|a| Pattern::literal(a, false))
                    .collect(),
            };
            let member = key_value_in(q, "aws:SourceAccount", in_org.clone(), true)?;
            let outsider = key_value_in(q, "aws:SourceAccount", in_org, false)?;
            // With a source account the estate derives the source's organization: a member's is
            // ours, an outsider's is not. Without one the service names it itself (free).
            let so_org = key_value_in(q, "aws:SourceOrgID", org_is, true)?;
            q.sym
                .constraints
                .push(F::or2(F::not(member), so_org.clone()));
            q.sym
                .constraints
                .push(F::or2(F::not(outsider), F::not(so_org)));
        }
        // The same for the source's OU path: a member's is its path in the organization (one
        // value), an outsider's is none of ours (audit 5, bug 8: the solver dodged a Deny on
        // aws:SourceOrgPaths that the estate's derived path meets, an "internal error" unknown).
        let sp = q.sym.key_id("aws:SourceOrgPaths");
        if let (true, Some(sp)) = (read(q, "aws:SourceAccount"), sp) {
            let Some(spv) = q.sym.keys[sp].var else {
                return Err(Unsupported(
                    "context key aws:SourceOrgPaths has no string value".into(),
                ));
            };
            let multi = q.sym.keys[sp].family == Family::Multi;
            let org_def = w.estate().organization.clone();
            let mut members = Vec::new();
            for a in w.org_accounts.clone() {
                let Some(path) = org_def.as_ref().and_then(|o| o.org_path(&a)) else {
                    continue;
                };
                let lit = Lang::single(Pattern::literal(&a, false));
                let is_a = key_value_in(q, "aws:SourceAccount", lit.clone(), true)?;
                members.push(lit);
                let path = Lang::single(Pattern::literal(&path, false));
                let exact = if multi {
                    let id = q.sym.lang(spv, path);
                    F::and(vec![
                        F::Present(sp),
                        F::AnyIn(sp, vec![id], true),
                        F::AllIn(sp, vec![id], true),
                    ])
                } else {
                    F::and(vec![
                        F::Present(sp),
                        q.sym.test(spv, path),
                        F::not(F::Many(sp)),
                    ])
                };
                q.sym.constraints.push(F::or2(F::not(is_a), exact));
            }
            let in_org = Lang {
                alts: members.into_iter().flat_map(|l| l.alts).collect(),
            };
            let outsider = key_value_in(q, "aws:SourceAccount", in_org, false)?;
            let mut ours = Pattern::literal(&format!("{org}/"), false);
            ours.atoms.push(Atom::Star);
            let none_ours = F::not(key_value_in(
                q,
                "aws:SourceOrgPaths",
                Lang::single(ours),
                true,
            )?);
            q.sym.constraints.push(F::or2(F::not(outsider), none_ours));
        }
    }
    Ok(())
}

/// What every request AWS sends keeps to, added once the query's policies have registered every
/// key they test: the names STS and IAM give, the `AssumeRole*` parameters, a role's own tags,
/// who carries a source identity, and `aws:TagKeys` beside the tags.
fn request_constraints(w: &World<'_>, q: &mut Query) -> Result<(), Unsupported> {
    sts_name_constraints(q);
    sts_parameter_constraints(q)?;
    own_tags_present(q);
    source_identity_constraints(w, q);
    source_key_constraints(q);
    aws_key_constraints(q)?;
    tag_keys_constraints(q)
}

/// The names STS gives: a role session's (`RoleSessionName`) is 2–64 characters, a federated
/// user's (`GetFederationToken`'s `Name`) 2–32, of `[A-Za-z0-9_+=,.@-]`; the estate refuses any
/// other (`Estate::residence`). `build` holds the free name to two characters and more, without
/// `/` or `:`; once every test of the query is registered, this adds the upper length and keeps
/// out every other character that a test names: a class of names is then one of those the policies
/// cannot tell from STS's names, and its witness (a shortest string, made of untested characters
/// where it can, `classes.rs`) is a name the estate takes. Untested characters are not excluded
/// (no pattern atom stands for the character set), so the language stays a superset of STS's
/// names: a proof covers every one of them.
fn sts_name_constraints(q: &mut Query) {
    let mut vars = Vec::new();
    if let Some(s) = q.session_var {
        vars.push((s, 64));
    }
    if let (Kind::OpenFederated { .. }, Some(n)) = (&q.kind, q.name_var) {
        vars.push((n, 32));
    }
    for (v, max) in vars {
        let bad = outside_sts_names(q, v, Some(max), 0, b"/:");
        let fs: Vec<F> = bad.into_iter().map(|l| F::not(q.sym.test(v, l))).collect();
        q.sym.constraints.extend(fs);
    }
    if let (
        Kind::OpenRole { .. } | Kind::OpenServiceLinkedRole { .. } | Kind::OpenUser { .. },
        Some(n),
    ) = (&q.kind, q.name_var)
    {
        let bad = outside_iam_names(q, n);
        let fs: Vec<F> = bad.into_iter().map(|l| F::not(q.sym.test(n, l))).collect();
        q.sym.constraints.extend(fs);
    }
}

/// Languages of an open role's or user's free `path/name` (what follows `role/` or `user/`)
/// that hold no name IAM gives (corpus/DECISIONS.md 33; audit 8, bug 5): a last segment of more
/// than 64 characters, or holding a character a test of `n` names that is not one of
/// `[A-Za-z0-9_+=,.@-]`; a named character outside printable ASCII anywhere. As in
/// [`outside_sts_names`], untested characters stay in: the complement is a superset of IAM's
/// names, and a class's witness is made of untested characters, which are name characters.
fn outside_iam_names(q: &Query, n: VarId) -> Vec<Lang> {
    let name_char = |c: char| c.is_ascii() && xverify_engine::estate::sts_name_byte(c as u8);
    let printable = |c: char| ('!'..='~').contains(&c);
    let p = |atoms: Vec<Atom>, ci: bool| Pattern { atoms, ci };
    let mut long = vec![Atom::AnyNot('/'); 65];
    long.push(Atom::StarNot('/'));
    let mut after_slash = vec![Atom::Star, Atom::Char('/')];
    after_slash.extend(long.iter().cloned());
    let mut alts = vec![p(long, false), p(after_slash, false)];
    let fold = crate::classes::fold_char;
    for (c, ci) in tested_chars(q, n) {
        if c == '/' || name_char(c) {
            continue;
        }
        if !printable(c) {
            alts.push(p(
                vec![Atom::Star, Atom::Char(c), Atom::Star],
                ci && !printable(fold(c)),
            ));
        }
        let ci = ci && !name_char(fold(c));
        alts.push(p(
            vec![Atom::StarNot('/'), Atom::Char(c), Atom::StarNot('/')],
            ci,
        ));
        alts.push(p(
            vec![
                Atom::Star,
                Atom::Char('/'),
                Atom::StarNot('/'),
                Atom::Char(c),
                Atom::StarNot('/'),
            ],
            ci,
        ));
    }
    vec![Lang { alts }]
}

/// Languages of string variable `v` that hold no string of `min..=max` characters of STS's set
/// (`[A-Za-z0-9_+=,.@-]` and the bytes of `also`): one of more than `max` characters (when
/// given), one of fewer than `min` (when `min` > 0), and one per character a test of `v` names that is outside
/// the set (`/` and `:` too, unless `skip` lists them: `build` keeps them out of session names).
/// A value outside all of them is one of the classes the policies cannot tell from STS's names,
/// and its witness (a shortest string, made of untested characters where it can, `classes.rs`)
/// is one STS takes. Untested characters are not excluded (no pattern atom stands for the
/// character set), so the complement stays a superset of STS's names: a proof covers them all.
fn outside_sts_names(
    q: &Query,
    v: VarId,
    max: Option<usize>,
    min: usize,
    skip: &[u8],
) -> Vec<Lang> {
    let allowed = |c: char| c.is_ascii() && xverify_engine::estate::sts_name_byte(c as u8);
    let mut out = Vec::new();
    if let Some(max) = max {
        let mut long = vec![Atom::Any; max + 1];
        long.push(Atom::Star);
        out.push(Lang::single(Pattern {
            atoms: long,
            ci: false,
        }));
    }
    if min > 0 {
        out.push(Lang {
            alts: (0..min)
                .map(|n| Pattern {
                    atoms: vec![Atom::Any; n],
                    ci: false,
                })
                .collect(),
        });
    }
    // `(character, compared case-insensitively)` for each character a test names that STS
    // never puts in a name.
    let also = |c: char| c.is_ascii() && skip.contains(&(c as u8));
    let named: BTreeSet<(char, bool)> = tested_chars(q, v)
        .into_iter()
        .filter(|&(c, _)| !also(c) && !allowed(c))
        // A case-insensitive test stands for every character of the same fold: keep them all
        // out when the fold is not a name character (then none of them is), else this one only
        // (the Kelvin sign folds to `k`).
        .map(|(c, ci)| (c, ci && !allowed(crate::classes::fold_char(c))))
        .collect();
    if !named.is_empty() {
        out.push(Lang {
            alts: named
                .into_iter()
                .map(|(c, ci)| Pattern {
                    atoms: vec![Atom::Star, Atom::Char(c), Atom::Star],
                    ci,
                })
                .collect(),
        });
    }
    out
}

/// The characters the tests of string variable `v` name, each with whether it is compared
/// case-insensitively (an exclusion, `AnyNot`/`StarNot`, is always exact).
fn tested_chars(q: &Query, v: VarId) -> BTreeSet<(char, bool)> {
    let mut named = BTreeSet::new();
    for p in q.sym.vars[v].langs.iter().flat_map(|l| &l.alts) {
        for a in &p.atoms {
            match *a {
                Atom::Char(c) => named.insert((c, p.ci)),
                Atom::AnyNot(c) | Atom::StarNot(c) => named.insert((c, false)),
                Atom::Any | Atom::Star => continue,
            };
        }
    }
    named
}

/// The `AssumeRole*` parameters, as `Estate::gather` takes them (corpus/DECISIONS.md 31): an
/// `sts:AssumeRole` request carries `sts:RoleSessionName`; in the family a session name is one STS
/// takes (2–64 characters of its set); an `sts:AssumeRole` `sts:ExternalId` is 2–1,224 characters
/// of the set with `:` and `/`. The upper bound of an ID is left to the replay, which refuses a
/// longer one (witnesses are shortest strings): as a language of 1,225 characters it takes the
/// class computation past its limit beside any other test of the key. Without this, a trust policy that only a name STS refuses,
/// or no name, satisfies was refuted by a request AWS never sends (audit 7, bug 6). A key that no
/// policy of the query reads is not registered: `request_of` gives it a name.
fn sts_parameter_constraints(q: &mut Query) -> Result<(), Unsupported> {
    const NAME: &str = "sts:rolesessionname";
    const EXTERNAL: &str = "sts:externalid";
    let fixed = |q: &Query, lc: &str| q.sym.source(lc) == Source::Fixed;
    let name = q.sym.key_id(NAME);
    let external = q.sym.key_id(EXTERNAL);
    if name.is_none() && external.is_none() && !fixed(q, NAME) && !fixed(q, EXTERNAL) {
        return Ok(());
    }
    let assume = q.sym.test(
        q.sym.action,
        Lang::single(Pattern::literal("sts:assumerole", true)),
    );
    let family = q.sym.test(
        q.sym.action,
        Lang {
            alts: xverify_engine::eval::ASSUME_ROLE_ACTIONS
                .iter()
                .map(|a| Pattern::literal(a, true))
                .collect(),
        },
    );
    // A value the property's context gives: the estate's check, on that value.
    let given = |q: &Query, lc: &str, valid: fn(&str) -> bool| match q.sym.fixed.context.get(lc) {
        None => None,
        Some(ContextValue::One(v)) => Some(valid(v)),
        Some(ContextValue::Many(vs)) => Some(vs.len() == 1 && valid(&vs[0])),
    };
    if fixed(q, NAME) {
        match given(q, NAME, xverify_engine::estate::valid_session_name) {
            None => q.sym.constraints.push(F::not(assume.clone())),
            Some(false) => q.sym.constraints.push(F::not(family.clone())),
            Some(true) => {}
        }
    } else if let Some(k) = name {
        let valid = sts_key_valid(q, k, Some(64), b"")?;
        q.sym
            .constraints
            .push(F::or([F::not(family), F::not(F::Present(k)), valid]));
        q.sym
            .constraints
            .push(F::or2(F::not(assume.clone()), F::Present(k)));
    }
    if fixed(q, EXTERNAL) {
        if given(q, EXTERNAL, xverify_engine::estate::valid_external_id) == Some(false) {
            q.sym.constraints.push(F::not(assume));
        }
    } else if let Some(k) = external {
        let valid = sts_key_valid(q, k, None, b":/")?;
        q.sym
            .constraints
            .push(F::or([F::not(assume), F::not(F::Present(k)), valid]));
    }
    Ok(())
}

/// A present STS parameter key `k`, free in the query, holds a value STS takes
/// (`sts_parameter_constraints`).
fn sts_key_valid(
    q: &mut Query,
    k: KeyId,
    max: Option<usize>,
    also: &[u8],
) -> Result<F, Unsupported> {
    let kv = &q.sym.keys[k];
    let key = kv.name.clone();
    match (kv.family, kv.var) {
        // Only its presence is tested: the replay gives it a valid value (`solve.rs`).
        (Family::Untyped, _) => Ok(F::t()),
        (Family::Str, Some(v)) => {
            let bad = outside_sts_names(q, v, max, 2, also);
            Ok(F::and(
                bad.into_iter()
                    .map(|l| F::not(q.sym.test(v, l)))
                    .collect::<Vec<_>>(),
            ))
        }
        (Family::Multi, Some(v)) => {
            let bad = outside_sts_names(q, v, max, 2, also);
            let ids: Vec<usize> = bad.into_iter().map(|l| q.sym.lang(v, l)).collect();
            Ok(F::AllIn(k, ids, false))
        }
        (f, _) => Err(Unsupported(format!(
            "context key {key} is compared as {f:?}: the names STS takes are strings"
        ))),
    }
}

/// A session tag overrides its role's tag of the same key, whatever its case, but cannot remove
/// it (STS API reference, AssumeRole `Tags`): where the session's tags are the request's to
/// choose, a tag key the role has is present (audit 8, bug 6: the model left it out, and the
/// session replayed with the role's value).
fn own_tags_present(q: &mut Query) {
    let own: Vec<usize> = q
        .sym
        .keys
        .iter()
        .enumerate()
        .filter(|(_, kv)| {
            let lc = kv.name.to_ascii_lowercase();
            lc.starts_with("aws:principaltag/") && q.sym.fixed.context.get(&lc).is_some()
        })
        .map(|(k, _)| k)
        .collect();
    for k in own {
        q.sym.constraints.push(F::Present(k));
    }
}

/// `aws:TagKeys` lists the keys of the request's `aws:RequestTag/*` (corpus/DECISIONS.md 36;
/// audit 8, bug 8: the two were free of each other, and a request passing `owner` without it in
/// `aws:TagKeys` dodged the documented "only these tag keys" Deny). For each tag key a policy
/// reads: its `aws:RequestTag` is present exactly when `aws:TagKeys` has a member that is that key
/// without case. Members no policy reads as a tag are given one by `request_of`.
fn tag_keys_constraints(q: &mut Query) -> Result<(), Unsupported> {
    let Some(tk) = q.sym.key_id("aws:TagKeys") else {
        return Ok(());
    };
    let tags: Vec<(KeyId, String)> = q
        .sym
        .keys
        .iter()
        .enumerate()
        .filter_map(|(k, kv)| request_tag_key(&kv.name).map(|t| (k, t.to_string())))
        .collect();
    // Tags the property's context passes.
    let given: Vec<String> = q
        .sym
        .fixed
        .context
        .iter()
        .filter(|(k, _)| q.sym.source(&k.to_ascii_lowercase()) == Source::Fixed)
        .filter_map(|(k, _)| request_tag_key(k).map(str::to_string))
        .collect();
    if tags.is_empty() && given.is_empty() {
        return Ok(());
    }
    match (q.sym.keys[tk].family, q.sym.keys[tk].var) {
        (Family::Multi, Some(v)) => {
            for name in given {
                let id = q.sym.lang(v, Lang::single(Pattern::literal(&name, true)));
                q.sym.constraints.push(F::AnyIn(tk, vec![id], true));
            }
            for (k, name) in tags {
                let id = q.sym.lang(v, Lang::single(Pattern::literal(&name, true)));
                q.sym
                    .constraints
                    .push(F::iff(F::Present(k), F::AnyIn(tk, vec![id], true)));
            }
            Ok(())
        }
        (Family::Untyped, _) => {
            if !given.is_empty() {
                q.sym.constraints.push(F::Present(tk));
            }
            for (k, _) in tags {
                q.sym
                    .constraints
                    .push(F::or2(F::not(F::Present(k)), F::Present(tk)));
            }
            Ok(())
        }
        _ => Err(Unsupported(
            "aws:TagKeys is read with plain operators beside aws:RequestTag/* keys: the two are not tied".into(),
        )),
    }
}

/// The policies and fixed context of a query's representative request: `Estate::gather` on it,
/// given the session name an `sts:AssumeRole` request carries, which the query leaves to the
/// request (`sts_parameter_constraints`) and the fixed context so leaves out.
fn gather_representative(
    e: &Estate,
    mut er: EstateRequest,
) -> Result<(PolicySet, Request), xverify_engine::estate::EstateError> {
    let named = er.action.eq_ignore_ascii_case("sts:AssumeRole")
        && er.context.get("sts:rolesessionname").is_none();
    if named {
        er.context.insert(
            "sts:RoleSessionName",
            ContextValue::One(DEFAULT_SESSION.into()),
        );
    }
    let (set, mut req) = e.gather(&er)?;
    if named {
        req.context.remove("sts:RoleSessionName");
    }
    Ok((set, req))
}

/// The session name a request gets where nothing asks for one.
const DEFAULT_SESSION: &str = "xverify";

/// Read a model back as the concrete request it stands for.
fn request_of(q: &Query, a: &Assignment) -> EstateRequest {
    let s = |v: Option<usize>| v.and_then(|v| a.strs[v].clone());
    let session = s(q.session_var).unwrap_or_else(|| DEFAULT_SESSION.into());
    let principal = q.kind.principal(session, s(q.name_var));
    let action = a.strs[q.sym.action].clone().unwrap_or_default();
    let resource = a.strs[q.sym.resource].clone().unwrap_or_default();
    let mut er = EstateRequest::new(principal, &action, &resource);
    er.resource_account = q.target_account.clone();
    // An open role's path is the request's to give (corpus/DECISIONS.md 23): the one the model
    // chose, when it is not the default.
    if let (Kind::OpenRole { account } | Kind::OpenServiceLinkedRole { account }, Some(name)) =
        (&q.kind, s(q.name_var))
    {
        if name.contains('/') {
            er.context.insert(
                "aws:PrincipalArn",
                ContextValue::One(format!("arn:aws:iam::{account}:role/{name}")),
            );
        }
    }
    for (k, kv) in q.sym.keys.iter().enumerate() {
        if let Some(vals) = &a.keys[k] {
            let v = if kv.family == Family::Multi || vals.len() > 1 {
                ContextValue::Many(vals.clone())
            } else {
                ContextValue::One(vals.first().cloned().unwrap_or_default())
            };
            // A described role's tags come from the estate; free ones are session tags.
            if matches!(q.kind, Kind::Role { .. })
                && kv
                    .name
                    .to_ascii_lowercase()
                    .starts_with("aws:principaltag/")
            {
                // A tag the role already has, with its value, needs no passing.
                let value = v.values().first().cloned().unwrap_or_default();
                let own = q
                    .sym
                    .fixed
                    .context
                    .get_single(&kv.name.to_ascii_lowercase());
                if own != Some(value.as_str()) {
                    er.session_tags
                        .insert(kv.name["aws:principaltag/".len()..].to_string(), value);
                }
                continue;
            }
            er.context.insert(&kv.name, v);
        }
    }
    // Q's fixed keys the request itself carries. A key derived from the principal's free name
    // (an open federated user's `aws:userid`) is left for the replay to derive: the query's
    // fixed context holds the representative principal's value.
    for (k, v) in q.sym.fixed.context.iter() {
        let lc = k.to_ascii_lowercase();
        let derived = matches!(
            q.sym.sources.get(&lc),
            Some(Source::Prefixed { .. } | Source::LastSegment { .. } | Source::Joined { .. })
        );
        if !FIXED_KEYS.contains(&lc.as_str())
            && !derived
            && !lc.starts_with("aws:principaltag/")
            && !lc.starts_with("aws:resourcetag/")
            && er.context.get(&lc).is_none()
        {
            er.context.insert(k, v.clone());
        }
    }
    // Each key `aws:TagKeys` lists is a tag the request passes (corpus/DECISIONS.md 36): one no
    // policy reads gets a value.
    if let Some(keys) = er.context.get("aws:tagkeys").map(|v| v.values().to_vec()) {
        for k in keys {
            let key = format!("aws:RequestTag/{k}");
            if er
                .context
                .get(&xverify_engine::pattern::fold(&key))
                .is_none()
            {
                er.context
                    .insert(&key, ContextValue::One(DEFAULT_SESSION.into()));
            }
        }
    }
    // A role session's `aws:userid`, as the model joined it (corpus/DECISIONS.md 35).
    if let (Some(id), Principal::AssumedRole { session, .. }) = (q.role_id_var, &er.principal) {
        let id = a.strs[id].clone().unwrap_or_default();
        er.context
            .insert("aws:userid", ContextValue::One(format!("{id}:{session}")));
    }
    // An `sts:AssumeRole` request carries a session name (corpus/DECISIONS.md 31); where no
    // policy of the query reads it, any name STS takes does.
    if action.eq_ignore_ascii_case("sts:AssumeRole")
        && er.context.get("sts:rolesessionname").is_none()
    {
        er.context.insert(
            "sts:RoleSessionName",
            ContextValue::One(DEFAULT_SESSION.into()),
        );
    }
    er
}

/// Replay a request through the estate: its decision and the deciding statements.
fn replay(e: &Estate, er: &EstateRequest) -> Result<Step, String> {
    let (set, req) = e.gather(er).map_err(|x| x.to_string())?;
    let r = xverify_engine::authorize(&set, &req);
    let explain = r
        .reasons
        .iter()
        .map(|x| {
            let sid = x.sid().map(|s| format!(" ({s})")).unwrap_or_default();
            let level = match x.role {
                xverify_engine::Role::Scp { level } | xverify_engine::Role::Rcp { level } => {
                    format!(" level {level}")
                }
                _ => String::new(),
            };
            format!(
                "{}{level} policy {:?} statement {}{sid}",
                x.role.name(),
                x.policy.name,
                x.statement
            )
        })
        .collect();
    Ok(Step {
        principal: er.principal.to_arn_string(),
        action: er.action.clone(),
        resource: er.resource.clone(),
        context: er
            .context
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        session_tags: er.session_tags.clone(),
        derived: derived_keys(e, er, &req),
        decision: r.decision,
        explain,
        note: r.note.clone(),
        resource_account: er.resource_account.clone(),
    })
}

/// The keys of `er`'s context that the estate works out itself: the request it gathers (`req`)
/// is the same without them. Each key is tried alone, then the keys found are checked together;
/// when that check fails, every key counts as the request's own (printing too much is harmless,
/// printing too little would not replay).
fn derived_keys(e: &Estate, er: &EstateRequest, req: &Request) -> BTreeSet<String> {
    let without = |keys: &[&str]| {
        let mut er2 = er.clone();
        for k in keys {
            er2.context.remove(k);
        }
        e.gather(&er2).ok().map(|(_, r)| r)
    };
    let found: Vec<&str> = er
        .context
        .iter()
        .map(|(k, _)| k)
        .filter(|k| without(&[k]).is_some_and(|r| r == *req))
        .collect();
    if found.is_empty() || without(&found).is_none_or(|r| r != *req) {
        return BTreeSet::new();
    }
    found.iter().map(|k| k.to_string()).collect()
}

/// A cheap necessary condition for an allowed request of `kind` on `target`: an IAM principal of the
/// resource's own account may be granted by its identity policies; anyone else only by a resource
/// policy statement whose `Principal` can name it. Conditions are ignored, so this only prunes
/// queries that are certainly unsatisfiable.
fn could_allow(w: &World<'_>, kind: &Kind, target: &Target, q_resources: &[String]) -> bool {
    let acct = kind_account(kind);
    let (policy, racct) = match target {
        Target::Described { arn, account, .. } => (
            w.policies.get(arn).copied().flatten(),
            Some(account.as_str()),
        ),
        Target::Undescribed { account: Some(a) } => (None, Some(a.as_str())),
        Target::Undescribed { account: None } => {
            let from_q: BTreeSet<&str> = q_resources
                .iter()
                .filter_map(|r| xverify_engine::pattern::split_arn(r).map(|p| p[4]))
                .collect();
            let fixed = (from_q.len() == 1)
                .then(|| from_q.iter().next().copied())
                .flatten()
                .filter(|a| is_account_id(a));
            (None, fixed.or(acct))
        }
    };
    let same = acct.is_some() && acct == racct;
    if same {
        return true;
    }
    let Some(p) = policy else { return false };
    p.statements().iter().any(|st| {
        st.effect == Effect::Allow
            && match &st.principal {
                None => true,
                Some(pe) if pe.not => true,
                Some(pe) => may_name(&pe.set, kind),
            }
    })
}

/// Can an entry of this `Principal` element name some principal of `kind`?
fn may_name(set: &PrincipalSet, kind: &Kind) -> bool {
    let acct = kind_account(kind);
    // A canonical user ID names an account the estate cannot identify: any IAM principal's.
    if acct.is_some() && !set.canonical_user.is_empty() {
        return true;
    }
    for e in &set.aws {
        let hit = match e {
            AwsPrincipalRef::Any | AwsPrincipalRef::UniqueId(_) => true,
            // CloudFront reading for a distribution: no principal kind of the model.
            AwsPrincipalRef::CloudFrontOai(_) => false,
            AwsPrincipalRef::Account { account, .. } => acct == Some(account.as_str()),
            AwsPrincipalRef::Role { account, name, .. }
            | AwsPrincipalRef::AssumedRole {
                account,
                role: name,
                ..
            } => {
                acct == Some(account.as_str())
                    && match kind {
                        Kind::Role { name: n, .. } => n == name,
                        Kind::OpenRole { .. } => true,
                        Kind::OpenServiceLinkedRole { .. } => {
                            name.starts_with(SERVICE_LINKED_ROLE_PREFIX)
                        }
                        _ => false,
                    }
            }
            AwsPrincipalRef::User { account, name, .. } => {
                acct == Some(account.as_str())
                    && match kind {
                        Kind::User { name: n, .. } => n == name,
                        Kind::OpenUser { .. } => true,
                        _ => false,
                    }
            }
            AwsPrincipalRef::FederatedUser { account, .. } => {
                acct == Some(account.as_str()) && matches!(kind, Kind::OpenFederated { .. })
            }
        };
        if hit {
            return true;
        }
    }
    match kind {
        Kind::Service { name } | Kind::IdentityProvider { name } => set
            .service
            .iter()
            .chain(set.federated.iter())
            .any(|s| s.eq_ignore_ascii_case(name)),
        _ => false,
    }
}

/// Could a resource pattern single out an ARN whose account field is twelve characters that are
/// not all digits (`…:12345678901?:…`, `…:abcdefghijkl:…`)? The engine places such an ARN by the
/// request's `resource_account`, as it does an ARN without an account, but the prover cannot
/// describe that field. The account field is the fifth `:`-field; after a `*`, which may run
/// over colons, every later field is taken for it.
fn twelve_characters_not_an_account(pattern: &str) -> bool {
    let fields: Vec<&str> = pattern.split(':').collect();
    let first_star = fields
        .iter()
        .position(|f| f.contains('*'))
        .unwrap_or(fields.len());
    let from = if first_star < 4 { first_star + 1 } else { 4 };
    let to = if first_star < 4 { fields.len() } else { 5 };
    fields
        .get(from..to.min(fields.len()))
        .unwrap_or(&[])
        .iter()
        .any(|f| {
            !f.contains('*') && f.chars().count() == 12 && !f.bytes().all(|b| b.is_ascii_digit())
        })
}

/// Is a chain's first caller in the account of its last resource: an IAM principal by its own
/// account, a service by the `aws:SourceAccount` it acted for? The last resource's account is
/// the one its request was placed in, else its caller's.
fn chain_start_in_resource_account(chain: &[Step]) -> bool {
    let Some(last) = chain.last() else {
        return false;
    };
    let last_account = last
        .resource_account
        .clone()
        .or_else(|| step_principal_account(last));
    let start = chain_start_account(chain);
    start.is_some() && start == last_account
}

/// The account of a step's caller, from its ARN.
fn step_principal_account(s: &Step) -> Option<String> {
    Principal::parse(&s.principal)
        .ok()
        .and_then(|p| p.account().map(str::to_string))
}

/// The account a chain starts in: its first caller's, or the `aws:SourceAccount` a service acted
/// for.
fn chain_start_account(chain: &[Step]) -> Option<String> {
    let first = chain.first()?;
    step_principal_account(first).or_else(|| {
        first
            .context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("aws:SourceAccount"))
            .and_then(|(_, v)| v.values().first().cloned())
    })
}

/// The account a candidate's access starts in: its chain's start, or its own account.
fn start_account(c: &Cand) -> Option<String> {
    if c.chain.is_empty() {
        kind_account(&c.kind).map(str::to_string)
    } else {
        chain_start_account(&c.chain)
    }
}

/// The `eval --spec` request a printed step stands for.
fn step_request(s: &Step) -> Result<EstateRequest, String> {
    let p = Principal::parse(&s.principal).map_err(|x| x.0)?;
    let mut er = EstateRequest::new(p, &s.action, &s.resource);
    er.resource_account = s.resource_account.clone();
    for (k, v) in &s.context {
        er.context.insert(k, v.clone());
    }
    er.session_tags = s.session_tags.clone();
    Ok(er)
}

/// Replay a whole chain through the estate; every hop must be allowed, the last as expected.
fn verify_chain(e: &Estate, chain: &[Step], want_allow: bool) -> Result<(), String> {
    let reqs = chain
        .iter()
        .map(step_request)
        .collect::<Result<Vec<_>, _>>()?;
    let steps = e.replay_chain(&reqs).map_err(|x| x.to_string())?;
    let last_ok = steps.len() == chain.len()
        && steps
            .last()
            .is_some_and(|s| (s.decision == Decision::Allow) == want_allow);
    if last_ok {
        Ok(())
    } else {
        // The step that went wrong, as the solver wrote it, so that the mismatch can be
        // reproduced with `eval --spec`.
        let at = steps
            .len()
            .saturating_sub(1)
            .min(chain.len().saturating_sub(1));
        let shown = chain.get(at).map_or(String::new(), |s| {
            let ctx: Vec<String> = s
                .context
                .iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect();
            format!(
                "; step {}: {} {} {} [{}]",
                at + 1,
                s.principal,
                s.action,
                s.resource,
                ctx.join(", ")
            )
        });
        Err(format!(
            "the chain of {} steps did not replay (stopped after {} with {}){shown}",
            chain.len(),
            steps.len(),
            steps.last().map_or("nothing", |s| s.decision.as_str())
        ))
    }
}

/// Outcome of searching one property's queries.
enum Search {
    Found(Vec<Step>),
    /// Nothing found; the guards the proofs needed.
    NotFound(BTreeSet<String>),
    Unknown(String),
}

/// What the queries of a search ask: a request of these actions, resources and context, by a
/// principal the selectors admit, that is allowed (`want_allow`) or denied.
#[derive(Clone, Copy)]
struct Ask<'a> {
    actions: &'a [String],
    resources: &'a [String],
    context: &'a BTreeMap<String, Option<ContextValue>>,
    selectors: &'a [Selector],
    want_allow: bool,
}

impl<'a> Ask<'a> {
    /// What property `prop` asks about, looking for requests that are allowed (`want_allow`) or
    /// for requests that are not.
    fn of(prop: &'a Property, want_allow: bool) -> Ask<'a> {
        Ask {
            actions: &prop.actions,
            resources: &prop.resources,
            context: &prop.context,
            selectors: &prop.principals,
            want_allow,
        }
    }
}

/// Run every query of (kinds × targets); stop at the first model.
fn search(
    w: &World<'_>,
    cands: &[Cand],
    ask: &Ask<'_>,
    cfg: &Config,
    queries: &mut usize,
) -> Search {
    let ts = if ask.want_allow {
        targets(w, ask.resources)
    } else {
        targets_for_denial(w, ask.resources)
    };
    search_in(w, cands, &ts, ask, cfg, queries)
}

/// A principal kind in words.
fn kind_label(k: &Kind) -> String {
    match k {
        Kind::Role { account, name, .. } => format!("role {name} ({account})"),
        Kind::User { account, name, .. } => format!("user {name} ({account})"),
        Kind::Root { account } => format!("the root user of {account}"),
        Kind::OpenRole { account } => format!("roles of {account}"),
        Kind::OpenUser { account } => format!("users of {account}"),
        Kind::OpenFederated { account } => format!("federated users of {account}"),
        Kind::OpenServiceLinkedRole { account } => format!("service-linked roles of {account}"),
        Kind::Service { name } => format!("service {name}"),
        Kind::IdentityProvider { name } => format!("users of identity provider {name}"),
        Kind::Anonymous => "anonymous callers".to_string(),
    }
}

/// Can a principal of this kind be a session created with a session policy (`AssumeRole*` and
/// `GetFederationToken` take one; `eval --spec` takes `session_policy` for exactly these)?
fn may_carry_session_policy(k: &Kind) -> bool {
    matches!(
        k,
        Kind::Role { .. }
            | Kind::OpenRole { .. }
            | Kind::OpenServiceLinkedRole { .. }
            | Kind::OpenFederated { .. }
    )
}

/// The sessions of a kind that [`may_carry_session_policy`], in words.
fn session_label(k: &Kind) -> String {
    match k {
        Kind::Role { account, name, .. } => format!("a session of role {name} ({account})"),
        Kind::OpenRole { account } => format!("a session of a role of {account}"),
        Kind::OpenServiceLinkedRole { account } => {
            format!("a session of a service-linked role of {account}")
        }
        Kind::OpenFederated { account } => format!("a federated user of {account}"),
        other => kind_label(other),
    }
}

/// What one (principal kind, target) query found.
enum Pair {
    /// With the guards the proof of this query needed.
    Unsat(Vec<String>),
    Unknown(String),
    Found(Vec<Step>),
}

/// One (principal kind, target) query, built but not solved: the query and its goal (`allow`, or
/// `¬allow` for `all`). `None`: no request of the pair is in Q.
fn member_query(
    w: &World<'_>,
    c: &Cand,
    t: &Target,
    ask: &Ask<'_>,
) -> Result<Option<(Query, F)>, String> {
    let mut q = match build(w, &c.kind, c.selected, t, ask) {
        Ok(Some(q)) => q,
        Ok(None) => return Ok(None),
        Err(u) => return Err(u.to_string()),
    };
    let set = q.set.clone();
    let allow = allow_formula(&mut q.sym, &set).map_err(|u| u.to_string())?;
    q.canonical = canonical_statements(&mut q.sym, &set).map_err(|u| u.to_string())?;
    // After the formula, so that every key the policies test is registered.
    if c.selected {
        selector_constraints(w, &mut q, ask.selectors).map_err(|u| u.to_string())?;
    }
    outsider_constraints(w, &mut q).map_err(|u| u.to_string())?;
    request_constraints(w, &mut q).map_err(|u| u.to_string())?;
    let goal = if ask.want_allow { allow } else { F::not(allow) };
    Ok(Some((q, goal)))
}

/// Build, solve and replay one query.
fn run_pair(w: &World<'_>, c: &Cand, t: &Target, ask: &Ask<'_>, cfg: &Config, label: &str) -> Pair {
    let (mut q, goal) = match member_query(w, c, t, ask) {
        Ok(Some(x)) => x,
        Ok(None) => return Pair::Unsat(vec![]),
        Err(u) => return Pair::Unknown(u),
    };
    // A session reached by a chain has the name its last hop gave it: first with that name (a
    // trust policy may pin it), then with any (audit 6, bug 5), the hop then checked below.
    let hop_session = c
        .chain
        .last()
        .and_then(|h| {
            h.context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("sts:RoleSessionName"))
        })
        .and_then(|(_, v)| v.single().map(str::to_string));
    if let (Some(name), Some(sv)) = (&hop_session, q.session_var) {
        let f = q.sym.test(sv, Lang::single(Pattern::literal(name, false)));
        q.sym.constraints.push(f);
        let (outcome, _) = check(&q.sym, &goal, cfg, label);
        match outcome {
            Outcome::Sat(a) => {
                let pair = sat_pair(w, c, &q, &a, ask);
                return with_role_tags(w, c, &mut q, &goal, ask, cfg, label, pair);
            }
            Outcome::Unknown(why) => return Pair::Unknown(why),
            Outcome::Unsat => {
                q.sym.constraints.pop();
            }
        }
    }
    let (outcome, timing) = check(&q.sym, &goal, cfg, label);
    // A CanonicalUser statement, which the engine applies to nobody, may decide requests of this
    // kind otherwise (corpus/DECISIONS.md 25): nothing found holds only when no statement that
    // may grant more (searching allowed requests; less for denied ones) covers a request of the
    // query; a request found, only when none that may turn its decision covers it (`sat_pair`).
    if let Outcome::Unsat = &outcome {
        for c in q
            .canonical
            .iter()
            .filter(|c| c.grants_less == ask.want_allow)
        {
            match check(&q.sym, &c.scope, cfg, label).0 {
                Outcome::Unsat => {}
                _ => {
                    return Pair::Unknown(format!(
                        "{}: AWS may decide the requests it covers otherwise",
                        c.label
                    ))
                }
            }
        }
    }
    let pair = match outcome {
        Outcome::Unsat if timing.core.is_empty() && ask.want_allow => Pair::Unsat(vec![format!(
            "no policy allows the actions to {}",
            kind_label(&c.kind)
        )]),
        Outcome::Unsat => Pair::Unsat(timing.core),
        Outcome::Unknown(why) => Pair::Unknown(why),
        Outcome::Sat(a) => sat_pair(w, c, &q, &a, ask),
    };
    with_role_tags(w, c, &mut q, &goal, ask, cfg, label, pair)
}

/// `pair`, or when the hop could not pass the session tags the model chose, a session with the
/// role's own tags (`pin_role_tags`) if one is found.
#[allow(clippy::too_many_arguments)]
fn with_role_tags(
    w: &World<'_>,
    c: &Cand,
    q: &mut Query,
    goal: &F,
    ask: &Ask<'_>,
    cfg: &Config,
    label: &str,
    pair: Pair,
) -> Pair {
    match pair {
        Pair::Unknown(why)
            if why.starts_with(HOP_REFUSED) && matches!(c.kind, Kind::Role { .. }) =>
        {
            if pin_role_tags(q).is_ok() {
                if let (Outcome::Sat(a), _) = check(&q.sym, goal, cfg, label) {
                    if let Pair::Found(chain) = sat_pair(w, c, q, &a, ask) {
                        return Pair::Found(chain);
                    }
                }
            }
            Pair::Unknown(why)
        }
        other => other,
    }
}

/// A model of `q`: [`found_pair`], unless a CanonicalUser statement that may turn the decision
/// of the request found covers it (corpus/DECISIONS.md 25).
fn sat_pair(w: &World<'_>, c: &Cand, q: &Query, a: &Assignment, ask: &Ask<'_>) -> Pair {
    if let Some(s) = q
        .canonical
        .iter()
        .find(|s| s.grants_less != ask.want_allow && eval_formula(&q.sym, &s.scope, a))
    {
        return Pair::Unknown(format!(
            "{}: AWS may decide the request found otherwise",
            s.label
        ));
    }
    found_pair(w, c, q, a, ask)
}

/// A model of `q`, replayed, as the chain it ends: `c`'s chain, its last hop naming the session
/// this step's caller is, then this step.
fn found_pair(w: &World<'_>, c: &Cand, q: &Query, a: &Assignment, ask: &Ask<'_>) -> Pair {
    let er = request_of(q, a);
    let step = match replay(w.estate(), &er) {
        Ok(step) => step,
        Err(e) => return Pair::Unknown(format!("internal error: replay failed: {e}")),
    };
    if (step.decision == Decision::Allow) != ask.want_allow {
        let msg = format!(
            "internal error: the solver's request {} {} {} was decided {} by the engine",
            step.principal,
            step.action,
            step.resource,
            step.decision.as_str()
        );
        eprintln!("xverify: {msg}");
        return Pair::Unknown(msg);
    }
    let mut chain = c.chain.clone();
    // Connect the chain: the last hop's session is this step's principal.
    if let (Some(last), Principal::AssumedRole { session, .. }) = (chain.last_mut(), &er.principal)
    {
        let before = last.context.insert(
            "sts:RoleSessionName".into(),
            ContextValue::One(session.clone()),
        );
        // Another name than the hop's model gave, or session tags the hop must have passed:
        // the hop must still be allowed so (audit 6, bugs 5 and 6).
        let renamed = before.as_ref().and_then(ContextValue::single) != Some(session.as_str());
        if renamed || !er.session_tags.is_empty() {
            if let Some(why) = hop_refused(w, last, &er) {
                return Pair::Unknown(format!(
                    "{HOP_REFUSED}{} {} {} needs: {why}; other sessions are not searched",
                    step.principal, step.action, step.resource
                ));
            }
        }
    }
    chain.push(step);
    Pair::Found(chain)
}

/// How [`found_pair`] says that a chain's last hop does not make the session its last step needs.
const HOP_REFUSED: &str = "the role session that ";

/// Why a chain's hop, as it now reads, does not make the session of `next` (its name, its
/// session tags); `None` when it does.
fn hop_refused(w: &World<'_>, hop: &Step, next: &EstateRequest) -> Option<String> {
    let er = match step_request(hop) {
        Ok(er) => er,
        Err(e) => return Some(e),
    };
    let steps = match w.estate().replay_chain(&[er, next.clone()]) {
        Ok(s) => s,
        Err(e) => return Some(e.to_string()),
    };
    match steps.first() {
        Some(s) if s.decision == Decision::Allow => None,
        Some(s) => Some(
            s.note
                .clone()
                .unwrap_or_else(|| format!("the hop is decided {}", s.decision.as_str())),
        ),
        None => Some("the hop did not replay".into()),
    }
}

/// Hold a described role session's tags to the role's own (no session tags passed): each
/// `aws:PrincipalTag/*` key the query reads is the role's value, or absent where it has none.
fn pin_role_tags(q: &mut Query) -> Result<(), Unsupported> {
    let names: Vec<String> = q
        .sym
        .keys
        .iter()
        .map(|k| k.name.clone())
        .filter(|n| n.to_ascii_lowercase().starts_with("aws:principaltag/"))
        .collect();
    for name in names {
        let own = q
            .sym
            .fixed
            .context
            .get_single(&name.to_ascii_lowercase())
            .map(str::to_string);
        let f = match own {
            Some(v) => key_value_in(q, &name, Lang::single(Pattern::literal(&v, false)), true)?,
            None => match q.sym.key_id(&name) {
                Some(k) => F::not(F::Present(k)),
                None => continue,
            },
        };
        q.sym.constraints.push(f);
    }
    Ok(())
}

/// Most described targets one grouped query covers (see [`run_group`]).
const GROUP_MAX: usize = 64;

/// The solver timeout of a grouped query (at most the configured one).
const GROUP_TIMEOUT_MS: u32 = 2_000;

/// Member `m`'s query (its constraints and `goal`) moved into `base`'s variables, keys, languages and
/// guards: matched by key name, by position for the request's own variables (action, resource,
/// the principal's free names, which every query of one principal kind creates in the same order),
/// by label for guards. `None` when the two do not fit together (a key used with two families).
fn merge_into(base: &mut Sym, m: &Sym, goal: &F) -> Option<(Vec<F>, F)> {
    let mut key_map = Vec::with_capacity(m.keys.len());
    for kv in &m.keys {
        let gk = base.key(&kv.name, kv.family).ok()?;
        if base.keys[gk].presence != kv.presence {
            return None;
        }
        key_map.push(gk);
    }
    let base_key_vars: BTreeSet<usize> = base.keys.iter().filter_map(|k| k.var).collect();
    let mut var_map = vec![usize::MAX; m.vars.len()];
    for (k, kv) in m.keys.iter().enumerate() {
        if let Some(v) = kv.var {
            var_map[v] = base.keys[key_map[k]].var?;
        }
    }
    for (i, v) in m.vars.iter().enumerate() {
        if var_map[i] == usize::MAX {
            if base.vars.get(i).map(|b| &b.name) != Some(&v.name) || base_key_vars.contains(&i) {
                return None;
            }
            var_map[i] = i;
        }
    }
    let mut lang_map: Vec<Vec<usize>> = Vec::with_capacity(m.vars.len());
    for (i, v) in m.vars.iter().enumerate() {
        let bv = var_map[i];
        // Members of one kind mostly test the same languages in the same order: a language
        // already at the same place is that id (languages are never registered twice).
        let ids = v
            .langs
            .iter()
            .enumerate()
            .map(|(j, l)| {
                if base.vars[bv].langs.get(j) == Some(l) {
                    j
                } else {
                    base.lang(bv, l.clone())
                }
            })
            .collect();
        lang_map.push(ids);
    }
    let guard_map: Vec<F> = m.guards.iter().map(|g| base.guard(g.clone())).collect();
    let r = Remap {
        m,
        var_map: &var_map,
        lang_map: &lang_map,
        key_map: &key_map,
        guard_map: &guard_map,
    };
    let mut parts = Vec::with_capacity(m.constraints.len());
    for c in &m.constraints {
        parts.push(r.f(c)?);
    }
    Some((parts, r.f(goal)?))
}

/// Index maps from one query's `Sym` into another's.
struct Remap<'a> {
    m: &'a Sym,
    var_map: &'a [usize],
    lang_map: &'a [Vec<usize>],
    key_map: &'a [usize],
    guard_map: &'a [F],
}

impl Remap<'_> {
    fn langs_of_key(&self, k: usize, ls: &[usize]) -> Option<Vec<usize>> {
        let v = self.m.keys.get(k)?.var?;
        ls.iter()
            .map(|l| self.lang_map.get(v)?.get(*l).copied())
            .collect()
    }

    fn f(&self, f: &F) -> Option<F> {
        let k = |k: &usize| self.key_map.get(*k).copied();
        Some(match f {
            F::Const(b) => F::Const(*b),
            F::And(v) => F::And(v.iter().map(|x| self.f(x)).collect::<Option<_>>()?),
            F::Or(v) => F::Or(v.iter().map(|x| self.f(x)).collect::<Option<_>>()?),
            F::Not(x) => F::Not(Box::new(self.f(x)?)),
            F::In(v, l) => F::In(*self.var_map.get(*v)?, *self.lang_map.get(*v)?.get(*l)?),
            F::Present(x) => F::Present(k(x)?),
            F::Given(x) => F::Given(k(x)?),
            F::Many(x) => F::Many(k(x)?),
            F::AnyIn(x, ls, pos) => F::AnyIn(k(x)?, self.langs_of_key(*x, ls)?, *pos),
            F::AllIn(x, ls, pos) => F::AllIn(k(x)?, self.langs_of_key(*x, ls)?, *pos),
            F::Num(x, op, n) => F::Num(k(x)?, *op, *n),
            F::Date(x, op, d) => F::Date(k(x)?, *op, *d),
            F::Ip(x, c) => F::Ip(k(x)?, *c),
            F::Guard(g) => self.guard_map.get(*g)?.clone(),
        })
    }
}

/// Several targets of one candidate as one query: the disjunction of the members' queries, each
/// member's disjunct carrying its own constraints, its own policies and its own fixed context
/// (folded into its formula when it was built). The members' formulas share only the request's
/// variables, which every member leaves free in the same way, and keys, which a disjunct that does
/// not test them leaves unconstrained; so the group is satisfiable exactly when some member is.
/// `Some(core)`: unsatisfiable, so every member is (with the guards the proof needed). `None`:
/// satisfiable, unknown, or not mergeable: the caller runs the members one by one.
fn run_group(
    w: &World<'_>,
    c: &Cand,
    members: &[&Target],
    ask: &Ask<'_>,
    cfg: &Config,
    label: &str,
) -> Option<Vec<String>> {
    let mut base: Option<Sym> = None;
    let mut disjuncts = Vec::with_capacity(members.len());
    for t in members {
        let (q, goal) = match member_query(w, c, t, ask) {
            Ok(Some(x)) => x,
            // No request of this member is in Q.
            Ok(None) => continue,
            Err(_) => return None,
        };
        // A CanonicalUser statement is weighed query by query (`run_pair`).
        if !q.canonical.is_empty() {
            return None;
        }
        match &mut base {
            None => {
                let mut sym = q.sym;
                let own = std::mem::take(&mut sym.constraints);
                disjuncts.push((own, goal));
                base = Some(sym);
            }
            Some(b) => disjuncts.push(merge_into(b, &q.sym, &goal)?),
        }
    }
    let Some(mut sym) = base else {
        return Some(vec![]);
    };
    // A constraint every member has at the same place (the request set, the facts about the
    // principal) is asserted once: (C ∧ D1) ∨ (C ∧ D2) is C ∧ (D1 ∨ D2).
    let n = disjuncts.first().map_or(0, |(cs, _)| cs.len());
    let mut shared = vec![disjuncts.len() > 1; n];
    if disjuncts.iter().any(|(cs, _)| cs.len() != n) {
        shared.fill(false);
    }
    for (i, sh) in shared.iter_mut().enumerate() {
        if *sh {
            let first = &disjuncts[0].0[i];
            *sh = disjuncts[1..].iter().all(|(cs, _)| &cs[i] == first);
        }
    }
    for (i, sh) in shared.iter().enumerate() {
        if *sh {
            sym.constraints.push(disjuncts[0].0[i].clone());
        }
    }
    let disjuncts: Vec<F> = disjuncts
        .into_iter()
        .map(|(cs, goal)| {
            F::and(
                cs.into_iter()
                    .zip(shared.iter())
                    .filter(|(_, sh)| !**sh)
                    .map(|(c, _)| c)
                    .chain(std::iter::once(goal)),
            )
        })
        .collect();
    // A group that the solver cannot decide quickly is split: its members get the full timeout.
    let group_cfg = Config {
        timeout_ms: cfg.timeout_ms.min(GROUP_TIMEOUT_MS),
        ..cfg.clone()
    };
    let (outcome, timing) = check(&sym, &F::or(disjuncts), &group_cfg, label);
    match outcome {
        Outcome::Unsat if timing.core.is_empty() && ask.want_allow => Some(vec![format!(
            "no policy allows the actions to {}",
            kind_label(&c.kind)
        )]),
        Outcome::Unsat => Some(timing.core),
        Outcome::Sat(_) | Outcome::Unknown(_) => None,
    }
}

/// [`search`] over given targets: the queries run on `cfg.threads` threads; the answer is the
/// first model in (kind, target) order, as a sequential search would give.
fn search_in(
    w: &World<'_>,
    cands: &[Cand],
    ts: &[Target],
    ask: &Ask<'_>,
    cfg: &Config,
    queries: &mut usize,
) -> Search {
    let Ask {
        resources,
        selectors,
        want_allow,
        ..
    } = *ask;
    let mut pairs = Vec::new();
    let mut pruned = BTreeSet::new();
    let outside_account = selectors.contains(&Selector::OutsideAccount);
    for c in cands {
        // A kind that the selectors exclude whatever the target (`build` would give up on each pair).
        if c.selected && !admitted(w, &c.kind, selectors) {
            continue;
        }
        // `outside-account`: a chain's start is in the set for the targets of other accounts only
        // (`reach` keeps a second chain, from another account, where there is one).
        let start = if outside_account && !c.selected {
            start_account(c)
        } else {
            None
        };
        for t in ts {
            if start.is_some() && start == target_account(&c.kind, t, resources) {
                continue;
            }
            if want_allow && !could_allow(w, &c.kind, t, resources) {
                if let Target::Described { arn, .. } = t {
                    pruned.insert(match w.policies.get(arn).copied().flatten() {
                        Some(p) => format!("the Principal elements of {} {:?} (they name none of the other principals)", p.kind.name(), p.name),
                        None => format!("{arn} has no resource policy (no access from other accounts)"),
                    });
                }
                continue;
            }
            pairs.push((c, t));
        }
    }
    // Units of work: runs of consecutive pairs of one candidate over described targets, up to
    // GROUP_MAX, solved as one query first ([`run_group`]); other pairs alone.
    let mut units: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i + 1;
        if matches!(pairs[i].1, Target::Described { .. }) {
            while j < pairs.len()
                && j - i < GROUP_MAX
                && std::ptr::eq(pairs[j].0, pairs[i].0)
                && matches!(pairs[j].1, Target::Described { .. })
            {
                j += 1;
            }
        }
        units.push((i, j));
        i = j;
    }
    use std::sync::atomic::{AtomicUsize, Ordering};
    progress::plan(pairs.len());
    let next = AtomicUsize::new(0);
    let best = AtomicUsize::new(usize::MAX);
    let ran = AtomicUsize::new(0);
    let ticked = AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<(usize, Pair)>> = std::sync::Mutex::new(Vec::new());
    let push = |i: usize, r: Pair| {
        if let Ok(mut g) = results.lock() {
            g.push((i, r));
        }
    };
    let work = || loop {
        let u = next.fetch_add(1, Ordering::SeqCst);
        let Some(&(start, end)) = units.get(u) else {
            break;
        };
        if start > best.load(Ordering::SeqCst) {
            break;
        }
        if end - start > 1 {
            let members: Vec<&Target> = pairs[start..end].iter().map(|(_, t)| *t).collect();
            ran.fetch_add(1, Ordering::SeqCst);
            if let Some(core) = run_group(
                w,
                pairs[start].0,
                &members,
                ask,
                cfg,
                &format!("q{start}-{}", end - 1),
            ) {
                for _ in start..end {
                    progress::tick();
                }
                ticked.fetch_add(end - start, Ordering::SeqCst);
                push(start, Pair::Unsat(core));
                continue;
            }
        }
        // One by one, in order: the first model of the unit is the one a pair-by-pair search finds.
        for (i, &(c, t)) in pairs.iter().enumerate().take(end).skip(start) {
            if i > best.load(Ordering::SeqCst) {
                break;
            }
            ran.fetch_add(1, Ordering::SeqCst);
            let r = run_pair(w, c, t, ask, cfg, &format!("q{i}"));
            progress::tick();
            ticked.fetch_add(1, Ordering::SeqCst);
            let found = matches!(r, Pair::Found(_));
            if found {
                best.fetch_min(i, Ordering::SeqCst);
            }
            push(i, r);
            if found {
                break;
            }
        }
    };
    // Threads pay off only for many queries: each new thread builds its own Z3 context.
    let threads = if pairs.len() < 64 || units.len() < 2 {
        1
    } else {
        cfg.threads.clamp(1, 16)
    };
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    *queries += ran.load(Ordering::SeqCst);
    let mut results = results.into_inner().unwrap_or_default();
    progress::unplan(pairs.len().saturating_sub(ticked.load(Ordering::SeqCst)));
    results.sort_by_key(|(i, _)| *i);
    let mut unknown = None;
    let mut why = pruned;
    for (_, r) in results {
        match r {
            Pair::Found(chain) => return Search::Found(chain),
            Pair::Unknown(u) => {
                unknown.get_or_insert(u);
            }
            Pair::Unsat(core) => why.extend(core),
        }
    }
    match unknown {
        Some(u) => Search::Unknown(u),
        None => Search::NotFound(why),
    }
}

/// Can some principal of this kind be in Q's principal set for some target? Every selector but
/// `outside-account` (which depends on the target's account) is decided by the kind alone.
fn admitted(w: &World<'_>, kind: &Kind, selectors: &[Selector]) -> bool {
    selectors
        .iter()
        .all(|s| matches!(s, Selector::OutsideAccount) || kind_may_match(w, kind, s, None))
}

/// Roles reachable by chains of `sts:AssumeRole` from the candidates (a fixed point).
fn reach(
    w: &World<'_>,
    start: &[Cand],
    context: &BTreeMap<String, Option<ContextValue>>,
    selectors: &[Selector],
    cfg: &Config,
    queries: &mut usize,
) -> (Vec<Cand>, Option<String>) {
    // Q's own principals that the selectors exclude whatever the target start no chain.
    let mut all: Vec<Cand> = start
        .iter()
        .filter(|c| !c.selected || admitted(w, &c.kind, selectors))
        .cloned()
        .collect();
    let mut reached: BTreeSet<(String, String)> = BTreeSet::new();
    // Roles whose reachability the solver could not decide (and that were not reached another way).
    let mut unknown_roles: BTreeMap<String, String> = BTreeMap::new();
    let _ = context;
    // `outside-account` is about the account of the chain's last resource, which a hop does not
    // know: the hops take every start the other selectors admit (more starts, more roles reached:
    // a `none` proof stays sound), and `prove_property` checks a chain's start against its last
    // resource (`chain_start_in_resource_account`).
    let hop_selectors: Vec<Selector> = selectors
        .iter()
        .filter(|s| !matches!(s, Selector::OutsideAccount))
        .cloned()
        .collect();
    // With `outside-account`, a chain whose start is in its last resource's account is outside
    // the set: `search_in` leaves it out. So each role keeps a second chain, from a start in
    // another account than its first's, when there is one; one of the two is in the set for every
    // target. The start account of each reached role's first chain (`None`: in no account, e.g.
    // anonymous, so in the set for every target, and no second chain is needed).
    let outside_account = selectors.contains(&Selector::OutsideAccount);
    let mut first_start: BTreeMap<(String, String), Option<String>> = BTreeMap::new();
    let mut second: BTreeSet<(String, String)> = BTreeSet::new();
    loop {
        let mut added = false;
        for (id, a) in &w.estate().accounts {
            for r in a.roles.values() {
                let key = (id.clone(), r.name.clone());
                if reached.contains(&key) {
                    let Some(Some(s1)) = first_start.get(&key) else {
                        continue;
                    };
                    if !outside_account || second.contains(&key) {
                        continue;
                    }
                    // A second chain: from starts outside `s1` (a service acting for another
                    // source, or for none), through sessions whose chains start outside it.
                    let s1 = s1.clone();
                    let others: Vec<Cand> = all
                        .iter()
                        .filter(|c| c.selected || start_account(c).as_deref() != Some(&s1))
                        .cloned()
                        .collect();
                    let mut sels = hop_selectors.clone();
                    sels.push(Selector::NotAccounts(vec![s1.clone()]));
                    let again = format!("{} from outside {s1}", role_arn(id, r));
                    match search_hop(w, &others, id, r, &sels, cfg, queries) {
                        Search::Found(chain) => {
                            if chain_start_account(&chain).as_deref() == Some(&s1) {
                                // Not expected (the selectors exclude it): not a second start.
                                unknown_roles.insert(
                                    again,
                                    "the second chain found starts in the same account".into(),
                                );
                                continue;
                            }
                            second.insert(key);
                            unknown_roles.remove(&again);
                            all.push(role_cand(id, r, chain));
                            added = true;
                        }
                        Search::Unknown(u) => {
                            // Chains from other starts may exist: targets in `s1` are open.
                            unknown_roles.insert(again, u);
                        }
                        Search::NotFound(_) => {}
                    }
                    continue;
                }
                let arn = role_arn(id, r);
                // Search who can assume it among everything reached so far.
                match search_hop(w, &all, id, r, &hop_selectors, cfg, queries) {
                    Search::Found(chain) => {
                        reached.insert(key.clone());
                        first_start.insert(key, chain_start_account(&chain));
                        unknown_roles.remove(&arn);
                        all.push(role_cand(id, r, chain));
                        added = true;
                    }
                    Search::Unknown(u) => {
                        unknown_roles.insert(arn.clone(), u);
                    }
                    Search::NotFound(_) => {}
                }
            }
        }
        if !added {
            break;
        }
    }
    let unknown = unknown_roles
        .into_iter()
        .next()
        .map(|(arn, u)| format!("{arn}: {u}"));
    (all, unknown)
}

/// A described role's ARN.
fn role_arn(account: &str, r: &RoleDef) -> String {
    format!("arn:aws:iam::{account}:role{}{}", r.path, r.name)
}

/// The sessions of a described role, reached by `chain`.
fn role_cand(account: &str, r: &RoleDef, chain: Vec<Step>) -> Cand {
    Cand {
        kind: Kind::Role {
            account: account.to_string(),
            name: r.name.clone(),
            path: r.path.clone(),
        },
        chain,
        selected: false,
    }
}

/// Who among `cands` may assume the described role `r` of `account`: a hop of a chain.
fn search_hop(
    w: &World<'_>,
    cands: &[Cand],
    account: &str,
    r: &RoleDef,
    selectors: &[Selector],
    cfg: &Config,
    queries: &mut usize,
) -> Search {
    let arn = role_arn(account, r);
    let actions = ASSUME_ROLE_ACTION_NAMES.map(String::from).to_vec();
    let resources = vec![arn.clone()];
    let ts = [Target::Described {
        arn,
        sub: None,
        account: account.to_string(),
    }];
    let no_context = BTreeMap::new();
    let ask = Ask {
        actions: &actions,
        resources: &resources,
        context: &no_context,
        selectors,
        want_allow: true,
    };
    search_in(w, cands, &ts, &ask, cfg, queries)
}

/// The world of a property (with the accounts `extra` specs mention) and its principal kinds,
/// each a candidate of Q's own.
fn world_and_kinds<'s>(
    spec: &'s Spec,
    extra: &[&Spec],
    prop: &Property,
    cfg: &Config,
) -> (World<'s>, Vec<Cand>) {
    let mut w = World::new(spec, extra, Some(prop));
    w.service_linked_roles = cfg.service_linked_roles;
    let start = w
        .kinds()
        .into_iter()
        .map(|k| Cand {
            kind: k,
            chain: vec![],
            selected: true,
        })
        .collect();
    (w, start)
}

/// Prove one property of a spec.
pub fn prove_property(spec: &Spec, prop: &Property, cfg: &Config) -> PropertyResult {
    let t0 = Instant::now();
    let mut queries = 0;
    let result = |status, chain, reason: Option<String>, queries| PropertyResult {
        name: prop.name.clone(),
        status,
        elapsed_ms: t0.elapsed().as_millis(),
        chain,
        reason,
        queries,
        why: vec![],
    };
    if let Expectation::NoNewAccess { before } = &prop.expect {
        return match crate::spec::load_spec(before) {
            Err(e) => result(
                Status::Unknown,
                vec![],
                Some(format!("cannot read the earlier spec: {e}")),
                0,
            ),
            Ok(old) => no_new_access(spec, &old, prop, cfg, t0),
        };
    }
    let (w, start) = world_and_kinds(spec, &[], prop, cfg);
    let (cands, reach_unknown) = if prop.via_assume_role {
        // Sessions reached through chains join Q's principals; Q's selectors apply to the chain's start.
        let selected: Vec<Cand> = start;
        let (all, u) = reach(
            &w,
            &selected,
            &prop.context,
            &prop.principals,
            cfg,
            &mut queries,
        );
        (all, u)
    } else {
        (start, None)
    };
    let want_allow = !matches!(prop.expect, Expectation::All);
    // `all`: every request of Q's own principals must be allowed, directly or through a chain.
    // Search Q's principals for a denied request; a chain could still grant it, so a denial that a
    // reached role session would allow is not a counterexample (this ∀∃ case is reported unknown).
    let searched: Vec<Cand> = if want_allow {
        cands.clone()
    } else {
        cands.iter().filter(|c| c.selected).cloned().collect()
    };
    let ask = Ask::of(prop, want_allow);
    let mut found = search(&w, &searched, &ask, cfg, &mut queries);
    if let (false, Search::Found(chain)) = (want_allow, &found) {
        let reached: Vec<Cand> = cands.iter().filter(|c| !c.selected).cloned().collect();
        if let Some(last) = chain.last() {
            if !reached.is_empty() {
                let ctx: BTreeMap<String, Option<ContextValue>> = last
                    .context
                    .iter()
                    .map(|(k, v)| (k.clone(), Some(v.clone())))
                    .collect();
                let ask = Ask {
                    actions: std::slice::from_ref(&last.action),
                    resources: std::slice::from_ref(&last.resource),
                    context: &ctx,
                    selectors: &[],
                    want_allow: true,
                };
                let again = search(&w, &reached, &ask, cfg, &mut queries);
                if !matches!(again, Search::NotFound(_)) {
                    found = Search::Unknown(format!(
                        "{} is denied {} {} directly, but a role session reachable by AssumeRole may be allowed it; `all` over chains is not decided",
                        last.principal, last.action, last.resource
                    ));
                }
            }
        }
    }
    // `outside-account` over chains: the hops admitted starts in any account (see `reach`); a
    // chain whose start is in its last resource's account is outside Q. `search_in` leaves such
    // chains out, each role keeping a chain from another account where there is one; what is
    // left is a service whose `aws:SourceAccount` the final query chose (not searched past).
    if let Search::Found(chain) = &found {
        if chain.len() > 1
            && prop.principals.contains(&Selector::OutsideAccount)
            && chain_start_in_resource_account(chain)
        {
            found = Search::Unknown(format!(
                "outside-account over role chains: the chain found starts with {} in the account of its last resource, outside the set, and other starts are not searched",
                chain.first().map_or("", |s| s.principal.as_str())
            ));
        }
    }
    // A chain is replayed once more as a whole: each hop's session is the next step's principal.
    if let Search::Found(chain) = &found {
        if chain.len() > 1 {
            if let Err(e) = verify_chain(&w.spec.estate, chain, want_allow) {
                eprintln!("xverify: internal error: {e}");
                found = Search::Unknown(format!("internal error: {e}"));
            }
        }
    }
    match (&prop.expect, found) {
        (Expectation::None, Search::Found(c)) => result(
            Status::Refuted,
            c,
            Some("a request in the set is allowed".into()),
            queries,
        ),
        (Expectation::All, Search::Found(c)) => result(
            Status::Refuted,
            c,
            Some("a request in the set is denied".into()),
            queries,
        ),
        (Expectation::Some, Search::Found(c)) => result(
            Status::Proved,
            c,
            Some("a request in the set is allowed (witness)".into()),
            queries,
        ),
        (Expectation::NoNewAccess { .. }, Search::Found(_)) => result(
            Status::Unknown,
            vec![],
            Some("internal error: no-new-access searched as a request set".into()),
            queries,
        ),
        (_, Search::Unknown(u)) => result(Status::Unknown, vec![], Some(u), queries),
        (_, Search::NotFound(why)) => match reach_unknown {
            _ if w.incomplete.is_some() => {
                result(Status::Unknown, vec![], w.incomplete.clone(), queries)
            }
            Some(u) => result(
                Status::Unknown,
                vec![],
                Some(format!("role reachability: {u}")),
                queries,
            ),
            None => {
                if let Some(gap) = federated_gap(&w, prop).or_else(|| oai_gap(&w, prop)) {
                    return result(Status::Unknown, vec![], Some(gap), queries);
                }
                let mut r = match prop.expect {
                    Expectation::Some => result(
                        Status::Refuted,
                        vec![],
                        Some("no request in the set is allowed".into()),
                        queries,
                    ),
                    _ => result(Status::Proved, vec![], None, queries),
                };
                r.why = why.into_iter().collect();
                r
            }
        },
    }
}

/// A CloudFront origin access identity named by an `Allow` of a resource policy that may cover a
/// request of the property: CloudFront reads for its distribution (and so for whoever the
/// distribution serves), which no principal of the model stands for, so a property that found
/// nothing to allow (`none` proved, `some` refuted) is `unknown` (corpus/DECISIONS.md 41; audit
/// 10, bug 5).
fn oai_gap(w: &World<'_>, prop: &Property) -> Option<String> {
    if !matches!(prop.expect, Expectation::None | Expectation::Some) {
        return None;
    }
    for a in w.estate().accounts.values() {
        for (arn, r) in &a.resources {
            let Some(p) = &r.policy else { continue };
            for (i, st) in p.statements().iter().enumerate() {
                let Some(pe) = st.principal.as_ref().filter(|pe| !pe.not) else {
                    continue;
                };
                if st.effect != Effect::Allow || !may_cover(prop, arn, st) {
                    continue;
                }
                if let Some(AwsPrincipalRef::CloudFrontOai(oai)) = pe
                    .set
                    .aws
                    .iter()
                    .find(|e| matches!(e, AwsPrincipalRef::CloudFrontOai(_)))
                {
                    return Some(format!(
                        "statement {i} of {} {:?} grants CloudFront origin access identity {}, which reads for its distribution and which the model has no principal for",
                        p.kind.name(),
                        p.name,
                        xverify_engine::json::quote(oai)
                    ));
                }
            }
        }
    }
    None
}

/// Federation sessions (`GetFederationToken`, `arn:aws:sts::A:federated-user/N`) that the model
/// cannot tell apart, where a `Principal` may grant or deny them (corpus/DECISIONS.md 30, 32): a
/// property that could take in such a session and found nothing is then `unknown`.
/// - A described account's federation sessions are not among its principals (interfaces.md §3: a
///   described account has the principals it lists, plus its root), and `eval --spec` refuses
///   them: a statement naming one grants or denies it what its user may not have (audit 7,
///   bug 7).
/// - A user ARN names the user and also its federation sessions (iam-semantics.md §1.3, §3.4),
///   but a session's ARN does not say which user made it, so neither the engine nor the prover
///   matches it (audit 8, bug 10): a resource policy naming a user of any account may grant that
///   account's federated users. Trust policies are left out here: a federated user calls no STS
///   action but `GetCallerIdentity` (DECISIONS 16).
fn federated_gap(w: &World<'_>, prop: &Property) -> Option<String> {
    let estate = w.estate();
    for (id, a) in &estate.accounts {
        let resource = a
            .resources
            .iter()
            .filter_map(|(arn, r)| Some((r.policy.as_ref()?, arn.clone(), false)));
        let trust = a
            .roles
            .values()
            .filter_map(|r| Some((r.trust_policy.as_ref()?, role_arn(id, r), true)));
        for (p, arn, is_trust) in resource.chain(trust) {
            for (i, st) in p.statements().iter().enumerate() {
                let Some(pe) = &st.principal else { continue };
                if !may_cover(prop, &arn, st) {
                    continue;
                }
                for e in &pe.set.aws {
                    let (account, sessions, why) = match e {
                        AwsPrincipalRef::FederatedUser { account, arn, .. }
                            if estate.accounts.contains_key(account.as_str()) =>
                        {
                            (account, arn.clone(), format!("a federated user of described account {account}, whose federation sessions (GetFederationToken) the estate does not model"))
                        }
                        AwsPrincipalRef::User { account, arn, .. } if !is_trust => (
                            account,
                            format!("arn:aws:sts::{account}:federated-user/?*"),
                            format!("user {arn}, and so its federation sessions (GetFederationToken), which the model does not tell apart from other federated users of {account}"),
                        ),
                        _ => continue,
                    };
                    if federation_held(w, prop, account, &sessions) {
                        return Some(format!(
                            "statement {i} of {} {:?} names {why}",
                            p.kind.name(),
                            p.name
                        ));
                    }
                }
            }
        }
    }
    None
}

/// May statement `st` of the policy of resource `arn` cover a request of the property: by its
/// action, and by its resource (`arn` or one under it). Over-approximated: `NotAction`, and a
/// property without actions or resources (`no-new-access`), cover everything.
fn may_cover(prop: &Property, arn: &str, st: &Statement) -> bool {
    let some = |patterns: Lang, domain: Lang| {
        crate::classes::classes(
            &[patterns],
            Some(&domain),
            &crate::classes::Limits::default(),
        )
        .map_or(true, |cs| cs.iter().any(|c| c.sig[0]))
    };
    let mut under = Pattern::literal(arn, false);
    under.atoms.push(Atom::Star);
    let resources =
        prop.resources.is_empty() || some(glob_lang(&prop.resources), Lang::single(under));
    let actions = st.action.not
        || prop.actions.is_empty()
        || some(
            Lang {
                alts: prop
                    .actions
                    .iter()
                    .map(|a| Pattern::glob(a, true))
                    .collect(),
            },
            Lang {
                alts: st
                    .action
                    .patterns
                    .iter()
                    .map(|t| Pattern::glob(t.source(), true))
                    .collect(),
            },
        );
    resources && actions
}

/// May the property's set hold a federation session of `account` whose ARN `sessions` (a glob)
/// matches? Over-approximated where a selector is not one of ARNs.
fn federation_held(w: &World<'_>, prop: &Property, account: &str, sessions: &str) -> bool {
    let domain = Lang::single(Pattern::glob(sessions, false));
    // Is some session ARN in (`inside`) or out of the patterns?
    let some = |patterns: &[String], inside: bool| match crate::classes::classes(
        &[glob_lang(patterns)],
        Some(&domain),
        &crate::classes::Limits::default(),
    ) {
        Ok(cs) => cs.iter().any(|c| c.sig[0] == inside),
        Err(_) => true,
    };
    prop.principals.iter().all(|s| match s {
        Selector::Anyone | Selector::OutsideAccount => true,
        Selector::Anonymous | Selector::Service(_) => false,
        Selector::OutsideOrganization => !w.in_org(account),
        Selector::Accounts(l) => l.iter().any(|x| x == account),
        Selector::NotAccounts(l) => !l.iter().any(|x| x == account),
        Selector::Arns(p) => some(p, true),
        Selector::NotArns(p) => some(p, false),
    })
}

/// `no-new-access`: nothing the spec allows that `old` did not, for every principal (role sessions
/// included, so a new chain shows up as a new direct `sts:AssumeRole`).
fn no_new_access(
    spec: &Spec,
    old: &Spec,
    prop: &Property,
    cfg: &Config,
    t0: Instant,
) -> PropertyResult {
    let unknown = |reason: String, queries| PropertyResult {
        name: prop.name.clone(),
        status: Status::Unknown,
        elapsed_ms: t0.elapsed().as_millis(),
        chain: vec![],
        reason: Some(reason),
        queries,
        why: vec![],
    };
    // A role whose trust policy now allows sts:TagSession has sessions with tags of the caller's
    // choosing, where before they carried the role's own: the two versions' requests are then not
    // alike, which the comparison below assumes (audit 5, bug 6).
    for (id, a) in &spec.estate.accounts {
        for r in a.roles.values() {
            let before = old
                .estate
                .accounts
                .get(id)
                .and_then(|o| o.roles.get(&r.name));
            if r.may_tag_sessions() && before.is_some_and(|b| !b.may_tag_sessions()) {
                return unknown(
                    format!(
                        "role {} of {id} now allows sts:TagSession: its sessions may carry new tags, which no-new-access does not compare",
                        r.name
                    ),
                    0,
                );
            }
        }
    }
    let direct = no_new_access_direct(spec, old, prop, cfg, t0, &|_| true);
    if direct.status != Status::Proved {
        return direct;
    }
    // Chains. Q's principals may reach roles by sts:AssumeRole*; a session reached through a chain
    // acts for the chain's start. With no new AssumeRole* access anywhere and no new access to Q
    // for any role reached, every chain of the new version was possible before, hop by hop, with
    // the same last request; otherwise the answer is unknown (a `none` property with
    // `via_assume_role` tells what the chains reach).
    let mut queries = direct.queries;
    let (w, start) = world_and_kinds(spec, &[old], prop, cfg);
    let (all, u) = reach(
        &w,
        &start,
        &prop.context,
        &prop.principals,
        cfg,
        &mut queries,
    );
    let reached: BTreeSet<(String, String)> = all
        .iter()
        .filter(|c| !c.selected)
        .filter_map(|c| match &c.kind {
            Kind::Role { account, name, .. } => Some((account.clone(), name.clone())),
            _ => None,
        })
        .collect();
    if let Some(u) = u {
        return unknown(format!("role reachability: {u}"), queries);
    }
    if reached.is_empty() {
        return PropertyResult { queries, ..direct };
    }
    let mut anyone = prop.clone();
    anyone.principals = vec![];
    let roles = no_new_access_direct(
        spec,
        old,
        &anyone,
        cfg,
        t0,
        &|k| matches!(k, Kind::Role { account, name, .. } if reached.contains(&(account.clone(), name.clone()))),
    );
    queries += roles.queries;
    // What a non-proved result found: its first request, else its reason.
    let first_request = |r: &PropertyResult| {
        r.chain
            .first()
            .map(|s| format!("{} {} {}", s.principal, s.action, s.resource))
            .unwrap_or_else(|| r.reason.clone().unwrap_or_default())
    };
    if roles.status != Status::Proved {
        let what = first_request(&roles);
        return unknown(
            format!("a role the principals reach by AssumeRole has new access ({what}); whether a chain's start had it before is not compared"),
            queries,
        );
    }
    let mut edges = anyone;
    edges.actions = ASSUME_ROLE_ACTION_NAMES.map(String::from).to_vec();
    edges.resources = [spec, old]
        .iter()
        .flat_map(|s| s.estate.accounts.iter())
        .flat_map(|(id, a)| a.roles.values().map(move |r| role_arn(id, r)))
        .collect();
    edges.context = BTreeMap::new();
    let hops = no_new_access_direct(spec, old, &edges, cfg, t0, &|_| true);
    queries += hops.queries;
    if hops.status != Status::Proved {
        let what = first_request(&hops);
        return unknown(
            format!("a new AssumeRole hop ({what}) may start chains that were not possible before; they are not compared"),
            queries,
        );
    }
    PropertyResult { queries, ..direct }
}

/// `no-new-access` over direct requests of the principal kinds `keep` admits.
fn no_new_access_direct(
    spec: &Spec,
    old: &Spec,
    prop: &Property,
    cfg: &Config,
    t0: Instant,
    keep: &dyn Fn(&Kind) -> bool,
) -> PropertyResult {
    let mut queries = 0;
    let mut w_new = World::new(spec, &[old], Some(prop));
    let mut w_old = World::new(old, &[spec], Some(prop));
    w_new.service_linked_roles = cfg.service_linked_roles;
    w_old.service_linked_roles = cfg.service_linked_roles;
    let mut kinds = w_new.kinds();
    for k in w_old.kinds() {
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    kinds.retain(|k| keep(k));
    let mut unknown: Option<String> = w_new.incomplete.clone().or(w_old.incomplete.clone());
    let mut ts = targets(&w_new, &prop.resources);
    for t in targets(&w_old, &prop.resources) {
        if let Target::Described { arn, .. } = &t {
            if !ts
                .iter()
                .any(|x| matches!(x, Target::Described { arn: a, .. } if a == arn))
            {
                ts.insert(0, t);
            }
        }
    }
    let done = |status, chain, reason, queries| PropertyResult {
        name: prop.name.clone(),
        status,
        elapsed_ms: t0.elapsed().as_millis(),
        chain,
        reason,
        queries,
        why: vec![],
    };
    // A request the new estate allows (and the old one denies, added below).
    let ask = Ask::of(prop, true);
    progress::plan(kinds.len() * ts.len());
    for k in &kinds {
        for t in &ts {
            progress::tick();
            // Build the query in the new estate, then add the old estate's decision over the same
            // symbolic request.
            let qn = build(&w_new, k, true, t, &ask);
            let mut q = match qn {
                Ok(Some(q)) => q,
                Ok(None) => continue,
                Err(u) => {
                    unknown.get_or_insert(u.to_string());
                    continue;
                }
            };
            let set_new = q.set.clone();
            // The old estate's policies for the same principal and resource.
            let rep = q.sym.fixed.clone();
            let mut er = EstateRequest::new(rep.principal.clone(), &rep.action, &rep.resource);
            er.resource_account = rep.resource_account.clone();
            let set_old = match gather_representative(&old.estate, er) {
                Ok((s, req_old)) => {
                    if req_old.context != rep.context {
                        unknown.get_or_insert("the two versions give the principal or resource different organization keys or tags; compare them with a `none` property instead".into());
                        continue;
                    }
                    s
                }
                // The principal does not exist in the old version: everything it may do is new.
                Err(_) => PolicySet::default(),
            };
            let fa = allow_formula(&mut q.sym, &set_new);
            let fo = allow_formula(&mut q.sym, &set_old);
            let (fa, fo) = match (fa, fo) {
                (Ok(a), Ok(o)) => (a, o),
                (Err(u), _) | (_, Err(u)) => {
                    unknown.get_or_insert(u.to_string());
                    continue;
                }
            };
            if let Err(u) = request_constraints(&w_new, &mut q) {
                unknown.get_or_insert(u.to_string());
                continue;
            }
            // A CanonicalUser statement of either version may decide the requests it covers
            // otherwise than the engine (corpus/DECISIONS.md 25).
            let mut canonical = Vec::new();
            for set in [&set_new, &set_old] {
                match canonical_statements(&mut q.sym, set) {
                    Ok(cs) => canonical.extend(cs),
                    Err(u) => {
                        unknown.get_or_insert(u.to_string());
                    }
                }
            }
            if let Some(c) = canonical.iter().find(|c| {
                !matches!(
                    check(&q.sym, &c.scope, cfg, "nna-canonical").0,
                    Outcome::Unsat
                )
            }) {
                unknown.get_or_insert(format!(
                    "{}: AWS may decide the requests it covers otherwise",
                    c.label
                ));
                continue;
            }
            queries += 1;
            match check(
                &q.sym,
                &F::and2(fa, F::not(fo)),
                cfg,
                &format!("nna{queries}"),
            )
            .0
            {
                Outcome::Unsat => {
                    if may_carry_session_policy(k) {
                        if let Some(u) = new_past_session_policies(&mut q, &set_new, &set_old, cfg)
                        {
                            unknown.get_or_insert(u);
                        }
                    }
                }
                Outcome::Unknown(u) => {
                    unknown.get_or_insert(u);
                }
                Outcome::Sat(a) => {
                    let er = request_of(&q, &a);
                    let new = replay(&spec.estate, &er);
                    let was = replay(&old.estate, &er);
                    match (new, was) {
                        (Ok(n), Ok(o))
                            if n.decision == Decision::Allow && o.decision != Decision::Allow =>
                        {
                            return done(
                                Status::Refuted,
                                vec![n],
                                Some(format!("allowed now, {} before", o.decision.as_str())),
                                queries,
                            );
                        }
                        (Ok(_), Err(_)) => {
                            let n = replay(&spec.estate, &er).ok();
                            return done(
                                Status::Refuted,
                                n.into_iter().collect(),
                                Some("allowed now; the principal did not exist before".into()),
                                queries,
                            );
                        }
                        _ => {
                            let msg = "internal error: the solver's new access did not replay"
                                .to_string();
                            eprintln!("xverify: {msg}");
                            unknown.get_or_insert(msg);
                        }
                    }
                }
            }
        }
    }
    match unknown {
        Some(u) => done(Status::Unknown, vec![], Some(u), queries),
        None => done(Status::Proved, vec![], None, queries),
    }
}

/// no-new-access compares each request of a session as the prover builds it, without a session
/// policy (the open world's federated users with the allow-all one). A session created with one
/// that does not allow the request has only the grants that a session policy does not limit
/// (a same-account resource policy naming the session or `"*"`, corpus/DECISIONS.md 7), so such
/// a grant new in `set_new` is new access for it even where the identity policies allowed the
/// request before. Any session policy that does not deny the request acts on it as none or as
/// one that allows nothing: compare the latter too. `Some(reason)` when a request may be
/// allowed now and not before under it (or the solver cannot tell).
fn new_past_session_policies(
    q: &mut Query,
    set_new: &PolicySet,
    set_old: &PolicySet,
    cfg: &Config,
) -> Option<String> {
    let nothing = Policy::new(
        "a session policy that allows nothing".into(),
        PolicyKind::Session,
        None,
        None,
        vec![],
    );
    let with_nothing = |set: &PolicySet| PolicySet {
        session: Some(nothing.clone()),
        ..set.clone()
    };
    let fa = allow_formula(&mut q.sym, &with_nothing(set_new));
    let fo = allow_formula(&mut q.sym, &with_nothing(set_old));
    let (fa, fo) = match (fa, fo) {
        (Ok(a), Ok(o)) => (a, o),
        (Err(u), _) | (_, Err(u)) => return Some(u.to_string()),
    };
    match check(&q.sym, &F::and2(fa, F::not(fo)), cfg, "nna-session-policy").0 {
        Outcome::Unsat => None,
        _ => Some(format!(
            "{} created with a session policy may be allowed a request now that it was denied before (a grant a session policy does not limit, corpus/DECISIONS.md 7): no-new-access does not compare sessions with session policies",
            session_label(&q.kind)
        )),
    }
}

/// Unused marker to keep `Residence` imported for documentation links.
#[allow(dead_code)]
fn _residence(_: Residence<'_>) {}

/// Live counters of solver queries, for a progress display (`xverify prove` on a terminal). They
/// count every query of the process: the display shows `done / planned`, and `planned` grows as
/// searches are set up (the AssumeRole fixed point does not know its size in advance).
pub mod progress {
    use std::sync::atomic::{AtomicUsize, Ordering};

    static PLANNED: AtomicUsize = AtomicUsize::new(0);
    static DONE: AtomicUsize = AtomicUsize::new(0);

    /// `n` more queries are about to run.
    pub fn plan(n: usize) {
        PLANNED.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` planned queries will not run after all (a search stopped at its first model).
    pub fn unplan(n: usize) {
        let _ = PLANNED.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| {
            Some(p.saturating_sub(n))
        });
    }

    /// One query finished.
    pub fn tick() {
        DONE.fetch_add(1, Ordering::Relaxed);
    }

    /// (done, planned) so far.
    pub fn snapshot() -> (usize, usize) {
        let d = DONE.load(Ordering::Relaxed);
        (d, PLANNED.load(Ordering::Relaxed).max(d))
    }
}

/// `xverify graph`: who can assume which role. One query per (principal kind, role) pair, the
/// same queries (`could_allow`, `run_pair`) that the AssumeRole fixed point [`reach`] runs, kept
/// hop by hop instead of stopping at the first model per role.
pub mod assume_graph {
    use std::collections::BTreeMap;

    use super::{role_arn, Ask};

    use xverify_engine::estate::EstateRequest;
    use xverify_engine::model::{Effect, Principal, Statement};

    use super::{could_allow, progress, run_pair, Cand, Kind, Pair, Target, World};
    use crate::solve::Config;
    use crate::spec::{Property, Spec};
    use xverify_engine::model::SERVICE_LINKED_ROLE_PREFIX;

    /// A principal class: a described role, user or root user, the open world's principals of an
    /// account, a service, an identity provider's users, anonymous callers.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Node {
        /// Stable and sortable: the role, user or root ARN; `arn:aws:iam::A:role/*` (and `user/*`,
        /// `role/aws-service-role/*`, `arn:aws:sts::A:federated-user/*`) for an undescribed
        /// account's principals; the service or identity provider name; `anonymous`.
        pub id: String,
        /// A short description (`role DeployRole`, `any user`, `service cloudtrail.amazonaws.com`).
        pub label: String,
        /// The account it lives in; `None` for services, identity providers' users (outside every
        /// account, as the prover treats them) and anonymous callers.
        pub account: Option<String>,
        /// A described role: a possible target of `sts:AssumeRole*`.
        pub is_role: bool,
    }

    /// The trust policy statement that allows a hop.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Grant {
        pub policy: String,
        pub index: usize,
        pub statement: Statement,
    }

    /// What the query of one (principal kind, role) pair found.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Hop {
        /// A model the engine replayed: `action` (`sts:AssumeRole*`) allowed, by `grant`.
        Possible {
            action: String,
            context: BTreeMap<String, Vec<String>>,
            grant: Option<Box<Grant>>,
        },
        /// The solver could not decide (timeout, unsupported construct).
        Unknown(String),
    }

    #[derive(Debug, Clone, PartialEq)]
    pub struct Edge {
        pub from: String,
        /// A role node.
        pub to: String,
        pub hop: Hop,
    }

    /// An account the graph mentions.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AccountInfo {
        pub id: String,
        pub name: Option<String>,
        /// Described by the spec (complete) or part of the open world.
        pub described: bool,
        pub in_org: bool,
        /// The fresh account standing for every account nobody mentions.
        pub others: bool,
    }

    /// The AssumeRole graph of an estate.
    #[derive(Debug, Clone)]
    pub struct Graph {
        /// Every principal kind, sorted by id.
        pub nodes: Vec<Node>,
        /// Possible and unknown hops, sorted by (from, to); impossible ones are absent.
        pub edges: Vec<Edge>,
        pub accounts: Vec<AccountInfo>,
        pub queries: usize,
        kinds: Vec<(Kind, String)>,
    }

    fn node_of_kind(w: &World<'_>, k: &Kind) -> Node {
        let (id, label, account) = match k {
            Kind::Role {
                account,
                name,
                path,
            } => (
                format!("arn:aws:iam::{account}:role{path}{name}"),
                if path == "/" {
                    format!("role {name}")
                } else {
                    format!("role {path}{name}")
                },
                Some(account.clone()),
            ),
            Kind::User {
                account,
                name,
                path,
            } => (
                format!("arn:aws:iam::{account}:user{path}{name}"),
                format!("user {name}"),
                Some(account.clone()),
            ),
            Kind::Root { account } => (
                format!("arn:aws:iam::{account}:root"),
                "root user".to_string(),
                Some(account.clone()),
            ),
            Kind::OpenRole { account } => (
                format!("arn:aws:iam::{account}:role/*"),
                "any role".to_string(),
                Some(account.clone()),
            ),
            Kind::OpenUser { account } => (
                format!("arn:aws:iam::{account}:user/*"),
                "any user".to_string(),
                Some(account.clone()),
            ),
            Kind::OpenFederated { account } => (
                format!("arn:aws:sts::{account}:federated-user/*"),
                "any federated user".to_string(),
                Some(account.clone()),
            ),
            Kind::OpenServiceLinkedRole { account } => (
                format!("arn:aws:iam::{account}:role/aws-service-role/*"),
                "any service-linked role".to_string(),
                Some(account.clone()),
            ),
            Kind::Service { name } => (
                name.clone(),
                if w.services.last() == Some(name) {
                    "any other service".to_string()
                } else {
                    format!("service {name}")
                },
                None,
            ),
            Kind::IdentityProvider { name } => {
                let parts = xverify_engine::pattern::split_arn(name);
                let (label, account) = match parts {
                    Some([_, _, _, _, acct, res]) if xverify_engine::model::is_account_id(acct) => {
                        let (ty, host) = res.split_once('/').unwrap_or(("", res));
                        let what = if ty == "saml-provider" {
                            "SAML"
                        } else {
                            "OIDC"
                        };
                        (format!("{what} users of {host} (provider in {acct})"), None)
                    }
                    _ => (format!("users of identity provider {name}"), None),
                };
                (name.clone(), label, account)
            }
            Kind::Anonymous => (
                "anonymous".to_string(),
                "anonymous callers".to_string(),
                None,
            ),
        };
        Node {
            id,
            label,
            account,
            is_role: matches!(k, Kind::Role { .. }),
        }
    }

    /// The trust policy statement that allowed a replayed hop: from the engine's reasons, else the
    /// first Allow statement of the trust policy whose action matches.
    fn grant_of(w: &World<'_>, step: &super::Step, role_arn: &str) -> Option<Grant> {
        let p = Principal::parse(&step.principal).ok()?;
        let mut er = EstateRequest::new(p, &step.action, &step.resource);
        er.resource_account = step.resource_account.clone();
        for (k, v) in &step.context {
            er.context.insert(k, v.clone());
        }
        if let Ok((set, req)) = w.estate().gather(&er) {
            let r = xverify_engine::authorize(&set, &req);
            if let Some(x) = r
                .reasons
                .iter()
                .find(|x| x.role == xverify_engine::Role::Resource && x.effect() == Effect::Allow)
            {
                if let Some(st) = x.policy.statements().get(x.statement) {
                    return Some(Grant {
                        policy: x.policy.name.clone(),
                        index: x.statement,
                        statement: st.clone(),
                    });
                }
            }
        }
        let trust = w.policies.get(role_arn).copied().flatten()?;
        let action = step.action.to_ascii_lowercase();
        trust
            .statements()
            .iter()
            .enumerate()
            .find(|(_, st)| {
                st.effect == Effect::Allow
                    && (st.action.patterns.iter().any(|p| p.matches_plain(&action))
                        != st.action.not)
            })
            .map(|(i, st)| Grant {
                policy: trust.name.clone(),
                index: i,
                statement: st.clone(),
            })
    }

    /// Build the graph: every (principal kind, role) pair that the Principal elements let through
    /// is one query for `sts:AssumeRole`, `AssumeRoleWithWebIdentity` or `AssumeRoleWithSAML` on
    /// the role, with no constraint on the principal's free parts or the context. With a property,
    /// the world is the one its proof uses (the accounts and services it mentions).
    pub fn assume_role_graph(spec: &Spec, prop: Option<&Property>, cfg: &Config) -> Graph {
        let mut w = World::new(spec, &[], prop);
        w.service_linked_roles = cfg.service_linked_roles;
        let kinds = w.kinds();
        let mut roles = Vec::new();
        for (id, a) in &w.estate().accounts {
            for r in a.roles.values() {
                roles.push((
                    role_arn(id, r),
                    Target::Described {
                        arn: role_arn(id, r),
                        sub: None,
                        account: id.clone(),
                    },
                ));
            }
        }
        let actions = [
            "sts:AssumeRole".to_string(),
            "sts:AssumeRoleWithWebIdentity".to_string(),
            "sts:AssumeRoleWithSAML".to_string(),
        ];
        let nodes_by_kind: Vec<(Kind, Node)> = kinds
            .iter()
            .map(|k| (k.clone(), node_of_kind(&w, k)))
            .collect();
        let mut pairs = Vec::new();
        for (ki, k) in kinds.iter().enumerate() {
            for (ri, (arn, t)) in roles.iter().enumerate() {
                if could_allow(&w, k, t, std::slice::from_ref(arn)) {
                    pairs.push((ki, ri));
                }
            }
        }
        use std::sync::atomic::{AtomicUsize, Ordering};
        progress::plan(pairs.len());
        let next = AtomicUsize::new(0);
        let results: std::sync::Mutex<Vec<Edge>> = std::sync::Mutex::new(Vec::new());
        let no_context = BTreeMap::new();
        let work = || loop {
            let i = next.fetch_add(1, Ordering::SeqCst);
            let Some(&(ki, ri)) = pairs.get(i) else { break };
            let (arn, t) = &roles[ri];
            let cand = Cand {
                kind: kinds[ki].clone(),
                chain: vec![],
                selected: false,
            };
            let ask = Ask {
                actions: &actions,
                resources: std::slice::from_ref(arn),
                context: &no_context,
                selectors: &[],
                want_allow: true,
            };
            let r = run_pair(&w, &cand, t, &ask, cfg, &format!("g{i}"));
            progress::tick();
            let hop = match r {
                Pair::Unsat(_) => continue,
                Pair::Unknown(u) => Hop::Unknown(u),
                Pair::Found(chain) => match chain.last() {
                    Some(step) => Hop::Possible {
                        action: step.action.clone(),
                        context: step
                            .context
                            .iter()
                            .map(|(k, v)| (k.clone(), v.values().to_vec()))
                            .collect(),
                        grant: grant_of(&w, step, arn).map(Box::new),
                    },
                    None => continue,
                },
            };
            let e = Edge {
                from: nodes_by_kind[ki].1.id.clone(),
                to: arn.clone(),
                hop,
            };
            if let Ok(mut g) = results.lock() {
                g.push(e);
            }
        };
        let threads = if pairs.len() < 16 {
            1
        } else {
            cfg.threads.clamp(1, 16)
        };
        if threads == 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(work);
                }
            });
        }
        let mut edges = results.into_inner().unwrap_or_default();
        edges.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        let mut nodes: Vec<Node> = nodes_by_kind.iter().map(|(_, n)| n.clone()).collect();
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        nodes.dedup_by(|a, b| a.id == b.id);
        let others = w.open_accounts.last().cloned();
        let mut ids: Vec<&String> = w
            .estate()
            .accounts
            .keys()
            .chain(w.open_accounts.iter())
            .collect();
        ids.sort();
        ids.dedup();
        let accounts = ids
            .into_iter()
            .map(|id| {
                let described = w.estate().accounts.get(id);
                AccountInfo {
                    id: id.clone(),
                    name: described.and_then(|a| a.name.clone()),
                    described: described.is_some(),
                    in_org: w.in_org(id),
                    others: others.as_ref() == Some(id),
                }
            })
            .collect();
        Graph {
            nodes,
            edges,
            accounts,
            queries: pairs.len(),
            kinds: nodes_by_kind.into_iter().map(|(k, n)| (k, n.id)).collect(),
        }
    }

    impl Graph {
        /// The node of a request principal (a session, user, root, federated user, service,
        /// identity provider or `anonymous`) or of a role ARN.
        pub fn node_of(&self, principal: &str) -> Option<&str> {
            let p = Principal::parse(principal).ok()?;
            let find = |f: &dyn Fn(&Kind) -> bool| {
                self.kinds
                    .iter()
                    .find(|(k, _)| f(k))
                    .map(|(_, id)| id.as_str())
            };
            match &p {
                Principal::AssumedRole { account, role, .. }
                | Principal::Role {
                    account,
                    name: role,
                    ..
                } => find(&|k| {
                    matches!(k, Kind::Role { account: a, name, .. } if a == account && name == role)
                })
                .or_else(|| {
                    // Without --service-linked-roles an open role takes every name.
                    role.starts_with(SERVICE_LINKED_ROLE_PREFIX)
                        .then(|| {
                            find(&|k| {
                                matches!(k, Kind::OpenServiceLinkedRole { account: a } if a == account)
                            })
                        })
                        .flatten()
                        .or_else(|| {
                            find(&|k| matches!(k, Kind::OpenRole { account: a } if a == account))
                        })
                }),
                Principal::User { account, name, .. } => find(&|k| {
                    matches!(k, Kind::User { account: a, name: n, .. } if a == account && n == name)
                })
                .or_else(|| find(&|k| matches!(k, Kind::OpenUser { account: a } if a == account))),
                Principal::Root { account, .. } => {
                    find(&|k| matches!(k, Kind::Root { account: a } if a == account))
                }
                Principal::FederatedUser { account, .. } => {
                    find(&|k| matches!(k, Kind::OpenFederated { account: a } if a == account))
                }
                Principal::Service(s) => {
                    find(&|k| matches!(k, Kind::Service { name } if name.eq_ignore_ascii_case(s)))
                }
                Principal::IdentityProvider(s) => {
                    find(&|k| matches!(k, Kind::IdentityProvider { name } if name == s))
                }
                Principal::Anonymous => find(&|k| matches!(k, Kind::Anonymous)),
            }
        }
    }
}
