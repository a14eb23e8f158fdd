//! Runs the shared price cases (tests/cases/money.json) against the native engine: a catalog price
//! in a site's locale to the text a recommendation shows, through the site compiled and bundled as
//! `vitrine bundle` does (its format kept to the catalog's currency) and through a decision. The
//! edge test runs the same file through the worker in workerd and the Wasm build in Chromium.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use vitrine_engine::{Bundle, Catalog, Context, LiveProfile, MoneyFormat, Page, Price, ProfileSnapshot, Request, SiteConfig};

#[test]
fn shared_money_cases() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/money.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 40);
    for c in cases {
        let (locale, price, want) = (c["locale"].as_str(), c["price"].as_str().unwrap(), c["display"].as_str().unwrap());
        let p = Price::parse(price).unwrap();
        // The format alone, as the site compiles it.
        // And as a template hole, `{money(<amount>, '<currency>')}`.
        let (amount, code) = price.split_once(' ').unwrap();
        let slots = serde_json::json!({"money": [{"id": "m", "content": {"p": format!("{{money({amount}, '{code}')}}")}}]});
        let source = match locale {
            Some(l) => serde_json::json!({"v": 1, "locale": l, "slots": slots}),
            None => serde_json::json!({"v": 1, "slots": slots}),
        };
        let mut site = SiteConfig::from_json(&source.to_string()).unwrap();
        assert_eq!(site.money.format(&p), want, "{locale:?} {price}");
        // As a bundle carries it: only the catalog's currency kept, through the compiled form.
        let catalog = serde_json::json!({"v": 1, "products": [{"id": "p", "title": "P", "link": "/p", "price": price}]});
        site.keep_currencies(&Catalog::from_json(&catalog.to_string()).unwrap());
        let model = serde_json::json!({"v": 1, "kind": "item-knn", "items": ["p"], "neighbors": [[]], "popular": [[0, 1]]});
        let bundle = Bundle::from_json(&Bundle::assemble(&site.to_compiled_json(false), &catalog.to_string(), &model.to_string())).unwrap();
        let request: Request = Request::from_json(r#"{"slots": ["money"], "recs": [{"widget": "w", "strategy": "popular"}]}"#).unwrap();
        let profile = LiveProfile::new(ProfileSnapshot::anonymous());
        let d = Context { bundle: &bundle, profile: &profile, page: &Page::default(), now: 0 }.decide(&request);
        assert_eq!(d.recs[0].items[0].price, want, "decided: {locale:?} {price}");
        assert_eq!(d.slots[0].fields.iter().next().map(|(_, t)| t.as_str()), Some(want), "template: {locale:?} {price}");
    }
}

/// Issue 13: an unknown locale is an error naming the field, the closest supported tags and all of
/// them.
#[test]
fn issue_13_unknown_locales_are_named_with_suggestions() {
    let error = |locale: &str| SiteConfig::from_json(&serde_json::json!({"v": 1, "locale": locale}).to_string()).unwrap_err().to_string();
    let e = error("en-UK");
    assert!(e.contains("field `locale`") && e.contains("found \"en-UK\"") && e.contains("did you mean en-GB?"), "{e}");
    assert!(e.contains("Supported: bg-BG, ") && e.contains("sv-SE"), "{e}");
    let e = error("de");
    assert!(e.contains("did you mean one of de-AT, de-BE, de-CH, de-DE, de-LI, de-LU?"), "{e}");
    let e = error("xx-YY");
    assert!(!e.contains("did you mean") && e.contains("found \"xx-YY\". Supported: bg-BG"), "{e}");
    assert!(error("en").contains("did you mean one of en-GB, en-IE, en-MT, en-US?"));
    assert_eq!(SiteConfig::from_json(r#"{"v":1,"locale":"de-de"}"#).unwrap().money.locale(), "de-DE");
    assert!(MoneyFormat::for_locale("de_DE").is_none());
}
