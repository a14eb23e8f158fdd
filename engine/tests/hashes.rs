//! Runs the shared experiment-assignment cases (tests/cases/hashes.json) against the native engine:
//! visitor id and salt to bucket, directly and through a decision of the cases' own site. The
//! browser test and the edge test run the same file through the Wasm build and the worker.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use vitrine_engine::experiment::bucket;
use vitrine_engine::{Bundle, Context, LiveProfile, Page, ProfileSnapshot, Request};

#[test]
fn shared_hash_cases() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/hashes.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 50);
    let salts: Vec<&str> = doc["site"]["experiments"].as_object().unwrap().values().map(|e| e["salt"].as_str().unwrap()).collect();
    let bundle = Bundle::from_json(
        &serde_json::json!({"v": 1, "site": doc["site"], "catalog": {"v": 1, "products": []},
            "model": {"v": 1, "kind": "item-knn", "items": [], "neighbors": [], "popular": []}})
        .to_string(),
    )
    .unwrap();
    for c in cases {
        let (salt, id, want) = (c["salt"].as_str().unwrap(), c["id"].as_str().unwrap(), c["bucket"].as_u64().unwrap());
        assert_eq!((bucket(salt, id) * 10_000.0).round() as u64, want, "{salt} / {id}");
        let snapshot = ProfileSnapshot::from_json(&serde_json::json!({"v": 1, "id": id, "consent": {"personalization": true}}).to_string()).unwrap();
        let profile = LiveProfile::new(snapshot);
        let slot = format!("s{}", salts.iter().position(|s| *s == salt).unwrap());
        let request = Request { slots: vec![slot], ..Request::default() };
        let d = Context { bundle: &bundle, profile: &profile, page: &Page::default(), now: 0 }.decide(&request);
        let got = d.slots[0].experiment.as_ref().unwrap().bucket;
        assert_eq!((got * 10_000.0).round() as u64, want, "decided: {salt} / {id}");
    }
}
