//! `DestinationRule` spec (`networking.istio.io` v1, v1beta1 and v1alpha3 share the schema for
//! every field modelled here). Field docs summarise istio/api `destination_rule.proto`.
//!
//! Every struct is `#[serde(default)]` and ignores unknown fields, so newer Istio fields load.
//! Durations are `Option<Duration>` read from Istio's string form and written as milliseconds
//! (see [`super::duration`]). Fields Istio leaves unset stay `None`: defaults are applied by
//! [`super::resolve()`], which marks them as defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The spec of a DestinationRule.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DestinationRule {
    /// Service host; short names (`reviews`) are relative to the rule's namespace. Required.
    pub host: String,
    pub traffic_policy: Option<TrafficPolicy>,
    pub subsets: Vec<Subset>,
    /// Namespaces that see the rule: `.` = own, `*` = all; empty = all (Istio's default).
    pub export_to: Vec<String>,
    /// Applies the rule only to matching workloads in its own namespace.
    pub workload_selector: Option<WorkloadSelector>,
}

/// A named set of endpoints (`version: v1`) with an optional policy override.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Subset {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub traffic_policy: Option<TrafficPolicy>,
}

/// Workload labels a DestinationRule is restricted to.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WorkloadSelector {
    pub match_labels: BTreeMap<String, String>,
}

/// Connection pool, outlier detection, load balancing and TLS for a host (or a subset).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TrafficPolicy {
    /// Kept as JSON: `simple`, `consistentHash`, `localityLbSetting`, `warmup`, …
    pub load_balancer: Option<Value>,
    pub connection_pool: Option<ConnectionPoolSettings>,
    pub outlier_detection: Option<OutlierDetection>,
    pub tls: Option<ClientTlsSettings>,
    /// Per-port policies; a matching entry replaces the four sections above wholesale.
    pub port_level_settings: Vec<PortTrafficPolicy>,
}

/// The policy for one destination port.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PortTrafficPolicy {
    pub port: Option<PortSelector>,
    pub load_balancer: Option<Value>,
    pub connection_pool: Option<ConnectionPoolSettings>,
    pub outlier_detection: Option<OutlierDetection>,
    pub tls: Option<ClientTlsSettings>,
}

/// `port: {number: 8080}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PortSelector {
    pub number: u32,
}

/// `connectionPool`: TCP and HTTP circuit-breaker settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionPoolSettings {
    pub tcp: Option<TcpSettings>,
    pub http: Option<HttpSettings>,
}

/// `connectionPool.tcp`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpSettings {
    /// Max HTTP/1 or TCP connections per destination host (default 2^32-1).
    pub max_connections: Option<u32>,
    /// TCP connect timeout (default 10s).
    #[serde(with = "super::duration::option")]
    pub connect_timeout: Option<Duration>,
    pub tcp_keepalive: Option<TcpKeepalive>,
    /// Connection lifetime cap (default none).
    #[serde(with = "super::duration::option")]
    pub max_connection_duration: Option<Duration>,
    /// TCP idle timeout (default 1h, `0s` disables).
    #[serde(with = "super::duration::option")]
    pub idle_timeout: Option<Duration>,
}

/// `connectionPool.tcp.tcpKeepalive` (defaults come from the OS).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TcpKeepalive {
    pub probes: Option<u32>,
    #[serde(with = "super::duration::option")]
    pub time: Option<Duration>,
    #[serde(with = "super::duration::option")]
    pub interval: Option<Duration>,
}

/// `connectionPool.http`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpSettings {
    /// Requests queued waiting for a connection (default 2^32-1).
    pub http1_max_pending_requests: Option<u32>,
    /// Active requests to the destination (default 2^32-1).
    pub http2_max_requests: Option<u32>,
    /// Requests per connection; 1 disables keep-alive; 0 = unlimited (default).
    pub max_requests_per_connection: Option<u32>,
    /// Outstanding retries across the cluster (default 2^32-1).
    pub max_retries: Option<u32>,
    /// Upstream connection idle timeout (default 1h).
    #[serde(with = "super::duration::option")]
    pub idle_timeout: Option<Duration>,
    /// `DEFAULT`, `DO_NOT_UPGRADE` or `UPGRADE`.
    pub h2_upgrade_policy: Option<String>,
    pub use_client_protocol: Option<bool>,
    pub max_concurrent_streams: Option<u32>,
}

/// `outlierDetection`: passive health checking (ejection of failing hosts).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OutlierDetection {
    /// Consecutive 5xx before ejection (default 5; 0 disables).
    pub consecutive_5xx_errors: Option<u32>,
    /// Consecutive 502/503/504 before ejection (default off).
    pub consecutive_gateway_errors: Option<u32>,
    /// Deprecated: Istio maps it to gateway errors and turns 5xx ejection off.
    pub consecutive_errors: Option<u32>,
    /// Ejection sweep interval (default 10s).
    #[serde(with = "super::duration::option")]
    pub interval: Option<Duration>,
    /// Minimum ejection time, multiplied by the times ejected (default 30s).
    #[serde(with = "super::duration::option")]
    pub base_ejection_time: Option<Duration>,
    /// Cap on ejected hosts in percent (default 10).
    pub max_ejection_percent: Option<u32>,
    /// Below this healthy percentage, outlier detection is disabled (default 0).
    pub min_health_percent: Option<u32>,
    pub split_external_local_origin_errors: Option<bool>,
    /// Used only with `splitExternalLocalOriginErrors` (default 5).
    pub consecutive_local_origin_failures: Option<u32>,
}

/// `tls`: how the client sidecar talks TLS to the upstream.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClientTlsSettings {
    /// `DISABLE`, `SIMPLE`, `MUTUAL` or `ISTIO_MUTUAL`.
    pub mode: Option<String>,
    pub sni: Option<String>,
    pub subject_alt_names: Vec<String>,
    pub credential_name: Option<String>,
    pub client_certificate: Option<String>,
    pub private_key: Option<String>,
    pub ca_certificates: Option<String>,
    pub insecure_skip_verify: Option<bool>,
}

impl DestinationRule {
    /// The subset called `name`.
    pub fn subset(&self, name: &str) -> Option<&Subset> {
        self.subsets.iter().find(|s| s.name == name)
    }
}

impl TrafficPolicy {
    /// The port-level entry for `port`, if any (Istio takes the first match).
    pub fn port_level(&self, port: u16) -> Option<&PortTrafficPolicy> {
        self.port_level_settings.iter().find(|p| {
            p.port
                .as_ref()
                .is_some_and(|sel| sel.number == u32::from(port))
        })
    }
}
