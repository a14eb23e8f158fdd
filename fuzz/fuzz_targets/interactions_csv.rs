//! `vitrine train`'s interactions reader on arbitrary bytes: never panics; every error names
//! `file:line:col`; interactions that read train a model (small options) that recommends, and
//! whose JSON and binary snapshots read back.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vitrine_cli::input::parse_interactions;
use vitrine_engine::model::{Similarity, TrainOptions};
use vitrine_engine::Model;
use vitrine_engine_fuzz::{assert_located, decoded, INPUT};

fuzz_target!(|data: &[u8]| {
    let path = Path::new(INPUT);
    let Some(text) = decoded(data) else { return };
    let rows = match parse_interactions(path, &text) {
        Ok(rows) => rows,
        Err(e) => return assert_located(&e.0, true),
    };
    assert!(rows.iter().all(|r| r.quantity.is_finite() && r.quantity >= 0.0));
    for (similarity, half_life_days) in [(Similarity::LocalEase { lambda: 400.0, neighborhood: 8 }, None), (Similarity::Cosine, Some(30.0))] {
        let model = Model::train(&rows, &TrainOptions { k: 4, similarity, half_life_days });
        let first: Vec<&str> = rows.iter().take(3).map(|r| r.item.as_str()).collect();
        let _ = model.for_you(&first, 5, &|_| false);
        let json = model.to_json();
        assert!(Model::from_json(&json).is_ok(), "a trained model's JSON reads back");
        assert!(Model::from_bytes(&model.to_bytes()).is_ok() || rows.iter().any(|r| r.item.len() > 65_535), "a trained model's .vtm reads back");
    }
});
