//! The simulated mesh as data: what each simulated Envoy knows at one moment
//! ([`ProxyState`]) and what the simulated Kubernetes API serves ([`World`]).
//!
//! The traffic model (`traffic`) fills these; the Envoy admin emulator (`envoy`) and the API
//! server render them. Nothing here parses: the simulator must not share code with the
//! client's parsers (`crate::envoy`), so that a format bug cannot hide on both sides.

use std::collections::{BTreeMap, BTreeSet};

/// Which stats the sidecar records: everything (the mesh opted in with
/// `proxyStatsMatcher`) or Istio's default inclusion only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsInclusion {
    Full,
    IstioDefault,
}

/// A latency distribution as Envoy summarises it, in milliseconds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimHistogram {
    /// Cumulative quantiles since start: (percentile 0–100, value). Empty = no recorded values.
    pub cumulative: Vec<(f64, f64)>,
    /// Quantiles over the last flush interval; empty = `nan` (no data in the interval).
    pub interval: Vec<(f64, f64)>,
    /// Cumulative bucket counts for Prometheus output: (upper bound, count), ascending,
    /// without `+Inf` (that is `count`).
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum: f64,
}

/// One upstream endpoint as `/clusters` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimHost {
    /// `10.4.1.12:8080` or `[fd00::1]:8080`.
    pub address: String,
    /// Envoy health flags: empty = healthy; else e.g. `["/failed_outlier_check"]`.
    pub health_flags: Vec<String>,
    pub cx_total: u64,
    pub cx_active: u64,
    pub cx_connect_fail: u64,
    pub rq_total: u64,
    pub rq_timeout: u64,
    pub rq_success: u64,
    pub rq_error: u64,
    pub rq_active: u64,
    pub weight: u32,
    pub zone: String,
}

/// Effective Envoy settings of a cluster, as `/config_dump` shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct SimClusterConfig {
    pub connect_timeout_ms: u64,
    /// HTTP connection-pool idle timeout; `None` = not set (Envoy default 1h).
    pub idle_timeout_ms: Option<u64>,
    pub http2: bool,
    pub max_connections: u32,
    pub max_pending_requests: u32,
    pub max_requests: u32,
    pub max_retries: u32,
    /// 0 = unlimited.
    pub max_requests_per_connection: u32,
    /// (consecutive_5xx, interval ms, base ejection ms, max ejection %) when configured.
    pub outlier_detection: Option<(u32, u64, u64, u32)>,
    /// `ISTIO_MUTUAL`-style TLS to the upstream.
    pub istio_mtls: bool,
    /// `EDS`, `STATIC`, `ORIGINAL_DST`, `STRICT_DNS`.
    pub discovery_type: String,
}

impl SimClusterConfig {
    /// What Istio pushes for a cluster no DestinationRule governs: connect timeout 10 s, no
    /// idle timeout set, limits 2^32-1, no outlier detection, HTTP/1.1.
    pub fn istio_default(discovery_type: &str, istio_mtls: bool) -> Self {
        SimClusterConfig {
            connect_timeout_ms: 10_000,
            idle_timeout_ms: None,
            http2: false,
            max_connections: u32::MAX,
            max_pending_requests: u32::MAX,
            max_requests: u32::MAX,
            max_retries: u32::MAX,
            max_requests_per_connection: 0,
            outlier_detection: None,
            istio_mtls,
            discovery_type: discovery_type.to_string(),
        }
    }
}

/// A route entry of the client's route configuration for this cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct SimRoute {
    /// Route configuration name (the port, `8080`).
    pub route_config: String,
    /// Virtual host name `inventory-svc.prod.svc.cluster.local:8080`.
    pub virtual_host: String,
    pub domains: Vec<String>,
    /// `None` = `0s` (no timeout).
    pub timeout_ms: Option<u64>,
    pub num_retries: u32,
    pub per_try_timeout_ms: Option<u64>,
    pub retry_on: String,
}

/// One Envoy cluster of a sidecar.
#[derive(Debug, Clone, PartialEq)]
pub struct SimCluster {
    /// Full Envoy name: `outbound|8080||inventory-svc.prod.svc.cluster.local`.
    pub name: String,
    /// Counters by stat suffix (`upstream_rq_timeout`, `upstream_rq_504`, …).
    pub counters: BTreeMap<String, u64>,
    /// Gauges by stat suffix (`membership_healthy`, `upstream_cx_active`, …).
    pub gauges: BTreeMap<String, u64>,
    /// Histograms by stat suffix (`upstream_rq_time`, `upstream_cx_connect_ms`, …).
    pub histograms: BTreeMap<String, SimHistogram>,
    pub hosts: Vec<SimHost>,
    pub config: SimClusterConfig,
    pub routes: Vec<SimRoute>,
}

/// One labelled `istio_requests_total` series of a sidecar.
#[derive(Debug, Clone, PartialEq)]
pub struct SimIstioRequests {
    /// `source` (client side) or `destination` (server side).
    pub reporter: String,
    pub source_workload: String,
    pub source_namespace: String,
    pub destination_service: String,
    pub destination_workload: String,
    pub destination_namespace: String,
    pub response_code: u16,
    /// Envoy response flags: `-`, `UT`, `UO`, `UF`, `UC`, `UH`, `DC`, `URX`…
    pub response_flags: String,
    pub count: u64,
}

/// Everything one simulated sidecar's Envoy admin serves at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyState {
    pub pod: String,
    pub namespace: String,
    pub pod_ip: String,
    /// `1.30.4`.
    pub envoy_version: String,
    /// `1.22.3`.
    pub istio_version: String,
    pub uptime_secs: u64,
    pub inclusion: StatsInclusion,
    pub clusters: Vec<SimCluster>,
    /// Proxy-wide stats by full name (`cluster_manager.cds.update_success`, …); `server.*`
    /// stats are derived from the fields above by the emulator.
    pub proxy_counters: BTreeMap<String, u64>,
    pub istio_requests: Vec<SimIstioRequests>,
}

/// A simulated pod as the Kubernetes API serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimPod {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub ip: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Has an `istio-proxy` container.
    pub meshed: bool,
    /// `Running`, `Pending`, …
    pub phase: String,
    pub ready: bool,
    pub restarts: u32,
    /// Seconds since the simulated epoch the pod started.
    pub started_at_secs: u64,
}

/// A simulated Service.
#[derive(Debug, Clone, PartialEq)]
pub struct SimService {
    pub name: String,
    pub namespace: String,
    pub cluster_ip: String,
    /// (port name, port, target port).
    pub ports: Vec<(String, u16, u16)>,
    pub selector: BTreeMap<String, String>,
}

/// What the simulated API server serves. Istio objects are kept as JSON as the API returns
/// them (`apiVersion`, `kind`, `metadata`, `spec`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct World {
    pub namespaces: Vec<String>,
    pub pods: Vec<SimPod>,
    pub services: Vec<SimService>,
    pub destination_rules: Vec<serde_json::Value>,
    pub virtual_services: Vec<serde_json::Value>,
    /// Indices into `pods` of pods deleted from the API (`Simulation::delete_pod`). They stay
    /// in `pods` so that indices keep matching the traffic model, but are never served.
    pub deleted: BTreeSet<usize>,
}

impl World {
    /// The pods the API serves: every pod not deleted.
    pub fn served_pods(&self) -> impl Iterator<Item = &SimPod> {
        (self.pods.iter().enumerate())
            .filter(|(i, _)| !self.deleted.contains(i))
            .map(|(_, pod)| pod)
    }
}
