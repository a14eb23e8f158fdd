//! Model shards: the browser fetches only the neighbour rows its visitor needs.
//!
//! A full model is split into a *head* and `count` *shards*:
//!
//! - the head is the model's binary snapshot (`.vtm`, see `model_bin.rs`) without rows: the items
//!   of its popular and trending rankings (at most [`MAX_RANKED`] each, in order, without their
//!   counts) and the shards' count and directory (`m-<hash>/`); it travels inside the browser's
//!   bundle, in base64 ([`Model::to_bundle_part`]);
//! - shard `s` is a binary snapshot (`.vtm`, see `model_bin.rs`) holding the interaction rows of
//!   exactly the items with [`shard_of`]`(id, N) == s`, plus the ids those rows point at, with empty
//!   rows. It is served as `<base><s>.vtm`; a model with "also viewed" rows has a second set,
//!   `<base>v<s>.vtm`, so a page that shows no such widget never downloads them. `base` names a
//!   hash of the whole model, so every file under it is immutable and can be cached forever.
//!
//! The edge's bundle, which holds the full model, names the browser's [`ShardLayout`] too
//! (`browser_shards`), so the worker can put preload links for a page's shards into the page.
//!
//! A partial model decides exactly as the full one for every item whose shard it has loaded: rows
//! keep their order and their scores (one score grid everywhere), and rankings break ties by id,
//! never by the index an item happens to get. An item whose shard is missing (a failed fetch)
//! simply has no neighbours: widgets fall back to popular items, as for an unknown product.

use crate::base::error::FormatError;
use crate::cel::Quoted;
use crate::recs::model::{Model, MAX_RANKED};

// The layout is the catalog's too, so it lives in the foundation; callers find it here.
pub use crate::base::shard_layout::{content_hash, shard_name, shard_of, ShardFile, ShardLayout, Table, MAX_SHARDS};
use crate::base::shard_layout::{parse_name, Sharding};

impl Model {
    /// Splits a full model into its head (rankings only, rows empty) and its shard files, named
    /// relative to the shards' directory (`m-<hash>/`, after the model's content): `count` files
    /// of interaction rows, and `count` more of "also viewed" rows if the model has any.
    pub fn split(&self, count: u32) -> Result<(Model, Vec<ShardFile>), FormatError> {
        if self.sharding.is_some() {
            return Err(FormatError::rule("model", "shards", "expected a full model, found a shard head"));
        }
        let base = format!("m-{}/", content_hash(&self.to_bytes()));
        let views = self.has_views();
        let sharding = Sharding::new(ShardLayout::new(count, base, views)?);
        let mut owned: Vec<Vec<u32>> = vec![Vec::new(); count as usize];
        for (i, id) in self.items.iter().enumerate() {
            owned[shard_of(id, count) as usize].push(i as u32);
        }
        let tables: &[Table] = if views { &[Table::Bought, Table::Viewed] } else { &[Table::Bought] };
        let mut files = Vec::with_capacity(tables.len() * owned.len());
        for &table in tables {
            for (s, rows) in owned.iter().enumerate() {
                files.push((shard_name(table, s as u32), self.subset(rows, table).to_bytes()));
            }
        }
        // The head: the ranked items only, no rows.
        let mut head = Model::empty();
        // Only the order counts when deciding: the head leaves out the counts (a third of its gzip).
        let ranked = |list: &[(u32, u32)], head: &mut Model| -> Vec<(u32, u32)> {
            list.iter().take(MAX_RANKED).map(|&(i, _)| (head.intern(&self.items[i as usize]), 0)).collect()
        };
        let popular = ranked(&self.popular, &mut head);
        let trending = ranked(&self.trending, &mut head);
        head.popular = popular;
        head.trending = trending;
        head.sharding = Some(sharding);
        Ok((head, files))
    }

    /// `table`'s rows of `rows` and the items they point at; no rankings.
    fn subset(&self, rows: &[u32], table: Table) -> Model {
        let mut out = Model::empty();
        for &i in rows {
            let at = out.intern(&self.items[i as usize]);
            let row = self.table(table)[i as usize].iter().map(|&(j, s)| (out.intern(&self.items[j as usize]), s)).collect();
            out.table_mut(table)[at as usize] = row;
        }
        out
    }

    fn table(&self, table: Table) -> &Vec<Vec<(u32, f32)>> {
        match table {
            Table::Bought => &self.neighbors,
            Table::Viewed => &self.viewed,
        }
    }

    fn table_mut(&mut self, table: Table) -> &mut Vec<Vec<(u32, f32)>> {
        match table {
            Table::Bought => &mut self.neighbors,
            Table::Viewed => &mut self.viewed,
        }
    }

    fn empty() -> Model {
        Model {
            items: Vec::new(),
            index: Default::default(),
            neighbors: Vec::new(),
            viewed: Vec::new(),
            popular: Vec::new(),
            trending: Vec::new(),
            sharding: None,
        }
    }

    /// The index of `id`, added with empty rows if new.
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
        self.shard_layout().map(|l| (l.count, l.base.as_str()))
    }

    /// The layout of a partial model's shards; `None` for a full one.
    pub fn shard_layout(&self) -> Option<&ShardLayout> {
        self.sharding.as_ref().map(|s| &s.layout)
    }

    /// The shard files still to be loaded for the rows in `needs`, sorted, without repeats.
    /// Always empty for a full model.
    pub fn missing_shards<'a>(&self, needs: impl IntoIterator<Item = (&'a str, Table)>) -> Vec<String> {
        let Some(sh) = &self.sharding else { return Vec::new() };
        let mut out = Vec::new();
        for (t, s) in sh.layout.shards(needs) {
            if !sh.is_loaded(t, s) {
                out.push(shard_name(t, s));
            }
        }
        out
    }

    /// Adds the shard file `name` (as [`Model::missing_shards`] names it) to a partial model. Every
    /// row in it must belong to that shard and table; loading a shard twice is a no-op. On error
    /// the model is unchanged. Empty bytes give up on the file (its fetch failed): its items keep
    /// no neighbours, and [`Model::missing_shards`] no longer names it.
    pub fn add_shard(&mut self, name: &str, bytes: &[u8]) -> Result<(), FormatError> {
        let Some(sh) = &self.sharding else {
            return Err(FormatError::rule("model", "shards", "expected a shard head, found a full model"));
        };
        let ShardLayout { count, views, .. } = sh.layout;
        let Some((table, shard)) = parse_name(name).filter(|&(t, s)| s < count && (t == Table::Bought || views)) else {
            return Err(FormatError::rule(
                "model",
                "shards",
                format!("{} is not one of this model's shards ({count} per table{})", Quoted(name), if views { ", with views" } else { "" }),
            ));
        };
        if bytes.is_empty() {
            if let Some(sh) = &mut self.sharding {
                sh.set_loaded(table, shard);
            }
            return Ok(());
        }
        if sh.is_loaded(table, shard) {
            return Ok(());
        }
        let part = Model::from_bytes(bytes)?;
        if part.sharding.is_some() {
            return Err(FormatError::rule("model", "shards", format!("{name} is a shard head, not a shard")));
        }
        if !part.popular.is_empty() || !part.trending.is_empty() {
            return Err(FormatError::rule("model", "shards", format!("{name} carries rankings: it is a full model, not a shard")));
        }
        let other = if table == Table::Bought { Table::Viewed } else { Table::Bought };
        for (i, id) in part.items.iter().enumerate() {
            if !part.table(other)[i].is_empty() {
                return Err(FormatError::rule("model", "shards", format!("{name} carries a {} row for {}", other.name(), Quoted(id))));
            }
            if !part.table(table)[i].is_empty() && shard_of(id, count) != shard {
                return Err(FormatError::rule("model", "shards", format!("row of {} belongs to shard {}, found in {name}", Quoted(id), shard_of(id, count))));
            }
        }
        for (i, id) in part.items.iter().enumerate() {
            if shard_of(id, count) != shard {
                continue;
            }
            let at = self.intern(id);
            // A loop, not `collect()`: that is its own function in the browser's Wasm.
            let mut row = Vec::with_capacity(part.table(table)[i].len());
            for &(j, s) in &part.table(table)[i] {
                row.push((self.intern(&part.items[j as usize]), s));
            }
            self.table_mut(table)[at as usize] = row;
        }
        if let Some(sh) = &mut self.sharding {
            sh.set_loaded(table, shard);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::data::profile::ItemEvent;
    use crate::recs::model::{Interaction, TrainOptions};

    /// Purchases, and views by a separate crowd, so both tables have rows.
    fn model() -> Model {
        let mut log = Vec::new();
        for u in 0..40 {
            for i in 0..30 {
                if (u * 7 + i * 3) % 5 < 2 {
                    log.push(Interaction {
                        user: format!("u{u}"),
                        item: format!("p{}", (i + u % 3) % 30),
                        time: i64::from(u * 30 + i) * 3_600,
                        event: ItemEvent::Purchase,
                        quantity: 1.0,
                    });
                }
                if (u * 3 + i * 7) % 6 < 2 {
                    log.push(Interaction {
                        user: format!("w{u}"),
                        item: format!("p{}", (i + u % 4) % 30),
                        time: i64::from(u * 30 + i) * 3_600,
                        event: ItemEvent::View,
                        quantity: 1.0,
                    });
                }
            }
        }
        let m = Model::train(&log, &TrainOptions { k: 6, ..TrainOptions::default() });
        assert!(m.has_views());
        m
    }

    type Files = HashMap<String, Vec<u8>>;

    fn head_part(m: &Model, count: u32) -> (Model, Files) {
        let (head, files) = m.split(count).unwrap();
        // The head travels in binary (base64) inside the browser's bundle.
        let back = Model::from_bundle_part(&head.to_bundle_part()).unwrap();
        assert_eq!(back, head);
        (back, files.into_iter().collect())
    }

    fn load(head: &mut Model, files: &Files, names: &[String]) {
        for name in names {
            head.add_shard(name, &files[name]).unwrap();
        }
    }

    #[test]
    fn a_partial_model_decides_as_the_full_one_for_loaded_rows() {
        let m = model();
        let ids: Vec<&str> = m.popular().collect();
        assert!(ids.len() > 10);
        for count in [1, 3, 64] {
            let (mut head, files) = head_part(&m, count);
            assert_eq!(files.len(), 2 * count as usize, "both tables");
            assert_eq!(head.popular().collect::<Vec<_>>(), ids);
            assert_eq!(head.trending().collect::<Vec<_>>(), m.trending().collect::<Vec<_>>());
            let history = [ids[3], ids[7], ids[1]];
            let need = head.missing_shards(history.map(|h| (h, Table::Bought)));
            assert!(!need.is_empty() && need.iter().all(|n| !n.starts_with('v')));
            load(&mut head, &files, &need);
            assert!(head.missing_shards(history.map(|h| (h, Table::Bought))).is_empty());
            assert_eq!(head.ranked_for_you(&history), m.ranked_for_you(&history), "{count} shards");
            for h in history {
                assert_eq!(head.ranked_also_bought(h).collect::<Vec<_>>(), m.ranked_also_bought(h).collect::<Vec<_>>());
                // View rows come from their own files.
                assert!(head.ranked_also_viewed(h).next().is_none() || count == 1);
            }
            let need = head.missing_shards([(ids[2], Table::Viewed)]);
            assert_eq!(need, vec![shard_name(Table::Viewed, shard_of(ids[2], count))]);
            load(&mut head, &files, &need);
            assert_eq!(head.ranked_also_viewed(ids[2]).collect::<Vec<_>>(), m.ranked_also_viewed(ids[2]).collect::<Vec<_>>());
        }
        // Every shard loaded, in any order, twice: every row as in the full model.
        let (mut head, files) = head_part(&m, 5);
        let mut names: Vec<String> = files.keys().cloned().collect();
        names.sort();
        names.reverse();
        load(&mut head, &files, &names);
        load(&mut head, &files, &names);
        for id in &ids {
            assert_eq!(head.ranked_also_bought(id).collect::<Vec<_>>(), m.ranked_also_bought(id).collect::<Vec<_>>(), "{id}");
            assert_eq!(head.ranked_also_viewed(id).collect::<Vec<_>>(), m.ranked_also_viewed(id).collect::<Vec<_>>(), "{id}");
        }
        assert!(m.missing_shards(ids.iter().map(|&i| (i, Table::Bought))).is_empty(), "a full model needs nothing");
    }

    #[test]
    fn a_missing_shard_means_no_neighbours_not_wrong_ones() {
        let m = model();
        let (head, _) = head_part(&m, 8);
        let id = m.popular().next().unwrap();
        assert!(head.ranked_also_bought(id).next().is_none());
        assert_eq!(head.missing_shards([(id, Table::Bought)]), vec![format!("{}.vtm", shard_of(id, 8))]);
        // A file that could not be fetched is given up on (empty bytes): no longer missing, no rows.
        let mut head = head;
        head.add_shard(&format!("{}.vtm", shard_of(id, 8)), &[]).unwrap();
        assert!(head.missing_shards([(id, Table::Bought)]).is_empty());
        assert!(head.ranked_also_bought(id).next().is_none());
    }

    #[test]
    fn wrong_corrupt_or_misplaced_shards_are_errors_and_change_nothing() {
        let m = model();
        let (head, files) = head_part(&m, 4);
        let nonempty = (0..4u32).find(|&s| Model::from_bytes(&files[&shard_name(Table::Bought, s)]).unwrap().neighbors.iter().any(|r| !r.is_empty())).unwrap();
        let right = shard_name(Table::Bought, nonempty);
        let wrong = shard_name(Table::Bought, (nonempty + 1) % 4);
        let mut h = head.clone();
        let e = h.add_shard(&wrong, &files[&right]).unwrap_err().to_string();
        assert!(e.contains("belongs to shard"), "{e}");
        let e = h.add_shard(&shard_name(Table::Viewed, nonempty), &files[&right]).unwrap_err().to_string();
        assert!(e.contains("Bought row"), "a file of the other table: {e}");
        assert_eq!(h, head);
        let mut bad = files[&right].clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 1;
        assert!(h.add_shard(&right, &bad).unwrap_err().to_string().contains("CRC-32"));
        assert!(h.add_shard(&right, &bad[..10]).is_err());
        for name in ["9.vtm", "v4.vtm", "01.vtm", "1", "x1.vtm", "-1.vtm", "", "99999999999.vtm"] {
            assert!(h.add_shard(name, &files["0.vtm"]).unwrap_err().to_string().contains("not one of"), "{name}");
        }
        assert!(h.add_shard("0.vtm", &m.to_bytes()).unwrap_err().to_string().contains("rankings"));
        assert!(h.add_shard("0.vtm", &head.to_bytes()).unwrap_err().to_string().contains("shard head, not a shard"));
        assert_eq!(h, head);
        let mut full = m.clone();
        assert!(full.add_shard("0.vtm", &files["0.vtm"]).is_err());
        assert!(head.split(2).is_err(), "a head cannot be split again");
        // A model without views has no view files, and never asks for them.
        let plain = Model { viewed: vec![Vec::new(); m.len()], ..m.clone() };
        let (phead, pfiles) = head_part(&plain, 4);
        assert_eq!(pfiles.len(), 4);
        assert!(phead.missing_shards([("p1", Table::Viewed)]).is_empty());
    }

    /// The layout alone names the same files a head would ask for: what the edge preloads.
    #[test]
    fn a_layout_names_the_files_a_head_needs() {
        let m = model();
        let (head, _) = m.split(8).unwrap();
        let layout = head.shard_layout().unwrap();
        assert!(layout.views);
        let needs = [("p1", Table::Bought), ("p2", Table::Viewed), ("p1", Table::Bought), ("p3", Table::Bought)];
        assert_eq!(layout.files(needs), head.missing_shards(needs));
        assert_eq!(layout.files([("p1", Table::Bought), ("p1", Table::Bought)]).len(), 1, "each file once");
        let no_views = ShardLayout { views: false, ..layout.clone() };
        assert_eq!(no_views.files([("p2", Table::Viewed)]), Vec::<String>::new(), "a model without views has no view files");
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
            assert!(ShardLayout::new(4, bad.into(), false).is_err(), "{bad:?}");
        }
        assert!(ShardLayout::new(0, "m-1/".into(), false).is_err());
        // The hash is part of the format: pin it.
        assert_eq!(content_hash(b""), "cbf29ce484222325");
        assert_eq!(shard_of("a", u32::MAX), 0xe40c_292c, "FNV-1a of \"a\"");
        assert_eq!(shard_of("a", 1000), 0xe40c_292c % 1000);
    }
}
