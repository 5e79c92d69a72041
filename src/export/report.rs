//! The data of a text or Markdown snapshot, before layout: the header facts (version, context,
//! namespace, UTC time range, window, sidecar states, live or paused), the overview table with
//! every row of [`App::overview_rows`] as display strings, the legend, and the sidecars that are
//! not being read. `text.rs` and `markdown.rs` only lay this out, so both say the same thing.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::app::{App, OverviewRow, Shown};
use crate::metrics::Timestamp;
use crate::model::{ClusterSnapshot, CollectionState, ConfigSummary, CounterWindow, MeshSnapshot};
use crate::ui::widgets::number::{NOT_COLLECTED, compact, count, duration_ms, increase, millis};

use super::utc::{utc_range, utc_time_of_day};

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// The overview's columns, as in the TUI (the severity marker as a word, no sparkline).
pub const COLUMNS: [(&str, Align); 17] = [
    ("finding", Align::Left),
    ("destination", Align::Left),
    ("clients", Align::Right),
    ("rq/s", Align::Right),
    ("timeouts/s", Align::Right),
    ("timeouts Δ", Align::Right),
    ("destroyed l/r /s", Align::Right),
    ("5xx/s", Align::Right),
    ("retries/s", Align::Right),
    ("overflows Δ", Align::Right),
    ("ejected/healthy/total", Align::Right),
    ("p99", Align::Right),
    ("VS timeout", Align::Right),
    ("per-try", Align::Right),
    ("connect", Align::Right),
    ("idle", Align::Right),
    ("stale", Align::Left),
];

/// What the marks in the table mean.
pub const LEGEND: [(&str, &str); 6] = [
    (
        NOT_COLLECTED,
        "not collected (per-cluster stats not enabled, or no data yet)",
    ),
    ("†", "Istio default (nothing configured it)"),
    (
        "*",
        "Envoy runs with a different value than configured (see findings)",
    ),
    ("off", "no timeout"),
    ("Δ", "increase over the window"),
    (
        "l/r",
        "connections closed with requests in flight, by Envoy (local) / by the upstream (remote)",
    ),
];

/// Everything a text or Markdown snapshot shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub version: String,
    /// `(label, value)` lines of the header.
    pub facts: Vec<(&'static str, String)>,
    /// Cells of every overview row, one per [`COLUMNS`] entry.
    pub rows: Vec<Vec<String>>,
    /// Sidecars whose data is not current, with why.
    pub sidecars: Vec<String>,
    /// Problems with the Istio objects.
    pub config_issues: Vec<String>,
}

/// Builds the report of what `app` shows (the frozen view while paused).
pub fn build_report(app: &App) -> Report {
    let shown = app.mesh.shown();
    let snap = &shown.snapshot;
    let rows = app.overview_rows();
    let all = rows.upstream;
    let mut facts = vec![
        (
            "context",
            app.session.context.clone().unwrap_or("none".into()),
        ),
        (
            "namespace",
            (app.session.namespace.clone()).unwrap_or("all namespaces".into()),
        ),
        ("time", time_range(app, snap)),
        ("window", duration_ms(window_ms(app, snap))),
        ("sidecars", sidecar_counts(snap)),
        ("view", view_state(app.view.paused).into()),
        ("clusters", cluster_count(app, rows.len(), all)),
    ];
    if let Some(e) = &app.mesh.discovery_error {
        facts.push(("discovery", format!("error: {e}")));
    }
    Report {
        version: snap.meshtop_version.clone(),
        facts,
        rows: rows.iter().map(|r| row(shown, &r)).collect(),
        sidecars: sidecar_problems(app, snap),
        config_issues: snap.config_issues.clone(),
    }
}

/// The window the rates cover: the snapshot's, else the session's.
fn window(app: &App, snap: &MeshSnapshot) -> Duration {
    match Duration::try_from_secs_f64(snap.window_seconds) {
        Ok(d) if !d.is_zero() => d,
        _ => app.session.window,
    }
}

fn window_ms(app: &App, snap: &MeshSnapshot) -> u64 {
    u64::try_from(window(app, snap).as_millis()).unwrap_or(u64::MAX)
}

fn time_range(app: &App, snap: &MeshSnapshot) -> String {
    let end = snap.taken_at_unix_ms.unwrap_or(app.clock.unix_ms);
    utc_range(end.saturating_sub(window_ms(app, snap)), end)
}

fn view_state(paused: bool) -> &'static str {
    match paused {
        true => "paused (view frozen; collection continued)",
        false => "live",
    }
}

fn cluster_count(app: &App, shown: usize, all: usize) -> String {
    let sort = app.view.sort.label();
    match &app.view.filter {
        Some(f) => format!(
            "{shown} of {all} upstream clusters match /{}/, sorted by {sort}",
            f.text
        ),
        None => format!("{all} upstream clusters, sorted by {sort}"),
    }
}

/// `4 ok, 1 stale, 0 failed, 0 not collected`, plus pending and forbidden when there are any.
fn sidecar_counts(snap: &MeshSnapshot) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &snap.sources {
        *counts.entry(s.state.word()).or_default() += 1;
    }
    let mut parts: Vec<String> = ["ok", "stale", "failed", "not collected"]
        .iter()
        .map(|w| format!("{} {w}", counts.get(w).copied().unwrap_or(0)))
        .collect();
    for w in ["pending", "forbidden"] {
        if let Some(n) = counts.get(w) {
            parts.push(format!("{n} {w}"));
        }
    }
    parts.join(", ")
}

/// One line per sidecar whose data is not current: `pod: stale since 03:12:20 UTC (…)`.
fn sidecar_problems(app: &App, snap: &MeshSnapshot) -> Vec<String> {
    let wall = |t: &Timestamp| {
        let ago = app.clock.now.as_millis().saturating_sub(t.as_millis());
        utc_time_of_day(app.clock.unix_ms.saturating_sub(ago))
    };
    snap.sources
        .iter()
        .filter_map(|s| {
            let state = match &s.state {
                CollectionState::Ok { .. } => return None,
                CollectionState::Pending => "pending (not read yet)".to_string(),
                CollectionState::Stale {
                    since,
                    last_ok,
                    reason,
                } => format!(
                    "stale since {}, data from {}: {reason}",
                    wall(since),
                    wall(last_ok)
                ),
                CollectionState::Failed { since, reason } => {
                    format!("failed since {}: {reason}", wall(since))
                }
                CollectionState::Forbidden { reason } => format!("forbidden: {reason}"),
                CollectionState::NotCollected { reason } => format!("not collected: {reason}"),
            };
            Some(format!("{}: {state}", s.pod))
        })
        .collect()
}

/// The cells of one overview row, formatted as the TUI formats them.
fn row(shown: &Shown, r: &OverviewRow) -> Vec<String> {
    let (c, finding) = (r.cluster, r.severity);
    let cfg = c.config.as_deref();
    vec![
        finding.map_or(String::new(), |s| s.word().to_string()),
        c.label.clone(),
        c.clients.len().to_string(),
        rate_of(c, "upstream_rq_total"),
        rate_of(c, "upstream_rq_timeout"),
        c.increase("upstream_rq_timeout")
            .map_or(NOT_COLLECTED.into(), increase),
        destroyed(c),
        rate_of(c, "upstream_rq_5xx"),
        rate_of(c, "upstream_rq_retry"),
        overflows(c),
        endpoints(c),
        c.upstream_rq_time_p99_ms
            .map_or(NOT_COLLECTED.into(), millis),
        setting(cfg, "route_timeout_ms", |s| s.route_timeout_ms),
        setting(cfg, "per_try_timeout_ms", |s| s.per_try_timeout_ms),
        setting(cfg, "connect_timeout_ms", |s| Some(s.connect_timeout_ms)),
        setting(cfg, "idle_timeout_ms", |s| Some(s.idle_timeout_ms)),
        stale_clients(&shown.snapshot, c),
    ]
}

/// `stale` when a client's data is old (the TUI's `~`).
fn stale_clients(snap: &MeshSnapshot, c: &ClusterSnapshot) -> String {
    let stale = c.clients.iter().any(|p| {
        snap.source(p)
            .is_some_and(|s| matches!(s.state, CollectionState::Stale { .. }))
    });
    match stale {
        true => "stale".into(),
        false => String::new(),
    }
}

/// A counter's rate, `—` when not collected.
fn rate_of(c: &ClusterSnapshot, stat: &str) -> String {
    c.counters
        .get(stat)
        .map_or(NOT_COLLECTED.into(), |w| compact(w.rate.unwrap_or(0.0)))
}

/// `0/0.43`: destroyed with active requests per second, local/remote.
fn destroyed(c: &ClusterSnapshot) -> String {
    let local = c.counters.get("upstream_cx_destroy_local_with_active_rq");
    let remote = c.counters.get("upstream_cx_destroy_remote_with_active_rq");
    if local.is_none() && remote.is_none() {
        return NOT_COLLECTED.into();
    }
    let show = |w: Option<&CounterWindow>| {
        w.map_or(NOT_COLLECTED.into(), |w| compact(w.rate.unwrap_or(0.0)))
    };
    format!("{}/{}", show(local), show(remote))
}

/// Requests and connections refused by circuit breakers over the window (those collected).
fn overflows(c: &ClusterSnapshot) -> String {
    let found: Vec<u64> = [
        "upstream_rq_pending_overflow",
        "upstream_cx_overflow",
        "upstream_rq_retry_overflow",
    ]
    .iter()
    .filter_map(|s| c.increase(s))
    .collect();
    match found.is_empty() {
        true => NOT_COLLECTED.into(),
        false => increase(found.iter().sum()),
    }
}

fn endpoints(c: &ClusterSnapshot) -> String {
    c.endpoints.as_ref().map_or(NOT_COLLECTED.into(), |e| {
        let n = |x: usize| count(x as u64);
        format!("{}/{}/{}", n(e.ejected), n(e.healthy), n(e.total))
    })
}

/// A configured timeout: `1s`, `off`, marked `†` when Istio's default and `*` when Envoy
/// runs something else (as on screen); `—` without Istio config.
fn setting(
    cfg: Option<&ConfigSummary>,
    field: &str,
    value: impl Fn(&ConfigSummary) -> Option<u64>,
) -> String {
    let Some(cfg) = cfg else {
        return NOT_COLLECTED.into();
    };
    let mut text = value(cfg).map_or("off".to_string(), duration_ms);
    if cfg.defaults.iter().any(|d| d == field) {
        text.push('†');
    }
    if cfg.mismatches.iter().any(|m| m.field == field) {
        text.push('*');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Clock, MeshState, Session};
    use crate::diagnosis::testkit::{INV, ORDER_A, ORDER_B, SnapBuilder};
    use crate::diagnosis::{Thresholds, evaluate};
    use crate::model::StatsCollection;

    const VS_1S: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  hosts: [inventory-svc]\n  http:\n\
        \x20 - route: [{destination: {host: inventory-svc}}]\n    timeout: 1s\n";

    fn app(snapshot: MeshSnapshot) -> App {
        let mut mesh = MeshState::new(Thresholds::default(), false);
        let findings = evaluate(&snapshot);
        mesh.live = Shown::new(snapshot, findings);
        let session = Session {
            context: None,
            namespace: None,
            interval: Duration::from_secs(2),
            window: Duration::from_secs(60),
            themes: Vec::new(),
            theme: 0,
            contexts: Vec::new(),
            namespaces: Vec::new(),
            namespaces_error: None,
            snapshot_dir: None,
        };
        let mut app = App::new(mesh, session);
        app.clock = Clock {
            now: Timestamp::from_secs(100),
            unix_ms: 1_795_662_760_000,
        };
        app
    }

    #[test]
    fn facts_count_every_sidecar_state_and_fall_back_to_the_clock() {
        let failed = CollectionState::Failed {
            since: Timestamp::from_secs(40),
            reason: "connection refused".into(),
        };
        let forbidden = CollectionState::Forbidden {
            reason: "create pods/portforward".into(),
        };
        let snap = SnapBuilder::new()
            .source(ORDER_A, StatsCollection::Full)
            .source_state(ORDER_B, failed, StatsCollection::None)
            .source_state("x", forbidden, StatsCollection::None)
            .source_state("y", CollectionState::Pending, StatsCollection::None)
            .build();
        let report = build_report(&app(snap));
        let facts: Vec<(&str, &str)> = report.facts.iter().map(|(l, v)| (*l, v.as_str())).collect();
        assert_eq!(
            facts,
            [
                ("context", "none"),
                ("namespace", "all namespaces"),
                ("time", "2026-11-26 03:12:10–03:12:40 UTC"),
                ("window", "30s"),
                (
                    "sidecars",
                    "1 ok, 0 stale, 1 failed, 0 not collected, 1 pending, 1 forbidden"
                ),
                ("view", "live"),
                ("clusters", "0 upstream clusters, sorted by severity"),
            ]
        );
        assert_eq!(
            report.sidecars,
            [
                "order-svc-7d9f8c-d3e4f: failed since 03:11:40 UTC: connection refused",
                "x: forbidden: create pods/portforward",
                "y: pending (not read yet)",
            ]
        );
    }

    #[test]
    fn rows_show_rates_increases_and_marked_config() {
        let snap = SnapBuilder::new()
            .istio(VS_1S)
            .cluster(INV, |c| {
                c.clients(&[ORDER_A, ORDER_B])
                    .counter("upstream_rq_total", 3000)
                    .counter("upstream_rq_timeout", 0)
                    .counter("upstream_rq_pending_overflow", 4)
                    .counter("upstream_cx_overflow", 2)
                    .endpoints(3, 2, 1, &[])
                    .p99(955.4)
                    .mismatch("connect_timeout_ms", Some(10_000), Some(2_000))
            })
            .build();
        let report = build_report(&app(snap));
        assert_eq!(
            report.rows,
            [[
                "warning",
                "inventory-svc.prod:8080",
                "2",
                "100",
                "0",
                "0",
                "—",
                "—",
                "—",
                "+6",
                "1/2/3",
                "955ms",
                "1s",
                "off†",
                "10s†*",
                "1h†",
                "",
            ]]
        );
    }
}
