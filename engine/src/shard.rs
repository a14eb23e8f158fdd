//! Model shards: the browser fetches only the neighbour rows its visitor needs.
//!
//! A full model is split into a *head* and `count` *shards*:
//!
//! - the head is the model's JSON snapshot with every row empty, its popular and trending rankings
//!   (at most [`MAX_RANKED`](crate::model::MAX_RANKED) items each) and
//!   `"shards": {"count": N, "base": "m-<hash>/"}`; it travels inside the browser's bundle;
//! - shard `s` is a binary snapshot (`.vtm`, see `model_bin.rs`) holding the rows of exactly the
//!   items with [`shard_of`]`(id, N) == s`, plus the ids those rows point at, with empty rows. It is
//!   served as `<base><s>.vtm`; `base` names a hash of the whole model, so every file under it is
//!   immutable and can be cached forever.
//!
//! A partial model decides exactly as the full one for every item whose shard it has loaded: rows
//! keep their order and their scores (one score grid everywhere), and rankings break ties by id,
//! never by the index an item happens to get. An item whose shard is missing (a failed fetch)
//! simply has no neighbours: widgets fall back to popular items, as for an unknown product.

use crate::error::FormatError;
use crate::model::{Model, MAX_RANKED};

/// Which shards a partial model has, and where they live.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sharding {
    pub count: u32,
    pub base: String,
    loaded: Vec<bool>,
}

impl Sharding {
    pub fn new(count: u32, base: String) -> Result<Sharding, FormatError> {
        if count == 0 || count > MAX_SHARDS {
            return Err(FormatError::rule("model", "shards.count", format!("expected 1 to {MAX_SHARDS}, found {count}")));
        }
        if !is_safe_base(&base) {
            return Err(FormatError::rule("model", "shards.base", format!("expected a relative path of letters, digits, '-', '_' and '/', ending in '/', found {base:?}")));
        }
        Ok(Sharding { count, base, loaded: vec![false; count as usize] })
    }
}

/// More shards than this would be more files than items for any catalog we serve.
pub const MAX_SHARDS: u32 = 1 << 20;

/// A shard base is joined to the bundle's URL by the loader: keep it a plain relative path.
fn is_safe_base(base: &str) -> bool {
    !base.is_empty()
        && base.ends_with('/')
        && !base.starts_with('/')
        && base.split('/').all(|seg| seg != "." && seg != "..")
        && base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'/')
}

/// The shard that holds `id`'s row: FNV-1a (32-bit) of the id's UTF-8 bytes, modulo `count`.
/// Stable across versions and runtimes; documented in docs/formats.md.
pub fn shard_of(id: &str, count: u32) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in id.as_bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % count.max(1)
}

/// FNV-1a (64-bit) of `bytes` as 16 hex digits: names the directory of a model's shards.
pub fn content_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Model {
    /// Splits a full model into its head (rankings only, rows empty) and `count` binary shards,
    /// the shards' directory named after the model's content (`m-<hash>/`).
    pub fn split(&self, count: u32) -> Result<(Model, Vec<Vec<u8>>), FormatError> {
        if self.sharding.is_some() {
            return Err(FormatError::rule("model", "shards", "expected a full model, found a shard head"));
        }
        let base = format!("m-{}/", content_hash(&self.to_bytes()));
        let sharding = Sharding::new(count, base)?;
        let mut owned: Vec<Vec<u32>> = vec![Vec::new(); count as usize];
        for (i, id) in self.items.iter().enumerate() {
            owned[shard_of(id, count) as usize].push(i as u32);
        }
        let shards = owned.iter().map(|rows| self.subset(rows).to_bytes()).collect();
        // The head: the ranked items only, no rows.
        let mut head = Model::empty();
        // Only the order counts when deciding: the head leaves out the counts (a third of its gzip).
        let ranked = |list: &[(u32, u32)], head: &mut Model| -> Vec<(u32, u32)> { list.iter().take(MAX_RANKED).map(|&(i, _)| (head.intern(&self.items[i as usize]), 0)).collect() };
        let popular = ranked(&self.popular, &mut head);
        let trending = ranked(&self.trending, &mut head);
        head.popular = popular;
        head.trending = trending;
        head.sharding = Some(sharding);
        Ok((head, shards))
    }

    /// The rows of `rows` and the items they point at; no rankings.
    fn subset(&self, rows: &[u32]) -> Model {
        let mut out = Model::empty();
        for &i in rows {
            let at = out.intern(&self.items[i as usize]);
            let row = self.neighbors[i as usize].iter().map(|&(j, s)| (out.intern(&self.items[j as usize]), s)).collect();
            out.neighbors[at as usize] = row;
            let row = self.viewed[i as usize].iter().map(|&(j, s)| (out.intern(&self.items[j as usize]), s)).collect();
            out.viewed[at as usize] = row;
        }
        out
    }

    fn empty() -> Model {
        Model { items: Vec::new(), index: Default::default(), neighbors: Vec::new(), viewed: Vec::new(), popular: Vec::new(), trending: Vec::new(), sharding: None }
    }

    /// The index of `id`, added with an empty row if new.
    fn intern(&mut self, id: &str) -> u32 {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = self.items.len() as u32;
        self.items.push(id.to_owned());
        self.index.insert(id.to_owned(), i);
        self.neighbors.push(Vec::new());
        self.viewed.push(Vec::new());
        i
    }

    /// `(count, base)` for a partial model; `None` for a full one.
    pub fn shards(&self) -> Option<(u32, &str)> {
        self.sharding.as_ref().map(|s| (s.count, s.base.as_str()))
    }

    /// The shards still to be loaded for the rows of `ids`, ascending, without repeats. Always
    /// empty for a full model.
    pub fn missing_shards<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<u32> {
        let Some(sh) = &self.sharding else { return Vec::new() };
        let mut out: Vec<u32> = ids.into_iter().map(|id| shard_of(id, sh.count)).filter(|&s| !sh.loaded[s as usize]).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Adds shard `shard` (the bytes of `<base><shard>.vtm`) to a partial model. Every row in it
    /// must belong to that shard; loading a shard twice is a no-op. On error the model is unchanged.
    pub fn add_shard(&mut self, shard: u32, bytes: &[u8]) -> Result<(), FormatError> {
        let Some(sh) = &self.sharding else {
            return Err(FormatError::rule("model", "shards", "expected a shard head, found a full model"));
        };
        if shard >= sh.count {
            return Err(FormatError::rule("model", "shards", format!("shard {shard} out of range (shards: {})", sh.count)));
        }
        if sh.loaded[shard as usize] {
            return Ok(());
        }
        let count = sh.count;
        let part = Model::from_bytes(bytes)?;
        if !part.popular.is_empty() || !part.trending.is_empty() {
            return Err(FormatError::rule("model", "shards", format!("shard {shard} carries rankings: it is a full model, not a shard")));
        }
        for (i, (row, viewed)) in part.neighbors.iter().zip(&part.viewed).enumerate() {
            let id = &part.items[i];
            if !(row.is_empty() && viewed.is_empty()) && shard_of(id, count) != shard {
                return Err(FormatError::rule("model", "shards", format!("row of {id:?} belongs to shard {}, found in shard {shard}", shard_of(id, count))));
            }
        }
        for (i, row) in part.neighbors.iter().enumerate() {
            if shard_of(&part.items[i], count) != shard {
                continue;
            }
            let at = self.intern(&part.items[i]);
            let row = row.iter().map(|&(j, s)| (self.intern(&part.items[j as usize]), s)).collect();
            self.neighbors[at as usize] = row;
            let row = part.viewed[i].iter().map(|&(j, s)| (self.intern(&part.items[j as usize]), s)).collect();
            self.viewed[at as usize] = row;
        }
        if let Some(sh) = &mut self.sharding {
            sh.loaded[shard as usize] = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Interaction, TrainOptions};
    use crate::profile::ItemEvent;

    fn model() -> Model {
        let mut log = Vec::new();
        for u in 0..40 {
            for i in 0..30 {
                if (u * 7 + i * 3) % 5 < 2 {
                    log.push(Interaction { user: format!("u{u}"), item: format!("p{}", (i + u % 3) % 30), time: i64::from(u * 30 + i) * 3_600, event: ItemEvent::Purchase, quantity: 1.0 });
                }
            }
        }
        Model::train(&log, &TrainOptions { k: 6, ..TrainOptions::default() })
    }

    fn head_json(m: &Model, count: u32) -> (Model, Vec<Vec<u8>>) {
        let (head, shards) = m.split(count).unwrap();
        // The head travels as JSON inside the browser's bundle.
        (Model::from_json(&head.to_json()).unwrap(), shards)
    }

    #[test]
    fn a_partial_model_decides_as_the_full_one_for_loaded_rows() {
        let m = model();
        let ids: Vec<&str> = m.popular().collect();
        assert!(ids.len() > 10);
        for count in [1, 3, 64] {
            let (mut head, shards) = head_json(&m, count);
            assert_eq!(shards.len(), count as usize);
            assert_eq!(head.popular().collect::<Vec<_>>(), ids);
            assert_eq!(head.trending().collect::<Vec<_>>(), m.trending().collect::<Vec<_>>());
            let history = [ids[3], ids[7], ids[1]];
            let need = head.missing_shards(history);
            assert!(!need.is_empty() && need.windows(2).all(|w| w[0] < w[1]));
            for s in need {
                head.add_shard(s, &shards[s as usize]).unwrap();
            }
            assert!(head.missing_shards(history).is_empty());
            assert_eq!(head.ranked_for_you(&history), m.ranked_for_you(&history), "{count} shards");
            for h in history {
                assert_eq!(head.ranked_also_bought(h).collect::<Vec<_>>(), m.ranked_also_bought(h).collect::<Vec<_>>());
            }
        }
        // Every shard loaded: every row as in the full model, in any loading order.
        let (mut head, shards) = head_json(&m, 5);
        for s in (0..5).rev() {
            head.add_shard(s, &shards[s as usize]).unwrap();
            head.add_shard(s, &shards[s as usize]).unwrap();
        }
        for id in &ids {
            assert_eq!(head.ranked_also_bought(id).collect::<Vec<_>>(), m.ranked_also_bought(id).collect::<Vec<_>>(), "{id}");
        }
        assert!(m.missing_shards(ids.iter().copied()).is_empty(), "a full model needs nothing");
    }

    #[test]
    fn a_missing_shard_means_no_neighbours_not_wrong_ones() {
        let m = model();
        let (head, _) = head_json(&m, 8);
        let id = m.popular().next().unwrap();
        assert!(head.ranked_also_bought(id).next().is_none());
        assert_eq!(head.missing_shards([id]), vec![shard_of(id, 8)]);
    }

    #[test]
    fn wrong_corrupt_or_misplaced_shards_are_errors_and_change_nothing() {
        let m = model();
        let (head, shards) = head_json(&m, 4);
        let nonempty = (0..4u32).find(|&s| Model::from_bytes(&shards[s as usize]).unwrap().neighbors.iter().any(|r| !r.is_empty())).unwrap();
        let other = (nonempty + 1) % 4;
        let mut h = head.clone();
        let e = h.add_shard(other, &shards[nonempty as usize]).unwrap_err().to_string();
        assert!(e.contains("belongs to shard"), "{e}");
        assert_eq!(h, head);
        let mut bad = shards[nonempty as usize].clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 1;
        assert!(h.add_shard(nonempty, &bad).unwrap_err().to_string().contains("CRC-32"));
        assert!(h.add_shard(nonempty, &bad[..10]).is_err());
        assert!(h.add_shard(9, &shards[0]).unwrap_err().to_string().contains("out of range"));
        assert!(h.add_shard(0, &m.to_bytes()).unwrap_err().to_string().contains("rankings"));
        assert_eq!(h, head);
        let mut full = m.clone();
        assert!(full.add_shard(0, &shards[0]).is_err());
        assert!(head.split(2).is_err(), "a head cannot be split again");
    }

    #[test]
    fn shard_names_are_content_addressed_and_safe() {
        let m = model();
        let (a, _) = m.split(4).unwrap();
        let (b, _) = m.split(4).unwrap();
        assert_eq!(a.shards(), b.shards());
        let base = a.shards().unwrap().1.to_owned();
        assert!(base.starts_with("m-") && base.len() == 2 + 16 + 1, "{base}");
        let mut other = model();
        other.neighbors[0].clear();
        assert_ne!(other.split(4).unwrap().0.shards().unwrap().1, base);
        for bad in ["", "/abs/", "../up/", "a/../b/", "no-slash", "sp ace/", "q?x/"] {
            assert!(Sharding::new(4, bad.into()).is_err(), "{bad:?}");
        }
        assert!(Sharding::new(0, "m-1/".into()).is_err());
        // The hash is part of the format: pin it.
        assert_eq!(content_hash(b""), "cbf29ce484222325");
        assert_eq!(shard_of("a", u32::MAX), 0xe40c_292c, "FNV-1a of \"a\"");
        assert_eq!(shard_of("a", 1000), 0xe40c_292c % 1000);
    }
}
