//! The compiled site configuration: what `vitrine bundle` writes into a bundle's `"site"` and what
//! every runtime loads, with no CEL lexer, parser or checker (docs/formats.md, "Compiled site").
//!
//! It is the checked configuration ([`SiteConfig`]) with every rule and template hole replaced by
//! an index into one blob of compiled programs (`vitrine_cel::wire`: versioned, checksummed,
//! bounds- and depth-checked when loaded), in a compact binary form (a bundle's JSON carries it as
//! one base64 string). Rule sources ride along only when asked for (the preview panel and the
//! edge, for traces); a shop's visitors never download them.
//!
//! Layout: the magic `VSIT`, the form's version (one byte, [`SITE_VERSION`]), the programs blob
//! (length as a little-endian `u32`, then the blob), the rest of the configuration field by field
//! in the order [`write()`] and [`load`] agree on (LEB128 varints, as the programs blob; docs/formats.md
//! lists the fields), and a CRC-32 (IEEE) of everything before it, little-endian. Binary, not JSON,
//! and read by hand rather than through serde: the browser pays for every byte of its reader, and
//! this one is a few kilobytes of Wasm where serde's generated readers of the same structures took
//! several times that.

use crate::base::crc::crc32;
use crate::base::error::FormatError;
#[cfg(feature = "compile")]
use crate::base::error::FormatErrorKind;
use crate::base::json::Path;
use crate::base::named::Named;
use crate::base::time::Seconds;
use crate::cel::Quoted;
use crate::cel::{self, Program};
use crate::data::money::MoneyFormat;
use crate::recs::strategy::Strategy;
use crate::rules::condition::Condition;
use crate::rules::site::{Arm, Experiment, ListRule, Schedule, Segment, SiteConfig, Target, Template, Variant, Widget};
#[cfg(feature = "compile")]
use crate::rules::site::{CompileError, Piece};

const MAGIC: &[u8; 4] = b"VSIT";
/// The compiled site's form. 1 was the JSON form of the first bundles; 2 the binary form without
/// `session_before_consent`; 3 without the price format (`money`); 4 without `money()` template
/// holes and the shop's currency; 5 without the edge-only rules (each runtime found them when
/// loading); 6 did not list the rules calling `duration()` of a computed string among them (the
/// browser's production build has no duration parser since 7); 7 is this one. Change the field
/// order of [`write()`]/[`load`], or what the edge-only rules are, only with it.
pub const SITE_VERSION: u8 = 7;

impl SiteConfig {
    /// Reads a site configuration: its compiled form (what bundles carry, docs/formats.md), or, with
    /// the `compile` feature, its source (`site.json`), compiled here. Every broken rule or template
    /// of a source is reported, each with its field path and a rendered `line:col` + caret.
    pub fn from_json(text: &str) -> Result<SiteConfig, FormatError> {
        if !is_compiled(text) {
            #[cfg(not(feature = "compile"))]
            return Err(source_refused());
            #[cfg(feature = "compile")]
            return SiteConfig::compile(text).map_err(|errors| match errors {
                CompileError::Format(e) => e,
                // One structural error reads as any other format's: located, with its field.
                CompileError::Rules(errors) if errors.len() == 1 && errors[0].json => {
                    let e = &errors[0];
                    FormatError { format: "site", line: e.line, column: e.column, field: e.field.clone(), kind: FormatErrorKind::Invalid(e.message.clone()) }
                }
                CompileError::Rules(errors) => FormatError::rule(
                    "site",
                    "",
                    format!("{} error(s):\n{}", errors.len(), errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")),
                ),
            });
        }
        load_text(text)
    }

    /// Reads the compiled form's bytes ([`SiteConfig::to_compiled`]).
    pub fn from_compiled(bytes: &[u8]) -> Result<SiteConfig, FormatError> {
        load(bytes)
    }

    /// The compiled form runtimes load (docs/formats.md, "Compiled site"); with `sources`, each
    /// rule's source and position information too, for traces.
    #[cfg(feature = "compile")]
    pub fn to_compiled_json(&self, sources: bool) -> String {
        format!("\"{}\"", crate::cel::base64_encode(&self.to_compiled(sources)))
    }

    /// The compiled form's bytes (docs/formats.md, "Compiled site"), as [`SiteConfig::to_compiled_json`]
    /// carries them in base64.
    #[cfg(feature = "compile")]
    pub fn to_compiled(&self, sources: bool) -> Vec<u8> {
        write(self, sources)
    }
}

fn corrupt(field: impl Into<String>, msg: impl Into<String>) -> FormatError {
    FormatError::rule("site", field, msg)
}

/// The error of a runtime without the compiler given a source configuration.
#[cfg(not(feature = "compile"))]
pub(crate) fn source_refused() -> FormatError {
    FormatError::rule(
        "site",
        "",
        "expected a compiled site configuration (one base64 string), found a JSON object: a configuration's source, or one compiled in the JSON form of earlier builds (form version 1); run `vitrine bundle`, which checks and compiles it",
    )
}

/// Whether a site document (JSON text) is in compiled form: one string, the base64 of [`load`]'s
/// bytes.
pub(crate) fn is_compiled(text: &str) -> bool {
    text.trim_start().starts_with('"')
}

/// Loads the JSON string [`is_compiled`] said is compiled.
pub(crate) fn load_text(text: &str) -> Result<SiteConfig, FormatError> {
    let bytes = crate::base::json::base64_string("site", text)?.ok_or_else(|| corrupt("", "expected the base64 of a compiled site configuration"))?;
    load(&bytes)
}

/// Loads a compiled configuration (see the module documentation).
pub(crate) fn load(bytes: &[u8]) -> Result<SiteConfig, FormatError> {
    if bytes.len() < 5 || &bytes[..4] != MAGIC {
        return Err(corrupt("", "not a compiled site configuration"));
    }
    // The version first: another version's layout (even its checksum) is not this one's.
    if bytes[4] != SITE_VERSION {
        return Err(corrupt(
            "compiled",
            format!("site compiled in form version {}, but this runtime reads version {SITE_VERSION}: build the bundle with the same Vitrine version as the runtime", bytes[4]),
        ));
    }
    let truncated = || corrupt("", "truncated compiled site configuration");
    if bytes.len() < 13 {
        return Err(truncated());
    }
    let (body, sum) = bytes.split_at(bytes.len() - 4);
    if crc32(body) != u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]) {
        return Err(corrupt("", "checksum mismatch: the compiled site configuration is corrupt"));
    }
    let len = u32::from_le_bytes([body[5], body[6], body[7], body[8]]) as usize;
    let rest = &body[9..];
    if len > rest.len() {
        return Err(truncated());
    }
    let (rules, rest) = rest.split_at(len);
    let programs = cel::decode(rules).map_err(|e| corrupt("rules", e.to_string()))?;
    let mut r = Reader { bytes: rest, at: 0, start: 9 + len, programs, sources: Vec::new() };
    let site = r.site()?;
    if r.at != r.bytes.len() {
        return Err(*r.fail("bytes after the compiled site configuration"));
    }
    Ok(site)
}

/// Reads the body, field by field in [`write()`]'s order.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Where `bytes` start in the file, for offsets in errors.
    start: usize,
    programs: Vec<Program>,
    sources: Vec<String>,
}

/// Boxed, as in `json`: small `Result`s keep every `?` small.
type R<T> = Result<T, Box<FormatError>>;

impl Reader<'_> {
    fn fail(&self, msg: &str) -> Box<FormatError> {
        Box::new(corrupt("", format!("corrupt compiled site configuration at byte {}: {msg}", self.start + self.at)))
    }

    fn u8(&mut self) -> R<u8> {
        let b = *self.bytes.get(self.at).ok_or_else(|| self.fail("truncated"))?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> R<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(self.fail("varint longer than 64 bits"))
    }

    fn u32(&mut self) -> R<u32> {
        let n = self.varint()?;
        u32::try_from(n).map_err(|_| self.fail("number out of range"))
    }

    fn usize(&mut self) -> R<usize> {
        let n = self.varint()?;
        usize::try_from(n).map_err(|_| self.fail("number out of range"))
    }

    fn i64(&mut self) -> R<i64> {
        let n = self.varint()?;
        Ok((n >> 1) as i64 ^ -((n & 1) as i64))
    }

    fn f64(&mut self) -> R<f64> {
        let end = self.at + 8;
        let b = self.bytes.get(self.at..end).ok_or_else(|| self.fail("truncated"))?;
        let x = f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        self.at = end;
        Ok(x)
    }

    fn bool(&mut self) -> R<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.fail("expected 0 or 1")),
        }
    }

    /// A count of items of at least one byte each: never more than the bytes left, so a corrupt
    /// count cannot size an allocation.
    fn count(&mut self) -> R<usize> {
        let n = self.varint()?;
        if n > (self.bytes.len() - self.at) as u64 {
            return Err(self.fail("count beyond the end"));
        }
        Ok(n as usize)
    }

    fn string(&mut self) -> R<String> {
        let n = self.count()?;
        let s = std::str::from_utf8(&self.bytes[self.at..self.at + n]).map_err(|_| self.fail("invalid UTF-8"))?;
        self.at += n;
        Ok(s.to_owned())
    }

    fn strings(&mut self) -> R<Vec<String>> {
        self.seq(Self::string)
    }

    fn seq<T>(&mut self, mut item: impl FnMut(&mut Self) -> R<T>) -> R<Vec<T>> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(item(self)?);
        }
        Ok(out)
    }

    /// A map: its count, then key and value pairs; keys in strictly ascending order, as written.
    fn map<T>(&mut self, mut value: impl FnMut(&mut Self, &str) -> R<T>) -> R<Named<T>> {
        let n = self.count()?;
        let mut out = Named::default();
        for _ in 0..n {
            let key = self.string()?;
            if out.last_name().is_some_and(|last| *last >= key) {
                return Err(self.fail("map keys out of order"));
            }
            let v = value(self, &key)?;
            out.push(key, v);
        }
        Ok(out)
    }

    fn opt<T>(&mut self, value: impl FnOnce(&mut Self) -> R<T>) -> R<Option<T>> {
        if self.bool()? {
            value(self).map(Some)
        } else {
            Ok(None)
        }
    }

    fn schedule(&mut self) -> R<Schedule> {
        let start: Option<Seconds> = self.opt(Self::i64)?;
        Ok(Schedule { start, end: self.opt(Self::i64)? })
    }

    /// A program by its index; `field` names where the index was, for the error (a path, not a
    /// string: it is rendered only when there is an error).
    fn program(&mut self, field: Path) -> R<(Program, usize)> {
        let i = self.u32()? as usize;
        let found = self.programs.get(i).cloned();
        let program =
            found.ok_or_else(|| Box::new(corrupt(field.to_string(), format!("expected a program index below {}, found {i}", self.programs.len()))))?;
        Ok((program, i))
    }

    fn condition(&mut self, field: Path) -> R<Condition> {
        let (program, i) = self.program(field)?;
        Ok(Condition::from_program(program, self.sources.get(i).cloned().unwrap_or_default()))
    }

    fn opt_condition(&mut self, field: Path) -> R<Option<Condition>> {
        self.opt(|r| r.condition(field))
    }

    fn strategy(&mut self, field: Path) -> R<Strategy> {
        let name = self.string()?;
        Strategy::parse(&name).ok_or_else(|| Box::new(corrupt(field.to_string(), format!("unknown strategy {}", Quoted(&name)))))
    }

    fn template(&mut self, field: Path) -> R<Template> {
        let n = self.count()?;
        let mut pieces = Vec::with_capacity(n);
        for i in 0..n {
            pieces.push(match self.u8()? {
                0 => crate::rules::site::Piece::Text(self.string()?),
                tag @ (1 | 2) => {
                    let program = Box::new(self.program(Path::Index(&field, i))?.0);
                    if tag == 1 {
                        crate::rules::site::Piece::Hole { program, fallback: self.string()? }
                    } else {
                        // Three letters, or none: the shop's currency.
                        let currency = self.string()?.as_bytes().try_into().ok();
                        crate::rules::site::Piece::Money { program, currency, fallback: self.string()? }
                    }
                }
                _ => return Err(self.fail("expected a template piece (0 to 2)")),
            });
        }
        Ok(Template(pieces))
    }

    /// The price format, as [`MoneyFormat`] lists it.
    fn money(&mut self) -> R<MoneyFormat> {
        let parts = self.strings()?;
        MoneyFormat::from_parts(parts).ok_or_else(|| self.fail("expected a price format"))
    }

    fn site(&mut self) -> R<SiteConfig> {
        self.sources = self.strings()?;
        let mut segments = Vec::new();
        for i in 0..self.count()? {
            let id = self.string()?;
            if segments.last().is_some_and(|s: &Segment| s.id >= id) {
                return Err(self.fail("segment ids out of order"));
            }
            let when = self.condition(Path::Key(&Path::Index(&Path::Key(&Path::Root, "segments"), i), "when"))?;
            segments.push(Segment { id, description: String::new(), when });
        }
        let slots = self.map(|r, slot| {
            let n = r.count()?;
            let mut variants = Vec::with_capacity(n);
            for i in 0..n {
                let at = Path::Index(&Path::Key(&Path::Key(&Path::Root, "slots"), slot), i);
                let id = r.string()?;
                let when = r.opt_condition(Path::Key(&at, "when"))?;
                let priority = r.i64()?;
                let schedule = r.schedule()?;
                let content = r.map(|r, name| r.template(Path::Key(&Path::Key(&at, "content"), name)))?;
                variants.push(Variant { id, when, priority, schedule, content });
            }
            Ok(variants)
        })?;
        let list_boost = self.f64()?;
        let mut list_rules = Vec::new();
        for i in 0..self.count()? {
            let id = self.string()?;
            let list = self.opt(Self::string)?;
            let when = self.opt_condition(Path::Key(&Path::Index(&Path::Key(&Path::Root, "list_rules"), i), "when"))?;
            let schedule = self.schedule()?;
            let (pin, bury) = (self.strings()?, self.strings()?);
            let boost = self.map(|r, _| r.f64())?;
            list_rules.push(ListRule { id, list, when, schedule, pin, bury, boost });
        }
        let recs_k = self.usize()?;
        let widgets = self.map(|r, name| {
            let strategy = r.strategy(Path::Key(&Path::Key(&Path::Key(&Path::Root, "widgets"), name), "strategy"))?;
            let k = r.opt(Reader::usize)?;
            let category = r.opt(Reader::string)?;
            let price_min = r.opt(Reader::f64)?;
            let price_max = r.opt(Reader::f64)?;
            let max_per_category = r.opt(Reader::usize)?;
            Ok(Widget { strategy, k, category, price_min, price_max, max_per_category })
        })?;
        let mut experiments = Vec::new();
        for i in 0..self.count()? {
            let id = self.string()?;
            let salt = self.string()?;
            let target = match self.u8()? {
                0 => Target::Slot(self.string()?),
                1 => Target::List(self.string()?),
                2 => Target::Widget(self.string()?),
                _ => return Err(self.fail("expected an experiment target (0 to 2)")),
            };
            let experiment = Path::Index(&Path::Key(&Path::Root, "experiments"), i);
            let audience = self.opt_condition(Path::Key(&experiment, "audience"))?;
            let schedule = self.schedule()?;
            let holdout = self.f64()?;
            let mut arms = Vec::new();
            for j in 0..self.count()? {
                let id = self.string()?;
                let weight = self.f64()?;
                let default = self.bool()?;
                let variant = self.opt(Self::string)?;
                let strategy = self.opt(|r| r.strategy(Path::Key(&Path::Index(&Path::Key(&experiment, "arms"), j), "strategy")))?;
                arms.push(Arm { id, weight, default, variant, strategy });
            }
            experiments.push(Experiment { id, salt, target, audience, schedule, holdout, arms });
        }
        let demo_now = self.opt(Self::i64)?;
        let session_before_consent = self.bool()?;
        let money = self.money()?;
        // Found when compiling (`SiteConfig::mark_edge_only`): no runtime walks the programs for
        // the functions they call or the segments they read.
        let edge_only_rules = self.seq(|r| {
            let field = r.string()?;
            let target = match r.u8()? {
                0 => None,
                1 => Some(Target::Slot(r.string()?)),
                2 => Some(Target::List(r.string()?)),
                3 => Some(Target::Widget(r.string()?)),
                _ => return Err(r.fail("expected an edge-only rule's target (0 to 3)")),
            };
            Ok((field, target))
        })?;
        Ok(SiteConfig { segments, slots, list_boost, list_rules, recs_k, widgets, experiments, demo_now, session_before_consent, edge_only_rules, money })
    }
}

/// Writes the compiled form of a checked configuration; with `sources`, each rule's source and
/// the programs' spans too (located errors in traces).
#[cfg(feature = "compile")]
pub(crate) fn write(site: &SiteConfig, sources: bool) -> Vec<u8> {
    let mut w = Writer { out: Vec::with_capacity(1024), programs: Vec::new(), sources: Vec::new() };
    w.site(site);
    let rules = cel::encode(&w.programs, sources);
    let mut out = Vec::with_capacity(rules.len() + w.out.len() + 64);
    out.extend_from_slice(MAGIC);
    out.push(SITE_VERSION);
    out.extend_from_slice(&(rules.len() as u32).to_le_bytes());
    out.extend_from_slice(&rules);
    // The sources lead the body, so they are written once every program is numbered.
    let mut head = Writer { out, programs: Vec::new(), sources: Vec::new() };
    head.seq(if sources { &w.sources[..] } else { &[] }, |h, s| h.string(s));
    out = head.out;
    out.extend_from_slice(&w.out);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

#[cfg(feature = "compile")]
struct Writer<'a> {
    out: Vec<u8>,
    programs: Vec<&'a Program>,
    sources: Vec<String>,
}

#[cfg(feature = "compile")]
impl<'a> Writer<'a> {
    fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.out.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.out.push(n as u8);
    }

    fn i64(&mut self, n: i64) {
        self.varint(((n << 1) ^ (n >> 63)) as u64);
    }

    fn f64(&mut self, x: f64) {
        self.out.extend_from_slice(&x.to_le_bytes());
    }

    fn bool(&mut self, b: bool) {
        self.out.push(u8::from(b));
    }

    fn string(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }

    fn seq<T>(&mut self, items: &'a [T], mut item: impl FnMut(&mut Self, &'a T)) {
        self.varint(items.len() as u64);
        for x in items {
            item(self, x);
        }
    }

    fn map<T>(&mut self, map: &'a Named<T>, mut value: impl FnMut(&mut Self, &'a T)) {
        self.varint(map.len() as u64);
        for (k, v) in map {
            self.string(k);
            value(self, v);
        }
    }

    fn opt<T>(&mut self, x: Option<T>, value: impl FnOnce(&mut Self, T)) {
        self.bool(x.is_some());
        if let Some(x) = x {
            value(self, x);
        }
    }

    fn schedule(&mut self, s: &Schedule) {
        self.opt(s.start, Self::i64);
        self.opt(s.end, Self::i64);
    }

    fn program(&mut self, p: &'a Program, src: &str) {
        self.programs.push(p);
        self.sources.push(src.to_owned());
        self.varint(self.programs.len() as u64 - 1);
    }

    fn condition(&mut self, c: &'a Condition) {
        self.program(c.program(), c.source());
    }

    fn opt_condition(&mut self, c: &'a Option<Condition>) {
        self.opt(c.as_ref(), Self::condition);
    }

    fn template(&mut self, t: &'a Template) {
        self.varint(t.0.len() as u64);
        for p in &t.0 {
            match p {
                Piece::Text(t) => {
                    self.out.push(0);
                    self.string(t);
                }
                Piece::Hole { program, fallback } => {
                    self.out.push(1);
                    self.program(program, "");
                    self.string(fallback);
                }
                Piece::Money { program, currency, fallback } => {
                    self.out.push(2);
                    self.program(program, "");
                    self.string(currency.as_ref().map_or("", |c| std::str::from_utf8(c).unwrap_or_default()));
                    self.string(fallback);
                }
            }
        }
    }

    fn site(&mut self, site: &'a SiteConfig) {
        // (The sources, first in the body, are written by `write` once all are known.)
        self.seq(&site.segments, |w, s| {
            w.string(&s.id);
            w.condition(&s.when);
        });
        self.map(&site.slots, |w, variants| {
            w.seq(variants, |w, v| {
                w.string(&v.id);
                w.opt_condition(&v.when);
                w.i64(v.priority);
                w.schedule(&v.schedule);
                w.map(&v.content, |w, t| w.template(t));
            });
        });
        self.f64(site.list_boost);
        self.seq(&site.list_rules, |w, r| {
            w.string(&r.id);
            w.opt(r.list.as_deref(), Self::string);
            w.opt_condition(&r.when);
            w.schedule(&r.schedule);
            w.seq(&r.pin, |w, s| w.string(s));
            w.seq(&r.bury, |w, s| w.string(s));
            w.map(&r.boost, |w, x| w.f64(*x));
        });
        self.varint(site.recs_k as u64);
        self.map(&site.widgets, |w, x| {
            w.string(x.strategy.name());
            w.opt(x.k, |w, k| w.varint(k as u64));
            w.opt(x.category.as_deref(), Self::string);
            w.opt(x.price_min, Self::f64);
            w.opt(x.price_max, Self::f64);
            w.opt(x.max_per_category, |w, m| w.varint(m as u64));
        });
        self.seq(&site.experiments, |w, e| {
            w.string(&e.id);
            w.string(&e.salt);
            let (tag, name) = match &e.target {
                Target::Slot(s) => (0, s),
                Target::List(l) => (1, l),
                Target::Widget(x) => (2, x),
            };
            w.out.push(tag);
            w.string(name);
            w.opt_condition(&e.audience);
            w.schedule(&e.schedule);
            w.f64(e.holdout);
            w.seq(&e.arms, |w, a| {
                w.string(&a.id);
                w.f64(a.weight);
                w.bool(a.default);
                w.opt(a.variant.as_deref(), Self::string);
                w.opt(a.strategy, |w, s| w.string(s.name()));
            });
        });
        self.opt(site.demo_now, Self::i64);
        self.bool(site.session_before_consent);
        self.seq(site.money.parts(), |w, p| w.string(p));
        self.seq(&site.edge_only_rules, |w, (field, target)| {
            w.string(field);
            match target {
                None => w.out.push(0),
                Some(t) => {
                    let (tag, name) = match t {
                        Target::Slot(s) => (1, s),
                        Target::List(l) => (2, l),
                        Target::Widget(x) => (3, x),
                    };
                    w.out.push(tag);
                    w.string(name);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> SiteConfig {
        SiteConfig::from_json(include_str!("../../../demo-shop/site.json")).unwrap()
    }

    fn message(bytes: &[u8]) -> String {
        load(bytes).map(|_| ()).unwrap_err().to_string()
    }

    /// `bytes` with the checksum recomputed, as a deliberate edit (not corruption) would leave them.
    fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
        bytes.truncate(bytes.len() - 4);
        let crc = crc32(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes
    }

    #[test]
    fn round_trips_the_demo_site_with_and_without_sources() {
        let site = demo();
        for sources in [false, true] {
            let bytes = site.to_compiled(sources);
            let again = SiteConfig::from_compiled(&bytes).unwrap();
            assert_eq!(again.to_compiled(sources), bytes);
            assert_eq!(again.segments.len(), site.segments.len());
            assert_eq!(again.slots.keys().collect::<Vec<_>>(), site.slots.keys().collect::<Vec<_>>());
            assert_eq!(again.widgets.len(), site.widgets.len());
            assert_eq!(again.experiments.len(), site.experiments.len());
            let src = |s: &SiteConfig| s.segments.iter().map(|g| g.when.source().to_owned()).collect::<Vec<_>>();
            if sources {
                assert_eq!(src(&again), src(&site));
            } else {
                assert!(src(&again).iter().all(String::is_empty));
            }
        }
        // The JSON carriage: one base64 string.
        let text = site.to_compiled_json(false);
        assert!(is_compiled(&text));
        assert_eq!(SiteConfig::from_json(&text).unwrap().to_compiled(false), site.to_compiled(false));
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_an_error() {
        let bytes = demo().to_compiled(false);
        for n in 0..bytes.len() {
            assert!(load(&bytes[..n]).is_err(), "{n} of {} bytes loaded", bytes.len());
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x20;
            assert!(load(&b).is_err(), "byte {i} flipped loaded");
        }
    }

    #[test]
    fn another_form_version_is_refused_by_name_before_anything_else() {
        let mut bytes = demo().to_compiled(false);
        bytes[4] = SITE_VERSION + 1;
        let msg = message(&bytes);
        let want = format!("site compiled in form version {}, but this runtime reads version {SITE_VERSION}", SITE_VERSION + 1);
        assert!(msg.contains("`compiled`") && msg.contains(&want), "{msg}");
        assert!(message(b"{\"v\":1}").contains("not a compiled site configuration"));
    }

    #[test]
    fn a_checked_body_with_wrong_contents_names_the_field() {
        let site = demo();
        let bytes = site.to_compiled(false);
        let count = site.segments.len() + site.slots.values().flatten().filter(|v| v.when.is_some()).count();
        assert!(count > 1);
        // A site of one segment whose rule is program `index`, and one widget of `strategy`.
        let edit = |index: u32, strategy: &str| {
            let widget = Widget { strategy: Strategy::Popular, k: None, category: None, price_min: None, price_max: None, max_per_category: None };
            let one = SiteConfig {
                segments: site.segments[..1].to_vec(),
                slots: Named::default(),
                list_boost: 1.0,
                list_rules: Vec::new(),
                recs_k: 4,
                widgets: std::collections::BTreeMap::from([("w".to_owned(), widget)]).into(),
                experiments: Vec::new(),
                demo_now: None,
                session_before_consent: false,
                edge_only_rules: Vec::new(),
                money: MoneyFormat::for_locale("en-GB").unwrap(),
            };
            let mut b = one.to_compiled(false);
            let len = u32::from_le_bytes(b[5..9].try_into().unwrap()) as usize;
            // The body: no sources (0), one segment (1), its id, its program index (0).
            let at = 9 + len;
            let id = one.segments[0].id.len();
            assert_eq!(&b[at..at + 2], &[0, 1]);
            assert_eq!(b[at + 3 + id], 0);
            b[at + 3 + id] = index as u8;
            let name = b.windows(7).position(|w| w == b"popular").unwrap();
            b.splice(name..name + 7, strategy.bytes());
            b[name - 1] = strategy.len() as u8;
            resealed(b)
        };
        assert!(load(&edit(0, "popular")).is_ok());
        let msg = message(&edit(1, "popular"));
        assert!(msg.contains("segments[0].when") && msg.contains("expected a program index below 1, found 1"), "{msg}");
        let msg = message(&edit(0, "cheapest"));
        assert!(msg.contains("widgets.w.strategy") && msg.contains("unknown strategy \"cheapest\""), "{msg}");
        // Bytes after the body, checksummed as if they belonged.
        let mut extra = bytes.clone();
        extra.insert(extra.len() - 4, 0);
        assert!(message(&resealed(extra)).contains("bytes after the compiled site configuration"));
        // A programs blob longer than the file.
        let mut long = bytes.clone();
        long[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(message(&resealed(long)).contains("truncated"));
        // A count beyond the bytes left never sizes an allocation.
        let len = u32::from_le_bytes(bytes[5..9].try_into().unwrap()) as usize;
        let mut huge = bytes.clone();
        huge.splice(9 + len..9 + len + 1, [0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(message(&resealed(huge)).contains("count beyond the end"));
    }
}
