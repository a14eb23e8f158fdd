//! The JSON reader of the formats a runtime reads while a visitor browses (profile snapshots,
//! events, decision requests, sessions): a strict RFC 8259 parser into a small tree that keeps
//! each value's byte offset, and typed accessors that name the field and its `line:col` in every
//! error, as [`FormatError`] does everywhere else.
//!
//! Hand-written rather than serde's derives because the browser pays for every byte of its reader:
//! serde's generated visitors for these structures, with serde_json under them, were the largest
//! part of the production Wasm after the rule interpreter. This reader is one non-generic parser
//! and one accessor per field.

use std::borrow::Cow;
use std::fmt;

use crate::base::error::{FormatError, FormatErrorKind, V1};
use crate::base::named::Named;
use crate::base::time::Seconds;
use crate::cel::Quoted;

/// serde_json's limit: deeper input is an error, not a stack overflow.
const MAX_DEPTH: usize = 128;

/// One JSON value and where it starts in the text.
#[derive(Debug)]
pub(crate) struct Json<'a> {
    pub at: usize,
    pub kind: Kind<'a>,
}

#[derive(Debug)]
pub(crate) enum Kind<'a> {
    Null,
    Bool(bool),
    /// The number's text, checked against JSON's grammar; read as an integer or a float on demand.
    Num(&'a str),
    Str(Cow<'a, str>),
    Arr(Vec<Json<'a>>),
    Obj(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl Kind<'_> {
    /// What serde calls it in "invalid type" messages.
    fn describe(&self) -> String {
        match self {
            Kind::Null => "null".into(),
            Kind::Bool(b) => format!("boolean `{b}`"),
            Kind::Num(n) => format!("number `{n}`"),
            Kind::Str(s) => format!("string {}", Quoted(s)),
            Kind::Arr(_) => "a sequence".into(),
            Kind::Obj(_) => "a map".into(),
        }
    }
}

/// The text being read: turns byte offsets into `line:col` for errors.
#[derive(Clone, Copy)]
pub(crate) struct Doc<'a> {
    pub format: &'static str,
    pub text: &'a str,
}

impl Doc<'_> {
    fn error(&self, at: usize, field: String, kind: FormatErrorKind) -> Error {
        let before = &self.text.as_bytes()[..at.min(self.text.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = self.text[start..at.min(self.text.len())].chars().count() + 1;
        Box::new(FormatError { format: self.format, line, column, field, kind })
    }
}

/// Reads `text` as one JSON document with `read`: what every runtime format's `from_json` does.
pub(crate) fn read<T>(format: &'static str, text: &str, read: impl FnOnce(At<'_, '_>) -> R<T>) -> Result<T, FormatError> {
    // Parsing, freeing the tree and unboxing the error are calls, not inlined into every format's
    // reader (the browser pays for each copy).
    let doc = Doc { format, text };
    let json = parse(doc).map_err(unbox)?;
    let out = read(At::root(doc, &json));
    free(json);
    out.map_err(unbox)
}

#[inline(never)]
fn free(json: Json<'_>) {
    drop(json);
}

// Takes the box on purpose: the one copy of moving an error out of its box.
#[allow(clippy::boxed_local)]
#[inline(never)]
fn unbox(e: Error) -> FormatError {
    *e
}

/// The bytes of a document that is one JSON string holding base64 (a compiled site, a bundle's
/// binary model); `None` if the string is not base64. One reader for both keeps one copy of it in
/// the browser's Wasm.
pub(crate) fn base64_string(format: &'static str, text: &str) -> Result<Option<Vec<u8>>, FormatError> {
    read(format, text, |x| x.string()).map(|b64| crate::cel::base64_decode(&b64))
}

/// The fields of the object `text` is, each with its value's raw text, checked but not built: for
/// documents whose parts are read by readers of their own (a bundle's site, catalog and model).
/// Fields other than `known`, or given twice, are refused as [`At::obj`] refuses them.
pub(crate) fn raw_fields<'a>(doc: Doc<'a>, known: &[&str]) -> R<Vec<(Cow<'a, str>, &'a str)>> {
    let mut p = Parser { doc, b: doc.text.as_bytes(), i: 0 };
    p.ws();
    if p.peek() != Some(b'{') {
        let v = p.value(0)?;
        return Err(At::root(doc, &v).expected("a map"));
    }
    let mut spans = Vec::new();
    p.container(0, &mut |p, key| {
        p.ws();
        let start = p.i;
        p.skip(1)?;
        spans.push((key.unwrap_or_default(), (start, p.i)));
        Ok(())
    })?;
    p.ws();
    if p.i < p.b.len() {
        return Err(p.fail("trailing characters"));
    }
    if let Some((i, msg)) = refused_field(known, &spans, false) {
        return Err(doc.error(spans[i].1 .0, String::new(), FormatErrorKind::Invalid(msg)));
    }
    Ok(spans.into_iter().map(|(k, (start, end))| (k, &doc.text[start..end])).collect())
}

/// Names as a message lists them: `` `a`, `b` ``. Written out rather than formatted and joined
/// (another copy of `join` and of a `Vec<String>` collect in the browser's Wasm).
pub(crate) fn backticked<'n>(names: impl Iterator<Item = &'n str>) -> String {
    let mut out = String::new();
    for (i, name) in names.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('`');
        out.push_str(name);
        out.push('`');
    }
    out
}

/// The first of `fields` that a struct with the fields `known` refuses, with the message: one it
/// does not know (unless `lenient`), or one it knows given twice.
fn refused_field<K: AsRef<str>, T>(known: &[&str], fields: &[(K, T)], lenient: bool) -> Option<(usize, String)> {
    for (i, (k, _)) in fields.iter().enumerate() {
        let k = k.as_ref();
        if !known.contains(&k) {
            if lenient {
                continue;
            }
            let expected = backticked(known.iter().copied());
            return Some((i, format!("unknown field `{k}`, expected one of {expected}")));
        }
        if fields[..i].iter().any(|(o, _)| o.as_ref() == k) {
            return Some((i, format!("duplicate field `{k}`")));
        }
    }
    None
}

/// Parses `text` as one JSON document.
#[inline(never)]
pub(crate) fn parse<'a>(doc: Doc<'a>) -> R<Json<'a>> {
    let mut p = Parser { doc, b: doc.text.as_bytes(), i: 0 };
    let v = p.value(0)?;
    p.ws();
    if p.i < p.b.len() {
        return Err(p.fail("trailing characters"));
    }
    Ok(v)
}

/// What [`Parser::container`] does with each element, given its field name in an object. Not
/// generic: one copy of the loop serves the tree, the check and the bundle's fields.
type Item<'f, 'a> = dyn FnMut(&mut Parser<'a>, Option<Cow<'a, str>>) -> R<()> + 'f;

struct Parser<'a> {
    doc: Doc<'a>,
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn fail(&self, msg: &str) -> Error {
        self.doc.error(self.i, String::new(), FormatErrorKind::Syntax(msg.into()))
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn literal(&mut self, word: &str, kind: Kind<'a>) -> R<Json<'a>> {
        let at = self.i;
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(Json { at, kind })
        } else {
            Err(self.fail("expected a value"))
        }
    }

    fn value(&mut self, depth: usize) -> R<Json<'a>> {
        self.ws();
        let at = self.i;
        match self.peek() {
            None => Err(self.fail("EOF while parsing a value")),
            Some(b'n') => self.literal("null", Kind::Null),
            Some(b't') => self.literal("true", Kind::Bool(true)),
            Some(b'f') => self.literal("false", Kind::Bool(false)),
            Some(b'"') => Ok(Json { at, kind: Kind::Str(self.string()?) }),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(open @ (b'[' | b'{')) => {
                let (mut items, mut fields) = (Vec::new(), Vec::new());
                self.container(depth, &mut |p, key| {
                    let v = p.value(depth + 1)?;
                    match key {
                        Some(k) => fields.push((k, v)),
                        None => items.push(v),
                    }
                    Ok(())
                })?;
                Ok(Json { at, kind: if open == b'[' { Kind::Arr(items) } else { Kind::Obj(fields) } })
            }
            Some(_) => Err(self.fail("expected a value")),
        }
    }

    /// Checks one value without building it.
    fn skip(&mut self, depth: usize) -> R<()> {
        self.ws();
        match self.peek() {
            Some(b'"') => self.string().map(drop),
            Some(b'[' | b'{') => self.container(depth, &mut |p, _| p.skip(depth + 1)),
            _ => self.value(depth).map(drop),
        }
    }

    /// The array or object at `[`/`{`: `item` reads each element or each field's value (given the
    /// field's name), positioned before it.
    fn container(&mut self, depth: usize, item: &mut Item<'_, 'a>) -> R<()> {
        if depth >= MAX_DEPTH {
            return Err(self.fail("recursion limit exceeded"));
        }
        let object = self.peek() == Some(b'{');
        let close = if object { b'}' } else { b']' };
        self.i += 1;
        self.ws();
        if self.peek() == Some(close) {
            self.i += 1;
            return Ok(());
        }
        loop {
            let key = if object {
                self.ws();
                if self.peek() != Some(b'"') {
                    return Err(self.fail("key must be a string"));
                }
                let key = self.string()?;
                self.ws();
                if self.peek() != Some(b':') {
                    return Err(self.fail("expected `:`"));
                }
                self.i += 1;
                Some(key)
            } else {
                None
            };
            item(self, key)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {
                    self.i += 1;
                    return Ok(());
                }
                None => return Err(self.fail("EOF while parsing")),
                Some(_) => return Err(self.fail(if object { "expected `,` or `}`" } else { "expected `,` or `]`" })),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> R<Json<'a>> {
        let at = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let int = self.i;
        if self.digits() == 0 || (self.b[int] == b'0' && self.i - int > 1) {
            return Err(self.fail("invalid number"));
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.fail("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.fail("invalid number"));
            }
        }
        // Only ASCII was consumed, so these are char boundaries.
        Ok(Json { at, kind: Kind::Num(&self.doc.text[at..self.i]) })
    }

    fn hex4(&mut self) -> R<u32> {
        let mut n = 0;
        for _ in 0..4 {
            let d = self.peek().and_then(|c| (c as char).to_digit(16)).ok_or_else(|| self.fail("invalid escape"))?;
            n = n * 16 + d;
            self.i += 1;
        }
        Ok(n)
    }

    /// A string at `"`; borrowed from the text unless it has escapes.
    fn string(&mut self) -> R<Cow<'a, str>> {
        self.i += 1;
        let start = self.i;
        let mut owned: Option<String> = None;
        let mut run = start;
        loop {
            match self.peek() {
                None => return Err(self.fail("EOF while parsing a string")),
                Some(b'"') => {
                    let text = &self.doc.text[run..self.i];
                    self.i += 1;
                    return Ok(match owned {
                        None => Cow::Borrowed(text),
                        Some(mut s) => {
                            s.push_str(text);
                            Cow::Owned(s)
                        }
                    });
                }
                Some(b'\\') => {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(&self.doc.text[run..self.i]);
                    self.i += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.i += 1;
                            let hi = self.hex4()?;
                            self.i -= 1;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !self.b[self.i + 1..].starts_with(b"\\u") {
                                    return Err(self.fail("lone leading surrogate in hex escape"));
                                }
                                self.i += 3;
                                let lo = self.hex4()?;
                                self.i -= 1;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.fail("lone leading surrogate in hex escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or_else(|| self.fail("lone trailing surrogate in hex escape"))?
                        }
                        _ => return Err(self.fail("invalid escape")),
                    };
                    // Re-borrow: `fail` above needed `self`.
                    let s = owned.get_or_insert_with(String::new);
                    s.push(c);
                    self.i += 1;
                    run = self.i;
                }
                Some(0..=0x1f) => return Err(self.fail("control character (\\u0000-\\u001F) found while parsing a string")),
                Some(_) => self.i += 1,
            }
        }
    }
}

/// Where a value is in the document: `orders.first`, `recent_items[2].time`.
#[derive(Clone, Copy)]
pub(crate) enum Path<'p> {
    Root,
    Key(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, k) => f.write_str(k),
            Path::Key(p, k) => write!(f, "{p}.{k}"),
            Path::Index(p, i) => write!(f, "{p}[{i}]"),
        }
    }
}

/// A value being read, with its document and path.
#[derive(Clone, Copy)]
pub(crate) struct At<'c, 'a> {
    pub doc: Doc<'a>,
    pub v: &'c Json<'a>,
    pub path: Path<'c>,
}

/// Errors are boxed while reading: a `Result` of one pointer keeps the code of every `?` small
/// (the browser pays for it), and errors are rare.
pub(crate) type Error = Box<FormatError>;
pub(crate) type R<T> = Result<T, Error>;

impl<'c, 'a> At<'c, 'a> {
    pub fn root(doc: Doc<'a>, v: &'c Json<'a>) -> At<'c, 'a> {
        At { doc, v, path: Path::Root }
    }

    /// An error about this value (serde's "invalid value" kind).
    pub fn invalid(&self, msg: impl Into<String>) -> Error {
        self.doc.error(self.v.at, self.path.to_string(), FormatErrorKind::Invalid(msg.into()))
    }

    fn expected(&self, what: &str) -> Error {
        self.invalid(format!("invalid type: {}, expected {what}", self.v.kind.describe()))
    }

    pub fn str(&self) -> R<&'c str> {
        match &self.v.kind {
            Kind::Str(s) => Ok(s),
            _ => Err(self.expected("a string")),
        }
    }

    pub fn string(&self) -> R<String> {
        self.str().map(str::to_owned)
    }

    pub fn bool(&self) -> R<bool> {
        match self.v.kind {
            Kind::Bool(b) => Ok(b),
            _ => Err(self.expected("a boolean")),
        }
    }

    pub fn f64(&self) -> R<f64> {
        match self.v.kind {
            // JSON's grammar is a subset of Rust's float syntax; too large is infinite, as
            // serde_json reports it: an error. `parse_f64` reads as `str::parse` does, without
            // the standard library's tables (14 KB of the browser's gzipped Wasm).
            Kind::Num(n) => crate::cel::parse_f64(n).filter(|x| x.is_finite()).ok_or_else(|| self.invalid(format!("number out of range: {n}"))),
            _ => Err(self.expected("a number")),
        }
    }

    /// A whole number (no fraction or exponent) in `T`'s range (an unsigned type's).
    pub fn int<T: TryFrom<u64>>(&self, what: &str) -> R<T> {
        self.whole(what)?.and_then(|m| T::try_from(m).ok()).ok_or_else(|| self.out_of_range(what))
    }

    /// [`At::int`]'s reading, in one copy for every `T`: `None` for an integer below 0 or past
    /// u64. By hand, not as an i128 (whose parser and multiplication the browser's Wasm would
    /// carry), with i128's errors: a fraction, an exponent or a magnitude past i128's is not an
    /// integer at all.
    fn whole(&self, what: &str) -> R<Option<u64>> {
        let Kind::Num(n) = self.v.kind else { return Err(self.expected(what)) };
        let (negative, digits) = match n.strip_prefix('-') {
            Some(digits) => (true, digits),
            None => (false, n),
        };
        // One pass (bundles are mostly integers); the magnitude is `None` past u64.
        let mut magnitude = Some(0u64);
        for &d in digits.as_bytes() {
            if !d.is_ascii_digit() {
                return Err(self.expected(what));
            }
            magnitude = magnitude.and_then(|m| m.checked_mul(10)?.checked_add(u64::from(d - b'0')));
        }
        if digits.is_empty() {
            return Err(self.expected(what));
        }
        if magnitude.is_none() {
            let significant = digits.trim_start_matches('0');
            let limit = if negative { "170141183460469231731687303715884105728" } else { "170141183460469231731687303715884105727" };
            if (significant.len(), significant) > (limit.len(), limit) {
                return Err(self.expected(what));
            }
        }
        Ok(magnitude.filter(|&m| m == 0 || !negative))
    }

    fn out_of_range(&self, what: &str) -> Error {
        let n = match self.v.kind {
            Kind::Num(n) => n,
            _ => "",
        };
        self.invalid(format!("invalid value: integer `{n}`, expected {what}"))
    }

    pub fn u32(&self) -> R<u32> {
        self.int("u32")
    }

    pub fn usize(&self) -> R<usize> {
        self.int("usize")
    }

    /// A format's `"v"`: 1, the only version there is.
    pub fn version(&self) -> R<V1> {
        match self.int::<u64>("u64")? {
            1 => Ok(V1),
            found => Err(self.doc.error(self.v.at, self.path.to_string(), FormatErrorKind::Version { found, supported: 1 })),
        }
    }

    /// An RFC 3339 time, as Unix seconds.
    pub fn time(&self) -> R<Seconds> {
        let s = self.str()?;
        crate::base::time::parse(s).ok_or_else(|| self.invalid(format!("expected an RFC 3339 time, found {}", Quoted(s))))
    }

    /// The items of an array, each with its path.
    pub fn items<T>(&self, mut item: impl FnMut(At<'_, 'a>) -> R<T>) -> R<Vec<T>> {
        // Not reserved up front: the growth costs less than the code that reserves (+180 B gzip).
        let mut out = Vec::new();
        self.elements(&mut |at| {
            out.push(item(at)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Hands each item of an array to `item`, with its path: the loop of [`At::items`], in one
    /// copy for every item type (the browser pays for each).
    #[inline(never)]
    fn elements(&self, item: &mut dyn FnMut(At<'_, 'a>) -> R<()>) -> R<()> {
        let Kind::Arr(xs) = &self.v.kind else { return Err(self.expected("a sequence")) };
        for (i, v) in xs.iter().enumerate() {
            item(At { doc: self.doc, v, path: Path::Index(&self.path, i) })?;
        }
        Ok(())
    }

    pub fn strings(&self) -> R<Vec<String>> {
        self.items(|x| x.string())
    }

    /// A map with string keys; a repeated key keeps its last value.
    pub fn map<T>(&self, mut value: impl FnMut(At<'_, 'a>) -> R<T>) -> R<Named<T>> {
        match &self.v.kind {
            Kind::Obj(fields) => {
                let mut out = Named::default();
                for (k, v) in fields {
                    out.insert(k.to_string(), value(At { doc: self.doc, v, path: Path::Key(&self.path, k) })?);
                }
                Ok(out)
            }
            _ => Err(self.expected("a map")),
        }
    }

    /// This value as a struct with the fields `known`: any other field, or one given twice, is an
    /// error (serde's `deny_unknown_fields`).
    pub fn obj(&self, known: &'static [&'static str]) -> R<Obj<'c, 'a>> {
        self.obj_checked(known, false)
    }

    /// Like [`At::obj`], but fields other than `known` are ignored (GA4 events carry many).
    pub fn obj_lenient(&self, known: &'static [&'static str]) -> R<Obj<'c, 'a>> {
        self.obj_checked(known, true)
    }

    fn obj_checked(&self, known: &'static [&'static str], lenient: bool) -> R<Obj<'c, 'a>> {
        let Kind::Obj(fields) = &self.v.kind else { return Err(self.expected("a map")) };
        if let Some((i, msg)) = refused_field(known, fields, lenient) {
            return Err(At { doc: self.doc, v: &fields[i].1, path: self.path }.invalid(msg));
        }
        Ok(Obj { at: *self, fields })
    }
}

/// Reading that goes on past an error, for a document whose every error is reported at once (the
/// site configuration's source, `rules::source`): the caller collects what these hand it.
#[cfg(feature = "compile")]
impl<'c, 'a> At<'c, 'a> {
    /// Like [`At::obj`], but each field other than `known` (with the nearest known name, if one is
    /// close) and each field given twice goes to `refused`, and the rest can still be read.
    pub fn obj_collecting(&self, known: &'static [&'static str], refused: &mut Vec<FormatError>) -> R<Obj<'c, 'a>> {
        let Kind::Obj(fields) = &self.v.kind else { return Err(self.expected("a map")) };
        for (i, (k, v)) in fields.iter().enumerate() {
            let at = At { doc: self.doc, v, path: self.path };
            if fields[..i].iter().any(|(o, _)| o == k) {
                refused.push(*at.invalid(format!("duplicate field `{k}`")));
            } else if !known.contains(&k.as_ref()) {
                let mut msg = format!("unknown field `{k}`, expected one of {}", backticked(known.iter().copied()));
                if let Some(near) = crate::cel::nearest(k, known.iter().copied()) {
                    msg = format!("{msg}; did you mean `{near}`?");
                }
                refused.push(*at.invalid(msg));
            }
        }
        Ok(Obj { at: *self, fields })
    }

    /// Hands each item of an array to `item`, with its index and path.
    pub fn each_item(&self, mut item: impl FnMut(At<'_, 'a>)) -> R<()> {
        let Kind::Arr(xs) = &self.v.kind else { return Err(self.expected("a sequence")) };
        for (i, v) in xs.iter().enumerate() {
            item(At { doc: self.doc, v, path: Path::Index(&self.path, i) });
        }
        Ok(())
    }

    /// Hands each entry of a map to `entry`, in the document's order, repeated keys included.
    pub fn each_entry(&self, mut entry: impl FnMut(&str, At<'_, 'a>)) -> R<()> {
        let Kind::Obj(fields) = &self.v.kind else { return Err(self.expected("a map")) };
        for (k, v) in fields {
            entry(k, At { doc: self.doc, v, path: Path::Key(&self.path, k) });
        }
        Ok(())
    }

    /// A whole number in i64's range, negative ones included.
    pub fn i64(&self) -> R<i64> {
        match self.v.kind {
            Kind::Num(n) => n.parse().map_err(|_| self.invalid(format!("invalid value: number `{n}`, expected a whole number from -2^63 to 2^63-1"))),
            _ => Err(self.expected("a whole number")),
        }
    }
}

/// A struct being read: its fields by name.
pub(crate) struct Obj<'c, 'a> {
    at: At<'c, 'a>,
    fields: &'c [(Cow<'a, str>, Json<'a>)],
}

impl<'c, 'a> Obj<'c, 'a> {
    // The common shapes, one function each rather than one closure per field: the browser pays
    // for every instance.
    pub fn req_string(&self, name: &'static str) -> R<String> {
        self.req(name, |x| x.string())
    }

    pub fn req_u32(&self, name: &'static str) -> R<u32> {
        self.req(name, |x| x.u32())
    }

    pub fn req_f64(&self, name: &'static str) -> R<f64> {
        self.req(name, |x| x.f64())
    }

    pub fn req_time(&self, name: &'static str) -> R<Seconds> {
        self.req(name, |x| x.time())
    }

    #[cfg(feature = "full-bundle")]
    pub fn req_strings(&self, name: &'static str) -> R<Vec<String>> {
        self.req(name, |x| x.strings())
    }

    pub fn req_version(&self) -> R<V1> {
        self.req("v", |x| x.version())
    }

    pub fn opt_string(&self, name: &'static str) -> R<Option<String>> {
        self.opt(name, |x| x.string())
    }

    pub fn opt_f64(&self, name: &'static str) -> R<Option<f64>> {
        self.opt(name, |x| x.f64())
    }

    pub fn opt_usize(&self, name: &'static str) -> R<Option<usize>> {
        self.opt(name, |x| x.usize())
    }

    pub fn opt_time(&self, name: &'static str) -> R<Option<Seconds>> {
        self.opt(name, |x| x.time())
    }

    /// A string, `""` when absent.
    pub fn or_string(&self, name: &'static str) -> R<String> {
        self.or(name, String::new, |x| x.string())
    }

    /// Strings, none when absent.
    pub fn or_strings(&self, name: &'static str) -> R<Vec<String>> {
        self.or(name, Vec::new, |x| x.strings())
    }

    /// A number, 0 when absent.
    pub fn or_f64(&self, name: &'static str) -> R<f64> {
        self.or(name, || 0.0, |x| x.f64())
    }

    /// A whole number, 0 when absent.
    pub fn or_u32(&self, name: &'static str) -> R<u32> {
        self.or(name, || 0, |x| x.u32())
    }

    /// A boolean, false when absent.
    pub fn or_bool(&self, name: &'static str) -> R<bool> {
        self.or(name, || false, |x| x.bool())
    }

    /// A required field.
    pub fn req<T>(&self, name: &'static str, read: impl FnOnce(At<'_, 'a>) -> R<T>) -> R<T> {
        match self.field(name) {
            Some(at) => read(at),
            None => Err(self.missing(name)),
        }
    }

    /// The field `name`, with its path. One copy for every reader: the field lookup is not
    /// repeated in each instance of [`Obj::req`], [`Obj::opt`] and [`Obj::or`] (the browser pays
    /// for each).
    #[inline(never)]
    fn field(&self, name: &'static str) -> Option<At<'_, 'a>> {
        let (_, v) = self.fields.iter().find(|(k, _)| k == name)?;
        Some(At { doc: self.at.doc, v, path: Path::Key(&self.at.path, name) })
    }

    #[inline(never)]
    #[cold]
    fn missing(&self, name: &'static str) -> Error {
        self.at.invalid(format!("missing field `{name}`"))
    }

    /// An optional field: absent or `null` is `None`.
    pub fn opt<T>(&self, name: &'static str, read: impl FnOnce(At<'_, 'a>) -> R<T>) -> R<Option<T>> {
        match self.field(name) {
            Some(at) if !matches!(at.v.kind, Kind::Null) => read(at).map(Some),
            _ => Ok(None),
        }
    }

    /// An optional field with a default when absent (`null` is read, and is an error unless `read`
    /// accepts it, as serde's `#[serde(default)]`).
    pub fn or<T>(&self, name: &'static str, default: impl FnOnce() -> T, read: impl FnOnce(At<'_, 'a>) -> R<T>) -> R<T> {
        match self.field(name) {
            Some(at) => read(at),
            None => Ok(default()),
        }
    }
}

/// Writes JSON by hand, for what runtimes write while a visitor browses (decisions, sessions):
/// compact, strings escaped as serde_json escapes them, so every runtime writes the same bytes.
#[derive(Default)]
pub(crate) struct Writer {
    out: String,
    /// No value written yet at this level: the next key or item needs no comma.
    first: bool,
}

// `push_str("{")` rather than `push('{')`: at the browser's opt-level "z", pushing a `char` calls
// the standard library's UTF-8 encoder for each one (a decision's JSON is mostly punctuation).
#[allow(clippy::single_char_add_str)]
impl Writer {
    pub fn finish(self) -> String {
        self.out
    }

    fn sep(&mut self) {
        if !self.first {
            self.out.push_str(",");
        }
        self.first = false;
    }

    /// An object; `fields` writes its fields with [`Writer::key`].
    pub fn obj(&mut self, fields: impl FnOnce(&mut Writer)) {
        self.out.push_str("{");
        self.first = true;
        fields(self);
        self.out.push_str("}");
        self.first = false;
    }

    pub fn arr<T>(&mut self, items: &[T], mut item: impl FnMut(&mut Writer, &T)) {
        self.out.push_str("[");
        self.first = true;
        for x in items {
            self.sep();
            item(self, x);
        }
        self.out.push_str("]");
        self.first = false;
    }

    /// A field's name; its value comes next.
    pub fn key(&mut self, k: &str) -> &mut Writer {
        self.sep();
        self.str(k);
        self.out.push_str(":");
        self
    }

    pub fn str(&mut self, s: &str) {
        self.out.push_str("\"");
        let mut run = 0;
        for (i, b) in s.bytes().enumerate() {
            let esc = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                0..=0x1f => "",
                _ => continue,
            };
            self.out.push_str(&s[run..i]);
            if esc.is_empty() {
                self.out.push_str("\\u00");
                self.out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
                self.out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
            } else {
                self.out.push_str(esc);
            }
            run = i + 1;
        }
        self.out.push_str(&s[run..]);
        self.out.push_str("\"");
    }

    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.out.push_str("null"),
        }
    }

    pub fn bool(&mut self, b: bool) {
        self.out.push_str(if b { "true" } else { "false" });
    }

    pub fn int(&mut self, n: i64) {
        use std::fmt::Write;
        let _ = write!(self.out, "{n}");
    }

    /// A finite number in its shortest round-trip form, as serde_json prints it (`0.00001`,
    /// `1e+16`: the same crate); JSON has no NaN or infinity: `null`.
    pub fn num(&mut self, x: f64) {
        if x.is_finite() {
            self.out.push_str(zmij::Buffer::new().format_finite(x));
        } else {
            self.out.push_str("null");
        }
    }

    pub fn strs(&mut self, items: &[String]) {
        self.arr(items, |w, s| w.str(s));
    }

    pub fn str_map(&mut self, map: &crate::base::named::Named<String>) {
        self.obj(|w| {
            for (k, v) in map {
                w.key(k).str(v);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Doc<'_> {
        Doc { format: "test", text }
    }

    #[test]
    fn parses_what_json_allows_and_nothing_else() {
        for ok in ["null", " true ", "[1, -0, 2.5e-3, 1E+2]", r#"{"a": {"b": []}, "c": "\u00e9\ud83d\ude00\n"}"#, "\"\"", "{}"] {
            assert!(parse(doc(ok)).is_ok(), "{ok}");
        }
        for bad in
            ["", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "+1", "[1 2]", "{'a':1}", "\"\\x\"", "\"\\ud800\"", "\"a\nb\"", "nul", "[] []", "NaN", "{\"a\"}"]
        {
            assert!(parse(doc(bad)).is_err(), "{bad:?} parsed");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(doc(&deep)).unwrap_err().to_string().contains("recursion limit"));
    }

    #[test]
    fn raw_fields_check_without_building_and_refuse_what_obj_refuses() {
        let text = "{\"a\": [1, {\"x\": \"}\"}],\n \"b\": \"s\"}";
        let fields = raw_fields(doc(text), &["a", "b"]).unwrap();
        assert_eq!(fields.iter().map(|(k, raw)| (k.as_ref(), *raw)).collect::<Vec<_>>(), [("a", "[1, {\"x\": \"}\"}]"), ("b", "\"s\"")]);
        let e = raw_fields(doc(text), &["a"]).unwrap_err();
        assert_eq!((e.line, e.column), (2, 7));
        assert!(e.to_string().contains("unknown field `b`, expected one of `a`"), "{e}");
        let e = raw_fields(doc("{\"a\": 1, \"a\": 2}"), &["a"]).unwrap_err();
        assert!(e.to_string().contains("duplicate field `a`"), "{e}");
        assert!(raw_fields(doc("{\"a\": [1,]}"), &["a"]).is_err());
        assert!(raw_fields(doc("[]"), &["a"]).is_err());
    }

    /// `At::int` as it was, on i128, to check that the hand-written reader agrees with it.
    fn int_i128<T: TryFrom<i128>>(at: &At, what: &str) -> R<T> {
        let Kind::Num(n) = at.v.kind else { return Err(at.expected(what)) };
        let whole = n.parse::<i128>().map_err(|_| at.expected(what))?;
        T::try_from(whole).map_err(|_| at.invalid(format!("invalid value: integer `{n}`, expected {what}")))
    }

    #[test]
    fn integers_read_as_on_i128() {
        let i128_max = "170141183460469231731687303715884105727";
        let i128_min = "-170141183460469231731687303715884105728";
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "1",
            "-1",
            "7",
            "255",
            "256",
            "-255",
            "4294967295",
            "4294967296",
            "18446744073709551615",
            "18446744073709551616",
            "-18446744073709551616",
            "99999999999999999999999",
            "1.0",
            "1e3",
            "-1.5E-2",
            "0.0",
            "-0.0",
            "\"1\"",
            "true",
            "null",
            "[1]",
            i128_max,
            i128_min,
            "170141183460469231731687303715884105728",
            "-170141183460469231731687303715884105729",
            "1701411834604692317316873037158841057270",
            "999999999999999999999999999999999999999",
        ]
        .map(String::from)
        .to_vec();
        let mut seed: u64 = 3;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let len = 1 + (seed >> 58) as usize % 42;
            let digits: String = (0..len).map(|i| char::from(b'1' + ((seed >> (i % 50)) % 9) as u8)).collect();
            texts.push(if seed & 1 == 0 { digits } else { format!("-{digits}") });
        }
        for text in texts {
            let d = doc(&text);
            let j = parse(d).unwrap();
            let at = At::root(d, &j);
            let message = |e: Error| e.to_string();
            assert_eq!(at.int::<u64>("u64").map_err(message), int_i128::<u64>(&at, "u64").map_err(message), "{text}");
            assert_eq!(at.int::<u8>("u8").map_err(message), int_i128::<u8>(&at, "u8").map_err(message), "{text}");
            assert_eq!(at.u32().map_err(message), int_i128::<u32>(&at, "u32").map_err(message), "{text}");
        }
    }

    #[test]
    fn strings_unescape() {
        let j = parse(doc(r#""a\"b\\c\/d\u00e9\ud83d\ude00\t""#)).unwrap();
        assert_eq!(At::root(doc(""), &j).str().unwrap(), "a\"b\\c/dé😀\t");
    }

    #[test]
    fn errors_name_the_field_and_its_line_and_column() {
        let text = "{\n  \"a\": {\"b\": [1, \"x\"]}\n}";
        let j = parse(doc(text)).unwrap();
        let root = At::root(doc(text), &j);
        let e = root.obj(&["a"]).unwrap().req("a", |a| a.obj(&["b"])?.req("b", |b| b.items(|x| x.u32()))).unwrap_err();
        assert_eq!((e.line, e.column, e.field.as_str()), (2, 18, "a.b[1]"));
        assert!(e.to_string().contains("invalid type: string \"x\", expected u32"), "{e}");
        let e = root.obj(&["z"]).map(|_| ()).unwrap_err();
        assert!(e.to_string().contains("unknown field `a`, expected one of `z`"), "{e}");
        let e = parse(doc("{\"a\": 1,\n \"a\": 2}")).and_then(|j| At::root(doc(""), &j).obj(&["a"]).map(|_| ())).unwrap_err();
        assert!(e.to_string().contains("duplicate field `a`"), "{e}");
        let e = parse(doc("[1,\n  2,]")).unwrap_err();
        assert_eq!((e.line, e.column), (2, 5));
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let s = "a\"b\\c/d\n\r\t\u{8}\u{c}\u{1}\u{1f}é😀</script>";
        let mut w = Writer::default();
        w.str(s);
        assert_eq!(w.finish(), serde_json::to_string(s).unwrap());
        let mut w = Writer::default();
        w.arr(&[0.5, 1.0, 1e-7, 123456.789, f64::NAN], |w, x| w.num(*x));
        assert_eq!(w.finish(), "[0.5,1.0,1e-7,123456.789,null]");
    }

    #[test]
    fn integers_are_whole_and_in_range() {
        let read = |t: &str| parse(doc(t)).and_then(|j| At::root(doc(t), &j).u32());
        assert_eq!(read("7").unwrap(), 7);
        assert!(read("-1").is_err());
        assert!(read("1.0").is_err());
        assert!(read("4294967296").is_err());
        let f = |t: &str| parse(doc(t)).and_then(|j| At::root(doc(t), &j).f64());
        assert_eq!(f("1e2").unwrap(), 100.0);
        assert!(f("1e400").is_err());
    }
}
