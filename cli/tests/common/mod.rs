//! What every CLI test file runs the binary with: the command, its fixtures and a scratch folder.
#![allow(dead_code, clippy::unwrap_used)] // each test file uses its share; a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `vitrine` binary built for this test run.
pub fn vitrine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vitrine")).args(args).output().unwrap()
}

/// A file of cli/tests/data.
pub fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name).display().to_string()
}

/// A fresh, empty directory for one test, named after the test file, the process and `name`.
pub fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vitrine-{}-{}-{name}", env!("CARGO_CRATE_NAME"), std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
