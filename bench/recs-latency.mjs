// Recommendation latency of the Wasm build, JSON boundary included, in real Chromium (and in Node): the recs bench's scenarios through Vitrine.decideSettling (what the loader calls).
//
//   node bench/recs-latency.mjs [--scenarios FILE] [--iterations 2000] [--dist js-snippet/dist]
//                               [--skip-node] [--profile] [--json OUT]
//
// The scenarios (profiles, request JSON, and the decision the native engine gave) come from the
// criterion bench, engine/benches/recs.rs, so both sides time exactly the same calls; without
// --scenarios this script asks the (already built) bench for them. Each call is what the loader
// does per page: `engine.decideSettling(requestJson, now)` -> decision JSON (and no file to fetch:
// every shard is loaded first), strings crossing the boundary
// both ways (the loader's own JSON.stringify / JSON.parse are timed apart, under "breakdown").
// Calls are timed in batches (performance.now() is coarse), after a warm-up that lets V8 tier the
// Wasm up; each scenario reports the median and the fastest batch, in microseconds per call.
//
// --profile also samples Chromium's CPU profiler while the whole-page scenario runs, on the
// unoptimized-by-wasm-opt build in js-snippet/pkg/prod (which keeps function names), and splits the time
// into request parse, decide, decision serialize, and the JS glue.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import vm from 'node:vm';
import { launch } from '../tests/lib/chromium.mjs';
import { browserBundle } from '../tests/lib/fixtures.mjs';
import { profilePage, startIsolatedServer } from './lib/chromium-profile.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    scenarios: { type: 'string' },
    iterations: { type: 'string', default: '2000' },
    dist: { type: 'string', default: join(root, 'js-snippet/dist') },
    'skip-node': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

function loadScenarios() {
  let file = opt.scenarios;
  if (!file) {
    // `--list` runs the bench's setup (which writes the file) without measuring anything.
    file = join(mkdtempSync(join(tmpdir(), 'vitrine-recs-')), 'scenarios.json');
    const r = spawnSync('cargo', ['bench', '-q', '-p', 'vitrine-engine', '--bench', 'recs', '--', '--list'],
      { cwd: root, env: { ...process.env, VITRINE_BENCH_SCENARIOS: file }, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0 || !existsSync(file)) {
      console.error('recs-latency: no scenarios (see above); build the demo with `bash scripts/build.sh`.');
      process.exit(1);
    }
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * Runs in the page (and in a Node vm context): times every scenario through one Vitrine engine.
 * Self-contained, since Playwright sends it as source. `V` is the wasm-bindgen namespace.
 */
async function benchWasm(V, input) {
  const { bundleText, shardFiles, profiles, scenarios, iterations } = input;
  const now = Date.now(); // ignored: the demo bundle pins its clock (site.demo_now)
  // The production engine loads a bundle head; the whole catalog and model come as its shards.
  const open = () => {
    const e = new V.Vitrine(bundleText);
    for (const [path, bytes] of shardFiles) e.addShard(path, new Uint8Array(bytes));
    return e;
  };
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  /** Per-call µs: warm up, then `batches` timed batches; median and fastest batch mean. */
  function time(fn, calls) {
    const warmUntil = performance.now() + 150;
    let warm = 0;
    while (warm < 300 || performance.now() < warmUntil) { fn(); warm++; }
    const batches = 40;
    // At least 2000 calls, and batches long enough (>= 2 ms) for the timer's resolution.
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) fn();
    const est = (performance.now() - t0) / 50;
    const size = Math.max(Math.ceil(calls / batches), Math.ceil(2 / Math.max(est, 1e-4)));
    const means = [];
    for (let b = 0; b < batches; b++) {
      const start = performance.now();
      for (let i = 0; i < size; i++) fn();
      means.push(((performance.now() - start) / size) * 1000);
    }
    return { median_us: median(means), min_us: Math.min(...means), calls: batches * size };
  }

  const out = { crossOriginIsolated: globalThis.crossOriginIsolated ?? null, scenarios: [], breakdown: {} };
  // Loading the bundle: the first call runs baseline-compiled Wasm (what a page view pays once per
  // engine), the median of the next 20 runs optimized code (the like-for-like number).
  const loads = [];
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    const e = open();
    loads.push((performance.now() - t0) * 1000);
    e.free();
  }
  out.load = { first_us: loads[0], median_us: median(loads.slice(1)), min_us: Math.min(...loads), calls: loads.length };

  const engine = open();
  for (const s of scenarios) {
    engine.setProfile(profiles[s.profile]);
    const got = engine.decideSettling(s.request, now);
    const r = time(() => engine.decideSettling(s.request, now), iterations);
    out.scenarios.push({ name: s.name, ...r, same_as_native: got === s.decision, request_bytes: s.request.length, decision_bytes: got.length });
  }

  // The whole page, taken apart from the JS side.
  const page = scenarios.find((s) => s.name === 'page_category');
  engine.setProfile(profiles[page.profile]);
  const reqObj = JSON.parse(page.request);
  const decision = engine.decideSettling(page.request, now);
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const buf = new Uint8Array(1 << 16);
  const bytes = enc.encode(decision);
  out.breakdown = {
    // What the loader adds around the call: its request object to JSON, the decision back to objects.
    js_stringify_request: time(() => JSON.stringify(reqObj), iterations),
    js_parse_decision: time(() => JSON.parse(decision), iterations),
    loader_style_call: time(() => JSON.parse(engine.decideSettling(JSON.stringify(reqObj), now)), iterations),
    // The fixed price of a call: an empty request in, an empty decision out.
    empty_request: time(() => engine.decideSettling('{}', now), iterations),
    // What the glue does with the strings themselves (UTF-8 in and out of linear memory), roughly.
    utf8_request_in: time(() => enc.encodeInto(page.request, buf), iterations),
    utf8_decision_out: time(() => dec.decode(bytes), iterations),
  };
  engine.free();
  return out;
}

/** Samples V8's profiler over the whole-page scenario on the named build; time by phase. */
async function profilePhases(browser, base, input) {
  const page = await browser.newPage();
  await page.goto(`${base}/profile.html`);
  await page.evaluate(async (input) => {
    await wasm_bindgen({ module_or_path: '/pkg/vitrine_snippet_bg.wasm' });
    const s = input.scenarios.find((x) => x.name === 'page_category');
    const e = new wasm_bindgen.Vitrine(input.bundleText);
    for (const [path, bytes] of input.shardFiles) e.addShard(path, new Uint8Array(bytes));
    e.setProfile(input.profiles[s.profile]);
    window.__run = (ms) => { const end = performance.now() + ms; let n = 0; while (performance.now() < end) { e.decideSettling(s.request, 0); n++; } return n; };
    window.__run(500); // warm-up and tier-up before sampling
  }, input);
  // Phases by the outermost frame that names one (Rust names are mangled: `serde_json..de..`).
  // Requests are read and decisions written by the engine's own JSON code (engine/src/base/json.rs).
  const phases = [
    ['request parse (engine json)', /Request[^a-z]*from_json|Request[^a-z]*read|json[^a-z]*(Parser|At|Obj)[^a-z]/],
    ['decision serialize (engine json)', /Decision[^a-z]*to_json|json[^a-z]*Writer|Trace[^a-z]*write/],
    ['decide (engine)', /vitrine_engine/],
  ];
  const result = await profilePage(page, 3000, (stack, leaf) => {
    for (const f of stack) {
      const hit = phases.find(([, re]) => re.test(f.functionName));
      if (hit) return hit[0];
    }
    const wasm = leaf.url.includes('wasm') || /^\$|^_ZN|wasm-function/.test(leaf.functionName);
    return leaf.functionName === '(garbage collector)' ? 'JS garbage collector'
      : wasm ? 'other Wasm (adapter, allocator, memcpy)' : 'JS glue (strings in and out, call)';
  });
  await page.close();
  return result;
}

/** The same glue and Wasm in Node: the shipped worker script evaluated in a vm context. */
async function benchNode(input) {
  const ctx = { console, performance, TextEncoder, TextDecoder, URL };
  ctx.self = ctx;
  ctx.globalThis = ctx;
  vm.createContext(ctx);
  vm.runInContext(readFileSync(join(opt.dist, 'vitrine-worker.js'), 'utf8'), ctx, { filename: 'vitrine-worker.js' });
  // The init argument is made inside the context: the glue checks its prototype against its own realm's.
  const init = vm.runInContext('(bytes) => { wasm_bindgen.initSync({ module: new WebAssembly.Module(bytes) }); return wasm_bindgen; }', ctx);
  return benchWasm(init(readFileSync(join(opt.dist, 'vitrine_bg.wasm'))), input);
}

const doc = loadScenarios();
const whole = browserBundle(doc.bundle);
const input = {
  bundleText: whole.head,
  shardFiles: whole.files,
  profiles: doc.profiles,
  scenarios: doc.scenarios,
  iterations: Number(opt.iterations),
};
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1)).padStart(8);
const result = { date: new Date().toISOString(), dist: opt.dist, wasm_bytes: readFileSync(join(opt.dist, 'vitrine_bg.wasm')).length };

const files = {
  // The engine the loader runs in its worker, here on the page itself.
  '/': '<!doctype html><title>recs latency</title><script src="/vitrine/vitrine-worker.js"></script>',
  '/profile.html': '<!doctype html><title>recs profile</title><script src="/pkg/vitrine_snippet.js"></script>',
  '/vitrine/vitrine-worker.js': readFileSync(join(opt.dist, 'vitrine-worker.js')),
  '/vitrine/vitrine_bg.wasm': readFileSync(join(opt.dist, 'vitrine_bg.wasm')),
  '/vitrine/bundle.json': input.bundleText,
  '/favicon.ico': '',
};
if (opt.profile) {
  files['/pkg/vitrine_snippet.js'] = readFileSync(join(root, 'js-snippet/pkg/prod/vitrine_snippet.js')) + readFileSync(join(root, 'js-snippet/api.js'));
  files['/pkg/vitrine_snippet_bg.wasm'] = readFileSync(join(root, 'js-snippet/pkg/prod/vitrine_snippet_bg.wasm'));
}
const server = await startIsolatedServer(files);
const browser = await launch();
try {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'warning' || m.type() === 'error') console.error('[page]', m.text()); });
  await page.goto(`${server.url}/`);
  await page.evaluate(() => wasm_bindgen({ module_or_path: '/vitrine/vitrine_bg.wasm' }));
  result.chromium = await page.evaluate(async ([src, input]) => {
    const fn = (0, eval)(`(${src})`);
    return fn(wasm_bindgen, input);
  }, [benchWasm.toString(), input]);
  result.chromium.version = browser.browser()?.version() ?? null;
  if (opt.profile) result.profile = await profilePhases(browser, server.url, input);
} finally {
  await browser.close();
  server.close();
}
if (!opt['skip-node']) result.node = await benchNode(input);

const node = new Map((result.node?.scenarios || []).map((s) => [s.name, s]));
console.log(`Wasm ${result.wasm_bytes} bytes (${opt.dist}); Chromium cross-origin isolated: ${result.chromium.crossOriginIsolated}`);
console.log('scenario                      chromium µs (min)      node µs   same answer as native');
for (const s of result.chromium.scenarios) {
  const n = node.get(s.name);
  console.log(`${s.name.padEnd(28)} ${fmt(s.median_us)} (${fmt(s.min_us).trim()})  ${n ? fmt(n.median_us) : '       -'}   ${s.same_as_native}`);
}
console.log(`${'bundle load (head + shards)'.padEnd(28)} ${fmt(result.chromium.load.median_us)} (first ${fmt(result.chromium.load.first_us).trim()})  ${result.node ? fmt(result.node.load.median_us) : ''}`);
console.log('breakdown (page_category, Chromium):');
for (const [k, v] of Object.entries(result.chromium.breakdown)) console.log(`  ${k.padEnd(24)} ${fmt(v.median_us)} µs`);
if (result.profile) {
  console.log(`profile (page_category, js-snippet/pkg/prod build, ${result.profile.calls} calls, ${result.profile.samples} samples):`);
  for (const p of result.profile.phases) console.log(`  ${p.name.padEnd(42)} ${p.percent.toFixed(1).padStart(5)} %`);
  console.log('  top self time:');
  for (const p of result.profile.top_self) console.log(`    ${p.percent.toFixed(1).padStart(5)} %  ${p.name.slice(0, 110)}`);
}
if (opt.json) writeFileSync(opt.json, JSON.stringify(result, null, 2) + '\n');
