// The edge worker in real workerd (`wrangler dev --local`) in front of the demo shop's own server
// (the origin, tests/lib/edge.mjs), with Workers KV seeded with test profiles: who gets which page, and that nothing else is changed. One
// test drives real Chromium through it, for what only a browser shows (shard preloads being used).
// Needs scripts/build.sh to have run (demo-shop/dist/ and edge-worker/build/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { lapsedProfile, XSS_NAME, EDGE_ONLY } from '../lib/fixtures.mjs';
import { modelHead, shardOf } from '../lib/shards.mjs';
import { launch } from '../lib/chromium.mjs';
import { startEdge, sign, root, dist } from '../lib/edge.mjs';

// Real products of the demo catalog, bought by t-history.
const HISTORY = ['10133', '15036', '10135'];

const PROFILES = {
  't-lapsed': lapsedProfile('Tess', 't-lapsed'),
  // FNV-1a 32('hero-winback.t-holdout-5') % 10000 = 271: in the winback experiment's 10 % holdout.
  't-holdout-5': lapsedProfile('Hal', 't-holdout-5'),
  't-xss': lapsedProfile(XSS_NAME, 't-xss'),
  't-no-consent': { ...lapsedProfile('Nora', 't-no-consent'), consent: { personalization: false } },
  't-broken': '{"v":1,"id":"t-broken","orders":{"count":"lots"',
  't-history': { ...lapsedProfile('Hana', 't-history'), recent_items: HISTORY.map((id, k) => ({ id, time: `2011-11-0${k + 1}T10:00:00Z`, event: 'purchase' })) },
  // A returning customer whose data platform knows her favourite categories: the home grid leans to them.
  't-returning': {
    ...lapsedProfile('Rita', 't-returning'),
    recent_items: HISTORY.map((id, k) => ({ id, time: `2011-11-0${k + 1}T10:00:00Z`, event: 'purchase' })),
    affinities: { 'Candles & Lights': 0.9, 'Garden & Outdoor': 0.6 },
  },
};

// A real customer of the demo data (the switcher's lapsed big spender, with a long history): the
// browser fetches the most shards for her home page.
const personas = JSON.parse(readFileSync(join(dist, 'personas.json'), 'utf8'));
const REAL = (personas.find((p) => /lapsed/i.test(p.label)) || personas[0]).vid;
PROFILES[REAL] = readFileSync(join(root, 'build', 'profiles.jsonl'), 'utf8').split('\n').find((l) => l.includes(`"id":"${REAL}"`));

let edge, base;

before(async () => {
  edge = await startEdge({ profiles: PROFILES, vars: ['VITRINE_TEST_HOOKS:on'] });
  base = edge.base;
});

after(() => edge?.close());

async function get(path, cookie) {
  const res = await fetch(base + path, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
  return { res, text: await res.text(), vitrine: res.headers.get('x-vitrine') };
}

/** The hero slot's element, start tag to its end tag (the hero holds no element of its own kind). */
function hero(html) {
  const m = /<(\w+)\b[^>]*\bdata-vitrine-slot="hero"[^>]*>/.exec(html);
  assert.ok(m, 'page has no data-vitrine-slot="hero"');
  const end = html.indexOf(`</${m[1]}>`, m.index);
  return html.slice(m.index, end + m[1].length + 3);
}

const original = readFileSync(join(dist, 'index.html'), 'utf8');
const handoff = (html) => /<script type="application\/json" id="vitrine-profile">([^<]*)<\/script>/.exec(html)?.[1];

test('a lapsed big spender gets the "we miss you" hero and the profile hand-off', async () => {
  const { res, text, vitrine } = await get('/', `vitrine_vid=${sign('t-lapsed')}`);
  assert.equal(res.status, 200);
  assert.equal(vitrine, 'personalized');
  const h = hero(text);
  assert.match(h, /data-vitrine-variant="winback"/);
  assert.match(h, /We miss you, Tess/);
  const script = handoff(text);
  assert.ok(script, 'profile hand-off script missing');
  assert.ok(text.indexOf('id="vitrine-profile"') < text.indexOf('</head>'), 'hand-off must be in <head>');
  assert.equal(JSON.parse(script).id, 't-lapsed');
  assert.equal(res.headers.get('content-length'), null);
  assert.match(res.headers.get('cache-control') ?? '', /private/);
});

test('the winback holdout gets the default hero at the edge too (same hash as the browser)', async () => {
  const { text, vitrine } = await get('/', `vitrine_vid=${sign('t-holdout-5')}`);
  assert.equal(vitrine, 'personalized');
  const h = hero(text);
  assert.doesNotMatch(h, /data-vitrine-variant=/);
  assert.doesNotMatch(h, /We miss you/);
});

const flipLast = (s) => s.slice(0, -1) + (s.endsWith('0') ? '1' : '0');
const defaults = [
  ['no cookie', undefined, 'no-cookie'],
  ['a validly signed but unknown visitor', `vitrine_vid=${sign('t-nobody')}`, 'unknown-visitor'],
  ['a malformed cookie', 'vitrine_vid=garbage', 'bad-cookie'],
  ['a tampered signature', `vitrine_vid=${flipLast(sign('t-lapsed'))}`, 'bad-cookie'],
  ['another visitor\'s signature', `vitrine_vid=t-lapsed.${sign('t-xss').split('.')[1]}`, 'bad-cookie'],
  ['a cookie signed with another secret', `vitrine_vid=${sign('t-lapsed', 'not-the-secret')}`, 'bad-cookie'],
  ['a profile without consent', `vitrine_vid=${sign('t-no-consent')}`, 'no-consent'],
  ['a broken profile', `vitrine_vid=${sign('t-broken')}`, 'bad-profile'],
];
for (const [who, cookie, reason] of defaults) {
  test(`${who} gets the default hero (reason=${reason})`, async () => {
    const { res, text, vitrine } = await get('/', cookie);
    assert.equal(res.status, 200);
    assert.equal(vitrine, `default; reason=${reason}`);
    assert.equal(hero(text), hero(original), 'hero must be exactly the shop\'s own');
    assert.equal(handoff(text), undefined, 'no profile hand-off for anonymous pages');
  });
}

test('anonymous pages keep the shop\'s list order and still get non-personal recommendations', async () => {
  const { text } = await get('/');
  assert.doesNotMatch(text, /style="[^"]*order:/);
  const widgets = [...original.matchAll(/data-vitrine-recs="([^"]+)"/g)].map((m) => m[1]);
  for (const w of widgets) {
    const filled = new RegExp(`data-vitrine-recs="${w}"[^>]*data-vitrine-filled="(\\d+)"`).exec(text);
    assert.ok(filled && Number(filled[1]) > 0, `widget ${w} not filled for an anonymous visitor`);
  }
});

test('markup in a first name is served as text', async () => {
  const { text, vitrine } = await get('/', `vitrine_vid=${sign('t-xss')}`);
  assert.equal(vitrine, 'personalized');
  const h = hero(text);
  assert.match(h, /data-vitrine-variant="winback"/);
  assert.ok(h.includes('We miss you, &lt;img src=x onerror=alert(1)&gt;'), h);
  assert.ok(!h.includes('<img src=x'), h);
  assert.ok(!text.includes('<img src=x'), 'the name must not appear as markup anywhere on the page');
  assert.ok(handoff(text).includes('\\u003cimg src=x onerror=alert(1)\\u003e'));
});

function someAssets() {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (!/\.html?$/.test(name)) out.push(p);
    }
  };
  walk(dist);
  // One of each kind the shop serves (css, js, svg, wasm, json...).
  const byExt = new Map();
  for (const p of out) {
    const ext = p.split('.').pop();
    if (!byExt.has(ext)) byExt.set(ext, p);
  }
  return [...byExt.values()];
}

test('non-HTML assets pass through byte-identical', async () => {
  const assets = someAssets();
  assert.ok(assets.length >= 3, 'expected some non-HTML assets in the demo shop');
  for (const p of assets) {
    const path = '/' + relative(dist, p).split('\\').join('/');
    const res = await fetch(base + path, { headers: { cookie: `vitrine_vid=${sign('t-lapsed')}` } });
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('x-vitrine'), null, path);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(readFileSync(p)), `${path} changed on the way`);
  }
});

test("the owner's insights page is served at /insights/, its charts and numbers as built", async () => {
  const built = readFileSync(join(dist, 'insights', 'index.html'), 'utf8');
  for (const cookie of [undefined, `vitrine_vid=${sign('t-lapsed')}`]) {
    const { res, text } = await get('/insights/', cookie);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    assert.ok(text.includes('<h1>Insights</h1>') && text.includes('class="badge-sim"'));
    const main = (html) => html.slice(html.indexOf('<main'), html.indexOf('</main>'));
    assert.equal(main(text), main(built), 'the page body passes the edge unchanged');
  }
  const css = await fetch(`${base}/insights/insights.css`);
  assert.equal(css.status, 200);
  assert.equal(await css.text(), readFileSync(join(dist, 'insights', 'insights.css'), 'utf8'));
});

test('model and catalog shards are served byte-identical and cacheable forever; the bundle is not', async () => {
  const bundleHead = JSON.parse(readFileSync(join(dist, 'vitrine', 'bundle.json'), 'utf8'));
  const head = modelHead(bundleHead.model);
  const catalog = bundleHead.catalog.shards;
  for (const path of [`${head.base}0.vtm`, `${catalog.base}0.json`, `${catalog.base}s0.json`]) {
    const res = await fetch(`${base}/vitrine/${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable', path);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(dist, 'vitrine', path))), path);
  }
  const bundle = await fetch(`${base}/vitrine/bundle.json`);
  assert.equal(bundle.status, 200);
  assert.notEqual(bundle.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  await bundle.arrayBuffer();
  assert.equal((await fetch(`${base}/vitrine/${head.base}99999.vtm`)).status, 404);
});

test('pages preload the model shards their widgets will read, ahead of the widgets', async () => {
  const { count, base: dir } = modelHead(JSON.parse(readFileSync(join(dist, 'vitrine', 'bundle.json'), 'utf8')).model);
  const links = (html) => [...html.matchAll(/<link rel="preload" as="fetch" crossorigin="anonymous" href="([^"]+)">/g)].map((m) => m[1]);
  const urls = (ids) => [...new Set(ids.map((id) => `/vitrine/${dir}${shardOf(id, count)}.vtm`))].sort();

  // Home: the for_you widget reads the visitor's whole history.
  const home = await get('/', `vitrine_vid=${sign('t-history')}`);
  assert.equal(home.vitrine, 'personalized');
  assert.deepEqual(links(home.text).sort(), urls(HISTORY));
  assert.ok(home.text.indexOf('rel="preload"') < home.text.indexOf('data-vitrine-recs='), 'the links come before the widget');
  for (const href of links(home.text)) {
    const res = await fetch(base + href);
    assert.equal(res.status, 200, href);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable', href);
    await res.arrayBuffer();
  }
  // A product page, anonymous: also_bought reads the product's row; similar reads no model rows.
  assert.deepEqual(links((await get('/p/10135')).text), urls(['10135']));
  // Anonymous home: no history, nothing to preload.
  assert.deepEqual(links((await get('/')).text), []);
});

test('Chromium takes the preloaded shards: each is fetched once, and the snippet decides as the edge did', async () => {
  const { count, base: dir } = modelHead(JSON.parse(readFileSync(join(dist, 'vitrine', 'bundle.json'), 'utf8')).model);
  const cookie = sign('t-history');
  // The edge's for_you fill: the card links after the widget's <template>.
  const served = (await get('/', `vitrine_vid=${cookie}`)).text;
  const widget = served.slice(served.indexOf('data-vitrine-recs="for-you"'));
  const edgeIds = [...widget.slice(widget.indexOf('</template>'), widget.indexOf('</div>', widget.indexOf('</template>')))
    .matchAll(/href="\/p\/([^"]+)"/g)].map((m) => m[1]);
  assert.ok(edgeIds.length > 0, 'the edge filled for-you');

  const browser = await launch();
  try {
    await browser.addCookies([{ name: 'vitrine_vid', value: cookie, url: base }]);
    const page = await browser.newPage();
    const requests = [];
    const warnings = [];
    page.on('request', (r) => { if (r.url().endsWith('.vtm')) requests.push({ type: r.resourceType(), url: r.url() }); });
    page.on('console', (m) => { if (m.type() === 'warning' || m.type() === 'error') warnings.push(m.text()); });
    await page.goto(base + '/');
    await page.waitForSelector('html[data-vitrine-ready]', { state: 'attached', timeout: 20000 });
    const forYou = await page.evaluate(() => window.vitrine.decision.recs.find((r) => r.widget === 'for-you'));
    // One request per shard, the preload's: the snippet's fetch took the preloaded response.
    const expected = [...new Set(HISTORY.map((id) => `${base}/vitrine/${dir}${shardOf(id, count)}.vtm`))].sort();
    assert.deepEqual(requests.map((r) => r.url).sort(), expected);
    assert.ok(requests.every((r) => r.type !== 'fetch'), JSON.stringify(requests));
    assert.deepEqual(forYou.items.map((i) => i.id), edgeIds);
    assert.deepEqual(warnings, []);
  } finally {
    await browser.close();
  }
});

test('on a page the edge personalized, the snippet changes nothing inside slots, lists and widgets', async () => {
  const browser = await launch();
  try {
    // A returning customer with purchases: the winback hero, the home grid by her categories; and
    // a real customer whose long history makes the snippet fetch many shards before it decides.
    for (const [vid, path] of [['t-returning', '/'], ['t-returning', '/p/10135'], [REAL, '/'], [REAL, '/p/10135']]) {
      await browser.clearCookies();
      await browser.addCookies([{ name: 'vitrine_vid', value: sign(vid), url: base }]);
      const page = await browser.newPage();
      // Every DOM change inside a placement from the end of parsing on (the snippet starts after
      // DOMContentLoaded).
      await page.addInitScript(() => {
        window.__changes = [];
        document.addEventListener('DOMContentLoaded', () => {
          new MutationObserver((records) => records.forEach((m) => {
            const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
            const box = el && el.closest('[data-vitrine-slot],[data-vitrine-list],[data-vitrine-recs]');
            if (box) window.__changes.push(`${m.type} ${m.attributeName || ''} in ${box.outerHTML.slice(0, 80)}`);
          })).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
        });
      });
      await page.goto(base + path);
      await page.waitForSelector('html[data-vitrine-ready]', { state: 'attached', timeout: 20000 });
      const decision = await page.evaluate(() => window.vitrine.decision);
      assert.ok(decision.slots.some((d) => d.variant) || path !== '/', `${vid}: the snippet decided a variant on the home page`);
      assert.ok(decision.recs.length > 0 && decision.recs.every((r) => !r.keep && r.items.length > 0), `${vid} ${path}: the snippet decided its widgets: ${JSON.stringify(decision.recs)}`);
      if (path === '/') assert.ok(decision.lists.some((l) => l.keys.some((k) => k !== 0)), `${vid}: the home grid is personalized (CSS order at the edge)`);
      assert.deepEqual(await page.evaluate(() => window.__changes), [], `${vid} ${path}`);
      await page.close();
    }
  } finally {
    await browser.close();
  }
});

test('the demo visitor switcher sets a signed cookie and only redirects on-site', async () => {
  const set = await get('/__vitrine/demo/become?vid=t-lapsed&next=/c/candles-lights');
  assert.equal(set.res.status, 302);
  assert.equal(set.res.headers.get('location'), '/c/candles-lights');
  const [cookie] = set.res.headers.getSetCookie();
  assert.match(cookie, new RegExp(`^vitrine_vid=${sign('t-lapsed')};`));
  for (const attr of ['Path=/', 'HttpOnly', 'SameSite=Lax']) assert.ok(cookie.includes(attr), `${attr} in ${cookie}`);

  // The cookie it set is the one the pages accept.
  const page = await get('/', cookie.split(';')[0]);
  assert.equal(page.vitrine, 'personalized');

  for (const next of ['//evil.example', 'https://evil.example/', '/\\evil.example', '']) {
    const r = await get(`/__vitrine/demo/become?vid=t-lapsed&next=${encodeURIComponent(next)}`);
    assert.equal(r.res.status, 302);
    assert.equal(r.res.headers.get('location'), '/', `next=${next}`);
  }
  const clear = await get('/__vitrine/demo/become?vid=&next=/');
  assert.match(clear.res.headers.getSetCookie()[0], /^vitrine_vid=;.*Max-Age=0/);
  assert.equal((await get('/__vitrine/demo/become?vid=%3Cscript%3E&next=/')).res.status, 400);
});

test('a trap in the Wasm serves the shop\'s page unchanged, and the next request works again', async () => {
  const res = await fetch(base + '/', { headers: { cookie: `vitrine_vid=${sign('t-lapsed')}`, 'x-vitrine-test-trap': '1' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-vitrine'), null);
  assert.equal(await res.text(), original, 'the fallback must be the file as the shop wrote it');
  const next = await get('/', `vitrine_vid=${sign('t-lapsed')}`);
  assert.equal(next.vitrine, 'personalized');
  assert.match(hero(next.text), /data-vitrine-variant="winback"/);
});

test('the shared decision cases decide identically at the edge', async (t) => {
  const file = join(root, 'tests', 'cases', 'decisions.json');
  if (!existsSync(file)) {
    t.skip('tests/cases/decisions.json does not exist yet');
    return;
  }
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  // The edge loads compiled rules only: the case bundle as `vitrine bundle` compiled it (scripts/build.sh).
  doc.bundle = JSON.parse(readFileSync(join(root, 'build', 'cases', 'bundle.json'), 'utf8'));
  assert.ok(doc.cases.length > 0);
  for (const c of doc.cases) {
    const res = await fetch(base + '/__vitrine/decide', { method: 'POST', body: JSON.stringify({ bundle: doc.bundle, case: c.input }) });
    const body = await res.text();
    assert.equal(res.status, 200, `${c.name}: ${body}`);
    assert.deepEqual(JSON.parse(body), c.expected, c.name);
  }
  // Rules calling matches(), format(), text editing (split(), substring()) or duration() of a
  // computed string: the edge evaluates them (the browser leaves these placements to it).
  const edgeOnly = JSON.parse(readFileSync(join(root, 'build', 'cases', 'edge-only-bundle.json'), 'utf8'));
  const res = await fetch(base + '/__vitrine/decide', { method: 'POST', body: JSON.stringify({ bundle: edgeOnly, case: EDGE_ONLY }) });
  const d = JSON.parse(await res.text());
  assert.deepEqual(d.slots.map((s) => [s.slot, s.variant, s.keep]), [['hero', 'gmail', undefined], ['tagline', 'spent', undefined], ['greeting', 'first', undefined], ['banner', 'regular', undefined], ['window', 'recent', undefined]]);
  assert.equal(d.slots[1].fields.headline, '120.50 spent');
  assert.equal(d.slots[2].fields.headline, 'Hi ann');
  assert.deepEqual(d.lists.map((l) => [l.list, l.items, l.keep]), [['promo', ['mug-2', 'mug-1'], undefined], ['grid', ['mug-1', 'mug-2'], undefined]]);
  const bad = await fetch(base + '/__vitrine/decide', { method: 'POST', body: '{"bundle":{},"case":{}}' });
  assert.equal(bad.status, 400);
});
