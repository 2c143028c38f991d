//! The accounts an open world must try.
//!
//! Accounts nobody mentions are all alike to a policy that names accounts only literally, so one
//! fresh account stands for them. A pattern can tell them apart: `"aws:PrincipalAccount":
//! "5555*"` under `StringLike`, `arn:aws:iam::12345678901?:role/x` under `ArnLike`, `arn:aws:iam::*7:*`
//! under `StringLike` on `aws:PrincipalArn`. [`representatives`] gives one unmentioned 12-digit
//! account per class of accounts that every such pattern treats alike, so an outsider that only a
//! pattern admits is among the principals the prover tries.
//!
//! An ordering test tells them apart too: `NumericGreaterThan` or `DateLessThan` on
//! `aws:PrincipalAccount` reads the twelve digits as a number (or as epoch seconds). Each such
//! test becomes a threshold ([`add_thresholds`]): the accounts below it, at it and above it are
//! three classes.
//!
//! The patterns come from [`add_globs`], which reads a policy value (or a selector's ARN pattern)
//! piece by piece between `:`. A piece of digits, `*` and `?` is an account test; a piece that
//! mixes them with other characters contributes what a star may let meet an account (the part up
//! to its first star, the part from its last). Taking more tests than the policies can apply only
//! splits the classes finer: more accounts to try, never fewer.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Account IDs are twelve digits.
const LEN: usize = 12;

/// The account tests in `value` (a policy's condition value, a selector's ARN pattern), added to
/// `out`. Values without `*` or `?` test accounts only literally: they add nothing.
pub fn add_globs(value: &str, out: &mut BTreeSet<String>) {
    if !value.contains(['*', '?']) {
        return;
    }
    let ok = |c: char| c.is_ascii_digit() || c == '*' || c == '?';
    let mut add = |g: &str| {
        // A test every account passes splits nothing.
        if !g.is_empty() && !g.chars().all(|c| c == '*') {
            out.insert(g.to_string());
        }
    };
    for piece in value.split(':') {
        if piece.chars().all(ok) {
            add(piece);
            continue;
        }
        // A star may run past the segment (`StringLike` reads an ARN as one string).
        if let Some(i) = piece.find('*') {
            if piece[..i].chars().all(ok) {
                add(&piece[..=i]);
            }
        }
        if let Some(i) = piece.rfind('*') {
            if piece[i..].chars().all(ok) {
                add(&piece[i..]);
            }
        }
    }
}

/// The thresholds at which a `Numeric*` comparison with one of `numbers`, or a `Date*` comparison
/// with one of `dates_ms` (an account read as epoch seconds), splits the twelve-digit accounts.
pub fn add_thresholds(numbers: &[f64], dates_ms: &[i64], out: &mut BTreeSet<u64>) {
    let mut add = |x: f64| {
        for t in [x.floor(), x.ceil()] {
            if (0.0..1e12).contains(&t) {
                out.insert(t as u64);
            }
        }
    };
    for &n in numbers {
        add(n);
    }
    for &d in dates_ms {
        add(d as f64 / 1000.0);
    }
}

/// One glob over digits, as an NFA over its atoms (consecutive stars collapsed).
struct Glob {
    atoms: Vec<u8>,
}

impl Glob {
    /// `None` when no twelve-digit string can match.
    fn new(g: &str) -> Option<Glob> {
        let mut atoms: Vec<u8> = Vec::new();
        for b in g.bytes() {
            if b == b'*' && atoms.last() == Some(&b'*') {
                continue;
            }
            atoms.push(b);
        }
        let fixed = atoms.iter().filter(|&&b| b != b'*').count();
        (fixed <= LEN && atoms.len() < 64).then_some(Glob { atoms })
    }

    fn close(&self, mut set: u64) -> u64 {
        for (i, &a) in self.atoms.iter().enumerate() {
            if set & (1 << i) != 0 && a == b'*' {
                set |= 1 << (i + 1);
            }
        }
        set
    }

    fn start(&self) -> u64 {
        self.close(1)
    }

    fn step(&self, set: u64, d: u8) -> u64 {
        let mut next = 0u64;
        for (i, &a) in self.atoms.iter().enumerate() {
            if set & (1 << i) == 0 {
                continue;
            }
            match a {
                b'*' => next |= 1 << i,
                b'?' => next |= 1 << (i + 1),
                c if c == d => next |= 1 << (i + 1),
                _ => {}
            }
        }
        self.close(next)
    }

    fn accepts(&self, set: u64) -> bool {
        set & (1 << self.atoms.len()) != 0
    }
}

/// Why the classes could not be enumerated (the property is then `unknown`, never `proved`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooMany(pub String);

/// One unmentioned account per class of twelve-digit IDs that the `globs` and the `thresholds`
/// treat alike, among the classes with a member outside `mentioned`; `fresh` (unmentioned) stands
/// for its own class and comes last. At most `max_accounts` accounts, and `max_states` states of
/// the search.
pub fn representatives(
    globs: &BTreeSet<String>,
    thresholds: &BTreeSet<u64>,
    mentioned: &BTreeSet<String>,
    fresh: &str,
    max_states: usize,
    max_accounts: usize,
) -> Result<Vec<String>, TooMany> {
    let globs: Vec<Glob> = globs.iter().filter_map(|g| Glob::new(g)).collect();
    // Each threshold's digits. Its state: 0 equal so far, 1 below, 2 above.
    let limits: Vec<Vec<u8>> = thresholds
        .iter()
        .map(|t| format!("{t:012}").into_bytes())
        .collect();
    if globs.is_empty() && limits.is_empty() {
        return Ok(vec![fresh.to_string()]);
    }
    // The mentioned accounts as a trie, so that a class member outside them is found without a
    // test per account: a state is (each glob's positions, the trie node or `OFF`).
    const OFF: u32 = u32::MAX;
    let mut trie: Vec<[u32; 10]> = vec![[OFF; 10]];
    for m in mentioned {
        if m.len() != LEN || !m.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let mut n = 0usize;
        for b in m.bytes() {
            let d = usize::from(b - b'0');
            if trie[n][d] == OFF {
                trie.push([OFF; 10]);
                trie[n][d] = (trie.len() - 1) as u32;
            }
            n = trie[n][d] as usize;
        }
    }
    // A state: each glob's positions, then each threshold's order.
    let n = globs.len();
    let signature = |sets: &[u64]| -> Vec<u64> {
        globs
            .iter()
            .zip(sets)
            .map(|(g, &s)| u64::from(g.accepts(s)))
            .chain(sets[n..].iter().copied())
            .collect()
    };
    let start: Vec<u64> = globs
        .iter()
        .map(Glob::start)
        .chain(limits.iter().map(|_| 0))
        .collect();
    let step = |sets: &[u64], i: usize, d: u8| -> Vec<u64> {
        let order = |s: u64, l: &[u8]| match s {
            0 if d < l[i] => 1,
            0 if d > l[i] => 2,
            s => s,
        };
        globs
            .iter()
            .zip(sets)
            .map(|(g, &s)| g.step(s, d))
            .chain(sets[n..].iter().zip(&limits).map(|(&s, l)| order(s, l)))
            .collect()
    };
    let fresh_sig = {
        let mut sets = start.clone();
        for (i, d) in fresh.bytes().enumerate() {
            sets = step(&sets, i, d);
        }
        signature(&sets)
    };
    // Breadth first, digit by digit; the first prefix to reach a state is kept.
    let mut level: HashMap<(Vec<u64>, u32), String> = HashMap::new();
    level.insert((start, 0), String::new());
    let mut states = 1usize;
    for i in 0..LEN {
        let mut next: HashMap<(Vec<u64>, u32), String> = HashMap::new();
        let mut ordered: Vec<_> = level.into_iter().collect();
        ordered.sort_by(|a, b| a.1.cmp(&b.1));
        for ((sets, node), prefix) in ordered {
            for d in b'0'..=b'9' {
                let ns = step(&sets, i, d);
                let nn = if node == OFF {
                    OFF
                } else {
                    trie[node as usize][usize::from(d - b'0')]
                };
                next.entry((ns, nn)).or_insert_with(|| {
                    states += 1;
                    let mut p = prefix.clone();
                    p.push(char::from(d));
                    p
                });
            }
            if states > max_states {
                return Err(TooMany(format!(
                    "the account patterns of the policies split the accounts nobody mentions into \
                     too many classes (over {max_states} search states)"
                )));
            }
        }
        level = next;
    }
    // A full-length string in the trie is a mentioned account: only `OFF` states count.
    let mut by_sig: BTreeMap<Vec<u64>, String> = BTreeMap::new();
    let mut ordered: Vec<_> = level
        .into_iter()
        .filter(|((_, node), _)| *node == OFF)
        .collect();
    ordered.sort_by(|a, b| a.1.cmp(&b.1));
    for ((sets, _), w) in ordered {
        by_sig.entry(signature(&sets)).or_insert(w);
    }
    by_sig.remove(&fresh_sig);
    if by_sig.len() + 1 > max_accounts {
        return Err(TooMany(format!(
            "the account patterns of the policies split the accounts nobody mentions into {} \
             classes (at most {max_accounts} are tried)",
            by_sig.len() + 1
        )));
    }
    let mut out: Vec<String> = by_sig.into_values().collect();
    out.sort();
    out.push(fresh.to_string());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(values: &[&str]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for v in values {
            add_globs(v, &mut out);
        }
        out
    }

    fn matches(g: &str, s: &str) -> bool {
        let g = Glob::new(g).unwrap();
        let mut set = g.start();
        for d in s.bytes() {
            set = g.step(set, d);
        }
        g.accepts(set)
    }

    #[test]
    fn pieces_of_values_become_account_tests() {
        assert_eq!(globs(&["5555*"]), BTreeSet::from(["5555*".to_string()]));
        assert_eq!(
            globs(&["arn:aws:iam::12345678901?:role/x"]),
            BTreeSet::from(["12345678901?".to_string()])
        );
        // A star that may run past the account: what comes before it, and after the last one.
        assert_eq!(
            globs(&["arn:aws:iam::12*role/x", "arn:aws:iam::role*34"]),
            BTreeSet::from(["*34".to_string(), "12*".to_string()])
        );
        // Literal values and tests every account passes add nothing.
        assert!(globs(&["123456789012", "arn:aws:iam::*:root", "home/*"]).is_empty());
    }

    #[test]
    fn the_glob_automaton_matches_like_a_glob() {
        assert!(matches("5555*", "555512345678"));
        assert!(!matches("5555*", "455512345678"));
        assert!(matches("*7", "000000000007"));
        assert!(matches("1?3*", "123000000000"));
        assert!(!matches("1?3*", "124000000000"));
        assert!(matches("12345678901?", "123456789019"));
        assert!(matches("1**2", "100000000002"));
    }

    #[test]
    fn one_account_per_class_outside_the_mentioned_ones() {
        let fresh = "100000000000";
        let none = BTreeSet::new();
        let no_t = BTreeSet::new();
        // No pattern: the fresh account alone.
        assert_eq!(
            representatives(&none, &no_t, &none, fresh, 1000, 10).unwrap(),
            vec![fresh.to_string()]
        );
        // "5555*" splits the accounts in two: the fresh one is outside it.
        let r = representatives(&globs(&["5555*"]), &no_t, &none, fresh, 1000, 10).unwrap();
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(matches("5555*", &r[0]) && !matches("5555*", fresh));
        // Two nested prefixes: three classes.
        let r = representatives(&globs(&["1*", "10*"]), &no_t, &none, fresh, 1000, 10).unwrap();
        assert_eq!(r.len(), 3, "{r:?}");
        let sigs: BTreeSet<(bool, bool)> = r
            .iter()
            .map(|a| (matches("1*", a), matches("10*", a)))
            .collect();
        assert_eq!(sigs.len(), 3);
        // A class whose only member is mentioned has no representative.
        let only = globs(&["12345678901?"]);
        let mentioned: BTreeSet<String> = (0..10).map(|d| format!("12345678901{d}")).collect();
        let r = representatives(&only, &no_t, &mentioned, fresh, 1000, 10).unwrap();
        assert_eq!(r, vec![fresh.to_string()]);
        let mut fewer = mentioned.clone();
        fewer.remove("123456789017");
        let r = representatives(&only, &no_t, &fewer, fresh, 1000, 10).unwrap();
        assert_eq!(r, vec!["123456789017".to_string(), fresh.to_string()]);
        // A threshold: below, at and above it (the fresh account is below 900000000000).
        let mut t = BTreeSet::new();
        add_thresholds(&[900_000_000_000.0], &[], &mut t);
        let r = representatives(&none, &t, &none, fresh, 1000, 10).unwrap();
        assert_eq!(r, vec!["900000000000", "900000000001", fresh]);
        // A date is read in seconds; a fraction splits at both neighbours.
        let mut t = BTreeSet::new();
        add_thresholds(&[], &[32_503_680_000_500], &mut t);
        assert_eq!(t, BTreeSet::from([32_503_680_000, 32_503_680_001]));
        let r = representatives(&globs(&["9*"]), &t, &none, fresh, 1000, 10).unwrap();
        let class = |a: &String| {
            let n = a.parse::<u64>().unwrap();
            (
                matches("9*", a),
                n.cmp(&32_503_680_000),
                n.cmp(&32_503_680_001),
            )
        };
        let classes: BTreeSet<_> = r.iter().map(class).collect();
        // Not 9*: below, at each threshold, above; 9*: above only.
        assert_eq!((classes.len(), r.len()), (5, 5), "{r:?}");
        // Too many classes: an error, never a silent cut.
        let many: BTreeSet<String> = (0..20).map(|i| format!("{i:02}*")).collect();
        assert!(representatives(&many, &no_t, &none, fresh, 100_000, 10).is_err());
    }
}
