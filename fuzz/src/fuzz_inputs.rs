//! Fuzz inputs: reading choices from bytes, the universe cases are drawn from, and the
//! generators of case lines, specs and estate requests. Shared by the fuzz targets (through
//! `fuzz_checks.rs`), `proofs/tests/fuzz_replay.rs` and `engine/tests/fuzz_reference.rs`, so it
//! depends on nothing but the engine and `serde_json`.
//!
//! An input that starts with `{` is text as written; any other first byte drives a generator.
//! (The engine's `generate` feature has `Arbitrary` types, but they hash all the bytes into one RNG
//! seed, so a mutation does not steer them; and `proofs`' tests build the engine without that
//! feature. These generators read the bytes as choices instead.)

use serde_json::{json, Map, Value};
use xverify_engine::pattern::fold;
use xverify_engine::{ContextValue, Policy, PolicySet, Request};

// ---------------------------------------------------------------------------------------------
// Reading choices from bytes

/// A cursor of choices over the fuzz input; reads past the end give 0.
pub struct Src<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Src<'a> {
    pub fn new(data: &'a [u8]) -> Src<'a> {
        Src { data, pos: 0 }
    }

    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// A number in `0..n` (`n` at most 256).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            0
        } else {
            usize::from(self.byte()) % n
        }
    }

    /// True with probability `k`/8.
    pub fn chance(&mut self, k: u8) -> bool {
        self.byte() % 8 < k
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

// ---------------------------------------------------------------------------------------------
// The universe cases are drawn from

const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];

const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::111111111111:user/alice",
    "arn:aws:iam::111111111111:role/app",
    "arn:aws:sts::111111111111:assumed-role/app/s1",
    "arn:aws:iam::111111111111:root",
    "arn:aws:iam::222222222222:user/bob",
    "arn:aws:sts::222222222222:assumed-role/ops/s2",
    "arn:aws:iam::222222222222:role/service-role/ops",
    "arn:aws:sts::333333333333:federated-user/fed",
    "arn:aws:sts::111111111111:assumed-role/AWSServiceRoleForSupport/s3",
    "arn:aws:iam::333333333333:root",
    "anonymous",
    "s3.amazonaws.com",
    "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com",
];

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "dynamodb:GetItem",
    "kms:Decrypt",
    "kms:RetireGrant",
    "sts:AssumeRole",
    "sts:TagSession",
    "sts:AssumeRoleWithWebIdentity",
    "sts:GetCallerIdentity",
    "iam:GetRole",
    "sqs:SendMessage",
    "ec2:RunInstances",
];

const RESOURCES: &[&str] = &[
    "arn:aws:s3:::bucket-a/home/alice/k.txt",
    "arn:aws:s3:::bucket-a",
    "arn:aws:dynamodb:us-east-1:222222222222:table/T",
    "arn:aws:dynamodb:us-east-1:222222222222:table/T/index/I",
    "arn:aws:kms:us-east-1:111111111111:key/k1",
    "arn:aws:iam::111111111111:role/app",
    "arn:aws:iam::222222222222:role/service-role/ops",
    "arn:aws:sqs:us-east-1:222222222222:q",
    "arn:aws:ec2:us-east-1:111111111111:instance/i-1",
    "*",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fam {
    Str,
    Multi,
    Num,
    Date,
    Bool,
    Ip,
    Arn,
    Bin,
}

const KEYS: &[(&str, Fam, &[&str])] = &[
    ("aws:PrincipalTag/team", Fam::Str, &["red", "Blue", "a*b"]),
    ("aws:username", Fam::Str, &["alice", "bob", "Alice"]),
    ("s3:prefix", Fam::Str, &["home/alice/", "home/", "public/x"]),
    ("sts:ExternalId", Fam::Str, &["ext-1", "ext-2"]),
    ("aws:PrincipalOrgID", Fam::Str, &["o-aaaa", "o-bbbb"]),
    (
        "aws:SourceAccount",
        Fam::Str,
        &["111111111111", "222222222222"],
    ),
    ("aws:TagKeys", Fam::Multi, &["team", "env", "Owner"]),
    (
        "aws:PrincipalOrgPaths",
        Fam::Multi,
        &["o-aaaa/r-1/ou-1/", "o-aaaa/r-1/"],
    ),
    ("s3:max-keys", Fam::Num, &["10", "100", "1e3", "-1.5"]),
    (
        "aws:CurrentTime",
        Fam::Date,
        &["2024-01-01T00:00:00Z", "2030-06-01T12:00:00Z", "1700000000"],
    ),
    ("aws:MultiFactorAuthPresent", Fam::Bool, &["true", "false"]),
    ("aws:SecureTransport", Fam::Bool, &["true", "false", "TRUE"]),
    (
        "aws:SourceIp",
        Fam::Ip,
        &["10.0.0.1", "192.168.1.7", "2001:db8::1"],
    ),
    (
        "aws:SourceArn",
        Fam::Arn,
        &[
            "arn:aws:s3:::bucket-a",
            "arn:aws:sns:us-east-1:111111111111:t",
        ],
    ),
    (
        "s3:ExistingObjectTag/blob",
        Fam::Bin,
        &["aGVsbG8=", "d29ybGQ="],
    ),
];

fn ops_of(f: Fam) -> &'static [&'static str] {
    match f {
        Fam::Str | Fam::Multi => &[
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
        ],
        Fam::Num => &[
            "NumericEquals",
            "NumericNotEquals",
            "NumericLessThan",
            "NumericLessThanEquals",
            "NumericGreaterThan",
            "NumericGreaterThanEquals",
        ],
        Fam::Date => &[
            "DateEquals",
            "DateNotEquals",
            "DateLessThan",
            "DateLessThanEquals",
            "DateGreaterThan",
            "DateGreaterThanEquals",
        ],
        Fam::Bool => &["Bool"],
        Fam::Ip => &["IpAddress", "NotIpAddress"],
        Fam::Arn => &["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"],
        Fam::Bin => &["BinaryEquals"],
    }
}

/// Policy values for a condition on a key of family `f`.
fn cond_value(s: &mut Src, f: Fam, values: &[&str]) -> String {
    let v = s.pick(values).to_string();
    match f {
        Fam::Arn if s.chance(4) => wild_arn(s, &v),
        Fam::Str | Fam::Multi | Fam::Arn => match s.below(6) {
            0 => wild(s, &v),
            1 => "${aws:username}".to_string(),
            2 => format!(
                "home/${{aws:username}}/{}",
                if s.chance(4) { "*" } else { "" }
            ),
            3 => "${aws:PrincipalTag/team, 'red'}".to_string(),
            _ => v,
        },
        Fam::Ip => s
            .pick(&["10.0.0.0/8", "192.168.1.7/32", "2001:db8::/32", "0.0.0.0/0"])
            .to_string(),
        Fam::Num => s.pick(&["10", "100", "0", "1000.5"]).to_string(),
        Fam::Date => s
            .pick(&["2025-01-01T00:00:00Z", "2024-01-01", "1700000000"])
            .to_string(),
        _ => v,
    }
}

/// A policy pattern from a real name: as is, `*`, truncated + `*`, one character as `?`,
/// upper-cased.
fn wild(s: &mut Src, name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match s.below(6) {
        0 => "*".to_string(),
        1 => {
            // Keep the service prefix of an action (`s3:`): `s3*` is not an action pattern.
            let keep = name.find(':').map_or(0, |i| i + 1);
            let cut = (keep + s.below(chars.len() + 1)).min(chars.len());
            chars[..cut].iter().collect::<String>() + "*"
        }
        2 if !chars.is_empty() => {
            let at = s.below(chars.len());
            let mut c = chars.clone();
            c[at] = '?';
            c.into_iter().collect()
        }
        3 => name.to_uppercase(),
        _ => name.to_string(),
    }
}

/// A resource pattern from a real ARN: `arn:` stays, the rest as [`wild`] (no upper-casing).
fn wild_arn(s: &mut Src, arn: &str) -> String {
    let Some(rest) = arn.strip_prefix("arn:") else {
        return arn.to_string();
    };
    match s.below(8) {
        0 => "arn:*".to_string(),
        1..=3 => {
            let w = wild(s, rest);
            if w == rest.to_uppercase() && w != rest {
                arn.to_string()
            } else {
                format!("arn:{w}")
            }
        }
        _ => arn.to_string(),
    }
}

/// What a generated policy is for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Gen {
    Identity,
    Resource,
    Trust,
    Scp,
    Rcp,
    Boundary,
    Session,
}

fn one_or_many(s: &mut Src, mut items: Vec<String>) -> Value {
    if items.len() == 1 && s.chance(4) {
        Value::String(items.remove(0))
    } else {
        Value::Array(items.into_iter().map(Value::String).collect())
    }
}

fn gen_principal(s: &mut Src) -> Value {
    match s.below(8) {
        0 => json!("*"),
        1 => json!({"AWS": "*"}),
        2 => json!({"AWS": s.pick(&ACCOUNTS)}),
        3 => json!({"AWS": format!("arn:aws:iam::{}:root", s.pick(&ACCOUNTS))}),
        4 => json!({"Service": s.pick(&["s3.amazonaws.com", "cloudtrail.amazonaws.com"])}),
        5 => {
            json!({"Federated": "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"})
        }
        _ => {
            let p = s.pick(&[
                "arn:aws:iam::111111111111:user/alice",
                "arn:aws:iam::111111111111:role/app",
                "arn:aws:sts::111111111111:assumed-role/app/s1",
                "arn:aws:iam::222222222222:role/ops",
                "arn:aws:iam::222222222222:user/bob",
                "arn:aws:sts::333333333333:federated-user/fed",
            ]);
            json!({"AWS": p})
        }
    }
}

fn gen_condition(s: &mut Src, block: &mut Map<String, Value>) {
    let (key, fam, values) = s.pick(KEYS);
    let (op, null) = if s.chance(1) {
        ("Null".to_string(), true)
    } else {
        // Mostly the key's own family, sometimes another (the parser or the operator decides).
        let f = if s.chance(1) {
            s.pick(&[Fam::Str, Fam::Num, Fam::Date, Fam::Ip, Fam::Arn])
        } else {
            fam
        };
        let mut op = s.pick(ops_of(f)).to_string();
        if fam == Fam::Multi || s.chance(1) {
            match s.below(3) {
                0 => op = format!("ForAllValues:{op}"),
                1 => op = format!("ForAnyValue:{op}"),
                _ => {}
            }
        }
        if s.chance(1) {
            op.push_str("IfExists");
        }
        (op, false)
    };
    let vals: Vec<String> = if null {
        vec![s.pick(&["true", "false"]).to_string()]
    } else {
        (0..1 + s.below(2))
            .map(|_| cond_value(s, fam, values))
            .collect()
    };
    let v = one_or_many(s, vals);
    let entry = block.entry(op).or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = entry {
        m.insert(key.to_string(), v);
    }
}

fn gen_policy(s: &mut Src, g: Gen) -> Value {
    let mut stmts = Vec::new();
    let n = 1 + s.below(3);
    for i in 0..n {
        let mut st = Map::new();
        if s.chance(2) {
            st.insert("Sid".into(), json!(format!("S{i}")));
        }
        let effect = match g {
            Gen::Rcp => "Deny",
            Gen::Scp | Gen::Boundary | Gen::Session if s.chance(5) => "Allow",
            _ if s.chance(3) => "Deny",
            _ => "Allow",
        };
        st.insert("Effect".into(), json!(effect));
        match g {
            Gen::Resource => {
                let key = if s.chance(if effect == "Deny" { 2 } else { 1 }) {
                    "NotPrincipal"
                } else {
                    "Principal"
                };
                st.insert(key.into(), gen_principal(s));
            }
            Gen::Trust => {
                st.insert("Principal".into(), gen_principal(s));
            }
            Gen::Rcp => {
                st.insert("Principal".into(), json!("*"));
            }
            _ => {}
        }
        let actions: Vec<String> = if g == Gen::Trust {
            vec![s
                .pick(&[
                    "sts:AssumeRole",
                    "sts:TagSession",
                    "sts:AssumeRoleWithWebIdentity",
                    "sts:*",
                ])
                .to_string()]
        } else {
            (0..1 + s.below(2))
                .map(|_| {
                    let a = s.pick(ACTIONS);
                    wild(s, a)
                })
                .collect()
        };
        let key = if s.chance(1) { "NotAction" } else { "Action" };
        let v = one_or_many(s, actions);
        st.insert(key.into(), v);
        if g != Gen::Trust {
            let rs: Vec<String> = (0..1 + s.below(2))
                .map(|_| match s.below(8) {
                    0 => "arn:aws:s3:::bucket-a/home/${aws:username}/*".to_string(),
                    1 => "*".to_string(),
                    _ => {
                        let r = s.pick(RESOURCES);
                        wild_arn(s, r)
                    }
                })
                .collect();
            let key = if s.chance(1) {
                "NotResource"
            } else {
                "Resource"
            };
            let v = one_or_many(s, rs);
            st.insert(key.into(), v);
        }
        if g != Gen::Rcp || s.chance(6) {
            let mut block = Map::new();
            for _ in 0..s.below(3) {
                gen_condition(s, &mut block);
            }
            if !block.is_empty() {
                st.insert("Condition".into(), Value::Object(block));
            }
        }
        stmts.push(Value::Object(st));
    }
    let mut p = Map::new();
    match s.below(8) {
        0 => {}
        1 => {
            p.insert("Version".into(), json!("2008-10-17"));
        }
        _ => {
            p.insert("Version".into(), json!("2012-10-17"));
        }
    }
    p.insert(
        "Statement".into(),
        if stmts.len() == 1 && s.chance(2) {
            stmts.remove(0)
        } else {
            Value::Array(stmts)
        },
    );
    Value::Object(p)
}

fn full_access() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

fn gen_context(s: &mut Src) -> Value {
    let mut ctx = Map::new();
    for _ in 0..s.below(4) {
        let (key, fam, values) = s.pick(KEYS);
        let v = if fam == Fam::Multi || s.chance(1) {
            let n = s.below(3);
            Value::Array((0..n).map(|_| json!(s.pick(values))).collect())
        } else {
            json!(s.pick(values))
        };
        ctx.insert(key.to_string(), v);
    }
    Value::Object(ctx)
}

/// A case line drawn from the universe.
fn gen_case(s: &mut Src) -> String {
    let principal = s.pick(PRINCIPALS);
    let action = s.pick(ACTIONS);
    let resource = s.pick(RESOURCES);
    let mut case = Map::new();
    case.insert("id".into(), json!("fuzz"));
    let ids: Vec<Value> = (0..s.below(3))
        .map(|_| gen_policy(s, Gen::Identity))
        .collect();
    case.insert("identity_policies".into(), Value::Array(ids));
    if s.chance(5) {
        let trust = xverify_engine::eval::is_trust_request(&fold(action), resource);
        let g = if trust { Gen::Trust } else { Gen::Resource };
        case.insert("resource_policy".into(), gen_policy(s, g));
    }
    if s.chance(2) {
        case.insert("permission_boundary".into(), gen_policy(s, Gen::Boundary));
    }
    if s.chance(2) {
        case.insert("session_policy".into(), gen_policy(s, Gen::Session));
    }
    if s.chance(3) {
        let levels: Vec<Value> = (0..1 + s.below(2))
            .map(|_| {
                let mut level = vec![full_access()];
                if s.chance(4) {
                    level.push(gen_policy(s, Gen::Scp));
                }
                if s.chance(2) {
                    level.remove(0);
                }
                Value::Array(level)
            })
            .collect();
        case.insert("scps".into(), Value::Array(levels));
    }
    if s.chance(2) {
        let levels: Vec<Value> = (0..1 + s.below(2))
            .map(|_| Value::Array(vec![gen_policy(s, Gen::Rcp)]))
            .collect();
        case.insert("rcps".into(), Value::Array(levels));
    }
    let mut req = Map::new();
    req.insert("principal".into(), json!(principal));
    req.insert("action".into(), json!(action));
    req.insert("resource".into(), json!(resource));
    if (resource.starts_with("arn:aws:s3") || resource == "*" || s.chance(1)) && s.chance(6) {
        req.insert("resource_account".into(), json!(s.pick(&ACCOUNTS)));
    }
    req.insert("context".into(), gen_context(s));
    case.insert("request".into(), Value::Object(req));
    Value::Object(case).to_string()
}

/// The case line of an input: the input itself when it starts with `{`, else a generated one.
pub fn case_line(data: &[u8]) -> String {
    if data.first() == Some(&b'{') {
        String::from_utf8_lossy(data).into_owned()
    } else {
        gen_case(&mut Src::new(data))
    }
}

// ---------------------------------------------------------------------------------------------
// Estates

const SPEC_ACCOUNTS: [&str; 2] = ["111111111111", "222222222222"];

fn gen_spec(s: &mut Src) -> Value {
    let mut spec = Map::new();
    let org = s.chance(5);
    if org {
        let mut policies = Map::new();
        policies.insert("FullAWSAccess".into(), full_access());
        policies.insert("Guard".into(), gen_policy(s, Gen::Scp));
        policies.insert("Perimeter".into(), gen_policy(s, Gen::Rcp));
        let scps = |s: &mut Src| -> Value {
            match s.below(4) {
                0 => json!(["FullAWSAccess"]),
                1 => json!(["FullAWSAccess", "Guard"]),
                2 => json!(["Guard"]),
                _ => json!([]),
            }
        };
        let mut root_accounts = vec![json!("999999999999")];
        let mut ou_accounts = Vec::new();
        for a in SPEC_ACCOUNTS {
            match s.below(3) {
                0 => root_accounts.push(json!(a)),
                1 => ou_accounts.push(json!(a)),
                _ => {}
            }
        }
        let mut ou = Map::new();
        ou.insert("id".into(), json!("ou-1"));
        if s.chance(6) {
            ou.insert("scps".into(), scps(s));
        }
        ou.insert(
            "rcps".into(),
            if s.chance(3) {
                json!(["Perimeter"])
            } else {
                json!([])
            },
        );
        ou.insert("accounts".into(), Value::Array(ou_accounts));
        let mut root = Map::new();
        root.insert("id".into(), json!("r-1"));
        if s.chance(6) {
            root.insert("scps".into(), scps(s));
        }
        root.insert("accounts".into(), Value::Array(root_accounts));
        root.insert("units".into(), json!([Value::Object(ou)]));
        spec.insert(
            "organization".into(),
            json!({"id": "o-aaaa", "management_account": "999999999999", "policies": policies, "root": root}),
        );
    }
    let mut accounts = Map::new();
    for (i, id) in SPEC_ACCOUNTS.iter().enumerate() {
        if i > 0 && s.chance(3) {
            continue;
        }
        let mut a = Map::new();
        let tags = |s: &mut Src| -> Value {
            if s.chance(4) {
                json!({"team": s.pick(&["red", "blue"])})
            } else {
                json!({})
            }
        };
        let mut roles = Map::new();
        for (name, path) in [("app", None), ("ops", Some("/service-role/"))] {
            if s.chance(2) {
                continue;
            }
            let mut r = Map::new();
            if let Some(p) = path {
                r.insert("path".into(), json!(p));
            }
            if s.chance(6) {
                r.insert("trust_policy".into(), gen_policy(s, Gen::Trust));
            }
            let pols: Vec<Value> = (0..s.below(3))
                .map(|_| gen_policy(s, Gen::Identity))
                .collect();
            r.insert("policies".into(), Value::Array(pols));
            if s.chance(2) {
                r.insert("permissions_boundary".into(), gen_policy(s, Gen::Boundary));
            }
            r.insert("tags".into(), tags(s));
            roles.insert(name.into(), Value::Object(r));
        }
        a.insert("roles".into(), Value::Object(roles));
        let mut groups = Map::new();
        let has_group = s.chance(3);
        if has_group {
            groups.insert(
                "devs".into(),
                json!({"policies": [gen_policy(s, Gen::Identity)]}),
            );
        }
        let mut users = Map::new();
        for name in ["alice", "bob"] {
            if s.chance(3) {
                continue;
            }
            let mut u = Map::new();
            let pols: Vec<Value> = (0..s.below(3))
                .map(|_| gen_policy(s, Gen::Identity))
                .collect();
            u.insert("policies".into(), Value::Array(pols));
            if has_group && s.chance(4) {
                u.insert("groups".into(), json!(["devs"]));
            }
            u.insert("tags".into(), tags(s));
            users.insert(name.into(), Value::Object(u));
        }
        a.insert("users".into(), Value::Object(users));
        a.insert("groups".into(), Value::Object(groups));
        let mut resources = Map::new();
        let candidates: Vec<String> = if *id == "111111111111" {
            vec![
                "arn:aws:s3:::bucket-a".into(),
                "arn:aws:kms:us-east-1:111111111111:key/k1".into(),
            ]
        } else {
            vec![
                "arn:aws:dynamodb:us-east-1:222222222222:table/T".into(),
                "arn:aws:sqs:us-east-1:222222222222:q".into(),
            ]
        };
        for arn in candidates {
            if s.chance(2) {
                continue;
            }
            let mut r = Map::new();
            if s.chance(5) {
                r.insert("policy".into(), gen_policy(s, Gen::Resource));
            }
            r.insert("tags".into(), tags(s));
            resources.insert(arn, Value::Object(r));
        }
        a.insert("resources".into(), Value::Object(resources));
        accounts.insert((*id).to_string(), Value::Object(a));
    }
    spec.insert("accounts".into(), Value::Object(accounts));
    spec.insert("properties".into(), json!([]));
    Value::Object(spec)
}

fn gen_request(s: &mut Src) -> String {
    let mut r = Map::new();
    r.insert("id".into(), json!("fuzz"));
    r.insert("principal".into(), json!(s.pick(PRINCIPALS)));
    r.insert("action".into(), json!(s.pick(ACTIONS)));
    let resource = s.pick(RESOURCES);
    r.insert("resource".into(), json!(resource));
    if s.chance(1) {
        r.insert("resource_account".into(), json!(s.pick(&ACCOUNTS)));
    }
    r.insert("context".into(), gen_context(s));
    if s.chance(1) {
        r.insert("session_policy".into(), gen_policy(s, Gen::Session));
    }
    if s.chance(1) {
        r.insert(
            "session_tags".into(),
            json!({"team": s.pick(&["red", "blue"])}),
        );
    }
    Value::Object(r).to_string()
}

/// The spec and request line of an input: as written (`{`: the spec, then the request on the last
/// line) or generated.
pub fn spec_and_request(data: &[u8]) -> (String, String) {
    if data.first() == Some(&b'{') {
        let text = String::from_utf8_lossy(data);
        let text = text.trim_end();
        match text.rsplit_once('\n') {
            Some((spec, line)) => (spec.to_string(), line.to_string()),
            None => (text.to_string(), String::new()),
        }
    } else {
        let mut s = Src::new(data);
        let spec = gen_spec(&mut s).to_string();
        (spec, gen_request(&mut s))
    }
}

fn policy_entry(p: &Policy) -> Value {
    let doc: Value = serde_json::from_str(&p.to_json()).unwrap_or(Value::Null);
    json!({"name": p.name, "policy": doc})
}

/// A canonical case line for a policy set and a request: every policy as it prints (named), the
/// request with its whole context. What `Estate::gather` applied, as the case evaluator reads it;
/// and what the reference interpreter reads.
pub fn case_line_of(set: &PolicySet, req: &Request) -> String {
    let mut ctx = Map::new();
    for (k, v) in req.context.iter() {
        ctx.insert(
            k.to_string(),
            match v {
                ContextValue::One(s) => json!(s),
                ContextValue::Many(vs) => json!(vs),
            },
        );
    }
    let levels = |ls: &[Vec<Policy>]| -> Value {
        Value::Array(
            ls.iter()
                .map(|l| Value::Array(l.iter().map(policy_entry).collect()))
                .collect(),
        )
    };
    json!({
        "id": "gathered",
        "identity_policies": set.identity.iter().map(policy_entry).collect::<Vec<_>>(),
        "resource_policy": set.resource.as_ref().map(policy_entry),
        "permission_boundary": set.boundary.as_ref().map(policy_entry),
        "session_policy": set.session.as_ref().map(policy_entry),
        "scps": levels(&set.scps),
        "rcps": levels(&set.rcps),
        "request": {
            "principal": req.principal.to_arn_string(),
            "action": req.action,
            "resource": req.resource,
            "resource_account": req.resource_account,
            "context": ctx,
        },
    })
    .to_string()
}
