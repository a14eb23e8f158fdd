// The snippet in real Chromium (Playwright + Debian's chromium) against the built demo shop,
// served by a plain static origin so that everything seen here is the browser's own doing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { launch } from '../lib/chromium.mjs';
import { startStatic } from '../lib/static-server.mjs';
import { lapsedProfile, XSS_NAME, EDGE_ONLY, toMarkup, browserBundle, OPEN_ALL } from '../lib/fixtures.mjs';
import { modelHead, shardOf } from '../lib/shards.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'demo-shop', 'dist');
assert.ok(existsSync(join(dist, 'vitrine', 'vitrine_bg.wasm')), 'run scripts/build.sh first (demo-shop/dist is missing)');

const PROFILES = {
  lapsed: JSON.stringify(lapsedProfile()),
  // FNV-1a 32('hero-winback.c-test-holdout-12') % 10000 = 325: inside the 10 % holdout of the
  // demo's winback experiment (demo-shop/site.json).
  holdout: JSON.stringify(lapsedProfile('Hilda', 'c-test-holdout-12')),
  xss: JSON.stringify(lapsedProfile(XSS_NAME)),
  corrupt: '{"v":1,"id":"c-1","orders":{"count":"lots"',
};
const cookieValue = (cookie, name) => (cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`)) || [])[1];

let server, browser;
before(async () => {
  server = await startStatic(dist, {
    profileFor: (cookie) => PROFILES[cookieValue(cookie, 'test_profile')] ?? null,
    breakWasm: (cookie) => cookieValue(cookie, 'test_break') === 'wasm',
  });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function newPage(cookies = {}) {
  await browser.clearCookies();
  const entries = Object.entries(cookies).map(([name, value]) => ({ name, value, url: server.url }));
  if (entries.length) await browser.addCookies(entries);
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss(); });
  return { page, problems };
}

const ready = (page) => page.waitForSelector('html[data-vitrine-ready]', { state: 'attached', timeout: 15000 });
// The production engine on the page itself (the loader runs it in a worker): the worker's script,
// run as a classic script, gives the page `wasm_bindgen`.
async function engineOnPage(page) {
  await page.addScriptTag({ url: '/vitrine/vitrine-worker.js' });
  await page.addScriptTag({ content: OPEN_ALL });
  await page.evaluate(() => wasm_bindgen({ module_or_path: '/vitrine/vitrine_bg.wasm' }));
}
/** A fresh page on the home page, once the snippet is ready, with the engine's glue loaded on it. */
async function homeWithEngine() {
  const { page, problems } = await newPage();
  await page.goto(server.url + '/');
  await ready(page);
  await engineOnPage(page);
  return { page, problems };
}
const heroHeadline = (page) => page.textContent('[data-vitrine-slot="hero"] [data-vitrine-field="headline"]');
const gridOrder = (page) => page.$$eval('[data-vitrine-list="home-grid"] > [data-vitrine-item]', (els) => els.map((e) => e.dataset.vitrineItem));
async function originalHome() {
  const html = await (await fetch(server.url + '/')).text();
  const headline = /data-vitrine-field="headline"[^>]*>([^<]*)</.exec(html)[1];
  const items = [...html.matchAll(/data-vitrine-item="([^"]+)"/g)].map((m) => m[1]);
  return { headline, items };
}

// The case file's bundle, compiled by `vitrine bundle` (scripts/build.sh): the production build
// loads only compiled rules.
const compiledCases = () => ({
  ...JSON.parse(readFileSync(join(root, 'tests', 'cases', 'decisions.json'), 'utf8')),
  bundle: JSON.parse(readFileSync(join(root, 'build', 'cases', 'bundle.json'), 'utf8')),
  // The browser's: a head and its shards (scripts/build.sh, `browser_bundle`).
  browser: browserBundle(join(root, 'build', 'cases', 'browser')),
});

test('shared decision cases give identical results in the Wasm build', async () => {
  const doc = compiledCases();
  const { page, problems } = await homeWithEngine();
  // Through the production entry points, as the loader drives them: the snapshot, then each
  // event, then the request.
  // The request as the page's markup states it: the engine reads it as the loader hands it over.
  for (const c of doc.cases) c.input.markup = toMarkup(c.input.request);
  const results = await page.evaluate(({ browser, cases }) => cases.map(({ input }) => {
    const engine = window.openAll(wasm_bindgen, browser);
    const now = Date.parse(input.now);
    if (input.profile) engine.setProfile(JSON.stringify(input.profile));
    for (const e of input.events || []) {
      const need = engine.push(JSON.stringify(e), now);
      if (need && need.length) throw new Error(`${JSON.stringify(e)} asks for shard files ${need} of a full bundle`);
    }
    const decision = JSON.parse(engine.decide(JSON.stringify(input.markup), now));
    engine.free();
    return decision;
  }), doc);
  doc.cases.forEach((c, i) => assert.deepEqual(results[i], c.expected, c.name));
  assert.deepEqual(problems, []);
  await page.close();
});

test('the production build answers a traced request with the same decision and no trace (traces are the developer build\'s)', async () => {
  const doc = compiledCases();
  const { page, problems } = await homeWithEngine();
  const c = doc.cases.find((x) => x.input.request.slots?.length);
  const markup = toMarkup(c.input.request);
  const [plain, traced] = await page.evaluate(({ browser, input, markup }) => [false, true].map((trace) => {
    const engine = window.openAll(wasm_bindgen, browser);
    const now = Date.parse(input.now);
    if (input.profile) engine.setProfile(JSON.stringify(input.profile));
    const decision = engine.decide(JSON.stringify({ ...markup, trace }), now);
    engine.free();
    return JSON.parse(decision);
  }), { browser: doc.browser, input: c.input, markup });
  assert.equal('trace' in traced, false, 'no trace from the production build');
  assert.deepEqual(traced, plain);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the production build refuses rules in source form or from another program version, and a full catalog or model, clearly', async () => {
  const doc = compiledCases();
  const source = JSON.parse(readFileSync(join(root, 'tests', 'cases', 'decisions.json'), 'utf8')).bundle;
  // The compiled site is the base64 of its binary form; byte 4 is the form's version.
  const bytes = Buffer.from(doc.bundle.site, 'base64');
  bytes[4] += 1;
  const newer = { ...doc.bundle, site: bytes.toString('base64') };
  const { page, problems } = await homeWithEngine();
  const errors = await page.evaluate((bundles) => bundles.map((b) => {
    try { new wasm_bindgen.Vitrine(JSON.stringify(b)); return 'loaded'; } catch (e) { return e.message; }
  }), [source, newer, doc.bundle, { ...JSON.parse(doc.browser.head), model: doc.bundle.model }]);
  assert.match(errors[0], /expected a compiled site configuration \(one base64 string\), found a JSON object: a configuration's source.*run `vitrine bundle`/);
  assert.match(errors[1], /field `site.compiled`: site compiled in form version 8, but this runtime reads version 7: build the bundle with the same Vitrine version/);
  // The edge's full bundle: the browser reads content neighbours from rows computed at bundle time.
  assert.match(errors[2], /field `catalog`: expected the browser's bundle, whose catalog is a head \(`vitrine bundle --shards N --sharded-out DIR`.*found a full catalog/);
  // A head's catalog with a JSON model: the production build reads models in binary only.
  assert.match(errors[3], /field `model`: expected the model in binary \(one base64 string\), found JSON: `vitrine bundle --shards N --sharded-out DIR`/);
  // Nor does the production build carry the developer tools.
  assert.deepEqual(await page.evaluate(() => ['checkSite', 'compileSite'].map((f) => typeof wasm_bindgen[f])), ['undefined', 'undefined']);
  assert.deepEqual(problems, []);
  await page.close();
});

test('rules calling matches(), format(), split() or duration() of a computed string are left to the edge: their placements stay as served, the rest is decided', async () => {
  const bundle = browserBundle(join(root, 'build', 'cases', 'edge-only-browser'));
  const { page, problems } = await homeWithEngine();
  const d = await page.evaluate(({ bundle, c }) => {
    const engine = window.openAll(wasm_bindgen, bundle);
    engine.setProfile(JSON.stringify(c.profile));
    return JSON.parse(engine.decide(JSON.stringify(c.markup), Date.parse(c.now)));
  }, { bundle, c: { ...EDGE_ONLY, markup: toMarkup(EDGE_ONLY.request) } });
  assert.deepEqual(d.slots, [
    { slot: 'hero', variant: null, fields: {}, keep: true },
    { slot: 'tagline', variant: null, fields: {}, keep: true },
    { slot: 'greeting', variant: null, fields: {}, keep: true },
    { slot: 'banner', variant: 'regular', fields: { headline: 'Welcome back' } },
    { slot: 'window', variant: null, fields: {}, keep: true },
  ]);
  assert.equal(d.lists[0].keep, true);
  assert.equal(d.lists[1].keep, undefined);
  assert.deepEqual(problems, []);
  await page.close();
});

test('shop pages never request the developer build', async () => {
  const { page, problems } = await newPage({ test_profile: 'lapsed' });
  const urls = [];
  page.on('request', (r) => urls.push(new URL(r.url()).pathname));
  for (const path of ['/', '/p/' + (await originalHome()).items[0]]) {
    await page.goto(server.url + path);
    await ready(page);
  }
  assert.ok(urls.includes('/vitrine/vitrine_bg.wasm'), urls.join(' '));
  assert.deepEqual(urls.filter((u) => /dev/.test(u)), []);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the snippet swaps the hero for a lapsed big spender', async () => {
  const { page, problems } = await newPage({ test_profile: 'lapsed' });
  await page.goto(server.url + '/');
  await ready(page);
  assert.equal(await page.getAttribute('[data-vitrine-slot="hero"]', 'data-vitrine-variant'), 'winback');
  assert.equal(await heroHeadline(page), 'We miss you, Margaret');
  assert.equal(await page.evaluate(() => typeof window.vitrine.preview), 'undefined', 'no preview hook outside the preview panel');
  const timing = await page.evaluate(() => window.vitrine.timing.ms);
  console.log(`# metric: snippet start -> decisions applied: ${timing.toFixed(1)} ms`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the engine runs in a worker, or on the page where the page allows no worker', async () => {
  let { page, problems } = await newPage({ test_profile: 'lapsed' });
  await page.goto(server.url + '/');
  await ready(page);
  assert.equal(page.workers().length, 1, 'one worker');
  assert.equal(await page.evaluate(() => typeof wasm_bindgen), 'undefined', 'no engine on the main thread');
  assert.equal(await heroHeadline(page), 'We miss you, Margaret');
  assert.deepEqual(problems, []);
  await page.close();

  // A Content-Security-Policy that forbids workers: the same decision, made on the page.
  ({ page, problems } = await newPage({ test_profile: 'lapsed' }));
  await page.route(server.url + '/', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': "worker-src 'none'" } });
  });
  await page.goto(server.url + '/');
  await ready(page);
  assert.equal(page.workers().length, 0, 'no worker');
  assert.equal(await page.evaluate(() => typeof wasm_bindgen), 'function', 'the engine on the page');
  assert.equal(await heroHeadline(page), 'We miss you, Margaret');
  assert.deepEqual(await gridOrder(page), await page.evaluate(() => window.vitrine.decision.lists[0].items));
  assert.deepEqual(problems, []);
  await page.close();
});

test('a first name made of markup shows as text and runs nothing', async () => {
  const { page, problems } = await newPage({ test_profile: 'xss' });
  await page.goto(server.url + '/');
  await ready(page);
  assert.equal(await heroHeadline(page), `We miss you, ${XSS_NAME}`);
  assert.equal(await page.$$eval('[data-vitrine-slot="hero"] img', (imgs) => imgs.length), 0);
  await page.waitForTimeout(200); // an onerror handler would have fired by now
  assert.deepEqual(problems, []);
  await page.close();
});

test('viewing two products of one category moves that category up the home grid', async () => {
  const bundle = JSON.parse(readFileSync(join(dist, 'vitrine', 'edge', 'bundle.json'), 'utf8'));
  const typeOf = Object.fromEntries(bundle.catalog.products.map((p) => [p.id, p.product_type]));
  const { page, problems } = await newPage();
  await page.goto(server.url + '/');
  await ready(page);
  await page.click('#consent [data-consent="granted"]');
  const before = await gridOrder(page);
  // The category of the last card: as far from the top as it gets.
  const category = typeOf[before[before.length - 1]];
  const picks = before.filter((id) => typeOf[id] === category).slice(0, 2);
  assert.ok(before.indexOf(picks[0]) > 0, 'the category does not already lead');
  const { items: original } = await originalHome();
  for (const id of picks.length === 2 ? picks : [picks[0], picks[0]]) {
    await page.goto(`${server.url}/p/${id}`);
    await ready(page);
  }
  await page.goto(server.url + '/');
  await ready(page);
  const after = await gridOrder(page);
  assert.equal(typeOf[after[0]], category, `first card is now ${category}`);
  assert.deepEqual([...after].sort(), [...original].sort(), 'same cards, only reordered');
  const firstOther = after.findIndex((id) => typeOf[id] !== category);
  assert.ok(after.slice(0, firstOther).length === before.filter((id) => typeOf[id] === category).length, 'the whole category leads');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the browser fetches only the model shards its visitor needs and decides as the full model', async () => {
  const head = modelHead(JSON.parse(readFileSync(join(dist, 'vitrine', 'bundle.json'), 'utf8')).model);
  // The same catalog and model whole: a head with one shard of each kind, every shard added up front
  // (scripts/build.sh writes it).
  const full = browserBundle(join(root, 'build', 'full-browser'));
  // A shard head (modelHead checks it) carries no model rows.
  const { count, base, popular } = head;
  const history = popular.slice(0, 3);
  const current = popular[7];
  PROFILES.buyer = JSON.stringify({ ...lapsedProfile(), recent_items: history.map((id, k) => ({ id, time: `2011-11-0${k + 1}T10:00:00Z`, event: 'purchase' })) });
  const { page, problems } = await newPage({ test_profile: 'buyer' });
  let fetched = [];
  page.on('request', (r) => { if (r.url().endsWith('.vtm')) fetched.push(r.url()); });
  const shardUrls = (ids) => [...new Set(ids.map((id) => shardOf(id, count)))].sort((a, b) => a - b).map((n) => `${server.url}/vitrine/${base}${n}.vtm`);
  const sameAsFull = () => page.evaluate((full) => {
    const engine = window.openAll(wasm_bindgen, full);
    engine.setProfile(document.getElementById('vitrine-profile').textContent);
    engine.grantConsent();
    engine.setSession(sessionStorage.getItem('vitrine.session'));
    const expected = JSON.parse(engine.decide(JSON.stringify(window.vitrine.request()), Date.now())).recs;
    return { expected, actual: window.vitrine.decision.recs };
  }, full);

  // A product page: also_bought reads the current product's row only.
  await page.goto(`${server.url}/p/${current}`);
  await ready(page);
  await engineOnPage(page);
  assert.deepEqual(fetched.sort(), shardUrls([current]));
  let { expected, actual } = await sameAsFull();
  assert.ok(actual.find((r) => r.strategy === 'also_bought').items.length > 0);
  assert.deepEqual(actual, expected);

  // Home: for_you reads the whole history, the snapshot's purchases and this session's view.
  fetched = [];
  await page.goto(server.url + '/');
  await ready(page);
  await engineOnPage(page);
  assert.deepEqual(fetched.sort(), shardUrls([...history, current]));
  ({ expected, actual } = await sameAsFull());
  assert.ok(actual.find((r) => r.strategy === 'for_you').items.length > 0);
  assert.deepEqual(actual, expected);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a missing model shard leaves widgets filled from popular products', async () => {
  const { page, problems } = await newPage({ test_profile: 'lapsed' });
  await page.route('**/*.vtm', (route) => route.fulfill({ status: 404, body: 'gone' }));
  const warnings = [];
  page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  const id = JSON.parse(readFileSync(join(dist, 'vitrine', 'bundle.json'), 'utf8')).catalog.products[0].id;
  await page.goto(`${server.url}/p/${id}`);
  await ready(page);
  assert.equal(await page.getAttribute('[data-vitrine-recs="also-bought"]', 'data-vitrine-filled'), '6');
  assert.ok(warnings.some((w) => w.includes('.vtm skipped')), warnings.join('\n'));
  assert.deepEqual(problems, []);
  await page.close();
});

test('corrupt model shards and missing catalog shards leave a whole page: widgets filled from the products the head carries', async () => {
  const { page, problems } = await newPage({ test_profile: 'lapsed' });
  // A model shard whose bytes are garbage (its checksum fails), and no catalog shard at all.
  const hit = { model: 0, catalog: 0 };
  await page.route('**/*.vtm', (route) => {
    hit.model++;
    route.fulfill({ status: 200, contentType: 'application/octet-stream', body: Buffer.from('VTM garbage '.repeat(50)) });
  });
  await page.route(/\/c-[0-9a-f]+\/s?\d+\.json$/, (route) => {
    hit.catalog++;
    route.fulfill({ status: 404, body: 'gone' });
  });
  const warnings = [];
  page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  const head = JSON.parse(readFileSync(join(dist, 'vitrine', 'bundle.json'), 'utf8'));
  const id = head.catalog.products[0].id;
  await page.goto(`${server.url}/p/${id}`);
  await ready(page);
  const titles = await page.$$eval('[data-vitrine-recs="also-bought"] [data-vitrine-bind="title"]', (els) => els.map((e) => e.textContent.trim()).filter(Boolean));
  assert.ok(titles.length > 0, 'the widget is filled');
  const known = new Set(head.catalog.products.map((p) => p.title));
  for (const t of titles) assert.ok(known.has(t), `${t} comes from the head's own products`);
  assert.ok(hit.model > 0 && hit.catalog > 0, JSON.stringify(hit));
  assert.ok(warnings.some((w) => w.includes('.vtm skipped')), warnings.join('\n'));
  assert.ok(warnings.some((w) => /\.json skipped/.test(w)), warnings.join('\n'));
  assert.deepEqual(problems, []);
  await page.close();
});

test('experiments: the holdout keeps the default hero, and exposures reach the dataLayer once', async () => {
  const exposures = (page) => page.evaluate(() => window.dataLayer.filter((e) => e && e.event === 'experience_impression'));
  let { page, problems } = await newPage({ test_profile: 'lapsed' });
  await page.goto(server.url + '/');
  await ready(page);
  assert.equal(await heroHeadline(page), 'We miss you, Margaret');
  assert.deepEqual((await exposures(page)).map((e) => [e.exp_variant_string, e.vitrine_holdout]), [['vitrine-winback-holdout-winback', false]]);
  await page.evaluate(() => window.vitrine.refresh());
  assert.equal((await exposures(page)).length, 1, 'one exposure per page and experiment');
  assert.deepEqual(problems, []);
  await page.close();

  ({ page, problems } = await newPage({ test_profile: 'holdout' }));
  const { headline } = await originalHome();
  await page.goto(server.url + '/');
  await ready(page);
  assert.equal(await heroHeadline(page), headline, 'the holdout sees the shop default');
  assert.equal(await page.getAttribute('[data-vitrine-slot="hero"]', 'data-vitrine-variant'), null);
  assert.deepEqual((await exposures(page)).map((e) => [e.exp_variant_string, e.vitrine_holdout]), [['vitrine-winback-holdout-holdout', true]]);
  assert.deepEqual(problems, []);
  await page.close();

  // No consent: not assigned, nothing reported.
  ({ page, problems } = await newPage());
  await page.goto(server.url + '/');
  await ready(page);
  assert.deepEqual(await exposures(page), []);
  await page.close();
});

test('nothing is stored before consent', async () => {
  const { page } = await newPage();
  await page.goto(server.url + '/');
  await ready(page);
  const { items } = await originalHome();
  await page.goto(`${server.url}/p/${items[items.length - 1]}`);
  await ready(page);
  await page.click(`[data-vitrine-page] button:has-text("basket"), [data-add-to-cart], button:has-text("Add")`).catch(() => {});
  const stored = await page.evaluate(() => ({
    session: Object.keys(sessionStorage).filter((k) => k.startsWith('vitrine')),
    local: Object.keys(localStorage).filter((k) => k.startsWith('vitrine')),
    cookies: document.cookie.split(';').map((c) => c.trim()).filter((c) => c.startsWith('vitrine')),
  }));
  assert.deepEqual(stored, { session: [], local: [], cookies: [] });
  // Without consent the next page starts from scratch: the home grid keeps the shop's order.
  await page.goto(server.url + '/');
  await ready(page);
  assert.deepEqual(await gridOrder(page), items);
  await page.close();
});

// What the snippet stored, by where (it uses sessionStorage only; nothing else may appear).
const storedKeys = (page) => page.evaluate(() => ({
  session: Object.keys(sessionStorage).filter((k) => k.startsWith('vitrine')).sort(),
  local: Object.keys(localStorage).filter((k) => k.startsWith('vitrine')),
  cookies: document.cookie.split(';').map((c) => c.trim()).filter((c) => c.startsWith('vitrine')),
}));
const NOTHING = { session: [], local: [], cookies: [] };
const STORED = { session: ['vitrine.session', 'vitrine.vid'], local: [], cookies: [] };
const exposuresOf = (page) => page.evaluate(() => window.dataLayer.filter((e) => e && e.event === 'experience_impression'));

test('issue 12: a revocation on a later page wipes what an earlier page stored', async () => {
  const { page, problems } = await newPage();
  await page.goto(server.url + '/');
  await ready(page);
  await page.click('#consent [data-consent="granted"]');
  const { items } = await originalHome();
  await page.goto(`${server.url}/p/${items[0]}`);
  await ready(page);
  assert.deepEqual(await storedKeys(page), STORED);
  // The consent tool restates the visitor's new choice on the next page (here: declined in
  // another tab): the loader's flag starts false there, and still everything goes.
  await page.context().addCookies([{ name: 'shop_consent', value: 'denied', url: server.url }]);
  await page.goto(server.url + '/');
  await ready(page);
  assert.deepEqual(await storedKeys(page), NOTHING);
  assert.deepEqual(problems, []);
  await page.close();
});

test('issue 12: the visitor\'s denial beats a profile that records consent', async () => {
  const { headline } = await originalHome();
  const { page, problems } = await newPage({ test_profile: 'lapsed', shop_consent: 'denied' });
  await page.goto(server.url + '/');
  await ready(page);
  assert.equal(await heroHeadline(page), headline, 'no winback hero from the profile');
  assert.deepEqual(await exposuresOf(page), [], 'no experiment, no exposure');
  await page.goto(`${server.url}/p/${(await originalHome()).items[0]}`);
  await ready(page);
  assert.deepEqual(await storedKeys(page), NOTHING);
  // Without the denial the same profile is personalized (its recorded consent stands).
  const other = await newPage({ test_profile: 'lapsed' });
  await other.page.goto(server.url + '/');
  await ready(other.page);
  assert.equal(await heroHeadline(other.page), 'We miss you, Margaret');
  await other.page.close();
  assert.deepEqual(problems, []);
  await page.close();
});

test('issue 12: before consent, events on the page change nothing; after consent they count', async () => {
  const bundle = JSON.parse(readFileSync(join(dist, 'vitrine', 'edge', 'bundle.json'), 'utf8'));
  const typeOf = Object.fromEntries(bundle.catalog.products.map((p) => [p.id, p.product_type]));
  const { page, problems } = await newPage();
  await page.goto(server.url + '/');
  await ready(page);
  const before = await gridOrder(page);
  const category = typeOf[before[before.length - 1]];
  const picks = before.filter((id) => typeOf[id] === category).slice(0, 2);
  await page.evaluate((ids) => {
    for (const id of ids) window.dataLayer.push({ event: 'view_item', ecommerce: { items: [{ item_id: id }] } });
  }, picks.length === 2 ? picks : [picks[0], picks[0]]);
  await page.evaluate(() => window.vitrine.refresh());
  assert.deepEqual(await gridOrder(page), before, 'only the page\'s own context decides');
  await page.click('#consent [data-consent="granted"]');
  await page.evaluate(() => window.vitrine.refresh());
  assert.equal(typeOf[(await gridOrder(page))[0]], category, 'with consent this page\'s views lead');
  assert.deepEqual(problems, []);
  await page.close();
});

test('issue 12: vitrine.forget() wipes what the snippet stored and goes back to an anonymous page', async () => {
  const { headline, items } = await originalHome();
  const anonymous = await newPage();
  await anonymous.page.goto(server.url + '/');
  await ready(anonymous.page);
  const anonymousGrid = await gridOrder(anonymous.page);
  await anonymous.page.close();
  const { page, problems } = await newPage({ test_profile: 'lapsed' });
  await page.goto(server.url + '/');
  await ready(page);
  // Her account records consent (the banner does not ask her); she grants it on the page too.
  await page.evaluate(() => window.gtag('consent', 'update', { personalization_storage: 'granted' }));
  await page.goto(`${server.url}/p/${items[0]}`);
  await ready(page);
  await page.goto(server.url + '/');
  await ready(page);
  assert.equal(await heroHeadline(page), 'We miss you, Margaret');
  assert.deepEqual(await storedKeys(page), STORED);
  const decision = await page.evaluate(() => window.vitrine.forget());
  assert.equal(decision.slots.find((s) => s.slot === 'hero').variant, null);
  assert.equal(await heroHeadline(page), headline);
  assert.deepEqual(await gridOrder(page), anonymousGrid, 'the grid as a new visitor sees it');
  assert.deepEqual(await storedKeys(page), NOTHING);
  // Unconsented from now on: a later event stores nothing.
  await page.evaluate((id) => window.dataLayer.push({ event: 'view_item', ecommerce: { items: [{ item_id: id }] } }), items[1]);
  await page.evaluate(() => window.vitrine.refresh());
  assert.deepEqual(await storedKeys(page), NOTHING);
  assert.deepEqual(problems, []);
  await page.close();
});

for (const [name, cookies] of [['a corrupt profile', { test_profile: 'corrupt' }], ['a missing Wasm file', { test_break: 'wasm' }]]) {
  test(`${name} leaves the default page intact`, async () => {
    const { headline, items } = await originalHome();
    const { page, problems } = await newPage(cookies);
    await page.goto(server.url + '/');
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(300);
    assert.equal(await heroHeadline(page), headline);
    assert.equal(await page.getAttribute('[data-vitrine-slot="hero"]', 'data-vitrine-variant'), null);
    assert.deepEqual(await gridOrder(page), items);
    assert.deepEqual(problems, [], 'no uncaught errors');
    await page.close();
  });
}
