/*! Vitrine rules preview panel (demo shop). Apache-2.0. */
// Edit the site configuration, pick a real customer or compose a visitor with session events, and
// the shop page in the frame re-personalizes in place through the snippet's own preview hook
// (`vitrine.preview`, offered only to pages framed by /preview/), with the engine's trace beside
// it. Replay evaluates the configuration over every real profile snapshot in this page's own
// engine. Plain script, no build step. Everything from the configuration, the profiles and the
// engine is put into the page as text (textContent), never as markup.
(function () {
  'use strict';

  // The engine's developer build (checkSite, compileSite, replay), served beside this panel; shop
  // pages load the production build, which only loads compiled configurations.
  var SNIPPET_WASM = '/preview/vitrine-dev_bg.wasm';
  // The full bundle (the edge's): the panel lists every product and replays over every customer.
  var BUNDLE_URL = '/vitrine/edge/bundle.json';
  var SITE_URL = 'site.json'; // demo-shop/site.json, copied beside this page by scripts/build.sh
  var PROFILES_URL = 'profiles.jsonl.gz'; // build/profiles.jsonl, gzipped (every real snapshot)
  var CHECK_DELAY_MS = 150;
  var READY_TIMEOUT_MS = 20000;

  var $ = function (id) { return document.getElementById(id); };
  var nf = new Intl.NumberFormat('en-GB');
  var money = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var pct = function (n, of) { return of ? (100 * n / of).toFixed(1) + '%' : '–'; };

  // --- DOM helpers: text only --------------------------------------------------------------------
  function h(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      var v = props[k];
      if (v == null || v === false) return;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = String(v);
      else if (k === 'data') Object.keys(v).forEach(function (d) { node.dataset[d] = String(v[d]); });
      else if (k.slice(0, 2) === 'on') node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    });
    add(node, children);
    return node;
  }
  function add(node, children) {
    [].concat(children == null ? [] : children).forEach(function (c) {
      if (c == null || c === false) return;
      node.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    });
    return node;
  }
  function fill(node, children) {
    node.textContent = '';
    return add(node, children);
  }
  function pill(value, label) {
    return h('span', { class: 'pv-pill pv-is-' + value, text: label == null ? value : label });
  }
  function status(text, kind) {
    var s = $('status');
    s.textContent = text;
    s.dataset.kind = kind || '';
  }
  function message(e) { return e && e.message ? e.message : String(e); }

  // --- state ------------------------------------------------------------------------------------
  var bundle = null; // parsed BUNDLE_URL (catalog for products and categories)
  var bundleText = '';
  var products = {}; // id -> catalog product
  var originalSite = ''; // the site.json the demo was built with
  var goodSite = null; // the last configuration that checked clean: what the page shows
  var customers = []; // {id, name, country, tier, orders, revenue, last, stage, line, search}
  var byId = {};
  var visitor = { kind: 'anonymous', customer: null };
  var events = []; // {id, time: RFC 3339, event: 'view'|'add_to_cart'|'purchase'}
  var profilesText = null; // a promise of the JSON lines
  var lastReport = null;

  var EVENT_NAMES = { view: 'view_item', add_to_cart: 'add_to_cart', purchase: 'purchase' };

  function fetchText(url) {
    return fetch(url, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
      return r.text();
    });
  }

  // The profiles ship gzipped (7 MB of JSON lines is 0.6 MB gzip); a server that already decoded
  // them (Content-Encoding) hands over plain text, told apart by the gzip magic bytes.
  function fetchProfiles() {
    return fetch(PROFILES_URL, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error(PROFILES_URL + ': HTTP ' + r.status);
      return r.arrayBuffer();
    }).then(function (buf) {
      var bytes = new Uint8Array(buf);
      if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return new TextDecoder().decode(bytes);
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
      return new Response(stream).text();
    });
  }

  // --- editor -----------------------------------------------------------------------------------
  var editor = $('site');
  var gutter = $('gutter');
  var checkTimer = 0;
  var errorLines = {}; // editor line -> error summary

  function lineCount(text) { return text.split('\n').length; }

  function renderGutter() {
    var n = lineCount(editor.value);
    var frag = document.createDocumentFragment();
    for (var i = 1; i <= n; i++) {
      frag.appendChild(h('div', { class: errorLines[i] ? 'pv-err' : null, title: errorLines[i] || null, text: i }));
    }
    fill(gutter, frag);
    gutter.scrollTop = editor.scrollTop;
  }

  // Offsets of every value in a JSON text by the engine's field path (`slots.hero[0].when`), so an
  // error can point into the editor. Only called on text JSON.parse accepted.
  function jsonPositions(text) {
    var at = {};
    var i = 0;
    function ws() { while (i < text.length && /\s/.test(text[i])) i++; }
    function str() {
      var start = i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      return JSON.parse(text.slice(start, i));
    }
    function value(path) {
      ws();
      at[path] = i;
      var c = text[i];
      if (c === '{') {
        i++; ws();
        if (text[i] === '}') { i++; return; }
        for (;;) {
          ws();
          var key = str();
          ws(); i++; // ':'
          value(path ? path + '.' + key : key);
          ws();
          if (text[i++] === '}') return;
        }
      } else if (c === '[') {
        i++; ws();
        if (text[i] === ']') { i++; return; }
        for (var n = 0; ; n++) {
          value(path + '[' + n + ']');
          ws();
          if (text[i++] === ']') return;
        }
      } else if (c === '"') {
        str();
      } else {
        while (i < text.length && /[^\s,\]}]/.test(text[i])) i++;
      }
    }
    value('');
    return at;
  }

  function lineColAt(text, offset) {
    var before = text.slice(0, offset).split('\n');
    return { line: before.length, column: before[before.length - 1].length + 1 };
  }

  function offsetOf(text, line, column) {
    var lines = text.split('\n');
    var off = 0;
    for (var i = 0; i < Math.min(line - 1, lines.length); i++) off += lines[i].length + 1;
    return off + Math.max(0, column - 1);
  }

  // Where an error is in the editor: [start, end) offsets, or null.
  function locate(err, text, positions) {
    if (err.json) {
      if (!err.line) return null;
      var o = offsetOf(text, err.line, err.column || 1);
      return [o, o + 1];
    }
    if (!positions) return null;
    var start = positions[err.field];
    var field = err.field;
    while (start == null && field.indexOf('.') > 0) { // e.g. a name error on a map key
      field = field.replace(/(\.[^.]*|\[\d+\])$/, '');
      start = positions[field];
    }
    if (start == null) return null;
    if (err.line > 0 && text[start] === '"') {
      // Walk the JSON string, decoding escapes, to the rule's own line:column.
      var line = 1, col = 1, i = start + 1;
      while (i < text.length && text[i] !== '"' && (line < err.line || col < err.column)) {
        if (text[i] === '\\') {
          if (text[i + 1] === 'n') { line++; col = 1; } else col++;
          i += text[i + 1] === 'u' ? 6 : 2;
        } else { col++; i++; }
      }
      return [i, i + 1];
    }
    var end = start;
    if (text[start] === '"') end = start + text.slice(start).match(/^"(?:[^"\\]|\\.)*"/)[0].length;
    return [start, Math.max(end, start + 1)];
  }

  function showInEditor(range) {
    editor.focus();
    editor.setSelectionRange(range[0], range[1]);
    var lh = parseFloat(getComputedStyle(editor).lineHeight) || 20;
    var line = lineColAt(editor.value, range[0]).line;
    editor.scrollTop = Math.max(0, (line - 4) * lh);
  }

  function renderErrors(errors, text) {
    var list = $('error-list');
    var positions = null;
    try { JSON.parse(text); positions = jsonPositions(text); } catch (_) { positions = null; }
    errorLines = {};
    fill(list, errors.map(function (e) {
      var range = locate(e, text, positions);
      var where = range ? lineColAt(text, range[0]) : null;
      if (where) errorLines[where.line] = (e.field || 'site') + ': ' + e.message.split('\n')[0];
      var loc = e.line ? (e.json ? 'line ' + e.line + ':' + e.column : 'rule ' + e.line + ':' + e.column) : null;
      return h('li', { class: 'pv-error', data: { field: e.field || '' } }, [
        h('div', { class: 'pv-error-head' }, [
          h('code', { class: 'pv-field-path', text: e.field || 'site.json' }),
          loc && h('span', { class: 'pv-loc', text: loc }),
          where && h('button', { type: 'button', class: 'pv-link', onclick: function () { showInEditor(range); },
            text: 'Show at line ' + where.line, 'aria-label': 'Show ' + (e.field || 'the problem') + ' in the editor, line ' + where.line }),
        ]),
        // The message wraps; the rule's excerpt under it keeps its caret aligned and scrolls.
        h('p', { class: 'pv-error-message', text: e.message.split('\n')[0] }),
        e.message.indexOf('\n') >= 0 && h('pre', { class: 'pv-pre pv-error-text', text: e.message.slice(e.message.indexOf('\n') + 1) }),
      ]);
    }));
    $('errors').hidden = errors.length === 0;
    $('errors-title').textContent = errors.length === 1 ? '1 problem' : errors.length + ' problems';
    renderGutter();
  }

  function check() {
    clearTimeout(checkTimer);
    var text = editor.value;
    var result;
    try { result = JSON.parse(wasm_bindgen.checkSite(text)); } catch (e) {
      result = { ok: false, errors: [{ field: '', line: 0, column: 0, message: 'check failed: ' + message(e) }] };
    }
    renderErrors(result.errors || [], text);
    var state = $('check-state');
    if (result.ok) {
      state.textContent = 'valid';
      state.className = 'pv-pill pv-is-true';
      if (text !== goodSite) {
        goodSite = text;
        schedule();
        if ($('replay-live').checked && lastReport) runReplay();
      }
    } else {
      state.textContent = (result.errors.length === 1 ? '1 problem' : result.errors.length + ' problems') + ' · page shows the last valid version';
      state.className = 'pv-pill pv-is-false';
    }
    return result;
  }

  editor.addEventListener('input', function () {
    renderGutter();
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, CHECK_DELAY_MS);
  });
  editor.addEventListener('scroll', function () { gutter.scrollTop = editor.scrollTop; });
  $('site-reset').addEventListener('click', function () {
    editor.value = originalSite;
    check();
  });

  // The configuration's own "now" (demo_now) seeds event times; the page decides with it too.
  function siteNow() {
    try {
      var n = JSON.parse(goodSite || originalSite).demo_now;
      var t = n ? Date.parse(n) : NaN;
      if (isFinite(t)) return t;
    } catch (_) {}
    return Date.now();
  }

  // --- visitors ---------------------------------------------------------------------------------
  function customerFromLine(line) {
    var p = JSON.parse(line);
    var t = p.traits || {};
    var o = p.orders || {};
    var name = typeof t.first_name === 'string' ? t.first_name : '';
    var stage = p.lifecycle ? p.lifecycle.stage : '';
    var c = {
      id: p.id, name: name, country: typeof t.country === 'string' ? t.country : '', tier: typeof t.loyalty_tier === 'string' ? t.loyalty_tier : '',
      orders: o.count || 0, revenue: o.revenue || 0, last: o.last || '', stage: stage, line: line,
    };
    c.search = [c.id, c.name, c.country, c.tier, c.stage].join(' ').toLowerCase();
    return c;
  }

  function customerLabel(c) {
    return c.id + ' · ' + (c.name || '—') + ' · ' + nf.format(c.orders) + (c.orders === 1 ? ' order' : ' orders') +
      ' · £' + money.format(c.revenue) + ' · ' + (c.stage ? c.stage.replace('_', ' ') : 'no stage');
  }

  var searchTimer = 0;
  function renderCustomers() {
    var terms = $('customer-search').value.toLowerCase().split(/\s+/).filter(Boolean);
    var stage = $('customer-stage').value;
    var list = $('customer-list');
    var selected = visitor.customer ? visitor.customer.id : list.value;
    var frag = document.createDocumentFragment();
    var shown = 0;
    customers.forEach(function (c) {
      if (stage && c.stage !== stage) return;
      for (var i = 0; i < terms.length; i++) if (c.search.indexOf(terms[i]) < 0) return;
      var opt = h('option', { value: c.id, text: customerLabel(c) });
      if (c.id === selected) opt.selected = true;
      frag.appendChild(opt);
      shown++;
    });
    fill(list, frag);
    $('customer-count').textContent = shown === customers.length
      ? nf.format(customers.length) + ' customers (real profile snapshots)'
      : nf.format(shown) + ' of ' + nf.format(customers.length) + ' customers match';
  }
  $('customer-search').addEventListener('input', function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(renderCustomers, 80);
  });
  $('customer-stage').addEventListener('change', renderCustomers);
  $('customer-list').addEventListener('change', function () {
    var c = byId[$('customer-list').value];
    if (!c) return;
    visitor.customer = c;
    renderCustomerCard();
    visitorChanged();
  });

  function renderCustomerCard() {
    var c = visitor.customer;
    $('customer-card').hidden = !c;
    if (!c) return;
    var p = JSON.parse(c.line);
    var o = p.orders || {};
    var facts = [
      ['Id', p.id], ['First name', c.name || '—'], ['Country', c.country || '—'], ['Loyalty tier', c.tier || '—'],
      ['Orders', nf.format(o.count || 0) + ' · £' + money.format(o.revenue || 0)],
      ['Last order', o.last ? o.last.slice(0, 10) : '—'],
      ['Lifecycle', p.lifecycle ? p.lifecycle.stage.replace('_', ' ') + (p.lifecycle.days_overdue ? ', ' + Math.round(p.lifecycle.days_overdue) + ' days overdue' : '') : '—'],
      ['RFM', p.rfm ? 'R' + p.rfm.r + ' F' + p.rfm.f + ' M' + p.rfm.m : '—'],
      ['Segments', (p.segments || []).join(', ') || '—'],
      ['Consent', p.consent && p.consent.personalization ? 'yes' : 'no'],
    ];
    fill($('customer-facts'), facts.map(function (f) { return [h('dt', { text: f[0] }), h('dd', { text: f[1] })]; }).flat());
    $('customer-json').textContent = JSON.stringify(p, null, 2);
  }

  $('customer-copy').addEventListener('click', function () {
    var c = visitor.customer;
    if (!c) return;
    var p = JSON.parse(c.line);
    var t = p.traits || {};
    var o = p.orders || {};
    $('c-id').value = p.id;
    $('c-first-name').value = typeof t.first_name === 'string' ? t.first_name : '';
    $('c-tier').value = ['bronze', 'silver', 'gold'].indexOf(t.loyalty_tier) >= 0 ? t.loyalty_tier : '';
    $('c-orders').value = o.count || 0;
    $('c-revenue').value = o.revenue || 0;
    $('c-last').value = o.last ? o.last.slice(0, 10) : '';
    $('c-stage').value = p.lifecycle ? p.lifecycle.stage : '';
    $('c-trait-name').value = t.country != null ? 'country' : '';
    $('c-trait-value').value = t.country != null ? String(t.country) : '';
    $('c-consent').checked = !!(p.consent && p.consent.personalization);
    setKind('composed');
  });

  function traitValue(text) {
    var s = text.trim();
    if (s === 'true' || s === 'false') return s === 'true';
    if (s !== '' && isFinite(Number(s))) return Number(s);
    return text;
  }

  // A snapshot in the profile format (docs/formats.md) from the compose form.
  function composedProfile() {
    var f = $('kind-composed').elements;
    var count = Math.max(0, Math.floor(Number(f.orders.value) || 0));
    var revenue = Math.max(0, Number(f.revenue.value) || 0);
    var p = { v: 1, id: f.id.value.trim() || 'c-preview', consent: { personalization: f.consent.checked }, traits: {} };
    if (f.first_name.value !== '') p.traits.first_name = f.first_name.value;
    if (f.tier.value) p.traits.loyalty_tier = f.tier.value;
    if (f.trait_name.value.trim()) p.traits[f.trait_name.value.trim()] = traitValue(f.trait_value.value);
    p.orders = { count: count, revenue: Math.round(revenue * 100) / 100, aov: count ? Math.round(revenue / count * 100) / 100 : 0 };
    if (count > 0 && f.last.value) p.orders.last = f.last.value + 'T12:00:00Z';
    if (f.stage.value) {
      // As `vitrine profiles` does: the stage is also a data-platform segment.
      p.segments = ['lifecycle_' + f.stage.value];
      p.lifecycle = { stage: f.stage.value };
    }
    return p;
  }

  function profileJson() {
    if (visitor.kind === 'customer') return visitor.customer ? visitor.customer.line : null;
    if (visitor.kind === 'composed') return JSON.stringify(composedProfile());
    // A new visitor who accepted the banner gets an anonymous id from the loader, as here.
    return $('anon-consent').checked ? JSON.stringify({ v: 1, id: 'a-preview', consent: { personalization: true } }) : null;
  }

  function sortedEvents() {
    return events.map(function (e, i) { return [e, i]; })
      .sort(function (a, b) { return a[0].time < b[0].time ? -1 : a[0].time > b[0].time ? 1 : a[1] - b[1]; })
      .map(function (x) { return x[0]; });
  }

  // This session as the engine keeps it (engine Session): events newest last; add_to_cart fills the
  // cart, each purchase event empties it and counts an order at catalog prices, as the loader's
  // GA4 events would.
  function session() {
    var s = { cart: [], events: [], orders: 0, revenue: 0 };
    sortedEvents().forEach(function (e) {
      s.events.push({ id: e.id, time: e.time, event: e.event });
      if (e.event === 'add_to_cart' && s.cart.indexOf(e.id) < 0) s.cart.push(e.id);
      if (e.event === 'purchase') {
        s.cart = [];
        s.orders += 1;
        var p = products[e.id];
        s.revenue += p ? parseFloat(p.price) || 0 : 0;
      }
    });
    s.revenue = Math.round(s.revenue * 100) / 100;
    return s;
  }

  function setKind(kind) {
    visitor.kind = kind;
    document.querySelectorAll('input[name="visitor-kind"]').forEach(function (r) { r.checked = r.value === kind; });
    ['anonymous', 'customer', 'composed'].forEach(function (k) { $('kind-' + k).hidden = k !== kind; });
    visitorChanged();
  }
  document.querySelectorAll('input[name="visitor-kind"]').forEach(function (r) {
    r.addEventListener('change', function () { if (r.checked) setKind(r.value); });
  });
  $('anon-consent').addEventListener('change', visitorChanged);
  $('kind-composed').addEventListener('input', visitorChanged);
  $('kind-composed').addEventListener('change', visitorChanged);
  $('kind-composed').addEventListener('submit', function (e) { e.preventDefault(); });

  function visitorChanged() {
    var profile = profileJson();
    $('input-profile').textContent = profile == null ? 'null (anonymous)' : JSON.stringify(JSON.parse(profile), null, 2);
    $('input-session').textContent = JSON.stringify(session(), null, 2);
    schedule();
  }

  // --- session events ---------------------------------------------------------------------------
  function toLocalInput(ms) { return new Date(ms).toISOString().slice(0, 16); }

  function productName() {
    var p = products[$('ev-product').value.trim()];
    $('ev-product-name').textContent = p ? p.title + ' · ' + shownPrice(p) + ' · ' + (p.product_type || 'no category') : ($('ev-product').value.trim() ? 'No product with this id in the catalog' : '');
  }
  $('ev-product').addEventListener('input', productName);

  $('event-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var id = $('ev-product').value.trim();
    if (!products[id]) {
      $('ev-product-name').textContent = 'Pick a product from the catalog (type its id or title).';
      $('ev-product').focus();
      return;
    }
    var local = $('ev-time').value || toLocalInput(siteNow() - 86400000);
    var time = new Date(local + ':00Z');
    if (isNaN(time)) time = new Date(siteNow() - 86400000);
    events.push({ id: id, time: time.toISOString().replace(/\.\d+Z$/, 'Z'), event: $('ev-type').value });
    // The next event five minutes later, as a visitor clicks through.
    $('ev-time').value = toLocalInput(time.getTime() + 5 * 60000);
    renderEvents();
    visitorChanged();
  });
  $('events-clear').addEventListener('click', function () {
    events = [];
    renderEvents();
    visitorChanged();
  });

  function renderEvents() {
    var list = sortedEvents();
    fill($('event-list'), list.map(function (e, n) {
      var p = products[e.id];
      return h('li', { data: { event: EVENT_NAMES[e.event], item: e.id } }, [
        h('time', { datetime: e.time, text: e.time.slice(0, 16).replace('T', ' ') }),
        h('code', { text: EVENT_NAMES[e.event] }),
        h('span', { class: 'pv-ev-title', text: p ? p.title : e.id }),
        h('button', {
          type: 'button', class: 'pv-icon', text: '×', 'aria-label': 'Remove event ' + (n + 1) + ': ' + EVENT_NAMES[e.event] + ' ' + (p ? p.title : e.id),
          onclick: function () { events.splice(events.indexOf(e), 1); renderEvents(); visitorChanged(); },
        }),
      ]);
    }));
    $('events-empty').hidden = list.length > 0;
    $('events-clear').hidden = list.length === 0;
  }

  // --- the page in the frame --------------------------------------------------------------------
  var frame = $('shop');
  var booted = null; // resolves when the editor and the engine are ready
  var busy = false;
  var dirty = false;

  function setPageState(kind, text) {
    var s = $('page-state');
    s.textContent = text;
    s.className = 'pv-pill pv-is-' + kind;
  }

  /** Whether the visitor's profile lets the engine read anything personal. */
  function personal(profileText) {
    try {
      var p = profileText ? JSON.parse(profileText) : null;
      return !!(p && p.consent && p.consent.personalization === true);
    } catch (_) { return false; }
  }

  function frameWindow() {
    try {
      var w = frame.contentWindow;
      if (!w || !w.document || w.location.href === 'about:blank') return null;
      return w;
    } catch (_) { return null; } // another origin: nothing to preview
  }

  function isReady(w) { return w && w.document.documentElement && w.document.documentElement.hasAttribute('data-vitrine-ready'); }

  function waitReady(w) {
    return new Promise(function (resolve, reject) {
      var root = w.document.documentElement;
      if (isReady(w)) { resolve(w); return; }
      var obs = new MutationObserver(function () { if (isReady(w)) { done(); resolve(w); } });
      var timer = setTimeout(function () { done(); reject(new Error('the snippet did not start in this page')); }, READY_TIMEOUT_MS);
      function done() { obs.disconnect(); clearTimeout(timer); }
      obs.observe(root, { attributes: true, attributeFilter: ['data-vitrine-ready'] });
    });
  }

  // Calls vitrine.preview with the current inputs; while one runs, later changes coalesce into one
  // more call, so the page always ends on the newest inputs.
  function schedule() {
    dirty = true;
    if (!busy) pump();
  }
  function pump() {
    busy = true;
    Promise.resolve(booted).then(function loop() {
      if (!dirty) { busy = false; return null; }
      dirty = false;
      return applyOnce().catch(function (e) {
        setPageState('false', 'not applied');
        showTraceProblem('The page kept its last personalization: ' + message(e));
      }).then(loop);
    });
  }

  var compiled = { source: null, text: null };
  function compiledSite() {
    if (goodSite == null) return null; // the page keeps its own configuration
    if (compiled.source !== goodSite) compiled = { source: goodSite, text: wasm_bindgen.compileSite(goodSite) };
    return compiled.text;
  }

  function applyOnce() {
    var w = frameWindow();
    if (!w || !isReady(w)) return Promise.resolve(); // the frame's load handler schedules again
    if (!w.vitrine || typeof w.vitrine.preview !== 'function') {
      return Promise.reject(new Error('this page offers no vitrine.preview hook'));
    }
    setPageState('busy', 'deciding');
    // The page decides with this panel's engine, the developer build (the production build shop
    // pages load answers without a trace), from the full bundle the edge decides with; the
    // configuration goes in compiled, with its rules' sources for the trace.
    var inputs = { site: compiledSite(), profile: profileJson(), session: JSON.stringify(session()) };
    inputs.engine = pageEngine();
    return Promise.resolve(w.vitrine.preview(inputs)).then(function (decision) {
      if (w !== frameWindow()) return; // navigated meanwhile: the new page gets its own call
      // Without consent the engine reads nothing personal (the page's own context only): say so.
      setPageState(personal(inputs.profile) ? 'true' : 'anon', personal(inputs.profile) ? 'personalized' : 'anonymous: page context only');
      renderTrace(decision, w, inputs);
    });
  }

  // One engine for the framed pages, made once the panel has booted (it needs the bundle).
  var framedEngine = null;
  function pageEngine() {
    if (!framedEngine) framedEngine = new wasm_bindgen.Vitrine(bundleText);
    return framedEngine;
  }

  function pageContext(w) {
    var body = w && isReady(w) ? w.document.body : null;
    var page = { type: (body && body.getAttribute('data-vitrine-page')) || 'home' };
    if (body && body.hasAttribute('data-vitrine-product')) page.product = body.getAttribute('data-vitrine-product');
    if (body && body.hasAttribute('data-vitrine-category')) page.category = body.getAttribute('data-vitrine-category');
    return page;
  }

  function onFrameLoad() {
    var w = frameWindow();
    if (!w) return;
    var path = w.location.pathname + w.location.search;
    var select = $('page-select');
    var known = Array.prototype.some.call(select.options, function (o) { return o.value === path && !o.dataset.visited; });
    Array.prototype.slice.call(select.querySelectorAll('option[data-visited]')).forEach(function (o) { o.remove(); });
    if (!known) select.appendChild(h('option', { value: path, data: { visited: '1' }, text: path }));
    select.value = path;
    // The shop's consent banner and the demo's visitor switcher belong to real visits; here the
    // panel decides who visits.
    var style = w.document.createElement('style');
    style.textContent = '#consent, .switcher { display: none !important; }';
    w.document.head.appendChild(style);
    var note = $('page-note');
    var edge = w.document.getElementById('vitrine-profile');
    note.hidden = !edge;
    if (edge) {
      note.textContent = 'This page arrived already personalized at the edge for the visitor of this browser, so its ' +
        '"shop default" is that visitor\'s page. Switch the shop back to a new visitor for exact defaults.';
    }
    setPageState('busy', 'starting');
    waitReady(w).then(function () {
      if (w !== frameWindow()) return;
      schedule();
      if ($('replay-live').checked && lastReport) runReplay();
    }, function (e) {
      if (w !== frameWindow()) return;
      setPageState('false', 'no snippet');
      showTraceProblem(message(e));
    });
  }
  frame.addEventListener('load', onFrameLoad);

  $('page-select').addEventListener('change', function () {
    var w = frameWindow();
    var url = $('page-select').value;
    if (w) w.location.replace(url); else frame.src = url;
  });

  var zoom = $('page-zoom');
  function setZoom() { document.documentElement.style.setProperty('--zoom', zoom.value); }
  zoom.addEventListener('change', setZoom);
  setZoom();

  // --- trace ------------------------------------------------------------------------------------
  function showTraceProblem(text) {
    var box = $('trace');
    var old = box.querySelector('.pv-trace-problem');
    if (old) old.remove();
    box.insertBefore(h('p', { class: 'pv-note pv-trace-problem', role: 'alert', text: text }), box.firstChild);
  }

  function experimentLine(x) {
    if (!x) return null;
    var a = x.assignment;
    var parts = a
      ? [pill(a.holdout ? 'false' : 'true', a.holdout ? 'holdout' : 'arm ' + a.arm), ' bucket ' + a.bucket.toFixed(4) + (a.holdout ? ' (holdout: the shop default)' : '')]
      : [pill('muted', x.status)];
    return h('p', { class: 'pv-exp', data: { experiment: x.experiment, status: x.status, arm: a ? a.arm : '' } },
      [h('span', { class: 'pv-k', text: 'Experiment ' }), h('code', { text: x.experiment }), ' '].concat(parts));
  }

  function ruleItem(r, chosen) {
    var value = r.value.indexOf('error') === 0 ? 'error' : r.value === 'not evaluated' ? 'muted' : r.value;
    return h('li', { class: 'pv-rule' + (chosen ? ' pv-chosen' : ''), data: { variant: r.id, value: r.value } }, [
      h('div', { class: 'pv-rule-head' }, [
        h('code', { class: 'pv-rule-id', text: r.id }),
        pill(value, r.value),
        h('span', { class: 'pv-muted', text: 'priority ' + r.priority + (r.schedule !== 'active' ? ' · ' + r.schedule : '') }),
        chosen && h('strong', { class: 'pv-chosen-label', text: 'chosen' }),
      ]),
      h('code', { class: 'pv-rule-src', text: r.when || '(always)' }),
    ]);
  }

  function titles(ids, n) {
    return ids.slice(0, n).map(function (id) { return products[id] ? products[id].title : id; }).join(' · ');
  }

  // `inputs`: what this decision was made from (the panel may have moved on since).
  function renderTrace(decision, w, inputs) {
    var t = decision.trace || { segments: {}, slots: [], lists: [], recs: [] };
    var out = [];
    var profile = inputs.profile == null ? null : JSON.parse(inputs.profile);
    var name = profile && profile.traits && typeof profile.traits.first_name === 'string' ? profile.traits.first_name : '';
    var who = !profile ? 'a new visitor' : !profile.consent || !profile.consent.personalization
      ? (profile.id || 'a visitor') + ' (no consent: nothing personal is used)'
      : (/^a-/.test(profile.id) ? 'a new visitor with consent' : profile.id) + (name ? ' (' + name + ')' : '');
    var count = JSON.parse(inputs.session).events.length;
    var page = pageContext(w);
    out.push(h('p', { class: 'pv-help pv-who', data: { events: count } }, ['Deciding for ', h('strong', { text: who }), ' on the ',
      h('strong', { text: page.type + (page.category ? ' ' + page.category : '') + (page.product ? ' ' + page.product : '') }),
      ' page, ' + count + (count === 1 ? ' session event.' : ' session events.')]));

    var names = Object.keys(t.segments);
    out.push(h('h3', { text: 'Segments' }));
    out.push(names.length ? h('ul', { class: 'pv-segments', id: 'trace-segments' }, names.map(function (n) {
      return h('li', { data: { segment: n, value: String(t.segments[n]) } }, [pill(String(t.segments[n])), ' ', h('code', { text: n })]);
    })) : h('p', { class: 'pv-help', text: 'No segments configured.' }));

    out.push(h('h3', { text: 'Slots' }));
    if (!t.slots.length) out.push(h('p', { class: 'pv-help', text: 'This page has no slots.' }));
    t.slots.forEach(function (s) {
      var d = decision.slots.filter(function (x) { return x.slot === s.slot; })[0];
      var fields = d && d.fields ? Object.keys(d.fields) : [];
      out.push(h('section', { class: 'pv-trace-block', data: { slot: s.slot, chosen: s.chosen || '' } }, [
        h('h4', {}, [h('code', { text: s.slot }), ' → ', s.chosen ? h('code', { class: 'pv-chosen-id', text: s.chosen }) : h('em', { text: 'shop default' })]),
        h('p', { class: 'pv-reason', text: s.reason }),
        experimentLine(s.experiment),
        h('ol', { class: 'pv-rules' }, s.variants.map(function (r) { return ruleItem(r, r.id === s.chosen); })),
        fields.length ? h('dl', { class: 'pv-fields' }, fields.map(function (f) {
          return [h('dt', { text: f }), h('dd', { text: d.fields[f] })];
        }).flat()) : null,
      ]));
    });

    out.push(h('h3', { text: 'Lists' }));
    if (!t.lists.length) out.push(h('p', { class: 'pv-help', text: 'This page has no personalized lists.' }));
    t.lists.forEach(function (l) {
      var d = decision.lists.filter(function (x) { return x.list === l.list; })[0];
      out.push(h('section', { class: 'pv-trace-block', data: { list: l.list } }, [
        h('h4', {}, [h('code', { text: l.list })]),
        experimentLine(l.experiment),
        l.rules.length ? h('ol', { class: 'pv-rules' }, l.rules.map(function (r) { return ruleItem(r, r.value === 'true'); }))
          : h('p', { class: 'pv-help', text: 'No list rules: ordered by the visitor\'s category affinities.' }),
        d && d.items.length ? h('p', { class: 'pv-help', text: 'Leads with: ' + titles(d.items, 3) }) : null,
      ]));
    });

    out.push(h('h3', { text: 'Recommendations' }));
    if (!t.recs.length) out.push(h('p', { class: 'pv-help', text: 'This page has no widgets.' }));
    t.recs.forEach(function (r) {
      var d = decision.recs.filter(function (x) { return x.widget === r.widget; })[0];
      out.push(h('section', { class: 'pv-trace-block', data: { widget: r.widget, strategy: r.strategy } }, [
        h('h4', {}, [h('code', { text: r.widget }), ' ', h('span', { class: 'pv-muted', text: r.strategy.replace(/_/g, ' ') + ' · settings from ' + r.settings })]),
        experimentLine(r.experiment),
        d ? h('p', { class: 'pv-help', text: d.keep ? 'Left as served (experiment default or holdout).' : d.items.length + ' products: ' + titles(d.items.map(function (i) { return i.id; }), 3) + (d.items.length > 3 ? ' …' : '') }) : null,
      ]));
    });

    fill($('trace'), out);
  }

  // --- replay -----------------------------------------------------------------------------------
  var replayEngine = null;
  var replayLoaded = null;
  var replayLoadMs = 0;

  function ensureReplay() {
    if (!replayLoaded) {
      replayLoaded = Promise.all([booted, profilesText]).then(function (r) {
        var t0 = performance.now();
        replayEngine = new wasm_bindgen.Vitrine(bundleText);
        var n = replayEngine.loadReplayProfiles(r[1]);
        replayLoadMs = performance.now() - t0;
        return n;
      });
      replayLoaded.catch(function () { replayLoaded = null; });
    }
    return replayLoaded;
  }

  var replaying = false;
  var replayAgain = false; // a change arrived during a replay: run once more when it ends
  function runReplay() {
    if (replaying) { replayAgain = true; return; }
    replaying = true;
    replayAgain = false;
    $('replay-run').disabled = true;
    $('replay-state').textContent = 'Replaying…';
    ensureReplay().then(function () {
      var page = pageContext(frameWindow());
      var t0 = performance.now();
      replayEngine.setSite(goodSite);
      var report = JSON.parse(replayEngine.replay(JSON.stringify(page), Date.now()));
      var ms = performance.now() - t0;
      lastReport = report;
      renderReplay(report, ms, page);
    }).catch(function (e) {
      $('replay-state').textContent = 'Replay failed: ' + message(e);
    }).then(function () {
      replaying = false;
      $('replay-run').disabled = false;
      if (replayAgain) runReplay();
    });
  }
  $('replay-run').addEventListener('click', runReplay);

  function bar(n, of, label) {
    var share = of ? n / of : 0;
    return h('div', { class: 'pv-bar-row', data: { count: n } }, [
      h('span', { class: 'pv-bar-label' }, label),
      h('span', { class: 'pv-bar', 'aria-hidden': 'true' }, [h('span', { style: 'width:' + (100 * share).toFixed(2) + '%' })]),
      h('span', { class: 'pv-num', text: nf.format(n) }),
      h('span', { class: 'pv-num pv-muted', text: pct(n, of) }),
    ]);
  }

  function renderReplay(r, ms, page) {
    var site = {};
    try { site = JSON.parse(goodSite); } catch (_) {}
    var total = r.profiles;
    var out = [];
    out.push(h('p', { class: 'pv-replay-summary' }, [
      h('strong', { id: 'replay-profiles', data: { count: total }, text: nf.format(total) }), ' profiles on the ',
      h('strong', { text: page.type }), ' page in ',
      h('strong', { id: 'replay-ms', data: { ms: ms.toFixed(1) }, text: ms.toFixed(1) + ' ms' }),
      h('span', { class: 'pv-muted', text: ' (snapshots loaded once, in ' + replayLoadMs.toFixed(0) + ' ms)' }),
    ]));
    $('replay-state').textContent = 'Done: ' + nf.format(total) + ' profiles in ' + ms.toFixed(1) + ' ms.';

    var names = Object.keys(r.segments);
    var segs = h('div', { class: 'pv-replay-col', id: 'replay-segments' }, [h('h3', { text: 'Audience sizes' })]);
    segs.appendChild(names.length ? h('div', { class: 'pv-bars' }, names.map(function (n) {
      var desc = site.segments && site.segments[n] && site.segments[n].description;
      var row = bar(r.segments[n], total, [h('code', { text: n }), desc ? h('small', { text: desc }) : null]);
      row.dataset.segment = n;
      return row;
    })) : h('p', { class: 'pv-help', text: 'No segments configured.' }));
    out.push(segs);

    if (names.length > 1) {
      var both = {};
      r.overlaps.forEach(function (o) { both[o[0] + '\u0000' + o[1]] = o[2]; both[o[1] + '\u0000' + o[0]] = o[2]; });
      var table = h('table', { class: 'pv-matrix', id: 'replay-overlaps' }, [
        h('caption', { text: 'Profiles in both segments (shade: share of the row\'s segment)' }),
        h('thead', {}, h('tr', {}, [h('td')].concat(names.map(function (n) { return h('th', { scope: 'col' }, h('span', { text: n })); })))),
        h('tbody', {}, names.map(function (a) {
          return h('tr', {}, [h('th', { scope: 'row', text: a })].concat(names.map(function (b) {
            var n = a === b ? r.segments[a] : both[a + '\u0000' + b] || 0;
            var share = r.segments[a] ? n / r.segments[a] : 0;
            return h('td', {
              class: a === b ? 'pv-diag' : null, data: { a: a, b: b, count: n },
              title: a === b ? a + ': ' + nf.format(n) + ' profiles' : nf.format(n) + ' of ' + nf.format(r.segments[a]) + ' in ' + a + ' (' + pct(n, r.segments[a]) + ') are also in ' + b,
              style: a === b ? null : 'background-color: rgba(180, 83, 42, ' + (0.08 + 0.6 * share).toFixed(3) + ')',
              text: nf.format(n),
            });
          })));
        })),
      ]);
      out.push(h('div', { class: 'pv-replay-col pv-overlaps' }, [h('h3', { text: 'Overlaps' }), h('div', { class: 'pv-scroll' }, table)]));
    }

    var slotNames = Object.keys(r.slots);
    var slots = h('div', { class: 'pv-replay-col', id: 'replay-slots' }, [h('h3', { text: 'Variants shown' })]);
    if (!slotNames.length) slots.appendChild(h('p', { class: 'pv-help', text: 'No slots configured.' }));
    slotNames.forEach(function (s) {
      var counts = r.slots[s];
      // Configured variants in order (a variant nobody sees still shows, at 0), then the default.
      var ids = ((site.slots && site.slots[s]) || []).map(function (v) { return v.id; });
      Object.keys(counts).forEach(function (v) { if (ids.indexOf(v) < 0 && v !== '(default)') ids.push(v); });
      ids.push('(default)');
      var sum = ids.reduce(function (a, v) { return a + (counts[v] || 0); }, 0);
      slots.appendChild(h('div', { class: 'pv-bars', data: { slot: s, sum: sum } }, [h('h4', {}, [h('code', { text: s }), h('span', { class: 'pv-muted', text: ' · ' + nf.format(sum) + ' profiles' })])].concat(
        ids.map(function (v) {
          var row = bar(counts[v] || 0, total, v === '(default)' ? h('em', { text: 'shop default' }) : h('code', { text: v }));
          row.dataset.variant = v;
          return row;
        }))));
    });
    out.push(slots);

    var exps = Object.keys(r.experiments);
    if (exps.length) {
      out.push(h('div', { class: 'pv-replay-col', id: 'replay-experiments' }, [h('h3', { text: 'Experiment arms' })].concat(exps.map(function (x) {
        var counts = r.experiments[x];
        var arms = ((site.experiments && site.experiments[x] && site.experiments[x].arms) || []).map(function (a) { return a.id; });
        Object.keys(counts).forEach(function (a) { if (arms.indexOf(a) < 0 && a !== 'holdout' && a !== '(not assigned)') arms.push(a); });
        arms.push('holdout', '(not assigned)');
        var assigned = arms.reduce(function (a, k) { return k === '(not assigned)' ? a : a + (counts[k] || 0); }, 0);
        return h('div', { class: 'pv-bars', data: { experiment: x } }, [h('h4', {}, [h('code', { text: x }), h('span', { class: 'pv-muted', text: ' · ' + nf.format(assigned) + ' assigned' })])].concat(
          arms.map(function (a) {
            var row = bar(counts[a] || 0, total, a === 'holdout' || a === '(not assigned)' ? h('em', { text: a }) : h('code', { text: a }));
            row.dataset.arm = a;
            return row;
          })));
      }))));
    }
    fill($('replay'), out);
  }

  // --- start ------------------------------------------------------------------------------------
  function slug(category) {
    return category.split(/[^A-Za-z0-9]+/).filter(Boolean).map(function (w) { return w.toLowerCase(); }).join('-');
  }

  // Prices as the shop's pages show them (the site's locale, by the engine's formatter), by id.
  var prices = {};
  function shownPrice(p) { return prices[p.id] || p.price; }

  // The shop's most popular products, as the engine ranks them (the bundle's model is binary): a
  // popular widget decided for an anonymous visitor on the home page.
  function popularIds(k) {
    var engine = null;
    try {
      engine = new wasm_bindgen.Vitrine(bundleText);
      var markup = { page: { 'data-vitrine-page': 'home' }, recs: [{ 'data-vitrine-recs': 'popular', 'data-vitrine-strategy': 'popular', 'data-vitrine-k': String(k) }] };
      var decision = JSON.parse(engine.decideSettling(JSON.stringify(markup), Date.now()).split('\n')[0]);
      return decision.recs[0].items.map(function (item) { return item.id; });
    } catch (e) {
      console.warn('[preview] no popular products to pick from:', e);
      return [];
    } finally {
      if (engine) engine.free();
    }
  }

  function setupCatalog() {
    var list = bundle.catalog.products;
    list.forEach(function (p) { products[p.id] = p; });
    try {
      var shown = wasm_bindgen.formatPrices(JSON.stringify(bundle.site), list.map(function (p) { return p.price; }).join('\n')).split('\n');
      list.forEach(function (p, i) { prices[p.id] = shown[i]; });
    } catch (e) {
      console.warn('[preview] prices shown as the catalog writes them:', e);
    }
    fill($('product-options'), list.map(function (p) { return h('option', { value: p.id, label: p.title + ' · ' + shownPrice(p) }); }));
    var cats = [];
    list.forEach(function (p) { if (p.product_type && cats.indexOf(p.product_type) < 0) cats.push(p.product_type); });
    cats.sort();
    var popular = popularIds(12).filter(function (id) { return products[id]; });
    var select = $('page-select');
    select.appendChild(h('optgroup', { label: 'Categories' }, cats.map(function (c) { return h('option', { value: '/c/' + slug(c), text: c }); })));
    select.appendChild(h('optgroup', { label: 'Popular products' }, popular.map(function (id) { return h('option', { value: '/p/' + id, text: products[id].title }); })));
    $('ev-product').value = popular[0] || (list[0] && list[0].id) || '';
    productName();
  }

  function start() {
    if (typeof wasm_bindgen === 'undefined') {
      status('The engine (/preview/vitrine-dev.js) did not load: nothing to preview with.', 'error');
      return;
    }
    var wasm = wasm_bindgen({ module_or_path: SNIPPET_WASM });
    profilesText = fetchProfiles();
    profilesText.catch(function () {});
    booted = Promise.all([fetchText(BUNDLE_URL), fetchText(SITE_URL), wasm]).then(function (r) {
      bundleText = r[0];
      bundle = JSON.parse(bundleText);
      setupCatalog();
      originalSite = r[1];
      editor.value = originalSite;
      editor.disabled = false;
      $('ev-time').value = toLocalInput(siteNow() - 86400000);
      check();
      visitorChanged();
      status('Ready. Edit the configuration, pick a visitor, or replay over every customer.', 'ok');
    });
    booted.catch(function (e) { status('The panel could not start: ' + message(e), 'error'); });

    profilesText.then(function (text) {
      var t0 = performance.now();
      text.split('\n').forEach(function (line) {
        if (!line.trim()) return;
        var c = customerFromLine(line);
        customers.push(c);
        byId[c.id] = c;
      });
      $('customer-total').textContent = nf.format(customers.length);
      renderCustomers();
      $('replay-run').disabled = false;
      console.debug('[preview] ' + customers.length + ' customers indexed in ' + (performance.now() - t0).toFixed(0) + ' ms');
    }).catch(function (e) {
      $('customer-count').textContent = 'Profiles unavailable: ' + message(e);
    });

    // The frame may have finished loading before this script ran.
    var w = frameWindow();
    if (w && w.document.readyState === 'complete') onFrameLoad();
  }

  start();
})();
