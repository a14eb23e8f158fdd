//! Reading a site configuration's source (`site.json`) into its parts, with every structural error
//! collected: a misspelled key, a value of the wrong type, a bad time, an unknown strategy... each
//! with its `line:col` in the file and its field path, so that `vitrine check` and the preview panel
//! list all of them at once, beside the errors the compiler then finds in rules and references
//! (`SiteConfig::compile`). Only text that is not JSON at all stops at its first error.
//!
//! A part with a broken field is kept with that field's default (or without it, where the field is
//! required), so that the parts after it are still read and checked and a broken variant does not
//! also make every experiment naming it "unknown".

use std::collections::BTreeMap;

use crate::base::error::FormatError;
use crate::base::json::{self, At, Doc, Obj, R};
use crate::base::time::Seconds;
use crate::recs::strategy::Strategy;

pub(super) struct SiteDoc {
    pub segments: BTreeMap<String, SegmentDoc>,
    pub slots: BTreeMap<String, Vec<Option<VariantDoc>>>,
    pub lists: ListsDoc,
    pub recs: RecsDoc,
    pub experiments: BTreeMap<String, ExperimentDoc>,
    pub demo_now: Option<Seconds>,
    pub session_before_consent: bool,
    /// BCP 47 tag of how prices are shown; `en-GB` when absent (checked by `SiteConfig::compile`).
    pub locale: Option<String>,
}

pub(super) struct SegmentDoc {
    /// `None`: missing or not a string (already reported).
    pub when: Option<String>,
    pub description: String,
}

pub(super) struct VariantDoc {
    /// `None`: missing or not a string (already reported).
    pub id: Option<String>,
    pub when: Option<String>,
    pub priority: i64,
    pub schedule: super::site::Schedule,
    pub content: BTreeMap<String, String>,
}

pub(super) struct ListsDoc {
    pub boost: f64,
    pub rules: Vec<Option<ListRuleDoc>>,
}

pub(super) struct ListRuleDoc {
    pub id: Option<String>,
    pub list: Option<String>,
    pub when: Option<String>,
    pub schedule: super::site::Schedule,
    pub pin: Vec<String>,
    pub bury: Vec<String>,
    pub boost: BTreeMap<String, f64>,
}

pub(super) struct RecsDoc {
    pub k: usize,
    pub widgets: BTreeMap<String, WidgetDoc>,
}

pub(super) struct WidgetDoc {
    /// `None`: missing or not a strategy (already reported).
    pub strategy: Option<Strategy>,
    pub k: Option<usize>,
    pub category: Option<String>,
    pub price_min: Option<f64>,
    pub price_max: Option<f64>,
    pub max_per_category: Option<usize>,
}

pub(super) struct ExperimentDoc {
    pub salt: Option<String>,
    pub slot: Option<String>,
    pub list: Option<String>,
    pub widget: Option<String>,
    pub audience: Option<String>,
    pub schedule: super::site::Schedule,
    pub holdout: f64,
    pub arms: Vec<Option<ArmDoc>>,
}

pub(super) struct ArmDoc {
    pub id: Option<String>,
    pub weight: f64,
    pub default: bool,
    pub variant: Option<String>,
    pub strategy: Option<Strategy>,
}

/// Reads `text`: the configuration's parts and every structural error in them, or the one error
/// that makes it unreadable (not JSON, not an object, no `"v": 1`).
pub(super) fn read(text: &str) -> Result<(SiteDoc, Vec<FormatError>), FormatError> {
    let doc = Doc { format: "site", text };
    let json = json::parse(doc).map_err(|e| *e)?;
    let root = At::root(doc, &json);
    let mut r = Reader { errors: Vec::new() };
    let o = r
        .obj(root, &["v", "$schema", "segments", "slots", "lists", "recs", "experiments", "demo_now", "consent", "locale"])
        .ok_or_else(|| r.errors.remove(0))?;
    // Another version's configuration is read by another version's rules: nothing else is checked.
    o.req_version().map_err(|e| *e)?;
    let site = SiteDoc {
        segments: r.field(&o, "segments", |r, x| r.map(x, |r, x| r.segment(x))).unwrap_or_default(),
        slots: r.field(&o, "slots", |r, x| r.map(x, |r, x| r.list(x, |r, x| r.variant(x)))).unwrap_or_default(),
        lists: r.field(&o, "lists", |r, x| r.lists(x)).unwrap_or(ListsDoc { boost: 1.0, rules: Vec::new() }),
        recs: r.field(&o, "recs", |r, x| r.recs(x)).unwrap_or(RecsDoc { k: 8, widgets: BTreeMap::new() }),
        experiments: r.field(&o, "experiments", |r, x| r.map(x, |r, x| r.experiment(x))).unwrap_or_default(),
        demo_now: r.ok(o.opt_time("demo_now")).flatten(),
        session_before_consent: r
            .field(&o, "consent", |r, x| {
                let o = r.obj(x, &["session_before_consent"])?;
                r.ok(o.or_bool("session_before_consent"))
            })
            .unwrap_or(false),
        locale: r.ok(o.opt_string("locale")).flatten(),
    };
    // Editors' JSON Schema reference: ignored, but a string.
    r.ok(o.opt_string("$schema"));
    // In the file's order (unknown keys are found before their neighbours are read).
    r.errors.sort_by_key(|e| (e.line, e.column));
    Ok((site, r.errors))
}

/// Collects errors while reading.
struct Reader {
    errors: Vec<FormatError>,
}

impl Reader {
    /// The value, or `None` with its error kept.
    fn ok<T>(&mut self, r: R<T>) -> Option<T> {
        r.map_err(|e| self.errors.push(*e)).ok()
    }

    /// An object with the fields `known`; the others are reported and the rest still read.
    fn obj<'c, 'a>(&mut self, x: At<'c, 'a>, known: &'static [&'static str]) -> Option<Obj<'c, 'a>> {
        let o = x.obj_collecting(known, &mut self.errors);
        self.ok(o)
    }

    /// An optional field read by `read`; `None` when absent or broken.
    fn field<'a, T>(&mut self, o: &Obj<'_, 'a>, name: &'static str, read: impl FnOnce(&mut Self, At<'_, 'a>) -> Option<T>) -> Option<T> {
        o.opt(name, |x| Ok(read(self, x))).ok().flatten().flatten()
    }

    /// A map whose entries `read` reads; broken entries are left out, a repeated key is an error.
    fn map<'a, T>(&mut self, x: At<'_, 'a>, mut read: impl FnMut(&mut Self, At<'_, 'a>) -> Option<T>) -> Option<BTreeMap<String, T>> {
        let mut out = BTreeMap::new();
        let mut seen: Vec<String> = Vec::new();
        let all = x.each_entry(|k, v| {
            if seen.iter().any(|s| s == k) {
                self.errors.push(*v.invalid(format!("duplicate key `{k}`")));
            }
            seen.push(k.to_owned());
            if let Some(t) = read(self, v) {
                out.insert(k.to_owned(), t);
            }
        });
        self.ok(all).map(|()| out)
    }

    /// An array whose items `read` reads; a broken item is `None`, so that the others keep their
    /// index (`slots.hero[2]`) in later errors.
    fn list<'a, T>(&mut self, x: At<'_, 'a>, mut read: impl FnMut(&mut Self, At<'_, 'a>) -> Option<T>) -> Option<Vec<Option<T>>> {
        let mut out = Vec::new();
        let all = x.each_item(|v| out.push(read(self, v)));
        self.ok(all).map(|()| out)
    }

    fn strings(&mut self, o: &Obj<'_, '_>, name: &'static str) -> Vec<String> {
        self.field(o, name, |r, x| r.list(x, |r, x| r.ok(x.string()))).unwrap_or_default().into_iter().flatten().collect()
    }

    fn schedule(&mut self, o: &Obj<'_, '_>) -> super::site::Schedule {
        self.field(o, "schedule", |r, x| {
            let o = r.obj(x, &["start", "end"])?;
            Some(super::site::Schedule { start: r.ok(o.opt_time("start")).flatten(), end: r.ok(o.opt_time("end")).flatten() })
        })
        .unwrap_or_default()
    }

    fn strategy(&mut self, o: &Obj<'_, '_>, name: &'static str, required: bool) -> Option<Strategy> {
        let found = if required { o.req(name, |x| strategy(x)).map(Some) } else { o.opt(name, |x| strategy(x)) };
        self.ok(found).flatten()
    }

    fn segment(&mut self, x: At<'_, '_>) -> Option<SegmentDoc> {
        let o = self.obj(x, &["when", "description"])?;
        let when = self.ok(o.req_string("when"));
        Some(SegmentDoc { when, description: self.ok(o.or_string("description")).unwrap_or_default() })
    }

    fn variant(&mut self, x: At<'_, '_>) -> Option<VariantDoc> {
        let o = self.obj(x, &["id", "when", "priority", "schedule", "content"])?;
        Some(VariantDoc {
            id: self.ok(o.req_string("id")),
            when: self.ok(o.opt_string("when")).flatten(),
            priority: self.ok(o.or("priority", || 0, |x| x.i64())).unwrap_or(0),
            schedule: self.schedule(&o),
            content: self.field(&o, "content", |r, x| r.map(x, |r, x| r.ok(x.string()))).unwrap_or_default(),
        })
    }

    fn lists(&mut self, x: At<'_, '_>) -> Option<ListsDoc> {
        let o = self.obj(x, &["boost", "rules"])?;
        Some(ListsDoc {
            boost: self.ok(o.or("boost", || 1.0, |x| x.f64())).unwrap_or(1.0),
            rules: self.field(&o, "rules", |r, x| r.list(x, |r, x| r.list_rule(x))).unwrap_or_default(),
        })
    }

    fn list_rule(&mut self, x: At<'_, '_>) -> Option<ListRuleDoc> {
        let o = self.obj(x, &["id", "list", "when", "schedule", "pin", "bury", "boost"])?;
        Some(ListRuleDoc {
            id: self.ok(o.req_string("id")),
            list: self.ok(o.opt_string("list")).flatten(),
            when: self.ok(o.opt_string("when")).flatten(),
            schedule: self.schedule(&o),
            pin: self.strings(&o, "pin"),
            bury: self.strings(&o, "bury"),
            boost: self.field(&o, "boost", |r, x| r.map(x, |r, x| r.ok(x.f64()))).unwrap_or_default(),
        })
    }

    fn recs(&mut self, x: At<'_, '_>) -> Option<RecsDoc> {
        let o = self.obj(x, &["k", "widgets"])?;
        Some(RecsDoc {
            k: self.ok(o.or("k", || 8, |x| x.usize())).unwrap_or(8),
            widgets: self.field(&o, "widgets", |r, x| r.map(x, |r, x| r.widget(x))).unwrap_or_default(),
        })
    }

    fn widget(&mut self, x: At<'_, '_>) -> Option<WidgetDoc> {
        let o = self.obj(x, &["strategy", "k", "category", "price_min", "price_max", "max_per_category"])?;
        Some(WidgetDoc {
            strategy: self.strategy(&o, "strategy", true),
            k: self.ok(o.opt_usize("k")).flatten(),
            category: self.ok(o.opt_string("category")).flatten(),
            price_min: self.ok(o.opt_f64("price_min")).flatten(),
            price_max: self.ok(o.opt_f64("price_max")).flatten(),
            max_per_category: self.ok(o.opt_usize("max_per_category")).flatten(),
        })
    }

    fn experiment(&mut self, x: At<'_, '_>) -> Option<ExperimentDoc> {
        let o = self.obj(x, &["salt", "slot", "list", "widget", "audience", "schedule", "holdout", "arms"])?;
        Some(ExperimentDoc {
            salt: self.ok(o.opt_string("salt")).flatten(),
            slot: self.ok(o.opt_string("slot")).flatten(),
            list: self.ok(o.opt_string("list")).flatten(),
            widget: self.ok(o.opt_string("widget")).flatten(),
            audience: self.ok(o.opt_string("audience")).flatten(),
            schedule: self.schedule(&o),
            holdout: self.ok(o.or_f64("holdout")).unwrap_or(0.0),
            arms: self.field(&o, "arms", |r, x| r.list(x, |r, x| r.arm(x))).unwrap_or_default(),
        })
    }

    fn arm(&mut self, x: At<'_, '_>) -> Option<ArmDoc> {
        let o = self.obj(x, &["id", "weight", "default", "variant", "strategy"])?;
        Some(ArmDoc {
            id: self.ok(o.req_string("id")),
            weight: self.ok(o.or("weight", || 1.0, |x| x.f64())).unwrap_or(1.0),
            default: self.ok(o.or_bool("default")).unwrap_or(false),
            variant: self.ok(o.opt_string("variant")).flatten(),
            strategy: self.strategy(&o, "strategy", false),
        })
    }
}

/// A strategy's name; an unknown one is an error listing them (and the nearest, if close).
fn strategy(x: At<'_, '_>) -> R<Strategy> {
    let s = x.str()?;
    Strategy::parse(s).ok_or_else(|| {
        let names = || Strategy::NAMES.iter().map(|(_, n)| *n);
        let near = crate::cel::nearest(s, names()).map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
        x.invalid(format!("unknown strategy {}, expected one of {}{near}", crate::cel::Quoted(s), json::backticked(names())))
    })
}
