//! `StatMap`: a snapshot's stat name → value map, kept as a vector sorted by name.
//!
//! A rebuild makes one per client pod and upstream cluster (thousands every poll interval),
//! each from a few dozen stats that arrive already in name order (one run per metrics store).
//! A sorted vector is built from those runs without a search or a node allocation per stat,
//! looked up by binary search, and serialises exactly like a `BTreeMap` (a JSON object in name
//! order).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::snapshot::StatName;

/// Stat name → value, sorted by name, names unique.
#[derive(Debug, Clone, PartialEq)]
pub struct StatMap<V> {
    entries: Vec<(StatName, V)>,
}

impl<V> Default for StatMap<V> {
    fn default() -> Self {
        StatMap {
            entries: Vec::new(),
        }
    }
}

impl<V> StatMap<V> {
    pub fn new() -> Self {
        StatMap::default()
    }

    /// The map of `entries` in any order; when a name repeats, the last value wins (as when
    /// collecting into a `BTreeMap`). Entries that come as a few sorted runs (the usual case)
    /// are merged rather than sorted one by one.
    pub fn from_entries(mut entries: Vec<(StatName, V)>) -> Self {
        if !entries.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable (a merge of the runs): equal names stay in arrival order, and of each
            // repeat the latest value is moved into the entry that stays.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            entries.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    std::mem::swap(later, kept);
                }
                same
            });
        }
        StatMap { entries }
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| (**k).cmp(name))
    }

    pub fn get(&self, name: &str) -> Option<&V> {
        let i = self.position(name).ok()?;
        self.entries.get(i).map(|(_, v)| v)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Sets `name` to `value` and returns the value it had.
    pub fn insert(&mut self, name: StatName, value: V) -> Option<V> {
        match self.position(&name) {
            Ok(i) => self
                .entries
                .get_mut(i)
                .map(|e| std::mem::replace(&mut e.1, value)),
            Err(i) => {
                self.entries.insert(i, (name, value));
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in name order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&StatName, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &StatName> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<V> FromIterator<(StatName, V)> for StatMap<V> {
    fn from_iter<I: IntoIterator<Item = (StatName, V)>>(iter: I) -> Self {
        StatMap::from_entries(iter.into_iter().collect())
    }
}

impl<'a, V> IntoIterator for &'a StatMap<V> {
    type Item = (&'a StatName, &'a V);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (StatName, V)>,
        fn(&'a (StatName, V)) -> (&'a StatName, &'a V),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<V: Serialize> Serialize for StatMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            map.serialize_entry(&**k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for StatMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = StatMap<V>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of stat names to values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(access.size_hint().unwrap_or(0).min(4096));
                while let Some((k, v)) = access.next_entry::<String, V>()? {
                    entries.push((StatName::from(k), v));
                }
                Ok(StatMap::from_entries(entries))
            }
        }
        deserializer.deserialize_map(Entries(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn name(s: &str) -> StatName {
        StatName::from(s)
    }

    /// Entries as (name, value) pairs, in the map's order.
    fn pairs(m: &StatMap<u32>) -> Vec<(String, u32)> {
        m.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn collects_like_a_btreemap_from_runs_and_repeats() {
        // Two sorted runs (a stats store and a hosts store), a repeated name, an unsorted tail.
        let input = [
            ("b", 1),
            ("d", 2),
            ("f", 3),
            ("a", 4),
            ("d", 5),
            ("e", 6),
            ("c", 7),
            ("a", 8),
        ];
        let map: StatMap<u32> = input.iter().map(|(k, v)| (name(k), *v)).collect();
        let tree: BTreeMap<String, u32> = input.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(pairs(&map), tree.into_iter().collect::<Vec<_>>());
        assert_eq!(
            map.get("d"),
            Some(&5),
            "the last value of a repeated name wins"
        );
        assert_eq!(map.get("a"), Some(&8));
        assert_eq!(map.get("g"), None);
        assert!(map.contains_key("c") && !map.contains_key(""));
        assert_eq!(map.len(), 6);
    }

    #[test]
    fn insert_keeps_the_order_and_replaces() {
        let mut map = StatMap::new();
        assert!(map.is_empty());
        assert_eq!(map.insert(name("m"), 1), None);
        assert_eq!(map.insert(name("a"), 2), None);
        assert_eq!(map.insert(name("z"), 3), None);
        assert_eq!(map.insert(name("m"), 4), Some(1));
        assert_eq!(
            pairs(&map),
            [("a".into(), 2), ("m".into(), 4), ("z".into(), 3)]
        );
        assert_eq!(
            map.keys().map(|k| &**k).collect::<Vec<_>>(),
            ["a", "m", "z"]
        );
        assert_eq!(map.values().copied().collect::<Vec<_>>(), [2, 4, 3]);
    }

    #[test]
    fn json_is_a_btreemap_s_and_reads_back() {
        let map: StatMap<u32> = [(name("upstream_rq_total"), 9), (name("hosts.rq_total"), 3)]
            .into_iter()
            .collect();
        let tree: BTreeMap<&str, u32> = [("upstream_rq_total", 9), ("hosts.rq_total", 3)].into();
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(json, serde_json::to_string(&tree).unwrap());
        assert_eq!(json, r#"{"hosts.rq_total":3,"upstream_rq_total":9}"#);
        let back: StatMap<u32> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, map);
        // Out of order and repeated keys in the input still give a sorted map.
        let back: StatMap<u32> = serde_json::from_str(r#"{"b":1,"a":2,"b":3}"#).unwrap();
        assert_eq!(pairs(&back), [("a".into(), 2), ("b".into(), 3)]);
        let err = serde_json::from_str::<StatMap<u32>>("[1]").unwrap_err();
        assert!(err.to_string().contains("a map of stat names"), "{err}");
    }
}
