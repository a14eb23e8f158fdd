//! Origin mode: the worker stands in front of the shop's own server. Which requests go where,
//! what is forwarded, and what a response keeps — as plain functions, so the native tests cover
//! them; `edge.rs` does the I/O.
//!
//! Configuration (`[vars]` in wrangler.toml, or `wrangler dev --var NAME:VALUE`):
//! - `VITRINE_ORIGIN`: `http(s)://host[:port]` of the shop's server. Unset, requests go to the
//!   URL they were made for, which on a Cloudflare route is the zone's origin.
//! - `VITRINE_BYPASS`: path prefixes (comma- or space-separated) the engine never touches, such as
//!   `/checkout, /account, /api/`. A prefix matches itself and everything below it.

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// A file of Vitrine's own (snippet, bundle head, shards): the worker's assets, at this path.
    Asset(&'a str),
    /// Not served: the edge bundle outside demo mode (it holds the whole model and catalog).
    NotFound,
    /// To the origin, untouched: a configured bypass path.
    Bypass,
    /// To the origin; an HTML answer is personalized.
    Page,
}

/// URL paths under this prefix are Vitrine's own files, served from the worker's assets.
pub const PREFIX: &str = "/vitrine/";
/// The edge's bundle inside the assets: full catalog and model, for the worker's eyes only (the
/// demo's rules preview reads it too, so demo mode serves it).
pub const EDGE_BUNDLE_ASSET: &str = "/edge/bundle.json";

/// Decides the route of a request path (no query). `demo`: the demo's `VITRINE_DEMO` is on.
pub fn route<'a>(path: &'a str, bypass: &Bypass, demo: bool) -> Route<'a> {
    if let Some(rest) = path.strip_prefix(PREFIX) {
        let asset = &path[PREFIX.len() - 1..];
        if !demo && (rest == "edge" || rest.starts_with("edge/")) {
            return Route::NotFound;
        }
        return Route::Asset(asset);
    }
    if bypass.matches(path) {
        Route::Bypass
    } else {
        Route::Page
    }
}

/// A configuration value that cannot be used; the message names the variable and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `VITRINE_ORIGIN`, checked: `None` when unset or empty; otherwise `scheme://host[:port]` with no
/// trailing slash.
pub fn parse_origin(value: Option<&str>) -> Result<Option<String>, ConfigError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    let bad = |why: &str| ConfigError(format!("VITRINE_ORIGIN: expected http(s)://host[:port], found {v:?} ({why})"));
    let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://")).ok_or_else(|| bad("no http:// or https://"))?;
    let host = rest.strip_suffix('/').unwrap_or(rest);
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if host.contains(['/', '?', '#', '@', '\\']) || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("only scheme, host and port; the request's path is appended"));
    }
    Ok(Some(v[..v.len() - (rest.len() - host.len())].to_owned()))
}

/// The path prefixes of `VITRINE_BYPASS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bypass(Vec<String>);

impl Bypass {
    /// Every path: the engine touches nothing (what a misconfigured list falls back to).
    pub fn all() -> Bypass {
        Bypass(vec!["/".to_owned()])
    }

    /// Parses a comma- or whitespace-separated list of absolute path prefixes.
    pub fn parse(value: Option<&str>) -> Result<Bypass, ConfigError> {
        let mut out = Vec::new();
        for p in value.unwrap_or("").split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()) {
            if !p.starts_with('/') || p.contains(['?', '#']) {
                return Err(ConfigError(format!("VITRINE_BYPASS: expected path prefixes like /checkout, found {p:?}")));
            }
            out.push(p.to_ascii_lowercase());
        }
        Ok(Bypass(out))
    }

    /// Whether `path` is one of the prefixes or below one. ASCII case does not matter (many shop
    /// platforms answer `/Checkout` like `/checkout`); `/checkouts` is not below `/checkout`.
    pub fn matches(&self, path: &str) -> bool {
        self.0.iter().any(|p| {
            let Some(head) = path.get(..p.len()) else { return false };
            head.eq_ignore_ascii_case(p) && (p.ends_with('/') || matches!(path.as_bytes().get(p.len()), None | Some(b'/')))
        })
    }
}

/// `scheme://host[:port]` of an absolute URL as the runtime serializes it.
pub fn origin_of(url: &str) -> &str {
    let host = url.find("://").map_or(0, |i| i + 3);
    url[host..].find('/').map_or(url, |p| &url[..host + p])
}

/// Whether an absolute URL's host is this machine (`localhost`, `127.x.x.x`, `[::1]`): where the
/// demo and the tests run, and where demo switches are honoured.
pub fn is_loopback(url: &str) -> bool {
    let authority = origin_of(url).split_once("://").map_or("", |(_, a)| a);
    let host = match authority.strip_prefix('[') {
        Some(v6) => return v6.split(']').next() == Some("::1"),
        None => authority.rsplit_once(':').map_or(authority, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { authority }),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .strip_prefix("127.")
            .is_some_and(|rest| rest.split('.').count() == 3 && rest.split('.').all(|o| !o.is_empty() && o.len() <= 3 && o.bytes().all(|b| b.is_ascii_digit())))
}

/// The URL to fetch from the shop for `request_url`: the same path and query on the configured
/// origin, or the request's own URL when none is configured.
pub fn target(origin: Option<&str>, request_url: &str) -> String {
    match origin {
        Some(o) => format!("{o}{}", &request_url[origin_of(request_url).len()..]),
        None => request_url.to_owned(),
    }
}

/// A redirect's `Location` as the visitor must see it: one pointing at the configured origin
/// (a shop that builds absolute URLs from its own host) is moved to the public site, as a
/// reverse proxy does; every other value passes unchanged.
pub fn public_location(location: &str, origin: Option<&str>, public_origin: &str) -> Option<String> {
    let origin = origin?;
    let rest = location.strip_prefix(origin)?;
    (rest.is_empty() || rest.starts_with(['/', '?', '#'])).then(|| format!("{public_origin}{rest}"))
}

/// How the worker treats a response's `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Html {
    /// Not HTML: passes through.
    No,
    /// HTML in this charset label (`None`: none named; UTF-8 unless a `<meta charset>` says otherwise).
    Charset(Option<&'static encoding_rs::Encoding>),
    /// HTML in a charset the streaming rewriter cannot handle (UTF-16, unknown labels): passes through.
    Unsupported,
}

/// Classifies a `Content-Type` header value.
pub fn html(content_type: Option<&str>) -> Html {
    let Some(ct) = content_type else { return Html::No };
    let mut parts = ct.split(';').map(str::trim);
    if !parts.next().is_some_and(|t| t.eq_ignore_ascii_case("text/html")) {
        return Html::No;
    }
    let label = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("charset").then(|| v.trim().trim_matches('"'))
    });
    match label {
        None => Html::Charset(None),
        Some(l) => match encoding_rs::Encoding::for_label(l.as_bytes()) {
            Some(e) if e.is_ascii_compatible() => Html::Charset(Some(e)),
            _ => Html::Unsupported,
        },
    }
}

/// A `Vary` value with `Cookie` added once.
pub fn vary_with_cookie(vary: Option<&str>) -> String {
    match vary.map(str::trim).filter(|v| !v.is_empty()) {
        None => "Cookie".to_owned(),
        Some(v) if v.split(',').any(|f| f.trim() == "*" || f.trim().eq_ignore_ascii_case("cookie")) => v.to_owned(),
        Some(v) => format!("{v}, Cookie"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let bypass = Bypass::parse(Some("/checkout, /account /api/")).unwrap();
        assert_eq!(route("/vitrine/vitrine.js", &bypass, false), Route::Asset("/vitrine.js"));
        assert_eq!(route("/vitrine/m-0123456789abcdef/1.vtm", &bypass, false), Route::Asset("/m-0123456789abcdef/1.vtm"));
        assert_eq!(route("/vitrine/edge/bundle.json", &bypass, false), Route::NotFound);
        assert_eq!(route("/vitrine/edge", &bypass, false), Route::NotFound);
        assert_eq!(route("/vitrine/edge/bundle.json", &bypass, true), Route::Asset("/edge/bundle.json"));
        assert_eq!(route("/vitrine/edges.json", &bypass, false), Route::Asset("/edges.json"));
        assert_eq!(route("/vitrine", &bypass, false), Route::Page);
        assert_eq!(route("/checkout", &bypass, false), Route::Bypass);
        assert_eq!(route("/Checkout/pay", &bypass, false), Route::Bypass);
        assert_eq!(route("/checkouts", &bypass, false), Route::Page);
        assert_eq!(route("/api/cart", &bypass, false), Route::Bypass);
        assert_eq!(route("/api", &bypass, false), Route::Page);
        assert_eq!(route("/", &bypass, false), Route::Page);
        assert_eq!(route("/", &Bypass::default(), false), Route::Page);
        assert_eq!(route("/", &Bypass::all(), false), Route::Bypass);
        assert_eq!(route("/p/1?x", &Bypass::all(), false), Route::Bypass);
        assert_eq!(route("/vitrine/vitrine.js", &Bypass::all(), false), Route::Asset("/vitrine.js"));
    }

    #[test]
    fn bypass_lists_must_be_paths() {
        assert_eq!(Bypass::parse(None).unwrap(), Bypass::default());
        assert_eq!(Bypass::parse(Some(" , ")).unwrap(), Bypass::default());
        let e = Bypass::parse(Some("/ok, checkout")).unwrap_err();
        assert_eq!(e.0, r#"VITRINE_BYPASS: expected path prefixes like /checkout, found "checkout""#);
        assert!(Bypass::parse(Some("/a?b")).is_err());
    }

    #[test]
    fn origins() {
        assert_eq!(parse_origin(None), Ok(None));
        assert_eq!(parse_origin(Some(" ")), Ok(None));
        assert_eq!(parse_origin(Some("http://127.0.0.1:9000")), Ok(Some("http://127.0.0.1:9000".into())));
        assert_eq!(parse_origin(Some("https://origin.shop.example/")), Ok(Some("https://origin.shop.example".into())));
        for bad in ["127.0.0.1:9000", "ftp://x", "http://", "http://h/shop", "http://h?x", "http://u@h", "http://h x"] {
            let e = parse_origin(Some(bad)).unwrap_err();
            assert!(e.0.starts_with("VITRINE_ORIGIN: expected http(s)://host[:port], found"), "{bad}: {e}");
        }
    }

    #[test]
    fn targets_keep_path_and_query() {
        let o = Some("http://127.0.0.1:9000");
        assert_eq!(target(o, "https://shop.example/c/all?page=2#x"), "http://127.0.0.1:9000/c/all?page=2#x");
        assert_eq!(target(o, "https://shop.example/"), "http://127.0.0.1:9000/");
        assert_eq!(target(None, "https://shop.example/c/all?page=2"), "https://shop.example/c/all?page=2");
        assert_eq!(origin_of("https://shop.example:8443/p/1"), "https://shop.example:8443");
    }

    #[test]
    fn loopback_hosts() {
        for yes in
            ["http://127.0.0.1:8787/", "http://127.0.0.1/x", "http://localhost:8787/p/1", "http://LOCALHOST/", "http://[::1]:8787/", "http://127.1.2.3:1/"]
        {
            assert!(is_loopback(yes), "{yes}");
        }
        for no in [
            "https://shop.example/",
            "http://127.0.0.1.evil.example/",
            "http://localhost.evil.example/",
            "http://[::2]/",
            "http://128.0.0.1/",
            "http://127.0.0/",
            "http://10.0.0.1:8787/",
        ] {
            assert!(!is_loopback(no), "{no}");
        }
    }

    #[test]
    fn redirects_to_the_origin_move_to_the_public_site() {
        let o = Some("http://127.0.0.1:9000");
        let public = "https://shop.example";
        assert_eq!(public_location("http://127.0.0.1:9000/cart?x=1", o, public).as_deref(), Some("https://shop.example/cart?x=1"));
        assert_eq!(public_location("http://127.0.0.1:9000", o, public).as_deref(), Some("https://shop.example"));
        assert_eq!(public_location("http://127.0.0.1:90001/x", o, public), None);
        assert_eq!(public_location("/cart", o, public), None);
        assert_eq!(public_location("https://pay.example/", o, public), None);
        assert_eq!(public_location("http://127.0.0.1:9000/x", None, public), None);
    }

    #[test]
    fn html_by_content_type() {
        assert_eq!(html(None), Html::No);
        assert_eq!(html(Some("text/css")), Html::No);
        assert_eq!(html(Some("text/htmlx")), Html::No);
        assert_eq!(html(Some("text/html")), Html::Charset(None));
        assert_eq!(html(Some("Text/HTML; charset=UTF-8")), Html::Charset(Some(encoding_rs::UTF_8)));
        assert_eq!(html(Some("text/html; charset=\"utf8\"")), Html::Charset(Some(encoding_rs::UTF_8)));
        assert_eq!(html(Some("text/html;charset=iso-8859-1")), Html::Charset(Some(encoding_rs::WINDOWS_1252)));
        assert_eq!(html(Some("text/html; charset=shift_jis")), Html::Charset(Some(encoding_rs::SHIFT_JIS)));
        assert_eq!(html(Some("text/html; charset=utf-16le")), Html::Unsupported);
        assert_eq!(html(Some("text/html; charset=klingon")), Html::Unsupported);
    }

    #[test]
    fn vary() {
        assert_eq!(vary_with_cookie(None), "Cookie");
        assert_eq!(vary_with_cookie(Some("Accept-Encoding")), "Accept-Encoding, Cookie");
        assert_eq!(vary_with_cookie(Some("accept-encoding, cookie")), "accept-encoding, cookie");
        assert_eq!(vary_with_cookie(Some("*")), "*");
    }
}
