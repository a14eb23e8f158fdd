//! Reading the CLI's input files (CSV, optionally gzipped; JSON lines) with `file:line:col` errors.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use vitrine_engine::analytics::uplift::{Conversion, Exposure};
use vitrine_engine::model::Interaction;
use vitrine_engine::orders::OrderLine;
use vitrine_engine::profile::{ItemEvent, Trait};
use vitrine_engine::FormatError;

/// Bad input (as opposed to an internal failure): exit code 2.
#[derive(Debug)]
pub struct InputError(pub String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// The most a gzipped input may inflate to, in bytes, unless `VITRINE_MAX_INFLATED_MB` says
/// otherwise: a few times Online Retail's 45 MB, far below what a small "gzip bomb" expands to.
pub const MAX_INFLATED: u64 = 512 << 20;

fn max_inflated() -> u64 {
    std::env::var("VITRINE_MAX_INFLATED_MB").ok().and_then(|v| v.trim().parse::<u64>().ok()).map_or(MAX_INFLATED, |mb| mb.saturating_mul(1 << 20))
}

/// Reads a text input, gunzipping it (streamed, bounded by [`MAX_INFLATED`]) when it starts with
/// gzip's magic bytes.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let io = |e: std::io::Error| InputError(format!("{}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic).map_err(io)?;
    let mut bytes = magic[..n].to_vec();
    if magic[..n] == [0x1f, 0x8b] {
        let limit = max_inflated();
        let mut inflated = Vec::new();
        flate2::read::MultiGzDecoder::new(std::io::Read::chain(&magic[..], file))
            .take(limit.saturating_add(1))
            .read_to_end(&mut inflated)
            .map_err(|e| InputError(format!("{}: not valid gzip: {e}", path.display())))?;
        if inflated.len() as u64 > limit {
            return Err(InputError(format!(
                "{}: inflates to more than {} MB, the limit for gzipped input (set VITRINE_MAX_INFLATED_MB to raise it)",
                path.display(),
                limit >> 20
            )));
        }
        bytes = inflated;
    } else {
        file.read_to_end(&mut bytes).map_err(io)?;
    }
    decode_text(path, bytes)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// UTF-8 text, or an error at the `line:col` of the first byte that is not.
pub fn decode_text(path: &Path, bytes: Vec<u8>) -> Result<String, InputError> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let (line, col) = line_col(&bytes[..at]);
        InputError(format!("{}:{line}:{col}: expected UTF-8 text, found the byte 0x{:02x}", path.display(), bytes[at]))
    })
}

/// The 1-based line and column (in characters) just after `valid`, which is UTF-8.
fn line_col(valid: &[u8]) -> (usize, usize) {
    let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = std::str::from_utf8(&valid[line_start..]).map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// A CSV reader over a whole file, with column lookup by header name and located errors.
struct Csv<'a> {
    path: &'a Path,
    header: HashMap<String, usize>,
    reader: csv::Reader<&'a [u8]>,
}

struct Row<'r> {
    path: &'r Path,
    record: &'r csv::StringRecord,
    header: &'r HashMap<String, usize>,
}

/// The header line's delimiter: comma, semicolon (Shopware, and spreadsheets in locales with a
/// decimal comma) or tab, whichever it has most of; a comma when it has none.
fn delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let count = |d: char| header.matches(d).count();
    [b';', b'\t'].into_iter().fold(b',', |best, d| if count(char::from(d)) > count(char::from(best)) { d } else { best })
}

impl<'a> Csv<'a> {
    fn open(path: &'a Path, text: &'a str, required: &[&str]) -> Result<Csv<'a>, InputError> {
        let mut reader = csv::ReaderBuilder::new().flexible(false).delimiter(delimiter(text)).from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| csv_error(path, &e))?.clone();
        let header: HashMap<String, usize> = headers.iter().enumerate().map(|(i, h)| (h.trim().trim_start_matches('\u{feff}').to_owned(), i)).collect();
        for r in required {
            if !header.contains_key(*r) {
                return Err(InputError(format!(
                    "{}:1:1: expected a `{r}` column in the header, found {:?}",
                    path.display(),
                    headers.iter().collect::<Vec<_>>()
                )));
            }
        }
        Ok(Csv { path, header, reader })
    }

    fn for_each(mut self, mut f: impl FnMut(&Row) -> Result<(), InputError>) -> Result<(), InputError> {
        let mut record = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => f(&Row { path: self.path, record: &record, header: &self.header })?,
                Err(e) => return Err(csv_error(self.path, &e)),
            }
        }
    }
}

fn csv_error(path: &Path, e: &csv::Error) -> InputError {
    match e.position() {
        Some(p) => InputError(format!("{}:{}:1: {}", path.display(), p.line(), e.kind_message())),
        None => InputError(format!("{}: {e}", path.display())),
    }
}

trait KindMessage {
    fn kind_message(&self) -> String;
}

impl KindMessage for csv::Error {
    fn kind_message(&self) -> String {
        match self.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("expected {expected_len} fields, found {len}")
            }
            csv::ErrorKind::Utf8 { .. } => "invalid UTF-8".to_owned(),
            _ => self.to_string(),
        }
    }
}

impl Row<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(|&i| self.record.get(i)).map(str::trim)
    }

    fn error(&self, name: &str, msg: String) -> InputError {
        let line = self.record.position().map_or(0, |p| p.line());
        // The record's ranges exclude delimiters: add one per preceding field (exact for unquoted fields).
        let col = self.header.get(name).and_then(|&i| self.record.range(i).map(|r| r.start + i + 1)).unwrap_or(1);
        InputError(format!("{}:{line}:{col}: field `{name}`: {msg}", self.path.display()))
    }

    fn required(&self, name: &str) -> Result<&str, InputError> {
        match self.get(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(self.error(name, "expected a value, found an empty field".to_owned())),
        }
    }

    fn time(&self, name: &str) -> Result<i64, InputError> {
        let v = self.required(name)?;
        vitrine_engine::time::parse_export(v).ok_or_else(|| self.error(name, format!("expected `YYYY-MM-DD HH:MM:SS` or RFC 3339, found {v:?}")))
    }

    fn number(&self, name: &str) -> Result<f64, InputError> {
        let v = self.required(name)?;
        v.parse::<f64>().ok().filter(|n| n.is_finite()).ok_or_else(|| self.error(name, format!("expected a number, found {v:?}")))
    }
}

/// `user,item,timestamp[,event][,quantity]`.
pub fn read_interactions(path: &Path) -> Result<Vec<Interaction>, InputError> {
    parse_interactions(path, &read_text(path)?)
}

/// [`read_interactions`] on text already read; `path` names it in errors.
pub fn parse_interactions(path: &Path, text: &str) -> Result<Vec<Interaction>, InputError> {
    let mut out = Vec::new();
    Csv::open(path, text, &["user", "item", "timestamp"])?.for_each(|row| {
        let event = match row.get("event").unwrap_or("") {
            "" | "purchase" => ItemEvent::Purchase,
            "add_to_cart" => ItemEvent::AddToCart,
            "view" | "view_item" => ItemEvent::View,
            other => return Err(row.error("event", format!("expected purchase, add_to_cart or view, found {other:?}"))),
        };
        let quantity = match row.get("quantity") {
            None | Some("") => 1.0,
            // A weight: a negative one would push items apart, which no interaction means.
            Some(_) => match row.number("quantity")? {
                q if q >= 0.0 => q,
                q => return Err(row.error("quantity", format!("expected a quantity >= 0, found {q}"))),
            },
        };
        out.push(Interaction { user: row.required("user")?.to_owned(), item: row.required("item")?.to_owned(), time: row.time("timestamp")?, event, quantity });
        Ok(())
    })?;
    Ok(out)
}

/// Online Retail's columns: InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
/// CustomerID, Country.
pub fn read_orders(path: &Path) -> Result<Vec<OrderLine>, InputError> {
    Ok(read_order_export(path, &Columns::online_retail())?.0)
}

/// The fields of an order line `--columns` can map, in the order docs/kpis.md lists them.
pub const FIELDS: [&str; 8] = ["invoice", "product", "quantity", "time", "price", "customer", "country", "cancelled"];

/// Which header holds each field of an order line. The four first are required; a field without a
/// column is left empty (every line a guest's without `customer`, none cancelled without `cancelled`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub invoice: String,
    pub quantity: String,
    pub time: String,
    pub price: String,
    pub product: Option<String>,
    pub customer: Option<String>,
    pub country: Option<String>,
    /// A non-empty value marks the line's order as cancelled (Shopify's `Cancelled at`).
    pub cancelled: Option<String>,
    /// Online Retail's stock codes are required: `profiles` keys items by them.
    product_required: bool,
}

impl Columns {
    pub fn online_retail() -> Columns {
        Columns {
            invoice: "InvoiceNo".into(),
            quantity: "Quantity".into(),
            time: "InvoiceDate".into(),
            price: "UnitPrice".into(),
            product: Some("StockCode".into()),
            customer: Some("CustomerID".into()),
            country: Some("Country".into()),
            cancelled: None,
            product_required: true,
        }
    }

    /// Shopify's order export (Orders → Export → CSV), one row per line item.
    pub fn shopify() -> Columns {
        Columns {
            invoice: "Name".into(),
            quantity: "Lineitem quantity".into(),
            time: "Created at".into(),
            price: "Lineitem price".into(),
            product: Some("Lineitem sku".into()),
            customer: Some("Email".into()),
            country: Some("Billing Country".into()),
            cancelled: Some("Cancelled at".into()),
            product_required: false,
        }
    }

    /// Shopware 5's `default_orders` export profile (SwagImportExport), one row per order position,
    /// semicolon-separated. Cancelled orders have no column of their own (their `orderStatusID` is
    /// -1 or 4): leave them out with the export's status filter.
    pub fn shopware5() -> Columns {
        Columns {
            invoice: "orderId".into(),
            quantity: "quantity".into(),
            time: "orderTime".into(),
            price: "price".into(),
            product: Some("articleNumber".into()),
            customer: Some("customerId".into()),
            country: None,
            cancelled: None,
            product_required: false,
        }
    }

    /// `--columns`: presets (`online-retail`, `shopify`, `shopware5`) and `field=Header` pairs separated by
    /// commas, applied in order over Online Retail's columns (`field=` unmaps an optional field);
    /// `@FILE` reads the same items from a file, one per line (so headers may hold commas), `#`
    /// starting a comment.
    pub fn parse(spec: &str) -> Result<Columns, InputError> {
        if let Some(file) = spec.strip_prefix('@') {
            let path = Path::new(file);
            let text = read_text(path)?;
            let mut columns = Columns::online_retail();
            for (i, line) in text.lines().enumerate() {
                let item = line.split('#').next().unwrap_or("").trim();
                if !item.is_empty() {
                    columns.apply(item).map_err(|e| InputError(format!("{}:{}:1: {e}", path.display(), i + 1)))?;
                }
            }
            return Ok(columns);
        }
        let mut columns = Columns::online_retail();
        for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            columns.apply(item).map_err(|e| InputError(format!("--columns: {e}")))?;
        }
        Ok(columns)
    }

    fn apply(&mut self, item: &str) -> Result<(), String> {
        let Some((field, header)) = item.split_once('=') else {
            *self = match item {
                "online-retail" => Columns::online_retail(),
                "shopify" => Columns::shopify(),
                "shopware5" => Columns::shopware5(),
                _ => return Err(format!("expected a preset (online-retail, shopify, shopware5) or `field=Header`, found {item:?}")),
            };
            return Ok(());
        };
        let (field, header) = (field.trim(), header.trim().to_owned());
        let optional = (!header.is_empty()).then(|| header.clone());
        match field {
            "invoice" | "quantity" | "time" | "price" if header.is_empty() => return Err(format!("field `{field}` needs a column")),
            "invoice" => self.invoice = header,
            "quantity" => self.quantity = header,
            "time" => self.time = header,
            "price" => self.price = header,
            "product" => {
                self.product = optional;
                self.product_required = false;
            }
            "customer" => self.customer = optional,
            "country" => self.country = optional,
            "cancelled" => self.cancelled = optional,
            _ => return Err(format!("unknown field `{field}`: expected one of {}", FIELDS.join(", "))),
        }
        Ok(())
    }

    /// (field, header) of every mapped column.
    fn mapped(&self) -> Vec<(&'static str, &str)> {
        let optional = [("product", &self.product), ("customer", &self.customer), ("country", &self.country), ("cancelled", &self.cancelled)];
        [("invoice", self.invoice.as_str()), ("quantity", &self.quantity), ("time", &self.time), ("price", &self.price)]
            .into_iter()
            .chain(optional.into_iter().filter_map(|(f, h)| Some((f, h.as_deref()?))))
            .collect()
    }
}

/// Order lines through a column mapping, and how many lines of cancelled orders (`cancelled`) were
/// left out. Exports that write an order's own fields (time, customer, country, cancellation) on its
/// first line only, as Shopify's does, are read by carrying them over to the order's next lines.
pub fn read_order_export(path: &Path, columns: &Columns) -> Result<(Vec<OrderLine>, usize), InputError> {
    parse_order_export(path, &read_text(path)?, columns)
}

/// The largest amount (quantity × unit price, either sign) an order line may have: far above any
/// real line, and low enough that no sum of lines in memory overflows to infinity.
pub const MAX_LINE_AMOUNT: f64 = 1e15;

/// [`read_order_export`] on text already read; `path` names it in errors.
pub fn parse_order_export(path: &Path, text: &str, columns: &Columns) -> Result<(Vec<OrderLine>, usize), InputError> {
    let csv = Csv::open(path, text, &[])?;
    for (field, header) in columns.mapped() {
        if !csv.header.contains_key(header) {
            let mut found: Vec<(&String, &usize)> = csv.header.iter().collect();
            found.sort_by_key(|(_, i)| **i);
            let found: Vec<&String> = found.into_iter().map(|(h, _)| h).collect();
            return Err(InputError(format!("{}:1:1: expected a `{header}` column (field `{field}`) in the header, found {found:?}", path.display())));
        }
    }
    let mut out: Vec<OrderLine> = Vec::new();
    let mut cancelled_lines = 0;
    // The previous line's invoice and its order fields: time, customer, country, cancelled.
    let mut previous: Option<(String, i64, Option<String>, String, bool)> = None;
    csv.for_each(|row| {
        let invoice = row.required(&columns.invoice)?.to_owned();
        let same = previous.as_ref().filter(|p| p.0 == invoice);
        let text = |header: &Option<String>| header.as_deref().and_then(|h| row.get(h)).filter(|v| !v.is_empty());
        let time = match (row.get(&columns.time).filter(|v| !v.is_empty()), same) {
            (None, Some(p)) => p.1,
            _ => row.time(&columns.time)?,
        };
        let customer = text(&columns.customer).map(str::to_owned).or_else(|| same.and_then(|p| p.2.clone()));
        let country = text(&columns.country).map(str::to_owned).or_else(|| same.map(|p| p.3.clone())).unwrap_or_default();
        let cancelled = text(&columns.cancelled).is_some() || same.is_some_and(|p| p.4);
        let stock_code = match &columns.product {
            Some(h) if columns.product_required => row.required(h)?.to_owned(),
            Some(h) => row.get(h).unwrap_or("").to_owned(),
            None => String::new(),
        };
        let line =
            OrderLine { invoice, stock_code, quantity: row.number(&columns.quantity)?, time, unit_price: row.number(&columns.price)?, customer, country };
        // Negative quantities stay: they are returns and cancellations in Online Retail.
        let amount = line.quantity * line.unit_price;
        if amount.is_nan() || amount.abs() > MAX_LINE_AMOUNT {
            return Err(row.error(
                &columns.quantity,
                format!("expected quantity × price within ±{MAX_LINE_AMOUNT:e}, found {:e} × {:e} = {amount:e}", line.quantity, line.unit_price),
            ));
        }
        previous = Some((line.invoice.clone(), time, line.customer.clone(), line.country.clone(), cancelled));
        if cancelled {
            cancelled_lines += 1;
        } else {
            out.push(line);
        }
        Ok(())
    })?;
    Ok((out, cancelled_lines))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    pub user: String,
    pub items: Vec<String>,
}

/// JSON lines `{"user": "...", "items": [...]}`, oldest item first.
pub fn read_histories(path: &Path) -> Result<Vec<History>, InputError> {
    json_lines(path)
}

/// [`read_histories`] on text already read; `path` names it in errors.
pub fn parse_histories(path: &Path, text: &str) -> Result<Vec<History>, InputError> {
    parse_json_lines(path, text)
}

/// One customer's line of `profiles --traits`: traits, and the consent the shop recorded for them
/// (`"consent": {"personalization": true}`, as in the snapshot), or neither.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraitsLine {
    id: String,
    #[serde(default)]
    pub traits: BTreeMap<String, Trait>,
    #[serde(default)]
    pub consent: Option<ConsentLine>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentLine {
    pub personalization: bool,
}

/// The traits file by customer id; a later line for the same id replaces an earlier one.
pub fn read_traits(path: &Path) -> Result<HashMap<String, TraitsLine>, InputError> {
    Ok(json_lines::<TraitsLine>(path)?.into_iter().map(|t| (t.id.clone(), t)).collect())
}

/// Exposure lines, plain or GA4 BigQuery export rows (`vitrine_engine::analytics::uplift::parse_exposure`),
/// and how many export rows of other events were skipped.
pub fn read_exposures(path: &Path) -> Result<(Vec<Exposure>, usize), InputError> {
    let mut skipped = 0;
    let mut out = Vec::new();
    engine_lines(path, |line| {
        match vitrine_engine::analytics::uplift::parse_exposure(line)? {
            Some(e) => out.push(e),
            None => skipped += 1,
        }
        Ok(())
    })?;
    Ok((out, skipped))
}

/// Conversion lines `{"visitor", "time", "value"}`.
pub fn read_conversions(path: &Path) -> Result<Vec<Conversion>, InputError> {
    let mut out = Vec::new();
    engine_lines(path, |line| {
        out.push(vitrine_engine::analytics::uplift::parse_conversion(line)?);
        Ok(())
    })?;
    Ok(out)
}

/// JSON lines read by an engine parser: its error's column is within the line, the line is the file's.
fn engine_lines(path: &Path, mut f: impl FnMut(&str) -> Result<(), FormatError>) -> Result<(), InputError> {
    let text = read_text(path)?;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        f(line).map_err(|e| InputError(format!("{}:{}:{}: {}", path.display(), i + 1, e.column.max(1), e.describe())))?;
    }
    Ok(())
}

fn json_lines<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, InputError> {
    parse_json_lines(path, &read_text(path)?)
}

fn parse_json_lines<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<Vec<T>, InputError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v = serde_json::from_str(line).map_err(|e| {
            let mut msg = e.to_string();
            if let Some(at) = msg.rfind(" at line ") {
                msg.truncate(at);
            }
            InputError(format!("{}:{}:{}: {msg}", path.display(), i + 1, e.column()))
        })?;
        out.push(v);
    }
    Ok(out)
}
