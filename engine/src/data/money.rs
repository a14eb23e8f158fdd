//! Prices as a locale shows them (`£12.75`, `1.234,50 €`, `CHF 1'234.50`): [`MoneyFormat`], the
//! small format of one locale that a compiled site carries, and [`MoneyFormat::format`], the one
//! formatter every runtime applies to a catalog [`Price`].
//!
//! The CLDR data a format is taken from (`money_cldr`, generated from ICU by
//! scripts/gen-money.mjs, which also checks it) is on the compile side only: a site's `locale` is
//! resolved when the site is compiled ([`MoneyFormat::for_locale`]) and `vitrine bundle` keeps the
//! currencies its catalog prices in ([`MoneyFormat::retain`]), so the browser's production Wasm
//! carries a formatter of a few hundred bytes and no locale table, and the edge and the browser
//! format from the same bytes of the same bundle.

use crate::data::catalog::Price;

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
    /// The text before and after the number for a currency not in `currencies`; `¤` stands for its
    /// ISO code (CLDR shows the code of a currency it has no symbol for).
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
    /// `price` as this locale shows it, rounded half up to the currency's fraction digits.
    pub fn format(&self, price: &Price) -> String {
        let found = self.currencies.iter().find(|c| c.code == price.currency);
        let code = std::str::from_utf8(&price.currency).unwrap_or("XXX");
        let digits = found.map_or(2, |c| c.digits.min(2));
        let mut out = String::new();
        let affix = |out: &mut String, known: Option<&str>, template: &str| match known {
            Some(s) => out.push_str(s),
            // By hand, as `str::replace` would link the string searcher into the browser's Wasm.
            None => template.chars().for_each(|ch| if ch == '¤' { out.push_str(code) } else { out.push(ch) }),
        };
        affix(&mut out, found.map(|c| c.before.as_str()), &self.fallback.0);
        if price.cents < 0 {
            out.push('-');
        }
        let scale = if digits == 0 {
            100
        } else if digits == 1 {
            10
        } else {
            1
        };
        let units = (price.cents.unsigned_abs() + scale / 2) / scale;
        let one = 100 / scale;
        let whole = digits_of(units / one);
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
            if digits == 2 {
                out.push(char::from(b'0' + (frac / 10) as u8));
            }
            out.push(char::from(b'0' + (frac % 10) as u8));
        }
        affix(&mut out, found.map(|c| c.after.as_str()), &self.fallback.1);
        out
    }

    /// Keeps the currencies `keep` says a catalog prices in (`vitrine bundle`: a bundle carries the
    /// symbols its catalog shows, not the locale's whole list).
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8; 3]) -> bool) {
        self.currencies.retain(|c| keep(&c.code));
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

/// The decimal digits of `n` (ASCII), most significant first; `[b'0']` for zero. By hand: the
/// formatting machinery of `to_string` costs the browser's Wasm more than this function.
fn digits_of(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        out.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    out
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
    fn retain_keeps_the_listed_currencies_and_falls_back_to_codes() {
        let mut f = MoneyFormat::for_locale("en-GB").unwrap();
        f.retain(|c| c == b"GBP");
        assert_eq!(f.currencies.len(), 1);
        assert_eq!(f.format(&Price::parse("12.75 GBP").unwrap()), "£12.75");
        assert_eq!(f.format(&Price::parse("12.75 CHF").unwrap()), "CHF\u{a0}12.75");
        assert!(MoneyFormat::for_locale("xx-XX").is_none());
        assert!(MoneyFormat::locales().any(|l| l == DEFAULT_LOCALE));
    }
}
