//! The engine's dependency direction (ARCHITECTURE.md, "Invariants"): its source is grouped by
//! concern into layers, and a layer names only the layers below it, never one above. Sibling
//! modules do not name each other in a cycle either (a layer's `mod.rs` and its own children are
//! one module, split in files, and exempt). Checked by reading the source: every `crate::` path,
//! in code and in doc links alike, and every `super::` path that climbs out of a layer.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bottom to top. `cel` and `sort` are another crate's, re-exported; any layer may name them.
const LAYERS: [&str; 6] = ["base", "data", "recs", "rules", "decide", "analytics"];
const ANY_LAYER: [&str; 2] = ["cel", "sort"];

/// A source file: its layer, its module within the layer (`None` for the layer's `mod.rs`) and its text.
struct File {
    /// Relative to `engine/src/`.
    path: String,
    layer: String,
    module: Option<String>,
    text: String,
}

fn files() -> Vec<File> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            assert_eq!(path.file_name().unwrap(), "lib.rs", "engine/src holds lib.rs and the layer directories only, found {}", path.display());
            continue;
        }
        let layer = path.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(LAYERS.contains(&layer.as_str()), "engine/src/{layer} is not a layer: add it to LAYERS in engine/tests/layers.rs, in order");
        for f in std::fs::read_dir(&path).unwrap() {
            let f = f.unwrap().path();
            assert!(f.is_file() && f.extension().is_some_and(|e| e == "rs"), "one level of files per layer: {}", f.display());
            let stem = f.file_stem().unwrap().to_str().unwrap().to_owned();
            let module = (stem != "mod").then_some(stem);
            out.push(File {
                path: format!("{layer}/{}", f.file_name().unwrap().to_str().unwrap()),
                layer: layer.clone(),
                module,
                text: std::fs::read_to_string(&f).unwrap(),
            });
        }
    }
    assert!(out.len() > 20, "read the engine's source");
    out
}

/// The identifiers after each occurrence of `prefix` (`crate::rules::site::X` gives `rules`,
/// `site`), with the line number. `crate::{a, b}` is refused: name one path at a time.
fn paths<'t>(text: &'t str, prefix: &str) -> Vec<(usize, Vec<&'t str>)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().next_back();
            rest = &rest[i + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let mut segs = Vec::new();
            let mut s = rest;
            loop {
                let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
                if end == 0 {
                    break;
                }
                segs.push(&s[..end]);
                match s[end..].strip_prefix("::") {
                    Some(next) => s = next,
                    None => break,
                }
            }
            out.push((n + 1, segs));
        }
    }
    out
}

fn rank(layer: &str) -> usize {
    LAYERS.iter().position(|l| *l == layer).unwrap()
}

/// What a file names, as the layers' words: every violation, and every edge to another module.
fn check(files: &[File]) -> (Vec<String>, BTreeSet<(String, String)>) {
    let modules: BTreeSet<(String, String)> = files.iter().filter_map(|f| Some((f.layer.clone(), f.module.clone()?))).collect();
    let name = |layer: &str, module: Option<&str>| module.map_or(layer.to_owned(), |m| format!("{layer}::{m}"));
    let mut errors = Vec::new();
    let mut edges = BTreeSet::new();
    for f in files {
        let me = name(&f.layer, f.module.as_deref());
        let mut target = |line: usize, layer: &str, next: Option<&str>, errors: &mut Vec<String>| {
            if rank(layer) > rank(&f.layer) {
                errors.push(format!("engine/src/{}: line {line} names `crate::{layer}`, a higher layer than `{}`", f.path, f.layer));
            }
            let module = next.filter(|m| modules.contains(&(layer.to_owned(), (*m).to_owned())));
            let to = name(layer, module);
            // A layer's children may use their `mod.rs`: one module in several files.
            let child_to_parent = module.is_none() && layer == f.layer && f.module.is_some();
            if to != me && !child_to_parent {
                edges.insert((me.clone(), to));
            }
        };
        for (line, segs) in paths(&f.text, "crate::") {
            match segs.first().copied() {
                Some(l) if LAYERS.contains(&l) => target(line, l, segs.get(1).copied(), &mut errors),
                Some(l) if ANY_LAYER.contains(&l) => {}
                other => errors.push(format!(
                    "engine/src/{}: line {line} names `crate::{}`: name a layer's path (`crate::<layer>::<module>`), never a root re-export",
                    f.path,
                    other.unwrap_or("{")
                )),
            }
        }
        for (line, segs) in paths(&f.text, "super::") {
            // `super::` in a layer's file is the layer's `mod.rs` (or, in a `mod tests`, the file).
            if segs.first() == Some(&"super") {
                errors.push(format!("engine/src/{}: line {line} climbs with `super::super`: name `crate::<layer>` instead", f.path));
            }
        }
    }
    (errors, edges)
}

/// A cycle in `edges`, if there is one, as the modules along it.
fn cycle(edges: &BTreeSet<(String, String)>) -> Option<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges {
        next.entry(a).or_default().push(b);
    }
    // 0 unvisited, 1 on the path, 2 done.
    fn visit<'a>(n: &'a str, next: &BTreeMap<&'a str, Vec<&'a str>>, state: &mut BTreeMap<&'a str, u8>, path: &mut Vec<&'a str>) -> Option<Vec<String>> {
        match state.get(n).copied().unwrap_or(0) {
            1 => {
                let from = path.iter().position(|p| *p == n).unwrap();
                return Some(path[from..].iter().chain([&n]).map(|s| (*s).to_owned()).collect());
            }
            2 => return None,
            _ => {}
        }
        state.insert(n, 1);
        path.push(n);
        for m in next.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, next, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n, 2);
        None
    }
    let mut state = BTreeMap::new();
    next.keys().find_map(|n| visit(n, &next, &mut state, &mut Vec::new()))
}

#[test]
fn lower_layers_never_name_higher_ones() {
    let (errors, _) = check(&files());
    assert!(errors.is_empty(), "the engine's layers run base → data → recs → rules → decide → analytics:\n{}", errors.join("\n"));
}

#[test]
fn modules_name_each_other_without_cycles() {
    let (_, edges) = check(&files());
    if let Some(c) = cycle(&edges) {
        panic!("a dependency cycle between the engine's modules: {}", c.join(" → "));
    }
}

#[test]
fn the_check_sees_what_it_must_refuse() {
    let file = |layer: &str, module: &str, text: &str| File {
        path: format!("{layer}/{module}.rs"),
        layer: layer.into(),
        module: Some(module.into()),
        text: text.into(),
    };
    let (errors, _) = check(&[file("data", "catalog", "use crate::decide::Context;\n/// See [`crate::analytics::kpis`].")]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    let (errors, _) = check(&[file("base", "json", "use crate::Bundle;\nuse crate::{base, data};\nuse super::super::x;")]);
    assert_eq!(errors.len(), 3, "{errors:?}");
    let (errors, edges) = check(&[
        file("rules", "site", "use crate::rules::condition::Condition; use crate::base::time::Seconds; use crate::cel::Value;"),
        file("rules", "condition", "use crate::rules::site::Named;"),
    ]);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(cycle(&edges).is_some(), "{edges:?}");
}
