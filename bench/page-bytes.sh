#!/usr/bin/env bash
#! Bytes a returning visitor's first page view downloads at 100,000 products, with the catalog and
#! the model sharded: the bundle head plus every shard file the snippet fetches until its decision
#! misses nothing (cli/examples/page_bytes.rs), on a product page and on the home page, for a few
#! shard counts. Uses bench/shards.sh's synthetic log and --neighbors 20 model (generated if
#! missing). Writes bench/results/<date>-page-bytes.md. Bounded: 300 visitors, two pages each.
set -euo pipefail
cd "$(dirname "$0")/.."
ITEMS=${ITEMS:-100000} INTERACTIONS=${INTERACTIONS:-10000000}
cargo build --quiet --release -p vitrine-cli --example synth --example page_bytes --bin vitrine
mkdir -p bench/tmp
log="bench/tmp/synth-$ITEMS-$INTERACTIONS.csv"
model="bench/tmp/synth-model-k20.vtm"
[ -s "$log" ] || target/release/examples/synth --items "$ITEMS" --interactions "$INTERACTIONS" --out "$log"
[ -s "$model" ] || target/release/vitrine train --interactions "$log" --neighbors 20 --out "$model"
source bench/result-path.sh
out=$(result_path page-bytes)
{
  echo "# First page view at $ITEMS products: head + shards, $(date +%F)"
  echo
  echo "Synthetic log: $ITEMS items, $INTERACTIONS interactions (cli/examples/synth.rs), model --neighbors 20;"
  echo "a synthetic product for every item (200 types); the demo's site configuration (demo-shop/site.json)."
  echo "300 returning visitors, cold cache, each with their previous 20 distinct items as purchases:"
  echo "a product page (hero, also_bought and similar widgets of 6) and the home page (hero, a grid of"
  echo "24 popular products, a for_you widget of 6). Decide, fetch what the decision missed, repeat until"
  echo "nothing is missing (as the snippet does). Sizes gzip -9 in bytes; parse = native time to parse"
  echo "the head and add the page's files (one core, $(nproc)-core machine under whatever else runs)."
  echo
  target/release/examples/page_bytes --model "$model" --interactions "$log" --site demo-shop/site.json --shards 16384,65536,100000
} | tee "$out"
