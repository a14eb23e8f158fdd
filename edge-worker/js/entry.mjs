//! The Worker's JS entry: instantiates the Rust module once per isolate and hands it each request.
//!
//! It is also the last line of the fail-open promise. The Wasm is built with `panic = "abort"` (for
//! size), so a panic anywhere in Rust traps, and the instance is unusable afterwards. A trap while a
//! request is being answered surfaces here in one of two ways: synchronously from the export, or —
//! since Rust futures are polled from `queueMicrotask` callbacks — inside a microtask, where it
//! would otherwise leave the request's promise pending forever. Either way this entry starts a
//! fresh instance (wasm-bindgen's `__wbg_reset_state`) and answers every request the dead instance
//! held with the shop's page, unchanged, straight from the origin (or Vitrine's file from the assets).
//!
//! Requests the engine never looks at (anything but GET and HEAD outside `/vitrine/`, and websocket
//! upgrades) are proxied to the origin here, without entering the Wasm at all.

import { initSync, fetch as handle, warm, preload_bundle, __wbg_reset_state } from "./index.js";
import wasmModule from "./index_bg.wasm";
// The deployment's edge bundle, built into the worker: the `alias` in the wrangler configuration
// names the file (`vitrine bundle`'s edge/bundle.json, which wrangler's bundler checks and embeds
// as an object), or edge-worker/js/no-bundle.txt (an empty text) for a bundle too large for the
// worker, which pages then load from the assets on first use.
import edgeBundle from "vitrine:edge-bundle";

initSync({ module: wasmModule });

/**
 * Before any request (edge-worker/src/warm.rs): the edge bundle parsed, and one tiny page through
 * the whole engine and the streamed response path, read to its end. V8 compiles Wasm functions on
 * first use, and the first visitor after a cold start should not wait for any of it.
 */
function warmUp() {
  try {
    preload_bundle(typeof edgeBundle === "string" ? edgeBundle : JSON.stringify(edgeBundle));
    const body = warm();
    if (body) readThrough(body.getReader()).catch((err) => console.error("vitrine: warm-up page failed; starting cold:", err));
  } catch (err) {
    console.error("vitrine: warm-up failed; starting cold:", err);
    if (err instanceof WebAssembly.RuntimeError) __wbg_reset_state();
  }
}

async function readThrough(reader) {
  while (!(await reader.read()).done);
}

/** Requests the current instance is working on, each with a way to fail it over. */
const inFlight = new Set();

function restart(err) {
  console.error("vitrine: Wasm trapped, restarting the instance and serving pages unchanged:", err);
  try {
    __wbg_reset_state();
  } catch (resetErr) {
    console.error("vitrine: could not restart the Wasm instance:", resetErr);
  }
  for (const failOver of inFlight) failOver(err);
  inFlight.clear();
}

// wasm-bindgen-futures schedules every poll of a Rust future with the global `queueMicrotask`;
// catching traps there is the only way to see the ones that happen after the first await.
const nativeQueueMicrotask = globalThis.queueMicrotask.bind(globalThis);
globalThis.queueMicrotask = (callback) =>
  nativeQueueMicrotask(() => {
    try {
      callback();
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) restart(err);
      else throw err;
    }
  });

// After the trap handling above is in place: the warm-up page's stream is polled in microtasks.
warmUp();

/** workers-rs's panic hook flags a panic before the trap; a flagged instance is not reused. */
function restartIfPanicked() {
  const state = globalThis.__worker_init_state;
  if (state && state.criticalError) {
    state.criticalError = false;
    restart(new Error("a previous request panicked"));
  }
}

/** The shop's own server: `VITRINE_ORIGIN`, or the request's URL (a Cloudflare route's origin). */
function toOrigin(request, env) {
  const origin = (env.VITRINE_ORIGIN || "").trim().replace(/\/$/, "");
  const url = new URL(request.url);
  const target = origin ? origin + url.pathname + url.search : request.url;
  const headers = new Headers(request.headers);
  headers.set("x-vitrine-hop", "1");
  if (origin) {
    headers.set("x-forwarded-host", url.host);
    headers.set("x-forwarded-proto", url.protocol.slice(0, -1));
  }
  return fetch(new Request(target, { method: request.method, headers, body: request.body, redirect: "manual" }));
}

/** Vitrine's own files (`/vitrine/…`) come from the worker's assets, the rest from the shop. */
function unchanged(request, env) {
  const url = new URL(request.url);
  if (url.pathname.startsWith("/vitrine/") && !url.pathname.startsWith("/vitrine/edge/")) {
    url.pathname = url.pathname.slice("/vitrine".length);
    return env.ASSETS.fetch(new Request(url, request));
  }
  return toOrigin(request, env);
}

export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    const ours = path.startsWith("/vitrine/") || path.startsWith("/__vitrine/");
    const readOnly = request.method === "GET" || request.method === "HEAD";
    // Form posts, API calls and websocket upgrades are the shop's business: straight through,
    // body streamed, never through the Wasm (which could not replay a consumed body on a trap).
    if (!ours && (!readOnly || request.headers.get("upgrade"))) {
      if (request.headers.has("x-vitrine-hop")) return new Response("Loop Detected", { status: 508 });
      return toOrigin(request, env);
    }
    // Kept for the fallback: the Rust side consumes the original.
    const fallback = readOnly ? request.clone() : null;
    let failOver;
    const trapped = new Promise((_, reject) => {
      failOver = reject;
    });
    try {
      restartIfPanicked();
      inFlight.add(failOver);
      return await Promise.race([handle(request, env, ctx), trapped]);
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) restart(err);
      else console.error("vitrine: worker failed, serving the page unchanged:", err);
      if (fallback && !fallback.headers.has("x-vitrine-hop")) return unchanged(fallback, env);
      return new Response("Internal Server Error", { status: 500 });
    } finally {
      inFlight.delete(failOver);
    }
  },
};
