//! The `config` object of a cluster: the Istio settings that apply to it as flat numbers for
//! scripts (`connect_timeout_ms`, `route_timeout_ms`, …), where each came from, which are
//! Istio's defaults, and where Envoy's effective configuration (`/config_dump`) disagrees —
//! the "config not applied" signal.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::envoy_view::ConfigView;
use crate::istio::policy::ResolvedPolicy;
use crate::istio::route::ResolvedRoute;
use crate::istio::source::{Limit, Source, Sourced};

/// Istio's "no limit" as Envoy receives it.
pub const UNLIMITED: u64 = u32::MAX as u64;

/// A configured value that Envoy does not run with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigMismatch {
    /// Field name as in [`ConfigSummary`] (`connect_timeout_ms`).
    pub field: String,
    /// What the Istio objects say (`null`: no value / disabled).
    pub configured: Option<u64>,
    /// What Envoy runs with (`null`: no value / disabled).
    pub effective: Option<u64>,
}

/// The resolved Istio configuration of one outbound cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigSummary {
    /// `namespace/name` of the DestinationRule in effect, `null` when none applies.
    pub destination_rule: Option<String>,
    /// `namespace/name` of the VirtualService whose route sends traffic here, `null` when none.
    pub virtual_service: Option<String>,
    pub connect_timeout_ms: u64,
    /// HTTP connection-pool idle timeout (`connectionPool.http.idleTimeout`).
    pub idle_timeout_ms: u64,
    /// `null`: no route timeout (Istio's default).
    pub route_timeout_ms: Option<u64>,
    /// `null`: each try may use the whole route timeout.
    pub per_try_timeout_ms: Option<u64>,
    pub retry_attempts: u32,
    pub retry_on: String,
    /// `connectionPool.tcp.maxConnections`; 4294967295 = unlimited.
    pub max_connections: u64,
    /// `connectionPool.http.http1MaxPendingRequests`; 4294967295 = unlimited.
    pub max_pending_requests: u64,
    /// `connectionPool.http.http2MaxRequests`; 4294967295 = unlimited.
    pub max_requests: u64,
    /// `connectionPool.http.maxRetries`; 4294967295 = unlimited.
    pub max_retries: u64,
    /// `connectionPool.http.maxRequestsPerConnection`; 0 = unlimited.
    pub max_requests_per_connection: u64,
    /// Where each field above came from (`DestinationRule prod/inventory
    /// trafficPolicy.connectionPool.tcp.connectTimeout`, or `Istio default`).
    pub sources: BTreeMap<String, String>,
    /// Fields that hold Istio's defaults (nothing configured them).
    pub defaults: Vec<String>,
    /// Configured values Envoy does not run with (needs a `/config_dump`).
    pub mismatches: Vec<ConfigMismatch>,
    /// Remarks from resolution (precedence decisions, other routes, missing subsets).
    pub notes: Vec<String>,
    /// Every resolved setting with its source, for drill-down.
    pub policy: ResolvedPolicy,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn limit(l: Limit, unlimited: u64) -> u64 {
    match l {
        Limit::Unlimited => unlimited,
        Limit::At(n) => u64::from(n),
    }
}

/// Builds the summary; `effective` (from a client's `/config_dump`) adds the mismatches.
pub fn summarize(policy: &ResolvedPolicy, effective: Option<&ConfigView>) -> ConfigSummary {
    let route = policy.routes.first();
    let mut s = Collector::default();
    let connect_timeout_ms = s.take("connect_timeout_ms", &policy.connect_timeout, |d| ms(*d));
    let idle_timeout_ms = s.take("idle_timeout_ms", &policy.http_idle_timeout, |d| ms(*d));
    let max_connections = s.take("max_connections", &policy.max_connections, |l| {
        limit(*l, UNLIMITED)
    });
    let max_pending_requests = s.take(
        "max_pending_requests",
        &policy.http1_max_pending_requests,
        |l| limit(*l, UNLIMITED),
    );
    let max_requests = s.take("max_requests", &policy.http2_max_requests, |l| {
        limit(*l, UNLIMITED)
    });
    let max_retries = s.take("max_retries", &policy.max_retries, |l| limit(*l, UNLIMITED));
    let max_requests_per_connection = s.take(
        "max_requests_per_connection",
        &policy.max_requests_per_connection,
        |l| limit(*l, 0),
    );
    let (route_timeout_ms, per_try_timeout_ms, retry_attempts, retry_on) =
        route_fields(route, &mut s);
    let mut notes = policy.notes.clone();
    if policy.routes.len() > 1 {
        notes.push(format!(
            "{} VirtualService routes send traffic here; route_timeout_ms and retries are from the first ({})",
            policy.routes.len(),
            route.map_or(String::new(), route_label)
        ));
    }
    let mut summary = ConfigSummary {
        destination_rule: policy
            .destination_rule
            .as_ref()
            .map(|o| format!("{}/{}", o.namespace, o.name)),
        virtual_service: route
            .map(|r| format!("{}/{}", r.virtual_service.namespace, r.virtual_service.name)),
        connect_timeout_ms,
        idle_timeout_ms,
        route_timeout_ms,
        per_try_timeout_ms,
        retry_attempts,
        retry_on,
        max_connections,
        max_pending_requests,
        max_requests,
        max_retries,
        max_requests_per_connection,
        sources: s.sources,
        defaults: s.defaults,
        mismatches: Vec::new(),
        notes,
        policy: policy.clone(),
    };
    if let Some(eff) = effective {
        summary.mismatches = mismatches(&summary, eff);
    }
    summary
}

fn route_label(r: &ResolvedRoute) -> String {
    format!(
        "VirtualService {}/{} {}",
        r.virtual_service.namespace, r.virtual_service.name, r.field
    )
}

/// Route timeout, per-try timeout, attempts and retry-on of the first route; Istio's defaults
/// (no timeout, 2 attempts on the default conditions) when there is no route.
fn route_fields(
    route: Option<&ResolvedRoute>,
    s: &mut Collector,
) -> (Option<u64>, Option<u64>, u32, String) {
    let Some(r) = route else {
        for field in [
            "route_timeout_ms",
            "per_try_timeout_ms",
            "retry_attempts",
            "retry_on",
        ] {
            s.defaults.push(field.to_string());
            s.sources.insert(
                field.to_string(),
                "Istio default (no VirtualService route)".to_string(),
            );
        }
        return (None, None, 2, crate::istio::DEFAULT_RETRY_ON.to_string());
    };
    let timeout = s.take("route_timeout_ms", &r.timeout, |d| d.map(ms));
    match &r.retries {
        Some(retries) => (
            timeout,
            s.take("per_try_timeout_ms", &retries.per_try_timeout, |d| {
                d.map(ms)
            }),
            s.take("retry_attempts", &retries.attempts, |n| *n),
            s.take("retry_on", &retries.retry_on, Clone::clone),
        ),
        None => (timeout, None, 0, String::new()),
    }
}

/// Records each field's source and whether it is a default.
#[derive(Default)]
struct Collector {
    sources: BTreeMap<String, String>,
    defaults: Vec<String>,
}

impl Collector {
    fn take<T, U>(&mut self, field: &'static str, v: &Sourced<T>, f: impl Fn(&T) -> U) -> U {
        if matches!(v.source, Source::IstioDefault) {
            self.defaults.push(field.to_string());
        }
        self.sources.insert(field.to_string(), v.source.to_string());
        f(&v.value)
    }
}

/// A field, its configured value, and Envoy's value (`None`: the dump does not state it).
type Comparison = (&'static str, Option<u64>, Option<Option<u64>>);

/// Fields whose configured value differs from what Envoy runs with. Only values the config
/// dump states explicitly are compared (not Envoy's own defaults for fields Istio left out).
fn mismatches(c: &ConfigSummary, e: &ConfigView) -> Vec<ConfigMismatch> {
    let stated =
        |field: &str, v: u64| (!e.envoy_defaults.iter().any(|d| d == field)).then_some(Some(v));
    let route = e.routes.first().filter(|r| !r.timeout_is_envoy_default);
    let pairs: [Comparison; 6] = [
        (
            "connect_timeout_ms",
            Some(c.connect_timeout_ms),
            stated("connect_timeout_ms", e.connect_timeout_ms),
        ),
        (
            "idle_timeout_ms",
            Some(c.idle_timeout_ms),
            stated("idle_timeout_ms", e.idle_timeout_ms),
        ),
        (
            "max_connections",
            Some(c.max_connections),
            stated("max_connections", u64::from(e.max_connections)),
        ),
        (
            "max_pending_requests",
            Some(c.max_pending_requests),
            stated("max_pending_requests", u64::from(e.max_pending_requests)),
        ),
        (
            "route_timeout_ms",
            c.route_timeout_ms,
            route.map(|r| r.timeout_ms),
        ),
        (
            "per_try_timeout_ms",
            c.per_try_timeout_ms,
            route.map(|r| r.per_try_timeout_ms),
        ),
    ];
    pairs
        .into_iter()
        .filter_map(|(field, configured, effective)| {
            let effective = effective?;
            (configured != effective).then_some(ConfigMismatch {
                field: field.to_string(),
                configured,
                effective,
            })
        })
        .collect()
}
