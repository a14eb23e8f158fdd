//! RFC 3339 timestamps <-> Unix seconds, without a clock and without a date library.
//!
//! The engine needs only "parse a timestamp" and "print one", in UTC; a date crate would add tens of
//! kilobytes to the browser build for that, so the civil-calendar arithmetic (Howard Hinnant's
//! `days_from_civil`) is done in a few lines, in `vitrine_cel`, which CEL timestamps share.

use vitrine_cel::{civil_from_days, days_from_civil, days_in_month};

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

/// The export forms: a space between date and time.
fn parse_space(s: &str) -> Option<Seconds> {
    let b = s.as_bytes();
    if b.len() < 19 || b[10] != b' ' {
        return None;
    }
    let num = |from: usize, len: usize| num_in(b.get(from..from + len)?);
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    // The export form may put a space before its offset and leave out the offset's colon.
    rest = rest.strip_prefix(' ').unwrap_or(rest);
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let o = rest.as_bytes();
            let minutes = match o.len() {
                6 if o[3] == b':' => 4,
                5 => 3,
                _ => return None,
            };
            let sign = match o[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hh = num_in(&o[1..3])?;
            let mm = num_in(&o[minutes..minutes + 2])?;
            if hh > 23 || mm > 59 {
                return None;
            }
            sign * (hh * 3600 + mm * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset)
}

fn num_in(part: &[u8]) -> Option<i64> {
    part.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
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
