//! The CEL parser: tokens to a syntax tree, with macros expanded and the tree height bounded.
//!
//! Recursive descent for the nesting constructs and precedence climbing for the binary operators,
//! so a chain like `a + b + c` is built in a loop. Two limits keep every later pass safe: the
//! recursion of the parser itself and the height of every node built are both capped at
//! `MAX_DEPTH`.

use std::sync::Arc;

use super::ast::{BinOp, Comprehension, Expr, ExprKind, Func, Macro};
use super::lex::{lex, Tok};
use super::value::Value;
use super::{CelError, CelErrorKind, Span, MAX_DEPTH, MAX_SOURCE_LEN};

type PResult<T> = Result<T, CelError>;

/// The names CEL reserves; they may still follow a `.` as field or method names.
const RESERVED: &[&str] = &[
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

pub(crate) fn parse(src: &str) -> Result<Expr, Vec<CelError>> {
    if src.len() > MAX_SOURCE_LEN {
        return Err(vec![CelError::new((0, 0), CelErrorKind::TooLong)]);
    }
    let (toks, errors) = lex(src);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut p = Parser { toks: &toks, pos: 0, depth: 0 };
    let e = p.expr().map_err(|e| vec![e])?;
    if p.peek() != &Tok::Eof {
        return Err(vec![p.expected("an operator or the end of the expression")]);
    }
    Ok(e)
}

struct Parser<'a> {
    toks: &'a [(Tok, Span)],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        self.toks.get(self.pos + ahead).or(self.toks.last()).map_or(&Tok::Eof, |t| &t.0)
    }

    fn span(&self) -> Span {
        self.toks.get(self.pos).or(self.toks.last()).map_or((0, 0), |t| t.1)
    }

    fn bump(&mut self) -> (Tok, Span) {
        let t = self.toks.get(self.pos).or(self.toks.last()).cloned().unwrap_or((Tok::Eof, (0, 0)));
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        let found = self.peek() == tok;
        if found {
            self.pos += 1;
        }
        found
    }

    fn expected(&self, expected: &'static str) -> CelError {
        CelError::new(self.span(), CelErrorKind::Expected { expected, found: self.peek().describe() })
    }

    fn expect(&mut self, tok: &Tok, expected: &'static str) -> PResult<Span> {
        if self.peek() == tok {
            Ok(self.bump().1)
        } else {
            Err(self.expected(expected))
        }
    }

    /// Builds a node, refusing one taller than `MAX_DEPTH`.
    fn node(&self, span: Span, kind: ExprKind) -> PResult<Expr> {
        let e = Expr::new(span, kind);
        if e.height > MAX_DEPTH {
            return Err(CelError::new(span, CelErrorKind::TooDeep));
        }
        Ok(e)
    }

    /// Runs `f` one recursion level deeper, refusing to go past `MAX_DEPTH`. Every nested
    /// expression (in parentheses, brackets, braces or arguments) and every prefix operator is
    /// one level.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            return Err(CelError::new(self.span(), CelErrorKind::TooDeep));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.nested(|p| {
            let cond = p.binary(1)?;
            if !p.eat(&Tok::Question) {
                return Ok(cond);
            }
            let a = p.binary(1)?;
            p.expect(&Tok::Colon, "`:`")?;
            let b = p.expr()?;
            p.node((cond.span.0, b.span.1), ExprKind::Cond(Box::new(cond), Box::new(a), Box::new(b)))
        })
    }

    /// The binary operator at the cursor with its precedence (higher binds tighter).
    fn binop(&self) -> Option<(Option<BinOp>, u8)> {
        Some(match self.peek() {
            Tok::OrOr => (None, 1),
            Tok::AndAnd => (None, 2),
            Tok::EqEq => (Some(BinOp::Eq), 3),
            Tok::NotEq => (Some(BinOp::Ne), 3),
            Tok::Lt => (Some(BinOp::Lt), 3),
            Tok::Le => (Some(BinOp::Le), 3),
            Tok::Gt => (Some(BinOp::Gt), 3),
            Tok::Ge => (Some(BinOp::Ge), 3),
            Tok::Ident(w) if w == "in" => (Some(BinOp::In), 3),
            Tok::Plus => (Some(BinOp::Add), 4),
            Tok::Minus => (Some(BinOp::Sub), 4),
            Tok::Star => (Some(BinOp::Mul), 5),
            Tok::Slash => (Some(BinOp::Div), 5),
            Tok::Percent => (Some(BinOp::Mod), 5),
            _ => return None,
        })
    }

    fn binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        while let Some((op, prec)) = self.binop() {
            if prec < min_prec {
                break;
            }
            self.bump();
            let rhs = self.binary(prec + 1)?;
            let span = (lhs.span.0, rhs.span.1);
            lhs = match op {
                Some(op) => self.node(span, ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)))?,
                None => {
                    let or = prec == 1;
                    let mut items = match lhs.kind {
                        ExprKind::Or(items) if or => items,
                        ExprKind::And(items) if !or => items,
                        _ => vec![lhs],
                    };
                    items.push(rhs);
                    self.node(span, if or { ExprKind::Or(items) } else { ExprKind::And(items) })?
                }
            };
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Expr> {
        let start = self.span().0;
        match self.peek() {
            Tok::Bang => self.nested(|p| {
                p.bump();
                let e = p.unary()?;
                p.node((start, e.span.1), ExprKind::Not(Box::new(e)))
            }),
            // `-` directly before a number is part of the literal (so `-9223372036854775808` fits).
            Tok::Minus if !matches!(self.peek_at(1), Tok::Int(_) | Tok::Double(_)) => self.nested(|p| {
                p.bump();
                let e = p.unary()?;
                p.node((start, e.span.1), ExprKind::Neg(Box::new(e)))
            }),
            _ => self.member(),
        }
    }

    fn member(&mut self) -> PResult<Expr> {
        let (mut e, mut parenthesized) = self.primary()?;
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.bump();
                    let (tok, name_span) = self.bump();
                    let (name, plain) = match tok {
                        Tok::Ident(name) => (name, true),
                        Tok::Quoted(name) => (name, false),
                        Tok::Question => return Err(CelError::new(name_span, CelErrorKind::Unsupported("optional field selection (`.?`)"))),
                        _ => {
                            self.pos -= 1;
                            return Err(self.expected("a field or method name"));
                        }
                    };
                    if plain && self.peek() == &Tok::LParen {
                        self.bump();
                        let args = self.list(&Tok::RParen)?;
                        let end = self.toks.get(self.pos - 1).map_or(name_span.1, |t| t.1 .1);
                        e = self.method(e, parenthesized, &name, args, (name_span.0, end))?;
                    } else {
                        // A backquoted name may contain dots, so it ends a qualified name.
                        let qualified = match &e.kind {
                            _ if parenthesized || !plain => None,
                            ExprKind::Ident(root) => Some(format!("{root}.{name}").into()),
                            ExprKind::Select { qualified: Some(q), test: false, .. } => Some(format!("{q}.{name}").into()),
                            _ => None,
                        };
                        let span = (e.span.0, name_span.1);
                        e = self.node(span, ExprKind::Select { operand: Box::new(e), field: name.into(), test: false, qualified })?;
                    }
                }
                Tok::LBracket => {
                    self.bump();
                    if self.peek() == &Tok::Question {
                        return Err(CelError::new(self.span(), CelErrorKind::Unsupported("optional indexing (`[?`)")));
                    }
                    let index = self.expr()?;
                    let end = self.expect(&Tok::RBracket, "`]`")?.1;
                    e = self.node((e.span.0, end), ExprKind::Index(Box::new(e), Box::new(index)))?;
                }
                Tok::LBrace if !parenthesized && matches!(e.kind, ExprKind::Ident(_) | ExprKind::Select { qualified: Some(_), .. }) => {
                    return Err(CelError::new(self.span(), CelErrorKind::Unsupported("message construction")));
                }
                _ => return Ok(e),
            }
            parenthesized = false;
        }
    }

    /// Comma-separated expressions up to `close` (consumed); a trailing comma is allowed.
    fn list(&mut self, close: &Tok) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        while !self.eat(close) {
            items.push(self.expr()?);
            if !self.eat(&Tok::Comma) {
                self.expect(close, "`,` or a closing bracket")?;
                break;
            }
        }
        Ok(items)
    }

    fn primary(&mut self) -> PResult<(Expr, bool)> {
        let (tok, span) = self.bump();
        let lit = |v: Value| Ok((Expr::new(span, ExprKind::Lit(v)), false));
        match tok {
            Tok::Int(n) => match i64::try_from(n) {
                Ok(v) => lit(Value::Int(v)),
                Err(_) => Err(CelError::new(span, CelErrorKind::InvalidNumber(format!("{n} (larger than the largest int)")))),
            },
            Tok::Uint(n) => lit(Value::Uint(n)),
            Tok::Double(d) => lit(Value::Double(d)),
            Tok::Str(s) => lit(Value::String(s.into())),
            Tok::Bytes(b) => lit(Value::Bytes(b.into())),
            Tok::Minus => {
                let (num, num_span) = self.bump();
                let span = (span.0, num_span.1);
                let v = match num {
                    Tok::Int(n) if n <= 1 << 63 => Value::Int(0i64.wrapping_sub_unsigned(n)),
                    Tok::Int(n) => return Err(CelError::new(span, CelErrorKind::InvalidNumber(format!("-{n} (smaller than the smallest int)")))),
                    Tok::Double(d) => Value::Double(-d),
                    _ => return Err(CelError::new(span, CelErrorKind::Expected { expected: "a number", found: num.describe() })),
                };
                Ok((Expr::new(span, ExprKind::Lit(v)), false))
            }
            Tok::Ident(name) => self.ident(name, span),
            Tok::Dot => match self.bump() {
                // A leading dot names the root scope; without containers that is the only scope.
                (Tok::Ident(name), name_span) => self.ident(name, (span.0, name_span.1)),
                _ => {
                    self.pos -= 1;
                    Err(self.expected("a name after the leading `.`"))
                }
            },
            Tok::LParen => {
                let mut e = self.expr()?;
                // The span takes in the parentheses, so carets underline `(a + b)` whole.
                e.span = (span.0, self.expect(&Tok::RParen, "`)`")?.1);
                Ok((e, true))
            }
            Tok::LBracket => {
                let items = self.list(&Tok::RBracket)?;
                let end = self.toks.get(self.pos - 1).map_or(span.1, |t| t.1 .1);
                Ok((self.node((span.0, end), ExprKind::List(items))?, false))
            }
            Tok::LBrace => {
                let mut entries = Vec::new();
                while !self.eat(&Tok::RBrace) {
                    let k = self.expr()?;
                    self.expect(&Tok::Colon, "`:`")?;
                    entries.push((k, self.expr()?));
                    if !self.eat(&Tok::Comma) {
                        self.expect(&Tok::RBrace, "`,` or `}`")?;
                        break;
                    }
                }
                let end = self.toks.get(self.pos - 1).map_or(span.1, |t| t.1 .1);
                Ok((self.node((span.0, end), ExprKind::Map(entries))?, false))
            }
            Tok::Quoted(_) => {
                Err(CelError::new(span, CelErrorKind::Expected { expected: "a value", found: "a backquoted name (allowed only after `.`)".into() }))
            }
            tok => {
                self.pos -= 1;
                Err(CelError::new(span, CelErrorKind::Expected { expected: "a value", found: tok.describe() }))
            }
        }
    }

    /// An identifier in primary position: a literal keyword, a variable or a global call.
    fn ident(&mut self, name: String, span: Span) -> PResult<(Expr, bool)> {
        let lit = |v: Value| Ok((Expr::new(span, ExprKind::Lit(v)), false));
        match name.as_str() {
            "true" => return lit(Value::Bool(true)),
            "false" => return lit(Value::Bool(false)),
            "null" => return lit(Value::Null),
            n if RESERVED.contains(&n) => return Err(CelError::new(span, CelErrorKind::ReservedWord(name))),
            _ => {}
        }
        if !self.eat(&Tok::LParen) {
            return Ok((Expr::new(span, ExprKind::Ident(name.into())), false));
        }
        let args = self.list(&Tok::RParen)?;
        let span = (span.0, self.toks.get(self.pos - 1).map_or(span.1, |t| t.1 .1));
        if name == "has" {
            let mut args = args;
            return match (args.pop(), args.is_empty()) {
                (Some(Expr { kind: ExprKind::Select { operand, field, test: false, qualified }, .. }), true) => {
                    let kind = ExprKind::Select { operand, field, test: true, qualified };
                    Ok((self.node(span, kind)?, false))
                }
                _ => Err(CelError::new(span, CelErrorKind::BadMacro("has() takes one field selection, such as has(a.b)".into()))),
            };
        }
        let kind = ExprKind::Call { func: compile_func(&name, &args)?, receiver: false, args };
        Ok((self.node(span, kind)?, false))
    }

    /// `target.name(args)`: a macro, `strings.quote(...)` or a receiver-style call.
    fn method(&mut self, target: Expr, parenthesized: bool, name: &str, mut args: Vec<Expr>, name_span: Span) -> PResult<Expr> {
        let span = (target.span.0, name_span.1);
        let shape = match (name, args.len()) {
            ("all", 2 | 3) => Some((Macro::All, args.len() == 3, false)),
            ("exists", 2 | 3) => Some((Macro::Exists, args.len() == 3, false)),
            ("exists_one" | "existsOne", 2 | 3) => Some((Macro::ExistsOne, args.len() == 3, false)),
            ("map", 2 | 3) => Some((Macro::Map, false, args.len() == 3)),
            ("filter", 2) => Some((Macro::Filter, false, false)),
            ("transformList", 3 | 4) => Some((Macro::TransformList, true, args.len() == 4)),
            ("transformMap", 3 | 4) => Some((Macro::TransformMap, true, args.len() == 4)),
            _ => None,
        };
        if let Some((kind, two_vars, has_filter)) = shape {
            let mut vars = Vec::new();
            let n_vars = 1 + usize::from(two_vars);
            for arg in args.drain(..n_vars) {
                match arg.kind {
                    ExprKind::Ident(v) => vars.push(v),
                    _ => return Err(CelError::new(arg.span, CelErrorKind::BadMacro(format!("the variables of {name}() must be simple names")))),
                }
            }
            let mut rest = args.into_iter();
            let filter = if has_filter { rest.next() } else { None };
            let (Some(body), Some(var)) = (rest.next(), vars.first().cloned()) else {
                return Err(CelError::new(span, CelErrorKind::BadMacro(format!("{name}() needs a body"))));
            };
            if vars.get(1).is_some_and(|v2| *v2 == var) {
                return Err(CelError::new(span, CelErrorKind::BadMacro(format!("the two variables of {name}() must differ"))));
            }
            let c = Comprehension { kind, range: target, var, var2: vars.get(1).cloned(), filter, body };
            return self.node(span, ExprKind::Comprehension(Box::new(c)));
        }
        if name == "quote" && !parenthesized && matches!(&target.kind, ExprKind::Ident(n) if &**n == "strings") {
            let kind = ExprKind::Call { func: compile_func("strings.quote", &args)?, receiver: false, args };
            return self.node(span, kind);
        }
        let func = compile_func(name, &args)?;
        args.insert(0, target);
        self.node(span, ExprKind::Call { func, receiver: true, args })
    }
}

/// Resolves a function name; a `matches` pattern given as a literal is compiled now, so a bad
/// pattern is a compile error and a good one is compiled once.
#[inline(never)]
fn compile_func(name: &str, args: &[Expr]) -> PResult<Func> {
    let func = Func::from_name(name);
    if let (Func::Matches(_), Some(Expr { kind: ExprKind::Lit(Value::String(pattern)), span, .. })) = (&func, args.last()) {
        return match super::functions::compile_regex(pattern) {
            Ok(re) => Ok(Func::Matches(Some(Arc::new(re)))),
            Err(msg) => Err(CelError::new(*span, CelErrorKind::InvalidRegex(msg))),
        };
    }
    Ok(func)
}
