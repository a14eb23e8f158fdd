//! What the engine decides from: the shop's [`catalog`] (with [`catalog_shard`], the browser's
//! partial catalog), what is known about a visitor ([`profile`]: snapshots, GA4 events, the live
//! session) and the order export snapshots are built from ([`orders`]).
//!
//! Names only the foundation (`crate::base`); `engine/tests/layers.rs` checks it.

pub(crate) mod catalog;
pub(crate) mod catalog_shard;
pub mod orders;
pub mod profile;
