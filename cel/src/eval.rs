//! The CEL evaluator: walks the tree against an activation, charging a cost budget as it goes.

use std::sync::Arc;

use super::ast::{BinOp, Comprehension, Expr, ExprKind, Macro};
use super::functions::{self, no_match};
use super::value::{map_get, Key, Kind, Map, Value};
use super::{detail, Activation, EvalError, EvalErrorKind as K, Span};

pub(crate) struct Eval<'a> {
    vars: &'a dyn Activation,
    /// Comprehension variables in scope, innermost last.
    locals: Vec<(Arc<str>, Value)>,
    budget: u64,
}

type EResult = Result<Value, EvalError>;

impl<'a> Eval<'a> {
    pub fn new(vars: &'a dyn Activation, budget: u64) -> Eval<'a> {
        Eval { vars, locals: Vec::new(), budget }
    }

    /// Spends `units` of the budget. Once it is spent, every later charge fails too, so the
    /// error cannot be absorbed by `||`, `&&` or a macro and evaluation unwinds promptly.
    fn charge(&mut self, units: u64, span: Span) -> Result<(), EvalError> {
        match self.budget.checked_sub(units) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => {
                self.budget = 0;
                Err(EvalError { span, kind: K::CostExceeded })
            }
        }
    }

    #[cfg_attr(vitrine_snippet, optimize(speed))]
    pub fn eval(&mut self, e: &Expr) -> EResult {
        self.charge(1, e.span)?;
        let err = |kind| EvalError { span: e.span, kind };
        match &e.kind {
            ExprKind::Lit(v) => Ok(v.clone()),
            ExprKind::Ident(name) => self.lookup(name).ok_or_else(|| err(K::UnboundVariable(detail(|| name.to_string())))),
            ExprKind::Select { operand, field, test, qualified } => {
                if let Some(q) = qualified.as_deref().filter(|q| !self.is_local_root(q)) {
                    if let Some(v) = self.vars.get(q) {
                        return Ok(if *test { Value::Bool(true) } else { v });
                    }
                    if let (Some(kind), false) = (Kind::from_name(q), test) {
                        return Ok(Value::Type(kind));
                    }
                }
                // `e.field` on a comprehension variable: select on it in place, no clone of the map.
                if let ExprKind::Ident(name) = &operand.kind {
                    if let Some(at) = self.locals.iter().rposition(|(n, _)| n == name) {
                        self.charge(1, operand.span)?;
                        return select(&self.locals[at].1, field, *test).map_err(err);
                    }
                }
                let base = self.eval(operand)?;
                select(&base, field, *test).map_err(err)
            }
            ExprKind::Index(a, i) => {
                let (base, index) = (self.eval(a)?, self.eval(i)?);
                self.index(&base, &index).map_err(err)
            }
            ExprKind::Call { func, receiver, args } => {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(a)?);
                }
                self.call(func, *receiver, &values, e.span)
            }
            ExprKind::List(items) => {
                let mut values = Vec::with_capacity(items.len());
                for i in items {
                    values.push(self.eval(i)?);
                }
                Ok(Value::List(values.into()))
            }
            ExprKind::Map(entries) => {
                let mut values = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let k = self.eval(k)?;
                    values.push((k, self.eval(v)?));
                }
                functions::make_map(values).map_err(err)
            }
            ExprKind::Not(a) => {
                let v = self.eval(a)?;
                unary(false, &v).map_err(err)
            }
            ExprKind::Neg(a) => {
                let v = self.eval(a)?;
                unary(true, &v).map_err(err)
            }
            ExprKind::Binary(op, a, b) => {
                // A literal operand (`e.type == 'purchase'`) is compared in place, not cloned.
                match (&a.kind, &b.kind) {
                    // `e.field == 'literal'` on a comprehension variable: both sides in place.
                    (ExprKind::Select { operand, field, test: false, .. }, ExprKind::Lit(y))
                        if matches!(op, BinOp::Eq | BinOp::Ne | BinOp::In | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) =>
                    {
                        if let Some(r) = self.compare_field(operand, field, y, *op, e.span) {
                            return r;
                        }
                        let x = self.eval(a)?;
                        self.charge(1, b.span)?;
                        self.binary(*op, &x, y, e.span)
                    }
                    (_, ExprKind::Lit(y)) => {
                        let x = self.eval(a)?;
                        self.charge(1, b.span)?;
                        self.binary(*op, &x, y, e.span)
                    }
                    (ExprKind::Lit(x), _) => {
                        self.charge(1, a.span)?;
                        let y = self.eval(b)?;
                        self.binary(*op, x, &y, e.span)
                    }
                    _ => {
                        let (x, y) = (self.eval(a)?, self.eval(b)?);
                        self.binary(*op, &x, &y, e.span)
                    }
                }
            }
            ExprKind::And(items) => self.logic(items, false, e.span),
            ExprKind::Or(items) => self.logic(items, true, e.span),
            ExprKind::Cond(c, a, b) => match self.eval(c)? {
                Value::Bool(true) => self.eval(a),
                Value::Bool(false) => self.eval(b),
                v => Err(err(no_match("_?_:_", &[&v]))),
            },
            ExprKind::Comprehension(c) => self.comprehension(c, e.span),
        }
    }

    /// A built-in call on evaluated arguments. Not inlined, like the other helpers that do the
    /// work of a node: `eval` recurses once per tree level, so its own frame must stay small.
    #[inline(never)]
    fn call(&mut self, func: &super::ast::Func, receiver: bool, values: &[Value], span: Span) -> EResult {
        if let super::ast::Func::DaysSince | super::ast::Func::HoursSince = func {
            return self.since(func, values, span);
        }
        let mut units: u64 = values.iter().map(Value::size_hint).sum();
        if let super::ast::Func::Format = func {
            // `%s` renders nested lists and maps whole: pay for their whole size first.
            for v in values {
                units = units.saturating_add(self.weigh(v, span)?);
            }
        }
        // Without the regex engine the call is an `EdgeOnly` error, whatever its cost: the edge
        // decides (and charges) it.
        #[cfg(feature = "regex")]
        if let (super::ast::Func::Matches(compiled), [Value::String(s), Value::String(p)]) = (func, values) {
            // A pattern that is not a literal is compiled here, every call: that costs too (and
            // is charged before compiling, so a pattern too big to compile is paid for as well).
            if compiled.is_none() {
                units = units.saturating_add(functions::regex_weight(p) / 8);
            }
            // An automaton match costs up to text length times the compiled program's size, which
            // counted repetitions multiply (`[a-z]{600}{10}` is 6,000 states from 14 characters).
            units = units.saturating_add((s.len() as u64).saturating_mul(functions::regex_weight(p)) / 64);
        }
        self.charge(units, span)?;
        let limit = usize::try_from(self.budget.saturating_mul(8)).unwrap_or(usize::MAX);
        let v = functions::call(func, receiver, values, limit).map_err(|kind| EvalError { span, kind })?;
        self.charge(v.size_hint(), span)?;
        Ok(v)
    }

    /// `days_since(t)` / `hours_since(t)`: `now - t` as a double, `now` read from the activation.
    #[inline(never)]
    fn since(&mut self, func: &super::ast::Func, values: &[Value], span: Span) -> EResult {
        self.charge(1, span)?;
        let unit = if let super::ast::Func::DaysSince = func { 86_400.0 } else { 3_600.0 };
        match (values, self.vars.get("now")) {
            ([Value::Timestamp(t)], Some(Value::Timestamp(now))) => {
                let seconds = (now.secs() - t.secs()) as f64 + (f64::from(now.nanos()) - f64::from(t.nanos())) / 1e9;
                Ok(Value::Double(seconds / unit))
            }
            ([Value::Timestamp(_)], _) => Err(EvalError { span, kind: K::UnboundVariable("now".into()) }),
            _ => Err(EvalError { span, kind: functions::no_match(func.name(), &values.iter().collect::<Vec<_>>()) }),
        }
    }

    /// The weight of `v`, failing when it is more than the budget left.
    pub fn weigh(&self, v: &Value, span: Span) -> Result<u64, EvalError> {
        v.weight(self.budget).ok_or(EvalError { span, kind: K::CostExceeded })
    }

    /// Compares with CEL's `==`, paying for every element compared.
    fn equals(&mut self, x: &Value, y: &Value, span: Span) -> Result<bool, EvalError> {
        let mut left = self.budget;
        let equal = x.equals_within(y, &mut left);
        self.charge(self.budget - left, span)?;
        equal.ok_or(EvalError { span, kind: K::CostExceeded })
    }

    #[cfg_attr(vitrine_snippet, optimize(speed))]
    fn lookup(&self, name: &str) -> Option<Value> {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| &**n == name) {
            return Some(v.clone());
        }
        self.vars.get(name).or_else(|| Kind::from_name(name).map(Value::Type))
    }

    /// `local.field <op> literal` (`==`, `!=`, `in`, `<`, `<=`, `>`, `>=`) without cloning the
    /// field's value; `None` when `operand` is not a comprehension variable or `in` has no list
    /// (the caller then evaluates normally, with the same result).
    #[cfg_attr(vitrine_snippet, optimize(speed))]
    fn compare_field(&mut self, operand: &Expr, field: &Arc<str>, y: &Value, op: BinOp, span: Span) -> Option<EResult> {
        let ExprKind::Ident(name) = &operand.kind else { return None };
        let at = self.locals.iter().rposition(|(n, _)| n == name)?;
        if let Err(e) = self.charge(3, span) {
            return Some(Err(e));
        }
        let Eval { locals, budget, .. } = self;
        let x = match &locals[at].1 {
            Value::Map(m) => match m.get_str(field) {
                Some(x) => x,
                None => return Some(Err(EvalError { span, kind: K::NoSuchField(field.clone()) })),
            },
            other => {
                return Some(Err(EvalError { span, kind: K::InvalidArgument(detail(|| format!("type `{}` does not support field selection", other.kind()))) }))
            }
        };
        let ordered = |test: fn(std::cmp::Ordering) -> bool| match x.cel_compare(y) {
            Ok(ord) => Ok(Value::Bool(ord.is_some_and(test))),
            Err(()) => Err(EvalError { span, kind: no_match(op.symbol(), &[x, y]) }),
        };
        let mut left = *budget;
        let result = match op {
            BinOp::Eq | BinOp::Ne => match x.equals_within(y, &mut left) {
                Some(b) => Ok(Value::Bool(b == (op == BinOp::Eq))),
                None => Err(EvalError { span, kind: K::CostExceeded }),
            },
            BinOp::In => {
                let Value::List(items) = y else { return None };
                let mut found = Some(false);
                for item in items.iter() {
                    match x.equals_within(item, &mut left) {
                        Some(true) => {
                            found = Some(true);
                            break;
                        }
                        Some(false) => {}
                        None => {
                            found = None;
                            break;
                        }
                    }
                }
                found.map(Value::Bool).ok_or(EvalError { span, kind: K::CostExceeded })
            }
            BinOp::Lt => ordered(std::cmp::Ordering::is_lt),
            BinOp::Le => ordered(std::cmp::Ordering::is_le),
            BinOp::Gt => ordered(std::cmp::Ordering::is_gt),
            BinOp::Ge => ordered(std::cmp::Ordering::is_ge),
            _ => return None,
        };
        *budget = left;
        Some(result)
    }

    fn is_local_root(&self, qualified: &str) -> bool {
        if self.locals.is_empty() {
            return false;
        }
        let root = qualified.find('.').map_or(qualified, |i| &qualified[..i]);
        self.locals.iter().any(|(n, _)| &**n == root)
    }

    #[inline(never)]
    fn index(&self, base: &Value, index: &Value) -> Result<Value, K> {
        match base {
            Value::List(items) => {
                let i = match index {
                    Value::Int(i) => *i,
                    Value::Uint(u) => i64::try_from(*u).unwrap_or(i64::MAX),
                    Value::Double(d) if d.fract() == 0.0 && d.abs() < super::value::TWO_63 => *d as i64,
                    Value::Double(d) => return Err(K::InvalidArgument(detail(|| format!("invalid list index {}", super::value::format_double(*d))))),
                    other => return Err(no_match("_[_]", &[base, other])),
                };
                usize::try_from(i).ok().and_then(|i| items.get(i)).cloned().ok_or_else(|| K::IndexOutOfRange(detail(|| i.to_string())))
            }
            Value::Map(map) => map_get(map, index).cloned().ok_or_else(|| K::NoSuchKey(detail(|| index.literal()))),
            _ => Err(no_match("_[_]", &[base, index])),
        }
    }

    #[inline(never)]
    #[cfg_attr(vitrine_snippet, optimize(speed))]
    fn binary(&mut self, op: BinOp, x: &Value, y: &Value, span: Span) -> EResult {
        let err = |kind| EvalError { span, kind };
        let ordered = |test: fn(std::cmp::Ordering) -> bool| match x.cel_compare(y) {
            Ok(ord) => Ok(Value::Bool(ord.is_some_and(test))),
            Err(()) => Err(err(no_match(op.symbol(), &[x, y]))),
        };
        match op {
            BinOp::Eq | BinOp::Ne => Ok(Value::Bool(self.equals(x, y, span)? == (op == BinOp::Eq))),
            BinOp::Lt => ordered(std::cmp::Ordering::is_lt),
            BinOp::Le => ordered(std::cmp::Ordering::is_le),
            BinOp::Gt => ordered(std::cmp::Ordering::is_gt),
            BinOp::Ge => ordered(std::cmp::Ordering::is_ge),
            BinOp::In => match y {
                Value::List(items) => {
                    for item in items.iter() {
                        if self.equals(x, item, span)? {
                            return Ok(Value::Bool(true));
                        }
                    }
                    Ok(Value::Bool(false))
                }
                Value::Map(map) => Ok(Value::Bool(map_get(map, x).is_some())),
                _ => Err(err(no_match(op.symbol(), &[x, y]))),
            },
            _ => {
                let v = functions::arith(op, x, y).map_err(err)?;
                self.charge(v.size_hint(), span)?;
                Ok(v)
            }
        }
    }

    /// `&&` (`or` false) and `||` (`or` true) over all operands: a deciding value (false for
    /// `&&`, true for `||`) wins over errors and non-booleans on either side; otherwise the
    /// first error is the result.
    #[inline(never)]
    #[cfg_attr(vitrine_snippet, optimize(speed))]
    fn logic(&mut self, items: &[Expr], or: bool, span: Span) -> EResult {
        let mut first_error = None;
        for item in items {
            match self.eval(item) {
                Ok(Value::Bool(b)) if b == or => return Ok(Value::Bool(or)),
                Ok(Value::Bool(_)) => {}
                Err(e) if e.kind == K::CostExceeded => return Err(e),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
                Ok(v) => {
                    let func = if or { "_||_" } else { "_&&_" };
                    first_error.get_or_insert(EvalError { span, kind: no_match(func, &[&v]) });
                }
            }
        }
        first_error.map_or(Ok(Value::Bool(!or)), Err)
    }

    #[inline(never)]
    #[cfg_attr(vitrine_snippet, optimize(speed))]
    fn comprehension(&mut self, c: &Comprehension, span: Span) -> EResult {
        let err = |kind| EvalError { span, kind };
        let name = match c.kind {
            Macro::All => "all",
            Macro::Exists => "exists",
            Macro::ExistsOne => "exists_one",
            Macro::Map => "map",
            Macro::Filter => "filter",
            Macro::TransformList => "transformList",
            Macro::TransformMap => "transformMap",
        };
        let range = self.eval(&c.range)?;
        // One (index or key, value) pair per step. One-variable macros bind the element of a
        // list or the key of a map; two-variable macros bind both. A list is walked in place.
        let (items, keys): (Arc<[Value]>, Vec<Value>) = match &range {
            Value::List(items) => (items.clone(), Vec::new()),
            Value::Map(map) => {
                let (keys, values): (Vec<Value>, Vec<Value>) = map.iter().map(|(k, v)| (k.to_value(), v.clone())).unzip();
                (values.into(), keys)
            }
            other => return Err(err(no_match(name, &[other]))),
        };
        let steps = (0..items.len()).map(|i| {
            let key = keys.get(i).cloned().unwrap_or_else(|| Value::Int(i64::try_from(i).unwrap_or(i64::MAX)));
            (key, &items[i])
        });
        let is_list = matches!(range, Value::List(_));
        // The step's variables are pushed once, their values replaced at each step, and popped
        // when the macro ends, however it ends.
        let before = self.locals.len();
        self.locals.push((c.var.clone(), Value::Null));
        if let Some(var2) = &c.var2 {
            self.locals.push((var2.clone(), Value::Null));
        }
        let result = self.steps(c, name, steps, is_list, before, span);
        self.locals.truncate(before);
        result
    }

    /// The steps of `comprehension`, with its variables pushed at `before`.
    #[inline(always)]
    fn steps<'v>(
        &mut self,
        c: &Comprehension,
        name: &str,
        steps: impl Iterator<Item = (Value, &'v Value)>,
        is_list: bool,
        before: usize,
        span: Span,
    ) -> EResult {
        let err = |kind| EvalError { span, kind };
        let mut first_error: Option<EvalError> = None;
        let mut count = 0usize;
        let mut list = Vec::new();
        let mut map = Map::new();
        for (key, value) in steps {
            self.charge(1, span)?;
            // One inlined copy per step (`Value::dup`), of the element (or a map's key).
            let (at, step) = if c.var2.is_some() {
                self.locals[before].1 = key.clone();
                (before + 1, value)
            } else {
                (before, if is_list { value } else { &key })
            };
            self.locals[at].1 = step.dup();
            if let Some(filter) = &c.filter {
                match self.eval(filter)? {
                    Value::Bool(true) => {}
                    Value::Bool(false) => continue,
                    v => return Err(err(no_match(name, &[&v]))),
                }
            }
            let result = self.eval(&c.body);
            match c.kind {
                Macro::All | Macro::Exists => {
                    let decisive = c.kind == Macro::Exists;
                    match result {
                        Ok(Value::Bool(b)) if b == decisive => return Ok(Value::Bool(decisive)),
                        Ok(Value::Bool(_)) => {}
                        Err(e) if e.kind == K::CostExceeded => return Err(e),
                        Err(e) => {
                            first_error.get_or_insert(e);
                        }
                        Ok(v) => {
                            first_error.get_or_insert(err(no_match(name, &[&v])));
                        }
                    }
                }
                Macro::ExistsOne => match result? {
                    Value::Bool(true) => count += 1,
                    Value::Bool(false) => {}
                    v => return Err(err(no_match(name, &[&v]))),
                },
                Macro::Filter => match result? {
                    Value::Bool(true) => list.push(self.locals[before].1.clone()),
                    Value::Bool(false) => {}
                    v => return Err(err(no_match(name, &[&v]))),
                },
                Macro::Map | Macro::TransformList => list.push(result?),
                Macro::TransformMap => {
                    let k = Key::from_value(&key).ok_or_else(|| err(K::UnsupportedKeyType(detail(|| key.kind().name().to_string()))))?;
                    map.insert(k, result?);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        Ok(match c.kind {
            Macro::All => Value::Bool(true),
            Macro::Exists => Value::Bool(false),
            Macro::ExistsOne => Value::Bool(count == 1),
            Macro::Map | Macro::Filter | Macro::TransformList => Value::List(list.into()),
            Macro::TransformMap => Value::from(map),
        })
    }
}

/// `operand.field` and `has(operand.field)` on an evaluated operand.
#[inline(never)]
#[cfg_attr(vitrine_snippet, optimize(speed))]
fn select(base: &Value, field: &Arc<str>, test: bool) -> Result<Value, K> {
    match base {
        Value::Map(m) => match (m.get_str(field), test) {
            (found, true) => Ok(Value::Bool(found.is_some())),
            (Some(v), false) => Ok(v.clone()),
            (None, false) => Err(K::NoSuchField(field.clone())),
        },
        other => Err(K::InvalidArgument(detail(|| format!("type `{}` does not support field selection", other.kind())))),
    }
}

/// `!v` (or `-v` with `negate`).
#[inline(never)]
fn unary(negate: bool, v: &Value) -> Result<Value, K> {
    match (negate, v) {
        (false, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (true, Value::Int(i)) => i.checked_neg().map(Value::Int).ok_or(K::Overflow),
        (true, Value::Double(d)) => Ok(Value::Double(-d)),
        (false, _) => Err(no_match("!_", &[v])),
        (true, _) => Err(no_match("-_", &[v])),
    }
}
