// Edge latency, measured against a running `wrangler dev` (scripts/serve.sh): N sequential requests
// each of a personalized page, the same page for an anonymous visitor, and a plain asset the worker
// passes through without rewriting. Prints median and p95 of time-to-headers and time-to-last-byte.
//
//   node bench/edge-latency.mjs [--base http://127.0.0.1:8787] [--n 200] [--vid c-13093]
//                               [--page /] [--asset /shop.css] [--json bench/results/<date>-edge.json]
//
// A benchmark, not a test: wrangler dev adds its own proxy hop, so compare the three kinds with each
// other rather than with production numbers.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    base: { type: 'string', default: 'http://127.0.0.1:8787' },
    n: { type: 'string', default: '200' },
    vid: { type: 'string' },
    page: { type: 'string', default: '/' },
    asset: { type: 'string', default: '/shop.css' },
    json: { type: 'string' },
  },
});
const N = Number(opt.n);

/** The demo's lapsed persona, else the first persona: someone the seeded KV has a profile for. */
function defaultVid() {
  try {
    const personas = JSON.parse(readFileSync(join(root, 'demo-shop', 'dist', 'personas.json'), 'utf8'));
    return (personas.find((p) => /lapsed/i.test(p.label)) ?? personas[0]).vid;
  } catch {
    throw new Error('no --vid given and demo-shop/dist/personas.json unreadable');
  }
}

async function cookieFor(vid) {
  // The worker's own switcher signs the cookie, so this works with whatever secret it runs with.
  const res = await fetch(`${opt.base}/__vitrine/demo/become?vid=${encodeURIComponent(vid)}&next=/`, { redirect: 'manual' });
  const set = res.headers.getSetCookie()[0];
  if (res.status !== 302 || !set) throw new Error(`/__vitrine/demo/become answered ${res.status} (is VITRINE_DEMO on?)`);
  return set.split(';')[0];
}

async function once(path, cookie) {
  const t0 = performance.now();
  const res = await fetch(opt.base + path, { headers: cookie ? { cookie } : {} });
  const t1 = performance.now();
  await res.arrayBuffer();
  const t2 = performance.now();
  return { status: res.status, vitrine: res.headers.get('x-vitrine'), headers: t1 - t0, total: t2 - t0 };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: pct(s, 50), p95: pct(s, 95) };
}

async function run(kind, path, cookie, expect) {
  for (let i = 0; i < 10; i++) await once(path, cookie); // warm the isolate and the bundle cache
  const samples = [];
  for (let i = 0; i < N; i++) samples.push(await once(path, cookie));
  const bad = samples.find((s) => s.status !== 200 || !expect(s.vitrine));
  if (bad) throw new Error(`${kind}: unexpected response ${bad.status} x-vitrine=${bad.vitrine}`);
  const h = stats(samples.map((s) => s.headers));
  const t = stats(samples.map((s) => s.total));
  return { kind, path, n: N, headers_ms: h, total_ms: t, x_vitrine: samples[0].vitrine };
}

const vid = opt.vid ?? defaultVid();
const cookie = await cookieFor(vid);
const results = [
  await run('personalized', opt.page, cookie, (v) => v === 'personalized'),
  await run('default', opt.page, undefined, (v) => v?.startsWith('default')),
  await run('plain asset', opt.asset, cookie, (v) => v === null),
];
const f = (x) => x.toFixed(2).padStart(7);
console.log(`edge latency, ${N} sequential requests each, ${opt.base} (visitor ${vid})`);
console.log('kind           path                  headers median/p95 ms   last byte median/p95 ms');
for (const r of results) {
  console.log(`${r.kind.padEnd(14)} ${r.path.padEnd(20)}  ${f(r.headers_ms.median)} / ${f(r.headers_ms.p95)}     ${f(r.total_ms.median)} / ${f(r.total_ms.p95)}`);
}
if (opt.json) {
  writeFileSync(opt.json, JSON.stringify({ date: new Date().toISOString(), base: opt.base, vid, results }, null, 2) + '\n');
}
