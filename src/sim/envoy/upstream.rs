//! What `/clusters` and `/config_dump` both derive from a [`SimCluster`]: whether it is one of
//! Istio's bootstrap (static) clusters, its EDS service name, the DNS name of a `STRICT_DNS`
//! cluster, circuit-breaker limits per priority, host addresses and health flags.
//!
//! Istio's bootstrap defines `agent`, `prometheus_stats`, `sds-grpc` and `xds-grpc`; everything
//! else comes over CDS (`added_via_api`). A host address is `ip:port`, `[ipv6]:port`, or a
//! pipe path (xds-grpc's `./etc/istio/proxy/XDS`). The HIGH-priority limits are Envoy's
//! defaults (1024/1024/1024/3) except for `xds-grpc`, whose bootstrap sets both priorities.

use crate::sim::model::{SimCluster, SimHost};

/// Clusters defined in Istio's sidecar bootstrap rather than sent by istiod.
const BOOTSTRAP_CLUSTERS: [&str; 4] = ["agent", "prometheus_stats", "sds-grpc", "xds-grpc"];

/// Envoy's circuit-breaker defaults for a priority without explicit thresholds.
pub(super) const ENVOY_DEFAULT_LIMITS: Limits = Limits {
    max_connections: 1024,
    max_pending_requests: 1024,
    max_requests: 1024,
    max_retries: 3,
};

/// Circuit-breaker limits of one priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Limits {
    pub max_connections: u32,
    pub max_pending_requests: u32,
    pub max_requests: u32,
    pub max_retries: u32,
}

/// True for Istio's bootstrap clusters (static, `added_via_api: false`).
pub(super) fn is_bootstrap(cluster: &SimCluster) -> bool {
    BOOTSTRAP_CLUSTERS.contains(&cluster.name.as_str())
}

/// The EDS service name: Istio uses the cluster name for EDS clusters.
pub(super) fn eds_service_name(cluster: &SimCluster) -> Option<&str> {
    (cluster.config.discovery_type == "EDS").then_some(cluster.name.as_str())
}

/// The DNS name a `STRICT_DNS` cluster resolves: the host part of Istio's cluster name.
pub(super) fn dns_hostname(cluster: &SimCluster) -> Option<&str> {
    if cluster.config.discovery_type != "STRICT_DNS" {
        return None;
    }
    cluster.name.rsplit('|').next().filter(|h| !h.is_empty())
}

/// The DEFAULT-priority limits, from the cluster config.
pub(super) fn default_limits(cluster: &SimCluster) -> Limits {
    let c = &cluster.config;
    Limits {
        max_connections: c.max_connections,
        max_pending_requests: c.max_pending_requests,
        max_requests: c.max_requests,
        max_retries: c.max_retries,
    }
}

/// The HIGH-priority limits (see the module header).
pub(super) fn high_limits(cluster: &SimCluster) -> Limits {
    if cluster.name == "xds-grpc" {
        Limits {
            max_retries: ENVOY_DEFAULT_LIMITS.max_retries,
            ..default_limits(cluster)
        }
    } else {
        ENVOY_DEFAULT_LIMITS
    }
}

/// A host address split for protobuf's `Address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HostAddress<'a> {
    Socket { ip: &'a str, port: u16 },
    Pipe(&'a str),
}

/// Reads `10.4.1.12:8080`, `[fd00::1]:8080` or a pipe path.
pub(super) fn parse_address(address: &str) -> HostAddress<'_> {
    let split = match address.strip_prefix('[') {
        Some(v6) => v6.split_once("]:"),
        None => address.rsplit_once(':').filter(|(ip, _)| !ip.contains(':')),
    };
    match split.and_then(|(ip, port)| Some((ip, port.parse().ok()?))) {
        Some((ip, port)) => HostAddress::Socket { ip, port },
        None => HostAddress::Pipe(address),
    }
}

/// Envoy's `health_flags` text: `healthy`, or the failed flags run together
/// (`/failed_active_hc/failed_outlier_check`).
pub(super) fn health_flags_text(host: &SimHost) -> String {
    if host.health_flags.is_empty() {
        return "healthy".to_string();
    }
    (host.health_flags.iter())
        .map(|f| format!("/{}", f.trim_start_matches('/')))
        .collect()
}

/// True when the host carries health flag `flag` (with or without its leading `/`).
pub(super) fn has_flag(host: &SimHost, flag: &str) -> bool {
    (host.health_flags.iter()).any(|f| f.trim_start_matches('/') == flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            parse_address("10.4.1.12:8080"),
            HostAddress::Socket {
                ip: "10.4.1.12",
                port: 8080
            }
        );
        assert_eq!(
            parse_address("[2600:1f18::1]:443"),
            HostAddress::Socket {
                ip: "2600:1f18::1",
                port: 443
            }
        );
        assert_eq!(
            parse_address("./etc/istio/proxy/XDS"),
            HostAddress::Pipe("./etc/istio/proxy/XDS")
        );
        assert_eq!(parse_address("fd00::1"), HostAddress::Pipe("fd00::1"));
    }
}
