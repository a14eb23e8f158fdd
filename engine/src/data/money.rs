//! Prices as a locale shows them (`£12.75`, `1.234,50 €`, `CHF 1'234.50`): [`MoneyFormat`], the
//! small format of one locale that a compiled site carries, and [`MoneyFormat::format`], the one
//! formatter every runtime applies to a catalog [`Price`].
//!
//! The CLDR data a format is taken from (`money_cldr`, generated from ICU by
//! scripts/gen-money.mjs, which also checks it) is on the compile side only: a site's `locale` is
//! resolved when the site is compiled ([`MoneyFormat::for_locale`]) and `vitrine bundle` keeps the
//! currencies its catalog prices in ([`MoneyFormat::keep_catalog`]), so the browser's production Wasm
//! carries a formatter of a few hundred bytes and no locale table, and the edge and the browser
//! format from the same bytes of the same bundle.

use crate::data::catalog::{Catalog, Price};

/// The locale of a site configuration without `locale`: "£12.75", as prices always showed.
pub const DEFAULT_LOCALE: &str = "en-GB";

/// How one locale writes prices. Amounts are grouped in threes (every supported locale does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyFormat {
    /// The BCP 47 tag it was resolved from (`de-DE`), for traces and errors.
    pub locale: String,
    pub decimal: String,
    pub group: String,
    /// Integer digits beyond three before grouping starts: 1 (`1,234`) or 2 (es-ES `1234`, `12.345`).
    pub min_grouping: u8,
    /// The text before and after the number for a currency not in `currencies`, whose ISO code
    /// CLDR shows instead of a symbol: first when there is text before the number, else last.
    pub fallback: (String, String),
    /// In code order.
    pub currencies: Vec<CurrencyFormat>,
}

/// One currency in one locale: its symbol with the exact spacing (U+00A0, U+202F) around the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyFormat {
    pub code: [u8; 3],
    /// Fraction digits (CLDR's: 0 for JPY, HUF, ISK), at most 2, as prices are kept in hundredths.
    pub digits: u8,
    pub before: String,
    pub after: String,
}

/// One row of the generated table (`money_cldr.rs`).
#[cfg(feature = "compile")]
pub(crate) struct LocaleRow {
    pub tag: &'static str,
    pub decimal: &'static str,
    pub group: &'static str,
    pub min_grouping: u8,
    pub fallback: (&'static str, &'static str),
    /// Before and after the number, one per currency of `DIGITS`, in its order.
    pub symbols: &'static [(&'static str, &'static str)],
}

impl MoneyFormat {
    /// `price` as this locale shows it, rounded half up to the currency's fraction digits (prices
    /// are never negative: the catalog's reader accepts digits only).
    pub fn format(&self, price: &Price) -> String {
        let found = self.currencies.iter().find(|c| c.code == price.currency);
        let (digits, before, after) = match found {
            Some(c) => (c.digits, &c.before, &c.after),
            None => (2, &self.fallback.0, &self.fallback.1),
        };
        // An unlisted currency's ISO code goes first when the fallback has text before the number
        // (`ZAR 12.75`), else last (`12,75 ZAR`).
        let code = std::str::from_utf8(&price.currency).unwrap_or("XXX");
        let (code_first, code_last) = (found.is_none() && !before.is_empty(), found.is_none() && before.is_empty());
        let mut out = String::new();
        if code_first {
            out.push_str(code);
        }
        out.push_str(before);
        // Hundredths rounded to the currency's digits, then split into whole units and the fraction.
        let scale = match digits {
            0 => 100,
            1 => 10,
            _ => 1,
        };
        let units = (price.cents.unsigned_abs() + scale / 2) / scale;
        let one = 100 / scale;
        // The whole part's digits, by hand: `to_string`'s formatting machinery costs the browser's
        // Wasm more than this.
        let mut buf = [0u8; 20];
        let (mut n, mut start) = (units / one, buf.len());
        loop {
            start -= 1;
            buf[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let whole = &buf[start..];
        let grouped = whole.len() >= 3 + usize::from(self.min_grouping);
        for (i, d) in whole.iter().enumerate() {
            if grouped && i > 0 && (whole.len() - i) % 3 == 0 {
                out.push_str(&self.group);
            }
            out.push(char::from(*d));
        }
        if digits > 0 {
            out.push_str(&self.decimal);
            let frac = units % one;
            if digits > 1 {
                out.push(char::from(b'0' + (frac / 10) as u8));
            }
            out.push(char::from(b'0' + (frac % 10) as u8));
        }
        out.push_str(after);
        if code_last {
            out.push_str(code);
        }
        out
    }

    /// The compiled site's form of this format: one list of strings (docs/formats.md): the locale,
    /// the decimal and group separators, the minimum grouping as a digit, the fallback's text before
    /// and after, then per currency its code and fraction digits (`EUR2`), its text before and after.
    #[cfg(feature = "compile")]
    pub(crate) fn to_parts(&self) -> Vec<String> {
        let mut out = vec![self.locale.clone(), self.decimal.clone(), self.group.clone(), self.min_grouping.to_string()];
        out.extend([self.fallback.0.clone(), self.fallback.1.clone()]);
        for c in &self.currencies {
            out.push(format!("{}{}", String::from_utf8_lossy(&c.code), c.digits));
            out.extend([c.before.clone(), c.after.clone()]);
        }
        out
    }

    /// Reads [`MoneyFormat::to_parts`]' list; `None` if it is not one. One list read by one call
    /// keeps the browser's reader of it small.
    pub(crate) fn from_parts(parts: Vec<String>) -> Option<MoneyFormat> {
        let n = parts.len();
        if n < 6 || (n - 6) % 3 != 0 {
            return None;
        }
        let mut it = parts.into_iter();
        let mut next = move || it.next().unwrap_or_default();
        let (locale, decimal, group, min_grouping) = (next(), next(), next(), next());
        let min_grouping = match min_grouping.as_bytes() {
            [d @ b'1'..=b'3'] => d - b'0',
            _ => return None,
        };
        let fallback = (next(), next());
        let mut currencies: Vec<CurrencyFormat> = Vec::new();
        for _ in 0..(n - 6) / 3 {
            let (code, before, after) = (next(), next(), next());
            let (code, digits) = match code.as_bytes() {
                [a, b, c, d @ b'0'..=b'2'] => ([*a, *b, *c], d - b'0'),
                _ => return None,
            };
            if currencies.last().is_some_and(|l| l.code >= code) {
                return None;
            }
            currencies.push(CurrencyFormat { code, digits, before, after });
        }
        Some(MoneyFormat { locale, decimal, group, min_grouping, fallback, currencies })
    }

    /// Keeps the currencies `catalog` prices in (`vitrine bundle`: a bundle carries the symbols its
    /// catalog shows, one in most shops, not the locale's whole list) and returns the catalog's
    /// currencies it has no symbol for, in code order (their prices show the ISO code).
    pub fn keep_catalog(&mut self, catalog: &Catalog) -> Vec<[u8; 3]> {
        let mut used: Vec<[u8; 3]> = catalog.products().iter().map(|p| p.price.currency).collect();
        used.sort_unstable();
        used.dedup();
        self.currencies.retain(|c| used.contains(&c.code));
        used.retain(|code| !self.currencies.iter().any(|c| &c.code == code));
        used
    }

    /// The format of a supported locale (a BCP 47 tag, case-insensitive: `de-DE`, `de-de`).
    #[cfg(feature = "compile")]
    pub fn for_locale(tag: &str) -> Option<MoneyFormat> {
        use super::money_cldr::{DIGITS, LOCALES};
        let row = LOCALES.iter().find(|r| r.tag.eq_ignore_ascii_case(tag.trim()))?;
        let currencies = DIGITS
            .iter()
            .zip(row.symbols)
            .map(|((code, digits), (before, after))| CurrencyFormat {
                code: code.as_bytes().try_into().unwrap_or(*b"XXX"),
                digits: *digits,
                before: (*before).to_owned(),
                after: (*after).to_owned(),
            })
            .collect();
        Some(MoneyFormat {
            locale: row.tag.to_owned(),
            decimal: row.decimal.to_owned(),
            group: row.group.to_owned(),
            min_grouping: row.min_grouping,
            fallback: (row.fallback.0.to_owned(), row.fallback.1.to_owned()),
            currencies,
        })
    }

    /// Every supported locale's tag, in order.
    #[cfg(feature = "compile")]
    pub fn locales() -> impl Iterator<Item = &'static str> {
        super::money_cldr::LOCALES.iter().map(|r| r.tag)
    }
}

#[cfg(test)]
#[cfg(feature = "compile")]
mod tests {
    use super::*;

    fn check(locale: &str, price: &str, want: &str) {
        let f = MoneyFormat::for_locale(locale).unwrap();
        assert_eq!(f.format(&Price::parse(price).unwrap()), want, "{locale} {price}");
    }

    #[test]
    fn formats_as_cldr() {
        check("en-GB", "12.75 GBP", "£12.75");
        check("en-GB", "0 GBP", "£0.00");
        check("en-GB", "1234567.05 EUR", "€1,234,567.05");
        check("de-DE", "2.95 EUR", "2,95\u{a0}€");
        check("es-ES", "1234.5 EUR", "1234,50\u{a0}€");
        check("es-ES", "12345.5 EUR", "12.345,50\u{a0}€");
        check("de-CH", "1234.5 CHF", "CHF\u{a0}1'234.50");
        check("en-GB", "1234.5 JPY", "JP¥1,235");
        check("en-GB", "1234.49 JPY", "JP¥1,234");
        check("en-GB", "12.75 MXN", "MXN\u{a0}12.75");
        check("de-DE", "12.75 MXN", "12,75\u{a0}MXN");
        check("de-de", "12.75 EUR", "12,75\u{a0}€");
    }

    #[test]
    fn keep_catalog_keeps_its_currencies_and_names_those_without_a_symbol() {
        let mut f = MoneyFormat::for_locale("en-GB").unwrap();
        let catalog = Catalog::from_json(
            r#"{"v":1,"products":[{"id":"a","title":"A","link":"/a","price":"1 GBP"},{"id":"b","title":"B","link":"/b","price":"2 ZAR"},{"id":"c","title":"C","link":"/c","price":"3 GBP"}]}"#,
        )
        .unwrap();
        assert_eq!(f.keep_catalog(&catalog), [*b"ZAR"]);
        assert_eq!(f.currencies.len(), 1);
        assert_eq!(f.format(&Price::parse("12.75 GBP").unwrap()), "£12.75");
        assert_eq!(f.format(&Price::parse("12.75 CHF").unwrap()), "CHF\u{a0}12.75");
        assert!(MoneyFormat::for_locale("xx-XX").is_none());
        assert!(MoneyFormat::locales().any(|l| l == DEFAULT_LOCALE));
    }
}
