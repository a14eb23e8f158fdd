//! Segment rules natively: the 50 rules of bench/rules/rules.json as a site's segments, evaluated for one visitor with 200 events.
//!
//! `cargo bench -p vitrine-engine --bench rules` (bench/rules/run.sh runs it beside the Wasm build
//! and GrowthBook in Chromium and writes the dated table). Needs the demo bundle
//! (`VITRINE_SKIP_EDGE=1 bash scripts/build.sh`) for its catalog and model; the site is replaced by
//! one whose segments are the rules. The visitors are bench/rules/visitors.json (the first, `main`,
//! is timed: an active repeat buyer, 20 snapshot events and 180 session events, on a category page).
//!
//! Groups, each per visitor and call, with every segment evaluated afresh, for all 50 rules (`all`)
//! and for the 40 that GrowthBook can express too (`both`):
//! - `segments/*`: `Vars::new(&ctx).segments()`, which also builds the visitor's variables
//!   (`profile`, `events`, `session`) from snapshot, session and catalog.
//! - `segments_cached/*`: `Vars::cached(&ctx, &cache).segments()` with the variables kept in a
//!   [`VarsCache`] from an earlier call, as a runtime does for an unchanged visitor.
//! - `segments_json/*`: page JSON in, segments JSON out, variables kept: exactly what the
//!   snippet's `Vitrine::segments` does in Wasm.
//!
//! With `VITRINE_BENCH_RULES_OUT=<file>` the bench also writes every visitor's segments (all 50
//! rules), which bench/rules/bench.mjs checks the Wasm build against.
#![allow(clippy::unwrap_used)] // a bench over fixed, checked inputs; a failure should stop it loudly

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use vitrine_engine::{Bundle, Context, LiveProfile, Page, ProfileSnapshot, Session, Vars, VarsCache};

/// One visitor of visitors.json, in the engine's types.
struct Visitor {
    name: String,
    profile: LiveProfile,
    page: Page,
    page_json: String,
}

/// The demo bundle with its site replaced by one segment per rule.
fn bundle_with(demo: &Value, rules: &[&Value]) -> Bundle {
    let segments: serde_json::Map<String, Value> = rules.iter().map(|r| (r["id"].as_str().unwrap().to_owned(), json!({ "when": r["cel"] }))).collect();
    let mut doc = demo.clone();
    doc["site"] = json!({ "v": 1, "segments": segments });
    Bundle::from_json(&doc.to_string()).unwrap()
}

fn visitor(v: &Value) -> Visitor {
    let snapshot = ProfileSnapshot::from_json(&v["profile"].to_string()).unwrap();
    let session = Session::from_json(&v["session"].to_string()).unwrap();
    Visitor {
        name: v["name"].as_str().unwrap().to_owned(),
        profile: LiveProfile { snapshot, session },
        page: Page::from_json(&v["page"].to_string()).unwrap(),
        page_json: v["page"].to_string(),
    }
}

/// What the snippet's `Vitrine::segments` does: parse the page, evaluate every segment with the
/// visitor's kept variables, serialize.
fn segments_json(bundle: &Bundle, profile: &LiveProfile, now: i64, page_json: &str, cache: &VarsCache) -> String {
    let page = Page::from_json(page_json).unwrap();
    let ctx = Context { bundle, profile, page: &page, now };
    serde_json::to_string(Vars::cached(&ctx, cache).segments()).unwrap()
}

fn rules(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bundle_path = root.join("demo-shop/dist/vitrine/bundle.json");
    let Ok(bundle_text) = std::fs::read_to_string(&bundle_path) else {
        eprintln!("rules bench: needs {}; build it with `VITRINE_SKIP_EDGE=1 bash scripts/build.sh`. Nothing measured.", bundle_path.display());
        return;
    };
    let read = |name: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(root.join("bench/rules").join(name)).unwrap()).unwrap() };
    let (rules_doc, visitors_doc) = (read("rules.json"), read("visitors.json"));
    let demo: Value = serde_json::from_str(&bundle_text).unwrap();
    let now = vitrine_engine::time::parse(rules_doc["now"].as_str().unwrap()).unwrap();
    let all: Vec<&Value> = rules_doc["rules"].as_array().unwrap().iter().collect();
    let both: Vec<&Value> = all.iter().copied().filter(|r| !r["growthbook"].is_null()).collect();
    let sets = [("all", bundle_with(&demo, &all)), ("both", bundle_with(&demo, &both))];
    let visitors: Vec<Visitor> = visitors_doc["visitors"].as_array().unwrap().iter().map(visitor).collect();
    let main = &visitors[0];
    eprintln!(
        "rules bench: {} rules ({} also in GrowthBook); visitor {} ({} snapshot + {} session events) on {}",
        all.len(),
        both.len(),
        main.profile.snapshot.id,
        main.profile.snapshot.recent_items.len(),
        main.profile.session.events.len(),
        main.page_json
    );

    // The answers, for the Wasm run to compare against.
    let mut answers = BTreeMap::new();
    for v in &visitors {
        let ctx = Context { bundle: &sets[0].1, profile: &v.profile, page: &v.page, now };
        let got = Vars::new(&ctx).segments().clone();
        eprintln!("  {:<16} {} of {} segments hold", v.name, got.values().filter(|b| **b).count(), got.len());
        answers.insert(v.name.clone(), got);
    }
    if let Ok(out) = std::env::var("VITRINE_BENCH_RULES_OUT") {
        std::fs::write(&out, serde_json::to_string_pretty(&json!({ "v": 1, "now": now, "segments": answers })).unwrap()).unwrap();
        eprintln!("rules bench: wrote every visitor's segments to {out}");
    }

    let mut g = c.benchmark_group("segments");
    for (name, bundle) in &sets {
        let ctx = Context { bundle, profile: &main.profile, page: &main.page, now };
        g.bench_function(*name, |b| b.iter(|| Vars::new(black_box(&ctx)).segments().values().filter(|m| **m).count()));
    }
    g.finish();

    let mut g = c.benchmark_group("segments_cached");
    for (name, bundle) in &sets {
        let ctx = Context { bundle, profile: &main.profile, page: &main.page, now };
        let cache = VarsCache::default();
        Vars::cached(&ctx, &cache).segments(); // fills the cache
        g.bench_function(*name, |b| b.iter(|| Vars::cached(black_box(&ctx), &cache).segments().values().filter(|m| **m).count()));
    }
    g.finish();

    let mut g = c.benchmark_group("segments_json");
    for (name, bundle) in &sets {
        let cache = VarsCache::default();
        segments_json(bundle, &main.profile, now, &main.page_json, &cache);
        g.bench_function(*name, |b| b.iter(|| segments_json(bundle, &main.profile, now, black_box(&main.page_json), &cache)));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // Bounded: a few seconds per benchmark on a busy 2-core machine.
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2)).sample_size(20);
    targets = rules
}
criterion_main!(benches);
