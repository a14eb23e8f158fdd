// Origin mode, measured on loopback in one run: the worker (local workerd, wrangler dev) in front of
// the demo shop's own server. The same 50 KB page four ways: from the origin directly, through the
// worker on a bypass path (pass-through), through the worker for an anonymous visitor, and
// personalized for the lapsed persona. Sequential latency (p50/p99 to the last byte), then
// requests/s with a bounded number of concurrent clients; and cold starts: the first page after
// a fresh isolate (which loads the edge bundle) against the warm median; and the runtime's memory
// (workerd's resident set) before and after each kind of traffic, broken input included (a
// corrupt edge bundle: every page passes through). A benchmark, not a test:
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
const edgeOptions = { profiles: { [VID]: SNAPSHOT }, routes: ROUTES, vars: ['VITRINE_BYPASS:/bypass/'] };
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

async function measure(kind, url, headers, expect, edge) {
  for (let i = 0; i < 20; i++) await once(url, headers, expect);
  const before = edge?.memory();
  const xs = [];
  for (let i = 0; i < N; i++) xs.push(await once(url, headers, expect));
  xs.sort((a, b) => a - b);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, async () => {
    while (next++ < TOTAL) await once(url, headers, expect);
  }));
  const rps = TOTAL / ((performance.now() - t0) / 1000);
  return { kind, p50_ms: pct(xs, 50), p99_ms: pct(xs, 99), rps, rss_kb: edge && [before, edge.memory()] };
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
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

// Cold starts: a fresh wrangler dev each time; its readiness probe starts the isolate, so the first
// page is the first to load the edge bundle.
const cold = [];
for (let i = 0; i < COLD; i++) {
  const e = await startEdge(edgeOptions);
  try {
    const url = `${e.base}/big`;
    const first = await once(url, COOKIE, (x) => x === 'personalized');
    const warm = [];
    for (let j = 0; j < 30; j++) warm.push(await once(url, COOKIE, (x) => x === 'personalized'));
    warm.sort((a, b) => a - b);
    cold.push({ first_ms: first, warm_p50_ms: pct(warm, 50), added_ms: first - pct(warm, 50) });
  } finally {
    await e.close();
  }
}

const f = (x) => x.toFixed(2).padStart(8);
console.log(`## Edge in origin mode (wrangler dev, local workerd, loopback): a ${PAGE.length}-byte page, persona ${VID}`);
console.log(`Sequential: ${N} requests each after 20 warm-up; concurrent: ${TOTAL} requests over ${C} clients. Memory: after the warm-up and after both loads (one worker runs pass-through, anonymous and personalized in turn; the corrupt bundle has its own).\n`);
console.log('| path | p50 ms | p99 ms | requests/s | workerd RSS before → after, MB |');
console.log('|---|---:|---:|---:|---:|');
const mb = (kb) => (kb / 1024).toFixed(0);
for (const r of rows) {
  const rss = r.rss_kb ? `${mb(r.rss_kb[0])} → ${mb(r.rss_kb[1])}` : '-';
  console.log(`| ${r.kind} | ${f(r.p50_ms)} | ${f(r.p99_ms)} | ${r.rps.toFixed(0).padStart(6)} | ${rss} |`);
}
const base = rows[1];
console.log(`\nPersonalized vs pass-through through the same worker: p50 ${(rows[3].p50_ms / base.p50_ms).toFixed(2)}x ` +
  `(+${(rows[3].p50_ms - base.p50_ms).toFixed(2)} ms), requests/s ${(rows[3].rps / base.rps).toFixed(2)}x; ` +
  `pass-through vs origin directly: p50 ${(base.p50_ms / rows[0].p50_ms).toFixed(2)}x.`);
console.log('\nCold start (first personalized page after the isolate starts: edge bundle load, KV, rewrite):\n');
console.log('| run | first ms | warm p50 ms | added ms |');
console.log('|---|---:|---:|---:|');
cold.forEach((c, i) => console.log(`| ${i + 1} | ${f(c.first_ms)} | ${f(c.warm_p50_ms)} | ${f(c.added_ms)} |`));
if (opt.json) writeFileSync(opt.json, JSON.stringify({ date: new Date().toISOString(), page_bytes: PAGE.length, vid: VID, rows, cold }, null, 2) + '\n');
