//! The invariant suite (issue 4): properties every change to the engine must keep, checked on
//! random policies, policy sets, requests and estates from `xverify_engine::generate`. A failing
//! estate prints as a spec (interfaces.md §3) followed by the `xverify eval --spec` request line.
//!
//! Each property is named for what it asserts. A failing case prints as a case line of
//! `xverify eval` (interfaces.md §2) that reproduces it; proptest keeps the seed under
//! `proptest-regressions/`, and engine bugs found here are pinned as named tests in `regressions`
//! at the end of this file.
//!
//! Default case counts keep `cargo test -p xverify-engine` short. The deep version:
//!
//! ```text
//! PROPTEST_CASES=100000 cargo test --release -p xverify-engine --test invariants
//! ```

// Test helpers outside #[test] functions unwrap too: a failure there is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod reference;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::FileFailurePersistence;
use xverify_engine::case::Case;
use xverify_engine::generate::*;
use xverify_engine::pattern::{ArnTemplate, Template, TemplateOpts};
use xverify_engine::*;

const S: Settings = Settings::DEFAULT;

/// Estates: smaller policies (`Settings::ESTATE`).
const ES: Settings = Settings::ESTATE;

/// `cases` by default; `PROPTEST_CASES` overrides it (the deep run).
fn cfg(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/invariants.txt",
        ))),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// `sts:GetCallerIdentity` by a signed caller: needs no permission and cannot be denied.
fn undeniable(req: &Request) -> bool {
    req.action_lc == "sts:getcalleridentity" && req.principal.is_iam()
}

fn is_root(req: &Request) -> bool {
    matches!(req.principal, Principal::Root { .. })
}

/// Requests on a KMS key or a role trust policy: the resource policy must allow (§1.5).
fn must_allow(req: &Request) -> bool {
    eval::is_trust_request(&req.action_lc, &req.resource)
        || eval::is_kms_request(&req.action_lc, &req.resource)
}

fn cross_account(req: &Request) -> bool {
    matches!((req.principal.account(), req.resource_account.as_deref()), (Some(a), Some(b)) if a != b)
}

fn decide_case(c: &GenCase) -> Decision {
    c.decide()
}

/// A place a statement can be added to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Identity(usize),
    NewIdentity,
    Resource,
    NewResource,
    Boundary,
    Session,
    Scp(usize, usize),
    NewScp(usize),
    Rcp(usize, usize),
    NewRcp(usize),
}

/// Where a statement of `effect` can go without changing which policies apply: existing
/// policies, a new identity or resource policy, a new policy at an existing SCP/RCP level. Never a
/// new boundary, session policy or level (those restrict by existing). RCPs only take denies.
fn slots(c: &GenCase, effect: Effect) -> Vec<Slot> {
    let mut v: Vec<Slot> = (0..c.set.identity.len()).map(Slot::Identity).collect();
    if c.request.principal_account().is_some() {
        v.push(Slot::NewIdentity);
    }
    v.push(if c.set.resource.is_some() {
        Slot::Resource
    } else {
        Slot::NewResource
    });
    if c.set.boundary.is_some() {
        v.push(Slot::Boundary);
    }
    if c.set.session.is_some() {
        v.push(Slot::Session);
    }
    for (l, ps) in c.set.scps.iter().enumerate() {
        v.extend((0..ps.len()).map(|i| Slot::Scp(l, i)));
        v.push(Slot::NewScp(l));
    }
    if effect == Effect::Deny {
        for (l, ps) in c.set.rcps.iter().enumerate() {
            v.extend((0..ps.len()).map(|i| Slot::Rcp(l, i)));
            v.push(Slot::NewRcp(l));
        }
    }
    v
}

fn slot_kind(c: &GenCase, slot: Slot) -> PolicyKind {
    match slot {
        Slot::Identity(_) | Slot::NewIdentity => PolicyKind::Identity,
        Slot::Resource | Slot::NewResource => c.request.resource_policy_kind(),
        Slot::Boundary => PolicyKind::Boundary,
        Slot::Session => PolicyKind::Session,
        Slot::Scp(..) | Slot::NewScp(_) => PolicyKind::Scp,
        Slot::Rcp(..) | Slot::NewRcp(_) => PolicyKind::Rcp,
    }
}

fn new_policy(kind: PolicyKind, st: GenStatement) -> GenPolicy {
    GenPolicy {
        kind,
        version: Some(Version::V2012),
        id: None,
        statements: vec![st],
    }
}

/// Add `st` at `slot`. False when the policy would outgrow AWS's size limit.
fn add_statement(c: &mut GenCase, slot: Slot, st: GenStatement) -> bool {
    let kind = slot_kind(c, slot);
    let target: &mut GenPolicy = match slot {
        Slot::Identity(i) => &mut c.set.identity[i],
        Slot::Boundary => c.set.boundary.as_mut().unwrap(),
        Slot::Session => c.set.session.as_mut().unwrap(),
        Slot::Resource => c.set.resource.as_mut().unwrap(),
        Slot::Scp(l, i) => &mut c.set.scps[l][i],
        Slot::Rcp(l, i) => &mut c.set.rcps[l][i],
        Slot::NewIdentity => {
            c.set.identity.push(new_policy(kind, st));
            return true;
        }
        Slot::NewResource => {
            c.set.resource = Some(new_policy(kind, st));
            return true;
        }
        Slot::NewScp(l) => {
            c.set.scps[l].push(new_policy(kind, st));
            return true;
        }
        Slot::NewRcp(l) => {
            c.set.rcps[l].push(new_policy(kind, st));
            return true;
        }
    };
    target.statements.push(st);
    target.renumber_sids();
    target.to_json(Style::default()).len() <= kind.size_limit().0
}

/// A case, a slot and a statement of `effect` fit for it (drawn towards the case's request).
fn case_with_statement(effect: Effect) -> impl Strategy<Value = (GenCase, Slot, GenStatement)> {
    case(&S).prop_flat_map(move |c| {
        let hint = Hint::of(&c.request);
        let slots = slots(&c, effect);
        (Just(c), select(slots)).prop_flat_map(move |(c, slot)| {
            let kind = slot_kind(&c, slot);
            let st = statement(kind, Some(&hint), &S).prop_map(move |mut st| {
                st.effect = effect;
                if kind == PolicyKind::Rcp && effect == Effect::Allow {
                    st = full_access_statement(kind);
                }
                st
            });
            (Just(c), Just(slot), st)
        })
    })
}

/// A statement of `effect` that matches the request exactly, for a policy of `kind`.
fn matching_statement(kind: PolicyKind, req: &GenRequest, effect: Effect) -> GenStatement {
    GenStatement {
        sid: None,
        effect,
        principal: kind.is_resource_based().then(|| GenPrincipal {
            not: false,
            star: true,
            aws: vec![],
            service: vec![],
        }),
        action: GenList {
            not: false,
            items: vec![req.action.clone()],
        },
        resource: (kind != PolicyKind::Trust).then(|| GenList {
            not: false,
            items: vec![req.resource.clone()],
        }),
        conditions: vec![],
    }
}

/// Deterministic shuffle.
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = (seed >> 33) as usize % (i + 1);
        v.swap(i, j);
    }
}

/// A one-statement identity-policy case for a same-account IAM user, with no context beyond
/// what the engine fills and `ctx`.
fn solo(statements: Vec<GenStatement>, ctx: Vec<(String, GenCtx)>) -> GenCase {
    GenCase {
        set: GenSet {
            identity: vec![GenPolicy {
                kind: PolicyKind::Identity,
                version: Some(Version::V2012),
                id: None,
                statements,
            }],
            ..GenSet::default()
        },
        request: GenRequest {
            principal: "arn:aws:iam::222222222222:user/alice".to_string(),
            action: "s3:GetObject".to_string(),
            resource: "arn:aws:s3:::data-222222222222/reports/q1.csv".to_string(),
            resource_account: Some("222222222222".to_string()),
            context: ctx,
        },
        style: Style::default(),
    }
}

fn allow_all_with(conditions: Vec<GenCondition>) -> GenStatement {
    GenStatement {
        sid: None,
        effect: Effect::Allow,
        principal: None,
        action: GenList {
            not: false,
            items: vec!["*".to_string()],
        },
        resource: Some(GenList {
            not: false,
            items: vec!["*".to_string()],
        }),
        conditions,
    }
}

/// (key, value) pairs of string and ARN keys whose values have letters to recase.
fn string_values_with_letters() -> Vec<(&'static str, String)> {
    free_keys()
        .into_iter()
        .filter(|k| matches!(k.ty, KeyType::Str | KeyType::Arn))
        .flat_map(|k| k.values.iter().map(move |v| (k.name, v.clone())))
        .filter(|(_, v)| v.chars().any(|c| c.is_ascii_alphabetic()))
        .collect()
}

/// Keys of the universe that `Request::new` does not fill in.
fn free_keys() -> Vec<&'static KeyDef> {
    universe().keys.iter().filter(|k| !k.derived).collect()
}

/// A condition valid for its operator, rewritten to `op` built by `f` from the base operator.
fn with_op(c: &GenCondition, f: impl Fn(&str) -> String) -> GenCondition {
    let base =
        c.op.trim_start_matches("ForAllValues:")
            .trim_start_matches("ForAnyValue:");
    let base = base.strip_suffix("IfExists").unwrap_or(base);
    GenCondition {
        op: f(base),
        key: c.key.clone(),
        values: c.values.clone(),
    }
}

fn regex_glob(p: &str, text: &str, ci: bool) -> bool {
    let mut re = String::from(if ci { "(?si)^" } else { "(?s)^" });
    for ch in p.chars() {
        match ch {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).unwrap().is_match(text)
}

const GLOB: TemplateOpts = TemplateOpts {
    wildcards: true,
    variables: false,
    ci: false,
};

/// ARN-ish strings: six (sometimes fewer or more) colon-separated segments over a small
/// alphabet, wildcards included when `wild`.
fn arnish(wild: bool) -> impl Strategy<Value = String> {
    let seg_chars: Vec<char> = if wild {
        vec!['a', 'b', '1', '/', '*', '?', '*']
    } else {
        vec!['a', 'b', '1', '/']
    };
    let seg = proptest::collection::vec(select(seg_chars), 0..4)
        .prop_map(|cs| cs.into_iter().collect::<String>());
    (proptest::collection::vec(seg, 4..8), any::<bool>()).prop_map(|(segs, prefix)| {
        let s = segs.join(":");
        if prefix {
            format!("arn:{s}")
        } else {
            s
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Monotonicity: denies win, allows only add, guardrails never grant

proptest! {
    #![proptest_config(cfg(192))]

    /// §1.2 step 1: a Deny that matches the request decides ExplicitDeny, and nothing added
    /// afterwards (Allow statements anywhere) changes that.
    #[test]
    fn explicit_deny_wins_whatever_is_added(
        (c, extra) in case(&S).prop_flat_map(|c| {
            let hint = Hint::of(&c.request);
            let adds = proptest::collection::vec(
                (0usize..16, statement(PolicyKind::Identity, Some(&hint), &S),
                 statement(c.request.resource_policy_kind(), Some(&hint), &S)),
                0..3,
            );
            (Just(c), adds)
        }),
        where_deny in 0u8..3,
    ) {
        let mut c = c;
        let kind = c.request.resource_policy_kind();
        let req = c.request.clone();
        match (where_deny, c.request.principal_account().is_some()) {
            (0, true) => c.set.identity.push(new_policy(PolicyKind::Identity, matching_statement(PolicyKind::Identity, &req, Effect::Deny))),
            (1, true) if c.set.boundary.is_some() => { add_statement(&mut c, Slot::Boundary, matching_statement(PolicyKind::Boundary, &req, Effect::Deny)); }
            _ => match c.set.resource.as_mut() {
                Some(p) => { p.statements.insert(0, matching_statement(kind, &req, Effect::Deny)); p.renumber_sids(); }
                None => c.set.resource = Some(new_policy(kind, matching_statement(kind, &req, Effect::Deny))),
            },
        }
        let (set, r) = c.build();
        if undeniable(&r) {
            return Ok(());
        }
        prop_assert_eq!(decide(&set, &r), Decision::ExplicitDeny);
        for (i, mut ident, mut res) in extra {
            ident.effect = Effect::Allow;
            res.effect = Effect::Allow;
            if i % 2 == 0 && c.request.principal_account().is_some() {
                c.set.identity.push(new_policy(PolicyKind::Identity, ident));
            } else if let Some(p) = c.set.resource.as_mut() {
                if p.to_json(Style::default()).len() + res.to_json(Style::default()).len() < kind.size_limit().0 {
                    p.statements.push(res);
                    p.renumber_sids();
                }
            }
            prop_assert_eq!(c.decide(), Decision::ExplicitDeny, "after adding statements: {:?}", c);
        }
    }

    /// Adding an Allow statement never turns an Allow into a deny (and never lifts an explicit
    /// deny).
    #[test]
    fn adding_an_allow_never_turns_allow_into_deny((c, slot, st) in case_with_statement(Effect::Allow)) {
        let before = c.decide();
        let mut after_case = c.clone();
        if !add_statement(&mut after_case, slot, st) {
            return Ok(()); // over AWS's size limit for the policy
        }
        let after = after_case.decide();
        if before == Decision::Allow {
            prop_assert_eq!(after, Decision::Allow, "after: {:?}", after_case);
        }
        if before == Decision::ExplicitDeny {
            prop_assert_eq!(after, Decision::ExplicitDeny, "after: {:?}", after_case);
        }
    }

    /// Adding a Deny statement never turns a deny into an Allow: the decision stays or becomes
    /// ExplicitDeny.
    #[test]
    fn adding_a_deny_never_turns_a_deny_into_allow((c, slot, st) in case_with_statement(Effect::Deny)) {
        let before = c.decide();
        let mut after_case = c.clone();
        if !add_statement(&mut after_case, slot, st) {
            return Ok(()); // over AWS's size limit for the policy
        }
        let after = after_case.decide();
        prop_assert!(after == before || after == Decision::ExplicitDeny,
            "{:?} became {:?} after: {:?}", before, after, after_case);
    }

    /// SCPs never grant: removing them never turns an Allow into a deny.
    #[test]
    fn scps_never_grant(c in case(&S)) {
        if c.decide() == Decision::Allow {
            let mut d = c.clone();
            d.set.scps.clear();
            prop_assert_eq!(d.decide(), Decision::Allow);
        }
    }

    /// RCPs never grant: removing them never turns an Allow into a deny.
    #[test]
    fn rcps_never_grant(c in case(&S)) {
        if c.decide() == Decision::Allow {
            let mut d = c.clone();
            d.set.rcps.clear();
            prop_assert_eq!(d.decide(), Decision::Allow);
        }
    }

    /// A permissions boundary never grants: removing it never turns an Allow into a deny.
    #[test]
    fn permissions_boundaries_never_grant(c in case(&S)) {
        if c.decide() == Decision::Allow {
            let mut d = c.clone();
            d.set.boundary = None;
            prop_assert_eq!(d.decide(), Decision::Allow);
        }
    }

    /// A session policy never grants: removing it (for a federated user session, which without
    /// one has no permissions, DECISIONS 18: replacing it by an allow-everything one) never turns
    /// an Allow into a deny.
    #[test]
    fn session_policies_never_grant(c in case(&S)) {
        if c.decide() == Decision::Allow {
            let mut d = c.clone();
            d.set.session = c
                .request
                .principal
                .contains(":federated-user/")
                .then(allow_all_session_policy);
            prop_assert_eq!(d.decide(), Decision::Allow);
        }
    }

    /// DECISIONS 18: a federated user session without a session policy is granted only by a
    /// resource policy that names it (or `"*"`) within its account: with its identity policies
    /// removed the decision is the same (unless one of them denied).
    #[test]
    fn a_federated_session_without_a_session_policy_has_no_identity_side(c in case(&S)) {
        if c.request.principal.contains(":federated-user/") && c.set.session.is_none() {
            let mut d = c.clone();
            d.set.identity.clear();
            let (a, b) = (c.decide(), d.decide());
            // Removing Deny statements may turn ExplicitDeny into anything; otherwise equal.
            if a != Decision::ExplicitDeny {
                prop_assert_eq!(a, b);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Same account, cross account, callers without an account

proptest! {
    #![proptest_config(cfg(256))]

    /// §1.4: a cross-account Allow needs both sides: without the resource policy, or (for a
    /// caller other than the root user) without the identity policies, it is denied.
    #[test]
    fn cross_account_allow_implies_identity_and_resource_side_allow(c in case(&S)) {
        let (set, req) = c.build();
        if cross_account(&req) && !undeniable(&req) && decide(&set, &req) == Decision::Allow {
            let mut no_resource = c.clone();
            no_resource.set.resource = None;
            prop_assert_ne!(no_resource.decide(), Decision::Allow, "resource side");
            if !is_root(&req) {
                let mut no_identity = c.clone();
                no_identity.set.identity.clear();
                prop_assert_ne!(no_identity.decide(), Decision::Allow, "identity side");
            }
        }
    }

    /// §1.3: a same-account Allow (outside trust and key policies) comes from the identity
    /// side alone or from the resource side alone.
    #[test]
    fn same_account_allow_comes_from_identity_or_resource_side(c in case(&S)) {
        let (set, req) = c.build();
        if req.principal.is_iam() && !cross_account(&req) && !is_root(&req) && !must_allow(&req)
            && !undeniable(&req) && decide(&set, &req) == Decision::Allow
        {
            let mut no_resource = c.clone();
            no_resource.set.resource = None;
            let mut no_identity = c.clone();
            no_identity.set.identity.clear();
            prop_assert!(no_resource.decide() == Decision::Allow || no_identity.decide() == Decision::Allow);
        }
    }

    /// DECISIONS 5: anonymous callers and service principals are granted only by a resource
    /// policy.
    #[test]
    fn callers_without_an_account_need_a_resource_policy(c in case(&S)) {
        let mut d = c.clone();
        d.set.resource = None;
        let (set, req) = d.build();
        if !req.principal.is_iam() {
            prop_assert_ne!(decide(&set, &req), Decision::Allow);
        }
    }

    /// §1.5: trust and KMS key requests are never allowed without the resource policy.
    #[test]
    fn trust_and_key_requests_need_their_resource_policy(c in case(&S)) {
        let mut d = c.clone();
        d.set.resource = None;
        let (set, req) = d.build();
        if must_allow(&req) {
            prop_assert_ne!(decide(&set, &req), Decision::Allow);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Not* elements are complements

proptest! {
    #![proptest_config(cfg(256))]

    /// §3.1: `NotAction L` matches exactly the requests `Action L` does not (checked as denies,
    /// which apply to every caller).
    #[test]
    fn not_action_is_the_exact_complement_of_action(
        (req, items) in request(&S).prop_flat_map(|r| {
            let h = Hint::of(&r);
            (Just(r), proptest::collection::vec(action_pattern(Some(&h), &S), 1..4))
        })
    ) {
        let deny = |not: bool| GenStatement {
            effect: Effect::Deny,
            action: GenList { not, items: items.clone() },
            ..allow_all_with(vec![])
        };
        let mk = |not: bool| {
            let mut c = solo(vec![allow_all_with(vec![]), deny(not)], vec![]);
            c.request = req.clone();
            c.decide() == Decision::ExplicitDeny
        };
        if undeniable(&req.build()) {
            return Ok(());
        }
        prop_assert!(mk(false) != mk(true), "Action {:?}: {} / NotAction: {}", items, mk(false), mk(true));
    }

    /// §3.2: `NotResource L` matches exactly the requests `Resource L` does not, variables
    /// included.
    #[test]
    fn not_resource_is_the_exact_complement_of_resource(
        (req, items) in request(&S).prop_flat_map(|r| {
            let h = Hint::of(&r);
            (Just(r), proptest::collection::vec(resource_pattern(Some(&h), &S), 1..4))
        })
    ) {
        let deny = |not: bool| GenStatement {
            effect: Effect::Deny,
            resource: Some(GenList { not, items: items.clone() }),
            ..allow_all_with(vec![])
        };
        let mk = |not: bool| {
            let mut c = solo(vec![allow_all_with(vec![]), deny(not)], vec![]);
            c.request = req.clone();
            c.decide() == Decision::ExplicitDeny
        };
        if undeniable(&req.build()) {
            return Ok(());
        }
        prop_assert!(mk(false) != mk(true), "Resource {:?}: {} / NotResource: {}", items, mk(false), mk(true));
    }
}

// ---------------------------------------------------------------------------------------------
// Matching: wildcards, ARNs, case

proptest! {
    #![proptest_config(cfg(2048))]

    /// The wildcard matcher (`*` any run, `?` one character) equals a reference built on the
    /// `regex` crate, case-sensitive and case-insensitive.
    #[test]
    fn wildcard_matcher_equals_regex_reference((p, t) in pattern_and_text(), ci in any::<bool>()) {
        let opts = TemplateOpts { ci, ..GLOB };
        let got = Template::new(&p, opts).matches_plain(&t);
        prop_assert_eq!(got, regex_glob(&p, &t, ci), "pattern {:?} text {:?} ci {}", p, t, ci);
        prop_assert_eq!(got, reference::wildcard_match(&p, &t, ci));
    }

    /// §3.3: `ArnLike` splits pattern and value at their first five colons and matches each
    /// component on its own (compared with a per-segment regex reference).
    #[test]
    fn arn_like_matches_per_segment(p in arnish(true), v in arnish(false)) {
        let got = ArnTemplate::new(&p, false).matches(&v, &|_| None);
        let ps: Vec<&str> = p.splitn(6, ':').collect();
        let vs: Vec<&str> = v.splitn(6, ':').collect();
        let want = ps.len() == 6 && vs.len() == 6
            && ps.iter().zip(&vs).all(|(a, b)| regex_glob(a, b, false));
        prop_assert_eq!(got, want, "pattern {:?} value {:?}", p, v);
        prop_assert_eq!(got, reference::arn_like(&p, &v));
    }

    /// An `ArnLike` match is also a `StringLike` match of the whole string (the converse fails
    /// when a wildcard crosses a colon).
    #[test]
    fn arn_like_match_implies_string_like_match(p in arnish(true), v in arnish(false)) {
        if ArnTemplate::new(&p, false).matches(&v, &|_| None) {
            prop_assert!(Template::new(&p, GLOB).matches_plain(&v));
        }
    }
}

proptest! {
    #![proptest_config(cfg(192))]

    /// §2: action names are case-insensitive, in the request and in `Action`/`NotAction`.
    #[test]
    fn action_names_are_case_insensitive(c in case(&S), seed in any::<usize>()) {
        let mut d = c.clone();
        d.request.action = recase(&d.request.action, seed);
        for p in d.set.policies_mut() {
            for st in &mut p.statements {
                for a in &mut st.action.items {
                    *a = recase(a, seed.rotate_left(7));
                }
            }
        }
        prop_assert_eq!(c.decide(), d.decide(), "recased: {:?}", d);
    }

    /// §2: condition key names are case-insensitive, in conditions, in variables and in the
    /// request context.
    #[test]
    fn condition_key_names_are_case_insensitive(c in case(&S), seed in any::<usize>()) {
        let mut d = c.clone();
        for (k, _) in &mut d.request.context {
            *k = recase(k, seed);
        }
        for p in d.set.policies_mut() {
            for st in &mut p.statements {
                for cond in &mut st.conditions {
                    cond.key = recase(&cond.key, seed.rotate_left(5));
                    for v in &mut cond.values {
                        if let GenValue::Str(s) = v {
                            *s = recase_variables(s, seed.rotate_left(9));
                        }
                    }
                }
                if let Some(r) = &mut st.resource {
                    for i in &mut r.items {
                        *i = recase_variables(i, seed.rotate_left(11));
                    }
                }
            }
        }
        prop_assert_eq!(c.decide(), d.decide(), "recased: {:?}", d);
    }

    /// §2, §4.1: string condition values are case-sensitive, except for the `...IgnoreCase`
    /// operators; `ArnLike` values too.
    #[test]
    fn condition_values_are_case_sensitive_except_ignore_case(
        (key, v) in select(string_values_with_letters()),
        op in select(vec!["StringEquals", "StringNotEquals", "StringEqualsIgnoreCase",
                          "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike", "ArnLike", "ArnNotLike"]),
        seed in any::<usize>(),
    ) {
        let recased = recase(&v, seed);
        let cond = GenCondition { op: op.to_string(), key: key.to_string(), values: vec![GenValue::Str(v.clone())] };
        let c = solo(vec![allow_all_with(vec![cond])], vec![(key.to_string(), GenCtx::One(recased.clone()))]);
        let matched = op.contains("IgnoreCase");
        let negated = op.contains("Not");
        // ARN values with fewer than six components never match an ARN operator.
        let arn_ok = !op.starts_with("Arn") || v.splitn(6, ':').count() == 6;
        let want = if !arn_ok { negated } else { matched != negated };
        prop_assert_eq!(c.decide() == Decision::Allow, want, "{:?}", c);
    }

    /// §3.2: resource ARNs are case-sensitive.
    #[test]
    fn resource_arns_are_case_sensitive(c in case(&S), seed in any::<usize>()) {
        let (_, req) = c.build();
        let resource = if req.resource == "*" {
            "arn:aws:ec2:us-east-1:222222222222:instance/i-0abc1234".to_string()
        } else {
            req.resource.clone()
        };
        // Recase the resource part only: `Arn:...` is no ARN at all. Every resource part of the
        // universe has letters, so the recased ARN differs.
        let parts: Vec<&str> = resource.splitn(6, ':').collect();
        let recased = format!("{}:{}", parts[..5].join(":"), recase(parts[5], seed));
        let d = solo(vec![GenStatement {
            resource: Some(GenList { not: false, items: vec![recased] }),
            ..allow_all_with(vec![])
        }], vec![]);
        let mut d = d;
        d.request.resource = resource.clone();
        d.request.resource_account = Some("222222222222".to_string());
        prop_assert_ne!(d.decide(), Decision::Allow, "{:?}", d);
    }
}

// ---------------------------------------------------------------------------------------------
// Conditions on missing keys and empty sets (§4.2)

/// A condition on a key the request does not carry: a key the engine fills in is swapped for a
/// free key of the same type.
fn missing_key_condition() -> impl Strategy<Value = GenCondition> {
    condition(None, &S).prop_map(|mut c| {
        let u = universe();
        if let Some(def) = u
            .keys
            .iter()
            .find(|k| k.derived && k.name.eq_ignore_ascii_case(&c.key))
        {
            let free = free_keys();
            let same = free.iter().find(|k| k.ty == def.ty).unwrap_or(&free[0]);
            c.key = same.name.to_string();
        }
        c
    })
}

/// `Null` takes no `IfExists` and no set prefix: use another operator (its values are
/// `"true"`/`"false"`, fine for `StringEquals`).
fn not_null(base: &str) -> &str {
    if base == "Null" {
        "StringEquals"
    } else {
        base
    }
}

proptest! {
    #![proptest_config(cfg(256))]

    /// §4.2: any `...IfExists` operator is true on a missing key (with or without a set
    /// prefix).
    #[test]
    fn if_exists_on_a_missing_key_is_true(cond in missing_key_condition(), set in 0u8..3) {
        let prefix = ["", "ForAllValues:", "ForAnyValue:"][usize::from(set)];
        let cond = with_op(&cond, |b| format!("{prefix}{}IfExists", not_null(b)));
        let c = solo(vec![allow_all_with(vec![cond])], vec![]);
        prop_assert_eq!(c.decide(), Decision::Allow, "{:?}", c);
    }

    /// §4.2, DECISIONS 2: `ForAllValues` is true and `ForAnyValue` false on a missing key and on
    /// an empty set, whatever the inner operator.
    #[test]
    fn for_all_values_on_an_empty_set_is_true_and_for_any_value_false(
        cond in missing_key_condition(), empty_array in any::<bool>(),
    ) {
        let ctx = if empty_array { vec![(cond.key.clone(), GenCtx::Many(vec![]))] } else { vec![] };
        let all = with_op(&cond, |b| format!("ForAllValues:{}", not_null(b)));
        let any_ = with_op(&cond, |b| format!("ForAnyValue:{}", not_null(b)));
        let c_all = solo(vec![allow_all_with(vec![all])], ctx.clone());
        let c_any = solo(vec![allow_all_with(vec![any_])], ctx);
        prop_assert_eq!(c_all.decide(), Decision::Allow, "{:?}", c_all);
        prop_assert_eq!(c_any.decide(), Decision::ImplicitDeny, "{:?}", c_any);
    }

    /// §4.2: a plain operator on a missing key is true when negated, false when positive;
    /// `Null: true` holds, `Null: false` does not.
    #[test]
    fn plain_operators_on_a_missing_key_follow_the_table(cond in missing_key_condition()) {
        let cond = with_op(&cond, str::to_string);
        let base = cond.op.as_str();
        let want = if base == "Null" {
            cond.values[0].text().eq_ignore_ascii_case("true")
        } else {
            matches!(base, "StringNotEquals" | "StringNotEqualsIgnoreCase" | "StringNotLike"
                | "NumericNotEquals" | "DateNotEquals" | "NotIpAddress" | "ArnNotEquals" | "ArnNotLike")
        };
        let c = solo(vec![allow_all_with(vec![cond.clone()])], vec![]);
        prop_assert_eq!(c.decide() == Decision::Allow, want, "{:?}", c);
    }
}

// ---------------------------------------------------------------------------------------------
// Shapes that never matter: order, array-vs-string, split statements, unrelated keys

proptest! {
    #![proptest_config(cfg(192))]

    /// Statement order within a policy never changes a decision.
    #[test]
    fn statement_order_never_changes_a_decision(c in case(&S), seed in any::<u64>()) {
        let mut d = c.clone();
        for (i, p) in d.set.policies_mut().into_iter().enumerate() {
            shuffle(&mut p.statements, seed.wrapping_add(i as u64));
            p.renumber_sids();
        }
        prop_assert_eq!(c.decide(), d.decide(), "shuffled: {:?}", d);
    }

    /// The order of identity policies, of the policies at one SCP/RCP level and of the levels
    /// themselves never changes a decision.
    #[test]
    fn policy_order_never_changes_a_decision(c in case(&S), seed in any::<u64>()) {
        let mut d = c.clone();
        shuffle(&mut d.set.identity, seed);
        for (i, l) in d.set.scps.iter_mut().chain(d.set.rcps.iter_mut()).enumerate() {
            shuffle(l, seed.wrapping_add(i as u64 + 1));
        }
        shuffle(&mut d.set.scps, seed.rotate_left(17));
        shuffle(&mut d.set.rcps, seed.rotate_left(29));
        prop_assert_eq!(c.decide(), d.decide(), "reordered: {:?}", d);
    }

    /// §2: `"X"` ≡ `["X"]`, one statement object ≡ a one-element array, `"*"` ≡
    /// `{"AWS": "*"}`.
    #[test]
    fn array_and_string_forms_never_change_a_decision(c in case(&S)) {
        let mut a = c.clone();
        a.style = Style { scalars: true, expand_star: false };
        let mut b = c.clone();
        b.style = Style { scalars: false, expand_star: true };
        prop_assert_eq!(a.decide(), b.decide(), "scalar form: {:?}", a);
    }

    /// Splitting a statement with several actions into one statement per action keeps every
    /// decision.
    #[test]
    fn splitting_a_multi_action_statement_keeps_every_decision(c in case(&S)) {
        let mut d = c.clone();
        for p in d.set.policies_mut() {
            let mut split = p.clone();
            split.statements = p.statements.iter().flat_map(|st| {
                if st.action.not || st.action.items.len() < 2 {
                    vec![st.clone()]
                } else {
                    st.action.items.iter().map(|a| GenStatement {
                        action: GenList { not: false, items: vec![a.clone()] },
                        ..st.clone()
                    }).collect()
                }
            }).collect();
            split.renumber_sids();
            if split.to_json(Style::default()).len() <= split.kind.size_limit().0 {
                *p = split;
            }
        }
        prop_assert_eq!(c.decide(), d.decide(), "split: {:?}", d);
    }

    /// Splitting a statement with several resources into one statement per resource keeps every
    /// decision.
    #[test]
    fn splitting_a_multi_resource_statement_keeps_every_decision(c in case(&S)) {
        let mut d = c.clone();
        for p in d.set.policies_mut() {
            let mut split = p.clone();
            split.statements = p.statements.iter().flat_map(|st| match &st.resource {
                Some(r) if !r.not && r.items.len() > 1 => r.items.iter().map(|x| GenStatement {
                    resource: Some(GenList { not: false, items: vec![x.clone()] }),
                    ..st.clone()
                }).collect(),
                _ => vec![st.clone()],
            }).collect();
            split.renumber_sids();
            if split.to_json(Style::default()).len() <= split.kind.size_limit().0 {
                *p = split;
            }
        }
        prop_assert_eq!(c.decide(), d.decide(), "split: {:?}", d);
    }

    /// A context key that no policy mentions never changes a decision.
    #[test]
    fn unrelated_context_keys_never_change_a_decision(c in case(&S), v in "[a-z]{0,5}") {
        let mut d = c.clone();
        d.request.context.push(("xverify:Unrelated".to_string(), GenCtx::One(v)));
        prop_assert_eq!(c.decide(), d.decide());
    }
}

// ---------------------------------------------------------------------------------------------
// Printing, the API, determinism, the case format, the reference interpreter

proptest! {
    #![proptest_config(cfg(256))]

    /// parse(print(p)) == p for every policy of every kind.
    #[test]
    fn parse_of_print_is_identity(p in any_policy(&S), scalars in any::<bool>()) {
        let parsed = p.parse_as("p", Style { scalars, expand_star: false });
        let printed = parsed.to_json();
        let again = parse_policy(&printed, p.kind, "p");
        prop_assert!(again.is_ok(), "printed policy rejected: {:?}\n{}", again, printed);
        prop_assert_eq!(again.unwrap(), parsed, "printed: {}", printed);
    }

    /// `decide` (the hot path) equals `authorize(..).decision` (the explaining path).
    #[test]
    fn decide_equals_authorize_decision(c in case(&S)) {
        let (set, req) = c.build();
        prop_assert_eq!(decide(&set, &req), authorize(&set, &req).decision);
    }

    /// Decisions are deterministic: the same inputs, built twice, decide the same.
    #[test]
    fn decisions_are_deterministic(c in case(&S)) {
        let (set, req) = c.build();
        let (set2, req2) = c.clone().build();
        let d = decide(&set, &req);
        prop_assert_eq!(d, decide(&set, &req));
        prop_assert_eq!(d, decide(&set2, &req2));
        prop_assert_eq!(authorize(&set, &req), authorize(&set, &req));
    }

    /// An explanation names statements of the deciding effect: every reason of an ExplicitDeny
    /// is a Deny (at least one), every reason of an Allow an Allow.
    #[test]
    fn explanations_name_statements_of_the_deciding_effect(c in case(&S)) {
        let (set, req) = c.build();
        let r = authorize(&set, &req);
        match r.decision {
            Decision::ExplicitDeny => {
                prop_assert!(!r.reasons.is_empty());
                prop_assert!(r.reasons.iter().all(|x| x.effect() == Effect::Deny));
            }
            Decision::Allow => prop_assert!(r.reasons.iter().all(|x| x.effect() == Effect::Allow)),
            Decision::ImplicitDeny => prop_assert!(r.note.is_some()),
        }
    }

    /// A batch read through one `PolicyCache` (as `xverify eval` reads it) reads every line as
    /// reading it alone does: the same policies, names, request, id, expectation, and the same
    /// error, where policies come again at the same or other places, under requests that make a
    /// resource policy a trust policy or not, in lines broken near a known policy, and with a
    /// cache small enough to start again.
    #[test]
    fn a_policy_cache_never_changes_what_a_line_reads(
        cases in proptest::collection::vec(case(&S), 2..5),
        seed in any::<u64>(),
        small in any::<bool>(),
    ) {
        let mut lines = Vec::new();
        for (i, c) in cases.iter().enumerate() {
            let other = &cases[(i + 1) % cases.len()];
            lines.push(c.to_case_line());
            // Another request over the same policies (the resource policy's kind may change).
            let mut x = c.clone();
            x.request = other.request.clone();
            lines.push(x.to_case_line());
            // Another case's resource policy; identity policies in reverse order (other names).
            let mut y = c.clone();
            y.set.resource = other.set.resource.clone();
            y.set.identity.reverse();
            lines.push(y.to_case_line());
        }
        let n = lines.len();
        for i in 0..n {
            // A line broken at one byte: a syntax error, or a policy text one byte off one known.
            const BYTES: [u8; 10] = [b'{', b'}', b'[', b']', b',', b':', b'\\', b'"', b' ', b'x'];
            let mut b = lines[i].clone().into_bytes();
            let r = (seed ^ i as u64)
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let at = (r >> 33) as usize % b.len();
            b[at] = BYTES[(r >> 20) as usize % BYTES.len()];
            lines.push(String::from_utf8_lossy(&b).into_owned());
            lines.push(String::from_utf8_lossy(&b[..at]).into_owned());
        }
        let all = lines.clone();
        lines.extend(all);
        shuffle(&mut lines, seed);
        let opts = ParseOptions::default();
        let mut cache = if small {
            xverify_engine::case::PolicyCache::with_limit(4_000)
        } else {
            xverify_engine::case::PolicyCache::new()
        };
        for line in &lines {
            let got = Case::parse_line_with(line, opts, &mut cache);
            let want = Case::parse_line(line, opts);
            prop_assert_eq!(&got.id, &want.id, "{}", line);
            prop_assert_eq!(got.expect, want.expect, "{}", line);
            prop_assert_eq!(&got.case, &want.case, "{}", line);
        }
        // Every line comes twice: the second time its policies come from the cache.
        prop_assert!(small || cache.is_empty() || cache.hits > 0, "no policy came from the cache");
    }

    /// The printed reproducer is faithful: the case line reads back (as `xverify eval` reads it)
    /// to the same policies and request.
    #[test]
    fn case_line_reads_back_to_the_same_case(c in case(&S)) {
        let line = c.to_case_line();
        let parsed = Case::parse(&line, ParseOptions::default());
        prop_assert!(parsed.is_ok(), "{:?}", parsed.err());
        let parsed = parsed.unwrap();
        let (set, req) = c.build();
        prop_assert_eq!(&parsed.policies, &set);
        prop_assert_eq!(&parsed.request, &req);
    }
}

proptest! {
    #![proptest_config(cfg(512))]

    /// The engine equals the reference interpreter (tests/reference, written from
    /// iam-semantics.md and DECISIONS.md) on random cases.
    #[test]
    fn engine_equals_reference_interpreter(c in case(&S)) {
        let line = c.to_case_line();
        prop_assert_eq!(decide_case(&c), reference::decide_line(&line), "case: {}", line);
    }

    /// Same, on small cases (the shapes shrinking aims for) with requests that hit more often.
    #[test]
    fn engine_equals_reference_interpreter_on_small_cases(c in case(&Settings::SMALL)) {
        let line = c.to_case_line();
        prop_assert_eq!(decide_case(&c), reference::decide_line(&line), "case: {}", line);
    }
}

// ---------------------------------------------------------------------------------------------
// Estates: random organizations, accounts, principals and resources (interfaces.md §3)

/// Build and gather: the estate's decision with the policies and request it gathered. Generated
/// estates always hold the request's principal, so gathering never fails.
fn estate_decide(c: &GenEstateCase) -> (Decision, PolicySet, Request) {
    let (estate, er) = c.build();
    match estate.authorize_owned(&er) {
        Ok(x) => x,
        Err(e) => panic!("gather refused a generated request: {e}\n{c:?}"),
    }
}

/// (role, policy name, statement index, Sid) of each deciding statement.
fn reasons_of(r: &Response<'_>) -> Vec<(Role, String, usize, Option<String>)> {
    r.reasons
        .iter()
        .map(|x| {
            (
                x.role,
                x.policy.name.clone(),
                x.statement,
                x.sid().map(str::to_string),
            )
        })
        .collect()
}

fn deny_all(kind: PolicyKind) -> GenPolicy {
    let mut st = full_access_statement(kind);
    st.effect = Effect::Deny;
    new_policy(kind, st)
}

/// An attachment point: the root or an OU (by ID), or an account in the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Level {
    Unit(String),
    Account(String),
}

/// Every level of the organization a policy can be attached to: its units, and the described
/// accounts it holds.
fn attachable_levels(e: &GenEstate) -> Vec<Level> {
    let Some(org) = &e.organization else {
        return vec![];
    };
    let mut v: Vec<Level> = org
        .root
        .all_units()
        .into_iter()
        .map(|u| Level::Unit(u.id.clone()))
        .collect();
    v.extend(
        e.accounts
            .iter()
            .filter(|a| org.contains(&a.id))
            .map(|a| Level::Account(a.id.clone())),
    );
    v
}

/// The levels on `account`'s path, root first (none when it is not in the organization).
fn path_levels(e: &GenEstate, account: &str) -> Vec<Level> {
    let Some(path) = e
        .organization
        .as_ref()
        .and_then(|o| o.root.path_to(account))
    else {
        return vec![];
    };
    let mut v: Vec<Level> = path.iter().map(|u| Level::Unit(u.id.clone())).collect();
    if e.account(account).is_some() {
        v.push(Level::Account(account.to_string()));
    }
    v
}

/// Attach `p` (an SCP or an RCP, by its kind) at `level`.
fn attach(e: &mut GenEstate, level: &Level, name: &str, p: GenPolicy) {
    let n = GenNamed {
        name: name.to_string(),
        policy: p,
    };
    let scp = n.policy.kind == PolicyKind::Scp;
    let put = |scps: &mut Option<Vec<GenNamed>>, rcps: &mut Vec<GenNamed>, n: GenNamed| {
        if scp {
            scps.get_or_insert_with(Vec::new).push(n);
        } else {
            rcps.push(n);
        }
    };
    match level {
        Level::Unit(id) => {
            if let Some(org) = e.organization.as_mut() {
                let mut n = Some(n);
                org.root.for_each_unit_mut(&mut |u| {
                    if &u.id == id {
                        if let Some(n) = n.take() {
                            put(&mut u.scps, &mut u.rcps, n);
                        }
                    }
                });
            }
        }
        Level::Account(id) => {
            if let Some(a) = e.accounts.iter_mut().find(|a| &a.id == id) {
                put(&mut a.scps, &mut a.rcps, n);
            }
        }
    }
}

/// The identity policy every principal of an undescribed account has.
fn open_world_identity() -> GenPolicy {
    new_policy(PolicyKind::Identity, allow_all_with(vec![]))
}

/// The policies AWS applies to the request, worked out from the spec directly (iam-semantics.md
/// §1.1), without `estate.rs`: the oracle for `Estate::gather`'s policy set.
fn spec_policy_set(c: &GenEstateCase) -> GenSet {
    let e = &c.estate;
    let r = &c.request.request;
    let p = Principal::parse(&r.principal).unwrap();
    let mut set = GenSet::default();
    if let Some(acct) = p.account() {
        match (e.account(acct), &p) {
            (_, Principal::Root { .. }) => {}
            (None, _) => set.identity.push(open_world_identity()),
            (Some(a), Principal::User { name, .. }) => {
                let u = a.users.iter().find(|u| &u.name == name).unwrap();
                set.identity = u.policies.clone();
                for g in &u.groups {
                    if let Some(g) = a.groups.iter().find(|x| &x.name == g) {
                        set.identity.extend(g.policies.iter().cloned());
                    }
                }
                set.boundary = u.permissions_boundary.clone();
            }
            (Some(a), _) => {
                let name = p.role_name().unwrap();
                let role = a.roles.iter().find(|x| x.name == name).unwrap();
                set.identity = role.policies.clone();
                set.boundary = role.permissions_boundary.clone();
            }
        }
        set.session = c.request.session_policy.clone();
        if e.account(acct).is_none()
            && matches!(p, Principal::FederatedUser { .. })
            && set.session.is_none()
        {
            // DECISIONS 18: an undescribed account's federated user passes any session policy.
            set.session = Some(allow_all_session_policy());
        }
        if let Some(org) = e.organization.as_ref().filter(|o| o.governs(acct)) {
            let path = org.root.path_to(acct).unwrap();
            for u in path {
                if let Some(s) = &u.scps {
                    set.scps.push(s.iter().map(|n| n.policy.clone()).collect());
                }
            }
            if let Some(s) = e.account(acct).and_then(|a| a.scps.as_ref()) {
                set.scps.push(s.iter().map(|n| n.policy.clone()).collect());
            }
        }
    }
    // The resource: a role's trust policy for the AssumeRole family only; else the policy of the
    // described resource (the bucket of an object, the table of an index).
    let parts: Vec<&str> = r.resource.splitn(6, ':').collect();
    let mut owner: Option<String> = None;
    if parts.len() == 6 && parts[2] == "iam" && parts[5].starts_with("role/") {
        owner = Some(parts[4].to_string());
        let name = parts[5].rsplit('/').next().unwrap();
        let role = e
            .account(parts[4])
            .and_then(|a| a.roles.iter().find(|x| x.name == name));
        if eval::is_trust_request(&r.action.to_ascii_lowercase(), &r.resource) {
            set.resource = role.and_then(|x| x.trust_policy.clone());
        }
    } else {
        let holder = policy_holder(&r.resource);
        for a in &e.accounts {
            if let Some(res) = a.resources.iter().find(|x| x.arn == holder) {
                owner = Some(a.id.clone());
                set.resource = res.policy.clone();
            }
        }
    }
    let owner = owner
        .or_else(|| (parts.len() == 6 && parts[4].len() == 12).then(|| parts[4].to_string()))
        .or_else(|| r.resource_account.clone())
        // No account anywhere: the caller's own (as the grant counts it).
        .or_else(|| p.account().map(str::to_string));
    if let (Some(b), Some(org)) = (owner, e.organization.as_ref()) {
        if org.governs(&b) {
            for u in org.root.path_to(&b).unwrap() {
                if !u.rcps.is_empty() {
                    set.rcps
                        .push(u.rcps.iter().map(|n| n.policy.clone()).collect());
                }
            }
            if let Some(a) = e.account(&b).filter(|a| !a.rcps.is_empty()) {
                set.rcps
                    .push(a.rcps.iter().map(|n| n.policy.clone()).collect());
            }
        }
    }
    set
}

/// The SCPs attached at one level (`None`: unsaid).
type Scps = Option<Vec<GenNamed>>;

/// Every way to loosen the estate's guardrails: detach an RCP, detach an SCP that allows
/// nothing, drop a Deny statement of an SCP, leave an SCP level unsaid, remove a permissions
/// boundary or the session policy. Each with a label.
fn guardrail_loosenings(c: &GenEstateCase) -> Vec<(String, GenEstateCase)> {
    let mut out = Vec::new();
    let levels: Vec<Level> = attachable_levels(&c.estate);
    let with_level =
        |c: &GenEstateCase, l: &Level, f: &mut dyn FnMut(&mut Scps, &mut Vec<GenNamed>)| {
            let mut d = c.clone();
            match l {
                Level::Unit(id) => {
                    if let Some(org) = d.estate.organization.as_mut() {
                        org.root.for_each_unit_mut(&mut |u| {
                            if &u.id == id {
                                f(&mut u.scps, &mut u.rcps);
                            }
                        });
                    }
                }
                Level::Account(id) => {
                    if let Some(a) = d.estate.accounts.iter_mut().find(|a| &a.id == id) {
                        f(&mut a.scps, &mut a.rcps);
                    }
                }
            }
            d
        };
    for l in &levels {
        let (mut said, mut n_rcps, mut scp_stmts) = (false, 0, Vec::new());
        with_level(c, l, &mut |scps, rcps| {
            n_rcps = rcps.len();
            if let Some(s) = scps {
                said = true;
                for (i, n) in s.iter().enumerate() {
                    scp_stmts.push((
                        i,
                        n.policy
                            .statements
                            .iter()
                            .map(|st| st.effect)
                            .collect::<Vec<_>>(),
                    ));
                }
            }
        });
        for i in 0..n_rcps {
            out.push((
                format!("detach RCP {i} at {l:?}"),
                with_level(c, l, &mut |_, r| {
                    r.remove(i);
                }),
            ));
        }
        if said {
            out.push((
                format!("leave the SCPs at {l:?} unsaid"),
                with_level(c, l, &mut |s, _| *s = None),
            ));
        }
        for (i, effects) in scp_stmts {
            if effects.iter().all(|e| *e == Effect::Deny) {
                out.push((
                    format!("detach deny-only SCP {i} at {l:?}"),
                    with_level(c, l, &mut |s, _| {
                        if let Some(s) = s {
                            s.remove(i);
                        }
                    }),
                ));
            }
            for (j, e) in effects.iter().enumerate() {
                if *e == Effect::Deny && effects.len() > 1 {
                    out.push((
                        format!("drop Deny statement {j} of SCP {i} at {l:?}"),
                        with_level(c, l, &mut |s, _| {
                            if let Some(s) = s {
                                s[i].policy.statements.remove(j);
                                s[i].policy.renumber_sids();
                            }
                        }),
                    ));
                }
            }
        }
    }
    for (ai, a) in c.estate.accounts.iter().enumerate() {
        for (ri, r) in a.roles.iter().enumerate() {
            if r.permissions_boundary.is_some() {
                let mut d = c.clone();
                d.estate.accounts[ai].roles[ri].permissions_boundary = None;
                out.push((
                    format!("remove the boundary of role {} in {}", r.name, a.id),
                    d,
                ));
            }
        }
        for (ui, u) in a.users.iter().enumerate() {
            if u.permissions_boundary.is_some() {
                let mut d = c.clone();
                d.estate.accounts[ai].users[ui].permissions_boundary = None;
                out.push((
                    format!("remove the boundary of user {} in {}", u.name, a.id),
                    d,
                ));
            }
        }
    }
    if c.request.session_policy.is_some() {
        let mut d = c.clone();
        d.request.session_policy = None;
        out.push(("remove the session policy".to_string(), d));
    }
    out
}

/// Do SCPs bind this request's principal (iam-semantics.md §8)? Its account is a member account,
/// it is an IAM principal and not a service-linked role.
fn scps_bind(c: &GenEstateCase, req: &Request) -> bool {
    let p = &req.principal;
    p.is_iam()
        && !p.is_service_linked_role()
        && !undeniable(req)
        && c.estate
            .organization
            .as_ref()
            .zip(p.account())
            .is_some_and(|(o, a)| o.governs(a))
}

/// Do RCPs bind this request (iam-semantics.md §1.1, §8)? The resource account is a member
/// account, the service supports RCPs, the caller is not a service-linked role, the action is not
/// `kms:RetireGrant`.
fn rcps_bind(c: &GenEstateCase, req: &Request) -> bool {
    !req.principal.is_service_linked_role()
        && !undeniable(req)
        && eval::RCP_SERVICES.contains(&req.service())
        && req.action_lc != "kms:retiregrant"
        && c.estate
            .organization
            .as_ref()
            .zip(req.resource_account.as_deref())
            .is_some_and(|(o, b)| o.governs(b))
}

proptest! {
    #![proptest_config(cfg(96))]

    /// interfaces.md §2 (`eval --spec`): the estate decides a request exactly as the case
    /// evaluator does when fed the policies and context `Estate::gather` collected, written as a
    /// case line and read back — same policies, same request, same decision, same explanation;
    /// a one-step `replay_chain` agrees too.
    #[test]
    fn estate_decision_equals_the_case_evaluator_on_what_it_gathered(c in estate_case(&ES)) {
        let (d, set, req) = estate_decide(&c);
        let line = case_line_of(&set, &req);
        let parsed = Case::parse(&line, ParseOptions::default());
        prop_assert!(parsed.is_ok(), "{:?}\n{}\n{:?}", parsed.err(), line, c);
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed.policies, &set, "{}\n{:?}", line, c);
        prop_assert_eq!(&parsed.request, &req, "{}\n{:?}", line, c);
        let direct = authorize(&set, &req);
        let read = authorize(&parsed.policies, &parsed.request);
        prop_assert_eq!(read.decision, d, "{}\n{:?}", line, c);
        prop_assert_eq!(direct.decision, d);
        prop_assert_eq!(reasons_of(&read), reasons_of(&direct), "{}\n{:?}", line, c);
        let (estate, er) = c.build();
        let steps = estate.replay_chain(std::slice::from_ref(&er)).unwrap();
        prop_assert_eq!(steps.len(), 1);
        prop_assert_eq!(steps[0].decision, d, "{:?}", c);
        prop_assert_eq!(reasons_of(&steps[0].explain()), reasons_of(&direct), "{:?}", c);
    }

    /// iam-semantics.md §1.1: the policies that apply are the principal's (its groups' too), its
    /// boundary, the session policy, the SCPs of every level root → OUs → the principal's member
    /// account, the RCPs of every level down to the resource's member account and the resource's
    /// policy (its trust policy for `sts:AssumeRole*` on a role) — worked out from the spec here
    /// independently of `estate.rs`, the estate decides as those policies do.
    #[test]
    fn estate_applies_the_policies_the_spec_attaches(c in estate_case(&ES)) {
        let (d, _, req) = estate_decide(&c);
        let want = spec_policy_set(&c).build(Style::default());
        prop_assert_eq!(decide(&want, &req), d, "{:?}", c);
    }

    /// iam-semantics.md §6, §8: the organization keys follow from the tree —
    /// `aws:PrincipalOrgID`/`aws:ResourceOrgID` are our organization's ID exactly for accounts
    /// in it, and `…OrgPaths` the path root → OUs → the account's parent; a described
    /// principal's `aws:PrincipalTag/*` are its tags (session tags override a role's).
    #[test]
    fn estate_derives_org_keys_and_principal_tags(c in estate_case(&ES)) {
        let (_, _, req) = estate_decide(&c);
        let org = c.estate.organization.as_ref();
        let ctx = &req.context;
        for (account, id_key, paths_key) in [
            (req.principal.account().map(str::to_string), "aws:principalorgid", "aws:principalorgpaths"),
            (req.resource_account.clone(), "aws:resourceorgid", "aws:resourceorgpaths"),
        ] {
            let Some(account) = account else { continue };
            let inside = org.is_some_and(|o| o.contains(&account));
            let id = ctx.get_single(id_key);
            if inside {
                prop_assert_eq!(id, Some(ORG_ID), "{} of {}: {:?}", id_key, account, c);
                let path = org.and_then(|o| o.org_path(&account)).unwrap();
                prop_assert_eq!(ctx.get(paths_key).map(|v| v.values().to_vec()), Some(vec![path]),
                    "{} of {}: {:?}", paths_key, account, c);
            } else if org.is_some() {
                prop_assert_ne!(id, Some(ORG_ID), "{} of {}: {:?}", id_key, account, c);
            }
        }
        let described = req.principal.account().and_then(|a| c.estate.account(a));
        let tags: Option<Vec<(String, String)>> = match (&req.principal, described) {
            (Principal::User { name, .. }, Some(a)) => a.users.iter().find(|u| &u.name == name).map(|u| u.tags.clone()),
            (Principal::Role { .. } | Principal::AssumedRole { .. }, Some(a)) => {
                let name = req.principal.role_name().unwrap();
                a.roles.iter().find(|r| r.name == name).map(|r| {
                    let mut t: std::collections::BTreeMap<String, String> = r.tags.iter().cloned().collect();
                    t.extend(c.request.session_tags.iter().cloned());
                    t.into_iter().collect()
                })
            }
            (Principal::Root { .. }, _) => Some(vec![]),
            _ => None,
        };
        if let Some(tags) = tags {
            let mut got: Vec<(String, String)> = ctx.iter()
                .filter_map(|(k, v)| {
                    let k = k.to_ascii_lowercase();
                    let t = k.strip_prefix("aws:principaltag/")?;
                    Some((t.to_string(), v.values().first().cloned().unwrap_or_default()))
                })
                .collect();
            got.sort();
            let mut want: Vec<(String, String)> = tags.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
            want.sort();
            prop_assert_eq!(got, want, "{:?}", c);
        }
    }

    /// iam-semantics.md §1.2, §8: guardrails never grant. In an estate, detaching an RCP,
    /// detaching an SCP that allows nothing, dropping a Deny statement of an SCP, leaving an SCP
    /// level unsaid, removing a permissions boundary or the session policy never turns an Allow
    /// into a deny.
    #[test]
    fn estate_guardrails_never_grant(c in estate_case(&ES)) {
        if estate_decide(&c).0 != Decision::Allow {
            return Ok(());
        }
        for (label, d) in guardrail_loosenings(&c) {
            prop_assert_eq!(estate_decide(&d).0, Decision::Allow, "after: {}\n{:?}", label, d);
        }
    }

    /// iam-semantics.md §8: a Deny-all SCP attached at the organization root denies every
    /// request of a principal of a member account (service-linked roles and
    /// `sts:GetCallerIdentity` aside) and changes nothing for the management account, for
    /// principals outside the organization and for callers with no account.
    #[test]
    fn a_deny_all_scp_at_the_root_denies_every_member_account_principal(c in estate_case(&ES)) {
        if c.estate.organization.is_none() {
            return Ok(());
        }
        let (before, _, req) = estate_decide(&c);
        let mut d = c.clone();
        attach(&mut d.estate, &Level::Unit(ESTATE_ROOT.to_string()), "DenyAll", deny_all(PolicyKind::Scp));
        let after = estate_decide(&d).0;
        if scps_bind(&c, &req) {
            prop_assert_eq!(after, Decision::ExplicitDeny, "{:?}", d);
        } else {
            prop_assert_eq!(after, before, "{:?}", d);
        }
    }

    /// iam-semantics.md §1.2 step 3, §8: every level from the root down to the principal's
    /// account counts. A Deny-all SCP at any level on that path denies (as at the root); at any
    /// other level — another OU, another account — it changes nothing.
    #[test]
    fn a_deny_all_scp_denies_exactly_on_the_principal_path(c in estate_case(&ES), ix in any::<prop::sample::Index>()) {
        let levels = attachable_levels(&c.estate);
        if levels.is_empty() {
            return Ok(());
        }
        let level = ix.get(&levels).clone();
        let (before, _, req) = estate_decide(&c);
        let on_path = req.principal.account().is_some_and(|a| path_levels(&c.estate, a).contains(&level));
        let mut d = c.clone();
        attach(&mut d.estate, &level, "DenyAll", deny_all(PolicyKind::Scp));
        let after = estate_decide(&d).0;
        if on_path && scps_bind(&c, &req) {
            prop_assert_eq!(after, Decision::ExplicitDeny, "at {:?}: {:?}", level, d);
        } else {
            prop_assert_eq!(after, before, "at {:?}: {:?}", level, d);
        }
    }

    /// iam-semantics.md §1.1, §8: RCPs are the resource account's. A Deny-all RCP at any level on
    /// the path root → OUs → the resource's member account denies every caller (service-linked
    /// roles, services without RCP support, `kms:RetireGrant` aside); at any other level it
    /// changes nothing.
    #[test]
    fn a_deny_all_rcp_denies_exactly_on_the_resource_path(c in estate_case(&ES), ix in any::<prop::sample::Index>()) {
        let levels = attachable_levels(&c.estate);
        if levels.is_empty() {
            return Ok(());
        }
        let level = ix.get(&levels).clone();
        let (before, _, req) = estate_decide(&c);
        let on_path = req.resource_account.as_deref().is_some_and(|b| path_levels(&c.estate, b).contains(&level));
        let mut d = c.clone();
        attach(&mut d.estate, &level, "DenyAllRcp", deny_all(PolicyKind::Rcp));
        let after = estate_decide(&d).0;
        if on_path && rcps_bind(&c, &req) {
            prop_assert_eq!(after, Decision::ExplicitDeny, "at {:?}: {:?}", level, d);
        } else {
            prop_assert_eq!(after, before, "at {:?}: {:?}", level, d);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions: failures found while building the suite, kept as named cases.

mod regressions {
    use super::reference;
    use xverify_engine::case::Case;
    use xverify_engine::{decide, Decision, ParseOptions};

    fn engine(line: &str) -> Decision {
        let c = Case::parse(line, ParseOptions::default()).unwrap();
        decide(&c.policies, &c.request)
    }

    /// `ForAnyValue:...IfExists` on a key given as an empty array: the key is present with an
    /// empty set, so ForAnyValue is false; IfExists only rescues a missing key (DECISIONS 2, AWS:
    /// "resolves to an empty data set"). The engine returned true for both.
    /// See: issue 4, found by `engine_equals_reference_interpreter`; fixed in eval.rs
    /// `condition_holds`.
    #[test]
    fn issue_4_for_any_value_if_exists_on_an_empty_set_is_false() {
        let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"team"}}}}"#;
        let line = |ctx: &str| {
            format!(
                r#"{{"identity_policies":[{policy}],"request":{{"principal":"arn:aws:iam::111111111111:user/alice","action":"s3:GetObject","resource":"arn:aws:s3:::b/k","resource_account":"111111111111","context":{ctx}}}}}"#
            )
        };
        for (ctx, want) in [
            (r#"{"aws:TagKeys":[]}"#, Decision::ImplicitDeny),
            (r#"{}"#, Decision::Allow),
            (r#"{"aws:TagKeys":["env","team"]}"#, Decision::Allow),
        ] {
            let l = line(ctx);
            assert_eq!(engine(&l), want, "{l}");
            assert_eq!(reference::decide_line(&l), want, "{l}");
        }
    }

    /// An `Allow` + `NotPrincipal` statement must not start matching because the caller has a
    /// permissions boundary: the documented quirk ("always matches a principal with a boundary")
    /// is about `Deny` + NotPrincipal, and a boundary never grants. The engine applied it to Allow
    /// statements too, so adding a boundary turned an ImplicitDeny into an Allow.
    /// See: issue 4, found by `permissions_boundaries_never_grant`; fixed in eval.rs
    /// `statement_applies`.
    #[test]
    fn issue_4_a_boundary_never_makes_an_allow_not_principal_match() {
        let base = r#""resource_policy":{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotPrincipal":"*","Action":"dynamodb:GetItem","Resource":"*"}},"request":{"principal":"arn:aws:sts::111111111111:federated-user/fed","action":"dynamodb:GetItem","resource":"arn:aws:dynamodb:eu-west-1:111111111111:table/Orders"}"#;
        let boundary = r#""permission_boundary":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}}"#;
        for l in [format!("{{{base}}}"), format!("{{{boundary},{base}}}")] {
            assert_eq!(engine(&l), Decision::ImplicitDeny, "{l}");
            assert_eq!(reference::decide_line(&l), Decision::ImplicitDeny, "{l}");
        }
        // The Deny side of the quirk stays: a listed principal with a boundary is denied.
        let deny = r#"{"identity_policies":[{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}],"permission_boundary":{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}},"resource_policy":{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["111111111111","arn:aws:iam::111111111111:user/alice"]},"Action":"s3:*","Resource":"*"}},"request":{"principal":"arn:aws:iam::111111111111:user/alice","action":"s3:GetObject","resource":"arn:aws:s3:::b/k","resource_account":"111111111111"}}"#;
        assert_eq!(engine(deny), Decision::ExplicitDeny);
        assert_eq!(reference::decide_line(deny), Decision::ExplicitDeny);
    }

    /// Every known-answer vector decides the same in the reference interpreter as its `expect`
    /// (the reference is checked against the hand-written corpus, not only against the engine).
    #[test]
    fn reference_interpreter_agrees_with_the_known_answer_vectors() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/vectors");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("skipped: corpus/vectors is absent");
            return;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        let mut checked = 0;
        let mut failures = Vec::new();
        for f in files
            .iter()
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        {
            for line in std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
            {
                let j: serde_json::Value = serde_json::from_str(line).unwrap();
                let Some(want) = j["expect"].as_str().and_then(Decision::parse) else {
                    continue; // "Error" lines are the parser's business
                };
                checked += 1;
                let got = reference::decide_line(line);
                if got != want {
                    failures.push(format!(
                        "{}: {}: expected {want:?}, reference says {got:?}",
                        f.display(),
                        j["id"]
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {checked}:\n{}",
            failures.len(),
            failures.join("\n")
        );
        assert!(checked > 400, "only {checked} vectors");
        eprintln!("reference interpreter: {checked} vectors agree");
    }
}
