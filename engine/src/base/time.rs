//! RFC 3339 timestamps <-> Unix seconds, without a clock and without a date library.
//!
//! The engine needs only "parse a timestamp" and "print one", in UTC; a date crate would add tens of
//! kilobytes to the browser build for that, so the civil-calendar arithmetic (Howard Hinnant's
//! `days_from_civil`) is done in a few lines, in `vitrine_cel`, which CEL timestamps share.

use vitrine_cel::civil_from_days;

/// Seconds since 1970-01-01T00:00:00Z.
pub type Seconds = i64;

/// Parses an RFC 3339 time, `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` between years 1 and 9999: what
/// every format a runtime reads says (docs/formats.md). Returns `None` for anything else. The same
/// reader as CEL's `timestamp()` ([`vitrine_cel::Timestamp::parse_lenient`]), so a runtime carries
/// one; a leap second is read as the second before it.
pub fn parse(s: &str) -> Option<Seconds> {
    vitrine_cel::Timestamp::parse_lenient(s).map(vitrine_cel::Timestamp::secs)
}

/// [`parse`], and the forms order exports write: `YYYY-MM-DD HH:MM:SS` (taken as UTC), or with an
/// offset after a space, `YYYY-MM-DD HH:MM:SS ±HHMM` (Shopify's order export writes
/// `2024-01-15 10:23:45 +0100`). For the CLI's order readers.
pub fn parse_export(s: &str) -> Option<Seconds> {
    parse(s).or_else(|| parse_space(s))
}

/// The export forms, rewritten as RFC 3339 for [`parse`]: the space between date and time a `T`,
/// no offset `Z`, an offset's colon put back, the space before it dropped.
fn parse_space(s: &str) -> Option<Seconds> {
    let (date, time) = (s.get(..10)?, s.get(10..19)?.strip_prefix(' ')?);
    let rest = &s[19..];
    let digits = rest.strip_prefix('.').map_or(0, |f| 1 + f.bytes().take_while(u8::is_ascii_digit).count());
    let (fraction, offset) = rest.split_at(digits);
    let offset = match offset.strip_prefix(' ').unwrap_or(offset) {
        "" => "Z".to_owned(),
        o if o.len() == 5 && o.is_char_boundary(3) => format!("{}:{}", &o[..3], &o[3..]),
        o => o.to_owned(),
    };
    parse(&format!("{date}T{time}{fraction}{offset}"))
}

/// Formats as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format(t: Seconds) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Serde adapter: a required RFC 3339 string field stored as [`Seconds`].
pub(crate) mod rfc3339 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &super::Seconds, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<super::Seconds, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        super::parse(&s).ok_or_else(|| D::Error::custom(format!("expected an RFC 3339 time, found {s:?}")))
    }
}

/// Serde adapter: an optional RFC 3339 string field, written (`serialize_with`).
pub(crate) mod rfc3339_opt {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &Option<super::Seconds>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::rfc3339::serialize(t, s),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str, expected: Option<i64>) {
        assert_eq!(parse(s), expected, "{s}");
        assert_eq!(parse_export(s), expected, "{s}");
    }

    #[test]
    fn parses_rfc3339_and_export_form() {
        check("1970-01-01T00:00:00Z", Some(0));
        check("2011-12-09T12:50:00Z", Some(1_323_435_000));
        check("2011-12-09T13:50:00+01:00", Some(1_323_435_000));
        check("2011-12-09T12:50:00.123Z", Some(1_323_435_000));
        check("2000-02-29T00:00:00Z", Some(951_782_400));
        // Leniencies CEL's `timestamp()` does not have: a leap second, more than nine fraction
        // digits.
        check("2016-12-31T23:59:60Z", Some(1_483_228_799));
        check("2011-12-09T12:50:00.1234567891Z", Some(1_323_435_000));
        assert_eq!(vitrine_cel::Timestamp::parse("2016-12-31T23:59:60Z"), None);
        assert_eq!(vitrine_cel::Timestamp::parse("2011-12-09T12:50:00.1234567891Z"), None);
        // Order exports: a space and no offset (UTC), or Shopify's space and an offset with or
        // without its colon. Not RFC 3339, so only `parse_export` reads them.
        for (s, t) in [
            ("2011-12-09 12:50:00", 1_323_435_000),
            ("2011-12-09 13:50:00 +0100", 1_323_435_000),
            ("2011-12-09 07:50:00 -05:00", 1_323_435_000),
            ("2011-12-09 13:50:00+01:00", 1_323_435_000),
        ] {
            assert_eq!(parse_export(s), Some(t), "{s}");
            assert_eq!(parse(s), None, "{s}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "2011-13-01T00:00:00Z",
            "2011-02-30T00:00:00Z",
            "2011-12-09T12:50:00",
            "2011-12-09T25:00:00Z",
            "2011-12-09T12:50:00+1",
            "yesterday",
            "2011-12-09T12:50:00.Z",
            "2011-12-09T13:50:00+0100",
            "2011-12-09 13:50:00 +01",
            "2011-12-09 13:50:00  +0100",
        ] {
            check(s, None);
        }
    }

    #[test]
    fn format_round_trips() {
        for t in [0, 1_323_435_000, 951_782_400, -86_400, 4_102_444_800] {
            assert_eq!(parse(&format(t)), Some(t));
        }
        assert_eq!(format(1_323_435_000), "2011-12-09T12:50:00Z");
    }
}
