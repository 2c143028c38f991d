//! `xverify graph SPEC`: who can assume which role, as Mermaid or Graphviz DOT.
//!
//! Nodes are the estate's roles and the principal classes that can reach them (described users and
//! roles, the open world's principals of each undescribed account, services, identity providers,
//! anonymous callers), grouped by account. An edge A → R is an `sts:AssumeRole*` hop that the
//! prover's query for (A, R) found possible (and the engine replayed), labelled with the action and
//! the conditions of the trust policy statement that allowed it; a hop the solver could not decide
//! is dashed and labelled `unknown`. With `--property`, the property is proved too and the chain of
//! its counterexample is highlighted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use xverify_engine::model::{BaseOp, Condition, SetOp, Statement};

use crate::properties::assume_graph::{assume_role_graph, Graph, Hop};
use crate::properties::{prove_property, PropertyResult, Status, Step};
use crate::solve::Config;
use crate::spec::Spec;

/// Output formats of `xverify graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

/// What `xverify graph` prints and its exit code.
#[derive(Debug, Clone)]
pub struct GraphRun {
    pub output: String,
    /// 0; 3 when a hop is unknown; with `--property`, 1 when it is refuted and 3 when unknown.
    pub exit_code: u8,
    /// One line for standard error: the property's status (with `--property`).
    pub note: Option<String>,
}

/// Run `xverify graph`: `Err` is a bad-input or usage message that names the file (exit 2).
pub fn run_graph(
    path: &Path,
    format: GraphFormat,
    property: Option<&str>,
    cfg: &Config,
) -> Result<GraphRun, String> {
    let spec = crate::spec::load_spec(path).map_err(|e| e.to_string())?;
    let prop = match property {
        None => None,
        Some(n) => match spec.properties.iter().find(|p| p.name == n) {
            Some(p) => Some(p),
            None => return Err(format!("{}: no property named {n:?}", path.display())),
        },
    };
    let graph = assume_role_graph(&spec, prop, cfg);
    let result = prop.map(|p| prove_property(&spec, p, cfg));
    let view = View::build(&spec, &graph, result.as_ref());
    let output = match format {
        GraphFormat::Mermaid => view.mermaid(),
        GraphFormat::Dot => view.dot(),
    };
    let unknown_edges = graph.edges.iter().any(|e| matches!(e.hop, Hop::Unknown(_)));
    let exit_code = match result.as_ref().map(|r| r.status) {
        Some(Status::Refuted) => 1,
        Some(Status::Unknown) => 3,
        _ if unknown_edges => 3,
        _ => 0,
    };
    let note = result.as_ref().map(|r| {
        let mut s = format!("xverify: property {}: {}", r.name, r.status.as_str());
        if r.status == Status::Refuted && !r.chain.is_empty() {
            s.push_str(&format!(
                " (counterexample chain of {} step{} highlighted)",
                r.chain.len(),
                if r.chain.len() == 1 { "" } else { "s" }
            ));
        } else if let Some(reason) = &r.reason {
            s.push_str(&format!(": {reason}"));
        }
        s
    });
    Ok(GraphRun {
        output,
        exit_code,
        note,
    })
}

/// A node as drawn.
#[derive(Debug, Clone)]
struct VNode {
    id: String,
    label: String,
    account: Option<String>,
    shape: Shape,
    hi: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Role,
    Principal,
    Resource,
}

/// An edge as drawn.
#[derive(Debug, Clone)]
struct VEdge {
    from: String,
    to: String,
    label: String,
    dashed: bool,
    hi: bool,
}

/// The account clusters' titles.
#[derive(Debug, Clone)]
struct VAccount {
    id: String,
    title: String,
}

/// The graph to draw: sorted nodes, edges and clusters.
struct View {
    nodes: Vec<VNode>,
    edges: Vec<VEdge>,
    accounts: Vec<VAccount>,
}

/// `sts:AssumeRole` → `AssumeRole`, `sts:AssumeRoleWithWebIdentity` → `WithWebIdentity`, ...
fn short_action(action: &str) -> String {
    let lc = action.to_ascii_lowercase();
    match lc.as_str() {
        "sts:assumerole" => "AssumeRole".into(),
        "sts:assumerolewithwebidentity" => "WithWebIdentity".into(),
        "sts:assumerolewithsaml" => "WithSAML".into(),
        _ => action.to_string(),
    }
}

fn is_assume_role(action: &str) -> bool {
    action.to_ascii_lowercase().starts_with("sts:assumerole")
}

/// At most this many characters of a condition value.
const MAX_VALUE: usize = 60;
/// At most this many values of a condition, and conditions of a statement, in a label.
const MAX_VALUES: usize = 3;
const MAX_CONDITIONS: usize = 4;

/// A value as a JSON string (quotes and backslashes escaped), cut at [`MAX_VALUE`] characters.
fn quote_value(v: &str) -> String {
    let mut s: String = v.chars().take(MAX_VALUE).collect();
    if v.chars().count() > MAX_VALUE {
        s.push('…');
    }
    serde_json::Value::String(s).to_string()
}

/// One condition in a few words: `sts:ExternalId = "x"`, `...:sub like "repo:org/*"`.
pub fn condition_summary(c: &Condition) -> String {
    let mut key = c.key.clone();
    match c.op.set {
        Some(SetOp::ForAnyValue) => key = format!("any of {key}"),
        Some(SetOp::ForAllValues) => key = format!("all of {key}"),
        None => {}
    }
    let suffix = if c.op.if_exists { " (if present)" } else { "" };
    if c.op.base == BaseOp::Null {
        let absent = c.raw.iter().all(|v| v.eq_ignore_ascii_case("true"));
        return format!("{key} {}", if absent { "absent" } else { "present" });
    }
    let op = match c.op.base {
        BaseOp::StringEquals
        | BaseOp::ArnEquals
        | BaseOp::NumericEquals
        | BaseOp::DateEquals
        | BaseOp::Bool
        | BaseOp::BinaryEquals => "=",
        BaseOp::StringNotEquals
        | BaseOp::ArnNotEquals
        | BaseOp::NumericNotEquals
        | BaseOp::DateNotEquals => "!=",
        BaseOp::StringEqualsIgnoreCase => "= (any case)",
        BaseOp::StringNotEqualsIgnoreCase => "!= (any case)",
        BaseOp::StringLike | BaseOp::ArnLike => "like",
        BaseOp::StringNotLike | BaseOp::ArnNotLike => "not like",
        BaseOp::NumericLessThan | BaseOp::DateLessThan => "<",
        BaseOp::NumericLessThanEquals | BaseOp::DateLessThanEquals => "<=",
        BaseOp::NumericGreaterThan | BaseOp::DateGreaterThan => ">",
        BaseOp::NumericGreaterThanEquals | BaseOp::DateGreaterThanEquals => ">=",
        BaseOp::IpAddress => "in",
        BaseOp::NotIpAddress => "not in",
        BaseOp::Null => "",
    };
    let mut vals: Vec<String> = c
        .raw
        .iter()
        .take(MAX_VALUES)
        .map(|v| quote_value(v))
        .collect();
    if c.raw.len() > MAX_VALUES {
        vals.push(format!("+{} more", c.raw.len() - MAX_VALUES));
    }
    format!("{key} {op} {}{suffix}", vals.join(" | "))
}

/// The conditions of a trust policy statement, sorted by key.
pub fn statement_summary(st: &Statement) -> Vec<String> {
    let mut cs: Vec<String> = st.conditions.iter().map(condition_summary).collect();
    cs.sort();
    if cs.len() > MAX_CONDITIONS {
        let more = cs.len() - MAX_CONDITIONS;
        cs.truncate(MAX_CONDITIONS);
        cs.push(format!("+{more} more"));
    }
    cs
}

fn hop_label(hop: &Hop) -> (String, bool) {
    match hop {
        Hop::Unknown(_) => ("unknown".into(), true),
        Hop::Possible { action, grant, .. } => {
            let mut s = short_action(action);
            let conds = grant
                .as_ref()
                .map(|g| statement_summary(&g.statement))
                .unwrap_or_default();
            if !conds.is_empty() {
                s.push_str(": ");
                s.push_str(&conds.join(", "));
            }
            (s, false)
        }
    }
}

/// The account of an ARN (`None` for S3 and non-ARNs).
fn arn_account(arn: &str) -> Option<String> {
    xverify_engine::pattern::split_arn(arn)
        .map(|p| p[4].to_string())
        .filter(|a| !a.is_empty())
}

impl View {
    fn build(spec: &Spec, g: &Graph, result: Option<&PropertyResult>) -> View {
        let by_id: BTreeMap<&str, &crate::properties::assume_graph::Node> =
            g.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        let mut nodes: BTreeMap<String, VNode> = BTreeMap::new();
        let add_node = |nodes: &mut BTreeMap<String, VNode>, id: &str| {
            if let Some(n) = by_id.get(id) {
                nodes.entry(id.to_string()).or_insert_with(|| VNode {
                    id: n.id.clone(),
                    label: n.label.clone(),
                    account: n.account.clone(),
                    shape: if n.is_role {
                        Shape::Role
                    } else {
                        Shape::Principal
                    },
                    hi: false,
                });
            }
        };
        for n in g.nodes.iter().filter(|n| n.is_role) {
            add_node(&mut nodes, &n.id);
        }
        let mut edges: Vec<VEdge> = Vec::new();
        for e in &g.edges {
            add_node(&mut nodes, &e.from);
            add_node(&mut nodes, &e.to);
            let (label, dashed) = hop_label(&e.hop);
            edges.push(VEdge {
                from: e.from.clone(),
                to: e.to.clone(),
                label,
                dashed,
                hi: false,
            });
        }
        // The counterexample chain: each AssumeRole hop is an edge between two nodes; the last
        // request, on a resource, ends at a node for the resource.
        if let Some(r) = result.filter(|r| r.status == Status::Refuted) {
            for s in &r.chain {
                let from = match g.node_of(&s.principal) {
                    Some(id) => {
                        add_node(&mut nodes, id);
                        id.to_string()
                    }
                    None => {
                        let id = s.principal.clone();
                        nodes.entry(id.clone()).or_insert_with(|| VNode {
                            id: id.clone(),
                            label: s.principal.clone(),
                            account: arn_account(&s.principal),
                            shape: Shape::Principal,
                            hi: false,
                        });
                        id
                    }
                };
                let to = match g.node_of(&s.resource).filter(|id| {
                    is_assume_role(&s.action) && by_id.get(id).is_some_and(|n| n.is_role)
                }) {
                    Some(id) => {
                        add_node(&mut nodes, id);
                        id.to_string()
                    }
                    None => {
                        let id = s.resource.clone();
                        nodes.entry(id.clone()).or_insert_with(|| VNode {
                            id: id.clone(),
                            label: resource_label(s),
                            account: s
                                .resource_account
                                .clone()
                                .or_else(|| arn_account(&s.resource)),
                            shape: Shape::Resource,
                            hi: false,
                        });
                        id
                    }
                };
                mark(&mut nodes, &mut edges, &from, &to, s);
            }
        }
        let mut nodes: Vec<VNode> = nodes.into_values().collect();
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        edges.sort_by(|a, b| (&a.from, &a.to, &a.label).cmp(&(&b.from, &b.to, &b.label)));
        let used: BTreeSet<&str> = nodes.iter().filter_map(|n| n.account.as_deref()).collect();
        let no_org = spec.estate.organization.is_none();
        let mut accounts: Vec<VAccount> = Vec::new();
        for id in &used {
            let info = g.accounts.iter().find(|a| a.id == *id);
            let org = if no_org {
                ""
            } else if info.is_some_and(|a| a.in_org) {
                ", in organization"
            } else {
                ", outside organization"
            };
            let title = match info {
                Some(a) if a.others => format!("any other account{org}"),
                Some(a) => match (&a.name, a.described) {
                    (Some(n), _) => format!("{n} ({id}){org}"),
                    (None, true) => format!("{id}{org}"),
                    (None, false) => format!("{id} (not described){org}"),
                },
                None => format!("{id}{org}"),
            };
            accounts.push(VAccount {
                id: id.to_string(),
                title,
            });
        }
        View {
            nodes,
            edges,
            accounts,
        }
    }

    /// Node ids of the output: `n0`, `n1`, ... in node order.
    fn ids(&self) -> BTreeMap<&str, String> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), format!("n{i}")))
            .collect()
    }

    /// Nodes by cluster: `None` (no account) first, then accounts in order.
    fn clusters(&self) -> Vec<(Option<&VAccount>, Vec<&VNode>)> {
        let mut out = vec![(
            None,
            self.nodes.iter().filter(|n| n.account.is_none()).collect(),
        )];
        for a in &self.accounts {
            out.push((
                Some(a),
                self.nodes
                    .iter()
                    .filter(|n| n.account.as_deref() == Some(a.id.as_str()))
                    .collect(),
            ));
        }
        out
    }

    fn mermaid(&self) -> String {
        let ids = self.ids();
        let mut out = String::from("flowchart LR\n");
        for (acct, nodes) in self.clusters() {
            let indent = if acct.is_some() { "    " } else { "  " };
            if let Some(a) = acct {
                out.push_str(&format!(
                    "  subgraph acct_{}[\"{}\"]\n",
                    mermaid_id(&a.id),
                    mermaid_escape(&a.title)
                ));
            }
            for n in nodes {
                let (open, close) = match n.shape {
                    Shape::Role => ("[", "]"),
                    Shape::Principal => ("(", ")"),
                    Shape::Resource => ("[(", ")]"),
                };
                out.push_str(&format!(
                    "{indent}{}{open}\"{}\"{close}\n",
                    nid(&ids, &n.id),
                    mermaid_escape(&n.label)
                ));
            }
            if acct.is_some() {
                out.push_str("  end\n");
            }
        }
        let mut hi_links = Vec::new();
        for (i, e) in self.edges.iter().enumerate() {
            let arrow = if e.dashed { "-.->" } else { "-->" };
            out.push_str(&format!(
                "  {} {arrow}|\"{}\"| {}\n",
                nid(&ids, &e.from),
                mermaid_escape(&e.label),
                nid(&ids, &e.to)
            ));
            if e.hi {
                hi_links.push(i.to_string());
            }
        }
        if !hi_links.is_empty() {
            out.push_str(&format!(
                "  linkStyle {} stroke:red,stroke-width:2px\n",
                hi_links.join(",")
            ));
        }
        for n in self.nodes.iter().filter(|n| n.hi) {
            out.push_str(&format!(
                "  style {} stroke:red,stroke-width:2px\n",
                nid(&ids, &n.id)
            ));
        }
        out
    }

    fn dot(&self) -> String {
        let ids = self.ids();
        let mut out = String::from(
            "digraph xverify {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
        );
        for (acct, nodes) in self.clusters() {
            let indent = if acct.is_some() { "    " } else { "  " };
            if let Some(a) = acct {
                out.push_str(&format!(
                    "  subgraph \"cluster_{}\" {{\n    label=\"{}\";\n    style=rounded;\n",
                    dot_escape(&a.id),
                    dot_escape(&a.title)
                ));
            }
            for n in nodes {
                let shape = match n.shape {
                    Shape::Role => "box",
                    Shape::Principal => "ellipse",
                    Shape::Resource => "cylinder",
                };
                let hi = if n.hi { ", color=red, penwidth=2" } else { "" };
                out.push_str(&format!(
                    "{indent}{} [label=\"{}\", shape={shape}{hi}];\n",
                    nid(&ids, &n.id),
                    dot_escape(&n.label)
                ));
            }
            if acct.is_some() {
                out.push_str("  }\n");
            }
        }
        for e in &self.edges {
            let mut attrs = format!("label=\"{}\"", dot_escape(&e.label));
            if e.dashed {
                attrs.push_str(", style=dashed");
            }
            if e.hi {
                attrs.push_str(", color=red, penwidth=2");
            }
            out.push_str(&format!(
                "  {} -> {} [{attrs}];\n",
                nid(&ids, &e.from),
                nid(&ids, &e.to)
            ));
        }
        out.push_str("}\n");
        out
    }
}

/// Highlight a chain step: its two nodes and the edge between them (added when the graph's own
/// query did not find it, e.g. the final request on a resource).
fn mark(
    nodes: &mut BTreeMap<String, VNode>,
    edges: &mut Vec<VEdge>,
    from: &str,
    to: &str,
    s: &Step,
) {
    for id in [from, to] {
        if let Some(n) = nodes.get_mut(id) {
            n.hi = true;
        }
    }
    match edges.iter_mut().find(|e| e.from == from && e.to == to) {
        Some(e) => e.hi = true,
        None => edges.push(VEdge {
            from: from.to_string(),
            to: to.to_string(),
            label: if is_assume_role(&s.action) {
                short_action(&s.action)
            } else {
                s.action.clone()
            },
            dashed: false,
            hi: true,
        }),
    }
}

/// A resource at the end of a chain: its ARN's resource part (`table/T`, `bucket/key`).
fn resource_label(s: &Step) -> String {
    match xverify_engine::pattern::split_arn(&s.resource) {
        Some([_, _, service, _, _, res]) => format!("{service} {res}"),
        None => s.resource.clone(),
    }
}

/// The output id of a node (every edge's ends are nodes).
fn nid<'a>(ids: &'a BTreeMap<&str, String>, id: &str) -> &'a str {
    ids.get(id).map_or("missing", String::as_str)
}

/// A Mermaid identifier from anything (account ids are digits already).
fn mermaid_id(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Text inside a quoted Mermaid label: quotes and the characters Mermaid reads as markup become
/// entity codes (`#quot;`, `#35;`, ...), line breaks spaces.
pub fn mermaid_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#38;"),
            '<' => out.push_str("#60;"),
            '>' => out.push_str("#62;"),
            '|' => out.push_str("#124;"),
            '`' => out.push_str("#96;"),
            '[' => out.push_str("#91;"),
            ']' => out.push_str("#93;"),
            '{' => out.push_str("#123;"),
            '}' => out.push_str("#125;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text inside a quoted DOT string: backslashes and quotes escaped, line breaks `\n`.
pub fn dot_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
