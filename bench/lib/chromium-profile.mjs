// Shared by the Chromium benches (bench/recs-latency.mjs, bench/rules/bench.mjs): a cross-origin
// isolated page server on 127.0.0.1, and the CPU profile of a page's work summed into phases.
import { createServer } from 'node:http';
import { extname } from 'node:path';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };

/** Serves `files` (path -> body, or a function giving it); `/` and paths ending in `/` are HTML. */
export function startIsolatedServer(files) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const body = files[path];
    if (body === undefined) { res.writeHead(404).end('not found'); return; }
    // Cross-origin isolation gives performance.now() 5 µs resolution instead of 100 µs.
    res.writeHead(200, {
      'content-type': TYPES[path.endsWith('/') ? '.html' : extname(path)] || 'application/octet-stream', 'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
    }).end(typeof body === 'function' ? body() : body);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() })));
}

/**
 * Samples `page` (every 50 µs) while `window.__run(ms)` runs, then sums the samples into phases:
 * `classify(stack, leaf)` names a sample's phase from its stack (root first) and leaf frame.
 * Idle and program samples are left out. Returns calls, samples, phase shares and the 12 leaf
 * functions with the most self time.
 */
export async function profilePage(page, ms, classify) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
  await cdp.send('Profiler.start');
  const calls = await page.evaluate((ms) => window.__run(ms), ms);
  const { profile } = await cdp.send('Profiler.stop');
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const tally = new Map();
  const leafTally = new Map();
  let total = 0;
  for (const id of profile.samples) {
    const leaf = byId.get(id).callFrame;
    if (['(idle)', '(program)'].includes(leaf.functionName) && leaf.url === '') continue;
    total++;
    const stack = [];
    for (let n = id; n !== undefined; n = parent.get(n)) stack.push(byId.get(n).callFrame);
    const phase = classify(stack.reverse(), leaf);
    tally.set(phase, (tally.get(phase) || 0) + 1);
    const leafName = leaf.functionName || '(anonymous)';
    leafTally.set(leafName, (leafTally.get(leafName) || 0) + 1);
  }
  const share = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => ({ name: k, percent: (100 * v) / total }));
  return { calls, samples: total, phases: share(tally), top_self: share(leafTally).slice(0, 12) };
}
