//! Vitrine's decision engine: everything that decides, nothing that does I/O.
//!
//! # Data flow
//!
//! A runtime (the browser snippet, the edge worker, the CLI) loads a [`Bundle`] once: the compiled
//! [`SiteConfig`] (slots and their variants), the [`Catalog`] and the item-item [`Model`]. Per
//! visitor it holds a [`LiveProfile`]: the [`ProfileSnapshot`] a data platform issued plus this
//! session's GA4 [`Event`]s. Per page it builds a [`Context`] (bundle, profile, [`Page`], `now`) and
//! asks it for a [`Decision`]: the winning variant per slot, the order of each list, the products of
//! each recommendation widget. Runtimes then apply the decision to `data-vitrine-*` markup.
//!
//! ```
//! use vitrine_engine::*;
//! let bundle = Bundle::from_json(r#"{"v":1,
//!   "site": {"v":1, "slots": {"hero": [{"id": "vip", "when": "profile.orders.count >= 10",
//!            "content": {"headline": "Thanks, {profile.traits.first_name|friend}!"}}]}},
//!   "catalog": {"v":1, "products": []},
//!   "model": {"v":1, "kind": "item-knn", "items": [], "neighbors": [], "popular": []}}"#).unwrap();
//! let mut snapshot = ProfileSnapshot::from_json(r#"{"v":1, "id":"c-1",
//!   "consent": {"personalization": true}, "orders": {"count": 12}}"#).unwrap();
//! let profile = LiveProfile::new(snapshot);
//! let ctx = Context { bundle: &bundle, profile: &profile, page: &Page::default(), now: 0 };
//! let slot = ctx.decide_slot("hero");
//! assert_eq!(slot.variant.as_deref(), Some("vip"));
//! assert_eq!(slot.fields["headline"], "Thanks, friend!");
//! ```
//!
//! Beside deciding, [`uplift`] measures what the experiments earned, from exposure and conversion
//! logs (the CLI's `vitrine uplift`; no runtime links it), [`kpis`] what the shop earns per
//! month, week or quarter, from the order export [`orders`] reads (`vitrine kpis`; CLI only too),
//! and [`clv`] what each customer will buy and spend next (BG/NBD + Gamma-Gamma, `vitrine clv`;
//! the runtimes only read its predictions, as `profile.clv` in the snapshot).
//!
//! # Key decisions
//!
//! - No clock, no randomness, no I/O: `now` is an argument, so the browser and the edge decide the
//!   same for the same inputs (the shared case file in `tests/cases/` proves it).
//! - Evaluation is total. Missing data makes a condition false; it never panics. Everything that can
//!   be rejected (bad conditions, unsafe URLs, broken snapshots) is rejected when loaded, with a
//!   located [`FormatError`].
//! - Nothing personal is read without consent: a snapshot without `consent.personalization` reads
//!   as an anonymous visitor's.
//! - Strings from profiles and catalogs are text. The engine renders templates to plain strings and
//!   the runtimes insert them as text nodes.

pub mod catalog;
pub mod catalog_shard;
/// The rule language, from its own crate: the compile side only with the `compile` feature.
pub use vitrine_cel as cel;
pub mod clv;
pub mod compiled;
pub mod condition;
pub mod decide;
pub mod error;
pub mod experiment;
pub(crate) mod json;
pub mod kpis;
pub mod markup;
pub mod model;
pub mod model_bin;
pub mod orders;
pub mod profile;
pub mod replay;
pub mod shard;
pub mod site;
/// The one stable sort the runtimes use while deciding (it lives with CEL, which prints maps sorted).
pub use vitrine_cel::sort;
pub mod time;
pub mod uplift;

pub use catalog::{Availability, Catalog, Price, Product};
pub use condition::{Condition, ConditionError};
pub use decide::{Bundle, Context, Decision, ListDecision, Page, RecItem, RecsDecision, RecsRequest, Request, SlotDecision, Strategy};
pub use error::{FormatError, FormatErrorKind};
pub use markup::Markup;
pub use model::{Interaction, Model};
pub use profile::{Event, LiveProfile, ProfileSnapshot, Session};
pub use site::SiteConfig;

/// One decision request as the shared case files and the runtimes' test hooks state it: an optional
/// snapshot, the session's events, the time, and what the page asks for.
#[derive(Debug, Clone)]
pub struct CaseInput {
    pub profile: Option<ProfileSnapshot>,
    pub events: Vec<Event>,
    pub now: time::Seconds,
    pub request: Request,
}

impl CaseInput {
    pub fn from_json(text: &str) -> Result<CaseInput, FormatError> {
        json::read("case", text, |at| {
            let o = at.obj(&["profile", "events", "now", "request"])?;
            Ok(CaseInput {
                profile: o.opt("profile", ProfileSnapshot::read)?,
                events: o.or("events", Vec::new, |x| x.items(Event::read))?,
                now: o.req_time("now")?,
                request: o.or("request", Request::default, Request::read)?,
            })
        })
    }

    /// The visitor: the snapshot with the events replayed on it.
    pub fn live_profile(&self, bundle: &Bundle) -> LiveProfile {
        let snapshot = self.profile.clone().unwrap_or_else(ProfileSnapshot::anonymous);
        let mut profile = LiveProfile::new(snapshot);
        for e in &self.events {
            profile.apply_with_catalog(e, self.now, &bundle.catalog);
        }
        profile
    }

    /// Replays the events on the snapshot and decides.
    pub fn decide(&self, bundle: &Bundle) -> Decision {
        let profile = self.live_profile(bundle);
        Context { bundle, profile: &profile, page: &self.request.page, now: self.now }.decide(&self.request)
    }
}
