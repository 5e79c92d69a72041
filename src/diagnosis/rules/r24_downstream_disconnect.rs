//! R24: the caller gave up (HINTS.md R24). The server's sidecar reports calls to the service
//! with flag DC and code 0 (reporter=destination): the downstream — the calling sidecar or app
//! — went away before the response. The cause is at the caller (a client-side timeout, a user
//! cancel), not at the server. When R1 explains the same cluster (the caller's route timeout
//! fired, UT on the client) this is an info that points at R1 instead of blaming the server.

use super::Rule;
use super::r01_route_timeout::{route_timeout_ms, share_text, timeouts};
use crate::diagnosis::{Context, Evidence, Finding, NextStep, Reporter, Severity, human_ms};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R24",
    name: "Caller gave up",
    check,
};

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| finding(ctx, c)).collect()
}

/// Calls to the service the server sidecars answered in the window.
fn server_total(ctx: &Context<'_>, c: &ClusterSnapshot) -> u64 {
    let series = ctx.series(c, Reporter::Server);
    series.iter().map(|r| r.window.increase).sum()
}

fn finding(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let dc = ctx.flagged(c, Reporter::Server, "DC")?;
    let explained = timeouts(ctx, c).is_some() || ctx.flagged(c, Reporter::Client, "UT").is_some();
    let total = server_total(ctx, c);
    let severity = match explained {
        true => Severity::Info,
        false if dc as f64 >= total as f64 * ctx.thresholds.critical_share => Severity::Warning,
        false => Severity::Info,
    };
    let mut f = ctx.cluster_finding(RULE.id, severity, c);
    let (pods, scope) = ctx.moved_pods(c, &["upstream_rq_total", "hosts.rq_total"]);
    f.pods = pods;
    f.scope = scope;
    let service = ctx.service_of(c).0;
    f.title = title(c, dc, total, explained, &service);
    f.evidence = evidence(ctx, c);
    f.cause = cause(ctx, c, explained, &service);
    f.next_steps = next_steps(ctx, c, &f.pods, explained);
    Some(f)
}

/// `… 117 of 3604 calls (3.2%) ended with DC on the inventory-svc side — …`.
fn title(c: &ClusterSnapshot, dc: u64, total: u64, explained: bool, service: &str) -> String {
    let calls = match share_text(dc, Some(total)) {
        Some(share) => format!("{dc} of {total} calls ({share})"),
        None => format!("{dc} calls"),
    };
    let head = format!("{}: {calls} ended with DC on the {service} side", c.label);
    match (explained, route_timeout_ms(c)) {
        (true, Some(ms)) => format!(
            "{head} — the caller's {} route timeout gave up (R1), not {service}",
            human_ms(ms as f64)
        ),
        (true, None) => format!("{head} — the caller timed out (R1), not {service}"),
        (false, _) => format!("{head} — the caller gave up; look at the caller"),
    }
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<Evidence> {
    let client = |flag| {
        ctx.flagged(c, Reporter::Client, flag)
            .and_then(|_| ctx.flag_evidence(c, Reporter::Client, flag))
    };
    [
        ctx.flag_evidence(c, Reporter::Server, "DC"),
        ctx.server_counter_evidence(c, "upstream_rq_tx_reset"),
        client("UT"),
        client("DC"),
        ctx.config_evidence(c, "route_timeout_ms"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn cause(ctx: &Context<'_>, c: &ClusterSnapshot, explained: bool, service: &str) -> String {
    let callers = crate::diagnosis::workloads(&ctx.moved_pods(c, &["upstream_rq_total"]).0);
    let head = format!(
        "The {service} sidecars saw the downstream disconnect before the response (DC, code 0): \
         the caller gave up — look at the caller ({callers}), not at {service}."
    );
    let tail = match explained {
        true => String::from(
            " Here the caller's own sidecar cut these calls at its route timeout and answered \
             504 UT (R1): the same calls, seen from the server (istio/istio#19320). Fix the \
             timeout budget or the server latency as R1 says; the DC is not a second problem.",
        ),
        false => format!(
            " The caller's sidecar shows no route timeout (no UT), so the caller's app gave up: \
             its client timeout or deadline (gRPC deadline, HTTP client timeout), a user \
             cancel, or the caller restarting. Compare that timeout with {service}'s latency."
        ),
    };
    head + &tail
}

fn next_steps(
    ctx: &Context<'_>,
    c: &ClusterSnapshot,
    pods: &[String],
    explained: bool,
) -> Vec<NextStep> {
    let client = pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    let port = c
        .key
        .istio()
        .map_or(String::from("<port>"), |k| k.port.to_string());
    let mut steps = Vec::new();
    if explained {
        steps.push(NextStep::say(format!(
            "See the R1 finding for {}: it has the timeout and the latency",
            c.label
        )));
    }
    steps.push(NextStep::run(
        "Check the caller's route timeout (route `timeout`)",
        ctx.istioctl_pc_on(&client, c, "route", &format!("--name {port} -o json")),
    ));
    if let Some(server) = c.server.as_ref().and_then(|s| s.pods.first()) {
        let ns = ctx.namespace_of(server);
        steps.push(NextStep::run(
            "The server's access log shows the DC calls and how long they ran",
            format!("kubectl logs -n {ns} {server} -c istio-proxy --since=10m | grep ' DC '"),
        ));
    }
    let ns = ctx.namespace_of(&client);
    steps.push(NextStep::run(
        "The caller's access log for the same calls (UT, DC or a 2xx)",
        format!(
            "kubectl logs -n {ns} {client} -c istio-proxy --since=10m | grep {}",
            ctx.service_of(c).0
        ),
    ));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

    const VS_1S: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  hosts: [inventory-svc]\n  http:\n\
        \x20 - route: [{destination: {host: inventory-svc}}]\n    timeout: 1s\n";

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        check(&Context::new(snap, &Thresholds::default()))
    }

    #[test]
    fn with_client_timeouts_it_is_info_pointing_at_r1() {
        let snap = SnapBuilder::new()
            .istio(VS_1S)
            .cluster(INV, |c| {
                c.counter("upstream_rq_timeout", 117)
                    .flag("504", "UT", 117)
                    .flag("200", "-", 3434)
                    .server_flag("0", "DC", 117)
                    .server_flag("200", "-", 3470)
                    .server_flag("503", "UC", 17)
                    .server_counter("upstream_rq_tx_reset", 117)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Info);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 117 of 3604 calls (3.2%) ended with DC on the \
             inventory-svc side — the caller's 1s route timeout gave up (R1), not inventory-svc"
        );
        assert_eq!(f.evidence[0].name, "DC (0, reporter=destination)");
        assert_eq!(f.evidence[0].number, Some(117.0));
        assert_eq!(
            f.evidence[1].name,
            "server inbound|8080|| upstream_rq_tx_reset"
        );
        assert_eq!(f.evidence[2].name, "UT (504, reporter=source)");
        assert!(f.cause.contains("istio/istio#19320"));
        assert!(f.next_steps[0].text.contains("R1 finding"));
        assert_eq!(
            f.next_steps[2].command.as_deref(),
            Some(
                "kubectl logs -n prod inventory-svc-5c6d7-k8l9m -c istio-proxy --since=10m | grep ' DC '"
            )
        );
    }

    #[test]
    fn without_client_timeouts_it_blames_the_caller() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.flag("200", "-", 500)
                    .server_flag("0", "DC", 25)
                    .server_flag("200", "-", 475)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].title,
            "inventory-svc.prod:8080: 25 of 500 calls (5%) ended with DC on the inventory-svc \
             side — the caller gave up; look at the caller"
        );
        assert!(found[0].cause.contains("client timeout or deadline"));
    }

    #[test]
    fn quiet_without_server_dc() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.flag("504", "UT", 10)
                    .server_flag("200", "-", 490)
                    .server_flag("0", "DC", 0)
            })
            .build();
        assert!(run(&snap).is_empty());
        let no_server = SnapBuilder::new()
            .cluster(INV, |c| c.flag("200", "-", 10))
            .build();
        assert!(run(&no_server).is_empty());
    }
}
