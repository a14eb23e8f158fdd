//! `derive-data`: cuts the committed order subset the demo shop and the tests ship with.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::orders::{distinct_buyers, fnv1a, is_product_code, parse_orders_with_spans, read_gz, HEADER};

/// How the subset is cut; the defaults produce the committed `data/orders.csv.gz`.
#[derive(Debug, Clone, Copy)]
pub struct Cut {
    /// Keep the products bought by the most distinct customers.
    pub products: usize,
    /// Keep one in this many guest invoices (by a stable hash of the invoice number).
    pub guest_every: u64,
}

/// What [`derive()`] did, for the log line and the data README.
#[derive(Debug)]
pub struct Summary {
    pub rows: usize,
    pub products: usize,
    pub invoices: usize,
    pub customers: usize,
    pub cancellations: usize,
    pub guest_rows: usize,
    pub non_product_rows: usize,
    pub bytes: usize,
}

/// Reads the full data set at `from`, writes the gzipped subset to `out`.
pub fn run(from: &Path, out: &Path, cut: Cut) -> Result<Summary> {
    let raw = read_gz(from)?;
    let (bytes, summary) = derive(&raw, cut).with_context(|| format!("in {}", from.display()))?;
    if let Some(dir) = out.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fs::write(out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(Summary { bytes: bytes.len(), ..summary })
}

/// The cut itself, on the unpacked CSV; returns the gzipped subset.
///
/// Whole invoices are kept or dropped, never split, so a kept basket is a real basket. Within a
/// kept invoice the lines of kept products stay, and so do its non-product lines (postage, manual
/// adjustments, discounts): the profile builder must learn to skip those. Cancellations and guest
/// lines are kept as they are for the same reason. Guest invoices are thinned because the biggest
/// ones are hundreds of lines each and carry nothing a profile can use.
pub fn derive(raw: &[u8], cut: Cut) -> Result<(Vec<u8>, Summary)> {
    if cut.guest_every == 0 {
        bail!("--guest-every must be at least 1");
    }
    let header_line = raw.split(|&b| b == b'\n').next().unwrap_or_default();
    if header_line.strip_suffix(b"\r").unwrap_or(header_line) != HEADER.as_bytes() {
        bail!("the first line is not the Online Retail header {HEADER}");
    }
    let lines = parse_orders_with_spans(raw)?;
    let parsed: Vec<_> = lines.iter().map(|(_, l)| l.clone()).collect();

    let buyers = distinct_buyers(&parsed);
    let mut ranked: Vec<(&String, &usize)> = buyers.iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let kept_products: HashSet<&str> = ranked.iter().take(cut.products).map(|(c, _)| c.as_str()).collect();

    // An invoice is a guest invoice when none of its lines names a customer.
    let mut has_kept_product: HashSet<&str> = HashSet::new();
    let mut has_customer: HashMap<&str, bool> = HashMap::new();
    for l in &parsed {
        if kept_products.contains(l.stock_code.as_str()) {
            has_kept_product.insert(&l.invoice);
        }
        *has_customer.entry(&l.invoice).or_default() |= l.customer.is_some();
    }
    let keep_invoice =
        |inv: &str| has_kept_product.contains(inv) && (has_customer.get(inv).copied().unwrap_or(false) || fnv1a(inv).is_multiple_of(cut.guest_every));

    let mut text = Vec::with_capacity(raw.len() / 2);
    // The header keeps its own terminator, exactly as in the source.
    text.extend_from_slice(&raw[..lines.first().map_or(raw.len(), |(span, _)| span.start)]);
    let mut summary =
        Summary { rows: 0, products: kept_products.len(), invoices: 0, customers: 0, cancellations: 0, guest_rows: 0, non_product_rows: 0, bytes: 0 };
    let mut invoices = HashSet::new();
    let mut customers = HashSet::new();
    for (span, l) in &lines {
        let product = is_product_code(&l.stock_code);
        if !keep_invoice(&l.invoice) || (product && !kept_products.contains(l.stock_code.as_str())) {
            continue;
        }
        text.extend_from_slice(&raw[span.clone()]);
        summary.rows += 1;
        invoices.insert(l.invoice.as_str());
        if let Some(c) = &l.customer {
            customers.insert(c.as_str());
        } else {
            summary.guest_rows += 1;
        }
        summary.cancellations += usize::from(l.is_cancellation());
        summary.non_product_rows += usize::from(!product);
    }
    summary.invoices = invoices.len();
    summary.customers = customers.len();

    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&text).context("gzip")?;
    let bytes = gz.finish().context("gzip")?;
    summary.bytes = bytes.len();
    Ok((bytes, summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::parse_orders;
    use std::io::Read;

    fn gunzip(b: &[u8]) -> String {
        let mut s = String::new();
        flate2::read::GzDecoder::new(b).read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn keeps_whole_invoices_messy_rows_and_exact_bytes() {
        let csv = format!(
            "{HEADER}\n\
             1,11111,POPULAR THING ,1,2011-01-01 10:00:00,1.0,1.0,United Kingdom\n\
             1,POST,POSTAGE,1,2011-01-01 10:00:00,18.0,1.0,United Kingdom\n\
             1,22222,RARE THING,1,2011-01-01 10:00:00,1.0,1.0,United Kingdom\n\
             2,11111,\"POPULAR, QUOTED\",2,2011-01-02 10:00:00,1.0,2.0,France\n\
             C3,11111,POPULAR THING ,-1,2011-01-03 10:00:00,1.0,2.0,France\n\
             4,11111,POPULAR THING ,1,2011-01-04 10:00:00,1.0,,United Kingdom\n"
        );
        let (gz, summary) = derive(csv.as_bytes(), Cut { products: 1, guest_every: 1 }).unwrap();
        let out = gunzip(&gz);
        let expected: Vec<&str> = csv.lines().filter(|l| !l.contains("RARE")).collect();
        assert_eq!(out, expected.join("\n") + "\n");
        assert_eq!(summary.rows, 5);
        assert_eq!((summary.cancellations, summary.guest_rows, summary.non_product_rows), (1, 1, 1));
        assert_eq!(parse_orders(out.as_bytes()).unwrap().len(), 5);
    }
}
