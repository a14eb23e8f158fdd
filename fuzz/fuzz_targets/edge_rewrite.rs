//! The edge's streaming rewriter (`vitrine_edge::rewrite::Streamer`) on arbitrary HTML fed in
//! arbitrary chunks, for arbitrary visitors of the shared cases' shop (whose rules decide slots,
//! lists and widgets): never panics; the output does not depend on where the network split the
//! body; a page without Vitrine markup passes through byte for byte for an anonymous visitor; a
//! hostile first name never appears as markup unless the page itself carried it.
//!
//! The first byte chooses the chunk size (1 to 442 bytes) and the visitor (anonymous; a lapsed
//! customer; the same with a first name that is markup; the lapsed one with the profile hand-off);
//! the rest is the page.

#![no_main]

use std::rc::Rc;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vitrine_edge::rewrite::{Plan, Streamer};
use vitrine_engine::{Bundle, LiveProfile, ProfileSnapshot};
use vitrine_engine_fuzz::NOW;

/// The shared cases' bundle, as JSON (a `Bundle` holds `Rc`s, so each run parses its own).
fn shop() -> &'static str {
    static SHOP: OnceLock<String> = OnceLock::new();
    SHOP.get_or_init(|| {
        let cases: serde_json::Value = serde_json::from_str(include_str!("../../tests/cases/decisions.json")).expect("the shared cases parse");
        cases["bundle"].to_string()
    })
}

const XSS: &str = "<img src=x onerror=alert(1)>";

fn visitor(who: u8) -> LiveProfile {
    let name = if who == 2 { XSS } else { "Ann" };
    let snapshot = match who {
        0 => ProfileSnapshot::anonymous(),
        _ => ProfileSnapshot::from_json(&format!(
            r#"{{"v":1,"id":"c-f","consent":{{"personalization":true}},"traits":{{"first_name":{}}},
            "orders":{{"count":5,"revenue":4000,"first":"2010-12-01T09:00:00Z","last":"2011-05-23T12:00:00Z"}},
            "affinities":{{"Kitchen":0.7}},"segments":["lapsed"],
            "recent_items":[{{"id":"mug-1","time":"2011-11-01T10:00:00Z","event":"purchase"}}]}}"#,
            serde_json::to_string(name).expect("a string serializes")
        ))
        .expect("the fuzz visitor parses"),
    };
    LiveProfile::new(snapshot)
}

fn rewrite(bundle: &Rc<Bundle>, who: u8, html: &[u8], chunk: usize) -> Vec<u8> {
    let plan = Plan { bundle: bundle.clone(), profile: visitor(who), now: NOW, handoff: who == 3 };
    let Ok(mut s) = Streamer::new(plan) else { return html.to_vec() };
    let mut out = Vec::with_capacity(html.len());
    for c in html.chunks(chunk) {
        out.extend(s.write(c));
    }
    out.extend(s.end());
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, html)) = data.split_first() else { return };
    let chunk = 1 + usize::from(ctl & 0x3f) * 7;
    let who = ctl >> 6;
    let bundle = Rc::new(Bundle::from_json(shop()).expect("the shared cases' bundle loads"));
    let whole = rewrite(&bundle, who, html, html.len().max(1));
    let chunked = rewrite(&bundle, who, html, chunk);
    assert!(whole == chunked, "splitting the body into {chunk}-byte chunks changed the output");
    if who == 0 && !contains(html, b"vitrine") {
        assert!(whole == html, "a page without Vitrine markup changed for an anonymous visitor");
    }
    if who == 2 && !contains(html, XSS.as_bytes()) {
        assert!(!contains(&whole, XSS.as_bytes()), "a profile string became markup");
    }
});
