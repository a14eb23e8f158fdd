//! `vitrine profiles`/`kpis`/`clv`'s order-export reader on arbitrary bytes, with Online Retail's
//! and Shopify's columns: never panics; every error names `file:line:col` (or the file, for what
//! has no line: a gzip stream); lines that read build profile snapshots whose JSON reads back (a
//! non-finite revenue would not: issue 12), and CLV summaries.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vitrine_cli::input::{parse_order_export, Columns};
use vitrine_engine::orders::{build_profiles, ProfileRules};
use vitrine_engine::ProfileSnapshot;
use vitrine_engine_fuzz::{assert_located, decoded, INPUT, NOW};

fuzz_target!(|data: &[u8]| {
    let path = Path::new(INPUT);
    let Some(text) = decoded(data) else { return };
    for columns in [Columns::online_retail(), Columns::shopify()] {
        match parse_order_export(path, &text, &columns) {
            Err(e) => assert_located(&e.0, true),
            Ok((lines, _)) => {
                let (profiles, _) = build_profiles(&lines, NOW, None, &ProfileRules::default());
                for p in &profiles {
                    let json = p.to_json();
                    let back = ProfileSnapshot::from_json(&json).unwrap_or_else(|e| panic!("a built profile must read back: {e:?}: {json}"));
                    assert_eq!(back.to_json(), json);
                }
                let _ = vitrine_engine::analytics::clv::summaries(&lines, NOW, |_| true);
            }
        }
    }
});
