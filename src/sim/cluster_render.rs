//! Turns one cluster's [`ClusterState`] into the [`SimCluster`] the Envoy emulator prints:
//! the full set of counters real Envoy creates for a cluster (zeros included; dynamic ones
//! such as `upstream_rq_200`, `internal.*` and `ssl.ciphers.*` only once used), gauges derived
//! from pools, hosts and in-flight requests (circuit-breaker `remaining_*`/`*_open`,
//! membership, outlier ejections), per-host `/clusters` stats and histograms.

use std::collections::BTreeMap;

use super::cluster_state::{ClusterState, PoolLimits};
use super::counter::Counter;
use super::histogram::Histogram;
use super::model::{SimCluster, SimClusterConfig, SimHistogram, SimHost, SimRoute};
use super::outlier::ejected_count;

/// Counters every cluster has that the traffic model never moves.
const ZERO_COUNTERS: &str = "assignment_stale assignment_timeout_received bind_errors \
    http1.dropped_headers_with_underscores http1.metadata_not_supported_error \
    http1.requests_rejected_with_underscores_in_headers http1.response_flood init_fetch_timeout \
    lb_healthy_panic lb_local_cluster_not_ok lb_recalculate_zone_structures lb_subsets_created \
    lb_subsets_fallback lb_subsets_fallback_panic lb_subsets_removed lb_subsets_selected \
    lb_zone_cluster_too_small lb_zone_no_capacity_left lb_zone_number_differs \
    lb_zone_routing_all_directly lb_zone_routing_cross_zone lb_zone_routing_sampled \
    original_dst_host_invalid retry_or_shadow_abandoned update_empty update_failure \
    update_rejected upstream_cx_close_notify upstream_cx_connect_attempts_exceeded \
    upstream_cx_connect_timeout upstream_cx_connect_with_0_rtt upstream_cx_http3_total \
    upstream_cx_idle_timeout upstream_cx_max_duration_reached upstream_cx_max_requests \
    upstream_cx_pool_overflow upstream_cx_protocol_error upstream_flow_control_backed_up_total \
    upstream_flow_control_drained_total upstream_flow_control_paused_reading_total \
    upstream_flow_control_resumed_reading_total upstream_http3_broken \
    upstream_internal_redirect_failed_total upstream_internal_redirect_succeeded_total \
    upstream_rq_0rtt upstream_rq_cancelled upstream_rq_maintenance_mode \
    upstream_rq_max_duration_reached upstream_rq_per_try_idle_timeout \
    upstream_rq_per_try_timeout upstream_rq_retry upstream_rq_retry_backoff_exponential \
    upstream_rq_retry_backoff_ratelimited upstream_rq_retry_limit_exceeded \
    upstream_rq_retry_overflow upstream_rq_retry_success upstream_rq_rx_reset";
/// Counters of a cluster with Istio's mTLS transport socket that stay zero here.
const TLS_ZERO_COUNTERS: &str = "ssl.connection_error ssl.fail_verify_cert_hash \
    ssl.fail_verify_error ssl.fail_verify_no_cert ssl.fail_verify_san ssl.no_certificate \
    ssl.ocsp_staple_failed ssl.ocsp_staple_omitted ssl.ocsp_staple_requests \
    ssl.ocsp_staple_responses ssl.session_reused \
    client_ssl_socket_factory.downstream_context_secrets_not_ready \
    client_ssl_socket_factory.upstream_context_secrets_not_ready \
    metadata_exchange.alpn_protocol_found metadata_exchange.alpn_protocol_not_found \
    metadata_exchange.header_not_found metadata_exchange.initial_header_not_found \
    metadata_exchange.metadata_added tlsMode-disabled.total_match_count";
/// Counted once per TLS handshake (`ssl.handshake` and the negotiated parameters).
const TLS_PER_HANDSHAKE: &str = "ssl.handshake ssl.ciphers.TLS_AES_128_GCM_SHA256 \
    ssl.curves.X25519 ssl.sigalgs.rsa_pss_rsae_sha256 ssl.versions.TLSv1.3 \
    tlsMode-istio.total_match_count";

/// How a cluster is rendered.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    /// An outbound cluster: `internal.*` dynamic stats, EDS update counters.
    pub outbound: bool,
    pub mtls: bool,
    pub outlier: bool,
    pub limits: PoolLimits,
}

/// A cluster ready to render: its state, how to render it, and what is in flight.
pub(super) struct ClusterView<'a> {
    pub state: &'a ClusterState,
    pub shape: Shape,
    /// (address, zone) per host slot.
    pub addresses: Vec<(String, String)>,
    /// Attached requests per host slot.
    pub active: Vec<u64>,
    /// Requests waiting for a connection.
    pub pending: u64,
}

impl Shape {
    /// The rendering shape of a cluster with this effective config.
    pub fn of(config: &SimClusterConfig, outbound: bool) -> Shape {
        Shape {
            outbound,
            mtls: config.istio_mtls,
            outlier: config.outlier_detection.is_some(),
            limits: PoolLimits {
                max_connections: u64::from(config.max_connections),
                max_pending: u64::from(config.max_pending_requests),
                http2: config.http2,
            },
        }
    }
}

impl<'a> ClusterView<'a> {
    /// A view with nothing in flight.
    pub fn idle(state: &'a ClusterState, shape: Shape, addresses: Vec<(String, String)>) -> Self {
        let active = vec![0; state.hosts.len()];
        ClusterView {
            state,
            shape,
            addresses,
            active,
            pending: 0,
        }
    }
}

fn set_all(m: &mut BTreeMap<String, u64>, names: &str, value: u64) {
    m.extend(names.split_whitespace().map(|n| (n.to_string(), value)));
}

/// `upstream_rq_<code>`, `upstream_rq_<class>xx` and `upstream_rq_completed` (dynamic: only
/// once used).
fn add_code_counters(m: &mut BTreeMap<String, u64>, c: &ClusterState, prefix: &str) {
    for &(code, n) in &c.codes {
        m.insert(format!("{prefix}upstream_rq_{code}"), n);
        *m.entry(format!("{prefix}upstream_rq_{}xx", code / 100))
            .or_default() += n;
    }
    if c.completed() > 0 {
        m.insert(format!("{prefix}upstream_rq_completed"), c.completed());
    }
}

fn counter_map(c: &ClusterState, shape: Shape) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    set_all(&mut m, ZERO_COUNTERS, 0);
    for counter in Counter::ALL {
        let name = counter.name();
        if shape.outlier || !name.starts_with("outlier_detection.") {
            m.insert(name.to_string(), c.get(counter));
        }
    }
    add_code_counters(&mut m, c, "");
    if shape.outbound {
        // A sidecar's app calls from a trusted address: Envoy also counts them as internal.
        add_code_counters(&mut m, c, "internal.");
    }
    if shape.mtls {
        set_all(&mut m, TLS_ZERO_COUNTERS, 0);
        m.insert(
            "client_ssl_socket_factory.ssl_context_update_by_sds".into(),
            2,
        );
        let handshakes = c.get(Counter::CxTotal);
        if handshakes > 0 {
            set_all(&mut m, TLS_PER_HANDSHAKE, handshakes);
        }
    }
    let updates = if shape.outbound {
        c.get(Counter::MembershipChange) + 1
    } else {
        0
    };
    m.insert("update_success".into(), updates);
    m.insert("update_attempt".into(), updates + u64::from(shape.outbound));
    m.insert("update_no_rebuild".into(), u64::from(shape.outbound));
    m
}

/// Circuit-breaker gauges of the default priority (the high priority is never used).
fn breaker_gauges(limits: PoolLimits, cx: u64, rq: u64, pending: u64) -> Vec<(&'static str, u64)> {
    let max = u64::from(u32::MAX);
    let (max_cx, max_pending) = (limits.max_connections.min(max), limits.max_pending.min(max));
    vec![
        ("circuit_breakers.default.cx_open", u64::from(cx >= max_cx)),
        (
            "circuit_breakers.default.rq_pending_open",
            u64::from(pending >= max_pending),
        ),
        ("circuit_breakers.default.rq_open", u64::from(rq >= max)),
        ("circuit_breakers.default.cx_pool_open", 0),
        ("circuit_breakers.default.rq_retry_open", 0),
        (
            "circuit_breakers.default.remaining_cx",
            max_cx.saturating_sub(cx),
        ),
        (
            "circuit_breakers.default.remaining_pending",
            max_pending.saturating_sub(pending),
        ),
        (
            "circuit_breakers.default.remaining_rq",
            max.saturating_sub(rq),
        ),
        ("circuit_breakers.default.remaining_retries", max),
        ("circuit_breakers.high.cx_open", 0),
        ("circuit_breakers.high.cx_pool_open", 0),
        ("circuit_breakers.high.rq_open", 0),
        ("circuit_breakers.high.rq_pending_open", 0),
        ("circuit_breakers.high.rq_retry_open", 0),
    ]
}

fn gauge_map(v: &ClusterView, name: &str) -> BTreeMap<String, u64> {
    let c = v.state;
    let (cx, rq) = (c.open_conns(), v.active.iter().sum());
    let pools = c.hosts.iter().filter(|h| h.stats.cx_total > 0).count() as u64;
    let mut gauges = vec![
        ("upstream_cx_active", cx),
        ("upstream_cx_rx_bytes_buffered", 0),
        ("upstream_cx_tx_bytes_buffered", 0),
        ("upstream_rq_active", rq),
        ("upstream_rq_pending_active", v.pending),
        ("membership_total", c.hosts.len() as u64),
        (
            "membership_healthy",
            (c.hosts.len() - ejected_count(c)) as u64,
        ),
        ("membership_degraded", 0),
        ("membership_excluded", 0),
        ("max_host_weight", u64::from(!c.hosts.is_empty())),
        ("lb_subsets_active", 0),
        ("version", name_hash(name)),
        (
            "circuit_breakers.default.remaining_cx_pools",
            u64::MAX - pools,
        ),
    ];
    gauges.extend(breaker_gauges(v.shape.limits, cx, rq, v.pending));
    if v.shape.outlier {
        gauges.push((
            "outlier_detection.ejections_active",
            ejected_count(c) as u64,
        ));
    }
    gauges
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect()
}

/// A stable stand-in for the `version` gauge (hash of the last EDS/CDS resource).
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn render_hosts(v: &ClusterView) -> Vec<SimHost> {
    let field = |i: usize, pick: fn(&(String, String)) -> &String| {
        v.addresses.get(i).map(pick).cloned().unwrap_or_default()
    };
    (v.state.hosts.iter().enumerate())
        .map(|(i, h)| SimHost {
            address: field(i, |a| &a.0),
            health_flags: (h.outlier.is_ejected())
                .then(|| "/failed_outlier_check".to_string())
                .into_iter()
                .collect(),
            cx_total: h.stats.cx_total,
            cx_active: h.conns.len() as u64,
            cx_connect_fail: h.stats.cx_connect_fail,
            rq_total: h.stats.rq_total,
            rq_timeout: h.stats.rq_timeout,
            rq_success: h.stats.rq_success,
            rq_error: h.stats.rq_error,
            rq_active: v.active.get(i).copied().unwrap_or(0),
            weight: 1,
            zone: field(i, |a| &a.1),
        })
        .collect()
}

/// Connection histograms always; request time once a response was recorded.
fn histograms(c: &ClusterState, outbound: bool) -> BTreeMap<String, SimHistogram> {
    let mut out = BTreeMap::from([
        ("upstream_cx_connect_ms".to_string(), c.cx_connect.summary()),
        ("upstream_cx_length_ms".to_string(), c.cx_length.summary()),
    ]);
    let rq_time: &Histogram = &c.rq_time;
    if rq_time.count() > 0 {
        out.insert("upstream_rq_time".into(), rq_time.summary());
        if outbound {
            out.insert("internal.upstream_rq_time".into(), rq_time.summary());
        }
    }
    out
}

/// Renders a cluster.
pub(super) fn render_cluster(
    name: String,
    v: &ClusterView,
    config: SimClusterConfig,
    routes: Vec<SimRoute>,
) -> SimCluster {
    SimCluster {
        counters: counter_map(v.state, v.shape),
        gauges: gauge_map(v, &name),
        histograms: histograms(v.state, v.shape.outbound),
        hosts: render_hosts(v),
        config,
        routes,
        name,
    }
}
