//! The engine warmed at isolate start.
//!
//! V8 compiles a Wasm function the first time it runs and runs it slowly until it is hot, so the
//! first page after a cold start used to pay for compiling and running the whole
//! parse-decide-rewrite-stream path once. Two things take that off the first visitor, both at
//! isolate start (`js/entry.mjs`), when no request waits (bench/results/2026-12-05-edge-cold-2.md):
//! - the deployment's edge bundle, built into the worker, is parsed then (`edge::preload_bundle`);
//! - a tiny page with a slot, a list, an experiment and every kind of widget, for a visitor with a
//!   snapshot and a live event, goes through the same streamed path a real page takes: its body
//!   as a stream, the rewriter fed chunk by chunk, the rewritten body as a stream that the JS entry
//!   reads through (`edge::warm`).
//!
//! Its site fixes "now" (`demo_now`, the case's), so the page decides the same in the worker as in
//! the test below. Its bundle is compiled from `warm/` (site, catalog, model) and committed; a test checks that it
//! is what those sources compile to today, so a change of the compiled form cannot leave it stale.

use vitrine_engine::{Bundle, CaseInput, FormatError, LiveProfile};

pub const BUNDLE: &str = include_str!("../warm/bundle.json");
const CASE: &str = include_str!("../warm/case.json");
pub const PAGE: &str = include_str!("../warm/page.html");

/// The warm-up bundle and visitor. Nothing is kept: what they hold is freed with the page.
pub fn inputs() -> Result<(Bundle, LiveProfile), FormatError> {
    let bundle = Bundle::from_json(BUNDLE)?;
    let profile = CaseInput::from_json(CASE)?.live_profile(&bundle);
    Ok((bundle, profile))
}

#[cfg(test)]
mod tests {
    use vitrine_engine::{Bundle, Catalog, Model, SiteConfig};

    /// What `warm/`'s sources compile to (as `vitrine bundle` does: compiled rules, the binary model).
    fn compiled() -> String {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/warm");
        let read = |name: &str| std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
        let mut site = SiteConfig::from_json(&read("site.json")).unwrap();
        let catalog = read("catalog.json");
        site.keep_currencies(&Catalog::from_json(&catalog).unwrap());
        let site = site.to_compiled_json(false);
        let model = Model::from_json(&read("model.json")).unwrap().to_bundle_part();
        Bundle::assemble(&site, &catalog, &model) + "\n"
    }

    #[test]
    fn the_committed_bundle_is_what_the_sources_compile_to() {
        let fresh = compiled();
        if fresh != super::BUNDLE {
            std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/warm/bundle.json"), &fresh).unwrap();
            panic!("edge-worker/warm/bundle.json was stale and has been rewritten: commit it");
        }
    }

    #[test]
    fn the_warm_up_page_goes_through_every_stage() {
        let (bundle, profile) = super::inputs().unwrap();
        // The site's fixed "now", the case's: the worker's warm-up decides at the same instant.
        let now = bundle.site.demo_now.unwrap();
        let page = crate::rewrite::rewrite_str(super::PAGE, crate::rewrite::Plan { bundle: std::rc::Rc::new(bundle), profile, now, handoff: true });
        assert!(page.contains(r#"data-vitrine-variant="winback""#) && page.contains("We miss you, Ada"), "slot and template: {page}");
        assert!(page.contains("order:"), "list reordered: {page}");
        for widget in ["also", "mine", "hot", "like"] {
            let at = page.find(&format!(r#"data-vitrine-recs="{widget}""#)).unwrap();
            assert!(page[at..].split_once('>').unwrap().0.contains("data-vitrine-filled"), "{widget} filled: {page}");
        }
        assert!(page.contains(r#"id="vitrine-profile""#), "snapshot handed over: {page}");
    }
}
