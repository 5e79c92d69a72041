//! R20: the VirtualService timeout is not in effect (HINTS.md R20). A route timeout is
//! configured and the upstream p99 is above it, yet `upstream_rq_timeout` is collected and did
//! not move and no response carries UT: the calls do not go through the route that has the
//! timeout. Never fires when timeouts are not collected — absence is not zero (R0).

use super::Rule;
use crate::diagnosis::{Context, Evidence, Finding, NextStep, Reporter, Severity, human_ms};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R20",
    name: "VirtualService timeout not in effect",
    check,
};

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| finding(ctx, c)).collect()
}

fn finding(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let cfg = c.config.as_ref()?;
    let timeout = cfg.route_timeout_ms?;
    let p99 = c.upstream_rq_time_p99_ms?;
    if p99 <= timeout as f64 * ctx.thresholds.latency_over_timeout || !ctx.has_traffic(c) {
        return None;
    }
    // Collected and zero, on every source that could show a timeout.
    if ctx.counter(c, "upstream_rq_timeout")?.increase > 0
        || ctx
            .counter(c, "hosts.rq_timeout")
            .is_some_and(|w| w.increase > 0)
    {
        return None;
    }
    let flags = ctx.flag_count(c, Reporter::Client, "UT");
    if flags.is_some_and(|n| n > 0) {
        return None;
    }
    let mismatch = cfg.mismatches.iter().any(|m| m.field == "route_timeout_ms");
    // Counter zero and p99 above are the condition; no-UT series and Envoy's own route
    // disagreeing with the VirtualService confirm it.
    let signals = 2 + usize::from(flags.is_some()) + usize::from(mismatch);
    let severity = ctx.grade(Severity::Warning, signals, 3);
    let mut f = ctx.cluster_finding(RULE.id, severity, c);
    let (pods, scope) = ctx.moved_pods(c, &["upstream_rq_total", "hosts.rq_total"]);
    f.pods = pods;
    f.scope = scope;
    f.title = format!(
        "{}: p99 {} is above the {} VirtualService timeout, but no call timed out — the \
         timeout is not in effect",
        c.label,
        human_ms(p99),
        human_ms(timeout as f64)
    );
    f.evidence = evidence(ctx, c, flags.is_some());
    f.cause = cause(c, mismatch);
    f.next_steps = next_steps(ctx, c, &f.pods);
    Some(f)
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot, flags: bool) -> Vec<Evidence> {
    let ut = flags
        .then(|| ctx.flag_evidence(c, Reporter::Client, "UT"))
        .flatten();
    [
        ctx.config_evidence(c, "route_timeout_ms"),
        ctx.p99_evidence(c),
        ctx.counter_evidence(c, "upstream_rq_timeout"),
        ut,
        ctx.counter_evidence(c, "upstream_rq_total"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn cause(c: &ClusterSnapshot, mismatch: bool) -> String {
    let mut text = String::new();
    if mismatch {
        text.push_str(
            "Envoy's route (config_dump) does not carry the VirtualService timeout: the proxy \
             did not get or accept this config (see R22, istioctl proxy-status). ",
        );
    }
    let route = c.config.as_ref().and_then(|cfg| cfg.policy.routes.first());
    if let Some(r) = route.filter(|r| !r.matches.is_empty()) {
        text.push_str(&format!(
            "The timeout is on VirtualService {}/{} {}, which only matches {}: other requests \
             take another route. ",
            r.virtual_service.namespace,
            r.virtual_service.name,
            r.field,
            r.matches.join(" or ")
        ));
    }
    text.push_str(
        "Calls run longer than the configured route timeout without being cut, so the \
         VirtualService is not in effect for this traffic. Usual reasons: the Host header \
         does not match the VirtualService hosts; the VirtualService is not exported to the \
         caller's namespace (exportTo); the port is not treated as HTTP (port name or \
         appProtocol, IST0118), so no HTTP route applies; the caller is not in the mesh; or \
         the calls enter through a gateway whose VirtualService has no timeout (istio.io \
         \"Route rules have no effect on ingress gateway requests\", istio/istio#6558).",
    );
    text
}

fn next_steps(ctx: &Context<'_>, c: &ClusterSnapshot, pods: &[String]) -> Vec<NextStep> {
    let pod = pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    let (service, ns) = ctx.service_of(c);
    let port = c
        .key
        .istio()
        .map_or(String::from("<port>"), |k| k.port.to_string());
    let mut steps = vec![NextStep::run(
        "Look for the route timeout Envoy runs with (`timeout: 0s` or no matching route)",
        ctx.istioctl_pc_on(&pod, c, "route", &format!("--name {port} -o json")),
    )];
    let vs = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.virtual_service.as_deref());
    if let Some((vs_ns, name)) = vs.and_then(|v| v.split_once('/')) {
        steps.push(NextStep::run(
            format!("Read the VirtualService {vs_ns}/{name} (hosts, exportTo, gateways, match)"),
            format!("kubectl get virtualservice -n {vs_ns} {name} -o yaml"),
        ));
    }
    steps.push(NextStep::run(
        format!("Check the {service} port name / appProtocol (IST0118)"),
        format!("kubectl get service -n {ns} {service} -o yaml"),
    ));
    steps.push(NextStep::run(
        "Let Istio check the configuration",
        format!("istioctl analyze -n {ns}"),
    ));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

    const VS_1S: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  hosts: [inventory-svc]\n  http:\n\
        \x20 - route: [{destination: {host: inventory-svc}}]\n    timeout: 1s\n";

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        check(&Context::new(snap, &Thresholds::default()))
    }

    fn slow(timeouts: Option<u64>, ut: u64) -> crate::model::MeshSnapshot {
        SnapBuilder::new()
            .istio(VS_1S)
            .cluster(INV, |c| {
                let c = c
                    .counter("upstream_rq_total", 600)
                    .p99(2400.0)
                    .flag("200", "-", 600 - ut);
                let c = if ut > 0 { c.flag("504", "UT", ut) } else { c };
                match timeouts {
                    Some(n) => c.counter("upstream_rq_timeout", n),
                    None => c,
                }
            })
            .build()
    }

    #[test]
    fn fires_when_slow_calls_are_never_cut() {
        let found = run(&slow(Some(0), 0));
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: p99 2.4s is above the 1s VirtualService timeout, but no \
             call timed out — the timeout is not in effect"
        );
        assert_eq!(
            (f.evidence[0].name.as_str(), f.evidence[0].value.as_str()),
            ("VirtualService prod/inventory-svc http[0].timeout", "1s")
        );
        assert_eq!(f.evidence[1].number, Some(2400.0));
        assert_eq!(f.evidence[2].value, "+0 in 30s (0.00/s)");
        assert_eq!(f.evidence[3].name, "UT (reporter=source)");
        assert!(f.cause.contains("IST0118") && f.cause.contains("istio/istio#6558"));
        let commands: Vec<&str> = f
            .next_steps
            .iter()
            .filter_map(|s| s.command.as_deref())
            .collect();
        assert_eq!(
            commands,
            [
                "istioctl proxy-config route order-svc-7d9f8c-a1b2c.prod --name 8080 -o json",
                "kubectl get virtualservice -n prod inventory-svc -o yaml",
                "kubectl get service -n prod inventory-svc -o yaml",
                "istioctl analyze -n prod",
            ]
        );
    }

    #[test]
    fn envoy_running_another_timeout_is_reported() {
        let snap = SnapBuilder::new()
            .istio(VS_1S)
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 600)
                    .counter("upstream_rq_timeout", 0)
                    .p99(2400.0)
                    .mismatch("route_timeout_ms", Some(1000), None)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].evidence[0].effective.as_deref(),
            Some("Envoy runs with none (no route timeout)")
        );
        assert!(found[0].cause.starts_with("Envoy's route (config_dump)"));
    }

    #[test]
    fn quiet_when_timeouts_fire_or_are_not_collected() {
        assert!(run(&slow(Some(12), 12)).is_empty());
        assert!(run(&slow(Some(0), 4)).is_empty());
        // Not collected: absence is not zero.
        assert!(run(&slow(None, 0)).is_empty());
        // Fast enough: nothing to cut.
        let fast = SnapBuilder::new()
            .istio(VS_1S)
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 600)
                    .counter("upstream_rq_timeout", 0)
                    .p99(900.0)
            })
            .build();
        assert!(run(&fast).is_empty());
    }
}
