//! `catalog`: turns the order subset into the shop's product catalog (formats.md, `"v": 1`).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::categories::{categorize, CATEGORIES};
use crate::orders::{distinct_buyers, fnv1a, is_product_code, OrderLine};

/// The demo shop's name, used as every product's brand and in the page header.
pub const BRAND: &str = "Lantern & Co.";

/// One product, with the Merchant Center field names of formats.md (serialized in this order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub id: String,
    pub title: String,
    pub link: String,
    pub price: String,
    pub availability: String,
    pub product_type: String,
    pub brand: String,
    pub image_link: String,
}

/// The catalog file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub v: u32,
    pub products: Vec<Product>,
}

impl Catalog {
    /// Reads a catalog written by [`Catalog::write`] (or by hand), checking the version.
    pub fn read(path: &Path) -> Result<Catalog> {
        let text = fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let catalog: Catalog = serde_json::from_str(&text).with_context(|| format!("invalid catalog {}", path.display()))?;
        if catalog.v != 1 {
            bail!("{}: unsupported catalog version \"v\": {}, expected 1", path.display(), catalog.v);
        }
        Ok(catalog)
    }

    /// Writes one product per line: valid JSON that stays readable and diffs well.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut out = format!("{{\"v\": {}, \"products\": [\n", self.v);
        for (i, p) in self.products.iter().enumerate() {
            let sep = if i + 1 < self.products.len() { "," } else { "" };
            out.push_str(&format!("  {}{sep}\n", serde_json::to_string(p)?));
        }
        out.push_str("]}\n");
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Builds the catalog of every product in `lines`, most popular first (ties by id).
pub fn build(lines: &[OrderLine]) -> Catalog {
    // Descriptions and prices are voted on by real sales lines only: cancellations, zero-price
    // lines and stock adjustments carry notes like "damaged" or "?" instead of the product name.
    let mut descriptions: HashMap<&str, HashMap<String, usize>> = HashMap::new();
    let mut prices: HashMap<&str, HashMap<i64, usize>> = HashMap::new();
    for l in lines.iter().filter(|l| is_product_code(&l.stock_code)) {
        let sale = !l.is_cancellation() && l.quantity > 0 && l.unit_price > 0.0;
        let cents = price_cents(l.unit_price);
        if sale && cents > 0 {
            *prices.entry(&l.stock_code).or_default().entry(cents).or_default() += 1;
        }
        let text = normalize_space(&l.description);
        if !text.is_empty() {
            // Keep every code in the map, so a product with no clean sale still gets a title.
            let votes = descriptions.entry(&l.stock_code).or_default();
            *votes.entry(text).or_default() += usize::from(sale);
        }
    }
    let buyers = distinct_buyers(lines);
    let mut ids: Vec<&str> = descriptions.keys().copied().filter(|id| prices.contains_key(id)).collect();
    let popularity = |id: &str| buyers.get(id).copied().unwrap_or(0);
    ids.sort_by(|a, b| popularity(b).cmp(&popularity(a)).then(a.cmp(b)));

    let products = ids
        .into_iter()
        .map(|id| {
            let description = most_frequent(&descriptions[id]).cloned().unwrap_or_default();
            let cents = most_frequent(&prices[id]).copied().unwrap_or_default();
            Product {
                id: id.to_string(),
                title: title_case(&description),
                link: format!("/p/{id}"),
                price: format_price(cents, "GBP"),
                availability: availability(id).to_string(),
                product_type: categorize(&description).to_string(),
                brand: BRAND.to_string(),
                image_link: format!("/img/{id}.svg"),
            }
        })
        .collect();
    Catalog { v: 1, products }
}

/// Counts per category, in navigation order, for the log and the report.
pub fn distribution(catalog: &Catalog) -> Vec<(&'static str, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &catalog.products {
        *counts.entry(p.product_type.as_str()).or_default() += 1;
    }
    CATEGORIES.iter().map(|c| (*c, counts.get(c).copied().unwrap_or(0))).collect()
}

/// The key with the highest count; ties go to the smallest key, so the result never depends on
/// hash map order.
fn most_frequent<K: Ord>(votes: &HashMap<K, usize>) -> Option<&K> {
    votes.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(k, _)| k)
}

/// A deterministic ~3 % of products are out of stock, so the demo shows that state too.
fn availability(id: &str) -> &'static str {
    if fnv1a(id) % 100 < 3 {
        "out_of_stock"
    } else {
        "in_stock"
    }
}

/// Rounds a unit price to whole pence; `0.001` (a data entry oddity) becomes 0 and is ignored.
pub fn price_cents(price: f64) -> i64 {
    // Prices are at most a few thousand pounds, far inside i64 after scaling.
    (price * 100.0).round() as i64
}

/// `255, "GBP"` → `"2.55 GBP"`, the formats.md price shape.
pub fn format_price(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.abs();
    format!("{sign}{}.{:02} {currency}", c / 100, c % 100)
}

/// Trims and collapses runs of whitespace ("HAND OVER THE CHOCOLATE   SIGN ").
fn normalize_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Short words that read better in lower case inside a title ("Set of 3", "Heads and Tails").
const MINOR_WORDS: &[&str] = &["a", "and", "as", "at", "for", "in", "of", "on", "or", "the", "to", "with"];
/// Abbreviations that stay upper case.
const ACRONYMS: &[&str] = &["LED", "UK", "ABC", "WC", "DIY"];

/// `WHITE HANGING HEART T-LIGHT HOLDER` → `White Hanging Heart T-Light Holder`.
///
/// A letter is upper case when it starts a word part (after a space, hyphen, slash, ...), lower
/// case after another letter, a digit or an apostrophe ("50's", "I'm", "125g", "40x40cm").
pub fn title_case(description: &str) -> String {
    normalize_space(description)
        .split(' ')
        .enumerate()
        .map(|(i, word)| {
            let upper = word.to_uppercase();
            if ACRONYMS.contains(&upper.as_str()) {
                return upper;
            }
            let lower = word.to_lowercase();
            if i > 0 && MINOR_WORDS.contains(&lower.as_str()) {
                return lower;
            }
            let mut out = String::with_capacity(word.len());
            let mut prev: Option<char> = None;
            for c in word.chars() {
                let inside = prev.is_some_and(|p| p.is_alphanumeric() || p == '\'');
                if inside {
                    out.extend(c.to_lowercase());
                } else {
                    out.extend(c.to_uppercase());
                }
                prev = Some(c);
            }
            out
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::parse_orders;

    fn check_title(input: &str, expected: &str) {
        assert_eq!(title_case(input), expected, "{input}");
    }

    #[test]
    fn title_case_cases() {
        check_title("WHITE HANGING HEART T-LIGHT HOLDER", "White Hanging Heart T-Light Holder");
        check_title("SET OF 3 CAKE TINS PANTRY DESIGN ", "Set of 3 Cake Tins Pantry Design");
        check_title("50'S CHRISTMAS GIFT BAG LARGE", "50's Christmas Gift Bag Large");
        check_title("I'M ON HOLIDAY METAL SIGN", "I'm on Holiday Metal Sign");
        check_title("SMALL HANGING IVORY/RED WOOD BIRD", "Small Hanging Ivory/Red Wood Bird");
        check_title("BAG 125g SWIRLY MARBLES", "Bag 125g Swirly Marbles");
        check_title("POLYESTER FILLER PAD 40x40cm", "Polyester Filler Pad 40x40cm");
        check_title("HAND OVER THE CHOCOLATE   SIGN ", "Hand Over the Chocolate Sign");
        check_title("SET OF 10 LED DOLLY LIGHTS", "Set of 10 LED Dolly Lights");
        check_title("GIN & TONIC DIET GREETING CARD ", "Gin & Tonic Diet Greeting Card");
        check_title("3 TRADITIONAl BISCUIT CUTTERS  SET", "3 Traditional Biscuit Cutters Set");
        check_title("OF MICE AND MEN", "Of Mice and Men");
        check_title("", "");
    }

    #[test]
    fn price_formatting() {
        assert_eq!(format_price(255, "GBP"), "2.55 GBP");
        assert_eq!(format_price(210, "GBP"), "2.10 GBP");
        assert_eq!(format_price(5, "GBP"), "0.05 GBP");
        assert_eq!(format_price(1275, "EUR"), "12.75 EUR");
        assert_eq!(format_price(-150, "GBP"), "-1.50 GBP");
        assert_eq!(price_cents(2.1), 210);
        assert_eq!(price_cents(0.85), 85);
        assert_eq!(price_cents(0.001), 0);
    }

    #[test]
    fn builds_products_from_clean_votes() {
        let csv = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n\
            1,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n\
            2,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-02 08:26:00,2.55,17851.0,United Kingdom\n\
            3,85123A,CREAM HANGING HEART T-LIGHT HOLDER,32,2010-12-03 08:26:00,2.95,,United Kingdom\n\
            4,85123A,damaged,-5,2010-12-03 08:26:00,0.0,,United Kingdom\n\
            5,85123A,?,-5,2010-12-03 08:26:00,0.0,,United Kingdom\n\
            6,85123A,??,-5,2010-12-03 08:26:00,0.0,,United Kingdom\n\
            6,POST,POSTAGE,1,2010-12-03 08:26:00,18.0,17850.0,United Kingdom\n";
        let catalog = build(&parse_orders(csv.as_bytes()).unwrap());
        assert_eq!(catalog.products.len(), 1);
        let p = &catalog.products[0];
        assert_eq!(p.title, "White Hanging Heart T-Light Holder");
        assert_eq!(p.price, "2.55 GBP");
        assert_eq!(p.product_type, "Candles & Lights");
        assert_eq!((p.link.as_str(), p.image_link.as_str()), ("/p/85123A", "/img/85123A.svg"));
    }
}
