//! The `vitrine` CLI contract: train → recommend round trip, profiles from real orders, and
//! malformed input giving `file:line:col`, exit code 2 and no partial output.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{data, stderr, tmp, vitrine};

#[test]
fn train_recommend_round_trip() {
    let dir = tmp("round");
    let model = dir.join("model.json");
    let o = vitrine(&["train", "--interactions", &data("interactions.csv"), "--out", model.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = vitrine(&["recommend", "--model", model.to_str().unwrap(), "--histories", &data("histories.jsonl"), "--k", "3", "--exclude-history"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "one line per input line");
    let items = |i: usize| -> Vec<String> { lines[i]["items"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect() };
    assert_eq!(lines.iter().map(|l| l["user"].as_str().unwrap()).collect::<Vec<_>>(), ["new-garden-fan", "kitchen-fan", "stranger"], "input order");
    let garden = items(0);
    assert_eq!(garden.len(), 3);
    assert!(garden.iter().all(|i| i.starts_with("garden-") && i != "garden-0" && i != "garden-1"), "{garden:?}");
    let kitchen = items(1);
    assert!(kitchen.iter().all(|i| i.starts_with("kitchen-") && i != "kitchen-3"), "{kitchen:?}");
    assert_eq!(items(2).len(), 3, "cold start is filled by popularity");

    // Without --exclude-history, history items may come back (repeat purchases).
    let o = vitrine(&["recommend", "--model", model.to_str().unwrap(), "--histories", &data("histories.jsonl"), "--k", "10"]);
    let first: serde_json::Value = serde_json::from_str(String::from_utf8(o.stdout).unwrap().lines().next().unwrap()).unwrap();
    assert!(first["items"].as_array().unwrap().len() <= 10);
}

#[test]
fn malformed_csv_is_located_and_writes_nothing() {
    let dir = tmp("bad");
    let csv = dir.join("bad.csv");
    std::fs::write(&csv, "user,item,timestamp\nu1,a,2011-01-01 10:00:00\nu2,b,last tuesday\n").unwrap();
    let model = dir.join("model.json");
    let o = vitrine(&["train", "--interactions", csv.to_str().unwrap(), "--out", model.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let msg = stderr(&o);
    assert!(msg.contains(&format!("{}:3:6: field `timestamp`", csv.display())), "{msg}");
    assert!(msg.contains("\"last tuesday\""), "{msg}");
    assert!(!model.exists(), "no partial output");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary files left behind");

    std::fs::write(&csv, "user,item,timestamp\nu1,a\n").unwrap();
    let o = vitrine(&["train", "--interactions", csv.to_str().unwrap(), "--out", model.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.csv:2:1: expected 3 fields, found 2"), "{}", stderr(&o));

    std::fs::write(&csv, "user,item,when\nu1,a,2011-01-01 10:00:00\n").unwrap();
    let o = vitrine(&["train", "--interactions", csv.to_str().unwrap(), "--out", model.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("expected a `timestamp` column"), "{}", stderr(&o));
}

#[test]
fn malformed_histories_are_located() {
    let dir = tmp("hist");
    let model = dir.join("model.json");
    assert!(vitrine(&["train", "--interactions", &data("interactions.csv"), "--out", model.to_str().unwrap()]).status.success());
    let hist = dir.join("h.jsonl");
    std::fs::write(&hist, "{\"user\": \"a\", \"items\": []}\n{\"user\": \"b\", \"items\": [1]}\n").unwrap();
    let o = vitrine(&["recommend", "--model", model.to_str().unwrap(), "--histories", hist.to_str().unwrap(), "--k", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("h.jsonl:2:"), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "no partial output");
}

#[test]
fn profiles_from_real_orders() {
    let orders = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo-shop/data/orders.csv.gz");
    let dir = tmp("profiles");
    let out = dir.join("profiles.jsonl");
    let o = vitrine(&["profiles", "--orders", orders.to_str().unwrap(), "--now", "2011-12-10T00:00:00Z", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let msg = stderr(&o);
    assert!(msg.contains("guest") && msg.contains("cancellation"), "{msg}");
    let text = std::fs::read_to_string(&out).unwrap();
    let profiles: Vec<vitrine_engine::ProfileSnapshot> = text.lines().map(|l| vitrine_engine::ProfileSnapshot::from_json(l).unwrap()).collect();
    assert!(profiles.len() > 1000, "{}", profiles.len());
    assert!(profiles.iter().all(|p| p.id.starts_with("c-") && !p.id.ends_with(".0") && p.orders.count >= 1 && p.orders.revenue >= 0.0));
    assert!(profiles.iter().all(|p| !p.consent.personalization), "consent is never assumed");
    let mut ids: Vec<&str> = profiles.iter().map(|p| p.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), profiles.len(), "one snapshot per customer, sorted");
    for p in &profiles {
        let (rfm, lifecycle) = (p.rfm.as_ref().unwrap(), p.lifecycle.as_ref().unwrap());
        assert!([rfm.r, rfm.f, rfm.m].iter().all(|s| (1..=5).contains(s)), "{rfm:?}");
        assert_eq!((rfm.frequency, rfm.monetary), (p.orders.count, p.orders.revenue));
        assert!(lifecycle.expected_gap_days >= 7.0, "{lifecycle:?}");
        assert!(p.segments.contains(&format!("lifecycle_{}", lifecycle.stage)), "{:?}", p.segments);
    }
    assert!(msg.contains("lifecycle stages: new "), "{msg}");
    // Why a first trial shows nothing personal, said at once.
    assert!(msg.contains(&format!("consent recorded for 0 of {} snapshots (--traits, else --consent denied)", profiles.len())), "{msg}");
    assert!(msg.contains("no --catalog: the snapshots have no category affinities"), "{msg}");

    let o = vitrine(&["profiles", "--orders", orders.to_str().unwrap(), "--now", "soon", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--now"));
}

/// `vitrine bundle` names each rule the browser leaves to the edge, with why and what it decides.
#[test]
fn bundle_names_the_rules_left_to_the_edge_and_why() {
    let dir = tmp("edge-only");
    let model = dir.join("model.json");
    assert!(vitrine(&["train", "--interactions", &data("interactions.csv"), "--out", model.to_str().unwrap()]).status.success());
    let site = dir.join("site.json");
    std::fs::write(
        &site,
        r#"{"v":1,"segments":{"gmail":{"when":"profile.traits.email.endsWith('@gmail.com') || profile.traits.email.matches('@googlemail')"}},
          "slots":{"hero":[{"id":"g","when":"segment.gmail","content":{"headline":"Hi"}}],
                   "greeting":[{"id":"a","content":{"headline":"Hi {profile.traits.first_name.substring(0, 1)}"}}],
                   "plain":[{"id":"p","when":"page.category == 'Garden'","content":{"headline":"Spring"}}]}}"#,
    )
    .unwrap();
    let catalog = dir.join("catalog.json");
    std::fs::write(&catalog, r#"{"v":1,"products":[]}"#).unwrap();
    let out = dir.join("bundle.json");
    let o = vitrine(&[
        "bundle",
        "--site",
        site.to_str().unwrap(),
        "--catalog",
        catalog.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let said: Vec<&str> = err.lines().filter(|l| l.contains("only the edge evaluates")).map(|l| l.split_once(": `").map_or(l, |(_, rest)| rest)).collect();
    assert_eq!(
        said,
        [
            "segments.gmail.when` calls matches(): only the edge evaluates it, and the browser leaves every placement whose rules read this segment as served",
            "slots.greeting[0].content.headline` has a hole that calls substring(): only the edge evaluates it, and the browser leaves slot `greeting` as served",
            "slots.hero[0].when` reads segment `gmail`, whose rule calls matches(): only the edge evaluates it, and the browser leaves slot `hero` as served",
        ],
        "{err}"
    );
}

#[test]
fn bundle_accepts_a_merchant_center_tsv_catalog() {
    let dir = tmp("tsv");
    let model = dir.join("model.json");
    assert!(vitrine(&["train", "--interactions", &data("interactions.csv"), "--out", model.to_str().unwrap()]).status.success());
    let site = dir.join("site.json");
    std::fs::write(&site, r#"{"v":1,"slots":{"hero":[{"id":"garden","when":"page.category == 'Garden'","content":{"headline":"Spring is here"}}]}}"#).unwrap();
    let tsv = dir.join("feed.tsv");
    std::fs::write(&tsv, "id\ttitle\tlink\tprice\tavailability\tproduct_type\ngarden-0\tTrowel\t/p/g0\t4.50 GBP\tin stock\tGarden\n").unwrap();
    let out = dir.join("bundle.json");
    let o = vitrine(&[
        "bundle",
        "--site",
        site.to_str().unwrap(),
        "--catalog",
        tsv.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bundle = vitrine_engine::Bundle::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(bundle.catalog.get("garden-0").map(|p| p.price.cents), Some(450));

    std::fs::write(&tsv, "id\ttitle\tlink\tprice\ngarden-0\tTrowel\tjavascript:alert(1)\t4.50 GBP\n").unwrap();
    std::fs::remove_file(&out).unwrap();
    let o = vitrine(&[
        "bundle",
        "--site",
        site.to_str().unwrap(),
        "--catalog",
        tsv.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("feed.tsv:2:17: catalog field `link`"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn binary_model_round_trip_and_corruption() {
    let dir = tmp("bin");
    let json = dir.join("model.json");
    let bin = dir.join("model.vtm");
    for out in [&json, &bin] {
        let o = vitrine(&["train", "--interactions", &data("interactions.csv"), "--out", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert!(std::fs::read(&bin).unwrap().starts_with(b"VTRM"));
    let recommend =
        |model: &Path| vitrine(&["recommend", "--model", model.to_str().unwrap(), "--histories", &data("histories.jsonl"), "--k", "3", "--exclude-history"]);
    let (a, b) = (recommend(&json), recommend(&bin));
    assert!(b.status.success(), "{}", stderr(&b));
    assert_eq!(a.stdout, b.stdout, "same recommendations from either snapshot");

    let mut bytes = std::fs::read(&bin).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&bin, &bytes).unwrap();
    let o = recommend(&bin);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("model.vtm: model field `checksum`"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn profiles_rfm_lifecycle_and_enrichment_traits() {
    let dir = tmp("rfm");
    let orders = dir.join("orders.csv");
    // c-101 buys weekly and is three weeks overdue; c-102 buys every October; c-103 bought once,
    // nine days ago. A guest line and a postage line count for nobody.
    let mut csv = String::from("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n");
    for (i, day) in ["2011-10-22", "2011-10-29", "2011-11-05", "2011-11-12"].iter().enumerate() {
        csv += &format!("A{i},22423,CAKE STAND,1,{day} 10:00:00,10.00,101.0,United Kingdom\n");
    }
    for (i, day) in ["2009-10-11", "2010-10-11", "2011-10-11"].iter().enumerate() {
        csv += &format!("B{i},22423,CAKE STAND,1,{day} 10:00:00,100.00,102.0,France\n");
    }
    csv += "E0,85123A,HEART,2,2011-12-01 10:00:00,50.00,103.0,United Kingdom\n";
    csv += "E0,POST,POSTAGE,1,2011-12-01 10:00:00,18.00,103.0,United Kingdom\n";
    csv += "D0,85123A,HEART,1,2011-12-02 10:00:00,2.55,,United Kingdom\n";
    std::fs::write(&orders, csv).unwrap();
    let traits = dir.join("traits.jsonl");
    std::fs::write(
        &traits,
        "{\"id\": \"c-103\", \"traits\": {\"household\": \"family\", \"age_band\": \"35-44\", \"children\": 2, \"newsletter\": true}}\n\
         {\"id\": \"c-999\", \"traits\": {\"household\": \"single\"}}\n",
    )
    .unwrap();
    let out = dir.join("profiles.jsonl");
    let run = |extra: &[&str]| {
        let mut args = vec!["profiles", "--orders", orders.to_str().unwrap(), "--now", "2011-12-10 12:00:00", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        vitrine(&args)
    };
    let read = || -> Vec<serde_json::Value> { std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect() };

    let o = run(&["--traits", traits.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("lifecycle stages: new 1, active 1, loyal 0, at_risk 0, lapsed 1, churned 0"), "{}", stderr(&o));
    let p = read();
    assert_eq!(p.iter().map(|p| p["id"].as_str().unwrap()).collect::<Vec<_>>(), ["c-101", "c-102", "c-103"]);
    // Recency 28, 60 and 9 days; 4, 3 and 1 orders; 40, 300 and 100 spent: three customers score
    // 1, 3 and 5 on each. Own gaps 7 and 365 days; c-103 has none and expects their median, 186.
    let expect = |i: usize, rfm: &str, lifecycle: &str| {
        assert_eq!(p[i]["rfm"], serde_json::from_str::<serde_json::Value>(rfm).unwrap(), "{}", p[i]["id"]);
        assert_eq!(p[i]["lifecycle"], serde_json::from_str::<serde_json::Value>(lifecycle).unwrap(), "{}", p[i]["id"]);
    };
    expect(
        0,
        r#"{"recency_days": 28, "frequency": 4, "monetary": 40.0, "r": 3, "f": 5, "m": 1, "as_of": "2011-12-10T12:00:00Z"}"#,
        r#"{"stage": "lapsed", "expected_gap_days": 7.0, "days_overdue": 21.0, "as_of": "2011-12-10T12:00:00Z"}"#,
    );
    expect(
        1,
        r#"{"recency_days": 60, "frequency": 3, "monetary": 300.0, "r": 1, "f": 3, "m": 5, "as_of": "2011-12-10T12:00:00Z"}"#,
        r#"{"stage": "active", "expected_gap_days": 365.0, "days_overdue": 0.0, "as_of": "2011-12-10T12:00:00Z"}"#,
    );
    expect(
        2,
        r#"{"recency_days": 9, "frequency": 1, "monetary": 100.0, "r": 5, "f": 1, "m": 3, "as_of": "2011-12-10T12:00:00Z"}"#,
        r#"{"stage": "new", "expected_gap_days": 186.0, "days_overdue": 0.0, "as_of": "2011-12-10T12:00:00Z"}"#,
    );
    assert_eq!(p[0]["segments"], serde_json::json!(["repeat_buyer", "lifecycle_lapsed"]));
    // Enrichment attributes arrive as traits, next to the derived ones, with their JSON types.
    assert_eq!(
        p[2]["traits"],
        serde_json::json!({"age_band": "35-44", "children": 2.0, "country": "United Kingdom", "household": "family", "loyalty_tier": "bronze", "newsletter": true})
    );

    // Thresholds are flags: with lapsed at 5 gaps the weekly buyer is only at risk.
    let o = run(&["--lapsed-ratio", "5", "--default-gap-days", "10"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = read();
    assert_eq!(p[0]["lifecycle"]["stage"], "at_risk");
    assert_eq!(p[2]["lifecycle"]["expected_gap_days"], 10.0);

    // Rules read enrichment traits like any field, and the stage through segments.
    let site = dir.join("site.json");
    std::fs::write(&site, r#"{"v":1,"slots":{"hero":[{"id":"family","when":"profile.traits.household == 'family' && !('lifecycle_lapsed' in profile.segments)","content":{"headline":"For the whole family"}}]}}"#).unwrap();
    let o = vitrine(&["check", "--site", site.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));

    // Contradictory thresholds are an input error, and nothing is written.
    std::fs::remove_file(&out).unwrap();
    let o = run(&["--at-risk-ratio", "4", "--lapsed-ratio", "3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--at-risk-ratio (4) must not exceed --lapsed-ratio (3)"), "{}", stderr(&o));
    let o = run(&["--default-gap-days", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--default-gap-days: expected a positive number, found 0"), "{}", stderr(&o));
    assert!(!out.exists(), "no output on error");
}

#[test]
fn eval_contract_exit_codes_and_typed_values() {
    let vars = tmp("eval").join("vars.json");
    std::fs::write(
        &vars,
        r#"{"events": {"list": [{"map": [[{"string": "type"}, {"string": "view_item"}]]}, {"map": [[{"string": "type"}, {"string": "purchase"}]]}]},
            "big": {"uint": "18446744073709551615"}, "when": {"timestamp": "2011-12-09T12:00:00Z"}}"#,
    )
    .unwrap();
    let v = vars.to_str().unwrap();
    let run = |expr: &str| vitrine(&["eval", "--expr", expr, "--vars", v]);
    let o = run(r#"events.filter(e, e.type == "view_item").size()"#);
    assert_eq!((o.status.code(), String::from_utf8_lossy(&o.stdout).trim()), (Some(0), r#"{"int":"1"}"#));
    let o = run("big");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), r#"{"uint":"18446744073709551615"}"#, "all 64 bits survive");
    let o = run(r#"when + duration("36h") > timestamp("2011-12-10T00:00:00Z")"#);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), r#"{"bool":true}"#);
    // An evaluation error: exit 1, a JSON error on stdout.
    let o = run("big + 1u");
    assert_eq!(o.status.code(), Some(1));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(out["error"].as_str().unwrap().contains("overflow"), "{out}");
    // Parse and check errors: exit 2, located on stderr, every one of them.
    let o = run("events.size() +\n  (1");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("2:"), "{}", stderr(&o));
    let o = run("evnts.size() > 0 && nope");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("evnts") && stderr(&o).contains("nope"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    // Without --vars, a constant expression.
    let o = vitrine(&["eval", "--expr", r#""Lantern".lowerAscii().startsWith("lan")"#]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), r#"{"bool":true}"#);
}

#[test]
fn check_reports_every_rule_error_and_lists_fields() {
    let dir = tmp("check");
    let bad = dir.join("site.json");
    std::fs::write(
        &bad,
        r#"{"v": 1, "segments": {"s": {"when": "profile.ordrs.count > 1"}},
            "slots": {"hero": [{"id": "a", "when": "segment.t &&\n  events.exists(e, e.tpye == 'purchase')"}]}}"#,
    )
    .unwrap();
    let o = vitrine(&["check", "--site", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("3 error(s)"), "{err}");
    assert!(err.contains("segments.s.when") && err.contains("did you mean `orders`"), "{err}");
    assert!(err.contains("did you mean `s`") || err.contains("no field `t`"), "{err}");
    assert!(err.contains("2:20") && err.contains("did you mean `type`"), "line:col inside the rule: {err}");
    // Structural errors too, every one, each with its place in the file.
    std::fs::write(
        &bad,
        r#"{"v": 1, "slots": {"hero": [{"id": "a", "schedule": {"start": "2026-13-01"}}]},
  "recs": {"widgets": {"w": {"strategy": "for-you"}}}, "experiment": {}}"#,
    )
    .unwrap();
    let o = vitrine(&["check", "--site", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let at = bad.display();
    assert!(err.contains("3 error(s)"), "{err}");
    assert!(err.contains(&format!("{at}:1:63: field `slots.hero[0].schedule.start`: expected an RFC 3339 time")), "{err}");
    assert!(
        err.contains(&format!("{at}:2:42: field `recs.widgets.w.strategy`: unknown strategy \"for-you\"")) && err.contains("did you mean `for_you`?"),
        "{err}"
    );
    assert!(err.contains(&format!("{at}:2:70: unknown field `experiment`")) && err.contains("did you mean `experiments`?"), "{err}");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo-shop/site.json");
    let o = vitrine(&["check", "--site", demo.to_str().unwrap(), "--fields"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("segments.lapsed_big_spender.when: profile.orders.count, profile.orders.revenue, profile.orders.last, now"), "{out}");
}

/// Writes `lines` as a JSON-lines file.
fn write_lines(path: &Path, lines: &[serde_json::Value]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(path, text).unwrap();
}

fn uplift(dir: &Path, exposures: &Path, conversions: &Path, site: Option<&Path>) -> (Output, Option<serde_json::Value>) {
    let out = dir.join("uplift.json");
    let _ = std::fs::remove_file(&out);
    let mut args = vec!["uplift", "--exposures", exposures.to_str().unwrap(), "--conversions", conversions.to_str().unwrap(), "--out", out.to_str().unwrap()];
    if let Some(s) = site {
        args.extend(["--site", s.to_str().unwrap()]);
    }
    let o = vitrine(&args);
    let report = std::fs::read_to_string(&out).ok().map(|t| serde_json::from_str(&t).unwrap());
    (o, report)
}

#[test]
fn uplift_known_answer() {
    // Holdout: 10 visitors, 1 converts after exposure (h0; h1's order came before). Arm a: 10
    // visitors, 3 convert. `both` saw both arms: counted as excluded, nowhere else.
    let dir = tmp("uplift-known");
    let exposure = |v: &str, arm: &str| serde_json::json!({"visitor": v, "experiment": "winback", "arm": arm, "time": "2024-02-01T09:00:00Z"});
    let mut exposures: Vec<serde_json::Value> = (0..10).flat_map(|i| [exposure(&format!("h{i}"), "holdout"), exposure(&format!("a{i}"), "a")]).collect();
    exposures.extend([exposure("both", "a"), exposure("both", "holdout")]);
    let conversion = |v: &str, time: &str, value: f64| serde_json::json!({"visitor": v, "time": time, "value": value});
    let conversions = [
        conversion("h0", "2024-02-02T10:00:00Z", 30.0),
        conversion("h1", "2024-01-15T10:00:00Z", 50.0),
        conversion("a0", "2024-02-01T09:00:00Z", 10.0),
        conversion("a1", "2024-02-03T10:00:00+01:00", 20.0),
        conversion("a2", "2024-02-04T10:00:00Z", 30.0),
        conversion("a2", "2024-02-05T10:00:00Z", 30.0),
        conversion("both", "2024-02-05T10:00:00Z", 1000.0),
    ];
    let (e, c) = (dir.join("exposures.jsonl"), dir.join("conversions.jsonl"));
    write_lines(&e, &exposures);
    write_lines(&c, &conversions);
    let (o, report) = uplift(&dir, &e, &c, None);
    assert!(o.status.success(), "{}", stderr(&o));
    let x = &report.unwrap()["experiments"]["winback"];
    assert_eq!((x["visitors"].as_u64(), x["excluded_multiple_arms"].as_u64(), x["control"].as_str()), (Some(20), Some(1), Some("holdout")));
    assert!(stderr(&o).contains("winback: 1 visitors saw more than one arm"), "{}", stderr(&o));
    let a = &x["arms"]["a"];
    assert_eq!((a["visitors"].as_u64(), a["conversion_rate"].as_f64(), a["revenue_per_visitor"].as_f64()), (Some(10), Some(0.3), Some(9.0)));
    // 0.3 − 0.1 ± 1.959964 · √(0.3·0.7/10 + 0.1·0.9/10) = 0.2 ± 0.339476.
    let u = &a["uplift"];
    let close = |v: &serde_json::Value, expected: f64| assert!((v.as_f64().unwrap() - expected).abs() < 1e-6, "{v} vs {expected}");
    close(&u["abs"], 0.2);
    close(&u["lo"], -0.139_476);
    close(&u["hi"], 0.539_476);
    close(&a["relative_uplift"]["rel"], 2.0);
    close(&a["revenue_uplift"]["abs"], 6.0);
    assert!(a["srm_p"].is_null(), "a holdout of unknown share: no SRM test");
    assert!(x["arms"].get("holdout").is_none());
}

/// xorshift64*: a fixed simulated experiment per seed.
fn xorshift(state: &mut u64) -> f64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}

/// A 50/50 holdout experiment, 10 % → 13 % conversion, as plain lines and as GA4 export rows (with
/// page views in between), and its conversions.
fn simulated_experiment(dir: &Path, arm_share: f64) -> (PathBuf, PathBuf, PathBuf) {
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let (mut plain, mut ga4, mut conversions) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..6000 {
        let visitor = format!("{i}.1700000000");
        let arm = if xorshift(&mut rng) < arm_share { "a" } else { "holdout" };
        plain.push(serde_json::json!({"visitor": visitor, "experiment": "winback", "arm": arm, "time": "2024-02-01T09:00:00Z"}));
        let param = |k: &str, v: &str| serde_json::json!({"key": k, "value": {"string_value": v, "int_value": null, "double_value": null}});
        ga4.push(serde_json::json!({"event_date": "20240201", "event_timestamp": "1706778000000000", "event_name": "page_view",
            "user_pseudo_id": visitor, "event_params": [param("page_location", "https://shop.example/")]}));
        ga4.push(serde_json::json!({"event_date": "20240201", "event_timestamp": "1706778000123456", "event_name": "experience_impression",
            "user_pseudo_id": visitor, "event_params": [param("exp_variant_string", &format!("vitrine-winback-{arm}")),
                param("vitrine_experiment", "winback"), param("vitrine_arm", arm)]}));
        if xorshift(&mut rng) < if arm == "a" { 0.13 } else { 0.10 } {
            conversions.push(serde_json::json!({"visitor": visitor, "time": "2024-02-02T10:00:00Z", "value": 40.0}));
        }
    }
    let paths = (dir.join("plain.jsonl"), dir.join("ga4.jsonl"), dir.join("conversions.jsonl"));
    write_lines(&paths.0, &plain);
    write_lines(&paths.1, &ga4);
    write_lines(&paths.2, &conversions);
    (paths.0, paths.1, paths.2)
}

#[test]
fn uplift_recovers_a_planted_effect_from_plain_and_ga4_exposures() {
    let dir = tmp("uplift-sim");
    let site = dir.join("site.json");
    std::fs::write(
        &site,
        r#"{"v":1,"slots":{"hero":[{"id":"back","when":"true","content":{"headline":"Welcome back"}}]},
        "experiments":{"winback":{"slot":"hero","holdout":0.5,"arms":[{"id":"a","variant":"back"}]}}}"#,
    )
    .unwrap();
    let (plain, ga4, conversions) = simulated_experiment(&dir, 0.5);
    let (o, from_plain) = uplift(&dir, &plain, &conversions, Some(&site));
    assert!(o.status.success(), "{}", stderr(&o));
    let (o, from_ga4) = uplift(&dir, &ga4, &conversions, Some(&site));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("(6000 rows of other GA4 events skipped)"), "{}", stderr(&o));
    assert_eq!(from_plain, from_ga4, "the same exposures in either shape");
    let x = &from_plain.unwrap()["experiments"]["winback"];
    assert_eq!(x["split"], "configured");
    assert!(x["srm_p"].as_f64().unwrap() > 0.001 && x["srm_flag"] == false, "{}", x["srm_p"]);
    let u = &x["arms"]["a"]["uplift"];
    assert!(u["lo"].as_f64().unwrap() <= 0.03 && 0.03 <= u["hi"].as_f64().unwrap(), "{u}");
    let r = &x["arms"]["a"]["revenue_uplift"];
    assert!(r["lo"].as_f64().unwrap() <= 1.2 && 1.2 <= r["hi"].as_f64().unwrap(), "{r}");

    // The same experiment split 60/40 against its 50/50 design is flagged.
    let (plain, _, conversions) = simulated_experiment(&dir, 0.6);
    let (o, report) = uplift(&dir, &plain, &conversions, Some(&site));
    assert!(o.status.success(), "{}", stderr(&o));
    let x = &report.unwrap()["experiments"]["winback"];
    assert!(x["srm_flag"] == true && x["srm_p"].as_f64().unwrap() < 0.001, "{x}");
    assert!(stderr(&o).contains("experiment winback: sample ratio mismatch"), "{}", stderr(&o));
}

#[test]
fn malformed_uplift_input_is_located_and_writes_nothing() {
    let dir = tmp("uplift-bad");
    let (e, c) = (dir.join("exposures.jsonl"), dir.join("conversions.jsonl"));
    let good_exposure = r#"{"visitor": "c-1", "experiment": "w", "arm": "a", "time": "2024-02-01T09:00:00Z"}"#;
    let good_conversion = r#"{"visitor": "c-1", "time": "2024-02-02T09:00:00Z", "value": 12.5}"#;
    let out = dir.join("uplift.json");
    for (exposures, conversions, expected) in [
        (
            r#"{"visitor": "c-2", "experiment": "w", "arm": "a", "time": "last tuesday"}"#,
            good_conversion,
            "exposures.jsonl:2:73: exposure field `time`: expected an RFC 3339 time, found \"last tuesday\"",
        ),
        (r#"{"visitor": "c-2", "experiment": "w", "time": "2024-02-01T09:00:00Z"}"#, good_conversion, "exposures.jsonl:2:69: exposure: missing field `arm`"),
        (r#"{"visitor": "c-2", "experiment": "w""#, good_conversion, "exposures.jsonl:2:36: exposure: syntax error: EOF while parsing an object"),
        (
            r#"{"event_name": "experience_impression", "event_timestamp": "1706778000000000", "user_pseudo_id": "1", "event_params": []}"#,
            good_conversion,
            "exposures.jsonl:2:103: exposure field `event_params`: expected `vitrine_experiment` and `vitrine_arm` parameters",
        ),
        (
            good_exposure,
            r#"{"visitor": "c-1", "time": "2024-02-02T09:00:00Z", "value": "12.50"}"#,
            "conversions.jsonl:2:67: conversion field `value`: invalid type: string \"12.50\", expected f64",
        ),
        (good_exposure, r#"{"time": "2024-02-02T09:00:00Z", "value": 1}"#, "conversions.jsonl:2:44: conversion: missing field `visitor`"),
    ] {
        std::fs::write(&e, format!("{good_exposure}\n{exposures}\n")).unwrap();
        std::fs::write(&c, format!("{good_conversion}\n{conversions}\n")).unwrap();
        let (o, report) = uplift(&dir, &e, &c, None);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let msg = stderr(&o);
        assert!(msg.contains(&format!("{}", dir.join(expected).display())), "expected {expected}, found {msg}");
        assert!(report.is_none() && !out.exists(), "no partial output");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2, "no temporary files left behind");
    }
}

/// The hand-made shop of the engine's KPI tests (engine/src/analytics/kpis.rs), as Online Retail writes it.
const SHOP: &str = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
A1,22423,CAKE STAND,1,2011-01-03 10:00:00,10.00,1.0,United Kingdom
A1,POST,POSTAGE,1,2011-01-03 10:00:00,18.00,1.0,United Kingdom
B1,22423,CAKE STAND,2,2011-01-05 10:00:00,10.00,2.0,United Kingdom
A2,22423,CAKE STAND,1,2011-01-10 10:00:00,10.00,1.0,United Kingdom
G1,85123A,HEART,4,2011-01-15 10:00:00,25.00,,United Kingdom
A3,22423,CAKE STAND,1,2011-02-07 10:00:00,10.00,1.0,United Kingdom
K1,22423,CAKE STAND,1,2011-02-14 10:00:00,25.00,3.0,France
K2,22423,CAKE STAND,1,2011-02-14 15:00:00,25.00,3.0,France
CA,22423,CAKE STAND,-1,2011-02-20 10:00:00,10.00,1.0,United Kingdom
D1,22423,CAKE STAND,1,2011-03-01 10:00:00,40.00,4.0,United Kingdom
A4,22423,CAKE STAND,1,2011-03-07 10:00:00,10.00,1.0,United Kingdom
D2,22423,CAKE STAND,1,2011-03-20 10:00:00,40.00,4.0,United Kingdom
D3,22423,CAKE STAND,0,2011-03-25 10:00:00,40.00,4.0,United Kingdom
B2,22423,CAKE STAND,3,2011-04-04 10:00:00,10.00,2.0,United Kingdom
A5,22423,CAKE STAND,1,2011-05-02 10:00:00,10.00,1.0,United Kingdom
";

fn kpis(dir: &Path, orders: &Path, extra: &[&str]) -> (Output, Option<serde_json::Value>) {
    let out = dir.join("kpis.json");
    let _ = std::fs::remove_file(&out);
    let mut args = vec!["kpis", "--orders", orders.to_str().unwrap(), "--out", out.to_str().unwrap(), "--now", "2011-04-30 12:00:00"];
    args.extend_from_slice(extra);
    let o = vitrine(&args);
    let report = std::fs::read_to_string(&out).ok().map(|t| serde_json::from_str(&t).unwrap());
    (o, report)
}

/// `(period, orders, revenue, customers, new customers)` of every row.
fn kpi_rows(report: &serde_json::Value) -> Vec<(String, u64, f64, u64, u64)> {
    report["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period"].as_str().unwrap().to_owned(),
                p["orders"].as_u64().unwrap(),
                p["revenue"].as_f64().unwrap(),
                p["customers"].as_u64().unwrap(),
                p["new_customers"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn owned(rows: &[(&str, u64, f64, u64, u64)]) -> Vec<(String, u64, f64, u64, u64)> {
    rows.iter().map(|r| (r.0.to_owned(), r.1, r.2, r.3, r.4)).collect()
}

#[test]
fn kpis_known_answers_json_and_csv() {
    let dir = tmp("kpis");
    let orders = dir.join("orders.csv");
    std::fs::write(&orders, SHOP).unwrap();
    let tables = dir.join("tables");
    let (o, report) = kpis(&dir, &orders, &["--csv", tables.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("4 months from 15 lines (11 purchase, 1 cancellation, 1 non-product, 1 invalid, 1 after --now, 1 guest)"), "{}", stderr(&o));
    let k = report.unwrap();
    assert_eq!((k["v"].as_u64(), k["period"].as_str(), k["as_of"].as_str()), (Some(1), Some("month"), Some("2011-04-30T12:00:00Z")));
    assert_eq!(kpi_rows(&k), owned(&[("2011-01", 4, 140.0, 2, 2), ("2011-02", 3, 50.0, 2, 1), ("2011-03", 3, 90.0, 2, 1), ("2011-04", 1, 30.0, 1, 0)]));
    let feb = &k["periods"][1];
    assert_eq!(feb["churn"], serde_json::json!({"live_at_start": 2, "lost": 1, "rate": 0.5, "reactivated": 0}));
    assert_eq!((feb["aov"].as_f64(), feb["repeat_purchase_rate"].as_f64(), feb["median_days_between_orders"].as_f64()), (Some(20.0), Some(0.5), Some(28.0)));
    assert_eq!(k["periods"][3]["revenue_by_stage"]["lapsed"], 30.0);
    assert_eq!(k["periods"][3]["stages"], serde_json::json!({"new": 0, "active": 1, "loyal": 0, "at_risk": 3, "lapsed": 0, "churned": 0}));
    assert_eq!(k["cohorts"][0], serde_json::json!({"cohort": "2011-01", "customers": 2, "active": [2, 1, 1, 1], "retention": [1.0, 0.5, 0.5, 0.5]}));
    assert_eq!(k["totals"]["repeat_purchase_rate"], 1.0);

    // The CSV tables say the same, one row per period and per cohort.
    let periods = std::fs::read_to_string(tables.join("periods.csv")).unwrap();
    let rows: Vec<Vec<&str>> = periods.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 5);
    let col = |name: &str| rows[0].iter().position(|h| *h == name).unwrap();
    assert_eq!(
        (rows[2][col("period")], rows[2][col("revenue")], rows[2][col("churn_lost")], rows[4][col("revenue_rfm_hibernating")]),
        ("2011-02", "50", "1", "30")
    );
    let cohorts = std::fs::read_to_string(tables.join("cohorts.csv")).unwrap();
    assert_eq!(cohorts.lines().collect::<Vec<_>>(), ["cohort,customers,m0,m1,m2,m3", "2011-01,2,1,0.5,0.5,0.5", "2011-02,1,1,0,0,", "2011-03,1,1,0,,"]);

    // Quarters and ISO weeks.
    let (o, report) = kpis(&dir, &orders, &["--period", "quarter"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(kpi_rows(&report.unwrap()), owned(&[("2011-Q1", 10, 280.0, 4, 4), ("2011-Q2", 1, 30.0, 1, 0)]));
    let (o, report) = kpis(&dir, &orders, &["--period", "week"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let weeks = kpi_rows(&report.unwrap());
    assert_eq!((weeks.len(), weeks[0].0.as_str(), weeks[16].0.as_str()), (17, "2011-W01", "2011-W17"));
    assert_eq!(weeks.iter().map(|w| w.1).sum::<u64>(), 11);

    // The lifecycle flags are profiles' flags: with lapsed at 5 gaps nobody is lost in February.
    let (o, report) = kpis(&dir, &orders, &["--lapsed-ratio", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(report.unwrap()["periods"][1]["churn"]["lost"], 0);
}

#[test]
fn kpis_read_a_shopify_export() {
    // Shopify writes an order's own columns on its first line only, times with an offset, emails
    // as customers and SKUs of any shape; a cancelled order is marked in `Cancelled at`. The file
    // starts with a byte-order mark, as spreadsheets save it. #1012 is placed at 00:30 on 1 February
    // in +01:00, which is still January in UTC.
    let csv = "\u{feff}Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Country,Cancelled at,Id
#1001,a@example.com,paid,2011-01-03 11:00:00 +0100,1,Cake stand,6.00,CAKE-1,United Kingdom,,1
#1001,,,,1,Candle,4.00,CANDLE-2,,,
#1002,b@example.com,paid,2011-01-05 11:00:00 +0100,2,Cake stand,10.00,CAKE-1,United Kingdom,,2
#1003,a@example.com,paid,2011-01-10 11:00:00 +0100,1,Cake stand,10.00,CAKE-1,United Kingdom,,3
#1004,,paid,2011-01-15 11:00:00 +0100,4,Heart,25.00,,United Kingdom,,4
#1005,a@example.com,paid,2011-02-07 11:00:00 +0100,1,Cake stand,10.00,CAKE-1,United Kingdom,,5
#1006,c@example.com,paid,2011-02-14 11:00:00 +0100,1,Cake stand,25.00,CAKE-1,France,,6
#1007,c@example.com,paid,2011-02-14 16:00:00 +0100,1,Cake stand,25.00,CAKE-1,France,,7
#1008,d@example.com,refunded,2011-02-20 11:00:00 +0100,1,Cake stand,99.00,CAKE-1,United Kingdom,2011-02-21 09:00:00 +0100,8
#1008,,,,2,Candle,4.00,CANDLE-2,,,
#1009,d@example.com,paid,2011-03-01 11:00:00 +0100,1,Cake stand,40.00,CAKE-1,United Kingdom,,9
#1010,a@example.com,paid,2011-03-07 11:00:00 +0100,1,Cake stand,10.00,CAKE-1,United Kingdom,,10
#1011,d@example.com,paid,2011-03-20 11:00:00 +0100,1,Cake stand,40.00,CAKE-1,United Kingdom,,11
#1012,,paid,2011-02-01 00:30:00 +0100,1,Heart,5.00,,United Kingdom,,12
#1013,b@example.com,paid,2011-04-04 12:00:00 +0200,3,Cake stand,10.00,CAKE-1,United Kingdom,,13
";
    let dir = tmp("kpis-shopify");
    let orders = dir.join("orders_export.csv");
    std::fs::write(&orders, csv).unwrap();
    let (o, report) = kpis(&dir, &orders, &["--columns", "shopify"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 of cancelled orders left out"), "{}", stderr(&o));
    let k = report.unwrap();
    assert_eq!(kpi_rows(&k), owned(&[("2011-01", 5, 145.0, 2, 2), ("2011-02", 3, 60.0, 2, 1), ("2011-03", 3, 90.0, 2, 1), ("2011-04", 1, 30.0, 1, 0)]));
    assert_eq!(k["periods"][0]["guest_orders"], 2);
    // The same customers on the same days as the Online Retail shop: the same stages and churn.
    assert_eq!(k["periods"][1]["churn"], serde_json::json!({"live_at_start": 2, "lost": 1, "rate": 0.5, "reactivated": 0}));
    assert_eq!(k["periods"][3]["stages"], serde_json::json!({"new": 0, "active": 1, "loyal": 0, "at_risk": 3, "lapsed": 0, "churned": 0}));

    // The preset is only names: the same mapping spelt out, from a file, reads the same.
    let mapping = dir.join("columns.txt");
    std::fs::write(
        &mapping,
        "# Shopify, spelt out\ninvoice=Name\ncustomer=Email\ntime=Created at\nquantity=Lineitem quantity\nprice=Lineitem price\nproduct=Lineitem sku\ncountry=Billing Country\ncancelled=Cancelled at\n",
    )
    .unwrap();
    let (o, spelt) = kpis(&dir, &orders, &["--columns", &format!("@{}", mapping.display())]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(spelt.unwrap(), k);
}

#[test]
fn kpis_read_an_erp_export_with_semicolons() {
    // A German ERP's export: semicolons, its own column names, no country and no product codes.
    let csv = "Belegnummer;Kunde;Belegdatum;Menge;Einzelpreis\nR-1;K7;2011-03-01 10:00:00;2;9.50\nR-1;K7;2011-03-01 10:00:00;1;1.00\nR-2;K8;2011-03-02 10:00:00;1;20\nR-3;K7;2011-04-01 10:00:00;1;5\n";
    let dir = tmp("kpis-erp");
    let orders = dir.join("export.csv");
    std::fs::write(&orders, csv).unwrap();
    let columns = "invoice=Belegnummer,customer=Kunde,time=Belegdatum,quantity=Menge,price=Einzelpreis,product=,country=";
    let (o, report) = kpis(&dir, &orders, &["--columns", columns]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(kpi_rows(&report.unwrap()), owned(&[("2011-03", 2, 40.0, 2, 2), ("2011-04", 1, 5.0, 1, 0)]));

    // Shopware 5's default orders profile: `number` twice (order and position), a voucher line with
    // a negative price (no merchandise, so an invalid line, as in profiles).
    let csv = "orderId;number;customerId;orderStatusID;orderTime;orderDetailId;number;articleNumber;price;quantity;articleName;mode\n\
               7;20001;3;2;2011-03-01 10:00:00;11;20001;SW10002;9.5;2;Tee;0\n\
               7;20001;3;2;2011-03-01 10:00:00;12;20001;GUTSCHEIN;-5;1;Voucher;2\n\
               8;20002;4;2;2011-03-02 10:00:00;13;20002;SW10003;20;1;Mug;0\n";
    std::fs::write(&orders, csv).unwrap();
    let (o, report) = kpis(&dir, &orders, &["--columns", "shopware5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 invalid"), "{}", stderr(&o));
    // `--now` is in April: an empty April is listed too.
    assert_eq!(kpi_rows(&report.unwrap()), owned(&[("2011-03", 2, 39.0, 2, 2), ("2011-04", 0, 0.0, 0, 0)]));
}

#[test]
fn malformed_kpis_input_is_located_and_writes_nothing() {
    let dir = tmp("kpis-bad");
    let orders = dir.join("orders.csv");
    let tables = dir.join("tables");
    for (csv, extra, expected) in [
        (
            SHOP.replace("2011-01-05 10:00:00,10.00,2.0", "2011-01-05 10:00:00,ten,2.0"),
            "",
            "orders.csv:4:43: field `UnitPrice`: expected a number, found \"ten\"",
        ),
        (
            SHOP.replace("2011-02-07 10:00:00", "07/02/2011 10:00"),
            "",
            "orders.csv:7:23: field `InvoiceDate`: expected `YYYY-MM-DD HH:MM:SS` or RFC 3339, found \"07/02/2011 10:00\"",
        ),
        (SHOP.replace("A3,22423,CAKE STAND,1,2011-02-07", "A3,22423,CAKE STAND,1"), "", "orders.csv:7:1: expected 8 fields, found 7"),
        (SHOP.to_owned(), "customer=E-Mail", "orders.csv:1:1: expected a `E-Mail` column (field `customer`) in the header"),
        (
            SHOP.to_owned(),
            "invoice=InvoiceNo,colour=Red",
            "--columns: unknown field `colour`: expected one of invoice, product, quantity, time, price, customer, country, cancelled",
        ),
        (SHOP.to_owned(), "woocommerce", "--columns: expected a preset (online-retail, shopify, shopware5) or `field=Header`, found \"woocommerce\""),
    ] {
        std::fs::write(&orders, csv).unwrap();
        let mut args = vec!["--csv", tables.to_str().unwrap()];
        if !extra.is_empty() {
            args.extend(["--columns", extra]);
        }
        let (o, report) = kpis(&dir, &orders, &args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let msg = stderr(&o);
        let expected = if expected.starts_with("--") { expected.to_owned() } else { dir.join(expected).display().to_string() };
        assert!(msg.contains(&expected), "expected {expected}, found {msg}");
        assert!(report.is_none() && !tables.exists(), "no partial output");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary files left behind");
    }
    // A period that is not one is a usage error, which clap also exits with 2.
    std::fs::write(&orders, SHOP).unwrap();
    let (o, report) = kpis(&dir, &orders, &["--period", "fortnight"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("fortnight"), "{}", stderr(&o));
    assert!(report.is_none());
}

#[test]
fn kpis_on_the_demo_orders_agree_with_profiles() {
    // The stages at the last period's end are the ones `vitrine profiles` gives for the same --now.
    let orders = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo-shop/data/orders.csv.gz");
    let dir = tmp("kpis-demo");
    let out = dir.join("kpis.json");
    let o = vitrine(&["kpis", "--orders", orders.to_str().unwrap(), "--now", "2011-12-10T00:00:00Z", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let k: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let periods = k["periods"].as_array().unwrap();
    assert_eq!((periods.len(), periods[0]["period"].as_str(), periods[12]["period"].as_str()), (13, Some("2010-12"), Some("2011-12")));
    let profiles = dir.join("profiles.jsonl");
    let o = vitrine(&["profiles", "--orders", orders.to_str().unwrap(), "--now", "2011-12-10T00:00:00Z", "--out", profiles.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = &periods[12]["stages"];
    let expected = format!(
        "lifecycle stages: new {}, active {}, loyal {}, at_risk {}, lapsed {}, churned {}",
        s["new"], s["active"], s["loyal"], s["at_risk"], s["lapsed"], s["churned"]
    );
    assert!(stderr(&o).contains(&expected), "kpis: {expected}; profiles: {}", stderr(&o));
    for p in periods {
        let by_stage: f64 = p["revenue_by_stage"].as_object().unwrap().values().map(|v| v.as_f64().unwrap()).sum();
        assert!((by_stage - p["revenue"].as_f64().unwrap()).abs() < 0.05, "{p}");
        assert_eq!(p["customers"].as_u64().unwrap(), p["new_customers"].as_u64().unwrap() + p["returning_customers"].as_u64().unwrap());
    }
}

fn clv(dir: &Path, orders: &Path, extra: &[&str]) -> (Output, Option<Vec<serde_json::Value>>) {
    let out = dir.join("clv.jsonl");
    let _ = std::fs::remove_file(&out);
    let mut args = vec!["clv", "--orders", orders.to_str().unwrap(), "--out", out.to_str().unwrap(), "--horizon-days", "90"];
    args.extend_from_slice(extra);
    let o = vitrine(&args);
    let lines = std::fs::read_to_string(&out).ok().map(|t| t.lines().map(|l| serde_json::from_str(l).unwrap()).collect());
    (o, lines)
}

#[test]
fn clv_contract_and_calibration_end() {
    let dir = tmp("clv");
    let orders = dir.join("orders.csv");
    std::fs::write(&orders, SHOP).unwrap();
    // Before March: customer 1 on 01-03, 01-10 and 02-07 (two repeat days worth 10 each), customer 2
    // on 01-05, customer 3 twice on 02-14 (one day); customer 4 starts on 03-01, the end: left out.
    let (o, lines) = clv(&dir, &orders, &["--calibration-end", "2011-03-01"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(dir.join("clv.jsonl")).unwrap();
    assert!(text.lines().all(|l| l.starts_with(r#"{"customer":"#)), "{text}");
    for l in text.lines() {
        let at = |k: &str| l.find(&format!("\"{k}\":")).unwrap();
        assert!(
            at("customer") < at("expected_orders") && at("expected_orders") < at("expected_value") && at("expected_value") < at("p_alive"),
            "contract fields first, in order: {l}"
        );
    }
    let summary: Vec<(&str, u64, f64, f64, f64)> = lines
        .as_ref()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["customer"].as_str().unwrap(),
                l["frequency"].as_u64().unwrap(),
                l["recency"].as_f64().unwrap(),
                l["T"].as_f64().unwrap(),
                l["monetary_value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary, [("c-1", 2, 35.0, 56.0, 10.0), ("c-2", 0, 0.0, 54.0, 0.0), ("c-3", 0, 0.0, 14.0, 0.0)]);
    for l in lines.as_ref().unwrap() {
        let (orders, value, alive) = (l["expected_orders"].as_f64().unwrap(), l["expected_value"].as_f64().unwrap(), l["p_alive"].as_f64().unwrap());
        assert!(orders >= 0.0 && value >= 0.0 && (0.0..=1.0).contains(&alive), "{l}");
    }
    let msg = stderr(&o);
    assert!(msg.contains("3 customers from 15 lines") && msg.contains("BG/NBD r=") && msg.contains("Gamma-Gamma p=") && msg.contains(" s ("), "{msg}");

    // A later end takes customer 4 in, observed up to the day before the end.
    let (o, lines) = clv(&dir, &orders, &["--calibration-end", "2011-03-21"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d4 = lines.unwrap().into_iter().find(|l| l["customer"] == "c-4").unwrap();
    assert_eq!((d4["frequency"].as_u64(), d4["T"].as_f64()), (Some(1), Some(19.0)));
}

#[test]
fn malformed_clv_input_is_located_and_writes_nothing() {
    let dir = tmp("clv-bad");
    let orders = dir.join("orders.csv");
    for (csv, extra, expected) in [
        (
            SHOP.replace("2011-01-05 10:00:00,10.00,2.0", "2011-01-05 10:00:00,ten,2.0"),
            vec!["--calibration-end", "2011-03-01"],
            "orders.csv:4:43: field `UnitPrice`: expected a number, found \"ten\"",
        ),
        (SHOP.to_owned(), vec!["--calibration-end", "March"], "--calibration-end: expected `YYYY-MM-DD`, found \"March\""),
        (
            SHOP.to_owned(),
            vec!["--calibration-end", "2011-03-01", "--columns", "customer=E-Mail"],
            "orders.csv:1:1: expected a `E-Mail` column (field `customer`) in the header",
        ),
        // Before 2011-01-10 nobody has bought on two days: nothing for the spend model.
        (SHOP.to_owned(), vec!["--calibration-end", "2011-01-10"], "orders.csv: cannot fit the CLV models: no customer bought on two different days"),
        (SHOP.to_owned(), vec!["--calibration-end", "2011-03-01", "--penalizer=-1"], "--penalizer: expected a number >= 0, found -1"),
    ] {
        std::fs::write(&orders, csv).unwrap();
        let (o, lines) = clv(&dir, &orders, &extra);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let msg = stderr(&o);
        let expected = if expected.starts_with("--") { expected.to_owned() } else { dir.join(expected).display().to_string() };
        assert!(msg.contains(&expected), "expected {expected}, found {msg}");
        assert!(lines.is_none(), "no partial output");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary files left behind");
    }
}

#[test]
fn profiles_carry_clv_predictions() {
    let orders = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo-shop/data/orders.csv.gz");
    let dir = tmp("profiles-clv");
    let out = dir.join("profiles.jsonl");
    let o = vitrine(&[
        "profiles",
        "--orders",
        orders.to_str().unwrap(),
        "--now",
        "2011-12-10T00:00:00Z",
        "--clv-horizon-days",
        "90",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("CLV fitted on"), "{}", stderr(&o));
    let profiles: Vec<vitrine_engine::ProfileSnapshot> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| vitrine_engine::ProfileSnapshot::from_json(l).unwrap()).collect();
    assert!(profiles.len() > 1000);
    for p in &profiles {
        let c = p.clv.as_ref().unwrap();
        assert_eq!(c.horizon_days, 90);
        assert!(c.expected_orders >= 0.0 && c.expected_value >= 0.0 && (0.0..=1.0).contains(&c.p_alive), "{c:?}");
    }
    // Customers who have been away longest are the least likely to be alive.
    let alive = |p: &vitrine_engine::ProfileSnapshot| p.clv.as_ref().unwrap().p_alive;
    let repeat: Vec<_> = profiles.iter().filter(|p| p.rfm.as_ref().unwrap().frequency >= 3).collect();
    let gone = repeat.iter().filter(|p| p.rfm.as_ref().unwrap().recency_days > 200).map(|p| alive(p)).sum::<f64>();
    let recent = repeat.iter().filter(|p| p.rfm.as_ref().unwrap().recency_days < 30).map(|p| alive(p)).sum::<f64>();
    let (n_gone, n_recent) = (
        repeat.iter().filter(|p| p.rfm.as_ref().unwrap().recency_days > 200).count(),
        repeat.iter().filter(|p| p.rfm.as_ref().unwrap().recency_days < 30).count(),
    );
    assert!(n_gone > 0 && n_recent > 0 && gone / n_gone as f64 <= recent / n_recent as f64, "{gone}/{n_gone} vs {recent}/{n_recent}");
    // Without the option, no `clv`.
    let o = vitrine(&["profiles", "--orders", orders.to_str().unwrap(), "--now", "2011-12-10T00:00:00Z", "--out", out.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(!std::fs::read_to_string(&out).unwrap().contains("\"clv\""));
}

#[test]
fn profiles_and_interactions_read_a_shopify_export_with_its_product_feed() {
    // The path docs/guide.md describes: a Shopify order export and the shop's product feed.
    let csv = "\u{feff}Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Country,Cancelled at
#1001,a@example.com,2011-01-03 11:00:00 +0100,1,Cake stand,6.00,CAKE-1,United Kingdom,
#1001,,,1,Candle,4.00,CANDLE-2,,
#1001,,,1,Shipping,4.95,SHIP,,
#1002,b@example.com,2011-01-05 11:00:00 +0100,2,Cake stand,10.00,CAKE-1,United Kingdom,
#1003,a@example.com,2011-03-10 11:00:00 +0100,1,Cake stand,10.00,CAKE-1,United Kingdom,
#1008,b@example.com,2011-02-20 11:00:00 +0100,1,Cake stand,99.00,CAKE-1,United Kingdom,2011-02-21 09:00:00 +0100
";
    let catalog = r#"{"v":1,"products":[
      {"id":"CAKE-1","title":"Cake stand","link":"/p/cake-1","price":"10.00 GBP","product_type":"Kitchen"},
      {"id":"CANDLE-2","title":"Candle","link":"/p/candle-2","price":"4.00 GBP","product_type":"Candles"}]}"#;
    let dir = tmp("shopify-profiles");
    let (orders, feed, out) = (dir.join("orders_export.csv"), dir.join("catalog.json"), dir.join("profiles.jsonl"));
    std::fs::write(&orders, csv).unwrap();
    std::fs::write(&feed, catalog).unwrap();
    let (o, f, p) = (orders.to_str().unwrap(), feed.to_str().unwrap(), out.to_str().unwrap());

    // Without the feed, a SKU cannot be told from a shipping line: refused, nothing written.
    let refused = vitrine(&["profiles", "--orders", o, "--columns", "shopify", "--now", "2011-04-01 00:00:00", "--out", p]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("add --catalog"), "{}", stderr(&refused));
    assert!(!out.exists());

    let made = vitrine(&["profiles", "--orders", o, "--columns", "shopify", "--catalog", f, "--now", "2011-04-01 00:00:00", "--out", p]);
    assert!(made.status.success(), "{}", stderr(&made));
    let profiles: Vec<serde_json::Value> = std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let a = profiles.iter().find(|p| p["id"].as_str().unwrap().contains("a@example.com")).unwrap();
    assert_eq!((a["orders"]["count"].as_u64(), a["orders"]["revenue"].as_f64()), (Some(2), Some(20.0)), "shipping is not merchandise: {a}");
    let b = profiles.iter().find(|p| p["id"].as_str().unwrap().contains("b@example.com")).unwrap();
    assert_eq!((b["orders"]["count"].as_u64(), b["orders"]["revenue"].as_f64()), (Some(1), Some(20.0)), "the cancelled order is left out: {b}");
    assert!(a["affinities"]["Kitchen"].as_f64().unwrap() > 0.0, "{a}");

    let csv_out = dir.join("interactions.csv");
    let i = vitrine(&["interactions", "--orders", o, "--columns", "shopify", "--catalog", f, "--out", csv_out.to_str().unwrap()]);
    assert!(i.status.success(), "{}", stderr(&i));
    let rows = std::fs::read_to_string(&csv_out).unwrap();
    assert_eq!(rows.lines().count(), 1 + 4, "{rows}");
    assert!(!rows.contains("SHIP"), "{rows}");
}
