//! `Model::from_bytes` on arbitrary bytes, as they are and with the checksum repaired: never
//! panics (errors are values), and whatever loads survives a binary round trip, and a JSON one,
//! unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vitrine_engine::Model;
use vitrine_engine_fuzz::with_valid_crc;

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(repaired) = with_valid_crc(data) {
        check(&repaired);
    }
});

fn check(data: &[u8]) {
    let Ok(m) = Model::from_bytes(data) else { return };
    match Model::from_bytes(&m.to_bytes()) {
        Ok(back) => assert_eq!(back, m, "binary round trip changed the model"),
        Err(e) => panic!("a loaded model's own bytes do not load: {e}"),
    }
    assert_eq!(Model::from_json(&m.to_json()).as_ref(), Ok(&m), "JSON round trip of a binary model changed it");
}
