//! The catalog of Envoy *cluster* stat suffixes: what follows `cluster.<name>.` (or
//! `cluster.<name>;.`) in a stat name, with its kind, its section of Envoy's
//! `cluster_stats.rst` and a one-line meaning for hints and help.
//!
//! Its first job is to tell where a cluster name ends. Cluster names contain dots
//! (`outbound|80||catalog.prod.svc.cluster.local`), so `stat_name` tries each dot from the left
//! and takes the first whose rest [`is_cluster_suffix`]. Every multi-segment shape accepted here
//! therefore starts with a stat name or a scope word (`circuit_breakers`, `ssl`, `zone`, …),
//! never with a DNS label such as `svc`, `cluster`, `local` or `default`.
//!
//! Pure data and string matching: no I/O, no allocation per call; depends on nothing else in
//! the crate. To add a stat, add one `stat(…)` row to the table (placeholders are written
//! `<name>`). A row under a new first segment also needs that word in `LEAF_SCOPES` or an arm in
//! `lookup_scoped`; the unit test `every_entry_is_reachable_from_a_concrete_name` catches a row
//! that `lookup` cannot reach.

use std::sync::LazyLock;

use rustc_hash::FxHashMap;
use serde::Serialize;

/// How Envoy records a stat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StatKind {
    /// Cumulative since proxy start; rates come from deltas.
    Counter,
    /// A current level that goes up and down.
    Gauge,
    /// A distribution, printed as percentiles (`P50(…)`).
    Histogram,
    /// A string value (`version_text: "…"`).
    TextReadout,
}

/// The part of Envoy's cluster statistics documentation a stat belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Section {
    /// Connection, request, membership and discovery stats rooted at `cluster.<name>.`.
    General,
    /// `health_check.*`: active health checking.
    HealthCheck,
    /// `outlier_detection.*`: passive ejection of failing hosts.
    OutlierDetection,
    /// `circuit_breakers.<priority>.*`: breaker state and remaining capacity.
    CircuitBreakers,
    /// `upstream_rq_timeout_budget_*`: how much of a timeout requests used.
    TimeoutBudget,
    /// Per response code and class counters, request time, and origin-scoped copies.
    DynamicHttp,
    /// `retry.upstream_rq_*`: responses that triggered a retry.
    Retry,
    /// `ssl.*` and `client_ssl_socket_factory.*`: TLS handshakes, ciphers, certificates.
    Tls,
    /// `zone.<from_zone>.<to_zone>.*`: per zone pair response stats.
    PerZone,
    /// `lb_*` and `original_dst_*`: load balancer decisions.
    LoadBalancer,
    /// `lb_subsets_*`: subset load balancing.
    SubsetLb,
    /// `ring_hash_lb.*`: ring hash sizes.
    RingHashLb,
    /// `maglev_lb.*`: Maglev table entries.
    MaglevLb,
    /// Codec and socket stats: `http1.*`, `http2.*`, QUIC, `tcp_stats.*`, transport socket
    /// matches, Istio's `metadata_exchange.*`.
    Transport,
}

/// One catalog row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatInfo {
    /// The suffix as written after `cluster.<name>.`, with placeholders in angle brackets:
    /// `upstream_rq_timeout`, `circuit_breakers.<priority>.rq_open`, `upstream_rq_<code>`.
    pub pattern: &'static str,
    /// Counter, gauge, histogram or text readout.
    pub kind: StatKind,
    /// Where the stat is documented.
    pub section: Section,
    /// What the stat counts, in one plain sentence.
    pub meaning: &'static str,
}

/// Every known cluster stat: the tables of Envoy's `cluster_stats.rst` (with its TLS, certificate
/// and TCP includes) plus stats seen in real captures but not documented there (`version_text`,
/// `update_time`, `remaining_cx_pools`, `http2.*`, transport socket matches, …).
pub static CLUSTER_STATS: &[StatInfo] = table::STATS;

/// Looks up a concrete suffix as it appears after `cluster.<name>.` (or `cluster.<name>;.`):
/// `upstream_rq_503` → `upstream_rq_<code>`, `circuit_breakers.high.rq_open` →
/// `circuit_breakers.<priority>.rq_open`. `None` for anything not in the catalog, including
/// partial host names followed by a stat (`svc.cluster.local.upstream_rq_total`).
pub fn lookup(suffix: &str) -> Option<&'static StatInfo> {
    let index = &*INDEX;
    match suffix.split_once('.') {
        None => index
            .exact(suffix)
            .or_else(|| index.template(response_pattern(Scope::Root, suffix)?)),
        Some((head, rest)) => lookup_scoped(index, suffix, head, rest),
    }
}

/// True when `suffix` is shaped like a cluster stat suffix: a catalog entry, or a
/// forward-compatible shape such as a new `upstream_*` leaf or a new `http2.<leaf>`.
pub fn is_cluster_suffix(suffix: &str) -> bool {
    lookup(suffix).is_some() || has_cluster_shape(suffix)
}

/// Leaf prefixes that Envoy uses only for cluster stats; a new dot-free stat starting with one
/// of them is accepted before the catalog knows it.
const LEAF_PREFIXES: [&str; 12] = [
    "upstream_",
    "lb_",
    "membership_",
    "update_",
    "assignment_",
    "original_dst_",
    "retry_or_shadow_",
    "bind_errors",
    "max_host_weight",
    "version",
    "init_fetch_timeout",
    "warming_state",
];

/// Scope words whose children are single dot-free leaves.
const LEAF_SCOPES: [&str; 11] = [
    "http1",
    "http2",
    "http3",
    "tcp_stats",
    "client_ssl_socket_factory",
    "metadata_exchange",
    "ext_authz",
    "outlier_detection",
    "health_check",
    "ring_hash_lb",
    "maglev_lb",
];

/// The catalog indexed for lookups, built once.
struct Index {
    /// Patterns without placeholders, by their literal text.
    exact: FxHashMap<&'static str, &'static StatInfo>,
    /// Patterns with placeholders, by the pattern text.
    templates: FxHashMap<&'static str, &'static StatInfo>,
    /// Circuit breaker stats, by the leaf after `circuit_breakers.<priority>.`.
    breakers: FxHashMap<&'static str, &'static StatInfo>,
}

impl Index {
    fn exact(&self, suffix: &str) -> Option<&'static StatInfo> {
        self.exact.get(suffix).copied()
    }

    fn template(&self, pattern: &str) -> Option<&'static StatInfo> {
        self.templates.get(pattern).copied()
    }
}

static INDEX: LazyLock<Index> = LazyLock::new(build_index);

const BREAKER_PREFIX: &str = "circuit_breakers.<priority>.";

fn build_index() -> Index {
    let mut index = Index {
        exact: FxHashMap::default(),
        templates: FxHashMap::default(),
        breakers: FxHashMap::default(),
    };
    for info in CLUSTER_STATS {
        if let Some(leaf) = info.pattern.strip_prefix(BREAKER_PREFIX) {
            index.breakers.insert(leaf, info);
        } else if info.pattern.contains('<') {
            index.templates.insert(info.pattern, info);
        } else {
            index.exact.insert(info.pattern, info);
        }
    }
    index
}

/// Where a response-code counter lives: directly under the cluster or under a scope word.
#[derive(Clone, Copy)]
enum Scope {
    Root,
    Canary,
    Internal,
    External,
    Retry,
    Zone,
}

/// Resolves `suffix` = `<head>.<rest>` by its first segment, so that a host label (`svc`,
/// `local`, `default`) is rejected without hashing; the only shape with a free first segment is
/// a transport socket match name followed by exactly `total_match_count`.
fn lookup_scoped(index: &Index, suffix: &str, head: &str, rest: &str) -> Option<&'static StatInfo> {
    let scoped = |scope| index.template(response_pattern(scope, rest)?);
    match head {
        "circuit_breakers" => {
            let (priority, leaf) = rest.split_once('.')?;
            let known = matches!(priority, "default" | "high");
            known.then(|| index.breakers.get(leaf).copied()).flatten()
        }
        "canary" => index.exact(suffix).or_else(|| scoped(Scope::Canary)),
        "internal" => index.exact(suffix).or_else(|| scoped(Scope::Internal)),
        "external" => index.exact(suffix).or_else(|| scoped(Scope::External)),
        "retry" => scoped(Scope::Retry),
        "zone" => lookup_zone(index, rest),
        "ssl" => index.exact(suffix).or_else(|| lookup_ssl(index, rest)),
        "upstream" => lookup_quic(index, rest),
        "http3" => index
            .exact(suffix)
            .or_else(|| lookup_quic(index, rest.strip_prefix("upstream.")?)),
        _ if LEAF_SCOPES.contains(&head) => index.exact(suffix),
        _ if !head.is_empty() && rest == "total_match_count" => {
            index.template("<match_name>.total_match_count")
        }
        _ => None,
    }
}

/// `<from_zone>.<to_zone>.<leaf>`: each zone is one non-empty dot-free segment.
fn lookup_zone(index: &Index, rest: &str) -> Option<&'static StatInfo> {
    let (from, tail) = rest.split_once('.')?;
    let (to, leaf) = tail.split_once('.')?;
    if from.is_empty() || to.is_empty() {
        return None;
    }
    if leaf == "upstream_rq_time" {
        return index.template("zone.<from_zone>.<to_zone>.upstream_rq_time");
    }
    index.template(response_pattern(Scope::Zone, leaf)?)
}

/// `ssl.<family>.<value>` (the value may contain dots: `versions.TLSv1.3`) and
/// `ssl.certificate.<cert_name>.<leaf>`; plain `ssl.<leaf>` rows are exact entries.
fn lookup_ssl(index: &Index, rest: &str) -> Option<&'static StatInfo> {
    let (family, value) = rest.split_once('.')?;
    if value.is_empty() {
        return None;
    }
    let pattern = match family {
        "ciphers" => "ssl.ciphers.<cipher>",
        "curves" => "ssl.curves.<curve>",
        "sigalgs" => "ssl.sigalgs.<sigalg>",
        "versions" => "ssl.versions.<version>",
        "certificate" => {
            let (name, leaf) = value.rsplit_once('.')?;
            if name.is_empty() || leaf != "seconds_since_epoch_of_expiration" {
                return None;
            }
            "ssl.certificate.<cert_name>.seconds_since_epoch_of_expiration"
        }
        _ => return None,
    };
    index.template(pattern)
}

/// `<tx|rx>.quic_connection_close_error_code_<code>` or `…quic_reset_stream_error_code_<code>`.
fn lookup_quic(index: &Index, rest: &str) -> Option<&'static StatInfo> {
    let (direction, leaf) = rest.split_once('.')?;
    if !matches!(direction, "tx" | "rx") {
        return None;
    }
    let has_code = |prefix: &str| leaf.strip_prefix(prefix).is_some_and(is_leaf);
    let pattern = if has_code("quic_connection_close_error_code_") {
        "upstream.<tx/rx>.quic_connection_close_error_code_<error_code>"
    } else if has_code("quic_reset_stream_error_code_") {
        "upstream.<tx/rx>.quic_reset_stream_error_code_<error_code>"
    } else {
        return None;
    };
    index.template(pattern)
}

/// The pattern for a per-status counter (`upstream_rq_503`, `upstream_rq_5xx`) in `scope`.
fn response_pattern(scope: Scope, leaf: &str) -> Option<&'static str> {
    let status = leaf.strip_prefix("upstream_rq_")?.as_bytes();
    let is_class = matches!(status, [d, b'x', b'x'] if d.is_ascii_digit());
    let is_code = status.len() == 3 && status.iter().all(u8::is_ascii_digit);
    if !is_class && !is_code {
        return None;
    }
    Some(match (scope, is_class) {
        (Scope::Root, true) => "upstream_rq_<Nxx>",
        (Scope::Root, false) => "upstream_rq_<code>",
        (Scope::Canary, true) => "canary.upstream_rq_<Nxx>",
        (Scope::Canary, false) => "canary.upstream_rq_<code>",
        (Scope::Internal, true) => "internal.upstream_rq_<Nxx>",
        (Scope::Internal, false) => "internal.upstream_rq_<code>",
        (Scope::External, true) => "external.upstream_rq_<Nxx>",
        (Scope::External, false) => "external.upstream_rq_<code>",
        (Scope::Retry, true) => "retry.upstream_rq_<Nxx>",
        (Scope::Retry, false) => "retry.upstream_rq_<code>",
        (Scope::Zone, true) => "zone.<from_zone>.<to_zone>.upstream_rq_<Nxx>",
        (Scope::Zone, false) => "zone.<from_zone>.<to_zone>.upstream_rq_<code>",
    })
}

/// Forward-compatible shapes for stats the catalog does not list yet.
fn has_cluster_shape(suffix: &str) -> bool {
    let Some((head, rest)) = suffix.split_once('.') else {
        return LEAF_PREFIXES
            .iter()
            .any(|prefix| suffix.starts_with(prefix));
    };
    match head {
        "circuit_breakers" => rest.split_once('.').is_some_and(|(priority, leaf)| {
            matches!(priority, "default" | "high") && is_leaf(leaf)
        }),
        "ssl" => has_ssl_shape(rest),
        _ => LEAF_SCOPES.contains(&head) && is_leaf(rest),
    }
}

/// `ssl.<leaf>`, `ssl.{ciphers,curves,sigalgs,versions}.<value>`, `ssl.certificate.<name>.<leaf>`.
fn has_ssl_shape(rest: &str) -> bool {
    match rest.split_once('.') {
        None => is_leaf(rest),
        Some(("ciphers" | "curves" | "sigalgs" | "versions", value)) => !value.is_empty(),
        Some(("certificate", tail)) => tail
            .split_once('.')
            .is_some_and(|(name, leaf)| is_leaf(name) && is_leaf(leaf)),
        Some(_) => false,
    }
}

/// A non-empty, dot-free segment.
fn is_leaf(segment: &str) -> bool {
    !segment.is_empty() && !segment.contains('.')
}

/// The rows, kept apart so the short kind names stay local.
mod table {
    use super::Section;
    use super::Section::*;
    use super::StatInfo;
    use super::StatKind::{self, Counter as C, Gauge as G, Histogram as H, TextReadout as T};

    const fn stat(
        pattern: &'static str,
        kind: StatKind,
        section: Section,
        meaning: &'static str,
    ) -> StatInfo {
        StatInfo {
            pattern,
            kind,
            section,
            meaning,
        }
    }

    #[rustfmt::skip]
    pub(super) static STATS: &[StatInfo] = &[
        // General
        stat("upstream_cx_total", C, General,
            "Connections opened to the cluster since the proxy started"),
        stat("upstream_cx_active", G, General,
            "Connections to the cluster that are open right now"),
        stat("upstream_cx_http1_total", C, General, "HTTP/1.1 connections opened"),
        stat("upstream_cx_http2_total", C, General, "HTTP/2 connections opened"),
        stat("upstream_cx_http3_total", C, General, "HTTP/3 connections opened"),
        stat("upstream_cx_connect_fail", C, General, "Connection attempts that failed"),
        stat("upstream_cx_connect_timeout", C, General,
            "Connection attempts that ran past connect_timeout"),
        stat("upstream_cx_connect_with_0_rtt", C, General,
            "Connections able to send early-data (0-RTT) requests"),
        stat("upstream_cx_idle_timeout", C, General,
            "Connections closed after sitting idle past the idle timeout"),
        stat("upstream_cx_max_duration_reached", C, General,
            "Connections closed because they reached max_connection_duration"),
        stat("upstream_cx_connect_attempts_exceeded", C, General,
            "Times consecutive connect failures used up the allowed attempts"),
        stat("upstream_cx_overflow", C, General,
            "Times the max-connections circuit breaker refused a new connection"),
        stat("upstream_cx_connect_ms", H, General,
            "Time taken to establish a connection, in milliseconds"),
        stat("upstream_cx_length_ms", H, General,
            "How long connections stayed open, in milliseconds"),
        stat("upstream_cx_destroy", C, General, "Connections closed for any reason"),
        stat("upstream_cx_destroy_local", C, General, "Connections closed by this proxy"),
        stat("upstream_cx_destroy_remote", C, General, "Connections closed by the upstream"),
        stat("upstream_cx_destroy_with_active_rq", C, General,
            "Connections closed while at least one request was in flight"),
        stat("upstream_cx_destroy_local_with_active_rq", C, General,
            "Connections this proxy closed while a request was in flight"),
        stat("upstream_cx_destroy_remote_with_active_rq", C, General,
            "Connections the upstream closed while a request was in flight"),
        stat("upstream_cx_close_notify", C, General,
            "Connections closed by a Connection: close header or a GOAWAY"),
        stat("upstream_cx_rx_bytes_total", C, General, "Bytes received over upstream connections"),
        stat("upstream_cx_rx_bytes_buffered", G, General,
            "Received bytes currently held in buffers"),
        stat("upstream_cx_tx_bytes_total", C, General, "Bytes sent over upstream connections"),
        stat("upstream_cx_tx_bytes_buffered", G, General,
            "Bytes currently waiting in buffers to be sent"),
        stat("upstream_cx_pool_overflow", C, General,
            "Times the max-connection-pools circuit breaker refused a new pool"),
        stat("upstream_cx_preconnect_blocked", C, General,
            "Preconnects not made because the connection pool refused them"),
        stat("upstream_cx_preconnect_skipped", C, General,
            "Preconnects not made because the host could not take one"),
        stat("upstream_cx_preconnect_started", C, General,
            "Connections opened ahead of demand (preconnect)"),
        stat("upstream_cx_protocol_error", C, General,
            "Connections that failed with a protocol error"),
        stat("upstream_cx_max_requests", C, General,
            "Connections closed after serving max_requests_per_connection"),
        stat("upstream_cx_none_healthy", C, General,
            "Times no connection was made because no host was healthy"),
        stat("upstream_rq_total", C, General, "Requests sent to the cluster"),
        stat("upstream_rq_active", G, General, "Requests in flight right now"),
        stat("upstream_rq_pending_total", C, General,
            "Requests that had to wait for a pooled connection"),
        stat("upstream_rq_active_overflow", C, General,
            "Requests refused by the max-requests breaker on a ready connection"),
        stat("upstream_rq_pending_overflow", C, General,
            "Requests failed fast because a pending-queue or request breaker was full"),
        stat("upstream_rq_pending_failure_eject", C, General,
            "Queued requests failed by a connect failure or a remote close"),
        stat("upstream_rq_pending_active", G, General,
            "Requests waiting for a pooled connection right now"),
        stat("upstream_rq_per_cx", H, General, "Requests carried per upstream connection"),
        stat("upstream_rq_cancelled", C, General,
            "Requests cancelled before they got a connection"),
        stat("upstream_rq_maintenance_mode", C, General,
            "Requests answered 503 at once because the cluster is in maintenance mode"),
        stat("upstream_rq_timeout", C, General, "Requests that timed out waiting for the response"),
        stat("upstream_rq_max_duration_reached", C, General,
            "Requests closed because they reached their maximum duration"),
        stat("upstream_rq_per_try_timeout", C, General,
            "Attempts that ran past the per-try timeout"),
        stat("upstream_rq_rx_reset", C, General, "Requests reset by the upstream with an error"),
        stat("upstream_rq_rx_reset_no_error", C, General,
            "Requests reset by the upstream without an error code"),
        stat("upstream_rq_tx_reset", C, General, "Requests reset by this proxy"),
        stat("upstream_rq_retry", C, General, "Retries sent"),
        stat("upstream_rq_retry_backoff_exponential", C, General,
            "Retries that waited using exponential backoff"),
        stat("upstream_rq_retry_backoff_ratelimited", C, General,
            "Retries that waited using rate-limited backoff"),
        stat("upstream_rq_retry_limit_exceeded", C, General,
            "Requests not retried because the retry count was used up"),
        stat("upstream_rq_retry_success", C, General, "Retries that succeeded"),
        stat("upstream_rq_retry_overflow", C, General,
            "Requests not retried because of the retry breaker or retry budget"),
        stat("upstream_flow_control_paused_reading_total", C, General,
            "Times flow control paused reading from the upstream"),
        stat("upstream_flow_control_resumed_reading_total", C, General,
            "Times flow control resumed reading from the upstream"),
        stat("upstream_flow_control_backed_up_total", C, General,
            "Times the upstream backed up and reads from downstream paused"),
        stat("upstream_flow_control_drained_total", C, General,
            "Times the upstream drained and reads from downstream resumed"),
        stat("upstream_internal_redirect_failed_total", C, General,
            "Internal redirects that failed and were passed downstream"),
        stat("upstream_internal_redirect_succeeded_total", C, General,
            "Internal redirects that led to a second upstream request"),
        stat("membership_change", C, General, "Changes to the set of hosts in the cluster"),
        stat("membership_healthy", G, General,
            "Hosts currently healthy by health checks and outlier detection"),
        stat("membership_degraded", G, General, "Hosts currently marked degraded"),
        stat("membership_excluded", G, General, "Hosts currently excluded from load balancing"),
        stat("membership_total", G, General, "Hosts currently in the cluster"),
        stat("retry_or_shadow_abandoned", C, General,
            "Retries or shadow copies dropped because a buffer limit was hit"),
        stat("config_reload", C, General,
            "Config fetches that changed the config and caused a reload"),
        stat("update_attempt", C, General, "Endpoint updates attempted by service discovery"),
        stat("update_success", C, General, "Endpoint updates that succeeded"),
        stat("update_failure", C, General, "Endpoint updates that failed"),
        stat("update_duration", H, General, "Time spent applying config updates, in milliseconds"),
        stat("update_empty", C, General,
            "Empty endpoint updates ignored in favour of the previous hosts"),
        stat("update_no_rebuild", C, General,
            "Successful updates that needed no load balancer rebuild"),
        stat("version", G, General, "Hash of the config from the last successful fetch"),
        stat("warming_state", G, General, "Whether the cluster is still warming up"),
        stat("max_host_weight", G, General, "Largest weight of any host in the cluster"),
        stat("bind_errors", C, General,
            "Failures binding a socket to the configured source address"),
        stat("assignment_timeout_received", C, General,
            "Endpoint assignments that came with a lease timeout"),
        stat("assignment_stale", C, General,
            "Times endpoint assignments went stale before new ones arrived"),
        stat("version_text", T, General, "Version string of the last accepted endpoint config"),
        stat("init_fetch_timeout", C, General, "Times the first endpoint fetch timed out"),
        stat("update_rejected", C, General, "Endpoint updates rejected as invalid"),
        stat("update_time", G, General,
            "When the last endpoint update was applied, in Unix milliseconds"),
        stat("upstream_rq_0rtt", C, General, "Requests sent as early data (0-RTT)"),
        stat("upstream_http3_broken", G, General,
            "Whether HTTP/3 to this cluster is currently marked broken"),
        stat("upstream_rq_per_try_idle_timeout", C, General,
            "Attempts that ran past the per-try idle timeout"),
        stat("upstream_rq_headers_size", H, General, "Request header bytes per request"),
        stat("upstream_rq_headers_count", H, General, "Request headers per request"),
        stat("upstream_rq_body_size", H, General, "Request body bytes per request"),
        stat("upstream_rs_headers_size", H, General, "Response header bytes per response"),
        stat("upstream_rs_headers_count", H, General, "Response headers per response"),
        stat("upstream_rs_body_size", H, General, "Response body bytes per response"),
        // HealthCheck
        stat("health_check.attempt", C, HealthCheck, "Health checks run"),
        stat("health_check.success", C, HealthCheck, "Health checks that passed"),
        stat("health_check.failure", C, HealthCheck,
            "Health checks that failed on the response or on the network"),
        stat("health_check.passive_failure", C, HealthCheck,
            "Health check failures raised by passive signals"),
        stat("health_check.network_failure", C, HealthCheck,
            "Health checks that failed on a network error"),
        stat("health_check.verify_cluster", C, HealthCheck,
            "Health checks that tried to verify the cluster name"),
        stat("health_check.healthy", G, HealthCheck,
            "Hosts the health checker currently sees as healthy"),
        // OutlierDetection
        stat("outlier_detection.ejections_enforced_total", C, OutlierDetection,
            "Hosts ejected for any outlier reason"),
        stat("outlier_detection.ejections_active", G, OutlierDetection, "Hosts ejected right now"),
        stat("outlier_detection.ejections_overflow", C, OutlierDetection,
            "Ejections skipped because max ejection percent was reached"),
        stat("outlier_detection.ejections_enforced_consecutive_5xx", C, OutlierDetection,
            "Hosts ejected for consecutive 5xx responses"),
        stat("outlier_detection.ejections_detected_consecutive_5xx", C, OutlierDetection,
            "Hosts seen with consecutive 5xx responses, ejected or not"),
        stat("outlier_detection.ejections_enforced_success_rate", C, OutlierDetection,
            "Hosts ejected for a low success rate"),
        stat("outlier_detection.ejections_detected_success_rate", C, OutlierDetection,
            "Hosts seen with a low success rate, ejected or not"),
        stat("outlier_detection.ejections_enforced_consecutive_gateway_failure",
            C, OutlierDetection, "Hosts ejected for consecutive gateway failures"),
        stat("outlier_detection.ejections_detected_consecutive_gateway_failure",
            C, OutlierDetection, "Hosts seen with consecutive gateway failures, ejected or not"),
        stat("outlier_detection.ejections_enforced_consecutive_local_origin_failure",
            C, OutlierDetection, "Hosts ejected for consecutive locally detected failures"),
        stat("outlier_detection.ejections_detected_consecutive_local_origin_failure",
            C, OutlierDetection, "Hosts seen with consecutive local failures, ejected or not"),
        stat("outlier_detection.ejections_enforced_local_origin_success_rate", C, OutlierDetection,
            "Hosts ejected for a low success rate on local failures"),
        stat("outlier_detection.ejections_detected_local_origin_success_rate", C, OutlierDetection,
            "Hosts seen with a low local success rate, ejected or not"),
        stat("outlier_detection.ejections_enforced_failure_percentage", C, OutlierDetection,
            "Hosts ejected for a high failure percentage"),
        stat("outlier_detection.ejections_detected_failure_percentage", C, OutlierDetection,
            "Hosts seen with a high failure percentage, ejected or not"),
        stat("outlier_detection.ejections_enforced_failure_percentage_local_origin",
            C, OutlierDetection, "Hosts ejected for a high local failure percentage"),
        stat("outlier_detection.ejections_detected_failure_percentage_local_origin",
            C, OutlierDetection, "Hosts seen with a high local failure percentage, ejected or not"),
        stat("outlier_detection.ejections_total", C, OutlierDetection,
            "Deprecated: outlier ejections of any kind, enforced or not"),
        stat("outlier_detection.ejections_consecutive_5xx", C, OutlierDetection,
            "Deprecated: consecutive 5xx ejections, enforced or not"),
        // CircuitBreakers
        stat("circuit_breakers.<priority>.cx_open", G, CircuitBreakers,
            "1 while the connection breaker is at its limit, else 0"),
        stat("circuit_breakers.<priority>.cx_pool_open", G, CircuitBreakers,
            "1 while the connection-pool breaker is at its limit, else 0"),
        stat("circuit_breakers.<priority>.rq_pending_open", G, CircuitBreakers,
            "1 while the pending-request breaker is at its limit, else 0"),
        stat("circuit_breakers.<priority>.rq_open", G, CircuitBreakers,
            "1 while the request breaker is at its limit, else 0"),
        stat("circuit_breakers.<priority>.rq_retry_open", G, CircuitBreakers,
            "1 while the retry breaker is at its limit, else 0"),
        stat("circuit_breakers.<priority>.remaining_cx", G, CircuitBreakers,
            "Connections left before the connection breaker opens"),
        stat("circuit_breakers.<priority>.remaining_pending", G, CircuitBreakers,
            "Pending requests left before the pending breaker opens"),
        stat("circuit_breakers.<priority>.remaining_rq", G, CircuitBreakers,
            "Requests left before the request breaker opens"),
        stat("circuit_breakers.<priority>.remaining_retries", G, CircuitBreakers,
            "Retries left before the retry breaker opens"),
        stat("circuit_breakers.<priority>.remaining_cx_pools", G, CircuitBreakers,
            "Connection pools left before the pool breaker opens"),
        // TimeoutBudget
        stat("upstream_rq_timeout_budget_percent_used", H, TimeoutBudget,
            "Percent of the route timeout spent waiting for the response"),
        stat("upstream_rq_timeout_budget_per_try_percent_used", H, TimeoutBudget,
            "Percent of the per-try timeout spent waiting for the response"),
        // DynamicHttp
        stat("upstream_rq_completed", C, DynamicHttp, "Requests that finished with a response"),
        stat("upstream_rq_<Nxx>", C, DynamicHttp,
            "Final responses in this status class (2xx, 5xx, ...)"),
        stat("upstream_rq_<code>", C, DynamicHttp, "Final responses with this status code"),
        stat("upstream_rq_time", H, DynamicHttp,
            "Time from sending a request to its full response, in milliseconds"),
        stat("canary.upstream_rq_completed", C, DynamicHttp,
            "Requests to canary hosts that finished"),
        stat("canary.upstream_rq_<Nxx>", C, DynamicHttp,
            "Responses from canary hosts in this status class"),
        stat("canary.upstream_rq_<code>", C, DynamicHttp,
            "Responses from canary hosts with this status code"),
        stat("canary.upstream_rq_time", H, DynamicHttp,
            "Request time to canary hosts, in milliseconds"),
        stat("internal.upstream_rq_completed", C, DynamicHttp,
            "Requests from internal callers that finished"),
        stat("internal.upstream_rq_<Nxx>", C, DynamicHttp,
            "Responses to internal callers in this status class"),
        stat("internal.upstream_rq_<code>", C, DynamicHttp,
            "Responses to internal callers with this status code"),
        stat("internal.upstream_rq_time", H, DynamicHttp,
            "Request time for internal callers, in milliseconds"),
        stat("external.upstream_rq_completed", C, DynamicHttp,
            "Requests from external callers that finished"),
        stat("external.upstream_rq_<Nxx>", C, DynamicHttp,
            "Responses to external callers in this status class"),
        stat("external.upstream_rq_<code>", C, DynamicHttp,
            "Responses to external callers with this status code"),
        stat("external.upstream_rq_time", H, DynamicHttp,
            "Request time for external callers, in milliseconds"),
        stat("ext_authz.ok", C, DynamicHttp, "Requests the external authorization service allowed"),
        stat("ext_authz.denied", C, DynamicHttp,
            "Requests the external authorization service denied"),
        stat("ext_authz.error", C, DynamicHttp, "External authorization calls that failed"),
        stat("ext_authz.failure_mode_allowed", C, DynamicHttp,
            "Requests let through despite an ext_authz error (failure_mode_allow)"),
        // Retry
        stat("retry.upstream_rq_<Nxx>", C, Retry,
            "Responses in this status class that were retried, not returned"),
        stat("retry.upstream_rq_<code>", C, Retry,
            "Responses with this status code that were retried, not returned"),
        // Tls
        stat("ssl.connection_error", C, Tls,
            "TLS connection errors, not counting failed certificate checks"),
        stat("ssl.handshake", C, Tls, "TLS handshakes that succeeded"),
        stat("ssl.session_reused", C, Tls, "TLS sessions resumed"),
        stat("ssl.no_certificate", C, Tls, "TLS connections made without a client certificate"),
        stat("ssl.fail_verify_no_cert", C, Tls,
            "TLS connections that failed because no certificate was presented"),
        stat("ssl.fail_verify_error", C, Tls, "TLS connections that failed CA verification"),
        stat("ssl.fail_verify_san", C, Tls, "TLS connections that failed SAN verification"),
        stat("ssl.fail_verify_cert_hash", C, Tls,
            "TLS connections that failed certificate pinning"),
        stat("ssl.ocsp_staple_failed", C, Tls,
            "TLS connections that broke the OCSP stapling policy"),
        stat("ssl.ocsp_staple_omitted", C, Tls,
            "TLS connections that succeeded without an OCSP staple"),
        stat("ssl.ocsp_staple_responses", C, Tls,
            "TLS connections with a valid OCSP response at hand"),
        stat("ssl.ocsp_staple_requests", C, Tls,
            "TLS connections where the peer asked for an OCSP staple"),
        stat("ssl.ciphers.<cipher>", C, Tls, "TLS connections that used this cipher"),
        stat("ssl.curves.<curve>", C, Tls, "TLS connections that used this ECDHE curve"),
        stat("ssl.sigalgs.<sigalg>", C, Tls, "TLS connections that used this signature algorithm"),
        stat("ssl.versions.<version>", C, Tls, "TLS connections that used this protocol version"),
        stat("ssl.was_key_usage_invalid", C, Tls,
            "TLS connections whose certificate had an invalid keyUsage extension"),
        stat("ssl.certificate.<cert_name>.seconds_since_epoch_of_expiration", G, Tls,
            "When this certificate expires, in Unix seconds"),
        stat("client_ssl_socket_factory.ssl_context_update_by_sds", C, Tls,
            "TLS contexts rebuilt after an SDS secret update"),
        stat("client_ssl_socket_factory.upstream_context_secrets_not_ready", C, Tls,
            "Upstream connections attempted before the TLS secrets were ready"),
        stat("client_ssl_socket_factory.downstream_context_secrets_not_ready", C, Tls,
            "Downstream connections attempted before the TLS secrets were ready"),
        // PerZone
        stat("zone.<from_zone>.<to_zone>.upstream_rq_<Nxx>", C, PerZone,
            "Responses in this status class for requests between these zones"),
        stat("zone.<from_zone>.<to_zone>.upstream_rq_<code>", C, PerZone,
            "Responses with this status code for requests between these zones"),
        stat("zone.<from_zone>.<to_zone>.upstream_rq_time", H, PerZone,
            "Request time between these zones, in milliseconds"),
        // LoadBalancer
        stat("lb_recalculate_zone_structures", C, LoadBalancer,
            "Times the zone-aware routing tables were rebuilt"),
        stat("lb_healthy_panic", C, LoadBalancer,
            "Requests balanced in panic mode because too few hosts were healthy"),
        stat("lb_zone_cluster_too_small", C, LoadBalancer,
            "Times zone-aware routing was skipped because the cluster is too small"),
        stat("lb_zone_routing_all_directly", C, LoadBalancer,
            "Times all requests went to the local zone"),
        stat("lb_zone_routing_sampled", C, LoadBalancer,
            "Times part of the requests went to the local zone"),
        stat("lb_zone_routing_cross_zone", C, LoadBalancer,
            "Times zone-aware routing had to send requests to another zone"),
        stat("lb_local_cluster_not_ok", C, LoadBalancer,
            "Times the local host set was missing or in panic mode"),
        stat("lb_zone_no_capacity_left", C, LoadBalancer,
            "Times a random zone was picked after a rounding error"),
        stat("original_dst_host_invalid", C, LoadBalancer,
            "Invalid hosts passed to the original-destination load balancer"),
        stat("lb_connection_aware_selected_cold", C, LoadBalancer,
            "Connection-aware picks that fell back to a host with no ready connection"),
        stat("lb_connection_aware_skipped_cold", C, LoadBalancer,
            "Hosts skipped by connection-aware picking for lack of a ready connection"),
        stat("lb_zone_number_differs", C, LoadBalancer,
            "Times the local and upstream clusters had different zone counts"),
        // SubsetLb
        stat("lb_subsets_active", G, SubsetLb, "Subsets currently available"),
        stat("lb_subsets_created", C, SubsetLb, "Subsets created"),
        stat("lb_subsets_removed", C, SubsetLb, "Subsets removed because they had no hosts left"),
        stat("lb_subsets_selected", C, SubsetLb, "Times a subset was chosen for a request"),
        stat("lb_subsets_fallback", C, SubsetLb, "Times the subset fallback policy was used"),
        stat("lb_subsets_fallback_panic", C, SubsetLb, "Times subset panic mode kicked in"),
        stat("lb_subsets_single_host_per_subset_duplicate", G, SubsetLb,
            "Unused duplicate hosts under single_host_per_subset"),
        // RingHashLb
        stat("ring_hash_lb.size", G, RingHashLb, "Host hashes on the ring"),
        stat("ring_hash_lb.min_hashes_per_host", G, RingHashLb,
            "Fewest hashes any one host has on the ring"),
        stat("ring_hash_lb.max_hashes_per_host", G, RingHashLb,
            "Most hashes any one host has on the ring"),
        // MaglevLb
        stat("maglev_lb.min_entries_per_host", G, MaglevLb,
            "Fewest table entries any one host has"),
        stat("maglev_lb.max_entries_per_host", G, MaglevLb, "Most table entries any one host has"),
        // Transport
        stat("upstream.<tx/rx>.quic_connection_close_error_code_<error_code>", C, Transport,
            "QUIC connections closed with this error code, sent (tx) or received (rx)"),
        stat("upstream.<tx/rx>.quic_reset_stream_error_code_<error_code>", C, Transport,
            "QUIC streams reset with this error code, sent (tx) or received (rx)"),
        stat("<match_name>.total_match_count", C, Transport,
            "Connections that used this transport socket match (e.g. tlsMode-istio)"),
        stat("tcp_stats.cx_tx_segments", C, Transport, "TCP segments sent"),
        stat("tcp_stats.cx_rx_segments", C, Transport, "TCP segments received"),
        stat("tcp_stats.cx_tx_data_segments", C, Transport,
            "TCP segments carrying data that were sent"),
        stat("tcp_stats.cx_rx_data_segments", C, Transport,
            "TCP segments carrying data that were received"),
        stat("tcp_stats.cx_tx_retransmitted_segments", C, Transport, "TCP segments retransmitted"),
        stat("tcp_stats.cx_tx_unsent_bytes", G, Transport,
            "Bytes handed to the kernel that are not sent yet"),
        stat("tcp_stats.cx_tx_unacked_segments", G, Transport,
            "Segments sent that are not acknowledged yet"),
        stat("tcp_stats.cx_tx_percent_retransmitted_segments", H, Transport,
            "Percent of a connection's segments that were retransmitted"),
        stat("tcp_stats.cx_rtt_us", H, Transport, "Smoothed round-trip time, in microseconds"),
        stat("tcp_stats.cx_rtt_variance_us", H, Transport,
            "Round-trip time variance, in microseconds"),
        stat("metadata_exchange.alpn_protocol_found", C, Transport,
            "Connections that negotiated Istio's metadata-exchange ALPN"),
        stat("metadata_exchange.alpn_protocol_not_found", C, Transport,
            "Connections that did not negotiate the metadata-exchange ALPN"),
        stat("metadata_exchange.initial_header_not_found", C, Transport,
            "Metadata exchanges where the peer sent no initial header"),
        stat("metadata_exchange.header_not_found", C, Transport,
            "Metadata exchanges where the peer's metadata header was missing"),
        stat("metadata_exchange.metadata_added", C, Transport,
            "Metadata exchanges that recorded the peer's metadata"),
        stat("http1.dropped_headers_with_underscores", C, Transport,
            "HTTP/1 headers dropped because their names had underscores"),
        stat("http1.metadata_not_supported_error", C, Transport,
            "HTTP/1 metadata dropped because HTTP/1 cannot carry it"),
        stat("http1.requests_rejected_with_underscores_in_headers", C, Transport,
            "HTTP/1 requests rejected for underscores in header names"),
        stat("http1.response_flood", C, Transport,
            "HTTP/1 connections closed for flooding responses"),
        stat("http2.dropped_headers_with_underscores", C, Transport,
            "HTTP/2 headers dropped because their names had underscores"),
        stat("http2.header_overflow", C, Transport,
            "HTTP/2 connections reset because headers were too large"),
        stat("http2.headers_cb_no_stream", C, Transport,
            "HTTP/2 header callbacks that found no stream"),
        stat("http2.inbound_empty_frames_flood", C, Transport,
            "HTTP/2 connections closed for too many empty frames"),
        stat("http2.inbound_priority_frames_flood", C, Transport,
            "HTTP/2 connections closed for too many PRIORITY frames"),
        stat("http2.inbound_window_update_frames_flood", C, Transport,
            "HTTP/2 connections closed for too many WINDOW_UPDATE frames"),
        stat("http2.outbound_control_flood", C, Transport,
            "HTTP/2 connections closed for too many queued control frames"),
        stat("http2.outbound_flood", C, Transport,
            "HTTP/2 connections closed for too many queued frames"),
        stat("http2.pending_send_bytes", G, Transport,
            "HTTP/2 bytes buffered while waiting for send window"),
        stat("http2.requests_rejected_with_underscores_in_headers", C, Transport,
            "HTTP/2 requests rejected for underscores in header names"),
        stat("http2.rx_messaging_error", C, Transport,
            "HTTP/2 frames rejected as invalid messages"),
        stat("http2.rx_reset", C, Transport, "HTTP/2 stream resets received"),
        stat("http2.streams_active", G, Transport, "HTTP/2 streams open right now"),
        stat("http2.too_many_header_frames", C, Transport,
            "HTTP/2 streams that sent too many header frames"),
        stat("http2.trailers", C, Transport, "HTTP/2 trailers received"),
        stat("http2.tx_flush_timeout", C, Transport,
            "HTTP/2 streams reset after the flush timeout"),
        stat("http2.tx_reset", C, Transport, "HTTP/2 stream resets sent"),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pattern that `suffix` resolves to.
    fn pattern(suffix: &str) -> Option<&'static str> {
        lookup(suffix).map(|info| info.pattern)
    }

    /// A concrete suffix for a pattern, with every placeholder filled in.
    fn example(pattern: &str) -> String {
        [
            ("<priority>", "high"),
            ("<Nxx>", "5xx"),
            ("<code>", "503"),
            ("<from_zone>", "us-east-1a"),
            ("<to_zone>", "us-east-1b"),
            ("<cipher>", "TLS_AES_128_GCM_SHA256"),
            ("<curve>", "X25519"),
            ("<sigalg>", "rsa_pss_rsae_sha256"),
            ("<version>", "TLSv1.3"),
            ("<cert_name>", "ROOTCA"),
            ("<match_name>", "tlsMode-istio"),
            ("<tx/rx>", "rx"),
            ("<error_code>", "QUIC_NO_ERROR"),
        ]
        .iter()
        .fold(pattern.to_owned(), |s, (from, to)| s.replace(from, to))
    }

    #[test]
    fn patterns_are_unique_and_meanings_are_short_sentences() {
        let mut seen = std::collections::HashSet::new();
        for info in CLUSTER_STATS {
            assert!(seen.insert(info.pattern), "duplicate {}", info.pattern);
            assert!(
                !info.meaning.is_empty() && info.meaning.len() <= 90,
                "{}",
                info.pattern
            );
            assert!(!info.meaning.ends_with('.'), "{}", info.pattern);
        }
        assert_eq!(CLUSTER_STATS.len(), 239);
    }

    #[test]
    fn every_entry_is_reachable_from_a_concrete_name() {
        for info in CLUSTER_STATS {
            let concrete = example(info.pattern);
            assert!(
                !concrete.contains('<'),
                "unfilled placeholder in {}",
                info.pattern
            );
            assert_eq!(pattern(&concrete), Some(info.pattern), "{concrete}");
            assert!(is_cluster_suffix(&concrete), "{concrete}");
        }
    }

    #[test]
    fn exact_names_resolve_with_kind_and_section() {
        let timeout = lookup("upstream_rq_timeout").unwrap();
        assert_eq!(
            (timeout.kind, timeout.section),
            (StatKind::Counter, Section::General)
        );
        let text = lookup("version_text").unwrap();
        assert_eq!(
            (text.kind, text.section),
            (StatKind::TextReadout, Section::General)
        );
        let time = lookup("upstream_rq_time").unwrap();
        assert_eq!(
            (time.kind, time.section),
            (StatKind::Histogram, Section::DynamicHttp)
        );
        assert_eq!(lookup("upstream_cx_active").unwrap().kind, StatKind::Gauge);
        assert_eq!(pattern("upstream_rq_0rtt"), Some("upstream_rq_0rtt"));
        let budget = lookup("upstream_rq_timeout_budget_percent_used").unwrap();
        assert_eq!(
            (budget.kind, budget.section),
            (StatKind::Histogram, Section::TimeoutBudget)
        );
    }

    #[test]
    fn circuit_breakers_take_default_and_high_priorities_only() {
        for priority in ["default", "high"] {
            let info = lookup(&format!("circuit_breakers.{priority}.rq_open")).unwrap();
            assert_eq!(info.pattern, "circuit_breakers.<priority>.rq_open");
            assert_eq!(
                (info.kind, info.section),
                (StatKind::Gauge, Section::CircuitBreakers)
            );
        }
        assert_eq!(
            pattern("circuit_breakers.default.remaining_cx_pools"),
            Some("circuit_breakers.<priority>.remaining_cx_pools")
        );
        assert_eq!(pattern("circuit_breakers.low.rq_open"), None);
        assert_eq!(pattern("circuit_breakers.default.rq_open.x"), None);
        assert_eq!(pattern("circuit_breakers.rq_open"), None);
        assert!(!is_cluster_suffix("circuit_breakers.low.rq_open"));
    }

    #[test]
    fn outlier_detection_and_health_check_resolve() {
        let active = lookup("outlier_detection.ejections_active").unwrap();
        assert_eq!(
            (active.kind, active.section),
            (StatKind::Gauge, Section::OutlierDetection)
        );
        let attempt = lookup("health_check.attempt").unwrap();
        assert_eq!(
            (attempt.kind, attempt.section),
            (StatKind::Counter, Section::HealthCheck)
        );
        assert_eq!(pattern("outlier_detection.ejections_brand_new"), None);
        assert!(is_cluster_suffix("outlier_detection.ejections_brand_new"));
        assert!(!is_cluster_suffix("outlier_detection.a.b"));
    }

    #[test]
    fn response_codes_resolve_in_every_scope() {
        assert_eq!(pattern("upstream_rq_200"), Some("upstream_rq_<code>"));
        assert_eq!(pattern("upstream_rq_5xx"), Some("upstream_rq_<Nxx>"));
        assert_eq!(
            pattern("upstream_rq_completed"),
            Some("upstream_rq_completed")
        );
        for scope in ["internal", "external", "canary"] {
            assert_eq!(
                pattern(&format!("{scope}.upstream_rq_200")),
                Some(format!("{scope}.upstream_rq_<code>").as_str())
            );
            assert_eq!(
                pattern(&format!("{scope}.upstream_rq_2xx")),
                Some(format!("{scope}.upstream_rq_<Nxx>").as_str())
            );
            for leaf in ["upstream_rq_completed", "upstream_rq_time"] {
                let concrete = format!("{scope}.{leaf}");
                assert_eq!(pattern(&concrete), Some(concrete.as_str()));
            }
        }
        assert_eq!(pattern("upstream_rq_20"), None);
        assert_eq!(pattern("upstream_rq_2000"), None);
        assert_eq!(pattern("upstream_rq_x5x"), None);
        assert_eq!(pattern("internal.upstream_rq_total"), None);
    }

    #[test]
    fn retry_scope_has_only_response_codes() {
        let code = lookup("retry.upstream_rq_503").unwrap();
        assert_eq!(
            (code.pattern, code.section),
            ("retry.upstream_rq_<code>", Section::Retry)
        );
        assert_eq!(
            pattern("retry.upstream_rq_5xx"),
            Some("retry.upstream_rq_<Nxx>")
        );
        assert_eq!(pattern("retry.upstream_rq_completed"), None);
        assert!(!is_cluster_suffix("retry.upstream_rq_time"));
    }

    #[test]
    fn zone_stats_take_exactly_two_zone_segments() {
        let info = lookup("zone.us-east-1a.us-east-1b.upstream_rq_200").unwrap();
        assert_eq!(
            info.pattern,
            "zone.<from_zone>.<to_zone>.upstream_rq_<code>"
        );
        assert_eq!(info.section, Section::PerZone);
        assert_eq!(
            pattern("zone.a.b.upstream_rq_time"),
            Some("zone.<from_zone>.<to_zone>.upstream_rq_time")
        );
        assert_eq!(pattern("zone.a.upstream_rq_200"), None);
        assert_eq!(pattern("zone.a.b.c.upstream_rq_200"), None);
        assert_eq!(pattern("zone..b.upstream_rq_200"), None);
        assert_eq!(pattern("zone.a.b.upstream_rq_completed"), None);
    }

    #[test]
    fn ssl_stats_resolve_to_the_tls_section() {
        for (suffix, expected) in [
            ("ssl.handshake", "ssl.handshake"),
            ("ssl.versions.TLSv1.3", "ssl.versions.<version>"),
            ("ssl.ciphers.TLS_AES_128_GCM_SHA256", "ssl.ciphers.<cipher>"),
            ("ssl.curves.X25519", "ssl.curves.<curve>"),
            ("ssl.sigalgs.rsa_pss_rsae_sha256", "ssl.sigalgs.<sigalg>"),
            (
                "ssl.certificate.ROOTCA.seconds_since_epoch_of_expiration",
                "ssl.certificate.<cert_name>.seconds_since_epoch_of_expiration",
            ),
        ] {
            let info = lookup(suffix).unwrap();
            assert_eq!(
                (info.pattern, info.section),
                (expected, Section::Tls),
                "{suffix}"
            );
        }
        assert_eq!(pattern("ssl.versions."), None);
        assert_eq!(pattern("ssl.new_counter"), None);
        assert!(is_cluster_suffix("ssl.new_counter"));
        assert!(is_cluster_suffix(
            "ssl.certificate.ROOTCA.expiration_unix_time_seconds"
        ));
        assert!(!is_cluster_suffix("ssl.certificate.ROOTCA"));
        assert!(!is_cluster_suffix(
            "ssl.svc.cluster.local.upstream_rq_total"
        ));
    }

    #[test]
    fn transport_socket_match_needs_one_name_and_the_exact_tail() {
        for name in ["default", "tlsMode-istio", "tlsMode-disabled"] {
            let info = lookup(&format!("{name}.total_match_count")).unwrap();
            assert_eq!(info.pattern, "<match_name>.total_match_count");
            assert_eq!(
                (info.kind, info.section),
                (StatKind::Counter, Section::Transport)
            );
        }
        assert_eq!(pattern("local.default.total_match_count"), None);
        assert_eq!(pattern(".total_match_count"), None);
        assert_eq!(pattern("default.total_match_count_x"), None);
        assert!(!is_cluster_suffix("default.upstream_rq_total"));
        assert!(!is_cluster_suffix(
            "default.svc.cluster.local.upstream_rq_total"
        ));
    }

    #[test]
    fn load_balancer_stats_resolve() {
        let cases = [
            ("lb_healthy_panic", Section::LoadBalancer, StatKind::Counter),
            (
                "original_dst_host_invalid",
                Section::LoadBalancer,
                StatKind::Counter,
            ),
            ("lb_subsets_active", Section::SubsetLb, StatKind::Gauge),
            ("lb_subsets_fallback", Section::SubsetLb, StatKind::Counter),
            ("ring_hash_lb.size", Section::RingHashLb, StatKind::Gauge),
            (
                "maglev_lb.max_entries_per_host",
                Section::MaglevLb,
                StatKind::Gauge,
            ),
        ];
        for (suffix, section, kind) in cases {
            let info = lookup(suffix).unwrap();
            assert_eq!((info.section, info.kind), (section, kind), "{suffix}");
        }
    }

    #[test]
    fn quic_error_codes_resolve_with_and_without_the_http3_scope() {
        let close = "upstream.<tx/rx>.quic_connection_close_error_code_<error_code>";
        assert_eq!(
            pattern("upstream.tx.quic_connection_close_error_code_QUIC_NO_ERROR"),
            Some(close)
        );
        assert_eq!(
            pattern("http3.upstream.rx.quic_connection_close_error_code_7"),
            Some(close)
        );
        assert_eq!(
            pattern("upstream.rx.quic_reset_stream_error_code_1"),
            Some("upstream.<tx/rx>.quic_reset_stream_error_code_<error_code>")
        );
        assert_eq!(pattern("upstream.up.quic_reset_stream_error_code_1"), None);
        assert_eq!(pattern("upstream.tx.quic_reset_stream_error_code_"), None);
        assert!(!is_cluster_suffix(
            "upstream.svc.cluster.local.upstream_rq_total"
        ));
    }

    #[test]
    fn forward_compatible_shapes_are_accepted() {
        for suffix in [
            "upstream_rq_brand_new",
            "lb_new_policy_counter",
            "membership_new",
            "update_new",
            "assignment_new",
            "original_dst_new",
            "retry_or_shadow_new",
            "versionless",
            "http1.new_counter",
            "http2.keepalive_timeout",
            "http3.new_counter",
            "tcp_stats.new_counter",
            "client_ssl_socket_factory.new_counter",
            "metadata_exchange.new_counter",
            "ext_authz.disabled",
            "circuit_breakers.high.new_gauge",
            "health_check.new_counter",
        ] {
            assert_eq!(
                lookup(suffix),
                None,
                "{suffix} should not be in the catalog"
            );
            assert!(is_cluster_suffix(suffix), "{suffix}");
        }
        assert!(!is_cluster_suffix("http2.a.b"));
        assert!(!is_cluster_suffix("http2."));
        assert!(!is_cluster_suffix("upstream_rq_total.x"));
    }

    #[test]
    fn partial_host_names_before_a_stat_are_rejected() {
        for suffix in [
            "svc.cluster.local.upstream_rq_total",
            "local.upstream_rq_total",
            "cluster.local.upstream_cx_total",
            "istioinaction.svc.cluster.local.version_text",
            "istioinaction.svc.cluster.local.upstream_rq_total",
            "default.svc.cluster.local.upstream_rq_total",
            "canary.svc.cluster.local.upstream_rq_200",
            "internal.svc.cluster.local.upstream_rq_200",
            "zone.svc.cluster.local.upstream_rq_200",
            "http2.svc.cluster.local.upstream_rq_total",
            "local.tlsMode-istio.total_match_count",
            "local.circuit_breakers.default.rq_open",
            "local.ssl.versions.TLSv1.3",
        ] {
            assert!(!is_cluster_suffix(suffix), "{suffix}");
        }
    }

    #[test]
    fn leftmost_split_finds_the_istio_cluster_name() {
        let cluster = "outbound|80||catalog.istioinaction.svc.cluster.local";
        for suffix in [
            "upstream_rq_total",
            "version_text",
            "default.total_match_count",
            "circuit_breakers.high.rq_open",
            "ssl.versions.TLSv1.3",
            "internal.upstream_rq_200",
            "zone.a.b.upstream_rq_2xx",
        ] {
            let rest = format!("{cluster}.{suffix}");
            let split = rest
                .match_indices('.')
                .map(|(i, _)| i)
                .find(|&i| is_cluster_suffix(&rest[i + 1..]));
            assert_eq!(split, Some(cluster.len()), "{rest}");
        }
    }

    #[test]
    fn odd_input_is_rejected_without_panicking() {
        for suffix in [
            "",
            ".",
            "..",
            "...",
            "ssl.",
            "zone...",
            "circuit_breakers..",
            "é.ü",
        ] {
            assert!(!is_cluster_suffix(suffix), "{suffix:?}");
        }
        assert_eq!(pattern("upstream_rq_é"), None);
        assert_eq!(pattern("upstream_rq_5é"), None);
        assert_eq!(pattern("zone.é.ü.upstream_rq_2é"), None);
    }
}
