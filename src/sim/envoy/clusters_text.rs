//! `GET /clusters` in Envoy's text format, line by line as Envoy 1.30's `ClustersHandler`
//! writes it:
//!
//! ```text
//! <name>::observability_name::<name>
//! <name>::outlier::success_rate_average::-1          (4 lines, only with outlier detection)
//! <name>::default_priority::max_connections::100     (+ pending, requests, retries)
//! <name>::high_priority::max_connections::1024       (+ pending, requests, retries)
//! <name>::added_via_api::true
//! <name>::eds_service_name::<name>                   (EDS clusters)
//! <name>::<host>::cx_active::2                       (host stats sorted by name)
//! <name>::<host>::hostname::                         (then health_flags, weight, region,
//!                                                     zone, sub_zone, canary, priority,
//!                                                     success_rate, local_origin_success_rate)
//! ```
//!
//! Clusters print in state order (Envoy's is its hash-map order). Success rates are `-1`
//! (no outlier success-rate data), printed with fmt's `{}` as Envoy ≥ 1.2x does.

use crate::sim::model::{SimCluster, SimHost};

use super::upstream::{
    Limits, default_limits, dns_hostname, eds_service_name, health_flags_text, high_limits,
    is_bootstrap,
};

/// The text body of a `/clusters` response.
pub(super) fn render_clusters_text(clusters: &[SimCluster]) -> String {
    let mut out = String::new();
    for cluster in clusters {
        write_cluster(&mut out, cluster);
    }
    out
}

fn write_cluster(out: &mut String, c: &SimCluster) {
    let name = &c.name;
    out.push_str(&format!("{name}::observability_name::{name}\n"));
    if c.config.outlier_detection.is_some() {
        for field in [
            "success_rate_average",
            "success_rate_ejection_threshold",
            "local_origin_success_rate_average",
            "local_origin_success_rate_ejection_threshold",
        ] {
            out.push_str(&format!("{name}::outlier::{field}::-1\n"));
        }
    }
    write_limits(out, name, "default", default_limits(c));
    write_limits(out, name, "high", high_limits(c));
    out.push_str(&format!("{name}::added_via_api::{}\n", !is_bootstrap(c)));
    if let Some(eds) = eds_service_name(c) {
        out.push_str(&format!("{name}::eds_service_name::{eds}\n"));
    }
    for host in &c.hosts {
        write_host(out, c, host);
    }
}

fn write_limits(out: &mut String, name: &str, priority: &str, l: Limits) {
    let limits = [
        ("max_connections", l.max_connections),
        ("max_pending_requests", l.max_pending_requests),
        ("max_requests", l.max_requests),
        ("max_retries", l.max_retries),
    ];
    for (field, value) in limits {
        out.push_str(&format!("{name}::{priority}_priority::{field}::{value}\n"));
    }
}

/// Host counters and gauges merged and sorted by name, then the host's attributes.
fn write_host(out: &mut String, c: &SimCluster, h: &SimHost) {
    let prefix = format!("{}::{}", c.name, h.address);
    let stats = [
        ("cx_active", h.cx_active),
        ("cx_connect_fail", h.cx_connect_fail),
        ("cx_total", h.cx_total),
        ("rq_active", h.rq_active),
        ("rq_error", h.rq_error),
        ("rq_success", h.rq_success),
        ("rq_timeout", h.rq_timeout),
        ("rq_total", h.rq_total),
    ];
    for (stat, value) in stats {
        out.push_str(&format!("{prefix}::{stat}::{value}\n"));
    }
    let attributes = [
        ("hostname", dns_hostname(c).unwrap_or_default().to_string()),
        ("health_flags", health_flags_text(h)),
        ("weight", h.weight.to_string()),
        ("region", String::new()),
        ("zone", h.zone.clone()),
        ("sub_zone", String::new()),
        ("canary", "false".to_string()),
        ("priority", "0".to_string()),
        ("success_rate", "-1".to_string()),
        ("local_origin_success_rate", "-1".to_string()),
    ];
    for (attribute, value) in attributes {
        out.push_str(&format!("{prefix}::{attribute}::{value}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::envoy::sample_sidecar::{INVENTORY, STRIPE, sidecar};

    #[test]
    fn lines_in_envoys_order() {
        let body = render_clusters_text(&sidecar().clusters);
        let inventory: Vec<&str> = (body.lines())
            .filter_map(|l| l.strip_prefix(INVENTORY)?.strip_prefix("::"))
            .collect();
        assert_eq!(
            inventory[..6],
            [
                "observability_name::outbound|8080||inventory-svc.prod.svc.cluster.local",
                "outlier::success_rate_average::-1",
                "outlier::success_rate_ejection_threshold::-1",
                "outlier::local_origin_success_rate_average::-1",
                "outlier::local_origin_success_rate_ejection_threshold::-1",
                "default_priority::max_connections::100",
            ]
        );
        assert_eq!(inventory[13], "added_via_api::true");
        assert_eq!(inventory[14], format!("eds_service_name::{INVENTORY}"));
        assert_eq!(inventory[15], "10.4.2.7:8080::cx_active::2");
        assert_eq!(inventory.len(), 15 + 2 * 18);
        assert!(inventory.contains(&"10.4.3.19:8080::health_flags::/failed_outlier_check"));
        assert!(body.contains(&format!(
            "{STRIPE}::[2600:1f18::1]:443::hostname::api.stripe.com\n"
        )));
        assert!(body.contains("xds-grpc::added_via_api::false\n"));
        assert!(body.contains("xds-grpc::high_priority::max_pending_requests::100000\n"));
        assert!(body.ends_with("xds-grpc::./etc/istio/proxy/XDS::local_origin_success_rate::-1\n"));
    }
}
