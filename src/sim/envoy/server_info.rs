//! `GET /server_info` (the `envoy.admin.v3.ServerInfo` message) and the Istio `Node` that it
//! shares with the bootstrap in `/config_dump`.
//!
//! The build string is `<sha>/<version>/Clean/RELEASE/BoringSSL`, the state `LIVE`, uptimes are
//! protobuf durations (`"3630s"`), the command line is Istio's sidecar command line, and the
//! node carries Istio's id (`sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`), cluster
//! (`<workload>.<ns>`) and metadata (`ISTIO_VERSION`, `NAME`, `NAMESPACE`, …, sorted as protobuf
//! prints a `Struct`). The extension list is shortened to what the emulated config uses.

use crate::sim::model::ProxyState;

use super::identity::{
    CONFIG_PATH, build_sha, build_version, concurrency, node_cluster, node_id, workload_name,
};
use super::json::Json;

/// The JSON body of a `/server_info` response.
pub(super) fn render_server_info(state: &ProxyState) -> String {
    let uptime = Json::str(format!("{}s", state.uptime_secs));
    Json::object()
        .with("version", Json::str(build_version(state)))
        .with("state", Json::str("LIVE"))
        .with("uptime_current_epoch", uptime.clone())
        .with("uptime_all_epochs", uptime)
        .with("hot_restart_version", Json::str("disabled"))
        .with("command_line_options", command_line(state))
        .with("node", node(state, true))
        .pretty()
}

/// A command-line option value (see [`COMMAND_LINE`]).
enum Opt {
    Text(&'static str),
    Flag(bool),
    Zero,
    EmptyList,
    Concurrency,
}

/// Istio's sidecar command line, in Envoy's field order. Envoy prints this message with every
/// primitive field, set or not (`always_print_primitive_fields`), hence the `""`, `false`, `0`.
const COMMAND_LINE: [(&str, Opt); 36] = [
    ("base_id", Opt::Text("0")),
    ("concurrency", Opt::Concurrency),
    ("config_path", Opt::Text("etc/istio/proxy/envoy-rev.json")),
    ("config_yaml", Opt::Text("")),
    ("allow_unknown_static_fields", Opt::Flag(true)),
    ("admin_address_path", Opt::Text("")),
    ("local_address_ip_version", Opt::Text("v4")),
    ("log_level", Opt::Text("warning")),
    ("component_log_level", Opt::Text("misc:error")),
    (
        "log_format",
        Opt::Text("%Y-%m-%dT%T.%fZ\t%l\tenvoy %n %g:%#\t%v\tthread=%t"),
    ),
    ("log_path", Opt::Text("")),
    ("service_cluster", Opt::Text("")),
    ("service_node", Opt::Text("")),
    ("service_zone", Opt::Text("")),
    ("file_flush_interval", Opt::Text("10s")),
    ("drain_time", Opt::Text("45s")),
    ("parent_shutdown_time", Opt::Text("60s")),
    ("mode", Opt::Text("Serve")),
    ("disable_hot_restart", Opt::Flag(true)),
    ("enable_mutex_tracing", Opt::Flag(false)),
    ("restart_epoch", Opt::Zero),
    ("cpuset_threads", Opt::Flag(false)),
    ("reject_unknown_dynamic_fields", Opt::Flag(false)),
    ("log_format_escaped", Opt::Flag(false)),
    ("disabled_extensions", Opt::EmptyList),
    ("ignore_unknown_dynamic_fields", Opt::Flag(false)),
    ("use_dynamic_base_id", Opt::Flag(false)),
    ("base_id_path", Opt::Text("")),
    ("drain_strategy", Opt::Text("Immediate")),
    ("enable_fine_grain_logging", Opt::Flag(false)),
    ("socket_path", Opt::Text("@envoy_domain_socket")),
    ("socket_mode", Opt::Zero),
    ("enable_core_dump", Opt::Flag(false)),
    ("stats_tag", Opt::EmptyList),
    ("skip_hot_restart_on_no_parent", Opt::Flag(false)),
    ("skip_hot_restart_parent_stats", Opt::Flag(false)),
];

fn command_line(state: &ProxyState) -> Json {
    COMMAND_LINE.iter().fold(Json::object(), |out, (key, opt)| {
        let value = match opt {
            Opt::Text(text) => Json::str(*text),
            Opt::Flag(flag) => Json::Bool(*flag),
            Opt::Zero => Json::uint(0),
            Opt::EmptyList => Json::array([]),
            Opt::Concurrency => Json::uint(concurrency(state)),
        };
        out.with(key, value)
    })
}

/// Istio's `Node`. The admin `/server_info` form adds the extension and feature lists.
pub(super) fn node(state: &ProxyState, with_extensions: bool) -> Json {
    let workload = workload_name(&state.pod);
    let metadata = Json::object()
        .with("CLUSTER_ID", Json::str("Kubernetes"))
        .with("INSTANCE_IPS", Json::str(state.pod_ip.as_str()))
        .with("ISTIO_PROXY_SHA", Json::str(build_sha(state)))
        .with("ISTIO_VERSION", Json::str(state.istio_version.as_str()))
        .with("LABELS", Json::object().with("app", Json::str(workload)))
        .with("MESH_ID", Json::str("cluster.local"))
        .with("NAME", Json::str(state.pod.as_str()))
        .with("NAMESPACE", Json::str(state.namespace.as_str()))
        .with("PROXY_CONFIG", proxy_config(state))
        .with("SERVICE_ACCOUNT", Json::str(workload))
        .with("WORKLOAD_NAME", Json::str(workload));
    let node = Json::object()
        .with("id", Json::str(node_id(state)))
        .with("cluster", Json::str(node_cluster(state)))
        .with("metadata", metadata)
        .with("user_agent_name", Json::str("envoy"))
        .with("user_agent_build_version", build_version_message(state));
    if !with_extensions {
        return node;
    }
    node.with("extensions", Json::array(extensions()))
        .with("client_features", Json::array(client_features()))
        .with("listening_addresses", Json::array([]))
        .with("dynamic_parameters", Json::object())
}

fn proxy_config(state: &ProxyState) -> Json {
    Json::object()
        .with("binaryPath", Json::str("/usr/local/bin/envoy"))
        .with("concurrency", Json::uint(concurrency(state)))
        .with("configPath", Json::str(CONFIG_PATH))
        .with(
            "discoveryAddress",
            Json::str("istiod.istio-system.svc:15012"),
        )
        .with("proxyAdminPort", Json::uint(15000))
        .with("statusPort", Json::uint(15020))
}

/// `{"version": {major, minor, patch}, "metadata": {build.type, revision.sha, …}}`.
fn build_version_message(state: &ProxyState) -> Json {
    let mut numbers = (state.envoy_version.split('.')).map(|p| p.parse::<u64>().unwrap_or(0));
    let mut version = Json::object();
    for field in ["major_number", "minor_number", "patch"] {
        version = version.with(field, Json::uint(numbers.next().unwrap_or(0)));
    }
    let metadata = Json::object()
        .with("build.type", Json::str("RELEASE"))
        .with("revision.sha", Json::str(build_sha(state)))
        .with("revision.status", Json::str("Clean"))
        .with("ssl.version", Json::str("BoringSSL"));
    Json::object()
        .with("version", version)
        .with("metadata", metadata)
}

fn extensions() -> Vec<Json> {
    let list = [
        ("envoy.cluster.eds", "envoy.clusters", ""),
        ("envoy.cluster.original_dst", "envoy.clusters", ""),
        ("envoy.cluster.static", "envoy.clusters", ""),
        ("envoy.cluster.strict_dns", "envoy.clusters", ""),
        (
            "envoy.filters.http.router",
            "envoy.filters.http",
            "envoy.extensions.filters.http.router.v3.Router",
        ),
        ("istio.stats", "envoy.filters.http", "stats.PluginConfig"),
        (
            "envoy.transport_sockets.tls",
            "envoy.transport_sockets.upstream",
            "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        ),
    ];
    list.map(|(name, category, type_url)| {
        let urls = (!type_url.is_empty()).then(|| Json::str(type_url));
        Json::object()
            .with("name", Json::str(name))
            .with("category", Json::str(category))
            .with("type_descriptor", Json::str(""))
            .with("disabled", Json::Bool(false))
            .with("type_urls", Json::array(urls))
    })
    .into()
}

fn client_features() -> Vec<Json> {
    [
        "envoy.lb.does_not_support_overprovisioning",
        "envoy.lrs.supports_send_all_clusters",
        "envoy.config.require-any-fields-contain-struct",
        "xds.config.supports-resource-ttl",
        "xds.config.resource-in-sotw",
    ]
    .map(Json::str)
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::envoy::sample_sidecar::sidecar;

    #[test]
    fn istio_identity_and_envoy_build() {
        let body = render_server_info(&sidecar());
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["state"], "LIVE");
        assert_eq!(value["uptime_current_epoch"], "3630s");
        assert_eq!(
            value["node"]["id"],
            "sidecar~10.4.0.5~order-svc-7d9f8b6c5-x2x4q.prod~prod.svc.cluster.local"
        );
        assert_eq!(value["node"]["cluster"], "order-svc.prod");
        assert_eq!(value["node"]["metadata"]["ISTIO_VERSION"], "1.22.3");
        let version = &value["node"]["user_agent_build_version"]["version"];
        assert_eq!(
            (
                version["major_number"].as_u64(),
                version["minor_number"].as_u64(),
                version["patch"].as_u64()
            ),
            (Some(1), Some(30), Some(4))
        );
        assert_eq!(value["command_line_options"]["concurrency"], 2);
        assert_eq!(value["command_line_options"]["restart_epoch"], 0);
        assert!(
            value["version"]
                .as_str()
                .unwrap()
                .ends_with("/1.30.4/Clean/RELEASE/BoringSSL")
        );
        assert!(body.ends_with("}\n"));
    }
}
