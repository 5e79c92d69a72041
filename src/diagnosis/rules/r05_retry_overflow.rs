//! R5: retry circuit breaker full (HINTS.md R5). Δ`upstream_rq_retry_overflow` > 0 with the
//! gauge `circuit_breakers.default.rq_retry_open` at 1: the cluster's limit on concurrent
//! retries (DestinationRule `connectionPool.http.maxRetries`) is reached and Envoy drops the
//! retries, so failures a retry would have fixed reach the caller. The gauge alone (no drop
//! counted in the window) is only an info.

use super::Rule;
use crate::diagnosis::{Context, Evidence, EvidenceKind, Finding, NextStep, Severity};
use crate::model::ClusterSnapshot;
use crate::model::config_summary::UNLIMITED;

pub const RULE: Rule = Rule {
    id: "R5",
    name: "Retry overflow",
    check,
};

const OPEN: &str = "circuit_breakers.default.rq_retry_open";

/// The retry limit: the Istio setting when configured, else what Envoy runs with (Envoy's
/// own default is 3 when nothing sets it), else Istio's default (unlimited).
fn max_retries(c: &ClusterSnapshot) -> Option<u64> {
    let cfg = c.config.as_ref();
    let configured = cfg.filter(|c| !c.defaults.iter().any(|d| d == "max_retries"));
    let effective = c
        .effective_config
        .as_ref()
        .map(|e| u64::from(e.max_retries));
    configured
        .map(|c| c.max_retries)
        .or(effective)
        .or(cfg.map(|c| c.max_retries))
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| finding(ctx, c)).collect()
}

fn finding(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let dropped = ctx.moved(c, "upstream_rq_retry_overflow");
    let open = ctx.gauge_max(c, OPEN).filter(|v| *v >= 1.0);
    if dropped.is_none() && open.is_none() {
        return None;
    }
    let limit = max_retries(c).filter(|&n| n < UNLIMITED);
    let signals = [dropped.is_some(), open.is_some(), limit.is_some()];
    let signals = signals.into_iter().filter(|s| *s).count();
    let severity = match dropped {
        Some(n) => ctx.grade(ctx.share_severity(c, n), signals, 3),
        None => Severity::Info,
    };
    let mut f = ctx.cluster_finding(RULE.id, severity, c);
    let (pods, scope) = ctx.moved_pods(c, &["upstream_rq_retry_overflow"]);
    f.pods = pods;
    f.scope = scope;
    let at = limit.map_or(String::new(), |n| format!(" (maxRetries {n})"));
    f.title = match dropped {
        Some(n) => format!(
            "{}: {n} retries dropped by the retry circuit breaker{at}",
            c.label
        ),
        None => format!("{}: the retry circuit breaker is open{at}", c.label),
    };
    f.evidence = evidence(ctx, c);
    f.cause = cause(limit);
    f.next_steps = vec![
        NextStep::run(
            "Check circuitBreakers.thresholds.maxRetries Envoy runs with",
            ctx.istioctl_pc(c, "cluster", "--fqdn {fqdn} -o json"),
        ),
        ctx.destination_rule_step(c),
        retry_gauge_step(ctx, c),
    ];
    Some(f)
}

fn cause(limit: Option<u64>) -> String {
    format!(
        "The retry circuit breaker is full: at most maxRetries retries may be outstanding to \
         the cluster at once (DestinationRule connectionPool.http.maxRetries; Istio's default \
         is unlimited, Envoy's own default is 3), so Envoy drops further retries and the \
         failure they would have retried reaches the caller. Raise maxRetries if the retries \
         are wanted, or find out why so many calls fail (R4, and the rule for their flag) — a \
         retry storm adds load to an upstream that is already failing.{}",
        limit.map_or(String::new(), |n| format!(" The limit in effect is {n}."))
    )
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<Evidence> {
    let effective = c.effective_config.as_ref().map(|e| {
        let envoy_default = e.envoy_defaults.iter().any(|d| d == "max_retries");
        Evidence {
            kind: EvidenceKind::Config,
            name: "config_dump circuitBreakers.thresholds.maxRetries".into(),
            value: match envoy_default {
                true => format!("{} (Envoy default)", e.max_retries),
                false => e.max_retries.to_string(),
            },
            number: Some(f64::from(e.max_retries)),
            effective: None,
        }
    });
    [
        ctx.counter_evidence(c, "upstream_rq_retry_overflow"),
        ctx.gauge_evidence(c, OPEN),
        ctx.counter_evidence(c, "upstream_rq_retry"),
        ctx.config_evidence(c, "max_retries"),
        effective,
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn retry_gauge_step(ctx: &Context<'_>, c: &ClusterSnapshot) -> NextStep {
    let pod = ctx.client_pod(c);
    let ns = ctx.namespace_of(&pod);
    NextStep::run(
        "The limit per priority and what is outstanding now (/clusters)",
        format!(
            "kubectl exec -n {ns} {pod} -c istio-proxy -- pilot-agent request GET clusters | grep \
             '{}::' | grep -E 'max_retries|rq_retry'",
            c.key.name
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

    const DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  host: inventory-svc\n\
        \x20 trafficPolicy:\n    connectionPool:\n      http: {maxRetries: 3}\n";

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        check(&Context::new(snap, &Thresholds::default()))
    }

    #[test]
    fn fires_with_counter_gauge_and_max_retries() {
        let snap = SnapBuilder::new()
            .istio(DR)
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 1000)
                    .counter("upstream_rq_retry_overflow", 14)
                    .counter("upstream_rq_retry", 60)
                    .gauge(OPEN, 1.0)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 14 retries dropped by the retry circuit breaker (maxRetries 3)"
        );
        assert_eq!(f.evidence[0].name, "upstream_rq_retry_overflow");
        assert_eq!(f.evidence[0].value, "+14 in 30s (0.47/s)");
        assert_eq!(
            (f.evidence[1].name.as_str(), f.evidence[1].number),
            (OPEN, Some(1.0))
        );
        let cfg = &f.evidence[3];
        assert_eq!(
            (cfg.name.as_str(), cfg.value.as_str()),
            (
                "DestinationRule prod/inventory-svc trafficPolicy.connectionPool.http.maxRetries",
                "3"
            )
        );
        assert_eq!(
            f.next_steps[1].command.as_deref(),
            Some("kubectl get destinationrule -n prod inventory-svc -o yaml")
        );
    }

    #[test]
    fn gauge_alone_is_info_and_nothing_is_quiet() {
        let open = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_retry_overflow", 0).gauge(OPEN, 1.0)
            })
            .build();
        let found = run(&open);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(
            found[0].title,
            "inventory-svc.prod:8080: the retry circuit breaker is open"
        );
        let closed = SnapBuilder::new()
            .istio(DR)
            .cluster(INV, |c| {
                c.counter("upstream_rq_retry_overflow", 0).gauge(OPEN, 0.0)
            })
            .build();
        assert!(run(&closed).is_empty());
    }
}
