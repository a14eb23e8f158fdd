//! The CEL type checker: infers a static type for every node against the declarations and
//! collects every error, so one compile reports all undeclared names and impossible operations.
//!
//! The checker is deliberately gradual: `dyn` passes everywhere, mixed list and map literals
//! become `list(dyn)`/`map(dyn, dyn)`, and `int`, `uint` and `double` may be compared with each
//! other, because evaluation defines all of those. It rejects what can only fail at run time.

use std::sync::Arc;

use super::ast::{BinOp, Expr, ExprKind, Func, Macro};
use super::value::{Kind, Value};
use super::{CelError, CelErrorKind, Decls, Span, Type};

pub(crate) fn check(e: &Expr, decls: &Decls) -> Result<Type, Vec<CelError>> {
    let mut c = Checker { decls, locals: Vec::new(), errors: Vec::new() };
    let t = c.ty(e);
    if c.errors.is_empty() {
        Ok(t)
    } else {
        Err(c.errors)
    }
}

struct Checker<'a> {
    decls: &'a Decls,
    locals: Vec<(Arc<str>, Type)>,
    errors: Vec<CelError>,
}

fn is_num(t: &Type) -> bool {
    matches!(t, Type::Int | Type::Uint | Type::Double)
}

/// Whether `==` between the two types can ever be true.
fn comparable(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Dyn | Type::Null, _) | (_, Type::Dyn | Type::Null) => true,
        (Type::List(x), Type::List(y)) => comparable(x, y),
        (Type::Map(k1, v1), Type::Map(k2, v2)) => comparable(k1, k2) && comparable(v1, v2),
        (Type::Object(_), Type::Map(..) | Type::Object(_)) | (Type::Map(..), Type::Object(_)) => true,
        _ => a == b || (is_num(a) && is_num(b)),
    }
}

/// The common type of two branches or elements: the type itself when equal, else `dyn`.
fn join(a: &Type, b: &Type) -> Type {
    if a == b {
        a.clone()
    } else {
        Type::Dyn
    }
}

fn list(t: Type) -> Type {
    Type::List(Box::new(t))
}

impl Checker<'_> {
    fn error(&mut self, span: Span, kind: CelErrorKind) -> Type {
        self.errors.push(CelError::new(span, kind));
        Type::Dyn
    }

    fn no_overload(&mut self, span: Span, func: &str, args: &[&Type]) -> Type {
        let args = args.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
        self.error(span, CelErrorKind::NoMatchingOverload { func: func.to_string(), args })
    }

    /// Reports unless `t` can be a bool.
    fn want_bool(&mut self, t: &Type, span: Span, func: &str) {
        if !matches!(t, Type::Bool | Type::Dyn) {
            self.no_overload(span, func, &[t]);
        }
    }

    /// Reports unless `t` can be a bool, for macro predicates and filters.
    fn want_predicate(&mut self, t: &Type, span: Span) {
        if !matches!(t, Type::Bool | Type::Dyn) {
            self.error(span, CelErrorKind::Expected { expected: "a bool predicate", found: format!("a value of type `{t}`") });
        }
    }

    fn ty(&mut self, e: &Expr) -> Type {
        match &e.kind {
            ExprKind::Lit(v) => match v {
                Value::Null => Type::Null,
                Value::Bool(_) => Type::Bool,
                Value::Int(_) => Type::Int,
                Value::Uint(_) => Type::Uint,
                Value::Double(_) => Type::Double,
                Value::String(_) => Type::String,
                Value::Bytes(_) => Type::Bytes,
                Value::List(_) => list(Type::Dyn),
                Value::Map(_) => Type::Map(Box::new(Type::Dyn), Box::new(Type::Dyn)),
                Value::Timestamp(_) => Type::Timestamp,
                Value::Duration(_) => Type::Duration,
                Value::Type(_) => Type::Type,
            },
            ExprKind::Ident(name) => self.name(name, e.span),
            ExprKind::Select { operand, field, test, qualified } => {
                if let Some(q) = qualified.as_deref().filter(|q| !self.is_local_root(q)) {
                    if !*test {
                        return self.qualified(q, e.span);
                    }
                    if self.decls.get(q).is_some() {
                        return Type::Bool;
                    }
                }
                let t = self.ty(operand);
                let field_type = self.field(&t, field, e.span);
                if *test {
                    Type::Bool
                } else {
                    field_type
                }
            }
            ExprKind::Index(a, i) => {
                let (base, index) = (self.ty(a), self.ty(i));
                match &base {
                    Type::Dyn => Type::Dyn,
                    Type::List(elem) if matches!(index, Type::Int | Type::Uint | Type::Dyn) => (**elem).clone(),
                    Type::Map(k, v) if comparable(k, &index) && index != Type::Null => (**v).clone(),
                    Type::Object(_) if matches!(index, Type::String | Type::Dyn) => Type::Dyn,
                    _ => self.no_overload(e.span, "_[_]", &[&base, &index]),
                }
            }
            ExprKind::Call { func, receiver, args } => {
                let types: Vec<Type> = args.iter().map(|a| self.ty(a)).collect();
                self.call(func, *receiver, &types, e.span)
            }
            ExprKind::List(items) => {
                let types: Vec<Type> = items.iter().map(|i| self.ty(i)).collect();
                list(types.split_first().map_or(Type::Dyn, |(first, rest)| rest.iter().fold(first.clone(), |acc, t| join(&acc, t))))
            }
            ExprKind::Map(entries) => {
                let mut key: Option<Type> = None;
                let mut value: Option<Type> = None;
                for (k, v) in entries {
                    let kt = self.ty(k);
                    if !matches!(kt, Type::Int | Type::Uint | Type::Bool | Type::String | Type::Dyn) {
                        self.no_overload(k.span, "map key", &[&kt]);
                    }
                    let vt = self.ty(v);
                    key = Some(key.map_or(kt.clone(), |acc| join(&acc, &kt)));
                    value = Some(value.map_or(vt.clone(), |acc| join(&acc, &vt)));
                }
                Type::Map(Box::new(key.unwrap_or(Type::Dyn)), Box::new(value.unwrap_or(Type::Dyn)))
            }
            ExprKind::Not(a) => {
                let t = self.ty(a);
                self.want_bool(&t, e.span, "!_");
                Type::Bool
            }
            ExprKind::Neg(a) => match self.ty(a) {
                t @ (Type::Int | Type::Double | Type::Dyn) => t,
                t => self.no_overload(e.span, "-_", &[&t]),
            },
            ExprKind::Binary(op, a, b) => {
                let (x, y) = (self.ty(a), self.ty(b));
                match binary(*op, &x, &y) {
                    Some(t) => t,
                    None => self.no_overload(e.span, op.symbol(), &[&x, &y]),
                }
            }
            ExprKind::And(items) | ExprKind::Or(items) => {
                let func = if matches!(e.kind, ExprKind::And(_)) { "_&&_" } else { "_||_" };
                for item in items {
                    let t = self.ty(item);
                    self.want_bool(&t, item.span, func);
                }
                Type::Bool
            }
            ExprKind::Cond(c, a, b) => {
                let t = self.ty(c);
                self.want_bool(&t, c.span, "_?_:_");
                let (x, y) = (self.ty(a), self.ty(b));
                join(&x, &y)
            }
            ExprKind::Comprehension(c) => {
                let range = self.ty(&c.range);
                let two = c.var2.is_some();
                let (first, second) = match &range {
                    Type::List(elem) if two => (Type::Int, (**elem).clone()),
                    Type::List(elem) => ((**elem).clone(), Type::Dyn),
                    Type::Map(k, v) => ((**k).clone(), (**v).clone()),
                    Type::Object(_) => (Type::String, Type::Dyn),
                    Type::Dyn => (Type::Dyn, Type::Dyn),
                    _ => {
                        self.no_overload(c.range.span, "comprehension range", &[&range]);
                        (Type::Dyn, Type::Dyn)
                    }
                };
                let before = self.locals.len();
                self.locals.push((c.var.clone(), first.clone()));
                if let Some(v2) = &c.var2 {
                    self.locals.push((v2.clone(), second));
                }
                if let Some(f) = &c.filter {
                    let t = self.ty(f);
                    self.want_predicate(&t, f.span);
                }
                let body = self.ty(&c.body);
                self.locals.truncate(before);
                match c.kind {
                    Macro::All | Macro::Exists | Macro::ExistsOne => {
                        self.want_predicate(&body, c.body.span);
                        Type::Bool
                    }
                    Macro::Filter => {
                        self.want_predicate(&body, c.body.span);
                        list(first)
                    }
                    Macro::Map | Macro::TransformList => list(body),
                    Macro::TransformMap => {
                        let key = if matches!(range, Type::List(_)) { Type::Int } else { first };
                        Type::Map(Box::new(key), Box::new(body))
                    }
                }
            }
        }
    }

    fn is_local_root(&self, qualified: &str) -> bool {
        let root = qualified.split('.').next().unwrap_or_default();
        self.locals.iter().any(|(n, _)| &**n == root)
    }

    /// A plain name: a comprehension variable, a declared variable or a type name.
    fn name(&mut self, name: &str, span: Span) -> Type {
        if let Some((_, t)) = self.locals.iter().rev().find(|(n, _)| &**n == name) {
            return t.clone();
        }
        if let Some(t) = self.decls.get(name) {
            return t.clone();
        }
        if Kind::from_name(name).is_some() {
            return Type::Type;
        }
        let suggestion = self.suggest(name);
        self.error(span, CelErrorKind::UndeclaredReference { name: name.to_string(), suggestion })
    }

    /// A dotted name `a.b.c`: its longest declared prefix, then field selections.
    fn qualified(&mut self, q: &str, span: Span) -> Type {
        let segments: Vec<&str> = q.split('.').collect();
        for k in (1..=segments.len()).rev() {
            let prefix = segments[..k].join(".");
            let found = self.locals.iter().rev().find(|(n, _)| **n == *prefix).map(|(_, t)| t.clone());
            let found = found.or_else(|| self.decls.get(&prefix).cloned()).or_else(|| Kind::from_name(&prefix).map(|_| Type::Type));
            if let Some(mut t) = found {
                for field in &segments[k..] {
                    t = self.field(&t, field, span);
                }
                return t;
            }
        }
        let suggestion = self.suggest(q);
        self.error(span, CelErrorKind::UndeclaredReference { name: q.to_string(), suggestion })
    }

    fn field(&mut self, t: &Type, field: &str, span: Span) -> Type {
        match t {
            Type::Dyn => Type::Dyn,
            Type::Object(schema) => match schema.field(field) {
                Some(t) => t.clone(),
                None => {
                    let suggestion = nearest(field, schema.fields.iter().map(|(n, _)| n.as_str())).map(str::to_owned);
                    self.error(span, CelErrorKind::NoSuchField { path: format!("{}.{field}", schema.name), suggestion })
                }
            },
            Type::Map(k, v) if matches!(**k, Type::String | Type::Dyn) => (**v).clone(),
            _ => self.error(span, CelErrorKind::NoFieldSelection(t.to_string())),
        }
    }

    /// The declared name closest to `name` (comparing as many segments as the declaration has),
    /// if it is close enough to be a likely typo.
    fn suggest(&self, name: &str) -> Option<String> {
        // The edit distance is quadratic; a name this long is not a typo of a declared one.
        if name.len() > 200 {
            return None;
        }
        let segments: Vec<&str> = name.split('.').collect();
        self.decls
            .names()
            .filter_map(|d| {
                let k = d.split('.').count().min(segments.len());
                let distance = levenshtein(&segments[..k].join("."), d);
                (distance > 0 && distance * 4 <= d.len().max(4)).then_some((distance, d))
            })
            .min()
            .map(|(_, d)| d.to_string())
    }

    fn call(&mut self, func: &Func, receiver: bool, args: &[Type], span: Span) -> Type {
        if let Func::Unknown(name) = func {
            return self.error(span, CelErrorKind::UnknownFunction(name.to_string()));
        }
        let name = func.name();
        let found = SIGNATURES
            .iter()
            .filter(|s| s.0 == name && s.1.allows(receiver) && s.2.len() == args.len())
            .find(|s| s.2.iter().zip(args).all(|(p, t)| p.accepts(t)));
        match found {
            Some(sig) => match sig.3 {
                R::Int => Type::Int,
                R::Uint => Type::Uint,
                R::Double => Type::Double,
                R::Bool => Type::Bool,
                R::Str => Type::String,
                R::Bytes => Type::Bytes,
                R::Ts => Type::Timestamp,
                R::Dur => Type::Duration,
                R::Type => Type::Type,
                R::Dyn => Type::Dyn,
                R::ListStr => list(Type::String),
            },
            None => {
                let shown = if receiver { format!("{name} (as a method)") } else { name.to_string() };
                self.no_overload(span, &shown, &args.iter().collect::<Vec<_>>())
            }
        }
    }
}

/// The result type of a binary operator, or `None` if no overload fits.
fn binary(op: BinOp, x: &Type, y: &Type) -> Option<Type> {
    use Type as T;
    let dyn_either = matches!(x, T::Dyn) || matches!(y, T::Dyn);
    Some(match op {
        BinOp::Eq | BinOp::Ne => comparable(x, y).then_some(T::Bool)?,
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let orderable = |t: &T| is_num(t) || matches!(t, T::String | T::Bytes | T::Bool | T::Timestamp | T::Duration | T::Dyn);
            let ok = orderable(x) && orderable(y) && (dyn_either || x == y || (is_num(x) && is_num(y)));
            ok.then_some(T::Bool)?
        }
        BinOp::In => match y {
            T::List(elem) => comparable(x, elem).then_some(T::Bool)?,
            T::Map(key, _) => comparable(x, key).then_some(T::Bool)?,
            T::Object(_) => comparable(x, &T::String).then_some(T::Bool)?,
            T::Dyn => T::Bool,
            _ => return None,
        },
        _ if dyn_either => T::Dyn,
        BinOp::Add => match (x, y) {
            (T::Int, T::Int) | (T::Uint, T::Uint) | (T::Double, T::Double) | (T::String, T::String) | (T::Bytes, T::Bytes) | (T::Duration, T::Duration) => {
                x.clone()
            }
            (T::List(a), T::List(b)) => list(join(a, b)),
            (T::Timestamp, T::Duration) | (T::Duration, T::Timestamp) => T::Timestamp,
            _ => return None,
        },
        BinOp::Sub => match (x, y) {
            (T::Int, T::Int) | (T::Uint, T::Uint) | (T::Double, T::Double) | (T::Duration, T::Duration) => x.clone(),
            (T::Timestamp, T::Timestamp) => T::Duration,
            (T::Timestamp, T::Duration) => T::Timestamp,
            _ => return None,
        },
        BinOp::Mul | BinOp::Div => match (x, y) {
            (T::Int, T::Int) | (T::Uint, T::Uint) | (T::Double, T::Double) => x.clone(),
            _ => return None,
        },
        BinOp::Mod => match (x, y) {
            (T::Int, T::Int) | (T::Uint, T::Uint) => x.clone(),
            _ => return None,
        },
    })
}

/// A parameter pattern of a built-in signature.
#[derive(Clone, Copy)]
enum P {
    Int,
    Uint,
    Double,
    Str,
    Bytes,
    Bool,
    Ts,
    Dur,
    List,
    ListStr,
    Map,
    Any,
}

impl P {
    fn accepts(self, t: &Type) -> bool {
        match (self, t) {
            (_, Type::Dyn) | (P::Any, _) => true,
            (P::Int, Type::Int) | (P::Uint, Type::Uint) | (P::Double, Type::Double) | (P::Str, Type::String) | (P::Bytes, Type::Bytes) => true,
            (P::Bool, Type::Bool)
            | (P::Ts, Type::Timestamp)
            | (P::Dur, Type::Duration)
            | (P::List, Type::List(_))
            | (P::Map, Type::Map(..) | Type::Object(_)) => true,
            (P::ListStr, Type::List(elem)) => matches!(**elem, Type::String | Type::Dyn),
            _ => false,
        }
    }
}

/// How a function may be called: `f(x)`, `x.f()`, or both.
#[derive(Clone, Copy)]
enum Style {
    Global,
    Method,
    Both,
}

impl Style {
    fn allows(self, receiver: bool) -> bool {
        match self {
            Style::Global => !receiver,
            Style::Method => receiver,
            Style::Both => true,
        }
    }
}

/// A result type of a built-in signature.
#[derive(Clone, Copy)]
enum R {
    Int,
    Uint,
    Double,
    Bool,
    Str,
    Bytes,
    Ts,
    Dur,
    Type,
    Dyn,
    ListStr,
}

/// Every built-in overload: name, call style, parameters (the receiver first) and result.
const SIGNATURES: &[(&str, Style, &[P], R)] = &[
    ("days_since", Style::Global, &[P::Ts], R::Double),
    ("hours_since", Style::Global, &[P::Ts], R::Double),
    ("size", Style::Both, &[P::Str], R::Int),
    ("size", Style::Both, &[P::Bytes], R::Int),
    ("size", Style::Both, &[P::List], R::Int),
    ("size", Style::Both, &[P::Map], R::Int),
    ("contains", Style::Method, &[P::Str, P::Str], R::Bool),
    ("startsWith", Style::Method, &[P::Str, P::Str], R::Bool),
    ("endsWith", Style::Method, &[P::Str, P::Str], R::Bool),
    ("matches", Style::Both, &[P::Str, P::Str], R::Bool),
    ("int", Style::Global, &[P::Int], R::Int),
    ("int", Style::Global, &[P::Uint], R::Int),
    ("int", Style::Global, &[P::Double], R::Int),
    ("int", Style::Global, &[P::Str], R::Int),
    ("int", Style::Global, &[P::Ts], R::Int),
    ("uint", Style::Global, &[P::Int], R::Uint),
    ("uint", Style::Global, &[P::Uint], R::Uint),
    ("uint", Style::Global, &[P::Double], R::Uint),
    ("uint", Style::Global, &[P::Str], R::Uint),
    ("double", Style::Global, &[P::Int], R::Double),
    ("double", Style::Global, &[P::Uint], R::Double),
    ("double", Style::Global, &[P::Double], R::Double),
    ("double", Style::Global, &[P::Str], R::Double),
    ("string", Style::Global, &[P::Int], R::Str),
    ("string", Style::Global, &[P::Uint], R::Str),
    ("string", Style::Global, &[P::Double], R::Str),
    ("string", Style::Global, &[P::Str], R::Str),
    ("string", Style::Global, &[P::Bytes], R::Str),
    ("string", Style::Global, &[P::Bool], R::Str),
    ("string", Style::Global, &[P::Ts], R::Str),
    ("string", Style::Global, &[P::Dur], R::Str),
    ("bytes", Style::Global, &[P::Str], R::Bytes),
    ("bytes", Style::Global, &[P::Bytes], R::Bytes),
    ("bool", Style::Global, &[P::Bool], R::Bool),
    ("bool", Style::Global, &[P::Str], R::Bool),
    ("timestamp", Style::Global, &[P::Str], R::Ts),
    ("timestamp", Style::Global, &[P::Int], R::Ts),
    ("timestamp", Style::Global, &[P::Ts], R::Ts),
    ("duration", Style::Global, &[P::Str], R::Dur),
    ("duration", Style::Global, &[P::Dur], R::Dur),
    ("type", Style::Global, &[P::Any], R::Type),
    ("dyn", Style::Global, &[P::Any], R::Dyn),
    ("getFullYear", Style::Method, &[P::Ts], R::Int),
    ("getFullYear", Style::Method, &[P::Ts, P::Str], R::Int),
    ("getMonth", Style::Method, &[P::Ts], R::Int),
    ("getMonth", Style::Method, &[P::Ts, P::Str], R::Int),
    ("getDate", Style::Method, &[P::Ts], R::Int),
    ("getDate", Style::Method, &[P::Ts, P::Str], R::Int),
    ("getDayOfMonth", Style::Method, &[P::Ts], R::Int),
    ("getDayOfMonth", Style::Method, &[P::Ts, P::Str], R::Int),
    ("getDayOfWeek", Style::Method, &[P::Ts], R::Int),
    ("getDayOfWeek", Style::Method, &[P::Ts, P::Str], R::Int),
    ("getDayOfYear", Style::Method, &[P::Ts], R::Int),
    ("getDayOfYear", Style::Method, &[P::Ts, P::Str], R::Int),
    ("getHours", Style::Method, &[P::Ts], R::Int),
    ("getHours", Style::Method, &[P::Ts, P::Str], R::Int),
    ("getHours", Style::Method, &[P::Dur], R::Int),
    ("getMinutes", Style::Method, &[P::Ts], R::Int),
    ("getMinutes", Style::Method, &[P::Ts, P::Str], R::Int),
    ("getMinutes", Style::Method, &[P::Dur], R::Int),
    ("getSeconds", Style::Method, &[P::Ts], R::Int),
    ("getSeconds", Style::Method, &[P::Ts, P::Str], R::Int),
    ("getSeconds", Style::Method, &[P::Dur], R::Int),
    ("getMilliseconds", Style::Method, &[P::Ts], R::Int),
    ("getMilliseconds", Style::Method, &[P::Ts, P::Str], R::Int),
    ("getMilliseconds", Style::Method, &[P::Dur], R::Int),
    ("charAt", Style::Method, &[P::Str, P::Int], R::Str),
    ("indexOf", Style::Method, &[P::Str, P::Str], R::Int),
    ("indexOf", Style::Method, &[P::Str, P::Str, P::Int], R::Int),
    ("lastIndexOf", Style::Method, &[P::Str, P::Str], R::Int),
    ("lastIndexOf", Style::Method, &[P::Str, P::Str, P::Int], R::Int),
    ("lowerAscii", Style::Method, &[P::Str], R::Str),
    ("upperAscii", Style::Method, &[P::Str], R::Str),
    ("trim", Style::Method, &[P::Str], R::Str),
    ("reverse", Style::Method, &[P::Str], R::Str),
    ("replace", Style::Method, &[P::Str, P::Str, P::Str], R::Str),
    ("replace", Style::Method, &[P::Str, P::Str, P::Str, P::Int], R::Str),
    ("split", Style::Method, &[P::Str, P::Str], R::ListStr),
    ("split", Style::Method, &[P::Str, P::Str, P::Int], R::ListStr),
    ("join", Style::Method, &[P::ListStr], R::Str),
    ("join", Style::Method, &[P::ListStr, P::Str], R::Str),
    ("substring", Style::Method, &[P::Str, P::Int], R::Str),
    ("substring", Style::Method, &[P::Str, P::Int, P::Int], R::Str),
    ("format", Style::Method, &[P::Str, P::List], R::Str),
    ("strings.quote", Style::Global, &[P::Str], R::Str),
];

/// The name among `candidates` closest to `name`, if it is close enough to be a typo of it (at most
/// one edit in two characters): for "did you mean" suggestions on field names.
pub fn nearest<'n>(name: &str, candidates: impl IntoIterator<Item = &'n str>) -> Option<&'n str> {
    // The edit distance is quadratic; a name this long is not a typo of a known one.
    if name.len() > 200 {
        return None;
    }
    candidates.into_iter().map(|n| (levenshtein(name, n), n)).filter(|(d, n)| *d * 2 <= n.len().max(2)).min().map(|(_, n)| n)
}

/// Edit distance between two names, for "did you mean" suggestions.
fn levenshtein(a: &str, b: &str) -> usize {
    // Optimal string alignment: a swap of two neighbours (`tpye`) costs one edit, like a typo.
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows: Vec<Vec<usize>> = vec![(0..=b.len()).collect()];
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let prev = &rows[i - 1];
            let mut d = (prev[j - 1] + usize::from(a[i - 1] != b[j - 1])).min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            cur[j] = d;
        }
        rows.push(cur);
    }
    rows[a.len()][b.len()]
}
