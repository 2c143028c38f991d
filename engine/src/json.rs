//! A small JSON reader that keeps where every value came from.
//!
//! `serde_json` gives positions only for its own syntax errors; xverify must also say where a
//! *semantic* problem sits (`policy.json:14: Statement[2].Condition: unknown operator ...`), keep
//! every duplicate key (AWS rejects duplicates; a `Map` would silently keep the last) and refuse
//! absurd nesting without blowing the stack. This reader does exactly that and nothing more.

use std::borrow::Cow;
use std::fmt::Write as _;

/// A byte range into the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// A JSON value with its span. Strings and numbers borrow from the source text (`'a`); a string
/// is owned only when it holds an escape. [`Json::into_owned`] detaches a value from its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Json<'a> {
    pub value: JsonValue<'a>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonValue<'a> {
    Null,
    Bool(bool),
    /// The number exactly as written (AWS treats condition numbers as text).
    Number(Cow<'a, str>),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// Members in source order, duplicates kept.
    Object(Vec<(Key<'a>, Json<'a>)>),
    /// A value [`Json::parse_lazy`] was told it knows: its text, valid JSON at its depth, left
    /// unread. [`Json::parse`] never gives one.
    Raw(Cow<'a, str>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key<'a> {
    pub name: Cow<'a, str>,
    pub span: Span,
}

impl Key<'_> {
    /// The key with its name copied out of the source text.
    pub fn into_owned(self) -> Key<'static> {
        Key {
            name: Cow::Owned(self.name.into_owned()),
            span: self.span,
        }
    }
}

impl JsonValue<'_> {
    /// The value with every string copied out of the source text.
    pub fn into_owned(self) -> JsonValue<'static> {
        match self {
            JsonValue::Null => JsonValue::Null,
            JsonValue::Bool(b) => JsonValue::Bool(b),
            JsonValue::Number(n) => JsonValue::Number(Cow::Owned(n.into_owned())),
            JsonValue::String(s) => JsonValue::String(Cow::Owned(s.into_owned())),
            JsonValue::Array(items) => {
                JsonValue::Array(items.into_iter().map(Json::into_owned).collect())
            }
            JsonValue::Object(members) => JsonValue::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
            ),
            JsonValue::Raw(t) => JsonValue::Raw(Cow::Owned(t.into_owned())),
        }
    }
}

/// A syntax error: byte offset and message. Shown as `invalid JSON: MESSAGE`, as every reader
/// of a document reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON: {message}")]
pub struct JsonError {
    pub offset: usize,
    pub message: String,
}

impl JsonError {
    /// Where it is, as an empty span.
    pub fn span(&self) -> Span {
        Span {
            start: self.offset,
            end: self.offset,
        }
    }
}

/// Deepest nesting accepted. AWS documents are at most five or six levels deep.
pub const MAX_DEPTH: usize = 64;

/// What [`Json::parse_lazy`] asks its caller about the values under a top-level member.
pub trait Known {
    /// The depth (1: the member's value, 2: the items of an array there, and so on) at which
    /// the values under member `top` may be known; `None`: none are.
    fn depth_under(&self, top: &str) -> Option<usize>;

    /// Whether `text`, a value at the depth [`Known::depth_under`] gave for `top`, is known to
    /// be valid JSON there and is to be left unread ([`JsonValue::Raw`]).
    fn knows(&mut self, top: &str, text: &str) -> bool;
}

impl<'a> Json<'a> {
    /// Parse one JSON text; trailing non-whitespace is an error.
    pub fn parse(src: &'a str) -> Result<Json<'a>, JsonError> {
        Json::parse_with(src, None)
    }

    /// [`Json::parse`], leaving unread the values under a top-level object's members (at the
    /// depth [`Known::depth_under`] gives) whose text `known` says it knows. A text known
    /// to be valid JSON at its depth is what [`Json::parse`] would read without error, to the
    /// same end: the result is [`Json::parse`]'s, errors included, but for the values left as
    /// [`JsonValue::Raw`]. Read one later with [`Json::parse_at`].
    pub fn parse_lazy(src: &'a str, known: &mut dyn Known) -> Result<Json<'a>, JsonError> {
        Json::parse_with(src, Some(known))
    }

    fn parse_with(src: &'a str, lazy: Option<&mut dyn Known>) -> Result<Json<'a>, JsonError> {
        // A UTF-8 byte-order mark before the text (Windows editors write one) is ignored, as RFC
        // 8259 §8.1 allows; anywhere else it is an error.
        let start = if src.starts_with('\u{feff}') { 3 } else { 0 };
        let mut p = Parser::new(src, start);
        p.lazy = lazy;
        p.skip_ws();
        let v = p.value(0)?;
        p.skip_ws();
        if p.pos != p.src.len() {
            return Err(p.err("unexpected text after the JSON value"));
        }
        Ok(v)
    }

    /// The value that starts at byte `start` of `src`, read as [`Json::parse`] reads it at
    /// `depth` (spans count from the start of `src`; the text after the value is not looked at).
    pub fn parse_at(src: &'a str, start: usize, depth: usize) -> Result<Json<'a>, JsonError> {
        Parser::new(src, start).value(depth)
    }

    /// The value with every string copied out of the source text, so that it can outlive it.
    pub fn into_owned(self) -> Json<'static> {
        Json {
            value: self.value.into_owned(),
            span: self.span,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self.value {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "a boolean",
            JsonValue::Number(_) => "a number",
            JsonValue::String(_) => "a string",
            JsonValue::Array(_) => "an array",
            JsonValue::Object(_) => "an object",
            JsonValue::Raw(_) => "a JSON value",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            JsonValue::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(Key<'a>, Json<'a>)]> {
        match &self.value {
            JsonValue::Object(m) => Some(m),
            _ => None,
        }
    }

    /// First member named `name` (exact spelling).
    pub fn get(&self, name: &str) -> Option<&Json<'a>> {
        self.as_object()?
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(_, v)| v)
    }

    /// Serialise back to compact JSON.
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match &self.value {
            JsonValue::Null => out.push_str("null"),
            JsonValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JsonValue::Number(n) => out.push_str(n),
            JsonValue::String(s) => write_str(out, s),
            JsonValue::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            JsonValue::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, &k.name);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
            JsonValue::Raw(t) => match Json::parse(t) {
                Ok(v) => v.write(out),
                Err(_) => out.push_str(t),
            },
        }
    }
}

/// Length of the run of bytes at the start of `rest` that a JSON string holds as they are (up to
/// a quote, a backslash or a control character, or the end).
#[inline]
fn plain_len(rest: &[u8]) -> usize {
    // Eight bytes at a time, as one little-endian word: the lowest flagged byte is the first
    // stop (bits above it may be flagged wrongly, by a borrow, but never one below).
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let stops = |x: u64| {
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | x.wrapping_sub(ONES * 0x20) & !x)
            & HIGH
    };
    let mut i = 0;
    while let Some(word) = rest.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let m = stops(u64::from_le_bytes(*word));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    // The last few bytes, padded with a control character (a stop) to a word.
    let mut word = [0u8; 8];
    let tail = rest.get(i..).unwrap_or(&[]);
    word[..tail.len()].copy_from_slice(tail);
    let m = stops(u64::from_le_bytes(word));
    i + (m.trailing_zeros() / 8) as usize
}

/// Append the JSON escape of `c`, or `c` itself when it needs none.
fn write_escaped(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x20 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => out.push(c),
    }
}

/// Append `s` as a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut rest = s;
    loop {
        // Runs that need no escape are copied at once (they end at an ASCII byte: a char boundary).
        let run = plain_len(rest.as_bytes());
        out.push_str(&rest[..run]);
        rest = &rest[run..];
        let Some(c) = rest.chars().next() else {
            break;
        };
        rest = &rest[c.len_utf8()..];
        write_escaped(out, c);
    }
    out.push('"');
}

/// Append `i` in decimal, as `{i}` formats it, without the formatting machinery (paths and
/// `xverify eval`'s output lines write one or more per element).
pub fn write_decimal(out: &mut String, mut i: usize) {
    let mut digits = [0u8; 20];
    let mut n = digits.len();
    loop {
        n -= 1;
        digits[n] = b'0' + (i % 10) as u8;
        i /= 10;
        if i == 0 {
            break;
        }
    }
    for &d in &digits[n..] {
        out.push(char::from(d));
    }
}

/// `s` as a JSON string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_str(&mut out, s);
    out
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = src.get(..offset).unwrap_or(src);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before, |i| before.get(i + 1..).unwrap_or(""))
        .chars()
        .count()
        + 1;
    (line, col)
}

/// Where the value at the start of `b` ends, when it is valid JSON (otherwise some offset, or
/// `None`): strings are skipped to their closing quote, brackets counted. Not a check of the
/// text: [`Json::parse_lazy`] passes on what it finds to a caller who compares it with texts it
/// knows to be valid.
fn value_end(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    let mut open = 0usize;
    loop {
        match *b.get(i)? {
            b'"' => {
                i += 1;
                loop {
                    i += plain_len(b.get(i..)?);
                    match *b.get(i)? {
                        b'"' => break,
                        b'\\' => i += 2,
                        // A control character: not valid JSON.
                        _ => return None,
                    }
                }
            }
            b'[' | b'{' => open += 1,
            b']' | b'}' => open = open.checked_sub(1)?,
            _ => {}
        }
        i += 1;
        if open == 0 {
            return Some(i);
        }
    }
}

struct Parser<'a, 'h> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    /// Elements of the arrays being read, innermost last: each array takes its own off the top
    /// when it closes, so that its `Vec` is allocated once, at its exact length.
    items: Vec<Json<'a>>,
    /// The same for the members of the objects being read.
    members: Vec<(Key<'a>, Json<'a>)>,
    /// [`Json::parse_lazy`]'s caller.
    lazy: Option<&'h mut dyn Known>,
    /// The top-level member being read (`""` when its key holds an escape).
    top: &'a str,
    /// The depth at which its values may be known (0: none).
    lazy_at: usize,
}

impl<'a, 'h> Parser<'a, 'h> {
    /// A parser at byte `pos` of `src`, asking no [`Known`].
    fn new(src: &'a str, pos: usize) -> Parser<'a, 'h> {
        Parser {
            src: src.as_bytes(),
            text: src,
            pos,
            // Room for a case line's open containers, so that the stacks seldom grow.
            items: Vec::with_capacity(32),
            members: Vec::with_capacity(32),
            lazy: None,
            top: "",
            lazy_at: 0,
        }
    }

    fn err(&self, msg: &str) -> JsonError {
        JsonError {
            offset: self.pos,
            message: msg.to_string(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("JSON nested too deeply"));
        }
        let start = self.pos;
        let value = match self.peek() {
            None => return Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => JsonValue::String(self.string()?),
            Some(b't') => self.literal("true", JsonValue::Bool(true))?,
            Some(b'f') => self.literal("false", JsonValue::Bool(false))?,
            Some(b'n') => self.literal("null", JsonValue::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.err("expected a JSON value")),
        };
        Ok(Json {
            value,
            span: Span {
                start,
                end: self.pos,
            },
        })
    }

    /// An array's item or an object's member value: a string read here, without the call
    /// (most are strings), anything else by [`Parser::value`].
    #[inline(always)]
    fn item(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        if self.peek() != Some(b'"') || depth > MAX_DEPTH {
            return self.value(depth);
        }
        let start = self.pos;
        let s = self.string()?;
        Ok(Json {
            value: JsonValue::String(s),
            span: Span {
                start,
                end: self.pos,
            },
        })
    }

    /// The value at the cursor left unread, when [`Json::parse_lazy`]'s caller knows its text
    /// (only an array or object, or a string, at the depth it asked for).
    #[inline(always)]
    fn known(&mut self, depth: usize) -> Option<Json<'a>> {
        if depth != self.lazy_at {
            return None;
        }
        self.known_slow()
    }

    #[inline(never)]
    fn known_slow(&mut self) -> Option<Json<'a>> {
        let start = self.pos;
        if !matches!(self.peek(), Some(b'{' | b'[' | b'"')) {
            return None;
        }
        let end = start + value_end(self.src.get(start..)?)?;
        let text: &'a str = self.text.get(start..end)?;
        let top = self.top;
        if !self.lazy.as_mut()?.knows(top, text) {
            return None;
        }
        self.pos = end;
        Some(Json {
            value: JsonValue::Raw(Cow::Borrowed(text)),
            span: Span { start, end },
        })
    }

    fn literal(&mut self, word: &str, v: JsonValue<'a>) -> Result<JsonValue<'a>, JsonError> {
        if self.src[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.err("expected a JSON value"))
        }
    }

    fn number(&mut self) -> Result<JsonValue<'a>, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.pos += 1;
                }
            }
            _ => return Err(self.err("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
        }
        Ok(JsonValue::Number(Cow::Borrowed(
            &self.text[start..self.pos],
        )))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("invalid \\u escape")),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    /// Length of the run of plain string bytes at the cursor (up to a quote, a backslash or a
    /// control character, or the end of the input).
    fn plain_run(&self) -> usize {
        plain_len(self.src.get(self.pos..).unwrap_or(&[]))
    }

    /// A string at the cursor. Inline, for the common case: no escape, so the string is a slice
    /// of the source; [`Parser::string_rest`] reads the rest.
    #[inline(always)]
    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        // INVARIANT: called with self.peek() == Some(b'"').
        self.pos += 1;
        let start = self.pos;
        self.pos += self.plain_run();
        if self.peek() == Some(b'"') {
            self.pos += 1;
            // Input is &str and we stop only at ASCII bytes, so this slice is on char boundaries.
            let text: &'a str = self.text;
            return Ok(Cow::Borrowed(&text[start..self.pos - 1]));
        }
        self.string_rest(start)
    }

    /// The string begun at `start`, the cursor at a byte that is not plain: an escape, a control
    /// character or the end of the input.
    #[inline(never)]
    fn string_rest(&mut self, start: usize) -> Result<Cow<'a, str>, JsonError> {
        let text: &'a str = self.text;
        match self.peek() {
            None => return Err(self.err("unterminated string")),
            Some(b'\\') => {}
            Some(_) => return Err(self.err("control character in string")),
        }
        let mut out = String::from(&text[start..self.pos]);
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.pos += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if self.src[self.pos..].starts_with(b"\\u") {
                                    self.pos += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return Err(self.err("invalid surrogate pair"));
                                    }
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                } else {
                                    return Err(self.err("lone surrogate in \\u escape"));
                                }
                            } else {
                                hi
                            };
                            let ch =
                                char::from_u32(cp).ok_or_else(|| self.err("invalid \\u escape"))?;
                            out.push(ch);
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("invalid escape in string"));
                        }
                    }
                }
                Some(_) => return Err(self.err("control character in string")),
            }
            let run_start = self.pos;
            self.pos += self.plain_run();
            out.push_str(&text[run_start..self.pos]);
        }
    }

    fn array(&mut self, depth: usize) -> Result<JsonValue<'a>, JsonError> {
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(JsonValue::Array(Vec::new()));
        }
        let base = self.items.len();
        loop {
            self.skip_ws();
            let v = match self.known(depth + 1) {
                Some(v) => v,
                None => self.item(depth + 1)?,
            };
            self.items.push(v);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(JsonValue::Array(self.items.split_off(base)));
                }
                _ => return Err(self.err("expected ',' or ']' in array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonValue<'a>, JsonError> {
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(JsonValue::Object(Vec::new()));
        }
        let base = self.members.len();
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a string key in object"));
            }
            let kstart = self.pos;
            let name = self.string()?;
            let key = Key {
                name,
                span: Span {
                    start: kstart,
                    end: self.pos,
                },
            };
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':' after object key"));
            }
            self.pos += 1;
            self.skip_ws();
            if depth == 0 {
                if let Some(lazy) = &self.lazy {
                    self.top = match &key.name {
                        Cow::Borrowed(t) => t,
                        Cow::Owned(_) => "",
                    };
                    self.lazy_at = lazy.depth_under(self.top).unwrap_or(0);
                }
            }
            let v = match self.known(depth + 1) {
                Some(v) => v,
                None => self.item(depth + 1)?,
            };
            self.members.push((key, v));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(JsonValue::Object(self.members.split_off(base)));
                }
                _ => return Err(self.err("expected ',' or '}' in object")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_keeps_spans_and_duplicates() {
        let src = "{\"a\": [1, \"x\\u00e9\"],\n \"a\": true}";
        let j = Json::parse(src).unwrap();
        let m = j.as_object().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0.name, "a");
        assert_eq!(m[1].0.name, "a");
        assert_eq!(line_col(src, m[1].0.span.start), (2, 2));
        match &m[0].1.value {
            JsonValue::Array(items) => {
                assert_eq!(items[0].value, JsonValue::Number("1".into()));
                assert_eq!(items[1].value, JsonValue::String("xé".into()));
                assert_eq!(&src[items[1].span.start..items[1].span.end], "\"x\\u00e9\"");
            }
            _ => panic!("not an array"),
        }
    }

    #[test]
    fn rejects_bad_syntax_with_offset() {
        let e = Json::parse("{\"a\" 1}").unwrap_err();
        assert_eq!(e.offset, 5);
        assert_eq!(e.message, "expected ':' after object key");
        assert!(Json::parse("[1,]").is_err());
        assert!(Json::parse("01").is_err());
        assert!(Json::parse("\"\\ud800\"").is_err());
        assert!(Json::parse("{} x").is_err());
        let deep = "[".repeat(MAX_DEPTH + 2);
        assert_eq!(
            Json::parse(&deep).unwrap_err().message,
            "JSON nested too deeply"
        );
        // The limit holds for every kind of value at the deepest level, strings included (an
        // array's or object's string is read without the call that checks the depth).
        let nest = |n: usize, inner: &str| format!("{}{inner}{}", "[".repeat(n), "]".repeat(n));
        for inner in ["\"s\"", "1", "[]", "\"\\n\""] {
            assert!(Json::parse(&nest(MAX_DEPTH, inner)).is_ok(), "{inner}");
            let e = Json::parse(&nest(MAX_DEPTH + 1, inner)).unwrap_err();
            assert_eq!(e.message, "JSON nested too deeply", "{inner}");
        }
        let member = format!(
            "{}{{\"k\": \"v\"}}{}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(Json::parse(&member).is_ok());
        let member = format!(
            "{}{{\"k\": \"v\"}}{}",
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        assert!(Json::parse(&member).is_err());
    }

    /// A UTF-8 byte-order mark before the text is ignored (RFC 8259 §8.1; audit 9: a file saved
    /// by a Windows editor was "invalid JSON"); spans still count from the start of the source,
    /// and a mark anywhere else is an error.
    #[test]
    fn a_leading_byte_order_mark_is_ignored() {
        let src = "\u{feff}{\"a\": 1}";
        let j = Json::parse(src).unwrap();
        assert_eq!(
            j.span,
            Span {
                start: 3,
                end: src.len()
            }
        );
        assert_eq!(j.get("a").map(|v| v.span.start), Some(9));
        assert_eq!(
            Json::parse_lazy(src, &mut NoneKnown).unwrap(),
            Json::parse(src).unwrap()
        );
        for bad in [
            "{\"a\": \u{feff}1}",
            "{\"a\": 1}\u{feff}",
            "\u{feff}\u{feff}{}",
            "\u{feff}",
        ] {
            assert!(Json::parse(bad).is_err(), "{bad:?}");
        }
    }

    struct NoneKnown;
    impl Known for NoneKnown {
        fn depth_under(&self, _: &str) -> Option<usize> {
            None
        }
        fn knows(&mut self, _: &str, _: &str) -> bool {
            false
        }
    }

    /// `write_decimal` writes what `{}` writes: one digit, carries, zeros inside, the largest.
    #[test]
    fn decimals_are_written_as_format_writes_them() {
        let mut n = 1usize;
        let mut cases = vec![0, 7, 9, 10, 100, 1009, usize::MAX, usize::MAX / 10];
        while let Some(m) = n.checked_mul(3) {
            cases.extend([n - 1, n, n + 1]);
            n = m;
        }
        for n in cases {
            let mut out = String::from("x");
            write_decimal(&mut out, n);
            assert_eq!(out, format!("x{n}"));
        }
    }

    #[test]
    fn strings_borrow_the_source_unless_escaped() {
        let src = r#"{"k": ["plain", "a\nb", "", "\u00e9x", "tail\\"], "n": -1.5e3}"#;
        let j = Json::parse(src).unwrap();
        let (k, v) = &j.as_object().unwrap()[0];
        assert!(matches!(k.name, Cow::Borrowed("k")));
        let JsonValue::Array(items) = &v.value else {
            panic!("not an array")
        };
        let strs: Vec<&Cow<'_, str>> = items
            .iter()
            .map(|it| match &it.value {
                JsonValue::String(s) => s,
                _ => panic!("not a string"),
            })
            .collect();
        assert!(matches!(strs[0], Cow::Borrowed("plain")));
        assert!(matches!(strs[1], Cow::Owned(s) if s == "a\nb"));
        assert!(matches!(strs[2], Cow::Borrowed("")));
        assert!(matches!(strs[3], Cow::Owned(s) if s == "éx"));
        assert!(matches!(strs[4], Cow::Owned(s) if s == "tail\\"));
        assert_eq!(
            j.get("n").unwrap().value,
            JsonValue::Number(Cow::Borrowed("-1.5e3"))
        );
        let owned: Json<'static> = j.clone().into_owned();
        assert_eq!(owned, j);
        assert_eq!(owned.to_json_string(), j.to_json_string());
    }

    #[test]
    fn nested_values_keep_their_order_and_spans() {
        let src = r#"{"a":[1,[2,{"b":[],"c":{}}],{"d":[true,null]}],"e":{"f":["x",["y"]]},"a":0}"#;
        let j = Json::parse(src).unwrap();
        assert_eq!(j.to_json_string(), src);
        let m = j.as_object().unwrap();
        assert_eq!(m.len(), 3);
        for (k, v) in m {
            assert_eq!(&src[k.span.start..k.span.end], quote(&k.name));
            assert_eq!(&src[v.span.start..v.span.end], v.to_json_string());
        }
    }

    /// The run of plain string bytes, one byte at a time.
    fn plain_run_bytewise(s: &[u8]) -> usize {
        s.iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .unwrap_or(s.len())
    }

    #[test]
    fn plain_run_stops_where_the_bytewise_scan_stops() {
        let fillers = [
            "a",
            " ",
            "\u{7f}",
            "é",
            "\u{20ac}",
            "~",
            "!",
            "#",
            "]",
            "\u{10348}",
        ];
        let stops = ["\"", "\\", "\u{0}", "\n", "\u{1f}", "\t"];
        for len in 0..27 {
            for f in fillers {
                let base: String = f.repeat(len);
                let run = |text: &str| Parser::new(text, 0).plain_run();
                assert_eq!(run(&base), base.len(), "{base:?}");
                let chars: Vec<(usize, char)> = base.char_indices().collect();
                for (at, _) in chars.iter().copied().chain([(base.len(), ' ')]) {
                    for stop in stops {
                        let mut t = base.clone();
                        t.insert_str(at, stop);
                        t.push_str(stop);
                        assert_eq!(run(&t), plain_run_bytewise(t.as_bytes()), "{t:?}");
                        assert_eq!(run(&t), at, "{t:?}");
                    }
                }
            }
        }
        // From a position inside the text, as the parser calls it.
        let t = "xx\"abcdefghijklmnopqrstu\\v\"";
        assert_eq!(Parser::new(t, 3).plain_run(), 21);
    }

    #[test]
    fn round_trips_strings() {
        let s = "a\"b\\c\n\u{1}é";
        let q = quote(s);
        assert_eq!(Json::parse(&q).unwrap().value, JsonValue::String(s.into()));
    }

    /// `write_str` (runs copied whole) writes what escaping every character writes, on strings
    /// with escapes and multi-byte characters at every offset around the eight-byte words.
    #[test]
    fn write_str_escapes_as_the_character_loop_does() {
        let reference = |s: &str| {
            let mut out = String::from('"');
            for c in s.chars() {
                write_escaped(&mut out, c);
            }
            out.push('"');
            out
        };
        let pieces = [
            "a", "\"", "\\", "\n", "\u{1}", "\u{7f}", "é", "€", "\t", "bcdefgh", "\r",
        ];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..5_000 {
            let mut s = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut y = x;
            for _ in 0..(x % 23) {
                s.push_str(pieces[(y % pieces.len() as u64) as usize]);
                y = y.rotate_right(5) ^ 0x9e37;
            }
            assert_eq!(quote(&s), reference(&s), "{s:?}");
        }
    }

    /// Knows every text that reads without error at its depth, under members `p` (depth 1),
    /// `q` (2) and `r` (3).
    struct Oracle(usize);

    impl Known for Oracle {
        fn depth_under(&self, top: &str) -> Option<usize> {
            match top {
                "p" => Some(1),
                "q" => Some(2),
                "r" => Some(3),
                _ => None,
            }
        }

        fn knows(&mut self, top: &str, text: &str) -> bool {
            let depth = self.depth_under(top).unwrap_or(0);
            let ok = Json::parse_at(text, 0, depth).is_ok_and(|v| v.span.end == text.len());
            self.0 += usize::from(ok);
            ok
        }
    }

    /// `j` with each `Raw` value read where it stands (at `depth`).
    fn expand<'a>(j: Json<'a>, src: &'a str, depth: usize) -> Json<'a> {
        let value = match j.value {
            JsonValue::Raw(_) => return Json::parse_at(src, j.span.start, depth).unwrap(),
            JsonValue::Array(items) => JsonValue::Array(
                items
                    .into_iter()
                    .map(|v| expand(v, src, depth + 1))
                    .collect(),
            ),
            JsonValue::Object(members) => JsonValue::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k, expand(v, src, depth + 1)))
                    .collect(),
            ),
            v => v,
        };
        Json {
            value,
            span: j.span,
        }
    }

    /// `parse_lazy` reads what `parse` reads, to the same first error, but for the values its
    /// caller knows, left as `Raw` where they stand (read there, they are `parse`'s): on every
    /// prefix of a text, every one-byte deletion, and every byte replaced by each of the bytes
    /// that make or break JSON; with strings holding brackets and escaped quotes, and a known
    /// text nested to the depth limit where it stands and one past it.
    #[test]
    fn lazy_parse_reads_as_parse_but_for_the_values_known() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let bases = [
            r#"{"p": {"a": [1, "x\"]"]}, "q": [{"b": "}"}, "s\u00e9", [2], 3], "r": [[{"c": {}}], [], {"d": [1]}], "s": {"e": 1}, "\u0070": {"f": 1}}"#.to_string(),
            format!(r#"{{"r": [[{}]], "q": [{}]}}"#, deep(MAX_DEPTH - 3), deep(MAX_DEPTH - 2)),
            format!(r#"{{"r": [[{}]], "q": [{}]}}"#, deep(MAX_DEPTH - 2), deep(MAX_DEPTH - 1)),
        ];
        let mut known = 0;
        for base in &bases {
            let b = base.as_bytes();
            let mut texts: Vec<Vec<u8>> = vec![b.to_vec()];
            for i in 0..b.len() {
                texts.push(b[..i].to_vec());
                let mut t = b.to_vec();
                t.remove(i);
                texts.push(t);
                for c in *b"{}[]\",:\\ 1" {
                    let mut t = b.to_vec();
                    t[i] = c;
                    texts.push(t);
                }
            }
            for t in texts {
                let Ok(t) = String::from_utf8(t) else {
                    continue;
                };
                let mut oracle = Oracle(0);
                let lazy = Json::parse_lazy(&t, &mut oracle);
                let full = Json::parse(&t);
                known += oracle.0;
                match (lazy, full) {
                    (Ok(l), Ok(f)) => assert_eq!(expand(l, &t, 0), f, "{t}"),
                    (l, f) => assert_eq!(l.map(|_| ()), f.map(|_| ()), "{t}"),
                }
            }
        }
        assert!(known > 10_000, "{known} values known");
    }
}
