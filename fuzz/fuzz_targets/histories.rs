//! `vitrine recommend`'s histories reader on arbitrary bytes: never panics; every error names
//! `file:line:col`; histories that read get recommendations from the tiny model, at most k each.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vitrine_cli::input::parse_histories;
use vitrine_engine_fuzz::{assert_located, decoded, tiny_model, INPUT};

fuzz_target!(|data: &[u8]| {
    let path = Path::new(INPUT);
    let Some(text) = decoded(data) else { return };
    match parse_histories(path, &text) {
        Err(e) => assert_located(&e.0, true),
        Ok(histories) => {
            for h in &histories {
                let items: Vec<&str> = h.items.iter().map(String::as_str).collect();
                let recs = tiny_model().for_you(&items, 3, &|c| items.contains(&c));
                assert!(recs.len() <= 3);
            }
        }
    }
});
