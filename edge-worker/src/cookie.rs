//! The signed visitor cookie `vitrine_vid=<vid>.<sig>`, and the demo switcher's query and redirect
//! checks.
//!
//! The cookie only names a visitor; the profile itself stays in KV. It is signed so that a visitor
//! cannot read someone else's profile by guessing ids: `sig` is the lowercase hex of the first 16
//! bytes of HMAC-SHA256(secret, vid). 128 bits are plenty against forgery and keep the cookie short.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const COOKIE_NAME: &str = "vitrine_vid";

/// The demo configuration's published secret (edge-worker/wrangler.toml). Anyone can sign any
/// visitor id with it, so the worker accepts it only in demo mode (`VITRINE_DEMO=on`).
pub const DEV_SECRET: &str = "vitrine-dev-only-cookie-secret-do-not-deploy";

/// Bytes of the HMAC kept in the cookie.
const SIG_BYTES: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// Why a cookie could not be used; each maps to an `x-vitrine` reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieError {
    /// No `vitrine_vid` cookie in the request.
    Missing,
    /// Present but malformed, signed with another secret, or tampered with.
    Invalid,
}

/// Visitor ids are pseudonymous tokens (`c-17850`), never names or emails; this alphabet also
/// keeps them safe inside a cookie value, a KV key and a log line without any quoting.
pub fn is_valid_vid(vid: &str) -> bool {
    !vid.is_empty() && vid.len() <= 128 && vid.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn mac(secret: &str, vid: &str) -> Option<HmacSha256> {
    // An empty secret would make every signature forgeable; treat it as "no secret configured".
    if secret.is_empty() {
        return None;
    }
    let mut m = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    m.update(vid.as_bytes());
    Some(m)
}

/// The cookie value for `vid`, or `None` when the id or the secret is unusable.
pub fn sign(secret: &str, vid: &str) -> Option<String> {
    if !is_valid_vid(vid) {
        return None;
    }
    let tag = mac(secret, vid)?.finalize().into_bytes();
    let mut out = String::with_capacity(vid.len() + 1 + 2 * SIG_BYTES);
    out.push_str(vid);
    out.push('.');
    for b in tag.iter().take(SIG_BYTES) {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    Some(out)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn unhex(c: u8) -> Option<u8> {
    // Lowercase only: one spelling per signature, so a cookie has exactly one valid form.
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Checks a cookie value and returns the visitor id it vouches for.
pub fn verify(secret: &str, value: &str) -> Result<String, CookieError> {
    let (vid, sig) = value.rsplit_once('.').ok_or(CookieError::Invalid)?;
    if !is_valid_vid(vid) || sig.len() != 2 * SIG_BYTES {
        return Err(CookieError::Invalid);
    }
    let mut tag = [0u8; SIG_BYTES];
    for (i, pair) in sig.as_bytes().chunks_exact(2).enumerate() {
        let (hi, lo) = (unhex(pair[0]).ok_or(CookieError::Invalid)?, unhex(pair[1]).ok_or(CookieError::Invalid)?);
        tag[i] = hi << 4 | lo;
    }
    // `verify_truncated_left` compares in constant time, so timing leaks nothing about the tag.
    let m = mac(secret, vid).ok_or(CookieError::Invalid)?;
    m.verify_truncated_left(&tag).map_err(|_| CookieError::Invalid)?;
    Ok(vid.to_owned())
}

/// The first `vitrine_vid` value in a `Cookie` request header.
pub fn find(cookie_header: &str) -> Option<&str> {
    cookie_header.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name.trim() == COOKIE_NAME).then(|| value.trim().trim_matches('"'))
    })
}

/// Reads the request's `Cookie` header down to a verified visitor id.
pub fn visitor(cookie_header: Option<&str>, secret: &str) -> Result<String, CookieError> {
    let value = cookie_header.and_then(find).ok_or(CookieError::Missing)?;
    verify(secret, value)
}

/// `Set-Cookie` for the demo switcher: sets the signed id, or clears the cookie when `value` is
/// `None`. HttpOnly: page scripts never need the id (the edge hands the profile over in the page).
pub fn set_cookie_header(value: Option<&str>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match value {
        Some(v) => format!("{COOKIE_NAME}={v}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}"),
        None => format!("{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

/// Whether a redirect target stays on this site: a path (`/…`), not a protocol-relative `//host`
/// nor `/\host` (which browsers read as `//host`), and no control characters or whitespace
/// (browsers strip tabs and newlines before parsing, which could turn `/\t/host` into `//host`).
pub fn is_same_site_path(next: &str) -> bool {
    next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// The first value of query parameter `name` in a URL, form-decoded (`+` is a space, `%XX` a byte;
/// invalid UTF-8 becomes U+FFFD, malformed escapes stay as written).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(k) == name).then(|| form_decode(v))
    })
}

fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => match (b.get(i + 1).copied().and_then(hex_digit), b.get(i + 2).copied().and_then(hex_digit)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test-secret";

    #[test]
    fn sign_then_verify_round_trips() {
        let v = sign(SECRET, "c-17850").unwrap();
        assert!(v.starts_with("c-17850."));
        assert_eq!(v.len(), "c-17850.".len() + 32);
        assert_eq!(verify(SECRET, &v), Ok("c-17850".to_owned()));
    }

    #[test]
    fn signature_matches_node_crypto() {
        // The end-to-end tests sign cookies with node:crypto; this pins the same computation:
        // crypto.createHmac('sha256', 'test-secret').update('c-1').digest('hex').slice(0, 32)
        assert_eq!(sign(SECRET, "c-1").unwrap(), "c-1.d1df0f38440e776f0fb7cebf334ba8dd");
    }

    #[test]
    fn bad_cookies_are_rejected() {
        let good = sign(SECRET, "c-1").unwrap();
        let upper = good.to_uppercase().replace("C-1", "c-1");
        let cases = [
            "c-1".to_owned(),
            "c-1.".to_owned(),
            ".abc".to_owned(),
            format!("c-2.{}", &good[4..]),
            format!("{}0", &good[..good.len() - 1]),
            good[..good.len() - 2].to_owned(),
            upper,
            "<x>.00000000000000000000000000000000".to_owned(),
        ];
        for c in cases {
            assert_eq!(verify(SECRET, &c), Err(CookieError::Invalid), "{c}");
        }
        assert_eq!(verify("other-secret", &good), Err(CookieError::Invalid));
        assert_eq!(verify("", &good), Err(CookieError::Invalid));
        assert_eq!(sign("", "c-1"), None);
        assert_eq!(sign(SECRET, "bad id"), None);
    }

    #[test]
    fn finds_the_cookie_among_others() {
        assert_eq!(find("a=1; vitrine_vid=c-1.ab; b=2"), Some("c-1.ab"));
        assert_eq!(find("vitrine_vid=\"c-1.ab\""), Some("c-1.ab"));
        assert_eq!(find("xvitrine_vid=1"), None);
        assert_eq!(visitor(None, SECRET), Err(CookieError::Missing));
        assert_eq!(visitor(Some("a=1"), SECRET), Err(CookieError::Missing));
        assert_eq!(visitor(Some("vitrine_vid=junk"), SECRET), Err(CookieError::Invalid));
    }

    #[test]
    fn redirect_targets() {
        for ok in ["/", "/p/85123A", "/c/all?x=1#top"] {
            assert!(is_same_site_path(ok), "{ok}");
        }
        for bad in ["", "//evil.example", "/\\evil.example", "https://evil.example", "evil", "/\t/evil.example", "/a\r\nSet-Cookie: x"] {
            assert!(!is_same_site_path(bad), "{bad:?}");
        }
    }

    #[test]
    fn query_params() {
        let url = "https://shop.example/__vitrine/demo/become?vid=c-1&next=%2Fc%2Fall%3Fx%3D1&e=&n=a+b%zz#frag";
        let q = |name| query_param(url, name);
        assert_eq!(q("vid").as_deref(), Some("c-1"));
        assert_eq!(q("next").as_deref(), Some("/c/all?x=1"));
        assert_eq!(q("e").as_deref(), Some(""));
        assert_eq!(q("n").as_deref(), Some("a b%zz"));
        assert_eq!(q("frag"), None);
        assert_eq!(query_param("https://a/?next=%2F%2Fevil.example", "next").as_deref(), Some("//evil.example"));
        assert_eq!(query_param("https://a/", "vid"), None);
        assert_eq!(query_param("https://a/?x=%C3%BC%FF", "x").as_deref(), Some("ü\u{fffd}"));
    }

    #[test]
    fn set_cookie_headers() {
        assert_eq!(set_cookie_header(Some("c-1.ab"), false), "vitrine_vid=c-1.ab; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000");
        assert_eq!(set_cookie_header(None, true), "vitrine_vid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure");
    }
}
