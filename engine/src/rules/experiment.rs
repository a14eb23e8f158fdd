//! Experiments: deterministic, sticky assignment of a visitor to a holdout group or an arm.
//!
//! Assignment is a pure function of (hash version, experiment salt, visitor id), so the browser
//! and the edge put a visitor in the same arm without talking to each other, and a visitor keeps
//! their arm for as long as their id lasts (a known customer's id: forever).
//!
//! Hash version 1: `h = FNV-1a 32(salt + "." + visitor id)` over UTF-8 bytes, then
//! `bucket = (h % 10000) / 10000` in [0, 1). The holdout takes `[0, holdout)`; the rest of the
//! range is split between the arms in proportion to their weights, in the order they are listed.
//! Changing an experiment's salt reshuffles everyone; adding an arm moves only part of the range,
//! which is why arms are listed, never sorted.

use serde::{Deserialize, Serialize};

/// The only hash version so far (see the module documentation).
pub const HASH_VERSION: u32 = 1;

fn fnv1a32(parts: &[&[u8]]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for part in parts {
        for &b in *part {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

/// The visitor's position in [0, 1) for an experiment: 10,000 buckets.
pub fn bucket(salt: &str, visitor: &str) -> f64 {
    f64::from(fnv1a32(&[salt.as_bytes(), b".", visitor.as_bytes()]) % 10_000) / 10_000.0
}

/// Where a visitor landed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub experiment: String,
    /// The arm's id, or `"holdout"`.
    pub arm: String,
    pub holdout: bool,
    /// The bucket in [0, 1), for traces.
    pub bucket: f64,
}

/// Picks the holdout or an arm for `bucket`. `weights` are the arms' weights in listed order (all
/// finite and ≥ 0, summing to more than 0 — checked when the configuration loads); `holdout` is the
/// holdout's share in [0, 1). Returns `None` for the holdout, else the arm's index.
pub fn pick(bucket: f64, holdout: f64, weights: &[f64]) -> Option<usize> {
    if bucket < holdout {
        return None;
    }
    let total: f64 = weights.iter().sum();
    // Where the bucket falls in what the holdout leaves, scaled to the weights' total.
    let x = (bucket - holdout) / (1.0 - holdout) * total;
    let mut edge = 0.0;
    for (i, w) in weights.iter().enumerate() {
        edge += w;
        if x < edge {
            return Some(i);
        }
    }
    // Rounding can leave x at the very top: the last arm with any weight takes it.
    weights.iter().rposition(|&w| w > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_pinned() {
        // FNV-1a 32 of "a" is 0xe40c292c; these values are part of the format (docs/site.md).
        assert_eq!(fnv1a32(&[b"a"]), 0xe40c_292c);
        assert_eq!(fnv1a32(&[b"a", b"b"]), fnv1a32(&[b"ab"]));
        assert_eq!(bucket("hero-2026", "c-13093"), f64::from(fnv1a32(&[b"hero-2026.c-13093"]) % 10_000) / 10_000.0);
    }

    #[test]
    fn assignment_is_deterministic_and_follows_the_weights() {
        let weights = [1.0, 1.0, 2.0];
        let mut counts = [0usize; 4];
        for v in 0..20_000 {
            let visitor = format!("c-{v}");
            let b = bucket("exp-salt", &visitor);
            assert!((0.0..1.0).contains(&b));
            assert_eq!(b, bucket("exp-salt", &visitor), "sticky");
            match pick(b, 0.1, &weights) {
                None => counts[3] += 1,
                Some(i) => counts[i] += 1,
            }
        }
        let share = |n: usize| n as f64 / 20_000.0;
        assert!((share(counts[3]) - 0.10).abs() < 0.01, "{counts:?}");
        assert!((share(counts[0]) - 0.225).abs() < 0.015, "{counts:?}");
        assert!((share(counts[1]) - 0.225).abs() < 0.015, "{counts:?}");
        assert!((share(counts[2]) - 0.45).abs() < 0.015, "{counts:?}");
        // Another salt reshuffles: about half of the visitors change arm between two 50/50 splits.
        let moved =
            (0..2_000).filter(|v| pick(bucket("a", &format!("c-{v}")), 0.0, &[1.0, 1.0]) != pick(bucket("b", &format!("c-{v}")), 0.0, &[1.0, 1.0])).count();
        assert!((800..1200).contains(&moved), "{moved}");
    }

    #[test]
    fn edges() {
        assert_eq!(pick(0.0, 0.0, &[1.0]), Some(0));
        assert_eq!(pick(0.9999, 0.0, &[1.0, 0.0]), Some(0));
        assert_eq!(pick(0.05, 0.1, &[1.0]), None);
        assert_eq!(pick(0.1, 0.1, &[0.0, 1.0]), Some(1));
        assert_eq!(pick(0.9999, 0.5, &[3.0, 1.0]), Some(1));
    }
}
