//! R23: a connection or stream duration limit cut requests (HINTS.md R23): DT (max connection
//! duration reached) or UMSDR (upstream max stream duration reached) responses on either side,
//! with Δ`upstream_cx_max_duration_reached` / `upstream_rq_max_duration_reached` when collected.
//! Quoted: the DestinationRule's `connectionPool.tcp.maxConnectionDuration` when set.

use std::time::Duration;

use super::Rule;
use crate::diagnosis::{Context, Evidence, Finding, NextStep, Reporter, human_ms};
use crate::istio::Sourced;
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R23",
    name: "Max connection or stream duration reached",
    check,
};

const FLAGS: &[&str] = &["DT", "UMSDR"];
const COUNTERS: &[&str] = &[
    "upstream_cx_max_duration_reached",
    "upstream_rq_max_duration_reached",
];

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams()
        .filter_map(|c| duration_limit(ctx, c))
        .collect()
}

/// Responses with a duration flag: (flag, side, count) for those that moved.
fn flagged(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<(&'static str, Reporter, u64)> {
    let mut hits = Vec::new();
    for &flag in FLAGS {
        for side in [Reporter::Client, Reporter::Server] {
            if let Some(n) = ctx.flagged(c, side, flag) {
                hits.push((flag, side, n));
            }
        }
    }
    hits
}

/// The DestinationRule's `maxConnectionDuration` when one is set.
fn duration_setting(c: &ClusterSnapshot) -> Option<&Sourced<Option<Duration>>> {
    let d = &c.config.as_ref()?.policy.max_connection_duration;
    d.value.is_some().then_some(d)
}

fn duration_limit(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let hits = flagged(ctx, c);
    let counters: Vec<&str> = (COUNTERS.iter().copied())
        .filter(|stat| ctx.moved(c, stat).is_some())
        .collect();
    let side_total =
        |side: Reporter| -> u64 { hits.iter().filter(|h| h.1 == side).map(|h| h.2).sum() };
    let failed = side_total(Reporter::Client).max(side_total(Reporter::Server));
    if failed == 0 {
        return None;
    }
    let setting = duration_setting(c);
    let signals = 1 + usize::from(!counters.is_empty()) + usize::from(setting.is_some());
    let severity = ctx.grade(ctx.share_severity(c, failed), signals, 2);
    let mut f = ctx.cluster_finding(RULE.id, severity, c);
    let mut names: Vec<&str> = hits.iter().map(|h| h.0).collect();
    names.dedup();
    let limit = setting.and_then(|d| d.value).map_or(String::new(), |d| {
        format!(
            " (maxConnectionDuration {})",
            human_ms(d.as_millis() as f64)
        )
    });
    f.title = format!(
        "{}: {failed} requests cut by a duration limit ({}) in {}{limit}",
        c.label,
        names.join("/"),
        human_ms(ctx.snap.window_seconds * 1000.0),
    );
    f.evidence = evidence(ctx, c, &hits, &counters);
    (f.pods, f.scope) = ctx.problem_pods(c, COUNTERS);
    f.cause = CAUSE.into();
    f.next_steps = steps(ctx, c, &f.pods);
    Some(f)
}

const CAUSE: &str = "A duration limit ended requests that were still running. DT: the \
    connection reached its max connection duration (DestinationRule \
    connectionPool.tcp.maxConnectionDuration, or the listener's \
    max_downstream_connection_duration). UMSDR: the upstream request reached the route's max \
    stream duration (max_stream_duration / grpc_timeout_header_max, set through an EnvoyFilter \
    or mesh config). Raise the limit above the longest legitimate request (streams, long \
    polls), or make clients reconnect gracefully.";

fn evidence(
    ctx: &Context<'_>,
    c: &ClusterSnapshot,
    hits: &[(&str, Reporter, u64)],
    counters: &[&str],
) -> Vec<Evidence> {
    let mut ev: Vec<Evidence> = Vec::new();
    for (flag, side, _) in hits {
        ev.extend(ctx.flag_evidence(c, *side, flag));
    }
    ev.extend(
        counters
            .iter()
            .filter_map(|stat| ctx.counter_evidence(c, stat)),
    );
    if let Some(d) = duration_setting(c) {
        let value = d
            .value
            .map_or(String::new(), |v| human_ms(v.as_millis() as f64));
        ev.push(ctx.sourced_evidence(d, value));
    }
    ev
}

fn steps(ctx: &Context<'_>, c: &ClusterSnapshot, pods: &[String]) -> Vec<NextStep> {
    let pod = pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    let ns = ctx.namespace_of(&pod);
    vec![
        ctx.cluster_step(
            &pod,
            c,
            "Check max_connection_duration in the cluster's protocol options",
        ),
        ctx.route_step_on(&pod, c),
        NextStep::run(
            "Read response_code_details of the cut requests in the access log",
            format!(
                "kubectl logs -n {ns} {pod} -c istio-proxy --since=10m | grep -E ' (DT|UMSDR) '"
            ),
        ),
        ctx.destination_rule_step(c),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::testkit::*;
    use crate::diagnosis::{Severity, Thresholds};

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn dt_with_configured_duration_is_critical() {
        let snap = SnapBuilder::new()
            .istio(
                "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: inventory-svc, namespace: prod}\n\
                 spec:\n  host: inventory-svc\n  trafficPolicy:\n    connectionPool:\n      tcp: {maxConnectionDuration: 5m}\n",
            )
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 300)
                    .flag("200", "-", 294)
                    .flag("503", "DT", 6)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 6 requests cut by a duration limit (DT) in 30s \
             (maxConnectionDuration 5m)"
        );
        let shown: Vec<(&str, &str)> = (f.evidence.iter())
            .map(|e| (e.name.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("DT (503, reporter=source)", "6 responses in 30s"),
                (
                    "DestinationRule prod/inventory-svc trafficPolicy.connectionPool.tcp.maxConnectionDuration",
                    "5m"
                ),
            ]
        );
        assert_eq!(
            f.next_steps[1].command.as_deref(),
            Some("istioctl proxy-config route order-svc-7d9f8c-a1b2c.prod --name 8080 -o json")
        );
    }

    #[test]
    fn umsdr_on_the_server_alone_is_lower() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 1000)
                    .flag("200", "-", 1000)
                    .server_flag("408", "UMSDR", 3)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(
            found[0].evidence[0].name,
            "UMSDR (408, reporter=destination)"
        );
    }

    #[test]
    fn quiet_without_duration_flags() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| c.flag("200", "-", 1000).flag("504", "UT", 20))
            .build();
        assert!(run(&snap).is_empty());
    }
}
