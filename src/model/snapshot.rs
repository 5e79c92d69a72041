//! The snapshot types. Everything is plain data that serialises to the JSON documented in
//! `docs/SNAPSHOT-JSON.md`; nothing here computes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config_summary::ConfigSummary;
use super::envoy_view::{ConfigView, EndpointView};
use super::source::SourceState;
pub use super::stat_map::StatMap;
use crate::envoy::ClusterKey;

/// A tracked stat's name as a map key: shared with the store's [`StatSpec`](crate::metrics::StatSpec),
/// so the thousands of per-pod windows a rebuild makes do not each copy their names.
pub type StatName = std::sync::Arc<str>;

/// A counter over the snapshot window, summed over the client pods that have it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CounterWindow {
    /// Increase over the window (restarts and resets handled: never negative).
    pub increase: u64,
    /// Per second over the time the increase covers; `None` when no time was covered.
    pub rate: Option<f64>,
    /// Restarts or counter resets seen in the window.
    pub resets: u32,
    /// Client pods that contributed (had at least two samples in the window).
    pub pods: usize,
}

/// A gauge's latest value across the client pods that report it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GaugeView {
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub pods: usize,
}

/// One client pod's view of a cluster (the drill-down, built on demand).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodClusterView {
    pub pod: String,
    pub counters: StatMap<CounterWindow>,
    pub gauges: StatMap<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_rq_time_p99_ms: Option<f64>,
}

/// Requests with one response code and flag set over the window, from
/// `istio_requests_total` (recorded even without the per-cluster stats opt-in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestWindow {
    /// `source` (the client sidecar reported it) or `destination` (the server sidecar).
    pub reporter: String,
    /// HTTP status as text; `0` when no response was sent (e.g. `DC`).
    pub response_code: String,
    /// Envoy response flags, `-` for none, comma-separated when several (`UT,URX`).
    pub response_flags: String,
    pub window: CounterWindow,
}

impl RequestWindow {
    /// True when `flag` is one of this series' response flags.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.response_flags.split(',').any(|f| f == flag)
    }
}

/// The server side of the calls to a service: the destination pods' sidecars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerSide {
    /// Pods whose sidecar reported calls to this service (reporter=destination).
    pub pods: Vec<String>,
    /// Their inbound cluster (`inbound|8080||`), when identified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// That inbound cluster's window counters summed over `pods` (absent: not collected).
    pub counters: BTreeMap<StatName, CounterWindow>,
    /// The server sidecars' `istio_requests_total` series for this service.
    pub requests: Vec<RequestWindow>,
}

/// Per-sidecar facts that are not about one cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyView {
    pub pod: String,
    /// Requests this sidecar sent (reporter=source), all destinations; absent: not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbound_requests: Option<CounterWindow>,
    /// Requests this sidecar received (reporter=destination).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbound_requests: Option<CounterWindow>,
    /// Proxy-wide counters (`cluster_manager.cds.update_rejected`, …).
    pub counters: BTreeMap<StatName, CounterWindow>,
}

/// A DestinationRule subset with its own `trafficPolicy`, and the routes that use it
/// (HINTS.md R21: a subset policy is active only when a route targets the subset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsetPolicy {
    /// `namespace/name` of the DestinationRule.
    pub destination_rule: String,
    pub host: String,
    pub subset: String,
    /// The policy sections the subset sets (`connectionPool`, `outlierDetection`, `tls`, …).
    pub sections: Vec<String>,
    /// `VirtualService ns/name http[i]` routes whose destination names this subset.
    pub routed_by: Vec<String>,
}

/// One upstream cluster, aggregated over the client pods that have it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterSnapshot {
    #[serde(flatten)]
    pub key: ClusterKey,
    /// `inventory-svc.prod:8080`-style label.
    pub label: String,
    /// Client pods whose sidecar has this cluster.
    pub clients: Vec<String>,
    /// Window deltas and rates of the tracked counters. A counter that no client collected is
    /// absent (not collected), never 0.
    pub counters: BTreeMap<StatName, CounterWindow>,
    /// Latest values of the tracked gauges.
    pub gauges: BTreeMap<StatName, GaugeView>,
    /// The worst (highest) client p99 of `upstream_rq_time`, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_rq_time_p99_ms: Option<f64>,
    /// Endpoint health from `/clusters` (the freshest client's view; counters summed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<EndpointView>,
    /// The Istio configuration that applies, with sources and Envoy's effective values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Box<ConfigSummary>>,
    /// Envoy's effective settings from a client's `/config_dump`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_config: Option<Box<ConfigView>>,
    /// Per client pod, when asked for (drill-down).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_pod: Vec<PodClusterView>,
    /// The client sidecars' `istio_requests_total` series for this cluster's service
    /// (reporter=source). The metric has no port or subset, so a service's series are
    /// attached to one of its clusters: the busiest (see `docs/SNAPSHOT-JSON.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<RequestWindow>,
    /// The destination pods' view of the same calls, with the requests above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerSide>,
}

impl ClusterSnapshot {
    /// The window increase of a counter, `None` when not collected.
    pub fn increase(&self, stat: &str) -> Option<u64> {
        self.counters.get(stat).map(|c| c.increase)
    }

    /// The summed rate of a counter, `None` when not collected or no time covered.
    pub fn rate(&self, stat: &str) -> Option<f64> {
        self.counters.get(stat).and_then(|c| c.rate)
    }
}

/// The immutable value every screen, snapshot file and check is made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeshSnapshot {
    pub meshtop_version: String,
    /// Kubernetes context, when collected live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Namespace collected (`None`: all namespaces or captures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Wall-clock time of the snapshot in Unix milliseconds, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_at_unix_ms: Option<u64>,
    /// The window deltas and rates cover, in seconds.
    pub window_seconds: f64,
    /// Every source and how collecting from it went.
    pub sources: Vec<SourceState>,
    /// Upstream clusters, outbound services first.
    pub clusters: Vec<ClusterSnapshot>,
    /// Problems with the Istio objects (malformed, skipped), by source.
    pub config_issues: Vec<String>,
    /// Per-sidecar facts (requests sent and received, config rejections).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proxies: Vec<ProxyView>,
    /// DestinationRule subsets with their own traffic policy and the routes using them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subset_policies: Vec<SubsetPolicy>,
}

impl MeshSnapshot {
    pub fn cluster(&self, name: &str) -> Option<&ClusterSnapshot> {
        self.clusters.iter().find(|c| c.key.name == name)
    }

    /// The collection state of a pod's sidecar.
    pub fn source(&self, pod: &str) -> Option<&SourceState> {
        self.sources.iter().find(|s| s.pod == pod)
    }

    /// The per-sidecar facts of a pod.
    pub fn proxy(&self, pod: &str) -> Option<&ProxyView> {
        self.proxies.iter().find(|p| p.pod == pod)
    }
}
