//! Profile snapshots (what the data platform knows) and the live, in-session profile that GA4
//! ecommerce events update.

use serde::Serialize;

use crate::base::error::{FormatError, V1};
use crate::base::json::{self, At, R};
use crate::base::named::Named;
use crate::base::time::Seconds;
use crate::data::catalog::Catalog;

/// A visitor's profile snapshot, `"v": 1` (documented in docs/formats.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSnapshot {
    pub v: V1,
    pub id: String,
    #[serde(default)]
    pub consent: Consent,
    #[serde(default, skip_serializing_if = "Named::is_empty")]
    pub traits: Named<Trait>,
    #[serde(default)]
    pub orders: OrderMetrics,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_items: Vec<RecentItem>,
    #[serde(default, skip_serializing_if = "Named::is_empty")]
    pub affinities: Named<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<String>,
    /// Recency, frequency and monetary value with their 1–5 scores within the issuing run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rfm: Option<Rfm>,
    /// Where the customer stands in their purchase rhythm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    /// Predicted purchases and value over a horizon (BG/NBD + Gamma-Gamma; docs/clv.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clv: Option<Clv>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    #[serde(default)]
    pub personalization: bool,
}

/// A trait value: a string, a number or a boolean.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(untagged, expecting = "expected a string, number or boolean")]
pub enum Trait {
    Bool(bool),
    Num(f64),
    Str(String),
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrderMetrics {
    #[serde(default)]
    pub count: u32,
    #[serde(default)]
    pub revenue: f64,
    #[serde(default)]
    pub aov: f64,
    #[serde(default, serialize_with = "crate::base::time::rfc3339_opt::serialize", skip_serializing_if = "Option::is_none")]
    pub first: Option<Seconds>,
    #[serde(default, serialize_with = "crate::base::time::rfc3339_opt::serialize", skip_serializing_if = "Option::is_none")]
    pub last: Option<Seconds>,
}

/// RFM values as of `as_of`, each with its quintile score among the customers of the run that
/// issued the snapshot (5 = most recent, most frequent, highest spend).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rfm {
    /// Whole days from the last order to `as_of`.
    pub recency_days: u32,
    /// Distinct orders.
    pub frequency: u32,
    /// Net revenue (cancellations deducted).
    pub monetary: f64,
    pub r: u8,
    pub f: u8,
    pub m: u8,
    #[serde(default, serialize_with = "crate::base::time::rfc3339_opt::serialize", skip_serializing_if = "Option::is_none")]
    pub as_of: Option<Seconds>,
}

/// The lifecycle stage, as of `as_of`, measured against the customer's own purchase rhythm.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    pub stage: Stage,
    /// The gap the customer usually leaves between orders (their median, or the population's).
    #[serde(default)]
    pub expected_gap_days: f64,
    /// Days past the expected next order; 0 when not yet due.
    #[serde(default)]
    pub days_overdue: f64,
    #[serde(default, serialize_with = "crate::base::time::rfc3339_opt::serialize", skip_serializing_if = "Option::is_none")]
    pub as_of: Option<Seconds>,
}

/// Customer lifetime value over the next `horizon_days`, as `vitrine profiles --clv-horizon-days`
/// predicts it (docs/clv.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Clv {
    /// Expected purchase days within the horizon.
    pub expected_orders: f64,
    /// Expected orders × expected spend per order.
    pub expected_value: f64,
    /// The probability the customer has not dropped out.
    pub p_alive: f64,
    pub horizon_days: u32,
}

/// Lifecycle stages, from the first order to gone for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// One purchase day, recently.
    New,
    /// Buying within their rhythm.
    Active,
    /// Buying within their rhythm, often and for long.
    Loyal,
    /// Past their rhythm: the next order is clearly late.
    AtRisk,
    /// Far past their rhythm.
    Lapsed,
    /// No order for longer than the absolute cap.
    Churned,
}

impl Stage {
    pub const ALL: [Stage; 6] = [Stage::New, Stage::Active, Stage::Loyal, Stage::AtRisk, Stage::Lapsed, Stage::Churned];

    /// The name used in snapshots and in the `lifecycle_<stage>` segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Active => "active",
            Stage::Loyal => "loyal",
            Stage::AtRisk => "at_risk",
            Stage::Lapsed => "lapsed",
            Stage::Churned => "churned",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemEvent {
    Purchase,
    AddToCart,
    View,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecentItem {
    pub id: String,
    #[serde(with = "crate::base::time::rfc3339")]
    pub time: Seconds,
    pub event: ItemEvent,
    /// A snapshot's item may carry its category and price as they were when the snapshot was
    /// built (`vitrine profiles` copies them from its catalog). The `events` rule variable takes
    /// an item that has a category as it is, so a page need not fetch its catalog entry; one
    /// without is looked up in the catalog. The session's own events never carry them: the page
    /// reports only ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
}

impl Trait {
    fn read(at: At) -> R<Trait> {
        match &at.v.kind {
            json::Kind::Bool(b) => Ok(Trait::Bool(*b)),
            json::Kind::Num(_) => at.f64().map(Trait::Num),
            json::Kind::Str(s) => Ok(Trait::Str(s.to_string())),
            _ => Err(at.invalid("expected a string, number or boolean")),
        }
    }
}

impl OrderMetrics {
    fn read(at: At) -> R<OrderMetrics> {
        let o = at.obj(&["count", "revenue", "aov", "first", "last"])?;
        Ok(OrderMetrics {
            count: o.or_u32("count")?,
            revenue: o.or_f64("revenue")?,
            aov: o.or_f64("aov")?,
            first: o.opt_time("first")?,
            last: o.opt_time("last")?,
        })
    }
}

impl Rfm {
    fn read(at: At) -> R<Rfm> {
        let o = at.obj(&["recency_days", "frequency", "monetary", "r", "f", "m", "as_of"])?;
        // A score outside 1–5 is a malformed snapshot, rejected on load like any other.
        let score = |x: At| {
            let n: u8 = x.int("u8")?;
            if (1..=5).contains(&n) {
                Ok(n)
            } else {
                Err(x.invalid(format!("expected a score from 1 to 5, found {n}")))
            }
        };
        Ok(Rfm {
            recency_days: o.req_u32("recency_days")?,
            frequency: o.req_u32("frequency")?,
            monetary: o.req_f64("monetary")?,
            r: o.req("r", score)?,
            f: o.req("f", score)?,
            m: o.req("m", score)?,
            as_of: o.opt_time("as_of")?,
        })
    }
}

impl Lifecycle {
    fn read(at: At) -> R<Lifecycle> {
        let o = at.obj(&["stage", "expected_gap_days", "days_overdue", "as_of"])?;
        Ok(Lifecycle {
            stage: o.req("stage", |x| {
                let s = x.str()?;
                Stage::ALL
                    .into_iter()
                    .find(|st| st.as_str() == s)
                    .ok_or_else(|| x.invalid(format!("unknown variant `{s}`, expected one of `new`, `active`, `loyal`, `at_risk`, `lapsed`, `churned`")))
            })?,
            expected_gap_days: o.or_f64("expected_gap_days")?,
            days_overdue: o.or_f64("days_overdue")?,
            as_of: o.opt_time("as_of")?,
        })
    }
}

impl Clv {
    fn read(at: At) -> R<Clv> {
        let o = at.obj(&["expected_orders", "expected_value", "p_alive", "horizon_days"])?;
        Ok(Clv {
            expected_orders: o.req_f64("expected_orders")?,
            expected_value: o.req_f64("expected_value")?,
            p_alive: o.req_f64("p_alive")?,
            horizon_days: o.req_u32("horizon_days")?,
        })
    }
}

impl ItemEvent {
    /// The name in snapshots and sessions.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemEvent::Purchase => "purchase",
            ItemEvent::AddToCart => "add_to_cart",
            ItemEvent::View => "view",
        }
    }

    fn read(at: At) -> R<ItemEvent> {
        let s = at.str()?;
        [ItemEvent::Purchase, ItemEvent::AddToCart, ItemEvent::View]
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| at.invalid(format!("unknown variant `{s}`, expected one of `purchase`, `add_to_cart`, `view`")))
    }
}

impl RecentItem {
    /// A session's event: an id, a time and what happened.
    fn read(at: At) -> R<RecentItem> {
        RecentItem::read_fields(at, &["id", "time", "event"])
    }

    /// A snapshot's item: a session's event, with the category and price it may carry.
    fn read_snapshot(at: At) -> R<RecentItem> {
        RecentItem::read_fields(at, &["id", "time", "event", "category", "price"])
    }

    /// `fields` are the keys allowed: without `category` and `price`, either is an unknown field.
    fn read_fields(at: At, fields: &'static [&'static str]) -> R<RecentItem> {
        let o = at.obj(fields)?;
        Ok(RecentItem {
            id: o.req_string("id")?,
            time: o.req_time("time")?,
            event: o.req("event", ItemEvent::read)?,
            category: o.opt_string("category")?,
            price: o.opt_f64("price")?,
        })
    }
}

impl ProfileSnapshot {
    /// The profile of a visitor nobody knows anything about.
    pub fn anonymous() -> ProfileSnapshot {
        ProfileSnapshot {
            v: V1,
            id: String::new(),
            consent: Consent::default(),
            traits: Named::default(),
            orders: OrderMetrics::default(),
            recent_items: Vec::new(),
            affinities: Named::default(),
            segments: Vec::new(),
            rfm: None,
            lifecycle: None,
            clv: None,
        }
    }

    /// The largest snapshot any runtime reads, in bytes of JSON (docs/formats.md). Real ones are a
    /// few KB (the demo's largest: 2.2 KB); the edge copies the snapshot into the page, so an
    /// unbounded trait would become an unbounded page.
    pub const MAX_BYTES: usize = 64 << 10;

    pub fn from_json(text: &str) -> Result<ProfileSnapshot, FormatError> {
        if text.len() > ProfileSnapshot::MAX_BYTES {
            let (len, max) = (text.len(), ProfileSnapshot::MAX_BYTES);
            return Err(FormatError::rule("profile", "", format!("{len} bytes, more than the {max} a snapshot may have")));
        }
        json::read("profile", text, ProfileSnapshot::read)
    }

    pub(crate) fn read(at: At) -> R<ProfileSnapshot> {
        let o = at.obj(&["v", "id", "consent", "traits", "orders", "recent_items", "affinities", "segments", "rfm", "lifecycle", "clv"])?;
        Ok(ProfileSnapshot {
            v: o.req_version()?,
            id: o.req_string("id")?,
            consent: o.or("consent", Consent::default, |x| {
                let c = x.obj(&["personalization"])?;
                Ok(Consent { personalization: c.or("personalization", || false, |x| x.bool())? })
            })?,
            traits: o.or("traits", Named::default, |x| x.map(Trait::read))?,
            orders: o.or("orders", OrderMetrics::default, OrderMetrics::read)?,
            recent_items: o.or("recent_items", Vec::new, |x| x.items(RecentItem::read_snapshot))?,
            affinities: o.or("affinities", Named::default, |x| x.map(|x| x.f64()))?,
            segments: o.or_strings("segments")?,
            rfm: o.opt("rfm", Rfm::read)?,
            lifecycle: o.opt("lifecycle", Lifecycle::read)?,
            clv: o.opt("clv", Clv::read)?,
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One GA4 ecommerce event, as pushed to `dataLayer`, stamped with the time it was observed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub event: String,
    #[serde(default, serialize_with = "crate::base::time::rfc3339_opt::serialize", skip_serializing_if = "Option::is_none")]
    pub time: Option<Seconds>,
    #[serde(default)]
    pub ecommerce: Ecommerce,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Ecommerce {
    #[serde(default)]
    pub items: Vec<EventItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventItem {
    pub item_id: String,
    pub quantity: f64,
}

impl Event {
    pub fn from_json(text: &str) -> Result<Event, FormatError> {
        json::read("event", text, Event::read)
    }

    /// GA4's fields beyond these are ignored.
    pub(crate) fn read(at: At) -> R<Event> {
        let o = at.obj_lenient(&["event", "time", "ecommerce"])?;
        let item = |x: At| {
            let i = x.obj_lenient(&["item_id", "quantity"])?;
            Ok(EventItem { item_id: i.req("item_id", |x| x.string())?, quantity: i.or("quantity", || 1.0, |x| x.f64())? })
        };
        Ok(Event {
            event: o.req_string("event")?,
            time: o.opt_time("time")?,
            ecommerce: o
                .or("ecommerce", Ecommerce::default, |x| Ok(Ecommerce { items: x.obj_lenient(&["items"])?.or("items", Vec::new, |x| x.items(item))? }))?,
        })
    }

    /// The kinds of event that change the profile; others (page_view, custom events) are ignored.
    pub fn kind(&self) -> Option<ItemEvent> {
        match self.event.as_str() {
            "view_item" => Some(ItemEvent::View),
            "add_to_cart" => Some(ItemEvent::AddToCart),
            "purchase" => Some(ItemEvent::Purchase),
            _ => None,
        }
    }
}

/// What happened in this session, on top of the snapshot. Kept apart from the snapshot so the
/// snapshot stays what the data platform issued (and what it vouches for).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    #[serde(default)]
    pub cart: Vec<String>,
    /// Newest last, at most [`Session::MAX_EVENTS`].
    #[serde(default)]
    pub events: Vec<RecentItem>,
    #[serde(default)]
    pub orders: u32,
    #[serde(default)]
    pub revenue: f64,
}

impl Session {
    pub const MAX_EVENTS: usize = 200;

    pub fn from_json(text: &str) -> Result<Session, FormatError> {
        json::read("session", text, |at| {
            let o = at.obj(&["cart", "events", "orders", "revenue"])?;
            Ok(Session {
                cart: o.or_strings("cart")?,
                events: o.or("events", Vec::new, |x| x.items(RecentItem::read))?,
                orders: o.or_u32("orders")?,
                revenue: o.or_f64("revenue")?,
            })
        })
    }

    /// The session as JSON (what the snippet keeps in sessionStorage).
    pub fn to_json(&self) -> String {
        let mut w = json::Writer::default();
        w.obj(|w| {
            w.key("cart").strs(&self.cart);
            w.key("events").arr(&self.events, |w, e| {
                w.obj(|w| {
                    w.key("id").str(&e.id);
                    w.key("time").str(&crate::base::time::format(e.time));
                    w.key("event").str(e.event.as_str());
                })
            });
            w.key("orders").int(i64::from(self.orders));
            w.key("revenue").num(self.revenue);
        });
        w.finish()
    }
}

/// Weight of one live event on its category's affinity. Two product views outweigh any snapshot
/// affinity (those are shares that sum to at most 1), so what a visitor browses now leads.
pub const LIVE_WEIGHT_VIEW: f64 = 0.25;
pub const LIVE_WEIGHT_CART: f64 = 0.5;
pub const LIVE_WEIGHT_PURCHASE: f64 = 0.75;

/// What an unconsented visitor's session is to decisions, unless the site opts in.
static NO_SESSION: Session = Session { cart: Vec::new(), events: Vec::new(), orders: 0, revenue: 0.0 };

/// The snapshot plus this session's events: what decisions read.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveProfile {
    pub snapshot: ProfileSnapshot,
    pub session: Session,
}

impl LiveProfile {
    pub fn new(snapshot: ProfileSnapshot) -> LiveProfile {
        LiveProfile { snapshot, session: Session::default() }
    }

    /// Whether personal data may be used at all: the snapshot's consent, as the data platform
    /// recorded it, or consent given in this session (passed in by the runtime).
    pub fn personalized(&self) -> bool {
        self.snapshot.consent.personalization
    }

    /// What decisions may read of this session: all of it with consent. Before consent, only
    /// where the site allows in-memory session personalization (`before_consent`, the site's
    /// `consent.session_before_consent`); otherwise nothing, so a decision uses only the page's
    /// own context (its product, popularity), as the README promises.
    pub fn session_in_use(&self, before_consent: bool) -> &Session {
        if self.personalized() || before_consent {
            &self.session
        } else {
            &NO_SESSION
        }
    }

    /// Applies one GA4 event. `now` stamps events that carry no time of their own.
    pub fn apply(&mut self, event: &Event, now: Seconds) {
        let Some(kind) = event.kind() else { return };
        let time = event.time.unwrap_or(now);
        let session = &mut self.session;
        for item in &event.ecommerce.items {
            if item.item_id.is_empty() {
                continue;
            }
            session.events.push(RecentItem { id: item.item_id.clone(), time, event: kind, category: None, price: None });
            match kind {
                ItemEvent::AddToCart if !session.cart.contains(&item.item_id) => session.cart.push(item.item_id.clone()),
                _ => {}
            }
        }
        if kind == ItemEvent::Purchase {
            session.cart.clear();
            session.orders += 1;
        }
        let excess = session.events.len().saturating_sub(Session::MAX_EVENTS);
        session.events.drain(..excess);
    }

    /// Records revenue of a purchase event using catalog prices (GA4 `value` is shop-reported
    /// and often includes shipping; catalog prices keep the metric comparable to the snapshot's).
    pub fn apply_with_catalog(&mut self, event: &Event, now: Seconds, catalog: &Catalog) {
        self.apply(event, now);
        if event.kind() == Some(ItemEvent::Purchase) {
            let value: f64 = event.ecommerce.items.iter().filter_map(|i| catalog.get(&i.item_id).map(|p| p.price.amount() * i.quantity.max(0.0))).sum();
            self.session.revenue += value;
        }
    }

    /// Category affinities: the snapshot's, plus this session's events by category (what
    /// [`LiveProfile::session_in_use`] allows).
    pub fn affinities<'a>(&'a self, catalog: &'a Catalog, before_consent: bool) -> Affinities<'a> {
        let snapshot = self.personalized().then_some(&self.snapshot.affinities);
        let mut session: Vec<(&str, f64)> = Vec::new();
        for e in &self.session_in_use(before_consent).events {
            let Some(p) = catalog.get(&e.id) else { continue };
            if p.product_type.is_empty() {
                continue;
            }
            let w = match e.event {
                ItemEvent::View => LIVE_WEIGHT_VIEW,
                ItemEvent::AddToCart => LIVE_WEIGHT_CART,
                ItemEvent::Purchase => LIVE_WEIGHT_PURCHASE,
            };
            // Added event by event onto the snapshot's value, in this order (the same sums).
            match session.iter_mut().find(|(c, _)| *c == p.product_type) {
                Some((_, a)) => *a += w,
                None => {
                    let base = snapshot.and_then(|m| m.get(&p.product_type)).copied().unwrap_or(0.0);
                    session.push((&p.product_type, base + w));
                }
            }
        }
        Affinities { snapshot, session }
    }

    /// Item history, oldest first: the snapshot's recent items (when consented) then this
    /// session's (what [`LiveProfile::session_in_use`] allows).
    pub fn history(&self, before_consent: bool) -> impl DoubleEndedIterator<Item = &RecentItem> {
        let snap: &[RecentItem] = if self.personalized() { &self.snapshot.recent_items } else { &[] };
        snap.iter().chain(self.session_in_use(before_consent).events.iter())
    }

    /// Items already bought (snapshot and session).
    pub fn purchased(&self, before_consent: bool) -> impl Iterator<Item = &str> {
        self.history(before_consent).filter(|e| e.event == ItemEvent::Purchase).map(|e| e.id.as_str())
    }
}

/// A visitor's category affinities ([`LiveProfile::affinities`]): the snapshot's, and the
/// categories this session's events moved. A list of the few the session touched rather than a
/// copy of the snapshot's map (its clone and entry code in the browser's Wasm).
pub struct Affinities<'a> {
    snapshot: Option<&'a Named<f64>>,
    session: Vec<(&'a str, f64)>,
}

impl Affinities<'_> {
    /// The affinity for `category`; 0 when nothing says anything about it.
    pub fn get(&self, category: &str) -> f64 {
        match self.session.iter().find(|(c, _)| *c == category) {
            Some((_, a)) => *a,
            None => self.snapshot.and_then(|m| m.get(category)).copied().unwrap_or(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_capped_at_64_kb() {
        let at = |n: usize| format!(r#"{{"v":1,"id":"c-1","traits":{{"notes":"{}"}}}}"#, "x".repeat(n));
        let fits = at(ProfileSnapshot::MAX_BYTES - 40);
        assert!(fits.len() <= ProfileSnapshot::MAX_BYTES);
        assert!(ProfileSnapshot::from_json(&fits).is_ok());
        let over = at(ProfileSnapshot::MAX_BYTES);
        let e = ProfileSnapshot::from_json(&over).unwrap_err();
        assert_eq!(e.to_string(), format!("profile: {} bytes, more than the 65536 a snapshot may have", over.len()));
    }

    #[test]
    fn snapshot_round_trip_and_errors() {
        let text = r#"{"v":1,"id":"c-1","consent":{"personalization":true},"traits":{"first_name":"Ann","vip":true,"age":40},
            "orders":{"count":3,"revenue":120.5,"aov":40.17,"first":"2011-01-01T00:00:00Z","last":"2011-06-01T10:00:00Z"},
            "recent_items":[{"id":"A","time":"2011-06-01T10:00:00Z","event":"purchase"}],"affinities":{"Kitchen":0.5},"segments":["s"]}"#;
        let p = ProfileSnapshot::from_json(text).unwrap();
        assert_eq!(p.traits.get("first_name"), Some(&Trait::Str("Ann".into())));
        assert_eq!(ProfileSnapshot::from_json(&p.to_json()).unwrap(), p);

        let e = ProfileSnapshot::from_json(r#"{"v":1,"id":"x","orders":{"count":"many"}}"#).unwrap_err();
        assert_eq!(e.field, "orders.count");
        let e = ProfileSnapshot::from_json(r#"{"v":1,"id":"x","ordres":{}}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `ordres`"), "{e}");
        let e = ProfileSnapshot::from_json(r#"{"v":1,"id":"x","orders":{"last":"last tuesday"}}"#).unwrap_err();
        assert_eq!(e.field, "orders.last");
        assert!(ProfileSnapshot::from_json("{\"v\":1,").is_err());

        // A snapshot's item may carry its category and price; a session's event may not (the
        // page reports ids only, and the catalog says what they are).
        let text = r#"{"v":1,"id":"c-1","recent_items":[{"id":"A","time":"2011-06-01T10:00:00Z","event":"view","category":"Garden","price":4.5}]}"#;
        let p = ProfileSnapshot::from_json(text).unwrap();
        assert_eq!((p.recent_items[0].category.as_deref(), p.recent_items[0].price), (Some("Garden"), Some(4.5)));
        assert_eq!(ProfileSnapshot::from_json(&p.to_json()).unwrap(), p);
        let e = ProfileSnapshot::from_json(r#"{"v":1,"id":"c-1","recent_items":[{"id":"A","time":"2011-06-01T10:00:00Z","event":"view","price":"cheap"}]}"#)
            .unwrap_err();
        assert_eq!(e.field, "recent_items[0].price");
        let e = Session::from_json(r#"{"events":[{"id":"A","time":"2011-06-01T10:00:00Z","event":"view","category":"Garden"}]}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `category`"), "{e}");
    }

    #[test]
    fn snapshot_clv_round_trip_and_errors() {
        let text = r#"{"v":1,"id":"c-1","clv":{"expected_orders":1.25,"expected_value":812.5,"p_alive":0.31,"horizon_days":90}}"#;
        let p = ProfileSnapshot::from_json(text).unwrap();
        assert_eq!(p.clv, Some(Clv { expected_orders: 1.25, expected_value: 812.5, p_alive: 0.31, horizon_days: 90 }));
        assert_eq!(ProfileSnapshot::from_json(&p.to_json()).unwrap(), p);
        assert!(p.to_json().ends_with(r#""clv":{"expected_orders":1.25,"expected_value":812.5,"p_alive":0.31,"horizon_days":90}}"#), "{}", p.to_json());
        // Strict like the rest: every field required (a missing p_alive must not read as 0, "at
        // risk"), none unknown, each located.
        let e = ProfileSnapshot::from_json(&text.replace(r#","p_alive":0.31"#, "")).unwrap_err();
        assert!(e.to_string().contains("missing field `p_alive`"), "{e}");
        let e = ProfileSnapshot::from_json(&text.replace("p_alive", "p_alve")).unwrap_err();
        assert!(e.to_string().contains("unknown field `p_alve`"), "{e}");
        let e = ProfileSnapshot::from_json(&text.replace("90", "\"90\"")).unwrap_err();
        assert_eq!(e.field, "clv.horizon_days");
    }

    #[test]
    fn events_ignore_the_ga4_fields_they_do_not_use() {
        let e = Event::from_json(
            r#"{"event":"view_item","gtm.uniqueEventId":7,"ecommerce":{"currency":"GBP","items":[{"item_id":"A","item_name":"Mug","price":2.5}]}}"#,
        )
        .unwrap();
        assert_eq!((e.ecommerce.items[0].item_id.as_str(), e.ecommerce.items[0].quantity), ("A", 1.0));
        let e = Event::from_json(r#"{"event":"view_item","ecommerce":{"items":[{"quantity":2}]}}"#).unwrap_err();
        assert_eq!((e.field.as_str(), e.line, e.column), ("ecommerce.items[0]", 1, 44));
        assert!(e.to_string().contains("missing field `item_id`"), "{e}");
        let e = ProfileSnapshot::from_json(r#"{"v":2,"id":"x"}"#).unwrap_err();
        assert_eq!(e.kind, crate::base::error::FormatErrorKind::Version { found: 2, supported: 1 });
    }

    #[test]
    fn events_update_session() {
        let mut live = LiveProfile::new(ProfileSnapshot::anonymous());
        let ev = |s: &str| Event::from_json(s).unwrap();
        live.apply(&ev(r#"{"event":"view_item","ecommerce":{"items":[{"item_id":"A"}]}}"#), 10);
        live.apply(&ev(r#"{"event":"add_to_cart","ecommerce":{"items":[{"item_id":"A"},{"item_id":"B"}]}}"#), 11);
        live.apply(&ev(r#"{"event":"page_view"}"#), 12);
        assert_eq!(live.session.cart, ["A", "B"]);
        assert_eq!(live.session.events.len(), 3);
        live.apply(&ev(r#"{"event":"purchase","time":"1970-01-01T00:00:20Z","ecommerce":{"items":[{"item_id":"A"}]}}"#), 13);
        assert!(live.session.cart.is_empty());
        assert_eq!(live.session.orders, 1);
        assert_eq!(live.session.events.last().map(|e| e.time), Some(20));
        // Written by hand, byte for byte as serde_json writes it, and read back whole.
        live.session.revenue = 12.75;
        assert_eq!(live.session.to_json(), serde_json::to_string(&live.session).unwrap());
        assert_eq!(Session::from_json(&live.session.to_json()).unwrap(), live.session);
        assert_eq!(live.purchased(true).collect::<Vec<_>>(), ["A"]);
    }

    /// Issue 12: before consent a decision reads nothing of the session, unless the site opts in.
    #[test]
    fn issue_12_the_session_is_unread_before_consent_unless_the_site_allows_it() {
        let mut live = LiveProfile::new(ProfileSnapshot::anonymous());
        live.apply(&Event::from_json(r#"{"event":"purchase","ecommerce":{"items":[{"item_id":"A"}]}}"#).unwrap(), 10);
        assert_eq!(live.history(false).count(), 0);
        assert_eq!(live.purchased(false).count(), 0);
        assert_eq!(live.session_in_use(false), &Session::default());
        assert_eq!(live.session_in_use(true).orders, 1);
        assert_eq!(live.purchased(true).collect::<Vec<_>>(), ["A"]);
        live.snapshot.consent.personalization = true;
        assert_eq!(live.session_in_use(false).orders, 1);
        assert_eq!(live.history(false).count(), 1);
    }
}
