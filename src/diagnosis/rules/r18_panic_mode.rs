//! R18: the load balancer is in panic mode (HINTS.md R18): Δ`lb_healthy_panic` > 0 — the
//! healthy share of the endpoints fell below the panic threshold, so Envoy spreads requests
//! over unhealthy hosts too.
//!
//! The threshold: Istio sets Envoy's `healthy_panic_threshold` to the DestinationRule's
//! `outlierDetection.minHealthPercent` when outlier detection is configured (default 0 =
//! panic mode off); without outlier detection Envoy's own default of 50 % applies. When
//! `lb_healthy_panic` was not collected, a healthy share below that threshold with traffic is
//! reported as an info ("probably in panic mode").

use super::Rule;
use super::r14_outlier_ejection::outlier_evidence;
use crate::diagnosis::{Context, Evidence, EvidenceKind, Finding, Severity};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R18",
    name: "Load balancer in panic mode",
    check,
};

const PANIC: &str = "lb_healthy_panic";
/// Envoy's `common_lb_config.healthy_panic_threshold` default, in percent.
const ENVOY_PANIC_PERCENT: u32 = 50;

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| finding(ctx, c)).collect()
}

/// The panic threshold in percent, with the evidence saying where it comes from.
fn threshold(c: &ClusterSnapshot) -> (u32, Evidence) {
    let outlier = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.policy.outlier_detection.as_ref());
    match outlier {
        Some(o) => {
            let p = o.min_health_percent.value;
            let text = match p {
                0 => "0% (panic mode disabled)".to_string(),
                p => format!("{p}%"),
            };
            (
                p,
                outlier_evidence("minHealthPercent", &o.min_health_percent, text),
            )
        }
        None => (
            ENVOY_PANIC_PERCENT,
            Evidence {
                kind: EvidenceKind::Config,
                name: "healthy_panic_threshold (Envoy default: no outlierDetection)".into(),
                value: format!("{ENVOY_PANIC_PERCENT}%"),
                number: Some(f64::from(ENVOY_PANIC_PERCENT)),
                effective: None,
            },
        ),
    }
}

fn finding(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let panics = ctx.moved(c, PANIC);
    let (limit, limit_evidence) = threshold(c);
    let membership = ctx.membership(c).filter(|(total, _)| *total > 0);
    let below = membership.filter(|(total, healthy)| {
        healthy.saturating_mul(100) < u64::from(limit).saturating_mul(*total)
    });
    let severity = match (panics, below) {
        (Some(_), Some(_)) => Severity::Warning,
        (Some(_), None) => Severity::Warning.lowered(),
        // Not collected: the endpoint counts alone suggest it.
        (None, Some(_)) if ctx.counter(c, PANIC).is_none() && ctx.has_traffic(c) => Severity::Info,
        _ => return None,
    };
    let mut f = ctx.cluster_finding(RULE.id, severity, c);
    f.title = title(c, panics, membership, below.is_some(), limit);
    f.scope = ctx.scope(c, PANIC);
    f.evidence = [ctx.counter_evidence(c, PANIC), ctx.membership_evidence(c)]
        .into_iter()
        .flatten()
        .collect();
    f.evidence.push(limit_evidence);
    f.cause = format!(
        "The healthy share of the endpoints fell below the panic threshold ({limit}%): Envoy \
         then load-balances across all hosts, healthy or not, so failing or ejected hosts get \
         traffic again. With outlier detection configured Istio uses \
         outlierDetection.minHealthPercent as the threshold (0 disables panic mode); without it \
         Envoy's default is 50%. Add replicas, fix the unhealthy pods, or tune minHealthPercent."
    );
    f.next_steps = vec![
        super::r17_no_healthy_endpoints::endpoint_step(
            ctx,
            c,
            "See which endpoints are unhealthy and why (health flags)",
        ),
        ctx.destination_rule_step(c),
    ];
    Some(f)
}

/// The title: the panic count (or "probably"), and the endpoint counts behind it.
fn title(
    c: &ClusterSnapshot,
    panics: Option<u64>,
    membership: Option<(u64, u64)>,
    below: bool,
    limit: u32,
) -> String {
    let share = match membership {
        Some((total, healthy)) if below => {
            format!(" — only {healthy} of {total} endpoints healthy")
        }
        Some((total, healthy)) => format!(" — now {healthy} of {total} endpoints healthy"),
        None => String::new(),
    };
    match panics {
        Some(n) => format!(
            "{}: load balancer in panic mode ({n} times){share}, so requests also go to unhealthy hosts",
            c.label
        ),
        None => format!(
            "{}: probably in panic mode{share}, below the {limit}% panic threshold",
            c.label
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

    fn r18(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    const MIN_HEALTH: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  host: inventory-svc\n\
        \x20 trafficPolicy:\n    outlierDetection: {consecutive5xxErrors: 5, minHealthPercent: 70}\n";

    #[test]
    fn panic_counter_and_low_healthy_share_is_a_warning() {
        let snap = SnapBuilder::new()
            .istio(MIN_HEALTH)
            .cluster(INV, |c| {
                c.counter(PANIC, 25)
                    .gauge("membership_total", 3.0)
                    .gauge("membership_healthy", 1.0)
            })
            .build();
        let f = r18(&snap);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: load balancer in panic mode (25 times) — only 1 of 3 endpoints healthy, so requests also go to unhealthy hosts"
        );
        assert_eq!(f.evidence[0].name, PANIC);
        assert_eq!(f.evidence[0].number, Some(25.0));
        assert_eq!(f.evidence[1].value, "1 of 3 healthy");
        assert_eq!(
            f.evidence[2].name,
            "DestinationRule prod/inventory-svc trafficPolicy.outlierDetection.minHealthPercent"
        );
        assert_eq!(f.evidence[2].value, "70%");
        assert!(f.cause.contains("(70%)"));
        assert_eq!(
            f.next_steps[0].command.as_deref(),
            Some(
                "istioctl proxy-config endpoint order-svc-7d9f8c-a1b2c.prod --cluster \"outbound|8080||inventory-svc.prod.svc.cluster.local\""
            )
        );
    }

    #[test]
    fn not_collected_counter_with_low_share_is_info() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| c.flag("200", "-", 50).endpoints(4, 1, 0, &[]))
            .build();
        let f = r18(&snap);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(
            f[0].title,
            "inventory-svc.prod:8080: probably in panic mode — only 1 of 4 endpoints healthy, below the 50% panic threshold"
        );
        assert_eq!(
            f[0].evidence.last().unwrap().name,
            "healthy_panic_threshold (Envoy default: no outlierDetection)"
        );
    }

    #[test]
    fn quiet_when_not_panicking() {
        // Collected and zero.
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter(PANIC, 0)
                    .flag("200", "-", 50)
                    .endpoints(4, 1, 0, &[])
            })
            .build();
        assert!(r18(&snap).is_empty());
        // minHealthPercent 0 (Istio's default with outlier detection): panic mode off.
        let dr = MIN_HEALTH.replace(", minHealthPercent: 70", "");
        let snap = SnapBuilder::new()
            .istio(&dr)
            .cluster(INV, |c| c.flag("200", "-", 50).endpoints(3, 2, 1, &[]))
            .build();
        assert!(r18(&snap).is_empty());
    }
}
