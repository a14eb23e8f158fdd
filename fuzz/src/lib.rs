//! Fixtures shared by the fuzz targets and the seed generator (`examples/seeds.rs`): a tiny trained
//! model and its shards, the `.vtm` checksum repair, and the visitor decisions are made for.
//!
//! Everything here is fixed and deterministic, so a crash found on one machine reproduces on any
//! other from the input bytes alone.

use std::sync::OnceLock;

use vitrine_engine::model::TrainOptions;
use vitrine_engine::profile::ItemEvent;
use vitrine_engine::time::Seconds;
use vitrine_engine::{Interaction, LiveProfile, Model, ProfileSnapshot};

/// 2011-12-10T00:00:00Z, the "now" of the shared decision cases.
pub const NOW: Seconds = 1_323_475_200;

/// The shard count the `shard` target splits the tiny model into.
pub const SHARDS: u32 = 4;

/// A synthetic log over ten items and twelve users with purchases, carts and views, so the model
/// has both neighbour tables and every shard file (`<s>.vtm` and `v<s>.vtm`) exists.
pub fn tiny_log() -> Vec<Interaction> {
    let items = ["mug-1", "mug-2", "cdl-1", "cdl-2", "bag-1", "bag-2", "tea-1", "tea-2", "é-lamp", "x"];
    let mut log = Vec::new();
    for u in 0..12usize {
        for (i, item) in items.iter().enumerate() {
            let event = match (u + i) % 4 {
                0 => continue,
                1 => ItemEvent::Purchase,
                2 => ItemEvent::AddToCart,
                _ => ItemEvent::View,
            };
            log.push(Interaction {
                user: format!("u{u}"),
                item: (*item).to_owned(),
                time: NOW - 86_400 * (u * 3 + i) as i64,
                event,
                quantity: 1.0 + (i % 2) as f64,
            });
        }
    }
    log
}

/// The tiny model, trained once per process.
pub fn tiny_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::train(&tiny_log(), &TrainOptions { k: 4, ..TrainOptions::default() }))
}

/// The tiny model split into [`SHARDS`] shards: the head and the named shard files.
pub fn tiny_split() -> &'static (Model, Vec<(String, Vec<u8>)>) {
    static SPLIT: OnceLock<(Model, Vec<(String, Vec<u8>)>)> = OnceLock::new();
    SPLIT.get_or_init(|| tiny_model().split(SHARDS).expect("the tiny model splits"))
}

/// `data` with its last four bytes replaced by the CRC-32 of the rest, as a `.vtm` file ends; `None`
/// if it is too short to hold one or already carries the right one. Binary targets try both the
/// input as it is (the checksum path) and this repaired copy (everything behind the checksum).
pub fn with_valid_crc(data: &[u8]) -> Option<Vec<u8>> {
    let body = data.len().checked_sub(4).map(|n| &data[..n])?;
    let sum = vitrine_engine::cel::crc32(body).to_le_bytes();
    if data[body.len()..] == sum {
        return None;
    }
    let mut out = body.to_vec();
    out.extend_from_slice(&sum);
    Some(out)
}

/// A consenting returning customer with traits, orders, history, affinities and segments.
pub fn snapshot() -> ProfileSnapshot {
    ProfileSnapshot::from_json(
        r#"{"v":1, "id":"c-1", "consent":{"personalization":true},
            "traits":{"first_name":"Margaret","vip":true,"age":41},
            "orders":{"count":5,"revenue":4000,"aov":800,"first":"2010-12-01T09:00:00Z","last":"2011-05-01T09:00:00Z"},
            "recent_items":[{"id":"cdl-1","time":"2011-04-01T09:00:00Z","event":"purchase"},
                            {"id":"mug-2","time":"2011-05-01T09:00:00Z","event":"view"}],
            "affinities":{"Candles":0.6,"Kitchen":0.4},
            "segments":["vip","newsletter"]}"#,
    )
    .expect("the fixed snapshot is valid")
}

/// [`snapshot`] as a live profile.
pub fn live_profile() -> LiveProfile {
    LiveProfile::new(snapshot())
}

/// The file name the CLI-input targets report errors under.
pub const INPUT: &str = "input.txt";

/// Asserts that a CLI input error is located the way the CLI promises: it starts with the file's
/// name and, when `lines` is set, with `file:line:col: ` (both numbers from 1).
pub fn assert_located(message: &str, lines: bool) {
    let rest = message.strip_prefix(INPUT).unwrap_or_else(|| panic!("error not naming the file: {message}"));
    if !lines {
        return;
    }
    let mut parts = rest.splitn(4, ':');
    let (empty, line, col) = (parts.next(), parts.next(), parts.next());
    let positive = |s: Option<&str>| s.and_then(|s| s.parse::<usize>().ok()).is_some_and(|n| n >= 1);
    assert!(empty == Some("") && positive(line) && positive(col), "error not located at file:line:col: {message}");
}

/// `data` as the CLI reads an input file's bytes (gunzipped if gzip, then UTF-8), under [`INPUT`];
/// `None` when it refuses them, after asserting that the refusal is located.
pub fn decoded(data: &[u8]) -> Option<String> {
    match vitrine_cli::input::decode_text(std::path::Path::new(INPUT), data.to_vec()) {
        Ok(text) => Some(text),
        Err(e) => {
            assert_located(&e.0, true);
            None
        }
    }
}
