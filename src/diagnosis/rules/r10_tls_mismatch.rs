//! R10: TLS mismatch between a client sidecar and its upstream (HINTS.md R10). Fires on TLS
//! handshake errors (`ssl.connection_error`, `ssl.fail_verify_san`, `ssl.fail_verify_error`),
//! or on a DestinationRule `tls.mode` that overrides auto mTLS (`DISABLE`, `SIMPLE`, `MUTUAL`)
//! together with connection failures on the cluster. A plaintext client toward a STRICT server
//! has no `ssl.*` stats at all (no TLS on its side): the server closes every connection, so
//! the client sees 503 UC, `upstream_cx_destroy_remote_with_active_rq` and a new connection
//! per call. R9 and R11 defer to this rule when [`tls_override`] holds.

use super::Rule;
use crate::diagnosis::{Context, Evidence, Finding, NextStep, Reporter, Severity, human_ms};
use crate::istio::Sourced;
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R10",
    name: "TLS mismatch (DestinationRule tls vs mTLS)",
    check,
};

/// Client-side TLS error counters (absent when the cluster does not do TLS).
pub(super) const SSL_ERRORS: &[&str] = &[
    "ssl.connection_error",
    "ssl.fail_verify_san",
    "ssl.fail_verify_error",
];

/// Client-side counters of connections that failed or were closed under requests.
const FAILURE_COUNTERS: &[&str] = &[
    "upstream_cx_destroy_remote_with_active_rq",
    "upstream_cx_connect_fail",
    "upstream_rq_pending_failure_eject",
];

/// The DestinationRule TLS setting when it overrides Istio's auto mTLS for this cluster:
/// `DISABLE`, `SIMPLE` or `MUTUAL` set in an object (not `ISTIO_MUTUAL`, not a default).
pub(super) fn tls_override(c: &ClusterSnapshot) -> Option<&Sourced<Option<String>>> {
    let tls = &c.config.as_ref()?.policy.tls_mode;
    let mode = tls.value.as_deref()?;
    let overrides = matches!(mode, "DISABLE" | "SIMPLE" | "MUTUAL");
    (overrides && !tls.source.is_default()).then_some(tls)
}

/// TLS error counters that moved on the client side, with their increase.
pub(super) fn ssl_errors(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<(&'static str, u64)> {
    (SSL_ERRORS.iter())
        .filter_map(|&stat| ctx.moved(c, stat).map(|n| (stat, n)))
        .collect()
}

/// True when TLS explains connection failures on `c` (R9 and R11 point here instead).
pub(super) fn tls_implicated(ctx: &Context<'_>, c: &ClusterSnapshot) -> bool {
    tls_override(c).is_some() || !ssl_errors(ctx, c).is_empty()
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| mismatch(ctx, c)).collect()
}

/// What failed on the cluster: UC/UF responses and the failure counters that moved.
struct Failures {
    flags: Option<u64>,
    counters: Vec<(&'static str, u64)>,
}

impl Failures {
    fn of(ctx: &Context<'_>, c: &ClusterSnapshot) -> Self {
        let uc = ctx.flagged(c, Reporter::Client, "UC").unwrap_or(0);
        let uf = ctx.flagged(c, Reporter::Client, "UF").unwrap_or(0);
        let counters = (FAILURE_COUNTERS.iter())
            .filter_map(|&stat| ctx.moved(c, stat).map(|n| (stat, n)))
            .collect();
        Failures {
            flags: Some(uc + uf).filter(|&n| n > 0),
            counters,
        }
    }

    /// The failed calls: the flags when reported, else the largest counter.
    fn calls(&self) -> u64 {
        let counted = self.counters.iter().map(|(_, n)| *n).max().unwrap_or(0);
        self.flags.unwrap_or(counted)
    }
}

fn mismatch(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let ssl = ssl_errors(ctx, c);
    let tls = tls_override(c);
    let failures = Failures::of(ctx, c);
    let failing = failures.flags.is_some() || !failures.counters.is_empty();
    if ssl.is_empty() && !(tls.is_some() && failing) {
        return None;
    }
    let counted = !ssl.is_empty() || !failures.counters.is_empty();
    let signals =
        usize::from(tls.is_some()) + usize::from(failures.flags.is_some()) + usize::from(counted);
    let ssl_total: u64 = ssl.iter().map(|(_, n)| n).sum();
    let base = match failures.calls() {
        0 => Severity::Warning,
        n => ctx.share_severity(c, n),
    };
    let mut f = ctx.cluster_finding(RULE.id, ctx.grade(base, signals, 3), c);
    let mode = tls.and_then(|t| t.value.clone());
    f.title = title(ctx, c, mode.as_deref(), failures.calls(), ssl_total);
    let stats: Vec<&str> = failures.counters.iter().map(|(s, _)| *s).collect();
    (f.pods, f.scope) = ctx.problem_pods(c, &stats);
    f.evidence = evidence(ctx, c, tls, &ssl, &failures);
    f.cause = cause(mode.as_deref());
    f.next_steps = steps(ctx, c, &f.pods);
    Some(f)
}

fn title(
    ctx: &Context<'_>,
    c: &ClusterSnapshot,
    mode: Option<&str>,
    calls: u64,
    ssl: u64,
) -> String {
    let window = human_ms(ctx.snap.window_seconds * 1000.0);
    let failed = match ctx.requests_total(c) {
        Some(total) if calls > 0 => format!("{calls} of {} calls failed", total.max(calls)),
        _ if calls > 0 => format!("{calls} calls failed"),
        _ => format!("{ssl} TLS handshake errors"),
    };
    match mode {
        Some(mode) => format!(
            "{}: {failed} in {window}; its DestinationRule sets tls.mode {mode}, overriding Istio mTLS",
            c.label
        ),
        None => format!(
            "{}: {ssl} TLS handshake errors in {window} ({failed}): certificate or SAN mismatch",
            c.label
        ),
    }
}

fn evidence(
    ctx: &Context<'_>,
    c: &ClusterSnapshot,
    tls: Option<&Sourced<Option<String>>>,
    ssl: &[(&str, u64)],
    failures: &Failures,
) -> Vec<Evidence> {
    let mut ev: Vec<Evidence> = Vec::new();
    if let Some(t) = tls {
        let mode = t.value.as_deref().unwrap_or("-");
        ev.push(ctx.sourced_evidence(t, format!("tls.mode {mode}")));
    }
    ev.extend(
        ssl.iter()
            .filter_map(|(stat, _)| ctx.counter_evidence(c, stat)),
    );
    for flag in ["UC", "UF"] {
        if ctx.flagged(c, Reporter::Client, flag).is_some() {
            ev.extend(ctx.flag_evidence(c, Reporter::Client, flag));
        }
    }
    ev.extend((failures.counters.iter()).filter_map(|(stat, _)| ctx.counter_evidence(c, stat)));
    ev.extend(ctx.counter_evidence(c, "upstream_cx_total"));
    ev
}

fn cause(mode: Option<&str>) -> String {
    let what = match mode {
        Some("DISABLE") => {
            "The DestinationRule sets tls.mode DISABLE, so the client sidecar sends plaintext. A \
             server sidecar in STRICT mTLS has no plaintext filter chain and closes each \
             connection at once: the client sees 503 UC and a new connection per call, and no \
             ssl.* stats (it does no TLS); the server counts \
             listener.0.0.0.0_15006.no_filter_chain_match."
        }
        Some(_) => {
            "The DestinationRule sets tls.mode SIMPLE/MUTUAL, so the client originates TLS with \
             its own certificates instead of Istio's; a sidecar expecting ISTIO_MUTUAL rejects \
             the handshake (UF, ssl.connection_error), and a wrong caCertificates/SAN fails \
             verification (ssl.fail_verify_san)."
        }
        None => {
            "TLS handshakes to the upstream fail: the server presents a certificate the client \
             does not accept (wrong SAN or trust domain, other CA, expired), or one side does \
             not speak the TLS the other expects."
        }
    };
    format!(
        "{what} Remove the DestinationRule's tls section (auto mTLS picks ISTIO_MUTUAL) or use \
         ISTIO_MUTUAL, and compare with the PeerAuthentication mode; such errors typically start \
         right after a DestinationRule change. Look up istioctl analyze IST0128/IST0129, Kiali \
         KIA0205–KIA0208, KIA0401, KIA0501, KIA0505, KIA0506, and istio.io \"503 errors after \
         setting destination rule\"."
    )
}

fn steps(ctx: &Context<'_>, c: &ClusterSnapshot, pods: &[String]) -> Vec<NextStep> {
    let pod = pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    let (_, ns) = ctx.service_of(c);
    vec![
        ctx.cluster_step(
            &pod,
            c,
            "Check the transportSocket Envoy uses toward the upstream",
        ),
        ctx.destination_rule_step(c),
        NextStep::run(
            "Check the mTLS mode the server expects (PeerAuthentication)",
            format!(
                "kubectl get peerauthentication -n {ns} -o yaml; kubectl get peerauthentication -n istio-system -o yaml"
            ),
        ),
        NextStep::run(
            "See how the callee's traffic is secured",
            format!("istioctl x describe pod {}", ctx.callee_pod(c)),
        ),
        NextStep::run(
            "Run Istio's analyzers (IST0128, IST0129)",
            format!("istioctl analyze -n {ns}"),
        ),
        NextStep::run(
            "Check the client's certificates",
            ctx.istioctl_pc_on(&pod, c, "secret", ""),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::testkit::*;
    use crate::diagnosis::{Thresholds, evaluate};

    const PRICING: &str = "outbound|8080|v2|pricing-svc.prod.svc.cluster.local";
    const DR_DISABLE: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
        metadata: {name: pricing-svc, namespace: prod}\nspec:\n  host: pricing-svc\n\
        \x20 trafficPolicy:\n    tls: {mode: DISABLE}\n  subsets:\n  - {name: v2, labels: {version: v2}}\n";

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn plaintext_to_strict_is_critical_with_the_dr_quoted() {
        let snap = SnapBuilder::new()
            .istio(DR_DISABLE)
            .cluster(PRICING, |c| {
                c.counter("upstream_rq_total", 300)
                    .counter("upstream_cx_total", 300)
                    .counter("upstream_cx_destroy_remote_with_active_rq", 300)
                    .counter("upstream_cx_connect_fail", 0)
                    .counter("ssl.connection_error", 0)
                    .flag("503", "UC", 298)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "pricing-svc.prod:8080 v2: 298 of 300 calls failed in 30s; its DestinationRule sets \
             tls.mode DISABLE, overriding Istio mTLS"
        );
        assert_eq!(
            f.evidence[0].name,
            "DestinationRule prod/pricing-svc trafficPolicy.tls.mode"
        );
        assert_eq!(f.evidence[0].value, "tls.mode DISABLE");
        assert_eq!(f.evidence[1].name, "UC (503, reporter=source)");
        assert_eq!(f.evidence[1].number, Some(298.0));
        assert_eq!(
            f.evidence[2].name,
            "upstream_cx_destroy_remote_with_active_rq"
        );
        assert!(f.cause.contains("IST0128") && f.cause.contains("KIA0501"));
        assert_eq!(
            f.next_steps[0].command.as_deref(),
            Some(
                "istioctl proxy-config cluster order-svc-7d9f8c-a1b2c.prod --fqdn \
                 pricing-svc.prod.svc.cluster.local --subset v2 -o json"
            )
        );
        assert_eq!(
            f.next_steps[1].command.as_deref(),
            Some("kubectl get destinationrule -n prod pricing-svc -o yaml")
        );
        assert_eq!(
            f.next_steps[3].command.as_deref(),
            Some(
                "istioctl x describe pod $(kubectl get pod -n prod -l app=pricing-svc -o name \
                 | head -n1 | cut -d/ -f2).prod"
            )
        );
        // R11 and R9 stay out of it.
        let all = evaluate(&snap);
        assert!(
            all.iter().all(|f| f.rule != "R11" && f.rule != "R9"),
            "{all:?}"
        );
    }

    #[test]
    fn flags_alone_with_the_dr_are_a_warning() {
        let snap = SnapBuilder::new()
            .istio(DR_DISABLE)
            .cluster(PRICING, |c| c.flag("503", "UC", 40))
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn handshake_errors_without_dr_override_are_reported_lower() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 1000)
                    .counter("ssl.fail_verify_san", 25)
                    .counter("upstream_cx_connect_fail", 25)
                    .flag("503", "UF", 25)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Warning, "critical only with the DR");
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 25 TLS handshake errors in 30s (25 of 1000 calls failed): \
             certificate or SAN mismatch"
        );
        assert_eq!(f.evidence[0].name, "ssl.fail_verify_san");
    }

    #[test]
    fn quiet_without_failures_or_without_override() {
        let healthy = SnapBuilder::new()
            .istio(DR_DISABLE)
            .cluster(PRICING, |c| {
                c.counter("upstream_rq_total", 300)
                    .counter("upstream_cx_destroy_remote_with_active_rq", 0)
                    .flag("200", "-", 300)
            })
            .build();
        assert!(run(&healthy).is_empty());
        let keepalive = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_cx_destroy_remote_with_active_rq", 3)
                    .flag("503", "UC", 3)
            })
            .build();
        assert!(run(&keepalive).is_empty(), "UC without TLS config is R11's");
    }
}
