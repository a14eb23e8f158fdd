// Faults at the edge, in real workerd: a corrupt or missing edge bundle, a profile store that is not
// there (a missing KV binding), KV values that are not the visitor's or too large. Every page is
// still served with the shop's content intact and the right `x-vitrine` reason; a broken bundle is
// not re-read by every request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lapsedProfile } from '../lib/fixtures.mjs';
import { startEdge, configVariant, dist, sign } from '../lib/edge.mjs';

const original = readFileSync(join(dist, 'index.html'), 'utf8');
let tmp;

/** The demo configuration over a changed copy of Vitrine's files (tests/lib/edge.mjs). */
function variant(name, edit, tomlEdit) {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  return configVariant(dir, edit, tomlEdit);
}

before(() => { tmp = mkdtempSync(join(tmpdir(), 'vitrine-faults-')); });
after(() => tmp && rmSync(tmp, { recursive: true, force: true }));

const LAPSED = { cookie: `vitrine_vid=${sign('t-lapsed')}` };

for (const [what, edit] of [
  ['a corrupt edge bundle', (dir) => writeFileSync(join(dir, 'edge', 'bundle.json'), readFileSync(join(dir, 'edge', 'bundle.json'), 'utf8').slice(0, 5000))],
  ['a missing edge bundle', (dir) => unlinkSync(join(dir, 'edge', 'bundle.json'))],
]) {
  test(`${what}: every page is the shop's own, and the bundle is not re-read per request`, async () => {
    const edge = await startEdge({ configFile: variant(what.replace(/\W+/g, '-'), edit), profiles: { 't-lapsed': lapsedProfile('Tess', 't-lapsed') } });
    try {
      const pages = await Promise.all(Array.from({ length: 24 }, () => fetch(edge.base + '/', { headers: LAPSED })
        .then(async (r) => ({ status: r.status, vitrine: r.headers.get('x-vitrine'), text: await r.text() }))));
      for (const p of pages) {
        assert.equal(p.status, 200, p.text.slice(0, 300) + edge.log().slice(-1500));
        assert.equal(p.vitrine, 'bypass; reason=bundle');
        assert.equal(p.text, original);
      }
      // One load attempt (and its loud log line) for the whole burst: the failure is cached.
      for (let i = 0; i < 30 && !/edge bundle unavailable/.test(edge.log()); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(edge.log().match(/edge bundle unavailable/g)?.length, 1, edge.log());
      // Assets and the snippet are unaffected.
      assert.equal((await fetch(edge.base + '/vitrine/vitrine.js')).status, 200);
    } finally {
      await edge.close();
    }
  });
}

test('without the profile store every visitor gets the anonymous page; a foreign or oversized snapshot is refused', async () => {
  // No KV binding at all: a misconfigured deployment.
  const noKv = variant('no-kv', () => {}, (t) => t.replace(/\[\[kv_namespaces\]\][^[]*/, ''));
  let edge = await startEdge({ configFile: noKv });
  try {
    const res = await fetch(edge.base + '/', { headers: LAPSED });
    assert.equal(res.headers.get('x-vitrine'), 'default; reason=kv-error');
    const text = await res.text();
    assert.ok(text.includes('Gifts for every occasion'), 'the default hero');
  } finally {
    await edge.close();
  }

  edge = await startEdge({
    profiles: {
      // Another customer's snapshot under this visitor's key: never shown to them.
      't-lapsed': lapsedProfile('Someone Else', 't-other'),
      // 200 KB of traits: beyond the snapshot cap (docs/formats.md).
      't-huge': { ...lapsedProfile('Huge', 't-huge'), traits: { first_name: 'Huge', notes: 'x'.repeat(200_000) } },
    },
  });
  try {
    for (const [cookie, reason] of [[LAPSED, 'bad-profile'], [{ cookie: `vitrine_vid=${sign('t-huge')}` }, 'bad-profile']]) {
      const res = await fetch(edge.base + '/', { headers: cookie });
      assert.equal(res.headers.get('x-vitrine'), `default; reason=${reason}`);
      const text = await res.text();
      assert.ok(!text.includes('Someone Else') && !text.includes('x'.repeat(1000)), 'nothing of the stored value reaches the page');
      assert.ok(text.length < original.length * 2);
    }
    for (let i = 0; i < 30 && !/t-other/.test(edge.log()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(edge.log(), /profile:t-lapsed holds the snapshot of "t-other"/);
  } finally {
    await edge.close();
  }
});
