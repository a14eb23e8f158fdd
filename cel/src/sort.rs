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
pub fn sort_by<T>(v: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let mut order: Vec<u32> = (0..v.len() as u32).collect();
    sort_indexes(&mut order, &|a, b| cmp(&v[a as usize], &v[b as usize]));
    let mut slots: Vec<Option<T>> = v.drain(..).map(Some).collect();
    v.extend(order.iter().filter_map(|&i| slots[i as usize].take()));
}

/// [`sort_by`] on a key.
pub fn sort_by_key<T, K: Ord>(v: &mut Vec<T>, key: impl Fn(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts and removes repeats.
pub fn sort_dedup<T: Ord>(v: &mut Vec<T>) {
    sort_by(v, T::cmp);
    v.dedup();
}

#[inline(never)]
fn sort_indexes(order: &mut [u32], cmp: &dyn Fn(u32, u32) -> Ordering) {
    order.sort_by(|&a, &b| cmp(a, b));
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
        let mut none: Vec<u8> = Vec::new();
        sort_by(&mut none, u8::cmp);
        assert!(none.is_empty());
    }
}
