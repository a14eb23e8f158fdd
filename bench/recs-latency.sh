#!/usr/bin/env bash
#! Recommendation latency natively (criterion) and in Wasm (Chromium, Node), written to bench/results/<date>-recs-latency.md.
#! Uses the current demo build (bundle, profiles, js-snippet/dist); --rebuild-snippet rebuilds the snippet first.
#!
#!   bash bench/recs-latency.sh [--rebuild-snippet]
set -euo pipefail
cd "$(dirname "$0")/.."
export VITRINE_NEED_BROWSER=1
bash scripts/setup.sh
if [ ! -f demo-shop/dist/vitrine/edge/bundle.json ] || [ ! -f build/profiles.jsonl ]; then
  echo "recs-latency: no demo build; run: bash scripts/build.sh" >&2
  exit 1
fi
[ "${1:-}" = --rebuild-snippet ] && nice -n 10 bash js-snippet/build.sh
date=$(date +%F)
source bench/result-path.sh
out=$(result_path recs-latency)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Compiling is the heavy part on a shared 2-core machine; the timed runs themselves use one core.
nice -n 10 cargo bench -q -p vitrine-engine --bench recs --no-run
VITRINE_BENCH_SCENARIOS="$tmp/scenarios.json" cargo bench -q -p vitrine-engine --bench recs -- --output-format bencher \
  >"$tmp/criterion.txt" 2>"$tmp/criterion.err" || { cat "$tmp/criterion.err" >&2; exit 1; }
node bench/recs-latency.mjs --scenarios "$tmp/scenarios.json" --profile --json "$tmp/wasm.json" | tee "$tmp/wasm.txt"
target=$(cargo metadata -q --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
stale=$(find engine/src js-snippet/src -name '*.rs' -newer js-snippet/dist/vitrine_bg.wasm | sort | tr '\n' ' ')

TARGET="$target" TMP="$tmp" DATE="$date" STALE="$stale" LOAD="$(cut -d' ' -f1-3 /proc/loadavg)" \
  COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- engine/src js-snippet/src || echo ' + uncommitted engine/snippet changes')" \
  node - >"$out" <<'EOF'
// Assembles the markdown table from criterion's estimates and the Wasm run's JSON.
const { readFileSync } = require('node:fs');
const env = process.env;
const crit = (id) => {
  try { return JSON.parse(readFileSync(`${env.TARGET}/criterion/${id}/new/estimates.json`, 'utf8')).median.point_estimate / 1000; }
  catch { return null; }
};
const wasm = JSON.parse(readFileSync(`${env.TMP}/wasm.json`, 'utf8'));
const scen = JSON.parse(readFileSync(`${env.TMP}/scenarios.json`, 'utf8'));
const f = (x) => (x == null ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (a, b) => (a == null || b == null ? '-' : `${(a / b).toFixed(1)}×`);
const node = new Map((wasm.node?.scenarios || []).map((s) => [s.name, s]));
const L = [];
L.push(`# Recommendation latency, ${env.DATE}`, '');
L.push(`Machine: ${require('node:os').cpus().length} cores, load average ${env.LOAD} at the end (shared; compare rows of one run).`);
L.push(`Code: ${env.COMMIT}. Chromium ${wasm.chromium.version}; Node ${process.version}.`);
L.push(`Wasm: js-snippet/dist/vitrine_bg.wasm, ${wasm.wasm_bytes} bytes (profile snippet: opt-level "z", LTO, std rebuilt at opt-level 3 with immediate-abort panics, wasm-opt -Os; Cargo.toml, js-snippet/build.sh); native: cargo's bench profile (opt-level 3).`);
if (env.STALE.trim()) L.push(`Note: newer than the Wasm build (so not in it): ${env.STALE.trim()}. \`--rebuild-snippet\` rebuilds it.`);
L.push('', 'One visitor on the real demo bundle, full (the edge\'s: 1000 products, model trained on Online Retail orders; what a browser settles on after its shard fetches); heavy buyer ' +
  `${JSON.parse(scen.profiles.heavy).id} (20-item history), light buyer ${JSON.parse(scen.profiles.light).id}. k = 6 per widget. ` +
  'Median µs per call. Native "engine" is `Context::recommend` (or `Context::decide` for the page); native "JSON" and both Wasm columns ' +
  'are request JSON in → decision JSON out, what the snippet\'s `Vitrine.decideSettling` does with every shard loaded. Ratio: Wasm in Chromium ÷ native JSON (the same work).', '');
L.push('| scenario | native µs (engine) | native µs (JSON in → out) | Wasm in Chromium µs (JSON in → out) | ratio | Wasm in Node µs | same answer |');
L.push('|---|---:|---:|---:|---:|---:|:---:|');
for (const s of wasm.chromium.scenarios) {
  const engine = crit(s.name === 'page_category' ? `decide/${s.name}` : `recommend/${s.name}`);
  const json = crit(`json/${s.name}`);
  L.push(`| ${s.name} | ${f(engine)} | ${f(json)} | ${f(s.median_us)} | ${ratio(s.median_us, json)} | ${f(node.get(s.name)?.median_us)} | ${s.same_as_native ? 'yes' : 'NO'} |`);
}
const loadNative = crit('load/bundle_from_json');
L.push(`| full (edge) bundle load (\`Bundle::from_json\` / \`new Vitrine\`) | ${f(loadNative)} | | ${f(wasm.chromium.load.median_us)} (first call ${f(wasm.chromium.load.first_us)}) | ${ratio(wasm.chromium.load.median_us, loadNative)} | ${f(wasm.node?.load.median_us)} | |`);
L.push(`| the browser's head bundle load (\`Bundle::from_json\`) | ${f(crit('load/head_from_json'))} | | | | | |`);
L.push('', '## Where the time goes (page_category: hero slot, 24-item list, 2 widgets)', '');
L.push(`Native: request parse ${f(crit('parts/parse_request_page'))} µs, decide ${f(crit('decide/page_category'))} µs, ` +
  `decision serialize ${f(crit('parts/serialize_decision_page'))} µs; all three ${f(crit('json/page_category'))} µs.`, '');
const b = wasm.chromium.breakdown;
L.push(`Wasm in Chromium, from JS: an empty request costs ${f(b.empty_request.median_us)} µs (the call itself); ` +
  `UTF-8 of the request in ${f(b.utf8_request_in.median_us)} µs, of the decision out ${f(b.utf8_decision_out.median_us)} µs; ` +
  `the loader's JSON.stringify of the request ${f(b.js_stringify_request.median_us)} µs and JSON.parse of the decision ${f(b.js_parse_decision.median_us)} µs; ` +
  `the loader's whole call (stringify, decide, parse) ${f(b.loader_style_call.median_us)} µs.`, '');
if (wasm.profile) {
  L.push(`Chromium CPU profile of the page call (js-snippet/pkg/prod build, which keeps function names; ${wasm.profile.calls} calls, ${wasm.profile.samples} samples):`, '');
  L.push('| phase | share |', '|---|---:|');
  for (const p of wasm.profile.phases) L.push(`| ${p.name} | ${p.percent.toFixed(1)} % |`);
  L.push('', 'Top self time:', '');
  for (const p of wasm.profile.top_self.slice(0, 8)) L.push(`- ${p.percent.toFixed(1)} % \`${p.name.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]+\]/g, '')}\``);
}
L.push('', '## Commands', '', '```', 'bash bench/recs-latency.sh',
  '# which runs:', 'VITRINE_BENCH_SCENARIOS=<tmp>/scenarios.json cargo bench -p vitrine-engine --bench recs -- --output-format bencher',
  'node bench/recs-latency.mjs --scenarios <tmp>/scenarios.json --profile --json <tmp>/wasm.json', '```');
L.push('', '## Raw output', '', '```', readFileSync(`${env.TMP}/criterion.txt`, 'utf8').trim(), '', readFileSync(`${env.TMP}/wasm.txt`, 'utf8').trim(), '```');
console.log(L.join('\n'));
EOF
echo "wrote $out" >&2
