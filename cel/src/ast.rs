//! The CEL syntax tree the parser builds and the checker and evaluator walk.

use std::sync::Arc;

use super::value::Value;
use super::Span;

#[derive(Debug, Clone)]
pub(crate) struct Expr {
    pub span: Span,
    /// 1 for a leaf; bounded by `MAX_DEPTH`, so recursion over the tree is bounded too.
    pub height: usize,
    pub kind: ExprKind,
}

#[derive(Debug, Clone)]
pub(crate) enum ExprKind {
    Lit(Value),
    Ident(Arc<str>),
    /// `operand.field`, or `has(operand.field)` when `test` is set. `qualified` is the dotted name
    /// (`a.b.c`) when the operand is a chain of plain identifiers, for longest-prefix resolution.
    Select {
        operand: Box<Expr>,
        field: Arc<str>,
        test: bool,
        qualified: Option<Arc<str>>,
    },
    Index(Box<Expr>, Box<Expr>),
    /// A function call; with `receiver`, `args[0]` is the receiver of `x.f(...)`.
    Call {
        func: Func,
        receiver: bool,
        args: Vec<Expr>,
    },
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a && b && ...`, flattened: CEL's absorption rules make the order irrelevant, and a long
    /// chain of conditions stays a shallow tree.
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Comprehension(Box<Comprehension>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Eq => "_==_",
            BinOp::Ne => "_!=_",
            BinOp::Lt => "_<_",
            BinOp::Le => "_<=_",
            BinOp::Gt => "_>_",
            BinOp::Ge => "_>=_",
            BinOp::In => "@in",
            BinOp::Add => "_+_",
            BinOp::Sub => "_-_",
            BinOp::Mul => "_*_",
            BinOp::Div => "_/_",
            BinOp::Mod => "_%_",
        }
    }
}

/// A macro expanded into a loop over a list's elements or a map's keys.
#[derive(Debug, Clone)]
pub(crate) struct Comprehension {
    pub kind: Macro,
    pub range: Expr,
    /// The element (one variable) or the index/key (two variables).
    pub var: Arc<str>,
    /// The value, for the two-variable forms.
    pub var2: Option<Arc<str>>,
    /// The predicate of `map(x, p, t)` and the four-argument `transformList`/`transformMap`.
    pub filter: Option<Expr>,
    pub body: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Macro {
    All,
    Exists,
    ExistsOne,
    Map,
    Filter,
    TransformList,
    TransformMap,
}

/// The built-in functions, resolved by name when parsing so evaluation does not compare strings.
#[derive(Debug, Clone)]
pub(crate) enum Func {
    Size,
    Contains,
    StartsWith,
    EndsWith,
    /// With the compiled pattern when the pattern is a string literal.
    Matches(Option<Arc<super::functions::Pattern>>),
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Bool,
    Timestamp,
    Duration,
    Type,
    Dyn,
    GetFullYear,
    GetMonth,
    GetDate,
    GetDayOfMonth,
    GetDayOfWeek,
    GetDayOfYear,
    GetHours,
    GetMinutes,
    GetSeconds,
    GetMilliseconds,
    CharAt,
    IndexOf,
    LastIndexOf,
    LowerAscii,
    UpperAscii,
    Replace,
    Split,
    Join,
    Substring,
    Trim,
    Reverse,
    Format,
    Quote,
    /// Vitrine's helpers: `days_since(t)` and `hours_since(t)` are `now - t` in days or hours,
    /// as a double (`now` is the activation's variable).
    DaysSince,
    HoursSince,
    Unknown(Arc<str>),
}

/// The built-in functions by name. Append only: a function's position is its id in the compiled
/// form (`wire.rs`), so reordering would change what compiled programs mean.
const NAMES: &[(&str, Func)] = &[
    ("size", Func::Size),
    ("contains", Func::Contains),
    ("startsWith", Func::StartsWith),
    ("endsWith", Func::EndsWith),
    ("matches", Func::Matches(None)),
    ("int", Func::Int),
    ("uint", Func::Uint),
    ("double", Func::Double),
    ("string", Func::String),
    ("bytes", Func::Bytes),
    ("bool", Func::Bool),
    ("timestamp", Func::Timestamp),
    ("duration", Func::Duration),
    ("type", Func::Type),
    ("dyn", Func::Dyn),
    ("getFullYear", Func::GetFullYear),
    ("getMonth", Func::GetMonth),
    ("getDate", Func::GetDate),
    ("getDayOfMonth", Func::GetDayOfMonth),
    ("getDayOfWeek", Func::GetDayOfWeek),
    ("getDayOfYear", Func::GetDayOfYear),
    ("getHours", Func::GetHours),
    ("getMinutes", Func::GetMinutes),
    ("getSeconds", Func::GetSeconds),
    ("getMilliseconds", Func::GetMilliseconds),
    ("charAt", Func::CharAt),
    ("indexOf", Func::IndexOf),
    ("lastIndexOf", Func::LastIndexOf),
    ("lowerAscii", Func::LowerAscii),
    ("upperAscii", Func::UpperAscii),
    ("replace", Func::Replace),
    ("split", Func::Split),
    ("join", Func::Join),
    ("substring", Func::Substring),
    ("trim", Func::Trim),
    ("reverse", Func::Reverse),
    ("format", Func::Format),
    ("strings.quote", Func::Quote),
    ("days_since", Func::DaysSince),
    ("hours_since", Func::HoursSince),
];

impl Func {
    #[cfg(feature = "compile")]
    pub fn from_name(name: &str) -> Func {
        NAMES.iter().find(|(n, _)| *n == name).map_or_else(|| Func::Unknown(name.into()), |(_, f)| f.clone())
    }

    /// The id in the compiled form; `None` for an unknown function (written by name).
    #[cfg(feature = "compile")]
    pub fn id(&self) -> Option<u8> {
        if let Func::Unknown(_) = self {
            return None;
        }
        let id = std::mem::discriminant(self);
        NAMES.iter().position(|(_, f)| std::mem::discriminant(f) == id).map(|i| i as u8)
    }

    pub fn from_id(id: u8) -> Option<Func> {
        NAMES.get(usize::from(id)).map(|(_, f)| f.clone())
    }

    /// Whether a build without every feature ([`crate::EDGE_FUNCTIONS`]: the browser's production
    /// build) leaves calls of this function to the edge: `matches()`, `format()`, the strings
    /// extension's text editing (whichever receiver: a rule calling `reverse()` is the edge's too),
    /// and `duration()`. Compiling folds `duration()` of a string literal into a duration, so
    /// only a call that is left (of a string computed while evaluating) is the edge's.
    pub fn edge_only(&self) -> bool {
        matches!(
            self,
            Func::Matches(_)
                | Func::Format
                | Func::CharAt
                | Func::IndexOf
                | Func::LastIndexOf
                | Func::Replace
                | Func::Split
                | Func::Substring
                | Func::Reverse
                | Func::Duration
        )
    }

    pub fn name(&self) -> &str {
        if let Func::Unknown(name) = self {
            return name;
        }
        self.builtin_name()
    }

    /// The name of a built-in function (`?` for `Unknown`).
    pub(crate) fn builtin_name(&self) -> &'static str {
        let id = std::mem::discriminant(self);
        NAMES.iter().find(|(_, f)| std::mem::discriminant(f) == id).map_or("?", |(n, _)| n)
    }
}

impl Expr {
    pub fn new(span: Span, kind: ExprKind) -> Expr {
        let child = |e: &Expr| e.height;
        let height = 1 + match &kind {
            ExprKind::Lit(_) | ExprKind::Ident(_) => 0,
            ExprKind::Select { operand, .. } | ExprKind::Not(operand) | ExprKind::Neg(operand) => child(operand),
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => child(a).max(child(b)),
            ExprKind::Call { args: items, .. } | ExprKind::List(items) | ExprKind::And(items) | ExprKind::Or(items) => {
                items.iter().map(child).max().unwrap_or(0)
            }
            ExprKind::Map(entries) => entries.iter().map(|(k, v)| child(k).max(child(v))).max().unwrap_or(0),
            ExprKind::Cond(a, b, c) => child(a).max(child(b)).max(child(c)),
            ExprKind::Comprehension(c) => child(&c.range).max(child(&c.body)).max(c.filter.as_ref().map_or(0, child)),
        };
        Expr { span, height, kind }
    }
}

/// Whether any call in `e` is to a function `pred` accepts.
pub(crate) fn calls(e: &Expr, pred: &dyn Fn(&Func) -> bool) -> bool {
    let any = |items: &[Expr]| items.iter().any(|i| calls(i, pred));
    match &e.kind {
        ExprKind::Lit(_) | ExprKind::Ident(_) => false,
        ExprKind::Select { operand: a, .. } | ExprKind::Not(a) | ExprKind::Neg(a) => calls(a, pred),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => calls(a, pred) || calls(b, pred),
        ExprKind::Call { func, args, .. } => pred(func) || any(args),
        ExprKind::List(items) | ExprKind::And(items) | ExprKind::Or(items) => any(items),
        ExprKind::Map(entries) => entries.iter().any(|(k, v)| calls(k, pred) || calls(v, pred)),
        ExprKind::Cond(a, b, c) => calls(a, pred) || calls(b, pred) || calls(c, pred),
        ExprKind::Comprehension(c) => calls(&c.range, pred) || c.filter.as_ref().is_some_and(|f| calls(f, pred)) || calls(&c.body, pred),
    }
}

/// The variables a program reads, in order of first use, each once. A rule reads a handful, so
/// a search of the list beats a hash set (and its code, which the browser's Wasm would carry).
#[derive(Default)]
pub(crate) struct References {
    pub list: Vec<String>,
}

impl References {
    fn add(&mut self, name: &str) {
        if !self.list.iter().any(|n| n == name) {
            self.list.push(name.to_string());
        }
    }
}

/// Collects the variables `e` reads (see `Program::references`); `locals` are the comprehension
/// variables in scope.
pub(crate) fn references(e: &Expr, locals: &mut Vec<Arc<str>>, out: &mut References) {
    match &e.kind {
        ExprKind::Lit(_) => {}
        ExprKind::Ident(name) => {
            if !locals.contains(name) {
                out.add(name);
            }
        }
        ExprKind::Select { operand, qualified: Some(q), .. } => {
            let root = q.split('.').next().unwrap_or_default();
            if locals.iter().any(|l| &**l == root) {
                references(operand, locals, out);
            } else {
                out.add(q);
            }
        }
        ExprKind::Select { operand: a, .. } | ExprKind::Not(a) | ExprKind::Neg(a) => references(a, locals, out),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            references(a, locals, out);
            references(b, locals, out);
        }
        ExprKind::Call { func, args, .. } => {
            args.iter().for_each(|i| references(i, locals, out));
            // The helpers read `now` themselves.
            if matches!(func, Func::DaysSince | Func::HoursSince) && !locals.iter().any(|l| &**l == "now") {
                out.add("now");
            }
        }
        ExprKind::List(items) | ExprKind::And(items) | ExprKind::Or(items) => {
            items.iter().for_each(|i| references(i, locals, out));
        }
        ExprKind::Map(entries) => entries.iter().for_each(|(k, v)| {
            references(k, locals, out);
            references(v, locals, out);
        }),
        ExprKind::Cond(a, b, c) => [a, b, c].into_iter().for_each(|i| references(i, locals, out)),
        ExprKind::Comprehension(c) => {
            references(&c.range, locals, out);
            let pushed = 1 + usize::from(c.var2.is_some());
            locals.push(c.var.clone());
            locals.extend(c.var2.clone());
            if let Some(f) = &c.filter {
                references(f, locals, out);
            }
            references(&c.body, locals, out);
            locals.truncate(locals.len() - pushed);
        }
    }
}

/// Folds constants into literal values, so that a comprehension does not rebuild them for every
/// element: list literals made only of literals (`e.item in ['a', 'b']`), and `timestamp()` and
/// `duration()` of a string literal (`now - e.time < duration('168h')`). A literal that does not
/// convert (`duration('7 days')`) would fail every evaluation: it goes to `errors`, a compile
/// error, as a `matches()` pattern literal that does not compile is.
#[cfg(feature = "compile")]
pub(crate) fn fold_constants(e: &mut Expr, errors: &mut Vec<super::CelError>) {
    let mut folded = None;
    match &mut e.kind {
        ExprKind::Lit(_) | ExprKind::Ident(_) => {}
        ExprKind::Select { operand, .. } | ExprKind::Not(operand) | ExprKind::Neg(operand) => fold_constants(operand, errors),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            fold_constants(a, errors);
            fold_constants(b, errors);
        }
        ExprKind::Call { func, receiver, args } => {
            args.iter_mut().for_each(|a| fold_constants(a, errors));
            if let (Func::Timestamp | Func::Duration, false, [Expr { kind: ExprKind::Lit(v @ Value::String(_)), .. }]) = (&*func, *receiver, args.as_slice()) {
                match super::functions::call(func, false, std::slice::from_ref(v), usize::MAX) {
                    Ok(value) => folded = Some(value),
                    Err(kind) => errors.push(super::CelError::new(e.span, super::CelErrorKind::InvalidLiteral(kind.to_string()))),
                }
            }
        }
        ExprKind::And(items) | ExprKind::Or(items) => items.iter_mut().for_each(|i| fold_constants(i, errors)),
        ExprKind::List(items) => {
            items.iter_mut().for_each(|i| fold_constants(i, errors));
            if items.iter().all(|i| matches!(i.kind, ExprKind::Lit(_))) {
                let values: Vec<Value> = items.iter().filter_map(|i| if let ExprKind::Lit(v) = &i.kind { Some(v.clone()) } else { None }).collect();
                e.kind = ExprKind::Lit(Value::List(values.into()));
            }
        }
        ExprKind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            fold_constants(k, errors);
            fold_constants(v, errors);
        }),
        ExprKind::Cond(a, b, c) => {
            fold_constants(a, errors);
            fold_constants(b, errors);
            fold_constants(c, errors);
        }
        ExprKind::Comprehension(c) => {
            fold_constants(&mut c.range, errors);
            if let Some(f) = &mut c.filter {
                fold_constants(f, errors);
            }
            fold_constants(&mut c.body, errors);
        }
    }
    if let Some(v) = folded {
        e.kind = ExprKind::Lit(v);
    }
}
