// Cold starts of the edge in origin mode (wrangler dev, local workerd, loopback): a fresh worker per
// run; the first personalized navigation (first KV read, first rewrite and decisions, and the edge
// bundle parsed unless the worker parsed it at isolate start) against the warm median, for origins
// answering in 0, 30 and 80 ms. Two configurations in the same run, alternating: the shipped one
// (the edge bundle built into the worker and parsed at isolate start, js/entry.mjs) and one without
// it (aliased to edge-worker/js/no-bundle.txt: the first page loads the bundle from the assets).
// Writes bench/results/<date>-edge-cold[-N].md (never over an earlier result of the same day).
// Bounded: 4 runs x 3 latencies x 2 configurations x 23 requests.
//
//   node bench/edge-cold.mjs
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEdge, configVariant, sign, root, dist } from '../tests/lib/edge.mjs';

const PAGE = readFileSync(join(root, 'build', 'bench', 'page-50k.html'), 'utf8'); // bench/edge-origin.mjs writes it
const personas = JSON.parse(readFileSync(join(dist, 'personas.json'), 'utf8'));
const VID = (personas.find((p) => /lapsed/i.test(p.label)) ?? personas[0]).vid;
const SNAPSHOT = readFileSync(join(root, 'build', 'profiles.jsonl'), 'utf8').split('\n').find((l) => l.includes(`"id":"${VID}"`));
const H = { cookie: `vitrine_vid=${sign(VID)}`, accept: 'text/html' };
const RUNS = 4;

async function once(url, headers, expect) {
  const t0 = performance.now();
  const r = await fetch(url, { headers });
  await r.arrayBuffer();
  if (r.headers.get('x-vitrine') !== expect) throw new Error(`${url}: x-vitrine=${r.headers.get('x-vitrine')}`);
  return performance.now() - t0;
}

const scratch = mkdtempSync(join(tmpdir(), 'vitrine-cold-'));
const configs = { 'built in': undefined, 'from the assets': configVariant(scratch, undefined, undefined, { builtIn: null }) };

const rows = [];
try {
  for (const originMs of [0, 30, 80]) {
    const serve = (req, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE), originMs);
    for (let run = 1; run <= RUNS; run++) {
      for (const [bundle, configFile] of Object.entries(configs)) {
        const e = await startEdge({ profiles: { [VID]: SNAPSHOT }, routes: { '/big': serve }, configFile });
        try {
          const first = await once(e.base + '/big', H, 'personalized');
          const warm = [];
          for (let j = 0; j < 21; j++) warm.push(await once(e.base + '/big', H, 'personalized'));
          warm.sort((a, b) => a - b);
          rows.push({ originMs, run, bundle, first, warm: warm[10], added: first - warm[10] });
        } finally {
          await e.close();
        }
      }
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const f = (x) => x.toFixed(1).padStart(7);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const summary = [];
for (const originMs of [0, 30, 80]) {
  for (const bundle of Object.keys(configs)) {
    const added = rows.filter((r) => r.originMs === originMs && r.bundle === bundle).map((r) => r.added);
    summary.push(`| ${originMs} | ${bundle} | ${f(median(added))} | ${f(Math.min(...added))} | ${f(Math.max(...added))} |`);
  }
}
const date = new Date().toISOString().slice(0, 10);
let out = join(root, 'bench', 'results', `${date}-edge-cold.md`);
for (let n = 2; existsSync(out); n++) out = join(root, 'bench', 'results', `${date}-edge-cold-${n}.md`);
const md = [
  `# Edge cold start, ${date}`,
  '',
  `First personalized navigation after the worker starts vs the warm median (${PAGE.length}-byte page, persona ${VID}; wrangler dev, loopback, shared 2-core machine), ${RUNS} fresh workers per row, the two configurations alternating. "built in": the edge bundle is part of the worker and parsed at isolate start (the shipped configuration); "from the assets": the first page loads and parses it. Budget: at most 50 ms added.`,
  '',
  '| origin answers in ms | edge bundle | added ms, median | min | max |',
  '|---:|---|---:|---:|---:|',
  ...summary,
  '',
  'Every run:',
  '',
  '| origin answers in ms | edge bundle | run | first ms | warm p50 ms | added ms |',
  '|---:|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.originMs} | ${r.bundle} | ${r.run} | ${f(r.first)} | ${f(r.warm)} | ${f(r.added)} |`),
  '',
].join('\n');
writeFileSync(out, md);
console.log(md);
