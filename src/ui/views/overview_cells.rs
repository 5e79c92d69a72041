//! The overview's columns and what each cell shows. Counters are window rates summed over the
//! client pods; an absent counter is `—` (not collected), never 0. Config cells show the Istio
//! value that applies, dimmed when it is Istio's default and marked `*` when Envoy runs a
//! different value. Columns are dropped right to left by rank on narrow terminals: config
//! before counters, except the route timeout, which is what most timeouts are measured against.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Cell;

use crate::app::{OverviewRow, Shown};
use crate::diagnosis::Severity;
use crate::model::{ClusterSnapshot, ConfigSummary};
use crate::ui::theme::Theme;
use crate::ui::widgets::columns::{self, Column};
use crate::ui::widgets::number::{NOT_COLLECTED, compact, count, duration_ms, increase, millis};
use crate::ui::widgets::spark_text;

/// What a column shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Marker,
    Destination,
    Clients,
    Requests,
    Timeouts,
    TimeoutDelta,
    Destroyed,
    Errors,
    Retries,
    Overflows,
    Endpoints,
    Latency,
    RouteTimeout,
    PerTry,
    Connect,
    Idle,
    Trend,
}

/// Width of the timeout-rate sparkline.
pub const TREND_WIDTH: u16 = 9;

/// The overview's columns, left to right, with their drop ranks (highest dropped first).
pub const COLUMNS: [(Col, Column); 17] = [
    (Col::Marker, Column::text("", 2, 0)),
    (
        Col::Destination,
        Column::text("DESTINATION", 24, 0).filling(),
    ),
    (Col::Clients, Column::number("CLI", 3, 11)),
    (Col::Requests, Column::number("RQ/S", 5, 0)),
    (Col::Timeouts, Column::number("TMO/S", 5, 0)),
    (Col::TimeoutDelta, Column::number("TMO Δ", 5, 8)),
    (Col::Destroyed, Column::number("CXD L/R", 9, 10)),
    (Col::Errors, Column::number("5XX/S", 5, 6)),
    (Col::Retries, Column::number("RETRY", 5, 13)),
    (Col::Overflows, Column::number("OVFL", 4, 12)),
    (Col::Endpoints, Column::number("EJ/H/T", 7, 9)),
    (Col::Latency, Column::number("P99", 5, 4)),
    (Col::RouteTimeout, Column::number("TIMEOUT", 7, 5)),
    (Col::PerTry, Column::number("PER-TRY", 7, 16)),
    (Col::Connect, Column::number("CONNECT", 7, 15)),
    (Col::Idle, Column::number("IDLE", 5, 14)),
    (Col::Trend, Column::text("TMO TREND", TREND_WIDTH, 7)),
];

/// What every row of one frame needs besides its cluster.
pub struct RowContext<'a> {
    pub shown: &'a Shown,
    pub history: &'a BTreeMap<String, Vec<VecDeque<f64>>>,
    /// Pods whose source is stale.
    pub stale: BTreeSet<&'a str>,
    pub theme: &'a Theme,
}

/// The cells of the kept columns for one cluster.
pub fn cells<'a>(row: &OverviewRow<'a>, kept: &[usize], ctx: &RowContext<'_>) -> Vec<Cell<'a>> {
    let c = row.cluster;
    let stale = !ctx.stale.is_empty() && contributors(c).any(|p| ctx.stale.contains(p));
    kept.iter()
        .map(|i| {
            let (col, spec) = &COLUMNS[*i];
            columns::cell(spec, line(*col, row, stale, ctx))
        })
        .collect()
}

fn line<'a>(col: Col, row: &OverviewRow<'a>, stale: bool, ctx: &RowContext<'_>) -> Line<'a> {
    let (t, c) = (ctx.theme, row.cluster);
    match col {
        Col::Marker => marker(row.severity, stale, t),
        Col::Destination => Line::styled(c.label.as_str(), if stale { t.stale } else { t.text }),
        Col::Clients => Line::styled(c.clients.len().to_string(), t.text),
        Col::Requests => rate(c, "upstream_rq_total", t, t.text),
        Col::Timeouts => bad_rate(c, "upstream_rq_timeout", t),
        Col::TimeoutDelta => match c.increase("upstream_rq_timeout") {
            Some(n) => Line::styled(increase(n), bad(n > 0, t)),
            None => not_collected(t),
        },
        Col::Destroyed => destroyed(c, t),
        Col::Errors => bad_rate(c, "upstream_rq_5xx", t),
        Col::Retries => bad_rate(c, "upstream_rq_retry", t),
        Col::Overflows => overflows(c, t),
        Col::Endpoints => endpoints(c, t),
        Col::Latency => match c.upstream_rq_time_p99_ms {
            Some(ms) => Line::styled(millis(ms), t.text),
            None => not_collected(t),
        },
        Col::RouteTimeout => config(c, "route_timeout_ms", |s| s.route_timeout_ms, t),
        Col::PerTry => config(c, "per_try_timeout_ms", |s| s.per_try_timeout_ms, t),
        Col::Connect => config(c, "connect_timeout_ms", |s| Some(s.connect_timeout_ms), t),
        Col::Idle => config(c, "idle_timeout_ms", |s| Some(s.idle_timeout_ms), t),
        Col::Trend => trend(c, ctx),
    }
}

/// The client pods whose data makes up the row: those that sent requests in the window (or
/// whose request counter is not collected); every client when per-pod data is absent. Without
/// a `Sidecar` resource every sidecar has every cluster, so "has the cluster" alone would mark
/// every row stale when one pod is.
fn contributors(c: &ClusterSnapshot) -> Box<dyn Iterator<Item = &str> + '_> {
    if c.per_pod.is_empty() {
        return Box::new(c.clients.iter().map(String::as_str));
    }
    let active = c.per_pod.iter().filter(|p| {
        p.counters
            .get("upstream_rq_total")
            .is_none_or(|w| w.increase > 0)
    });
    Box::new(active.map(|p| p.pod.as_str()))
}

/// Severity glyph of the row's worst finding, then `~` when a client's data is stale.
fn marker<'a>(severity: Option<Severity>, stale: bool, t: &Theme) -> Line<'a> {
    let glyph = match severity {
        Some(s) => Span::styled(severity_glyph(s), t.severity(s)),
        None => Span::raw(" "),
    };
    let stale = match stale {
        true => Span::styled("~", t.stale),
        false => Span::raw(" "),
    };
    Line::from(vec![glyph, stale])
}

/// `●` critical, `▲` warning, `·` info: shapes, so no colour is needed to tell them apart.
pub fn severity_glyph(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "●",
        Severity::Warning => "▲",
        Severity::Info => "·",
    }
}

fn not_collected<'a>(t: &Theme) -> Line<'a> {
    Line::styled(NOT_COLLECTED, t.not_collected)
}

fn bad(nonzero: bool, t: &Theme) -> Style {
    if nonzero { t.warn } else { t.muted }
}

fn rate<'a>(c: &ClusterSnapshot, stat: &str, t: &Theme, style: Style) -> Line<'a> {
    match c.counters.get(stat) {
        Some(w) => Line::styled(compact(w.rate.unwrap_or(0.0)), style),
        None => not_collected(t),
    }
}

/// A rate that is bad news when it is not zero.
fn bad_rate<'a>(c: &ClusterSnapshot, stat: &str, t: &Theme) -> Line<'a> {
    let nonzero = c.counters.get(stat).is_some_and(|w| w.increase > 0);
    rate(c, stat, t, bad(nonzero, t))
}

/// Connections destroyed with requests in flight per second, `local/remote`.
fn destroyed<'a>(c: &ClusterSnapshot, t: &Theme) -> Line<'a> {
    let local = c.counters.get("upstream_cx_destroy_local_with_active_rq");
    let remote = c.counters.get("upstream_cx_destroy_remote_with_active_rq");
    if local.is_none() && remote.is_none() {
        return not_collected(t);
    }
    let show = |w: Option<&crate::model::CounterWindow>| {
        w.map_or(NOT_COLLECTED.to_string(), |w| {
            compact(w.rate.unwrap_or(0.0))
        })
    };
    let nonzero = [local, remote].iter().flatten().any(|w| w.increase > 0);
    Line::styled(format!("{}/{}", show(local), show(remote)), bad(nonzero, t))
}

/// Requests and connections refused by circuit breakers over the window.
fn overflows<'a>(c: &ClusterSnapshot, t: &Theme) -> Line<'a> {
    let stats = [
        "upstream_rq_pending_overflow",
        "upstream_cx_overflow",
        "upstream_rq_retry_overflow",
    ];
    let found: Vec<u64> = stats.iter().filter_map(|s| c.increase(s)).collect();
    match found.is_empty() {
        true => not_collected(t),
        false => {
            let n: u64 = found.iter().sum();
            Line::styled(increase(n), bad(n > 0, t))
        }
    }
}

/// `ejected/healthy/total` endpoints from `/clusters`.
fn endpoints<'a>(c: &ClusterSnapshot, t: &Theme) -> Line<'a> {
    let Some(e) = &c.endpoints else {
        return not_collected(t);
    };
    let style = match (e.healthy, e.total) {
        (0, 1..) => t.crit,
        (h, n) if h < n || e.ejected > 0 => t.warn,
        _ => t.text,
    };
    let text = format!(
        "{}/{}/{}",
        count(e.ejected as u64),
        count(e.healthy as u64),
        count(e.total as u64)
    );
    Line::styled(text, style)
}

/// A configured duration: `off` for none, dimmed when Istio's default, `*` when Envoy
/// runs another value.
fn config<'a>(
    c: &ClusterSnapshot,
    field: &str,
    value: impl Fn(&ConfigSummary) -> Option<u64>,
    t: &Theme,
) -> Line<'a> {
    let Some(s) = &c.config else {
        return not_collected(t);
    };
    let text = value(s).map_or("off".to_string(), duration_ms);
    if s.mismatches.iter().any(|m| m.field == field) {
        return Line::styled(format!("{text}*"), t.crit);
    }
    match s.defaults.iter().any(|d| d == field) {
        true => Line::styled(text, t.default_value),
        false => Line::styled(text, t.text),
    }
}

/// The timeout rate over the retained history.
fn trend<'a>(c: &ClusterSnapshot, ctx: &RowContext<'_>) -> Line<'a> {
    let Some(series) = ctx.history.get(&c.key.name).and_then(|h| h.first()) else {
        return Line::default();
    };
    let values: Vec<f64> = series.iter().copied().collect();
    let nonzero = values.iter().any(|v| *v > 0.0);
    let style = if nonzero {
        ctx.theme.chart
    } else {
        ctx.theme.muted
    };
    Line::styled(spark_text(&values, usize::from(TREND_WIDTH)), style)
}
