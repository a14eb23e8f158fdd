//! Targeting rules: `Condition::compile` on arbitrary UTF-8, as a slot/list/experiment rule and as
//! a segment's rule. Never panics, never hangs; every error is located (line and column from 1)
//! and rendered; a rule that compiles evaluates against a fixed decision context (a returning
//! customer with a session, on a product page, with two site segments) and lists its references.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vitrine_engine::condition::Scope;
use vitrine_engine::profile::{Ecommerce, EventItem};
use vitrine_engine::{Bundle, Condition, Context, Event, LiveProfile, Page, Vars};
use vitrine_engine_fuzz::{live_profile, NOW};

/// The decisions.json shop with two segments (their rules read each other's data, not each other).
const BUNDLE: &str = r#"{"v":1,
  "site": {"v":1,
    "segments": {"vip": {"when": "profile.orders.count >= 5"},
                 "bag_browser": {"when": "'Bags' in session.viewed_categories", "description": "looked at bags"}},
    "slots": {"hero": [{"id": "vip", "when": "segment.vip", "content": {"headline": "Hi {profile.traits.first_name|friend}"}}]}},
  "catalog": {"v":1, "products": [
    {"id": "mug-1", "title": "Red spotty mug", "link": "/p/mug-1", "price": "5.00 GBP", "product_type": "Kitchen", "brand": "Acme"},
    {"id": "bag-1", "title": "Jumbo tote", "link": "/p/bag-1", "price": "4.99 GBP", "product_type": "Bags", "brand": "Acme"}]},
  "model": {"v":1, "kind": "item-knn", "items": ["mug-1", "bag-1"], "neighbors": [[1, 500000], [0, 500000]], "popular": [[0, 3], [1, 2]]}}"#;

struct Fixture {
    bundle: Bundle,
    profile: LiveProfile,
    page: Page,
    segments: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let bundle = Bundle::from_json(BUNDLE).expect("the fixed bundle loads");
        let mut profile = live_profile();
        for (i, (event, id)) in [("view_item", "bag-1"), ("add_to_cart", "mug-1"), ("purchase", "mug-1")].into_iter().enumerate() {
            let e = Event { event: event.into(), time: None, ecommerce: Ecommerce { items: vec![EventItem { item_id: id.into(), quantity: 2.0 }] } };
            profile.apply_with_catalog(&e, NOW - 600 + 60 * i as i64, &bundle.catalog);
        }
        let segments = bundle.site.segments.iter().map(|s| s.id.clone()).collect();
        Fixture { bundle, profile, page: Page { kind: "product".into(), product: Some("mug-1".into()), category: Some("Kitchen".into()) }, segments }
    })
}

fuzz_target!(|src: &str| {
    let f = fixture();
    let ctx = Context { bundle: &f.bundle, profile: &f.profile, page: &f.page, now: NOW };
    for scope in [Scope::Rule, Scope::Segment] {
        match Condition::compile(src, &f.segments, scope) {
            Ok(c) => {
                let vars = Vars::new(&ctx);
                let _ = c.eval(&vars);
                let _ = c.references();
                assert_eq!(c.source(), src);
            }
            Err(errors) => {
                assert!(!errors.is_empty(), "a failed compile names no error");
                for e in &errors {
                    assert!(e.line >= 1 && e.column >= 1, "error at {}:{} ({})", e.line, e.column, e.message);
                }
            }
        }
    }
});
