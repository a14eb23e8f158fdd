//! Native tests of the streaming rewrite: the markup contract applied end to end on small pages,
//! the escaping guarantees, template capture across arbitrary chunk boundaries, and fail-open.

use std::rc::Rc;

use vitrine_engine::{Bundle, LiveProfile, ProfileSnapshot};

use crate::rewrite::{rewrite_str, Plan, Streamer};

const NOW: &str = "2011-12-09T12:00:00Z";

fn bundle() -> Rc<Bundle> {
    let site = r#"{"v":1,
      "demo_now": "2011-12-09T12:00:00Z",
      "slots": {"hero": [
        {"id": "winback", "when": "profile.orders.count >= 2 && days_since(profile.orders.last) > 90",
         "content": {"headline": "We miss you, {profile.traits.first_name|friend}", "cta": "See what's new",
                     "cta_href": "/c/new"}},
        {"id": "linked", "when": "'linker' in profile.segments",
         "content": {"headline": "Linked", "cta_href": "{profile.traits.site}"}}
      ]},
      "lists": {"boost": 1.0},
      "recs": {"k": 3}}"#;
    let catalog = r#"{"v":1, "products": [
      {"id": "A", "title": "Mug \"Best\" <3 & co", "link": "/p/A", "price": "2.55 GBP",
       "product_type": "Kitchen", "image_link": "/img/A.svg"},
      {"id": "B", "title": "Candle", "link": "/p/B", "price": "3.00 GBP", "product_type": "Candles & Lights"},
      {"id": "C", "title": "Lamp", "link": "https://shop.example/p/C", "price": "10.00 EUR",
       "product_type": "Candles & Lights", "image_link": "/img/C.svg"},
      {"id": "D", "title": "Gone", "link": "/p/D", "price": "1.00 GBP", "availability": "out_of_stock"}
    ]}"#;
    let model = r#"{"v":1, "kind": "item-knn", "items": ["A", "B", "C", "D"],
      "neighbors": [[2, 900000, 1, 500000], [0, 500000], [0, 900000], []],
      "popular": [[0, 10], [1, 8], [2, 5], [3, 1]]}"#;
    Rc::new(Bundle::from_json(&Bundle::assemble(site, catalog, model)).unwrap())
}

fn now() -> i64 {
    vitrine_engine::time::parse(NOW).unwrap()
}

fn profile(json: &str) -> LiveProfile {
    LiveProfile::new(ProfileSnapshot::from_json(json).unwrap())
}

/// Lapsed, consented, with a hostile first name.
const XSS: &str = r#"{"v":1, "id":"c-x", "consent":{"personalization":true},
  "traits":{"first_name":"<img src=x onerror=alert(1)>"},
  "orders":{"count":5, "revenue":4000, "last":"2011-05-23T12:00:00Z"}}"#;

const LAPSED: &str = r#"{"v":1, "id":"c-1", "consent":{"personalization":true},
  "traits":{"first_name":"Anna"},
  "orders":{"count":5, "revenue":4000, "last":"2011-05-23T12:00:00Z"},
  "affinities":{"Candles & Lights": 0.6}}"#;

fn plan(p: LiveProfile, handoff: bool) -> Plan {
    Plan { bundle: bundle(), profile: p, now: now(), handoff }
}

fn anon() -> Plan {
    plan(LiveProfile::new(ProfileSnapshot::anonymous()), false)
}

const HERO: &str = r#"<section class="hero" data-vitrine-slot="hero"><h1 data-vitrine-field="headline">Gifts for every occasion</h1><p data-vitrine-field="body">Since 2010.</p><a class="btn" data-vitrine-field="cta" data-vitrine-href="cta_href" href="/c/all">Shop now</a></section>"#;

/// Rewrites `html` feeding it in chunks of `n` bytes, as the network would.
fn rewrite_chunked(html: &str, plan: Plan, n: usize) -> String {
    let mut s = Streamer::new(plan).unwrap();
    let mut out = Vec::new();
    for chunk in html.as_bytes().chunks(n) {
        out.extend(s.write(chunk));
    }
    out.extend(s.end());
    String::from_utf8(out).unwrap()
}

#[test]
fn lapsed_visitor_gets_the_winback_hero() {
    let out = rewrite_str(HERO, plan(profile(LAPSED), false));
    assert_eq!(
        out,
        r#"<section class="hero" data-vitrine-slot="hero" data-vitrine-variant="winback"><h1 data-vitrine-field="headline">We miss you, Anna</h1><p data-vitrine-field="body">Since 2010.</p><a class="btn" data-vitrine-field="cta" data-vitrine-href="cta_href" href="/c/new">See what&#39;s new</a></section>"#
            .replace("&#39;", "'")
    );
}

#[test]
fn anonymous_visitor_keeps_the_default_markup() {
    assert_eq!(rewrite_str(HERO, anon()), HERO);
}

#[test]
fn hostile_first_name_is_inserted_as_text() {
    let out = rewrite_str(HERO, plan(profile(XSS), false));
    assert!(out.contains("We miss you, &lt;img src=x onerror=alert(1)&gt;"), "{out}");
    assert!(!out.contains("<img"), "{out}");
}

#[test]
fn unsafe_slot_url_is_dropped() {
    let p = r#"{"v":1, "id":"c-2", "consent":{"personalization":true}, "segments":["linker"],
      "traits":{"site":"javascript:alert(1)"}}"#;
    let out = rewrite_str(HERO, plan(profile(p), false));
    assert!(out.contains(r#"data-vitrine-variant="linked""#), "{out}");
    assert!(out.contains(r#"href="/c/all""#), "{out}");
    assert!(!out.contains("javascript"), "{out}");
}

#[test]
fn safe_slot_url_with_quotes_stays_inside_the_attribute() {
    let p = r#"{"v":1, "id":"c-2", "consent":{"personalization":true}, "segments":["linker"],
      "traits":{"site":"/x?a=\"onmouseover=alert(1)&b=<c>"}}"#;
    let out = rewrite_str(HERO, plan(profile(p), false));
    assert!(out.contains(r#"href="/x?a=&quot;onmouseover=alert(1)&amp;b=&lt;c&gt;""#), "{out}");
}

#[test]
fn fields_belong_to_their_own_slot() {
    let html = r#"<div data-vitrine-slot="nope"><h1 data-vitrine-field="headline">A</h1></div>"#.to_owned() + HERO;
    let out = rewrite_str(&html, plan(profile(LAPSED), false));
    assert!(out.starts_with(r#"<div data-vitrine-slot="nope"><h1 data-vitrine-field="headline">A</h1></div>"#), "{out}");
    assert!(out.contains("We miss you, Anna"));
    // A field outside any slot is not touched.
    let stray = r#"<h1 data-vitrine-field="headline">Stray</h1>"#;
    assert_eq!(rewrite_str(stray, plan(profile(LAPSED), false)), stray);
}

const LIST: &str = r#"<ul class="grid" data-vitrine-list="home-grid"><li data-vitrine-item="A">a</li><li data-vitrine-item="B" style="color:red">b</li><li data-vitrine-item="C" style="color:red;">c</li><li><div data-vitrine-item="B">nested</div></li></ul>"#;

#[test]
fn list_items_get_their_sort_key_as_css_order() {
    let out = rewrite_str(LIST, plan(profile(LAPSED), false));
    assert_eq!(
        out,
        r#"<ul class="grid" data-vitrine-list="home-grid"><li data-vitrine-item="A">a</li><li data-vitrine-item="B" style="color:red;order:-600">b</li><li data-vitrine-item="C" style="color:red;order:-600">c</li><li><div data-vitrine-item="B">nested</div></li></ul>"#
    );
    assert_eq!(rewrite_str(LIST, anon()), LIST, "anonymous lists keep the shop's order");
}

const RECS: &str = r##"<div class="recs" data-vitrine-recs="also" data-vitrine-strategy="also_bought" data-vitrine-product="B" data-vitrine-k="2"><template><a class="card" data-vitrine-bind-href="link" href="#"><img data-vitrine-bind-src="image_link" data-vitrine-bind-alt="title" alt=""><span class="title" data-vitrine-bind="title">…</span><span class="price" data-vitrine-bind="price"></span></a></template></div>"##;

#[test]
fn recs_are_filled_from_the_template() {
    let out = rewrite_str(RECS, anon());
    let card_a = r#"<a class="card" data-vitrine-bind-href="link" href="/p/A"><img data-vitrine-bind-src="image_link" data-vitrine-bind-alt="title" src="/img/A.svg" alt="Mug &quot;Best&quot; &lt;3 &amp; co"><span class="title" data-vitrine-bind="title">Mug "Best" &lt;3 &amp; co</span><span class="price" data-vitrine-bind="price">£2.55</span></a>"#;
    let card_c = r#"<a class="card" data-vitrine-bind-href="link" href="https://shop.example/p/C"><img data-vitrine-bind-src="image_link" data-vitrine-bind-alt="title" src="/img/C.svg" alt="Lamp"><span class="title" data-vitrine-bind="title">Lamp</span><span class="price" data-vitrine-bind="price">€10.00</span></a>"#;
    let expected = RECS
        .replace(r#"data-vitrine-k="2">"#, r#"data-vitrine-k="2" data-vitrine-filled="2" data-vitrine-items="A C">"#)
        .replace("</template></div>", &format!("</template>{card_a}{card_c}</div>"));
    assert_eq!(out, expected);
}

#[test]
fn a_title_cannot_break_out_of_the_alt_attribute() {
    let out = rewrite_str(RECS, anon());
    assert!(out.contains(r#"alt="Mug &quot;Best&quot; &lt;3 &amp; co">"#), "{out}");
    // The only tags are the template's and its two copies'; the raw title never appears.
    assert_eq!(out.matches("<img").count(), 3, "{out}");
    assert!(!out.contains("<3"), "{out}");
}

#[test]
fn recs_follow_the_page_context_and_skip_out_of_stock() {
    let page = RECS.replace(r#" data-vitrine-product="B""#, "").replace(r#"data-vitrine-k="2""#, r#"data-vitrine-k="9""#);
    let html = format!(r#"<body data-vitrine-page="product" data-vitrine-product="A">{page}</body>"#);
    let out = rewrite_str(&html, anon());
    assert!(out.contains(r#"data-vitrine-filled="2""#), "A's neighbours C, B; D is out of stock: {out}");
    assert!(!out.contains(r#"href="/p/A""#), "never the current product: {out}");
    assert!(out.find("/p/C").unwrap() < out.find("/p/B").unwrap());
}

#[test]
fn unknown_strategy_leaves_the_widget_alone() {
    let html = RECS.replace("also_bought", "telepathy");
    assert_eq!(rewrite_str(&html, anon()), html);
}

/// A template exercising what the capture must reproduce: nesting, entities, single quotes,
/// void and self-closing elements, an SVG with case-sensitive names, a comment (dropped) and
/// whitespace text.
const RICH_TEMPLATE: &str = "\n  <article class=\"c\" data-x='a \"q\" b'>\n    <h3>T&amp;C <em>em <b>bold</b></em></h3>\n    <br><input disabled value=\"&lt;x&gt;\">\n    <svg viewBox=\"0 0 1 1\"><path d=\"M0 0\"/></svg><!-- note -->\n    <ul><li>one<li>two</ul>\n  </article>\n";

#[test]
fn template_capture_round_trips_nested_markup() {
    let html = format!(r#"<div data-vitrine-recs="p" data-vitrine-strategy="popular" data-vitrine-k="1"><template>{RICH_TEMPLATE}</template></div>"#);
    let copy = "\n  <article class=\"c\" data-x=\"a &quot;q&quot; b\">\n    <h3>T&amp;C <em>em <b>bold</b></em></h3>\n    <br><input disabled=\"\" value=\"&lt;x&gt;\">\n    <svg viewBox=\"0 0 1 1\"><path d=\"M0 0\" /></svg>\n    <ul><li>one<li>two</ul>\n  </article>\n";
    let expected = html
        .replace(r#"data-vitrine-k="1">"#, r#"data-vitrine-k="1" data-vitrine-filled="1" data-vitrine-items="A">"#)
        .replace("</template></div>", &format!("</template>{copy}</div>"));
    for n in [1, 2, 3, 7, 64, 4096] {
        assert_eq!(rewrite_chunked(&html, anon(), n), expected, "chunk size {n}");
    }
}

#[test]
fn chunk_boundaries_do_not_change_the_result() {
    let page = format!("<!doctype html><html><head><title>t</title></head><body data-vitrine-page=\"home\">{HERO}{LIST}{RECS}</body></html>");
    let whole = rewrite_str(&page, plan(profile(XSS), true));
    for n in [1, 5, 13, 100] {
        assert_eq!(rewrite_chunked(&page, plan(profile(XSS), true), n), whole, "chunk size {n}");
    }
}

#[test]
fn profile_handoff_only_when_asked_and_escaped() {
    let page = "<html><head><title>t</title></head><body></body></html>";
    let out = rewrite_str(page, plan(profile(XSS), true));
    assert!(out.starts_with(r#"<html><head><title>t</title><script type="application/json" id="vitrine-profile">{"v":1,"id":"c-x","#), "{out}");
    assert!(out.contains(r#""first_name":"\u003cimg src=x onerror=alert(1)\u003e""#), "{out}");
    assert!(out.ends_with("</script></head><body></body></html>"), "{out}");
    assert_eq!(rewrite_str(page, plan(profile(XSS), false)), page);
}

#[test]
fn profile_handoff_without_a_head_end_tag_goes_before_body() {
    let page = "<html><head><title>t</title><body></body></html>";
    let out = rewrite_str(page, plan(profile(LAPSED), true));
    assert_eq!(out.matches("vitrine-profile").count(), 1, "{out}");
    assert!(out.contains("</script><body>"), "{out}");
}

#[test]
fn oversized_tag_fails_open_byte_exact() {
    // One start tag bigger than the rewriter's memory budget: lol_html bails out gracefully and
    // the rest of the page must arrive exactly as the shop sent it.
    let big = "x".repeat(5 << 20);
    let page = format!("<html><head></head><body><p title=\"{big}\">hi</p>{HERO}</body></html>");
    let mut s = Streamer::new(plan(profile(LAPSED), false)).unwrap();
    let mut out = Vec::new();
    for chunk in page.as_bytes().chunks(64 << 10) {
        out.extend(s.write(chunk));
    }
    out.extend(s.end());
    assert!(s.bailed_out());
    assert!(out == page.as_bytes(), "output differs from the original page");
}

#[test]
fn non_utf8_bytes_pass_through() {
    let page = b"<p>caf\xe9</p><h1>\xff\xfe</h1>";
    let mut s = Streamer::new(anon()).unwrap();
    let mut out = s.write(page);
    out.extend(s.end());
    assert_eq!(out, page);
}

/// `bundle()` as the edge gets it beside a browser bundle split into `count` shards.
fn sharded(count: u32) -> (Rc<Bundle>, vitrine_engine::shard::ShardLayout) {
    let b = bundle();
    let (head, _) = b.model.split(count).unwrap();
    let layout = head.shard_layout().unwrap().clone();
    let mut b = (*b).clone();
    b.browser_shards = Some(layout.clone());
    (Rc::new(b), layout)
}

const SNIPPET: &str = r#"<head><script async src="/vitrine/vitrine.js"></script></head>"#;
const FOR_YOU: &str = r#"<div data-vitrine-recs="fy" data-vitrine-strategy="for_you"><template><a data-vitrine-bind="title"></a></template></div>"#;

fn preloads(html: &str) -> Vec<String> {
    html.match_indices(r#"<link rel="preload" as="fetch" crossorigin="anonymous" href=""#)
        .map(|(i, m)| html[i + m.len()..].split('"').next().unwrap().to_owned())
        .collect()
}

#[test]
fn widgets_preload_the_browser_shards_they_read() {
    let (b, layout) = sharded(7);
    let visitor = profile(
        r#"{"v":1, "id":"c-2", "consent":{"personalization":true},
        "recent_items":[{"id":"C","time":"2011-11-01T10:00:00Z","event":"purchase"},{"id":"B","time":"2011-11-02T10:00:00Z","event":"purchase"}]}"#,
    );
    let html = format!(r#"<html>{SNIPPET}<body data-vitrine-page="product" data-vitrine-product="A">{RECS}{FOR_YOU}{RECS}</body></html>"#);
    let out = rewrite_str(&html, Plan { bundle: b, profile: visitor, now: now(), handoff: false });
    let url = |id: &str| format!("/vitrine/{}{}.vtm", layout.base, vitrine_engine::shard::shard_of(id, 7));
    // The also_bought widget names product B (its data-vitrine-product), for_you the history C, B;
    // each file once, before the first widget that reads it.
    let mut expected = vec![url("B")];
    if url("C") != url("B") {
        expected.push(url("C"));
    }
    assert_eq!(preloads(&out), expected, "{out}");
    assert!(out.find("<link").unwrap() < out.find("data-vitrine-recs").unwrap(), "{out}");
    // Everything else is the page as the bundle without a layout rewrites it.
    let mut plain = (*bundle()).clone();
    plain.browser_shards = None;
    let without = rewrite_str(&html, Plan { bundle: Rc::new(plain), profile: profile(LAPSED), now: now(), handoff: false });
    assert!(preloads(&without).is_empty(), "no layout, no preloads: {without}");
}

#[test]
fn no_preloads_without_the_snippet_from_this_worker() {
    let (b, _) = sharded(7);
    for head in ["", r#"<head><script async src="https://cdn.example/vitrine/vitrine.js"></script></head>"#] {
        let html = format!(r#"<html>{head}<body data-vitrine-page="product" data-vitrine-product="A">{RECS}</body></html>"#);
        let out = rewrite_str(&html, Plan { bundle: b.clone(), profile: LiveProfile::new(ProfileSnapshot::anonymous()), now: now(), handoff: false });
        assert!(preloads(&out).is_empty(), "{out}");
        assert!(out.contains("data-vitrine-filled"), "the widget is still filled: {out}");
    }
}
