//! The snapshot types. Everything is plain data that serialises to the JSON documented in
//! `docs/SNAPSHOT-JSON.md`; nothing here computes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config_summary::ConfigSummary;
use super::envoy_view::{ConfigView, EndpointView};
use super::source::SourceState;
use crate::envoy::ClusterKey;

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
    pub counters: BTreeMap<String, CounterWindow>,
    pub gauges: BTreeMap<String, f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_rq_time_p99_ms: Option<f64>,
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
    pub counters: BTreeMap<String, CounterWindow>,
    /// Latest values of the tracked gauges.
    pub gauges: BTreeMap<String, GaugeView>,
    /// The worst (highest) client p99 of `upstream_rq_time`, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_rq_time_p99_ms: Option<f64>,
    /// Endpoint health from `/clusters` (the freshest client's view; counters summed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<EndpointView>,
    /// The Istio configuration that applies, with sources and Envoy's effective values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigSummary>,
    /// Envoy's effective settings from a client's `/config_dump`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_config: Option<ConfigView>,
    /// Per client pod, when asked for (drill-down).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_pod: Vec<PodClusterView>,
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
}

impl MeshSnapshot {
    pub fn cluster(&self, name: &str) -> Option<&ClusterSnapshot> {
        self.clusters.iter().find(|c| c.key.name == name)
    }
}
