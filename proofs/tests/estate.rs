//! The estate: chains of sts:AssumeRole replayed step by step, each decided by the engine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use xverify_engine::estate::{Estate, EstateRequest};
use xverify_engine::{ContextValue, Decision, Principal};

fn estate() -> Estate {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/specs/09-role-chaining/spec.json");
    xverify_proofs::spec::load_spec(&p).unwrap().estate
}

fn step(principal: &str, action: &str, resource: &str, ctx: &[(&str, &str)]) -> EstateRequest {
    let mut r = EstateRequest::new(Principal::parse(principal).unwrap(), action, resource);
    for (k, v) in ctx {
        r.context.insert(k, ContextValue::One(v.to_string()));
    }
    r
}

const R1: &str = "arn:aws:iam::111111111111:role/VendorGatewayRole";
const R2: &str = "arn:aws:iam::222222222222:role/TableReaderRole";
const T: &str = "arn:aws:dynamodb:ap-northeast-1:222222222222:table/T";

fn chain(ext: &str, hop2_ctx: &[(&str, &str)]) -> Vec<EstateRequest> {
    vec![
        step(
            "arn:aws:iam::999999999999:user/vendor",
            "sts:AssumeRole",
            R1,
            &[("sts:ExternalId", ext)],
        ),
        step(
            "arn:aws:sts::111111111111:assumed-role/VendorGatewayRole/job-1",
            "sts:AssumeRole",
            R2,
            hop2_ctx,
        ),
        step(
            "arn:aws:sts::222222222222:assumed-role/TableReaderRole/job-1",
            "dynamodb:GetItem",
            T,
            &[],
        ),
    ]
}

#[test]
fn two_hop_chain_replays_allowed() {
    let e = estate();
    let steps = e.replay_chain(&chain("vendor-c41e-2024", &[])).unwrap();
    let ds: Vec<Decision> = steps.iter().map(|s| s.decision).collect();
    assert_eq!(ds, vec![Decision::Allow; 3]);
    // Each step names the statements that allowed it: hop 1 the trust policy's External ID statement.
    let why = steps[0].explain();
    assert!(why
        .reasons
        .iter()
        .any(|r| r.sid() == Some("VendorWithExternalId")));
}

#[test]
fn chain_stops_at_the_first_denied_hop() {
    let e = estate();
    let steps = e.replay_chain(&chain("wrong-id", &[])).unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].decision, Decision::ImplicitDeny);
}

#[test]
fn role_chaining_caps_sessions_at_one_hour() {
    let e = estate();
    let steps = e
        .replay_chain(&chain(
            "vendor-c41e-2024",
            &[("sts:DurationSeconds", "7200")],
        ))
        .unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[1].decision, Decision::ImplicitDeny);
    assert!(steps[1].note.as_deref().unwrap().contains("one hour"));
}

#[test]
fn chain_steps_must_connect() {
    let e = estate();
    let mut c = chain("vendor-c41e-2024", &[]);
    c[1] = step(
        "arn:aws:sts::111111111111:assumed-role/OtherRole/job-1",
        "sts:AssumeRole",
        R2,
        &[],
    );
    let err = e.replay_chain(&c).unwrap_err();
    assert_eq!(
        err.to_string(),
        "chain step 1: arn:aws:sts::111111111111:assumed-role/OtherRole/job-1 is not a session of arn:aws:iam::111111111111:role/VendorGatewayRole"
    );
    let mut c = chain("vendor-c41e-2024", &[]);
    c[2] = step(
        "arn:aws:sts::222222222222:assumed-role/TableReaderRole/j",
        "dynamodb:GetItem",
        T,
        &[],
    );
    assert!(e
        .replay_chain(&c)
        .unwrap_err()
        .to_string()
        .contains("session name \"j\""));
    // A hop's RoleSessionName is the next session's name (corpus/DECISIONS.md 31); a hop that
    // gives none passes it, which the trust policy then sees.
    let c = chain("vendor-c41e-2024", &[("sts:RoleSessionName", "job-2")]);
    assert_eq!(
        e.replay_chain(&c).unwrap_err().to_string(),
        "chain step 1: sts:RoleSessionName \"job-2\" is not the name of the session at step 2 (\"job-1\")"
    );
    let steps = e.replay_chain(&chain("vendor-c41e-2024", &[])).unwrap();
    assert_eq!(
        steps[1].request.context.get_single("sts:rolesessionname"),
        Some("job-1")
    );
}

#[test]
fn described_accounts_are_complete() {
    let e = estate();
    let r = step(
        "arn:aws:sts::222222222222:assumed-role/Ghost/s1",
        "dynamodb:GetItem",
        T,
        &[],
    );
    assert_eq!(
        e.gather(&r).unwrap_err().to_string(),
        "account 222222222222 is described and has no role \"Ghost\""
    );
}

#[test]
fn estate_keys_cannot_be_overridden_by_the_caller() {
    let e = estate();
    // An outsider claims the organization's ID; the estate knows 999999999999 is not a member.
    let r = step(
        "arn:aws:iam::999999999999:user/mallory",
        "dynamodb:GetItem",
        T,
        &[
            ("aws:PrincipalOrgID", "o-a1b2c3d4e5"),
            ("aws:ResourceAccount", "999999999999"),
        ],
    );
    let (_, req) = e.gather(&r).unwrap();
    assert_eq!(req.context.get_single("aws:principalorgid"), None);
    assert_eq!(
        req.context.get_single("aws:resourceaccount"),
        Some("222222222222")
    );
    // A member's role gets the organization keys and its role tags whatever it claims.
    let r = step(
        "arn:aws:sts::222222222222:assumed-role/TableReaderRole/s1",
        "dynamodb:GetItem",
        T,
        &[("aws:PrincipalOrgID", "o-other")],
    );
    let (_, req) = e.gather(&r).unwrap();
    assert_eq!(
        req.context.get_single("aws:principalorgid"),
        Some("o-a1b2c3d4e5")
    );
    assert_eq!(
        req.context
            .get("aws:principalorgpaths")
            .map(|v| v.values().to_vec()),
        Some(vec!["o-a1b2c3d4e5/r-a1b2/ou-a1b2-wkld0001/".to_string()])
    );
    assert_eq!(
        req.context.get_single("aws:principalarn"),
        Some("arn:aws:iam::222222222222:role/TableReaderRole")
    );
}

/// A role is the resource of sts:AssumeRole under its own ARN only (corpus/DECISIONS.md 20):
/// another path, a region or another partition names no role of the estate, so no trust policy
/// allows the call. A looser lookup let a caller pick a spelling that a Deny on the role's ARN
/// does not name, while the prover tried the role's own ARN only (audit 3, bug 1).
#[test]
fn a_role_is_found_under_its_own_arn_only() {
    let e = estate();
    let hop = |resource: &str| {
        let r = step(
            "arn:aws:iam::999999999999:user/vendor",
            "sts:AssumeRole",
            resource,
            &[
                ("sts:ExternalId", "vendor-c41e-2024"),
                ("sts:RoleSessionName", "s1"),
            ],
        );
        e.replay_chain(&[r]).unwrap()[0].decision
    };
    assert_eq!(hop(R1), Decision::Allow);
    for variant in [
        "arn:aws:iam::111111111111:role/x/VendorGatewayRole",
        "arn:aws:iam:us-east-1:111111111111:role/VendorGatewayRole",
        "arn:aws-cn:iam::111111111111:role/VendorGatewayRole",
    ] {
        assert_eq!(hop(variant), Decision::ImplicitDeny, "{variant}");
    }
}

/// Session tags need a trust policy that allows sts:TagSession: without one AWS refuses them, and
/// the role's sessions carry the role's own tags only. The estate merged any tags the request
/// gave, so eval allowed what a tag condition denies to every real session of the role, which the
/// prover (holding the role's tags fixed) PROVED (audit 4, bug 8).
#[test]
fn session_tags_need_a_trust_policy_that_allows_tag_session() {
    let e = estate();
    let mut r = step(
        "arn:aws:sts::222222222222:assumed-role/TableReaderRole/job-1",
        "dynamodb:GetItem",
        T,
        &[],
    );
    assert!(e.gather(&r).is_ok());
    r.session_tags.insert("team".into(), "admin".into());
    let err = e.gather(&r).unwrap_err().to_string();
    assert!(err.contains("sts:TagSession"), "{err}");
    let role = &e.accounts["222222222222"].roles["TableReaderRole"];
    assert!(!role.may_tag_sessions());
}
