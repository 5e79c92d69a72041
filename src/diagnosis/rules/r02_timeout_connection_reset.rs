//! R2: timeouts that reset connections (HINTS.md R2), a complement of R1. On HTTP/1.1
//! upstreams Envoy cannot cancel one request on a connection, so every timed-out request
//! closes its connection: Δ`upstream_cx_destroy_local_with_active_rq` ≈ Δ`upstream_rq_timeout`
//! (envoyproxy/envoy#5022, #5023). Fires only where R1's condition holds and the destroys reach
//! `destroy_per_timeout` per timeout; it explains reconnect churn and never replaces R1.

use super::Rule;
use super::r01_route_timeout::timeouts;
use crate::diagnosis::{Context, Evidence, Finding, NextStep, Severity};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R2",
    name: "Timeouts reset connections",
    check,
};

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| finding(ctx, c)).collect()
}

fn finding(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    // The comparison needs the cluster counters on both sides (not the R1 fallbacks).
    let timed_out = timeouts(ctx, c)?.counter?;
    let destroyed = ctx.moved(c, "upstream_cx_destroy_local_with_active_rq")?;
    if (destroyed as f64) < ctx.thresholds.destroy_per_timeout * timed_out as f64 {
        return None;
    }
    // New connections replacing the closed ones make the churn visible: warn; else inform.
    let reconnected = ctx.moved(c, "upstream_cx_total").unwrap_or(0);
    let severity = match reconnected >= destroyed {
        true => Severity::Warning,
        false => Severity::Info,
    };
    let mut f = ctx.cluster_finding(RULE.id, severity, c);
    let (pods, scope) = ctx.moved_pods(c, &["upstream_cx_destroy_local_with_active_rq"]);
    f.pods = pods;
    f.scope = scope;
    f.title = format!(
        "{}: {destroyed} connections closed by Envoy for {timed_out} timed-out requests \
         ({reconnected} new connections in the window)",
        c.label
    );
    f.evidence = evidence(ctx, c);
    f.cause = cause(c);
    f.next_steps = next_steps(ctx, c);
    Some(f)
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<Evidence> {
    let h2 = c.config.as_ref().map(|cfg| {
        let p = &cfg.policy.h2_upgrade_policy;
        ctx.sourced_evidence(p, format!("h2UpgradePolicy {}", p.value))
    });
    [
        ctx.counter_evidence(c, "upstream_cx_destroy_local_with_active_rq"),
        ctx.counter_evidence(c, "upstream_rq_timeout"),
        ctx.counter_evidence(c, "upstream_cx_total"),
        h2,
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn cause(c: &ClusterSnapshot) -> String {
    let upgrade = c.config.as_ref().map(|cfg| &cfg.policy.h2_upgrade_policy);
    let now = match upgrade {
        Some(p) if p.value == "UPGRADE" => format!(
            " The DestinationRule already asks for UPGRADE ({}); check that the upstream \
             accepts HTTP/2 (cluster protocol options in config_dump).",
            p.source
        ),
        _ => String::new(),
    };
    format!(
        "Expected Envoy behaviour, not a second failure: on an HTTP/1.1 upstream a timed-out \
         request can only be cancelled by closing its connection (envoyproxy/envoy#5022, \
         #5023), so each timeout (R1) costs a reconnect — more upstream_cx_total, more \
         connect latency, more TLS handshakes. Fix the timeouts first (R1). If the churn \
         hurts, HTTP/2 to the upstream lets Envoy reset one stream instead of the connection: \
         DestinationRule connectionPool.http.h2UpgradePolicy: UPGRADE (the app must speak \
         h2c).{now}"
    )
}

fn next_steps(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<NextStep> {
    let pod = ctx.client_pod(c);
    let ns = ctx.namespace_of(&pod);
    vec![
        NextStep::run(
            "See the upstream protocol Envoy uses for this cluster (http2_protocol_options)",
            ctx.istioctl_pc(c, "cluster", "--fqdn {fqdn} -o json"),
        ),
        ctx.destination_rule_step(c),
        NextStep::run(
            "Per-host timeouts and connections in /clusters",
            format!(
                "kubectl exec -n {ns} {pod} -c istio-proxy -- pilot-agent request GET clusters \
                 | grep '{}' | grep -E 'rq_timeout|cx_total'",
                c.key.name
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::testkit::*;
    use crate::diagnosis::{EvidenceKind, Thresholds};

    const DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  host: inventory-svc\n\
        \x20 trafficPolicy:\n    connectionPool:\n      http: {h2UpgradePolicy: DO_NOT_UPGRADE}\n";

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        check(&Context::new(snap, &Thresholds::default()))
    }

    fn http1_timeouts(destroyed: u64, reconnected: u64) -> crate::model::MeshSnapshot {
        SnapBuilder::new()
            .istio(DR)
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 1000)
                    .counter("upstream_rq_timeout", 40)
                    .counter("upstream_cx_destroy_local_with_active_rq", destroyed)
                    .counter("upstream_cx_total", reconnected)
                    .flag("504", "UT", 40)
            })
            .build()
    }

    #[test]
    fn fires_when_each_timeout_closes_a_connection() {
        let found = run(&http1_timeouts(38, 38));
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 38 connections closed by Envoy for 40 timed-out requests \
             (38 new connections in the window)"
        );
        let h2 = f
            .evidence
            .iter()
            .find(|e| e.kind == EvidenceKind::Config)
            .unwrap();
        assert_eq!(
            h2.name,
            "DestinationRule prod/inventory-svc trafficPolicy.connectionPool.http.h2UpgradePolicy"
        );
        assert_eq!(h2.value, "h2UpgradePolicy DO_NOT_UPGRADE");
        let destroyed = &f.evidence[0];
        assert_eq!(destroyed.name, "upstream_cx_destroy_local_with_active_rq");
        assert_eq!(destroyed.number, Some(38.0));
        assert!(f.cause.contains("envoyproxy/envoy#5022"));
        assert!(f.cause.contains("h2UpgradePolicy"));
        assert_eq!(
            f.next_steps[0].command.as_deref(),
            Some(
                "istioctl proxy-config cluster order-svc-7d9f8c-a1b2c.prod --fqdn \
                 inventory-svc.prod.svc.cluster.local -o json"
            )
        );
    }

    #[test]
    fn without_reconnects_it_is_info() {
        let found = run(&http1_timeouts(20, 0));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
    }

    #[test]
    fn quiet_below_the_ratio_or_without_r1() {
        // 19 destroys for 40 timeouts is under 0.5 per timeout (HTTP/2 streams, pooled).
        assert!(run(&http1_timeouts(19, 19)).is_empty());
        // Destroys without any timeout are R13's business.
        let no_timeouts = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_timeout", 0)
                    .counter("upstream_cx_destroy_local_with_active_rq", 12)
            })
            .build();
        assert!(run(&no_timeouts).is_empty());
    }
}
