//! R15: ejections suppressed by the `maxEjectionPercent` cap (HINTS.md R15):
//! Δ`outlier_detection.ejections_overflow` > 0, so hosts that should have been ejected keep
//! receiving traffic. Quotes the cap with its source, the endpoint counts and the errors.

use super::Rule;
use super::r14_outlier_ejection::outlier_evidence;
use super::r17_no_healthy_endpoints::endpoint_step;
use crate::diagnosis::{Context, Finding, Severity};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R15",
    name: "Ejection suppressed by maxEjectionPercent",
    check,
};

const OVERFLOW: &str = "outlier_detection.ejections_overflow";

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| finding(ctx, c)).collect()
}

fn finding(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let n = ctx.moved(c, OVERFLOW)?;
    let outlier = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.policy.outlier_detection.as_ref());
    let errors = ["upstream_rq_5xx", "hosts.rq_error"]
        .into_iter()
        .find(|stat| ctx.moved(c, stat).is_some());
    let signals = 1 + usize::from(outlier.is_some()) + usize::from(errors.is_some());
    let mut f = ctx.cluster_finding(RULE.id, ctx.grade(Severity::Warning, signals, 2), c);
    let cap = outlier.map_or(String::from("the maxEjectionPercent cap"), |o| {
        format!("maxEjectionPercent {}%", o.max_ejection_percent.value)
    });
    f.title = format!(
        "{}: {n} ejections suppressed by {cap} — failing hosts keep receiving traffic",
        c.label
    );
    f.scope = ctx.scope(c, OVERFLOW);
    f.evidence.extend(ctx.counter_evidence(c, OVERFLOW));
    f.evidence
        .extend(ctx.gauge_evidence(c, "outlier_detection.ejections_active"));
    f.evidence.extend(ctx.membership_evidence(c));
    f.evidence
        .extend(errors.and_then(|stat| ctx.counter_evidence(c, stat)));
    if let Some(o) = outlier {
        let pct = &o.max_ejection_percent;
        let text = format!("{}%", pct.value);
        f.evidence
            .push(outlier_evidence("maxEjectionPercent", pct, text));
    }
    f.cause = "Outlier detection wanted to eject more hosts, but the maxEjectionPercent cap \
               (Istio default 10%; Envoy still ejects at least one host) was reached, so the \
               remaining bad hosts keep getting requests. Raise \
               outlierDetection.maxEjectionPercent, add replicas, or fix the failing pods."
        .to_string();
    f.next_steps = vec![
        endpoint_step(ctx, c, "See which hosts are ejected and which still fail"),
        ctx.destination_rule_step(c),
    ];
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

    const DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  host: inventory-svc\n\
        \x20 trafficPolicy:\n    outlierDetection: {consecutive5xxErrors: 3}\n";

    fn r15(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn overflow_with_errors_and_default_cap_is_a_warning() {
        let snap = SnapBuilder::new()
            .istio(DR)
            .cluster(INV, |c| {
                c.counter(OVERFLOW, 7)
                    .counter("upstream_rq_5xx", 40)
                    .endpoints(3, 2, 1, &["10.4.1.2:8080 /failed_outlier_check"])
            })
            .build();
        let f = r15(&snap);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 7 ejections suppressed by maxEjectionPercent 10% — failing hosts keep receiving traffic"
        );
        let ev = |name: &str| f.evidence.iter().find(|e| e.name == name).unwrap();
        assert_eq!(ev(OVERFLOW).value, "+7 in 30s (0.23/s)");
        assert_eq!(ev("upstream_rq_5xx").number, Some(40.0));
        assert_eq!(
            ev("/clusters endpoints (healthy / total)").value,
            "2 of 3 healthy"
        );
        assert_eq!(
            ev("outlierDetection.maxEjectionPercent (Istio default)").value,
            "10%"
        );
        assert_eq!(
            f.next_steps[1].command.as_deref(),
            Some("kubectl get destinationrule -n prod inventory-svc -o yaml")
        );
    }

    #[test]
    fn counter_alone_is_info_and_zero_is_quiet() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| c.counter(OVERFLOW, 2))
            .build();
        let f = r15(&snap);
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(
            f[0].title,
            "inventory-svc.prod:8080: 2 ejections suppressed by the maxEjectionPercent cap — failing hosts keep receiving traffic"
        );
        let snap = SnapBuilder::new()
            .istio(DR)
            .cluster(INV, |c| {
                c.counter(OVERFLOW, 0).counter("upstream_rq_5xx", 40)
            })
            .build();
        assert!(r15(&snap).is_empty());
    }
}
