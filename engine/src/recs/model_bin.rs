//! The model snapshot's compact binary form (`.vtm`): what `vitrine train` writes for large catalogs,
//! what the edge's bundle carries, the browser's model shards and the head of the browser's bundle.
//! A loader must treat it as untrusted bytes: checked on load are magic, version, flags, every
//! length and index against the bytes that are really there, UTF-8, and a CRC-32 over the whole
//! file. A corrupt file is a located error, never a panic and never a wrong model.
//!
//! Layout, little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `VTRM` |
//! | 2 | version (1) |
//! | 2 | flags: bit 0 set if the model has an "also viewed" table; bit 1 set for a shard head; other bits 0 |
//! | 4 × 3 | item count *n*, popular count, trending count |
//! | 4 + 2 + len | only in a shard head: shard count, then the shards' directory (`m-<hash>/`): length, UTF-8 bytes |
//! | *n* × (2 + len) | item ids: length, UTF-8 bytes |
//! | *n* × (2 + 6 × count) | not in a shard head: neighbours per item: count, then (item index u32, score × 65535 as u16) |
//! | *n* × (2 + 6 × count) | not in a shard head, only with flag bit 0: "also viewed" neighbours per item, the same way |
//! | 8 × popular count | not in a shard head: (item index u32, distinct users u32) |
//! | 8 × trending count | not in a shard head: (item index u32, heat × 1000 u32) |
//! | 2 × (popular + trending count) | only in a shard head, in place of the two above: item indexes u16, popular then trending |
//! | 4 | CRC-32 (IEEE) of everything before it |
//!
//! A shard head (`shard.rs`) has no rows: they come in its shards, which are files of this form
//! without bit 1. Its flag bit 0 says whether the shards come in two tables (`v<s>.vtm` files too).
//! Its rankings are in order without their counts, as 16-bit indexes: a head's ranked items are its
//! first ones (at most 1,000, two rankings of [`MAX_RANKED`]; rows a browser loads add items after
//! them).
//!
//! [`MAX_RANKED`]: crate::recs::model::MAX_RANKED
//!
//! Scores are quantized to 1/65535: rankings that differ by less than that may tie, which the
//! top-K table breaks by item index as before.

use crate::base::crc::crc32;
use crate::base::error::FormatError;
use crate::base::shard_layout::{ShardLayout, Sharding};
use crate::recs::model::{dequantize, quantize, Model};

const MAGIC: &[u8; 4] = b"VTRM";
const VERSION: u16 = 1;
/// Flag bits: the model has an "also viewed" table; the file is a shard head.
const VIEWS: u16 = 1;
const HEAD: u16 = 2;

/// True if `bytes` starts like a binary snapshot (so a loader can pick the reader).
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

fn err(field: &str, msg: String) -> FormatError {
    FormatError::rule("model", field, msg)
}

impl Model {
    /// Reads a bundle's `model` part: the binary snapshot's base64 in one JSON string, the form
    /// `vitrine bundle` writes (a shard head in the browser's bundle, the full model in the edge's),
    /// or, with the `full-bundle` feature, the JSON snapshot. Builds without it (the browser's
    /// production build) refuse JSON: its reader is not in them.
    pub fn from_bundle_part(text: &str) -> Result<Model, FormatError> {
        if !text.trim_start().starts_with('"') {
            #[cfg(feature = "full-bundle")]
            return Model::from_json(text);
            #[cfg(not(feature = "full-bundle"))]
            return Err(err(
                "",
                "expected the model in binary (one base64 string), found JSON: `vitrine bundle --shards N --sharded-out DIR` writes the browser's bundle"
                    .into(),
            ));
        }
        let bytes = crate::base::json::base64_string("model", text)?.ok_or_else(|| err("", "expected the base64 of a binary model snapshot (.vtm)".into()))?;
        Model::from_bytes(&bytes)
    }

    /// The bundle's `model` part in its compact form (see [`Model::from_bundle_part`]): a shard
    /// head's in the browser's bundle, the full model's in the edge's.
    pub fn to_bundle_part(&self) -> String {
        format!("\"{}\"", vitrine_cel::base64_encode(&self.to_bytes()))
    }

    /// The binary snapshot (see the module documentation): a shard head's without rows.
    pub fn to_bytes(&self) -> Vec<u8> {
        let parts = self.parts();
        let head = self.shard_layout();
        let mut out =
            Vec::with_capacity(16 + parts.items.iter().map(|i| i.len() + 2).sum::<usize>() + parts.neighbors.iter().map(|r| 2 + 6 * r.len()).sum::<usize>());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        let views = head.map_or_else(|| parts.viewed.iter().any(|r| !r.is_empty()), |l| l.views);
        let flags = if views { VIEWS } else { 0 } | if head.is_some() { HEAD } else { 0 };
        out.extend_from_slice(&flags.to_le_bytes());
        for n in [parts.items.len(), parts.popular.len(), parts.trending.len()] {
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        if let Some(l) = head {
            // A checked layout's base is a short ASCII path.
            out.extend_from_slice(&l.count.to_le_bytes());
            out.extend_from_slice(&(l.base.len() as u16).to_le_bytes());
            out.extend_from_slice(l.base.as_bytes());
        }
        for id in parts.items {
            // Ids are catalog ids; longer than 65,535 bytes is not an id, so it is cut rather than
            // corrupting the file (load would then name a different id, which train never produces).
            let bytes = &id.as_bytes()[..id.len().min(u16::MAX as usize)];
            out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        let tables: &[&[Vec<(u32, f32)>]] = match (head, views) {
            (Some(_), _) => &[],
            (None, true) => &[parts.neighbors, parts.viewed],
            (None, false) => &[parts.neighbors],
        };
        for table in tables {
            for row in *table {
                let row = &row[..row.len().min(u16::MAX as usize)];
                out.extend_from_slice(&(row.len() as u16).to_le_bytes());
                for &(j, s) in row {
                    out.extend_from_slice(&j.to_le_bytes());
                    out.extend_from_slice(&quantize(s).to_le_bytes());
                }
            }
        }
        for &(i, n) in parts.popular.iter().chain(parts.trending) {
            if head.is_some() {
                // A head's ranked items are its first (`Model::split`): their indexes fit.
                debug_assert!(i <= u32::from(u16::MAX));
                out.extend_from_slice(&(i as u16).to_le_bytes());
            } else {
                out.extend_from_slice(&i.to_le_bytes());
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Reads a binary snapshot, checking everything (see the module documentation).
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, FormatError> {
        if bytes.len() < 24 || !is_binary(bytes) {
            return Err(err("magic", format!("expected a Vitrine model starting with \"VTRM\" and at least 24 bytes, found {} bytes", bytes.len())));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 4);
        let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
        let actual = crc32(body);
        if stored != actual {
            return Err(err("checksum", format!("expected CRC-32 {actual:08x} of the file, found {stored:08x}: the file is corrupt or truncated")));
        }
        let mut r = Reader { bytes: body, at: 4 };
        let version = r.u16("version")?;
        if version != VERSION {
            return Err(err("version", format!("unsupported version: expected {VERSION}, found {version}")));
        }
        let flags = r.u16("flags")?;
        if flags & !(VIEWS | HEAD) != 0 {
            return Err(err("flags", format!("expected 0 to 3, found {flags}")));
        }
        let n = r.u32("items")? as usize;
        let n_popular = r.u32("popular")? as usize;
        let n_trending = r.u32("trending")? as usize;
        let head = flags & HEAD != 0;
        let layout = if head {
            let count = r.u32("shards.count")?;
            let len = r.u16("shards.base")? as usize;
            let base = std::str::from_utf8(r.take(len, "shards.base")?).map_err(|_| err("shards.base", "expected UTF-8".into()))?;
            Some(ShardLayout::new(count, base.to_owned(), flags & VIEWS != 0)?)
        } else {
            None
        };
        // Every item takes at least 4 bytes (id length + neighbour count; 2 in a head, which has
        // no rows), and every ranked one 8 (2 in a head): a count the file cannot hold is rejected
        // before anything is allocated for it.
        let (item, ranked) = if head { (2, 2) } else { (4, 8) };
        if n > r.remaining() / item || n_popular.saturating_add(n_trending) > r.remaining() / ranked {
            return Err(err("items", format!("counts {n}, {n_popular}, {n_trending} exceed the file's {} bytes", bytes.len())));
        }
        let mut items = Vec::with_capacity(n);
        for x in 0..n {
            let len = r.u16("items")? as usize;
            let raw = r.take(len, "items")?;
            let id = std::str::from_utf8(raw).map_err(|_| err(&format!("items[{x}]"), "expected UTF-8".into()))?;
            items.push(id.to_owned());
        }
        let neighbors = if head { vec![Vec::new(); n] } else { rows(&mut r, "neighbors", n)? };
        let viewed = if flags & VIEWS != 0 && !head { rows(&mut r, "viewed", n)? } else { Vec::new() };
        // Loops, not `collect` into a `Result`: each of those is its own adapter code in the
        // browser's Wasm.
        let mut ranking = |name: &str, count: usize| -> Result<Vec<(u32, u32)>, FormatError> {
            let mut out = Vec::with_capacity(count);
            for x in 0..count {
                let (i, v) = if head { (u32::from(r.u16(name)?), 0) } else { (r.u32(name)?, r.u32(name)?) };
                if i as usize >= n {
                    return Err(err(&format!("{name}[{x}]"), format!("item index {i} out of range (items: {n})")));
                }
                out.push((i, v));
            }
            Ok(out)
        };
        let popular = ranking("popular", n_popular)?;
        let trending = ranking("trending", n_trending)?;
        if r.remaining() != 0 {
            return Err(err("", format!("{} unexpected bytes before the checksum", r.remaining())));
        }
        Ok(Model { sharding: layout.map(Sharding::new), ..Model::from_parts(items, neighbors, viewed, popular, trending)? })
    }
}

/// `n` rows of (count, then (index u32, score u16) pairs), every index checked against `n`.
fn rows(r: &mut Reader, name: &str, n: usize) -> Result<Vec<Vec<(u32, f32)>>, FormatError> {
    let mut out = Vec::with_capacity(n);
    for x in 0..n {
        let count = r.u16(name)? as usize;
        let mut row = Vec::with_capacity(count.min(r.remaining() / 6));
        for _ in 0..count {
            let j = r.u32(name)?;
            let s = r.u16(name)?;
            if j as usize >= n {
                return Err(err(&format!("{name}[{x}]"), format!("item index {j} out of range (items: {n})")));
            }
            row.push((j, dequantize(s)));
        }
        out.push(row);
    }
    Ok(out)
}

/// A bounds-checked little-endian cursor: every read names the field it was reading.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, len: usize, field: &str) -> Result<&'a [u8], FormatError> {
        let end = self.at.checked_add(len).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(err(field, format!("expected {len} more bytes at offset {}, found {}", self.at, self.remaining())));
        };
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u16(&mut self, field: &str) -> Result<u16, FormatError> {
        let b = self.take(2, field)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, field: &str) -> Result<u32, FormatError> {
        let b = self.take(4, field)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::profile::ItemEvent;
    use crate::recs::model::{Interaction, TrainOptions};

    fn model() -> Model {
        let mut log = Vec::new();
        for u in 0..12 {
            for i in 0..6 {
                if (u + i) % 3 != 0 {
                    log.push(Interaction {
                        user: format!("u{u}"),
                        item: format!("é-{}{i}", if u % 2 == 0 { "a" } else { "b" }),
                        time: i64::from(u) * 86_400,
                        event: ItemEvent::Purchase,
                        quantity: 1.0,
                    });
                }
            }
        }
        Model::train(&log, &TrainOptions { k: 4, ..TrainOptions::default() })
    }

    fn with_crc(mut body: Vec<u8>) -> Vec<u8> {
        let crc = crc32(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        body
    }

    #[test]
    fn checksum_is_the_zlib_crc32() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn round_trips_with_quantized_scores() {
        let m = model();
        let bytes = m.to_bytes();
        assert!(is_binary(&bytes));
        let back = Model::from_bytes(&bytes).unwrap();
        assert_eq!(back.len(), m.len());
        for id in m.popular() {
            assert_eq!(back.ranked_also_bought(id).collect::<Vec<_>>(), m.ranked_also_bought(id).collect::<Vec<_>>(), "{id}");
            for (a, b) in back.neighbors(id).iter().zip(m.neighbors(id)) {
                assert!((a.1 - b.1).abs() <= 0.5 / 65535.0 + f32::EPSILON);
            }
        }
        assert_eq!(back.popular().collect::<Vec<_>>(), m.popular().collect::<Vec<_>>());
        assert_eq!(back.trending().collect::<Vec<_>>(), m.trending().collect::<Vec<_>>());
        assert!(bytes.len() < m.to_json().len(), "{} vs {}", bytes.len(), m.to_json().len());
    }

    #[test]
    fn a_bundle_part_in_either_form_is_the_same_model() {
        // As `vitrine bundle` sees it: a model read back from its file.
        let m = Model::from_json(&model().to_json()).unwrap();
        let part = m.to_bundle_part();
        assert!(part.starts_with("\"VlRSTQ") && part.len() < m.to_json().len(), "{part:.20}");
        let back = Model::from_bundle_part(&part).unwrap();
        assert_eq!(back.to_json(), Model::from_bundle_part(&m.to_json()).unwrap().to_json());
        assert_eq!(back.to_json(), m.to_json());
        for bad in ["\"VlRSTQ==\"", "\"not base64!\"", "\"\""] {
            assert!(Model::from_bundle_part(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_an_error() {
        let bytes = model().to_bytes();
        for len in 0..bytes.len() {
            assert!(Model::from_bytes(&bytes[..len]).is_err(), "truncated to {len}");
        }
        for at in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[at] ^= 0x5a;
            assert!(Model::from_bytes(&bad).is_err(), "flipped byte {at}");
        }
    }

    #[test]
    fn a_shard_head_round_trips_without_rows_and_is_checked_like_any_file() {
        let m = model();
        let (head, _) = m.split(3).unwrap();
        let bytes = head.to_bytes();
        assert_eq!(u16::from_le_bytes([bytes[6], bytes[7]]), HEAD, "no view rows in this model");
        let back = Model::from_bytes(&bytes).unwrap();
        assert_eq!(back, head);
        assert_eq!(back.shards(), Some((3, head.shards().unwrap().1)));
        assert!(back.neighbors.iter().all(Vec::is_empty) && back.len() == head.len());
        // No rows: ids, rankings and the layout only.
        let ids: usize = head.items.iter().map(|i| 2 + i.len()).sum();
        let base = head.shards().unwrap().1.len();
        assert_eq!(bytes.len(), 20 + 6 + base + ids + 2 * (head.popular.len() + head.trending.len()) + 4);
        for len in 0..bytes.len() {
            assert!(Model::from_bytes(&bytes[..len]).is_err(), "truncated to {len}");
        }
        for at in 0..bytes.len() - 4 {
            let mut bad = bytes.clone();
            bad[at] ^= 0x5a;
            assert!(Model::from_bytes(&bad).is_err(), "flipped byte {at}");
        }
        // A layout the reader would not accept from JSON either, checksummed.
        let mut body = bytes[..bytes.len() - 4].to_vec();
        body[20..24].copy_from_slice(&0u32.to_le_bytes());
        assert!(Model::from_bytes(&with_crc(body)).unwrap_err().to_string().contains("shards.count"));
        let mut body = bytes[..bytes.len() - 4].to_vec();
        body[26] = b'/';
        assert!(Model::from_bytes(&with_crc(body)).unwrap_err().to_string().contains("shards.base"));
    }

    #[test]
    fn well_checksummed_lies_are_caught() {
        let bytes = model().to_bytes();
        let body = bytes[..bytes.len() - 4].to_vec();
        // Version 2.
        let mut v2 = body.clone();
        v2[4] = 2;
        assert!(Model::from_bytes(&with_crc(v2)).unwrap_err().to_string().contains("unsupported version"));
        // An item count the file cannot hold.
        let mut huge = body.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Model::from_bytes(&with_crc(huge)).unwrap_err().to_string().contains("exceed"));
        // A neighbour index past the item table: the first neighbour of the first item.
        let n = u32::from_le_bytes([body[8], body[9], body[10], body[11]]) as usize;
        let mut at = 20;
        for _ in 0..n {
            at += 2 + usize::from(u16::from_le_bytes([body[at], body[at + 1]]));
        }
        let mut row = at;
        while u16::from_le_bytes([body[row], body[row + 1]]) == 0 {
            row += 2;
        }
        let mut oob = body.clone();
        oob[row + 2..row + 6].copy_from_slice(&(n as u32).to_le_bytes());
        assert!(Model::from_bytes(&with_crc(oob)).unwrap_err().to_string().contains("out of range"));
        // An id that is not UTF-8.
        let mut latin = body.clone();
        latin[22] = 0xff;
        assert!(Model::from_bytes(&with_crc(latin)).unwrap_err().to_string().contains("UTF-8"));
        // Extra bytes.
        let mut long = body;
        long.push(0);
        assert!(Model::from_bytes(&with_crc(long)).unwrap_err().to_string().contains("unexpected bytes"));
        // Flags this version does not know.
        let mut flags = bytes[..bytes.len() - 4].to_vec();
        flags[6] = 4;
        assert!(Model::from_bytes(&with_crc(flags)).unwrap_err().to_string().contains("expected 0 to 3, found 4"));
    }
}
