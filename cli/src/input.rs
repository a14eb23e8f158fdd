//! Reading the CLI's input files (CSV, optionally gzipped; JSON lines) with `file:line:col` errors.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use vitrine_engine::model::Interaction;
use vitrine_engine::orders::OrderLine;
use vitrine_engine::profile::{ItemEvent, Trait};
use vitrine_engine::uplift::{Conversion, Exposure};
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

fn read_text(path: &Path) -> Result<String, InputError> {
    let bytes = std::fs::read(path).map_err(|e| InputError(format!("{}: {e}", path.display())))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .map_err(|e| InputError(format!("{}: not valid gzipped UTF-8 text: {e}", path.display())))?;
        return Ok(s);
    }
    String::from_utf8(bytes).map_err(|e| InputError(format!("{}: not UTF-8 text: {e}", path.display())))
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

impl<'a> Csv<'a> {
    fn open(path: &'a Path, text: &'a str, required: &[&str]) -> Result<Csv<'a>, InputError> {
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| csv_error(path, &e))?.clone();
        let header: HashMap<String, usize> = headers.iter().enumerate().map(|(i, h)| (h.trim().to_owned(), i)).collect();
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
        vitrine_engine::time::parse(v).ok_or_else(|| self.error(name, format!("expected `YYYY-MM-DD HH:MM:SS` or RFC 3339, found {v:?}")))
    }

    fn number(&self, name: &str) -> Result<f64, InputError> {
        let v = self.required(name)?;
        v.parse::<f64>().ok().filter(|n| n.is_finite()).ok_or_else(|| self.error(name, format!("expected a number, found {v:?}")))
    }
}

/// `user,item,timestamp[,event][,quantity]`.
pub fn read_interactions(path: &Path) -> Result<Vec<Interaction>, InputError> {
    let text = read_text(path)?;
    let mut out = Vec::new();
    Csv::open(path, &text, &["user", "item", "timestamp"])?.for_each(|row| {
        let event = match row.get("event").unwrap_or("") {
            "" | "purchase" => ItemEvent::Purchase,
            "add_to_cart" => ItemEvent::AddToCart,
            "view" | "view_item" => ItemEvent::View,
            other => return Err(row.error("event", format!("expected purchase, add_to_cart or view, found {other:?}"))),
        };
        let quantity = match row.get("quantity") {
            None | Some("") => 1.0,
            Some(_) => row.number("quantity")?,
        };
        out.push(Interaction {
            user: row.required("user")?.to_owned(),
            item: row.required("item")?.to_owned(),
            time: row.time("timestamp")?,
            event,
            quantity,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Online Retail's columns: InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
/// CustomerID, Country.
pub fn read_orders(path: &Path) -> Result<Vec<OrderLine>, InputError> {
    let text = read_text(path)?;
    let mut out = Vec::new();
    Csv::open(path, &text, &["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"])?.for_each(|row| {
        out.push(OrderLine {
            invoice: row.required("InvoiceNo")?.to_owned(),
            stock_code: row.required("StockCode")?.to_owned(),
            quantity: row.number("Quantity")?,
            time: row.time("InvoiceDate")?,
            unit_price: row.number("UnitPrice")?,
            customer: row.get("CustomerID").filter(|c| !c.is_empty()).map(str::to_owned),
            country: row.get("Country").unwrap_or("").to_owned(),
        });
        Ok(())
    })?;
    Ok(out)
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TraitsLine {
    id: String,
    traits: BTreeMap<String, Trait>,
}

pub fn read_traits(path: &Path) -> Result<HashMap<String, BTreeMap<String, Trait>>, InputError> {
    Ok(json_lines::<TraitsLine>(path)?.into_iter().map(|t| (t.id, t.traits)).collect())
}

/// Exposure lines, plain or GA4 BigQuery export rows (`vitrine_engine::uplift::parse_exposure`),
/// and how many export rows of other events were skipped.
pub fn read_exposures(path: &Path) -> Result<(Vec<Exposure>, usize), InputError> {
    let mut skipped = 0;
    let mut out = Vec::new();
    engine_lines(path, |line| {
        match vitrine_engine::uplift::parse_exposure(line)? {
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
        out.push(vitrine_engine::uplift::parse_conversion(line)?);
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
    let text = read_text(path)?;
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
