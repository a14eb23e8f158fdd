"""Writes markup.json: pages in `data-vitrine-*` markup and the visible result of every placement
for a visitor, run through the edge worker (workerd) and the snippet (Chromium, browser-only).
The cases pin each deliberate reading of docs/markup.md where the runtimes once disagreed. Expected
results are stated here by hand; the catalog and model are decisions.json's (tests/cases/make_cases.py)."""
import json

site = {"v": 1, "demo_now": "2011-12-10T00:00:00Z",
        "slots": {"hero": [
            {"id": "winback", "when": "profile.orders.count >= 2",
             "content": {"headline": "We miss you, {profile.traits.first_name|friend}", "body": "<b>10%</b> off & more", "cta_href": "/c/new"}},
            {"id": "other-page", "when": "page.type == 'other'", "content": {"headline": "Other page"}},
            {"id": "product-page", "when": "page.type == 'product' && page.product == ''", "content": {"headline": "Empty product"}},
            {"id": "a-product", "when": "page.type == 'product'", "content": {"headline": "Product {page.product}"}}]},
        "lists": {"rules": [{"id": "candles-first", "list": "grid", "when": "profile.orders.count >= 2", "pin": ["cdl-1"]}]},
        "recs": {"k": 3}}

TEMPLATE = ('<template><a class="card" href="#" data-vitrine-bind-href="link">'
            '<img src="/img/none.svg" alt="" data-vitrine-bind-src="image_link" data-vitrine-bind-alt="title">'
            '<b data-vitrine-bind=" id ">?</b> <span data-vitrine-bind="price">?</span></a></template>')

def recs(attrs):
    return f'<div class="recs" {attrs}>{TEMPLATE}</div>'

HERO = ('<section data-vitrine-slot="hero"><h1 data-vitrine-field=" headline ">Default headline</h1>'
        '<p data-vitrine-field="body">Default body</p>'
        '<a data-vitrine-field="cta" data-vitrine-href="cta_href" href="/c/all">Shop</a>'
        '<a data-vitrine-href="headline" href="/kept">Not a URL field</a></section>')
GRID = ('<ul data-vitrine-list="grid" style="display:flex">' +
        ''.join(f'<li data-vitrine-item="{i}">{i.strip()}</li>' for i in ["mug-1", " cdl-1 ", "bag-1", "mug-2"]) + '</ul>')

lapsed = {"v": 1, "id": "c-1", "consent": {"personalization": True}, "traits": {"first_name": "<img src=x onerror=alert(1)>"},
          "orders": {"count": 5, "revenue": 4000, "first": "2010-12-01T09:00:00Z", "last": "2011-05-01T09:00:00Z"},
          "recent_items": [{"id": "cdl-1", "time": "2011-04-01T09:00:00Z", "event": "purchase"},
                           {"id": "mug-2", "time": "2011-05-01T09:00:00Z", "event": "purchase"}]}

def card(i, title, price):
    return f"{i} {price}|/p/{i}|/img/{i}.svg|{title}"
MUG1, MUG2 = card("mug-1", "Red spotty mug", "£5.00"), card("mug-2", 'Blue "classic" mug', "£6.50")
CDL1, BAG1 = card("cdl-1", "Tea-light <set of 12>", "£3.25"), card("bag-1", "Jumbo tote & shopper", "£4.99")
BAG2 = card("bag-2", "Lunch bag", "€7.00")
SHOP_ORDER = ["mug-1", "cdl-1", "bag-1", "mug-2"]
DEFAULT_HERO = {"variant": None, "fields": ["Default headline", "Default body", "Shop"], "hrefs": ["/c/all", "/kept"]}

cases = [
    {"name": "a lapsed customer on the home page: names trimmed, profile text as text, only URL fields as href",
     "body": 'data-vitrine-page="home"', "profile": lapsed,
     "html": HERO + GRID + recs('data-vitrine-recs="top" data-vitrine-strategy=" popular " data-vitrine-k="2"'),
     "expected": {"slots": [{"variant": "winback", "fields": ["We miss you, <img src=x onerror=alert(1)>", "<b>10%</b> off & more", "Shop"], "hrefs": ["/c/new", "/kept"]}],
                  "lists": [["cdl-1", "mug-1", "bag-1", "mug-2"]],
                  "recs": [[BAG1, MUG1]]}},
    {"name": "no data-vitrine-page is an `other` page; 6px is no number (default k); an unknown strategy is left alone",
     "body": '', "profile": None,
     "html": HERO + GRID + recs('data-vitrine-recs="a" data-vitrine-strategy="popular" data-vitrine-k="2px"')
             + recs('data-vitrine-recs="b" data-vitrine-strategy="bought_together_v9"') + recs('data-vitrine-recs="c"'),
     "expected": {"slots": [{"variant": "other-page", "fields": ["Other page", "Default body", "Shop"], "hrefs": ["/c/all", "/kept"]}],
                  "lists": [SHOP_ORDER],
                  "recs": [[BAG1, MUG1, CDL1], None, None]}},
    {"name": "an empty data-vitrine-product on <body> is no product; a widget's own product counts",
     "body": 'data-vitrine-page=" product " data-vitrine-product=""', "profile": None,
     "html": HERO + recs('data-vitrine-recs="also" data-vitrine-strategy="also_bought" data-vitrine-k="2"')
             + recs('data-vitrine-recs="also-bag" data-vitrine-strategy="also_bought" data-vitrine-product=" bag-1 " data-vitrine-k=" 1 "'),
     "expected": {"slots": [{"variant": "a-product", "fields": ["Product", "Default body", "Shop"], "hrefs": ["/c/all", "/kept"]}],
                  "recs": [[BAG1, MUG1], [BAG2]]}},
    {"name": "a product page: the page's product, values with entities, Unicode spaces belong to the name",
     "body": 'data-vitrine-page="product" data-vitrine-product="mug&#45;1"', "profile": None,
     "html": HERO.replace('data-vitrine-slot="hero"', 'data-vitrine-slot="hero"', 1)
             + '<section data-vitrine-slot="\u00a0hero"><h2 data-vitrine-field="headline">Not the hero</h2></section>'
             + recs('data-vitrine-recs="also" data-vitrine-strategy="also_bought" data-vitrine-k="3" data-vitrine-price-max="5,5"')
             + recs('data-vitrine-recs="cheap" data-vitrine-strategy="popular" data-vitrine-price-max=" 5.5 " data-vitrine-k="9"'),
     "expected": {"slots": [{"variant": "a-product", "fields": ["Product mug-1", "Default body", "Shop"], "hrefs": ["/c/all", "/kept"]},
                            {"variant": None, "fields": ["Not the hero"], "hrefs": []}],
                  "recs": [[MUG2, CDL1, BAG1], [BAG1, CDL1]]}},
    {"name": "template bindings: unknown and inherited names and non-URL fields leave the template as written",
     "body": 'data-vitrine-page="home"', "profile": None,
     "html": '<div class="recs" data-vitrine-recs="odd" data-vitrine-strategy="popular" data-vitrine-k="1"><template>'
             '<a class="card" href="#" data-vitrine-bind-href="title"><img src="/img/none.svg" alt="" data-vitrine-bind-src=" link " data-vitrine-bind-alt="nope">'
             '<b data-vitrine-bind="constructor">?</b> <span data-vitrine-bind="title">?</span></a></template></div>',
     "expected": {"recs": [["? Jumbo tote & shopper|#|/p/bag-1|"]]}},
]

for c in cases:
    c["now"] = "2011-12-10T00:00:00Z"
    c["expected"].setdefault("slots", [])
    c["expected"].setdefault("lists", [])
    c["expected"].setdefault("recs", [])

doc = {"v": 1, "about": __doc__.strip().replace("\n", " "), "site": site, "cases": cases}
with open(__file__.replace("make_markup.py", "markup.json"), "w") as f:
    json.dump(doc, f, indent=1, ensure_ascii=False)
    f.write("\n")
