#!/usr/bin/env bash
#! The edge in origin mode, in one run, written to bench/results/<date>-edge-origin.md: HTTP latency
#! and requests/s on loopback (origin directly, pass-through, anonymous, personalized; cold starts),
#! from bench/edge-origin.mjs, and the CPU the worker's code spends per page, natively
#! (edge-worker/benches/rewrite.rs). Uses the current build (scripts/build.sh).
#!
#!   bash bench/edge-origin.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -f demo-shop/dist/vitrine/edge/bundle.json ] && [ -f edge-worker/build/index_bg.wasm ] || bash scripts/build.sh
date=$(date +%F)
source bench/result-path.sh
out=$(result_path edge-origin)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Compiling is the heavy part on a shared 2-core machine: before anything is timed.
nice -n 10 cargo bench -q -p vitrine-edge --bench rewrite --no-run
node bench/edge-origin.mjs --json "$tmp/http.json" | tee "$tmp/http.md"
VITRINE_BENCH_PAGE=build/bench/page-50k.html cargo bench -q -p vitrine-edge --bench rewrite >"$tmp/criterion.txt" 2>"$tmp/criterion.err" \
  || { cat "$tmp/criterion.err" >&2; exit 1; }
target=$(cargo metadata -q --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')

{
  echo "# Edge in origin mode, $date"
  echo
  echo "Machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end (shared; compare rows of one run)."
  echo "Code: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- edge-worker engine || echo ' + uncommitted edge/engine changes'). Edge Wasm: $(wc -c < edge-worker/build/index_bg.wasm) bytes, $(gzip -9c edge-worker/build/index_bg.wasm | wc -c) gzip."
  echo
  cat "$tmp/http.md"
  echo
  echo "## CPU per page, natively (criterion medians; the worker runs the same code as Wasm in workerd)"
  echo
  TARGET="$target" node -e '
    const { readFileSync } = require("node:fs");
    const crit = (id) => JSON.parse(readFileSync(`${process.env.TARGET}/criterion/${id}/new/estimates.json`, "utf8")).median.point_estimate / 1e6;
    const rows = [["page/personalized", "personalized: snapshot parsed, page rewritten (16 KB chunks)"], ["page/anonymous", "anonymous: page rewritten"],
      ["page/copy", "pass-through floor: chunks copied"], ["load/edge_bundle", "edge bundle parsed (once per isolate)"]];
    console.log("| what | ms |"); console.log("|---|---:|");
    for (const [id, what] of rows) console.log(`| ${what} | ${crit(id).toFixed(3)} |`);'
} >"$out"
echo "wrote $out" >&2
