//! The Workers glue (wasm32 only): routes, the shop's origin, Vitrine's files behind `ASSETS`, the
//! bundle cache, the visitor's profile from KV, and the streamed response. Everything that decides is in the engine;
//! everything that touches HTML is in [`crate::rewrite`].

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::StreamExt;
use serde::Deserialize;
use vitrine_engine::{Bundle, CaseInput, LiveProfile, ProfileSnapshot};
use worker::{event, Context, Env, Fetch, Fetcher, Headers, Method, Request, RequestInit, RequestRedirect, Response, Result};

use crate::cookie::{self, CookieError};
use crate::origin::{self, Bypass, ConfigError, Html, Route};
use crate::rewrite::{Plan, Streamer};

const HEADER: &str = "x-vitrine";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    // The URL as the runtime serialized it. Not parsed with the `url` crate: for the three slices
    // needed here its IDNA tables cost 160 KB of Wasm (70 KB gzip).
    let url = req.inner().url();
    if local_flag(&env, "VITRINE_TEST_HOOKS", &url) && req.headers().has("x-vitrine-test-trap").unwrap_or(false) {
        // Test hook: a trap, as a panic would cause under `panic = "abort"`, to prove that the JS
        // entry still serves the shop's page and replaces the dead instance.
        core::arch::wasm32::unreachable();
    }
    match req.path().as_str() {
        "/__vitrine/demo/become" if req.method() == Method::Get && local_flag(&env, "VITRINE_DEMO", &url) => become_visitor(&url, &env),
        "/__vitrine/decide" if req.method() == Method::Post && local_flag(&env, "VITRINE_TEST_HOOKS", &url) => decide_hook(req).await,
        "/__vitrine/rewrite" if req.method() == Method::Post && local_flag(&env, "VITRINE_TEST_HOOKS", &url) => rewrite_hook(req).await,
        "/__vitrine/memory" if req.method() == Method::Get && local_flag(&env, "VITRINE_TEST_HOOKS", &url) => memory_hook(),
        "/__vitrine/demo/become" | "/__vitrine/decide" | "/__vitrine/rewrite" | "/__vitrine/memory" => Response::error("Not Found", 404),
        _ => serve(req, &url, &env).await,
    }
}

/// The warm-up page (see [`crate::warm`]) through the streamed path a real page takes; its
/// rewritten body is returned for `js/entry.mjs` to read through, once per instance, before any
/// request. `None` (and a log line) if it could not be built: the worker then just starts cold.
#[worker::wasm_bindgen::prelude::wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn warm() -> Option<worker::worker_sys::web_sys::ReadableStream> {
    let built = (|| -> std::result::Result<Response, String> {
        // The visitor's cookie checked as a page's is (HMAC-SHA256).
        let signed = cookie::sign("warm-up", "w-1").unwrap_or_default();
        let _ = cookie::visitor(Some(&format!("{}={signed}", cookie::COOKIE_NAME)), "warm-up");
        let (bundle, profile) = crate::warm::inputs().map_err(|e| e.to_string())?;
        // The origin's body as it arrives: a stream of chunks, a few per page.
        let chunks: Vec<Result<Vec<u8>>> = crate::warm::PAGE.as_bytes().chunks(512).map(|c| Ok(c.to_vec())).collect();
        let headers = Headers::new();
        headers.set("content-type", "text/html; charset=utf-8").map_err(|e| e.to_string())?;
        let origin = Response::from_stream(futures_util::stream::iter(chunks)).map_err(|e| e.to_string())?.with_headers(headers);
        Ok(personalize(origin, Rc::new(bundle), profile, Outcome::Personalized, None))
    })();
    match built.as_ref().map(Response::body) {
        Ok(worker::ResponseBody::Stream(body)) => Some(body.clone()),
        Ok(_) => {
            worker::console_error!("vitrine: warm-up page was not streamed; starting cold");
            None
        }
        Err(e) => {
            worker::console_error!("vitrine: warm-up page failed; starting cold: {e}");
            None
        }
    }
}

/// Parses the edge bundle the deployment built into the worker (`js/entry.mjs` hands it over at
/// isolate start), so that the first page after a cold start finds it parsed. An empty text is no
/// bundle (a deployment whose bundle is too large for the worker: pages load it from the assets);
/// one that does not parse is logged, and pages then load it from the assets as without it.
#[worker::wasm_bindgen::prelude::wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn preload_bundle(text: &str) -> bool {
    if text.trim().is_empty() {
        return false;
    }
    match Bundle::from_json(text) {
        Ok(b) => BUNDLE.with(|c| c.try_borrow_mut().map(|mut c| *c = Some(Cache::Ready(Rc::new(b)))).is_ok()),
        Err(e) => {
            worker::console_error!("vitrine: the edge bundle built into the worker does not load ({e}); pages load it from the assets instead");
            false
        }
    }
}

/// A `[vars]` switch: on only when set to exactly `on`.
fn flag(env: &Env, name: &str) -> bool {
    env.var(name).map(|v| v.to_string() == "on").unwrap_or(false)
}

/// A demo or test switch: on only for requests to a loopback host, so that the demo's
/// configuration deployed as it is still serves no switcher, no test hook and no public model, and
/// refuses its published secret (logged once per isolate).
fn local_flag(env: &Env, name: &str, url: &str) -> bool {
    if !flag(env, name) {
        return false;
    }
    if origin::is_loopback(url) {
        return true;
    }
    thread_local!(static WARNED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    if !WARNED.with(|w| w.replace(true)) {
        worker::console_error!("vitrine: {name} is on, but only serves loopback hosts; ignored for {}", origin::origin_of(url));
    }
    false
}

/// Vars and secrets read the same; production sets the secret with `wrangler secret put`.
fn cookie_secret(env: &Env) -> String {
    env.var("VITRINE_COOKIE_SECRET").map(|v| v.to_string()).unwrap_or_default()
}

/// `GET /__vitrine/demo/become?vid=<id>&next=<path>`: the demo shop's visitor switcher.
fn become_visitor(url: &str, env: &Env) -> Result<Response> {
    let query = |name: &str| cookie::query_param(url, name).unwrap_or_default();
    let (vid, next) = (query("vid"), query("next"));
    let secure = url.starts_with("https:");
    let set_cookie = if vid.is_empty() {
        cookie::set_cookie_header(None, secure)
    } else {
        match cookie::sign(&cookie_secret(env), &vid) {
            Some(value) => cookie::set_cookie_header(Some(&value), secure),
            None => return Response::error("bad visitor id (or no cookie secret configured)", 400),
        }
    };
    // Only same-site paths: an open redirect on the shop's domain would be a phishing aid.
    let location = if cookie::is_same_site_path(&next) { next.as_str() } else { "/" };
    let headers = Headers::new();
    headers.set("location", location)?;
    headers.set("set-cookie", &set_cookie)?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::empty()?.with_status(302).with_headers(headers))
}

/// The test hooks' body, `{"bundle": …, "case": …}` (and `"html": "…"` for the rewrite hook), read;
/// a body that does not read is the hook's 400 answer.
async fn hook_input(mut req: Request, html: bool) -> Result<std::result::Result<(Bundle, CaseInput, String), Response>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Hook<'a> {
        #[serde(borrow)]
        bundle: &'a serde_json::value::RawValue,
        #[serde(borrow)]
        case: &'a serde_json::value::RawValue,
        html: Option<String>,
    }
    let body = req.text().await?;
    let expected = if html { r#"{"bundle": …, "case": …, "html": …}"# } else { r#"{"bundle": …, "case": …}"# };
    let hook = match serde_json::from_str::<Hook>(&body) {
        Ok(h) if h.html.is_some() == html => h,
        Ok(_) => return Ok(Err(Response::error(format!("expected {expected}"), 400)?)),
        Err(e) => return Ok(Err(Response::error(format!("expected {expected}: {e}"), 400)?)),
    };
    match (Bundle::from_json(hook.bundle.get()), CaseInput::from_json(hook.case.get())) {
        (Ok(bundle), Ok(case)) => Ok(Ok((bundle, case, hook.html.unwrap_or_default()))),
        (Err(e), _) | (_, Err(e)) => Ok(Err(Response::error(e.to_string(), 400)?)),
    }
}

/// `GET /__vitrine/memory` (test hook): `{"wasm_bytes": N}`, the size of this instance's linear
/// memory. It only ever grows, so equal readings before and after sustained traffic mean nothing
/// the requests allocate outlives them (tests/edge/faults.test.mjs, bench/edge-origin.mjs).
fn memory_hook() -> Result<Response> {
    let bytes = core::arch::wasm32::memory_size(0) * 65_536;
    json_answer(format!("{{\"wasm_bytes\":{bytes}}}"))
}

/// A test hook's JSON answer.
fn json_answer(body: String) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    Ok(Response::ok(body)?.with_headers(headers))
}

/// `POST /__vitrine/decide` (test hook): `{"bundle": …, "case": …}` → the engine's Decision JSON,
/// so the shared case file can check the edge build decides like the native engine.
async fn decide_hook(req: Request) -> Result<Response> {
    let (bundle, case, _) = match hook_input(req, false).await? {
        Ok(input) => input,
        Err(answer) => return Ok(answer),
    };
    json_answer(case.decide(&bundle).to_json())
}

/// `POST /__vitrine/rewrite` (test hook): `{"bundle": …, "case": …, "html": "…"}` → the page as the
/// worker's streaming rewriter personalizes it for the case's visitor at the case's time, so the
/// shared markup cases (tests/cases/markup.json) run through the worker in workerd.
async fn rewrite_hook(req: Request) -> Result<Response> {
    let (bundle, case, html) = match hook_input(req, true).await? {
        Ok(input) => input,
        Err(answer) => return Ok(answer),
    };
    let profile = case.live_profile(&bundle);
    let plan = Plan { bundle: Rc::new(bundle), profile, now: case.now, handoff: false };
    let headers = Headers::new();
    headers.set("content-type", "text/html; charset=utf-8")?;
    Ok(Response::ok(crate::rewrite::rewrite_str(&html, plan))?.with_headers(headers))
}

/// The worker's configuration from `[vars]` (see [`crate::origin`]); a broken value is logged and
/// fails safe: a bad bypass list bypasses everything, a bad origin answers 502.
struct Config {
    origin: Result<Option<String>, ConfigError>,
    bypass: Bypass,
    demo: bool,
    /// Fault injection (test hooks only, `VITRINE_TEST_KV_DELAY_MS`): the profile store answers this
    /// much later, as a slow KV would. Local workerd answers KV before any timer fires, even a 1 ms
    /// one against a 20 MB value, so the timeout cannot be reached otherwise.
    kv_delay_ms: u64,
}

impl Config {
    fn from_env(env: &Env, url: &str) -> Config {
        let var = |name: &str| env.var(name).map(|v| v.to_string()).ok();
        let origin = origin::parse_origin(var("VITRINE_ORIGIN").as_deref());
        let bypass = Bypass::parse(var("VITRINE_BYPASS").as_deref()).unwrap_or_else(|e| {
            worker::console_error!("vitrine: {e}; every page passes through unchanged");
            Bypass::all()
        });
        let kv_delay_ms = match local_flag(env, "VITRINE_TEST_HOOKS", url) {
            true => var("VITRINE_TEST_KV_DELAY_MS").and_then(|v| v.trim().parse().ok()).unwrap_or(0),
            false => 0,
        };
        Config { origin, bypass, demo: local_flag(env, "VITRINE_DEMO", url), kv_delay_ms }
    }
}

/// Routes a `GET`/`HEAD` (entry.mjs sends other methods and websocket upgrades straight to the
/// origin): Vitrine's files from the assets, bypass paths to the origin untouched, pages to the
/// origin and back through the engine.
async fn serve(req: Request, url: &str, env: &Env) -> Result<Response> {
    if req.headers().has(HOP)? {
        // Our own request came back: VITRINE_ORIGIN is unset outside Cloudflare, or names the worker.
        worker::console_error!("vitrine: request loop: set VITRINE_ORIGIN to the shop's own server");
        return Response::error("Loop Detected: VITRINE_ORIGIN must name the shop's server, not this worker", 508);
    }
    let config = Config::from_env(env, url);
    let path = req.path();
    match origin::route(&path, &config.bypass, config.demo) {
        Route::Asset(asset) => serve_asset(req, url, asset, env).await,
        Route::NotFound => Response::error("Not Found", 404),
        Route::Bypass => from_origin(req, url, &config, false).await,
        Route::Page => page(req, url, env, &config).await,
    }
}

/// Marks the worker's requests to the origin, so that one arriving back is caught as a loop.
const HOP: &str = "x-vitrine-hop";

/// Vitrine's own file at `asset` in the assets, answered with the request's method and
/// validators; content-addressed shards are cacheable for a year.
async fn serve_asset(req: Request, url: &str, asset: &str, env: &Env) -> Result<Response> {
    if !matches!(req.method(), Method::Get | Method::Head) {
        return Response::error("Method Not Allowed", 405);
    }
    let assets = env.assets("ASSETS")?;
    let mut init = RequestInit::new();
    init.with_method(req.method()).with_headers(copy_headers(req.headers(), &[]));
    let resp = assets.fetch_request(Request::new_with_init(&format!("{}{asset}", origin::origin_of(url)), &init)?).await?;
    if resp.status_code() == 200 && crate::paths::is_shard(url) {
        return Ok(immutable(resp));
    }
    Ok(resp)
}

/// The shop's answer for this request: same method, path, query and headers, sent to
/// `VITRINE_ORIGIN` (or the request's own URL), redirects not followed. `page_request` drops the
/// validators (see [`page`]). Status, headers and body come back as the origin sent them; only a
/// `Location` naming the origin itself is moved to the public site.
async fn from_origin(req: Request, url: &str, config: &Config, page_request: bool) -> Result<Response> {
    let origin = match &config.origin {
        Ok(o) => o.as_deref(),
        Err(e) => {
            worker::console_error!("vitrine: {e}");
            return Ok(tagged(Response::error("Bad Gateway", 502)?, "bypass; reason=config"));
        }
    };
    let target = origin::target(origin, url);
    let validators: &[&str] = if page_request { &["host", "if-none-match", "if-modified-since"] } else { &["host"] };
    let headers = copy_headers(req.headers(), validators);
    let public = origin::origin_of(url);
    if origin.is_some() {
        // What a shop behind a proxy reads to build its own absolute URLs.
        let (proto, host) = public.split_once("://").unwrap_or(("https", public));
        headers.set("x-forwarded-host", host)?;
        headers.set("x-forwarded-proto", proto)?;
    }
    headers.set(HOP, "1")?;
    let mut init = RequestInit::new();
    init.with_method(req.method()).with_headers(headers).with_redirect(RequestRedirect::Manual);
    let resp = match Fetch::Request(Request::new_with_init(&target, &init)?).send().await {
        Ok(r) => r,
        Err(e) => {
            worker::console_error!("vitrine: origin unreachable ({target}): {e}");
            return Ok(tagged(Response::error("Bad Gateway", 502)?, "bypass; reason=origin"));
        }
    };
    let moved = resp.headers().get("location").ok().flatten().and_then(|l| origin::public_location(&l, origin, public));
    Ok(match moved {
        Some(location) => with_header(resp, "location", &location),
        None => resp,
    })
}

/// A shop page: fetched from the origin and, if it is a `200` HTML answer to a `GET`, personalized
/// while it streams. Everything else (redirects, errors, `HEAD`, other types, unsupported
/// charsets, `Cache-Control: no-transform`) is the origin's answer unchanged.
///
/// Page requests go to the origin without `If-None-Match` / `If-Modified-Since`: the shop's ETag
/// describes the unpersonalized page, and a 304 would let the browser show a page personalized
/// for whoever it was fetched as before (the demo's visitor switcher changes exactly that).
/// "Page request" means one that accepts HTML, as navigations do; images and scripts keep their
/// revalidation.
async fn page(req: Request, url: &str, env: &Env, config: &Config) -> Result<Response> {
    let is_get = req.method() == Method::Get;
    let cookie_header = req.headers().get("cookie").ok().flatten();
    let wants_html = req.headers().get("accept")?.is_some_and(|a| a.contains("text/html"));
    let secret = cookie_secret(env);
    // Anyone can sign any visitor id with the published secret and read that customer's page.
    let dev_secret = secret == cookie::DEV_SECRET && !config.demo;
    let assets = env.assets("ASSETS")?;
    // A navigation's page is almost always HTML to personalize: the bundle (parsed once per
    // isolate) and the visitor's profile load while the origin answers, so neither adds to the
    // page's latency — the first page after a cold start parses the bundle during the origin's
    // round trip. Other requests (images, scripts, fetches) ask KV nothing unless they turn out
    // to be HTML.
    let (resp, early) = if is_get && wants_html && !dev_secret {
        let (resp, bundle, visitor) = futures_util::future::join3(
            from_origin(req, url, config, true),
            bundle(assets.clone(), url),
            visitor(cookie_header.as_deref(), &secret, env, config.kv_delay_ms),
        )
        .await;
        (resp?, Some((bundle, visitor)))
    } else {
        (from_origin(req, url, config, false).await?, None)
    };
    if !is_get || resp.status_code() != 200 {
        return Ok(resp);
    }
    let charset = match origin::html(resp.headers().get("content-type").ok().flatten().as_deref()) {
        Html::No => return Ok(resp),
        Html::Unsupported => return Ok(tagged(resp, "bypass; reason=charset")),
        Html::Charset(c) => c,
    };
    if resp.headers().get("cache-control").ok().flatten().is_some_and(|c| c.to_ascii_lowercase().contains("no-transform")) {
        return Ok(tagged(resp, "bypass; reason=no-transform"));
    }
    if dev_secret {
        worker::console_error!(
            "vitrine: VITRINE_COOKIE_SECRET is the demo's published secret; pages pass through unpersonalized until a secret of your own is set (wrangler secret put VITRINE_COOKIE_SECRET)"
        );
        return Ok(tagged(resp, "bypass; reason=dev-secret"));
    }
    let (bundle, (profile, outcome)) = match early {
        Some(loaded) => loaded,
        None => (bundle(assets, url).await, visitor(cookie_header.as_deref(), &secret, env, config.kv_delay_ms).await),
    };
    let Ok(bundle) = bundle else { return Ok(tagged(resp, "bypass; reason=bundle")) };
    Ok(personalize(resp, bundle, profile, outcome, charset))
}

thread_local! {
    /// The bundle, parsed once per isolate: it only changes with a deploy, which starts new isolates.
    /// One request loads it at a time; a failure is remembered (with when it happened), so a broken
    /// bundle is fetched and parsed at most every [`BUNDLE_RETRY_MS`], not by every request or
    /// every concurrent one.
    static BUNDLE: RefCell<Option<Cache>> = const { RefCell::new(None) };
}

#[derive(Clone)]
enum Cache {
    /// A request is loading it, since this time.
    Loading(f64),
    Ready(Rc<Bundle>),
    /// The last load failed at this time, for this reason.
    Failed(f64, String),
}

/// How long a request waits for another one's load (a Workers request cannot await another
/// request's promise, so it polls the cache); past this, the load is taken as lost and redone.
const BUNDLE_WAIT_MS: f64 = 5_000.0;
/// How often a waiting request looks again.
const BUNDLE_POLL_MS: u64 = 10;

/// How long a failed bundle load stands before the next request tries again.
const BUNDLE_RETRY_MS: f64 = 10_000.0;

/// A fresh, mutable copy of `headers` without the named ones (fetched responses' headers are
/// immutable in Workers).
fn copy_headers(headers: &Headers, without: &[&str]) -> Headers {
    let out = Headers::new();
    for (k, v) in headers.entries() {
        if !without.iter().any(|w| k.eq_ignore_ascii_case(w)) {
            let _ = out.append(&k, &v);
        }
    }
    out
}

/// The original response, cacheable for a year without revalidation.
fn immutable(resp: Response) -> Response {
    with_header(resp, "cache-control", "public, max-age=31536000, immutable")
}

/// The original response with only an `x-vitrine` header added.
fn tagged(resp: Response, value: &str) -> Response {
    with_header(resp, HEADER, value)
}

/// The original response (status, headers, streamed body) with one header set.
fn with_header(resp: Response, name: &str, value: &str) -> Response {
    let headers = copy_headers(resp.headers(), &[]);
    let _ = headers.set(name, value);
    let status = resp.status_code();
    Response::builder().with_status(status).with_headers(headers).body(resp.body().clone())
}

/// Loads the edge bundle (`/edge/bundle.json` in the worker's assets, served publicly only in demo
/// mode: it holds the full model; the browser's `/vitrine/bundle.json` has only the model's head)
/// once per isolate.
async fn bundle(assets: Fetcher, page: &str) -> std::result::Result<Rc<Bundle>, String> {
    let read = || BUNDLE.with(|c| c.try_borrow().ok().and_then(|c| c.clone()));
    let write = |v: Cache| BUNDLE.with(|c| c.try_borrow_mut().map(|mut c| *c = Some(v)).is_ok());
    loop {
        let now = worker::js_sys::Date::now();
        match read() {
            Some(Cache::Ready(b)) => return Ok(b),
            Some(Cache::Failed(at, e)) if now - at < BUNDLE_RETRY_MS => return Err(e),
            Some(Cache::Loading(since)) if now - since < BUNDLE_WAIT_MS => {
                worker::Delay::from(std::time::Duration::from_millis(BUNDLE_POLL_MS)).await;
                continue;
            }
            _ => {}
        }
        write(Cache::Loading(now));
        let loaded = load_bundle(&assets, page).await;
        match &loaded {
            Ok(b) => write(Cache::Ready(b.clone())),
            Err(e) => {
                worker::console_error!("vitrine: edge bundle unavailable, pages pass through (retry in {} s): {e}", BUNDLE_RETRY_MS / 1000.0);
                write(Cache::Failed(worker::js_sys::Date::now(), e.clone()))
            }
        };
        return loaded;
    }
}

async fn load_bundle(assets: &Fetcher, page: &str) -> std::result::Result<Rc<Bundle>, String> {
    let url = format!("{}{}", origin::origin_of(page), origin::EDGE_BUNDLE_ASSET);
    let mut resp = assets.fetch(url, None).await.map_err(|e| e.to_string())?;
    if resp.status_code() != 200 {
        return Err(format!("{}: HTTP {}", origin::EDGE_BUNDLE_ASSET, resp.status_code()));
    }
    let text = resp.text().await.map_err(|e| e.to_string())?;
    Ok(Rc::new(Bundle::from_json(&text).map_err(|e| e.to_string())?))
}

/// How long a page waits for the visitor's profile (`VITRINE_KV_TIMEOUT_MS` overrides it). Workers
/// KV answers a hot key in a few milliseconds and a cold one in tens.
const KV_TIMEOUT_MS: u64 = 500;

/// A KV value as far as it was read.
enum Stored {
    Missing,
    Text(String),
    /// Longer than the cap: not read further.
    TooBig,
}

/// The value under `key`, streamed and read only up to `cap` bytes, so that an oversized value is
/// never copied whole into the instance's memory (whose linear memory never shrinks: one 20 MB
/// value used to leave it at 24 MB for good, and a few at once would exhaust the isolate).
async fn read_capped(kv: &worker::kv::KvStore, key: &str, cap: usize) -> std::result::Result<Stored, String> {
    use worker::js_sys::{Function, Promise, Reflect, Uint8Array};
    use worker::wasm_bindgen::{JsCast, JsValue};
    use worker::wasm_bindgen_futures::JsFuture;

    let js = |e: JsValue| format!("{e:?}");
    let Some(stream) = kv.get(key).stream().await.map_err(|e| e.to_string())? else {
        return Ok(Stored::Missing);
    };
    let reader = stream.get_reader();
    let read: Function = Reflect::get(&reader, &"read".into()).map_err(js)?.dyn_into().map_err(js)?;
    let mut bytes = Vec::new();
    loop {
        let promise: Promise = read.call0(&reader).map_err(js)?.dyn_into().map_err(js)?;
        let step = JsFuture::from(promise).await.map_err(js)?;
        if Reflect::get(&step, &"done".into()).map_err(js)?.is_truthy() {
            break;
        }
        let chunk: Uint8Array = Reflect::get(&step, &"value".into()).map_err(js)?.dyn_into().map_err(js)?;
        if bytes.len() + chunk.length() as usize > cap {
            // Released, not awaited: the rest of the value is never read.
            if let Ok(cancel) = Reflect::get(&reader, &"cancel".into()).and_then(|f| f.dyn_into::<Function>()) {
                let _ = cancel.call0(&reader);
            }
            return Ok(Stored::TooBig);
        }
        let at = bytes.len();
        bytes.resize(at + chunk.length() as usize, 0);
        chunk.copy_to(&mut bytes[at..]);
    }
    String::from_utf8(bytes).map(Stored::Text).map_err(|e| format!("not UTF-8: {e}"))
}

/// Whose page this is; the reason names why it is the anonymous default.
enum Outcome {
    Personalized,
    Default(&'static str),
}

/// Resolves the visitor: signed cookie → KV `profile:<vid>` → snapshot with consent. Every failure
/// is the anonymous visitor, whose decisions are the shop's defaults plus non-personal recs.
async fn visitor(cookie_header: Option<&str>, secret: &str, env: &Env, kv_delay_ms: u64) -> (LiveProfile, Outcome) {
    let anonymous = |reason| (LiveProfile::new(ProfileSnapshot::anonymous()), Outcome::Default(reason));
    if secret.is_empty() {
        if cookie_header.and_then(cookie::find).is_none() {
            return anonymous("no-cookie");
        }
        worker::console_error!("vitrine: no VITRINE_COOKIE_SECRET set: visitors' cookies cannot be verified (wrangler secret put VITRINE_COOKIE_SECRET)");
        return anonymous("no-secret");
    }
    let vid = match cookie::visitor(cookie_header, secret) {
        Ok(vid) => vid,
        Err(CookieError::Missing) => return anonymous("no-cookie"),
        Err(CookieError::Invalid) => return anonymous("bad-cookie"),
    };
    let kv = match env.kv("PROFILES") {
        Ok(kv) => kv,
        Err(e) => {
            worker::console_warn!("vitrine: profile store failed: {e}");
            return anonymous("kv-error");
        }
    };
    // A slow store delays no page beyond the bound: the visitor is then served the defaults.
    let timeout = env.var("VITRINE_KV_TIMEOUT_MS").ok().and_then(|v| v.to_string().trim().parse::<u64>().ok()).unwrap_or(KV_TIMEOUT_MS);
    let key = format!("profile:{vid}");
    let get = std::pin::pin!(async {
        if kv_delay_ms > 0 {
            worker::Delay::from(std::time::Duration::from_millis(kv_delay_ms)).await;
        }
        read_capped(&kv, &key, ProfileSnapshot::MAX_BYTES).await
    });
    let late = std::pin::pin!(worker::Delay::from(std::time::Duration::from_millis(timeout)));
    let stored = match futures_util::future::select(get, late).await {
        futures_util::future::Either::Left((stored, _)) => stored,
        futures_util::future::Either::Right(_) => {
            worker::console_warn!("vitrine: profile store did not answer within {timeout} ms");
            return anonymous("kv-timeout");
        }
    };
    let text = match stored {
        Ok(Stored::Text(t)) => t,
        Ok(Stored::Missing) => return anonymous("unknown-visitor"),
        Ok(Stored::TooBig) => {
            let max = ProfileSnapshot::MAX_BYTES;
            worker::console_warn!("vitrine: profile:{vid} is larger than a snapshot may be ({max} bytes); refused");
            return anonymous("bad-profile");
        }
        Err(e) => {
            worker::console_warn!("vitrine: profile store failed: {e}");
            return anonymous("kv-error");
        }
    };
    let snapshot = match ProfileSnapshot::from_json(&text) {
        Ok(s) => s,
        Err(e) => {
            worker::console_warn!("vitrine: profile:{vid} unreadable: {e}");
            return anonymous("bad-profile");
        }
    };
    if snapshot.id != vid {
        // A store mix-up must never show one customer another's page.
        worker::console_error!("vitrine: profile:{vid} holds the snapshot of {:?}; refused", snapshot.id);
        return anonymous("bad-profile");
    }
    if !snapshot.consent.personalization {
        return anonymous("no-consent");
    }
    (LiveProfile::new(snapshot), Outcome::Personalized)
}

/// The streamed, rewritten page. If the rewriter cannot even start, the page passes through.
fn personalize(mut resp: Response, bundle: Rc<Bundle>, profile: LiveProfile, outcome: Outcome, charset: Option<&'static encoding_rs::Encoding>) -> Response {
    let now = bundle.site.demo_now.unwrap_or_else(|| (worker::js_sys::Date::now() / 1000.0).floor() as i64);
    let personalized = matches!(outcome, Outcome::Personalized);
    let streamer = match Streamer::with_charset(Plan { bundle, profile, now, handoff: personalized }, charset) {
        Ok(s) => s,
        Err(e) => {
            worker::console_error!("vitrine: rewriter setup failed: {e}");
            return tagged(resp, "bypass; reason=rewriter");
        }
    };
    let input = match resp.stream() {
        Ok(s) => s,
        Err(_) => return tagged(resp, "bypass; reason=body"),
    };
    // The rewritten page has another length and is no longer the file the ETag names. It depends on
    // the visitor's cookie: a personalized page is for this visitor's browser only; an anonymous
    // one is the same for every anonymous visitor and keeps the shop's caching, but varies by cookie
    // so that no cache serves it to a visitor who has since logged in (nor the other way round).
    let headers = copy_headers(resp.headers(), &["content-length", "etag", "last-modified"]);
    let _ = headers.set("vary", &origin::vary_with_cookie(resp.headers().get("vary").ok().flatten().as_deref()));
    if personalized {
        let _ = headers.set("cache-control", "private, no-cache");
    }
    let _ = headers.set(
        HEADER,
        &match outcome {
            Outcome::Personalized => "personalized".to_owned(),
            Outcome::Default(reason) => format!("default; reason={reason}"),
        },
    );
    let body = futures_util::stream::unfold(Some((input, streamer)), |state| async move {
        let (mut input, mut streamer) = state?;
        loop {
            match input.next().await {
                Some(Ok(chunk)) => {
                    let out = streamer.write(&chunk);
                    if !out.is_empty() {
                        return Some((Ok(out), Some((input, streamer))));
                    }
                }
                Some(Err(e)) => {
                    // The shop's own body broke off; nothing sensible can follow it.
                    return Some((Err(e), None));
                }
                None => {
                    let out = streamer.end();
                    return (!out.is_empty()).then_some((Ok(out), None));
                }
            }
        }
    });
    let status = resp.status_code();
    match Response::from_stream(body) {
        Ok(r) => r.with_status(status).with_headers(headers),
        Err(_) => tagged(resp, "bypass; reason=body"),
    }
}
