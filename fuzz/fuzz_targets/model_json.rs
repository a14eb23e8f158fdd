//! `Model::from_json` on arbitrary UTF-8: never panics (errors are values), and whatever loads
//! survives a JSON round trip unchanged (and, for a full model, a binary one too).

#![no_main]

use libfuzzer_sys::fuzz_target;
use vitrine_engine::Model;

fuzz_target!(|text: &str| {
    let Ok(m) = Model::from_json(text) else { return };
    assert_eq!(Model::from_json(&m.to_json()).as_ref(), Ok(&m), "JSON round trip changed the model");
    // A shard head's binary form keeps its rankings' order only (no counts, 16-bit indexes), and
    // the binary form documents that it cuts ids and rows past 65,535 (bytes, pairs): only full
    // models within those limits are compared after a binary round trip (model_bin round-trips
    // binary heads).
    let max = usize::from(u16::MAX);
    let fits = (0..m.len() as u32).map(|i| m.item(i)).all(|id| id.len() <= max && m.neighbors(id).len() <= max && m.ranked_also_viewed(id).count() <= max);
    if m.shards().is_none() && fits {
        assert_eq!(Model::from_bytes(&m.to_bytes()).as_ref(), Ok(&m), "binary round trip of a JSON model changed it");
    }
});
