//! `Named`, the map by name the engine builds once and then only reads: a configuration's slots,
//! widgets and fields, a profile's traits, a decision's fields and segment results.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A map by name (a configuration's slots, widgets, content fields and boosts; a profile's traits
/// and affinities): built once, in name order, then only read. A sorted `Vec` rather than a
/// `BTreeMap`, whose code the browser's Wasm carried once per value type.
#[derive(Debug, Clone, PartialEq)]
pub struct Named<T>(Vec<(String, T)>);

impl<T> Default for Named<T> {
    fn default() -> Self {
        Named(Vec::new())
    }
}

impl<T> Named<T> {
    /// Adds `name` after every name so far; `false` (and nothing added) if it does not sort after
    /// the last one, so that the names stay unique and in order.
    pub fn push(&mut self, name: String, value: T) -> bool {
        if self.0.last().is_some_and(|(last, _)| *last >= name) {
            return false;
        }
        self.0.push((name, value));
        true
    }

    /// Adds `name` in its place, or replaces its value (as `BTreeMap::insert`): for maps read in
    /// any order, which are small (a profile's traits and affinities).
    pub fn insert(&mut self, name: String, value: T) {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(&name)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (name, value)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name)).ok().map(|i| &self.0[i].1)
    }

    /// The last name (the greatest).
    pub fn last_name(&self) -> Option<&String> {
        self.0.last().map(|(k, _)| k)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &T)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a, T> IntoIterator for &'a Named<T> {
    type Item = (&'a String, &'a T);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (String, T)>, fn(&'a (String, T)) -> (&'a String, &'a T)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<'a, T> IntoIterator for &'a mut Named<T> {
    type Item = (&'a String, &'a mut T);
    type IntoIter = std::iter::Map<std::slice::IterMut<'a, (String, T)>, fn(&'a mut (String, T)) -> (&'a String, &'a mut T)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }
}

/// `named["x"]`, as on a map: panics when there is no `x` (for tests and examples; the runtimes
/// call `get`).
impl<T> std::ops::Index<&str> for Named<T> {
    type Output = T;

    fn index(&self, name: &str) -> &T {
        self.get(name).expect("no such name")
    }
}

/// As a JSON object, like the map it replaces.
impl<T: serde::Serialize> serde::Serialize for Named<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Named<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::<String, T>::deserialize(d).map(Named::from)
    }
}

/// Entries inserted in turn: a repeated name keeps its last value, as in a `BTreeMap`.
impl<T> Extend<(String, T)> for Named<T> {
    fn extend<I: IntoIterator<Item = (String, T)>>(&mut self, entries: I) {
        for (name, value) in entries {
            self.insert(name, value);
        }
    }
}

impl<T> FromIterator<(String, T)> for Named<T> {
    fn from_iter<I: IntoIterator<Item = (String, T)>>(entries: I) -> Self {
        let mut named = Named::default();
        named.extend(entries);
        named
    }
}

/// From a map's entries (in its name order).
impl<T> From<BTreeMap<String, T>> for Named<T> {
    fn from(map: BTreeMap<String, T>) -> Self {
        Named(map.into_iter().collect())
    }
}
