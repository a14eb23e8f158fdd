// The rules preview panel (/preview/) in real Chromium (Playwright + Debian's chromium) against the
// built demo shop on a plain static origin: the editor checks the configuration as it is typed, the
// framed shop re-personalizes in place through the snippet's preview hook, and replay runs the
// configuration over every real profile snapshot in the browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { launch } from '../lib/chromium.mjs';
import { startStatic } from '../lib/static-server.mjs';
import { lapsedProfile, XSS_NAME } from '../lib/fixtures.mjs';
import { modelHead } from '../lib/shards.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'demo-shop', 'dist');
assert.ok(existsSync(join(dist, 'preview', 'index.html')), 'run scripts/build.sh first (demo-shop/dist/preview is missing)');

const shipped = gunzipSync(readFileSync(join(dist, 'preview', 'profiles.jsonl.gz'))).toString('utf8')
  .split('\n').filter((l) => l.trim());
const snapshot = (id) => JSON.parse(shipped.find((l) => l.includes(`"id":"${id}"`)));
const LAPSED = 'c-13093'; // the demo's real lapsed big spender (personas.json)

let server, browser;
before(async () => {
  server = await startStatic(dist);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function openPanel() {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1600, height: 1000 });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss(); });
  // Which Wasm each document loads: the panel the developer build, the framed shop page the
  // production build that shop visitors get.
  const wasm = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasm.push(`${r.frame() === page.mainFrame() ? 'panel' : 'shop'} ${new URL(r.url()).pathname}`); });
  await page.goto(server.url + '/preview/');
  // The first personalization (a new visitor) has reached the trace.
  await page.waitForSelector('#trace [data-slot="hero"]', { timeout: 20000 });
  return { page, problems, wasm, frame: page.frame({ name: 'shop' }) };
}

const HERO = '[data-vitrine-slot="hero"]';
const headline = (frame) => frame.textContent(`${HERO} [data-vitrine-field="headline"]`);
const chosen = (page) => page.getAttribute('#trace [data-slot="hero"]', 'data-chosen');
const waitChosen = (page, variant) => page.waitForFunction(
  (v) => document.querySelector('#trace [data-slot="hero"]')?.dataset.chosen === v, variant, { timeout: 10000 });
const waitHeadline = (frame, text) => frame.waitForFunction(
  ([sel, t]) => document.querySelector(sel)?.textContent === t, [`${HERO} [data-vitrine-field="headline"]`, text], { timeout: 10000 });

async function pickCustomer(page, id) {
  await page.click('label:has(input[value="customer"])');
  await page.waitForFunction(() => document.querySelectorAll('#customer-list option').length > 0, null, { timeout: 20000 });
  await page.fill('#customer-search', id);
  await page.waitForFunction((v) => {
    const opts = document.querySelectorAll('#customer-list option');
    return opts.length === 1 && opts[0].value === v;
  }, id);
  await page.selectOption('#customer-list', id);
}

/** Puts the caret at `offset` in the editor, as a click there would. */
async function caretAt(page, start, end = start) {
  await page.focus('#site');
  await page.evaluate(([s, e]) => document.querySelector('#site').setSelectionRange(s, e), [start, end]);
}

test('the panel opens with the configuration, and a real lapsed big spender gets the winback hero', async () => {
  const { page, problems, frame, wasm } = await openPanel();
  assert.deepEqual(wasm.sort(), ['panel /preview/vitrine-dev_bg.wasm', 'shop /vitrine/vitrine_bg.wasm']);
  assert.equal(await page.inputValue('#site'), readFileSync(join(root, 'demo-shop', 'site.json'), 'utf8'));
  assert.equal(await page.textContent('#check-state'), 'valid');
  assert.equal(await page.isHidden('#errors'), true, 'no errors shown');
  // A new visitor without consent: decided, but from the page's own context only.
  await page.waitForFunction(() => !/deciding|starting/.test(document.querySelector('#page-state').textContent));
  assert.equal(await page.textContent('#page-state'), 'anonymous: page context only');

  await pickCustomer(page, LAPSED);
  await waitChosen(page, 'winback');
  await page.waitForFunction(() => document.querySelector('#page-state').textContent === 'personalized', null, { timeout: 10000 });
  const name = snapshot(LAPSED).traits.first_name;
  assert.ok(name, 'the persona has a first name');
  await waitHeadline(frame, `We miss you, ${name}`);
  assert.equal(await frame.getAttribute(HERO, 'data-vitrine-variant'), 'winback');
  const reason = await page.textContent('#trace [data-slot="hero"] .pv-reason');
  assert.match(reason, /winback/);
  assert.equal(await page.getAttribute('#trace [data-slot="hero"] [data-variant="winback"]', 'class'), 'pv-rule pv-chosen');
  assert.equal(await page.getAttribute('#trace [data-segment="lapsed_big_spender"]', 'data-value'), 'true');

  // The pages to preview include the shop's most popular products, as the engine ranks them.
  const offered = await page.$$eval('#page-select optgroup[label="Popular products"] option', (os) => os.map((o) => o.value));
  const ranked = modelHead(JSON.parse(readFileSync(join(dist, 'vitrine', 'bundle.json'), 'utf8')).model).popular;
  assert.equal(offered.length, 12, offered.join(' '));
  assert.ok(offered.every((v) => v.startsWith('/p/') && ranked.includes(v.slice(3))), offered.join(' '));

  // Navigating the frame re-applies the preview on each page it lands on.
  await page.selectOption('#page-select', '/c/candles-lights');
  await page.waitForSelector('#trace [data-list="category-grid"]', { timeout: 20000 });
  assert.equal(await page.$('#trace [data-slot="hero"]'), null, 'a category page has no hero');
  await page.selectOption('#page-select', '/');
  await waitChosen(page, 'winback');
  await waitHeadline(frame, `We miss you, ${name}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('structural mistakes are all listed at once, each at its line in the file, and the gutter marks them', async () => {
  const { page, problems } = await openPanel();
  const text = await page.inputValue('#site');
  // Two mistakes a rule checker never sees: a misspelled key and a time that is not one.
  const broken = text.replace('"priority": 30', '"priorty": 30').replace('"demo_now": "2011-12-10T00:00:00Z"', '"demo_now": "2011-12-10"');
  assert.ok(broken.includes('"priorty": 30') && broken.includes('"demo_now": "2011-12-10",'), 'both edits applied');
  await page.fill('#site', broken);
  await page.waitForFunction(() => document.querySelectorAll('#error-list .pv-error').length === 2, null, { timeout: 5000 });
  const errors = await page.$$eval('#error-list .pv-error', (els) => els.map((el) => el.textContent));
  assert.ok(errors.some((e) => /unknown field `priorty`/.test(e) && /did you mean `priority`\?/.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /demo_now/.test(e) && /expected an RFC 3339 time/.test(e)), errors.join('\n'));
  const lineOf = (needle) => broken.slice(0, broken.indexOf(needle)).split('\n').length;
  const locs = await page.$$eval('#error-list .pv-loc', (els) => els.map((el) => el.textContent));
  assert.deepEqual(locs.map((l) => Number(/^line (\d+):\d+$/.exec(l)?.[1])).sort((a, b) => a - b), [lineOf('"demo_now"'), lineOf('"priorty"')].sort((a, b) => a - b));
  assert.equal(await page.getAttribute(`#gutter div:nth-child(${lineOf('"priorty"')})`, 'class'), 'pv-err');
  assert.match(await page.textContent('#check-state'), /2 problems/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a typo in a rule is reported inline with its location, the page keeps its last good personalization, and fixing it clears the error', async () => {
  const { page, problems, frame } = await openPanel();
  await pickCustomer(page, LAPSED);
  await waitChosen(page, 'winback');
  const good = await headline(frame);

  const text = await page.inputValue('#site');
  const at = text.indexOf('profile.orders.count');
  await caretAt(page, at + 'profile.orde'.length);
  await page.keyboard.press('Backspace'); // profile.ordrs.count
  await page.waitForSelector('#errors:not([hidden]) .pv-error', { timeout: 5000 });
  const error = await page.textContent('#error-list');
  assert.match(error, /did you mean/);
  assert.match(error, /segments\.lapsed_big_spender\.when/);
  assert.match(await page.textContent('#error-list .pv-loc'), /^rule \d+:\d+$/);
  assert.match(await page.textContent('#error-list .pv-error-message'), /\d+:\d+/, 'the message carries line:col');
  assert.match(await page.textContent('#error-list pre'), /\^/, 'the rule excerpt with its caret');
  // The whole message is readable: it wraps inside the panel, nothing is cut off.
  assert.ok(await page.$eval('#error-list .pv-error-message', (el) => el.scrollWidth <= el.clientWidth), 'the message wraps');
  assert.match(await page.textContent('#check-state'), /1 problem/);
  // The gutter marks the editor line that holds the broken rule.
  const line = text.slice(0, at).split('\n').length;
  assert.equal(await page.getAttribute(`#gutter div:nth-child(${line})`, 'class'), 'pv-err');

  await page.waitForTimeout(400); // a (wrong) re-personalization would have landed by now
  assert.equal(await headline(frame), good);
  assert.equal(await frame.getAttribute(HERO, 'data-vitrine-variant'), 'winback');
  assert.equal(await chosen(page), 'winback');

  await caretAt(page, at + 'profile.ord'.length);
  await page.keyboard.type('e');
  await page.waitForSelector('#errors[hidden]', { state: 'attached', timeout: 5000 });
  assert.equal(await page.inputValue('#site'), text);
  assert.equal(await page.textContent('#check-state'), 'valid');
  assert.deepEqual(problems, []);
  await page.close();
});

test('editing a headline re-personalizes the framed page in place, without reloading it', async () => {
  const { page, problems, frame } = await openPanel();
  await pickCustomer(page, LAPSED);
  await waitChosen(page, 'winback');
  const name = snapshot(LAPSED).traits.first_name;
  await waitHeadline(frame, `We miss you, ${name}`);
  await frame.evaluate(() => { window.previewMarker = 'same document'; });
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === frame) navigations++; });

  const text = await page.inputValue('#site');
  const at = text.indexOf('We miss you');
  await caretAt(page, at, at + 'We miss you'.length);
  await page.keyboard.type('Come back soon');
  await waitHeadline(frame, `Come back soon, ${name}`);
  assert.equal(await frame.evaluate(() => window.previewMarker), 'same document');
  assert.equal(navigations, 0);
  assert.match(await page.textContent('#trace [data-slot="hero"] .pv-fields'), /Come back soon/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a composed visitor with three recent product views and no purchase is browsing, not buying', async () => {
  const { page, problems } = await openPanel();
  await page.click('label:has(input[value="composed"])');
  const bundle = JSON.parse(readFileSync(join(dist, 'vitrine', 'bundle.json'), 'utf8'));
  const ids = bundle.catalog.products.slice(0, 4).map((p) => p.id);
  const segment = () => page.getAttribute('#trace [data-segment="browsing_not_buying"]', 'data-value');
  const waitSegment = (v) => page.waitForFunction(
    (want) => document.querySelector('#trace [data-segment="browsing_not_buying"]')?.dataset.value === want, v, { timeout: 10000 });
  const addEvent = async (type, id) => {
    await page.selectOption('#ev-type', type);
    await page.fill('#ev-product', id);
    await page.click('#ev-add');
  };
  // The picked product with its price as the shop's pages write it (the site's locale, en-GB), not
  // as the catalog does ("12.75 GBP").
  const first = bundle.catalog.products[0];
  const [amount, currency] = first.price.split(' ');
  await page.fill('#ev-product', first.id);
  const price = new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(Number(amount));
  assert.equal(await page.textContent('#ev-product-name'), `${first.title} · ${price} · ${first.product_type}`);
  for (const id of ids.slice(0, 2)) await addEvent('view', id);
  await page.waitForSelector('#trace .pv-who[data-events="2"]', { timeout: 10000 });
  assert.equal(await segment(), 'false', 'two views are not enough');
  await addEvent('view', ids[2]);
  await waitSegment('true');
  assert.deepEqual(await page.$$eval('#event-list li', (lis) => lis.map((li) => li.dataset.event)), ['view_item', 'view_item', 'view_item']);
  const session = JSON.parse(await page.textContent('#input-session'));
  assert.equal(session.events.length, 3);
  assert.ok(session.events.every((e) => e.event === 'view'));
  // A purchase in the same week ends it.
  await addEvent('purchase', ids[3]);
  await waitSegment('false');
  assert.deepEqual(problems, []);
  await page.close();
});

test('replay over every real profile counts audiences, overlaps, variants and arms', async () => {
  const { page, problems } = await openPanel();
  await page.waitForSelector('#replay-run:not([disabled])', { timeout: 20000 });
  await page.click('#replay-run');
  await page.waitForSelector('#replay-ms', { timeout: 30000 });
  const buildProfiles = join(root, 'build', 'profiles.jsonl');
  if (existsSync(buildProfiles)) {
    assert.equal(shipped.length, readFileSync(buildProfiles, 'utf8').split('\n').filter((l) => l.trim()).length, 'every real profile ships');
  }
  const report = await page.evaluate(() => {
    const num = (el) => Number(el.dataset.count);
    const rows = (sel, key) => Object.fromEntries([...document.querySelectorAll(sel)].map((r) => [r.dataset[key], num(r)]));
    return {
      profiles: num(document.querySelector('#replay-profiles')),
      ms: Number(document.querySelector('#replay-ms').dataset.ms),
      segments: rows('#replay-segments [data-segment]', 'segment'),
      slots: Object.fromEntries([...document.querySelectorAll('#replay-slots [data-slot]')].map((s) => [s.dataset.slot, rows(`#replay-slots [data-slot="${s.dataset.slot}"] [data-variant]`, 'variant')])),
      arms: rows('#replay-experiments [data-experiment="winback-holdout"] [data-arm]', 'arm'),
      overlaps: [...document.querySelectorAll('#replay-overlaps td[data-a]')].map((td) => [td.dataset.a, td.dataset.b, num(td)]),
    };
  });
  console.log(`# metric: preview replay over ${report.profiles} profiles: ${report.ms.toFixed(1)} ms`);
  assert.equal(report.profiles, shipped.length);
  const site = JSON.parse(readFileSync(join(dist, 'preview', 'site.json'), 'utf8'));
  assert.deepEqual(Object.keys(report.segments).sort(), Object.keys(site.segments).sort());
  for (const [name, n] of Object.entries(report.segments)) assert.ok(n >= 0 && n <= report.profiles, name);
  assert.ok(report.segments.lapsed_big_spender > 0 && report.segments.overdue > 0, 'real customers fall into segments');
  const hero = report.slots.hero;
  assert.deepEqual(Object.keys(hero), [...site.slots.hero.map((v) => v.id), '(default)']);
  assert.equal(Object.values(hero).reduce((a, b) => a + b, 0), report.profiles, 'every profile sees one hero');
  // The winback experiment's audience is the segment: each of its members is in the arm or the holdout.
  assert.equal(report.arms.winback + report.arms.holdout, report.segments.lapsed_big_spender);
  assert.equal(report.arms.winback + report.arms.holdout + report.arms['(not assigned)'], report.profiles);
  assert.equal(hero.winback, report.arms.winback, 'the holdout sees the default');
  for (const [a, b, both] of report.overlaps) {
    if (a === b) assert.equal(both, report.segments[a], `${a} on the diagonal`);
    else assert.ok(both <= Math.min(report.segments[a], report.segments[b]), `${a} & ${b}`);
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('a composed first name made of markup shows as text in the page and the trace, and runs nothing', async () => {
  const { page, problems, frame } = await openPanel();
  await page.click('label:has(input[value="composed"])');
  const p = lapsedProfile(XSS_NAME);
  await page.fill('#c-id', p.id);
  await page.fill('#c-first-name', p.traits.first_name);
  await page.fill('#c-orders', String(p.orders.count));
  await page.fill('#c-revenue', String(p.orders.revenue));
  await page.fill('#c-last', p.orders.last.slice(0, 10));
  await waitChosen(page, 'winback');
  await waitHeadline(frame, `We miss you, ${XSS_NAME}`);
  assert.equal(await frame.$$eval(`${HERO} img`, (imgs) => imgs.length), 0);
  assert.equal(await page.$$eval('#trace img, .pv-visitor img', (imgs) => imgs.length), 0);
  assert.match(await page.textContent('#trace .pv-who'), new RegExp(XSS_NAME.replace(/[()]/g, '\\$&')));
  const fields = await page.$$eval('#trace [data-slot="hero"] .pv-fields dt', (dts) => Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  assert.equal(fields.headline, `We miss you, ${XSS_NAME}`);
  await page.waitForTimeout(200); // an onerror handler would have fired by now
  assert.deepEqual(problems, []);
  await page.close();
});
