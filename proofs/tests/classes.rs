//! The signature classes of `xverify_proofs::classes`: hand cases, randomized differential tests
//! against exhaustive enumeration, `matches` against an independent recursive matcher, the state
//! limit, and (ignored, run in release) the timing of a realistic 500-statement workload:
//! `cargo test --release -p xverify-proofs --test classes -- --ignored --nocapture`.
//! `CLASSES_CASES` scales the randomized tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use xverify_proofs::classes::{
    classes, classes_with_stats, matches, Atom, Class, ClassError, Lang, Limits, Pattern,
};

// ------------------------------------------------------------------------------------------------
// Helpers.

fn glob(s: &str) -> Lang {
    Lang::single(Pattern::glob(s, false))
}

fn glob_ci(s: &str) -> Lang {
    Lang::single(Pattern::glob(s, true))
}

fn pat(atoms: &[Atom], ci: bool) -> Lang {
    Lang::single(Pattern {
        atoms: atoms.to_vec(),
        ci,
    })
}

fn sig_str(sig: &[bool]) -> String {
    sig.iter().map(|&b| if b { '1' } else { '0' }).collect()
}

fn cases() -> usize {
    std::env::var("CLASSES_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// The contract that does not need enumeration: every witness has its sig and lies in the
/// domain; sigs are unique and have the right length.
fn check_witnesses(langs: &[Lang], domain: Option<&Lang>, cls: &[Class]) {
    let mut seen = HashSet::new();
    for c in cls {
        assert_eq!(c.sig.len(), langs.len());
        assert!(
            seen.insert(c.sig.clone()),
            "duplicate sig {}",
            sig_str(&c.sig)
        );
        let actual: Vec<bool> = langs.iter().map(|l| l.matches(&c.witness)).collect();
        assert_eq!(
            actual,
            c.sig,
            "witness {:?} has sig {} not {}",
            c.witness,
            sig_str(&actual),
            sig_str(&c.sig)
        );
        if let Some(d) = domain {
            assert!(
                d.matches(&c.witness),
                "witness {:?} outside domain",
                c.witness
            );
        }
    }
}

fn run(langs: &[Lang], domain: Option<&Lang>) -> Vec<Class> {
    let cls = classes(langs, domain, &Limits::default()).unwrap();
    check_witnesses(langs, domain, &cls);
    cls
}

// ------------------------------------------------------------------------------------------------
// (1) Hand cases.

struct Case {
    name: &'static str,
    langs: Vec<Lang>,
    domain: Option<Lang>,
    /// Expected sigs, with the expected witness where it is pinned down.
    want: Vec<(&'static str, Option<&'static str>)>,
}

fn hand_cases() -> Vec<Case> {
    let seg = |c: char| vec![Atom::AnyNot(c), Atom::StarNot(c)];
    let svc_name: Vec<Atom> = seg(':')
        .into_iter()
        .chain([Atom::Char(':')])
        .chain(seg(':'))
        .collect();
    vec![
        Case {
            name: "two literals",
            langs: vec![glob("s3:GetObject"), glob("s3:PutObject")],
            domain: None,
            want: vec![
                ("00", Some("")),
                ("10", Some("s3:GetObject")),
                ("01", Some("s3:PutObject")),
            ],
        },
        Case {
            name: "same literal twice",
            langs: vec![glob("ab"), glob("ab")],
            domain: None,
            want: vec![("00", Some("")), ("11", Some("ab"))],
        },
        Case {
            name: "star is everything",
            langs: vec![glob("*")],
            domain: None,
            want: vec![("1", Some(""))],
        },
        Case {
            name: "prefix under star",
            langs: vec![glob("a*"), glob("*")],
            domain: None,
            want: vec![("01", Some("")), ("11", Some("a"))],
        },
        Case {
            name: "question marks",
            langs: vec![glob("??"), glob("?")],
            domain: None,
            want: vec![("00", Some("")), ("01", Some("x")), ("10", Some("xx"))],
        },
        Case {
            name: "overlapping globs a*, *b, a*b",
            langs: vec![glob("a*"), glob("*b"), glob("a*b")],
            domain: None,
            want: vec![
                ("000", Some("")),
                ("100", Some("a")),
                ("010", Some("b")),
                ("111", Some("ab")),
            ],
        },
        Case {
            name: "overlapping globs *ab*, *ba*",
            langs: vec![glob("*ab*"), glob("*ba*")],
            domain: None,
            want: vec![
                ("00", Some("")),
                ("10", Some("ab")),
                ("01", Some("ba")),
                ("11", Some("aba")),
            ],
        },
        Case {
            name: "ci vs cs on the same field",
            langs: vec![glob_ci("s3:getobject"), glob("s3:GetObject")],
            domain: None,
            want: vec![("00", Some("")), ("11", Some("s3:GetObject")), ("10", None)],
        },
        Case {
            name: "ci glob keeps the case as written",
            langs: vec![glob_ci("s3:Get*")],
            domain: None,
            want: vec![("0", Some("")), ("1", Some("s3:Get"))],
        },
        Case {
            name: "Kelvin sign folds to k",
            langs: vec![glob_ci("k"), glob("k"), glob("K")],
            domain: None,
            want: vec![
                ("000", Some("")),
                ("110", Some("k")),
                ("101", Some("K")),
                ("100", Some("\u{212A}")),
            ],
        },
        Case {
            name: "multi-alternative language",
            langs: vec![
                Lang {
                    alts: vec![Pattern::glob("a", false), Pattern::glob("b", false)],
                },
                glob("a"),
            ],
            domain: None,
            want: vec![("00", Some("")), ("11", Some("a")), ("10", Some("b"))],
        },
        Case {
            name: "empty language",
            langs: vec![Lang::default(), glob("a")],
            domain: None,
            want: vec![("00", Some("")), ("01", Some("a"))],
        },
        Case {
            name: "no languages",
            langs: vec![],
            domain: None,
            want: vec![("", Some(""))],
        },
        Case {
            name: "empty domain",
            langs: vec![glob("*")],
            domain: Some(Lang::default()),
            want: vec![],
        },
        Case {
            name: "AnyNot vs ?",
            langs: vec![pat(&[Atom::AnyNot(':')], false), glob("?")],
            domain: None,
            want: vec![("00", Some("")), ("11", Some("x")), ("01", Some(":"))],
        },
        Case {
            name: "StarNot segment vs plain star (ARN per segment)",
            langs: vec![
                pat(
                    &[Atom::Char('a'), Atom::Char(':'), Atom::StarNot(':')],
                    false,
                ),
                glob("a:*"),
            ],
            domain: None,
            want: vec![("00", Some("")), ("11", Some("a:")), ("01", Some("a::"))],
        },
        Case {
            name: "ARN resource segment: bucket/* per segment",
            langs: vec![
                pat(
                    &"arn:aws:s3:::b/"
                        .chars()
                        .map(Atom::Char)
                        .chain([Atom::StarNot(':')])
                        .collect::<Vec<_>>(),
                    false,
                ),
                glob("arn:aws:s3:::b/*"),
            ],
            domain: None,
            want: vec![
                ("00", Some("")),
                ("11", Some("arn:aws:s3:::b/")),
                ("01", Some("arn:aws:s3:::b/:")),
            ],
        },
        Case {
            name: "domain of svc:Name shapes",
            langs: vec![glob_ci("s3:Get*"), glob("*"), glob("s3:*")],
            domain: Some(Lang::single(Pattern {
                atoms: svc_name,
                ci: false,
            })),
            want: vec![
                ("111", Some("s3:Get")),
                ("110", Some("S3:Get")),
                ("011", Some("s3:x")),
                ("010", Some("x:x")),
            ],
        },
        Case {
            name: "domain excludes the all-false class",
            langs: vec![glob("a*")],
            domain: Some(glob("a?")),
            want: vec![("1", Some("ax"))],
        },
        Case {
            name: "other char avoids pattern chars",
            langs: vec![glob("x?"), glob("z"), glob("?")],
            domain: None,
            want: vec![
                ("000", Some("")),
                ("011", Some("z")),
                ("001", Some("0")),
                ("100", Some("x0")),
            ],
        },
        Case {
            name: "empty pattern",
            langs: vec![glob(""), glob("*")],
            domain: None,
            want: vec![("11", Some("")), ("01", Some("x"))],
        },
    ]
}

#[test]
fn classes_hand_cases() {
    for case in hand_cases() {
        let cls = run(&case.langs, case.domain.as_ref());
        let got: BTreeSet<String> = cls.iter().map(|c| sig_str(&c.sig)).collect();
        let want: BTreeSet<String> = case.want.iter().map(|(s, _)| s.to_string()).collect();
        assert_eq!(got, want, "{}: sigs", case.name);
        for (s, w) in &case.want {
            if let Some(w) = w {
                let c = cls.iter().find(|c| sig_str(&c.sig) == *s).unwrap();
                assert_eq!(c.witness, *w, "{}: witness of {s}", case.name);
            }
        }
        // Deterministic.
        assert_eq!(cls, run(&case.langs, case.domain.as_ref()), "{}", case.name);
    }
}

#[test]
fn classes_witnesses_avoid_separators() {
    // No pattern requires ':', '/', '*' or '?' in the class "matches nothing but the star".
    let langs = vec![glob("arn:aws:s3:::b/*"), glob("?*"), glob("a*")];
    let cls = run(&langs, None);
    for c in &cls {
        if !c.sig[0] {
            assert!(!c.witness.contains([':', '/', '*', '?']), "{:?}", c.witness);
        }
        assert!(c.witness.chars().all(|c| c.is_ascii_graphic()));
    }
}

#[test]
fn classes_too_large() {
    // "The 10th character from the end is an a": 2^10 subset states.
    let mut atoms = vec![Atom::Star, Atom::Char('a')];
    atoms.extend(std::iter::repeat_n(Atom::Any, 9));
    let langs = vec![pat(&atoms, false), glob("*b*")];
    let err = classes(&langs, None, &Limits { max_states: 300 }).unwrap_err();
    assert!(matches!(err, ClassError::TooLarge { states } if states > 300));
    assert!(err.to_string().contains("too many automaton states"));
    let (cls, stats) = classes_with_stats(&langs, None, &Limits::default()).unwrap();
    assert!(stats.states > 300);
    check_witnesses(&langs, None, &cls);
    assert_eq!(cls.len(), 4);
}

#[test]
fn classes_too_large_when_the_classes_are_exponential() {
    // Independent "contains X" tests: every subset of the 20 is a class (2^20), so no
    // exploration can be small; the limit must catch it.
    let langs: Vec<Lang> = (0..20)
        .map(|i| glob(&format!("arn:aws:s3:::b/*/{i}/*")))
        .collect();
    let err = classes(&langs, None, &Limits { max_states: 20_000 }).unwrap_err();
    assert!(matches!(err, ClassError::TooLarge { .. }));
}

// ------------------------------------------------------------------------------------------------
// A small seeded PRNG (splitmix64).

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

const PAT_CHARS: [char; 6] = ['a', 'b', 'A', 'B', ':', '/'];
const EXCL_CHARS: [char; 3] = [':', '/', 'a'];

fn random_pattern(rng: &mut Rng, max_len: usize) -> Pattern {
    let len = rng.below(max_len + 1);
    let atoms = (0..len)
        .map(|_| match rng.below(20) {
            0..=9 => Atom::Char(rng.pick(&PAT_CHARS)),
            10..=11 => Atom::Any,
            12..=14 => Atom::Star,
            15..=16 => Atom::AnyNot(rng.pick(&EXCL_CHARS)),
            _ => Atom::StarNot(rng.pick(&EXCL_CHARS)),
        })
        .collect();
    Pattern {
        atoms,
        ci: rng.below(3) == 0,
    }
}

fn random_lang(rng: &mut Rng, max_alts: usize) -> Lang {
    let n = if rng.below(10) == 0 {
        0
    } else {
        1 + rng.below(max_alts)
    };
    Lang {
        alts: (0..n).map(|_| random_pattern(rng, 5)).collect(),
    }
}

// ------------------------------------------------------------------------------------------------
// A third matcher, for enumeration: one bitmask of active positions per pattern, stepped a
// character at a time (shares no code with the library).

fn fold_ref(c: char) -> char {
    let v: Vec<char> = c.to_lowercase().collect();
    if v.len() == 1 {
        v[0]
    } else {
        c
    }
}

fn closure(p: &Pattern, mut m: u64) -> u64 {
    for (j, a) in p.atoms.iter().enumerate() {
        if m & (1 << j) != 0 && matches!(a, Atom::Star | Atom::StarNot(_)) {
            m |= 1 << (j + 1);
        }
    }
    m
}

fn mask_step(p: &Pattern, m: u64, c: char) -> u64 {
    let mut n = 0u64;
    for (j, a) in p.atoms.iter().enumerate() {
        if m & (1 << j) == 0 {
            continue;
        }
        match *a {
            Atom::Char(d) => {
                let eq = if p.ci {
                    fold_ref(c) == fold_ref(d)
                } else {
                    c == d
                };
                if eq {
                    n |= 1 << (j + 1);
                }
            }
            Atom::Any => n |= 1 << (j + 1),
            Atom::Star => n |= 1 << j,
            Atom::AnyNot(d) => {
                if c != d {
                    n |= 1 << (j + 1);
                }
            }
            Atom::StarNot(d) => {
                if c != d {
                    n |= 1 << j;
                }
            }
        }
    }
    closure(p, n)
}

fn mask_accepts(p: &Pattern, m: u64) -> bool {
    m & (1 << p.atoms.len()) != 0
}

fn mask_matches(p: &Pattern, s: &str) -> bool {
    let mut m = closure(p, 1);
    for c in s.chars() {
        m = mask_step(p, m, c);
    }
    mask_accepts(p, m)
}

/// Every string over `alphabet` up to `max_len` characters (in the domain): its sig, with the
/// shortest length at which each sig occurs.
fn enumerate(
    langs: &[Lang],
    domain: Option<&Lang>,
    alphabet: &[char],
    max_len: usize,
) -> HashMap<Vec<bool>, usize> {
    // Flatten: (owner, pattern); owner == langs.len() is the domain.
    let mut pats: Vec<(usize, &Pattern)> = Vec::new();
    for (i, l) in langs.iter().enumerate() {
        pats.extend(l.alts.iter().map(|p| (i, p)));
    }
    if let Some(d) = domain {
        pats.extend(d.alts.iter().map(|p| (langs.len(), p)));
    }
    // Level by level; each row holds one mask per pattern. A row of all-zero masks is dropped
    // after it is recorded: every extension has the same (all-false, out-of-domain) outcome.
    let w = pats.len();
    let mut out: HashMap<Vec<bool>, usize> = HashMap::new();
    if w == 0 {
        if domain.is_none() {
            out.insert(vec![false; langs.len()], 0);
        }
        return out;
    }
    let mut level: Vec<u64> = pats.iter().map(|(_, p)| closure(p, 1)).collect();
    let mut sig = vec![false; langs.len()];
    for len in 0..=max_len {
        let mut next = Vec::new();
        for row in level.chunks_exact(w) {
            sig.fill(false);
            let mut in_domain = domain.is_none();
            for ((o, p), &m) in pats.iter().zip(row) {
                if mask_accepts(p, m) {
                    if *o == langs.len() {
                        in_domain = true;
                    } else {
                        sig[*o] = true;
                    }
                }
            }
            if in_domain && !out.contains_key(&sig) {
                out.insert(sig.clone(), len);
            }
            if len == max_len || row.iter().all(|&m| m == 0) {
                continue;
            }
            for &c in alphabet {
                next.extend(pats.iter().zip(row).map(|((_, p), &m)| mask_step(p, m, c)));
            }
        }
        level = next;
    }
    out
}

/// The full exactness check against enumeration. `alphabet` must represent every character class
/// of the patterns (here: every pattern character in both cases, plus a fresh one).
fn check_exact(langs: &[Lang], domain: Option<&Lang>, alphabet: &[char], max_len: usize) {
    let cls = run(langs, domain);
    let enumerated = enumerate(langs, domain, alphabet, max_len);
    let by_sig: HashMap<&Vec<bool>, &Class> = cls.iter().map(|c| (&c.sig, c)).collect();
    for (sig, &len) in &enumerated {
        let c = by_sig.get(sig).unwrap_or_else(|| {
            panic!(
                "sig {} realizable (length {len}) but missing; langs {langs:?} domain {domain:?}",
                sig_str(sig)
            )
        });
        assert_eq!(
            c.witness.chars().count(),
            len,
            "witness {:?} of {} is not shortest; langs {langs:?} domain {domain:?}",
            c.witness,
            sig_str(sig)
        );
    }
    for c in &cls {
        if c.witness.chars().count() <= max_len {
            assert!(
                enumerated.contains_key(&c.sig),
                "class {} ({:?}) not found by enumeration; langs {langs:?}",
                sig_str(&c.sig),
                c.witness
            );
        }
    }
}

// ------------------------------------------------------------------------------------------------
// (2) Randomized differential tests.

const ALPHABET: [char; 7] = ['a', 'b', 'A', 'B', ':', '/', 'x'];

#[test]
fn classes_random_differential() {
    let mut rng = Rng(0x05ee_dc1a_55e5);
    for _ in 0..cases() {
        let n = 1 + rng.below(4);
        let langs: Vec<Lang> = (0..n).map(|_| random_lang(&mut rng, 3)).collect();
        let domain = (rng.below(3) == 0).then(|| random_lang(&mut rng, 2));
        check_exact(&langs, domain.as_ref(), &ALPHABET, 6);
    }
}

#[test]
fn classes_random_many_langs() {
    // More languages, shorter strings: stresses sig bookkeeping and state sharing.
    let mut rng = Rng(0xfeed_beef);
    for _ in 0..cases() / 2 {
        let n = 4 + rng.below(36);
        let langs: Vec<Lang> = (0..n).map(|_| random_lang(&mut rng, 2)).collect();
        check_exact(&langs, None, &ALPHABET, 4);
    }
}

#[test]
fn classes_random_kelvin() {
    // Case folding beyond ASCII: 'k' in both cases, cs and ci, with the Kelvin sign in play.
    let chars = ['k', 'K', '\u{212A}', 'a'];
    let mut rng = Rng(42);
    for _ in 0..cases() / 2 {
        let n = 1 + rng.below(4);
        let langs: Vec<Lang> = (0..n)
            .map(|_| {
                let len = rng.below(4);
                Lang::single(Pattern {
                    atoms: (0..len)
                        .map(|_| match rng.below(6) {
                            0..=3 => Atom::Char(rng.pick(&chars)),
                            4 => Atom::Star,
                            _ => Atom::AnyNot(rng.pick(&chars)),
                        })
                        .collect(),
                    ci: rng.below(2) == 0,
                })
            })
            .collect();
        check_exact(&langs, None, &['k', 'K', '\u{212A}', 'a', 'A', 'x'], 4);
    }
}

// ------------------------------------------------------------------------------------------------
// (3) `matches` against a recursive reference.

fn rec(atoms: &[Atom], s: &[char], ci: bool) -> bool {
    let Some((a, rest)) = atoms.split_first() else {
        return s.is_empty();
    };
    match *a {
        Atom::Char(d) => {
            !s.is_empty()
                && (if ci {
                    fold_ref(s[0]) == fold_ref(d)
                } else {
                    s[0] == d
                })
                && rec(rest, &s[1..], ci)
        }
        Atom::Any => !s.is_empty() && rec(rest, &s[1..], ci),
        Atom::AnyNot(d) => !s.is_empty() && s[0] != d && rec(rest, &s[1..], ci),
        Atom::Star => (0..=s.len()).any(|i| rec(rest, &s[i..], ci)),
        Atom::StarNot(d) => (0..=s.len())
            .take_while(|&i| i == 0 || s[i - 1] != d)
            .any(|i| rec(rest, &s[i..], ci)),
    }
}

#[test]
fn classes_matches_against_reference() {
    let chars = [
        'a', 'b', 'A', 'B', ':', '/', 'x', 'k', 'K', '\u{212A}', 'É', 'é',
    ];
    let mut rng = Rng(7);
    let mut hits = 0usize;
    for _ in 0..cases() * 100 {
        let len = rng.below(8);
        let atoms: Vec<Atom> = (0..len)
            .map(|_| match rng.below(10) {
                0..=4 => Atom::Char(rng.pick(&chars)),
                5 => Atom::Any,
                6..=7 => Atom::Star,
                8 => Atom::AnyNot(rng.pick(&chars)),
                _ => Atom::StarNot(rng.pick(&chars)),
            })
            .collect();
        let p = Pattern {
            atoms,
            ci: rng.below(2) == 0,
        };
        // Half the strings are built from the pattern, so that many match.
        let s: String = if rng.below(2) == 0 {
            p.atoms
                .iter()
                .flat_map(|a| {
                    let n = match a {
                        Atom::Star | Atom::StarNot(_) => rng.below(3),
                        _ => 1,
                    };
                    (0..n)
                        .map(|_| match *a {
                            Atom::Char(c) if rng.below(4) == 0 => {
                                c.to_uppercase().next().unwrap_or(c)
                            }
                            Atom::Char(c) => c,
                            _ => rng.pick(&chars),
                        })
                        .collect::<Vec<char>>()
                })
                .collect()
        } else {
            (0..rng.below(8)).map(|_| rng.pick(&chars)).collect()
        };
        let cs: Vec<char> = s.chars().collect();
        let want = rec(&p.atoms, &cs, p.ci);
        assert_eq!(matches(&p, &s), want, "{p:?} on {s:?}");
        assert_eq!(mask_matches(&p, &s), want, "mask {p:?} on {s:?}");
        hits += usize::from(want);
    }
    assert!(hits > cases() * 10, "too few matching cases: {hits}");
}

// ------------------------------------------------------------------------------------------------
// The realistic workload.

/// One language per statement: 500 statements of 2 resource patterns each (1,000 patterns).
fn resource_workload(per_pattern: bool) -> Vec<Lang> {
    let mut pats = Vec::new();
    for i in 0..334 {
        pats.push(format!("arn:aws:s3:::bucket-{i:03}/*"));
        pats.push(format!("arn:aws:s3:::bucket-{i:03}/prefix/*/x?"));
        pats.push(format!(
            "arn:aws:dynamodb:us-east-1:1111111111{:02}:table/T{i}*",
            i % 100
        ));
    }
    pats.truncate(1000);
    let pats: Vec<Pattern> = pats.iter().map(|s| Pattern::glob(s, false)).collect();
    if per_pattern {
        pats.into_iter().map(Lang::single).collect()
    } else {
        pats.chunks(2).map(|c| Lang { alts: c.to_vec() }).collect()
    }
}

/// The resource workload plus 100 patterns with interior stars that overlap the others
/// (`arn:aws:s3:::bucket-*/logs/N.gz`, `arn:aws:*:us-east-1:*:table/T*N`), and every `*` of the
/// 1,100 compiled per ARN segment (`StarNot(':')` in the first five segments), as `ArnLike` does.
fn mixed_workload() -> Vec<Lang> {
    let mut pats: Vec<String> = Vec::new();
    for l in resource_workload(true) {
        for p in l.alts {
            pats.push(
                p.atoms
                    .iter()
                    .map(|a| match a {
                        Atom::Char(c) => *c,
                        Atom::Star => '*',
                        _ => '?',
                    })
                    .collect(),
            );
        }
    }
    for i in 0..50 {
        pats.push(format!("arn:aws:s3:::bucket-*/logs/{i}.gz"));
        pats.push(format!("arn:aws:*:us-east-1:*:table/T*{i}"));
    }
    pats.iter()
        .map(|s| {
            let mut colons = 0;
            let atoms = s
                .chars()
                .map(|c| match c {
                    ':' => {
                        colons += 1;
                        Atom::Char(':')
                    }
                    '*' if colons < 5 => Atom::StarNot(':'),
                    '*' => Atom::Star,
                    '?' => Atom::Any,
                    c => Atom::Char(c),
                })
                .collect();
            Lang::single(Pattern { atoms, ci: false })
        })
        .collect()
}

/// 200 literal action names and 100 `svc:Verb*` globs, case-insensitive, one language each.
fn action_workload() -> Vec<Lang> {
    let svcs = [
        "s3", "ec2", "iam", "dynamodb", "lambda", "sqs", "sns", "kms", "sts", "logs",
    ];
    let verbs = [
        "Get", "Put", "List", "Describe", "Delete", "Create", "Update", "Tag", "Untag", "Attach",
    ];
    let nouns = [
        "Object", "Bucket", "Role", "Policy", "Table", "Function", "Queue", "Key", "Item", "Stream",
    ];
    let mut out = Vec::new();
    'lit: for s in svcs {
        for v in verbs {
            for n in nouns {
                if out.len() == 200 {
                    break 'lit;
                }
                if (s.len() + v.len() + n.len()) % 5 < 4 {
                    out.push(Lang::single(Pattern::glob(&format!("{s}:{v}{n}"), true)));
                }
            }
        }
    }
    for s in svcs {
        for v in verbs {
            out.push(Lang::single(Pattern::glob(&format!("{s}:{v}*"), true)));
        }
    }
    assert_eq!(out.len(), 300);
    out
}

#[test]
fn classes_realistic_workload_is_exact() {
    for langs in [resource_workload(false), action_workload()] {
        let (cls, stats) = classes_with_stats(&langs, None, &Limits::default()).unwrap();
        check_witnesses(&langs, None, &cls);
        assert!(cls.len() > 300, "{} classes", cls.len());
        assert!(stats.states < 50_000, "{} states", stats.states);
    }
}

/// Median and minimum of 21 runs (the minimum is the figure least disturbed by other load).
fn time<F: FnMut() -> usize>(mut f: F) -> ((Duration, Duration), usize) {
    let mut ts = Vec::new();
    let mut n = 0;
    for _ in 0..21 {
        let t = Instant::now();
        n = f();
        ts.push(t.elapsed());
    }
    ts.sort();
    ((ts[ts.len() / 2], ts[0]), n)
}

#[test]
#[ignore = "timing; run in release with --ignored --nocapture"]
fn bench_realistic_workload() {
    let lim = Limits::default();
    let res = resource_workload(false);
    let res1 = resource_workload(true);
    let act = action_workload();
    let mixed = mixed_workload();
    let stats = |l: &[Lang]| classes_with_stats(l, None, &lim).unwrap();
    let (sr, sa, s1, sm) = (stats(&res), stats(&act), stats(&res1), stats(&mixed));
    let (tr, nr) = time(|| classes(&res, None, &lim).unwrap().len());
    let (ta, na) = time(|| classes(&act, None, &lim).unwrap().len());
    let (t1, n1) = time(|| classes(&res1, None, &lim).unwrap().len());
    let (tm, nm) = time(|| classes(&mixed, None, &lim).unwrap().len());
    let (tt, _) = time(|| {
        classes(&res, None, &lim).unwrap().len() + classes(&act, None, &lim).unwrap().len()
    });
    println!(
        "resource field, 500 statements / 1000 patterns: {tr:?} (median, min), {nr} classes, {:?}",
        sr.1
    );
    println!(
        "resource field, 1000 languages of one pattern:  {t1:?} (median, min), {n1} classes, {} states",
        s1.1.states
    );
    println!(
        "action field, 300 patterns (ci):                {ta:?} (median, min), {na} classes, {} states",
        sa.1.states
    );
    println!(
        "mixed resource field, 1100 per-segment patterns: {tm:?} (median, min), {nm} classes, {} states",
        sm.1.states
    );
    println!("both fields:                                    {tt:?} (median, min)");
}
