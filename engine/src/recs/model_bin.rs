//! The model snapshot's compact binary form (`.vtm`): what `vitrine train` writes for large catalogs
//! and what a loader must treat as untrusted bytes. Checked on load: magic, version, every length
//! and index against the bytes that are really there, UTF-8, and a CRC-32 over the whole file. A
//! corrupt file is a located error, never a panic and never a wrong model.
//!
//! Layout, little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `VTRM` |
//! | 2 | version (1) |
//! | 2 | flags: bit 0 set if an "also viewed" table follows the neighbours; other bits 0 |
//! | 4 × 3 | item count *n*, popular count, trending count |
//! | *n* × (2 + len) | item ids: length, UTF-8 bytes |
//! | *n* × (2 + 6 × count) | neighbours per item: count, then (item index u32, score × 65535 as u16) |
//! | *n* × (2 + 6 × count) | only with flag bit 0: "also viewed" neighbours per item, the same way |
//! | 8 × popular count | (item index u32, distinct users u32) |
//! | 8 × trending count | (item index u32, heat × 1000 u32) |
//! | 4 | CRC-32 (IEEE) of everything before it |
//!
//! Scores are quantized to 1/65535: rankings that differ by less than that may tie, which the
//! top-K table breaks by item index as before.

use crate::base::crc::crc32;
use crate::base::error::FormatError;
use crate::recs::model::{dequantize, quantize, Model};

const MAGIC: &[u8; 4] = b"VTRM";
const VERSION: u16 = 1;

/// True if `bytes` starts like a binary snapshot (so a loader can pick the reader).
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

fn err(field: &str, msg: String) -> FormatError {
    FormatError::rule("model", field, msg)
}

impl Model {
    /// Reads a bundle's `model` part: the JSON snapshot, or the binary snapshot's base64 in one JSON
    /// string, the form `vitrine bundle` writes for the edge beside a sharded browser bundle (the
    /// edge's Wasm loads it in half the time). Builds without the `binary-bundle` feature (the
    /// browser's production build, which loads JSON heads) refuse the binary form, saying so.
    pub fn from_bundle_part(text: &str) -> Result<Model, FormatError> {
        if !text.trim_start().starts_with('"') {
            return Model::from_json(text);
        }
        #[cfg(feature = "binary-bundle")]
        {
            let bytes =
                crate::base::json::base64_string("model", text)?.ok_or_else(|| err("", "expected the base64 of a binary model snapshot (.vtm)".into()))?;
            Model::from_bytes(&bytes)
        }
        #[cfg(not(feature = "binary-bundle"))]
        Err(err("", "expected the model as JSON, found the edge bundle's binary one".into()))
    }

    /// The bundle's `model` part in its compact form (see [`Model::from_bundle_part`]).
    pub fn to_bundle_part(&self) -> String {
        format!("\"{}\"", vitrine_cel::base64_encode(&self.to_bytes()))
    }

    /// The binary snapshot (see the module documentation).
    pub fn to_bytes(&self) -> Vec<u8> {
        let parts = self.parts();
        let mut out =
            Vec::with_capacity(16 + parts.items.iter().map(|i| i.len() + 2).sum::<usize>() + parts.neighbors.iter().map(|r| 2 + 6 * r.len()).sum::<usize>());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        let views = parts.viewed.iter().any(|r| !r.is_empty());
        out.extend_from_slice(&u16::from(views).to_le_bytes());
        for n in [parts.items.len(), parts.popular.len(), parts.trending.len()] {
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        for id in parts.items {
            // Ids are catalog ids; longer than 65,535 bytes is not an id, so it is cut rather than
            // corrupting the file (load would then name a different id, which train never produces).
            let bytes = &id.as_bytes()[..id.len().min(u16::MAX as usize)];
            out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        let tables: &[&[Vec<(u32, f32)>]] = if views { &[parts.neighbors, parts.viewed] } else { &[parts.neighbors] };
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
            out.extend_from_slice(&i.to_le_bytes());
            out.extend_from_slice(&n.to_le_bytes());
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
        if flags & !1 != 0 {
            return Err(err("flags", format!("expected 0 or 1, found {flags}")));
        }
        let n = r.u32("items")? as usize;
        let n_popular = r.u32("popular")? as usize;
        let n_trending = r.u32("trending")? as usize;
        // Every item takes at least 4 bytes (id length + neighbour count): a count the file cannot
        // hold is rejected before anything is allocated for it.
        if n > r.remaining() / 4 || n_popular.saturating_add(n_trending) > r.remaining() / 8 {
            return Err(err("items", format!("counts {n}, {n_popular}, {n_trending} exceed the file's {} bytes", bytes.len())));
        }
        let mut items = Vec::with_capacity(n);
        for x in 0..n {
            let len = r.u16("items")? as usize;
            let raw = r.take(len, "items")?;
            let id = std::str::from_utf8(raw).map_err(|_| err(&format!("items[{x}]"), "expected UTF-8".into()))?;
            items.push(id.to_owned());
        }
        let neighbors = rows(&mut r, "neighbors", n)?;
        let viewed = if flags & 1 != 0 { rows(&mut r, "viewed", n)? } else { Vec::new() };
        // Loops, not `collect` into a `Result`: each of those is its own adapter code in the
        // browser's Wasm.
        let mut ranking = |name: &str, count: usize| -> Result<Vec<(u32, u32)>, FormatError> {
            let mut out = Vec::with_capacity(count);
            for x in 0..count {
                let i = r.u32(name)?;
                let v = r.u32(name)?;
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
        Model::from_parts(items, neighbors, viewed, popular, trending)
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
    }
}
