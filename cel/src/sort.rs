//! One stable sort for what the runtimes sort while deciding (the engine's lists, variants and
//! candidates, and CEL's maps when printed).
//!
//! Every `sort_by` on another element type or with another closure is its own copy of the standard
//! library's sort in the browser's Wasm (1.3 to 8 KB each; the production build had 18 of them).
//! Sorting a permutation of `u32` indexes through a `dyn` comparison compiles the algorithm once;
//! what each caller adds is a few lines. The lists sorted at decision time are short (variants,
//! a page's list items, a widget's candidates), so the indirect call costs nothing measurable.
//! Training sorts millions of entries natively and keeps the standard library's sorts.

use std::cmp::Ordering;

/// Sorts `v` by `cmp`, stable: equal elements keep their order.
pub fn sort_by<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let mut order: Vec<u32> = (0..v.len() as u32).collect();
    sort_u32_by(&mut order, &|a, b| cmp(&v[a as usize], &v[b as usize]));
    permute(v, order);
}

/// Moves the element at `order[j]` to position `j`, for every `j` (`order` is a permutation of
/// `v`'s indexes): in place, one cycle of the permutation at a time (no second vector of the
/// elements; a done position is marked u32::MAX).
fn permute<T>(v: &mut [T], mut order: Vec<u32>) {
    for start in 0..order.len() {
        let mut j = start;
        while order[j] != u32::MAX {
            let k = order[j] as usize;
            order[j] = u32::MAX;
            if k == start {
                break;
            }
            v.swap(j, k);
            j = k;
        }
    }
}

/// [`sort_by`] on a key.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts and removes repeats.
pub fn sort_dedup<T: Ord>(v: &mut Vec<T>) {
    sort_by(v, T::cmp);
    v.dedup();
}

/// Sorts `v` by `cmp`, stable: a natural merge sort (it merges the runs already in order, so
/// a concatenation of a few sorted lists, as content similarity sorts, costs a few passes). Not
/// the standard library's sorts: their stable and unstable versions were 8 KB of the browser's
/// Wasm together, this is a few hundred bytes, and what the runtimes sort is short or nearly sorted.
#[inline(never)]
pub fn sort_u32_by(v: &mut [u32], cmp: &dyn Fn(u32, u32) -> Ordering) {
    natural_merge(v, |a, b| cmp(a, b) == Ordering::Greater);
}

/// The merge sort of [`sort_u32_by`] and [`sort_u64`], stable, ordered by `greater(a, b)`
/// (`a` goes after `b`). Each caller is its own copy: one compares through a `dyn` closure, the
/// other in place.
fn natural_merge<T: Copy>(v: &mut [T], greater: impl Fn(T, T) -> bool) {
    let n = v.len();
    if n < 2 {
        return;
    }
    // Where each run starts (a run does not descend), then `n`.
    let mut bounds: Vec<usize> = vec![0];
    bounds.extend((1..n).filter(|&i| greater(v[i - 1], v[i])));
    bounds.push(n);
    let mut buf: Vec<T> = Vec::with_capacity(n);
    while bounds.len() > 2 {
        // Merges runs pairwise; an odd last run waits for the next pass.
        let mut next: Vec<usize> = vec![0];
        for pair in bounds[1..].chunks(2) {
            if let [mid, end] = *pair {
                let start = *next.last().unwrap_or(&0);
                // From a copy in `buf` back into `v`, each place written once; at a tie the left
                // run wins.
                buf.clear();
                buf.extend_from_slice(&v[start..end]);
                let (left, right) = buf.split_at(mid - start);
                let (mut i, mut j) = (0, 0);
                for slot in &mut v[start..end] {
                    *slot = match (left.get(i), right.get(j)) {
                        (Some(&l), Some(&r)) if greater(l, r) => {
                            j += 1;
                            r
                        }
                        (Some(&l), _) => {
                            i += 1;
                            l
                        }
                        (None, Some(&r)) => {
                            j += 1;
                            r
                        }
                        (None, None) => break,
                    };
                }
            }
            next.push(pair[pair.len() - 1]);
        }
        bounds = next;
    }
}

/// Sorts `v` best first by `score` (larger first, in `f64::total_cmp`'s order), then by `tie`:
/// the order of [`sort_by`] with `score(b).total_cmp(&score(a)).then_with(|| tie(a, b))`, at a
/// fraction of its cost. The scores' top 32 bits are sorted as integers ([`sort_u64`]); only the
/// runs whose top bits are equal (close or equal scores: few, and short) are then sorted by the
/// exact comparison.
pub fn sort_by_score_desc<T>(v: &mut [T], score: impl Fn(&T) -> f64, tie: impl Fn(&T, &T) -> Ordering) {
    // The total order's bits as an unsigned key, ascending with the score; inverted: best first.
    let desc = |x: f64| {
        let b = x.to_bits();
        !(if b >> 63 == 1 { !b } else { b | 1 << 63 })
    };
    // Loops, not `collect()`: each of those is its own function per sorted type in the browser's
    // Wasm.
    let mut order: Vec<u64> = Vec::with_capacity(v.len());
    for (i, x) in v.iter().enumerate() {
        order.push(desc(score(x)) >> 32 << 32 | i as u64);
    }
    sort_u64(&mut order);
    let mut start = 0;
    while start < order.len() {
        let top = order[start] >> 32;
        let end = order[start..].iter().position(|o| o >> 32 != top).map_or(order.len(), |n| start + n);
        if end - start > 1 {
            sort_by(&mut order[start..end], |a, b| {
                let (a, b) = (&v[*a as u32 as usize], &v[*b as u32 as usize]);
                score(b).total_cmp(&score(a)).then_with(|| tie(a, b))
            });
        }
        start = end;
    }
    let mut at = Vec::with_capacity(order.len());
    for o in order {
        at.push(o as u32);
    }
    permute(v, at);
}

/// Sorts plain integers ascending, with the natural merge of [`sort_u32_by`] but comparing in
/// place: no indirect call per comparison, which made the comparison most of the time of the hot
/// sorts (a `for_you` widget sorts its history's neighbours, up to a thousand, by item). Callers
/// that need a stable order by a key pack it as `key << 32 | index`.
#[inline(never)]
pub fn sort_u64(v: &mut [u64]) {
    natural_merge(v, |a, b| a > b);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably_like_the_standard_library() {
        // A reproducible shuffle with many ties (a linear congruential generator).
        let mut seed: u64 = 7;
        let items: Vec<(u8, u32)> = (0..500u32)
            .map(|i| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                ((seed >> 59) as u8, i)
            })
            .collect();
        let mut ours = items.clone();
        sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
        let mut std = items.clone();
        std.sort_by_key(|x| x.0);
        assert_eq!(ours, std);
        let mut by_key = items;
        sort_by_key(&mut by_key, |x| std::cmp::Reverse(x.0));
        assert!(by_key.windows(2).all(|w| w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1)));
        let mut words = vec!["b", "a", "b", "c", "a"];
        sort_dedup(&mut words);
        assert_eq!(words, ["a", "b", "c"]);
        let mut runs: Vec<u32> = (0..300).map(|i| (i * 7919 % 1000) / 3).collect();
        runs.extend([5, 5, 1, 900, 2, 2, 0]);
        for len in [0, 1, 2, 3, 10, 64, runs.len()] {
            let (mut ours, mut std) = (runs[..len].to_vec(), runs[..len].to_vec());
            sort_u32_by(&mut ours, &|a, b| a.cmp(&b));
            std.sort_unstable();
            assert_eq!(ours, std, "{len}");
        }
        for len in [0, 1, 2, 3, 10, 64, runs.len()] {
            let mut ours: Vec<u64> = runs[..len].iter().map(|&x| u64::from(x) << 32 | u64::from(x % 7)).collect();
            let mut std = ours.clone();
            sort_u64(&mut ours);
            std.sort_unstable();
            assert_eq!(ours, std, "{len}");
        }
        // Best first by score, ties by the second field; NaN, infinities and both zeros included.
        let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1e-300, -1e300];
        let mut scored: Vec<(f64, u32)> = (0..400u32)
            .map(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let x = match seed >> 61 {
                    0 => specials[(seed >> 40) as usize % specials.len()],
                    1 => 1.0 + f64::from((seed >> 20) as u32 & 3) * f64::EPSILON,
                    _ => f64::from((seed >> 33) as u32 % 50) / 7.0,
                };
                (x, (seed >> 45) as u32 % 1000)
            })
            .collect();
        let mut expected = scored.clone();
        expected.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        sort_by_score_desc(&mut scored, |x| x.0, |a, b| a.1.cmp(&b.1));
        assert_eq!(format!("{scored:?}"), format!("{expected:?}"));
        let mut none: Vec<u8> = Vec::new();
        sort_by(&mut none, u8::cmp);
        assert!(none.is_empty());
    }
}
