// Snippet timing in real Chromium: N loads of a page (default: home as the lapsed persona through
// the running edge worker), reading window.vitrine.timing (loader start -> decisions applied, which
// includes fetching and compiling the Wasm and parsing bundle.json, and any model shards). Prints
// median and p95 in ms for a first visit (cache cleared), the same with the edge's shard preloads
// removed from the page, and a cached reload.
//
//   node bench/snippet-timing.mjs [--base http://127.0.0.1:8787] [--n 15] [--vid c-13093] [--json FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { launch } from '../tests/lib/chromium.mjs';

const { values: opt } = parseArgs({
  options: {
    base: { type: 'string', default: 'http://127.0.0.1:8787' },
    n: { type: 'string', default: '15' },
    vid: { type: 'string', default: '' },
    json: { type: 'string' },
  },
});
const median = (xs, key) => quantile(xs.map((x) => x[key]), 0.5);
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(`${opt.base}/__vitrine/demo/become?vid=${encodeURIComponent(opt.vid)}&next=/`);
  const client = await page.context().newCDPSession(page);
  const load = async (bucket) => {
    await page.goto(`${opt.base}/`);
    await page.waitForSelector('html[data-vitrine-ready]', { state: 'attached', timeout: 15000 });
    bucket.push(await page.evaluate(() => window.vitrine.timing));
  };
  const cold = [];
  const warm = [];
  for (let i = 0; i < Number(opt.n); i++) {
    // Alternate a cache-cleared load (first visit) with a normal reload (next page view).
    await client.send('Network.clearBrowserCache');
    await load(cold);
    await load(warm);
  }
  // What the edge's shard preloads save on a first visit: both arms through one Playwright route
  // (which intercepts every request of the page, so its times are longer than the above); one arm
  // has the preload links removed. The arms alternate which goes first.
  const preloaded = [];
  const stripped = [];
  let strip = false;
  await page.route((url) => url.pathname === '/', async (route) => {
    const res = await route.fetch();
    let body = await res.text();
    if (strip) body = body.replace(/<link rel="preload" as="fetch"[^>]*>/g, '');
    await route.fulfill({ response: res, body });
  });
  for (let i = 0; i < Number(opt.n); i++) {
    for (const s of i % 2 ? [true, false] : [false, true]) {
      strip = s;
      await client.send('Network.clearBrowserCache');
      await load(s ? stripped : preloaded);
    }
  }
  const summary = (xs) => ({
    median: median(xs, 'ms'), p95: quantile(xs.map((x) => x.ms), 0.95),
    inputs_median: median(xs, 'inputs'), engine_median: median(xs, 'engine'),
  });
  const result = { date: new Date().toISOString(), vid: opt.vid, n: cold.length, cold_ms: summary(cold), warm_ms: summary(warm),
    routed_cold_ms: summary(preloaded), routed_cold_without_preloads_ms: summary(stripped) };
  const rows = [['first visit', result.cold_ms], ['cached', result.warm_ms],
    ['first visit, routed', result.routed_cold_ms], ['first visit, routed, edge preloads removed', result.routed_cold_without_preloads_ms]];
  for (const [label, r] of rows) {
    console.log(`snippet start -> applied, ${label}: median ${r.median.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms ` +
      `(Wasm + bundle ready at ${r.inputs_median.toFixed(1)} ms, bundle parsed at ${r.engine_median.toFixed(1)} ms)`);
  }
  console.log(`first visit (routed) with / without the edge's shard preloads: ${(result.routed_cold_ms.median / result.routed_cold_without_preloads_ms.median).toFixed(2)}x (medians)`);
  if (opt.json) writeFileSync(opt.json, JSON.stringify(result, null, 2) + '\n');
} finally {
  await browser.close();
}
