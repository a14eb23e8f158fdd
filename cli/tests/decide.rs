//! `vitrine decide`: what a visitor would see on a page, and why, read from the page's markup as
//! the edge reads it (the cases' own site from tests/cases/markup.json, in source form).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;
use common::{stderr, tmp, vitrine};

fn setup(name: &str) -> (std::path::PathBuf, serde_json::Value) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/");
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{root}markup.json")).unwrap()).unwrap();
    let decisions: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{root}decisions.json")).unwrap()).unwrap();
    let dir = tmp(name);
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = serde_json::json!({"v": 1, "site": cases["site"], "catalog": decisions["bundle"]["catalog"], "model": decisions["bundle"]["model"]});
    std::fs::write(dir.join("bundle.json"), bundle.to_string()).unwrap();
    (dir, cases)
}

#[test]
fn decides_every_placement_of_the_page_for_the_visitor_with_a_trace() {
    let (dir, cases) = setup("decide-page");
    let case = &cases["cases"][0];
    std::fs::write(dir.join("page.html"), format!("<body {}>{}</body>", case["body"].as_str().unwrap(), case["html"].as_str().unwrap())).unwrap();
    std::fs::write(dir.join("profile.json"), case["profile"].to_string()).unwrap();
    let p = |f: &str| dir.join(f).to_str().unwrap().to_owned();
    let o = vitrine(&["decide", "--bundle", &p("bundle.json"), "--profile", &p("profile.json"), "--page", &p("page.html"), "--trace"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["slots"][0]["variant"], "winback");
    assert_eq!(d["slots"][0]["fields"]["headline"], "We miss you, <img src=x onerror=alert(1)>");
    assert_eq!(d["lists"][0]["items"], serde_json::json!(["cdl-1", "mug-1", "bag-1", "mug-2"]));
    assert_eq!(d["recs"][0]["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect::<Vec<_>>(), ["bag-1", "mug-1"]);
    assert!(d["trace"]["slots"][0]["variants"].as_array().unwrap().iter().any(|v| v["id"] == "winback"), "{d}");

    // The same page for an anonymous visitor; a widget with an unknown strategy is left alone.
    let case = &cases["cases"][1];
    std::fs::write(dir.join("other.html"), format!("<body>{}</body>", case["html"].as_str().unwrap())).unwrap();
    let o = vitrine(&["decide", "--bundle", &p("bundle.json"), "--page", &p("other.html")]);
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["slots"][0]["variant"], "other-page");
    assert_eq!(d["recs"].as_array().unwrap().iter().map(|r| r["keep"].as_bool().unwrap_or(false)).collect::<Vec<_>>(), [false, true, true]);
    assert!(d.get("trace").is_none());
}

#[test]
fn bad_inputs_say_where() {
    let (dir, _) = setup("decide-errors");
    let p = |f: &str| dir.join(f).to_str().unwrap().to_owned();
    std::fs::write(dir.join("p.html"), "<body data-vitrine-page=home></body>").unwrap();
    std::fs::write(dir.join("events.json"), r#"[{"event":"view_item","ecommerce":{"items":[{"item_id":"bag-1"}]}}, {"event": 5}]"#).unwrap();
    let o = vitrine(&["decide", "--bundle", &p("bundle.json"), "--page", &p("p.html"), "--events", &p("events.json")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("events.json: event [1]: 1:11: event field `event`"), "{}", stderr(&o));
    std::fs::write(dir.join("profile.json"), r#"{"v":1,"id":"c-1","orders":{"count":"lots"}}"#).unwrap();
    let o = vitrine(&["decide", "--bundle", &p("bundle.json"), "--page", &p("p.html"), "--profile", &p("profile.json")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("profile.json: 1:"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}
