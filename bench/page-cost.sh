#!/usr/bin/env bash
#! What Vitrine costs a page in real Chromium (bench/page-cost.mjs): total blocking time added, the
#! last change inside a placement after the load event, and bytes, against the same page with
#! Vitrine blocked, 4x CPU throttling and none, in one run; plus the shipped sizes. Writes
#! bench/results/<date>-page-cost.md. Uses the current build; starts its own wrangler dev.
#! Usage: bash bench/page-cost.sh [N]   (N first visits per arm, default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false VITRINE_NEED_BROWSER=1
n="${1:-7}"
date=$(date +%F)
source bench/result-path.sh
out=$(result_path page-cost)
source bench/lib/edge-dev.sh
product=$(grep -o 'href="/p/[^"]*"' demo-shop/dist/index.html | head -1 | sed 's#href="/p/##; s#"##')

size() { printf '| %s | %d | %d |\n' "$1" "$(wc -c < "$1")" "$(gzip -9c "$1" | wc -c)"; }
{
  echo "# Page cost in Chromium, $date"
  echo
  echo "Machine: $(nproc) cores, $(uname -m); shared and noisy: compare the arms of one row (alternated, one run)."
  echo "Each row: median of $n first visits (cache cleared) with Vitrine against $n with its /vitrine/ requests blocked."
  echo "Returning customer: persona $vid through the edge (wrangler dev, local workerd). Product page: /p/$product."
  echo
  echo "## Shipped sizes (bytes)"
  echo
  echo "| file | raw | gzip -9 |"
  echo "|---|---|---|"
  size js-snippet/dist/vitrine.js
  size js-snippet/dist/vitrine-worker.js
  size js-snippet/dist/vitrine_bg.wasm
  size demo-shop/dist/vitrine/bundle.json
  size js-snippet/dist/vitrine-dev_bg.wasm
  echo
  echo "## Total blocking time, last placement change, bytes"
  echo
  echo '```'
  node bench/page-cost.mjs --base "http://127.0.0.1:$port" --n "$n" --vid "$vid" --product "$product"
  echo '```'
} | tee "$out"
echo "wrote $out" >&2
