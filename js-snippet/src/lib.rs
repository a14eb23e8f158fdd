//! The engine for the browser: a thin wasm-bindgen adapter. JSON strings in, JSON strings out;
//! every entry point returns a `Result`, so bad input becomes a JS exception the loader catches
//! (failing open), never a trap.
//!
//! The loader (`loader.js`) owns the DOM, `dataLayer` and storage; this crate owns no state but
//! the [`Vitrine`] object: the bundle, the visitor's snapshot and this session.
//!
//! Two builds come from this crate. The production one (`vitrine_bg.wasm`, what shops' visitors
//! download) loads compiled bundles and decides: no CEL lexer, parser or checker, no replay. The
//! developer one (`--features dev`, `vitrine-dev_bg.wasm`, loaded by the preview panel only) adds
//! `checkSite`, `compileSite`, `formatPrices`, source configurations in `setSite`, and replay.

use vitrine_engine::profile::ItemEvent;
#[cfg(feature = "dev")]
use vitrine_engine::replay::replay;
#[cfg(feature = "dev")]
use vitrine_engine::site::CompileError;
use vitrine_engine::site::SiteConfig;
use vitrine_engine::{Bundle, Context, Event, LiveProfile, Markup, ProfileSnapshot, Session, VarsCache};
#[cfg(feature = "dev")]
use vitrine_engine::{Page, Vars};
use wasm_bindgen::prelude::*;

/// One visitor's engine: the bundle plus the live profile.
#[wasm_bindgen]
pub struct Vitrine {
    bundle: Bundle,
    profile: LiveProfile,
    /// Profile snapshots for `replay` (the preview panel), loaded once.
    #[cfg(feature = "dev")]
    replay_profiles: Vec<LiveProfile>,
    /// The visitor's rule variables, kept between decisions; cleared whenever the profile or the
    /// session changes.
    vars: VarsCache,
}

fn err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// JS time (milliseconds) to engine time (seconds).
fn secs(ms: f64) -> i64 {
    if ms.is_finite() {
        (ms / 1000.0).floor() as i64
    } else {
        0
    }
}

#[wasm_bindgen]
impl Vitrine {
    /// Loads the browser's bundle (`bundle.json`: the head `vitrine bundle --shards N --sharded-out
    /// DIR` writes, whose shards `addShard` adds; the production build refuses a full catalog or
    /// model).
    /// Starts with an anonymous visitor.
    #[wasm_bindgen(constructor)]
    pub fn new(bundle_json: &str) -> Result<Vitrine, JsError> {
        let bundle = Bundle::from_json(bundle_json).map_err(err)?;
        Ok(Vitrine {
            bundle,
            profile: LiveProfile::new(ProfileSnapshot::anonymous()),
            #[cfg(feature = "dev")]
            replay_profiles: Vec::new(),
            vars: VarsCache::default(),
        })
    }

    /// Every call after `new`, by number: one piece of boundary glue for all of them, not one
    /// per method (0.7 KB gzip of the Wasm, 0.25 KB of its JS glue). `js-snippet/api.js`, which
    /// both builds' glue is followed by, gives the JS class back its methods by name, in this
    /// order: each takes the arguments it names (`text`, `bytes`, `now_ms`), and answers `None`
    /// (`undefined`) unless it returns something.
    pub fn call(&mut self, op: u32, text: &str, bytes: &[u8], now_ms: f64) -> Result<Option<String>, JsError> {
        let none = |r: Result<(), JsError>| r.map(|()| None);
        match op {
            0 => none(self.set_profile(text)),
            1 => {
                self.set_visitor_id(text);
                Ok(None)
            }
            2 => none(self.set_site(text)),
            3 => none(self.set_session(text)),
            4 => Ok(Some(self.session_json())),
            // `Some` for true: the JS method answers a boolean.
            5 => Ok(self.consented().then(String::new)),
            6 => {
                self.grant_consent();
                Ok(None)
            }
            7 => {
                self.revoke_consent();
                Ok(None)
            }
            8 => self.push(text, now_ms),
            9 => none(self.add_shard(text, bytes)),
            10 => self.decide_settling(text, now_ms).map(Some),
            _ => Err(JsError::new("unknown engine call")),
        }
    }
}

/// The calls behind [`Vitrine::call`], by name.
impl Vitrine {
    /// Uses a snapshot issued by the edge; the session so far is kept.
    fn set_profile(&mut self, snapshot_json: &str) -> Result<(), JsError> {
        self.vars.clear();
        self.profile.snapshot = ProfileSnapshot::from_json(snapshot_json).map_err(err)?;
        Ok(())
    }

    /// An id for a visitor without a profile (the loader makes one after consent and keeps it for
    /// the session), so experiments can assign them. A profile's own id is never replaced.
    fn set_visitor_id(&mut self, id: &str) {
        self.vars.clear();
        if self.profile.snapshot.id.is_empty() {
            self.profile.snapshot.id = id.chars().take(128).collect();
        }
    }

    /// Replaces the site configuration (the preview panel's live edits): its compiled form
    /// (`compileSite` of the developer build), or in the developer build its source too. A
    /// configuration that does not load is an error, and the current one stays.
    fn set_site(&mut self, site_json: &str) -> Result<(), JsError> {
        // The variables depend on the site too (`consent.session_before_consent`).
        self.vars.clear();
        let mut site = SiteConfig::from_json(site_json).map_err(err)?;
        // Compiled without the catalog: the shop's currency (`money(amount)`) is the bundle's.
        site.money.inherit_shop_currency(&self.bundle.site.money);
        self.bundle.site = site;
        Ok(())
    }

    /// Restores this session's state (kept in storage after consent).
    fn set_session(&mut self, session_json: &str) -> Result<(), JsError> {
        self.vars.clear();
        self.profile.session = Session::from_json(session_json).map_err(err)?;
        Ok(())
    }

    fn session_json(&self) -> String {
        self.profile.session.to_json()
    }

    /// Whether the snapshot allows personal data to be used.
    fn consented(&self) -> bool {
        self.profile.personalized()
    }

    /// Consent given on this page (Google Consent Mode `personalization_storage: granted`).
    fn grant_consent(&mut self) {
        self.vars.clear();
        self.profile.snapshot.consent.personalization = true;
    }

    /// Consent denied on this page (Consent Mode says `denied`, whatever the snapshot records:
    /// the stricter wins) or revoked: nothing personal is read from now on, and this session's
    /// events are dropped, so they are not used even where the site allows them before consent.
    fn revoke_consent(&mut self) {
        self.vars.clear();
        self.profile.snapshot.consent.personalization = false;
        self.profile.session = Session::default();
    }

    /// Applies one GA4 event (`{"event": ..., "ecommerce": {"items": [...]}}`). Returns `""` when
    /// it was applied and changes decisions, `undefined` when it does not concern decisions, and
    /// the catalog files to fetch first (`addShard`, then push again), one per line, when it is a
    /// purchase of products not loaded yet: a purchase is valued at catalog prices when it is
    /// applied. (Lines, not an array: one string crosses the boundary with less glue.)
    fn push(&mut self, event_json: &str, now_ms: f64) -> Result<Option<String>, JsError> {
        let event = Event::from_json(event_json).map_err(err)?;
        let Some(kind) = event.kind() else { return Ok(None) };
        if let (ItemEvent::Purchase, Some(base)) = (kind, self.bundle.catalog.shard_layout().map(|l| l.base.as_str())) {
            let need = self.bundle.catalog.missing_products(event.ecommerce.items.iter().map(|i| i.item_id.as_str()));
            if !need.is_empty() {
                let mut files = String::new();
                for name in need {
                    if !files.is_empty() {
                        files.push('\n');
                    }
                    files.push_str(base);
                    files.push_str(&name);
                }
                return Ok(Some(files));
            }
        }
        self.vars.clear();
        self.profile.apply_with_catalog(&event, secs(now_ms), &self.bundle.catalog);
        Ok(Some(String::new()))
    }

    /// Adds one fetched shard file (a path relative to the bundle, as `decideSettling` names it:
    /// `m-<hash>/3.vtm`, `c-<hash>/7.json`). A file that fails its checks is an error and changes
    /// nothing. Empty bytes give up on a file that could not be fetched: its products stay
    /// unknown, its rows empty, and it is no longer named.
    fn add_shard(&mut self, path: &str, bytes: &[u8]) -> Result<(), JsError> {
        self.vars.clear();
        self.bundle.add_file(path, bytes).map_err(err)
    }

    /// Decides for the page's markup (a [`Markup`] document: raw `data-vitrine-*` values, read
    /// in the engine), and names the shard files the decision could not read (model rows, catalog
    /// entries, similar rows): the decision JSON, then each file on a line of its own (the JSON
    /// holds no line break, and one string crosses the boundary with less glue than an array).
    /// With no files the decision is the full bundle's (apply it); otherwise fetch and `addShard`
    /// them and ask again: a few rounds at most, as a widget's candidates are known once their rows
    /// are loaded. Placements that read something missing are `keep` meanwhile. Always no files
    /// for a full bundle. The decision has one entry per slot, list and widget of the markup, in
    /// its order. `now_ms` is ignored when the site pins `demo_now`.
    fn decide_settling(&self, markup_json: &str, now_ms: f64) -> Result<String, JsError> {
        let markup = Markup::from_json(markup_json).map_err(err)?;
        let now = self.bundle.site.demo_now.unwrap_or(secs(now_ms));
        let ctx = Context { bundle: &self.bundle, profile: &self.profile, page: &markup.request.page, now };
        let (decision, missed) = ctx.decide_settling(&markup.request, &self.vars);
        let mut out = markup.widgets(decision).to_json();
        for file in missed {
            out.push('\n');
            out.push_str(&file);
        }
        Ok(out)
    }
}

/// The developer build's own calls (the preview panel's).
#[cfg(feature = "dev")]
#[wasm_bindgen]
impl Vitrine {
    /// Every segment of the site for this visitor on `page_json` (`{"type": "home"}`), as JSON
    /// `{"name": true|false, ...}`.
    pub fn segments(&self, page_json: &str, now_ms: f64) -> Result<String, JsError> {
        let page = Page::from_json(page_json).map_err(err)?;
        let now = self.bundle.site.demo_now.unwrap_or(secs(now_ms));
        let ctx = Context { bundle: &self.bundle, profile: &self.profile, page: &page, now };
        serde_json::to_string(Vars::cached(&ctx, &self.vars).segments()).map_err(err)
    }

    /// Loads profile snapshots (JSON lines) for [`Vitrine::replay`]; returns how many.
    #[wasm_bindgen(js_name = loadReplayProfiles)]
    pub fn load_replay_profiles(&mut self, jsonl: &str) -> Result<usize, JsError> {
        let mut out = Vec::new();
        for (i, line) in jsonl.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            out.push(LiveProfile::new(ProfileSnapshot::from_json(line).map_err(|e| err(format!("line {}: {e}", i + 1)))?));
        }
        self.replay_profiles = out;
        Ok(self.replay_profiles.len())
    }

    /// Evaluates the current site configuration over every loaded profile on a page
    /// (`{"type": "home"}`): segment sizes, overlaps, variant and arm distributions (JSON).
    pub fn replay(&self, page_json: &str, now_ms: f64) -> Result<String, JsError> {
        let page = Page::from_json(page_json).map_err(err)?;
        let now = self.bundle.site.demo_now.unwrap_or(secs(now_ms));
        serde_json::to_string(&replay(&self.bundle, &self.replay_profiles, &page, now)).map_err(err)
    }
}

/// Compiles a site configuration and reports every problem:
/// `{"ok": true}` or `{"ok": false, "errors": [{"field", "line", "column", "message", "json"}]}` (line
/// and column inside the rule, or, with `json`, in the JSON text: a structural error, or a file that
/// is not JSON).
#[cfg(feature = "dev")]
#[wasm_bindgen(js_name = checkSite)]
pub fn check_site(site_json: &str) -> String {
    let errors: Vec<serde_json::Value> = match SiteConfig::compile(site_json) {
        Ok(_) => Vec::new(),
        Err(CompileError::Format(e)) => vec![serde_json::json!({"field": e.field, "line": e.line, "column": e.column, "message": e.to_string(), "json": true})],
        Err(CompileError::Rules(errors)) => errors
            .into_iter()
            .map(|e| serde_json::json!({"field": e.field, "line": e.line, "column": e.column, "message": e.message, "json": e.json}))
            .collect(),
    };
    serde_json::json!({"ok": errors.is_empty(), "errors": errors}).to_string()
}

/// Catalog prices (`"12.75 GBP"`, one per line) as a site configuration (compiled, or its source)
/// shows them, one per line, the way recommendations show theirs: the preview panel's product
/// picker. A price that does not parse is returned as it is. (Lines, not JSON: a JSON array reader
/// cost the developer build 8 KB gzip.)
#[cfg(feature = "dev")]
#[wasm_bindgen(js_name = formatPrices)]
pub fn format_prices(site_json: &str, prices: &str) -> Result<String, JsError> {
    let site = SiteConfig::from_json(site_json).map_err(err)?;
    let shown: Vec<String> =
        prices.split('\n').map(|p| vitrine_engine::Price::parse(p).map_or_else(|| p.to_owned(), |price| site.money.format(&price))).collect();
    Ok(shown.join("\n"))
}

/// Compiles a site configuration into the form runtimes load, with each rule's source (so the
/// production build's traces show and locate rules). Errors as `setSite`'s.
#[cfg(feature = "dev")]
#[wasm_bindgen(js_name = compileSite)]
pub fn compile_site(site_json: &str) -> Result<String, JsError> {
    Ok(SiteConfig::from_json(site_json).map_err(err)?.to_compiled_json(true))
}

/// The allocator of both builds (js-snippet/Cargo.toml says why not the standard library's).
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
