// The demo as a visitor sees it, in real Chromium at a desktop (1280×900) and a phone (390×844)
// size: screenshots of every kind of page are written to build/screenshots/ for a human to look
// at, and what a screenshot review would catch is asserted: no two controls overlap (the consent
// banner's buttons and the visitor switcher's pill included), nothing runs off the side of the
// screen, and a customer whose account records consent is not asked again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { launch } from '../lib/chromium.mjs';
import { startStatic } from '../lib/static-server.mjs';
import { lapsedProfile } from '../lib/fixtures.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'demo-shop', 'dist');
const shots = join(root, 'build', 'screenshots');
const SIZES = [[1280, 900], [390, 844]];
const product = readdirSync(join(dist, 'p')).find((f) => f.endsWith('.html')).replace(/\.html$/, '');
const PAGES = ['/', '/c/candles-lights', `/p/${product}`, '/insights/'];

let server;
let browser;
before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startStatic(dist, { profileFor: (cookie) => (/signed-in/.test(cookie) ? JSON.stringify(lapsedProfile('Oliver')) : null) });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * Visible controls whose boxes intersect, among those fixed to the viewport (banner, switcher) and
 * among those in the page's flow. A fixed overlay over content scrolling beneath it is by design.
 */
function overlaps(page) {
  return page.evaluate(() => {
    const controls = [...document.querySelectorAll('a[href], button, summary, input, select, textarea, [role="button"]')].filter((el) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && r.bottom > 0 && r.top < innerHeight;
    });
    const fixed = (el) => {
      for (let e = el; e; e = e.parentElement) if (getComputedStyle(e).position === 'fixed') return true;
      return false;
    };
    const name = (el) => `${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30)}"`;
    const found = [];
    for (let i = 0; i < controls.length; i++) {
      for (let j = i + 1; j < controls.length; j++) {
        const [a, b] = [controls[i], controls[j]];
        if (a.contains(b) || b.contains(a) || fixed(a) !== fixed(b)) continue;
        const [p, q] = [a.getBoundingClientRect(), b.getBoundingClientRect()];
        const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
        const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
        if (w > 1 && h > 1) found.push(`${name(a)} overlaps ${name(b)}`);
      }
    }
    return found;
  });
}

/** Product grids whose last row is short although they hold a full row's worth or more. */
function raggedRows(page) {
  return page.evaluate(() => [...document.querySelectorAll('.grid, .recs')].flatMap((grid) => {
    const cards = [...grid.children].filter((c) => c.tagName !== 'TEMPLATE' && c.getBoundingClientRect().height > 0);
    if (!cards.length) return [];
    const columns = getComputedStyle(grid).gridTemplateColumns.split(' ').length;
    const inLastRow = cards.filter((c) => c.offsetTop === cards[cards.length - 1].offsetTop).length;
    const what = grid.getAttribute('data-vitrine-recs') || grid.getAttribute('data-vitrine-list') || grid.className;
    return cards.length >= columns && inLastRow < columns ? [`${what}: ${cards.length} cards in ${columns} columns`] : [];
  }));
}

for (const [width, height] of SIZES) {
  test(`${width}×${height}: every kind of page lays out without overlapping controls or sideways scrolling`, async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width, height });
    for (const path of PAGES) {
      await page.goto(server.url + path);
      await page.waitForLoadState('load');
      await page.screenshot({ path: join(shots, `${width}x${height}${path.replace(/\W+/g, '-')}.png`) });
      assert.deepEqual(await overlaps(page), [], `${path} at ${width}×${height}`);
      assert.deepEqual(await raggedRows(page), [], `${path} at ${width}×${height}`);
      const wide = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      assert.ok(wide <= 0, `${path} at ${width}×${height} scrolls sideways by ${wide}px`);
    }
    // With the switcher open, its list stays on screen.
    await page.goto(server.url + '/');
    await page.click('.switcher summary');
    const box = await page.locator('.switcher').boundingBox();
    assert.ok(box.y >= 0 && box.x >= 0 && box.x + box.width <= width, JSON.stringify(box));
    await page.screenshot({ path: join(shots, `${width}x${height}-switcher-open.png`) });
    await page.close();
  });
}

test('the consent banner asks a new visitor, not a customer whose account records consent', async () => {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(server.url + '/');
  assert.equal(await page.isVisible('#consent'), true, 'a new visitor is asked');
  await page.context().addCookies([{ name: 'who', value: 'signed-in', url: server.url }]);
  await page.goto(server.url + '/');
  await page.waitForSelector('html[data-vitrine-ready]', { state: 'attached', timeout: 15000 });
  assert.equal(await page.isVisible('#consent'), false, 'the signed-in customer who consented is not asked again');
  await page.close();
});
