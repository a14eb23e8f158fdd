//! A site configuration's source (`site.json`), as `vitrine check` and `vitrine bundle` compile
//! it, on arbitrary text: never panics; a source that compiles writes its compiled form, which
//! reads back and writes the same; an `href` content field never compiles to a literal unsafe URL.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vitrine_engine::{is_safe_url, SiteConfig};

fuzz_target!(|text: &str| {
    let Ok(site) = SiteConfig::from_json(text) else { return };
    let _ = site.rule_fields();
    let compiled = site.to_compiled_json(false);
    let back = SiteConfig::from_json(&compiled).unwrap_or_else(|e| panic!("compiled form reads back: {e:?}"));
    assert_eq!(back.to_compiled_json(false), compiled);
    // A literal (hole-free) href that was accepted is safe: issue 12.
    let doc: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    if let Some(slots) = doc.get("slots").and_then(|s| s.as_object()) {
        for variants in slots.values().filter_map(|v| v.as_array()) {
            for content in variants.iter().filter_map(|v| v.get("content")?.as_object()) {
                for (k, v) in content {
                    let Some(v) = v.as_str() else { continue };
                    if (k == "href" || k.ends_with("_href")) && !v.contains(['{', '}']) && !v.is_empty() {
                        assert!(is_safe_url(v), "unsafe literal href {k} = {v:?} compiled");
                    }
                }
            }
        }
    }
});
