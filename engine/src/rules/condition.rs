//! Targeting rules: CEL expressions (the interpreter is [`crate::cel`]) over Vitrine's variables,
//! checked against Vitrine's schema when the site configuration loads.
//!
//! Variables (docs/site.md has the full schema):
//!
//! - `profile`: the snapshot (`id`, `consent`, `traits`, `orders`, `recent_items`, `affinities`,
//!   `segments`, `rfm`, `lifecycle`, `clv`), with this session's orders added to `orders.count` and
//!   `orders.revenue`. Without consent only `profile.consent` is there.
//! - `events`: what the visitor did, oldest first: the snapshot's recent items and this session's
//!   events (both with consent only; the session's before consent too where the site sets
//!   `consent.session_before_consent`), each `{type, time, item, price, category, source}`; `type` is the GA4
//!   name (`view_item`, `add_to_cart`, `purchase`).
//! - `session`: `cart`, `cart_size`, `views`, `orders`, `revenue`, `viewed_categories` (empty
//!   before consent, as `events`).
//! - `page`: `type`, `product`, `category`. `now`: the decision's instant.
//! - `segment`: every segment of the site configuration by name, `true` or `false` (slot, list and
//!   experiment rules only; a segment's own rule cannot read other segments).
//!
//! Helpers beyond CEL: `days_since(t)` and `hours_since(t)`, `now - t` as a double.
//!
//! Missing data is a CEL error, which `&&` and `||` absorb where the other side decides; a rule
//! whose value is still an error (or not a bool) does not match, and a trace says why.

#[cfg(feature = "compile")]
use std::sync::{Arc, OnceLock};

use crate::cel::{self, Activation, Value};
#[cfg(feature = "compile")]
use crate::cel::{Decls, Schema, Type};

/// Evaluation budget per rule: far above any real rule over a 200-event session, far below what
/// would freeze a tab or an edge request.
pub const RULE_BUDGET: u64 = 200_000;

/// A compiled, checked rule.
#[derive(Debug, Clone)]
pub struct Condition {
    program: cel::Program,
    src: String,
}

/// One located problem with a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionError {
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// `line:col: message`, the rule's line and a caret under the problem.
    pub rendered: String,
}

/// Which variables a rule may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A segment's own rule: everything but `segment`.
    Segment,
    /// Slot, list and experiment rules: everything.
    Rule,
}

impl Condition {
    /// Compiles and checks `src` against the schema (with `segments` as the known segment names).
    /// Every error is returned, each located.
    #[cfg(feature = "compile")]
    pub fn compile(src: &str, segments: &[String], scope: Scope) -> Result<Condition, Vec<ConditionError>> {
        let decls = decls(segments, scope);
        let program = cel::Program::compile(src, &decls).map_err(|errors| {
            errors
                .iter()
                .map(|e| {
                    let (line, column) = line_col(src, e.span.0);
                    ConditionError { line, column, message: e.kind.to_string(), rendered: e.render(src) }
                })
                .collect::<Vec<_>>()
        })?;
        if !matches!(program.result_type(), Type::Bool | Type::Dyn) {
            let (line, column) = (1, 1);
            let message = format!("a rule must be true or false, found a value of type `{}`", program.result_type());
            return Err(vec![ConditionError { line, column, rendered: format!("1:1: {message}"), message }]);
        }
        Ok(Condition::from_program(program, src.to_owned()))
    }

    /// A rule from its compiled form; `src` (possibly empty) is shown in traces and locates errors.
    pub(crate) fn from_program(program: cel::Program, src: String) -> Condition {
        Condition { program, src }
    }

    #[cfg(feature = "compile")]
    pub(crate) fn program(&self) -> &cel::Program {
        &self.program
    }

    /// Whether the rule holds; an error (missing data, wrong types, the budget) is `Err`, with a
    /// located message (empty in a build without the `trace` feature, which would only drop it),
    /// and means "does not match".
    pub fn eval(&self, vars: &dyn Activation) -> Result<bool, String> {
        match self.program.eval_with_budget(vars, RULE_BUDGET) {
            Ok(Value::Bool(b)) => Ok(b),
            // Only a trace shows the message: without the feature, none is rendered.
            _ if !cfg!(feature = "trace") => Err(String::new()),
            Ok(v) => Err(format!("expected true or false, found {}", v.kind().name())),
            // Without its source (a compiled rule shipped without), the message alone.
            Err(e) if self.src.is_empty() => Err(e.kind.to_string()),
            Err(e) => Err(e.render(&self.src)),
        }
    }

    /// Whether the rule holds: [`Condition::eval`]'s `Ok(true)`, errors as `false`. Without the
    /// error's message: segments fail on missing data often (a visitor without `rfm`), and
    /// rendering each error only to drop it cost every such rule its message's formatting.
    pub fn matches(&self, vars: &dyn Activation) -> bool {
        matches!(self.program.eval_with_budget(vars, RULE_BUDGET), Ok(Value::Bool(true)))
    }

    /// The variables the rule reads (`profile.orders.count`, `events`, ...), each once.
    pub fn references(&self) -> Vec<String> {
        self.program.references()
    }

    pub fn source(&self) -> &str {
        &self.src
    }
}

/// "calls split()", "calls matches() and format()": the edge's functions a rule calls, in words;
/// `None` if it calls none. A `duration()` left after compiling is one of a string computed while
/// evaluating (compiling folds a literal's, or refuses one that is no duration), and says so.
#[cfg(feature = "compile")]
pub(crate) fn calls_words(functions: &[&str]) -> Option<String> {
    let (last, rest) = functions.split_last()?;
    let call = |f: &str| if f == "duration" { "duration() of a computed string".to_owned() } else { format!("{f}()") };
    let mut out = String::from("calls ");
    for f in rest {
        out.push_str(&call(f));
        out.push_str(if rest.len() > 1 { ", " } else { " " });
    }
    if !rest.is_empty() {
        out.push_str("and ");
    }
    out.push_str(&call(last));
    Some(out)
}

/// Why only a runtime with the edge's functions evaluates `program`, in words, or `None` if
/// every runtime does: it calls one of them, reads one of the edge-only `segments` (each with
/// what its rule calls), or reads the `segment` map as a whole while one of them is in it
/// (`SiteConfig::mark_edge_only`).
#[cfg(feature = "compile")]
pub(crate) fn edge_only_why(program: &cel::Program, segments: &[(&str, String)]) -> Option<String> {
    if let Some(calls) = calls_words(&program.edge_functions()) {
        return Some(calls);
    }
    let (first, first_calls) = segments.first()?;
    program.references().iter().find_map(|r| {
        if r == "segment" {
            return Some(format!("reads the whole `segment` map, with segment `{first}`, whose rule {first_calls}"));
        }
        let id = r.strip_prefix("segment.")?;
        let (_, calls) = segments.iter().find(|(s, _)| *s == id)?;
        Some(format!("reads segment `{id}`, whose rule {calls}"))
    })
}

#[cfg(feature = "compile")]
fn line_col(src: &str, at: usize) -> (usize, usize) {
    // Spans are token starts (char boundaries); `get` keeps this total anyway.
    let before = src.get(..at).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(feature = "compile")]
fn obj(name: &str, fields: Vec<(&str, Type)>) -> Type {
    Type::Object(Arc::new(Schema::new(name, fields)))
}

#[cfg(feature = "compile")]
fn list(t: Type) -> Type {
    Type::List(Box::new(t))
}

#[cfg(feature = "compile")]
fn dyn_map() -> Type {
    Type::Map(Box::new(Type::String), Box::new(Type::Dyn))
}

/// The declarations every rule is checked against (see the module documentation).
#[cfg(feature = "compile")]
fn base_decls() -> &'static Decls {
    static DECLS: OnceLock<Decls> = OnceLock::new();
    DECLS.get_or_init(|| {
        let event = obj(
            "event",
            vec![
                ("type", Type::String),
                ("time", Type::Timestamp),
                ("item", Type::String),
                ("price", Type::Double),
                ("category", Type::String),
                ("source", Type::String),
            ],
        );
        let recent = obj("profile.recent_items[]", vec![("id", Type::String), ("time", Type::Timestamp), ("event", Type::String)]);
        let profile = obj(
            "profile",
            vec![
                ("id", Type::String),
                ("consent", obj("profile.consent", vec![("personalization", Type::Bool)])),
                ("traits", dyn_map()),
                (
                    "orders",
                    obj(
                        "profile.orders",
                        vec![("count", Type::Int), ("revenue", Type::Double), ("aov", Type::Double), ("first", Type::Timestamp), ("last", Type::Timestamp)],
                    ),
                ),
                ("recent_items", list(recent)),
                ("affinities", Type::Map(Box::new(Type::String), Box::new(Type::Double))),
                ("segments", list(Type::String)),
                (
                    "rfm",
                    obj(
                        "profile.rfm",
                        vec![
                            ("recency_days", Type::Int),
                            ("frequency", Type::Int),
                            ("monetary", Type::Double),
                            ("r", Type::Int),
                            ("f", Type::Int),
                            ("m", Type::Int),
                            ("as_of", Type::Timestamp),
                        ],
                    ),
                ),
                (
                    "lifecycle",
                    obj(
                        "profile.lifecycle",
                        vec![("stage", Type::String), ("expected_gap_days", Type::Double), ("days_overdue", Type::Double), ("as_of", Type::Timestamp)],
                    ),
                ),
                (
                    "clv",
                    obj(
                        "profile.clv",
                        vec![("expected_orders", Type::Double), ("expected_value", Type::Double), ("p_alive", Type::Double), ("horizon_days", Type::Int)],
                    ),
                ),
            ],
        );
        let session = obj(
            "session",
            vec![
                ("cart", list(Type::String)),
                ("cart_size", Type::Int),
                ("views", Type::Int),
                ("orders", Type::Int),
                ("revenue", Type::Double),
                ("viewed_categories", list(Type::String)),
            ],
        );
        let page = obj("page", vec![("type", Type::String), ("product", Type::String), ("category", Type::String)]);
        Decls::new().var("profile", profile).var("events", list(event)).var("session", session).var("page", page).var("now", Type::Timestamp)
    })
}

/// The schema for `scope` with the site's segment names.
#[cfg(feature = "compile")]
pub fn decls(segments: &[String], scope: Scope) -> Decls {
    let mut d = base_decls().clone();
    if scope == Scope::Rule {
        d.insert("segment", obj("segment", segments.iter().map(|s| (s.as_str(), Type::Bool)).collect()));
    }
    d
}

/// `n` with two decimals, exactly as `format!("{n:.2}")` prints it (its binary value rounded half to
/// even), in integer arithmetic: the standard library's exact float printing is several KB of the
/// browser's Wasm. `None` from 2^63 up, where no template number belongs (the fallback shows).
fn two_decimals(n: f64) -> Option<String> {
    let cents = cents(n)?;
    // cents < 2^70: divided by 100 in two steps that fit u64, so that the whole part (below 2^63)
    // prints as a u64 (no u128 printing in the browser's Wasm).
    let (high, low) = ((cents >> 32) as u64, (cents & 0xffff_ffff) as u64);
    let rest = ((high % 100) << 32) | low;
    let whole = ((high / 100) << 32) | (rest / 100);
    let sign = if n.is_sign_negative() { "-" } else { "" };
    Some(format!("{sign}{whole}.{:02}", rest % 100))
}

/// |n| in hundredths, rounded as [`two_decimals`] prints it; `None` from 2^63 up.
pub(crate) fn cents(n: f64) -> Option<u128> {
    if !n.is_finite() || n.abs() >= (1u64 << 63) as f64 {
        return None;
    }
    let bits = n.abs().to_bits();
    let (exp, frac) = ((bits >> 52) as i32, bits & ((1 << 52) - 1));
    // |n| = m × 2^e exactly.
    let (m, e) = if exp == 0 { (frac, -1074) } else { (frac | 1 << 52, exp - 1075) };
    let hundreds = u128::from(m) * 100;
    Some(if e >= 0 {
        hundreds << e
    } else if -e >= 128 {
        0 // below a cent's half: m × 100 < 2^60
    } else {
        let k = -e as u32;
        let (q, r) = (hundreds >> k, hundreds & ((1 << k) - 1));
        let half = 1u128 << (k - 1);
        q + u128::from(r > half || (r == half && q & 1 == 1))
    })
}

/// A value as template text: strings trimmed, numbers plainly, times in RFC 3339; `None` for null,
/// empty strings and composite values (the template's fallback shows instead).
pub fn display(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Int(n) => Some(n.to_string()),
        Value::Uint(n) => Some(n.to_string()),
        Value::Double(n) if n.is_finite() => {
            if n.fract() == 0.0 && n.abs() < 1e15 {
                Some((*n as i64).to_string())
            } else {
                two_decimals(*n)
            }
        }
        Value::Bool(b) => Some(b.to_string()),
        Value::Timestamp(t) => Some(crate::base::time::format(t.secs())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::two_decimals;

    #[test]
    fn cents_print_as_the_standard_library_does() {
        let mut cases = vec![
            0.125,
            0.375,
            0.625,
            2.675,
            1.005,
            0.005,
            0.015,
            0.004999,
            -0.004,
            -0.005,
            -0.125,
            12.345,
            1e-300,
            f64::MIN_POSITIVE,
            5e-324,
            0.1,
            0.7,
            1e15 + 0.5,
            4503599627370495.5,
            9007199254740993.0,
            1e18,
            4.6e18,
            9.2e18,
            -9.2e18,
            123456789.995,
            1.0 / 3.0,
            -2.0 / 3.0,
        ];
        // A reproducible spread over magnitudes and mantissas (a linear congruential generator).
        let mut seed: u64 = 42;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let mantissa = (seed >> 11) as f64 / (1u64 << 53) as f64;
            let scale = 10f64.powi(((seed >> 3) % 38) as i32 - 20);
            cases.push(if seed & 1 == 0 { mantissa * scale } else { -mantissa * scale });
            // Halves of a cent, which round to even.
            cases.push(((seed >> 20) % 100_000) as f64 / 1000.0 + 0.005);
        }
        for n in cases {
            assert_eq!(two_decimals(n).as_deref(), Some(format!("{n:.2}").as_str()), "{n:e}");
        }
        assert_eq!(two_decimals(1e19), None);
        assert_eq!(two_decimals(f64::NAN), None);
        assert_eq!(two_decimals(f64::INFINITY), None);
    }
}
