//! Applies the engine's decisions to the shop's `data-vitrine-*` markup (docs/markup.md) while the
//! HTML streams through lol_html: nothing is buffered but a widget's small `<template>`.
//!
//! Decisions are made at the moment an element's start tag streams past: a slot when its
//! `data-vitrine-slot` tag arrives, a list item's sort key per `data-vitrine-item`, a widget's
//! products at its container's start tag (so `data-vitrine-filled` can go on that tag) — its copies
//! are inserted at the container's end tag, once the template has been captured. Before a widget
//! the edge also places `<link rel="preload">`s for the model shards the snippet will fetch for it
//! (docs/markup.md), when the snippet's own script came first.
//!
//! [`Streamer`] never fails: any rewriting error switches it to passing the rest of the page through
//! unchanged, using lol_html's graceful bail-out so that no byte is lost or duplicated.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use lol_html::errors::RewritingError;
use lol_html::html_content::{ContentType, Element, EndTag, TextChunk};
use lol_html::{AsciiCompatibleEncoding, ElementContentHandlers, HandlerResult, HtmlRewriter, MemorySettings, OutputSink, Selector, Settings};
use vitrine_engine::markup::{self, trim, FIELD, HREF, ITEM, LIST, RECS, SLOT};
use vitrine_engine::site::is_href_field;
use vitrine_engine::time::Seconds;
use vitrine_engine::{Bundle, Context, LiveProfile, Page, PageVars, RecItem, RecsRequest, SlotDecision};

use crate::markup::{decode_entities, escape_attr, handoff_script, render, Token};
use crate::paths::{is_snippet, SNIPPET_DIR};

/// Everything one page is personalized with.
#[derive(Debug)]
pub struct Plan {
    pub bundle: Rc<Bundle>,
    pub profile: LiveProfile,
    pub now: Seconds,
    /// Hand the snapshot over to the snippet at the end of `<head>` (personalized visitors only).
    pub handoff: bool,
}

/// lol_html's own buffers (an unfinished tag split across network chunks) may grow to this; a page
/// that needs more is passed through unchanged from that point on.
const MAX_REWRITER_MEMORY: usize = 4 << 20;
/// Largest widget template captured; a bigger one is not a card template, and is left unfilled.
const MAX_TEMPLATE_BYTES: usize = 32 << 10;

/// Streams one HTML document through the rewriter. Feed chunks with [`Streamer::write`], finish with
/// [`Streamer::end`]; both return the bytes to send on.
pub struct Streamer {
    rewriter: Option<HtmlRewriter<'static, Sink>>,
    out: Rc<RefCell<Vec<u8>>>,
    bailed_out: bool,
}

impl std::fmt::Debug for Streamer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streamer").field("active", &self.rewriter.is_some()).field("bailed_out", &self.bailed_out).finish()
    }
}

struct Sink(Rc<RefCell<Vec<u8>>>);

impl OutputSink for Sink {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        if let Ok(mut out) = self.0.try_borrow_mut() {
            out.extend_from_slice(chunk);
        }
    }
}

impl Streamer {
    /// Sets up the rewriter for one page. Fails only if a built-in selector does not parse, which
    /// the tests rule out; callers then pass the page through.
    pub fn new(plan: Plan) -> Result<Streamer, lol_html::errors::SelectorError> {
        Streamer::with_charset(plan, None)
    }

    /// [`Streamer::new`] for a document in `charset`, the one its `Content-Type` names (any
    /// ASCII-compatible encoding; inserted text is encoded in it, characters it cannot represent
    /// as character references). `None`: UTF-8, unless a `<meta charset>` in the page names another.
    pub fn with_charset(plan: Plan, charset: Option<&'static encoding_rs::Encoding>) -> Result<Streamer, lol_html::errors::SelectorError> {
        let encoding = charset.and_then(AsciiCompatibleEncoding::new).unwrap_or_else(AsciiCompatibleEncoding::utf_8);
        let out = Rc::new(RefCell::new(Vec::new()));
        let settings = handlers(plan)?
            .into_iter()
            .fold(Settings::new(), |s, h| s.append_element_content_handler(h))
            .with_memory_settings(
                MemorySettings::new().with_max_allowed_memory_usage(MAX_REWRITER_MEMORY).with_graceful_bail_out_on_memory_limit_exceeded(true),
            )
            .with_graceful_bail_out_on_content_handler_error(true)
            // Strict mode refuses the rare non-conforming markup (`<select><xmp>…`) whose parsing
            // context a token stream cannot know — and lol_html cannot bail out of that gracefully,
            // so the page would lose bytes. Non-strict is safe here: everything Vitrine inserts is
            // escaped text, escaped attribute values or the shop's own template markup, so a
            // misjudged context can garble a personalization but never create markup.
            .with_strict(false)
            .with_encoding(encoding)
            .with_adjust_charset_on_meta_tag(charset.is_none());
        Ok(Streamer { rewriter: Some(HtmlRewriter::new(settings, Sink(out.clone()))), out, bailed_out: false })
    }

    /// Whether rewriting stopped early and the rest of the page went through unchanged.
    pub fn bailed_out(&self) -> bool {
        self.bailed_out
    }

    fn take(&self) -> Vec<u8> {
        self.out.try_borrow_mut().map(|mut o| std::mem::take(&mut *o)).unwrap_or_default()
    }

    /// Rewrites one chunk of the response body.
    pub fn write(&mut self, chunk: &[u8]) -> Vec<u8> {
        let Some(rewriter) = self.rewriter.as_mut() else {
            return chunk.to_vec();
        };
        match rewriter.write(chunk) {
            Ok(()) => self.take(),
            Err(e) => {
                // A failed rewriter panics if used again: drop it and pass the rest through.
                self.rewriter = None;
                self.bailed_out = true;
                let mut out = self.take();
                if !flushed_on_bail_out(&e) {
                    out.extend_from_slice(chunk);
                }
                out
            }
        }
    }

    /// Flushes what the rewriter still holds at the end of the body.
    pub fn end(&mut self) -> Vec<u8> {
        if let Some(rewriter) = self.rewriter.take() {
            if rewriter.end().is_err() {
                self.bailed_out = true;
            }
        }
        self.take()
    }
}

/// Whether lol_html already flushed the unprocessed input itself (graceful bail-out). Parsing
/// ambiguity cannot occur in non-strict mode; should it ever, passing the chunk on is the best
/// remaining effort.
fn flushed_on_bail_out(e: &RewritingError) -> bool {
    matches!(e, RewritingError::MemoryLimitExceeded(_) | RewritingError::ContentHandlerError(_))
}

/// Rewrites a whole document at once (tests, and the worker's small non-streamed pages).
pub fn rewrite_str(html: &str, plan: Plan) -> String {
    let Ok(mut s) = Streamer::new(plan) else {
        return html.to_owned();
    };
    let mut out = s.write(html.as_bytes());
    out.extend(s.end());
    String::from_utf8(out).unwrap_or_else(|_| html.to_owned())
}

/// Per-page state shared by the handlers (lol_html calls them one at a time, never re-entrantly).
struct State {
    bundle: Rc<Bundle>,
    profile: LiveProfile,
    now: Seconds,
    page: Page,
    /// The visitor's variables on this page, segments included: built once for the whole page.
    vars: PageVars,
    /// Open slots, innermost last: a field belongs to the nearest enclosing slot.
    slots: Vec<SlotDecision>,
    /// Open lists, innermost last.
    lists: Vec<String>,
    /// The recommendation widget whose container is open.
    widget: Option<Rc<RefCell<Widget>>>,
    /// The hand-off `<script>`, until it has been placed.
    handoff: Option<String>,
    /// The snippet's `<script>` has streamed past: its model shards are worth preloading.
    snippet: bool,
    /// Shard files already preloaded on this page.
    preloaded: Vec<String>,
}

impl State {
    fn ctx(&self) -> Context<'_> {
        Context { bundle: &self.bundle, profile: &self.profile, page: &self.page, now: self.now }
    }

    /// `<link rel="preload">`s for the browser's model shards that widget `req` will read and no
    /// earlier widget preloaded. Only when the bundle knows the browser's shard layout and the
    /// page loads the snippet from this worker; the links use the mode and credentials of the
    /// snippet's `fetch`, so it takes the preloaded responses.
    fn preloads(&mut self, req: &RecsRequest) -> String {
        let bundle = self.bundle.clone();
        let Some(layout) = bundle.browser_shards.as_ref().filter(|_| self.snippet) else { return String::new() };
        let files = layout.files(self.ctx().rec_model_items_on(req, &self.vars));
        let mut html = String::new();
        for file in files {
            if self.preloaded.contains(&file) {
                continue;
            }
            let href = format!("{SNIPPET_DIR}{}{file}", layout.base);
            html.push_str(&format!(r#"<link rel="preload" as="fetch" crossorigin="anonymous" href="{}">"#, escape_attr(&href)));
            self.preloaded.push(file);
        }
        html
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capture {
    /// The container's `<template>` has not started yet.
    Before,
    Inside,
    Done,
    /// Too large or otherwise unusable: the widget is left as the shop wrote it.
    Abandoned,
}

struct Widget {
    items: Vec<RecItem>,
    capture: Capture,
    template: Vec<Token>,
    bytes: usize,
}

impl Widget {
    fn push(&mut self, t: Token, size: usize) {
        self.bytes += size;
        if self.bytes > MAX_TEMPLATE_BYTES {
            self.capture = Capture::Abandoned;
            self.template.clear();
        } else {
            self.template.push(t);
        }
    }
}

type Shared = Rc<RefCell<State>>;
type Handler = (Cow<'static, Selector>, ElementContentHandlers<'static>);

/// Runs `f` on the state; a (never expected) overlapping borrow skips the change instead of panicking.
fn with<R: Default>(st: &Shared, f: impl FnOnce(&mut State) -> R) -> R {
    st.try_borrow_mut().map(|mut s| f(&mut s)).unwrap_or_default()
}

fn with_widget(w: &Rc<RefCell<Widget>>, f: impl FnOnce(&mut Widget)) {
    if let Ok(mut w) = w.try_borrow_mut() {
        f(&mut w);
    }
}

/// An attribute value with its entities decoded.
fn attr(el: &Element<'_, '_>, name: &str) -> Option<String> {
    el.get_attribute(name).map(|v| decode_entities(&v).into_owned())
}

fn on_element(selector: &str, f: impl FnMut(&mut Element<'_, '_>) -> HandlerResult + 'static) -> Result<Handler, lol_html::errors::SelectorError> {
    Ok((Cow::Owned(selector.parse()?), ElementContentHandlers::default().element(f)))
}

fn on_text(selector: &str, f: impl FnMut(&mut TextChunk<'_>) -> HandlerResult + 'static) -> Result<Handler, lol_html::errors::SelectorError> {
    Ok((Cow::Owned(selector.parse()?), ElementContentHandlers::default().text(f)))
}

/// Registers `f` for the element's end tag; void elements have none, and that is not an error.
fn on_end(el: &mut Element<'_, '_>, f: impl FnOnce(&mut EndTag<'_>) -> HandlerResult + 'static) {
    if el.can_have_content() {
        let _ = el.on_end_tag(Box::new(f));
    }
}

fn handlers(plan: Plan) -> Result<Vec<Handler>, lol_html::errors::SelectorError> {
    let handoff = plan.handoff.then(|| handoff_script(&plan.profile.snapshot.to_json()));
    let st: Shared = Rc::new(RefCell::new(State {
        bundle: plan.bundle,
        profile: plan.profile,
        now: plan.now,
        // Until `<body>` streams past (a page may leave it implied): an `other` page.
        page: markup::page(|_| None::<String>),
        vars: PageVars::default(),
        slots: Vec::new(),
        lists: Vec::new(),
        widget: None,
        handoff,
        snippet: false,
        preloaded: Vec::new(),
    }));
    let s = || st.clone();
    Ok(vec![
        on_element("head", head(s()))?,
        on_element("script[src]", script(s()))?,
        on_element("body", body(s()))?,
        on_element(&format!("[{SLOT}]"), slot(s()))?,
        on_element(&format!("[{SLOT}] [{FIELD}]"), field(s()))?,
        on_element(&format!("[{SLOT}] [{HREF}]"), href(s()))?,
        on_element(&format!("[{LIST}]"), list(s()))?,
        // Only a list's children: CSS `order` reorders flex and grid items, nothing deeper.
        on_element(&format!("[{LIST}] > [{ITEM}]"), item(s()))?,
        on_element(&format!("[{RECS}]"), recs(s()))?,
        on_element(&format!("[{RECS}] > template"), template(s()))?,
        on_element(&format!("[{RECS}] > template *"), template_element(s()))?,
        on_text(&format!("[{RECS}] > template"), template_text(s()))?,
    ])
}

/// The profile hand-off goes at the end of `<head>`.
fn head(st: Shared) -> impl FnMut(&mut Element<'_, '_>) -> HandlerResult {
    move |el| {
        let st = st.clone();
        on_end(el, move |end| {
            if let Some(script) = with(&st, |s| s.handoff.take()) {
                end.before(&script, ContentType::Html);
            }
            Ok(())
        });
        Ok(())
    }
}

/// Notes the snippet's loader, so that later widgets preload their shards.
fn script(st: Shared) -> impl FnMut(&mut Element<'_, '_>) -> HandlerResult {
    move |el| {
        if attr(el, "src").is_some_and(|src| is_snippet(src.trim())) {
            with(&st, |s| s.snippet = true);
        }
        Ok(())
    }
}

/// Reads the page context; also places the hand-off if the page had no `</head>`.
fn body(st: Shared) -> impl FnMut(&mut Element<'_, '_>) -> HandlerResult {
    move |el| {
        let page: Page = markup::page(|name| attr(el, name));
        if let Some(script) = with(&st, |s| {
            s.page = page;
            // Variables read before `<body>` belong to the page without its context.
            s.vars = PageVars::default();
            s.handoff.take()
        }) {
            el.before(&script, ContentType::Html);
        }
        Ok(())
    }
}

fn slot(st: Shared) -> impl FnMut(&mut Element<'_, '_>) -> HandlerResult {
    move |el| {
        let name = attr(el, SLOT).map(|v| trim(&v).to_owned()).unwrap_or_default();
        let decision = with(&st, |s| Some(s.ctx().decide_slot_on(&name, &s.vars)));
        let Some(decision) = decision else { return Ok(()) };
        if let Some(v) = &decision.variant {
            let _ = el.set_attribute("data-vitrine-variant", &escape_attr(v));
        }
        if el.can_have_content() {
            with(&st, |s| s.slots.push(decision));
            let st = st.clone();
            on_end(el, move |_| {
                with(&st, |s| s.slots.pop());
                Ok(())
            });
        }
        Ok(())
    }
}

/// A slot field's new value, if the winning variant sets it; `url`: URL fields only.
fn slot_value(st: &Shared, el: &Element<'_, '_>, name_attr: &str, url: bool) -> Option<String> {
    let name = attr(el, name_attr)?;
    let name = trim(&name);
    if url && !is_href_field(name) {
        return None;
    }
    with(st, |s| s.slots.last().and_then(|d| d.fields.get(name).cloned()))
}

fn field(st: Shared) -> impl FnMut(&mut Element<'_, '_>) -> HandlerResult {
    move |el| {
        if let Some(text) = slot_value(&st, el, FIELD, false) {
            // As text: lol_html escapes it, so a profile's `<img onerror>` stays a string.
            el.set_inner_content(&text, ContentType::Text);
        }
        Ok(())
    }
}

fn href(st: Shared) -> impl FnMut(&mut Element<'_, '_>) -> HandlerResult {
    move |el| {
        // Checked by the engine when it decided (an unsafe value is no value).
        if let Some(url) = slot_value(&st, el, HREF, true) {
            let _ = el.set_attribute("href", &escape_attr(&url));
        }
        Ok(())
    }
}

fn list(st: Shared) -> impl FnMut(&mut Element<'_, '_>) -> HandlerResult {
    move |el| {
        if el.can_have_content() {
            let name = attr(el, LIST).map(|v| trim(&v).to_owned()).unwrap_or_default();
            with(&st, |s| s.lists.push(name));
            let st = st.clone();
            on_end(el, move |_| {
                with(&st, |s| s.lists.pop());
                Ok(())
            });
        }
        Ok(())
    }
}

/// Each item gets its sort key as CSS `order`, so the list never has to be buffered: an item's key
/// depends on that item alone, and the browser's stable layout order equals the decided order.
fn item(st: Shared) -> impl FnMut(&mut Element<'_, '_>) -> HandlerResult {
    move |el| {
        let Some(id) = attr(el, ITEM).map(|v| trim(&v).to_owned()) else { return Ok(()) };
        let key = with(&st, |s| {
            let list = s.lists.last().cloned().unwrap_or_default();
            s.ctx().rank_list_on(&list, &[id], &s.vars).keys.first().copied()
        });
        // Zero is the default `order`: leaving those items untouched keeps the markup unchanged
        // for anonymous visitors.
        if let Some(key) = key.filter(|&k| k != 0) {
            let style = el.get_attribute("style").unwrap_or_default();
            let sep = if style.trim().is_empty() || style.trim_end().ends_with(';') { "" } else { ";" };
            let _ = el.set_attribute("style", &format!("{style}{sep}order:{key}"));
        }
        Ok(())
    }
}

fn recs(st: Shared) -> impl FnMut(&mut Element<'_, '_>) -> HandlerResult {
    move |el| {
        let Some(req) = markup::recs(|name| attr(el, name)) else { return Ok(()) };
        if !el.can_have_content() {
            return Ok(());
        }
        let links = with(&st, |s| s.preloads(&req));
        if !links.is_empty() {
            el.before(&links, ContentType::Html);
        }
        let Some(decision) = with(&st, |s| Some(s.ctx().recommend_on(&req, &s.vars))) else { return Ok(()) };
        if decision.keep {
            // An experiment's default arm or holdout: the widget stays as the shop served it.
            return Ok(());
        }
        let _ = el.set_attribute("data-vitrine-filled", &decision.items.len().to_string());
        // Which products, so the snippet leaves the widget alone while it decides the same.
        let ids: Vec<&str> = decision.items.iter().map(|i| i.id.as_str()).collect();
        let _ = el.set_attribute("data-vitrine-items", &ids.join(" "));
        let widget = Rc::new(RefCell::new(Widget { items: decision.items, capture: Capture::Before, template: Vec::new(), bytes: 0 }));
        with(&st, |s| s.widget = Some(widget.clone()));
        let st = st.clone();
        on_end(el, move |end| {
            with(&st, |s| s.widget = None);
            let Ok(w) = widget.try_borrow() else { return Ok(()) };
            if w.capture == Capture::Done {
                let mut html = String::new();
                for item in &w.items {
                    render(&w.template, item, &mut html);
                }
                end.before(&html, ContentType::Html);
            }
            Ok(())
        });
        Ok(())
    }
}

fn current_widget(st: &Shared) -> Option<Rc<RefCell<Widget>>> {
    with(st, |s| s.widget.clone())
}

/// The widget's (first) `<template>`: capture what streams between its tags.
fn template(st: Shared) -> impl FnMut(&mut Element<'_, '_>) -> HandlerResult {
    move |el| {
        let Some(w) = current_widget(&st) else { return Ok(()) };
        let mut starts = false;
        with_widget(&w, |w| {
            if w.capture == Capture::Before {
                w.capture = Capture::Inside;
                starts = true;
            }
        });
        if starts {
            on_end(el, move |_| {
                with_widget(&w, |w| {
                    if w.capture == Capture::Inside {
                        w.capture = Capture::Done;
                    }
                });
                Ok(())
            });
        }
        Ok(())
    }
}

fn template_element(st: Shared) -> impl FnMut(&mut Element<'_, '_>) -> HandlerResult {
    move |el| {
        let Some(w) = current_widget(&st) else { return Ok(()) };
        let mut id = None;
        with_widget(&w, |w| {
            if w.capture != Capture::Inside {
                return;
            }
            let attrs: Vec<(String, String)> = el.attributes().iter().map(|a| (a.name_preserve_case(), a.value())).collect();
            let size = attrs.iter().map(|(n, v)| n.len() + v.len() + 4).sum::<usize>() + 16;
            let n = w.template.len();
            w.push(Token::Start { id: n, name: el.tag_name_preserve_case(), attrs, self_closing: el.is_self_closing() }, size);
            id = Some(n);
        });
        if let Some(id) = id {
            let own = el.tag_name();
            on_end(el, move |end| {
                // lol_html also runs an implicitly closed element's handlers at the end tag that
                // closed it (`<li>` at `</ul>`); such an element gets an End without a name, which
                // renders as nothing, just as the source wrote nothing.
                let name = if end.name() == own { end.name_preserve_case() } else { String::new() };
                with_widget(&w, |w| {
                    if w.capture == Capture::Inside {
                        let size = name.len() + 3;
                        w.push(Token::End { of: id, name }, size);
                    }
                });
                Ok(())
            });
        }
        Ok(())
    }
}

fn template_text(st: Shared) -> impl FnMut(&mut TextChunk<'_>) -> HandlerResult {
    move |t| {
        let Some(w) = current_widget(&st) else { return Ok(()) };
        let text = t.as_str();
        if !text.is_empty() {
            with_widget(&w, |w| {
                if w.capture == Capture::Inside {
                    w.push(Token::Text(text.to_owned()), text.len());
                }
            });
        }
        Ok(())
    }
}
