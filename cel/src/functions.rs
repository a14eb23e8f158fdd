//! The built-in operators and functions: what each computes for each argument type, including
//! the conversions, the timestamp getters and CEL's strings extension.

use super::ast::{BinOp, Func};
use super::time::{zone_offset, Duration, Timestamp};
use super::value::{Key, Map, Value, TWO_63, TWO_64};
use super::{detail, EvalErrorKind as K};

/// The error for arguments no overload takes, naming their runtime types.
#[inline(never)]
pub(crate) fn no_match(func: &str, args: &[&Value]) -> K {
    K::NoMatchingOverload { func: detail(|| func.to_string()), args: detail(|| join(&args.iter().map(|a| a.kind().name()).collect::<Vec<_>>(), ", ")) }
}

/// `parts.join(sep)`, written out: the standard library's is several times the size in the
/// browser's Wasm (a copy per separator length), for strings this short.
fn join(parts: &[&str], sep: &str) -> String {
    let len = parts.iter().map(|p| p.len()).sum::<usize>() + sep.len() * parts.len().saturating_sub(1);
    let mut out = String::with_capacity(len);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(part);
    }
    out
}

/// A compiled `matches()` pattern. A build without the `regex` feature has none (the type has no
/// values): there, `matches()` is evaluated at the edge only.
#[cfg(feature = "regex")]
pub(crate) type Pattern = regex_lite::Regex;
#[cfg(not(feature = "regex"))]
pub(crate) type Pattern = std::convert::Infallible;

/// Compiles a `matches` pattern (RE2 syntax as far as `regex-lite` goes) with bounds on the
/// compiled size and nesting, so a hostile pattern fails to compile instead of eating memory.
#[cfg(feature = "regex")]
#[inline(never)]
pub(crate) fn compile_regex(pattern: &str) -> Result<Pattern, String> {
    regex_lite::RegexBuilder::new(pattern).size_limit(1 << 16).nest_limit(64).build().map_err(|e| e.to_string())
}

#[cfg(feature = "regex")]
fn is_match(re: &Pattern, s: &str) -> bool {
    re.is_match(s)
}

#[cfg(not(feature = "regex"))]
fn is_match(re: &Pattern, _: &str) -> bool {
    match *re {}
}

/// An upper bound on the size of `pattern`'s automaton, for the evaluation budget: its length
/// times every counted repetition's bound (`{n}`, `{n,}`, `{n,m}`), multiplied as if all were
/// nested (a conservative guess for repetitions in sequence).
#[cfg(feature = "regex")]
pub(crate) fn regex_weight(pattern: &str) -> u64 {
    let mut weight: u64 = pattern.len() as u64 + 1;
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let inner = &after[..close];
        if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit() || b == b',') {
            let bound = inner.split(',').filter_map(|n| n.parse::<u64>().ok()).max().unwrap_or(1);
            weight = weight.saturating_mul(bound.max(1));
        }
        rest = &after[close + 1..];
    }
    weight
}

/// Whether `needle` occurs in `hay`, as `str::contains`: Knuth-Morris-Pratt over the bytes
/// (a match of whole UTF-8 text lands on character boundaries), linear in both lengths like the
/// standard library's two-way searcher, which is 1.7 KB of the browser's Wasm for this one call.
fn contains(hay: &str, needle: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    if needle.is_empty() {
        return true;
    }
    // `border[i]`: the length of the longest proper prefix of `needle[..=i]` that is also its suffix.
    let mut border = vec![0usize; needle.len()];
    let mut k = 0;
    for i in 1..needle.len() {
        while k > 0 && needle[i] != needle[k] {
            k = border[k - 1];
        }
        if needle[i] == needle[k] {
            k += 1;
        }
        border[i] = k;
    }
    let mut k = 0;
    for &c in hay {
        while k > 0 && c != needle[k] {
            k = border[k - 1];
        }
        if c == needle[k] {
            k += 1;
            if k == needle.len() {
                return true;
            }
        }
    }
    false
}

fn int(n: usize) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// `+ - * / %` for every type that has them; integer overflow and division by zero are errors.
#[inline(never)]
pub(crate) fn arith(op: BinOp, a: &Value, b: &Value) -> Result<Value, K> {
    use BinOp::{Add, Div, Mod, Mul, Sub};
    use Value as V;
    let ts_range = || K::Range("timestamp".into());
    let dur_range = || K::Range("duration".into());
    Ok(match (op, a, b) {
        (Div, V::Int(_), V::Int(0)) | (Div, V::Uint(_), V::Uint(0)) => return Err(K::DivisionByZero),
        (Mod, V::Int(_), V::Int(0)) | (Mod, V::Uint(_), V::Uint(0)) => return Err(K::ModulusByZero),
        (_, V::Int(x), V::Int(y)) => V::Int(
            match op {
                Add => x.checked_add(*y),
                Sub => x.checked_sub(*y),
                Mul => x.checked_mul(*y),
                Div => x.checked_div(*y),
                Mod => x.checked_rem(*y),
                _ => None,
            }
            .ok_or(K::Overflow)?,
        ),
        (_, V::Uint(x), V::Uint(y)) => V::Uint(
            match op {
                Add => x.checked_add(*y),
                Sub => x.checked_sub(*y),
                Mul => x.checked_mul(*y),
                Div => x.checked_div(*y),
                Mod => x.checked_rem(*y),
                _ => None,
            }
            .ok_or(K::Overflow)?,
        ),
        (Add, V::Double(x), V::Double(y)) => V::Double(x + y),
        (Sub, V::Double(x), V::Double(y)) => V::Double(x - y),
        (Mul, V::Double(x), V::Double(y)) => V::Double(x * y),
        (Div, V::Double(x), V::Double(y)) => V::Double(x / y),
        (Add, V::String(x), V::String(y)) => V::from(format!("{x}{y}")),
        (Add, V::Bytes(x), V::Bytes(y)) => V::Bytes([&x[..], &y[..]].concat().into()),
        (Add, V::List(x), V::List(y)) => {
            let mut items = Vec::with_capacity(x.len() + y.len());
            items.extend_from_slice(x);
            items.extend_from_slice(y);
            V::List(items.into())
        }
        (Add, V::Timestamp(t), V::Duration(d)) | (Add, V::Duration(d), V::Timestamp(t)) => V::Timestamp(t.checked_add(*d).ok_or_else(ts_range)?),
        (Add, V::Duration(x), V::Duration(y)) => V::Duration(x.checked_add(*y).ok_or_else(dur_range)?),
        (Sub, V::Timestamp(x), V::Timestamp(y)) => V::Duration(x.since(*y).ok_or_else(dur_range)?),
        (Sub, V::Timestamp(t), V::Duration(d)) => V::Timestamp(t.checked_sub(*d).ok_or_else(ts_range)?),
        (Sub, V::Duration(x), V::Duration(y)) => V::Duration(x.checked_sub(*y).ok_or_else(dur_range)?),
        _ => return Err(no_match(op.symbol(), &[a, b])),
    })
}

/// Calls a built-in function. With `receiver`, `args[0]` is the receiver of `x.f(...)`.
/// `limit` is the most bytes a result may have before the call counts as over budget.
#[inline(never)]
pub(crate) fn call(func: &Func, receiver: bool, args: &[Value], limit: usize) -> Result<Value, K> {
    use Value as V;
    let r = receiver;
    let bad = || no_match(func.name(), &args.iter().collect::<Vec<_>>());
    Ok(match (func, args) {
        (Func::Unknown(name), _) => return Err(K::UnknownFunction(detail(|| name.to_string()))),
        (Func::Size, [V::String(s)]) => int(s.chars().count()),
        (Func::Size, [V::Bytes(b)]) => int(b.len()),
        (Func::Size, [V::List(l)]) => int(l.len()),
        (Func::Size, [V::Map(m)]) => int(m.len()),
        (Func::Contains, [V::String(s), V::String(t)]) if r => V::Bool(contains(s, t)),
        (Func::StartsWith, [V::String(s), V::String(t)]) if r => V::Bool(s.starts_with(&**t)),
        (Func::EndsWith, [V::String(s), V::String(t)]) if r => V::Bool(s.ends_with(&**t)),
        (Func::Matches(compiled), [V::String(s), V::String(pattern)]) => V::Bool(match compiled {
            Some(re) => is_match(re, s),
            #[cfg(feature = "regex")]
            None => compile_regex(pattern).map_err(K::InvalidRegex)?.is_match(s),
            #[cfg(not(feature = "regex"))]
            None => {
                let _ = pattern;
                return Err(K::EdgeOnly("matches"));
            }
        }),
        (Func::Int | Func::Uint | Func::Double | Func::String | Func::Bytes | Func::Bool | Func::Timestamp | Func::Duration, [v]) if !r => {
            convert(func, v)?.ok_or_else(bad)?
        }
        (Func::Type, [v]) if !r => V::Type(v.kind()),
        (Func::Dyn, [v]) if !r => v.clone(),
        (_, [V::Timestamp(t)]) if r => V::Int(timestamp_field(func, *t, 0).ok_or_else(bad)?),
        (_, [V::Timestamp(t), V::String(zone)]) if r => {
            let offset = zone_offset(zone).ok_or_else(|| K::UnsupportedTimeZone(detail(|| zone.to_string())))?;
            V::Int(timestamp_field(func, *t, offset).ok_or_else(bad)?)
        }
        (_, [V::Duration(d)]) if r => V::Int(duration_field(func, *d).ok_or_else(bad)?),
        (Func::Quote, [V::String(s)]) if !r => V::from(quote(s)),
        (Func::Join, [V::List(items), rest @ ..]) if r && rest.len() <= 1 => {
            let sep = match rest {
                [] => "",
                [V::String(sep)] => sep,
                _ => return Err(bad()),
            };
            let mut parts = Vec::with_capacity(items.len());
            for item in items.iter() {
                match item {
                    V::String(s) => parts.push(&**s),
                    _ => return Err(bad()),
                }
            }
            V::from(join(&parts, sep))
        }
        #[cfg(feature = "format")]
        (Func::Format, [V::String(f), V::List(items)]) if r => V::from(format(f, items)?),
        #[cfg(not(feature = "format"))]
        (Func::Format, [V::String(_), V::List(_)]) if r => return Err(K::EdgeOnly("format")),
        (_, [V::String(s), rest @ ..]) if r => string_ext(func, s, rest, limit)?.ok_or_else(bad)?,
        _ => return Err(bad()),
    })
}

/// The conversion functions `int()`, `uint()`, `double()`, `string()`, `bytes()`, `bool()`,
/// `timestamp()` and `duration()`. `Ok(None)` means no overload for the argument's type.
fn convert(func: &Func, v: &Value) -> Result<Option<Value>, K> {
    use Value as V;
    let invalid = |what: &str| K::InvalidArgument(detail(|| format!("cannot convert {} to {what}", v.literal())));
    Ok(Some(match (func, v) {
        (Func::Int, V::Int(_)) | (Func::Uint, V::Uint(_)) | (Func::Double, V::Double(_)) | (Func::String, V::String(_)) => v.clone(),
        (Func::Bytes, V::Bytes(_)) | (Func::Bool, V::Bool(_)) | (Func::Timestamp, V::Timestamp(_)) | (Func::Duration, V::Duration(_)) => v.clone(),
        (Func::Int, V::Uint(u)) => V::Int(i64::try_from(*u).map_err(|_| K::Range("int".into()))?),
        // Both bounds are exclusive: -2^63 is representable but CEL (like cel-go) rejects it.
        (Func::Int, V::Double(d)) if *d > -TWO_63 && *d < TWO_63 => V::Int(d.trunc() as i64),
        (Func::Int, V::Double(_)) => return Err(K::Range("int".into())),
        (Func::Int, V::String(s)) => V::Int(s.parse().map_err(|_| invalid("int"))?),
        (Func::Int, V::Timestamp(t)) => V::Int(t.secs()),
        (Func::Uint, V::Int(i)) => V::Uint(u64::try_from(*i).map_err(|_| K::Range("uint".into()))?),
        (Func::Uint, V::Double(d)) if *d >= 0.0 && *d < TWO_64 => V::Uint(d.trunc() as u64),
        (Func::Uint, V::Double(_)) => return Err(K::Range("uint".into())),
        (Func::Uint, V::String(s)) => V::Uint(s.parse().map_err(|_| invalid("uint"))?),
        (Func::Double, V::Int(i)) => V::Double(*i as f64),
        (Func::Double, V::Uint(u)) => V::Double(*u as f64),
        (Func::Double, V::String(s)) => V::Double(crate::parse_f64(s).ok_or_else(|| invalid("double"))?),
        (Func::String, V::Bytes(b)) => V::from(std::str::from_utf8(b).map_err(|_| K::InvalidArgument("invalid UTF-8 in bytes converted to string".into()))?),
        (Func::String, V::Int(_) | V::Uint(_) | V::Double(_) | V::Bool(_) | V::Timestamp(_) | V::Duration(_)) => V::from(v.scalar_text().unwrap_or_default()),
        (Func::Bytes, V::String(s)) => V::Bytes(s.as_bytes().into()),
        (Func::Bool, V::String(s)) => V::Bool(match &**s {
            "1" | "t" | "true" | "TRUE" | "True" => true,
            "0" | "f" | "false" | "FALSE" | "False" => false,
            _ => return Err(invalid("bool")),
        }),
        (Func::Timestamp, V::String(s)) => V::Timestamp(Timestamp::parse(s).ok_or_else(|| invalid("timestamp (RFC 3339 between years 1 and 9999)"))?),
        (Func::Timestamp, V::Int(secs)) => V::Timestamp(Timestamp::new(*secs, 0).ok_or_else(|| K::Range("timestamp".into()))?),
        #[cfg(feature = "durations")]
        (Func::Duration, V::String(s)) => {
            V::Duration(Duration::parse(s).ok_or_else(|| invalid("duration (such as \"1h30m\" or \"1.5s\", within ±292 years)"))?)
        }
        // A literal's was folded when compiling; a computed string's is the edge's.
        #[cfg(not(feature = "durations"))]
        (Func::Duration, V::String(_)) => return Err(K::EdgeOnly("duration")),
        _ => return Ok(None),
    }))
}

fn timestamp_field(func: &Func, t: Timestamp, offset: i64) -> Option<i64> {
    let c = t.civil(offset);
    Some(match func {
        Func::GetFullYear => c.year,
        Func::GetMonth => c.month - 1,
        Func::GetDate => c.day,
        Func::GetDayOfMonth => c.day - 1,
        Func::GetDayOfWeek => c.day_of_week,
        Func::GetDayOfYear => c.day_of_year,
        Func::GetHours => c.hours,
        Func::GetMinutes => c.minutes,
        Func::GetSeconds => c.seconds,
        Func::GetMilliseconds => c.millis,
        _ => return None,
    })
}

fn duration_field(func: &Func, d: Duration) -> Option<i64> {
    let n = d.nanos();
    Some(match func {
        Func::GetHours => n / 3_600_000_000_000,
        Func::GetMinutes => n / 60_000_000_000,
        Func::GetSeconds => n / 1_000_000_000,
        Func::GetMilliseconds => n / 1_000_000 % 1000,
        _ => return None,
    })
}

/// The receiver-style string functions of CEL's strings extension. `Ok(None)` means no overload
/// for the arguments.
fn string_ext(func: &Func, s: &str, args: &[Value], limit: usize) -> Result<Option<Value>, K> {
    use Value as V;
    Ok(Some(match (func, args) {
        (Func::LowerAscii, []) => V::from(s.to_ascii_lowercase()),
        (Func::UpperAscii, []) => V::from(s.to_ascii_uppercase()),
        (Func::Trim, []) => V::from(s.trim()),
        #[cfg(feature = "strings")]
        _ => return string_edit(func, s, args, limit),
        #[cfg(not(feature = "strings"))]
        _ => {
            // The text editing `Func::edge_only` names.
            let _ = limit;
            return if func.edge_only() { Err(K::EdgeOnly(func.builtin_name())) } else { Ok(None) };
        }
    }))
}

/// The strings extension's text editing (the `strings` feature). Positions count code points.
/// `Ok(None)` means no overload for the arguments.
#[cfg(feature = "strings")]
fn string_edit(func: &Func, s: &str, args: &[Value], limit: usize) -> Result<Option<Value>, K> {
    use Value as V;
    let out_of_range = |i: i64| K::IndexOutOfRange(detail(|| i.to_string()));
    let chars = || s.chars().collect::<Vec<char>>();
    let len = |c: &[char]| i64::try_from(c.len()).unwrap_or(i64::MAX);
    Ok(Some(match (func, args) {
        (Func::CharAt, [V::Int(i)]) => {
            let c = chars();
            match usize::try_from(*i).ok().filter(|&i| i <= c.len()) {
                Some(i) => V::from(c.get(i).map(char::to_string).unwrap_or_default()),
                None => return Err(out_of_range(*i)),
            }
        }
        (Func::IndexOf, [V::String(sub)]) => V::Int(index_of(&chars(), sub, 0).map_err(out_of_range)?),
        (Func::IndexOf, [V::String(sub), V::Int(start)]) => V::Int(index_of(&chars(), sub, *start).map_err(out_of_range)?),
        (Func::LastIndexOf, [V::String(sub)]) => V::Int(last_index_of(&chars(), sub, None).map_err(out_of_range)?),
        (Func::LastIndexOf, [V::String(sub), V::Int(end)]) => V::Int(last_index_of(&chars(), sub, Some(*end)).map_err(out_of_range)?),
        (Func::Reverse, []) => V::from(s.chars().rev().collect::<String>()),
        (Func::Replace, [V::String(old), V::String(new)]) => V::from(replace(s, old, new, -1, limit)?),
        (Func::Replace, [V::String(old), V::String(new), V::Int(n)]) => V::from(replace(s, old, new, *n, limit)?),
        (Func::Split, [V::String(sep)]) => split(s, sep, -1),
        (Func::Split, [V::String(sep), V::Int(n)]) => split(s, sep, *n),
        (Func::Substring, [V::Int(start)]) => {
            let c = chars();
            substring(&c, *start, len(&c))?
        }
        (Func::Substring, [V::Int(start), V::Int(end)]) => substring(&chars(), *start, *end)?,
        _ => return Ok(None),
    }))
}

/// The first code-point position at or after `start` where `sub` occurs, or -1.
#[cfg(feature = "strings")]
fn index_of(chars: &[char], sub: &str, start: i64) -> Result<i64, i64> {
    let sub: Vec<char> = sub.chars().collect();
    let from = usize::try_from(start).map_err(|_| start)?;
    if sub.is_empty() {
        return if from <= chars.len() { Ok(start) } else { Err(start) };
    }
    if from > chars.len() {
        return Err(start);
    }
    let last = chars.len().checked_sub(sub.len());
    Ok(last.and_then(|last| (from..=last).find(|&i| chars[i..i + sub.len()] == sub[..])).map_or(-1, |i| i as i64))
}

/// The last code-point position at or before `end` (by default, anywhere) where `sub` starts,
/// or -1.
#[cfg(feature = "strings")]
fn last_index_of(chars: &[char], sub: &str, end: Option<i64>) -> Result<i64, i64> {
    let sub: Vec<char> = sub.chars().collect();
    let n = chars.len();
    let to = match end {
        None => n,
        Some(end) => usize::try_from(end).ok().filter(|&e| e <= n).ok_or(end)?,
    };
    if sub.is_empty() {
        return Ok(to as i64);
    }
    let Some(last) = n.checked_sub(sub.len()) else {
        return Ok(-1);
    };
    Ok((0..=to.min(last)).rev().find(|&i| chars[i..i + sub.len()] == sub[..]).map_or(-1, |i| i as i64))
}

#[cfg(feature = "strings")]
fn substring(chars: &[char], start: i64, end: i64) -> Result<Value, K> {
    let n = chars.len();
    let s = usize::try_from(start).ok().filter(|&s| s <= n).ok_or_else(|| K::IndexOutOfRange(start.to_string()))?;
    let e = usize::try_from(end).ok().filter(|&e| e <= n).ok_or_else(|| K::IndexOutOfRange(end.to_string()))?;
    if s > e {
        return Err(K::InvalidArgument(format!("invalid substring range. start: {start}, end: {end}")));
    }
    Ok(Value::from(chars[s..e].iter().collect::<String>()))
}

/// Replaces the first `n` occurrences (all when `n` is negative), refusing results over `limit`.
#[cfg(feature = "strings")]
fn replace(s: &str, old: &str, new: &str, n: i64, limit: usize) -> Result<String, K> {
    let occurrences = if old.is_empty() { s.chars().count() + 1 } else { s.matches(old).count() };
    let count = usize::try_from(n).map_or(occurrences, |n| n.min(occurrences));
    let grown = count.saturating_mul(new.len()).saturating_add(s.len());
    if grown.saturating_sub(count.saturating_mul(old.len())) > limit {
        return Err(K::CostExceeded);
    }
    Ok(s.replacen(old, new, count))
}

/// Go's `strings.SplitN`: `n == 0` gives no parts, a negative `n` all of them.
#[cfg(feature = "strings")]
fn split(s: &str, sep: &str, n: i64) -> Value {
    let max = usize::try_from(n).unwrap_or(usize::MAX);
    if max == 0 {
        return Value::List(Vec::new().into());
    }
    let parts: Vec<Value> = if sep.is_empty() {
        // One part per character; the last part takes the remainder.
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if parts.len() + 1 == max {
                break;
            }
            parts.push(Value::from(c.to_string()));
            rest = &rest[c.len_utf8()..];
        }
        if !rest.is_empty() {
            parts.push(Value::from(rest));
        }
        parts
    } else {
        s.splitn(max, sep).map(Value::from).collect()
    };
    Value::List(parts.into())
}

/// `strings.quote`: a double-quoted CEL string literal with escapes for quotes, backslashes and
/// control characters that have a short escape.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `format` function of the strings extension: `%s`, `%d`, `%f`, `%e` (with an optional
/// precision such as `%.3f`), `%b`, `%o`, `%x`, `%X` and `%%`.
#[cfg(feature = "format")]
fn format(f: &str, args: &[Value]) -> Result<String, K> {
    let mut out = String::new();
    let mut chars = f.chars().peekable();
    let mut next = 0usize;
    let fail = |msg: String| K::InvalidArgument(msg);
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut precision = None;
        if chars.next_if_eq(&'.').is_some() {
            let mut p = 0usize;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                chars.next();
                p = p.saturating_mul(10).saturating_add(d as usize);
            }
            // A precision is a number of digits to print; a huge one is a memory attack.
            if p > 100 {
                return Err(fail(format!("formatting precision {p} is larger than 100")));
            }
            precision = Some(p);
        }
        let verb = chars.next().ok_or_else(|| fail("could not parse formatting clause: unterminated clause".into()))?;
        if verb == '%' && precision.is_none() {
            out.push('%');
            continue;
        }
        if !matches!(verb, 's' | 'd' | 'f' | 'e' | 'b' | 'o' | 'x' | 'X') {
            return Err(fail(format!("could not parse formatting clause: unrecognized formatting clause {:?}", verb.to_string())));
        }
        let arg = args.get(next).ok_or_else(|| K::IndexOutOfRange(format!("{next} (format argument)")))?;
        next += 1;
        out.push_str(&format_clause(verb, precision, arg)?);
    }
    Ok(out)
}

#[cfg(feature = "format")]
fn format_clause(verb: char, precision: Option<usize>, arg: &Value) -> Result<String, K> {
    use Value as V;
    let wrong = |what: &str| K::InvalidArgument(format!("error during formatting: {what}, was given {}", arg.kind().name()));
    let special = |d: f64| (!d.is_finite()).then(|| super::value::format_double(d));
    Ok(match (verb, arg) {
        ('s', _) => arg.to_string(),
        ('d', V::Int(i)) => i.to_string(),
        ('d', V::Uint(u)) => u.to_string(),
        ('d', V::Double(d)) => special(*d).ok_or_else(|| wrong("decimal clause can only be used on integers"))?,
        ('d', _) => return Err(wrong("decimal clause can only be used on integers")),
        ('f' | 'e', V::Int(_) | V::Uint(_) | V::Double(_)) => {
            let d = match arg {
                V::Int(i) => *i as f64,
                V::Uint(u) => *u as f64,
                V::Double(d) => *d,
                _ => 0.0,
            };
            let p = precision.unwrap_or(6);
            match special(d) {
                Some(s) => s,
                None if verb == 'f' => format!("{d:.p$}"),
                None => {
                    let sci = format!("{d:.p$e}");
                    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
                    let exp: i32 = exp.parse().unwrap_or(0);
                    format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.unsigned_abs())
                }
            }
        }
        ('f', _) => return Err(wrong("fixed-point clause can only be used on doubles")),
        ('e', _) => return Err(wrong("scientific clause can only be used on doubles")),
        ('b', V::Bool(b)) => u8::from(*b).to_string(),
        ('b' | 'o' | 'x' | 'X', V::Int(i)) => {
            let digits = radix(verb, i.unsigned_abs());
            if *i < 0 {
                format!("-{digits}")
            } else {
                digits
            }
        }
        ('b' | 'o' | 'x' | 'X', V::Uint(u)) => radix(verb, *u),
        ('x' | 'X', V::String(_) | V::Bytes(_)) => {
            let bytes: &[u8] = match arg {
                V::String(s) => s.as_bytes(),
                V::Bytes(b) => b,
                _ => &[],
            };
            bytes.iter().map(|b| if verb == 'x' { format!("{b:02x}") } else { format!("{b:02X}") }).collect()
        }
        ('b', _) => return Err(wrong("only integers and bools can be formatted as binary")),
        ('o', _) => return Err(wrong("octal clause can only be used on integers")),
        _ => return Err(wrong("only integers, byte buffers, and strings can be formatted as hex")),
    })
}

#[cfg(feature = "format")]
fn radix(verb: char, n: u64) -> String {
    match verb {
        'b' => format!("{n:b}"),
        'o' => format!("{n:o}"),
        'x' => format!("{n:x}"),
        _ => format!("{n:X}"),
    }
}

/// Builds a map literal's value; keys must be of a key type and distinct (numerically).
#[inline(never)]
pub(crate) fn make_map(entries: Vec<(Value, Value)>) -> Result<Value, K> {
    let mut map = Map::new();
    for (k, v) in entries {
        let key = Key::from_value(&k).ok_or_else(|| K::UnsupportedKeyType(detail(|| k.kind().name().to_string())))?;
        if super::value::map_get(&map, &k).is_some() {
            return Err(K::RepeatedKey(detail(|| k.to_string())));
        }
        map.insert(key, v);
    }
    Ok(Value::from(map))
}

#[cfg(all(test, feature = "regex"))]
mod regex_cost_tests {
    use super::regex_weight;

    #[test]
    fn counted_repetitions_multiply_the_weight() {
        assert_eq!(regex_weight("abc"), 4);
        assert_eq!(regex_weight("[a-z]{600}{10}Z"), 16 * 600 * 10);
        assert_eq!(regex_weight("^\\d{2,4}x{3,}$"), 15 * 4 * 3);
        assert_eq!(regex_weight("a{b}c{"), 7, "not repetitions");
    }
}

#[cfg(test)]
mod tests {
    use super::contains;

    #[test]
    fn contains_is_the_standard_librarys() {
        let texts = [
            "",
            "a",
            "aa",
            "aaa",
            "ab",
            "aab",
            "abab",
            "ababc",
            "abcabcabd",
            "abcabd",
            "caf\u{e9}",
            "\u{e9}",
            "x\u{1f600}y",
            "mississippi",
            "issip",
            "aaaaaaaaab",
        ];
        for hay in texts {
            for needle in texts {
                assert_eq!(contains(hay, needle), hay.contains(needle), "{hay:?} contains {needle:?}");
            }
        }
        // Every substring of a text with repeats is found, and a near miss is not.
        let hay = "abaabaaabaaaab";
        for i in 0..hay.len() {
            for j in i..=hay.len() {
                assert!(contains(hay, &hay[i..j]), "{}", &hay[i..j]);
            }
        }
        assert!(!contains(hay, "aaaaa") && !contains(hay, "bb"));
    }
}
