//! CEL values: the runtime data model, CEL equality and ordering, text rendering, and the two
//! JSON encodings (plain JSON data, and the typed encoding of the conformance tests).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::ops::Index;
use std::sync::Arc;

use super::time::{Duration, Timestamp};

/// A CEL value. The derived `PartialEq` is structural (`Int(1) != Uint(1)`, NaN is unequal to
/// itself); [`Value::cel_equals`] is CEL's `==`.
#[derive(Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Double(f64),
    String(Arc<str>),
    Bytes(Arc<[u8]>),
    List(Arc<[Value]>),
    Map(Arc<Map>),
    Timestamp(Timestamp),
    Duration(Duration),
    /// A type value such as `int` or the result of `type(x)`.
    Type(Kind),
}

/// Cloned out of line: a clone is a reference count's increment, and the derived one, inlined
/// wherever a value is copied, was 2.7 KB of the browser's Wasm. A comprehension's step, the one
/// copy per element of a list, uses the inlined [`Value::dup`].
impl Clone for Value {
    #[inline(never)]
    fn clone(&self) -> Value {
        self.dup()
    }
}

impl Value {
    /// [`Clone::clone`], inlined.
    #[inline(always)]
    pub(crate) fn dup(&self) -> Value {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(*b),
            Value::Int(i) => Value::Int(*i),
            Value::Uint(u) => Value::Uint(*u),
            Value::Double(d) => Value::Double(*d),
            Value::String(s) => Value::String(s.clone()),
            Value::Bytes(b) => Value::Bytes(b.clone()),
            Value::List(l) => Value::List(l.clone()),
            Value::Map(m) => Value::Map(m.clone()),
            Value::Timestamp(t) => Value::Timestamp(*t),
            Value::Duration(d) => Value::Duration(*d),
            Value::Type(k) => Value::Type(*k),
        }
    }
}

/// A map key: CEL maps accept `bool`, `int`, `uint` and `string` keys. Lookups treat numeric
/// keys by value, so `m[1]`, `m[1u]` and `m[1.0]` find the same entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Bool(bool),
    Int(i64),
    Uint(u64),
    String(Arc<str>),
}

/// A CEL map's entries: keys unique and in [`Key`]'s order, as a sorted vector. The maps rules
/// see are small (a profile's fields, an event's six), where a binary search over one vector is
/// as fast as a B-tree, and a B-tree's code was about 5 KB of the browser's Wasm.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Map(Vec<(Key, Value)>);

impl Map {
    pub fn new() -> Map {
        Map(Vec::new())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    #[cfg_attr(vitrine_snippet, optimize(speed))]
    fn find(&self, key: &Key) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.cmp(key))
    }

    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    /// The value of the string key `name`: what every field selection (`e.type`) looks up, without
    /// building a [`Key`] (string keys sort after the others).
    ///
    /// A small map (an event's six fields) is scanned comparing lengths first, which rejects most
    /// keys without reading their bytes, where a binary search makes three ordered comparisons
    /// of bytes. A larger one is searched.
    #[cfg_attr(vitrine_snippet, optimize(speed))]
    pub fn get_str(&self, name: &str) -> Option<&Value> {
        let is = |k: &Key| matches!(k, Key::String(s) if s.len() == name.len() && s.as_bytes() == name.as_bytes());
        if self.0.len() <= 8 {
            return self.0.iter().find(|(k, _)| is(k)).map(|(_, v)| v);
        }
        self.0
            .binary_search_by(|(k, _)| match k {
                Key::String(s) => s.as_bytes().cmp(name.as_bytes()),
                _ => Ordering::Less,
            })
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Sets `key` to `value`; returns the value it replaces, if any.
    pub fn insert(&mut self, key: Key, value: Value) -> Option<Value> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    /// The map of `entries`, of which a repeated key keeps the last value. Entries already in key
    /// order (an event's fields, as the runtimes build 200 of them per visitor) are taken as they
    /// are, in their own vector; others are inserted one by one, which is quadratic in the worst
    /// case, but the maps built unordered are a few fields long (a sort here cost the browser's
    /// Wasm 0.4 KB gzip). Not generic: one copy for every iterator a map is collected from.
    pub fn from_entries(entries: Vec<(Key, Value)>) -> Map {
        if entries.windows(2).all(|w| w[0].0 < w[1].0) {
            return Map(entries);
        }
        let mut map = Map(Vec::with_capacity(entries.len()));
        for (k, v) in entries {
            map.insert(k, v);
        }
        map
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Key, &Value)> + DoubleEndedIterator {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl Index<&Key> for Map {
    type Output = Value;

    /// The value of `key`; panics when the map has none, as `BTreeMap`'s index does (tests only:
    /// the runtimes use [`Map::get`]).
    #[allow(clippy::unwrap_used)]
    fn index(&self, key: &Key) -> &Value {
        self.get(key).expect("no entry for the key")
    }
}

impl FromIterator<(Key, Value)> for Map {
    /// A repeated key keeps the last value (see [`Map::from_entries`]).
    fn from_iter<I: IntoIterator<Item = (Key, Value)>>(entries: I) -> Map {
        Map::from_entries(entries.into_iter().collect())
    }
}

/// The runtime type of a value, as `type(x)` returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Null,
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    List,
    Map,
    Timestamp,
    Duration,
    Type,
}

const KIND_NAMES: &[(Kind, &str)] = &[
    (Kind::Null, "null_type"),
    (Kind::Bool, "bool"),
    (Kind::Int, "int"),
    (Kind::Uint, "uint"),
    (Kind::Double, "double"),
    (Kind::String, "string"),
    (Kind::Bytes, "bytes"),
    (Kind::List, "list"),
    (Kind::Map, "map"),
    (Kind::Timestamp, "google.protobuf.Timestamp"),
    (Kind::Duration, "google.protobuf.Duration"),
    (Kind::Type, "type"),
];

impl Kind {
    /// The CEL name: `int`, `null_type`, `google.protobuf.Timestamp`, ...
    pub fn name(self) -> &'static str {
        KIND_NAMES.iter().find(|(k, _)| *k == self).map_or("?", |(_, n)| n)
    }

    /// The type a (possibly qualified) type name denotes.
    pub fn from_name(name: &str) -> Option<Kind> {
        KIND_NAMES.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<u64> for Value {
    fn from(u: u64) -> Value {
        Value::Uint(u)
    }
}
impl From<f64> for Value {
    fn from(d: f64) -> Value {
        Value::Double(d)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.into())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s.into())
    }
}
impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::List(items.into())
    }
}
impl From<Map> for Value {
    fn from(map: Map) -> Value {
        Value::Map(Arc::new(map))
    }
}
impl From<BTreeMap<Key, Value>> for Value {
    fn from(map: BTreeMap<Key, Value>) -> Value {
        Value::map_of(map)
    }
}
impl From<Timestamp> for Value {
    fn from(t: Timestamp) -> Value {
        Value::Timestamp(t)
    }
}
impl From<Duration> for Value {
    fn from(d: Duration) -> Value {
        Value::Duration(d)
    }
}

impl Key {
    pub fn to_value(&self) -> Value {
        match self {
            Key::Bool(b) => Value::Bool(*b),
            Key::Int(i) => Value::Int(*i),
            Key::Uint(u) => Value::Uint(*u),
            Key::String(s) => Value::String(s.clone()),
        }
    }

    /// The key for a value of a key type; `None` for other types.
    pub fn from_value(v: &Value) -> Option<Key> {
        Some(match v {
            Value::Bool(b) => Key::Bool(*b),
            Value::Int(i) => Key::Int(*i),
            Value::Uint(u) => Key::Uint(*u),
            Value::String(s) => Key::String(s.clone()),
            _ => return None,
        })
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Key {
        Key::String(s.into())
    }
}

/// The entry of `map` whose key equals `key` under CEL's numeric equality.
pub(crate) fn map_get<'a>(map: &'a Map, key: &Value) -> Option<&'a Value> {
    let as_int = |i: i64| map.get(&Key::Int(i)).or_else(|| u64::try_from(i).ok().and_then(|u| map.get(&Key::Uint(u))));
    match key {
        Value::Bool(b) => map.get(&Key::Bool(*b)),
        Value::String(s) => map.get_str(s),
        Value::Int(i) => as_int(*i),
        Value::Uint(u) => map.get(&Key::Uint(*u)).or_else(|| i64::try_from(*u).ok().and_then(|i| map.get(&Key::Int(i)))),
        Value::Double(d) => match double_to_i64_exact(*d) {
            Some(i) => as_int(i),
            None => double_to_u64_exact(*d).and_then(|u| map.get(&Key::Uint(u))),
        },
        _ => None,
    }
}

/// 2^63, exactly: `int` holds the doubles in [-2^63, 2^63).
pub(crate) const TWO_63: f64 = (1u64 << 63) as f64;
/// 2^64, exactly: `uint` holds the doubles in [0, 2^64).
pub(crate) const TWO_64: f64 = TWO_63 * 2.0;

fn double_to_i64_exact(d: f64) -> Option<i64> {
    (d.fract() == 0.0 && (-TWO_63..TWO_63).contains(&d)).then_some(d as i64)
}

fn double_to_u64_exact(d: f64) -> Option<u64> {
    (d.fract() == 0.0 && (0.0..TWO_64).contains(&d)).then_some(d as u64)
}

impl Value {
    pub fn kind(&self) -> Kind {
        match self {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Bool,
            Value::Int(_) => Kind::Int,
            Value::Uint(_) => Kind::Uint,
            Value::Double(_) => Kind::Double,
            Value::String(_) => Kind::String,
            Value::Bytes(_) => Kind::Bytes,
            Value::List(_) => Kind::List,
            Value::Map(_) => Kind::Map,
            Value::Timestamp(_) => Kind::Timestamp,
            Value::Duration(_) => Kind::Duration,
            Value::Type(_) => Kind::Type,
        }
    }

    /// CEL's `==`: numbers compare by value across `int`, `uint` and `double` (an `int` or
    /// `uint` is converted to `double` to meet a `double`), NaN equals nothing, lists compare
    /// element-wise, maps by key set and values, and values of different types are unequal.
    pub fn cel_equals(&self, other: &Value) -> bool {
        let mut unlimited = u64::MAX;
        self.equals_within(other, &mut unlimited).unwrap_or(false)
    }

    /// [`Value::cel_equals`], spending one unit of `left` per pair of elements compared;
    /// `None` once `left` runs out. Lists built by macros can share elements, so their size as
    /// compared can be exponential in their memory, and comparison must be paid for.
    #[cfg_attr(vitrine_snippet, optimize(speed))]
    pub(crate) fn equals_within(&self, other: &Value, left: &mut u64) -> Option<bool> {
        use Value as V;
        *left = left.checked_sub(1)?;
        Some(match (self, other) {
            (V::Null, V::Null) => true,
            (V::Bool(a), V::Bool(b)) => a == b,
            (V::String(a), V::String(b)) => a == b,
            (V::Bytes(a), V::Bytes(b)) => a == b,
            (V::Timestamp(a), V::Timestamp(b)) => a == b,
            (V::Duration(a), V::Duration(b)) => a == b,
            (V::Type(a), V::Type(b)) => a == b,
            (V::List(a), V::List(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                for (x, y) in a.iter().zip(b.iter()) {
                    if !x.equals_within(y, left)? {
                        return Some(false);
                    }
                }
                true
            }
            (V::Map(a), V::Map(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                for (k, v) in a.iter() {
                    match map_get(b, &k.to_value()) {
                        Some(w) if v.equals_within(w, left)? => {}
                        _ => return Some(false),
                    }
                }
                true
            }
            _ => matches!(self.cel_compare(other), Ok(Some(Ordering::Equal))),
        })
    }

    /// The value's size for the cost budget: one unit per value at any depth plus one per 8
    /// bytes of text, counted until `limit` is passed (`None`).
    pub(crate) fn weight(&self, limit: u64) -> Option<u64> {
        fn walk(v: &Value, left: &mut u64) -> Option<()> {
            let own = match v {
                Value::String(s) => 1 + s.len() as u64 / 8,
                Value::Bytes(b) => 1 + b.len() as u64 / 8,
                _ => 1,
            };
            *left = left.checked_sub(own)?;
            match v {
                Value::List(items) => items.iter().try_for_each(|i| walk(i, left)),
                Value::Map(map) => map.iter().try_for_each(|(k, v)| {
                    if let Key::String(s) = k {
                        *left = left.checked_sub(1 + s.len() as u64 / 8)?;
                    }
                    walk(v, left)
                }),
                _ => Some(()),
            }
        }
        let mut left = limit;
        walk(self, &mut left)?;
        Some(limit - left)
    }

    /// CEL's ordering. `Err(())` when the types have no ordering (no matching overload);
    /// `Ok(None)` when they are unordered numbers (NaN), which makes every comparison false.
    pub(crate) fn cel_compare(&self, other: &Value) -> Result<Option<Ordering>, ()> {
        use Value as V;
        Ok(match (self, other) {
            (V::Int(a), V::Int(b)) => Some(a.cmp(b)),
            (V::Uint(a), V::Uint(b)) => Some(a.cmp(b)),
            (V::Double(a), V::Double(b)) => a.partial_cmp(b),
            (V::Int(a), V::Uint(b)) => Some(u64::try_from(*a).map_or(Ordering::Less, |a| a.cmp(b))),
            (V::Uint(a), V::Int(b)) => Some(u64::try_from(*b).map_or(Ordering::Greater, |b| a.cmp(&b))),
            (V::Int(a), V::Double(b)) => (*a as f64).partial_cmp(b),
            (V::Double(a), V::Int(b)) => a.partial_cmp(&(*b as f64)),
            (V::Uint(a), V::Double(b)) => (*a as f64).partial_cmp(b),
            (V::Double(a), V::Uint(b)) => a.partial_cmp(&(*b as f64)),
            (V::String(a), V::String(b)) => Some(a.cmp(b)),
            (V::Bytes(a), V::Bytes(b)) => Some(a.cmp(b)),
            (V::Bool(a), V::Bool(b)) => Some(a.cmp(b)),
            (V::Timestamp(a), V::Timestamp(b)) => Some(a.cmp(b)),
            (V::Duration(a), V::Duration(b)) => Some(a.cmp(b)),
            _ => return Err(()),
        })
    }

    /// The value as it would be written in CEL, for error messages: strings and bytes quoted,
    /// other scalars as text, aggregates abbreviated to their type.
    pub(crate) fn literal(&self) -> String {
        match self {
            Value::String(s) => Quoted(s).to_string(),
            Value::Bytes(b) => format!("b{}", Quoted(&lossy(b))),
            Value::Uint(u) => format!("{u}u"),
            Value::List(_) | Value::Map(_) | Value::Timestamp(_) | Value::Duration(_) => {
                format!("a {} value", self.kind())
            }
            _ => self.to_string(),
        }
    }

    /// A rough size for the cost budget: elements of aggregates, bytes of text, 1 otherwise.
    pub(crate) fn size_hint(&self) -> u64 {
        match self {
            Value::String(s) => s.len() as u64 / 8,
            Value::Bytes(b) => b.len() as u64 / 8,
            Value::List(l) => l.len() as u64,
            Value::Map(m) => m.len() as u64,
            _ => 1,
        }
    }

    /// A map from its entries (a repeated key keeps the last value; see [`Map::from_entries`]).
    pub fn map_of(entries: impl IntoIterator<Item = (Key, Value)>) -> Value {
        Value::from(entries.into_iter().collect::<Map>())
    }

    /// Converts plain JSON data by CEL's JSON mapping: numbers become `double`, objects become
    /// maps with string keys.
    pub fn from_json(json: &serde_json::Value) -> Value {
        Value::json(json, false)
    }

    /// Like [`Value::from_json`], but a number written without a fraction or exponent that fits
    /// `int` (or else `uint`) becomes one, so that `count + 1` works on JSON counters.
    pub fn from_json_with_ints(json: &serde_json::Value) -> Value {
        Value::json(json, true)
    }

    fn json(json: &serde_json::Value, ints: bool) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) if ints && n.is_i64() => n.as_i64().map_or(Value::Null, Value::Int),
            J::Number(n) if ints && n.is_u64() => n.as_u64().map_or(Value::Null, Value::Uint),
            J::Number(n) => n.as_f64().map_or(Value::Null, Value::Double),
            J::String(s) => Value::from(s.as_str()),
            J::Array(items) => Value::List(items.iter().map(|i| Value::json(i, ints)).collect()),
            J::Object(fields) => Value::map_of(fields.iter().map(|(k, v)| (Key::from(k.as_str()), Value::json(v, ints)))),
        }
    }

    /// Reads the typed encoding of the conformance tests: a one-key object naming the type,
    /// `{"int": "-5"}`, `{"uint": "7"}`, `{"double": 1.5}` (or `"NaN"`, `"Infinity"`,
    /// `"-Infinity"`, or the number as a string), `{"string": ".."}`, `{"bytes_b64": ".."}`, `{"bool": true}`,
    /// `{"null": null}`, `{"list": [..]}`, `{"map": [[k, v], ..]}`, `{"type": "int"}`,
    /// `{"timestamp": "2009-02-13T23:31:30Z"}`, `{"duration": "1.5s"}`.
    pub fn from_typed_json(json: &serde_json::Value) -> Result<Value, String> {
        use serde_json::Value as J;
        let fields = json.as_object().filter(|o| o.len() == 1).ok_or_else(|| format!("expected a one-key object, found {json}"))?;
        let Some((tag, v)) = fields.iter().next() else {
            return Err("empty object".into());
        };
        let bad = || format!("invalid {tag} value {v}");
        Ok(match (tag.as_str(), v) {
            ("int", J::String(s)) => Value::Int(s.parse().map_err(|_| bad())?),
            ("int", J::Number(n)) => Value::Int(n.as_i64().ok_or_else(bad)?),
            ("uint", J::String(s)) => Value::Uint(s.parse().map_err(|_| bad())?),
            ("uint", J::Number(n)) => Value::Uint(n.as_u64().ok_or_else(bad)?),
            ("double", J::Number(n)) => Value::Double(n.as_f64().ok_or_else(bad)?),
            // Besides the three special values, a decimal string is accepted, for callers whose
            // JSON parser does not round floats exactly.
            ("double", J::String(s)) => Value::Double(match s.as_str() {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                s if s.bytes().all(|c| c.is_ascii_digit() || b"+-.eE".contains(&c)) => s.parse().map_err(|_| bad())?,
                _ => return Err(bad()),
            }),
            ("string", J::String(s)) => Value::from(s.as_str()),
            ("bytes_b64", J::String(s)) => Value::Bytes(base64_decode(s).ok_or_else(bad)?.into()),
            ("bool", J::Bool(b)) => Value::Bool(*b),
            ("null", J::Null) => Value::Null,
            ("list", J::Array(items)) => Value::List(items.iter().map(Value::from_typed_json).collect::<Result<_, _>>()?),
            ("map", J::Array(entries)) => {
                let mut map = Map::new();
                for entry in entries {
                    let (Some(k), Some(v), 2) = (entry.get(0), entry.get(1), entry.as_array().map_or(0, Vec::len)) else {
                        return Err(format!("expected a [key, value] pair, found {entry}"));
                    };
                    let key = Value::from_typed_json(k)?;
                    map.insert(Key::from_value(&key).ok_or_else(|| format!("invalid map key {k}"))?, Value::from_typed_json(v)?);
                }
                Value::from(map)
            }
            ("type", J::String(s)) => Value::Type(Kind::from_name(s).ok_or_else(bad)?),
            ("timestamp", J::String(s)) => Value::Timestamp(Timestamp::parse(s).ok_or_else(bad)?),
            ("duration", J::String(s)) => Value::Duration(Duration::parse(s).ok_or_else(bad)?),
            _ => return Err(bad()),
        })
    }

    /// Writes the typed encoding read by [`Value::from_typed_json`].
    pub fn to_typed_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Value::Null => json!({ "null": null }),
            Value::Bool(b) => json!({ "bool": b }),
            Value::Int(i) => json!({ "int": i.to_string() }),
            Value::Uint(u) => json!({ "uint": u.to_string() }),
            Value::Double(d) => match serde_json::Number::from_f64(*d) {
                Some(n) => json!({ "double": n }),
                None if d.is_nan() => json!({ "double": "NaN" }),
                None if *d > 0.0 => json!({ "double": "Infinity" }),
                None => json!({ "double": "-Infinity" }),
            },
            Value::String(s) => json!({ "string": &**s }),
            Value::Bytes(b) => json!({ "bytes_b64": base64_encode(b) }),
            Value::List(items) => {
                json!({ "list": items.iter().map(Value::to_typed_json).collect::<Vec<_>>() })
            }
            Value::Map(map) => {
                json!({ "map": map.iter().map(|(k, v)| json!([k.to_value().to_typed_json(), v.to_typed_json()])).collect::<Vec<_>>() })
            }
            Value::Timestamp(t) => json!({ "timestamp": t.to_string() }),
            Value::Duration(d) => json!({ "duration": d.to_string() }),
            Value::Type(k) => json!({ "type": k.name() }),
        }
    }
}

/// `s` in double quotes for an error message, as `{:?}` writes it for ASCII text: `"`, `\\` and
/// control characters escaped (`\\n`, `\\t`, `\\r`, `\\0`, else `\\u{1b}`), every other character as
/// it is. `{:?}` would also escape unprintable and combining Unicode characters, which links the
/// standard library's Unicode tables into the browser's Wasm for messages that never need them.
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, b) = (self.0, self.0.as_bytes());
        f.write_str("\"")?;
        let mut from = 0;
        for (i, &c) in b.iter().enumerate() {
            // Every character to escape is ASCII, or a C1 control: 0xC2 then 0x80 to 0x9F.
            let code = match c {
                0xC2 if b.get(i + 1).is_some_and(|&n| n < 0xA0) => b[i + 1],
                0x80.. => continue,
                c => c,
            };
            let escape = match code {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0 => "\\0",
                0x20..0x7F => continue,
                _ => "",
            };
            f.write_str(&s[from..i])?;
            from = i + 1 + usize::from(code >= 0x80);
            if escape.is_empty() {
                // `\u{7f}`: lowercase hex without leading zeros, as `{:?}` writes it.
                let hex = |d: u8| char::from(b"0123456789abcdef"[usize::from(d & 15)]);
                f.write_str("\\u{")?;
                if code >= 16 {
                    f.write_char(hex(code >> 4))?;
                }
                f.write_char(hex(code))?;
                f.write_str("}")?;
            } else {
                f.write_str(escape)?;
            }
        }
        f.write_str(&s[from..])?;
        f.write_str("\"")
    }
}

/// `String::from_utf8_lossy(b)`, each invalid sequence a U+FFFD, without its `Cow` machinery
/// (half a kilobyte of the browser's Wasm).
fn lossy(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            out.push('\u{FFFD}');
        }
    }
    out
}

impl Value {
    /// The text of a bool, number, timestamp or duration, as `Display` and CEL's `string()` give
    /// it; `None` for other values. Apart from `Display`, so a build that converts scalars with
    /// `string()` but prints no list or map (the browser's) carries no code for those.
    pub(crate) fn scalar_text(&self) -> Option<String> {
        Some(match self {
            Value::Bool(b) => (if *b { "true" } else { "false" }).to_owned(),
            Value::Int(i) => i.to_string(),
            Value::Uint(u) => u.to_string(),
            Value::Double(d) => format_double(*d),
            Value::Timestamp(t) => t.to_string(),
            Value::Duration(d) => d.to_string(),
            _ => return None,
        })
    }
}

/// The text `string(x)` and the `%s` format clause give: strings as they are, bytes as UTF-8
/// text, doubles in shortest form (`1.5`, `1e+06`, `NaN`), lists as `[a, b]` and maps as
/// `{k: v}` with entries sorted by their text.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Double(_) | Value::Timestamp(_) | Value::Duration(_) => {
                f.write_str(&self.scalar_text().unwrap_or_default())
            }
            Value::String(s) => f.write_str(s),
            Value::Bytes(b) => f.write_str(&lossy(b)),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                let mut entries: Vec<(String, String)> = map.iter().map(|(k, v)| (k.to_value().to_string(), v.to_string())).collect();
                crate::sort::sort_by(&mut entries, Ord::cmp);
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Value::Type(k) => f.write_str(k.name()),
        }
    }
}

/// Shortest round-trip digits, in exponent form when the exponent is below -4 or at least 21
/// (`1e+21`, `1e-05`), as JavaScript and Go's `%v` print numbers.
pub(crate) fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    // The shortest digits from zmij (what serde_json prints with), laid out here: the standard
    // library's float printing is several KB of the browser's Wasm.
    let mut buffer = zmij::Buffer::new();
    let printed = buffer.format_finite(d);
    let (sign, printed) = match printed.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", printed),
    };
    let (mantissa, exp) = match printed.split_once('e') {
        // zmij writes the exponent as a sign (`-` or `+`) and digits.
        Some((m, e)) => {
            let (negative, digits) = e.strip_prefix('-').map_or((false, e.trim_start_matches('+')), |d| (true, d));
            let n = digits.bytes().fold(0i32, |n, b| n * 10 + i32::from(b.wrapping_sub(b'0')));
            (m, if negative { -n } else { n })
        }
        None => (printed, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // The value is 0.DIGITS × 10^point. Laid out with pushes rather than `format!`, whose
    // argument handling is a copy per call site in the browser's Wasm.
    let mut all = String::with_capacity(int.len() + frac.len());
    all.push_str(int);
    all.push_str(frac);
    let significant = all.trim_start_matches('0');
    let point = int.len() as i32 + exp - (all.len() - significant.len()) as i32;
    let digits = significant.trim_end_matches('0');
    let mut out = String::with_capacity(digits.len() + 8);
    out.push_str(sign);
    if digits.is_empty() {
        out.push('0');
        return out;
    }
    let exp = point - 1;
    if (-4..21).contains(&exp) {
        let len = digits.len() as i32;
        if point <= 0 {
            out.push_str("0.");
            (point..0).for_each(|_| out.push('0'));
            out.push_str(digits);
        } else if point >= len {
            out.push_str(digits);
            (len..point).for_each(|_| out.push('0'));
        } else {
            let (a, b) = digits.split_at(point as usize);
            out.push_str(a);
            out.push('.');
            out.push_str(b);
        }
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        // At least two digits (`1e+21`, `1e-07`), at most three (`5e-324`).
        let e = exp.unsigned_abs();
        if e >= 100 {
            out.push(char::from(b'0' + (e / 100) as u8));
        }
        out.push(char::from(b'0' + (e / 10 % 10) as u8));
        out.push(char::from(b'0' + (e % 10) as u8));
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64; padding is optional, anything else invalid is `None`.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        });
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::{format_double, lossy, Quoted};

    #[test]
    fn base64_round_trips_and_refuses_other_characters() {
        use super::{base64_decode, base64_encode};
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for n in 0..data.len() {
            assert_eq!(base64_decode(&base64_encode(&data[..n])).as_deref(), Some(&data[..n]));
        }
        assert_eq!(base64_encode(b"Man"), "TWFu");
        assert_eq!(base64_decode("TWE"), Some(b"Ma".to_vec()));
        for bad in ["TW-u", "TW u", "TWFu\n", "T"] {
            assert_eq!(base64_decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_map_is_built_in_key_order_and_the_last_of_a_repeated_key_wins() {
        use super::{Key, Map, Value};
        let key = |k: &str| Key::from(k);
        let entries = [("b", 1), ("a", 2), ("c", 3), ("a", 4), ("b", 5), ("a", 6)].map(|(k, v)| (key(k), Value::Int(v)));
        let map: Map = entries.into_iter().collect();
        let got: Vec<(Key, Value)> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_eq!(got, [("a", 6), ("b", 5), ("c", 3)].map(|(k, v)| (key(k), Value::Int(v))));
        // Already in order: taken as it is.
        let sorted: Map = [("a", 1), ("b", 2)].map(|(k, v)| (key(k), Value::Int(v))).into_iter().collect();
        assert_eq!(sorted.get_str("b"), Some(&Value::Int(2)));
        assert_eq!(sorted.len(), 2);
        // Keys of every type sort as `Key` orders them, whatever order they came in.
        let mixed: Map =
            [(Key::String("s".into()), 1), (Key::Int(-1), 2), (Key::Bool(true), 3), (Key::Uint(7), 4)].map(|(k, v)| (k, Value::Int(v))).into_iter().collect();
        let keys: Vec<Key> = mixed.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, [Key::Bool(true), Key::Int(-1), Key::Uint(7), Key::String("s".into())]);
    }

    #[test]
    fn lossy_is_the_standard_librarys() {
        for b in [&b""[..], b"plain", b"a\xffb", b"\xe2\x82", b"\xe2\x82\xac ok \xf0\x9f\x98", b"\xc3\xa9t\xc3\xa9\x80\x80"] {
            assert_eq!(lossy(b), String::from_utf8_lossy(b), "{b:?}");
        }
    }

    #[test]
    fn quoted_is_debug_for_ascii_and_escapes_controls() {
        let ascii: String = (0..128u8).map(char::from).collect();
        for s in ["", "plain", "say \"hi\"", "back\\slash", "tab\tnew\nline\r\0", &ascii] {
            assert_eq!(Quoted(s).to_string(), format!("{s:?}"));
        }
        assert_eq!(Quoted("caf\u{e9} \u{85}\u{9f}").to_string(), "\"caf\u{e9} \\u{85}\\u{9f}\"");
    }

    /// What `format_double` printed with the standard library's float printing.
    fn with_std(d: f64) -> String {
        let sci = format!("{d:e}");
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        if (-4..21).contains(&exp) {
            format!("{d}")
        } else {
            format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.unsigned_abs())
        }
    }

    #[test]
    fn doubles_print_as_with_the_standard_library_but_ties_to_even() {
        let mut cases = vec![
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1,
            1e-4,
            1e-5,
            1.5e-7,
            123456.0,
            1e15,
            1e16,
            1e20,
            1e21,
            1.5e21,
            1e22,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            0.3333333333333333,
            100.0,
            1234.5678,
            9007199254740993.0,
        ];
        // A reproducible spread over every magnitude (a linear congruential generator).
        let mut seed: u64 = 7;
        for _ in 0..50_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let d = f64::from_bits(seed >> 1);
            if d.is_finite() {
                cases.push(d);
            }
            cases.push(((seed >> 40) % 1_000_000) as f64 / 100.0);
        }
        for d in cases {
            let (ours, std) = (format_double(d), with_std(d));
            // Where the exact value lies halfway between two shortest forms, the standard library
            // rounds the last digit up and zmij (as JavaScript) to even: both read back as `d`.
            let tie = ours.len() == std.len() && ours.parse::<f64>() == Ok(d) && std.parse::<f64>() == Ok(d);
            assert!(ours == std || tie, "{d:e}: {ours} against {std}");
        }
    }
}
