//! The item-to-item recommendation model: training from interactions, the top-K neighbour table,
//! popularity for cold start, and its versioned snapshot format.
//!
//! Training is item-based collaborative filtering (cosine over per-user item weights, as in
//! `implicit`'s ItemItemRecommender), pruned to the K best neighbours per item. Weighting is kept
//! separate from similarity: [`Interaction`] weights (purchase > add to cart > view, repeats
//! dampened by a logarithm) feed one co-occurrence pass; cost is bounded per user by keeping only
//! their [`MAX_ITEMS_PER_USER`] heaviest items, so one wholesale buyer cannot dominate the run time.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{FormatError, V1};
use crate::profile::ItemEvent;
use crate::time::Seconds;

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
/// Per-user cap on items entering the co-occurrence pass (quadratic in this number).
pub const MAX_ITEMS_PER_USER: usize = 300;

/// A trained model. Scores are similarities in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    items: Vec<String>,
    index: HashMap<String, u32>,
    neighbors: Vec<Vec<(u32, f32)>>,
    /// Items by number of distinct users, most popular first, with that count.
    popular: Vec<(u32, u32)>,
    /// Items by time-decayed interaction weight (half-life [`TRENDING_HALF_LIFE_DAYS`] before the
    /// newest interaction in the data), with that weight × 1000, most trending first.
    trending: Vec<(u32, u32)>,
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
    pub fn train(interactions: &[Interaction], k: usize) -> Model {
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut items: Vec<String> = Vec::new();
        let mut user_index: HashMap<&str, u32> = HashMap::new();
        let mut user_names: Vec<&str> = Vec::new();
        let mut triples: Vec<(u32, u32, f64)> = Vec::with_capacity(interactions.len());
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
            triples.push((u, i, event_weight(it.event)));
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
        triples.sort_by_key(|&(u, i, _)| (rank[u as usize], i));
        let n = items.len();
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
                let (_, item, mut w) = triples[t];
                t += 1;
                while t < triples.len() && triples[t].0 == user && triples[t].1 == item {
                    w += triples[t].2;
                    t += 1;
                }
                row.push((item, (1.0 + w).ln()));
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
        drop(triples);
        let neighbors = item_neighbors(&rows, &row_start, &holders, &norms, k);
        let mut popular: Vec<(u32, u32)> = buyers.iter().enumerate().map(|(i, &c)| (i as u32, c)).collect();
        popular.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        // Trending is relative to the newest interaction, not to a clock: training stays a pure
        // function of its input.
        let newest = interactions.iter().map(|it| it.time).max().unwrap_or(0);
        let mut heat = vec![0f64; n];
        for it in interactions {
            let age_days = (newest - it.time) as f64 / 86_400.0;
            heat[index[&it.item] as usize] += event_weight(it.event) * 0.5f64.powf(age_days / TRENDING_HALF_LIFE_DAYS);
        }
        let mut trending: Vec<(u32, u32)> =
            heat.iter().enumerate().map(|(i, &h)| (i as u32, (h * 1000.0).round().min(f64::from(u32::MAX)) as u32)).filter(|&(_, h)| h > 0).collect();
        trending.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Model { items, index, neighbors, popular, trending }
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

    /// "Customers who bought X also bought": X's neighbours, best first.
    pub fn ranked_also_bought(&self, id: &str) -> impl Iterator<Item = &str> {
        self.neighbors(id).iter().map(|&(j, _)| self.item(j))
    }

    /// [`Model::ranked_also_bought`], then popular items, skipping `skip`, at most `k`.
    pub fn also_bought(&self, id: &str, k: usize, skip: &dyn Fn(&str) -> bool) -> Vec<String> {
        fill(self.ranked_also_bought(id).chain(self.popular()), k, &|c| c == id || skip(c))
    }

    /// [`Model::ranked_for_you`], then popular items, skipping `skip`, at most `k`.
    pub fn for_you(&self, history: &[&str], k: usize, skip: &dyn Fn(&str) -> bool) -> Vec<String> {
        fill(self.ranked_for_you(history).into_iter().chain(self.popular()), k, skip)
    }

    /// "For you": neighbours of the visitor's history, newer items weighing more, best first.
    /// `history` is oldest first; repeated items count once, at their newest position.
    pub fn ranked_for_you(&self, history: &[&str]) -> Vec<&str> {
        let mut seen = Vec::new();
        for h in history.iter().rev() {
            if !seen.contains(h) {
                seen.push(*h);
            }
            if seen.len() == 50 {
                break;
            }
        }
        let mut scores: HashMap<u32, f64> = HashMap::new();
        let mut weight = 1.0;
        for h in &seen {
            for &(j, s) in self.neighbors(h) {
                *scores.entry(j).or_default() += weight * f64::from(s);
            }
            weight *= 0.85;
        }
        let mut ranked: Vec<(u32, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.into_iter().map(|(j, _)| self.item(j)).collect()
    }

    /// Snapshot: `{"v":1,"kind":"item-knn","items":[...],"neighbors":[[j,s,j,s...],...],"popular":[[i,n],...]}`
    /// with scores as integer millionths (compact and exact to print).
    pub fn to_json(&self) -> String {
        let doc = ModelDoc {
            v: V1,
            kind: "item-knn".into(),
            items: self.items.clone(),
            neighbors: self
                .neighbors
                .iter()
                .map(|row| row.iter().flat_map(|&(j, s)| [j, (s * 1e6).round() as u32]).collect())
                .collect(),
            popular: self.popular.iter().map(|&(i, n)| [i, n]).collect(),
            trending: self.trending.iter().map(|&(i, n)| [i, n]).collect(),
        };
        serde_json::to_string(&doc).unwrap_or_default()
    }

    /// Reads a snapshot, checking version, kind and every index against the item table.
    pub fn from_json(text: &str) -> Result<Model, FormatError> {
        let doc: ModelDoc = crate::error::from_json("model", text)?;
        if doc.kind != "item-knn" {
            return Err(FormatError::rule("model", "kind", format!("expected \"item-knn\", found {:?}", doc.kind)));
        }
        let n = doc.items.len();
        if doc.neighbors.len() != n {
            return Err(FormatError::rule("model", "neighbors", format!("expected {n} rows (one per item), found {}", doc.neighbors.len())));
        }
        let mut index = HashMap::with_capacity(n);
        for (i, id) in doc.items.iter().enumerate() {
            if index.insert(id.clone(), i as u32).is_some() {
                return Err(FormatError::rule("model", format!("items[{i}]"), format!("duplicate item {id:?}")));
            }
        }
        let mut neighbors = Vec::with_capacity(n);
        for (i, row) in doc.neighbors.iter().enumerate() {
            if row.len() % 2 != 0 {
                return Err(FormatError::rule("model", format!("neighbors[{i}]"), "expected [item, score] pairs, found an odd length"));
            }
            let mut out = Vec::with_capacity(row.len() / 2);
            for pair in row.chunks_exact(2) {
                if pair[0] as usize >= n || pair[1] > 1_000_000 {
                    return Err(FormatError::rule("model", format!("neighbors[{i}]"), format!("item {} or score {} out of range", pair[0], pair[1])));
                }
                out.push((pair[0], pair[1] as f32 / 1e6));
            }
            neighbors.push(out);
        }
        let ranking = |name: &str, rows: &[[u32; 2]]| -> Result<Vec<(u32, u32)>, FormatError> {
            rows.iter()
                .enumerate()
                .map(|(x, &[i, c])| {
                    if i as usize >= n {
                        return Err(FormatError::rule("model", format!("{name}[{x}]"), format!("item {i} out of range")));
                    }
                    Ok((i, c))
                })
                .collect()
        };
        let popular = ranking("popular", &doc.popular)?;
        let trending = ranking("trending", &doc.trending)?;
        Ok(Model { items: doc.items, index, neighbors, popular, trending })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelDoc {
    v: V1,
    kind: String,
    items: Vec<String>,
    neighbors: Vec<Vec<u32>>,
    popular: Vec<[u32; 2]>,
    #[serde(default)]
    trending: Vec<[u32; 2]>,
}

/// Top-`k` neighbours of every item, one item at a time: a dense accumulator over the items its
/// holders also hold (O(items) memory per thread instead of a sparse item×item table), items split
/// across the machine's cores. Pairs are summed in user order, as a single thread would.
fn item_neighbors(rows: &[(u32, f64)], row_start: &[usize], holders: &[Vec<(u32, f64)>], norms: &[f64], k: usize) -> Vec<Vec<(u32, f32)>> {
    let n = holders.len();
    let one_item = |i: usize, acc: &mut Vec<f64>, touched: &mut Vec<u32>| -> Vec<(u32, f32)> {
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
        sims
    };
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).clamp(1, 8).min(n.max(1));
    if threads == 1 {
        let (mut acc, mut touched) = (vec![0f64; n], Vec::new());
        return (0..n).map(|i| one_item(i, &mut acc, &mut touched)).collect();
    }
    let mut out: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let (mut acc, mut touched) = (vec![0f64; n], Vec::new());
                    (t..n).step_by(threads).map(|i| (i, one_item(i, &mut acc, &mut touched))).collect::<Vec<_>>()
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
        let m = Model::train(&checkerboard(), 10);
        for id in ["a0", "a3", "b1"] {
            let g = &id[..1];
            let recs = m.also_bought(id, 3, &|_| false);
            assert_eq!(recs.len(), 3);
            assert!(recs.iter().all(|r| r.starts_with(g) && r != id), "{id}: {recs:?}");
        }
        let recs = m.for_you(&["b0", "b2"], 3, &|_| false);
        assert!(recs.iter().all(|r| r.starts_with('b')), "{recs:?}");
    }

    #[test]
    fn cold_start_and_fill_use_popularity() {
        let m = Model::train(&checkerboard(), 10);
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
        let m = Model::train(&log, 5);
        assert_eq!(m.popular().collect::<Vec<_>>(), ["old", "new"]);
        assert_eq!(m.trending().collect::<Vec<_>>(), ["new", "old"]);
        let back = Model::from_json(&m.to_json()).unwrap();
        assert_eq!(back.trending().collect::<Vec<_>>(), ["new", "old"]);
    }

    #[test]
    fn snapshot_round_trips_and_rejects_corruption() {
        let m = Model::train(&checkerboard(), 10);
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
