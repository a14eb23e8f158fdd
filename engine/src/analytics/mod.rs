//! What the shop's owner reads, computed from logs and exports by the CLI: shop [`kpis`] per
//! period, customer lifetime value ([`clv`]) and experiment [`uplift`]. No runtime links any of it.
//!
//! The top layer: it may name every other one, and none names it (`engine/tests/layers.rs`).

pub mod clv;
pub mod kpis;
pub mod uplift;
