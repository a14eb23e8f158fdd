// What Vitrine costs a page in real Chromium, first visits, against the same page with Vitrine's
// requests blocked, in one run: total blocking time (TBT: the part of every main-thread task beyond
// 50 ms, from navigation until the page is quiet), the last DOM change inside any placement
// relative to the page's own load event, and the bytes Vitrine adds (decoded and transferred).
// Pages: home and a product page; visitors: new, new with consent granted in the banner on an
// earlier page (the demo's `shop_consent` cookie), and a returning customer through the edge.
// With CPU throttling (default 4x, a mid-range phone) and without.
//
//   node bench/page-cost.mjs --base http://127.0.0.1:8787 [--n 7] [--vid c-13093] [--product 84879] [--json FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { launch } from '../tests/lib/chromium.mjs';

const { values: opt } = parseArgs({
  options: {
    base: { type: 'string', default: 'http://127.0.0.1:8787' },
    n: { type: 'string', default: '7' },
    vid: { type: 'string', default: 'c-13093' },
    product: { type: 'string', default: '84879' },
    json: { type: 'string' },
  },
});
const N = Number(opt.n);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };

// Long tasks and placement changes, recorded from the first script on.
const PROBE = () => {
  const w = window;
  w.__cost = { longtasks: [], lastChange: null };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__cost.longtasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
  document.addEventListener('DOMContentLoaded', () => {
    new MutationObserver((records) => {
      for (const m of records) {
        const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
        if (el && el.closest('[data-vitrine-slot],[data-vitrine-list],[data-vitrine-recs]')) w.__cost.lastChange = performance.now();
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
};

async function visit(context, url, { blocked, throttle, cookies }) {
  await context.clearCookies();
  if (cookies.length) await context.addCookies(cookies);
  const page = await context.newPage();
  const client = await context.newCDPSession(page);
  await client.send('Network.clearBrowserCache');
  await client.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  await page.addInitScript(PROBE);
  if (blocked) await page.route((u) => u.pathname.startsWith('/vitrine/'), (route) => route.abort());
  await page.goto(url, { waitUntil: 'load' });
  // Quiet: no new long task or placement change for a second (and, with Vitrine, the snippet has
  // applied its decision). Both arms make the same calls: Playwright's selector waits inject a
  // large script of their own, whose compilation is a long task the page would be charged for.
  let before = '';
  for (let waited = 0; ; waited += 1000) {
    await page.waitForTimeout(1000);
    const now = await page.evaluate(() => JSON.stringify([window.__cost, document.documentElement.hasAttribute('data-vitrine-ready')]));
    if (now === before && (blocked || JSON.parse(now)[1])) break;
    if (waited > 30000) throw new Error(`${url}: the snippet did not apply a decision within 30 s`);
    before = now;
  }
  const r = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const ours = performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname.startsWith('/vitrine/'));
    return {
      tbt: window.__cost.longtasks.reduce((s, [, d]) => s + Math.max(0, d - 50), 0),
      load: nav.loadEventEnd,
      lastChange: window.__cost.lastChange,
      decoded: ours.reduce((s, e) => s + e.decodedBodySize, 0),
      transferred: ours.reduce((s, e) => s + e.transferSize, 0),
      applied: window.vitrine ? window.vitrine.timing.applied : null,
      // Placements the snippet left as served (`keep`): an experiment's holdout, an edge-only rule,
      // or shards it gave up on. Such a placement changes nothing, which the row alone would hide.
      kept: window.vitrine && window.vitrine.decision
        ? ['slots', 'lists', 'recs'].reduce((n, k) => n + window.vitrine.decision[k].filter((d) => d.keep).length, 0) : 0,
    };
  });
  await page.close();
  return r;
}

const context = await launch();
const results = [];
try {
  const host = new URL(opt.base);
  // The edge's demo route signs the visitor cookie; reused for every returning-customer visit.
  const page = await context.newPage();
  await page.goto(`${opt.base}/__vitrine/demo/become?vid=${encodeURIComponent(opt.vid)}&next=/`);
  const vidCookie = (await context.cookies()).find((c) => c.name === 'vitrine_vid');
  await page.close();
  const consent = { name: 'shop_consent', value: 'granted', domain: host.hostname, path: '/' };
  const visitors = { new: [], consented: [consent], returning: [vidCookie, consent] };
  for (const throttle of [4, 1]) {
    for (const [path, label] of [['/', 'home'], [`/p/${opt.product}`, 'product']]) {
      for (const [who, cookies] of Object.entries(visitors)) {
        const on = [];
        const off = [];
        // Alternate which arm goes first, so drift on the shared machine hits both alike.
        for (let i = 0; i < N; i++) {
          for (const blocked of i % 2 ? [true, false] : [false, true]) {
            (blocked ? off : on).push(await visit(context, opt.base + path, { blocked, throttle, cookies }));
          }
        }
        const row = {
          throttle, page: label, visitor: who, n: N,
          tbt_added_ms: median(on.map((r) => r.tbt)) - median(off.map((r) => r.tbt)),
          tbt_ms: median(on.map((r) => r.tbt)), tbt_blocked_ms: median(off.map((r) => r.tbt)),
          // Among the visits where the snippet changed a placement at all (none: the page stayed as served).
          visits_with_changes: on.filter((r) => r.lastChange != null).length,
          last_change_after_load_ms: median(on.filter((r) => r.lastChange != null).map((r) => r.lastChange - r.load)),
          load_ms: median(on.map((r) => r.load)), load_blocked_ms: median(off.map((r) => r.load)),
          decoded_bytes: median(on.map((r) => r.decoded)), transferred_bytes: median(on.map((r) => r.transferred)),
          kept_max: Math.max(...on.map((r) => r.kept)),
        };
        results.push(row);
        console.log(`${throttle}x CPU, ${label}, ${who}: TBT added ${row.tbt_added_ms.toFixed(0)} ms ` +
          `(${row.tbt_ms.toFixed(0)} vs ${row.tbt_blocked_ms.toFixed(0)}), ` +
          (row.visits_with_changes ? `last placement change ${row.last_change_after_load_ms.toFixed(0)} ms after load (${row.visits_with_changes} of ${N} visits changed one) `
            : `no placement changed in any visit `) +
          `(load ${row.load_ms.toFixed(0)} vs ${row.load_blocked_ms.toFixed(0)} ms blocked), Vitrine bytes ${row.decoded_bytes} decoded / ${row.transferred_bytes} transferred` +
          (row.kept_max ? `, up to ${row.kept_max} placements left as served (keep)` : ''));
      }
    }
  }
  if (opt.json) writeFileSync(opt.json, JSON.stringify({ date: new Date().toISOString(), vid: opt.vid, results }, null, 2) + '\n');
} finally {
  await context.close();
}
