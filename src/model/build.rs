//! Building a [`MeshSnapshot`] from the metrics store, the latest `/clusters` and
//! `/config_dump` of each client pod, and the Istio objects.

use std::collections::BTreeMap;
use std::time::Duration;

use super::config_summary::summarize;
use super::envoy_view::{EndpointView, config_view, endpoint_view};
use super::requests::{Window, attach_requests, merge, proxies};
use super::snapshot::{
    ClusterSnapshot, CounterWindow, GaugeView, MeshSnapshot, PodClusterView, StatMap, StatName,
};
use super::source::SourceState;
use crate::envoy::clusters::ClustersDump;
use crate::envoy::config_dump::ConfigDump;
use crate::envoy::{ClusterKey, ClusterKind, Direction};
use crate::istio::{IstioConfig, ResolveOptions, resolve};
use crate::metrics::{MetricsStore, StatKind, Timestamp};

/// What a snapshot is built from. Maps are keyed by pod name.
pub struct SnapshotInput<'a> {
    pub store: &'a MetricsStore,
    pub now: Timestamp,
    pub window: Duration,
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub taken_at_unix_ms: Option<u64>,
    pub sources: Vec<SourceState>,
    /// Latest `/clusters` per client pod.
    pub endpoints: BTreeMap<String, &'a ClustersDump>,
    /// Latest `/config_dump` per client pod.
    pub config_dumps: BTreeMap<String, &'a ConfigDump>,
    pub istio: Option<&'a IstioConfig>,
    pub resolve: ResolveOptions,
    /// Fill [`ClusterSnapshot::per_pod`] (drill-down).
    pub per_pod: bool,
    /// `/clusters` host counters per cluster (`hosts.rq_timeout`, …), merged into `counters`.
    pub hosts: Option<&'a MetricsStore>,
    /// `istio_requests_total` series and proxy counters (see [`Collection`](super::Collection)).
    pub series: Option<&'a MetricsStore>,
}

/// Builds the snapshot: every cluster any client pod has, outbound services first.
pub fn build_snapshot(input: &SnapshotInput<'_>) -> MeshSnapshot {
    build_snapshot_visiting(input, &mut |_, _| {})
}

/// [`build_snapshot`], calling `visit` with each cluster and its position in
/// `MeshSnapshot::clusters` as soon as it is made, while it is still in the cache (the TUI takes
/// its sort keys there).
pub fn build_snapshot_visiting(
    input: &SnapshotInput<'_>,
    visit: &mut dyn FnMut(usize, &ClusterSnapshot),
) -> MeshSnapshot {
    let mut clusters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pod in input.store.pods() {
        for cluster in input.store.clusters(pod) {
            clusters
                .entry(cluster.to_string())
                .or_default()
                .push(pod.to_string());
        }
    }
    for (pod, dump) in &input.endpoints {
        for c in &dump.clusters {
            let clients = clusters.entry(c.name.clone()).or_default();
            if !clients.contains(pod) {
                clients.push(pod.clone());
            }
        }
    }
    // Kind first, then name: the map is in name order and the sort is stable. Sorted before
    // the clusters are made, so each is made at its final position.
    let mut named: Vec<(ClusterKey, String, Vec<String>)> = (clusters.into_iter())
        .map(|(name, clients)| (ClusterKey::parse(&name), name, clients))
        .collect();
    named.sort_by_key(|(key, _, _)| rank(key));
    let mut out: Vec<ClusterSnapshot> = (named.into_iter().enumerate())
        .map(|(at, (key, name, clients))| {
            let cluster = cluster_snapshot(input, key, &name, clients);
            visit(at, &cluster);
            cluster
        })
        .collect();
    let window = input.series.map(|series| Window {
        series,
        clusters: input.store,
        window: input.window,
        now: input.now,
    });
    if let Some(w) = &window {
        attach_requests(w, &mut out);
    }
    MeshSnapshot {
        meshtop_version: env!("CARGO_PKG_VERSION").to_string(),
        context: input.context.clone(),
        namespace: input.namespace.clone(),
        taken_at_unix_ms: input.taken_at_unix_ms,
        window_seconds: input.window.as_secs_f64(),
        sources: input.sources.clone(),
        clusters: out,
        config_issues: input
            .istio
            .map(|c| c.issues.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        proxies: window.as_ref().map(proxies).unwrap_or_default(),
        subset_policies: input
            .istio
            .map(|c| subset_policies(c, &input.resolve.cluster_domain))
            .unwrap_or_default(),
    }
}

/// DestinationRule subsets with their own traffic policy and the routes using them (R21).
fn subset_policies(istio: &IstioConfig, domain: &str) -> Vec<super::snapshot::SubsetPolicy> {
    let uses = crate::istio::find_subset_policies(istio, domain);
    (uses.into_iter())
        .map(|u| super::snapshot::SubsetPolicy {
            destination_rule: format!(
                "{}/{}",
                u.destination_rule.namespace, u.destination_rule.name
            ),
            host: u.host,
            subset: u.subset,
            sections: u.sections,
            routed_by: u.routed_by,
        })
        .collect()
}

fn rank(key: &ClusterKey) -> u8 {
    match &key.kind {
        ClusterKind::Istio(c) if c.direction == Direction::Outbound => 0,
        ClusterKind::Plain => 1,
        ClusterKind::Istio(_) => 2,
        ClusterKind::Special { .. } => 3,
    }
}

fn cluster_snapshot(
    input: &SnapshotInput<'_>,
    key: ClusterKey,
    name: &str,
    mut clients: Vec<String>,
) -> ClusterSnapshot {
    clients.sort();
    clients.dedup();
    let effective = clients.iter().find_map(|pod| {
        input
            .config_dumps
            .get(pod)
            .and_then(|d| config_view(d, name))
    });
    let config = input.istio.and_then(|istio| {
        let ns = client_namespace(input, &clients, &key)?;
        resolve(istio, &key, &ns, &input.resolve).map(|p| summarize(&p, effective.as_ref()))
    });
    // Every aggregate is made from the per-pod views (each window is read once), which the
    // snapshot keeps when asked for (drill-down, findings).
    let mut totals = Totals::new(input);
    let views: Vec<PodClusterView> = (clients.iter())
        .map(|pod| pod_view(input, name, pod, &mut totals))
        .collect();
    let (counters, gauges) = totals.into_maps(input);
    let upstream_rq_time_p99_ms = (views.iter())
        .filter_map(|v| v.upstream_rq_time_p99_ms)
        .reduce(f64::max);
    let per_pod = match input.per_pod {
        true => views,
        false => Vec::new(),
    };
    ClusterSnapshot {
        label: key.label(),
        counters,
        gauges,
        upstream_rq_time_p99_ms,
        endpoints: endpoints(input, name, &clients),
        per_pod,
        config: config.map(Box::new),
        effective_config: effective.map(Box::new),
        clients,
        key,
        requests: Vec::new(),
        server: None,
    }
}

/// The namespace the client pods run in (from the sources), else the collected namespace,
/// else the cluster's own service namespace.
fn client_namespace(
    input: &SnapshotInput<'_>,
    clients: &[String],
    key: &ClusterKey,
) -> Option<String> {
    clients
        .iter()
        .find_map(|pod| {
            input
                .sources
                .iter()
                .find(|s| &s.pod == pod)
                .map(|s| s.namespace.clone())
        })
        .or_else(|| input.namespace.clone())
        .or_else(|| key.istio().and_then(|c| c.namespace.clone()))
}

/// The stores a pod view reads: `/stats` (counters, gauges, quantiles), then `/clusters` host
/// counters when collected.
fn stores<'a>(input: &SnapshotInput<'a>) -> [Option<&'a MetricsStore>; 2] {
    [Some(input.store), input.hosts]
}

/// One cluster's sums over its client pods, by store and column (no lookups by name): window
/// counters added as `merge` adds them (increases, resets and pods; rates over the pods that
/// have one), gauges' latest values as min, max and sum.
struct Totals {
    counters: [Vec<Option<CounterWindow>>; 2],
    gauges: Vec<Option<GaugeView>>,
}

impl Totals {
    fn new(input: &SnapshotInput<'_>) -> Self {
        let width = |store: Option<&MetricsStore>| store.map_or(0, |s| s.tracked().len());
        let [stats, hosts] = stores(input);
        Totals {
            counters: [vec![None; width(stats)], vec![None; width(hosts)]],
            gauges: vec![None; width(stats)],
        }
    }

    fn add_counter(&mut self, store: usize, column: usize, w: CounterWindow) {
        if let Some(sum) = self.counters.get_mut(store).and_then(|c| c.get_mut(column)) {
            merge(sum, w);
        }
    }

    fn add_gauge(&mut self, column: usize, value: f64) {
        let Some(slot) = self.gauges.get_mut(column) else {
            return;
        };
        let sum = slot.get_or_insert(GaugeView {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
            pods: 0,
        });
        sum.min = sum.min.min(value);
        sum.max = sum.max.max(value);
        sum.sum += value;
        sum.pods += 1;
    }

    /// The sums keyed by stat name; stats no pod had are absent.
    fn into_maps(
        self,
        input: &SnapshotInput<'_>,
    ) -> (
        BTreeMap<StatName, CounterWindow>,
        BTreeMap<StatName, GaugeView>,
    ) {
        let mut counters = Vec::new();
        for (store, values) in stores(input).into_iter().zip(&self.counters) {
            counters.extend(store.map(|s| named(s, values)).unwrap_or_default());
        }
        let gauges = named(input.store, &self.gauges);
        (counters.into_iter().collect(), gauges.into_iter().collect())
    }
}

/// Health from the `/clusters` of the client that sends the cluster the most requests (an
/// idle copy of the cluster in another sidecar may not have seen outlier ejections), per-host
/// counters summed over all clients.
fn endpoints(input: &SnapshotInput<'_>, cluster: &str, clients: &[String]) -> Option<EndpointView> {
    let views: Vec<(u64, EndpointView)> = clients
        .iter()
        .filter_map(|pod| {
            let c = input.endpoints.get(pod).and_then(|d| d.cluster(cluster))?;
            let sent = input
                .hosts
                .and_then(|h| h.delta(pod, cluster, "hosts.rq_total", input.window, input.now))
                .map_or(0, |d| d.increase);
            Some((sent, endpoint_view(c)))
        })
        .collect();
    let busiest = views
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| a.0.cmp(&b.0).then_with(|| j.cmp(i)))
        .map(|(i, _)| i)?;
    let mut first = views.get(busiest)?.1.clone();
    let views: Vec<EndpointView> = views.into_iter().map(|(_, v)| v).collect();
    let sum = |f: fn(&EndpointView) -> Option<u64>| {
        views
            .iter()
            .filter_map(f)
            .reduce(|a, b| a.saturating_add(b))
    };
    first.rq_total = sum(|v| v.rq_total);
    first.rq_timeout = sum(|v| v.rq_timeout);
    first.rq_error = sum(|v| v.rq_error);
    first.cx_connect_fail = sum(|v| v.cx_connect_fail);
    Some(first)
}

/// The present `values` (by column of `store`) keyed by name, in name order.
fn named<T: Copy>(store: &MetricsStore, values: &[Option<T>]) -> Vec<(StatName, T)> {
    (store.tracked().by_name())
        .filter_map(|(column, spec)| Some((spec.name.clone(), (*values.get(column)?)?)))
        .collect()
}

/// One client pod's windows of `cluster`, also added to `totals`: each store's rows of the
/// cluster are looked up once and every tracked series read from them.
fn pod_view(
    input: &SnapshotInput<'_>,
    cluster: &str,
    pod: &str,
    totals: &mut Totals,
) -> PodClusterView {
    let room = stores(input).map(|s| s.map_or(0, |s| s.tracked().counter_count()));
    let (mut counters, mut gauges) = (Vec::with_capacity(room[0] + room[1]), Vec::new());
    let mut p99 = None;
    let (window, now) = (input.window, input.now);
    // Gauges and the p99 come from `/stats` only; `/clusters` host counters are counters.
    for (index, store) in stores(input).into_iter().enumerate() {
        let Some(store) = store else { continue };
        let stats = index == 0;
        let Some(rows) = store.cluster_window(pod, cluster, window, now) else {
            continue;
        };
        for (column, spec) in store.tracked().by_name() {
            match spec.kind {
                StatKind::Counter => {
                    if let Some(d) = rows.delta(column) {
                        let w = CounterWindow {
                            increase: d.increase,
                            rate: d.rate(),
                            resets: d.resets,
                            pods: 1,
                        };
                        totals.add_counter(index, column, w);
                        counters.push((spec.name.clone(), w));
                    }
                }
                StatKind::Gauge if stats => {
                    if let Some((_, r)) = rows.latest(column) {
                        totals.add_gauge(column, r.as_f64());
                        gauges.push((spec.name.clone(), r.as_f64()));
                    }
                }
                _ if stats && &*spec.name == P99 => {
                    p99 = rows.latest(column).map(|(_, r)| r.as_f64());
                }
                _ => {}
            }
        }
    }
    // Sorted runs (one per store: two when host counters are added), merged.
    PodClusterView {
        pod: pod.to_string(),
        counters: StatMap::from_entries(counters),
        gauges: StatMap::from_entries(gauges),
        upstream_rq_time_p99_ms: p99,
    }
}

/// The quantile shown as the cluster's p99.
const P99: &str = "upstream_rq_time.p99";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::stats_text::parse_stats_text;
    use crate::istio::load_yaml;
    use crate::model::{CollectionState, StatsCollection};

    const INV: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";

    fn stats(total: u64, timeouts: u64, uptime: u64) -> crate::envoy::StatsSet {
        let text = format!(
            "cluster.{INV}.upstream_rq_timeout: {timeouts}\ncluster.{INV}.upstream_rq_total: {total}\n\
             cluster.{INV}.membership_healthy: 3\nserver.uptime: {uptime}\n"
        );
        parse_stats_text(text.as_bytes()).unwrap()
    }

    fn source(pod: &str) -> SourceState {
        SourceState {
            pod: pod.into(),
            namespace: "prod".into(),
            state: CollectionState::Ok {
                at: Timestamp::from_secs(30),
            },
            stats_collection: StatsCollection::Full,
        }
    }

    #[test]
    fn aggregates_pods_resolves_config_and_serialises() {
        let mut store = MetricsStore::default();
        for (pod, per_pod) in [("order-a", 1), ("order-b", 2)] {
            store.ingest(pod, Timestamp::from_secs(0), &stats(100, 10, 600));
            store.ingest(
                pod,
                Timestamp::from_secs(30),
                &stats(100 + 300 * per_pod, 10 + 3 * per_pod, 630),
            );
        }
        let istio = load_yaml(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: inventory, namespace: prod}\n\
             spec:\n  hosts: [inventory-svc]\n  http:\n  - route:\n    - destination: {host: inventory-svc}\n    timeout: 1s\n",
            "vs.yaml",
        );
        let input = SnapshotInput {
            store: &store,
            now: Timestamp::from_secs(30),
            window: Duration::from_secs(60),
            context: Some("prod-cluster".into()),
            namespace: Some("prod".into()),
            taken_at_unix_ms: Some(1_790_000_000_000),
            sources: vec![source("order-a"), source("order-b")],
            endpoints: BTreeMap::new(),
            config_dumps: BTreeMap::new(),
            istio: Some(&istio),
            resolve: ResolveOptions::default(),
            per_pod: true,
            hosts: None,
            series: None,
        };
        let snap = build_snapshot(&input);
        let c = snap.cluster(INV).expect("cluster present");
        assert_eq!(c.clients, ["order-a", "order-b"]);
        let t = c.counters["upstream_rq_timeout"];
        assert_eq!((t.increase, t.pods), (9, 2));
        assert!((t.rate.unwrap() - 0.3).abs() < 1e-9, "{t:?}");
        assert_eq!(c.increase("upstream_rq_total"), Some(900));
        assert_eq!(
            c.increase("upstream_rq_retry"),
            None,
            "not collected is absent, not 0"
        );
        assert_eq!(c.gauges["membership_healthy"].max, 3.0);
        assert_eq!(c.per_pod.len(), 2);
        assert_eq!(
            c.per_pod[1]
                .counters
                .get("upstream_rq_timeout")
                .unwrap()
                .increase,
            6
        );
        let cfg = c.config.as_ref().expect("resolved");
        assert_eq!(cfg.route_timeout_ms, Some(1000));
        assert_eq!(cfg.virtual_service.as_deref(), Some("prod/inventory"));
        assert_eq!(cfg.destination_rule, None);

        // JSON: serialise, parse back, serialise again: stable and complete.
        let json = serde_json::to_value(&snap).unwrap();
        let again = serde_json::to_value(
            serde_json::from_value::<serde_json::Value>(json.clone()).unwrap(),
        )
        .unwrap();
        assert_eq!(json, again);
        assert_eq!(json["clusters"][0]["name"], INV);
        assert_eq!(
            json["clusters"][0]["counters"]["upstream_rq_timeout"]["increase"],
            9
        );
        assert_eq!(json["clusters"][0]["config"]["route_timeout_ms"], 1000);
        assert_eq!(json["sources"][0]["state"]["state"], "ok");
        assert_eq!(json["window_seconds"], 60.0);
    }

    /// DR with subsets, portLevelSettings, outlier detection and keepalive; VS with retries,
    /// a second route, a fault and a mirror; a TCP route; one malformed DR (a config issue).
    const FULL_ISTIO: &str = r#"apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: inventory, namespace: prod}
spec:
  host: inventory-svc
  trafficPolicy:
    connectionPool:
      tcp: {connectTimeout: 2s, maxConnections: 100}
    portLevelSettings:
    - port: {number: 8080}
      loadBalancer: {simple: ROUND_ROBIN}
      tls: {mode: ISTIO_MUTUAL}
      connectionPool:
        tcp:
          connectTimeout: 1500ms
          maxConnections: 100
          maxConnectionDuration: 10m
          tcpKeepalive: {time: 120s, interval: 75s, probes: 9}
        http:
          http1MaxPendingRequests: 256
          http2MaxRequests: 1024
          idleTimeout: 1h
          maxRequestsPerConnection: 10
          h2UpgradePolicy: UPGRADE
          useClientProtocol: true
      outlierDetection:
        consecutive5xxErrors: 7
        consecutiveGatewayErrors: 3
        interval: 5s
        baseEjectionTime: 30s
        maxEjectionPercent: 50
        minHealthPercent: 20
        splitExternalLocalOriginErrors: true
        consecutiveLocalOriginFailures: 4
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      connectionPool:
        tcp: {connectTimeout: 500ms}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: inventory, namespace: prod}
spec:
  hosts: [inventory-svc]
  http:
  - name: grpc
    match: [{uri: {prefix: /api}}]
    route:
    - destination: {host: inventory-svc, port: {number: 8080}}
      weight: 90
    - destination: {host: inventory-svc, subset: v1, port: {number: 8080}}
      weight: 10
    timeout: 3s
    retries: {attempts: 3, perTryTimeout: 250ms, retryOn: "5xx,reset", retryRemoteLocalities: true}
    fault: {delay: {fixedDelay: 7s, percentage: {value: 1}}}
    mirror: {host: inventory-mirror}
  - route:
    - destination: {host: inventory-svc}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: orders-db, namespace: prod}
spec:
  hosts: [orders-db]
  tcp:
  - match: [{port: 5432}]
    route:
    - destination: {host: orders-db, port: {number: 5432}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: broken, namespace: prod}
spec:
  host: broken-svc
  trafficPolicy:
    connectionPool:
      tcp: {connectTimeout: soon}
"#;

    fn full_sources() -> Vec<SourceState> {
        let ms = Timestamp::from_millis;
        let states = [
            CollectionState::Ok { at: ms(30_000) },
            CollectionState::Stale {
                since: ms(20_000),
                last_ok: ms(10_000),
                reason: "timeout after 2s".into(),
            },
            CollectionState::Pending,
            CollectionState::Failed {
                since: ms(5_000),
                reason: "connection refused".into(),
            },
            CollectionState::Forbidden {
                reason: "create pods/portforward in prod".into(),
            },
            CollectionState::NotCollected {
                reason: "not meshed".into(),
            },
        ];
        let pods = ["order-a", "order-b", "p", "f", "x", "n"];
        let collections = [
            StatsCollection::Full,
            StatsCollection::DefaultInclusionOnly,
            StatsCollection::None,
        ];
        states
            .into_iter()
            .zip(pods)
            .zip(collections.into_iter().cycle())
            .map(|((state, pod), stats_collection)| SourceState {
                pod: pod.into(),
                namespace: "prod".into(),
                state,
                stats_collection,
            })
            .collect()
    }

    #[test]
    fn full_snapshot_round_trips_through_json() {
        use crate::envoy::clusters::parse_clusters_text;
        use crate::envoy::config_dump::parse_config_dump;
        const V1: &str = "outbound|8080|v1|inventory-svc.prod.svc.cluster.local";
        let histogram = format!(
            "cluster.{INV}.upstream_rq_time: P0(nan,1) P25(nan,2) P50(10,20) P75(nan,30) \
             P90(nan,40) P95(nan,50) P99(1402.5,929.9999999999999) P99.5(nan,60) P99.9(nan,70) P100(nan,80)\n\
             cluster.{V1}.upstream_rq_total: 7\ncluster.service1.upstream_rq_total: 4\n"
        );
        let mut store = MetricsStore::default();
        for (pod, per_pod) in [("order-a", 1), ("order-b", 2)] {
            store.ingest(pod, Timestamp::from_secs(0), &stats(100, 10, 600));
            let text = format!(
                "cluster.{INV}.upstream_rq_timeout: {}\ncluster.{INV}.upstream_rq_total: {}\n\
                 cluster.{INV}.membership_healthy: {}\nserver.uptime: 630\n{histogram}",
                10 + 3 * per_pod,
                100 + 300 * per_pod,
                2 + per_pod,
            );
            store.ingest(
                pod,
                Timestamp::from_secs(30),
                &parse_stats_text(text.as_bytes()).unwrap(),
            );
        }
        let clusters =
            parse_clusters_text(include_str!("../../tests/data/order-svc/clusters.txt")).unwrap();
        let dump =
            parse_config_dump(include_str!("../../tests/data/order-svc/config_dump.json")).unwrap();
        let istio = load_yaml(FULL_ISTIO, "full.yaml");
        let input = SnapshotInput {
            store: &store,
            now: Timestamp::from_secs(30),
            window: Duration::from_millis(60_500),
            context: Some("prod-cluster".into()),
            namespace: Some("prod".into()),
            taken_at_unix_ms: Some(1_790_000_000_000),
            sources: full_sources(),
            endpoints: BTreeMap::from([("order-a".to_string(), &clusters)]),
            config_dumps: BTreeMap::from([("order-a".to_string(), &dump)]),
            istio: Some(&istio),
            resolve: ResolveOptions::default(),
            per_pod: true,
            hosts: None,
            series: None,
        };
        let snap = build_snapshot(&input);

        // Every optional part is filled, so the round trip below covers it.
        assert_eq!(snap.sources.len(), 6);
        assert_eq!(snap.config_issues.len(), 1, "{:?}", snap.config_issues);
        let inv = snap.cluster(INV).expect("inventory");
        assert_eq!(inv.upstream_rq_time_p99_ms, Some(1402.5));
        assert_eq!(inv.per_pod[0].upstream_rq_time_p99_ms, Some(1402.5));
        assert_eq!(inv.endpoints.as_ref().map(|e| e.total), Some(3));
        let cfg = inv.config.as_ref().expect("resolved");
        let eff = inv.effective_config.as_ref().expect("config_dump");
        assert!(!eff.envoy_defaults.is_empty() && !eff.routes.is_empty());
        assert_eq!(cfg.connect_timeout_ms, 1500);
        assert_eq!(cfg.max_pending_requests, 256);
        assert_eq!(cfg.route_timeout_ms, Some(3000));
        assert_eq!(cfg.per_try_timeout_ms, Some(250));
        assert_eq!(cfg.policy.routes.len(), 2);
        let keepalive = cfg.policy.tcp_keepalive.value.as_ref().expect("keepalive");
        assert_eq!(keepalive.time, Some(Duration::from_secs(120)));
        assert!(cfg.policy.outlier_detection.is_some());
        assert!(cfg.policy.load_balancer.value.is_some());
        assert!(cfg.policy.max_connection_duration.value.is_some());
        assert_eq!(cfg.defaults, ["max_retries"]);
        assert_eq!(cfg.notes.len(), 2, "{:?}", cfg.notes);
        assert_eq!(
            cfg.mismatches
                .iter()
                .find(|m| m.field == "route_timeout_ms")
                .map(|m| (m.configured, m.effective)),
            Some((Some(3000), Some(1000)))
        );
        let v1 = snap
            .cluster(V1)
            .and_then(|c| c.config.as_ref())
            .expect("v1");
        assert_eq!(v1.policy.subset.as_deref(), Some("v1"));
        assert_eq!(v1.connect_timeout_ms, 500);
        let db = "outbound|5432||orders-db.prod.svc.cluster.local";
        let db = snap
            .cluster(db)
            .and_then(|c| c.config.as_ref())
            .expect("db");
        assert_eq!(
            db.policy.routes[0].protocol,
            crate::istio::route::RouteProtocol::Tcp
        );
        let kinds = |f: fn(&ClusterKey) -> bool| snap.clusters.iter().any(|c| f(&c.key));
        assert!(kinds(|k| matches!(k.kind, ClusterKind::Plain)));
        assert!(kinds(|k| k.is_special()));
        assert!(kinds(|k| k.istio().is_some_and(|c| c.service.is_none())));
        assert!(kinds(|k| !k.is_outbound() && k.istio().is_some()));

        let json = serde_json::to_string(&snap).unwrap();
        let back: MeshSnapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, snap);
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }
}
