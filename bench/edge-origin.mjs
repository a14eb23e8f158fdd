// Origin mode, measured on loopback in one run: the worker (local workerd, wrangler dev) in front of
// the demo shop's own server. The same 50 KB page four ways: from the origin directly, through the
// worker on a bypass path (pass-through), through the worker for an anonymous visitor, and
// personalized for the lapsed persona. Sequential latency (p50/p99 to the last byte), then
// requests/s with a bounded number of concurrent clients; and cold starts: the first page after
// a fresh isolate (which loads the edge bundle) against the warm median; and memory before and
// after each kind of traffic, broken input included (a corrupt edge bundle: every page passes
// through): workerd's resident set, next to a pure-JS proxy worker in the same wrangler dev as the
// baseline, and the Wasm instance's linear memory (the test hook). A benchmark, not a test:
// wrangler dev adds its own proxy hop, so compare the rows with each other.
//
//   node bench/edge-origin.mjs [--n 300] [--concurrency 8] [--total 800] [--cold 3] [--json FILE]
//
// Writes build/bench/page-50k.html (the page, also read by edge-worker/benches/rewrite.rs).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEdge, configVariant, root, dist, sign } from '../tests/lib/edge.mjs';

const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '8' },
    total: { type: 'string', default: '800' },
    cold: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const N = Number(opt.n);
const C = Number(opt.concurrency);
const TOTAL = Number(opt.total);
const COLD = Number(opt.cold);

/** The demo home page grown to 50 KB with editorial text before </main>: a typical shop page weight. */
function page50k() {
  const home = readFileSync(join(dist, 'index.html'), 'utf8');
  const para = '<p>Our candles are poured by hand in small batches, with cotton wicks and a clean burn of about forty hours; every order is wrapped in recycled paper and ships within two working days.</p>\n';
  let filler = '<section class="section about">\n';
  while (Buffer.byteLength(home) + filler.length < 50_000) filler += para;
  return home.replace('</main>', `${filler}</section>\n</main>`);
}

const PAGE = page50k();
mkdirSync(join(root, 'build', 'bench'), { recursive: true });
writeFileSync(join(root, 'build', 'bench', 'page-50k.html'), PAGE);

const personas = JSON.parse(readFileSync(join(dist, 'personas.json'), 'utf8'));
const VID = (personas.find((p) => /lapsed/i.test(p.label)) ?? personas[0]).vid;
const SNAPSHOT = readFileSync(join(root, 'build', 'profiles.jsonl'), 'utf8').split('\n').find((l) => l.includes(`"id":"${VID}"`));
const serve = (req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'public, max-age=60' }).end(PAGE);
const ROUTES = { '/big': serve, '/bypass/big': serve };
const edgeOptions = { profiles: { [VID]: SNAPSHOT }, routes: ROUTES, vars: ['VITRINE_BYPASS:/bypass/', 'VITRINE_TEST_HOOKS:on'] };
const COOKIE = { cookie: `vitrine_vid=${sign(VID)}` };

async function once(url, headers, expect) {
  const t0 = performance.now();
  const res = await fetch(url, { headers });
  const body = await res.arrayBuffer();
  const ms = performance.now() - t0;
  const x = res.headers.get('x-vitrine');
  if (res.status !== 200 || !expect(x) || body.byteLength < 40_000) throw new Error(`${url}: ${res.status} x-vitrine=${x} ${body.byteLength} bytes`);
  return ms;
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** The Wasm instance's linear memory in bytes, where the worker has Vitrine's test hooks. */
async function wasmBytes(edge) {
  const res = await fetch(edge.base + '/__vitrine/memory');
  return res.ok ? (await res.json()).wasm_bytes : undefined;
}

async function measure(kind, url, headers, expect, edge) {
  for (let i = 0; i < 20; i++) await once(url, headers, expect);
  const before = edge?.memory();
  const wasmBefore = edge && await wasmBytes(edge);
  const xs = [];
  for (let i = 0; i < N; i++) xs.push(await once(url, headers, expect));
  xs.sort((a, b) => a - b);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, async () => {
    while (next++ < TOTAL) await once(url, headers, expect);
  }));
  const rps = TOTAL / ((performance.now() - t0) / 1000);
  const wasm = wasmBefore === undefined ? undefined : [wasmBefore, await wasmBytes(edge)];
  return { kind, p50_ms: pct(xs, 50), p99_ms: pct(xs, 99), rps, rss_kb: edge && [before, edge.memory()], wasm_bytes: wasm };
}

/** The demo's configuration (in `dir`) running a pure-JS worker that proxies the same origin: the baseline. */
function proxyConfig(dir) {
  const proxy = join(dir, 'proxy.mjs');
  writeFileSync(proxy, `export default { fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.VITRINE_ORIGIN + url.pathname + url.search, { headers: request.headers });
  } };\n`);
  const file = configVariant(join(dir, 'js'));
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^main = .*$/m, `main = ${JSON.stringify(proxy)}`));
  return file;
}

const edge = await startEdge(edgeOptions);
let rows;
try {
  rows = [
    await measure('origin directly', `${edge.origin}/big`, {}, (x) => x === null),
    await measure('worker, pass-through (bypass path)', `${edge.base}/bypass/big`, COOKIE, (x) => x === null, edge),
    await measure('worker, anonymous', `${edge.base}/big`, {}, (x) => x === 'default; reason=no-cookie', edge),
    await measure('worker, personalized', `${edge.base}/big`, COOKIE, (x) => x === 'personalized', edge),
  ];
} finally {
  await edge.close();
}
// Broken input: the same worker over a corrupt edge bundle (every page passes through, the
// failure cached and retried every 10 s).
const tmp = mkdtempSync(join(tmpdir(), 'vitrine-bench-'));
try {
  const configFile = configVariant(tmp, (dir) => {
    const b = join(dir, 'edge', 'bundle.json');
    writeFileSync(b, readFileSync(b, 'utf8').slice(0, 100_000));
  });
  const broken = await startEdge({ ...edgeOptions, configFile });
  try {
    rows.push(await measure('worker, corrupt bundle (broken input)', `${broken.base}/big`, COOKIE, (x) => x === 'bypass; reason=bundle', broken));
  } finally {
    await broken.close();
  }
  // The baseline for the runtime's own growth: a pure-JS worker proxying the same origin.
  const js = await startEdge({ ...edgeOptions, configFile: proxyConfig(tmp) });
  try {
    rows.push(await measure('baseline: a pure-JS proxy worker', `${js.base}/big`, COOKIE, (x) => x === null, js));
  } finally {
    await js.close();
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

// Cold starts: a fresh wrangler dev each time; its readiness probe starts the isolate, so the first
// page is the first to load the edge bundle. The pure-JS proxy's own first page, alternated with
// Vitrine's, is the platform's share (first connection to the origin, first KV-less fetch).
async function coldStart(options, expect) {
  const e = await startEdge(options);
  try {
    const url = `${e.base}/big`;
    const first = await once(url, COOKIE, expect);
    const warm = [];
    for (let j = 0; j < 30; j++) warm.push(await once(url, COOKIE, expect));
    warm.sort((a, b) => a - b);
    return { first_ms: first, warm_p50_ms: pct(warm, 50), added_ms: first - pct(warm, 50) };
  } finally {
    await e.close();
  }
}
const cold = [];
const coldJs = [];
const jsTmp = mkdtempSync(join(tmpdir(), 'vitrine-bench-'));
try {
  const jsFile = proxyConfig(jsTmp);
  for (let i = 0; i < COLD; i++) {
    cold.push(await coldStart(edgeOptions, (x) => x === 'personalized'));
    coldJs.push(await coldStart({ ...edgeOptions, configFile: jsFile }, (x) => x === null));
  }
} finally {
  rmSync(jsTmp, { recursive: true, force: true });
}

const f = (x) => x.toFixed(2).padStart(8);
console.log(`## Edge in origin mode (wrangler dev, local workerd, loopback): a ${PAGE.length}-byte page, persona ${VID}`);
console.log(`Sequential: ${N} requests each after 20 warm-up; concurrent: ${TOTAL} requests over ${C} clients. Memory: after the warm-up and after both loads (one worker runs pass-through, anonymous and personalized in turn; the corrupt bundle and the pure-JS baseline have their own).\n`);
console.log('| path | p50 ms | p99 ms | requests/s | workerd RSS before → after, MB | Wasm memory before → after, KB |');
console.log('|---|---:|---:|---:|---:|---:|');
const mb = (kb) => (kb / 1024).toFixed(0);
for (const r of rows) {
  const rss = r.rss_kb ? `${mb(r.rss_kb[0])} → ${mb(r.rss_kb[1])}` : '-';
  const wasm = r.wasm_bytes ? `${r.wasm_bytes[0] / 1024} → ${r.wasm_bytes[1] / 1024}` : '-';
  console.log(`| ${r.kind} | ${f(r.p50_ms)} | ${f(r.p99_ms)} | ${r.rps.toFixed(0).padStart(6)} | ${rss} | ${wasm} |`);
}
const base = rows[1];
console.log(`\nPersonalized vs pass-through through the same worker: p50 ${(rows[3].p50_ms / base.p50_ms).toFixed(2)}x ` +
  `(+${(rows[3].p50_ms - base.p50_ms).toFixed(2)} ms), requests/s ${(rows[3].rps / base.rps).toFixed(2)}x; ` +
  `pass-through vs origin directly: p50 ${(base.p50_ms / rows[0].p50_ms).toFixed(2)}x.`);
console.log('\nCold start (first personalized page after the isolate starts: edge bundle load, KV, rewrite), against the pure-JS proxy\'s first page, alternated:\n');
console.log('| run | Vitrine first ms | warm p50 ms | added ms | pure-JS proxy first ms | warm p50 ms | added ms |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
cold.forEach((c, i) => console.log(`| ${i + 1} | ${f(c.first_ms)} | ${f(c.warm_p50_ms)} | ${f(c.added_ms)} | ${f(coldJs[i].first_ms)} | ${f(coldJs[i].warm_p50_ms)} | ${f(coldJs[i].added_ms)} |`));
if (opt.json) writeFileSync(opt.json, JSON.stringify({ date: new Date().toISOString(), page_bytes: PAGE.length, vid: VID, rows, cold, cold_js_proxy: coldJs }, null, 2) + '\n');
