//! The Workers glue (wasm32 only): routes, the static shop behind `ASSETS`, the bundle cache, the
//! visitor's profile from KV, and the streamed response. Everything that decides is in the engine;
//! everything that touches HTML is in [`crate::rewrite`].

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::StreamExt;
use serde::Deserialize;
use vitrine_engine::{Bundle, CaseInput, LiveProfile, ProfileSnapshot};
use worker::{event, Context, Env, Fetcher, Headers, Method, Request, RequestInit, Response, Result};

use crate::cookie::{self, CookieError};
use crate::rewrite::{Plan, Streamer};

const HEADER: &str = "x-vitrine";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    // The URL as the runtime serialized it. Not parsed with the `url` crate: for the three slices
    // needed here its IDNA tables cost 160 KB of Wasm (70 KB gzip).
    let url = req.inner().url();
    if flag(&env, "VITRINE_TEST_HOOKS") && req.headers().has("x-vitrine-test-trap").unwrap_or(false) {
        // Test hook: a trap, as a panic would cause under `panic = "abort"`, to prove that the JS
        // entry still serves the shop's page and replaces the dead instance.
        core::arch::wasm32::unreachable();
    }
    match req.path().as_str() {
        "/__vitrine/demo/become" if req.method() == Method::Get && flag(&env, "VITRINE_DEMO") => become_visitor(&url, &env),
        "/__vitrine/decide" if req.method() == Method::Post && flag(&env, "VITRINE_TEST_HOOKS") => decide_hook(req).await,
        "/__vitrine/demo/become" | "/__vitrine/decide" => Response::error("Not Found", 404),
        _ => serve(req, &url, &env).await,
    }
}

/// A `[vars]` switch: on only when set to exactly `on`.
fn flag(env: &Env, name: &str) -> bool {
    env.var(name).map(|v| v.to_string() == "on").unwrap_or(false)
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

/// `POST /__vitrine/decide` (test hook): `{"bundle": …, "case": …}` → the engine's Decision JSON,
/// so the shared case file can check the edge build decides like the native engine.
async fn decide_hook(mut req: Request) -> Result<Response> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Hook<'a> {
        #[serde(borrow)]
        bundle: &'a serde_json::value::RawValue,
        #[serde(borrow)]
        case: &'a serde_json::value::RawValue,
    }
    let body = req.text().await?;
    let hook: Hook = match serde_json::from_str(&body) {
        Ok(h) => h,
        Err(e) => return Response::error(format!("expected {{\"bundle\": …, \"case\": …}}: {e}"), 400),
    };
    let bundle = match Bundle::from_json(hook.bundle.get()) {
        Ok(b) => b,
        Err(e) => return Response::error(e.to_string(), 400),
    };
    let case = match CaseInput::from_json(hook.case.get()) {
        Ok(c) => c,
        Err(e) => return Response::error(e.to_string(), 400),
    };
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    Ok(Response::ok(case.decide(&bundle).to_json())?.with_headers(headers))
}

/// Serves the shop's page, personalized if it is HTML; anything else passes through untouched.
async fn serve(req: Request, url: &str, env: &Env) -> Result<Response> {
    let assets = env.assets("ASSETS")?;
    let is_get = req.method() == Method::Get;
    let cookie_header = req.headers().get("cookie").ok().flatten();
    let resp = assets.fetch_request(without_validators(req)?).await?;
    if is_get && resp.status_code() == 200 && crate::paths::is_shard(url) {
        return Ok(immutable(resp));
    }
    if !is_get || resp.status_code() != 200 || !is_utf8_html(resp.headers()) {
        return Ok(resp);
    }
    let bundle = match bundle(&assets, url).await {
        Ok(b) => b,
        Err(e) => {
            worker::console_warn!("vitrine: bundle unavailable, page passed through: {e}");
            return Ok(tagged(resp, "bypass; reason=bundle"));
        }
    };
    let (profile, outcome) = visitor(cookie_header.as_deref(), env).await;
    Ok(personalize(resp, bundle, profile, outcome))
}

thread_local! {
    /// The bundle, parsed once per isolate: it only changes with a deploy, which starts new isolates.
    static BUNDLE: RefCell<Option<Rc<Bundle>>> = const { RefCell::new(None) };
}

/// Page requests go to the assets without `If-None-Match` / `If-Modified-Since`: the shop's ETag
/// describes the unpersonalized file, and a 304 would let the browser show a page personalized
/// for whoever it was fetched as before (the demo's visitor switcher changes exactly that).
/// "Page request" means one that accepts HTML, as navigations do; images and scripts keep their
/// revalidation.
fn without_validators(req: Request) -> Result<Request> {
    let headers = req.headers();
    let wants_html = headers.get("accept")?.is_some_and(|a| a.contains("text/html"));
    let conditional = headers.has("if-none-match")? || headers.has("if-modified-since")?;
    if req.method() != Method::Get || !wants_html || !conditional {
        return Ok(req);
    }
    let headers = copy_headers(req.headers(), &["if-none-match", "if-modified-since"]);
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    Request::new_with_init(&req.inner().url(), &init)
}

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

/// `text/html`, in UTF-8 or with no charset named (HTML served without one is read as UTF-8 by
/// lol_html's default; other charsets are passed through rather than risk mangling them).
fn is_utf8_html(headers: &Headers) -> bool {
    let Ok(Some(ct)) = headers.get("content-type") else { return false };
    let ct = ct.to_ascii_lowercase();
    let mut parts = ct.split(';').map(str::trim);
    if parts.next() != Some("text/html") {
        return false;
    }
    parts.all(|p| match p.strip_prefix("charset=") {
        Some(cs) => matches!(cs.trim_matches('"'), "utf-8" | "utf8"),
        None => true,
    })
}

/// The original response, cacheable for a year without revalidation.
fn immutable(resp: Response) -> Response {
    let headers = copy_headers(resp.headers(), &[]);
    let _ = headers.set("cache-control", "public, max-age=31536000, immutable");
    let status = resp.status_code();
    Response::builder().with_status(status).with_headers(headers).body(resp.body().clone())
}

/// The original response with only an `x-vitrine` header added.
fn tagged(resp: Response, value: &str) -> Response {
    let headers = copy_headers(resp.headers(), &[]);
    let _ = headers.set(HEADER, value);
    let status = resp.status_code();
    Response::builder().with_status(status).with_headers(headers).body(resp.body().clone())
}

/// Loads `/vitrine/edge/bundle.json` (the bundle with the full model; the browser's
/// `/vitrine/bundle.json` has only the model's head) from the assets once per isolate. Failures are not cached, so the
/// next request tries again.
const EDGE_BUNDLE: &str = "/vitrine/edge/bundle.json";

async fn bundle(assets: &Fetcher, page: &str) -> std::result::Result<Rc<Bundle>, String> {
    if let Some(b) = BUNDLE.with(|c| c.try_borrow().ok().and_then(|b| b.clone())) {
        return Ok(b);
    }
    let url = format!("{}{EDGE_BUNDLE}", origin(page));
    let mut resp = assets.fetch(url, None).await.map_err(|e| e.to_string())?;
    if resp.status_code() != 200 {
        return Err(format!("{EDGE_BUNDLE}: HTTP {}", resp.status_code()));
    }
    let text = resp.text().await.map_err(|e| e.to_string())?;
    let b = Rc::new(Bundle::from_json(&text).map_err(|e| e.to_string())?);
    BUNDLE.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            *c = Some(b.clone());
        }
    });
    Ok(b)
}

/// `scheme://host[:port]` of an absolute URL as the runtime serializes it.
fn origin(url: &str) -> &str {
    let host = url.find("://").map_or(0, |i| i + 3);
    url[host..].find('/').map_or(url, |p| &url[..host + p])
}

/// Whose page this is; the reason names why it is the anonymous default.
enum Outcome {
    Personalized,
    Default(&'static str),
}

/// Resolves the visitor: signed cookie → KV `profile:<vid>` → snapshot with consent. Every failure
/// is the anonymous visitor, whose decisions are the shop's defaults plus non-personal recs.
async fn visitor(cookie_header: Option<&str>, env: &Env) -> (LiveProfile, Outcome) {
    let anonymous = |reason| (LiveProfile::new(ProfileSnapshot::anonymous()), Outcome::Default(reason));
    let vid = match cookie::visitor(cookie_header, &cookie_secret(env)) {
        Ok(vid) => vid,
        Err(CookieError::Missing) => return anonymous("no-cookie"),
        Err(CookieError::Invalid) => return anonymous("bad-cookie"),
    };
    let stored = match env.kv("PROFILES") {
        Ok(kv) => kv.get(&format!("profile:{vid}")).text().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let text = match stored {
        Ok(Some(t)) => t,
        Ok(None) => return anonymous("unknown-visitor"),
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
    if !snapshot.consent.personalization {
        return anonymous("no-consent");
    }
    (LiveProfile::new(snapshot), Outcome::Personalized)
}

/// The streamed, rewritten page. If the rewriter cannot even start, the page passes through.
fn personalize(mut resp: Response, bundle: Rc<Bundle>, profile: LiveProfile, outcome: Outcome) -> Response {
    let now = bundle.site.demo_now.unwrap_or_else(|| (worker::js_sys::Date::now() / 1000.0).floor() as i64);
    let personalized = matches!(outcome, Outcome::Personalized);
    let streamer = match Streamer::new(Plan { bundle, profile, now, handoff: personalized }) {
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
    // The rewritten page has another length and is no longer the file the ETag names; it depends
    // on the visitor's cookie and must not be shared by caches.
    let headers = copy_headers(resp.headers(), &["content-length", "etag", "last-modified"]);
    let _ = headers.set(
        HEADER,
        &match outcome {
            Outcome::Personalized => "personalized".to_owned(),
            Outcome::Default(reason) => format!("default; reason={reason}"),
        },
    );
    let _ = headers.set("cache-control", "private, no-cache");
    let _ = headers.append("vary", "Cookie");
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
