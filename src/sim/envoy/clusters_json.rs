//! `GET /clusters?format=json`: the `envoy.admin.v3.Clusters` message as protobuf JSON, with
//! Envoy's field order and proto3 defaults left out.
//!
//! Per cluster: `name`, `added_via_api` (only when true), `host_statuses`, `circuit_breakers`
//! (DEFAULT without `priority`, then HIGH), `observability_name`, `eds_service_name`. Per host:
//! `address` (`socket_address` or `pipe`), `stats` (the six counters, then the gauges
//! `cx_active`, `rq_active` with `"type": "GAUGE"`; values are int64 strings and a zero value
//! is left out), `health_status` (`eds_health_status` plus `failed_*: true` flags), `weight`,
//! `hostname`, `locality`. Success rates are absent (no outlier success-rate data).

use crate::sim::model::{SimCluster, SimHost};

use super::json::Json;
use super::upstream::{
    HostAddress, Limits, default_limits, dns_hostname, eds_service_name, has_flag, high_limits,
    is_bootstrap, parse_address,
};

/// The JSON body of a `/clusters?format=json` response.
pub(super) fn render_clusters_json(clusters: &[SimCluster]) -> String {
    if clusters.is_empty() {
        return Json::object().pretty();
    }
    let statuses = clusters.iter().map(cluster_status);
    Json::object()
        .with("cluster_statuses", Json::array(statuses))
        .pretty()
}

fn cluster_status(c: &SimCluster) -> Json {
    let hosts: Vec<Json> = c.hosts.iter().map(|h| host_status(c, h)).collect();
    let thresholds = [
        thresholds(None, default_limits(c)),
        thresholds(Some("HIGH"), high_limits(c)),
    ];
    Json::object()
        .with("name", Json::str(c.name.as_str()))
        .with_some(
            "added_via_api",
            (!is_bootstrap(c)).then_some(Json::Bool(true)),
        )
        .with_some(
            "host_statuses",
            (!hosts.is_empty()).then_some(Json::Array(hosts)),
        )
        .with(
            "circuit_breakers",
            Json::object().with("thresholds", Json::array(thresholds)),
        )
        .with("observability_name", Json::str(c.name.as_str()))
        .with_some("eds_service_name", eds_service_name(c).map(Json::str))
}

fn thresholds(priority: Option<&str>, l: Limits) -> Json {
    Json::object()
        .with_some("priority", priority.map(Json::str))
        .with("max_connections", Json::uint(l.max_connections.into()))
        .with(
            "max_pending_requests",
            Json::uint(l.max_pending_requests.into()),
        )
        .with("max_requests", Json::uint(l.max_requests.into()))
        .with("max_retries", Json::uint(l.max_retries.into()))
}

fn host_status(c: &SimCluster, h: &SimHost) -> Json {
    let counters = [
        ("cx_connect_fail", h.cx_connect_fail),
        ("cx_total", h.cx_total),
        ("rq_error", h.rq_error),
        ("rq_success", h.rq_success),
        ("rq_timeout", h.rq_timeout),
        ("rq_total", h.rq_total),
    ];
    let gauges = [("cx_active", h.cx_active), ("rq_active", h.rq_active)];
    let stats = (counters.iter().map(|&(n, v)| metric(n, v, false)))
        .chain(gauges.iter().map(|&(n, v)| metric(n, v, true)));
    let locality =
        (!h.zone.is_empty()).then(|| Json::object().with("zone", Json::str(h.zone.as_str())));
    Json::object()
        .with("address", address(&h.address))
        .with("stats", Json::array(stats))
        .with("health_status", health_status(h))
        .with_some(
            "weight",
            (h.weight > 0).then(|| Json::uint(h.weight.into())),
        )
        .with_some("hostname", dns_hostname(c).map(Json::str))
        .with_some("locality", locality)
}

/// protobuf's `Address` for a host address.
pub(super) fn address(text: &str) -> Json {
    match parse_address(text) {
        HostAddress::Socket { ip, port } => Json::object().with(
            "socket_address",
            Json::object()
                .with("address", Json::str(ip))
                .with("port_value", Json::uint(port.into())),
        ),
        HostAddress::Pipe(path) => {
            Json::object().with("pipe", Json::object().with("path", Json::str(path)))
        }
    }
}

/// A `SimpleMetric`: `type` only for gauges, `value` (an int64 string) only when non-zero.
fn metric(name: &str, value: u64, gauge: bool) -> Json {
    Json::object()
        .with_some("type", gauge.then(|| Json::str("GAUGE")))
        .with_some("value", (value > 0).then(|| Json::str(value.to_string())))
        .with("name", Json::str(name))
}

fn health_status(h: &SimHost) -> Json {
    let eds = if has_flag(h, "eds_status_draining") {
        "DRAINING"
    } else if has_flag(h, "failed_eds_health") {
        "UNHEALTHY"
    } else if has_flag(h, "degraded_eds_health") {
        "DEGRADED"
    } else {
        "HEALTHY"
    };
    let flag = |name: &str| has_flag(h, name).then_some(Json::Bool(true));
    Json::object()
        .with_some("failed_active_health_check", flag("failed_active_hc"))
        .with_some("failed_outlier_check", flag("failed_outlier_check"))
        .with("eds_health_status", Json::str(eds))
        .with_some("failed_active_degraded_check", flag("degraded_active_hc"))
        .with_some("pending_dynamic_removal", flag("pending_dynamic_removal"))
        .with_some("pending_active_hc", flag("pending_active_hc"))
        .with_some(
            "excluded_via_immediate_hc_fail",
            flag("excluded_via_immediate_hc_fail"),
        )
        .with_some("active_hc_timeout", flag("active_hc_timeout"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::envoy::sample_sidecar::host;

    #[test]
    fn host_status_leaves_defaults_out() {
        let mut h = host(
            "[fd00::7]:9080",
            &["/failed_active_hc", "/failed_eds_health"],
        );
        h.cx_connect_fail = 0;
        h.weight = 0;
        h.zone.clear();
        let cluster = crate::sim::envoy::sample_sidecar::sidecar()
            .clusters
            .remove(0);
        let json = host_status(&cluster, &h).compact();
        assert!(json.starts_with(
            r#"{"address":{"socket_address":{"address":"fd00::7","port_value":9080}},"stats":[{"name":"cx_connect_fail"},{"value":"451","name":"cx_total"},"#
        ), "{json}");
        assert!(
            json.contains(r#"{"type":"GAUGE","value":"13","name":"rq_active"}]"#),
            "{json}"
        );
        assert!(json.ends_with(
            r#""health_status":{"failed_active_health_check":true,"eds_health_status":"UNHEALTHY"}}"#
        ), "{json}");
        assert_eq!(render_clusters_json(&[]), "{}\n");
    }
}
