//! R6: the connection-pool circuit breaker tripped (HINTS.md R6): requests failed at once with
//! 503 UO because too many were queued (HTTP/1.1, `http1MaxPendingRequests`) or in flight
//! (HTTP/2, `http2MaxRequests`). Evidence: Δ`upstream_rq_pending_overflow`, UO responses,
//! the `circuit_breakers.default.rq_pending_open`/`rq_open` gauges, the queue and request
//! gauges against the limit, and the DestinationRule limits with their source. When
//! `maxConnections` is what fills the queue, R7 says so; this rule owns the failed requests.

use super::Rule;
use crate::diagnosis::{Context, Evidence, EvidenceKind, Finding, NextStep, Reporter, human_ms};
use crate::model::ClusterSnapshot;
use crate::model::config_summary::UNLIMITED;

pub const RULE: Rule = Rule {
    id: "R6",
    name: "Connection-pool circuit breaker tripped",
    check,
};

const OVERFLOW: &str = "upstream_rq_pending_overflow";

/// A connection-pool limit: summary field, DestinationRule field, the gauge it caps.
pub(super) struct PoolLimit {
    pub field: &'static str,
    pub istio: &'static str,
    pub gauge: &'static str,
}

/// The limits that make requests overflow, in the order they are quoted.
const LIMITS: &[PoolLimit] = &[
    PoolLimit {
        field: "max_pending_requests",
        istio: "http1MaxPendingRequests",
        gauge: "upstream_rq_pending_active",
    },
    PoolLimit {
        field: "max_requests",
        istio: "http2MaxRequests",
        gauge: "upstream_rq_active",
    },
    PoolLimit {
        field: "max_connections",
        istio: "maxConnections",
        gauge: "upstream_cx_active",
    },
];

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| overflow(ctx, c)).collect()
}

/// The limit's value when an object sets it (or Envoy runs with something else).
pub(super) fn configured_limit(c: &ClusterSnapshot, field: &str) -> Option<u64> {
    let cfg = c.config.as_ref()?;
    let set = !cfg.defaults.iter().any(|d| d == field);
    let mismatch = cfg.mismatches.iter().find(|m| m.field == field);
    let value = match field {
        "max_pending_requests" => cfg.max_pending_requests,
        "max_requests" => cfg.max_requests,
        _ => cfg.max_connections,
    };
    match mismatch {
        Some(m) => m.effective.or(Some(value)),
        None => set.then_some(value),
    }
}

/// `http1MaxPendingRequests 1, maxConnections 1` for the configured limits.
fn limits_text(c: &ClusterSnapshot) -> Option<String> {
    let set: Vec<String> = (LIMITS.iter())
        .filter_map(|l| configured_limit(c, l.field).map(|v| format!("{} {v}", l.istio)))
        .collect();
    (!set.is_empty()).then(|| set.join(", "))
}

fn overflow(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let counter = ctx.moved(c, OVERFLOW);
    let flag = ctx.flagged(c, Reporter::Client, "UO");
    let rejected = counter.max(flag)?;
    let limits = limits_text(c);
    let signals = usize::from(counter.is_some())
        + usize::from(flag.is_some())
        + usize::from(limits.is_some());
    let severity = ctx.grade(ctx.share_severity(c, rejected), signals, 2);
    let mut f = ctx.cluster_finding(RULE.id, severity, c);
    let window = human_ms(ctx.snap.window_seconds * 1000.0);
    let limits_text = limits.map_or(String::new(), |l| format!(" ({l})"));
    f.title = format!(
        "{}: {rejected} requests rejected with 503 UO in {window}: the connection-pool circuit \
         breaker is full{limits_text}",
        c.label
    );
    (f.pods, f.scope) = ctx.problem_pods(c, &[OVERFLOW]);
    f.evidence = evidence(ctx, c);
    f.cause = cause(ctx, c);
    f.next_steps = steps(ctx, c, &f.pods);
    Some(f)
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<Evidence> {
    let mut ev: Vec<Evidence> = Vec::new();
    ev.extend(ctx.counter_evidence(c, OVERFLOW));
    ev.extend(ctx.flag_evidence(c, Reporter::Client, "UO"));
    for gauge in [
        "circuit_breakers.default.rq_pending_open",
        "circuit_breakers.default.rq_open",
    ] {
        ev.extend(ctx.gauge_evidence(c, gauge));
    }
    let any_set = LIMITS
        .iter()
        .any(|l| configured_limit(c, l.field).is_some());
    for l in LIMITS {
        if configured_limit(c, l.field).is_some() || (!any_set && l.field != "max_connections") {
            let name = format!("DestinationRule connectionPool {}", l.istio);
            ev.extend(ctx.setting_evidence(c, l.field, &name));
        }
        ev.extend(near_limit(ctx, c, l));
    }
    ev
}

/// The gauge a limit caps against that limit: `1 of http1MaxPendingRequests 1 (at the limit)`.
pub(super) fn near_limit(
    ctx: &Context<'_>,
    c: &ClusterSnapshot,
    l: &PoolLimit,
) -> Option<Evidence> {
    let limit = configured_limit(c, l.field).filter(|&v| v > 0 && v < UNLIMITED)?;
    let now = ctx.gauge_max(c, l.gauge)?;
    let share = now / limit as f64;
    let state = match share >= ctx.thresholds.near_limit {
        true => "at the limit",
        false => "below the limit",
    };
    Some(Evidence {
        kind: EvidenceKind::Gauge,
        name: format!("{} vs {}", l.gauge, l.istio),
        value: format!("{now} of {limit} ({state})"),
        number: Some(share),
        effective: None,
    })
}

fn cause(ctx: &Context<'_>, c: &ClusterSnapshot) -> String {
    let cascade = match ctx.moved(c, "upstream_cx_overflow") {
        Some(_) => {
            " Here maxConnections is full as well (R7): no new connection may open, so every \
             request beyond the open connections waits in the pending queue and overflows it."
        }
        None => "",
    };
    format!(
        "Envoy's circuit breaker for this cluster refused the requests without trying the \
         upstream (503 UO, upstream_rq_pending_overflow): on HTTP/1.1 each connection carries one \
         request, requests beyond connectionPool.tcp.maxConnections queue, and beyond \
         connectionPool.http.http1MaxPendingRequests they fail; on HTTP/2 the cap is \
         connectionPool.http.http2MaxRequests concurrent requests.{cascade} Either the \
         DestinationRule limits are too small for the load (needed ≈ request rate × latency) or \
         the upstream got slower and requests pile up. istio.io network issues: \"UO: check \
         circuit breaker\"."
    )
}

fn steps(ctx: &Context<'_>, c: &ClusterSnapshot, pods: &[String]) -> Vec<NextStep> {
    let pod = pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    vec![
        ctx.cluster_step(
            &pod,
            c,
            "Check the circuitBreakers thresholds Envoy runs with",
        ),
        ctx.destination_rule_step(c),
        ctx.proxy_stats_step(
            &pod,
            "Watch the queue, active requests and breaker gauges against the limits",
            &c.key.name,
            "pending|rq_active|cx_active|circuit_breakers|overflow",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::testkit::*;
    use crate::diagnosis::{Severity, Thresholds};

    const PRICING: &str = "outbound|8080|v2|pricing-svc.prod.svc.cluster.local";
    const DR_CB: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
        metadata: {name: pricing-svc, namespace: prod}\nspec:\n  host: pricing-svc\n\
        \x20 trafficPolicy:\n    connectionPool:\n      tcp: {maxConnections: 1}\n\
        \x20     http: {http1MaxPendingRequests: 1}\n  subsets:\n  - {name: v2, labels: {version: v2}}\n";

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn uo_with_counter_and_dr_limits_is_critical() {
        let snap = SnapBuilder::new()
            .istio(DR_CB)
            .cluster(PRICING, |c| {
                c.clients(&[ORDER_A, ORDER_B, "frontend-6b7c8d-x1y2z"])
                    .counter("upstream_rq_total", 180)
                    .counter(OVERFLOW, 420)
                    .counter("upstream_cx_overflow", 420)
                    .gauge("circuit_breakers.default.rq_pending_open", 1.0)
                    .gauge("upstream_rq_pending_active", 1.0)
                    .gauge("upstream_cx_active", 1.0)
                    .flag("200", "-", 180)
                    .flag("503", "UO", 420)
                    .per_pod(ORDER_A, OVERFLOW, 0)
                    .per_pod(ORDER_B, OVERFLOW, 300)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "pricing-svc.prod:8080 v2: 420 requests rejected with 503 UO in 30s: the \
             connection-pool circuit breaker is full (http1MaxPendingRequests 1, maxConnections 1)"
        );
        let shown: Vec<(&str, &str)> = (f.evidence.iter())
            .map(|e| (e.name.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                (OVERFLOW, "+420 in 30s (14/s)"),
                ("UO (503, reporter=source)", "420 responses in 30s"),
                (
                    "circuit_breakers.default.rq_pending_open",
                    "max 1 over 3 pods"
                ),
                (
                    "DestinationRule prod/pricing-svc trafficPolicy.connectionPool.http.http1MaxPendingRequests",
                    "1"
                ),
                (
                    "upstream_rq_pending_active vs http1MaxPendingRequests",
                    "1 of 1 (at the limit)"
                ),
                (
                    "DestinationRule prod/pricing-svc trafficPolicy.connectionPool.tcp.maxConnections",
                    "1"
                ),
                (
                    "upstream_cx_active vs maxConnections",
                    "1 of 1 (at the limit)"
                ),
            ]
        );
        assert!(f.cause.contains("R7"));
        assert_eq!(f.pods, [ORDER_B]);
        assert_eq!(f.scope.as_deref(), Some("1 of 2 order-svc pods"));
        assert_eq!(
            f.next_steps[1].command.as_deref(),
            Some("kubectl get destinationrule -n prod pricing-svc -o yaml")
        );
        assert_eq!(
            f.next_steps[2].command.as_deref(),
            Some(
                "kubectl exec -n prod order-svc-7d9f8c-d3e4f -c istio-proxy -- pilot-agent request \
                 GET stats | grep -F 'cluster.outbound|8080|v2|pricing-svc.prod.svc.cluster.local.' \
                 | grep -E 'pending|rq_active|cx_active|circuit_breakers|overflow'"
            )
        );
    }

    #[test]
    fn uo_flags_alone_are_one_level_lower() {
        // Stats not collected: only istio_requests_total shows UO; no DestinationRule limits.
        let snap = SnapBuilder::new()
            .cluster(PRICING, |c| c.flag("200", "-", 100).flag("503", "UO", 50))
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].evidence[0].name, "UO (503, reporter=source)");
    }

    #[test]
    fn quiet_when_collected_and_zero() {
        let snap = SnapBuilder::new()
            .istio(DR_CB)
            .cluster(PRICING, |c| {
                c.counter("upstream_rq_total", 300)
                    .counter(OVERFLOW, 0)
                    .flag("200", "-", 300)
            })
            .build();
        assert!(run(&snap).is_empty());
    }
}
