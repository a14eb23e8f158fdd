//! The foundation every other layer stands on: located errors ([`error`]), the one JSON reader and
//! writer of the runtime formats ([`json`]), time without a clock ([`time`]), the sorted name map
//! ([`named`]), and the small shared pieces that both the catalog and the model need — how a
//! sharded file set is laid out ([`shard_layout`]), the checksum of binary forms ([`crc`]) and
//! the one parallel map ([`par`]).
//!
//! Nothing here names another layer of the engine (`engine/tests/layers.rs` checks it).

pub(crate) mod crc;
pub mod error;
pub(crate) mod json;
pub(crate) mod named;
#[cfg(feature = "full-bundle")]
pub(crate) mod par;
pub(crate) mod shard_layout;
pub mod time;
