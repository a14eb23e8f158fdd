//! Recommendation latency on the real demo bundle: one visitor's widget per strategy, a whole page, the JSON boundary, bundle load.
//!
//! `cargo bench -p vitrine-engine --bench recs` (bench/recs-latency.sh runs it beside the Wasm build
//! in Chromium and writes the dated table). Needs the demo build (`VITRINE_SKIP_EDGE=1 bash
//! scripts/build.sh`): the bundle in demo-shop/dist/vitrine/ and the profiles in build/.
//!
//! Groups:
//! - `recommend/<scenario>`: [`Context::recommend`] for one widget, k = 6 (the engine alone).
//! - `decide/page_category`: [`Context::decide`] for a whole page: hero slot, 24-item list, 2 widgets.
//! - `json/<scenario>`: markup JSON in, decision JSON out, exactly what the snippet's
//!   `Vitrine::decide` does in Wasm: the native side of the boundary-included comparison.
//! - `parts/*`: the page's markup read and decision serialization alone.
//! - `load/bundle_from_json`: [`Bundle::from_json`] on the 1000-product bundle.
//!
//! With `VITRINE_BENCH_SCENARIOS=<file>` the bench also writes the scenarios (profiles, markup JSON
//! and the decision it got) so bench/recs-latency.mjs replays exactly the same calls in Wasm and
//! checks it gets the same answers.
#![allow(clippy::unwrap_used)] // a bench over fixed, checked inputs; a failure should stop it loudly

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use vitrine_engine::{Bundle, Context, Decision, ListRequest, LiveProfile, Markup, Page, ProfileSnapshot, RecsRequest, Request, Strategy};

const K: usize = 6;
const LIST_LEN: usize = 24;

/// One thing a page asks for, as the snippet would send it.
struct Scenario {
    name: &'static str,
    /// Which profile: "heavy" or "light".
    profile: &'static str,
    request: Request,
}

fn rec(widget: &str, strategy: Strategy) -> RecsRequest {
    RecsRequest { widget: widget.into(), strategy, k: Some(K), ..RecsRequest::default() }
}

/// The heaviest buyer (most orders, a full 20-item history) and a light one (one order, a few items).
fn pick_profiles(text: &str) -> (ProfileSnapshot, ProfileSnapshot) {
    let all: Vec<ProfileSnapshot> = text.lines().filter(|l| !l.trim().is_empty()).map(|l| ProfileSnapshot::from_json(l).unwrap()).collect();
    let heavy = all.iter().filter(|p| p.consent.personalization).max_by_key(|p| (p.orders.count, std::cmp::Reverse(p.id.clone()))).unwrap();
    let light = all.iter().find(|p| p.consent.personalization && p.orders.count == 1 && (3..=8).contains(&p.recent_items.len())).unwrap_or(&all[0]);
    (heavy.clone(), light.clone())
}

fn scenarios(bundle: &Bundle) -> Vec<Scenario> {
    let catalog = &bundle.catalog;
    // A product page for the best seller: a full neighbour row, a populous category.
    let product = bundle.model.popular().find(|id| catalog.get(id).is_some()).unwrap().to_owned();
    let product_page = Page { kind: "product".into(), product: Some(product.clone()), category: None };
    let home = Page { kind: "home".into(), ..Page::default() };
    let one =
        |name, profile, page: &Page, r: RecsRequest| Scenario { name, profile, request: Request { page: page.clone(), recs: vec![r], ..Request::default() } };
    let category = "Home Decor";
    let grid: Vec<String> = catalog.products().iter().filter(|p| p.product_type == category).take(LIST_LEN).map(|p| p.id.clone()).collect();
    assert_eq!(grid.len(), LIST_LEN, "the demo catalog has {LIST_LEN} products in {category}");
    let page = Request {
        page: Page { kind: "category".into(), product: None, category: Some(category.into()) },
        slots: vec!["hero".into()],
        lists: vec![ListRequest { list: "category-grid".into(), items: grid }],
        recs: vec![
            RecsRequest { max_per_category: Some(2), ..rec("for-you", Strategy::ForYou) },
            RecsRequest { category: Some(category.into()), ..rec("trending", Strategy::Trending) },
        ],
        trace: false,
    };
    vec![
        one("for_you_heavy", "heavy", &home, rec("for-you", Strategy::ForYou)),
        one("for_you_light", "light", &home, rec("for-you", Strategy::ForYou)),
        one("also_bought", "heavy", &product_page, RecsRequest { product: Some(product.clone()), ..rec("also-bought", Strategy::AlsoBought) }),
        one("similar", "heavy", &product_page, RecsRequest { product: Some(product), ..rec("similar", Strategy::Similar) }),
        one("trending", "heavy", &home, rec("trending", Strategy::Trending)),
        one("popular_max2_per_category", "heavy", &home, RecsRequest { max_per_category: Some(2), ..rec("popular", Strategy::Popular) }),
        Scenario { name: "page_category", profile: "heavy", request: page },
    ]
}

/// The page's markup as the snippet hands it to `Vitrine::decide` (docs/formats.md, "Markup"):
/// `request`'s page, slots, lists and widgets as raw `data-vitrine-*` values.
fn markup_json(r: &Request) -> String {
    let mut page = serde_json::Map::new();
    page.insert("data-vitrine-page".into(), json!(r.page.kind));
    r.page.product.iter().for_each(|p| drop(page.insert("data-vitrine-product".into(), json!(p))));
    r.page.category.iter().for_each(|c| drop(page.insert("data-vitrine-category".into(), json!(c))));
    let widgets: Vec<_> = r
        .recs
        .iter()
        .map(|w| {
            let mut a = serde_json::Map::new();
            a.insert("data-vitrine-recs".into(), json!(w.widget));
            a.insert("data-vitrine-strategy".into(), serde_json::to_value(w.strategy).unwrap());
            let mut opt = |name: &str, v: Option<String>| v.into_iter().for_each(|v| drop(a.insert(name.into(), json!(v))));
            opt("data-vitrine-product", w.product.clone());
            opt("data-vitrine-k", w.k.map(|k| k.to_string()));
            opt("data-vitrine-filter-category", w.category.clone());
            opt("data-vitrine-price-min", w.price_min.map(|p| p.to_string()));
            opt("data-vitrine-price-max", w.price_max.map(|p| p.to_string()));
            opt("data-vitrine-max-per-category", w.max_per_category.map(|m| m.to_string()));
            a
        })
        .collect();
    let text = json!({"page": page, "slots": r.slots, "lists": r.lists, "recs": widgets}).to_string();
    assert_eq!(Markup::from_json(&text).unwrap().request, *r, "the markup reads back as the request");
    text
}

/// What the snippet's `Vitrine::decide` does: read the markup, decide, serialize.
fn decide_json(bundle: &Bundle, profile: &LiveProfile, now: i64, markup_json: &str) -> String {
    let markup = Markup::from_json(markup_json).unwrap();
    let ctx = Context { bundle, profile, page: &markup.request.page, now };
    markup.widgets(ctx.decide(&markup.request)).to_json()
}

fn recs(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // The full bundle (the edge's): every product and row loaded, so a decision here is the one a
    // browser settles on after its shard fetches. The browser's head is measured loading below.
    let bundle_path = root.join("demo-shop/dist/vitrine/edge/bundle.json");
    let head_path = root.join("demo-shop/dist/vitrine/bundle.json");
    let profiles_path = root.join("build/profiles.jsonl");
    let (Ok(bundle_text), Ok(profiles_text)) = (std::fs::read_to_string(&bundle_path), std::fs::read_to_string(&profiles_path)) else {
        eprintln!("recs bench: needs {} and {}; build them with `bash scripts/build.sh`. Nothing measured.", bundle_path.display(), profiles_path.display());
        return;
    };
    let bundle = match Bundle::from_json(&bundle_text) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("recs bench: {} does not load ({e}); rebuild it with `bash scripts/build.sh`.", bundle_path.display());
            return;
        }
    };
    let (heavy, light) = pick_profiles(&profiles_text);
    let now = bundle.site.demo_now.unwrap_or(0);
    let profile_of = |which: &str| if which == "heavy" { LiveProfile::new(heavy.clone()) } else { LiveProfile::new(light.clone()) };
    let scenarios = scenarios(&bundle);
    eprintln!(
        "recs bench: {} products, {} model items; heavy {} ({} orders, {} history items), light {} ({} orders, {} items)",
        bundle.catalog.len(),
        bundle.model.len(),
        heavy.id,
        heavy.orders.count,
        heavy.recent_items.len(),
        light.id,
        light.orders.count,
        light.recent_items.len()
    );

    // The answers, for a look by eye and for the Wasm run to compare against.
    let mut exported = Vec::new();
    for s in &scenarios {
        let profile = profile_of(s.profile);
        let request_json = markup_json(&s.request);
        let decision = decide_json(&bundle, &profile, now, &request_json);
        let parsed: Decision = serde_json::from_str(&decision).unwrap();
        let summary: Vec<String> =
            parsed.recs.iter().map(|r| format!("{}: {}", r.widget, r.items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(","))).collect();
        eprintln!("  {:<26} request {:>4} B, decision {:>5} B; {}", s.name, request_json.len(), decision.len(), summary.join("; "));
        exported.push(json!({"name": s.name, "profile": s.profile, "request": request_json, "decision": decision}));
    }
    if let Ok(out) = std::env::var("VITRINE_BENCH_SCENARIOS") {
        let doc = json!({
            "v": 1,
            // The browser's production Wasm loads bundle heads: the same catalog and model as a head
            // with one shard of each kind (scripts/build.sh, `browser_bundle`), every shard added up
            // front, whose decisions are the edge bundle's.
            "bundle": root.join("build/full-browser").canonicalize().unwrap_or_else(|_| root.join("build/full-browser")),
            "now": now,
            "profiles": {"heavy": heavy.to_json(), "light": light.to_json()},
            "scenarios": exported,
        });
        std::fs::write(&out, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        eprintln!("recs bench: wrote scenarios to {out}");
    }

    let mut g = c.benchmark_group("recommend");
    for s in scenarios.iter().filter(|s| s.request.recs.len() == 1 && s.request.slots.is_empty()) {
        let profile = profile_of(s.profile);
        let ctx = Context { bundle: &bundle, profile: &profile, page: &s.request.page, now };
        let req = &s.request.recs[0];
        g.bench_function(s.name, |b| b.iter(|| ctx.recommend(black_box(req))));
    }
    g.finish();

    let page = scenarios.iter().find(|s| s.name == "page_category").unwrap();
    let page_profile = profile_of(page.profile);
    let mut g = c.benchmark_group("decide");
    g.bench_function(page.name, |b| {
        let ctx = Context { bundle: &bundle, profile: &page_profile, page: &page.request.page, now };
        b.iter(|| ctx.decide(black_box(&page.request)));
    });
    g.finish();

    let mut g = c.benchmark_group("json");
    for s in &scenarios {
        let profile = profile_of(s.profile);
        let request_json = markup_json(&s.request);
        g.bench_function(s.name, |b| b.iter(|| decide_json(&bundle, &profile, now, black_box(&request_json))));
    }
    g.finish();

    // Where the boundary's time goes, for the whole page.
    let page_json = markup_json(&page.request);
    let page_decision = Context { bundle: &bundle, profile: &page_profile, page: &page.request.page, now }.decide(&page.request);
    let mut g = c.benchmark_group("parts");
    g.bench_function("parse_request_page", |b| b.iter(|| Markup::from_json(black_box(&page_json)).unwrap()));
    g.bench_function("serialize_decision_page", |b| b.iter(|| black_box(&page_decision).to_json()));
    g.finish();

    let mut g = c.benchmark_group("load");
    g.bench_function("bundle_from_json", |b| b.iter(|| Bundle::from_json(black_box(&bundle_text)).unwrap()));
    if let Ok(head_text) = std::fs::read_to_string(&head_path) {
        g.bench_function("head_from_json", |b| b.iter(|| Bundle::from_json(black_box(&head_text)).unwrap()));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // Bounded: about a minute for every benchmark here on a busy 2-core machine.
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(30);
    targets = recs
}
criterion_main!(benches);
