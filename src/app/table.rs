//! Which clusters the overview lists and in what order: upstream clusters (Istio outbound and
//! plain Envoy clusters) of the shown snapshot, filtered by the `/` regex on the destination
//! label and the Envoy cluster name (not on client pods: without a `Sidecar` resource every
//! sidecar has every cluster, so a client pod's name would match every row), sorted by the
//! chosen column (default: worst finding first). Views, key handling and the export all use
//! this one list ([`App::overview_rows`]), so what is selected is what is drawn.
//!
//! The order is computed once per change by `update` and kept in [`RowOrder`]; a frame only
//! reads it and builds the rows on screen. A new snapshot or sort column sorts again, a filter
//! change only filters the kept sorted rows again (a new snapshot's sort starts from the
//! previous order). What a row sorts and filters by is taken once per snapshot
//! ([`RowKeys`](super::RowKeys); the rebuild takes it while it makes each cluster), so sorting
//! thousands of rows compares numbers and never looks a counter or a label up inside the
//! comparison.

use std::borrow::Cow;

use crate::diagnosis::{Finding, Severity};
use crate::envoy::{ClusterKind, Direction};
use crate::model::{ClusterSnapshot, SourceState};

use super::App;
use super::action::SortColumn;
use super::mesh::Shown;
use super::row_keys::{carry_order, with_room};
use super::view_state::{Filter, ViewState};

/// The worst severity among the findings about `cluster`.
pub fn cluster_severity(findings: &[Finding], cluster: &str) -> Option<Severity> {
    findings
        .iter()
        .filter(|f| f.cluster.as_deref() == Some(cluster))
        .map(|f| f.severity)
        .max()
}

/// True for the clusters the overview lists.
pub fn is_upstream(c: &ClusterSnapshot) -> bool {
    match &c.key.kind {
        ClusterKind::Istio(ic) => ic.direction == Direction::Outbound,
        ClusterKind::Plain => true,
        ClusterKind::Special { .. } => false,
    }
}

/// The overview's order, kept by `update` between changes: the rows sorted for a snapshot
/// and sort column, and of those the ones the filter lets through. A filter keystroke only
/// filters the sorted rows again; a new snapshot or sort column sorts again.
#[derive(Debug, Clone, Default)]
pub struct RowOrder {
    /// The snapshot generation and sort column `sorted` is for.
    sorted_for: Option<(u64, SortColumn)>,
    /// The layout of the keys `sorted` was sorted from.
    sorted_layout: u64,
    sorted: Vec<u32>,
    /// The snapshot position of each row of `sorted`, in the same order: the start for the
    /// next snapshot's sort when its rows are other destinations (another layout) and were
    /// not carried from these (the keys shown were not the next ones: after a pause, say).
    sorted_at: Vec<usize>,
    /// The filter `rows` is for.
    filter: Option<String>,
    rows: Vec<Ranked>,
}

/// A row: where its cluster is in the snapshot and its worst finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranked {
    pub at: usize,
    pub severity: Option<Severity>,
}

/// One row of the overview: the cluster and the severity of its worst finding.
#[derive(Debug, Clone, Copy)]
pub struct OverviewRow<'a> {
    pub cluster: &'a ClusterSnapshot,
    pub severity: Option<Severity>,
}

impl RowOrder {
    /// Whether this order is still the one for `shown` and `view` (no allocation: checked on
    /// every message and frame).
    fn fits(&self, shown: &Shown, view: &ViewState) -> bool {
        self.sorted_for == Some((shown.generation(), view.sort))
            && self.filter.as_deref() == view.filter.as_ref().map(|f| f.text.as_str())
    }

    /// Recomputes what changed since the last time: the sort (new snapshot or sort column),
    /// then the filtered rows.
    pub fn refresh(&mut self, shown: &Shown, view: &ViewState) {
        if self.fits(shown, view) {
            return;
        }
        let keys = shown.row_keys();
        let sorted_for = Some((shown.generation(), view.sort));
        if self.sorted_for != sorted_for {
            // The previous snapshot's order by the same column: as it is when the rows are the
            // same destinations (same layout), else carried over (below).
            let same_column = self.sorted_for.map(|(_, column)| column) == Some(view.sort);
            let carried;
            let start = match (same_column, self.sorted_layout == keys.layout()) {
                (false, _) => None,
                (true, true) => Some(self.sorted.as_slice()),
                (true, false) => {
                    // Mapped row by row when the keys were carried from the sorted ones,
                    // else through the snapshot positions (after a pause, say).
                    carried = (keys.carried_start(self.sorted_layout, &self.sorted))
                        .unwrap_or_else(|| {
                            carry_order(self.sorted_at.iter().copied(), &keys.positions())
                        });
                    Some(carried.as_slice())
                }
            };
            self.sorted = keys.sorted(view.sort, start);
            let at = self.sorted.iter().filter_map(|&i| keys.position(i));
            self.sorted_at = with_room(self.sorted.len(), at);
            self.sorted_for = sorted_for;
            self.sorted_layout = keys.layout();
        }
        self.rows = keys.filtered(&self.sorted, view.filter.as_ref());
        self.filter = view.filter.as_ref().map(|f| f.text.clone());
    }
}

/// The overview's rows in order: a view over the shown snapshot's clusters.
#[derive(Debug, Clone)]
pub struct OverviewRows<'a> {
    clusters: &'a [ClusterSnapshot],
    rows: Cow<'a, [Ranked]>,
    /// Upstream clusters before the filter.
    pub upstream: usize,
}

impl<'a> OverviewRows<'a> {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The cluster of row `i` (0 = first shown).
    pub fn get(&self, i: usize) -> Option<&'a ClusterSnapshot> {
        self.row(i).map(|r| r.cluster)
    }

    /// Row `i` with its severity.
    pub fn row(&self, i: usize) -> Option<OverviewRow<'a>> {
        self.rows.get(i).and_then(|r| self.resolve(*r))
    }

    fn resolve(&self, r: Ranked) -> Option<OverviewRow<'a>> {
        let cluster = self.clusters.get(r.at)?;
        Some(OverviewRow {
            cluster,
            severity: r.severity,
        })
    }

    /// Rows `start..end` (clamped), for the ones on screen.
    pub fn range(&self, start: usize, end: usize) -> impl Iterator<Item = OverviewRow<'a>> + '_ {
        let end = end.min(self.len());
        let start = start.min(end);
        self.rows[start..end]
            .iter()
            .filter_map(|r| self.resolve(*r))
    }

    /// Every row in order.
    pub fn iter(&self) -> impl Iterator<Item = OverviewRow<'a>> + '_ {
        self.range(0, self.len())
    }
}

impl App {
    /// The overview's rows for the current snapshot, filter and sort: the order `update` kept,
    /// or (if the app was changed without `update`) computed now.
    pub fn overview_rows(&self) -> OverviewRows<'_> {
        let shown = self.mesh.shown();
        let rows = match self.rows.fits(shown, &self.view) {
            true => Cow::Borrowed(self.rows.rows.as_slice()),
            false => Cow::Owned(order_rows(shown, self.view.filter.as_ref(), self.view.sort)),
        };
        OverviewRows {
            clusters: shown.snapshot.clusters.as_slice(),
            rows,
            upstream: shown.row_keys().len(),
        }
    }

    /// The pods screen's rows: the shown snapshot's sources whose pod name or state word
    /// (`stale`, `forbidden`, …) matches the `/` filter.
    pub fn pod_rows(&self) -> Vec<&SourceState> {
        let sources = &self.mesh.shown().snapshot.sources;
        let filter = self.view.filter.as_ref();
        (sources.iter())
            .filter(|s| filter.is_none_or(|f| f.matches(&s.pod) || f.matches(s.state.word())))
            .collect()
    }
}

/// The overview's rows in order (positions in `shown.snapshot.clusters` with their worst
/// finding's severity).
pub fn order_rows(shown: &Shown, filter: Option<&Filter>, sort: SortColumn) -> Vec<Ranked> {
    let keys = shown.row_keys();
    keys.filtered(&keys.sorted(sort, None), filter)
}
