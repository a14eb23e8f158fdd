//! Model bytes per page view with a sharded model (bench/shards.sh). Splits a trained model into
//! `--shards` pieces (a comma-separated list to compare), then replays `--visitors` visitors from an
//! interactions log: each arrives on the product of their last interaction with their previous
//! `--history` distinct items as history (what a profile snapshot's recent items carry), and needs
//! the head plus the shards of the current product and every history item. Sizes are gzip -9.
//!
//! Prints one Markdown table row per shard count: head, shard size, first page view (head + shards)
//! median / p95 / max, a later page view (one more product: its shard) median, and the size of an
//! "also viewed" shard, which a page with such a widget fetches on top.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};

use flate2::write::GzEncoder;
use flate2::Compression;
use vitrine_engine::model_bin::is_binary;
use vitrine_engine::shard::{shard_name, shard_of, Table};
use vitrine_engine::Model;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn gz(bytes: &[u8]) -> usize {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(bytes).expect("in-memory write");
    e.finish().expect("in-memory write").len()
}

fn percentile(sorted: &[usize], p: f64) -> usize {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() -> anyhow::Result<()> {
    let model_path = arg("--model").ok_or_else(|| anyhow::anyhow!("--model PATH required"))?;
    let log = arg("--interactions").ok_or_else(|| anyhow::anyhow!("--interactions CSV required"))?;
    let counts: Vec<u32> = arg("--shards").unwrap_or_else(|| "16384,32768,65536".into()).split(',').map(str::parse).collect::<Result<_, _>>()?;
    let visitors: usize = arg("--visitors").map_or(Ok(1000), |v| v.parse())?;
    let history: usize = arg("--history").map_or(Ok(20), |v| v.parse())?;

    let bytes = std::fs::read(&model_path)?;
    let model = if is_binary(&bytes) { Model::from_bytes(&bytes)? } else { Model::from_json(std::str::from_utf8(&bytes)?)? };

    // The first `visitors` users of the log, each one's items in time order.
    let mut seqs: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for line in BufReader::new(std::fs::File::open(&log)?).lines().skip(1) {
        let line = line?;
        let mut f = line.split(',');
        let (Some(user), Some(item), Some(time)) = (f.next(), f.next(), f.next()) else { continue };
        if !seqs.contains_key(user) {
            if order.len() == visitors {
                continue;
            }
            order.push(user.to_owned());
        }
        seqs.entry(user.to_owned()).or_default().push((time.to_owned(), item.to_owned()));
    }
    let pages: Vec<(String, Vec<String>)> = order
        .iter()
        .filter_map(|u| {
            let mut s = seqs.remove(u)?;
            s.sort();
            let (_, current) = s.pop()?;
            let mut hist: Vec<String> = Vec::new();
            for (_, item) in s.into_iter().rev() {
                if item != current && !hist.contains(&item) {
                    hist.push(item);
                }
                if hist.len() == history {
                    break;
                }
            }
            Some((current, hist))
        })
        .collect();

    println!("| shards | items/shard | head gz | shard gz median / max | first page view gz median / p95 / max | shards fetched median | next page view gz median | also-viewed shard gz median / max |");
    println!("|---|---|---|---|---|---|---|---|");
    for count in counts {
        let (head, files) = model.split(count)?;
        let head_gz = gz(head.to_json().as_bytes());
        let sizes: HashMap<String, usize> = files.iter().map(|(name, bytes)| (name.clone(), gz(bytes))).collect();
        let mut sorted: Vec<usize> = files.iter().filter(|(n, _)| !n.starts_with('v')).map(|(n, _)| sizes[n]).collect();
        sorted.sort_unstable();
        let mut viewed: Vec<usize> = files.iter().filter(|(n, _)| n.starts_with('v')).map(|(n, _)| sizes[n]).collect();
        viewed.sort_unstable();
        let mut first = Vec::new();
        let mut fetched = Vec::new();
        let mut next = Vec::new();
        for (current, hist) in &pages {
            let need = head.missing_shards(hist.iter().chain([current]).map(|id| (id.as_str(), Table::Bought)));
            first.push(head_gz + need.iter().map(|n| sizes[n]).sum::<usize>());
            fetched.push(need.len());
            next.push(sizes[&shard_name(Table::Bought, shard_of(current, count))]);
        }
        first.sort_unstable();
        fetched.sort_unstable();
        next.sort_unstable();
        println!(
            "| {count} | {:.1} | {head_gz} | {} / {} | {} / {} / {} | {} | {} | {} |",
            model.len() as f64 / f64::from(count),
            percentile(&sorted, 0.5),
            sorted[sorted.len() - 1],
            percentile(&first, 0.5),
            percentile(&first, 0.95),
            first[first.len() - 1],
            percentile(&fetched, 0.5),
            percentile(&next, 0.5),
            if viewed.is_empty() { "none".to_owned() } else { format!("{} / {}", percentile(&viewed, 0.5), viewed[viewed.len() - 1]) },
        );
    }
    eprintln!("{} visitors, up to {history} history items each; model {} items from {model_path}", pages.len(), model.len());
    Ok(())
}
