//! The destination order of a new snapshot's keys, carried from the previous snapshot's
//! ([`carry`]). From one poll to the next the clusters are almost always the same, with the
//! same labels: their rows keep the previous order and only the rows from the first to the
//! last changed one are sorted in, instead of sorting every row again.
//!
//! Both keys hold each row's texts side by side in snapshot order, so the rows that did not
//! change are found by comparing the two texts as two blocks of memory: rows in their common
//! prefix at the same offsets, and rows in their common suffix at offsets shifted by the
//! difference in length, have the same label and name. Only the rows between are sorted in.

use super::{Ranked, RowKey, RowKeys, label_and_name, new_layout, with_room};
use crate::bytes::{common_prefix, common_suffix};

/// How the rows of the keys some [`RowKeys`] were carried from map to their rows, so an
/// order of the previous rows (the overview's sort) can start the same sort of the new ones.
#[derive(Debug, Clone)]
pub(in crate::app) struct Carried {
    /// The layout of the keys carried from.
    from: u64,
    /// Each previous row's number here (`u32::MAX`: it lay between the unchanged rows at the
    /// start and at the end, so it changed, is gone, or was sorted in again).
    rows: Vec<u32>,
    /// The rows here with no previous row (those sorted in), in destination order.
    added: Vec<u32>,
}

impl Carried {
    /// `sorted` (every row of the keys of layout `layout`, in some order) as rows here: the
    /// rows still here in that order, then the added ones. `None` when these keys were not
    /// carried from `layout`, or `sorted` does not have one entry per previous row.
    pub(super) fn start(&self, layout: u64, sorted: &[u32]) -> Option<Vec<u32>> {
        if layout != self.from || sorted.len() != self.rows.len() {
            return None;
        }
        let here = |i: &u32| self.rows.get(usize::try_from(*i).ok()?).copied();
        let kept = sorted.iter().filter_map(here).filter(|&r| r != u32::MAX);
        let room = sorted.len() + self.added.len();
        Some(with_room(room, kept.chain(self.added.iter().copied())))
    }
}

/// How many rows at the start and at the end of `rows` (in snapshot order, their texts in
/// `texts`) have the label and name of `previous`'s rows at the same place from that end:
/// rows in the common prefix of the two texts at the same offsets, and rows in their common
/// suffix at offsets that differ by the difference in length. The two runs do not overlap.
fn unchanged_ends(previous: &RowKeys, rows: &[RowKey], texts: &str) -> (usize, usize) {
    let (old, new) = (previous.texts.as_bytes(), texts.as_bytes());
    let prefix = common_prefix(old, new);
    // Not overlapping the prefix: a row is in one or the other.
    let suffix = common_suffix(old, new, old.len().min(new.len()) - prefix);
    let head = (rows.iter().zip(&previous.rows))
        .take_while(|(r, p)| r.texts == p.texts && r.texts.2 <= prefix)
        .count();
    // Offsets compared as sums: the difference in length may be negative.
    let shifted = |r: usize, p: usize| r + old.len() == p + new.len();
    let tail = (rows.get(head..).unwrap_or_default().iter().rev())
        .zip(previous.rows.get(head..).unwrap_or_default().iter().rev())
        .take_while(|(r, p)| {
            let ((r0, r1, r2), (p0, p1, p2)) = (r.texts, p.texts);
            r0 + suffix >= new.len() && shifted(r0, p0) && shifted(r1, p1) && shifted(r2, p2)
        })
        .count();
    (head, tail)
}

/// The keys of `rows` (a snapshot's rows in snapshot order with their severities, their texts
/// in `texts`), their destination order carried from `previous` (see the module
/// documentation); `previous` may be empty keys (everything is sorted).
pub(super) fn carry(previous: &RowKeys, rows: Vec<RowKey>, texts: String) -> RowKeys {
    let (head, tail) = unchanged_ends(previous, &rows, &texts);
    let (n, n_old) = (rows.len(), previous.rows.len());
    let number = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    let ranked = (rows.iter())
        .map(|r| Ranked {
            at: r.at,
            severity: r.severity,
        })
        .collect();
    // The same destinations at the same row numbers: the previous order as it is.
    if head == n && n == n_old {
        return RowKeys {
            rows,
            texts,
            ranked,
            by_destination: previous.by_destination.clone(),
            rank: previous.rank.clone(),
            layout: previous.layout,
            carried: None,
        };
    }
    // Each previous row's number here, for the rows kept.
    let mut here = vec![u32::MAX; n_old];
    for (i, slot) in here.iter_mut().enumerate() {
        if i < head {
            *slot = number(i);
        } else if i + tail >= n_old {
            *slot = number(i + n - n_old);
        }
    }
    // Label, then name, then row number (names are unique, but a snapshot read from outside
    // could repeat one: the order is still the one sorted from scratch).
    let destination = |i: u32| {
        let row = rows.get(usize::try_from(i).ok()?)?;
        Some((label_and_name(&texts, row.texts), i))
    };
    // The kept rows in the previous destination order: still in order (their labels and
    // names are the same); the others sorted, then each put before the first kept row that
    // sorts after it.
    let kept = (previous.by_destination.iter())
        .filter_map(|&i| here.get(usize::try_from(i).ok()?).copied())
        .filter(|&r| r != u32::MAX);
    let kept = with_room(n_old, kept);
    // Sorted with their texts at hand (all of them when nothing is carried).
    let mut added: Vec<_> = (head..n - tail)
        .filter_map(|j| destination(number(j)))
        .collect();
    added.sort();
    let mut by_destination = Vec::with_capacity(n);
    let mut rest = kept.as_slice();
    for a in &added {
        let before = rest.partition_point(|&k| destination(k).as_ref() < Some(a));
        let (now, later) = rest.split_at(before);
        by_destination.extend_from_slice(now);
        by_destination.push(a.1);
        rest = later;
    }
    let added = added.into_iter().map(|(_, row)| row).collect();
    by_destination.extend_from_slice(rest);
    let mut rank = vec![u32::MAX; n];
    for (place, &row) in by_destination.iter().enumerate() {
        if let Some(slot) = rank.get_mut(usize::try_from(row).unwrap_or(usize::MAX)) {
            *slot = number(place);
        }
    }
    let carried = (!previous.rows.is_empty()).then_some(Carried {
        from: previous.layout,
        rows: here,
        added,
    });
    RowKeys {
        rows,
        texts,
        ranked,
        by_destination,
        rank,
        layout: new_layout(),
        carried,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{ABSENT, RowKeysBuilder};
    use super::*;

    /// Keys of rows with these labels and names (positions 0, 2, 4, …), previous keys
    /// lending their order when given.
    fn keys(rows: &[(String, String)], previous: Option<&RowKeys>) -> RowKeys {
        let mut b = RowKeysBuilder::default();
        for (i, (label, name)) in rows.iter().enumerate() {
            let start = b.texts.len();
            b.texts.push_str(label);
            let label_end = b.texts.len();
            b.texts.push_str(name);
            b.rows.push(RowKey {
                at: 2 * i,
                severity: None,
                timeouts: ABSENT,
                requests: ABSENT,
                destroyed: ABSENT,
                errors: ABSENT,
                p99_ms: ABSENT,
                texts: (start, label_end, b.texts.len()),
            });
        }
        b.finish(&Default::default(), previous)
    }

    /// The row numbers of `rows` sorted by label, then name.
    fn sorted(rows: &[(String, String)]) -> Vec<u32> {
        let mut order: Vec<u32> = (0..rows.len() as u32).collect();
        order.sort_by(|a, b| rows[*a as usize].cmp(&rows[*b as usize]));
        order
    }

    /// One change to a snapshot's rows.
    #[derive(Debug, Clone)]
    enum Edit {
        Relabel(usize, String),
        Rename(usize, String),
        /// Moves the boundary between a row's label and name.
        Resplit(usize, usize),
        Insert(usize, String, String),
        Remove(usize),
        Swap(usize, usize),
    }

    fn text() -> impl Strategy<Value = String> {
        // Short texts from few letters: equal labels, prefixes of one another, empty ones.
        "[ab.:]{0,4}"
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<usize>(), text()).prop_map(|(i, t)| Edit::Relabel(i, t)),
            (any::<usize>(), text()).prop_map(|(i, t)| Edit::Rename(i, t)),
            (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Edit::Resplit(i, j)),
            (any::<usize>(), text(), text()).prop_map(|(i, l, n)| Edit::Insert(i, l, n)),
            any::<usize>().prop_map(Edit::Remove),
            (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Edit::Swap(i, j)),
        ]
    }

    fn apply(rows: &mut Vec<(String, String)>, edit: &Edit) {
        let n = rows.len();
        match edit.clone() {
            Edit::Insert(i, label, name) => rows.insert(i % (n + 1), (label, name)),
            _ if n == 0 => {}
            Edit::Relabel(i, label) => rows[i % n].0 = label,
            Edit::Rename(i, name) => rows[i % n].1 = name,
            Edit::Resplit(i, j) => {
                let (label, name) = &rows[i % n];
                let whole = format!("{label}{name}");
                let cut = j % (whole.len() + 1);
                rows[i % n] = (whole[..cut].to_string(), whole[cut..].to_string());
            }
            Edit::Remove(i) => {
                rows.remove(i % n);
            }
            Edit::Swap(i, j) => rows.swap(i % n, j % n),
        }
    }

    proptest! {
        /// Keys carried through a sequence of snapshots, each a few edits from the last, have
        /// exactly the order sorted from scratch; the layout is kept only for the same
        /// destinations row for row; and any order of the previous rows carries over to a
        /// start that lists every new row once.
        #[test]
        fn carried_orders_equal_sorting_from_scratch(
            first in proptest::collection::vec((text(), text()), 0..12),
            steps in proptest::collection::vec(proptest::collection::vec(edit(), 0..4), 1..6),
        ) {
            let mut rows = first;
            let mut previous = keys(&rows, None);
            prop_assert_eq!(&previous.by_destination, &sorted(&rows));
            for edits in steps {
                let before = rows.clone();
                for e in &edits {
                    apply(&mut rows, e);
                }
                let next = keys(&rows, Some(&previous));
                prop_assert_eq!(&next.by_destination, &sorted(&rows));
                prop_assert_eq!(&next, &keys(&rows, None));
                for (place, &row) in next.by_destination.iter().enumerate() {
                    prop_assert_eq!(next.rank[row as usize], place as u32);
                }
                prop_assert_eq!(next.layout == previous.layout, before == rows);
                // Each carried row is the previous row's destination.
                if let Some(carried) = &next.carried {
                    for (i, &here) in carried.rows.iter().enumerate() {
                        if here != u32::MAX {
                            prop_assert_eq!(&before[i], &rows[here as usize]);
                        }
                    }
                }
                // The previous rows in reverse destination order, carried over.
                let reversed: Vec<u32> = previous.by_destination.iter().rev().copied().collect();
                if next.layout != previous.layout {
                    let start = next.carried_start(previous.layout, &reversed);
                    prop_assert_eq!(start.is_some(), !before.is_empty());
                    if let Some(mut start) = start {
                        start.sort_unstable();
                        prop_assert_eq!(start, (0..rows.len() as u32).collect::<Vec<_>>());
                    }
                    prop_assert!(next.carried_start(next.layout, &reversed).is_none());
                }
                previous = next;
            }
        }
    }

    /// Rows with the same label and name (a snapshot read from outside could repeat a name)
    /// keep row order among themselves, as sorting from scratch does, when a row like them
    /// is inserted (found by the property test).
    #[test]
    fn repeated_destinations_keep_row_order() {
        let row = |label: &str| (label.to_string(), String::new());
        let mut rows = vec![row(""), row(".."), row(""), row(""), row("..")];
        let previous = keys(&rows, None);
        rows.insert(3, row(""));
        let next = keys(&rows, Some(&previous));
        assert_eq!(next.by_destination, vec![0, 2, 3, 4, 1, 5]);
        assert_eq!(next.by_destination, sorted(&rows));
    }

    /// One label changed among many rows: only that row is sorted in, every other row is
    /// carried (mapped to its own number), and the relabelled row is the one added.
    #[test]
    fn one_relabelled_row_is_the_only_one_sorted_in() {
        let mut rows: Vec<(String, String)> = (0..100)
            .map(|i| (format!("svc-{i:03}"), format!("outbound|80||svc-{i:03}")))
            .collect();
        let previous = keys(&rows, None);
        rows[40].0 = "zzz".to_string();
        let next = keys(&rows, Some(&previous));
        let carried = next.carried.as_ref().expect("carried");
        assert_eq!(carried.added, vec![40]);
        for (i, &here) in carried.rows.iter().enumerate() {
            let want = if i == 40 { u32::MAX } else { i as u32 };
            assert_eq!(here, want, "row {i}");
        }
        assert_eq!(next.by_destination.last(), Some(&40));
        assert_eq!(next.by_destination, sorted(&rows));
    }
}
