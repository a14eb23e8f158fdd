#!/usr/bin/env python3
"""Writes the text seed corpora into fuzz/corpus/<target>/seed-<sha1>:

- cel:        every "expr" of the CEL conformance tests (/work/shared/cel-conformance/*.json,
              or the folder given as the first argument);
- condition:  every slot condition ("when") of tests/cases/decisions.json and demo-shop/site.json;
- bundle:     the bundle of tests/cases/decisions.json (also as an edge bundle with `browser_shards`)
              and, if built, demo-shop/dist/vitrine/bundle.json;
- model_json: the model inside each of those bundles.

Binary seeds (model_bin, shard) come from `cargo +nightly run --example seeds`. Seeds are named
after their content (`seed-<sha1>`) and skipped when the corpus already holds that content under
libFuzzer's own name (`<sha1>`), so rerunning never duplicates a file.
"""

import glob
import hashlib
import json
import os
import sys

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
CEL = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/cel-conformance"

# Rule shapes the shipped sites do not use (rules are CEL over the schema in engine/src/rules/condition.rs).
HAND_WRITTEN_CONDITIONS = [
    "events.exists(e, e.type == 'purchase' && e.price > 10.0) && segment.vip",
    "events.filter(e, e.category == 'Bags').size() >= 2 || hours_since(profile.orders.last) < 48.0",
    "profile.rfm.r >= 4 || profile.lifecycle.stage == 'lapsed' && profile.lifecycle.days_overdue > 30.0",
    "has(profile.traits.first_name) && profile.traits.first_name.startsWith('M')",
    "session.cart.all(i, i in profile.recent_items.map(r, r.id)) && now > timestamp('2011-01-01T00:00:00Z')",
    "true",
    "!(profile.consent.personalization == false) || null == page.category",
    "size(profile.segments) > 0 && 'vip' in profile.segments",
    "profile.traits.first_name != \"\" && profile.affinities.Candles >= 0.5e0",
    "page.type in ['product', \"category\", 1, true, null, [2]]",
    "days_since(profile.orders.first) < -1.5 || days_since(now) == 0",
    "size(session.cart) <= session.cart_size && session.orders < 3\n&& (page.product == 'mug-1')",
    "'it\\'s' == profile.id",
]


def write(target, text):
    data = text.encode("utf-8")
    folder = os.path.join(FUZZ, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    sha1 = hashlib.sha1(data).hexdigest()
    # libFuzzer names the files it keeps (and `cargo fuzz cmin` every file) by their SHA-1.
    if os.path.exists(os.path.join(folder, sha1)):
        return
    with open(os.path.join(folder, "seed-" + sha1), "wb") as f:
        f.write(data)


def walk(node, key):
    """Every string value under `key`, anywhere in a JSON document."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from walk(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v, key)


def main():
    counts = {}

    def add(target, text):
        write(target, text)
        counts[target] = counts.get(target, 0) + 1

    for path in sorted(glob.glob(os.path.join(CEL, "*.json"))):
        with open(path, encoding="utf-8") as f:
            for expr in set(walk(json.load(f), "expr")):
                add("cel", expr)

    bundles = []
    with open(os.path.join(ROOT, "tests", "cases", "decisions.json"), encoding="utf-8") as f:
        bundles.append(json.load(f)["bundle"])
    demo = os.path.join(ROOT, "demo-shop", "dist", "vitrine", "bundle.json")
    if os.path.exists(demo):
        with open(demo, encoding="utf-8") as f:
            bundles.append(json.load(f))
    site = os.path.join(ROOT, "demo-shop", "site.json")
    sites = [b["site"] for b in bundles]
    if os.path.exists(site):
        with open(site, encoding="utf-8") as f:
            sites.append(json.load(f))
    for s in sites:
        for when in set(walk(s, "when")):
            add("condition", when)
    for when in HAND_WRITTEN_CONDITIONS:
        add("condition", when)
    for b in bundles:
        add("bundle", json.dumps(b, separators=(",", ":"), ensure_ascii=False))
        add("model_json", json.dumps(b["model"], separators=(",", ":"), ensure_ascii=False))
    # An edge bundle names the browser's shard layout, which the edge preloads from.
    edge = dict(bundles[0], browser_shards={"count": 7, "base": "m-0123456789abcdef/", "views": True})
    add("bundle", json.dumps(edge, separators=(",", ":"), ensure_ascii=False))

    for target, n in sorted(counts.items()):
        print(f"{target}: {n} seeds")


if __name__ == "__main__":
    main()
