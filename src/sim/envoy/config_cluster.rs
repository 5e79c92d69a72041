//! One `envoy.config.cluster.v3.Cluster` resource of `/config_dump`, as istiod (or, for
//! `xds-grpc` and friends, Istio's bootstrap) would have sent it.
//!
//! Fields follow protobuf field-number order: `name`, `type`, `eds_cluster_config`,
//! `connect_timeout`, `lb_policy`, `circuit_breakers`, DNS settings, `outlier_detection`,
//! `cleanup_interval`, `upstream_bind_config`, `transport_socket`, `metadata`,
//! `common_lb_config`, `upstream_connection_options`, `load_assignment`,
//! `typed_extension_protocol_options`, `respect_dns_ttl`. Durations print as protobuf does
//! (`"2s"`, `"0.250s"`). Circuit breakers: none when the limits are Envoy's defaults; Istio's
//! DEFAULT threshold with `track_remaining`, plus a HIGH one when a DestinationRule changed
//! the limits. The HTTP options (idle timeout, max requests per connection, HTTP/2) go into
//! the v3 `HttpProtocolOptions` extension. `istio_mtls` is Istio's `ISTIO_MUTUAL` transport
//! socket with SNI `outbound_.<port>_.<subset>_.<host>`. Only `xds-grpc` has a TCP keepalive
//! (300 s), as in Istio's bootstrap template; inbound clusters bind to `127.0.0.6`.

use crate::sim::model::SimCluster;

use super::clusters_json::address;
use super::identity::CONFIG_PATH;
use super::json::Json;
use super::upstream::{
    ENVOY_DEFAULT_LIMITS, Limits, default_limits, dns_hostname, eds_service_name, high_limits,
    is_bootstrap,
};

/// The type URL of a v3 cluster resource.
const CLUSTER_TYPE: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
const HTTP_OPTIONS: &str = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
/// Istio's circuit-breaker limit when no DestinationRule sets one.
const ISTIO_UNLIMITED: u32 = u32::MAX;

/// The cluster resource (with its `@type`).
pub(super) fn cluster_resource(c: &SimCluster) -> Json {
    let cfg = &c.config;
    let kind = cfg.discovery_type.as_str();
    let dns = kind == "STRICT_DNS";
    let original_dst = kind == "ORIGINAL_DST";
    let inbound = c.name.starts_with("inbound|");
    Json::object()
        .with("@type", Json::str(CLUSTER_TYPE))
        .with("name", Json::str(c.name.as_str()))
        .with("type", Json::str(kind))
        .with_some("eds_cluster_config", eds_cluster_config(c))
        .with(
            "connect_timeout",
            Json::str(duration(cfg.connect_timeout_ms)),
        )
        .with_some("lb_policy", lb_policy(kind).map(Json::str))
        .with_some("circuit_breakers", circuit_breakers(c))
        .with_some("dns_refresh_rate", dns.then(|| Json::str("60s")))
        .with_some("dns_lookup_family", dns.then(|| Json::str("V4_ONLY")))
        .with_some("outlier_detection", outlier_detection(c))
        .with_some("cleanup_interval", original_dst.then(|| Json::str("60s")))
        .with_some("upstream_bind_config", inbound.then(inbound_bind))
        .with_some("transport_socket", cfg.istio_mtls.then(|| istio_mtls(c)))
        .with_some("metadata", istio_metadata(c))
        .with_some(
            "common_lb_config",
            lb_policy(kind).is_some().then(Json::object),
        )
        .with_some(
            "upstream_connection_options",
            (c.name == "xds-grpc").then(keepalive),
        )
        .with_some("load_assignment", load_assignment(c))
        .with_some("typed_extension_protocol_options", http_options(c))
        .with_some("respect_dns_ttl", dns.then_some(Json::Bool(true)))
}

/// EDS over Istio's ADS stream, for the cluster's own service name.
fn eds_cluster_config(c: &SimCluster) -> Option<Json> {
    let service = eds_service_name(c)?;
    let ads = Json::object()
        .with("ads", Json::object())
        .with("initial_fetch_timeout", Json::str("0s"))
        .with("resource_api_version", Json::str("V3"));
    Some(
        Json::object()
            .with("eds_config", ads)
            .with("service_name", Json::str(service)),
    )
}

/// A protobuf `Duration` from milliseconds: `2s`, `0.250s`, `1.500s`.
pub(super) fn duration(ms: u64) -> String {
    match ms % 1000 {
        0 => format!("{}s", ms / 1000),
        frac => format!("{}.{frac:03}s", ms / 1000),
    }
}

fn lb_policy(discovery_type: &str) -> Option<&'static str> {
    match discovery_type {
        "EDS" | "STRICT_DNS" | "LOGICAL_DNS" => Some("LEAST_REQUEST"),
        "ORIGINAL_DST" => Some("CLUSTER_PROVIDED"),
        _ => None,
    }
}

fn circuit_breakers(c: &SimCluster) -> Option<Json> {
    let limits = default_limits(c);
    if limits == ENVOY_DEFAULT_LIMITS {
        return None;
    }
    let bootstrap = is_bootstrap(c);
    let default = threshold(None, limits, !bootstrap);
    let unlimited = [
        limits.max_connections,
        limits.max_pending_requests,
        limits.max_requests,
        limits.max_retries,
    ] == [ISTIO_UNLIMITED; 4];
    let high =
        (bootstrap || !unlimited).then(|| threshold(Some("HIGH"), high_limits(c), !bootstrap));
    let thresholds = std::iter::once(default).chain(high);
    Some(Json::object().with("thresholds", Json::array(thresholds)))
}

/// One threshold. Istio's dynamic ones carry `max_retries` and (for DEFAULT)
/// `track_remaining`; the bootstrap's xds-grpc thresholds set only the first three limits.
fn threshold(priority: Option<&str>, l: Limits, dynamic: bool) -> Json {
    let retries = dynamic.then(|| Json::uint(l.max_retries.into()));
    let track = (dynamic && priority.is_none()).then_some(Json::Bool(true));
    Json::object()
        .with_some("priority", priority.map(Json::str))
        .with("max_connections", Json::uint(l.max_connections.into()))
        .with(
            "max_pending_requests",
            Json::uint(l.max_pending_requests.into()),
        )
        .with("max_requests", Json::uint(l.max_requests.into()))
        .with_some("max_retries", retries)
        .with_some("track_remaining", track)
}

fn outlier_detection(c: &SimCluster) -> Option<Json> {
    let (consecutive_5xx, interval_ms, base_ms, max_percent) = c.config.outlier_detection?;
    Some(
        Json::object()
            .with("consecutive_5xx", Json::uint(consecutive_5xx.into()))
            .with("interval", Json::str(duration(interval_ms)))
            .with("base_ejection_time", Json::str(duration(base_ms)))
            .with("max_ejection_percent", Json::uint(max_percent.into()))
            .with("enforcing_consecutive_5xx", Json::uint(100))
            .with("enforcing_success_rate", Json::uint(0)),
    )
}

fn inbound_bind() -> Json {
    let source = Json::object()
        .with("address", Json::str("127.0.0.6"))
        .with("port_value", Json::uint(0));
    Json::object().with("source_address", source)
}

fn keepalive() -> Json {
    let tcp = Json::object().with("keepalive_time", Json::uint(300));
    Json::object().with("tcp_keepalive", tcp)
}

/// The parts of Istio's `outbound|<port>|<subset>|<host>` name.
fn outbound_parts(name: &str) -> Option<(&str, &str, &str)> {
    let mut parts = name.strip_prefix("outbound|")?.splitn(3, '|');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

fn istio_metadata(c: &SimCluster) -> Option<Json> {
    let (_, subset, host) = outbound_parts(&c.name)?;
    let mut labels = host.split('.');
    let name = labels.next().unwrap_or(host);
    let namespace = labels
        .next()
        .filter(|_| host.ends_with(".svc.cluster.local"));
    let service = Json::object()
        .with("host", Json::str(host))
        .with(
            "name",
            Json::str(if namespace.is_some() { name } else { host }),
        )
        .with_some("namespace", namespace.map(Json::str));
    let istio = Json::object()
        .with("services", Json::array([service]))
        .with_some("subset", (!subset.is_empty()).then(|| Json::str(subset)));
    let filter = Json::object().with("istio", istio);
    Some(Json::object().with("filter_metadata", filter))
}

/// An SDS secret reference served by the istio-agent over `sds-grpc`.
fn sds_secret(name: &str) -> Json {
    let grpc = Json::object().with(
        "envoy_grpc",
        Json::object().with("cluster_name", Json::str("sds-grpc")),
    );
    let api = Json::object()
        .with("api_type", Json::str("GRPC"))
        .with("grpc_services", Json::array([grpc]))
        .with("set_node_on_first_message_only", Json::Bool(true))
        .with("transport_api_version", Json::str("V3"));
    let config = Json::object()
        .with("api_config_source", api)
        .with("initial_fetch_timeout", Json::str("0s"))
        .with("resource_api_version", Json::str("V3"));
    Json::object()
        .with("name", Json::str(name))
        .with("sds_config", config)
}

/// Istio's `ISTIO_MUTUAL` upstream TLS: workload certificate and root CA over SDS.
fn istio_mtls(c: &SimCluster) -> Json {
    let alpn = ["istio-peer-exchange", "istio"].map(Json::str);
    let context = Json::object()
        .with("alpn_protocols", Json::array(alpn))
        .with(
            "tls_certificate_sds_secret_configs",
            Json::array([sds_secret("default")]),
        )
        .with(
            "combined_validation_context",
            Json::object()
                .with_some("default_validation_context", peer_identity(c))
                .with("validation_context_sds_secret_config", sds_secret("ROOTCA")),
        );
    let sni = outbound_parts(&c.name)
        .map(|(port, subset, host)| format!("outbound_.{port}_.{subset}_.{host}"));
    let tls = Json::object()
        .with(
            "@type",
            Json::str(
                "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            ),
        )
        .with("common_tls_context", context)
        .with_some("sni", sni.map(Json::str));
    Json::object()
        .with("name", Json::str("envoy.transport_sockets.tls"))
        .with("typed_config", tls)
}

/// The SPIFFE identity Istio expects from a Kubernetes service's pods (service account =
/// service name).
fn peer_identity(c: &SimCluster) -> Option<Json> {
    let (_, _, host) = outbound_parts(&c.name)?;
    let mut labels = host.strip_suffix(".svc.cluster.local")?.split('.');
    let (name, namespace) = (labels.next()?, labels.next()?);
    let spiffe = format!("spiffe://cluster.local/ns/{namespace}/sa/{name}");
    let exact = Json::object().with("exact", Json::str(spiffe));
    Some(Json::object().with("match_subject_alt_names", Json::array([exact])))
}

/// Endpoints listed in the cluster itself: bootstrap/STATIC hosts, or the DNS name of a
/// `STRICT_DNS` cluster. EDS and ORIGINAL_DST clusters learn theirs elsewhere.
fn load_assignment(c: &SimCluster) -> Option<Json> {
    let addresses: Vec<Json> = match c.config.discovery_type.as_str() {
        "STATIC" => c.hosts.iter().map(|h| address(&h.address)).collect(),
        "STRICT_DNS" => {
            let port = outbound_parts(&c.name).and_then(|(p, _, _)| p.parse::<u16>().ok());
            let host = dns_hostname(c)?;
            vec![address(&format!("{host}:{}", port.unwrap_or(80)))]
        }
        _ => return None,
    };
    if addresses.is_empty() {
        return None;
    }
    let endpoints = addresses
        .into_iter()
        .map(|a| Json::object().with("endpoint", Json::object().with("address", a)));
    let locality = Json::object().with("lb_endpoints", Json::array(endpoints));
    Some(
        Json::object()
            .with("cluster_name", Json::str(c.name.as_str()))
            .with("endpoints", Json::array([locality])),
    )
}

/// The v3 `HttpProtocolOptions` extension, when any HTTP pool setting differs from Envoy's.
fn http_options(c: &SimCluster) -> Option<Json> {
    let cfg = &c.config;
    let per_connection = cfg.max_requests_per_connection;
    if !cfg.http2 && cfg.idle_timeout_ms.is_none() && per_connection == 0 {
        return None;
    }
    let common = Json::object()
        .with_some(
            "idle_timeout",
            cfg.idle_timeout_ms.map(|ms| Json::str(duration(ms))),
        )
        .with_some(
            "max_requests_per_connection",
            (per_connection > 0).then(|| Json::uint(per_connection.into())),
        );
    let has_common = matches!(&common, Json::Object(f) if !f.is_empty());
    let protocol = if cfg.http2 {
        "http2_protocol_options"
    } else {
        "http_protocol_options"
    };
    let options = Json::object()
        .with(
            "@type",
            Json::str(format!("type.googleapis.com/{HTTP_OPTIONS}")),
        )
        .with_some("common_http_protocol_options", has_common.then_some(common))
        .with(
            "explicit_http_config",
            Json::object().with(protocol, Json::object()),
        );
    Some(Json::object().with(HTTP_OPTIONS, options))
}

/// The pipe Istio's bootstrap uses for xds-grpc, for callers building that host.
pub fn xds_pipe_address() -> String {
    format!("{CONFIG_PATH}/XDS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_protobuf() {
        assert_eq!(duration(2000), "2s");
        assert_eq!(duration(250), "0.250s");
        assert_eq!(duration(1500), "1.500s");
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(3_600_000), "3600s");
    }

    #[test]
    fn outbound_names() {
        assert_eq!(
            outbound_parts("outbound|8080|v2|pricing-svc.prod.svc.cluster.local"),
            Some(("8080", "v2", "pricing-svc.prod.svc.cluster.local"))
        );
        assert_eq!(outbound_parts("inbound|8080||"), None);
        assert_eq!(xds_pipe_address(), "./etc/istio/proxy/XDS");
    }
}
