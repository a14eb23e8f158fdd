//! A Common Expression Language (CEL) interpreter for the protobuf-free part of the language.
//!
//! # Pipeline
//!
//! `lex → parse → check → eval`, one module each. [`Program::compile`] lexes the source
//! (collecting every lexical error), parses it (stopping at the first syntax error), expands the
//! macros (`has`, `all`, `exists`, `exists_one`, `map`, `filter` and the two-variable forms) into
//! comprehension nodes, and type-checks the tree against the declared variables in [`Decls`],
//! collecting every error it finds — every undeclared name, every impossible operator. Every error
//! carries a byte span; [`CelError::render`] turns it into `line:col: message`, the source line and
//! a caret, like the condition language does.
//!
//! [`Program::eval`] walks the tree against an [`Activation`] (the variable bindings) and returns a
//! [`Value`] or an [`EvalError`]. Evaluation follows CEL's rules: integer overflow and division by
//! zero are errors, `&&`/`||` absorb errors when the other side decides the result, `==` compares
//! `int`, `uint` and `double` by numeric value, and maps accept keys of any numeric type.
//!
//! ```
//! # #[cfg(feature = "compile")] {
//! use std::collections::BTreeMap;
//! use vitrine_cel::{Decls, Program, Type, Value};
//!
//! let decls = Decls::new().var("profile.orders.count", Type::Int).var("profile.segments", Type::List(Box::new(Type::String)));
//! let program = Program::compile("profile.orders.count >= 10 && 'vip' in profile.segments", &decls).unwrap();
//! assert_eq!(program.references(), ["profile.orders.count", "profile.segments"]);
//!
//! let mut vars = BTreeMap::new();
//! vars.insert("profile.orders.count".to_string(), Value::Int(12));
//! vars.insert("profile.segments".to_string(), Value::from(vec![Value::from("vip")]));
//! assert_eq!(program.eval(&vars).unwrap(), Value::Bool(true));
//!
//! let src = "profile.order.count > 1";
//! let errors = Program::compile(src, &decls).unwrap_err();
//! assert!(errors[0].render(src).starts_with("1:1: undeclared reference to `profile.order.count`; did you mean `profile.orders.count`?"));
//! # }
//! ```
//!
//! # Key decisions
//!
//! - Qualified names resolve by longest prefix, at run time too: for `a.b.c` the evaluator asks the
//!   activation for `a.b.c`, then `a.b`, then `a`, and selects the remaining fields. So an
//!   activation may serve dotted paths directly (`profile.orders.count`) without building maps.
//! - Resources are bounded. Sources longer than [`MAX_SOURCE_LEN`] bytes and trees deeper than
//!   [`MAX_DEPTH`] are rejected at compile time; evaluation counts steps (and bytes or elements
//!   for concatenations, string functions and comparisons of aggregates) against a budget
//!   ([`DEFAULT_BUDGET`] or [`Program::eval_with_budget`]), so nested macros over big lists stop
//!   with [`EvalErrorKind::CostExceeded`] instead of hanging. Nothing panics on any input.
//! - Timestamps are seconds plus nanoseconds within years 1 to 9999; durations are `i64`
//!   nanoseconds (about ±292 years), as in cel-go, so their arithmetic fails with a range error
//!   rather than wrapping. Time zones are `UTC` and fixed offsets (`+05:30`); IANA names are an
//!   evaluation error, because the rules database would dwarf the engine in the browser.
//! - Values are reference-counted (`Arc`) so that selecting from a big map or passing a list
//!   through a macro does not copy it, and a compiled [`Program`] can be shared between threads.
//! - No protobuf messages, no `google.protobuf.Struct`/`Any`/wrappers, no optional syntax; see
//!   `docs/cel.md` for the exact subset and the conformance-test counts.

// The browser's build is optimized for size (Cargo.toml, `[profile.snippet]`); the evaluator's hot
// functions are marked for speed there: js-snippet/build.sh passes `--cfg vitrine_snippet` to its
// build, which already enables unstable features, so stable builds never see the attribute.
#![cfg_attr(vitrine_snippet, feature(optimize_attribute))]

mod ast;
#[cfg(feature = "compile")]
mod check;
mod eval;
mod float;
mod functions;
#[cfg(feature = "compile")]
mod lex;
#[cfg(feature = "compile")]
mod parse;
pub mod sort;
mod time;
mod value;
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

#[cfg(feature = "compile")]
pub use check::nearest;
pub use float::parse_f64;
pub use time::{civil_from_days, days_from_civil, days_in_month, Duration, Timestamp};
pub use value::{base64_decode, base64_encode, Key, Kind, Map, Quoted, Value};
pub use wire::{crc32, decode, decode_text, LoadError, LoadErrorKind, WIRE_VERSION};
#[cfg(feature = "compile")]
pub use wire::{encode, encode_text};

/// A byte range `(start, end)` in the source text.
pub type Span = (usize, usize);

/// The deepest expression tree the parser builds (CEL requires at least 32 levels). Every later
/// pass recurses over the tree, so this bounds their stack use too.
pub const MAX_DEPTH: usize = 100;

/// The longest source text accepted, in bytes.
pub const MAX_SOURCE_LEN: usize = 100_000;

/// The evaluation budget [`Program::eval`] uses: roughly one unit per node visited, per
/// comprehension step, per aggregate element compared or copied and per 8 bytes of string work.
pub const DEFAULT_BUDGET: u64 = 1_000_000;

/// Whether this build evaluates every function, `matches()` (the `regex` feature), `format()`
/// (the `format` feature), the strings extension's text editing (`split`, `replace`, ...: the
/// `strings` feature) and `duration()` of a computed string (the `durations` feature) included.
/// The browser's production build has none of them: it leaves what rules calling them decide to
/// the edge ([`Program::uses_edge_function`]).
pub const EDGE_FUNCTIONS: bool = cfg!(all(feature = "regex", feature = "format", feature = "strings", feature = "durations"));

/// A compiled (parsed, macro-expanded and, unless compiled unchecked, type-checked) expression.
#[derive(Debug, Clone)]
pub struct Program {
    /// Shared: a configuration refers to one compiled program from several places, and cloning
    /// a `Program` should not copy its tree (nor link a deep `Expr::clone` into the runtimes).
    expr: Arc<ast::Expr>,
    result_type: Type,
}

impl Program {
    /// Parses and type-checks `src` against the declared variables. On failure, returns every
    /// error found: all lexical errors, or the first syntax error, or every type error.
    #[cfg(feature = "compile")]
    pub fn compile(src: &str, decls: &Decls) -> Result<Program, Vec<CelError>> {
        let mut expr = parse::parse(src)?;
        let result_type = check::check(&expr, decls)?;
        fold_constants(&mut expr)?;
        Ok(Program { expr: Arc::new(expr), result_type })
    }

    /// Parses `src` without type-checking: every name is looked up at evaluation time, and type
    /// mistakes surface as evaluation errors.
    #[cfg(feature = "compile")]
    pub fn compile_unchecked(src: &str) -> Result<Program, Vec<CelError>> {
        let mut expr = parse::parse(src)?;
        fold_constants(&mut expr)?;
        Ok(Program { expr: Arc::new(expr), result_type: Type::Dyn })
    }

    /// Evaluates with [`DEFAULT_BUDGET`].
    pub fn eval(&self, vars: &dyn Activation) -> Result<Value, EvalError> {
        self.eval_with_budget(vars, DEFAULT_BUDGET)
    }

    /// Evaluates, failing with [`EvalErrorKind::CostExceeded`] once `budget` units are spent.
    /// The result is paid for too, by its whole size: values built by macros may share parts, and
    /// the budget guarantees a caller never receives one too big to print or serialize.
    pub fn eval_with_budget(&self, vars: &dyn Activation, budget: u64) -> Result<Value, EvalError> {
        let mut eval = eval::Eval::new(vars, budget);
        let value = eval.eval(&self.expr)?;
        eval.weigh(&value, self.expr.span)?;
        Ok(value)
    }

    /// The variables the expression reads, as dotted paths (`profile.orders.count`), each once,
    /// in order of first use. Comprehension variables are not listed.
    pub fn references(&self) -> Vec<String> {
        let mut out = ast::References::default();
        ast::references(&self.expr, &mut Vec::new(), &mut out);
        out.list
    }

    /// Whether the program calls `matches()`, `format()`, one of the strings extension's text
    /// editing functions (`charAt`, `indexOf`, `lastIndexOf`, `replace`, `split`, `substring`,
    /// `reverse`) or `duration()` (of a computed string: a literal's was folded when compiling),
    /// which a build without [`EDGE_FUNCTIONS`] leaves to the edge.
    pub fn uses_edge_function(&self) -> bool {
        ast::calls(&self.expr, &ast::Func::edge_only)
    }

    /// The functions [`Program::uses_edge_function`] finds, by name, each once (an outer call
    /// before the calls in its arguments): what `vitrine bundle` names when it leaves a rule to
    /// the edge.
    pub fn edge_functions(&self) -> Vec<&'static str> {
        let found = std::cell::RefCell::new(Vec::new());
        ast::calls(&self.expr, &|f: &ast::Func| {
            let mut found = found.borrow_mut();
            if f.edge_only() && !found.contains(&f.builtin_name()) {
                found.push(f.builtin_name());
            }
            false
        });
        found.into_inner()
    }

    /// The static type of the result; `dyn` when unknown or compiled unchecked.
    pub fn result_type(&self) -> &Type {
        &self.result_type
    }
}

/// [`ast::fold_constants`], its literals that never convert as errors.
#[cfg(feature = "compile")]
fn fold_constants(expr: &mut ast::Expr) -> Result<(), Vec<CelError>> {
    let mut errors = Vec::new();
    ast::fold_constants(expr, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Variable bindings for evaluation.
pub trait Activation {
    /// The value of the variable `name`. Qualified names are asked for longest first
    /// (`a.b.c`, then `a.b`, then `a`), so an implementation may answer either form.
    fn get(&self, name: &str) -> Option<Value>;
}

impl Activation for BTreeMap<String, Value> {
    fn get(&self, name: &str) -> Option<Value> {
        BTreeMap::get(self, name).cloned()
    }
}

impl<S: std::hash::BuildHasher> Activation for HashMap<String, Value, S> {
    fn get(&self, name: &str) -> Option<Value> {
        HashMap::get(self, name).cloned()
    }
}

/// No variables at all.
impl Activation for () {
    fn get(&self, _: &str) -> Option<Value> {
        None
    }
}

/// A static type, as declared for variables and inferred by the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// Any type: checks pass and the question is left to evaluation.
    Dyn,
    Null,
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    List(Box<Type>),
    Map(Box<Type>, Box<Type>),
    Timestamp,
    Duration,
    /// The type of type values such as `int` or `type(x)`.
    Type,
    /// A map with a known set of string keys (a schema): selecting any other field is a check
    /// error that names the closest known one. At run time its values are ordinary maps.
    Object(Arc<Schema>),
}

/// The fields of an [`Type::Object`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// Shown in messages (`profile.orders`, `event`).
    pub name: String,
    pub fields: Vec<(String, Type)>,
}

impl Schema {
    pub fn new(name: impl Into<String>, fields: Vec<(&str, Type)>) -> Schema {
        Schema { name: name.into(), fields: fields.into_iter().map(|(n, t)| (n.to_owned(), t)).collect() }
    }

    pub fn field(&self, name: &str) -> Option<&Type> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

impl Type {
    /// Parses CEL's type notation: `int`, `list(string)`, `map(string, dyn)`,
    /// `google.protobuf.Timestamp`, ... (`timestamp` and `duration` are accepted as short forms).
    pub fn parse(s: &str) -> Option<Type> {
        let s = s.trim();
        if let Some(inner) = s.strip_prefix("list(").and_then(|r| r.strip_suffix(')')) {
            return Some(Type::List(Box::new(Type::parse(inner)?)));
        }
        if let Some(inner) = s.strip_prefix("map(").and_then(|r| r.strip_suffix(')')) {
            // Split at the comma that is not inside parentheses.
            let mut depth = 0usize;
            for (i, c) in inner.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth = depth.saturating_sub(1),
                    ',' if depth == 0 => {
                        let key = Type::parse(&inner[..i])?;
                        let value = Type::parse(&inner[i + 1..])?;
                        return Some(Type::Map(Box::new(key), Box::new(value)));
                    }
                    _ => {}
                }
            }
            return None;
        }
        Some(match s {
            "dyn" => Type::Dyn,
            "null_type" => Type::Null,
            "bool" => Type::Bool,
            "int" => Type::Int,
            "uint" => Type::Uint,
            "double" => Type::Double,
            "string" => Type::String,
            "bytes" => Type::Bytes,
            "list" => Type::List(Box::new(Type::Dyn)),
            "map" => Type::Map(Box::new(Type::Dyn), Box::new(Type::Dyn)),
            "google.protobuf.Timestamp" | "timestamp" => Type::Timestamp,
            "google.protobuf.Duration" | "duration" => Type::Duration,
            "type" => Type::Type,
            _ => return None,
        })
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Dyn => f.write_str("dyn"),
            Type::Null => f.write_str("null_type"),
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Uint => f.write_str("uint"),
            Type::Double => f.write_str("double"),
            Type::String => f.write_str("string"),
            Type::Bytes => f.write_str("bytes"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Map(k, v) => write!(f, "map({k}, {v})"),
            Type::Timestamp => f.write_str("google.protobuf.Timestamp"),
            Type::Duration => f.write_str("google.protobuf.Duration"),
            Type::Type => f.write_str("type"),
            Type::Object(s) => f.write_str(&s.name),
        }
    }
}

/// Variable declarations for the checker. Names may be qualified (`profile.orders.count`); a
/// qualified reference resolves to its longest declared prefix, the rest being field selections.
#[derive(Debug, Clone, Default)]
pub struct Decls {
    vars: BTreeMap<String, Type>,
}

impl Decls {
    pub fn new() -> Decls {
        Decls::default()
    }

    /// Declares (or redeclares) a variable, builder style.
    pub fn var(mut self, name: impl Into<String>, ty: Type) -> Decls {
        self.insert(name, ty);
        self
    }

    /// Declares (or redeclares) a variable.
    pub fn insert(&mut self, name: impl Into<String>, ty: Type) {
        self.vars.insert(name.into(), ty);
    }

    /// The declared type of a variable.
    pub fn get(&self, name: &str) -> Option<&Type> {
        self.vars.get(name)
    }

    #[cfg(feature = "compile")]
    fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }
}

/// A compile-time (lexical, syntax or type) error with the byte span it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct CelError {
    pub span: Span,
    pub kind: CelErrorKind,
}

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CelErrorKind {
    /// A character that starts no token.
    UnexpectedChar(char),
    /// A string, bytes or backquoted literal without its closing quote.
    UnterminatedString,
    /// A backslash escape CEL does not define, or one out of range.
    InvalidEscape(String),
    /// A number literal that does not fit its type.
    InvalidNumber(String),
    /// The parser expected one thing and found another.
    Expected { expected: &'static str, found: String },
    /// A reserved word used as a name.
    ReservedWord(String),
    /// Syntax outside the supported subset (message construction, optional selection).
    Unsupported(&'static str),
    /// A macro called with arguments of the wrong shape.
    BadMacro(String),
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Source longer than [`MAX_SOURCE_LEN`] bytes.
    TooLong,
    /// A name that is not declared, with the closest declared name if one is close.
    UndeclaredReference { name: String, suggestion: Option<String> },
    /// A function this implementation does not have.
    UnknownFunction(String),
    /// No overload of the operator or function takes these argument types.
    NoMatchingOverload { func: String, args: String },
    /// Field selection on a type that has no fields.
    NoFieldSelection(String),
    /// A field an object type does not have (`path` is `object.field`), with the closest one it
    /// has if one is close. (Two strings, like `UndeclaredReference`: a bigger error makes every
    /// parser frame bigger.)
    NoSuchField { path: String, suggestion: Option<String> },
    /// A regular expression literal that does not compile.
    InvalidRegex(String),
    /// `timestamp()` or `duration()` of a string literal that does not convert (the conversion's
    /// message): every evaluation would fail.
    InvalidLiteral(String),
}

impl fmt::Display for CelErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CelErrorKind::UnexpectedChar(c) => write!(f, "unexpected character {c:?}"),
            CelErrorKind::UnterminatedString => f.write_str("unterminated literal"),
            CelErrorKind::InvalidEscape(e) => write!(f, "invalid escape sequence {e}"),
            CelErrorKind::InvalidNumber(n) => write!(f, "invalid number literal {n}"),
            CelErrorKind::Expected { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            CelErrorKind::ReservedWord(w) => write!(f, "`{w}` is a reserved word"),
            CelErrorKind::Unsupported(what) => write!(f, "{what} is not supported"),
            CelErrorKind::BadMacro(msg) => f.write_str(msg),
            CelErrorKind::TooDeep => write!(f, "expression nested deeper than {MAX_DEPTH} levels"),
            CelErrorKind::TooLong => write!(f, "expression longer than {MAX_SOURCE_LEN} bytes"),
            CelErrorKind::UndeclaredReference { name, suggestion: Some(s) } => {
                write!(f, "undeclared reference to `{name}`; did you mean `{s}`?")
            }
            CelErrorKind::UndeclaredReference { name, suggestion: None } => write!(f, "undeclared reference to `{name}`"),
            CelErrorKind::UnknownFunction(name) => write!(f, "unknown function `{name}`"),
            CelErrorKind::NoMatchingOverload { func, args } => {
                write!(f, "no matching overload for `{func}` applied to ({args})")
            }
            CelErrorKind::NoFieldSelection(ty) => {
                write!(f, "type `{ty}` does not support field selection")
            }
            CelErrorKind::NoSuchField { path, suggestion } => {
                let (object, field) = path.rsplit_once('.').unwrap_or(("object", path));
                write!(f, "`{object}` has no field `{field}`")?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean `{s}`?"),
                    None => Ok(()),
                }
            }
            CelErrorKind::InvalidRegex(msg) => write!(f, "invalid regular expression: {msg}"),
            CelErrorKind::InvalidLiteral(msg) => write!(f, "{msg}: this call would fail every evaluation"),
        }
    }
}

impl CelError {
    #[cfg(feature = "compile")]
    pub(crate) fn new(span: Span, kind: CelErrorKind) -> CelError {
        CelError { span, kind }
    }

    /// `line:col: message`, the source line and a caret under the span.
    pub fn render(&self, source: &str) -> String {
        render(source, self.span, &self.kind)
    }
}

impl fmt::Display for CelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.span.0, self.kind)
    }
}

impl std::error::Error for CelError {}

/// An evaluation error with the span of the expression that raised it.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    pub span: Span,
    pub kind: EvalErrorKind,
}

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EvalErrorKind {
    /// A variable the activation does not bind.
    UnboundVariable(String),
    /// A function this implementation does not have (only reachable unchecked).
    UnknownFunction(String),
    /// No overload of the operator or function takes the argument types.
    NoMatchingOverload { func: String, args: String },
    /// Integer arithmetic outside the range of `int` or `uint`.
    Overflow,
    /// Division by zero.
    DivisionByZero,
    /// Modulus by zero.
    ModulusByZero,
    /// A conversion, timestamp or duration outside the range of its type.
    Range(String),
    /// A map key (or field) that is not present.
    NoSuchKey(String),
    /// A field (a string key selected as `x.field`) that is not present: [`EvalErrorKind::NoSuchKey`]
    /// with the key quoted, kept unformatted because a missing field is common inside
    /// comprehensions (`e.category` of an event without one) and its message rarely read.
    NoSuchField(Arc<str>),
    /// An index or position outside its list or string.
    IndexOutOfRange(String),
    /// An argument of the right type with an unusable value.
    InvalidArgument(String),
    /// The same key twice in a map literal.
    RepeatedKey(String),
    /// A map key that is not an `int`, `uint`, `bool` or `string`.
    UnsupportedKeyType(String),
    /// A regular expression that does not compile.
    InvalidRegex(String),
    /// A time zone that is neither `UTC` nor a fixed offset.
    UnsupportedTimeZone(String),
    /// The evaluation budget ran out.
    CostExceeded,
    /// A function this build leaves to the edge, by name (`matches` without the `regex` feature).
    EdgeOnly(&'static str),
}

impl fmt::Display for EvalErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalErrorKind::UnboundVariable(name) => write!(f, "no value for variable `{name}`"),
            EvalErrorKind::UnknownFunction(name) => write!(f, "unknown function `{name}`"),
            EvalErrorKind::NoMatchingOverload { func, args } => {
                write!(f, "no matching overload for `{func}` applied to ({args})")
            }
            EvalErrorKind::Overflow => f.write_str("integer overflow"),
            EvalErrorKind::DivisionByZero => f.write_str("division by zero"),
            EvalErrorKind::ModulusByZero => f.write_str("modulus by zero"),
            EvalErrorKind::Range(what) => write!(f, "{what} out of range"),
            EvalErrorKind::NoSuchKey(key) => write!(f, "no such key: {key}"),
            EvalErrorKind::NoSuchField(field) => write!(f, "no such key: '{field}'"),
            EvalErrorKind::IndexOutOfRange(index) => write!(f, "index out of range: {index}"),
            EvalErrorKind::InvalidArgument(msg) => f.write_str(msg),
            EvalErrorKind::RepeatedKey(key) => write!(f, "repeated key {key} in map literal"),
            EvalErrorKind::UnsupportedKeyType(ty) => write!(f, "unsupported map key type {ty}"),
            EvalErrorKind::InvalidRegex(msg) => write!(f, "invalid regular expression: {msg}"),
            EvalErrorKind::UnsupportedTimeZone(tz) => {
                write!(f, "unsupported time zone {}; use \"UTC\" or a fixed offset such as \"+05:30\"", Quoted(tz))
            }
            EvalErrorKind::CostExceeded => f.write_str("evaluation cost budget exceeded"),
            EvalErrorKind::EdgeOnly(func) => write!(f, "{func}() is evaluated at the edge only (this build leaves it out)"),
        }
    }
}

/// An evaluation error's detail (the variable, the argument types, the key...), built only with
/// the `messages` feature. Without it (the browser's production build, where only traces would
/// show a message and there are none), errors carry an empty detail and cost no formatting:
/// their kind is all evaluation reads.
#[inline(always)]
pub(crate) fn detail(f: impl FnOnce() -> String) -> String {
    if cfg!(feature = "messages") {
        f()
    } else {
        String::new()
    }
}

impl EvalError {
    /// `line:col: message`, the source line and a caret under the failing expression.
    pub fn render(&self, source: &str) -> String {
        render(source, self.span, &self.kind)
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.span.0, self.kind)
    }
}

impl std::error::Error for EvalError {}

/// The shared `line:col` renderer. Spans from another source (or past its end) are clamped to
/// character boundaries rather than trusted.
fn render(source: &str, span: Span, message: &dyn fmt::Display) -> String {
    let floor = |mut i: usize| {
        i = i.min(source.len());
        while !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(span.0);
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[start..].find('\n').map_or(source.len(), |i| start + i);
    let line_no = source[..start].matches('\n').count() + 1;
    let col = source[line_start..start].chars().count() + 1;
    let end = floor(span.1).clamp(start, line_end);
    let width = source[start..end].chars().count().max(1);
    format!("{line_no}:{col}: {message}\n  {}\n  {}{}", &source[line_start..line_end], " ".repeat(col - 1), "^".repeat(width))
}

#[cfg(test)]
#[cfg(feature = "compile")]
mod tests {
    use super::*;

    fn decls() -> Decls {
        Decls::new()
            .var("profile.orders.count", Type::Int)
            .var("profile.orders.last", Type::Timestamp)
            .var("profile.segments", Type::List(Box::new(Type::String)))
            .var("profile.traits", Type::parse("map(string, string)").unwrap())
            .var("now", Type::Timestamp)
    }

    fn vars() -> BTreeMap<String, Value> {
        let mut traits = BTreeMap::new();
        traits.insert(Key::from("tier"), Value::from("gold"));
        let mut v = BTreeMap::new();
        v.insert("profile.orders.count".to_string(), Value::Int(3));
        v.insert("profile.orders.last".to_string(), Value::Timestamp(Timestamp::new(1_234_567_890, 0).unwrap()));
        v.insert("profile.segments".to_string(), Value::from(vec![Value::from("vip"), Value::from("new")]));
        v.insert("profile.traits".to_string(), Value::from(traits));
        v.insert("now".to_string(), Value::Timestamp(Timestamp::new(1_234_567_890 + 86_400 * 100, 0).unwrap()));
        v
    }

    fn eval(src: &str) -> Result<Value, EvalError> {
        let program = Program::compile(src, &decls()).unwrap_or_else(|e| panic!("{}", e[0].render(src)));
        program.eval(&vars())
    }

    fn check(src: &str, expected: impl Into<Value>) {
        match eval(src) {
            Ok(v) => assert_eq!(v, expected.into(), "{src}"),
            Err(e) => panic!("{src}: {}", e.render(src)),
        }
    }

    fn compile_error(src: &str) -> Vec<CelErrorKind> {
        match Program::compile(src, &decls()) {
            Ok(_) => panic!("{src} compiled"),
            Err(errors) => errors.into_iter().map(|e| e.kind).collect(),
        }
    }

    fn eval_error(src: &str) -> EvalErrorKind {
        match Program::compile_unchecked(src).unwrap_or_else(|e| panic!("{}", e[0].render(src))).eval(&vars()) {
            Ok(v) => panic!("{src} gave {v:?}"),
            Err(e) => e.kind,
        }
    }

    #[test]
    fn evaluates_profile_conditions() {
        check("profile.orders.count >= 3 && 'vip' in profile.segments", true);
        check("profile.traits.tier == 'gold' && profile.traits['tier'].startsWith('go')", true);
        check("now - profile.orders.last >= duration('2400h')", true);
        check("(now - profile.orders.last).getHours() / 24", 100i64);
        check("profile.orders.last.getDayOfWeek('+05:30')", 6i64);
        check("profile.segments.exists(s, s.matches('^v.p$'))", true);
        check("profile.segments.map(s, s.upperAscii()).join(', ')", "VIP, NEW");
    }

    #[test]
    fn constant_conversions_are_folded_and_bad_ones_are_compile_errors() {
        let tree = |src: &str| Program::compile(src, &decls()).unwrap().expr.kind.clone();
        assert!(matches!(tree("duration('168h')"), ast::ExprKind::Lit(Value::Duration(_))));
        assert!(matches!(tree("timestamp('2011-01-01T00:00:00Z')"), ast::ExprKind::Lit(Value::Timestamp(_))));
        check("now - profile.orders.last < duration('2401h') && profile.orders.last > timestamp('2009-02-13T23:31:29Z')", true);
        // In a comprehension, each element compares with the one folded value.
        check("[1, 2].all(i, duration('1h') == duration('3600s'))", true);
        // A literal that never converts would fail every evaluation: each is located, checked or not.
        let src = "duration('168 hours') > duration('1h') || now > timestamp('2011-13-01T00:00:00Z')";
        for errors in [Program::compile(src, &decls()).unwrap_err(), Program::compile_unchecked(src).unwrap_err()] {
            let found: Vec<(Span, String)> = errors.iter().map(|e| (e.span, e.render(src))).collect();
            assert_eq!(found.len(), 2, "{found:?}");
            assert_eq!(found[0].0, (0, 21));
            assert!(found[0].1.starts_with("1:1: cannot convert \"168 hours\" to duration"), "{}", found[0].1);
            assert!(found[0].1.ends_with("this call would fail every evaluation\n  duration('168 hours') > duration('1h') || now > timestamp('2011-13-01T00:00:00Z')\n  ^^^^^^^^^^^^^^^^^^^^^"), "{}", found[0].1);
            assert_eq!(found[1].0, (48, 81));
            assert!(found[1].1.starts_with("1:49: cannot convert \"2011-13-01T00:00:00Z\" to timestamp"), "{}", found[1].1);
        }
        // A string computed while evaluating is converted then (a build without `durations` leaves
        // its `duration()` to the edge).
        check("duration(string(24 * 7) + 'h') == duration('168h')", true);
    }

    #[test]
    fn the_functions_left_to_the_edge_are_named_by_the_program() {
        let edge = |src: &str| Program::compile_unchecked(src).unwrap().uses_edge_function();
        for src in [
            "x.matches('^a')",
            "'%d'.format([1])",
            "x.charAt(0) == 'a'",
            "x.indexOf('@') > 0",
            "x.lastIndexOf('@') > 0",
            "x.replace('a', 'b') == ''",
            "[1].exists(i, x.split('@')[0] == 'ann')",
            "x.substring(1) == ''",
            "x.reverse() == ''",
            // Of a string computed while evaluating (a literal's was folded when compiling).
            "duration(x) > duration('1h')",
        ] {
            assert!(edge(src), "{src}");
        }
        for src in [
            "x.lowerAscii() == 'a'",
            "x.upperAscii().trim() == 'A'",
            "['a'].join('-') == 'a'",
            "x.startsWith('a') && x.contains('b')",
            // Folded when compiling: no call is left.
            "duration('168h') > duration('1h') && timestamp(x) > timestamp('2026-01-01T00:00:00Z')",
        ] {
            assert!(!edge(src), "{src}");
        }
        let names = |src: &str| Program::compile_unchecked(src).unwrap().edge_functions();
        assert_eq!(names("x.split('@')[0].matches('a') || x.split(',').size() > 1 || '%d'.format([1]) == ''"), ["matches", "split", "format"]);
        assert!(names("x.startsWith('a')").is_empty());
        assert_eq!(names("duration(x + 'h') > duration('1h')"), ["duration"]);
    }

    #[test]
    fn arithmetic_follows_cel() {
        assert_eq!(eval_error("9223372036854775807 + 1"), EvalErrorKind::Overflow);
        assert_eq!(eval_error("1 / 0"), EvalErrorKind::DivisionByZero);
        assert_eq!(eval_error("1u - 2u"), EvalErrorKind::Overflow);
        assert!(matches!(eval_error("1 + 1u"), EvalErrorKind::NoMatchingOverload { .. }));
        check("-9223372036854775808", i64::MIN);
        check("1 == 1.0 && 1u == 1 && [1, 2u] == [1.0, 2]", true);
        check("{1: 'a'}[1u] + string({'b': 2}.b)", "a2");
        // A decided && or || absorbs an error on either side.
        check("1 / 0 == 1 || true", true);
        check("false && 1 / 0 == 1", false);
        assert_eq!(eval_error("true && 1 / 0 == 1"), EvalErrorKind::DivisionByZero);
    }

    #[test]
    fn errors_are_rendered_with_line_col_and_caret() {
        let src = "profile.orders.count >= 2 &&\n  profile.order.last > 0";
        let errors = Program::compile(src, &decls()).unwrap_err();
        assert_eq!(
            errors[0].render(src),
            "2:3: undeclared reference to `profile.order.last`; did you mean `profile.orders.last`?\n    profile.order.last > 0\n    ^^^^^^^^^^^^^^^^^^"
        );
        let src = "1 +\n  (2 / 0)";
        let e = Program::compile(src, &decls()).unwrap().eval(&()).unwrap_err();
        assert_eq!(e.render(src), "2:3: division by zero\n    (2 / 0)\n    ^^^^^^^");
        let src = "size('é') > 'x";
        let errors = Program::compile(src, &decls()).unwrap_err();
        assert_eq!(errors[0].render(src), "1:13: unterminated literal\n  size('é') > 'x\n              ^^");
        // Spans from elsewhere are clamped, never sliced through a character.
        let e = CelError::new((1, 99), CelErrorKind::TooDeep);
        assert_eq!(e.render("é"), format!("1:1: expression nested deeper than {MAX_DEPTH} levels\n  é\n  ^"));
    }

    #[test]
    fn every_error_is_reported() {
        let kinds = compile_error("foo + bar.baz + qux(1) + profile.order.count");
        assert_eq!(kinds.len(), 4, "{kinds:?}");
        assert_eq!(kinds[0], CelErrorKind::UndeclaredReference { name: "foo".into(), suggestion: None });
        assert_eq!(kinds[1], CelErrorKind::UndeclaredReference { name: "bar.baz".into(), suggestion: None });
        assert_eq!(kinds[2], CelErrorKind::UnknownFunction("qux".into()));
        let suggestion = Some("profile.orders.count".to_string());
        assert_eq!(kinds[3], CelErrorKind::UndeclaredReference { name: "profile.order.count".into(), suggestion });
        // Every lexical error, not just the first.
        let kinds = compile_error(r#"'\q' + "\u12" + 3 ^"#);
        assert!(matches!(kinds.as_slice(), [CelErrorKind::InvalidEscape(_), CelErrorKind::InvalidEscape(_), CelErrorKind::UnexpectedChar('^')]), "{kinds:?}");
    }

    #[test]
    fn type_errors_are_caught_when_compiling() {
        for src in [
            "profile.orders.count == 'many'",
            "profile.traits.tier + 1",
            "size(profile.orders.count)",
            "profile.orders.count.value",
            "profile.segments.all(s, s)",
            "!profile.orders.count",
            "profile.orders.last < 5",
            "profile.segments[0] > 1",
            "'gold' in profile.orders.count",
            "profile.traits.tier.startsWith(1)",
            "profile.orders.count * 2.0 > 5",
            "[1.5]",
        ] {
            let ok = src == "[1.5]";
            assert_eq!(Program::compile(src, &decls()).is_ok(), ok, "{src}");
        }
        assert_eq!(Program::compile("profile.segments", &decls()).unwrap().result_type().to_string(), "list(string)");
        assert_eq!(Program::compile("{'a': [1], 'b': []}", &decls()).unwrap().result_type().to_string(), "map(string, dyn)");
    }

    #[test]
    fn depth_is_limited() {
        let nest = |open: &str, leaf: &str, close: &str, n: usize| format!("{}{leaf}{}", open.repeat(n), close.repeat(n));
        // CEL asks for at least 32 levels; MAX_DEPTH allows more and refuses beyond.
        for (open, leaf, close) in [("(", "1", ")"), ("[", "1", "]"), ("-", "1", ""), ("!", "true", ""), ("size([", "1", "])"), ("[1].all(x, ", "true", ")")] {
            let ok = nest(open, leaf, close, 32);
            assert!(Program::compile_unchecked(&ok).is_ok(), "{ok}");
            let deep = nest(open, leaf, close, MAX_DEPTH + 1);
            let kinds = Program::compile_unchecked(&deep).unwrap_err();
            assert_eq!(kinds[0].kind, CelErrorKind::TooDeep, "{open}");
        }
        let chain = |op: &str, n: usize| vec!["1"; n].join(op);
        assert!(Program::compile_unchecked(&chain(" + ", 50)).is_ok());
        assert_eq!(Program::compile_unchecked(&chain(" + ", MAX_DEPTH + 2)).unwrap_err()[0].kind, CelErrorKind::TooDeep);
        assert_eq!(Program::compile_unchecked(&format!("a{}", ".b".repeat(MAX_DEPTH + 1))).unwrap_err()[0].kind, CelErrorKind::TooDeep);
        // `||` and `&&` chains are flat, so long lists of alternatives are fine.
        let alternatives = vec!["false"; 5000].join(" || ");
        assert_eq!(Program::compile_unchecked(&alternatives).unwrap().eval(&()).unwrap(), Value::Bool(false));
        let long = "1 + ".repeat(MAX_SOURCE_LEN / 4 + 1) + "1";
        assert_eq!(Program::compile_unchecked(&long).unwrap_err()[0].kind, CelErrorKind::TooLong);
    }

    #[test]
    fn deepest_programs_fit_a_small_stack() {
        // Wasm gets a 1 MiB stack. Optimized builds need about 400 KiB for the deepest programs
        // MAX_DEPTH lets through, so half of Wasm's stack is asserted; unoptimized builds need
        // several times more, and are only checked not to overflow a generous stack.
        let stack = if cfg!(debug_assertions) { 8 << 20 } else { 512 << 10 };
        let run = || {
            let deep = |open: &str, leaf: &str, close: &str, n: usize| format!("{}{leaf}{}", open.repeat(n), close.repeat(n));
            let n = MAX_DEPTH - 1;
            for src in [
                deep("(", "1", ")", n),
                deep("-(", "1", ")", n / 2),
                deep("[", "1", "]", n),
                deep("[1].map(x, ", "x", ")", n - 10),
                deep("{1: ", "2", "}", n),
                deep("size([", "1", "])", n / 2),
            ] {
                let program = Program::compile(&src, &Decls::new()).unwrap_or_else(|e| panic!("{}", e[0].render(&src)));
                program.eval(&()).unwrap();
                let _ = program.references();
            }
        };
        std::thread::Builder::new().stack_size(stack).spawn(run).unwrap().join().unwrap();
    }

    #[test]
    fn cost_budget_stops_runaway_evaluation() {
        let items = format!("[{}]", vec!["1"; 200].join(", "));
        // 200^3 iterations.
        let cubic = format!("{items}.all(a, {items}.all(b, {items}.all(c, true)))");
        assert_eq!(eval_error(&cubic), EvalErrorKind::CostExceeded);
        // Exceeding the budget is not absorbed by `||`.
        assert_eq!(eval_error(&format!("{cubic} || true")), EvalErrorKind::CostExceeded);
        assert_eq!(eval_error(&format!("{items}.exists(x, {cubic})")), EvalErrorKind::CostExceeded);
        // Doubling a list at every step grows exponentially: stopped by the size charges.
        // Each step doubles the value's logical size while sharing its parts in memory; the
        // result, comparing it and rendering it are all paid for by logical size.
        let doubling = format!("[1]{}", ".map(x, [x, x]).map(y, y + y)".repeat(30));
        assert_eq!(eval_error(&doubling), EvalErrorKind::CostExceeded);
        assert_eq!(eval_error(&format!("{doubling} == {doubling}")), EvalErrorKind::CostExceeded);
        assert_eq!(eval_error(&format!("{doubling}[0] in [{doubling}[0]]")), EvalErrorKind::CostExceeded);
        assert_eq!(eval_error(&format!("'%s'.format([{doubling}]).size() > 0")), EvalErrorKind::CostExceeded);
        // Replacing every position of a long string with a long string.
        let long = "a".repeat(5000);
        assert_eq!(eval_error(&format!("'{long}'.replace('', '{long}')")), EvalErrorKind::CostExceeded);
        // A small budget is respected exactly.
        let program = Program::compile_unchecked("[1, 2, 3].map(x, x * 2)").unwrap();
        assert!(program.eval_with_budget(&(), 5).is_err());
        assert_eq!(program.eval_with_budget(&(), 100).unwrap(), Value::from(vec![Value::Int(2), Value::Int(4), Value::Int(6)]));
    }

    #[test]
    fn never_panics_on_hostile_input() {
        let nasty = [
            "",
            " ",
            "'",
            "\"",
            "'''",
            "\"\"\"ab",
            "b'\\",
            "'\\u",
            "'\\U0011FFFF'",
            "'\\uD800'",
            "b'\\u0041'",
            "'\\777'",
            "0x",
            "0xFFFFFFFFFFFFFFFFF",
            "1e",
            "1e999",
            "99999999999999999999",
            "-9223372036854775809",
            "9223372036854775808",
            "a.",
            ".",
            "`",
            "`a",
            "`é`",
            "{",
            "[1,",
            "{1:",
            "has(",
            "has()",
            "has(a)",
            "has(a.b, c)",
            "x.all(1, 2)",
            "x.map(y)",
            "é",
            "'é\\xé'",
            "\u{0}",
            "1 ? 2",
            "a[",
            "a.?b",
            "a[?0]",
            "A{}",
            "a.b{}",
            ".1",
            "1.",
            "..",
            "r",
            "br",
            "rb'x'",
            "int(double('NaN'))",
            "uint(-0.0)",
            "int(1e300)",
            "timestamp(9223372036854775807)",
            "duration('9223372036854775807h')",
            "'a'.substring(1, 0)",
            "'ab'.charAt(-9223372036854775808)",
            "'a'.indexOf('', 9223372036854775807)",
            "'%.999f'.format([1.0])",
            "'%'.format([])",
            "'%.'.format([1])",
            "'x'.matches('(')",
            "'x'.matches('a{1000}{1000}')",
            "[1][9223372036854775807u]",
            "[1][-1]",
            "[1][dyn(1e300)]",
            "{1: 2}[dyn(1e300)]",
            "-(-9223372036854775808)",
            "duration('1s') - timestamp('2000-01-01T00:00:00Z')",
            "'abc'.split('', -1)",
            "timestamp('9999-12-31T23:59:59Z').getDayOfYear('-23:59')",
            "timestamp('0001-01-01T00:00:00Z').getFullYear('+23:59')",
            "dyn",
            "[].transformMap(i, v, v)",
            "{}.map(k, v, k)",
            "'\\'\\'\\''",
            "r'''\n'''",
            "'a\nb'",
            "b'\\xff'.string()",
            "string(b'\\xff')",
        ];
        for src in nasty {
            if let Ok(program) = Program::compile_unchecked(src) {
                let _ = program.eval_with_budget(&vars(), 10_000);
                let _ = program.references();
            }
            let _ = Program::compile(src, &decls()).map_err(|e| e.iter().map(|e| e.render(src)).collect::<Vec<_>>());
        }
        // Random token soup, reproducible (a linear congruential generator, no dependencies).
        let tokens = [
            "1", "2u", "1.5", "'s'", "b'b'", "x", "profile", ".", "orders", "(", ")", "[", "]", "{", "}", ":", ",", "?", "+", "-", "*", "/", "%", "!", "==",
            "<", ">=", "&&", "||", "in", "true", "null", "has", "all", "map", "size", "int", "e", "`k`", "'%s'", "format", "matches", "'\\x4",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let mut src = String::new();
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            for _ in 0..(seed >> 59) + 1 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                src.push_str(tokens[(seed >> 33) as usize % tokens.len()]);
                src.push(' ');
            }
            if let Ok(program) = Program::compile_unchecked(&src) {
                let _ = program.eval_with_budget(&vars(), 10_000);
            }
            let _ = Program::compile(&src, &decls());
        }
    }

    #[test]
    fn references_list_each_path_once() {
        let src = "profile.orders.count > 1 && profile.segments.exists(s, s == profile.traits.tier) && profile.orders.count < 9 && now > profile.orders.last";
        let program = Program::compile(src, &decls()).unwrap();
        assert_eq!(program.references(), ["profile.orders.count", "profile.segments", "profile.traits.tier", "now", "profile.orders.last"]);
        let program = Program::compile_unchecked("[1].map(x, x.y + z)").unwrap();
        assert_eq!(program.references(), ["z"]);
    }

    #[test]
    fn qualified_names_resolve_longest_first() {
        let mut m = BTreeMap::new();
        m.insert(Key::from("c"), Value::from("from a.b"));
        let mut vars = BTreeMap::new();
        vars.insert("a.b".to_string(), Value::from(m));
        let program = Program::compile_unchecked("a.b.c").unwrap();
        assert_eq!(program.eval(&vars).unwrap(), Value::from("from a.b"));
        vars.insert("a.b.c".to_string(), Value::from("from a.b.c"));
        assert_eq!(program.eval(&vars).unwrap(), Value::from("from a.b.c"));
        // Parentheses force field selection; a comprehension variable shadows qualified names.
        assert_eq!(Program::compile_unchecked("(a.b).c").unwrap().eval(&vars).unwrap(), Value::from("from a.b"));
        assert_eq!(Program::compile_unchecked("[{'c': 1}].map(a, a.c)").unwrap().eval(&vars).unwrap(), Value::from(vec![Value::Int(1)]));
        assert_eq!(Program::compile_unchecked("has(a.b.c)").unwrap().eval(&vars).unwrap(), Value::Bool(true));
    }

    #[test]
    fn json_conversions_round_trip() {
        for src in
            ["[1, 2u, 1.5, 'x', b'\\xff', true, null, {'k': [1]}, int, timestamp('2009-02-13T23:31:30.5Z'), duration('-1.5s')]", "0.0 / 0.0", "-1.0 / 0.0"]
        {
            let v = Program::compile_unchecked(src).unwrap().eval(&()).unwrap();
            let back = Value::from_typed_json(&v.to_typed_json()).unwrap();
            assert_eq!(back.to_typed_json(), v.to_typed_json(), "{src}");
        }
        assert_eq!(Value::from_typed_json(&serde_json::json!({"bytes_b64": "AP8="})).unwrap(), Value::Bytes(vec![0, 255].into()));
        assert!(Value::from_typed_json(&serde_json::json!({"int": "x"})).is_err());
        assert!(Value::from_typed_json(&serde_json::json!({"map": [[{"double": 1.0}, {"int": "1"}]]})).is_err());
        let json = serde_json::json!({"count": 12, "big": 18_446_744_073_709_551_615u64, "aov": 1.5, "tags": ["a"], "none": null});
        let plain = Value::from_json(&json);
        let ints = Value::from_json_with_ints(&json);
        let get = |v: &Value, k: &str| match v {
            Value::Map(m) => m[&Key::from(k)].clone(),
            _ => Value::Null,
        };
        assert_eq!(get(&plain, "count"), Value::Double(12.0));
        assert_eq!(get(&ints, "count"), Value::Int(12));
        assert_eq!(get(&ints, "big"), Value::Uint(u64::MAX));
        assert_eq!(get(&ints, "aov"), Value::Double(1.5));
        assert_eq!(get(&ints, "tags"), Value::from(vec![Value::from("a")]));
    }

    #[test]
    fn types_parse_and_print() {
        for t in ["int", "list(string)", "map(string, list(map(int, dyn)))", "google.protobuf.Timestamp", "null_type", "type"] {
            assert_eq!(Type::parse(t).unwrap().to_string(), t);
        }
        assert_eq!(Type::parse("map(string)"), None);
        assert_eq!(Type::parse("Foo"), None);
    }
}
