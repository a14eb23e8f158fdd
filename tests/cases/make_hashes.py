"""Writes hashes.json: experiment assignment, visitor id and salt to bucket, for every runtime (the
native engine, the Wasm build in Chromium, the edge worker in workerd). The buckets are computed
here by an independent FNV-1a: bucket = fnv1a32(salt + "." + id) % 10000 over UTF-8 bytes
(docs/site.md, "Experiments"). Each salt gets its own experiment on its own slot in `site`, so a
runtime reads a visitor's bucket from its decision (`slots[i].experiment.bucket` = bucket / 10000)."""
import json

def fnv1a32(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h

SALTS = ["hero-winback", "widget-test", "2026-q1 banner", "ünïcödé-salt", "x" * 200]
IDS = ["c-1", "c-13093", "c-17850", "v-0b1c2d3e4f5a6b7c", "customer@example.com", "é", "🛍️-visitor", "0", "c-" + "9" * 100,
       "t-holdout-5", "c-test-holdout-12"]

site = {"v": 1, "slots": {f"s{i}": [{"id": "v", "content": {"headline": "x"}}] for i in range(len(SALTS))},
        "experiments": {f"e{i}": {"slot": f"s{i}", "salt": salt, "arms": [{"id": "a", "variant": "v"}]} for i, salt in enumerate(SALTS)}}
cases = [{"salt": salt, "id": vid, "bucket": fnv1a32(f"{salt}.{vid}".encode()) % 10000} for salt in SALTS for vid in IDS]
doc = {"v": 1, "about": __doc__.strip().replace("\n", " "), "site": site, "cases": cases}
with open(__file__.replace("make_hashes.py", "hashes.json"), "w") as f:
    json.dump(doc, f, indent=1, ensure_ascii=False)
    f.write("\n")
