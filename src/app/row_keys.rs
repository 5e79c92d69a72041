//! What the overview sorts and filters by ([`RowKeys`]): each upstream cluster's worst
//! severity, the numbers of the sortable columns and its label and name, taken once per
//! snapshot ([`RowKeysBuilder`], while the rebuild makes each cluster), with their
//! destination order (carried from the previous snapshot's keys: [`carry`]); and the orders
//! sorted from them. [`RowOrder`](super::RowOrder) keeps those orders between changes.

mod carry;

use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use crate::diagnosis::{Finding, Severity, WorstByCluster, worst_by_cluster};
use crate::model::{ClusterSnapshot, MeshSnapshot};

use super::action::SortColumn;
use super::table::{Ranked, is_upstream};
use super::view_state::Filter;

/// What the overview sorts and filters by, for each upstream cluster of one snapshot:
/// taken once per snapshot ([`RowKeysBuilder`], [`RowKeys::of`]), so a new sort or filter
/// compares a few numbers per row instead of searching each cluster's counters and the
/// findings again. The rows stay in snapshot order, as the rebuild took them; their
/// destination order (label, then Envoy cluster name) is kept beside them as row numbers, and
/// breaks ties in every other sort. The texts the `/` filter matches are copied side by side
/// into one string, so a keystroke reads them from one block of memory rather than from every
/// cluster of the snapshot.
#[derive(Debug, Clone, Default)]
pub struct RowKeys {
    /// In snapshot order (increasing positions).
    rows: Vec<RowKey>,
    /// Each row's label then cluster name, in row order; a row's `texts` are offsets in here.
    texts: String,
    /// Each row's position and worst severity, in row order: what the overview lists, read
    /// row by row in sorted order from a block of 16-byte entries rather than from the rows.
    ranked: Vec<Ranked>,
    /// The rows in destination order (row numbers).
    by_destination: Vec<u32>,
    /// Each row's place in `by_destination`.
    rank: Vec<u32>,
    /// Which destinations the rows are: the previous keys' number when every row has the
    /// label and name of the previous keys' row of the same number and there are as many
    /// rows ([`RowKeysBuilder::finish`]), else a new number; so a row number means the same
    /// destination in both and the previous sort is a good start for the next. (Keys with no
    /// rows made without previous keys have 0.)
    layout: u64,
    /// How the previous keys' rows map to these, when the layout is new and the previous
    /// keys had rows.
    carried: Option<carry::Carried>,
}

/// Keys are equal when their rows, texts and destination orders are (the order follows from
/// the rows and texts; it is compared so that keys whose order was carried can be checked
/// against keys sorted from scratch).
impl PartialEq for RowKeys {
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows
            && self.texts == other.texts
            && self.by_destination == other.by_destination
    }
}

/// `items` collected into a vector made with room for `room` of them. Collecting a filtered
/// run of thousands of rows would grow the vector by doubling, each time into fresh memory
/// the system must first map: that cost more than the work (300 µs of a sort of 5,000 rows).
pub(super) fn with_room<T>(room: usize, items: impl Iterator<Item = T>) -> Vec<T> {
    let mut v = Vec::with_capacity(room);
    v.extend(items);
    v
}

/// A number for a destination order just sorted.
fn new_layout() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, AtomicOrdering::Relaxed)
}

/// A row's label and cluster name in `texts`, from [`RowKey::texts`].
fn label_and_name(texts: &str, (start, label_end, end): (usize, usize, usize)) -> (&str, &str) {
    let text = |from: usize, to: usize| texts.get(from..to).unwrap_or_default();
    (text(start, label_end), text(label_end, end))
}

/// A start for sorting the rows of a new snapshot: the rows at the snapshot positions
/// `previous` lists (the previous order, as positions), in that order, then the rows whose
/// position it does not list, in row order. `rows_at` gives each row's position. Only a
/// start: rows are sorted from it by a total order, so the result does not depend on it, but a
/// stable sort of rows that are nearly in order costs about one comparison per row.
pub(super) fn carry_order(previous: impl Iterator<Item = usize>, rows_at: &[usize]) -> Vec<u32> {
    let mut row_of = vec![u32::MAX; rows_at.iter().max().map_or(0, |m| m + 1)];
    for (i, &at) in rows_at.iter().enumerate() {
        if let Some(slot) = row_of.get_mut(at) {
            *slot = u32::try_from(i).unwrap_or(u32::MAX);
        }
    }
    let mut order = Vec::with_capacity(rows_at.len());
    for at in previous {
        // Taken once: a listed position's row is unlisted afterwards.
        if let Some(slot) = row_of.get_mut(at)
            && *slot != u32::MAX
        {
            order.push(std::mem::replace(slot, u32::MAX));
        }
    }
    for (i, &at) in rows_at.iter().enumerate() {
        if row_of.get(at).is_some_and(|&r| r != u32::MAX) {
            order.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
    }
    order
}

/// A row's sort keys: worst severity, the column's two numbers, its destination rank.
type Keyed = (Option<Severity>, f64, f64, u32);

/// A number that is not collected (or covers no time) sorts after every real one.
const ABSENT: f64 = -1.0;

/// One upstream cluster's sort keys (rates absent = [`ABSENT`]).
#[derive(Debug, Clone, Copy, PartialEq)]
struct RowKey {
    /// Position in the snapshot's clusters.
    at: usize,
    severity: Option<Severity>,
    timeouts: f64,
    requests: f64,
    destroyed: f64,
    errors: f64,
    p99_ms: f64,
    /// Where the label starts, where it ends and the name starts, and where the name ends,
    /// in [`RowKeys::texts`].
    texts: (usize, usize, usize),
}

impl RowKeys {
    /// The keys of `snapshot`, read back from it cluster by cluster (headless export, tests).
    /// [`MeshState::rebuild`](super::MeshState::rebuild) takes them while it makes each
    /// cluster instead ([`RowKeysBuilder`]).
    pub fn of(snapshot: &MeshSnapshot, findings: &[Finding]) -> RowKeys {
        let mut keys = RowKeysBuilder::with_capacity(snapshot.clusters.len());
        for (at, c) in snapshot.clusters.iter().enumerate() {
            keys.add(at, c);
        }
        keys.finish(&worst_by_cluster(findings), None)
    }

    /// Row `i`'s label and cluster name.
    fn texts(&self, i: usize) -> (&str, &str) {
        label_and_name(&self.texts, self.rows.get(i).map_or((0, 0, 0), |r| r.texts))
    }

    /// Which destinations the rows are (equal for keys whose row `i` is the same
    /// destination).
    pub fn layout(&self) -> u64 {
        self.layout
    }

    /// `sorted` (every row of the keys of layout `layout`, in some order) as rows of these
    /// keys, when these were carried from those: the rows still here in that order, then the
    /// new ones. `None` for keys of another layout.
    pub(super) fn carried_start(&self, layout: u64, sorted: &[u32]) -> Option<Vec<u32>> {
        self.carried.as_ref()?.start(layout, sorted)
    }

    /// Each row's position in the snapshot's clusters, in row order.
    pub(super) fn positions(&self) -> Vec<usize> {
        self.ranked.iter().map(|r| r.at).collect()
    }

    /// Row `i`'s position in the snapshot's clusters.
    pub(super) fn position(&self, i: u32) -> Option<usize> {
        self.ranked.get(usize::try_from(i).ok()?).map(|r| r.at)
    }

    /// Upstream clusters (before any filter).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Row numbers ordered by `sort`.
    ///
    /// `start`, when given, is a permutation of the rows to sort from: the previous snapshot's
    /// order by the same column (as it was for the same layout; for another, mapped row by
    /// row when these keys were carried from those, else through the snapshot positions), so
    /// rows whose rank did not change cost one comparison each.
    pub(super) fn sorted(&self, sort: SortColumn, start: Option<&[u32]>) -> Vec<u32> {
        debug_assert!(
            start.is_none_or(|s| {
                let mut seen = vec![false; s.len()];
                (s.iter()).all(|&i| {
                    seen.get_mut(i as usize)
                        .is_some_and(|x| !std::mem::replace(x, true))
                })
            }),
            "a start lists every row once"
        );
        if sort == SortColumn::Destination {
            return self.by_destination.clone();
        }
        // Each row's sort keys, read in row order (one pass through memory); ties sort by
        // destination rank, turned back into the row at the end.
        let severity = |k: &RowKey| (sort == SortColumn::Severity).then_some(k.severity);
        let by_row = (self.rows.iter().zip(&self.rank)).map(|(k, &rank)| {
            let (first, second) = numbers(k, sort);
            (severity(k).flatten(), first, second, rank)
        });
        let order = |a: &Keyed, b: &Keyed| {
            (b.0.cmp(&a.0))
                .then_with(|| b.1.total_cmp(&a.1))
                .then_with(|| b.2.total_cmp(&a.2))
                .then_with(|| a.3.cmp(&b.3))
        };
        // (keys, rank) is a total order: the stable sort (fast on nearly sorted rows) and the
        // unstable one give the same result.
        let keyed: Vec<Keyed> = match start.filter(|s| s.len() == self.rows.len()) {
            Some(start) => {
                let by_row: Vec<Keyed> = by_row.collect();
                let at = |i: u32| by_row.get(usize::try_from(i).ok()?).copied();
                let mut keyed = with_room(start.len(), start.iter().filter_map(|i| at(*i)));
                keyed.sort_by(order);
                keyed
            }
            None => {
                let mut keyed: Vec<Keyed> = by_row.collect();
                keyed.sort_unstable_by(order);
                keyed
            }
        };
        let row = |rank: u32| {
            self.by_destination
                .get(usize::try_from(rank).ok()?)
                .copied()
        };
        with_room(keyed.len(), keyed.into_iter().filter_map(|k| row(k.3)))
    }

    /// The rows of `sorted` whose label or cluster name matches `filter`, as the overview
    /// lists them.
    pub(super) fn filtered(&self, sorted: &[u32], filter: Option<&Filter>) -> Vec<Ranked> {
        // The texts are looked at only with a filter (each is a read from another place).
        let matches = |i: usize| {
            filter.is_none_or(|f| {
                let (label, name) = self.texts(i);
                f.matches(label) || f.matches(name)
            })
        };
        let rows = (sorted.iter().filter_map(|i| usize::try_from(*i).ok()))
            .filter(|i| matches(*i))
            .filter_map(|i| self.ranked.get(i).copied());
        with_room(sorted.len(), rows)
    }
}

/// [`RowKeys`] taken one cluster at a time, in snapshot order, as a snapshot is built: each
/// cluster is read while it is still in the cache rather than all of them again afterwards
/// (at 5,000 clusters, reading them back cold costs several milliseconds). The severities are
/// added by [`finish`](Self::finish), once the findings are known.
#[derive(Debug, Clone, Default)]
pub struct RowKeysBuilder {
    rows: Vec<RowKey>,
    texts: String,
}

impl RowKeysBuilder {
    /// Room for `clusters` clusters (and their texts, at a typical length).
    pub fn with_capacity(clusters: usize) -> Self {
        RowKeysBuilder {
            rows: Vec::with_capacity(clusters),
            texts: String::with_capacity(clusters.saturating_mul(96)),
        }
    }

    /// Takes the keys of the cluster at position `at` of the snapshot, if the overview lists
    /// it. Positions must come in increasing order (snapshot order).
    pub fn add(&mut self, at: usize, c: &ClusterSnapshot) {
        if !is_upstream(c) {
            return;
        }
        debug_assert!(
            self.rows.last().is_none_or(|r| r.at < at),
            "in snapshot order"
        );
        let texts = &mut self.texts;
        let start = texts.len();
        texts.push_str(&c.label);
        let label_end = texts.len();
        texts.push_str(&c.key.name);
        let mut key = RowKey {
            at,
            severity: None,
            timeouts: ABSENT,
            requests: ABSENT,
            destroyed: ABSENT,
            errors: ABSENT,
            p99_ms: c.upstream_rq_time_p99_ms.unwrap_or(ABSENT),
            texts: (start, label_end, texts.len()),
        };
        // One pass over the counters (a few dozen, in name order) rather than four searches.
        for (name, window) in &c.counters {
            let slot = match &**name {
                "upstream_rq_timeout" => &mut key.timeouts,
                "upstream_rq_total" => &mut key.requests,
                "upstream_cx_destroy_with_active_rq" => &mut key.destroyed,
                "upstream_rq_5xx" => &mut key.errors,
                _ => continue,
            };
            *slot = window.rate.unwrap_or(ABSENT);
        }
        self.rows.push(key);
    }

    /// The keys, with each row's worst finding (`worst`: by cluster name, from
    /// [`evaluate_with_worst`](crate::diagnosis::evaluate_with_worst)) and the destination
    /// order.
    /// `previous` (the keys of the snapshot shown before) lends its order ([`carry`]): the
    /// unchanged rows at the start and at the end (same label and name) keep it and only the
    /// rows between are sorted in, so from one poll to the next, when at most a few clusters
    /// change, the rows are not sorted again.
    pub fn finish(self, worst: &WorstByCluster, previous: Option<&RowKeys>) -> RowKeys {
        let RowKeysBuilder { mut rows, texts } = self;
        if !worst.is_empty() {
            for row in &mut rows {
                let (_, name) = label_and_name(&texts, row.texts);
                row.severity = worst.get(name).copied();
            }
        }
        let none = RowKeys::default();
        carry::carry(previous.unwrap_or(&none), rows, texts)
    }
}

/// The numbers a column sorts by, most significant first (descending).
fn numbers(k: &RowKey, sort: SortColumn) -> (f64, f64) {
    let one = |x: f64| (x, 0.0);
    match sort {
        SortColumn::Severity => (k.timeouts, k.requests),
        SortColumn::Destination => one(0.0),
        SortColumn::Requests => one(k.requests),
        SortColumn::Timeouts => one(k.timeouts),
        SortColumn::Destroyed => one(k.destroyed),
        SortColumn::Errors => one(k.errors),
        SortColumn::Latency => one(k.p99_ms),
    }
}
