//! The `vitrine` command's input readers and output staging, as a library so that fuzz targets
//! and tests reach the same code the binary runs.
//!
//! [`input`] reads every input format the CLI takes (order exports, interactions, histories,
//! traits, exposures and conversions; gzipped or not) into the engine's types, with
//! `file:line:col` errors of type [`input::InputError`] (the binary's exit code 2). [`output`]
//! stages every file a command writes beside its target and renames it into place only when the
//! whole command has succeeded, so a failure or an interruption leaves no partial output:
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! let lines = vitrine_cli::input::read_orders(std::path::Path::new("orders.csv.gz"))?;
//! let mut out = vitrine_cli::output::Outputs::new();
//! out.write(std::path::Path::new("count.txt"), lines.len().to_string().as_bytes())?;
//! out.commit()?; // dropped uncommitted, nothing would have been written
//! # Ok(()) }
//! ```

pub mod input;
pub mod output;
