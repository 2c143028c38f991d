//! Generators: random policies, policy sets, requests and estates for property tests and fuzzing.
//!
//! Universe first (STYLE.md, Generators): a small fixed world of accounts (in the organization
//! `o-a1b2c3d4e5`, in another organization, in none), OUs, principals of every kind, actions of
//! several services with the resources they take, and context keys of every type. Policies are
//! drawn from that world (wildcards made by truncating real names, variables that real requests
//! resolve), and a request is drawn first so that the policies of its case can lean towards it:
//! a random request then hits a random policy often, instead of almost never.
//!
//! Everything is generated as policy *text* ([`GenPolicy`], [`GenCase`]) and read with
//! [`parse_policy`], so the parser is exercised too and a failing case prints as a case line of
//! `xverify eval` (interfaces.md §2) that reproduces it: the `Debug` of [`GenCase`] is
//! [`GenCase::to_case_line`].
//!
//! Estates (interfaces.md §3) come from the same universe: an organization tree with SCP and RCP
//! attachments at every level, described accounts with roles, users, groups and resources, and a
//! request against them ([`GenEstateCase`], built into [`Estate`] and [`EstateRequest`]). Its
//! `Debug` prints the spec and the `xverify eval --spec` request line that reproduce it.
//!
//! proptest strategies: [`case`], [`request`], [`policy`], [`statement`], [`pattern_and_text`];
//! [`estate_case`], [`estate_request`], [`estate`], [`organization`].
//! cargo-fuzz: [`FuzzCase`], [`FuzzEstate`], [`FuzzPolicy`], [`FuzzPattern`] implement
//! [`arbitrary::Arbitrary`] by drawing from the same strategies with an RNG seeded from the
//! fuzzer's bytes.
//!
//! Enabled by the `generate` feature.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::strategy::{BoxedStrategy, Just, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::estate::{
    Account, Estate, EstateRequest, GroupDef, OrgUnit, Organization, ResourceDef, RoleDef, UserDef,
};
use crate::eval::{is_trust_request, PolicySet};
use crate::json::write_str;
use crate::model::*;
use crate::parse::parse_policy;

// ---------------------------------------------------------------------------------------------
// Settings

/// How big and how varied generated inputs are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Statements per policy (at least one is always generated).
    pub max_statements: usize,
    /// Conditions per statement.
    pub max_conditions: usize,
    /// Values per condition.
    pub max_values: usize,
    /// Entries per `Action`, `Resource` and `Principal` list.
    pub max_list: usize,
    /// Identity policies per case.
    pub max_identity_policies: usize,
    /// Policies per SCP or RCP level (besides `FullAWSAccess`).
    pub max_policies_per_level: usize,
    /// Random context keys per request (besides those that follow from the principal).
    pub max_context_keys: usize,
    /// Policy variables in resources and condition values.
    pub variables: bool,
    /// `NotAction`, `NotResource`, `NotPrincipal`.
    pub not_elements: bool,
    /// Operators applied to keys of another type (`NumericEquals` on a string key ...).
    pub type_mismatches: bool,
    /// Percent chance that an element is derived from the request the case decides.
    pub hit_rate: u32,
}

impl Settings {
    /// Small inputs: fast, and what shrinking aims for.
    pub const SMALL: Settings = Settings {
        max_statements: 2,
        max_conditions: 1,
        max_values: 2,
        max_list: 2,
        max_identity_policies: 1,
        max_policies_per_level: 1,
        max_context_keys: 2,
        variables: true,
        not_elements: true,
        type_mismatches: false,
        hit_rate: 70,
    };
    /// The invariant suite's default.
    pub const DEFAULT: Settings = Settings {
        max_statements: 4,
        max_conditions: 2,
        max_values: 3,
        max_list: 3,
        max_identity_policies: 2,
        max_policies_per_level: 2,
        max_context_keys: 4,
        variables: true,
        not_elements: true,
        type_mismatches: true,
        hit_rate: 60,
    };
    /// Estates hold dozens of policies: smaller ones keep them fast to generate and readable
    /// when shrunk (the case invariants cover the policy language itself).
    pub const ESTATE: Settings = Settings {
        max_statements: 3,
        max_conditions: 1,
        max_values: 2,
        max_list: 2,
        ..Settings::DEFAULT
    };
    /// Larger inputs, for fuzzing and deep runs.
    pub const DEEP: Settings = Settings {
        max_statements: 6,
        max_conditions: 4,
        max_values: 4,
        max_list: 4,
        max_identity_policies: 3,
        max_policies_per_level: 3,
        max_context_keys: 8,
        variables: true,
        not_elements: true,
        type_mismatches: true,
        hit_rate: 50,
    };
}

impl Default for Settings {
    fn default() -> Self {
        Settings::DEFAULT
    }
}

// ---------------------------------------------------------------------------------------------
// The universe

/// Our organization.
pub const ORG_ID: &str = "o-a1b2c3d4e5";
/// Somebody else's organization.
pub const OTHER_ORG_ID: &str = "o-zz9y8x7w6v";

/// One account of the universe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountDef {
    pub id: &'static str,
    /// The organization it belongs to.
    pub org: Option<&'static str>,
    /// The organization's root ID.
    pub root: Option<&'static str>,
    /// OUs from the root down to the account's parent.
    pub ous: &'static [&'static str],
    /// The organization's management account (SCPs and RCPs do not apply).
    pub management: bool,
}

impl AccountDef {
    /// `aws:PrincipalOrgPaths`-style path of the account's parent: `o-.../r-.../ou-.../`.
    pub fn org_path(&self) -> Option<String> {
        let (org, root) = (self.org?, self.root?);
        let mut p = format!("{org}/{root}/");
        for ou in self.ous {
            p.push_str(ou);
            p.push('/');
        }
        Some(p)
    }

    /// Number of SCP/RCP levels (root, each OU, the account) when they apply.
    pub fn policy_levels(&self) -> usize {
        if self.org.is_some() && !self.management {
            self.ous.len() + 2
        } else {
            0
        }
    }
}

/// The accounts: management and two members of our organization, one of another, one in none.
pub const ACCOUNTS: &[AccountDef] = &[
    AccountDef {
        id: "111111111111",
        org: Some(ORG_ID),
        root: Some("r-a1b2"),
        ous: &[],
        management: true,
    },
    AccountDef {
        id: "222222222222",
        org: Some(ORG_ID),
        root: Some("r-a1b2"),
        ous: &["ou-a1b2-prod0001"],
        management: false,
    },
    AccountDef {
        id: "333333333333",
        org: Some(ORG_ID),
        root: Some("r-a1b2"),
        ous: &["ou-a1b2-dev00001", "ou-a1b2-team0001"],
        management: false,
    },
    AccountDef {
        id: "444444444444",
        org: Some(OTHER_ORG_ID),
        root: Some("r-zz99"),
        ous: &["ou-zz99-apps0001"],
        management: false,
    },
    AccountDef {
        id: "555555555555",
        org: None,
        root: None,
        ous: &[],
        management: false,
    },
];

/// Look up an account of the universe.
pub fn account(id: &str) -> Option<&'static AccountDef> {
    ACCOUNTS.iter().find(|a| a.id == id)
}

/// What kind of resource an action takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResKind {
    Bucket,
    Object,
    Table,
    Key,
    Role,
    User,
    Instance,
    Queue,
    /// The action takes no resource (`*`).
    Star,
}

/// Actions of the universe and the resource each takes.
pub const ACTIONS: &[(&str, ResKind)] = &[
    ("s3:GetObject", ResKind::Object),
    ("s3:GetObjectVersion", ResKind::Object),
    ("s3:PutObject", ResKind::Object),
    ("s3:ListBucket", ResKind::Bucket),
    ("s3:DeleteBucket", ResKind::Bucket),
    ("s3:ListAllMyBuckets", ResKind::Star),
    ("dynamodb:GetItem", ResKind::Table),
    ("dynamodb:PutItem", ResKind::Table),
    ("dynamodb:Query", ResKind::Table),
    ("dynamodb:DescribeTable", ResKind::Table),
    ("kms:Decrypt", ResKind::Key),
    ("kms:Encrypt", ResKind::Key),
    ("kms:GenerateDataKey", ResKind::Key),
    ("kms:RetireGrant", ResKind::Key),
    ("kms:ListKeys", ResKind::Star),
    ("kms:CreateAlias", ResKind::Key),
    ("sts:AssumeRole", ResKind::Role),
    ("sts:TagSession", ResKind::Role),
    ("sts:SetSourceIdentity", ResKind::Role),
    ("sts:GetCallerIdentity", ResKind::Star),
    ("sts:GetFederationToken", ResKind::Star),
    ("sts:GetSessionToken", ResKind::Star),
    ("iam:PassRole", ResKind::Role),
    ("iam:GetUser", ResKind::User),
    ("iam:CreateUser", ResKind::User),
    ("iam:ListRoles", ResKind::Star),
    ("ec2:DescribeInstances", ResKind::Star),
    ("ec2:RunInstances", ResKind::Instance),
    ("ec2:TerminateInstances", ResKind::Instance),
    ("sqs:SendMessage", ResKind::Queue),
    ("sqs:ReceiveMessage", ResKind::Queue),
    ("sqs:DeleteQueue", ResKind::Queue),
];

/// The resources of `kind` owned by account `a`.
pub fn resources_of(a: &str, kind: ResKind) -> Vec<String> {
    match kind {
        ResKind::Bucket => vec![
            format!("arn:aws:s3:::data-{a}"),
            format!("arn:aws:s3:::logs-{a}"),
        ],
        ResKind::Object => vec![
            format!("arn:aws:s3:::data-{a}/reports/q1.csv"),
            format!("arn:aws:s3:::data-{a}/home/alice/notes.txt"),
            format!("arn:aws:s3:::logs-{a}/AWSLogs/{a}/trail.log"),
        ],
        ResKind::Table => vec![
            format!("arn:aws:dynamodb:us-east-1:{a}:table/Orders"),
            format!("arn:aws:dynamodb:eu-west-1:{a}:table/Orders/index/ByDate"),
        ],
        // A key, and an alias (governed by IAM policies alone, not by a key policy).
        ResKind::Key => vec![
            format!("arn:aws:kms:us-east-1:{a}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
            format!("arn:aws:kms:us-east-1:{a}:alias/app-key"),
        ],
        ResKind::Role => vec![
            format!("arn:aws:iam::{a}:role/Admin"),
            format!("arn:aws:iam::{a}:role/service/DataRole"),
        ],
        ResKind::User => vec![
            format!("arn:aws:iam::{a}:user/alice"),
            format!("arn:aws:iam::{a}:user/dev/bob"),
        ],
        ResKind::Instance => vec![format!("arn:aws:ec2:us-east-1:{a}:instance/i-0abc1234")],
        ResKind::Queue => vec![format!("arn:aws:sqs:us-east-1:{a}:jobs")],
        ResKind::Star => vec!["*".to_string()],
    }
}

const ALL_KINDS: [ResKind; 8] = [
    ResKind::Bucket,
    ResKind::Object,
    ResKind::Table,
    ResKind::Key,
    ResKind::Role,
    ResKind::User,
    ResKind::Instance,
    ResKind::Queue,
];

/// The principals of account `a`: root, users, roles (one service-linked), sessions, a federated
/// user.
pub fn principals_of(a: &str) -> Vec<String> {
    vec![
        format!("arn:aws:iam::{a}:root"),
        format!("arn:aws:iam::{a}:user/alice"),
        format!("arn:aws:iam::{a}:user/dev/bob"),
        format!("arn:aws:iam::{a}:role/Admin"),
        format!("arn:aws:iam::{a}:role/service/DataRole"),
        format!(
            "arn:aws:iam::{a}:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport"
        ),
        format!("arn:aws:sts::{a}:assumed-role/Admin/s1"),
        format!("arn:aws:sts::{a}:assumed-role/Admin/s2"),
        format!("arn:aws:sts::{a}:assumed-role/DataRole/etl"),
        format!("arn:aws:sts::{a}:assumed-role/AWSServiceRoleForSupport/support"),
        format!("arn:aws:sts::{a}:federated-user/fed"),
    ]
}

/// Callers with no account: anonymous and AWS service principals.
pub const OTHER_PRINCIPALS: &[&str] = &[
    "anonymous",
    "cloudtrail.amazonaws.com",
    "lambda.amazonaws.com",
];

/// Service principals that policies name.
pub const SERVICES: &[&str] = &[
    "cloudtrail.amazonaws.com",
    "lambda.amazonaws.com",
    "ec2.amazonaws.com",
];

/// The type of a context key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    Str,
    /// Multivalued strings (`aws:TagKeys`).
    MultiStr,
    Num,
    Date,
    Bool,
    Ip,
    Arn,
    Binary,
}

/// One context key of the universe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDef {
    pub name: &'static str,
    pub ty: KeyType,
    /// Request values (some deliberately malformed for the type).
    pub values: Vec<String>,
    /// Set from the principal or the resource, never drawn at random for a request.
    pub derived: bool,
}

/// The generated world: principals, resources and keys, built once.
#[derive(Debug)]
pub struct Universe {
    /// Every request principal: the accounts' principals, then anonymous and services.
    pub principals: Vec<String>,
    /// Every resource of every account, with its owner.
    pub resources: Vec<(String, &'static str)>,
    pub keys: Vec<KeyDef>,
}

/// The universe.
pub fn universe() -> &'static Universe {
    static U: OnceLock<Universe> = OnceLock::new();
    U.get_or_init(build_universe)
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn build_universe() -> Universe {
    let mut principals = Vec::new();
    let mut resources = Vec::new();
    for a in ACCOUNTS {
        principals.extend(principals_of(a.id));
        for k in ALL_KINDS {
            for r in resources_of(a.id, k) {
                resources.push((r, a.id));
            }
        }
    }
    principals.extend(strings(OTHER_PRINCIPALS));
    let arns: Vec<String> = resources
        .iter()
        .map(|(r, _)| r.clone())
        .chain(
            ACCOUNTS
                .iter()
                .map(|a| format!("arn:aws:cloudtrail:us-east-1:{}:trail/main", a.id)),
        )
        .chain(["not-an-arn".to_string()])
        .collect();
    let accounts: Vec<String> = ACCOUNTS.iter().map(|a| a.id.to_string()).collect();
    let k = |name, ty, values: Vec<String>, derived| KeyDef {
        name,
        ty,
        values,
        derived,
    };
    let keys = vec![
        k(
            "aws:PrincipalOrgID",
            KeyType::Str,
            strings(&[ORG_ID, OTHER_ORG_ID]),
            true,
        ),
        k(
            "aws:PrincipalOrgPaths",
            KeyType::MultiStr,
            ACCOUNTS.iter().filter_map(AccountDef::org_path).collect(),
            true,
        ),
        k(
            "aws:ResourceOrgID",
            KeyType::Str,
            strings(&[ORG_ID, OTHER_ORG_ID]),
            true,
        ),
        k("aws:PrincipalAccount", KeyType::Str, accounts.clone(), true),
        k("aws:ResourceAccount", KeyType::Str, accounts.clone(), true),
        k(
            "aws:PrincipalArn",
            KeyType::Arn,
            principals_of("222222222222"),
            true,
        ),
        k(
            "aws:username",
            KeyType::Str,
            strings(&["alice", "bob"]),
            true,
        ),
        k(
            "aws:PrincipalType",
            KeyType::Str,
            strings(&[
                "User",
                "AssumedRole",
                "Account",
                "FederatedUser",
                "Anonymous",
                "Service",
            ]),
            true,
        ),
        k(
            "aws:PrincipalIsAWSService",
            KeyType::Bool,
            strings(&["true", "false"]),
            true,
        ),
        k(
            "aws:PrincipalTag/team",
            KeyType::Str,
            strings(&["red", "blue", "Red"]),
            false,
        ),
        k(
            "aws:RequestTag/env",
            KeyType::Str,
            strings(&["prod", "dev", "PROD"]),
            false,
        ),
        k(
            "aws:ResourceTag/env",
            KeyType::Str,
            strings(&["prod", "dev"]),
            false,
        ),
        k(
            "sts:ExternalId",
            KeyType::Str,
            strings(&["ext-123", "ext-456"]),
            false,
        ),
        k(
            "s3:prefix",
            KeyType::Str,
            strings(&["home/alice/", "reports/", "home/*/"]),
            false,
        ),
        k("aws:SourceAccount", KeyType::Str, accounts, false),
        k(
            "aws:SourceVpce",
            KeyType::Str,
            strings(&["vpce-1a2b3c4d", "vpce-9z8y7x6w"]),
            false,
        ),
        k(
            "aws:TagKeys",
            KeyType::MultiStr,
            strings(&["team", "env", "Team", "cost-center"]),
            false,
        ),
        k(
            "aws:CalledVia",
            KeyType::MultiStr,
            strings(&["cloudformation.amazonaws.com", "athena.amazonaws.com"]),
            false,
        ),
        k(
            "aws:MultiFactorAuthAge",
            KeyType::Num,
            strings(&["300", "3600", "86400", "3600.5", "abc"]),
            false,
        ),
        k(
            "s3:max-keys",
            KeyType::Num,
            strings(&["10", "1000", "-1"]),
            false,
        ),
        k(
            "aws:CurrentTime",
            KeyType::Date,
            strings(&[
                "2024-06-01T12:00:00Z",
                "2023-12-31T23:59:59Z",
                "2025-01-01",
                "1717243200",
                "not-a-date",
            ]),
            false,
        ),
        k(
            "aws:TokenIssueTime",
            KeyType::Date,
            strings(&["2024-06-01T11:00:00Z", "2024-06-01T12:00:00+01:00"]),
            false,
        ),
        k(
            "aws:SecureTransport",
            KeyType::Bool,
            strings(&["true", "false", "TRUE"]),
            false,
        ),
        k(
            "aws:MultiFactorAuthPresent",
            KeyType::Bool,
            strings(&["true", "false", "maybe"]),
            false,
        ),
        k(
            "aws:ViaAWSService",
            KeyType::Bool,
            strings(&["true", "false"]),
            false,
        ),
        k(
            "aws:SourceIp",
            KeyType::Ip,
            strings(&["203.0.113.5", "10.1.2.3", "2001:db8::1", "192.0.2.300"]),
            false,
        ),
        k("aws:SourceArn", KeyType::Arn, arns, false),
        k(
            "kms:EncryptionContext:blob",
            KeyType::Binary,
            strings(&["aGk=", "aGVsbG8=", "AAEC", "not base64!"]),
            false,
        ),
    ];
    Universe {
        principals,
        resources,
        keys,
    }
}

/// Policy-side values for each family.
const NUMBERS: &[&str] = &["0", "10", "300", "3600", "86400", "3600.5", "-1", "1e3"];
const DATES: &[&str] = &[
    "2024-06-01T12:00:00Z",
    "2024-01-01",
    "2025-01-01T00:00:00Z",
    "1717243200",
    "2024-06-01T13:00:00+01:00",
];
const CIDRS: &[&str] = &[
    "203.0.113.0/24",
    "10.0.0.0/8",
    "10.1.2.3",
    "2001:db8::/32",
    "0.0.0.0/0",
    "192.0.2.0/24",
];
const BASE64: &[&str] = &["aGk=", "aGk", "aGVsbG8=", "AAEC"];
/// String condition values holding policy variables (and escapes).
const VARIABLE_VALUES: &[&str] = &[
    "${aws:username}",
    "${aws:PrincipalTag/team}",
    "${aws:PrincipalTag/team, 'red'}",
    "${aws:PrincipalAccount}",
    "home/${aws:username}/",
    "${aws:RequestTag/env}",
    "${aws:principaltag/TEAM}",
    "${*}",
    "home/${*}/",
];

// ---------------------------------------------------------------------------------------------
// Generated policies (as text)

/// A condition value as written in JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenValue {
    Str(String),
    /// A JSON number (its text).
    Num(String),
    Bool(bool),
}

impl GenValue {
    /// The value as text, as the parser reads it.
    pub fn text(&self) -> String {
        match self {
            GenValue::Str(s) | GenValue::Num(s) => s.clone(),
            GenValue::Bool(b) => b.to_string(),
        }
    }
}

/// One condition: operator name, key and values, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenCondition {
    pub op: String,
    pub key: String,
    pub values: Vec<GenValue>,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenList {
    pub not: bool,
    pub items: Vec<String>,
}

/// `Principal`/`NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenPrincipal {
    pub not: bool,
    /// Written as the bare string `"*"`.
    pub star: bool,
    pub aws: Vec<String>,
    pub service: Vec<String>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenStatement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<GenPrincipal>,
    pub action: GenList,
    pub resource: Option<GenList>,
    pub conditions: Vec<GenCondition>,
}

/// A policy document of a given kind.
#[derive(Clone, PartialEq, Eq)]
pub struct GenPolicy {
    pub kind: PolicyKind,
    /// `None`: no `Version` element.
    pub version: Option<Version>,
    pub id: Option<String>,
    pub statements: Vec<GenStatement>,
}

/// How to write lists: the shapes AWS accepts for the same meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// One-element lists as a bare string, one statement as an object, `{"AWS": "*"}` as `"*"`.
    pub scalars: bool,
    /// Write every principal `"*"` as `{"AWS": ["*"]}`.
    pub expand_star: bool,
}

fn write_list(o: &mut String, items: &[String], style: Style) {
    if style.scalars && items.len() == 1 {
        write_str(o, &items[0]);
        return;
    }
    o.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        write_str(o, s);
    }
    o.push(']');
}

impl GenStatement {
    /// The statement as JSON.
    pub fn to_json(&self, style: Style) -> String {
        let mut o = String::new();
        self.write(&mut o, style);
        o
    }

    fn write(&self, o: &mut String, style: Style) {
        o.push('{');
        if let Some(sid) = &self.sid {
            o.push_str("\"Sid\":");
            write_str(o, sid);
            o.push(',');
        }
        o.push_str("\"Effect\":");
        write_str(o, self.effect.as_str());
        if let Some(p) = &self.principal {
            o.push_str(if p.not {
                ",\"NotPrincipal\":"
            } else {
                ",\"Principal\":"
            });
            if p.star && !style.expand_star {
                o.push_str("\"*\"");
            } else {
                o.push('{');
                let mut first = true;
                let aws: Vec<String> = if p.star {
                    vec!["*".to_string()]
                } else {
                    p.aws.clone()
                };
                for (name, items) in [("AWS", &aws), ("Service", &p.service)] {
                    if items.is_empty() {
                        continue;
                    }
                    if !first {
                        o.push(',');
                    }
                    first = false;
                    write_str(o, name);
                    o.push(':');
                    write_list(o, items, style);
                }
                o.push('}');
            }
        }
        o.push_str(if self.action.not {
            ",\"NotAction\":"
        } else {
            ",\"Action\":"
        });
        write_list(o, &self.action.items, style);
        if let Some(r) = &self.resource {
            o.push_str(if r.not {
                ",\"NotResource\":"
            } else {
                ",\"Resource\":"
            });
            write_list(o, &r.items, style);
        }
        if !self.conditions.is_empty() {
            o.push_str(",\"Condition\":{");
            let mut ops: Vec<&str> = Vec::new();
            for c in &self.conditions {
                if !ops.contains(&c.op.as_str()) {
                    ops.push(&c.op);
                }
            }
            for (i, op) in ops.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                write_str(o, op);
                o.push_str(":{");
                for (j, c) in self.conditions.iter().filter(|c| c.op == *op).enumerate() {
                    if j > 0 {
                        o.push(',');
                    }
                    write_str(o, &c.key);
                    o.push(':');
                    let one = style.scalars && c.values.len() == 1;
                    if !one {
                        o.push('[');
                    }
                    for (k, v) in c.values.iter().enumerate() {
                        if k > 0 {
                            o.push(',');
                        }
                        match v {
                            GenValue::Str(s) => write_str(o, s),
                            GenValue::Num(n) => o.push_str(n),
                            GenValue::Bool(b) => o.push_str(if *b { "true" } else { "false" }),
                        }
                    }
                    if !one {
                        o.push(']');
                    }
                }
                o.push('}');
            }
            o.push('}');
        }
        o.push('}');
    }
}

impl GenPolicy {
    /// The policy as JSON.
    pub fn to_json(&self, style: Style) -> String {
        let mut o = String::from("{");
        if let Some(v) = self.version {
            o.push_str("\"Version\":");
            write_str(&mut o, v.as_str());
            o.push(',');
        }
        if let Some(id) = &self.id {
            o.push_str("\"Id\":");
            write_str(&mut o, id);
            o.push(',');
        }
        o.push_str("\"Statement\":");
        let one = style.scalars && self.statements.len() == 1;
        if !one {
            o.push('[');
        }
        for (i, s) in self.statements.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            s.write(&mut o, style);
        }
        if !one {
            o.push(']');
        }
        o.push('}');
        o
    }

    /// Parse the policy as `name`, written in `style`.
    pub fn parse_as(&self, name: &str, style: Style) -> Policy {
        let text = self.to_json(style);
        parsed(&text, self.kind, name)
    }

    /// Parse the policy (named `p`).
    pub fn parse(&self) -> Policy {
        self.parse_as("p", Style::default())
    }

    /// Give every statement a unique `Sid` or none, after statements were moved around.
    pub fn renumber_sids(&mut self) {
        for (i, s) in self.statements.iter_mut().enumerate() {
            if s.sid.is_some() {
                s.sid = Some(format!("S{i}"));
            }
        }
    }
}

impl fmt::Debug for GenPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} {}", self.kind, self.to_json(Style::default()))
    }
}

impl fmt::Display for GenPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json(Style::default()))
    }
}

#[expect(
    clippy::panic,
    reason = "a generated policy the parser rejects is a generator or parser bug: fail the test loudly with the text"
)]
fn parsed(text: &str, kind: PolicyKind, name: &str) -> Policy {
    match parse_policy(text, kind, name) {
        Ok(p) => p,
        Err(e) => panic!("generated {} rejected: {e}\n{text}", kind.name()),
    }
}

// ---------------------------------------------------------------------------------------------
// Generated cases

/// A context value as given in a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenCtx {
    One(String),
    Many(Vec<String>),
}

/// A request as given in a case.
#[derive(Clone, PartialEq, Eq)]
pub struct GenRequest {
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub resource_account: Option<String>,
    pub context: Vec<(String, GenCtx)>,
}

impl GenRequest {
    /// The engine's request.
    #[expect(
        clippy::panic,
        reason = "generated principals are valid ARNs; a failure is a generator bug"
    )]
    pub fn build(&self) -> Request {
        let principal = match Principal::parse(&self.principal) {
            Ok(p) => p,
            Err(e) => panic!("generated principal rejected: {e}"),
        };
        let mut ctx = Context::new();
        for (k, v) in &self.context {
            ctx.insert(
                k,
                match v {
                    GenCtx::One(s) => ContextValue::One(s.clone()),
                    GenCtx::Many(v) => ContextValue::Many(v.clone()),
                },
            );
        }
        Request::new(
            principal,
            &self.action,
            &self.resource,
            self.resource_account.clone(),
            ctx,
        )
    }

    /// The request as the `request` object of a case line.
    pub fn to_json(&self) -> String {
        let mut o = String::from("{\"principal\":");
        write_str(&mut o, &self.principal);
        o.push_str(",\"action\":");
        write_str(&mut o, &self.action);
        o.push_str(",\"resource\":");
        write_str(&mut o, &self.resource);
        if let Some(a) = &self.resource_account {
            o.push_str(",\"resource_account\":");
            write_str(&mut o, a);
        }
        o.push_str(",\"context\":{");
        for (i, (k, v)) in self.context.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            write_str(&mut o, k);
            o.push(':');
            match v {
                GenCtx::One(s) => write_str(&mut o, s),
                GenCtx::Many(vs) => {
                    o.push('[');
                    for (j, s) in vs.iter().enumerate() {
                        if j > 0 {
                            o.push(',');
                        }
                        write_str(&mut o, s);
                    }
                    o.push(']');
                }
            }
        }
        o.push_str("}}");
        o
    }

    /// The account of the principal (none for anonymous and services).
    pub fn principal_account(&self) -> Option<&str> {
        let rest = self.principal.strip_prefix("arn:aws:")?;
        rest.split(':').nth(2)
    }

    /// The kind of the resource policy a case for this request carries.
    pub fn resource_policy_kind(&self) -> PolicyKind {
        let action_lc = crate::pattern::fold(&self.action);
        if is_trust_request(&action_lc, &self.resource) {
            PolicyKind::Trust
        } else {
            PolicyKind::Resource(ResourceService::from_arn(&self.resource))
        }
    }
}

impl fmt::Debug for GenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

/// The policies of a case, as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GenSet {
    pub identity: Vec<GenPolicy>,
    pub resource: Option<GenPolicy>,
    pub boundary: Option<GenPolicy>,
    pub session: Option<GenPolicy>,
    pub scps: Vec<Vec<GenPolicy>>,
    pub rcps: Vec<Vec<GenPolicy>>,
}

impl GenSet {
    /// Every policy, mutably (for invariants that rewrite them all).
    pub fn policies_mut(&mut self) -> Vec<&mut GenPolicy> {
        let mut v: Vec<&mut GenPolicy> = self.identity.iter_mut().collect();
        v.extend(self.resource.iter_mut());
        v.extend(self.boundary.iter_mut());
        v.extend(self.session.iter_mut());
        for l in self.scps.iter_mut().chain(self.rcps.iter_mut()) {
            v.extend(l.iter_mut());
        }
        v
    }

    /// Every policy.
    pub fn policies(&self) -> Vec<&GenPolicy> {
        let mut v: Vec<&GenPolicy> = self.identity.iter().collect();
        v.extend(self.resource.iter());
        v.extend(self.boundary.iter());
        v.extend(self.session.iter());
        for l in self.scps.iter().chain(self.rcps.iter()) {
            v.extend(l.iter());
        }
        v
    }

    /// The engine's policy set, each policy parsed from its text and named as the case format
    /// names it (`identity_policies[0]`, `scps[1][0]` ...).
    pub fn build(&self, style: Style) -> PolicySet {
        let levels = |ls: &[Vec<GenPolicy>], field: &str| -> Vec<Vec<Policy>> {
            ls.iter()
                .enumerate()
                .map(|(l, ps)| {
                    ps.iter()
                        .enumerate()
                        .map(|(i, p)| p.parse_as(&format!("{field}[{l}][{i}]"), style))
                        .collect()
                })
                .collect()
        };
        PolicySet {
            identity: self
                .identity
                .iter()
                .enumerate()
                .map(|(i, p)| p.parse_as(&format!("identity_policies[{i}]"), style))
                .collect(),
            resource: self
                .resource
                .as_ref()
                .map(|p| p.parse_as("resource_policy", style)),
            boundary: self
                .boundary
                .as_ref()
                .map(|p| p.parse_as("permission_boundary", style)),
            session: self
                .session
                .as_ref()
                .map(|p| p.parse_as("session_policy", style)),
            scps: levels(&self.scps, "scps"),
            rcps: levels(&self.rcps, "rcps"),
        }
    }
}

/// One case: the policies and the request, with the style its policies are written in.
#[derive(Clone, PartialEq, Eq)]
pub struct GenCase {
    pub set: GenSet,
    pub request: GenRequest,
    pub style: Style,
}

impl GenCase {
    /// The engine's policy set and request.
    pub fn build(&self) -> (PolicySet, Request) {
        (self.set.build(self.style), self.request.build())
    }

    /// The engine's decision.
    pub fn decide(&self) -> Decision {
        let (set, req) = self.build();
        crate::eval::decide(&set, &req)
    }

    /// One line of `xverify eval` input (interfaces.md §2) that reproduces this case.
    pub fn to_case_line(&self) -> String {
        let st = self.style;
        let mut o = String::from("{\"id\":\"generated\"");
        o.push_str(",\"identity_policies\":[");
        for (i, p) in self.set.identity.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            o.push_str(&p.to_json(st));
        }
        o.push(']');
        for (name, p) in [
            ("resource_policy", &self.set.resource),
            ("permission_boundary", &self.set.boundary),
            ("session_policy", &self.set.session),
        ] {
            if let Some(p) = p {
                o.push_str(",\"");
                o.push_str(name);
                o.push_str("\":");
                o.push_str(&p.to_json(st));
            }
        }
        for (name, ls) in [("scps", &self.set.scps), ("rcps", &self.set.rcps)] {
            o.push_str(",\"");
            o.push_str(name);
            o.push_str("\":[");
            for (l, ps) in ls.iter().enumerate() {
                if l > 0 {
                    o.push(',');
                }
                o.push('[');
                for (i, p) in ps.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    o.push_str(&p.to_json(st));
                }
                o.push(']');
            }
            o.push(']');
        }
        o.push_str(",\"request\":");
        o.push_str(&self.request.to_json());
        o.push('}');
        o
    }
}

impl fmt::Debug for GenCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_case_line())
    }
}

impl fmt::Display for GenCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_case_line())
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/// Flip the case of some letters of `s`, chosen by `seed` (the first letter that can change
/// always does).
pub fn recase(s: &str, seed: usize) -> String {
    let mut out = String::with_capacity(s.len());
    let mut flipped = false;
    for (i, c) in s.chars().enumerate() {
        let flip = !flipped || (seed >> (i % 24)) & 1 == 1;
        if flip && c.is_ascii_alphabetic() {
            flipped = true;
            out.push(if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            });
        } else {
            out.push(c);
        }
    }
    out
}

/// Recase the key names inside `${...}` variables of `s` (key names are case-insensitive).
pub fn recase_variables(s: &str, seed: usize) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        let Some(end) = rest.find('}') else { break };
        let inner = &rest[..end];
        match inner.split_once(", '") {
            Some((k, d)) => {
                out.push_str(&recase(k, seed));
                out.push_str(", '");
                out.push_str(d);
            }
            None if matches!(inner, "*" | "?" | "$") => out.push_str(inner),
            None => out.push_str(&recase(inner, seed)),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `Some` with probability `p` (which may be 0 or 1).
fn maybe<S: Strategy + 'static>(p: f64, s: S) -> BoxedStrategy<Option<S::Value>>
where
    S::Value: fmt::Debug + Clone,
{
    if p <= 0.0 {
        Just(None).boxed()
    } else if p >= 1.0 {
        s.prop_map(Some).boxed()
    } else {
        proptest::option::weighted(p, s).boxed()
    }
}

/// `true` with probability `p` (which may be 0 or 1).
fn chance(p: f64) -> BoxedStrategy<bool> {
    if p <= 0.0 {
        Just(false).boxed()
    } else if p >= 1.0 {
        Just(true).boxed()
    } else {
        proptest::bool::weighted(p).boxed()
    }
}

fn weighted_pick<T: Clone + fmt::Debug + 'static>(
    hit: Option<T>,
    hit_rate: u32,
    others: Vec<T>,
) -> BoxedStrategy<T> {
    match hit {
        Some(h) if hit_rate > 0 && !others.is_empty() => prop_oneof![
            hit_rate => Just(h),
            (100 - hit_rate.min(99)) => select(others),
        ]
        .boxed(),
        Some(h) => Just(h).boxed(),
        None => select(others).boxed(),
    }
}

/// The request a case decides, as the generators of its policies see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// The context once the engine filled the keys that follow from the request.
    pub context: Vec<(String, Vec<String>)>,
}

impl Hint {
    pub fn of(req: &GenRequest) -> Hint {
        let r = req.build();
        Hint {
            principal: req.principal.clone(),
            action: req.action.clone(),
            resource: req.resource.clone(),
            context: r
                .context
                .iter()
                .map(|(k, v)| (k.to_string(), v.values().to_vec()))
                .collect(),
        }
    }

    fn value_of(&self, key: &str) -> Option<&[String]> {
        self.context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies: statement elements

/// Make an action pattern from a real action name.
fn derive_action(name: &str, variant: u8, ix: Index) -> String {
    let Some((svc, op)) = name.split_once(':') else {
        return name.to_string();
    };
    match variant {
        0..=4 => name.to_string(),
        5 => recase(name, ix.index(1 << 24)),
        6 | 7 => format!("{svc}:{}*", &op[..ix.index(op.len() + 1)]),
        8 => format!("{svc}:*"),
        9 => {
            let i = ix.index(op.len());
            format!("{svc}:{}?{}", &op[..i], &op[i + 1..])
        }
        10 => format!("{svc}:*{}", &op[ix.index(op.len())..]),
        _ => "*".to_string(),
    }
}

/// `Action` entries: real names, recased, truncated plus `*`, `?`, `service:*`, `*`.
pub fn action_pattern(hint: Option<&Hint>, s: &Settings) -> BoxedStrategy<String> {
    let names: Vec<String> = ACTIONS.iter().map(|(a, _)| a.to_string()).collect();
    let base = weighted_pick(hint.map(|h| h.action.clone()), s.hit_rate, names);
    (base, 0u8..12, any::<Index>())
        .prop_map(|(n, v, ix)| derive_action(&n, v, ix))
        .boxed()
}

/// A resource pattern with a policy variable that the universe's requests can resolve.
fn variable_resource(arn: &str) -> String {
    let Some(parts) = crate::pattern::split_arn(arn) else {
        return arn.to_string();
    };
    let [_, _, svc, region, acct, res] = parts;
    match svc {
        "s3" if res.contains('/') => {
            let bucket = res.split('/').next().unwrap_or("");
            format!("arn:aws:s3:::{bucket}/home/${{aws:username}}/*")
        }
        "s3" => format!("arn:aws:s3:::{res}${{*}}"),
        "iam" if res.starts_with("user/") => {
            format!("arn:aws:iam::{acct}:user/${{aws:username}}")
        }
        "iam" => format!("arn:aws:iam::{acct}:role/${{aws:PrincipalTag/team, 'Admin'}}"),
        "dynamodb" => {
            format!("arn:aws:dynamodb:{region}:{acct}:table/${{aws:RequestTag/env, 'Orders'}}*")
        }
        _ => format!("arn:aws:{svc}:{region}:{acct}:${{aws:PrincipalAccount}}/*"),
    }
}

fn derive_resource(arn: &str, variant: u8, ix: Index, vars: bool) -> String {
    if arn == "*" {
        return "*".to_string();
    }
    let parts = crate::pattern::split_arn(arn);
    match variant {
        0..=4 => arn.to_string(),
        5 | 6 => {
            // Truncate after "arn:" and finish with a star.
            let cut = 4 + ix.index(arn.len() - 3);
            format!("{}*", &arn[..cut.min(arn.len())])
        }
        7 => match parts {
            Some([a, p, svc, region, acct, res]) if !acct.is_empty() => {
                format!("{a}:{p}:{svc}:{region}:*:{res}")
            }
            Some([a, p, svc, _, acct, res]) => format!("{a}:{p}:{svc}:*:{acct}:{res}"),
            None => arn.to_string(),
        },
        8 => {
            let i = 8 + ix.index(arn.len() - 8);
            if arn.as_bytes()[i] == b':' {
                arn.to_string()
            } else {
                format!("{}?{}", &arn[..i], &arn[i + 1..])
            }
        }
        9 => match parts {
            Some([_, _, "s3", ..]) => "arn:aws:s3:::*".to_string(),
            Some([_, _, svc, ..]) => format!("arn:aws:{svc}:*:*:*"),
            None => "*".to_string(),
        },
        10 if vars => variable_resource(arn),
        _ => "*".to_string(),
    }
}

/// `Resource` entries drawn from the universe's ARNs.
pub fn resource_pattern(hint: Option<&Hint>, s: &Settings) -> BoxedStrategy<String> {
    let all: Vec<String> = universe()
        .resources
        .iter()
        .map(|(r, _)| r.clone())
        .collect();
    let hit = hint.map(|h| h.resource.clone()).filter(|r| r != "*");
    let vars = s.variables;
    (weighted_pick(hit, s.hit_rate, all), 0u8..12, any::<Index>())
        .prop_map(move |(r, v, ix)| derive_resource(&r, v, ix, vars))
        .boxed()
}

/// What a `Principal` element may name of a request principal: its ARN, its role, its account.
fn principal_names(p: &str) -> Vec<String> {
    let mut out = vec![];
    let Some([_, _, svc, _, acct, res]) = crate::pattern::split_arn(p) else {
        return out;
    };
    out.push(acct.to_string());
    out.push(format!("arn:aws:iam::{acct}:root"));
    if res != "root" {
        out.push(p.to_string());
    }
    // A path in a user or role ARN is not compared (corpus/DECISIONS.md 13): name it both ways.
    if svc == "iam" {
        if let Some((kind, rest)) = res.split_once('/') {
            if let Some((_, name)) = rest.rsplit_once('/') {
                out.push(format!("arn:aws:iam::{acct}:{kind}/{name}"));
            }
        }
    }
    if svc == "sts" {
        if let Some(rest) = res.strip_prefix("assumed-role/") {
            let role = rest.split('/').next().unwrap_or("");
            out.push(format!("arn:aws:iam::{acct}:role/{role}"));
            if role == "DataRole" {
                out.push(format!("arn:aws:iam::{acct}:role/service/DataRole"));
            }
        }
    }
    out
}

/// One `"AWS"` entry.
fn aws_principal_entry(hint: Option<&Hint>, s: &Settings) -> BoxedStrategy<String> {
    let mut all: Vec<String> = vec!["*".to_string()];
    for a in ACCOUNTS {
        for p in principals_of(a.id) {
            all.extend(principal_names(&p));
        }
    }
    all.sort();
    all.dedup();
    let own = hint
        .map(|h| principal_names(&h.principal))
        .unwrap_or_default();
    if own.is_empty() {
        return select(all).boxed();
    }
    prop_oneof![
        s.hit_rate => select(own),
        (100 - s.hit_rate.min(99)) => select(all),
    ]
    .boxed()
}

/// A `Principal` element (or `NotPrincipal` when `not`).
fn principal_element(hint: Option<&Hint>, s: &Settings, not: bool) -> BoxedStrategy<GenPrincipal> {
    let hint_service = hint
        .map(|h| h.principal.clone())
        .filter(|p| SERVICES.contains(&p.as_str()));
    let service = weighted_pick(hint_service, s.hit_rate, strings(SERVICES));
    let n = s.max_list.max(1);
    prop_oneof![
        2 => Just(GenPrincipal { not, star: true, aws: vec![], service: vec![] }),
        6 => vec(aws_principal_entry(hint, s), 1..=n).prop_map(move |aws| GenPrincipal {
            not, star: false, aws: dedup(aws), service: vec![],
        }),
        2 => (vec(aws_principal_entry(hint, s), 0..=1), vec(service, 1..=2)).prop_map(
            move |(aws, service)| GenPrincipal {
                not, star: false, aws: dedup(aws), service: dedup(service),
            }
        ),
    ]
    .boxed()
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    v.retain(|x| {
        if seen.contains(x) {
            false
        } else {
            seen.push(x.clone());
            true
        }
    });
    v
}

// ---------------------------------------------------------------------------------------------
// Strategies: conditions

/// Operator families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

pub(crate) const STRING_OPS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
];
const NUMERIC_OPS: &[&str] = &[
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
];
const DATE_OPS: &[&str] = &[
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
];
const ARN_OPS: &[&str] = &["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"];
const IP_OPS: &[&str] = &["IpAddress", "NotIpAddress"];

fn family_ops(f: Family) -> &'static [&'static str] {
    match f {
        Family::String => STRING_OPS,
        Family::Numeric => NUMERIC_OPS,
        Family::Date => DATE_OPS,
        Family::Bool => &["Bool"],
        Family::Binary => &["BinaryEquals"],
        Family::Ip => IP_OPS,
        Family::Arn => ARN_OPS,
        Family::Null => &["Null"],
    }
}

fn natural_family(t: KeyType) -> Family {
    match t {
        KeyType::Str | KeyType::MultiStr => Family::String,
        KeyType::Num => Family::Numeric,
        KeyType::Date => Family::Date,
        KeyType::Bool => Family::Bool,
        KeyType::Ip => Family::Ip,
        KeyType::Arn => Family::Arn,
        KeyType::Binary => Family::Binary,
    }
}

const ALL_FAMILIES: [Family; 8] = [
    Family::String,
    Family::Numeric,
    Family::Date,
    Family::Bool,
    Family::Binary,
    Family::Ip,
    Family::Arn,
    Family::Null,
];

/// Turn an ARN into an `ArnLike` pattern: wildcards inside segments, a truncated resource part.
fn derive_arn_value(arn: &str, variant: u8, ix: Index, vars: bool) -> String {
    let Some([a, p, svc, region, acct, res]) = crate::pattern::split_arn(arn) else {
        return arn.to_string();
    };
    match variant {
        0..=2 => arn.to_string(),
        3 => format!("{a}:{p}:{svc}:*:{acct}:{res}"),
        4 => format!("{a}:{p}:{svc}:{region}:*:{res}"),
        5 => {
            let cut = ix.index(res.len() + 1);
            format!("{a}:{p}:{svc}:{region}:{acct}:{}*", &res[..cut])
        }
        6 => format!("{a}:{p}:*:{region}:{acct}:*"),
        7 => format!("{a}:{p}:{svc}:*"),
        8 if vars => format!("{a}:{p}:{svc}:{region}:${{aws:PrincipalAccount}}:*"),
        9 => {
            if res.is_empty() {
                arn.to_string()
            } else {
                let i = ix.index(res.len());
                format!(
                    "{a}:{p}:{svc}:{region}:{acct}:{}?{}",
                    &res[..i],
                    &res[i + 1..]
                )
            }
        }
        _ => "*".to_string(),
    }
}

/// A string value derived from a request value for operator `op`.
fn derive_string_value(v: &str, op: &str, variant: u8, ix: Index, vars: bool) -> String {
    let like = op.contains("Like");
    match variant {
        0..=3 => v.to_string(),
        4 | 5 => recase(v, ix.index(1 << 24)),
        6 if like => format!("{}*", &v[..floor_char(v, ix.index(v.len() + 1))]),
        7 if like && !v.is_empty() => {
            let i = floor_char(v, ix.index(v.len()));
            let next = v[i..].chars().next().map_or(1, char::len_utf8);
            format!("{}?{}", &v[..i], &v[i + next..])
        }
        8 if like => "*".to_string(),
        9 | 10 if vars => VARIABLE_VALUES[ix.index(VARIABLE_VALUES.len())].to_string(),
        _ => v.to_string(),
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Everything needed to build one condition, drawn before the key is known.
#[derive(Debug, Clone)]
struct CondPlan {
    key: usize,
    key_from_hint: Option<Index>,
    mismatch: Option<usize>,
    null: bool,
    op: Index,
    set: u8,
    if_exists: bool,
    recase_key: Option<usize>,
    values: Vec<(Index, u8, Index, u8)>,
}

fn cond_plan(s: &Settings) -> impl Strategy<Value = CondPlan> {
    let n_keys = universe().keys.len();
    let mism = if s.type_mismatches { 0.1 } else { 0.0 };
    (
        (0..n_keys, proptest::option::weighted(0.6, any::<Index>())),
        (
            maybe(mism, 0..ALL_FAMILIES.len()),
            proptest::bool::weighted(0.08),
            any::<Index>(),
            0u8..10,
            proptest::bool::weighted(0.2),
            proptest::option::weighted(0.15, any::<usize>()),
        ),
        vec(
            (any::<Index>(), 0u8..12, any::<Index>(), 0u8..4),
            1..=s.max_values.max(1),
        ),
    )
        .prop_map(
            |((key, key_from_hint), (mismatch, null, op, set, if_exists, recase_key), values)| {
                CondPlan {
                    key,
                    key_from_hint,
                    mismatch,
                    null,
                    op,
                    set,
                    if_exists,
                    recase_key,
                    values,
                }
            },
        )
}

fn build_condition(plan: &CondPlan, hint: Option<&Hint>, vars: bool) -> GenCondition {
    let u = universe();
    // The key: often one the request carries.
    let from_hint = match (hint, plan.key_from_hint) {
        (Some(h), Some(ix)) if !h.context.is_empty() => {
            let (k, _) = ix.get(&h.context);
            u.keys.iter().find(|d| d.name.eq_ignore_ascii_case(k))
        }
        _ => None,
    };
    let def = from_hint.unwrap_or(&u.keys[plan.key % u.keys.len()]);
    let family = if plan.null {
        Family::Null
    } else if let Some(m) = plan.mismatch {
        ALL_FAMILIES[m % ALL_FAMILIES.len()]
    } else {
        natural_family(def.ty)
    };
    let ops = family_ops(family);
    let base = ops[plan.op.index(ops.len())];
    let multi = def.ty == KeyType::MultiStr;
    let set = match (family, plan.set) {
        (Family::Null, _) => "",
        (_, 0..=5) if multi => ["ForAnyValue:", "ForAllValues:"][usize::from(plan.set % 2)],
        (_, 0) => "ForAnyValue:",
        (_, 1) => "ForAllValues:",
        _ => "",
    };
    let if_exists = if plan.if_exists && family != Family::Null {
        "IfExists"
    } else {
        ""
    };
    let op = format!("{set}{base}{if_exists}");
    let key = match plan.recase_key {
        Some(seed) => recase(def.name, seed),
        None => def.name.to_string(),
    };
    // Request values of this key, to lean the policy values towards them.
    let request_values: Vec<String> = hint
        .and_then(|h| h.value_of(def.name))
        .map(<[String]>::to_vec)
        .unwrap_or_default();
    let mut values: Vec<GenValue> = Vec::new();
    for &(pick, variant, ix, shape) in &plan.values {
        let source = if !request_values.is_empty() && pick.index(3) < 2 {
            pick.get(&request_values).clone()
        } else {
            pick.get(&def.values).clone()
        };
        let v = match family {
            Family::String => GenValue::Str(derive_string_value(&source, base, variant, ix, vars)),
            Family::Numeric => {
                let n = if def.ty == KeyType::Num && variant < 6 {
                    source
                } else {
                    ix.get(NUMBERS).to_string()
                };
                match crate::pattern::parse_number(&n) {
                    Some(_) if shape == 0 && n.bytes().all(|b| b.is_ascii_digit()) => {
                        GenValue::Num(n)
                    }
                    Some(_) => GenValue::Str(n),
                    None => GenValue::Str(ix.get(NUMBERS).to_string()),
                }
            }
            Family::Date => {
                let d = if def.ty == KeyType::Date && variant < 6 {
                    source
                } else {
                    ix.get(DATES).to_string()
                };
                if crate::pattern::parse_date(&d).is_some() {
                    GenValue::Str(d)
                } else {
                    GenValue::Str(ix.get(DATES).to_string())
                }
            }
            Family::Bool | Family::Null => {
                let b = if def.ty == KeyType::Bool && variant < 8 {
                    source.eq_ignore_ascii_case("true")
                } else {
                    variant % 2 == 0
                };
                match shape {
                    0 => GenValue::Bool(b),
                    1 => GenValue::Str(recase(&b.to_string(), ix.index(1 << 24))),
                    _ => GenValue::Str(b.to_string()),
                }
            }
            Family::Binary => {
                if def.ty == KeyType::Binary && variant < 6 && source.len() % 4 == 0 {
                    GenValue::Str(source)
                } else {
                    GenValue::Str(ix.get(BASE64).to_string())
                }
            }
            Family::Ip => {
                if def.ty == KeyType::Ip
                    && variant < 5
                    && crate::pattern::Cidr::parse(&source).is_some()
                {
                    GenValue::Str(source)
                } else {
                    GenValue::Str(ix.get(CIDRS).to_string())
                }
            }
            Family::Arn => GenValue::Str(derive_arn_value(&source, variant, ix, vars)),
        };
        if !values.contains(&v) {
            values.push(v);
        }
    }
    if family == Family::Null {
        values.truncate(1);
    }
    GenCondition { op, key, values }
}

/// One condition, leaning towards the request's context when there is a hint.
pub fn condition(hint: Option<&Hint>, s: &Settings) -> BoxedStrategy<GenCondition> {
    let hint = hint.cloned();
    let vars = s.variables;
    cond_plan(s)
        .prop_map(move |p| build_condition(&p, hint.as_ref(), vars))
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Strategies: statements and policies

/// What a `Principal` element of a resource-based statement looks like for `kind` and `effect`.
fn principal_for(
    kind: PolicyKind,
    effect: Effect,
    hint: Option<&Hint>,
    s: &Settings,
) -> BoxedStrategy<Option<GenPrincipal>> {
    match kind {
        PolicyKind::Resource(_) => {
            let p = principal_element(hint, s, false);
            if s.not_elements && effect == Effect::Deny {
                prop_oneof![5 => p.prop_map(Some), 1 => principal_element(hint, s, true).prop_map(Some)].boxed()
            } else if s.not_elements {
                prop_oneof![30 => p.prop_map(Some), 1 => principal_element(hint, s, true).prop_map(Some)].boxed()
            } else {
                p.prop_map(Some).boxed()
            }
        }
        PolicyKind::Trust => principal_element(hint, s, false).prop_map(Some).boxed(),
        PolicyKind::Rcp => any::<bool>()
            .prop_map(|star| {
                Some(GenPrincipal {
                    not: false,
                    star,
                    aws: if star { vec![] } else { vec!["*".to_string()] },
                    service: vec![],
                })
            })
            .boxed(),
        _ => Just(None).boxed(),
    }
}

fn list(item: BoxedStrategy<String>, s: &Settings, not: bool) -> BoxedStrategy<GenList> {
    let nots = if s.not_elements && not { 0.15 } else { 0.0 };
    (chance(nots), vec(item, 1..=s.max_list.max(1)))
        .prop_map(|(not, items)| GenList {
            not,
            items: dedup(items),
        })
        .boxed()
}

fn trust_actions(hint: Option<&Hint>, s: &Settings) -> BoxedStrategy<String> {
    let trust: Vec<String> = strings(&[
        "sts:AssumeRole",
        "sts:TagSession",
        "sts:SetSourceIdentity",
        "sts:*",
        "sts:AssumeRole*",
        "sts:assumerole",
    ]);
    prop_oneof![4 => select(trust), 1 => action_pattern(hint, s)].boxed()
}

/// One statement valid in a policy of `kind`.
pub fn statement(
    kind: PolicyKind,
    hint: Option<&Hint>,
    s: &Settings,
) -> BoxedStrategy<GenStatement> {
    let effect = match kind {
        PolicyKind::Rcp => Just(Effect::Deny).boxed(),
        _ => prop_oneof![3 => Just(Effect::Allow), 1 => Just(Effect::Deny)].boxed(),
    };
    let hint = hint.cloned();
    let base = *s;
    effect
        .prop_flat_map(move |effect| {
            let h = hint.as_ref();
            // Denies that hit too often would hide every other path: they lean less.
            let mut s = base;
            if effect == Effect::Deny {
                s.hit_rate /= 2;
            }
            let action = if kind == PolicyKind::Trust {
                list(trust_actions(h, &s), &s, false)
            } else {
                list(action_pattern(h, &s), &s, true)
            };
            let resource = if kind == PolicyKind::Trust {
                Just(None).boxed()
            } else {
                list(resource_pattern(h, &s), &s, true)
                    .prop_map(Some)
                    .boxed()
            };
            (
                Just(effect),
                principal_for(kind, effect, h, &s),
                action,
                resource,
                vec(condition(h, &s), 0..=s.max_conditions),
                proptest::bool::weighted(0.3),
            )
        })
        .prop_map(|(effect, principal, action, resource, conditions, sid)| {
            // One value list per (operator, key): AWS rejects a repeated key.
            let mut cs: Vec<GenCondition> = Vec::new();
            for c in conditions {
                if !cs.iter().any(|d| d.op == c.op && d.key == c.key) {
                    cs.push(c);
                }
            }
            GenStatement {
                sid: sid.then(String::new),
                effect,
                principal,
                action,
                resource,
                conditions: cs,
            }
        })
        .boxed()
}

/// The `RCPFullAWSAccess`-shaped statement (the only Allow an RCP may hold).
pub fn full_access_statement(kind: PolicyKind) -> GenStatement {
    GenStatement {
        sid: None,
        effect: Effect::Allow,
        principal: (kind == PolicyKind::Rcp).then(|| GenPrincipal {
            not: false,
            star: true,
            aws: vec![],
            service: vec![],
        }),
        action: GenList {
            not: false,
            items: vec!["*".to_string()],
        },
        resource: Some(GenList {
            not: false,
            items: vec!["*".to_string()],
        }),
        conditions: vec![],
    }
}

/// An allow-everything session policy: what a session without one is relaxed to (a
/// `GetFederationToken` session has no permissions without a session policy, DECISIONS 18, so
/// for it the relaxation of "no session policy" is this one).
pub fn allow_all_session_policy() -> GenPolicy {
    GenPolicy {
        kind: PolicyKind::Session,
        version: Some(Version::V2012),
        id: None,
        statements: vec![full_access_statement(PolicyKind::Session)],
    }
}

/// `FullAWSAccess`, as attached to every SCP level by default.
pub fn full_aws_access() -> GenPolicy {
    GenPolicy {
        kind: PolicyKind::Scp,
        version: Some(Version::V2012),
        id: None,
        statements: vec![full_access_statement(PolicyKind::Scp)],
    }
}

/// A policy of `kind`, leaning towards `hint`'s request.
pub fn policy(kind: PolicyKind, hint: Option<&Hint>, s: &Settings) -> BoxedStrategy<GenPolicy> {
    let version = prop_oneof![
        17 => Just(Some(Version::V2012)),
        2 => Just(Some(Version::V2008)),
        1 => Just(None),
    ];
    let id = if kind.is_resource_based() {
        proptest::option::weighted(0.2, Just("policy-1".to_string())).boxed()
    } else {
        Just(None).boxed()
    };
    (
        version,
        id,
        vec(statement(kind, hint, s), 1..=s.max_statements.max(1)),
    )
        .prop_map(move |(version, id, statements)| {
            let mut p = GenPolicy {
                kind,
                version,
                id,
                statements,
            };
            p.renumber_sids();
            // Stay within AWS's size limit for the kind (the parser enforces it).
            let (limit, _) = kind.size_limit();
            while p.statements.len() > 1 && p.to_json(Style::default()).len() > limit {
                p.statements.pop();
            }
            p
        })
        .boxed()
}

/// A policy of any kind.
pub fn any_policy(s: &Settings) -> BoxedStrategy<GenPolicy> {
    let kinds = vec![
        PolicyKind::Identity,
        PolicyKind::Boundary,
        PolicyKind::Session,
        PolicyKind::Scp,
        PolicyKind::Rcp,
        PolicyKind::Trust,
        PolicyKind::Resource(ResourceService::S3),
        PolicyKind::Resource(ResourceService::Kms),
        PolicyKind::Resource(ResourceService::DynamoDb),
        PolicyKind::Resource(ResourceService::Sqs),
    ];
    let s = *s;
    select(kinds)
        .prop_flat_map(move |k| policy(k, None, &s))
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Strategies: requests and cases

#[derive(Debug, Clone)]
struct CtxPlan {
    key: Index,
    values: Vec<Index>,
    shape: u8,
    recase: Option<usize>,
}

fn ctx_plan(s: &Settings) -> impl Strategy<Value = Vec<CtxPlan>> {
    vec(
        (
            any::<Index>(),
            vec(any::<Index>(), 1..=3),
            0u8..12,
            proptest::option::weighted(0.1, any::<usize>()),
        )
            .prop_map(|(key, values, shape, recase)| CtxPlan {
                key,
                values,
                shape,
                recase,
            }),
        0..=s.max_context_keys,
    )
}

type RequestPlan = (Index, Index, u8, Index, Index, bool);

fn build_request(plan: RequestPlan, org_keys: (bool, bool, bool), plans: &[CtxPlan]) -> GenRequest {
    let (action, owner, placement, who, which, give_account) = plan;
    let u = universe();
    let (action, kind) = *action.get(ACTIONS);
    let owner = owner.get(ACCOUNTS);
    let principal = match placement {
        0..=9 => who.get(&principals_of(owner.id)).clone(),
        10..=16 => {
            let others: Vec<&AccountDef> = ACCOUNTS.iter().filter(|a| a.id != owner.id).collect();
            let a = who.get(&others);
            who.get(&principals_of(a.id)).clone()
        }
        _ => who.get(OTHER_PRINCIPALS).to_string(),
    };
    let resource = which.get(&resources_of(owner.id, kind)).clone();
    let resource_account = if resource == "*" {
        None
    } else if resource.starts_with("arn:aws:s3:") || give_account {
        Some(owner.id.to_string())
    } else {
        None
    };
    let mut context: Vec<(String, GenCtx)> = Vec::new();
    let add = |k: &str, v: GenCtx, ctx: &mut Vec<(String, GenCtx)>| {
        if !ctx.iter().any(|(x, _)| x.eq_ignore_ascii_case(k)) {
            ctx.push((k.to_string(), v));
        }
    };
    // Keys that follow from who the principal is and who owns the resource.
    let paccount = crate::pattern::split_arn(&principal)
        .map(|p| p[4])
        .and_then(account);
    if let Some(a) = paccount {
        if let (Some(org), true) = (a.org, org_keys.0) {
            add(
                "aws:PrincipalOrgID",
                GenCtx::One(org.to_string()),
                &mut context,
            );
        }
        if let (Some(path), true) = (a.org_path(), org_keys.1) {
            add(
                "aws:PrincipalOrgPaths",
                GenCtx::Many(vec![path]),
                &mut context,
            );
        }
    }
    if let (Some(org), true, false) = (owner.org, org_keys.2, resource == "*") {
        add(
            "aws:ResourceOrgID",
            GenCtx::One(org.to_string()),
            &mut context,
        );
    }
    if SERVICES.contains(&principal.as_str()) && org_keys.2 {
        add(
            "aws:SourceAccount",
            GenCtx::One(owner.id.to_string()),
            &mut context,
        );
        add(
            "aws:SourceArn",
            GenCtx::One(format!(
                "arn:aws:cloudtrail:us-east-1:{}:trail/main",
                owner.id
            )),
            &mut context,
        );
    }
    let free: Vec<&KeyDef> = u.keys.iter().filter(|k| !k.derived).collect();
    for p in plans {
        let def = p.key.get(&free);
        let mut vals: Vec<String> = p
            .values
            .iter()
            .map(|i| i.get(&def.values).clone())
            .collect();
        vals.dedup();
        let value = if def.ty == KeyType::MultiStr {
            match p.shape {
                0 => GenCtx::Many(vec![]),
                _ => GenCtx::Many(vals),
            }
        } else {
            match p.shape {
                0 => GenCtx::Many(vec![]),
                1 => GenCtx::Many(vals.into_iter().take(1).collect()),
                // Several values only where a request can carry them (not on a global key
                // AWS documents as single-valued: reading such a case is an error).
                2 if vals.len() > 1
                    && !crate::model::is_single_valued_key(&crate::pattern::fold(def.name)) =>
                {
                    GenCtx::Many(vals)
                }
                _ => GenCtx::One(vals.into_iter().next().unwrap_or_default()),
            }
        };
        let key = match p.recase {
            Some(seed) => recase(def.name, seed),
            None => def.name.to_string(),
        };
        add(&key, value, &mut context);
    }
    GenRequest {
        principal,
        action: action.to_string(),
        resource,
        resource_account,
        context,
    }
}

/// A request drawn from the universe: same-account half the time, then cross-account, then
/// anonymous and service callers.
pub fn request(s: &Settings) -> BoxedStrategy<GenRequest> {
    (
        (
            any::<Index>(),
            any::<Index>(),
            0u8..20,
            any::<Index>(),
            any::<Index>(),
            any::<bool>(),
        ),
        (
            proptest::bool::weighted(0.9),
            proptest::bool::weighted(0.6),
            proptest::bool::weighted(0.7),
        ),
        ctx_plan(s),
    )
        .prop_map(|(plan, org, plans)| build_request(plan, org, &plans))
        .boxed()
}

fn levels(
    kind: PolicyKind,
    n: usize,
    hint: &Hint,
    s: &Settings,
) -> BoxedStrategy<Vec<Vec<GenPolicy>>> {
    let per = s.max_policies_per_level;
    let level = if kind == PolicyKind::Scp {
        (
            proptest::bool::weighted(0.85),
            vec(policy(kind, Some(hint), s), 0..=per),
        )
            .prop_map(|(full, mut ps)| {
                if full || ps.is_empty() {
                    ps.insert(0, full_aws_access());
                }
                ps
            })
            .boxed()
    } else {
        vec(policy(kind, Some(hint), s), 0..=per).boxed()
    };
    vec(level, n..=n).boxed()
}

/// The policies of a case deciding `req`.
pub fn policy_set(req: &GenRequest, s: &Settings) -> BoxedStrategy<GenSet> {
    let hint = Hint::of(req);
    let h = Some(&hint);
    let iam = req.principal_account().is_some();
    let is_session = req.principal.contains(":assumed-role/")
        || req.principal.contains(":federated-user/")
        || req.principal.contains(":role/");
    let is_root = req.principal.ends_with(":root");
    let n_ident = if iam { s.max_identity_policies } else { 0 };
    let identity = vec(policy(PolicyKind::Identity, h, s), 0..=n_ident);
    let pb = if iam && !is_root { 0.3 } else { 0.0 };
    let boundary = maybe(pb, policy(PolicyKind::Boundary, h, s));
    // A federated session holds permissions only through its session policy (DECISIONS 18).
    let sp = if req.principal.contains(":federated-user/") {
        0.7
    } else if is_session {
        0.3
    } else {
        0.0
    };
    let session = maybe(sp, policy(PolicyKind::Session, h, s));
    let rp = if req.resource == "*" { 0.0 } else { 0.75 };
    let resource = maybe(rp, policy(req.resource_policy_kind(), h, s));
    let scp_levels = req
        .principal_account()
        .and_then(account)
        .map_or(0, AccountDef::policy_levels);
    let rcp_levels = if req.resource == "*" {
        0
    } else {
        req.resource_account
            .as_deref()
            .or_else(|| crate::pattern::split_arn(&req.resource).map(|p| p[4]))
            .and_then(account)
            .map_or(0, AccountDef::policy_levels)
    };
    let scps = if scp_levels > 0 {
        prop_oneof![1 => Just(vec![]), 3 => levels(PolicyKind::Scp, scp_levels, &hint, s)].boxed()
    } else {
        Just(vec![]).boxed()
    };
    let rcps = if rcp_levels > 0 {
        prop_oneof![3 => Just(vec![]), 1 => levels(PolicyKind::Rcp, rcp_levels, &hint, s)].boxed()
    } else {
        Just(vec![]).boxed()
    };
    (identity, resource, boundary, session, scps, rcps)
        .prop_map(
            |(identity, resource, boundary, session, scps, rcps)| GenSet {
                identity,
                resource,
                boundary,
                session,
                scps,
                rcps,
            },
        )
        .boxed()
}

/// A whole case: a request, then policies that lean towards it, written in a random style.
pub fn case(s: &Settings) -> BoxedStrategy<GenCase> {
    let s = *s;
    (request(&s), any::<bool>())
        .prop_flat_map(move |(req, scalars)| {
            (policy_set(&req, &s), Just(req)).prop_map(move |(set, request)| GenCase {
                set,
                request,
                style: Style {
                    scalars,
                    expand_star: false,
                },
            })
        })
        .boxed()
}

/// A wildcard pattern and a text over a small alphabet (so that matches are common), for the
/// matcher-vs-regex invariant.
pub fn pattern_and_text() -> BoxedStrategy<(String, String)> {
    let pchars = select(vec!['a', 'b', 'A', 'é', ':', '/', '*', '?', '.']);
    let tchars = select(vec!['a', 'b', 'A', 'B', 'é', 'É', ':', '/', '.']);
    (vec(pchars, 0..8), vec(tchars, 0..10))
        .prop_map(|(p, t)| (p.into_iter().collect(), t.into_iter().collect()))
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Generated estates (interfaces.md §3)
//
// The same universe: our organization's tree (root `r-a1b2`, OUs `prod`, `dev` and `dev/team`,
// the management account 111111111111 at the root, 222222222222 and 333333333333 placed in it),
// the accounts of another organization and of none outside it, the principals of
// [`principals_of`] as described roles and users, the resources of [`resources_of`] with their
// policies. The request is drawn first ([`estate_request`]) and the estate leans towards it: its
// accounts are described more often, its principal always exists when its account is described,
// its resource (or the bucket or table behind it) usually carries a policy, and every policy is
// drawn with the request as hint.

/// An SCP or RCP of the organization, under the name attachments use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenNamed {
    pub name: String,
    pub policy: GenPolicy,
}

/// The root or an OU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenUnit {
    pub id: String,
    /// Attached SCPs; `None`: the spec leaves the level unsaid (then it is not checked).
    pub scps: Option<Vec<GenNamed>>,
    /// Attached RCPs besides the implied `RCPFullAWSAccess`.
    pub rcps: Vec<GenNamed>,
    pub accounts: Vec<String>,
    pub units: Vec<GenUnit>,
}

impl GenUnit {
    /// Units from this one down to the one that lists `account` directly.
    pub fn path_to<'a>(&'a self, account: &str) -> Option<Vec<&'a GenUnit>> {
        if self.accounts.iter().any(|a| a == account) {
            return Some(vec![self]);
        }
        self.units.iter().find_map(|u| {
            u.path_to(account).map(|mut p| {
                p.insert(0, self);
                p
            })
        })
    }

    /// This unit and every unit below it, parents first.
    pub fn all_units(&self) -> Vec<&GenUnit> {
        let mut v = vec![self];
        for u in &self.units {
            v.extend(u.all_units());
        }
        v
    }

    /// Call `f` on this unit and every unit below it, parents first.
    pub fn for_each_unit_mut(&mut self, f: &mut impl FnMut(&mut GenUnit)) {
        f(self);
        for u in &mut self.units {
            u.for_each_unit_mut(f);
        }
    }

    fn holds_accounts(&self) -> bool {
        !self.accounts.is_empty() || self.units.iter().any(GenUnit::holds_accounts)
    }

    fn prune(&mut self) {
        self.units.retain(GenUnit::holds_accounts);
        for u in &mut self.units {
            u.prune();
        }
    }

    fn build(&self) -> OrgUnit {
        let named = |ps: &[GenNamed], kind: PolicyKind| -> Vec<Policy> {
            ps.iter()
                .map(|n| parsed(&n.policy.to_json(Style::default()), kind, &n.name))
                .collect()
        };
        OrgUnit {
            id: self.id.clone(),
            name: None,
            scps: self.scps.as_ref().map(|s| named(s, PolicyKind::Scp)),
            rcps: named(&self.rcps, PolicyKind::Rcp),
            accounts: self.accounts.clone(),
            units: self.units.iter().map(GenUnit::build).collect(),
        }
    }
}

/// The organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOrg {
    pub id: String,
    pub management_account: String,
    pub root: GenUnit,
}

impl GenOrg {
    /// Is `account` in the organization (the management account included)?
    pub fn contains(&self, account: &str) -> bool {
        self.root.path_to(account).is_some()
    }

    /// Is `account` a member account, bound by SCPs and RCPs?
    pub fn governs(&self, account: &str) -> bool {
        self.management_account != account && self.contains(account)
    }

    /// `o-…/r-…/ou-…/`: the path to the account's parent.
    pub fn org_path(&self, account: &str) -> Option<String> {
        let path = self.root.path_to(account)?;
        let mut s = format!("{}/", self.id);
        for u in path {
            s.push_str(&u.id);
            s.push('/');
        }
        Some(s)
    }
}

/// A role of a described account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenRole {
    pub name: String,
    /// `/` or `/path/`.
    pub path: String,
    pub trust_policy: Option<GenPolicy>,
    pub policies: Vec<GenPolicy>,
    pub permissions_boundary: Option<GenPolicy>,
    pub tags: Vec<(String, String)>,
}

/// A user of a described account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenUser {
    pub name: String,
    pub path: String,
    pub policies: Vec<GenPolicy>,
    pub groups: Vec<String>,
    pub permissions_boundary: Option<GenPolicy>,
    pub tags: Vec<(String, String)>,
}

/// A group of a described account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenGroup {
    pub name: String,
    pub policies: Vec<GenPolicy>,
}

/// A resource of a described account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenResource {
    pub arn: String,
    pub policy: Option<GenPolicy>,
    pub tags: Vec<(String, String)>,
}

/// A described account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenAccount {
    pub id: String,
    /// SCPs attached to the account itself (only for accounts in the organization).
    pub scps: Option<Vec<GenNamed>>,
    pub rcps: Vec<GenNamed>,
    pub roles: Vec<GenRole>,
    pub users: Vec<GenUser>,
    pub groups: Vec<GenGroup>,
    pub resources: Vec<GenResource>,
}

/// A whole estate, as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GenEstate {
    pub organization: Option<GenOrg>,
    pub accounts: Vec<GenAccount>,
}

/// A request against an estate: what the caller chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenEstateRequest {
    pub request: GenRequest,
    pub session_policy: Option<GenPolicy>,
    pub session_tags: Vec<(String, String)>,
}

/// An estate and one request against it. `Debug` and `Display` print the spec (interfaces.md §3)
/// on one line, then the request as a line of `xverify eval --spec` — the input the `estate_eval`
/// fuzz target reads as text.
#[derive(Clone, PartialEq, Eq)]
pub struct GenEstateCase {
    pub estate: GenEstate,
    pub request: GenEstateRequest,
}

/// Roles a described account may have: name and path (one service-linked).
pub const ESTATE_ROLES: &[(&str, &str)] = &[
    ("Admin", "/"),
    ("DataRole", "/service/"),
    (
        "AWSServiceRoleForSupport",
        "/aws-service-role/support.amazonaws.com/",
    ),
];

/// Users a described account may have: name and path.
pub const ESTATE_USERS: &[(&str, &str)] = &[("alice", "/"), ("bob", "/dev/")];

/// Groups a described account may have.
pub const ESTATE_GROUPS: &[&str] = &["devs", "admins"];

/// Our organization's root and OUs: (id, parent) in the universe's tree.
pub const ESTATE_ROOT: &str = "r-a1b2";
const OU_PROD: &str = "ou-a1b2-prod0001";
const OU_DEV: &str = "ou-a1b2-dev00001";
const OU_TEAM: &str = "ou-a1b2-team0001";

/// The resources an estate may describe for account `a`: buckets (objects take their bucket's
/// policy), tables (indexes take their table's), the key, the queue.
pub fn estate_resources_of(a: &str) -> Vec<String> {
    let mut v = resources_of(a, ResKind::Bucket);
    v.push(format!("arn:aws:dynamodb:us-east-1:{a}:table/Orders"));
    v.push(format!("arn:aws:dynamodb:eu-west-1:{a}:table/Orders"));
    v.extend(resources_of(a, ResKind::Key));
    v.extend(resources_of(a, ResKind::Queue));
    v
}

/// The resource whose policy governs `arn`: a bucket for an object, a table for an index.
pub fn policy_holder(arn: &str) -> String {
    if let Some(rest) = arn.strip_prefix("arn:aws:s3:::") {
        if let Some((bucket, _)) = rest.split_once('/') {
            return format!("arn:aws:s3:::{bucket}");
        }
    }
    if let Some(i) = arn.find("/index/") {
        if arn.starts_with("arn:aws:dynamodb:") {
            return arn[..i].to_string();
        }
    }
    arn.to_string()
}

fn named(name: String, policy: GenPolicy) -> GenNamed {
    GenNamed { name, policy }
}

/// The SCPs attached at one level: `FullAWSAccess` most of the time, plus generated SCPs;
/// sometimes the level is unsaid.
pub fn scp_attachments(
    level: &str,
    hint: &Hint,
    s: &Settings,
) -> BoxedStrategy<Option<Vec<GenNamed>>> {
    let level = level.to_string();
    let ps = vec(
        policy(PolicyKind::Scp, Some(hint), s),
        0..=s.max_policies_per_level,
    );
    let attached = (proptest::bool::weighted(0.85), ps).prop_map(move |(full, ps)| {
        let mut out = Vec::new();
        if full || ps.is_empty() {
            out.push(GenNamed {
                name: "FullAWSAccess".to_string(),
                policy: full_aws_access(),
            });
        }
        for (i, p) in ps.into_iter().enumerate() {
            out.push(named(format!("{level}-scp{i}"), p));
        }
        out
    });
    maybe(0.9, attached)
}

/// The RCPs attached at one level (customer RCPs only deny); mostly none.
pub fn rcp_attachments(level: &str, hint: &Hint, s: &Settings) -> BoxedStrategy<Vec<GenNamed>> {
    let level = level.to_string();
    let ps = vec(
        policy(PolicyKind::Rcp, Some(hint), s),
        1..=s.max_policies_per_level.max(1),
    )
    .prop_map(move |ps| {
        ps.into_iter()
            .enumerate()
            .map(|(i, p)| named(format!("{level}-rcp{i}"), p))
            .collect::<Vec<_>>()
    });
    prop_oneof![3 => Just(Vec::new()), 1 => ps].boxed()
}

/// Where an account of our organization sits: 0 root, 1 prod, 2 dev, 3 team, 4 outside.
fn placement(usual: u32) -> BoxedStrategy<u32> {
    let w = |i: u32| if i == usual { 6 } else { 1 };
    prop_oneof![
        w(0) => Just(0u32),
        w(1) => Just(1u32),
        w(2) => Just(2u32),
        w(3) => Just(3u32),
        w(4) => Just(4u32),
    ]
    .boxed()
}

/// The SCPs and the RCPs attached at one level.
type LevelAttachments = (
    BoxedStrategy<Option<Vec<GenNamed>>>,
    BoxedStrategy<Vec<GenNamed>>,
);

/// Our organization (nine times in ten): the universe's tree with its accounts placed, the team
/// OU under dev or under the root, SCPs and RCPs at every level. OUs that hold no account are
/// left out.
pub fn organization(hint: &Hint, s: &Settings) -> BoxedStrategy<Option<GenOrg>> {
    let levels: Vec<LevelAttachments> = [ESTATE_ROOT, OU_PROD, OU_DEV, OU_TEAM]
        .iter()
        .map(|id| (scp_attachments(id, hint, s), rcp_attachments(id, hint, s)))
        .collect();
    let tree = (
        placement(1),
        placement(3),
        proptest::bool::weighted(0.8),
        levels,
    )
        .prop_map(|(p222, p333, team_under_dev, mut levels)| {
            let mut unit = |id: &str| {
                let (scps, rcps) = levels.remove(0);
                GenUnit {
                    id: id.to_string(),
                    scps,
                    rcps,
                    accounts: vec![],
                    units: vec![],
                }
            };
            let mut root = unit(ESTATE_ROOT);
            let mut prod = unit(OU_PROD);
            let mut dev = unit(OU_DEV);
            let mut team = unit(OU_TEAM);
            root.accounts.push("111111111111".to_string());
            for (acct, p) in [("222222222222", p222), ("333333333333", p333)] {
                let target = match p {
                    0 => &mut root,
                    1 => &mut prod,
                    2 => &mut dev,
                    3 => &mut team,
                    _ => continue,
                };
                target.accounts.push(acct.to_string());
            }
            if team_under_dev {
                dev.units.push(team);
                root.units.push(prod);
                root.units.push(dev);
            } else {
                root.units.push(prod);
                root.units.push(dev);
                root.units.push(team);
            }
            root.prune();
            GenOrg {
                id: ORG_ID.to_string(),
                management_account: "111111111111".to_string(),
                root,
            }
        });
    maybe(0.9, tree)
}

fn team_tag() -> BoxedStrategy<Vec<(String, String)>> {
    maybe(0.4, select(vec!["red", "blue", "Red"]))
        .prop_map(|t| {
            t.map(|v| vec![("team".to_string(), v.to_string())])
                .unwrap_or_default()
        })
        .boxed()
}

fn role_strategy(name: &str, path: &str, hint: &Hint, s: &Settings) -> BoxedStrategy<GenRole> {
    let (name, path) = (name.to_string(), path.to_string());
    (
        maybe(0.85, policy(PolicyKind::Trust, Some(hint), s)),
        vec(
            policy(PolicyKind::Identity, Some(hint), s),
            0..=s.max_identity_policies,
        ),
        maybe(0.3, policy(PolicyKind::Boundary, Some(hint), s)),
        team_tag(),
    )
        .prop_map(
            move |(trust_policy, policies, permissions_boundary, tags)| GenRole {
                name: name.clone(),
                path: path.clone(),
                trust_policy,
                policies,
                permissions_boundary,
                tags,
            },
        )
        .boxed()
}

fn user_strategy(name: &str, path: &str, hint: &Hint, s: &Settings) -> BoxedStrategy<GenUser> {
    let (name, path) = (name.to_string(), path.to_string());
    (
        vec(
            policy(PolicyKind::Identity, Some(hint), s),
            0..=s.max_identity_policies,
        ),
        proptest::sample::subsequence(strings(ESTATE_GROUPS), 0..=ESTATE_GROUPS.len()),
        maybe(0.3, policy(PolicyKind::Boundary, Some(hint), s)),
        team_tag(),
    )
        .prop_map(
            move |(policies, groups, permissions_boundary, tags)| GenUser {
                name: name.clone(),
                path: path.clone(),
                policies,
                groups,
                permissions_boundary,
                tags,
            },
        )
        .boxed()
}

fn group_strategy(name: &str, hint: &Hint, s: &Settings) -> BoxedStrategy<GenGroup> {
    let name = name.to_string();
    vec(
        policy(PolicyKind::Identity, Some(hint), s),
        1..=s.max_identity_policies.max(1),
    )
    .prop_map(move |policies| GenGroup {
        name: name.clone(),
        policies,
    })
    .boxed()
}

fn resource_strategy(arn: &str, hint: &Hint, s: &Settings) -> BoxedStrategy<GenResource> {
    let kind = PolicyKind::Resource(ResourceService::from_arn(arn));
    let arn = arn.to_string();
    (
        maybe(0.8, policy(kind, Some(hint), s)),
        maybe(0.3, select(vec!["prod", "dev"])),
    )
        .prop_map(move |(policy, env)| GenResource {
            arn: arn.clone(),
            policy,
            tags: env
                .map(|v| vec![("env".to_string(), v.to_string())])
                .unwrap_or_default(),
        })
        .boxed()
}

/// Which role or user of its account a request principal is (`None` for root and others).
fn principal_entity(p: &str) -> Option<(bool, String)> {
    match Principal::parse(p).ok()? {
        Principal::User { name, .. } => Some((false, name)),
        Principal::Role { name, .. } => Some((true, name)),
        Principal::AssumedRole { role, .. } => Some((true, role)),
        _ => None,
    }
}

/// One account of the universe: described or not (then open world), and what it holds.
fn account_strategy(
    a: &'static AccountDef,
    er: &GenEstateRequest,
    hint: &Hint,
    s: &Settings,
) -> BoxedStrategy<Option<GenAccount>> {
    let req = &er.request;
    let paccount = req.principal_account().map(str::to_string);
    let own = paccount.as_deref() == Some(a.id);
    let federated = own && req.principal.contains(":federated-user/");
    let holder = policy_holder(&req.resource);
    let owns_resource = crate::pattern::split_arn(&req.resource).is_some_and(|p| p[4] == a.id)
        || req.resource_account.as_deref() == Some(a.id);
    let describe = if federated {
        // Federation sessions are not modelled in described accounts.
        0.0
    } else if own || owns_resource {
        0.75
    } else {
        0.3
    };
    let entity = if own {
        principal_entity(&req.principal)
    } else {
        None
    };
    let roles: Vec<BoxedStrategy<Option<GenRole>>> = ESTATE_ROLES
        .iter()
        .map(|(name, path)| {
            let arn = format!("arn:aws:iam::{}:role{path}{name}", a.id);
            let p = if entity.as_ref() == Some(&(true, name.to_string())) {
                1.0
            } else if holder == arn {
                0.8
            } else if name.starts_with("AWSServiceRoleFor") {
                0.15
            } else {
                0.3
            };
            maybe(p, role_strategy(name, path, hint, s))
        })
        .collect();
    let users: Vec<BoxedStrategy<Option<GenUser>>> = ESTATE_USERS
        .iter()
        .map(|(name, path)| {
            let p = if entity.as_ref() == Some(&(false, name.to_string())) {
                1.0
            } else {
                0.3
            };
            maybe(p, user_strategy(name, path, hint, s))
        })
        .collect();
    let groups: Vec<BoxedStrategy<Option<GenGroup>>> = ESTATE_GROUPS
        .iter()
        .map(|g| maybe(0.3, group_strategy(g, hint, s)))
        .collect();
    let resources: Vec<BoxedStrategy<Option<GenResource>>> = estate_resources_of(a.id)
        .into_iter()
        .map(|arn| {
            let p = if arn == holder { 0.8 } else { 0.2 };
            maybe(p, resource_strategy(&arn, hint, s))
        })
        .collect();
    let id = a.id;
    let body = (
        scp_attachments(id, hint, s),
        rcp_attachments(id, hint, s),
        roles,
        users,
        groups,
        resources,
    )
        .prop_map(move |(scps, rcps, roles, users, groups, resources)| {
            let groups: Vec<GenGroup> = groups.into_iter().flatten().collect();
            let users = users
                .into_iter()
                .flatten()
                .map(|mut u| {
                    u.groups.retain(|g| groups.iter().any(|x| &x.name == g));
                    u
                })
                .collect();
            GenAccount {
                id: id.to_string(),
                scps,
                rcps,
                roles: roles.into_iter().flatten().collect(),
                users,
                groups,
                resources: resources.into_iter().flatten().collect(),
            }
        });
    maybe(describe, body)
}

/// `aws:TagKeys` lists the `aws:RequestTag/*` keys, as in every request AWS sends
/// (corpus/DECISIONS.md 36): the union of both, each listed key given a tag.
fn tie_tag_keys(context: &mut Vec<(String, GenCtx)>) {
    let mut keys: Vec<String> = Vec::new();
    let add = |keys: &mut Vec<String>, k: &str| {
        if !keys.iter().any(|x| x.eq_ignore_ascii_case(k)) {
            keys.push(k.to_string());
        }
    };
    for (k, v) in context.iter() {
        if let Some(tag) = crate::model::request_tag_key(k) {
            add(&mut keys, tag);
        } else if k.eq_ignore_ascii_case("aws:TagKeys") {
            match v {
                GenCtx::One(x) => add(&mut keys, x),
                GenCtx::Many(xs) => xs.iter().for_each(|x| add(&mut keys, x)),
            }
        }
    }
    if keys.is_empty() {
        return;
    }
    context.retain(|(k, _)| !k.eq_ignore_ascii_case("aws:TagKeys"));
    for k in &keys {
        let tagged = context.iter().any(|(c, _)| {
            crate::model::request_tag_key(c).is_some_and(|t| t.eq_ignore_ascii_case(k))
        });
        if !tagged {
            context.push((
                format!("aws:RequestTag/{k}"),
                GenCtx::One("dev".to_string()),
            ));
        }
    }
    context.push(("aws:TagKeys".to_string(), GenCtx::Many(keys)));
}

/// A request against an estate: a [`request`] of the universe, sometimes with a session policy
/// (sessions) and session tags (role sessions).
pub fn estate_request(s: &Settings) -> BoxedStrategy<GenEstateRequest> {
    let s = *s;
    request(&s)
        .prop_map(|mut req| {
            req.principal = caller_of(&req.principal);
            // AssumeRole's required parameter (corpus/DECISIONS.md 31).
            if req.action.eq_ignore_ascii_case("sts:AssumeRole")
                && !req
                    .context
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("sts:RoleSessionName"))
            {
                req.context.push((
                    "sts:RoleSessionName".to_string(),
                    GenCtx::One("generated".to_string()),
                ));
            }
            // Only a service principal carries the source keys (corpus/DECISIONS.md 37).
            if !matches!(Principal::parse(&req.principal), Ok(Principal::Service(_))) {
                req.context.retain(|(k, _)| {
                    !crate::model::SOURCE_KEYS
                        .iter()
                        .any(|s| k.eq_ignore_ascii_case(s.0))
                });
            }
            tie_tag_keys(&mut req.context);
            req
        })
        .prop_flat_map(move |req| {
            let hint = Hint::of(&req);
            let session = req.principal.contains(":assumed-role/")
                || req.principal.contains(":federated-user/");
            let role_session = req.principal.contains(":assumed-role/");
            let sp = if session { 0.3 } else { 0.0 };
            let st = if role_session { 0.2 } else { 0.0 };
            (
                Just(req),
                maybe(sp, policy(PolicyKind::Session, Some(&hint), &s)),
                maybe(st, select(vec!["red", "blue"])),
            )
        })
        .prop_map(|(request, session_policy, tag)| GenEstateRequest {
            request,
            session_policy,
            session_tags: tag
                .map(|v| vec![("team".to_string(), v.to_string())])
                .unwrap_or_default(),
        })
        .boxed()
}

/// The caller an estate request makes of a generated principal: a role calls AWS only through a
/// session, and the estate refuses the role's own ARN as the caller, so a role stands for one of
/// its sessions.
pub fn caller_of(principal: &str) -> String {
    match Principal::parse(principal) {
        Ok(Principal::Role {
            partition,
            account,
            name,
            ..
        }) => format!("arn:{partition}:sts::{account}:assumed-role/{name}/s1"),
        _ => principal.to_string(),
    }
}

/// An estate leaning towards `er`.
pub fn estate(er: &GenEstateRequest, s: &Settings) -> BoxedStrategy<GenEstate> {
    let hint = Hint::of(&er.request);
    let accounts: Vec<BoxedStrategy<Option<GenAccount>>> = ACCOUNTS
        .iter()
        .map(|a| account_strategy(a, er, &hint, s))
        .collect();
    (organization(&hint, s), accounts)
        .prop_map(|(organization, accounts)| {
            let accounts = accounts
                .into_iter()
                .flatten()
                .map(|mut a| {
                    // Only an account in the organization has attachments of its own.
                    if !organization.as_ref().is_some_and(|o| o.contains(&a.id)) {
                        a.scps = None;
                        a.rcps.clear();
                    }
                    a
                })
                .collect();
            GenEstate {
                organization,
                accounts,
            }
        })
        .boxed()
}

/// A whole estate case: a request, then an estate that leans towards it.
pub fn estate_case(s: &Settings) -> BoxedStrategy<GenEstateCase> {
    let s = *s;
    estate_request(&s)
        .prop_flat_map(move |request| {
            (estate(&request, &s), Just(request)).prop_map(|(estate, mut request)| {
                // Session tags only where the role's trust policy allows sts:TagSession (else
                // AWS refuses them and the estate rejects the request).
                if !request.session_tags.is_empty() {
                    let built = estate.build();
                    let may = Principal::parse(&request.request.principal)
                        .ok()
                        .and_then(|p| match built.residence(&p) {
                            Ok(crate::estate::Residence::Role(_, r)) => Some(r.may_tag_sessions()),
                            _ => None,
                        })
                        .unwrap_or(true);
                    if !may {
                        request.session_tags.clear();
                    }
                }
                GenEstateCase { estate, request }
            })
        })
        .boxed()
}

fn write_tags(o: &mut String, tags: &[(String, String)]) {
    o.push('{');
    for (i, (k, v)) in tags.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        write_str(o, k);
        o.push(':');
        write_str(o, v);
    }
    o.push('}');
}

fn write_names(o: &mut String, ps: &[GenNamed]) {
    let names: Vec<String> = ps.iter().map(|p| p.name.clone()).collect();
    write_list(o, &names, Style::default());
}

fn write_policies(o: &mut String, ps: &[GenPolicy]) {
    o.push('[');
    for (i, p) in ps.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str(&p.to_json(Style::default()));
    }
    o.push(']');
}

fn write_unit(o: &mut String, u: &GenUnit) {
    o.push_str("{\"id\":");
    write_str(o, &u.id);
    if let Some(s) = &u.scps {
        o.push_str(",\"scps\":");
        write_names(o, s);
    }
    o.push_str(",\"rcps\":");
    write_names(o, &u.rcps);
    o.push_str(",\"accounts\":");
    write_list(o, &u.accounts, Style::default());
    o.push_str(",\"units\":[");
    for (i, c) in u.units.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        write_unit(o, c);
    }
    o.push_str("]}");
}

impl GenEstate {
    /// Every SCP and RCP attached anywhere, once per name, in tree order.
    pub fn org_policies(&self) -> Vec<&GenNamed> {
        let mut all: Vec<&GenNamed> = Vec::new();
        if let Some(org) = &self.organization {
            for u in org.root.all_units() {
                all.extend(u.scps.iter().flatten());
                all.extend(&u.rcps);
            }
        }
        for a in &self.accounts {
            all.extend(a.scps.iter().flatten());
            all.extend(&a.rcps);
        }
        let mut out: Vec<&GenNamed> = Vec::new();
        for p in all {
            if !out.iter().any(|q| q.name == p.name) {
                out.push(p);
            }
        }
        out
    }

    /// A described account.
    pub fn account(&self, id: &str) -> Option<&GenAccount> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// The estate as a spec (interfaces.md §3) with no properties, on one line. Policies are
    /// named as `xverify` names them when it reads the spec, so explanations agree.
    pub fn to_spec_json(&self) -> String {
        let mut o = String::from("{");
        if let Some(org) = &self.organization {
            o.push_str("\"organization\":{\"id\":");
            write_str(&mut o, &org.id);
            o.push_str(",\"management_account\":");
            write_str(&mut o, &org.management_account);
            o.push_str(",\"policies\":{");
            for (i, p) in self.org_policies().into_iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                write_str(&mut o, &p.name);
                o.push(':');
                o.push_str(&p.policy.to_json(Style::default()));
            }
            o.push_str("},\"root\":");
            write_unit(&mut o, &org.root);
            o.push_str("},");
        }
        o.push_str("\"accounts\":{");
        for (i, a) in self.accounts.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            write_str(&mut o, &a.id);
            o.push_str(":{");
            if let Some(s) = &a.scps {
                o.push_str("\"scps\":");
                write_names(&mut o, s);
                o.push(',');
            }
            if !a.rcps.is_empty() {
                o.push_str("\"rcps\":");
                write_names(&mut o, &a.rcps);
                o.push(',');
            }
            o.push_str("\"roles\":{");
            for (j, r) in a.roles.iter().enumerate() {
                if j > 0 {
                    o.push(',');
                }
                write_str(&mut o, &r.name);
                o.push_str(":{\"path\":");
                write_str(&mut o, &r.path);
                if let Some(t) = &r.trust_policy {
                    o.push_str(",\"trust_policy\":");
                    o.push_str(&t.to_json(Style::default()));
                }
                o.push_str(",\"policies\":");
                write_policies(&mut o, &r.policies);
                if let Some(b) = &r.permissions_boundary {
                    o.push_str(",\"permissions_boundary\":");
                    o.push_str(&b.to_json(Style::default()));
                }
                o.push_str(",\"tags\":");
                write_tags(&mut o, &r.tags);
                o.push('}');
            }
            o.push_str("},\"users\":{");
            for (j, u) in a.users.iter().enumerate() {
                if j > 0 {
                    o.push(',');
                }
                write_str(&mut o, &u.name);
                o.push_str(":{\"path\":");
                write_str(&mut o, &u.path);
                o.push_str(",\"policies\":");
                write_policies(&mut o, &u.policies);
                o.push_str(",\"groups\":");
                write_list(&mut o, &u.groups, Style::default());
                if let Some(b) = &u.permissions_boundary {
                    o.push_str(",\"permissions_boundary\":");
                    o.push_str(&b.to_json(Style::default()));
                }
                o.push_str(",\"tags\":");
                write_tags(&mut o, &u.tags);
                o.push('}');
            }
            o.push_str("},\"groups\":{");
            for (j, g) in a.groups.iter().enumerate() {
                if j > 0 {
                    o.push(',');
                }
                write_str(&mut o, &g.name);
                o.push_str(":{\"policies\":");
                write_policies(&mut o, &g.policies);
                o.push('}');
            }
            o.push_str("},\"resources\":{");
            for (j, r) in a.resources.iter().enumerate() {
                if j > 0 {
                    o.push(',');
                }
                write_str(&mut o, &r.arn);
                o.push_str(":{");
                if let Some(p) = &r.policy {
                    o.push_str("\"policy\":");
                    o.push_str(&p.to_json(Style::default()));
                    o.push(',');
                }
                o.push_str("\"tags\":");
                write_tags(&mut o, &r.tags);
                o.push('}');
            }
            o.push_str("}}");
        }
        o.push_str("},\"properties\":[]}");
        o
    }

    /// The engine's estate, every policy parsed from its text and named as `xverify` names it
    /// when it reads the spec.
    pub fn build(&self) -> Estate {
        let tags =
            |t: &[(String, String)]| -> BTreeMap<String, String> { t.iter().cloned().collect() };
        let list = |ps: &[GenPolicy], owner: &str| -> Vec<Policy> {
            ps.iter()
                .enumerate()
                .map(|(i, p)| p.parse_as(&format!("{owner}[{i}]"), Style::default()))
                .collect()
        };
        let named_list = |ps: &[GenNamed], kind: PolicyKind| -> Vec<Policy> {
            ps.iter()
                .map(|n| parsed(&n.policy.to_json(Style::default()), kind, &n.name))
                .collect()
        };
        let organization = self.organization.as_ref().map(|o| Organization {
            id: o.id.clone(),
            management_account: o.management_account.clone(),
            root: o.root.build(),
        });
        let mut accounts = BTreeMap::new();
        for a in &self.accounts {
            let roles = a
                .roles
                .iter()
                .map(|r| {
                    (
                        r.name.clone(),
                        RoleDef {
                            name: r.name.clone(),
                            path: r.path.clone(),
                            trust_policy: r.trust_policy.as_ref().map(|p| {
                                p.parse_as(&format!("{} trust policy", r.name), Style::default())
                            }),
                            policies: list(&r.policies, &format!("role {}", r.name)),
                            permissions_boundary: r.permissions_boundary.as_ref().map(|p| {
                                p.parse_as(
                                    &format!("{} permissions boundary", r.name),
                                    Style::default(),
                                )
                            }),
                            tags: tags(&r.tags),
                        },
                    )
                })
                .collect();
            let users = a
                .users
                .iter()
                .map(|u| {
                    (
                        u.name.clone(),
                        UserDef {
                            name: u.name.clone(),
                            path: u.path.clone(),
                            policies: list(&u.policies, &format!("user {}", u.name)),
                            groups: u.groups.clone(),
                            permissions_boundary: u.permissions_boundary.as_ref().map(|p| {
                                p.parse_as(
                                    &format!("{} permissions boundary", u.name),
                                    Style::default(),
                                )
                            }),
                            tags: tags(&u.tags),
                        },
                    )
                })
                .collect();
            let groups = a
                .groups
                .iter()
                .map(|g| {
                    (
                        g.name.clone(),
                        GroupDef {
                            policies: list(&g.policies, &format!("group {}", g.name)),
                        },
                    )
                })
                .collect();
            let resources = a
                .resources
                .iter()
                .map(|r| {
                    (
                        r.arn.clone(),
                        ResourceDef {
                            arn: r.arn.clone(),
                            policy: r.policy.as_ref().map(|p| {
                                p.parse_as(&format!("{} policy", r.arn), Style::default())
                            }),
                            tags: tags(&r.tags),
                        },
                    )
                })
                .collect();
            accounts.insert(
                a.id.clone(),
                Account {
                    id: a.id.clone(),
                    name: None,
                    scps: a.scps.as_ref().map(|s| named_list(s, PolicyKind::Scp)),
                    rcps: named_list(&a.rcps, PolicyKind::Rcp),
                    roles,
                    users,
                    groups,
                    resources,
                },
            );
        }
        Estate {
            organization,
            accounts,
        }
    }
}

impl GenEstateRequest {
    /// The engine's estate request.
    #[expect(
        clippy::panic,
        reason = "generated principals are valid ARNs; a failure is a generator bug"
    )]
    pub fn build(&self) -> EstateRequest {
        let r = &self.request;
        let principal = match Principal::parse(&r.principal) {
            Ok(p) => p,
            Err(e) => panic!("generated principal rejected: {e}"),
        };
        let mut er = EstateRequest::new(principal, &r.action, &r.resource);
        er.resource_account = r.resource_account.clone();
        er.context = context_of(&r.context);
        er.session_policy = self
            .session_policy
            .as_ref()
            .map(|p| p.parse_as("session_policy", Style::default()));
        er.session_tags = self.session_tags.iter().cloned().collect();
        er
    }

    /// One line of `xverify eval --spec` input.
    pub fn to_request_line(&self) -> String {
        let req = self.request.to_json();
        let mut o = String::from("{\"id\":\"generated\",");
        // `{"principal": ... "context": {...}}` without its braces.
        o.push_str(&req[1..req.len() - 1]);
        if let Some(p) = &self.session_policy {
            o.push_str(",\"session_policy\":");
            o.push_str(&p.to_json(Style::default()));
        }
        if !self.session_tags.is_empty() {
            o.push_str(",\"session_tags\":");
            write_tags(&mut o, &self.session_tags);
        }
        o.push('}');
        o
    }
}

impl GenEstateCase {
    /// The engine's estate and request.
    pub fn build(&self) -> (Estate, EstateRequest) {
        (self.estate.build(), self.request.build())
    }

    /// The spec, a newline, the request line.
    pub fn to_reproducer(&self) -> String {
        format!(
            "{}\n{}",
            self.estate.to_spec_json(),
            self.request.to_request_line()
        )
    }
}

impl fmt::Debug for GenEstateCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_reproducer())
    }
}

impl fmt::Display for GenEstateCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_reproducer())
    }
}

fn context_of(entries: &[(String, GenCtx)]) -> Context {
    let mut ctx = Context::new();
    for (k, v) in entries {
        ctx.insert(
            k,
            match v {
                GenCtx::One(s) => ContextValue::One(s.clone()),
                GenCtx::Many(v) => ContextValue::Many(v.clone()),
            },
        );
    }
    ctx
}

/// A case line (interfaces.md §2) holding exactly `set` and `req`: every policy as it prints,
/// under its name, and the request with its whole context. What `Estate::gather` applied, as the
/// case evaluator reads it.
pub fn case_line_of(set: &PolicySet, req: &Request) -> String {
    let entry = |o: &mut String, p: &Policy| {
        o.push_str("{\"name\":");
        write_str(o, &p.name);
        o.push_str(",\"policy\":");
        o.push_str(&p.to_json());
        o.push('}');
    };
    let mut o = String::from("{\"id\":\"gathered\",\"identity_policies\":[");
    for (i, p) in set.identity.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        entry(&mut o, p);
    }
    o.push(']');
    for (name, p) in [
        ("resource_policy", &set.resource),
        ("permission_boundary", &set.boundary),
        ("session_policy", &set.session),
    ] {
        if let Some(p) = p {
            o.push_str(",\"");
            o.push_str(name);
            o.push_str("\":");
            entry(&mut o, p);
        }
    }
    for (name, ls) in [("scps", &set.scps), ("rcps", &set.rcps)] {
        o.push_str(",\"");
        o.push_str(name);
        o.push_str("\":[");
        for (l, ps) in ls.iter().enumerate() {
            if l > 0 {
                o.push(',');
            }
            o.push('[');
            for (i, p) in ps.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                entry(&mut o, p);
            }
            o.push(']');
        }
        o.push(']');
    }
    o.push_str(",\"request\":{\"principal\":");
    write_str(&mut o, &req.principal.to_arn_string());
    o.push_str(",\"action\":");
    write_str(&mut o, &req.action);
    o.push_str(",\"resource\":");
    write_str(&mut o, &req.resource);
    if let Some(a) = &req.resource_account {
        o.push_str(",\"resource_account\":");
        write_str(&mut o, a);
    }
    o.push_str(",\"context\":{");
    for (i, (k, v)) in req.context.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        write_str(&mut o, k);
        o.push(':');
        match v {
            ContextValue::One(s) => write_str(&mut o, s),
            ContextValue::Many(vs) => write_list(&mut o, vs, Style::default()),
        }
    }
    o.push_str("}}}");
    o
}

// ---------------------------------------------------------------------------------------------
// arbitrary, for cargo-fuzz

/// Fuzzer inputs longer than this are cut (a fuzzer's `-max_len` should be at most this).
pub const MAX_FUZZ_BYTES: usize = 8192;

/// Draw one value of `strategy` determined by `bytes`: every byte is folded into the seed of a
/// ChaCha RNG. (proptest's pass-through RNG would let the bytes steer each choice, but it hands
/// half of what is left to every `prop_flat_map` and, once drained, returns zeros on which
/// rand's unbiased range sampling loops forever; these strategies flat-map per statement.)
pub fn from_bytes<S: Strategy>(strategy: S, bytes: &[u8]) -> arbitrary::Result<S::Value> {
    let bytes = &bytes[..bytes.len().min(MAX_FUZZ_BYTES)];
    let mut lanes = [
        0xcbf2_9ce4_8422_2325u64,
        0x9e37_79b9_7f4a_7c15,
        0xbf58_476d_1ce4_e5b9,
        0x94d0_49bb_1331_11eb,
    ];
    for (i, &b) in bytes.iter().enumerate() {
        let lane = &mut lanes[i % 4];
        *lane = (*lane ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut seed = [0u8; 32];
    for (chunk, lane) in seed.chunks_mut(8).zip(lanes) {
        // splitmix64 finalizer, so that short inputs still spread over the whole seed.
        let mut z = lane.wrapping_add(bytes.len() as u64);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    strategy
        .new_tree(&mut runner)
        .map(|t| t.current())
        .map_err(|_| arbitrary::Error::IncorrectFormat)
}

fn take<'a>(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<&'a [u8]> {
    let n = u.len().min(MAX_FUZZ_BYTES);
    u.bytes(n)
}

/// A whole case from fuzzer bytes; `Debug` prints the case line that reproduces it.
#[derive(Clone, PartialEq, Eq)]
pub struct FuzzCase(pub GenCase);

impl<'a> arbitrary::Arbitrary<'a> for FuzzCase {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        from_bytes(case(&Settings::DEEP), take(u)?).map(FuzzCase)
    }
}

impl fmt::Debug for FuzzCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_case_line())
    }
}

/// An estate and a request against it from fuzzer bytes; `Debug` prints the spec and the request
/// line that reproduce it.
#[derive(Clone, PartialEq, Eq)]
pub struct FuzzEstate(pub GenEstateCase);

impl<'a> arbitrary::Arbitrary<'a> for FuzzEstate {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        from_bytes(estate_case(&Settings::DEEP), take(u)?).map(FuzzEstate)
    }
}

impl fmt::Debug for FuzzEstate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_reproducer())
    }
}

/// A policy of any kind from fuzzer bytes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FuzzPolicy(pub GenPolicy);

impl<'a> arbitrary::Arbitrary<'a> for FuzzPolicy {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        from_bytes(any_policy(&Settings::DEEP), take(u)?).map(FuzzPolicy)
    }
}

/// A wildcard pattern and a text from fuzzer bytes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FuzzPattern {
    pub pattern: String,
    pub text: String,
}

impl<'a> arbitrary::Arbitrary<'a> for FuzzPattern {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        from_bytes(pattern_and_text(), take(u)?)
            .map(|(pattern, text)| FuzzPattern { pattern, text })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn universe_is_consistent() {
        let u = universe();
        for p in &u.principals {
            assert!(Principal::parse(p).is_ok(), "{p}");
        }
        for (r, owner) in &u.resources {
            assert!(crate::pattern::split_arn(r).is_some(), "{r}");
            assert!(account(owner).is_some());
        }
        assert_eq!(
            ACCOUNTS[2].org_path().as_deref(),
            Some("o-a1b2c3d4e5/r-a1b2/ou-a1b2-dev00001/ou-a1b2-team0001/")
        );
    }

    #[test]
    fn recase_changes_case_only() {
        let r = recase("s3:GetObject", 0);
        assert_ne!(r, "s3:GetObject");
        assert_eq!(r.to_lowercase(), "s3:getobject");
        assert_eq!(
            recase_variables("a/${aws:username}/${*}/${k, 'Dflt'}", 0),
            "a/${Aws:username}/${*}/${K, 'Dflt'}"
        );
    }

    #[test]
    fn fuzz_bytes_make_estates_that_print_and_gather() {
        use arbitrary::Arbitrary;
        for seed in 0u8..10 {
            let bytes: Vec<u8> = (0..2048u32)
                .map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed ^ 0x5a))
                .collect();
            let mut u = arbitrary::Unstructured::new(&bytes);
            let e = FuzzEstate::arbitrary(&mut u).unwrap();
            let text = format!("{e:?}");
            let (spec, line) = text.split_once('\n').unwrap();
            assert!(crate::json::Json::parse(spec).is_ok(), "{spec}");
            assert!(crate::json::Json::parse(line).is_ok(), "{line}");
            let (estate, er) = e.0.build();
            estate.gather(&er).unwrap();
        }
    }

    #[test]
    fn fuzz_bytes_make_cases() {
        use arbitrary::Arbitrary;
        for seed in 0u8..20 {
            let bytes: Vec<u8> = (0..2048u32)
                .map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed))
                .collect();
            let mut u = arbitrary::Unstructured::new(&bytes);
            let c = FuzzCase::arbitrary(&mut u).unwrap();
            let line = format!("{c:?}");
            assert!(line.starts_with("{\"id\":\"generated\""));
            let _ = c.0.decide();
        }
    }
}
