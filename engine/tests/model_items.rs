//! Which model rows a page reads (`Context::model_items`): what a browser with a sharded model
//! fetches before deciding, and what the edge tells it to preload. A widget reads the rows of the
//! strategy it will be decided with — after `recs.widgets` settings and its experiment's arm — and
//! a widget its experiment keeps as served reads none. Uses the shared case file's bundle.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;

use vitrine_engine::shard::Table;
use vitrine_engine::{Bundle, CaseInput, Context, LiveProfile};

fn bundle(widgets: serde_json::Value) -> Bundle {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/decisions.json");
    let mut doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["bundle"]["site"]["recs"]["widgets"] = widgets;
    Bundle::from_json(&doc["bundle"].to_string()).unwrap()
}

/// `(id, table)` pairs the request reads, for visitor `id` who bought `mug-1` then `cdl-2`, on
/// `bag-1`'s product page.
fn reads(bundle: &Bundle, visitor: &str, recs: serde_json::Value) -> Vec<(String, Table)> {
    let input = serde_json::json!({
        "profile": {"v": 1, "id": visitor, "consent": {"personalization": true}, "recent_items": [
            {"id": "mug-1", "time": "2011-11-01T10:00:00Z", "event": "purchase"},
            {"id": "cdl-2", "time": "2011-11-02T10:00:00Z", "event": "purchase"}]},
        "now": "2011-12-10T00:00:00Z",
        "request": {"page": {"type": "product", "product": "bag-1"}, "recs": recs}});
    let case = CaseInput::from_json(&input.to_string()).unwrap();
    let profile = LiveProfile::new(case.profile.clone().unwrap());
    let ctx = Context { bundle, profile: &profile, page: &case.request.page, now: case.now };
    ctx.model_items(&case.request).into_iter().map(|(id, t)| (id.to_owned(), t)).collect()
}

fn owned(pairs: &[(&str, Table)]) -> Vec<(String, Table)> {
    pairs.iter().map(|&(id, t)| (id.to_owned(), t)).collect()
}

#[test]
fn each_strategy_reads_its_rows() {
    let b = bundle(serde_json::json!({}));
    let history = [("mug-1", Table::Bought), ("cdl-2", Table::Bought)];
    let w = |strategy: &str| serde_json::json!([{"widget": "w", "strategy": strategy}]);
    assert_eq!(reads(&b, "c-1", w("for_you")), owned(&history));
    assert_eq!(reads(&b, "c-1", w("also_bought")), owned(&[("bag-1", Table::Bought)]));
    assert_eq!(reads(&b, "c-1", w("also_viewed")), owned(&[("bag-1", Table::Viewed)]));
    for strategy in ["popular", "trending", "similar", "recently_viewed"] {
        assert_eq!(reads(&b, "c-1", w(strategy)), vec![], "{strategy}");
    }
}

#[test]
fn configured_widgets_read_the_configured_strategys_rows() {
    // The markup says popular; the site configuration makes it for_you, which reads the history.
    let b = bundle(serde_json::json!({"w": {"strategy": "for_you"}}));
    let got = reads(&b, "c-1", serde_json::json!([{"widget": "w", "strategy": "popular"}]));
    assert_eq!(got, owned(&[("mug-1", Table::Bought), ("cdl-2", Table::Bought)]));
}

#[test]
fn experiment_arms_choose_the_rows() {
    // widget-test on exp-w: c-5 is in the control arm (kept as served: nothing to read), c-2 in
    // the trending arm (no rows), whatever the markup's for_you would have read.
    let b = bundle(serde_json::json!({}));
    let exp_w = serde_json::json!([{"widget": "exp-w", "strategy": "for_you"}]);
    assert_eq!(reads(&b, "c-5", exp_w.clone()), vec![]);
    assert_eq!(reads(&b, "c-2", exp_w), vec![]);
}
