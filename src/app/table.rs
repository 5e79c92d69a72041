//! Which clusters the overview lists and in what order: upstream clusters (Istio outbound and
//! plain Envoy clusters) of the shown snapshot, filtered by the `/` regex on the destination
//! label and the Envoy cluster name (not on client pods: without a `Sidecar` resource every
//! sidecar has every cluster, so a client pod's name would match every row), sorted by the
//! chosen column (default: worst finding first). Views, key handling and the export all use
//! this one list, so what is selected is what is drawn.

use std::cmp::Ordering;

use crate::diagnosis::{Finding, Severity};
use crate::envoy::{ClusterKind, Direction};
use crate::model::ClusterSnapshot;

use super::action::SortColumn;
use super::mesh::Shown;
use super::view_state::Filter;

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

/// The overview's rows in order.
pub fn overview_clusters<'a>(
    shown: &'a Shown,
    filter: Option<&Filter>,
    sort: SortColumn,
) -> Vec<&'a ClusterSnapshot> {
    let mut rows: Vec<&ClusterSnapshot> = shown
        .snapshot
        .clusters
        .iter()
        .filter(|c| is_upstream(c))
        .filter(|c| filter.is_none_or(|f| matches(f, c)))
        .collect();
    rows.sort_by(|a, b| compare(shown, sort, a, b).then_with(|| a.label.cmp(&b.label)));
    rows
}

fn matches(f: &Filter, c: &ClusterSnapshot) -> bool {
    f.matches(&c.label) || f.matches(&c.key.name)
}

fn rate(c: &ClusterSnapshot, stat: &str) -> f64 {
    c.rate(stat).unwrap_or(-1.0)
}

/// Descending for numbers (absent last), ascending for names.
fn compare(shown: &Shown, sort: SortColumn, a: &ClusterSnapshot, b: &ClusterSnapshot) -> Ordering {
    let desc = |x: f64, y: f64| y.total_cmp(&x);
    match sort {
        SortColumn::Severity => {
            let sa = cluster_severity(&shown.findings, &a.key.name);
            let sb = cluster_severity(&shown.findings, &b.key.name);
            sb.cmp(&sa)
                .then_with(|| {
                    desc(
                        rate(a, "upstream_rq_timeout"),
                        rate(b, "upstream_rq_timeout"),
                    )
                })
                .then_with(|| desc(rate(a, "upstream_rq_total"), rate(b, "upstream_rq_total")))
        }
        SortColumn::Destination => a.label.cmp(&b.label),
        SortColumn::Requests => desc(rate(a, "upstream_rq_total"), rate(b, "upstream_rq_total")),
        SortColumn::Timeouts => desc(
            rate(a, "upstream_rq_timeout"),
            rate(b, "upstream_rq_timeout"),
        ),
        SortColumn::Destroyed => desc(
            rate(a, "upstream_cx_destroy_with_active_rq"),
            rate(b, "upstream_cx_destroy_with_active_rq"),
        ),
        SortColumn::Errors => desc(rate(a, "upstream_rq_5xx"), rate(b, "upstream_rq_5xx")),
        SortColumn::Latency => desc(
            a.upstream_rq_time_p99_ms.unwrap_or(-1.0),
            b.upstream_rq_time_p99_ms.unwrap_or(-1.0),
        ),
    }
}
