//! R14: endpoints ejected by outlier detection (HINTS.md R14). Fires on any of: the
//! `outlier_detection.ejections_active` gauge above 0, Δ`outlier_detection.ejections_enforced_total`,
//! or `/clusters` hosts flagged `/failed_outlier_check`; quotes the DestinationRule's
//! `outlierDetection` values with their sources and the per-host errors. When every endpoint
//! is ejected and calls fail with UH, R17 reports it instead (one finding per situation).

use super::Rule;
use super::r17_no_healthy_endpoints::{endpoint_step, no_healthy};
use crate::diagnosis::{Context, Evidence, EvidenceKind, Finding, NextStep, Severity, human_ms};
use crate::istio::{ResolvedOutlier, Sourced};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R14",
    name: "Endpoints ejected by outlier detection",
    check,
};

const ACTIVE: &str = "outlier_detection.ejections_active";
const ENFORCED: &str = "outlier_detection.ejections_enforced_total";
const FAILED_OUTLIER: &str = "/failed_outlier_check";

/// Evidence for an `outlierDetection` setting: named by its source object and field, or
/// `outlierDetection.<field> (Istio default)`.
pub(super) fn outlier_evidence<T>(field: &str, setting: &Sourced<T>, value: String) -> Evidence {
    let name = match setting.source.is_default() {
        true => format!("outlierDetection.{field} (Istio default)"),
        false => setting.source.to_string(),
    };
    Evidence {
        kind: EvidenceKind::Config,
        name,
        value,
        number: None,
        effective: None,
    }
}

/// The four settings that decide who is ejected and for how long.
pub(super) fn outlier_settings(o: &ResolvedOutlier) -> Vec<Evidence> {
    let ms = |d: std::time::Duration| human_ms(d.as_millis() as f64);
    vec![
        outlier_evidence(
            "consecutive5xxErrors",
            &o.consecutive_5xx_errors,
            o.consecutive_5xx_errors.value.to_string(),
        ),
        outlier_evidence("interval", &o.interval, ms(o.interval.value)),
        outlier_evidence(
            "baseEjectionTime",
            &o.base_ejection_time,
            ms(o.base_ejection_time.value),
        ),
        outlier_evidence(
            "maxEjectionPercent",
            &o.max_ejection_percent,
            format!("{}%", o.max_ejection_percent.value),
        ),
    ]
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| finding(ctx, c)).collect()
}

/// Hosts `/clusters` shows ejected, with their flags.
fn ejected_hosts(c: &ClusterSnapshot) -> Vec<&str> {
    c.endpoints.as_ref().map_or(Vec::new(), |e| {
        e.unhealthy
            .iter()
            .filter(|h| h.contains(FAILED_OUTLIER))
            .map(String::as_str)
            .collect()
    })
}

fn finding(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let active = ctx.gauge_max(c, ACTIVE).filter(|v| *v > 0.0);
    let enforced = ctx.moved(c, ENFORCED);
    let hosts = ejected_hosts(c);
    let stats_signal = active.is_some() || enforced.is_some();
    if !stats_signal && hosts.is_empty() {
        return None;
    }
    // Every endpoint ejected and calls failing with UH: R17's finding.
    if no_healthy(ctx, c).is_some_and(|nh| !nh.tcp && !nh.no_endpoints()) {
        return None;
    }
    let outlier = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.policy.outlier_detection.as_ref());
    let signals =
        usize::from(stats_signal) + usize::from(!hosts.is_empty()) + usize::from(outlier.is_some());
    let mut f = ctx.cluster_finding(RULE.id, ctx.grade(Severity::Warning, signals, 2), c);
    f.title = title(ctx, c, active, enforced, hosts.len());
    f.scope = ctx.scope(c, ENFORCED);
    f.evidence = evidence(ctx, c, &hosts);
    f.evidence
        .extend(outlier.map(outlier_settings).unwrap_or_default());
    f.cause = cause(outlier);
    f.next_steps = steps(ctx, c, &hosts);
    Some(f)
}

fn title(
    ctx: &Context<'_>,
    c: &ClusterSnapshot,
    active: Option<f64>,
    enforced: Option<u64>,
    hosts: usize,
) -> String {
    let ejected = match (hosts, active) {
        (0, Some(n)) => format!("{n}"),
        (n, _) => n.to_string(),
    };
    let of = ctx
        .membership(c)
        .map_or(String::new(), |(total, _)| format!(" of {total}"));
    let recent = enforced.map_or(String::new(), |n| {
        format!(
            " ({n} ejections in {})",
            human_ms(ctx.snap.window_seconds * 1000.0)
        )
    });
    format!(
        "{}: outlier detection ejected {ejected}{of} endpoints{recent}",
        c.label
    )
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot, hosts: &[&str]) -> Vec<Evidence> {
    let mut out: Vec<Evidence> = [
        ctx.gauge_evidence(c, ACTIVE),
        ctx.counter_evidence(c, ENFORCED),
    ]
    .into_iter()
    .flatten()
    .collect();
    out.extend(ctx.counter_evidence(c, "outlier_detection.ejections_consecutive_5xx"));
    if !hosts.is_empty() {
        out.push(Evidence {
            kind: EvidenceKind::Endpoint,
            name: "/clusters health_flags".into(),
            value: hosts.join(", "),
            number: Some(hosts.len() as f64),
            effective: None,
        });
    }
    out.extend(ctx.membership_evidence(c));
    for stat in ["upstream_rq_5xx", "hosts.rq_error"] {
        if ctx.moved(c, stat).is_some() {
            out.extend(ctx.counter_evidence(c, stat));
        }
    }
    out
}

fn cause(outlier: Option<&ResolvedOutlier>) -> String {
    let config = match outlier {
        Some(o) => format!(
            "after {} consecutive 5xx (consecutive5xxErrors; consecutiveGatewayErrors {}) checked \
             every {}, for baseEjectionTime {} × the times ejected, at most {}% of the hosts at once \
             (maxEjectionPercent; Envoy still ejects at least one)",
            o.consecutive_5xx_errors.value,
            o.consecutive_gateway_errors.value,
            human_ms(o.interval.value.as_millis() as f64),
            human_ms(o.base_ejection_time.value.as_millis() as f64),
            o.max_ejection_percent.value
        ),
        None => "although no DestinationRule outlierDetection was resolved for this cluster — \
                 Envoy may run with a different configuration (see R22)"
            .to_string(),
    };
    format!(
        "Some endpoints returned consecutive 5xx / gateway errors (or local-origin failures with \
         splitExternalLocalOriginErrors) and Envoy ejected them, {config}. Ejection protects the \
         callers; the ejected pods are the problem — look at their logs and readiness."
    )
}

fn steps(ctx: &Context<'_>, c: &ClusterSnapshot, hosts: &[&str]) -> Vec<NextStep> {
    let mut steps = vec![endpoint_step(
        ctx,
        c,
        "See which endpoints are ejected (OUTLIER CHECK = FAILED)",
    )];
    let ip = hosts
        .first()
        .and_then(|h| h.split(' ').next())
        .and_then(|a| a.rsplit_once(':'))
        .map(|(ip, _)| ip);
    if let Some(ip) = ip {
        let (_, ns) = ctx.service_of(c);
        steps.push(NextStep::run(
            format!("Find the ejected pod at {ip} and read its logs"),
            format!("kubectl get pods -n {ns} -o wide --field-selector status.podIP={ip}"),
        ));
    }
    steps.push(ctx.destination_rule_step(c));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

    /// The outlier-ejection scenario's DestinationRule.
    const DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  host: inventory-svc\n\
        \x20 trafficPolicy:\n    outlierDetection: {consecutive5xxErrors: 5, interval: 10s, \
        baseEjectionTime: 30s, maxEjectionPercent: 50}\n";

    fn r14(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn ejection_with_flags_and_config_is_a_warning_with_the_values() {
        let snap = SnapBuilder::new()
            .istio(DR)
            .cluster(INV, |c| {
                c.clients(&[ORDER_A, ORDER_B])
                    .counter("upstream_rq_total", 600)
                    .counter("upstream_rq_5xx", 12)
                    .counter(ENFORCED, 2)
                    .gauge(ACTIVE, 1.0)
                    .gauge("membership_total", 3.0)
                    .gauge("membership_healthy", 2.0)
                    // The other client has not ejected the host (yet).
                    .with(|c| {
                        if let Some(g) = c.gauges.get_mut("membership_healthy") {
                            g.max = 3.0;
                        }
                    })
                    .endpoints(3, 2, 1, &["10.4.1.2:8080 /failed_outlier_check"])
            })
            .build();
        let f = r14(&snap);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: outlier detection ejected 1 of 3 endpoints (2 ejections in 30s)"
        );
        let ev = |name: &str| f.evidence.iter().find(|e| e.name == name).unwrap();
        assert_eq!(ev(ACTIVE).value, "max 1 over 2 pods");
        assert_eq!(ev(ENFORCED).number, Some(2.0));
        assert_eq!(
            ev("/clusters health_flags").value,
            "10.4.1.2:8080 /failed_outlier_check"
        );
        assert_eq!(ev("upstream_rq_5xx").number, Some(12.0));
        assert_eq!(
            ev("membership_healthy / membership_total").value,
            "2–3 of 3 healthy over 2 pods"
        );
        let src = "DestinationRule prod/inventory-svc trafficPolicy.outlierDetection.";
        assert_eq!(ev(&format!("{src}consecutive5xxErrors")).value, "5");
        assert_eq!(ev(&format!("{src}interval")).value, "10s");
        assert_eq!(ev(&format!("{src}baseEjectionTime")).value, "30s");
        assert_eq!(ev(&format!("{src}maxEjectionPercent")).value, "50%");
        assert!(f.cause.contains("after 5 consecutive 5xx"), "{}", f.cause);
        assert_eq!(
            f.next_steps[0].command.as_deref(),
            Some(
                "istioctl proxy-config endpoint order-svc-7d9f8c-a1b2c.prod --cluster \"outbound|8080||inventory-svc.prod.svc.cluster.local\""
            )
        );
        assert_eq!(
            f.next_steps[1].command.as_deref(),
            Some("kubectl get pods -n prod -o wide --field-selector status.podIP=10.4.1.2")
        );
        assert_eq!(
            f.next_steps[2].command.as_deref(),
            Some("kubectl get destinationrule -n prod inventory-svc -o yaml")
        );
    }

    #[test]
    fn clusters_flags_alone_are_info() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.endpoints(3, 2, 1, &["10.4.1.2:8080 /failed_outlier_check"])
            })
            .build();
        let f = r14(&snap);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(
            f[0].title,
            "inventory-svc.prod:8080: outlier detection ejected 1 of 3 endpoints"
        );
        assert!(f[0].cause.contains("no DestinationRule outlierDetection"));
    }

    #[test]
    fn quiet_without_ejections_and_when_r17_owns_it() {
        let snap = SnapBuilder::new()
            .istio(DR)
            .cluster(INV, |c| {
                c.counter(ENFORCED, 0)
                    .gauge(ACTIVE, 0.0)
                    .endpoints(3, 3, 0, &[])
            })
            .build();
        assert!(r14(&snap).is_empty());
        // Every host ejected and calls failing with UH: R17 reports it.
        let snap = SnapBuilder::new()
            .istio(DR)
            .cluster(INV, |c| {
                c.counter("upstream_cx_none_healthy", 9)
                    .gauge(ACTIVE, 1.0)
                    .endpoints(1, 0, 1, &["10.4.1.2:8080 /failed_outlier_check"])
            })
            .build();
        assert!(r14(&snap).is_empty());
    }
}
