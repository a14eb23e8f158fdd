//! Writes the binary seed corpora: the tiny model's `.vtm` bytes (full, and its JSON for
//! `model_json`), its shard files, and the shared cases' and the demo's site configurations
//! compiled (with and without rule sources), into `corpus/<target>/seed-*`. Run from `fuzz/`:
//! `cargo +nightly run --example seeds`. Seeds are named after their content, so rerunning is
//! idempotent and never duplicates a file the fuzzer has already kept.

use std::fs;
use std::path::Path;

use vitrine_engine::model::TrainOptions;
use vitrine_engine::shard::content_hash;
use vitrine_engine::site::SiteConfig;
use vitrine_engine::Model;
use vitrine_engine_fuzz::{tiny_log, tiny_model, tiny_split};

fn write(target: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    fs::create_dir_all(&dir).expect("create the corpus directory");
    let path = dir.join(format!("seed-{}", content_hash(bytes)));
    fs::write(&path, bytes).expect("write a seed");
    println!("{} ({} bytes)", path.display(), bytes.len());
}

fn main() {
    let model = tiny_model();
    // A cosine model and an empty one too: different score spreads, and the smallest valid file.
    let cosine = Model::train(&tiny_log(), &TrainOptions { k: 2, similarity: vitrine_engine::model::Similarity::Cosine, ..TrainOptions::default() });
    let empty = Model::train(&[], &TrainOptions::default());
    let (head, files) = tiny_split();
    for m in [model, &cosine, &empty] {
        write("model_bin", &m.to_bytes());
        write("model_json", m.to_json().as_bytes());
    }
    write("model_json", head.to_json().as_bytes());
    for (_, bytes) in files {
        write("shard", bytes);
        write("model_bin", bytes);
    }
    let cases: serde_json::Value = serde_json::from_str(include_str!("../../tests/cases/decisions.json")).expect("the shared cases parse");
    for text in [cases["bundle"]["site"].to_string(), include_str!("../../demo-shop/site.json").to_owned()] {
        let site = SiteConfig::from_json(&text).expect("a shipped site configuration compiles");
        for sources in [false, true] {
            write("compiled_site", &site.to_compiled(sources));
        }
    }
}
