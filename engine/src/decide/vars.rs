//! The variables of one decision (`profile`, `events`, `session`, `page`, `now`, `segment`), built
//! lazily from a [`Context`] and kept for a visitor ([`VarsCache`]) or a whole page ([`PageVars`]).
//! What they hold is the schema of `rules::condition` (docs/site.md); rules read them only through
//! `cel::Activation`, so the rules layer never names a decision.

use std::cell::OnceCell;

use crate::base::named::Named;
use crate::base::time::Seconds;
use crate::cel::{self, Activation, Value};
use crate::data::profile::{ItemEvent, Trait};
use crate::decide::Context;

/// The visitor's variables (`profile`, `events`, `session`) kept between decisions: they depend
/// only on the live profile and the catalog, so a runtime that decides again for an unchanged
/// visitor (a refresh, the preview) reuses them. Whoever changes the profile or session clears it.
#[derive(Debug, Default)]
pub struct VarsCache {
    profile: OnceCell<Value>,
    events: OnceCell<Value>,
    session: OnceCell<Value>,
}

impl VarsCache {
    pub fn clear(&mut self) {
        *self = VarsCache::default();
    }
}

/// The variables of one visitor on one page, kept across that page's decisions: the visitor's
/// ([`VarsCache`]), the page's and every segment's result, each built at most once per page. The
/// edge decides element by element while the page streams; with this it evaluates the segments
/// once per page, not once per slot, list item or widget. Belongs to one [`Context`] (bundle,
/// profile, page, now): make a new one when any of them changes.
#[derive(Default)]
pub struct PageVars {
    visitor: VarsCache,
    page: OnceCell<Value>,
    segments: OnceCell<(Named<bool>, Value)>,
}

impl std::fmt::Debug for PageVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageVars").field("segments", &self.segments.get().map(|s| &s.0)).finish_non_exhaustive()
    }
}

enum Cache<'a> {
    Own(VarsCache),
    Shared(&'a VarsCache),
    Page(&'a PageVars),
}

/// The variables of one decision, built lazily (a rule that never reads `events` never pays for
/// them) and at most once per decision.
pub struct Vars<'a> {
    ctx: &'a Context<'a>,
    cache: Cache<'a>,
    page: OnceCell<Value>,
    /// Each segment's result, and the same as the `segment` map.
    segments: OnceCell<(Named<bool>, Value)>,
}

/// Segment rules read everything but `segment`.
struct WithoutSegments<'v, 'a>(&'v Vars<'a>);

impl Activation for WithoutSegments<'_, '_> {
    fn get(&self, name: &str) -> Option<Value> {
        if name == "segment" || name.starts_with("segment.") {
            return None;
        }
        self.0.get(name)
    }
}

impl<'a> Vars<'a> {
    pub fn new(ctx: &'a Context<'a>) -> Vars<'a> {
        Vars { ctx, cache: Cache::Own(VarsCache::default()), page: OnceCell::new(), segments: OnceCell::new() }
    }

    /// Variables that reuse (and fill) `cache`, which must belong to `ctx.profile` as it is now.
    pub fn cached(ctx: &'a Context<'a>, cache: &'a VarsCache) -> Vars<'a> {
        Vars { ctx, cache: Cache::Shared(cache), page: OnceCell::new(), segments: OnceCell::new() }
    }

    /// Variables of the page `pv` keeps (see [`PageVars`]), which must belong to `ctx` as it is now.
    pub fn on_page(ctx: &'a Context<'a>, pv: &'a PageVars) -> Vars<'a> {
        Vars { ctx, cache: Cache::Page(pv), page: OnceCell::new(), segments: OnceCell::new() }
    }

    fn cache(&self) -> &VarsCache {
        match &self.cache {
            Cache::Own(c) => c,
            Cache::Shared(c) => c,
            Cache::Page(p) => &p.visitor,
        }
    }

    fn page_cell(&self) -> &OnceCell<Value> {
        match &self.cache {
            Cache::Page(p) => &p.page,
            _ => &self.page,
        }
    }

    fn segments_cell(&self) -> &OnceCell<(Named<bool>, Value)> {
        match &self.cache {
            Cache::Page(p) => &p.segments,
            _ => &self.segments,
        }
    }

    /// Every segment of the site, evaluated once per decision.
    pub fn segments(&self) -> &Named<bool> {
        &self.segment_cache().0
    }

    fn segment_cache(&self) -> &(Named<bool>, Value) {
        self.segments_cell().get_or_init(|| {
            let inner = WithoutSegments(self);
            // The site's segments are in name order, ids unique (every loader checks).
            let mut results = Named::default();
            for s in &self.ctx.bundle.site.segments {
                results.push(s.id.clone(), s.when.matches(&inner));
            }
            let mut fields = Vec::with_capacity(results.len());
            for (k, v) in results.iter() {
                fields.push((k.as_str(), Value::Bool(*v)));
            }
            let value = map(fields);
            (results, value)
        })
    }

    fn profile_value(&self) -> Value {
        let p = self.ctx.profile;
        let snap = &p.snapshot;
        let consent = map(vec![("personalization", Value::Bool(p.personalized()))]);
        if !p.personalized() {
            // Nothing personal is read without consent.
            return map(vec![("consent", consent)]);
        }
        let mut orders: Vec<(&str, Value)> = vec![
            ("count", Value::Int(i64::from(snap.orders.count) + i64::from(p.session.orders))),
            ("revenue", Value::Double(snap.orders.revenue + p.session.revenue)),
            ("aov", Value::Double(snap.orders.aov)),
        ];
        for (name, time) in [("first", snap.orders.first), ("last", snap.orders.last)] {
            if let Some(t) = time.and_then(ts) {
                orders.push((name, t));
            }
        }
        // Loops, not `collect()`: each of those is its own function in the browser's Wasm.
        let mut traits = Vec::with_capacity(snap.traits.len());
        for (k, t) in snap.traits.iter() {
            traits.push((k.as_str(), trait_value(t)));
        }
        let mut affinities = Vec::with_capacity(snap.affinities.len());
        for (k, a) in snap.affinities.iter() {
            affinities.push((k.as_str(), Value::Double(*a)));
        }
        let mut recent = Vec::with_capacity(snap.recent_items.len());
        for r in &snap.recent_items {
            // In key order: the map takes the vector as it is.
            recent.push(map(vec![
                ("event", Value::from(event_name(r.event))),
                ("id", Value::from(r.id.as_str())),
                ("time", ts(r.time).unwrap_or(Value::Null)),
            ]));
        }
        let mut fields: Vec<(&str, Value)> = vec![
            ("id", Value::from(snap.id.as_str())),
            ("consent", consent),
            ("traits", map(traits)),
            ("orders", map(orders)),
            ("recent_items", Value::from(recent)),
            ("affinities", map(affinities)),
            ("segments", str_list(&snap.segments)),
        ];
        if let Some(r) = &snap.rfm {
            let mut rfm = vec![
                ("recency_days", Value::Int(i64::from(r.recency_days))),
                ("frequency", Value::Int(i64::from(r.frequency))),
                ("monetary", Value::Double(r.monetary)),
                ("r", Value::Int(i64::from(r.r))),
                ("f", Value::Int(i64::from(r.f))),
                ("m", Value::Int(i64::from(r.m))),
            ];
            rfm.extend(r.as_of.and_then(ts).map(|t| ("as_of", t)));
            fields.push(("rfm", map(rfm)));
        }
        if let Some(l) = &snap.lifecycle {
            let mut lc = vec![
                ("stage", Value::from(l.stage.as_str())),
                ("expected_gap_days", Value::Double(l.expected_gap_days)),
                ("days_overdue", Value::Double(l.days_overdue)),
            ];
            lc.extend(l.as_of.and_then(ts).map(|t| ("as_of", t)));
            fields.push(("lifecycle", map(lc)));
        }
        if let Some(c) = &snap.clv {
            let clv = vec![
                ("expected_orders", Value::Double(c.expected_orders)),
                ("expected_value", Value::Double(c.expected_value)),
                ("p_alive", Value::Double(c.p_alive)),
                ("horizon_days", Value::Int(i64::from(c.horizon_days))),
            ];
            fields.push(("clv", map(clv)));
        }
        map(fields)
    }

    fn events_value(&self) -> Value {
        let p = self.ctx.profile;
        let catalog = &self.ctx.bundle.catalog;
        let snapshot = p.personalized().then_some(&p.snapshot.recent_items).into_iter().flatten().map(|r| (r, "snapshot"));
        let session = self.ctx.session().events.iter().map(|r| (r, "session"));
        let all = snapshot.chain(session);
        let mut events = Vec::with_capacity(all.size_hint().0);
        for e in all {
            events.push(e);
        }
        // Oldest first; the sort is stable, so the snapshot's come before the session's at a tie.
        crate::sort::sort_by_key(&mut events, |(r, _)| r.time);
        // Keys and repeated strings are shared, not allocated per event (200 events are common).
        let key = |k: &str| cel::Key::from(k);
        let (k_category, k_item, k_price, k_source, k_time, k_type) = (key("category"), key("item"), key("price"), key("source"), key("time"), key("type"));
        let sources = [Value::from("snapshot"), Value::from("session")];
        let types = [ItemEvent::View, ItemEvent::AddToCart, ItemEvent::Purchase].map(|e| Value::from(event_name(e)));
        // A catalog has few categories: a short list beats hashing every event's.
        let mut categories: Vec<(&str, Value)> = Vec::new();
        let mut category = |c: &'a str| match categories.iter().find(|(k, _)| *k == c) {
            Some((_, v)) => v.clone(),
            None => {
                let v = Value::from(c);
                categories.push((c, v.clone()));
                v
            }
        };
        // A loop, not `collect()`: that is its own function in the browser's Wasm.
        let mut list = Vec::with_capacity(events.len());
        for (r, source) in events {
            let kind = match r.event {
                ItemEvent::View => 0,
                ItemEvent::AddToCart => 1,
                ItemEvent::Purchase => 2,
            };
            // Keys in their sorted order, so each insertion lands at the end of one small node.
            let mut fields: Vec<(cel::Key, Value)> = Vec::with_capacity(6);
            // A snapshot's item that carries its category is taken as it is (its catalog entry
            // is neither read nor fetched); any other is looked up in the catalog.
            let known = match &r.category {
                Some(c) => Some((c.as_str(), r.price)),
                None => catalog.get(&r.id).map(|p| (p.product_type.as_str(), Some(p.price.amount()))),
            };
            if let Some((c, _)) = known {
                fields.push((k_category.clone(), category(c)));
            }
            fields.push((k_item.clone(), Value::from(r.id.as_str())));
            if let Some((_, Some(price))) = known {
                fields.push((k_price.clone(), Value::Double(price)));
            }
            fields.push((k_source.clone(), sources[usize::from(source == "session")].clone()));
            if let Some(t) = ts(r.time) {
                fields.push((k_time.clone(), t));
            }
            fields.push((k_type.clone(), types[kind].clone()));
            list.push(Value::from(cel::Map::from_entries(fields)));
        }
        Value::from(list)
    }

    fn session_value(&self) -> Value {
        let s = self.ctx.session();
        let mut cats: Vec<Value> = Vec::new();
        for e in &s.events {
            if let Some(prod) = self.ctx.bundle.catalog.get(&e.id) {
                let v = Value::from(prod.product_type.as_str());
                if !prod.product_type.is_empty() && !cats.iter().any(|c| c.cel_equals(&v)) {
                    cats.push(v);
                }
            }
        }
        map(vec![
            ("cart", str_list(&s.cart)),
            ("cart_size", Value::Int(s.cart.len() as i64)),
            ("views", Value::Int(s.events.iter().filter(|e| e.event == ItemEvent::View).count() as i64)),
            ("orders", Value::Int(i64::from(s.orders))),
            ("revenue", Value::Double(s.revenue)),
            ("viewed_categories", Value::from(cats)),
        ])
    }

    fn page_value(&self) -> Value {
        let page = self.ctx.page;
        let mut fields = vec![("type", Value::from(page.kind.as_str()))];
        fields.extend(page.product.as_deref().map(|p| ("product", Value::from(p))));
        fields.extend(page.category.as_deref().map(|c| ("category", Value::from(c))));
        map(fields)
    }
}

impl Activation for Vars<'_> {
    fn get(&self, name: &str) -> Option<Value> {
        // Only whole variables: field selection on them is the interpreter's.
        Some(match name {
            "profile" => self.cache().profile.get_or_init(|| self.profile_value()).clone(),
            "events" => self.cache().events.get_or_init(|| self.events_value()).clone(),
            "session" => self.cache().session.get_or_init(|| self.session_value()).clone(),
            "page" => self.page_cell().get_or_init(|| self.page_value()).clone(),
            "now" => ts(self.ctx.now)?,
            "segment" => self.segment_cache().1.clone(),
            _ => return None,
        })
    }
}

/// A CEL list of strings: one loop for every list of ids (segments, cart) in the browser's Wasm.
fn str_list(items: &[String]) -> Value {
    let mut out = Vec::with_capacity(items.len());
    for s in items {
        out.push(Value::from(s.as_str()));
    }
    Value::from(out)
}

/// A CEL map from its fields. One copy for every caller (a `Vec`, not any iterator): the
/// browser's Wasm carried one per iterator type.
fn map(fields: Vec<(&str, Value)>) -> Value {
    // A loop, not `collect()`: that is its own function in the browser's Wasm.
    let mut entries = Vec::with_capacity(fields.len());
    for (k, v) in fields {
        entries.push((cel::Key::from(k), v));
    }
    Value::from(cel::Map::from_entries(entries))
}

fn ts(secs: Seconds) -> Option<Value> {
    cel::Timestamp::new(secs, 0).map(Value::from)
}

fn trait_value(t: &Trait) -> Value {
    match t {
        Trait::Bool(b) => Value::Bool(*b),
        // Whole numbers are ints, so `profile.traits.children >= 2` needs no conversion.
        Trait::Num(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Value::Int(*n as i64),
        Trait::Num(n) => Value::Double(*n),
        Trait::Str(s) => Value::from(s.as_str()),
    }
}

/// GA4's event names.
pub fn event_name(e: ItemEvent) -> &'static str {
    match e {
        ItemEvent::View => "view_item",
        ItemEvent::AddToCart => "add_to_cart",
        ItemEvent::Purchase => "purchase",
    }
}
