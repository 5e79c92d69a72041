//! `/config_dump` and `/server_info` parsers over real captures in `$MESHTOP_FIXTURES`.
//! Every expected value below was read off the fixture by hand (python/grep).

mod common;

use std::time::Duration;

use meshtop::envoy::config_dump::{
    ApiVersion, ConfigDump, Origin, PathMatch, PolicyScope, Priority, RouteTarget, RouteTimeout,
    Thresholds, TransportSecurity, UpstreamProtocol, parse_config_dump,
};
use meshtop::envoy::server_info::{ServerState, parse_server_info};

const BOOKINFO: &str = "envoy-config/istio-1.3-bookinfo-productpage-config_dump.json";
const ECHO: &str = "envoy-config/istio-1.8dev-echo-sidecar-config_dump.json";
const MODERN: &str = "envoy-config/istio-1.21-sidecar-config_dump.json";

/// The fixture text, or `None` (with a skip line) without `MESHTOP_FIXTURES`.
fn fixture(test: &str, rel: &str) -> Option<String> {
    let dir = common::fixtures_dir(test)?;
    Some(String::from_utf8(common::read_fixture(&dir, rel)).unwrap())
}

/// Parses a dump and checks that nothing was dropped: every cluster resource in the raw text
/// (each carries its `@type` line) is a parsed cluster, and there are no issues.
fn parse_complete(text: &str, cluster_type: &str, clusters: usize, routes: usize) -> ConfigDump {
    let dump = parse_config_dump(text).unwrap();
    assert_eq!(dump.issues, []);
    let in_text = text
        .matches(&format!("\"@type\": \"{cluster_type}\""))
        .count();
    assert_eq!(in_text, clusters);
    assert_eq!(dump.clusters.len(), clusters);
    assert_eq!(dump.routes.len(), routes);
    dump
}

fn origins(dump: &ConfigDump) -> [usize; 2] {
    let count = |o| dump.clusters.iter().filter(|c| c.origin == o).count();
    [count(Origin::Static), count(Origin::DynamicActive)]
}

#[test]
fn bookinfo_productpage_istio_1_3_v2_dump() {
    let Some(text) = fixture("bookinfo_productpage_istio_1_3_v2_dump", BOOKINFO) else {
        return;
    };
    let dump = parse_complete(&text, "type.googleapis.com/envoy.api.v2.Cluster", 83, 77);
    assert_eq!(dump.api_version, ApiVersion::V2);
    assert_eq!(origins(&dump), [3, 80]);
    let thresholds: usize = dump.clusters.iter().map(|c| c.circuit_breakers.len()).sum();
    assert_eq!(thresholds, 81);
    let h2 = dump
        .clusters
        .iter()
        .filter(|c| c.http.protocol == UpstreamProtocol::Http2);
    assert_eq!(h2.count(), 8);
    let mtls = dump
        .clusters
        .iter()
        .filter(|c| c.transport.security == TransportSecurity::IstioMutualTls);
    assert_eq!(mtls.count(), 16);

    let reviews = dump
        .cluster("outbound|9080||reviews.default.svc.cluster.local")
        .unwrap();
    assert_eq!(reviews.origin, Origin::DynamicActive);
    assert_eq!(reviews.discovery_type.as_deref(), Some("EDS"));
    assert_eq!(reviews.connect_timeout, Some(Duration::from_secs(10)));
    let only_retries = Thresholds {
        priority: Priority::Default,
        max_connections: None,
        max_pending_requests: None,
        max_requests: None,
        max_retries: Some(1024),
    };
    assert_eq!(reviews.circuit_breakers, [only_retries]);
    assert_eq!(
        reviews.transport.security,
        TransportSecurity::IstioMutualTls
    );
    assert_eq!(
        reviews.transport.socket, None,
        "v2 tls_context has no socket name"
    );
    assert_eq!(
        reviews.transport.sni.as_deref(),
        Some("outbound_.9080_._.reviews.default.svc.cluster.local")
    );
    assert_eq!(reviews.http.protocol, UpstreamProtocol::Unset);

    let xds = dump.cluster("xds-grpc").unwrap();
    assert_eq!(xds.origin, Origin::Static);
    assert_eq!(xds.http.protocol, UpstreamProtocol::Http2);
    assert_eq!(xds.circuit_breakers.len(), 2);
    let high = xds.thresholds(Priority::High).unwrap();
    assert_eq!(
        (
            high.max_connections,
            high.max_pending_requests,
            high.max_requests,
            high.max_retries
        ),
        (Some(100_000), Some(100_000), Some(100_000), None)
    );
    let keepalive = xds.tcp_keepalive.as_ref().unwrap();
    assert_eq!(
        (keepalive.time, keepalive.interval),
        (Some(Duration::from_secs(300)), None)
    );
    assert_eq!(
        dump.cluster("prometheus_stats").unwrap().connect_timeout,
        Some(Duration::from_millis(250))
    );
    let telemetry = dump.cluster("outbound|15004||istio-telemetry.istio-system.svc.cluster.local");
    let telemetry = telemetry.unwrap();
    assert_eq!(telemetry.http.max_requests_per_connection, Some(10_000));
    assert_eq!(telemetry.http.max_concurrent_streams, Some(1_073_741_824));
    assert_eq!(
        telemetry
            .thresholds(Priority::Default)
            .unwrap()
            .max_requests,
        Some(10_000)
    );

    // Route → cluster: the service's own route config and the port-wide `9080` one.
    let to_reviews: Vec<_> = dump
        .routes_to("outbound|9080||reviews.default.svc.cluster.local")
        .collect();
    let configs: Vec<&str> = to_reviews.iter().map(|r| r.route_config.as_str()).collect();
    assert_eq!(configs, ["reviews.default.svc.cluster.local:9080", "9080"]);
    for route in to_reviews {
        assert_eq!(route.origin, Origin::Dynamic);
        assert_eq!(route.virtual_host, "reviews.default.svc.cluster.local:9080");
        assert_eq!(route.domains.len(), 12);
        assert_eq!(route.name.as_deref(), Some("default"));
        assert_eq!(route.path_match, PathMatch::Prefix("/".into()));
        assert_eq!(route.timeout, RouteTimeout::Disabled);
        assert_eq!(route.grpc_timeout_max, Some(Duration::ZERO));
        let retry = route.retry_policy.as_ref().unwrap();
        assert_eq!(retry.scope, PolicyScope::Route);
        assert_eq!(retry.num_retries, Some(2));
        assert_eq!(
            retry.retry_on,
            [
                "connect-failure",
                "refused-stream",
                "unavailable",
                "cancelled",
                "resource-exhausted",
                "retriable-status-codes"
            ]
        );
        assert_eq!(retry.per_try_timeout, None);
        assert_eq!(retry.retriable_status_codes, [503]);
        assert_eq!(retry.host_selection_retry_max_attempts, Some(5));
        assert_eq!(
            retry.retry_host_predicates,
            ["envoy.retry_host_predicates.previous_hosts"]
        );
    }
    let passthrough: Vec<_> = dump.routes_to("PassthroughCluster").collect();
    assert_eq!(passthrough.len(), 26);
    assert!(
        passthrough
            .iter()
            .all(|r| r.timeout == RouteTimeout::Unset && r.retry_policy.is_none())
    );
    assert_eq!(
        dump.routes
            .iter()
            .filter(|r| r.retry_policy.is_some())
            .count(),
        44
    );
    let disabled = dump
        .routes
        .iter()
        .filter(|r| r.timeout == RouteTimeout::Disabled);
    assert_eq!(disabled.count(), 50);
    let unnamed: Vec<_> = dump
        .routes
        .iter()
        .filter(|r| r.route_config.is_empty())
        .collect();
    assert_eq!(unnamed.len(), 1);
    assert_eq!(
        unnamed[0].target,
        RouteTarget::Cluster("prometheus_stats".into())
    );
    assert_eq!(
        unnamed[0].path_match,
        PathMatch::Prefix("/stats/prometheus".into())
    );
}

#[test]
fn echo_sidecar_istio_1_8dev_v2_resources() {
    let Some(text) = fixture("echo_sidecar_istio_1_8dev_v2_resources", ECHO) else {
        return;
    };
    let dump = parse_complete(&text, "type.googleapis.com/envoy.api.v2.Cluster", 87, 50);
    assert_eq!(dump.api_version, ApiVersion::V2);
    assert_eq!(origins(&dump), [3, 84]);
    let thresholds: usize = dump.clusters.iter().map(|c| c.circuit_breakers.len()).sum();
    assert_eq!(thresholds, 84);
    let h2 = dump
        .clusters
        .iter()
        .filter(|c| c.http.protocol == UpstreamProtocol::Http2);
    assert_eq!(h2.count(), 24);
    let limited = dump
        .clusters
        .iter()
        .filter(|c| c.http.max_requests_per_connection == Some(10_000));
    assert_eq!(limited.count(), 7);
    assert!(
        dump.clusters
            .iter()
            .all(|c| c.transport.security == TransportSecurity::Plaintext)
    );
    let timeouts = dump
        .clusters
        .iter()
        .filter(|c| c.connect_timeout == Some(Duration::from_secs(10)));
    assert_eq!(timeouts.count(), 85);

    let grpc = "inbound|7070|grpc|a.apps-1-99281.svc.cluster.local";
    let cluster = dump.cluster(grpc).unwrap();
    assert_eq!(cluster.discovery_type.as_deref(), Some("STATIC"));
    assert_eq!(cluster.http.protocol, UpstreamProtocol::Http2);
    let inbound: Vec<_> = dump.routes_to(grpc).collect();
    assert_eq!(inbound.len(), 2);
    for route in inbound {
        assert_eq!(
            (route.origin, route.route_config.as_str()),
            (Origin::Static, grpc)
        );
        assert_eq!(route.virtual_host, "inbound|http|7070");
        assert_eq!(route.timeout, RouteTimeout::Disabled);
        assert_eq!(route.retry_policy, None);
    }
    let retried: Vec<_> = dump
        .routes
        .iter()
        .filter_map(|r| r.retry_policy.as_ref())
        .collect();
    assert_eq!(retried.len(), 41);
    assert!(
        retried
            .iter()
            .all(|p| p.num_retries == Some(2) && p.host_selection_retry_max_attempts == Some(3))
    );
    let unset = dump
        .routes
        .iter()
        .filter(|r| r.timeout == RouteTimeout::Unset)
        .count();
    assert_eq!(unset, 1);
}

#[test]
fn modern_sidecar_istio_1_21_v3_dump() {
    let Some(text) = fixture("modern_sidecar_istio_1_21_v3_dump", MODERN) else {
        return;
    };
    let dump = parse_complete(
        &text,
        "type.googleapis.com/envoy.config.cluster.v3.Cluster",
        3,
        1,
    );
    assert_eq!(dump.api_version, ApiVersion::V3);
    assert_eq!(origins(&dump), [2, 1]);
    let agent = dump.cluster("agent").unwrap();
    assert_eq!(agent.connect_timeout, Some(Duration::from_millis(250)));
    assert_eq!(agent.discovery_type.as_deref(), Some("STATIC"));
    let vip = "inbound-vip|8000|http|httpbin.default.svc.cluster.local";
    let cluster = dump.cluster(vip).unwrap();
    assert_eq!(cluster.connect_timeout, None, "Envoy default 5s");
    assert_eq!(cluster.discovery_type.as_deref(), Some("EDS"));
    assert_eq!(
        cluster.transport.socket.as_deref(),
        Some("internal_upstream")
    );
    assert_eq!(cluster.transport.security, TransportSecurity::Plaintext);
    assert!(cluster.circuit_breakers.is_empty());

    let route = dump.routes_to(vip).next().unwrap();
    assert_eq!(route.route_config, vip);
    assert_eq!(route.virtual_host, "inbound|http|8000");
    assert_eq!(route.domains, ["*"]);
    assert_eq!(route.name.as_deref(), Some("default"));
    assert_eq!(route.timeout, RouteTimeout::Disabled);
    assert_eq!(route.max_stream_duration, Some(Duration::ZERO));
    assert_eq!(route.grpc_timeout_max, Some(Duration::ZERO));
    assert_eq!(route.retry_policy, None);
}

#[test]
fn server_info_datadog_envoy_1_31() {
    let Some(text) = fixture(
        "server_info_datadog_envoy_1_31",
        "envoy-stats/datadog-envoy-1.31-server_info-trimmed.json",
    ) else {
        return;
    };
    let info = parse_server_info(&text).unwrap();
    assert_eq!(info.envoy_version(), Some("1.31.0"));
    let build = info.build.as_ref().unwrap();
    assert_eq!(build.revision, "8a3511baac4f20ff7761c2efaf13e2dbda7901ca");
    assert_eq!(
        (
            build.status.as_deref(),
            build.build_type.as_deref(),
            build.ssl.as_deref()
        ),
        (Some("Clean"), Some("RELEASE"), Some("BoringSSL"))
    );
    assert_eq!(info.state, Some(ServerState::Live));
    assert_eq!(
        (info.uptime_current_epoch, info.node_id.as_deref()),
        (None, None)
    );
    assert!(info.issues.is_empty());
}

/// The JSON code block that follows `.. http:get:: /server_info` in Envoy's `admin.rst`.
fn admin_rst_server_info_sample(rst: &str) -> String {
    let section = &rst[rst.find(".. http:get:: /server_info").unwrap()..];
    let block = &section[section.find(".. code-block:: json").unwrap()..];
    let lines = block.lines().skip(1).skip_while(|l| l.trim().is_empty());
    let json: Vec<&str> = lines
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .collect();
    json.join("\n")
}

#[test]
fn server_info_admin_rst_sample() {
    let Some(rst) = fixture("server_info_admin_rst_sample", "envoy-docs/admin.rst") else {
        return;
    };
    let info = parse_server_info(&admin_rst_server_info_sample(&rst)).unwrap();
    assert_eq!(info.envoy_version(), Some("1.9.0-dev"));
    assert_eq!(
        info.build.as_ref().and_then(|b| b.build_type.as_deref()),
        Some("DEBUG")
    );
    assert_eq!(info.user_agent_version.as_deref(), Some("1.15.0"));
    assert_eq!(info.state, Some(ServerState::Live));
    assert_eq!(info.uptime_current_epoch, Some(Duration::from_secs(6)));
    assert_eq!(info.uptime_all_epochs, Some(Duration::from_secs(6)));
    assert_eq!(info.node_id.as_deref(), Some("node1"));
    assert_eq!(
        (info.service_node, info.service_cluster, info.istio_node),
        (None, None, None)
    );
    assert!(info.issues.is_empty());
}
