//! The `envoy.config.route.v3.RouteConfiguration` resources of `/config_dump`, built from the
//! [`SimRoute`]s of every cluster.
//!
//! Routes are grouped by route configuration (Istio: the port, `8080`) and virtual host
//! (`<host>:<port>`), in the order they first appear. Each route matches prefix `/` and sends
//! to its cluster with Istio's route settings: `timeout` (`"0s"` = disabled),
//! `max_stream_duration` mirroring it, and — unless retries are off (0 attempts) — Istio's
//! `retry_policy` (`retry_on`, `num_retries`, `per_try_timeout`, the `previous_hosts` predicate,
//! `host_selection_retry_max_attempts` `"5"`, `retriable_status_codes` `[503]`).

use crate::sim::model::{SimCluster, SimRoute};

use super::config_cluster::duration;
use super::json::Json;

const ROUTE_TYPE: &str = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
/// Istio's default `retry_on` when a VirtualService sets no `retryOn`.
const ISTIO_RETRY_ON: &str =
    "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

/// One virtual host being assembled: name, domains, routes.
type VirtualHost = (String, Vec<String>, Vec<Json>);

/// Every route configuration (with its `@type`), in first-seen order.
pub(super) fn route_configs(clusters: &[SimCluster]) -> Vec<Json> {
    let mut configs: Vec<(String, Vec<VirtualHost>)> = Vec::new();
    for cluster in clusters {
        for route in &cluster.routes {
            let config = match configs.iter().position(|(n, _)| *n == route.route_config) {
                Some(i) => &mut configs[i].1,
                None => {
                    configs.push((route.route_config.clone(), Vec::new()));
                    let last = configs.len() - 1;
                    &mut configs[last].1
                }
            };
            let vhost = match config.iter().position(|(n, _, _)| *n == route.virtual_host) {
                Some(i) => &mut config[i],
                None => {
                    config.push((
                        route.virtual_host.clone(),
                        route.domains.clone(),
                        Vec::new(),
                    ));
                    let last = config.len() - 1;
                    &mut config[last]
                }
            };
            vhost.2.push(route_entry(&cluster.name, route));
        }
    }
    configs
        .into_iter()
        .map(|(name, vhosts)| route_config(&name, vhosts))
        .collect()
}

fn route_config(name: &str, vhosts: Vec<VirtualHost>) -> Json {
    let vhosts = vhosts.into_iter().map(|(name, domains, routes)| {
        Json::object()
            .with("name", Json::str(name))
            .with("domains", Json::array(domains.into_iter().map(Json::Str)))
            .with("routes", Json::Array(routes))
            .with("include_request_attempt_count", Json::Bool(true))
    });
    Json::object()
        .with("@type", Json::str(ROUTE_TYPE))
        .with("name", Json::str(name))
        .with("virtual_hosts", Json::array(vhosts))
        .with("validate_clusters", Json::Bool(false))
        .with("max_direct_response_body_size_bytes", Json::uint(1_048_576))
        .with("ignore_port_in_host_matching", Json::Bool(true))
}

fn route_entry(cluster: &str, r: &SimRoute) -> Json {
    let timeout = Json::str(duration(r.timeout_ms.unwrap_or(0)));
    let stream = Json::object()
        .with("max_stream_duration", timeout.clone())
        .with("grpc_timeout_header_max", timeout.clone());
    let action = Json::object()
        .with("cluster", Json::str(cluster))
        .with("timeout", timeout)
        .with_some("retry_policy", (r.num_retries > 0).then(|| retry_policy(r)))
        .with("max_stream_duration", stream);
    let operation = format!("{}/*", r.virtual_host);
    Json::object()
        .with("match", Json::object().with("prefix", Json::str("/")))
        .with("route", action)
        .with(
            "decorator",
            Json::object().with("operation", Json::str(operation)),
        )
}

fn retry_policy(r: &SimRoute) -> Json {
    let retry_on = if r.retry_on.is_empty() {
        ISTIO_RETRY_ON
    } else {
        r.retry_on.as_str()
    };
    let predicate = Json::object()
        .with("name", Json::str("envoy.retry_host_predicates.previous_hosts"))
        .with(
            "typed_config",
            Json::object().with(
                "@type",
                Json::str("type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"),
            ),
        );
    let codes = retry_on
        .contains("retriable-status-codes")
        .then(|| Json::array([Json::uint(503)]));
    Json::object()
        .with("retry_on", Json::str(retry_on))
        .with("num_retries", Json::uint(r.num_retries.into()))
        .with_some(
            "per_try_timeout",
            r.per_try_timeout_ms.map(|ms| Json::str(duration(ms))),
        )
        .with("retry_host_predicate", Json::array([predicate]))
        .with("host_selection_retry_max_attempts", Json::str("5"))
        .with_some("retriable_status_codes", codes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::envoy::sample_sidecar::sidecar;

    #[test]
    fn routes_group_by_config_and_virtual_host() {
        let mut clusters = sidecar().clusters;
        let mut second = clusters[0].routes[0].clone();
        second.num_retries = 2;
        second.per_try_timeout_ms = Some(250);
        clusters[1].routes.push(second);
        let configs = route_configs(&clusters);
        assert_eq!(configs.len(), 1);
        let text = configs[0].compact();
        assert_eq!(
            text.matches(r#""name":"inventory-svc.prod.svc.cluster.local:8080""#)
                .count(),
            1
        );
        assert_eq!(text.matches(r#""prefix":"/""#).count(), 2);
        assert_eq!(
            text.matches("retry_policy").count(),
            1,
            "0 attempts: no retry policy"
        );
        assert!(
            text.contains(r#""num_retries":2,"per_try_timeout":"0.250s""#),
            "{text}"
        );
        assert!(text.contains(r#""timeout":"1s""#));
    }
}
