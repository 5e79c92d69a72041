//! R1: the route timeout fired (HINTS.md R1). The client's sidecar cut calls at the
//! VirtualService `http[].timeout` and answered 504 with flag UT; the server's sidecar saw the
//! same calls end with DC (the caller gave up). Evidence, strongest first: UT responses,
//! Δ`upstream_rq_timeout` (without the stats opt-in: `/clusters` per-host `rq_timeout`), the
//! route timeout and its VirtualService, the upstream p99. [`timeouts`] is the condition R2 and
//! R24 build on.

use super::Rule;
use crate::diagnosis::{Context, Evidence, Finding, NextStep, Reporter, human_ms};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R1",
    name: "Route timeout fired",
    check,
};

/// The route timeouts seen on one cluster in the window.
pub(super) struct Timeouts {
    /// Timed-out calls: Δ`upstream_rq_timeout` when collected, else the larger of the UT
    /// responses and the `/clusters` per-host `rq_timeout` increase.
    pub count: u64,
    /// Δ`upstream_rq_timeout` when collected and moved.
    pub counter: Option<u64>,
    /// Δ`hosts.rq_timeout` (per-host counters from `/clusters`) when it moved.
    pub hosts: Option<u64>,
    /// UT responses reported by the client sidecars (reporter=source) when any.
    pub flags: Option<u64>,
}

/// R1's condition: route timeouts on `c` in the window. When `upstream_rq_timeout` is collected
/// it decides (collected and zero: no route timeout fired, even if UT flags show per-try
/// timeouts, which are R3's); otherwise UT flags or per-host `rq_timeout` stand in for it.
pub(super) fn timeouts(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Timeouts> {
    let collected = ctx.counter(c, "upstream_rq_timeout").is_some();
    let counter = ctx.moved(c, "upstream_rq_timeout");
    let hosts = ctx.moved(c, "hosts.rq_timeout");
    let flags = ctx.flagged(c, Reporter::Client, "UT");
    let count = match collected {
        true => counter?,
        false => flags.max(hosts)?,
    };
    Some(Timeouts {
        count,
        counter,
        hosts,
        flags,
    })
}

/// The route timeout in ms: the Istio setting, else the one Envoy runs with (`config_dump`).
pub(super) fn route_timeout_ms(c: &ClusterSnapshot) -> Option<u64> {
    let configured = c.config.as_ref().and_then(|cfg| cfg.route_timeout_ms);
    configured.or_else(|| {
        let routes = &c.effective_config.as_ref()?.routes;
        routes.iter().find_map(|r| r.timeout_ms)
    })
}

/// `3.3%` of `total`, or nothing when the total is unknown.
pub(super) fn share_text(part: u64, total: Option<u64>) -> Option<String> {
    let total = total.filter(|&t| t > 0)?.max(part);
    let pct = part as f64 * 100.0 / total as f64;
    let text = format!("{pct:.1}");
    Some(format!("{}%", text.trim_end_matches(".0")))
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| finding(ctx, c)).collect()
}

fn finding(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let t = timeouts(ctx, c)?;
    let timeout = route_timeout_ms(c);
    let signals = [
        t.flags.is_some(),
        t.counter.or(t.hosts).is_some(),
        timeout.is_some(),
    ];
    let signals = signals.into_iter().filter(|s| *s).count();
    let severity = ctx.grade(ctx.share_severity(c, t.count), signals, 3);
    let mut f = ctx.cluster_finding(RULE.id, severity, c);
    let (pods, scope) = ctx.moved_pods(c, &["upstream_rq_timeout", "hosts.rq_timeout"]);
    f.pods = pods;
    f.scope = scope;
    f.title = title(ctx, c, &t, timeout);
    f.evidence = evidence(ctx, c, &t);
    f.cause = cause(ctx, c, &t, timeout);
    f.next_steps = next_steps(ctx, c, &f.pods, timeout);
    Some(f)
}

fn title(ctx: &Context<'_>, c: &ClusterSnapshot, t: &Timeouts, timeout: Option<u64>) -> String {
    let total = ctx.requests_total(c);
    let calls = match (total, share_text(t.count, total)) {
        (Some(total), Some(share)) => format!("{} of {total} calls ({share})", t.count),
        _ => format!("{} calls", t.count),
    };
    let at = match (
        timeout,
        c.config.as_ref().and_then(|cfg| cfg.route_timeout_ms),
    ) {
        (Some(_), Some(ms)) => format!(" at the {} VirtualService timeout", human_ms(ms as f64)),
        (Some(ms), None) => format!(" at the {} route timeout", human_ms(ms as f64)),
        (None, _) => " (no route timeout configured)".to_string(),
    };
    let p99 = c
        .upstream_rq_time_p99_ms
        .map_or(String::new(), |p| format!(" (p99 {})", human_ms(p)));
    format!("{}: {calls} timed out{at}{p99}", c.label)
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot, t: &Timeouts) -> Vec<Evidence> {
    let client_ut = t
        .flags
        .and_then(|_| ctx.flag_evidence(c, Reporter::Client, "UT"));
    let counter = match t.counter {
        Some(_) => ctx.counter_evidence(c, "upstream_rq_timeout"),
        None => t
            .hosts
            .and_then(|_| ctx.counter_evidence(c, "hosts.rq_timeout")),
    };
    let server_dc = server_dc(ctx, c).and_then(|_| ctx.flag_evidence(c, Reporter::Server, "DC"));
    [
        client_ut,
        counter,
        ctx.counter_evidence(c, "upstream_rq_total"),
        ctx.config_evidence(c, "route_timeout_ms"),
        ctx.p99_evidence(c),
        server_dc,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// DC responses on the server side (reporter=destination) for calls to this service.
fn server_dc(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<u64> {
    ctx.flagged(c, Reporter::Server, "DC")
}

fn cause(ctx: &Context<'_>, c: &ClusterSnapshot, t: &Timeouts, timeout: Option<u64>) -> String {
    let service = ctx.service_of(c).0;
    let source = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.sources.get("route_timeout_ms"));
    let mut text = match (timeout, source) {
        (Some(ms), Some(src)) if !src.starts_with("Istio default") => format!(
            "The route timeout fired: {service} took longer than the {} timeout set in {src} for {} calls, \
             and the client sidecar answered 504 with response flag UT itself.",
            human_ms(ms as f64),
            t.count
        ),
        (Some(ms), _) => format!(
            "The route timeout fired: Envoy runs this route with a {} timeout (config_dump) \
             that no VirtualService states, and {} calls to {service} ran past it (504, UT).",
            human_ms(ms as f64),
            t.count
        ),
        (None, _) => format!(
            "{} calls to {service} hit a route timeout (504, UT) although no VirtualService \
             timeout applies: check the route Envoy runs with (an Envoy default or a gateway \
             route may set one).",
            t.count
        ),
    };
    text.push_str(&latency_note(ctx, c, timeout));
    text.push_str(&server_note(ctx, c, &service));
    text
}

/// How the upstream p99 compares with the timeout.
fn latency_note(ctx: &Context<'_>, c: &ClusterSnapshot, timeout: Option<u64>) -> String {
    let Some(p99) = c.upstream_rq_time_p99_ms else {
        if ctx.counter(c, "upstream_rq_total").is_some() {
            return String::new();
        }
        return " The upstream latency histogram is not collected (see R0); /clusters and the \
                response flags still show the timeouts."
            .into();
    };
    let Some(ms) = timeout else {
        return format!(" Upstream p99 is {}.", human_ms(p99));
    };
    if (ms as f64) < p99 * ctx.thresholds.timeout_below_p99 {
        format!(
            " The timeout ({}) is below the upstream p99 ({}): more than 1% of calls need longer \
             than it allows.",
            human_ms(ms as f64),
            human_ms(p99)
        )
    } else {
        format!(
            " Upstream p99 is {} against the {} timeout: calls cut at the timeout are not \
             recorded in upstream_rq_time, so the real tail is longer than the histogram shows.",
            human_ms(p99),
            human_ms(ms as f64)
        )
    }
}

/// What the server side says about the same calls (istio/istio#19320).
fn server_note(ctx: &Context<'_>, c: &ClusterSnapshot, service: &str) -> String {
    match server_dc(ctx, c) {
        Some(dc) => format!(
            " The {service} sidecars reported {dc} calls as DC (response code 0): they saw the \
             caller give up (istio/istio#19320). The server is not at fault for the timeout \
             budget; check the {service} app's own latency (its inbound upstream_rq_time), not \
             the mesh, then either make it faster or raise the VirtualService timeout (it \
             includes retries)."
        ),
        None => format!(
            " Check the {service} app's own latency (its sidecar's inbound upstream_rq_time), \
             not the mesh, then either make it faster or raise the VirtualService timeout (it \
             includes retries)."
        ),
    }
}

fn next_steps(
    ctx: &Context<'_>,
    c: &ClusterSnapshot,
    pods: &[String],
    timeout: Option<u64>,
) -> Vec<NextStep> {
    let client = pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    let port = c
        .key
        .istio()
        .map_or(String::from("<port>"), |k| k.port.to_string());
    let mut steps = vec![NextStep::run(
        format!("Check the route timeout Envoy runs with on {client} (route `timeout`)"),
        ctx.istioctl_pc_on(&client, c, "route", &format!("--name {port} -o json")),
    )];
    let vs = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.virtual_service.as_deref());
    if let Some((ns, name)) = vs.and_then(|v| v.split_once('/')) {
        steps.push(NextStep::run(
            format!("Read the VirtualService {ns}/{name} (http[].timeout, retries)"),
            format!("kubectl get virtualservice -n {ns} {name} -o yaml"),
        ));
    }
    steps.extend(server_steps(ctx, c));
    let budget = timeout.map_or(String::from("a route timeout"), |ms| {
        format!("the {} timeout", human_ms(ms as f64))
    });
    steps.push(NextStep::say(format!(
        "Decide: make {} answer within {budget}, or raise the timeout above the upstream p99 \
         with headroom, keeping it inside the caller's own deadline",
        ctx.service_of(c).0
    )));
    steps
}

/// The server-side checks: the app's latency as its sidecar sees it, and the DC access log.
fn server_steps(ctx: &Context<'_>, c: &ClusterSnapshot) -> Vec<NextStep> {
    let Some(server) = c.server.as_ref().and_then(|s| s.pods.first()) else {
        return Vec::new();
    };
    let ns = ctx.namespace_of(server);
    let mut steps = vec![NextStep::run(
        format!("Check the server app's latency on {server} (inbound upstream_rq_time)"),
        format!(
            "kubectl exec -n {ns} {server} -c istio-proxy -- pilot-agent request GET \
             'stats?filter=inbound.*upstream_rq_time'"
        ),
    )];
    if server_dc(ctx, c).is_some() {
        steps.push(NextStep::run(
            "The server's access log shows these calls as DC (istio/istio#19320)",
            format!("kubectl logs -n {ns} {server} -c istio-proxy --since=10m | grep ' DC '"),
        ));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::testkit::*;
    use crate::diagnosis::{EvidenceKind, Severity, Thresholds};
    use crate::model::StatsCollection;

    const VS_1S: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  hosts: [inventory-svc]\n  http:\n\
        \x20 - route: [{destination: {host: inventory-svc}}]\n    timeout: 1s\n    retries: {attempts: 0}\n";

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        check(&Context::new(snap, &Thresholds::default()))
    }

    fn evidence<'a>(f: &'a Finding, name: &str) -> &'a Evidence {
        let found = f.evidence.iter().find(|e| e.name == name);
        found.unwrap_or_else(|| panic!("no evidence {name} in {:#?}", f.evidence))
    }

    /// The grpc-keepalive story: order-svc's calls cut at the 1s VS timeout, DC on the server.
    fn keepalive() -> crate::model::MeshSnapshot {
        SnapBuilder::new()
            .istio(VS_1S)
            .source(ORDER_A, StatsCollection::Full)
            .cluster(INV, |c| {
                c.clients(&[ORDER_A, ORDER_B, "frontend-6b7c8d-x1y2z"])
                    .counter("upstream_rq_total", 1200)
                    .counter("upstream_rq_timeout", 38)
                    .flag("200", "-", 1162)
                    .flag("504", "UT", 38)
                    .p99(1400.0)
                    .server_flag("0", "DC", 38)
                    .server_flag("200", "-", 1162)
                    .per_pod(ORDER_A, "upstream_rq_timeout", 20)
                    .per_pod(ORDER_B, "upstream_rq_timeout", 18)
                    .per_pod("frontend-6b7c8d-x1y2z", "upstream_rq_timeout", 0)
            })
            .build()
    }

    #[test]
    fn fires_critical_with_flag_counter_vs_timeout_p99_and_server_dc() {
        let found = run(&keepalive());
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.rule, "R1");
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 38 of 1200 calls (3.2%) timed out at the 1s VirtualService timeout (p99 1.4s)"
        );
        assert_eq!(f.pods, vec![ORDER_A.to_string(), ORDER_B.to_string()]);
        assert_eq!(f.scope.as_deref(), Some("2 of 2 order-svc pods"));
        let vs = evidence(f, "VirtualService prod/inventory-svc http[0].timeout");
        assert_eq!((vs.kind, vs.value.as_str()), (EvidenceKind::Config, "1s"));
        assert_eq!(vs.number, Some(1000.0));
        let p99 = evidence(f, "upstream_rq_time p99");
        assert_eq!((p99.value.as_str(), p99.number), ("1.4s", Some(1400.0)));
        let counter = evidence(f, "upstream_rq_timeout");
        assert_eq!(counter.value, "+38 in 30s (1.27/s)");
        assert_eq!(evidence(f, "UT (504, reporter=source)").number, Some(38.0));
        assert_eq!(
            evidence(f, "DC (0, reporter=destination)").value,
            "38 responses in 30s"
        );
        assert!(f.cause.contains("istio/istio#19320"), "{}", f.cause);
        assert!(f.cause.contains("not at fault"), "{}", f.cause);
        assert!(
            f.cause.contains("below the upstream p99 (1.4s)"),
            "{}",
            f.cause
        );
        let commands: Vec<&str> = f
            .next_steps
            .iter()
            .filter_map(|s| s.command.as_deref())
            .collect();
        assert_eq!(
            commands[..2],
            [
                "istioctl proxy-config route order-svc-7d9f8c-a1b2c.prod --name 8080 -o json",
                "kubectl get virtualservice -n prod inventory-svc -o yaml",
            ]
        );
        assert!(commands.contains(
            &"kubectl logs -n prod inventory-svc-5c6d7-k8l9m -c istio-proxy --since=10m | grep ' DC '"
        ));
    }

    #[test]
    fn without_cluster_stats_fires_from_flags_and_host_counters() {
        let snap = SnapBuilder::new()
            .istio(VS_1S)
            .cluster(INV, |c| {
                c.counter("hosts.rq_total", 3529)
                    .counter("hosts.rq_timeout", 117)
                    .flag("504", "UT", 119)
                    .flag("200", "-", 3449)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        // Flag + per-host counter + VS timeout: all three signals, 3.4 % of calls.
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 119 of 3529 calls (3.4%) timed out at the 1s VirtualService timeout"
        );
        assert_eq!(evidence(f, "hosts.rq_timeout").number, Some(117.0));
        assert!(f.cause.contains("not collected (see R0)"), "{}", f.cause);
    }

    #[test]
    fn a_single_signal_is_lowered() {
        // UT flags only: no VS timeout resolved, no counters.
        let snap = SnapBuilder::new()
            .cluster(INV, |c| c.flag("504", "UT", 5).flag("200", "-", 995))
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(
            found[0].title,
            "inventory-svc.prod:8080: 5 of 1000 calls (0.5%) timed out (no route timeout configured)"
        );
    }

    #[test]
    fn quiet_when_the_counter_is_collected_and_zero_or_nothing_moved() {
        let zero = SnapBuilder::new()
            .istio(VS_1S)
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 500)
                    .counter("upstream_rq_timeout", 0)
                    .flag("504", "UT", 3)
            })
            .build();
        assert!(run(&zero).is_empty());
        let idle = SnapBuilder::new()
            .istio(VS_1S)
            .cluster(INV, |c| c.counter("hosts.rq_total", 0).flag("200", "-", 0))
            .build();
        assert!(run(&idle).is_empty());
    }
}
