//! Signature classes of a string-valued request field, for the finite encoding of issue 5.
//!
//! The prover gives each string-valued field (action, resource ARN, principal ARN, each context
//! key) an enumeration sort with one value per *class*: a set of strings that agree on every
//! pattern test the policies apply to that field. [`classes`] computes those classes exactly,
//! each with a concrete witness string, so that a model maps back to a concrete request.
//!
//! # Method
//!
//! All patterns of all languages (and the domain, when there is one) are put in one trie of
//! atoms: node `n` means "the atoms on the path to `n` are consumed"; the node a `*` edge leads to
//! loops on the characters the star accepts and is reached from its parent without consuming
//! anything. Patterns that share a prefix of atoms share its nodes, so one node stands for a
//! prefix common to a thousand patterns. A product state is the sorted set of active nodes; the
//! subset construction is explored lazily, breadth first, from the start state, and every reached
//! state records the signature of the languages whose patterns end at one of its nodes. A state
//! is branched only on the characters its nodes actually test — each `Char` edge (for
//! case-insensitive edges, one representative of the characters that fold to the letter and are
//! not themselves tested exactly), each `AnyNot`/`StarNot` exclusion — plus one "other" character
//! that stands for every character no active node distinguishes. States are deduplicated by their
//! node set (hashed once, stored back to back in one arena: nothing is allocated per transition,
//! successor sets are built in a reused buffer). A state from which no language pattern can still
//! end only reaches the all-false signature and is not expanded further once that signature is
//! known. Because the search is breadth first, every witness is a shortest string of its class;
//! among equally short ones the "other" character is tried first, so witnesses avoid pattern
//! characters (and `:` `/` `*` `?`) where they can.
//!
//! # Speed
//!
//! Measured in release mode on a 2-core machine shared with other builds (load average 3–10, so
//! the minimum of 21 runs is quoted next to the median), with the `bench_realistic_workload` test
//! in `proofs/tests/classes.rs`:
//! `cargo test --release -p xverify-proofs --test classes -- --ignored --nocapture`.
//!
//! | workload | classes | states | min | median |
//! |---|---|---|---|---|
//! | resource field, 500 statements × 2 patterns (1,000: `arn:aws:s3:::bucket-NNN/*`, `arn:aws:s3:::bucket-NNN/prefix/*/x?`, `arn:aws:dynamodb:us-east-1:1111111111NN:table/T<i>*`) | 669 | 7,191 | 1.8 ms | 2.4–7 ms |
//! | the same 1,000 patterns, one language each | 1,001 | 7,191 | 2.1 ms | 7–13 ms |
//! | action field, 200 literal actions + 100 `svc:Verb*` globs, case-insensitive | 301 | 1,673 | 0.37 ms | 0.39–0.68 ms |
//! | **both fields together (the 500-statement target: < 100 ms)** | | | **2.2 ms** | **2.7–13 ms** |
//! | stress: the 1,000 resource patterns per ARN segment (`StarNot(':')`) plus 100 with interior stars (`arn:aws:s3:::bucket-*/logs/N.gz`, `arn:aws:*:us-east-1:*:table/T*N`) | 34,451 | 161,189 | 0.39 s | 0.5–0.7 s |
//!
//! The stress row is slow because its answer is big: every bucket pattern combines with every
//! suffix pattern, so there are 34,451 genuine classes, not because of the search.
//!
//! The one-off cost outside that figure: when a case-insensitive and a case-sensitive atom test
//! the same letter in both cases at the same state, the exact set of characters that fold to that
//! letter (e.g. the Kelvin sign for `k`) is needed, and a table of all non-trivial case folds is
//! built once per process by scanning every `char` (~30 ms in release). Workloads that never mix
//! case-sensitive and case-insensitive tests of one letter never build it.
//!
//! # Limits
//!
//! The number of product states is the cost, and it is bounded below by the number of classes.
//! It stays near the size of the trie for literals, prefixes (`abc*`), suffixes (`*abc`) and
//! ARN-shaped globs, but two shapes are exponential:
//! - independent "contains" tests (`*/1/*`, `*/2/*`, …, or several `*x*` conditions on one key):
//!   every subset of them is realizable, so there are 2^n classes and no enumeration can be
//!   small — the finite encoding itself is the wrong tool there;
//! - a star followed by many `?` or by overlapping interior stars (`*a?????????`: "the 10th
//!   character from the end is an a"; `*a*b*c*` families): few classes, but the subset
//!   construction needs exponentially many states to find them.
//!
//! [`Limits::max_states`] turns both into [`ClassError::TooLarge`], which the prover must answer
//! with `unknown` (or a fall-back), never with `proved`. `AnyNot`/`StarNot` exclusions compare
//! exactly even in a case-insensitive pattern.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// One step of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Atom {
    /// Exactly this character (case-folded on both sides when the pattern is case-insensitive).
    Char(char),
    /// `?`: exactly one character.
    Any,
    /// `*`: any run of characters, including the empty one.
    Star,
    /// One character other than `c` (ARN segments: `c = ':'`). Compared exactly, never folded.
    AnyNot(char),
    /// Any run (including the empty one) of characters other than `c`. Compared exactly.
    StarNot(char),
}

/// A sequence of atoms matching a whole string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    pub atoms: Vec<Atom>,
    /// `Char` atoms compare case-insensitively: both sides go through [`fold_char`] (Unicode
    /// simple lowercase when `char::to_lowercase` yields one character, else the character itself).
    /// `AnyNot`/`StarNot` exclusions are always exact.
    pub ci: bool,
}

impl Pattern {
    /// A glob: `*` is [`Atom::Star`], `?` is [`Atom::Any`], every other character a [`Atom::Char`].
    pub fn glob(s: &str, ci: bool) -> Pattern {
        let atoms = s
            .chars()
            .map(|c| match c {
                '*' => Atom::Star,
                '?' => Atom::Any,
                c => Atom::Char(c),
            })
            .collect();
        Pattern { atoms, ci }
    }

    /// A literal: every character a [`Atom::Char`] (`*` and `?` included).
    pub fn literal(s: &str, ci: bool) -> Pattern {
        Pattern {
            atoms: s.chars().map(Atom::Char).collect(),
            ci,
        }
    }
}

/// A union of patterns; no alternatives is the empty language.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Lang {
    pub alts: Vec<Pattern>,
}

impl Lang {
    /// The language of one pattern.
    pub fn single(p: Pattern) -> Lang {
        Lang { alts: vec![p] }
    }

    /// Is `s` in the language?
    pub fn matches(&self, s: &str) -> bool {
        self.alts.iter().any(|p| matches(p, s))
    }
}

/// A class: the strings whose membership vector is `sig`, with one of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Class {
    /// `sig[i] == (witness ∈ langs[i])`.
    pub sig: Vec<bool>,
    /// A shortest string of the class (within the domain).
    pub witness: String,
}

/// Resource limits of [`classes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most product states explored before giving up with [`ClassError::TooLarge`].
    pub max_states: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_states: 200_000,
        }
    }
}

/// Why the classes could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassError {
    /// The subset construction went past [`Limits::max_states`].
    TooLarge { states: usize },
}

impl std::fmt::Display for ClassError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClassError::TooLarge { states } => write!(
                f,
                "string classes: too many automaton states ({states}): the patterns on this field \
                 are too entangled to enumerate"
            ),
        }
    }
}

impl std::error::Error for ClassError {}

/// Figures of one [`classes_with_stats`] run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Product states created.
    pub states: usize,
    /// NFA positions (all patterns, plus the domain).
    pub positions: usize,
    /// Active positions summed over all states (the size of the explored product).
    pub active: usize,
}

/// Case folding of one character: Unicode simple lowercase when `char::to_lowercase` yields one
/// character, else the character itself (the engine's rule).
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        let mut l = c.to_lowercase();
        match (l.next(), l.next()) {
            (Some(x), None) => x,
            _ => c,
        }
    }
}

/// Does `s` match `p`, as a whole? A direct position-set simulation, independent of [`classes`].
pub fn matches(p: &Pattern, s: &str) -> bool {
    let k = p.atoms.len();
    let mut cur = vec![false; k + 1];
    let mut next = vec![false; k + 1];
    let close = |set: &mut [bool]| {
        for (j, a) in p.atoms.iter().enumerate() {
            if set[j] && matches!(a, Atom::Star | Atom::StarNot(_)) {
                set[j + 1] = true;
            }
        }
    };
    cur[0] = true;
    close(&mut cur);
    for c in s.chars() {
        next.fill(false);
        let fc = fold_char(c);
        let mut any = false;
        for (j, a) in p.atoms.iter().enumerate() {
            if !cur[j] {
                continue;
            }
            let to = match *a {
                Atom::Char(d) => {
                    let eq = if p.ci { fc == fold_char(d) } else { c == d };
                    eq.then_some(j + 1)
                }
                Atom::Any => Some(j + 1),
                Atom::Star => Some(j),
                Atom::AnyNot(d) => (c != d).then_some(j + 1),
                Atom::StarNot(d) => (c != d).then_some(j),
            };
            if let Some(t) = to {
                next[t] = true;
                any = true;
            }
        }
        if !any {
            return false;
        }
        close(&mut next);
        std::mem::swap(&mut cur, &mut next);
    }
    cur[k]
}

/// The classes of `langs`: one per realizable membership vector, each with a shortest witness.
/// With a `domain`, only strings of the domain count.
pub fn classes(
    langs: &[Lang],
    domain: Option<&Lang>,
    limits: &Limits,
) -> Result<Vec<Class>, ClassError> {
    classes_with_stats(langs, domain, limits).map(|(c, _)| c)
}

/// [`classes`], with the size of the search.
pub fn classes_with_stats(
    langs: &[Lang],
    domain: Option<&Lang>,
    limits: &Limits,
) -> Result<(Vec<Class>, Stats), ClassError> {
    let nfa = Nfa::build(langs, domain);
    // The states are usually about as many as the trie's nodes.
    let guess = nfa.nodes.len().min(limits.max_states);
    Search::new(&nfa, langs.len(), domain.is_some(), limits, guess).run()
}

// ---------------------------------------------------------------------------------------------
// The automaton: all patterns in one trie of atoms.
//
// Node `n` stands for "the atoms on the path from the root have been consumed". An edge consumes
// one atom; the node a star edge leads to loops on the characters the star accepts, and its
// parent reaches it without consuming (the star may be empty). Patterns that share a prefix of
// atoms share its nodes, so a product state holds one node for a prefix common to a thousand
// patterns, not a thousand positions.

/// Owner of the domain's patterns.
const DOMAIN: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Edge {
    Char(char),
    /// The folded character.
    CharCi(char),
    Any,
    AnyNot(char),
    Star,
    StarNot(char),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loop {
    No,
    All,
    AllBut(char),
}

/// A range of one of the flat arrays of [`Nfa`].
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    lo: u32,
    hi: u32,
}

impl Span {
    fn of<T>(v: &[T], lo: usize) -> Span {
        Span {
            lo: lo as u32,
            hi: v.len() as u32,
        }
    }
    fn get<T>(self, v: &[T]) -> &[T] {
        &v[self.lo as usize..self.hi as usize]
    }
}

#[derive(Debug, Clone, Copy)]
struct Node {
    looping: Loop,
    /// Exact character edges `(c, child)`, sorted by `c`.
    cs: Span,
    /// Case-insensitive edges `(fold, as written, child)`, sorted by fold.
    ci: Span,
    /// `?` edges `(excluded character or None, child)`.
    one: Span,
    /// Epsilon closure (this node and what its star edges reach), sorted.
    clos: Span,
    /// Owners (language index or [`DOMAIN`]) of the patterns that end here.
    acc: Span,
    /// Some language pattern ends here or below.
    lang: bool,
    /// Some domain pattern ends here or below.
    dom: bool,
}

struct Nfa {
    nodes: Vec<Node>,
    cs_edges: Vec<(char, u32)>,
    ci_edges: Vec<(char, char, u32)>,
    one_edges: Vec<(Option<char>, u32)>,
    clos: Vec<u32>,
    accs: Vec<u32>,
    /// Character preference for the "other" branch: characters no pattern mentions first.
    other_prefs: Vec<char>,
}

impl Nfa {
    fn build(langs: &[Lang], domain: Option<&Lang>) -> Nfa {
        // The trie as sibling lists: node `m` hangs from `parent[m]` by `edge[m]` (the root's
        // entries are placeholders). Children are few (one per distinct atom), so a linear scan
        // finds them; nothing is allocated per node.
        let mut parent: Vec<u32> = vec![u32::MAX];
        let mut edge: Vec<Edge> = vec![Edge::Any];
        let mut orig: Vec<char> = vec!['\0'];
        let mut first_child: Vec<u32> = vec![u32::MAX];
        let mut sibling: Vec<u32> = vec![u32::MAX];
        let mut ends: Vec<(u32, u32)> = Vec::new();
        let all = langs
            .iter()
            .enumerate()
            .map(|(i, l)| (i as u32, l))
            .chain(domain.map(|d| (DOMAIN, d)));
        for (owner, lang) in all {
            for p in &lang.alts {
                let mut n = 0u32;
                for a in &p.atoms {
                    let (e, o) = match *a {
                        Atom::Char(c) if p.ci => (Edge::CharCi(fold_char(c)), c),
                        Atom::Char(c) => (Edge::Char(c), c),
                        Atom::Any => (Edge::Any, '\0'),
                        Atom::Star => (Edge::Star, '\0'),
                        Atom::AnyNot(c) => (Edge::AnyNot(c), c),
                        Atom::StarNot(c) => (Edge::StarNot(c), c),
                    };
                    let mut k = first_child[n as usize];
                    while k != u32::MAX && edge[k as usize] != e {
                        k = sibling[k as usize];
                    }
                    if k == u32::MAX {
                        k = parent.len() as u32;
                        parent.push(n);
                        edge.push(e);
                        orig.push(o);
                        first_child.push(u32::MAX);
                        sibling.push(first_child[n as usize]);
                        first_child[n as usize] = k;
                    }
                    n = k;
                }
                ends.push((n, owner));
            }
        }
        let count = parent.len();
        ends.sort_unstable_by_key(|&(n, o)| (n, o != DOMAIN, o));
        ends.dedup();

        // Flags, bottom up (a child's id is larger than its parent's).
        let mut lang = vec![false; count];
        let mut dom = vec![false; count];
        for &(n, o) in &ends {
            if o == DOMAIN {
                dom[n as usize] = true;
            } else {
                lang[n as usize] = true;
            }
        }
        for n in (1..count).rev() {
            let p = parent[n] as usize;
            lang[p] |= lang[n];
            dom[p] |= dom[n];
        }
        let is_star = |m: usize| matches!(edge[m], Edge::Star | Edge::StarNot(_)) && m > 0;

        let mut nfa = Nfa {
            nodes: Vec::with_capacity(count),
            cs_edges: Vec::new(),
            ci_edges: Vec::new(),
            one_edges: Vec::new(),
            clos: Vec::new(),
            accs: Vec::with_capacity(ends.len()),
            other_prefs: Vec::new(),
        };
        // Closures, bottom up, into `nfa.clos` (spans kept per node).
        let mut clos_span = vec![Span::default(); count];
        let mut buf: Vec<u32> = Vec::new();
        for n in (0..count).rev() {
            buf.clear();
            buf.push(n as u32);
            let mut k = first_child[n];
            while k != u32::MAX {
                if is_star(k as usize) {
                    buf.extend_from_slice(clos_span[k as usize].get(&nfa.clos));
                }
                k = sibling[k as usize];
            }
            buf.sort_unstable();
            buf.dedup();
            let lo = nfa.clos.len();
            nfa.clos.extend_from_slice(&buf);
            clos_span[n] = Span::of(&nfa.clos, lo);
        }

        // Flatten edges and accepting owners.
        let mut e_at = 0usize;
        for n in 0..count {
            let (lo_cs, lo_ci, lo_one) =
                (nfa.cs_edges.len(), nfa.ci_edges.len(), nfa.one_edges.len());
            let mut k = first_child[n];
            while k != u32::MAX {
                let m = k as usize;
                match edge[m] {
                    Edge::Char(c) => nfa.cs_edges.push((c, k)),
                    Edge::CharCi(f) => nfa.ci_edges.push((f, orig[m], k)),
                    Edge::Any => nfa.one_edges.push((None, k)),
                    Edge::AnyNot(d) => nfa.one_edges.push((Some(d), k)),
                    Edge::Star | Edge::StarNot(_) => {}
                }
                k = sibling[m];
            }
            nfa.cs_edges[lo_cs..].sort_unstable_by_key(|e| e.0);
            nfa.ci_edges[lo_ci..].sort_unstable_by_key(|e| e.0);
            // Children were prepended; keep `?` edges in creation order for determinism.
            nfa.one_edges[lo_one..].sort_unstable_by_key(|e| e.1);
            let lo_acc = nfa.accs.len();
            while e_at < ends.len() && ends[e_at].0 as usize == n {
                nfa.accs.push(ends[e_at].1);
                e_at += 1;
            }
            let looping = match edge[n] {
                Edge::Star if n > 0 => Loop::All,
                Edge::StarNot(d) if n > 0 => Loop::AllBut(d),
                _ => Loop::No,
            };
            nfa.nodes.push(Node {
                looping,
                cs: Span::of(&nfa.cs_edges, lo_cs),
                ci: Span::of(&nfa.ci_edges, lo_ci),
                one: Span::of(&nfa.one_edges, lo_one),
                clos: clos_span[n],
                acc: Span::of(&nfa.accs, lo_acc),
                lang: lang[n],
                dom: dom[n],
            });
        }

        // The "other" character: a lowercase letter or digit no pattern mentions, if any. The
        // candidates are ASCII (and fold to ASCII), so ASCII masks of the tested chars suffice.
        let bit = |c: char| if c.is_ascii() { 1u128 << (c as u32) } else { 0 };
        let mut cs = 0u128;
        for &(c, _) in &nfa.cs_edges {
            cs |= bit(c);
        }
        for &(d, _) in &nfa.one_edges {
            cs |= d.map_or(0, bit);
        }
        for node in &nfa.nodes {
            if let Loop::AllBut(d) = node.looping {
                cs |= bit(d);
            }
        }
        let ci = nfa.ci_edges.iter().fold(0u128, |m, e| m | bit(e.0));
        let base: Vec<char> = "xz0123456789abcdefghijklmnopqrstuvwyXZABCDEFGHIJKLMNOPQRSTUVWY\
                               -_.@+=,~!#$%&^;|'\"()<>[]{}`\\ :/*?"
            .chars()
            .collect();
        let free = |c: &char| cs & bit(*c) == 0 && ci & bit(fold_char(*c)) == 0;
        nfa.other_prefs = base.iter().copied().filter(free).collect();
        nfa.other_prefs
            .extend(base.iter().copied().filter(|c| !free(c)));
        nfa
    }

    #[inline]
    fn node(&self, n: u32) -> &Node {
        &self.nodes[n as usize]
    }
}

// ---------------------------------------------------------------------------------------------
// Fast hashing of position sets (FxHash-style; std only).

#[derive(Default)]
struct Fx(u64);

const FX_K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Fx {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(FX_K);
    }
}

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxBuild = BuildHasherDefault<Fx>;

fn fx_slice(xs: &[u32]) -> u64 {
    let mut h = Fx(xs.len() as u64);
    let mut pairs = xs.chunks_exact(2);
    for p in &mut pairs {
        h.add(u64::from(p[0]) | (u64::from(p[1]) << 32));
    }
    if let [x] = pairs.remainder() {
        h.add(u64::from(*x));
    }
    // Spread the last multiply's entropy into the low bits that the table indexes by.
    h.0 ^ (h.0 >> 29)
}

/// Hasher for keys that are already hashes.
#[derive(Default)]
struct Id(u64);

impl Hasher for Id {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

// ---------------------------------------------------------------------------------------------
// Inverse case folding, for the rare state that needs it.

/// For every character `f` that some other character folds to: those characters (sorted).
fn fold_preimages() -> &'static HashMap<char, Vec<char>> {
    static TABLE: OnceLock<HashMap<char, Vec<char>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut m: HashMap<char, Vec<char>> = HashMap::new();
        for c in (0u32..=0x10FFFF).filter_map(char::from_u32) {
            let f = fold_char(c);
            if f != c {
                m.entry(f).or_default().push(c);
            }
        }
        m
    })
}

fn printable_ascii(c: char) -> bool {
    c.is_ascii_graphic() || c == ' '
}

// ---------------------------------------------------------------------------------------------
// The breadth-first exploration.

struct Search<'a> {
    nfa: &'a Nfa,
    nlangs: usize,
    has_domain: bool,
    max_states: usize,
    /// Active sets of all states, back to back; state `i` is `arena[spans[i].0..spans[i].1]`.
    arena: Vec<u32>,
    spans: Vec<(usize, usize)>,
    /// Hash of an active set → the last state with that hash; `chain` links to earlier ones.
    index: HashMap<u64, u32, BuildHasherDefault<Id>>,
    chain: Vec<u32>,
    parent: Vec<u32>,
    via: Vec<char>,
    sigs: HashSet<Box<[u64]>, FxBuild>,
    out: Vec<Class>,
    all_false_seen: bool,
    // Reused buffers.
    bits: Vec<u64>,
    next: Vec<u32>,
    cs: Vec<char>,
    ci: Vec<(char, u32, char)>,
    reps: Vec<char>,
    wbuf: Vec<char>,
}

impl<'a> Search<'a> {
    fn new(
        nfa: &'a Nfa,
        nlangs: usize,
        has_domain: bool,
        limits: &Limits,
        guess: usize,
    ) -> Search<'a> {
        Search {
            nfa,
            nlangs,
            has_domain,
            max_states: limits.max_states,
            arena: Vec::new(),
            spans: Vec::with_capacity(guess),
            index: HashMap::with_capacity_and_hasher(guess, BuildHasherDefault::default()),
            chain: Vec::with_capacity(guess),
            parent: Vec::with_capacity(guess),
            via: Vec::with_capacity(guess),
            sigs: HashSet::default(),
            out: Vec::new(),
            all_false_seen: false,
            bits: vec![0; nlangs.div_ceil(64)],
            next: Vec::new(),
            cs: Vec::new(),
            ci: Vec::new(),
            reps: Vec::new(),
            wbuf: Vec::new(),
        }
    }

    fn run(mut self) -> Result<(Vec<Class>, Stats), ClassError> {
        let start = self.nfa.node(0).clos.get(&self.nfa.clos).to_vec();
        if self.has_domain && !start.iter().any(|&n| self.nfa.node(n).dom) {
            // The domain is empty: no string counts.
            return Ok((Vec::new(), self.stats()));
        }
        self.intern(&start, u32::MAX, '\0')?;
        // The most classes there can be, to stop early once all are found.
        let max_sigs = if self.nlangs < 63 {
            1u64 << self.nlangs
        } else {
            u64::MAX
        };
        let mut id = 0usize;
        let mut cur = Vec::new();
        while id < self.spans.len() {
            let (a, b) = self.spans[id];
            cur.clear();
            cur.extend_from_slice(&self.arena[a..b]);
            let has_lang = self.record(id, &cur);
            if self.out.len() as u64 == max_sigs {
                break;
            }
            // A state from which no language can accept only reaches the all-false signature.
            if !has_lang && (self.all_false_seen || cur.is_empty()) {
                id += 1;
                continue;
            }
            self.branches(&cur);
            for r in 0..self.reps.len() {
                let c = self.reps[r];
                if self.step(&cur, c) {
                    let next = std::mem::take(&mut self.next);
                    let res = self.intern(&next, id as u32, c);
                    self.next = next;
                    res?;
                }
            }
            id += 1;
        }
        let stats = self.stats();
        Ok((self.out, stats))
    }

    fn stats(&self) -> Stats {
        Stats {
            states: self.spans.len(),
            positions: self.nfa.nodes.len(),
            active: self.arena.len(),
        }
    }

    /// Record the signature of state `id` (when it is in the domain); returns whether some
    /// language can still accept from it.
    fn record(&mut self, id: usize, cur: &[u32]) -> bool {
        self.bits.fill(0);
        let mut has_lang = false;
        let mut in_domain = !self.has_domain;
        let mut any_lang_acc = false;
        for &n in cur {
            let node = self.nfa.node(n);
            has_lang |= node.lang;
            for &o in node.acc.get(&self.nfa.accs) {
                if o == DOMAIN {
                    in_domain = true;
                } else {
                    any_lang_acc = true;
                    let o = o as usize;
                    self.bits[o / 64] |= 1 << (o % 64);
                }
            }
        }
        // Most states accept nothing: skip the lookup once the all-false sig is known.
        let known_all_false = !any_lang_acc && self.all_false_seen;
        if in_domain && !known_all_false && !self.sigs.contains(self.bits.as_slice()) {
            self.sigs.insert(self.bits.clone().into_boxed_slice());
            if self.bits.iter().all(|&w| w == 0) {
                self.all_false_seen = true;
            }
            let mut sig = vec![false; self.nlangs];
            for (w, &word) in self.bits.iter().enumerate() {
                let mut word = word;
                while word != 0 {
                    sig[w * 64 + word.trailing_zeros() as usize] = true;
                    word &= word - 1;
                }
            }
            let witness = self.witness(id);
            self.out.push(Class { sig, witness });
        }
        has_lang
    }

    fn witness(&mut self, mut id: usize) -> String {
        self.wbuf.clear();
        while self.parent[id] != u32::MAX {
            self.wbuf.push(self.via[id]);
            id = self.parent[id] as usize;
        }
        self.wbuf.iter().rev().collect()
    }

    /// The representative characters to branch on from `cur`, into `self.reps`: one per
    /// distinguishable group of characters, the "other" character first (so that, among
    /// witnesses of equal length, the ones made of untested characters win).
    fn branches(&mut self, cur: &[u32]) {
        self.cs.clear();
        self.ci.clear();
        self.reps.clear();
        let nfa = self.nfa;
        for &n in cur {
            let node = nfa.node(n);
            if let Loop::AllBut(d) = node.looping {
                self.cs.push(d);
            }
            self.cs
                .extend(node.cs.get(&nfa.cs_edges).iter().map(|e| e.0));
            self.cs
                .extend(node.one.get(&nfa.one_edges).iter().filter_map(|e| e.0));
            for &(f, orig, _) in node.ci.get(&nfa.ci_edges) {
                let seq = self.ci.len() as u32;
                self.ci.push((f, seq, orig));
            }
        }
        self.cs.sort_unstable();
        self.cs.dedup();
        self.ci.sort_unstable();
        self.ci.dedup_by_key(|e| e.0);
        // A character behaves as its key (c if c is tested exactly, fold(c) if the fold is tested
        // case-insensitively). Keys (c, _) for the exactly tested c: represented by c itself.
        self.reps.extend_from_slice(&self.cs);
        // Keys (none, f): a character folding to f that is not itself tested exactly.
        for &(f, _, orig) in &self.ci {
            let cs = &self.cs;
            let free = |c: char| fold_char(c) == f && cs.binary_search(&c).is_err();
            let upper = {
                let mut u = f.to_uppercase();
                match (u.next(), u.next()) {
                    (Some(x), None) => x,
                    _ => f,
                }
            };
            let rep = [orig, f, upper].into_iter().find(|&c| free(c)).or_else(|| {
                fold_preimages()
                    .get(&f)
                    .and_then(|v| v.iter().copied().find(|&c| free(c)))
            });
            if let Some(r) = rep {
                self.reps.push(r);
            }
        }
        self.reps
            .sort_unstable_by_key(|&c| (!printable_ascii(c), c as u32));
        // Key (none, none): every character no active node distinguishes.
        let (cs, ci) = (&self.cs, &self.ci);
        let free = |c: char| {
            cs.binary_search(&c).is_err()
                && ci.binary_search_by_key(&fold_char(c), |e| e.0).is_err()
        };
        let other = nfa
            .other_prefs
            .iter()
            .copied()
            .find(|&c| free(c))
            .or_else(|| {
                (0x4E00u32..=0x10FFFF)
                    .filter_map(char::from_u32)
                    .find(|&c| free(c))
            });
        if let Some(o) = other {
            self.reps.insert(0, o);
        }
    }

    /// The successor of `cur` on `c`, into `self.next` (sorted, unique). Returns false when it
    /// is dead (leaves the domain).
    fn step(&mut self, cur: &[u32], c: char) -> bool {
        let fc = fold_char(c);
        let nfa = self.nfa;
        let next = &mut self.next;
        next.clear();
        let mut pushes = 0usize;
        let mut push = |m: u32| {
            pushes += 1;
            next.extend_from_slice(nfa.node(m).clos.get(&nfa.clos));
        };
        for &n in cur {
            let node = nfa.node(n);
            match node.looping {
                Loop::All => push(n),
                Loop::AllBut(d) if c != d => push(n),
                _ => {}
            }
            let cs = node.cs.get(&nfa.cs_edges);
            if let Ok(i) = cs.binary_search_by_key(&c, |e| e.0) {
                push(cs[i].1);
            }
            let ci = node.ci.get(&nfa.ci_edges);
            if let Ok(i) = ci.binary_search_by_key(&fc, |e| e.0) {
                push(ci[i].2);
            }
            for &(ex, m) in node.one.get(&nfa.one_edges) {
                if ex != Some(c) {
                    push(m);
                }
            }
        }
        if pushes > 1 {
            next.sort_unstable();
            next.dedup();
        }
        !self.has_domain || next.iter().any(|&m| nfa.node(m).dom)
    }

    fn intern(&mut self, set: &[u32], parent: u32, via: char) -> Result<(), ClassError> {
        let h = fx_slice(set);
        let mut at = self.index.get(&h).copied().unwrap_or(u32::MAX);
        while at != u32::MAX {
            let (a, b) = self.spans[at as usize];
            if &self.arena[a..b] == set {
                return Ok(());
            }
            at = self.chain[at as usize];
        }
        let id = self.spans.len() as u32;
        let prev = self.index.insert(h, id).unwrap_or(u32::MAX);
        self.chain.push(prev);
        let a = self.arena.len();
        self.arena.extend_from_slice(set);
        self.spans.push((a, self.arena.len()));
        self.parent.push(parent);
        self.via.push(via);
        if self.spans.len() > self.max_states {
            return Err(ClassError::TooLarge {
                states: self.spans.len(),
            });
        }
        Ok(())
    }
}
