//! What the tests of a browser's sharded bundle share (`mod common;` in each).

use std::collections::HashMap;

use vitrine_engine::Bundle;

/// The rounds of fetches the snippet makes before it applies what it has (`MAX_ROUNDS`,
/// js-snippet/loader.js): a placement still undecided then stays as served.
pub const MAX_ROUNDS: usize = 4;

/// `full` (read from `doc`) split as `vitrine bundle --shards count` splits it: the head the
/// browser loads first, read back from its JSON as the runtimes read it, with the catalog entries
/// of `head_ids` in it; and every shard file by its path relative to the bundle.
pub fn sharded(full: &Bundle, doc: &serde_json::Value, count: u32, head_ids: &[&str]) -> (Bundle, HashMap<String, Vec<u8>>) {
    let (model_head, model_files) = full.model.split(count).unwrap();
    let (catalog_head, catalog_files) = full.catalog.split(count, head_ids.iter().copied()).unwrap();
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    let mbase = model_head.shard_layout().unwrap().base.clone();
    let cbase = catalog_head.shard_layout().unwrap().base.clone();
    files.extend(model_files.into_iter().map(|(n, b)| (format!("{mbase}{n}"), b)));
    files.extend(catalog_files.into_iter().map(|(n, b)| (format!("{cbase}{n}"), b)));
    let mut head_doc = doc.clone();
    head_doc["catalog"] = serde_json::from_str(&catalog_head.to_json()).unwrap();
    head_doc["model"] = serde_json::from_str(&model_head.to_json()).unwrap();
    (Bundle::from_json(&head_doc.to_string()).unwrap(), files)
}
