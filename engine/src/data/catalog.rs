//! The product catalog, in Google Merchant Center feed field names, read from JSON or TSV.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use serde::Serialize;

use crate::base::error::{FormatError, FormatErrorKind, V1};
use crate::base::json::{At, R};
use crate::base::shard_layout::{parse_shard_name, shard_of, ShardLayout, ShardsDoc};
use crate::cel::Quoted;

/// One product. Strings are shop data: runtimes render them as text, never as HTML.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub id: String,
    pub title: String,
    pub link: Url,
    pub price: Price,
    #[serde(default)]
    pub availability: Availability,
    #[serde(default)]
    pub product_type: String,
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub image_link: Option<Url>,
}

impl Product {
    pub(crate) fn read(at: At) -> R<Product> {
        let o = at.obj(&["id", "title", "link", "price", "availability", "product_type", "brand", "image_link"])?;
        let url = |x: At| {
            let s = x.str()?;
            Url::parse(s).ok_or_else(|| x.invalid(format!("expected a relative or http(s) URL, found {}", Quoted(s))))
        };
        Ok(Product {
            id: o.req_string("id")?,
            title: o.req_string("title")?,
            link: o.req("link", url)?,
            price: o.req("price", |x| {
                let s = x.str()?;
                Price::parse(s).ok_or_else(|| x.invalid(format!("expected a price like \"2.55 GBP\", found {}", Quoted(s))))
            })?,
            availability: o.or("availability", Availability::default, |x| {
                let s = x.str()?;
                Availability::parse(s).ok_or_else(|| x.invalid(format!("expected one of in_stock, out_of_stock, preorder, backorder, found {}", Quoted(s))))
            })?,
            product_type: o.or_string("product_type")?,
            brand: o.or_string("brand")?,
            image_link: o.opt("image_link", url)?,
        })
    }
}

/// `"<amount> <currency>"` as Merchant Center writes it; kept in minor units so that sums and
/// comparisons are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub cents: i64,
    pub currency: [u8; 3],
}

impl Price {
    pub fn parse(s: &str) -> Option<Price> {
        let (amount, currency) = s.trim().split_once(' ')?;
        let currency = currency.trim();
        if currency.len() != 3 || !currency.bytes().all(|c| c.is_ascii_uppercase()) {
            return None;
        }
        let (whole, frac) = amount.split_once('.').unwrap_or((amount, ""));
        if whole.is_empty() || !whole.bytes().all(|c| c.is_ascii_digit()) || frac.len() > 2 || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let whole: i64 = whole.parse().ok()?;
        let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().ok()? };
        let mut cur = [0u8; 3];
        cur.copy_from_slice(currency.as_bytes());
        Some(Price { cents: whole.checked_mul(100)?.checked_add(frac)?, currency: cur })
    }

    pub fn amount(&self) -> f64 {
        self.cents as f64 / 100.0
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cur = std::str::from_utf8(&self.currency).unwrap_or("XXX");
        write!(f, "{}.{:02} {cur}", self.cents / 100, self.cents % 100)
    }
}

impl Serialize for Price {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A URL a runtime may put into `href`/`src`: relative, or absolute `http(s)`. Anything else
/// (`javascript:`, `data:`...) is rejected when the catalog is read, not when the page is built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Url(String);

impl Url {
    pub fn parse(s: &str) -> Option<Url> {
        is_safe_url(s).then(|| Url(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// True for relative URLs (no scheme) and `http:`/`https:` URLs. Control characters and
/// whitespace are refused outright, since browsers strip them before reading the scheme.
pub fn is_safe_url(s: &str) -> bool {
    if s.is_empty() || s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return false;
    }
    match s.find([':', '/', '?', '#']) {
        Some(i) if s.as_bytes()[i] == b':' => {
            let scheme = s[..i].to_ascii_lowercase();
            scheme == "http" || scheme == "https"
        }
        _ => true,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    #[default]
    InStock,
    OutOfStock,
    Preorder,
    Backorder,
}

impl Availability {
    pub fn parse(s: &str) -> Option<Availability> {
        Some(match s.trim().replace(' ', "_").to_ascii_lowercase().as_str() {
            "in_stock" => Availability::InStock,
            "out_of_stock" => Availability::OutOfStock,
            "preorder" => Availability::Preorder,
            "backorder" => Availability::Backorder,
            _ => return None,
        })
    }
}

/// Ids (products, model items, title words) to their index: the one hash map shape of the
/// runtimes, so the edge's Wasm carries one copy of the table's code and one hasher.
pub(crate) type HashIds = HashMap<String, u32, BuildHasherDefault<IdHasher>>;

/// Product ids and model items to their index, as the runtimes look them up: hashbrown's map
/// where whole catalogs and models load (the edge, the CLI), and in the browser's production
/// build, which holds a head's few items and the products of the shards a page fetched, the
/// small open-addressing table [`SmallIds`]: 1.8 KB gzip smaller than hashbrown's code, and as
/// fast at a page's few hundred ids (bench/results/2026-12-06-recs-latency-ab-3.md; a sorted
/// vector searched by halves was slower).
#[cfg(feature = "full-bundle")]
pub(crate) type Ids = HashIds;
#[cfg(not(feature = "full-bundle"))]
pub(crate) type Ids = SmallIds;

/// Ids with their index, in insertion order, found through a table of their positions (linear
/// probing on [`IdHasher`], at most half full): the part of a hash map's interface the browser
/// uses. (Compiled in every build, so that native tests check it.)
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "full-bundle", allow(dead_code))]
pub(crate) struct SmallIds {
    entries: Vec<(String, u32)>,
    /// Position in `entries` + 1, or 0 for an empty slot; a power of two long (or empty).
    slots: Vec<u32>,
}

/// An empty [`Ids`] with room for `n` ids.
pub(crate) fn ids_with_capacity(n: usize) -> Ids {
    #[cfg(feature = "full-bundle")]
    return HashIds::with_capacity_and_hasher(n, Default::default());
    #[cfg(not(feature = "full-bundle"))]
    return SmallIds::with_capacity(n);
}

#[cfg_attr(feature = "full-bundle", allow(dead_code))]
impl SmallIds {
    pub(crate) fn with_capacity(n: usize) -> SmallIds {
        SmallIds { entries: Vec::with_capacity(n), slots: Vec::new() }
    }

    fn hash(id: &str) -> usize {
        let mut h = IdHasher::default();
        h.write(id.as_bytes());
        h.finish() as usize
    }

    /// The slot holding `id`, or the empty slot where it would go.
    fn slot(&self, id: &str) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = Self::hash(id) & mask;
        loop {
            match self.slots[at] {
                0 => return at,
                e if self.entries[e as usize - 1].0 == id => return at,
                _ => at = (at + 1) & mask,
            }
        }
    }

    fn position(&self, id: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        self.slots[self.slot(id)].checked_sub(1).map(|e| e as usize)
    }

    pub(crate) fn get(&self, id: &str) -> Option<&u32> {
        self.position(id).map(|e| &self.entries[e].1)
    }

    pub(crate) fn contains_key(&self, id: &str) -> bool {
        self.position(id).is_some()
    }

    /// Adds or replaces `id`'s index; returns the one replaced, as `HashMap::insert`.
    pub(crate) fn insert(&mut self, id: String, index: u32) -> Option<u32> {
        if let Some(e) = self.position(&id) {
            return Some(std::mem::replace(&mut self.entries[e].1, index));
        }
        if (self.entries.len() + 1) * 2 > self.slots.len() {
            // Twice what the entries need, a power of two: every id placed again.
            self.slots = vec![0; ((self.entries.len() + 1) * 2).next_power_of_two().max(16)];
            for e in 0..self.entries.len() {
                let at = self.slot(&self.entries[e].0);
                self.slots[at] = e as u32 + 1;
            }
        }
        let at = self.slot(&id);
        self.entries.push((id, index));
        self.slots[at] = self.entries.len() as u32;
        None
    }
}

impl PartialEq for SmallIds {
    /// The same ids with the same indexes, whatever order they came in.
    fn eq(&self, other: &SmallIds) -> bool {
        self.entries.len() == other.entries.len() && self.entries.iter().all(|(id, i)| other.get(id) == Some(i))
    }
}

impl std::ops::Index<&String> for SmallIds {
    type Output = u32;

    fn index(&self, id: &String) -> &u32 {
        self.get(id).expect("id in the index")
    }
}

impl FromIterator<(String, u32)> for SmallIds {
    fn from_iter<I: IntoIterator<Item = (String, u32)>>(items: I) -> SmallIds {
        let mut ids = SmallIds::default();
        for (id, index) in items {
            ids.insert(id, index);
        }
        ids
    }
}

/// FNV-1a with its high half folded in: a few instructions a byte where the standard library's
/// SipHash is a kilobyte of Wasm. The keys are the shop's own ids, not an attacker's.
pub(crate) struct IdHasher(u64);

impl Default for IdHasher {
    fn default() -> IdHasher {
        IdHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }
}

/// The catalog, indexed by product id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub(crate) products: Vec<Product>,
    pub(crate) by_id: Ids,
    /// Title words and inverted lists for content similarity; built on first use so that loading
    /// stays cheap for pages that never ask for `similar`. Only a full catalog is scanned
    /// (`full-bundle`); without it, the browser's Wasm carries neither the index nor its drop.
    #[cfg(feature = "full-bundle")]
    content: std::sync::OnceLock<ContentIndex>,
    /// A browser's partial catalog (a bundle head): which shards are loaded, the similar rows
    /// loaded so far, and which files lookups missed (`catalog_shard.rs`). `None` for a full one.
    pub(crate) sharding: Option<CatalogSharding>,
}

/// Every product's title words (sorted), and which products have each word and each product type.
#[cfg(feature = "full-bundle")]
#[derive(Debug, Clone, Default)]
pub struct ContentIndex {
    /// Per product, in catalog order (see `title_words`).
    pub words: Vec<Vec<String>>,
    /// Word → its list in `lists`.
    by_word: HashIds,
    /// Non-empty product type → its list in `lists`.
    by_type: HashIds,
    /// The products with a word or of a type, in catalog order.
    lists: Vec<Vec<u32>>,
}

#[cfg(feature = "full-bundle")]
impl ContentIndex {
    fn new(products: &[Product]) -> ContentIndex {
        let words: Vec<Vec<String>> = products.iter().map(|p| title_words(&p.title)).collect();
        let (mut by_word, mut by_type, mut lists) = (HashIds::default(), HashIds::default(), Vec::new());
        for (i, (p, ws)) in products.iter().zip(&words).enumerate() {
            for w in ws {
                push_listed(&mut by_word, &mut lists, w, i as u32);
            }
            if !p.product_type.is_empty() {
                push_listed(&mut by_type, &mut lists, &p.product_type, i as u32);
            }
        }
        ContentIndex { words, by_word, by_type, lists }
    }

    /// The products that share a title word in `words` or the (non-empty) `product_type`: the only
    /// ones content similarity can score above zero. Catalog order, without repeats.
    pub fn related(&self, words: &[String], product_type: &str) -> Vec<u32> {
        let lists = words.iter().filter_map(|w| self.by_word.get(w));
        let of_type = (!product_type.is_empty()).then(|| self.by_type.get(product_type)).flatten();
        let mut out: Vec<u64> = lists.chain(of_type).flat_map(|&l| &self.lists[l as usize]).map(|&i| u64::from(i)).collect();
        // The hot path of `similar` (hundreds of indexes a call): each list is in catalog order,
        // so the merge sort only merges a few runs (faster here than the standard library's
        // unstable sort, whose 1.6 KB gzip the browser's Wasm no longer carries).
        crate::sort::sort_u64(&mut out);
        out.dedup();
        out.into_iter().map(|i| i as u32).collect()
    }
}

/// Appends `item` to the list of `key` in `index`, starting a list for a new key.
#[cfg(feature = "full-bundle")]
fn push_listed(index: &mut HashIds, lists: &mut Vec<Vec<u32>>, key: &str, item: u32) {
    let next = lists.len() as u32;
    let at = *index.entry(key.to_owned()).or_insert(next);
    if at == next {
        lists.push(Vec::new());
    }
    lists[at as usize].push(item);
}

impl Catalog {
    /// Builds a catalog; product ids must be unique and non-empty.
    pub fn new(products: Vec<Product>) -> Result<Catalog, FormatError> {
        if let Some(i) = products.iter().position(|p| p.id.is_empty()) {
            return Err(FormatError::rule("catalog", format!("products[{i}].id"), "expected a non-empty id"));
        }
        let mut catalog = Catalog { by_id: ids_with_capacity(products.len()), ..Catalog::default() };
        if let Some((i, id)) = catalog.extend(products) {
            return Err(FormatError::rule("catalog", format!("products[{i}].id"), format!("duplicate product id {}", Quoted(&id))));
        }
        Ok(catalog)
    }

    /// Reads `{"v": 1, "products": [...]}`, or a bundle head's partial catalog, which also has
    /// `"shards": {"count": N, "base": "c-<hash>/"}`.
    pub fn from_json(text: &str) -> Result<Catalog, FormatError> {
        let (products, shards) = crate::base::json::read("catalog", text, |at| {
            let o = at.obj(&["v", "products", "shards"])?;
            o.req_version()?;
            Ok((o.req("products", |x| x.items(Product::read))?, o.opt("shards", ShardsDoc::read)?))
        })?;
        let mut catalog = Catalog::new(products)?;
        if let Some(s) = shards {
            catalog.sharding = Some(CatalogSharding::new(layout_of(s)?));
        }
        Ok(catalog)
    }

    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            v: V1,
            products: &'a [Product],
            #[serde(skip_serializing_if = "Option::is_none")]
            shards: Option<CatalogShardsDoc>,
        }
        let shards = self.sharding.as_ref().map(|s| CatalogShardsDoc::of(&s.layout));
        serde_json::to_string(&Out { v: V1, products: &self.products, shards }).unwrap_or_default()
    }

    /// Reads a Merchant Center TSV export: a header line naming the columns, then one product per
    /// line. Unknown columns are ignored; errors point at `line:column` of the offending cell.
    pub fn from_tsv(text: &str) -> Result<Catalog, FormatError> {
        let err =
            |line: usize, column: usize, field: &str, kind: FormatErrorKind| FormatError { format: "catalog", line, column, field: field.to_owned(), kind };
        let mut lines = text.lines().enumerate();
        let Some((_, header)) = lines.next() else {
            return Err(err(1, 1, "", FormatErrorKind::Syntax("expected a header line, found an empty file".into())));
        };
        let columns: Vec<&str> = header.split('\t').map(str::trim).collect();
        let col = |name: &str| columns.iter().position(|c| *c == name);
        let mut idx = HashMap::new();
        for name in ["id", "title", "link", "price"] {
            match col(name) {
                Some(i) => {
                    idx.insert(name, i);
                }
                None => return Err(err(1, 1, name, FormatErrorKind::Invalid(format!("expected a `{name}` column in the header, found {columns:?}")))),
            }
        }
        for name in ["availability", "product_type", "brand", "image_link"] {
            if let Some(i) = col(name) {
                idx.insert(name, i);
            }
        }
        let mut products = Vec::new();
        // Each id's line, so a duplicate is located here rather than by index in `Catalog::new`.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (n, line) in lines {
            let line_no = n + 1;
            if line.trim().is_empty() {
                continue;
            }
            let cells: Vec<&str> = line.split('\t').collect();
            let mut starts = Vec::with_capacity(cells.len());
            let mut at = 1;
            for c in &cells {
                starts.push(at);
                at += c.chars().count() + 1;
            }
            // A stray tab shifts every later cell into the wrong column: refuse the row.
            if cells.len() > columns.len() {
                let c = starts.get(columns.len()).copied().unwrap_or(1);
                return Err(err(
                    line_no,
                    c,
                    "",
                    FormatErrorKind::Invalid(format!("expected at most {} tab-separated fields (the header's), found {}", columns.len(), cells.len())),
                ));
            }
            let cell = |name: &str| -> (&str, usize) {
                match idx.get(name) {
                    Some(&i) => (cells.get(i).map(|c| c.trim()).unwrap_or(""), starts.get(i).copied().unwrap_or(at)),
                    None => ("", 0),
                }
            };
            let required = |name: &str| -> Result<(&str, usize), FormatError> {
                let (v, c) = cell(name);
                if v.is_empty() {
                    return Err(err(line_no, c.max(1), name, FormatErrorKind::Invalid("expected a value, found an empty cell".into())));
                }
                Ok((v, c))
            };
            let (id, c) = required("id")?;
            if let Some(first) = seen.insert(id.to_owned(), line_no) {
                return Err(err(line_no, c, "id", FormatErrorKind::Invalid(format!("duplicate product id {} (first on line {first})", Quoted(id)))));
            }
            let (title, _) = required("title")?;
            let (link, c) = required("link")?;
            let link = Url::parse(link)
                .ok_or_else(|| err(line_no, c, "link", FormatErrorKind::Invalid(format!("expected a relative or http(s) URL, found {}", Quoted(link)))))?;
            let (price, c) = required("price")?;
            let price = Price::parse(price)
                .ok_or_else(|| err(line_no, c, "price", FormatErrorKind::Invalid(format!("expected a price like \"2.55 GBP\", found {}", Quoted(price)))))?;
            let availability = match cell("availability") {
                ("", _) => Availability::InStock,
                (a, c) => Availability::parse(a).ok_or_else(|| {
                    err(
                        line_no,
                        c,
                        "availability",
                        FormatErrorKind::Invalid(format!("expected in_stock, out_of_stock, preorder or backorder, found {}", Quoted(a))),
                    )
                })?,
            };
            let image_link = match cell("image_link") {
                ("", _) => None,
                (u, c) => Some(Url::parse(u).ok_or_else(|| {
                    err(line_no, c, "image_link", FormatErrorKind::Invalid(format!("expected a relative or http(s) URL, found {}", Quoted(u))))
                })?),
            };
            products.push(Product {
                id: id.to_owned(),
                title: title.to_owned(),
                link,
                price,
                availability,
                product_type: cell("product_type").0.to_owned(),
                brand: cell("brand").0.to_owned(),
                image_link,
            });
        }
        Catalog::new(products)
    }

    /// Title words of every product and the inverted lists over them (see `ContentIndex`).
    #[cfg(feature = "full-bundle")]
    pub fn content(&self) -> &ContentIndex {
        self.content.get_or_init(|| ContentIndex::new(&self.products))
    }

    /// The product `id`. In a partial catalog, a product whose shard is not loaded yet is `None`
    /// too, and the lookup notes the shard as missing ([`Catalog::take_missing`]).
    pub fn get(&self, id: &str) -> Option<&Product> {
        match self.by_id.get(id) {
            Some(&i) => Some(&self.products[i as usize]),
            None => {
                if let Some(s) = &self.sharding {
                    s.note_product(id);
                }
                None
            }
        }
    }

    /// Content neighbours of the product `id`, best first (see `similar`). A partial catalog
    /// reads them from its loaded similar rows, noting the file as missing when it is not loaded;
    /// a full one scans itself (the `full-bundle` feature; a build without it loads no full
    /// catalog into a bundle, `Bundle::from_json`).
    pub fn similar_to(&self, id: &str) -> Vec<&str> {
        match &self.sharding {
            Some(s) => s.similar_row(id),
            #[cfg(feature = "full-bundle")]
            None => self.get(id).map(|p| similar(self, p)).unwrap_or_default(),
            #[cfg(not(feature = "full-bundle"))]
            None => Vec::new(),
        }
    }

    /// Adds products (a loaded shard's); a product whose id is already present is left out.
    /// Returns the first left out: its position in `products` and its id.
    pub(crate) fn extend(&mut self, products: Vec<Product>) -> Option<(usize, String)> {
        let mut first = None;
        for (i, p) in products.into_iter().enumerate() {
            if self.by_id.contains_key(&p.id) {
                first = first.or(Some((i, p.id)));
                continue;
            }
            self.by_id.insert(p.id.clone(), self.products.len() as u32);
            self.products.push(p);
        }
        first
    }

    pub fn products(&self) -> &[Product] {
        &self.products
    }

    pub fn len(&self) -> usize {
        self.products.len()
    }

    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }
}

/// How many content neighbours `similar` ranks per product (then popular products fill).
pub const SIMILAR_ROW: usize = 30;

/// The products most similar to `product` by content, best first, at most [`SIMILAR_ROW`]: same
/// category counts most, then the share of title words in common (Jaccard), then the same brand.
/// Ties keep catalog order. What `similar` recommends from, computed on the spot by a runtime with
/// the full catalog and once per product by `vitrine bundle` for the browser's shards.
#[cfg(feature = "full-bundle")]
pub(crate) fn similar<'a>(catalog: &'a Catalog, product: &Product) -> Vec<&'a str> {
    let index = catalog.content();
    let words = crate::data::catalog::title_words(&product.title);
    let products = catalog.products();
    // Only products sharing a word or the type can score; the inverted lists name them.
    let scored = index.related(&words, &product.product_type).into_iter().map(|i| i as usize).filter_map(|i| {
        let p = &products[i];
        (p.id != product.id).then(|| similarity(product, &words, p, &index.words[i])).flatten().map(|score| (score, i, p.id.as_str()))
    });
    best_first(scored.collect())
}

/// `other`'s content similarity to `product` (whose title words are `words`; `other_words` sorted),
/// or `None` when they share neither a title word nor the type.
#[cfg(feature = "full-bundle")]
fn similarity(product: &Product, words: &[String], other: &Product, other_words: &[String]) -> Option<f64> {
    let shared = words.iter().filter(|w| other_words.binary_search(w).is_ok()).count();
    let union = words.len() + other_words.len() - shared;
    let jaccard = if union == 0 { 0.0 } else { shared as f64 / union as f64 };
    let same_type = !other.product_type.is_empty() && other.product_type == product.product_type;
    let same_brand = !other.brand.is_empty() && other.brand == product.brand;
    let score = 2.0 * f64::from(u8::from(same_type)) + 3.0 * jaccard + 0.25 * f64::from(u8::from(same_brand));
    (same_type || shared > 0).then_some(score)
}

/// Ids by score, best first; ties keep catalog order.
#[cfg(feature = "full-bundle")]
fn best_first(mut scored: Vec<(f64, usize, &str)>) -> Vec<&str> {
    crate::sort::sort_by_score_desc(&mut scored, |s| s.0, |a, b| a.1.cmp(&b.1));
    scored.into_iter().take(SIMILAR_ROW).map(|(_, _, id)| id).collect()
}

/// Title words that say something about the product (three characters or more), sorted and
/// deduplicated. Only ASCII is case-folded and only ASCII punctuation separates words: Unicode's
/// tables would cost the browser build more than they buy here, and non-ASCII letters still stay
/// inside their words.
#[cfg(feature = "full-bundle")]
pub fn title_words(title: &str) -> Vec<String> {
    const STOP: &[&str] = &["set", "and", "the", "with", "for", "pack", "of", "design", "small", "large", "mini"];
    let mut words: Vec<String> = title
        .split(|c: char| c.is_ascii() && !c.is_ascii_alphanumeric())
        .map(str::to_ascii_lowercase)
        .filter(|w| w.chars().count() >= 3 && !STOP.contains(&w.as_str()))
        .collect();
    crate::sort::sort_dedup(&mut words);
    words
}

// A partial catalog's state. It is a field of every `Catalog`, so it lives here; what a partial
// catalog does with it (splitting, adding and skipping shards, the missed files) is
// `catalog_shard.rs`, which builds on this module and is never named by it.
/// The layout in JSON, in a catalog head: `{"count": N, "base": "c-<hash>/"}` (the model's
/// layout document, whose `views` a catalog never sets: one deserializer for both in the Wasm).
pub(crate) type CatalogShardsDoc = ShardsDoc;

pub(crate) fn layout_of(doc: CatalogShardsDoc) -> Result<ShardLayout, FormatError> {
    ShardLayout::new(doc.count, doc.base, false).map_err(|e| FormatError { format: "catalog", ..e })
}

/// Which table of the catalog a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Part {
    /// Product entries: `<s>.json`.
    Products,
    /// Content neighbours: `s<s>.json`.
    Similar,
}

pub(super) fn file_name(part: Part, shard: u32) -> String {
    match part {
        Part::Products => format!("{shard}.json"),
        Part::Similar => format!("s{shard}.json"),
    }
}

pub(super) fn parse_name(name: &str) -> Option<(Part, u32)> {
    parse_shard_name(name, 's', ".json").map(|(similar, s)| (if similar { Part::Similar } else { Part::Products }, s))
}

/// A partial catalog's state: the layout, which files are loaded (or skipped), the similar rows
/// loaded so far, and the files lookups have missed since [`Catalog::take_missing`].
#[derive(Debug)]
pub(crate) struct CatalogSharding {
    pub layout: ShardLayout,
    /// Per shard: products loaded, then similar rows loaded.
    pub(super) loaded: Vec<bool>,
    /// Loaded similar rows: product id first, then its neighbours. A page reads one or two, so a
    /// list (searched) costs the browser's Wasm less than a map.
    pub(super) similar: Vec<Vec<String>>,
    /// Lookups only read the catalog, so the log sits behind a lock (uncontended: one runtime
    /// decides one request at a time).
    pub(super) missed: Mutex<Vec<(Part, u32)>>,
}

impl Clone for CatalogSharding {
    fn clone(&self) -> CatalogSharding {
        CatalogSharding { layout: self.layout.clone(), loaded: self.loaded.clone(), similar: self.similar.clone(), missed: Mutex::default() }
    }
}

impl CatalogSharding {
    pub fn new(layout: ShardLayout) -> CatalogSharding {
        let loaded = vec![false; 2 * layout.count as usize];
        CatalogSharding { layout, loaded, similar: Vec::new(), missed: Mutex::default() }
    }

    pub(super) fn slot(&self, part: Part, shard: u32) -> usize {
        shard as usize + if part == Part::Similar { self.layout.count as usize } else { 0 }
    }

    pub(super) fn is_loaded(&self, part: Part, shard: u32) -> bool {
        self.loaded[self.slot(part, shard)]
    }

    pub(super) fn set_loaded(&mut self, part: Part, shard: u32) {
        let at = self.slot(part, shard);
        self.loaded[at] = true;
    }

    /// Whether the product `id` may still come with a shard: its file is neither loaded nor skipped.
    pub fn pending(&self, id: &str) -> bool {
        !self.is_loaded(Part::Products, shard_of(id, self.layout.count))
    }

    pub(super) fn note(&self, part: Part, shard: u32) {
        if let Ok(mut log) = self.missed.lock() {
            if !log.contains(&(part, shard)) {
                log.push((part, shard));
            }
        }
    }

    /// A lookup of `id` found nothing: note its file if it is not loaded.
    pub fn note_product(&self, id: &str) {
        let s = shard_of(id, self.layout.count);
        if !self.is_loaded(Part::Products, s) {
            self.note(Part::Products, s);
        }
    }

    pub fn similar_row(&self, id: &str) -> Vec<&str> {
        let s = shard_of(id, self.layout.count);
        if !self.is_loaded(Part::Similar, s) {
            self.note(Part::Similar, s);
            return Vec::new();
        }
        self.similar.iter().find(|row| row[0] == id).map(|row| row[1..].iter().map(String::as_str).collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The browser's ids answer as the hash map does, through every growth of the table.
    #[test]
    fn small_ids_answer_as_the_hash_map() {
        let mut ids = vec!["85123A", "22423", "", "84879", "22423", "\u{e9}t\u{e9}", "10002", "85123B"];
        let many: Vec<String> = (0..100).map(|i| format!("p{i}")).collect();
        ids.extend(many.iter().map(String::as_str));
        let (mut small, mut hashed) = (SmallIds::with_capacity(2), HashIds::default());
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(small.insert(id.to_string(), i as u32), hashed.insert(id.to_string(), i as u32), "{id}");
        }
        for id in ids.iter().copied().chain(["85123", "85123AA", "zzz", "0"]) {
            assert_eq!(small.get(id), hashed.get(id), "{id}");
            assert_eq!(small.contains_key(id), hashed.contains_key(id), "{id}");
        }
        assert_eq!(small[&"22423".to_owned()], 4);
        let collected: SmallIds = hashed.clone().into_iter().collect();
        assert_eq!(collected, small);
        assert_eq!(small.entries.len(), hashed.len(), "each id once");
    }

    /// The full scan `similar` replaced: every other product scored, the unrelated left out.
    fn similar_by_scan<'a>(catalog: &'a Catalog, product: &Product) -> Vec<&'a str> {
        let words = crate::data::catalog::title_words(&product.title);
        let scored = catalog
            .products()
            .iter()
            .enumerate()
            .filter(|(_, p)| p.id != product.id)
            .filter_map(|(i, p)| similarity(product, &words, p, &crate::data::catalog::title_words(&p.title)).map(|score| (score, i, p.id.as_str())));
        best_first(scored.collect())
    }

    #[test]
    fn similar_through_the_inverted_lists_equals_the_full_scan() {
        const WORDS: [&str; 12] = ["mug", "candle", "heart", "vintage", "lantern", "tin", "red", "blue", "star", "garden", "SET", "of"];
        const TYPES: [&str; 4] = ["Kitchen", "Candles", "Garden", ""];
        let products: Vec<String> = (0..240usize)
            .map(|i| {
                let title: Vec<&str> = (0..1 + i % 4).map(|k| WORDS[(i * 7 + k * 5) % WORDS.len()]).collect();
                format!(
                    r#"{{"id":"p{i}","title":"{} {i}","link":"/p/{i}","price":"1.00 GBP","product_type":"{}","brand":"{}"}}"#,
                    title.join(" "),
                    TYPES[(i / 3) % TYPES.len()],
                    ["Acme", "", "Lantern & Co"][i % 3]
                )
            })
            .collect();
        let catalog = Catalog::from_json(&format!(r#"{{"v":1,"products":[{}]}}"#, products.join(","))).unwrap();
        for p in catalog.products() {
            assert_eq!(similar(&catalog, p), similar_by_scan(&catalog, p), "{}", p.id);
        }
        // A product unknown to the catalog is scored the same way.
        let stranger = catalog.products()[5].clone();
        let stranger = Product { id: "elsewhere".into(), ..stranger };
        assert_eq!(similar(&catalog, &stranger), similar_by_scan(&catalog, &stranger));
    }

    #[test]
    fn prices() {
        let check = |s: &str, cents: Option<i64>| assert_eq!(Price::parse(s).map(|p| p.cents), cents, "{s}");
        check("2.55 GBP", Some(255));
        check("12 EUR", Some(1200));
        check("0.5 USD", Some(50));
        check("2.555 GBP", None);
        check("-1 GBP", None);
        check("2.55", None);
        check("2.55 gbp", None);
        assert_eq!(Price::parse("0.5 USD").map(|p| p.to_string()).as_deref(), Some("0.50 USD"));
    }

    #[test]
    fn urls() {
        for ok in ["/p/1", "p/1", "https://shop.example/p", "HTTP://x", "/a:b"] {
            assert!(is_safe_url(ok), "{ok}");
        }
        for bad in ["javascript:alert(1)", "JaVaScRiPt:x", "data:text/html,x", " /p", "java\nscript:x", "", "vbscript:x"] {
            assert!(!is_safe_url(bad), "{bad}");
        }
    }

    #[test]
    fn json_errors_are_located() {
        let text = "{\"v\": 1, \"products\": [\n {\"id\": \"a\", \"title\": \"A\", \"link\": \"/p/a\",\n  \"price\": \"two pounds\"}]}";
        let e = Catalog::from_json(text).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (3, crate::base::error::expected_field("products[0].price")));
        assert!(e.to_string().contains("expected a price like"), "{e}");

        let e = Catalog::from_json("{\"v\": 2, \"products\": []}").unwrap_err();
        assert_eq!(e.kind, FormatErrorKind::Version { found: 2, supported: 1 });

        let e = Catalog::from_json(r#"{"v":1,"products":[{"id":"a","title":"A","link":"javascript:x","price":"1 GBP"}]}"#).unwrap_err();
        assert_eq!(e.field, crate::base::error::expected_field("products[0].link"));

        let dup = r#"{"v":1,"products":[{"id":"a","title":"A","link":"/a","price":"1 GBP"},{"id":"a","title":"B","link":"/b","price":"1 GBP"}]}"#;
        assert!(Catalog::from_json(dup).unwrap_err().to_string().contains("duplicate product id"));
    }

    #[test]
    fn tsv_reads_merchant_center_export() {
        let tsv = "id\ttitle\tprice\tlink\tavailability\tproduct_type\textra\n85123A\tHeart holder\t2.55 GBP\t/p/85123A\tin stock\tCandles & Lights\tx\n22423\tCake stand\t12.75 GBP\t/p/22423\tout of stock\tKitchen\t\n";
        let c = Catalog::from_tsv(tsv).unwrap();
        assert_eq!(c.len(), 2);
        let p = c.get("22423").unwrap();
        assert_eq!((p.price.cents, p.availability, p.product_type.as_str()), (1275, Availability::OutOfStock, "Kitchen"));

        let bad = "id\ttitle\tprice\tlink\nA\tT\tcheap\t/p/A\n";
        let e = Catalog::from_tsv(bad).unwrap_err();
        assert_eq!((e.line, e.column, e.field.as_str()), (2, 5, "price"));
        let e = Catalog::from_tsv("id\ttitle\n").unwrap_err();
        assert_eq!(e.field, "link");
    }

    /// Issue 12: a row with more fields than the header (a stray tab) is refused at its first extra cell.
    #[test]
    fn issue_12_tsv_rows_with_extra_fields_are_refused() {
        let e = Catalog::from_tsv("id\ttitle\tprice\tlink\nA\tT\t1 GBP\t/p/A\tx\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 16), "{e:?}");
        assert!(e.describe().contains("expected at most 4 tab-separated fields"), "{}", e.describe());
        // A duplicate id is located at its second row (found by fuzzing catalog_source).
        let e = Catalog::from_tsv("id\ttitle\tprice\tlink\nA\tT\t1 GBP\t/p/A\nB\tT\t1 GBP\t/p/B\nA\tU\t1 GBP\t/p/A\n").unwrap_err();
        assert_eq!((e.line, e.column, e.field.as_str()), (4, 1, "id"), "{e:?}");
        assert!(e.describe().contains("duplicate product id \"A\" (first on line 2)"), "{}", e.describe());
        // Fewer fields than the header stay fine: trailing empty optional cells are often cut.
        assert!(Catalog::from_tsv("id\ttitle\tprice\tlink\tbrand\nA\tT\t1 GBP\t/p/A\n").is_ok());
    }
}
