//! Solving a query: string classes, lowering the formula to Z3, and reading a model back as
//! concrete values.
//!
//! Z3 4.8.12's core only: booleans, integers, bit-vectors. Each string variable becomes a bounded
//! integer (its class index); a set-valued key a boolean per class; numbers integers (half-millionths);
//! dates integers (milliseconds); IPs 128-bit vectors with an IPv4 flag. `check()` is called
//! directly so that `unknown` (timeout, resource limit) is never mistaken for "no model".

use std::path::Path;
use std::time::Instant;

use z3::ast::{Bool, Int, BV};
use z3::{Params, SatResult, Solver};

use crate::classes::{classes, Class, ClassError, Lang, Limits, Pattern};
use crate::encode::{eval_formula, Assignment, Cmp, Family, Sym, F};
use xverify_engine::model::STS_PARAMETER_KEYS;

/// What a check found.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A model: concrete values for every variable.
    Sat(Assignment),
    /// No request satisfies the goal.
    Unsat,
    /// The solver could not decide (reason from Z3, or the class computation's limit).
    Unknown(String),
}

/// Limits of one check.
#[derive(Debug, Clone)]
pub struct Config {
    pub timeout_ms: u32,
    pub max_class_states: usize,
    /// Write each query as SMT-LIB into this folder.
    pub dump_dir: Option<std::path::PathBuf>,
    /// Count service-linked roles of undescribed accounts among the open world's principals
    /// (corpus/DECISIONS.md 14).
    pub service_linked_roles: bool,
    /// Threads solving a property's queries (each with its own Z3 context).
    pub threads: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout_ms: 10_000,
            max_class_states: 200_000,
            dump_dir: None,
            service_linked_roles: false,
            threads: 1,
        }
    }
}

/// Timings of a check, and for `unsat` the guards it needed.
#[derive(Debug, Clone, Default)]
pub struct Timing {
    pub classes_ms: f64,
    /// Lowering to Z3 and solving.
    pub solve_ms: f64,
    /// The part of `solve_ms` spent building the Z3 terms.
    pub lower_ms: f64,
    pub class_count: usize,
    /// Labels of the guards in the unsat core (why the goal cannot hold).
    pub core: Vec<String>,
}

/// Default witnesses when a variable is unconstrained.
fn shape_domain(name: &str) -> Option<Lang> {
    match name {
        // An action is `service:Name`.
        "action" => Some(Lang::single(Pattern::glob("?*:?*", false))),
        // A resource is an ARN (S3 keys may end in `/`) or `*`.
        "resource" => Some(Lang {
            alts: vec![Pattern::glob("arn:*", false), Pattern::literal("*", false)],
        }),
        _ => None,
    }
}

/// Check whether some assignment satisfies `goal` ∧ the query's constraints.
pub fn check(sym: &Sym, goal: &F, cfg: &Config, label: &str) -> (Outcome, Timing) {
    let mut timing = Timing::default();
    let t0 = Instant::now();
    // 1. Classes of every string variable (with its shape domain).
    let mut var_classes: Vec<Vec<Class>> = Vec::new();
    for v in &sym.vars {
        let dom = shape_domain(&v.name);
        match classes(&v.langs, dom.as_ref(), &Limits { max_states: cfg.max_class_states }) {
            Ok(cs) => var_classes.push(cs),
            Err(e) => {
                return (
                    Outcome::Unknown(match e {
                        ClassError::TooLarge { states } => format!(
                            "the strings tested on {} have too many classes (over {states} automaton states)",
                            v.name
                        ),
                    }),
                    timing,
                )
            }
        }
    }
    timing.class_count = var_classes.iter().map(Vec::len).sum();
    timing.classes_ms = t0.elapsed().as_secs_f64() * 1e3;
    if var_classes.iter().any(Vec::is_empty) {
        // Some variable has no value at all (its domain is empty): nothing satisfies.
        return (Outcome::Unsat, timing);
    }

    let t1 = Instant::now();
    // One solver per thread, parameters set once: creating a Z3 solver and validating its
    // parameters costs more than most of our queries.
    thread_local! {
        static SOLVER: std::cell::RefCell<Option<(Solver, u32)>> = const { std::cell::RefCell::new(None) };
    }
    let out = SOLVER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(_, t)| *t != cfg.timeout_ms) {
            let s = Solver::new();
            let mut params = Params::new();
            params.set_u32("timeout", cfg.timeout_ms);
            s.set_params(&params);
            *slot = Some((s, cfg.timeout_ms));
        }
        match slot.as_ref() {
            Some((solver, _)) => {
                solver.push();
                let out = run_solver(solver, sym, goal, cfg, label, &var_classes, &mut timing);
                solver.pop(1);
                out
            }
            None => (Outcome::Unknown("no solver".into()), vec![]),
        }
    });
    let (out, core) = out;
    timing.core = core;
    timing.solve_ms = t1.elapsed().as_secs_f64() * 1e3;
    (out, timing)
}

fn run_solver(
    solver: &Solver,
    sym: &Sym,
    goal: &F,
    cfg: &Config,
    label: &str,
    var_classes: &[Vec<Class>],
    timing: &mut Timing,
) -> (Outcome, Vec<String>) {
    let t0 = Instant::now();
    let low = Lower::new(sym, var_classes);
    for c in &low.side {
        solver.assert(c);
    }
    let mut all = vec![goal.clone()];
    all.extend(sym.constraints.iter().cloned());
    let g = low.lower(&F::and(all));
    solver.assert(&g);
    timing.lower_ms = t0.elapsed().as_secs_f64() * 1e3;
    if let Some(dir) = &cfg.dump_dir {
        // Numbered in the order they are written, for the whole run: labels repeat from one
        // property to the next (audit 10, bug 4: later queries overwrote earlier ones).
        static DUMPED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = DUMPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let file = dir.join(format!("{n:06}-{name}.smt2"));
        if let Err(e) = std::fs::write(&file, solver.to_smt2()) {
            eprintln!("xverify: {}: cannot write: {e}", file.display());
        }
    }
    let r = if low.guards.is_empty() {
        solver.check()
    } else {
        solver.check_assumptions(&low.guards)
    };
    let out = match r {
        SatResult::Unsat => {
            let core: Vec<String> = if low.guards.is_empty() {
                vec![]
            } else {
                let names: Vec<String> = solver
                    .get_unsat_core()
                    .iter()
                    .map(|b| b.to_string())
                    .collect();
                low.guards
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| names.contains(&g.to_string()))
                    .filter_map(|(i, _)| sym.guards.get(i).cloned())
                    .collect()
            };
            return (Outcome::Unsat, core);
        }
        SatResult::Unknown => Outcome::Unknown(
            solver
                .get_reason_unknown()
                .unwrap_or_else(|| "the solver gave up".to_string()),
        ),
        SatResult::Sat => match solver.get_model() {
            None => Outcome::Unknown("the solver reported sat without a model".into()),
            Some(m) => match low.read(&m) {
                Ok(a) => {
                    // The model must satisfy the formula under the IR's own semantics.
                    let mut all = vec![goal.clone()];
                    all.extend(sym.constraints.iter().cloned());
                    if eval_formula(sym, &F::and(all), &a) {
                        Outcome::Sat(a)
                    } else {
                        Outcome::Unknown(
                            "internal error: the model does not satisfy the formula when evaluated concretely"
                                .into(),
                        )
                    }
                }
                Err(e) => Outcome::Unknown(e),
            },
        },
    };
    (out, vec![])
}

struct KeyZ3 {
    /// The key has at least one value.
    present: Bool,
    /// The key is in the request, possibly as an empty array (multivalued keys; else `present`).
    given: Bool,
    /// Given as several values (keys read by plain operators only; false for the others).
    many: Bool,
    /// Per class: the set holds a value of this class (Multi keys).
    members: Vec<Bool>,
    num: Option<(Int, Bool)>,
    date: Option<(Int, Bool)>,
    ip: Option<(BV, Bool, Bool)>,
}

struct Lower<'a> {
    sym: &'a Sym,
    classes: &'a [Vec<Class>],
    /// Per string variable: its class index (None when it has a single class).
    vars: Vec<Option<Int>>,
    /// Per string variable with several classes: `index == c` for each class `c`, built once.
    class_eq: Vec<Vec<Bool>>,
    /// `F::In` already lowered, by (variable, language).
    in_memo: std::cell::RefCell<std::collections::HashMap<(usize, usize), Bool>>,
    keys: Vec<KeyZ3>,
    side: Vec<Bool>,
    /// One boolean per guard, assumed true.
    guards: Vec<Bool>,
}

impl<'a> Lower<'a> {
    fn new(sym: &'a Sym, classes: &'a [Vec<Class>]) -> Lower<'a> {
        let mut side = Vec::new();
        let vars: Vec<Option<Int>> = classes
            .iter()
            .enumerate()
            .map(|(i, cs)| {
                (cs.len() > 1).then(|| {
                    let v = Int::new_const(format!("s{i}_{}", sym.vars[i].name));
                    side.push(v.ge(Int::from_i64(0)));
                    side.push(v.lt(Int::from_i64(cs.len() as i64)));
                    v
                })
            })
            .collect();
        let class_eq = vars
            .iter()
            .zip(classes)
            .map(|(v, cs)| match v {
                Some(v) => (0..cs.len())
                    .map(|c| v.eq(Int::from_i64(c as i64)))
                    .collect(),
                None => vec![],
            })
            .collect();
        let mut keys = Vec::new();
        for (k, kv) in sym.keys.iter().enumerate() {
            let base = format!("k{k}");
            let members: Vec<Bool> = if kv.family == Family::Multi {
                let n = kv.var.map_or(0, |v| classes[v].len());
                (0..n)
                    .map(|c| Bool::new_const(format!("{base}_m{c}")))
                    .collect()
            } else {
                vec![]
            };
            if kv.family == Family::Multi && kv.single {
                // A single-valued key (`aws:SourceAccount`) read with set operators: one value
                // at most, as AWS sends it and as `F::Many` is false for it under plain ones.
                for (i, a) in members.iter().enumerate() {
                    for b in &members[i + 1..] {
                        side.push(Bool::and(&[a, b]).not());
                    }
                }
            }
            let present = if kv.family == Family::Multi {
                if members.is_empty() {
                    Bool::from_bool(false)
                } else {
                    Bool::or(&members)
                }
            } else {
                Bool::new_const(format!("{base}_present"))
            };
            let given = if kv.family == Family::Multi {
                let g = Bool::new_const(format!("{base}_given"));
                side.push(present.implies(&g));
                g
            } else {
                present.clone()
            };
            if let Some(p) = kv.presence {
                side.push(present.eq(Bool::from_bool(p)));
            }
            let many = if kv.single || matches!(kv.family, Family::Multi | Family::Untyped) {
                Bool::from_bool(false)
            } else {
                let m = Bool::new_const(format!("{base}_many"));
                side.push(m.implies(&present));
                m
            };
            let num = (kv.family == Family::Num).then(|| {
                (
                    Int::new_const(format!("{base}_num")),
                    Bool::new_const(format!("{base}_numvalid")),
                )
            });
            let date = (kv.family == Family::Date).then(|| {
                (
                    Int::new_const(format!("{base}_date")),
                    Bool::new_const(format!("{base}_datevalid")),
                )
            });
            let ip = (kv.family == Family::Ip).then(|| {
                let bv = BV::new_const(format!("{base}_ip"), 128);
                let v4 = Bool::new_const(format!("{base}_v4"));
                // An IPv4 address occupies the low 32 bits.
                side.push(v4.implies(bv.extract(127, 32).eq(BV::from_u64(0, 96))));
                (bv, v4, Bool::new_const(format!("{base}_ipvalid")))
            });
            if let Some((n, _)) = &num {
                // Where the engine's doubles compare as exactly (encode::NUM_BOUND).
                let b = crate::encode::NUM_BOUND as i64;
                side.push(n.ge(Int::from_i64(-b)));
                side.push(n.le(Int::from_i64(b)));
            }
            if let Some((d, _)) = &date {
                // Years 1 to 9999.
                side.push(d.ge(Int::from_i64(crate::encode::DATE_MIN)));
                side.push(d.le(Int::from_i64(crate::encode::DATE_MAX)));
            }
            keys.push(KeyZ3 {
                present,
                given,
                many,
                members,
                num,
                date,
                ip,
            });
        }
        let guards = (0..sym.guards.len())
            .map(|i| Bool::new_const(format!("guard{i}")))
            .collect();
        Lower {
            sym,
            classes,
            vars,
            class_eq,
            in_memo: Default::default(),
            keys,
            side,
            guards,
        }
    }

    fn lower(&self, f: &F) -> Bool {
        match f {
            F::Const(b) => Bool::from_bool(*b),
            F::And(v) => Bool::and(&v.iter().map(|x| self.lower(x)).collect::<Vec<_>>()),
            F::Or(v) => Bool::or(&v.iter().map(|x| self.lower(x)).collect::<Vec<_>>()),
            F::Not(x) => self.lower(x).not(),
            F::In(var, l) => {
                if let Some(b) = self.in_memo.borrow().get(&(*var, *l)) {
                    return b.clone();
                }
                let cs = &self.classes[*var];
                let hits = cs.iter().filter(|c| c.sig[*l]).count();
                let b = if hits == cs.len() {
                    Bool::from_bool(true)
                } else if hits == 0 {
                    Bool::from_bool(false)
                } else if cs.len() == 1 {
                    Bool::from_bool(cs[0].sig[*l])
                } else {
                    // The smaller side: the classes in the language, or not out of it.
                    let inside = 2 * hits <= cs.len();
                    let eqs: Vec<&Bool> = cs
                        .iter()
                        .zip(&self.class_eq[*var])
                        .filter(|(c, _)| c.sig[*l] == inside)
                        .map(|(_, e)| e)
                        .collect();
                    let any = Bool::or(&eqs);
                    if inside {
                        any
                    } else {
                        any.not()
                    }
                };
                self.in_memo.borrow_mut().insert((*var, *l), b.clone());
                b
            }
            F::Present(k) => self.keys[*k].present.clone(),
            F::Given(k) => self.keys[*k].given.clone(),
            F::Many(k) => self.keys[*k].many.clone(),
            F::Guard(g) => self.guards[*g].clone(),
            F::AnyIn(k, ls, pos) | F::AllIn(k, ls, pos) => {
                let var = self.sym.keys[*k].var.unwrap_or(0);
                let kz = &self.keys[*k];
                let parts: Vec<Bool> = self.classes[var]
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let pass = ls.iter().any(|&l| c.sig[l]) == *pos;
                        let m = &kz.members[i];
                        if matches!(f, F::AnyIn(..)) {
                            Bool::and(&[m.clone(), Bool::from_bool(pass)])
                        } else {
                            m.implies(Bool::from_bool(pass))
                        }
                    })
                    .collect();
                if matches!(f, F::AnyIn(..)) {
                    Bool::or(&parts)
                } else {
                    Bool::and(&parts)
                }
            }
            F::Num(k, op, n) => match &self.keys[*k].num {
                Some((x, valid)) => match i64::try_from(*n) {
                    Ok(n) => Bool::and(&[valid.clone(), cmp_int(x, *op, n)]),
                    Err(_) => Bool::from_bool(false),
                },
                None => Bool::from_bool(false),
            },
            F::Date(k, op, d) => match &self.keys[*k].date {
                Some((x, valid)) => Bool::and(&[valid.clone(), cmp_int(x, *op, *d)]),
                None => Bool::from_bool(false),
            },
            F::Ip(k, c) => match &self.keys[*k].ip {
                Some((bv, v4, valid)) => match *c {
                    xverify_engine::pattern::Cidr::V4 { addr, prefix } => {
                        let mask: u64 = if prefix == 0 {
                            0
                        } else {
                            (u64::from(u32::MAX) << (32 - prefix)) & 0xffff_ffff
                        };
                        let low = bv.extract(31, 0);
                        Bool::and(&[
                            valid.clone(),
                            v4.clone(),
                            low.bvand(BV::from_u64(mask, 32))
                                .eq(BV::from_u64(u64::from(addr), 32)),
                        ])
                    }
                    xverify_engine::pattern::Cidr::V6 { addr, prefix } => {
                        let mask: u128 = if prefix == 0 {
                            0
                        } else {
                            u128::MAX << (128 - prefix)
                        };
                        let m = bv128(mask);
                        let a = bv128(addr);
                        Bool::and(&[valid.clone(), v4.not(), bv.bvand(&m).eq(&a)])
                    }
                },
                None => Bool::from_bool(false),
            },
        }
    }

    /// Read a model back as concrete values.
    fn read(&self, m: &z3::Model) -> Result<Assignment, String> {
        let mut a = Assignment::default();
        for (i, v) in self.vars.iter().enumerate() {
            let idx = match v {
                None => 0,
                Some(v) => m
                    .eval(v, true)
                    .and_then(|x| x.as_i64())
                    .ok_or("the model gives no class for a string")?
                    as usize,
            };
            a.strs
                .push(self.classes[i].get(idx).map(|c| c.witness.clone()));
        }
        for (k, kv) in self.sym.keys.iter().enumerate() {
            let kz = &self.keys[k];
            let present = m
                .eval(&kz.present, true)
                .and_then(|b| b.as_bool())
                .unwrap_or(false);
            if !present {
                let given = kv.family == Family::Multi
                    && m.eval(&kz.given, true)
                        .and_then(|b| b.as_bool())
                        .unwrap_or(false);
                // A multivalued key given as an empty array.
                a.keys.push(given.then(Vec::new));
                continue;
            }
            let many = m
                .eval(&kz.many, true)
                .and_then(|b| b.as_bool())
                .unwrap_or(false);
            let mut vals: Vec<String> = match kv.family {
                // Any value: one an STS parameter (`sts:RoleSessionName`) may hold too.
                Family::Untyped
                    if STS_PARAMETER_KEYS.contains(&kv.name.to_ascii_lowercase().as_str()) =>
                {
                    vec!["xverify".to_string()]
                }
                Family::Untyped => vec!["x".to_string()],
                Family::Str => {
                    let var = kv.var.unwrap_or(0);
                    vec![a.strs[var].clone().unwrap_or_default()]
                }
                Family::Multi => {
                    let var = kv.var.unwrap_or(0);
                    let mut out = Vec::new();
                    for (i, mb) in kz.members.iter().enumerate() {
                        if m.eval(mb, true).and_then(|b| b.as_bool()).unwrap_or(false) {
                            out.push(self.classes[var][i].witness.clone());
                        }
                    }
                    out
                }
                Family::Num => {
                    let (x, valid) = kz.num.as_ref().ok_or("number")?;
                    match model_int(m, x, valid, "the model gives no number")? {
                        Some(n) => vec![unscale(n)],
                        None => vec!["not-a-number".to_string()],
                    }
                }
                Family::Date => {
                    let (x, valid) = kz.date.as_ref().ok_or("date")?;
                    match model_int(m, x, valid, "the model gives no date")? {
                        Some(n) => vec![iso8601(n)],
                        None => vec!["not-a-date".to_string()],
                    }
                }
                Family::Ip => {
                    let (bv, v4, valid) = kz.ip.as_ref().ok_or("ip")?;
                    if m.eval(valid, true)
                        .and_then(|b| b.as_bool())
                        .unwrap_or(false)
                    {
                        let hi = m
                            .eval(&bv.extract(127, 64), true)
                            .and_then(|x| x.as_u64())
                            .unwrap_or(0);
                        let lo = m
                            .eval(&bv.extract(63, 0), true)
                            .and_then(|x| x.as_u64())
                            .unwrap_or(0);
                        let is4 = m.eval(v4, true).and_then(|b| b.as_bool()).unwrap_or(false);
                        let x = (u128::from(hi) << 64) | u128::from(lo);
                        vec![if is4 {
                            std::net::Ipv4Addr::from(x as u32).to_string()
                        } else {
                            std::net::Ipv6Addr::from(x).to_string()
                        }]
                    } else {
                        vec!["not-an-ip".to_string()]
                    }
                }
            };
            if many && kv.family != Family::Multi {
                // Every plain operator on the key is false whatever the values: a second one.
                let second = match kv.family {
                    Family::Num => "0.5".to_string(),
                    Family::Date => "2001-02-03T04:05:06Z".to_string(),
                    Family::Ip => "192.0.2.1".to_string(),
                    _ => "xverify-second-value".to_string(),
                };
                let second = if vals.first() == Some(&second) {
                    format!("{second}0")
                } else {
                    second
                };
                vals.push(second);
            }
            a.keys.push(Some(vals));
        }
        Ok(a)
    }
}

fn bv128(x: u128) -> BV {
    let hi = BV::from_u64((x >> 64) as u64, 64);
    let lo = BV::from_u64(x as u64, 64);
    hi.concat(&lo)
}

fn cmp_int(x: &Int, op: Cmp, n: i64) -> Bool {
    let n = Int::from_i64(n);
    match op {
        Cmp::Eq => x.eq(&n),
        Cmp::Lt => x.lt(&n),
        Cmp::Le => x.le(&n),
        Cmp::Gt => x.gt(&n),
        Cmp::Ge => x.ge(&n),
    }
}

/// Half-millionths → decimal text.
pub fn unscale(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    // Half-millionths → ten-millionths.
    let a = n.unsigned_abs() * 5;
    let (i, f) = (a / 10_000_000, a % 10_000_000);
    if f == 0 {
        format!("{sign}{i}")
    } else {
        format!("{sign}{i}.{}", format!("{f:07}").trim_end_matches('0'))
    }
}

/// Milliseconds since the epoch → `YYYY-MM-DDThh:mm:ss.sssZ`.
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Write `text` as the SMT-LIB of a query (used by `--dump-smt`).
pub fn dump(dir: &Path, name: &str, text: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), text)
}

/// The model's value of the integer `x` when its `valid` flag holds; `None` when it does not.
fn model_int(
    m: &z3::Model,
    x: &Int,
    valid: &Bool,
    missing: &'static str,
) -> Result<Option<i64>, &'static str> {
    if !m
        .eval(valid, true)
        .and_then(|b| b.as_bool())
        .unwrap_or(false)
    {
        return Ok(None);
    }
    m.eval(x, true)
        .and_then(|v| v.as_i64())
        .map(Some)
        .ok_or(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_numbers_print_back() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(86_400_000 + 1), "1970-01-02T00:00:00.001Z");
        for ms in [
            -62_135_596_800_000i64,
            951_782_400_000,
            1_700_000_000_123,
            253_402_300_799_000,
        ] {
            assert_eq!(
                xverify_engine::pattern::parse_date(&iso8601(ms)),
                Some(ms),
                "{ms}"
            );
        }
        assert_eq!(unscale(7_000_000), "3.5");
        assert_eq!(unscale(-2), "-0.000001");
        assert_eq!(unscale(-1), "-0.0000005");
        assert_eq!(unscale(14_000_000), "7");
        for n in [
            1i64,
            3,
            4_294_967_295,
            4_294_967_295_999_999,
            -4_294_967_296_000_000,
        ] {
            let x = xverify_engine::pattern::parse_number(&unscale(n)).unwrap();
            assert_eq!(crate::encode::scale(x), Some(i128::from(n)), "{n}");
        }
        // A seventh decimal is off the grid at any magnitude (audit 8, bug 1: a relative
        // tolerance took it past 250).
        for text in [
            "1.0000001",
            "1000.0000001",
            "2000000000.0000003",
            "0.00000049",
        ] {
            let x = xverify_engine::pattern::parse_number(text).unwrap();
            assert_eq!(crate::encode::scale(x), None, "{text}");
        }
    }
}
