//! The slot-targeting condition language: a small subset of CEL (`lex → parse → check → eval`).
//!
//! Supported: `&&`, `||`, `!`, parentheses, `== != < <= > >=`, `in` (element in list), number,
//! string, `true`/`false`/`null` literals, list literals, field paths under `profile.`, `session.`,
//! `page.` and `now`, and the helpers `days_since(time)` and `size(list)`. Paths are checked against
//! the known fields when a rule is loaded, so a typo is an error naming the nearest field rather
//! than a rule that silently never matches. Evaluation is total: a missing value makes its
//! comparison false. The full CEL language replaces this module behind the same `Condition` API.

use std::fmt;

use crate::time::Seconds;

/// A checked condition, ready to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    expr: Expr,
}

/// A parse or check error with the byte span it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionError {
    pub span: (usize, usize),
    pub kind: ConditionErrorKind,
}

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConditionErrorKind {
    /// A character that starts no token.
    UnexpectedChar(char),
    /// A string literal without its closing quote.
    UnterminatedString,
    /// The parser expected one thing and found another.
    Expected { expected: &'static str, found: String },
    /// A field path that is not in the profile schema.
    UnknownField { path: String, suggestion: Option<String> },
    /// A function this language does not have, or a wrong number of arguments.
    UnknownFunction(String),
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// Rules are authored by people; a thousand nested parentheses are an attack, not a rule.
pub const MAX_DEPTH: usize = 64;

impl fmt::Display for ConditionErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConditionErrorKind::UnexpectedChar(c) => write!(f, "unexpected character {c:?}"),
            ConditionErrorKind::UnterminatedString => write!(f, "unterminated string literal"),
            ConditionErrorKind::Expected { expected, found } => write!(f, "expected {expected}, found {found}"),
            ConditionErrorKind::UnknownField { path, suggestion: Some(s) } => {
                write!(f, "unknown field `{path}`; did you mean `{s}`?")
            }
            ConditionErrorKind::UnknownField { path, suggestion: None } => write!(f, "unknown field `{path}`"),
            ConditionErrorKind::UnknownFunction(name) => {
                write!(f, "unknown function `{name}`; known: days_since(time), size(list)")
            }
            ConditionErrorKind::TooDeep => write!(f, "expression nested deeper than {MAX_DEPTH} levels"),
        }
    }
}

impl ConditionError {
    /// `line:col: message`, the source line and a caret under the span.
    pub fn render(&self, source: &str) -> String {
        let start = self.span.0.min(source.len());
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..].find('\n').map_or(source.len(), |i| start + i);
        let line_no = source[..start].matches('\n').count() + 1;
        let col = source[line_start..start].chars().count() + 1;
        let width = source[start..self.span.1.clamp(start, line_end)].chars().count().max(1);
        format!(
            "{line_no}:{col}: {}\n  {}\n  {}{}",
            self.kind,
            &source[line_start..line_end],
            " ".repeat(col - 1),
            "^".repeat(width)
        )
    }
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.span.0, self.kind)
    }
}

impl std::error::Error for ConditionError {}

/// A runtime value. `Null` is "missing": comparisons with it are false.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Time(Seconds),
    List(Vec<Value>),
}

/// Where conditions read their fields from. Implemented by the decision context.
pub trait Env {
    /// The value at a checked path (e.g. `["profile", "orders", "count"]`), `Value::Null` if absent.
    fn lookup(&self, path: &[String]) -> Value;
    fn now(&self) -> Seconds;
}

/// The field paths rules may read. A trailing `*` accepts any one further segment.
pub const KNOWN_FIELDS: &[&str] = &[
    "now",
    "profile.id",
    "profile.consent.personalization",
    "profile.traits.*",
    "profile.orders.count",
    "profile.orders.revenue",
    "profile.orders.aov",
    "profile.orders.first",
    "profile.orders.last",
    "profile.affinities.*",
    "profile.segments",
    "profile.recent_items",
    "session.cart",
    "session.cart_size",
    "session.views",
    "session.orders",
    "session.viewed_categories",
    "page.type",
    "page.product",
    "page.category",
];

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Lit(Value),
    Path(Vec<String>),
    List(Vec<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Box<Expr>),
    DaysSince(Box<Expr>),
    Size(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Op(&'static str),
    Eof,
}

fn lex(src: &str) -> Result<Vec<(Tok, usize, usize)>, ConditionError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let n = src[start..i].parse().map_err(|_| ConditionError {
                span: (start, i),
                kind: ConditionErrorKind::Expected { expected: "a number", found: src[start..i].to_owned() },
            })?;
            out.push((Tok::Num(n), start, i));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((Tok::Ident(src[start..i].to_owned()), start, i));
            continue;
        }
        if c == b'"' || c == b'\'' {
            i += 1;
            let mut s = String::new();
            loop {
                let Some(ch) = src[i..].chars().next() else {
                    return Err(ConditionError { span: (start, i), kind: ConditionErrorKind::UnterminatedString });
                };
                i += ch.len_utf8();
                match ch {
                    '\\' => {
                        let Some(esc) = src[i..].chars().next() else { continue };
                        i += esc.len_utf8();
                        s.push(match esc {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                    ch if ch as u32 == u32::from(c) => break,
                    ch => s.push(ch),
                }
            }
            out.push((Tok::Str(s), start, i));
            continue;
        }
        const OPS: &[&str] = &["&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "(", ")", "[", "]", ",", "."];
        match OPS.iter().find(|op| src[i..].starts_with(**op)) {
            Some(op) => {
                i += op.len();
                out.push((Tok::Op(op), start, i));
            }
            None => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(ConditionError { span: (i, i + ch.len_utf8()), kind: ConditionErrorKind::UnexpectedChar(ch) });
            }
        }
    }
    out.push((Tok::Eof, src.len(), src.len()));
    Ok(out)
}

struct Parser<'a> {
    toks: &'a [(Tok, usize, usize)],
    pos: usize,
    depth: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(n) => format!("number {n}"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Op(o) => format!("`{o}`"),
        Tok::Eof => "end of input".to_owned(),
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }
    fn span(&self) -> (usize, usize) {
        (self.toks[self.pos].1, self.toks[self.pos].2)
    }
    fn bump(&mut self) -> Tok {
        let t = self.toks[self.pos].0.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Tok::Op(o) if *o == op) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, op: &'static str) -> Result<(), ConditionError> {
        if self.eat(op) {
            Ok(())
        } else {
            Err(self.error(op))
        }
    }
    fn error(&self, expected: &'static str) -> ConditionError {
        ConditionError { span: self.span(), kind: ConditionErrorKind::Expected { expected, found: describe(self.peek()) } }
    }
    fn enter(&mut self) -> Result<(), ConditionError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ConditionError { span: self.span(), kind: ConditionErrorKind::TooDeep });
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ConditionError> {
        self.enter()?;
        let mut lhs = self.and()?;
        while self.eat("||") {
            lhs = Expr::Or(Box::new(lhs), Box::new(self.and()?));
        }
        self.depth -= 1;
        Ok(lhs)
    }
    fn and(&mut self) -> Result<Expr, ConditionError> {
        let mut lhs = self.unary()?;
        while self.eat("&&") {
            lhs = Expr::And(Box::new(lhs), Box::new(self.unary()?));
        }
        Ok(lhs)
    }
    fn unary(&mut self) -> Result<Expr, ConditionError> {
        if self.eat("!") {
            self.enter()?;
            let e = Expr::Not(Box::new(self.unary()?));
            self.depth -= 1;
            return Ok(e);
        }
        self.comparison()
    }
    fn comparison(&mut self) -> Result<Expr, ConditionError> {
        let lhs = self.primary()?;
        let op = match self.peek() {
            Tok::Op("==") => CmpOp::Eq,
            Tok::Op("!=") => CmpOp::Ne,
            Tok::Op("<") => CmpOp::Lt,
            Tok::Op("<=") => CmpOp::Le,
            Tok::Op(">") => CmpOp::Gt,
            Tok::Op(">=") => CmpOp::Ge,
            Tok::Ident(s) if s == "in" => {
                self.bump();
                return Ok(Expr::In(Box::new(lhs), Box::new(self.primary()?)));
            }
            _ => return Ok(lhs),
        };
        self.bump();
        Ok(Expr::Cmp(op, Box::new(lhs), Box::new(self.primary()?)))
    }
    fn primary(&mut self) -> Result<Expr, ConditionError> {
        let start = self.span().0;
        let at = self.pos;
        match self.bump() {
            Tok::Num(n) => Ok(Expr::Lit(Value::Num(n))),
            Tok::Str(s) => Ok(Expr::Lit(Value::Str(s))),
            Tok::Op("(") => {
                let e = self.or()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Op("[") => {
                self.enter()?;
                let mut items = Vec::new();
                if !self.eat("]") {
                    loop {
                        items.push(self.primary()?);
                        if self.eat("]") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                self.depth -= 1;
                Ok(Expr::List(items))
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Ok(Expr::Lit(Value::Bool(true))),
                "false" => Ok(Expr::Lit(Value::Bool(false))),
                "null" => Ok(Expr::Lit(Value::Null)),
                _ if matches!(self.peek(), Tok::Op("(")) => {
                    let name_end = self.toks[self.pos - 1].2;
                    self.bump();
                    self.enter()?;
                    let arg = self.or()?;
                    self.depth -= 1;
                    self.expect(")")?;
                    match name.as_str() {
                        "days_since" => Ok(Expr::DaysSince(Box::new(arg))),
                        "size" => Ok(Expr::Size(Box::new(arg))),
                        _ => Err(ConditionError { span: (start, name_end), kind: ConditionErrorKind::UnknownFunction(name) }),
                    }
                }
                _ => {
                    let mut path = vec![name];
                    let mut end = self.toks[self.pos - 1].2;
                    while self.eat(".") {
                        let seg_at = self.pos;
                        match self.bump() {
                            Tok::Ident(seg) => path.push(seg),
                            Tok::Str(seg) => path.push(seg),
                            _ => {
                                self.pos = seg_at;
                                return Err(self.error("a field name after `.`"));
                            }
                        }
                        end = self.toks[self.pos - 1].2;
                    }
                    check_path(&path).map_err(|kind| ConditionError { span: (start, end), kind })?;
                    Ok(Expr::Path(path))
                }
            },
            _ => {
                self.pos = at;
                Err(self.error("a value, a field or `(`"))
            }
        }
    }
}

fn check_path(path: &[String]) -> Result<(), ConditionErrorKind> {
    let joined = path.join(".");
    let known = KNOWN_FIELDS.iter().any(|k| match k.strip_suffix(".*") {
        Some(prefix) => joined.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.') && rest.len() > 1),
        None => *k == joined,
    });
    if known {
        return Ok(());
    }
    let suggestion = KNOWN_FIELDS
        .iter()
        .map(|k| (edit_distance(k.trim_end_matches(".*"), &joined), *k))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, _)| *d <= joined.len() / 2 + 1)
        .map(|(_, k)| k.replace(".*", ".<name>"));
    Err(ConditionErrorKind::UnknownField { path: joined, suggestion })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl Condition {
    /// Parses and checks a condition; the error's span points into `src`.
    pub fn parse(src: &str) -> Result<Condition, ConditionError> {
        let toks = lex(src)?;
        let mut p = Parser { toks: &toks, pos: 0, depth: 0 };
        let expr = p.or()?;
        if !matches!(p.peek(), Tok::Eof) {
            return Err(p.error("`&&`, `||` or the end of the condition"));
        }
        Ok(Condition { expr })
    }

    /// Evaluates to a boolean; anything that is not `true` (including missing data) is false.
    pub fn matches(&self, env: &dyn Env) -> bool {
        eval(&self.expr, env) == Value::Bool(true)
    }

    /// The field paths this condition reads, e.g. `profile.orders.last`.
    pub fn references(&self) -> Vec<String> {
        fn walk(e: &Expr, out: &mut Vec<String>) {
            match e {
                Expr::Path(p) => {
                    let joined = p.join(".");
                    if !out.contains(&joined) {
                        out.push(joined);
                    }
                }
                Expr::Lit(_) => {}
                Expr::List(items) => items.iter().for_each(|i| walk(i, out)),
                Expr::Not(a) | Expr::DaysSince(a) | Expr::Size(a) => walk(a, out),
                Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b) | Expr::In(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.expr, &mut out);
        out
    }
}

fn eval(e: &Expr, env: &dyn Env) -> Value {
    match e {
        Expr::Lit(v) => v.clone(),
        Expr::Path(p) if p.len() == 1 && p[0] == "now" => Value::Time(env.now()),
        Expr::Path(p) => env.lookup(p),
        Expr::List(items) => Value::List(items.iter().map(|i| eval(i, env)).collect()),
        Expr::Not(a) => match eval(a, env) {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Null,
        },
        // CEL's commutative error absorption: `false && <missing>` is false, `true || <missing>` is true.
        Expr::And(a, b) => match (eval(a, env), eval(b, env)) {
            (Value::Bool(false), _) | (_, Value::Bool(false)) => Value::Bool(false),
            (Value::Bool(true), Value::Bool(true)) => Value::Bool(true),
            _ => Value::Null,
        },
        Expr::Or(a, b) => match (eval(a, env), eval(b, env)) {
            (Value::Bool(true), _) | (_, Value::Bool(true)) => Value::Bool(true),
            (Value::Bool(false), Value::Bool(false)) => Value::Bool(false),
            _ => Value::Null,
        },
        Expr::Cmp(op, a, b) => compare(*op, &eval(a, env), &eval(b, env)),
        Expr::In(a, b) => match (eval(a, env), eval(b, env)) {
            (Value::Null, _) => Value::Null,
            (x, Value::List(items)) => Value::Bool(items.iter().any(|i| compare(CmpOp::Eq, &x, i) == Value::Bool(true))),
            _ => Value::Null,
        },
        Expr::DaysSince(a) => match eval(a, env) {
            Value::Time(t) => Value::Num((env.now() - t) as f64 / 86_400.0),
            _ => Value::Null,
        },
        Expr::Size(a) => match eval(a, env) {
            Value::List(l) => Value::Num(l.len() as f64),
            Value::Str(s) => Value::Num(s.chars().count() as f64),
            _ => Value::Null,
        },
    }
}

fn compare(op: CmpOp, a: &Value, b: &Value) -> Value {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (a, b) {
        (Value::Num(x), Value::Num(y)) => x.partial_cmp(y),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Time(x), Value::Time(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) if matches!(op, CmpOp::Eq | CmpOp::Ne) => Some(x.cmp(y)),
        _ => None,
    };
    let Some(ord) = ord else { return Value::Null };
    Value::Bool(match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Map(Vec<(&'static str, Value)>);
    impl Env for Map {
        fn lookup(&self, path: &[String]) -> Value {
            let joined = path.join(".");
            self.0.iter().find(|(k, _)| *k == joined).map_or(Value::Null, |(_, v)| v.clone())
        }
        fn now(&self) -> Seconds {
            100 * 86_400
        }
    }

    fn env() -> Map {
        Map(vec![
            ("profile.orders.count", Value::Num(3.0)),
            ("profile.orders.last", Value::Time(0)),
            ("profile.traits.tier", Value::Str("gold".into())),
            ("profile.segments", Value::List(vec![Value::Str("vip".into())])),
        ])
    }

    fn check(src: &str, expected: bool) {
        let c = Condition::parse(src).unwrap_or_else(|e| panic!("{}", e.render(src)));
        assert_eq!(c.matches(&env()), expected, "{src}");
    }

    #[test]
    fn evaluates() {
        check("profile.orders.count >= 3", true);
        check("profile.orders.count > 3", false);
        check("profile.orders.count >= 2 && days_since(profile.orders.last) > 90", true);
        check("days_since(profile.orders.last) > 100", false);
        check("'vip' in profile.segments", true);
        check("\"gold\" == profile.traits.tier || false", true);
        check("!(profile.traits.tier == 'silver')", true);
        check("profile.traits.tier in ['gold', 'platinum']", true);
        check("size(profile.segments) == 1", true);
        check("profile.orders.last < now", true);
    }

    #[test]
    fn missing_data_is_false_not_an_error() {
        check("profile.traits.missing == 'x'", false);
        check("profile.traits.missing != 'x'", false);
        check("profile.orders.revenue > 0", false);
        check("days_since(profile.orders.first) > 1", false);
        // Error absorption: a definite answer wins over a missing one.
        check("profile.orders.revenue > 0 || profile.orders.count == 3", true);
        check("profile.orders.revenue > 0 && false", false);
        check("profile.traits.tier == 3", false);
    }

    #[test]
    fn errors_are_located_with_suggestions() {
        let src = "profile.orders.count >= 2 &&\n  profile.order.last > 0";
        let e = Condition::parse(src).unwrap_err();
        assert_eq!(e.render(src), "2:3: unknown field `profile.order.last`; did you mean `profile.orders.last`?\n    profile.order.last > 0\n    ^^^^^^^^^^^^^^^^^^");
        let e = Condition::parse("profile.orders.count >").unwrap_err();
        assert!(e.render("profile.orders.count >").starts_with("1:23: expected a value"), "{}", e.render("profile.orders.count >"));
        assert!(matches!(Condition::parse("'abc").unwrap_err().kind, ConditionErrorKind::UnterminatedString));
        assert!(matches!(Condition::parse("x # y").unwrap_err().kind, ConditionErrorKind::UnexpectedChar('#')));
        assert!(matches!(Condition::parse("foo(1)").unwrap_err().kind, ConditionErrorKind::UnknownFunction(_)));
        let deep = format!("{}true{}", "(".repeat(500), ")".repeat(500));
        assert!(matches!(Condition::parse(&deep).unwrap_err().kind, ConditionErrorKind::TooDeep));
        let lists = format!("{}1{}", "[".repeat(500), "]".repeat(500));
        assert!(matches!(Condition::parse(&lists).unwrap_err().kind, ConditionErrorKind::TooDeep));
        let nots = format!("{}true", "!".repeat(500));
        assert!(matches!(Condition::parse(&nots).unwrap_err().kind, ConditionErrorKind::TooDeep));
    }

    #[test]
    fn lists_references() {
        let c = Condition::parse("profile.orders.count > 1 && days_since(profile.orders.last) > 9 && profile.orders.count < 9").unwrap();
        assert_eq!(c.references(), ["profile.orders.count", "profile.orders.last"]);
    }
}
