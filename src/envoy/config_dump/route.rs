//! Routes of a `RouteConfiguration` (v2 `envoy.api.v2.RouteConfiguration` or v3
//! `envoy.config.route.v3.RouteConfiguration`), flattened to one [`RouteEntry`] per
//! `virtual_hosts[].routes[]` with its target cluster(s), timeouts and retry policy (the
//! virtual host's retry policy when the route has none, as Envoy applies it).

use std::time::Duration;

use serde::Serialize;

use super::duration;
use super::node::Node;
use super::{ApiVersion, Origin};

/// Envoy's route `timeout` when the route sets none.
pub const ENVOY_DEFAULT_ROUTE_TIMEOUT: Duration = Duration::from_secs(15);
/// Envoy's `num_retries` when a retry policy leaves it out.
pub const ENVOY_DEFAULT_NUM_RETRIES: u32 = 1;

/// One route of one virtual host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteEntry {
    /// The `RouteConfiguration` name (Istio: `9080`, `reviews.default.svc.cluster.local:9080`,
    /// `inbound|9080|http|…`); empty when the dump has none.
    pub route_config: String,
    pub origin: Origin,
    pub api_version: ApiVersion,
    pub virtual_host: String,
    pub domains: Vec<String>,
    /// The route's own `name` (Istio: `default`, or the VirtualService route name).
    pub name: Option<String>,
    pub path_match: PathMatch,
    pub target: RouteTarget,
    pub timeout: RouteTimeout,
    /// Per-stream idle timeout; `None`: the connection manager's `stream_idle_timeout`.
    #[serde(serialize_with = "duration::serialize_opt")]
    pub idle_timeout: Option<Duration>,
    /// v3 `max_stream_duration.max_stream_duration`.
    #[serde(serialize_with = "duration::serialize_opt")]
    pub max_stream_duration: Option<Duration>,
    /// Cap on the `grpc-timeout` header: v2 `max_grpc_timeout`, v3
    /// `max_stream_duration.grpc_timeout_header_max`. Zero: the header is honoured uncapped.
    #[serde(serialize_with = "duration::serialize_opt")]
    pub grpc_timeout_max: Option<Duration>,
    /// The route's retry policy, or its virtual host's; `None`: Envoy does not retry.
    pub retry_policy: Option<RetryPolicy>,
}

impl RouteEntry {
    /// True when the route forwards to `cluster`, directly or as one of its weighted clusters.
    pub fn targets(&self, cluster: &str) -> bool {
        match &self.target {
            RouteTarget::Cluster(name) => name == cluster,
            RouteTarget::Weighted { clusters, .. } => clusters.iter().any(|c| c.name == cluster),
            _ => false,
        }
    }
}

/// How the route matches the request path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathMatch {
    Prefix(String),
    Path(String),
    /// `safe_regex.regex`.
    SafeRegex(String),
    /// v2's deprecated `regex`.
    Regex(String),
    PathSeparatedPrefix(String),
    /// `connect_matcher`: HTTP CONNECT requests.
    Connect,
    /// A matcher meshtop does not model (e.g. `path_match_policy`); the key is kept.
    Other(String),
}

/// Where the route sends requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteTarget {
    Cluster(String),
    Weighted {
        clusters: Vec<WeightedCluster>,
        /// v2 `total_weight` (default 100); v3 sums the weights.
        total_weight: Option<u32>,
    },
    /// The cluster named by a request header.
    ClusterHeader(String),
    Redirect,
    DirectResponse,
    /// No forwarding action (e.g. `non_forwarding_action`, or a route without one).
    None,
}

/// One cluster of a weighted route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeightedCluster {
    pub name: String,
    pub weight: Option<u32>,
}

/// The route `timeout` with its three meanings kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteTimeout {
    /// Not set: Envoy applies [`ENVOY_DEFAULT_ROUTE_TIMEOUT`] (15s).
    Unset,
    /// `"0s"`: no route timeout (Istio's default for its routes).
    Disabled,
    /// A timeout of this length.
    After(#[serde(serialize_with = "duration::serialize")] Duration),
}

impl RouteTimeout {
    /// The timeout Envoy enforces: `None` when disabled.
    pub fn effective(self) -> Option<Duration> {
        match self {
            RouteTimeout::Unset => Some(ENVOY_DEFAULT_ROUTE_TIMEOUT),
            RouteTimeout::Disabled => None,
            RouteTimeout::After(d) => Some(d),
        }
    }
}

/// Whether a retry policy was set on the route or inherited from the virtual host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyScope {
    Route,
    VirtualHost,
}

/// A `retry_policy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryPolicy {
    pub scope: PolicyScope,
    /// The `retry_on` conditions, split on commas (`connect-failure`, `5xx`, …).
    pub retry_on: Vec<String>,
    /// `None`: Envoy uses [`ENVOY_DEFAULT_NUM_RETRIES`]; see [`Self::effective_num_retries`].
    pub num_retries: Option<u32>,
    /// `None`: each try may use the whole route timeout.
    #[serde(serialize_with = "duration::serialize_opt")]
    pub per_try_timeout: Option<Duration>,
    pub retriable_status_codes: Vec<u32>,
    pub host_selection_retry_max_attempts: Option<u64>,
    /// `retry_host_predicate[].name` (Istio: `envoy.retry_host_predicates.previous_hosts`).
    pub retry_host_predicates: Vec<String>,
}

impl RetryPolicy {
    /// The number of retries Envoy allows, with its default filled in.
    pub fn effective_num_retries(&self) -> u32 {
        self.num_retries.unwrap_or(ENVOY_DEFAULT_NUM_RETRIES)
    }
}

/// Flattens one route configuration into `out`.
pub(super) fn parse_route_config(node: &Node<'_>, origin: Origin, out: &mut Vec<RouteEntry>) {
    let route_config = node.string("name").unwrap_or_default();
    let api_version = ApiVersion::from_type_url(node.type_url());
    for vhost in node.items("virtual_hosts") {
        let host_retry = vhost
            .object("retry_policy")
            .map(|p| parse_retry(&p, PolicyScope::VirtualHost));
        let virtual_host = vhost.string("name").unwrap_or_default();
        let domains = vhost.strings("domains");
        for route in vhost.items("routes") {
            let mut entry = parse_route(&route, origin, api_version);
            entry.route_config.clone_from(&route_config);
            entry.virtual_host.clone_from(&virtual_host);
            entry.domains.clone_from(&domains);
            if entry.retry_policy.is_none() {
                entry.retry_policy.clone_from(&host_retry);
            }
            out.push(entry);
        }
    }
}

/// One route; the caller fills in the configuration and virtual-host fields.
fn parse_route(route: &Node<'_>, origin: Origin, api_version: ApiVersion) -> RouteEntry {
    let action = route.object("route");
    let action = action.as_ref();
    let msd = action.and_then(|a| a.object("max_stream_duration"));
    let grpc_max = match &msd {
        Some(m) => m.duration("grpc_timeout_header_max"),
        None => action.and_then(|a| a.duration("max_grpc_timeout")),
    };
    RouteEntry {
        route_config: String::new(),
        origin,
        api_version,
        virtual_host: String::new(),
        domains: Vec::new(),
        name: route.string("name"),
        path_match: parse_path_match(route),
        target: parse_target(route, action),
        timeout: parse_timeout(action),
        idle_timeout: action.and_then(|a| a.duration("idle_timeout")),
        max_stream_duration: msd.and_then(|m| m.duration("max_stream_duration")),
        grpc_timeout_max: grpc_max,
        retry_policy: (action.and_then(|a| a.object("retry_policy")))
            .map(|p| parse_retry(&p, PolicyScope::Route)),
    }
}

fn parse_timeout(action: Option<&Node<'_>>) -> RouteTimeout {
    match action.and_then(|a| a.duration("timeout")) {
        None => RouteTimeout::Unset,
        Some(Duration::ZERO) => RouteTimeout::Disabled,
        Some(d) => RouteTimeout::After(d),
    }
}

fn parse_path_match(route: &Node<'_>) -> PathMatch {
    let Some(m) = route.object("match") else {
        return PathMatch::Other(String::new());
    };
    let text = |key: &str| m.string(key);
    if let Some(p) = text("prefix") {
        PathMatch::Prefix(p)
    } else if let Some(p) = text("path") {
        PathMatch::Path(p)
    } else if let Some(r) = m.object("safe_regex").and_then(|r| r.string("regex")) {
        PathMatch::SafeRegex(r)
    } else if let Some(r) = text("regex") {
        PathMatch::Regex(r)
    } else if let Some(p) = text("path_separated_prefix") {
        PathMatch::PathSeparatedPrefix(p)
    } else if m.get("connect_matcher").is_some() {
        PathMatch::Connect
    } else {
        let keys = m
            .value
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>());
        PathMatch::Other(keys.unwrap_or_default().join(","))
    }
}

fn parse_target(route: &Node<'_>, action: Option<&Node<'_>>) -> RouteTarget {
    let Some(action) = action else {
        return if route.get("redirect").is_some() {
            RouteTarget::Redirect
        } else if route.get("direct_response").is_some() {
            RouteTarget::DirectResponse
        } else {
            RouteTarget::None
        };
    };
    if let Some(cluster) = action.string("cluster") {
        return RouteTarget::Cluster(cluster);
    }
    if let Some(weighted) = action.object("weighted_clusters") {
        let items = weighted.items("clusters");
        let clusters = (items.iter())
            .filter_map(|c| {
                let name = c.string("name");
                if name.is_none() {
                    c.warn("weighted cluster without a name: skipped");
                }
                Some(WeightedCluster {
                    name: name?,
                    weight: c.u32("weight"),
                })
            })
            .collect();
        let total_weight = weighted.u32("total_weight");
        return RouteTarget::Weighted {
            clusters,
            total_weight,
        };
    }
    match action.string("cluster_header") {
        Some(header) => RouteTarget::ClusterHeader(header),
        None => RouteTarget::None,
    }
}

fn parse_retry(node: &Node<'_>, scope: PolicyScope) -> RetryPolicy {
    let retry_on = node.str("retry_on").unwrap_or("");
    let codes = node.items("retriable_status_codes");
    let predicates = node.items("retry_host_predicate");
    RetryPolicy {
        scope,
        retry_on: (retry_on.split(',').map(str::trim))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        num_retries: node.u32("num_retries"),
        per_try_timeout: node.duration("per_try_timeout"),
        retriable_status_codes: codes.iter().filter_map(Node::as_u32).collect(),
        host_selection_retry_max_attempts: node.uint("host_selection_retry_max_attempts"),
        retry_host_predicates: predicates.iter().filter_map(|p| p.string("name")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::config_dump::parse_config_dump;
    use serde_json::{Value, json};

    /// Parses one route configuration as a dynamic route config; returns routes and messages.
    fn parse_routes(route_config: Value) -> (Vec<RouteEntry>, Vec<String>) {
        let dump = json!({"configs": [{
            "@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
            "dynamic_route_configs": [{"version_info": "7", "route_config": route_config}]
        }]});
        let dump = parse_config_dump(&dump.to_string()).unwrap();
        let messages = dump.issues.iter().map(|i| i.message.clone()).collect();
        (dump.routes, messages)
    }

    #[test]
    fn v2_istio_route_with_disabled_timeout_and_retry_policy() {
        let (routes, issues) = parse_routes(json!({
            "@type": "type.googleapis.com/envoy.api.v2.RouteConfiguration",
            "name": "reviews.default.svc.cluster.local:9080",
            "virtual_hosts": [{
                "name": "reviews.default.svc.cluster.local:9080",
                "domains": ["reviews", "reviews:9080"],
                "routes": [{
                    "match": {"prefix": "/"},
                    "route": {
                        "cluster": "outbound|9080||reviews.default.svc.cluster.local",
                        "timeout": "0s",
                        "retry_policy": {
                            "retry_on": "connect-failure,refused-stream,retriable-status-codes",
                            "num_retries": 2,
                            "per_try_timeout": "0.500s",
                            "retry_host_predicate": [{"name": "envoy.retry_host_predicates.previous_hosts"}],
                            "host_selection_retry_max_attempts": "5",
                            "retriable_status_codes": [503]
                        },
                        "max_grpc_timeout": "0s"
                    },
                    "name": "default"
                }]
            }]
        }));
        assert!(issues.is_empty(), "{issues:?}");
        let want = RouteEntry {
            route_config: "reviews.default.svc.cluster.local:9080".into(),
            origin: Origin::Dynamic,
            api_version: ApiVersion::V2,
            virtual_host: "reviews.default.svc.cluster.local:9080".into(),
            domains: vec!["reviews".into(), "reviews:9080".into()],
            name: Some("default".into()),
            path_match: PathMatch::Prefix("/".into()),
            target: RouteTarget::Cluster("outbound|9080||reviews.default.svc.cluster.local".into()),
            timeout: RouteTimeout::Disabled,
            idle_timeout: None,
            max_stream_duration: None,
            grpc_timeout_max: Some(Duration::ZERO),
            retry_policy: Some(RetryPolicy {
                scope: PolicyScope::Route,
                retry_on: vec![
                    "connect-failure".into(),
                    "refused-stream".into(),
                    "retriable-status-codes".into(),
                ],
                num_retries: Some(2),
                per_try_timeout: Some(Duration::from_millis(500)),
                retriable_status_codes: vec![503],
                host_selection_retry_max_attempts: Some(5),
                retry_host_predicates: vec!["envoy.retry_host_predicates.previous_hosts".into()],
            }),
        };
        assert_eq!(routes, [want]);
        assert_eq!(routes[0].timeout.effective(), None);
    }

    #[test]
    fn v3_route_with_weights_regex_and_stream_limits() {
        let (routes, issues) = parse_routes(json!({
            "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
            "name": "8080",
            "virtual_hosts": [{
                "name": "orders:8080",
                "domains": ["orders"],
                "routes": [{
                    "match": {"safe_regex": {"regex": "/api/.*"}},
                    "route": {
                        "weighted_clusters": {"clusters": [
                            {"name": "outbound|8080|v1|orders.prod.svc.cluster.local", "weight": 90},
                            {"name": "outbound|8080|v2|orders.prod.svc.cluster.local", "weight": 10}
                        ]},
                        "timeout": "1.5s",
                        "idle_timeout": "300s",
                        "max_stream_duration": {"max_stream_duration": "60s", "grpc_timeout_header_max": "2s"}
                    }
                }]
            }]
        }));
        assert!(issues.is_empty(), "{issues:?}");
        let r = &routes[0];
        assert_eq!(r.api_version, ApiVersion::V3);
        assert_eq!(r.name, None);
        assert_eq!(r.path_match, PathMatch::SafeRegex("/api/.*".into()));
        let weighted = RouteTarget::Weighted {
            clusters: vec![
                WeightedCluster {
                    name: "outbound|8080|v1|orders.prod.svc.cluster.local".into(),
                    weight: Some(90),
                },
                WeightedCluster {
                    name: "outbound|8080|v2|orders.prod.svc.cluster.local".into(),
                    weight: Some(10),
                },
            ],
            total_weight: None,
        };
        assert_eq!(r.target, weighted);
        assert!(r.targets("outbound|8080|v2|orders.prod.svc.cluster.local"));
        assert!(!r.targets("outbound|8080||orders.prod.svc.cluster.local"));
        assert_eq!(r.timeout, RouteTimeout::After(Duration::from_millis(1500)));
        assert_eq!(r.timeout.effective(), Some(Duration::from_millis(1500)));
        assert_eq!(r.idle_timeout, Some(Duration::from_secs(300)));
        assert_eq!(r.max_stream_duration, Some(Duration::from_secs(60)));
        assert_eq!(r.grpc_timeout_max, Some(Duration::from_secs(2)));
        assert_eq!(r.retry_policy, None);
    }

    #[test]
    fn virtual_host_retry_policy_applies_only_to_routes_without_one() {
        let (routes, issues) = parse_routes(json!({
            "name": "80",
            "virtual_hosts": [{
                "name": "vh",
                "domains": ["*"],
                "retry_policy": {"retry_on": "5xx"},
                "routes": [
                    {"match": {"path": "/a"}, "route": {"cluster": "a"}},
                    {"match": {"prefix": "/b"}, "route": {"cluster": "b", "retry_policy": {"num_retries": 0}}},
                    {"match": {"prefix": "/r"}, "redirect": {"path_redirect": "/x"}},
                    {"match": {"prefix": "/d"}, "direct_response": {"status": 503}},
                    {"match": {"connect_matcher": {}}, "route": {"cluster_header": "x-cluster"}},
                    {"match": {"path_match_policy": {}}}
                ]
            }]
        }));
        assert!(issues.is_empty(), "{issues:?}");
        let a = routes[0].retry_policy.as_ref().unwrap();
        assert_eq!(a.scope, PolicyScope::VirtualHost);
        assert_eq!(a.retry_on, ["5xx"]);
        assert_eq!((a.num_retries, a.effective_num_retries()), (None, 1));
        assert_eq!(routes[0].path_match, PathMatch::Path("/a".into()));
        assert_eq!(routes[0].timeout, RouteTimeout::Unset);
        assert_eq!(routes[0].timeout.effective(), Some(Duration::from_secs(15)));
        let b = routes[1].retry_policy.as_ref().unwrap();
        assert_eq!(
            (b.scope, b.effective_num_retries()),
            (PolicyScope::Route, 0)
        );
        assert!(b.retry_on.is_empty());
        let targets: Vec<&RouteTarget> = routes.iter().skip(2).map(|r| &r.target).collect();
        assert_eq!(
            targets,
            [
                &RouteTarget::Redirect,
                &RouteTarget::DirectResponse,
                &RouteTarget::ClusterHeader("x-cluster".into()),
                &RouteTarget::None,
            ]
        );
        assert_eq!(routes[4].path_match, PathMatch::Connect);
        assert_eq!(
            routes[5].path_match,
            PathMatch::Other("path_match_policy".into())
        );
    }

    #[test]
    fn bad_route_fields_are_reported_and_the_route_kept() {
        let (routes, issues) = parse_routes(json!({
            "name": "80",
            "virtual_hosts": [{"name": "vh", "domains": "*", "routes": [{
                "match": {"prefix": "/"},
                "route": {
                    "weighted_clusters": {"clusters": [{"weight": 5}, {"name": "b", "weight": 5}]},
                    "timeout": 15,
                    "retry_policy": {"per_try_timeout": "-1s", "retriable_status_codes": ["x", 504]}
                }
            }]}]
        }));
        let p = "/configs/0/dynamic_route_configs/0/route_config/virtual_hosts/0";
        assert_eq!(
            issues,
            [
                format!("{p}/domains: expected an array, found a string"),
                format!(
                    "{p}/routes/0/route/weighted_clusters/clusters/0: weighted cluster without a name: skipped"
                ),
                format!(
                    "{p}/routes/0/route/timeout: expected a duration string like \"1.5s\", found 15"
                ),
                format!(
                    "{p}/routes/0/route/retry_policy/per_try_timeout: negative duration \"-1s\""
                ),
                format!(
                    "{p}/routes/0/route/retry_policy/retriable_status_codes/0: expected an unsigned integer, found \"x\""
                ),
            ]
        );
        let r = &routes[0];
        assert!(r.targets("b"));
        assert_eq!(r.timeout, RouteTimeout::Unset);
        assert_eq!(
            r.retry_policy.as_ref().unwrap().retriable_status_codes,
            [504]
        );
    }
}
