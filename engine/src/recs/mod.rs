//! The recommender: the item-item [`model`] and how it is trained, its binary form
//! ([`model_bin`]), its shards for the browser ([`shard`]) and the vocabulary of recommendation
//! [`strategy`]s a widget names.
//!
//! Names only `crate::base` and `crate::data`; `engine/tests/layers.rs` checks it.

pub mod model;
pub mod model_bin;
pub mod shard;
pub(crate) mod strategy;
