//! R16: calls failed because the cluster has no endpoints at all (HINTS.md R16): 503 UH /
//! Δ`upstream_cx_none_healthy` with `membership_total` = 0 (or an empty `/clusters` entry).
//! The Service selector matches no ready pod, the DestinationRule subset's labels select no
//! pod, or the port is wrong. Idle clusters with no endpoints (selector-less Services,
//! `BlackHoleCluster`) stay quiet: a failed call is required. TCP clusters go to R25; clusters
//! with endpoints that are all unhealthy to R17.

use super::Rule;
use super::r17_no_healthy_endpoints::{
    NONE_HEALTHY, NoHealthy, endpoint_step, endpointslices_step, failure_evidence,
    failure_severity, no_healthy,
};
use crate::diagnosis::{Context, Evidence, EvidenceKind, Finding, NextStep};
use crate::model::{ClusterSnapshot, ConfigSummary};

pub const RULE: Rule = Rule {
    id: "R16",
    name: "No endpoints",
    check,
};

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams()
        .filter_map(|c| {
            let nh = no_healthy(ctx, c)?;
            (!nh.tcp && nh.no_endpoints()).then(|| finding(ctx, c, &nh))
        })
        .collect()
}

fn subset_of(c: &ClusterSnapshot) -> Option<&str> {
    c.key
        .istio()
        .map(|k| k.subset.as_str())
        .filter(|s| !s.is_empty())
}

fn finding(ctx: &Context<'_>, c: &ClusterSnapshot, nh: &NoHealthy) -> Finding {
    let failed = nh.failed();
    let config = config_evidence(c);
    let base = failure_severity(ctx, c, failed);
    let signals = nh.signals() + usize::from(!config.is_empty());
    let mut f = ctx.cluster_finding(RULE.id, ctx.grade(base, signals, 2), c);
    let how = match nh.flagged {
        Some(_) => "failed with 503 UH",
        None => "found no upstream host",
    };
    f.title = format!(
        "{}: {failed} calls {how} — the cluster has no endpoints",
        c.label
    );
    f.scope = ctx.scope(c, NONE_HEALTHY);
    f.evidence = failure_evidence(ctx, c, nh);
    f.evidence.extend(config);
    f.cause = cause(ctx, c);
    f.next_steps = steps(ctx, c);
    f
}

/// The DestinationRule subset, the routes that send traffic here, and resolution notes with
/// an IST code.
fn config_evidence(c: &ClusterSnapshot) -> Vec<Evidence> {
    let Some(cfg) = c.config.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let config = |name: String, value: String| Evidence {
        kind: EvidenceKind::Config,
        name,
        value,
        number: None,
        effective: None,
    };
    if let (Some(subset), Some(dr)) = (subset_of(c), cfg.destination_rule.as_deref()) {
        out.push(config(
            format!("DestinationRule {dr} subsets[{subset}].labels"),
            "select no endpoint of the service (0 members)".into(),
        ));
    }
    for r in &cfg.policy.routes {
        let vs = &r.virtual_service;
        let to = subset_of(c).map_or(String::from("this cluster"), |s| format!("subset {s}"));
        out.push(config(
            format!("VirtualService {}/{} {}", vs.namespace, vs.name, r.field),
            format!("routes to {to} (weight {})", r.weight.value),
        ));
    }
    out.extend(ist_notes(cfg).map(|n| config("Istio config note".into(), n.to_string())));
    out
}

fn ist_notes(cfg: &ConfigSummary) -> impl Iterator<Item = &String> {
    cfg.notes.iter().filter(|n| n.contains("(IST0"))
}

fn cause(ctx: &Context<'_>, c: &ClusterSnapshot) -> String {
    let (svc, ns) = ctx.service_of(c);
    let dr = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.destination_rule.clone());
    let subset = match (subset_of(c), dr) {
        (Some(s), Some(dr)) => format!(
            "the DestinationRule {dr} subset `{s}` selects no pod — its labels match no ready \
             pod of {svc} (IST0173 DestinationRuleSubsetNotSelectPods, Kiali KIA0203); "
        ),
        (Some(s), None) => format!(
            "subset `{s}` selects no pod (IST0173 DestinationRuleSubsetNotSelectPods, KIA0203); "
        ),
        (None, _) => String::new(),
    };
    format!(
        "Envoy has no endpoint for this cluster, so every call fails at once with 503 UH (no \
         healthy upstream): {subset}the Service {svc}.{ns} selector matches no ready pod, or \
         the port is wrong. A DestinationRule whose host matches no service is IST0174 / \
         KIA0202."
    )
}

fn steps(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<NextStep> {
    let (_, ns) = ctx.service_of(c);
    let mut steps = vec![
        endpoint_step(
            ctx,
            c,
            "Confirm Envoy has no endpoint for the cluster (empty list)",
        ),
        endpointslices_step(ctx, c),
    ];
    let dr = (c.config.as_ref()).and_then(|cfg| cfg.destination_rule.as_deref());
    match (subset_of(c), dr.and_then(|d| d.split_once('/'))) {
        (Some(s), Some((dr_ns, name))) => {
            steps.push(NextStep::run(
                format!("Print the labels of subset {s}"),
                format!(
                    "kubectl get destinationrule -n {dr_ns} {name} -o jsonpath='{{.spec.subsets[?(@.name==\"{s}\")].labels}}'"
                ),
            ));
            steps.push(NextStep::run(
                "Compare them with the pods' labels",
                format!("kubectl get pods -n {ns} --show-labels"),
            ));
        }
        _ => steps.push(ctx.destination_rule_step(c)),
    }
    steps.push(NextStep::run(
        "Let Istio check selectors and subsets (IST0173, IST0174)",
        format!("istioctl analyze -n {ns}"),
    ));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::testkit::*;
    use crate::diagnosis::{Severity, Thresholds};

    const V3: &str = "outbound|8080|v3|pricing-svc.prod.svc.cluster.local";
    const PLAIN: &str = "outbound|8080||pricing-svc.prod.svc.cluster.local";
    /// The no-healthy-upstream scenario's objects.
    const YAML: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
        metadata: {name: pricing-svc, namespace: prod}\nspec:\n  host: pricing-svc\n  subsets:\n\
        \x20 - {name: v2, labels: {version: v2}}\n  - {name: v3, labels: {version: v3}}\n---\n\
        apiVersion: networking.istio.io/v1\nkind: VirtualService\n\
        metadata: {name: pricing-svc, namespace: prod}\nspec:\n  hosts: [pricing-svc]\n  http:\n\
        \x20 - route: [{destination: {host: pricing-svc, port: {number: 8080}, subset: v3}}]\n";

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    /// As the snapshot really looks: UH calls are not in `upstream_rq_total`, so the service's
    /// series sit on the plain cluster (ties go to no subset), which has healthy endpoints.
    fn scenario(v3: impl FnOnce(ClusterBuilder) -> ClusterBuilder) -> crate::model::MeshSnapshot {
        SnapBuilder::new()
            .istio(YAML)
            .cluster(PLAIN, |c| c.flag("503", "UH", 300).endpoints(2, 2, 0, &[]))
            .cluster(V3, v3)
            .build()
    }

    #[test]
    fn subset_selecting_no_pod_is_critical_with_labels_step() {
        let snap = scenario(|c| {
            c.counter(NONE_HEALTHY, 300)
                .gauge("membership_total", 0.0)
                .gauge("membership_healthy", 0.0)
        });
        let f = run(&snap);
        assert_eq!(f.len(), 1, "{f:?}");
        let f = &f[0];
        assert_eq!(f.cluster.as_deref(), Some(V3));
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "pricing-svc.prod:8080 v3: 300 calls failed with 503 UH — the cluster has no endpoints"
        );
        let ev = |name: &str| f.evidence.iter().find(|e| e.name == name).unwrap();
        assert_eq!(ev(NONE_HEALTHY).number, Some(300.0));
        assert_eq!(
            ev("UH (503, reporter=source) for service pricing-svc.prod:8080").number,
            Some(300.0)
        );
        assert_eq!(
            ev("membership_healthy / membership_total").value,
            "0 of 0 healthy"
        );
        assert_eq!(
            ev("DestinationRule prod/pricing-svc subsets[v3].labels").value,
            "select no endpoint of the service (0 members)"
        );
        assert_eq!(
            ev("VirtualService prod/pricing-svc http[0]").value,
            "routes to subset v3 (weight 100)"
        );
        assert!(
            f.cause.contains("subset `v3` selects no pod")
                && f.cause.contains("IST0173")
                && f.cause.contains("KIA0203")
        );
        let commands: Vec<&str> = f
            .next_steps
            .iter()
            .filter_map(|s| s.command.as_deref())
            .collect();
        assert_eq!(
            commands,
            vec![
                "istioctl proxy-config endpoint order-svc-7d9f8c-a1b2c.prod --cluster \"outbound|8080|v3|pricing-svc.prod.svc.cluster.local\"",
                "kubectl get endpointslices -n prod -l kubernetes.io/service-name=pricing-svc",
                "kubectl get destinationrule -n prod pricing-svc -o jsonpath='{.spec.subsets[?(@.name==\"v3\")].labels}'",
                "kubectl get pods -n prod --show-labels",
                "istioctl analyze -n prod",
            ]
        );
    }

    #[test]
    fn without_cluster_stats_the_flag_and_clusters_still_tell() {
        // stats-not-enabled: no counters; /clusters shows the v3 cluster empty.
        let snap = scenario(|c| c.endpoints(0, 0, 0, &[]));
        let f = run(&snap);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(
            f[0].evidence
                .iter()
                .find(|e| e.name == "/clusters endpoints (healthy / total)")
                .unwrap()
                .value,
            "0 of 0 healthy"
        );
        // Without Istio objects only one signal remains: a warning.
        let snap = SnapBuilder::new()
            .cluster(V3, |c| c.counter(NONE_HEALTHY, 10).endpoints(0, 0, 0, &[]))
            .build();
        let f = run(&snap);
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].title,
            "pricing-svc.prod:8080 v3: 10 calls found no upstream host — the cluster has no endpoints"
        );
    }

    #[test]
    fn idle_empty_clusters_and_healthy_ones_are_quiet() {
        let idle = "outbound|80||svc-7.prod.svc.cluster.local";
        let snap = SnapBuilder::new()
            .cluster(idle, |c| {
                c.gauge("membership_total", 0.0)
                    .gauge("membership_healthy", 0.0)
            })
            .cluster("BlackHoleCluster", |c| {
                c.counter(NONE_HEALTHY, 3).endpoints(0, 0, 0, &[])
            })
            .cluster(PLAIN, |c| c.flag("503", "UH", 5).endpoints(2, 2, 0, &[]))
            .build();
        assert!(run(&snap).is_empty());
        // Collected and zero on the empty cluster: the UH came from elsewhere.
        let snap = scenario(|c| c.counter(NONE_HEALTHY, 0).endpoints(0, 0, 0, &[]));
        assert!(run(&snap).is_empty());
    }
}
