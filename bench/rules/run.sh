#!/usr/bin/env bash
#! 50 segment rules for one visitor with 200 events: Vitrine natively (criterion) and in Wasm called
#! from JS in Chromium, against GrowthBook's JS condition evaluator in the same page and run, on the
#! rules both can express. Writes bench/results/<date>-rules.md and prints it.
#!
#!   bash bench/rules/run.sh
#!
#! Inputs: bench/rules/rules.json (the rules, CEL and GrowthBook), bench/rules/visitors.json (the
#! visitors; bench/rules/make-visitors.mjs writes it), the demo bundle's catalog and model
#! (`VITRINE_SKIP_EDGE=1 bash scripts/build.sh`). The snippet's Wasm is built here from the current
#! source into a temporary folder, so the numbers are for this checkout and js-snippet/dist is left
#! alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
export VITRINE_NEED_BROWSER=1
bash scripts/setup.sh
if [ ! -f demo-shop/dist/vitrine/bundle.json ]; then
  echo "rules bench: no demo build; run: VITRINE_SKIP_EDGE=1 bash scripts/build.sh" >&2
  exit 1
fi
source bench/result-path.sh
out=$(result_path rules)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
target=$(cargo metadata -q --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')

# Compiling is the heavy part on a shared 2-core machine: niced. The timed runs use one core.
# The developer build: it has `segments` (every segment for a visitor, what is timed here) and
# compiles the bench's sites from source; its evaluator is the production build's, the same code.
# Built as js-snippet/build.sh builds it (the standard library rebuilt, in its own target directory).
nice -n 10 bash js-snippet/cargo-build.sh "$target/snippet" --features dev
wasm-bindgen --target no-modules --no-typescript --out-dir "$tmp/pkg" "$target/snippet/wasm32-unknown-unknown/snippet/vitrine_snippet.wasm"
# As js-snippet/build.sh ships it.
bash js-snippet/optimize.sh "$tmp/pkg/vitrine_snippet_bg.wasm" "$tmp/vitrine_bg.wasm"

nice -n 10 cargo bench -q -p vitrine-engine --bench rules --no-run
VITRINE_BENCH_RULES_OUT="$tmp/native.json" cargo bench -q -p vitrine-engine --bench rules -- --output-format bencher \
  >"$tmp/criterion.txt" 2>"$tmp/criterion.err" || { cat "$tmp/criterion.err" >&2; exit 1; }
cat "$tmp/criterion.txt"

commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- engine/src js-snippet/src || echo ' + uncommitted engine/snippet changes')"
node bench/rules/bench.mjs --pkg "$tmp/pkg" --wasm "$tmp/vitrine_bg.wasm" --native "$tmp/native.json" \
  --criterion "$target/criterion" --commit "$commit" --out "$out"
{ echo; echo '## Raw criterion output'; echo; echo '```'; grep -v '^$' "$tmp/criterion.txt"; echo '```'; } >>"$out"
echo "wrote $out" >&2
