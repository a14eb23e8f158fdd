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

/// How one locale writes prices: amounts grouped in threes (every supported locale does), its
/// separators, and each currency's symbol with the exact spacing (U+00A0, U+202F) around the
/// number.
///
/// Kept as the list of strings the compiled site carries (docs/formats.md, "Compiled site"), read
/// where it is used: a structure built from it cost the browser's Wasm a kilobyte of moves and drops.
/// `[locale, decimal, group, min_grouping, fallback_before, fallback_after, shop_currency]`, then per
/// currency in code order `[code and fraction digits ("EUR2", "JPY0"), before, after]`.
/// `min_grouping` is the digits beyond three from which the integer part is grouped ("1": `1,234`;
/// "2": es-ES `1234`, `12.345`); the fallback is the text around the number of a currency not
/// listed, whose ISO code CLDR shows instead of a symbol: first when there is text before the
/// number, else last. `shop_currency` is the one currency the bundle's catalog prices in (what a
/// template's `money(amount)` shows), empty when that is not known or not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyFormat {
    parts: Vec<String>,
}

/// Strings before the first currency's.
const HEAD: usize = 7;
/// Where the shop's currency is.
const SHOP_CURRENCY: usize = 6;

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
    fn part(&self, i: usize) -> &str {
        self.parts.get(i).map_or("", String::as_str)
    }

    /// The BCP 47 tag it was resolved from (`de-DE`).
    pub fn locale(&self) -> &str {
        self.part(0)
    }

    /// The currencies it has symbols for (`EUR`), in code order.
    pub fn currencies(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().skip(HEAD).step_by(3).map(|c| c.get(..3).unwrap_or_default())
    }

    /// `price` as this locale shows it, rounded half up to the currency's fraction digits (prices
    /// are never negative: the catalog's reader accepts digits only). Written with index loops and
    /// into bytes: iterator adapters and `String::push(char)` cost the browser's Wasm twice this.
    pub fn format(&self, price: &Price) -> String {
        let part = |i: usize| self.parts.get(i).map_or(&[][..], |s| s.as_bytes());
        let mut found = None;
        let mut i = HEAD;
        while i < self.parts.len() {
            if part(i).get(..3) == Some(&price.currency[..]) {
                found = Some(i);
                break;
            }
            i += 3;
        }
        let (digits, before, after) = match found {
            Some(i) => (part(i).get(3).map_or(2, |d| d.wrapping_sub(b'0')), part(i + 1), part(i + 2)),
            None => (2, part(4), part(5)),
        };
        // An unlisted currency's ISO code goes first when the fallback has text before the number
        // (`ZAR 12.75`), else last (`12,75 ZAR`).
        let code: &[u8] = if found.is_none() { &price.currency } else { &[] };
        let mut out: Vec<u8> = Vec::new();
        if !before.is_empty() {
            out.extend_from_slice(code);
        }
        out.extend_from_slice(before);
        // Hundredths rounded to the currency's digits, then split into whole units and the fraction.
        let scale = match digits {
            0 => 100,
            1 => 10,
            _ => 1,
        };
        let units = (price.cents.unsigned_abs() + scale / 2) / scale;
        let one = 100 / scale;
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
        let len = buf.len() - start;
        let min_grouping = usize::from(part(3).first().map_or(1, |d| d.wrapping_sub(b'0')));
        for (i, d) in buf[start..].iter().enumerate() {
            if len >= 3 + min_grouping && i > 0 && (len - i) % 3 == 0 {
                out.extend_from_slice(part(2));
            }
            out.push(*d);
        }
        if digits > 0 {
            out.extend_from_slice(part(1));
            let frac = units % one;
            if digits > 1 {
                out.push(b'0' + (frac / 10) as u8);
            }
            out.push(b'0' + (frac % 10) as u8);
        }
        out.extend_from_slice(after);
        if before.is_empty() {
            out.extend_from_slice(code);
        }
        // Whole UTF-8 strings and ASCII digits joined: always valid.
        String::from_utf8(out).unwrap_or_default()
    }

    /// The compiled site's form of this format (see [`MoneyFormat`]).
    #[cfg(feature = "compile")]
    pub(crate) fn parts(&self) -> &[String] {
        &self.parts
    }

    /// A compiled site's list (see [`MoneyFormat`]); `None` if it is not one. Its strings are not
    /// checked further (the compiled form is checksummed): the formatter reads any safely.
    pub(crate) fn from_parts(parts: Vec<String>) -> Option<MoneyFormat> {
        (parts.len() >= HEAD && (parts.len() - HEAD).is_multiple_of(3)).then_some(MoneyFormat { parts })
    }

    /// The currency a template's `money(amount)` shows: the one the bundle's catalog prices in
    /// (see [`MoneyFormat::keep_catalog`]); `None` before a catalog was seen or when it prices in
    /// several.
    pub fn shop_currency(&self) -> Option<[u8; 3]> {
        self.part(SHOP_CURRENCY).as_bytes().try_into().ok()
    }

    /// Takes `other`'s shop currency when this has none: a site compiled without a catalog (the
    /// preview panel's edits) replacing a bundle's keeps showing `money(amount)` in the shop's.
    pub fn inherit_shop_currency(&mut self, other: &MoneyFormat) {
        if let (Some(ours), Some(theirs)) = (self.parts.get_mut(SHOP_CURRENCY), other.parts.get(SHOP_CURRENCY)) {
            if ours.is_empty() {
                ours.clone_from(theirs);
            }
        }
    }

    /// `amount` (in hundredths, as a catalog [`Price`] holds it) in `currency`, or in the shop's
    /// currency: a template's `money()` hole. `None` when no currency is known.
    pub fn format_amount(&self, cents: i64, currency: Option<[u8; 3]>) -> Option<String> {
        Some(self.format(&Price { cents, currency: currency.or_else(|| self.shop_currency())? }))
    }

    /// Keeps the currencies `catalog` prices in, and those templates name (`also`: `money(x,
    /// 'EUR')`), and notes the catalog's currency as the shop's if it has one (`vitrine bundle`: a
    /// bundle carries the symbols it shows, one in most shops, not the locale's whole list).
    /// Returns the currencies among them it has no symbol for, in code order (they show the ISO
    /// code).
    pub fn keep_catalog(&mut self, catalog: &Catalog, also: &[[u8; 3]]) -> Vec<[u8; 3]> {
        let mut used: Vec<[u8; 3]> = catalog.products().iter().map(|p| p.price.currency).collect();
        used.sort_unstable();
        used.dedup();
        if let (Some(shop), [one]) = (self.parts.get_mut(SHOP_CURRENCY), used.as_slice()) {
            *shop = String::from_utf8_lossy(one).into_owned();
        }
        used.extend_from_slice(also);
        used.sort_unstable();
        used.dedup();
        let mut kept: Vec<String> = self.parts.drain(..).collect();
        let currencies = kept.split_off(HEAD.min(kept.len()));
        for c in currencies.chunks(3) {
            if used.iter().any(|u| c[0].as_bytes().get(..3) == Some(&u[..])) {
                kept.extend_from_slice(c);
            }
        }
        self.parts = kept;
        used.retain(|code| !self.currencies().any(|c| c.as_bytes() == code));
        used
    }

    /// The format of a supported locale (a BCP 47 tag, case-insensitive: `de-DE`, `de-de`).
    #[cfg(feature = "compile")]
    pub fn for_locale(tag: &str) -> Option<MoneyFormat> {
        use super::money_cldr::{DIGITS, LOCALES};
        let row = LOCALES.iter().find(|r| r.tag.eq_ignore_ascii_case(tag.trim()))?;
        let mut parts: Vec<String> = [row.tag, row.decimal, row.group].map(str::to_owned).into();
        parts.extend([row.min_grouping.to_string(), row.fallback.0.to_owned(), row.fallback.1.to_owned(), String::new()]);
        for ((code, digits), (before, after)) in DIGITS.iter().zip(row.symbols) {
            parts.extend([format!("{code}{digits}"), (*before).to_owned(), (*after).to_owned()]);
        }
        MoneyFormat::from_parts(parts)
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
        assert_eq!(f.shop_currency(), None);
        assert_eq!(f.clone().keep_catalog(&catalog, &[]), [*b"ZAR"]);
        assert_eq!(f.keep_catalog(&catalog, &[*b"EUR", *b"GBP"]), [*b"ZAR"]);
        assert_eq!(f.currencies().collect::<Vec<_>>(), ["EUR", "GBP"]);
        // Two currencies: no shop currency, so `money(x)` shows its fallback.
        assert_eq!(f.shop_currency(), None);
        assert_eq!(f.format_amount(1275, None), None);
        assert_eq!(f.format_amount(1275, Some(*b"EUR")).as_deref(), Some("€12.75"));
        assert_eq!(f.format(&Price::parse("12.75 GBP").unwrap()), "£12.75");
        assert_eq!(f.format(&Price::parse("12.75 CHF").unwrap()), "CHF\u{a0}12.75");
        assert!(MoneyFormat::for_locale("xx-XX").is_none());
        assert!(MoneyFormat::locales().any(|l| l == DEFAULT_LOCALE));
    }

    #[test]
    fn a_catalog_in_one_currency_is_the_shops_currency() {
        let mut f = MoneyFormat::for_locale("de-DE").unwrap();
        let catalog = Catalog::from_json(r#"{"v":1,"products":[{"id":"a","title":"A","link":"/a","price":"1 EUR"}]}"#).unwrap();
        assert!(f.keep_catalog(&catalog, &[]).is_empty());
        assert_eq!(f.shop_currency(), Some(*b"EUR"));
        assert_eq!(f.format_amount(123450, None).as_deref(), Some("1.234,50\u{a0}€"));
        assert_eq!(f.format_amount(1275, Some(*b"GBP")).as_deref(), Some("12,75\u{a0}GBP"), "not kept: the ISO code");
        let back = MoneyFormat::from_parts(f.parts().to_vec()).unwrap();
        assert_eq!(back, f);
        // A site compiled without a catalog takes it over from the bundle's.
        let mut edited = MoneyFormat::for_locale("de-AT").unwrap();
        edited.inherit_shop_currency(&f);
        assert_eq!(edited.shop_currency(), Some(*b"EUR"));
    }
}
