//! R13: Envoy reset upstream connections itself with requests on them, no timeout involved
//! (HINTS.md R13): LR (503) responses, Δ`upstream_cx_destroy_local_with_active_rq`. Exclusive
//! with R1/R2: when route or per-try timeouts moved in the window (Δ`upstream_rq_timeout`,
//! Δ`upstream_rq_per_try_timeout` or UT), the local destroys are the expected HTTP/1.1 reset
//! after a timeout and R2 owns them. Quoted: `maxConnectionDuration` and the idle timeouts.

use super::Rule;
use crate::diagnosis::{Context, Evidence, Finding, NextStep, Reporter, human_ms};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R13",
    name: "Envoy reset the upstream connection locally",
    check,
};

const LOCAL: &str = "upstream_cx_destroy_local_with_active_rq";

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams()
        .filter_map(|c| local_reset(ctx, c))
        .collect()
}

/// True when a route or per-try timeout fired in the window (R1/R2/R3 territory).
fn timeouts(ctx: &Context<'_>, c: &ClusterSnapshot) -> bool {
    ctx.moved(c, "upstream_rq_timeout").is_some()
        || ctx.moved(c, "upstream_rq_per_try_timeout").is_some()
        || ctx.flagged(c, Reporter::Client, "UT").is_some()
}

/// The connection-lifetime settings an object sets, as evidence.
fn lifetime_settings(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<Evidence> {
    let Some(cfg) = c.config.as_ref() else {
        return Vec::new();
    };
    let p = &cfg.policy;
    let mut ev = Vec::new();
    if let Some(d) = p.max_connection_duration.value {
        let value = human_ms(d.as_millis() as f64);
        ev.push(ctx.sourced_evidence(&p.max_connection_duration, value));
    }
    if !p.tcp_idle_timeout.source.is_default() {
        let value = human_ms(p.tcp_idle_timeout.value.as_millis() as f64);
        ev.push(ctx.sourced_evidence(&p.tcp_idle_timeout, value));
    }
    ev
}

fn local_reset(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let lr = ctx.flagged(c, Reporter::Client, "LR");
    let local = ctx.moved(c, LOCAL);
    let failed = lr.max(local)?;
    if timeouts(ctx, c) {
        return None;
    }
    let lifetime = lifetime_settings(ctx, c);
    let signals = usize::from(lr.is_some())
        + usize::from(local.is_some())
        + usize::from(!lifetime.is_empty());
    let mut f = ctx.cluster_finding(
        RULE.id,
        ctx.grade(ctx.share_severity(c, failed), signals, 2),
        c,
    );
    let window = human_ms(ctx.snap.window_seconds * 1000.0);
    let what = match lr {
        Some(n) => format!("{n} requests failed with 503 LR"),
        None => format!("{failed} connections closed with requests on them"),
    };
    f.title = format!(
        "{}: Envoy reset upstream connections itself, no timeout involved: {what} in {window}",
        c.label
    );
    (f.pods, f.scope) = ctx.problem_pods(c, &[LOCAL]);
    f.evidence = evidence(ctx, c, lifetime);
    f.cause = "The client sidecar tore down its own upstream connections while requests were \
               on them, and no route or per-try timeout explains it: a drain after a config push \
               (cluster or listener changed), a connection duration or idle limit \
               (DestinationRule connectionPool.tcp.maxConnectionDuration, idleTimeout), or an \
               overload action. response_code_details in the access log names the reason; \
               compare with config pushes (cluster_manager.cds.update_*) around the time. See \
               envoyproxy/envoy#15968."
        .into();
    f.next_steps = steps(ctx, c, &f.pods);
    Some(f)
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot, lifetime: Vec<Evidence>) -> Vec<Evidence> {
    let mut ev: Vec<Evidence> = Vec::new();
    ev.extend(ctx.flag_evidence(c, Reporter::Client, "LR"));
    ev.extend(ctx.counter_evidence(c, LOCAL));
    ev.extend(ctx.counter_evidence(c, "upstream_rq_timeout"));
    ev.extend(lifetime);
    ev
}

fn steps(ctx: &Context<'_>, c: &ClusterSnapshot, pods: &[String]) -> Vec<NextStep> {
    let pod = pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    let ns = ctx.namespace_of(&pod);
    vec![
        NextStep::run(
            "Read response_code_details of the LR responses in the client's access log",
            format!("kubectl logs -n {ns} {pod} -c istio-proxy --since=10m | grep ' LR '"),
        ),
        NextStep::run(
            "Check whether config pushes line up with the resets",
            format!("istioctl proxy-status {pod}.{ns}"),
        ),
        ctx.cluster_step(
            &pod,
            c,
            "Check max_connection_duration and idle_timeout in Envoy",
        ),
        ctx.destination_rule_step(c),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::testkit::*;
    use crate::diagnosis::{Severity, Thresholds};

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn lr_with_local_destroys_and_duration_limit_is_critical() {
        let snap = SnapBuilder::new()
            .istio(
                "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: inventory-svc, namespace: prod}\n\
                 spec:\n  host: inventory-svc\n  trafficPolicy:\n    connectionPool:\n      tcp: {maxConnectionDuration: 30s}\n",
            )
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 500)
                    .counter(LOCAL, 9)
                    .counter("upstream_rq_timeout", 0)
                    .flag("200", "-", 491)
                    .flag("503", "LR", 9)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: Envoy reset upstream connections itself, no timeout \
             involved: 9 requests failed with 503 LR in 30s"
        );
        let shown: Vec<(&str, &str)> = (f.evidence.iter())
            .map(|e| (e.name.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("LR (503, reporter=source)", "9 responses in 30s"),
                (LOCAL, "+9 in 30s (0.30/s)"),
                ("upstream_rq_timeout", "+0 in 30s (0.00/s)"),
                (
                    "DestinationRule prod/inventory-svc trafficPolicy.connectionPool.tcp.maxConnectionDuration",
                    "30s"
                ),
            ]
        );
        assert_eq!(
            f.next_steps[0].command.as_deref(),
            Some(
                "kubectl logs -n prod order-svc-7d9f8c-a1b2c -c istio-proxy --since=10m | grep ' LR '"
            )
        );
    }

    #[test]
    fn local_destroys_alone_are_lower() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 500).counter(LOCAL, 2)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
    }

    #[test]
    fn quiet_with_timeouts_or_without_local_resets() {
        let with_timeouts = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter(LOCAL, 38)
                    .counter("upstream_rq_timeout", 38)
                    .flag("504", "UT", 38)
            })
            .build();
        assert!(run(&with_timeouts).is_empty(), "R2's");
        let zero = SnapBuilder::new()
            .cluster(INV, |c| c.counter(LOCAL, 0).flag("200", "-", 100))
            .build();
        assert!(run(&zero).is_empty());
    }
}
