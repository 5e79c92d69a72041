//! The effective DestinationRule policy for one Envoy cluster, with Istio's defaults filled in
//! (istio/api field docs; `HINTS.md` "Defaults worth printing") and every value's source
//! recorded. Which sections apply (top level, subset, port level) is decided in
//! `merge.rs`; this file turns them into values.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::destination_rule::{
    ConnectionPoolSettings, DestinationRule, OutlierDetection, Subset, TcpKeepalive,
};
use super::load::Object;
use super::merge::{Part, effective_sections};
use super::route::ResolvedRoute;
use super::source::{Kind, Limit, ObjectRef, Sourced, sourced_ms};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// Everything meshtop shows about the Istio configuration of one outbound cluster.
/// Durations serialise as `{value: <milliseconds>, source}`; a zero idle timeout means
/// "disabled" as in Istio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedPolicy {
    /// The DestinationRule in effect (the oldest, when several for the same host are merged).
    pub destination_rule: Option<ObjectRef>,
    /// The cluster's subset, when it is a subset cluster.
    pub subset: Option<String>,
    #[serde(
        serialize_with = "sourced_ms::required",
        deserialize_with = "sourced_ms::deserialize_required"
    )]
    pub connect_timeout: Sourced<Duration>,
    #[serde(
        serialize_with = "sourced_ms::required",
        deserialize_with = "sourced_ms::deserialize_required"
    )]
    pub tcp_idle_timeout: Sourced<Duration>,
    #[serde(
        serialize_with = "sourced_ms::required",
        deserialize_with = "sourced_ms::deserialize_required"
    )]
    pub http_idle_timeout: Sourced<Duration>,
    pub max_connections: Sourced<Limit>,
    pub http1_max_pending_requests: Sourced<Limit>,
    pub http2_max_requests: Sourced<Limit>,
    pub max_requests_per_connection: Sourced<Limit>,
    pub max_retries: Sourced<Limit>,
    /// `None` = no maximum (default).
    #[serde(
        serialize_with = "sourced_ms::optional",
        deserialize_with = "sourced_ms::deserialize_optional"
    )]
    pub max_connection_duration: Sourced<Option<Duration>>,
    /// `None` = no SO_KEEPALIVE settings from Istio (OS defaults). Times serialise as ms.
    #[serde(deserialize_with = "keepalive_from_ms")]
    pub tcp_keepalive: Sourced<Option<TcpKeepalive>>,
    /// `DEFAULT` (mesh-wide setting, normally no upgrade), `DO_NOT_UPGRADE` or `UPGRADE`.
    pub h2_upgrade_policy: Sourced<String>,
    pub use_client_protocol: Sourced<bool>,
    /// `None` = Istio's default load balancer (LEAST_REQUEST in current Istio).
    pub load_balancer: Sourced<Option<Value>>,
    /// `None` = outlier detection off (nothing configured).
    pub outlier_detection: Option<ResolvedOutlier>,
    /// `None` = no DestinationRule TLS: auto mTLS decides (ISTIO_MUTUAL to sidecars).
    pub tls_mode: Sourced<Option<String>>,
    pub routes: Vec<ResolvedRoute>,
    /// Plain-language remarks: precedence decisions, shadowed or hidden rules, IST codes.
    pub notes: Vec<String>,
}

/// Outlier detection once any of it is configured; unset fields take Istio's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedOutlier {
    /// 0 = 5xx ejection disabled.
    pub consecutive_5xx_errors: Sourced<u32>,
    /// 0 = gateway-error ejection disabled (the default).
    pub consecutive_gateway_errors: Sourced<u32>,
    #[serde(
        serialize_with = "sourced_ms::required",
        deserialize_with = "sourced_ms::deserialize_required"
    )]
    pub interval: Sourced<Duration>,
    #[serde(
        serialize_with = "sourced_ms::required",
        deserialize_with = "sourced_ms::deserialize_required"
    )]
    pub base_ejection_time: Sourced<Duration>,
    pub max_ejection_percent: Sourced<u32>,
    pub min_health_percent: Sourced<u32>,
    pub split_external_local_origin_errors: Sourced<bool>,
    pub consecutive_local_origin_failures: Sourced<u32>,
}

/// Reads `tcp_keepalive` back from its serialised form, `{value: null | {probes, time,
/// interval}, source}` with times in milliseconds ([`TcpKeepalive`]'s own `Deserialize` reads
/// the CRD's duration strings instead).
fn keepalive_from_ms<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Sourced<Option<TcpKeepalive>>, D::Error> {
    #[derive(Deserialize)]
    struct KeepaliveMs {
        probes: Option<u32>,
        time: Option<u64>,
        interval: Option<u64>,
    }
    let s = Sourced::<Option<KeepaliveMs>>::deserialize(d)?;
    Ok(Sourced {
        value: s.value.map(|k| TcpKeepalive {
            probes: k.probes,
            time: k.time.map(Duration::from_millis),
            interval: k.interval.map(Duration::from_millis),
        }),
        source: s.source,
    })
}

impl ResolvedPolicy {
    /// Istio's defaults, for a cluster no DestinationRule configures.
    fn istio_defaults() -> Self {
        ResolvedPolicy {
            destination_rule: None,
            subset: None,
            connect_timeout: Sourced::default_value(CONNECT_TIMEOUT),
            tcp_idle_timeout: Sourced::default_value(IDLE_TIMEOUT),
            http_idle_timeout: Sourced::default_value(IDLE_TIMEOUT),
            max_connections: Sourced::default_value(Limit::Unlimited),
            http1_max_pending_requests: Sourced::default_value(Limit::Unlimited),
            http2_max_requests: Sourced::default_value(Limit::Unlimited),
            max_requests_per_connection: Sourced::default_value(Limit::Unlimited),
            max_retries: Sourced::default_value(Limit::Unlimited),
            max_connection_duration: Sourced::default_value(None),
            tcp_keepalive: Sourced::default_value(None),
            h2_upgrade_policy: Sourced::default_value("DEFAULT".to_string()),
            use_client_protocol: Sourced::default_value(false),
            load_balancer: Sourced::default_value(None),
            outlier_detection: None,
            tls_mode: Sourced::default_value(None),
            routes: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// The policy for a cluster on `port`, before routes and notes are added.
pub(crate) fn build_policy(
    top: Option<&Object<DestinationRule>>,
    subset: Option<(&Object<DestinationRule>, &Subset)>,
    port: u16,
) -> ResolvedPolicy {
    let sections = effective_sections(top, subset, port);
    let mut policy = ResolvedPolicy::istio_defaults();
    policy.destination_rule = top.map(|o| o.object_ref(Kind::DestinationRule));
    policy.subset = subset.map(|(_, s)| s.name.clone());
    if let Some(pool) = &sections.pool {
        apply_tcp(&mut policy, pool);
        apply_http(&mut policy, pool);
        apply_http_limits(&mut policy, pool);
    }
    if let Some(lb) = &sections.lb {
        policy.load_balancer = lb.sourced(Some(lb.value.clone()), "loadBalancer");
    }
    if let Some(tls) = &sections.tls {
        let mode = tls.value.mode.clone().map(Some);
        tls.apply(&mut policy.tls_mode, "tls", "mode", mode);
    }
    policy.outlier_detection = sections.outlier.as_ref().map(resolve_outlier);
    policy
}

const TCP: &str = "connectionPool.tcp";
const HTTP: &str = "connectionPool.http";
const OUTLIER: &str = "outlierDetection";

fn apply_tcp(p: &mut ResolvedPolicy, pool: &Part<'_, ConnectionPoolSettings>) {
    let Some(t) = &pool.value.tcp else { return };
    pool.apply(
        &mut p.connect_timeout,
        TCP,
        "connectTimeout",
        t.connect_timeout,
    );
    pool.apply(&mut p.tcp_idle_timeout, TCP, "idleTimeout", t.idle_timeout);
    let max = t.max_connections.map(Limit::At);
    pool.apply(&mut p.max_connections, TCP, "maxConnections", max);
    let duration = t.max_connection_duration.map(Some);
    pool.apply(
        &mut p.max_connection_duration,
        TCP,
        "maxConnectionDuration",
        duration,
    );
    let keepalive = t.tcp_keepalive.clone().map(Some);
    pool.apply(&mut p.tcp_keepalive, TCP, "tcpKeepalive", keepalive);
}

fn apply_http(p: &mut ResolvedPolicy, pool: &Part<'_, ConnectionPoolSettings>) {
    let Some(h) = &pool.value.http else { return };
    pool.apply(
        &mut p.http_idle_timeout,
        HTTP,
        "idleTimeout",
        h.idle_timeout,
    );
    let h2 = h.h2_upgrade_policy.clone();
    pool.apply(&mut p.h2_upgrade_policy, HTTP, "h2UpgradePolicy", h2);
    let client = h.use_client_protocol;
    pool.apply(
        &mut p.use_client_protocol,
        HTTP,
        "useClientProtocol",
        client,
    );
}

/// The HTTP circuit-breaker limits; `maxRequestsPerConnection: 0` means unlimited.
fn apply_http_limits(p: &mut ResolvedPolicy, pool: &Part<'_, ConnectionPoolSettings>) {
    let Some(h) = &pool.value.http else { return };
    let limits = [
        (
            &mut p.http1_max_pending_requests,
            "http1MaxPendingRequests",
            h.http1_max_pending_requests,
        ),
        (
            &mut p.http2_max_requests,
            "http2MaxRequests",
            h.http2_max_requests,
        ),
        (&mut p.max_retries, "maxRetries", h.max_retries),
    ];
    for (slot, name, value) in limits {
        pool.apply(slot, HTTP, name, value.map(Limit::At));
    }
    let per_conn = h.max_requests_per_connection.map(|n| match n {
        0 => Limit::Unlimited,
        n => Limit::At(n),
    });
    pool.apply(
        &mut p.max_requests_per_connection,
        HTTP,
        "maxRequestsPerConnection",
        per_conn,
    );
}

impl ResolvedOutlier {
    /// Istio's defaults once `outlierDetection` is present.
    fn istio_defaults() -> Self {
        ResolvedOutlier {
            consecutive_5xx_errors: Sourced::default_value(5),
            consecutive_gateway_errors: Sourced::default_value(0),
            interval: Sourced::default_value(Duration::from_secs(10)),
            base_ejection_time: Sourced::default_value(Duration::from_secs(30)),
            max_ejection_percent: Sourced::default_value(10),
            min_health_percent: Sourced::default_value(0),
            split_external_local_origin_errors: Sourced::default_value(false),
            consecutive_local_origin_failures: Sourced::default_value(5),
        }
    }
}

/// Istio's `applyOutlierDetection`: the deprecated `consecutiveErrors` counts only gateway
/// errors (502/503/504) and switches 5xx ejection off unless `consecutive5xxErrors` is set.
fn resolve_outlier(part: &Part<'_, OutlierDetection>) -> ResolvedOutlier {
    let mut o = ResolvedOutlier::istio_defaults();
    let d = part.value;
    if let Some(n) = d.consecutive_errors.filter(|n| *n > 0) {
        let field = format!("{OUTLIER}.consecutiveErrors");
        o.consecutive_gateway_errors = part.sourced(n, &field);
        o.consecutive_5xx_errors = part.sourced(0, &field);
    }
    apply_outlier_counts(&mut o, part);
    part.apply(&mut o.interval, OUTLIER, "interval", d.interval);
    let base = d.base_ejection_time;
    part.apply(&mut o.base_ejection_time, OUTLIER, "baseEjectionTime", base);
    let split = d.split_external_local_origin_errors;
    let slot = &mut o.split_external_local_origin_errors;
    part.apply(slot, OUTLIER, "splitExternalLocalOriginErrors", split);
    o
}

/// The integer fields of `outlierDetection`.
fn apply_outlier_counts(o: &mut ResolvedOutlier, part: &Part<'_, OutlierDetection>) {
    let d = part.value;
    let counts = [
        (
            &mut o.consecutive_5xx_errors,
            "consecutive5xxErrors",
            d.consecutive_5xx_errors,
        ),
        (
            &mut o.consecutive_gateway_errors,
            "consecutiveGatewayErrors",
            d.consecutive_gateway_errors,
        ),
        (
            &mut o.max_ejection_percent,
            "maxEjectionPercent",
            d.max_ejection_percent,
        ),
        (
            &mut o.min_health_percent,
            "minHealthPercent",
            d.min_health_percent,
        ),
        (
            &mut o.consecutive_local_origin_failures,
            "consecutiveLocalOriginFailures",
            d.consecutive_local_origin_failures,
        ),
    ];
    for (slot, name, value) in counts {
        part.apply(slot, OUTLIER, name, value);
    }
}
