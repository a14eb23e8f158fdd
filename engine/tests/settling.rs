//! How many rounds of fetches a browser's sharded bundle takes to decide a page. The snippet
//! fetches what a decision missed and decides again, at most `MAX_ROUNDS` times (js-snippet/loader.js);
//! what is still undecided then stays as served. A visitor whose history leans on one category is
//! the hard case: the category cap rejects most of `for_you`'s first candidates, and each rejected
//! one asks for more.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use vitrine_engine::{Bundle, Context, LiveProfile, ProfileSnapshot, Request};

/// A catalog of 40 products of one category ("Paper") and 20 of as many others; the visitor bought
/// `h`, whose row names the 40 first. A `for_you` widget of 6 with at most 2 per category takes 2 of
/// them and 4 of the others.
fn full_bundle() -> (Bundle, serde_json::Value) {
    let mut ids = vec!["h".to_owned()];
    let mut products = vec![serde_json::json!({"id": "h", "title": "h", "link": "/p/h", "price": "1.00 GBP", "product_type": "Home"})];
    for n in 0..60 {
        let (id, category) = if n < 40 { (format!("paper-{n}"), "Paper".to_owned()) } else { (format!("other-{n}"), format!("Other {n}")) };
        products.push(serde_json::json!({"id": id, "title": id, "link": format!("/p/{id}"), "price": "1.00 GBP", "product_type": category}));
        ids.push(id);
    }
    // h's row: every other item, scores falling in catalog order.
    let row: Vec<u32> = (1..=60u32).flat_map(|i| [i, 1_000_000 - i * 1000]).collect();
    let mut neighbors = vec![serde_json::json!(row)];
    neighbors.extend((1..=60).map(|_| serde_json::json!([])));
    let doc = serde_json::json!({
        "v": 1,
        "site": {"v": 1},
        "catalog": {"v": 1, "products": products},
        "model": {"v": 1, "kind": "item-knn", "items": ids, "neighbors": neighbors, "popular": [[0, 1]]},
    });
    (Bundle::from_json(&doc.to_string()).unwrap(), doc)
}

const NOW: i64 = 1_323_475_200;

fn decide(bundle: &Bundle, profile: &LiveProfile, request: &Request) -> serde_json::Value {
    serde_json::to_value(Context { bundle, profile, page: &request.page, now: NOW }.decide(request)).unwrap()
}

#[test]
fn a_history_in_one_category_settles_within_the_snippets_rounds() {
    let (full, doc) = full_bundle();
    let snapshot = r#"{"v":1,"id":"c-1","consent":{"personalization":true},
        "recent_items":[{"id":"h","time":"2011-11-01T10:00:00Z","event":"purchase"}]}"#;
    let profile = LiveProfile::new(ProfileSnapshot::from_json(snapshot).unwrap());
    let request = Request::from_json(r#"{"page":{"type":"home"},"recs":[{"widget":"for-you","strategy":"for_you","k":6,"max_per_category":2}]}"#).unwrap();
    let want = decide(&full, &profile, &request);
    let items: Vec<&str> = want["recs"][0]["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(items, ["paper-0", "paper-1", "other-40", "other-41", "other-42", "other-43"]);

    // About one product per shard file: each candidate's entry is its own fetch.
    for count in [64, 1024] {
        let (mut bundle, files) = common::sharded(&full, &doc, count, &["h"]);
        let mut rounds = 0;
        loop {
            let need = Context { bundle: &bundle, profile: &profile, page: &request.page, now: NOW }.missing(&request);
            if need.is_empty() {
                break;
            }
            rounds += 1;
            assert!(rounds <= common::max_rounds(), "{count} shards: round {rounds} still needs {need:?}: the snippet would keep the widget as served");
            for path in &need {
                bundle.add_file(path, &files[path]).unwrap();
            }
        }
        assert_eq!(decide(&bundle, &profile, &request), want, "{count} shards");
    }
}
