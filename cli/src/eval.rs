//! `vitrine eval --expr EXPR [--vars FILE]`: one CEL expression, evaluated with the engine's
//! interpreter. A stable contract for outside tests:
//!
//! - FILE is a JSON object from variable name to value in the conformance suite's typed encoding
//!   (`{"int": "5"}`, `{"list": [...]}`, ...; engine/src/cel/value.rs, docs/cel.md);
//! - the result prints on stdout in the same encoding, exit 0;
//! - an evaluation error prints `{"error": "..."}` on stdout, exit 1;
//! - a parse or check error (or unreadable input) prints the located message on stderr, exit 2.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use vitrine_engine::cel::{Decls, Program, Type, Value};

pub fn run(expr: &str, vars: Option<&Path>) -> ExitCode {
    let bindings = match vars.map(read_vars).transpose() {
        Ok(b) => b.unwrap_or_default(),
        Err(msg) => {
            eprintln!("vitrine: error: {msg}");
            return ExitCode::from(2);
        }
    };
    // Every given variable is declared `dyn`: the checker still rejects undeclared names and
    // ill-typed literals, and leaves the rest to evaluation.
    let mut decls = Decls::new();
    for name in bindings.keys() {
        decls.insert(name.clone(), Type::Dyn);
    }
    let program = match Program::compile(expr, &decls) {
        Ok(p) => p,
        Err(errors) => {
            for e in &errors {
                eprintln!("{}", e.render(expr));
            }
            return ExitCode::from(2);
        }
    };
    match program.eval(&bindings) {
        Ok(value) => {
            println!("{}", value.to_typed_json());
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{}", serde_json::json!({ "error": e.to_string() }));
            ExitCode::from(1)
        }
    }
}

fn read_vars(path: &Path) -> Result<BTreeMap<String, Value>, String> {
    // Unreadable or not UTF-8: located as every other input (`file:line:col`).
    let text = vitrine_cli::input::read_text(path).map_err(|e| e.0)?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))?;
    let serde_json::Value::Object(map) = json else {
        return Err(format!("{}: expected a JSON object from variable name to typed value", path.display()));
    };
    map.iter()
        .map(|(name, v)| Value::from_typed_json(v).map(|v| (name.clone(), v)).map_err(|e| format!("{}: variable {name:?}: {e}", path.display())))
        .collect()
}
