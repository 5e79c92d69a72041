//! `/clusters` admin output, text and `?format=json`: per cluster the circuit-breaker
//! thresholds, the outlier-detection summary and `added_via_api`; per host the counters
//! (`rq_timeout`, `rq_error`, `cx_connect_fail`, …), health flags, weight, locality and
//! success rate. These are present even when stock Istio records no per-cluster `/stats`.
//!
//! Pure: the parsers take the captured text and return a [`ClustersDump`]. A damaged line or
//! JSON object becomes a [`LineIssue`] and parsing goes on; only an input with nothing usable is
//! a [`ParseError`](super::ParseError). `clusters/text.rs` and `clusters/json.rs` hold the two
//! parsers; this file holds the model they share. To support a new per-host field, add it to
//! [`HostStatus`], to `parse_host_field` (text) and to `host_from_json` (JSON).

mod json;
mod json_objects;
mod reparse;
mod text;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::{ClusterKey, LineIssue};

pub use json::parse_clusters_json;
pub use reparse::{ClustersReparser, KeepBudget};
pub use text::parse_clusters_text;

/// Which `/clusters` rendering a dump was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClustersFormat {
    Text,
    Json,
}

/// Everything one `/clusters` capture says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClustersDump {
    /// Clusters in the order they first appear in the capture; shared, so a poller's next
    /// dump keeps an unchanged cluster without copying it (`ClustersReparser`).
    pub clusters: Vec<Arc<ClusterStatus>>,
    /// Lines (text) or objects (JSON) that were skipped or only partly understood.
    pub issues: Vec<LineIssue>,
    pub format: ClustersFormat,
    /// `version_info::…` (the last CDS version, or `static`), printed by older Envoys only.
    pub version_info: Option<String>,
    /// Text: the number of non-empty lines taken into the model. Every other non-empty line
    /// is in `issues`, so nothing is dropped silently. JSON: 0.
    pub parsed_lines: usize,
}

impl ClustersDump {
    fn empty(format: ClustersFormat) -> Self {
        ClustersDump {
            clusters: Vec::new(),
            issues: Vec::new(),
            format,
            version_info: None,
            parsed_lines: 0,
        }
    }

    /// The cluster with this exact Envoy name.
    pub fn cluster(&self, name: &str) -> Option<&ClusterStatus> {
        self.clusters
            .iter()
            .find(|c| c.name == name)
            .map(Arc::as_ref)
    }

    /// Hosts over all clusters (a host in two clusters counts twice).
    pub fn host_count(&self) -> usize {
        self.clusters.iter().map(|c| c.hosts.len()).sum()
    }
}

/// Envoy's routing priority of a circuit-breaker threshold set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoutingPriority {
    /// `default_priority::…` in text; no `priority` key (or `DEFAULT`) in JSON.
    Default,
    /// `high_priority::…` in text; `"priority": "HIGH"` in JSON.
    High,
}

/// Circuit-breaker limits of one priority. `None`: the capture did not report that limit.
/// Envoy prints 4294967295 for "unlimited".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CircuitThresholds {
    pub priority: RoutingPriority,
    pub max_connections: Option<u64>,
    pub max_pending_requests: Option<u64>,
    pub max_requests: Option<u64>,
    pub max_retries: Option<u64>,
}

impl CircuitThresholds {
    fn new(priority: RoutingPriority) -> Self {
        CircuitThresholds {
            priority,
            max_connections: None,
            max_pending_requests: None,
            max_requests: None,
            max_retries: None,
        }
    }
}

/// The cluster's outlier detector, when one is installed. Values are percentages (0–100);
/// `None` when absent or when Envoy printed -1 (not enough requests in the last interval).
/// The text format has all four; the JSON format only has the ejection thresholds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutlierSummary {
    pub success_rate_average: Option<f64>,
    pub success_rate_ejection_threshold: Option<f64>,
    pub local_origin_success_rate_average: Option<f64>,
    pub local_origin_success_rate_ejection_threshold: Option<f64>,
}

/// One upstream cluster as `/clusters` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterStatus {
    pub name: String,
    /// What the name means (`outbound|80||reviews.prod.svc.cluster.local`, `xds-grpc`, …).
    pub key: ClusterKey,
    /// `true` for CDS clusters, `false` for static ones; `None` when the text had no line.
    pub added_via_api: Option<bool>,
    /// One entry per priority, in the order the capture lists them (default, then high).
    pub thresholds: Vec<CircuitThresholds>,
    pub outlier: OutlierSummary,
    /// Hosts in the order they first appear.
    pub hosts: Vec<HostStatus>,
    /// Other cluster-wide `cluster::key::value` lines of the text format
    /// (`observability_name`, `eds_service_name`), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<(String, String)>,
}

impl ClusterStatus {
    fn new(name: &str) -> Self {
        ClusterStatus {
            name: name.to_string(),
            key: ClusterKey::parse(name),
            added_via_api: None,
            thresholds: Vec::new(),
            outlier: OutlierSummary::default(),
            hosts: Vec::new(),
            attributes: Vec::new(),
        }
    }

    /// Hosts with no failure flag (see [`HealthFlags::is_healthy`]).
    pub fn healthy_count(&self) -> usize {
        self.hosts.iter().filter(|h| h.health.is_healthy()).count()
    }

    pub fn total_count(&self) -> usize {
        self.hosts.len()
    }

    /// Hosts currently ejected by outlier detection (`/failed_outlier_check`).
    pub fn ejected_count(&self) -> usize {
        self.hosts
            .iter()
            .filter(|h| h.health.failed_outlier_check)
            .count()
    }

    /// The thresholds for one priority, if the capture reported them.
    pub fn threshold(&self, priority: RoutingPriority) -> Option<&CircuitThresholds> {
        self.thresholds.iter().find(|t| t.priority == priority)
    }

    /// Sums one per-host counter over the hosts that report it; `None` when no host does.
    pub fn sum_host(&self, counter: impl Fn(&HostCounters) -> Option<u64>) -> Option<u64> {
        self.hosts
            .iter()
            .filter_map(|h| counter(&h.stats))
            .fold(None, |sum, v| Some(sum.unwrap_or(0u64).saturating_add(v)))
    }

    /// Requests that timed out, over all hosts.
    pub fn rq_timeout_total(&self) -> Option<u64> {
        self.sum_host(|s| s.rq_timeout)
    }

    /// Requests answered with a 5xx, over all hosts.
    pub fn rq_error_total(&self) -> Option<u64> {
        self.sum_host(|s| s.rq_error)
    }

    /// Failed connection attempts, over all hosts.
    pub fn cx_connect_fail_total(&self) -> Option<u64> {
        self.sum_host(|s| s.cx_connect_fail)
    }
}

/// Per-host counters and gauges, cumulative since the host was added. `None`: not reported.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HostCounters {
    pub cx_total: Option<u64>,
    pub cx_active: Option<u64>,
    pub cx_connect_fail: Option<u64>,
    pub rq_total: Option<u64>,
    pub rq_timeout: Option<u64>,
    pub rq_success: Option<u64>,
    pub rq_error: Option<u64>,
    pub rq_active: Option<u64>,
    /// Numeric per-host stats this version does not know, in capture order.
    pub extra: Vec<(String, u64)>,
}

impl HostCounters {
    /// Whether `name` is one of the per-host stats Envoy reports (`rq_timeout`, …).
    fn is_known(name: &str) -> bool {
        matches!(
            name,
            "cx_total"
                | "cx_active"
                | "cx_connect_fail"
                | "rq_total"
                | "rq_timeout"
                | "rq_success"
                | "rq_error"
                | "rq_active"
        )
    }

    /// The slot for a known stat name, `None` for an unknown one.
    fn slot(&mut self, name: &str) -> Option<&mut Option<u64>> {
        Some(match name {
            "cx_total" => &mut self.cx_total,
            "cx_active" => &mut self.cx_active,
            "cx_connect_fail" => &mut self.cx_connect_fail,
            "rq_total" => &mut self.rq_total,
            "rq_timeout" => &mut self.rq_timeout,
            "rq_success" => &mut self.rq_success,
            "rq_error" => &mut self.rq_error,
            "rq_active" => &mut self.rq_active,
            _ => return None,
        })
    }

    /// Records a stat by name; unknown names go to `extra`.
    fn set(&mut self, name: &str, value: u64) {
        match self.slot(name) {
            Some(slot) => *slot = Some(value),
            None => self.extra.push((name.to_string(), value)),
        }
    }
}

/// A host's health flags (`health_flags::/failed_active_hc/failed_outlier_check` in text,
/// `health_status` in JSON). All false and `other` empty means Envoy printed `healthy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HealthFlags {
    /// Failed active health checking.
    pub failed_active_hc: bool,
    /// EDS marked it unhealthy (JSON: `UNHEALTHY` or `TIMEOUT`).
    pub failed_eds_health: bool,
    /// Ejected by outlier detection.
    pub failed_outlier_check: bool,
    /// EDS says it is draining (`/eds_status_draining`, JSON `DRAINING`).
    pub eds_status_draining: bool,
    /// Active health checking says degraded.
    pub degraded_active_hc: bool,
    /// EDS says degraded.
    pub degraded_eds_health: bool,
    /// Removed by EDS but kept while it has connections or health checks.
    pub pending_dynamic_removal: bool,
    /// Not yet health-checked for the first time.
    pub pending_active_hc: bool,
    /// Excluded because a health check response asked for immediate failure.
    pub excluded_via_immediate_hc_fail: bool,
    /// The last active health check timed out.
    pub active_hc_timeout: bool,
    /// Flags this version does not know, as printed (without the leading `/`).
    pub other: Vec<String>,
}

impl HealthFlags {
    /// Sets the flag named as in the text format (`failed_outlier_check`); unknown names go
    /// to `other`.
    fn set(&mut self, flag: &str) {
        let slot = match flag {
            "failed_active_hc" => &mut self.failed_active_hc,
            "failed_eds_health" => &mut self.failed_eds_health,
            "failed_outlier_check" => &mut self.failed_outlier_check,
            "eds_status_draining" => &mut self.eds_status_draining,
            "degraded_active_hc" => &mut self.degraded_active_hc,
            "degraded_eds_health" => &mut self.degraded_eds_health,
            "pending_dynamic_removal" => &mut self.pending_dynamic_removal,
            "pending_active_hc" => &mut self.pending_active_hc,
            "excluded_via_immediate_hc_fail" => &mut self.excluded_via_immediate_hc_fail,
            "active_hc_timeout" => &mut self.active_hc_timeout,
            other => {
                self.other.push(other.to_string());
                return;
            }
        };
        *slot = true;
    }

    /// Envoy's "healthy": none of the flags that make a host unhealthy (failed active health
    /// check, failed EDS health, outlier ejection, EDS draining). Degraded, pending and unknown
    /// flags do not count.
    pub fn is_healthy(&self) -> bool {
        !(self.failed_active_hc
            || self.failed_eds_health
            || self.failed_outlier_check
            || self.eds_status_draining)
    }

    /// Healthy but degraded: Envoy only sends traffic here when too few hosts are healthy.
    pub fn is_degraded(&self) -> bool {
        self.is_healthy() && (self.degraded_active_hc || self.degraded_eds_health)
    }
}

/// Envoy's text rendering: `healthy`, or every set flag with a leading `/` in Envoy's order
/// (`/failed_active_hc/failed_outlier_check`), unknown flags last.
impl fmt::Display for HealthFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known = [
            (self.failed_active_hc, "failed_active_hc"),
            (self.failed_outlier_check, "failed_outlier_check"),
            (self.failed_eds_health, "failed_eds_health"),
            (self.degraded_active_hc, "degraded_active_hc"),
            (self.degraded_eds_health, "degraded_eds_health"),
            (self.pending_dynamic_removal, "pending_dynamic_removal"),
            (self.pending_active_hc, "pending_active_hc"),
            (
                self.excluded_via_immediate_hc_fail,
                "excluded_via_immediate_hc_fail",
            ),
            (self.active_hc_timeout, "active_hc_timeout"),
            (self.eds_status_draining, "eds_status_draining"),
        ];
        let set = known.iter().filter(|(on, _)| *on).map(|(_, name)| *name);
        let mut any = false;
        for name in set.chain(self.other.iter().map(String::as_str)) {
            write!(f, "/{name}")?;
            any = true;
        }
        if !any {
            f.write_str("healthy")?;
        }
        Ok(())
    }
}

/// One upstream host (endpoint) of a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostStatus {
    /// `10.0.0.1:8080`, `[fd00::1]:8080`, or a pipe path such as `./etc/istio/proxy/SDS`.
    pub address: String,
    pub stats: HostCounters,
    pub health: HealthFlags,
    /// Load-balancing weight; `None` when not reported.
    pub weight: Option<u32>,
    /// Priority level within the cluster (0 is the highest).
    pub priority: Option<u32>,
    /// Text format only.
    pub canary: Option<bool>,
    /// Locality; empty when the endpoint has none (`region::`).
    pub region: String,
    pub zone: String,
    pub sub_zone: String,
    /// The endpoint's hostname; usually empty for Kubernetes pods.
    pub hostname: String,
    /// Outlier-detection success rate (0–100); `None` when Envoy has too little data (-1).
    pub success_rate: Option<f64>,
    /// The same for locally originated failures (connect failures, timeouts).
    pub local_origin_success_rate: Option<f64>,
}

impl HostStatus {
    fn new(address: &str) -> Self {
        HostStatus {
            address: address.to_string(),
            stats: HostCounters::default(),
            health: HealthFlags::default(),
            weight: None,
            priority: None,
            canary: None,
            region: String::new(),
            zone: String::new(),
            sub_zone: String::new(),
            hostname: String::new(),
            success_rate: None,
            local_origin_success_rate: None,
        }
    }
}

/// A success rate as Envoy prints it: negative (-1) or NaN means "not enough data".
fn known_rate(value: f64) -> Option<f64> {
    (value >= 0.0).then_some(value)
}

/// The start of a long text, for messages.
fn clip(text: &str) -> &str {
    match text.char_indices().nth(80) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(address: &str, rq_timeout: Option<u64>, flags: &str) -> HostStatus {
        let mut host = HostStatus::new(address);
        host.stats.rq_timeout = rq_timeout;
        flags
            .split('/')
            .filter(|f| !f.is_empty())
            .for_each(|f| host.health.set(f));
        host
    }

    #[test]
    fn counts_and_sums_over_hosts() {
        let mut cluster = ClusterStatus::new("outbound|80||a.b.svc.cluster.local");
        assert_eq!((cluster.total_count(), cluster.healthy_count()), (0, 0));
        assert_eq!(cluster.rq_timeout_total(), None);
        cluster.hosts.push(host("1.1.1.1:80", Some(3), ""));
        cluster
            .hosts
            .push(host("1.1.1.2:80", None, "/failed_outlier_check"));
        cluster.hosts.push(host(
            "1.1.1.3:80",
            Some(u64::MAX),
            "/failed_active_hc/failed_outlier_check",
        ));
        assert_eq!(cluster.total_count(), 3);
        assert_eq!(cluster.healthy_count(), 1);
        assert_eq!(cluster.ejected_count(), 2);
        assert_eq!(cluster.rq_timeout_total(), Some(u64::MAX), "saturates");
        assert_eq!(cluster.sum_host(|s| s.rq_error), None);
    }

    #[test]
    fn health_flags_print_like_envoy() {
        assert_eq!(HealthFlags::default().to_string(), "healthy");
        let h = host("x", None, "/failed_outlier_check/failed_active_hc/mystery");
        assert_eq!(
            h.health.to_string(),
            "/failed_active_hc/failed_outlier_check/mystery"
        );
    }

    #[test]
    fn clip_cuts_on_char_boundaries() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(100);
        assert_eq!(clip(&long).chars().count(), 80);
    }
}
