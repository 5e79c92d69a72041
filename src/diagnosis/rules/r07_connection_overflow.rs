//! R7: the connection circuit breaker (`maxConnections`) is full (HINTS.md R7):
//! Δ`upstream_cx_overflow`, `circuit_breakers.default.cx_open` = 1, `upstream_cx_active` at the
//! DestinationRule's `connectionPool.tcp.maxConnections`. An overflowing connection breaker
//! does not fail requests by itself — they wait for a connection — so this is a warning at
//! most; when the wait overflows the pending queue the failed requests are R6's, and this
//! finding says that maxConnections is what cascades into it.

use super::Rule;
use super::r06_pending_overflow::{PoolLimit, configured_limit, near_limit};
use crate::diagnosis::{Context, Evidence, Finding, Reporter, Severity, human_ms};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R7",
    name: "Connection limit (maxConnections) reached",
    check,
};

const OVERFLOW: &str = "upstream_cx_overflow";
const CX_OPEN: &str = "circuit_breakers.default.cx_open";
const MAX_CONNECTIONS: PoolLimit = PoolLimit {
    field: "max_connections",
    istio: "maxConnections",
    gauge: "upstream_cx_active",
};

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| overflow(ctx, c)).collect()
}

/// Requests that overflowed the pending queue behind the full connection pool (R6's).
fn cascade(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<u64> {
    let counter = ctx.moved(c, "upstream_rq_pending_overflow");
    counter.max(ctx.flagged(c, Reporter::Client, "UO"))
}

fn overflow(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let n = ctx.moved(c, OVERFLOW)?;
    let open = ctx.gauge_max(c, CX_OPEN).is_some_and(|v| v >= 1.0);
    let limit = configured_limit(c, MAX_CONNECTIONS.field);
    let signals = 1 + usize::from(open) + usize::from(limit.is_some());
    let mut f = ctx.cluster_finding(RULE.id, ctx.grade(Severity::Warning, signals, 2), c);
    let window = human_ms(ctx.snap.window_seconds * 1000.0);
    let what = match limit {
        Some(v) => format!("connection limit (maxConnections {v})"),
        None => "connection circuit breaker".to_string(),
    };
    let then = match cascade(ctx, c) {
        Some(rejected) => format!(
            "requests queue behind it and {rejected} overflowed the pending queue (503 UO, see R6)"
        ),
        None => "requests wait for a free connection".to_string(),
    };
    f.title = format!("{}: {what} hit {n} times in {window}; {then}", c.label);
    (f.pods, f.scope) = ctx.problem_pods(c, &[OVERFLOW]);
    f.evidence = evidence(ctx, c);
    f.cause = cause(cascade(ctx, c).is_some());
    let pod = f.pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    f.next_steps = vec![
        ctx.cluster_step(
            &pod,
            c,
            "Check circuitBreakers.thresholds.maxConnections in Envoy",
        ),
        ctx.destination_rule_step(c),
        ctx.proxy_stats_step(
            &pod,
            "Watch upstream_cx_active and cx_open against the limit",
            &c.key.name,
            "cx_active|cx_overflow|cx_open|remaining_cx",
        ),
    ];
    Some(f)
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<Evidence> {
    let mut ev: Vec<Evidence> = Vec::new();
    ev.extend(ctx.counter_evidence(c, OVERFLOW));
    ev.extend(ctx.gauge_evidence(c, CX_OPEN));
    ev.extend(ctx.setting_evidence(
        c,
        MAX_CONNECTIONS.field,
        "DestinationRule connectionPool.tcp.maxConnections",
    ));
    match near_limit(ctx, c, &MAX_CONNECTIONS) {
        Some(e) => ev.push(e),
        None => ev.extend(ctx.gauge_evidence(c, MAX_CONNECTIONS.gauge)),
    }
    if cascade(ctx, c).is_some() {
        ev.extend(ctx.counter_evidence(c, "upstream_rq_pending_overflow"));
    }
    ev
}

fn cause(cascades: bool) -> String {
    let then = match cascades {
        true => {
            " Here the queue overflowed too: the 503 UO failures are reported by R6, and raising \
             maxConnections (or making the upstream faster) is what relieves both."
        }
        false => " No request failed from it in this window, but each waits for a connection.",
    };
    format!(
        "All connections the DestinationRule allows (connectionPool.tcp.maxConnections) are open, \
         so Envoy may not open another (upstream_cx_overflow, cx_open = 1). On HTTP/1.1 every \
         in-flight request needs its own connection, so further requests go to the pending \
         queue (http1MaxPendingRequests) and may cascade into R6.{then} Size maxConnections for \
         request rate × upstream latency."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

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
    fn max_connections_cascading_into_r6_is_a_warning_naming_r6() {
        let snap = SnapBuilder::new()
            .istio(DR_CB)
            .cluster(PRICING, |c| {
                c.counter("upstream_rq_total", 180)
                    .counter(OVERFLOW, 430)
                    .counter("upstream_rq_pending_overflow", 420)
                    .gauge(CX_OPEN, 1.0)
                    .gauge("upstream_cx_active", 1.0)
                    .flag("503", "UO", 420)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(
            f.title,
            "pricing-svc.prod:8080 v2: connection limit (maxConnections 1) hit 430 times in 30s; \
             requests queue behind it and 420 overflowed the pending queue (503 UO, see R6)"
        );
        let names: Vec<&str> = f.evidence.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                OVERFLOW,
                CX_OPEN,
                "DestinationRule prod/pricing-svc trafficPolicy.connectionPool.tcp.maxConnections",
                "upstream_cx_active vs maxConnections",
                "upstream_rq_pending_overflow",
            ]
        );
        assert_eq!(f.evidence[3].value, "1 of 1 (at the limit)");
        assert_eq!(
            f.next_steps[0].command.as_deref(),
            Some(
                "istioctl proxy-config cluster order-svc-7d9f8c-a1b2c.prod --fqdn \
                 pricing-svc.prod.svc.cluster.local --subset v2 -o json"
            )
        );
    }

    #[test]
    fn overflow_counter_alone_is_info() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter(OVERFLOW, 12)
                    .counter("upstream_rq_pending_overflow", 0)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert!(
            found[0]
                .title
                .ends_with("requests wait for a free connection")
        );
    }

    #[test]
    fn quiet_when_collected_and_zero_or_not_collected() {
        let zero = SnapBuilder::new()
            .istio(DR_CB)
            .cluster(PRICING, |c| c.counter(OVERFLOW, 0).flag("200", "-", 100))
            .build();
        assert!(run(&zero).is_empty());
        let absent = SnapBuilder::new()
            .cluster(PRICING, |c| c.flag("503", "UO", 100))
            .build();
        assert!(run(&absent).is_empty(), "UO alone is R6's");
    }
}
