#!/usr/bin/env bash
#! Builds everything: the CLI, the demo shop's data (catalog, model, profiles, bundle) from the
#! committed order subset, the browser snippet, the edge worker, and the KV seed file.
#! Output: demo-shop/dist/ (what the worker serves), edge-worker/build/, build/ (intermediates).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

log() { printf '[build] %s\n' "$*" >&2; }
NOW="2011-12-10T00:00:00Z" # the demo's clock: the day after the data set ends (also site.json's demo_now)
ORDERS=demo-shop/data/orders.csv.gz

log "native tools"
cargo build --quiet --release -p vitrine-cli -p vitrine-demo
VITRINE=target/release/vitrine
DEMO=target/release/vitrine-demo

mkdir -p build
rm -rf demo-shop/dist.new
log "catalog and shop pages"
$DEMO catalog --orders "$ORDERS" --out build/catalog.json
$DEMO site --orders "$ORDERS" --catalog build/catalog.json --out demo-shop/dist.new --traits-out build/traits.jsonl
log "model, profiles, bundle"
$VITRINE interactions --orders "$ORDERS" --out build/interactions.csv
# The demo recommends at the end of the data (2011-12-10): recent lines weigh more, as the next-order
# (temporal) evaluation chose (bench/results/*-recsys-online-retail.md).
$VITRINE train --interactions build/interactions.csv --out build/model.json --neighbors 12 --half-life-days 60
$VITRINE profiles --orders "$ORDERS" --now "$NOW" --catalog build/catalog.json --traits build/traits.jsonl \
  --consent granted --clv-horizon-days 90 --out build/profiles.jsonl
$VITRINE kv-bulk --profiles build/profiles.jsonl --out build/kv-profiles.json

log "insights page: KPIs, CLV, a simulated experiment"
# The owner's page (/insights/) renders the CLI's reports; each is also served beside it as its data.
$VITRINE kpis --orders "$ORDERS" --now "$NOW" --out build/kpis.json
# CLV over the 90 days after the demo's clock (BG/NBD + Gamma-Gamma fitted on every order: docs/clv.md).
$VITRINE clv --orders "$ORDERS" --calibration-end 2011-12-10 --horizon-days 90 --out build/clv.jsonl
# The winback holdout's report, on a SIMULATION over the real customers (demo-shop/src/simulate.rs):
# the engine assigns the arms, a seeded model makes up the outcomes with a planted +3 points.
$DEMO simulate-experiment --site demo-shop/site.json --profiles build/profiles.jsonl --orders "$ORDERS" \
  --experiment winback-holdout --out build/sim
$VITRINE uplift --exposures build/sim/exposures.jsonl --conversions build/sim/conversions.jsonl \
  --site demo-shop/site.json --out build/uplift.json
$DEMO insights --orders "$ORDERS" --catalog build/catalog.json --kpis build/kpis.json \
  --uplift build/uplift.json --simulation build/sim/simulation.json --clv build/clv.jsonl --out demo-shop/dist.new
cp build/kpis.json build/uplift.json build/sim/simulation.json demo-shop/dist.new/insights/
mkdir -p demo-shop/dist.new/vitrine
# The edge loads the full catalog and model (vitrine/edge/bundle.json); the browser gets a bundle head
# (vitrine/bundle.json) and fetches only the shards its page needs: model rows (vitrine/m-<hash>/)
# and catalog entries and similar rows (vitrine/c-<hash>/).
$VITRINE bundle --site demo-shop/site.json --catalog build/catalog.json --model build/model.json \
  --out demo-shop/dist.new/vitrine/edge/bundle.json --shards 512 --sharded-out demo-shop/dist.new/vitrine
# The browser's production engine loads bundle heads only (its similar rows come from the shards,
# computed at bundle time): tests and benches that give it a whole catalog and model load a head
# with one shard of each kind, `--shards 1`, and add every shard (tests/lib/fixtures.mjs,
# `browserBundle`). $1 site, $2 catalog, $3 model, $4 the directory (the edge's bundle beside, edge.json).
browser_bundle() {
  rm -rf "$4" && mkdir -p "$4"
  $VITRINE bundle --site "$1" --catalog "$2" --model "$3" --out "$4/edge.json" --shards 1 --sharded-out "$4" 2>"$4/bundle.log" \
    || { cat "$4/bundle.log" >&2; exit 1; }
}
browser_bundle demo-shop/site.json build/catalog.json build/model.json build/full-browser

# The shared decision cases (tests/cases/decisions.json) state their bundle in source form; the
# runtimes' tests load it compiled by the same command a shop runs.
mkdir -p build/cases
node -e 'const fs = require("fs"); const d = JSON.parse(fs.readFileSync("tests/cases/decisions.json", "utf8"));
  for (const k of ["site", "catalog", "model"]) fs.writeFileSync(`build/cases/${k}.json`, JSON.stringify(d.bundle[k]));'
$VITRINE bundle --site build/cases/site.json --catalog build/cases/catalog.json --model build/cases/model.json \
  --out build/cases/bundle.json 2>build/cases/bundle.log || { cat build/cases/bundle.log >&2; exit 1; }
browser_bundle build/cases/site.json build/cases/catalog.json build/cases/model.json build/cases/browser
# Rules calling matches(), which the browser leaves to the edge (tests/cases/edge-only-site.json).
$VITRINE bundle --site tests/cases/edge-only-site.json --catalog build/cases/catalog.json --model build/cases/model.json \
  --out build/cases/edge-only-bundle.json 2>build/cases/bundle.log || { cat build/cases/bundle.log >&2; exit 1; }
browser_bundle tests/cases/edge-only-site.json build/cases/catalog.json build/cases/model.json build/cases/edge-only-browser
# Pages in markup for the edge and the snippet (tests/cases/markup.json), on the same catalog and model.
node -e 'const fs = require("fs"); fs.writeFileSync("build/cases/markup-site.json", JSON.stringify(JSON.parse(fs.readFileSync("tests/cases/markup.json", "utf8")).site));'
$VITRINE bundle --site build/cases/markup-site.json --catalog build/cases/catalog.json --model build/cases/model.json \
  --out build/cases/markup-bundle.json 2>build/cases/bundle.log || { cat build/cases/bundle.log >&2; exit 1; }
browser_bundle build/cases/markup-site.json build/cases/catalog.json build/cases/model.json build/cases/markup-browser
# Experiment assignment (tests/cases/hashes.json): one experiment per salt.
node -e 'const fs = require("fs"); fs.writeFileSync("build/cases/hashes-site.json", JSON.stringify(JSON.parse(fs.readFileSync("tests/cases/hashes.json", "utf8")).site));'
$VITRINE bundle --site build/cases/hashes-site.json --catalog build/cases/catalog.json --model build/cases/model.json \
  --out build/cases/hashes-bundle.json 2>build/cases/bundle.log || { cat build/cases/bundle.log >&2; exit 1; }
browser_bundle build/cases/hashes-site.json build/cases/catalog.json build/cases/model.json build/cases/hashes-browser
# Prices in a site's locale (tests/cases/money.json): a site per locale (in the cases' order, none
# for `null`), its cases' prices as products m<i> (i: the case's index), most popular in that order,
# and as template holes `{money(<amount>, "<currency>")}` in fields m<i> of slot `money`.
rm -rf build/cases/money && mkdir -p build/cases/money
node -e 'const fs = require("fs"); const cases = JSON.parse(fs.readFileSync("tests/cases/money.json", "utf8")).cases;
  const locales = [...new Set(cases.map((c) => c.locale))];
  locales.forEach((locale, g) => {
    const ids = cases.flatMap((c, i) => (c.locale === locale ? [i] : []));
    const holes = ids.map((i) => { const [amount, code] = cases[i].price.split(" "); return [`m${i}`, `{money(${amount}, "${code}")}`]; });
    const site = { v: 1, ...(locale ? { locale } : {}), slots: { money: [{ id: "m", content: Object.fromEntries(holes) }] } };
    const products = ids.map((i) => ({ id: `m${i}`, title: `Case ${i}`, link: `/p/m${i}`, price: cases[i].price }));
    const model = { v: 1, kind: "item-knn", items: products.map((p) => p.id), neighbors: products.map(() => []), popular: products.map((p, j) => [j, products.length - j]) };
    for (const [k, v] of Object.entries({ site, catalog: { v: 1, products }, model })) fs.writeFileSync(`build/cases/money/${g}-${k}.json`, JSON.stringify(v));
  });'
for f in build/cases/money/*-site.json; do
  $VITRINE bundle --site "$f" --catalog "${f%-site.json}-catalog.json" --model "${f%-site.json}-model.json" \
    --out "${f%-site.json}-bundle.json" 2>build/cases/bundle.log || { cat build/cases/bundle.log >&2; exit 1; }
  browser_bundle "$f" "${f%-site.json}-catalog.json" "${f%-site.json}-model.json" "${f%-site.json}-browser"
done

log "browser snippet"
bash js-snippet/build.sh
cp js-snippet/dist/vitrine.js js-snippet/dist/vitrine.mjs js-snippet/dist/vitrine-worker.js js-snippet/dist/vitrine_bg.wasm demo-shop/dist.new/vitrine/
for b in bundle.json edge/bundle.json; do
  printf 'demo-shop/dist/vitrine/%s %7d bytes, %6d gzip\n' "$b" \
    "$(wc -c < "demo-shop/dist.new/vitrine/$b")" "$(gzip -9c "demo-shop/dist.new/vitrine/$b" | wc -c)"
done
log "preview panel"
# The rules preview panel (/preview/) is served as is, beside the site.json it edits and every real
# profile snapshot for its customer picker and replay, gzipped (7 MB of JSON lines is 0.6 MB; the
# panel inflates it with DecompressionStream).
mkdir -p demo-shop/dist.new/preview
cp demo-shop/preview/index.html demo-shop/preview/preview.js demo-shop/preview/preview.css demo-shop/dist.new/preview/
# The developer build of the engine (checkSite, compileSite, replay) lives with the panel, never
# under /vitrine/ where shop pages load the production one.
cp js-snippet/dist/vitrine-dev.js js-snippet/dist/vitrine-dev_bg.wasm demo-shop/dist.new/preview/
cp demo-shop/site.json demo-shop/dist.new/preview/site.json
gzip -9nc build/profiles.jsonl > demo-shop/dist.new/preview/profiles.jsonl.gz
printf 'demo-shop/dist/preview/profiles.jsonl.gz %7d bytes (%d profiles)\n' \
  "$(wc -c < demo-shop/dist.new/preview/profiles.jsonl.gz)" "$(wc -l < build/profiles.jsonl)"
rm -rf demo-shop/dist && mv demo-shop/dist.new demo-shop/dist

[ "${VITRINE_SKIP_EDGE:-0}" = 1 ] && exit 0
log "edge worker"
bash edge-worker/build.sh
