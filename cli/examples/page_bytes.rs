//! Bytes a first page view downloads at catalog scale, catalog and model sharded (bench/page-bytes.sh).
//!
//! Takes a trained model and its interactions log, makes a catalog for the model's items (synthetic
//! titles from a 5,000-word vocabulary, 200 product types, 50 brands), and bundles both with the
//! demo's site configuration, as `vitrine bundle --shards N` does for each shard count. Then replays
//! `--visitors` returning visitors, cold cache: each arrives with their previous `--history`
//! distinct items as purchases (a profile snapshot's recent items, each with its category and price
//! as `vitrine profiles` writes them) on the product page of their last item (hero, `also_bought`
//! and `similar` widgets of 6) and on the home page (hero, a grid of 24 popular products
//! reordered, a `for_you` widget of 6). Like the snippet, it decides, fetches
//! what the decision missed and decides again until nothing is missing (`Context::missing`), and
//! sums the gzip -9 sizes of the head and every file fetched. Also times parsing the head and
//! adding a page's files natively.
//!
//!     cargo run --release -p vitrine-cli --example page_bytes -- --model M --interactions CSV \
//!         --site demo-shop/site.json [--shards 16384,65536] [--visitors 300] [--history 20]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use vitrine_engine::model_bin::is_binary;
use vitrine_engine::{Bundle, Catalog, Context, LiveProfile, Model, ProfileSnapshot, Request, SiteConfig};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn gz(bytes: &[u8]) -> usize {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(bytes).expect("in-memory write");
    e.finish().expect("in-memory write").len()
}

fn percentile<T: Copy + Ord>(sorted: &[T], p: f64) -> T {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A product for every model item: synthetic, fixed for a fixed model.
fn catalog_for(model: &Model) -> anyhow::Result<Catalog> {
    let mut state = 88_172_645_463_325_252u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let vocab: Vec<String> = (0..5000).map(|i| format!("word{i}")).collect();
    let mut products = Vec::with_capacity(model.len());
    for id in (0..model.len() as u32).map(|i| model.item(i)) {
        let words = 2 + (next() % 4) as usize;
        let title: Vec<&str> = (0..words)
            .map(|_| {
                let r = next() % 5000;
                vocab[(next() % (r + 1)) as usize].as_str()
            })
            .collect();
        let (ty, brand, pence) = (next() % 200, next() % 50, 50 + next() % 5000);
        let id = serde_json::to_string(id)?;
        let bare = id.trim_matches('"');
        products.push(format!(
            r#"{{"id":{id},"title":"{}","link":"/p/{bare}","price":"{}.{:02} GBP","product_type":"Type {ty}","brand":"Maker {brand}","image_link":"/img/{bare}.svg"}}"#,
            title.join(" "),
            pence / 100,
            pence % 100
        ));
    }
    Catalog::from_json(&format!(r#"{{"v":1,"products":[{}]}}"#, products.join(","))).map_err(|e| anyhow::anyhow!("catalog: {e}"))
}

struct Page {
    bytes: usize,
    files: usize,
    rounds: usize,
    head: Duration,
    parse: Duration,
}

fn main() -> anyhow::Result<()> {
    let model_path = arg("--model").ok_or_else(|| anyhow::anyhow!("--model PATH required"))?;
    let log = arg("--interactions").ok_or_else(|| anyhow::anyhow!("--interactions CSV required"))?;
    let site_path = arg("--site").ok_or_else(|| anyhow::anyhow!("--site PATH required"))?;
    let counts: Vec<u32> = arg("--shards").unwrap_or_else(|| "16384,65536".into()).split(',').map(str::parse).collect::<Result<_, _>>()?;
    let visitors: usize = arg("--visitors").map_or(Ok(300), |v| v.parse())?;
    let history: usize = arg("--history").map_or(Ok(20), |v| v.parse())?;

    let bytes = std::fs::read(&model_path)?;
    let model = if is_binary(&bytes) { Model::from_bytes(&bytes)? } else { Model::from_json(std::str::from_utf8(&bytes)?)? };
    let catalog = catalog_for(&model)?;
    let site = SiteConfig::from_json(&std::fs::read_to_string(&site_path)?).map_err(|e| anyhow::anyhow!("{site_path}: {e}"))?.to_compiled_json(false);

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
    let grid: Vec<&str> = model.popular().take(24).collect();

    println!("| shards | head gz | page | first view gz median / p95 / max | files median / max | rounds:views | parse head + files median (head alone) |");
    println!("|---|---|---|---|---|---|---|");
    for count in counts {
        // Split as `vitrine bundle --shards count` splits it: the head that ships (its model in
        // binary form) and every shard file with its gzip size.
        let split = Bundle::split(&site, &catalog, &model, count, model.head_products())?;
        let head_text = &split.head;
        let head_gz = gz(head_text.as_bytes());
        let files: HashMap<String, (&[u8], usize)> = split.files().map(|(path, bytes)| (path, (bytes, gz(bytes)))).collect();
        let mut product_pages = Vec::new();
        let mut home_pages = Vec::new();
        for (current, hist) in &pages {
            let recent: Vec<serde_json::Value> = hist
                .iter()
                .enumerate()
                .map(|(k, id)| {
                    // With its category and price, as `vitrine profiles` writes a snapshot's items.
                    let mut item = serde_json::json!({"id": id, "time": format!("2011-11-{:02}T10:00:00Z", 1 + k % 28), "event": "purchase"});
                    if let Some(p) = catalog.get(id) {
                        item["category"] = p.product_type.clone().into();
                        item["price"] = p.price.amount().into();
                    }
                    item
                })
                .collect();
            let snapshot =
                serde_json::json!({"v": 1, "id": "c-visitor", "consent": {"personalization": true}, "orders": {"count": hist.len()}, "recent_items": recent});
            let profile = LiveProfile::new(ProfileSnapshot::from_json(&snapshot.to_string())?);
            let product = serde_json::json!({"page": {"type": "product", "product": current}, "slots": ["hero"],
                "recs": [{"widget": "also-bought", "strategy": "also_bought", "k": 6}, {"widget": "similar", "strategy": "similar", "k": 6}]});
            let home = serde_json::json!({"page": {"type": "home"}, "slots": ["hero"], "lists": [{"list": "home-grid", "items": grid}],
                "recs": [{"widget": "for-you", "strategy": "for_you", "k": 6, "max_per_category": 2}]});
            for (request, out) in [(product, &mut product_pages), (home, &mut home_pages)] {
                let request = Request::from_json(&request.to_string())?;
                let started = Instant::now();
                let mut bundle = Bundle::from_json(head_text)?;
                let head = started.elapsed();
                let mut parse = head;
                let (mut bytes, mut fetched, mut rounds) = (head_gz, 0, 0);
                loop {
                    let need = Context { bundle: &bundle, profile: &profile, page: &request.page, now: 1_323_475_200 }.missing(&request);
                    if need.is_empty() {
                        break;
                    }
                    rounds += 1;
                    anyhow::ensure!(rounds <= 8, "never settles: {need:?}");
                    for path in need {
                        let (file, size) = &files[&path];
                        let started = Instant::now();
                        bundle.add_file(&path, file)?;
                        parse += started.elapsed();
                        bytes += size;
                        fetched += 1;
                    }
                }
                out.push(Page { bytes, files: fetched, rounds, head, parse });
            }
        }
        for (name, results) in [("product", &product_pages), ("home", &home_pages)] {
            let mut bytes: Vec<usize> = results.iter().map(|p| p.bytes).collect();
            let mut files: Vec<usize> = results.iter().map(|p| p.files).collect();
            let mut parse: Vec<Duration> = results.iter().map(|p| p.parse).collect();
            let mut head: Vec<Duration> = results.iter().map(|p| p.head).collect();
            head.sort_unstable();
            bytes.sort_unstable();
            files.sort_unstable();
            parse.sort_unstable();
            // Views per number of fetch rounds, "rounds:views" (each round is one more round trip).
            let mut per_round = std::collections::BTreeMap::new();
            for p in results.iter() {
                *per_round.entry(p.rounds).or_insert(0) += 1;
            }
            let rounds = per_round.iter().map(|(r, n)| format!("{r}:{n}")).collect::<Vec<_>>().join(" ");
            println!(
                "| {count} | {head_gz} | {name} | {} / {} / {} | {} / {} | {rounds} | {:.0?} ({:.0?} head) |",
                percentile(&bytes, 0.5),
                percentile(&bytes, 0.95),
                bytes[bytes.len() - 1],
                percentile(&files, 0.5),
                files[files.len() - 1],
                percentile(&parse, 0.5),
                percentile(&head, 0.5),
            );
        }
    }
    eprintln!("{} visitors, up to {history} history items each; {} products and model items from {model_path}", pages.len(), model.len());
    Ok(())
}
