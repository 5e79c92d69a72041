//! The effective Envoy configuration a sidecar would have been given by istiod for a
//! scenario — cluster settings (connect timeout, idle timeout, circuit breakers, outlier
//! detection, mTLS) and HTTP routes (timeout, retries) — plus the clusters Istio and Envoy add
//! for themselves (`xds-grpc`, `sds-grpc`, `agent`, `prometheus_stats`, `BlackHoleCluster`,
//! `PassthroughCluster`, `InboundPassthroughCluster`) and proxy-wide counters.
//!
//! Values follow Istio's defaults (connect timeout 10 s, limits 2^32-1, retries 2 on
//! `DEFAULT_RETRY_ON`) unless the scenario's DestinationRule/VirtualService set them; Istio
//! applies a DR's `connectionPool` to the server's inbound cluster too.

use std::collections::BTreeMap;

use super::cluster_render::{ClusterView, Shape, render_cluster};
use super::cluster_state::{ClusterState, Wire};
use super::counter::Counter;
use super::mesh_config::{APP_NAMESPACE, needs_virtual_service};
use super::model::{SimCluster, SimClusterConfig, SimRoute};
use super::runtime::Target;
use super::scenario::{Protocol, Scenario};
use super::traffic::Simulation;

/// istiod's default `retryOn` for outbound HTTP routes.
const DEFAULT_RETRY_ON: &str =
    "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";
/// istiod re-pushes configuration this often in the simulation.
const PUSH_EVERY_SECS: u64 = 300;
/// istiod closes xDS streams after this long (they are reopened at once).
const XDS_STREAM_SECS: u64 = 1800;
const SDS_SOCKET: &str = "./var/run/secrets/workload-spiffe-uds/socket";
const XDS_SOCKET: &str = "./etc/istio/proxy/XDS";

/// Istio's defaults for a cluster no DestinationRule governs.
pub(super) fn plain_config(istio_mtls: bool) -> SimClusterConfig {
    SimClusterConfig::istio_default("EDS", istio_mtls)
}

/// The cluster settings for `service` (outbound: the client's view; else the inbound cluster).
pub(super) fn cluster_config(s: &Scenario, service: usize, outbound: bool) -> SimClusterConfig {
    let svc = &s.services[service];
    let p = s.policy(svc.name);
    let outlier = p.and_then(|p| p.outlier).filter(|_| outbound);
    SimClusterConfig {
        idle_timeout_ms: p.and_then(|p| p.idle_timeout_ms),
        http2: svc.protocol == Protocol::Grpc,
        max_connections: p.and_then(|p| p.max_connections).unwrap_or(u32::MAX),
        max_pending_requests: p.and_then(|p| p.max_pending).unwrap_or(u32::MAX),
        outlier_detection: outlier.map(|o| {
            (
                o.consecutive_5xx,
                o.interval_ms,
                o.base_ejection_ms,
                o.max_ejection_percent,
            )
        }),
        istio_mtls: outbound && !p.is_some_and(|p| p.tls_disable),
        discovery_type: (if outbound { "EDS" } else { "ORIGINAL_DST" }).to_string(),
        ..plain_config(false)
    }
}

/// The route that sends traffic into the outbound cluster of `t`: the VirtualService's when
/// one routes the host (only to its subset's cluster), else Istio's default route to the
/// plain cluster. TCP services have none.
pub(super) fn routes_for(sim: &Simulation, t: &Target) -> Vec<SimRoute> {
    let s = &sim.scenario;
    let svc = &s.services[t.service];
    if svc.protocol == Protocol::Tcp {
        return Vec::new();
    }
    let vs = s
        .edges
        .iter()
        .find(|e| e.to == svc.name && needs_virtual_service(e));
    if t.subset != vs.and_then(|e| e.subset) {
        return Vec::new();
    }
    let fqdn = format!("{}.{APP_NAMESPACE}.svc.cluster.local", svc.name);
    let ip = sim
        .world
        .services
        .get(t.service)
        .map_or("", |x| x.cluster_ip.as_str());
    let retries = !vs.is_some_and(|e| e.retries_disabled);
    vec![SimRoute {
        route_config: svc.port.to_string(),
        virtual_host: format!("{fqdn}:{}", svc.port),
        domains: vec![
            fqdn.clone(),
            svc.name.to_string(),
            format!("{}.{APP_NAMESPACE}.svc", svc.name),
            format!("{}.{APP_NAMESPACE}", svc.name),
            ip.to_string(),
        ],
        timeout_ms: vs.and_then(|e| e.timeout_ms),
        num_retries: if retries { 2 } else { 0 },
        per_try_timeout_ms: None,
        retry_on: (if retries { DEFAULT_RETRY_ON } else { "" }).to_string(),
    }]
}

/// The inbound HTTP route (no timeout, no retries); none for TCP.
pub(super) fn inbound_routes(port: u16, http: bool) -> Vec<SimRoute> {
    if !http {
        return Vec::new();
    }
    vec![SimRoute {
        route_config: format!("inbound|{port}||"),
        virtual_host: format!("inbound|http|{port}"),
        domains: vec!["*".to_string()],
        timeout_ms: None,
        num_retries: 0,
        per_try_timeout_ms: None,
        retry_on: String::new(),
    }]
}

/// A gRPC client with one long-lived stream on one connection, reopened `streams` times.
fn hold_grpc_stream(c: &mut ClusterState, streams: u64) {
    c.open_conn(0, 0, 1, Wire::Http2);
    c.add(Counter::RqTotal, streams + 1);
    c.hosts[0].stats.rq_total = streams + 1;
    c.hosts[0].stats.rq_success = streams;
    (0..streams).for_each(|_| c.count_code(200));
}

/// A special cluster with at most one endpoint; gRPC ones keep one stream open.
fn special(name: &str, discovery: &str, address: Option<&str>, streams: Option<u64>) -> SimCluster {
    let mut c = ClusterState::default();
    if address.is_some() {
        c.sync_hosts(&[usize::MAX], 1);
    }
    if let Some(n) = streams {
        hold_grpc_stream(&mut c, n);
    }
    let config = SimClusterConfig {
        discovery_type: discovery.to_string(),
        http2: streams.is_some(),
        ..plain_config(false)
    };
    let addresses = address
        .map(|a| (a.to_string(), String::new()))
        .into_iter()
        .collect();
    let mut view = ClusterView::idle(&c, Shape::of(&config, false), addresses);
    view.active = streams.map(|_| vec![1]).unwrap_or_default();
    render_cluster(name.to_string(), &view, config, Vec::new())
}

/// The clusters every Istio sidecar has besides the mesh's services.
pub(super) fn special_clusters(uptime_secs: u64) -> Vec<SimCluster> {
    let xds_streams = uptime_secs / XDS_STREAM_SECS;
    vec![
        special("BlackHoleCluster", "STATIC", None, None),
        special("InboundPassthroughCluster", "ORIGINAL_DST", None, None),
        special("PassthroughCluster", "ORIGINAL_DST", None, None),
        special("agent", "STATIC", Some("127.0.0.1:15020"), None),
        special("prometheus_stats", "STATIC", Some("127.0.0.1:15000"), None),
        special("sds-grpc", "STATIC", Some(SDS_SOCKET), Some(0)),
        special("xds-grpc", "STATIC", Some(XDS_SOCKET), Some(xds_streams)),
    ]
}

/// Proxy-wide counters: xDS updates, clusters added, refused plaintext connections.
pub(super) fn proxy_counters(
    clusters: u64,
    uptime_secs: u64,
    refused_cx: u64,
) -> BTreeMap<String, u64> {
    let pushes = 1 + uptime_secs / PUSH_EVERY_SECS;
    [
        ("cluster_manager.cds.update_attempt", pushes + 1),
        ("cluster_manager.cds.update_success", pushes),
        ("cluster_manager.cds.update_rejected", 0),
        ("cluster_manager.cds.update_failure", 0),
        ("cluster_manager.cluster_added", clusters),
        ("cluster_manager.cluster_modified", 0),
        ("cluster_manager.cluster_removed", 0),
        ("listener_manager.lds.update_attempt", pushes + 1),
        ("listener_manager.lds.update_success", pushes),
        ("listener_manager.lds.update_rejected", 0),
        ("listener_manager.lds.update_failure", 0),
        ("listener_manager.listener_added", 4),
        ("listener.0.0.0.0_15006.no_filter_chain_match", refused_cx),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
