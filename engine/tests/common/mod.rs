//! What the tests of a browser's sharded bundle share (`mod common;` in each).

use std::collections::HashMap;

use vitrine_engine::Bundle;

/// The rounds of fetches the snippet makes before it applies what it has: `MAX_ROUNDS` in
/// js-snippet/loader.js, read from there so that the tests hold the engine to the loader's number.
/// A placement still undecided then stays as served.
pub fn max_rounds() -> usize {
    let loader = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../js-snippet/loader.js")).unwrap();
    let rounds = loader.lines().find_map(|l| l.trim().strip_prefix("var MAX_ROUNDS = ")?.strip_suffix(';')?.parse().ok());
    rounds.expect("js-snippet/loader.js: expected a line `var MAX_ROUNDS = <n>;`")
}

/// `full` (whose site is `doc`'s) split as `vitrine bundle --shards count` splits it
/// ([`Bundle::split`]): the head the browser loads first, read back from its text as the runtimes
/// read it, with the catalog entries of `head_ids` in it; and every shard file by its path relative
/// to the bundle.
pub fn sharded(full: &Bundle, doc: &serde_json::Value, count: u32, head_ids: &[&str]) -> (Bundle, HashMap<String, Vec<u8>>) {
    let split = Bundle::split(&doc["site"].to_string(), &full.catalog, &full.model, count, head_ids.iter().copied()).unwrap();
    let files = split.files().map(|(path, bytes)| (path, bytes.to_vec())).collect();
    (Bundle::from_json(&split.head).unwrap(), files)
}
