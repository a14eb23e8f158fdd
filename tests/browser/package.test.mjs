// The npm package the snippet build assembles (js-snippet/dist/package; built, not published from
// here): exactly the production files, the types, the licence, one version with the crates; and
// its ES module entry personalizing a page in real Chromium like the classic script does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { launch } from '../lib/chromium.mjs';
import { startStatic } from '../lib/static-server.mjs';
import { lapsedProfile } from '../lib/fixtures.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = join(root, 'js-snippet', 'dist', 'package');
const dist = join(root, 'demo-shop', 'dist');

test('the package holds the production files, types and licence, at the crates\' version', () => {
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  assert.deepEqual(readdirSync(pkg).sort(), [...manifest.files, 'package.json'].sort());
  assert.ok(!readdirSync(pkg).some((f) => f.includes('dev')), 'never the developer build');
  const cargo = readFileSync(join(root, 'Cargo.toml'), 'utf8').match(/\[workspace\.package\][^[]*?\nversion = "([^"]+)"/);
  assert.equal(manifest.version, cargo?.[1], 'one version for the crates and the package');
  assert.equal(manifest.license, 'Apache-2.0');
  for (const target of Object.values(manifest.exports['.'])) assert.ok(manifest.files.includes(target.replace('./', '')), target);
  assert.match(readFileSync(join(pkg, 'vitrine.mjs'), 'utf8'), /export\s*\{[^}]*\bready\b|export const ready/);
});

let server;
let browser;
before(async () => {
  server = await startStatic(dist, { profileFor: () => JSON.stringify(lapsedProfile('Ines')) });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('the ES module entry personalizes the page and resolves ready with window.vitrine', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The demo's home page with the module imported instead of the classic script tag.
  await page.route(`${server.url}/esm.html`, async (route) => {
    const home = await (await fetch(`${server.url}/`, { headers: { cookie: 'x=1' } })).text();
    const body = home.replace('<script async src="/vitrine/vitrine.js"></script>',
      '<script type="module">import { ready } from "/vitrine/vitrine.mjs"; ready.then((v) => { window.readyWith = v.decision; });</script>');
    assert.notEqual(body, home, 'the classic tag was replaced');
    await route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body });
  });
  await page.goto(`${server.url}/esm.html`);
  await page.waitForFunction(() => window.readyWith !== undefined, null, { timeout: 15000 });
  const { v, hero } = await page.evaluate(() => ({ v: window.readyWith.v, hero: window.readyWith.slots.find((s) => s.slot === 'hero') }));
  assert.equal(v, 1);
  assert.equal(hero.variant, 'winback');
  assert.equal(await page.textContent('[data-vitrine-slot="hero"] [data-vitrine-field="headline"]'), 'We miss you, Ines');
  assert.deepEqual(errors, []);
  await page.close();
});
