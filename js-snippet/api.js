// Vitrine engine methods (Apache-2.0).
// Follows the wasm-bindgen glue in both builds (vitrine-worker.js, vitrine-dev.js). The Wasm exports
// one entry point after the constructor, `call(op, text, bytes, now)` (one piece of boundary glue
// for every call: js-snippet/src/lib.rs, `Vitrine::call`); this gives the `Vitrine` class its
// methods back by name, numbered in the order of that `match`. Each passes its string, bytes and
// time where the method has them: `push(event, now)`, `addShard(path, bytes)`,
// `decideSettling(markup, now)`, `setProfile(snapshot)`, ...
(function (V) {
  var none = new Uint8Array(0);
  ['setProfile', 'setVisitorId', 'setSite', 'setSession', 'sessionJson', 'consented', 'grantConsent',
    'revokeConsent', 'push', 'addShard', 'decideSettling'].forEach(function (name, op) {
    V.prototype[name] = function (a, b) {
      var r = this.call(op, a == null ? '' : a, b instanceof Uint8Array ? b : none, typeof b === 'number' ? b : 0);
      // `consented` answers whether (`Some` for true), every other method what it returns.
      return op === 5 ? r != null : r;
    };
  });
})(wasm_bindgen.Vitrine);
