//! `SiteConfig::from_compiled` (the compiled site configuration every runtime loads from a bundle,
//! docs/formats.md) on arbitrary bytes, as they are and with the trailing CRC-32 repaired so the
//! fuzzer reaches the programs blob and the postcard body behind it: never panics, never allocates
//! beyond what the bytes justify; a configuration that loads writes back to bytes that load to the
//! same configuration, and decides every slot, list rule and widget it configures (traced) for a
//! returning customer on a product page of the shared cases' shop without panicking.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vitrine_engine::site::SiteConfig;
use vitrine_engine::{Bundle, Context, ListRequest, Page, RecsRequest, Request};
use vitrine_engine_fuzz::{live_profile, with_valid_crc, NOW};

/// The shared cases' bundle: its catalog and model, under whatever site the input loads to.
fn shop() -> &'static Bundle {
    static SHOP: OnceLock<Bundle> = OnceLock::new();
    SHOP.get_or_init(|| {
        let cases: serde_json::Value = serde_json::from_str(include_str!("../../tests/cases/decisions.json")).expect("the shared cases parse");
        Bundle::from_json(&cases["bundle"].to_string()).expect("the shared cases' bundle loads")
    })
}

fuzz_target!(|data: &[u8]| {
    run(data);
    if let Some(repaired) = with_valid_crc(data) {
        run(&repaired);
    }
});

fn run(data: &[u8]) {
    let Ok(site) = SiteConfig::from_compiled(data) else { return };
    for sources in [false, true] {
        let bytes = site.to_compiled(sources);
        let again = SiteConfig::from_compiled(&bytes).expect("a loaded site writes to a loadable one");
        assert_eq!(again.to_compiled(sources), bytes, "a second trip changes nothing");
    }

    let mut bundle = shop().clone();
    bundle.site = site;
    let product = bundle.catalog.products().first().map(|p| p.id.clone());
    let items: Vec<String> = bundle.catalog.products().iter().take(6).map(|p| p.id.clone()).collect();
    // Bounded, so a big configuration costs an iteration no more than a small one.
    let slots: Vec<String> = bundle.site.slots.keys().take(16).cloned().collect();
    let lists = bundle.site.list_rules.iter().filter_map(|r| r.list.clone()).take(8).map(|list| ListRequest { list, items: items.clone() }).collect();
    let recs = bundle.site.widgets.keys().take(8).map(|w| RecsRequest { widget: w.clone(), product: product.clone(), ..RecsRequest::default() }).collect();
    let page = Page { kind: "product".into(), product, category: None };
    let request = Request { page: page.clone(), slots, lists, recs, trace: true };
    let profile = live_profile();
    let ctx = Context { bundle: &bundle, profile: &profile, page: &page, now: NOW };
    let decision = ctx.decide(&request);
    assert_eq!(decision.slots.len(), request.slots.len());
}
