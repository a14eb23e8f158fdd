//! CPU per request at the edge, natively: what the worker's Wasm does for one page, without the
//! runtime and the network. bench/edge-origin.sh runs it beside the HTTP measurements in workerd.
//!
//! `VITRINE_BENCH_PAGE=build/bench/page-50k.html cargo bench -p vitrine-edge --bench rewrite`
//! (the page bench/edge-origin.mjs writes: the demo home page grown to 50 KB). Needs the demo build:
//! the edge bundle in demo-shop/dist/vitrine/edge/ and the profiles in build/.
//!
//! Groups:
//! - `page/personalized`: the lapsed persona's snapshot parsed from its KV text, then the page
//!   streamed through the rewriter in 16 KB chunks (hero, grid, widgets, hand-off), as per request.
//! - `page/anonymous`: the same page for a visitor without a profile.
//! - `page/copy`: the chunks copied without a rewriter: the floor a pass-through costs.
//! - `load/edge_bundle`: parsing the edge bundle, what the first page after a cold start adds.
#![allow(clippy::unwrap_used)] // a bench over fixed, checked inputs; a failure should stop it loudly

use std::hint::black_box;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use vitrine_edge::rewrite::{Plan, Streamer};
use vitrine_engine::{Bundle, LiveProfile, ProfileSnapshot};

const CHUNK: usize = 16 << 10;

fn rewrite(page: &[u8], plan: Plan) -> usize {
    let mut s = Streamer::new(plan).unwrap();
    let mut n = 0;
    for chunk in page.chunks(CHUNK) {
        n += s.write(chunk).len();
    }
    n + s.end().len()
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let bundle_text = std::fs::read_to_string(root.join("demo-shop/dist/vitrine/edge/bundle.json"))
        .expect("demo-shop/dist/vitrine/edge/bundle.json: run scripts/build.sh first");
    let page_path = std::env::var("VITRINE_BENCH_PAGE").unwrap_or_else(|_| "demo-shop/dist/index.html".into());
    let page = std::fs::read(root.join(&page_path)).unwrap_or_else(|e| panic!("{page_path}: {e}"));
    // The demo switcher's lapsed big spender, as bench/edge-origin.mjs personalizes for.
    let personas: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("demo-shop/dist/personas.json")).unwrap()).unwrap();
    let personas = personas.as_array().unwrap();
    let persona = personas.iter().find(|p| p["label"].as_str().is_some_and(|l| l.to_lowercase().contains("lapsed"))).unwrap_or(&personas[0]);
    let lapsed = persona["vid"].as_str().unwrap();
    let profiles = std::fs::read_to_string(root.join("build/profiles.jsonl")).unwrap();
    let snapshot = profiles.lines().find(|l| l.contains(&format!("\"id\":\"{lapsed}\""))).unwrap().to_owned();
    let bundle = Rc::new(Bundle::from_json(&bundle_text).unwrap());
    let now = bundle.site.demo_now.unwrap();
    eprintln!("page {page_path}: {} bytes; persona {lapsed}", page.len());

    let mut g = c.benchmark_group("page");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("personalized", |b| {
        b.iter(|| {
            let profile = LiveProfile::new(ProfileSnapshot::from_json(black_box(&snapshot)).unwrap());
            rewrite(black_box(&page), Plan { bundle: bundle.clone(), profile, now, handoff: true })
        })
    });
    g.bench_function("anonymous", |b| {
        b.iter(|| {
            let profile = LiveProfile::new(ProfileSnapshot::anonymous());
            rewrite(black_box(&page), Plan { bundle: bundle.clone(), profile, now, handoff: false })
        })
    });
    g.bench_function("copy", |b| b.iter(|| black_box(&page).chunks(CHUNK).map(|c| c.to_vec().len()).sum::<usize>()));
    g.finish();

    let mut g = c.benchmark_group("load");
    g.sample_size(20);
    g.bench_function("edge_bundle", |b| b.iter(|| Bundle::from_json(black_box(&bundle_text)).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
