//! Targeting and the site configuration: the rule schema ([`condition`]), the [`site`]
//! configuration (segments, slots, list rules, widgets, experiments) and its binary form as bundles
//! carry it ([`compiled`]), its source's reader (`source`, which collects every structural error),
//! and deterministic [`experiment`] bucketing.
//!
//! Names `crate::base`, `crate::data` and `crate::recs` (a widget's strategy), never `decide`:
//! the variables a rule reads while deciding live with the decision (`decide::vars`), and rules see
//! them only through `cel::Activation`. `engine/tests/layers.rs` checks it.

pub mod compiled;
pub mod condition;
pub mod experiment;
pub mod site;
#[cfg(feature = "compile")]
mod source;
