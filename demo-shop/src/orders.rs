//! Reading Online Retail order lines (gzipped CSV) and the small facts every subcommand shares.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::Path;

use anyhow::{bail, Context, Result};
use flate2::read::GzDecoder;

/// The header line of the Online Retail CSV; the subset keeps it byte for byte.
pub const HEADER: &str = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country";

/// The demo's fixed "now": the day after the last invoice in the data set, so "days since the
/// last order" means the same thing in every run and in every test.
pub const NOW_UNIX: i64 = 1_323_475_200; // 2011-12-10T00:00:00Z

/// One order line as it appears in the CSV, with the few fields parsed that the demo needs.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub invoice: String,
    pub stock_code: String,
    pub description: String,
    pub quantity: i64,
    /// `YYYY-MM-DD HH:MM:SS` as in the file.
    pub invoice_date: String,
    pub unit_price: f64,
    /// `17850` for `17850.0`; `None` for guest orders.
    pub customer: Option<String>,
    pub country: String,
}

impl OrderLine {
    /// A cancellation line: its invoice number starts with `C` and its quantity is negative.
    pub fn is_cancellation(&self) -> bool {
        self.invoice.starts_with('C')
    }

    /// The lines that count as real purchases of a product by a known customer. Everything
    /// popularity, personas and prices are computed from goes through this one filter, so the
    /// messy rows kept in the subset (cancellations, guests, postage, zero prices) never skew them.
    pub fn is_clean_purchase(&self) -> bool {
        !self.is_cancellation() && self.customer.is_some() && is_product_code(&self.stock_code) && self.quantity > 0 && self.unit_price > 0.0
    }

    /// Seconds since the Unix epoch of `invoice_date` (the data set has no time zone; we read it as UTC).
    pub fn time(&self) -> Result<i64> {
        parse_time(&self.invoice_date)
    }
}

/// Product stock codes start with five digits (`85123A`, `22423`); everything else is postage,
/// fees, discounts, manual adjustments or gift vouchers (`POST`, `D`, `M`, `AMAZONFEE`, `gift_0001_20`).
pub fn is_product_code(code: &str) -> bool {
    code.len() >= 5 && code.as_bytes()[..5].iter().all(u8::is_ascii_digit)
}

/// `17850.0` → `17850`; empty → `None`.
pub fn customer_id(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    Some(raw.strip_suffix(".0").unwrap_or(raw).to_string())
}

/// Parses `YYYY-MM-DD HH:MM:SS` into Unix seconds (UTC).
pub fn parse_time(s: &str) -> Result<i64> {
    let bad = || format!("invalid InvoiceDate {s:?}, expected YYYY-MM-DD HH:MM:SS");
    let b = s.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        bail!(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64> { s[r].parse::<i64>().with_context(bad) };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        bail!(bad());
    }
    Ok(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`);
/// a dozen lines here spare the binary a date-time dependency.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Reads a whole gzipped file into memory (the full data set is ~45 MB unpacked, fine for a tool).
pub fn read_gz(path: &Path) -> Result<Vec<u8>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut out = Vec::new();
    GzDecoder::new(file).read_to_end(&mut out).with_context(|| format!("cannot gunzip {}", path.display()))?;
    Ok(out)
}

/// Parses Online Retail CSV text (header included) into order lines.
pub fn parse_orders(bytes: &[u8]) -> Result<Vec<OrderLine>> {
    Ok(parse_orders_with_spans(bytes)?.into_iter().map(|(_, l)| l).collect())
}

/// Like [`parse_orders`], but also returns where each record starts and ends in `bytes`
/// (terminator included), so `derive-data` can copy kept lines byte for byte.
pub fn parse_orders_with_spans(bytes: &[u8]) -> Result<Vec<(Range<usize>, OrderLine)>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let header = reader.headers().context("cannot read the CSV header")?.clone();
    let expected: Vec<&str> = HEADER.split(',').collect();
    if header.iter().collect::<Vec<_>>() != expected {
        bail!("unexpected CSV header {:?}, expected {HEADER}", header.iter().collect::<Vec<_>>());
    }
    let mut starts = Vec::new();
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // Line numbers are 1-based and the header is line 1.
        let line = i + 2;
        let r = record.with_context(|| format!("CSV line {line}"))?;
        let start = r.position().map(|p| p.byte()).unwrap_or_default();
        let start = usize::try_from(start).context("CSV offset overflows usize")?;
        let field = |k: usize| r.get(k).unwrap_or_default();
        starts.push(start);
        out.push(OrderLine {
            invoice: field(0).to_string(),
            stock_code: field(1).to_string(),
            description: field(2).to_string(),
            quantity: field(3).trim().parse().with_context(|| format!("CSV line {line}: bad Quantity {:?}", field(3)))?,
            invoice_date: field(4).to_string(),
            unit_price: field(5).trim().parse().with_context(|| format!("CSV line {line}: bad UnitPrice {:?}", field(5)))?,
            customer: customer_id(field(6)),
            country: field(7).to_string(),
        });
    }
    // A record ends where the next one starts; the last one ends at the end of the input.
    let ends = starts.iter().skip(1).copied().chain(std::iter::once(bytes.len()));
    Ok(starts.iter().copied().zip(ends).map(|(s, e)| s..e).zip(out).collect())
}

/// Reads and parses a gzipped orders file.
pub fn load_orders(path: &Path) -> Result<Vec<OrderLine>> {
    parse_orders(&read_gz(path)?).with_context(|| format!("in {}", path.display()))
}

/// Number of distinct customers who bought each product (clean purchases only). This is the
/// demo's one notion of popularity: it is robust to a single wholesale order of 10,000 units.
pub fn distinct_buyers(lines: &[OrderLine]) -> HashMap<String, usize> {
    let mut buyers: HashMap<&str, HashSet<&str>> = HashMap::new();
    for l in lines.iter().filter(|l| l.is_clean_purchase()) {
        if let Some(c) = &l.customer {
            buyers.entry(&l.stock_code).or_default().insert(c);
        }
    }
    buyers.into_iter().map(|(k, v)| (k.to_string(), v.len())).collect()
}

/// FNV-1a, 64 bit: a tiny stable hash for deterministic choices (stock, colours, sampling).
/// `std`'s hasher is randomly seeded and may change between Rust versions, so it cannot be used
/// for anything that ends up in committed files.
pub fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_codes() {
        for code in ["85123A", "22423", "84997d", "15056BL"] {
            assert!(is_product_code(code), "{code}");
        }
        for code in ["POST", "D", "M", "C2", "DOT", "BANK CHARGES", "AMAZONFEE", "gift_0001_20", "DCGS0003", "1234"] {
            assert!(!is_product_code(code), "{code}");
        }
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01 00:00:00").unwrap(), 0);
        assert_eq!(parse_time("2011-12-10 00:00:00").unwrap(), NOW_UNIX);
        assert_eq!(parse_time("2010-12-01 08:26:00").unwrap(), 1_291_191_960);
        assert!(parse_time("2010-12-01T08:26:00").is_err());
        assert!(parse_time("2010-13-01 08:26:00").is_err());
    }

    #[test]
    fn customers() {
        assert_eq!(customer_id("17850.0").as_deref(), Some("17850"));
        assert_eq!(customer_id(""), None);
    }

    #[test]
    fn fnv_is_stable() {
        // Pinned: committed outputs depend on these values.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
