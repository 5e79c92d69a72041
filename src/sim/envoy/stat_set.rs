//! Which stats a `/stats` request returns, in Envoy's order, before any format is chosen.
//!
//! A stat exists only if the sidecar's stats matcher records it ([`is_recorded`]: with Istio's
//! default inclusion that is `cluster_manager`, `listener_manager`, `server`,
//! `cluster.xds-grpc`, `wasm`, Istio's own metrics and `*downstream_cx_active`). Then the
//! request's `filter` (a regex, partial match on the full name) and `usedonly` apply. Envoy
//! keeps "used" = counter incremented, gauge changed, histogram recorded, readout set; the
//! emulator approximates a changed gauge as non-zero, plus gauges Envoy always sets
//! (`server.state`, `server.parent_connections`) and the level gauges (`*_active`,
//! `*_buffered`) of clusters that have opened connections, which went up and back down.
//!
//! Each group is sorted by full name in byte order: text readouts, counters and gauges
//! together, histograms.

use std::collections::BTreeMap;

use regex::Regex;

use crate::sim::model::{ProxyState, SimCluster, SimHistogram, StatsInclusion};

use super::identity::xds_version;
use super::istio_stats::{IstioSeries, istio_series};
use super::proxy_stats::{Kind, derived_stats, is_gauge_name};

/// Istio's default `stats_matcher` inclusion prefixes (pilot-agent's required prefixes plus
/// the bootstrap's fixed `reporter=`, `component` and `istio`).
pub(super) const ISTIO_DEFAULT_PREFIXES: [&str; 8] = [
    "reporter=",
    "cluster_manager",
    "listener_manager",
    "server",
    "cluster.xds-grpc",
    "wasm",
    "component",
    "istio",
];
/// Istio's default inclusion suffixes (RBAC results, and active connections for draining).
pub(super) const ISTIO_DEFAULT_SUFFIXES: [&str; 5] = [
    "rbac.allowed",
    "rbac.denied",
    "shadow_allowed",
    "shadow_denied",
    "downstream_cx_active",
];
/// Gauges Envoy sets at startup even when they stay 0: "used" for `usedonly`.
const ALWAYS_SET_GAUGES: [&str; 2] = ["server.state", "server.parent_connections"];

/// A counter or gauge to print; `istio` is set for Istio's explicitly tagged metrics.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scalar {
    pub name: String,
    pub kind: Kind,
    pub value: u64,
    pub used: bool,
    pub istio: Option<IstioSeries>,
}

/// The selected stats of one request, each group sorted by name.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct StatSet<'a> {
    pub readouts: Vec<(String, String)>,
    pub scalars: Vec<Scalar>,
    pub histograms: Vec<(String, &'a SimHistogram)>,
}

/// The request's `usedonly` and `filter`.
#[derive(Debug, Clone, Default)]
pub(super) struct Selection {
    pub used_only: bool,
    pub filter: Option<Regex>,
}

impl Selection {
    fn admits(&self, name: &str, used: bool) -> bool {
        (used || !self.used_only) && self.filter.as_ref().is_none_or(|re| re.is_match(name))
    }
}

/// True when the sidecar's stats matcher lets Envoy create the stat `name` at all.
pub(super) fn is_recorded(inclusion: StatsInclusion, name: &str) -> bool {
    match inclusion {
        StatsInclusion::Full => true,
        StatsInclusion::IstioDefault => {
            ISTIO_DEFAULT_PREFIXES.iter().any(|p| name.starts_with(p))
                || ISTIO_DEFAULT_SUFFIXES.iter().any(|s| name.ends_with(s))
        }
    }
}

/// Collects the stats of `state` that the request selects.
pub(super) fn collect_stats<'a>(state: &'a ProxyState, selection: &Selection) -> StatSet<'a> {
    let keep =
        |name: &str, used: bool| is_recorded(state.inclusion, name) && selection.admits(name, used);
    let readouts = readouts(state)
        .into_iter()
        .filter(|(name, value)| keep(name, !value.is_empty()))
        .collect();
    let scalars = scalars(state)
        .into_values()
        .filter(|s| keep(&s.name, s.used))
        .collect();
    let mut histograms: BTreeMap<String, &SimHistogram> = BTreeMap::new();
    for cluster in &state.clusters {
        for (suffix, h) in &cluster.histograms {
            histograms.insert(format!("cluster.{}.{suffix}", cluster.name), h);
        }
    }
    let histograms = (histograms.into_iter())
        .filter(|(name, h)| keep(name, !h.cumulative.is_empty()))
        .collect();
    StatSet {
        readouts,
        scalars,
        histograms,
    }
}

/// The xDS version readouts: CDS, LDS, and one per EDS cluster.
fn readouts(state: &ProxyState) -> BTreeMap<String, String> {
    let version = xds_version(state);
    let mut out = BTreeMap::new();
    for scope in ["cluster_manager.cds", "listener_manager.lds"] {
        out.insert(format!("{scope}.version_text"), version.clone());
    }
    for c in state
        .clusters
        .iter()
        .filter(|c| c.config.discovery_type == "EDS")
    {
        out.insert(format!("cluster.{}.version_text", c.name), version.clone());
    }
    out
}

/// Every counter and gauge by name: derived proxy stats, overridden by `proxy_counters`, then
/// the cluster stats and Istio's metrics.
fn scalars(state: &ProxyState) -> BTreeMap<String, Scalar> {
    let plain = |(name, kind, value, used): (String, Kind, u64, bool)| Scalar {
        name,
        kind,
        value,
        used,
        istio: None,
    };
    let clusters = state.clusters.iter().flat_map(cluster_scalars);
    let all =
        (proxy_scalars(state).into_iter().chain(clusters).map(plain)).chain(istio_scalars(state));
    all.map(|s| (s.name.clone(), s)).collect()
}

/// The derived proxy-wide stats with `proxy_counters` applied, plus the extra names there.
fn proxy_scalars(state: &ProxyState) -> Vec<(String, Kind, u64, bool)> {
    let derived = derived_stats(state);
    let mut out: Vec<(String, Kind, u64, bool)> = Vec::new();
    for (name, kind, value) in &derived {
        let value = state.proxy_counters.get(name).copied().unwrap_or(*value);
        out.push((
            name.clone(),
            *kind,
            value,
            gauge_or_counter_used(name, *kind, value),
        ));
    }
    for (name, &value) in &state.proxy_counters {
        if derived.iter().all(|(n, _, _)| n != name) {
            let kind = if is_gauge_name(name) {
                Kind::Gauge
            } else {
                Kind::Counter
            };
            out.push((
                name.clone(),
                kind,
                value,
                gauge_or_counter_used(name, kind, value),
            ));
        }
    }
    out
}

/// Istio's own metrics (`istio_build`, every `istio_requests_total` series) with their tags.
fn istio_scalars(state: &ProxyState) -> Vec<Scalar> {
    let (build, requests) = istio_series(state);
    let build = Scalar {
        name: build.stat_name(),
        kind: Kind::Gauge,
        value: build.value,
        used: true,
        istio: Some(build),
    };
    let requests = requests.into_iter().map(|series| Scalar {
        name: series.stat_name(),
        kind: Kind::Counter,
        value: series.value,
        used: series.value > 0,
        istio: Some(series),
    });
    std::iter::once(build).chain(requests).collect()
}

fn gauge_or_counter_used(name: &str, kind: Kind, value: u64) -> bool {
    value > 0 || (kind == Kind::Gauge && ALWAYS_SET_GAUGES.contains(&name))
}

/// A cluster's counters and gauges with their full names and "used" flags.
fn cluster_scalars(cluster: &SimCluster) -> Vec<(String, Kind, u64, bool)> {
    let connected = cluster
        .counters
        .get("upstream_cx_total")
        .is_some_and(|&v| v > 0);
    let full = |suffix: &str| format!("cluster.{}.{suffix}", cluster.name);
    let counters = (cluster.counters.iter()).map(|(s, &v)| (full(s), Kind::Counter, v, v > 0));
    let gauges = cluster.gauges.iter().map(|(s, &v)| {
        let level = s.ends_with("_active") || s.ends_with("_buffered");
        (full(s), Kind::Gauge, v, v != 0 || (connected && level))
    });
    counters.chain(gauges).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_default_inclusion() {
        let default = StatsInclusion::IstioDefault;
        assert!(is_recorded(default, "server.uptime"));
        assert!(is_recorded(default, "cluster.xds-grpc.upstream_cx_total"));
        assert!(is_recorded(
            default,
            "istiocustom.istio_requests_total.reporter.source"
        ));
        assert!(is_recorded(
            default,
            "listener.0.0.0.0_15006.downstream_cx_active"
        ));
        assert!(!is_recorded(
            default,
            "cluster.outbound|80||a.b.svc.cluster.local.upstream_rq_total"
        ));
        assert!(!is_recorded(
            default,
            "cluster.inbound|8080||.upstream_cx_active"
        ));
        assert!(is_recorded(
            StatsInclusion::Full,
            "cluster.inbound|8080||.upstream_cx_active"
        ));
    }

    #[test]
    fn selection_combines_usedonly_and_filter() {
        let sel = Selection {
            used_only: true,
            filter: Some(Regex::new("rq_(timeout|total)$").unwrap()),
        };
        assert!(sel.admits("cluster.a.upstream_rq_timeout", true));
        assert!(!sel.admits("cluster.a.upstream_rq_timeout", false));
        assert!(!sel.admits("cluster.a.upstream_rq_time", true));
        assert!(Selection::default().admits("anything", false));
    }
}
