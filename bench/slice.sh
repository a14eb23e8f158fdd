#!/usr/bin/env bash
#! The end-to-end slice's numbers in one run, written to bench/results/<date>-slice.md: shipped sizes
#! (gzip), edge latency personalized vs anonymous vs plain asset, snippet start -> applied in Chromium.
#! Uses the current build (scripts/build.sh) and starts its own wrangler dev on a free local port.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false VITRINE_NEED_BROWSER=1
date=$(date +%F)
out="bench/results/$date-slice.md"
source bench/lib/edge-dev.sh

size() { printf '| %s | %d | %d |\n' "$1" "$(wc -c < "$1")" "$(gzip -9c "$1" | wc -c)"; }
{
  echo "# Slice benchmarks, $date"
  echo
  echo "Machine: $(nproc) cores, $(uname -m); shared and noisy, so compare rows of one run with each other."
  echo
  echo "## Shipped sizes (bytes)"
  echo
  echo "| file | raw | gzip -9 |"
  echo "|---|---|---|"
  size js-snippet/dist/vitrine.js
  size js-snippet/dist/vitrine-worker.js
  size js-snippet/dist/vitrine_bg.wasm
  size demo-shop/dist/vitrine/bundle.json
  size edge-worker/build/index_bg.wasm
  size edge-worker/build/index.js
  size edge-worker/build/entry.mjs
  echo
  echo "## Edge latency (wrangler dev, local workerd, sequential requests; persona $vid)"
  echo
  echo '```'
  node bench/edge-latency.mjs --base "http://127.0.0.1:$port" --n 200 --vid "$vid"
  echo '```'
  echo
  echo "## Snippet in Chromium: loader start -> decisions applied (home page, persona $vid)"
  echo
  echo '```'
  node bench/snippet-timing.mjs --base "http://127.0.0.1:$port" --n 15 --vid "$vid"
  echo '```'
} | tee "$out"
echo "wrote $out" >&2
