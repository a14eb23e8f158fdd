//! CEL: `Program::compile_unchecked` on arbitrary UTF-8, then `eval` against a small activation
//! (an int, a string, a list of maps, a timestamp). Never panics; evaluation always finishes
//! (the interpreter's budget bounds it, so a slow input is a finding); errors render. The same
//! source is also compiled type-checked against matching declarations.

#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vitrine_engine::cel::{self, Decls, Program, Value};
use vitrine_engine_fuzz::NOW;

fn fixtures() -> &'static (BTreeMap<String, Value>, Decls) {
    static F: OnceLock<(BTreeMap<String, Value>, Decls)> = OnceLock::new();
    F.get_or_init(|| (activation(), decls()))
}

fuzz_target!(|src: &str| {
    let (vars, decls) = fixtures();
    match Program::compile_unchecked(src) {
        Ok(p) => {
            let _ = p.references();
            match p.eval(vars) {
                Ok(v) => {
                    let _ = v.to_string();
                    let _ = v.to_typed_json();
                }
                Err(e) => {
                    let _ = e.render(src);
                }
            }
        }
        Err(errors) => {
            for e in &errors {
                let _ = e.render(src);
            }
        }
    }
    match Program::compile(src, decls) {
        Ok(p) => {
            let _ = p.result_type();
            let _ = p.eval(vars);
        }
        Err(errors) => {
            for e in &errors {
                let _ = e.render(src);
            }
        }
    }
});

/// The CEL activation: an int, a string, a list of maps and a timestamp, under plain and dotted
/// names (the evaluator resolves qualified names longest first).
fn activation() -> BTreeMap<String, cel::Value> {
    let mut vars = BTreeMap::new();
    vars.insert("x".to_owned(), cel::Value::Int(42));
    vars.insert("name".to_owned(), cel::Value::from("Margaret"));
    vars.insert("profile.orders.count".to_owned(), cel::Value::Int(i64::MAX));
    let item = |id: &str, price: f64, tags: &[&str]| {
        let mut m = BTreeMap::new();
        m.insert(cel::Key::String("id".into()), cel::Value::from(id));
        m.insert(cel::Key::String("price".into()), cel::Value::Double(price));
        m.insert(cel::Key::String("tags".into()), cel::Value::from(tags.iter().map(|t| cel::Value::from(*t)).collect::<Vec<_>>()));
        m.insert(cel::Key::Int(1), cel::Value::Uint(7));
        cel::Value::from(m)
    };
    vars.insert("items".to_owned(), cel::Value::from(vec![item("mug-1", 5.0, &["kitchen", "red"]), item("bag-1", 4.99, &[]), item("é", f64::NAN, &["x"])]));
    vars.insert("now".to_owned(), cel::Value::Timestamp(cel::Timestamp::new(NOW, 123_456_789).expect("in range")));
    vars
}

/// Declarations matching [`activation`], for the type-checked compile.
fn decls() -> cel::Decls {
    use cel::Type;
    cel::Decls::new()
        .var("x", Type::Int)
        .var("name", Type::String)
        .var("profile.orders.count", Type::Int)
        .var("items", Type::List(Box::new(Type::Map(Box::new(Type::Dyn), Box::new(Type::Dyn)))))
        .var("now", Type::Timestamp)
}
