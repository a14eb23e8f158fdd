//! Vitrine at the edge: a Cloudflare Worker that personalizes the shop's HTML while it streams.
//!
//! # Data flow
//!
//! Per request the worker ([`edge`], wasm32 only) fetches the page from the static shop (the
//! `ASSETS` binding). Anything but a `200 text/html` passes through untouched. For a page it loads
//! the engine's [`Bundle`](vitrine_engine::Bundle) (`/vitrine/edge/bundle.json`, with the full model, once per isolate),
//! resolves the visitor from the signed `vitrine_vid` cookie ([`cookie`]) and their profile
//! snapshot in Workers KV (`profile:<vid>`), and streams the body through [`rewrite::Streamer`]:
//! lol_html handlers ask the engine for each slot, list item and recommendation widget as its tag
//! streams past and apply the answer to the `data-vitrine-*` markup (docs/markup.md). The header
//! `x-vitrine` says what happened: `personalized`, `default; reason=…` (no-cookie, bad-cookie,
//! unknown-visitor, kv-error, bad-profile, no-consent) or `bypass; reason=…` (page untouched).
//!
//! ```
//! use std::rc::Rc;
//! use vitrine_edge::rewrite::{rewrite_str, Plan};
//! use vitrine_engine::{Bundle, LiveProfile, ProfileSnapshot};
//!
//! let bundle = Bundle::from_json(r#"{"v":1,
//!   "site": {"v":1, "slots": {"hero": [{"id": "vip", "when": "profile.orders.count >= 10",
//!            "content": {"headline": "Thanks, {profile.traits.first_name|friend}!"}}]}},
//!   "catalog": {"v":1, "products": []},
//!   "model": {"v":1, "kind": "item-knn", "items": [], "neighbors": [], "popular": []}}"#).unwrap();
//! let snapshot = ProfileSnapshot::from_json(r#"{"v":1, "id":"c-1",
//!   "consent": {"personalization": true}, "orders": {"count": 12}, "traits": {"first_name": "Ann"}}"#).unwrap();
//! let plan = Plan { bundle: Rc::new(bundle), profile: LiveProfile::new(snapshot), now: 0, handoff: false };
//! let html = rewrite_str(r#"<div data-vitrine-slot="hero"><h1 data-vitrine-field="headline">Hi</h1></div>"#, plan);
//! assert_eq!(html, r#"<div data-vitrine-slot="hero" data-vitrine-variant="vip"><h1 data-vitrine-field="headline">Thanks, Ann!</h1></div>"#);
//! ```
//!
//! # Key decisions
//!
//! - **Streaming, never buffering the page.** Lists are reordered with CSS `order` (each item's key
//!   depends on that item alone), and a widget's copies go in at its container's end tag; only the
//!   widget's small `<template>` is held in memory.
//! - **Fail open.** The shop's page is the fallback for every error: no bundle, no profile, a
//!   rewriter error mid-page (lol_html's graceful bail-out passes the rest through byte-exact), a
//!   trap in the Wasm (the JS entry catches it and serves the asset). Nothing here panics.
//! - **Text stays text.** Profile and catalog strings are inserted as escaped text or escaped
//!   attribute values; URLs must pass the engine's `is_safe_url`. The profile hand-off `<script>`
//!   escapes `<`, `>` and `&` so no value can close it.
//! - **Thin adapter.** Decisions are the engine's (`Context::decide_slot`, `rank_list`,
//!   `recommend`); this crate only converts between HTTP/HTML and the engine's types. The rewriting
//!   and the cookie code build natively, so `cargo test -p vitrine-edge` covers them without Wasm.

pub mod cookie;
pub mod markup;
pub mod origin;
pub mod paths;
pub mod rewrite;

#[cfg(target_arch = "wasm32")]
mod edge;

#[cfg(test)]
mod tests;
