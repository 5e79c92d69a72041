//! Plain-text rendering of an inspect [`Report`]: no box drawing, fit for a terminal, a grep
//! and a postmortem document. Absent stats print as `—` (not collected), never as 0.

use std::fmt::Write as _;

use super::compare::IntervalSource;
use super::report::{ClusterReport, Report};
use crate::model::ConfigSummary;
use crate::model::StatsCollection;
use crate::model::config_summary::UNLIMITED;
use crate::model::envoy_view::{ConfigView, RouteView, human_ms, show_limit};

/// The stats every cluster block shows, in this order, with a short gloss.
pub const KEY_STATS: &[(&str, &str)] = &[
    ("upstream_rq_total", "requests"),
    ("upstream_cx_total", "connections opened"),
    ("upstream_cx_active", "connections open now (gauge)"),
    ("upstream_rq_timeout", "route timeouts (504 UT)"),
    ("upstream_rq_per_try_timeout", "per-try timeouts"),
    (
        "upstream_cx_destroy_with_active_rq",
        "conns closed with requests in flight",
    ),
    (
        "upstream_cx_destroy_local_with_active_rq",
        "  closed by this Envoy (local)",
    ),
    (
        "upstream_cx_destroy_remote_with_active_rq",
        "  closed by the upstream (remote)",
    ),
    ("upstream_cx_connect_fail", "connect failures"),
    ("upstream_cx_connect_timeout", "connect timeouts"),
    ("upstream_rq_pending_overflow", "pending overflow (503 UO)"),
    ("upstream_rq_retry", "retries"),
    (
        "upstream_rq_retry_overflow",
        "retries refused by circuit breaker",
    ),
    ("upstream_rq_5xx", "5xx responses"),
    (
        "outlier_detection.ejections_active",
        "hosts ejected now (gauge)",
    ),
];

const NOT_COLLECTED: &str = "—";

/// Renders the whole report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    header(&mut out, report);
    for cluster in &report.clusters {
        cluster_block(&mut out, report, cluster);
    }
    match (&report.cluster_filter, report.clusters.is_empty()) {
        (Some(f), true) => {
            let _ = writeln!(
                out,
                "\nno cluster name contains {:?} ({} clusters in the captures; --cluster matches part of the name)",
                f.contains, f.hidden
            );
        }
        (None, true) => out.push_str("\nno clusters in these captures\n"),
        _ => {}
    }
    findings_block(&mut out, report);
    // Trailing spaces come from padded empty columns; they are noise in a pasted postmortem.
    out.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The findings the captures support; says so when there are none, and why rates are missing
/// with a single `/stats` capture.
fn findings_block(out: &mut String, report: &Report) {
    let _ = writeln!(out, "\nfindings ({}):", report.findings.len());
    if report.findings.is_empty() {
        out.push_str("  none from these captures");
        if report.comparison.is_none() {
            out.push_str(" (one /stats capture: no rates; give two captures for deltas)");
        }
        out.push('\n');
        return;
    }
    out.push_str(&crate::diagnosis::render_findings(&report.findings));
}

fn header(out: &mut String, report: &Report) {
    let _ = writeln!(out, "meshtop inspect {}", report.meshtop_version);
    for input in &report.inputs {
        let kind = input.kind.map_or("unreadable", |k| k.admin_path());
        let _ = writeln!(out, "  {:<12} {}", kind, input.path);
        for w in &input.warnings {
            let _ = writeln!(out, "    warning: {}:{}: {}", input.path, w.line, w.message);
        }
        if let Some(e) = &input.error {
            let _ = writeln!(out, "    error: {e}");
        }
    }
    if let Some(p) = &report.proxy {
        let mut parts = Vec::new();
        if let (Some(pod), Some(ns)) = (&p.pod, &p.namespace) {
            parts.push(format!("pod {ns}/{pod}"));
        }
        if let Some(v) = &p.envoy_version {
            parts.push(format!("Envoy {v}"));
        }
        if let Some(s) = &p.state {
            parts.push(s.clone());
        }
        if let Some(u) = p.uptime_seconds {
            parts.push(format!(
                "uptime {}",
                crate::model::envoy_view::human(std::time::Duration::from_secs(u))
            ));
        }
        let _ = writeln!(out, "proxy: {}", parts.join(" · "));
    }
    comparison_line(out, report);
    collection_lines(out, report);
    for file in &report.config_files {
        let _ = writeln!(out, "istio config: {file}");
    }
    for issue in &report.config_issues {
        let _ = writeln!(out, "  config warning: {issue}");
    }
    if let Some(f) = report.cluster_filter.as_ref().filter(|f| f.hidden > 0) {
        let _ = writeln!(
            out,
            "filter: --cluster {:?} ({} other clusters not shown)",
            f.contains, f.hidden
        );
    }
    out.push_str(
        "legend: — = absent from the capture: not collected (stats matcher), or a stat Envoy only\n\
         creates when it first happens (upstream_rq_5xx, outlier_detection.*). Never read it as 0.\n",
    );
}

fn comparison_line(out: &mut String, report: &Report) {
    let Some(c) = &report.comparison else { return };
    let interval = match (c.interval_seconds, c.interval_source) {
        (Some(s), IntervalSource::Flag) => format!("{s}s apart (--interval)"),
        (Some(s), IntervalSource::ServerUptime) => format!("{s}s apart (from server.uptime)"),
        (Some(s), IntervalSource::UptimeSinceRestart) => {
            format!("rates over the {s}s since the restart")
        }
        _ => "interval unknown: deltas only; pass --interval 30s for rates".to_string(),
    };
    let _ = writeln!(out, "comparing {} → {}: {interval}", c.before, c.after);
    if c.proxy_restarted {
        let _ = writeln!(
            out,
            "proxy restarted between the captures (server.uptime went down): Δ counts since the restart"
        );
    }
    if c.interval_flag_ignored {
        out.push_str(
            "--interval ignored: after the restart, rates are over the time since the restart\n",
        );
    }
}

fn collection_lines(out: &mut String, report: &Report) {
    match report.stats_collection {
        StatsCollection::Full => {
            out.push_str("stats collection: full (per-cluster stats present)\n")
        }
        StatsCollection::None => {
            out.push_str("stats collection: no /stats capture given; cluster stats not collected\n")
        }
        StatsCollection::DefaultInclusionOnly => {
            out.push_str(
                "stats collection: DEFAULT INCLUSION ONLY. This sidecar records no per-cluster stats\n\
                 (Istio's default stats matcher keeps only cluster_manager, listener_manager, server and\n\
                 cluster.xds-grpc). Cluster counters below are NOT COLLECTED, which is not the same as zero.\n\
                 /clusters per-host counters (rq_timeout, rq_error, cx_connect_fail) are always recorded.\n\
                 To collect per-cluster stats, add to the pod template:\n",
            );
            for line in report.stats_opt_in.unwrap_or_default().lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
}

fn cluster_block(out: &mut String, report: &Report, c: &ClusterReport) {
    let _ = writeln!(out, "\n{}", c.key.name);
    if c.label != c.key.name {
        let _ = writeln!(out, "  {}", c.label);
    }
    if c.stats.is_empty() {
        let why = match report.stats_collection {
            StatsCollection::Full => "no stats for this cluster in the capture (not collected)",
            _ => "cluster stats not collected",
        };
        let _ = writeln!(out, "  stats: {why}");
    } else if let Some(summary) = quiet_summary(c) {
        let _ = writeln!(out, "  {summary}");
    } else {
        stats_table(out, c);
    }
    if let Some(e) = &c.endpoints {
        let opt = |v: Option<u64>| v.map_or(NOT_COLLECTED.to_string(), |v| v.to_string());
        let _ = writeln!(
            out,
            "  endpoints (/clusters): {}/{} healthy · {} ejected · rq_total {} · rq_timeout {} · rq_error {} · cx_connect_fail {}",
            e.healthy,
            e.total,
            e.ejected,
            opt(e.rq_total),
            opt(e.rq_timeout),
            opt(e.rq_error),
            opt(e.cx_connect_fail)
        );
        for host in &e.unhealthy {
            let _ = writeln!(out, "    unhealthy: {host}");
        }
    }
    if let Some(cfg) = &c.config {
        istio_lines(out, cfg);
    }
    if let Some(cfg) = &c.effective_config {
        config_lines(out, cfg);
    }
}

/// One line instead of the table when every key counter that is present is 0 (and did not
/// move): a quiet cluster should not push the interesting ones off the screen.
fn quiet_summary(c: &ClusterReport) -> Option<String> {
    let present: Vec<u64> = KEY_STATS
        .iter()
        .filter_map(|(s, _)| c.stats.get(*s).copied())
        .collect();
    let moved = c.change.as_ref().is_some_and(|d| {
        KEY_STATS
            .iter()
            .any(|(s, _)| d.deltas.get(*s).is_some_and(|v| *v > 0))
    });
    if present.is_empty() || present.iter().any(|v| *v > 0) || moved {
        return None;
    }
    let absent: Vec<&str> = KEY_STATS
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| !c.stats.contains_key(*s))
        .collect();
    let mut line = format!(
        "quiet: no requests, no errors (all {} key counters present are 0)",
        present.len()
    );
    if !absent.is_empty() {
        line.push_str(&format!("; not collected: {}", absent.join(", ")));
    }
    Some(line)
}

fn stats_table(out: &mut String, c: &ClusterReport) {
    let change = c.change.as_ref();
    let _ = writeln!(
        out,
        "  {:<44} {:>14} {:>12} {:>10}",
        "stat",
        "value",
        if change.is_some() { "Δ" } else { "" },
        if change.is_some_and(|d| !d.rates.is_empty()) {
            "per s"
        } else {
            ""
        }
    );
    for (stat, gloss) in KEY_STATS {
        let value = c
            .stats
            .get(*stat)
            .map_or(NOT_COLLECTED.to_string(), |v| v.to_string());
        let delta = change
            .and_then(|d| d.deltas.get(*stat))
            .map_or(String::new(), |d| format!("+{d}"));
        let rate = change
            .and_then(|d| d.rates.get(*stat))
            .map_or(String::new(), |r| format!("{r:.2}"));
        let _ = writeln!(
            out,
            "  {stat:<44} {value:>14} {delta:>12} {rate:>10}  {gloss}"
        );
    }
    let members = match (
        c.stats.get("membership_healthy"),
        c.stats.get("membership_total"),
    ) {
        (Some(h), Some(t)) => format!("{h}/{t}"),
        _ => NOT_COLLECTED.to_string(),
    };
    let _ = writeln!(out, "  {:<44} {members:>14}", "membership_healthy/total");
    let p99 = match (c.upstream_rq_time_p99_ms, c.upstream_rq_time_p99_estimated) {
        (Some(v), false) => format!("{v:.0} ms"),
        (Some(v), true) => format!("≈{v:.0} ms (from buckets)"),
        (None, _) => NOT_COLLECTED.to_string(),
    };
    let _ = writeln!(
        out,
        "  {:<44} {p99:>14}",
        "upstream_rq_time p99 (since start)"
    );
    if let Some(reset) = change.filter(|d| !d.reset_counters.is_empty()) {
        let _ = writeln!(
            out,
            "  counters reset between captures: {}",
            reset.reset_counters.join(", ")
        );
    }
}

/// The resolved Istio settings, each with its source, and where Envoy disagrees.
fn istio_lines(out: &mut String, c: &ConfigSummary) {
    let dr = c.destination_rule.as_deref().unwrap_or("none");
    let vs = c.virtual_service.as_deref().unwrap_or("none");
    let _ = writeln!(
        out,
        "  istio config: DestinationRule {dr} · VirtualService {vs}"
    );
    let limit = |n: u64| match n {
        UNLIMITED => "unlimited".to_string(),
        n => n.to_string(),
    };
    let rows: [(&str, &str, String); 9] = [
        (
            "connect_timeout",
            "connect_timeout_ms",
            human_ms(c.connect_timeout_ms),
        ),
        (
            "idle_timeout",
            "idle_timeout_ms",
            human_ms(c.idle_timeout_ms),
        ),
        (
            "route timeout",
            "route_timeout_ms",
            c.route_timeout_ms.map_or("none".to_string(), human_ms),
        ),
        (
            "per_try_timeout",
            "per_try_timeout_ms",
            c.per_try_timeout_ms
                .map_or("unset (= route timeout)".to_string(), human_ms),
        ),
        (
            "retries",
            "retry_attempts",
            format!("{} on {}", c.retry_attempts, c.retry_on),
        ),
        (
            "max_connections",
            "max_connections",
            limit(c.max_connections),
        ),
        (
            "http1_max_pending_requests",
            "max_pending_requests",
            limit(c.max_pending_requests),
        ),
        ("http2_max_requests", "max_requests", limit(c.max_requests)),
        (
            "max_retries (concurrent)",
            "max_retries",
            limit(c.max_retries),
        ),
    ];
    for (label, field, value) in rows {
        let source = c.sources.get(field).map_or("", String::as_str);
        let _ = writeln!(out, "    {label:<28} {value:<24} {source}");
    }
    for m in &c.mismatches {
        let show = |v: Option<u64>| v.map_or("none".to_string(), |v| v.to_string());
        let _ = writeln!(
            out,
            "    NOT APPLIED? {}: configured {}, Envoy runs with {} (check istioctl proxy-status)",
            m.field,
            show(m.configured),
            show(m.effective)
        );
    }
    for note in &c.notes {
        let _ = writeln!(out, "    note: {note}");
    }
}

fn config_lines(out: &mut String, cfg: &ConfigView) {
    let per_conn = cfg.show(
        "max_requests_per_connection",
        cfg.max_requests_per_connection
            .map_or("unlimited".to_string(), |n| n.to_string()),
    );
    let _ = writeln!(
        out,
        "  effective config (/config_dump): connect_timeout {} · idle_timeout {} · max_requests_per_connection {per_conn}",
        cfg.show("connect_timeout_ms", human_ms(cfg.connect_timeout_ms)),
        cfg.show("idle_timeout_ms", human_ms(cfg.idle_timeout_ms)),
    );
    let _ = writeln!(
        out,
        "    circuit breakers: max_connections {} · max_pending_requests {} · max_requests {} · max_retries {}",
        cfg.show("max_connections", show_limit(cfg.max_connections)),
        cfg.show("max_pending_requests", show_limit(cfg.max_pending_requests)),
        cfg.show("max_requests", show_limit(cfg.max_requests)),
        cfg.show("max_retries", show_limit(cfg.max_retries)),
    );
    if let Some(o) = &cfg.outlier_detection {
        let mut parts = Vec::new();
        if let Some(n) = o.consecutive_5xx {
            parts.push(format!("consecutive_5xx {n}"));
        }
        if let Some(n) = o.consecutive_gateway_failure {
            parts.push(format!("consecutive_gateway_failure {n}"));
        }
        if let Some(v) = o.interval_ms {
            parts.push(format!("interval {}", human_ms(v)));
        }
        if let Some(v) = o.base_ejection_time_ms {
            parts.push(format!("base_ejection_time {}", human_ms(v)));
        }
        if let Some(p) = o.max_ejection_percent {
            parts.push(format!("max_ejection_percent {p}%"));
        }
        let _ = writeln!(out, "    outlier detection: {}", parts.join(" · "));
    }
    if let Some(t) = cfg.tcp_keepalive_time_ms {
        let _ = writeln!(out, "    tcp keepalive: time {}", human_ms(t));
    }
    for r in &cfg.routes {
        route_line(out, r);
    }
}

fn route_line(out: &mut String, r: &RouteView) {
    let timeout = match (r.timeout_ms, r.timeout_is_envoy_default) {
        (None, _) => "disabled (0s)".to_string(),
        (Some(t), true) => format!("{} (Envoy default)", human_ms(t)),
        (Some(t), false) => human_ms(t),
    };
    let retries = match r.retry_attempts {
        Some(n) if r.retry_on.is_empty() => format!("{n} retries"),
        Some(n) => format!("{n} retries on {}", r.retry_on.join(",")),
        None => "no retry policy".to_string(),
    };
    let per_try = r.per_try_timeout_ms.map_or(
        "unset (each try may use the whole route timeout)".to_string(),
        human_ms,
    );
    let _ = writeln!(
        out,
        "    route {}: timeout {timeout} · per_try_timeout {per_try} · {retries}",
        r.route
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::capture::parse_capture;
    use crate::inspect::report::{LoadedInput, build_report};

    fn render_stats(text: &str) -> String {
        let inputs = vec![LoadedInput {
            path: "s.txt".to_string(),
            result: parse_capture(text.as_bytes()),
        }];
        render(&build_report(&inputs, None))
    }

    #[test]
    fn a_cluster_with_only_zero_key_counters_gets_one_quiet_line() {
        let out = render_stats(
            "cluster.outbound|80||idle.prod.svc.cluster.local.upstream_rq_total: 0\n\
             cluster.outbound|80||idle.prod.svc.cluster.local.upstream_cx_total: 0\n\
             cluster.outbound|80||idle.prod.svc.cluster.local.upstream_rq_timeout: 0\n",
        );
        assert!(
            out.contains("  quiet: no requests, no errors (all 3 key counters present are 0); not collected: upstream_cx_active, upstream_rq_per_try_timeout"),
            "{out}"
        );
        assert!(
            !out.contains("stat      "),
            "no table for a quiet cluster:\n{out}"
        );
    }

    #[test]
    fn absent_stats_print_a_dash_and_present_zero_prints_zero() {
        let out = render_stats(
            "cluster.outbound|80||busy.prod.svc.cluster.local.upstream_rq_total: 7\n\
             cluster.outbound|80||busy.prod.svc.cluster.local.upstream_rq_timeout: 0\n",
        );
        let row = |stat: &str| {
            out.lines()
                .find(|l| l.trim_start().starts_with(&format!("{stat} ")))
                .unwrap_or_else(|| panic!("no row {stat} in\n{out}"))
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(row("upstream_rq_total"), "7");
        assert_eq!(row("upstream_rq_timeout"), "0");
        assert_eq!(row("upstream_rq_retry"), "—");
        assert!(out.lines().all(|l| l == l.trim_end()), "no trailing spaces");
    }
}
