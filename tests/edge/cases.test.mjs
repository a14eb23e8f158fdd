// The shared markup, hash and money cases (tests/cases/markup.json, hashes.json, money.json). Each markup page is personalized by the worker's
// streaming rewriter in workerd, and by the snippet in Chromium without an edge (browser-only
// mode). One extractor reads the visible result of every placement in Chromium — slot variants,
// field texts and links, each list's order as laid out (CSS `order` included), each widget's cards
// — and both must show exactly what the case states.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from '../lib/chromium.mjs';
import { startEdge, root, dist } from '../lib/edge.mjs';
import { startStatic, scriptJson } from '../lib/static-server.mjs';
import { browserBundle, OPEN_ALL } from '../lib/fixtures.mjs';

const doc = JSON.parse(readFileSync(join(root, 'tests', 'cases', 'markup.json'), 'utf8'));
// The cases' site compiled by `vitrine bundle` (scripts/build.sh) on decisions.json's catalog and model:
// the edge's bundle, and the browser's head with its shards.
const bundle = readFileSync(join(root, 'build', 'cases', 'markup-bundle.json'), 'utf8');
const browserDir = join(root, 'build', 'cases', 'markup-browser');
const markupBrowser = browserBundle(browserDir);

const page = (c, head = '') =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${c.name.replace(/[<&]/g, '')}</title>${head}</head><body ${c.body}>${c.html}</body></html>`;

// Runs in the page: what a visitor sees of each placement, in document order.
function visible() {
  const text = (el) => el.textContent.replace(/\s+/g, ' ').trim();
  const all = (root, sel) => [...root.querySelectorAll(sel)];
  return {
    slots: all(document, '[data-vitrine-slot]').map((s) => ({
      variant: s.getAttribute('data-vitrine-variant'),
      fields: all(s, '[data-vitrine-field]').map(text),
      hrefs: all(s, '[data-vitrine-href]').map((a) => a.getAttribute('href')),
    })),
    lists: all(document, '[data-vitrine-list]').map((l) => [...l.children]
      .filter((c) => c.hasAttribute('data-vitrine-item'))
      .map((c, i) => ({ id: c.getAttribute('data-vitrine-item').trim(), order: Number(getComputedStyle(c).order), i }))
      .sort((a, b) => a.order - b.order || a.i - b.i)
      .map((x) => x.id)),
    recs: all(document, '[data-vitrine-recs]').map((r) => (r.hasAttribute('data-vitrine-filled')
      ? [...r.children].filter((c) => c.tagName !== 'TEMPLATE').map((c) => {
        const img = c.querySelector('img');
        return `${text(c)}|${c.getAttribute('href')}|${img?.getAttribute('src')}|${img?.getAttribute('alt')}`;
      })
      : null)),
  };
}

let edge, browser, shop;
before(async () => {
  [edge, browser, shop] = await Promise.all([startEdge({ vars: ['VITRINE_TEST_HOOKS:on'] }), launch(), startStatic(dist)]);
});
after(async () => {
  await browser?.close();
  await shop?.close();
  await edge?.close();
});

test('markup cases: the edge worker in workerd shows what each case states', async () => {
  assert.ok(doc.cases.length >= 5);
  const tab = await browser.newPage();
  for (const c of doc.cases) {
    const input = { now: c.now, ...(c.profile ? { profile: c.profile } : {}) };
    const res = await fetch(edge.base + '/__vitrine/rewrite', { method: 'POST', body: JSON.stringify({ bundle: JSON.parse(bundle), case: input, html: page(c) }) });
    const html = await res.text();
    assert.equal(res.status, 200, `${c.name}: ${html}`);
    // Shown without any script: what the edge streamed is what the visitor sees.
    await tab.setContent(html);
    assert.deepEqual(await tab.evaluate(visible), c.expected, `edge: ${c.name}`);
  }
  await tab.close();
});

test('markup cases: the snippet in Chromium (browser-only) shows what each case states', async () => {
  for (const [i, c] of doc.cases.entries()) {
    const tab = await browser.newPage();
    const problems = [];
    tab.on('pageerror', (e) => problems.push(e.message));
    tab.on('console', (m) => { if (m.type() === 'warning' || m.type() === 'error') problems.push(m.text()); });
    // The shop's own page: the snapshot handed over as the edge would (a shop's backend may do
    // the same), the snippet and this case's bundle from /vitrine/.
    const head = (c.profile ? `<script type="application/json" id="vitrine-profile">${scriptJson(JSON.stringify(c.profile))}</script>` : '') +
      '<script async src="/vitrine/vitrine.js"></script>';
    await tab.route(`${shop.url}/markup/${i}`, (r) => r.fulfill({ contentType: 'text/html; charset=utf-8', body: page(c, head) }));
    await tab.route(/\/(img|p)\//, (r) => r.fulfill({ contentType: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg"/>' }));
    await tab.route(`${shop.url}/vitrine/bundle.json`, (r) => r.fulfill({ contentType: 'application/json', body: markupBrowser.head }));
    // The shards the snippet fetches, as a shop serves them beside the head.
    await tab.route(/\/vitrine\/[mc]-[0-9a-f]+\//, (r) => r.fulfill({ path: join(browserDir, new URL(r.request().url()).pathname.replace('/vitrine/', '')) }));
    await tab.goto(`${shop.url}/markup/${i}`);
    await tab.waitForSelector('html[data-vitrine-ready]', { state: 'attached', timeout: 15000 });
    assert.deepEqual(await tab.evaluate(visible), c.expected, `snippet: ${c.name}`);
    assert.deepEqual(problems, [], c.name);
    await tab.close();
  }
});

// Experiment assignment (tests/cases/hashes.json): visitor id and salt to bucket, read from the
// decision of the cases' site (one experiment per salt, slot `s<i>`), the native engine's test too.
const hashes = JSON.parse(readFileSync(join(root, 'tests', 'cases', 'hashes.json'), 'utf8'));
const hashBundle = readFileSync(join(root, 'build', 'cases', 'hashes-bundle.json'), 'utf8');
const hashBrowser = browserBundle(join(root, 'build', 'cases', 'hashes-browser'));
const slotOf = (salt) => `s${Object.values(hashes.site.experiments).findIndex((e) => e.salt === salt)}`;
const visitor = (id) => ({ v: 1, id, consent: { personalization: true } });

test('hash cases: the edge worker assigns every visitor the stated bucket', async () => {
  assert.ok(hashes.cases.length >= 50);
  for (const c of hashes.cases) {
    const input = { profile: visitor(c.id), now: '2026-01-01T00:00:00Z', request: { slots: [slotOf(c.salt)] } };
    const res = await fetch(edge.base + '/__vitrine/decide', { method: 'POST', body: JSON.stringify({ bundle: JSON.parse(hashBundle), case: input }) });
    const d = await res.json();
    assert.equal(Math.round(d.slots[0].experiment.bucket * 10000), c.bucket, `${c.salt} / ${c.id}`);
  }
});

test('hash cases: the Wasm build in Chromium assigns every visitor the stated bucket', async () => {
  const tab = await browser.newPage();
  await tab.goto(shop.url + '/');
  await tab.addScriptTag({ url: '/vitrine/vitrine-worker.js' });
  await tab.addScriptTag({ content: OPEN_ALL });
  const got = await tab.evaluate(async ({ bundle, cases }) => {
    await wasm_bindgen({ module_or_path: '/vitrine/vitrine_bg.wasm' });
    const engine = window.openAll(wasm_bindgen, bundle);
    return cases.map((c) => {
      engine.setProfile(JSON.stringify(c.profile));
      return JSON.parse(engine.decide(JSON.stringify({ slots: [c.slot] }), Date.now())).slots[0].experiment.bucket;
    });
  }, { bundle: hashBrowser, cases: hashes.cases.map((c) => ({ profile: visitor(c.id), slot: slotOf(c.salt) })) });
  hashes.cases.forEach((c, i) => assert.equal(Math.round(got[i] * 10000), c.bucket, `${c.salt} / ${c.id}`));
  await tab.close();
});

// Prices in a site's locale (tests/cases/money.json): a recommendation's `price`, read from the
// decision of a bundle per locale (scripts/build.sh: the cases' prices as products m<i>, most popular
// in case order, each locale's site compiled by `vitrine bundle`), as the native engine's test does.
const money = JSON.parse(readFileSync(join(root, 'tests', 'cases', 'money.json'), 'utf8'));
const moneyGroups = [...new Set(money.cases.map((c) => c.locale))].map((locale, g) => ({
  locale,
  bundle: readFileSync(join(root, 'build', 'cases', 'money', `${g}-bundle.json`), 'utf8'),
  browser: browserBundle(join(root, 'build', 'cases', 'money', `${g}-browser`)),
  cases: money.cases.flatMap((c, i) => (c.locale === locale ? [{ ...c, id: `m${i}` }] : [])),
}));
// Each case's shown price, by product id, from a decision's single widget.
const prices = (d) => Object.fromEntries(d.recs[0].items.map((x) => [x.id, x.price]));
// Each case's amount in a template (`{money(<amount>, '<currency>')}`), by field, from slot `money`.
const holes = (d) => d.slots.find((s) => s.slot === 'money')?.fields ?? {};

test('money cases: the edge worker shows every price and template amount as its locale writes it', async () => {
  assert.ok(money.cases.length >= 40);
  for (const g of moneyGroups) {
    const input = { now: '2026-01-01T00:00:00Z', request: { slots: ['money'], recs: [{ widget: 'money', strategy: 'popular', k: g.cases.length }] } };
    const res = await fetch(edge.base + '/__vitrine/decide', { method: 'POST', body: JSON.stringify({ bundle: JSON.parse(g.bundle), case: input }) });
    const d = await res.json();
    const [got, templated] = [prices(d), holes(d)];
    for (const c of g.cases) {
      assert.equal(got[c.id], c.display, `${c.locale} ${c.price}`);
      assert.equal(templated[c.id], c.display, `template: ${c.locale} ${c.price}`);
    }
  }
});

test('money cases: the Wasm build in Chromium shows every price and template amount as its locale writes it', async () => {
  const tab = await browser.newPage();
  await tab.goto(shop.url + '/');
  await tab.addScriptTag({ url: '/vitrine/vitrine-worker.js' });
  await tab.addScriptTag({ content: OPEN_ALL });
  const got = await tab.evaluate(async (groups) => {
    await wasm_bindgen({ module_or_path: '/vitrine/vitrine_bg.wasm' });
    return groups.map((g) => {
      const engine = window.openAll(wasm_bindgen, g.bundle);
      const markup = { slots: ['money'], recs: [{ 'data-vitrine-recs': 'money', 'data-vitrine-strategy': 'popular', 'data-vitrine-k': String(g.n) }] };
      return JSON.parse(engine.decide(JSON.stringify(markup), Date.now()));
    });
  }, moneyGroups.map((g) => ({ bundle: g.browser, n: g.cases.length })));
  moneyGroups.forEach((g, i) => {
    const [shown, templated] = [prices(got[i]), holes(got[i])];
    for (const c of g.cases) {
      assert.equal(shown[c.id], c.display, `${c.locale} ${c.price}`);
      assert.equal(templated[c.id], c.display, `template: ${c.locale} ${c.price}`);
    }
  });
  await tab.close();
});
