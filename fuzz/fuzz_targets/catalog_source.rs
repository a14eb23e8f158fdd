//! The catalog as `vitrine profiles --catalog` and `vitrine bundle --catalog` read it, Merchant
//! Center TSV and JSON, on arbitrary text: never panics; TSV errors are located from line 1,
//! column 1; a catalog that reads writes JSON that reads back the same, and splits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vitrine_engine::Catalog;

fuzz_target!(|text: &str| {
    for (parsed, tsv) in [(Catalog::from_tsv(text), true), (Catalog::from_json(text), false)] {
        match parsed {
            Err(e) => {
                if tsv {
                    assert!(e.line >= 1 && e.column >= 1, "TSV errors are located: {e:?}");
                }
                let _ = e.describe();
            }
            Ok(c) => {
                let json = c.to_json();
                let back = Catalog::from_json(&json).unwrap_or_else(|e| panic!("a catalog's JSON reads back: {e:?}: {json}"));
                assert_eq!(back.to_json(), json);
                let _ = c.split(3, std::iter::empty::<&str>());
            }
        }
    }
});
