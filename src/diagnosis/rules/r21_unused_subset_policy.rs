//! R21: a DestinationRule subset has its own `trafficPolicy` but no VirtualService routes to
//! the subset (HINTS.md R21), so the policy never takes effect: traffic to the host goes to
//! the plain cluster, which uses the top-level policy (istio.io "Destination rule policy not
//! activated"). Reads `MeshSnapshot::subset_policies`. A warning; an info when the subset's
//! cluster nevertheless had traffic in the window (a route meshtop did not see, e.g. in a
//! namespace it did not read).

use super::Rule;
use crate::diagnosis::{Context, Evidence, EvidenceKind, Finding, NextStep, Severity};
use crate::istio::host::match_host;
use crate::model::{ClusterSnapshot, SubsetPolicy};

pub const RULE: Rule = Rule {
    id: "R21",
    name: "Subset policy not activated",
    check,
};

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    (ctx.snap.subset_policies.iter())
        .filter(|p| p.routed_by.is_empty())
        .map(|p| finding(ctx, p))
        .collect()
}

/// The outbound clusters of the policy's host (all subsets), the subset's own first.
fn host_clusters<'a>(ctx: &Context<'a>, p: &SubsetPolicy) -> Vec<&'a ClusterSnapshot> {
    let mut out: Vec<&ClusterSnapshot> = (ctx.upstreams())
        .filter(|c| {
            c.key
                .istio()
                .is_some_and(|k| match_host(&p.host, &k.host, "").is_some_and(|m| m.is_applied()))
        })
        .collect();
    out.sort_by_key(|c| c.key.istio().is_none_or(|k| k.subset != p.subset));
    out
}

fn config(name: String, value: String) -> Evidence {
    Evidence {
        kind: EvidenceKind::Config,
        name,
        value,
        number: None,
        effective: None,
    }
}

fn finding(ctx: &Context<'_>, p: &SubsetPolicy) -> Finding {
    let clusters = host_clusters(ctx, p);
    let own =
        (clusters.iter().copied()).find(|c| c.key.istio().is_some_and(|k| k.subset == p.subset));
    let used = own.is_some_and(|c| ctx.has_traffic(c));
    let severity = if used {
        Severity::Info
    } else {
        Severity::Warning
    };
    let sections = p.sections.join(", ");
    let mut f = Finding {
        rule: RULE.id.to_string(),
        severity,
        cluster: own.map(|c| c.key.name.clone()),
        target: own.map_or_else(|| format!("{} {}", p.host, p.subset), |c| c.label.clone()),
        pods: clients(&clusters),
        scope: None,
        title: format!(
            "DestinationRule {} subset {}: its {sections} policy is inactive — no VirtualService routes to the subset",
            p.destination_rule, p.subset
        ),
        evidence: vec![
            config(
                format!(
                    "DestinationRule {} subsets[{}].trafficPolicy",
                    p.destination_rule, p.subset
                ),
                sections.clone(),
            ),
            config(
                format!("VirtualService routes to subset {}", p.subset),
                "none".into(),
            ),
        ],
        cause: cause(p, &sections),
        next_steps: steps(ctx, p, &clusters),
    };
    f.evidence.extend(traffic_evidence(ctx, &clusters));
    f
}

/// Why an unrouted subset policy never acts, and the two fixes.
fn cause(p: &SubsetPolicy, sections: &str) -> String {
    format!(
        "A subset's trafficPolicy applies only to the subset's own cluster, and Envoy sends \
         traffic there only when a VirtualService route names the subset. Without one, calls \
         to {} use the plain cluster and the top-level policy, so the subset's {sections} \
         settings never act (circuit-breaker counters never move). Move the trafficPolicy \
         to the top level of the DestinationRule, or add a route with `subset: {}`.",
        p.host, p.subset
    )
}

/// Where the host's traffic actually went in the window: each cluster with requests.
fn traffic_evidence(ctx: &Context<'_>, clusters: &[&ClusterSnapshot]) -> Vec<Evidence> {
    (clusters.iter())
        .filter(|c| ctx.has_traffic(c))
        .map(|c| {
            let n = ctx.requests_total(c).unwrap_or(0);
            Evidence {
                kind: EvidenceKind::Counter,
                name: format!("requests to {}", c.key.name),
                value: format!("{n} in the window"),
                number: Some(n as f64),
                effective: None,
            }
        })
        .collect()
}

fn clients(clusters: &[&ClusterSnapshot]) -> Vec<String> {
    let mut pods: Vec<String> = clusters
        .iter()
        .flat_map(|c| c.clients.iter().cloned())
        .collect();
    pods.sort();
    pods.dedup();
    pods
}

fn steps(ctx: &Context<'_>, p: &SubsetPolicy, clusters: &[&ClusterSnapshot]) -> Vec<NextStep> {
    let (dr_ns, dr_name) = p
        .destination_rule
        .split_once('/')
        .unwrap_or(("default", &p.destination_rule));
    let mut steps = vec![
        NextStep::run(
            format!("Read the DestinationRule {}", p.destination_rule),
            format!("kubectl get destinationrule -n {dr_ns} {dr_name} -o yaml"),
        ),
        NextStep::run(
            format!(
                "Look for a VirtualService that routes to subset {}",
                p.subset
            ),
            format!("kubectl get virtualservice -n {dr_ns} -o yaml"),
        ),
    ];
    if let Some(c) = clusters.first() {
        let (svc, ns) = ctx.service_of(c);
        steps.push(NextStep::run(
            "See which subsets and policies Istio applies to the service",
            format!("istioctl x describe service {svc} -n {ns}"),
        ));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

    const PLAIN: &str = "outbound|8080||pricing-svc.prod.svc.cluster.local";
    const V1: &str = "outbound|8080|v1|pricing-svc.prod.svc.cluster.local";

    fn policy(routed_by: &[&str]) -> SubsetPolicy {
        SubsetPolicy {
            destination_rule: "prod/pricing-svc".into(),
            host: "pricing-svc.prod.svc.cluster.local".into(),
            subset: "v1".into(),
            sections: vec!["connectionPool".into(), "outlierDetection".into()],
            routed_by: routed_by.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn r21(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn unrouted_subset_policy_is_a_warning_showing_where_traffic_went() {
        let snap = SnapBuilder::new()
            .subset_policy(policy(&[]))
            .cluster(PLAIN, |c| {
                c.clients(&[ORDER_A, ORDER_B])
                    .counter("upstream_rq_total", 600)
            })
            .cluster(V1, |c| c.counter("upstream_rq_total", 0))
            .build();
        let f = r21(&snap);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.cluster.as_deref(), Some(V1));
        assert_eq!(f.target, "pricing-svc.prod:8080 v1");
        assert_eq!(f.pods, vec![ORDER_A.to_string(), ORDER_B.to_string()]);
        assert_eq!(
            f.title,
            "DestinationRule prod/pricing-svc subset v1: its connectionPool, outlierDetection policy is inactive — no VirtualService routes to the subset"
        );
        assert_eq!(
            f.evidence[0].name,
            "DestinationRule prod/pricing-svc subsets[v1].trafficPolicy"
        );
        assert_eq!(f.evidence[0].value, "connectionPool, outlierDetection");
        assert_eq!(f.evidence[2].name, format!("requests to {PLAIN}"));
        assert_eq!(f.evidence[2].number, Some(600.0));
        let commands: Vec<&str> = f
            .next_steps
            .iter()
            .filter_map(|s| s.command.as_deref())
            .collect();
        assert_eq!(
            commands,
            vec![
                "kubectl get destinationrule -n prod pricing-svc -o yaml",
                "kubectl get virtualservice -n prod -o yaml",
                "istioctl x describe service pricing-svc -n prod",
            ]
        );
    }

    #[test]
    fn traffic_on_the_subset_cluster_lowers_it_to_info() {
        let snap = SnapBuilder::new()
            .subset_policy(policy(&[]))
            .cluster(V1, |c| c.counter("upstream_rq_total", 50))
            .build();
        assert_eq!(r21(&snap)[0].severity, Severity::Info);
    }

    #[test]
    fn routed_subsets_are_quiet() {
        let snap = SnapBuilder::new()
            .subset_policy(policy(&["VirtualService prod/pricing-svc http[0]"]))
            .cluster(V1, |c| c.counter("upstream_rq_total", 0))
            .build();
        assert!(r21(&snap).is_empty());
    }
}
