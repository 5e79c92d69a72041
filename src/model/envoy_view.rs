//! Condensed views of one cluster's `/config_dump` settings and `/clusters` endpoint health,
//! as `inspect` shows them. Values Envoy fills in itself are listed in `envoy_defaults` and
//! marked `(Envoy default)` in text. Durations are milliseconds (`*_ms`) for scripts.

use serde::{Deserialize, Serialize};

use crate::envoy::clusters::ClusterStatus;
use crate::envoy::config_dump::ConfigDump;
use crate::envoy::config_dump::cluster::{
    ENVOY_DEFAULT_CIRCUIT_BREAKER_LIMIT, ENVOY_DEFAULT_CONNECT_TIMEOUT, ENVOY_DEFAULT_IDLE_TIMEOUT,
    ENVOY_DEFAULT_MAX_RETRIES, Priority,
};
use crate::envoy::config_dump::duration::format_duration;
use crate::envoy::config_dump::route::{RouteEntry, RouteTimeout};

/// Effective route settings for one route that sends traffic to the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteView {
    /// `route config / virtual host / route name`.
    pub route: String,
    /// `null`: the route has no timeout (`0s`, Istio's default).
    pub timeout_ms: Option<u64>,
    /// The route sets no `timeout`, so Envoy's 15 s default applies.
    pub timeout_is_envoy_default: bool,
    /// `null`: each try may use the whole route timeout.
    pub per_try_timeout_ms: Option<u64>,
    /// Retries allowed (`num_retries`, Envoy's default 1 filled in); `null`: no retry policy.
    pub retry_attempts: Option<u32>,
    pub retry_on: Vec<String>,
}

/// Outlier detection as configured on the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlierView {
    pub consecutive_5xx: Option<u32>,
    pub consecutive_gateway_failure: Option<u32>,
    pub interval_ms: Option<u64>,
    pub base_ejection_time_ms: Option<u64>,
    pub max_ejection_percent: Option<u32>,
}

/// The effective (Envoy-side, from `/config_dump`) settings of one cluster. Fields Envoy
/// filled with its own defaults are listed in `envoy_defaults`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigView {
    pub connect_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    /// `null`: unlimited.
    pub max_requests_per_connection: Option<u32>,
    pub max_connections: u32,
    pub max_pending_requests: u32,
    pub max_requests: u32,
    pub max_retries: u32,
    /// Names of the fields above that hold Envoy's built-in default, not a configured value.
    pub envoy_defaults: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<OutlierView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_keepalive_time_ms: Option<u64>,
    pub routes: Vec<RouteView>,
}

impl ConfigView {
    /// `value` in text, with `(Envoy default)` when Envoy filled it in.
    pub fn show(&self, field: &str, value: String) -> String {
        match self.envoy_defaults.iter().any(|d| d == field) {
            true => format!("{value} (Envoy default)"),
            false => value,
        }
    }
}

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The view of cluster `name`, when the dump has it.
pub fn config_view(dump: &ConfigDump, name: &str) -> Option<ConfigView> {
    let c = dump.cluster(name)?;
    let t = c.thresholds(Priority::Default);
    let mut defaults: Vec<&'static str> = Vec::new();
    let mut pick = |field: &'static str, v: Option<u32>, d: u32| {
        v.unwrap_or_else(|| {
            defaults.push(field);
            d
        })
    };
    let limit = ENVOY_DEFAULT_CIRCUIT_BREAKER_LIMIT;
    let max_connections = pick("max_connections", t.and_then(|t| t.max_connections), limit);
    let max_pending_requests = pick(
        "max_pending_requests",
        t.and_then(|t| t.max_pending_requests),
        limit,
    );
    let max_requests = pick("max_requests", t.and_then(|t| t.max_requests), limit);
    let max_retries = pick(
        "max_retries",
        t.and_then(|t| t.max_retries),
        ENVOY_DEFAULT_MAX_RETRIES,
    );
    if c.connect_timeout.is_none() {
        defaults.push("connect_timeout_ms");
    }
    if c.http.idle_timeout.is_none() {
        defaults.push("idle_timeout_ms");
    }
    let per_connection = c.http.max_requests_per_connection.filter(|n| *n > 0);
    if per_connection.is_none() {
        defaults.push("max_requests_per_connection");
    }
    Some(ConfigView {
        connect_timeout_ms: ms(c.connect_timeout.unwrap_or(ENVOY_DEFAULT_CONNECT_TIMEOUT)),
        idle_timeout_ms: ms(c.http.idle_timeout.unwrap_or(ENVOY_DEFAULT_IDLE_TIMEOUT)),
        max_requests_per_connection: per_connection,
        max_connections,
        max_pending_requests,
        max_requests,
        max_retries,
        envoy_defaults: defaults.into_iter().map(String::from).collect(),
        outlier_detection: c.outlier_detection.as_ref().map(|o| OutlierView {
            consecutive_5xx: o.consecutive_5xx,
            consecutive_gateway_failure: o.consecutive_gateway_failure,
            interval_ms: o.interval.map(ms),
            base_ejection_time_ms: o.base_ejection_time.map(ms),
            max_ejection_percent: o.max_ejection_percent,
        }),
        tcp_keepalive_time_ms: c.tcp_keepalive.as_ref().and_then(|k| k.time).map(ms),
        routes: dump.routes_to(name).map(route_view).collect(),
    })
}

fn route_view(r: &RouteEntry) -> RouteView {
    let parts = [
        Some(r.route_config.as_str()),
        Some(r.virtual_host.as_str()),
        r.name.as_deref(),
    ];
    let route = parts
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    let policy = r.retry_policy.as_ref();
    RouteView {
        route,
        timeout_ms: r.timeout.effective().map(ms),
        timeout_is_envoy_default: r.timeout == RouteTimeout::Unset,
        per_try_timeout_ms: policy.and_then(|p| p.per_try_timeout).map(ms),
        retry_attempts: policy.map(|p| p.effective_num_retries()),
        retry_on: policy.map(|p| p.retry_on.clone()).unwrap_or_default(),
    }
}

/// `2s`, `500ms`, `1h` for a number of milliseconds.
pub fn human_ms(ms: u64) -> String {
    human(std::time::Duration::from_millis(ms))
}

/// Istio writes "no limit" as 2^32-1; say so.
pub fn show_limit(n: u32) -> String {
    match n {
        u32::MAX => format!("unlimited ({n})"),
        n => n.to_string(),
    }
}

/// `2s`, `500ms`, `1h`, `1m30s`: how an on-call engineer writes durations.
pub fn human(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 && d.as_nanos() > 0 {
        return format_duration(d);
    }
    if !ms.is_multiple_of(1000) {
        if ms < 1000 {
            return format!("{ms}ms");
        }
        let secs = format!("{:.3}", d.as_secs_f64());
        return format!("{}s", secs.trim_end_matches('0'));
    }
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, sec) => format!("{m}m{sec}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, 0) => format!("{h}h{m}m"),
        (h, m, sec) => format!("{h}h{m}m{sec}s"),
    }
}

/// Endpoint health of one cluster from `/clusters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub total: usize,
    pub healthy: usize,
    pub ejected: usize,
    /// Sums of the per-host counters (always recorded, even without the stats opt-in).
    pub rq_total: Option<u64>,
    pub rq_timeout: Option<u64>,
    pub rq_error: Option<u64>,
    pub cx_connect_fail: Option<u64>,
    /// Hosts that are not healthy, with their flags (`10.0.0.3:8080 /failed_outlier_check`).
    pub unhealthy: Vec<String>,
}

pub fn endpoint_view(c: &ClusterStatus) -> EndpointView {
    EndpointView {
        total: c.total_count(),
        healthy: c.healthy_count(),
        ejected: c.ejected_count(),
        rq_total: c.sum_host(|h| h.rq_total),
        rq_timeout: c.rq_timeout_total(),
        rq_error: c.rq_error_total(),
        cx_connect_fail: c.cx_connect_fail_total(),
        unhealthy: c
            .hosts
            .iter()
            .filter(|h| !h.health.is_healthy())
            .map(|h| format!("{} {}", h.address, h.health))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_secs(2)), "2s");
        assert_eq!(human(Duration::from_millis(500)), "500ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human(Duration::from_secs(3600)), "1h");
        assert_eq!(human(Duration::from_secs(90)), "1m30s");
        assert_eq!(human(Duration::from_secs(300)), "5m");
        assert_eq!(human(Duration::from_secs(0)), "0s");
    }
}
