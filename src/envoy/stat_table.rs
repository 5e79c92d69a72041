//! `StatTable`: named stats of one cluster (or the non-cluster stats of a capture), built to
//! be re-filled by the next capture of the same proxy without allocating: names in one
//! arena, a hash index without owned keys, a cursor for in-order refills and a generation
//! counter for presence.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::stat::{Histogram, StatValue};

/// One stat: its name as a range of the table's name arena, the parse generation that last
/// set it (equal to the table's generation = present in the current capture), and its value.
#[derive(Debug, Clone)]
struct Entry {
    name_start: u32,
    name_len: u32,
    generation: u32,
    value: StatValue,
}

/// Named stats with insertion order, a name index and a cursor for in-order refills.
///
/// Names live back to back in one arena string, in first-seen order, so the in-order refill
/// reads memory sequentially. The index maps a 64-bit hash of the name to the entry (names
/// with colliding hashes go to `collided`, searched linearly), so adding a stat allocates no
/// key. A new parse bumps `generation` instead of touching every entry.
#[derive(Debug, Clone, Default)]
pub struct StatTable {
    /// Shared with copies of the table (a poller hands on a copy of the set it re-parses
    /// into): the names and the index only change when a new stat appears.
    names: Arc<String>,
    entries: Vec<Entry>,
    index: Arc<FxHashMap<u64, u32>>,
    collided: Vec<u32>,
    cursor: usize,
    present: usize,
    generation: u32,
}

impl StatTable {
    fn name_of(&self, e: &Entry) -> &str {
        let start = e.name_start as usize;
        self.names
            .get(start..start + e.name_len as usize)
            .unwrap_or_default()
    }

    /// Finds (or creates) the entry for `name` and marks it present. The flag tells whether
    /// it was already present in this parse.
    fn slot(&mut self, name: &str) -> (&mut Entry, bool) {
        let i = match self.entries.get(self.cursor) {
            Some(e) if self.name_of(e) == name => self.cursor,
            _ => match self.find(name) {
                Some(i) => i,
                None => self.push_entry(name),
            },
        };
        self.cursor = i + 1;
        let generation = self.generation;
        let e = &mut self.entries[i];
        let was_present = e.generation == generation;
        if !was_present {
            e.generation = generation;
            self.present += 1;
        }
        (e, was_present)
    }

    fn push_entry(&mut self, name: &str) -> usize {
        self.push_entry_hashed(name, name_hash(name))
    }

    pub(crate) fn push_entry_hashed(&mut self, name: &str, hash: u64) -> usize {
        let i = self.entries.len();
        self.entries.push(Entry {
            name_start: self.names.len() as u32,
            name_len: name.len() as u32,
            generation: self.generation.wrapping_sub(1),
            value: StatValue::Int(0),
        });
        Arc::make_mut(&mut self.names).push_str(name);
        match Arc::make_mut(&mut self.index).entry(hash) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(i as u32);
            }
            std::collections::hash_map::Entry::Occupied(_) => self.collided.push(i as u32),
        }
        i
    }

    /// The entry named `name`, from any parse.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        let &i = self.index.get(&name_hash(name))?;
        let e = self.entries.get(i as usize)?;
        if self.name_of(e) == name {
            return Some(i as usize);
        }
        self.collided
            .iter()
            .map(|&i| i as usize)
            .find(|&i| self.entries.get(i).is_some_and(|e| self.name_of(e) == name))
    }

    /// Reserves room for about `stats` stats with `name_bytes` bytes of names.
    pub(crate) fn reserve(&mut self, stats: usize, name_bytes: usize) {
        self.entries.reserve(stats);
        Arc::make_mut(&mut self.names).reserve(name_bytes);
        Arc::make_mut(&mut self.index).reserve(stats);
    }

    /// Sets any value (used when moving stats between clusters).
    pub(crate) fn set_value(&mut self, name: &str, value: StatValue) {
        self.slot(name).0.value = value;
    }

    pub fn set_int(&mut self, name: &str, value: u64) {
        self.slot(name).0.value = StatValue::Int(value);
    }

    /// Adds to an integer stat (Prometheus splits some stats across label values).
    pub fn add_int(&mut self, name: &str, value: u64) {
        let (e, was_present) = self.slot(name);
        e.value = match e.value {
            StatValue::Int(v) if was_present => StatValue::Int(v.saturating_add(value)),
            _ => StatValue::Int(value),
        };
    }

    pub fn set_text(&mut self, name: &str, text: &str) {
        let (e, _) = self.slot(name);
        match &mut e.value {
            StatValue::Text(s) => {
                s.clear();
                s.push_str(text);
            }
            v => *v = StatValue::Text(text.to_string()),
        }
    }

    /// The histogram for `name`, cleared for refilling (its buffers are reused).
    pub fn histogram_mut(&mut self, name: &str) -> &mut Histogram {
        let (e, _) = self.slot(name);
        if !matches!(e.value, StatValue::Histogram(_)) {
            e.value = StatValue::Histogram(Box::default());
        }
        match &mut e.value {
            StatValue::Histogram(h) => {
                h.clear();
                h
            }
            _ => unreachable!("value was just set to a histogram"),
        }
    }

    /// Same as [`histogram_mut`](Self::histogram_mut) but keeps what is already there (for
    /// Prometheus, where one histogram arrives over many lines).
    pub fn histogram_accumulate(&mut self, name: &str) -> &mut Histogram {
        let (e, was_present) = self.slot(name);
        match &mut e.value {
            StatValue::Histogram(h) if !was_present => h.clear(),
            StatValue::Histogram(_) => {}
            v => *v = StatValue::Histogram(Box::default()),
        }
        match &mut e.value {
            StatValue::Histogram(h) => h,
            _ => unreachable!("value was just set to a histogram"),
        }
    }

    /// The name of the entry the cursor points at: the stat expected next when the capture has
    /// the same layout as the previous parse.
    pub(crate) fn expected(&self) -> Option<&str> {
        self.entries.get(self.cursor).map(|e| self.name_of(e))
    }

    /// Sets the entry at the cursor (the caller matched its name with [`expected`]) and moves
    /// the cursor on. Returns false when there is no such entry.
    ///
    /// [`expected`]: Self::expected
    pub(crate) fn set_int_at_cursor(&mut self, value: u64) -> bool {
        let Some(e) = self.entries.get_mut(self.cursor) else {
            return false;
        };
        e.value = StatValue::Int(value);
        if e.generation != self.generation {
            e.generation = self.generation;
            self.present += 1;
        }
        self.cursor += 1;
        true
    }

    /// True when `name` was seen in this or an earlier parse (cheap: the cursor entry is
    /// compared first).
    pub(crate) fn knows(&self, name: &str) -> bool {
        match self.entries.get(self.cursor) {
            Some(e) if self.name_of(e) == name => true,
            _ => self.find(name).is_some(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&StatValue> {
        let e = self.entries.get(self.find(name)?)?;
        (e.generation == self.generation).then_some(&e.value)
    }

    /// Present stats in the order they were first seen.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &StatValue)> {
        self.entries
            .iter()
            .filter(|e| e.generation == self.generation)
            .map(|e| (self.name_of(e), &e.value))
    }

    pub fn len(&self) -> usize {
        self.present
    }

    /// The position of the stat written last (every write leaves the cursor just after it).
    pub(crate) fn last_written(&self) -> usize {
        self.cursor.saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.present == 0
    }

    pub(crate) fn begin_reparse(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped after 2^32 parses: make sure no entry looks current by accident.
            for e in &mut self.entries {
                e.generation = u32::MAX;
            }
        }
        self.present = 0;
        self.cursor = 0;
    }

    /// (stats, bytes of names) held: sizes a new table like this one.
    pub(crate) fn capacity_hint(&self) -> (usize, usize) {
        (self.entries.len(), self.names.len())
    }

    /// Approximate heap bytes held (for memory budgets).
    pub fn heap_bytes(&self) -> usize {
        let entries = self.entries.capacity() * std::mem::size_of::<Entry>();
        let names = 2 * self.names.capacity();
        let index = self.index.capacity() * (std::mem::size_of::<(u64, u32)>() + 1);
        entries + names + index
    }
}

/// FxHash of a stat name, the key of [`StatTable`]'s index.
fn name_hash(name: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_colliding_hashes_are_kept_apart() {
        let mut t = StatTable::default();
        let a = t.push_entry_hashed("upstream_rq_total", 42);
        let b = t.push_entry_hashed("upstream_rq_timeout", 42);
        assert_ne!(a, b);
        assert_eq!(t.collided, vec![b as u32]);
        // `find` hashes for real, so plant the colliding hash under the real one too.
        let real = name_hash("upstream_rq_timeout");
        Arc::make_mut(&mut t.index).insert(real, a as u32);
        assert_eq!(
            t.find("upstream_rq_timeout"),
            Some(b),
            "found through the collision list"
        );
        assert_eq!(t.find("upstream_cx_total"), None);
    }
}
