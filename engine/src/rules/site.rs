//! The site configuration (`site.json`, `"v": 1`, documented in docs/site.md with a JSON Schema in
//! docs/site.schema.json): segments, slots and their variants, list re-ranking, recommendation
//! widgets and experiments. Every rule and template is compiled and checked when the configuration
//! loads, and every error is collected, so a runtime never meets a rule that could have been
//! rejected earlier.

use crate::base::error::FormatError;
#[cfg(feature = "compile")]
use crate::base::error::FormatErrorKind;
use crate::base::named::Named;
use crate::base::time::Seconds;
#[cfg(feature = "compile")]
use crate::cel::Quoted;
use crate::cel::{self, Activation};
use crate::data::money::MoneyFormat;
use crate::recs::strategy::Strategy;
#[cfg(feature = "compile")]
use crate::rules::condition::Scope;
use crate::rules::condition::{self, Condition};
#[cfg(feature = "compile")]
use crate::rules::source::{ArmDoc, ListRuleDoc, VariantDoc};

#[derive(Debug, Clone)]
pub struct SiteConfig {
    /// In name order; each evaluated at most once per decision.
    pub segments: Vec<Segment>,
    pub slots: Named<Vec<Variant>>,
    pub list_boost: f64,
    pub list_rules: Vec<ListRule>,
    pub recs_k: usize,
    /// Widgets configured here rather than (or on top of) in markup, by widget name.
    pub widgets: Named<Widget>,
    pub experiments: Vec<Experiment>,
    /// A fixed "now" for demos on historical data; runtimes use it in place of their clock.
    pub demo_now: Option<Seconds>,
    /// Whether decisions may read this session's events before consent (in memory only; the
    /// snippet stores nothing before consent either way). Off by default: before consent only the
    /// page's own context is used (`"consent": {"session_before_consent": true}`, docs/site.md).
    pub session_before_consent: bool,
    /// Rules that call one of the edge's functions (or read a segment that does), by field, with
    /// the placement they decide (`None` for a segment's own rule). Found when compiling
    /// (`SiteConfig::mark_edge_only`) and carried by the compiled form.
    pub edge_only_rules: Vec<(String, Option<Target>)>,
    /// How prices are shown (recommendations' `price`): the site's `locale` resolved when it was
    /// compiled, `en-GB` without one (docs/site.md, "Locale").
    pub money: MoneyFormat,
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub id: String,
    pub description: String,
    pub when: Condition,
}

#[derive(Debug, Clone)]
pub struct Variant {
    pub id: String,
    /// `None`: always (a fallback variant).
    pub when: Option<Condition>,
    /// Higher wins among the variants that hold; ties go to the one listed first.
    pub priority: i64,
    pub schedule: Schedule,
    pub content: Named<Template>,
}

/// When a variant or rule is live: from `start` (inclusive) until `end` (exclusive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Schedule {
    pub start: Option<Seconds>,
    pub end: Option<Seconds>,
}

impl Schedule {
    /// `"active"`, `"not started"` or `"ended"` at `now`.
    pub fn state(&self, now: Seconds) -> &'static str {
        if self.start.is_some_and(|s| now < s) {
            "not started"
        } else if self.end.is_some_and(|e| now >= e) {
            "ended"
        } else {
            "active"
        }
    }
}

/// Re-ranking for one list (or every list): pinned items first, buried last, extra category
/// boosts on top of the visitor's affinities.
#[derive(Debug, Clone)]
pub struct ListRule {
    pub id: String,
    /// `None`: every list.
    pub list: Option<String>,
    pub when: Option<Condition>,
    pub schedule: Schedule,
    pub pin: Vec<String>,
    pub bury: Vec<String>,
    /// Category (`product_type`) → extra weight added to the visitor's affinity for it.
    pub boost: Named<f64>,
}

/// Also the widget's compiled form (engine/src/rules/compiled.rs).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "compile", derive(serde::Serialize))]
pub struct Widget {
    pub strategy: Strategy,
    #[cfg_attr(feature = "compile", serde(default, skip_serializing_if = "Option::is_none"))]
    pub k: Option<usize>,
    #[cfg_attr(feature = "compile", serde(default, skip_serializing_if = "Option::is_none"))]
    pub category: Option<String>,
    #[cfg_attr(feature = "compile", serde(default, skip_serializing_if = "Option::is_none"))]
    pub price_min: Option<f64>,
    #[cfg_attr(feature = "compile", serde(default, skip_serializing_if = "Option::is_none"))]
    pub price_max: Option<f64>,
    #[cfg_attr(feature = "compile", serde(default, skip_serializing_if = "Option::is_none"))]
    pub max_per_category: Option<usize>,
}

/// An A/B test (or a holdout alone) on one slot, list or widget.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub id: String,
    pub salt: String,
    pub target: Target,
    /// Who is in the experiment; `None`: every visitor with an id and consent.
    pub audience: Option<Condition>,
    pub schedule: Schedule,
    /// Share of the audience that gets the shop's default, to measure the personalization's lift.
    pub holdout: f64,
    pub arms: Vec<Arm>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Slot(String),
    List(String),
    Widget(String),
}

/// Also the arm's compiled form (engine/src/rules/compiled.rs).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "compile", derive(serde::Serialize))]
pub struct Arm {
    pub id: String,
    pub weight: f64,
    /// The shop's default: no variant, the shop's list order, the widget left as served.
    #[cfg_attr(feature = "compile", serde(default, skip_serializing_if = "std::ops::Not::not"))]
    pub default: bool,
    /// Slots: this variant, if its schedule is live (its condition is not asked).
    #[cfg_attr(feature = "compile", serde(default, skip_serializing_if = "Option::is_none"))]
    pub variant: Option<String>,
    /// Widgets: this strategy instead of the configured one.
    #[cfg_attr(feature = "compile", serde(default, skip_serializing_if = "Option::is_none"))]
    pub strategy: Option<Strategy>,
}

/// A content string with `{expr}` / `{expr|fallback}` holes (each a CEL expression over the rule
/// variables); it renders to text.
#[derive(Debug, Clone)]
pub struct Template(pub(crate) Vec<Piece>);

#[derive(Debug, Clone)]
pub(crate) enum Piece {
    Text(String),
    Hole {
        program: Box<cel::Program>,
        fallback: String,
    },
    /// `{money(amount)}` or `{money(amount, 'EUR')}`: an amount as the site's locale writes a price,
    /// in the named currency or (`None`) the shop's.
    Money {
        program: Box<cel::Program>,
        currency: Option<[u8; 3]>,
        fallback: String,
    },
}

/// A `money()` hole's amount source and currency (`None`: the shop's).
#[cfg(feature = "compile")]
type MoneyHole<'a> = (&'a str, Option<[u8; 3]>);

/// A hole's expression as `money(amount)` / `money(amount, 'EUR')`: the amount's source and the
/// currency. `None` if it is not a call of `money` as a whole; an error if it is one, badly.
#[cfg(feature = "compile")]
fn money_hole(expr: &str) -> Option<Result<MoneyHole<'_>, String>> {
    let args = expr.strip_prefix("money")?.trim_start().strip_prefix('(')?.strip_suffix(')')?;
    // The call's own parentheses must enclose all of it (not `money(a) + money(b)`), and its last
    // top-level comma, outside strings, separates the currency.
    let (mut depth, mut quote, mut escaped, mut comma) = (0i32, None, false, None);
    for (i, c) in args.char_indices() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') if depth == 0 => return None,
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => comma = Some(i),
            _ => {}
        }
    }
    let usage = "expected `money(amount)` or `money(amount, 'EUR')` (a currency's three-letter ISO 4217 code)";
    let Some(i) = comma else {
        return Some(if args.trim().is_empty() { Err(format!("{usage}, found no amount")) } else { Ok((args.trim(), None)) });
    };
    let code = args[i + 1..].trim();
    let unquoted = code.strip_prefix('\'').and_then(|c| c.strip_suffix('\'')).or_else(|| code.strip_prefix('"').and_then(|c| c.strip_suffix('"')));
    Some(match unquoted.and_then(|c| <[u8; 3]>::try_from(c.as_bytes()).ok()) {
        Some(c) if c.iter().all(u8::is_ascii_uppercase) && !args[..i].trim().is_empty() => Ok((args[..i].trim(), Some(c))),
        _ => Err(format!("{usage}, found `{expr}`")),
    })
}

/// A template value as hundredths of a currency unit, the way [`condition::display`] shows it with
/// two decimals; `None` (the fallback) for anything but a number from 0 up.
fn hundredths(v: &cel::Value) -> Option<i64> {
    // Whole numbers through f64 too (exact up to 2^53, far beyond any amount): one path is fewer
    // bytes of the browser's Wasm.
    let n = match v {
        cel::Value::Int(n) => *n as f64,
        cel::Value::Uint(n) => *n as f64,
        cel::Value::Double(n) => *n,
        _ => return None,
    };
    if n < 0.0 {
        return None;
    }
    i64::try_from(condition::cents(n)?).ok()
}

#[cfg(feature = "compile")]
fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
}

/// The error of a `locale` the table does not have: the closest supported tags, then all of them.
#[cfg(feature = "compile")]
fn unknown_locale(found: &str) -> String {
    let lower = found.trim().to_ascii_lowercase().replace('_', "-");
    let language = lower.split('-').next().unwrap_or_default();
    // A typo (`en-UK`, `de_DE`), else the same language's locales (`de` → de-AT, de-BE, ...).
    // ISO 3166 names the United Kingdom GB: `en-UK` is one edit from en-US, but means en-GB.
    let alias = lower.strip_suffix("-uk").map(|lang| format!("{lang}-gb"));
    let nearest = MoneyFormat::locales().find(|l| alias.as_deref().is_some_and(|a| l.eq_ignore_ascii_case(a)));
    let mut near: Vec<&str> = nearest.or_else(|| cel::nearest(found.trim(), MoneyFormat::locales())).into_iter().collect();
    if near.is_empty() {
        near = MoneyFormat::locales().filter(|l| l.split('-').next().is_some_and(|lang| lang == language)).collect();
    }
    let hint = match near.as_slice() {
        [] => ".".to_owned(),
        [one] => format!("; did you mean {one}?"),
        many => format!("; did you mean one of {}?", many.join(", ")),
    };
    format!("expected a supported locale (BCP 47), found {}{hint} Supported: {}", Quoted(found), MoneyFormat::locales().collect::<Vec<_>>().join(", "))
}

/// One problem in a site configuration: the field it is in, and what is wrong (for a rule, its
/// located message with the rule's line and a caret).
#[derive(Debug, Clone, PartialEq)]
pub struct SiteError {
    pub field: String,
    /// Inside a rule: its line and column; in the file for a structural error (`json`); else 0.
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// A structural error (a misspelled key, a value of the wrong type or form): `line`/`column`
    /// are where the value starts in the file.
    pub json: bool,
}

impl std::fmt::Display for SiteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.json && self.line > 0 {
            write!(f, "{}:{}: ", self.line, self.column)?;
        }
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "field `{}`: {}", self.field, self.message)
        }
    }
}

#[cfg(feature = "compile")]
impl From<FormatError> for SiteError {
    /// A structural error the source reader found.
    fn from(e: FormatError) -> SiteError {
        let message = match e.kind {
            FormatErrorKind::Syntax(m) => format!("syntax error: {m}"),
            FormatErrorKind::Invalid(m) | FormatErrorKind::Rule(m) => m,
            FormatErrorKind::Version { found, supported } => format!("unsupported version: expected {supported}, found {found}"),
        };
        SiteError { field: e.field, line: e.line, column: e.column, message, json: true }
    }
}

/// Collects errors while compiling.
#[cfg(feature = "compile")]
struct Compiler {
    errors: Vec<SiteError>,
    segment_names: Vec<String>,
}

#[cfg(feature = "compile")]
impl Compiler {
    fn error(&mut self, field: String, message: String) {
        self.errors.push(SiteError { field, line: 0, column: 0, message, json: false });
    }

    fn name(&mut self, field: String, name: &str, what: &str) {
        if !is_name(name) {
            self.error(field, format!("{what} names are 1 to 64 lowercase letters, digits, `_` and `-`; found {}", Quoted(name)));
        }
    }

    fn rule(&mut self, field: String, src: &str, scope: Scope) -> Option<Condition> {
        match Condition::compile(src, &self.segment_names, scope) {
            Ok(c) => Some(c),
            Err(errors) => {
                for e in errors {
                    self.errors.push(SiteError { field: field.clone(), line: e.line, column: e.column, message: e.rendered, json: false });
                }
                None
            }
        }
    }

    fn schedule(&mut self, field: String, s: &Schedule) {
        if let (Some(a), Some(b)) = (s.start, s.end) {
            if a >= b {
                self.error(field, "expected `start` before `end`".into());
            }
        }
    }

    fn template(&mut self, field: String, src: &str) -> Template {
        match Template::parse(src, &self.segment_names) {
            Ok(t) => t,
            Err(m) => {
                self.error(field, m);
                Template(Vec::new())
            }
        }
    }
}

// Reading a configuration (`SiteConfig::from_json`, `from_compiled`) and writing its compiled form
// are in `compiled.rs`, which builds on this module; this one never names it.
impl SiteConfig {
    /// Narrows the price format to what this site shows with `catalog` (`vitrine bundle`): the
    /// currencies the catalog prices in and the templates' `money(x, 'EUR')` name, and the
    /// catalog's one currency as the shop's ([`MoneyFormat::keep_catalog`]). Returns those the
    /// locale has no symbol for.
    #[cfg(feature = "compile")]
    pub fn keep_currencies(&mut self, catalog: &crate::data::catalog::Catalog) -> Vec<[u8; 3]> {
        let named: Vec<[u8; 3]> = self.slots.values().flatten().flat_map(|v| v.content.values()).flat_map(Template::currencies).collect();
        self.money.keep_catalog(catalog, &named)
    }

    /// Compiles a source configuration, with the errors kept apart (the preview panel shows them
    /// inline): every structural error (`rules::source`) and every error in rules, templates and
    /// references, in the order of the sections.
    #[cfg(feature = "compile")]
    pub fn compile(text: &str) -> Result<SiteConfig, CompileError> {
        let (doc, structural) = super::source::read(text).map_err(CompileError::Format)?;
        let mut c = Compiler { errors: structural.into_iter().map(SiteError::from).collect(), segment_names: doc.segments.keys().cloned().collect() };
        let mut segments = Vec::new();
        for (id, s) in &doc.segments {
            c.name(format!("segments.{id}"), id, "segment");
            let Some(src) = &s.when else { continue };
            if let Some(when) = c.rule(format!("segments.{id}.when"), src, Scope::Segment) {
                segments.push(Segment { id: id.clone(), description: s.description.clone(), when });
            }
        }
        let mut slots = Named::default();
        for (slot, variants) in &doc.slots {
            c.name(format!("slots.{slot}"), slot, "slot");
            let mut out: Vec<Variant> = Vec::new();
            for (i, v) in variants.iter().enumerate() {
                let Some(v @ VariantDoc { id: Some(id), .. }) = v else { continue };
                let at = format!("slots.{slot}[{i}]");
                c.name(format!("{at}.id"), id, "variant");
                if variants[..i].iter().flatten().any(|w| w.id.as_ref() == Some(id)) {
                    c.error(format!("{at}.id"), format!("variant {} appears twice in slot {}", Quoted(id), Quoted(slot)));
                }
                c.schedule(format!("{at}.schedule"), &v.schedule);
                let mut content = Named::default();
                for (name, src) in &v.content {
                    c.name(format!("{at}.content.{name}"), name, "content field");
                    let t = c.template(format!("{at}.content.{name}"), src);
                    if is_href_field(name) {
                        if let Some(problem) = t.unsafe_url() {
                            c.error(format!("{at}.content.{name}"), format!("expected a relative or http(s) URL, found {} ({problem})", Quoted(src)));
                        }
                    }
                    content.push(name.clone(), t);
                }
                let when = match &v.when {
                    None => None,
                    Some(w) => match c.rule(format!("{at}.when"), w, Scope::Rule) {
                        Some(cond) => Some(cond),
                        None => continue,
                    },
                };
                out.push(Variant { id: id.clone(), when, priority: v.priority, schedule: v.schedule, content });
            }
            slots.push(slot.clone(), out);
        }
        let mut list_rules = Vec::new();
        for (i, r) in doc.lists.rules.iter().enumerate() {
            let Some(r @ ListRuleDoc { id: Some(id), .. }) = r else { continue };
            let at = format!("lists.rules[{i}]");
            c.name(format!("{at}.id"), id, "list rule");
            c.schedule(format!("{at}.schedule"), &r.schedule);
            for (cat, w) in &r.boost {
                if !w.is_finite() {
                    c.error(format!("{at}.boost.{cat}"), format!("expected a finite number, found {w}"));
                }
            }
            let when = match &r.when {
                Some(w) => match c.rule(format!("{at}.when"), w, Scope::Rule) {
                    Some(cond) => Some(cond),
                    None => continue,
                },
                None => None,
            };
            list_rules.push(ListRule {
                id: id.clone(),
                list: r.list.clone(),
                when,
                schedule: r.schedule,
                pin: r.pin.clone(),
                bury: r.bury.clone(),
                boost: r.boost.clone().into(),
            });
        }
        if !doc.lists.boost.is_finite() {
            c.error("lists.boost".into(), format!("expected a finite number, found {}", doc.lists.boost));
        }
        let mut widgets = Named::default();
        for (name, w) in &doc.recs.widgets {
            let at = format!("recs.widgets.{name}");
            c.name(at.clone(), name, "widget");
            let Some(strategy) = w.strategy else { continue };
            if w.k.is_some_and(|k| !(1..=50).contains(&k)) {
                c.error(format!("{at}.k"), format!("expected 1 to 50, found {}", w.k.unwrap_or(0)));
            }
            if let (Some(a), Some(b)) = (w.price_min, w.price_max) {
                if a > b {
                    c.error(format!("{at}.price_min"), format!("expected price_min ({a}) at most price_max ({b})"));
                }
            }
            widgets.push(
                name.clone(),
                Widget { strategy, k: w.k, category: w.category.clone(), price_min: w.price_min, price_max: w.price_max, max_per_category: w.max_per_category },
            );
        }
        if !(1..=50).contains(&doc.recs.k) {
            c.error("recs.k".into(), format!("expected 1 to 50, found {}", doc.recs.k));
        }
        let mut experiments: Vec<Experiment> = Vec::new();
        for (id, e) in &doc.experiments {
            let at = format!("experiments.{id}");
            c.name(at.clone(), id, "experiment");
            let target = match (&e.slot, &e.list, &e.widget) {
                (Some(s), None, None) => {
                    if slots.get(s).is_none() {
                        c.error(format!("{at}.slot"), format!("no slot {} in `slots`", Quoted(s)));
                    }
                    Target::Slot(s.clone())
                }
                (None, Some(l), None) => Target::List(l.clone()),
                (None, None, Some(w)) => Target::Widget(w.clone()),
                _ => {
                    c.error(at.clone(), "expected exactly one of `slot`, `list` or `widget`".into());
                    continue;
                }
            };
            if let Some(other) = experiments.iter().find(|x| x.target == target) {
                c.error(at.clone(), format!("experiment {} already tests this placement: one experiment per slot, list or widget", Quoted(&other.id)));
            }
            if !(0.0..1.0).contains(&e.holdout) {
                c.error(format!("{at}.holdout"), format!("expected a share from 0 up to (not including) 1, found {}", e.holdout));
            }
            let arms: Vec<(usize, &ArmDoc, &String)> =
                e.arms.iter().enumerate().filter_map(|(i, a)| a.as_ref().and_then(|a| Some((i, a, a.id.as_ref()?)))).collect();
            if e.arms.is_empty() {
                c.error(format!("{at}.arms"), "expected at least one arm".into());
            }
            if arms.iter().any(|(_, a, _)| !(a.weight.is_finite() && a.weight >= 0.0)) || arms.iter().map(|(_, a, _)| a.weight).sum::<f64>() <= 0.0 {
                c.error(format!("{at}.arms"), "expected weights that are numbers ≥ 0, not all 0".into());
            }
            c.schedule(format!("{at}.schedule"), &e.schedule);
            for (n, &(i, a, id)) in arms.iter().enumerate() {
                let arm_at = format!("{at}.arms[{i}]");
                c.name(format!("{arm_at}.id"), id, "arm");
                if id == "holdout" || arms[..n].iter().any(|(_, _, other)| other == &id) {
                    c.error(format!("{arm_at}.id"), format!("arm ids must be unique and not \"holdout\"; found {}", Quoted(id)));
                }
                match (&target, &a.variant, &a.strategy) {
                    (Target::Slot(s), Some(v), None) => {
                        if !slots.get(s).is_some_and(|vs| vs.iter().any(|x| &x.id == v)) {
                            c.error(format!("{arm_at}.variant"), format!("no variant {} in slot {}", Quoted(v), Quoted(s)));
                        }
                    }
                    (Target::Widget(_), None, Some(_)) | (_, None, None) => {}
                    _ => c.error(arm_at.clone(), "`variant` is for slot experiments, `strategy` for widget experiments".into()),
                }
                if a.default && (a.variant.is_some() || a.strategy.is_some()) {
                    c.error(arm_at, "a `default` arm takes no `variant` or `strategy`".into());
                }
            }
            let audience = match &e.audience {
                Some(w) => match c.rule(format!("{at}.audience"), w, Scope::Rule) {
                    Some(cond) => Some(cond),
                    None => continue,
                },
                None => None,
            };
            let arms = arms
                .iter()
                .map(|&(_, a, id)| Arm { id: id.clone(), weight: a.weight, default: a.default, variant: a.variant.clone(), strategy: a.strategy })
                .collect();
            experiments.push(Experiment {
                id: id.clone(),
                salt: e.salt.clone().unwrap_or_else(|| id.clone()),
                target,
                audience,
                schedule: e.schedule,
                holdout: e.holdout,
                arms,
            });
        }
        let locale = doc.locale.as_deref().unwrap_or(crate::data::money::DEFAULT_LOCALE);
        let money = MoneyFormat::for_locale(locale);
        if money.is_none() {
            c.error("locale".into(), unknown_locale(locale));
        }
        let (Some(money), true) = (money, c.errors.is_empty()) else {
            return Err(CompileError::Rules(c.errors));
        };
        let mut site = SiteConfig {
            segments,
            slots,
            list_boost: doc.lists.boost,
            list_rules,
            recs_k: doc.recs.k,
            widgets,
            experiments,
            demo_now: doc.demo_now,
            session_before_consent: doc.session_before_consent,
            edge_only_rules: Vec::new(),
            money,
        };
        site.mark_edge_only();
        Ok(site)
    }

    /// Finds the rules only a runtime with the edge's functions (`matches()`, `format()`, the
    /// strings extension's text editing) evaluates: those calling one, and those reading a
    /// segment whose rule does. Done once, when compiling: the compiled form carries the list.
    #[cfg(feature = "compile")]
    pub(crate) fn mark_edge_only(&mut self) {
        self.edge_only_rules = self.edge_only_report().into_iter().map(|(field, target, _)| (field, target)).collect();
    }

    /// [`SiteConfig::edge_only_rules`], each with why in words: "calls split()", "reads segment
    /// `gmail`, whose rule calls matches()" (what `vitrine bundle` prints).
    #[cfg(feature = "compile")]
    pub fn edge_only_report(&self) -> Vec<(String, Option<Target>, String)> {
        let mut out = Vec::new();
        // A segment's rule reads no segment: only the functions it calls count.
        let segments: Vec<(&str, String)> =
            self.segments.iter().filter_map(|s| Some((s.id.as_str(), condition::calls_words(&s.when.program().edge_functions())?))).collect();
        for (id, calls) in &segments {
            out.push((format!("segments.{id}.when"), None, calls.clone()));
        }
        for (slot, variants) in &self.slots {
            for (i, v) in variants.iter().enumerate() {
                if let Some(why) = v.when.as_ref().and_then(|w| condition::edge_only_why(w.program(), &segments)) {
                    out.push((format!("slots.{slot}[{i}].when"), Some(Target::Slot(slot.clone())), why));
                }
                for (name, t) in &v.content {
                    if let Some(why) = t.edge_only_why(&segments) {
                        out.push((format!("slots.{slot}[{i}].content.{name}"), Some(Target::Slot(slot.clone())), why));
                    }
                }
            }
        }
        for (i, r) in self.list_rules.iter().enumerate() {
            if let Some(why) = r.when.as_ref().and_then(|w| condition::edge_only_why(w.program(), &segments)) {
                // A rule for every list decides them all.
                out.push((format!("lists.rules[{i}].when"), Some(Target::List(r.list.clone().unwrap_or_default())), why));
            }
        }
        for e in &self.experiments {
            if let Some(why) = e.audience.as_ref().and_then(|a| condition::edge_only_why(a.program(), &segments)) {
                out.push((format!("experiments.{}.audience", e.id), Some(e.target.clone()), why));
            }
        }
        out
    }

    /// Whether what `target` shows depends on a rule only a runtime with `matches()` and
    /// `format()` evaluates
    /// (a list rule without a `list` affects every list).
    pub fn edge_only(&self, target: &Target) -> bool {
        self.edge_only_rules.iter().any(|(_, t)| match (t, target) {
            (Some(Target::List(all)), Target::List(_)) if all.is_empty() => true,
            (Some(t), target) => t == target,
            (None, _) => false,
        })
    }

    /// Every rule with the fields it reads (`profile.orders.count`, `events`, `segment.vip`, ...),
    /// keyed by its place in the configuration.
    pub fn rule_fields(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        for s in &self.segments {
            out.push((format!("segments.{}.when", s.id), s.when.references()));
        }
        for (slot, variants) in &self.slots {
            for (i, v) in variants.iter().enumerate() {
                if let Some(w) = &v.when {
                    out.push((format!("slots.{slot}[{i}].when"), w.references()));
                }
            }
        }
        for (i, r) in self.list_rules.iter().enumerate() {
            if let Some(w) = &r.when {
                out.push((format!("lists.rules[{i}].when"), w.references()));
            }
        }
        for e in &self.experiments {
            if let Some(a) = &e.audience {
                out.push((format!("experiments.{}.audience", e.id), a.references()));
            }
        }
        out
    }

    /// The experiment on a placement, if any.
    pub fn experiment(&self, target: &Target) -> Option<&Experiment> {
        self.experiments.iter().find(|e| &e.target == target)
    }
}

/// Why a site configuration did not compile.
#[derive(Debug, Clone)]
pub enum CompileError {
    /// Not JSON, not an object, or not `"v": 1`: one located error.
    Format(FormatError),
    /// Every other error: structural ones (`SiteError::json`: a misspelled key, a value of the
    /// wrong type or form) and rules, templates or references that do not check.
    Rules(Vec<SiteError>),
}

impl Template {
    #[cfg(feature = "compile")]
    pub fn parse(src: &str, segments: &[String]) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = src;
        while let Some(i) = rest.find(['{', '}']) {
            text.push_str(&rest[..i]);
            let tail = &rest[i..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                text.push_str(&tail[..1]);
                rest = &tail[2..];
                continue;
            }
            if tail.starts_with('}') {
                return Err(format!("unmatched `}}` at byte {} (write `}}}}` for a literal brace)", src.len() - tail.len()));
            }
            let Some(end) = tail.find('}') else {
                return Err(format!("unclosed `{{` at byte {}", src.len() - tail.len()));
            };
            let inner = &tail[1..end];
            let (expr, fallback) = inner.split_once('|').unwrap_or((inner, ""));
            let money = money_hole(expr.trim()).transpose().map_err(|e| format!("in `{{{inner}}}`: {e}"))?;
            let program =
                cel::Program::compile(money.map_or(expr.trim(), |(amount, _)| amount), &condition::decls(segments, Scope::Rule)).map_err(|errors| {
                    let hint =
                        if expr.contains("money") { " (`money(...)` is a whole hole: `{money(amount)}`, `{money(amount, 'EUR')|fallback}`)" } else { "" };
                    format!("in `{{{inner}}}`: {}{hint}", errors.iter().map(|e| e.kind.to_string()).collect::<Vec<_>>().join("; "))
                })?;
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            let (program, fallback) = (Box::new(program), fallback.to_owned());
            pieces.push(match money {
                Some((_, currency)) => Piece::Money { program, currency, fallback },
                None => Piece::Hole { program, fallback },
            });
            rest = &tail[end + 1..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template(pieces))
    }

    /// Why this `href` template can only render an unsafe URL (`javascript:`, `data:`...), judged
    /// from the text before its first hole (and a leading hole's fallback), as the runtimes would
    /// drop it (`crate::data::catalog::is_safe_url`). `None` when it may render a safe one.
    #[cfg(feature = "compile")]
    pub(crate) fn unsafe_url(&self) -> Option<&'static str> {
        let scheme_ok = |prefix: &str| match prefix.find([':', '/', '?', '#']) {
            Some(i) if prefix.as_bytes()[i] == b':' => crate::data::catalog::is_safe_url(prefix),
            _ => !prefix.chars().any(|c| c.is_control() || c.is_whitespace()),
        };
        match self.0.first() {
            None => None,
            Some(Piece::Text(t)) if self.0.len() == 1 => (!crate::data::catalog::is_safe_url(t)).then_some("not a relative or http(s) URL"),
            Some(Piece::Text(t)) => (!scheme_ok(t)).then_some("its fixed start is not a relative or http(s) URL"),
            Some(Piece::Hole { fallback, .. } | Piece::Money { fallback, .. }) => {
                (!fallback.is_empty() && !scheme_ok(fallback)).then_some("its fallback is not a relative or http(s) URL")
            }
        }
    }

    /// Why only the edge renders this template (see `condition::edge_only_why`): the first hole
    /// that calls one of the edge's functions or reads one of the edge-only `segments`.
    #[cfg(feature = "compile")]
    pub(crate) fn edge_only_why(&self, segments: &[(&str, String)]) -> Option<String> {
        self.0.iter().find_map(|p| match p {
            Piece::Text(_) => None,
            Piece::Hole { program, .. } | Piece::Money { program, .. } => {
                condition::edge_only_why(program, segments).map(|why| format!("has a hole that {why}"))
            }
        })
    }

    /// Renders to plain text (runtimes insert it as text, never as HTML), `money()` holes in
    /// `money`'s locale. A hole whose value is an error, null, empty or not a scalar shows its
    /// fallback; so does a `money()` hole whose amount is not a number from 0 up, or without a
    /// currency when the shop's is not known.
    pub fn render(&self, vars: &dyn Activation, money: &MoneyFormat) -> String {
        let mut out = String::new();
        for p in &self.0 {
            let (text, fallback) = match p {
                // Copied, not pushed directly: measured, every borrowing shape of this loop made the
                // browser's Wasm 217-268 B gzip larger (LLVM inlines it differently); a slot's text
                // pieces are a few short strings per decision.
                Piece::Text(t) => (Some(t.clone()), ""),
                Piece::Hole { program, fallback } => {
                    (program.eval_with_budget(vars, condition::RULE_BUDGET).ok().as_ref().and_then(condition::display), fallback.as_str())
                }
                Piece::Money { program, currency, fallback } => {
                    let amount = program.eval_with_budget(vars, condition::RULE_BUDGET).ok();
                    (amount.as_ref().and_then(hundredths).and_then(|cents| money.format_amount(cents, *currency)), fallback.as_str())
                }
            };
            out.push_str(text.as_deref().unwrap_or(fallback));
        }
        out
    }

    /// The currencies its `money()` holes name.
    #[cfg(feature = "compile")]
    pub(crate) fn currencies(&self) -> impl Iterator<Item = [u8; 3]> + '_ {
        self.0.iter().filter_map(|p| match p {
            Piece::Money { currency, .. } => *currency,
            _ => None,
        })
    }
}

/// Whether a slot field named like `*_href` holds a URL (checked before it reaches an attribute).
pub fn is_href_field(name: &str) -> bool {
    name.ends_with("_href") || name == "href"
}

#[cfg(test)]
#[cfg(feature = "compile")]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cel::Value;

    fn errors(text: &str) -> String {
        SiteConfig::from_json(text).unwrap_err().to_string()
    }

    /// Issue 12: an `href` content field that can only render an unsafe URL is a compile error
    /// naming its field path; one whose scheme only a hole decides is left to the runtimes' check.
    #[test]
    fn issue_12_unsafe_href_templates_are_rejected() {
        let site = |href: &str| format!(r#"{{"v":1,"slots":{{"hero":[{{"id":"a","content":{{"cta_href":{}}}}}]}}}}"#, serde_json::to_string(href).unwrap());
        for bad in ["javascript:alert(1)", "JavaScript:{profile.id}", "data:text/html,x", "java\tscript:x", "{profile.id|javascript:x}", " /c/a"] {
            let e = errors(&site(bad));
            assert!(e.contains("slots.hero[0].content.cta_href") && e.contains("expected a relative or http(s) URL"), "{bad}: {e}");
        }
        for ok in ["/c/a", "https://shop.example/c", "HTTP://x", "/c/{profile.id}", "{profile.id}", "?q=1:2", "", "https://x/{profile.id}"] {
            assert!(SiteConfig::from_json(&site(ok)).is_ok(), "{ok}");
        }
        // Other fields are text, not URLs.
        assert!(SiteConfig::from_json(r#"{"v":1,"slots":{"hero":[{"id":"a","content":{"headline":"javascript:x"}}]}}"#).is_ok());
    }

    #[test]
    fn reports_every_error_with_location() {
        let text = r#"{"v":1,"slots":{"hero":[
            {"id":"a","when":"profile.orders.count >= ","content":{}},
            {"id":"B!","when":"profile.order.count > 1","content":{"headline":"Hi {profile.traits.first_name"}}]}}"#;
        let e = errors(text);
        assert!(e.contains("4 error(s)"), "{e}");
        assert!(e.contains("slots.hero[0].when`: 1:25: expected"), "{e}");
        assert!(e.contains("did you mean `orders`"), "{e}");
        assert!(e.contains("slots.hero[1].id"), "{e}");
        assert!(e.contains("unclosed `{`"), "{e}");
        let e = SiteConfig::from_json(r#"{"v":1,"slotz":{}}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `slotz`"), "{e}");
        // A literal that is no duration would fail every evaluation: an error, not a rule left
        // to the edge.
        let e = errors(r#"{"v":1,"slots":{"hero":[{"id":"a","when":"now - profile.orders.last < duration('7 days')","content":{}}]}}"#);
        assert!(e.contains("slots.hero[0].when`: 1:29: cannot convert \"7 days\" to duration"), "{e}");
    }

    /// Structural errors (a misspelled key, a bad time, an unknown strategy, a wrong type) are all
    /// reported, each where it is in the file, together with the rule errors after them.
    #[test]
    fn reports_every_structural_error_with_its_place_in_the_file() {
        let text = r#"{"v": 1, "slotz": {},
  "slots": {"hero": [
    "not a variant",
    {"id": "a", "priority": 1.5, "schedule": {"start": "yesterday"}, "when": "profile.order.count > 1"},
    {"id": "b", "contnet": {}}]},
  "recs": {"widgets": {"w": {"strategy": "also_bougth"}, "v": {"k": "6"}}},
  "experiments": {"x": {"slot": "hero", "holdout": "10%", "arms": [{"id": "a", "variant": "b", "wieght": 2}]}}}"#;
        let Err(CompileError::Rules(errors)) = SiteConfig::compile(text) else { panic!("expected errors") };
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let want = [
            "1:19: unknown field `slotz`, expected one of `v`, `$schema`, `segments`, `slots`, `lists`, `recs`, `experiments`, `demo_now`, `consent`, `locale`; did you mean `slots`?",
            "3:5: field `slots.hero[0]`: invalid type: string \"not a variant\", expected a map",
            "4:29: field `slots.hero[1].priority`: invalid value: number `1.5`, expected a whole number from -2^63 to 2^63-1",
            "4:56: field `slots.hero[1].schedule.start`: expected an RFC 3339 time, found \"yesterday\"",
            "5:28: field `slots.hero[2]`: unknown field `contnet`, expected one of `id`, `when`, `priority`, `schedule`, `content`; did you mean `content`?",
            "6:42: field `recs.widgets.w.strategy`: unknown strategy \"also_bougth\", expected one of `also_bought`, `also_viewed`, `for_you`, `popular`, `trending`, `similar`, `recently_viewed`; did you mean `also_bought`?",
            "6:63: field `recs.widgets.v`: missing field `strategy`",
            "6:69: field `recs.widgets.v.k`: invalid type: string \"6\", expected usize",
            "7:52: field `experiments.x.holdout`: invalid type: string \"10%\", expected a number",
            "7:106: field `experiments.x.arms[0]`: unknown field `wieght`, expected one of `id`, `weight`, `default`, `variant`, `strategy`; did you mean `weight`?",
        ];
        for (i, w) in want.iter().enumerate() {
            assert!(shown.iter().any(|s| s == w), "missing #{i} {w}\nin:\n{}", shown.join("\n"));
        }
        // The rule in the variant whose other fields are broken is still checked.
        assert!(shown.iter().any(|s| s.starts_with("field `slots.hero[1].when`") && s.contains("did you mean `orders`")), "{shown:#?}");
        assert_eq!(shown.len(), want.len() + 1, "{shown:#?}");
        // A single one reads as any other format's error, located.
        let e = SiteConfig::from_json(r#"{"v":1,"recs":{"k":"8"}}"#).unwrap_err();
        assert_eq!(e.to_string(), "1:20: site field `recs.k`: invalid type: string \"8\", expected usize");
        // Text that is not JSON, or another version, stops at its one error.
        assert!(matches!(SiteConfig::compile(r#"{"v":1,"slots":{"#), Err(CompileError::Format(_))));
        let Err(CompileError::Format(e)) = SiteConfig::compile(r#"{"v":2,"slotz":{}}"#) else { panic!() };
        assert!(e.to_string().contains("unsupported version: expected 1, found 2"), "{e}");
    }

    #[test]
    fn the_schema_reaches_into_events_and_segments() {
        let e = errors(
            r#"{"v":1,
            "segments": {"browsers": {"when": "events.exists(e, e.tpye == 'view_item')"},
                         "loops": {"when": "segment.browsers"}},
            "slots": {"hero": [{"id": "a", "when": "segment.browser && profile.rfm.r >= 4 && profile.lifecycle.stag == 'lapsed' && profile.clv.p_alve < 0.5"}]}}"#,
        );
        assert!(e.contains("`profile.clv` has no field `p_alve`; did you mean `p_alive`?"), "{e}");
        assert!(e.contains("`event` has no field `tpye`; did you mean `type`?"), "{e}");
        assert!(e.contains("segments.loops.when") && e.contains("segment"), "segments cannot read segments: {e}");
        assert!(e.contains("`segment` has no field `browser`; did you mean `browsers`?"), "{e}");
        assert!(e.contains("`profile.lifecycle` has no field `stag`; did you mean `stage`?"), "{e}");
        assert!(e.contains("5 error(s)"), "{e}");
        // High predicted value, at risk: both fields are doubles, and `--fields` names them.
        let site = SiteConfig::from_json(
            r#"{"v":1, "slots": {"hero": [{"id": "save", "when": "profile.clv.expected_value >= 500.0 && profile.clv.p_alive < 0.5"}]}}"#,
        )
        .unwrap();
        assert_eq!(site.rule_fields(), [("slots.hero[0].when".to_owned(), vec!["profile.clv.expected_value".to_owned(), "profile.clv.p_alive".to_owned()])]);
    }

    #[test]
    fn experiments_and_widgets_are_checked() {
        let e = errors(
            r#"{"v":1, "slots": {"hero": [{"id": "a"}]},
            "recs": {"widgets": {"for-you": {"strategy": "for_you", "k": 99}}},
            "experiments": {
              "x": {"slot": "hero", "holdout": 1.5, "arms": [{"id": "a", "variant": "nope"}, {"id": "a"}]},
              "y": {"slot": "hero", "widget": "for-you", "arms": [{"id": "b"}]},
              "z": {"slot": "hero", "arms": [{"id": "c", "weight": 0}]},
              "w": {"widget": "for-you", "arms": [{"id": "d", "variant": "a"}]}}}"#,
        );
        for want in [
            "recs.widgets.for-you.k",
            "experiments.x.holdout",
            "no variant \"nope\"",
            "arm ids must be unique",
            "exactly one of `slot`, `list` or `widget`",
            "already tests this placement",
            "not all 0",
            "`variant` is for slot experiments",
        ] {
            assert!(e.contains(want), "{want}: {e}");
        }
    }

    #[test]
    fn templates() {
        let mut vars: BTreeMap<String, Value> = BTreeMap::new();
        let traits: BTreeMap<cel::Key, Value> = [(cel::Key::from("first_name"), Value::from("<b>Ann</b>"))].into_iter().collect();
        let orders: BTreeMap<cel::Key, Value> =
            [(cel::Key::from("count"), Value::Int(3)), (cel::Key::from("revenue"), Value::Double(12.5))].into_iter().collect();
        let profile: BTreeMap<cel::Key, Value> =
            [(cel::Key::from("traits"), Value::from(traits)), (cel::Key::from("orders"), Value::from(orders))].into_iter().collect();
        vars.insert("profile".into(), Value::from(profile));
        let money = MoneyFormat::for_locale("en-GB").unwrap();
        let check = |src: &str, out: &str| assert_eq!(Template::parse(src, &[]).unwrap().render(&vars, &money), out);
        check("Hi {profile.traits.first_name|friend}!", "Hi <b>Ann</b>!");
        check("Hi {profile.traits.nick|friend}!", "Hi friend!");
        check("{profile.orders.count} orders {{so far}}", "3 orders {so far}");
        check("{profile.orders.revenue * 2.0} spent, {profile.traits.first_name.lowerAscii()}", "25 spent, <b>ann</b>");
        assert!(Template::parse("{profile.nope}", &[]).unwrap_err().contains("no field `nope`"));
        assert!(Template::parse("a } b", &[]).is_err());
    }

    /// Issue 13: `money()` holes write an amount as the site's locale writes prices, in a named
    /// currency or the shop's (the bundle's catalog's one currency).
    #[test]
    fn money_in_templates() {
        let orders: BTreeMap<cel::Key, Value> =
            [(cel::Key::from("count"), Value::Int(3)), (cel::Key::from("revenue"), Value::Double(6851.725)), (cel::Key::from("aov"), Value::Double(-1.0))]
                .into_iter()
                .collect();
        let profile: BTreeMap<cel::Key, Value> = [(cel::Key::from("orders"), Value::from(orders))].into_iter().collect();
        let vars: BTreeMap<String, Value> = [("profile".to_owned(), Value::from(profile))].into_iter().collect();
        let mut money = MoneyFormat::for_locale("de-DE").unwrap();
        let render = |src: &str, money: &MoneyFormat| Template::parse(src, &[]).unwrap().render(&vars, money);
        // The shop's currency is not known before a catalog: the fallback.
        assert_eq!(render("{money(profile.orders.revenue)|viel}", &money), "viel");
        let catalog = crate::data::catalog::Catalog::from_json(r#"{"v":1,"products":[{"id":"a","title":"A","link":"/a","price":"1 EUR"}]}"#).unwrap();
        money.keep_catalog(&catalog, &[*b"CHF"]);
        // Rounded as `{profile.orders.revenue}` shows it: the binary value, half to even.
        assert_eq!(render("{profile.orders.revenue}", &money), "6851.73");
        assert_eq!(render("Sie haben {money(profile.orders.revenue)} ausgegeben", &money), "Sie haben 6.851,73\u{a0}€ ausgegeben");
        assert_eq!(render("{money(profile.orders.count, 'CHF')}", &money), "3,00\u{a0}CHF");
        assert_eq!(render("{ money ( profile.orders.count * 1000 , \"EUR\" ) }", &money), "3.000,00\u{a0}€");
        assert_eq!(render("{money(1234.5, 'JPY')}", &money), "1.234,50\u{a0}JPY", "not kept: the ISO code");
        // `vitrine bundle` keeps what the templates name.
        let mut site = SiteConfig::from_json(r#"{"v":1,"locale":"de-DE","slots":{"s":[{"id":"a","content":{"t":"{money(1234.5, 'JPY')}"}}]}}"#).unwrap();
        assert!(site.keep_currencies(&catalog).is_empty());
        assert_eq!(site.money.currencies().collect::<Vec<_>>(), ["EUR", "JPY"]);
        assert_eq!(site.slots["s"][0].content["t"].render(&vars, &site.money), "1.235\u{a0}¥");
        // Not a number from 0 up: the fallback.
        for src in ["{money(profile.orders.aov)|-}", "{money(profile.traits.nick)|-}", "{money('12')|-}", "{money(1.0 / 0.0)|-}"] {
            assert_eq!(Template::parse(src, &[]).map(|t| t.render(&vars, &money)).unwrap_or_else(|e| e), "-", "{src}");
        }
        for (bad, want) in [
            ("{money(1, 'eur')}", "three-letter ISO 4217 code"),
            ("{money(1, EUR)}", "three-letter ISO 4217 code"),
            ("{money(1, 'EURO')}", "three-letter ISO 4217 code"),
            ("{money()}", "found no amount"),
            ("{money(1) + money(2)}", "`money(...)` is a whole hole"),
            ("{'Total: ' + money(1)}", "`money(...)` is a whole hole"),
        ] {
            let e = Template::parse(bad, &[]).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
        // A comma inside the amount or a string is not the currency's.
        assert_eq!(render("{money([1, 2].size(), 'EUR')}", &money), "2,00\u{a0}€");
        assert_eq!(render("{money(size('a,b'))}", &money), "3,00\u{a0}€");
    }

    #[test]
    fn schedules() {
        let s = Schedule { start: Some(10), end: Some(20) };
        assert_eq!((s.state(9), s.state(10), s.state(19), s.state(20)), ("not started", "active", "active", "ended"));
        assert!(errors(r#"{"v":1,"slots":{"hero":[{"id":"a","schedule":{"start":"2026-02-01T00:00:00Z","end":"2026-01-01T00:00:00Z"}}]}}"#)
            .contains("start` before `end"));
    }

    #[test]
    fn rules_calling_matches_format_or_a_computed_duration_are_marked_edge_only_with_what_they_decide() {
        let text = r#"{"v":1,
          "segments":{"gmail":{"when":"profile.traits.email.matches('@gmail')"},"vip":{"when":"profile.orders.count > 9"}},
          "slots":{
            "hero":[{"id":"g","when":"segment.gmail"},{"id":"v","when":"segment.vip"}],
            "banner":[{"id":"v","when":"segment.vip","content":{"headline":"Hi {profile.traits.first_name.matches('^A') ? 'A' : 'B'}"}}],
            "plain":[{"id":"v","when":"segment.vip"}],
            "whole":[{"id":"w","when":"segment['vip']"}],
            "fmt":[{"id":"f","content":{"headline":"{'%.2f'.format([profile.orders.revenue])}"}}],
            "fmt_when":[{"id":"f","when":"'%d'.format([profile.orders.count]) == '3'"}],
            "window":[{"id":"w","when":"now - profile.orders.last < duration(string(profile.traits.days) + 'h')"}],
            "week":[{"id":"w","when":"now - profile.orders.last < duration('168h')"}]},
          "lists":{"rules":[{"id":"r","when":"'x'.matches('x')"}]},
          "experiments":{"e":{"widget":"w","audience":"segment.gmail","arms":[{"id":"a"}]}}}"#;
        for site in [SiteConfig::from_json(text).unwrap(), SiteConfig::from_json(&SiteConfig::from_json(text).unwrap().to_compiled_json(false)).unwrap()] {
            let fields: Vec<&str> = site.edge_only_rules.iter().map(|(f, _)| f.as_str()).collect();
            assert_eq!(
                fields,
                [
                    "segments.gmail.when",
                    "slots.banner[0].content.headline",
                    "slots.fmt[0].content.headline",
                    "slots.fmt_when[0].when",
                    "slots.hero[0].when",
                    "slots.whole[0].when",
                    "slots.window[0].when",
                    "lists.rules[0].when",
                    "experiments.e.audience"
                ]
            );
            let edge_only = |t: Target| site.edge_only(&t);
            assert!(edge_only(Target::Slot("hero".into())) && edge_only(Target::Slot("banner".into())));
            assert!(!edge_only(Target::Slot("plain".into())), "reads only a segment without matches()");
            assert!(edge_only(Target::Slot("whole".into())), "reads every segment");
            assert!(edge_only(Target::List("any".into())), "a rule for every list");
            assert!(edge_only(Target::Widget("w".into())) && !edge_only(Target::Widget("other".into())));
            assert!(edge_only(Target::Slot("fmt".into())) && edge_only(Target::Slot("fmt_when".into())), "format()");
            assert!(edge_only(Target::Slot("window".into())), "duration() of a computed string");
            assert!(!edge_only(Target::Slot("week".into())), "duration() of a literal, folded when compiling");
        }
        // What `vitrine bundle` says of each.
        let report = SiteConfig::from_json(text).unwrap().edge_only_report();
        let why: Vec<(&str, &str)> = report.iter().map(|(f, _, why)| (f.as_str(), why.as_str())).collect();
        let gmail = "reads segment `gmail`, whose rule calls matches()";
        assert_eq!(
            why,
            [
                ("segments.gmail.when", "calls matches()"),
                ("slots.banner[0].content.headline", "has a hole that calls matches()"),
                ("slots.fmt[0].content.headline", "has a hole that calls format()"),
                ("slots.fmt_when[0].when", "calls format()"),
                ("slots.hero[0].when", gmail),
                ("slots.whole[0].when", "reads the whole `segment` map, with segment `gmail`, whose rule calls matches()"),
                ("slots.window[0].when", "calls duration() of a computed string"),
                ("lists.rules[0].when", "calls matches()"),
                ("experiments.e.audience", gmail)
            ]
        );
        assert_eq!(condition::calls_words(&["split", "matches"]).as_deref(), Some("calls split() and matches()"));
        assert_eq!(condition::calls_words(&["split", "matches", "format"]).as_deref(), Some("calls split(), matches(), and format()"));
        assert_eq!(condition::calls_words(&[]), None);
    }
}
