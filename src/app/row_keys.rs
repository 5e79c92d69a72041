//! What the overview sorts and filters by ([`RowKeys`]): each upstream cluster's worst
//! severity, the numbers of the sortable columns and its label and name, taken once per
//! snapshot ([`RowKeysBuilder`], while the rebuild makes each cluster), in destination order;
//! and the orders sorted from them. [`RowOrder`](super::RowOrder) keeps those orders between
//! changes.

use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use crate::diagnosis::{Finding, Severity, WorstByCluster, worst_by_cluster};
use crate::model::{ClusterSnapshot, MeshSnapshot};

use super::action::SortColumn;
use super::table::{Ranked, is_upstream};
use super::view_state::Filter;

/// What the overview sorts and filters by, for each upstream cluster of one snapshot:
/// taken once per snapshot ([`RowKeysBuilder`], [`RowKeys::of`]), so a new sort or filter
/// compares a few numbers per row instead of searching each cluster's counters and the
/// findings again. The rows are in destination order (label, then Envoy cluster name), so a
/// row's position is its rank for the destination sort and for ties. The texts the `/` filter
/// matches are copied side by side into one string, so a keystroke reads them from one
/// block of memory rather than from every cluster of the snapshot.
#[derive(Debug, Clone, Default)]
pub struct RowKeys {
    rows: Vec<RowKey>,
    /// Each row's label then cluster name, in row order; a row's `texts` are offsets in here.
    texts: String,
    /// Which destination order the rows are in: a new number when sorted, the previous keys'
    /// number when their order was kept ([`RowKeysBuilder::finish`]), so a row index means
    /// the same destination in both and the previous sort is a good start for the next.
    layout: u64,
}

/// Keys are equal when their rows and texts are (whichever way the order was found).
impl PartialEq for RowKeys {
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows && self.texts == other.texts
    }
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

/// A row's sort keys: worst severity, the column's two numbers, the row (destination rank).
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

    /// `rows` (in snapshot order, their texts in `texts`) in this keys' destination order, when
    /// they are the same clusters with the same labels at the same positions; `None` otherwise.
    fn same_destinations(&self, rows: &[RowKey], texts: &str) -> Option<Vec<RowKey>> {
        if self.rows.len() != rows.len() || self.texts != texts {
            return None;
        }
        // Equal texts and, row for row, equal positions and offsets: the same labels and names.
        // Rows are found by position through a table (a few KB) rather than searched for.
        let mut row_at = vec![u32::MAX; rows.last().map_or(0, |r| r.at + 1)];
        for (i, r) in rows.iter().enumerate() {
            *row_at.get_mut(r.at)? = u32::try_from(i).ok()?;
        }
        let mut ordered = Vec::with_capacity(rows.len());
        for kept in &self.rows {
            let i = usize::try_from(*row_at.get(kept.at)?).ok()?;
            let row = rows.get(i).copied().filter(|r| r.texts == kept.texts)?;
            ordered.push(row);
        }
        Some(ordered)
    }

    /// Row `i`'s label and cluster name.
    fn texts(&self, i: usize) -> (&str, &str) {
        label_and_name(&self.texts, self.rows.get(i).map_or((0, 0, 0), |r| r.texts))
    }

    /// Which destination order the rows are in (equal for keys whose row `i` is the same
    /// destination).
    pub fn layout(&self) -> u64 {
        self.layout
    }

    /// Each row's position in the snapshot's clusters, in row order.
    pub(super) fn positions(&self) -> Vec<usize> {
        self.rows.iter().map(|r| r.at).collect()
    }

    /// Row `i`'s position in the snapshot's clusters.
    pub(super) fn position(&self, i: u32) -> Option<usize> {
        self.rows.get(usize::try_from(i).ok()?).map(|r| r.at)
    }

    /// Upstream clusters (before any filter).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Positions in `self.rows` ordered by `sort`.
    ///
    /// `start`, when given, is a permutation of the rows to sort from: the previous snapshot's
    /// order by the same column (as it was for the same layout, carried over by position for
    /// another), so rows whose rank did not change cost one comparison each.
    pub(super) fn sorted(&self, sort: SortColumn, start: Option<&[u32]>) -> Vec<u32> {
        let rank = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        if sort == SortColumn::Destination {
            return (0..self.rows.len()).map(rank).collect();
        }
        let keyed_row = |i: u32| {
            let k = usize::try_from(i).ok().and_then(|i| self.rows.get(i))?;
            let (first, second) = numbers(k, sort);
            let severity = (sort == SortColumn::Severity)
                .then_some(k.severity)
                .flatten();
            Some((severity, first, second, i))
        };
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
                let mut keyed: Vec<Keyed> = start.iter().filter_map(|i| keyed_row(*i)).collect();
                keyed.sort_by(order);
                keyed
            }
            None => {
                let all = (0..self.rows.len()).map(rank);
                let mut keyed: Vec<Keyed> = all.filter_map(keyed_row).collect();
                keyed.sort_unstable_by(order);
                keyed
            }
        };
        keyed.into_iter().map(|k| k.3).collect()
    }

    /// The rows of `sorted` whose label or cluster name matches `filter`, as the overview
    /// lists them.
    pub(super) fn filtered(&self, sorted: &[u32], filter: Option<&Filter>) -> Vec<Ranked> {
        let matches = |i: usize| {
            let (label, name) = self.texts(i);
            filter.is_none_or(|f| f.matches(label) || f.matches(name))
        };
        (sorted.iter().filter_map(|i| usize::try_from(*i).ok()))
            .filter(|i| matches(*i))
            .filter_map(|i| self.rows.get(i))
            .map(|k| Ranked {
                at: k.at,
                severity: k.severity,
            })
            .collect()
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
    /// [`evaluate_with_worst`](crate::diagnosis::evaluate_with_worst)), in destination order.
    /// `previous` (the keys of the snapshot shown before) lends its order when both snapshots
    /// list the same clusters with the same labels at the same positions, the usual case from
    /// one poll to the next, so the rows are not sorted again.
    pub fn finish(self, worst: &WorstByCluster, previous: Option<&RowKeys>) -> RowKeys {
        let RowKeysBuilder { mut rows, texts } = self;
        if !worst.is_empty() {
            for row in &mut rows {
                let (_, name) = label_and_name(&texts, row.texts);
                row.severity = worst.get(name).copied();
            }
        }
        if let Some(previous) = previous
            && let Some(same) = previous.same_destinations(&rows, &texts)
        {
            return RowKeys {
                rows: same,
                texts,
                layout: previous.layout,
            };
        }
        // Label, then name (unique: cluster names are), compared in the copied texts rather
        // than in clusters scattered in memory; sorted starting from the previous keys' order
        // of the same positions, so a few changed clusters cost little more than a check.
        let destination = |k: &RowKey| label_and_name(&texts, k.texts);
        let order = |a: &RowKey, b: &RowKey| destination(a).cmp(&destination(b));
        match previous {
            Some(previous) => {
                let at: Vec<usize> = rows.iter().map(|r| r.at).collect();
                let start = carry_order(previous.positions().into_iter(), &at);
                rows = (start.iter())
                    .filter_map(|&i| rows.get(usize::try_from(i).ok()?).copied())
                    .collect();
                rows.sort_by(order);
            }
            None if !rows.is_sorted_by(|a, b| order(a, b).is_le()) => rows.sort_by(order),
            None => {}
        }
        RowKeys {
            rows,
            texts,
            layout: new_layout(),
        }
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
