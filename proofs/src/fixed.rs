//! A query with the request fixed: the encoding must give the engine's decision. Used by the
//! differential tests and the fuzz target `symbolic_vs_concrete`.

use crate::classes::{Lang, Pattern};
use crate::encode::{allow_formula, Assignment, Family, Source, Sym, SymPrincipal, Unsupported, F};
use crate::solve::{check, Config, Outcome};
use xverify_engine::{Context, ContextValue, PolicySet, Request};

/// Keys `Request::new` fills from the principal and resource: fixed in a query.
const DERIVED: &[&str] = &[
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
    let mut fixed_ctx = Context::new();
    for (k, v) in req.context.iter() {
        if DERIVED.contains(&k.to_ascii_lowercase().as_str()) {
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
    sym
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
        let v = req.context.get(&k.name.to_lowercase());
        let vals: Option<Vec<String>> = v.map(|v| v.values().to_vec()).filter(|v| !v.is_empty());
        if k.family != Family::Multi && k.family != Family::Untyped {
            if let Some(vs) = &vals {
                if vs.len() > 1 {
                    return None;
                }
            }
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
        let name = sym.keys[k].name.to_lowercase();
        let vals: Vec<String> = req
            .context
            .get(&name)
            .map(|v| v.values().to_vec())
            .unwrap_or_default();
        let present = !vals.is_empty();
        sym.keys[k].presence = Some(present);
        if !present {
            continue;
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
            Family::Num | Family::Date | Family::Ip | Family::Untyped => {
                return Err(Unsupported(
                    "pinning numbers, dates and IPs is done by evaluation".into(),
                ))
            }
        }
    }
    Ok(())
}

/// The encoding's answer for a concrete request, evaluated without the solver.
pub fn ir_decides_allow(set: &PolicySet, req: &Request) -> Result<Option<bool>, Unsupported> {
    let mut sym = sym_for(req);
    let f = allow_formula(&mut sym, set)?;
    Ok(assignment_of(&sym, req).map(|a| crate::encode::eval_formula(&sym, &f, &a)))
}

/// The encoding's answer for a concrete request, from Z3 with every variable pinned.
pub fn z3_decides_allow(set: &PolicySet, req: &Request) -> Result<Option<bool>, Unsupported> {
    let mut sym = sym_for(req);
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
