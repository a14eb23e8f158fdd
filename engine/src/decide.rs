//! Decisions: which variant fills a slot, how a list is ordered, which products a widget shows.
//! One [`Bundle`] (site configuration + catalog + model) serves every request; a [`Context`] is one
//! visitor on one page at one instant.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{is_safe_url, Availability, Catalog, Price, Product};
use crate::condition::{Env, Value};
use crate::error::{FormatError, V1};
use crate::model::Model;
use crate::shard::Table;
use crate::profile::{ItemEvent, LiveProfile, Trait};
use crate::site::SiteConfig;
use crate::time::Seconds;

/// Everything a runtime loads once: compiled site configuration, catalog and model.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub site: SiteConfig,
    pub catalog: Catalog,
    pub model: Model,
}

impl Bundle {
    /// Reads the compiled bundle `{"v":1,"site":{..},"catalog":{..},"model":{..}}`.
    pub fn from_json(text: &str) -> Result<Bundle, FormatError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Doc<'a> {
            #[allow(dead_code)] // checked by its own Deserialize
            v: V1,
            #[serde(borrow)]
            site: &'a serde_json::value::RawValue,
            #[serde(borrow)]
            catalog: &'a serde_json::value::RawValue,
            #[serde(borrow)]
            model: &'a serde_json::value::RawValue,
        }
        let doc: Doc = crate::error::from_json("bundle", text)?;
        let nest = |e: FormatError| FormatError { format: "bundle", ..e };
        Ok(Bundle {
            site: SiteConfig::from_json(doc.site.get()).map_err(|e| FormatError { field: prefix("site", &e.field), ..nest(e) })?,
            catalog: Catalog::from_json(doc.catalog.get()).map_err(|e| FormatError { field: prefix("catalog", &e.field), ..nest(e) })?,
            model: Model::from_json(doc.model.get()).map_err(|e| FormatError { field: prefix("model", &e.field), ..nest(e) })?,
        })
    }

    /// Assembles a bundle from the source texts of its three parts, which the caller has already
    /// read with [`SiteConfig::from_json`], [`Catalog::from_json`] and [`Model::from_json`] (as
    /// `vitrine bundle` does, to name the offending file in errors).
    pub fn assemble(site: &str, catalog: &str, model: &str) -> String {
        format!("{{\"v\":1,\"site\":{},\"catalog\":{},\"model\":{}}}", site.trim(), catalog.trim(), model.trim())
    }
}

fn prefix(p: &str, field: &str) -> String {
    if field.is_empty() {
        p.to_owned()
    } else {
        format!("{p}.{field}")
    }
}

/// The page being decided for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

impl Env for Context<'_> {
    fn lookup(&self, path: &[String]) -> Value {
        let p = self.profile;
        let snap = &p.snapshot;
        let seg = |i: usize| path.get(i).map(String::as_str);
        match (seg(0), seg(1)) {
            (Some("page"), Some("type")) => Value::Str(self.page.kind.clone()),
            (Some("page"), Some("product")) => self.page.product.clone().map_or(Value::Null, Value::Str),
            (Some("page"), Some("category")) => self.page.category.clone().map_or(Value::Null, Value::Str),
            (Some("session"), Some(field)) => match field {
                "cart" => Value::List(p.session.cart.iter().cloned().map(Value::Str).collect()),
                "cart_size" => Value::Num(p.session.cart.len() as f64),
                "views" => Value::Num(p.session.events.iter().filter(|e| e.event == ItemEvent::View).count() as f64),
                "orders" => Value::Num(f64::from(p.session.orders)),
                "viewed_categories" => {
                    let mut cats: Vec<Value> = Vec::new();
                    for e in &p.session.events {
                        if let Some(prod) = self.bundle.catalog.get(&e.id) {
                            let v = Value::Str(prod.product_type.clone());
                            if !prod.product_type.is_empty() && !cats.contains(&v) {
                                cats.push(v);
                            }
                        }
                    }
                    Value::List(cats)
                }
                _ => Value::Null,
            },
            // Nothing personal is read without consent.
            (Some("profile"), _) if !p.personalized() => Value::Null,
            (Some("profile"), Some(field)) => match (field, seg(2)) {
                ("id", None) => Value::Str(snap.id.clone()),
                ("consent", Some("personalization")) => Value::Bool(snap.consent.personalization),
                ("traits", Some(name)) => match snap.traits.get(name) {
                    Some(Trait::Str(s)) => Value::Str(s.clone()),
                    Some(Trait::Num(n)) => Value::Num(*n),
                    Some(Trait::Bool(b)) => Value::Bool(*b),
                    None => Value::Null,
                },
                ("orders", Some(m)) => {
                    let o = &snap.orders;
                    match m {
                        "count" => Value::Num(f64::from(o.count + p.session.orders)),
                        "revenue" => Value::Num(o.revenue + p.session.revenue),
                        "aov" => Value::Num(o.aov),
                        "first" => o.first.map_or(Value::Null, Value::Time),
                        "last" => o.last.map_or(Value::Null, Value::Time),
                        _ => Value::Null,
                    }
                }
                ("affinities", Some(cat)) => snap.affinities.get(cat).map_or(Value::Null, |a| Value::Num(*a)),
                ("segments", None) => Value::List(snap.segments.iter().cloned().map(Value::Str).collect()),
                ("recent_items", None) => Value::List(snap.recent_items.iter().map(|r| Value::Str(r.id.clone())).collect()),
                _ => Value::Null,
            },
            _ => Value::Null,
        }
    }

    fn now(&self) -> Seconds {
        self.now
    }
}

/// What the page asks for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRequest {
    pub list: String,
    pub items: Vec<String>,
}

/// Where a widget's candidates come from. Every strategy is topped up with popular products, so a
/// widget is never empty while the catalog has something to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Item-to-item neighbours of `product` (customers who bought it also bought).
    AlsoBought,
    /// Neighbours of `product` over view events alone (visitors who viewed it also viewed). A
    /// model trained without views has none, so the widget shows popular products.
    AlsoViewed,
    /// Neighbours of the visitor's whole history, summed (every item counts the same).
    ForYou,
    /// Most distinct buyers.
    #[default]
    Popular,
    /// Time-decayed popularity: what is selling now.
    Trending,
    /// Content similarity to `product`: same category, shared title words, same brand. Works for
    /// products nobody has bought yet.
    Similar,
    /// What the visitor viewed, newest first.
    RecentlyViewed,
}

impl Strategy {
    pub fn parse(s: &str) -> Option<Strategy> {
        match s {
            "also_bought" => Some(Strategy::AlsoBought),
            "also_viewed" => Some(Strategy::AlsoViewed),
            "for_you" => Some(Strategy::ForYou),
            "popular" => Some(Strategy::Popular),
            "trending" => Some(Strategy::Trending),
            "similar" => Some(Strategy::Similar),
            "recently_viewed" => Some(Strategy::RecentlyViewed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

impl RecsRequest {
    /// Reads a widget's `data-vitrine-*` attributes (docs/markup.md); `None` without a known
    /// strategy. `attr` returns an attribute's value by its full name.
    pub fn from_attributes(attr: impl Fn(&str) -> Option<String>) -> Option<RecsRequest> {
        let text = |name: &str| attr(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let number = |name: &str| text(name).and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite());
        Some(RecsRequest {
            widget: text("data-vitrine-recs").unwrap_or_default(),
            strategy: Strategy::parse(&text("data-vitrine-strategy")?)?,
            product: text("data-vitrine-product"),
            k: text("data-vitrine-k").and_then(|k| k.parse().ok()),
            category: text("data-vitrine-filter-category"),
            price_min: number("data-vitrine-price-min"),
            price_max: number("data-vitrine-price-max"),
            max_per_category: text("data-vitrine-max-per-category").and_then(|k| k.parse().ok()),
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotDecision {
    pub slot: String,
    /// `None`: no variant matched, the shop's default content stays.
    pub variant: Option<String>,
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListDecision {
    pub list: String,
    /// The decided order.
    pub items: Vec<String>,
    /// Sort key per input item, in input order: a stable ascending sort by key gives `items`.
    /// The edge writes these as CSS `order` so it never has to buffer the list.
    pub keys: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecsDecision {
    pub widget: String,
    pub strategy: Strategy,
    pub items: Vec<RecItem>,
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

/// Whether `product_type` is `category` or below it (`Home > Candles` is in `Home`).
fn in_category(product_type: &str, category: &str) -> bool {
    product_type == category || product_type.strip_prefix(category).is_some_and(|rest| rest.trim_start().starts_with('>'))
}

/// Content similarity to `product`, best first: same category counts most, then the share of title
/// words in common (Jaccard), then the same brand. Ties keep catalog order.
fn similar<'a>(catalog: &'a Catalog, product: &Product) -> Vec<&'a str> {
    let all_words = catalog.title_words();
    let words = crate::catalog::title_words(&product.title);
    let mut scored: Vec<(f64, usize, &str)> = catalog
        .products()
        .iter()
        .enumerate()
        .filter(|(_, p)| p.id != product.id)
        .filter_map(|(i, p)| {
            let other = &all_words[i];
            let shared = words.iter().filter(|w| other.binary_search(w).is_ok()).count();
            let union = words.len() + other.len() - shared;
            let jaccard = if union == 0 { 0.0 } else { shared as f64 / union as f64 };
            let same_type = !p.product_type.is_empty() && p.product_type == product.product_type;
            let same_brand = !p.brand.is_empty() && p.brand == product.brand;
            let score = 2.0 * f64::from(u8::from(same_type)) + 3.0 * jaccard + 0.25 * f64::from(u8::from(same_brand));
            (same_type || shared > 0).then_some((score, i, p.id.as_str()))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, id)| id).collect()
}

/// Display price: `£2.55` for the common currencies, `2.55 CHF` otherwise.
pub fn display_price(p: &Price) -> String {
    let amount = format!("{}.{:02}", p.cents / 100, p.cents % 100);
    match &p.currency {
        b"GBP" => format!("£{amount}"),
        b"EUR" => format!("€{amount}"),
        b"USD" => format!("${amount}"),
        cur => format!("{amount} {}", String::from_utf8_lossy(cur)),
    }
}

/// Whether a slot field named like `*_href` holds a URL (checked before it reaches an attribute).
pub fn is_href_field(name: &str) -> bool {
    name.ends_with("_href") || name == "href"
}

impl Context<'_> {
    /// The first variant whose condition holds, with its content rendered to text.
    pub fn decide_slot(&self, slot: &str) -> SlotDecision {
        let variant = self.bundle.site.slots.get(slot).and_then(|vs| vs.iter().find(|v| v.when.matches(self)));
        match variant {
            Some(v) => SlotDecision {
                slot: slot.to_owned(),
                variant: Some(v.id.clone()),
                fields: v
                    .content
                    .iter()
                    .map(|(k, t)| (k.clone(), t.render(self)))
                    .filter(|(k, t)| !is_href_field(k) || is_safe_url(t))
                    .collect(),
            },
            None => SlotDecision { slot: slot.to_owned(), variant: None, fields: BTreeMap::new() },
        }
    }

    /// Reorders by category affinity, stable: ties keep the shop's order.
    pub fn rank_list(&self, list: &str, items: &[String]) -> ListDecision {
        let affinities = self.profile.affinities(&self.bundle.catalog);
        let boost = self.bundle.site.list_boost;
        let keys: Vec<i64> = items
            .iter()
            .map(|id| {
                let a = self.bundle.catalog.get(id).and_then(|p| affinities.get(&p.product_type)).copied().unwrap_or(0.0);
                // Quantized so every runtime sorts on the same integers.
                -((a * boost * 1000.0).round() as i64)
            })
            .collect();
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_key(|&i| keys[i]);
        ListDecision { list: list.to_owned(), items: order.into_iter().map(|i| items[i].clone()).collect(), keys }
    }

    /// Recommendations: never the current product, what is in the cart, what is out of stock or
    /// outside the widget's filters; for `for_you`, never what the visitor already bought.
    pub fn recommend(&self, req: &RecsRequest) -> RecsDecision {
        let k = req.k.unwrap_or(self.bundle.site.recs_k).clamp(1, 50);
        let catalog = &self.bundle.catalog;
        let model = &self.bundle.model;
        let current = req.product.as_deref().or(self.page.product.as_deref());
        let purchased: Vec<&str> = if req.strategy == Strategy::ForYou { self.profile.purchased().collect() } else { Vec::new() };
        let accept = |p: &Product| {
            Some(p.id.as_str()) != current
                && p.availability != Availability::OutOfStock
                && !self.profile.session.cart.contains(&p.id)
                && !purchased.contains(&p.id.as_str())
                && req.category.as_deref().is_none_or(|c| in_category(&p.product_type, c))
                && req.price_min.is_none_or(|min| p.price.amount() >= min)
                && req.price_max.is_none_or(|max| p.price.amount() <= max)
        };
        let primary: Vec<&str> = match (req.strategy, current) {
            (Strategy::AlsoBought, Some(p)) => model.ranked_also_bought(p).collect(),
            (Strategy::AlsoViewed, Some(p)) => model.ranked_also_viewed(p).collect(),
            (Strategy::Similar, Some(p)) => catalog.get(p).map(|p| similar(catalog, p)).unwrap_or_default(),
            (Strategy::AlsoBought | Strategy::AlsoViewed | Strategy::Similar, None) => Vec::new(),
            (Strategy::ForYou, _) => {
                let history: Vec<&str> = self.profile.history().map(|e| e.id.as_str()).collect();
                model.ranked_for_you(&history)
            }
            (Strategy::Popular, _) => Vec::new(),
            (Strategy::Trending, _) => model.trending().collect(),
            (Strategy::RecentlyViewed, _) => {
                let mut seen: Vec<&str> = Vec::new();
                for e in self.profile.history().collect::<Vec<_>>().into_iter().rev() {
                    if e.event == ItemEvent::View && !seen.contains(&e.id.as_str()) {
                        seen.push(&e.id);
                    }
                }
                seen
            }
        };
        let candidates = || primary.iter().copied().chain(model.popular()).filter_map(|id| catalog.get(id)).filter(|p| accept(p));
        let mut chosen: Vec<&Product> = Vec::with_capacity(k);
        for p in candidates() {
            if chosen.len() == k {
                break;
            }
            // k is at most 50, so counting over `chosen` beats a map (and its code in the Wasm).
            let same_category = chosen.iter().filter(|c| c.product_type == p.product_type).count();
            if chosen.iter().all(|c| c.id != p.id) && req.max_per_category.is_none_or(|max| same_category < max) {
                chosen.push(p);
            }
        }
        // Diversity yields to a full widget: top up, in the same order, ignoring the cap.
        for p in candidates() {
            if chosen.len() == k {
                break;
            }
            if chosen.iter().all(|c| c.id != p.id) {
                chosen.push(p);
            }
        }
        let items = chosen
            .into_iter()
            .map(|p| RecItem {
                id: p.id.clone(),
                title: p.title.clone(),
                link: p.link.as_str().to_owned(),
                price: display_price(&p.price),
                image_link: p.image_link.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_default(),
                product_type: p.product_type.clone(),
                brand: p.brand.clone(),
            })
            .collect();
        RecsDecision { widget: req.widget.clone(), strategy: req.strategy, items }
    }

    /// The items whose model rows `req` reads: the current product for also_bought and also_viewed,
    /// the history for for_you. A runtime with a sharded model loads their shards before deciding
    /// ([`Model::missing_shards`]).
    pub fn model_items<'r>(&'r self, req: &'r Request) -> Vec<(&'r str, Table)> {
        let mut out = Vec::new();
        for r in &req.recs {
            let product = r.product.as_deref().or(self.page.product.as_deref());
            match r.strategy {
                Strategy::AlsoBought => out.extend(product.map(|p| (p, Table::Bought))),
                Strategy::AlsoViewed => out.extend(product.map(|p| (p, Table::Viewed))),
                Strategy::ForYou => out.extend(self.profile.history().map(|e| (e.id.as_str(), Table::Bought))),
                _ => {}
            }
        }
        out
    }

    /// Every placement the request names, in request order.
    pub fn decide(&self, req: &Request) -> Decision {
        Decision {
            v: V1,
            slots: req.slots.iter().map(|s| self.decide_slot(s)).collect(),
            lists: req.lists.iter().map(|l| self.rank_list(&l.list, &l.items)).collect(),
            recs: req.recs.iter().map(|r| self.recommend(r)).collect(),
        }
    }
}
