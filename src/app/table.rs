//! Which clusters the overview lists and in what order: upstream clusters (Istio outbound and
//! plain Envoy clusters) of the shown snapshot, filtered by the `/` regex on the destination
//! label and the Envoy cluster name (not on client pods: without a `Sidecar` resource every
//! sidecar has every cluster, so a client pod's name would match every row), sorted by the
//! chosen column (default: worst finding first). Views, key handling and the export all use
//! this one list ([`App::overview_rows`]), so what is selected is what is drawn.
//!
//! The order is computed once per change — a new snapshot, filter or sort — by `update` and
//! kept in [`RowOrder`]; a frame only reads it and builds the rows on screen. Sorting thousands
//! of rows compares precomputed keys (severity from one pass over the findings), never looks a
//! counter up inside the comparison.

use std::borrow::Cow;
use std::cmp::Ordering;

use rustc_hash::FxHashMap;

use crate::diagnosis::{Finding, Severity};
use crate::envoy::{ClusterKind, Direction};
use crate::model::{ClusterSnapshot, SourceState};

use super::App;
use super::action::SortColumn;
use super::mesh::Shown;
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

/// What an order was computed for: the shown snapshot, the filter and the sort.
#[derive(Debug, Clone)]
struct OrderKey {
    generation: u64,
    filter: Option<String>,
    sort: SortColumn,
}

impl OrderKey {
    fn of(shown: &Shown, view: &ViewState) -> Self {
        OrderKey {
            generation: shown.generation(),
            filter: view.filter.as_ref().map(|f| f.text.clone()),
            sort: view.sort,
        }
    }

    /// Whether this order is still the one for `shown` and `view` (no allocation: checked on
    /// every message and frame).
    fn fits(&self, shown: &Shown, view: &ViewState) -> bool {
        self.generation == shown.generation()
            && self.sort == view.sort
            && self.filter.as_deref() == view.filter.as_ref().map(|f| f.text.as_str())
    }
}

/// The overview's order, kept by `update` between changes.
#[derive(Debug, Clone, Default)]
pub struct RowOrder {
    key: Option<OrderKey>,
    rows: Vec<Ranked>,
    upstream: usize,
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
    /// Recomputes the order if the snapshot, filter or sort changed since the last time.
    pub fn refresh(&mut self, shown: &Shown, view: &ViewState) {
        if self.key.as_ref().is_some_and(|k| k.fits(shown, view)) {
            return;
        }
        let (rows, upstream) = order_rows(shown, view.filter.as_ref(), view.sort);
        *self = RowOrder {
            key: Some(OrderKey::of(shown, view)),
            rows,
            upstream,
        };
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
        let clusters = shown.snapshot.clusters.as_slice();
        if (self.rows.key.as_ref()).is_some_and(|k| k.fits(shown, &self.view)) {
            return OverviewRows {
                clusters,
                rows: Cow::Borrowed(&self.rows.rows),
                upstream: self.rows.upstream,
            };
        }
        let (rows, upstream) = order_rows(shown, self.view.filter.as_ref(), self.view.sort);
        OverviewRows {
            clusters,
            rows: Cow::Owned(rows),
            upstream,
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

/// One row's sort key, computed once before sorting.
struct Keyed<'a> {
    at: usize,
    severity: Option<Severity>,
    first: f64,
    second: f64,
    label: &'a str,
}

/// The overview's rows in order (positions in `shown.snapshot.clusters` with their worst
/// finding's severity), and how many upstream clusters there are before the filter.
pub fn order_rows(
    shown: &Shown,
    filter: Option<&Filter>,
    sort: SortColumn,
) -> (Vec<Ranked>, usize) {
    let mut severity: FxHashMap<&str, Severity> = FxHashMap::default();
    for f in &shown.findings {
        if let Some(cluster) = f.cluster.as_deref() {
            let worst = severity.entry(cluster).or_insert(f.severity);
            *worst = (*worst).max(f.severity);
        }
    }
    let mut upstream = 0;
    let mut rows: Vec<Keyed> = Vec::new();
    for (at, c) in shown.snapshot.clusters.iter().enumerate() {
        if !is_upstream(c) {
            continue;
        }
        upstream += 1;
        if filter.is_some_and(|f| !matches(f, c)) {
            continue;
        }
        let (first, second) = numbers(c, sort);
        rows.push(Keyed {
            at,
            severity: severity.get(c.key.name.as_str()).copied(),
            first,
            second,
            label: &c.label,
        });
    }
    // Total order (the cluster name breaks label ties), so the faster unstable sort is safe.
    let clusters = &shown.snapshot.clusters;
    let name = |k: &Keyed| clusters.get(k.at).map(|c| c.key.name.as_str());
    rows.sort_unstable_by(|a, b| {
        compare(sort, a, b)
            .then_with(|| a.label.cmp(b.label))
            .then_with(|| name(a).cmp(&name(b)))
    });
    let ranked = rows.into_iter().map(|k| Ranked {
        at: k.at,
        severity: k.severity,
    });
    (ranked.collect(), upstream)
}

fn matches(f: &Filter, c: &ClusterSnapshot) -> bool {
    f.matches(&c.label) || f.matches(&c.key.name)
}

fn rate(c: &ClusterSnapshot, stat: &str) -> f64 {
    c.rate(stat).unwrap_or(-1.0)
}

/// The numbers a column sorts by, most significant first (absent = -1, sorted last).
fn numbers(c: &ClusterSnapshot, sort: SortColumn) -> (f64, f64) {
    let one = |x: f64| (x, 0.0);
    match sort {
        SortColumn::Severity => (rate(c, "upstream_rq_timeout"), rate(c, "upstream_rq_total")),
        SortColumn::Destination => one(0.0),
        SortColumn::Requests => one(rate(c, "upstream_rq_total")),
        SortColumn::Timeouts => one(rate(c, "upstream_rq_timeout")),
        SortColumn::Destroyed => one(rate(c, "upstream_cx_destroy_with_active_rq")),
        SortColumn::Errors => one(rate(c, "upstream_rq_5xx")),
        SortColumn::Latency => one(c.upstream_rq_time_p99_ms.unwrap_or(-1.0)),
    }
}

/// Worst severity first (when sorting by it), then the numbers descending.
fn compare(sort: SortColumn, a: &Keyed, b: &Keyed) -> Ordering {
    let by_severity = match sort {
        SortColumn::Severity => b.severity.cmp(&a.severity),
        _ => Ordering::Equal,
    };
    by_severity
        .then_with(|| b.first.total_cmp(&a.first))
        .then_with(|| b.second.total_cmp(&a.second))
}
