//! Model → canonical policy JSON. `parse(print(p)) == p` for every policy the parser accepts.

use crate::json::write_str;
use crate::model::*;
use crate::pattern::Template;

impl Policy {
    /// The policy as compact JSON, in canonical element order, every list as an array.
    pub fn to_json(&self) -> String {
        let mut o = String::new();
        o.push('{');
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
        o.push_str("\"Statement\":[");
        for (i, s) in self.statements().iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            s.write_json(&mut o);
        }
        o.push_str("]}");
        o
    }
}

fn write_list<'a>(o: &mut String, items: impl IntoIterator<Item = &'a str>) {
    o.push('[');
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        write_str(o, s);
    }
    o.push(']');
}

fn write_templates(o: &mut String, ts: &[Template]) {
    let strs: Vec<String> = ts.iter().map(Template::to_policy_string).collect();
    write_list(o, strs.iter().map(String::as_str));
}

impl Statement {
    /// The statement as compact JSON.
    pub fn to_json(&self) -> String {
        let mut o = String::new();
        self.write_json(&mut o);
        o
    }

    fn write_json(&self, o: &mut String) {
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
            p.set.write_json(o);
        }
        o.push_str(if self.action.not {
            ",\"NotAction\":"
        } else {
            ",\"Action\":"
        });
        write_templates(o, &self.action.patterns);
        if let Some(r) = &self.resource {
            o.push_str(if r.not {
                ",\"NotResource\":"
            } else {
                ",\"Resource\":"
            });
            write_templates(o, &r.patterns);
        }
        if !self.conditions.is_empty() {
            o.push_str(",\"Condition\":{");
            // Group by operator, in first-appearance order.
            let mut ops: Vec<Operator> = Vec::new();
            for c in &self.conditions {
                if !ops.contains(&c.op) {
                    ops.push(c.op);
                }
            }
            for (i, op) in ops.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                write_str(o, &op.name());
                o.push_str(":{");
                for (j, c) in self.conditions.iter().filter(|c| c.op == *op).enumerate() {
                    if j > 0 {
                        o.push(',');
                    }
                    write_str(o, &c.key);
                    o.push(':');
                    write_list(o, c.raw.iter().map(String::as_str));
                }
                o.push('}');
            }
            o.push('}');
        }
        o.push('}');
    }
}

impl PrincipalSet {
    fn write_json(&self, o: &mut String) {
        if self.bare_star
            && self.aws == [AwsPrincipalRef::Any]
            && self.service.is_empty()
            && self.federated.is_empty()
            && self.canonical_user.is_empty()
        {
            o.push_str("\"*\"");
            return;
        }
        o.push('{');
        let mut first = true;
        let mut group = |o: &mut String, name: &str, items: Vec<String>| {
            if items.is_empty() {
                return;
            }
            if !first {
                o.push(',');
            }
            first = false;
            write_str(o, name);
            o.push(':');
            write_list(o, items.iter().map(String::as_str));
        };
        group(
            o,
            "AWS",
            self.aws
                .iter()
                .map(AwsPrincipalRef::to_policy_string)
                .collect(),
        );
        group(o, "Service", self.service.clone());
        group(o, "Federated", self.federated.clone());
        group(o, "CanonicalUser", self.canonical_user.clone());
        o.push('}');
    }
}
