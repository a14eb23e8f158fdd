//! Small HTML helpers for the rewriter: escaping what Vitrine inserts, decoding the few entities a
//! `data-vitrine-*` attribute may carry, and the recommendation widget's captured `<template>`.
//!
//! lol_html hands attribute values and text over *raw*, as they appear in the source. Everything
//! Vitrine inserts is therefore escaped here first; everything the shop wrote is re-emitted raw,
//! because it already is valid markup (the shop owns its own template).

use std::borrow::Cow;

use vitrine_engine::markup::{is_url_field, trim, BIND, BIND_ALT, BIND_HREF, BIND_SRC};
use vitrine_engine::{is_safe_url, RecItem};

/// Escapes text for an HTML text node.
pub fn escape_text(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Escapes a value for a double-quoted attribute. `&` matters as much as `"`: without it a
/// catalog title `&quot; onerror=…` would be decoded back into a quote by the browser, and a URL
/// `javascript&colon;…` (which our URL check sees as relative) into a `javascript:` URL.
pub fn escape_attr(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, attr: bool) -> Cow<'_, str> {
    let special = |c: char| matches!(c, '&' | '<' | '>') || (attr && matches!(c, '"' | '\''));
    if !s.contains(special) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\'' if attr => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Decodes the entities a generator may write inside a `data-vitrine-*` value: `&amp; &lt; &gt;
/// &quot; &apos;` and numeric references. Other named references stay as written; ids and
/// category names do not need the full HTML entity table (which would cost ~50 KB of Wasm).
pub fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.get(1..).and_then(|r| {
            let end = r.find(';').filter(|&e| e <= 10)?;
            let name = &r[..end];
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse::<u32>().ok()?,
                    };
                    char::from_u32(code).filter(|&c| c != '\0')?
                }
            };
            Some((c, end + 2))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// One piece of a captured `<template>`, in source order.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A start tag; `id` pairs it with its [`Token::End`] (absent for void elements and for
    /// elements the source closes implicitly, which lol_html reports no end tag for).
    Start { id: usize, name: String, attrs: Vec<(String, String)>, self_closing: bool },
    /// `name` is empty for an element closed implicitly by another element's end tag.
    End { of: usize, name: String },
    /// Raw source text (entities as written).
    Text(String),
}

/// The attributes a template may bind, each behind `data-vitrine-bind-<name>`; `url` says the value
/// must pass the URL check.
const BOUND_ATTRS: [(&str, &str, bool); 3] = [("href", BIND_HREF, true), ("src", BIND_SRC, true), ("alt", BIND_ALT, false)];

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Appends one rendered copy of `template` for `item` to `out`.
///
/// `data-vitrine-bind="f"` replaces the element's content with the field as text;
/// `data-vitrine-bind-href|src|alt="f"` set that attribute (`href` and `src` from the URL fields
/// only, [`is_url_field`]; an empty URL leaves the template's own value). Unknown fields leave the
/// template as written.
pub fn render(template: &[Token], item: &RecItem, out: &mut String) {
    let mut skipping: Option<usize> = None;
    for t in template {
        if let Some(id) = skipping {
            match t {
                Token::End { of, .. } if *of == id => skipping = None,
                _ => continue,
            }
        }
        match t {
            Token::Start { id, name, attrs, self_closing } => {
                let bound: Vec<(&str, &str)> = BOUND_ATTRS
                    .iter()
                    .filter_map(|&(target, binder, url)| {
                        let field = decode_entities(attr(attrs, binder)?);
                        let field = trim(&field);
                        let value = item.field(field)?;
                        // The catalog checked its URLs; checking again costs nothing here.
                        (!url || is_url_field(field) && is_safe_url(value)).then_some((target, value))
                    })
                    .collect();
                out.push('<');
                out.push_str(name);
                for (n, v) in attrs {
                    if bound.iter().any(|(b, _)| n.eq_ignore_ascii_case(b)) {
                        continue;
                    }
                    out.push(' ');
                    out.push_str(n);
                    out.push_str("=\"");
                    // Raw source value: entities are already as the shop wrote them; only a `"`
                    // (possible when the source used single quotes) must be re-quoted.
                    out.push_str(&v.replace('"', "&quot;"));
                    out.push('"');
                }
                for (n, v) in &bound {
                    out.push(' ');
                    out.push_str(n);
                    out.push_str("=\"");
                    out.push_str(&escape_attr(v));
                    out.push('"');
                }
                out.push_str(if *self_closing { " />" } else { ">" });
                let text = attr(attrs, BIND).and_then(|f| item.field(trim(&decode_entities(f))));
                if let (Some(text), false) = (text, *self_closing) {
                    out.push_str(&escape_text(text));
                    skipping = Some(*id);
                }
            }
            Token::End { name, .. } if name.is_empty() => {}
            Token::End { name, .. } => {
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
            Token::Text(raw) => out.push_str(raw),
        }
    }
}

/// The `<script>` that hands the edge's profile snapshot to the snippet. The JSON's `<`, `>` and
/// `&` become `\u003c` `\u003e` `\u0026`, which JSON reads back unchanged but which can never
/// spell `</script>` or `<!--`.
pub fn handoff_script(snapshot_json: &str) -> String {
    let mut out = String::with_capacity(snapshot_json.len() + 64);
    out.push_str(r#"<script type="application/json" id="vitrine-profile">"#);
    for c in snapshot_json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out.push_str("</script>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> RecItem {
        RecItem {
            id: "85123A".into(),
            title: r#"Heart "T-light" <b>holder</b> & co"#.into(),
            link: "/p/85123A".into(),
            price: "£2.55".into(),
            image_link: "javascript:alert(1)".into(),
            product_type: "Candles & Lights".into(),
            brand: String::new(),
        }
    }

    fn start(id: usize, name: &str, attrs: &[(&str, &str)]) -> Token {
        Token::Start { id, name: name.into(), attrs: attrs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(), self_closing: false }
    }

    #[test]
    fn escapes() {
        assert_eq!(escape_text("<img src=x onerror=alert(1)> & \"q\""), "&lt;img src=x onerror=alert(1)&gt; &amp; \"q\"");
        assert_eq!(escape_attr(r#"a"b'c<&>"#), "a&quot;b&#39;c&lt;&amp;&gt;");
        assert!(matches!(escape_text("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn decodes_common_entities_only() {
        let cases = [
            ("Candles &amp; Lights", "Candles & Lights"),
            ("&lt;&gt;&quot;&apos;&#39;&#x41;&#66;", "<>\"''AB"),
            ("a & b", "a & b"),
            ("&nbsp;x", "&nbsp;x"),
            ("&#0;&#xZZ;&", "&#0;&#xZZ;&"),
            ("&amp", "&amp"),
            ("ü&amp;ü", "ü&ü"),
        ];
        for (input, want) in cases {
            assert_eq!(decode_entities(input), want, "{input}");
        }
    }

    #[test]
    fn renders_bindings_and_keeps_the_rest_raw() {
        let template = vec![
            Token::Text("\n  ".into()),
            start(0, "a", &[("class", "card x&amp;y"), ("data-vitrine-bind-href", "link"), ("href", "#")]),
            Token::Start {
                id: 1,
                name: "img".into(),
                attrs: vec![
                    ("data-vitrine-bind-src".into(), "image_link".into()),
                    ("src".into(), "/img/none.svg".into()),
                    ("data-vitrine-bind-alt".into(), "title".into()),
                    ("alt".into(), "".into()),
                ],
                self_closing: false,
            },
            start(2, "span", &[("class", "title"), ("data-vitrine-bind", "title")]),
            Token::Text("placeholder".into()),
            start(3, "b", &[]),
            Token::Text("nested".into()),
            Token::End { of: 3, name: "b".into() },
            Token::End { of: 2, name: "span".into() },
            start(4, "span", &[("data-vitrine-bind", "nope")]),
            Token::Text("kept &amp; raw".into()),
            Token::End { of: 4, name: "span".into() },
            Token::End { of: 0, name: "a".into() },
        ];
        let mut out = String::new();
        render(&template, &item(), &mut out);
        assert_eq!(
            out,
            "\n  <a class=\"card x&amp;y\" data-vitrine-bind-href=\"link\" href=\"/p/85123A\">\
             <img data-vitrine-bind-src=\"image_link\" src=\"/img/none.svg\" data-vitrine-bind-alt=\"title\" \
             alt=\"Heart &quot;T-light&quot; &lt;b&gt;holder&lt;/b&gt; &amp; co\">\
             <span class=\"title\" data-vitrine-bind=\"title\">Heart \"T-light\" &lt;b&gt;holder&lt;/b&gt; &amp; co</span>\
             <span data-vitrine-bind=\"nope\">kept &amp; raw</span></a>"
        );
    }

    #[test]
    fn a_bound_element_without_end_tag_swallows_only_its_own_content() {
        // An implicitly closed `<p>` has no End token; the skip then runs to the end of the template
        // rather than mis-pairing with an outer end tag.
        let template =
            vec![start(0, "div", &[]), start(1, "p", &[("data-vitrine-bind", "id")]), Token::Text("x".into()), Token::End { of: 0, name: "div".into() }];
        let mut out = String::new();
        render(&template, &item(), &mut out);
        assert_eq!(out, "<div><p data-vitrine-bind=\"id\">85123A");
    }

    #[test]
    fn single_quoted_source_values_are_requoted() {
        let template = vec![start(0, "i", &[("title", r#"say "hi""#)]), Token::End { of: 0, name: "i".into() }];
        let mut out = String::new();
        render(&template, &item(), &mut out);
        assert_eq!(out, r#"<i title="say &quot;hi&quot;"></i>"#);
    }

    #[test]
    fn handoff_cannot_close_the_script() {
        let s = handoff_script(r#"{"traits":{"first_name":"</script><script>alert(1)</script>&"}}"#);
        assert_eq!(
            s,
            r#"<script type="application/json" id="vitrine-profile">{"traits":{"first_name":"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e\u0026"}}</script>"#
        );
        let inner = s.trim_start_matches(r#"<script type="application/json" id="vitrine-profile">"#).trim_end_matches("</script>");
        let v: serde_json::Value = serde_json::from_str(inner).unwrap();
        assert_eq!(v["traits"]["first_name"], "</script><script>alert(1)</script>&");
    }
}
