// Segment rules in Chromium: Vitrine's Wasm build (JSON boundary included) against GrowthBook's JS
// condition evaluator, in the same page and the same run, on the rules of bench/rules/rules.json
// and the visitors of bench/rules/visitors.json. bench/rules/run.sh builds the Wasm, runs the
// native bench and calls this; see there for the whole picture.
//
//   node bench/rules/bench.mjs --pkg DIR --wasm FILE [--native FILE] [--criterion DIR]
//                              [--rounds 21] [--calls 100] [--json OUT] [--out FILE.md] [--no-profile]
//                              [--commit TEXT]
//
// --pkg: wasm-bindgen's no-modules output (vitrine_snippet.js and the Wasm before wasm-opt, which
// keeps function names for the CPU profile); --wasm: the optimized Wasm that is timed.
//
// 1. Correctness: for every visitor, every rule both can express must give the same true/false in
//    Vitrine (Wasm) and GrowthBook, and Vitrine's answers for all 50 must equal the native engine's
//    (--native, written by engine/benches/rules.rs). Any mismatch is printed and the run fails.
//    The naive translations in rules.json's `pitfalls` are evaluated too, and where they differ
//    is reported (not a failure: they show the semantic gaps the guarded rules work around).
// 2. Per visitor, the first one: `engine.segments(pageJson, now)` + `JSON.parse` of its result for
//    all 50 rules and for the 40 both can express, and GrowthBook's `evalCondition(attributes, c)`
//    for those 40, collected into an object the same way. Every call evaluates every rule afresh.
//    The engine keeps the visitor's variables between calls until the profile or session changes:
//    Vitrine is timed with them kept and with them rebuilt (grantConsent() before each call drops
//    them). GrowthBook's attributes are built once, outside the timing. Batches of the five
//    alternate, so the machine's load falls on all of them alike; each reports the median of its
//    batches.
// 3. Each rule alone: a site with the rule once against one with 5 copies of it gives the time of
//    one evaluation; cold calls of rules that only read one variable give what building it costs;
//    GrowthBook's evalCondition of the same rule alone beside them.
// 4. A CPU profile of the all-rules call (the build before wasm-opt, for names), split by phase.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launch } from '../../tests/lib/chromium.mjs';
import { profilePage, startIsolatedServer } from '../lib/chromium-profile.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const { values: opt } = parseArgs({
  options: {
    pkg: { type: 'string' },
    wasm: { type: 'string' },
    native: { type: 'string' },
    criterion: { type: 'string' },
    rounds: { type: 'string', default: '21' },
    calls: { type: 'string', default: '100' },
    json: { type: 'string' },
    out: { type: 'string' },
    'no-profile': { type: 'boolean', default: false },
    commit: { type: 'string' },
  },
});
if (!opt.pkg || !opt.wasm) {
  console.error('usage: node bench/rules/bench.mjs --pkg DIR --wasm FILE [...]; bench/rules/run.sh builds both');
  process.exit(2);
}

const rulesDoc = JSON.parse(readFileSync(join(here, 'rules.json'), 'utf8'));
const visitorsDoc = JSON.parse(readFileSync(join(here, 'visitors.json'), 'utf8'));
const demoText = readFileSync(join(root, 'demo-shop/dist/vitrine/bundle.json'), 'utf8');
const demo = JSON.parse(demoText);
const gbPackage = JSON.parse(readFileSync(join(root, 'node_modules/@growthbook/growthbook/package.json'), 'utf8'));
const gbScript = readFileSync(join(root, 'node_modules/@growthbook/growthbook/dist/bundles/index.min.js'));
const products = new Map(demo.catalog.products.map((p) => [p.id, p]));
const rules = rulesDoc.rules;
const both = rules.filter((r) => r.growthbook != null);
const nowMs = Date.parse(rulesDoc.now);
const pitfalls = (rulesDoc.pitfalls ?? []).map((p, i) => ({ ...p, id: `pitfall_${i}` }));

/** A site whose segments are `rs`, no clock pinned: `now` comes from the call. */
const siteFor = (rs) => ({ v: 1, segments: Object.fromEntries(rs.map((r) => [r.id, { when: r.cel }])) });
const bundleFor = (rs) => JSON.stringify({ ...demo, site: siteFor(rs) });

/** RFC 3339 in whole seconds, UTC, as the engine prints times (so ISO strings order like times). */
const iso = (t) => new Date(Date.parse(t)).toISOString().replace(/\.000Z$/, 'Z');
const GA4 = { view: 'view_item', add_to_cart: 'add_to_cart', purchase: 'purchase' };

/**
 * GrowthBook's attributes for a visitor: the same information Vitrine's rule variables hold
 * (engine/src/decide/vars.rs, `Vars`), as plain JSON. Times are ISO strings, since GrowthBook
 * compares strings and numbers but has no time type.
 */
function attributes(v) {
  const snap = v.profile;
  const consent = snap.consent?.personalization === true;
  // Before consent Vitrine reads neither the snapshot nor the session, only the page (docs/markup.md,
  // "Consent"; a site may opt in to the session with consent.session_before_consent, this one does not).
  const s = consent ? v.session : { events: [], cart: [], orders: 0, revenue: 0 };
  const tagged = [...(consent ? snap.recent_items ?? [] : []).map((r) => [r, 'snapshot']), ...s.events.map((r) => [r, 'session'])];
  tagged.sort((a, b) => Date.parse(a[0].time) - Date.parse(b[0].time)); // stable, as in the engine
  const events = tagged.map(([r, source]) => {
    const e = { type: GA4[r.event], item: r.id, source, time: iso(r.time) };
    const p = products.get(r.id);
    if (p) Object.assign(e, { price: Number.parseFloat(p.price), category: p.product_type });
    return e;
  });
  const viewed = [];
  for (const e of s.events) {
    const c = products.get(e.id)?.product_type;
    if (c && !viewed.includes(c)) viewed.push(c);
  }
  const session = {
    cart: s.cart ?? [], cart_size: (s.cart ?? []).length, views: s.events.filter((e) => e.event === 'view').length,
    orders: s.orders ?? 0, revenue: s.revenue ?? 0, viewed_categories: viewed,
  };
  const page = { type: v.page.type ?? '' };
  if (v.page.product != null) page.product = v.page.product;
  if (v.page.category != null) page.category = v.page.category;
  const a = { consent: { personalization: consent }, events, session, page };
  if (!consent) return a; // without consent Vitrine's `profile` holds only `consent`
  const o = snap.orders ?? {};
  a.id = snap.id;
  a.traits = snap.traits ?? {};
  a.orders = { count: (o.count ?? 0) + session.orders, revenue: (o.revenue ?? 0) + session.revenue, aov: o.aov ?? 0 };
  if (o.first) a.orders.first = iso(o.first);
  if (o.last) a.orders.last = iso(o.last);
  a.recent_items = (snap.recent_items ?? []).map((r) => ({ id: r.id, time: iso(r.time), event: GA4[r.event] }));
  a.affinities = snap.affinities ?? {};
  a.segments = snap.segments ?? [];
  if (snap.rfm) a.rfm = { ...snap.rfm, ...(snap.rfm.as_of ? { as_of: iso(snap.rfm.as_of) } : {}) };
  if (snap.lifecycle) a.lifecycle = { ...snap.lifecycle, ...(snap.lifecycle.as_of ? { as_of: iso(snap.lifecycle.as_of) } : {}) };
  return a;
}

/** Which of the rule variables a rule reads (for the per-rule split). */
const reads = (cel) => ['profile', 'events', 'session', 'page'].filter((n) => new RegExp(`(^|[^.\\w])${n}\\b`).test(cel));

// Rules that read one variable and do nothing else: what building it costs in a call.
const BASELINES = { call: 'true', profile: "has(profile.id)", events: 'size(events) >= 0', session: 'session.views >= 0', page: "page.type != ''" };

// Copies of a rule in one site, to time its evaluation apart from the call around it.
const COPIES = 5;

const input = {
  nowMs,
  bundleAll: bundleFor(rules),
  bundleBoth: bundleFor(both),
  conditions: both.map((r) => [r.id, r.growthbook]),
  pitfalls,
  bundlePitfalls: bundleFor(pitfalls.filter((p) => p.cel)),
  copies: COPIES,
  rules: rules.map((r) => ({
    id: r.id, growthbook: r.growthbook, site: JSON.stringify(siteFor([r])),
    siteK: JSON.stringify(siteFor(Array.from({ length: COPIES }, (_, k) => ({ id: `${r.id}_${k}`, cel: r.cel })))),
  })),
  baselines: Object.entries(BASELINES).map(([id, cel]) => ({ id, site: JSON.stringify(siteFor([{ id: 'baseline', cel }])) })),
  visitors: visitorsDoc.visitors.map((v) => ({
    name: v.name, profileJson: JSON.stringify(v.profile), sessionJson: JSON.stringify(v.session), pageJson: JSON.stringify(v.page),
    attributes: attributes(v),
  })),
  rounds: Number(opt.rounds),
  calls: Number(opt.calls),
};

/** In the page: every visitor's answers from Vitrine (both rule sets) and GrowthBook. */
async function answersInPage(input) {
  const V = wasm_bindgen;
  const { evalCondition } = growthbook;
  const all = new V.Vitrine(input.bundleAll);
  const both = new V.Vitrine(input.bundleBoth);
  const naive = new V.Vitrine(input.bundlePitfalls);
  const out = [];
  for (const v of input.visitors) {
    for (const e of [all, both, naive]) {
      e.setProfile(v.profileJson);
      e.setSession(v.sessionJson);
    }
    const gb = {};
    for (const [id, c] of input.conditions) gb[id] = evalCondition(v.attributes, c);
    const naiveGb = {};
    for (const p of input.pitfalls) if (p.growthbook) naiveGb[p.id] = evalCondition(v.attributes, p.growthbook);
    out.push({
      name: v.name, all: JSON.parse(all.segments(v.pageJson, input.nowMs)), both: JSON.parse(both.segments(v.pageJson, input.nowMs)), gb,
      naive: { ...JSON.parse(naive.segments(v.pageJson, input.nowMs)), ...naiveGb },
    });
  }
  for (const e of [all, both, naive]) e.free();
  return out;
}

/** In the page: the timings (see the header). Self-contained: Playwright sends it as source. */
async function timeInPage(input) {
  const V = wasm_bindgen;
  const { evalCondition } = growthbook;
  const { nowMs, rounds, calls } = input;
  const main = input.visitors[0];
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  let sink = 0; // keeps every result alive
  const warm = (fn, n = 300, ms = 150) => { const end = performance.now() + ms; for (let i = 0; i < n || performance.now() < end; i++) sink ^= fn() ? 1 : 0; };
  const batch = (fn, n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sink ^= fn() ? 1 : 0;
    return ((performance.now() - t0) / n) * 1000;
  };
  const engine = (bundle) => {
    const e = new V.Vitrine(bundle);
    e.setProfile(main.profileJson);
    e.setSession(main.sessionJson);
    return e;
  };
  const all = engine(input.bundleAll);
  const both = engine(input.bundleBoth);
  const attrs = main.attributes;
  const conds = input.conditions;
  // "cold": the engine keeps the visitor's variables between calls and drops them on any change
  // to the profile or session; grantConsent() is such a change that changes nothing here (consent
  // is already granted), so the call after it rebuilds them, as the first decision of a page view
  // or the one after a dataLayer event does.
  const contenders = {
    vitrine_all: () => JSON.parse(all.segments(main.pageJson, nowMs)),
    vitrine_both: () => JSON.parse(both.segments(main.pageJson, nowMs)),
    vitrine_all_cold: () => { all.grantConsent(); return JSON.parse(all.segments(main.pageJson, nowMs)); },
    vitrine_both_cold: () => { both.grantConsent(); return JSON.parse(both.segments(main.pageJson, nowMs)); },
    growthbook_both: () => {
      const out = {};
      for (let i = 0; i < conds.length; i++) out[conds[i][0]] = evalCondition(attrs, conds[i][1]);
      return out;
    },
  };
  const names = Object.keys(contenders);
  for (const n of names) warm(contenders[n]);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(r + k) % names.length]; // a different order every round
      samples[n].push(batch(contenders[n], calls));
    }
  }
  const out = { crossOriginIsolated: globalThis.crossOriginIsolated ?? null, rounds, calls, main: main.name, contenders: {} };
  for (const n of names) out.contenders[n] = { median_us: median(samples[n]), min_us: Math.min(...samples[n]), max_us: Math.max(...samples[n]), batches: samples[n].length, calls_per_batch: calls };

  // Each rule alone, variables cached: a site with the rule once and one with K copies of it,
  // batches alternating; the difference is K - 1 evaluations. What building a variable costs:
  // cold calls of a rule that only reads it, less a cold call of `true`. The machine is shared
  // and its noise only ever adds time, so these take the fastest of their batches.
  const one = engine(input.bundleAll);
  const many = engine(input.bundleAll);
  const seg1 = () => JSON.parse(one.segments(main.pageJson, nowMs));
  const segK = () => JSON.parse(many.segments(main.pageJson, nowMs));
  const cold1 = () => { one.grantConsent(); return JSON.parse(one.segments(main.pageJson, nowMs)); };
  const B = 9;
  const N = 40;
  out.baselines = {};
  for (const b of input.baselines) {
    one.setSite(b.site);
    warm(cold1, 50, 20);
    const xs = [];
    for (let i = 0; i < B; i++) xs.push(batch(cold1, N));
    out.baselines[b.id] = Math.min(...xs);
  }
  out.copies = input.copies;
  out.rules = [];
  for (const r of input.rules) {
    one.setSite(r.site);
    many.setSite(r.siteK);
    warm(seg1, 30, 10);
    warm(segK, 30, 10);
    const t1 = [];
    const tK = [];
    for (let i = 0; i < B; i++) {
      t1.push(batch(seg1, N));
      tK.push(batch(segK, N));
    }
    const eval_us = (Math.min(...tK) - Math.min(...t1)) / (input.copies - 1);
    let growthbook_us = null;
    if (r.growthbook) {
      const c = r.growthbook;
      const fn = () => evalCondition(attrs, c);
      warm(fn, 500, 20);
      const xs = [];
      for (let i = 0; i < B; i++) xs.push(batch(fn, 1000));
      growthbook_us = Math.min(...xs);
    }
    out.rules.push({ id: r.id, eval_us, growthbook_us });
  }
  for (const e of [all, both, one, many]) e.free();
  out.sink = sink;
  return out;
}

/** Samples V8's profiler over the all-rules call on the named (unoptimized) build; time by phase. */
async function profilePhases(browser, base, input, cold) {
  const page = await browser.newPage();
  await page.goto(`${base}/profile.html`);
  await page.evaluate(async ([input, cold]) => {
    await wasm_bindgen({ module_or_path: '/pkg/vitrine_snippet_bg.wasm' });
    const v = input.visitors[0];
    const e = new wasm_bindgen.Vitrine(input.bundleAll);
    e.setProfile(v.profileJson);
    e.setSession(v.sessionJson);
    window.__run = (ms) => {
      const end = performance.now() + ms;
      let n = 0;
      while (performance.now() < end) {
        if (cold) e.grantConsent();
        JSON.parse(e.segments(v.pageJson, input.nowMs));
        n++;
      }
      return n;
    };
    window.__run(300);
  }, [input, cold]);
  // The variables are built lazily, from inside the evaluator (the `OnceCell`s of `Vars`, filled
  // by `Vars::get`), so a sample is "building the variables" when such a frame sits below an
  // evaluator frame, and "rule evaluation" when only evaluator frames do.
  const EVAL = /vitrine_engine::cel::|vitrine_engine::condition::Condition::/;
  const VARS = /OnceCell<T>::try_init|vitrine_engine::condition::map\b|condition::Vars as .*Activation>::get|condition::Vars::\w+_value/;
  const phaseOf = (stack) => { // root first
    const e = stack.findIndex((f) => EVAL.test(f.functionName));
    if (e >= 0 && stack.slice(e + 1).some((f) => VARS.test(f.functionName))) return 'building the variables (Vars: profile, events, session, page)';
    if (e >= 0) return 'rule evaluation (cel)';
    if (stack.some((f) => /drop_in_place<vitrine_engine::condition::Vars>/.test(f.functionName))) return 'freeing the variables (drop of Vars)';
    if (stack.some((f) => /serde_json[^a-z]*ser[^a-z]|Serialize/.test(f.functionName))) return 'result serialize (serde_json)';
    if (stack.some((f) => /serde_json[^a-z]*de[^a-z]|Deserialize/.test(f.functionName))) return 'page parse (serde_json)';
    return null;
  };
  const result = await profilePage(page, 1500, (stack, leaf) => {
    const phase = phaseOf(stack);
    if (phase) return phase;
    const wasm = leaf.url.includes('wasm') || /^\$|^_ZN|wasm-function|::/.test(leaf.functionName);
    return leaf.functionName === '(garbage collector)' ? 'JS garbage collector'
      : leaf.functionName === 'parse' ? 'JSON.parse of the result (JS)'
        : wasm ? 'other Wasm (adapter, allocator, memcpy)' : 'JS glue (strings in and out, call)';
  });
  await page.close();
  return result;
}

// The glue, then the engine's methods by name (js-snippet/api.js), as the shipped scripts have them.
const glue = readFileSync(join(opt.pkg, 'vitrine_snippet.js')) + readFileSync(join(root, 'js-snippet/api.js'));
const page = '<!doctype html><title>rules bench</title><script src="/pkg/vitrine_snippet.js"></script><script src="/growthbook.min.js"></script>';
const server = await startIsolatedServer({
  '/': page,
  '/profile.html': page,
  '/pkg/vitrine_snippet.js': glue,
  '/pkg/vitrine_snippet_bg.wasm': readFileSync(join(opt.pkg, 'vitrine_snippet_bg.wasm')),
  '/vitrine_bg.wasm': readFileSync(opt.wasm),
  '/growthbook.min.js': gbScript,
  '/favicon.ico': '',
});
const result = {
  date: new Date().toISOString(), wasm_bytes: readFileSync(opt.wasm).length, growthbook: gbPackage.version,
  rules: rules.length, both: both.length, visitors: input.visitors.map((v) => v.name),
};
const browser = await launch();
const failures = [];
const native = opt.native ? JSON.parse(readFileSync(opt.native, 'utf8')).segments : null;
try {
  const tab = await browser.newPage();
  tab.on('console', (m) => { if (m.type() === 'warning' || m.type() === 'error') console.error('[page]', m.text()); });
  await tab.goto(`${server.url}/`);
  await tab.evaluate(() => wasm_bindgen({ module_or_path: '/vitrine_bg.wasm' }));
  result.chromium = browser.browser()?.version() ?? null;

  // 1. Correctness first.
  const answers = await tab.evaluate(`(${answersInPage})(${JSON.stringify(input)})`);
  result.answers = answers.map((a) => ({ name: a.name, vitrine_true: Object.values(a.all).filter(Boolean).length, growthbook_true: Object.values(a.gb).filter(Boolean).length }));
  for (const a of answers) {
    for (const r of rules) {
      if (typeof a.all[r.id] !== 'boolean') failures.push(`${a.name}: Vitrine (Wasm) has no answer for ${r.id}`);
      if (native && native[a.name]?.[r.id] !== a.all[r.id]) failures.push(`${a.name} ${r.id}: Wasm ${a.all[r.id]}, native ${native[a.name]?.[r.id]}`);
    }
    for (const r of both) {
      if (a.both[r.id] !== a.all[r.id]) failures.push(`${a.name} ${r.id}: Vitrine with 40 rules ${a.both[r.id]}, with 50 ${a.all[r.id]}`);
      if (a.gb[r.id] !== a.all[r.id]) failures.push(`${a.name} ${r.id}: Vitrine ${a.all[r.id]}, GrowthBook ${a.gb[r.id]}\n    CEL: ${r.cel}\n    GrowthBook: ${JSON.stringify(r.growthbook)}`);
    }
  }
  result.pitfalls = pitfalls.map((p) => {
    const differs = answers.filter((a) => a.naive[p.id] !== a.all[p.of]).map((a) => `${a.name} (naive ${a.naive[p.id]}, ${p.cel ? 'GrowthBook' : 'Vitrine'} ${a.all[p.of]})`);
    return { of: p.of, side: p.cel ? 'CEL' : 'GrowthBook', naive: p.cel ?? JSON.stringify(p.growthbook), why: p.why, differs };
  });
  for (const p of result.pitfalls) console.log(`pitfall ${p.of} (${p.side}: ${p.naive}): ${p.differs.length ? 'differs for ' + p.differs.join(', ') : 'agrees on every visitor'}`);
  const holds = answers.map((a) => `${a.name} ${Object.values(a.all).filter(Boolean).length}/${rules.length}`).join(', ');
  if (failures.length) {
    console.error(`rules bench: ${failures.length} mismatches:\n  ${failures.join('\n  ')}`);
  } else {
    console.log(`correctness: ${input.visitors.length} visitors × ${both.length} rules, Vitrine (Wasm) = GrowthBook${native ? '; Wasm = native on all ' + rules.length : ''} (segments that hold: ${holds})`);
    // 2., 3. Timing.
    Object.assign(result, await tab.evaluate(`(${timeInPage})(${JSON.stringify(input)})`));
    if (!opt['no-profile']) {
      result.profile = await profilePhases(browser, server.url, input, false);
      result.profile_cold = await profilePhases(browser, server.url, input, true);
    }
  }
} finally {
  await browser.close();
  server.close();
}
if (failures.length) process.exit(1);

// Native estimates, when the criterion run is at hand.
const crit = (id) => {
  if (!opt.criterion) return null;
  try { return JSON.parse(readFileSync(join(opt.criterion, id, 'new/estimates.json'), 'utf8')).median.point_estimate / 1000; } catch { return null; }
};
/** The fastest of criterion's samples, µs per iteration: the machine is shared, and criterion runs apart from the interleaved Chromium rows. */
const critMin = (id) => {
  if (!opt.criterion) return null;
  try {
    const s = JSON.parse(readFileSync(join(opt.criterion, id, 'new/sample.json'), 'utf8'));
    return Math.min(...s.times.map((t, i) => t / s.iters[i])) / 1000;
  } catch { return null; }
};
result.native = Object.fromEntries(['segments', 'segments_cached', 'segments_json'].flatMap((g) => ['all', 'both'].map((r) => [`${g}/${r}`, crit(`${g}/${r}`)])));
result.native_min = Object.fromEntries(Object.keys(result.native).map((k) => [k, critMin(k)]));

const c = result.contenders;
const gb = c.growthbook_both.median_us;
const f = (x) => (x == null ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ops = (x) => (x == null ? '-' : Math.round(1e6 / x).toLocaleString('en-US'));
const ratio = (x) => (x == null ? '-' : `${(x / gb).toFixed(2)}×`);
const than = (x) => (x < gb ? `${(gb / x).toFixed(2)}× as fast as GrowthBook` : `NOT faster than GrowthBook (${(x / gb).toFixed(2)}× its time)`);
const base = result.baselines;
const build = (v) => Math.max(0, base[v] - base.call);
const split = result.rules.map((r) => ({ ...r, reads: reads(rules.find((x) => x.id === r.id).cel) }));
const sum = (rs, k) => rs.reduce((a, r) => a + (r[k] ?? 0), 0);
const bothIds = new Set(both.map((r) => r.id));
const evalAll = sum(split, 'eval_us');
const evalBoth = sum(split.filter((r) => bothIds.has(r.id)), 'eval_us');
const gbSum = sum(split, 'growthbook_us');
const evEval = sum(split.filter((r) => bothIds.has(r.id) && r.reads.includes('events')), 'eval_us');
const evGb = sum(split.filter((r) => bothIds.has(r.id) && r.reads.includes('events')), 'growthbook_us');
const evCount = split.filter((r) => bothIds.has(r.id) && r.reads.includes('events')).length;
result.per_rule = split;

const L = [];
L.push(`# Segment rules: Vitrine (native and Wasm) and GrowthBook, ${result.date.slice(0, 10)}`, '');
L.push(`Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), shared with other work; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} at the end. Compare rows of one run.`);
L.push(`Code: ${opt.commit ?? 'this checkout'}. Chromium ${result.chromium} (headless, page on 127.0.0.1, cross-origin isolated: ${result.crossOriginIsolated}); Node ${process.version}; GrowthBook JS SDK ${result.growthbook} (\`evalCondition\` from its minified browser bundle).`);
L.push(`Wasm: the snippet (js-snippet, profile snippet, wasm-opt -Os), ${result.wasm_bytes} bytes, built from this checkout; native: cargo's bench profile.`);
L.push('', `Rules: bench/rules/rules.json, ${rules.length} segment rules, ${both.length} of them expressible as GrowthBook conditions. ` +
  `Visitor: \`${result.main}\` of bench/rules/visitors.json, an active repeat buyer with rfm, lifecycle and traits, ${input.visitors[0].attributes.events.length} events (20 from the snapshot, 180 from the session), 9 items in the cart, on a category page. ` +
  'Every call evaluates every rule afresh. Vitrine in Wasm: `engine.segments(pageJson, now)` + `JSON.parse` of the result (page JSON in, `{name: bool}` JSON out). ' +
  'The engine keeps the visitor\'s variables (`profile`, `events`, `session`, built from snapshot, session and catalog) between calls and drops them whenever the profile or session changes: ' +
  '"variables kept" is the loop of calls for an unchanged visitor; "variables rebuilt" calls `grantConsent()` (consent is already granted: it only drops them) before each call, ' +
  'which is what the first decision of a page view, or the one after a dataLayer event, pays. ' +
  'GrowthBook: `evalCondition(attributes, condition)` per rule into a `{name: bool}` object, on an attributes object with the same information built once beforehand (not timed). ' +
  `Median of ${result.rounds} batches of ${result.calls} calls; the five Chromium rows alternate batch by batch, so load falls on all alike.`, '');
L.push(`**Same ${both.length} rules, same page: Vitrine in Wasm, boundary included, is ${than(c.vitrine_both.median_us)} with its variables kept, and ${than(c.vitrine_both_cold.median_us)} when it rebuilds them.**`, '');
const nm = (k) => (result.native[k] == null ? '-' : `${f(result.native[k])} (fastest ${f(result.native_min[k])})`);
L.push('| runtime | rules | µs per visitor | visitors/s | ÷ GrowthBook |');
L.push('|---|---|---:|---:|---:|');
L.push(`| Vitrine, Wasm in Chromium, JSON in → \`JSON.parse\` out, variables kept | all ${rules.length} | ${f(c.vitrine_all.median_us)} | ${ops(c.vitrine_all.median_us)} | |`);
L.push(`| Vitrine, Wasm in Chromium, JSON in → \`JSON.parse\` out, variables kept | the ${both.length} both express | ${f(c.vitrine_both.median_us)} | ${ops(c.vitrine_both.median_us)} | **${ratio(c.vitrine_both.median_us)}** |`);
L.push(`| Vitrine, Wasm in Chromium, JSON in → \`JSON.parse\` out, variables rebuilt | all ${rules.length} | ${f(c.vitrine_all_cold.median_us)} | ${ops(c.vitrine_all_cold.median_us)} | |`);
L.push(`| Vitrine, Wasm in Chromium, JSON in → \`JSON.parse\` out, variables rebuilt | the ${both.length} both express | ${f(c.vitrine_both_cold.median_us)} | ${ops(c.vitrine_both_cold.median_us)} | **${ratio(c.vitrine_both_cold.median_us)}** |`);
L.push(`| GrowthBook ${result.growthbook} \`evalCondition\`, JS in Chromium | the ${both.length} both express | ${f(gb)} | ${ops(gb)} | 1.00× |`);
const n = result.native;
L.push(`| Vitrine native, \`Vars::new(&ctx).segments()\` (variables rebuilt) | all ${rules.length} | ${nm('segments/all')} | ${ops(n['segments/all'])} | |`);
L.push(`| Vitrine native, \`Vars::new(&ctx).segments()\` (variables rebuilt) | the ${both.length} both express | ${nm('segments/both')} | ${ops(n['segments/both'])} | (${ratio(n['segments/both'])}) |`);
L.push(`| Vitrine native, \`Vars::cached(&ctx, &cache).segments()\` (variables kept) | all ${rules.length} | ${nm('segments_cached/all')} | ${ops(n['segments_cached/all'])} | |`);
L.push(`| Vitrine native, \`Vars::cached(&ctx, &cache).segments()\` (variables kept) | the ${both.length} both express | ${nm('segments_cached/both')} | ${ops(n['segments_cached/both'])} | (${ratio(n['segments_cached/both'])}) |`);
L.push(`| Vitrine native, page JSON in → segments JSON out (the snippet's \`segments\`, variables kept) | all ${rules.length} | ${nm('segments_json/all')} | ${ops(n['segments_json/all'])} | |`);
L.push(`| Vitrine native, page JSON in → segments JSON out (the snippet's \`segments\`, variables kept) | the ${both.length} both express | ${nm('segments_json/both')} | ${ops(n['segments_json/both'])} | (${ratio(n['segments_json/both'])}) |`);
L.push('', `Spread of the Chromium batches (min–max µs): ${['vitrine_all', 'vitrine_both', 'vitrine_all_cold', 'vitrine_both_cold', 'growthbook_both'].map((k) => `${k} ${f(c[k].min_us)}–${f(c[k].max_us)}`).join(', ')}. ` +
  'Native rows come from criterion a minute earlier (median, and its fastest sample), not interleaved with the rest; their ratios, in parentheses, compare native code with JS in Chromium and are for scale only.');
L.push('', '## Correctness', '');
L.push(`Before timing, for ${input.visitors.length} visitors (${result.visitors.join(', ')}), every one of the ${both.length} rules gave the same true/false in Vitrine (Wasm) and GrowthBook, ` +
  `and Vitrine's Wasm answers for all ${rules.length} equal the native engine's${native ? '' : ' (not checked in this run: no --native)'}. Segments that hold (Vitrine, all ${rules.length}): ${result.answers.map((a) => `${a.name} ${a.vitrine_true}`).join(', ')}.`);
L.push('', 'Semantic differences between CEL and GrowthBook conditions met while translating (rules.json `pitfalls`): the naive translation gives another answer than the rule for the visitors named, so rules.json uses the guarded form.', '');
L.push('| rule | side | naive translation | differs for | why |', '|---|---|---|---|---|');
for (const p of result.pitfalls) L.push(`| ${p.of} | ${p.side} | \`${p.naive.replace(/\|/g, '\\|')}\` | ${p.differs.join('; ') || 'none of these visitors'} | ${p.why} |`);
L.push('', '## Where the time goes', '');
L.push(`Building the variables, per call that has to (cold calls of a rule that reads only that variable, less a cold call of \`true\`, fastest of 9 batches): ` +
  `\`events\` ${f(build('events'))} µs, \`session\` ${f(build('session'))} µs, \`profile\` ${f(build('profile'))} µs, \`page\` ${f(build('page'))} µs (built per call, never kept); a call of \`true\` ${f(base.call)} µs.`, '');
L.push(`Each rule alone, variables kept: a site with the rule once and one with ${result.copies} copies of it, batches alternating; the difference is ${result.copies - 1} evaluations ("eval", fastest of 9 batches of 40 calls each). ` +
  `GrowthBook: \`evalCondition\` of the rule alone (fastest of 9 batches of 1000 calls). ` +
  `Sums: the ${both.length} rules both express ${f(evalBoth)} µs in Vitrine against ${f(gbSum)} µs in GrowthBook, of which the ${evCount} over \`events\` ${f(evEval)} µs against ${f(evGb)} µs; all ${rules.length} rules ${f(evalAll)} µs.`, '');
L.push('| rule | reads | Vitrine eval µs | GrowthBook µs | Vitrine ÷ GrowthBook | CEL |', '|---|---|---:|---:|---:|---|');
for (const r of [...split].sort((a, b) => b.eval_us - a.eval_us)) {
  const rule = rules.find((x) => x.id === r.id);
  const q = r.growthbook_us == null ? '-' : `${(r.eval_us / r.growthbook_us).toFixed(1)}×`;
  L.push(`| ${r.id} | ${r.reads.join(', ') || '(now)'} | ${f(r.eval_us)} | ${r.growthbook_us == null ? '-' : f(r.growthbook_us)} | ${q} | \`${rule.cel.replace(/\|/g, '\\|')}\` |`);
}
for (const [label, prof] of [['variables kept', result.profile], ['variables rebuilt', result.profile_cold]]) {
  if (!prof) continue;
  L.push('', `Chromium CPU profile of the all-rules call, ${label} (the same build before wasm-opt, which keeps function names; ${prof.calls} calls, ${prof.samples} samples):`, '');
  L.push('| phase | share |', '|---|---:|');
  for (const p of prof.phases) L.push(`| ${p.name} | ${p.percent.toFixed(1)} % |`);
  L.push('', 'Top self time:', '');
  for (const p of prof.top_self.slice(0, 8)) L.push(`- ${p.percent.toFixed(1)} % \`${p.name.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]+\]/g, '')}\``);
}
L.push('', '## Commands', '', '```', 'bash bench/rules/run.sh', '# which runs:',
  'VITRINE_BENCH_RULES_OUT=<tmp>/native.json cargo bench -p vitrine-engine --bench rules -- --output-format bencher',
  'node bench/rules/bench.mjs --pkg <tmp>/pkg --wasm <tmp>/vitrine_bg.wasm --native <tmp>/native.json --criterion target/criterion --out <this file>', '```');
const md = L.join('\n') + '\n';
if (opt.out) writeFileSync(opt.out, md);
if (opt.json) writeFileSync(opt.json, JSON.stringify(result, null, 2) + '\n');
console.log(md);
