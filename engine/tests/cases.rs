//! Runs the shared cross-runtime case file (tests/cases/decisions.json) against the native engine.
//! The browser test and the edge test run the same file through the Wasm build and the worker.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use vitrine_engine::{Bundle, CaseInput, Context, Decision, LiveProfile, ProfileSnapshot};

#[test]
fn shared_decision_cases() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/decisions.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 7);
    // The runtimes load the compiled site (as `vitrine bundle` writes it); the native engine
    // decides from both forms, so the compiled one provably decides like its source.
    let source = Bundle::from_json(&doc["bundle"].to_string()).unwrap();
    let mut compiled_doc = doc["bundle"].clone();
    compiled_doc["site"] = serde_json::from_str(&source.site.to_compiled_json(false)).unwrap();
    let compiled = Bundle::from_json(&compiled_doc.to_string()).unwrap();
    let mut failures = Vec::new();
    for (bundle, case) in cases.iter().flat_map(|c| [(&source, c), (&compiled, c)]) {
        let name = case["name"].as_str().unwrap();
        let input = CaseInput::from_json(&case["input"].to_string()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let decision = input.decide(bundle);
        // What the runtimes hand over: written by hand (engine/src/base/json.rs), byte for byte what
        // serde_json writes of the same decision, traced or not.
        assert_eq!(decision.to_json(), serde_json::to_string(&decision).unwrap(), "{name}");
        let mut traced = input.clone();
        traced.request.trace = true;
        let traced = traced.decide(bundle);
        assert_eq!(traced.to_json(), serde_json::to_string(&traced).unwrap(), "{name}, traced");
        let got: serde_json::Value = serde_json::from_str(&decision.to_json()).unwrap();
        let expected: Decision = serde_json::from_value(case["expected"].clone()).unwrap();
        if got != serde_json::to_value(&expected).unwrap() {
            failures.push(format!("{name}:\n  expected {}\n  got      {got}", case["expected"]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The browser's bundle: the catalog and the model split into shards (as `vitrine bundle --shards`
/// writes them). Deciding, fetching what the decision missed and deciding again until nothing is
/// missing gives every case's expected decision, whatever the shard count.
#[test]
fn shared_decision_cases_from_shards() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/decisions.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let full = Bundle::from_json(&doc["bundle"].to_string()).unwrap();
    let mut failures = Vec::new();
    let mut fetched = 0;
    for count in [1, 7, 256] {
        let head_ids: Vec<&str> = full.model.popular().take(4).collect();
        let (head, files) = common::sharded(&full, &doc["bundle"], count, &head_ids);
        let cbase = head.catalog.shard_layout().unwrap().base.clone();
        for case in doc["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let input = CaseInput::from_json(&case["input"].to_string()).unwrap();
            let mut bundle = head.clone();
            let mut rounds = 0;
            let got = loop {
                // Purchases are valued at catalog prices when they are pushed: their entries first.
                let bought = input.events.iter().flat_map(|e| e.ecommerce.items.iter().map(|i| i.item_id.as_str()));
                let need: Vec<String> = bundle.catalog.missing_products(bought).into_iter().map(|n| format!("{cbase}{n}")).collect();
                let snapshot = input.profile.clone().unwrap_or_else(ProfileSnapshot::anonymous);
                let mut profile = LiveProfile::new(snapshot);
                for e in &input.events {
                    profile.apply_with_catalog(e, input.now, &bundle.catalog);
                }
                let ctx = Context { bundle: &bundle, profile: &profile, page: &input.request.page, now: input.now };
                let mut need = need;
                need.extend(ctx.missing(&input.request));
                if need.is_empty() {
                    break ctx.decide(&input.request);
                }
                // Before that, a list or widget is either decided as the full bundle decides it or
                // left as served: a runtime that gives up early never shows something else.
                let partial = serde_json::to_value(ctx.decide(&input.request)).unwrap();
                for part in ["lists", "recs"] {
                    for (got, want) in partial[part].as_array().unwrap().iter().zip(case["expected"][part].as_array().unwrap()) {
                        if got.get("keep") != Some(&serde_json::Value::Bool(true)) || want.get("keep") == Some(&serde_json::Value::Bool(true)) {
                            assert_eq!(got, want, "{name}, round {rounds}: an undecided {part} entry must be kept");
                        }
                    }
                }
                rounds += 1;
                fetched += need.len();
                assert!(rounds <= common::max_rounds(), "{name}: round {rounds} still needs {need:?}: the snippet would keep it as served");
                for path in &need {
                    bundle.add_file(path, &files[path]).unwrap_or_else(|e| panic!("{name}: {path}: {e}"));
                }
            };
            let expected: Decision = serde_json::from_value(case["expected"].clone()).unwrap();
            if serde_json::to_value(&got).unwrap() != serde_json::to_value(&expected).unwrap() {
                failures.push(format!("{name} ({count} shards):\n  expected {}\n  got      {}", case["expected"], serde_json::to_value(&got).unwrap()));
            }
        }
    }
    assert!(fetched > 20, "the heads alone decide nothing here: {fetched} files fetched");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Issue 12: before consent a decision reads nothing of the session (the "before consent" cases
/// above); a site that sets `consent.session_before_consent` opts in to using it in memory, so an
/// unconsented visitor's views decide as a consented one's do ("live views lift their category").
/// From the source and through the compiled form, which carries the setting.
#[test]
fn issue_12_session_before_consent_is_a_site_opt_in() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/decisions.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let case = doc["cases"].as_array().unwrap().iter().find(|c| c["name"] == "live views lift their category").unwrap();
    let mut input = CaseInput::from_json(&case["input"].to_string()).unwrap();
    assert!(input.profile.as_ref().unwrap().consent.personalization);
    input.profile = None;
    let expected = serde_json::to_value(serde_json::from_value::<Decision>(case["expected"].clone()).unwrap()).unwrap();
    let decide = |bundle: &Bundle| serde_json::from_str::<serde_json::Value>(&input.decide(bundle).to_json()).unwrap();
    let default = Bundle::from_json(&doc["bundle"].to_string()).unwrap();
    assert!(!default.site.session_before_consent);
    assert_ne!(decide(&default), expected);
    let mut opted = doc["bundle"].clone();
    opted["site"]["consent"] = serde_json::json!({"session_before_consent": true});
    let source = Bundle::from_json(&opted.to_string()).unwrap();
    opted["site"] = serde_json::from_str(&source.site.to_compiled_json(false)).unwrap();
    let compiled = Bundle::from_json(&opted.to_string()).unwrap();
    for bundle in [&source, &compiled] {
        assert!(bundle.site.session_before_consent);
        assert_eq!(decide(bundle), expected);
    }
}
