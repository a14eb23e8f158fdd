// A 100,000-product catalog in real Chromium: the page loads the bundle head and only the shard
// files its own placements read, and decides exactly as with the demo's 1,000-product catalog.
// The catalog is the demo's padded with synthetic products that share no word, type or brand with
// the real ones (cli/examples/big_catalog.rs), so every decision about real products is the same.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { launch } from '../lib/chromium.mjs';
import { startStatic } from '../lib/static-server.mjs';
import { lapsedProfile } from '../lib/fixtures.mjs';
import { modelHead } from '../lib/shards.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'demo-shop', 'dist');
const PRODUCTS = 100000;
const SHARDS = 4096;

let server, browser, work, big, profile, product;
before(async () => {
  work = mkdtempSync(join(tmpdir(), 'vitrine-scale-'));
  const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  run('cargo', ['run', '--release', '--quiet', '-p', 'vitrine-cli', '--example', 'big_catalog', '--',
    'build/catalog.json', String(PRODUCTS), join(work, 'catalog.json')]);
  big = join(work, 'browser');
  run(join(root, 'target', 'release', 'vitrine'), ['bundle', '--site', 'demo-shop/site.json', '--catalog', join(work, 'catalog.json'),
    '--model', 'build/model.json', '--out', join(work, 'edge.json'), '--shards', String(SHARDS), '--sharded-out', big]);
  const head = JSON.parse(readFileSync(join(big, 'bundle.json'), 'utf8'));
  // A returning customer whose history the `for_you` widget reads: five popular products.
  const { popular } = modelHead(head.model);
  profile = JSON.stringify({ ...lapsedProfile(), recent_items: popular.slice(2, 7).map((id, k) => ({ id, time: `2011-11-0${k + 1}T10:00:00Z`, event: 'purchase' })) });
  product = popular[9];
  server = await startStatic(dist, { profileFor: (cookie) => (/test_profile=returning/.test(cookie) ? profile : null) });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const SHARD_PATH = /\/vitrine\/([cm]-[0-9a-f]{16}\/[a-z]?\d+\.(?:json|vtm))$/;

// Visits `path` as the returning customer, with the demo's bundle or the 100k one; returns the
// decision and every request under /vitrine/.
async function visit(path, withBig) {
  await browser.clearCookies();
  await browser.addCookies([{ name: 'test_profile', value: 'returning', url: server.url }]);
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'warning' || m.type() === 'error') problems.push(`${m.type()}: ${m.text()}`); });
  if (withBig) {
    await page.route('**/vitrine/bundle.json', (route) => route.fulfill({ path: join(big, 'bundle.json'), contentType: 'application/json' }));
    await page.route(SHARD_PATH, (route) => route.fulfill({ path: join(big, SHARD_PATH.exec(new URL(route.request().url()).pathname)[1]) }));
  }
  const requests = [];
  page.on('request', (r) => { const u = new URL(r.url()); if (u.pathname.startsWith('/vitrine/')) requests.push(u.pathname); });
  await page.goto(server.url + path);
  await page.waitForSelector('html[data-vitrine-ready]', { state: 'attached', timeout: 20000 });
  const decision = await page.evaluate(() => window.vitrine.decision);
  await page.close();
  assert.deepEqual(problems, []);
  // The products the page shows: list items, widget items and the current product.
  const shown = decision.lists.reduce((n, l) => n + l.items.length, 0) + decision.recs.reduce((n, r) => n + r.items.length, 0) + 1;
  return { decision, requests, shown };
}

for (const [what, path] of [['the home page', '/'], ['a product page', null]]) {
  test(`${what} with a ${PRODUCTS.toLocaleString('en')}-product catalog fetches the head and its own shards, and decides as with 1,000`, async (t) => {
    const url = path ?? `/p/${product}`;
    const demo = await visit(url, false);
    const scaled = await visit(url, true);
    assert.deepEqual(scaled.decision, demo.decision, 'the same decision');
    assert.ok(scaled.decision.recs.every((r) => r.items.length > 0), 'every widget filled');
    const head = JSON.parse(readFileSync(join(big, 'bundle.json'), 'utf8'));
    const bases = [head.catalog.shards.base, modelHead(head.model).base];
    const shards = scaled.requests.filter((p) => SHARD_PATH.test(p));
    const rest = scaled.requests.filter((p) => !SHARD_PATH.test(p)).sort();
    assert.deepEqual(rest, ['/vitrine/bundle.json', '/vitrine/vitrine-worker.js', '/vitrine/vitrine.js', '/vitrine/vitrine_bg.wasm'], 'the head, never the edge bundle');
    assert.ok(shards.every((p) => bases.some((b) => p.startsWith(`/vitrine/${b}`))), `only the head's shards: ${shards}`);
    assert.equal(new Set(shards).size, shards.length, 'each file once');
    // Each file holds about 25 of the 100,000 products: the page reads its own products (list
    // items, widget items, the current product), the visitor's five history items' rows and the
    // candidates those rows name, a handful of files each, never a sizeable part of the catalog.
    const products = shards.filter((p) => p.startsWith(`/vitrine/${bases[0]}`));
    const budget = scaled.shown + 5 + 2 * scaled.decision.recs.length + 2;
    assert.ok(products.length <= budget, `${products.length} catalog files for ${scaled.shown} products shown (at most ${budget})`);
    assert.ok(shards.length < SHARDS / 20, `${shards.length} of ${3 * SHARDS} files`);
    t.diagnostic(`${shards.length} shard files (${products.length} of products) for ${scaled.shown} products shown; the demo's bundle: ${demo.requests.length - 3}`);
  });
}
