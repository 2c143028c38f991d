//! Wildcards, policy variables, ARNs and the typed values of condition operators.
//!
//! A policy string is compiled once into a [`Template`]: a list of atoms (literal text, `?`, `*`,
//! policy variable) and a compiled shape for ASCII text (exact, prefix, suffix, or the pieces
//! between stars, matched byte-wise with each variable looked up once). Other text goes through the
//! classic single-backtrack-point glob, a character at a time. Matching never allocates.
//! Substituted values are literals: their own `*`/`?` are not wildcards (iam-semantics.md §5;
//! corpus/DECISIONS.md 11).

use std::net::{Ipv4Addr, Ipv6Addr};

/// A policy variable `${key}` or `${key, 'default'}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Var {
    /// The key as written.
    pub key: String,
    /// The key lower-cased, for lookup (condition keys are case-insensitive).
    pub key_lc: String,
    pub default: Option<String>,
    /// [`crate::model::key_slot`] of `key_lc`: where the context keeps it.
    pub id: u8,
}

/// Where a template's variables get their values: from a [`crate::model::Context`] (by slot for
/// global keys), or from any function of the lower-cased key.
pub trait Resolve<'a> {
    /// The value of `v` (its default is the caller's business); `None` when absent.
    fn value(&self, v: &Var) -> Option<&'a str>;
}

/// A function of the lower-cased key as a [`Resolve`].
struct ByKey<'f, F>(&'f F);

impl<'a, F: Fn(&str) -> Option<&'a str>> Resolve<'a> for ByKey<'_, F> {
    #[inline]
    fn value(&self, v: &Var) -> Option<&'a str> {
        (self.0)(&v.key_lc)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Atom {
    Lit(String),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters, including none.
    Star,
    /// Boxed: variables are rare, and an atom the size of a literal keeps atom vectors small.
    Var(Box<Var>),
}

/// A compiled policy string: wildcards (when the context allows them) and variables.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Template {
    pub atoms: Vec<Atom>,
    /// Compare case-insensitively (actions, `...IgnoreCase`). Literals are stored lower-cased.
    pub ci: bool,
    /// The policy text it was compiled from, when it is not simply the one literal of `atoms`
    /// (most policy strings are: that copy is not kept). See [`Template::source`].
    source: Option<Box<str>>,
    /// The matcher for the common shapes, compiled from `atoms` and `ci` (which must not change
    /// after construction).
    fast: Fast,
    /// What the leading literal of a case-sensitive template says about the text (the resource
    /// check turns a resource away with it); admits everything otherwise.
    filter: Prefilter,
}

/// A string's length and its first and last eight bytes (zero-padded below eight): two ASCII
/// strings of at most 16 bytes are equal exactly when their `Words` are; longer ones also need
/// the bytes between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub(crate) struct Words {
    pub len: usize,
    pub head: u64,
    pub tail: u64,
}

impl Words {
    /// Whether the string they were read from is ASCII, when it is at most 16 bytes (the words
    /// then hold every byte).
    #[inline(always)]
    pub fn ascii(&self) -> bool {
        (self.head | self.tail) & u64::from_ne_bytes([0x80; 8]) == 0
    }

    /// The words of the string lower-cased, for an ASCII string (each byte `A`–`Z` gains 0x20;
    /// no byte carries into the next, as every byte is below 0x80).
    #[inline(always)]
    pub fn ascii_lowercase(&self) -> Words {
        fn lower(x: u64) -> u64 {
            const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
            let ge_a = x + ONES * (0x80 - u64::from(b'A'));
            let gt_z = x + ONES * (0x80 - u64::from(b'Z') - 1);
            let upper = ge_a & !gt_z & (ONES * 0x80);
            x | (upper >> 2)
        }
        Words {
            len: self.len,
            head: lower(self.head),
            tail: lower(self.tail),
        }
    }

    #[inline]
    pub fn of(s: &[u8]) -> Words {
        let (head, tail) = match (s.first_chunk::<8>(), s.last_chunk::<8>()) {
            (Some(h), Some(t)) => (u64::from_le_bytes(*h), u64::from_le_bytes(*t)),
            _ => {
                // Shorter than eight bytes: a loop, not a call to `memcpy`.
                let w = s.iter().rev().fold(0u64, |w, &b| (w << 8) | u64::from(b));
                (w, w)
            }
        };
        Words {
            len: s.len(),
            head,
            tail,
        }
    }
}

/// A word whose low `n` bytes (`n` at most 8) are all ones.
#[inline(always)]
pub(crate) fn low_bytes(n: usize) -> u64 {
    if n >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    }
}

/// What a case-sensitive template's leading literal says about bytes
/// [`Prefilter::START`]`..+16` of any text it matches: the bytes under `mask` equal `value`. A
/// resource whose [`Prefilter::words`] differ there cannot match, and is turned away with two
/// word comparisons instead of the matcher (a bucket policy's statements for other buckets, a
/// large policy's statements for other services and accounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub(crate) struct Prefilter {
    mask: [u64; 2],
    value: [u64; 2],
}

impl Prefilter {
    /// Where the window starts: past `arn:aws:`, at the service and what follows.
    pub const START: usize = 8;

    fn of_literal(lit: &[u8]) -> Prefilter {
        let window = lit.get(Prefilter::START..).unwrap_or_default();
        let mut mask = [0u64; 2];
        for (w, m) in mask.iter_mut().enumerate() {
            // The literal's bytes in word `w`: all, the low ones, or none.
            *m = low_bytes(window.len().saturating_sub(8 * w).min(8));
        }
        Prefilter {
            mask,
            value: Prefilter::words(lit),
        }
    }

    /// The window of `text`, zero past its end.
    #[inline(always)]
    pub fn words(text: &[u8]) -> [u64; 2] {
        let at = |i: usize| {
            text.get(i..i + 8)
                .and_then(|x| x.first_chunk::<8>())
                .map(|x| u64::from_le_bytes(*x))
        };
        match (at(Prefilter::START), at(Prefilter::START + 8)) {
            (Some(a), Some(b)) => [a, b],
            _ => {
                let mut w = [0u64; 2];
                let tail = text.get(Prefilter::START..).unwrap_or_default();
                for (i, &b) in tail.iter().take(16).enumerate() {
                    w[i / 8] |= u64::from(b) << (8 * (i % 8));
                }
                w
            }
        }
    }

    /// Can a text whose window is `words` match? (`false` only when it cannot: past its end a
    /// text reads as zero bytes, which a literal byte other than NUL never equals, and a text
    /// shorter than the literal cannot match it.)
    #[inline(always)]
    pub fn admits(&self, words: &[u64; 2]) -> bool {
        (words[0] & self.mask[0]) == self.value[0] && (words[1] & self.mask[1]) == self.value[1]
    }
}

/// Shapes that match without the general glob: ASCII literals (folded when case-insensitive)
/// separated by stars, no `?`, no variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Fast {
    General,
    Any,
    /// `atoms` is `[Lit]` (or empty: the empty string); the literal's [`Words`], which the
    /// action check compares with the request's action.
    Exact(Words),
    /// `[Lit, Star]`, with the literal's [`Words`].
    Prefix(Words),
    /// `[Star, Lit]`.
    Suffix,
    /// `[Lit, Star, Lit]`.
    PrefixSuffix,
    /// Any other mix of ASCII literals, `?`, stars and at most [`MAX_VARS`] policy variables: the
    /// pieces between stars, matched once the variables are resolved (by [`Template::matches`]).
    Segments {
        pieces: Box<[Piece]>,
        /// Some piece holds a `?`.
        ones: bool,
        /// The index in `atoms` of each variable, in order (`nvars` of them).
        vars: [u16; MAX_VARS],
        nvars: u8,
    },
    /// ASCII literals and at least two stars, `first*middle[0]*...*last` (`first`, `last` may be
    /// empty): stars and literals alternate in `atoms` (`Template::new` joins runs of each).
    Pieces,
}

/// Variables a [`Fast::Segments`] template may hold.
const MAX_VARS: usize = 4;

/// One element of a star-free piece of a [`Fast::Segments`] template.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Seg {
    /// ASCII, folded when the template is case-insensitive.
    Lit(Box<[u8]>),
    /// `?`: one byte of ASCII text.
    One,
    /// The template's `i`-th variable, counted in order of appearance.
    Var(usize),
}

/// A star-free piece of a [`Fast::Segments`] template.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Piece {
    segs: Box<[Seg]>,
    /// The bytes of its literals and `?`s.
    fixed: usize,
    /// Whether it holds a variable (else it always spans `fixed` bytes).
    vars: bool,
    /// Its first byte when it starts with a literal: where a middle piece can start.
    lead: Option<u8>,
}

impl Piece {
    fn new(segs: Vec<Seg>) -> Piece {
        let fixed = segs
            .iter()
            .map(|s| match s {
                Seg::Lit(l) => l.len(),
                Seg::One => 1,
                Seg::Var(_) => 0,
            })
            .sum();
        Piece {
            fixed,
            vars: segs.iter().any(|s| matches!(s, Seg::Var(_))),
            lead: match segs.first() {
                Some(Seg::Lit(l)) => l.first().copied(),
                _ => None,
            },
            segs: segs.into_boxed_slice(),
        }
    }

    /// The bytes it spans once its variables are `vals`.
    #[inline(always)]
    fn len(&self, vals: &[&str]) -> usize {
        let mut n = self.fixed;
        if self.vars {
            for s in self.segs.iter() {
                if let Seg::Var(i) = s {
                    n += vals.get(*i).map_or(0, |v| v.len());
                }
            }
        }
        n
    }

    /// Does it match `t`, whose length [`Piece::len`] gave? `CI`: literals are folded, the text
    /// and values are ASCII and compare folded.
    #[inline(always)]
    fn at<const CI: bool>(&self, t: &[u8], vals: &[&str]) -> bool {
        let mut rest = t;
        for s in self.segs.iter() {
            // A literal and a substituted value are both compared as text (a literal is folded
            // already, a value is not: both sides are folded when `CI`).
            let x: &[u8] = match s {
                Seg::Lit(l) => l,
                Seg::Var(k) => vals.get(*k).map_or(&[][..], |v| v.as_bytes()),
                Seg::One => {
                    rest = rest.get(1..).unwrap_or_default();
                    continue;
                }
            };
            let Some((u, tail)) = rest.split_at_checked(x.len()) else {
                return false;
            };
            let eq = if CI {
                x.eq_ignore_ascii_case(u)
            } else {
                same(x, u)
            };
            if !eq {
                return false;
            }
            rest = tail;
        }
        true
    }
}

/// The glob of [`Fast::Segments`]: the first piece anchored at the start, the last at the end,
/// each middle piece at its leftmost occurrence. Byte-wise, which is exact when the template is
/// case-sensitive and has no `?` (a piece of valid UTF-8 that matches valid UTF-8 text starts and
/// ends on character boundaries), and otherwise on ASCII text and values (`CI`: folded).
fn segments_glob<const CI: bool>(pieces: &[Piece], text: &[u8], vals: &[&str]) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return text.is_empty();
    };
    let first_len = first.len(vals);
    let Some((last, middle)) = rest.split_last() else {
        return first_len == text.len() && first.at::<CI>(text, vals);
    };
    let last_len = last.len(vals);
    let Some(end) = text.len().checked_sub(last_len) else {
        return false;
    };
    let (Some(head), Some(tail)) = (text.get(..first_len), text.get(end..)) else {
        return false;
    };
    if first_len > end || !first.at::<CI>(head, vals) || !last.at::<CI>(tail, vals) {
        return false;
    }
    // Between the anchored pieces, each middle piece at its leftmost occurrence.
    let mut cur = first_len;
    for piece in middle {
        let len = piece.len(vals);
        loop {
            let Some(window) = text.get(cur..end).filter(|w| w.len() >= len) else {
                return false;
            };
            if let Some(b) = piece.lead {
                // Where the piece can start: its first byte, among the positions that leave
                // room for it.
                let starts = &window[..=window.len() - len];
                let skip = if CI {
                    starts.iter().position(|&c| b == c.to_ascii_lowercase())
                } else {
                    find_byte(starts, b)
                };
                match skip {
                    Some(k) => cur += k,
                    None => return false,
                }
            }
            if text
                .get(cur..cur + len)
                .is_some_and(|t| piece.at::<CI>(t, vals))
            {
                break;
            }
            cur += 1;
        }
        cur += len;
    }
    true
}

/// The first `b` in `hay`, eight bytes at a time (the lowest flagged byte of a word is exact: a
/// borrow only flags bytes above a match).
#[inline(always)]
pub(crate) fn find_byte(hay: &[u8], b: u8) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let pat = ONES * u64::from(b);
    let mut i = 0;
    while let Some(w) = hay.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*w) ^ pat;
        let m = x.wrapping_sub(ONES) & !x & HIGH;
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let k = hay.get(i..)?.iter().position(|&c| c == b)?;
    Some(i + k)
}

/// Equal bytes, eight (or four) at a time, the last word overlapping: for the short strings of
/// policies, cheaper than a call to `memcmp`.
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    #[inline]
    fn w8(x: &[u8]) -> u64 {
        u64::from_ne_bytes(x.try_into().unwrap_or([0; 8]))
    }
    #[inline]
    fn w4(x: &[u8]) -> u32 {
        u32::from_ne_bytes(x.try_into().unwrap_or([0; 4]))
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        if n <= 16 {
            return w8(&a[..8]) == w8(&b[..8]) && w8(&a[n - 8..]) == w8(&b[n - 8..]);
        }
        let mut i = 0;
        while i + 8 < n {
            if w8(&a[i..i + 8]) != w8(&b[i..i + 8]) {
                return false;
            }
            i += 8;
        }
        return w8(&a[n - 8..]) == w8(&b[n - 8..]);
    }
    if n >= 4 {
        return w4(&a[..4]) == w4(&b[..4]) && w4(&a[n - 4..]) == w4(&b[n - 4..]);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// `l` (folded when `ci`) equals the text `t` (folded on the fly when `ci`).
#[inline]
pub(crate) fn lit_eq(l: &[u8], t: &[u8], ci: bool) -> bool {
    if ci {
        l.len() == t.len() && l.iter().zip(t).all(|(&p, &c)| p == c.to_ascii_lowercase())
    } else {
        same(l, t)
    }
}

/// The leftmost occurrence of the non-empty literal `l` in `t`.
#[inline]
fn lit_find(l: &[u8], t: &[u8], ci: bool) -> Option<usize> {
    let (&b, _) = l.split_first()?;
    let mut cur = 0;
    while cur + l.len() <= t.len() {
        let k = t[cur..=t.len() - l.len()]
            .iter()
            .position(|&c| b == if ci { c.to_ascii_lowercase() } else { c })?;
        cur += k;
        if lit_eq(l, &t[cur..cur + l.len()], ci) {
            return Some(cur);
        }
        cur += 1;
    }
    None
}

impl Fast {
    fn compile(atoms: &[Atom]) -> Fast {
        let lit = |l: &String, f: Fast| l.is_ascii().then_some(f);
        let compiled = match atoms {
            [] => Some(Fast::Exact(Words::default())),
            [Atom::Star] => Some(Fast::Any),
            [Atom::Lit(l)] => lit(l, Fast::Exact(Words::of(l.as_bytes()))),
            [Atom::Lit(l), Atom::Star] => lit(l, Fast::Prefix(Words::of(l.as_bytes()))),
            [Atom::Star, Atom::Lit(l)] => lit(l, Fast::Suffix),
            [Atom::Lit(a), Atom::Star, Atom::Lit(b)] => {
                lit(a, Fast::PrefixSuffix).and_then(|f| lit(b, f))
            }
            _ => Fast::pieces(atoms).or_else(|| Fast::segments(atoms)),
        };
        compiled.unwrap_or(Fast::General)
    }

    /// At most [`MAX_VARS`] variables among ASCII literals, `?` and stars.
    fn segments(atoms: &[Atom]) -> Option<Fast> {
        let n = atoms.iter().filter(|a| matches!(a, Atom::Var(_))).count();
        let plain = |a: &Atom| !matches!(a, Atom::Lit(l) if !l.is_ascii());
        if n > MAX_VARS || !atoms.iter().all(plain) {
            return None;
        }
        let mut pieces: Vec<Vec<Seg>> = vec![Vec::new()];
        let mut vars = [0u16; MAX_VARS];
        let mut n = 0;
        for (i, a) in atoms.iter().enumerate() {
            let seg = match a {
                Atom::Star => {
                    pieces.push(Vec::new());
                    continue;
                }
                Atom::Lit(l) if l.is_ascii() => Seg::Lit(l.as_bytes().into()),
                Atom::Lit(_) => return None,
                Atom::One => Seg::One,
                Atom::Var(_) => {
                    *vars.get_mut(n)? = u16::try_from(i).ok()?;
                    n += 1;
                    Seg::Var(n - 1)
                }
            };
            pieces.last_mut()?.push(seg);
        }
        Some(Fast::Segments {
            pieces: pieces.into_iter().map(Piece::new).collect(),
            ones: atoms.contains(&Atom::One),
            vars,
            nvars: n as u8,
        })
    }

    /// Literals and at least two stars (consecutive stars are already one).
    fn pieces(atoms: &[Atom]) -> Option<Fast> {
        let stars = atoms.iter().filter(|a| matches!(a, Atom::Star)).count();
        let plain = |a: &Atom| matches!(a, Atom::Star) || matches!(a, Atom::Lit(l) if l.is_ascii());
        (stars >= 2 && atoms.iter().all(plain)).then_some(Fast::Pieces)
    }

    /// `None`: the general matcher decides (a case-insensitive match on non-ASCII text, where
    /// folding a character can produce ASCII, e.g. the Kelvin sign).
    #[inline(always)]
    fn matches(&self, atoms: &[Atom], text: &[u8], ci: bool) -> Option<bool> {
        if ci
            && !matches!(self, Fast::Any | Fast::General | Fast::Segments { .. })
            && !text.is_ascii()
        {
            return None;
        }
        // The literal at atom `i` (the shapes above put one there).
        let at = |i: usize| match atoms.get(i) {
            Some(Atom::Lit(l)) => l.as_bytes(),
            _ => &[],
        };
        Some(match self {
            Fast::General | Fast::Segments { .. } => return None,
            Fast::Any => true,
            Fast::Exact(_) => lit_eq(at(0), text, ci),
            Fast::Prefix(_) => {
                let l = at(0);
                text.len() >= l.len() && lit_eq(l, &text[..l.len()], ci)
            }
            Fast::Suffix => {
                let l = at(1);
                text.len() >= l.len() && lit_eq(l, &text[text.len() - l.len()..], ci)
            }
            Fast::PrefixSuffix => {
                let (a, b) = (at(0), at(2));
                text.len() >= a.len() + b.len()
                    && lit_eq(a, &text[..a.len()], ci)
                    && lit_eq(b, &text[text.len() - b.len()..], ci)
            }
            Fast::Pieces => pieces_match(atoms, text, ci),
        })
    }
}

/// [`Fast::Pieces`]: `first*middle[0]*...*last` over ASCII text (folded when `ci`).
fn pieces_match(atoms: &[Atom], text: &[u8], ci: bool) -> bool {
    let (first, inner) = match atoms {
        [Atom::Lit(l), rest @ ..] => (l.as_bytes(), rest),
        _ => (&[][..], atoms),
    };
    let (last, middle) = match inner {
        [rest @ .., Atom::Lit(l)] => (l.as_bytes(), rest),
        _ => (&[][..], inner),
    };
    if text.len() < first.len() + last.len() {
        return false;
    }
    let end = text.len() - last.len();
    if !lit_eq(first, &text[..first.len()], ci) || !lit_eq(last, &text[end..], ci) {
        return false;
    }
    // Between two stars the leftmost occurrence of each middle piece is always safe.
    let mut cur = first.len();
    let lits = middle.iter().filter_map(|a| match a {
        Atom::Lit(l) => Some(l.as_bytes()),
        _ => None,
    });
    for m in lits {
        match lit_find(m, &text[cur..end], ci) {
            Some(k) => cur += k + m.len(),
            None => return false,
        }
    }
    true
}

/// The first byte of `s` that may start a wildcard (`*`, `?`, with `wildcards`) or a variable
/// (`$`, with `variables`), or `s.len()`: eight bytes at a time, as [`crate::json`] scans strings.
#[inline]
fn special_at(s: &[u8], wildcards: bool, variables: bool) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // The high bit of each byte of `x` equal to `c` (bits above the lowest may be wrong, by a
    // borrow, but never one below it).
    let eq = |x: u64, c: u8| {
        let y = x ^ (ONES * u64::from(c));
        y.wrapping_sub(ONES) & !y & HIGH
    };
    let stops = |x: u64| {
        let mut m = 0;
        if wildcards {
            m |= eq(x, b'*') | eq(x, b'?');
        }
        if variables {
            m |= eq(x, b'$');
        }
        m
    };
    let mut i = 0;
    while let Some(word) = s.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let m = stops(u64::from_le_bytes(*word));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let special = |b: &u8| (wildcards && matches!(b, b'*' | b'?')) || (variables && *b == b'$');
    s[i..].iter().position(special).map_or(s.len(), |k| i + k)
}

/// How to read a policy string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateOpts {
    pub wildcards: bool,
    pub variables: bool,
    pub ci: bool,
}

impl Template {
    /// Compile `s`. With `variables`, `${...}` is a variable and `${*}`, `${?}`, `${$}` escape.
    pub fn new(s: &str, opts: TemplateOpts) -> Template {
        let special = |s: &str| special_at(s.as_bytes(), opts.wildcards, opts.variables);
        let first = special(s);
        if first == s.len() {
            // The common case, one literal: no scanning loop.
            let mut l = s.to_string();
            if opts.ci {
                fold_literal(&mut l);
            }
            // What `Fast::compile` and `keep_source` would find, without their walks.
            let fast = if l.is_ascii() {
                Fast::Exact(Words::of(l.as_bytes()))
            } else {
                Fast::General
            };
            let source = (l != s).then(|| s.into());
            let atoms = if l.is_empty() {
                Vec::new()
            } else {
                vec![Atom::Lit(l)]
            };
            let mut t = Template {
                fast,
                atoms,
                ci: opts.ci,
                source,
                filter: Prefilter::default(),
            };
            t.derive_filter();
            return t;
        }
        let mut atoms: Vec<Atom> = Vec::new();
        let mut lit = String::new();
        let push_lit = |lit: &mut String, atoms: &mut Vec<Atom>| {
            if !lit.is_empty() {
                atoms.push(Atom::Lit(std::mem::take(lit)));
            }
        };
        let mut rest = s;
        // The length of the run of ordinary characters at `rest`, when known: the first was
        // measured above, and a run ends where a special character starts.
        let mut known = Some(first);
        while let Some(c) = rest.chars().next() {
            // A run of ordinary characters is copied at once.
            let run = known.take().unwrap_or_else(|| special(rest));
            if run > 0 {
                lit.push_str(&rest[..run]);
                rest = &rest[run..];
                known = Some(0);
                continue;
            }
            if opts.variables && rest.starts_with("${") {
                if let Some(end) = rest.find('}') {
                    let inner = &rest[2..end];
                    match inner {
                        "*" | "?" | "$" => lit.push_str(inner),
                        _ if !inner.trim().is_empty() => {
                            push_lit(&mut lit, &mut atoms);
                            atoms.push(Atom::Var(Box::new(parse_var(inner))));
                        }
                        _ => lit.push_str(&rest[..=end]),
                    }
                    rest = &rest[end + 1..];
                    continue;
                }
            }
            match c {
                '*' if opts.wildcards => {
                    push_lit(&mut lit, &mut atoms);
                    // Consecutive stars are one star.
                    if atoms.last() != Some(&Atom::Star) {
                        atoms.push(Atom::Star);
                    }
                }
                '?' if opts.wildcards => {
                    push_lit(&mut lit, &mut atoms);
                    atoms.push(Atom::One);
                }
                c => lit.push(c),
            }
            rest = &rest[c.len_utf8()..];
        }
        push_lit(&mut lit, &mut atoms);
        let mut t = Template {
            atoms,
            ci: opts.ci,
            source: None,
            fast: Fast::General,
            filter: Prefilter::default(),
        };
        if opts.ci {
            for a in &mut t.atoms {
                if let Atom::Lit(l) = a {
                    fold_literal(l);
                }
            }
        }
        t.fast = Fast::compile(&t.atoms);
        t.derive_filter();
        t.keep_source(s);
        t
    }

    /// Set `filter` from `atoms` and `ci`.
    fn derive_filter(&mut self) {
        if !self.ci {
            self.filter = Prefilter::of_literal(self.lead());
        }
    }

    /// The resource prefilter ([`Prefilter`]).
    #[inline(always)]
    pub(crate) fn filter(&self) -> &Prefilter {
        &self.filter
    }

    /// Does the lower-cased ASCII action `text`, whose [`Words`] are `w`, match this
    /// case-insensitive template? Literals and literal-star prefixes compare as words;
    /// [`Template::matches_folded`] decides the rest.
    #[inline(always)]
    pub(crate) fn matches_action(&self, text: &str, w: &Words) -> bool {
        let t = text.as_bytes();
        match &self.fast {
            Fast::Any => true,
            Fast::Exact(lw) => *w == *lw && (w.len <= 16 || self.lead_is(t, w.len)),
            Fast::Prefix(lw) => {
                let n = lw.len;
                if t.len() < n {
                    false
                } else if n <= 8 {
                    // `lw.head` is zero past `n`; `w.head` holds the first `min(8, len)` bytes.
                    w.head & low_bytes(n) == lw.head
                } else {
                    self.lead_is(t, n)
                }
            }
            _ => self.matches_folded(text, true),
        }
    }

    /// Are the first `n` bytes of `t` the leading literal (of `n` bytes)? Out of line: actions
    /// and prefixes of more than eight bytes are the rarer case.
    #[inline(never)]
    fn lead_is(&self, t: &[u8], n: usize) -> bool {
        t.get(..n).is_some_and(|t| same(t, self.lead()))
    }

    /// The [`Words`] of the template when it is one ASCII literal (stored folded when
    /// case-insensitive).
    #[inline(always)]
    pub(crate) fn literal_words(&self) -> Option<&Words> {
        match &self.fast {
            Fast::Exact(w) => Some(w),
            _ => None,
        }
    }

    /// The leading literal's bytes (empty when the template starts otherwise).
    #[inline]
    fn lead(&self) -> &[u8] {
        match self.atoms.first() {
            Some(Atom::Lit(l)) => l.as_bytes(),
            _ => &[],
        }
    }

    /// Keep `s` as the source text unless it is what [`Template::source`] gives without it.
    fn keep_source(&mut self, s: &str) {
        self.source = None;
        if self.source() != s {
            self.source = Some(s.into());
        }
    }

    /// The policy text the template was compiled from.
    pub fn source(&self) -> &str {
        match (&self.source, self.atoms.as_slice()) {
            (Some(s), _) => s,
            (None, [Atom::Lit(l)]) => l,
            (None, _) => "",
        }
    }

    /// A template that is one literal.
    pub fn literal(s: &str) -> Template {
        let atoms = if s.is_empty() {
            vec![]
        } else {
            vec![Atom::Lit(s.to_string())]
        };
        let mut t = Template {
            fast: Fast::compile(&atoms),
            atoms,
            ci: false,
            source: None,
            filter: Prefilter::default(),
        };
        t.derive_filter();
        t.keep_source(
            &s.replace('$', "${$}")
                .replace('*', "${*}")
                .replace('?', "${?}"),
        );
        t
    }

    pub fn has_vars(&self) -> bool {
        self.atoms.iter().any(|a| matches!(a, Atom::Var(_)))
    }

    pub fn has_wildcards(&self) -> bool {
        self.atoms
            .iter()
            .any(|a| matches!(a, Atom::Star | Atom::One))
    }

    pub fn is_star(&self) -> bool {
        matches!(self.atoms.as_slice(), [Atom::Star])
    }

    /// Whether matching it costs more than comparing words: variables to resolve, `?`, or the
    /// general glob (the decision then tests a statement's simple conditions first).
    #[inline]
    pub(crate) fn is_costly(&self) -> bool {
        matches!(self.fast, Fast::Segments { .. } | Fast::General)
    }

    /// The literal text when there is no wildcard and no variable.
    pub fn as_literal(&self) -> Option<&str> {
        match self.atoms.as_slice() {
            [] => Some(""),
            [Atom::Lit(l)] => Some(l),
            _ => None,
        }
    }

    /// Does `text` match? `resolve` gives a variable's value (`None`: absent, then the default is
    /// used, and with no default the template matches nothing).
    #[inline]
    pub fn matches<'a, F>(&'a self, text: &str, resolve: &F) -> bool
    where
        F: Fn(&str) -> Option<&'a str>,
    {
        self.matches_with(text, &ByKey(resolve))
    }

    /// [`Template::matches`] with the variables' values from `resolve`.
    #[inline]
    pub fn matches_with<'a, R: Resolve<'a>>(&'a self, text: &str, resolve: &R) -> bool {
        if let Fast::Segments {
            pieces,
            ones: false,
            vars: [i, ..],
            nvars: 1,
        } = &self.fast
        {
            if !self.ci {
                // One variable, compared byte-wise (the common shape of a variable in an ARN).
                return match self.var_value(usize::from(*i), resolve) {
                    Some(x) => segments_glob::<false>(pieces, text.as_bytes(), &[x]),
                    None => false,
                };
            }
        }
        match self.fast.matches(&self.atoms, text.as_bytes(), self.ci) {
            Some(hit) => hit,
            None => self.matches_general(text, resolve),
        }
    }

    /// The value of the variable at `atoms[i]` (its default when absent); `None` when it has
    /// neither (the template then matches nothing) or `atoms[i]` is not a variable.
    #[inline(always)]
    fn var_value<'a, R: Resolve<'a>>(&'a self, i: usize, resolve: &R) -> Option<&'a str> {
        match self.atoms.get(i) {
            Some(Atom::Var(v)) => resolve.value(v).or(v.default.as_deref()),
            _ => None,
        }
    }

    /// [`Template::matches`] past the simple shapes: variables, and text the shapes do not take.
    fn matches_general<'a, R: Resolve<'a>>(&'a self, text: &str, resolve: &R) -> bool {
        let value = |v: &'a Var| resolve.value(v).or(v.default.as_deref());
        if let Fast::Segments {
            pieces,
            ones,
            vars,
            nvars,
        } = &self.fast
        {
            // Every variable must resolve, else nothing matches. Each is looked up once.
            let vars = vars.get(..usize::from(*nvars)).unwrap_or_default();
            let mut vals: [&str; MAX_VARS] = [""; MAX_VARS];
            for (slot, &i) in vals.iter_mut().zip(vars) {
                let Some(x) = self.var_value(usize::from(i), resolve) else {
                    return false;
                };
                *slot = x;
            }
            let vals = &vals[..vars.len().min(MAX_VARS)];
            if !self.ci && !ones {
                return segments_glob::<false>(pieces, text.as_bytes(), vals);
            }
            if text.is_ascii() && vals.iter().all(|v| v.is_ascii()) {
                return if self.ci {
                    segments_glob::<true>(pieces, text.as_bytes(), vals)
                } else {
                    segments_glob::<false>(pieces, text.as_bytes(), vals)
                };
            }
        }
        if !self.has_vars() {
            return glob(&self.atoms, text, self.ci, &|_| None);
        }
        // Every variable must resolve, else nothing matches. The first few are looked up once
        // (the glob reads a variable's value a character at a time).
        let mut vars: [*const Var; MAX_VARS] = [std::ptr::null(); MAX_VARS];
        let mut vals: [&str; MAX_VARS] = [""; MAX_VARS];
        let mut n = 0;
        for a in &self.atoms {
            if let Atom::Var(v) = a {
                let Some(x) = value(v) else {
                    return false;
                };
                if n < MAX_VARS {
                    (vars[n], vals[n]) = (&**v, x);
                    n += 1;
                }
            }
        }
        glob(&self.atoms, text, self.ci, &|v: &'a Var| {
            let cached = vars[..n].iter().position(|&p| std::ptr::eq(p, v));
            cached.map(|i| vals[i]).or_else(|| value(v))
        })
    }

    /// Does `text`, already folded by [`fold`] when the template is case-insensitive, match with
    /// no variables in play? `ascii`: `text.is_ascii()`, computed once by the caller. Folded ASCII
    /// text is lower-case already, so its bytes compare without folding.
    #[inline]
    pub fn matches_folded(&self, text: &str, ascii: bool) -> bool {
        if ascii {
            if let Some(hit) = self.fast.matches(&self.atoms, text.as_bytes(), false) {
                return hit;
            }
        }
        self.matches(text, &|_| None)
    }

    /// Does `text` match, with no variables in play (absent ones match nothing)?
    pub fn matches_plain(&self, text: &str) -> bool {
        self.matches(text, &|_| None)
    }

    /// The template in policy syntax, as it was written.
    pub fn to_policy_string(&self) -> String {
        self.source().to_string()
    }

    /// The template rebuilt from its atoms (escaping literal wildcards), for templates built in code.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for a in &self.atoms {
            match a {
                Atom::Lit(l) => {
                    // Re-escape what would otherwise read as a wildcard or a variable.
                    for c in l.chars() {
                        match c {
                            '*' => s.push_str("${*}"),
                            '?' => s.push_str("${?}"),
                            '$' => s.push_str("${$}"),
                            c => s.push(c),
                        }
                    }
                }
                Atom::One => s.push('?'),
                Atom::Star => s.push('*'),
                Atom::Var(v) => {
                    s.push_str("${");
                    s.push_str(&v.key);
                    if let Some(d) = &v.default {
                        s.push_str(", '");
                        s.push_str(d);
                        s.push('\'');
                    } else if matches!(v.key.as_str(), "*" | "?" | "$") {
                        // `${$}` is the escape of `$`; a variable named `$` (written `${$ }`, the
                        // key trimmed) keeps a space to stay a variable.
                        s.push(' ');
                    }
                    s.push('}');
                }
            }
        }
        s
    }
}

fn parse_var(inner: &str) -> Var {
    // `${key, 'default'}`: comma, space, single-quoted text (iam-semantics.md §5); otherwise the
    // whole text is the key (corpus/DECISIONS.md 17).
    let quoted = |d: &str| {
        let d = d.trim();
        (d.len() >= 2 && d.starts_with('\'') && d.ends_with('\''))
            .then(|| d[1..d.len() - 1].to_string())
    };
    let (key, default) = match inner
        .split_once(',')
        .and_then(|(k, d)| Some((k, quoted(d)?)))
    {
        Some((k, d)) => (k, Some(d)),
        None => (inner, None),
    };
    let key = key.trim().to_string();
    let key_lc = fold(&key);
    Var {
        id: crate::model::key_slot(&key_lc),
        key_lc,
        key,
        default,
    }
}

/// Case folding used for every case-insensitive comparison.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(&mut out, s);
    out
}

/// Append `s`, folded as [`fold`] folds it, to `out`.
#[inline]
pub fn fold_into(out: &mut String, s: &str) {
    if s.is_ascii() {
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
    } else {
        out.push_str(&s.to_lowercase());
    }
}

/// Fold a case-insensitive template's literal character by character, as matching folds the text
/// (`İ` must stay one character to match `İ`).
#[inline]
fn fold_literal(l: &mut String) {
    if l.is_ascii() {
        l.make_ascii_lowercase();
    } else {
        *l = l.chars().map(fold_char).collect();
    }
}

fn fold_char(c: char) -> char {
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

/// Position inside a list of atoms: atom index and byte offset inside that atom's text.
#[derive(Clone, Copy)]
struct Pos {
    atom: usize,
    off: usize,
}

enum Next {
    End,
    Star(Pos),
    One(Pos),
    Char(char, Pos),
}

fn next_atom<'a, F>(atoms: &'a [Atom], mut p: Pos, resolve: &F) -> Next
where
    F: Fn(&'a Var) -> Option<&'a str>,
{
    loop {
        let Some(a) = atoms.get(p.atom) else {
            return Next::End;
        };
        let text: &str = match a {
            Atom::Star => {
                return Next::Star(Pos {
                    atom: p.atom + 1,
                    off: 0,
                })
            }
            Atom::One => {
                return Next::One(Pos {
                    atom: p.atom + 1,
                    off: 0,
                })
            }
            Atom::Lit(l) => l,
            Atom::Var(v) => resolve(v).unwrap_or(""),
        };
        if let Some(c) = text.get(p.off..).and_then(|t| t.chars().next()) {
            return Next::Char(
                c,
                Pos {
                    atom: p.atom,
                    off: p.off + c.len_utf8(),
                },
            );
        }
        p = Pos {
            atom: p.atom + 1,
            off: 0,
        };
    }
}

/// Glob match over atoms: `*` any run, `?` one character, literals exact (or case-folded), a
/// character at a time. The compiled shapes ([`Fast`]) take every ASCII text with ASCII literals
/// and at most [`MAX_VARS`] variables; this serves the rest (non-ASCII, case-folded text).
fn glob<'a, F>(atoms: &'a [Atom], text: &str, ci: bool, resolve: &F) -> bool
where
    F: Fn(&'a Var) -> Option<&'a str>,
{
    // Fast paths for the common shapes.
    match atoms {
        [] => return text.is_empty(),
        [Atom::Star] => return true,
        [Atom::Lit(l)] if !ci => return l == text,
        _ => {}
    }
    let mut p = Pos { atom: 0, off: 0 };
    let mut t = 0usize;
    let mut backtrack: Option<(Pos, usize)> = None;
    loop {
        let tc = text.get(t..).and_then(|s| s.chars().next());
        match next_atom(atoms, p, resolve) {
            Next::Star(after) => {
                backtrack = Some((after, t));
                p = after;
                continue;
            }
            Next::One(after) => {
                if let Some(c) = tc {
                    p = after;
                    t += c.len_utf8();
                    continue;
                }
            }
            Next::Char(pc, after) => {
                if let Some(c) = tc {
                    // Substituted variable values are not folded at compile time: fold both sides.
                    let eq = if ci {
                        fold_char(c) == fold_char(pc)
                    } else {
                        c == pc
                    };
                    if eq {
                        p = after;
                        t += c.len_utf8();
                        continue;
                    }
                }
            }
            Next::End => {
                if tc.is_none() {
                    return true;
                }
            }
        }
        // Mismatch: let the last star swallow one more character.
        match backtrack {
            Some((sp, st)) => match text.get(st..).and_then(|s| s.chars().next()) {
                Some(c) => {
                    let st = st + c.len_utf8();
                    backtrack = Some((sp, st));
                    p = sp;
                    t = st;
                }
                None => return false,
            },
            None => return false,
        }
    }
}

/// Split an ARN into its six components at the first five colons (iam-semantics.md §3.3).
pub fn split_arn(s: &str) -> Option<[&str; 6]> {
    // The colon is ASCII, so every cut is on a character boundary.
    let mut cuts = [0usize; 5];
    let mut n = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b == b':' {
            cuts[n] = i;
            n += 1;
            if n == 5 {
                break;
            }
        }
    }
    if n < 5 {
        return None;
    }
    let [a, b, c, d, e] = cuts;
    Some([
        &s[..a],
        &s[a + 1..b],
        &s[b + 1..c],
        &s[c + 1..d],
        &s[d + 1..e],
        &s[e + 1..],
    ])
}

/// An ARN pattern for `ArnLike`/`ArnEquals`: six templates matched component by component.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArnTemplate {
    /// `None` when the policy value has fewer than six components: it matches nothing.
    pub parts: Option<Vec<Template>>,
    pub source: String,
}

impl ArnTemplate {
    pub fn new(s: &str, variables: bool) -> ArnTemplate {
        let opts = TemplateOpts {
            wildcards: true,
            variables,
            ci: false,
        };
        // Split at colons outside `${...}` (variable names contain colons).
        let mut parts = Vec::new();
        let mut start = 0;
        let mut depth = 0usize;
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if variables && bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
                depth += 1;
                i += 2;
                continue;
            }
            match bytes[i] {
                b'}' if depth > 0 => depth -= 1,
                b':' if depth == 0 && parts.len() < 5 => {
                    parts.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        parts.push(&s[start..]);
        ArnTemplate {
            parts: (parts.len() == 6)
                .then(|| parts.iter().map(|p| Template::new(p, opts)).collect()),
            source: s.to_string(),
        }
    }

    pub fn matches<'a, F>(&'a self, value: &str, resolve: &F) -> bool
    where
        F: Fn(&str) -> Option<&'a str>,
    {
        self.matches_with(value, &ByKey(resolve))
    }

    /// [`ArnTemplate::matches`] with the variables' values from `resolve`.
    pub fn matches_with<'a, R: Resolve<'a>>(&'a self, value: &str, resolve: &R) -> bool {
        let (Some(parts), Some(v)) = (&self.parts, split_arn(value)) else {
            return false;
        };
        parts
            .iter()
            .zip(v.iter())
            .all(|(t, s)| t.matches_with(s, resolve))
    }
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cidr {
    V4 { addr: u32, prefix: u8 },
    V6 { addr: u128, prefix: u8 },
}

impl Cidr {
    /// `10.0.0.0/8`, `2001:db8::/32`, or a bare address (`/32`, `/128`).
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        if let Ok(v4) = a.parse::<Ipv4Addr>() {
            let prefix = match p {
                Some(p) => p.parse::<u8>().ok().filter(|&p| p <= 32)?,
                None => 32,
            };
            let addr = u32::from(v4);
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            return Some(Cidr::V4 {
                addr: addr & mask,
                prefix,
            });
        }
        let v6 = a.parse::<Ipv6Addr>().ok()?;
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|&p| p <= 128)?,
            None => 128,
        };
        let addr = u128::from(v6);
        let mask = if prefix == 0 {
            0
        } else {
            u128::MAX << (128 - prefix)
        };
        Some(Cidr::V6 {
            addr: addr & mask,
            prefix,
        })
    }

    pub fn contains(&self, ip: &IpValue) -> bool {
        match (*self, *ip) {
            (Cidr::V4 { addr, prefix }, IpValue::V4(x)) => {
                let mask = if prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - prefix)
                };
                x & mask == addr
            }
            (Cidr::V6 { addr, prefix }, IpValue::V6(x)) => {
                let mask = if prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - prefix)
                };
                x & mask == addr
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Cidr::V4 { addr, prefix } => write!(f, "{}/{}", Ipv4Addr::from(addr), prefix),
            Cidr::V6 { addr, prefix } => write!(f, "{}/{}", Ipv6Addr::from(addr), prefix),
        }
    }
}

/// A request IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpValue {
    V4(u32),
    V6(u128),
}

impl IpValue {
    pub fn parse(s: &str) -> Option<IpValue> {
        if let Some(v4) = ipv4_dotted(s.as_bytes()) {
            return Some(IpValue::V4(v4));
        }
        let s = s.trim();
        // Accept a request value written as a one-address network too.
        let s = s
            .strip_suffix("/32")
            .or_else(|| s.strip_suffix("/128"))
            .unwrap_or(s);
        if let Some(v4) = ipv4_dotted(s.as_bytes()) {
            return Some(IpValue::V4(v4));
        }
        if let Ok(v4) = s.parse::<Ipv4Addr>() {
            return Some(IpValue::V4(u32::from(v4)));
        }
        s.parse::<Ipv6Addr>()
            .ok()
            .map(|v| IpValue::V6(u128::from(v)))
    }
}

/// The common IPv4 shape without the general parser: four dot-separated decimal octets of one to
/// three digits, no leading zero, each at most 255. `None` for anything else, which
/// `Ipv4Addr::from_str` then decides (it accepts everything this accepts, with the same value).
#[inline]
fn ipv4_dotted(s: &[u8]) -> Option<u32> {
    let mut addr = 0u32;
    let mut i = 0;
    for octet in 0..4 {
        if octet > 0 {
            if s.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v = 0u32;
        while let Some(&b) = s.get(i).filter(|b| b.is_ascii_digit()) {
            v = v * 10 + u32::from(b - b'0');
            i += 1;
            if i - start > 3 {
                return None;
            }
        }
        let n = i - start;
        if n == 0 || v > 255 || (n > 1 && s[start] == b'0') {
            return None;
        }
        addr = addr << 8 | v;
    }
    (i == s.len()).then_some(addr)
}

/// A decimal number for `Numeric*` operators.
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A date for `Date*` operators: ISO 8601 (W3C profile) or epoch seconds. Milliseconds since epoch.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok()?.checked_mul(1000);
    }
    if let Some(rest) = s.strip_prefix('-') {
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            return rest.parse::<i64>().ok()?.checked_mul(-1000);
        }
    }
    parse_iso8601(s)
}

fn digits(s: &str, n: usize) -> Option<(i64, &str)> {
    let d = s.get(..n)?;
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((d.parse().ok()?, &s[n..]))
}

/// W3C profile of ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm(:ss(.s+)?)?TZD.
fn parse_iso8601(s: &str) -> Option<i64> {
    let (year, mut r) = digits(s, 4)?;
    let (mut month, mut day) = (1, 1);
    let (mut h, mut mi, mut sec, mut ms) = (0, 0, 0, 0i64);
    let mut tz = 0i64;
    if let Some(x) = r.strip_prefix('-') {
        let (m, x) = digits(x, 2)?;
        month = m;
        r = x;
        if let Some(x) = r.strip_prefix('-') {
            let (d, x) = digits(x, 2)?;
            day = d;
            r = x;
            if let Some(x) = r.strip_prefix('T').or_else(|| r.strip_prefix('t')) {
                let (hh, x) = digits(x, 2)?;
                let x = x.strip_prefix(':')?;
                let (mm, x) = digits(x, 2)?;
                h = hh;
                mi = mm;
                r = x;
                if let Some(x) = r.strip_prefix(':') {
                    let (ss, x) = digits(x, 2)?;
                    sec = ss;
                    r = x;
                    if let Some(x) = r.strip_prefix('.') {
                        let n = x.bytes().take_while(|b| b.is_ascii_digit()).count();
                        if n == 0 {
                            return None;
                        }
                        let frac = &x[..n];
                        let mut v = 0i64;
                        for (i, b) in frac.bytes().take(3).enumerate() {
                            v += i64::from(b - b'0') * 10i64.pow(2 - i as u32);
                        }
                        ms = v;
                        r = &x[n..];
                    }
                }
                // Time zone designator.
                if let Some(x) = r.strip_prefix('Z').or_else(|| r.strip_prefix('z')) {
                    r = x;
                } else if let Some(sign) = r.chars().next().filter(|c| *c == '+' || *c == '-') {
                    let x = &r[1..];
                    let (th, x) = digits(x, 2)?;
                    let (tm, x) = match x.strip_prefix(':') {
                        Some(x) => digits(x, 2)?,
                        None => digits(x, 2).unwrap_or((0, x)),
                    };
                    tz = (th * 60 + tm) * if sign == '+' { 1 } else { -1 };
                    r = x;
                }
            }
        }
    }
    if !r.is_empty()
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || h > 24
        || mi > 59
        || sec > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86400 + h * 3600 + mi * 60 + sec - tz * 60;
    secs.checked_mul(1000)?.checked_add(ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Standard base64 (with or without padding) for `BinaryEquals`.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLOB: TemplateOpts = TemplateOpts {
        wildcards: true,
        variables: false,
        ci: false,
    };
    const GLOB_CI: TemplateOpts = TemplateOpts {
        wildcards: true,
        variables: false,
        ci: true,
    };
    const VARS: TemplateOpts = TemplateOpts {
        wildcards: true,
        variables: true,
        ci: false,
    };

    fn m(p: &str, t: &str) -> bool {
        Template::new(p, GLOB).matches_plain(t)
    }

    /// A pattern for [`naive`]: a star, a `?`, or a literal character.
    #[derive(Clone, Copy)]
    enum Tok {
        Star,
        One,
        Ch(char),
    }

    /// A policy string without variables as [`Tok`]s.
    fn toks(p: &str) -> Vec<Tok> {
        p.chars()
            .map(|c| match c {
                '*' => Tok::Star,
                '?' => Tok::One,
                c => Tok::Ch(c),
            })
            .collect()
    }

    /// The textbook recursive glob over characters, case-folded by `fold_char` when `ci`.
    fn naive(p: &[Tok], t: &[char], ci: bool) -> bool {
        let eq = |a: char, b: char| {
            if ci {
                fold_char(a) == fold_char(b)
            } else {
                a == b
            }
        };
        match p.split_first() {
            None => t.is_empty(),
            Some((Tok::Star, rest)) => (0..=t.len()).any(|k| naive(rest, &t[k..], ci)),
            Some((Tok::One, rest)) => !t.is_empty() && naive(rest, &t[1..], ci),
            Some((Tok::Ch(c), rest)) => {
                t.first().is_some_and(|&x| eq(*c, x)) && naive(rest, &t[1..], ci)
            }
        }
    }

    /// A xorshift generator: `next(n)` is in `0..n`.
    fn xorshift(mut x: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        }
    }

    /// A policy string with no wildcard and no variable gets the matcher and the kept source that
    /// compiling its atoms and keeping its source give (ASCII, mixed case, non-ASCII, the Kelvin
    /// sign that folds to ASCII, empty).
    #[test]
    fn one_literal_templates_are_compiled_as_the_general_path_compiles() {
        for text in [
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            "",
            "\u{212a}ey",
            "Ünïcode",
            "a*b",
            "x$y",
        ] {
            for ci in [false, true] {
                let opts = TemplateOpts {
                    wildcards: false,
                    variables: false,
                    ci,
                };
                let t = Template::new(text, opts);
                let mut want = t.clone();
                want.fast = Fast::compile(&want.atoms);
                want.keep_source(text);
                assert_eq!(t, want, "{text:?} ci {ci}");
                assert_eq!(t.source(), text);
            }
        }
    }

    /// The word-at-a-time scan for `*`, `?` and `$` stops where a byte-by-byte scan does, for
    /// every combination of flags, at every offset within and across words, next to bytes that
    /// differ from the stops by one bit and to non-ASCII text.
    #[test]
    fn special_at_stops_where_the_bytewise_scan_stops() {
        let alphabet: &[u8] = b"*?$abc\x2a\x3e\x24\x00\x7f\xc3\xa9+\x0a\x2b)#";
        let mut r = xorshift(0x5eed_cafe);
        for _ in 0..20_000 {
            let len = r(40) as usize;
            let s: Vec<u8> = (0..len)
                .map(|_| alphabet[r(alphabet.len() as u64) as usize])
                .collect();
            for (w, v) in [(false, false), (true, false), (false, true), (true, true)] {
                let want = s
                    .iter()
                    .position(|&b| (w && (b == b'*' || b == b'?')) || (v && b == b'$'))
                    .unwrap_or(s.len());
                assert_eq!(special_at(&s, w, v), want, "{s:?} {w} {v}");
            }
        }
    }

    #[test]
    fn compiled_shapes_agree_with_the_textbook_glob() {
        // Every shape (exact, prefix, suffix, prefix-suffix, pieces, segments, general), case-sensitive
        // and not, on ASCII and non-ASCII text, through `matches_plain` and `matches_folded`.
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        const P: &[char] = &['a', 'b', 'A', '*', '*', '?', 'é', ':'];
        const T: &[char] = &['a', 'b', 'B', 'A', 'é', 'É', ':'];
        for _ in 0..60_000 {
            let p: String = (0..next(7))
                .map(|_| P[next(P.len() as u64) as usize])
                .collect();
            let t: String = (0..next(9))
                .map(|_| T[next(T.len() as u64) as usize])
                .collect();
            let (pc, tc): (Vec<Tok>, Vec<char>) = (toks(&p), t.chars().collect());
            for (opts, ci) in [(GLOB, false), (GLOB_CI, true)] {
                let tmpl = Template::new(&p, opts);
                let want = naive(&pc, &tc, ci);
                assert_eq!(tmpl.matches_plain(&t), want, "{p:?} ~ {t:?} ci={ci}");
                if ci {
                    let f = fold(&t);
                    let fc: Vec<char> = f.chars().collect();
                    let want = naive(&pc, &fc, ci);
                    assert_eq!(tmpl.matches_folded(&f, f.is_ascii()), want, "{p:?} ~ {f:?}");
                }
            }
        }
    }

    #[test]
    fn variable_templates_agree_with_the_textbook_glob() {
        // `${v}` and `${w, 'd'}` among literals, `?` and stars; the value is literal text (its own
        // `*` is no wildcard), a missing variable without default matches nothing.
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        const P: &[&str] = &["a", "b", "B", "*", "*", "?", "${v}", "${w, 'd'}", "é"];
        const T: &[char] = &['a', 'b', 'B', 'd', '*', 'é'];
        const V: &[Option<&str>] = &[None, Some(""), Some("a"), Some("ab"), Some("*"), Some("é")];
        for _ in 0..60_000 {
            let toks: Vec<&str> = (0..next(8))
                .map(|_| P[next(P.len() as u64) as usize])
                .collect();
            let t: String = (0..next(8))
                .map(|_| T[next(T.len() as u64) as usize])
                .collect();
            let (v, w) = (
                V[next(V.len() as u64) as usize],
                V[next(V.len() as u64) as usize],
            );
            for (opts, ci) in [(VARS, false), (TemplateOpts { ci: true, ..VARS }, true)] {
                let tmpl = Template::new(&toks.concat(), opts);
                let resolve = |k: &str| match k {
                    "v" => v,
                    "w" => w,
                    _ => None,
                };
                let uses_v = toks.contains(&"${v}");
                let want = if uses_v && v.is_none() {
                    false
                } else {
                    // Substituted text is literal: compare it char by char, folded when `ci`.
                    let mut pat: Vec<Tok> = Vec::new();
                    for tok in &toks {
                        match *tok {
                            "*" => pat.push(Tok::Star),
                            "?" => pat.push(Tok::One),
                            "${v}" => pat.extend(v.unwrap_or("").chars().map(Tok::Ch)),
                            "${w, 'd'}" => pat.extend(w.unwrap_or("d").chars().map(Tok::Ch)),
                            l => pat.extend(l.chars().map(Tok::Ch)),
                        }
                    }
                    naive(&pat, &t.chars().collect::<Vec<_>>(), ci)
                };
                assert_eq!(
                    tmpl.matches(&t, &resolve),
                    want,
                    "{toks:?} ~ {t:?} v={v:?} w={w:?} ci={ci}"
                );
            }
        }
    }

    /// `find_byte` is the first position of the byte: at every offset of the words and the tail,
    /// with the byte repeated, absent, and next to bytes a borrow could flag (0x00, 0x80, 0xff).
    #[test]
    fn find_byte_is_the_first_position() {
        let mut next = xorshift(0x1234_5678_9abc_def1);
        let alphabet = [b'/', b'a', 0x00, 0x80, 0xff, b'.', 0x2e, 0x30];
        for _ in 0..20_000 {
            let n = next(40) as usize;
            let hay: Vec<u8> = (0..n)
                .map(|_| alphabet[next(alphabet.len() as u64) as usize])
                .collect();
            let b = alphabet[next(alphabet.len() as u64) as usize];
            assert_eq!(
                find_byte(&hay, b),
                hay.iter().position(|&c| c == b),
                "{hay:?} {b}"
            );
        }
    }

    #[test]
    fn same_is_slice_equality() {
        let base: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for n in 0..40usize {
            for m in [n, n.saturating_sub(1), n + 1] {
                let m = m.min(40);
                assert_eq!(same(&base[..n], &base[..m]), n == m);
                for k in 0..n {
                    let mut other = base[..n].to_vec();
                    other[k] ^= 0x20;
                    assert!(!same(&base[..n], &other), "{n} {k}");
                }
            }
        }
    }

    #[test]
    fn split_arn_cuts_at_the_first_five_colons() {
        for s in [
            "arn:aws:s3:::b/k:x",
            "a:b:c:d:e:f:g",
            ":::::",
            "a:b:c:d:e",
            "",
            "é:ü::::ß:",
        ] {
            let want: Option<Vec<&str>> = {
                let v: Vec<&str> = s.splitn(6, ':').collect();
                (v.len() == 6).then_some(v)
            };
            assert_eq!(split_arn(s).map(|a| a.to_vec()), want, "{s}");
        }
        assert_eq!(fold("AbC"), "abc");
        assert_eq!(fold("ÄB"), "äb");
    }

    #[test]
    fn a_variable_named_like_an_escape_renders_as_a_variable() {
        // Found by the `pattern` fuzz target (corpus/regressions/pattern/variable-named-dollar).
        for p in ["H?x${$\u{c}}", "${ * }", "a${? }b", "${$, 'd'}"] {
            let t = Template::new(p, VARS);
            assert!(t.has_vars(), "{p}");
            assert_eq!(Template::new(&t.render(), VARS).atoms, t.atoms, "{p}");
        }
        assert!(!Template::new("${$}", VARS).has_vars());
    }

    #[test]
    fn glob_table() {
        // (pattern, text, expected)
        let cases = [
            ("*", "", true),
            ("*", "anything:at/all", true),
            ("s3:Get*", "s3:GetObject", true),
            ("s3:Get?", "s3:GetObject", false),
            ("s3:Get?", "s3:Geta", true),
            ("a*b*c", "abc", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a**c", "abbbc", true),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/k/x", true),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b", false),
            ("", "", true),
            ("", "a", false),
            ("é?", "éü", true),
            ("*abc", "ababc", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(m(p, t), want, "{p:?} vs {t:?}");
        }
    }

    #[test]
    fn case_insensitive() {
        let t = Template::new("S3:getObject*", GLOB_CI);
        assert!(t.matches_plain("s3:getobjectversion"));
        assert!(!Template::new("s3:getObject", GLOB).matches_plain("s3:GetObject"));
    }

    #[test]
    fn variables_and_escapes() {
        let t = Template::new("home/${aws:username}/*", VARS);
        let ctx = |k: &str| (k == "aws:username").then_some("bob");
        assert!(t.matches("home/bob/x", &ctx));
        assert!(!t.matches("home/alice/x", &ctx));
        // absent, no default: nothing matches
        assert!(!t.matches("home//x", &|_| None));
        let d = Template::new("team-${aws:PrincipalTag/team, 'shared'}", VARS);
        assert!(d.matches("team-shared", &|_| None));
        assert!(d.matches("team-red", &|k| (k == "aws:principaltag/team")
            .then_some("red")));
        // substituted values are literals
        let star = |k: &str| (k == "aws:username").then_some("*");
        assert!(!t.matches("home/bob/x", &star));
        assert!(t.matches("home/*/x", &star));
        // escapes
        let e = Template::new("a${*}b${?}${$}", VARS);
        assert!(e.matches_plain("a*b?$"));
        assert!(!e.matches_plain("axb?$"));
        assert_eq!(e.to_policy_string(), "a${*}b${?}${$}");
        assert_eq!(e.render(), "a${*}b${?}${$}");
        assert_eq!(
            Template::new("x/${aws:username}/*", VARS).to_policy_string(),
            "x/${aws:username}/*"
        );
    }

    #[test]
    fn arn_per_component() {
        let p = ArnTemplate::new("arn:aws:someservice:*:111122223333:finance/*", false);
        let v = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt";
        assert!(!p.matches(v, &|_| None));
        assert!(
            Template::new("arn:aws:someservice:*:111122223333:finance/*", GLOB).matches_plain(v)
        );
        assert!(p.matches(
            "arn:aws:someservice:us-east-2:111122223333:finance/x:y",
            &|_| None
        ));
        assert!(!p.matches("arn:aws:someservice", &|_| None));
        let v = ArnTemplate::new("arn:aws:iam::111:user/${aws:username}", true);
        assert!(
            v.matches("arn:aws:iam::111:user/bob", &|k| (k == "aws:username")
                .then_some("bob"))
        );
        assert!(ArnTemplate::new("too:few", false).parts.is_none());
    }

    #[test]
    fn ipv4_dotted_agrees_with_std() {
        for s in [
            "10.1.2.3",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.4 ",
            "1..2.3",
            "1.2.3.1000",
            "1.2.3.a",
            "",
            ".1.2.3",
            "192.168.000.1",
            "9.99.199.249",
        ] {
            let fast = ipv4_dotted(s.as_bytes());
            let std = s.parse::<Ipv4Addr>().ok().map(u32::from);
            assert!(fast.is_none() || fast == std, "{s}: {fast:?} vs {std:?}");
        }
        // Random strings over digits and dots: wherever the fast path answers, std agrees.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut answered = 0;
        for _ in 0..200_000 {
            let mut t = String::new();
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            for _ in 0..(x >> 60) + 3 {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                t.push(b"0123456789.25.0."[(x >> 59) as usize % 16] as char);
            }
            let fast = ipv4_dotted(t.as_bytes());
            answered += usize::from(fast.is_some());
            let std = t.parse::<Ipv4Addr>().ok().map(u32::from);
            assert!(fast.is_none() || fast == std, "{t}: {fast:?} vs {std:?}");
        }
        assert!(
            answered > 100,
            "the sample hardly exercises the fast path: {answered}"
        );
        assert_eq!(ipv4_dotted(b"10.1.2.3"), Some(0x0a01_0203));
        assert_eq!(ipv4_dotted(b"255.0.0.9"), Some(0xff00_0009));
        assert_eq!(ipv4_dotted(b"256.0.0.9"), None);
    }

    #[test]
    fn cidrs_dates_numbers_base64() {
        let c = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(c.contains(&IpValue::parse("10.1.2.3").unwrap()));
        assert!(!c.contains(&IpValue::parse("10.2.0.1").unwrap()));
        let one = Cidr::parse("192.0.2.7").unwrap();
        assert!(one.contains(&IpValue::parse("192.0.2.7").unwrap()));
        assert!(!one.contains(&IpValue::parse("192.0.2.8").unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(&IpValue::parse("2001:db8:1::1").unwrap()));
        assert!(!v6.contains(&IpValue::parse("10.0.0.1").unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert_eq!(parse_date("1970-01-02T00:00:00Z"), Some(86_400_000));
        assert_eq!(parse_date("86400"), Some(86_400_000));
        assert_eq!(
            parse_date("2020-01-01T01:00:00+01:00"),
            parse_date("2020-01-01T00:00:00Z")
        );
        assert_eq!(parse_date("2020-01-01"), parse_date("2020-01-01T00:00:00Z"));
        assert!(parse_date("2020-13-01").is_none());
        assert!(parse_date("yesterday").is_none());
        assert_eq!(parse_number("3.5"), Some(3.5));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("aGk").unwrap(), b"hi");
        assert!(decode_base64("a$").is_none());
    }
}
