//! `proved` is never wrong: on generated estates (the engine's `estate_case`: an organization,
//! described accounts with roles, users, groups and resources, and a request by a described or
//! an undescribed account's principal, a service or an anonymous caller), whenever the engine
//! allows the request, `xverify prove` must not prove that no principal performs that action on
//! that resource. Every principal the estate can hold is some kind the prover enumerates (the
//! described ones, the open world of undescribed accounts, anonymous callers, services), so a
//! proof that contradicts an allowed request is a soundness bug, reported with the estate and the
//! request.
//!
//! Unknown (a timeout, an unsupported construct) is not a proof and passes; the share of cases
//! that end in it is bounded so that the test cannot pass by giving up.
//!
//! `PROPTEST_CASES=n` runs n cases (default 200):
//!
//! ```text
//! PROPTEST_CASES=2000 cargo test --release -p xverify-proofs --test soundness
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::path::Path;

use proptest::test_runner::{Config as PtConfig, TestCaseError, TestRunner};
use xverify_engine::generate::{estate_case, Settings};
use xverify_engine::Decision;
use xverify_proofs::properties::{prove_property, Status};
use xverify_proofs::solve::Config;
use xverify_proofs::spec::parse_spec;

/// Small policies, as the engine's estate invariants use.
const ES: Settings = Settings::ESTATE;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(200)
}

#[test]
fn an_allowed_request_is_never_proved_impossible() {
    let mut runner = TestRunner::new(PtConfig {
        cases: cases(),
        failure_persistence: None,
        // Shrinking replays Z3; keep it bounded.
        max_shrink_iters: 200,
        ..PtConfig::default()
    });
    let allowed = Cell::new(0u32);
    let unknown = Cell::new(0u32);
    let cfg = Config {
        // Every principal the estate can hold, service-linked roles of undescribed accounts too.
        service_linked_roles: true,
        threads: 1,
        ..Config::default()
    };
    let result = runner.run(&estate_case(&ES), |c| {
        let (estate, er) = c.build();
        let Ok((decision, _, req)) = estate.authorize_owned(&er) else {
            return Ok(());
        };
        if decision != Decision::Allow {
            return Ok(());
        }
        allowed.set(allowed.get() + 1);
        // "No principal performs this action on this resource", under any context.
        let mut spec: serde_json::Value = serde_json::from_str(&c.estate.to_spec_json()).unwrap();
        spec["properties"] = serde_json::json!([{
            "name": "never",
            "expect": "none",
            "principals": "anyone",
            "actions": [req.action],
            "resources": [req.resource],
        }]);
        let text = spec.to_string();
        let spec = parse_spec(&text, Path::new("generated.json"))
            .map_err(|e| TestCaseError::fail(format!("the generated spec does not read: {e}")))?;
        let r = match std::panic::catch_unwind(|| prove_property(&spec, &spec.properties[0], &cfg))
        {
            Ok(r) => r,
            Err(_) => {
                return Err(TestCaseError::fail(format!(
                    "the prover panicked\n{text}\n{c}"
                )))
            }
        };
        match r.status {
            Status::Proved => Err(TestCaseError::fail(format!(
                "proved that nobody performs an allowed request ({:?})\n{text}\n{c}",
                r.why
            ))),
            Status::Unknown => {
                unknown.set(unknown.get() + 1);
                Ok(())
            }
            Status::Refuted => Ok(()),
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (a, u) = (allowed.get(), unknown.get());
    eprintln!(
        "{} cases: {a} allowed, {u} of them unknown to the prover",
        cases()
    );
    assert!(a >= cases() / 8, "too few allowed requests to test: {a}");
    assert!(
        u * 4 <= a,
        "the prover gave up on {u} of {a} allowed requests"
    );
}
