//! Runs the official CEL conformance tests (the JSON conversion in `../shared/cel-conformance`,
//! or the folder named by `VITRINE_CEL_CONFORMANCE`) against `vitrine_engine::cel`, prints a
//! pass/fail table per file, and fails when a test fails that `cel_unsupported.txt` does not list,
//! or when a listed test passes (so the list stays true). It writes no files.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use serde_json::Value as Json;
use vitrine_engine::cel::{Decls, Program, Type, Value};

fn conformance_dir() -> PathBuf {
    match std::env::var_os("VITRINE_CEL_CONFORMANCE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/cel-conformance")),
    }
}

/// The expected-unsupported list: `file/section/test  # reason` per line. A test name that occurs
/// twice in one section gets `#2` appended for its second occurrence.
fn unsupported() -> BTreeMap<String, String> {
    let text = include_str!("cel_unsupported.txt");
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (id, reason) = line.split_once(" # ").unwrap_or_else(|| panic!("cel_unsupported.txt: no `  # reason` on {line:?}"));
        assert!(reason.trim().len() > 10, "cel_unsupported.txt: give a concrete reason for {id}");
        assert!(out.insert(id.trim().to_string(), reason.trim().to_string()).is_none(), "cel_unsupported.txt lists {id} twice");
    }
    out
}

/// Turns `"double": 1.38e-23` into `"double": "1.38e-23"` so the number reaches
/// `Value::from_typed_json` as text and is parsed by Rust's correctly rounded `f64` parser:
/// serde_json's default float parsing may be off by one unit in the last place.
fn quote_doubles(text: &str) -> String {
    const KEY: &str = "\"double\": ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let (before, after) = rest.split_at(at + KEY.len());
        out.push_str(before);
        let len = after.find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))).unwrap_or(after.len());
        if len > 0 {
            out.push_str(&format!("\"{}\"", &after[..len]));
        } else {
            out.push_str(&after[..len]);
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// Structural equality for results: the same types all the way down (an `int` result does not
/// match an expected `uint`), any NaN matches any NaN, `-0.0` equals `0.0`, maps ignore order.
fn same(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Double(a), Value::Double(b)) => a == b || (a.is_nan() && b.is_nan()),
        (Value::List(a), Value::List(b)) => a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| same(x, y)),
        (Value::Map(a), Value::Map(b)) => a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w))),
        _ => got == want,
    }
}

/// Runs one test; `Err` describes the failure.
fn run(test: &Json) -> Result<(), String> {
    let expr = test["expr"].as_str().unwrap();
    let mut vars = BTreeMap::new();
    for (name, v) in test["bindings"].as_object().unwrap() {
        vars.insert(name.clone(), Value::from_typed_json(v).map_err(|e| format!("binding {name}: {e}"))?);
    }
    let compiled = if test["disable_check"].as_bool().unwrap_or(false) {
        Program::compile_unchecked(expr)
    } else {
        let mut decls = Decls::new();
        for (name, ty) in test.get("type_env").and_then(Json::as_object).into_iter().flatten() {
            let ty = ty.as_str().and_then(Type::parse).ok_or_else(|| format!("type_env {name}: cannot parse {ty}"))?;
            decls.insert(name.clone(), ty);
        }
        Program::compile(expr, &decls)
    };
    let expected = &test["expected"];
    let result = match compiled {
        Ok(program) => program.eval(&vars).map_err(|e| e.render(expr)),
        Err(errors) => Err(errors.iter().map(|e| e.render(expr)).collect::<Vec<_>>().join("\n")),
    };
    if expected.get("error").is_some() {
        return match result {
            Err(_) => Ok(()),
            Ok(v) => Err(format!("expected an error, got {}", v.to_typed_json())),
        };
    }
    let want = Value::from_typed_json(expected).map_err(|e| format!("expected value: {e}"))?;
    match result {
        Ok(got) if same(&got, &want) => Ok(()),
        Ok(got) => Err(format!("expected {expected}, got {}", got.to_typed_json())),
        Err(e) => Err(format!("expected {expected}, got error:\n{e}")),
    }
}

#[test]
fn cel_conformance() {
    let dir = conformance_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("CEL conformance tests not found at {} (set VITRINE_CEL_CONFORMANCE); skipping", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    let unsupported = unsupported();
    let mut seen = HashSet::new();
    let (mut unexpected, mut now_passing) = (Vec::new(), Vec::new());
    let mut totals = [0usize; 4];
    println!("{:<14} {:>7} {:>7} {:>12} {:>6}", "file", "passed", "failed", "unsupported", "total");
    for path in &files {
        let file = path.file_stem().unwrap().to_string_lossy().to_string();
        let doc: Json = serde_json::from_str(&quote_doubles(&std::fs::read_to_string(path).unwrap())).unwrap();
        let mut counts = [0usize; 4]; // passed, failed, unsupported, total
        for section in doc["sections"].as_array().unwrap() {
            let section_name = section["name"].as_str().unwrap();
            let mut names_seen = BTreeMap::new();
            for test in section["tests"].as_array().unwrap() {
                let name = test["name"].as_str().unwrap();
                let n = names_seen.entry(name).and_modify(|n| *n += 1).or_insert(1);
                let id = if *n == 1 { format!("{file}/{section_name}/{name}") } else { format!("{file}/{section_name}/{name}#{n}") };
                seen.insert(id.clone());
                counts[3] += 1;
                match (run(test), unsupported.contains_key(&id)) {
                    (Ok(()), false) => counts[0] += 1,
                    (Ok(()), true) => {
                        counts[0] += 1;
                        now_passing.push(id);
                    }
                    (Err(_), true) => counts[2] += 1,
                    (Err(why), false) => {
                        counts[1] += 1;
                        unexpected.push(format!("{id}\n  expr: {}\n  {}", test["expr"].as_str().unwrap(), why.replace('\n', "\n  ")));
                    }
                }
            }
        }
        println!("{file:<14} {:>7} {:>7} {:>12} {:>6}", counts[0], counts[1], counts[2], counts[3]);
        for (t, c) in totals.iter_mut().zip(counts) {
            *t += c;
        }
    }
    println!("{:<14} {:>7} {:>7} {:>12} {:>6}", "total", totals[0], totals[1], totals[2], totals[3]);
    let stale: Vec<&String> = unsupported.keys().filter(|id| !seen.contains(*id)).collect();
    assert!(unexpected.is_empty(), "{} unexpected failures:\n{}", unexpected.len(), unexpected.join("\n"));
    assert!(now_passing.is_empty(), "listed as unsupported in cel_unsupported.txt but passing now; remove them:\n{}", now_passing.join("\n"));
    assert!(stale.is_empty(), "cel_unsupported.txt lists tests that do not exist: {stale:?}");
}

/// Every prefix and every suffix of every conformance expression (mostly broken syntax) compiles
/// to errors or a program, and evaluates to a value or an error: nothing panics.
#[test]
fn cel_conformance_fragments_never_panic() {
    let Ok(entries) = std::fs::read_dir(conformance_dir()) else {
        return;
    };
    let mut exprs = Vec::new();
    for path in entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "json")) {
        let doc: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for section in doc["sections"].as_array().unwrap() {
            for test in section["tests"].as_array().unwrap() {
                exprs.push(test["expr"].as_str().unwrap().to_string());
            }
        }
    }
    let decls = Decls::new().var("x", Type::Dyn);
    let vars: BTreeMap<String, Value> = [("x".to_string(), Value::Int(1))].into_iter().collect();
    for expr in &exprs {
        for (i, _) in expr.char_indices().skip(1) {
            for fragment in [&expr[..i], &expr[i..]] {
                if let Ok(program) = Program::compile_unchecked(fragment) {
                    let _ = program.eval_with_budget(&vars, 10_000);
                }
                if let Err(errors) = Program::compile(fragment, &decls) {
                    errors.iter().for_each(|e| drop(e.render(fragment)));
                }
            }
        }
    }
}
