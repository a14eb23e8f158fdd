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
        let mut users: HashMap<&str, HashMap<u32, f64>> = HashMap::new();
        for it in interactions {
            let next = items.len() as u32;
            let i = *index.entry(it.item.clone()).or_insert_with(|| {
                items.push(it.item.clone());
                next
            });
            *users.entry(&it.user).or_default().entry(i).or_default() += event_weight(it.event);
        }
        let n = items.len();
        let mut norms = vec![0f64; n];
        let mut buyers = vec![0u32; n];
        let mut co: Vec<HashMap<u32, f64>> = vec![HashMap::new(); n];
        // Sorting users makes float summation order, and so the model, deterministic.
        let mut user_ids: Vec<&&str> = users.keys().collect();
        user_ids.sort();
        for u in user_ids {
            let mut row: Vec<(u32, f64)> = users[*u].iter().map(|(&i, &w)| (i, (1.0 + w).ln())).collect();
            row.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            for &(i, w) in &row {
                norms[i as usize] += w * w;
                buyers[i as usize] += 1;
            }
            row.truncate(MAX_ITEMS_PER_USER);
            for (x, &(i, wi)) in row.iter().enumerate() {
                for &(j, wj) in &row[x + 1..] {
                    *co[i as usize].entry(j).or_default() += wi * wj;
                    *co[j as usize].entry(i).or_default() += wi * wj;
                }
            }
        }
        let neighbors = co
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                let mut sims: Vec<(u32, f32)> = row
                    .into_iter()
                    .map(|(j, c)| {
                        // Shrinkage (+1 in the denominator) keeps pairs seen once from ranking first.
                        let s = c / ((norms[i] * norms[j as usize]).sqrt() + 1.0);
                        (j, s as f32)
                    })
                    .collect();
                sims.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                sims.truncate(k);
                sims
            })
            .collect();
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
