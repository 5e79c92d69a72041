//! `GET /config_dump` and `GET /config_dump?resource=<field>` (v3 type URLs, protobuf's
//! pretty JSON).
//!
//! The full dump has, like the project's sample: a small `BootstrapConfigDump` (node,
//! dynamic resources, admin, the `stats_config` with Istio 1.22's tag regexes and the
//! sidecar's stats matcher), a `ClustersConfigDump` (bootstrap clusters under
//! `static_clusters`, the rest under `dynamic_active_clusters`), an empty
//! `ScopedRoutesConfigDump` and a `RoutesConfigDump`. Listeners and secrets are left out.
//!
//! `?resource=` returns the items of one repeated field, each packed with its own type
//! (`ClustersConfigDump.DynamicCluster`, `RoutesConfigDump.DynamicRouteConfig`, …). As in
//! Envoy, a non-repeated field is a 400, an unknown one a 404 (`<x> not found in config
//! dump`), and an empty result prints `{}` because protobuf leaves empty lists out.

use crate::sim::model::{ProxyState, StatsInclusion};

use super::config_cluster::cluster_resource;
use super::config_route::route_configs;
use super::identity::{BOOTSTRAP_LOADED, XDS_APPLIED, xds_version};
use super::json::Json;
use super::server_info::node;
use super::stat_set::{ISTIO_DEFAULT_PREFIXES, ISTIO_DEFAULT_SUFFIXES};
use super::tag_extract::ISTIO_TAG_RULES;
use super::upstream::is_bootstrap;

const ADMIN: &str = "type.googleapis.com/envoy.admin.v3.";

/// Why a `resource=` request has no answer: the HTTP status and Envoy's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ResourceError {
    pub status: u16,
    pub message: String,
}

/// The body of `/config_dump`, or of `/config_dump?resource=<field>`.
pub(super) fn render_config_dump(
    state: &ProxyState,
    resource: Option<&str>,
) -> Result<String, ResourceError> {
    let configs = match resource {
        None => vec![
            bootstrap_dump(state),
            clusters_dump(state),
            Json::object().with("@type", Json::str(format!("{ADMIN}ScopedRoutesConfigDump"))),
            routes_dump(state),
        ],
        Some(field) => resource_items(state, field)?,
    };
    if configs.is_empty() {
        return Ok(Json::object().pretty());
    }
    Ok(Json::object()
        .with("configs", Json::Array(configs))
        .pretty())
}

fn resource_items(state: &ProxyState, field: &str) -> Result<Vec<Json>, ResourceError> {
    let version = xds_version(state);
    let static_clusters = state.clusters.iter().filter(|c| is_bootstrap(c));
    let dynamic_clusters = state.clusters.iter().filter(|c| !is_bootstrap(c));
    let item = |kind: &str| Json::object().with("@type", Json::str(format!("{ADMIN}{kind}")));
    let items: Vec<Json> = match field {
        "static_clusters" => static_clusters
            .map(|c| {
                (item("ClustersConfigDump.StaticCluster"))
                    .with("cluster", cluster_resource(c))
                    .with("last_updated", Json::str(BOOTSTRAP_LOADED))
            })
            .collect(),
        "dynamic_active_clusters" => dynamic_clusters
            .map(|c| {
                dynamic_entry(
                    item("ClustersConfigDump.DynamicCluster"),
                    &version,
                    "cluster",
                    cluster_resource(c),
                )
            })
            .collect(),
        "dynamic_route_configs" => (route_configs(&state.clusters).into_iter())
            .map(|r| {
                dynamic_entry(
                    item("RoutesConfigDump.DynamicRouteConfig"),
                    &version,
                    "route_config",
                    r,
                )
            })
            .collect(),
        "dynamic_warming_clusters" | "static_route_configs" => Vec::new(),
        _ => return Err(resource_error(field)),
    };
    Ok(items)
}

/// Envoy's answer for a field that has no items to list.
fn resource_error(field: &str) -> ResourceError {
    match field {
        "version_info" | "bootstrap" | "last_updated" => ResourceError {
            status: 400,
            message: format!(
                "{field} is not a repeated field. Use ?mask={field} to get only this field"
            ),
        },
        _ => ResourceError {
            status: 404,
            message: format!("{field} not found in config dump"),
        },
    }
}

/// `{version_info, <key>: resource, last_updated}` after what `base` already holds.
fn dynamic_entry(base: Json, version: &str, key: &str, resource: Json) -> Json {
    base.with("version_info", Json::str(version))
        .with(key, resource)
        .with("last_updated", Json::str(XDS_APPLIED))
}

fn clusters_dump(state: &ProxyState) -> Json {
    let version = xds_version(state);
    let (statics, dynamics): (Vec<_>, Vec<_>) =
        state.clusters.iter().partition(|c| is_bootstrap(c));
    let statics = statics.into_iter().map(|c| {
        Json::object()
            .with("cluster", cluster_resource(c))
            .with("last_updated", Json::str(BOOTSTRAP_LOADED))
    });
    let dynamics = (dynamics.into_iter())
        .map(|c| dynamic_entry(Json::object(), &version, "cluster", cluster_resource(c)));
    let statics: Vec<Json> = statics.collect();
    let dynamics: Vec<Json> = dynamics.collect();
    Json::object()
        .with("@type", Json::str(format!("{ADMIN}ClustersConfigDump")))
        .with("version_info", Json::str(version.as_str()))
        .with_some(
            "static_clusters",
            (!statics.is_empty()).then_some(Json::Array(statics)),
        )
        .with_some(
            "dynamic_active_clusters",
            (!dynamics.is_empty()).then_some(Json::Array(dynamics)),
        )
}

fn routes_dump(state: &ProxyState) -> Json {
    let version = xds_version(state);
    let configs: Vec<Json> = (route_configs(&state.clusters).into_iter())
        .map(|r| dynamic_entry(Json::object(), &version, "route_config", r))
        .collect();
    Json::object()
        .with("@type", Json::str(format!("{ADMIN}RoutesConfigDump")))
        .with_some(
            "dynamic_route_configs",
            (!configs.is_empty()).then_some(Json::Array(configs)),
        )
}

fn bootstrap_dump(state: &ProxyState) -> Json {
    let ads = Json::object()
        .with("ads", Json::object())
        .with("initial_fetch_timeout", Json::str("0s"))
        .with("resource_api_version", Json::str("V3"));
    let grpc = Json::object().with(
        "envoy_grpc",
        Json::object().with("cluster_name", Json::str("xds-grpc")),
    );
    let ads_config = Json::object()
        .with("api_type", Json::str("GRPC"))
        .with("grpc_services", Json::array([grpc]))
        .with("set_node_on_first_message_only", Json::Bool(true))
        .with("transport_api_version", Json::str("V3"));
    let dynamic = Json::object()
        .with("lds_config", ads.clone())
        .with("cds_config", ads)
        .with("ads_config", ads_config);
    let admin_address = Json::object().with(
        "socket_address",
        Json::object()
            .with("address", Json::str("127.0.0.1"))
            .with("port_value", Json::uint(15000)),
    );
    let bootstrap = Json::object()
        .with("node", node(state, false))
        .with("dynamic_resources", dynamic)
        .with("admin", Json::object().with("address", admin_address))
        .with("stats_config", stats_config(state.inclusion));
    Json::object()
        .with("@type", Json::str(format!("{ADMIN}BootstrapConfigDump")))
        .with("bootstrap", bootstrap)
        .with("last_updated", Json::str(BOOTSTRAP_LOADED))
}

/// Istio's `stats_config`: tag regexes and the inclusion list. `Full` inclusion is the opt-in
/// `proxyStatsMatcher.inclusionRegexps: [".*"]` on top of the defaults.
fn stats_config(inclusion: StatsInclusion) -> Json {
    let tags = ISTIO_TAG_RULES.iter().map(|r| {
        Json::object()
            .with("tag_name", Json::str(r.name))
            .with("regex", Json::str(r.regex))
    });
    let pattern = |kind: &str, value: &str| Json::object().with(kind, Json::str(value));
    let mut patterns: Vec<Json> = ISTIO_DEFAULT_PREFIXES
        .iter()
        .map(|p| pattern("prefix", p))
        .collect();
    patterns.extend(ISTIO_DEFAULT_SUFFIXES.iter().map(|s| pattern("suffix", s)));
    if inclusion == StatsInclusion::Full {
        let regex = Json::object().with("regex", Json::str(".*"));
        patterns.push(Json::object().with("safe_regex", regex));
    }
    let matcher = Json::object().with(
        "inclusion_list",
        Json::object().with("patterns", Json::Array(patterns)),
    );
    Json::object()
        .with("stats_tags", Json::array(tags))
        .with("use_all_default_tags", Json::Bool(false))
        .with("stats_matcher", matcher)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::envoy::sample_sidecar::sidecar;

    #[test]
    fn sections_and_resources() {
        let state = sidecar();
        let full = render_config_dump(&state, None).unwrap();
        assert!(full.starts_with("{\n \"configs\": [\n  {\n   \"@type\": \"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump\","));
        assert!(full.contains(r#""tag_name": "cluster_name","#));
        assert!(
            full.contains(r#""regex": ".*""#),
            "Full inclusion opts in to every stat"
        );
        let statics = render_config_dump(&state, Some("static_clusters")).unwrap();
        assert!(statics.contains("ClustersConfigDump.StaticCluster"));
        assert_eq!(statics.matches(r#""name": "#).count(), 1, "xds-grpc only");
        assert_eq!(
            render_config_dump(&state, Some("static_route_configs")).unwrap(),
            "{}\n"
        );
        let err = render_config_dump(&state, Some("bootstrap")).unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(
            err.message,
            "bootstrap is not a repeated field. Use ?mask=bootstrap to get only this field"
        );
    }

    #[test]
    fn default_inclusion_matcher() {
        let text = stats_config(StatsInclusion::IstioDefault).compact();
        assert!(text.contains(r#"{"prefix":"cluster.xds-grpc"}"#));
        assert!(text.contains(r#"{"suffix":"downstream_cx_active"}"#));
        assert!(!text.contains("safe_regex"));
    }
}
