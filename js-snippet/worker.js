/*! Vitrine engine host: runs the Wasm engine off the page's main thread. Apache-2.0. */
// vitrine-worker.js is the wasm-bindgen glue followed by this file. The loader (vitrine.js) starts
// it as a dedicated worker and posts one message per engine call, {id, m: method, a: [args]}: the
// first is `init` (the Wasm's bytes, the bundle's text), the others are methods of the `Vitrine`
// object. Calls run one at a time, in the order they were posted, and each is answered with
// {id, r: result} or {id, e: message}. Where the page cannot start the worker (a snippet served
// from another origin, a Content-Security-Policy without worker-src), the loader runs this same
// script on the page and calls `vitrineHost` directly: the engine then shares the main thread.
(function (scope) {
  'use strict';
  var engine = null;
  var queue = Promise.resolve();

  function call(msg) {
    if (msg.m === 'init') {
      return wasm_bindgen({ module_or_path: msg.a[0] }).then(function () { engine = new wasm_bindgen.Vitrine(msg.a[1]); });
    }
    if (!engine) throw new Error('the engine did not start');
    return engine[msg.m].apply(engine, msg.a);
  }

  function host(msg, reply) {
    queue = queue.then(function () { return call(msg); }).then(
      function (r) { reply({ id: msg.id, r: r }); },
      function (e) { reply({ id: msg.id, e: String(e && e.message ? e.message : e) }); });
  }

  if (typeof WorkerGlobalScope !== 'undefined' && scope instanceof WorkerGlobalScope) {
    scope.onmessage = function (ev) { host(ev.data, function (out) { scope.postMessage(out); }); };
  } else {
    scope.vitrineHost = host;
  }
})(self);
