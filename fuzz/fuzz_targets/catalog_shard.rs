//! `Catalog::add_shard` on arbitrary text under each file name a catalog head asks for (products
//! and similar rows): never panics, an error leaves the catalog as it was, and whatever loads is
//! never reported missing again and answers lookups without panicking.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vitrine_engine::Catalog;

const NAMES: [&str; 4] = ["0.json", "3.json", "s0.json", "s3.json"];

/// A small catalog split into four shards: the head (two products) and every genuine file.
fn split() -> &'static (Catalog, Vec<(String, String)>) {
    static SPLIT: OnceLock<(Catalog, Vec<(String, String)>)> = OnceLock::new();
    SPLIT.get_or_init(|| {
        let products: Vec<String> = (0..24)
            .map(|i| {
                format!(
                    r#"{{"id":"p{i}","title":"Mug {} Heart {i}","link":"/p/{i}","price":"1.00 GBP","product_type":"T{}"}}"#,
                    ["Red", "Blue", "Star"][i % 3],
                    i % 4
                )
            })
            .collect();
        let full = Catalog::from_json(&format!(r#"{{"v":1,"products":[{}]}}"#, products.join(","))).expect("a valid catalog");
        let (head, files) = full.split(4, ["p1", "p2"]).expect("splits");
        let head = Catalog::from_json(&head.to_json()).expect("a head reads back");
        (head, files.into_iter().map(|(n, b)| (n, String::from_utf8(b).expect("JSON"))).collect())
    })
}

/// For each name: the head holding every genuine file but that one.
fn all_but() -> &'static [Catalog] {
    static HEADS: OnceLock<Vec<Catalog>> = OnceLock::new();
    HEADS.get_or_init(|| {
        let (head, files) = split();
        NAMES
            .iter()
            .map(|&name| {
                let mut loaded = head.clone();
                for (other, body) in files.iter().filter(|(n, _)| n != name) {
                    loaded.add_shard(other, body).expect("a genuine file loads");
                }
                loaded
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let head = &split().0;
    for (name, loaded) in NAMES.iter().zip(all_but()) {
        check(head, name, text);
        check(loaded, name, text);
    }
});

fn check(base: &Catalog, name: &str, text: &str) {
    let mut c = base.clone();
    let before = c.to_json();
    if c.add_shard(name, text).is_err() {
        assert_eq!(c.to_json(), before, "a rejected {name} changed the catalog");
        return;
    }
    c.take_missing();
    let ids: Vec<String> = c.products().iter().map(|p| p.id.clone()).chain((0..24).map(|i| format!("p{i}"))).collect();
    for id in &ids {
        let _ = c.get(id);
        for other in c.similar_to(id) {
            let _ = c.get(other);
        }
    }
    assert!(!c.take_missing().iter().any(|m| m == name), "{name} loaded but reported missing");
}
