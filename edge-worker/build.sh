#!/usr/bin/env bash
#! Builds the edge worker into edge-worker/build/: index_bg.wasm (cargo, wasm-bindgen, wasm-opt),
#! index.js (wasm-bindgen glue) and entry.mjs (the fetch handler wrangler loads). Prints gzip sizes.
#! No worker-build: it downloads tools from GitHub; the three steps it would run are these.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"
out="$here/build"
tmp="$here/build.tmp"
rm -rf "$tmp" && mkdir -p "$tmp"

cargo build --quiet -p vitrine-edge --target wasm32-unknown-unknown --profile wasm-release
# `web` output is an ES module with `initSync`, which entry.mjs feeds the module wrangler compiles;
# the reset function lets entry.mjs replace an instance a panic (abort) has trapped.
wasm-bindgen --target web --no-typescript --omit-default-module-path --experimental-reset-state-function \
  --out-dir "$tmp" --out-name index target/wasm32-unknown-unknown/wasm-release/vitrine_edge.wasm
# npm's binaryen: Debian's wasm-opt is too old and silently breaks externref tables.
node_modules/.bin/wasm-opt -Os --strip-debug --strip-producers "$tmp/index_bg.wasm" -o "$tmp/index_bg.opt.wasm"
mv "$tmp/index_bg.opt.wasm" "$tmp/index_bg.wasm"
cp "$here/js/entry.mjs" "$tmp/entry.mjs"
rm -rf "$out" && mv "$tmp" "$out"

total=0
for f in index_bg.wasm index.js entry.mjs; do
  gz=$(gzip -9c "$out/$f" | wc -c)
  total=$((total + gz))
  printf 'edge-worker/build/%-14s %8d bytes, %7d gzip\n' "$f" "$(wc -c < "$out/$f")" "$gz"
done
printf 'edge-worker/build/ total          %7d gzip\n' "$total"
