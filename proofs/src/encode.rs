//! The decision as a formula over a symbolic request.
//!
//! How each IAM notion becomes a formula (lowered to Z3 by `solve.rs`):
//!
//! - **Strings** (action, resource ARN, a role's path and name, a session name, each string-valued
//!   context key) are *string variables*. Every test the policies apply to one — a glob of an
//!   `Action`/`Resource` element, a `StringLike` value, an ARN matched segment by segment, a literal —
//!   is a regular language ([`Lang`]) registered on that variable. `solve.rs` computes the classes of
//!   each variable (the realizable membership vectors, each with a witness string) and gives the
//!   variable an enumeration sort with one value per class, so a test is a finite disjunction and
//!   every model maps back to concrete strings. This is exact: two strings of one class agree on every
//!   test the policies can make.
//! - **Context keys** the caller controls are free: a presence bit plus a value of the key's family
//!   (string class; a set of classes for multivalued keys used with `ForAnyValue`/`ForAllValues`,
//!   with a second bit telling a key given as an empty array from a missing one ([`F::Given`]);
//!   an integer for numbers, in half-millionths (policy numbers, of six
//!   decimals at most, are even: a value lies strictly between any two); milliseconds for dates; a 128-bit vector for IPs).
//!   Keys the estate determines (the principal's account, organization, tags; the resource's account
//!   and tags; the property's fixed context) are constants, so conditions on them fold to true or false
//!   before the solver sees them.
//! - **Principals** are concrete, except the parts an open world leaves free: an undescribed account's
//!   role or user name (with path), and a role session's name. A `Principal` element entry becomes a
//!   test on those.
//! - **The decision** transcribes `xverify_engine::eval` step by step: explicit deny anywhere; SCP levels;
//!   RCP denies (for RCP-supported services, by the action's prefix); identity ∩ boundary ∩ session
//!   policy; the resource policy by the way it names the principal; same- vs cross-account; trust and
//!   key policies that must allow.
//!
//! A service's key read by plain operators only may still be given as an array of several values
//! (every plain operator on it is then false, DECISIONS 1): a bit per such key ([`F::Many`]). Global
//! keys AWS documents as single-valued never are.
//!
//! Anything outside this fragment (a policy variable over a free key, `BinaryEquals` on a free key, a
//! plain operator on a multivalued key, one key used with two operator families) is
//! [`Unsupported`]: the property's answer is then `unknown`, never `proved`.

use std::collections::HashMap;

use xverify_engine::eval::{
    principal_set_match, PrincipalMatch, ASSUME_ROLE_ACTIONS, LONG_TERM_ONLY_ACTIONS, RCP_SERVICES,
    TRUST_ACTIONS,
};
use xverify_engine::model::*;
use xverify_engine::pattern::{self as epat, ArnTemplate, Template};
use xverify_engine::PolicySet;

use crate::classes::{Atom, Lang, Pattern};

/// A construct the encoding cannot express exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported: {0}")]
pub struct Unsupported(pub String);

pub type VarId = usize;
pub type LangId = usize;
pub type KeyId = usize;

/// Comparison of a numeric or date value with a policy value (request OP policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A formula over the symbolic request.
#[derive(Debug, Clone, PartialEq)]
pub enum F {
    Const(bool),
    And(Vec<F>),
    Or(Vec<F>),
    Not(Box<F>),
    /// String variable in a language.
    In(VarId, LangId),
    /// Context key present (with at least one value).
    Present(KeyId),
    /// Context key given in the request, possibly as an empty array (`"aws:TagKeys": []`).
    /// Differs from [`F::Present`] only for multivalued keys: the engine treats an empty array
    /// as absent everywhere except `ForAnyValue:...IfExists`, which an empty array does not
    /// rescue (corpus/DECISIONS.md 2).
    Given(KeyId),
    /// A key read by plain operators only, given as an array of two or more values: every plain
    /// operator on it is false, negated and `IfExists` ones included (corpus/DECISIONS.md 1).
    /// Implies [`F::Present`].
    Many(KeyId),
    /// Multivalued key: some element's class is (`pos`) / is not in one of the languages.
    AnyIn(KeyId, Vec<LangId>, bool),
    /// Multivalued key: every element's class is (`pos`) / is not in one of the languages.
    AllIn(KeyId, Vec<LangId>, bool),
    /// Numeric key: the value is a number (in half-millionths, [`scale`]) and compares.
    Num(KeyId, Cmp, i128),
    Date(KeyId, Cmp, i64),
    Ip(KeyId, epat::Cidr),
    /// A guard: the named statement, condition block or guardrail is in force. Guards are all true
    /// in the query; the solver's unsat core over them says which ones a proof needs.
    Guard(usize),
}

impl F {
    pub fn t() -> F {
        F::Const(true)
    }
    pub fn no() -> F {
        F::Const(false)
    }
    pub fn and(items: impl IntoIterator<Item = F>) -> F {
        let mut out = Vec::new();
        for i in items {
            match i {
                F::Const(true) => {}
                F::Const(false) => return F::no(),
                F::And(v) => out.extend(v),
                x => out.push(x),
            }
        }
        match out.len() {
            0 => F::t(),
            1 => out.pop().unwrap_or(F::t()),
            _ => F::And(out),
        }
    }
    pub fn or(items: impl IntoIterator<Item = F>) -> F {
        let mut out = Vec::new();
        for i in items {
            match i {
                F::Const(false) => {}
                F::Const(true) => return F::t(),
                F::Or(v) => out.extend(v),
                x => out.push(x),
            }
        }
        match out.len() {
            0 => F::no(),
            1 => out.pop().unwrap_or(F::no()),
            _ => F::Or(out),
        }
    }
    /// `a` exactly when `b`.
    pub fn iff(a: F, b: F) -> F {
        F::or2(F::and2(a.clone(), b.clone()), F::and2(F::not(a), F::not(b)))
    }
    #[allow(clippy::should_implement_trait)]
    pub fn not(x: F) -> F {
        match x {
            F::Const(b) => F::Const(!b),
            F::Not(inner) => *inner,
            x => F::Not(Box::new(x)),
        }
    }
    pub fn and2(a: F, b: F) -> F {
        F::and([a, b])
    }
    pub fn or2(a: F, b: F) -> F {
        F::or([a, b])
    }
    pub fn as_const(&self) -> Option<bool> {
        match self {
            F::Const(b) => Some(*b),
            _ => None,
        }
    }
}

/// A string variable and the languages tested on it.
#[derive(Debug, Clone, Default)]
pub struct StrVar {
    pub name: String,
    pub langs: Vec<Lang>,
    index: HashMap<Lang, LangId>,
}

impl StrVar {
    pub fn lang(&mut self, l: Lang) -> LangId {
        if let Some(&i) = self.index.get(&l) {
            return i;
        }
        let i = self.langs.len();
        self.index.insert(l.clone(), i);
        self.langs.push(l);
        i
    }
}

/// The value family of a free context key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Only presence is tested (`Null`).
    Untyped,
    Str,
    /// Multivalued (set operators): a set of string classes.
    Multi,
    Num,
    Date,
    Ip,
}

/// A free context key.
#[derive(Debug, Clone)]
pub struct KeyVar {
    /// The key as first written.
    pub name: String,
    pub family: Family,
    /// The string variable of `Str`/`Multi` keys.
    pub var: Option<VarId>,
    /// Must be absent (`false`), present (`true`) or free (`None`).
    pub presence: Option<bool>,
    /// Never given as several values ([`F::Many`] false): see [`single_valued`].
    pub single: bool,
}

/// A key no AWS request carries as several values ([`is_single_valued_key`]; the engine rejects
/// such a request). A service's own keys may be multivalued, so a request may give them arrays,
/// and a plain operator then reads false (DECISIONS 1): [`F::Many`].
pub fn single_valued(key_lc: &str) -> bool {
    is_single_valued_key(key_lc)
}

/// Where a context key's value comes from in one query.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A constant: the value in [`Sym::fixed`] (or absent).
    Fixed,
    /// Chosen freely by the request (within the query's constraints).
    Free,
    /// A function of a string variable: the value is `prefix` + var (`aws:PrincipalArn` of an
    /// undescribed account's role or user).
    Prefixed { prefix: String, var: VarId },
    /// The last `/`-segment of a string variable (`aws:username` of an undescribed account's user).
    LastSegment { var: VarId },
    /// `id:session`, two string variables neither of which holds a `:` (`aws:userid` of a role
    /// session: the role's unique ID, `AROA...`, and the session name; corpus/DECISIONS.md 35).
    Joined { id: VarId, session: VarId },
}

/// The principal of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum SymPrincipal {
    /// Fully known (root, a described user, anonymous, a service...).
    Concrete(Principal),
    /// A session of a role whose account and name may be known (`name: Ok`) or free (`Err(var)`:
    /// path + name after `role/`), with a free session name.
    RoleSession {
        partition: String,
        account: String,
        name: Result<(String, String), VarId>,
        session: VarId,
        /// A session of a service-linked role (exempt from SCPs and RCPs), as the engine decides
        /// for a session: by its role's name (`Principal::is_service_linked_role`). A free name is
        /// constrained to agree by whoever builds the query.
        service_linked: bool,
    },
    /// A user of an undescribed account: path + name after `user/` free.
    OpenUser {
        partition: String,
        account: String,
        path_name: VarId,
    },
    /// A federated-user session (`GetFederationToken`) of an undescribed account: name free.
    OpenFederated {
        partition: String,
        account: String,
        name: VarId,
    },
}

impl SymPrincipal {
    pub fn account(&self) -> Option<&str> {
        match self {
            SymPrincipal::Concrete(p) => p.account(),
            SymPrincipal::RoleSession { account, .. }
            | SymPrincipal::OpenUser { account, .. }
            | SymPrincipal::OpenFederated { account, .. } => Some(account),
        }
    }
    fn is_iam(&self) -> bool {
        self.account().is_some()
    }
    fn is_root(&self) -> bool {
        matches!(self, SymPrincipal::Concrete(Principal::Root { .. }))
    }
    fn is_anonymous(&self) -> bool {
        matches!(self, SymPrincipal::Concrete(Principal::Anonymous))
    }
    /// A role session (temporary credentials), concrete or symbolic.
    fn is_role_session(&self) -> bool {
        matches!(
            self,
            SymPrincipal::Concrete(Principal::AssumedRole { .. } | Principal::Role { .. })
                | SymPrincipal::RoleSession { .. }
        )
    }
    fn is_federated_user(&self) -> bool {
        matches!(
            self,
            SymPrincipal::Concrete(Principal::FederatedUser { .. })
                | SymPrincipal::OpenFederated { .. }
        )
    }
    fn is_slr(&self) -> bool {
        match self {
            SymPrincipal::Concrete(p) => p.is_service_linked_role(),
            SymPrincipal::RoleSession { service_linked, .. } => *service_linked,
            SymPrincipal::OpenUser { .. } | SymPrincipal::OpenFederated { .. } => false,
        }
    }
}

/// One symbolic query: the variables, the fixed part of the request, and the principal.
pub struct Sym {
    pub vars: Vec<StrVar>,
    pub keys: Vec<KeyVar>,
    key_index: HashMap<String, KeyId>,
    pub action: VarId,
    pub resource: VarId,
    pub principal: SymPrincipal,
    /// A concrete request holding every fixed context key (and a representative principal), used
    /// to fold conditions on fixed keys with the engine itself.
    pub fixed: Request,
    /// Where each context key comes from (lower-cased key); keys not listed are `Free`.
    pub sources: HashMap<String, Source>,
    /// Keys whose source is `Fixed` by prefix (lower-cased `aws:principaltag/`...).
    pub fixed_prefixes: Vec<String>,
    /// The account owning the resource in this query.
    pub resource_account: Option<String>,
    /// Extra constraints (the query's request set).
    pub constraints: Vec<F>,
    /// Guard labels (`F::Guard(i)` is `guards[i]`), when tracking why a query is unsatisfiable.
    pub guards: Vec<String>,
    guard_index: HashMap<String, usize>,
    pub track: bool,
}

impl Sym {
    pub fn new(principal: SymPrincipal, fixed: Request, resource_account: Option<String>) -> Sym {
        let mut s = Sym {
            vars: Vec::new(),
            keys: Vec::new(),
            key_index: HashMap::new(),
            action: 0,
            resource: 0,
            principal,
            fixed,
            sources: HashMap::new(),
            fixed_prefixes: Vec::new(),
            resource_account,
            constraints: Vec::new(),
            guards: Vec::new(),
            guard_index: HashMap::new(),
            track: true,
        };
        s.action = s.new_var("action");
        s.resource = s.new_var("resource");
        s
    }

    /// A guard for `label` (true when not tracking).
    pub fn guard(&mut self, label: String) -> F {
        if !self.track {
            return F::t();
        }
        if let Some(&g) = self.guard_index.get(&label) {
            return F::Guard(g);
        }
        self.guards.push(label.clone());
        self.guard_index.insert(label, self.guards.len() - 1);
        F::Guard(self.guards.len() - 1)
    }

    pub fn new_var(&mut self, name: &str) -> VarId {
        self.vars.push(StrVar {
            name: name.to_string(),
            ..StrVar::default()
        });
        self.vars.len() - 1
    }

    pub fn lang(&mut self, var: VarId, l: Lang) -> LangId {
        self.vars[var].lang(l)
    }

    pub fn test(&mut self, var: VarId, l: Lang) -> F {
        if l.alts.is_empty() {
            return F::no();
        }
        let id = self.lang(var, l);
        F::In(var, id)
    }

    pub fn source(&self, key_lc: &str) -> Source {
        if let Some(s) = self.sources.get(key_lc) {
            return s.clone();
        }
        if self
            .fixed_prefixes
            .iter()
            .any(|p| key_lc.starts_with(p.as_str()))
        {
            return Source::Fixed;
        }
        Source::Free
    }

    /// The free key `name`, with `family` (a conflicting family is unsupported).
    pub fn key(&mut self, name: &str, family: Family) -> Result<KeyId, Unsupported> {
        let lc = epat::fold(name);
        if let Some(&k) = self.key_index.get(&lc) {
            let kv = &mut self.keys[k];
            match (kv.family, family) {
                (a, b) if a == b => {}
                (_, Family::Untyped) => {}
                (Family::Untyped, b) => kv.family = b,
                // Formulas already built on the key read its string variable as one value;
                // a set operator reads the set: the two would not be tied together.
                (Family::Str, Family::Multi) | (Family::Multi, Family::Str) => {
                    return Err(Unsupported(format!(
                        "context key {name} is used both with set operators and plain operators"
                    )))
                }
                (a, b) => {
                    return Err(Unsupported(format!(
                        "context key {name} is compared both as {a:?} and as {b:?}"
                    )))
                }
            }
            if matches!(self.keys[k].family, Family::Str | Family::Multi)
                && self.keys[k].var.is_none()
            {
                let v = self.new_var(name);
                self.keys[k].var = Some(v);
            }
            return Ok(k);
        }
        let var = matches!(family, Family::Str | Family::Multi).then(|| self.new_var(name));
        self.keys.push(KeyVar {
            name: name.to_string(),
            family,
            var,
            presence: None,
            single: single_valued(&lc),
        });
        self.key_index.insert(lc, self.keys.len() - 1);
        Ok(self.keys.len() - 1)
    }

    pub fn key_id(&self, name: &str) -> Option<KeyId> {
        self.key_index.get(&epat::fold(name)).copied()
    }

    /// A fixed key's value, for variables and folding.
    fn fixed_value(&self, key_lc: &str) -> Option<&str> {
        self.fixed.context.get_single(key_lc)
    }
}

// ---------------------------------------------------------------------------------------------
// Templates → languages.

fn resolve_var(sym: &Sym, v: &epat::Var) -> Result<Option<String>, Unsupported> {
    if v.key_lc == KMS_CALLER_ACCOUNT {
        return Err(Unsupported(format!(
            "policy variable ${{{}}} depends on the action (present on KMS requests only)",
            v.key
        )));
    }
    match sym.source(&v.key_lc) {
        Source::Fixed => Ok(sym
            .fixed_value(&v.key_lc)
            .map(str::to_string)
            .or_else(|| v.default.clone())),
        _ => Err(Unsupported(format!(
            "policy variable ${{{}}} refers to a key the request chooses",
            v.key
        ))),
    }
}

/// The pattern of a template, variables substituted from fixed keys. `None`: a variable is absent
/// with no default (the template matches nothing).
fn template_pattern(
    sym: &Sym,
    t: &Template,
    seg: Option<char>,
) -> Result<Option<Pattern>, Unsupported> {
    let mut atoms = Vec::new();
    for a in &t.atoms {
        match a {
            epat::Atom::Lit(l) => atoms.extend(l.chars().map(Atom::Char)),
            epat::Atom::One => atoms.push(match seg {
                Some(c) => Atom::AnyNot(c),
                None => Atom::Any,
            }),
            epat::Atom::Star => atoms.push(match seg {
                Some(c) => Atom::StarNot(c),
                None => Atom::Star,
            }),
            epat::Atom::Var(v) => match resolve_var(sym, v)? {
                // Substituted values are literals (DECISIONS 11).
                Some(val) => atoms.extend(val.chars().map(|c| {
                    if t.ci {
                        // One character at a time, as the engine folds (`İ` stays `İ`).
                        Atom::Char(crate::classes::fold_char(c))
                    } else {
                        Atom::Char(c)
                    }
                })),
                None => return Ok(None),
            },
        }
    }
    Ok(Some(Pattern { atoms, ci: t.ci }))
}

fn template_lang(sym: &Sym, t: &Template) -> Result<Lang, Unsupported> {
    Ok(Lang {
        alts: template_pattern(sym, t, None)?.into_iter().collect(),
    })
}

/// `ArnLike`: six components, a wildcard never crossing a colon in the first five.
fn arn_lang(sym: &Sym, t: &ArnTemplate) -> Result<Lang, Unsupported> {
    let Some(parts) = &t.parts else {
        return Ok(Lang::default());
    };
    let mut atoms = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            atoms.push(Atom::Char(':'));
        }
        let seg = if i < 5 { Some(':') } else { None };
        match template_pattern(sym, p, seg)? {
            Some(pat) => {
                if i < 5 && pat.atoms.contains(&Atom::Char(':')) {
                    // A substituted value with a colon can never equal one component.
                    return Ok(Lang::default());
                }
                atoms.extend(pat.atoms)
            }
            None => return Ok(Lang::default()),
        }
    }
    Ok(Lang::single(Pattern { atoms, ci: false }))
}

/// The residual language `{ s | prefix + s ∈ L }` (Brzozowski derivative by a literal prefix).
pub fn derive_lang(l: &Lang, prefix: &str) -> Lang {
    let mut alts: Vec<Pattern> = Vec::new();
    for p in &l.alts {
        let fold = |c: char| {
            if p.ci {
                crate::classes::fold_char(c)
            } else {
                c
            }
        };
        let mut cur = closure(&p.atoms, vec![0]);
        for c in prefix.chars() {
            let mut next = Vec::new();
            for &pos in &cur {
                match p.atoms.get(pos) {
                    Some(Atom::Char(x)) if fold(*x) == fold(c) => next.push(pos + 1),
                    Some(Atom::Any) => next.push(pos + 1),
                    Some(Atom::AnyNot(x)) if *x != c => next.push(pos + 1),
                    Some(Atom::Star) => next.push(pos),
                    Some(Atom::StarNot(x)) if *x != c => next.push(pos),
                    _ => {}
                }
            }
            cur = closure(&p.atoms, next);
            if cur.is_empty() {
                break;
            }
        }
        for pos in cur {
            let r = Pattern {
                atoms: p.atoms[pos.min(p.atoms.len())..].to_vec(),
                ci: p.ci,
            };
            if !alts.contains(&r) {
                alts.push(r);
            }
        }
    }
    Lang { alts }
}

/// Positions reachable without consuming: a star may match nothing. Sorted, unique.
fn closure(atoms: &[Atom], mut set: Vec<usize>) -> Vec<usize> {
    let mut i = 0;
    while i < set.len() {
        let pos = set[i];
        if matches!(atoms.get(pos), Some(Atom::Star | Atom::StarNot(_)))
            && !set.contains(&(pos + 1))
        {
            set.push(pos + 1);
        }
        i += 1;
    }
    set.sort_unstable();
    set.dedup();
    set
}

/// Languages over the last `/`-segment: `L' = (ε | * /) · q` with `q`'s wildcards not crossing `/`.
fn last_segment_lang(l: &Lang) -> Lang {
    let mut alts = Vec::new();
    for p in &l.alts {
        if p.atoms.contains(&Atom::Char('/')) {
            continue;
        }
        let q: Vec<Atom> = p
            .atoms
            .iter()
            .map(|a| match a {
                Atom::Star => Atom::StarNot('/'),
                Atom::Any => Atom::AnyNot('/'),
                x => *x,
            })
            .collect();
        alts.push(Pattern {
            atoms: q.clone(),
            ci: p.ci,
        });
        let mut with_path = vec![Atom::Star, Atom::Char('/')];
        with_path.extend(q);
        alts.push(Pattern {
            atoms: with_path,
            ci: p.ci,
        });
    }
    Lang { alts }
}

// ---------------------------------------------------------------------------------------------
// Conditions.

/// Scale a decimal to an integer number of millionths; `None` when not exact.
/// Free numbers range over ±`NUM_BOUND` half-millionths (±2^31). Policy numbers have six
/// decimals at most (even in half-millionths), so between two of them that differ there is a
/// value of the grid; and below 2^31 a double's spacing is under half a millionth, so grid values
/// that differ are doubles that differ, in the same order: the engine, which compares doubles,
/// orders every grid value against the policy numbers as the solver does. A policy number at or
/// beyond the bound is unsupported (values past it would be missed).
pub const NUM_BOUND: i128 = (1 << 31) * 2_000_000;

/// Free dates range over the years 1 to 9999, in milliseconds (what an ISO 8601 witness can
/// print). A policy date outside, exclusive, is unsupported: dates past it would be missed.
pub const DATE_MIN: i64 = -62_135_596_800_000;
pub const DATE_MAX: i64 = 253_402_300_799_000;

/// A number in half-millionths, when it is a whole number of them: when the double `x` is the
/// double of a decimal of the grid (`s / 2e6`, which IEEE division rounds to the double nearest
/// that decimal, as parsing its text does). So the engine, comparing doubles, sees the grid value
/// wherever the solver sees it. A tolerance instead (it was relative, `1e-9 * |x|`) took numbers
/// past 250 with a seventh decimal for their rounding (audit 8, bug 1: `1000.0000001` became
/// `1000`, and a request between the two was missed). Below 2^52, `x * 2e6` is within half of
/// one of the whole number it stands for, so the rounding finds it.
pub fn scale(x: f64) -> Option<i128> {
    let s = (x * 2e6).round();
    (s.abs() < 4.5e15 && s / 2e6 == x).then_some(s as i128)
}

/// The ways pattern `p` matches `a:b` where neither `a` nor `b` holds a `:`, as (pattern of `a`,
/// pattern of `b`) pairs: `p` matches `a:b` exactly when some pair matches `a` and `b`. The value's
/// one `:` is matched by one atom of `p`: a `:` itself, a one-character atom, or a run (`*`), which
/// then also covers the ends of `a` and `b` (`Source::Joined`).
pub fn split_at_colon(p: &Pattern) -> Vec<(Pattern, Pattern)> {
    let mut out = Vec::new();
    let part = |atoms: Vec<Atom>| Pattern { atoms, ci: p.ci };
    for (i, a) in p.atoms.iter().enumerate() {
        let (head, tail) = (&p.atoms[..i], &p.atoms[i + 1..]);
        let covers = match *a {
            Atom::Char(c) => c == ':',
            Atom::Any => true,
            Atom::AnyNot(c) => c != ':',
            Atom::Star | Atom::StarNot(_) => {
                if matches!(*a, Atom::StarNot(':')) {
                    continue;
                }
                let mut h = head.to_vec();
                h.push(*a);
                let mut t = vec![*a];
                t.extend_from_slice(tail);
                out.push((part(h), part(t)));
                continue;
            }
        };
        if covers {
            out.push((part(head.to_vec()), part(tail.to_vec())));
        }
    }
    out
}

fn string_langs(sym: &Sym, c: &Condition) -> Result<Vec<Lang>, Unsupported> {
    match &c.values {
        CondValues::Strings(ts) => ts.iter().map(|t| template_lang(sym, t)).collect(),
        CondValues::Arns(ts) => ts.iter().map(|t| arn_lang(sym, t)).collect(),
        _ => Err(Unsupported("internal: not a string operator".into())),
    }
}

/// The key the estate sets on KMS requests only (corpus/DECISIONS.md 21).
const KMS_CALLER_ACCOUNT: &str = "kms:calleraccount";

/// A condition on `kms:CallerAccount`: on a KMS action (`kms:*`, any case, as
/// `estate::is_kms_action` reads it) the key is the caller's account, on any other absent. The
/// condition is evaluated both ways on the fixed request and tied to the action.
fn kms_caller_account(sym: &mut Sym, c: &Condition, vars_on: bool) -> F {
    let mut on_kms = sym.fixed.clone();
    match sym.principal.account() {
        Some(a) => on_kms
            .context
            .insert("kms:CallerAccount", ContextValue::One(a.to_string())),
        None => on_kms.context.remove("kms:CallerAccount"),
    }
    let mut elsewhere = sym.fixed.clone();
    elsewhere.context.remove("kms:CallerAccount");
    let (a, b) = (
        xverify_engine::eval::condition_holds(c, &on_kms, vars_on),
        xverify_engine::eval::condition_holds(c, &elsewhere, vars_on),
    );
    if a == b {
        return F::Const(a);
    }
    let is_kms = sym.test(sym.action, Lang::single(Pattern::glob("kms:*", true)));
    if a {
        is_kms
    } else {
        F::not(is_kms)
    }
}

fn cond_formula(sym: &mut Sym, c: &Condition, vars_on: bool) -> Result<F, Unsupported> {
    let key = c.key_lc.clone();
    let negated = c.op.base.is_negated();
    let src = sym.source(&key);
    // Variables in the values must be over fixed keys (else unsupported); when variables are off
    // (`Version` 2008-10-17) they were never parsed as variables.
    let _ = vars_on;
    if src == Source::Fixed {
        let has_free_var = match &c.values {
            CondValues::Strings(ts) => ts.iter().any(|t| t.atoms.iter().any(|a| matches!(a, epat::Atom::Var(v) if sym.source(&v.key_lc) != Source::Fixed))),
            CondValues::Arns(ts) => ts.iter().any(|t| {
                t.parts.iter().flatten().any(|p| p.atoms.iter().any(|a| matches!(a, epat::Atom::Var(v) if sym.source(&v.key_lc) != Source::Fixed)))
            }),
            _ => false,
        };
        if has_free_var {
            return Err(Unsupported(format!(
                "a condition on {} compares with a policy variable the request chooses",
                c.key
            )));
        }
        if key == KMS_CALLER_ACCOUNT {
            return Ok(kms_caller_account(sym, c, vars_on));
        }
        return Ok(F::Const(xverify_engine::eval::condition_holds(
            c, &sym.fixed, vars_on,
        )));
    }
    if let Source::Prefixed { .. } | Source::LastSegment { .. } = src {
        // Derived from a string variable: string tests only, always present, single-valued.
        let var = match &src {
            Source::Prefixed { var, .. } | Source::LastSegment { var } => *var,
            _ => 0,
        };
        let map = |l: &Lang| match &src {
            Source::Prefixed { prefix, .. } => derive_lang(l, prefix),
            _ => last_segment_lang(l),
        };
        if c.op.base == BaseOp::Null {
            return Ok(F::Const(match &c.values {
                CondValues::Null(ws) => ws.iter().any(|&absent| !absent),
                _ => false,
            }));
        }
        if !matches!(c.values, CondValues::Strings(_) | CondValues::Arns(_)) {
            return Err(Unsupported(format!("{} on {}", c.op.name(), c.key)));
        }
        let langs = string_langs(sym, c)?;
        let mut hits = Vec::new();
        for l in langs {
            let d = map(&l);
            hits.push(sym.test(var, d));
        }
        let hit = F::or(hits);
        let test = if negated { F::not(hit) } else { hit };
        // A single present value: plain, ForAnyValue and ForAllValues all reduce to the test.
        return Ok(test);
    }
    if let Source::Joined { id, session } = src {
        // Two variables joined by the one `:` of the value: always present, single-valued.
        if c.op.base == BaseOp::Null {
            return Ok(F::Const(match &c.values {
                CondValues::Null(ws) => ws.iter().any(|&absent| !absent),
                _ => false,
            }));
        }
        if !matches!(c.values, CondValues::Strings(_)) {
            return Err(Unsupported(format!("{} on {}", c.op.name(), c.key)));
        }
        let mut hits = Vec::new();
        for l in string_langs(sym, c)? {
            for p in &l.alts {
                for (head, tail) in split_at_colon(p) {
                    let h = sym.test(id, Lang::single(head));
                    let t = sym.test(session, Lang::single(tail));
                    hits.push(F::and2(h, t));
                }
            }
        }
        let hit = F::or(hits);
        return Ok(if negated { F::not(hit) } else { hit });
    }
    // Free key.
    if c.op.base == BaseOp::Null {
        let k = sym.key(&c.key, Family::Untyped)?;
        let present = F::Present(k);
        let wants = match &c.values {
            CondValues::Null(ws) => ws.clone(),
            _ => vec![],
        };
        return Ok(F::or(wants.into_iter().map(|absent| {
            if absent {
                F::not(present.clone())
            } else {
                present.clone()
            }
        })));
    }
    let multi = c.op.set.is_some();
    let family = match &c.values {
        CondValues::Strings(_) | CondValues::Arns(_) => {
            if multi {
                Family::Multi
            } else {
                Family::Str
            }
        }
        CondValues::Numbers(_) => Family::Num,
        CondValues::Dates(_) => Family::Date,
        CondValues::Ips(_) => Family::Ip,
        CondValues::Binary(_) => {
            return Err(Unsupported(format!(
                "BinaryEquals on {}, a key the request chooses",
                c.key
            )))
        }
        CondValues::Null(_) => Family::Untyped,
    };
    if multi && family != Family::Multi {
        return Err(Unsupported(format!(
            "set operator {} over non-string values",
            c.op.name()
        )));
    }
    let k = sym.key(&c.key, family)?;
    let present = F::Present(k);
    if sym.keys[k].family == Family::Multi && !multi {
        return Err(Unsupported(format!(
            "plain operator {} on multivalued key {}",
            c.op.name(),
            c.key
        )));
    }
    let absent_value = c.op.if_exists || (c.op.set.is_none() && negated);
    // The per-value test (positive form) for single-valued families.
    let positive: F = match &c.values {
        CondValues::Strings(_) | CondValues::Arns(_) => {
            let langs = string_langs(sym, c)?;
            if multi {
                let var = sym.keys[k].var.unwrap_or(0);
                let ids: Vec<LangId> = langs
                    .into_iter()
                    .filter(|l| !l.alts.is_empty())
                    .map(|l| sym.lang(var, l))
                    .collect();
                // ForAnyValue: some element passes; ForAllValues: every element passes.
                let pass_pos = !negated;
                return Ok(match c.op.set {
                    Some(SetOp::ForAnyValue) => {
                        if c.op.if_exists {
                            // Only a key missing from the request is rescued, not an empty array.
                            F::or2(F::not(F::Given(k)), F::AnyIn(k, ids, pass_pos))
                        } else {
                            F::AnyIn(k, ids, pass_pos)
                        }
                    }
                    _ => F::AllIn(k, ids, pass_pos),
                });
            }
            let var = sym.keys[k].var.unwrap_or(0);
            let mut hits = Vec::new();
            for l in langs {
                hits.push(sym.test(var, l));
            }
            F::or(hits)
        }
        CondValues::Numbers(ns) => {
            let op = match c.op.base {
                BaseOp::NumericEquals | BaseOp::NumericNotEquals => Cmp::Eq,
                BaseOp::NumericLessThan => Cmp::Lt,
                BaseOp::NumericLessThanEquals => Cmp::Le,
                BaseOp::NumericGreaterThan => Cmp::Gt,
                _ => Cmp::Ge,
            };
            let mut hits = Vec::new();
            for &n in ns {
                let s = scale(n)
                    .filter(|s| s % 2 == 0)
                    .ok_or_else(|| Unsupported(format!("number {n} has more than six decimals")))?;
                if s.abs() >= NUM_BOUND {
                    return Err(Unsupported(format!(
                        "number {n} on {}: beyond ±2^31, where comparing doubles is not exact",
                        c.key
                    )));
                }
                hits.push(F::Num(k, op, s));
            }
            F::or(hits)
        }
        CondValues::Dates(ds) => {
            let op = match c.op.base {
                BaseOp::DateEquals | BaseOp::DateNotEquals => Cmp::Eq,
                BaseOp::DateLessThan => Cmp::Lt,
                BaseOp::DateLessThanEquals => Cmp::Le,
                BaseOp::DateGreaterThan => Cmp::Gt,
                _ => Cmp::Ge,
            };
            if let Some(d) = ds.iter().find(|&&d| d <= DATE_MIN || d >= DATE_MAX) {
                return Err(Unsupported(format!(
                    "date {d} ms on {}: outside the years 1 to 9999",
                    c.key
                )));
            }
            F::or(ds.iter().map(|&d| F::Date(k, op, d)))
        }
        CondValues::Ips(cs) => F::or(cs.iter().map(|&c| F::Ip(k, c))),
        _ => return Err(Unsupported("internal: family".into())),
    };
    let test = if negated { F::not(positive) } else { positive };
    // Several values: a plain operator is false (DECISIONS 1); `Many` implies presence.
    Ok(F::or2(
        F::and2(F::not(present.clone()), F::Const(absent_value)),
        F::and([present, F::not(F::Many(k)), test]),
    ))
}

// ---------------------------------------------------------------------------------------------
// Statements and the decision.

/// `Principal` element match, per form: (direct, role-or-better, any).
#[derive(Debug, Clone)]
pub struct Forms {
    pub direct: F,
    pub role: F,
    pub account: F,
}

fn role_name_test(sym: &mut Sym, name: &str) -> F {
    match &sym.principal {
        SymPrincipal::RoleSession {
            name: Ok((_, n)), ..
        } => F::Const(n == name),
        SymPrincipal::RoleSession { name: Err(var), .. } => {
            let var = *var;
            // path + name: the last segment is `name`.
            let l = Lang {
                alts: vec![
                    Pattern::literal(name, false),
                    Pattern {
                        atoms: [Atom::Star, Atom::Char('/')]
                            .into_iter()
                            .chain(name.chars().map(Atom::Char))
                            .collect(),
                        ci: false,
                    },
                ],
            };
            if name.contains('/') {
                return F::no();
            }
            sym.test(var, l)
        }
        _ => F::no(),
    }
}

fn principal_forms(sym: &mut Sym, set: &PrincipalSet) -> Result<Forms, Unsupported> {
    let unique = set
        .aws
        .iter()
        .any(|e| matches!(e, AwsPrincipalRef::UniqueId(_)));
    if unique
        && (sym.source("aws:userid") != Source::Fixed
            || !matches!(sym.principal, SymPrincipal::Concrete(_)))
    {
        return Err(Unsupported(
            "a Principal element names a unique ID (AIDA.../AROA...) and the caller's unique ID is not known".into(),
        ));
    }
    if let SymPrincipal::Concrete(p) = &sym.principal {
        let m = principal_set_match(set, p, &sym.fixed.context);
        return Ok(Forms {
            direct: F::Const(m == Some(PrincipalMatch::Direct)),
            role: F::Const(m >= Some(PrincipalMatch::Role)),
            account: F::Const(m.is_some()),
        });
    }
    let acct = sym.principal.account().unwrap_or_default().to_string();
    let mut direct = Vec::new();
    let mut role = Vec::new();
    let mut account = Vec::new();
    for e in &set.aws {
        match e {
            AwsPrincipalRef::Any => direct.push(F::t()),
            AwsPrincipalRef::Account { account: a, .. } => account.push(F::Const(*a == acct)),
            AwsPrincipalRef::Role {
                account: a, name, ..
            } if *a == acct => role.push(role_name_test(sym, name)),
            AwsPrincipalRef::AssumedRole {
                account: a,
                role: r,
                session,
                ..
            } if *a == acct => {
                if let SymPrincipal::RoleSession { session: svar, .. } = &sym.principal {
                    let svar = *svar;
                    let rt = role_name_test(sym, r);
                    let st = sym.test(svar, Lang::single(Pattern::literal(session, false)));
                    direct.push(F::and2(rt, st));
                }
            }
            // A federated-user session of an undescribed account, named exactly (the engine's
            // `principal_ref_match`: account and name, a direct match).
            AwsPrincipalRef::FederatedUser {
                account: a, name, ..
            } if *a == acct => {
                if let SymPrincipal::OpenFederated { name: v, .. } = &sym.principal {
                    let v = *v;
                    direct.push(sym.test(v, Lang::single(Pattern::literal(name, false))));
                }
            }
            AwsPrincipalRef::User {
                account: a, name, ..
            } if *a == acct => {
                if let SymPrincipal::OpenUser { path_name, .. } = &sym.principal {
                    let v = *path_name;
                    let l = last_segment_lang(&Lang::single(Pattern::literal(name, false)));
                    direct.push(sym.test(v, l));
                }
            }
            _ => {}
        }
    }
    let direct = F::or(direct);
    let role = F::or2(direct.clone(), F::or(role));
    let account = F::or2(role.clone(), F::or(account));
    Ok(Forms {
        direct,
        role,
        account,
    })
}

/// Is the principal exempt from a `Deny` + `NotPrincipal` (every level listed)?
fn not_principal_exempt(sym: &mut Sym, set: &PrincipalSet) -> F {
    if set.aws.contains(&AwsPrincipalRef::Any) {
        return F::t();
    }
    if let SymPrincipal::Concrete(p) = &sym.principal {
        // Reuse the engine: a NotPrincipal that does not apply is an exemption.
        let pe = PrincipalElement {
            not: true,
            set: set.clone(),
        };
        let applies = xverify_engine::eval::principal_matches(&pe, p, &sym.fixed.context, false);
        return F::Const(applies.is_none());
    }
    let acct = sym.principal.account().unwrap_or_default().to_string();
    let account_listed = set
        .aws
        .iter()
        .any(|e| matches!(e, AwsPrincipalRef::Account { account, .. } if *account == acct));
    if !account_listed {
        return F::no();
    }
    match sym.principal.clone() {
        SymPrincipal::RoleSession { session, .. } => {
            let mut roles = Vec::new();
            let mut sessions = Vec::new();
            for e in &set.aws {
                match e {
                    AwsPrincipalRef::Role { account, name, .. } if *account == acct => {
                        roles.push(role_name_test(sym, name))
                    }
                    AwsPrincipalRef::AssumedRole {
                        account,
                        role,
                        session: s,
                        ..
                    } if *account == acct => {
                        let rt = role_name_test(sym, role);
                        let st = sym.test(session, Lang::single(Pattern::literal(s, false)));
                        sessions.push(F::and2(rt, st));
                    }
                    _ => {}
                }
            }
            F::and2(F::or(roles), F::or(sessions))
        }
        SymPrincipal::OpenFederated { name, .. } => {
            let mut feds = Vec::new();
            for e in &set.aws {
                if let AwsPrincipalRef::FederatedUser {
                    account, name: n, ..
                } = e
                {
                    if *account == acct {
                        feds.push(sym.test(name, Lang::single(Pattern::literal(n, false))));
                    }
                }
            }
            F::or(feds)
        }
        SymPrincipal::OpenUser { path_name, .. } => {
            let mut users = Vec::new();
            for e in &set.aws {
                if let AwsPrincipalRef::User { account, name, .. } = e {
                    if *account == acct {
                        let l = last_segment_lang(&Lang::single(Pattern::literal(name, false)));
                        users.push(sym.test(path_name, l));
                    }
                }
            }
            F::or(users)
        }
        SymPrincipal::Concrete(_) => F::no(),
    }
}

/// A statement whose `Principal` or `NotPrincipal` names a `CanonicalUser`: an S3 canonical user
/// ID, which stands for an AWS account (or a CloudFront origin access identity) that the estate
/// cannot identify. The engine matches such an entry against no caller, so it may decide a
/// request of that account's principals otherwise than AWS (corpus/DECISIONS.md 25).
#[derive(Debug, Clone)]
pub struct CanonicalStatement {
    /// The requests it may apply to, its principal element aside: action, resource, condition.
    pub scope: F,
    /// The engine may allow less than AWS (an `Allow` naming it, a `Deny` exempting it), rather
    /// than more (a `Deny` naming it, an `Allow` exempting it).
    pub grants_less: bool,
    /// What it does, in words.
    pub label: String,
}

/// The statements of `set` whose principal element names a `CanonicalUser`, when the caller is
/// an IAM principal (of some account, which may be the one the ID names); none for anonymous
/// callers and services.
pub fn canonical_statements(
    sym: &mut Sym,
    set: &PolicySet,
) -> Result<Vec<CanonicalStatement>, Unsupported> {
    let mut out = Vec::new();
    if !sym.principal.is_iam() {
        return Ok(out);
    }
    for p in set.policies() {
        for st in p.statements() {
            let Some(pe) = st
                .principal
                .as_ref()
                .filter(|pe| !pe.set.canonical_user.is_empty())
            else {
                continue;
            };
            let (act, res, cond) = statement_parts(sym, st, p)?;
            let allow = st.effect == Effect::Allow;
            let verb = match (allow, pe.not) {
                (true, false) => "grants",
                (false, false) => "denies",
                (_, true) => "leaves out",
            };
            out.push(CanonicalStatement {
                scope: F::and([act, res, cond]),
                grants_less: allow != pe.not,
                label: format!(
                    "{} {verb} a CanonicalUser ({}), an account the estate cannot identify",
                    stmt_label(p, st),
                    pe.set.canonical_user.join(", ")
                ),
            });
        }
    }
    Ok(out)
}

/// When do the `Action`, `Resource` and `Condition` of `st` hold (no guards)?
fn statement_parts(
    sym: &mut Sym,
    st: &Statement,
    policy: &Policy,
) -> Result<(F, F, F), Unsupported> {
    let a = sym.action;
    let r = sym.resource;
    let mut hits = Vec::new();
    for t in &st.action.patterns {
        let l = template_lang(sym, t)?;
        hits.push(sym.test(a, l));
    }
    let act = if st.action.not {
        F::not(F::or(hits))
    } else {
        F::or(hits)
    };
    let res = match &st.resource {
        None => F::t(),
        Some(re) => {
            let mut hits = Vec::new();
            for t in &re.patterns {
                let l = template_lang(sym, t)?;
                hits.push(sym.test(r, l));
            }
            if re.not {
                F::not(F::or(hits))
            } else {
                F::or(hits)
            }
        }
    };
    let vars_on = policy.variables_enabled();
    let mut conds = Vec::new();
    for c in &st.conditions {
        conds.push(cond_formula(sym, c, vars_on)?);
    }
    Ok((act, res, F::and(conds)))
}

/// When does `st` apply? For resource-based statements, per principal form.
fn statement(
    sym: &mut Sym,
    st: &Statement,
    policy: &Policy,
    has_pb: bool,
) -> Result<Forms, Unsupported> {
    let (act, res, mut cond) = statement_parts(sym, st, policy)?;
    if st.effect == Effect::Allow && !st.conditions.is_empty() && cond.as_const() != Some(true) {
        let g = sym.guard(format!("the Condition of {}", stmt_label(policy, st)));
        cond = F::or2(F::not(g), cond);
    }
    let base = F::and([act, res, cond]);
    Ok(match &st.principal {
        None => Forms {
            direct: base.clone(),
            role: base.clone(),
            account: base,
        },
        Some(pe) if pe.not => {
            // The boundary quirk is about Deny + NotPrincipal only.
            let applies = if has_pb && st.effect == Effect::Deny {
                F::t()
            } else {
                F::not(not_principal_exempt(sym, &pe.set))
            };
            let f = F::and2(base, applies);
            Forms {
                direct: f.clone(),
                role: f.clone(),
                account: f,
            }
        }
        Some(pe) => {
            let mut forms = principal_forms(sym, &pe.set)?;
            if st.effect == Effect::Allow && forms.account.as_const() != Some(true) {
                let g = sym.guard(format!("the Principal of {}", stmt_label(policy, st)));
                let ng = F::not(g);
                forms = Forms {
                    direct: F::or2(ng.clone(), forms.direct),
                    role: F::or2(ng.clone(), forms.role),
                    account: F::or2(ng, forms.account),
                };
            }
            Forms {
                direct: F::and2(base.clone(), forms.direct),
                role: F::and2(base.clone(), forms.role),
                account: F::and2(base, forms.account),
            }
        }
    })
}

fn effect_any(sym: &mut Sym, p: &Policy, effect: Effect, has_pb: bool) -> Result<F, Unsupported> {
    let mut out = Vec::new();
    for st in p.statements() {
        if st.effect == effect {
            let f = statement(sym, st, p, has_pb)?.account;
            if effect == Effect::Deny && f.as_const() != Some(false) {
                let g = sym.guard(stmt_label(p, st));
                out.push(F::and2(g, f));
            } else {
                out.push(f);
            }
        }
    }
    Ok(F::or(out))
}

/// `Deny statement 0 ("Sid") of policy "Name"`.
pub fn stmt_label(p: &Policy, st: &Statement) -> String {
    let i = p
        .statements()
        .iter()
        .position(|x| std::ptr::eq(x, st))
        .unwrap_or(0);
    let sid = st
        .sid
        .as_deref()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    format!(
        "{} statement {i}{sid} of {} {:?}",
        st.effect.as_str(),
        p.kind.name(),
        p.name
    )
}

/// The action is one of `names` (lower-case literals), case-insensitively.
fn action_is(sym: &mut Sym, names: &[&str]) -> F {
    let a = sym.action;
    let l = Lang {
        alts: names.iter().map(|n| Pattern::literal(n, true)).collect(),
    };
    sym.test(a, l)
}

/// The decision `Allow` for the query's policies, as a formula (mirrors `eval::run`).
pub fn allow_formula(sym: &mut Sym, set: &PolicySet) -> Result<F, Unsupported> {
    let iam = sym.principal.is_iam();
    let has_pb = set.boundary.is_some();
    let slr = sym.principal.is_slr();
    let scp_applies = iam && !slr && !set.scps.is_empty();

    let gci = if iam {
        action_is(sym, &["sts:getcalleridentity"])
    } else {
        F::no()
    };

    // RCP applicability by the action's service prefix.
    let rcp_applies = if !slr && !set.rcps.is_empty() {
        let a = sym.action;
        let svc = Lang {
            alts: RCP_SERVICES
                .iter()
                .map(|s| Pattern::glob(&format!("{s}:*"), true))
                .collect(),
        };
        let in_svc = sym.test(a, svc);
        let retire = action_is(sym, &["kms:retiregrant"]);
        F::and2(in_svc, F::not(retire))
    } else {
        F::no()
    };

    // 1. Explicit deny.
    let mut denies = Vec::new();
    if scp_applies {
        for level in &set.scps {
            for p in level {
                denies.push(effect_any(sym, p, Effect::Deny, has_pb)?);
            }
        }
    }
    if rcp_applies != F::no() {
        let mut rd = Vec::new();
        for level in &set.rcps {
            for p in level {
                rd.push(effect_any(sym, p, Effect::Deny, has_pb)?);
            }
        }
        denies.push(F::and2(rcp_applies.clone(), F::or(rd)));
    }
    // A role's trust policy applies to the sts:AssumeRole* family only.
    let rbp_gate = match &set.resource {
        Some(r) if r.kind == PolicyKind::Trust => action_is(sym, TRUST_ACTIONS),
        _ => F::t(),
    };
    if let Some(r) = &set.resource {
        let d = effect_any(sym, r, Effect::Deny, has_pb)?;
        denies.push(F::and2(rbp_gate.clone(), d));
    }
    for p in &set.identity {
        denies.push(effect_any(sym, p, Effect::Deny, has_pb)?);
    }
    if let Some(b) = &set.boundary {
        denies.push(effect_any(sym, b, Effect::Deny, has_pb)?);
    }
    if let Some(s) = &set.session {
        denies.push(effect_any(sym, s, Effect::Deny, has_pb)?);
    }
    let denied = F::or(denies);

    // 3. SCP levels.
    let mut scp = Vec::new();
    if scp_applies {
        for level in &set.scps {
            let mut any = Vec::new();
            for p in level {
                any.push(effect_any(sym, p, Effect::Allow, has_pb)?);
            }
            let allows = F::or(any);
            if allows.as_const() != Some(true) {
                let names: Vec<&str> = level.iter().map(|p| p.name.as_str()).collect();
                let g = sym.guard(format!(
                    "the SCPs at level {} ({})",
                    scp.len(),
                    names.join(", ")
                ));
                scp.push(F::or2(F::not(g), allows));
            } else {
                scp.push(allows);
            }
        }
    }
    let scp_ok = F::and(scp);

    let no_assume = if sym.principal.is_root() {
        F::not(action_is(sym, ASSUME_ROLE_ACTIONS))
    } else if sym.principal.is_anonymous() {
        F::not(action_is(sym, &["sts:assumerole"]))
    } else if sym.principal.is_federated_user() {
        // DECISIONS 16: no IAM operation, no STS operation but GetCallerIdentity (which `gci`
        // allows before this).
        let a = sym.action;
        let barred = Lang {
            alts: vec![Pattern::glob("iam:*", true), Pattern::glob("sts:*", true)],
        };
        F::not(sym.test(a, barred))
    } else if sym.principal.is_role_session() {
        // DECISIONS 19: GetFederationToken and GetSessionToken take long-term credentials.
        F::not(action_is(sym, LONG_TERM_ONLY_ACTIONS))
    } else {
        F::t()
    };

    // 4. Grant.
    let identity_allow = if sym.principal.is_root() {
        F::t()
    } else if iam {
        let mut any = Vec::new();
        for p in &set.identity {
            any.push(effect_any(sym, p, Effect::Allow, has_pb)?);
        }
        F::or(any)
    } else {
        F::no()
    };
    let pb_ok = match &set.boundary {
        Some(b) if iam => {
            let f = effect_any(sym, b, Effect::Allow, has_pb)?;
            let g = sym.guard(format!("the permissions boundary {:?}", b.name));
            F::or2(F::not(g), f)
        }
        _ => F::t(),
    };
    let sp_ok = match &set.session {
        Some(s) if iam => {
            let f = effect_any(sym, s, Effect::Allow, has_pb)?;
            let g = sym.guard(format!("the session policy {:?}", s.name));
            F::or2(F::not(g), f)
        }
        // A GetFederationToken session without a session policy has no permissions of its own
        // (corpus/DECISIONS.md 18).
        None if sym.principal.is_federated_user() => F::no(),
        _ => F::t(),
    };
    let identity_path = F::and([F::Const(iam), identity_allow, pb_ok.clone(), sp_ok.clone()]);

    let (mut g_direct, mut g_role, mut g_any) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(r) = &set.resource {
        for st in r.statements() {
            if st.effect == Effect::Allow {
                let f = statement(sym, st, r, has_pb)?;
                g_direct.push(f.direct);
                g_role.push(f.role);
                g_any.push(f.account);
            }
        }
    }
    let (g_direct, g_role, g_any) = (
        F::and2(rbp_gate.clone(), F::or(g_direct)),
        F::and2(rbp_gate.clone(), F::or(g_role)),
        F::and2(rbp_gate, F::or(g_any)),
    );

    // Trust and key policies must allow: depends on the action and the resource.
    let trust = {
        let t = action_is(sym, TRUST_ACTIONS);
        let r = sym.resource;
        let role_arn = Lang::single(Pattern {
            atoms: arn_prefix_atoms("iam", "role/"),
            ci: false,
        });
        let rt = sym.test(r, role_arn);
        F::and2(t, rt)
    };
    let kms = {
        let a = sym.action;
        let ka = sym.test(a, Lang::single(Pattern::glob("kms:*", true)));
        let r = sym.resource;
        let kr = sym.test(
            r,
            Lang::single(Pattern {
                atoms: arn_prefix_atoms("kms", "key/"),
                ci: false,
            }),
        );
        F::and2(ka, kr)
    };
    let must_allow = F::or2(trust, kms);

    let same_account = match (sym.principal.account(), sym.resource_account.as_deref()) {
        (Some(a), Some(b)) => a == b,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let grant = if !iam {
        g_any.clone()
    } else if same_account {
        let standalone = F::or2(g_direct, F::and([g_role, pb_ok, sp_ok]));
        let with_identity = F::and2(identity_path, F::or2(F::not(must_allow), g_any.clone()));
        F::or2(standalone, with_identity)
    } else {
        F::and2(identity_path, g_any)
    };
    Ok(F::or2(
        gci,
        F::and([F::not(denied), scp_ok, no_assume, grant]),
    ))
}

/// `arn:<p>:<service>:<r>:<a>:<res_prefix>*`, wildcards not crossing colons in the first five.
fn arn_prefix_atoms(service: &str, res_prefix: &str) -> Vec<Atom> {
    let mut v = vec![
        Atom::Char('a'),
        Atom::Char('r'),
        Atom::Char('n'),
        Atom::Char(':'),
        Atom::StarNot(':'),
        Atom::Char(':'),
    ];
    v.extend(service.chars().map(Atom::Char));
    v.extend([
        Atom::Char(':'),
        Atom::StarNot(':'),
        Atom::Char(':'),
        Atom::StarNot(':'),
        Atom::Char(':'),
    ]);
    v.extend(res_prefix.chars().map(Atom::Char));
    v.push(Atom::Star);
    v
}

// ---------------------------------------------------------------------------------------------
// Concrete evaluation of a formula, for differential tests and model replay checks.

/// Concrete values of a query's variables.
#[derive(Debug, Clone, Default)]
pub struct Assignment {
    pub strs: Vec<Option<String>>,
    /// Per key: absent (`None`) or its values (one for single-valued families; none for a
    /// multivalued key given as an empty array).
    pub keys: Vec<Option<Vec<String>>>,
}

/// Evaluate `f` under a concrete assignment (the reference semantics of the IR).
pub fn eval_formula(sym: &Sym, f: &F, a: &Assignment) -> bool {
    let str_in = |v: VarId, l: LangId, s: &str| sym.vars[v].langs[l].matches(s);
    match f {
        F::Const(b) => *b,
        F::And(v) => v.iter().all(|x| eval_formula(sym, x, a)),
        F::Or(v) => v.iter().any(|x| eval_formula(sym, x, a)),
        F::Not(x) => !eval_formula(sym, x, a),
        F::In(v, l) => a.strs[*v].as_deref().is_some_and(|s| str_in(*v, *l, s)),
        F::Present(k) => a.keys[*k].as_ref().is_some_and(|v| !v.is_empty()),
        F::Given(k) => a.keys[*k].is_some(),
        F::Many(k) => a.keys[*k].as_ref().is_some_and(|v| v.len() > 1),
        F::AnyIn(k, ls, pos) => {
            let var = sym.keys[*k].var.unwrap_or(0);
            a.keys[*k].as_ref().is_some_and(|vals| {
                vals.iter()
                    .any(|s| ls.iter().any(|&l| str_in(var, l, s)) == *pos)
            })
        }
        F::AllIn(k, ls, pos) => {
            let var = sym.keys[*k].var.unwrap_or(0);
            a.keys[*k].as_ref().is_none_or(|vals| {
                vals.iter()
                    .all(|s| ls.iter().any(|&l| str_in(var, l, s)) == *pos)
            })
        }
        // As the engine compares: doubles. `n` is on the grid, so `n / 2e6` is the policy
        // number's double exactly (`scale`); a request's value need not be (it was read through
        // `scale`, which now takes grid values only, so a value off the grid read as no number).
        F::Num(k, op, n) => one(a, *k)
            .and_then(|s| epat::parse_number(&s))
            .is_some_and(|x| cmp(*op, x, *n as f64 / 2e6)),
        F::Date(k, op, d) => one(a, *k)
            .and_then(|s| epat::parse_date(&s))
            .is_some_and(|x| cmp(*op, x as i128, *d as i128)),
        F::Ip(k, c) => one(a, *k)
            .and_then(|s| epat::IpValue::parse(&s))
            .is_some_and(|ip| c.contains(&ip)),
        F::Guard(_) => true,
    }
}

fn one(a: &Assignment, k: KeyId) -> Option<String> {
    match a.keys[k].as_deref() {
        Some([s]) => Some(s.clone()),
        _ => None,
    }
}

fn cmp<T: PartialOrd>(op: Cmp, x: T, y: T) -> bool {
    match op {
        Cmp::Eq => x == y,
        Cmp::Lt => x < y,
        Cmp::Le => x <= y,
        Cmp::Gt => x > y,
        Cmp::Ge => x >= y,
    }
}
