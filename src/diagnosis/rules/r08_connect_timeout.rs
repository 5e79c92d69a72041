//! R8: TCP connects to the upstream timed out (HINTS.md R8): Δ`upstream_cx_connect_timeout`,
//! usually with UF responses (and URX when retries ran out). Quoted: the connect timeout in
//! effect (DestinationRule `connectionPool.tcp.connectTimeout`, Istio's default 10s). Needs
//! the cluster stats: without them a connect timeout cannot be told from a refused connect,
//! and R9 reports the failures from UF and `/clusters` `cx_connect_fail`.

use super::Rule;
use crate::diagnosis::{Context, Evidence, Finding, NextStep, Reporter, Severity, human_ms};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R8",
    name: "Upstream connect timeout",
    check,
};

const TIMEOUT: &str = "upstream_cx_connect_timeout";

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams()
        .filter_map(|c| connect_timeout(ctx, c))
        .collect()
}

/// True when a DestinationRule sets the connect timeout (a short one makes this likelier).
fn timeout_configured(c: &ClusterSnapshot) -> bool {
    c.config.as_ref().is_some_and(|cfg| {
        !cfg.defaults.iter().any(|d| d == "connect_timeout_ms")
            || cfg
                .mismatches
                .iter()
                .any(|m| m.field == "connect_timeout_ms")
    })
}

fn connect_timeout(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let n = ctx.moved(c, TIMEOUT)?;
    let uf = ctx.flagged(c, Reporter::Client, "UF");
    let base = match uf {
        Some(failed) => ctx.share_severity(c, failed),
        None => Severity::Warning,
    };
    let signals = 1 + usize::from(uf.is_some()) + usize::from(timeout_configured(c));
    let mut f = ctx.cluster_finding(RULE.id, ctx.grade(base, signals, 2), c);
    let window = human_ms(ctx.snap.window_seconds * 1000.0);
    let after = c.config.as_ref().map_or(String::new(), |cfg| {
        format!(
            " after the {} connect timeout",
            human_ms(cfg.connect_timeout_ms as f64)
        )
    });
    let failed = match (uf, ctx.flag_count(c, Reporter::Client, "UF")) {
        (Some(failed), _) => format!("; {failed} calls failed with UF"),
        (None, Some(_)) => "; no call failed with UF (retried)".to_string(),
        (None, None) => String::new(),
    };
    f.title = format!(
        "{}: {n} connection attempts timed out{after} in {window}{failed}",
        c.label
    );
    (f.pods, f.scope) = ctx.problem_pods(c, &[TIMEOUT]);
    f.evidence = evidence(ctx, c);
    f.cause = "The TCP connect to the upstream did not complete within the connect timeout \
               (DestinationRule connectionPool.tcp.connectTimeout, Istio default 10s): the \
               callee is overloaded (accept backlog full), a node or network path drops \
               packets, or a NetworkPolicy silently drops the SYNs. Connect failures are \
               retried by Istio's default retry policy (connect-failure); URX means the \
               retries ran out too (R4)."
        .into();
    f.next_steps = steps(ctx, c, &f.pods);
    Some(f)
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<Evidence> {
    let mut ev: Vec<Evidence> = Vec::new();
    ev.extend(ctx.counter_evidence(c, TIMEOUT));
    ev.extend(ctx.flag_evidence(c, Reporter::Client, "UF"));
    if ctx.flagged(c, Reporter::Client, "URX").is_some() {
        ev.extend(ctx.flag_evidence(c, Reporter::Client, "URX"));
    }
    ev.extend(ctx.counter_evidence(c, "upstream_cx_connect_fail"));
    if ctx.moved(c, "hosts.cx_connect_fail").is_some() {
        ev.extend(ctx.counter_evidence(c, "hosts.cx_connect_fail"));
    }
    ev.extend(ctx.setting_evidence(
        c,
        "connect_timeout_ms",
        "DestinationRule connectionPool.tcp.connectTimeout",
    ));
    ev
}

fn steps(ctx: &Context<'_>, c: &ClusterSnapshot, pods: &[String]) -> Vec<NextStep> {
    let pod = pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    let (svc, ns) = ctx.service_of(c);
    vec![
        NextStep::run(
            "See which endpoints fail to connect (per-host cx_connect_fail in /clusters)",
            ctx.istioctl_pc_on(&pod, c, "endpoint", "--cluster '{cluster}'"),
        ),
        NextStep::run(
            "Check the callee's endpoints are ready",
            format!(
                "kubectl get endpointslices -n {ns} -l kubernetes.io/service-name={svc} -o wide"
            ),
        ),
        NextStep::run(
            "Look for NetworkPolicies that could drop the connection",
            format!("kubectl get networkpolicy -n {ns}"),
        ),
        ctx.destination_rule_step(c),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

    const DR_CONNECT: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  host: inventory-svc\n\
        \x20 trafficPolicy:\n    connectionPool:\n      tcp: {connectTimeout: 250ms}\n";

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn connect_timeouts_with_uf_and_short_timeout_are_critical() {
        let snap = SnapBuilder::new()
            .istio(DR_CONNECT)
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 500)
                    .counter(TIMEOUT, 20)
                    .counter("upstream_cx_connect_fail", 20)
                    .flag("200", "-", 488)
                    .flag("503", "UF,URX", 12)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 20 connection attempts timed out after the 250ms connect \
             timeout in 30s; 12 calls failed with UF"
        );
        let names: Vec<&str> = f.evidence.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                TIMEOUT,
                "UF (503, reporter=source)",
                "URX (503, reporter=source)",
                "upstream_cx_connect_fail",
                "DestinationRule prod/inventory-svc trafficPolicy.connectionPool.tcp.connectTimeout",
            ]
        );
        assert_eq!(f.evidence[4].value, "250ms");
        assert_eq!(
            f.next_steps[0].command.as_deref(),
            Some(
                "istioctl proxy-config endpoint order-svc-7d9f8c-a1b2c.prod --cluster \
                 'outbound|8080||inventory-svc.prod.svc.cluster.local'"
            )
        );
        assert_eq!(
            f.next_steps[1].command.as_deref(),
            Some(
                "kubectl get endpointslices -n prod -l kubernetes.io/service-name=inventory-svc -o wide"
            )
        );
    }

    #[test]
    fn retried_timeouts_without_config_are_info() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 500)
                    .counter(TIMEOUT, 3)
                    .flag("200", "-", 500)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert!(
            found[0]
                .title
                .ends_with("in 30s; no call failed with UF (retried)")
        );
    }

    #[test]
    fn quiet_when_zero_or_not_collected() {
        let zero = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter(TIMEOUT, 0).counter("upstream_cx_connect_fail", 4)
            })
            .build();
        assert!(run(&zero).is_empty(), "refused connects are R9's");
        let absent = SnapBuilder::new()
            .cluster(INV, |c| c.flag("503", "UF", 9))
            .build();
        assert!(run(&absent).is_empty(), "not collected: R9 reports UF");
    }
}
