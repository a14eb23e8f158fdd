#!/usr/bin/env bash
#! Fails when what every shop visitor downloads (loader + worker script + production Wasm, gzip -9) exceeds the
#! budget committed in js-snippet/size-budget.json. Run by scripts/test.sh after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=$(node -p 'require("./js-snippet/size-budget.json").loader_and_wasm_gzip')
js=$(gzip -9c js-snippet/dist/vitrine.js | wc -c)
worker=$(gzip -9c js-snippet/dist/vitrine-worker.js | wc -c)
wasm=$(gzip -9c js-snippet/dist/vitrine_bg.wasm | wc -c)
total=$((js + worker + wasm))
printf 'size budget: loader %d + worker %d + Wasm %d = %d bytes gzip; budget %d (js-snippet/size-budget.json)\n' "$js" "$worker" "$wasm" "$total" "$budget"
if [ "$total" -gt "$budget" ]; then
  echo "size budget exceeded by $((total - budget)) bytes: shrink the build, or raise the budget in a reviewed change" >&2
  exit 1
fi
