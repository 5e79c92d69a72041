//! R12: the upstream reset streams (HINTS.md R12): UR (503) or UPE responses, Δ
//! `upstream_rq_rx_reset` on the client or on the server's inbound cluster (the app reset its
//! sidecar's stream). UPE — a malformed upstream response — is frequently a protocol mismatch:
//! the port is treated as HTTP (or HTTP/2) while the app speaks something else. Quoted: the
//! DestinationRule's `h2UpgradePolicy` and `useClientProtocol` when an object sets them.

use super::Rule;
use crate::diagnosis::{Context, Evidence, Finding, NextStep, Reporter, human_ms};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R12",
    name: "Upstream reset the stream",
    check,
};

const RX_RESET: &str = "upstream_rq_rx_reset";

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams()
        .filter_map(|c| upstream_reset(ctx, c))
        .collect()
}

/// The DestinationRule protocol settings an object sets, as evidence.
fn protocol_settings(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<Evidence> {
    let Some(cfg) = c.config.as_ref() else {
        return Vec::new();
    };
    let p = &cfg.policy;
    let mut ev = Vec::new();
    if !p.h2_upgrade_policy.source.is_default() {
        let value = format!("h2UpgradePolicy {}", p.h2_upgrade_policy.value);
        ev.push(ctx.sourced_evidence(&p.h2_upgrade_policy, value));
    }
    if !p.use_client_protocol.source.is_default() {
        let value = format!("useClientProtocol {}", p.use_client_protocol.value);
        ev.push(ctx.sourced_evidence(&p.use_client_protocol, value));
    }
    ev
}

fn upstream_reset(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let ur = ctx.flagged(c, Reporter::Client, "UR");
    let upe = ctx.flagged(c, Reporter::Client, "UPE");
    let client = ctx.moved(c, RX_RESET);
    let server = ctx.server_moved(c, RX_RESET);
    let flags = Some(ur.unwrap_or(0) + upe.unwrap_or(0)).filter(|&n| n > 0);
    let failed = flags.max(client).max(server)?;
    let protocol = protocol_settings(ctx, c);
    let signals = usize::from(flags.is_some())
        + usize::from(client.is_some() || server.is_some())
        + usize::from(!protocol.is_empty());
    let mut f = ctx.cluster_finding(
        RULE.id,
        ctx.grade(ctx.share_severity(c, failed), signals, 2),
        c,
    );
    let window = human_ms(ctx.snap.window_seconds * 1000.0);
    let what = match (ur, upe) {
        (_, Some(n)) => format!("{n} malformed upstream responses (UPE)"),
        (Some(n), None) => format!("{n} requests reset by the upstream (UR)"),
        (None, None) => format!("{failed} streams reset by the upstream"),
    };
    let side = match (client, server) {
        (None, Some(_)) => " at the server's sidecar",
        _ => "",
    };
    f.title = format!("{}: {what}{side} in {window}", c.label);
    (f.pods, f.scope) = ctx.problem_pods(c, &[RX_RESET]);
    f.evidence = evidence(ctx, c, protocol);
    f.cause = cause(upe.is_some());
    f.next_steps = steps(ctx, c, &f.pods);
    Some(f)
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot, protocol: Vec<Evidence>) -> Vec<Evidence> {
    let mut ev: Vec<Evidence> = Vec::new();
    for flag in ["UR", "UPE"] {
        if ctx.flagged(c, Reporter::Client, flag).is_some() {
            ev.extend(ctx.flag_evidence(c, Reporter::Client, flag));
        }
    }
    ev.extend(ctx.counter_evidence(c, RX_RESET));
    if ctx.server_moved(c, RX_RESET).is_some() {
        ev.extend(ctx.server_counter_evidence(c, RX_RESET));
    }
    ev.extend(protocol);
    ev
}

fn cause(upe: bool) -> String {
    let upe = match upe {
        true => {
            " UPE (upstream protocol error) usually means a protocol mismatch: the Service port \
             is named or declared (appProtocol) as HTTP/HTTP2/gRPC while the app speaks \
             something else, an HTTP/1.0 upstream (istio.io \"Envoy won't connect to my \
             HTTP/1.0 service\"), or h2UpgradePolicy UPGRADE toward an HTTP/1.1-only app."
        }
        false => "",
    };
    format!(
        "The upstream reset the stream before or while answering (HTTP/2 RST_STREAM, the app \
         crashing or closing the socket, a protocol error).{upe} Check the Service port name / \
         appProtocol (istioctl analyze IST0118, Kiali KIA0601/KIA0602) and the DestinationRule \
         connectionPool.http.h2UpgradePolicy and useClientProtocol; then the app's logs."
    )
}

fn steps(ctx: &Context<'_>, c: &ClusterSnapshot, pods: &[String]) -> Vec<NextStep> {
    let pod = pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    let (svc, ns) = ctx.service_of(c);
    let mut steps = vec![
        ctx.cluster_step(
            &pod,
            c,
            "Check the protocol options Envoy uses toward the upstream",
        ),
        NextStep::run(
            "Check the Service port name and appProtocol",
            format!("kubectl get service -n {ns} {svc} -o yaml"),
        ),
        NextStep::run(
            "Run Istio's analyzers (IST0118 port naming)",
            format!("istioctl analyze -n {ns}"),
        ),
    ];
    if let Some(server) = c.server.as_ref().and_then(|s| s.pods.first()) {
        let server_ns = ctx.namespace_of(server);
        steps.push(NextStep::run(
            "Read the app's logs around the resets",
            format!("kubectl logs -n {server_ns} {server} --since=10m"),
        ));
    }
    steps
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
    fn upe_with_rx_reset_and_h2_upgrade_is_critical() {
        let snap = SnapBuilder::new()
            .istio(
                "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: inventory-svc, namespace: prod}\n\
                 spec:\n  host: inventory-svc\n  trafficPolicy:\n    connectionPool:\n      http: {h2UpgradePolicy: UPGRADE}\n",
            )
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 200)
                    .counter(RX_RESET, 40)
                    .flag("200", "-", 160)
                    .flag("503", "UPE", 40)
                    .server(&["inventory-svc-5c6d7-k8l9m"], "inbound|8080||")
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 40 malformed upstream responses (UPE) in 30s"
        );
        let shown: Vec<(&str, &str)> = (f.evidence.iter())
            .map(|e| (e.name.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("UPE (503, reporter=source)", "40 responses in 30s"),
                (RX_RESET, "+40 in 30s (1.33/s)"),
                (
                    "DestinationRule prod/inventory-svc trafficPolicy.connectionPool.http.h2UpgradePolicy",
                    "h2UpgradePolicy UPGRADE"
                ),
            ]
        );
        assert!(f.cause.contains("IST0118") && f.cause.contains("KIA0601"));
        assert_eq!(
            f.next_steps[3].command.as_deref(),
            Some("kubectl logs -n prod inventory-svc-5c6d7-k8l9m --since=10m")
        );
    }

    #[test]
    fn server_side_resets_alone_are_lower() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 1000)
                    .counter(RX_RESET, 0)
                    .server_counter(RX_RESET, 4)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(
            found[0].title,
            "inventory-svc.prod:8080: 4 streams reset by the upstream at the server's sidecar in 30s"
        );
    }

    #[test]
    fn quiet_when_zero() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 1000)
                    .counter(RX_RESET, 0)
                    .flag("504", "UT", 30)
            })
            .build();
        assert!(run(&snap).is_empty());
    }
}
