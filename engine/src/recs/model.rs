//! The item-to-item recommendation model: training from interactions, the top-K neighbour table,
//! popularity for cold start, and its versioned snapshot format.
//!
//! Training is item-based collaborative filtering, pruned to the K best neighbours per item: by
//! default local EASE ([`Similarity::LocalEase`]), or cosine over per-user item weights as in
//! `implicit`'s ItemItemRecommender ([`Similarity::Cosine`]). Weighting is kept
//! separate from similarity: [`Interaction`] weights (purchase > add to cart > view, repeats
//! dampened by a logarithm) feed one co-occurrence pass; cost is bounded per user by keeping only
//! their [`MAX_ITEMS_PER_USER`] heaviest items, so one wholesale buyer cannot dominate the run time.

use std::collections::HashMap;

use serde::Serialize;

use crate::base::error::{FormatError, V1};
#[cfg(feature = "full-bundle")]
use crate::base::json::{At, R};
use crate::base::shard_layout::ShardsDoc;
use crate::base::time::Seconds;
use crate::cel::Quoted;
use crate::data::profile::ItemEvent;

#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    pub user: String,
    pub item: String,
    pub time: Seconds,
    pub event: ItemEvent,
    pub quantity: f64,
}

/// Neighbours kept per item.
pub const DEFAULT_K: usize = 30;
/// History items `for_you` scores from (newest first): enough for a whole customer history.
pub const MAX_HISTORY: usize = 500;

/// Per-user cap on items entering the co-occurrence pass (quadratic in this number).
pub const MAX_ITEMS_PER_USER: usize = 300;

/// How item-to-item weights are learned from the co-occurrence (Gram) matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Similarity {
    /// Cosine over log-dampened interaction weights, with +1 shrinkage.
    Cosine,
    /// EASE (Steck 2019), solved locally: for each item, the ridge regression of that item on its
    /// `neighborhood` strongest co-occurring items, B = −P/diag(P) with P = (G + λI)⁻¹ restricted
    /// to that neighbourhood. Close to full EASE in accuracy (bench/results) without its dense
    /// item×item inverse, which does not scale to 100,000 items.
    LocalEase { lambda: f64, neighborhood: usize },
}

/// Training settings; [`TrainOptions::default`] is what `vitrine train` uses.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Neighbours kept per item.
    pub k: usize,
    pub similarity: Similarity,
    /// Interactions lose half their weight every this many days before the newest one in the data
    /// (`None`: all count the same).
    pub half_life_days: Option<f64>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions { k: DEFAULT_K, similarity: Similarity::LocalEase { lambda: 400.0, neighborhood: 150 }, half_life_days: None }
    }
}

/// A trained model. Scores are similarities in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) items: Vec<String>,
    pub(crate) index: crate::data::catalog::Ids,
    pub(crate) neighbors: Vec<Vec<(u32, f32)>>,
    /// "Viewed X, also viewed" rows, trained on view events alone; one per item (all empty when
    /// the log has no views).
    pub(crate) viewed: Vec<Vec<(u32, f32)>>,
    /// Items by number of distinct users, most popular first, with that count.
    pub(crate) popular: Vec<(u32, u32)>,
    /// Items by time-decayed interaction weight (half-life [`TRENDING_HALF_LIFE_DAYS`] before the
    /// newest interaction in the data), with that weight × 1000, most trending first.
    pub(crate) trending: Vec<(u32, u32)>,
    /// Set for a partial model (a shard head, see `shard.rs`): which rows are present.
    pub(crate) sharding: Option<crate::base::shard_layout::Sharding>,
}

/// At most this many items are kept in the popular and trending rankings: fill draws from them,
/// and a sharded model's head carries them to the browser whole.
pub const MAX_RANKED: usize = 500;

/// How many products of each fallback ranking a browser's bundle head carries
/// ([`Model::head_products`]).
pub const HEAD_PRODUCTS: usize = 16;

/// Scores live on a 1/65535 grid in every form of the model (trained, JSON, binary, shards), so
/// every runtime sums the very same `f32`s and ranks identically.
pub(crate) fn quantize(s: f32) -> u16 {
    (s.clamp(0.0, 1.0) * 65535.0).round() as u16
}

pub(crate) fn dequantize(q: u16) -> f32 {
    f32::from(q) / 65535.0
}

/// Half-life of an interaction's weight in the trending score.
pub const TRENDING_HALF_LIFE_DAYS: f64 = 14.0;

fn event_weight(e: ItemEvent) -> f64 {
    match e {
        ItemEvent::Purchase => 1.0,
        ItemEvent::AddToCart => 0.5,
        ItemEvent::View => 0.25,
    }
}

impl Model {
    pub fn train(interactions: &[Interaction], options: &TrainOptions) -> Model {
        let mut index = crate::data::catalog::HashIds::default();
        let mut items: Vec<String> = Vec::new();
        let mut user_index: HashMap<&str, u32> = HashMap::new();
        let mut user_names: Vec<&str> = Vec::new();
        let mut triples: Vec<Triple> = Vec::with_capacity(interactions.len());
        for it in interactions {
            let next = items.len() as u32;
            let i = *index.entry(it.item.clone()).or_insert_with(|| {
                items.push(it.item.clone());
                next
            });
            let next = user_names.len() as u32;
            let u = *user_index.entry(&it.user).or_insert_with(|| {
                user_names.push(&it.user);
                next
            });
            triples.push((u, i, event_weight(it.event), it.time, it.event == ItemEvent::View));
        }
        drop(user_index);
        // Users in name order, items in first-seen order: float sums, and so the model, do not
        // depend on hashing. The sort is stable, so repeats of one (user, item) sum in input order.
        let mut by_name: Vec<u32> = (0..user_names.len() as u32).collect();
        by_name.sort_by_key(|&u| user_names[u as usize]);
        let mut rank = vec![0u32; user_names.len()];
        for (r, &u) in by_name.iter().enumerate() {
            rank[u as usize] = r as u32;
        }
        triples.sort_by_key(|&(u, i, ..)| (rank[u as usize], i));
        let newest = interactions.iter().map(|it| it.time).max().unwrap_or(0);
        let n = items.len();
        let (neighbors, buyers) = neighbor_table(&triples, n, options, newest);
        // "Viewed X, also viewed": the same model over view events alone, when the log has any.
        let views: Vec<Triple> = triples.iter().filter(|t| t.4).copied().collect();
        drop(triples);
        let viewed = if views.is_empty() { vec![Vec::new(); n] } else { neighbor_table(&views, n, options, newest).0 };
        let mut popular: Vec<(u32, u32)> = buyers.iter().enumerate().map(|(i, &c)| (i as u32, c)).collect();
        popular.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        popular.truncate(MAX_RANKED);
        // Trending is relative to the newest interaction, not to a clock: training stays a pure
        // function of its input.
        let mut heat = vec![0f64; n];
        for it in interactions {
            let age_days = (newest - it.time) as f64 / 86_400.0;
            heat[index[&it.item] as usize] += event_weight(it.event) * 0.5f64.powf(age_days / TRENDING_HALF_LIFE_DAYS);
        }
        let mut trending: Vec<(u32, u32)> =
            heat.iter().enumerate().map(|(i, &h)| (i as u32, (h * 1000.0).round().min(f64::from(u32::MAX)) as u32)).filter(|&(_, h)| h > 0).collect();
        trending.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        trending.truncate(MAX_RANKED);
        #[cfg(not(feature = "full-bundle"))]
        let index = index.into_iter().collect();
        Model { items, index, neighbors, viewed, popular, trending, sharding: None }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn item(&self, i: u32) -> &str {
        &self.items[i as usize]
    }

    /// The neighbours of `id`, best first.
    pub fn neighbors(&self, id: &str) -> &[(u32, f32)] {
        self.index.get(id).map_or(&[], |&i| &self.neighbors[i as usize])
    }

    /// Item ids by popularity, most popular first.
    pub fn popular(&self) -> impl Iterator<Item = &str> {
        self.popular.iter().map(|&(i, _)| self.item(i))
    }

    /// Item ids by recent momentum (time-decayed interactions), hottest first.
    pub fn trending(&self) -> impl Iterator<Item = &str> {
        self.trending.iter().map(|&(i, _)| self.item(i))
    }

    /// The products a browser's bundle head carries the catalog entries of (`vitrine bundle
    /// --shards`): the first [`HEAD_PRODUCTS`] of each fallback ranking (popular, then trending),
    /// so that widgets falling back on them need no fetch. An id may come twice.
    pub fn head_products(&self) -> impl Iterator<Item = &str> {
        self.popular().take(HEAD_PRODUCTS).chain(self.trending().take(HEAD_PRODUCTS))
    }

    /// "Customers who bought X also bought": X's neighbours, best first.
    pub fn ranked_also_bought(&self, id: &str) -> impl Iterator<Item = &str> {
        self.neighbors(id).iter().map(|&(j, _)| self.item(j))
    }

    /// "Customers who viewed X also viewed": X's neighbours over view events alone, best first.
    pub fn ranked_also_viewed(&self, id: &str) -> impl Iterator<Item = &str> {
        self.viewed_row(id).iter().map(|&(j, _)| self.item(j))
    }

    fn viewed_row(&self, id: &str) -> &[(u32, f32)] {
        self.index.get(id).map_or(&[], |&i| &self.viewed[i as usize])
    }

    /// [`Model::ranked_also_bought`] as a vector (and so on below): for deciding, which takes a
    /// ranking whole. One `collect` per item type of the lists in the browser's Wasm, which copies
    /// without checking capacity per item (pushing made a 500-item ranking 40 % slower to take).
    pub(crate) fn also_bought_ids(&self, id: &str) -> Vec<&str> {
        self.ids_of(self.neighbors(id))
    }

    pub(crate) fn also_viewed_ids(&self, id: &str) -> Vec<&str> {
        self.ids_of(self.viewed_row(id))
    }

    pub(crate) fn trending_ids(&self) -> Vec<&str> {
        self.ids_of(&self.trending)
    }

    fn ids_of<S>(&self, list: &[(u32, S)]) -> Vec<&str> {
        list.iter().map(|&(i, _)| self.item(i)).collect()
    }

    /// True if the model has "also viewed" rows (the log it was trained on had views).
    pub fn has_views(&self) -> bool {
        self.viewed.iter().any(|r| !r.is_empty())
    }

    /// [`Model::ranked_also_bought`], then popular items, skipping `skip`, at most `k`.
    pub fn also_bought(&self, id: &str, k: usize, skip: &dyn Fn(&str) -> bool) -> Vec<String> {
        fill(self.ranked_also_bought(id).chain(self.popular()), k, &|c| c == id || skip(c))
    }

    /// [`Model::ranked_for_you`], then popular items, skipping `skip`, at most `k`.
    pub fn for_you(&self, history: &[&str], k: usize, skip: &dyn Fn(&str) -> bool) -> Vec<String> {
        fill(self.ranked_for_you(history).into_iter().chain(self.popular()), k, skip)
    }

    /// "For you": neighbours of the visitor's history (its newest [`MAX_HISTORY`] distinct items,
    /// each counting the same), summed, best first. `history` is oldest first; repeated items
    /// count once.
    pub fn ranked_for_you(&self, history: &[&str]) -> Vec<&str> {
        let mut seen = Vec::new();
        for h in history.iter().rev() {
            if !seen.contains(h) {
                seen.push(*h);
            }
            if seen.len() == MAX_HISTORY {
                break;
            }
        }
        // Every history item counts the same: on held-out orders, decaying older items (0.85 per
        // step) cost a sixth of HR@10 (bench/results/2026-11-22-recsys-online-retail-diagnostics.md).
        // Each neighbour's weights summed in the order they come (no hash map: the browser's Wasm
        // has one map shape, `Ids`): the neighbours in that order, stably sorted by neighbour.
        // Loops, not `collect()`: each of those is its own function in the browser's Wasm.
        let mut pairs: Vec<(u32, f32)> = Vec::new();
        for h in &seen {
            pairs.extend_from_slice(self.neighbors(h));
        }
        let mut order: Vec<u64> = Vec::with_capacity(pairs.len());
        for (i, &(j, _)) in pairs.iter().enumerate() {
            order.push(u64::from(j) << 32 | i as u64);
        }
        crate::sort::sort_u64(&mut order);
        let mut ranked: Vec<(u32, f64)> = Vec::new();
        for &(j, s) in order.iter().map(|&o| &pairs[o as u32 as usize]) {
            match ranked.last_mut() {
                Some((last, sum)) if *last == j => *sum += f64::from(s),
                _ => ranked.push((j, 0.0 + f64::from(s))),
            }
        }
        // Ties go by id, not by index: a sharded model numbers its items in the order shards arrive.
        crate::sort::sort_by_score_desc(&mut ranked, |r| r.1, |a, b| self.item(a.0).cmp(self.item(b.0)));
        let mut out = Vec::with_capacity(ranked.len());
        for (j, _) in ranked {
            out.push(self.item(j));
        }
        out
    }

    /// Snapshot: `{"v":1,"kind":"item-knn","items":[...],"neighbors":[[j,s,j,s...],...],"popular":[[i,n],...]}`
    /// with scores as integer millionths (compact and exact to print).
    pub fn to_json(&self) -> String {
        let doc = ModelDoc {
            v: V1,
            kind: "item-knn".into(),
            items: self.items.clone(),
            // A shard head's rows are all empty: it leaves them out (a third of its parse time).
            neighbors: if self.sharding.is_some() { Vec::new() } else { rows_json(&self.neighbors) },
            viewed: if self.has_views() && self.sharding.is_none() { rows_json(&self.viewed) } else { Vec::new() },
            popular: self.popular.iter().map(|&(i, n)| [i, n]).collect(),
            trending: self.trending.iter().map(|&(i, n)| [i, n]).collect(),
            shards: self.shard_layout().map(ShardsDoc::of),
        };
        serde_json::to_string(&doc).unwrap_or_default()
    }

    /// The model's tables, for the binary writer.
    pub(crate) fn parts(&self) -> Parts<'_> {
        Parts { items: &self.items, neighbors: &self.neighbors, viewed: &self.viewed, popular: &self.popular, trending: &self.trending }
    }

    /// A model from checked tables (indices in range, ids unique).
    /// `viewed` is empty (no views) or has one row per item.
    pub(crate) fn from_parts(
        items: Vec<String>,
        neighbors: Vec<Vec<(u32, f32)>>,
        viewed: Vec<Vec<(u32, f32)>>,
        popular: Vec<(u32, u32)>,
        trending: Vec<(u32, u32)>,
    ) -> Result<Model, FormatError> {
        let mut index = crate::data::catalog::ids_with_capacity(items.len());
        for (i, id) in items.iter().enumerate() {
            if index.insert(id.clone(), i as u32).is_some() {
                return Err(FormatError::rule("model", format!("items[{i}]"), format!("duplicate item {}", Quoted(id))));
            }
        }
        let viewed = if viewed.is_empty() { vec![Vec::new(); items.len()] } else { viewed };
        Ok(Model { items, index, neighbors, viewed, popular, trending, sharding: None })
    }

    /// Reads a snapshot, checking version, kind and every index against the item table. The
    /// runtimes' bundles carry the binary form ([`Model::from_bundle_part`]); this is the JSON
    /// form `vitrine train` writes, which builds with the `full-bundle` feature read.
    #[cfg(feature = "full-bundle")]
    pub fn from_json(text: &str) -> Result<Model, FormatError> {
        let doc = crate::base::json::read("model", text, ModelDoc::read)?;
        if doc.kind != "item-knn" {
            return Err(FormatError::rule("model", "kind", format!("expected \"item-knn\", found {}", Quoted(&doc.kind))));
        }
        let n = doc.items.len();
        let neighbors = if doc.shards.is_some() && doc.neighbors.is_empty() { vec![Vec::new(); n] } else { rows_from_json("neighbors", &doc.neighbors, n)? };
        let viewed = if doc.viewed.is_empty() { Vec::new() } else { rows_from_json("viewed", &doc.viewed, n)? };
        // A loop, not `collect` into a `Result` (its adapter code is a copy per use in the
        // browser's Wasm).
        let ranking = |name: &str, rows: &[[u32; 2]]| -> Result<Vec<(u32, u32)>, FormatError> {
            let mut out = Vec::with_capacity(rows.len());
            for (x, &[i, c]) in rows.iter().enumerate() {
                if i as usize >= n {
                    return Err(FormatError::rule("model", format!("{name}[{x}]"), format!("item {i} out of range")));
                }
                out.push((i, c));
            }
            Ok(out)
        };
        let popular = ranking("popular", &doc.popular)?;
        let trending = ranking("trending", &doc.trending)?;
        let sharding = match doc.shards {
            None => None,
            Some(s) => {
                if let Some(i) = neighbors.iter().chain(&viewed).position(|r| !r.is_empty()) {
                    return Err(FormatError::rule(
                        "model",
                        format!("neighbors[{}]", i % n.max(1)),
                        "expected empty rows in a shard head (rows come from the shards)",
                    ));
                }
                Some(crate::base::shard_layout::Sharding::new(s.layout()?))
            }
        };
        Ok(Model { sharding, ..Model::from_parts(doc.items, neighbors, viewed, popular, trending)? })
    }
}

/// Rows as JSON: flat `[index, score × 10⁶, ...]`.
fn rows_json(rows: &[Vec<(u32, f32)>]) -> Vec<Vec<u32>> {
    rows.iter().map(|row| row.iter().flat_map(|&(j, s)| [j, (s * 1e6).round() as u32]).collect()).collect()
}

/// Reads `n` rows of flat `[index, millionths, ...]` pairs, checking every index and score.
#[cfg(feature = "full-bundle")]
fn rows_from_json(name: &str, rows: &[Vec<u32>], n: usize) -> Result<Vec<Vec<(u32, f32)>>, FormatError> {
    if rows.len() != n {
        return Err(FormatError::rule("model", name, format!("expected {n} rows (one per item), found {}", rows.len())));
    }
    let mut out = Vec::with_capacity(n);
    for (i, row) in rows.iter().enumerate() {
        if row.len() % 2 != 0 {
            return Err(FormatError::rule("model", format!("{name}[{i}]"), "expected [item, score] pairs, found an odd length"));
        }
        let mut parsed = Vec::with_capacity(row.len() / 2);
        for pair in row.chunks_exact(2) {
            if pair[0] as usize >= n || pair[1] > 1_000_000 {
                return Err(FormatError::rule("model", format!("{name}[{i}]"), format!("item {} or score {} out of range", pair[0], pair[1])));
            }
            // Millionths back onto the score grid: exact, since the grid is 15 times coarser.
            parsed.push((pair[0], dequantize(quantize(pair[1] as f32 / 1e6))));
        }
        out.push(parsed);
    }
    Ok(out)
}

pub(crate) struct Parts<'a> {
    pub items: &'a [String],
    pub neighbors: &'a [Vec<(u32, f32)>],
    pub viewed: &'a [Vec<(u32, f32)>],
    pub popular: &'a [(u32, u32)],
    pub trending: &'a [(u32, u32)],
}

#[derive(Serialize)]
struct ModelDoc {
    v: V1,
    kind: String,
    items: Vec<String>,
    /// One row per item; left out of a shard head, whose rows are all empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    neighbors: Vec<Vec<u32>>,
    /// "Also viewed" rows, same shape as `neighbors`; absent when the log had no views.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    viewed: Vec<Vec<u32>>,
    popular: Vec<[u32; 2]>,
    #[serde(default)]
    trending: Vec<[u32; 2]>,
    /// Present in a shard head only (see `shard.rs`): its rows are all empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shards: Option<ShardsDoc>,
}

#[cfg(feature = "full-bundle")]
impl ModelDoc {
    fn read(at: At) -> R<ModelDoc> {
        let o = at.obj(&["v", "kind", "items", "neighbors", "viewed", "popular", "trending", "shards"])?;
        let rows = |x: At| x.items(|r| r.items(|n| n.u32()));
        let pairs = |x: At| {
            x.items(|p| {
                let pair = p.items(|n| n.u32())?;
                match pair[..] {
                    [i, c] => Ok([i, c]),
                    _ => Err(p.invalid(format!("invalid length {}, expected an array of length 2", pair.len()))),
                }
            })
        };
        Ok(ModelDoc {
            v: o.req_version()?,
            kind: o.req_string("kind")?,
            items: o.req_strings("items")?,
            neighbors: o.or("neighbors", Vec::new, rows)?,
            viewed: o.or("viewed", Vec::new, rows)?,
            popular: o.req("popular", pairs)?,
            trending: o.or("trending", Vec::new, pairs)?,
            shards: o.opt("shards", ShardsDoc::read)?,
        })
    }
}

/// One interaction, indexed: (user, item, event weight, time, is a view).
type Triple = (u32, u32, f64, Seconds, bool);

/// Top-K neighbours of every item from `triples` (sorted by user, then item), scores on the grid,
/// and each item's number of distinct users.
fn neighbor_table(triples: &[Triple], n: usize, options: &TrainOptions, newest: Seconds) -> (Vec<Vec<(u32, f32)>>, Vec<u32>) {
    let ease = matches!(options.similarity, Similarity::LocalEase { .. });
    let mut norms = vec![0f64; n];
    let mut buyers = vec![0u32; n];
    // Per user, their heaviest MAX_ITEMS_PER_USER items (CSR); per item, the users holding it.
    let mut rows: Vec<(u32, f64)> = Vec::new();
    let mut row_start: Vec<usize> = vec![0];
    let mut holders: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    let mut row: Vec<(u32, f64)> = Vec::new();
    let mut t = 0;
    while t < triples.len() {
        let user = triples[t].0;
        row.clear();
        while t < triples.len() && triples[t].0 == user {
            let (_, item, mut w, mut last, _) = triples[t];
            t += 1;
            while t < triples.len() && triples[t].0 == user && triples[t].1 == item {
                w += triples[t].2;
                last = last.max(triples[t].3);
                t += 1;
            }
            // EASE reads a (near) binary matrix: a purchase, or four views, is a full 1.
            let mut x = if ease { w.min(1.0) } else { (1.0 + w).ln() };
            if let Some(h) = options.half_life_days {
                x *= 0.5f64.powf((newest - last) as f64 / 86_400.0 / h.max(1e-9));
            }
            row.push((item, x));
        }
        row.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for &(i, w) in &row {
            norms[i as usize] += w * w;
            buyers[i as usize] += 1;
        }
        row.truncate(MAX_ITEMS_PER_USER);
        let u = (row_start.len() - 1) as u32;
        for &(i, w) in &row {
            holders[i as usize].push((u, w));
        }
        rows.extend_from_slice(&row);
        row_start.push(rows.len());
    }
    let mut neighbors = match options.similarity {
        Similarity::Cosine => item_neighbors(&rows, &row_start, &holders, &norms, options.k),
        Similarity::LocalEase { lambda, neighborhood } => local_ease(&rows, &row_start, &holders, options.k, lambda, neighborhood.max(2)),
    };
    for row in &mut neighbors {
        for (_, s) in row.iter_mut() {
            *s = dequantize(quantize(*s));
        }
    }
    (neighbors, buyers)
}

/// Top-`k` neighbours of every item, one item at a time: a dense accumulator over the items its
/// holders also hold (O(items) memory per thread instead of a sparse item×item table), items split
/// across the machine's cores. Pairs are summed in user order, as a single thread would.
fn item_neighbors(rows: &[(u32, f64)], row_start: &[usize], holders: &[Vec<(u32, f64)>], norms: &[f64], k: usize) -> Vec<Vec<(u32, f32)>> {
    let n = holders.len();
    let one_item = |i: usize, acc: &mut Vec<f64>, touched: &mut Vec<u32>| -> Vec<(u32, f32)> {
        co_occurrence(i, rows, row_start, holders, acc, touched);
        let mut sims: Vec<(u32, f32)> = touched
            .iter()
            .map(|&j| {
                // Shrinkage (+1 in the denominator) keeps pairs seen once from ranking first.
                let s = acc[j as usize] / ((norms[i] * norms[j as usize]).sqrt() + 1.0);
                acc[j as usize] = 0.0;
                (j, s as f32)
            })
            .collect();
        touched.clear();
        let by_score = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if sims.len() > k && k > 0 {
            sims.select_nth_unstable_by(k - 1, by_score);
            sims.truncate(k);
        }
        sims.sort_by(by_score);
        sims.truncate(k);
        // `truncate` keeps the capacity of every co-occurring item; at 100,000 items that is GBs.
        sims.shrink_to_fit();
        sims
    };
    par_items(n, |i, acc, touched| one_item(i, acc, touched))
}

/// Item `i`'s row of the co-occurrence (Gram) matrix, off the diagonal: `acc[j] += x_ui · x_uj`
/// over the users holding `i`, pairs summed in user order; each `j` first touched is pushed to
/// `touched`. The caller reads the entries and zeroes them again.
fn co_occurrence(i: usize, rows: &[(u32, f64)], row_start: &[usize], holders: &[Vec<(u32, f64)>], acc: &mut [f64], touched: &mut Vec<u32>) {
    for &(u, wi) in &holders[i] {
        for &(j, wj) in &rows[row_start[u as usize]..row_start[u as usize + 1]] {
            if j as usize == i {
                continue;
            }
            if acc[j as usize] == 0.0 {
                touched.push(j);
            }
            acc[j as usize] += wi * wj;
        }
    }
}

/// `f(item, accumulator, touched)` for every item, on all cores; each worker owns a zeroed dense
/// accumulator of `n` floats that `f` must leave zeroed, and a list that starts empty and is `f`'s
/// to keep between the worker's items. Results come back in item order.
fn par_items<T: Send + Clone + Default>(n: usize, f: impl Fn(usize, &mut Vec<f64>, &mut Vec<u32>) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).clamp(1, 8).min(n.max(1));
    if threads == 1 {
        let (mut acc, mut touched) = (vec![0f64; n], Vec::new());
        return (0..n).map(|i| f(i, &mut acc, &mut touched)).collect();
    }
    let mut out: Vec<T> = vec![T::default(); n];
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let (mut acc, mut touched) = (vec![0f64; n], Vec::new());
                    (t..n).step_by(threads).map(|i| (i, f(i, &mut acc, &mut touched))).collect::<Vec<_>>()
                })
            })
            .collect();
        for w in workers {
            // A worker only panics if the code above has a bug; training then fails loudly.
            #[allow(clippy::unwrap_used)]
            for (i, row) in w.join().unwrap() {
                out[i] = row;
            }
        }
    });
    out
}

/// Local EASE (see [`Similarity::LocalEase`]). Two passes over items: the Gram row of each item
/// (co-occurrence weights, pruned to its strongest entries), then one small ridge solve per item
/// over its `m` strongest co-occurring items. The solve gives the weights *into* an item from its
/// neighbours; the table is then turned around to list, per item, the items it points to.
fn local_ease(rows: &[(u32, f64)], row_start: &[usize], holders: &[Vec<(u32, f64)>], k: usize, lambda: f64, m: usize) -> Vec<Vec<(u32, f32)>> {
    let n = holders.len();
    // The diagonal of the same (per-user capped) matrix as the off-diagonal entries: EASE needs
    // G = XᵀX of one X, or heavy users' items look less related than they are.
    let norms: Vec<f64> = holders.iter().map(|h| h.iter().map(|&(_, w)| w * w).sum()).collect();
    let keep = (4 * m).max(400);
    // Per item: its neighbourhood (itself, then its m − 1 strongest co-occurring items) and its Gram
    // row pruned to the `keep` strongest entries, sorted by item for lookups. Counts and weights fit
    // f32 exactly enough, and at 100,000 items the rows are most of training's memory.
    let rows_by_item: Vec<(Neighbourhood, GramRow)> = par_items(n, |i, acc, touched| {
        co_occurrence(i, rows, row_start, holders, acc, touched);
        let mut row: Vec<(u32, f64)> = touched.iter().map(|&j| (j, std::mem::take(&mut acc[j as usize]))).collect();
        touched.clear();
        let by_weight = |a: &(u32, f64), b: &(u32, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if row.len() > keep {
            row.select_nth_unstable_by(keep - 1, by_weight);
            row.truncate(keep);
        }
        row.sort_by(by_weight);
        let hood: Vec<u32> = std::iter::once(i as u32).chain(row.iter().take(m - 1).map(|e| e.0)).collect();
        let mut lookup: Vec<(u32, f32)> = row.into_iter().map(|(j, w)| (j, w as f32)).collect();
        lookup.sort_by_key(|e| e.0);
        (hood, lookup)
    });
    // Weights into each item j from its neighbourhood: (source, weight).
    let into: Vec<Vec<(u32, f64)>> = par_items(n, |j, _, place| {
        let hood = &rows_by_item[j].0;
        let size = hood.len();
        if size < 2 {
            return Vec::new();
        }
        // The Gram matrix of the neighbourhood plus λI, lower triangle (all `solve_unit` reads):
        // each neighbour's pruned row is scattered through `place` (the worker's `touched` list,
        // unused here, grown into an item → index + 1 map and left all zero). Pruning can drop a
        // pair from one side only; both sides hold the same sum, so either fills it.
        if place.len() < n {
            place.resize(n, 0);
        }
        for (r, &x) in hood.iter().enumerate() {
            place[x as usize] = r as u32 + 1;
        }
        let mut a = vec![0f64; size * size];
        for (r, &x) in hood.iter().enumerate() {
            a[r * size + r] = norms[x as usize] + lambda;
            for &(y, w) in &rows_by_item[x as usize].1 {
                let c = place[y as usize] as usize;
                if c > 0 {
                    let (hi, lo) = if r >= c { (r, c - 1) } else { (c - 1, r) };
                    a[hi * size + lo] = f64::from(w);
                }
            }
        }
        for &x in hood {
            place[x as usize] = 0;
        }
        let Some(x) = solve_unit(&mut a, size) else { return Vec::new() };
        let pivot = x[0];
        if pivot <= 0.0 {
            return Vec::new();
        }
        hood.iter().zip(&x).skip(1).map(|(&src, &xi)| (src, -xi / pivot)).filter(|&(_, w)| w > 0.0).collect()
    });
    drop(rows_by_item);
    let mut out: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    for (j, row) in into.into_iter().enumerate() {
        for (src, w) in row {
            out[src as usize].push((j as u32, w));
        }
    }
    let max = out.iter().flatten().map(|e| e.1).fold(0.0f64, f64::max);
    out.into_iter()
        .map(|mut row| {
            row.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            row.truncate(k);
            // Scores are kept in [0, 1] (the snapshot's range); scaling keeps every ranking.
            row.into_iter().map(|(j, w)| (j, (w / max) as f32)).collect()
        })
        .collect()
}

/// An item and its strongest co-occurring items, the item first.
type Neighbourhood = Vec<u32>;
/// A pruned Gram matrix row, `(item, weight)` sorted by item.
type GramRow = Vec<(u32, f32)>;

/// Solves `A x = e₀` for a symmetric positive definite `A` (row-major, `n`×`n`) by Cholesky, in
/// place; only the lower triangle and the diagonal are read. `None` if `A` is not positive definite.
fn solve_unit(a: &mut [f64], n: usize) -> Option<Vec<f64>> {
    for j in 0..n {
        // Row j (L's row, left of the diagonal) and the rows below it, whose column j it fills.
        let (head, below) = a.split_at_mut((j + 1) * n);
        let row_j = &mut head[j * n..];
        let d = row_j[j] - dot(&row_j[..j], &row_j[..j]);
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        row_j[j] = d;
        let row_j = &row_j[..j];
        for row_i in below.chunks_exact_mut(n) {
            row_i[j] = (row_i[j] - dot(&row_i[..j], row_j)) / d;
        }
    }
    // L y = e0, then Lᵀ x = y.
    let mut y = vec![0f64; n];
    for i in 0..n {
        let s = if i == 0 { 1.0 } else { 0.0 } - dot(&a[i * n..i * n + i], &y[..i]);
        y[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = y[i];
        for p in i + 1..n {
            s -= a[p * n + i] * y[p];
        }
        y[i] = s / a[i * n + i];
    }
    Some(y)
}

/// `Σ x[p]·y[p]` in four interleaved partial sums, which the compiler can keep in vector
/// registers (one running sum cannot be reordered); the order is fixed, so results are too.
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let (xc, yc) = (x.chunks_exact(4), y.chunks_exact(4));
    let tail: f64 = xc.remainder().iter().zip(yc.remainder()).map(|(a, b)| a * b).sum();
    let mut acc = [0f64; 4];
    for (a, b) in xc.zip(yc) {
        for k in 0..4 {
            acc[k] += a[k] * b[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The first `k` distinct candidates not skipped: the "fallback fill" that keeps widgets full.
fn fill<'a>(candidates: impl Iterator<Item = &'a str>, k: usize, skip: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(k);
    for c in candidates {
        if out.len() == k {
            break;
        }
        if !skip(c) && !out.iter().any(|o| o == c) {
            out.push(c.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two disjoint groups (implicit's checkerboard): users of group A buy only items a*, users of
    /// group B only items b*. Every recommendation must stay inside the visitor's group.
    fn checkerboard() -> Vec<Interaction> {
        let mut out = Vec::new();
        for u in 0..20 {
            let group = if u % 2 == 0 { "a" } else { "b" };
            for i in 0..5 {
                if (u + i) % 4 != 0 {
                    out.push(Interaction { user: format!("u{u}"), item: format!("{group}{i}"), time: 0, event: ItemEvent::Purchase, quantity: 1.0 });
                }
            }
        }
        out
    }

    #[test]
    fn neighbours_stay_in_group() {
        for similarity in [Similarity::Cosine, TrainOptions::default().similarity] {
            let m = Model::train(&checkerboard(), &TrainOptions { k: 10, similarity, half_life_days: None });
            check_groups(&m);
        }
    }

    fn check_groups(m: &Model) {
        for id in ["a0", "a3", "b1"] {
            let g = &id[..1];
            let recs = m.also_bought(id, 3, &|_| false);
            assert_eq!(recs.len(), 3);
            assert!(recs.iter().all(|r| r.starts_with(g) && r != id), "{id}: {recs:?}");
        }
        let recs = m.for_you(&["b0", "b2"], 3, &|_| false);
        assert!(recs.iter().all(|r| r.starts_with('b')), "{recs:?}");
        assert!(m.neighbors.iter().flatten().all(|&(_, s)| (0.0..=1.0).contains(&s)), "scores stay in the snapshot's range");
    }

    #[test]
    fn cholesky_solves_unit_systems() {
        // A = [[4, 2], [2, 3]]: A⁻¹ e₀ = [3, -2] / 8.
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let x = solve_unit(&mut a, 2).unwrap();
        assert!((x[0] - 0.375).abs() < 1e-12 && (x[1] + 0.25).abs() < 1e-12, "{x:?}");
        assert_eq!(solve_unit(&mut [1.0, 2.0, 2.0, 1.0], 2), None, "not positive definite");
    }

    /// Larger than one vector block and not a multiple of it: `A x = e₀` holds to rounding.
    #[test]
    fn cholesky_solves_larger_systems() {
        for n in [5, 37, 130] {
            // A = BᵀB + I with B's entries from a fixed linear congruential sequence.
            let mut seed = 12345u64;
            let mut next = || {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            };
            let b: Vec<f64> = (0..n * n).map(|_| next()).collect();
            let a: Vec<f64> =
                (0..n * n).map(|rc| (0..n).map(|k| b[k * n + rc / n] * b[k * n + rc % n]).sum::<f64>() + if rc / n == rc % n { 1.0 } else { 0.0 }).collect();
            let x = solve_unit(&mut a.clone(), n).unwrap();
            for r in 0..n {
                let lhs: f64 = (0..n).map(|c| a[r * n + c] * x[c]).sum();
                assert!((lhs - if r == 0 { 1.0 } else { 0.0 }).abs() < 1e-9, "n={n} row {r}: {lhs}");
            }
        }
    }

    /// EASE learns what predicts an item, not just what co-occurs with it: "bread" is bought by
    /// everyone, so it says nothing about "jam", while "peanut butter" buyers all take jam.
    #[test]
    fn local_ease_discounts_items_everyone_buys() {
        let mut log = Vec::new();
        let mut buy =
            |u: usize, item: &str| log.push(Interaction { user: format!("u{u}"), item: item.into(), time: 0, event: ItemEvent::Purchase, quantity: 1.0 });
        for u in 0..40 {
            buy(u, "bread");
            if u < 10 {
                buy(u, "peanut butter");
                buy(u, "jam");
            } else if u < 25 {
                buy(u, "milk");
            }
        }
        let m = Model::train(&log, &TrainOptions::default());
        assert_eq!(m.ranked_also_bought("peanut butter").next(), Some("jam"));
        let jam_from_bread = m.neighbors("bread").iter().find(|&&(j, _)| m.item(j) == "jam").map_or(0.0, |e| e.1);
        let jam_from_pb = m.neighbors("peanut butter").iter().find(|&&(j, _)| m.item(j) == "jam").map_or(0.0, |e| e.1);
        assert!(jam_from_pb > jam_from_bread, "{jam_from_pb} vs {jam_from_bread}");
    }

    #[test]
    fn cold_start_and_fill_use_popularity() {
        let m = Model::train(&checkerboard(), &TrainOptions { k: 10, ..TrainOptions::default() });
        let recs = m.for_you(&[], 10, &|_| false);
        assert_eq!(recs.len(), 10, "popularity fills up to every item");
        let recs = m.also_bought("unknown", 3, &|c| c == "a1");
        assert_eq!(recs.len(), 3);
        assert!(!recs.contains(&"a1".to_string()));
    }

    #[test]
    fn trending_favours_recent_interactions() {
        let day = 86_400;
        let mut log = Vec::new();
        // "old" was bought by five users 60 days ago; "new" by three users this week.
        for u in 0..5 {
            log.push(Interaction { user: format!("o{u}"), item: "old".into(), time: 0, event: ItemEvent::Purchase, quantity: 1.0 });
        }
        for u in 0..3 {
            log.push(Interaction { user: format!("n{u}"), item: "new".into(), time: 58 * day + u * day, event: ItemEvent::Purchase, quantity: 1.0 });
        }
        let m = Model::train(&log, &TrainOptions { k: 5, ..TrainOptions::default() });
        assert_eq!(m.popular().collect::<Vec<_>>(), ["old", "new"]);
        assert_eq!(m.trending().collect::<Vec<_>>(), ["new", "old"]);
        let back = Model::from_json(&m.to_json()).unwrap();
        assert_eq!(back.trending().collect::<Vec<_>>(), ["new", "old"]);
    }

    /// Recency weighting (`--half-life-days`): "kettle" was bought with "teapot" by six shoppers a
    /// year ago, and with "travel mug" by three shoppers this month. Time-free training pairs it
    /// with the teapot; with a 60-day half-life the year-old baskets weigh 1/64 and the travel mug
    /// comes first. Every shopper also buys "filler", so each basket has something to regress on.
    #[test]
    fn half_life_lets_recent_baskets_lead() {
        let day = 86_400;
        let mut log = Vec::new();
        let mut buy = |u: String, item: &str, time: i64| log.push(Interaction { user: u, item: item.into(), time, event: ItemEvent::Purchase, quantity: 1.0 });
        for u in 0..6 {
            for item in ["kettle", "teapot", "filler"] {
                buy(format!("old{u}"), item, 0);
            }
        }
        for u in 0..3 {
            for item in ["kettle", "travel mug", "filler"] {
                buy(format!("new{u}"), item, 365 * day + u * day);
            }
        }
        let first = |half_life_days| {
            let m = Model::train(&log, &TrainOptions { half_life_days, ..TrainOptions::default() });
            let top = m.ranked_also_bought("kettle").find(|&j| j != "filler").map(str::to_owned);
            top
        };
        assert_eq!(first(None).as_deref(), Some("teapot"));
        assert_eq!(first(Some(60.0)).as_deref(), Some("travel mug"));
    }

    /// Buyers pair each `a` item with its `b` twin; a separate crowd of viewers pairs it with its
    /// `c` twin instead.
    fn bought_and_viewed() -> Vec<Interaction> {
        let mut out = checkerboard();
        for u in 0..20 {
            for i in 0..5 {
                if (u + i) % 3 != 0 {
                    for item in [format!("a{i}"), format!("c{i}")] {
                        out.push(Interaction { user: format!("v{u}-{i}"), item, time: 0, event: ItemEvent::View, quantity: 1.0 });
                    }
                }
            }
        }
        out
    }

    #[test]
    fn also_viewed_follows_views_alone() {
        let m = Model::train(&bought_and_viewed(), &TrainOptions { k: 4, ..TrainOptions::default() });
        assert!(m.has_views());
        for i in 0..5 {
            assert_eq!(m.ranked_also_viewed(&format!("a{i}")).next(), Some(format!("c{i}").as_str()), "a{i}");
            assert!(m.ranked_also_viewed(&format!("a{i}")).all(|j| j.starts_with('c')));
        }
        // Items nobody viewed have no "also viewed" rows.
        assert!(m.ranked_also_viewed("b1").next().is_none());
        // Both tables survive both snapshot forms, and a shard round trip.
        for back in [Model::from_json(&m.to_json()).unwrap(), Model::from_bytes(&m.to_bytes()).unwrap()] {
            assert_eq!(back, m);
        }
        let (mut head, shards) = m.split(3).unwrap();
        for (name, bytes) in &shards {
            head.add_shard(name, bytes).unwrap();
        }
        assert_eq!(head.ranked_also_viewed("a2").collect::<Vec<_>>(), m.ranked_also_viewed("a2").collect::<Vec<_>>());
        // A log without views: no table, and nothing about it in either snapshot form.
        let plain = Model::train(&checkerboard(), &TrainOptions::default());
        assert!(!plain.has_views() && !plain.to_json().contains("viewed"));
        assert_eq!(plain.to_bytes()[6], 0, "flags");
    }

    #[test]
    fn snapshot_round_trips_and_rejects_corruption() {
        let m = Model::train(&checkerboard(), &TrainOptions { k: 10, ..TrainOptions::default() });
        let text = m.to_json();
        let back = Model::from_json(&text).unwrap();
        assert_eq!(back.also_bought("a0", 4, &|_| false), m.also_bought("a0", 4, &|_| false));
        assert!(Model::from_json(&text.replacen("\"v\":1", "\"v\":9", 1)).is_err());
        let bad = r#"{"v":1,"kind":"item-knn","items":["a"],"neighbors":[[5,10]],"popular":[]}"#;
        assert!(Model::from_json(bad).unwrap_err().to_string().contains("out of range"));
        let bad = r#"{"v":1,"kind":"item-knn","items":["a","b"],"neighbors":[[]],"popular":[]}"#;
        assert!(Model::from_json(bad).is_err());
    }
}
