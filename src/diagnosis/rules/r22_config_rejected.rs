//! R22: the proxy did not accept its configuration (HINTS.md R22). Two findings:
//! - per workload, sidecars whose Δ`cluster_manager.cds.update_rejected` or
//!   Δ`listener_manager.lds.update_rejected` moved (an xDS NACK): critical, because the
//!   timeouts and limits meshtop shows from the Istio objects may not be in effect;
//! - per cluster, configured values Envoy does not run with (`config.mismatches`, from a
//!   client's `/config_dump`): "config not applied", a warning.
//!
//! `istioctl proxy-status` (STALE / NOT SENT) is istiod's view and not in the snapshot; the
//! next steps say how to read it.

use std::collections::BTreeMap;

use super::Rule;
use crate::diagnosis::{Context, Evidence, EvidenceKind, Finding, NextStep, Severity, workload_of};
use crate::model::{ClusterSnapshot, CounterWindow, ProxyView};

pub const RULE: Rule = Rule {
    id: "R22",
    name: "Configuration rejected or not applied",
    check,
};

const REJECTED: [&str; 2] = [
    "cluster_manager.cds.update_rejected",
    "listener_manager.lds.update_rejected",
];

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = rejections(ctx);
    out.extend(ctx.upstreams().filter_map(|c| mismatch_finding(ctx, c)));
    out
}

/// Sidecars with a rejection in the window, grouped by workload.
fn rejections(ctx: &Context<'_>) -> Vec<Finding> {
    let mut by_workload: BTreeMap<&str, Vec<&ProxyView>> = BTreeMap::new();
    for p in &ctx.snap.proxies {
        let rejected = REJECTED.iter().any(|stat| moved(ctx, p, stat).is_some());
        if rejected {
            by_workload.entry(workload_of(&p.pod)).or_default().push(p);
        }
    }
    (by_workload.into_iter())
        .map(|(workload, proxies)| rejection_finding(ctx, workload, &proxies))
        .collect()
}

fn moved(ctx: &Context<'_>, p: &ProxyView, stat: &str) -> Option<u64> {
    let w = p.counters.get(stat)?;
    Some(w.increase).filter(|&n| n >= ctx.thresholds.min_events.max(1))
}

fn rejection_finding(ctx: &Context<'_>, workload: &str, proxies: &[&ProxyView]) -> Finding {
    let first = proxies.first().map_or(workload, |p| p.pod.as_str());
    let mut f = ctx.pod_finding(RULE.id, Severity::Critical, first);
    f.target = workload.to_string();
    f.pods = proxies.iter().map(|p| p.pod.clone()).collect();
    let of = (ctx.snap.proxies.iter())
        .filter(|p| workload_of(&p.pod) == workload)
        .count();
    f.scope = Some(format!("{} of {of} {workload} pods", proxies.len()));
    let mut parts = Vec::new();
    for stat in REJECTED {
        let Some(sum) = summed(ctx, proxies, stat) else {
            continue;
        };
        let short = stat.split_once('.').map_or(stat, |(_, s)| s);
        parts.push(format!("{short} +{}", sum.increase));
        f.evidence.push(Evidence {
            kind: EvidenceKind::Counter,
            name: format!("{stat} ({} pod(s))", sum.pods),
            value: ctx.window_text(&sum),
            number: Some(sum.increase as f64),
            effective: None,
        });
    }
    f.title = format!(
        "{workload}: {} of {of} sidecars rejected config ({}) — the timeouts and limits shown may not be in effect",
        proxies.len(),
        parts.join(", ")
    );
    f.cause = "Envoy refused (NACKed) a configuration update from istiod, so it keeps running \
               the last accepted one: the DestinationRule/VirtualService settings meshtop shows \
               may not be in effect on these pods. Usually an EnvoyFilter that no longer fits \
               (istioctl analyze IST0151–IST0155), otherwise a bad object or istiod trouble."
        .to_string();
    let ns = ctx.namespace_of(first);
    f.next_steps = vec![
        NextStep::run(
            "See which proxies are STALE or NACKed",
            "istioctl proxy-status",
        ),
        NextStep::run(
            format!("Diff istiod's config with what {first} runs"),
            format!("istioctl proxy-status {first}.{ns}"),
        ),
        NextStep::run(
            "Look for EnvoyFilter problems (IST0151–IST0155)",
            format!("istioctl analyze -n {ns}"),
        ),
        NextStep::run(
            "Read the rejection reason in istiod's log",
            "kubectl logs -n istio-system deploy/istiod --since=15m | grep -i nack",
        ),
    ];
    f
}

/// The window increase of `stat` summed over the rejecting pods that collected it.
fn summed(ctx: &Context<'_>, proxies: &[&ProxyView], stat: &str) -> Option<CounterWindow> {
    let windows = proxies.iter().filter_map(|p| p.counters.get(stat));
    windows
        .filter(|w| w.increase >= ctx.thresholds.min_events.max(1))
        .fold(None::<CounterWindow>, |acc, w| match acc {
            None => Some(CounterWindow { pods: 1, ..*w }),
            Some(mut a) => {
                a.increase = a.increase.saturating_add(w.increase);
                a.rate = a.rate.zip(w.rate).map(|(x, y)| x + y).or(a.rate).or(w.rate);
                a.pods += 1;
                Some(a)
            }
        })
}

/// "Config not applied": configured values Envoy does not run with.
fn mismatch_finding(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let cfg = c.config.as_ref().filter(|cfg| !cfg.mismatches.is_empty())?;
    let mut f = ctx.cluster_finding(RULE.id, Severity::Warning, c);
    let fields: Vec<&str> = cfg.mismatches.iter().map(|m| m.field.as_str()).collect();
    f.title = format!(
        "{}: Envoy does not run with the configured {} — config not applied",
        c.label,
        fields.join(", ")
    );
    f.evidence = fields
        .iter()
        .filter_map(|field| ctx.config_evidence(c, field))
        .collect();
    f.cause = "The values resolved from the DestinationRule/VirtualService differ from the \
               client's /config_dump: the proxy has not received or not accepted the latest \
               config (proxy-status STALE, an xDS NACK — often an EnvoyFilter, IST0151–IST0155), \
               another object wins for this host, or an EnvoyFilter rewrites the value."
        .to_string();
    let pod = ctx.client_pod(c);
    let ns = ctx.namespace_of(&pod);
    f.next_steps = vec![
        NextStep::run(
            format!("Diff istiod's config with what {pod} runs"),
            format!("istioctl proxy-status {pod}.{ns}"),
        ),
        NextStep::run(
            "Read the cluster as Envoy runs it",
            ctx.istioctl_pc(c, "cluster", "--fqdn {fqdn} -o json"),
        ),
        ctx.route_step(c),
        NextStep::run(
            "Look for EnvoyFilters and conflicts (IST0151–IST0155)",
            format!("istioctl analyze -n {ns}"),
        ),
    ];
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

    const FRONT: &str = "frontend-6b7c8d-q1w2e";

    fn r22(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn rejections_group_pods_by_workload_and_are_critical() {
        let cds = "cluster_manager.cds.update_rejected";
        let lds = "listener_manager.lds.update_rejected";
        let snap = SnapBuilder::new()
            .proxy(ORDER_A, Some(300), None, &[(cds, 2), (lds, 0)])
            .proxy(ORDER_B, Some(300), None, &[(cds, 1), (lds, 1)])
            .proxy(FRONT, Some(300), None, &[(cds, 0), (lds, 0)])
            .build();
        let f = r22(&snap);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.target, "order-svc");
        assert_eq!(f.pods, vec![ORDER_A.to_string(), ORDER_B.to_string()]);
        assert_eq!(f.scope.as_deref(), Some("2 of 2 order-svc pods"));
        assert_eq!(
            f.title,
            "order-svc: 2 of 2 sidecars rejected config (cds.update_rejected +3, lds.update_rejected +1) — the timeouts and limits shown may not be in effect"
        );
        assert_eq!(
            f.evidence[0].name,
            "cluster_manager.cds.update_rejected (2 pod(s))"
        );
        assert_eq!(f.evidence[0].number, Some(3.0));
        assert_eq!(
            f.evidence[1].name,
            "listener_manager.lds.update_rejected (1 pod(s))"
        );
        assert!(f.cause.contains("IST0151–IST0155"));
        assert_eq!(
            f.next_steps[1].command.as_deref(),
            Some("istioctl proxy-status order-svc-7d9f8c-a1b2c.prod")
        );
    }

    #[test]
    fn configured_values_envoy_ignores_are_a_warning() {
        let vs = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: inventory-svc, namespace: prod}\n\
                  spec:\n  hosts: [inventory-svc]\n  http:\n  - route: [{destination: {host: inventory-svc}}]\n    timeout: 1s\n";
        let snap = SnapBuilder::new()
            .istio(vs)
            .cluster(INV, |c| c.mismatch("route_timeout_ms", Some(1000), None))
            .build();
        let f = r22(&snap);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: Envoy does not run with the configured route_timeout_ms — config not applied"
        );
        assert_eq!(
            f.evidence[0].name,
            "VirtualService prod/inventory-svc http[0].timeout"
        );
        assert_eq!(f.evidence[0].value, "1s");
        assert_eq!(
            f.evidence[0].effective.as_deref(),
            Some("Envoy runs with none (no route timeout)")
        );
        assert_eq!(
            f.next_steps[1].command.as_deref(),
            Some(
                "istioctl proxy-config cluster order-svc-7d9f8c-a1b2c.prod --fqdn inventory-svc.prod.svc.cluster.local -o json"
            )
        );
    }

    #[test]
    fn quiet_when_nothing_rejected_or_differs() {
        let snap = SnapBuilder::new()
            .proxy(
                ORDER_A,
                Some(300),
                None,
                &[("cluster_manager.cds.update_rejected", 0)],
            )
            .cluster(INV, |c| c.counter("upstream_rq_total", 10))
            .build();
        assert!(r22(&snap).is_empty());
    }
}
