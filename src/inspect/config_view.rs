//! Condensed views of one cluster's `/config_dump` settings and `/clusters` endpoint health,
//! as `inspect` shows them. Values Envoy fills in itself are marked `(Envoy default)`.

use serde::Serialize;

use crate::envoy::clusters::ClusterStatus;
use crate::envoy::config_dump::ConfigDump;
use crate::envoy::config_dump::cluster::{
    ENVOY_DEFAULT_CIRCUIT_BREAKER_LIMIT, ENVOY_DEFAULT_CONNECT_TIMEOUT, ENVOY_DEFAULT_IDLE_TIMEOUT,
    ENVOY_DEFAULT_MAX_RETRIES, Priority,
};
use crate::envoy::config_dump::duration::format_duration;
use crate::envoy::config_dump::route::{RouteEntry, RouteTimeout};

/// A setting as text plus whether Envoy's built-in default applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    pub value: String,
    pub envoy_default: bool,
}

impl Setting {
    fn set(value: String) -> Self {
        Setting {
            value,
            envoy_default: false,
        }
    }

    fn default(value: String) -> Self {
        Setting {
            value,
            envoy_default: true,
        }
    }

    fn or_default<T>(value: Option<T>, default: T, show: impl Fn(T) -> String) -> Self {
        match value {
            Some(v) => Setting::set(show(v)),
            None => Setting::default(show(default)),
        }
    }
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.envoy_default {
            true => write!(f, "{} (Envoy default)", self.value),
            false => f.write_str(&self.value),
        }
    }
}

/// Effective route settings for one route that sends traffic to the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteView {
    /// `route config / virtual host / route name`.
    pub route: String,
    pub timeout: Setting,
    pub per_try_timeout: Option<String>,
    pub retries: Option<u32>,
    pub retry_on: Vec<String>,
}

/// The effective settings of one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigView {
    pub connect_timeout: Setting,
    pub idle_timeout: Setting,
    pub max_requests_per_connection: Setting,
    pub max_connections: Setting,
    pub max_pending_requests: Setting,
    pub max_requests: Setting,
    pub max_retries: Setting,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_keepalive: Option<String>,
    pub routes: Vec<RouteView>,
}

/// The view of cluster `name`, when the dump has it.
pub fn config_view(dump: &ConfigDump, name: &str) -> Option<ConfigView> {
    let c = dump.cluster(name)?;
    let t = c.thresholds(Priority::Default);
    let limit = |v: Option<u32>, d: u32| Setting::or_default(v, d, show_limit);
    Some(ConfigView {
        connect_timeout: Setting::or_default(
            c.connect_timeout,
            ENVOY_DEFAULT_CONNECT_TIMEOUT,
            human,
        ),
        idle_timeout: Setting::or_default(c.http.idle_timeout, ENVOY_DEFAULT_IDLE_TIMEOUT, human),
        max_requests_per_connection: match c.http.max_requests_per_connection {
            Some(n) if n > 0 => Setting::set(n.to_string()),
            _ => Setting::default("unlimited".to_string()),
        },
        max_connections: limit(
            t.and_then(|t| t.max_connections),
            ENVOY_DEFAULT_CIRCUIT_BREAKER_LIMIT,
        ),
        max_pending_requests: limit(
            t.and_then(|t| t.max_pending_requests),
            ENVOY_DEFAULT_CIRCUIT_BREAKER_LIMIT,
        ),
        max_requests: limit(
            t.and_then(|t| t.max_requests),
            ENVOY_DEFAULT_CIRCUIT_BREAKER_LIMIT,
        ),
        max_retries: limit(t.and_then(|t| t.max_retries), ENVOY_DEFAULT_MAX_RETRIES),
        outlier_detection: c.outlier_detection.as_ref().map(|o| {
            let mut parts = Vec::new();
            if let Some(n) = o.consecutive_5xx {
                parts.push(format!("consecutive_5xx {n}"));
            }
            if let Some(n) = o.consecutive_gateway_failure {
                parts.push(format!("consecutive_gateway_failure {n}"));
            }
            if let Some(d) = o.interval {
                parts.push(format!("interval {}", human(d)));
            }
            if let Some(d) = o.base_ejection_time {
                parts.push(format!("base_ejection_time {}", human(d)));
            }
            if let Some(p) = o.max_ejection_percent {
                parts.push(format!("max_ejection_percent {p}%"));
            }
            parts.join(" · ")
        }),
        tcp_keepalive: c.tcp_keepalive.as_ref().map(|k| {
            let time = k.time.map_or("OS default".to_string(), human);
            format!("time {time}")
        }),
        routes: dump.routes_to(name).map(route_view).collect(),
    })
}

fn route_view(r: &RouteEntry) -> RouteView {
    let route = match &r.name {
        Some(n) if !n.is_empty() => format!("{} / {} / {n}", r.route_config, r.virtual_host),
        _ => format!("{} / {}", r.route_config, r.virtual_host),
    };
    let timeout = match r.timeout {
        RouteTimeout::Disabled => Setting::set("disabled (0s)".to_string()),
        RouteTimeout::After(d) => Setting::set(human(d)),
        RouteTimeout::Unset => Setting::default("15s".to_string()),
    };
    let policy = r.retry_policy.as_ref();
    RouteView {
        route,
        timeout,
        per_try_timeout: policy.and_then(|p| p.per_try_timeout).map(human),
        retries: policy.map(|p| p.effective_num_retries()),
        retry_on: policy.map(|p| p.retry_on.clone()).unwrap_or_default(),
    }
}

/// Istio writes "no limit" as 2^32-1; say so.
fn show_limit(n: u32) -> String {
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
