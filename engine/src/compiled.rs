//! The compiled site configuration: what `vitrine bundle` writes into a bundle's `"site"` and what
//! every runtime loads, with no CEL lexer, parser or checker (docs/formats.md, "Compiled site").
//!
//! It is the checked configuration ([`SiteConfig`]) with every rule and template hole replaced by
//! an index into one blob of compiled programs (`vitrine_cel::wire`: versioned, checksummed,
//! bounds- and depth-checked when loaded). Rule sources ride along only when asked for (the
//! preview panel and the edge, for traces); a shop's visitors never download them.
//!
//! ```json
//! {"v": 1, "compiled": 1, "rules": "VkNFTAEA…", "segments": [{"id": "vip", "when": 0}],
//!  "slots": {"hero": [{"id": "winback", "when": 1, "content": {"headline": [{"t": "Hi "}, {"p": 2, "f": "friend"}]}}]},
//!  "recs_k": 8}
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
#[cfg(feature = "compile")]
use serde::Serialize;

use crate::cel::{self, Program};
use crate::condition::Condition;
use crate::error::{FormatError, V1};
use crate::site::{Arm, Experiment, ListRule, Piece, Schedule, Segment, SiteConfig, Target, Template, Variant, Widget};
use crate::time::Seconds;

#[derive(Deserialize)]
#[cfg_attr(feature = "compile", derive(Serialize))]
#[serde(deny_unknown_fields)]
struct SiteC {
    v: V1,
    /// The compiled form's version ([`cel::WIRE_VERSION`]).
    compiled: u8,
    /// Every program, base64.
    rules: String,
    /// Each program's source, by index (optional: traces show it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sources: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    segments: Vec<SegmentC>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    slots: BTreeMap<String, Vec<VariantC>>,
    list_boost: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    list_rules: Vec<ListRuleC>,
    recs_k: usize,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    widgets: BTreeMap<String, Widget>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    experiments: Vec<ExperimentC>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    demo_now: Option<Seconds>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "compile", derive(Serialize))]
#[serde(deny_unknown_fields)]
struct SegmentC {
    id: String,
    when: usize,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "compile", derive(Serialize))]
#[serde(deny_unknown_fields)]
struct VariantC {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    when: Option<usize>,
    #[serde(default, skip_serializing_if = "is_zero")]
    priority: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end: Option<Seconds>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    content: BTreeMap<String, Vec<PieceC>>,
}

/// A template piece: text `t`, or the program `p` with its fallback `f`.
#[derive(Deserialize)]
#[cfg_attr(feature = "compile", derive(Serialize))]
#[serde(deny_unknown_fields)]
struct PieceC {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<usize>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    f: String,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "compile", derive(Serialize))]
#[serde(deny_unknown_fields)]
struct ListRuleC {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    list: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    when: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pin: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    bury: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    boost: BTreeMap<String, f64>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "compile", derive(Serialize))]
#[serde(deny_unknown_fields)]
struct ExperimentC {
    id: String,
    salt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    slot: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    list: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    widget: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    audience: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end: Option<Seconds>,
    #[serde(default, skip_serializing_if = "is_zero_f")]
    holdout: f64,
    arms: Vec<Arm>,
}

#[cfg(feature = "compile")]
fn is_zero(n: &i64) -> bool {
    *n == 0
}

#[cfg(feature = "compile")]
fn is_zero_f(n: &f64) -> bool {
    *n == 0.0
}

/// Whether a site document is in compiled form (has a `"compiled"` field), without reading the rest
/// into anything.
pub(crate) fn is_compiled(text: &str) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        compiled: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_str::<Probe>(text).is_ok_and(|p| p.compiled.is_some())
}

/// Loads a compiled configuration (see the module documentation).
/// The error of a runtime without the compiler given a source configuration.
#[cfg(not(feature = "compile"))]
pub(crate) fn source_refused() -> FormatError {
    FormatError::rule("site", "", "this is a site configuration's source; runtimes load compiled ones: run `vitrine bundle`, which checks and compiles it")
}

/// Loads a configuration [`is_compiled`] said is compiled.
pub(crate) fn load(text: &str) -> Result<SiteConfig, FormatError> {
    let doc: SiteC = crate::error::from_json("site", text)?;
    let _ = doc.v;
    if doc.compiled != cel::WIRE_VERSION {
        return Err(FormatError::rule("site", "compiled", cel::LoadErrorKind::Version(doc.compiled).to_string()));
    }
    let programs = cel::decode_text(&doc.rules).map_err(|e| FormatError::rule("site", "rules", e.to_string()))?;
    let l = Loader { programs, sources: doc.sources };
    let mut segments = Vec::with_capacity(doc.segments.len());
    for (i, s) in doc.segments.into_iter().enumerate() {
        let when = l.condition(&format!("segments[{i}].when"), s.when)?;
        segments.push(Segment { id: s.id, description: String::new(), when });
    }
    let mut slots = BTreeMap::new();
    for (slot, variants) in doc.slots {
        let mut out = Vec::with_capacity(variants.len());
        for (i, v) in variants.into_iter().enumerate() {
            let at = format!("slots.{slot}[{i}]");
            let when = v.when.map(|w| l.condition(&format!("{at}.when"), w)).transpose()?;
            let mut content = BTreeMap::new();
            for (name, pieces) in v.content {
                content.insert(name.clone(), l.template(&format!("{at}.content.{name}"), pieces)?);
            }
            out.push(Variant { id: v.id, when, priority: v.priority, schedule: Schedule { start: v.start, end: v.end }, content });
        }
        slots.insert(slot, out);
    }
    let mut list_rules = Vec::with_capacity(doc.list_rules.len());
    for (i, r) in doc.list_rules.into_iter().enumerate() {
        let when = r.when.map(|w| l.condition(&format!("list_rules[{i}].when"), w)).transpose()?;
        list_rules.push(ListRule { id: r.id, list: r.list, when, schedule: Schedule { start: r.start, end: r.end }, pin: r.pin, bury: r.bury, boost: r.boost });
    }
    let mut experiments = Vec::with_capacity(doc.experiments.len());
    for (i, e) in doc.experiments.into_iter().enumerate() {
        let target = match (e.slot, e.list, e.widget) {
            (Some(s), None, None) => Target::Slot(s),
            (None, Some(x), None) => Target::List(x),
            (None, None, Some(w)) => Target::Widget(w),
            _ => return Err(FormatError::rule("site", format!("experiments[{i}]"), "expected exactly one of `slot`, `list` or `widget`")),
        };
        let audience = e.audience.map(|a| l.condition(&format!("experiments[{i}].audience"), a)).transpose()?;
        experiments.push(Experiment { id: e.id, salt: e.salt, target, audience, schedule: Schedule { start: e.start, end: e.end }, holdout: e.holdout, arms: e.arms });
    }
    let mut site = SiteConfig { segments, slots, list_boost: doc.list_boost, list_rules, recs_k: doc.recs_k, widgets: doc.widgets, experiments, demo_now: doc.demo_now, edge_only_rules: Vec::new() };
    site.mark_edge_only();
    Ok(site)
}

struct Loader {
    programs: Vec<Program>,
    sources: Vec<String>,
}

impl Loader {
    fn program(&self, field: &str, i: usize) -> Result<Program, FormatError> {
        self.programs.get(i).cloned().ok_or_else(|| FormatError::rule("site", field, format!("expected a program index below {}, found {i}", self.programs.len())))
    }

    fn condition(&self, field: &str, i: usize) -> Result<Condition, FormatError> {
        let src = self.sources.get(i).cloned().unwrap_or_default();
        Ok(Condition::from_program(self.program(field, i)?, src))
    }

    fn template(&self, field: &str, pieces: Vec<PieceC>) -> Result<Template, FormatError> {
        let mut out = Vec::with_capacity(pieces.len());
        for (i, p) in pieces.into_iter().enumerate() {
            out.push(match (p.t, p.p) {
                (Some(t), None) => Piece::Text(t),
                (None, Some(n)) => Piece::Hole { program: Box::new(self.program(&format!("{field}[{i}].p"), n)?), fallback: p.f },
                _ => return Err(FormatError::rule("site", format!("{field}[{i}]"), "expected one of `t` (text) or `p` (program)")),
            });
        }
        Ok(Template(out))
    }
}

/// Writes the compiled form of a checked configuration; with `sources`, each rule's source and
/// the programs' spans too (located errors in traces).
#[cfg(feature = "compile")]
pub(crate) fn write(site: &SiteConfig, sources: bool) -> String {
    let mut w = Writer { programs: Vec::new(), sources: Vec::new() };
    let segments = site.segments.iter().map(|s| SegmentC { id: s.id.clone(), when: w.condition(&s.when) }).collect();
    let slots = site
        .slots
        .iter()
        .map(|(slot, variants)| {
            let variants = variants
                .iter()
                .map(|v| VariantC {
                    id: v.id.clone(),
                    when: v.when.as_ref().map(|c| w.condition(c)),
                    priority: v.priority,
                    start: v.schedule.start,
                    end: v.schedule.end,
                    content: v.content.iter().map(|(name, t)| (name.clone(), w.template(t))).collect(),
                })
                .collect();
            (slot.clone(), variants)
        })
        .collect();
    let list_rules = site
        .list_rules
        .iter()
        .map(|r| ListRuleC {
            id: r.id.clone(),
            list: r.list.clone(),
            when: r.when.as_ref().map(|c| w.condition(c)),
            start: r.schedule.start,
            end: r.schedule.end,
            pin: r.pin.clone(),
            bury: r.bury.clone(),
            boost: r.boost.clone(),
        })
        .collect();
    let experiments = site
        .experiments
        .iter()
        .map(|e| {
            let (slot, list, widget) = match &e.target {
                Target::Slot(s) => (Some(s.clone()), None, None),
                Target::List(l) => (None, Some(l.clone()), None),
                Target::Widget(x) => (None, None, Some(x.clone())),
            };
            ExperimentC {
                id: e.id.clone(),
                salt: e.salt.clone(),
                slot,
                list,
                widget,
                audience: e.audience.as_ref().map(|c| w.condition(c)),
                start: e.schedule.start,
                end: e.schedule.end,
                holdout: e.holdout,
                arms: e.arms.clone(),
            }
        })
        .collect();
    let doc = SiteC {
        v: V1,
        compiled: cel::WIRE_VERSION,
        rules: cel::encode_text(&w.programs, sources),
        sources: if sources { w.sources } else { Vec::new() },
        segments,
        slots,
        list_boost: site.list_boost,
        list_rules,
        recs_k: site.recs_k,
        widgets: site.widgets.clone(),
        experiments,
        demo_now: site.demo_now,
    };
    serde_json::to_string(&doc).unwrap_or_default()
}

#[cfg(feature = "compile")]
struct Writer<'a> {
    programs: Vec<&'a Program>,
    sources: Vec<String>,
}

#[cfg(feature = "compile")]
impl<'a> Writer<'a> {
    fn push(&mut self, p: &'a Program, src: &str) -> usize {
        self.programs.push(p);
        self.sources.push(src.to_owned());
        self.programs.len() - 1
    }

    fn condition(&mut self, c: &'a Condition) -> usize {
        self.push(c.program(), c.source())
    }

    fn template(&mut self, t: &'a Template) -> Vec<PieceC> {
        t.0.iter()
            .map(|p| match p {
                Piece::Text(t) => PieceC { t: Some(t.clone()), p: None, f: String::new() },
                Piece::Hole { program, fallback } => PieceC { t: None, p: Some(self.push(program, "")), f: fallback.clone() },
            })
            .collect()
    }
}
