//! CEL timestamps and durations at nanosecond precision, with their civil-calendar arithmetic.
//!
//! No date crate: the only calendar work is converting days to and from (year, month, day),
//! done by the era arithmetic at the end of this file (the engine's RFC 3339 reader uses it too).

use std::fmt;

const NANOS: i64 = 1_000_000_000;
/// 0001-01-01T00:00:00Z, the first instant CEL timestamps may hold.
const MIN_SECS: i64 = -62_135_596_800;
/// 9999-12-31T23:59:59Z, the last whole second CEL timestamps may hold.
const MAX_SECS: i64 = 253_402_300_799;

/// An instant between 0001-01-01 and 9999-12-31 (UTC), to the nanosecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

/// A signed span of time in nanoseconds (about ±292 years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    nanos: i64,
}

impl Timestamp {
    /// `secs` since the Unix epoch plus `nanos` (below 10⁹); `None` outside years 1 to 9999.
    pub fn new(secs: i64, nanos: u32) -> Option<Timestamp> {
        ((MIN_SECS..=MAX_SECS).contains(&secs) && i64::from(nanos) < NANOS).then_some(Timestamp { secs, nanos })
    }

    /// Whole seconds since the Unix epoch (rounded down).
    pub fn secs(self) -> i64 {
        self.secs
    }

    /// Nanoseconds past [`Timestamp::secs`].
    pub fn nanos(self) -> u32 {
        self.nanos
    }

    fn total_nanos(self) -> i128 {
        i128::from(self.secs) * i128::from(NANOS) + i128::from(self.nanos)
    }

    // Adding and subtracting split the duration into whole seconds and nanoseconds (in
    // [0, 10⁹)) and carry by hand: in i64, whose sums cannot overflow here (both seconds are
    // within ±3·10¹¹), rather than in i128, whose division is a kilobyte of the browser's Wasm.

    pub fn checked_add(self, d: Duration) -> Option<Timestamp> {
        let (mut secs, mut nanos) = (self.secs + d.nanos.div_euclid(NANOS), i64::from(self.nanos) + d.nanos.rem_euclid(NANOS));
        if nanos >= NANOS {
            secs += 1;
            nanos -= NANOS;
        }
        Timestamp::new(secs, nanos as u32)
    }

    pub fn checked_sub(self, d: Duration) -> Option<Timestamp> {
        let (mut secs, mut nanos) = (self.secs - d.nanos.div_euclid(NANOS), i64::from(self.nanos) - d.nanos.rem_euclid(NANOS));
        if nanos < 0 {
            secs -= 1;
            nanos += NANOS;
        }
        Timestamp::new(secs, nanos as u32)
    }

    /// `self - earlier` as a duration; `None` if it does not fit.
    pub fn since(self, earlier: Timestamp) -> Option<Duration> {
        i64::try_from(self.total_nanos() - earlier.total_nanos()).ok().map(Duration::from_nanos)
    }

    /// Parses RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, up to 9 fraction digits.
    pub fn parse(s: &str) -> Option<Timestamp> {
        Timestamp::parse_in(s, false)
    }

    /// [`Timestamp::parse`] as data formats read RFC 3339 (the engine's snapshots and exports): a
    /// leap second (`:60`) is read as `:59`, and fraction digits past the nanosecond are dropped.
    pub fn parse_lenient(s: &str) -> Option<Timestamp> {
        Timestamp::parse_in(s, true)
    }

    fn parse_in(s: &str, lenient: bool) -> Option<Timestamp> {
        let b = s.as_bytes();
        let num = |from: usize, len: usize| -> Option<i64> {
            let part = b.get(from..from + len)?;
            part.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
        };
        let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
        if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
            return None;
        }
        let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59 + i64::from(lenient) {
            return None;
        }
        let mut i = 19;
        let mut nanos = 0i64;
        if b.get(i) == Some(&b'.') {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 || (digits > 9 && !lenient) {
                return None;
            }
            let kept = digits.min(9);
            nanos = num(i + 1, kept)? * 10i64.pow(9 - kept as u32);
            i += 1 + digits;
        }
        let offset = match b.get(i..)? {
            b"Z" | b"z" => 0,
            [sign @ (b'+' | b'-'), ..] if b.len() == i + 6 && b[i + 3] == b':' => {
                let (hh, mm) = (num(i + 1, 2)?, num(i + 4, 2)?);
                if hh > 23 || mm > 59 {
                    return None;
                }
                (hh * 3600 + mm * 60) * if *sign == b'-' { -1 } else { 1 }
            }
            _ => return None,
        };
        let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset;
        Timestamp::new(secs, u32::try_from(nanos).ok()?)
    }

    /// The calendar fields in a time zone given as a UTC offset in seconds.
    pub(crate) fn civil(self, offset: i64) -> Civil {
        let local = self.secs + offset;
        let days = local.div_euclid(86_400);
        let secs_of_day = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            day_of_year: days - days_from_civil(year, 1, 1),
            // 1970-01-01 was a Thursday; Sunday is 0.
            day_of_week: (days + 4).rem_euclid(7),
            hours: secs_of_day / 3600,
            minutes: secs_of_day % 3600 / 60,
            seconds: secs_of_day % 60,
            millis: i64::from(self.nanos) / 1_000_000,
        }
    }
}

/// Calendar fields of a timestamp in some zone. Month and day are 1-based, day of year 0-based.
pub(crate) struct Civil {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub day_of_year: i64,
    pub day_of_week: i64,
    pub hours: i64,
    pub minutes: i64,
    pub seconds: i64,
    pub millis: i64,
}

/// `UTC`, or a fixed offset `+HH:MM`, `-HH:MM` or `HH:MM`, as seconds east of UTC.
pub(crate) fn zone_offset(zone: &str) -> Option<i64> {
    if zone == "UTC" || zone == "Z" {
        return Some(0);
    }
    let (sign, rest) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => (1, zone),
    };
    let (hh, mm) = rest.split_once(':')?;
    if hh.len() != 2 || mm.len() != 2 {
        return None;
    }
    let (hh, mm): (i64, i64) = (hh.parse().ok()?, mm.parse().ok()?);
    (hh <= 23 && mm <= 59).then_some(sign * (hh * 3600 + mm * 60))
}

/// Writes RFC 3339 in UTC with the fraction's trailing zeros dropped: `2009-02-13T23:31:30.5Z`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.civil(0);
        write!(f, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", c.year, c.month, c.day, c.hours, c.minutes, c.seconds)?;
        write_fraction(f, self.nanos)?;
        f.write_str("Z")
    }
}

fn write_fraction(f: &mut fmt::Formatter<'_>, nanos: u32) -> fmt::Result {
    if nanos == 0 {
        return Ok(());
    }
    let digits = format!("{nanos:09}");
    write!(f, ".{}", digits.trim_end_matches('0'))
}

impl Duration {
    pub fn from_nanos(nanos: i64) -> Duration {
        Duration { nanos }
    }

    pub fn nanos(self) -> i64 {
        self.nanos
    }

    pub fn checked_add(self, other: Duration) -> Option<Duration> {
        self.nanos.checked_add(other.nanos).map(Duration::from_nanos)
    }

    pub fn checked_sub(self, other: Duration) -> Option<Duration> {
        self.nanos.checked_sub(other.nanos).map(Duration::from_nanos)
    }

    /// Parses Go's duration syntax, which CEL uses: an optional sign, then one or more decimal
    /// numbers with a unit each (`h`, `m`, `s`, `ms`, `us`/`µs`, `ns`), e.g. `1h30m`, `-1.5s`.
    pub fn parse(s: &str) -> Option<Duration> {
        let (negative, mut rest) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if rest == "0" {
            return Some(Duration::from_nanos(0));
        }
        if rest.is_empty() {
            return None;
        }
        // In u64, not i128 (whose division is a kilobyte of the browser's Wasm): every step that
        // overflows it is past i64::MAX anyway, which is an error.
        let mut total: u64 = 0;
        while !rest.is_empty() {
            let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let int_part = &rest[..int_len];
            rest = &rest[int_len..];
            let mut frac_part = "";
            if let Some(after) = rest.strip_prefix('.') {
                let len = after.bytes().take_while(u8::is_ascii_digit).count();
                frac_part = &after[..len];
                rest = &after[len..];
            }
            if int_part.is_empty() && frac_part.is_empty() {
                return None;
            }
            let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
            let unit: u64 = match &rest[..unit_len] {
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                _ => return None,
            };
            rest = &rest[unit_len..];
            // More than 20 integer digits overflow every unit. Fraction digits past the 18th
            // are dropped (they weigh less than a nanosecond even in hours).
            if int_part.len() > 20 {
                return None;
            }
            let whole: u64 = if int_part.is_empty() { 0 } else { int_part.parse().ok()? };
            let frac_part = &frac_part[..frac_part.len().min(18)];
            // ⌊0.d₁d₂…dₖ × unit⌋ exactly, by Horner's rule from the last digit: for an integer n,
            // ⌊(n + ⌊y⌋) / 10⌋ = ⌊(n + y) / 10⌋, so flooring at every step floors the whole.
            let frac = frac_part.bytes().rev().fold(0, |acc, d| (u64::from(d - b'0') * unit + acc) / 10);
            total = total.checked_add(whole.checked_mul(unit)?)?.checked_add(frac)?;
            if total > i64::MAX as u64 {
                return None;
            }
        }
        let total = total as i64;
        Some(Duration::from_nanos(if negative { -total } else { total }))
    }
}

/// Writes seconds with the fraction's trailing zeros dropped: `1.5s`, `-0.000000001s`, `3600s`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SECOND: u64 = 1_000_000_000;
        let abs = self.nanos.unsigned_abs();
        if self.nanos < 0 {
            f.write_str("-")?;
        }
        write!(f, "{}", abs / SECOND)?;
        write_fraction(f, u32::try_from(abs % SECOND).unwrap_or(0))?;
        f.write_str("s")
    }
}

// --- the proleptic Gregorian calendar -------------------------------------------------------------

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (400-year eras repeat exactly).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips_over_the_whole_range() {
        for days in (days_from_civil(1, 1, 1)..=days_from_civil(9999, 12, 31)).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1, 1, 1) * 86_400, MIN_SECS);
        assert_eq!(days_from_civil(9999, 12, 31) * 86_400 + 86_399, MAX_SECS);
    }

    /// The i128 arithmetic that `Duration::parse` and `Timestamp::checked_add`/`checked_sub`
    /// replaced, to check that they agree with it.
    fn parse_duration_i128(s: &str) -> Option<Duration> {
        let (negative, mut rest) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if rest == "0" {
            return Some(Duration::from_nanos(0));
        }
        if rest.is_empty() {
            return None;
        }
        let mut total: i128 = 0;
        while !rest.is_empty() {
            let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let int_part = &rest[..int_len];
            rest = &rest[int_len..];
            let mut frac_part = "";
            if let Some(after) = rest.strip_prefix('.') {
                let len = after.bytes().take_while(u8::is_ascii_digit).count();
                frac_part = &after[..len];
                rest = &after[len..];
            }
            if int_part.is_empty() && frac_part.is_empty() {
                return None;
            }
            let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
            let unit: i128 = match &rest[..unit_len] {
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                _ => return None,
            };
            rest = &rest[unit_len..];
            if int_part.len() > 20 {
                return None;
            }
            let whole: i128 = if int_part.is_empty() { 0 } else { int_part.parse().ok()? };
            let frac_part = &frac_part[..frac_part.len().min(18)];
            let frac: i128 = if frac_part.is_empty() { 0 } else { frac_part.parse().ok()? };
            let scale = 10i128.pow(frac_part.len() as u32);
            total = total.checked_add(whole.checked_mul(unit)?)?.checked_add(frac * unit / scale)?;
            if total > i128::from(i64::MAX) {
                return None;
            }
        }
        let total = if negative { -total } else { total };
        i64::try_from(total).ok().map(Duration::from_nanos)
    }

    fn add_i128(t: Timestamp, nanos: i128) -> Option<Timestamp> {
        let n = i128::from(t.secs) * i128::from(NANOS) + i128::from(t.nanos) + nanos;
        let secs = i64::try_from(n.div_euclid(i128::from(NANOS))).ok()?;
        Timestamp::new(secs, u32::try_from(n.rem_euclid(i128::from(NANOS))).ok()?)
    }

    #[test]
    fn duration_and_timestamp_arithmetic_agree_with_i128() {
        let mut seed: u64 = 11;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            seed >> 11
        };
        let units = ["ns", "us", "µs", "ms", "s", "m", "h", "x", ""];
        let mut sources: Vec<String> = [
            "0",
            "-0",
            "+0",
            "1.5h",
            "-1.5s",
            "2400h",
            ".5s",
            "5.s",
            "1.h",
            "-.000000001s",
            "9223372036854775807ns",
            "-9223372036854775807ns",
            "9223372036854775808ns",
            "-9223372036854775808ns",
            "2562047h47m16.854775807s",
            "2562047h47m16.854775808s",
            "2562047.788015215h",
            "0.99999999999999999999999h",
            "1.999999999999999999h",
            "18446744073709551615ns",
            "18446744073709551616ns",
            "99999999999999999999ns",
            "00000000000000000001h",
            "153722867m",
            "153722868m",
            "106751.99116730063d",
        ]
        .map(String::from)
        .to_vec();
        for _ in 0..200_000 {
            let mut s = String::from(["", "-", "+"][(next() % 3) as usize]);
            for _ in 0..1 + next() % 3 {
                let int_len = next() % 22;
                s += &(0..int_len).map(|_| char::from(b'0' + (next() % 10) as u8)).collect::<String>();
                if next() % 2 == 0 {
                    s.push('.');
                    let frac_len = next() % 24;
                    s += &(0..frac_len).map(|_| char::from(b'0' + (next() % 10) as u8)).collect::<String>();
                }
                s += units[(next() % units.len() as u64) as usize];
            }
            sources.push(s);
        }
        let mut parsed = 0;
        for s in &sources {
            let d = Duration::parse(s);
            assert_eq!(d, parse_duration_i128(s), "{s}");
            parsed += usize::from(d.is_some());
        }
        // Enough of them valid for the comparison to mean something.
        assert!(parsed > sources.len() / 10, "{parsed} of {}", sources.len());
        let edges = [MIN_SECS, MIN_SECS + 1, -1, 0, 1, 1_234_567_890, MAX_SECS - 1, MAX_SECS];
        let spans = [i64::MIN, i64::MIN + 1, -NANOS - 1, -NANOS, -1, 0, 1, NANOS - 1, NANOS, i64::MAX];
        let mut cases: Vec<(Timestamp, i64)> = Vec::new();
        for &secs in &edges {
            for nanos in [0, 1, 999_999_999] {
                for &d in &spans {
                    cases.push((Timestamp::new(secs, nanos).unwrap(), d));
                }
            }
        }
        for _ in 0..200_000 {
            let secs = MIN_SECS + (next() % (MAX_SECS - MIN_SECS + 1) as u64) as i64;
            let t = Timestamp::new(secs, (next() % NANOS as u64) as u32).unwrap();
            let d = match next() % 3 {
                0 => next() as i64 - (1 << 52),
                1 => (next() % 4_000_000_000) as i64 - 2_000_000_000,
                _ => (next() << 11) as i64,
            };
            cases.push((t, d));
        }
        for (t, d) in cases {
            let dur = Duration::from_nanos(d);
            assert_eq!(t.checked_add(dur), add_i128(t, i128::from(d)), "{t} + {d}ns");
            assert_eq!(t.checked_sub(dur), add_i128(t, -i128::from(d)), "{t} - {d}ns");
        }
    }

    #[test]
    fn parses_and_prints() {
        let t = Timestamp::parse("2009-02-13T23:31:30.120Z").unwrap();
        assert_eq!((t.secs(), t.nanos()), (1_234_567_890, 120_000_000));
        assert_eq!(t.to_string(), "2009-02-13T23:31:30.12Z");
        assert_eq!(Timestamp::parse("2009-02-14T01:31:30+02:00").unwrap().secs(), 1_234_567_890);
        for bad in ["", "2009-02-13", "2009-02-30T00:00:00Z", "2009-02-13T23:31:30", "10000-01-01T00:00:00Z", "0000-12-31T23:59:59Z"] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
        assert_eq!(Duration::parse("1h45m47s").unwrap().to_string(), "6347s");
        assert_eq!(Duration::parse("-1.5s").unwrap().nanos(), -1_500_000_000);
        assert_eq!(Duration::parse("123.321456789s").unwrap().to_string(), "123.321456789s");
        assert_eq!(Duration::parse("-999999999ns").unwrap().to_string(), "-0.999999999s");
        for bad in ["", "s", "1", "1x", "320000000000s", "99999999999999999999999h", "."] {
            assert_eq!(Duration::parse(bad), None, "{bad}");
        }
        assert_eq!(zone_offset("-02:30"), Some(-9000));
        assert_eq!(zone_offset("02:00"), Some(7200));
        assert_eq!(zone_offset("Europe/Paris"), None);
    }
}
