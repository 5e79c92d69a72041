//! R25: TCP connections found no healthy upstream (HINTS.md R25) — R16/R17 for TCP proxying,
//! where there is no HTTP response and so no UH flag: only Δ`upstream_cx_none_healthy`.
//!
//! Which clusters are TCP ([`is_tcp`]): the snapshot has no Service port names, so meshtop
//! decides from what it has, in this order — a VirtualService `tcp`/`tls` route to the
//! cluster means TCP, an `http` route means HTTP; `istio_requests_total` series for the
//! service, or requests counted on the cluster, mean HTTP; otherwise, when request series
//! were collected in this snapshot at all and none exists for the service, it is TCP (an
//! HTTP call that finds no host still leaves a `503 UH` series). Unknown (no series
//! collected anywhere) counts as HTTP, so R16/R17 report it.

use super::Rule;
use super::r17_no_healthy_endpoints::{
    NONE_HEALTHY, endpoint_step, endpointslices_step, failure_evidence, no_healthy,
};
use crate::diagnosis::{Context, Finding, NextStep, Severity};
use crate::istio::RouteProtocol;
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R25",
    name: "No healthy upstream for TCP",
    check,
};

/// True when `c` carries TCP rather than HTTP (see the module header for the order).
pub(super) fn is_tcp(ctx: &Context<'_>, c: &ClusterSnapshot) -> bool {
    let routes = c
        .config
        .as_ref()
        .map_or(&[][..], |cfg| &cfg.policy.routes[..]);
    if let Some(r) = routes.first() {
        return r.protocol != RouteProtocol::Http;
    }
    if !ctx.service_series(c).requests.is_empty() {
        return false;
    }
    let counted = ["upstream_rq_total", "hosts.rq_total"]
        .iter()
        .any(|stat| c.increase(stat).is_some_and(|n| n > 0));
    if counted {
        return false;
    }
    // An HTTP call that finds no host still leaves a `503 UH` series: none at all for this
    // service, while series were collected, means TCP.
    let proxies = ctx.snap.proxies.iter();
    ctx.snap.clusters.iter().any(|o| !o.requests.is_empty())
        || proxies.into_iter().any(|p| p.outbound_requests.is_some())
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams()
        .filter_map(|c| {
            let nh = no_healthy(ctx, c).filter(|nh| nh.tcp)?;
            Some(finding(ctx, c, &nh))
        })
        .collect()
}

fn finding(
    ctx: &Context<'_>,
    c: &ClusterSnapshot,
    nh: &super::r17_no_healthy_endpoints::NoHealthy,
) -> Finding {
    let failed = nh.failed();
    let opened = c.increase("upstream_cx_total").unwrap_or(0);
    let share = failed as f64 / opened.saturating_add(failed).max(1) as f64;
    let base = match share >= ctx.thresholds.critical_share {
        true => Severity::Critical,
        false => Severity::Warning,
    };
    // The counter is the only signal TCP has; endpoint counts that explain it make two.
    let signals = nh.signals() + usize::from(nh.membership.is_some());
    let mut f = ctx.cluster_finding(RULE.id, ctx.grade(base, signals, 2), c);
    let state = match nh.membership {
        Some((0, _)) => "the cluster has no endpoints".to_string(),
        Some((total, healthy)) => format!("{healthy} of its {total} endpoints healthy"),
        None => "no healthy endpoint".to_string(),
    };
    f.title = format!(
        "{}: {failed} TCP connections found no healthy upstream — {state}",
        c.label
    );
    f.scope = ctx.scope(c, NONE_HEALTHY);
    f.evidence = failure_evidence(ctx, c, nh);
    if opened > 0 {
        f.evidence
            .extend(ctx.counter_evidence(c, "upstream_cx_total"));
    }
    f.cause = format!(
        "Like 503 UH for HTTP, but for TCP proxying: the client sidecar closes the connection \
         at once because the cluster has {}. No endpoints: the Service selector or the \
         DestinationRule subset labels match no ready pod (IST0173, KIA0203; DR host IST0174, \
         KIA0202). Endpoints but none healthy: outlier detection ejected them (few replicas, \
         minHealthPercent 0) or the pods are not ready.",
        match nh.membership {
            Some((0, _)) => "no endpoint",
            _ => "no healthy endpoint",
        }
    );
    let (_, ns) = ctx.service_of(c);
    f.next_steps = vec![
        endpoint_step(
            ctx,
            c,
            "List the endpoints Envoy has for the cluster (empty or unhealthy)",
        ),
        endpointslices_step(ctx, c),
        ctx.destination_rule_step(c),
        NextStep::run(
            "Let Istio check selectors and subsets",
            format!("istioctl analyze -n {ns}"),
        ),
    ];
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

    const DB: &str = "outbound|5432||orders-db.prod.svc.cluster.local";

    fn r25(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn tcp_database_without_endpoints_is_critical() {
        // Series were collected (for inventory), none for orders-db: TCP.
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 300).flag("200", "-", 300)
            })
            .cluster(DB, |c| {
                c.counter(NONE_HEALTHY, 12)
                    .counter("upstream_cx_total", 0)
                    .gauge("membership_total", 0.0)
                    .gauge("membership_healthy", 0.0)
            })
            .build();
        let f = r25(&snap);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "orders-db.prod:5432: 12 TCP connections found no healthy upstream — the cluster has no endpoints"
        );
        assert_eq!(f.evidence[0].name, NONE_HEALTHY);
        assert_eq!(f.evidence[0].value, "+12 in 30s (0.40/s)");
        assert_eq!(f.evidence[1].value, "0 of 0 healthy");
        assert_eq!(
            f.next_steps[1].command.as_deref(),
            Some("kubectl get endpointslices -n prod -l kubernetes.io/service-name=orders-db")
        );
        assert_eq!(
            f.next_steps[3].command.as_deref(),
            Some("istioctl analyze -n prod")
        );
    }

    #[test]
    fn tcp_route_decides_and_a_small_counter_alone_is_info() {
        let vs = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: db, namespace: prod}\n\
                  spec:\n  hosts: [orders-db]\n  tcp:\n  - route: [{destination: {host: orders-db}}]\n";
        let snap = SnapBuilder::new()
            .istio(vs)
            .cluster(DB, |c| {
                c.counter(NONE_HEALTHY, 3)
                    .counter("upstream_cx_total", 1000)
            })
            .build();
        let f = r25(&snap);
        assert_eq!(f.len(), 1);
        // 3 of 1003 connections (< 1 %) and a single signal.
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(
            f[0].title,
            "orders-db.prod:5432: 3 TCP connections found no healthy upstream — no healthy endpoint"
        );
    }

    #[test]
    fn quiet_for_http_and_when_nothing_failed() {
        // HTTP: UH series on the service → R16/R17, not R25.
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter(NONE_HEALTHY, 5)
                    .flag("503", "UH", 5)
                    .endpoints(0, 0, 0, &[])
            })
            .build();
        assert!(r25(&snap).is_empty());
        // TCP, counter collected and zero.
        let snap = SnapBuilder::new()
            .cluster(INV, |c| c.flag("200", "-", 5))
            .cluster(DB, |c| c.counter(NONE_HEALTHY, 0).endpoints(0, 0, 0, &[]))
            .build();
        assert!(r25(&snap).is_empty());
        // No series collected anywhere: protocol unknown, left to R16/R17.
        let snap = SnapBuilder::new()
            .cluster(DB, |c| c.counter(NONE_HEALTHY, 4).endpoints(1, 0, 1, &[]))
            .build();
        assert!(r25(&snap).is_empty());
    }
}
