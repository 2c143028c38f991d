//! `xverify import`: build a spec (interfaces.md §3) from what the AWS CLI prints.
//!
//! The input is a directory laid out as `corpus/import/README.md` describes, with the shell
//! commands that produce it:
//!
//! ```text
//! organization/describe-organization.json     aws organizations describe-organization
//! organization/list-roots.json                aws organizations list-roots
//! organization/ous-<PARENT_ID>.json           aws organizations list-organizational-units-for-parent
//! organization/accounts-<PARENT_ID>.json      aws organizations list-accounts-for-parent
//! organization/scps-<TARGET_ID>.json          aws organizations list-policies-for-target --filter SERVICE_CONTROL_POLICY
//! organization/rcps-<TARGET_ID>.json          aws organizations list-policies-for-target --filter RESOURCE_CONTROL_POLICY
//! organization/policy-<POLICY_ID>.json        aws organizations describe-policy
//! accounts/<ACCOUNT_ID>/authorization-details.json   aws iam get-account-authorization-details
//! accounts/<ACCOUNT_ID>/resources.tsv         ARN<TAB>file, one resource policy per line
//! ```
//!
//! Both halves are optional (an estate without an organization, or an organization whose accounts
//! are not described), but not both. The import makes no properties: `properties` is `[]`.
//!
//! Policy documents may be JSON objects (as the CLI prints IAM documents), JSON strings (as
//! Organizations, S3, DynamoDB, KMS and SQS return them) or URL-encoded strings (as the IAM API
//! returns them).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use xverify_engine::model::is_account_id;

/// Why an import failed: always one line naming the file and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file (or the directory) the import needs is not there.
    #[error("{}: missing: {why}", .file.display())]
    Missing { file: PathBuf, why: String },
    /// The file is there but cannot be read.
    #[error("{}: cannot read: {source}", .file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    /// The file is empty: the command that should have written it failed.
    #[error("{}: empty: expected the output of `{command}`", .file.display())]
    Empty { file: PathBuf, command: String },
    /// The file is not JSON.
    #[error("{}: not JSON: {source}", .file.display())]
    Json {
        file: PathBuf,
        source: serde_json::Error,
    },
    /// The file is one page of a paginated listing: the estate it describes would be taken as
    /// complete with what the other pages hold missing (audit 10, bug 3).
    #[error("{}: {field}: the output of `{command}` is one page of several; run it without --max-items or --no-paginate, which prints every page", .file.display())]
    Truncated {
        file: PathBuf,
        command: String,
        field: String,
    },
    /// The file is JSON but not of the shape the AWS CLI prints; `path` is where (`Roots[0].Id`).
    #[error("{}: {}{what}", .file.display(), at(.path))]
    Shape {
        file: PathBuf,
        path: String,
        what: String,
    },
    /// An Organizations policy is attached (listed by `list-policies-for-target`) but its
    /// `describe-policy` output is not there.
    #[error("{}: {}policy {id} is attached but not described: {} is missing (`aws organizations describe-policy --policy-id {id}`)", .file.display(), at(.path), .missing.display())]
    UndescribedPolicy {
        file: PathBuf,
        path: String,
        id: String,
        missing: PathBuf,
    },
    /// A managed policy is attached (or a permissions boundary) but is not in `Policies`.
    #[error("{}: {}managed policy {arn} is not in Policies (run `aws iam get-account-authorization-details` without --filter)", .file.display(), at(.path))]
    UnknownManagedPolicy {
        file: PathBuf,
        path: String,
        arn: String,
    },
    /// A policy document given as a URL-encoded string that does not decode.
    #[error("{}: {}bad URL-encoding: {what}", .file.display(), at(.path))]
    BadUrlEncoding {
        file: PathBuf,
        path: String,
        what: String,
    },
    /// A policy document that is not a JSON object once decoded.
    #[error("{}: {}not a policy document: {what}", .file.display(), at(.path))]
    BadPolicy {
        file: PathBuf,
        path: String,
        what: String,
    },
    /// A bad line of a `resources.tsv`.
    #[error("{}: line {line}: {what}", .file.display())]
    Tsv {
        file: PathBuf,
        line: usize,
        what: String,
    },
}

fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

type Result<T> = std::result::Result<T, ImportError>;

/// Build a spec from the AWS CLI outputs in `dir` (layout: `corpus/import/README.md`).
pub fn import_dir(dir: &Path) -> Result<Value> {
    if !dir.is_dir() {
        return Err(ImportError::Missing {
            file: dir.to_path_buf(),
            why: "expected a directory of AWS CLI outputs (organization/, accounts/<ACCOUNT_ID>/)"
                .into(),
        });
    }
    let files = Files { dir };
    let org = if dir.join("organization").is_dir() {
        Some(OrgImport::run(&files)?)
    } else {
        None
    };
    if org.is_none() && !dir.join("accounts").is_dir() {
        return Err(ImportError::Missing {
            file: dir.join("organization"),
            why: "expected organization/ or accounts/<ACCOUNT_ID>/ or both".into(),
        });
    }
    let accounts = import_accounts(&files, org.as_ref())?;
    let mut spec = Map::new();
    if let Some(org) = org {
        spec.insert("organization".into(), org.value);
    }
    spec.insert("accounts".into(), Value::Object(accounts));
    spec.insert("properties".into(), Value::Array(Vec::new()));
    Ok(Value::Object(spec))
}

// ---------------------------------------------------------------------------------------------
// Reading files and walking their JSON

struct Files<'a> {
    dir: &'a Path,
}

/// One JSON file read whole.
struct Doc {
    file: PathBuf,
    value: Value,
}

impl Doc {
    fn root(&self) -> At<'_> {
        At {
            file: &self.file,
            path: String::new(),
            v: &self.value,
        }
    }
}

impl Files<'_> {
    /// The text of `rel`, or `None` when it does not exist.
    fn text(&self, file: &Path) -> Result<Option<String>> {
        match std::fs::read_to_string(file) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ImportError::Read {
                file: file.to_path_buf(),
                source,
            }),
        }
    }

    /// A file that must exist and hold the JSON output of `command`.
    fn json(&self, rel: &str, command: &str) -> Result<Doc> {
        let file = self.dir.join(rel);
        let Some(text) = self.text(&file)? else {
            return Err(ImportError::Missing {
                file,
                why: format!("expected the output of `{command}`"),
            });
        };
        if text.trim().is_empty() {
            return Err(ImportError::Empty {
                file,
                command: command.into(),
            });
        }
        // A UTF-8 byte-order mark (a file saved by a Windows editor) is not JSON's.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let value: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(source) => return Err(ImportError::Json { file, source }),
        };
        // The pagination fields of the AWS CLI's listings: `NextToken` (Organizations),
        // `IsTruncated` and `Marker` (IAM).
        if let Some(o) = value.as_object() {
            let field = ["NextToken", "Marker"]
                .into_iter()
                .find(|k| o.get(*k).is_some_and(|v| !v.is_null()))
                .or((o.get("IsTruncated") == Some(&Value::Bool(true))).then_some("IsTruncated"));
            if let Some(field) = field {
                return Err(ImportError::Truncated {
                    file,
                    command: command.into(),
                    field: field.into(),
                });
            }
        }
        Ok(Doc { file, value })
    }
}

/// A value inside a file, with its JSON path for messages.
struct At<'a> {
    file: &'a Path,
    path: String,
    v: &'a Value,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> At<'a> {
    fn err(&self, what: impl Into<String>) -> ImportError {
        ImportError::Shape {
            file: self.file.to_path_buf(),
            path: self.path.clone(),
            what: what.into(),
        }
    }

    fn expected(&self, what: &str) -> ImportError {
        self.err(format!("expected {what}, found {}", kind(self.v)))
    }

    fn obj(&self) -> Result<&'a Map<String, Value>> {
        self.v.as_object().ok_or_else(|| self.expected("an object"))
    }

    fn str(&self) -> Result<&'a str> {
        self.v.as_str().ok_or_else(|| self.expected("a string"))
    }

    fn child(&self, key: &str, v: &'a Value) -> At<'a> {
        let path = if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        };
        At {
            file: self.file,
            path,
            v,
        }
    }

    /// Field `key`, absent or null giving `None`.
    fn opt(&self, key: &str) -> Result<Option<At<'a>>> {
        Ok(match self.obj()?.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(self.child(key, v)),
        })
    }

    /// Field `key`, which must be there.
    fn get(&self, key: &str) -> Result<At<'a>> {
        self.opt(key)?
            .ok_or_else(|| self.err(format!("missing field \"{key}\"")))
    }

    fn get_str(&self, key: &str) -> Result<&'a str> {
        self.get(key)?.str()
    }

    /// The elements of this array.
    fn items(&self) -> Result<Vec<At<'a>>> {
        let a = self.v.as_array().ok_or_else(|| self.expected("an array"))?;
        Ok(a.iter()
            .enumerate()
            .map(|(i, v)| At {
                file: self.file,
                path: format!("{}[{i}]", self.path),
                v,
            })
            .collect())
    }

    /// The elements of array field `key`; absent means empty (the CLI omits empty lists).
    fn opt_items(&self, key: &str) -> Result<Vec<At<'a>>> {
        match self.opt(key)? {
            None => Ok(Vec::new()),
            Some(a) => a.items(),
        }
    }

    /// This value as a policy document: an object, a JSON string or a URL-encoded string.
    fn policy(&self) -> Result<Value> {
        let s = match self.v {
            Value::Object(_) => return Ok(self.v.clone()),
            Value::String(s) => s,
            _ => {
                return Err(self.expected(
                    "a policy document (an object, a JSON string or a URL-encoded string)",
                ))
            }
        };
        let bad = |what: String| ImportError::BadPolicy {
            file: self.file.to_path_buf(),
            path: self.path.clone(),
            what,
        };
        // A JSON string first; one that is not JSON but holds `%` is taken as URL-encoded.
        let value = match serde_json::from_str::<Value>(s) {
            Ok(v) => v,
            Err(e) if !s.contains('%') => return Err(bad(format!("not JSON: {e}"))),
            Err(_) => {
                let decoded = xverify_engine::parse::url_decode(s).map_err(|what| {
                    ImportError::BadUrlEncoding {
                        file: self.file.to_path_buf(),
                        path: self.path.clone(),
                        what,
                    }
                })?;
                serde_json::from_str::<Value>(&decoded)
                    .map_err(|e| bad(format!("not JSON after URL-decoding: {e}")))?
            }
        };
        if !value.is_object() {
            return Err(bad(format!(
                "expected a JSON object, found {}",
                kind(&value)
            )));
        }
        Ok(value)
    }
}

/// IDs are used in file names: keep them to what AWS IDs are made of.
fn is_safe_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn named(name: &str, policy: Value) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), Value::String(name.into()));
    m.insert("policy".into(), policy);
    Value::Object(m)
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
}

// ---------------------------------------------------------------------------------------------
// Organization

#[derive(Clone, Copy, PartialEq)]
enum PolicyType {
    Scp,
    Rcp,
}

impl PolicyType {
    fn filter(self) -> &'static str {
        match self {
            PolicyType::Scp => "SERVICE_CONTROL_POLICY",
            PolicyType::Rcp => "RESOURCE_CONTROL_POLICY",
        }
    }
    fn prefix(self) -> &'static str {
        match self {
            PolicyType::Scp => "scps",
            PolicyType::Rcp => "rcps",
        }
    }
}

/// What the organization says about one account.
struct OrgAccount {
    name: String,
    /// `None` when the organization has no SCPs enabled: nothing is attached and no level is
    /// checked, so the spec leaves `scps` out (an empty list would deny everything).
    scps: Option<Vec<String>>,
    rcps: Vec<String>,
}

struct Org {
    value: Value,
    accounts: HashMap<String, OrgAccount>,
}

struct OrgImport<'a> {
    files: &'a Files<'a>,
    scp_enabled: bool,
    rcp_enabled: bool,
    /// Policy name → document, in the order first attached in the tree.
    policies: Map<String, Value>,
    /// Policy ID → name, for those described.
    names: HashMap<String, String>,
    /// Policy name → ID, to catch two policies of one name.
    ids: HashMap<String, String>,
    accounts: HashMap<String, OrgAccount>,
    seen_units: HashSet<String>,
}

impl<'a> OrgImport<'a> {
    fn run(files: &'a Files<'a>) -> Result<Org> {
        let desc = files.json(
            "organization/describe-organization.json",
            "aws organizations describe-organization",
        )?;
        let o = desc.root().get("Organization")?;
        let org_id = o.get_str("Id")?;
        let mgmt_at = o.get("MasterAccountId")?;
        let management = mgmt_at.str()?;
        if !is_account_id(management) {
            return Err(mgmt_at.err(format!("{management:?} is not a 12-digit account ID")));
        }

        let roots = files.json(
            "organization/list-roots.json",
            "aws organizations list-roots",
        )?;
        let list = roots.root().get("Roots")?;
        let items = list.items()?;
        let [root] = items.as_slice() else {
            return Err(list.err(format!("expected exactly one root, found {}", items.len())));
        };
        let root_id_at = root.get("Id")?;
        let root_id = root_id_at.str()?;
        if !is_safe_id(root_id) {
            return Err(root_id_at.err(format!("{root_id:?} is not a root ID")));
        }
        let mut enabled = HashSet::new();
        for t in root.opt_items("PolicyTypes")? {
            if t.get_str("Status")? == "ENABLED" {
                enabled.insert(t.get_str("Type")?.to_string());
            }
        }

        let mut imp = OrgImport {
            files,
            scp_enabled: enabled.contains(PolicyType::Scp.filter()),
            rcp_enabled: enabled.contains(PolicyType::Rcp.filter()),
            policies: Map::new(),
            names: HashMap::new(),
            ids: HashMap::new(),
            accounts: HashMap::new(),
            seen_units: HashSet::new(),
        };
        imp.seen_units.insert(root_id.to_string());
        let root_value = imp.unit(root_id, None)?;

        let mut org = Map::new();
        org.insert("id".into(), Value::String(org_id.into()));
        org.insert(
            "management_account".into(),
            Value::String(management.into()),
        );
        org.insert(
            "policies".into(),
            Value::Object(std::mem::take(&mut imp.policies)),
        );
        org.insert("root".into(), root_value);
        Ok(Org {
            value: Value::Object(org),
            accounts: imp.accounts,
        })
    }

    /// The root or an OU, with its accounts and, recursively, its OUs.
    fn unit(&mut self, id: &str, name: Option<&str>) -> Result<Value> {
        let scps = self.attached(id, PolicyType::Scp)?;
        let rcps = self.attached(id, PolicyType::Rcp)?.unwrap_or_default();

        let accounts_doc = self.files.json(
            &format!("organization/accounts-{id}.json"),
            &format!("aws organizations list-accounts-for-parent --parent-id {id}"),
        )?;
        let mut accounts = Vec::new();
        for a in accounts_doc.root().get("Accounts")?.items()? {
            let id_at = a.get("Id")?;
            let account = id_at.str()?;
            if !is_account_id(account) {
                return Err(id_at.err(format!("{account:?} is not a 12-digit account ID")));
            }
            if self.accounts.contains_key(account) {
                return Err(id_at.err(format!(
                    "account {account} is listed twice in the organization"
                )));
            }
            let name = a.get_str("Name")?.to_string();
            let scps = self.attached(account, PolicyType::Scp)?;
            let rcps = self.attached(account, PolicyType::Rcp)?.unwrap_or_default();
            self.accounts
                .insert(account.to_string(), OrgAccount { name, scps, rcps });
            accounts.push(account.to_string());
        }

        let ous_doc = self.files.json(
            &format!("organization/ous-{id}.json"),
            &format!("aws organizations list-organizational-units-for-parent --parent-id {id}"),
        )?;
        let mut units = Vec::new();
        for ou in ous_doc.root().get("OrganizationalUnits")?.items()? {
            let id_at = ou.get("Id")?;
            let ou_id = id_at.str()?;
            if !is_safe_id(ou_id) {
                return Err(id_at.err(format!("{ou_id:?} is not an OU ID")));
            }
            if !self.seen_units.insert(ou_id.to_string()) {
                return Err(id_at.err(format!("OU {ou_id} appears twice in the tree")));
            }
            let ou_name = ou.get_str("Name")?;
            units.push(self.unit(ou_id, Some(ou_name))?);
        }

        let mut m = Map::new();
        m.insert("id".into(), Value::String(id.into()));
        if let Some(n) = name {
            m.insert("name".into(), Value::String(n.into()));
        }
        if let Some(scps) = &scps {
            m.insert("scps".into(), strings(scps));
        }
        m.insert("rcps".into(), strings(&rcps));
        m.insert("accounts".into(), strings(&accounts));
        m.insert("units".into(), Value::Array(units));
        Ok(Value::Object(m))
    }

    /// Names of the policies of type `ty` attached to `target`. `RCPFullAWSAccess` is implied
    /// (interfaces.md §2) and left out. `None` when the policy type is not enabled in the
    /// organization (`list-roots`): nothing of the type is attached, and nothing it would filter.
    fn attached(&mut self, target: &str, ty: PolicyType) -> Result<Option<Vec<String>>> {
        let enabled = match ty {
            PolicyType::Scp => self.scp_enabled,
            PolicyType::Rcp => self.rcp_enabled,
        };
        if !enabled {
            return Ok(None);
        }
        let doc = self.files.json(
            &format!("organization/{}-{target}.json", ty.prefix()),
            &format!(
                "aws organizations list-policies-for-target --target-id {target} --filter {}",
                ty.filter()
            ),
        )?;
        let mut names = Vec::new();
        for p in doc.root().get("Policies")?.items()? {
            if let Some(t) = p.opt("Type")? {
                let found = t.str()?;
                if found != ty.filter() {
                    return Err(t.err(format!("expected {}, found {found}", ty.filter())));
                }
            }
            let id_at = p.get("Id")?;
            let id = id_at.str()?;
            if ty == PolicyType::Rcp && id == "p-RCPFullAWSAccess" {
                continue;
            }
            if !is_safe_id(id) {
                return Err(id_at.err(format!("{id:?} is not a policy ID")));
            }
            let name = self.describe(id, &doc.file, &p.path)?;
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Ok(Some(names))
    }

    /// Load `describe-policy` output for `id` (once) and return the policy's name.
    fn describe(&mut self, id: &str, referenced_in: &Path, path: &str) -> Result<String> {
        if let Some(n) = self.names.get(id) {
            return Ok(n.clone());
        }
        let rel = format!("organization/policy-{id}.json");
        let file = self.files.dir.join(&rel);
        if !file.exists() {
            return Err(ImportError::UndescribedPolicy {
                file: referenced_in.to_path_buf(),
                path: path.to_string(),
                id: id.to_string(),
                missing: file,
            });
        }
        let doc = self.files.json(
            &rel,
            &format!("aws organizations describe-policy --policy-id {id}"),
        )?;
        let pol = doc.root().get("Policy")?;
        let summary = pol.get("PolicySummary")?;
        let sid_at = summary.get("Id")?;
        let sid = sid_at.str()?;
        if sid != id {
            return Err(sid_at.err(format!("expected policy {id}, found {sid}")));
        }
        let name_at = summary.get("Name")?;
        let name = name_at.str()?;
        if let Some(other) = self.ids.get(name) {
            return Err(name_at.err(format!(
                "policy name {name:?} is also the name of policy {other}"
            )));
        }
        let content = pol.get("Content")?.policy()?;
        self.policies.insert(name.to_string(), content);
        self.names.insert(id.to_string(), name.to_string());
        self.ids.insert(name.to_string(), id.to_string());
        Ok(name.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts

fn import_accounts(files: &Files, org: Option<&Org>) -> Result<Map<String, Value>> {
    let dir = files.dir.join("accounts");
    let mut out = Map::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let entries = std::fs::read_dir(&dir).map_err(|source| ImportError::Read {
        file: dir.clone(),
        source,
    })?;
    let mut ids = Vec::new();
    for e in entries {
        let e = e.map_err(|source| ImportError::Read {
            file: dir.clone(),
            source,
        })?;
        if !e.path().is_dir() {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        if !is_account_id(&name) {
            return Err(ImportError::Shape {
                file: e.path(),
                path: String::new(),
                what: "expected a directory named by a 12-digit account ID".into(),
            });
        }
        ids.push(name);
    }
    ids.sort();
    for id in ids {
        let value = import_account(files, &id, org.and_then(|o| o.accounts.get(&id)))?;
        out.insert(id, value);
    }
    Ok(out)
}

/// A managed policy of `Policies`: its name and default version's document.
struct Managed {
    name: String,
    doc: Value,
}

fn import_account(files: &Files, id: &str, in_org: Option<&OrgAccount>) -> Result<Value> {
    let auth = files.json(
        &format!("accounts/{id}/authorization-details.json"),
        "aws iam get-account-authorization-details",
    )?;
    let root = auth.root();
    root.obj()?;
    // The command prints its four lists, empty or not; one missing is a run with --filter (or
    // another command's output), which would leave the account's other principals out.
    for list in [
        "UserDetailList",
        "GroupDetailList",
        "RoleDetailList",
        "Policies",
    ] {
        if root.opt(list)?.is_none() {
            return Err(root.err(format!(
                "missing {list}: expected the whole output of `aws iam get-account-authorization-details` (without --filter)"
            )));
        }
    }

    let mut managed: HashMap<String, Managed> = HashMap::new();
    for p in root.opt_items("Policies")? {
        let arn = p.get_str("Arn")?;
        let name = p.get_str("PolicyName")?;
        let versions = p.opt_items("PolicyVersionList")?;
        let mut default = None;
        for v in &versions {
            if let Some(d) = v.opt("IsDefaultVersion")? {
                if d.v.as_bool().ok_or_else(|| d.expected("a boolean"))? {
                    default = Some(v);
                    break;
                }
            }
        }
        let Some(version) = default else {
            return Err(p.err(format!(
                "policy {arn} has no default version in PolicyVersionList"
            )));
        };
        let doc = version.get("Document")?.policy()?;
        managed.insert(
            arn.to_string(),
            Managed {
                name: name.to_string(),
                doc,
            },
        );
    }

    let lookup = |arn_at: &At| -> Result<&Managed> {
        let arn = arn_at.str()?;
        managed
            .get(arn)
            .ok_or_else(|| ImportError::UnknownManagedPolicy {
                file: arn_at.file.to_path_buf(),
                path: arn_at.path.clone(),
                arn: arn.to_string(),
            })
    };
    // Inline policies first, in listed order, then attached managed policies in listed order.
    let policies = |e: &At, inline_key: &str| -> Result<Value> {
        let mut out = Vec::new();
        for p in e.opt_items(inline_key)? {
            out.push(named(
                p.get_str("PolicyName")?,
                p.get("PolicyDocument")?.policy()?,
            ));
        }
        for a in e.opt_items("AttachedManagedPolicies")? {
            let name = a.get_str("PolicyName")?;
            let m = lookup(&a.get("PolicyArn")?)?;
            out.push(named(name, m.doc.clone()));
        }
        Ok(Value::Array(out))
    };
    let boundary = |e: &At| -> Result<Option<Value>> {
        let Some(b) = e.opt("PermissionsBoundary")? else {
            return Ok(None);
        };
        let m = lookup(&b.get("PermissionsBoundaryArn")?)?;
        Ok(Some(named(&m.name, m.doc.clone())))
    };
    let tags = |e: &At| -> Result<Value> {
        let mut out = Map::new();
        for t in e.opt_items("Tags")? {
            out.insert(
                t.get_str("Key")?.to_string(),
                Value::String(t.get_str("Value")?.to_string()),
            );
        }
        Ok(Value::Object(out))
    };
    let path = |e: &At, m: &mut Map<String, Value>| -> Result<()> {
        if let Some(p) = e.opt("Path")? {
            let p = p.str()?;
            if p != "/" {
                m.insert("path".into(), Value::String(p.into()));
            }
        }
        Ok(())
    };
    let unique = |map: &Map<String, Value>, name_at: &At, what: &str| -> Result<()> {
        let name = name_at.str()?;
        if map.contains_key(name) {
            return Err(name_at.err(format!("{what} {name} is listed twice")));
        }
        Ok(())
    };

    let mut groups = Map::new();
    for g in root.opt_items("GroupDetailList")? {
        let name_at = g.get("GroupName")?;
        unique(&groups, &name_at, "group")?;
        // A group's path names nothing a request can match: it is not carried over.
        let mut m = Map::new();
        m.insert("policies".into(), policies(&g, "GroupPolicyList")?);
        groups.insert(name_at.str()?.to_string(), Value::Object(m));
    }

    let mut users = Map::new();
    for u in root.opt_items("UserDetailList")? {
        let name_at = u.get("UserName")?;
        unique(&users, &name_at, "user")?;
        let mut m = Map::new();
        path(&u, &mut m)?;
        m.insert("policies".into(), policies(&u, "UserPolicyList")?);
        let mut member_of = Vec::new();
        for g in u.opt_items("GroupList")? {
            let group = g.str()?;
            if !groups.contains_key(group) {
                return Err(g.err(format!("group {group} is not in GroupDetailList")));
            }
            member_of.push(Value::String(group.into()));
        }
        m.insert("groups".into(), Value::Array(member_of));
        if let Some(b) = boundary(&u)? {
            m.insert("permissions_boundary".into(), b);
        }
        m.insert("tags".into(), tags(&u)?);
        users.insert(name_at.str()?.to_string(), Value::Object(m));
    }

    let mut roles = Map::new();
    for r in root.opt_items("RoleDetailList")? {
        let name_at = r.get("RoleName")?;
        unique(&roles, &name_at, "role")?;
        let mut m = Map::new();
        path(&r, &mut m)?;
        m.insert(
            "trust_policy".into(),
            r.get("AssumeRolePolicyDocument")?.policy()?,
        );
        m.insert("policies".into(), policies(&r, "RolePolicyList")?);
        if let Some(b) = boundary(&r)? {
            m.insert("permissions_boundary".into(), b);
        }
        m.insert("tags".into(), tags(&r)?);
        roles.insert(name_at.str()?.to_string(), Value::Object(m));
    }

    let resources = import_resources(files, id)?;

    let mut a = Map::new();
    if let Some(o) = in_org {
        a.insert("name".into(), Value::String(o.name.clone()));
        if let Some(scps) = &o.scps {
            a.insert("scps".into(), strings(scps));
        }
        a.insert("rcps".into(), strings(&o.rcps));
    }
    a.insert("roles".into(), Value::Object(roles));
    a.insert("users".into(), Value::Object(users));
    a.insert("groups".into(), Value::Object(groups));
    a.insert("resources".into(), Value::Object(resources));
    Ok(Value::Object(a))
}

/// `accounts/<ID>/resources.tsv` (optional): `ARN<TAB>file` per line, blank lines and `#`
/// comments allowed; each file the output of a command printing a resource policy.
fn import_resources(files: &Files, account: &str) -> Result<Map<String, Value>> {
    let account_dir = files.dir.join("accounts").join(account);
    let tsv = account_dir.join("resources.tsv");
    let mut out = Map::new();
    let Some(text) = files.text(&tsv)? else {
        return Ok(out);
    };
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let tsv_err = |what: String| ImportError::Tsv {
            file: tsv.clone(),
            line: n,
            what,
        };
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((arn, rel)) = line.split_once('\t') else {
            return Err(tsv_err("expected ARN<TAB>file".into()));
        };
        let (arn, rel) = (arn.trim(), rel.trim());
        let fields: Vec<&str> = arn.split(':').collect();
        if fields.len() < 6 || fields[0] != "arn" {
            return Err(tsv_err(format!("{arn:?} is not an ARN")));
        }
        if !fields[4].is_empty() && fields[4] != account {
            return Err(tsv_err(format!(
                "{arn} belongs to account {}, not {account}",
                fields[4]
            )));
        }
        if rel.is_empty() || rel.contains('\t') {
            return Err(tsv_err("expected ARN<TAB>file".into()));
        }
        if let Some(first) = first_line.get(arn) {
            return Err(tsv_err(format!(
                "{arn} is listed twice (first on line {first})"
            )));
        }
        first_line.insert(arn.to_string(), n);

        let file = account_dir.join(rel);
        let Some(body) = files.text(&file)? else {
            return Err(ImportError::Missing {
                file,
                why: format!("listed in {} line {n}", tsv.display()),
            });
        };
        let mut r = Map::new();
        if let Some(policy) = resource_policy(&file, &body)? {
            r.insert("policy".into(), policy);
        }
        out.insert(arn.to_string(), Value::Object(r));
    }
    Ok(out)
}

/// The policy in the output of a resource-policy command; `None` for a resource without one
/// (an empty file or `{}`).
fn resource_policy(file: &Path, body: &str) -> Result<Option<Value>> {
    if body.trim().is_empty() {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(body).map_err(|source| ImportError::Json {
        file: file.to_path_buf(),
        source,
    })?;
    let root = At {
        file,
        path: String::new(),
        v: &value,
    };
    let obj = root.obj()?;
    // s3api get-bucket-policy, dynamodb get-resource-policy, kms get-key-policy, lambda get-policy;
    // secretsmanager get-resource-policy; ecr get-repository-policy.
    for key in ["Policy", "ResourcePolicy", "policyText"] {
        if let Some(p) = root.opt(key)? {
            return p.policy().map(Some);
        }
    }
    // sqs get-queue-attributes, sns get-topic-attributes.
    if let Some(attrs) = root.opt("Attributes")? {
        return match attrs.opt("Policy")? {
            Some(p) => p.policy().map(Some),
            None => Ok(None),
        };
    }
    if obj.is_empty() {
        return Ok(None);
    }
    Err(root.err(
        "expected {\"Policy\": ...} (get-bucket-policy, get-resource-policy, get-key-policy) \
         or {\"Attributes\": {\"Policy\": ...}} (get-queue-attributes)",
    ))
}
