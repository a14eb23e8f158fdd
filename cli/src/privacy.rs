//! `vitrine privacy export|delete`: a data subject's requests against the profile store, through
//! the files a shop fills Workers KV from (`vitrine profiles` JSON lines, `vitrine kv-bulk`'s bulk
//! file) and the wrangler commands that reach the live namespace.
//!
//! Export prints every stored snapshot of the ids asked for (one JSON line each, as stored).
//! Delete rewrites the files without them (atomically, like every command) and writes or prints
//! what removes them from the live store: `wrangler kv key delete` per key, or a key list for
//! `wrangler kv bulk delete` (a JSON array of key strings). An id that is nowhere is an error
//! (exit 2), so a typo never passes for a completed request.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use vitrine_engine::ProfileSnapshot;

use crate::input::InputError;
use vitrine_cli::output::Outputs;

#[derive(clap::Subcommand)]
pub enum Privacy {
    /// Print the stored snapshot of each --id (JSON lines, from --kv-bulk or --profiles).
    Export {
        #[command(flatten)]
        store: Store,
    },
    /// Remove each --id from --kv-bulk and --profiles, and print how to delete it from Workers KV.
    Delete {
        #[command(flatten)]
        store: Store,
        /// Also write the KV keys to delete as a `wrangler kv bulk delete` file.
        #[arg(long)]
        delete_list: Option<PathBuf>,
        /// The KV binding in the printed wrangler commands.
        #[arg(long, default_value = "PROFILES")]
        binding: String,
    },
}

#[derive(clap::Args)]
pub struct Store {
    /// A customer id (the snapshot's `id`; its KV key is `profile:<id>`). Repeat for several.
    #[arg(long = "id", required = true)]
    ids: Vec<String>,
    /// The bulk file `vitrine kv-bulk` wrote (what `wrangler kv bulk put` uploads).
    #[arg(long)]
    kv_bulk: Option<PathBuf>,
    /// The snapshots `vitrine profiles` wrote (JSON lines), which the next `kv-bulk` reads.
    #[arg(long)]
    profiles: Option<PathBuf>,
}

/// The KV key of a customer's snapshot (what the edge reads).
fn key(id: &str) -> String {
    format!("profile:{id}")
}

/// A bulk file's entries, in order: `[{"key", "value"}, ...]`.
fn read_bulk(path: &Path) -> anyhow::Result<Vec<serde_json::Value>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| InputError(format!("{}:{}:{}: {e}", path.display(), e.line(), e.column())))?;
    match doc {
        serde_json::Value::Array(entries) if entries.iter().all(|e| e["key"].is_string() && e["value"].is_string()) => Ok(entries),
        _ => Err(InputError(format!("{}: expected a KV bulk file, a JSON array of {{\"key\", \"value\"}} strings", path.display())).into()),
    }
}

/// A profiles file's lines with their snapshot ids (blank lines dropped).
fn read_profiles(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let p = ProfileSnapshot::from_json(line).map_err(|e| InputError(format!("{}:{}:{}: {}", path.display(), i + 1, e.column, e.describe())))?;
        out.push((p.id, line.to_owned()));
    }
    Ok(out)
}

impl Privacy {
    pub fn run(self) -> anyhow::Result<()> {
        let (Privacy::Export { store } | Privacy::Delete { store, .. }) = &self;
        if store.kv_bulk.is_none() && store.profiles.is_none() {
            return Err(InputError("give the store: --kv-bulk FILE and/or --profiles FILE".into()).into());
        }
        if let Some(id) = store.ids.iter().find(|id| id.is_empty()) {
            return Err(InputError(format!("--id: expected a customer id, found {id:?}")).into());
        }
        let keys: Vec<String> = store.ids.iter().map(|id| key(id)).collect();
        let bulk = store.kv_bulk.as_deref().map(read_bulk).transpose()?;
        let profiles = store.profiles.as_deref().map(read_profiles).transpose()?;
        let in_bulk = |k: &str| bulk.iter().flatten().any(|e| e["key"] == k);
        let in_profiles = |id: &str| profiles.iter().flatten().any(|(p, _)| p == id);
        let missing: Vec<&str> = store.ids.iter().filter(|id| !in_bulk(&key(id)) && !in_profiles(id)).map(String::as_str).collect();
        if !missing.is_empty() {
            return Err(InputError(format!("no stored profile for {}", missing.join(", "))).into());
        }
        match &self {
            Privacy::Export { .. } => {
                // Each id once: the bulk file's value (what the edge serves), else the profiles line.
                let mut out = String::new();
                for id in &store.ids {
                    let value = bulk.iter().flatten().find(|e| e["key"] == key(id).as_str()).and_then(|e| e["value"].as_str());
                    let line = value.or_else(|| profiles.iter().flatten().find(|(p, _)| p == id).map(|(_, l)| l.as_str()));
                    out.extend(line.map(|l| format!("{l}\n")));
                }
                std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes())?;
            }
            Privacy::Delete { delete_list, binding, .. } => {
                // Every rewritten file and the key list are committed together, or none of them.
                let mut out = Outputs::new();
                let mut said = Vec::new();
                if let (Some(path), Some(entries)) = (&store.kv_bulk, bulk) {
                    let kept: Vec<_> = entries.into_iter().filter(|e| !keys.iter().any(|k| e["key"] == k.as_str())).collect();
                    out.write(path, serde_json::to_string(&kept)?.as_bytes())?;
                    said.push(format!("vitrine: {} KV entries left -> {}", kept.len(), path.display()));
                }
                if let (Some(path), Some(lines)) = (&store.profiles, profiles) {
                    let kept: Vec<_> = lines.into_iter().filter(|(id, _)| !store.ids.contains(id)).collect();
                    let text: String = kept.iter().map(|(_, l)| format!("{l}\n")).collect();
                    out.write(path, text.as_bytes())?;
                    said.push(format!("vitrine: {} profiles left -> {}", kept.len(), path.display()));
                }
                if let Some(path) = delete_list {
                    out.write(path, serde_json::to_string(&keys)?.as_bytes())?;
                }
                out.commit()?;
                for line in said {
                    eprintln!("{line}");
                }
                if let Some(path) = delete_list {
                    println!("wrangler kv bulk delete --binding {binding} --remote --force {}", shell_word(&path.display().to_string()));
                } else {
                    for k in &keys {
                        println!("wrangler kv key delete --binding {binding} --remote {}", shell_word(k));
                    }
                }
            }
        }
        Ok(())
    }
}

/// `s` as one POSIX shell word: as is when it holds only safe characters, else single-quoted.
fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/=@+,".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
