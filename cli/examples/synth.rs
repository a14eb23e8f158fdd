//! Writes a synthetic interactions log for scale runs (bench/scale.sh): `--items` products in
//! `--clusters` taste groups with Zipf-like popularity, users who each favour two groups, about
//! `--interactions` rows of `user,item,timestamp,event,quantity`. Deterministic for a given `--seed`.

use std::io::{BufWriter, Write};

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> std::io::Result<()> {
    let items = arg("--items", 100_000);
    let target = arg("--interactions", 10_000_000);
    let clusters = arg("--clusters", 200).max(1);
    let mut rng = SplitMix(arg("--seed", 7));
    let out_path = std::env::args().skip_while(|a| a != "--out").nth(1).unwrap_or_else(|| "synthetic.csv".into());
    let per_cluster = (items / clusters).max(1);
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out_path)?);
    writeln!(out, "user,item,timestamp,event,quantity")?;
    let start = 1_262_304_000u64; // 2010-01-01
    let (mut rows, mut user) = (0u64, 0u64);
    while rows < target {
        let favourites = [rng.below(clusters), rng.below(clusters)];
        // Geometric-ish history lengths around 100, a few heavy users up to 1000.
        let len = ((-(1.0 - rng.unit()).ln()) * 100.0).clamp(1.0, 1000.0) as u64;
        for _ in 0..len.min(target - rows) {
            let cluster = if rng.unit() < 0.8 { favourites[rng.below(2) as usize] } else { rng.below(clusters) };
            // Zipf-like rank inside the cluster: low ranks are much more popular.
            let rank = ((per_cluster as f64).powf(rng.unit()) - 1.0) as u64;
            let item = (cluster * per_cluster + rank.min(per_cluster - 1)) % items;
            let t = start + rng.below(365 * 86_400);
            let event = match rng.below(10) {
                0..=5 => "view",
                6..=7 => "add_to_cart",
                _ => "purchase",
            };
            writeln!(out, "u{user},p{item},{},{event},{}", vitrine_engine::time::format(t as i64), 1 + rng.below(3))?;
            rows += 1;
        }
        user += 1;
    }
    out.flush()?;
    eprintln!("synth: {rows} interactions, {user} users, {items} items -> {out_path}");
    Ok(())
}
