//! The estate: an AWS Organization, its accounts, their principals and resources, and the open
//! world around them (interfaces.md §3).
//!
//! Given a request, [`Estate::gather`] collects what AWS would apply — the principal's identity
//! policies (groups included), permissions boundary, session policy, the SCP levels on the
//! principal account's path, the RCP levels on the resource account's path, the resource policy
//! (trust policy for `sts:AssumeRole*`, key policy for KMS) — and sets the context keys AWS derives
//! from the principal and the resource, which the caller cannot override.
//!
//! The open world: a principal of an account the estate does not describe exists, with identity
//! policies that allow everything; its account is in this organization when the organization lists
//! it (then under the SCPs of its path), else in none. A described account is complete: its
//! principals are exactly those listed, plus its root user.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::eval::{
    authorize, is_kms_request, is_trust_request, PolicySet, Response, ASSUME_ROLE_ACTIONS,
};
use crate::model::*;
use crate::pattern::split_arn;

/// An AWS Organization.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: String,
    pub management_account: String,
    pub root: OrgUnit,
}

/// The root or an OU: its attachments, accounts and child OUs.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgUnit {
    pub id: String,
    pub name: Option<String>,
    /// Attached SCPs; `None` when the spec does not say (then this level is not checked).
    pub scps: Option<Vec<Policy>>,
    /// Attached RCPs besides the implied `RCPFullAWSAccess`.
    pub rcps: Vec<Policy>,
    pub accounts: Vec<String>,
    pub units: Vec<OrgUnit>,
}

/// A described account: complete, its principals exactly those listed plus its root user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Account {
    pub id: String,
    pub name: Option<String>,
    /// SCPs attached to the account itself; `None` when not given (level not checked).
    pub scps: Option<Vec<Policy>>,
    pub rcps: Vec<Policy>,
    pub roles: BTreeMap<String, RoleDef>,
    pub users: BTreeMap<String, UserDef>,
    pub groups: BTreeMap<String, GroupDef>,
    /// Resources by ARN.
    pub resources: BTreeMap<String, ResourceDef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoleDef {
    pub name: String,
    /// `/` or `/path/`.
    pub path: String,
    pub trust_policy: Option<Policy>,
    pub policies: Vec<Policy>,
    pub permissions_boundary: Option<Policy>,
    pub tags: BTreeMap<String, String>,
}

impl RoleDef {
    /// May whoever assumes the role pass session tags: does some Allow statement of its trust
    /// policy name `sts:TagSession`? AWS refuses tags otherwise, so the role's sessions carry its
    /// own tags only.
    pub fn may_tag_sessions(&self) -> bool {
        self.trust_allows_some("sts:tagsession")
    }

    /// May whoever assumes the role set a source identity: does some Allow statement of its
    /// trust policy name `sts:SetSourceIdentity`? AWS refuses the assume-role call otherwise
    /// (IAM user guide, "Monitor and control actions taken with assumed roles"), so the role's
    /// sessions carry no `aws:SourceIdentity` (corpus/DECISIONS.md 34).
    pub fn may_set_source_identity(&self) -> bool {
        self.trust_allows_some("sts:setsourceidentity")
    }

    /// Does some Allow statement of the trust policy name `action_lc`?
    fn trust_allows_some(&self, action_lc: &str) -> bool {
        self.trust_policy.as_ref().is_some_and(|t| {
            t.statements().iter().any(|st| {
                st.effect == crate::model::Effect::Allow
                    && (st
                        .action
                        .patterns
                        .iter()
                        .any(|p| p.matches_plain(action_lc))
                        != st.action.not)
            })
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserDef {
    pub name: String,
    pub path: String,
    pub policies: Vec<Policy>,
    pub groups: Vec<String>,
    pub permissions_boundary: Option<Policy>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupDef {
    pub policies: Vec<Policy>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDef {
    pub arn: String,
    pub policy: Option<Policy>,
    pub tags: BTreeMap<String, String>,
}

/// A whole estate.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Estate {
    pub organization: Option<Organization>,
    pub accounts: BTreeMap<String, Account>,
}

/// A request against the estate: what the caller chooses. Everything else comes from the estate.
#[derive(Debug, Clone, PartialEq)]
pub struct EstateRequest {
    pub principal: Principal,
    pub action: String,
    pub resource: String,
    /// Needed only for resources whose ARN has no account and that the estate does not describe.
    pub resource_account: Option<String>,
    /// Request-specific keys (`sts:ExternalId`, `aws:SourceIp`, ...). Keys the estate determines
    /// are overridden.
    pub context: Context,
    /// A session policy the session was created with.
    pub session_policy: Option<Policy>,
    /// Session tags (override the role's tags of the same key).
    pub session_tags: BTreeMap<String, String>,
}

impl EstateRequest {
    pub fn new(principal: Principal, action: &str, resource: &str) -> EstateRequest {
        EstateRequest {
            principal,
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account: None,
            context: Context::new(),
            session_policy: None,
            session_tags: BTreeMap::new(),
        }
    }
}

/// A request the estate cannot place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EstateError(pub String);

/// Where a principal lives in the estate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Residence<'e> {
    /// A session of a described account's role.
    Role(&'e Account, &'e RoleDef),
    User(&'e Account, &'e UserDef),
    /// The root user of some account.
    Root,
    /// An account the estate does not describe: identity policies allow everything.
    OpenWorld,
    /// Anonymous, a service principal or an identity provider: no identity policies.
    NotIam,
}

/// The identity policy every principal of an undescribed account is assumed to have.
pub fn open_world_policy() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| {
        allow_everything(
            PolicyKind::Identity,
            "open world: an undescribed account's principals may be allowed anything",
        )
    })
}

/// The session policy an undescribed account's federated user holds when the request gives none:
/// its people pass whatever they like to `GetFederationToken`, at most everything (without one
/// the session would have no permissions, corpus/DECISIONS.md 18).
pub fn open_world_session_policy() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| {
        allow_everything(
            PolicyKind::Session,
            "open world: an undescribed account's federated user may pass any session policy",
        )
    })
}

/// `Allow * on *` as a policy of `kind` named `name`.
fn allow_everything(kind: PolicyKind, name: &str) -> Policy {
    let mut p = crate::parse::parse_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        kind,
        "open-world",
    )
    .unwrap_or_else(|_| Policy::new(String::new(), kind, None, None, vec![]));
    p.name = name.into();
    p
}

impl OrgUnit {
    /// Units from this one down to the one that lists `account` directly.
    fn path_to<'a>(&'a self, account: &str, out: &mut Vec<&'a OrgUnit>) -> bool {
        out.push(self);
        if self.accounts.iter().any(|a| a == account) {
            return true;
        }
        for u in &self.units {
            if u.path_to(account, out) {
                return true;
            }
        }
        out.pop();
        false
    }

    /// Every account listed here or below.
    pub fn all_accounts(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.accounts.iter().map(String::as_str).collect();
        for u in &self.units {
            v.extend(u.all_accounts());
        }
        v
    }
}

impl Organization {
    /// The OU path root → … → the unit that holds `account`, when the account is in the org.
    pub fn path(&self, account: &str) -> Option<Vec<&OrgUnit>> {
        let mut out = Vec::new();
        self.root.path_to(account, &mut out).then_some(out)
    }

    /// `aws:PrincipalOrgPaths` / `aws:ResourceOrgPaths` value: `o-…/r-…/ou-…/` (the account's
    /// parent, trailing slash).
    pub fn org_path(&self, account: &str) -> Option<String> {
        let path = self.path(account)?;
        let mut s = format!("{}/", self.id);
        for u in path {
            s.push_str(&u.id);
            s.push('/');
        }
        Some(s)
    }
}

impl Estate {
    /// Is `account` a member of the organization (the management account included)?
    pub fn in_org(&self, account: &str) -> bool {
        self.organization
            .as_ref()
            .is_some_and(|o| o.path(account).is_some())
    }

    /// Does `account` fall under SCPs/RCPs (a member account, not the management account)?
    pub fn governed(&self, account: &str) -> bool {
        self.organization
            .as_ref()
            .is_some_and(|o| o.management_account != account && o.path(account).is_some())
    }

    /// Policy levels root → OUs → account for SCPs (`scp = true`) or RCPs of `account`.
    /// A level the spec leaves unsaid is left out (not checked).
    pub fn levels(&self, account: &str, scp: bool) -> Vec<Vec<Policy>> {
        let Some(org) = &self.organization else {
            return vec![];
        };
        if org.management_account == account {
            return vec![];
        }
        let Some(path) = org.path(account) else {
            return vec![];
        };
        let mut levels = Vec::new();
        for u in path {
            if scp {
                if let Some(s) = &u.scps {
                    levels.push(s.clone());
                }
            } else if !u.rcps.is_empty() {
                levels.push(u.rcps.clone());
            }
        }
        if let Some(a) = self.accounts.get(account) {
            if scp {
                if let Some(s) = &a.scps {
                    levels.push(s.clone());
                }
            } else if !a.rcps.is_empty() {
                levels.push(a.rcps.clone());
            }
        }
        levels
    }

    /// Find where `p` lives; an error when a described account does not have it, or when `p` is
    /// a role itself: AWS never sends a request as a role, only as one of its sessions
    /// (`arn:aws:sts::A:assumed-role/R/S`), which is what the prover reasons about; and when a
    /// session's or a federated user's name is not one STS creates (corpus/DECISIONS.md 24).
    /// The case format of `xverify eval` without `--spec` still takes role ARNs and any name
    /// (interfaces.md §2).
    pub fn residence(&self, p: &Principal) -> Result<Residence<'_>, EstateError> {
        if let Principal::Role {
            partition,
            account,
            name,
            ..
        } = p
        {
            return Err(EstateError(format!(
                "a role calls AWS only through a session: use arn:{partition}:sts::{account}:assumed-role/{name}/SESSION"
            )));
        }
        let Some(acct) = p.account() else {
            return Ok(Residence::NotIam);
        };
        // The estate's accounts and the prover's open world are in the `aws` partition.
        if let Principal::Root { partition, .. }
        | Principal::User { partition, .. }
        | Principal::AssumedRole { partition, .. }
        | Principal::FederatedUser { partition, .. } = p
        {
            if partition != "aws" {
                return Err(EstateError(format!(
                    "{}: the estate models the aws partition only, not {}",
                    p.to_arn_string(),
                    crate::json::quote(partition)
                )));
            }
        }
        // Names STS cannot create: no request carries them (AssumeRole's RoleSessionName,
        // GetFederationToken's Name).
        match p {
            Principal::AssumedRole { session, .. } if !valid_session_name(session) => {
                return Err(EstateError(format!(
                    "{}: session name {} is not a RoleSessionName AWS accepts (2-64 characters of [A-Za-z0-9_+=,.@-])",
                    p.to_arn_string(),
                    crate::json::quote(session)
                )));
            }
            // Names IAM cannot create (CreateRole's RoleName, CreateUser's UserName and Path;
            // audit 8, bug 5): no principal has them.
            Principal::AssumedRole { role, .. } if !valid_iam_name(role) => {
                return Err(EstateError(format!(
                    "{}: role name {} is not a RoleName IAM accepts (1-64 characters of [A-Za-z0-9_+=,.@-])",
                    p.to_arn_string(),
                    crate::json::quote(role)
                )));
            }
            Principal::User { name, path, .. }
                if !valid_iam_name(name) || !valid_iam_path(path) =>
            {
                return Err(EstateError(format!(
                    "{}: user name {} at path {} is not one IAM accepts (a UserName is 1-64 characters of [A-Za-z0-9_+=,.@-]; a path is / or /.../ of printable ASCII)",
                    p.to_arn_string(),
                    crate::json::quote(name),
                    crate::json::quote(path)
                )));
            }
            Principal::FederatedUser { name, .. } if !valid_federated_user_name(name) => {
                return Err(EstateError(format!(
                    "{}: federated user name {} is not a GetFederationToken Name AWS accepts (2-32 characters of [A-Za-z0-9_+=,.@-])",
                    p.to_arn_string(),
                    crate::json::quote(name)
                )));
            }
            _ => {}
        }
        if matches!(p, Principal::Root { .. }) {
            return Ok(Residence::Root);
        }
        let Some(a) = self.accounts.get(acct) else {
            return Ok(Residence::OpenWorld);
        };
        match p {
            // A user's ARN holds its path: another spelling names no user.
            Principal::User { name, path, .. } => match a.users.get(name) {
                Some(u) if u.path == *path => Ok(Residence::User(a, u)),
                Some(u) => Err(EstateError(format!(
                    "user {} of account {acct} is at path {}: its ARN is arn:aws:iam::{acct}:user{}{}",
                    crate::json::quote(name),
                    crate::json::quote(&u.path),
                    u.path,
                    u.name
                ))),
                None => Err(EstateError(format!(
                    "account {acct} is described and has no user {}",
                    crate::json::quote(name)
                ))),
            },
            Principal::AssumedRole { role: name, .. } => {
                a.roles.get(name).map(|r| Residence::Role(a, r)).ok_or_else(|| {
                    EstateError(format!("account {acct} is described and has no role {}", crate::json::quote(name)))
                })
            }
            Principal::FederatedUser { name, .. } => Err(EstateError(format!(
                "federated user {} of described account {acct}: federation sessions are not modelled in described accounts",
                crate::json::quote(name)
            ))),
            _ => Ok(Residence::OpenWorld),
        }
    }

    /// The resource's owning account, policy and tags.
    pub fn resource(
        &self,
        arn: &str,
    ) -> (
        Option<String>,
        Option<&Policy>,
        Option<&BTreeMap<String, String>>,
    ) {
        let parts = split_arn(arn);
        // IAM roles are the resource of sts:AssumeRole: the trust policy is their policy. A role
        // is found under its own ARN only (no region, its path): another spelling names no role
        // of the estate (corpus/DECISIONS.md 20).
        if let Some([_, partition, "iam", region, acct, res]) = parts {
            if let Some(rest) = res.strip_prefix("role/") {
                let name = rest.rsplit('/').next().unwrap_or(rest);
                if let Some(r) = self
                    .accounts
                    .get(acct)
                    .and_then(|a| a.roles.get(name))
                    .filter(|r| {
                        partition == "aws"
                            && region.is_empty()
                            && rest.strip_prefix(r.path.strip_prefix('/').unwrap_or(&r.path))
                                == Some(r.name.as_str())
                    })
                {
                    return (
                        Some(acct.to_string()),
                        r.trust_policy.as_ref(),
                        Some(&r.tags),
                    );
                }
                // A role of an account the estate does not describe: the account is the ARN's
                // field when that is an account ID (a fuzzed `2(22222222222` is none).
                return (is_account_id(acct).then(|| acct.to_string()), None, None);
            }
        }
        let mut candidates = vec![arn.to_string()];
        if let Some([_, _, svc, _, _, res]) = parts {
            match svc {
                // An object's policy is its bucket's.
                "s3" => {
                    if let Some((bucket, _)) = res.split_once('/') {
                        candidates.push(arn[..arn.len() - res.len()].to_string() + bucket);
                    }
                }
                // An index is covered by its table's policy; a stream has its own.
                "dynamodb" => {
                    let segs: Vec<&str> = res.split('/').collect();
                    if segs.len() >= 4 && segs[0] == "table" && segs[2] == "index" {
                        candidates.push(format!(
                            "{}table/{}",
                            &arn[..arn.len() - res.len()],
                            segs[1]
                        ));
                    }
                }
                _ => {}
            }
        }
        for c in &candidates {
            for (id, a) in &self.accounts {
                if let Some(r) = a.resources.get(c) {
                    return (Some(id.clone()), r.policy.as_ref(), Some(&r.tags));
                }
            }
        }
        let acct = parts
            .map(|p| p[4])
            .filter(|a| is_account_id(a))
            .map(str::to_string);
        (acct, None, None)
    }

    /// Gather the policies and context AWS would apply to `er` (see the module docs).
    pub fn gather(&self, er: &EstateRequest) -> Result<(PolicySet, Request), EstateError> {
        let p = &er.principal;
        if let Some(why) = er
            .resource_account
            .as_deref()
            .and_then(resource_account_error)
        {
            return Err(EstateError(why));
        }
        let residence = self.residence(p)?;
        // Session policies are passed to AssumeRole* and GetFederationToken: users and root users
        // act with long-term credentials, anonymous callers and services with none of these.
        if er.session_policy.is_some()
            && !matches!(
                p,
                Principal::AssumedRole { .. } | Principal::FederatedUser { .. }
            )
        {
            return Err(EstateError(format!(
                "{}: only a role session or a federated user carries a session policy (AWS passes one to AssumeRole* and GetFederationToken only)",
                p.to_arn_string()
            )));
        }
        sts_parameters(&er.action, &er.context)?;
        // A source identity is set by the AssumeRole* call that makes a role session, when the
        // role's trust policy allows sts:SetSourceIdentity; no other principal carries one
        // (corpus/DECISIONS.md 34).
        if er
            .context
            .get("aws:sourceidentity")
            .is_some_and(|v| !v.values().is_empty())
        {
            let refused = match (&residence, p) {
                (Residence::Role(_, r), _) => (!r.may_set_source_identity()).then(|| {
                    format!(
                        "role {}'s trust policy allows no sts:SetSourceIdentity: its sessions carry no aws:SourceIdentity",
                        crate::json::quote(&r.name)
                    )
                }),
                (_, Principal::User { .. } | Principal::Root { .. } | Principal::FederatedUser { .. }) => Some(format!(
                    "{}: only a role session carries aws:SourceIdentity (set by AssumeRole*)",
                    p.to_arn_string()
                )),
                _ => None,
            };
            if let Some(why) = refused {
                return Err(EstateError(why));
            }
        }
        // The source keys describe the resource an AWS service acts for; AWS sends them only
        // when a service principal makes the call (corpus/DECISIONS.md 37).
        if !matches!(p, Principal::Service(_)) {
            if let Some(key) = SOURCE_KEYS
                .iter()
                .find(|k| er.context.get(k.0).is_some_and(|v| !v.values().is_empty()))
            {
                return Err(EstateError(format!(
                    "{}: only an AWS service principal acting for a resource carries {}",
                    p.to_arn_string(),
                    key.1
                )));
            }
        }
        let mut set = PolicySet::default();
        let mut ctx = er.context.clone();
        let mut tags: Option<BTreeMap<String, String>> = None;
        match residence {
            Residence::Role(_, r) => {
                if !er.session_tags.is_empty() && !r.may_tag_sessions() {
                    return Err(EstateError(format!(
                        "role {}'s trust policy allows no sts:TagSession: its sessions carry no session tags",
                        crate::json::quote(&r.name)
                    )));
                }
                set.identity = r.policies.clone();
                set.boundary = r.permissions_boundary.clone();
                // Session tags override the role's tags of the same key, whatever its case (STS
                // API reference, AssumeRole `Tags`: keys are not case sensitive; audit 8, bug 6).
                let mut t = r.tags.clone();
                t.retain(|k, _| !er.session_tags.keys().any(|s| s.eq_ignore_ascii_case(k)));
                t.extend(er.session_tags.clone());
                tags = Some(t);
                ctx.insert(
                    "aws:PrincipalArn",
                    ContextValue::One(format!(
                        "arn:aws:iam::{}:role{}{}",
                        p.account().unwrap_or_default(),
                        r.path,
                        r.name
                    )),
                );
            }
            Residence::User(a, u) => {
                set.identity = u.policies.clone();
                for g in &u.groups {
                    if let Some(gd) = a.groups.get(g) {
                        set.identity.extend(gd.policies.iter().cloned());
                    }
                }
                set.boundary = u.permissions_boundary.clone();
                tags = Some(u.tags.clone());
            }
            Residence::OpenWorld => {
                set.identity = vec![open_world_policy().clone()];
                if matches!(p, Principal::FederatedUser { .. }) && er.session_policy.is_none() {
                    set.session = Some(open_world_session_policy().clone());
                }
                if !er.session_tags.is_empty() {
                    for (k, v) in &er.session_tags {
                        ctx.insert(
                            &format!("aws:PrincipalTag/{k}"),
                            ContextValue::One(v.clone()),
                        );
                    }
                }
            }
            Residence::Root => tags = Some(BTreeMap::new()),
            Residence::NotIam => {}
        }
        if er.session_policy.is_some() {
            set.session = er.session_policy.clone();
        }
        if let Some(t) = tags {
            // The estate knows the principal's tags: the caller cannot add or change any.
            let keys: Vec<String> = ctx
                .iter()
                .map(|(k, _)| k.to_string())
                .filter(|k| k.to_ascii_lowercase().starts_with("aws:principaltag/"))
                .collect();
            for k in keys {
                ctx.remove(&k);
            }
            for (k, v) in t {
                ctx.insert(&format!("aws:PrincipalTag/{k}"), ContextValue::One(v));
            }
        }

        // Organization keys of the principal.
        if let Some(acct) = p.account() {
            self.set_org_keys(
                &mut ctx,
                acct,
                "aws:PrincipalOrgID",
                "aws:PrincipalOrgPaths",
            );
            if self.governed(acct) {
                set.scps = self.levels(acct, true);
            }
        } else {
            ctx.remove("aws:PrincipalOrgID");
            ctx.remove("aws:PrincipalOrgPaths");
            // A service acting for a source account: the source's org keys follow from it.
            // Without one, the caller's (a service may name only the source's organization).
            if let Some(src) = ctx.get_single("aws:sourceaccount").map(str::to_string) {
                self.set_org_keys(&mut ctx, &src, "aws:SourceOrgID", "aws:SourceOrgPaths");
            }
        }

        // The resource side.
        let (racct, rpolicy, rtags) = self.resource(&er.resource);
        // A resource whose account neither the estate nor the request gives is the caller's own,
        // as `decide` counts it for the grant: its RCPs and keys follow.
        let resource_account = racct
            .or_else(|| er.resource_account.clone())
            .or_else(|| p.account().map(str::to_string));
        // A role's trust policy governs the sts:AssumeRole* family only; IAM has no resource
        // policy for its other actions on the role.
        let is_role =
            split_arn(&er.resource).is_some_and(|p| p[2] == "iam" && p[5].starts_with("role/"));
        set.resource =
            if is_role && !is_trust_request(&crate::pattern::fold(&er.action), &er.resource) {
                None
            } else {
                rpolicy.cloned()
            };
        if let Some(b) = &resource_account {
            ctx.insert("aws:ResourceAccount", ContextValue::One(b.clone()));
            if self.governed(b) {
                set.rcps = self.levels(b, false);
            }
        }
        // The resource's organization is a fact of the estate: the spec's organization for its
        // member accounts, none for any other (corpus/DECISIONS.md 22).
        match &resource_account {
            Some(b) if self.in_org(b) => {
                self.set_org_keys(&mut ctx, b, "aws:ResourceOrgID", "aws:ResourceOrgPaths")
            }
            _ => {
                ctx.remove("aws:ResourceOrgID");
                ctx.remove("aws:ResourceOrgPaths");
            }
        }
        if let Some(t) = rtags {
            let keys: Vec<String> = ctx
                .iter()
                .map(|(k, _)| k.to_string())
                .filter(|k| k.to_ascii_lowercase().starts_with("aws:resourcetag/"))
                .collect();
            for k in keys {
                ctx.remove(&k);
            }
            for (k, v) in t {
                ctx.insert(
                    &format!("aws:ResourceTag/{k}"),
                    ContextValue::One(v.clone()),
                );
            }
        }
        // Keys that follow from the principal itself.
        if let Some(arn) = p.principal_arn() {
            // An undescribed account's role has a path the estate does not know: the request
            // may give it (corpus/DECISIONS.md 23).
            let own_path = matches!(residence, Residence::OpenWorld)
                && ctx
                    .get("aws:principalarn")
                    .and_then(ContextValue::single)
                    .is_some_and(|given| open_role_arn(p, given));
            if !matches!(residence, Residence::Role(..)) && !own_path {
                ctx.insert("aws:PrincipalArn", ContextValue::One(arn));
            }
        } else {
            ctx.remove("aws:PrincipalArn");
        }
        // As `Request::new` fills them (corpus/DECISIONS.md 8).
        match p.principal_account_key() {
            Some(a) => ctx.insert("aws:PrincipalAccount", ContextValue::One(a.to_string())),
            None => ctx.remove("aws:PrincipalAccount"),
        }
        // KMS puts the calling principal's account in every KMS request; no other service sends
        // it, and no caller can choose it (corpus/DECISIONS.md 21).
        match p.account().filter(|_| is_kms_action(&er.action)) {
            Some(a) => ctx.insert("kms:CallerAccount", ContextValue::One(a.to_string())),
            None => ctx.remove("kms:CallerAccount"),
        }
        ctx.insert(
            "aws:PrincipalType",
            ContextValue::One(p.principal_type().into()),
        );
        match p.is_aws_service_key() {
            Some(v) => ctx.insert("aws:PrincipalIsAWSService", ContextValue::One(v.into())),
            None => ctx.remove("aws:PrincipalIsAWSService"),
        }
        match p {
            Principal::User { name, .. } => {
                ctx.insert("aws:username", ContextValue::One(name.clone()))
            }
            _ => ctx.remove("aws:username"),
        }
        // A role session's `aws:userid` is its role's unique ID and its session name
        // (`AROA…:session`, corpus/DECISIONS.md 35): the request may give the ID, the name is
        // the session's; without one, a stand-in ID derived from the role's ARN.
        if let Principal::AssumedRole {
            account,
            role,
            session,
            ..
        } = p
        {
            match ctx.get("aws:userid").map(ContextValue::values) {
                None | Some([]) => ctx.insert(
                    "aws:userid",
                    ContextValue::One(format!("{}:{session}", stand_in_role_id(account, role))),
                ),
                Some([v]) => {
                    let ok = v.split_once(':').is_some_and(|(id, name)| {
                        !id.is_empty() && !id.contains(':') && name == session
                    });
                    if !ok {
                        return Err(EstateError(format!(
                            "{}: aws:userid {} is not this session's (ROLE-ID:{session}, the role's unique ID and the session name)",
                            p.to_arn_string(),
                            crate::json::quote(v)
                        )));
                    }
                }
                Some(_) => {}
            }
        }
        // The unique IDs AWS documents for these principals; a user's ID (AIDA…) is not
        // modelled and stays the request's.
        match p {
            Principal::Root { account, .. } => {
                ctx.insert("aws:userid", ContextValue::One(account.clone()))
            }
            Principal::FederatedUser { account, name, .. } => {
                ctx.insert("aws:userid", ContextValue::One(format!("{account}:{name}")))
            }
            _ => {}
        }
        match p {
            Principal::Service(s) => {
                ctx.insert("aws:PrincipalServiceName", ContextValue::One(s.clone()))
            }
            _ => ctx.remove("aws:PrincipalServiceName"),
        }
        if let Principal::AssumedRole { .. } = p {
            // AssumeRole sets the session name; the trust-policy key follows the next session.
        }
        request_tags(&mut ctx)?;
        let req = Request::new(p.clone(), &er.action, &er.resource, resource_account, ctx);
        Ok((set, req))
    }

    fn set_org_keys(&self, ctx: &mut Context, account: &str, id_key: &str, paths_key: &str) {
        match &self.organization {
            Some(org) if self.in_org(account) => {
                ctx.insert(id_key, ContextValue::One(org.id.clone()));
                if let Some(path) = org.org_path(account) {
                    ctx.insert(paths_key, ContextValue::Many(vec![path]));
                }
            }
            Some(org) => {
                // Not in this organization: it cannot claim this organization's ID.
                if ctx.get_single(&id_key.to_ascii_lowercase()) == Some(org.id.as_str()) {
                    ctx.remove(id_key);
                    ctx.remove(paths_key);
                }
                if let Some(v) = ctx.get(&paths_key.to_ascii_lowercase()) {
                    if v.values()
                        .iter()
                        .any(|p| p.starts_with(&format!("{}/", org.id)))
                    {
                        ctx.remove(paths_key);
                    }
                }
            }
            None => {}
        }
    }

    /// Decide one request against the estate.
    pub fn authorize_owned(
        &self,
        er: &EstateRequest,
    ) -> Result<(Decision, PolicySet, Request), EstateError> {
        let (set, req) = self.gather(er)?;
        let d = crate::eval::decide(&set, &req);
        Ok((d, set, req))
    }

    /// Replay a chain of requests: every step but the last is an `sts:AssumeRole` whose session is
    /// the next step's principal. Returns each step's decision; stops at the first that is not
    /// allowed. Role chaining (a role session assuming a role) caps sessions at one hour.
    pub fn replay_chain(&self, steps: &[EstateRequest]) -> Result<Vec<ChainStep>, EstateError> {
        let mut out = Vec::new();
        for (i, given) in steps.iter().enumerate() {
            let mut named = None;
            if i + 1 < steps.len() {
                if !ASSUME_ROLE_ACTIONS.contains(&crate::pattern::fold(&given.action).as_str()) {
                    return Err(EstateError(format!(
                        "chain step {i}: only sts:AssumeRole (or AssumeRoleWithWebIdentity/WithSAML) can lead to another step, found {}",
                        given.action
                    )));
                }
                let next = &steps[i + 1].principal;
                let Principal::AssumedRole {
                    account,
                    role,
                    session,
                    ..
                } = next
                else {
                    return Err(EstateError(format!("chain step {}: the principal must be a session of the role assumed at step {i}", i + 1)));
                };
                let expect_prefix = format!("arn:aws:iam::{account}:role/");
                let role_matches = given.resource.starts_with(&expect_prefix)
                    && given.resource.rsplit('/').next() == Some(role.as_str());
                if !role_matches {
                    return Err(EstateError(format!(
                        "chain step {}: {} is not a session of {}",
                        i + 1,
                        next.to_arn_string(),
                        given.resource
                    )));
                }
                if !valid_session_name(session) {
                    return Err(EstateError(format!(
                        "chain step {}: session name {} is not 2-64 characters of [A-Za-z0-9_+=,.@-]",
                        i + 1,
                        crate::json::quote(session)
                    )));
                }
                // The session's name is the RoleSessionName the hop passed (corpus/DECISIONS.md
                // 31): a hop that gives none passes this one.
                match given.context.get_single("sts:rolesessionname") {
                    None => {
                        let mut st = given.clone();
                        st.context
                            .insert("sts:RoleSessionName", ContextValue::One(session.clone()));
                        named = Some(st);
                    }
                    Some(n) if n != session => {
                        return Err(EstateError(format!(
                            "chain step {i}: sts:RoleSessionName {} is not the name of the session at step {} ({})",
                            crate::json::quote(n),
                            i + 1,
                            crate::json::quote(session)
                        )));
                    }
                    Some(_) => {}
                }
            }
            let st = named.as_ref().unwrap_or(given);
            let (set, req) = self.gather(st)?;
            let mut decision = crate::eval::decide(&set, &req);
            let mut note = None;
            if decision == Decision::Allow
                && matches!(st.principal, Principal::AssumedRole { .. })
                && st.action.eq_ignore_ascii_case("sts:AssumeRole")
            {
                if let Some(d) = st.context.get_single("sts:durationseconds") {
                    if d.parse::<u64>().is_ok_and(|d| d > 3600) {
                        decision = Decision::ImplicitDeny;
                        note = Some(
                            "role chaining limits a session to one hour (DurationSeconds > 3600)"
                                .to_string(),
                        );
                    }
                }
            }
            // A hop whose session carries session tags passed them: its caller must be allowed
            // `sts:TagSession` on the role with those tags (IAM user guide, "Passing session tags
            // in AWS STS": the trust policy, and across accounts the caller's own policies, must
            // allow it; `aws:RequestTag/*` and `aws:TagKeys` are the tags passed).
            let tags = steps.get(i + 1).map(|n| &n.session_tags);
            if let (Decision::Allow, Some(tags)) = (decision, tags.filter(|t| !t.is_empty())) {
                let mut ctx: Vec<(String, ContextValue)> = tags
                    .iter()
                    .map(|(k, v)| (format!("aws:RequestTag/{k}"), ContextValue::One(v.clone())))
                    .collect();
                ctx.push((
                    "aws:TagKeys".into(),
                    ContextValue::Many(tags.keys().cloned().collect()),
                ));
                if let Some(why) =
                    self.hop_refuses(st, "sts:TagSession", ctx, "session tags", "them")?
                {
                    decision = Decision::ImplicitDeny;
                    note = Some(why);
                }
            }
            // A hop whose session carries a source identity set it: its caller must be allowed
            // `sts:SetSourceIdentity` on the role with it (corpus/DECISIONS.md 34).
            let source = steps
                .get(i + 1)
                .and_then(|n| n.context.get_single("aws:sourceidentity"));
            if let (Decision::Allow, Some(source)) = (decision, source) {
                let ctx = vec![(
                    "sts:SourceIdentity".to_string(),
                    ContextValue::One(source.to_string()),
                )];
                if let Some(why) =
                    self.hop_refuses(st, "sts:SetSourceIdentity", ctx, "a source identity", "it")?
                {
                    decision = Decision::ImplicitDeny;
                    note = Some(why);
                }
            }
            let allowed = decision == Decision::Allow;
            out.push(ChainStep {
                decision,
                note,
                set,
                request: req,
            });
            if !allowed {
                break;
            }
        }
        Ok(out)
    }

    /// The reason hop `st` may not pass `what` to the session it makes: its caller is not allowed
    /// `action` (`sts:TagSession`, `sts:SetSourceIdentity`) on the role with `ctx`.
    fn hop_refuses(
        &self,
        st: &EstateRequest,
        action: &str,
        ctx: Vec<(String, ContextValue)>,
        what: &str,
        it: &str,
    ) -> Result<Option<String>, EstateError> {
        let mut companion = st.clone();
        companion.action = action.into();
        for (k, v) in ctx {
            companion.context.insert(&k, v);
        }
        let (set, req) = self.gather(&companion)?;
        Ok((crate::eval::decide(&set, &req) != Decision::Allow).then(|| {
            format!(
                "the next session carries {what}, and this caller is not allowed {action} on {} with {it}",
                st.resource
            )
        }))
    }
}

/// One replayed step of a chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainStep {
    pub decision: Decision,
    pub note: Option<String>,
    pub set: PolicySet,
    pub request: Request,
}

impl ChainStep {
    /// The step's decision with the statements that made it.
    pub fn explain(&self) -> Response<'_> {
        authorize(&self.set, &self.request)
    }
}

/// Is `action` a KMS action (`kms:` in any case)? Those requests carry `kms:CallerAccount`.
pub fn is_kms_action(action: &str) -> bool {
    action
        .as_bytes()
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"kms:"))
}

/// Is `arn` the role ARN of the session `p` at some path (`arn:aws:iam::A:role/PATH/R`, or
/// `arn:aws:iam::A:role/R`): the role of the session, in its account, under a path IAM accepts
/// (printable ASCII other than space, at most 512 characters, ending in `/`)?
pub fn open_role_arn(p: &Principal, arn: &str) -> bool {
    let Principal::AssumedRole {
        partition,
        account,
        role,
        ..
    } = p
    else {
        return false;
    };
    let Some(rest) = arn
        .strip_prefix("arn:")
        .and_then(|r| r.strip_prefix(partition.as_str()))
        .and_then(|r| r.strip_prefix(":iam::"))
        .and_then(|r| r.strip_prefix(account.as_str()))
        .and_then(|r| r.strip_prefix(":role/"))
        .and_then(|r| r.strip_suffix(role.as_str()))
    else {
        return false;
    };
    // `rest` is the path past its leading `/`: empty, or ending in `/`.
    (rest.is_empty() || rest.ends_with('/'))
        && rest.len() < 512
        && rest.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// The `AssumeRole*` parameters a request carries as `sts:` keys, as STS takes them
/// (corpus/DECISIONS.md 31): `sts:AssumeRole` always carries its `RoleSessionName`, and in the
/// family a session name is a [`valid_session_name`] (`AssumeRoleWithWebIdentity`'s parameter and
/// the SAML assertion's attribute follow the same rule); an `sts:AssumeRole` `ExternalId` is a
/// [`valid_external_id`]. Other actions are not checked: AWS sends the keys with these only.
fn sts_parameters(action: &str, ctx: &Context) -> Result<(), EstateError> {
    let action_lc = crate::pattern::fold(action);
    if !ASSUME_ROLE_ACTIONS.contains(&action_lc.as_str()) {
        return Ok(());
    }
    let one = |key: &str| match ctx.get(&key.to_ascii_lowercase()) {
        None => Ok(None),
        Some(ContextValue::One(v)) => Ok(Some(v.as_str())),
        Some(ContextValue::Many(v)) => match v.as_slice() {
            // An empty array is no value, as everywhere in the engine.
            [] => Ok(None),
            [x] => Ok(Some(x.as_str())),
            _ => Err(EstateError(format!(
                "{action}: {key} is one string (STS takes one parameter), found {} values",
                v.len()
            ))),
        },
    };
    match one("sts:RoleSessionName")? {
        None if action_lc == "sts:assumerole" => {
            return Err(EstateError(format!(
                "{action}: the request carries no sts:RoleSessionName (AssumeRole's RoleSessionName is required)"
            )))
        }
        Some(name) if !valid_session_name(name) => {
            return Err(EstateError(format!(
                "{action}: sts:RoleSessionName {} is not a name STS takes (2-64 characters of [A-Za-z0-9_+=,.@-])",
                crate::json::quote(name)
            )))
        }
        _ => {}
    }
    if action_lc == "sts:assumerole" {
        if let Some(id) = one("sts:ExternalId")? {
            if !valid_external_id(id) {
                return Err(EstateError(format!(
                    "{action}: sts:ExternalId {} is not an ID STS takes (2-1224 characters of [A-Za-z0-9_+=,.@:/-])",
                    crate::json::quote(id)
                )));
            }
        }
    }
    Ok(())
}

/// `ExternalId`: 2–1,224 characters of `[\w+=,.@:/-]` (STS API reference, AssumeRole).
pub fn valid_external_id(s: &str) -> bool {
    (2..=1224).contains(&s.len())
        && s.bytes()
            .all(|b| sts_name_byte(b) || b == b':' || b == b'/')
}

/// The tags a request passes: an `aws:RequestTag/K` for each, and `aws:TagKeys` listing their
/// keys (IAM user guide, "AWS global condition context keys"; corpus/DECISIONS.md 36). A request
/// that gives tags without `aws:TagKeys` gets it; one whose `aws:TagKeys` and tags disagree (keys
/// compared without case, as the context does) is an input error: AWS sends no such request.
fn request_tags(ctx: &mut Context) -> Result<(), EstateError> {
    let tags: Vec<String> = ctx
        .iter()
        .filter_map(|(k, _)| request_tag_key(k).map(str::to_string))
        .collect();
    let Some(keys) = ctx.get("aws:tagkeys").map(|v| v.values().to_vec()) else {
        if !tags.is_empty() {
            ctx.insert("aws:TagKeys", ContextValue::Many(tags));
        }
        return Ok(());
    };
    for t in &tags {
        if !keys.iter().any(|k| k.eq_ignore_ascii_case(t)) {
            return Err(EstateError(format!(
                "the request passes aws:RequestTag/{t} but its aws:TagKeys does not list {}",
                crate::json::quote(t)
            )));
        }
    }
    for k in &keys {
        if !tags.iter().any(|t| t.eq_ignore_ascii_case(k)) {
            return Err(EstateError(format!(
                "aws:TagKeys lists {} but the request passes no aws:RequestTag/{k}",
                crate::json::quote(k)
            )));
        }
    }
    Ok(())
}

/// A stand-in for a role's unique ID (`AROA` and 17 upper-case letters and digits, as IAM gives
/// them), the same for every session of the role: the estate does not know the real one.
pub fn stand_in_role_id(account: &str, role: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in account.bytes().chain([b':']).chain(role.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    const DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut id = String::from("AROA");
    for i in 0..17 {
        let d = (h.rotate_left(i * 5) & 31) as usize;
        id.push(char::from(DIGITS[d]));
    }
    id
}

/// IAM's `RoleName` and `UserName`: 1–64 characters of `[\w+=,.@-]` (IAM API reference,
/// CreateRole, CreateUser).
pub fn valid_iam_name(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(sts_name_byte)
}

/// IAM's `Path`: `/`, or `/` + printable ASCII + `/`, at most 512 characters (IAM API reference,
/// CreateUser).
pub fn valid_iam_path(s: &str) -> bool {
    s == "/"
        || (s.len() >= 3
            && s.len() <= 512
            && s.starts_with('/')
            && s.ends_with('/')
            && s.bytes().all(|b| (0x21..=0x7e).contains(&b)))
}

/// `RoleSessionName`: 2–64 characters of `[\w+=,.@-]`.
pub fn valid_session_name(s: &str) -> bool {
    (2..=64).contains(&s.len()) && s.bytes().all(sts_name_byte)
}

/// `GetFederationToken`'s `Name` (the federated user's name): 2–32 characters of `[\w+=,.@-]`.
pub fn valid_federated_user_name(s: &str) -> bool {
    (2..=32).contains(&s.len()) && s.bytes().all(sts_name_byte)
}

/// A byte of `[\w+=,.@-]`, the characters STS takes in session and federated user names.
pub fn sts_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b)
}

/// Is this request's resource governed by a resource policy that must allow (trust, key)?
pub fn must_allow(action_lc: &str, resource: &str) -> bool {
    is_trust_request(action_lc, resource) || is_kms_request(action_lc, resource)
}
