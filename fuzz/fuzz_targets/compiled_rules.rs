//! `vitrine_cel::decode` (the compiled rules every runtime loads) on arbitrary bytes, as they are and
//! with the checksum repaired so the fuzzer reaches the decoder behind it: never panics, never
//! allocates beyond what the bytes justify, and whatever loads evaluates within its budget and
//! survives a second trip through the encoder unchanged (same programs, same results).

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use vitrine_engine::cel::{decode, encode, Program, Value};
use vitrine_engine_fuzz::with_valid_crc;

fuzz_target!(|data: &[u8]| {
    run(data);
    if let Some(repaired) = with_valid_crc(data) {
        run(&repaired);
    }
});

fn run(data: &[u8]) {
    let Ok(programs) = decode(data) else { return };
    let vars: BTreeMap<String, Value> = [("now".to_string(), Value::Int(0)), ("profile.orders.count".to_string(), Value::Int(3))].into_iter().collect();
    let results: Vec<String> = programs.iter().map(|p| format!("{:?}", p.eval_with_budget(&vars, 10_000).map_err(|e| e.kind))).collect();
    for spans in [false, true] {
        let refs: Vec<&Program> = programs.iter().collect();
        let again = decode(&encode(&refs, spans)).expect("a loaded program encodes to a loadable one");
        assert_eq!(again.len(), programs.len());
        for (p, want) in again.iter().zip(&results) {
            assert_eq!(&format!("{:?}", p.eval_with_budget(&vars, 10_000).map_err(|e| e.kind)), want);
        }
    }
}
