//! `Bundle::from_json` on arbitrary UTF-8: never panics (errors are values), and a bundle that
//! loads can decide, traced: the slots it configures (segments and experiments along the way), its
//! rule lists and a plain one, every recommendation strategy and its named widgets, for a fixed
//! returning customer who has been browsing this session, and the shard files an edge bundle's
//! layout names for preloading. Deciding must not panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vitrine_engine::profile::{Ecommerce, EventItem};
use vitrine_engine::{Bundle, Context, Event, ListRequest, Page, RecsRequest, Request, Strategy};
use vitrine_engine_fuzz::{live_profile, NOW};

const STRATEGIES: [Strategy; 7] =
    [Strategy::AlsoBought, Strategy::AlsoViewed, Strategy::ForYou, Strategy::Popular, Strategy::Trending, Strategy::Similar, Strategy::RecentlyViewed];

fuzz_target!(|text: &str| {
    let Ok(bundle) = Bundle::from_json(text) else { return };
    // Bounded, so a huge bundle costs a fuzz iteration no more than a small one.
    let ids: Vec<String> = bundle.catalog.products().iter().take(8).map(|p| p.id.clone()).collect();
    let product = ids.first().cloned().or_else(|| Some("mug-1".to_owned()));

    let mut profile = live_profile();
    for (i, id) in ids.iter().chain(["mug-1".to_owned(), "unknown".to_owned()].iter()).enumerate() {
        let event = ["view_item", "add_to_cart", "purchase"][i % 3];
        let e = Event { event: event.into(), time: None, ecommerce: Ecommerce { items: vec![EventItem { item_id: id.clone(), quantity: 1.0 + i as f64 }] } };
        profile.apply_with_catalog(&e, NOW - 60 * (10 - i as i64), &bundle.catalog);
    }

    let mut slots: Vec<String> = bundle.site.slots.keys().take(16).cloned().collect();
    slots.push("hero".to_owned());
    slots.push("no-such-slot".to_owned());
    let mut recs: Vec<RecsRequest> = STRATEGIES
        .iter()
        .map(|&strategy| RecsRequest { widget: format!("{strategy:?}"), strategy, product: product.clone(), k: Some(4), ..RecsRequest::default() })
        .collect();
    recs.push(RecsRequest {
        widget: "filtered".into(),
        strategy: Strategy::ForYou,
        k: Some(6),
        category: bundle.catalog.products().first().map(|p| p.product_type.clone()),
        price_min: Some(1.0),
        price_max: Some(50.0),
        max_per_category: Some(1),
        ..RecsRequest::default()
    });
    // Widgets the site configures by name, with nothing from markup but their name.
    recs.extend(bundle.site.widgets.keys().take(8).map(|w| RecsRequest { widget: w.clone(), ..RecsRequest::default() }));
    let page = Page { kind: "product".into(), product: product.clone(), category: None };
    let mut list_items = ids.clone();
    list_items.push("unknown".into());
    // Every list the site has rules for, and one it has none for; traced, so the explanation is
    // built too.
    let mut lists: Vec<ListRequest> =
        bundle.site.list_rules.iter().filter_map(|r| r.list.clone()).take(8).map(|list| ListRequest { list, items: list_items.clone() }).collect();
    lists.push(ListRequest { list: "grid".into(), items: list_items });
    let request = Request { page: page.clone(), slots, lists, recs, trace: true };

    let ctx = Context { bundle: &bundle, profile: &profile, page: &page, now: NOW };
    let decision = ctx.decide(&request);
    assert_eq!(decision.slots.len(), request.slots.len());
    assert_eq!(decision.recs.len(), request.recs.len());
    let _ = ctx.model_items(&request);
    let _ = bundle.model.missing_shards(ctx.model_items(&request));
    // What an edge bundle's layout names for the browser to preload, widget by widget.
    if let Some(layout) = &bundle.browser_shards {
        for r in &request.recs {
            let _ = layout.files(ctx.rec_model_items(r));
        }
    }
});
