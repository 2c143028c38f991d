//! `xverify graph`: the AssumeRole graph of the scenarios, checked against their trust policies
//! (read by hand, see each test), in both formats, with a property's counterexample highlighted.
//! DOT output is read back by a small parser of the DOT grammar (quoted strings with escapes,
//! attribute lists, subgraphs); Mermaid output by a line reader that checks every node and
//! subgraph is declared and closed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output};

fn xverify(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xverify"))
        .args(args)
        .output()
        .expect("run xverify")
}

fn spec(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/specs")
        .join(name)
        .join("spec.json")
        .to_string_lossy()
        .into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmp_spec(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xverify-graph-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

// ------------------------------------------------------------------------------------------------
// DOT, read back.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Id(String),
    Str(String),
    Punct(&'static str),
}

fn dot_tokens(s: &str) -> Vec<Tok> {
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' {
            let mut v = String::new();
            i += 1;
            loop {
                assert!(i < cs.len(), "unterminated string in DOT");
                match cs[i] {
                    '"' => break,
                    '\\' => {
                        i += 1;
                        assert!(i < cs.len(), "dangling backslash in DOT");
                        match cs[i] {
                            '"' => v.push('"'),
                            '\\' => v.push('\\'),
                            'n' => v.push('\n'),
                            other => panic!("unexpected escape \\{other} in DOT string"),
                        }
                    }
                    '\n' => panic!("raw line break in a DOT string"),
                    ch => v.push(ch),
                }
                i += 1;
            }
            i += 1;
            out.push(Tok::Str(v));
        } else if c == '-' && cs.get(i + 1) == Some(&'>') {
            out.push(Tok::Punct("->"));
            i += 2;
        } else if let Some(p) = ["{", "}", "[", "]", "=", ";", ","]
            .into_iter()
            .find(|p| p.starts_with(c))
        {
            out.push(Tok::Punct(p));
            i += 1;
        } else if c.is_alphanumeric() || c == '_' || c == '.' {
            let mut v = String::new();
            while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_' || cs[i] == '.') {
                v.push(cs[i]);
                i += 1;
            }
            out.push(Tok::Id(v));
        } else {
            panic!("unexpected character {c:?} in DOT");
        }
    }
    out
}

#[derive(Debug, Default)]
struct Dot {
    /// node id → (attributes, cluster label)
    nodes: BTreeMap<String, (BTreeMap<String, String>, Option<String>)>,
    /// (from, to, attributes), in order
    edges: Vec<(String, String, BTreeMap<String, String>)>,
}

struct DotParser {
    toks: Vec<Tok>,
    i: usize,
}

impl DotParser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }
    fn next(&mut self) -> Tok {
        let t = self.toks.get(self.i).cloned().expect("DOT ended early");
        self.i += 1;
        t
    }
    fn eat(&mut self, p: &'static str) -> bool {
        if self.peek() == Some(&Tok::Punct(p)) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn id(&mut self) -> String {
        match self.next() {
            Tok::Id(s) | Tok::Str(s) => s,
            t => panic!("expected an ID, found {t:?}"),
        }
    }
    fn attrs(&mut self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        while self.eat("[") {
            while !self.eat("]") {
                let k = self.id();
                assert!(self.eat("="), "attribute {k} without '='");
                let v = self.id();
                m.insert(k, v);
                self.eat(",");
                self.eat(";");
            }
        }
        m
    }
    fn stmts(&mut self, g: &mut Dot, cluster: Option<String>) {
        let mut label = cluster;
        loop {
            match self.peek() {
                Some(Tok::Punct("}")) => {
                    self.i += 1;
                    return;
                }
                None => panic!("unbalanced braces: DOT ended inside a block"),
                _ => {}
            }
            let first = self.id();
            if first == "subgraph" {
                let _name = self.id();
                assert!(self.eat("{"), "subgraph without a block");
                // The cluster's label is set inside it, before its nodes.
                self.stmts(g, None);
            } else if matches!(first.as_str(), "node" | "edge" | "graph") {
                self.attrs();
            } else if self.eat("=") {
                let v = self.id();
                if first == "label" {
                    // A cluster's label comes before its nodes.
                    label = Some(v);
                }
            } else if self.eat("->") {
                let to = self.id();
                assert!(!self.eat("->"), "edge chains are not expected");
                let a = self.attrs();
                g.edges.push((first, to, a));
            } else {
                let a = self.attrs();
                assert!(
                    g.nodes.insert(first.clone(), (a, label.clone())).is_none(),
                    "node {first} declared twice"
                );
            }
            self.eat(";");
        }
    }
}

/// Parse `digraph NAME { ... }`: balanced, nothing after it, every edge end declared.
fn parse_dot(s: &str) -> Dot {
    let mut p = DotParser {
        toks: dot_tokens(s),
        i: 0,
    };
    assert_eq!(p.next(), Tok::Id("digraph".into()), "starts with digraph");
    if !matches!(p.peek(), Some(Tok::Punct("{"))) {
        p.id();
    }
    assert!(p.eat("{"), "digraph block");
    let mut g = Dot::default();
    p.stmts(&mut g, None);
    assert!(p.peek().is_none(), "text after the closing brace");
    for (a, b, _) in &g.edges {
        assert!(g.nodes.contains_key(a), "edge from undeclared node {a}");
        assert!(g.nodes.contains_key(b), "edge to undeclared node {b}");
    }
    g
}

impl Dot {
    /// The node with this label in the cluster whose label contains `cluster` (`""`: outside any).
    fn node(&self, cluster: &str, label: &str) -> String {
        let hits: Vec<&String> = self
            .nodes
            .iter()
            .filter(|(_, (a, c))| {
                a.get("label").map(String::as_str) == Some(label)
                    && match c {
                        Some(c) => !cluster.is_empty() && c.contains(cluster),
                        None => cluster.is_empty(),
                    }
            })
            .map(|(id, _)| id)
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "one node {label:?} in {cluster:?}: {self:#?}"
        );
        hits[0].clone()
    }
    fn cluster_of(&self, id: &str) -> Option<&str> {
        self.nodes[id].1.as_deref()
    }
    fn label(&self, id: &str) -> &str {
        &self.nodes[id].0["label"]
    }
    fn edges_into(&self, id: &str) -> Vec<&(String, String, BTreeMap<String, String>)> {
        self.edges.iter().filter(|e| e.1 == id).collect()
    }
    fn edges_from(&self, id: &str) -> Vec<&(String, String, BTreeMap<String, String>)> {
        self.edges.iter().filter(|e| e.0 == id).collect()
    }
    fn edge(&self, from: &str, to: &str) -> &BTreeMap<String, String> {
        let hits: Vec<_> = self
            .edges
            .iter()
            .filter(|e| e.0 == from && e.1 == to)
            .collect();
        assert_eq!(hits.len(), 1, "one edge {from} -> {to}: {:#?}", self.edges);
        &hits[0].2
    }
    fn highlighted_edges(&self) -> BTreeSet<(String, String)> {
        self.edges
            .iter()
            .filter(|e| e.2.get("color").map(String::as_str) == Some("red"))
            .inspect(|e| assert_eq!(e.2.get("penwidth").map(String::as_str), Some("2")))
            .map(|e| (e.0.clone(), e.1.clone()))
            .collect()
    }
    fn highlighted_nodes(&self) -> BTreeSet<String> {
        self.nodes
            .iter()
            .filter(|(_, (a, _))| a.get("color").map(String::as_str) == Some("red"))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

fn graph_dot(args: &[&str]) -> (Dot, Output) {
    let mut a = vec!["graph"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--format", "dot"]);
    let out = xverify(&a);
    let text = stdout(&out);
    (parse_dot(&text), out)
}

// ------------------------------------------------------------------------------------------------
// Mermaid, read back.

#[derive(Debug, Default)]
struct Mermaid {
    /// id → (label with entity codes decoded, subgraph title)
    nodes: BTreeMap<String, (String, Option<String>)>,
    /// (from, to, label decoded, dashed), in order: linkStyle indexes count them.
    edges: Vec<(String, String, String, bool)>,
    link_styles: BTreeSet<usize>,
    styled_nodes: BTreeSet<String>,
}

/// The text between a label's quotes must hold no quote, and no character Mermaid reads as markup.
fn mermaid_label(raw: &str) -> String {
    for bad in ['"', '<', '>', '|', '`', '[', ']', '{', '}'] {
        assert!(!raw.contains(bad), "raw {bad:?} in Mermaid label {raw:?}");
    }
    let mut out = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find('#') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').expect("entity code ends with ';'") + i;
        let code = &rest[i + 1..end];
        out.push(match code {
            "quot" => '"',
            n => char::from_u32(n.parse().expect("numeric entity")).unwrap(),
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn parse_mermaid(s: &str) -> Mermaid {
    let mut lines = s.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    let mut m = Mermaid::default();
    let mut cluster: Option<String> = None;
    for line in lines {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("subgraph ") {
            assert!(cluster.is_none(), "nested subgraph");
            let (_, title) = rest.split_once("[\"").expect("subgraph title");
            let title = title.strip_suffix("\"]").expect("subgraph title closes");
            cluster = Some(mermaid_label(title));
        } else if l == "end" {
            assert!(cluster.take().is_some(), "end without subgraph");
        } else if let Some(rest) = l.strip_prefix("linkStyle ") {
            let (idx, style) = rest.split_once(' ').unwrap();
            assert_eq!(style, "stroke:red,stroke-width:2px");
            for i in idx.split(',') {
                m.link_styles.insert(i.parse().unwrap());
            }
        } else if let Some(rest) = l.strip_prefix("style ") {
            let (id, style) = rest.split_once(' ').unwrap();
            assert_eq!(style, "stroke:red,stroke-width:2px");
            assert!(m.nodes.contains_key(id), "style of undeclared node {id}");
            m.styled_nodes.insert(id.to_string());
        } else if l.contains("-->|") || l.contains("-.->|") {
            let dashed = l.contains("-.->|");
            let arrow = if dashed { " -.->|\"" } else { " -->|\"" };
            let (from, rest) = l.split_once(arrow).expect("edge arrow");
            let (label, to) = rest.rsplit_once("\"| ").expect("edge label closes");
            for id in [from, to] {
                assert!(
                    m.nodes.contains_key(id),
                    "edge end {id} not declared before"
                );
            }
            m.edges
                .push((from.into(), to.into(), mermaid_label(label), dashed));
        } else {
            let i = l.find(['[', '(']).expect("node declaration");
            let (id, shape) = l.split_at(i);
            assert!(
                id.starts_with('n') && id[1..].parse::<usize>().is_ok(),
                "{l}"
            );
            let inner = ["[(\"", "[\"", "(\""]
                .iter()
                .find_map(|open| shape.strip_prefix(open))
                .expect("quoted label");
            let label = ["\")]", "\"]", "\")"]
                .iter()
                .find_map(|close| inner.strip_suffix(close))
                .expect("label closes");
            assert!(
                m.nodes
                    .insert(id.into(), (mermaid_label(label), cluster.clone()))
                    .is_none(),
                "node {id} declared twice"
            );
        }
    }
    assert!(cluster.is_none(), "subgraph not closed");
    m
}

impl Mermaid {
    fn node(&self, cluster: &str, label: &str) -> String {
        let hits: Vec<&String> = self
            .nodes
            .iter()
            .filter(|(_, (l, c))| {
                l == label
                    && match c {
                        Some(c) => !cluster.is_empty() && c.contains(cluster),
                        None => cluster.is_empty(),
                    }
            })
            .map(|(id, _)| id)
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "one node {label:?} in {cluster:?}: {self:#?}"
        );
        hits[0].clone()
    }
}

fn graph_mermaid(args: &[&str]) -> (Mermaid, Output) {
    let mut a = vec!["graph"];
    a.extend_from_slice(args);
    let out = xverify(&a);
    (parse_mermaid(&stdout(&out)), out)
}

// ------------------------------------------------------------------------------------------------

/// 09: VendorGatewayRole (111111111111) trusts `arn:aws:iam::999999999999:root` with
/// `sts:ExternalId = vendor-c41e-2024`; TableReaderRole (222222222222) trusts only
/// `role/VendorGatewayRole`, whose policy allows `sts:AssumeRole` on it. TableReaderRole's policy
/// allows DynamoDB only, so nothing leaves it.
#[test]
fn role_chaining_edges_follow_the_trust_policies() {
    let (g, out) = graph_dot(&[&spec("09-role-chaining")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let vgr = g.node("111111111111", "role VendorGatewayRole");
    let trr = g.node("222222222222", "role TableReaderRole");
    assert!(g
        .cluster_of(&vgr)
        .unwrap()
        .starts_with("integration (111111111111)"));
    assert!(g.cluster_of(&vgr).unwrap().ends_with(", in organization"));
    assert!(g
        .cluster_of(&trr)
        .unwrap()
        .starts_with("data (222222222222)"));

    // The vendor's principals reach VendorGatewayRole, with the External ID on the edge.
    let vendor_role = g.node("999999999999", "any role");
    assert!(g
        .cluster_of(&vendor_role)
        .unwrap()
        .ends_with("outside organization"));
    let e = g.edge(&vendor_role, &vgr);
    assert!(e["label"].starts_with("AssumeRole"), "{e:?}");
    assert!(
        e["label"].contains("sts:ExternalId = \"vendor-c41e-2024\""),
        "{e:?}"
    );
    assert!(!e.contains_key("style"), "a decided hop is solid");
    let vendor_user = g.node("999999999999", "any user");
    assert!(g.edge(&vendor_user, &vgr)["label"].contains("vendor-c41e-2024"));

    // Only 999999999999's principals: every edge into VendorGatewayRole starts in its cluster.
    let into_vgr = g.edges_into(&vgr);
    assert!(!into_vgr.is_empty());
    for (from, _, a) in into_vgr {
        assert!(
            g.cluster_of(from).unwrap().contains("999999999999"),
            "{} -> VendorGatewayRole: only the vendor account is trusted",
            g.label(from)
        );
        assert!(a["label"].contains("sts:ExternalId"));
    }
    // TableReaderRole: exactly one way in, from VendorGatewayRole, with no condition.
    let into_trr = g.edges_into(&trr);
    assert_eq!(into_trr.len(), 1, "{into_trr:?}");
    assert_eq!(into_trr[0].0, vgr);
    assert_eq!(into_trr[0].2["label"], "AssumeRole");
    assert!(
        g.edges_from(&trr).is_empty(),
        "TableReaderRole may assume nothing"
    );
    assert!(
        g.edges.iter().all(|e| !e.2.contains_key("style")),
        "no unknown hop"
    );
    // No highlight without --property.
    assert!(g.highlighted_edges().is_empty() && g.highlighted_nodes().is_empty());

    // Deterministic.
    let again = xverify(&["graph", &spec("09-role-chaining"), "--format", "dot"]);
    assert_eq!(stdout(&again), stdout(&out));
}

/// 10: both roles trust only the GitHub OIDC provider, for `AssumeRoleWithWebIdentity`;
/// GitHubDeployLoose checks only `aud`, GitHubDeployPinned also pins `sub` to the main branch.
#[test]
fn github_oidc_edges_carry_the_token_conditions() {
    let (m, out) = graph_mermaid(&[&spec("10-github-oidc")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let loose = m.node("222222222222", "role GitHubDeployLoose");
    let pinned = m.node("222222222222", "role GitHubDeployPinned");
    assert!(m.nodes[&loose]
        .1
        .as_deref()
        .unwrap()
        .starts_with("deploy (222222222222)"));
    // The provider's users are outside every account.
    let idp = m
        .nodes
        .iter()
        .find(|(_, (l, _))| l.contains("token.actions.githubusercontent.com"))
        .map(|(id, _)| id.clone())
        .unwrap();
    assert!(m.nodes[&idp].1.is_none());
    for role in [&loose, &pinned] {
        let into: Vec<_> = m.edges.iter().filter(|e| &e.1 == role).collect();
        assert_eq!(into.len(), 1, "only the OIDC provider is trusted: {into:?}");
        assert_eq!(into[0].0, idp);
        assert!(!into[0].3, "solid");
        assert!(into[0].2.starts_with("WithWebIdentity: "), "{}", into[0].2);
        assert!(into[0]
            .2
            .contains("token.actions.githubusercontent.com:aud = \"sts.amazonaws.com\""));
    }
    let label = |role: &str| m.edges.iter().find(|e| e.1 == role).unwrap().2.clone();
    assert!(
        !label(&loose).contains(":sub"),
        "the loose role pins no repository"
    );
    assert!(label(&pinned).contains(
        "token.actions.githubusercontent.com:sub = \"repo:example-org/app:ref:refs/heads/main\""
    ));
    assert!(m.link_styles.is_empty() && m.styled_nodes.is_empty());
}

/// 06: each stage's DeployRole trusts only `role/PipelineRole` of 111111111111, which may assume
/// all three; PipelineRole trusts its own account, where no other principal may call AssumeRole
/// (the root user is denied it).
#[test]
fn cicd_only_the_pipeline_reaches_the_deploy_roles() {
    let (g, out) = graph_dot(&[&spec("06-cicd-deploy")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pipeline = g.node("devops (111111111111)", "role PipelineRole");
    for stage in [
        "dev (222222222222)",
        "staging (333333333333)",
        "prod (444444444444)",
    ] {
        let deploy = g.node(stage, "role DeployRole");
        let into = g.edges_into(&deploy);
        assert_eq!(into.len(), 1, "{stage}: {into:?}");
        assert_eq!(into[0].0, pipeline);
        assert_eq!(into[0].2["label"], "AssumeRole");
    }
    assert!(g.edges_into(&pipeline).is_empty());
    assert_eq!(g.edges.len(), 3);
}

/// `--property`: the counterexample chain of `prove` is the highlighted path, nothing else.
#[test]
fn property_highlights_exactly_the_counterexample_chain() {
    let spec09 = spec("09-role-chaining");
    let proved = xverify(&[
        "prove",
        &spec09,
        "--format",
        "json",
        "--property",
        "T-stays-in-org",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&proved)).unwrap();
    let chain = v["results"][0]["counterexample"]["chain"]
        .as_array()
        .unwrap()
        .clone();
    // By hand: vendor (999999999999) → VendorGatewayRole → TableReaderRole → a read of T.
    assert_eq!(chain.len(), 3);
    let principal0 = chain[0]["principal"].as_str().unwrap();
    assert!(principal0.contains(":999999999999:"));

    let (g, out) = graph_dot(&[&spec09, "--property", "T-stays-in-org"]);
    assert_eq!(out.status.code(), Some(1), "refuted: {}", stderr(&out));
    assert!(stderr(&out).contains("T-stays-in-org"));
    assert!(stdout(&out).starts_with("digraph "));
    let vgr = g.node("111111111111", "role VendorGatewayRole");
    let trr = g.node("222222222222", "role TableReaderRole");
    let start = g.node(
        "999999999999",
        if principal0.contains(":assumed-role/") {
            "any role"
        } else {
            "any user"
        },
    );
    let table = g.node("222222222222", "dynamodb table/T");
    assert_eq!(
        g.highlighted_edges(),
        BTreeSet::from([
            (start.clone(), vgr.clone()),
            (vgr.clone(), trr.clone()),
            (trr.clone(), table.clone())
        ])
    );
    assert_eq!(
        g.highlighted_nodes(),
        BTreeSet::from([start, vgr, trr.clone(), table.clone()])
    );
    let last = g.edge(&trr, &table);
    assert_eq!(last["label"], chain[2]["action"].as_str().unwrap());

    // Mermaid: linkStyle names the chain's edges by their index, style its nodes (10: any
    // workflow → GitHubDeployLoose → a write to deploy-artifacts).
    let (m, out) = graph_mermaid(&[
        &spec("10-github-oidc"),
        "--property",
        "artifacts-only-from-org",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let loose = m.node("222222222222", "role GitHubDeployLoose");
    let pinned = m.node("222222222222", "role GitHubDeployPinned");
    let hi: BTreeSet<(String, String)> = m
        .link_styles
        .iter()
        .map(|&i| (m.edges[i].0.clone(), m.edges[i].1.clone()))
        .collect();
    assert_eq!(hi.len(), 2, "{hi:?}");
    let (idp, _) = hi.iter().find(|(_, to)| *to == loose).unwrap().clone();
    let (_, bucket) = hi.iter().find(|(from, _)| *from == loose).unwrap().clone();
    assert!(m.nodes[&idp]
        .0
        .contains("token.actions.githubusercontent.com"));
    assert!(m.nodes[&bucket].0.contains("deploy-artifacts"));
    assert_eq!(m.styled_nodes, BTreeSet::from([idp, loose, bucket]));
    assert!(!m.styled_nodes.contains(&pinned));

    // A property that holds highlights nothing.
    let (g, out) = graph_dot(&[&spec09, "--property", "vendor-cannot-write-T"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(g.highlighted_edges().is_empty() && g.highlighted_nodes().is_empty());
}

/// Quotes, backslashes and markup characters in account names and condition values; a hop the
/// prover cannot decide (BinaryEquals on a key the caller chooses) is dashed and `unknown`.
#[test]
fn labels_are_escaped_and_unknown_hops_dashed() {
    let name = r#"we "quote" <html> & #hash | pipe [x] {y} back\slash"#;
    let ext = r#"a"b<c>|d#e`f\g"#;
    let text = serde_json::json!({
        "accounts": {
            "111111111111": {
                "name": name,
                "roles": {
                    "Odd": {"trust_policy": {"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
                         "Action": "sts:AssumeRole",
                         "Condition": {"StringEquals": {"aws:PrincipalTag/x": ext}}}]}},
                    "Undecided": {"trust_policy": {"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:root"},
                         "Action": "sts:AssumeRole",
                         "Condition": {"BinaryEquals": {"xverify:Blob": "QmluYXJ5"}}}]}}
                }
            }
        },
        "properties": []
    })
    .to_string();
    let p = tmp_spec("odd.json", &text);
    let want_cluster = format!("{name} (111111111111)");
    let want_cond = format!(
        "AssumeRole: aws:PrincipalTag/x = {}",
        serde_json::Value::String(ext.into())
    );

    let (g, out) = graph_dot(&[p.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "an unknown hop: {}",
        stderr(&out)
    );
    let odd = g.node(&want_cluster, "role Odd");
    assert_eq!(g.cluster_of(&odd), Some(want_cluster.as_str()));
    let from333 = g.node("333333333333", "any role");
    assert_eq!(g.edge(&from333, &odd)["label"], want_cond);
    let undecided = g.node(&want_cluster, "role Undecided");
    let from444 = g.node("444444444444", "any role");
    let e = g.edge(&from444, &undecided);
    assert_eq!(e["label"], "unknown");
    assert_eq!(e.get("style").map(String::as_str), Some("dashed"));

    let (m, _) = graph_mermaid(&[p.to_str().unwrap()]);
    let odd = m.node(&want_cluster, "role Odd");
    assert_eq!(m.nodes[&odd].1.as_deref(), Some(want_cluster.as_str()));
    let from333 = m.node("333333333333", "any role");
    let e = m
        .edges
        .iter()
        .find(|e| e.0 == from333 && e.1 == odd)
        .unwrap();
    assert_eq!(e.2, want_cond);
    assert!(!e.3);
    let undecided = m.node(&want_cluster, "role Undecided");
    let from444 = m.node("444444444444", "any role");
    let e = m
        .edges
        .iter()
        .find(|e| e.0 == from444 && e.1 == undecided)
        .unwrap();
    assert_eq!((e.2.as_str(), e.3), ("unknown", true));
}

#[test]
fn bad_input_exits_2_naming_the_file() {
    let bad = tmp_spec("broken-spec.json", "{\"accounts\": 3}");
    let out = xverify(&["graph", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("broken-spec.json"), "{err}");

    let out = xverify(&["graph", "/nonexistent/xverify-missing.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("xverify-missing.json"));

    let spec09 = spec("09-role-chaining");
    let out = xverify(&["graph", &spec09, "--property", "no-such-property"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("no-such-property") && err.contains("spec.json"),
        "{err}"
    );

    let out = xverify(&["graph", &spec09, "--format", "svg"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// The progress line is for terminals only: with standard error a pipe, `prove` writes no
/// carriage return or ANSI code there, with or without `--no-progress`.
#[test]
fn prove_progress_stays_off_pipes() {
    let spec09 = spec("09-role-chaining");
    for extra in [&[][..], &["--no-progress"][..]] {
        let mut args = vec!["prove", &spec09, "--format", "json"];
        args.extend_from_slice(extra);
        let out = xverify(&args);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(!err.contains('\r') && !err.contains('\x1b'), "{err:?}");
        let _: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    }
}
