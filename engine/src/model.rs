//! Validated policy and request types. Every value here has one canonical shape; `eval` on them
//! cannot fail.

use crate::pattern::{fold, ArnTemplate, Cidr, Template};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// `2008-10-17` (and an absent `Version`): no policy variables.
    V2008,
    /// `2012-10-17`: policy variables.
    V2012,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2008 => "2008-10-17",
            Version::V2012 => "2012-10-17",
        }
    }
}

/// Where a policy is attached; decides which elements are allowed and its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    /// Identity-based (user, group or role permission policy).
    Identity,
    /// Permissions boundary (a managed policy).
    Boundary,
    /// Session policy passed to `AssumeRole*` / `GetFederationToken`.
    Session,
    /// Service control policy.
    Scp,
    /// Resource control policy.
    Rcp,
    /// Resource-based policy (bucket, key, table, queue ... policy). `service` picks the size limit.
    Resource(ResourceService),
    /// An IAM role's trust policy.
    Trust,
}

/// Services whose resource policies have distinct size limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceService {
    S3,
    Kms,
    DynamoDb,
    Sqs,
    Sns,
    Other,
}

impl ResourceService {
    pub fn from_arn(arn: &str) -> ResourceService {
        match arn.split(':').nth(2) {
            Some("s3") => ResourceService::S3,
            Some("kms") => ResourceService::Kms,
            Some("dynamodb") => ResourceService::DynamoDb,
            Some("sqs") => ResourceService::Sqs,
            Some("sns") => ResourceService::Sns,
            _ => ResourceService::Other,
        }
    }
}

/// How a size limit counts characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeCount {
    /// Characters, white space outside strings not counted (IAM policies).
    NonWhitespace,
    /// Every character (SCPs, RCPs).
    AllChars,
    /// Bytes of the document as given (resource policies).
    Bytes,
}

impl PolicyKind {
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity policy",
            PolicyKind::Boundary => "permissions boundary",
            PolicyKind::Session => "session policy",
            PolicyKind::Scp => "service control policy",
            PolicyKind::Rcp => "resource control policy",
            PolicyKind::Resource(_) => "resource policy",
            PolicyKind::Trust => "role trust policy",
        }
    }

    /// AWS's size limit for this kind (iam-semantics.md §9).
    pub fn size_limit(self) -> (usize, SizeCount) {
        match self {
            // Inline role policies may reach 10,240 characters in aggregate; managed 6,144.
            PolicyKind::Identity => (10_240, SizeCount::NonWhitespace),
            PolicyKind::Boundary => (6_144, SizeCount::NonWhitespace),
            PolicyKind::Session => (2_048, SizeCount::NonWhitespace),
            PolicyKind::Scp | PolicyKind::Rcp => (5_120, SizeCount::AllChars),
            PolicyKind::Trust => (4_096, SizeCount::NonWhitespace),
            PolicyKind::Resource(s) => match s {
                ResourceService::S3 | ResourceService::DynamoDb => (20_480, SizeCount::Bytes),
                ResourceService::Kms => (32_768, SizeCount::Bytes),
                ResourceService::Sqs => (8_192, SizeCount::Bytes),
                ResourceService::Sns => (30_720, SizeCount::Bytes),
                ResourceService::Other => (20_480, SizeCount::Bytes),
            },
        }
    }

    pub fn is_resource_based(self) -> bool {
        matches!(
            self,
            PolicyKind::Resource(_) | PolicyKind::Trust | PolicyKind::Rcp
        )
    }
}

/// A parsed, validated policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Display name for explanations (`identity_policies[0]`, `FullAWSAccess`, ...).
    pub name: String,
    pub kind: PolicyKind,
    /// As written; `None` when absent (which behaves as 2008-10-17).
    pub version: Option<Version>,
    pub id: Option<String>,
    /// The statements and their indexes, shared by the clones of a policy: cloning one (as a
    /// batch's [`crate::case::PolicyCache`] does for every policy met again) copies its name and
    /// a reference, not its statements.
    body: std::sync::Arc<Body>,
}

/// What [`Policy::new`] builds from the statements. Private, so that the indexes always describe
/// the statements.
#[derive(Debug, PartialEq)]
struct Body {
    statements: Vec<Statement>,
    index: ServiceIndex,
    /// `None` when no statement names its principals by account (identity policies).
    principals: Option<Box<PrincipalIndex>>,
    /// Built the first time a decision asks for it (once for all the clones).
    actions: ActionCache,
}

impl Policy {
    pub fn new(
        name: String,
        kind: PolicyKind,
        version: Option<Version>,
        id: Option<String>,
        statements: Vec<Statement>,
    ) -> Policy {
        Policy {
            name,
            kind,
            version,
            id,
            body: std::sync::Arc::new(Body {
                index: ServiceIndex::new(&statements),
                principals: PrincipalIndex::new(&statements),
                actions: ActionCache::default(),
                statements,
            }),
        }
    }

    pub fn statements(&self) -> &[Statement] {
        &self.body.statements
    }

    pub fn variables_enabled(&self) -> bool {
        self.version == Some(Version::V2012)
    }

    /// The statements of `effect` whose `Action`/`NotAction` can match an action of the service
    /// whose [`service_key`] is `svc_key`, in order: all of that effect but those whose `Action`
    /// names only other services.
    #[inline]
    pub fn statements_for(&self, svc_key: u64, effect: Effect) -> Candidates<'_> {
        self.statements_of(svc_key, effect == Effect::Deny, effect == Effect::Allow)
    }

    /// [`Policy::statements_of`] without the statements whose `Principal` names only other
    /// accounts than the caller's, `caller` (`None`: a caller of no account, which such
    /// statements never name); with `act`, only the statements that match the request's action
    /// ([`Policy::action_entry`]; the service is then not searched).
    #[inline]
    pub(crate) fn statements_for_caller<'p>(
        &'p self,
        svc_key: u64,
        act: Option<ActionHit<'p>>,
        caller: Option<&str>,
        deny: bool,
        allow: bool,
    ) -> Candidates<'p, true> {
        let mut c: Candidates<'_, true> = self.candidates(svc_key, act, deny, allow);
        match &self.body.principals {
            Some(ix) => {
                let found = caller.and_then(|a| ix.keys.binary_search(&account_key(a)).ok());
                c.who = &ix.masks;
                c.who_key = found.map_or(NOWHERE, |j| (j + 1) * c.words);
            }
            // No statement names accounts only: every one may name the caller.
            None => c.everyone = u64::MAX,
        }
        c.bits = c.word_bits(0);
        c
    }

    /// Whether some statement names its principals by account only
    /// ([`Policy::statements_for_caller`] then leaves statements out).
    #[inline]
    pub(crate) fn names_accounts(&self) -> bool {
        self.body.principals.is_some()
    }

    /// Where the [`ActionIndex`] keeps the statements that match the lower-cased ASCII action
    /// `text` (whose [`Words`](crate::pattern::Words) are `w`): `None` when no statement names
    /// it literally. [`Policy::statements_of_in`] takes it.
    #[inline]
    pub(crate) fn action_entry(
        &self,
        text: &str,
        w: &crate::pattern::Words,
    ) -> Option<ActionHit<'_>> {
        let body = &*self.body;
        let ix = body.actions.get(&body.statements)?;
        let i = ix.find(text, w, &body.statements)?;
        let words = body.index.words;
        let at = i.checked_mul(words)?;
        Some(ActionHit(ix.masks.get(at..at.wrapping_add(words))?))
    }

    /// [`Policy::statements_for`] of the effects wanted (`deny`, `allow`: both at once, in
    /// order).
    #[inline]
    pub fn statements_of(&self, svc_key: u64, deny: bool, allow: bool) -> Candidates<'_> {
        let mut c = self.candidates(svc_key, None, deny, allow);
        c.bits = c.word_bits(0);
        c
    }

    /// [`Policy::statements_of`]; with `act`, only the statements that match the action.
    #[inline]
    pub(crate) fn statements_of_in<'p>(
        &'p self,
        svc_key: u64,
        act: Option<ActionHit<'p>>,
        deny: bool,
        allow: bool,
    ) -> Candidates<'p> {
        let mut c = self.candidates(svc_key, act, deny, allow);
        c.bits = c.word_bits(0);
        c
    }

    /// The candidates before their first word is read (`bits` is zero).
    #[inline]
    fn candidates<'p, const WHO: bool>(
        &'p self,
        svc_key: u64,
        act: Option<ActionHit<'p>>,
        deny: bool,
        allow: bool,
    ) -> Candidates<'p, WHO> {
        let body = &*self.body;
        let ix = &body.index;
        // With the action's statements, no service to look for. Few services (the common
        // case) are searched in order, many by bisection.
        let found = if act.is_some() {
            None
        } else if ix.keys.len() <= 8 {
            ix.keys.iter().position(|&k| k == svc_key)
        } else {
            ix.keys.binary_search(&svc_key).ok()
        };
        Candidates {
            statements: &body.statements,
            masks: &ix.masks,
            words: ix.words,
            svc: found.map(|j| (j + 2) * ix.words),
            deny: all(deny),
            allow: all(allow),
            who: &[],
            who_key: NOWHERE,
            everyone: 0,
            act: act.map(|a| a.0),
            word: 0,
            bits: 0,
        }
    }
}

/// The statements an action matches ([`Policy::action_entry`]): a mask of the [`ServiceIndex`]'s
/// width.
#[derive(Clone, Copy)]
pub(crate) struct ActionHit<'p>(&'p [u64]);

/// A policy's [`ActionIndex`], built the first time a decision asks for it: a policy that is only
/// read, printed or encoded never pays for it. (Derived from the statements, so it takes no part
/// in comparing policies.)
#[derive(Default)]
struct ActionCache(std::sync::OnceLock<Option<Box<ActionIndex>>>);

impl ActionCache {
    /// The index of `statements` (`None`: the policy has none).
    #[inline(always)]
    fn get(&self, statements: &[Statement]) -> Option<&ActionIndex> {
        match self.0.get() {
            Some(ix) => ix.as_deref(),
            None => self.build(statements),
        }
    }

    #[cold]
    #[inline(never)]
    fn build(&self, statements: &[Statement]) -> Option<&ActionIndex> {
        self.0
            .get_or_init(|| ActionIndex::new(statements))
            .as_deref()
    }
}

impl PartialEq for ActionCache {
    fn eq(&self, _: &ActionCache) -> bool {
        true
    }
}

impl std::fmt::Debug for ActionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0.get() {
            Some(Some(_)) => "ActionCache(built)",
            Some(None) => "ActionCache(none)",
            None => "ActionCache(not yet)",
        })
    }
}

/// For each action some statement names literally (`s3:getobject`, lower-cased ASCII), the
/// statements whose `Action`/`NotAction` match it, worked out the first time a decision asks
/// ([`ActionCache`]): a request for that action walks only those, without testing their actions
/// again. (Matching an action is a function of its text, so the masks are exact; an action no
/// statement names takes the service index.)
#[derive(Debug, Clone)]
struct ActionIndex {
    /// Sorted by words, then text: each action's words and where a statement names it (its
    /// index and the pattern's), whose text settles equal words past 16 bytes.
    keys: Vec<(crate::pattern::Words, u32, u32)>,
    /// As many words per mask as the [`ServiceIndex`], one mask per key, in the order of `keys`.
    masks: Vec<u64>,
}

impl ActionIndex {
    /// Patterns tried on every key at most (wildcards, and the patterns of `*` and `NotAction`
    /// elements, times the keys): past it, no index (the service index alone still narrows the
    /// walk).
    const MAX_WORK: usize = 1 << 18;

    /// Fewer statements than this walk as fast without one.
    const MIN_STATEMENTS: usize = 3;

    fn new(statements: &[Statement]) -> Option<Box<ActionIndex>> {
        if statements.len() < Self::MIN_STATEMENTS {
            return None;
        }
        use crate::pattern::Words;
        // Every literal pattern with its words and text, where it is, and whether its statement
        // matches exactly the actions its patterns name (no `*`, no `NotAction`).
        let mut named: Vec<(Words, &str, u32, u32, bool)> = Vec::new();
        for (s, st) in statements.iter().enumerate() {
            let a = &st.action;
            for (p, t) in a.patterns.iter().enumerate() {
                let (Ok(s), Ok(p)) = (u32::try_from(s), u32::try_from(p)) else {
                    return None;
                };
                if let Some(lit) = action_literal(t) {
                    named.push((Words::of(lit.as_bytes()), lit, s, p, !a.any && !a.not));
                }
            }
        }
        if named.is_empty() {
            return None;
        }
        named.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        // The keys, each once; a literal pattern matches its own key only (matching is
        // equality then), so its statement's bit is set as the key is made.
        let words = statements.len().div_ceil(64).max(1);
        let mut keys: Vec<(Words, u32, u32)> = Vec::new();
        let mut texts: Vec<&str> = Vec::new();
        let mut masks: Vec<u64> = Vec::new();
        for &(w, lit, s, p, direct) in &named {
            if keys.last().is_none_or(|k| k.0 != w) || texts.last() != Some(&lit) {
                keys.push((w, s, p));
                texts.push(lit);
                masks.extend(std::iter::repeat_n(0, words));
            }
            if direct {
                let at = (keys.len() - 1) * words + s as usize / 64;
                if let Some(m) = masks.get_mut(at) {
                    *m |= 1u64 << (s % 64);
                }
            }
        }
        // A wildcard pattern, and each pattern of a `*` or `NotAction` element, is tried on
        // every key: that is the work.
        let tried: usize = statements
            .iter()
            .map(|st| {
                let a = &st.action;
                if a.any || a.not {
                    a.patterns.len().max(1)
                } else {
                    a.patterns
                        .iter()
                        .filter(|t| action_literal(t).is_none())
                        .count()
                }
            })
            .sum();
        if tried.saturating_mul(keys.len()) > Self::MAX_WORK {
            return None;
        }
        for (i, st) in statements.iter().enumerate() {
            let (word, bit) = (i / 64, 1u64 << (i % 64));
            let mut set = |k: usize| {
                if let Some(m) = masks.get_mut(k * words + word) {
                    *m |= bit;
                }
            };
            let a = &st.action;
            if a.any || a.not {
                // `*` (every key, or none under `NotAction`); `NotAction`: the keys none of its
                // patterns match.
                for (k, (key, lit)) in keys.iter().zip(&texts).enumerate() {
                    if crate::eval::action_matches_text(a, lit, &key.0) {
                        set(k);
                    }
                }
                continue;
            }
            for t in a.patterns.iter().filter(|t| action_literal(t).is_none()) {
                for (k, (key, lit)) in keys.iter().zip(&texts).enumerate() {
                    if t.matches_action(lit, &key.0) {
                        set(k);
                    }
                }
            }
        }
        Some(Box::new(ActionIndex { keys, masks }))
    }

    /// The key of `text` (words `w`) among the actions of `statements`.
    #[inline]
    fn find(
        &self,
        text: &str,
        w: &crate::pattern::Words,
        statements: &[Statement],
    ) -> Option<usize> {
        let keys = &self.keys;
        let mut i = if keys.len() <= 8 {
            keys.iter().position(|(k, _, _)| k == w)?
        } else {
            keys.partition_point(|(k, _, _)| k < w)
        };
        // Up to 16 bytes the words are the text; past it, the keys of equal words in turn.
        while let Some(&(k, s, p)) = keys.get(i) {
            if k != *w {
                return None;
            }
            if w.len <= 16
                || literal_action(statements, s, p)
                    .is_some_and(|a| crate::pattern::same(a.as_bytes(), text.as_bytes()))
            {
                return Some(i);
            }
            i += 1;
        }
        None
    }
}

/// The action pattern `p` of statement `s` as [`action_literal`] gives it.
#[inline]
fn literal_action(statements: &[Statement], s: u32, p: u32) -> Option<&str> {
    action_literal(
        statements
            .get(s as usize)?
            .action
            .patterns
            .get(p as usize)?,
    )
}

/// The action pattern `t`'s text when it is a non-empty ASCII literal compared without case
/// (lower-cased: an action it matches is that text).
fn action_literal(t: &Template) -> Option<&str> {
    t.as_literal()
        .filter(|a| t.ci && !a.is_empty() && a.is_ascii())
}

/// An offset past every mask (which reads as no statement).
const NOWHERE: usize = usize::MAX / 2;

/// All ones when `on`.
#[inline(always)]
fn all(on: bool) -> u64 {
    if on {
        u64::MAX
    } else {
        0
    }
}

/// A key of an account ID, for [`PrincipalIndex`]: a function of its bytes (equal IDs, equal keys;
/// two IDs whose keys collide only get each other's statements tried).
#[inline]
pub(crate) fn account_key(account: &str) -> u64 {
    let w = crate::pattern::Words::of(account.as_bytes());
    w.head ^ w.tail.rotate_left(29) ^ (w.len as u64)
}

/// For a resource-based policy, which statements a caller of each account can match: a statement
/// whose `Principal` lists only principals of some accounts (the account, its users, roles,
/// sessions, federated users) cannot apply to a caller of another, and is left out of the walk
/// for that caller (a bucket policy's grants to partner accounts).
#[derive(Debug, Clone, PartialEq, Default)]
struct PrincipalIndex {
    /// Sorted [`account_key`]s.
    keys: Vec<u64>,
    /// As many words per mask as the [`ServiceIndex`]: first the statements any caller may
    /// match (no `Principal`, `NotPrincipal`, `*`, unique IDs, services, identity providers,
    /// canonical users), then one mask per key, in the order of `keys`.
    masks: Vec<u64>,
}

impl PrincipalIndex {
    fn new(statements: &[Statement]) -> Option<Box<PrincipalIndex>> {
        // Identity policies (no `Principal`) are done without allocating.
        if statements.iter().all(|st| st.principal.is_none()) {
            return None;
        }
        let mut keys: Vec<u64> = statements
            .iter()
            .filter_map(keyed)
            .flat_map(|set| set.aws.iter().filter_map(AwsPrincipalRef::account))
            .map(account_key)
            .collect();
        if keys.is_empty() {
            return None;
        }
        keys.sort_unstable();
        keys.dedup();
        let words = statements.len().div_ceil(64).max(1);
        let mut masks = vec![0u64; (keys.len() + 1) * words];
        for (i, st) in statements.iter().enumerate() {
            let (word, bit) = (i / 64, 1u64 << (i % 64));
            let Some(set) = keyed(st) else {
                masks[word] |= bit;
                continue;
            };
            for a in set.aws.iter().filter_map(AwsPrincipalRef::account) {
                if let Ok(j) = keys.binary_search(&account_key(a)) {
                    masks[(j + 1) * words + word] |= bit;
                }
            }
        }
        Some(Box::new(PrincipalIndex { keys, masks }))
    }
}

/// A statement's `Principal` when each of its entries is a principal of some account; `None`
/// when any caller may match it (no `Principal`, `NotPrincipal`, `*`, unique IDs, services,
/// identity providers, canonical users).
fn keyed(st: &Statement) -> Option<&PrincipalSet> {
    let set = &st.principal.as_ref().filter(|pe| !pe.not)?.set;
    let other = set.bare_star
        || !set.service.is_empty()
        || !set.federated.is_empty()
        || !set.canonical_user.is_empty();
    (!other && set.aws.iter().all(|e| e.account().is_some())).then_some(set)
}

/// For each service that some statement's `Action` names, the set of statements that can match
/// its actions, as bit masks over statement indices: a policy of many statements is searched
/// only where its statements could apply.
#[derive(Debug, Clone, PartialEq, Default)]
struct ServiceIndex {
    /// Sorted [`service_key`]s.
    keys: Vec<u64>,
    /// `words` words per mask: first the statements that can match any service (a service
    /// wildcard, `NotAction`), then the `Deny` statements, then one mask per key, in the order
    /// of `keys`.
    masks: Vec<u64>,
    words: usize,
}

impl ServiceIndex {
    fn new(statements: &[Statement]) -> ServiceIndex {
        let words = statements.len().div_ceil(64).max(1);
        let mut keys: Vec<u64> = statements
            .iter()
            .filter(|st| !st.action.not)
            .flat_map(|st| st.action.service_keys.iter().copied())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut masks = vec![0u64; (keys.len() + 2) * words];
        for (i, st) in statements.iter().enumerate() {
            let (word, bit) = (i / 64, 1u64 << (i % 64));
            if st.effect == Effect::Deny {
                masks[words + word] |= bit;
            }
            if st.action.not || st.action.service_keys.is_empty() {
                masks[word] |= bit;
                continue;
            }
            for k in &st.action.service_keys {
                if let Ok(j) = keys.binary_search(k) {
                    masks[(j + 2) * words + word] |= bit;
                }
            }
        }
        ServiceIndex { keys, masks, words }
    }
}

/// The statements [`Policy::statements_for`] gives, with their indices, in order; `WHO`: only
/// those the caller may match ([`Policy::statements_for_caller`]).
pub struct Candidates<'p, const WHO: bool = false> {
    statements: &'p [Statement],
    /// The [`ServiceIndex`]'s masks, `words` words each.
    masks: &'p [u64],
    words: usize,
    /// Where the service's mask starts; `None` when no statement names the service.
    svc: Option<usize>,
    /// All ones when `Deny` statements are wanted, else zero.
    deny: u64,
    /// All ones when `Allow` statements are wanted, else zero.
    allow: u64,
    /// With `WHO`, the [`PrincipalIndex`]'s masks and where the caller's account's mask starts
    /// ([`NOWHERE`] when no statement names it); `everyone` all ones when the policy has no
    /// index (every statement may name the caller).
    who: &'p [u64],
    who_key: usize,
    everyone: u64,
    /// With an [`ActionHit`], the statements the request's action matches (and the
    /// service is then not asked).
    act: Option<&'p [u64]>,
    /// The word `bits` came from, and its candidates not yet given.
    word: usize,
    bits: u64,
}

impl<const WHO: bool> Candidates<'_, WHO> {
    /// The candidates in word `w`.
    #[inline]
    fn word_bits(&self, w: usize) -> u64 {
        // (Offsets past a mask read as no statement: wrapping sums cannot index wrongly.)
        let at = |i: usize| self.masks.get(i).copied().unwrap_or(0);
        let deny = at(self.words.wrapping_add(w));
        let effect = (deny & self.deny) | (!deny & self.allow);
        let actions = match self.act {
            Some(m) => m.get(w).copied().unwrap_or(0),
            None => at(w) | self.svc.map_or(0, |s| at(s.wrapping_add(w))),
        };
        let bits = actions & effect;
        if !WHO {
            return bits;
        }
        let who = |i: usize| self.who.get(i).copied().unwrap_or(0);
        bits & (who(w) | who(self.who_key.wrapping_add(w)) | self.everyone)
    }
}

impl<'p, const WHO: bool> Iterator for Candidates<'p, WHO> {
    type Item = (usize, &'p Statement);

    #[inline(always)]
    fn next(&mut self) -> Option<(usize, &'p Statement)> {
        while self.bits == 0 {
            self.word = self.word.wrapping_add(1);
            if self.word >= self.words {
                return None;
            }
            self.bits = self.word_bits(self.word);
        }
        // (`word` is below `words`, a 64th of the statements: no overflow.)
        let i = (self.word << 6) | self.bits.trailing_zeros() as usize;
        self.bits &= self.bits.wrapping_sub(1);
        Some((i, self.statements.get(i)?))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalElement>,
    pub action: ActionElement,
    /// `None` only in role trust policies, where the resource is the role itself.
    pub resource: Option<ResourceElement>,
    pub conditions: Vec<Condition>,
}

/// `Action` (`not == false`) or `NotAction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionElement {
    pub not: bool,
    /// Case-insensitive globs over `service:Name`.
    pub patterns: Vec<Template>,
    /// [`service_key`]s of the services the patterns can match, when every pattern names its
    /// service literally (`s3:Get*`); empty when one could match any service (`*`, `s3*`). An
    /// index for the hot path, derived from `patterns` by [`ActionElement::new`]: a statement of
    /// another service is skipped with integer comparisons (two services whose keys collide
    /// only get their patterns tried, and the patterns name the service exactly).
    pub service_keys: Vec<u64>,
    /// Some pattern is `*`: every action matches. Derived by [`ActionElement::new`].
    pub(crate) any: bool,
}

/// A service prefix as 64 bits, for [`ActionElement::service_keys`]: up to eight bytes, the bytes
/// themselves (little-endian, zero above them); longer, their 64-bit FNV-1a hash. Two services
/// whose keys collide only get their patterns tried (the index never turns a service away that
/// its patterns name).
#[inline]
pub fn service_key(service: &str) -> u64 {
    service_key_of(service.as_bytes())
}

/// [`service_key`] of bytes.
#[inline]
pub fn service_key_of(service: &[u8]) -> u64 {
    if service.len() <= 8 {
        return crate::pattern::Words::of(service).head;
    }
    service.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl ActionElement {
    pub fn new(not: bool, patterns: Vec<Template>) -> ActionElement {
        fn service(t: &Template) -> Option<&str> {
            match t.atoms.first() {
                Some(crate::pattern::Atom::Lit(l)) => {
                    // A byte scan: these are short, and `split_once` sets up a searcher.
                    let colon = l.bytes().position(|b| b == b':')?;
                    l.get(..colon).filter(|svc| svc.is_ascii())
                }
                _ => None,
            }
        }
        let mut service_keys: Vec<u64> = Vec::new();
        for t in &patterns {
            match service(t) {
                Some(s) if t.ci => {
                    let k = service_key(s);
                    if !service_keys.contains(&k) {
                        service_keys.push(k);
                    }
                }
                _ => {
                    service_keys.clear();
                    break;
                }
            }
        }
        ActionElement {
            not,
            any: patterns.iter().any(Template::is_star),
            patterns,
            service_keys,
        }
    }
}

/// `Resource` or `NotResource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceElement {
    pub not: bool,
    /// Case-sensitive globs over the whole ARN, with variables when the version allows.
    pub patterns: Vec<Template>,
    /// Some pattern is `*`: every resource matches. Derived by [`ResourceElement::new`].
    pub(crate) any: bool,
    /// Some pattern is costly to match ([`Template::is_costly`]: a variable, `?`, the general
    /// glob). Derived by [`ResourceElement::new`].
    pub(crate) costly: bool,
}

impl ResourceElement {
    pub fn new(not: bool, patterns: Vec<Template>) -> ResourceElement {
        ResourceElement {
            not,
            any: patterns.iter().any(Template::is_star),
            costly: patterns.iter().any(Template::is_costly),
            patterns,
        }
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalElement {
    pub not: bool,
    pub set: PrincipalSet,
}

/// The principals one element names, grouped as AWS groups them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrincipalSet {
    pub aws: Vec<AwsPrincipalRef>,
    pub service: Vec<String>,
    pub federated: Vec<String>,
    pub canonical_user: Vec<String>,
    /// Written as the bare string `"*"` (same meaning as `{"AWS": "*"}`).
    pub bare_star: bool,
}

/// One entry of `"AWS": [...]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AwsPrincipalRef {
    /// `"*"`: everyone, anonymous included.
    Any,
    /// `"123456789012"` or `arn:aws:iam::123456789012:root`: the account.
    Account {
        account: String,
        /// Written as the 12-digit ID (not the root ARN).
        short: bool,
    },
    User {
        arn: String,
        account: String,
        name: String,
    },
    Role {
        arn: String,
        account: String,
        name: String,
    },
    AssumedRole {
        arn: String,
        account: String,
        role: String,
        session: String,
    },
    FederatedUser {
        arn: String,
        account: String,
        name: String,
    },
    /// A unique ID (`AIDA...`, `AROA...`) as IAM stores principals it resolved on save.
    UniqueId(String),
    /// A CloudFront origin access identity, as S3 stores it in a bucket policy
    /// (`arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL`):
    /// CloudFront reading for a distribution, which no request the engine decides comes from, so
    /// it names none of them (`xverify prove` answers `unknown` where one may grant a request of a
    /// property: corpus/DECISIONS.md 41).
    CloudFrontOai(String),
}

impl AwsPrincipalRef {
    /// The account whose principals the entry names; `None` for `*`, unique IDs and CloudFront
    /// origin access identities.
    pub fn account(&self) -> Option<&str> {
        match self {
            AwsPrincipalRef::Any
            | AwsPrincipalRef::UniqueId(_)
            | AwsPrincipalRef::CloudFrontOai(_) => None,
            AwsPrincipalRef::Account { account, .. }
            | AwsPrincipalRef::User { account, .. }
            | AwsPrincipalRef::Role { account, .. }
            | AwsPrincipalRef::AssumedRole { account, .. }
            | AwsPrincipalRef::FederatedUser { account, .. } => Some(account),
        }
    }

    pub fn to_policy_string(&self) -> String {
        match self {
            AwsPrincipalRef::Any => "*".to_string(),
            AwsPrincipalRef::Account { account, short } => {
                if *short {
                    account.clone()
                } else {
                    format!("arn:aws:iam::{account}:root")
                }
            }
            AwsPrincipalRef::User { arn, .. }
            | AwsPrincipalRef::Role { arn, .. }
            | AwsPrincipalRef::AssumedRole { arn, .. }
            | AwsPrincipalRef::FederatedUser { arn, .. } => arn.clone(),
            AwsPrincipalRef::UniqueId(id) | AwsPrincipalRef::CloudFrontOai(id) => id.clone(),
        }
    }
}

/// One condition: operator, key, values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub op: Operator,
    /// The key as written.
    pub key: String,
    /// Lower-cased key: condition keys are case-insensitive.
    pub key_lc: String,
    /// [`key_slot`] of `key_lc`: where the context keeps it (see [`Context::get_by`]).
    pub key_id: u8,
    pub values: CondValues,
    /// The values as written (strings, numbers and booleans as text), for printing.
    pub raw: Vec<String>,
    /// The matcher for the common shapes, derived from `op` and `values` by [`CondFast::of`]
    /// when the condition is compiled (they must not change after).
    pub fast: CondFast,
}

impl Condition {
    /// A condition of `op` on `key` (as written) with compiled `values` and the values as
    /// written, `raw`; derives the rest.
    pub fn new(op: Operator, key: &str, values: CondValues, raw: Vec<String>) -> Condition {
        let key_lc = crate::pattern::fold(key);
        let mut fast = CondFast::of(op, &values);
        if matches!(fast, CondFast::Literals { .. })
            && !matches!(&values, CondValues::Strings(ts) if ts.iter().all(|t| t.literal_words().is_some()))
        {
            // (An ASCII literal always has its words, which the fast path compares; should one
            // not, the general path.)
            fast = CondFast::General;
        }
        Condition {
            op,
            key: key.to_string(),
            key_id: key_slot(&key_lc),
            key_lc,
            fast,
            values,
            raw,
        }
    }
}

/// Condition shapes the evaluator decides without the general value matcher. (`repr(u8)`: the
/// shape is a tag byte of its own, read without decoding a niche.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CondFast {
    General,
    /// A plain operator (no set operator) whose values ([`CondValues::Strings`]) are all ASCII
    /// literals, no wildcard and no variable, all compared with or all without case (`ci`; the
    /// templates store such literals folded): `StringEquals`, `StringNotEquals`, their
    /// `IgnoreCase` forms, `StringLike` with a wildcard-free value, `Bool`.
    Literals {
        ci: bool,
        negated: bool,
    },
    /// `IpAddress` or `NotIpAddress` (`negated`), no set operator: on a key whose single value
    /// the context parsed when it was set ([`Context::ip_at`]), the networks are tested at once.
    Ips {
        negated: bool,
    },
}

impl CondFast {
    /// The fast shape of a condition with operator `op` and compiled `values`.
    pub fn of(op: Operator, values: &CondValues) -> CondFast {
        if let CondValues::Ips(_) = values {
            return match op.set {
                None => CondFast::Ips {
                    negated: op.base.is_negated(),
                },
                Some(_) => CondFast::General,
            };
        }
        let CondValues::Strings(ts) = values else {
            return CondFast::General;
        };
        let Some(ci) = ts.first().map(|t| t.ci) else {
            return CondFast::General;
        };
        let literal = |t: &Template| t.ci == ci && t.as_literal().is_some_and(str::is_ascii);
        if op.set.is_some() || !ts.iter().all(literal) {
            return CondFast::General;
        }
        CondFast::Literals {
            ci,
            negated: op.base.is_negated(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SetOp {
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Operator {
    pub set: Option<SetOp>,
    pub base: BaseOp,
    pub if_exists: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BaseOp {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl BaseOp {
    pub const ALL: [BaseOp; 27] = [
        BaseOp::StringEquals,
        BaseOp::StringNotEquals,
        BaseOp::StringEqualsIgnoreCase,
        BaseOp::StringNotEqualsIgnoreCase,
        BaseOp::StringLike,
        BaseOp::StringNotLike,
        BaseOp::NumericEquals,
        BaseOp::NumericNotEquals,
        BaseOp::NumericLessThan,
        BaseOp::NumericLessThanEquals,
        BaseOp::NumericGreaterThan,
        BaseOp::NumericGreaterThanEquals,
        BaseOp::DateEquals,
        BaseOp::DateNotEquals,
        BaseOp::DateLessThan,
        BaseOp::DateLessThanEquals,
        BaseOp::DateGreaterThan,
        BaseOp::DateGreaterThanEquals,
        BaseOp::Bool,
        BaseOp::BinaryEquals,
        BaseOp::IpAddress,
        BaseOp::NotIpAddress,
        BaseOp::ArnEquals,
        BaseOp::ArnLike,
        BaseOp::ArnNotEquals,
        BaseOp::ArnNotLike,
        BaseOp::Null,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BaseOp::StringEquals => "StringEquals",
            BaseOp::StringNotEquals => "StringNotEquals",
            BaseOp::StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            BaseOp::StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            BaseOp::StringLike => "StringLike",
            BaseOp::StringNotLike => "StringNotLike",
            BaseOp::NumericEquals => "NumericEquals",
            BaseOp::NumericNotEquals => "NumericNotEquals",
            BaseOp::NumericLessThan => "NumericLessThan",
            BaseOp::NumericLessThanEquals => "NumericLessThanEquals",
            BaseOp::NumericGreaterThan => "NumericGreaterThan",
            BaseOp::NumericGreaterThanEquals => "NumericGreaterThanEquals",
            BaseOp::DateEquals => "DateEquals",
            BaseOp::DateNotEquals => "DateNotEquals",
            BaseOp::DateLessThan => "DateLessThan",
            BaseOp::DateLessThanEquals => "DateLessThanEquals",
            BaseOp::DateGreaterThan => "DateGreaterThan",
            BaseOp::DateGreaterThanEquals => "DateGreaterThanEquals",
            BaseOp::Bool => "Bool",
            BaseOp::BinaryEquals => "BinaryEquals",
            BaseOp::IpAddress => "IpAddress",
            BaseOp::NotIpAddress => "NotIpAddress",
            BaseOp::ArnEquals => "ArnEquals",
            BaseOp::ArnLike => "ArnLike",
            BaseOp::ArnNotEquals => "ArnNotEquals",
            BaseOp::ArnNotLike => "ArnNotLike",
            BaseOp::Null => "Null",
        }
    }

    /// Negated operators: true on a missing key, and NOR over several policy values (§4.2, §4.3).
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            BaseOp::StringNotEquals
                | BaseOp::StringNotEqualsIgnoreCase
                | BaseOp::StringNotLike
                | BaseOp::NumericNotEquals
                | BaseOp::DateNotEquals
                | BaseOp::NotIpAddress
                | BaseOp::ArnNotEquals
                | BaseOp::ArnNotLike
        )
    }

    /// Operators whose values may hold policy variables (§5).
    pub fn takes_variables(self) -> bool {
        matches!(
            self,
            BaseOp::StringEquals
                | BaseOp::StringNotEquals
                | BaseOp::StringEqualsIgnoreCase
                | BaseOp::StringNotEqualsIgnoreCase
                | BaseOp::StringLike
                | BaseOp::StringNotLike
                | BaseOp::Bool
                | BaseOp::ArnEquals
                | BaseOp::ArnLike
                | BaseOp::ArnNotEquals
                | BaseOp::ArnNotLike
        )
    }
}

impl Operator {
    pub fn name(&self) -> String {
        let mut s = String::new();
        match self.set {
            Some(SetOp::ForAllValues) => s.push_str("ForAllValues:"),
            Some(SetOp::ForAnyValue) => s.push_str("ForAnyValue:"),
            None => {}
        }
        s.push_str(self.base.name());
        if self.if_exists {
            s.push_str("IfExists");
        }
        s
    }
}

/// Condition values compiled for their operator family.
#[derive(Debug, Clone, PartialEq)]
pub enum CondValues {
    /// String operators and `Bool` (templates; wildcards only for the `Like` forms).
    Strings(Vec<Template>),
    Numbers(Vec<f64>),
    /// Milliseconds since the epoch.
    Dates(Vec<i64>),
    Binary(Vec<Vec<u8>>),
    Ips(Vec<Cidr>),
    Arns(Vec<ArnTemplate>),
    /// `Null`: `true` means "the key must be absent".
    Null(Vec<bool>),
}

/// The name every service-linked role AWS creates starts with (`AWSServiceRoleForSupport`).
pub const SERVICE_LINKED_ROLE_PREFIX: &str = "AWSServiceRoleFor";

/// The path of every service-linked role (`/aws-service-role/support.amazonaws.com/`).
pub const SERVICE_LINKED_ROLE_PATH: &str = "/aws-service-role/";

/// A request principal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Principal {
    /// An unsigned request.
    Anonymous,
    /// An AWS service principal such as `cloudtrail.amazonaws.com`.
    Service(String),
    Root {
        partition: String,
        account: String,
    },
    User {
        partition: String,
        account: String,
        path: String,
        name: String,
    },
    /// A role ARN given as the caller: some session of that role.
    Role {
        partition: String,
        account: String,
        path: String,
        name: String,
    },
    AssumedRole {
        partition: String,
        account: String,
        role: String,
        session: String,
    },
    FederatedUser {
        partition: String,
        account: String,
        name: String,
    },
    /// A SAML or OIDC identity provider (`arn:aws:iam::A:saml-provider/X`), for
    /// `AssumeRoleWithSAML`/`AssumeRoleWithWebIdentity`.
    IdentityProvider(String),
}

/// Why a principal string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PrincipalParseError(pub String);

/// Is `a` an AWS account ID: twelve ASCII digits?
pub fn is_account_id(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
}

/// Why a request's `resource_account` is refused: it is no account ID.
pub fn resource_account_error(a: &str) -> Option<String> {
    (!is_account_id(a)).then(|| {
        format!(
            "invalid resource_account {}: expected an account ID (12 digits)",
            crate::json::quote(a)
        )
    })
}

impl Principal {
    /// Read a request principal: `anonymous`, a service principal, or a user, role, session,
    /// federated-user, root or identity-provider ARN.
    pub fn parse(s: &str) -> Result<Principal, PrincipalParseError> {
        if s == "anonymous" {
            return Ok(Principal::Anonymous);
        }
        if !s.starts_with("arn:") {
            // `ARN:…` is neither an ARN nor a service (whose name is read lower-case, and would
            // then read back as an ARN).
            if s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("arn:")) {
                return Err(PrincipalParseError(format!(
                    "principal {}: an ARN starts with \"arn:\" in lower case",
                    crate::json::quote(s)
                )));
            }
            if s.is_empty() || s.contains(char::is_whitespace) || !s.contains('.') {
                return Err(PrincipalParseError(format!(
                    "principal {}: expected an ARN, a service principal such as \"cloudtrail.amazonaws.com\", or \"anonymous\"",
                    crate::json::quote(s)
                )));
            }
            // Service principal names are lower-case (`logs.amazonaws.com`); the Principal
            // element compares them ignoring case, condition keys do not.
            return Ok(Principal::Service(s.to_ascii_lowercase()));
        }
        let bad =
            |why: &str| PrincipalParseError(format!("principal {}: {why}", crate::json::quote(s)));
        let parts = crate::pattern::split_arn(s)
            .ok_or_else(|| bad("not an ARN (arn:partition:service:region:account:resource)"))?;
        let [_, partition, service, _region, account, res] = parts;
        if !is_account_id(account) {
            return Err(bad("the account must be 12 digits"));
        }
        let partition = partition.to_string();
        let account = account.to_string();
        match service {
            "iam" => {
                if res == "root" {
                    return Ok(Principal::Root { partition, account });
                }
                let (kind, rest) = res
                    .split_once('/')
                    .ok_or_else(|| bad("expected user/, role/ or root"))?;
                let (path, name) = match rest.rfind('/') {
                    Some(i) => (format!("/{}", &rest[..=i]), rest[i + 1..].to_string()),
                    None => ("/".to_string(), rest.to_string()),
                };
                if name.is_empty() {
                    return Err(bad("empty name"));
                }
                match kind {
                    "user" => Ok(Principal::User {
                        partition,
                        account,
                        path,
                        name,
                    }),
                    "role" => Ok(Principal::Role {
                        partition,
                        account,
                        path,
                        name,
                    }),
                    "saml-provider" | "oidc-provider" => {
                        Ok(Principal::IdentityProvider(s.to_string()))
                    }
                    _ => Err(bad("expected user/, role/ or root")),
                }
            }
            "sts" => {
                let (kind, rest) = res
                    .split_once('/')
                    .ok_or_else(|| bad("expected assumed-role/ or federated-user/"))?;
                match kind {
                    "assumed-role" => {
                        let (role, session) = rest
                            .split_once('/')
                            .filter(|(r, s)| !r.is_empty() && !s.is_empty())
                            .ok_or_else(|| bad("expected assumed-role/ROLE/SESSION"))?;
                        Ok(Principal::AssumedRole {
                            partition,
                            account,
                            role: role.to_string(),
                            session: session.to_string(),
                        })
                    }
                    "federated-user" if !rest.is_empty() => Ok(Principal::FederatedUser {
                        partition,
                        account,
                        name: rest.to_string(),
                    }),
                    _ => Err(bad(
                        "expected assumed-role/ROLE/SESSION or federated-user/NAME",
                    )),
                }
            }
            _ => Err(bad("expected an iam or sts ARN")),
        }
    }

    /// The principal's home account (none for anonymous, services and identity providers).
    pub fn account(&self) -> Option<&str> {
        match self {
            Principal::Root { account, .. }
            | Principal::User { account, .. }
            | Principal::Role { account, .. }
            | Principal::AssumedRole { account, .. }
            | Principal::FederatedUser { account, .. } => Some(account),
            _ => None,
        }
    }

    /// The value of `aws:PrincipalAccount`: the principal's account, or `anonymous` for an
    /// anonymous caller ("For anonymous requests, the request context returns `anonymous`",
    /// global condition keys; corpus/DECISIONS.md 8).
    pub fn principal_account_key(&self) -> Option<&str> {
        match self {
            Principal::Anonymous => Some("anonymous"),
            p => p.account(),
        }
    }

    /// The value of `aws:PrincipalIsAWSService`: present in every signed request, absent from an
    /// anonymous one ("Anonymous requests do not include this key"; corpus/DECISIONS.md 8).
    pub fn is_aws_service_key(&self) -> Option<&'static str> {
        match self {
            Principal::Anonymous => None,
            Principal::Service(_) => Some("true"),
            _ => Some("false"),
        }
    }

    /// Is this an IAM principal of some account (signed with its credentials)?
    pub fn is_iam(&self) -> bool {
        self.account().is_some()
    }

    /// The role name when this is a role or a role session.
    pub fn role_name(&self) -> Option<&str> {
        match self {
            Principal::Role { name, .. } => Some(name),
            Principal::AssumedRole { role, .. } => Some(role),
            _ => None,
        }
    }

    /// A service-linked role (or a session of one): exempt from SCPs and RCPs (corpus/DECISIONS.md
    /// 6). A role by its path or its name; a session by its role's name, the only part of the role
    /// its ARN carries.
    pub fn is_service_linked_role(&self) -> bool {
        match self {
            Principal::Role { path, name, .. } => {
                path.starts_with(SERVICE_LINKED_ROLE_PATH)
                    || name.starts_with(SERVICE_LINKED_ROLE_PREFIX)
            }
            Principal::AssumedRole { role, .. } => role.starts_with(SERVICE_LINKED_ROLE_PREFIX),
            _ => false,
        }
    }

    /// `aws:PrincipalArn` as AWS sets it: for a role session, the role's ARN.
    pub fn principal_arn(&self) -> Option<String> {
        Some(match self {
            Principal::Root { partition, account } => {
                format!("arn:{partition}:iam::{account}:root")
            }
            Principal::User {
                partition,
                account,
                path,
                name,
            } => format!("arn:{partition}:iam::{account}:user{path}{name}"),
            Principal::Role {
                partition,
                account,
                path,
                name,
            } => format!("arn:{partition}:iam::{account}:role{path}{name}"),
            Principal::AssumedRole {
                partition,
                account,
                role,
                ..
            } => format!("arn:{partition}:iam::{account}:role/{role}"),
            Principal::FederatedUser {
                partition,
                account,
                name,
            } => format!("arn:{partition}:sts::{account}:federated-user/{name}"),
            _ => return None,
        })
    }

    /// `aws:PrincipalType`.
    pub fn principal_type(&self) -> &'static str {
        match self {
            Principal::Anonymous => "Anonymous",
            Principal::Service(_) => "Service",
            Principal::Root { .. } => "Account",
            Principal::User { .. } => "User",
            Principal::Role { .. } | Principal::AssumedRole { .. } => "AssumedRole",
            Principal::FederatedUser { .. } => "FederatedUser",
            Principal::IdentityProvider(_) => "WebIdentityUser",
        }
    }

    /// The principal as an ARN string (or `anonymous` / the service name).
    pub fn to_arn_string(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".to_string(),
            Principal::Service(s) | Principal::IdentityProvider(s) => s.clone(),
            Principal::AssumedRole {
                partition,
                account,
                role,
                session,
            } => format!("arn:{partition}:sts::{account}:assumed-role/{role}/{session}"),
            p => p.principal_arn().unwrap_or_default(),
        }
    }
}

/// A context value: one string, or several (multivalued keys such as `aws:TagKeys`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContextValue {
    One(String),
    Many(Vec<String>),
}

impl ContextValue {
    pub fn values(&self) -> &[String] {
        match self {
            ContextValue::One(s) => std::slice::from_ref(s),
            ContextValue::Many(v) => v,
        }
    }

    /// The value when there is exactly one (what a policy variable takes, §5).
    #[inline]
    pub fn single(&self) -> Option<&str> {
        match self.values() {
            [v] => Some(v),
            _ => None,
        }
    }
}

/// Global condition keys that AWS documents as multivalued (IAM User Guide, "AWS global condition
/// context keys"; ../shared/iam-semantics.md §4.4, §6), lower-cased.
pub const MULTIVALUED_GLOBAL_KEYS: &[&str] = &[
    "aws:calledvia",
    "aws:principalorgpaths",
    "aws:principalservicenameslist",
    "aws:resourceorgpaths",
    "aws:sourceorgpaths",
    "aws:tagkeys",
];

/// A key (lower-cased) that no AWS request carries with several values: every global (`aws:`)
/// key but the documented multivalued ones, tags included (a tag is one string), and the two STS
/// parameters trust policies read, `sts:ExternalId` and `sts:RoleSessionName` (each one string of
/// an `AssumeRole*` call, corpus/DECISIONS.md 31). A service's own keys may be multivalued: the
/// service decides. A request giving a single-valued key an array of several values is rejected
/// when it is read (corpus/DECISIONS.md 1).
pub fn is_single_valued_key(key_lc: &str) -> bool {
    (key_lc.starts_with("aws:") && !MULTIVALUED_GLOBAL_KEYS.contains(&key_lc))
        || STS_PARAMETER_KEYS.contains(&key_lc)
}

/// The tag key of a context key `aws:RequestTag/KEY` (its prefix in any case, as the context
/// compares key names), as written.
pub fn request_tag_key(key: &str) -> Option<&str> {
    const PREFIX: &str = "aws:requesttag/";
    key.get(..PREFIX.len())
        .filter(|h| h.eq_ignore_ascii_case(PREFIX))
        .and_then(|_| key.get(PREFIX.len()..))
}

/// The `AssumeRole*` parameters a request context carries as condition keys, lower-cased:
/// `ExternalId` and `RoleSessionName` (corpus/DECISIONS.md 31).
pub const STS_PARAMETER_KEYS: &[&str] = &["sts:externalid", "sts:rolesessionname"];

/// The keys that describe the resource an AWS service principal acts for, lower-cased and as AWS
/// spells them: present only when such a service makes the call (corpus/DECISIONS.md 37).
pub const SOURCE_KEYS: &[(&str, &str)] = &[
    ("aws:sourceaccount", "aws:SourceAccount"),
    ("aws:sourcearn", "aws:SourceArn"),
    ("aws:sourceorgid", "aws:SourceOrgID"),
    ("aws:sourceorgpaths", "aws:SourceOrgPaths"),
];

/// Global condition keys (IAM User Guide, "AWS global condition context keys"), lower-cased and
/// sorted. Each has a fixed slot in every [`Context`], so a condition on one of them is looked up by
/// index ([`Condition::key_id`]) instead of by comparing strings.
pub const KNOWN_KEYS: &[&str] = &[
    "aws:calledvia",
    "aws:calledviafirst",
    "aws:calledvialast",
    "aws:currenttime",
    "aws:ec2instancesourceprivateipv4",
    "aws:ec2instancesourcevpc",
    "aws:epochtime",
    "aws:federatedprovider",
    "aws:multifactorauthage",
    "aws:multifactorauthpresent",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalisawsservice",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalservicename",
    "aws:principalservicenameslist",
    "aws:principaltype",
    "aws:referer",
    "aws:requestedregion",
    "aws:resourceaccount",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "aws:securetransport",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceidentity",
    "aws:sourceip",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourcevpc",
    "aws:sourcevpcarn",
    "aws:sourcevpce",
    "aws:tagkeys",
    "aws:tokenissuetime",
    "aws:useragent",
    "aws:userid",
    "aws:username",
    "aws:viaawsservice",
    "aws:vpcsourceip",
];

const SLOTS: usize = KNOWN_KEYS.len();

/// Buckets for the other keys, by hash: a bucket holds the entry of the one key that hashes to
/// it, or [`SHARED`] when several do.
const BUCKETS: usize = 64;

/// A bucket several keys hash to: the search decides.
const SHARED: u8 = u8::MAX;

/// Where a lower-cased key is found in a [`Context`]: its [`key_id`] for a known key, else its
/// bucket (`SLOTS + hash % BUCKETS`). Computed once, when a policy is compiled; see
/// [`Context::get_by`].
pub fn key_slot(key_lc: &str) -> u8 {
    let id = key_id(key_lc);
    if id != KEY_UNKNOWN {
        return id;
    }
    let h = fnv32_from(key_lc.as_bytes(), 0);
    (SLOTS + (h as usize) % BUCKETS) as u8
}

const _: () = assert!(SLOTS + BUCKETS < KEY_UNKNOWN as usize);

/// The slot of a lower-cased key in [`KNOWN_KEYS`]; [`KEY_UNKNOWN`] for any other key.
pub fn key_id(key_lc: &str) -> u8 {
    // Every known key is `aws:` and at most 32 bytes: most other keys stop at the first test.
    if key_lc.len() > 32 || !key_lc.starts_with("aws:") {
        return KEY_UNKNOWN;
    }
    // Open addressing in a table built at compile time: one string comparison for a known key,
    // usually none for another.
    let mut h = key_hash(key_lc.as_bytes()) as usize;
    loop {
        let id = KEY_TABLE[h % KEY_TABLE.len()];
        if id == KEY_UNKNOWN || KNOWN_KEYS[id as usize] == key_lc {
            return id;
        }
        h += 1;
    }
}

/// FNV-1a over the bytes after `aws:`, for [`KEY_TABLE`].
const fn key_hash(key: &[u8]) -> u32 {
    fnv32_from(key, 4)
}

/// 32-bit FNV-1a over `key[from..]`.
const fn fnv32_from(key: &[u8], from: usize) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    let mut i = from;
    while i < key.len() {
        h = (h ^ key[i] as u32).wrapping_mul(0x0100_0193);
        i += 1;
    }
    h
}

/// [`KNOWN_KEYS`] by [`key_hash`], linear probing, at most a quarter full (so a probe always
/// meets an empty slot, and soon).
const KEY_TABLE: [u8; 256] = {
    assert!(
        KNOWN_KEYS.len() <= 64,
        "KEY_TABLE would be more than a quarter full"
    );
    let mut t = [KEY_UNKNOWN; 256];
    let mut k = 0;
    while k < KNOWN_KEYS.len() {
        let mut h = key_hash(KNOWN_KEYS[k].as_bytes()) as usize;
        while t[h % 256] != KEY_UNKNOWN {
            h += 1;
        }
        t[h % 256] = k as u8;
        k += 1;
    }
    t
};

/// The [`key_id`] of a key outside [`KNOWN_KEYS`].
pub const KEY_UNKNOWN: u8 = u8::MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// The lower-cased key, then the key as given unless it is the same text: one allocation
    /// (none for the keys [`Request::new`] fills in, whose text is a constant).
    text: std::borrow::Cow<'static, str>,
    /// Where the lower-cased key ends.
    split: usize,
    value: ContextValue,
    /// [`key_slot`] of the lower-cased key.
    slot: u8,
    /// The value parsed as an IP address, for the keys that hold one ([`IP_KEYS`]) when they
    /// have a single value: `IpAddress` conditions then do not parse it again.
    ip: Option<crate::pattern::IpValue>,
    /// A single value of at most 16 bytes as [`Words`](crate::pattern::Words), and lower-cased
    /// when it is ASCII: literal conditions compare them with their values' words.
    short: ShortValue,
}

/// [`Entry::short`]: [`NOT_SHORT`] for what a value does not have (several values, more than
/// 16 bytes; `lower` also when it is not ASCII, and a case-insensitive comparison then folds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShortValue {
    pub raw: crate::pattern::Words,
    pub lower: crate::pattern::Words,
}

/// [`ShortValue`]'s mark of words a value does not have (no string is this long).
const NOT_SHORT: crate::pattern::Words = crate::pattern::Words {
    len: usize::MAX,
    head: 0,
    tail: 0,
};

impl ShortValue {
    /// The words, lower-cased when `lower`, when the value has them.
    #[inline(always)]
    pub(crate) fn words(&self, lower: bool) -> Option<&crate::pattern::Words> {
        let w = if lower { &self.lower } else { &self.raw };
        (w.len <= 16).then_some(w)
    }
}

/// What [`Entry::short`] holds for `value`.
fn short_value(value: &ContextValue) -> ShortValue {
    match value {
        ContextValue::One(v) if v.len() <= 16 => {
            let raw = crate::pattern::Words::of(v.as_bytes());
            ShortValue {
                raw,
                lower: if raw.ascii() {
                    raw.ascii_lowercase()
                } else {
                    NOT_SHORT
                },
            }
        }
        _ => ShortValue {
            raw: NOT_SHORT,
            lower: NOT_SHORT,
        },
    }
}

/// The global keys whose value is an IP address, by [`key_id`].
const IP_KEYS: [u8; 3] = [
    known_id("aws:sourceip"),
    known_id("aws:vpcsourceip"),
    known_id("aws:ec2instancesourceprivateipv4"),
];

const _: () = assert!(
    IP_KEYS[0] != KEY_UNKNOWN && IP_KEYS[1] != KEY_UNKNOWN && IP_KEYS[2] != KEY_UNKNOWN,
    "an IP key is missing from KNOWN_KEYS"
);

/// The index of `key` in [`KNOWN_KEYS`], at compile time ([`KEY_UNKNOWN`] if absent).
const fn known_id(key: &str) -> u8 {
    known_id_of_prefix(key, key.len())
}

/// [`known_id`] of the first `len` bytes of `text`.
const fn known_id_of_prefix(text: &str, len: usize) -> u8 {
    let mut i = 0;
    while i < KNOWN_KEYS.len() {
        let (a, b) = (KNOWN_KEYS[i].as_bytes(), text.as_bytes());
        if a.len() == len && len <= b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i as u8;
            }
        }
        i += 1;
    }
    KEY_UNKNOWN
}

/// What [`Entry::ip`] holds for a value under key `id`.
fn parsed_ip(id: u8, value: &ContextValue) -> Option<crate::pattern::IpValue> {
    match value {
        ContextValue::One(v) if IP_KEYS.contains(&id) => crate::pattern::IpValue::parse(v),
        _ => None,
    }
}

impl Entry {
    /// The entry of `key` with `value`.
    fn new(key: &str, value: ContextValue) -> Entry {
        let mut text = String::with_capacity(2 * key.len());
        crate::pattern::fold_into(&mut text, key);
        let split = text.len();
        if text != key {
            text.push_str(key);
        }
        let slot = key_slot(&text[..split]);
        Entry::with_text(std::borrow::Cow::Owned(text), split, slot, value)
    }

    /// The entry of a key `Request::new` fills in, with `value`.
    fn request_key(key: RequestKey, value: ContextValue) -> Entry {
        Entry::with_text(
            std::borrow::Cow::Borrowed(key.text),
            key.split,
            key.slot,
            value,
        )
    }

    /// The entry whose text (lower-cased key, then the key as given when it differs) is `text`,
    /// the lower-cased key ending at `split`, its [`key_slot`] `slot`.
    fn with_text(
        text: std::borrow::Cow<'static, str>,
        split: usize,
        slot: u8,
        value: ContextValue,
    ) -> Entry {
        Entry {
            ip: parsed_ip(slot, &value),
            short: short_value(&value),
            text,
            split,
            value,
            slot,
        }
    }

    /// Lower-cased key.
    #[inline]
    fn lc(&self) -> &str {
        self.text.get(..self.split).unwrap_or_default()
    }

    /// Key as given.
    fn key(&self) -> &str {
        match self.text.get(self.split..) {
            Some(k) if !k.is_empty() => k,
            _ => self.lc(),
        }
    }
}

/// Policy variables take their values from the context ([`Context::get_var`]).
impl<'c> crate::pattern::Resolve<'c> for &'c Context {
    #[inline]
    fn value(&self, v: &crate::pattern::Var) -> Option<&'c str> {
        self.get_var(v)
    }
}

/// The request context: case-insensitive keys, kept sorted for lookup without allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Sorted by the lower-cased key, keys unique.
    entries: Vec<Entry>,
    /// For each known key, 1 + the index of its entry; 0 when absent. Derived from `entries`.
    slots: [u8; SLOTS + BUCKETS],
}

impl Default for Context {
    fn default() -> Context {
        Context {
            entries: Vec::new(),
            slots: [0; SLOTS + BUCKETS],
        }
    }
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    fn reindex(&mut self) {
        self.slots = [0; SLOTS + BUCKETS];
        for (i, e) in self.entries.iter().enumerate() {
            let slot = e.slot as usize;
            if slot < SLOTS {
                // Past 254 entries a known key falls back to the search (slot 0 means "look").
                self.slots[slot] = u8::try_from(i + 1).unwrap_or(0);
            } else if let Some(b) = self.slots.get_mut(slot) {
                // A bucket: the entry's key, unless another key is there (or the index is past
                // what a byte holds): then the search.
                *b = match (*b, u8::try_from(i + 1)) {
                    (0, Ok(x)) if x != SHARED => x,
                    _ => SHARED,
                };
            }
        }
    }

    /// Set `key` (replacing any value under the same key, whatever its case).
    pub fn insert(&mut self, key: &str, value: ContextValue) {
        self.put(key, value, true);
    }

    /// Set `key` only when it is not there yet.
    pub fn insert_default(&mut self, key: &str, value: ContextValue) {
        self.put(key, value, false);
    }

    fn put(&mut self, key: &str, value: ContextValue, replace: bool) {
        if self.place(Entry::new(key, value), replace) {
            self.reindex();
        }
    }

    /// Put `e` in its place by key, replacing the entry of the same key when `replace`; whether
    /// a new key was added (the index is then to be rebuilt: [`Context::reindex`]).
    fn place(&mut self, e: Entry, replace: bool) -> bool {
        match self.entries.binary_search_by(|x| x.lc().cmp(e.lc())) {
            Ok(i) => {
                if replace {
                    self.entries[i] = e;
                }
                false
            }
            Err(i) => {
                self.entries.insert(i, e);
                true
            }
        }
    }

    /// The context of `pairs`, as inserting them in order ([`Context::insert`]) makes it: a
    /// later key replaces an earlier one that differs only in case. Indexed once, at the end.
    pub fn from_pairs<K: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, ContextValue)>,
    ) -> Context {
        let pairs = pairs.into_iter();
        let (low, high) = pairs.size_hint();
        let mut ctx = Context::new();
        // Room for the keys `Request::new` adds too: one allocation instead of three or four.
        ctx.entries
            .reserve_exact(high.unwrap_or(low).saturating_add(REQUEST_KEYS));
        for (k, v) in pairs {
            ctx.place(Entry::new(k.as_ref(), v), true);
        }
        ctx.reindex();
        ctx
    }

    /// [`Context::insert_default`] of each entry in turn, indexed once at the end.
    fn insert_defaults(&mut self, defaults: [Option<Entry>; REQUEST_KEYS]) {
        let mut added = false;
        for e in defaults.into_iter().flatten() {
            added |= self.place(e, false);
        }
        if added {
            self.reindex();
        }
    }

    pub fn remove(&mut self, key: &str) {
        let lc = fold(key);
        if let Ok(i) = self.entries.binary_search_by(|e| e.lc().cmp(&lc)) {
            self.entries.remove(i);
            self.reindex();
        }
    }

    /// Look up by lower-cased key and its [`key_slot`] (computed once, when a policy is
    /// compiled): a known key by its slot, another by its bucket.
    #[inline]
    pub fn get_by(&self, slot: u8, key_lc: &str) -> Option<&ContextValue> {
        self.entry_by(slot, key_lc).map(|e| &e.value)
    }

    /// The words of the single value of at most 16 bytes of the known key `slot`, lower-cased
    /// when `lower` ([`ShortValue`]); `None` when the key is not known, is absent, or its value
    /// is not that (several values, longer, or not ASCII and `lower`).
    #[inline(always)]
    pub(crate) fn short_at(&self, slot: u8, lower: bool) -> Option<&crate::pattern::Words> {
        // (Slot 0 past 254 entries, "look": the caller's general path.)
        self.slot_entry(slot)?.short.words(lower)
    }

    /// The value under `key_lc` (whose [`key_slot`] is `slot`) and, when it is one value of at
    /// most 16 bytes, its words ([`ShortValue`]).
    #[inline]
    pub(crate) fn lookup(
        &self,
        slot: u8,
        key_lc: &str,
    ) -> Option<(&ContextValue, Option<&ShortValue>)> {
        self.entry_by(slot, key_lc)
            .map(|e| (&e.value, Some(&e.short).filter(|s| s.raw.len <= 16)))
    }

    #[inline]
    fn entry_by(&self, slot: u8, key_lc: &str) -> Option<&Entry> {
        match self.slots.get(..SLOTS).and_then(|s| s.get(slot as usize)) {
            Some(&0) if self.entries.len() < u8::MAX as usize => None,
            Some(&i) if i != 0 => self.entries.get(i as usize - 1),
            _ => self.entry_other(slot, key_lc),
        }
    }

    /// [`Context::entry_by`] past the known keys: a bucket, or the search.
    #[inline(never)]
    fn entry_other(&self, slot: u8, key_lc: &str) -> Option<&Entry> {
        match self.slots.get(slot as usize) {
            Some(&0) if self.entries.len() < u8::MAX as usize => None,
            Some(&i) if i != 0 && i != SHARED && slot as usize >= SLOTS => {
                // The one key of the bucket: this key, or this key is absent.
                let e = self.entries.get(i as usize - 1)?;
                crate::pattern::same(e.lc().as_bytes(), key_lc.as_bytes()).then_some(e)
            }
            _ => self.entry(key_lc),
        }
    }

    /// The IP address `v` holds, when `v` is the single value of the global key `id` (which the
    /// context parsed once, when it was set): `None` when it is not, or is not an address.
    #[inline]
    pub fn ip_of(&self, id: u8, v: &str) -> Option<crate::pattern::IpValue> {
        let e = self.slot_entry(id)?;
        match &e.value {
            ContextValue::One(s) if std::ptr::eq(s.as_str(), v) => e.ip,
            _ => None,
        }
    }

    /// The address the single value of the global key `id` holds, parsed when it was set
    /// (`aws:SourceIp` and the other [`IP_KEYS`]): `None` when the key is absent, has several
    /// values, or is not an address.
    #[inline]
    pub fn ip_at(&self, id: u8) -> Option<crate::pattern::IpValue> {
        self.slot_entry(id)?.ip
    }

    /// The entry in the slot of the global key `id`, when it has one (`None` for a bucket).
    #[inline]
    fn slot_entry(&self, id: u8) -> Option<&Entry> {
        let slot = *self.slots.get(..SLOTS)?.get(id as usize)?;
        self.entries.get((slot as usize).checked_sub(1)?)
    }

    /// Look up by lower-cased key.
    pub fn get(&self, key_lc: &str) -> Option<&ContextValue> {
        self.entry(key_lc).map(|e| &e.value)
    }

    fn entry(&self, key_lc: &str) -> Option<&Entry> {
        if self.entries.len() <= 24 {
            // A request's context is small: a scan comparing lengths first beats the binary
            // search's string comparisons.
            let k = key_lc.as_bytes();
            return self
                .entries
                .iter()
                .find(|e| e.split == k.len() && e.lc().as_bytes() == k);
        }
        self.entries
            .binary_search_by(|e| e.lc().cmp(key_lc))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// A single-valued key's value (variables only take single values, §5).
    pub fn get_single(&self, key_lc: &str) -> Option<&str> {
        self.get(key_lc)?.single()
    }

    /// The value of the policy variable `v` (a single-valued key; a global key by its slot).
    #[inline]
    pub fn get_var(&self, v: &crate::pattern::Var) -> Option<&str> {
        self.get_by(v.id, &v.key_lc)?.single()
    }

    /// Entries as (key as given, value), in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|e| (e.key(), &e.value))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// How many keys `Request::new` fills in at most (the length of its array of them).
const REQUEST_KEYS: usize = 6;

/// A key `Request::new` fills in, as an [`Entry`] text: the lower-cased key, then the key as AWS
/// spells it when that differs; where the lower-cased key ends; its slot, found at compile time.
#[derive(Clone, Copy)]
struct RequestKey {
    text: &'static str,
    split: usize,
    slot: u8,
}

impl RequestKey {
    const fn new(text: &'static str, split: usize) -> RequestKey {
        let slot = known_id_of_prefix(text, split);
        assert!(
            slot != KEY_UNKNOWN,
            "a request key is missing from KNOWN_KEYS"
        );
        RequestKey { text, split, slot }
    }
}

const PRINCIPAL_ARN: RequestKey = RequestKey::new("aws:principalarnaws:PrincipalArn", 16);
const PRINCIPAL_ACCOUNT: RequestKey =
    RequestKey::new("aws:principalaccountaws:PrincipalAccount", 20);
const RESOURCE_ACCOUNT: RequestKey = RequestKey::new("aws:resourceaccountaws:ResourceAccount", 19);
const PRINCIPAL_TYPE: RequestKey = RequestKey::new("aws:principaltypeaws:PrincipalType", 17);
const PRINCIPAL_IS_AWS_SERVICE: RequestKey =
    RequestKey::new("aws:principalisawsserviceaws:PrincipalIsAWSService", 25);
const USERNAME: RequestKey = RequestKey::new("aws:username", 12);
const USERID: RequestKey = RequestKey::new("aws:userid", 10);
const PRINCIPAL_SERVICE_NAME: RequestKey =
    RequestKey::new("aws:principalservicenameaws:PrincipalServiceName", 24);

/// One request to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub principal: Principal,
    /// The action as given (`s3:GetObject`).
    pub action: String,
    /// The action lower-cased, for case-insensitive matching.
    pub action_lc: String,
    /// The resource ARN, or `*` for actions that take no resource.
    pub resource: String,
    /// The account owning the resource; `None` when neither given nor in the ARN.
    pub resource_account: Option<String>,
    pub context: Context,
}

impl Request {
    /// Build a request and fill in the context keys AWS sets from the principal and resource,
    /// unless the caller gave them (corpus/DECISIONS.md 8).
    pub fn new(
        principal: Principal,
        action: &str,
        resource: &str,
        resource_account: Option<String>,
        mut context: Context,
    ) -> Request {
        let resource_account = resource_account.or_else(|| {
            crate::pattern::split_arn(resource)
                .map(|p| p[4])
                .filter(|a| is_account_id(a))
                .map(str::to_string)
        });
        let one = |s: &str| ContextValue::One(s.to_string());
        let key = Entry::request_key;
        let who = match &principal {
            Principal::User { name, .. } => Some(key(USERNAME, one(name))),
            Principal::Root { account, .. } => Some(key(USERID, one(account))),
            Principal::FederatedUser { account, name, .. } => {
                Some(key(USERID, ContextValue::One(format!("{account}:{name}"))))
            }
            Principal::Service(s) => Some(key(PRINCIPAL_SERVICE_NAME, one(s))),
            _ => None,
        };
        context.insert_defaults([
            principal
                .principal_arn()
                .map(|arn| key(PRINCIPAL_ARN, ContextValue::One(arn))),
            principal
                .principal_account_key()
                .map(|a| key(PRINCIPAL_ACCOUNT, one(a))),
            resource_account
                .as_deref()
                .map(|a| key(RESOURCE_ACCOUNT, one(a))),
            Some(key(PRINCIPAL_TYPE, one(principal.principal_type()))),
            principal
                .is_aws_service_key()
                .map(|v| key(PRINCIPAL_IS_AWS_SERVICE, one(v))),
            who,
        ]);
        Request {
            action_lc: fold(action),
            action: action.to_string(),
            resource: resource.to_string(),
            principal,
            resource_account,
            context,
        }
    }

    /// The action's service prefix, lower-cased (`s3`).
    pub fn service(&self) -> &str {
        let b = self.action_lc.as_bytes();
        let end = b.iter().position(|&c| c == b':').unwrap_or(b.len());
        &self.action_lc[..end]
    }
}

/// The three outcomes of an authorization decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Decision {
    Allow,
    ImplicitDeny,
    ExplicitDeny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "Allow",
            Decision::ImplicitDeny => "ImplicitDeny",
            Decision::ExplicitDeny => "ExplicitDeny",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "Allow" => Some(Decision::Allow),
            "ImplicitDeny" => Some(Decision::ImplicitDeny),
            "ExplicitDeny" => Some(Decision::ExplicitDeny),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded xorshift: each call gives a number below its argument.
    fn xorshift(mut x: u64) -> impl FnMut(usize) -> usize {
        move |n| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        }
    }

    /// A known key is found through its slot as by its name: keys inserted in scrambled order,
    /// replaced, removed, and past the 254 entries a slot can address.
    #[test]
    fn known_keys_are_found_by_slot_as_by_name() {
        let mut ctx = Context::new();
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for round in 0..1200 {
            let key = match next(3) {
                0 => KNOWN_KEYS[next(KNOWN_KEYS.len())].to_uppercase(),
                1 => format!("svc:key{}", next(1000)),
                _ => format!("aws:PrincipalTag/t{}", next(50)),
            };
            if round % 97 == 0 {
                ctx.remove(&key);
            } else {
                // Short values (some upper-case, some not ASCII), long ones, several.
                let value = match round % 5 {
                    0 => ContextValue::One(format!("V{round}-Mixed")),
                    1 => ContextValue::One(format!("ü{round}")),
                    2 => ContextValue::One(format!("a value of more than sixteen bytes {round}")),
                    3 => ContextValue::Many(vec![format!("v{round}"), "w".into()]),
                    _ => ContextValue::One(format!("v{round}")),
                };
                ctx.insert(&key, value);
            }
            for k in KNOWN_KEYS {
                assert_eq!(ctx.get_by(key_slot(k), k), ctx.get(k), "{k} after {key}");
                // The words by slot are the entry's.
                let short = ctx.lookup(key_slot(k), k).and_then(|(_, s)| s);
                assert_eq!(
                    ctx.short_at(key_slot(k), false),
                    short.map(|s| &s.raw),
                    "{k}"
                );
                assert_eq!(
                    ctx.short_at(key_slot(k), true),
                    short.and_then(|s| s.words(true)),
                    "{k}"
                );
                if let Some(ContextValue::One(v)) = ctx.get(k) {
                    let short = v.len() <= 16;
                    let w = crate::pattern::Words::of(v.as_bytes());
                    assert_eq!(ctx.short_at(key_slot(k), false), short.then_some(&w), "{v}");
                    // Lower-cased words only for ASCII (a non-ASCII value folds elsewhere).
                    let lw = crate::pattern::Words::of(v.to_ascii_lowercase().as_bytes());
                    let want = (short && v.is_ascii()).then_some(&lw);
                    assert_eq!(ctx.short_at(key_slot(k), true), want, "{v}");
                }
            }
            // Other keys by their buckets: present, absent, sharing a bucket.
            for n in (0..1000).step_by(37).chain(0..50) {
                for k in [format!("svc:key{n}"), format!("aws:principaltag/t{n}")] {
                    assert_eq!(ctx.get_by(key_slot(&k), &k), ctx.get(&k), "{k} after {key}");
                }
            }
        }
        assert!(ctx.len() > 300, "{}", ctx.len());
    }

    /// `statements_for` gives, in order, exactly the statements of the effect whose `Action`
    /// could match an action of the service: `NotAction`, service wildcards and every statement
    /// naming the service, across several mask words (150 statements).
    #[test]
    fn statements_for_gives_the_statements_that_can_match_the_service() {
        let services = ["s3", "ec2", "dynamodb", "kms", "sts"];
        let mut sts = Vec::new();
        for i in 0..150usize {
            let effect = if i % 3 == 0 { "Deny" } else { "Allow" };
            let (s1, s2) = (services[i % 5], services[(i / 5) % 5]);
            let action = match i % 7 {
                0 => r#""NotAction": "s3:GetObject""#.to_string(),
                1 => r#""Action": "*""#.to_string(),
                2 => format!(r#""Action": ["{s1}:Get*", "{}*:Get*"]"#, &s2[..1]),
                3 => format!(r#""Action": ["{s1}:Get*", "{s2}:Put*"]"#),
                _ => format!(r#""Action": "{}:Describe*""#, s1.to_uppercase()),
            };
            sts.push(format!(
                r#"{{"Effect": "{effect}", {action}, "Resource": "*"}}"#
            ));
        }
        let doc = format!(
            r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#,
            sts.join(",")
        );
        let p = crate::parse::parse_policy(&doc, PolicyKind::Identity, "p").expect("policy");
        for svc in services.iter().chain(&["lambda", "S3"]) {
            let k = service_key(&fold(svc));
            for effect in [Effect::Allow, Effect::Deny] {
                let got: Vec<usize> = p.statements_for(k, effect).map(|(i, _)| i).collect();
                let want: Vec<usize> = p
                    .statements()
                    .iter()
                    .enumerate()
                    .filter(|(_, st)| {
                        let a = &st.action;
                        st.effect == effect
                            && (a.not || a.service_keys.is_empty() || a.service_keys.contains(&k))
                    })
                    .map(|(i, _)| i)
                    .collect();
                assert_eq!(got, want, "{svc} {effect:?}");
                // Both effects at once: the union, in statement order.
                let both: Vec<usize> = p.statements_of(k, true, true).map(|(i, _)| i).collect();
                let mut union: Vec<usize> = [Effect::Allow, Effect::Deny]
                    .iter()
                    .flat_map(|&e| p.statements_for(k, e).map(|(i, _)| i))
                    .collect();
                union.sort_unstable();
                assert_eq!(both, union, "{svc}");
                // The index only skips statements that cannot match.
                for (i, st) in p.statements().iter().enumerate() {
                    if st.effect == effect && !got.contains(&i) {
                        assert!(!st
                            .action
                            .patterns
                            .iter()
                            .any(|t| t.matches_plain(&format!("{}:getobject", fold(svc)))));
                    }
                }
            }
        }
    }

    /// The action index gives, for an action some statement names literally, exactly the
    /// statements (of both effects, in order) whose `Action`/`NotAction` match it, as the general
    /// glob finds them: literals, prefixes, `*`, `NotAction`, case, several mask words, and
    /// actions past 16 bytes whose first and last eight bytes are alike (they differ in the
    /// middle only). An action no statement names has no entry.
    #[test]
    fn action_index_gives_exactly_the_statements_an_action_matches() {
        let mids = ["ject", "jact", "jxct"];
        let mut sts = Vec::new();
        for i in 0..150usize {
            let effect = if i % 4 == 0 { "Deny" } else { "Allow" };
            let m = mids[(i / 9) % 3];
            let action = match i % 9 {
                0 => format!(r#""NotAction": "s3:getob{m}ttagging""#),
                1 => r#""Action": "*""#.to_string(),
                2 => r#""Action": ["s3:Get*", "ec2:DescribeInstances"]"#.to_string(),
                3 => format!(
                    r#""Action": ["S3:GETOB{}TTAGGING", "s3:PutObject"]"#,
                    m.to_uppercase()
                ),
                4 => r#""Action": ["s3:GetObject", "s3:*Object"]"#.to_string(),
                5 => r#""Action": "s3:get?bject""#.to_string(),
                6 => r#""NotAction": ["s3:*", "kms:Decrypt"]"#.to_string(),
                _ => format!(r#""Action": "dynamodb:BatchGetItem{i}""#),
            };
            sts.push(format!(
                r#"{{"Effect": "{effect}", {action}, "Resource": "*"}}"#
            ));
        }
        let doc = format!(
            r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#,
            sts.join(",")
        );
        let unlimited = crate::parse::ParseOptions { size_limits: false };
        let p = crate::parse::parse_policy_with(&doc, PolicyKind::Identity, "p", unlimited)
            .expect("policy");
        let texts = [
            "s3:getobject",
            "s3:getobjectttagging",
            "s3:getobjactttagging",
            "s3:getobjxctttagging",
            "s3:getobjyctttagging",
            "s3:getobjecttagging",
            "s3:putobject",
            "ec2:describeinstances",
            "kms:decrypt",
            "dynamodb:batchgetitem7",
            "dynamodb:batchgetitem8",
            "s3:listbucket",
            "sqs:sendmessage",
        ];
        let mut hits = 0;
        for text in texts {
            let w = crate::pattern::Words::of(text.as_bytes());
            let k = service_key(text.split(':').next().unwrap_or_default());
            let named = p.statements().iter().any(|st| {
                st.action
                    .patterns
                    .iter()
                    .any(|t| t.as_literal() == Some(text))
            });
            let Some(hit) = p.action_entry(text, &w) else {
                assert!(!named, "{text}: named, but no entry");
                continue;
            };
            assert!(named, "{text}: an entry, but not named");
            hits += 1;
            for (deny, allow) in [(true, true), (true, false), (false, true)] {
                let got: Vec<usize> = p
                    .statements_of_in(k, Some(hit), deny, allow)
                    .map(|(i, _)| i)
                    .collect();
                let want: Vec<usize> = p
                    .statements()
                    .iter()
                    .enumerate()
                    .filter(|(_, st)| {
                        if st.effect == Effect::Deny {
                            deny
                        } else {
                            allow
                        }
                    })
                    .filter(|(_, st)| {
                        st.action.patterns.iter().any(|t| t.matches_plain(text)) != st.action.not
                    })
                    .map(|(i, _)| i)
                    .collect();
                assert_eq!(got, want, "{text} deny={deny} allow={allow}");
            }
        }
        assert_eq!(hits, 9, "the named actions each have an entry");
    }

    /// The action index is built when a decision first asks, and takes no part in equality:
    /// a policy that has decided equals its twin (parsed again) that has not; clones share the
    /// statements and the index, so a clone made before the first decision has it built too.
    #[test]
    fn the_action_index_is_built_on_demand_and_not_compared() {
        let doc = r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]}"#;
        let p = crate::parse::parse_policy(doc, PolicyKind::Identity, "p").expect("policy");
        let twin = crate::parse::parse_policy(doc, PolicyKind::Identity, "p").expect("policy");
        let early = p.clone();
        assert!(format!("{:?}", p.body.actions).contains("not yet"));
        let w = crate::pattern::Words::of(b"s3:putobject");
        let hit = p.action_entry("s3:putobject", &w).expect("named");
        let got: Vec<usize> = p
            .statements_of_in(service_key("s3"), Some(hit), true, true)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(got, [0, 1]);
        assert!(format!("{:?}", p.body.actions).contains("built"));
        assert!(format!("{:?}", early.body.actions).contains("built"));
        assert!(format!("{:?}", twin.body.actions).contains("not yet"));
        assert_eq!(p, twin);
        let copy = p.clone();
        assert_eq!(
            copy.action_entry("s3:putobject", &w).map(|h| h.0),
            Some(hit.0)
        );
        assert!(p
            .action_entry(
                "s3:deleteobject",
                &crate::pattern::Words::of(b"s3:deleteobject")
            )
            .is_none());
    }

    #[test]
    fn known_keys_are_sorted_lower_case_and_found() {
        assert!(KNOWN_KEYS.windows(2).all(|w| w[0] < w[1]));
        assert!(KNOWN_KEYS.len() < KEY_UNKNOWN as usize);
        for (i, k) in KNOWN_KEYS.iter().enumerate() {
            assert_eq!(*k, fold(k));
            assert_eq!(key_id(k), i as u8, "{k}");
        }
        assert_eq!(key_id("aws:principaltag/team"), KEY_UNKNOWN);
        // Near misses of every known key: shorter, longer, one byte changed.
        for k in KNOWN_KEYS {
            let near = [
                k[..k.len() - 1].to_string(),
                format!("{k}x"),
                format!("{}_", &k[..k.len() - 1]),
            ];
            for m in near.iter().filter(|m| !KNOWN_KEYS.contains(&m.as_str())) {
                assert_eq!(key_id(m), KEY_UNKNOWN, "{m}");
            }
        }
        assert_eq!(key_id("aws:"), KEY_UNKNOWN);
        assert_eq!(key_id("s3:prefix"), KEY_UNKNOWN);
    }

    /// `Context::from_pairs` builds what inserting the pairs one by one builds (the last of two
    /// keys that differ in case wins, with its spelling), and the keys `Request::new` fills in
    /// are what `insert_default` of each would give: a key the caller set, in any case, stays.
    #[test]
    fn bulk_context_building_equals_inserting_one_by_one() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for round in 0..300 {
            let n = [0, 1, 5, 30, 300][round % 5];
            let pairs: Vec<(String, ContextValue)> = (0..n)
                .map(|i| {
                    let key = match next(4) {
                        0 => KNOWN_KEYS[next(KNOWN_KEYS.len())].to_uppercase(),
                        1 => KNOWN_KEYS[next(KNOWN_KEYS.len())].to_string(),
                        2 => format!("svc:Key{}", next(40)),
                        _ => format!("aws:PrincipalTag/T{}", next(20)),
                    };
                    (key, ContextValue::One(format!("v{round}-{i}")))
                })
                .collect();
            let mut one_by_one = Context::new();
            for (k, v) in &pairs {
                one_by_one.insert(k, v.clone());
            }
            let bulk = Context::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.clone())));
            assert_eq!(bulk, one_by_one, "round {round}");
            let keys: Vec<&str> = bulk.iter().map(|(k, _)| k).collect();
            let want: Vec<&str> = one_by_one.iter().map(|(k, _)| k).collect();
            assert_eq!(keys, want, "round {round}: spellings");

            // The request's defaults, against insert_default one by one.
            let p = match round % 4 {
                0 => "arn:aws:iam::111122223333:user/alice",
                1 => "arn:aws:iam::111122223333:root",
                2 => "arn:aws:sts::111122223333:federated-user/bob",
                _ => "s3.amazonaws.com",
            };
            let principal = Principal::parse(p).unwrap();
            let resource = "arn:aws:s3:::b/k";
            let req = Request::new(
                principal.clone(),
                "s3:GetObject",
                resource,
                Some("444455556666".into()),
                bulk.clone(),
            );
            let mut want = bulk.clone();
            let one = |s: &str| ContextValue::One(s.to_string());
            if let Some(arn) = principal.principal_arn() {
                want.insert_default("aws:PrincipalArn", ContextValue::One(arn));
            }
            if let Some(a) = principal.account() {
                want.insert_default("aws:PrincipalAccount", one(a));
            }
            want.insert_default("aws:ResourceAccount", one("444455556666"));
            want.insert_default("aws:PrincipalType", one(principal.principal_type()));
            let service = matches!(principal, Principal::Service(_));
            want.insert_default(
                "aws:PrincipalIsAWSService",
                one(if service { "true" } else { "false" }),
            );
            match &principal {
                Principal::User { name, .. } => want.insert_default("aws:username", one(name)),
                Principal::Root { account, .. } => want.insert_default("aws:userid", one(account)),
                Principal::FederatedUser { account, name, .. } => {
                    want.insert_default("aws:userid", one(&format!("{account}:{name}")))
                }
                Principal::Service(s) => want.insert_default("aws:PrincipalServiceName", one(s)),
                _ => {}
            }
            assert_eq!(req.context, want, "round {round}: {p}");
            let keys: Vec<&str> = req.context.iter().map(|(k, _)| k).collect();
            let want_keys: Vec<&str> = want.iter().map(|(k, _)| k).collect();
            assert_eq!(keys, want_keys, "round {round}: spellings");
        }
    }

    /// The constant texts of the keys `Request::new` fills in are entry texts (the lower-cased
    /// key, then the key as spelled when folding changes it), and their slots the entry's.
    #[test]
    fn the_request_keys_texts_are_entry_texts() {
        for RequestKey { text, split, slot } in [
            PRINCIPAL_ARN,
            PRINCIPAL_ACCOUNT,
            RESOURCE_ACCOUNT,
            PRINCIPAL_TYPE,
            PRINCIPAL_IS_AWS_SERVICE,
            USERNAME,
            USERID,
            PRINCIPAL_SERVICE_NAME,
        ] {
            let key = if split == text.len() {
                text
            } else {
                &text[split..]
            };
            let e = Entry::new(key, ContextValue::One(String::new()));
            assert_eq!((&*e.text, e.split, e.slot), (text, split, slot));
            assert_ne!(key_id(&text[..split]), KEY_UNKNOWN, "{text}");
        }
    }

    #[test]
    fn slot_lookup_agrees_with_the_search() {
        // Small and large contexts (past 255 entries the slots give way to the search), keys
        // inserted in mixed case, replaced and removed.
        for extra in [0usize, 40, 300] {
            let mut ctx = Context::new();
            for i in 0..extra {
                ctx.insert(&format!("svc:Key{i:03}"), ContextValue::One(i.to_string()));
            }
            for (i, k) in KNOWN_KEYS.iter().enumerate().filter(|(i, _)| i % 3 != 0) {
                ctx.insert(&k.to_ascii_uppercase(), ContextValue::One(format!("v{i}")));
            }
            ctx.insert_default("AWS:SourceIp", ContextValue::One("ignored".into()));
            ctx.insert("aws:sourceip", ContextValue::One("10.0.0.1".into()));
            ctx.remove("Aws:UserId");
            for k in KNOWN_KEYS {
                assert_eq!(ctx.get_by(key_slot(k), k), ctx.get(k), "{extra} {k}");
            }
            // Keys outside KNOWN_KEYS go to buckets: alone in one, sharing one, absent from an
            // occupied one, absent from an empty one.
            let others: Vec<String> = (0..200).map(|i| format!("svc:key{i:03}")).collect();
            let mut seen = std::collections::HashMap::new();
            for k in &others {
                *seen.entry(key_slot(k)).or_insert(0) += 1;
            }
            assert!(seen.values().any(|&n| n > 1) && seen.len() > 32, "{seen:?}");
            for k in others
                .iter()
                .chain(&["svc:absent".to_string(), "x".to_string()])
            {
                assert!(key_slot(k) as usize >= SLOTS, "{k}");
                assert_eq!(ctx.get_by(key_slot(k), k), ctx.get(k), "{extra} {k}");
            }
            let ip = ctx.get_by(key_id("aws:sourceip"), "aws:sourceip");
            assert_eq!(ip, Some(&ContextValue::One("10.0.0.1".into())));
            assert_eq!(ctx.get_by(key_id("aws:userid"), "aws:userid"), None);
            assert!(ctx
                .get_by(key_id("aws:calledvia"), "aws:calledvia")
                .is_none());
            assert!(ctx
                .get_by(key_id("aws:calledviafirst"), "aws:calledviafirst")
                .is_some());
        }
    }
}
