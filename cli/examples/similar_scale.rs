//! `similar` at catalog scale: a synthetic catalog of N products (titles of 2–5 words from a
//! 5,000-word vocabulary, common words commoner; 200 product types; 50 brands), one anonymous
//! visitor on a product page asking for 6 similar products. Prints the first call (which builds
//! the catalog's content index) and the mean of 50 further calls on other product pages.
//!
//!     cargo run --release -p vitrine-cli --example similar_scale -- [N]   # default 100000

use std::time::Instant;

use vitrine_engine::{Bundle, Context, LiveProfile, Page, ProfileSnapshot, RecsRequest, Strategy};

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(100_000);
    // xorshift64: a fixed catalog for a fixed N.
    let mut state = 88_172_645_463_325_252u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let vocab: Vec<String> = (0..5000).map(|i| format!("word{i}")).collect();
    let products: Vec<String> = (0..n)
        .map(|i| {
            let words = 2 + (next() % 4) as usize;
            let title: Vec<&str> = (0..words)
                .map(|_| {
                    let r = next() % 5000;
                    vocab[(next() % (r + 1)) as usize].as_str()
                })
                .collect();
            let (ty, brand) = (next() % 200, next() % 50);
            format!(r#"{{"id":"p{i}","title":"{}","link":"/p/{i}","price":"1.00 GBP","product_type":"Type {ty}","brand":"B{brand}"}}"#, title.join(" "))
        })
        .collect();
    let catalog = format!(r#"{{"v":1,"products":[{}]}}"#, products.join(","));
    let model = r#"{"v":1,"kind":"item-knn","items":[],"neighbors":[],"popular":[]}"#;
    let bundle = Bundle::from_json(&Bundle::assemble(r#"{"v":1}"#, &catalog, model))?;
    let profile = LiveProfile::new(ProfileSnapshot::anonymous());
    let req = RecsRequest { widget: "similar".into(), strategy: Strategy::Similar, k: Some(6), ..RecsRequest::default() };
    let decide = |product: usize| {
        let page = Page { kind: "product".into(), product: Some(format!("p{}", product % n)), category: None };
        Context { bundle: &bundle, profile: &profile, page: &page, now: 0 }.recommend(&req).items.len()
    };
    let started = Instant::now();
    let shown = decide(17);
    let first = started.elapsed();
    let reps = 50;
    let started = Instant::now();
    for i in 0..reps {
        std::hint::black_box(decide(i * 7919));
    }
    println!("{n} products: first call {first:.1?} (builds the content index), then {:.1?} per call; {shown} shown", started.elapsed() / reps as u32);
    Ok(())
}
