//! Times CEL expressions outside the fuzzer (no sanitizer, no coverage), to triage a slow unit:
//! for each file given, the wall time of `compile_unchecked` + `eval` with the default budget and
//! with a site rule's budget, and the smallest budget the evaluation completes within (the units
//! it is charged).
//! `cargo +nightly run --release --example cel_cost -- artifacts/cel/slow-unit-*`

use std::time::Instant;

use vitrine_engine::cel::{Program, DEFAULT_BUDGET};
use vitrine_engine::condition::RULE_BUDGET;

fn main() {
    for path in std::env::args().skip(1) {
        let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let start = Instant::now();
        let program = match Program::compile_unchecked(&src) {
            Ok(p) => p,
            Err(errors) => {
                println!("{path}: does not compile: {}", errors[0].render(&src));
                continue;
            }
        };
        let compiled = start.elapsed();
        let start = Instant::now();
        let result = program.eval(&());
        let evaluated = start.elapsed();
        // The charge: the smallest budget that still completes (evaluation is deterministic). A
        // bisection evaluates some twenty times more: only for the quick ones.
        let charged = match &result {
            Ok(_) if evaluated.as_secs() < 1 => {
                let (mut lo, mut hi) = (0u64, DEFAULT_BUDGET);
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    if program.eval_with_budget(&(), mid).is_ok() {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
                format!("{lo} units")
            }
            Ok(_) => "(not measured: slow)".to_owned(),
            Err(_) => "n/a".to_owned(),
        };
        let start = Instant::now();
        let _ = program.eval_with_budget(&(), RULE_BUDGET);
        let as_rule = start.elapsed();
        let shown = match &result {
            Ok(v) => format!("{}", v.kind()),
            Err(e) => e.to_string(),
        };
        println!("{path}: compile {compiled:.2?}, eval {evaluated:.2?} -> {shown}; charged {charged} of {DEFAULT_BUDGET}; eval with a rule's budget ({RULE_BUDGET}) {as_rule:.2?}");
    }
}
