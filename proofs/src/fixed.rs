//! A query with the request fixed: the encoding must give the engine's decision. Used by the
//! differential tests and the fuzz target `symbolic_vs_concrete`.

use crate::classes::{Lang, Pattern};
use crate::encode::{
    allow_formula, scale, Assignment, Cmp, Family, Source, Sym, SymPrincipal, Unsupported, F,
};
use crate::solve::{check, Config, Outcome};
use xverify_engine::pattern::{fold, parse_date, parse_number, Cidr, IpValue};
use xverify_engine::{Context, ContextValue, PolicySet, Request};

/// Keys `Request::new` fills from the principal and resource: fixed in a query (lower-case).
pub const DERIVED: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:resourceaccount",
    "aws:principaltype",
    "aws:principalisawsservice",
    "aws:username",
    "aws:userid",
    "aws:principalservicename",
];

/// Build the query of a concrete request: principal and derived keys fixed, everything the caller
/// gave free.
pub fn sym_for(req: &Request) -> Sym {
    sym_for_fixing(req, &[])
}

/// [`sym_for`], with the context keys `also` (lower-case) fixed to the request's values too
/// (absent when the request does not give them).
pub fn sym_for_fixing(req: &Request, also: &[String]) -> Sym {
    let mut fixed_ctx = Context::new();
    for (k, v) in req.context.iter() {
        let lc = fold(k);
        if DERIVED.contains(&lc.as_str()) || also.contains(&lc) {
            fixed_ctx.insert(k, v.clone());
        }
    }
    let fixed = Request::new(
        req.principal.clone(),
        &req.action,
        &req.resource,
        req.resource_account.clone(),
        fixed_ctx,
    );
    let mut sym = Sym::new(
        SymPrincipal::Concrete(req.principal.clone()),
        fixed,
        req.resource_account.clone(),
    );
    for k in DERIVED {
        sym.sources.insert((*k).to_string(), Source::Fixed);
    }
    for k in also {
        sym.sources.insert(k.clone(), Source::Fixed);
    }
    sym
}

/// Context keys (lower-case) the encoding cannot leave free in these policies: keys that policy
/// variables read, keys compared with `BinaryEquals`, keys under a set operator over non-string
/// values, and keys compared with two operator families (or with set and plain operators).
/// [`sym_for_fixing`] with them checks the rest of such a policy set.
pub fn unexpressible_keys(set: &PolicySet) -> Vec<String> {
    use std::collections::BTreeMap;
    use xverify_engine::model::{CondValues, Policy};
    use xverify_engine::pattern::{Atom, Template};
    fn vars_of(t: &Template, out: &mut Vec<String>) {
        for a in &t.atoms {
            if let Atom::Var(v) = a {
                out.push(v.key_lc.clone());
            }
        }
    }
    let mut hard: Vec<String> = Vec::new();
    // Per key: the families it is compared as (0 string, 1 set of strings, 2 number, 3 date, 4 IP).
    let mut families: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut policies: Vec<&Policy> = set.identity.iter().collect();
    policies.extend(set.resource.iter());
    policies.extend(set.boundary.iter());
    policies.extend(set.session.iter());
    policies.extend(set.scps.iter().flatten());
    policies.extend(set.rcps.iter().flatten());
    for p in policies {
        for st in p.statements() {
            for t in st.action.patterns.iter() {
                vars_of(t, &mut hard);
            }
            for t in st.resource.iter().flat_map(|r| r.patterns.iter()) {
                vars_of(t, &mut hard);
            }
            for c in &st.conditions {
                let set_op = c.op.set.is_some();
                let family = match &c.values {
                    CondValues::Strings(ts) => {
                        ts.iter().for_each(|t| vars_of(t, &mut hard));
                        Some(u8::from(set_op))
                    }
                    CondValues::Arns(ts) => {
                        for t in ts.iter().flat_map(|t| t.parts.iter().flatten()) {
                            vars_of(t, &mut hard);
                        }
                        Some(u8::from(set_op))
                    }
                    CondValues::Null(_) => None,
                    CondValues::Binary(_) => {
                        hard.push(c.key_lc.clone());
                        None
                    }
                    CondValues::Numbers(_) | CondValues::Dates(_) | CondValues::Ips(_)
                        if set_op =>
                    {
                        hard.push(c.key_lc.clone());
                        None
                    }
                    CondValues::Numbers(_) => Some(2),
                    CondValues::Dates(_) => Some(3),
                    CondValues::Ips(_) => Some(4),
                };
                if let Some(f) = family {
                    let fs = families.entry(c.key_lc.clone()).or_default();
                    if !fs.contains(&f) {
                        fs.push(f);
                    }
                }
            }
        }
    }
    for (k, fs) in families {
        if fs.len() > 1 {
            hard.push(k);
        }
    }
    hard.sort();
    hard.dedup();
    hard
}

/// The request's own values as an assignment of the query's variables. `None` when the request
/// gives several values to a key the encoding holds single-valued.
pub fn assignment_of(sym: &Sym, req: &Request) -> Option<Assignment> {
    let mut a = Assignment {
        strs: vec![None; sym.vars.len()],
        keys: vec![None; sym.keys.len()],
    };
    a.strs[sym.action] = Some(req.action.clone());
    a.strs[sym.resource] = Some(req.resource.clone());
    for (i, k) in sym.keys.iter().enumerate() {
        // An empty array is absent, except for a multivalued key (`F::Given`).
        let vals: Option<Vec<String>> = req
            .context
            .get(&fold(&k.name))
            .map(|v| v.values().to_vec())
            .filter(|v| !v.is_empty() || k.family == Family::Multi);
        if k.single && vals.as_ref().is_some_and(|vs| vs.len() > 1) {
            return None;
        }
        if let (Some(var), Some(vs)) = (k.var, &vals) {
            if k.family == Family::Str {
                a.strs[var] = vs.first().cloned();
            }
        }
        a.keys[i] = vals;
    }
    Some(a)
}

/// Constraints pinning every variable of the query to the request's values.
pub fn pin(sym: &mut Sym, req: &Request) -> Result<(), Unsupported> {
    let lit = |s: &str| Lang::single(Pattern::literal(s, false));
    let a = sym.action;
    let r = sym.resource;
    let fa = sym.test(a, lit(&req.action));
    let fr = sym.test(r, lit(&req.resource));
    sym.constraints.push(fa);
    sym.constraints.push(fr);
    for k in 0..sym.keys.len() {
        let name = fold(&sym.keys[k].name);
        let given = req.context.get(&name);
        let vals: Vec<String> = given.map(|v| v.values().to_vec()).unwrap_or_default();
        let present = !vals.is_empty();
        sym.keys[k].presence = Some(present);
        if sym.keys[k].family == Family::Multi {
            // Absent and given-but-empty differ for multivalued keys.
            let g = F::Given(k);
            sym.constraints
                .push(if given.is_some() { g } else { F::not(g) });
        }
        if !present {
            continue;
        }
        if !matches!(sym.keys[k].family, Family::Multi | Family::Untyped) {
            if vals.len() > 1 {
                if sym.keys[k].single {
                    return Err(Unsupported(format!(
                        "several values for {}, a key the encoding holds single-valued",
                        sym.keys[k].name
                    )));
                }
                // Every plain operator on the key is false (DECISIONS 1): the values are moot.
                sym.constraints.push(F::Many(k));
                continue;
            }
            sym.constraints.push(F::not(F::Many(k)));
        }
        match sym.keys[k].family {
            Family::Str => {
                let var = sym.keys[k].var.unwrap_or(0);
                let f = sym.test(var, lit(&vals[0]));
                sym.constraints.push(f);
            }
            Family::Multi => {
                let var = sym.keys[k].var.unwrap_or(0);
                // Exactly the classes of the given values: each given value's class is a member,
                // and every member class holds one of them.
                let ids: Vec<usize> = vals.iter().map(|v| sym.lang(var, lit(v))).collect();
                sym.constraints.push(F::AllIn(k, ids.clone(), true));
                for id in ids {
                    sym.constraints.push(F::AnyIn(k, vec![id], true));
                }
            }
            Family::Untyped => {}
            Family::Num => {
                // Within the bounds `solve.rs` gives numbers (encode::NUM_BOUND).
                let f = match parse_number(&vals[0]) {
                    None => invalid_value(k, Family::Num),
                    Some(x) => match scale(x).filter(|n| n.abs() <= crate::encode::NUM_BOUND) {
                        Some(n) => F::Num(k, Cmp::Eq, n),
                        None => {
                            return Err(Unsupported(format!(
                                "number {x} is not a whole number of half-millionths within ±2^31"
                            )))
                        }
                    },
                };
                sym.constraints.push(f);
            }
            Family::Date => {
                // Within the years 1 to 9999 (the bounds `solve.rs` gives dates).
                let f = match parse_date(&vals[0]) {
                    None => invalid_value(k, Family::Date),
                    Some(d) if (crate::encode::DATE_MIN..=crate::encode::DATE_MAX).contains(&d) => {
                        F::Date(k, Cmp::Eq, d)
                    }
                    Some(d) => {
                        return Err(Unsupported(format!(
                            "date {d} ms is outside the years 1 to 9999"
                        )))
                    }
                };
                sym.constraints.push(f);
            }
            Family::Ip => {
                let f = match IpValue::parse(&vals[0]) {
                    None => invalid_value(k, Family::Ip),
                    Some(IpValue::V4(addr)) => F::Ip(k, Cidr::V4 { addr, prefix: 32 }),
                    Some(IpValue::V6(addr)) => F::Ip(k, Cidr::V6 { addr, prefix: 128 }),
                };
                sym.constraints.push(f);
            }
        }
    }
    Ok(())
}

/// A present value of `family` that does not parse: no comparison holds (the solver's
/// `valid` bit is false).
fn invalid_value(k: usize, family: Family) -> F {
    F::and(match family {
        Family::Num => [Cmp::Eq, Cmp::Lt, Cmp::Gt]
            .map(|op| F::not(F::Num(k, op, 0)))
            .to_vec(),
        Family::Date => [Cmp::Eq, Cmp::Lt, Cmp::Gt]
            .map(|op| F::not(F::Date(k, op, 0)))
            .to_vec(),
        _ => vec![
            F::not(F::Ip(k, Cidr::V4 { addr: 0, prefix: 0 })),
            F::not(F::Ip(k, Cidr::V6 { addr: 0, prefix: 0 })),
        ],
    })
}

/// The encoding's answer for a concrete request, evaluated without the solver.
pub fn ir_decides_allow(set: &PolicySet, req: &Request) -> Result<Option<bool>, Unsupported> {
    ir_decides_allow_fixing(set, req, &[])
}

/// [`ir_decides_allow`] with the context keys `also` fixed (see [`sym_for_fixing`]).
pub fn ir_decides_allow_fixing(
    set: &PolicySet,
    req: &Request,
    also: &[String],
) -> Result<Option<bool>, Unsupported> {
    let mut sym = sym_for_fixing(req, also);
    let f = allow_formula(&mut sym, set)?;
    Ok(assignment_of(&sym, req).map(|a| crate::encode::eval_formula(&sym, &f, &a)))
}

/// The encoding's answer for a concrete request, from Z3 with every variable pinned.
pub fn z3_decides_allow(set: &PolicySet, req: &Request) -> Result<Option<bool>, Unsupported> {
    z3_decides_allow_fixing(set, req, &[])
}

/// [`z3_decides_allow`] with the context keys `also` fixed (see [`sym_for_fixing`]).
pub fn z3_decides_allow_fixing(
    set: &PolicySet,
    req: &Request,
    also: &[String],
) -> Result<Option<bool>, Unsupported> {
    let mut sym = sym_for_fixing(req, also);
    let f = allow_formula(&mut sym, set)?;
    if assignment_of(&sym, req).is_none() {
        return Ok(None);
    }
    if pin(&mut sym, req).is_err() {
        return Ok(None);
    }
    match check(&sym, &f, &Config::default(), "pinned").0 {
        Outcome::Sat(_) => Ok(Some(true)),
        Outcome::Unsat => Ok(Some(false)),
        Outcome::Unknown(why) => Err(Unsupported(format!("solver: {why}"))),
    }
}

/// Keep the type in use for callers that build contexts.
pub fn one(s: &str) -> ContextValue {
    ContextValue::One(s.to_string())
}
