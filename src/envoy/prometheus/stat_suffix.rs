//! From Prometheus metric names back to the stat names of the text `/stats` format.
//!
//! Envoy's Prometheus output drops the tag values out of the stat name into labels (the
//! cluster name, response codes, cipher suites) and turns every character that Prometheus does
//! not allow in a name (`.`, `-`) into `_`. This module undoes that for the parts meshtop reads,
//! so a cluster stat has the same suffix whatever format it came from:
//! `envoy_cluster_circuit_breakers_default_rq_open` → `circuit_breakers.default.rq_open`.
//!
//! The `_` → `.` step cannot be undone in general; it is undone only for the sub-scopes listed
//! in [`CLUSTER_SCOPES`] and [`OTHER_SCOPES`]. Everything after a scope is kept as printed, so
//! `ssl_ciphers_ECDHE_RSA_AES128_GCM_SHA256` becomes `ssl.ciphers.ECDHE_RSA_AES128_GCM_SHA256`
//! (the original had `-`). To teach it a new sub-scope, add one row to the table.

use super::exposition::{Label, find_label};

/// Prometheus spelling → text spelling of a sub-scope at the start of a cluster stat suffix.
/// First match wins, so longer prefixes come before shorter ones that share a start.
const CLUSTER_SCOPES: &[(&str, &str)] = &[
    ("circuit_breakers_default_", "circuit_breakers.default."),
    ("circuit_breakers_high_", "circuit_breakers.high."),
    ("outlier_detection_", "outlier_detection."),
    ("health_check_", "health_check."),
    ("internal_", "internal."),
    ("external_", "external."),
    ("canary_", "canary."),
    ("retry_upstream_", "retry.upstream_"),
    ("ssl_ciphers_", "ssl.ciphers."),
    ("ssl_curves_", "ssl.curves."),
    ("ssl_sigalgs_", "ssl.sigalgs."),
    ("ssl_certificate_", "ssl.certificate."),
    ("ssl_", "ssl."),
    ("client_ssl_socket_factory_", "client_ssl_socket_factory."),
    ("http1_", "http1."),
    ("http2_", "http2."),
    ("http3_", "http3."),
    ("metadata_exchange_", "metadata_exchange."),
    ("tcp_stats_", "tcp_stats."),
    ("zone_", "zone."),
    ("grpc_", "grpc."),
];

/// Prometheus spelling → text spelling of the label-free proxy-wide stats meshtop reads by
/// their text names (`server.uptime` detects restarts).
const OTHER_SCOPES: &[(&str, &str)] = &[
    (
        "envoy_server_compilation_settings_",
        "server.compilation_settings.",
    ),
    ("envoy_server_main_thread_", "server.main_thread."),
    ("envoy_server_", "server."),
    ("envoy_cluster_manager_cds_", "cluster_manager.cds."),
    ("envoy_cluster_manager_", "cluster_manager."),
    ("envoy_listener_manager_lds_", "listener_manager.lds."),
    ("envoy_listener_manager_", "listener_manager."),
];

/// Writes the text-format suffix of cluster stat `rest` (the metric name without
/// `envoy_cluster_`) into `out`, putting back the tag values found in `labels`.
///
/// - sub-scopes from [`CLUSTER_SCOPES`]; `ssl_versions_TLSv1_3` → `ssl.versions.TLSv1.3`;
/// - transport-socket matches: `default_total_match_count` → `default.total_match_count`,
///   `tlsMode_istio_total_match_count` → `tlsMode-istio.total_match_count` (Istio's match
///   names are `tlsMode-<x>`; Prometheus turned the `-` into `_`);
/// - response codes: `upstream_rq{response_code="503"}` (Istio) or
///   `{envoy_response_code="503"}` (Envoy) → `upstream_rq_503`; classes:
///   `upstream_rq_xx{envoy_response_code_class="5"}` or `upstream_rq{response_code_class="5xx"}`
///   → `upstream_rq_5xx`;
/// - `ssl_ciphers{envoy_ssl_cipher_suite="X"}` → `ssl.ciphers.X`;
///   `grpc_streams_total{envoy_grpc_bridge_service="S",envoy_grpc_bridge_method="M"}` →
///   `grpc.S.M.streams_total`.
pub(crate) fn write_cluster_suffix(rest: &str, labels: &[Label<'_>], out: &mut String) {
    out.clear();
    if let Some(versions) = rest.strip_prefix("ssl_versions_") {
        out.push_str("ssl.versions.");
        out.extend(versions.chars().map(|c| if c == '_' { '.' } else { c }));
    } else if let Some(matcher) = rest.strip_suffix("_total_match_count") {
        match matcher.strip_prefix("tlsMode_") {
            Some(mode) => {
                out.push_str("tlsMode-");
                out.push_str(mode);
            }
            None => out.push_str(matcher),
        }
        out.push_str(".total_match_count");
    } else {
        match CLUSTER_SCOPES
            .iter()
            .find(|(prom, _)| rest.starts_with(prom))
        {
            Some((prom, text)) => {
                out.push_str(text);
                out.push_str(&rest[prom.len()..]);
            }
            None => out.push_str(rest),
        }
    }
    put_back_tags(labels, out);
}

fn label_either<'l>(labels: &'l [Label<'_>], istio: &str, envoy: &str) -> Option<&'l str> {
    find_label(labels, istio).or_else(|| find_label(labels, envoy))
}

fn put_back_tags(labels: &[Label<'_>], out: &mut String) {
    if let Some(code) = label_either(labels, "response_code", "envoy_response_code") {
        out.push('_');
        out.push_str(code);
    } else if let Some(class) =
        label_either(labels, "response_code_class", "envoy_response_code_class")
    {
        if out.ends_with("_xx") {
            out.truncate(out.len() - 3);
        }
        out.push('_');
        out.push_str(class);
        if !class.ends_with("xx") {
            out.push_str("xx");
        }
    }
    if let Some(suite) = find_label(labels, "envoy_ssl_cipher_suite") {
        out.push('.');
        out.push_str(suite);
    }
    let service = find_label(labels, "envoy_grpc_bridge_service");
    let method = find_label(labels, "envoy_grpc_bridge_method");
    if (service.is_some() || method.is_some()) && out.starts_with("grpc.") {
        let stat = out.split_off("grpc.".len());
        for part in [service, method].into_iter().flatten() {
            out.push_str(part);
            out.push('.');
        }
        out.push_str(&stat);
    }
}

/// Writes the text-format name of a label-free proxy-wide stat (`envoy_server_uptime` →
/// `server.uptime`, `envoy_cluster_manager_cds_version` → `cluster_manager.cds.version`) and
/// returns true, or returns false when `name` is not in [`OTHER_SCOPES`].
pub(crate) fn write_other_alias(name: &str, out: &mut String) -> bool {
    out.clear();
    match OTHER_SCOPES.iter().find(|(prom, _)| name.starts_with(prom)) {
        Some((prom, text)) if name.len() > prom.len() => {
            out.push_str(text);
            out.push_str(&name[prom.len()..]);
            true
        }
        _ => false,
    }
}

/// `base{k="v",…}` from sorted labels, leaving out the label `skip`; just `base` without labels.
pub(crate) fn write_key(base: &str, labels: &[Label<'_>], skip: &str, out: &mut String) {
    out.clear();
    out.push_str(base);
    let mut open = false;
    for label in labels.iter().filter(|l| l.name != skip) {
        out.push(if open { ',' } else { '{' });
        open = true;
        out.push_str(label.name);
        out.push_str("=\"");
        if memchr::memchr3(b'\\', b'"', b'\n', label.value.as_bytes()).is_none() {
            out.push_str(&label.value);
        } else {
            for c in label.value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
        }
        out.push('"');
    }
    if open {
        out.push('}');
    }
}

/// Labels that describe the proxy as a whole rather than the stat (Consul's dataplane adds
/// them to every Envoy metric). They do not stop a stat from getting its text-format alias.
pub(crate) fn is_proxy_label(name: &str) -> bool {
    name == "local_cluster" || name.starts_with("consul_source_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn suffix(rest: &str, labels: &[(&'static str, &'static str)]) -> String {
        let labels: Vec<Label<'_>> = labels
            .iter()
            .map(|&(name, v)| Label {
                name,
                value: Cow::Borrowed(v),
            })
            .collect();
        let mut out = String::from("stale");
        write_cluster_suffix(rest, &labels, &mut out);
        out
    }

    #[test]
    fn scopes_become_dotted() {
        assert_eq!(
            suffix("circuit_breakers_default_rq_open", &[]),
            "circuit_breakers.default.rq_open"
        );
        assert_eq!(
            suffix("circuit_breakers_high_cx_pool_open", &[]),
            "circuit_breakers.high.cx_pool_open"
        );
        assert_eq!(
            suffix("outlier_detection_ejections_active", &[]),
            "outlier_detection.ejections_active"
        );
        assert_eq!(
            suffix("internal_upstream_rq_completed", &[]),
            "internal.upstream_rq_completed"
        );
        assert_eq!(
            suffix("external_upstream_rq_time", &[]),
            "external.upstream_rq_time"
        );
        assert_eq!(
            suffix("canary_upstream_rq_completed", &[]),
            "canary.upstream_rq_completed"
        );
        assert_eq!(suffix("health_check_attempt", &[]), "health_check.attempt");
        assert_eq!(suffix("ssl_handshake", &[]), "ssl.handshake");
        assert_eq!(suffix("ssl_versions_TLSv1_3", &[]), "ssl.versions.TLSv1.3");
        assert_eq!(
            suffix("ssl_ciphers_TLS_AES_128_GCM_SHA256", &[]),
            "ssl.ciphers.TLS_AES_128_GCM_SHA256"
        );
        assert_eq!(suffix("ssl_curves_X25519", &[]), "ssl.curves.X25519");
        assert_eq!(suffix("http1_response_flood", &[]), "http1.response_flood");
        assert_eq!(suffix("http2_rx_reset", &[]), "http2.rx_reset");
        assert_eq!(
            suffix("client_ssl_socket_factory_ssl_context_update_by_sds", &[]),
            "client_ssl_socket_factory.ssl_context_update_by_sds"
        );
        assert_eq!(
            suffix("metadata_exchange_metadata_added", &[]),
            "metadata_exchange.metadata_added"
        );
        assert_eq!(
            suffix("retry_upstream_rq", &[("response_code", "503")]),
            "retry.upstream_rq_503"
        );
    }

    #[test]
    fn plain_stats_map_one_to_one() {
        for s in [
            "upstream_rq_timeout",
            "upstream_cx_http1_total",
            "retry_or_shadow_abandoned",
            "lb_zone_routing_sampled",
            "version",
        ] {
            assert_eq!(suffix(s, &[]), s);
        }
    }

    #[test]
    fn transport_socket_matches() {
        assert_eq!(
            suffix("default_total_match_count", &[]),
            "default.total_match_count"
        );
        assert_eq!(
            suffix("tlsMode_istio_total_match_count", &[]),
            "tlsMode-istio.total_match_count"
        );
        assert_eq!(
            suffix("tlsMode_disabled_total_match_count", &[]),
            "tlsMode-disabled.total_match_count"
        );
    }

    #[test]
    fn response_codes_and_classes_from_envoy_and_istio_labels() {
        assert_eq!(
            suffix("upstream_rq", &[("envoy_response_code", "503")]),
            "upstream_rq_503"
        );
        assert_eq!(
            suffix("upstream_rq", &[("response_code", "200")]),
            "upstream_rq_200"
        );
        assert_eq!(
            suffix("upstream_rq_xx", &[("envoy_response_code_class", "5")]),
            "upstream_rq_5xx"
        );
        assert_eq!(
            suffix("upstream_rq", &[("response_code_class", "2xx")]),
            "upstream_rq_2xx"
        );
        assert_eq!(
            suffix(
                "internal_upstream_rq_xx",
                &[("envoy_response_code_class", "2")]
            ),
            "internal.upstream_rq_2xx"
        );
        assert_eq!(
            suffix("external_upstream_rq", &[("envoy_response_code", "404")]),
            "external.upstream_rq_404"
        );
    }

    #[test]
    fn cipher_suite_and_grpc_bridge_tags_go_back_into_the_name() {
        assert_eq!(
            suffix(
                "ssl_ciphers",
                &[("envoy_ssl_cipher_suite", "ECDHE-RSA-AES128-GCM-SHA256")]
            ),
            "ssl.ciphers.ECDHE-RSA-AES128-GCM-SHA256"
        );
        let grpc = [
            ("envoy_grpc_bridge_service", "helloworld.Greeter"),
            ("envoy_grpc_bridge_method", "SayHello"),
        ];
        assert_eq!(
            suffix("grpc_success", &grpc),
            "grpc.helloworld.Greeter.SayHello.success"
        );
    }

    #[test]
    fn proxy_wide_aliases() {
        let mut out = String::new();
        assert!(write_other_alias("envoy_server_uptime", &mut out));
        assert_eq!(out, "server.uptime");
        assert!(write_other_alias(
            "envoy_cluster_manager_cds_version",
            &mut out
        ));
        assert_eq!(out, "cluster_manager.cds.version");
        assert!(write_other_alias(
            "envoy_cluster_manager_active_clusters",
            &mut out
        ));
        assert_eq!(out, "cluster_manager.active_clusters");
        assert!(write_other_alias(
            "envoy_listener_manager_total_listeners_active",
            &mut out
        ));
        assert_eq!(out, "listener_manager.total_listeners_active");
        assert!(write_other_alias(
            "envoy_server_compilation_settings_fips_mode",
            &mut out
        ));
        assert_eq!(out, "server.compilation_settings.fips_mode");
        assert!(!write_other_alias(
            "envoy_http_downstream_rq_total",
            &mut out
        ));
        assert!(!write_other_alias("envoy_server_", &mut out));
        assert!(is_proxy_label("consul_source_service") && is_proxy_label("local_cluster"));
        assert!(!is_proxy_label("envoy_worker_id"));
    }
}
