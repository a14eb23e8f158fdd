//! Vitrine at the edge: a Cloudflare Worker in front of the shop's own server that personalizes
//! its HTML while it streams.
//!
//! # Data flow
//!
//! Per request the worker (`edge.rs`, wasm32 only) routes by path ([`origin::route`]): Vitrine's own
//! files under `/vitrine/` come from the worker's assets (the `ASSETS` binding); bypass paths
//! (`VITRINE_BYPASS`), methods other than GET and HEAD and websocket upgrades (proxied by
//! `js/entry.mjs` without entering the Wasm) go to the shop's origin (`VITRINE_ORIGIN`, or the
//! route's own) and come back untouched; a page goes to the origin too, and anything but a `200`
//! HTML answer to a GET passes through as the origin sent it. For a page the worker loads the
//! engine's [`Bundle`](vitrine_engine::Bundle) (`edge/bundle.json` in the assets, with the full
//! model, once per isolate), resolves the visitor from the signed `vitrine_vid` cookie ([`cookie`])
//! and their profile snapshot in Workers KV (`profile:<vid>`), and streams the body through
//! [`rewrite::Streamer`] in the page's own charset: lol_html handlers ask the engine for each slot,
//! list item and recommendation widget as its tag streams past and apply the answer to the
//! `data-vitrine-*` markup (docs/markup.md). The header `x-vitrine` says what happened (docs/markup.md,
//! "What the edge did"): `personalized`, `default; reason=…` or `bypass; reason=…`.
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
//! - **Fail open.** The shop's page is the fallback for every error: no bundle (retried every
//!   10 s, not on every request), no profile, a rewriter error mid-page (lol_html's graceful
//!   bail-out passes the rest through byte-exact), a trap in the Wasm (the JS entry catches it and
//!   serves the origin's answer). Nothing here panics.
//! - **A proxy, not a host.** Status, redirects, cookies, compressed and ranged bodies are the
//!   origin's; only a `Location` naming the origin itself moves to the public host. Anonymous pages
//!   keep the origin's caching (varied by cookie); personalized ones are private.
//! - **Safe as shipped.** The demo's published cookie secret makes the worker pass pages through
//!   unless `VITRINE_DEMO` is on; the edge bundle is served publicly only in demo mode; and demo
//!   and test switches only work for loopback hosts, so the demo's configuration deployed as it is
//!   is a production one.
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
pub mod scan;
pub mod warm;

#[cfg(target_arch = "wasm32")]
mod edge;

#[cfg(test)]
mod tests;
