//! How a sharded file set is laid out, for the model's shards (`recs::shard`) and the catalog's
//! (`data::catalog_shard`) alike: the hash that picks the shard of a row ([`shard_of`]), the
//! files' names, the layout (`{"count": N, "base": "m-<hash>/"}`) and which shards are loaded.
//! docs/formats.md documents the names and the hash.

use serde::Serialize;

use crate::base::error::FormatError;
use crate::base::json::{At, R};
use crate::cel::Quoted;

/// Where a sharded model's files live and which tables they hold: enough to name the files a
/// request needs. The browser's partial model has one; so does the edge's bundle, to tell the
/// browser which shards to preload while the page is still streaming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardLayout {
    pub count: u32,
    /// Directory of the files, relative to the bundle: `m-<hash>/`.
    pub base: String,
    /// Whether the model has "also viewed" rows (and so `v<s>.vtm` files).
    pub views: bool,
}

impl ShardLayout {
    pub fn new(count: u32, base: String, views: bool) -> Result<ShardLayout, FormatError> {
        if count == 0 || count > MAX_SHARDS {
            return Err(FormatError::rule("model", "shards.count", format!("expected 1 to {MAX_SHARDS}, found {count}")));
        }
        if !is_safe_base(&base) {
            return Err(FormatError::rule(
                "model",
                "shards.base",
                format!("expected a relative path of letters, digits, '-', '_' and '/', ending in '/', found {}", Quoted(&base)),
            ));
        }
        Ok(ShardLayout { count, base, views })
    }

    /// The shards holding the rows in `needs`, sorted, without repeats. Rows of a table the model
    /// does not have need no file.
    pub(crate) fn shards<'a>(&self, needs: impl IntoIterator<Item = (&'a str, Table)>) -> Vec<(Table, u32)> {
        // A loop, not `collect()`: that is its own function in the browser's Wasm.
        let mut out = Vec::new();
        for (id, t) in needs {
            if t == Table::Bought || self.views {
                out.push((t, shard_of(id, self.count)));
            }
        }
        crate::sort::sort_dedup(&mut out);
        out
    }

    /// The files (relative to [`ShardLayout::base`]) holding the rows in `needs`, sorted, without repeats.
    pub fn files<'a>(&self, needs: impl IntoIterator<Item = (&'a str, Table)>) -> Vec<String> {
        self.shards(needs).into_iter().map(|(t, s)| shard_name(t, s)).collect()
    }
}

/// A partial model's layout and which of its shards are loaded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sharding {
    pub layout: ShardLayout,
    /// Loaded shards: interaction rows, then view rows.
    loaded: Vec<bool>,
}

impl Sharding {
    pub(crate) fn slot(&self, table: Table, shard: u32) -> usize {
        shard as usize + if table == Table::Viewed { self.layout.count as usize } else { 0 }
    }

    pub(crate) fn is_loaded(&self, table: Table, shard: u32) -> bool {
        self.loaded[self.slot(table, shard)]
    }

    pub(crate) fn set_loaded(&mut self, table: Table, shard: u32) {
        let at = self.slot(table, shard);
        self.loaded[at] = true;
    }

    pub fn new(layout: ShardLayout) -> Sharding {
        let loaded = vec![false; 2 * layout.count as usize];
        Sharding { layout, loaded }
    }
}

/// More shards than this would be more files than items for any catalog we serve.
pub const MAX_SHARDS: u32 = 1 << 20;

/// A shard base is joined to the bundle's URL by the loader: keep it a plain relative path.
fn is_safe_base(base: &str) -> bool {
    !base.is_empty()
        && base.ends_with('/')
        && !base.starts_with('/')
        && base.split('/').all(|seg| seg != "." && seg != "..")
        && base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'/')
}

/// The shard that holds `id`'s row: FNV-1a (32-bit) of the id's UTF-8 bytes, modulo `count`.
/// Stable across versions and runtimes; documented in docs/formats.md.
pub fn shard_of(id: &str, count: u32) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in id.as_bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % count.max(1)
}

/// FNV-1a (64-bit) of `bytes` as 16 hex digits: names the directory of a model's shards.
pub fn content_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Which neighbour table a row belongs to: each has its own shard files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// Interaction neighbours: also_bought, for_you (`<s>.vtm`).
    Bought,
    /// View neighbours: also_viewed (`v<s>.vtm`).
    Viewed,
}

impl Table {
    /// Its name in messages (`Bought`, `Viewed`), written without `Debug`'s formatting machinery.
    pub fn name(self) -> &'static str {
        match self {
            Table::Bought => "Bought",
            Table::Viewed => "Viewed",
        }
    }
}

/// A shard's file name, relative to the base: `<s>.vtm`, or `v<s>.vtm` for "also viewed" rows.
pub fn shard_name(table: Table, shard: u32) -> String {
    match table {
        Table::Bought => format!("{shard}.vtm"),
        Table::Viewed => format!("v{shard}.vtm"),
    }
}

pub(crate) fn parse_name(name: &str) -> Option<(Table, u32)> {
    parse_shard_name(name, 'v', ".vtm").map(|(viewed, s)| (if viewed { Table::Viewed } else { Table::Bought }, s))
}

/// A shard file name `<s><ext>` or `<prefix><s><ext>` (the second table's): whether it has the
/// prefix, and `s` (decimal, no leading zeros). For the model's files and the catalog's.
pub(crate) fn parse_shard_name(name: &str, prefix: char, ext: &str) -> Option<(bool, u32)> {
    let stem = name.strip_suffix(ext)?;
    let (prefixed, digits) = match stem.strip_prefix(prefix) {
        Some(d) => (true, d),
        None => (false, stem),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    Some((prefixed, digits.parse().ok()?))
}

/// A shard file: its name relative to the shards' directory, and its bytes.
pub type ShardFile = (String, Vec<u8>);

impl ShardsDoc {
    pub(crate) fn read(at: At) -> R<ShardsDoc> {
        let o = at.obj(&["count", "base", "views"])?;
        Ok(ShardsDoc { count: o.req_u32("count")?, base: o.req_string("base")?, views: o.or_bool("views")? })
    }

    pub fn of(l: &ShardLayout) -> ShardsDoc {
        ShardsDoc { count: l.count, base: l.base.clone(), views: l.views }
    }

    /// The layout a JSON model head or an edge bundle's `browser_shards` names (builds that load
    /// full bundles only: the browser's production build reads neither).
    #[cfg(feature = "full-bundle")]
    pub fn layout(self) -> Result<ShardLayout, FormatError> {
        ShardLayout::new(self.count, self.base, self.views)
    }
}

/// A [`ShardLayout`] in JSON: in a shard head, and in an edge bundle.
#[derive(Serialize)]
pub(crate) struct ShardsDoc {
    pub count: u32,
    pub base: String,
    /// `v<s>.vtm` files with "also viewed" rows exist.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub views: bool,
}
