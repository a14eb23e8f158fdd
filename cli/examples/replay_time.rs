//! Times `engine::replay` natively over the demo's real profiles (the preview panel's Replay runs
//! the same code in Wasm): `cargo run --release -p vitrine-cli --example replay_time -- BUNDLE PROFILES.jsonl`.

use std::time::Instant;

use vitrine_engine::replay::replay;
use vitrine_engine::{Bundle, LiveProfile, Page, ProfileSnapshot};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(bundle), Some(profiles)) = (args.get(1), args.get(2)) else { anyhow::bail!("usage: replay_time BUNDLE PROFILES.jsonl") };
    let bundle = Bundle::from_json(&std::fs::read_to_string(bundle)?)?;
    let text = std::fs::read_to_string(profiles)?;
    let started = Instant::now();
    let profiles: Vec<LiveProfile> =
        text.lines().filter(|l| !l.trim().is_empty()).map(|l| ProfileSnapshot::from_json(l).map(LiveProfile::new)).collect::<Result<_, _>>()?;
    let loaded = started.elapsed();
    let page = Page { kind: "home".into(), ..Page::default() };
    let now = bundle.site.demo_now.unwrap_or(0);
    let mut times = Vec::new();
    let mut report = None;
    for _ in 0..5 {
        let t = Instant::now();
        report = Some(replay(&bundle, &profiles, &page, now));
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!("{} profiles: load {:.0} ms, replay median {:.0} ms (min {:.0})", profiles.len(), loaded.as_secs_f64() * 1e3, times[2], times[0]);
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
