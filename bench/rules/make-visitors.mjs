// Writes bench/rules/visitors.json, the fixed visitors of the segment-rules bench: real profile
// snapshots from the demo build plus generated sessions over real catalog products.
//
//   node bench/rules/make-visitors.mjs   (needs `VITRINE_SKIP_EDGE=1 bash scripts/build.sh` once)
//
// The output is committed, so the bench does not depend on a rebuilt demo; rerun this only to
// change the visitors. Everything is seeded: the same inputs give the same file.
//
// Visitors (the first is the one that is timed; the others only check that Vitrine and GrowthBook
// agree on more than one input):
// - main: an active repeat buyer (snapshot c-16764, 20 recent purchases) with traits a CRM would
//   add, and a session of 180 events over ten days, so `events` holds 200; on a category page.
//   One view sits exactly 7 days before `now`, on the edge of the 7-day windows.
// - main_no_consent: the same snapshot and session without consent: Vitrine then sees only
//   `profile.consent` and the page (the session, too, waits for consent).
// - new_visitor: consent but no profile (no orders, RFM, lifecycle or traits), 12 events: toy
//   views and, this session, the purchase of an item that has since left the catalog (its event
//   has no price or category).
// - at_risk: an at-risk gold customer (snapshot c-12431), 40 events, on the product page of an
//   item in the cart, with a purchase of the same discontinued item too; traits with
//   `newsletter: "yes"` (a string, not a bool) and no first name.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const { now } = JSON.parse(readFileSync(join(here, 'rules.json'), 'utf8'));
const nowS = Date.parse(now) / 1000;
const catalog = JSON.parse(readFileSync(join(root, 'demo-shop/dist/vitrine/bundle.json'), 'utf8')).catalog.products;
const profiles = new Map(readFileSync(join(root, 'build/profiles.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => {
  const p = JSON.parse(l);
  return [p.id, p];
}));

/** RFC 3339 without fractions, as the engine prints times. */
const iso = (s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
const price = (p) => Number.parseFloat(p.price);

function rng(seed) {
  // mulberry32
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A session of `n` events over the `days` before now: mostly views, weighted by category; some
 * views lead to add_to_cart; one checkout buys up to three cart items. `extra` events are merged
 * in by time.
 */
function session(seed, n, days, weights, { checkoutDaysAgo = null, extra = [] } = {}) {
  const r = rng(seed);
  const byCat = new Map();
  for (const p of catalog) byCat.set(p.product_type, [...(byCat.get(p.product_type) || []), p]);
  const cats = Object.entries(weights);
  const total = cats.reduce((a, [, w]) => a + w, 0);
  const pick = () => {
    let x = r() * total;
    for (const [c, w] of cats) if ((x -= w) < 0) return c;
    return cats[0][0];
  };
  const times = Array.from({ length: n - extra.length }, () => nowS - 300 - Math.floor(r() * (days * 86400 - 300))).sort((a, b) => a - b);
  const events = [];
  const cart = [];
  const viewed = [];
  let orders = 0;
  let revenue = 0;
  let checkedOut = checkoutDaysAgo == null;
  for (let i = 0; i < times.length; i++) {
    const t = times[i];
    if (!checkedOut && t >= nowS - checkoutDaysAgo * 86400 && cart.length >= 3 && i + 3 <= times.length) {
      // The checkout: the three oldest cart items, bought together (three of the event slots).
      for (const id of cart.splice(0, 3)) {
        events.push({ id, time: iso(t), event: 'purchase' });
        revenue += price(catalog.find((p) => p.id === id));
      }
      orders += 1;
      checkedOut = true;
      i += 2;
      continue;
    }
    if (viewed.length > 2 && r() < 0.06) {
      const id = viewed[viewed.length - 1 - Math.floor(r() * Math.min(5, viewed.length))];
      if (!cart.includes(id)) {
        cart.push(id);
        events.push({ id, time: iso(t), event: 'add_to_cart' });
        continue;
      }
    }
    const list = byCat.get(pick());
    const p = list[Math.floor(r() * list.length)];
    viewed.push(p.id);
    events.push({ id: p.id, time: iso(t), event: 'view' });
  }
  events.push(...extra);
  events.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  return { cart, events, orders, revenue: Math.round(revenue * 100) / 100 };
}

const snapshot = (id, traits = {}) => {
  const p = structuredClone(profiles.get(id));
  if (!p) throw new Error(`no profile ${id} in build/profiles.jsonl`);
  p.traits = { ...p.traits, ...traits };
  return p;
};

const decor = catalog.find((p) => p.product_type === 'Home Decor').id;
const main = {
  name: 'main',
  page: { type: 'category', category: 'Home Decor' },
  profile: snapshot('c-16764', { first_name: 'Emma', household: 'family', children: 2, newsletter: true }),
  session: session(1, 180, 10,
    { 'Home Decor': 30, 'Kitchen & Dining': 20, 'Toys & Kids': 12, 'Candles & Lights': 10, 'Paper & Party': 10, 'Christmas & Seasonal': 8, 'Bags & Accessories': 5, 'Garden & Outdoor': 3, 'Storage & Boxes': 2 },
    { checkoutDaysAgo: 3, extra: [{ id: decor, time: iso(nowS - 7 * 86400), event: 'view' }] }),
};
const noConsent = { ...structuredClone(main), name: 'main_no_consent', page: { type: 'home' } };
noConsent.profile.consent = { personalization: false };
const newVisitor = {
  name: 'new_visitor',
  page: { type: 'product', product: '22423', category: 'Kitchen & Dining' },
  profile: { v: 1, id: 'v-5f1c2a', consent: { personalization: true } },
  session: { ...session(2, 12, 1, { 'Toys & Kids': 5, 'Paper & Party': 3, 'Garden & Outdoor': 2 },
    { extra: [{ id: '79323W', time: iso(nowS - 20 * 3600), event: 'purchase' }] }), orders: 1, revenue: 4.95 },
};
const atRiskSession = session(3, 40, 14, { 'Kitchen & Dining': 10, 'Garden & Outdoor': 6, 'Candles & Lights': 4, 'Toys & Kids': 3 },
  { extra: [{ id: '79323W', time: iso(nowS - 5 * 86400), event: 'purchase' }] });
const atRisk = {
  name: 'at_risk',
  page: { type: 'product', product: atRiskSession.cart[0] },
  profile: snapshot('c-12431', { household: 'single', newsletter: 'yes' }),
  session: atRiskSession,
};
if (catalog.some((p) => p.id === '79323W')) throw new Error('79323W is meant to be missing from the catalog');

const out = {
  v: 1,
  about: 'Fixed visitors for bench/rules (written by bench/rules/make-visitors.mjs; the first is timed). Profile snapshots and sessions in the engine\'s formats (docs/formats.md).',
  visitors: [main, noConsent, newVisitor, atRisk],
};
const events = (v) => (v.profile.consent?.personalization ? v.profile.recent_items?.length ?? 0 : 0) + v.session.events.length;
// One visitor object per line keeps the file diffable without making it 1,000 lines long.
const text = `{"v": 1,\n "about": ${JSON.stringify(out.about)},\n "visitors": [\n${out.visitors.map((v) => '  ' + JSON.stringify(v)).join(',\n')}\n ]}\n`;
writeFileSync(join(here, 'visitors.json'), text);
for (const v of out.visitors) console.log(`${v.name}: ${events(v)} events (${v.session.events.length} in the session), cart ${v.session.cart.length}, session orders ${v.session.orders}`);
