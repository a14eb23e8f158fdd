//! Decisions: which variant fills a slot, how a list is ordered, which products a widget shows.
//! One [`Bundle`] (site configuration + catalog + model) serves every request; a [`Context`] is one
//! visitor on one page at one instant.
//!
//! The group of everything a decision is: this module (bundle, request, context, decision,
//! strategies' candidates, filters and diversity), the decision's rule variables ([`vars`]), the
//! `data-vitrine-*` contract the runtimes read pages through ([`markup`]), a configuration replayed
//! over many profiles ([`replay`]) and the shared cases' request ([`case`]). Names every layer but
//! analytics; `engine/tests/layers.rs` checks it.

pub(crate) mod case;
pub mod markup;
pub mod replay;
pub(crate) mod vars;

use serde::{Deserialize, Serialize};

use crate::base::error::{FormatError, V1};
use crate::base::json::{At, Writer, R};
use crate::base::time::Seconds;
use crate::cel::Quoted;
use crate::data::catalog::{is_safe_url, Availability, Catalog, Product};
use crate::data::profile::{ItemEvent, LiveProfile, Session};
use crate::decide::vars::{PageVars, Vars, VarsCache};
use crate::recs::model::Model;
use crate::recs::shard::{ShardLayout, Table};
use crate::recs::strategy::Strategy;
use crate::rules::experiment::{self, Assignment};
use crate::rules::site::{is_href_field, Experiment, SiteConfig, Target};

/// Everything a runtime loads once: compiled site configuration, catalog and model.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub site: SiteConfig,
    pub catalog: Catalog,
    pub model: Model,
    /// In a bundle with the full model written beside a sharded browser bundle (the edge's): the
    /// browser's shard layout, so that pages can preload the shards their widgets need. Read by
    /// builds with `full-bundle` only: the browser's production build refuses edge bundles (their
    /// catalog and model are full) and leaves it `None`.
    pub browser_shards: Option<ShardLayout>,
}

impl Bundle {
    /// Reads the compiled bundle `{"v":1,"site":"<base64>","catalog":{..},"model":{..}}`, with
    /// `"browser_shards":{"count":N,"base":"m-<hash>/","views":true}` in an edge bundle.
    pub fn from_json(text: &str) -> Result<Bundle, FormatError> {
        Bundle::read(text).map_err(|e| *e)
    }

    /// [`Bundle::from_json`] with its errors boxed: a `Result` of one pointer keeps each of its
    /// `?` small (the browser pays for each).
    fn read(text: &str) -> Result<Bundle, Box<FormatError>> {
        let doc = crate::base::json::Doc { format: "bundle", text };
        let fields = crate::base::json::raw_fields(doc, &["v", "site", "catalog", "model", "browser_shards"])?;
        let find = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, raw)| *raw);
        let part = |name: &str| find(name).ok_or_else(|| Box::new(FormatError::rule("bundle", "", format!("missing field `{name}`"))));
        crate::base::json::read("bundle", part("v")?, |x| x.version()).map_err(|e| Box::new(FormatError { field: "v".into(), ..e }))?;
        // Only an edge bundle names the browser's shards, and only a build that loads full
        // bundles reads them: the browser's production build refuses an edge bundle's full
        // catalog or model below, and reading the layout here cost it 1.6 KB gzip.
        #[cfg(feature = "full-bundle")]
        let browser_shards = match find("browser_shards") {
            Some(raw) if raw != "null" => {
                Some(crate::base::json::read("bundle", raw, |x| Ok(crate::base::shard_layout::ShardsDoc::read(x)?.layout()?)).map_err(|e| {
                    let field = prefix("browser_shards", e.field.trim_start_matches("shards").trim_start_matches('.'));
                    Box::new(FormatError { format: "bundle", field, ..e })
                })?)
            }
            _ => None,
        };
        #[cfg(not(feature = "full-bundle"))]
        let browser_shards = None;
        let site = SiteConfig::from_json(part("site")?).map_err(|e| within("site", e))?;
        let catalog = Catalog::from_json(part("catalog")?).map_err(|e| within("catalog", e))?;
        // Without `full-bundle` (the browser's production build), content neighbours come only
        // from the similar rows a catalog head's shards carry, computed at bundle time.
        #[cfg(not(feature = "full-bundle"))]
        if catalog.shard_layout().is_none() && !catalog.products().is_empty() {
            return Err(Box::new(FormatError::rule(
                "bundle",
                "catalog",
                "expected the browser's bundle, whose catalog is a head (`vitrine bundle --shards N --sharded-out DIR` writes DIR/bundle.json), found a full catalog: this build does not scan catalogs for content neighbours",
            )));
        }
        let model = Model::from_bundle_part(part("model")?).map_err(|e| within("model", e))?;
        Ok(Bundle { site, catalog, model, browser_shards })
    }

    /// Assembles a bundle from the source texts of its three parts, which the caller has already
    /// read with [`SiteConfig::from_json`], [`Catalog::from_json`] and [`Model::from_json`] (as
    /// `vitrine bundle` does, to name the offending file in errors).
    pub fn assemble(site: &str, catalog: &str, model: &str) -> String {
        format!("{{\"v\":1,\"site\":{},\"catalog\":{},\"model\":{}}}", site.trim(), catalog.trim(), model.trim())
    }

    /// [`Bundle::assemble`] for the runtime that holds the full model while browsers load `head`'s
    /// shards: the bundle also names the browser's shard layout ([`Bundle::browser_shards`]).
    pub fn assemble_with_shards(site: &str, catalog: &str, model: &str, head: &Model) -> String {
        let Some(l) = head.shard_layout() else { return Bundle::assemble(site, catalog, model) };
        let shards = serde_json::to_string(&crate::base::shard_layout::ShardsDoc::of(l)).unwrap_or_default();
        format!("{{\"v\":1,\"site\":{},\"catalog\":{},\"model\":{},\"browser_shards\":{shards}}}", site.trim(), catalog.trim(), model.trim())
    }
}

/// A browser's bundle as `vitrine bundle --shards N --sharded-out DIR` writes it ([`Bundle::split`]).
#[cfg(feature = "full-bundle")]
#[derive(Debug)]
pub struct BrowserBundle {
    /// `bundle.json`, the head the browser loads first: the site, the catalog's head and the model's
    /// shard head (binary, in base64: the production build reads no other model form).
    pub head: String,
    /// The model's shard head, which the edge's bundle names ([`Bundle::assemble_with_shards`]).
    pub model_head: Model,
    /// The model's and the catalog's shard directories (`m-<hash>/`, `c-<hash>/`, as the head names
    /// them), each with its files by name.
    pub dirs: [(String, Vec<crate::recs::shard::ShardFile>); 2],
}

#[cfg(feature = "full-bundle")]
impl BrowserBundle {
    /// Every shard file by its path relative to the bundle (`m-<hash>/3.vtm`), as a decision names
    /// what it missed ([`Context::missing`]) and [`Bundle::add_file`] takes it.
    pub fn files(&self) -> impl Iterator<Item = (String, &[u8])> + '_ {
        self.dirs.iter().flat_map(|(base, files)| files.iter().map(move |(name, bytes)| (format!("{base}{name}"), bytes.as_slice())))
    }
}

#[cfg(feature = "full-bundle")]
impl Bundle {
    /// Splits a full catalog and model into the browser's bundle: the head (`site`, a compiled site
    /// configuration's text, with the catalog entries of `head_products` and the model's rankings)
    /// and `count` shards of each (model rows, catalog entries, similar rows). `vitrine bundle`,
    /// the tests and the page-bytes bench all split through here, so each measures what ships.
    /// The error's `format` says which part failed (`"model"` or `"catalog"`).
    pub fn split<'a>(
        site: &str,
        catalog: &Catalog,
        model: &Model,
        count: u32,
        head_products: impl IntoIterator<Item = &'a str>,
    ) -> Result<BrowserBundle, FormatError> {
        let (model_head, model_files) = model.split(count)?;
        let (catalog_head, catalog_files) = catalog.split(count, head_products)?;
        let base = |l: Option<&ShardLayout>| l.map(|l| l.base.clone()).unwrap_or_default();
        let dirs = [(base(model_head.shard_layout()), model_files), (base(catalog_head.shard_layout()), catalog_files)];
        let head = Bundle::assemble(site, &catalog_head.to_json(), &model_head.to_bundle_part());
        Ok(BrowserBundle { head, model_head, dirs })
    }
}

impl Bundle {
    /// Adds a fetched shard file, named relative to the bundle as [`Context::missing`] names it
    /// (`m-<hash>/<s>.vtm` for model rows, `c-<hash>/<s>.json` for catalog entries). A file that
    /// fails its checks is an error and changes nothing. Empty bytes give up on a file whose fetch
    /// failed (no shard is empty): its rows stay empty and its products unknown, and deciding no
    /// longer asks for it.
    pub fn add_file(&mut self, path: &str, bytes: &[u8]) -> Result<(), FormatError> {
        match self.locate(path)? {
            (true, name) => self.model.add_shard(name, bytes),
            (false, name) => {
                let text = std::str::from_utf8(bytes).map_err(|_| FormatError::rule("catalog", "shards", format!("{path} is not UTF-8")))?;
                self.catalog.add_shard(name, text)
            }
        }
    }

    /// Whether `path` is a model file (else a catalog one), and its name under its base.
    fn locate<'p>(&self, path: &'p str) -> Result<(bool, &'p str), FormatError> {
        let model = self.model.shard_layout().and_then(|l| path.strip_prefix(l.base.as_str()));
        let catalog = self.catalog.shard_layout().and_then(|l| path.strip_prefix(l.base.as_str()));
        match (model, catalog) {
            (Some(name), _) => Ok((true, name)),
            (None, Some(name)) => Ok((false, name)),
            (None, None) => Err(FormatError::rule("bundle", "shards", format!("{} is not under this bundle's shard directories", Quoted(path)))),
        }
    }
}

/// An error of a bundle's part `p`, as the bundle's: its field under `p`.
#[inline(never)]
fn within(p: &str, e: FormatError) -> Box<FormatError> {
    Box::new(FormatError { format: "bundle", field: prefix(p, &e.field), ..e })
}

fn prefix(p: &str, field: &str) -> String {
    if field.is_empty() {
        p.to_owned()
    } else {
        format!("{p}.{field}")
    }
}

/// A widget's request after its settings and experiment have been applied ([`Context::plan_recs`]).
struct RecsPlan {
    req: RecsRequest,
    /// Settings came from `recs.widgets`.
    configured: bool,
    trace: Option<ExperimentTrace>,
    assignment: Option<Assignment>,
    /// The experiment leaves the widget as the shop served it.
    keep: bool,
}

/// The page being decided for.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// One visitor, one page, one instant.
#[derive(Debug)]
pub struct Context<'a> {
    pub bundle: &'a Bundle,
    pub profile: &'a LiveProfile,
    pub page: &'a Page,
    pub now: Seconds,
}

/// What the page asks for.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    #[serde(default)]
    pub page: Page,
    #[serde(default)]
    pub slots: Vec<String>,
    #[serde(default)]
    pub lists: Vec<ListRequest>,
    #[serde(default)]
    pub recs: Vec<RecsRequest>,
    /// Explain the decision (`Decision::trace`). Off by default: costs nothing then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trace: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ListRequest {
    pub list: String,
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecsRequest {
    pub widget: String,
    pub strategy: Strategy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    /// Only products of this category (`product_type`, or a sub-path of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Price band, inclusive, in the catalog's currency units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_max: Option<f64>,
    /// Diversity: at most this many products per category (relaxed only to fill the widget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_category: Option<usize>,
}

impl Page {
    /// Reads a page (`{"type": "product", "product": "22423"}`).
    pub fn from_json(text: &str) -> Result<Page, FormatError> {
        crate::base::json::read("page", text, Page::read)
    }

    fn read(at: At) -> R<Page> {
        let o = at.obj(&["type", "product", "category"])?;
        Ok(Page { kind: o.or_string("type")?, product: o.opt_string("product")?, category: o.opt_string("category")? })
    }
}

impl Request {
    /// Reads a decision request (docs/formats.md).
    pub fn from_json(text: &str) -> Result<Request, FormatError> {
        crate::base::json::read("request", text, Request::read)
    }

    pub(crate) fn read(at: At) -> R<Request> {
        let o = at.obj(&["page", "slots", "lists", "recs", "trace"])?;
        let list = |x: At| {
            let l = x.obj(&["list", "items"])?;
            Ok(ListRequest { list: l.req("list", |x| x.string())?, items: l.req("items", |x| x.strings())? })
        };
        Ok(Request {
            page: o.or("page", Page::default, Page::read)?,
            slots: o.or_strings("slots")?,
            lists: o.or("lists", Vec::new, |x| x.items(list))?,
            recs: o.or("recs", Vec::new, |x| x.items(RecsRequest::read))?,
            trace: o.or_bool("trace")?,
        })
    }
}

impl RecsRequest {
    fn read(at: At) -> R<RecsRequest> {
        let o = at.obj(&["widget", "strategy", "product", "k", "category", "price_min", "price_max", "max_per_category"])?;
        Ok(RecsRequest {
            widget: o.req_string("widget")?,
            strategy: o.req("strategy", |x| {
                let s = x.str()?;
                Strategy::parse(s).ok_or_else(|| {
                    let names = crate::base::json::backticked(Strategy::NAMES.iter().map(|(_, n)| *n));
                    x.invalid(format!("unknown variant `{s}`, expected one of {names}"))
                })
            })?,
            product: o.opt_string("product")?,
            k: o.opt_usize("k")?,
            category: o.opt_string("category")?,
            price_min: o.opt_f64("price_min")?,
            price_max: o.opt_f64("price_max")?,
            max_per_category: o.opt_usize("max_per_category")?,
        })
    }
}

/// The answer, `"v": 1`: what every runtime applies to the page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub v: V1,
    pub slots: Vec<SlotDecision>,
    pub lists: Vec<ListDecision>,
    pub recs: Vec<RecsDecision>,
    /// Only when the request asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotDecision {
    pub slot: String,
    /// `None`: no variant matched, the shop's default content stays.
    pub variant: Option<String>,
    /// In name order.
    pub fields: crate::base::named::Named<String>,
    /// The visitor's arm, when an experiment runs on this slot (runtimes report the exposure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<Assignment>,
    /// Leave the slot as the page was served: its rules call `matches()`, which only the edge
    /// evaluates (a runtime without regular expressions: the browser's production build).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep: bool,
}

/// Why a decision came out as it did (`"trace": true` in the request).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Every segment of the site for this visitor.
    pub segments: crate::base::named::Named<bool>,
    pub slots: Vec<SlotTrace>,
    pub lists: Vec<ListTrace>,
    pub recs: Vec<RecsTrace>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotTrace {
    pub slot: String,
    /// Every variant, in configuration order, with what its rule gave.
    pub variants: Vec<RuleTrace>,
    pub chosen: Option<String>,
    /// In words: why `chosen` (or no variant) won.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<ExperimentTrace>,
}

/// One rule's evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleTrace {
    pub id: String,
    /// The rule's source; empty for "always".
    pub when: String,
    /// `"true"`, `"false"`, `"error: ..."` (counts as false), or `"not evaluated"` (schedule).
    pub value: String,
    /// `"active"`, `"not started"` or `"ended"`.
    pub schedule: String,
    pub priority: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentTrace {
    pub experiment: String,
    /// `"assigned"`, or why not: `"no consent"`, `"no visitor id"`, `"not in audience"`,
    /// `"audience error: ..."`, `"not started"`, `"ended"`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<Assignment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListTrace {
    pub list: String,
    pub rules: Vec<RuleTrace>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<ExperimentTrace>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecsTrace {
    pub widget: String,
    pub strategy: Strategy,
    /// `"markup"` or `"config"` (the widget's settings came from `recs.widgets`).
    pub settings: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<ExperimentTrace>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListDecision {
    pub list: String,
    /// The decided order.
    pub items: Vec<String>,
    /// Sort key per input item, in input order: a stable ascending sort by key gives `items`.
    /// The edge writes these as CSS `order` so it never has to buffer the list.
    pub keys: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<Assignment>,
    /// Leave the list as the page was served (see [`SlotDecision::keep`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecsDecision {
    pub widget: String,
    /// `None` for a widget whose strategy this version does not know: it is left alone (`keep`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    pub items: Vec<RecItem>,
    /// Leave the widget as the shop served it (an experiment's default arm or holdout).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<Assignment>,
}

impl Decision {
    /// The decision as JSON (docs/formats.md), as every runtime hands it over.
    pub fn to_json(&self) -> String {
        let mut w = Writer::default();
        w.obj(|w| {
            w.key("v").int(1);
            w.key("slots").arr(&self.slots, |w, s| {
                w.obj(|w| {
                    w.key("slot").str(&s.slot);
                    w.key("variant").opt_str(s.variant.as_deref());
                    w.key("fields").str_map(&s.fields);
                    assignment(w, s.experiment.as_ref());
                    keep(w, s.keep);
                })
            });
            w.key("lists").arr(&self.lists, |w, l| {
                w.obj(|w| {
                    w.key("list").str(&l.list);
                    w.key("items").strs(&l.items);
                    w.key("keys").arr(&l.keys, |w, k| w.int(*k));
                    assignment(w, l.experiment.as_ref());
                    keep(w, l.keep);
                })
            });
            w.key("recs").arr(&self.recs, |w, r| {
                w.obj(|w| {
                    w.key("widget").str(&r.widget);
                    if let Some(s) = r.strategy {
                        w.key("strategy").str(s.name());
                    }
                    w.key("items").arr(&r.items, |w, i| {
                        w.obj(|w| {
                            for (k, v) in [
                                ("id", &i.id),
                                ("title", &i.title),
                                ("link", &i.link),
                                ("price", &i.price),
                                ("image_link", &i.image_link),
                                ("product_type", &i.product_type),
                                ("brand", &i.brand),
                            ] {
                                w.key(k).str(v);
                            }
                        })
                    });
                    keep(w, r.keep);
                    assignment(w, r.experiment.as_ref());
                })
            });
            #[cfg(feature = "trace")]
            if let Some(t) = &self.trace {
                w.key("trace").obj(|w| t.write(w));
            }
        });
        w.finish()
    }
}

/// `"experiment": {...}`, left out when there is none.
fn assignment(w: &mut Writer, a: Option<&Assignment>) {
    if let Some(a) = a {
        w.key("experiment").obj(|w| assignment_fields(w, a));
    }
}

fn assignment_fields(w: &mut Writer, a: &Assignment) {
    w.key("experiment").str(&a.experiment);
    w.key("arm").str(&a.arm);
    w.key("holdout").bool(a.holdout);
    w.key("bucket").num(a.bucket);
}

/// `"keep": true`, left out when false.
fn keep(w: &mut Writer, keep: bool) {
    if keep {
        w.key("keep").bool(true);
    }
}

#[cfg(feature = "trace")]
impl Trace {
    fn write(&self, w: &mut Writer) {
        let rules = |w: &mut Writer, rules: &[RuleTrace]| {
            w.arr(rules, |w, r| {
                w.obj(|w| {
                    w.key("id").str(&r.id);
                    w.key("when").str(&r.when);
                    w.key("value").str(&r.value);
                    w.key("schedule").str(&r.schedule);
                    w.key("priority").int(r.priority);
                })
            })
        };
        let experiment = |w: &mut Writer, e: Option<&ExperimentTrace>| {
            if let Some(e) = e {
                w.key("experiment").obj(|w| {
                    w.key("experiment").str(&e.experiment);
                    w.key("status").str(&e.status);
                    if let Some(a) = &e.assignment {
                        w.key("assignment").obj(|w| assignment_fields(w, a));
                    }
                });
            }
        };
        w.key("segments").obj(|w| {
            for (k, v) in &self.segments {
                w.key(k).bool(*v);
            }
        });
        w.key("slots").arr(&self.slots, |w, s| {
            w.obj(|w| {
                w.key("slot").str(&s.slot);
                rules(w.key("variants"), &s.variants);
                w.key("chosen").opt_str(s.chosen.as_deref());
                w.key("reason").str(&s.reason);
                experiment(w, s.experiment.as_ref());
            })
        });
        w.key("lists").arr(&self.lists, |w, l| {
            w.obj(|w| {
                w.key("list").str(&l.list);
                rules(w.key("rules"), &l.rules);
                experiment(w, l.experiment.as_ref());
            })
        });
        w.key("recs").arr(&self.recs, |w, r| {
            w.obj(|w| {
                w.key("widget").str(&r.widget);
                w.key("strategy").str(r.strategy.name());
                w.key("settings").str(&r.settings);
                experiment(w, r.experiment.as_ref());
            })
        });
    }
}

/// A recommended product's display fields: text for the page, never HTML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecItem {
    pub id: String,
    pub title: String,
    pub link: String,
    pub price: String,
    pub image_link: String,
    pub product_type: String,
    pub brand: String,
}

impl RecItem {
    /// The value of a `data-vitrine-bind*` field; `None` for unknown names.
    pub fn field(&self, name: &str) -> Option<&str> {
        Some(match name {
            "id" => &self.id,
            "title" => &self.title,
            "link" => &self.link,
            "price" => &self.price,
            "image_link" => &self.image_link,
            "product_type" => &self.product_type,
            "brand" => &self.brand,
            _ => return None,
        })
    }
}

/// The trace's reason for a slot a runtime without every function leaves to the edge.
const EDGE_ONLY: &str =
    "left as served: a rule deciding this slot calls a function only the edge evaluates (matches(), format(), or text editing such as split() or substring())";

/// `trace` where this build explains decisions (the `trace` feature), else `None`: without it, the
/// explaining code is left out (the browser's production build; its trace is the developer build's).
fn tracing(trace: Option<&mut Trace>) -> Option<&mut Trace> {
    if cfg!(feature = "trace") {
        trace
    } else {
        None
    }
}

/// " (listed first among equal priorities)" when another holding variant had the same priority.
fn tie_note(variants: &[crate::rules::site::Variant], values: &[Option<Result<bool, String>>], chosen: usize) -> &'static str {
    let tie =
        variants.iter().zip(values).enumerate().any(|(i, (v, val))| i != chosen && v.priority == variants[chosen].priority && matches!(val, Some(Ok(true))));
    if tie {
        " (listed first among equal priorities)"
    } else {
        ""
    }
}

/// Whether `product_type` is `category` or below it (`Home > Candles` is in `Home`).
fn in_category(product_type: &str, category: &str) -> bool {
    product_type == category || product_type.strip_prefix(category).is_some_and(|rest| rest.trim_start().starts_with('>'))
}

impl Context<'_> {
    /// What decisions read of this session ([`LiveProfile::session_in_use`]: nothing before
    /// consent, unless the site opts in).
    pub(crate) fn session(&self) -> &Session {
        self.profile.session_in_use(self.bundle.site.session_before_consent)
    }

    /// The visitor's arm in `exp`, or why they are not in it.
    pub(crate) fn assign(&self, exp: &Experiment, vars: &Vars) -> ExperimentTrace {
        let out = |status: &str| ExperimentTrace { experiment: exp.id.clone(), status: status.to_owned(), assignment: None };
        let state = exp.schedule.state(self.now);
        if state != "active" {
            return out(state);
        }
        // Assignment reads the visitor's id and exposures are tracking: consent first.
        if !self.profile.personalized() {
            return out("no consent");
        }
        let id = &self.profile.snapshot.id;
        if id.is_empty() {
            return out("no visitor id");
        }
        if let Some(audience) = &exp.audience {
            match audience.eval(vars) {
                Ok(true) => {}
                Ok(false) => return out("not in audience"),
                Err(e) => return out(&format!("audience error: {e}")),
            }
        }
        let bucket = experiment::bucket(&exp.salt, id);
        let mut weights = Vec::with_capacity(exp.arms.len());
        for a in &exp.arms {
            weights.push(a.weight);
        }
        let arm = experiment::pick(bucket, exp.holdout, &weights);
        let assignment = Assignment {
            experiment: exp.id.clone(),
            arm: arm.and_then(|i| exp.arms.get(i)).map_or_else(|| "holdout".to_owned(), |a| a.id.clone()),
            holdout: arm.is_none(),
            bucket,
        };
        ExperimentTrace { experiment: exp.id.clone(), status: "assigned".into(), assignment: Some(assignment) }
    }

    /// The experiment on `target` for this visitor: its trace, and the arm they got (`None` for
    /// the holdout or when not assigned).
    fn experiment_for(&self, target: &Target, vars: &Vars) -> Option<(&Experiment, ExperimentTrace)> {
        let exp = self.bundle.site.experiment(target)?;
        Some((exp, self.assign(exp, vars)))
    }

    /// The slot's variant: among the variants whose schedule is live and whose rule holds, the
    /// highest priority (ties: the one listed first), unless an experiment decides otherwise.
    pub fn decide_slot(&self, slot: &str) -> SlotDecision {
        self.slot_with(&Vars::new(self), slot, None)
    }

    /// [`Context::decide_slot`] with the page's variables kept in `pv`: the page-scoped entry
    /// point of a runtime that decides element by element (the edge). A whole request decides
    /// with one set of variables already ([`Context::decide`]).
    pub fn decide_slot_on(&self, slot: &str, pv: &PageVars) -> SlotDecision {
        self.slot_with(&Vars::on_page(self, pv), slot, None)
    }

    /// Whether this runtime leaves `target` to the edge: it has no `matches()`, and a rule that
    /// decides the placement calls it (docs/site.md, "Rules the browser leaves to the edge").
    fn edge_decides(&self, target: &Target) -> bool {
        !crate::cel::EDGE_FUNCTIONS && self.bundle.site.edge_only(target)
    }

    fn slot_with(&self, vars: &Vars, slot: &str, trace: Option<&mut Trace>) -> SlotDecision {
        let trace = tracing(trace);
        let target = Target::Slot(slot.to_owned());
        if self.edge_decides(&target) {
            if let Some(trace) = trace {
                let reason = EDGE_ONLY.to_owned();
                trace.slots.push(SlotTrace { slot: slot.to_owned(), variants: Vec::new(), chosen: None, reason, experiment: None });
            }
            return SlotDecision { slot: slot.to_owned(), variant: None, fields: Default::default(), experiment: None, keep: true };
        }
        let variants = self.bundle.site.slots.get(slot).map_or(&[][..], Vec::as_slice);
        let exp = self.experiment_for(&target, vars);
        let assignment = exp.as_ref().and_then(|(_, t)| t.assignment.clone());
        let arm = exp.as_ref().zip(assignment.as_ref()).and_then(|((e, _), a)| e.arms.iter().find(|x| x.id == a.arm));
        let forced_default = assignment.as_ref().is_some_and(|a| a.holdout) || arm.is_some_and(|a| a.default);
        let forced_variant = arm.and_then(|a| a.variant.as_deref());
        // Highest priority first, listed order within a priority.
        let mut order: Vec<usize> = (0..variants.len()).collect();
        crate::sort::sort_by_key(&mut order, |&i| std::cmp::Reverse(variants[i].priority));
        let tracing = trace.is_some();
        let mut values: Vec<Option<Result<bool, String>>> = vec![None; variants.len()];
        let mut chosen: Option<usize> = None;
        if forced_default {
        } else if let Some(id) = forced_variant {
            chosen = variants.iter().position(|v| v.id == id && v.schedule.state(self.now) == "active");
        } else {
            for &i in &order {
                let v = &variants[i];
                if v.schedule.state(self.now) != "active" {
                    continue;
                }
                let value = v.when.as_ref().map_or(Ok(true), |c| c.eval(vars));
                let holds = value == Ok(true);
                values[i] = Some(value);
                if holds && chosen.is_none() {
                    chosen = Some(i);
                    if !tracing {
                        break;
                    }
                }
            }
        }
        if let Some(trace) = trace {
            let rules = variants
                .iter()
                .zip(&values)
                .map(|(v, value)| RuleTrace {
                    id: v.id.clone(),
                    when: v.when.as_ref().map_or(String::new(), |c| c.source().to_owned()),
                    value: match value {
                        Some(Ok(b)) => b.to_string(),
                        Some(Err(e)) => format!("error: {e}"),
                        None => "not evaluated".into(),
                    },
                    schedule: v.schedule.state(self.now).into(),
                    priority: v.priority,
                })
                .collect::<Vec<_>>();
            let holding = values.iter().filter(|v| matches!(v, Some(Ok(true)))).count();
            let reason = match (&assignment, chosen) {
                (Some(a), _) if forced_default => {
                    format!("experiment {}: {} gets the shop's default", a.experiment, if a.holdout { "the holdout" } else { "this arm" })
                }
                (Some(a), Some(i)) if forced_variant.is_some() => format!("experiment {} arm {}: variant {}", a.experiment, a.arm, variants[i].id),
                (Some(a), None) if forced_variant.is_some() => {
                    format!("experiment {} arm {}: its variant is not live, so the shop's default", a.experiment, a.arm)
                }
                (_, Some(i)) if holding > 1 => format!(
                    "{} of {} variants hold; {} has the highest priority ({}){}",
                    holding,
                    variants.len(),
                    variants[i].id,
                    variants[i].priority,
                    tie_note(variants, &values, i)
                ),
                (_, Some(i)) => format!("{} is the only variant that holds", variants[i].id),
                (_, None) if variants.is_empty() => "no variants configured for this slot".into(),
                (_, None) => "no variant holds: the shop's default content stays".into(),
            };
            trace.slots.push(SlotTrace {
                slot: slot.to_owned(),
                variants: rules,
                chosen: chosen.map(|i| variants[i].id.clone()),
                reason,
                experiment: exp.map(|(_, t)| t),
            });
        }
        match chosen.map(|i| &variants[i]) {
            Some(v) => SlotDecision {
                slot: slot.to_owned(),
                variant: Some(v.id.clone()),
                fields: {
                    // In the content's name order, as `Named` keeps its fields.
                    let mut fields = crate::base::named::Named::default();
                    for (k, t) in &v.content {
                        let text = t.render(vars, &self.bundle.site.money);
                        if !is_href_field(k) || is_safe_url(&text) {
                            fields.push(k.clone(), text);
                        }
                    }
                    fields
                },
                experiment: assignment,
                keep: false,
            },
            None => SlotDecision { slot: slot.to_owned(), variant: None, fields: Default::default(), experiment: assignment, keep: false },
        }
    }

    /// Reorders by category affinity (plus the boosts of the list rules that hold), stable: ties
    /// keep the shop's order. Rules pin items to the top and bury them at the bottom.
    pub fn rank_list(&self, list: &str, items: &[String]) -> ListDecision {
        self.list_with(&Vars::new(self), list, items, None)
    }

    /// [`Context::rank_list`] with the page's variables kept in `pv` (see [`Context::decide_slot_on`]).
    pub fn rank_list_on(&self, list: &str, items: &[String], pv: &PageVars) -> ListDecision {
        self.list_with(&Vars::on_page(self, pv), list, items, None)
    }

    fn list_with(&self, vars: &Vars, list: &str, items: &[String], trace: Option<&mut Trace>) -> ListDecision {
        let trace = tracing(trace);
        let target = Target::List(list.to_owned());
        if self.edge_decides(&target) {
            if let Some(trace) = trace {
                trace.lists.push(ListTrace { list: list.to_owned(), rules: Vec::new(), experiment: None });
            }
            return ListDecision { list: list.to_owned(), items: items.to_vec(), keys: vec![0; items.len()], experiment: None, keep: true };
        }
        let site = &self.bundle.site;
        let exp = self.experiment_for(&target, vars);
        let assignment = exp.as_ref().and_then(|(_, t)| t.assignment.clone());
        let arm = exp.as_ref().zip(assignment.as_ref()).and_then(|((e, _), a)| e.arms.iter().find(|x| x.id == a.arm));
        let keep = assignment.as_ref().is_some_and(|a| a.holdout) || arm.is_some_and(|a| a.default);
        let mut rule_traces = Vec::new();
        // Category boosts summed rule by rule; a few categories, so a list (not another map type).
        let mut boosts: Vec<(&str, f64)> = Vec::new();
        let mut pin: Vec<&str> = Vec::new();
        let mut bury: Vec<&str> = Vec::new();
        for rule in site.list_rules.iter().filter(|r| r.list.as_deref().is_none_or(|l| l == list)) {
            let state = rule.schedule.state(self.now);
            let value = if keep || state != "active" { None } else { Some(rule.when.as_ref().map_or(Ok(true), |c| c.eval(vars))) };
            if value == Some(Ok(true)) {
                for (cat, w) in &rule.boost {
                    match boosts.iter_mut().find(|(c, _)| c == cat) {
                        Some((_, sum)) => *sum += w,
                        None => boosts.push((cat, 0.0 + w)),
                    }
                }
                for p in &rule.pin {
                    if !pin.contains(&p.as_str()) {
                        pin.push(p);
                    }
                }
                for b in &rule.bury {
                    if !bury.contains(&b.as_str()) {
                        bury.push(b);
                    }
                }
            }
            if trace.is_some() {
                rule_traces.push(RuleTrace {
                    id: rule.id.clone(),
                    when: rule.when.as_ref().map_or(String::new(), |c| c.source().to_owned()),
                    value: match value {
                        Some(Ok(b)) => b.to_string(),
                        Some(Err(e)) => format!("error: {e}"),
                        None => "not evaluated".into(),
                    },
                    schedule: state.into(),
                    priority: 0,
                });
            }
        }
        if let Some(trace) = trace {
            trace.lists.push(ListTrace { list: list.to_owned(), rules: rule_traces, experiment: exp.map(|(_, t)| t) });
        }
        if keep {
            return ListDecision { list: list.to_owned(), items: items.to_vec(), keys: vec![0; items.len()], experiment: assignment, keep: false };
        }
        let affinities = self.profile.affinities(&self.bundle.catalog, self.bundle.site.session_before_consent);
        let boost = site.list_boost;
        // An item or a session event whose entry is still to come (a partial catalog): the list
        // stays as served.
        let catalog = &self.bundle.catalog;
        let mut incomplete = self.session().events.iter().any(|e| catalog.pending(&e.id));
        // CSS `order` is a 32-bit integer: pinned and buried items sit beyond any affinity key.
        const EDGE: i64 = 2_000_000_000;
        // Loops, not `collect()`: each of those is its own function in the browser's Wasm.
        let mut keys: Vec<i64> = Vec::with_capacity(items.len());
        for id in items {
            keys.push('key: {
                if let Some(p) = pin.iter().position(|p| p == id) {
                    break 'key -EDGE + p as i64;
                }
                if let Some(b) = bury.iter().position(|b| b == id) {
                    break 'key EDGE - bury.len() as i64 + b as i64;
                }
                let category = match self.bundle.catalog.get(id) {
                    Some(p) => p.product_type.as_str(),
                    None => {
                        incomplete |= self.bundle.catalog.pending(id);
                        ""
                    }
                };
                let a = affinities.get(category) + boosts.iter().find(|(c, _)| *c == category).map_or(0.0, |(_, w)| *w);
                // Quantized so every runtime sorts on the same integers.
                (-((a * boost * 1000.0).round())).clamp(-1e9, 1e9) as i64
            });
        }
        if incomplete {
            return ListDecision { list: list.to_owned(), items: items.to_vec(), keys: vec![0; items.len()], experiment: assignment, keep: true };
        }
        let mut order: Vec<usize> = (0..items.len()).collect();
        crate::sort::sort_by_key(&mut order, |&i| keys[i]);
        let mut ordered = Vec::with_capacity(order.len());
        for i in order {
            ordered.push(items[i].clone());
        }
        ListDecision { list: list.to_owned(), items: ordered, keys, experiment: assignment, keep: false }
    }

    /// Recommendations: never the current product, what is in the cart, what is out of stock or
    /// outside the widget's filters; for `for_you`, never what the visitor already bought. A widget
    /// configured in `recs.widgets` takes its settings from there (markup fills what it leaves out).
    pub fn recommend(&self, req: &RecsRequest) -> RecsDecision {
        self.recs_with(&Vars::new(self), req, None)
    }

    /// [`Context::recommend`] with the page's variables kept in `pv` (see [`Context::decide_slot_on`]).
    pub fn recommend_on(&self, req: &RecsRequest, pv: &PageVars) -> RecsDecision {
        self.recs_with(&Vars::on_page(self, pv), req, None)
    }

    /// The widget as it will be decided: `recs.widgets` settings over the markup's, an experiment
    /// arm's strategy over both.
    fn plan_recs(&self, vars: &Vars, req: &RecsRequest) -> RecsPlan {
        let configured = self.bundle.site.widgets.get(&req.widget);
        let mut req = req.clone();
        if let Some(w) = configured {
            req.strategy = w.strategy;
            req.k = w.k.or(req.k);
            req.category = w.category.clone().or(req.category);
            req.price_min = w.price_min.or(req.price_min);
            req.price_max = w.price_max.or(req.price_max);
            req.max_per_category = w.max_per_category.or(req.max_per_category);
        }
        let target = Target::Widget(req.widget.clone());
        if self.edge_decides(&target) {
            // The experiment's audience calls `matches()`: the widget stays as served.
            return RecsPlan { req, configured: configured.is_some(), trace: None, assignment: None, keep: true };
        }
        let exp = self.experiment_for(&target, vars);
        let assignment = exp.as_ref().and_then(|(_, t)| t.assignment.clone());
        let arm = exp.as_ref().zip(assignment.as_ref()).and_then(|((e, _), a)| e.arms.iter().find(|x| x.id == a.arm));
        let keep = assignment.as_ref().is_some_and(|a| a.holdout) || arm.is_some_and(|a| a.default);
        if let Some(s) = arm.and_then(|a| a.strategy) {
            req.strategy = s;
        }
        RecsPlan { req, configured: configured.is_some(), trace: exp.map(|(_, t)| t), assignment, keep }
    }

    fn recs_with(&self, vars: &Vars, req: &RecsRequest, trace: Option<&mut Trace>) -> RecsDecision {
        let trace = tracing(trace);
        let RecsPlan { req, configured, trace: exp, assignment, keep } = self.plan_recs(vars, req);
        if let Some(trace) = trace {
            trace.recs.push(RecsTrace {
                widget: req.widget.clone(),
                strategy: req.strategy,
                settings: if configured { "config" } else { "markup" }.into(),
                experiment: exp,
            });
        }
        // Model rows still to be loaded (a partial model) keep the widget as served, as entries do.
        let rows_missing =
            self.bundle.model.shard_layout().is_some() && !self.bundle.model.missing_shards(self.model_needs(req.strategy, req.product.as_deref())).is_empty();
        if keep || rows_missing {
            return RecsDecision { widget: req.widget, strategy: Some(req.strategy), items: Vec::new(), keep: true, experiment: assignment };
        }
        let mut decision = self.recommend_items(&req);
        decision.experiment = assignment;
        decision
    }

    fn recommend_items(&self, req: &RecsRequest) -> RecsDecision {
        let k = req.k.unwrap_or(self.bundle.site.recs_k).clamp(1, 50);
        let catalog = &self.bundle.catalog;
        let model = &self.bundle.model;
        let current = req.product.as_deref().or(self.page.product.as_deref());
        // Loops, not `collect()`: each of those is its own function in the browser's Wasm.
        let mut purchased: Vec<&str> = Vec::new();
        if req.strategy == Strategy::ForYou {
            for id in self.profile.purchased(self.bundle.site.session_before_consent) {
                purchased.push(id);
            }
        }
        let accept = |p: &Product| {
            Some(p.id.as_str()) != current
                && p.availability != Availability::OutOfStock
                && !self.session().cart.contains(&p.id)
                && !purchased.contains(&p.id.as_str())
                && req.category.as_deref().is_none_or(|c| in_category(&p.product_type, c))
                && req.price_min.is_none_or(|min| p.price.amount() >= min)
                && req.price_max.is_none_or(|max| p.price.amount() <= max)
        };
        let mut primary: Vec<&str> = Vec::new();
        match (req.strategy, current) {
            (Strategy::AlsoBought, Some(p)) => primary = model.also_bought_ids(p),
            (Strategy::AlsoViewed, Some(p)) => primary = model.also_viewed_ids(p),
            (Strategy::Similar, Some(p)) => primary = catalog.similar_to(p),
            (Strategy::AlsoBought | Strategy::AlsoViewed | Strategy::Similar, None) | (Strategy::Popular, _) => {}
            (Strategy::ForYou, _) => {
                let mut history: Vec<&str> = Vec::new();
                for e in self.profile.history(self.bundle.site.session_before_consent) {
                    history.push(&e.id);
                }
                primary = model.ranked_for_you(&history);
            }
            (Strategy::Trending, _) => primary = model.trending_ids(),
            (Strategy::RecentlyViewed, _) => {
                for e in self.profile.history(self.bundle.site.session_before_consent).rev() {
                    if e.event == ItemEvent::View && !primary.contains(&e.id.as_str()) {
                        primary.push(&e.id);
                    }
                }
            }
        }
        let ids = || primary.iter().copied().chain(model.popular());
        let mut chosen: Vec<&Product> = Vec::with_capacity(k);
        // A partial catalog (the browser's) holds a place for each candidate whose entry is still
        // to be fetched, so that a round of fetches asks for the entries that can fill the widget,
        // not for every candidate; the runtime decides again once they are loaded. Filters and the
        // category cap reject some, and each round is a trip (the snippet makes at most 4): per
        // open place, twice as many candidates as the walk so far looked at per one it chose
        // (counting 4 more of each, so that a few rejections do not double a round), at most 8.
        // A visitor whose history is mostly one category settles in 3 rounds, not 6.
        let (mut pending, mut seen): (usize, usize) = (0, 0);
        for id in ids() {
            let per_place = (2 * (seen + 4)).div_ceil(chosen.len() + 4).min(8);
            if pending + 1 >= per_place * k.saturating_sub(chosen.len()) {
                break;
            }
            let Some(p) = catalog.get(id) else {
                pending += usize::from(catalog.pending(id));
                continue;
            };
            seen += 1;
            if !accept(p) {
                continue;
            }
            // k is at most 50, so counting over `chosen` beats a map (and its code in the Wasm).
            let same_category = chosen.iter().filter(|c| c.product_type == p.product_type).count();
            if chosen.iter().all(|c| c.id != p.id) && req.max_per_category.is_none_or(|max| same_category < max) {
                chosen.push(p);
            }
        }
        // Diversity yields to a full widget: top up, in the same order, ignoring the cap. (Only
        // if the walk above ran out: checked first, so that it looks nothing up otherwise.)
        let short = pending == 0 && chosen.len() < k;
        for p in ids().take_while(|_| short).filter_map(|id| catalog.get(id)).filter(|p| accept(p)) {
            if chosen.len() >= k {
                break;
            }
            if chosen.iter().all(|c| c.id != p.id) {
                chosen.push(p);
            }
        }
        // Entries still to come: deciding now could show what the full catalog would not. The
        // widget stays as served until they are loaded (a runtime that gives up keeps it).
        if pending > 0 || req.strategy == Strategy::Similar && current.is_some_and(|p| catalog.similar_pending(p)) {
            return RecsDecision { widget: req.widget.clone(), strategy: Some(req.strategy), items: Vec::new(), keep: true, experiment: None };
        }
        let mut items = Vec::with_capacity(chosen.len());
        for p in chosen {
            items.push(RecItem {
                id: p.id.clone(),
                title: p.title.clone(),
                link: p.link.as_str().to_owned(),
                price: self.bundle.site.money.format(&p.price),
                image_link: p.image_link.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_default(),
                product_type: p.product_type.clone(),
                brand: p.brand.clone(),
            });
        }
        RecsDecision { widget: req.widget.clone(), strategy: Some(req.strategy), items, keep: false, experiment: None }
    }

    /// The items whose model rows `req` reads: the current product for also_bought and also_viewed,
    /// the history for for_you — after widget settings and experiment arms have chosen each widget's
    /// strategy, as deciding will. A runtime with a sharded model loads their shards before
    /// deciding ([`Model::missing_shards`]); the edge names them for the browser to preload.
    pub fn model_items<'r>(&'r self, req: &'r Request) -> Vec<(&'r str, Table)> {
        self.model_items_with(&Vars::new(self), req)
    }

    fn model_items_with<'r>(&'r self, vars: &Vars, req: &'r Request) -> Vec<(&'r str, Table)> {
        // A loop, not `collect()`: that is its own function in the browser's Wasm.
        let mut needs = Vec::new();
        for r in &req.recs {
            needs.append(&mut self.rec_model_items_with(vars, r));
        }
        needs
    }

    /// [`Context::model_items`] of one widget.
    pub fn rec_model_items<'r>(&'r self, r: &'r RecsRequest) -> Vec<(&'r str, Table)> {
        self.rec_model_items_with(&Vars::new(self), r)
    }

    /// [`Context::rec_model_items`] with the page's variables kept in `pv`.
    pub fn rec_model_items_on<'r>(&'r self, r: &'r RecsRequest, pv: &PageVars) -> Vec<(&'r str, Table)> {
        self.rec_model_items_with(&Vars::on_page(self, pv), r)
    }

    fn rec_model_items_with<'r>(&'r self, vars: &Vars, r: &'r RecsRequest) -> Vec<(&'r str, Table)> {
        let plan = self.plan_recs(vars, r);
        if plan.keep {
            return Vec::new();
        }
        self.model_needs(plan.req.strategy, r.product.as_deref())
    }

    /// The model rows a widget of `strategy` reads (its product, else the page's).
    fn model_needs<'r>(&'r self, strategy: Strategy, product: Option<&'r str>) -> Vec<(&'r str, Table)> {
        let product = product.or(self.page.product.as_deref());
        let mut needs = Vec::new();
        match (strategy, product) {
            (Strategy::AlsoBought, Some(p)) => needs.push((p, Table::Bought)),
            (Strategy::AlsoViewed, Some(p)) => needs.push((p, Table::Viewed)),
            (Strategy::ForYou, _) => {
                for e in self.profile.history(self.bundle.site.session_before_consent) {
                    needs.push((e.id.as_str(), Table::Bought));
                }
            }
            _ => {}
        }
        needs
    }

    /// The shard files (relative to the bundle) that deciding `req` still needs and that are not
    /// loaded: the model rows its widgets read, and the catalog entries and similar rows a
    /// decision looked up. Fetch them, add them ([`Bundle::add_file`]) and ask again until nothing
    /// is missing: that decision is the full bundle's. Empty for a full bundle.
    pub fn missing(&self, req: &Request) -> Vec<String> {
        self.missing_with(&Vars::new(self), req)
    }

    /// [`Context::missing`] reusing the visitor's variables from `cache` (clear it after adding files).
    pub fn missing_cached(&self, req: &Request, cache: &VarsCache) -> Vec<String> {
        self.missing_with(&Vars::cached(self, cache), req)
    }

    fn missing_with(&self, vars: &Vars, req: &Request) -> Vec<String> {
        // Deciding is what knows which entries it reads: decide, and keep only what it missed.
        if self.bundle.catalog.shard_layout().is_some() {
            self.bundle.catalog.take_missing();
            self.decide_with(vars, req);
        }
        self.missed_with(vars, req)
    }

    /// A decision and what it missed ([`Context::missing`]) in one: a runtime applies the decision
    /// when the list is empty, and otherwise fetches the files and asks again.
    pub fn decide_settling(&self, req: &Request, cache: &VarsCache) -> (Decision, Vec<String>) {
        let vars = Vars::cached(self, cache);
        self.bundle.catalog.take_missing();
        let decision = self.decide_with(&vars, req);
        (decision, self.missed_with(&vars, req))
    }

    /// The model rows `req`'s widgets read that are not loaded, and the catalog files the lookups
    /// since the catalog's log was last taken missed.
    fn missed_with(&self, vars: &Vars, req: &Request) -> Vec<String> {
        let (model, catalog) = (&self.bundle.model, &self.bundle.catalog);
        let mut out = Vec::new();
        if let Some(l) = model.shard_layout() {
            for n in model.missing_shards(self.model_items_with(vars, req)) {
                out.push([l.base.as_str(), &n].concat());
            }
        }
        if let Some(l) = catalog.shard_layout() {
            for n in catalog.take_missing() {
                out.push([l.base.as_str(), &n].concat());
            }
        }
        out
    }

    /// Every placement the request names, in request order, with a trace if asked for.
    pub fn decide(&self, req: &Request) -> Decision {
        self.decide_with(&Vars::new(self), req)
    }

    /// [`Context::decide`] reusing the visitor's variables from `cache` (see [`VarsCache`]).
    pub fn decide_cached(&self, req: &Request, cache: &VarsCache) -> Decision {
        self.decide_with(&Vars::cached(self, cache), req)
    }

    pub(crate) fn decide_with(&self, vars: &Vars, req: &Request) -> Decision {
        let mut trace = (req.trace && cfg!(feature = "trace")).then(Trace::default);
        // Loops, not `collect()`: each of those is its own function in the browser's Wasm.
        let mut slots = Vec::with_capacity(req.slots.len());
        for s in &req.slots {
            slots.push(self.slot_with(vars, s, trace.as_mut()));
        }
        let mut lists = Vec::with_capacity(req.lists.len());
        for l in &req.lists {
            lists.push(self.list_with(vars, &l.list, &l.items, trace.as_mut()));
        }
        let mut recs = Vec::with_capacity(req.recs.len());
        for r in &req.recs {
            recs.push(self.recs_with(vars, r, trace.as_mut()));
        }
        if let Some(t) = &mut trace {
            t.segments = vars.segments().clone();
        }
        Decision { v: V1, slots, lists, recs, trace }
    }
}

#[cfg(test)]
mod tests {
    use super::Bundle;

    /// In an edge bundle, the browser's shard layout travels as `browser_shards`; a bad one names its field.
    #[test]
    fn an_edge_bundle_names_the_browsers_shards() {
        let model = r#"{"v":1,"kind":"item-knn","items":[],"neighbors":[],"popular":[]}"#;
        let bundle = |shards: &str| format!(r#"{{"v":1,"site":{{"v":1}},"catalog":{{"v":1,"products":[]}},"model":{model},"browser_shards":{shards}}}"#);
        let b = Bundle::from_json(&bundle(r#"{"count":8,"base":"m-0123456789abcdef/","views":true}"#)).unwrap();
        assert_eq!(b.browser_shards.as_ref().map(|l| l.count), Some(8));
        let e = Bundle::from_json(&bundle(r#"{"count":0,"base":"m-1/"}"#)).unwrap_err();
        assert_eq!((e.format, e.field.as_str()), ("bundle", "browser_shards.count"), "{e}");
        let e = Bundle::from_json(&bundle(r#"{"count":8,"base":"../x/"}"#)).unwrap_err();
        assert_eq!(e.field, "browser_shards.base", "{e}");
    }
}
