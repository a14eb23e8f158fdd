//! The compiled form of programs: what `vitrine bundle` writes once and every runtime loads
//! without a lexer, parser or checker (docs/formats.md, "Compiled rules").
//!
//! One blob holds every program of a site configuration:
//!
//! ```text
//! "VCEL" version:u8 flags:u8
//! strings: n:varint { len:varint utf8 }*      identifiers, fields and string literals, each once
//! programs: n:varint { expr }*
//! crc32:u32le                                 CRC-32 (IEEE) of every byte before it
//! ```
//!
//! An `expr` is a tag byte, its span (two varints, start and length, when flag bit 0 is set) and
//! the tag's operands, children in prefix order; see [`Tag`]. Integers are LEB128 varints (signed
//! ones zigzagged), doubles 8 bytes little-endian, strings indexes into the string table. Function
//! ids are positions in the built-in function table (`ast::NAMES`, append-only).
//!
//! Loading checks everything a corrupt or hostile blob could get wrong: the magic, the version
//! (a blob from another version is refused with both numbers), the checksum (so a flipped bit is
//! a load error, never a different rule), every tag, index and length against the bytes left,
//! UTF-8, tree depth against [`MAX_DEPTH`], and `matches()` patterns (compiled here, as the parser
//! does). It never panics and never allocates more than the blob's size justifies.

use std::fmt;
use std::sync::Arc;

use super::ast::{BinOp, Comprehension, Expr, ExprKind, Func, Macro};
use super::time::{Duration, Timestamp};
use super::value::{Key, Kind, Map, Value};
use super::{Program, Span, Type, MAX_DEPTH};

/// The version of the compiled form this build writes and reads.
pub const WIRE_VERSION: u8 = 1;

const MAGIC: &[u8; 4] = b"VCEL";
/// Flag bit 0: every node carries its source span (for located errors in traces).
const FLAG_SPANS: u8 = 1;

/// Node tags. The numbers are the format: never reuse or renumber one.
#[derive(Clone, Copy)]
#[repr(u8)]
#[cfg_attr(not(feature = "compile"), allow(dead_code))] // the decoder matches the numbers
enum Tag {
    Lit = 0,
    Ident = 1,
    /// operand, field, qualified name (0: none, else string index + 1).
    Select = 2,
    /// `has(operand.field)`: as `Select`.
    Has = 3,
    Index = 4,
    /// function id (255: unknown, then its name), receiver flag, argument count, arguments.
    Call = 5,
    List = 6,
    Map = 7,
    Not = 8,
    Neg = 9,
    /// operator id, left, right.
    Binary = 10,
    And = 11,
    Or = 12,
    Cond = 13,
    /// macro id, range, variable, second variable (optional string), filter flag [+ filter], body.
    Comprehension = 14,
}

const BIN_OPS: [BinOp; 12] =
    [BinOp::Eq, BinOp::Ne, BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge, BinOp::In, BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Mod];
const MACROS: [Macro; 7] = [Macro::All, Macro::Exists, Macro::ExistsOne, Macro::Map, Macro::Filter, Macro::TransformList, Macro::TransformMap];
const KINDS: [Kind; 12] = [
    Kind::Null,
    Kind::Bool,
    Kind::Int,
    Kind::Uint,
    Kind::Double,
    Kind::String,
    Kind::Bytes,
    Kind::List,
    Kind::Map,
    Kind::Timestamp,
    Kind::Duration,
    Kind::Type,
];
const UNKNOWN_FUNC: u8 = 255;

// Value tags.
const V_NULL: u8 = 0;
const V_FALSE: u8 = 1;
const V_TRUE: u8 = 2;
const V_INT: u8 = 3;
const V_UINT: u8 = 4;
const V_DOUBLE: u8 = 5;
const V_STRING: u8 = 6;
const V_BYTES: u8 = 7;
const V_LIST: u8 = 8;
const V_MAP: u8 = 9;
const V_TYPE: u8 = 10;
const V_TIMESTAMP: u8 = 11;
const V_DURATION: u8 = 12;

/// Why a compiled blob was refused, with the byte offset where it went wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub offset: usize,
    pub kind: LoadErrorKind,
}

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// Not base64, or not starting with the magic bytes.
    NotCompiled,
    /// Written by another version of the compiled form.
    Version(u8),
    /// The checksum does not match: the blob was changed after it was written.
    Checksum,
    /// The blob ends inside a value.
    Truncated,
    /// A tag, id or flag that the format does not define.
    Invalid(&'static str),
    /// A string that is not UTF-8.
    Utf8,
    /// A tree deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A `matches()` pattern that does not compile.
    Regex(String),
    /// Bytes after the last program.
    TrailingBytes,
}

impl fmt::Display for LoadErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadErrorKind::NotCompiled => f.write_str("not a compiled rule program"),
            LoadErrorKind::Version(v) => write!(
                f,
                "rules compiled in program version {v}, but this runtime reads version {WIRE_VERSION}: build the bundle with the same Vitrine version as the runtime"
            ),
            LoadErrorKind::Checksum => f.write_str("checksum mismatch: the compiled rules are corrupt"),
            LoadErrorKind::Truncated => f.write_str("truncated"),
            LoadErrorKind::Invalid(what) => write!(f, "invalid {what}"),
            LoadErrorKind::Utf8 => f.write_str("a string is not UTF-8"),
            LoadErrorKind::TooDeep => write!(f, "a program nested deeper than {MAX_DEPTH} levels"),
            LoadErrorKind::Regex(m) => write!(f, "invalid regular expression: {m}"),
            LoadErrorKind::TrailingBytes => f.write_str("bytes after the last program"),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "compiled rules, byte {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for LoadError {}

/// CRC-32/ISO-HDLC (the zlib/PNG checksum) of every binary form the runtimes load: compiled rules
/// here, and the engine's compiled sites, models and shards. Its 1 KB table is built at first use
/// rather than shipped: as data it is 1 KB of the browser's gzip (a table does not compress).
pub fn crc32(bytes: &[u8]) -> u32 {
    static CRC: std::sync::OnceLock<crc::Crc<u32>> = std::sync::OnceLock::new();
    CRC.get_or_init(|| crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC)).checksum(bytes)
}

/// Encodes `programs` into one blob, with source spans if `spans` (located errors in traces;
/// about two bytes a node more).
#[cfg(feature = "compile")]
pub fn encode(programs: &[&Program], spans: bool) -> Vec<u8> {
    let mut w = Writer { body: Vec::new(), strings: Vec::new(), index: std::collections::HashMap::new(), spans };
    w.varint(programs.len() as u64);
    for p in programs {
        w.expr(&p.expr);
    }
    let mut out = Vec::with_capacity(w.body.len() + 64);
    out.extend_from_slice(MAGIC);
    out.push(WIRE_VERSION);
    out.push(if spans { FLAG_SPANS } else { 0 });
    put_varint(&mut out, w.strings.len() as u64);
    for s in &w.strings {
        put_varint(&mut out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }
    out.extend_from_slice(&w.body);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// [`encode`] as standard base64, the form the bundle's JSON carries.
#[cfg(feature = "compile")]
pub fn encode_text(programs: &[&Program], spans: bool) -> String {
    super::value::base64_encode(&encode(programs, spans))
}

/// Loads every program of a blob, in order.
pub fn decode(bytes: &[u8]) -> Result<Vec<Program>, LoadError> {
    let err = |offset, kind| LoadError { offset, kind };
    if bytes.len() < 4 || &bytes[..4] != MAGIC {
        return Err(err(0, LoadErrorKind::NotCompiled));
    }
    if bytes.len() < 6 {
        return Err(err(bytes.len(), LoadErrorKind::Truncated));
    }
    // The version first: another version's layout (even its checksum) is not this one's.
    if bytes[4] != WIRE_VERSION {
        return Err(err(4, LoadErrorKind::Version(bytes[4])));
    }
    if bytes.len() < 10 {
        return Err(err(bytes.len(), LoadErrorKind::Truncated));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 4);
    let sum = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
    if crc32(body) != sum {
        return Err(err(body.len(), LoadErrorKind::Checksum));
    }
    if bytes[5] & !FLAG_SPANS != 0 {
        return Err(err(5, LoadErrorKind::Invalid("flags")));
    }
    let mut r = Reader { bytes: body, pos: 6, strings: Vec::new(), spans: bytes[5] & FLAG_SPANS != 0 };
    r.programs().map_err(|e| *e)
}

impl Reader<'_> {
    /// The string table, then the programs, to the end of the body.
    fn programs(&mut self) -> R<Vec<Program>> {
        let n = self.count()?;
        for _ in 0..n {
            let len = self.count()?;
            let start = self.pos;
            let s: Arc<str> = match std::str::from_utf8(self.take(len)?) {
                Ok(s) => Arc::from(s),
                Err(_) => return Err(boxed(start, LoadErrorKind::Utf8)),
            };
            self.strings.push(s);
        }
        let n = self.count()?;
        let mut programs = Vec::with_capacity(n);
        for _ in 0..n {
            let expr = self.expr(1)?;
            programs.push(Program { expr: Arc::new(expr), result_type: Type::Dyn });
        }
        if self.pos != self.bytes.len() {
            return self.fail(LoadErrorKind::TrailingBytes);
        }
        Ok(programs)
    }
}

/// [`decode`] from standard base64.
pub fn decode_text(text: &str) -> Result<Vec<Program>, LoadError> {
    let bytes = super::value::base64_decode(text).ok_or(LoadError { offset: 0, kind: LoadErrorKind::NotCompiled })?;
    decode(&bytes)
}

#[cfg(feature = "compile")]
fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[cfg(feature = "compile")]
fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

#[cfg(feature = "compile")]
struct Writer {
    body: Vec<u8>,
    strings: Vec<Arc<str>>,
    index: std::collections::HashMap<Arc<str>, usize>,
    spans: bool,
}

#[cfg(feature = "compile")]
impl Writer {
    fn varint(&mut self, n: u64) {
        put_varint(&mut self.body, n);
    }

    /// The string's index in the table, adding it on first use.
    fn intern(&mut self, s: &Arc<str>) -> u64 {
        let next = self.strings.len();
        let i = *self.index.entry(s.clone()).or_insert(next);
        if i == next {
            self.strings.push(s.clone());
        }
        i as u64
    }

    fn str(&mut self, s: &Arc<str>) {
        let i = self.intern(s);
        self.varint(i);
    }

    /// 0 for none, else the index + 1.
    fn opt_str(&mut self, s: Option<&Arc<str>>) {
        let i = s.map_or(0, |s| self.intern(s) + 1);
        self.varint(i);
    }

    fn exprs(&mut self, items: &[Expr]) {
        self.varint(items.len() as u64);
        items.iter().for_each(|e| self.expr(e));
    }

    fn expr(&mut self, e: &Expr) {
        let tag = match &e.kind {
            ExprKind::Lit(_) => Tag::Lit,
            ExprKind::Ident(_) => Tag::Ident,
            ExprKind::Select { test: false, .. } => Tag::Select,
            ExprKind::Select { test: true, .. } => Tag::Has,
            ExprKind::Index(..) => Tag::Index,
            ExprKind::Call { .. } => Tag::Call,
            ExprKind::List(_) => Tag::List,
            ExprKind::Map(_) => Tag::Map,
            ExprKind::Not(_) => Tag::Not,
            ExprKind::Neg(_) => Tag::Neg,
            ExprKind::Binary(..) => Tag::Binary,
            ExprKind::And(_) => Tag::And,
            ExprKind::Or(_) => Tag::Or,
            ExprKind::Cond(..) => Tag::Cond,
            ExprKind::Comprehension(_) => Tag::Comprehension,
        };
        self.body.push(tag as u8);
        if self.spans {
            self.varint(e.span.0 as u64);
            self.varint(e.span.1.saturating_sub(e.span.0) as u64);
        }
        match &e.kind {
            ExprKind::Lit(v) => self.value(v),
            ExprKind::Ident(name) => self.str(name),
            ExprKind::Select { operand, field, qualified, .. } => {
                self.expr(operand);
                self.str(field);
                self.opt_str(qualified.as_ref());
            }
            ExprKind::Index(a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Call { func, receiver, args } => {
                match func.id() {
                    Some(id) => self.body.push(id),
                    None => {
                        self.body.push(UNKNOWN_FUNC);
                        self.str(&Arc::from(func.name()));
                    }
                }
                self.body.push(u8::from(*receiver));
                self.exprs(args);
            }
            ExprKind::List(items) | ExprKind::And(items) | ExprKind::Or(items) => self.exprs(items),
            ExprKind::Map(entries) => {
                self.varint(entries.len() as u64);
                for (k, v) in entries {
                    self.expr(k);
                    self.expr(v);
                }
            }
            ExprKind::Not(a) | ExprKind::Neg(a) => self.expr(a),
            ExprKind::Binary(op, a, b) => {
                self.body.push(BIN_OPS.iter().position(|o| o == op).unwrap_or(0) as u8);
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Cond(a, b, c) => {
                self.expr(a);
                self.expr(b);
                self.expr(c);
            }
            ExprKind::Comprehension(c) => {
                self.body.push(MACROS.iter().position(|m| *m == c.kind).unwrap_or(0) as u8);
                self.expr(&c.range);
                self.str(&c.var);
                self.opt_str(c.var2.as_ref());
                match &c.filter {
                    Some(f) => {
                        self.body.push(1);
                        self.expr(f);
                    }
                    None => self.body.push(0),
                }
                self.expr(&c.body);
            }
        }
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.body.push(V_NULL),
            Value::Bool(b) => self.body.push(if *b { V_TRUE } else { V_FALSE }),
            Value::Int(i) => {
                self.body.push(V_INT);
                self.varint(zigzag(*i));
            }
            Value::Uint(u) => {
                self.body.push(V_UINT);
                self.varint(*u);
            }
            Value::Double(d) => {
                self.body.push(V_DOUBLE);
                self.body.extend_from_slice(&d.to_bits().to_le_bytes());
            }
            Value::String(s) => {
                self.body.push(V_STRING);
                self.str(s);
            }
            Value::Bytes(b) => {
                self.body.push(V_BYTES);
                self.varint(b.len() as u64);
                self.body.extend_from_slice(b);
            }
            Value::List(items) => {
                self.body.push(V_LIST);
                self.varint(items.len() as u64);
                items.iter().for_each(|i| self.value(i));
            }
            Value::Map(m) => {
                self.body.push(V_MAP);
                self.varint(m.len() as u64);
                for (k, v) in m.iter() {
                    self.value(&k.to_value());
                    self.value(v);
                }
            }
            Value::Type(k) => {
                self.body.push(V_TYPE);
                self.body.push(KINDS.iter().position(|x| x == k).unwrap_or(0) as u8);
            }
            Value::Timestamp(t) => {
                self.body.push(V_TIMESTAMP);
                self.varint(zigzag(t.secs()));
                self.varint(u64::from(t.nanos()));
            }
            Value::Duration(d) => {
                self.body.push(V_DURATION);
                self.varint(zigzag(d.nanos()));
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    strings: Vec<Arc<str>>,
    spans: bool,
}

/// Errors are boxed while reading: a `Result` of one pointer keeps every `?` small (the browser
/// pays for each), and errors are rare.
type R<T> = Result<T, Box<LoadError>>;

#[cold]
#[inline(never)]
fn boxed(offset: usize, kind: LoadErrorKind) -> Box<LoadError> {
    Box::new(LoadError { offset, kind })
}

impl Reader<'_> {
    fn fail<T>(&self, kind: LoadErrorKind) -> R<T> {
        Err(boxed(self.pos, kind))
    }

    fn u8(&mut self) -> R<u8> {
        match self.bytes.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => self.fail(LoadErrorKind::Truncated),
        }
    }

    fn take(&mut self, n: usize) -> R<&[u8]> {
        match self.bytes.get(self.pos..self.pos.saturating_add(n)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => self.fail(LoadErrorKind::Truncated),
        }
    }

    fn varint(&mut self) -> R<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                return self.fail(LoadErrorKind::Invalid("varint"));
            }
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        self.fail(LoadErrorKind::Invalid("varint"))
    }

    /// A count of things still to read: each takes at least one byte, so a count beyond the bytes
    /// left is corrupt (and never sizes an allocation).
    fn count(&mut self) -> R<usize> {
        let n = self.varint()?;
        if n > (self.bytes.len() - self.pos) as u64 {
            return self.fail(LoadErrorKind::Truncated);
        }
        Ok(n as usize)
    }

    fn string(&self, i: u64) -> R<Arc<str>> {
        match usize::try_from(i).ok().and_then(|i| self.strings.get(i)) {
            Some(s) => Ok(s.clone()),
            None => self.fail(LoadErrorKind::Invalid("string index")),
        }
    }

    fn str(&mut self) -> R<Arc<str>> {
        let i = self.varint()?;
        self.string(i)
    }

    /// 0 for none, else the index + 1.
    fn opt_str(&mut self) -> R<Option<Arc<str>>> {
        match self.varint()? {
            0 => Ok(None),
            i => self.string(i - 1).map(Some),
        }
    }

    fn exprs(&mut self, depth: usize) -> R<Vec<Expr>> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.expr(depth)?);
        }
        Ok(out)
    }

    fn boxed(&mut self, depth: usize) -> R<Box<Expr>> {
        self.expr(depth).map(Box::new)
    }

    fn expr(&mut self, depth: usize) -> R<Expr> {
        if depth > MAX_DEPTH {
            return self.fail(LoadErrorKind::TooDeep);
        }
        let d = depth + 1;
        let tag = self.u8()?;
        let span: Span = if self.spans {
            let start = self.varint()? as usize;
            (start, start.saturating_add(self.varint()? as usize))
        } else {
            (0, 0)
        };
        let kind = match tag {
            0 => ExprKind::Lit(self.value(depth)?),
            1 => ExprKind::Ident(self.str()?),
            2 | 3 => {
                let operand = self.boxed(d)?;
                let field = self.str()?;
                ExprKind::Select { operand, field, test: tag == 3, qualified: self.opt_str()? }
            }
            4 => ExprKind::Index(self.boxed(d)?, self.boxed(d)?),
            5 => {
                let func = match self.u8()? {
                    UNKNOWN_FUNC => Func::Unknown(self.str()?),
                    id => match Func::from_id(id) {
                        Some(f) => f,
                        None => return self.fail(LoadErrorKind::Invalid("function id")),
                    },
                };
                let receiver = match self.u8()? {
                    0 => false,
                    1 => true,
                    _ => return self.fail(LoadErrorKind::Invalid("receiver flag")),
                };
                let args = self.exprs(d)?;
                // A literal pattern is compiled once, here, as the parser does (a build without
                // regular expressions loads the call, which is then an `EdgeOnly` error).
                #[cfg(feature = "regex")]
                let func = match (&func, args.last()) {
                    (Func::Matches(_), Some(Expr { kind: ExprKind::Lit(Value::String(p)), .. })) => match super::functions::compile_regex(p) {
                        Ok(re) => Func::Matches(Some(Arc::new(re))),
                        Err(m) => return self.fail(LoadErrorKind::Regex(m)),
                    },
                    _ => func,
                };
                ExprKind::Call { func, receiver, args }
            }
            6 => ExprKind::List(self.exprs(d)?),
            7 => {
                let n = self.count()?;
                let mut entries = Vec::with_capacity(n);
                for _ in 0..n {
                    let k = self.expr(d)?;
                    entries.push((k, self.expr(d)?));
                }
                ExprKind::Map(entries)
            }
            8 => ExprKind::Not(self.boxed(d)?),
            9 => ExprKind::Neg(self.boxed(d)?),
            10 => {
                let Some(&op) = BIN_OPS.get(usize::from(self.u8()?)) else {
                    return self.fail(LoadErrorKind::Invalid("operator"));
                };
                ExprKind::Binary(op, self.boxed(d)?, self.boxed(d)?)
            }
            11 => ExprKind::And(self.exprs(d)?),
            12 => ExprKind::Or(self.exprs(d)?),
            13 => ExprKind::Cond(self.boxed(d)?, self.boxed(d)?, self.boxed(d)?),
            14 => {
                let Some(&kind) = MACROS.get(usize::from(self.u8()?)) else {
                    return self.fail(LoadErrorKind::Invalid("macro"));
                };
                let range = self.expr(d)?;
                let var = self.str()?;
                let var2 = self.opt_str()?;
                let filter = match self.u8()? {
                    0 => None,
                    1 => Some(self.expr(d)?),
                    _ => return self.fail(LoadErrorKind::Invalid("filter flag")),
                };
                let body = self.expr(d)?;
                ExprKind::Comprehension(Box::new(Comprehension { kind, range, var, var2, filter, body }))
            }
            _ => return self.fail(LoadErrorKind::Invalid("node tag")),
        };
        Ok(Expr::new(span, kind))
    }

    fn value(&mut self, depth: usize) -> R<Value> {
        if depth > MAX_DEPTH {
            return self.fail(LoadErrorKind::TooDeep);
        }
        Ok(match self.u8()? {
            V_NULL => Value::Null,
            V_FALSE => Value::Bool(false),
            V_TRUE => Value::Bool(true),
            V_INT => Value::Int(unzigzag(self.varint()?)),
            V_UINT => Value::Uint(self.varint()?),
            V_DOUBLE => {
                let b = self.take(8)?;
                Value::Double(f64::from_bits(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])))
            }
            V_STRING => Value::String(self.str()?),
            V_BYTES => {
                let n = self.count()?;
                Value::Bytes(self.take(n)?.into())
            }
            V_LIST => {
                let n = self.count()?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Value::List(items.into())
            }
            V_MAP => {
                let n = self.count()?;
                let mut map = Map::new();
                for _ in 0..n {
                    let at = self.pos;
                    let Some(k) = Key::from_value(&self.value(depth + 1)?) else {
                        return Err(boxed(at, LoadErrorKind::Invalid("map key")));
                    };
                    let v = self.value(depth + 1)?;
                    if map.insert(k, v).is_some() {
                        return Err(boxed(at, LoadErrorKind::Invalid("map key (repeated)")));
                    }
                }
                Value::Map(Arc::new(map))
            }
            V_TYPE => match KINDS.get(usize::from(self.u8()?)) {
                Some(&k) => Value::Type(k),
                None => return self.fail(LoadErrorKind::Invalid("type")),
            },
            V_TIMESTAMP => {
                let secs = unzigzag(self.varint()?);
                let nanos = u32::try_from(self.varint()?).ok();
                match nanos.and_then(|n| Timestamp::new(secs, n)) {
                    Some(t) => Value::Timestamp(t),
                    None => return self.fail(LoadErrorKind::Invalid("timestamp")),
                }
            }
            V_DURATION => Value::Duration(Duration::from_nanos(unzigzag(self.varint()?))),
            _ => return self.fail(LoadErrorKind::Invalid("value tag")),
        })
    }
}

#[cfg(test)]
#[cfg(feature = "compile")]
mod tests {
    use super::*;
    use crate::Decls;

    fn roundtrip(src: &str) -> Program {
        let p = Program::compile_unchecked(src).unwrap_or_else(|e| panic!("{src}: {}", e[0].render(src)));
        // With spans, the very same tree (spans, nodes, literals). Heights are recomputed, so they
        // may be lower than the parser's where it folded constant lists.
        let back = decode_text(&encode_text(&[&p], true)).unwrap_or_else(|e| panic!("{src}: {e}"));
        let shape = |e: &Expr| regex_lite::Regex::new(r"height: \d+, ").unwrap().replace_all(&format!("{e:?}"), "").into_owned();
        assert_eq!(shape(&back[0].expr), shape(&p.expr), "{src}");
        // Without, what the caller checks: the same evaluation.
        decode(&encode(&[&p], false)).unwrap_or_else(|e| panic!("{src}: {e}")).remove(0)
    }

    #[test]
    fn programs_decide_the_same_after_a_round_trip() {
        for src in [
            "1 + 2 * 3 == 7 && !false",
            "[1, 2u, 1.5, -0.0, 'x', b'\\xff', true, null, [[1], []]][0] == 1",
            "{'a': 1, 2: [3]}['a'] == 1 && {true: 1}[true] == 1",
            "timestamp('2009-02-13T23:31:30.5Z').getFullYear() == 2009 && duration('-1.5s') < duration('0s')",
            "[1, 2, 3].all(x, x > 0) && [1].exists_one(x, x == 1) && [1, 2].map(x, x * 2)[1] == 4",
            "[1, 2, 3].filter(x, x > 1).size() == 2 && [1, 2].map(x, x > 1, x)[0] == 2",
            "{'a': 1}.transformMap(k, v, v + 1)['a'] == 2 && [1].transformList(i, v, i == 0, v)[0] == 1",
            "'abc'.matches('^a.c$') && 'x'.startsWith('x') && int == type(1)",
            "has({'a': 1}.a) && ({'a': {'b': 2}}.a).b == 2 && (true ? 1 : 2) == 1 && -(3) == -3",
            "9223372036854775807 > 0 && 18446744073709551615u > 0u && 1e300 > 0.0",
            "double(size(x)) + days_since(now) + double(y.z.w) == 6.0",
            "size(x) + days_since(now)",
        ] {
            let program = roundtrip(src);
            let original = Program::compile_unchecked(src).unwrap();
            let vars: std::collections::BTreeMap<String, Value> = [
                ("x".to_string(), Value::from("four")),
                ("now".to_string(), Value::from(Timestamp::new(86_400, 0).unwrap())),
                ("y.z.w".to_string(), Value::Int(1)),
            ]
            .into_iter()
            .collect();
            let (a, b) = (original.eval(&vars).map_err(|e| e.kind), program.eval(&vars).map_err(|e| e.kind));
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{src}");
            assert_eq!(program.references(), original.references(), "{src}");
        }
    }

    #[test]
    fn the_deepest_programs_load() {
        let n = MAX_DEPTH - 1;
        let deep = |open: &str, leaf: &str, close: &str, n: usize| format!("{}{leaf}{}", open.repeat(n), close.repeat(n));
        for src in [
            deep("(", "1", ")", n),
            deep("-(", "1", ")", n / 2),
            deep("[", "1", "]", n),
            deep("[1].map(x, ", "x", ")", n - 10),
            deep("{1: ", "2", "}", n),
            deep("size([", "1", "])", n / 2),
        ] {
            let p = Program::compile(&src, &Decls::new()).unwrap();
            decode(&encode(&[&p], true)).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn corrupt_blobs_are_refused_never_misread() {
        let p = Program::compile_unchecked("profile.orders.count >= 10 && 'vip' in profile.segments").unwrap();
        let blob = encode(&[&p], false);
        let kind = |b: &[u8]| decode(b).unwrap_err().kind;
        // Every single flipped bit is caught (the checksum, or the header before it).
        for i in 0..blob.len() {
            for bit in 0..8 {
                let mut b = blob.clone();
                b[i] ^= 1 << bit;
                assert!(decode(&b).is_err(), "byte {i} bit {bit}");
            }
        }
        // Every truncation too.
        for n in 0..blob.len() {
            assert!(decode(&blob[..n]).is_err(), "{n} bytes");
        }
        assert_eq!(kind(b"{\"v\":1}"), LoadErrorKind::NotCompiled);
        let mut newer = blob.clone();
        newer[4] = WIRE_VERSION + 1;
        assert_eq!(kind(&newer), LoadErrorKind::Version(WIRE_VERSION + 1));
        assert!(decode(&newer).unwrap_err().to_string().contains("program version 2, but this runtime reads version 1"));
        assert_eq!(decode_text("not base64!").unwrap_err().kind, LoadErrorKind::NotCompiled);
    }

    /// Re-signs a hand-made body, to reach the checks behind the checksum.
    fn signed(body: &[u8]) -> Vec<u8> {
        let mut b = body.to_vec();
        b.extend_from_slice(&crc32(body).to_le_bytes());
        b
    }

    #[test]
    fn well_signed_nonsense_is_refused() {
        let head = |rest: &[u8]| [&b"VCEL\x01\x00"[..], rest].concat();
        let kind = |rest: &[u8]| decode(&signed(&head(rest))).unwrap_err().kind;
        // No strings; one program: an unknown node tag.
        assert_eq!(kind(&[0, 1, 99]), LoadErrorKind::Invalid("node tag"));
        // An identifier pointing past the string table.
        assert_eq!(kind(&[0, 1, 1, 5]), LoadErrorKind::Invalid("string index"));
        // A count larger than the bytes left (no huge allocation).
        assert_eq!(kind(&[0, 1, 6, 0xff, 0xff, 0xff, 0xff, 0x0f]), LoadErrorKind::Truncated);
        // A bad operator, a bad function id, a bad pattern.
        assert_eq!(kind(&[0, 1, 10, 40, 0, 0, 0, 0]), LoadErrorKind::Invalid("operator"));
        assert_eq!(kind(&[0, 1, 5, 200, 0, 0]), LoadErrorKind::Invalid("function id"));
        let matches = Func::from_name("matches").id().unwrap();
        assert!(matches!(kind(&[1, 1, b'(', 1, 5, matches, 1, 2, 0, 6, 0, 0, 6, 0]), LoadErrorKind::Regex(_)));
        // Nesting beyond MAX_DEPTH: 200 `!` in a row.
        let mut deep = vec![0, 1];
        deep.extend(std::iter::repeat_n(8, 200));
        deep.extend([0, 2]);
        assert_eq!(kind(&deep), LoadErrorKind::TooDeep);
        // A string that is not UTF-8, unknown flags, bytes after the last program.
        assert_eq!(kind(&[1, 1, 0xff, 0]), LoadErrorKind::Utf8);
        assert_eq!(decode(&signed(b"VCEL\x01\x02\x00\x00")).unwrap_err().kind, LoadErrorKind::Invalid("flags"));
        assert_eq!(kind(&[0, 1, 0, 0, 7]), LoadErrorKind::TrailingBytes);
        // And the smallest valid blob: no strings, one program `null`.
        assert_eq!(decode(&signed(&head(&[0, 1, 0, 0]))).unwrap()[0].eval(&()).unwrap(), Value::Null);
    }
}
