//! # xverify-engine
//!
//! AWS IAM policies parsed exactly as AWS accepts them and requests decided the way AWS decides
//! them: identity, resource, trust and key policies, permissions boundaries, session policies,
//! SCPs and RCPs, same-account and cross-account rules, every condition operator and policy
//! variables. No solver here: this crate is the concrete oracle the prover is checked against.
//!
//! ```
//! use xverify_engine::{parse_policy, PolicyKind, PolicySet, Request, Principal, Context, decide, Decision};
//! let id = parse_policy(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
//!     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}"#, PolicyKind::Identity, "p").unwrap();
//! let set = PolicySet { identity: vec![id], ..PolicySet::default() };
//! let req = Request::new(Principal::parse("arn:aws:iam::111111111111:user/bob").unwrap(),
//!     "s3:GetObject", "arn:aws:s3:::b/k", Some("111111111111".into()), Context::new());
//! assert_eq!(decide(&set, &req), Decision::Allow);
//! ```
//!
//! Modules: [`json`] (a JSON reader that keeps spans), [`parse`] (JSON → [`model`]),
//! [`pattern`] (wildcards, variables, ARNs, typed values), [`eval`] (the decision),
//! [`print`] (model → canonical JSON).

pub mod case;
pub mod estate;
pub mod eval;
#[cfg(feature = "generate")]
pub mod generate;
pub mod json;
pub mod model;
pub mod parse;
pub mod pattern;
pub mod print;

pub use eval::{authorize, decide, PolicySet, Reason, Response, Role};
pub use model::*;
pub use parse::{
    parse_policy, parse_policy_with, policy_from_json, policy_from_json_with, ParseOptions,
    PolicyError,
};
