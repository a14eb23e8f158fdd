//! The Workers glue (wasm32 only): routes, the static shop behind `ASSETS`, the bundle cache, the
//! visitor's profile from KV, and the streamed response. Everything that decides is in the engine;
//! everything that touches HTML is in [`crate::rewrite`].

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::StreamExt;
use serde::Deserialize;
use vitrine_engine::{Bundle, CaseInput, LiveProfile, ProfileSnapshot};
use worker::{event, Context, Date, Env, Fetcher, Headers, Method, Request, RequestInit, Response, Result, Url};

use crate::cookie::{self, CookieError};
use crate::rewrite::{Plan, Streamer};

const HEADER: &str = "x-vitrine";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let url = req.url()?;
    match url.path() {
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
fn become_visitor(url: &Url, env: &Env) -> Result<Response> {
    let query = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default();
    let (vid, next) = (query("vid"), query("next"));
    let secure = url.scheme() == "https";
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
    match serde_json::to_string(&case.decide(&bundle)) {
        Ok(json) => {
            let headers = Headers::new();
            headers.set("content-type", "application/json")?;
            Ok(Response::ok(json)?.with_headers(headers))
        }
        Err(e) => Response::error(e.to_string(), 500),
    }
}

/// Serves the shop's page, personalized if it is HTML; anything else passes through untouched.
async fn serve(req: Request, url: &Url, env: &Env) -> Result<Response> {
    let assets = env.assets("ASSETS")?;
    let is_get = req.method() == Method::Get;
    let resp = assets.fetch_request(without_validators(req)?).await?;
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
    let (profile, outcome) = visitor(&req_cookie(&resp, url), env).await;
    Ok(personalize(resp, bundle, profile, outcome))
}

/// The request's `Cookie` header, carried separately because `without_validators` consumed it.
fn req_cookie(_resp: &Response, _url: &Url) -> Option<String> {
    REQ_COOKIE.with(|c| c.borrow_mut().take())
}

thread_local! {
    /// The bundle, parsed once per isolate: it only changes with a deploy, which starts new isolates.
    static BUNDLE: RefCell<Option<Rc<Bundle>>> = const { RefCell::new(None) };
    static REQ_COOKIE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Page requests go to the assets without `If-None-Match` / `If-Modified-Since`: the shop's ETag
/// describes the unpersonalized file, and a 304 would let the browser show a page personalized
/// for whoever it was fetched as before (the demo's visitor switcher changes exactly that).
fn without_validators(req: Request) -> Result<Request> {
    let cookie = req.headers().get("cookie")?;
    REQ_COOKIE.with(|c| *c.borrow_mut() = cookie);
    let conditional = req.headers().has("if-none-match")? || req.headers().has("if-modified-since")?;
    if req.method() != Method::Get || !conditional {
        return Ok(req);
    }
    let headers = copy_headers(req.headers(), &["if-none-match", "if-modified-since"]);
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    Request::new_with_init(&req.url()?.to_string(), &init)
}
