//! # xverify-benches
//!
//! Deterministic generators for the criterion suites of `benches/` (one file per question:
//! `parse`, `decide`, `eval_batch`, `matching`, `prove`) and for profiling by hand (the examples
//! `gen_cases` and `gen_estate`). Universe first: a few accounts, an organization, services with
//! their actions and ARN shapes, condition keys; policies are drawn from it, and the requests the
//! benchmarks decide come from the same universe, so that filler statements do real matching work
//! (same services, neighbouring resources) without deciding the planted requests.
//!
//! Everything is seeded: the same call gives the same text, so figures are comparable run to run.

use serde_json::{json, Map, Value};
use xverify_engine::{
    parse_policy_with, Context, ContextValue, ParseOptions, Policy, PolicyKind, PolicySet,
    Principal, Request, ResourceService,
};

/// The caller's account.
pub const ACCOUNT: &str = "111111111111";
/// Another account of the same organization, owning the cross-account resources.
pub const OTHER: &str = "222222222222";
/// The organization of both.
pub const ORG: &str = "o-bench00001";
/// The role every decide request comes from (sessions of it).
pub const ROLE: &str = "app-data";

const REGIONS: &[&str] = &["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"];

/// A small, fast, seeded generator (splitmix64): no dependency, same stream everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next_u64() % 100 < pct
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// A service of the universe: its prefix, some of its actions and its ARN shapes (`{a}` account,
/// `{r}` region, `{n}` a number).
struct Service {
    prefix: &'static str,
    actions: &'static [&'static str],
    arns: &'static [&'static str],
}

const SERVICES: &[Service] = &[
    Service {
        prefix: "s3",
        actions: &[
            "GetObject",
            "PutObject",
            "DeleteObject",
            "ListBucket",
            "GetObjectTagging",
            "GetBucketLocation",
        ],
        arns: &[
            "arn:aws:s3:::bucket-{n}/*",
            "arn:aws:s3:::bucket-{n}",
            "arn:aws:s3:::bucket-{n}/home/${aws:PrincipalTag/team}/*",
            "arn:aws:s3:::logs-{n}-*/AWSLogs/{a}/*",
        ],
    },
    Service {
        prefix: "dynamodb",
        actions: &[
            "GetItem",
            "Query",
            "Scan",
            "PutItem",
            "UpdateItem",
            "BatchGetItem",
        ],
        arns: &[
            "arn:aws:dynamodb:{r}:{a}:table/T{n}",
            "arn:aws:dynamodb:{r}:{a}:table/T{n}/index/*",
            "arn:aws:dynamodb:*:{a}:table/${aws:PrincipalTag/team}-*",
        ],
    },
    Service {
        prefix: "sqs",
        actions: &[
            "SendMessage",
            "ReceiveMessage",
            "DeleteMessage",
            "GetQueueAttributes",
        ],
        arns: &[
            "arn:aws:sqs:{r}:{a}:queue-{n}",
            "arn:aws:sqs:*:{a}:queue-{n}-*",
        ],
    },
    Service {
        prefix: "kms",
        actions: &["Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey"],
        arns: &["arn:aws:kms:{r}:{a}:key/1234abcd-12ab-34cd-56ef-{n}"],
    },
    Service {
        prefix: "lambda",
        actions: &["InvokeFunction", "GetFunction", "UpdateFunctionCode"],
        arns: &[
            "arn:aws:lambda:{r}:{a}:function:fn-{n}",
            "arn:aws:lambda:{r}:{a}:function:fn-{n}:*",
        ],
    },
    Service {
        prefix: "logs",
        actions: &["CreateLogStream", "PutLogEvents", "DescribeLogGroups"],
        arns: &["arn:aws:logs:{r}:{a}:log-group:/app/{n}:*"],
    },
    Service {
        prefix: "secretsmanager",
        actions: &["GetSecretValue", "DescribeSecret"],
        arns: &["arn:aws:secretsmanager:{r}:{a}:secret:app/{n}-??????"],
    },
    Service {
        prefix: "ec2",
        actions: &["DescribeInstances", "StartInstances", "StopInstances"],
        arns: &["arn:aws:ec2:{r}:{a}:instance/*", "*"],
    },
];

/// Actions no planted request uses: the filler `Deny` statements guard these.
const GUARDED: &[&str] = &[
    "iam:*",
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
    "kms:ScheduleKeyDeletion",
    "ec2:TerminateInstances",
    "organizations:LeaveOrganization",
    "cloudtrail:StopLogging",
];

fn fill(template: &str, account: &str, region: &str, n: usize) -> String {
    template
        .replace("{a}", account)
        .replace("{r}", region)
        .replace("{n}", &n.to_string())
}

/// What a generated statement may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StmtOpts {
    /// Add zero to three `Condition` operators.
    pub conditions: bool,
    /// Allow policy variables (`${aws:PrincipalTag/team}`) in resources and condition values.
    pub variables: bool,
}

impl StmtOpts {
    pub const PLAIN: StmtOpts = StmtOpts {
        conditions: false,
        variables: false,
    };
    pub const FULL: StmtOpts = StmtOpts {
        conditions: true,
        variables: true,
    };
}

/// One condition block of one to three operators, each on its own key.
fn condition(rng: &mut Rng, opts: StmtOpts) -> Value {
    let mut c = Map::new();
    let wanted = 1 + rng.below(3);
    let mut tries = 0;
    while c.len() < wanted && tries < 10 {
        tries += 1;
        let (op, block) = match rng.below(11) {
            0 => (
                "StringEquals",
                json!({"aws:RequestedRegion": [rng.pick(REGIONS), rng.pick(REGIONS)]}),
            ),
            1 => ("Bool", json!({"aws:SecureTransport": "true"})),
            2 => (
                "IpAddress",
                json!({"aws:SourceIp": ["10.0.0.0/8", format!("192.0.{}.0/24", rng.below(256))]}),
            ),
            3 if opts.variables => (
                "StringLike",
                json!({"s3:prefix": ["home/${aws:PrincipalTag/team}/*", "shared/*"]}),
            ),
            4 => (
                "StringEqualsIgnoreCase",
                json!({"aws:PrincipalTag/team": format!("team-{}", rng.below(20))}),
            ),
            5 => (
                "DateLessThan",
                json!({"aws:CurrentTime": format!("20{}-01-01T00:00:00Z", 26 + rng.below(10))}),
            ),
            6 => (
                "ArnLike",
                json!({"aws:PrincipalArn": format!("arn:aws:iam::{ACCOUNT}:role/app-{}*", rng.below(50))}),
            ),
            7 => ("StringEquals", json!({"aws:PrincipalOrgID": ORG})),
            8 => ("NumericLessThanEquals", json!({"s3:max-keys": "100"})),
            9 => (
                "ForAnyValue:StringEquals",
                json!({"aws:TagKeys": ["env", "team", "cost-center"]}),
            ),
            _ => (
                "StringEqualsIfExists",
                json!({"aws:ResourceTag/env": ["prod", "staging"]}),
            ),
        };
        if !c.contains_key(op) {
            c.insert(op.to_string(), block);
        }
    }
    Value::Object(c)
}

/// A realistic statement: mostly `Allow` on two to four actions of one service (some wildcards)
/// and one or two resources of resource numbers `1..1000` (never `0`: the planted requests use
/// their own names), sometimes a guard `Deny` of dangerous actions; conditions as `opts` says.
pub fn statement(rng: &mut Rng, index: usize, account: &str, opts: StmtOpts) -> Value {
    let mut st = Map::new();
    st.insert("Sid".into(), json!(format!("S{index}")));
    if rng.chance(12) {
        st.insert("Effect".into(), json!("Deny"));
        let a: Vec<&str> = (0..1 + rng.below(3)).map(|_| *rng.pick(GUARDED)).collect();
        st.insert("Action".into(), json!(a));
        st.insert("Resource".into(), json!("*"));
    } else {
        st.insert("Effect".into(), json!("Allow"));
        let svc = rng.pick(SERVICES);
        let mut actions: Vec<String> = (0..2 + rng.below(3))
            .map(|_| {
                let a = rng.pick(svc.actions);
                if rng.chance(20) {
                    format!("{}:{}*", svc.prefix, &a[..3.min(a.len())])
                } else {
                    format!("{}:{a}", svc.prefix)
                }
            })
            .collect();
        actions.dedup();
        st.insert("Action".into(), json!(actions));
        let resources: Vec<String> = (0..1 + rng.below(2))
            .map(|_| {
                let mut t = *rng.pick(svc.arns);
                if !opts.variables && t.contains("${") {
                    t = svc.arns[0];
                }
                let region = *rng.pick(REGIONS);
                fill(t, account, region, 1 + rng.below(999))
            })
            .collect();
        st.insert("Resource".into(), json!(resources));
    }
    if opts.conditions && rng.chance(60) {
        st.insert("Condition".into(), condition(rng, opts));
    }
    Value::Object(st)
}

/// `n` resource patterns as policies write them (wildcards, `?`, `${aws:PrincipalTag/team}`),
/// drawn from every service of the universe.
pub fn arn_patterns(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let svc = rng.pick(SERVICES);
            let (arn, region) = (*rng.pick(svc.arns), *rng.pick(REGIONS));
            fill(arn, ACCOUNT, region, 1 + rng.below(20))
        })
        .collect()
}

/// A policy document of `n` generated statements.
pub fn policy_doc(seed: u64, n: usize, opts: StmtOpts) -> Value {
    let mut rng = Rng::new(seed);
    let st: Vec<Value> = (0..n)
        .map(|i| statement(&mut rng, i, ACCOUNT, opts))
        .collect();
    json!({"Version": "2012-10-17", "Statement": st})
}

/// Parse generated policy text (size limits off: the large sets exceed AWS's).
pub fn parse(doc: &str, kind: PolicyKind, name: &str) -> Policy {
    match parse_policy_with(doc, kind, name, ParseOptions { size_limits: false }) {
        Ok(p) => p,
        Err(e) => panic_msg(&format!(
            "generated policy {name} does not parse: {}",
            e.render(name, doc)
        )),
    }
}

#[expect(
    clippy::panic,
    reason = "generators build known-good inputs; a failure is a bug here"
)]
fn panic_msg(m: &str) -> ! {
    panic!("{m}")
}

// ---------------------------------------------------------------------------------------------
// Decide: policy sets and requests.

/// The shape of a decide benchmark's policy set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetSize {
    pub name: &'static str,
    pub policies: usize,
    pub statements: usize,
}

pub const SMALL: SetSize = SetSize {
    name: "small",
    policies: 1,
    statements: 5,
};
pub const MEDIUM: SetSize = SetSize {
    name: "medium",
    policies: 5,
    statements: 50,
};
pub const LARGE: SetSize = SetSize {
    name: "large",
    policies: 20,
    statements: 1_000,
};

/// What the planted statements look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planted {
    /// Action and resource only.
    Plain,
    /// Conditions on region, transport and source IP.
    Conditions,
    /// The same conditions and `${aws:PrincipalTag/team}` in the resource.
    Variables,
}

/// The guard every set starts with: deny everything over plain HTTP (the AWS-recommended
/// statement; it is evaluated on every request and decides the `explicit` scenarios).
fn guard() -> Value {
    json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Action": "*", "Resource": "*",
           "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
}

/// The guard as a bucket policy writes it.
fn resource_guard() -> Value {
    let mut g = guard();
    g["Principal"] = json!("*");
    g
}

fn planted_allow(p: Planted) -> Value {
    let resource = match p {
        Planted::Variables => "arn:aws:s3:::app-data-*/home/${aws:PrincipalTag/team}/*",
        _ => "arn:aws:s3:::app-data-*/home/*",
    };
    let mut st = json!({"Sid": "AppDataRead", "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": resource});
    if p != Planted::Plain {
        st["Condition"] = json!({
            "StringEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]},
            "Bool": {"aws:SecureTransport": "true"},
            "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "172.16.0.0/12"]}});
    }
    st
}

/// The identity policies of a set of `size`: the guard first, the planted `Allow` last, generated
/// statements between, spread evenly over `size.policies` documents. Returns the documents' text.
pub fn identity_docs(size: SetSize, planted: Planted, fillers: StmtOpts, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let per = size.statements / size.policies;
    let mut docs = Vec::new();
    let mut index = 0;
    for p in 0..size.policies {
        let mut st = Vec::new();
        for s in 0..per {
            let first = p == 0 && s == 0;
            let last = p + 1 == size.policies && s + 1 == per;
            st.push(if first {
                guard()
            } else if last {
                planted_allow(planted)
            } else {
                statement(&mut rng, index, ACCOUNT, fillers)
            });
            index += 1;
        }
        docs.push(json!({"Version": "2012-10-17", "Statement": st}).to_string());
    }
    docs
}

/// The bucket policy of `OTHER`'s bucket `app-data-222222222222`: guard, a few generated grants to
/// other accounts, and the cross-account grant to `ROLE` for principals of `ORG`.
pub fn bucket_policy_doc(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut st = vec![resource_guard()];
    for i in 0..3 {
        st.push(json!({"Sid": format!("Partner{i}"), "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{}:root", 333_333_333_333u64 + rng.below(1000) as u64)},
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [format!("arn:aws:s3:::app-data-{OTHER}/partner-{i}/*"), format!("arn:aws:s3:::app-data-{OTHER}")]}));
    }
    st.push(json!({"Sid": "OrgRoleRead", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}")},
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::app-data-{OTHER}/*"),
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}));
    json!({"Version": "2012-10-17", "Statement": st}).to_string()
}

/// A decide scenario: which request against which set, and what the engine must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Same account, the planted statement allows.
    SameAllow,
    /// Same account, the planted statement's region condition fails: implicit deny.
    SameImplicitDeny,
    /// Same account over plain HTTP: the guard denies.
    SameExplicitDeny,
    /// Cross-account with the bucket policy granting the role for the organization: allow.
    CrossAllow,
    /// Cross-account from another organization: the bucket policy does not grant, implicit deny.
    CrossDeny,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Scenario::SameAllow,
        Scenario::SameImplicitDeny,
        Scenario::SameExplicitDeny,
        Scenario::CrossAllow,
        Scenario::CrossDeny,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::SameAllow => "same-account/allow",
            Scenario::SameImplicitDeny => "same-account/implicit-deny",
            Scenario::SameExplicitDeny => "same-account/explicit-deny",
            Scenario::CrossAllow => "cross-account/allow",
            Scenario::CrossDeny => "cross-account/deny",
        }
    }

    pub fn is_cross(self) -> bool {
        matches!(self, Scenario::CrossAllow | Scenario::CrossDeny)
    }

    pub fn expected(self) -> xverify_engine::Decision {
        use xverify_engine::Decision::*;
        match self {
            Scenario::SameAllow | Scenario::CrossAllow => Allow,
            Scenario::SameImplicitDeny | Scenario::CrossDeny => ImplicitDeny,
            Scenario::SameExplicitDeny => ExplicitDeny,
        }
    }
}

/// The request of a scenario: a session of `ROLE` reading a team object in `app-data-<owner>`.
pub fn request(s: Scenario) -> Request {
    let owner = if s.is_cross() { OTHER } else { ACCOUNT };
    let mut ctx = Context::new();
    let one = |v: &str| ContextValue::One(v.to_string());
    ctx.insert("aws:PrincipalTag/team", one("team-7"));
    ctx.insert(
        "aws:RequestedRegion",
        one(if s == Scenario::SameImplicitDeny {
            "eu-west-1"
        } else {
            "us-east-1"
        }),
    );
    ctx.insert(
        "aws:SecureTransport",
        one(if s == Scenario::SameExplicitDeny {
            "false"
        } else {
            "true"
        }),
    );
    ctx.insert("aws:SourceIp", one("10.1.2.3"));
    ctx.insert("aws:CurrentTime", one("2025-06-01T12:00:00Z"));
    ctx.insert(
        "aws:PrincipalOrgID",
        one(if s == Scenario::CrossDeny {
            "o-elsewhere01"
        } else {
            ORG
        }),
    );
    ctx.insert("s3:prefix", one("home/team-7/"));
    let principal = match Principal::parse(&format!(
        "arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/session-1"
    )) {
        Ok(p) => p,
        Err(e) => panic_msg(&e.0),
    };
    Request::new(
        principal,
        "s3:GetObject",
        &format!("arn:aws:s3:::app-data-{owner}/home/team-7/2025/06/report.csv"),
        Some(owner.to_string()),
        ctx,
    )
}

/// The policy set of a scenario: identity policies of `size`, plus the bucket policy when
/// cross-account.
pub fn policy_set(size: SetSize, s: Scenario, planted: Planted, fillers: StmtOpts) -> PolicySet {
    let identity = identity_docs(size, planted, fillers, 7)
        .iter()
        .enumerate()
        .map(|(i, d)| parse(d, PolicyKind::Identity, &format!("identity_policies[{i}]")))
        .collect();
    let resource = s.is_cross().then(|| {
        parse(
            &bucket_policy_doc(11),
            PolicyKind::Resource(ResourceService::S3),
            "resource_policy",
        )
    });
    PolicySet {
        identity,
        resource,
        ..PolicySet::default()
    }
}

// ---------------------------------------------------------------------------------------------
// `xverify eval` case lines.

const FULL_AWS_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// `n` case lines (`interfaces.md` §2) of about 1.1 KB each: two identity policies with
/// conditions, a resource policy, two SCP levels (FullAWSAccess; a region and guard-rail deny)
/// and a request drawn from the same universe; about half are allowed.
pub fn case_lines(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let region_scp = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyOutsideRegions", "Effect": "Deny", "NotAction": ["iam:*", "sts:*", "organizations:*"],
         "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2", "eu-west-1"]}}},
        {"Sid": "Allow", "Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let full: Value = serde_json::from_str(FULL_AWS_ACCESS).unwrap_or(Value::Null);
    (0..n)
        .map(|i| {
            let svc_i = rng.below(3);
            let (svc, action, account) = (
                ["s3", "dynamodb", "sqs"][svc_i],
                *rng.pick(SERVICES[[0, 1, 2][svc_i]].actions),
                if rng.chance(70) { ACCOUNT } else { OTHER },
            );
            let region = *rng.pick(&REGIONS[..3]);
            let num = rng.below(50);
            let resource = match svc {
                "s3" => format!("arn:aws:s3:::data-{account}-{num}/team-{}/obj-{i}.json", num % 8),
                "dynamodb" => format!("arn:aws:dynamodb:{region}:{account}:table/T{num}"),
                _ => format!("arn:aws:sqs:{region}:{account}:queue-{num}"),
            };
            let grant_res = match svc {
                "s3" => format!("arn:aws:s3:::data-{account}-{num}/${{aws:PrincipalTag/team}}/*"),
                "dynamodb" => format!("arn:aws:dynamodb:*:{account}:table/T{num}"),
                _ => format!("arn:aws:sqs:*:{account}:queue-{num}*"),
            };
            // About half allowed: the identity policy grants this very action half the time, the
            // resource policy 40% (same account: either; cross-account: both).
            let granted = if rng.chance(50) { action } else { "Describe*" };
            let rp_granted = if rng.chance(40) { action } else { "Describe*" };
            let id1 = json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "Work", "Effect": "Allow", "Action": [format!("{svc}:{granted}"), format!("{svc}:List*")],
                 "Resource": grant_res, "Condition": {"Bool": {"aws:SecureTransport": "true"},
                    "StringEquals": {"aws:RequestedRegion": REGIONS[..3]}}},
                {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                 "Resource": format!("arn:aws:logs:*:{ACCOUNT}:log-group:/app/*")}]});
            let id2 = json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "NoDeletes", "Effect": "Deny", "Action": ["s3:DeleteBucket", "dynamodb:DeleteTable", "sqs:DeleteQueue"], "Resource": "*"},
                {"Sid": "Tagged", "Effect": "Allow", "Action": format!("{svc}:*"), "Resource": "*",
                 "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}}]});
            let rp = json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "OrgRead", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}")},
                 "Action": format!("{svc}:{rp_granted}"), "Resource": resource,
                 "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}]});
            let team = format!("team-{}", rng.below(8));
            let secure = if rng.chance(95) { "true" } else { "false" };
            json!({
                "id": format!("c{i}"),
                "identity_policies": [id1, id2],
                "resource_policy": rp,
                "scps": [[full], [region_scp]],
                "request": {
                    "principal": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/s{i}"),
                    "action": format!("{svc}:{action}"),
                    "resource": resource,
                    "resource_account": account,
                    "context": {"aws:PrincipalTag/team": team, "aws:RequestedRegion": region,
                                "aws:SecureTransport": secure, "aws:PrincipalOrgID": ORG,
                                "aws:SourceIp": format!("10.0.{}.{}", rng.below(256), rng.below(256))}
                }
            })
            .to_string()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// `aws iam get-account-authorization-details`.

fn trust_doc(rng: &mut Rng) -> Value {
    if rng.chance(30) {
        let service = *rng.pick(&["lambda.amazonaws.com", "ec2.amazonaws.com"]);
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole"}]})
    } else {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{OTHER}:role/ci-{}", rng.below(40))},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {"sts:ExternalId": format!("ext-{}", rng.below(1000))}}}]})
    }
}

fn inline_doc(rng: &mut Rng, n: usize) -> Value {
    let st: Vec<Value> = (0..n)
        .map(|i| statement(rng, i, ACCOUNT, StmtOpts::FULL))
        .collect();
    json!({"Version": "2012-10-17", "Statement": st})
}

/// One account's `get-account-authorization-details` output of at least `min_bytes` (pretty
/// printed as the AWS CLI prints it): users, groups, roles with trust and inline policies, and
/// customer managed policies with two versions each.
pub fn authorization_details(min_bytes: usize, seed: u64) -> String {
    let mut units = 16;
    loop {
        let text = authorization_details_of(units, seed);
        if text.len() >= min_bytes {
            return text;
        }
        units = units * min_bytes / text.len().max(1) + 1;
    }
}

fn authorization_details_of(units: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let date = "2024-03-14T09:26:53+00:00";
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut roles = Vec::new();
    let mut policies = Vec::new();
    for u in 0..units {
        users.push(json!({"Path": "/", "UserName": format!("user-{u}"), "UserId": format!("AIDA{u:016}"),
            "Arn": format!("arn:aws:iam::{ACCOUNT}:user/user-{u}"), "CreateDate": date,
            "UserPolicyList": [{"PolicyName": "inline", "PolicyDocument": inline_doc(&mut rng, 2)}],
            "GroupList": [format!("group-{}", u % 7)],
            "AttachedManagedPolicies": [{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
            "Tags": [{"Key": "team", "Value": format!("team-{}", u % 8)}]}));
        if u % 4 == 0 {
            groups.push(json!({"Path": "/", "GroupName": format!("group-{u}"), "GroupId": format!("AGPA{u:016}"),
                "Arn": format!("arn:aws:iam::{ACCOUNT}:group/group-{u}"), "CreateDate": date,
                "GroupPolicyList": [{"PolicyName": "group-inline", "PolicyDocument": inline_doc(&mut rng, 3)}],
                "AttachedManagedPolicies": []}));
        }
        roles.push(json!({"Path": "/service/", "RoleName": format!("role-{u}"), "RoleId": format!("AROA{u:016}"),
            "Arn": format!("arn:aws:iam::{ACCOUNT}:role/service/role-{u}"), "CreateDate": date,
            "AssumeRolePolicyDocument": trust_doc(&mut rng),
            "InstanceProfileList": [],
            "RolePolicyList": [{"PolicyName": "work", "PolicyDocument": inline_doc(&mut rng, 4)}],
            "AttachedManagedPolicies": [{"PolicyName": format!("managed-{}", u % 10),
                "PolicyArn": format!("arn:aws:iam::{ACCOUNT}:policy/managed-{}", u % 10)}],
            "Tags": [{"Key": "team", "Value": format!("team-{}", u % 8)}],
            "RoleLastUsed": {"LastUsedDate": date, "Region": "us-east-1"}}));
        if u % 2 == 0 {
            let versions: Vec<Value> = (1..=2)
                .map(|v| {
                    json!({"Document": inline_doc(&mut rng, 5), "VersionId": format!("v{v}"),
                    "IsDefaultVersion": v == 2, "CreateDate": date})
                })
                .collect();
            policies.push(
                json!({"PolicyName": format!("managed-{u}"), "PolicyId": format!("ANPA{u:016}"),
                "Arn": format!("arn:aws:iam::{ACCOUNT}:policy/managed-{u}"), "Path": "/",
                "DefaultVersionId": "v2", "AttachmentCount": 3, "PermissionsBoundaryUsageCount": 0,
                "IsAttachable": true, "CreateDate": date, "UpdateDate": date,
                "PolicyVersionList": versions}),
            );
        }
    }
    let all = json!({"UserDetailList": users, "GroupDetailList": groups,
        "RoleDetailList": roles, "Policies": policies});
    serde_json::to_string_pretty(&all).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// A scaling estate (the shape of `benches/scripts/gen_estate.py`).

fn acct(i: usize) -> String {
    format!("{:012}", 200_000_000_000usize + i)
}

/// A spec of `n` accounts in one organization (ten per OU), each with ten roles (trusting roles
/// of neighbouring accounts; `Role0` trusting a vendor outside with an External ID), five
/// resources with policies (three DynamoDB tables granting the organization by
/// `aws:PrincipalOrgID`, two buckets granting named roles), and an RCP perimeter at the root.
/// Properties: `tables-stay-in-org` (direct) and `tables-stay-in-org-with-chains`, both `none`
/// over `outside-organization` and both proved.
pub fn estate_spec(n: usize) -> String {
    let org = "o-scale00001";
    let full = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let perimeter = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "OrgOnly", "Effect": "Deny", "Principal": "*",
        "Action": ["s3:*", "dynamodb:*", "sts:AssumeRole"], "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": org},
                      "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]});
    let units: Vec<Value> = (0..n.div_ceil(10))
        .map(|u| {
            json!({"id": format!("ou-scal-{u:08}"), "name": format!("unit{u}"), "scps": ["FullAWSAccess"],
                "rcps": [], "accounts": (u * 10..n.min(u * 10 + 10)).map(acct).collect::<Vec<_>>(), "units": []})
        })
        .collect();
    let vendor = "999999999999";
    let mut accounts = Map::new();
    for i in 0..n {
        let a = acct(i);
        let mut roles = Map::new();
        for r in 0..10 {
            let peer = acct((i + r + 1) % n);
            let trust = if r == 0 {
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{vendor}:root")}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": format!("ext-{i}")}}}]})
            } else {
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{peer}:role/Role{}", r - 1)}, "Action": "sts:AssumeRole"}]})
            };
            let pol = json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                 "Resource": format!("arn:aws:dynamodb:us-east-1:{}:table/T{}", acct((i + r) % n), r % 3)},
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": format!("arn:aws:iam::*:role/Role{}", r + 1)},
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": format!("arn:aws:s3:::bucket-{i}-*/*")}]});
            roles.insert(
                format!("Role{r}"),
                json!({"trust_policy": trust, "policies": [{"name": format!("Work{r}"), "policy": pol}],
                    "tags": {"team": format!("t{}", r % 4)}}),
            );
        }
        let mut resources = Map::new();
        for t in 0..3 {
            let arn = format!("arn:aws:dynamodb:us-east-1:{a}:table/T{t}");
            resources.insert(
                arn.clone(),
                json!({"policy": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": "*", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": arn,
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}}]}, "tags": {"class": "data"}}),
            );
        }
        for b in 0..2 {
            let bucket = format!("bucket-{i}-{b}");
            resources.insert(
                format!("arn:aws:s3:::{bucket}"),
                json!({"policy": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{}:role/Role{b}", acct((i + 1) % n))},
                    "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]}}),
            );
        }
        accounts.insert(
            a,
            json!({"name": format!("acct{i}"), "scps": ["FullAWSAccess"], "rcps": [],
                "roles": roles, "resources": resources}),
        );
    }
    let spec = json!({
        "organization": {"id": org, "management_account": "100000000000",
            "policies": {"FullAWSAccess": full, "Perimeter": perimeter},
            "root": {"id": "r-scal", "scps": ["FullAWSAccess"], "rcps": ["Perimeter"],
                     "accounts": ["100000000000"], "units": units}},
        "accounts": accounts,
        "properties": [
            {"name": "tables-stay-in-org", "expect": "none", "principals": ["outside-organization", "outside-account"],
             "actions": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
             "resources": ["arn:aws:dynamodb:*:*:table/*"], "via_assume_role": false},
            {"name": "tables-stay-in-org-with-chains", "expect": "none", "principals": ["outside-organization", "outside-account"],
             "actions": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
             "resources": ["arn:aws:dynamodb:*:*:table/*"]}
        ]
    });
    serde_json::to_string_pretty(&spec).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use xverify_engine::decide;

    #[test]
    fn every_scenario_decides_as_planted() {
        for size in [SMALL, MEDIUM, LARGE] {
            for s in Scenario::ALL {
                let set = policy_set(size, s, Planted::Variables, StmtOpts::FULL);
                let n: usize = set.identity.iter().map(|p| p.statements().len()).sum();
                assert_eq!(n, size.statements);
                assert_eq!(
                    decide(&set, &request(s)),
                    s.expected(),
                    "{} {}",
                    size.name,
                    s.name()
                );
            }
        }
    }

    #[test]
    fn case_lines_parse_and_mix_decisions() {
        let lines = case_lines(500, 1);
        let mut allowed = 0;
        for l in &lines {
            let c = xverify_engine::case::Case::parse(l, ParseOptions::default()).unwrap();
            allowed +=
                usize::from(decide(&c.policies, &c.request) == xverify_engine::Decision::Allow);
        }
        assert!((100..400).contains(&allowed), "{allowed} of 500 allowed");
    }

    #[test]
    fn authorization_details_reach_the_size() {
        let t = authorization_details(200_000, 3);
        assert!(t.len() >= 200_000);
        assert!(xverify_engine::json::Json::parse(&t).is_ok());
    }
}
