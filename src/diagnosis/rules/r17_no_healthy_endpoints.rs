//! R17: calls found endpoints but none healthy (HINTS.md R17) — every host ejected by outlier
//! detection or failing EDS health (pods not ready), so Envoy answers 503 UH.
//!
//! Also home of [`no_healthy`], the facts R16, R17 and R25 share. They split one situation
//! into exactly one finding: TCP clusters go to R25, clusters known to have no endpoint at
//! all to R16, everything else (endpoints present, or membership not collected) to R17.
//!
//! Signals: Δ`upstream_cx_none_healthy` on the cluster, and the service's `503 UH` responses
//! (reporter=source). `istio_requests_total` has no subset, so the UH series sits on one
//! cluster of the service; it is credited to this cluster only when its own counter moved,
//! or when that counter was not collected and no endpoint of this cluster is healthy.

use super::Rule;
use super::r14_outlier_ejection::outlier_evidence;
use super::r25_tcp_no_healthy::is_tcp;
use crate::diagnosis::{Context, Evidence, EvidenceKind, Finding, NextStep, Reporter, Severity};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R17",
    name: "No healthy endpoint",
    check,
};

pub(super) const NONE_HEALTHY: &str = "upstream_cx_none_healthy";

/// Calls to a cluster that found no healthy host, and what its endpoints look like.
pub(super) struct NoHealthy {
    /// Δ`upstream_cx_none_healthy`, when it moved.
    pub counter: Option<u64>,
    /// The service's UH responses credited to this cluster.
    pub flagged: Option<u64>,
    /// `(total, healthy)` endpoints, when collected.
    pub membership: Option<(u64, u64)>,
    /// The cluster carries TCP, not HTTP (see [`is_tcp`]).
    pub tcp: bool,
}

impl NoHealthy {
    /// Calls that failed: the larger of the two signals (they count the same calls).
    pub fn failed(&self) -> u64 {
        self.counter.unwrap_or(0).max(self.flagged.unwrap_or(0))
    }

    /// R16's case: the cluster is known to have no endpoint at all.
    pub fn no_endpoints(&self) -> bool {
        matches!(self.membership, Some((0, _)))
    }

    /// Independent signals: the counter and the flag.
    pub fn signals(&self) -> usize {
        usize::from(self.counter.is_some()) + usize::from(self.flagged.is_some())
    }
}

/// The no-healthy-host facts of `c`, when calls to it failed that way in the window.
pub(super) fn no_healthy<'a>(ctx: &Context<'a>, c: &'a ClusterSnapshot) -> Option<NoHealthy> {
    let counter = ctx.moved(c, NONE_HEALTHY);
    let membership = ctx.membership(c);
    let none_healthy_now = membership.is_some_and(|(_, healthy)| healthy == 0);
    let credited =
        counter.is_some() || (ctx.counter(c, NONE_HEALTHY).is_none() && none_healthy_now);
    let series = ctx.service_series(c);
    let flagged = credited
        .then(|| ctx.flagged(series, Reporter::Client, "UH"))
        .flatten();
    if counter.is_none() && flagged.is_none() {
        return None;
    }
    Some(NoHealthy {
        counter,
        flagged,
        membership,
        tcp: is_tcp(ctx, c),
    })
}

/// Critical when the failed calls are at least `critical_share` of the calls to the cluster
/// (served + failed; UH calls never reach `upstream_rq_total`), else a warning.
pub(super) fn failure_severity(ctx: &Context<'_>, c: &ClusterSnapshot, failed: u64) -> Severity {
    let served = ctx.requests_total(c).unwrap_or(0);
    let series = ctx.service_series(c).requests.iter();
    let attempted: u64 = series.map(|r| r.window.increase).sum();
    let total = served.saturating_add(failed).max(attempted);
    let share = failed as f64 / total.max(1) as f64;
    match share >= ctx.thresholds.critical_share {
        true => Severity::Critical,
        false => Severity::Warning,
    }
}

/// The counter, the UH flag and the endpoint counts as evidence.
pub(super) fn failure_evidence(
    ctx: &Context<'_>,
    c: &ClusterSnapshot,
    nh: &NoHealthy,
) -> Vec<Evidence> {
    let mut out = Vec::new();
    if nh.counter.is_some() {
        out.extend(ctx.counter_evidence(c, NONE_HEALTHY));
    }
    if nh.flagged.is_some() {
        let series = ctx.service_series(c);
        out.extend(
            ctx.flag_evidence(series, Reporter::Client, "UH")
                .map(|mut e| {
                    e.name = format!("{} for service {}", e.name, series.label);
                    e
                }),
        );
    }
    out.extend(ctx.membership_evidence(c));
    out
}

/// `istioctl proxy-config endpoint POD.NS --cluster "…"`.
pub(super) fn endpoint_step(ctx: &Context<'_>, c: &ClusterSnapshot, what: &str) -> NextStep {
    NextStep::run(
        what,
        ctx.istioctl_pc(c, "endpoint", "--cluster \"{cluster}\""),
    )
}

/// `kubectl get endpointslices -n NS -l kubernetes.io/service-name=SVC`.
pub(super) fn endpointslices_step(ctx: &Context<'_>, c: &ClusterSnapshot) -> NextStep {
    let (svc, ns) = ctx.service_of(c);
    NextStep::run(
        format!("List the Service's endpoints and their readiness ({svc}.{ns})"),
        format!("kubectl get endpointslices -n {ns} -l kubernetes.io/service-name={svc}"),
    )
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams()
        .filter_map(|c| {
            let nh = no_healthy(ctx, c)?;
            (!nh.tcp && !nh.no_endpoints()).then(|| finding(ctx, c, &nh))
        })
        .collect()
}

fn finding(ctx: &Context<'_>, c: &ClusterSnapshot, nh: &NoHealthy) -> Finding {
    let failed = nh.failed();
    let base = failure_severity(ctx, c, failed);
    let ejected = flagged_hosts(c, "/failed_outlier_check");
    let not_ready = flagged_hosts(c, "/failed_eds_health");
    let outlier = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.policy.outlier_detection.as_ref());
    let config_signal = usize::from(outlier.is_some() && ejected > 0);
    let mut f = ctx.cluster_finding(RULE.id, ctx.grade(base, nh.signals() + config_signal, 2), c);
    f.title = match nh.membership {
        Some((total, healthy)) => format!(
            "{}: {failed} calls failed with 503 UH — {healthy} of its {total} endpoints healthy",
            c.label
        ),
        None => format!(
            "{}: {failed} calls failed with 503 UH — no healthy endpoint",
            c.label
        ),
    };
    f.scope = ctx.scope(c, NONE_HEALTHY);
    f.evidence = failure_evidence(ctx, c, nh);
    f.evidence.extend(unhealthy_evidence(c));
    if let Some(o) = outlier {
        f.evidence.push(outlier_evidence(
            "minHealthPercent",
            &o.min_health_percent,
            format!("{}%", o.min_health_percent.value),
        ));
        f.evidence.push(outlier_evidence(
            "maxEjectionPercent",
            &o.max_ejection_percent,
            format!("{}%", o.max_ejection_percent.value),
        ));
    }
    f.cause = cause(ejected, not_ready);
    f.next_steps = vec![
        endpoint_step(
            ctx,
            c,
            "See each endpoint's health (OUTLIER CHECK = FAILED: ejected)",
        ),
        endpointslices_step(ctx, c),
        ctx.destination_rule_step(c),
    ];
    f
}

/// Hosts in `/clusters` carrying `flag`.
fn flagged_hosts(c: &ClusterSnapshot, flag: &str) -> usize {
    c.endpoints.as_ref().map_or(0, |e| {
        e.unhealthy.iter().filter(|h| h.contains(flag)).count()
    })
}

/// The unhealthy hosts with their flags, as `/clusters` lists them.
fn unhealthy_evidence(c: &ClusterSnapshot) -> Option<Evidence> {
    let e = c.endpoints.as_ref().filter(|e| !e.unhealthy.is_empty())?;
    Some(Evidence {
        kind: EvidenceKind::Endpoint,
        name: "/clusters health_flags".into(),
        value: e.unhealthy.join(", "),
        number: Some(e.unhealthy.len() as f64),
        effective: None,
    })
}

fn cause(ejected: usize, not_ready: usize) -> String {
    let why = match (ejected > 0, not_ready > 0) {
        (true, _) => format!(
            "{ejected} endpoint(s) are ejected by outlier detection (`/failed_outlier_check`): \
             with one or two replicas Envoy still ejects at least one host whatever \
             maxEjectionPercent says"
        ),
        (false, true) => format!(
            "{not_ready} endpoint(s) fail EDS health (`/failed_eds_health`): the pods are not \
             ready"
        ),
        (false, false) => "every endpoint is ejected by outlier detection or failing EDS \
                           health (pods not ready)"
            .to_string(),
    };
    format!(
        "The cluster has endpoints but none is healthy, so Envoy answers 503 UH (no healthy \
         upstream) without trying: {why}. Check the DestinationRule's outlierDetection (few \
         replicas + consecutive5xxErrors eject everything) and minHealthPercent (0 = never fall \
         back to all hosts), and the pods' readiness."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::testkit::*;
    use crate::diagnosis::{Thresholds, evaluate_with};

    const OUTLIER: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  host: inventory-svc\n\
        \x20 trafficPolicy:\n    outlierDetection: {consecutive5xxErrors: 1, maxEjectionPercent: 100}\n";

    fn r17(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn all_endpoints_ejected_with_uh_and_counter_is_critical() {
        let snap = SnapBuilder::new()
            .istio(OUTLIER)
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 100)
                    .counter(NONE_HEALTHY, 40)
                    .flag("200", "-", 100)
                    .flag("503", "UH", 40)
                    .gauge("membership_total", 2.0)
                    .gauge("membership_healthy", 0.0)
                    .endpoints(
                        2,
                        0,
                        2,
                        &[
                            "10.4.0.7:8080 /failed_outlier_check",
                            "10.4.0.8:8080 /failed_outlier_check",
                        ],
                    )
            })
            .build();
        let f = r17(&snap);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 40 calls failed with 503 UH — 0 of its 2 endpoints healthy"
        );
        let ev = |name: &str| f.evidence.iter().find(|e| e.name == name).unwrap();
        assert_eq!(ev(NONE_HEALTHY).number, Some(40.0));
        assert_eq!(
            ev("UH (503, reporter=source) for service inventory-svc.prod:8080").number,
            Some(40.0)
        );
        assert_eq!(
            ev("membership_healthy / membership_total").value,
            "0 of 2 healthy"
        );
        assert_eq!(ev("/clusters health_flags").number, Some(2.0));
        assert_eq!(
            ev("DestinationRule prod/inventory-svc trafficPolicy.outlierDetection.maxEjectionPercent").value,
            "100%"
        );
        assert_eq!(
            ev("outlierDetection.minHealthPercent (Istio default)").value,
            "0%"
        );
        assert!(f.cause.contains("2 endpoint(s) are ejected"), "{}", f.cause);
        assert_eq!(
            f.next_steps[0].command.as_deref(),
            Some(
                "istioctl proxy-config endpoint order-svc-7d9f8c-a1b2c.prod --cluster \"outbound|8080||inventory-svc.prod.svc.cluster.local\""
            )
        );
        assert_eq!(
            f.next_steps[1].command.as_deref(),
            Some("kubectl get endpointslices -n prod -l kubernetes.io/service-name=inventory-svc")
        );
    }

    #[test]
    fn flag_only_with_pods_not_ready_is_a_warning() {
        // Cluster stats not collected: the UH series and /clusters are all there is.
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.flag("503", "UH", 30)
                    .endpoints(3, 0, 0, &["10.4.0.7:8080 /failed_eds_health"])
            })
            .build();
        let f = r17(&snap);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].title,
            "inventory-svc.prod:8080: 30 calls failed with 503 UH — 0 of its 3 endpoints healthy"
        );
        assert_eq!(
            f[0].evidence
                .iter()
                .find(|e| e.name == "/clusters endpoints (healthy / total)")
                .unwrap()
                .value,
            "0 of 3 healthy"
        );
        assert!(
            f[0].cause.contains("1 endpoint(s) fail EDS health"),
            "{}",
            f[0].cause
        );
    }

    #[test]
    fn quiet_when_healthy_hosts_exist_or_nothing_failed() {
        // UH on the service, but this cluster's counter is collected and zero: not this one.
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter(NONE_HEALTHY, 0)
                    .flag("503", "UH", 30)
                    .endpoints(3, 0, 0, &[])
            })
            .build();
        assert!(r17(&snap).is_empty());
        // Healthy endpoints and a UH flag without the counter: the UH came from elsewhere.
        let snap = SnapBuilder::new()
            .cluster(INV, |c| c.flag("503", "UH", 30).endpoints(3, 3, 0, &[]))
            .build();
        assert!(r17(&snap).is_empty());
        // All unhealthy but no call failed.
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 0).endpoints(3, 0, 3, &[])
            })
            .build();
        assert!(
            evaluate_with(&snap, &Thresholds::default())
                .iter()
                .all(|f| f.rule != "R17")
        );
    }
}
