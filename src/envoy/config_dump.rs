//! `/config_dump` (JSON): the cluster and route settings that explain what the counters show —
//! connect and idle timeouts, HTTP protocol, circuit breakers, outlier detection, TCP
//! keepalive, transport security, route timeouts and retry policies.
//!
//! Reads full dumps (`configs[]` of `ClustersConfigDump` / `RoutesConfigDump`) and the
//! `?resource=` form (`configs[]` of single `DynamicCluster` / `DynamicRouteConfig` items),
//! with v2 (`envoy.api.v2.Cluster`) and v3 (`envoy.config.cluster.v3.Cluster`) resources.
//! Other sections (bootstrap, listeners, secrets) are ignored: listeners' inline route
//! configurations already appear in `static_route_configs`.
//!
//! Errors: input that is not JSON, or JSON without a `configs` array, is a fatal
//! [`ParseError`]. A damaged resource or field becomes a [`LineIssue`] whose `line` is always
//! 0 (a JSON value has no useful line) and whose message starts with the JSON pointer of the
//! offending value, e.g. `/configs/1/dynamic_active_clusters/3/cluster/connect_timeout: …`.
//! Absent settings are `None`; the `ENVOY_DEFAULT_*` constants give Envoy's defaults.
//! Durations serialize as protobuf strings (`"0.250s"`), see [`format_duration`].
//!
//! Pure: no I/O, no clock. To read a new setting, add a field to the resource struct in
//! `cluster.rs` or `route.rs` and read it with the `Node` readers, which report bad values.

pub mod cluster;
pub mod duration;
mod node;
pub mod route;
pub mod transport;

use std::cell::RefCell;

use serde::Serialize;
use serde_json::Value;

pub use cluster::{
    ClusterConfig, ENVOY_DEFAULT_CIRCUIT_BREAKER_LIMIT, ENVOY_DEFAULT_CONNECT_TIMEOUT,
    ENVOY_DEFAULT_IDLE_TIMEOUT, ENVOY_DEFAULT_MAX_RETRIES, HttpOptions, OutlierDetection, Priority,
    TcpKeepalive, Thresholds, UpstreamProtocol,
};
pub use duration::{format_duration, parse_duration};
pub use route::{
    ENVOY_DEFAULT_NUM_RETRIES, ENVOY_DEFAULT_ROUTE_TIMEOUT, PathMatch, PolicyScope, RetryPolicy,
    RouteEntry, RouteTarget, RouteTimeout, WeightedCluster,
};
pub use transport::{Transport, TransportSecurity};

use crate::envoy::error::{LineIssue, ParseError};
use node::Node;

/// Which xDS API version the resources of a dump use, from their `@type` URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApiVersion {
    /// `envoy.api.v2.*` (Istio ≤ 1.8 and Envoy ≤ 1.16 era).
    V2,
    /// `envoy.config.*.v3.*`.
    V3,
    /// Both kinds in one dump.
    Mixed,
    /// No resource carried a recognisable `@type` (or the dump had no resources).
    Unknown,
}

impl ApiVersion {
    /// The version named by a resource `@type` URL.
    fn from_type_url(url: Option<&str>) -> Self {
        let name = url.map(|u| u.rsplit('/').next().unwrap_or(u)).unwrap_or("");
        if name.split('.').any(|s| s == "v3") {
            ApiVersion::V3
        } else if name.split('.').any(|s| s == "v2") {
            ApiVersion::V2
        } else {
            ApiVersion::Unknown
        }
    }

    /// The version of a dump holding resources of both versions.
    fn combine(self, other: Self) -> Self {
        match (self, other) {
            (ApiVersion::Unknown, v) | (v, ApiVersion::Unknown) => v,
            (a, b) if a == b => a,
            _ => ApiVersion::Mixed,
        }
    }
}

/// The section of the dump a resource came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// `static_clusters` / `static_route_configs` (bootstrap or listener-inline).
    Static,
    /// `dynamic_active_clusters`: in use.
    DynamicActive,
    /// `dynamic_warming_clusters`: received but not yet serving.
    DynamicWarming,
    /// `dynamic_route_configs`, or a `?resource=` item whose type does not say active or
    /// warming (`ClustersConfigDump.DynamicCluster`).
    Dynamic,
}

/// What a `/config_dump` says about clusters and routes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigDump {
    /// Every cluster in dump order (static, then active, then warming per config).
    pub clusters: Vec<ClusterConfig>,
    /// Every route of every route configuration, flattened.
    pub routes: Vec<RouteEntry>,
    pub api_version: ApiVersion,
    /// Skipped resources and unreadable fields (`line` 0, message starts with the JSON path).
    pub issues: Vec<LineIssue>,
}

impl ConfigDump {
    /// The cluster named `name`, preferring one that is serving over a warming one.
    pub fn cluster(&self, name: &str) -> Option<&ClusterConfig> {
        let mut named = self.clusters.iter().filter(|c| c.name == name);
        let first = named.next()?;
        if first.origin != Origin::DynamicWarming {
            return Some(first);
        }
        named
            .find(|c| c.origin != Origin::DynamicWarming)
            .or(Some(first))
    }

    /// The routes that send traffic to `cluster`, directly or as a weighted cluster.
    pub fn routes_to<'a>(&'a self, cluster: &'a str) -> impl Iterator<Item = &'a RouteEntry> {
        self.routes.iter().filter(move |r| r.targets(cluster))
    }
}

/// Parses a `/config_dump` capture (full or `?resource=` filtered).
pub fn parse_config_dump(input: &str) -> Result<ConfigDump, ParseError> {
    if input.trim().is_empty() {
        return Err(ParseError::Empty("config dump"));
    }
    let value: Value = serde_json::from_str(input).map_err(|e| ParseError::from_json(&e))?;
    if !value.get("configs").is_some_and(Value::is_array) {
        return Err(ParseError::UnknownKind(
            "JSON without a \"configs\" array: not an Envoy /config_dump".into(),
        ));
    }
    let issues = RefCell::new(Vec::new());
    let root = Node::root(&value, &issues);
    let mut dump = ConfigDump {
        clusters: Vec::new(),
        routes: Vec::new(),
        api_version: ApiVersion::Unknown,
        issues: Vec::new(),
    };
    for config in root.items("configs") {
        read_config(&config, &mut dump);
    }
    let versions = (dump.clusters.iter().map(|c| c.api_version))
        .chain(dump.routes.iter().map(|r| r.api_version));
    dump.api_version = versions.fold(ApiVersion::Unknown, ApiVersion::combine);
    dump.issues = issues.into_inner();
    Ok(dump)
}

/// Reads one element of `configs`: a whole `*ConfigDump` section or a `?resource=` item.
fn read_config(config: &Node<'_>, dump: &mut ConfigDump) {
    if !config.value.is_object() {
        config.warn("expected a config object: skipped");
        return;
    }
    let cluster_sections = [
        ("static_clusters", Origin::Static),
        ("dynamic_active_clusters", Origin::DynamicActive),
        ("dynamic_warming_clusters", Origin::DynamicWarming),
    ];
    for (key, origin) in cluster_sections {
        for item in config.items(key) {
            read_cluster_item(&item, origin, dump);
        }
    }
    let route_sections = [
        ("static_route_configs", Origin::Static),
        ("dynamic_route_configs", Origin::Dynamic),
    ];
    for (key, origin) in route_sections {
        for item in config.items(key) {
            read_route_item(&item, origin, dump);
        }
    }
    read_resource_item(config, dump);
}

/// A `?resource=` item: one cluster or route configuration, its origin told by the item type
/// (`ClustersConfigDump.StaticCluster`, `….DynamicCluster`, `RoutesConfigDump.…RouteConfig`).
fn read_resource_item(config: &Node<'_>, dump: &mut ConfigDump) {
    let item_type = config.type_url().unwrap_or("");
    let origin = |static_suffix: &str| {
        if item_type.ends_with(static_suffix) {
            Origin::Static
        } else {
            Origin::Dynamic
        }
    };
    if config.get("cluster").is_some() {
        read_cluster_item(config, origin("StaticCluster"), dump);
    }
    if config.get("route_config").is_some() {
        read_route_item(config, origin("StaticRouteConfig"), dump);
    }
}

/// `{"cluster": {...}, "version_info", "last_updated"}`.
fn read_cluster_item(item: &Node<'_>, origin: Origin, dump: &mut ConfigDump) {
    match item.object("cluster") {
        Some(cluster) => dump
            .clusters
            .extend(cluster::parse_cluster(&cluster, origin)),
        None => item.warn("cluster entry without a \"cluster\" object: skipped"),
    }
}

/// `{"route_config": {...}, "version_info", "last_updated"}`.
fn read_route_item(item: &Node<'_>, origin: Origin, dump: &mut ConfigDump) {
    match item.object("route_config") {
        Some(config) => route::parse_route_config(&config, origin, &mut dump.routes),
        None => item.warn("route entry without a \"route_config\" object: skipped"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use serde_json::json;

    const V2_CLUSTER: &str = "type.googleapis.com/envoy.api.v2.Cluster";
    const V3_CLUSTER: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

    fn parse(value: Value) -> ConfigDump {
        parse_config_dump(&value.to_string()).unwrap()
    }

    #[test]
    fn fatal_errors_for_what_is_not_a_config_dump() {
        assert_eq!(parse_config_dump(""), Err(ParseError::Empty("config dump")));
        let err = parse_config_dump("{\n \"configs\": [\n  {\"a\": }\n]}").unwrap_err();
        assert_eq!(err.line(), 3);
        assert!(err.to_string().starts_with("3:9: expected value"), "{err}");
        for not_dump in [r#"{"version": "x"}"#, r#"{"configs": {}}"#, "[]", "42"] {
            let err = parse_config_dump(not_dump).unwrap_err();
            assert!(
                matches!(err, ParseError::UnknownKind(_)),
                "{not_dump}: {err:?}"
            );
        }
    }

    #[test]
    fn sections_origins_and_api_versions() {
        let dump = parse(json!({"configs": [
            {"@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump", "bootstrap": {}},
            {
                "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
                "static_clusters": [{"cluster": {"@type": V2_CLUSTER, "name": "a"}}],
                "dynamic_active_clusters": [{"cluster": {"@type": V2_CLUSTER, "name": "b"}}],
                "dynamic_warming_clusters": [{"cluster": {"@type": V2_CLUSTER, "name": "b"}}]
            }
        ]}));
        let origins: Vec<(&str, Origin)> = dump
            .clusters
            .iter()
            .map(|c| (c.name.as_str(), c.origin))
            .collect();
        assert_eq!(
            origins,
            [
                ("a", Origin::Static),
                ("b", Origin::DynamicActive),
                ("b", Origin::DynamicWarming)
            ]
        );
        assert_eq!(dump.api_version, ApiVersion::V2);
        assert_eq!(
            dump.cluster("b").map(|c| c.origin),
            Some(Origin::DynamicActive)
        );
        assert_eq!(dump.cluster("nope"), None);
        assert!(dump.issues.is_empty());
        let empty = parse(json!({"configs": []}));
        assert_eq!(
            (empty.api_version, empty.clusters.len()),
            (ApiVersion::Unknown, 0)
        );
    }

    #[test]
    fn resource_filtered_output_is_one_resource_per_config() {
        let dump = parse(json!({"configs": [
            {
                "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster",
                "version_info": "2024-01-01T00:00:00Z/9",
                "cluster": {"@type": V3_CLUSTER, "name": "outbound|80||web.prod.svc.cluster.local",
                            "connect_timeout": "10s"},
                "last_updated": "2024-01-01T00:00:01Z"
            },
            {
                "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster",
                "cluster": {"@type": V3_CLUSTER, "name": "agent"}
            },
            {
                "@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump.DynamicRouteConfig",
                "route_config": {
                    "@type": "type.googleapis.com/envoy.api.v2.RouteConfiguration",
                    "name": "80",
                    "virtual_hosts": [{"name": "web", "domains": ["web"], "routes": [
                        {"match": {"prefix": "/"}, "route": {"weighted_clusters": {"clusters": [
                            {"name": "outbound|80||web.prod.svc.cluster.local", "weight": 100}
                        ]}}}
                    ]}]
                }
            }
        ]}));
        assert!(dump.issues.is_empty(), "{:?}", dump.issues);
        let web = dump
            .cluster("outbound|80||web.prod.svc.cluster.local")
            .unwrap();
        assert_eq!(web.origin, Origin::Dynamic);
        assert_eq!(web.connect_timeout, Some(Duration::from_secs(10)));
        assert_eq!(
            dump.cluster("agent").map(|c| c.origin),
            Some(Origin::Static)
        );
        assert_eq!(
            dump.routes_to("outbound|80||web.prod.svc.cluster.local")
                .count(),
            1
        );
        assert_eq!(dump.routes[0].origin, Origin::Dynamic);
        assert_eq!(dump.api_version, ApiVersion::Mixed);
    }

    #[test]
    fn skipped_entries_are_reported_never_silent() {
        let dump = parse(json!({"configs": [
            "junk",
            {"dynamic_active_clusters": [
                {"cluster": {"name": "ok0"}},
                {"cluster": {"name": "ok1"}},
                {"cluster": {"name": "ok2"}},
                {"cluster": {"name": "ok3", "connect_timeout": "1h"}},
                {"cluster": {"type": "EDS"}},
                {"version_info": "3"}
            ]},
            {"dynamic_route_configs": [{"route_config": []}]}
        ]}));
        let messages: Vec<&str> = dump.issues.iter().map(|i| i.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "/configs/0: expected a config object: skipped",
                "/configs/1/dynamic_active_clusters/3/cluster/connect_timeout: invalid duration \"1h\" (expected e.g. \"1.5s\")",
                "/configs/1/dynamic_active_clusters/4/cluster: cluster without a name: skipped",
                "/configs/1/dynamic_active_clusters/5: cluster entry without a \"cluster\" object: skipped",
                "/configs/2/dynamic_route_configs/0/route_config: expected an object, found an array",
                "/configs/2/dynamic_route_configs/0: route entry without a \"route_config\" object: skipped",
            ]
        );
        assert!(dump.issues.iter().all(|i| i.line == 0));
        assert_eq!(
            dump.clusters.len(),
            4,
            "the cluster with a bad timeout is kept"
        );
        assert_eq!(dump.clusters[3].connect_timeout, None);
    }

    #[test]
    fn serializes_durations_and_timeouts_readably() {
        let dump = parse(json!({"configs": [
            {"static_clusters": [{"cluster": {"name": "c", "connect_timeout": "0.250s"}}]},
            {"static_route_configs": [{"route_config": {"virtual_hosts": [{"name": "v", "routes": [
                {"match": {"prefix": "/"}, "route": {"cluster": "c", "timeout": "1.5s"}},
                {"match": {"prefix": "/"}, "route": {"cluster": "c", "timeout": "0s"}}
            ]}]}}]}
        ]}));
        let json = serde_json::to_value(&dump).unwrap();
        assert_eq!(json["clusters"][0]["connect_timeout"], "0.250s");
        assert_eq!(json["clusters"][0]["http"]["idle_timeout"], Value::Null);
        assert_eq!(json["routes"][0]["timeout"], json!({"after": "1.500s"}));
        assert_eq!(json["routes"][1]["timeout"], "disabled");
        assert_eq!(json["routes"][0]["target"], json!({"cluster": "c"}));
        assert_eq!(dump.routes_to("c").count(), 2);
    }

    /// Every JSON pointer inside `value`.
    fn pointers(value: &Value, path: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                pointers(
                    v,
                    format!("{path}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                )
            }),
            Value::Array(items) => (items.iter().enumerate())
                .for_each(|(i, v)| pointers(v, format!("{path}/{i}"), out)),
            _ => {}
        }
        out.push(path);
    }

    #[test]
    fn wrong_types_anywhere_and_truncation_never_panic() {
        let sample = json!({"configs": [
            {"dynamic_active_clusters": [{"cluster": {
                "@type": V3_CLUSTER, "name": "c", "type": "EDS", "connect_timeout": "1s",
                "cluster_type": {"name": "x"},
                "typed_extension_protocol_options": {"k": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "common_http_protocol_options": {"idle_timeout": "1s", "max_requests_per_connection": 1},
                    "explicit_http_config": {"http2_protocol_options": {"max_concurrent_streams": 1}}}},
                "circuit_breakers": {"thresholds": [{"priority": "HIGH", "max_connections": 1}]},
                "outlier_detection": {"consecutive_5xx": 1, "interval": "1s", "split_external_local_origin_errors": true},
                "upstream_connection_options": {"tcp_keepalive": {"keepalive_time": 1}},
                "transport_socket_matches": [{"name": "tlsMode-istio", "match": {"tlsMode": "istio"},
                    "transport_socket": {"name": "tls", "typed_config": {"sni": "s",
                        "common_tls_context": {"alpn_protocols": ["istio"],
                            "tls_certificate_sds_secret_configs": [{"name": "default"}]}}}}],
                "transport_socket": {"name": "w", "typed_config": {"transport_socket": {"name": "raw_buffer"}}},
                "tls_context": {"sni": "s"}
            }}]},
            {"dynamic_route_configs": [{"route_config": {"name": "r", "virtual_hosts": [{
                "name": "v", "domains": ["d"], "retry_policy": {"retry_on": "5xx"},
                "routes": [{"name": "n", "match": {"safe_regex": {"regex": "."}}, "route": {
                    "weighted_clusters": {"clusters": [{"name": "c", "weight": 1}], "total_weight": 1},
                    "timeout": "1s", "idle_timeout": "1s",
                    "max_stream_duration": {"max_stream_duration": "1s", "grpc_timeout_header_max": "1s"},
                    "retry_policy": {"retry_on": "5xx", "num_retries": 1, "per_try_timeout": "1s",
                        "retriable_status_codes": [503], "host_selection_retry_max_attempts": "1",
                        "retry_host_predicate": [{"name": "p"}]}}}]}]}}]}
        ]});
        assert!(parse(sample.clone()).issues.is_empty());
        let mut paths = Vec::new();
        pointers(&sample, String::new(), &mut paths);
        let swaps = [
            json!(null),
            json!(true),
            json!(-1),
            json!(1e300),
            json!("x"),
            json!([1]),
            json!({"a": 1}),
        ];
        for path in paths.iter().filter(|p| !p.is_empty()) {
            for swap in &swaps {
                let mut mutated = sample.clone();
                *mutated.pointer_mut(path).unwrap() = swap.clone();
                let _ = parse_config_dump(&mutated.to_string());
            }
        }
        let text = sample.to_string();
        for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
            let _ = parse_config_dump(&text[..end]);
        }
    }
}
