//! R3: per-try timeouts (HINTS.md R3). Δ`upstream_rq_per_try_timeout` > 0, often with
//! Δ`upstream_rq_retry`: the VirtualService `retries.perTryTimeout` is shorter than the
//! upstream's latency. When the route timeout and the per-try timeout are both known, the
//! finding says whether (1 + attempts) × perTryTimeout fits in the route timeout — the route
//! timeout includes retries, so the tries that do not fit never run.

use super::Rule;
use super::r01_route_timeout::route_timeout_ms;
use crate::diagnosis::{Context, Evidence, Finding, NextStep, Severity, human_ms};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R3",
    name: "Per-try timeout",
    check,
};

/// The retry settings of the route: Istio's, else the ones Envoy runs with.
struct RetrySettings {
    per_try_ms: Option<u64>,
    /// Retries after the first try.
    attempts: Option<u32>,
    route_ms: Option<u64>,
}

impl RetrySettings {
    fn of(c: &ClusterSnapshot) -> RetrySettings {
        let cfg = c.config.as_ref();
        let route = c.effective_config.as_ref().and_then(|e| e.routes.first());
        RetrySettings {
            per_try_ms: (cfg.and_then(|c| c.per_try_timeout_ms))
                .or_else(|| route.and_then(|r| r.per_try_timeout_ms)),
            attempts: (cfg.map(|c| c.retry_attempts))
                .or_else(|| route.and_then(|r| r.retry_attempts)),
            route_ms: route_timeout_ms(c),
        }
    }

    /// `(tries, tries that fit in the route timeout)` when both timeouts are known.
    fn budget(&self) -> Option<(u64, u64)> {
        let per_try = self.per_try_ms.filter(|&ms| ms > 0)?;
        let route = self.route_ms?;
        let tries = u64::from(self.attempts?) + 1;
        Some((tries, route.div_ceil(per_try).min(tries)))
    }
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| finding(ctx, c)).collect()
}

fn finding(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let per_try = ctx.moved(c, "upstream_rq_per_try_timeout")?;
    let retried = ctx.moved(c, "upstream_rq_retry");
    let settings = RetrySettings::of(c);
    let signals = [true, settings.per_try_ms.is_some(), retried.is_some()];
    let signals = signals.into_iter().filter(|s| *s).count();
    let severity = ctx.grade(Severity::Warning, signals, 2);
    let mut f = ctx.cluster_finding(RULE.id, severity, c);
    let (pods, scope) = ctx.moved_pods(c, &["upstream_rq_per_try_timeout"]);
    f.pods = pods;
    f.scope = scope;
    f.title = title(c, per_try, retried, &settings);
    f.evidence = evidence(ctx, c);
    f.cause = cause(c, &settings);
    f.next_steps = next_steps(ctx, c);
    Some(f)
}

fn title(c: &ClusterSnapshot, per_try: u64, retried: Option<u64>, s: &RetrySettings) -> String {
    let at = s
        .per_try_ms
        .map_or(String::from("the per-try timeout"), |ms| {
            format!("the {} per-try timeout", human_ms(ms as f64))
        });
    let retries = retried.map_or(String::new(), |n| format!(", {n} retries"));
    let budget = match (s.budget(), s.per_try_ms, s.route_ms) {
        (Some((tries, fit)), Some(pt), Some(rt)) if fit < tries => format!(
            "; {tries} tries × {} exceed the {} route timeout",
            human_ms(pt as f64),
            human_ms(rt as f64)
        ),
        _ => String::new(),
    };
    format!("{}: {per_try} tries hit {at}{retries}{budget}", c.label)
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<Evidence> {
    [
        ctx.counter_evidence(c, "upstream_rq_per_try_timeout"),
        ctx.counter_evidence(c, "upstream_rq_retry"),
        ctx.counter_evidence(c, "upstream_rq_timeout"),
        ctx.config_evidence(c, "per_try_timeout_ms"),
        ctx.config_evidence(c, "retry_attempts"),
        ctx.config_evidence(c, "route_timeout_ms"),
        ctx.p99_evidence(c),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn cause(c: &ClusterSnapshot, s: &RetrySettings) -> String {
    let mut text = String::from(
        "Tries take longer than VirtualService retries.perTryTimeout, so Envoy abandons them \
         and retries (when retries are left).",
    );
    if let Some(p99) = c.upstream_rq_time_p99_ms {
        text.push_str(&format!(
            " The upstream p99 is {} (tries cut at the per-try timeout are not recorded).",
            human_ms(p99)
        ));
    }
    match (s.budget(), s.per_try_ms, s.route_ms) {
        (Some((tries, fit)), Some(pt), Some(rt)) if fit < tries => text.push_str(&format!(
            " 1 try + {} retries × {} = {} exceeds the {} route timeout, which includes \
             retries: only {fit} of the {tries} tries can start, the rest never run.",
            tries - 1,
            human_ms(pt as f64),
            human_ms((tries * pt) as f64),
            human_ms(rt as f64)
        )),
        (Some((tries, _)), Some(pt), Some(rt)) => text.push_str(&format!(
            " {tries} tries × {} fit in the {} route timeout.",
            human_ms(pt as f64),
            human_ms(rt as f64)
        )),
        _ => {}
    }
    text.push_str(
        " Set perTryTimeout above the upstream's normal latency (p99), keep (1 + attempts) × \
         perTryTimeout within the route timeout, and retry only idempotent calls.",
    );
    text
}

fn next_steps(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<NextStep> {
    let (pods, _) = ctx.moved_pods(c, &["upstream_rq_per_try_timeout"]);
    let pod = pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    let port = c
        .key
        .istio()
        .map_or(String::from("<port>"), |k| k.port.to_string());
    let mut steps = vec![NextStep::run(
        "Check retry_policy.per_try_timeout, num_retries and the route timeout Envoy runs with",
        ctx.istioctl_pc_on(&pod, c, "route", &format!("--name {port} -o json")),
    )];
    let vs = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.virtual_service.as_deref());
    if let Some((ns, name)) = vs.and_then(|v| v.split_once('/')) {
        steps.push(NextStep::run(
            format!(
                "Read the VirtualService {ns}/{name} (retries.attempts, perTryTimeout, timeout)"
            ),
            format!("kubectl get virtualservice -n {ns} {name} -o yaml"),
        ));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

    const VS: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  hosts: [inventory-svc]\n  http:\n\
        \x20 - route: [{destination: {host: inventory-svc}}]\n    timeout: 1s\n\
        \x20   retries: {attempts: 3, perTryTimeout: 400ms}\n";

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        check(&Context::new(snap, &Thresholds::default()))
    }

    #[test]
    fn fires_with_the_retry_budget_over_the_route_timeout() {
        let snap = SnapBuilder::new()
            .istio(VS)
            .cluster(INV, |c| {
                c.counter("upstream_rq_per_try_timeout", 25)
                    .counter("upstream_rq_retry", 24)
                    .p99(380.0)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 25 tries hit the 400ms per-try timeout, 24 retries; \
             4 tries × 400ms exceed the 1s route timeout"
        );
        assert!(
            f.cause.contains(
                "1 try + 3 retries × 400ms = 1.6s exceeds the 1s route timeout, which includes \
                 retries: only 3 of the 4 tries can start"
            ),
            "{}",
            f.cause
        );
        let per_try = f
            .evidence
            .iter()
            .find(|e| e.name == "VirtualService prod/inventory-svc http[0].retries.perTryTimeout")
            .unwrap();
        assert_eq!(
            (per_try.value.as_str(), per_try.number),
            ("400ms", Some(400.0))
        );
        assert_eq!(
            f.next_steps[0].command.as_deref(),
            Some("istioctl proxy-config route order-svc-7d9f8c-a1b2c.prod --name 8080 -o json")
        );
    }

    #[test]
    fn the_counter_alone_is_info_and_zero_is_quiet() {
        let alone = SnapBuilder::new()
            .cluster(INV, |c| c.counter("upstream_rq_per_try_timeout", 3))
            .build();
        let found = run(&alone);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(
            found[0].title,
            "inventory-svc.prod:8080: 3 tries hit the per-try timeout"
        );
        let zero = SnapBuilder::new()
            .istio(VS)
            .cluster(INV, |c| {
                c.counter("upstream_rq_per_try_timeout", 0)
                    .counter("upstream_rq_retry", 5)
            })
            .build();
        assert!(run(&zero).is_empty());
        let absent = SnapBuilder::new().istio(VS).cluster(INV, |c| c).build();
        assert!(run(&absent).is_empty());
    }
}
