//! Reads a whole page's `data-vitrine-*` markup into a [`Markup`] (what `vitrine decide --page`
//! asks the engine), with lol_html and the engine's reader: the same values the streaming
//! rewriter decides from, in document order.

use std::cell::RefCell;
use std::rc::Rc;

use lol_html::html_content::Element;
use lol_html::{element, HtmlRewriter, Settings};
use vitrine_engine::markup::{self, trim, ITEM, LIST, RECS, SLOT};
use vitrine_engine::{ListRequest, Markup};

use crate::markup::decode_entities;

fn attr(el: &Element<'_, '_>, name: &str) -> Option<String> {
    el.get_attribute(name).map(|v| decode_entities(&v).into_owned())
}

/// The page's markup; `None` if lol_html cannot read the page (then nothing can be personalized).
pub fn scan(html: &str) -> Option<Markup> {
    #[derive(Default)]
    struct Scan {
        markup: Markup,
        /// Open lists (their index in `markup.request.lists`), innermost last.
        open: Vec<usize>,
    }
    let mut start = Scan::default();
    // A document always has a body (the parser makes one): without attributes, an `other` page.
    start.markup.request.page = markup::page(|_| None::<String>);
    let st = Rc::new(RefCell::new(start));
    let (s1, s2, s3, s4, s5) = (st.clone(), st.clone(), st.clone(), st.clone(), st.clone());
    let list_item = format!("[{LIST}] > [{ITEM}]");
    let handlers = vec![
        element!("body", move |el| {
            s1.borrow_mut().markup.request.page = markup::page(|name| attr(el, name));
            Ok(())
        }),
        element!(format!("[{SLOT}]"), move |el| {
            let name = attr(el, SLOT).map(|v| trim(&v).to_owned()).unwrap_or_default();
            s2.borrow_mut().markup.request.slots.push(name);
            Ok(())
        }),
        element!(format!("[{LIST}]"), move |el| {
            let list = attr(el, LIST).map(|v| trim(&v).to_owned()).unwrap_or_default();
            let mut s = s3.borrow_mut();
            s.markup.request.lists.push(ListRequest { list, items: Vec::new() });
            let at = s.markup.request.lists.len() - 1;
            if el.can_have_content() {
                s.open.push(at);
                let st = s3.clone();
                let _ = el.on_end_tag(Box::new(move |_| {
                    st.borrow_mut().open.pop();
                    Ok(())
                }));
            }
            Ok(())
        }),
        element!(list_item, move |el| {
            let id = attr(el, ITEM).map(|v| trim(&v).to_owned()).unwrap_or_default();
            let mut s = s4.borrow_mut();
            if let Some(&at) = s.open.last() {
                s.markup.request.lists[at].items.push(id);
            }
            Ok(())
        }),
        element!(format!("[{RECS}]"), move |el| {
            let widget = attr(el, RECS).map(|v| trim(&v).to_owned()).unwrap_or_default();
            let recs = &mut s5.borrow_mut().markup;
            let place = markup::recs(|name| attr(el, name)).map(|r| {
                recs.request.recs.push(r);
                recs.request.recs.len() - 1
            });
            recs.widgets.push((widget, place));
            Ok(())
        }),
    ];
    let settings = handlers.into_iter().fold(Settings::new(), |s, h| s.append_element_content_handler(h));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    rewriter.write(html.as_bytes()).ok()?;
    rewriter.end().ok()?;
    let scan = Rc::try_unwrap(st).ok()?.into_inner();
    Some(scan.markup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_placement_in_document_order() {
        let html = r#"<body data-vitrine-page=" product " data-vitrine-product="mug&#45;1">
          <section data-vitrine-slot=" hero "></section>
          <ul data-vitrine-list="grid"><li data-vitrine-item=" a ">a</li><li><b data-vitrine-item="deep"></b></li><li data-vitrine-item="b"></li></ul>
          <div data-vitrine-recs="x" data-vitrine-strategy="nope"></div>
          <div data-vitrine-recs="also" data-vitrine-strategy="also_bought" data-vitrine-k="6px"></div>"#;
        let m = scan(html).unwrap();
        assert_eq!(m.request.page.kind, "product");
        assert_eq!(m.request.page.product.as_deref(), Some("mug-1"));
        assert_eq!(m.request.slots, ["hero"]);
        assert_eq!(m.request.lists, [ListRequest { list: "grid".into(), items: vec!["a".into(), "b".into()] }]);
        assert_eq!(m.widgets, [("x".to_owned(), None), ("also".to_owned(), Some(0))]);
        assert_eq!(m.request.recs[0].k, None);
        assert_eq!(scan("<p>no body tag</p>").unwrap().request.page.kind, "other", "as the browser's implied <body>");
    }
}
