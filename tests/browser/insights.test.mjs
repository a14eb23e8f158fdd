// The owner's insights page (/insights/) in real Chromium (Playwright + Debian's chromium) against
// the built demo shop on a plain static origin: it renders at desktop and phone sizes without
// console errors, and the numbers it shows are the CLI's (build/kpis.json from `vitrine kpis`,
// build/uplift.json from `vitrine uplift` over the simulated experiment, build/clv.jsonl from
// `vitrine clv`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { launch } from '../lib/chromium.mjs';
import { startStatic } from '../lib/static-server.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'demo-shop', 'dist');
assert.ok(existsSync(join(dist, 'insights', 'index.html')), 'run scripts/build.sh first (demo-shop/dist/insights is missing)');

const kpis = JSON.parse(readFileSync(join(root, 'build', 'kpis.json'), 'utf8'));
const uplift = JSON.parse(readFileSync(join(root, 'build', 'uplift.json'), 'utf8'));
const clvFile = join(root, 'build', 'clv.jsonl');
const clv = readFileSync(clvFile, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

// The page's number formats, written independently of the Rust that renders them.
const gbp = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP' });
const gbpWhole = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP', maximumFractionDigits: 0, minimumFractionDigits: 0 });
const int = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const points = (d) => (Math.abs(d * 100) < 0.05 ? '0.0 pts' : `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)} pts`);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const monthName = (p) => `${MONTHS[Number(p.slice(5, 7)) - 1]} ${p.slice(0, 4)}`;

let server, browser;
before(async () => {
  server = await startStatic(dist);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function open(width, height) {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`); });
  await page.goto(server.url + '/insights/');
  return { page, problems };
}

test('the insights page renders at desktop and phone sizes, without errors or sideways scrolling', async () => {
  for (const [width, height] of [[1280, 900], [390, 844]]) {
    const { page, problems } = await open(width, height);
    assert.equal(await page.textContent('h1'), 'Insights');
    assert.ok(await page.isVisible('.badge-sim'), 'the experiment is labelled as simulated');
    assert.match(await page.textContent('.sim-note'), /Simulated data, real customers\..*planted/s);
    // Every chart is an accessible image with a title, and every chart card has its numbers as a table.
    const charts = await page.$$eval('svg.chart', (svgs) => svgs.map((s) => ({ role: s.getAttribute('role'), title: s.querySelector('title')?.textContent, w: s.getBoundingClientRect().width })));
    assert.ok(charts.length >= 9, `${charts.length} charts`);
    for (const c of charts) {
      assert.equal(c.role, 'img');
      assert.ok(c.title, 'chart title');
      assert.ok(c.w > 200 && c.w <= width, `chart width ${c.w} at ${width}`);
    }
    const cards = await page.$$eval('figure.chart-card', (fs) => fs.map((f) => !!f.querySelector('svg.chart') === !!f.querySelector('details table')));
    assert.ok(cards.every(Boolean), 'a table beside every chart');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at ${width}`);
    assert.deepEqual(problems, [], `at ${width}x${height}`);
    await page.close();
  }
});

test("the page's KPIs are the CLI's", async () => {
  const { page, problems } = await open(1280, 900);
  // Every month's revenue in the revenue chart's table.
  const rows = await page.$$eval('#revenue tbody tr', (trs) => trs.map((tr) => [tr.querySelector('th').textContent, tr.querySelector('[data-k="revenue"]').textContent]));
  assert.equal(rows.length, kpis.periods.length);
  kpis.periods.forEach((p, i) => {
    assert.ok(rows[i][0].startsWith(monthName(p.period)), `${rows[i][0]} is ${p.period}`);
    assert.equal(rows[i][1], gbp.format(p.revenue), p.period);
  });
  // Orders and active customers of every month.
  const orders = await page.$$eval('#orders [data-k="orders"]', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(orders, kpis.periods.map((p) => int.format(p.orders)));
  const customers = await page.$$eval('#customers [data-k="customers"]', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(customers, kpis.periods.map((p) => int.format(p.customers)));
  // The tiles: the last month that has ended, against the one before.
  const full = kpis.periods.filter((p) => p.end <= kpis.as_of);
  const [prev, cur] = full.slice(-2);
  assert.match(await page.textContent('#tiles-h'), new RegExp(`^${monthName(cur.period)} at a glance`));
  assert.equal(await page.textContent('[data-kpi="revenue"] .kpi-value'), gbpWhole.format(cur.revenue));
  assert.equal(await page.textContent('[data-kpi="orders"] .kpi-value'), int.format(cur.orders));
  const change = `${cur.revenue >= prev.revenue ? '+' : ''}${((cur.revenue / prev.revenue - 1) * 100).toFixed(1)} %`;
  assert.ok((await page.textContent('[data-kpi="revenue"] .change')).includes(change), change);
  // The cohort heatmap: one row per cohort, the first cohort's size and its first month back.
  const cohortRows = await page.$$('#cohort-table tbody tr');
  assert.equal(cohortRows.length, kpis.cohorts.length);
  const first = kpis.cohorts[0];
  assert.equal(await page.textContent('#cohort-table tbody tr:first-child th'), monthName(first.cohort));
  assert.equal(await page.textContent('#cohort-table tbody tr:first-child [data-k="customers"]'), int.format(first.customers));
  assert.equal(await page.textContent('#cohort-table tbody tr:first-child td:nth-of-type(3)'), `${Math.round(first.retention[1] * 100)} %`);
  // Revenue by lifecycle stage in the last full month.
  const loyal = await page.textContent('#by-stage [data-k="loyal"]');
  assert.equal(loyal, gbp.format(cur.revenue_by_stage.loyal));
  assert.deepEqual(problems, []);
  await page.close();
});

test("the simulated experiment report is vitrine uplift's", async () => {
  const { page, problems } = await open(1280, 900);
  const [id, exp] = Object.entries(uplift.experiments)[0];
  const [arm, a] = Object.entries(exp.arms)[0];
  const report = `[data-experiment="${id}"]`;
  assert.equal(await page.textContent(`${report} [data-arm="${arm}"] [data-k="uplift-abs"]`), points(a.uplift.abs));
  assert.equal(await page.textContent(`${report} [data-arm="${arm}"] [data-k="uplift-lo"]`), points(a.uplift.lo));
  assert.equal(await page.textContent(`${report} [data-arm="${arm}"] [data-k="uplift-hi"]`), points(a.uplift.hi));
  assert.equal(await page.textContent(`${report} [data-k="srm-p"]`), exp.srm_p.toFixed(3));
  const visitors = await page.$$eval(`${report} [data-k="visitors"]`, (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(visitors, [int.format(exp.control_group.visitors), int.format(a.visitors)]);
  const simulation = JSON.parse(readFileSync(join(dist, 'insights', 'simulation.json'), 'utf8'));
  assert.equal(simulation.simulated, true);
  assert.equal(exp.visitors, simulation.eligible, 'every simulated visitor is in the report');
  assert.ok((await page.textContent('.sim-note')).includes(points(simulation.model.planted_uplift)));
  assert.deepEqual(problems, []);
  await page.close();
});

test('the CLV section shows vitrine clv\'s predictions', async () => {
  const { page, problems } = await open(1280, 900);
  assert.ok(clv.length > 0, 'build/clv.jsonl has customers');
  assert.equal(await page.textContent('[data-kpi="clv-customers"] .kpi-value'), int.format(clv.length));
  const total = clv.reduce((s, c) => s + c.expected_value, 0);
  assert.equal(await page.textContent('[data-kpi="clv-total"] .kpi-value'), gbpWhole.format(total));
  const binned = await page.$$eval('#clv-value [data-k="customers"]', (tds) => tds.map((td) => Number(td.textContent.replace(/,/g, ''))));
  assert.equal(binned.reduce((s, n) => s + n, 0), clv.length);
  assert.deepEqual(problems, []);
  await page.close();
});

test('every shop page links to the insights page', async () => {
  const home = await (await fetch(server.url + '/')).text();
  assert.ok(home.includes('<a class="header-link" href="/insights/">Insights</a>'));
  const insights = await (await fetch(server.url + '/insights/')).text();
  assert.ok(!insights.includes('/vitrine/vitrine.js'), 'the owner\'s page loads no snippet');
});
