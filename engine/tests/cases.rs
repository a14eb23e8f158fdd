//! Runs the shared cross-runtime case file (tests/cases/decisions.json) against the native engine.
//! The browser test and the edge test run the same file through the Wasm build and the worker.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use vitrine_engine::{Bundle, CaseInput, Decision};

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
        let got = serde_json::to_value(input.decide(bundle)).unwrap();
        let expected: Decision = serde_json::from_value(case["expected"].clone()).unwrap();
        if got != serde_json::to_value(&expected).unwrap() {
            failures.push(format!("{name}:\n  expected {}\n  got      {got}", case["expected"]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
