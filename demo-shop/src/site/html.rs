//! Escaping for the generated pages: HTML text and attributes, inline JSON, URL query values.

/// Escapes text for HTML element content and double- or single-quoted attribute values.
/// Catalog strings come from real data ("GIN & TONIC", `RECORD FRAME 7" SINGLE`), and the shop
/// must show them as text whatever they contain.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Makes serialized JSON safe inside `<script>`: `<`, `>` and `&` become `\u003c` `\u003e`
/// `\u0026` (so no string can close the script or open a comment), and the two line separators
/// that old JavaScript parsers reject inside strings are escaped too. Those characters can only
/// occur inside JSON strings, where the escapes mean the same thing.
pub fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out
}

/// Returns `url` if it is relative (starts with `/`, no `//`) or `http(s)://`, else `#`: a
/// hand-edited catalog must not be able to put a `javascript:` link on the page.
pub fn safe_url(url: &str) -> &str {
    let relative = url.starts_with('/') && !url.starts_with("//");
    let web = url.starts_with("https://") || url.starts_with("http://");
    if relative || web {
        url
    } else {
        "#"
    }
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters and `/` stay).
pub fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        let cases = [
            ("GIN & TONIC", "GIN &amp; TONIC"),
            ("RECORD FRAME 7\" SINGLE", "RECORD FRAME 7&quot; SINGLE"),
            ("I'M ON HOLIDAY", "I&#39;M ON HOLIDAY"),
            ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
            ("&amp;", "&amp;amp;"),
            ("plain £2.55", "plain £2.55"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(escape(input), expected, "{input}");
        }
    }

    #[test]
    fn script_json_cannot_close_the_script() {
        let json = serde_json::json!({"t": "</script><!-- a & b \u{2028}"}).to_string();
        let safe = script_json(&json);
        assert_eq!(safe, r#"{"t":"\u003c/script\u003e\u003c!-- a \u0026 b \u2028"}"#);
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["t"], "</script><!-- a & b \u{2028}");
    }

    #[test]
    fn safe_urls() {
        for ok in ["/p/85123A", "/img/1.svg", "https://example.com/x", "http://example.com"] {
            assert_eq!(safe_url(ok), ok);
        }
        for bad in ["javascript:alert(1)", "//evil.example/x", "data:text/html,x", "p/1", ""] {
            assert_eq!(safe_url(bad), "#", "{bad}");
        }
    }

    #[test]
    fn query_values() {
        assert_eq!(query_value("/p/85123A"), "/p/85123A");
        assert_eq!(query_value("c-17850"), "c-17850");
        assert_eq!(query_value("a b&c=d?"), "a%20b%26c%3Dd%3F");
        assert_eq!(query_value(""), "");
    }
}
