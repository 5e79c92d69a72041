//! The proxy-wide stats every Envoy has — `server.*`, `cluster_manager.*`,
//! `listener_manager.*` — derived from a [`ProxyState`], and whether a stat is a counter or a
//! gauge.
//!
//! Derived values: `server.uptime` from the state, `server.version` from the build revision,
//! `cluster_manager.active_clusters` = number of clusters, listeners = 4 Istio listeners plus
//! one per outbound port; memory grows with the cluster count. Any name present in
//! `ProxyState::proxy_counters` overrides the derived value, so scenarios can set
//! `cluster_manager.cds.update_rejected` or `server.total_connections`. Names outside the
//! derived set are classified by Envoy's naming habits ([`is_gauge_name`]).

use std::collections::BTreeSet;

use crate::sim::model::ProxyState;

use super::identity::{
    SIM_EPOCH_UNIX_SECS, cds_updates, concurrency, fnv1a, server_version_number, xds_version,
};

/// Counter or gauge: decides the Prometheus `# TYPE` and what "used" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Counter,
    Gauge,
}

/// The derived proxy-wide stats (name, kind, value), before `proxy_counters` overrides.
pub(super) fn derived_stats(state: &ProxyState) -> Vec<(String, Kind, u64)> {
    let mut out = server_stats(state);
    out.extend(cluster_manager_stats(state));
    out.extend(listener_manager_stats(state));
    out
}

/// `server.*` counters that stay 0 in a healthy proxy.
const SERVER_COUNTERS: [&str; 8] = [
    "debug_assertion_failures",
    "dropped_stat_flushes",
    "dynamic_unknown_fields",
    "envoy_bug_failures",
    "static_unknown_fields",
    "wip_protos",
    "main_thread.watchdog_miss",
    "main_thread.watchdog_mega_miss",
];

fn server_stats(state: &ProxyState) -> Vec<(String, Kind, u64)> {
    let clusters = state.clusters.len() as u64;
    let allocated = 30_000_000 + 60_000 * clusters;
    let heap = allocated.div_ceil(4 << 20) * (4 << 20) + (8 << 20);
    let gauges = [
        ("uptime", state.uptime_secs),
        ("state", 0),
        ("live", 1),
        ("concurrency", concurrency(state)),
        ("memory_allocated", allocated),
        ("memory_heap_size", heap),
        ("memory_physical_size", heap + (2 << 20)),
        ("version", server_version_number(state)),
        ("total_connections", inbound_connections(state)),
        ("parent_connections", 0),
        ("hot_restart_epoch", 0),
        ("hot_restart_generation", 1),
        ("days_until_first_cert_expiring", 0),
        ("seconds_until_first_ocsp_response_expiring", 0),
        ("stats_recent_lookups", 1_000 + 40 * clusters),
        ("compilation_settings.fips_mode", 0),
    ];
    let workers = (0..concurrency(state))
        .flat_map(|i| ["watchdog_miss", "watchdog_mega_miss"].map(|s| format!("worker_{i}.{s}")));
    let mut out = named("server", Kind::Gauge, &gauges);
    let zero_counters = SERVER_COUNTERS.iter().map(|c| (c.to_string(), 0));
    for (name, value) in zero_counters.chain(workers.map(|w| (w, 0))) {
        out.push((format!("server.{name}"), Kind::Counter, value));
    }
    out
}

fn cluster_manager_stats(state: &ProxyState) -> Vec<(String, Kind, u64)> {
    let clusters = state.clusters.len() as u64;
    let updates = cds_updates(state);
    let gauges = [
        ("active_clusters", clusters),
        ("warming_clusters", 0),
        ("cds.update_time", SIM_EPOCH_UNIX_SECS * 1000 + 1_118),
        ("cds.version", fnv1a(xds_version(state).as_bytes())),
    ];
    let counters = [
        ("cluster_added", clusters),
        ("cluster_modified", 0),
        ("cluster_removed", 0),
        ("cluster_updated", 0),
        ("cluster_updated_via_merge", 0),
        ("update_merge_cancelled", 0),
        ("update_out_of_merge_window", 0),
        ("cds.init_fetch_timeout", 0),
        ("cds.update_attempt", updates + 1),
        ("cds.update_failure", 0),
        ("cds.update_rejected", 0),
        ("cds.update_success", updates),
    ];
    let mut out = named("cluster_manager", Kind::Gauge, &gauges);
    out.extend(named("cluster_manager", Kind::Counter, &counters));
    out
}

fn listener_manager_stats(state: &ProxyState) -> Vec<(String, Kind, u64)> {
    let listeners = 4 + outbound_ports(state);
    let updates = cds_updates(state);
    let gauges = [
        ("total_listeners_active", listeners),
        ("total_listeners_draining", 0),
        ("total_listeners_warming", 0),
        ("total_filter_chains_draining", 0),
        ("workers_started", 1),
        ("lds.update_time", SIM_EPOCH_UNIX_SECS * 1000 + 1_342),
        ("lds.version", fnv1a(xds_version(state).as_bytes())),
    ];
    let counters = [
        ("listener_added", listeners),
        ("listener_create_success", listeners * concurrency(state)),
        ("listener_create_failure", 0),
        ("listener_in_place_updated", 0),
        ("listener_modified", 0),
        ("listener_removed", 0),
        ("listener_stopped", 0),
        ("lds.init_fetch_timeout", 0),
        ("lds.update_attempt", updates + 1),
        ("lds.update_failure", 0),
        ("lds.update_rejected", 0),
        ("lds.update_success", updates),
    ];
    let mut out = named("listener_manager", Kind::Gauge, &gauges);
    out.extend(named("listener_manager", Kind::Counter, &counters));
    out
}

fn named(scope: &str, kind: Kind, stats: &[(&str, u64)]) -> Vec<(String, Kind, u64)> {
    (stats.iter())
        .map(|(name, value)| (format!("{scope}.{name}"), kind, *value))
        .collect()
}

/// Downstream connections: what the inbound clusters hold open.
fn inbound_connections(state: &ProxyState) -> u64 {
    (state.clusters.iter())
        .filter(|c| c.name.starts_with("inbound|"))
        .filter_map(|c| c.gauges.get("upstream_cx_active"))
        .sum()
}

/// Distinct ports of `outbound|<port>|…` clusters: Istio builds one listener per port.
fn outbound_ports(state: &ProxyState) -> u64 {
    let ports: BTreeSet<&str> = (state.clusters.iter())
        .filter_map(|c| c.name.strip_prefix("outbound|"))
        .filter_map(|rest| rest.split('|').next())
        .collect();
    ports.len() as u64
}

/// Whether a proxy-wide stat outside the derived set is a gauge, by Envoy's naming habits:
/// levels (`*_active`, `*_buffered`, `*_draining`, …), versions and timestamps.
pub(super) fn is_gauge_name(name: &str) -> bool {
    const GAUGE_SUFFIXES: [&str; 11] = [
        "_active",
        "_buffered",
        "_draining",
        "_warming",
        "_healthy",
        ".version",
        "update_time",
        "_size",
        "_allocated",
        "_expiring",
        "_remaining",
    ];
    GAUGE_SUFFIXES.iter().any(|s| name.ends_with(s))
        || name.contains(".remaining_")
        || name.ends_with("membership_total")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::model::StatsInclusion;

    #[test]
    fn derived_stats_follow_the_state() {
        let state = ProxyState {
            pod: "p".into(),
            namespace: "ns".into(),
            pod_ip: "10.0.0.1".into(),
            envoy_version: "1.30.4".into(),
            istio_version: "1.22.3".into(),
            uptime_secs: 77,
            inclusion: StatsInclusion::Full,
            clusters: Vec::new(),
            proxy_counters: [("server.concurrency".to_string(), 4)].into(),
            istio_requests: Vec::new(),
        };
        let stats = derived_stats(&state);
        let get = |n: &str| stats.iter().find(|s| s.0 == n).map(|s| (s.1, s.2));
        assert_eq!(get("server.uptime"), Some((Kind::Gauge, 77)));
        assert_eq!(get("server.concurrency"), Some((Kind::Gauge, 4)));
        assert_eq!(
            get("server.worker_3.watchdog_miss"),
            Some((Kind::Counter, 0))
        );
        assert_eq!(
            get("cluster_manager.active_clusters"),
            Some((Kind::Gauge, 0))
        );
        assert_eq!(
            get("cluster_manager.cds.update_success"),
            Some((Kind::Counter, 1))
        );
        assert_eq!(
            get("listener_manager.total_listeners_active"),
            Some((Kind::Gauge, 4))
        );
        let names: BTreeSet<&str> = stats.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(names.len(), stats.len(), "no duplicates");
    }

    #[test]
    fn gauge_names() {
        assert!(is_gauge_name(
            "http.inbound_0.0.0.0_8080.downstream_cx_active"
        ));
        assert!(is_gauge_name("tcp.x.downstream_cx_rx_bytes_buffered"));
        assert!(!is_gauge_name(
            "http.inbound_0.0.0.0_8080.downstream_rq_total"
        ));
        assert!(!is_gauge_name("tcp.x.upstream_flush_total"));
    }
}
