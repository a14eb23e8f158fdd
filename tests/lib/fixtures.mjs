// Profile snapshots used by the browser and edge tests (the demo's clock is 2011-12-10).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A browser bundle as `vitrine bundle --shards N --sharded-out DIR` writes it (scripts/build.sh,
 * `browser_bundle`): the head's text and every shard file, its path relative to DIR and its bytes as
 * an array (so it crosses into a page). The production engine loads heads only; a test that gives it
 * a whole catalog and model adds every file: `openAll` does, in the page.
 */
export function browserBundle(dir) {
  const files = [];
  for (const d of readdirSync(dir).sort()) {
    if (!/^[mc]-[0-9a-f]+$/.test(d)) continue;
    for (const f of readdirSync(join(dir, d)).sort()) files.push([`${d}/${f}`, [...readFileSync(join(dir, d, f))]]);
  }
  return { head: readFileSync(join(dir, 'bundle.json'), 'utf8'), files };
}

/**
 * Source of a page function `openAll(V, b)`: an engine on `browserBundle`'s `b` with every shard
 * added, and `e.decide(markup, now)`: `decideSettling`'s decision, which with every file added
 * names no file to fetch (it throws if it does).
 */
export const OPEN_ALL = `window.openAll = (V, b) => {
  const e = new V.Vitrine(b.head);
  for (const [path, bytes] of b.files) e.addShard(path, new Uint8Array(bytes));
  e.decide = (markup, now) => {
    const [decision, ...missing] = e.decideSettling(markup, now).split('\\n');
    if (missing.length) throw new Error('files missing: ' + missing.join(' '));
    return decision;
  };
  return e;
};`;

export const XSS_NAME = '<img src=x onerror=alert(1)>';

export function lapsedProfile(firstName = 'Margaret', id = 'c-test-lapsed') {
  return {
    v: 1, id, consent: { personalization: true },
    traits: { first_name: firstName, loyalty_tier: 'gold' },
    orders: { count: 5, revenue: 4000, aov: 800, first: '2010-12-01T09:00:00Z', last: '2011-05-24T09:00:00Z' },
    segments: ['big_spender', 'lapsed'],
  };
}

// A visitor and a page for build/cases/edge-only-bundle.json (tests/cases/edge-only-site.json),
// whose hero and `promo` list are decided by rules calling matches(), its tagline by format(), its
// greeting by split() and substring(), and its window slot by duration() of a trait: the edge
// evaluates them, the browser's production build leaves those placements as served and decides the
// rest as the edge.
export const EDGE_ONLY = {
  profile: { v: 1, id: 'c-ann', consent: { personalization: true }, traits: { email: 'ann@gmail.com', window: '720h' }, orders: { count: 3, revenue: 120.5, last: '2011-11-20T00:00:00Z' } },
  now: '2011-12-10T00:00:00Z',
  request: {
    page: { type: 'home' },
    slots: ['hero', 'tagline', 'greeting', 'banner', 'window'],
    lists: [{ list: 'promo', items: ['mug-1', 'mug-2'] }, { list: 'grid', items: ['mug-1', 'mug-2'] }],
    recs: [],
  },
};

// A decision request (tests/cases/*.json) as a page's markup states it: the raw data-vitrine-*
// values the snippet hands the engine, which reads them (engine/src/decide/markup.rs).
export function toMarkup(request) {
  const attrs = (pairs) => Object.fromEntries(pairs.filter(([, v]) => v != null).map(([k, v]) => ['data-vitrine-' + k, String(v)]));
  const p = request.page || {};
  const markup = {
    page: attrs([['page', p.type], ['product', p.product], ['category', p.category]]),
    slots: request.slots || [],
    lists: request.lists || [],
    recs: (request.recs || []).map((r) => attrs([
      ['recs', r.widget], ['strategy', r.strategy], ['product', r.product], ['k', r.k], ['filter-category', r.category],
      ['price-min', r.price_min], ['price-max', r.price_max], ['max-per-category', r.max_per_category],
    ])),
  };
  if (request.trace) markup.trace = true;
  return markup;
}
