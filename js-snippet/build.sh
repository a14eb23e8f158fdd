#!/usr/bin/env bash
#! Builds what a shop serves for the snippet into js-snippet/dist/: vitrine.js (the loader, one
#! classic script for one async tag), vitrine-worker.js (wasm-bindgen glue + worker.js: the worker
#! the loader runs the engine in) and vitrine_bg.wasm, the production engine; and the
#! developer build the preview panel loads, vitrine-dev.js (glue only) and vitrine-dev_bg.wasm,
#! which shop visitors never download. Prints the gzip size of each and where the production
#! Wasm's bytes go (twiggy), so the next person sees what a change costs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"
# Its own target directory: the standard library is rebuilt for it (below), so its artifacts never
# mix with the edge worker's Wasm build.
snippet_target="${CARGO_TARGET_DIR:-$root/target}/snippet"
wasm=$snippet_target/wasm32-unknown-unknown/snippet/vitrine_snippet.wasm
rm -rf "$here/pkg" && mkdir -p "$here/pkg/prod" "$here/pkg/dev" "$here/dist"

# $1: cargo feature flags, $2: output directory under pkg/. The two builds share every dependency
# build; only the final link differs. js-snippet/cargo-build.sh says how the Wasm is compiled (the
# standard library rebuilt, panics as traps); the standard library itself stays at opt-level 3
# (Cargo.toml): at the engine's "s" its allocator and memory routines made every decision ~3.5 µs
# slower in Chromium.
bindgen() {
  bash "$here/cargo-build.sh" "$snippet_target" $1
  wasm-bindgen --target no-modules --no-typescript --out-dir "$here/pkg/$2" "$wasm"
  # Optimized twice (js-snippet/optimize.sh): without names for shipping, and with them for the
  # size breakdown and profiles (named.wasm; keeping names through the passes makes the stripped
  # result 0.2 KB gzip larger, so it is not what ships).
  bash "$here/optimize.sh" "$here/pkg/$2/vitrine_snippet_bg.wasm" "$here/pkg/$2/shipped.wasm"
  bash "$here/optimize.sh" "$here/pkg/$2/vitrine_snippet_bg.wasm" "$here/pkg/$2/named.wasm" -g
}

bindgen "" prod
bindgen "--features dev" dev

# The page runs the loader; the engine runs in a worker whose script is the glue + api.js (the
# engine's methods by name over its one entry point) + worker.js. The developer build's script is
# its glue + api.js.
cat "$here/pkg/prod/vitrine_snippet.js" "$here/api.js" "$here/worker.js" > "$here/pkg/prod/vitrine-worker.full.js"
cat "$here/pkg/dev/vitrine_snippet.js" "$here/api.js" > "$here/pkg/dev/vitrine-dev.full.js"
node_modules/.bin/esbuild --minify --log-level=warning --legal-comments=inline "$here/loader.js" \
  --define:VITRINE_MODULE_BASE=undefined --outfile="$here/dist/vitrine.js.tmp"
# The same loader as an ES module (the package's `import` entry): its files are found beside the
# module, and `ready` resolves with window.vitrine once the first decision is applied.
node_modules/.bin/esbuild --minify --log-level=warning --legal-comments=inline "$here/loader.js" --format=esm \
  --define:VITRINE_MODULE_BASE=__vitrine_base --banner:js='const __vitrine_base=new URL("./",import.meta.url).href;' \
  --footer:js='export const ready=new Promise(function(r){window.vitrine?r(window.vitrine):document.addEventListener("vitrine:applied",function(){r(window.vitrine)},{once:true})});' \
  --outfile="$here/dist/vitrine.mjs.tmp"
node_modules/.bin/esbuild --minify --log-level=warning --legal-comments=inline "$here/pkg/prod/vitrine-worker.full.js" \
  --outfile="$here/dist/vitrine-worker.js.tmp"
node_modules/.bin/esbuild --minify --log-level=warning "$here/pkg/dev/vitrine-dev.full.js" \
  --outfile="$here/dist/vitrine-dev.js.tmp"
mv "$here/pkg/prod/shipped.wasm" "$here/dist/vitrine_bg.wasm"
mv "$here/pkg/dev/shipped.wasm" "$here/dist/vitrine-dev_bg.wasm"
mv "$here/dist/vitrine.js.tmp" "$here/dist/vitrine.js"
mv "$here/dist/vitrine.mjs.tmp" "$here/dist/vitrine.mjs"
mv "$here/dist/vitrine-worker.js.tmp" "$here/dist/vitrine-worker.js"
mv "$here/dist/vitrine-dev.js.tmp" "$here/dist/vitrine-dev.js"
# The npm package (built here, published from elsewhere): the production files, the types, the
# licence and js-snippet/npm's manifest and README. Never the developer build.
rm -rf "$here/dist/package" && mkdir -p "$here/dist/package"
cp "$here/dist/vitrine.js" "$here/dist/vitrine.mjs" "$here/dist/vitrine-worker.js" "$here/dist/vitrine_bg.wasm" \
  "$here/vitrine.d.ts" "$root/LICENSE" "$here/npm/package.json" "$here/npm/README.md" "$here/dist/package/"
for f in vitrine.js vitrine.mjs vitrine-worker.js vitrine_bg.wasm vitrine-dev.js vitrine-dev_bg.wasm; do
  printf 'js-snippet/dist/%-20s %7d bytes, %6d gzip\n' "$f" "$(wc -c < "$here/dist/$f")" "$(gzip -9c "$here/dist/$f" | wc -c)"
done
if command -v twiggy >/dev/null; then
  echo "production Wasm by crate::module (twiggy; bytes before gzip):"
  twiggy top -n 100000 -f csv "$here/pkg/prod/named.wasm" | node "$here/size-breakdown.mjs" 15 | sed 's/^/  /'
fi
