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
//! Beside deciding, [`analytics::uplift`] measures what the experiments earned, from exposure and
//! conversion logs (the CLI's `vitrine uplift`; no runtime links it), [`analytics::kpis`] what the
//! shop earns per month, week or quarter, from the order export [`orders`] reads (`vitrine kpis`;
//! CLI only too), and [`analytics::clv`] what each customer will buy and spend next (BG/NBD +
//! Gamma-Gamma, `vitrine clv`; the runtimes only read its predictions, as `profile.clv` in the
//! snapshot).
//!
//! # Layers
//!
//! The source is grouped by concern, and each group names only the groups below it:
//!
//! ```text
//! analytics   kpis, clv, uplift: the owner's reports (CLI only)
//! decide      Bundle, Context, Decision, the decision's variables, markup, replay, CaseInput
//! rules       the rule schema (condition), the site configuration and its compiled form, experiments
//! recs        the item-item model, its binary form and shards, the strategy names
//! data        the catalog (and its shards), profiles and events, the order export
//! base        errors, the JSON reader and writer, time, Named, the shard layout, checksums
//! ```
//!
//! A type two groups share lives in the lower one (`Named` in `base`, `Strategy` in `recs`, the
//! variables of a decision in `decide`, which rules read only through `cel::Activation`), so there
//! are no cycles; `engine/tests/layers.rs` fails the test run when a lower group names a higher one.
//! The groups themselves are private: what other crates use is re-exported here, with a namespace
//! where callers need one (`time`, `profile`, `orders`, `model`, `shard`, `site`, `markup`,
//! `analytics::kpis`, ...).
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

// The layers, bottom to top (declared in that order on purpose: rustfmt keeps each line apart).
mod base;
// What is decided from.
mod data;
// The recommender.
mod recs;
// Targeting and the site configuration.
mod rules;
// The decision.
mod decide;
// The owner's reports, CLI only.
pub mod analytics;

/// The rule language, from its own crate: the compile side only with the `compile` feature.
pub use vitrine_cel as cel;
/// The one stable sort the runtimes use while deciding (it lives with CEL, which prints maps sorted).
pub use vitrine_cel::sort;

// Every type a public signature or field shows is nameable from here, the traces and `Named` included.
pub use base::error::{FormatError, FormatErrorKind, V1};
pub use base::named::Named;
pub use base::time;
#[cfg(feature = "full-bundle")]
pub use data::catalog::ContentIndex;
pub use data::catalog::{is_safe_url, Availability, Catalog, Price, Product, Url};
pub use data::money::MoneyFormat;
pub use data::profile::{Event, LiveProfile, ProfileSnapshot, Session};
pub use data::{money, orders, profile};
pub use decide::case::CaseInput;
pub use decide::vars::{PageVars, Vars, VarsCache};
#[cfg(feature = "full-bundle")]
pub use decide::BrowserBundle;
pub use decide::{markup, replay};
pub use decide::{Bundle, Context, Decision, ListDecision, ListRequest, Page, RecItem, RecsDecision, RecsRequest, Request, SlotDecision};
pub use decide::{ExperimentTrace, ListTrace, RecsTrace, RuleTrace, SlotTrace, Trace};
pub use markup::Markup;
pub use recs::model::{Interaction, Model};
pub use recs::strategy::Strategy;
pub use recs::{model, model_bin, shard};
pub use rules::condition::{Condition, ConditionError};
pub use rules::site::SiteConfig;
pub use rules::{condition, experiment, site};
