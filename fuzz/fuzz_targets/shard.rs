//! `Model::add_shard` on arbitrary bytes (as they are, and with the `.vtm` checksum repaired), under
//! each shard name a head asks for: never panics, and an error leaves the model exactly as it was.
//! The head is the tiny model's, split in four; each name is tried on the bare head and on a head
//! that already holds every genuine shard but that one, so new rows must merge with loaded ones.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vitrine_engine::shard::Table;
use vitrine_engine::Model;
use vitrine_engine_fuzz::{tiny_split, with_valid_crc};

const NAMES: [&str; 3] = ["0.vtm", "1.vtm", "v0.vtm"];

fuzz_target!(|data: &[u8]| {
    run(data);
    if let Some(repaired) = with_valid_crc(data) {
        run(&repaired);
    }
});

/// For each name: the head holding every genuine shard but that one.
fn all_but() -> &'static [Model] {
    static HEADS: OnceLock<Vec<Model>> = OnceLock::new();
    HEADS.get_or_init(|| {
        let (head, files) = tiny_split();
        NAMES
            .iter()
            .map(|&name| {
                let mut loaded = head.clone();
                for (other, bytes) in files.iter().filter(|(n, _)| n != name) {
                    loaded.add_shard(other, bytes).expect("a genuine shard loads");
                }
                loaded
            })
            .collect()
    })
}

fn run(data: &[u8]) {
    let head = &tiny_split().0;
    for (name, loaded) in NAMES.iter().zip(all_but()) {
        check(head, name, data);
        check(loaded, name, data);
    }
}

fn check(base: &Model, name: &str, data: &[u8]) {
    let mut m = base.clone();
    if m.add_shard(name, data).is_err() {
        assert_eq!(&m, base, "a rejected shard {name} changed the model");
        return;
    }
    // Loading the same shard again is a no-op, and a loaded shard is never reported missing.
    let once = m.clone();
    m.add_shard(name, data).expect("a loaded shard loads again");
    assert_eq!(m, once, "loading {name} twice changed the model");
    let ids: Vec<&str> = (0..m.len() as u32).map(|i| m.item(i)).collect();
    let needs = ids.iter().flat_map(|&id| [(id, Table::Bought), (id, Table::Viewed)]);
    assert!(!m.missing_shards(needs).iter().any(|s| s == name), "{name} loaded but reported missing");
    // Every row the shard brought in points at real items.
    for &id in &ids {
        let _ = m.ranked_also_bought(id).count() + m.ranked_also_viewed(id).count();
    }
    let _ = m.ranked_for_you(&ids);
}
