//! Decimal text to `f64`, exactly as `str::parse::<f64>` does it (the same accepted syntax, the
//! same correctly rounded result, ties to even), without the standard library's tables.
//!
//! The standard library's parser (Eisel-Lemire with a slow path) carries a table of 128-bit powers
//! of five that gzip cannot shrink: 14 KB of the browser's gzipped Wasm, for the few numbers a
//! page reads (affinities, prices, event values). Here the common case (at most 19 significant
//! digits worth at most 2^53, a power of ten up to 10^22) is Clinger's fast path: one exact
//! multiplication or division. Everything else is done exactly in big integers: slower, but rare
//! in the runtimes' inputs. The tests compare both paths against the standard library.

/// Significant digits kept; a longer number keeps a nonzero digit after them when anything it
/// dropped was nonzero. A value halfway between two doubles has at most 767 significant digits,
/// so the kept digits decide the rounding exactly.
const MAX_DIGITS: usize = 800;

/// 10^0 to 10^22: every one exactly a double.
const POW10: [f64; 23] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/// `s` as `s.parse::<f64>().ok()` reads it: an optional sign, then `inf`, `infinity` or `nan` in
/// any case, or digits with an optional point (`1`, `1.`, `.5`) and exponent (`e-7`, `E+3`).
pub fn parse_f64(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (negative, rest) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let magnitude = if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
        f64::INFINITY
    } else if rest.eq_ignore_ascii_case(b"nan") {
        f64::NAN
    } else {
        let number = Number::split(rest)?;
        fast(&number).unwrap_or_else(|| decimal(&number))
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// A number's syntax, checked once: `digits[.digits][(e|E)[sign]digits]` with at least one digit
/// before the exponent, or `.digits`.
struct Number<'a> {
    /// The digits, with the point where it was.
    mantissa: &'a [u8],
    /// The exponent as written, saturated far beyond any finite or nonzero result.
    exp: i64,
}

impl Number<'_> {
    fn split(b: &[u8]) -> Option<Number<'_>> {
        let (mut len, mut point) = (0, false);
        while let Some(&c) = b.get(len) {
            match c {
                b'0'..=b'9' => {}
                b'.' if !point => point = true,
                _ => break,
            }
            len += 1;
        }
        let (mantissa, rest) = b.split_at(len);
        if !mantissa.iter().any(u8::is_ascii_digit) {
            return None;
        }
        let Some((&e, rest)) = rest.split_first() else { return Some(Number { mantissa, exp: 0 }) };
        if e != b'e' && e != b'E' {
            return None;
        }
        let (negative, digits) = match rest.first() {
            Some(b'-') => (true, &rest[1..]),
            Some(b'+') => (false, &rest[1..]),
            _ => (false, rest),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let exp = digits.iter().fold(0i64, |e, &d| (e * 10 + i64::from(d - b'0')).min(1 << 40));
        Some(Number { mantissa, exp: if negative { -exp } else { exp } })
    }
}

/// Clinger's fast path, allocating nothing: the value of a number of at most 19 significant
/// digits worth at most 2^53 and a power of ten up to 10^22 (what the runtimes read: `0.25`,
/// `12.99`, `1e-3`); `None` for anything else, which [`decimal`] then reads.
fn fast(number: &Number) -> Option<f64> {
    let (mut m, mut significant, mut exp, mut point) = (0u64, 0, number.exp, false);
    for &c in number.mantissa {
        if c == b'.' {
            point = true;
            continue;
        }
        if c != b'0' || m != 0 {
            significant += 1;
            if significant > 19 {
                return None;
            }
        }
        m = m * 10 + u64::from(c - b'0');
        exp -= i64::from(point);
    }
    if !(-22..=22).contains(&exp) {
        return None;
    }
    let p = POW10[exp.unsigned_abs() as usize];
    if m <= 1 << 53 {
        return Some(if exp < 0 { m as f64 / p } else { m as f64 * p });
    }
    // More digits than a double holds (machine-written numbers have 17): exactly in u128.
    if exp >= 0 {
        // Below 2^64 × 10^19 < 2^128; the conversion rounds to nearest, ties to even.
        return (exp <= 19).then(|| (u128::from(m) * p as u128) as f64);
    }
    // m / 10^k as q × 2^ulp: q the 53-bit quotient, rounded by its remainder, as in `exact`.
    // The divisor is below 2^74 and the shifted dividend below 2^127.
    let (n, d) = (u128::from(m), p as u128);
    let mut lg = i64::from(n.leading_zeros() as i32 - d.leading_zeros() as i32).wrapping_neg();
    let below = if lg >= 0 { n < d << lg } else { n << -lg < d };
    if below {
        lg -= 1;
    }
    let ulp = lg - 52;
    let scale = f64::from_bits(((ulp + 1023) as u64) << 52);
    let (num, div) = if ulp < 0 { (n << -ulp, d) } else { (n, d << ulp) };
    // The quotient from a double division, off by a few units at most (three roundings of
    // relative size 2^-53 on a value below 2^53), then made exact: q × div ≤ num < (q + 1) × div.
    // Products stay below 2^128: q is below 2^54 and div below 2^74.
    let mut q = (n as f64 / d as f64 / scale) as u128;
    while q * div > num {
        q -= 1;
    }
    while num - q * div >= div {
        q += 1;
    }
    let rem = num - q * div;
    q += u128::from(rem * 2 > div || (rem * 2 == div && q & 1 == 1));
    Some(q as f64 * scale)
}

/// The value of a number of any length, exactly.
fn decimal(number: &Number) -> f64 {
    // The significant digits (no leading zeros), and the power of ten of the last one kept.
    let mut digits: Vec<u8> = Vec::new();
    let mut exp = number.exp;
    let mut dropped = false;
    let mut point = false;
    for &c in number.mantissa {
        if c == b'.' {
            point = true;
        } else if digits.len() == MAX_DIGITS {
            // Dropped: a digit of the whole part still scales what was kept.
            dropped |= c != b'0';
            exp += i64::from(!point);
        } else {
            // Leading zeros are not kept; after the point they still move it.
            if c != b'0' || !digits.is_empty() {
                digits.push(c - b'0');
            }
            exp -= i64::from(point);
        }
    }
    if dropped {
        digits.push(1);
        exp -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
        exp += 1;
    }
    if digits.is_empty() {
        return 0.0;
    }
    // The value is in [10^(top - 1), 10^top).
    let top = exp + digits.len() as i64;
    if top > 310 {
        return f64::INFINITY;
    }
    if top < -323 {
        return 0.0;
    }
    exact(&digits, exp)
}

/// `digits × 10^exp`, correctly rounded, in big integers: the value as a fraction n / d, its
/// binary exponent, then the quotient at the precision of the result with the remainder deciding
/// the rounding.
fn exact(digits: &[u8], exp: i64) -> f64 {
    let mut n = Big(vec![0]);
    for chunk in digits.chunks(9) {
        let (scale, value) = chunk.iter().fold((1u32, 0u32), |(s, v), &d| (s * 10, v * 10 + u32::from(d)));
        n.mul_add(scale, value);
    }
    let mut d = Big(vec![1]);
    let tens = if exp < 0 { &mut d } else { &mut n };
    for _ in 0..exp.unsigned_abs() / 9 {
        tens.mul_add(1_000_000_000, 0);
    }
    tens.mul_add(10u32.pow((exp.unsigned_abs() % 9) as u32), 0);
    // ⌊log2(n / d)⌋ is the difference of their bit lengths, or one less.
    let mut lg = n.bits() as i64 - d.bits() as i64;
    let below = if lg >= 0 { n.cmp(&d.shl(lg as u64)) } else { n.shl(-lg as u64).cmp(&d) };
    if below == std::cmp::Ordering::Less {
        lg -= 1;
    }
    // The result's last bit is worth 2^ulp: 53 bits, or fewer below the normal range.
    let ulp = (lg - 52).max(-1074);
    let (mut rem, div) = if ulp < 0 { (n.shl(-ulp as u64), d) } else { (n, d.shl(ulp as u64)) };
    let mut q: u64 = 0;
    for bit in (0..54).rev() {
        let part = div.shl(bit);
        if rem.cmp(&part) != std::cmp::Ordering::Less {
            rem.sub(&part);
            q |= 1 << bit;
        }
    }
    match rem.shl(1).cmp(&div) {
        std::cmp::Ordering::Greater => q += 1,
        std::cmp::Ordering::Equal => q += q & 1,
        std::cmp::Ordering::Less => {}
    }
    let scale = if ulp > 1023 {
        f64::INFINITY
    } else if ulp >= -1022 {
        f64::from_bits(((ulp + 1023) as u64) << 52)
    } else {
        f64::from_bits(1 << (ulp + 1074))
    };
    // Exact (q has at most 53 bits and ulp fits it), or infinite past the largest double.
    q as f64 * scale
}

/// A nonnegative big integer: 32-bit limbs, least significant first, no high zero limbs but for 0.
struct Big(Vec<u32>);

impl Big {
    /// self = self × m + a.
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let x = u64::from(*limb) * u64::from(m) + carry;
            *limb = x as u32;
            carry = x >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    fn trim(&mut self) {
        while self.0.len() > 1 && self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn bits(&self) -> u64 {
        let top = *self.0.last().unwrap_or(&0);
        32 * (self.0.len() as u64 - 1) + u64::from(32 - top.leading_zeros())
    }

    fn shl(&self, by: u64) -> Big {
        let (limbs, bits) = ((by / 32) as usize, (by % 32) as u32);
        let mut out = vec![0u32; limbs];
        let mut carry = 0u32;
        for &limb in &self.0 {
            out.push(if bits == 0 { limb } else { limb << bits | carry });
            carry = if bits == 0 { 0 } else { limb >> (32 - bits) };
        }
        out.push(carry);
        let mut big = Big(out);
        big.trim();
        big
    }

    fn cmp(&self, other: &Big) -> std::cmp::Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// self -= other, where other ≤ self.
    fn sub(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let x = i64::from(*limb) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            *limb = x.rem_euclid(1 << 32) as u32;
            borrow = i64::from(x < 0);
        }
        self.trim();
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_f64, POW10};

    fn same(s: &str) {
        let (ours, std) = (parse_f64(s), s.parse::<f64>().ok());
        let bits = |x: Option<f64>| x.map(|x| if x.is_nan() { (u64::MAX, x.is_sign_negative()) } else { (x.to_bits(), false) });
        assert_eq!(bits(ours), bits(std), "{s:?}: {ours:?} against {std:?}");
    }

    /// A reproducible generator (a linear congruential one).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 11
        }
    }

    #[test]
    fn syntax_as_the_standard_library() {
        for s in [
            "",
            "+",
            "-",
            ".",
            "e",
            "e5",
            ".e5",
            "1e",
            "1e+",
            "1e-",
            "1.",
            ".5",
            "1.e5",
            "-.5e-3",
            "+1.5E+3",
            "1..5",
            "1.5.",
            "1e5.5",
            "1e5e5",
            " 1",
            "1 ",
            "1_000",
            "0x10",
            "inf",
            "-inf",
            "+inf",
            "INF",
            "Infinity",
            "-infinity",
            "infinit",
            "infinityy",
            "nan",
            "NaN",
            "-nan",
            "+NAN",
            "nana",
            "0",
            "-0",
            "+0",
            "00",
            "000.000",
            "-0.0e-0",
            "0e999999999999999999999",
            "1e999999999999999999999",
            "1e-999999999999999999999",
            "٣",
            "1\u{0}",
        ] {
            same(s);
        }
        // Short strings over the alphabet that matters.
        let alphabet = b"0123456789.eE+-nNaAiIfF x";
        let mut r = Lcg(5);
        for _ in 0..100_000 {
            let len = 1 + r.next() as usize % 8;
            let s: String = (0..len).map(|_| char::from(alphabet[r.next() as usize % alphabet.len()])).collect();
            same(&s);
        }
    }

    #[test]
    fn values_as_the_standard_library() {
        for s in [
            "0.1", "0.2", "0.3", "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1.797693134862315807e308",
            "2.2250738585072014e-308", "2.2250738585072011e-308", "4.9406564584124654e-324", "2.4703282292062327e-324",
            "2.4703282292062328e-324", "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324",
            "9007199254740993", "9007199254740992.5", "9007199254740993.0000000000000001", "123456789012345678901234567890", "1e23", "8.5e22",
            "1e22", "1e-22", "3.0e-5", "0.000001", "7.2057594037927933e16", "4.35e-309", "1e-323", "9.9e-324", "1e-324", "1e309", "1e310",
            "0.0000000000000000000000000000000000000000000000000000000000000000001e67",
        ] {
            same(s);
        }
        let mut r = Lcg(9);
        for _ in 0..20_000 {
            // Doubles as they print: shortest, with 17 digits, with many; and their neighbours'
            // halfway points, nudged.
            let x = f64::from_bits((r.next() << 11) | (r.next() % 2048));
            if !x.is_finite() {
                continue;
            }
            for s in [format!("{x}"), format!("{x:e}"), format!("{x:.17e}"), format!("{:.30e}", x), format!("{x:.3}")] {
                same(&s);
            }
            let y = f64::from_bits(x.to_bits() + 1);
            if y.is_finite() {
                let mid = format!("{:.40e}", (x + y) / 2.0);
                same(&mid);
            }
        }
        for _ in 0..20_000 {
            // Machine-written numbers of everyday size: 16 to 19 significant digits, the point
            // anywhere, small exponents (the u128 path).
            let x = (r.next() >> (r.next() % 40)) as f64 / POW10[(r.next() % 23) as usize] * 1.000_000_1;
            for s in
                [format!("{x}"), format!("{x:e}"), format!("{:.18e}", x), format!("{}e{}", r.next() % 10_000_000_000_000_000_000, (r.next() % 45) as i64 - 22)]
            {
                same(&s);
            }
        }
        for _ in 0..5_000 {
            // Random digit strings and exponents, short and long.
            let len = 1 + r.next() as usize % if r.next().is_multiple_of(8) { 900 } else { 25 };
            let digits: String = (0..len).map(|_| char::from(b'0' + (r.next() % 10) as u8)).collect();
            let dot = r.next() as usize % (len + 1);
            let e = r.next() as i64 % 700 - 350;
            same(&format!("{}.{}e{e}", &digits[..dot], &digits[dot..]).replace(".e", "e"));
            same(&format!("{}e{e}", digits));
        }
    }

    #[test]
    fn halfway_points_round_to_even() {
        // Exactly halfway between two doubles, written out exactly, and a hair either side.
        let mut r = Lcg(13);
        for _ in 0..5_000 {
            let odd = u128::from((r.next() % (1 << 52)) | 1 << 52) * 2 + 1;
            let (text, exp) = if r.next().is_multiple_of(2) {
                // odd / 2^k = odd × 5^k / 10^k.
                let k = 1 + (r.next() % 31) as u32;
                ((odd * 5u128.pow(k)).to_string(), -i64::from(k))
            } else {
                // odd × 2^k, an integer.
                let k = (r.next() % 73) as u32;
                ((odd << k).to_string(), 0)
            };
            same(&format!("{text}e{exp}"));
            same(&format!("{text}1e{}", exp - 1));
            let below: u128 = text.parse::<u128>().unwrap() - 1;
            same(&format!("{below}9e{}", exp - 1));
        }
    }
}
