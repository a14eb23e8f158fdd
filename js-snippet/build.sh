#!/usr/bin/env bash
#! Builds what a shop serves for the snippet into js-snippet/dist/: vitrine.js (wasm-bindgen glue +
#! loader, one classic script for one async tag) and vitrine_bg.wasm. Prints the gzip size of each.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"
cargo build --quiet -p vitrine-snippet --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$here/pkg" && mkdir -p "$here/pkg" "$here/dist"
wasm-bindgen --target no-modules --no-typescript --out-dir "$here/pkg" \
  target/wasm32-unknown-unknown/wasm-release/vitrine_snippet.wasm
# npm's binaryen: Debian's wasm-opt is too old and silently breaks externref tables.
node_modules/.bin/wasm-opt -Os --strip-debug --strip-producers \
  "$here/pkg/vitrine_snippet_bg.wasm" -o "$here/dist/vitrine_bg.wasm.tmp"
cat "$here/pkg/vitrine_snippet.js" "$here/loader.js" > "$here/pkg/vitrine.full.js"
node_modules/.bin/esbuild --minify --log-level=warning --legal-comments=inline "$here/pkg/vitrine.full.js" \
  --outfile="$here/dist/vitrine.js.tmp"
mv "$here/dist/vitrine_bg.wasm.tmp" "$here/dist/vitrine_bg.wasm"
mv "$here/dist/vitrine.js.tmp" "$here/dist/vitrine.js"
for f in vitrine.js vitrine_bg.wasm; do
  printf 'js-snippet/dist/%-16s %7d bytes, %6d gzip\n' "$f" "$(wc -c < "$here/dist/$f")" "$(gzip -9c "$here/dist/$f" | wc -c)"
done
