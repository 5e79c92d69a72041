//! `Collection`: everything the pollers have reported so far, folded into stores — the state a
//! [`MeshSnapshot`](super::MeshSnapshot) is built from, by `meshtop snapshot`/`check` and by the
//! TUI alike. Pure: the caller passes parsed values and times.
//!
//! Three stores share the counter arithmetic of [`MetricsStore`] (windows, restarts, resets):
//! - `clusters`: the tracked cluster stats from `/stats`;
//! - `hosts`: `/clusters` per-host counters summed per cluster (`hosts.rq_timeout`, …), which
//!   Envoy records even when Istio's stats matcher drops the cluster stats;
//! - `series`: per-pod series that are not cluster stats — every `istio_requests_total` series
//!   (keyed by [`request_key`]) and the proxy's config-rejection counters ([`proxy_key`]).
//!
//! `/stats` is polled with `usedonly`: Envoy leaves out stats that were never used, so in a
//! cluster that is present a missing counter is 0, not unknown ([`UsedOnly`]); a cluster
//! that is missing altogether stays "not collected".

use std::collections::BTreeMap;
use std::time::Duration;

use crate::envoy::StatsSet;
use crate::envoy::clusters::{ClusterStatus, ClustersDump};
use crate::envoy::config_dump::ConfigDump;
use crate::envoy::istio_stat::istio_requests_from_stats;
use crate::envoy::prometheus::IstioRequestSeries;
use crate::metrics::{
    DEFAULT_RETENTION, MetricsStore, Reading, StatKind, StatSource, StatSpec, Timestamp,
    TrackedStats,
};

use super::source::{CollectionState, StatsCollection};

/// `/clusters` per-host counters, summed over a cluster's hosts, as host-store series.
pub const HOST_COUNTERS: &[(&str, HostCounter)] = &[
    ("hosts.rq_total", HostCounter::RqTotal),
    ("hosts.rq_error", HostCounter::RqError),
    ("hosts.rq_timeout", HostCounter::RqTimeout),
    ("hosts.cx_connect_fail", HostCounter::CxConnectFail),
];

/// Proxy-wide counters kept per pod (config rejections, HINTS.md R22).
pub const PROXY_COUNTERS: &[&str] = &[
    "cluster_manager.cds.update_rejected",
    "listener_manager.lds.update_rejected",
];

/// The one column of the series store.
pub const SERIES_VALUE: &str = "value";

/// Which per-host counter a host-store series sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostCounter {
    RqTotal,
    RqError,
    RqTimeout,
    CxConnectFail,
}

impl StatSource for ClusterStatus {
    fn read(&self, spec: &StatSpec) -> Option<Reading> {
        let (_, which) = HOST_COUNTERS.iter().find(|(n, _)| **n == *spec.name)?;
        let sum = match which {
            HostCounter::RqTotal => self.sum_host(|h| h.rq_total),
            HostCounter::RqError => self.rq_error_total(),
            HostCounter::RqTimeout => self.rq_timeout_total(),
            HostCounter::CxConnectFail => self.cx_connect_fail_total(),
        };
        sum.map(Reading::Int)
    }
}

/// A single cumulative value (one series-store row).
struct SeriesValue(u64);

impl StatSource for SeriesValue {
    fn read(&self, _: &StatSpec) -> Option<Reading> {
        Some(Reading::Int(self.0))
    }
}

/// A cluster of a `usedonly` scrape: its missing counters read as 0.
pub struct UsedOnly<'a, S>(pub &'a S);

impl<S: StatSource> StatSource for UsedOnly<'_, S> {
    fn read(&self, spec: &StatSpec) -> Option<Reading> {
        match (self.0.read(spec), spec.kind) {
            (None, StatKind::Counter) => Some(Reading::Int(0)),
            (reading, _) => reading,
        }
    }
}

/// The series-store key of one `istio_requests_total` series:
/// `rq|reporter|source_workload|destination_service|destination_workload|code|flags`.
pub fn request_key(s: &IstioRequestSeries) -> String {
    format!(
        "rq|{}|{}|{}|{}|{}|{}",
        s.reporter,
        s.source_workload,
        s.destination_service,
        s.destination_workload,
        s.response_code,
        s.response_flags
    )
}

/// The parts of a [`request_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey<'a> {
    pub reporter: &'a str,
    pub source_workload: &'a str,
    pub destination_service: &'a str,
    pub destination_workload: &'a str,
    pub response_code: &'a str,
    pub response_flags: &'a str,
}

/// Splits a series-store key made by [`request_key`]; `None` for other keys.
pub fn parse_request_key(key: &str) -> Option<RequestKey<'_>> {
    let mut it = key.strip_prefix("rq|")?.split('|');
    Some(RequestKey {
        reporter: it.next()?,
        source_workload: it.next()?,
        destination_service: it.next()?,
        destination_workload: it.next()?,
        response_code: it.next()?,
        response_flags: it.next()?,
    })
}

/// The series-store key of a proxy-wide counter.
pub fn proxy_key(stat: &str) -> String {
    format!("proxy|{stat}")
}

/// What pollers reported, folded. Maps are keyed by pod.
#[derive(Debug, Clone)]
pub struct Collection {
    pub clusters: MetricsStore,
    pub hosts: MetricsStore,
    pub series: MetricsStore,
    pub states: BTreeMap<String, (CollectionState, StatsCollection)>,
    /// Latest `/clusters` per pod.
    pub endpoints: BTreeMap<String, ClustersDump>,
    /// Latest `/config_dump` per pod.
    pub config_dumps: BTreeMap<String, ConfigDump>,
    /// Per pod: the last scrape's time, uptime and series keys (see [`Collection::record_scrape`]).
    last_series: BTreeMap<String, LastSeries>,
}

/// What the previous scrape of a pod held in the series store.
#[derive(Debug, Clone, Default)]
struct LastSeries {
    at: Timestamp,
    uptime: Option<u64>,
    keys: std::collections::BTreeSet<String>,
}

impl Default for Collection {
    fn default() -> Self {
        Collection::new(DEFAULT_RETENTION)
    }
}

impl Collection {
    /// Empty stores keeping `retention` of history.
    pub fn new(retention: Duration) -> Self {
        let hosts = TrackedStats::new(HOST_COUNTERS.iter().map(|(n, _)| StatSpec::counter(n)));
        let series = TrackedStats::new([StatSpec::counter(SERIES_VALUE)]);
        Collection {
            clusters: MetricsStore::new(TrackedStats::default(), retention),
            hosts: MetricsStore::new(hosts, retention),
            series: MetricsStore::new(series, retention),
            states: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            config_dumps: BTreeMap::new(),
            last_series: BTreeMap::new(),
        }
    }

    /// Records one successful poll of `pod` at `at`: its `usedonly` `/stats` and, when read,
    /// its `/clusters`.
    pub fn record_scrape(
        &mut self,
        pod: &str,
        at: Timestamp,
        stats: &StatsSet,
        clusters: Option<ClustersDump>,
        stats_collection: StatsCollection,
    ) {
        let uptime = stats.uptime_seconds();
        let used: Vec<(&str, UsedOnly<'_, _>)> =
            stats.clusters().map(|c| (c.name(), UsedOnly(c))).collect();
        self.clusters
            .ingest_from(pod, at, uptime, used.iter().map(|(n, s)| (*n, s)));
        let series = pod_series(stats);
        self.record_first_appearances(pod, at, uptime, &series);
        self.series
            .ingest_from(pod, at, uptime, series.iter().map(|(k, v)| (k.as_str(), v)));
        if let Some(dump) = clusters {
            let rows = dump.clusters.iter().map(|c| (c.name.as_str(), &**c));
            self.hosts.ingest_from(pod, at, uptime, rows);
            self.endpoints.insert(pod.to_string(), dump);
        }
        let state = CollectionState::Ok { at };
        self.states
            .insert(pod.to_string(), (state, stats_collection));
    }

    /// A series that appears in a scrape of the same proxy after an earlier scrape was 0 at
    /// that earlier scrape (Envoy creates it on first use): record that 0 just after the
    /// earlier scrape so its whole first value counts in the window.
    fn record_first_appearances(
        &mut self,
        pod: &str,
        at: Timestamp,
        uptime: Option<u64>,
        series: &[(String, SeriesValue)],
    ) {
        let keys: std::collections::BTreeSet<String> =
            series.iter().map(|(k, _)| k.clone()).collect();
        let current = LastSeries {
            at,
            uptime,
            keys: keys.clone(),
        };
        let Some(prev) = self.last_series.insert(pod.to_string(), current) else {
            return;
        };
        let restarted = matches!((prev.uptime, uptime), (Some(a), Some(b)) if b < a);
        let zero_at = Timestamp::from_millis(prev.at.as_millis() + 1);
        if restarted || zero_at >= at {
            return;
        }
        let zeros: Vec<(&str, SeriesValue)> = keys
            .iter()
            .filter(|k| !prev.keys.contains(*k))
            .map(|k| (k.as_str(), SeriesValue(0)))
            .collect();
        if !zeros.is_empty() {
            let rows = zeros.iter().map(|(k, v)| (*k, v));
            self.series.ingest_from(pod, zero_at, prev.uptime, rows);
        }
    }

    pub fn record_config_dump(&mut self, pod: &str, dump: ConfigDump) {
        self.config_dumps.insert(pod.to_string(), dump);
    }

    /// A poll failed or the pod's state changed; what the last good poll said about stats
    /// collection is kept.
    pub fn record_state(&mut self, pod: &str, state: CollectionState) {
        let entry = self
            .states
            .entry(pod.to_string())
            .or_insert((CollectionState::Pending, StatsCollection::None));
        entry.0 = state;
    }

    /// Drops history older than the retention.
    pub fn prune(&mut self, now: Timestamp) {
        self.clusters.prune(now);
        self.hosts.prune(now);
        self.series.prune(now);
    }

    /// Forgets pods discovery no longer lists.
    pub fn retain_pods(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.clusters.retain_pods(&mut keep);
        self.hosts.retain_pods(&mut keep);
        self.series.retain_pods(&mut keep);
        self.states.retain(|p, _| keep(p));
        self.endpoints.retain(|p, _| keep(p));
        self.config_dumps.retain(|p, _| keep(p));
        self.last_series.retain(|p, _| keep(p));
    }
}

/// Per-cluster stats present (other than Istio's special clusters) → `Full`; a `/stats`
/// with only those → `DefaultInclusionOnly` (Istio's default stats matcher).
pub fn stats_collection(stats: &StatsSet) -> StatsCollection {
    match stats.clusters().any(|c| !c.key.is_special()) {
        true => StatsCollection::Full,
        false => StatsCollection::DefaultInclusionOnly,
    }
}

/// The series-store rows of one scrape: request series and proxy counters.
fn pod_series(stats: &StatsSet) -> Vec<(String, SeriesValue)> {
    let mut rows: Vec<(String, SeriesValue)> = istio_requests_from_stats(stats)
        .iter()
        .filter(|s| s.value.is_finite() && s.value >= 0.0)
        .map(|s| (request_key(s), SeriesValue(s.value as u64)))
        .collect();
    for stat in PROXY_COUNTERS {
        // `usedonly`: a counter never incremented is left out, i.e. 0.
        let v = stats
            .other()
            .get(stat)
            .and_then(|v| v.as_int())
            .unwrap_or(0);
        rows.push((proxy_key(stat), SeriesValue(v)));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::clusters::parse_clusters_text;
    use crate::envoy::stats_text::parse_stats_text;

    const INV: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";
    const UT: &str = "istiocustom.istio_requests_total.reporter.source.source_workload.order-svc.destination_workload.inventory-svc.destination_service.inventory-svc.prod.svc.cluster.local.response_code.504.response_flags.UT";

    fn scrape(timeouts: Option<u64>, ut: u64, rejected: u64, uptime: u64) -> StatsSet {
        let mut text = format!(
            "cluster.{INV}.membership_total: 3\ncluster_manager.cds.update_rejected: {rejected}\n{UT}: {ut}\nserver.uptime: {uptime}\n"
        );
        if let Some(t) = timeouts {
            text.push_str(&format!("cluster.{INV}.upstream_rq_timeout: {t}\n"));
        }
        parse_stats_text(text.as_bytes()).unwrap()
    }

    #[test]
    fn usedonly_counters_start_at_zero_and_series_get_windows() {
        let mut c = Collection::default();
        let full = StatsCollection::Full;
        c.record_scrape(
            "order-a",
            Timestamp::from_secs(0),
            &scrape(None, 2, 0, 100),
            None,
            full,
        );
        c.record_scrape(
            "order-a",
            Timestamp::from_secs(10),
            &scrape(Some(4), 7, 1, 110),
            None,
            full,
        );
        let w = Duration::from_secs(60);
        let now = Timestamp::from_secs(10);
        let d = c
            .clusters
            .delta("order-a", INV, "upstream_rq_timeout", w, now)
            .unwrap();
        assert_eq!(d.increase, 4, "absent in a usedonly scrape = 0");
        assert_eq!(
            c.clusters
                .delta("order-a", INV, "upstream_rq_retry", w, now)
                .unwrap()
                .increase,
            0
        );
        let key = c
            .series
            .clusters("order-a")
            .find(|k| k.starts_with("rq|"))
            .unwrap()
            .to_string();
        let parts = parse_request_key(&key).unwrap();
        assert_eq!(
            parts.destination_service,
            "inventory-svc.prod.svc.cluster.local"
        );
        assert_eq!((parts.response_code, parts.response_flags), ("504", "UT"));
        assert_eq!(
            c.series
                .delta("order-a", &key, SERIES_VALUE, w, now)
                .unwrap()
                .increase,
            5
        );
        // A series first seen in the third scrape counts from 0.
        let uc = "istiocustom.istio_requests_total.reporter.source.source_workload.order-svc.destination_service.inventory-svc.prod.svc.cluster.local.response_code.503.response_flags.UC";
        let text =
            format!("{uc}: 3\ncluster.{INV}.membership_total: 3\n{UT}: 7\nserver.uptime: 120\n");
        let third = parse_stats_text(text.as_bytes()).unwrap();
        let t = Timestamp::from_secs(20);
        c.record_scrape("order-a", t, &third, None, full);
        let uc_key = c
            .series
            .clusters("order-a")
            .find(|k| k.ends_with("|503|UC"))
            .unwrap()
            .to_string();
        assert_eq!(
            c.series
                .delta("order-a", &uc_key, SERIES_VALUE, w, t)
                .unwrap()
                .increase,
            3
        );
        let rejected = proxy_key("cluster_manager.cds.update_rejected");
        assert_eq!(
            c.series
                .delta("order-a", &rejected, SERIES_VALUE, w, now)
                .unwrap()
                .increase,
            1
        );
        assert!(c.states["order-a"].0.is_ok());
    }

    #[test]
    fn host_counters_are_summed_per_cluster() {
        let mut c = Collection::default();
        let dump = |timeouts: u64| {
            let text = format!(
                "{INV}::10.4.0.1:8080::rq_timeout::{timeouts}\n{INV}::10.4.0.1:8080::rq_total::50\n\
                 {INV}::10.4.0.2:8080::rq_timeout::1\n{INV}::10.4.0.2:8080::rq_total::50\n"
            );
            parse_clusters_text(&text).unwrap()
        };
        let stats = parse_stats_text(b"server.uptime: 5\n").unwrap();
        let none = StatsCollection::DefaultInclusionOnly;
        c.record_scrape(
            "order-a",
            Timestamp::from_secs(0),
            &stats,
            Some(dump(2)),
            none,
        );
        c.record_scrape(
            "order-a",
            Timestamp::from_secs(5),
            &stats,
            Some(dump(9)),
            none,
        );
        let d = c
            .hosts
            .delta(
                "order-a",
                INV,
                "hosts.rq_timeout",
                Duration::from_secs(60),
                Timestamp::from_secs(5),
            )
            .unwrap();
        assert_eq!(d.increase, 7);
        assert!(
            c.clusters.clusters("order-a").next().is_none(),
            "no cluster stats: not collected"
        );
        assert_eq!(c.endpoints["order-a"].clusters.len(), 1);
        c.retain_pods(|_| false);
        assert!(c.endpoints.is_empty() && c.states.is_empty());
    }
}
