//! The checksum of the engine's binary forms (compiled site configurations, models and their shards).

/// CRC-32/ISO-HDLC, the zlib/PNG checksum: the one of `vitrine_cel`, which checks compiled rules
/// with it (one copy, and one table, in the browser's Wasm).
pub(crate) use crate::cel::crc32;
