//! The `data-vitrine-*` markup contract (docs/markup.md, version 1): every attribute's name and how
//! its value is read, in one place.
//!
//! The runtimes hand attribute values over as the page has them — the edge lol_html's (entities
//! decoded), the browser snippet the DOM's, as a [`Markup`] document — and read nothing
//! themselves, so one page decides the same wherever it is read. The rules, each a decision where
//! the runtimes once disagreed:
//!
//! - Every name and value is trimmed of HTML's ASCII whitespace (tab, LF, FF, CR, space) and of
//!   nothing else; an empty value is the same as no attribute.
//! - A page without a `data-vitrine-page` (or with an empty one) is an `other` page.
//! - Whole numbers (`k`, `max-per-category`) are ASCII digits only: `6px`, `6.0`, `+6` are not
//!   numbers and leave the setting at its default. Prices are decimal numbers (`12.5`, `1e3`).
//! - A widget whose strategy this version does not know is left as the shop wrote it, and so is
//!   one without a strategy.
//! - `data-vitrine-href` reads URL fields only (`href`, `*_href`), which the engine has checked
//!   when it decided ([`is_href_field`](crate::rules::site::is_href_field)); runtimes check no URL.

use crate::base::error::FormatError;
use crate::base::json::{At, R};
use crate::decide::{Decision, ListRequest, Page, RecsDecision, RecsRequest, Request};
use crate::recs::strategy::Strategy;

/// The page context, on `<body>`: `home`, `category`, `product`, `other` or the shop's own type.
pub const PAGE: &str = "data-vitrine-page";
/// The product a page (on `<body>`) or a widget is about.
pub const PRODUCT: &str = "data-vitrine-product";
/// The category a page is about (on `<body>`).
pub const CATEGORY: &str = "data-vitrine-category";
pub const SLOT: &str = "data-vitrine-slot";
pub const FIELD: &str = "data-vitrine-field";
pub const HREF: &str = "data-vitrine-href";
pub const LIST: &str = "data-vitrine-list";
pub const ITEM: &str = "data-vitrine-item";
pub const RECS: &str = "data-vitrine-recs";
pub const STRATEGY: &str = "data-vitrine-strategy";
pub const K: &str = "data-vitrine-k";
pub const FILTER_CATEGORY: &str = "data-vitrine-filter-category";
pub const PRICE_MIN: &str = "data-vitrine-price-min";
pub const PRICE_MAX: &str = "data-vitrine-price-max";
pub const MAX_PER_CATEGORY: &str = "data-vitrine-max-per-category";
/// Template bindings: the element's text, and the three attributes a template may bind.
pub const BIND: &str = "data-vitrine-bind";
pub const BIND_HREF: &str = "data-vitrine-bind-href";
pub const BIND_SRC: &str = "data-vitrine-bind-src";
pub const BIND_ALT: &str = "data-vitrine-bind-alt";
/// What the runtimes write: a slot's winning variant, a widget's product count and ids.
pub const VARIANT: &str = "data-vitrine-variant";
pub const FILLED: &str = "data-vitrine-filled";
pub const ITEMS: &str = "data-vitrine-items";

/// The page type of a `<body>` without one.
pub const OTHER_PAGE: &str = "other";

/// A value as the contract reads it: trimmed of HTML's ASCII whitespace only (a no-break space
/// belongs to the value).
pub fn trim(raw: &str) -> &str {
    // Byte by byte: an ASCII byte is never part of a longer UTF-8 sequence, so the slice stays on
    // character boundaries (and this costs the browser less than a `char` pattern).
    let space = |b: &u8| matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' ');
    let bytes = raw.as_bytes();
    let start = bytes.iter().position(|b| !space(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !space(b)).map_or(start, |i| i + 1);
    raw.get(start..end).unwrap_or_default()
}

/// A name or id; `None` when empty.
pub fn name(raw: &str) -> Option<&str> {
    Some(trim(raw)).filter(|s| !s.is_empty())
}

/// A whole number: ASCII digits only (`6`; not `6px`, `6.0`, `+6`, `-1`).
pub fn whole(raw: &str) -> Option<usize> {
    let s = trim(raw);
    // Too many digits is still a number: the largest, which every bound then clamps.
    let digits = |n: usize, b: u8| b.is_ascii_digit().then(|| n.saturating_mul(10).saturating_add(usize::from(b - b'0')));
    s.bytes().try_fold(0, digits).filter(|_| !s.is_empty())
}

/// Whether a template may bind field `name` to a URL attribute (`href`, `src`): the URL fields,
/// `link` and `image_link`, which the catalog checked when it loaded.
pub fn is_url_field(name: &str) -> bool {
    name == "link" || name == "image_link"
}

/// A finite decimal number (`12.5`, `1e3`; not `12,5`, `NaN`, `Infinity`).
pub fn number(raw: &str) -> Option<f64> {
    crate::cel::parse_f64(trim(raw)).filter(|v| v.is_finite())
}

/// The page context from `<body>`'s attributes (`attr` returns a value by its full name).
pub fn page<S: AsRef<str>>(attr: impl Fn(&str) -> Option<S>) -> Page {
    let named = |a| attr(a).and_then(|v| name(v.as_ref()).map(str::to_owned));
    Page { kind: named(PAGE).unwrap_or_else(|| OTHER_PAGE.to_owned()), product: named(PRODUCT), category: named(CATEGORY) }
}

/// A recommendation widget from its container's attributes; `None` when it names no strategy this
/// version knows (it is then left as the shop wrote it).
pub fn recs<S: AsRef<str>>(attr: impl Fn(&str) -> Option<S>) -> Option<RecsRequest> {
    let named = |a| attr(a).and_then(|v| name(v.as_ref()).map(str::to_owned));
    let read = |a, f: fn(&str) -> Option<_>| attr(a).and_then(|v| f(v.as_ref()));
    Some(RecsRequest {
        widget: named(RECS).unwrap_or_default(),
        strategy: Strategy::parse(&named(STRATEGY)?)?,
        product: named(PRODUCT),
        k: read(K, whole),
        category: named(FILTER_CATEGORY),
        price_min: attr(PRICE_MIN).and_then(|v| number(v.as_ref())),
        price_max: attr(PRICE_MAX).and_then(|v| number(v.as_ref())),
        max_per_category: read(MAX_PER_CATEGORY, whole),
    })
}

/// The attributes [`page`] reads, on `<body>`.
const PAGE_ATTRS: [&str; 3] = [PAGE, PRODUCT, CATEGORY];
/// The attributes [`recs`] reads, on a widget's container.
const RECS_ATTRS: [&str; 8] = [RECS, STRATEGY, PRODUCT, K, FILTER_CATEGORY, PRICE_MIN, PRICE_MAX, MAX_PER_CATEGORY];

/// A page's markup as the browser snippet hands it over (docs/formats.md, "Markup"): raw
/// attribute values, in document order, read here as the edge reads them.
///
/// ```json
/// {"page": {"data-vitrine-page": "product", "data-vitrine-product": "85123A"},
///  "slots": ["hero"], "lists": [{"list": "grid", "items": ["22423", "85123A"]}],
///  "recs": [{"data-vitrine-recs": "also", "data-vitrine-strategy": "also_bought", "data-vitrine-k": "6"}]}
/// ```
///
/// `page` and each of `recs` hold an element's `data-vitrine-*` attributes by full name (others
/// are ignored, like `data-vitrine-filled`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Markup {
    /// What the page asks for: its widgets with a strategy this version knows.
    pub request: Request,
    /// Each `data-vitrine-recs` element: its name, and its place in `request.recs` (`None`: left
    /// alone, see [`recs`]).
    pub widgets: Vec<(String, Option<usize>)>,
}

impl Markup {
    pub fn from_json(text: &str) -> Result<Markup, FormatError> {
        crate::base::json::read("markup", text, |at: At| {
            let o = at.obj(&["page", "slots", "lists", "recs", "trace"])?;
            let trimmed = |mut v: Vec<String>| {
                for s in &mut v {
                    if trim(s).len() != s.len() {
                        *s = trim(s).to_owned();
                    }
                }
                v
            };
            let list = |x: At| {
                let l = x.obj(&["list", "items"])?;
                Ok(ListRequest { list: trim(&l.req_string("list")?).to_owned(), items: trimmed(l.or_strings("items")?) })
            };
            let mut request = Request::default();
            let widget = |x: At| {
                let values = attributes(x, &RECS_ATTRS)?;
                let get = |a: &str| lookup(&values, &RECS_ATTRS, a);
                let place = recs(get).map(|r| {
                    request.recs.push(r);
                    request.recs.len() - 1
                });
                Ok((get(RECS).map(|w| trim(w).to_owned()).unwrap_or_default(), place))
            };
            let widgets = o.or("recs", Vec::new, |x| x.items(widget))?;
            let body = o.or("page", Vec::new, |x| attributes(x, &PAGE_ATTRS))?;
            request.page = page(|a| lookup(&body, &PAGE_ATTRS, a));
            request.slots = trimmed(o.or_strings("slots")?);
            request.lists = o.or("lists", Vec::new, |x| x.items(list))?;
            request.trace = o.or_bool("trace")?;
            Ok(Markup { request, widgets })
        })
    }

    /// `decision` (of [`Markup::request`]) with one recommendation entry per widget of the markup,
    /// in document order: those left alone are `keep`, without a strategy. A runtime applies entry
    /// `i` to widget `i`.
    pub fn widgets(&self, mut decision: Decision) -> Decision {
        // The request's widgets are the known ones, in the markup's order.
        let mut decided = std::mem::take(&mut decision.recs).into_iter();
        let left_alone = |widget: &String| RecsDecision { widget: widget.clone(), strategy: None, items: Vec::new(), keep: true, experiment: None };
        let mut recs = Vec::with_capacity(self.widgets.len());
        for (widget, place) in &self.widgets {
            recs.push(place.and_then(|_| decided.next()).unwrap_or_else(|| left_alone(widget)));
        }
        decision.recs = recs;
        decision
    }
}

/// An element's attributes `known` (a map of strings, others ignored), in `known`'s order.
fn attributes(x: At, known: &'static [&'static str]) -> R<Vec<Option<String>>> {
    let o = x.obj_lenient(known)?;
    // A loop, not `collect` into a `Result` (its adapter is 0.6 KB of the browser's Wasm).
    let mut out = Vec::with_capacity(known.len());
    for a in known {
        out.push(o.opt_string(a)?);
    }
    Ok(out)
}

fn lookup<'v>(values: &'v [Option<String>], known: &[&str], a: &str) -> Option<&'v str> {
    values.get(known.iter().position(|k| *k == a)?)?.as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_trimmed_of_ascii_whitespace_only() {
        assert_eq!(trim(" \t\n\x0chero\r "), "hero");
        assert_eq!(trim("\u{a0}hero\u{2003}"), "\u{a0}hero\u{2003}");
        assert_eq!(name("  "), None);
        assert_eq!(name(" a b "), Some("a b"));
    }

    #[test]
    fn whole_numbers_are_digits_only() {
        for (raw, want) in
            [("6", Some(6)), (" 12 ", Some(12)), ("0", Some(0)), ("6px", None), ("6.0", None), ("+6", None), ("-1", None), ("", None), ("٣", None)]
        {
            assert_eq!(whole(raw), want, "{raw:?}");
        }
        assert_eq!(whole("99999999999999999999999"), Some(usize::MAX));
    }

    #[test]
    fn prices_are_finite_decimals() {
        for (raw, want) in
            [("12.5", Some(12.5)), (" 3 ", Some(3.0)), ("1e3", Some(1000.0)), ("12,5", None), ("NaN", None), ("Infinity", None), ("1e999", None), ("", None)]
        {
            assert_eq!(number(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn the_page_defaults_to_other_and_empty_means_absent() {
        let attrs = |pairs: &'static [(&'static str, &'static str)]| move |a: &str| pairs.iter().find(|(n, _)| *n == a).map(|(_, v)| *v);
        assert!(is_url_field("link") && is_url_field("image_link") && !is_url_field("title"));
        assert_eq!(page(attrs(&[])), Page { kind: "other".into(), product: None, category: None });
        assert_eq!(page(attrs(&[(PAGE, " "), (PRODUCT, "")])), Page { kind: "other".into(), product: None, category: None });
        assert_eq!(
            page(attrs(&[(PAGE, " product\n"), (PRODUCT, " 85123A "), (CATEGORY, "Candles & Lights")])),
            Page { kind: "product".into(), product: Some("85123A".into()), category: Some("Candles & Lights".into()) }
        );
    }

    #[test]
    fn widgets_read_every_setting_and_unknown_strategies_are_left_alone() {
        let m = Markup::from_json(
            r#"{"recs": [
              {"data-vitrine-recs": " also ", "data-vitrine-strategy": " also_bought ", "data-vitrine-k": "6px",
               "data-vitrine-product": "", "data-vitrine-price-min": "2.5", "data-vitrine-price-max": "x",
               "data-vitrine-max-per-category": "2", "data-vitrine-filter-category": " Kitchen ", "data-vitrine-filled": "3"},
              {"data-vitrine-recs": "future", "data-vitrine-strategy": "bought_together_v9"},
              {"data-vitrine-recs": "none"},
              {"data-vitrine-recs": "pop", "data-vitrine-strategy": "popular", "data-vitrine-k": "4"}]}"#,
        )
        .unwrap();
        let req = &m.request;
        assert_eq!(m.widgets.iter().map(|(_, p)| *p).collect::<Vec<_>>(), vec![Some(0), None, None, Some(1)]);
        assert_eq!(m.widgets[1].0, "future");
        let r = &req.recs[0];
        assert_eq!((r.widget.as_str(), r.strategy, r.product.as_deref(), r.k), ("also", Strategy::AlsoBought, None, None));
        assert_eq!((r.price_min, r.price_max, r.max_per_category, r.category.as_deref()), (Some(2.5), None, Some(2), Some("Kitchen")));
        assert_eq!((req.recs[1].widget.as_str(), req.recs[1].k), ("pop", Some(4)));
        assert_eq!(req.page.kind, "other");
    }

    #[test]
    fn markup_errors_say_where() {
        let e = Markup::from_json(r#"{"recs": [{"data-vitrine-k": 6}]}"#).unwrap_err();
        assert!(e.to_string().contains("recs[0]"), "{e}");
        assert!(Markup::from_json(r#"{"slot": []}"#).is_err());
    }
}
