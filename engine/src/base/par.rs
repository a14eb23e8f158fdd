//! The one parallel map of bundle-time work (training, a catalog's similar rows).

/// `f(i)` for every `i` in `0..n`, on all cores; results in order. For bundle-time work (a
/// catalog's similar rows), never in a runtime: one core there.
pub(crate) fn par_map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).clamp(1, 8).min(n.max(1));
    if threads == 1 {
        return (0..n).map(f).collect();
    }
    let f = &f;
    let mut parts: Vec<Vec<(usize, T)>> = Vec::new();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads).map(|t| scope.spawn(move || (t..n).step_by(threads).map(|i| (i, f(i))).collect::<Vec<_>>())).collect();
        for w in workers {
            // A worker only panics if the code above has a bug; the command then fails loudly.
            #[allow(clippy::unwrap_used)]
            parts.push(w.join().unwrap());
        }
    });
    let mut all: Vec<(usize, T)> = parts.into_iter().flatten().collect();
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}
