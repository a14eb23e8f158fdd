// Cold starts of the edge in origin mode (wrangler dev, local workerd, loopback): a fresh worker per
// run; the first personalized navigation (edge bundle parsed, first KV read, first rewrite, all in
// baseline-compiled code) against the warm median, for origins answering in 0, 30 and 80 ms. The
// worker loads the bundle and the profile while the origin answers, so a slower origin hides more
// of the cold work. Writes bench/results/<date>-edge-cold.md. Bounded: 3 runs x 3 latencies x 23
// requests.
//
//   node bench/edge-cold.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEdge, sign, root, dist } from '../tests/lib/edge.mjs';

const PAGE = readFileSync(join(root, 'build', 'bench', 'page-50k.html'), 'utf8'); // bench/edge-origin.mjs writes it
const personas = JSON.parse(readFileSync(join(dist, 'personas.json'), 'utf8'));
const VID = (personas.find((p) => /lapsed/i.test(p.label)) ?? personas[0]).vid;
const SNAPSHOT = readFileSync(join(root, 'build', 'profiles.jsonl'), 'utf8').split('\n').find((l) => l.includes(`"id":"${VID}"`));
const H = { cookie: `vitrine_vid=${sign(VID)}`, accept: 'text/html' };

async function once(url, headers, expect) {
  const t0 = performance.now();
  const r = await fetch(url, { headers });
  await r.arrayBuffer();
  if (r.headers.get('x-vitrine') !== expect) throw new Error(`${url}: x-vitrine=${r.headers.get('x-vitrine')}`);
  return performance.now() - t0;
}

const rows = [];
for (const originMs of [0, 30, 80]) {
  const serve = (req, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE), originMs);
  for (let run = 1; run <= 3; run++) {
    const e = await startEdge({ profiles: { [VID]: SNAPSHOT }, routes: { '/big': serve } });
    try {
      const first = await once(e.base + '/big', H, 'personalized');
      const warm = [];
      for (let j = 0; j < 21; j++) warm.push(await once(e.base + '/big', H, 'personalized'));
      warm.sort((a, b) => a - b);
      rows.push({ originMs, run, first, warm: warm[10], added: first - warm[10] });
    } finally {
      await e.close();
    }
  }
}
const f = (x) => x.toFixed(1).padStart(7);
const date = new Date().toISOString().slice(0, 10);
const md = [
  `# Edge cold start, ${date}`,
  '',
  `First personalized navigation after the worker starts vs the warm median (${PAGE.length}-byte page, persona ${VID}; wrangler dev, loopback, shared 2-core machine). Budget: at most 50 ms added.`,
  '',
  '| origin answers in ms | run | first ms | warm p50 ms | added ms |',
  '|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.originMs} | ${r.run} | ${f(r.first)} | ${f(r.warm)} | ${f(r.added)} |`),
  '',
].join('\n');
writeFileSync(join(root, 'bench', 'results', `${date}-edge-cold.md`), md);
console.log(md);
