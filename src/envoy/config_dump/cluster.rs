//! One Envoy `Cluster` resource (v2 `envoy.api.v2.Cluster` or v3
//! `envoy.config.cluster.v3.Cluster`) reduced to the settings meshtop explains: timeouts,
//! HTTP protocol options, circuit breakers, outlier detection, TCP keepalive and transport
//! security. Absent settings stay `None`; the `ENVOY_DEFAULT_*` constants say what Envoy uses
//! then.

use std::time::Duration;

use serde::Serialize;

use super::duration;
use super::node::Node;
use super::transport::{Transport, parse_transport};
use super::{ApiVersion, Origin};

/// Envoy's default `connect_timeout` when a cluster sets none.
pub const ENVOY_DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Envoy's default HTTP connection-pool `idle_timeout` when a cluster sets none.
pub const ENVOY_DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(3600);
/// Envoy's default for `max_connections`, `max_pending_requests` and `max_requests` when a
/// circuit-breaker threshold leaves them out (or there is no threshold at all).
pub const ENVOY_DEFAULT_CIRCUIT_BREAKER_LIMIT: u32 = 1024;
/// Envoy's default `max_retries` (concurrent retries) for a circuit-breaker threshold.
pub const ENVOY_DEFAULT_MAX_RETRIES: u32 = 3;

/// The key of the v3 HTTP protocol options in `typed_extension_protocol_options`.
const HTTP_PROTOCOL_OPTIONS: &str = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/// An upstream cluster's configuration as found in a config dump.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterConfig {
    pub name: String,
    /// Which section of the dump it came from (static, active, warming).
    pub origin: Origin,
    pub api_version: ApiVersion,
    /// The discovery type (`EDS`, `STATIC`, `STRICT_DNS`, `ORIGINAL_DST`, …) or, for a custom
    /// cluster, the `cluster_type.name` (`envoy.clusters.aggregate`). `None`: Envoy's STATIC.
    pub discovery_type: Option<String>,
    /// `None`: not set, Envoy uses [`ENVOY_DEFAULT_CONNECT_TIMEOUT`].
    #[serde(serialize_with = "duration::serialize_opt")]
    pub connect_timeout: Option<Duration>,
    pub http: HttpOptions,
    /// Thresholds per priority, in dump order. Empty: Envoy's defaults for every priority.
    pub circuit_breakers: Vec<Thresholds>,
    pub outlier_detection: Option<OutlierDetection>,
    pub tcp_keepalive: Option<TcpKeepalive>,
    pub transport: Transport,
}

impl ClusterConfig {
    /// The circuit-breaker thresholds for one priority, if the dump has them.
    pub fn thresholds(&self, priority: Priority) -> Option<&Thresholds> {
        self.circuit_breakers
            .iter()
            .find(|t| t.priority == priority)
    }
}

/// Which HTTP version Envoy speaks to the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpstreamProtocol {
    /// Nothing configured: HTTP/1.1 for HTTP traffic.
    Unset,
    Http1,
    Http2,
    Http3,
    /// The same protocol as the downstream request (`USE_DOWNSTREAM_PROTOCOL`,
    /// `use_downstream_protocol_config`): Istio's `useClientProtocol`.
    Downstream,
    /// ALPN-negotiated (`auto_config`).
    Auto,
}

/// HTTP connection-pool settings, from the v3 `HttpProtocolOptions` extension or the v2 (and
/// deprecated v3) top-level fields; the extension wins when both are present.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpOptions {
    pub protocol: UpstreamProtocol,
    /// `common_http_protocol_options.idle_timeout`; `None`: [`ENVOY_DEFAULT_IDLE_TIMEOUT`].
    #[serde(serialize_with = "duration::serialize_opt")]
    pub idle_timeout: Option<Duration>,
    #[serde(serialize_with = "duration::serialize_opt")]
    pub max_connection_duration: Option<Duration>,
    /// `None`: unlimited.
    pub max_requests_per_connection: Option<u32>,
    /// HTTP/2 `max_concurrent_streams`, when HTTP/2 options are present and set it.
    pub max_concurrent_streams: Option<u32>,
}

/// Circuit-breaker priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    Default,
    High,
}

/// One `circuit_breakers.thresholds[]` entry. `None` fields use Envoy's defaults
/// ([`ENVOY_DEFAULT_CIRCUIT_BREAKER_LIMIT`], [`ENVOY_DEFAULT_MAX_RETRIES`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Thresholds {
    pub priority: Priority,
    pub max_connections: Option<u32>,
    pub max_pending_requests: Option<u32>,
    pub max_requests: Option<u32>,
    pub max_retries: Option<u32>,
}

/// `outlier_detection`; `None` fields use Envoy's defaults (consecutive_5xx 5, interval 10s,
/// base_ejection_time 30s, max_ejection_percent 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutlierDetection {
    pub consecutive_5xx: Option<u32>,
    pub consecutive_gateway_failure: Option<u32>,
    pub consecutive_local_origin_failure: Option<u32>,
    #[serde(serialize_with = "duration::serialize_opt")]
    pub interval: Option<Duration>,
    #[serde(serialize_with = "duration::serialize_opt")]
    pub base_ejection_time: Option<Duration>,
    pub max_ejection_percent: Option<u32>,
    pub enforcing_consecutive_5xx: Option<u32>,
    pub enforcing_consecutive_gateway_failure: Option<u32>,
    pub enforcing_success_rate: Option<u32>,
    pub split_external_local_origin_errors: Option<bool>,
}

/// `upstream_connection_options.tcp_keepalive` (Envoy writes seconds as integers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TcpKeepalive {
    pub probes: Option<u32>,
    #[serde(serialize_with = "duration::serialize_opt")]
    pub time: Option<Duration>,
    #[serde(serialize_with = "duration::serialize_opt")]
    pub interval: Option<Duration>,
}

/// Reads one cluster resource. A cluster without a `name` is warned about and skipped.
pub(super) fn parse_cluster(node: &Node<'_>, origin: Origin) -> Option<ClusterConfig> {
    let Some(name) = node.string("name") else {
        node.warn("cluster without a name: skipped");
        return None;
    };
    let discovery_type = match node.object("cluster_type") {
        Some(custom) => custom.string("name"),
        None => node.string("type"),
    };
    Some(ClusterConfig {
        name,
        origin,
        api_version: ApiVersion::from_type_url(node.type_url()),
        discovery_type,
        connect_timeout: node.duration("connect_timeout"),
        http: parse_http_options(node),
        circuit_breakers: parse_circuit_breakers(node),
        outlier_detection: node.object("outlier_detection").map(|n| parse_outlier(&n)),
        tcp_keepalive: (node.object("upstream_connection_options"))
            .and_then(|n| n.object("tcp_keepalive"))
            .map(|n| parse_keepalive(&n)),
        transport: parse_transport(node),
    })
}

/// The v3 `HttpProtocolOptions` extension: under its well-known key, or any entry whose
/// `@type` names it.
fn http_protocol_extension<'a>(cluster: &Node<'a>) -> Option<Node<'a>> {
    let map = cluster.object("typed_extension_protocol_options")?;
    if let Some(ext) = map.object(HTTP_PROTOCOL_OPTIONS) {
        return Some(ext);
    }
    let keys: Vec<&String> = map.value.as_object()?.keys().collect();
    keys.into_iter().filter_map(|k| map.object(k)).find(|n| {
        n.type_url()
            .is_some_and(|t| t.ends_with(HTTP_PROTOCOL_OPTIONS))
    })
}

fn parse_http_options(cluster: &Node<'_>) -> HttpOptions {
    let ext = http_protocol_extension(cluster);
    let ext_common = ext
        .as_ref()
        .and_then(|e| e.object("common_http_protocol_options"));
    let legacy_common = cluster.object("common_http_protocol_options");
    let commons: Vec<&Node<'_>> = ext_common.iter().chain(legacy_common.iter()).collect();
    let (protocol, h2) = match ext.as_ref().and_then(protocol_from_extension) {
        Some(found) => found,
        None => legacy_protocol(cluster),
    };
    HttpOptions {
        protocol,
        idle_timeout: commons.iter().find_map(|n| n.duration("idle_timeout")),
        max_connection_duration: (commons.iter())
            .find_map(|n| n.duration("max_connection_duration")),
        max_requests_per_connection: (commons.iter())
            .find_map(|n| n.u32("max_requests_per_connection"))
            .or_else(|| cluster.u32("max_requests_per_connection")),
        max_concurrent_streams: h2.and_then(|h| h.u32("max_concurrent_streams")),
    }
}

/// The protocol chosen by the v3 extension and its HTTP/2 options, if it chooses one.
fn protocol_from_extension<'a>(ext: &Node<'a>) -> Option<(UpstreamProtocol, Option<Node<'a>>)> {
    let (protocol, config) = if let Some(explicit) = ext.object("explicit_http_config") {
        if explicit.get("http2_protocol_options").is_some() {
            (UpstreamProtocol::Http2, explicit)
        } else if explicit.get("http3_protocol_options").is_some() {
            (UpstreamProtocol::Http3, explicit)
        } else {
            (UpstreamProtocol::Http1, explicit)
        }
    } else if let Some(downstream) = ext.object("use_downstream_protocol_config") {
        (UpstreamProtocol::Downstream, downstream)
    } else {
        (UpstreamProtocol::Auto, ext.object("auto_config")?)
    };
    Some((protocol, config.object("http2_protocol_options")))
}

/// The protocol from the v2 (deprecated v3) top-level fields.
fn legacy_protocol<'a>(cluster: &Node<'a>) -> (UpstreamProtocol, Option<Node<'a>>) {
    let h2 = cluster.object("http2_protocol_options");
    let protocol = if cluster.str("protocol_selection") == Some("USE_DOWNSTREAM_PROTOCOL") {
        UpstreamProtocol::Downstream
    } else if h2.is_some() {
        UpstreamProtocol::Http2
    } else if cluster.get("http_protocol_options").is_some() {
        UpstreamProtocol::Http1
    } else {
        UpstreamProtocol::Unset
    };
    (protocol, h2)
}

fn parse_circuit_breakers(cluster: &Node<'_>) -> Vec<Thresholds> {
    let Some(breakers) = cluster.object("circuit_breakers") else {
        return Vec::new();
    };
    let items = breakers.items("thresholds");
    items.iter().filter_map(parse_thresholds).collect()
}

/// One threshold; an unknown priority is warned about and the threshold skipped.
fn parse_thresholds(node: &Node<'_>) -> Option<Thresholds> {
    Some(Thresholds {
        priority: parse_priority(node)?,
        max_connections: node.u32("max_connections"),
        max_pending_requests: node.u32("max_pending_requests"),
        max_requests: node.u32("max_requests"),
        max_retries: node.u32("max_retries"),
    })
}

/// `priority` as the enum name or its number; absent means `DEFAULT`.
fn parse_priority(node: &Node<'_>) -> Option<Priority> {
    let Some(p) = node.get("priority") else {
        return Some(Priority::Default);
    };
    match (p.value.as_str(), p.value.as_u64()) {
        (Some("DEFAULT"), _) | (_, Some(0)) => Some(Priority::Default),
        (Some("HIGH"), _) | (_, Some(1)) => Some(Priority::High),
        _ => {
            p.warn(format_args!(
                "unknown circuit-breaker priority {}: threshold skipped",
                p.value
            ));
            None
        }
    }
}

fn parse_outlier(node: &Node<'_>) -> OutlierDetection {
    OutlierDetection {
        consecutive_5xx: node.u32("consecutive_5xx"),
        consecutive_gateway_failure: node.u32("consecutive_gateway_failure"),
        consecutive_local_origin_failure: node.u32("consecutive_local_origin_failure"),
        interval: node.duration("interval"),
        base_ejection_time: node.duration("base_ejection_time"),
        max_ejection_percent: node.u32("max_ejection_percent"),
        enforcing_consecutive_5xx: node.u32("enforcing_consecutive_5xx"),
        enforcing_consecutive_gateway_failure: node.u32("enforcing_consecutive_gateway_failure"),
        enforcing_success_rate: node.u32("enforcing_success_rate"),
        split_external_local_origin_errors: node.bool("split_external_local_origin_errors"),
    }
}

fn parse_keepalive(node: &Node<'_>) -> TcpKeepalive {
    let secs = |key: &str| node.u32(key).map(|s| Duration::from_secs(u64::from(s)));
    TcpKeepalive {
        probes: node.u32("keepalive_probes"),
        time: secs("keepalive_time"),
        interval: secs("keepalive_interval"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::config_dump::parse_config_dump;
    use serde_json::{Value, json};

    /// Parses one cluster wrapped in a v3 `ClustersConfigDump`; returns it and the messages.
    fn parse_one(cluster: Value) -> (ClusterConfig, Vec<String>) {
        let dump = json!({"configs": [{
            "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
            "dynamic_active_clusters": [{"version_info": "1", "cluster": cluster}]
        }]});
        let mut dump = parse_config_dump(&dump.to_string()).unwrap();
        let messages = dump.issues.iter().map(|i| i.message.clone()).collect();
        assert_eq!(dump.clusters.len(), 1, "{messages:?}");
        (dump.clusters.remove(0), messages)
    }

    #[test]
    fn v2_cluster_with_every_setting_meshtop_reads() {
        let (c, issues) = parse_one(json!({
            "@type": "type.googleapis.com/envoy.api.v2.Cluster",
            "name": "outbound|9080||reviews.default.svc.cluster.local",
            "type": "EDS",
            "connect_timeout": "0.250s",
            "max_requests_per_connection": 100,
            "common_http_protocol_options": {"idle_timeout": "30s", "max_connection_duration": "600s"},
            "http2_protocol_options": {"max_concurrent_streams": 1073741824},
            "circuit_breakers": {"thresholds": [
                {"max_connections": 10, "max_pending_requests": 5, "max_requests": 20, "max_retries": 3},
                {"priority": "HIGH", "max_connections": 100000}
            ]},
            "outlier_detection": {
                "consecutive_5xx": 7, "interval": "10s", "base_ejection_time": "30s",
                "max_ejection_percent": 100, "enforcing_consecutive_5xx": 100,
                "consecutive_gateway_failure": 3, "enforcing_consecutive_gateway_failure": 0,
                "enforcing_success_rate": 0, "split_external_local_origin_errors": true,
                "consecutive_local_origin_failure": 4
            },
            "upstream_connection_options": {"tcp_keepalive": {
                "keepalive_time": 300, "keepalive_interval": 75, "keepalive_probes": 9
            }}
        }));
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(c.api_version, ApiVersion::V2);
        assert_eq!(c.origin, Origin::DynamicActive);
        assert_eq!(c.discovery_type.as_deref(), Some("EDS"));
        assert_eq!(c.connect_timeout, Some(Duration::from_millis(250)));
        let http = HttpOptions {
            protocol: UpstreamProtocol::Http2,
            idle_timeout: Some(Duration::from_secs(30)),
            max_connection_duration: Some(Duration::from_secs(600)),
            max_requests_per_connection: Some(100),
            max_concurrent_streams: Some(1_073_741_824),
        };
        assert_eq!(c.http, http);
        let default = Thresholds {
            priority: Priority::Default,
            max_connections: Some(10),
            max_pending_requests: Some(5),
            max_requests: Some(20),
            max_retries: Some(3),
        };
        assert_eq!(c.thresholds(Priority::Default), Some(&default));
        let high = c.thresholds(Priority::High).unwrap();
        assert_eq!(
            (high.max_connections, high.max_requests),
            (Some(100_000), None)
        );
        let od = c.outlier_detection.unwrap();
        assert_eq!(od.consecutive_5xx, Some(7));
        assert_eq!(od.consecutive_gateway_failure, Some(3));
        assert_eq!(od.consecutive_local_origin_failure, Some(4));
        assert_eq!(od.interval, Some(Duration::from_secs(10)));
        assert_eq!(od.base_ejection_time, Some(Duration::from_secs(30)));
        assert_eq!(od.max_ejection_percent, Some(100));
        assert_eq!(od.enforcing_consecutive_5xx, Some(100));
        assert_eq!(od.enforcing_consecutive_gateway_failure, Some(0));
        assert_eq!(od.enforcing_success_rate, Some(0));
        assert_eq!(od.split_external_local_origin_errors, Some(true));
        let keepalive = TcpKeepalive {
            probes: Some(9),
            time: Some(Duration::from_secs(300)),
            interval: Some(Duration::from_secs(75)),
        };
        assert_eq!(c.tcp_keepalive, Some(keepalive));
    }

    #[test]
    fn v3_http_protocol_options_extension() {
        let (c, issues) = parse_one(json!({
            "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
            "name": "outbound|7070||grpc.ns.svc.cluster.local",
            "connect_timeout": {"seconds": "10", "nanos": 0},
            "typed_extension_protocol_options": {
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "common_http_protocol_options": {
                        "idle_timeout": "3600s", "max_requests_per_connection": 1,
                        "max_connection_duration": "0.500s"
                    },
                    "explicit_http_config": {"http2_protocol_options": {"max_concurrent_streams": 100}}
                }
            },
            "max_requests_per_connection": 99
        }));
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(c.api_version, ApiVersion::V3);
        assert_eq!(c.discovery_type, None);
        assert_eq!(c.connect_timeout, Some(Duration::from_secs(10)));
        assert_eq!(c.http.protocol, UpstreamProtocol::Http2);
        assert_eq!(c.http.idle_timeout, Some(Duration::from_secs(3600)));
        assert_eq!(
            c.http.max_connection_duration,
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            c.http.max_requests_per_connection,
            Some(1),
            "the extension wins"
        );
        assert_eq!(c.http.max_concurrent_streams, Some(100));
        assert!(c.circuit_breakers.is_empty());
        assert_eq!((c.outlier_detection, c.tcp_keepalive), (None, None));
    }

    #[test]
    fn protocol_choices_of_the_v3_extension_and_the_legacy_fields() {
        let ext = |config: Value| json!({"name": "c", "typed_extension_protocol_options": {"my-key": config}});
        let with_type = |mut v: Value| {
            v["@type"] = json!(format!("type.googleapis.com/{HTTP_PROTOCOL_OPTIONS}"));
            v
        };
        let cases = [
            (
                ext(with_type(json!({"use_downstream_protocol_config": {}}))),
                UpstreamProtocol::Downstream,
            ),
            (
                ext(with_type(json!({"auto_config": {}}))),
                UpstreamProtocol::Auto,
            ),
            (
                ext(with_type(
                    json!({"explicit_http_config": {"http_protocol_options": {}}}),
                )),
                UpstreamProtocol::Http1,
            ),
            (
                ext(with_type(
                    json!({"explicit_http_config": {"http3_protocol_options": {}}}),
                )),
                UpstreamProtocol::Http3,
            ),
            (
                json!({"name": "c", "protocol_selection": "USE_DOWNSTREAM_PROTOCOL"}),
                UpstreamProtocol::Downstream,
            ),
            (
                json!({"name": "c", "http_protocol_options": {}}),
                UpstreamProtocol::Http1,
            ),
            (json!({"name": "c"}), UpstreamProtocol::Unset),
        ];
        for (cluster, want) in cases {
            let (c, issues) = parse_one(cluster.clone());
            assert_eq!(c.http.protocol, want, "{cluster}");
            assert!(issues.is_empty(), "{issues:?}");
        }
    }

    #[test]
    fn custom_cluster_type_and_numeric_priority() {
        let (c, issues) = parse_one(json!({
            "name": "agg",
            "cluster_type": {"name": "envoy.clusters.aggregate"},
            "circuit_breakers": {"thresholds": [{"priority": 1, "max_retries": "7"}, {}]}
        }));
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(
            c.discovery_type.as_deref(),
            Some("envoy.clusters.aggregate")
        );
        assert_eq!(c.thresholds(Priority::High).unwrap().max_retries, Some(7));
        let default = c.thresholds(Priority::Default).unwrap();
        assert_eq!(default.max_connections, None, "Envoy default 1024");
    }

    #[test]
    fn bad_values_are_reported_with_their_path_and_parsing_goes_on() {
        let (c, issues) = parse_one(json!({
            "name": "c",
            "connect_timeout": "5 seconds",
            "circuit_breakers": {"thresholds": [
                {"priority": "URGENT", "max_connections": 1},
                {"max_connections": -1, "max_requests": 2}
            ]},
            "upstream_connection_options": {"tcp_keepalive": {"keepalive_time": "soon"}},
            "outlier_detection": "yes"
        }));
        let p = "/configs/0/dynamic_active_clusters/0/cluster";
        assert_eq!(
            issues,
            [
                format!(
                    "{p}/connect_timeout: invalid duration \"5 seconds\" (expected e.g. \"1.5s\")"
                ),
                format!(
                    "{p}/circuit_breakers/thresholds/0/priority: unknown circuit-breaker priority \"URGENT\": threshold skipped"
                ),
                format!(
                    "{p}/circuit_breakers/thresholds/1/max_connections: expected an unsigned integer, found -1"
                ),
                format!("{p}/outlier_detection: expected an object, found a string"),
                format!(
                    "{p}/upstream_connection_options/tcp_keepalive/keepalive_time: expected an unsigned integer, found \"soon\""
                ),
            ]
        );
        assert_eq!(c.connect_timeout, None);
        assert_eq!(c.circuit_breakers.len(), 1);
        assert_eq!(c.circuit_breakers[0].max_requests, Some(2));
        assert_eq!(c.tcp_keepalive.unwrap().time, None);
    }
}
