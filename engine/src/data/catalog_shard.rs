//! Catalog shards: the browser loads only the product entries its page needs.
//!
//! `vitrine bundle --shards N` splits the catalog as it splits the model (`shard.rs`), with the same
//! hash ([`shard_of`]) and count:
//!
//! - the browser bundle's catalog is a *head*: the products the popular and trending fallbacks
//!   start with, and `"shards": {"count": N, "base": "c-<hash>/"}`. It stays the same size
//!   whatever the catalog's;
//! - `<base><s>.json` is a catalog document (`{"v": 1, "products": [...]}`) with exactly the
//!   products whose shard is `s`;
//! - `<base>s<s>.json` holds those products' content neighbours, computed at bundle time from the
//!   whole catalog: `{"v": 1, "similar": [["<id>", "<neighbour id>", ...], ...]}`, at most
//!   [`crate::data::catalog::SIMILAR_ROW`] each, best first — what `similar` recommends from
//!   in every runtime, so the browser never scans a catalog it does not have.
//!
//! A partial catalog answers lookups of unloaded products with `None` and notes the file that
//! holds them ([`Catalog::take_missing`]); the runtime fetches those files, adds them and decides
//! again, until a decision misses nothing. A decision that missed nothing is the full catalog's
//! decision: every entry it read is the full catalog's entry, and similar rows are the full
//! catalog's rows. A file that fails to load is skipped ([`Catalog::add_shard`] with empty text): its products
//! stay unknown (left out of recommendations, no category for lists), and the page is never broken.

use crate::base::error::FormatError;
#[cfg(feature = "full-bundle")]
use crate::base::shard_layout::{content_hash, ShardFile};
use crate::base::shard_layout::{shard_of, ShardLayout};
use crate::cel::Quoted;
use crate::data::catalog::{file_name, parse_name, Catalog, Part, SIMILAR_ROW};
#[cfg(feature = "full-bundle")]
use crate::data::catalog::{similar, CatalogSharding, Product};

impl Catalog {
    /// The layout of a partial catalog's shards; `None` for a full catalog.
    pub fn shard_layout(&self) -> Option<&ShardLayout> {
        self.sharding.as_ref().map(|s| &s.layout)
    }

    /// Whether `id` is unknown only because its shard is not loaded yet (always false for a full
    /// catalog, and once the shard is loaded or skipped).
    pub fn pending(&self, id: &str) -> bool {
        self.sharding.as_ref().is_some_and(|s| !self.by_id_contains(id) && s.pending(id))
    }

    /// Whether the similar row of `id` is still to be loaded (always false for a full catalog).
    pub fn similar_pending(&self, id: &str) -> bool {
        self.sharding.as_ref().is_some_and(|s| !s.is_loaded(Part::Similar, shard_of(id, s.layout.count)))
    }

    /// The files (relative to the layout's base) that lookups since the last call needed and that
    /// are not loaded, in the order they were first needed, without repeats; and forgets them.
    /// Always empty for a full catalog.
    pub fn take_missing(&self) -> Vec<String> {
        let Some(s) = &self.sharding else { return Vec::new() };
        let log = s.missed.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
        // Loops, not `collect()`: each of those is its own function in the browser's Wasm.
        let mut out = Vec::new();
        for (p, n) in log {
            if !s.is_loaded(p, n) {
                out.push(file_name(p, n));
            }
        }
        out
    }

    /// The product files holding `ids` that are not loaded yet, sorted, without repeats: for
    /// runtimes that know ahead which entries a page reads (the products of a purchase event).
    pub fn missing_products<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let Some(s) = &self.sharding else { return Vec::new() };
        let mut shards = Vec::new();
        for id in ids.into_iter().filter(|id| !self.by_id_contains(id)) {
            let n = shard_of(id, s.layout.count);
            if !s.is_loaded(Part::Products, n) {
                shards.push(n);
            }
        }
        crate::sort::sort_dedup(&mut shards);
        let mut out = Vec::with_capacity(shards.len());
        for n in shards {
            out.push(file_name(Part::Products, n));
        }
        out
    }

    /// Adds the file `name` (as [`Catalog::take_missing`] names it) to a partial catalog. Every
    /// product or row in it must belong to that shard; loading a file twice is a no-op. On error
    /// the catalog is unchanged. Empty text gives up on the file (its fetch failed): its products
    /// stay unknown and its rows empty, and no lookup asks for it again.
    pub fn add_shard(&mut self, name: &str, text: &str) -> Result<(), FormatError> {
        let (part, shard) = self.shard_named(name)?;
        let Some(sh) = &mut self.sharding else { return Ok(()) };
        if text.is_empty() {
            sh.set_loaded(part, shard);
            return Ok(());
        }
        if sh.is_loaded(part, shard) {
            return Ok(());
        }
        let count = sh.layout.count;
        let misplaced = |id: &str| FormatError::rule("catalog", "shards", format!("{} belongs to shard {}, found in {name}", Quoted(id), shard_of(id, count)));
        match part {
            Part::Products => {
                let part = Catalog::from_json(text)?;
                if part.sharding.is_some() {
                    return Err(FormatError::rule("catalog", "shards", format!("{name} is a catalog head, not a shard")));
                }
                if let Some(p) = part.products.iter().find(|p| shard_of(&p.id, count) != shard) {
                    return Err(misplaced(&p.id));
                }
                self.extend(part.products);
            }
            Part::Similar => {
                // A shard of similar rows: each row is the product's id, then its neighbours.
                let similar = crate::base::json::read("catalog", text, |at| {
                    let o = at.obj(&["v", "similar"])?;
                    o.req_version()?;
                    o.req("similar", |x| x.items(|r| r.strings()))
                })?;
                for (i, row) in similar.iter().enumerate() {
                    let Some((id, others)) = row.split_first() else {
                        return Err(FormatError::rule("catalog", format!("similar[{i}]"), "expected an id and its neighbours, found []"));
                    };
                    if shard_of(id, count) != shard {
                        return Err(misplaced(id));
                    }
                    if others.len() > SIMILAR_ROW || others.iter().any(|r| r.is_empty() || r == id) {
                        return Err(FormatError::rule(
                            "catalog",
                            format!("similar[{i}]"),
                            format!("expected at most {SIMILAR_ROW} other non-empty ids after {}", Quoted(id)),
                        ));
                    }
                }
                if let Some(sh) = &mut self.sharding {
                    sh.similar.extend(similar);
                }
            }
        }
        if let Some(sh) = &mut self.sharding {
            sh.set_loaded(part, shard);
        }
        Ok(())
    }

    fn shard_named(&self, name: &str) -> Result<(Part, u32), FormatError> {
        let Some(sh) = &self.sharding else {
            return Err(FormatError::rule("catalog", "shards", "expected a catalog head, found a full catalog"));
        };
        parse_name(name).filter(|&(_, s)| s < sh.layout.count).ok_or_else(|| {
            FormatError::rule("catalog", "shards", format!("{} is not one of this catalog's shards ({} of each kind)", Quoted(name), sh.layout.count))
        })
    }

    fn by_id_contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Splits a full catalog into a head holding the products `head` names (the start of the
    /// popular and trending rankings, which fill every widget) and its shard files, named relative
    /// to the shards' directory (`c-<hash>/`, after the catalog's content): `count` files of
    /// products and `count` of similar rows. Computing every product's similar row is the costly
    /// part (on every core; about a millisecond a product at 100,000 products).
    #[cfg(feature = "full-bundle")]
    pub fn split<'a>(&self, count: u32, head: impl IntoIterator<Item = &'a str>) -> Result<(Catalog, Vec<ShardFile>), FormatError> {
        if self.sharding.is_some() {
            return Err(FormatError::rule("catalog", "shards", "expected a full catalog, found a catalog head"));
        }
        // The rows depend on the catalog and on how they are computed: both name the directory.
        let base = format!("c-{}/", content_hash(format!("similar {SIMILAR_ROW} v1\n{}", self.to_json()).as_bytes()));
        let layout = ShardLayout::new(count, base, false)?;
        let products = self.products();
        let rows: Vec<Vec<&str>> = crate::base::par::par_map(products.len(), |i| similar(self, &products[i]));
        let mut owned: Vec<Vec<usize>> = vec![Vec::new(); count as usize];
        for (i, p) in products.iter().enumerate() {
            owned[shard_of(&p.id, count) as usize].push(i);
        }
        let mut files = Vec::with_capacity(2 * owned.len());
        for (s, members) in owned.iter().enumerate() {
            let entries: Vec<Product> = members.iter().map(|&i| products[i].clone()).collect();
            let mut doc = Catalog::default();
            doc.products = entries;
            files.push((file_name(Part::Products, s as u32), doc.to_json().into_bytes()));
            let similar: Vec<Vec<&str>> = members.iter().map(|&i| std::iter::once(products[i].id.as_str()).chain(rows[i].iter().copied()).collect()).collect();
            let text = serde_json::to_string(&serde_json::json!({"v": 1, "similar": similar})).unwrap_or_default();
            files.push((file_name(Part::Similar, s as u32), text.into_bytes()));
        }
        let mut seen = Vec::new();
        let mut head_products = Vec::new();
        for id in head {
            if let Some(p) = self.get(id).filter(|_| !seen.contains(&id)) {
                seen.push(id);
                head_products.push(p.clone());
            }
        }
        let mut head = Catalog::new(head_products)?;
        head.sharding = Some(CatalogSharding::new(layout));
        Ok((head, files))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn catalog() -> Catalog {
        const WORDS: [&str; 8] = ["mug", "candle", "heart", "vintage", "lantern", "tin", "red", "star"];
        let products: Vec<String> = (0..60usize)
            .map(|i| {
                let title: Vec<&str> = (0..1 + i % 3).map(|k| WORDS[(i * 5 + k * 3) % WORDS.len()]).collect();
                format!(
                    r#"{{"id":"p{i}","title":"{} {i}","link":"/p/{i}","price":"1.00 GBP","product_type":"{}"}}"#,
                    title.join(" "),
                    ["Kitchen", "Candles", "Garden"][i % 3]
                )
            })
            .collect();
        Catalog::from_json(&format!(r#"{{"v":1,"products":[{}]}}"#, products.join(","))).unwrap()
    }

    type Files = HashMap<String, String>;

    fn head_json(c: &Catalog, count: u32, head: &[&str]) -> (Catalog, Files) {
        let (h, files) = c.split(count, head.iter().copied()).unwrap();
        // The head travels as JSON inside the browser's bundle.
        (Catalog::from_json(&h.to_json()).unwrap(), files.into_iter().map(|(n, b)| (n, String::from_utf8(b).unwrap())).collect())
    }

    /// Looks up until nothing is missing, as the runtimes do.
    fn settle(head: &mut Catalog, files: &Files, look: impl Fn(&Catalog)) -> usize {
        for round in 0..10 {
            look(head);
            let missing = head.take_missing();
            if missing.is_empty() {
                return round;
            }
            for name in missing {
                head.add_shard(&name, &files[&name]).unwrap();
            }
        }
        panic!("never settled")
    }

    #[test]
    fn a_partial_catalog_answers_as_the_full_one_once_settled() {
        let c = catalog();
        for count in [1, 7, 64] {
            let (mut head, files) = head_json(&c, count, &["p3", "p4", "p3", "nope"]);
            assert_eq!(files.len(), 2 * count as usize);
            assert_eq!(head.len(), 2, "the named products, once");
            assert!(head.get("p3").is_some() && head.take_missing().is_empty(), "head products need no file");
            assert!(head.get("p10").is_none());
            assert!(head.pending("p10"));
            assert_eq!(head.take_missing(), vec![format!("{}.json", shard_of("p10", count))]);
            assert!(head.take_missing().is_empty(), "taken once");
            for p in c.products() {
                settle(&mut head, &files, |h| {
                    h.get(&p.id);
                    for id in h.similar_to(&p.id) {
                        h.get(id);
                    }
                });
                assert_eq!(head.get(&p.id), Some(p));
                assert_eq!(head.similar_to(&p.id), c.similar_to(&p.id), "{} with {count} shards", p.id);
                assert!(!head.pending(&p.id));
            }
            // An unknown id, once its shard is loaded, is simply unknown.
            settle(&mut head, &files, |h| {
                h.get("nope");
            });
            assert!(head.get("nope").is_none() && !head.pending("nope") && head.take_missing().is_empty());
        }
    }

    #[test]
    fn rows_are_the_full_catalogs_and_bounded() {
        let c = catalog();
        let row = c.similar_to("p5");
        assert!(!row.is_empty() && row.len() <= SIMILAR_ROW && !row.contains(&"p5"));
        assert!(c.take_missing().is_empty(), "a full catalog misses nothing");
        assert!(c.missing_products(["p1", "x"]).is_empty());
    }

    #[test]
    fn wrong_corrupt_or_misplaced_files_are_errors_and_change_nothing() {
        let c = catalog();
        let (head, files) = head_json(&c, 4, &[]);
        let full = |s: u32| files[&format!("{s}.json")].clone();
        let nonempty = (0..4).find(|&s| full(s).contains("\"id\"")).unwrap();
        let other = (nonempty + 1) % 4;
        let mut h = head.clone();
        let e = h.add_shard(&format!("{other}.json"), &full(nonempty)).unwrap_err().to_string();
        assert!(e.contains("belongs to shard"), "{e}");
        let e = h.add_shard(&format!("s{other}.json"), &files[&format!("s{nonempty}.json")]).unwrap_err().to_string();
        assert!(e.contains("belongs to shard"), "{e}");
        assert!(h.add_shard(&format!("{nonempty}.json"), &full(nonempty)[..20]).is_err());
        assert!(h.add_shard(&format!("{nonempty}.json"), &head.to_json()).unwrap_err().to_string().contains("head"));
        for name in ["4.json", "s4.json", "01.json", "x1.json", "1", "", "0.vtm", "99999999999.json"] {
            assert!(h.add_shard(name, &full(0)).unwrap_err().to_string().contains("not one of"), "{name}");
        }
        let long: Vec<String> = (0..=SIMILAR_ROW).map(|i| format!("q{i}")).collect();
        let id = c.products().iter().find(|p| shard_of(&p.id, 4) == 0).unwrap().id.clone();
        let row: Vec<&str> = std::iter::once(id.as_str()).chain(long.iter().map(String::as_str)).collect();
        let bad = serde_json::json!({"v": 1, "similar": [row]}).to_string();
        assert!(h.add_shard("s0.json", &bad).unwrap_err().to_string().contains("at most"));
        assert!(h.add_shard("s0.json", r#"{"v":1,"similar":[[]]}"#).unwrap_err().to_string().contains("similar[0]"));
        assert_eq!(h.len(), head.len());
        assert!(h.get(&c.products()[0].id).is_none() && h.pending(&c.products()[0].id), "nothing was loaded");
        // A skipped file is never asked for again; its products stay unknown.
        let id = &c.products()[0].id;
        let name = format!("{}.json", shard_of(id, 4));
        h.add_shard(&name, "").unwrap();
        assert!(h.get(id).is_none() && !h.pending(id) && h.take_missing().is_empty());
        let mut full_catalog = c.clone();
        assert!(full_catalog.add_shard("0.json", &full(0)).is_err());
        assert!(head.split(2, []).is_err(), "a head cannot be split again");
    }

    #[test]
    fn shard_directories_name_the_catalogs_content() {
        let c = catalog();
        let (a, _) = c.split(4, []).unwrap();
        let base = a.shard_layout().unwrap().base.clone();
        assert!(base.starts_with("c-") && base.len() == 2 + 16 + 1, "{base}");
        assert_eq!(c.split(4, ["p1"]).unwrap().0.shard_layout().unwrap().base, base, "the head does not change the files");
        let mut products = c.products().to_vec();
        products[0].title.push_str(" changed");
        assert_ne!(Catalog::new(products).unwrap().split(4, []).unwrap().0.shard_layout().unwrap().base, base);
        let e = Catalog::from_json(r#"{"v":1,"products":[],"shards":{"count":0,"base":"c-1/"}}"#).unwrap_err();
        assert_eq!((e.format, e.field.as_str()), ("catalog", "shards.count"), "{e}");
        assert!(Catalog::from_json(r#"{"v":1,"products":[],"shards":{"count":2,"base":"../c/"}}"#).is_err());
    }
}
