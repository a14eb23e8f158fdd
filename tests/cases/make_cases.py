"""Writes decisions.json: the cross-runtime case file. Expected ids are stated here by hand (worked
out in the comments); only the display fields of recommended products are filled from the catalog."""
import json

catalog = [
    dict(id="mug-1", title="Red spotty mug", link="/p/mug-1", price="5.00 GBP", product_type="Kitchen", brand="Acme", image_link="/img/mug-1.svg"),
    dict(id="mug-2", title="Blue \"classic\" mug", link="/p/mug-2", price="6.50 GBP", product_type="Kitchen", brand="Acme", image_link="/img/mug-2.svg"),
    dict(id="cdl-1", title="Tea-light <set of 12>", link="/p/cdl-1", price="3.25 GBP", product_type="Candles", brand="Acme", image_link="/img/cdl-1.svg"),
    dict(id="cdl-2", title="Zinc lantern", link="/p/cdl-2", price="12.00 GBP", availability="out_of_stock", product_type="Candles", brand="Acme", image_link="/img/cdl-2.svg"),
    dict(id="bag-1", title="Jumbo tote & shopper", link="/p/bag-1", price="4.99 GBP", product_type="Bags", brand="Acme", image_link="/img/bag-1.svg"),
    dict(id="bag-2", title="Lunch bag", link="/p/bag-2", price="7.00 EUR", product_type="Bags", brand="Acme", image_link="/img/bag-2.svg"),
]
ids = [p["id"] for p in catalog]
def nb(*pairs):
    out = []
    for item, score in pairs:
        out += [ids.index(item), int(score * 1e6)]
    return out
model = {"v": 1, "kind": "item-knn", "items": ids,
         "neighbors": [nb(("mug-2", .8), ("cdl-1", .5), ("bag-1", .2)),   # mug-1
                       nb(("mug-1", .8), ("cdl-2", .4)),                  # mug-2
                       nb(("cdl-2", .9), ("mug-1", .5)),                  # cdl-1
                       nb(("cdl-1", .9)),                                 # cdl-2
                       nb(("bag-2", .7), ("mug-1", .2)),                  # bag-1
                       nb(("bag-1", .7))],                                # bag-2
         "popular": [[ids.index(i), n] for i, n in [("bag-1", 50), ("mug-1", 40), ("cdl-1", 30), ("mug-2", 20), ("bag-2", 10), ("cdl-2", 5)]],
         "trending": [[ids.index(i), n] for i, n in [("cdl-1", 900), ("bag-2", 500), ("mug-1", 100)]]}
site = {"v": 1, "slots": {"hero": [
    {"id": "winback", "when": "profile.orders.count >= 2 && profile.orders.revenue >= 1000 && days_since(profile.orders.last) > 90",
     "content": {"headline": "We miss you, {profile.traits.first_name|friend}", "cta_href": "/c/new"}},
    {"id": "vip", "when": "profile.orders.count >= 20", "content": {"headline": "Welcome back, {profile.traits.first_name|friend}", "cta_href": "{'javascript:alert(1)'}"}},
    {"id": "browser", "when": "session.views >= 2 && 'Bags' in session.viewed_categories", "content": {"headline": "Still looking for a bag?"}},
    # High predicted value, at risk (`vitrine profiles --clv-horizon-days`).
    {"id": "save", "when": "profile.clv.expected_value >= 500.0 && profile.clv.p_alive < 0.5", "content": {"headline": "A little something for you, {profile.traits.first_name|friend}"}},
    # Highest priority, but only from Christmas Eve on.
    {"id": "xmas", "priority": 50, "schedule": {"start": "2011-12-24T00:00:00Z"}, "content": {"headline": "Merry Christmas"}}],
    "banner": [{"id": "a", "content": {"headline": "A"}}, {"id": "b", "content": {"headline": "B"}}]},
    "segments": {"bag_browser": {"when": "events.filter(e, e.type == 'view_item' && e.category == 'Bags').size() >= 2 && !events.exists(e, e.type == 'purchase')"}},
    "lists": {"boost": 1.0, "rules": [{"id": "promo", "list": "promo", "when": "segment.bag_browser", "pin": ["cdl-1"], "bury": ["bag-2"], "boost": {"Kitchen": 0.5}}]},
    "recs": {"k": 3},
    "experiments": {
        "banner-test": {"slot": "banner", "holdout": 0.2, "arms": [{"id": "show-a", "variant": "a"}, {"id": "show-b", "variant": "b"}]},
        "widget-test": {"widget": "exp-w", "arms": [{"id": "control", "default": True}, {"id": "trend", "strategy": "trending"}]}}}
bundle = {"v": 1, "site": site, "catalog": {"v": 1, "products": catalog}, "model": model}

SYMBOL = {"GBP": "£", "EUR": "€"}
def item(i):
    p = next(p for p in catalog if p["id"] == i)
    amount, cur = p["price"].split()
    return dict(id=i, title=p["title"], link=p["link"], price=SYMBOL[cur] + amount, image_link=p["image_link"], product_type=p["product_type"], brand=p["brand"])

NOW = "2011-12-10T00:00:00Z"
HOME = {"page": {"type": "home"}, "slots": ["hero"], "lists": [{"list": "grid", "items": ["mug-1", "cdl-1", "bag-1", "mug-2"]}],
        "recs": [{"widget": "for-you", "strategy": "for_you"}]}
def lapsed(consent=True, name="Margaret"):
    return {"v": 1, "id": "c-1", "consent": {"personalization": consent}, "traits": {"first_name": name},
            "orders": {"count": 5, "revenue": 4000, "aov": 800, "first": "2010-12-01T09:00:00Z", "last": "2011-05-01T09:00:00Z"},
            "recent_items": [{"id": "cdl-1", "time": "2011-04-01T09:00:00Z", "event": "purchase"},
                             {"id": "mug-2", "time": "2011-05-01T09:00:00Z", "event": "purchase"}],
            "affinities": {"Candles": 0.6, "Kitchen": 0.4}}
def slot(variant=None, **fields):
    return {"slot": "hero", "variant": variant, "fields": fields}
def decision(slots=(), lists=(), recs=()):
    return {"v": 1, "slots": list(slots), "lists": list(lists), "recs": list(recs)}
def lst(items, keys):
    return {"list": "grid", "items": items, "keys": keys}
def recs(widget, strategy, items):
    return {"widget": widget, "strategy": strategy, "items": [item(i) for i in items]}
def view(i, t):
    return {"event": "view_item", "time": t, "ecommerce": {"items": [{"item_id": i}]}}
# A visitor without a profile who consented on this page (the snippet's `grantConsent`): this
# session's events count. Before consent they do not (issue 12), unless the site sets
# `consent.session_before_consent`.
CONSENTED = {"v": 1, "id": "", "consent": {"personalization": True}}

cases = [
    # Nothing known: default hero, shop order, popularity.
    ("anonymous visitor gets defaults and popular picks", {"now": NOW, "request": HOME},
     decision([slot()], [lst(["mug-1", "cdl-1", "bag-1", "mug-2"], [0, 0, 0, 0])], [recs("for-you", "for_you", ["bag-1", "mug-1", "cdl-1"])])),
    # Lapsed (last order 223 days ago, 5 orders, 4000 revenue): winback. Candles 0.6 > Kitchen 0.4 > Bags 0.
    # For-you from history mug-2, cdl-1 -> mug-1 .8+.5, cdl-2 .4+.9 (out of stock, skipped);
    # mug-2/cdl-1 already bought; popular fill: bag-1, bag-2.
    ("lapsed big spender gets the winback hero", {"profile": lapsed(), "now": NOW, "request": HOME},
     decision([slot("winback", headline="We miss you, Margaret", cta_href="/c/new")],
              [lst(["cdl-1", "mug-1", "mug-2", "bag-1"], [-400, -600, 0, -400])],
              [recs("for-you", "for_you", ["mug-1", "bag-1", "bag-2"])])),
    # Same snapshot without consent reads as anonymous.
    ("without consent nothing personal is used", {"profile": lapsed(consent=False), "now": NOW, "request": HOME},
     decision([slot()], [lst(["mug-1", "cdl-1", "bag-1", "mug-2"], [0, 0, 0, 0])], [recs("for-you", "for_you", ["bag-1", "mug-1", "cdl-1"])])),
    # Profile strings are data: the engine returns them verbatim; runtimes insert them as text.
    ("markup in a first name stays a plain string", {"profile": lapsed(name="<img src=x onerror=alert(1)>"), "now": NOW, "request": {"slots": ["hero"]}},
     decision([slot("winback", headline="We miss you, <img src=x onerror=alert(1)>", cta_href="/c/new")])),
    # Two bag views this session: Bags gets 2 x 0.25 and moves up; the browsing variant matches.
    ("live views lift their category", {"profile": CONSENTED, "now": NOW, "events": [view("bag-2", "2011-12-09T10:00:00Z"), view("bag-1", "2011-12-09T10:01:00Z")], "request": HOME},
     decision([slot("browser", headline="Still looking for a bag?")],
              [lst(["bag-1", "mug-1", "cdl-1", "mug-2"], [0, 0, -500, 0])],
              # for-you from views, every history item counting the same: bag-2 .7 (from bag-1),
              # bag-1 .7 (from bag-2), mug-1 .2; ties go by id: bag-1.
              [recs("for-you", "for_you", ["bag-1", "bag-2", "mug-1"])])),
    # Also-bought on mug-1 with mug-2 in the cart: not mug-1 (current), not mug-2 (cart), not cdl-2
    # (out of stock): cdl-1 .5, bag-1 .2, then popular fill: bag-2.
    ("also bought skips the current product, the cart and what is out of stock",
     {"profile": CONSENTED, "now": NOW, "events": [{"event": "add_to_cart", "ecommerce": {"items": [{"item_id": "mug-2"}]}}],
      "request": {"page": {"type": "product", "product": "mug-1"}, "recs": [{"widget": "also", "strategy": "also_bought", "product": "mug-1", "k": 4}]}},
     decision(recs=[recs("also", "also_bought", ["cdl-1", "bag-1", "bag-2"])])),
    # An unsafe URL in a variant is dropped; the other fields stay.
    ("vip variant with an unsafe link keeps only safe fields",
     {"profile": {"v": 1, "id": "c-2", "consent": {"personalization": True}, "orders": {"count": 25, "last": "2011-12-01T00:00:00Z"}}, "now": NOW, "request": {"slots": ["hero"]}},
     decision([slot("vip", headline="Welcome back, friend")])),
]
def widget(strategy, **extra):
    return {"widget": "w", "strategy": strategy, **extra}
cases += [
    # Trending order from the model: cdl-1, bag-2, mug-1.
    ("trending follows recent momentum", {"now": NOW, "request": {"recs": [widget("trending", k=3)]}},
     decision(recs=[recs("w", "trending", ["cdl-1", "bag-2", "mug-1"])])),
    # Similar to mug-1 (Kitchen, words mug/red/spotty): mug-2 (same category, shares "mug") is the
    # only content match; popular fill skips mug-1 itself: bag-1, cdl-1.
    ("similar finds products by content, then fills", {"now": NOW, "request": {"page": {"type": "product", "product": "mug-1"},
      "recs": [widget("similar", product="mug-1", k=3)]}},
     decision(recs=[recs("w", "similar", ["mug-2", "bag-1", "cdl-1"])])),
    # Views newest first without repeats: cdl-1 (viewed twice), bag-2; then popular: bag-1.
    ("recently viewed lists views newest first", {"profile": CONSENTED, "now": NOW, "events": [view("cdl-1", "2011-12-09T10:00:00Z"),
      view("bag-2", "2011-12-09T10:01:00Z"), view("cdl-1", "2011-12-09T10:02:00Z")], "request": {"recs": [widget("recently_viewed", k=3)]}},
     decision(recs=[recs("w", "recently_viewed", ["cdl-1", "bag-2", "bag-1"])])),
    # One per category first (bag-1, mug-1, cdl-1), then the cap yields to fill the widget: mug-2.
    ("diversity caps categories until the widget would run short", {"now": NOW, "request": {"recs": [widget("popular", k=4, max_per_category=1)]}},
     decision(recs=[recs("w", "popular", ["bag-1", "mug-1", "cdl-1", "mug-2"])])),
    # Price band up to 5.00: mug-2 (6.50) and bag-2 (7.00) are out; cdl-2 is out of stock.
    ("a price band is a hard filter", {"now": NOW, "request": {"recs": [widget("popular", k=4, price_max=5.0)]}},
     decision(recs=[recs("w", "popular", ["bag-1", "mug-1", "cdl-1"])])),
    ("a category filter is a hard filter", {"now": NOW, "request": {"recs": [widget("popular", k=4, category="Bags")]}},
     decision(recs=[recs("w", "popular", ["bag-1", "bag-2"])])),
]
def known(vid, consent=True, **extra):
    return {"v": 1, "id": vid, "consent": {"personalization": consent}, **extra}
def assigned(experiment, arm, bucket):
    return {"experiment": experiment, "arm": arm, "holdout": arm == "holdout", "bucket": bucket}
def with_exp(d, a):
    return {**d, "experiment": a}
BANNER = {"slots": ["banner"]}
EXP_W = {"recs": [{"widget": "exp-w", "strategy": "popular", "k": 2}]}
cases += [
    # Christmas Day: the scheduled xmas variant (priority 50) beats vip (priority 0), which also holds.
    ("a live higher-priority variant wins; a scheduled one waits", {"profile": known("c-2", orders={"count": 25, "last": "2011-12-01T00:00:00Z"}),
      "now": "2011-12-25T10:00:00Z", "request": {"slots": ["hero"]}},
     decision([slot("xmas", headline="Merry Christmas")])),
    # Two bag views, nothing bought: segment bag_browser holds, so the promo rule pins cdl-1, buries
    # bag-2 and adds 0.5 to Kitchen: mug-1 and mug-2 at -500 (Kitchen 0 + 0.5), shop order between them.
    ("a segment over events pins, buries and boosts a list", {"profile": CONSENTED, "now": NOW, "events": [view("bag-2", "2011-12-09T10:00:00Z"), view("bag-1", "2011-12-09T10:01:00Z")],
      "request": {"lists": [{"list": "promo", "items": ["mug-1", "bag-2", "cdl-1", "mug-2"]}]}},
     decision(lists=[{"list": "promo", "items": ["cdl-1", "mug-1", "mug-2", "bag-2"], "keys": [-500, 1999999999, -2000000000, -500]}])),
    # The same from the snapshot's own views of two bags the catalog no longer has: each carries
    # its category (as `vitrine profiles` writes it), so the segment holds without the catalog,
    # and a sharded runtime fetches no product file for them.
    ("a snapshot's items carry their category, with or without a catalog entry",
     {"profile": known("", recent_items=[{"id": "bag-8", "time": "2011-12-08T10:00:00Z", "event": "view", "category": "Bags", "price": 9.5},
                                         {"id": "bag-9", "time": "2011-12-08T10:01:00Z", "event": "view", "category": "Bags"}]),
      "now": NOW, "request": {"lists": [{"list": "promo", "items": ["mug-1", "bag-2", "cdl-1", "mug-2"]}]}},
     decision(lists=[{"list": "promo", "items": ["cdl-1", "mug-1", "mug-2", "bag-2"], "keys": [-500, 1999999999, -2000000000, -500]}])),
    # banner-test: FNV-1a 32("banner-test.c-3") % 10000 = 845 -> 0.0845 < 0.2: the holdout keeps the default.
    ("an experiment's holdout keeps the default and says so", {"profile": known("c-3"), "now": NOW, "request": BANNER},
     decision([with_exp({"slot": "banner", "variant": None, "fields": {}}, assigned("banner-test", "holdout", 0.0845))])),
    # c-2: 0.3226 -> (0.3226 - 0.2) / 0.8 * 2 = 0.31 < 1: show-a. c-4: 0.7512 -> 1.38: show-b.
    ("experiment arms force their variant", {"profile": known("c-2"), "now": NOW, "request": BANNER},
     decision([with_exp({"slot": "banner", "variant": "a", "fields": {"headline": "A"}}, assigned("banner-test", "show-a", 0.3226))])),
    ("the other arm gets the other variant", {"profile": known("c-4"), "now": NOW, "request": BANNER},
     decision([with_exp({"slot": "banner", "variant": "b", "fields": {"headline": "B"}}, assigned("banner-test", "show-b", 0.7512))])),
    # Without consent nobody is assigned: the first variant that holds (a, always).
    ("without consent there is no experiment", {"profile": known("c-4", consent=False), "now": NOW, "request": BANNER},
     decision([{"slot": "banner", "variant": "a", "fields": {"headline": "A"}}])),
    # widget-test: c-5 -> 0.0969: control (default) keeps the widget as served; c-2 -> 0.8588: trending.
    ("a widget's control arm leaves it as served", {"profile": known("c-5"), "now": NOW, "request": EXP_W},
     decision(recs=[{"widget": "exp-w", "strategy": "popular", "items": [], "keep": True, "experiment": assigned("widget-test", "control", 0.0969)}])),
    ("a widget arm switches the strategy", {"profile": known("c-2"), "now": NOW, "request": EXP_W},
     decision(recs=[with_exp(recs("exp-w", "trending", ["cdl-1", "bag-2"]), assigned("widget-test", "trend", 0.8588))])),
]
def clv(value, p_alive):
    return {"expected_orders": 1.25, "expected_value": value, "p_alive": p_alive, "horizon_days": 90}
cases += [
    # One order (no winback), 800 predicted over 90 days but probably gone (0.3 < 0.5): save.
    ("high predicted value at risk gets the save hero", {"profile": known("c-6", orders={"count": 1, "last": "2011-06-01T00:00:00Z"}, clv=clv(800.0, 0.3)),
      "now": NOW, "request": {"slots": ["hero"]}},
     decision([slot("save", headline="A little something for you, friend")])),
    # The same value from a customer who is probably still buying: nothing to save; the default.
    ("a customer likely alive is not at risk", {"profile": known("c-6", orders={"count": 1, "last": "2011-06-01T00:00:00Z"}, clv=clv(800.0, 0.9)),
      "now": NOW, "request": {"slots": ["hero"]}},
     decision([slot()])),
]
cases += [
    # Issue 12: before consent, decisions use only the page's own context. The two bag views of
    # "live views lift their category" change nothing: default hero, shop order, popularity.
    ("before consent this session's views are not used", {"now": NOW, "events": [view("bag-2", "2011-12-09T10:00:00Z"), view("bag-1", "2011-12-09T10:01:00Z")], "request": HOME},
     decision([slot()], [lst(["mug-1", "cdl-1", "bag-1", "mug-2"], [0, 0, 0, 0])], [recs("for-you", "for_you", ["bag-1", "mug-1", "cdl-1"])])),
    # Nor the cart, nor what was viewed: also-bought on mug-1 is the product's own row, mug-2
    # .8, cdl-1 .5, bag-1 .2, then popular fill: bag-2 (mug-1 is the page's product); recently
    # viewed is popularity.
    ("before consent the cart and recent views are not used",
     {"now": NOW, "events": [{"event": "add_to_cart", "ecommerce": {"items": [{"item_id": "mug-2"}]}}, view("cdl-1", "2011-12-09T10:00:00Z")],
      "request": {"page": {"type": "product", "product": "mug-1"}, "recs": [{"widget": "also", "strategy": "also_bought", "product": "mug-1", "k": 4},
                                                                          widget("recently_viewed", k=2)]}},
     decision(recs=[recs("also", "also_bought", ["mug-2", "cdl-1", "bag-1", "bag-2"]), recs("w", "recently_viewed", ["bag-1", "cdl-1"])])),
]
doc = {"v": 1, "bundle": bundle, "cases": [{"name": n, "input": i, "expected": e} for n, i, e in cases]}
with open("decisions.json", "w") as f:
    json.dump(doc, f, indent=1, ensure_ascii=False)
    f.write("\n")
