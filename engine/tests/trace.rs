//! Decisions explain themselves: a request with `"trace": true` says which rules were evaluated,
//! their values, which variant won and why, and which experiment bucket applied; without the flag
//! there is no trace at all. Uses the shared case file's bundle.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;

use vitrine_engine::{Bundle, CaseInput};

fn bundle() -> Bundle {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/decisions.json");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    Bundle::from_json(&doc["bundle"].to_string()).unwrap()
}

fn decide(input: serde_json::Value) -> serde_json::Value {
    let case = CaseInput::from_json(&input.to_string()).unwrap();
    serde_json::to_value(case.decide(&bundle())).unwrap()
}

#[test]
fn a_trace_names_every_rule_its_value_the_winner_and_why() {
    let profile = serde_json::json!({"v": 1, "id": "c-2", "consent": {"personalization": true},
        "traits": {"first_name": "Ann"}, "orders": {"count": 25, "revenue": 5000, "last": "2011-05-01T00:00:00Z"}});
    let d = decide(serde_json::json!({"profile": profile, "now": "2011-12-10T00:00:00Z",
        "request": {"slots": ["hero", "banner"], "trace": true}}));
    let trace = &d["trace"];
    let hero = &trace["slots"][0];
    assert_eq!(hero["chosen"], "winback");
    let values: Vec<(&str, &str, &str)> = hero["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["id"].as_str().unwrap(), v["value"].as_str().unwrap(), v["schedule"].as_str().unwrap()))
        .collect();
    // winback and vip both hold (same priority: the one listed first wins); browser does not; save
    // reads `profile.clv`, which this snapshot lacks: an error, so false; xmas waits.
    let save = "error: 1:1: no such key: 'clv'\n  profile.clv.expected_value >= 500.0 && profile.clv.p_alive < 0.5\n  ^^^^^^^^^^^";
    assert_eq!(
        values,
        vec![
            ("winback", "true", "active"),
            ("vip", "true", "active"),
            ("browser", "false", "active"),
            ("save", save, "active"),
            ("xmas", "not evaluated", "not started")
        ]
    );
    let reason = hero["reason"].as_str().unwrap();
    assert!(reason.contains("2 of 5 variants hold") && reason.contains("listed first"), "{reason}");
    assert!(hero["variants"][0]["when"].as_str().unwrap().contains("days_since(profile.orders.last) > 90"));
    // The banner's experiment: bucket and arm.
    let banner = &trace["slots"][1];
    assert_eq!(banner["experiment"]["status"], "assigned");
    assert_eq!(banner["experiment"]["assignment"]["arm"], "show-a");
    assert_eq!(banner["experiment"]["assignment"]["bucket"], 0.3226);
    assert!(banner["reason"].as_str().unwrap().contains("experiment banner-test arm show-a"), "{}", banner["reason"]);
    assert_eq!(trace["segments"]["bag_browser"], false);
}

#[test]
fn a_rule_error_is_traced_and_counts_as_false() {
    // No orders.last in this snapshot: days_since(...) errors; `count >= 2 &&` cannot absorb it.
    let profile = serde_json::json!({"v": 1, "id": "c-9", "consent": {"personalization": true}, "orders": {"count": 3, "revenue": 2000}});
    let d = decide(serde_json::json!({"profile": profile, "now": "2011-12-10T00:00:00Z", "request": {"slots": ["hero"], "trace": true}}));
    let winback = &d["trace"]["slots"][0]["variants"][0];
    assert!(winback["value"].as_str().unwrap().starts_with("error: "), "{winback}");
    assert!(winback["value"].as_str().unwrap().contains("last"), "{winback}");
    assert_eq!(d["slots"][0]["variant"], serde_json::Value::Null);
    assert!(d["trace"]["slots"][0]["reason"].as_str().unwrap().contains("no variant holds"));
}

#[test]
fn without_the_flag_there_is_no_trace_and_consent_gates_experiments() {
    let d = decide(serde_json::json!({"profile": {"v": 1, "id": "c-2", "consent": {"personalization": false}}, "now": "2011-12-10T00:00:00Z",
        "request": {"slots": ["banner"], "trace": true}}));
    assert_eq!(d["trace"]["slots"][0]["experiment"]["status"], "no consent");
    let d = decide(serde_json::json!({"now": "2011-12-10T00:00:00Z", "request": {"slots": ["banner"]}}));
    assert!(d.get("trace").is_none(), "{d}");
}
