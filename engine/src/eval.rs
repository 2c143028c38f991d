//! The decision: identity, resource, trust and key policies, permissions boundary, session
//! policy, SCPs and RCPs, same-account and cross-account — the order AWS documents.
//!
//! Steps (IAM User Guide, "Policy evaluation logic" and "Cross-account policy evaluation logic";
//! iam-semantics.md §1):
//! 1. an explicit `Deny` in any applicable policy decides ExplicitDeny;
//! 2. RCPs: `RCPFullAWSAccess` is implied at every level, so only their denies (step 1) bite;
//! 3. SCPs: every level root → OUs → account needs an allowing statement;
//! 4. the grant: same account, identity path ∪ resource path (§1.3); cross account, identity path
//!    ∩ resource policy (§1.4); trust and KMS key policies must allow even within one account (§1.5);
//! 5. otherwise ImplicitDeny.
//!
//! `eval` is total on the model: every request gets a decision.

use crate::model::*;
use crate::pattern::{Prefilter, Words};

/// The policies that apply to one request, as the case format gives them (interfaces.md §2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySet {
    pub identity: Vec<Policy>,
    pub resource: Option<Policy>,
    pub boundary: Option<Policy>,
    pub session: Option<Policy>,
    /// SCP levels, root first; every level must allow. Empty: no SCPs apply.
    pub scps: Vec<Vec<Policy>>,
    /// RCP levels (`RCPFullAWSAccess` implied at each). Empty: no RCPs apply.
    pub rcps: Vec<Vec<Policy>>,
}

impl PolicySet {
    /// Every policy of the set: identity, resource, boundary, session, then the SCP and RCP
    /// levels in order.
    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        self.identity
            .iter()
            .chain(&self.resource)
            .chain(&self.boundary)
            .chain(&self.session)
            .chain(self.scps.iter().flatten())
            .chain(self.rcps.iter().flatten())
    }
}

/// Which part of the decision a policy plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Identity,
    Resource,
    Boundary,
    Session,
    Scp { level: usize },
    Rcp { level: usize },
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Identity => "identity",
            Role::Resource => "resource",
            Role::Boundary => "permissions_boundary",
            Role::Session => "session",
            Role::Scp { .. } => "scp",
            Role::Rcp { .. } => "rcp",
        }
    }
}

/// One statement that took part in a decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reason<'a> {
    pub role: Role,
    pub policy: &'a Policy,
    pub statement: usize,
}

impl Reason<'_> {
    pub fn sid(&self) -> Option<&str> {
        self.policy
            .statements()
            .get(self.statement)
            .and_then(|s| s.sid.as_deref())
    }

    pub fn effect(&self) -> Effect {
        self.policy
            .statements()
            .get(self.statement)
            .map_or(Effect::Allow, |s| s.effect)
    }
}

/// A decision with the statements that made it and, for an implicit deny, what was missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<'a> {
    pub decision: Decision,
    pub reasons: Vec<Reason<'a>>,
    pub note: Option<String>,
}

/// How a resource-based statement's `Principal` matched the caller (§1.3's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalMatch {
    /// The account (`"111122223333"` or its root ARN): delegates to the account's IAM policies.
    Account,
    /// A role ARN matching a session of the role: grants alone, but PB and SP implicit denies bite.
    Role,
    /// A user ARN (the user itself), a session ARN, a federated-user ARN, `"*"`, a service or an
    /// identity provider: grants alone.
    Direct,
}

/// Actions whose resource policy is the role's trust policy (§1.5); the first three are the
/// `sts:AssumeRole*` family ([`ASSUME_ROLE_ACTIONS`]).
pub const TRUST_ACTIONS: &[&str] = &[
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
];

/// The `sts:AssumeRole*` family, which an account's root user cannot call (corpus/DECISIONS.md 3).
/// Exactly these: an action that merely starts so does not exist, and the encoding names these.
pub const ASSUME_ROLE_ACTIONS: &[&str] = &[
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
];

/// STS operations that only long-term credentials (an IAM user's or the root user's) can call,
/// never a role session (STS API reference, GetFederationToken and GetSessionToken: "must be
/// called by using the long-term AWS security credentials of an IAM user"; corpus/DECISIONS.md 19).
pub const LONG_TERM_ONLY_ACTIONS: &[&str] = &["sts:getfederationtoken", "sts:getsessiontoken"];

/// Services whose resources RCPs restrict (corpus/DECISIONS.md 6).
pub const RCP_SERVICES: &[&str] = &[
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

/// [`service_key`]s of `sts` and `kms` (a prefix of up to eight bytes is its own key).
const STS_KEY: u64 = u64::from_le_bytes(*b"sts\0\0\0\0\0");
const KMS_KEY: u64 = u64::from_le_bytes(*b"kms\0\0\0\0\0");

/// Is this request's resource policy a role trust policy?
pub fn is_trust_request(action_lc: &str, resource: &str) -> bool {
    action_lc.starts_with("sts:")
        && TRUST_ACTIONS.contains(&action_lc)
        && crate::pattern::split_arn(resource)
            .is_some_and(|p| p[2] == "iam" && p[5].starts_with("role/"))
}

/// Is this a request on a KMS key (`arn:…:kms:…:key/…`), governed by its key policy? An alias
/// (`…:alias/…`, the resource of `kms:CreateAlias` and the other alias operations) is governed
/// by IAM policies alone (KMS developer guide, "Controlling access to aliases").
pub fn is_kms_request(action_lc: &str, resource: &str) -> bool {
    action_lc.starts_with("kms:")
        && crate::pattern::split_arn(resource)
            .is_some_and(|p| p[2] == "kms" && p[5].starts_with("key/"))
}

/// Decide `req` against `set`, with the statements that decided it.
pub fn authorize<'a>(set: &'a PolicySet, req: &Request) -> Response<'a> {
    let mut reasons = Vec::new();
    let (decision, note) = run(set, req, &mut reasons);
    Response {
        decision,
        reasons,
        note,
    }
}

/// Decide `req` against `set`: the hot path, no explanation and no allocation.
///
/// The decision of [`authorize`] (the invariants and the fuzz targets hold the two equal), reached
/// with one walk per policy: its `Deny` statements and, while they are still needed, its `Allow`
/// statements. An explicit deny wins whatever else holds, so the first one found decides;
/// otherwise, once every policy has been walked, the steps of [`run`] apply in its order.
pub fn decide(set: &PolicySet, req: &Request) -> Decision {
    let p = &req.principal;
    let probe = Probe::new(req);

    // sts:GetCallerIdentity needs no permission and cannot be denied.
    if req.action_lc == "sts:getcalleridentity" && p.is_iam() {
        return Decision::Allow;
    }

    let iam = p.is_iam();
    let slr = || p.is_service_linked_role();
    let has_pb = set.boundary.is_some();
    let scp_applies = iam && !set.scps.is_empty() && !slr();
    let rcp_applies = !set.rcps.is_empty()
        && !slr()
        && RCP_SERVICES.contains(&req.service())
        && req.action_lc != "kms:retiregrant";
    let scan = |policy: &Policy, want: Want| walk(policy, &probe, has_pb, want);

    // 1. and 3.: the deny of any policy; every SCP level must allow.
    let mut scp_level_missing = false;
    if scp_applies {
        for pols in &set.scps {
            let mut found = false;
            for pol in pols {
                let w = scan(pol, if found { Want::Deny } else { Want::Any });
                if w.denied {
                    return Decision::ExplicitDeny;
                }
                found |= w.allow.is_some();
            }
            scp_level_missing |= !found;
        }
    }
    if rcp_applies {
        // 2. RCPs only deny (RCPFullAWSAccess allows at every level).
        for pol in set.rcps.iter().flatten() {
            if scan(pol, Want::Deny).denied {
                return Decision::ExplicitDeny;
            }
        }
    }
    let mut rbest = None;
    if let Some(r) = &set.resource {
        let w = scan(r, Want::Best);
        if w.denied {
            return Decision::ExplicitDeny;
        }
        rbest = w.allow;
    }
    let same = same_account(p, req);
    // Without a resource policy's allow, the identity side grants only within the account and
    // not where the resource policy must allow: trust and key policies must allow even within
    // the account (§1.5), and only `sts:` and `kms:` actions can be either. Otherwise the
    // request is denied whatever the identity side allows, and only its explicit denies are
    // left to look for.
    let may_grant = rbest.is_some()
        || (same && !(matches!(probe.svc_key, STS_KEY | KMS_KEY) && trust_or_key(req)));
    // The identity side: an account's root user is allowed everything its account can do;
    // anonymous and service callers have none.
    let mut identity_allow = matches!(p, Principal::Root { .. });
    let wants_identity = iam && !identity_allow && may_grant;
    for pol in &set.identity {
        let want = if wants_identity && !identity_allow {
            Want::Any
        } else {
            Want::Deny
        };
        let w = scan(pol, want);
        if w.denied {
            return Decision::ExplicitDeny;
        }
        identity_allow |= w.allow.is_some();
    }
    let side = |pol: &Option<Policy>| -> Option<bool> {
        match pol {
            Some(b) => {
                let w = scan(
                    b,
                    if iam && may_grant {
                        Want::Any
                    } else {
                        Want::Deny
                    },
                );
                (!w.denied).then_some(!iam || w.allow.is_some())
            }
            None => Some(true),
        }
    };
    let Some(pb_ok) = side(&set.boundary) else {
        return Decision::ExplicitDeny;
    };
    let Some(sp_ok) = side(&set.session) else {
        return Decision::ExplicitDeny;
    };
    let sp_ok = sp_ok && !federated_without_session_policy(p, set);

    if scp_level_missing {
        return Decision::ImplicitDeny;
    }
    let barred = match p {
        // A GetFederationToken session calls no IAM operation and no STS operation but
        // GetCallerIdentity (corpus/DECISIONS.md 16).
        Principal::FederatedUser { .. } => matches!(req.service(), "iam" | "sts"),
        // Root users cannot call AssumeRole*, anonymous callers cannot call AssumeRole
        // (corpus/DECISIONS.md 3).
        Principal::Root { .. } => ASSUME_ROLE_ACTIONS.contains(&req.action_lc.as_str()),
        Principal::Anonymous => req.action_lc == "sts:assumerole",
        // A role session's credentials are temporary (corpus/DECISIONS.md 19).
        Principal::AssumedRole { .. } | Principal::Role { .. } => {
            probe.svc_key == STS_KEY && LONG_TERM_ONLY_ACTIONS.contains(&req.action_lc.as_str())
        }
        _ => false,
    };
    if barred {
        return Decision::ImplicitDeny;
    }

    // 4. The grant.
    let identity_path = iam && identity_allow && pb_ok && sp_ok;
    let granted = if !iam {
        rbest.is_some()
    } else if same {
        let standalone = match rbest {
            Some(PrincipalMatch::Direct) => true,
            Some(PrincipalMatch::Role) => pb_ok && sp_ok,
            _ => false,
        };
        // Within the account, `may_grant` is "a resource policy allows, or it need not".
        standalone || (identity_path && may_grant)
    } else {
        identity_path && rbest.is_some()
    };
    if granted {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// Does `p` act with the credentials of a `GetFederationToken` call that passed no session
/// policy? Those have no permissions of their own: only a resource policy that names the session
/// grants them (IAM user guide, "Permissions for GetFederationToken": "if you do not pass a policy
/// with the GetFederationToken API call, the resulting temporary security credentials have no
/// permissions"; corpus/DECISIONS.md 18).
#[inline]
fn federated_without_session_policy(p: &Principal, set: &PolicySet) -> bool {
    set.session.is_none() && matches!(p, Principal::FederatedUser { .. })
}

const FEDERATED_WITHOUT_SESSION_POLICY: &str = "a federated user session (GetFederationToken) with no session policy has no permissions but those a resource policy naming the session grants";

/// Is `req` an action whose resource policy must allow even within the account: a role's trust
/// policy or a KMS key policy (§1.5)?
#[inline(never)]
fn trust_or_key(req: &Request) -> bool {
    is_trust_request(&req.action_lc, &req.resource) || is_kms_request(&req.action_lc, &req.resource)
}

/// Is the resource in the caller's account? A resource with no account (`*`, or an S3 ARN given
/// without `resource_account`) is the caller's own.
fn same_account(p: &Principal, req: &Request) -> bool {
    match (p.account(), req.resource_account.as_deref()) {
        (Some(a), Some(b)) => crate::pattern::same(a.as_bytes(), b.as_bytes()),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Which `Allow` statements [`walk`] still evaluates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// None: the policy only denies here (RCPs, or an allow was found already).
    Deny,
    /// Until one applies.
    Any,
    /// Until one names the caller directly: the strongest [`PrincipalMatch`] (resource policies).
    Best,
}

/// What one policy says about a request.
struct Walked {
    /// One of its `Deny` statements applies.
    denied: bool,
    /// How its applying `Allow` statements match the caller (the strongest seen).
    allow: Option<PrincipalMatch>,
}

/// Walk `policy`'s statements that can apply to the request's service and caller, in order:
/// every `Deny` one until one applies, the `Allow` ones as `want` says.
#[inline(never)]
fn walk(policy: &Policy, probe: &Probe<'_>, has_pb: bool, want: Want) -> Walked {
    let allow = want != Want::Deny;
    // An action some statement names literally: only the statements that match it, their
    // actions not tested again.
    let hit = if probe.action_ascii {
        policy.action_entry(&probe.req.action_lc, &probe.action_words)
    } else {
        None
    };
    let known = hit.is_some();
    if policy.names_accounts() {
        // A resource policy's statements for other accounts' principals are left out.
        let candidates =
            policy.statements_for_caller(probe.svc_key, hit, probe.caller, true, allow);
        walk_in(candidates, policy, probe, has_pb, want, known)
    } else {
        let candidates = policy.statements_of_in(probe.svc_key, hit, true, allow);
        walk_in(candidates, policy, probe, has_pb, want, known)
    }
}

/// [`walk`] over `candidates`.
#[inline(always)]
fn walk_in<'p>(
    candidates: impl Iterator<Item = (usize, &'p Statement)>,
    policy: &Policy,
    probe: &Probe<'_>,
    has_pb: bool,
    want: Want,
    known: bool,
) -> Walked {
    let mut allow = None;
    for (_, st) in candidates {
        if st.effect == Effect::Deny {
            if applies_known(st, policy, probe, has_pb, known).is_some() {
                return Walked {
                    denied: true,
                    allow,
                };
            }
            continue;
        }
        let enough = match want {
            Want::Deny => true,
            Want::Any => allow.is_some(),
            Want::Best => allow == Some(PrincipalMatch::Direct),
        };
        if !enough {
            allow = allow.max(applies_known(st, policy, probe, has_pb, known));
        }
    }
    Walked {
        denied: false,
        allow,
    }
}

/// [`authorize`]'s decision, walking the steps in the documented order with the statements of
/// each (the reference for [`decide`], which reaches the same decision in one walk per policy).
fn run<'a>(
    set: &'a PolicySet,
    req: &Request,
    out: &mut Vec<Reason<'a>>,
) -> (Decision, Option<String>) {
    let p = &req.principal;
    let probe = Probe::new(req);

    // sts:GetCallerIdentity needs no permission and cannot be denied.
    if req.action_lc == "sts:getcalleridentity" && p.is_iam() {
        return (
            Decision::Allow,
            Some("sts:GetCallerIdentity needs no permission".to_string()),
        );
    }

    let iam = p.is_iam();
    // Service-linked roles escape SCPs and RCPs; asked only when some apply.
    let slr = || p.is_service_linked_role();
    let has_pb = set.boundary.is_some();
    let scp_applies = iam && !set.scps.is_empty() && !slr();
    let rcp_applies = !set.rcps.is_empty()
        && !slr()
        && RCP_SERVICES.contains(&req.service())
        && req.action_lc != "kms:retiregrant";

    // 1. Explicit deny anywhere.
    let mut denied = false;
    let mut deny_in = |role: Role, policy: &'a Policy, out: &mut Vec<Reason<'a>>| {
        for (statement, st) in policy.statements_for(probe.svc_key, Effect::Deny) {
            if applies(st, policy, &probe, has_pb).is_some() {
                denied = true;
                out.push(Reason {
                    role,
                    policy,
                    statement,
                });
            }
        }
    };
    if scp_applies {
        for (level, pols) in set.scps.iter().enumerate() {
            for pol in pols {
                deny_in(Role::Scp { level }, pol, out);
            }
        }
    }
    if rcp_applies {
        for (level, pols) in set.rcps.iter().enumerate() {
            for pol in pols {
                deny_in(Role::Rcp { level }, pol, out);
            }
        }
    }
    if let Some(r) = &set.resource {
        deny_in(Role::Resource, r, out);
    }
    for pol in &set.identity {
        deny_in(Role::Identity, pol, out);
    }
    if let Some(b) = &set.boundary {
        deny_in(Role::Boundary, b, out);
    }
    if let Some(s) = &set.session {
        deny_in(Role::Session, s, out);
    }
    if denied {
        return (Decision::ExplicitDeny, None);
    }

    // 2. RCPs: RCPFullAWSAccess is attached at every level and cannot be detached, and customer
    //    RCPs may only deny, so every level allows.

    // 3. SCPs: every level must allow.
    if scp_applies {
        for (level, pols) in set.scps.iter().enumerate() {
            let mut found = false;
            for pol in pols {
                for (statement, st) in pol.statements_for(probe.svc_key, Effect::Allow) {
                    if applies(st, pol, &probe, has_pb).is_some() {
                        found = true;
                        out.push(Reason {
                            role: Role::Scp { level },
                            policy: pol,
                            statement,
                        });
                    }
                }
            }
            if !found {
                return (
                    Decision::ImplicitDeny,
                    Some(format!(
                        "no service control policy at level {level} (scps[{level}]) allows the request"
                    )),
                );
            }
        }
    }

    // Root users cannot call AssumeRole (STS API reference, AssumeRole), and STS accepts only
    // signed AssumeRole calls, so anonymous callers cannot either (corpus/DECISIONS.md 3).
    let root_assumes = matches!(p, Principal::Root { .. })
        && ASSUME_ROLE_ACTIONS.contains(&req.action_lc.as_str());
    let anonymous_assumes = matches!(p, Principal::Anonymous) && req.action_lc == "sts:assumerole";
    // A GetFederationToken session calls no IAM operation and no STS operation but
    // GetCallerIdentity (STS API reference, GetFederationToken; corpus/DECISIONS.md 16).
    let federated_barred =
        matches!(p, Principal::FederatedUser { .. }) && matches!(req.service(), "iam" | "sts");
    if federated_barred {
        return (
            Decision::ImplicitDeny,
            Some("a federated user session (GetFederationToken) cannot call IAM operations, nor STS operations other than GetCallerIdentity".to_string()),
        );
    }
    // GetFederationToken and GetSessionToken take long-term credentials, which a role session
    // does not hold (STS API reference; corpus/DECISIONS.md 19).
    if matches!(p, Principal::AssumedRole { .. } | Principal::Role { .. })
        && LONG_TERM_ONLY_ACTIONS.contains(&req.action_lc.as_str())
    {
        return (
            Decision::ImplicitDeny,
            Some("sts:GetFederationToken and sts:GetSessionToken need an IAM user's or the root user's long-term credentials; a role session cannot call them".to_string()),
        );
    }
    if root_assumes || anonymous_assumes {
        return (
            Decision::ImplicitDeny,
            Some(
                if matches!(p, Principal::Anonymous) {
                    "sts:AssumeRole needs a signed request; anonymous callers cannot assume roles"
                } else {
                    "an account's root user cannot call sts:AssumeRole*"
                }
                .to_string(),
            ),
        );
    }

    // 4. The grant.
    let allow_in = |role: Role, policy: &'a Policy, out: &mut Vec<Reason<'a>>| -> bool {
        let mut any = false;
        for (statement, st) in policy.statements_for(probe.svc_key, Effect::Allow) {
            if applies(st, policy, &probe, has_pb).is_some() {
                any = true;
                out.push(Reason {
                    role,
                    policy,
                    statement,
                });
            }
        }
        any
    };

    // The identity side: identity allow ∩ boundary ∩ session policy. An account's root user is
    // allowed everything its account can do; anonymous and service callers have no identity side.
    let mut ident: Vec<Reason<'a>> = Vec::new();
    let identity_allow = match p {
        Principal::Root { .. } => true,
        _ if iam => {
            let mut any = false;
            for pol in &set.identity {
                any |= allow_in(Role::Identity, pol, &mut ident);
            }
            any
        }
        _ => false,
    };
    let pb_ok = match &set.boundary {
        Some(b) if iam => allow_in(Role::Boundary, b, &mut ident),
        _ => true,
    };
    let sp_ok = match &set.session {
        Some(s) if iam => allow_in(Role::Session, s, &mut ident),
        _ => !federated_without_session_policy(p, set),
    };
    let identity_path = iam && identity_allow && pb_ok && sp_ok;

    // The resource side: the strongest way an Allow statement of the resource policy names P.
    let mut res: Vec<Reason<'a>> = Vec::new();
    let mut rbest: Option<PrincipalMatch> = None;
    if let Some(r) = &set.resource {
        for (i, st) in r.statements_for(probe.svc_key, Effect::Allow) {
            if let Some(m) = applies(st, r, &probe, has_pb) {
                rbest = rbest.max(Some(m));
                res.push(Reason {
                    role: Role::Resource,
                    policy: r,
                    statement: i,
                });
            }
        }
    }

    let trust = is_trust_request(&req.action_lc, &req.resource);
    let must_allow = trust || is_kms_request(&req.action_lc, &req.resource);
    let same_account = same_account(p, req);

    let (granted, via_identity, via_resource, why) = if !iam {
        // Anonymous callers, service principals, identity providers: only a resource policy grants.
        let g = rbest.is_some();
        (
            g,
            false,
            g,
            "no resource policy statement allows this caller",
        )
    } else if same_account {
        // §1.3: the union of the identity path and the resource path.
        let standalone = match rbest {
            Some(PrincipalMatch::Direct) => true,
            Some(PrincipalMatch::Role) => pb_ok && sp_ok,
            _ => false,
        };
        let with_identity = identity_path && (!must_allow || rbest.is_some());
        let why = if must_allow && set.resource.is_none() {
            if trust {
                "a role can be assumed only when its trust policy allows it, and no trust policy was given"
            } else {
                "a KMS key is reachable only when its key policy allows it, and no key policy was given"
            }
        } else if must_allow && identity_path {
            if trust {
                "the role's trust policy does not allow this principal (identity policies alone never let anyone assume a role)"
            } else {
                "the key policy neither allows this principal nor delegates to the account's IAM policies"
            }
        } else if !identity_allow {
            "no identity-based policy allows the request, and no resource policy grants it to this principal"
        } else if !pb_ok {
            "the permissions boundary does not allow the request"
        } else if set.session.is_none() {
            FEDERATED_WITHOUT_SESSION_POLICY
        } else {
            "the session policy does not allow the request"
        };
        (standalone || with_identity, with_identity, standalone, why)
    } else {
        // §1.4: both accounts must allow.
        let g = identity_path && rbest.is_some();
        let why = if rbest.is_none() {
            "cross-account: the resource account's policy does not allow this principal"
        } else if !identity_allow {
            "cross-account: no identity-based policy in the principal's account allows the request"
        } else if !pb_ok {
            "cross-account: the permissions boundary does not allow the request"
        } else if set.session.is_none() {
            FEDERATED_WITHOUT_SESSION_POLICY
        } else {
            "cross-account: the session policy does not allow the request"
        };
        (g, g, g, why)
    };

    if granted {
        if via_identity {
            out.extend(ident);
        }
        if via_resource || via_identity {
            out.extend(res);
        }
        if matches!(p, Principal::Root { .. }) && !via_resource && out.is_empty() {
            return (
                Decision::Allow,
                Some(
                    "the account's root user is allowed everything in its own account".to_string(),
                ),
            );
        }
        (Decision::Allow, None)
    } else {
        (Decision::ImplicitDeny, Some(why.to_string()))
    }
}

/// What a decision works out once about its request.
struct Probe<'r> {
    req: &'r Request,
    /// The [`service_key`] of the action's service prefix, lower-cased.
    svc_key: u64,
    /// `req.action_lc.is_ascii()`.
    action_ascii: bool,
    /// The [`Words`] of `req.action_lc`, for [`Template::matches_action`].
    action_words: Words,
    /// [`Prefilter::words`] of `req.resource`.
    resource_words: [u64; 2],
    /// The caller's account (`None`: a caller of no account).
    caller: Option<&'r str>,
}

impl<'r> Probe<'r> {
    #[inline(always)]
    fn new(req: &'r Request) -> Probe<'r> {
        let b = req.action_lc.as_bytes();
        let words = Words::of(b);
        // Up to 16 bytes, the words hold every byte.
        let action_ascii = if b.len() <= 16 {
            words.ascii()
        } else {
            b.is_ascii()
        };
        let colon = crate::pattern::find_byte(b, b':').unwrap_or(b.len());
        Probe {
            req,
            // A prefix of up to eight bytes is its key: the action's first word, cut there.
            svc_key: if colon <= 8 && b.len() >= 8 {
                words.head & crate::pattern::low_bytes(colon)
            } else {
                service_key_of(b.get(..colon).unwrap_or_default())
            },
            action_ascii,
            action_words: words,
            resource_words: Prefilter::words(req.resource.as_bytes()),
            caller: req.principal.account(),
        }
    }
}

/// Does `st` apply to `req`? For resource-based statements, how the principal matched; for others
/// `Direct`. Conditions, action, resource and principal must all hold.
pub fn statement_applies(
    st: &Statement,
    policy: &Policy,
    req: &Request,
    has_boundary: bool,
) -> Option<PrincipalMatch> {
    applies(st, policy, &Probe::new(req), has_boundary)
}

#[inline(always)]
fn applies(
    st: &Statement,
    policy: &Policy,
    probe: &Probe<'_>,
    has_boundary: bool,
) -> Option<PrincipalMatch> {
    applies_known(st, policy, probe, has_boundary, false)
}

/// [`applies`], the action known to match when `known` (the action index said so).
#[inline(always)]
fn applies_known(
    st: &Statement,
    policy: &Policy,
    probe: &Probe<'_>,
    has_boundary: bool,
    known: bool,
) -> Option<PrincipalMatch> {
    // The action first, at the caller: most candidates of a large policy miss here, and the rest
    // of the statement is a call of its own.
    if !known && !action_matches_in(&st.action, probe) {
        return None;
    }
    applies_past_action(st, policy, probe, has_boundary)
}

/// [`applies`] once the action matched: principal, resource and conditions.
#[inline(always)]
fn applies_past_action(
    st: &Statement,
    policy: &Policy,
    probe: &Probe<'_>,
    has_boundary: bool,
) -> Option<PrincipalMatch> {
    let req = probe.req;
    // The principal before the resource: in a resource policy, statements for other callers are
    // the common miss, and comparing accounts is cheaper than matching the resource.
    let m = match &st.principal {
        None => PrincipalMatch::Direct,
        // The boundary quirk of NotPrincipal is about `Deny` (§1.3, §3.5): an `Allow` +
        // NotPrincipal must not start granting because the caller has a boundary.
        Some(pe) => principal_matches(
            pe,
            &req.principal,
            &req.context,
            has_boundary && st.effect == Effect::Deny,
        )?,
    };
    let vars = policy.variables_enabled();
    let holds = || {
        for c in &st.conditions {
            if !condition_holds(c, req, vars) {
                return false;
            }
        }
        true
    };
    let hit = match &st.resource {
        // A costly pattern (a variable to resolve, say) is matched after the conditions, which
        // turn a request away for less; its prefilter still goes first. (Every check here is
        // a pure test of the request: their order changes the work, not the answer.)
        Some(r) if r.costly => {
            let admitted = || {
                r.patterns
                    .iter()
                    .any(|t| t.filter().admits(&probe.resource_words))
            };
            (r.not || admitted()) && holds() && resource_matches_in(r, probe)
        }
        Some(r) => resource_matches_in(r, probe) && holds(),
        None => holds(),
    };
    hit.then_some(m)
}

pub fn action_matches(a: &ActionElement, req: &Request) -> bool {
    action_matches_in(a, &Probe::new(req))
}

#[inline(always)]
fn action_matches_in(a: &ActionElement, probe: &Probe<'_>) -> bool {
    // `*` (a guard statement's action) without a call.
    if a.any {
        return !a.not;
    }
    action_patterns_match(a, probe)
}

/// [`action_matches_in`] past `*`.
#[inline(never)]
fn action_patterns_match(a: &ActionElement, probe: &Probe<'_>) -> bool {
    // (Statements of other services are not asked: the decision walks a policy's statements by
    // its service index, `Policy::statements_for`.)
    let text = &probe.req.action_lc;
    let hit = if probe.action_ascii {
        ascii_patterns_match(a, text, &probe.action_words)
    } else {
        patterns_match_folded(a, text)
    };
    hit != a.not
}

/// Some pattern of `a` matches the lower-cased ASCII action `text`, whose words are `w`.
#[inline(always)]
fn ascii_patterns_match(a: &ActionElement, text: &str, w: &Words) -> bool {
    a.patterns.iter().any(|t| t.matches_action(text, w))
}

/// Does `a` match the lower-cased ASCII action `text`, whose words are `w`? What the decision
/// finds for a request of that action: [`crate::model::Policy`]'s action index is built with it.
pub(crate) fn action_matches_text(a: &ActionElement, text: &str, w: &Words) -> bool {
    if a.any {
        return !a.not;
    }
    ascii_patterns_match(a, text, w) != a.not
}

/// Every pattern of `a` against the non-ASCII action `text`, one template at a time.
#[inline(never)]
fn patterns_match_folded(a: &ActionElement, text: &str) -> bool {
    a.patterns.iter().any(|t| t.matches_folded(text, false))
}

pub fn resource_matches(r: &ResourceElement, req: &Request) -> bool {
    resource_matches_in(r, &Probe::new(req))
}

#[inline(always)]
fn resource_matches_in(r: &ResourceElement, probe: &Probe<'_>) -> bool {
    if r.any {
        return !r.not;
    }
    let req = probe.req;
    let ctx = &req.context;
    let mut hit = false;
    for t in &r.patterns {
        if t.filter().admits(&probe.resource_words) && t.matches_with(&req.resource, &ctx) {
            hit = true;
            break;
        }
    }
    hit != r.not
}

/// How a `Principal`/`NotPrincipal` element matches the caller (iam-semantics.md §3.4, §3.5).
#[inline]
pub fn principal_matches(
    pe: &PrincipalElement,
    p: &Principal,
    ctx: &Context,
    has_boundary: bool,
) -> Option<PrincipalMatch> {
    if pe.not {
        // NotPrincipal: applies unless every level of the caller is listed; always applies to a
        // principal with a permissions boundary (documented quirk).
        if !has_boundary && not_principal_exempts(&pe.set, p) {
            return None;
        }
        return Some(PrincipalMatch::Direct);
    }
    principal_set_match(&pe.set, p, ctx)
}

/// The strongest match of `p` against the entries of a `Principal` element.
#[inline]
pub fn principal_set_match(
    set: &PrincipalSet,
    p: &Principal,
    ctx: &Context,
) -> Option<PrincipalMatch> {
    // Account IDs and names are short: compared inline, not by a call to `memcmp`.
    let eq = |a: &str, b: &str| crate::pattern::same(a.as_bytes(), b.as_bytes());
    let mut best: Option<PrincipalMatch> = None;
    // The common entries here, the rest in `principal_ref_match`.
    let caller_account = p.account();
    for e in &set.aws {
        let m = match e {
            AwsPrincipalRef::Any => Some(PrincipalMatch::Direct),
            AwsPrincipalRef::Account { account, .. } => caller_account
                .is_some_and(|pa| eq(pa, account))
                .then_some(PrincipalMatch::Account),
            // A role (a bucket policy's cross-account grant): its sessions and itself.
            AwsPrincipalRef::Role { account, name, .. } => match p {
                Principal::Role {
                    account: pa,
                    name: pn,
                    ..
                }
                | Principal::AssumedRole {
                    account: pa,
                    role: pn,
                    ..
                } => (eq(account, pa) && eq(name, pn)).then_some(PrincipalMatch::Role),
                _ => None,
            },
            _ => principal_ref_match(e, p, ctx),
        };
        if m == Some(PrincipalMatch::Direct) {
            // No match is stronger (`"*"`, a bucket policy's guard, ends here).
            return m;
        }
        best = best.max(m);
    }
    let named = match p {
        Principal::Service(s) => {
            set.service.iter().any(|x| x.eq_ignore_ascii_case(s))
                || set.federated.iter().any(|x| x.eq_ignore_ascii_case(s))
        }
        Principal::IdentityProvider(s) => set.federated.iter().any(|x| x == s),
        _ => false,
    };
    if named {
        best = Some(PrincipalMatch::Direct);
    }
    best
}

/// How one entry of a `Principal` element other than `*`, an account and a role (which
/// [`principal_set_match`] matches itself) matches the caller.
#[inline(never)]
fn principal_ref_match(
    e: &AwsPrincipalRef,
    p: &Principal,
    ctx: &Context,
) -> Option<PrincipalMatch> {
    let eq = |a: &str, b: &str| crate::pattern::same(a.as_bytes(), b.as_bytes());
    match (e, p) {
        (
            AwsPrincipalRef::User { account, name, .. },
            Principal::User {
                account: pa,
                name: pn,
                ..
            },
        ) => (eq(account, pa) && eq(name, pn)).then_some(PrincipalMatch::Direct),
        (
            AwsPrincipalRef::AssumedRole {
                account,
                role,
                session,
                ..
            },
            Principal::AssumedRole {
                account: pa,
                role: pr,
                session: ps,
                ..
            },
        ) => (eq(account, pa) && eq(role, pr) && eq(session, ps)).then_some(PrincipalMatch::Direct),
        (
            AwsPrincipalRef::FederatedUser { account, name, .. },
            Principal::FederatedUser {
                account: pa,
                name: pn,
                ..
            },
        ) => (eq(account, pa) && eq(name, pn)).then_some(PrincipalMatch::Direct),
        (AwsPrincipalRef::UniqueId(id), _) if p.is_iam() => {
            // IAM stored a resolved principal as its unique ID; `aws:userid` is `AIDA...` for a
            // user and `AROA...:session` for a role session.
            ctx.get_single("aws:userid").and_then(|uid| {
                let hit = uid == id
                    || uid
                        .strip_prefix(id.as_str())
                        .is_some_and(|r| r.starts_with(':'));
                hit.then_some(if id.starts_with("AROA") {
                    PrincipalMatch::Role
                } else {
                    PrincipalMatch::Direct
                })
            })
        }
        _ => None,
    }
}

/// Is `p` exempt from a `Deny` + `NotPrincipal`: is every level of it (account, role, session;
/// or account, user) listed?
fn not_principal_exempts(set: &PrincipalSet, p: &Principal) -> bool {
    if set.aws.contains(&AwsPrincipalRef::Any) {
        return true;
    }
    let listed = |f: &dyn Fn(&AwsPrincipalRef) -> bool| set.aws.iter().any(f);
    let account_listed = |a: &str| {
        listed(&|e| matches!(e, AwsPrincipalRef::Account { account, .. } if account == a))
    };
    match p {
        Principal::Anonymous => false,
        Principal::Service(s) => set.service.iter().any(|x| x.eq_ignore_ascii_case(s)),
        Principal::IdentityProvider(s) => set.federated.iter().any(|x| x == s),
        Principal::Root { account, .. } => account_listed(account),
        Principal::User { account, name, .. } => {
            account_listed(account)
                && listed(
                    &|e| matches!(e, AwsPrincipalRef::User { account: a, name: n, .. } if a == account && n == name),
                )
        }
        Principal::Role { account, name, .. } => {
            account_listed(account)
                && listed(
                    &|e| matches!(e, AwsPrincipalRef::Role { account: a, name: n, .. } if a == account && n == name),
                )
        }
        Principal::AssumedRole {
            account,
            role,
            session,
            ..
        } => {
            account_listed(account)
                && listed(
                    &|e| matches!(e, AwsPrincipalRef::Role { account: a, name: n, .. } if a == account && n == role),
                )
                && listed(
                    &|e| matches!(e, AwsPrincipalRef::AssumedRole { account: a, role: r, session: s, .. } if a == account && r == role && s == session),
                )
        }
        Principal::FederatedUser { account, name, .. } => {
            account_listed(account)
                && listed(
                    &|e| matches!(e, AwsPrincipalRef::FederatedUser { account: a, name: n, .. } if a == account && n == name),
                )
        }
    }
}

/// Evaluate one condition against the request context (iam-semantics.md §4.2–§4.4;
/// corpus/DECISIONS.md 1, 2, 9–11).
#[inline(never)]
pub fn condition_holds(c: &Condition, req: &Request, vars: bool) -> bool {
    let ctx = &req.context;
    match c.fast {
        CondFast::Literals { ci, negated } => {
            // A known key's short value: its words, read when the context was built.
            if let (Some(w), CondValues::Strings(ts)) = (ctx.short_at(c.key_id, ci), &c.values) {
                return ts.iter().any(|t| t.literal_words() == Some(w)) != negated;
            }
        }
        CondFast::Ips { negated } => {
            // The address the context parsed when the key was set.
            if let (Some(ip), CondValues::Ips(cs)) = (ctx.ip_at(c.key_id), &c.values) {
                return cs.iter().any(|n| n.contains(&ip)) != negated;
            }
        }
        CondFast::General => {}
    }
    condition_slow(c, ctx, vars)
}

/// [`condition_holds`] past its fast paths.
#[inline(never)]
fn condition_slow(c: &Condition, ctx: &Context, vars: bool) -> bool {
    if let (CondFast::Literals { ci, negated }, CondValues::Strings(ts)) = (c.fast, &c.values) {
        // One value, compared with case or ASCII: its bytes against the literals. A missing
        // key, several values (DECISIONS 1) and case folding of non-ASCII text take the
        // general path.
        let looked = ctx.lookup(c.key_id, &c.key_lc);
        match looked {
            Some((_, Some(short))) => {
                // Up to 16 bytes, the value's words (read when the context was built) hold
                // it whole: compared with each literal's words, lower-cased when the
                // comparison ignores case.
                if let Some(w) = short.words(ci) {
                    return ts.iter().any(|t| t.literal_words() == Some(w)) != negated;
                }
            }
            Some((ContextValue::One(v), None)) if !ci || v.is_ascii() => {
                let v = v.as_bytes();
                let hit = ts.iter().any(|t| {
                    let l = t.as_literal().unwrap_or_default();
                    crate::pattern::lit_eq(l.as_bytes(), v, ci)
                });
                return hit != negated;
            }
            _ => {}
        }
        return condition_general(c, looked.map(|(v, _)| v), ctx, vars);
    }
    condition_general(c, ctx.get_by(c.key_id, &c.key_lc), ctx, vars)
}

/// [`condition_holds`] for every shape: the operators, set operators, `IfExists` and `Null`;
/// `found` is the key's entry in `ctx`.
fn condition_general(
    c: &Condition,
    found: Option<&ContextValue>,
    ctx: &Context,
    vars: bool,
) -> bool {
    let vals: &[String] = found.map_or(&[], ContextValue::values);
    if let CondValues::Null(wants) = &c.values {
        // Null: "true" holds when the key is absent, "false" when present. Several values: any.
        let present = !vals.is_empty();
        return wants.iter().any(|&want_absent| want_absent != present);
    }
    let test = |v: &str| {
        let hit = value_matches(c, v, ctx, vars);
        hit != c.op.base.is_negated()
    };
    match c.op.set {
        None => match vals {
            [] => c.op.if_exists || c.op.base.is_negated(),
            [v] => test(v),
            // A plain operator on a key with several values (DECISIONS 1).
            _ => false,
        },
        Some(SetOp::ForAnyValue) => {
            if vals.is_empty() {
                // `IfExists` rescues a missing key only: a key given as an empty array is present
                // with an empty set, and ForAnyValue of an empty set is false (DECISIONS 2).
                c.op.if_exists && found.is_none()
            } else {
                vals.iter().any(|v| test(v))
            }
        }
        Some(SetOp::ForAllValues) => vals.iter().all(|v| test(v)),
    }
}

/// A condition's variables: from the context when the policy enables them (version 2012-10-17).
struct Vars<'c> {
    ctx: &'c Context,
    on: bool,
}

impl<'c> crate::pattern::Resolve<'c> for Vars<'c> {
    #[inline]
    fn value(&self, v: &crate::pattern::Var) -> Option<&'c str> {
        if self.on {
            self.ctx.get_var(v)
        } else {
            None
        }
    }
}

/// Does some policy value of `c` match request value `v`, under the positive form of the operator?
fn value_matches(c: &Condition, v: &str, ctx: &Context, vars: bool) -> bool {
    let resolve = Vars { ctx, on: vars };
    match &c.values {
        CondValues::Strings(ts) => ts.iter().any(|t| t.matches_with(v, &resolve)),
        CondValues::Arns(ts) => ts.iter().any(|t| t.matches_with(v, &resolve)),
        CondValues::Numbers(ns) => {
            let Some(x) = crate::pattern::parse_number(v) else {
                return false;
            };
            ns.iter().any(|&n| match c.op.base {
                BaseOp::NumericEquals | BaseOp::NumericNotEquals => x == n,
                BaseOp::NumericLessThan => x < n,
                BaseOp::NumericLessThanEquals => x <= n,
                BaseOp::NumericGreaterThan => x > n,
                BaseOp::NumericGreaterThanEquals => x >= n,
                _ => false,
            })
        }
        CondValues::Dates(ds) => {
            let Some(x) = crate::pattern::parse_date(v) else {
                return false;
            };
            ds.iter().any(|&d| match c.op.base {
                BaseOp::DateEquals | BaseOp::DateNotEquals => x == d,
                BaseOp::DateLessThan => x < d,
                BaseOp::DateLessThanEquals => x <= d,
                BaseOp::DateGreaterThan => x > d,
                BaseOp::DateGreaterThanEquals => x >= d,
                _ => false,
            })
        }
        CondValues::Binary(bs) => crate::pattern::decode_base64(v).is_some_and(|x| bs.contains(&x)),
        CondValues::Ips(cs) => ctx
            .ip_of(c.key_id, v)
            .or_else(|| crate::pattern::IpValue::parse(v))
            .is_some_and(|ip| cs.iter().any(|c| c.contains(&ip))),
        CondValues::Null(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Span;
    use crate::parse::{compile_condition, parse_operator};
    use crate::pattern::{Prefilter, Template};

    /// The principal index leaves a statement out of a caller's walk only when its `Principal`
    /// cannot name the caller: every shape of `Principal` (accounts by ID and root ARN, users,
    /// roles, sessions, federated users, `*`, unique IDs, services, identity providers,
    /// canonical users, `NotPrincipal`, several accounts at once) against callers of those
    /// accounts and of others, of every kind, with and without a boundary; and it does leave
    /// statements out (a caller of another account walks only what names anyone).
    #[test]
    fn principal_index_leaves_out_only_what_cannot_name_the_caller() {
        const A: &str = "111122223333";
        const B: &str = "444455556666";
        let principals = [
            format!(r#"{{"AWS": "{A}"}}"#),
            format!(r#"{{"AWS": "arn:aws:iam::{A}:root"}}"#),
            format!(r#"{{"AWS": "arn:aws:iam::{A}:user/alice"}}"#),
            format!(r#"{{"AWS": "arn:aws:iam::{A}:role/app"}}"#),
            format!(r#"{{"AWS": "arn:aws:sts::{A}:assumed-role/app/s1"}}"#),
            format!(r#"{{"AWS": "arn:aws:sts::{A}:federated-user/bob"}}"#),
            format!(r#"{{"AWS": ["arn:aws:iam::{B}:role/app", "{A}"]}}"#),
            r#"{"AWS": "*"}"#.to_string(),
            r#""*""#.to_string(),
            r#"{"AWS": "AROAEXAMPLEID0123"}"#.to_string(),
            r#"{"Service": "lambda.amazonaws.com"}"#.to_string(),
            r#"{"Federated": "cognito-identity.amazonaws.com"}"#.to_string(),
            r#"{"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}"#.to_string(),
            format!(r#"{{"AWS": "arn:aws:iam::{B}:user/carol"}}"#),
        ];
        let mut statements = Vec::new();
        for (i, p) in principals.iter().enumerate() {
            for (key, effect) in [("Principal", "Allow"), ("NotPrincipal", "Deny")] {
                statements.push(format!(
                    r#"{{"Sid": "S{i}{key}", "Effect": "{effect}", "{key}": {p}, "Action": "s3:GetObject", "Resource": "*"}}"#
                ));
            }
        }
        let doc = format!(
            r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#,
            statements.join(",")
        );
        let policy = crate::parse::parse_policy(
            &doc,
            PolicyKind::Resource(crate::model::ResourceService::S3),
            "p",
        )
        .expect("policy");
        assert!(policy.names_accounts());
        let callers = [
            format!("arn:aws:iam::{A}:root"),
            format!("arn:aws:iam::{A}:user/alice"),
            format!("arn:aws:iam::{A}:role/app"),
            format!("arn:aws:sts::{A}:assumed-role/app/s1"),
            format!("arn:aws:sts::{A}:federated-user/bob"),
            format!("arn:aws:iam::{B}:role/app"),
            format!("arn:aws:iam::{B}:user/carol"),
            "arn:aws:iam::777788889999:user/dave".to_string(),
            "lambda.amazonaws.com".to_string(),
            "anonymous".to_string(),
        ];
        let mut left_out = 0;
        for c in &callers {
            let principal = Principal::parse(c).expect("caller");
            let mut ctx = Context::new();
            ctx.insert(
                "aws:userid",
                ContextValue::One("AROAEXAMPLEID0123:s1".into()),
            );
            let req = Request::new(principal, "s3:GetObject", "arn:aws:s3:::b/k", None, ctx);
            let probe = Probe::new(&req);
            let walked: Vec<usize> = policy
                .statements_for_caller(probe.svc_key, None, probe.caller, true, true)
                .map(|(i, _)| i)
                .collect();
            for (i, st) in policy.statements().iter().enumerate() {
                let pe = st.principal.as_ref().expect("principal");
                for has_pb in [false, true] {
                    if principal_matches(pe, &req.principal, &req.context, has_pb).is_some() {
                        assert!(walked.contains(&i), "{c} left out {:?}", st.sid);
                    }
                }
            }
            left_out += policy.statements().len() - walked.len();
        }
        assert!(left_out > 0, "the index left nothing out");

        // A policy without such statements has no index: its walk for any caller is all of it.
        let identity = crate::parse::parse_policy(
            r#"{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}"#,
            PolicyKind::Identity,
            "i",
        )
        .expect("identity policy");
        assert!(!identity.names_accounts());
        let k = service_key("s3");
        let all: Vec<usize> = identity
            .statements_of(k, true, true)
            .map(|(i, _)| i)
            .collect();
        for caller in [Some(A), None] {
            let walked: Vec<usize> = identity
                .statements_for_caller(k, None, caller, true, true)
                .map(|(i, _)| i)
                .collect();
            assert_eq!(walked, all, "{caller:?}");
        }
    }

    /// The constant keys [`decide`] tests before the trust and key-policy checks are the
    /// services' keys, and a request's probe computes the same key for every prefix length.
    #[test]
    fn service_keys_of_sts_and_kms_and_of_requests() {
        assert_eq!(service_key("sts"), STS_KEY);
        assert_eq!(service_key("kms"), KMS_KEY);
        for action in [
            "sts:assumerole",
            "kms:decrypt",
            "s3:getobject",
            "a:b",
            "dynamodb:getitem",
            "secretsmanager:getsecretvalue",
            "abcdefg:x",
            "abcdefgh:x",
            "abcdefghi:x",
            "sts",
            "longservicename",
            "",
            ":x",
        ] {
            let req = Request::new(Principal::Anonymous, action, "*", None, Context::new());
            let svc = action.split(':').next().unwrap_or_default();
            assert_eq!(Probe::new(&req).svc_key, service_key(svc), "{action:?}");
        }
    }

    /// A resource prefilter ([`Prefilter`]) turns a resource away only when its pattern cannot
    /// match it: leading literals shorter than, inside and longer than the window, `?`, `*` and
    /// variables inside it, non-ASCII and NUL bytes, resources shorter than the window or than
    /// `arn:aws:`, `NotResource`.
    #[test]
    fn resource_prefilters_turn_away_only_what_cannot_match() {
        let patterns = [
            "*",
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::b?cket/*",
            "arn:aws:s3:::bucket",
            "arn:aws:s3:::bucket-with-a-long-name-past-the-window/*",
            "arn:aws:s3:::${aws:username}/*",
            "arn:aws:s3:::home-${aws:username}-x/*",
            "arn:aws:iam::111122223333:role/*",
            "arn:aws:iam::111122223333:role/app",
            "arn:aws:s3:::caf\u{e9}/*",
            "arn:aws:s3:::nul\u{0}/*",
            "arn",
            "arn:aws:",
            "arn:aws:s*",
            "*:s3:::bucket/*",
        ];
        let resources = [
            "arn:aws:s3:::bucket/a",
            "arn:aws:s3:::bucket",
            "arn:aws:s3:::bocket/a",
            "arn:aws:s3:::bucket-with-a-long-name-past-the-window/x",
            "arn:aws:s3:::bucket-with-a-long-name-past-the-wind",
            "arn:aws:s3:::alice/x",
            "arn:aws:s3:::home-alice-x/y",
            "arn:aws:iam::111122223333:role/app",
            "arn:aws:iam::111122223333:role/ap",
            "arn:aws:iam::111122223334:role/app",
            "arn:aws:s3:::caf\u{e9}/x",
            "arn:aws:s3:::nul\u{0}/x",
            "arn:aws:s3:::nul",
            "arn",
            "arn:aws:",
            "arn:aws:s",
            "*",
            "",
        ];
        let opts = crate::pattern::TemplateOpts {
            wildcards: true,
            variables: true,
            ci: false,
        };
        let mut ctx = Context::new();
        ctx.insert("aws:username", ContextValue::One("alice".into()));
        let mut turned_away = 0;
        for p in patterns {
            let t = Template::new(p, opts);
            for not in [false, true] {
                let el = ResourceElement::new(not, vec![t.clone()]);
                for r in resources {
                    let req =
                        Request::new(Principal::Anonymous, "s3:GetObject", r, None, ctx.clone());
                    let want = t.matches(r, &|k| req.context.get_single(k)) != not;
                    assert_eq!(
                        resource_matches(&el, &req),
                        want,
                        "{p:?} on {r:?} not={not}"
                    );
                    let words = Prefilter::words(r.as_bytes());
                    turned_away += usize::from(!t.filter().admits(&words));
                }
            }
        }
        assert!(turned_away > 50, "{turned_away}");
    }

    /// The action's word comparisons ([`ActionFast`]) decide as the templates do: literals and
    /// literal-star prefixes of every length around the 8- and 16-byte words, `*`, other
    /// wildcards, `NotAction`, mixed case and non-ASCII actions, several patterns at once.
    #[test]
    fn action_words_agree_with_the_templates() {
        let patterns = [
            "*",
            "s3:*",
            "s3:get*",
            "s3:getobject",
            "s3:getobjectv*",
            "s3:getobjectversion",
            "s3:getobjectversiontagging",
            "s3:getobjectversiontag*",
            "s3:g?tobject",
            "s3*",
            "a:b",
            "a:*",
            "a:bcdefg",
            "a:bcdefgh*",
            "a:bcdefghijklmnop",
            "a:bcdefghijklmno*",
            "a:bcdefghijklmnopq*",
            "kms:\u{212a}ey",
            "sts:assumerole",
        ];
        let actions = [
            "s3:GetObject",
            "S3:getobjectVERSION",
            "s3:GetObjectVersionTagging",
            "s3:GetObjectVersionTaggin",
            "s3:Get",
            "s3:",
            "a:b",
            "a:bc",
            "a:bcdefg",
            "a:bcdefgh",
            "a:bcdefghi",
            "a:bcdefghijklmno",
            "a:bcdefghijklmnop",
            "a:bcdefghijklmnopq",
            "a:bcdefghijklmnopqr",
            "kms:\u{212a}ey",
            "kms:key",
            "s3:getöbject",
            "sts:AssumeRole",
            "",
        ];
        let opts = crate::pattern::TemplateOpts {
            wildcards: true,
            variables: false,
            ci: true,
        };
        let ts: Vec<Template> = patterns.iter().map(|p| Template::new(p, opts)).collect();
        let mut fast = 0;
        for not in [false, true] {
            for i in 0..ts.len() {
                for j in i..ts.len().min(i + 3) {
                    let el = ActionElement::new(not, ts[i..=j].to_vec());
                    fast += ts[i..=j]
                        .iter()
                        .filter(|t| t.as_literal().is_some())
                        .count();
                    for a in actions {
                        let req = Request::new(Principal::Anonymous, a, "*", None, Context::new());
                        let want = ts[i..=j].iter().any(|t| t.matches_plain(&req.action_lc)) != not;
                        assert_eq!(
                            action_matches(&el, &req),
                            want,
                            "{:?} on {a:?}",
                            &patterns[i..=j]
                        );
                    }
                }
            }
        }
        // Literal patterns (compared as words) were among them, often.
        assert!(fast > 40, "{fast}");
    }

    /// The literal fast path of [`condition_holds`] decides as the general value matcher does:
    /// every string operator and `Bool`, with and without `IfExists` and set operators, values in
    /// mixed case, non-ASCII (the Kelvin sign folds to `k`), empty, missing and multi-valued keys.
    #[test]
    fn literal_conditions_agree_with_the_general_matcher() {
        let ops = crate::generate::STRING_OPS.iter().chain(&["Bool"]);
        let values: &[&[&str]] = &[
            &["true"],
            &["TRUE", "false"],
            &["prod"],
            &["Prod", "staging"],
            &["\u{212a}ey"],
            &["key", ""],
            &["pr*d"],
            // Around the 8- and 16-byte words, and the bytes beside `A`–`Z` (`@`, `[`, `` ` ``, `{`).
            &["@[`{AZaz", "Prod-Environment"],
            &["a-much-longer-value-than-16", "prod-environmen"],
        ];
        let one = [
            "true",
            "True",
            "prod",
            "PROD",
            "key",
            "\u{212a}EY",
            "",
            "@[`{azAZ",
            "`{`{azaz",
            "@[@[azaz",
            "PROD-ENVIRONMENT",
            "prod-environment",
            "Prod-Environmen",
            "A-MUCH-LONGER-VALUE-THAN-16",
            "a-much-longer-value-than-1",
            "prod-\u{212a}nvironment",
        ];
        let requests: Vec<Option<ContextValue>> = std::iter::once(None)
            .chain(one.iter().map(|v| Some(ContextValue::One(v.to_string()))))
            .chain([
                Some(ContextValue::Many(vec![])),
                Some(ContextValue::Many(vec!["prod".into(), "staging".into()])),
            ])
            .collect();
        let mut fast = 0;
        for op in ops {
            for prefix in ["", "ForAnyValue:", "ForAllValues:"] {
                for suffix in ["", "IfExists"] {
                    let Ok(op) = parse_operator(&format!("{prefix}{op}{suffix}")) else {
                        continue;
                    };
                    for vals in values {
                        let raw: Vec<String> = vals.iter().map(|v| v.to_string()).collect();
                        let Ok(c) =
                            compile_condition(op, "aws:Key", raw, "C", Span::default(), true)
                        else {
                            continue;
                        };
                        let mut general = c.clone();
                        general.fast = CondFast::General;
                        fast += usize::from(c.fast != CondFast::General);
                        for r in &requests {
                            let mut ctx = Context::new();
                            if let Some(v) = r {
                                ctx.insert("aws:key", v.clone());
                            }
                            let req =
                                Request::new(Principal::Anonymous, "s3:GetObject", "*", None, ctx);
                            assert_eq!(
                                condition_holds(&c, &req, true),
                                condition_holds(&general, &req, true),
                                "{c:?} on {r:?}"
                            );
                        }
                    }
                }
            }
        }
        // The plain string operators and Bool took the fast path for their literal values.
        assert!(fast >= 30, "{fast}");
    }

    /// An `IpAddress` condition on a key whose value the context parsed when it was set
    /// (`aws:SourceIp`: [`CondFast::Ips`] and `Context::ip_of`) decides as one on a key it did not (`my:ip`): addresses and networks of
    /// both families, written as one-address networks, malformed, several values, replaced.
    #[test]
    fn parsed_request_addresses_decide_as_parsing_them_does() {
        let values = [
            "10.1.2.3",
            "10.1.2.3/32",
            "192.0.2.255",
            "2001:db8::1",
            "2001:db8::1/128",
            "::ffff:10.1.2.3",
            "10.1.2",
            " 10.1.2.3",
            "",
        ];
        let nets: &[&[&str]] = &[
            &["10.0.0.0/8"],
            &["192.0.2.0/24", "2001:db8::/32"],
            &["0.0.0.0/0"],
        ];
        for op in [
            "IpAddress",
            "NotIpAddress",
            "ForAnyValue:IpAddress",
            "IpAddressIfExists",
        ] {
            let op = parse_operator(op).expect("operator");
            for cidrs in nets {
                let raw: Vec<String> = cidrs.iter().map(|c| c.to_string()).collect();
                let compiled = |key: &str| {
                    compile_condition(op, key, raw.clone(), "C", Span::default(), true)
                        .expect("condition")
                };
                let (cached, plain) = (compiled("aws:SourceIp"), compiled("my:ip"));
                let mut many: Vec<ContextValue> = values
                    .iter()
                    .map(|v| ContextValue::One(v.to_string()))
                    .collect();
                many.push(ContextValue::Many(vec![
                    "10.1.2.3".into(),
                    "2001:db8::1".into(),
                ]));
                for v in many {
                    let mut ctx = Context::new();
                    ctx.insert("aws:SourceIp", ContextValue::One("172.16.0.1".into()));
                    ctx.insert("AWS:SOURCEIP", v.clone());
                    ctx.insert("my:ip", v.clone());
                    let req = Request::new(Principal::Anonymous, "s3:GetObject", "*", None, ctx);
                    assert_eq!(
                        condition_holds(&cached, &req, true),
                        condition_holds(&plain, &req, true),
                        "{op:?} {cidrs:?} on {v:?}"
                    );
                }
            }
        }
    }

    /// Where no resource policy allows and the identity side cannot grant alone (another
    /// account's resource; a role's trust policy or a key policy, which must allow even within
    /// the account), `decide` walks the identity side for its denies only: an explicit deny of
    /// an identity policy, a boundary or a session policy is still found (§1.1), as is an SCP's,
    /// and without one their allows do not make an allow (§1.4, §1.5). Each against `authorize`.
    #[test]
    fn without_a_grant_the_identity_side_is_walked_for_its_denies() {
        const ME: &str = "111122223333";
        const OTHER: &str = "444455556666";
        let policy = |doc: &str, kind: PolicyKind| {
            crate::parse::parse_policy(doc, kind, "p").expect("policy")
        };
        let allow = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#;
        let allow_deny = r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": ["s3:GetObject", "sts:AssumeRole", "kms:Decrypt"], "Resource": "*"}]}"#;
        // A resource policy that names someone else: it neither allows nor denies this caller.
        let elsewhere = |kind: PolicyKind| {
            // A trust policy has no Resource: the role is its resource.
            let resource = if kind == PolicyKind::Trust {
                ""
            } else {
                r#", "Resource": "*""#
            };
            policy(
                &format!(
                    r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow",
                    "Principal": {{"AWS": "arn:aws:iam::777788889999:root"}}, "Action": "*"{resource}}}}}"#
                ),
                kind,
            )
        };
        let s3 = PolicyKind::Resource(crate::model::ResourceService::S3);
        let cases = [
            // Another account's object.
            (
                "s3:GetObject",
                format!("arn:aws:s3:::b-{OTHER}/k"),
                Some(OTHER),
                Some(s3),
            ),
            (
                "s3:GetObject",
                format!("arn:aws:s3:::b-{OTHER}/k"),
                Some(OTHER),
                None,
            ),
            // A role of the caller's own account: its trust policy must allow.
            (
                "sts:AssumeRole",
                format!("arn:aws:iam::{ME}:role/r"),
                None,
                Some(PolicyKind::Trust),
            ),
            // A key of the caller's own account: its key policy must allow.
            (
                "kms:Decrypt",
                format!("arn:aws:kms:us-east-1:{ME}:key/k"),
                None,
                Some(PolicyKind::Resource(crate::model::ResourceService::Kms)),
            ),
        ];
        let mut seen = [0usize; 2];
        for (action, resource, owner, rkind) in &cases {
            for place in 0..5 {
                for denies in [false, true] {
                    let doc = |here: bool| if here && denies { allow_deny } else { allow };
                    let set = PolicySet {
                        identity: vec![
                            policy(allow, PolicyKind::Identity),
                            policy(doc(place == 0), PolicyKind::Identity),
                        ],
                        resource: rkind.map(elsewhere),
                        boundary: (place >= 1)
                            .then(|| policy(doc(place == 1), PolicyKind::Boundary)),
                        session: (place >= 2).then(|| policy(doc(place == 2), PolicyKind::Session)),
                        scps: if place >= 3 {
                            vec![vec![policy(doc(place == 3), PolicyKind::Scp)]]
                        } else {
                            Vec::new()
                        },
                        ..PolicySet::default()
                    };
                    let principal =
                        Principal::parse(&format!("arn:aws:iam::{ME}:user/u")).expect("caller");
                    let req = Request::new(
                        principal,
                        action,
                        resource,
                        owner.map(str::to_string),
                        Context::new(),
                    );
                    let want = if denies && place < 4 {
                        Decision::ExplicitDeny
                    } else {
                        Decision::ImplicitDeny
                    };
                    let got = decide(&set, &req);
                    assert_eq!(
                        got, want,
                        "{action} {resource} place {place} denies {denies}"
                    );
                    assert_eq!(authorize(&set, &req).decision, got, "{action} {resource}");
                    seen[usize::from(got == Decision::ExplicitDeny)] += 1;
                }
            }
        }
        assert!(seen[0] > 0 && seen[1] > 0, "{seen:?}");
    }
}
