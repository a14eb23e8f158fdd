//! RFC 3339 timestamps <-> Unix seconds, without a clock and without a date library.
//!
//! The engine needs only "parse a timestamp" and "print one", in UTC; a date crate would add tens of
//! kilobytes to the browser build for that, so the civil-calendar arithmetic (Howard Hinnant's
//! `days_from_civil`) is done here in a few lines.

/// Seconds since 1970-01-01T00:00:00Z.
pub type Seconds = i64;

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` and, for order exports, `YYYY-MM-DD HH:MM:SS`
/// (taken as UTC). Returns `None` for anything else.
pub fn parse(s: &str) -> Option<Seconds> {
    let b = s.as_bytes();
    if b.len() < 19 || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') {
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
    let offset = match rest {
        "" if b[10] == b' ' => 0,
        "Z" | "z" => 0,
        _ => {
            let o = rest.as_bytes();
            if o.len() != 6 || o[3] != b':' {
                return None;
            }
            let sign = match o[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hh = num_in(&o[1..3])?;
            let mm = num_in(&o[4..6])?;
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

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (400-year eras repeat exactly).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
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

/// Serde adapter: an optional RFC 3339 string field.
pub(crate) mod rfc3339_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<super::Seconds>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::rfc3339::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<super::Seconds>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::rfc3339")] super::Seconds);
        Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(t)| t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str, expected: Option<i64>) {
        assert_eq!(parse(s), expected, "{s}");
    }

    #[test]
    fn parses_rfc3339_and_export_form() {
        check("1970-01-01T00:00:00Z", Some(0));
        check("2011-12-09 12:50:00", Some(1_323_435_000));
        check("2011-12-09T12:50:00Z", Some(1_323_435_000));
        check("2011-12-09T13:50:00+01:00", Some(1_323_435_000));
        check("2011-12-09T12:50:00.123Z", Some(1_323_435_000));
        check("2000-02-29T00:00:00Z", Some(951_782_400));
    }

    #[test]
    fn rejects_malformed() {
        for s in ["", "2011-13-01T00:00:00Z", "2011-02-30T00:00:00Z", "2011-12-09T12:50:00", "2011-12-09T25:00:00Z", "2011-12-09T12:50:00+1", "yesterday", "2011-12-09T12:50:00.Z"] {
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
