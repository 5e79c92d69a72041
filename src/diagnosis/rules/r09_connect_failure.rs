//! R9: connects to the upstream fail without timing out (HINTS.md R9): refused or reset at
//! connect — the app does not listen on the target port, listens on localhost only (IST0143),
//! a wrong port mapping, or an mTLS mismatch. Counted as Δ`upstream_cx_connect_fail` minus
//! Δ`upstream_cx_connect_timeout` (Envoy counts a connect timeout as a connect failure too,
//! and R8 reports those). Without cluster stats it falls back, one level lower, on UF
//! responses and `/clusters` `cx_connect_fail` (which cannot tell timeouts from refusals).
//! When TLS is implicated the finding points to R10 and is one level lower.

use super::Rule;
use super::r10_tls_mismatch::tls_implicated;
use crate::diagnosis::{Context, Evidence, Finding, NextStep, Reporter, Severity, human_ms};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R9",
    name: "Upstream connect failure",
    check,
};

const FAIL: &str = "upstream_cx_connect_fail";
const TIMEOUT: &str = "upstream_cx_connect_timeout";
const HOSTS_FAIL: &str = "hosts.cx_connect_fail";

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams()
        .filter_map(|c| connect_failure(ctx, c))
        .collect()
}

/// Failed connects and whether the cluster stats could separate them from timeouts.
struct Failed {
    connects: u64,
    collected: bool,
}

fn failed_connects(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Failed> {
    let min = ctx.thresholds.min_events.max(1);
    match ctx.counter(c, FAIL) {
        Some(w) => {
            let timeouts = ctx.counter(c, TIMEOUT).map_or(0, |t| t.increase);
            let refused = w.increase.saturating_sub(timeouts);
            (refused >= min).then_some(Failed {
                connects: refused,
                collected: true,
            })
        }
        None => {
            let hosts = ctx.moved(c, HOSTS_FAIL);
            let uf = ctx.flagged(c, Reporter::Client, "UF");
            hosts.max(uf).map(|connects| Failed {
                connects,
                collected: false,
            })
        }
    }
}

fn connect_failure(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let failed = failed_connects(ctx, c)?;
    let uf = ctx.flagged(c, Reporter::Client, "UF");
    let base = match uf {
        Some(n) => ctx.share_severity(c, n),
        None => Severity::Warning,
    };
    let counted = failed.collected || ctx.moved(c, HOSTS_FAIL).is_some();
    let signals = usize::from(counted) + usize::from(uf.is_some());
    let tls = tls_implicated(ctx, c);
    let mut severity = ctx.grade(base, signals, 2);
    if tls || !failed.collected {
        severity = severity.lowered();
    }
    let mut f = ctx.cluster_finding(RULE.id, severity, c);
    f.title = title(ctx, c, &failed, uf, tls);
    (f.pods, f.scope) = ctx.problem_pods(c, &[FAIL]);
    f.evidence = evidence(ctx, c);
    f.cause = cause(tls);
    f.next_steps = steps(ctx, c, &f.pods);
    Some(f)
}

fn title(
    ctx: &Context<'_>,
    c: &ClusterSnapshot,
    failed: &Failed,
    uf: Option<u64>,
    tls: bool,
) -> String {
    let window = human_ms(ctx.snap.window_seconds * 1000.0);
    let what = match failed.collected {
        true => format!(
            "{} connects refused or reset (not timeouts)",
            failed.connects
        ),
        false => format!(
            "{} connect failures (cluster stats not collected: timeouts and refusals look alike)",
            failed.connects
        ),
    };
    let uf = uf.map_or(String::new(), |n| format!("; {n} calls failed with UF"));
    let tls = if tls {
        "; TLS is implicated, see R10"
    } else {
        ""
    };
    format!("{}: {what} in {window}{uf}{tls}", c.label)
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<Evidence> {
    let mut ev: Vec<Evidence> = Vec::new();
    ev.extend(ctx.counter_evidence(c, FAIL));
    ev.extend(ctx.counter_evidence(c, TIMEOUT));
    if ctx.moved(c, HOSTS_FAIL).is_some() {
        ev.extend(ctx.counter_evidence(c, HOSTS_FAIL));
    }
    ev.extend(ctx.flag_evidence(c, Reporter::Client, "UF"));
    if let Some(e) = &c.endpoints {
        ev.push(Evidence {
            kind: crate::diagnosis::EvidenceKind::Endpoint,
            name: "endpoints (/clusters)".into(),
            value: format!("{} of {} healthy", e.healthy, e.total),
            number: Some(e.healthy as f64),
            effective: None,
        });
    }
    ev
}

fn cause(tls: bool) -> String {
    let tls = match tls {
        true => {
            " TLS is implicated here (a DestinationRule tls.mode override or TLS handshake \
             errors): see R10 first."
        }
        false => "",
    };
    format!(
        "The upstream refused or reset the connection as it opened: the app does not listen on \
         the Service's targetPort, listens on localhost only (istioctl analyze IST0143 \
         LocalhostListener), the port is mapped or named wrong (IST0118), or the sidecars \
         disagree on mTLS (Kiali's UF help: \"check for mutual TLS configuration \
         conflict\").{tls}"
    )
}

fn steps(ctx: &Context<'_>, c: &ClusterSnapshot, pods: &[String]) -> Vec<NextStep> {
    let pod = pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    let (svc, ns) = ctx.service_of(c);
    vec![
        NextStep::run(
            "See which endpoints fail to connect (per-host cx_connect_fail)",
            ctx.istioctl_pc_on(&pod, c, "endpoint", "--cluster '{cluster}'"),
        ),
        NextStep::run(
            "Check the callee's ports, listeners and mTLS as Istio sees them",
            format!("istioctl x describe pod {}", ctx.callee_pod(c)),
        ),
        NextStep::run(
            "Run Istio's analyzers (IST0143, IST0118)",
            format!("istioctl analyze -n {ns}"),
        ),
        NextStep::run(
            "Compare the Service's targetPort and port names with the container ports",
            format!("kubectl get service -n {ns} {svc} -o yaml"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn refused_connects_with_uf_are_critical() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 400)
                    .counter(FAIL, 30)
                    .counter(TIMEOUT, 5)
                    .flag("200", "-", 380)
                    .flag("503", "UF", 20)
                    .server(&["inventory-svc-5c6d7-k8l9m"], "inbound|8080||")
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 25 connects refused or reset (not timeouts) in 30s; 20 \
             calls failed with UF"
        );
        assert_eq!(f.evidence[0].name, FAIL);
        assert_eq!(f.evidence[0].number, Some(30.0));
        assert_eq!(f.evidence[2].name, "UF (503, reporter=source)");
        assert!(f.cause.contains("IST0143"));
        assert_eq!(
            f.next_steps[1].command.as_deref(),
            Some("istioctl x describe pod inventory-svc-5c6d7-k8l9m.prod")
        );
        assert_eq!(
            f.next_steps[3].command.as_deref(),
            Some("kubectl get service -n prod inventory-svc -o yaml")
        );
    }

    #[test]
    fn without_cluster_stats_host_counters_give_a_lower_finding() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("hosts.rq_total", 400)
                    .counter(HOSTS_FAIL, 14)
                    .flag("200", "-", 390)
                    .flag("503", "UF", 10)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(
            f.severity,
            Severity::Warning,
            "critical share, lowered once: not collected"
        );
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 14 connect failures (cluster stats not collected: timeouts \
             and refusals look alike) in 30s; 10 calls failed with UF"
        );
        assert_eq!(f.evidence[0].name, HOSTS_FAIL);
    }

    #[test]
    fn tls_override_points_to_r10() {
        let snap = SnapBuilder::new()
            .istio(
                "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: inventory-svc, namespace: prod}\n\
                 spec:\n  host: inventory-svc\n  trafficPolicy:\n    tls: {mode: SIMPLE}\n",
            )
            .cluster(INV, |c| c.counter("upstream_rq_total", 100).counter(FAIL, 10).counter(TIMEOUT, 0))
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert!(found[0].title.ends_with("; TLS is implicated, see R10"));
        assert!(found[0].cause.contains("see R10"));
    }

    #[test]
    fn quiet_when_all_failures_are_timeouts_or_zero() {
        let timeouts = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter(FAIL, 6).counter(TIMEOUT, 6).flag("503", "UF", 6)
            })
            .build();
        assert!(run(&timeouts).is_empty(), "R8's");
        let zero = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter(FAIL, 0)
                    .counter(HOSTS_FAIL, 0)
                    .flag("200", "-", 50)
            })
            .build();
        assert!(run(&zero).is_empty());
    }
}
