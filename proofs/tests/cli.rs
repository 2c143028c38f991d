//! The `xverify` binary end to end: known-answer vectors through `eval --check`, every scenario's
//! requests through `eval --spec --check`, exit codes, and spec error messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xverify(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xverify"))
        .args(args)
        .output()
        .expect("run xverify")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

#[test]
fn vectors_pass_eval_check() {
    let dir = root().join("corpus/vectors");
    let fs = files(&dir, ".jsonl");
    assert!(!fs.is_empty());
    for f in fs {
        let out = xverify(&["eval", "--check", f.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let bad: Vec<&str> = stdout
            .lines()
            .filter(|l| l.contains("\"ok\":false"))
            .collect();
        assert!(bad.is_empty(), "{}: {}", f.display(), bad.join("\n"));
        assert_eq!(out.status.code(), Some(0), "{}", f.display());
    }
}

#[test]
fn scenario_requests_pass_eval_spec_check() {
    let dirs: Vec<PathBuf> = files(&root().join("corpus/specs"), "")
        .into_iter()
        .filter(|d| d.join("spec.json").is_file())
        .collect();
    assert!(dirs.len() >= 9, "one spec per scenario");
    for d in dirs {
        let spec = d.join("spec.json");
        let reqs = d.join("requests.jsonl");
        let out = xverify(&[
            "eval",
            "--check",
            "--spec",
            spec.to_str().unwrap(),
            reqs.to_str().unwrap(),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let bad: Vec<&str> = stdout
            .lines()
            .filter(|l| l.contains("\"ok\":false"))
            .collect();
        assert!(bad.is_empty(), "{}: {}", d.display(), bad.join("\n"));
        assert_eq!(out.status.code(), Some(0), "{}", d.display());
    }
}

#[test]
fn eval_reports_bad_lines_and_goes_on() {
    let dir = std::env::temp_dir().join(format!("xverify-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("cases.jsonl");
    let good = r#"{"id":"ok","identity_policies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}],"request":{"principal":"arn:aws:iam::111111111111:user/bob","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}"#;
    let bad = r#"{"id":"bad","identity_policies":[{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqual":{"a":"b"}}}]}],"request":{"principal":"arn:aws:iam::111111111111:user/bob","action":"s3:GetObject","resource":"*"}}"#;
    std::fs::write(&f, format!("{good}\nnot json\n{bad}\n{good}\n")).unwrap();
    let out = xverify(&["eval", f.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines[0].starts_with(r#"{"id":"ok","decision":"Allow""#),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        r#"{"error":"line 2: invalid JSON: expected a JSON value"}"#
    );
    assert_eq!(
        lines[2],
        r#"{"id":"bad","error":"line 3: identity_policies[0].Statement[1].Condition: unknown operator \"StringEqual\" (did you mean \"StringEquals\"?)"}"#
    );
    assert!(lines[3].starts_with(r#"{"id":"ok","decision":"Allow""#));
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

/// A file that starts with a UTF-8 byte-order mark (as Windows editors save one) is read
/// (RFC 8259 §8.1); a `resource_account` that is no account ID is an input error naming the line
/// and the field, in `eval` and in `eval --spec` alike (audit 9: it was taken, and the request
/// read as cross-account).
#[test]
fn eval_reads_a_byte_order_mark_and_refuses_a_resource_account_that_is_no_account() {
    let dir = std::env::temp_dir().join(format!("xverify-cli-bom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("cases.jsonl");
    let case = |account: &str| {
        format!(
            r#"{{"identity_policies":[{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}}}],"request":{{"principal":"arn:aws:iam::111111111111:user/bob","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"{account}}}}}"#
        )
    };
    let text = format!(
        "{}{}\n{}\n{}\n",
        '\u{feff}',
        case(""),
        case(r#","resource_account":"11111111111x""#),
        case(r#","resource_account":"111111111111""#)
    );
    std::fs::write(&f, text).unwrap();
    let out = xverify(&["eval", f.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with(r#"{"decision":"Allow""#), "{stdout}");
    assert_eq!(
        lines[1],
        r#"{"error":"line 2: request.resource_account: invalid resource_account \"11111111111x\": expected an account ID (12 digits)"}"#
    );
    assert!(lines[2].starts_with(r#"{"decision":"Allow""#), "{stdout}");
    assert_eq!(out.status.code(), Some(2));
    let spec = dir.join("spec.json");
    std::fs::write(
        &spec,
        r#"{"accounts": {"111111111111": {"users": {"bob": {}}}}}"#,
    )
    .unwrap();
    let reqs = dir.join("r.jsonl");
    // And a line that is not UTF-8 is an error of its own; the batch goes on (audit 10, bug 1).
    let mut bytes = "\u{feff}{\"principal\":\"arn:aws:iam::111111111111:user/bob\",\"action\":\"s3:GetObject\",\"resource\":\"arn:aws:s3:::b/k\",\"resource_account\":\"2222\"}\n".as_bytes().to_vec();
    bytes.extend(b"{\"principal\": \"\xffx\"}\n");
    bytes.extend(b"{\"principal\":\"arn:aws:iam::111111111111:user/bob\",\"action\":\"s3:GetObject\",\"resource\":\"arn:aws:s3:::b/k\"}\n");
    std::fs::write(&reqs, bytes).unwrap();
    let out = xverify(&[
        "eval",
        "--spec",
        spec.to_str().unwrap(),
        reqs.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..2],
        [
            r#"{"error":"line 1: resource_account: invalid resource_account \"2222\": expected an account ID (12 digits)"}"#,
            r#"{"error":"line 2: not UTF-8: byte 0xff at column 16"}"#
        ]
    );
    assert!(lines[2].starts_with(r#"{"decision":"#), "{stdout}");
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

/// Without `--check`, `expect` is a field like any other the case format ignores (interfaces.md
/// §2), whatever it holds; with `--check`, one that is not a decision is an expectation not met
/// (audit 10, bug 7: the line was an error either way). With `--check`, a line in error that did
/// not expect it exits 2, as without (it exited 1, like a wrong decision).
#[test]
fn expect_is_read_by_check_only() {
    let dir = std::env::temp_dir().join(format!("xverify-cli-expect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("cases.jsonl");
    let case = |expect: &str| {
        format!(
            r#"{{"expect":{expect},"identity_policies":[{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}}}],"request":{{"principal":"arn:aws:iam::111111111111:user/bob","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}}}"#
        )
    };
    std::fs::write(
        &f,
        [case(r#""Allowed""#), case(r#"{"note": "any shape"}"#)].join("\n"),
    )
    .unwrap();
    let out = xverify(&["eval", f.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.matches(r#"{"decision":"Allow""#).count(),
        2,
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(0));
    let out = xverify(&["eval", "--check", f.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.matches(r#""expect":null,"ok":false"#).count(),
        2,
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1));
    // A line in error that does not expect it is a bad case file (2), one that does is a pass,
    // and a difference alone is 1.
    let good = case(r#""Allow""#);
    for (lines, code) in [
        (vec![good.clone(), "not json".to_string()], 2),
        (vec![good.clone(), r#"{"expect": "Error"}"#.to_string()], 0),
        (
            vec![
                good.clone(),
                case(r#""ImplicitDeny""#),
                r#"{"expect": "Error"}"#.to_string(),
            ],
            1,
        ),
    ] {
        std::fs::write(&f, lines.join("\n")).unwrap();
        let out = xverify(&["eval", "--check", f.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{lines:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A `no-new-access` property's earlier spec is input: missing or malformed, it is bad input
/// (exit 2, one line naming the spec, the property's line and `before`), not an `unknown` answer
/// that a CI job tolerating exit 3 would pass (audit 10, bug 8).
#[test]
fn an_unreadable_earlier_spec_is_bad_input() {
    let dir = std::env::temp_dir().join(format!("xverify-cli-before-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("spec.json");
    std::fs::write(
        &spec,
        "{\"accounts\": {\"111111111111\": {}},\n \"properties\": [\n  {\"name\": \"nothing-new\", \"expect\": \"no-new-access\", \"before\": \"old.json\"}]}\n",
    )
    .unwrap();
    let out = xverify(&["prove", spec.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "xverify: {}:3: properties[0].before: cannot read the earlier spec: ",
            spec.display()
        )),
        "{stderr}"
    );
    std::fs::write(
        dir.join("old.json"),
        r#"{"accounts": {"111111111111": {"rolez": {}}}}"#,
    )
    .unwrap();
    let out = xverify(&["prove", spec.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unknown field \"rolez\""), "{stderr}");
    std::fs::write(
        dir.join("old.json"),
        r#"{"accounts": {"111111111111": {}}}"#,
    )
    .unwrap();
    let out = xverify(&["prove", spec.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `--dump-smt DIR` writes every query, numbered for the whole run (the labels repeat from one
/// property to the next, and later queries overwrote earlier ones: audit 10, bug 4); a directory
/// that cannot be made is bad input.
#[test]
fn dump_smt_keeps_every_query() {
    let dir = std::env::temp_dir().join(format!("xverify-cli-dump-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let spec = root().join("corpus/specs/09-role-chaining/spec.json");
    let out = xverify(&[
        "prove",
        "--format",
        "json",
        "--dump-smt",
        dir.to_str().unwrap(),
        spec.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let queries: u64 = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["queries"].as_u64().unwrap_or(0))
        .sum();
    let files = std::fs::read_dir(&dir).unwrap().count() as u64;
    assert!(
        queries > 2 && files >= queries,
        "{files} files, {queries} queries"
    );
    std::fs::remove_dir_all(&dir).ok();
    let out = xverify(&[
        "prove",
        "--dump-smt",
        "/proc/xverify/none",
        spec.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("xverify: --dump-smt /proc/xverify/none: "));
}

fn spec_error(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("xverify-spec-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("spec.json");
    std::fs::write(&f, text).unwrap();
    let reqs = dir.join("r.jsonl");
    std::fs::write(&reqs, "").unwrap();
    let out = xverify(&[
        "eval",
        "--spec",
        f.to_str().unwrap(),
        reqs.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    std::fs::remove_dir_all(&dir).ok();
    err.replace(&f.display().to_string(), "spec.json")
}

#[test]
fn spec_mistakes_name_file_line_and_path() {
    let bad_operator = r#"{
  "accounts": {
    "222222222222": {
      "roles": {
        "R": {
          "trust_policy": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEqual": {"sts:ExternalId": "x"}}}}
        }
      }
    }
  }
}"#;
    assert_eq!(
        spec_error("op", bad_operator),
        "xverify: spec.json:7: accounts.222222222222.roles.R.trust_policy.Statement.Condition: unknown operator \"StringEqual\" (did you mean \"StringEquals\"?)\n"
    );
    let unknown_account_in_ou = r#"{
  "organization": {"id": "o-a1b2c3d4e5", "management_account": "111111111111", "policies": {},
    "root": {"id": "r-a1b2", "accounts": ["111111111111"],
      "units": [{"id": "ou-a1b2-prod0001", "accounts": ["22222222222"]}]}}
}"#;
    assert_eq!(
        spec_error("ou", unknown_account_in_ou),
        "xverify: spec.json:4: organization.root.units[0].accounts[0]: invalid account ID \"22222222222\": expected 12 digits\n"
    );
    let duplicate_role = r#"{
  "accounts": {
    "222222222222": {
      "roles": {
        "R": {"trust_policy": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"}}},
        "R": {}
      }
    }
  }
}"#;
    assert_eq!(
        spec_error("dup", duplicate_role),
        "xverify: spec.json:6: accounts.222222222222.roles.R: duplicate role \"R\"\n"
    );
    let unlisted_member = r#"{
  "organization": {"id": "o-a1b2c3d4e5", "management_account": "111111111111", "policies": {"FullAWSAccess": {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}},
    "root": {"id": "r-a1b2", "scps": ["FullAWSAccess"], "accounts": ["111111111111"]}},
  "accounts": {"333333333333": {"scps": ["FullAWSAccess"]}}
}"#;
    assert_eq!(
        spec_error("unlisted", unlisted_member),
        "xverify: spec.json:4: accounts.333333333333.scps: account 333333333333 has SCPS attached but the organization does not list it under its root or any OU\n"
    );
    let unknown_policy = r#"{
  "organization": {"id": "o-a1b2c3d4e5", "management_account": "111111111111",
    "policies": {"FullAWSAccess": {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}},
    "root": {"id": "r-a1b2", "scps": ["FullAWSAcess"], "accounts": ["111111111111"]}}
}"#;
    assert_eq!(
        spec_error("pol", unknown_policy),
        "xverify: spec.json:4: organization.root.scps[0]: unknown policy \"FullAWSAcess\" (did you mean \"FullAWSAccess\"?)\n"
    );
    let unknown_field = r#"{"accounts": {"222222222222": {"rolse": {}}}}"#;
    assert_eq!(
        spec_error("field", unknown_field),
        "xverify: spec.json:1: accounts.222222222222.rolse: unknown field \"rolse\" (did you mean \"roles\"?)\n"
    );
    // Roles and users have IAM's names and paths (corpus/DECISIONS.md 33).
    assert_eq!(
        spec_error("role-name", r#"{"accounts": {"222222222222": {"roles": {"ops team": {}}}}}"#),
        "xverify: spec.json:1: accounts.222222222222.roles.ops team: invalid role name \"ops team\": IAM takes 1-64 characters of [A-Za-z0-9_+=,.@-]\n"
    );
    assert_eq!(
        spec_error("user-path", r#"{"accounts": {"222222222222": {"users": {"u": {"path": "/a b/"}}}}}"#),
        "xverify: spec.json:1: accounts.222222222222.users.u.path: invalid path \"/a b/\": IAM takes / or /.../ of printable ASCII, at most 512 characters\n"
    );
    // A service selector names a service principal (audit 8, bug 9: any string was taken, and
    // the counterexample's principal was one `eval --spec` refuses).
    for bad in [
        "",
        "not a service",
        "arn:aws:iam::999999999999:root",
        "anonymous",
    ] {
        let spec = format!(
            r#"{{"properties": [{{"name": "p", "expect": "none",
  "principals": {{"service": {}}}, "actions": ["s3:*"], "resources": ["*"]}}]}}"#,
            serde_json::Value::String(bad.into())
        );
        assert_eq!(
            spec_error("service", &spec),
            format!(
                "xverify: spec.json:2: properties[0].principals.service: {} is not a service principal (such as \"cloudtrail.amazonaws.com\")\n",
                serde_json::Value::String(bad.into())
            )
        );
    }
}

#[test]
fn import_builds_the_expected_spec_from_cli_outputs() {
    let dir = root().join("corpus/import/three-account-org");
    let out = xverify(&["import", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected-spec.json")).unwrap())
            .unwrap();
    assert_eq!(got, want);
    let missing = xverify(&["import", "/nonexistent-xverify-dir"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "xverify: /nonexistent-xverify-dir: missing: expected a directory of AWS CLI outputs (organization/, accounts/<ACCOUNT_ID>/)\n"
    );
}
