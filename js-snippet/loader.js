/*! Vitrine loader: personalizes data-vitrine-* markup with the Wasm engine. Apache-2.0. */
// One async <script> tag runs this. It fails open: whatever goes wrong, the shop's own markup stays.
// It stores nothing and decides from the page alone until consent (Google Consent Mode
// `personalization_storage: 'granted'`, or an edge-issued profile that records consent; a page
// whose Consent Mode was updated to 'denied' is not personalized, whatever the profile records).
(function () {
  'use strict';
  var started = performance.now();
  var script = document.currentScript;
  // Vitrine's files sit beside this script; the ES module build (vitrine.mjs) defines
  // VITRINE_MODULE_BASE from import.meta.url, the classic one folds it away.
  var base = typeof VITRINE_MODULE_BASE === 'string' ? VITRINE_MODULE_BASE
    : (script && script.src) ? script.src.replace(/[^/]*$/, '') : '/vitrine/';
  var SESSION_KEY = 'vitrine.session';
  var VID_KEY = 'vitrine.vid'; // an anonymous visitor's id for experiments, after consent only
  var dataLayer = window.dataLayer = window.dataLayer || [];
  var ready = false; // the engine has the visitor (profile, consent, session): events go straight in
  var consent = false; // this page may store and use personal data
  var mode = null; // what the page's Consent Mode says: null (nothing yet), true, false
  var pending = [];
  var originals = new WeakMap();

  function warn(what, e) {
    try { console.warn('[vitrine] ' + what + ' (page left as is):', e && e.message ? e.message : e); } catch (_) {}
  }

  // --- the engine, off the main thread -----------------------------------------------------------
  // The Wasm engine runs in a dedicated worker (vitrine-worker.js, js-snippet/worker.js): compiling
  // it, loading the bundle and deciding never block the page's input or rendering. `call` sends one
  // engine call and resolves to its answer; calls run in the order they are made.
  var calls = {};
  var seq = 0;
  var post = null;
  var worker = null;

  function call(method) {
    var args = Array.prototype.slice.call(arguments, 1);
    return new Promise(function (resolve, reject) {
      var msg = { id: ++seq, m: method, a: args };
      calls[msg.id] = [resolve, reject, msg];
      post(msg);
    });
  }

  // A call whose answer nothing waits for: a failure is only reported.
  function send(method) {
    call.apply(null, arguments).catch(function (e) { warn(method + ' failed', e); });
  }

  function answer(out) {
    var c = calls[out.id];
    if (!c) return;
    delete calls[out.id];
    if ('e' in out) c[1](new Error(out.e)); else c[0](out.r);
  }

  function startHost() {
    try {
      worker = new Worker(base + 'vitrine-worker.js');
      worker.onmessage = function (ev) { worker.answered = true; answer(ev.data); };
      // A worker that cannot start (CSP, a script that fails) hands over to the page before its
      // first answer; after that, its calls fail like any engine error (the page stays as is).
      worker.onerror = function (ev) {
        if (worker.answered) return;
        if (ev && ev.preventDefault) ev.preventDefault();
        onPage();
      };
      post = function (msg) {
        worker.postMessage(msg, msg.a.filter(function (x) { return x instanceof Uint8Array; }).map(function (x) { return x.buffer; }));
      };
    } catch (e) {
      onPage();
    }
  }

  // The same host script on the page: every call not answered yet is sent again, in order.
  function onPage() {
    if (worker) { try { worker.terminate(); } catch (_) {} worker = null; }
    post = function () {}; // sent again once the script is in
    var tag = document.createElement('script');
    tag.src = base + 'vitrine-worker.js';
    tag.onload = function () {
      post = function (msg) { window.vitrineHost(msg, answer); };
      Object.keys(calls).map(Number).sort(function (a, b) { return a - b; }).forEach(function (id) { post(calls[id][2]); });
    };
    tag.onerror = function () {
      Object.keys(calls).forEach(function (id) { answer({ id: id, e: 'vitrine-worker.js did not load' }); });
      post = function (msg) { answer({ id: msg.id, e: 'vitrine-worker.js did not load' }); };
    };
    (document.head || document.documentElement).appendChild(tag);
  }

  // --- dataLayer: events and consent ------------------------------------------------------------
  function consentGranted(entry) {
    // gtag('consent', 'default'|'update', {...}) pushes its `arguments` object. A default is the
    // page's state before the visitor chose; an update is their choice (a revocation, if denied).
    if (!entry || typeof entry !== 'object' || entry[0] !== 'consent') return null;
    var params = entry[2];
    if (!params || typeof params.personalization_storage !== 'string') return null;
    return params.personalization_storage === 'granted';
  }

  function observe(entry) {
    var c = consentGranted(entry);
    if (c !== null) {
      setConsent(c, entry[1] === 'default');
      return;
    }
    if (!entry || typeof entry.event !== 'string' || !entry.ecommerce) return;
    var items = (entry.ecommerce.items || []).map(function (i) {
      return { item_id: String(i && i.item_id != null ? i.item_id : ''), quantity: Number(i && i.quantity) || 1 };
    });
    var ev = { event: entry.event, time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), ecommerce: { items: items } };
    if (!ready) { pending.push(ev); return; }
    pushEvent(ev, true);
  }

  // Events apply in order. A purchase is valued at catalog prices when it is applied, so the
  // engine first asks for the catalog entries of its products (a bundle head carries only a few).
  var events = Promise.resolve();
  function pushEvent(ev, decide) {
    var text = JSON.stringify(ev);
    function apply(retry) {
      // "" when applied, the files to fetch first one per line, undefined when it changes nothing.
      return call('push', text, Date.now()).then(function (need) {
        if (need && retry) return fetchShards(need.split('\n')).then(function () { return apply(false); });
        if (need === '' && decide) {
          persist();
          run();
        }
      });
    }
    events = events.then(function () { return apply(true); }).catch(function (e) { warn('event ignored', e); });
    return events;
  }

  // Everything the snippet stores: this tab's session and visitor id (no cookies, no localStorage).
  function wipe() {
    try { sessionStorage.removeItem(SESSION_KEY); sessionStorage.removeItem(VID_KEY); } catch (_) {}
  }

  // A denial by the visitor (an update, not the page's default before any choice) beats a
  // profile's recorded consent, and always wipes: consent granted on an earlier page left storage
  // behind, while this page's flag starts false.
  function setConsent(granted, isDefault) {
    granted = !!granted;
    if (isDefault && !granted) return;
    if (!isDefault) mode = granted;
    if (!granted) wipe();
    if (granted === consent) return;
    consent = granted;
    if (!ready) return;
    if (granted) {
      send('grantConsent');
      visitorId();
      persist();
    } else {
      // The engine forgets the consent (a profile's too) and this session; the page is decided again.
      send('revokeConsent');
      restore();
      run();
    }
  }

  // Wipes what the snippet stored and goes back to an anonymous visitor without consent on this
  // page: the edge's profile and this session are dropped, and the page, put back as served (a
  // request reads the lists' order from the page), is decided again.
  function forget() {
    consent = false;
    wipe();
    send('setProfile', '{"v":1,"id":""}');
    send('setSession', '{}');
    restore();
    return run();
  }

  // A visitor without a profile id gets a random one for this session, so experiments can place
  // them; the engine never replaces a profile's own id with it.
  function visitorId() {
    try {
      var vid = sessionStorage.getItem(VID_KEY);
      if (!vid) {
        var bytes = crypto.getRandomValues(new Uint8Array(12));
        vid = 'a-' + Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join('');
        sessionStorage.setItem(VID_KEY, vid);
      }
      send('setVisitorId', vid);
    } catch (e) { warn('no visitor id', e); }
  }

  function persist() {
    if (!consent || !ready) return;
    call('sessionJson').then(function (json) {
      // Consent may have been revoked meanwhile: then nothing is stored.
      if (consent) try { sessionStorage.setItem(SESSION_KEY, json); } catch (_) {}
    }).catch(function (e) { warn('session not stored', e); });
  }

  for (var i = 0; i < dataLayer.length; i++) observe(dataLayer[i]);
  var originalPush = dataLayer.push;
  dataLayer.push = function () {
    var result = originalPush.apply(dataLayer, arguments);
    for (var j = 0; j < arguments.length; j++) {
      try { observe(arguments[j]); } catch (e) { warn('dataLayer entry ignored', e); }
    }
    return result;
  };

  // --- reading the page --------------------------------------------------------------------------
  // The engine reads the markup (docs/markup.md, engine/src/decide/markup.rs): the snippet hands it the
  // raw data-vitrine-* values and keeps the elements, so entry i of a decision applies to element i.
  function all(root, sel) { return Array.prototype.slice.call(root.querySelectorAll(sel)); }

  function attrs(el) {
    var o = {};
    for (var i = 0; i < el.attributes.length; i++) {
      var a = el.attributes[i];
      if (a.name.lastIndexOf('data-vitrine-', 0) === 0) o[a.name] = a.value;
    }
    return o;
  }

  // The elements the last request read, in document order.
  var placed = { slots: [], lists: [], recs: [] };
  function request() {
    placed = { slots: all(document, '[data-vitrine-slot]'), lists: all(document, '[data-vitrine-list]'), recs: all(document, '[data-vitrine-recs]') };
    return {
      page: attrs(document.body),
      slots: placed.slots.map(function (el) { return el.getAttribute('data-vitrine-slot'); }),
      lists: placed.lists.map(function (el) {
        return {
          list: el.getAttribute('data-vitrine-list'),
          items: all(el, ':scope > [data-vitrine-item]').map(function (c) { return c.getAttribute('data-vitrine-item'); })
        };
      }),
      recs: placed.recs.map(attrs)
    };
  }

  // --- applying decisions --------------------------------------------------------------------------
  // A field name in a slot or template, as the engine compares names: without the HTML (ASCII)
  // whitespace around it.
  function name(v) { return v == null ? '' : v.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, ''); }
  function own(o, k) { return o != null && Object.prototype.hasOwnProperty.call(o, k) && typeof o[k] === 'string'; }

  function remember(el, what, value) {
    var o = originals.get(el) || {};
    if (!(what in o)) { o[what] = value; originals.set(el, o); }
  }

  // Each apply* changes only what differs, so a page the edge already personalized sees no change
  // until a live event changes a decision.
  function applySlot(d, i) {
    var slot = placed.slots[i];
    if (d.keep || !slot) return; // keep: decided by a rule only the edge evaluates (matches())
    if (d.variant) { if (slot.getAttribute('data-vitrine-variant') !== d.variant) slot.setAttribute('data-vitrine-variant', d.variant); }
    else if (slot.hasAttribute('data-vitrine-variant')) slot.removeAttribute('data-vitrine-variant');
    all(slot, '[data-vitrine-field]').forEach(function (el) {
      var n = name(el.getAttribute('data-vitrine-field'));
      remember(el, 'text', el.textContent);
      var text = own(d.fields, n) ? d.fields[n] : originals.get(el).text;
      if (el.textContent !== text) el.textContent = text;
    });
    all(slot, '[data-vitrine-href]').forEach(function (el) {
      var n = name(el.getAttribute('data-vitrine-href'));
      remember(el, 'href', el.getAttribute('href'));
      // URL fields only (`href`, `*_href`): the engine checked their values when it decided.
      var next = /(^|_)href$/.test(n) && own(d.fields, n) ? d.fields[n] : originals.get(el).href;
      if (next == null) { if (el.hasAttribute('href')) el.removeAttribute('href'); }
      else if (el.getAttribute('href') !== next) el.setAttribute('href', next);
    });
  }

  function applyList(d, i) {
    var list = placed.lists[i];
    if (d.keep || !list) return;
    remember(list, 'children', Array.prototype.slice.call(list.children));
    // Already shown in the decided order: by the edge's CSS `order` with these very keys (one per
    // item, in the order the request read them; the edge leaves key 0, the default, unwritten),
    // or in the DOM itself.
    var kids = all(list, ':scope > [data-vitrine-item]');
    if (kids.length === d.keys.length && kids.every(function (c, i) { return (c.style.order || '0') === String(d.keys[i]); })) return;
    // The decided order is the stable order of the keys (the request's items, in document order).
    var order = kids.map(function (c, i) { return i; }).sort(function (a, b) { return d.keys[a] - d.keys[b] || a - b; });
    if (order.every(function (k, i) { return k === i; }) && kids.every(function (c) { return !c.style.order; })) return;
    order.forEach(function (k) {
      var el = kids[k];
      el.style.order = ''; // the edge's CSS order is superseded by the real DOM order
      list.appendChild(el);
    });
  }

  function applyRecs(d, i) {
    var box = placed.recs[i];
    if (d.keep || !box) return; // an experiment's default arm or holdout, or an unknown strategy: as served
    var ids = d.items.map(function (item) { return item.id; }).join(' ');
    var tpl = box.querySelector(':scope > template');
    if (!tpl) return;
    // Already showing exactly these products (the edge filled it, or an earlier decision here).
    if (box.hasAttribute('data-vitrine-filled') && box.getAttribute('data-vitrine-items') === ids) return;
    remember(box, 'children', Array.prototype.slice.call(box.children));
    remember(box, 'filled', box.getAttribute('data-vitrine-filled'));
    remember(box, 'items', box.getAttribute('data-vitrine-items'));
    var frag = document.createDocumentFragment();
    d.items.forEach(function (item) {
      var node = tpl.content.cloneNode(true);
      all(node, '[data-vitrine-bind],[data-vitrine-bind-href],[data-vitrine-bind-src],[data-vitrine-bind-alt]').forEach(function (el) {
        var f = name(el.getAttribute('data-vitrine-bind'));
        if (own(item, f)) el.textContent = item[f];
        ['href', 'src', 'alt'].forEach(function (attr) {
          var n = name(el.getAttribute('data-vitrine-bind-' + attr));
          // URLs from the URL fields only (`link`, `image_link`: checked when the catalog loaded).
          if (own(item, n) && (attr === 'alt' || /^(image_)?link$/.test(n) && item[n])) el.setAttribute(attr, item[n]);
        });
      });
      frag.appendChild(node);
    });
    // Replace what an earlier decision (here or at the edge) filled in.
    Array.prototype.slice.call(box.children).forEach(function (c) { if (c !== tpl) box.removeChild(c); });
    box.appendChild(frag);
    box.setAttribute('data-vitrine-filled', String(d.items.length));
    box.setAttribute('data-vitrine-items', ids);
  }

  // Shard files (immutable, next to the bundle): model rows and catalog entries. A file that fails
  // is skipped: its items have no neighbours and its products stay unknown (widgets fall back to
  // popular products), and the page is never broken.
  function fetchShards(paths) {
    return Promise.all(paths.map(function (path) {
      return fetch(base + path).then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.arrayBuffer();
      }).then(function (buf) { return call('addShard', path, new Uint8Array(buf)); })
        .catch(function (e) {
          warn('shard ' + path + ' skipped', e);
          return call('addShard', path, new Uint8Array(0)).catch(function () {});
        });
    }));
  }

  // Decides the request, fetching first what the decision could not read, in rounds: the first
  // names the model rows, the page's products and the fallbacks' entries; the next the entries of
  // the candidates those rows name. Resolves to the decision JSON once nothing is missing (at
  // once when a page's files are cached). After MAX_ROUNDS the last decision stands (what it could
  // not read stays as served: `keep`). The engine's tests read this line (engine/tests/common).
  var MAX_ROUNDS = 4;
  function settle(text) {
    var rounds = 0;
    function step() {
      // The decision, then the files it could not read, one per line.
      return call('decideSettling', text, Date.now()).then(function (lines) {
        var out = lines.split('\n');
        var need = out.slice(1);
        if (!need.length || rounds++ === MAX_ROUNDS) return out[0];
        return fetchShards(need).then(step);
      });
    }
    return step();
  }

  // Experiment exposures go to the dataLayer once per page and experiment, in the shape GA4 and
  // GTM read for experiments (`experience_impression`). Assignment needs consent and a visitor id,
  // so nothing is reported without them.
  var exposed = {};
  function reportExposures(decision) {
    decision.slots.concat(decision.lists, decision.recs).forEach(function (d) {
      var a = d.experiment;
      if (!a || exposed[a.experiment]) return;
      exposed[a.experiment] = true;
      // Through the current push: GTM wraps it when it loads, before or after this script.
      dataLayer.push({
        event: 'experience_impression',
        exp_variant_string: 'vitrine-' + a.experiment + '-' + a.arm,
        vitrine_experiment: a.experiment,
        vitrine_arm: a.arm,
        vitrine_holdout: a.holdout
      });
    });
  }

  function applyDecision(decision) {
    decision.slots.forEach(applySlot);
    decision.lists.forEach(applyList);
    decision.recs.forEach(applyRecs);
  }

  // Applies a decision (JSON text).
  function apply(json) {
    var decision = JSON.parse(json);
    applyDecision(decision);
    reportExposures(decision);
    if (window.vitrine) {
      window.vitrine.decision = decision;
      try { document.dispatchEvent(new CustomEvent('vitrine:applied', { detail: decision })); } catch (_) {}
    }
    return decision;
  }

  // Decides and applies, after fetching any shards the page needs. Resolves to the decision (null
  // if it could not be made); a run overtaken by a newer one (events during a fetch) applies nothing.
  // The page is read again before applying: if it changed meanwhile, it is decided as it is now.
  var runs = 0;
  function run() {
    var mine = ++runs;
    var text = null;
    try { text = JSON.stringify(request()); } catch (e) { warn('decision not made', e); return Promise.resolve(null); }
    return settle(text).then(function (json) {
      var now = JSON.stringify(request());
      return now === text ? json : call('decideSettling', now, Date.now()).then(function (l) { return l.split('\n')[0]; });
    }).then(function (json) {
      if (mine !== runs) return null;
      try { return apply(json); } catch (e) { warn('decision not applied', e); return null; }
    }, function (e) { warn('decision not made', e); return null; });
  }

  // --- start -------------------------------------------------------------------------------------
  function edgeProfile() {
    var el = document.getElementById('vitrine-profile');
    return el && el.type === 'application/json' ? el.textContent : null;
  }

  var marks = {};

  // The visitor: the edge's snapshot, consent, this session. Events meanwhile stay queued (not
  // `ready`) and go in after them, in order; then the page is decided.
  function begin() {
    var snapshot = edgeProfile();
    var profile = snapshot ? call('setProfile', snapshot).catch(function (e) { warn('profile ignored', e); }) : null;
    return Promise.resolve(profile).then(function () { return call('consented'); }).then(function (granted) {
      // The stricter wins: the visitor's denial in Consent Mode beats the profile's recorded
      // consent; a grant on the page is consent given now.
      if (mode === false) { if (granted) send('revokeConsent'); } else if (granted) consent = true;
      if (consent) {
        send('grantConsent');
        visitorId();
        try {
          var saved = sessionStorage.getItem(SESSION_KEY);
          if (saved) call('setSession', saved).catch(function (e) { warn('stored session ignored', e); });
        } catch (e) { warn('stored session ignored', e); }
      }
      ready = true;
      var queued = pending;
      pending = [];
      queued.forEach(function (ev) { pushEvent(ev, false); });
      return events;
    }).then(function () {
      persist();
      return run();
    }).then(function (decision) {
      var applied = performance.now();
      window.vitrine = {
        version: 1,
        // ms: loader start -> applied; inputs: Wasm and bundle fetched; engine: Wasm compiled and
        // bundle loaded, in the worker (the rest is shard files, when the page needs any, and deciding).
        timing: { start: started, applied: applied, ms: applied - started, inputs: marks.inputs, engine: marks.engine },
        decision: decision,
        // What the snippet asks the engine for on this page (the data-vitrine-* markup, read now).
        request: request,
        refresh: run,
        consent: setConsent,
        forget: forget
      };
      if (previewAllowed()) window.vitrine.preview = preview;
      document.documentElement.setAttribute('data-vitrine-ready', '');
      try { document.dispatchEvent(new CustomEvent('vitrine:applied', { detail: decision })); } catch (_) {}
    });
  }

  // --- preview (the demo shop's preview panel) ---------------------------------------------------
  // Only in a page framed by a same-origin /preview/ page that opts in with
  // <meta name="vitrine-preview" content="on">: it swaps the site configuration, the visitor and
  // their session, puts every placement back as served and decides again, with a trace. A shop's
  // own visitors never get this hook.
  function previewAllowed() {
    try {
      var parent = window.parent;
      return parent !== window && parent.location.origin === location.origin &&
        /^\/preview\//.test(parent.location.pathname) &&
        !!parent.document.querySelector('meta[name="vitrine-preview"][content="on"]');
    } catch (_) { return false; }
  }

  function restore() {
    all(document, '[data-vitrine-slot]').forEach(function (slot) { slot.removeAttribute('data-vitrine-variant'); });
    all(document, '[data-vitrine-field],[data-vitrine-href]').forEach(function (el) {
      var o = originals.get(el);
      if (!o) return;
      if ('text' in o) el.textContent = o.text;
      if ('href' in o) { if (o.href == null) el.removeAttribute('href'); else el.setAttribute('href', o.href); }
    });
    all(document, '[data-vitrine-list],[data-vitrine-recs]').forEach(function (box) {
      var o = originals.get(box);
      if (!o || !o.children) return;
      Array.prototype.slice.call(box.children).forEach(function (c) { if (o.children.indexOf(c) < 0) box.removeChild(c); });
      o.children.forEach(function (c) { box.appendChild(c); });
      ['filled', 'items'].forEach(function (k) {
        if (!(k in o)) return;
        if (o[k] == null) box.removeAttribute('data-vitrine-' + k); else box.setAttribute('data-vitrine-' + k, o[k]);
      });
    });
  }

  // opts: {site?: JSON text, profile?: snapshot JSON text (null: anonymous), session?: JSON text,
  // engine?: an engine of the developer build (the panel's `new Vitrine(bundle)`)}. Resolves to the
  // decision, with its trace when the engine is the developer build's; rejects (page left as it
  // was) if an input is invalid.
  function preview(opts) {
    opts = opts || {};
    if (opts.engine) useEngine(opts.engine);
    // One after the other: the first input that does not load stops the rest.
    return (opts.site != null ? call('setSite', opts.site) : Promise.resolve()).then(function () {
      return call('setProfile', opts.profile || '{"v":1,"id":""}');
    }).then(function () {
      return call('setSession', opts.session || '{}');
    }).then(function () {
      return call('consented');
    }).then(function (granted) {
      if (granted) { send('grantConsent'); visitorId(); }
      restore();
      exposed = {};
      var req = request();
      req.trace = true;
      return settle(JSON.stringify(req));
    }).then(function (json) {
      var decision = JSON.parse(json);
      applyDecision(decision);
      window.vitrine.decision = decision;
      return decision;
    });
  }

  // From now on every call goes to `engine`, an engine object the preview panel made from the
  // developer build, which explains its decisions (the production build in the worker leaves
  // traces out): live events on this page reach it too.
  function useEngine(engine) {
    call = function (method) {
      var args = Array.prototype.slice.call(arguments, 1);
      return new Promise(function (resolve) { resolve(engine[method].apply(engine, args)); });
    };
  }

  function whenDom() {
    return new Promise(function (resolve) {
      if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', resolve, { once: true });
      else resolve();
    });
  }

  // The worker's script, the engine and the bundle load in parallel; the worker compiles the
  // engine and loads the bundle while the page goes on.
  function get(file, as) {
    return fetch(base + file, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error(file + ': HTTP ' + r.status);
      return r[as]();
    });
  }
  startHost();
  Promise.all([get('vitrine_bg.wasm', 'arrayBuffer'), get('bundle.json', 'text')])
    .then(function (r) {
      marks.inputs = performance.now() - started;
      return call('init', new Uint8Array(r[0]), r[1]);
    })
    .then(function () {
      marks.engine = performance.now() - started;
      return whenDom();
    })
    .then(begin)
    .catch(function (e) { warn('not started', e); });
})();
