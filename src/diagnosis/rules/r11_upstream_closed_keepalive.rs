//! R11: the upstream closed a kept-alive connection as a request went out (HINTS.md R11).
//! In a mesh the race is between the *server's* sidecar and its app (Istio applies the
//! DestinationRule's `connectionPool` to the inbound cluster too), so the evidence is mostly on
//! the server side: Δ`upstream_cx_destroy_remote_with_active_rq` on its inbound cluster and
//! 503 UC in its reporter=destination series, while callers see plain 503s. On the client side
//! the same counter and UC mean the server sidecar went away (restarts during a rollout) or the
//! app is called without a sidecar. Client-side signals are left to R10 when the
//! DestinationRule's TLS mode explains them (plaintext to a STRICT server looks the same).

use super::Rule;
use super::r10_tls_mismatch::tls_implicated;
use crate::diagnosis::{Context, Evidence, EvidenceKind, Finding, NextStep, Reporter, human_ms};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R11",
    name: "Upstream closed a kept-alive connection",
    check,
};

const CUT: &str = "upstream_cx_destroy_remote_with_active_rq";
const IDLE: &str = "DestinationRule connectionPool.http.idleTimeout";
const PER_CONNECTION: &str = "DestinationRule connectionPool.http.maxRequestsPerConnection";

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| keepalive(ctx, c)).collect()
}

/// The signals of one side: connections cut under requests, and UC responses.
#[derive(Default)]
struct Side {
    cut: Option<u64>,
    uc: Option<u64>,
}

impl Side {
    fn any(&self) -> bool {
        self.cut.is_some() || self.uc.is_some()
    }
}

fn keepalive(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let server = Side {
        cut: ctx.server_moved(c, CUT),
        uc: ctx.flagged(c, Reporter::Server, "UC"),
    };
    let client = match tls_implicated(ctx, c) {
        true => Side::default(),
        false => Side {
            cut: ctx.moved(c, CUT),
            uc: ctx.flagged(c, Reporter::Client, "UC"),
        },
    };
    if !server.any() && !client.any() {
        return None;
    }
    let plain = plain_503(ctx, c);
    let failed = [server.uc, client.uc, plain, server.cut, client.cut]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0);
    let signals = usize::from(server.cut.is_some() || client.cut.is_some())
        + usize::from(server.uc.is_some() || client.uc.is_some())
        + usize::from(idle_outlives_app(ctx, c));
    let severity = ctx.grade(ctx.share_severity(c, failed), signals, 3);
    let mut f = ctx.cluster_finding(RULE.id, severity, c);
    f.title = title(ctx, c, [&server, &client], failed);
    (f.pods, f.scope) = ctx.problem_pods(c, &[CUT]);
    if server.any() {
        f.scope = c.server.as_ref().map(|s| {
            let cluster = s.cluster.as_deref().unwrap_or("inbound");
            format!("server side: {cluster} of {} pod(s)", s.pods.len())
        });
    }
    f.evidence = evidence(ctx, c, &server, &client);
    f.cause = cause(ctx, c, server.any());
    f.next_steps = steps(ctx, c, &f.pods);
    Some(f)
}

/// Client responses 503 without a flag: what callers see of a server-side cut.
fn plain_503(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<u64> {
    let n: u64 = (ctx.series(c, Reporter::Client).iter())
        .filter(|r| r.response_code == "503" && r.response_flags == "-")
        .map(|r| r.window.increase)
        .sum();
    Some(n).filter(|&n| n >= ctx.thresholds.min_events.max(1))
}

/// True when the pool idle timeout is disabled or at least the keep-alive threshold.
fn idle_outlives_app(ctx: &Context<'_>, c: &ClusterSnapshot) -> bool {
    c.config.as_ref().is_some_and(|cfg| {
        cfg.idle_timeout_ms == 0 || cfg.idle_timeout_ms >= ctx.thresholds.keepalive_idle_timeout_ms
    })
}

fn title(ctx: &Context<'_>, c: &ClusterSnapshot, sides: [&Side; 2], failed: u64) -> String {
    let [server, client] = sides;
    let window = human_ms(ctx.snap.window_seconds * 1000.0);
    let idle = c.config.as_ref().map_or(String::new(), |cfg| {
        format!(
            " (pool idleTimeout {})",
            human_ms(cfg.idle_timeout_ms as f64)
        )
    });
    let (svc, _) = ctx.service_of(c);
    match server.any() {
        true => format!(
            "{}: {failed} requests lost in {window} when {svc}'s app closed kept-alive connections \
             under its sidecar{idle}; callers see 503",
            c.label
        ),
        false => {
            let what = match client.uc {
                Some(n) => format!("{n} requests failed with 503 UC"),
                None => format!("{failed} connections closed with requests on them"),
            };
            format!(
                "{}: {what} in {window}: the upstream closed kept-alive connections \
                 mid-request{idle}",
                c.label
            )
        }
    }
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot, server: &Side, client: &Side) -> Vec<Evidence> {
    let mut ev: Vec<Evidence> = Vec::new();
    if server.any() {
        ev.extend(ctx.server_counter_evidence(c, CUT));
        if server.uc.is_some() {
            ev.extend(ctx.flag_evidence(c, Reporter::Server, "UC"));
        }
        ev.extend(plain_503(ctx, c).map(|n| Evidence {
            kind: EvidenceKind::Flag,
            name: "- (503, reporter=source)".into(),
            value: format!(
                "{n} plain 503 responses in {}",
                human_ms(ctx.snap.window_seconds * 1000.0)
            ),
            number: Some(n as f64),
            effective: None,
        }));
    }
    if client.any() {
        ev.extend(ctx.counter_evidence(c, CUT));
        if client.uc.is_some() {
            ev.extend(ctx.flag_evidence(c, Reporter::Client, "UC"));
        }
    }
    ev.extend(ctx.setting_evidence(c, "idle_timeout_ms", IDLE));
    ev.extend(ctx.setting_evidence(c, "max_requests_per_connection", PER_CONNECTION));
    ev
}

fn cause(ctx: &Context<'_>, c: &ClusterSnapshot, server_side: bool) -> String {
    let idle = c
        .config
        .as_ref()
        .map_or("1h".to_string(), |cfg| human_ms(cfg.idle_timeout_ms as f64));
    let (svc, _) = ctx.service_of(c);
    let side = match server_side {
        true => format!(
            "The cuts happen on {svc}'s own sidecar: in a mesh the race is between the server's \
             sidecar and its app, and Istio applies the DestinationRule connectionPool to the \
             inbound cluster too; the callers only see plain 503s."
        ),
        false => "Seen by the callers' sidecars: the server sidecar (or a mesh-external server) \
                  closed connections with requests on them, as when pods restart during a \
                  rollout."
            .to_string(),
    };
    format!(
        "The upstream app closed a kept-alive connection just as a request was sent on it \
         (upstream_reset_before_response_started{{connection_termination}}, 503 UC): its \
         keep-alive/idle timeout or max connection age (gRPC MaxConnectionAge) is shorter than \
         the sidecar's pool idle timeout {idle} (DestinationRule \
         connectionPool.http.idleTimeout). {side} Fix: set connectionPool.http.idleTimeout below \
         the app's keep-alive or max connection age (or limit maxRequestsPerConnection), make the \
         app close gracefully (GOAWAY with a grace period), and retry idempotent calls with a \
         VirtualService retryOn including reset (current Istio retries inbound \
         reset-before-request already). See istio/istio#13848, #31393, #49660, #55138 and \
         envoyproxy/envoy#14981."
    )
}

fn steps(ctx: &Context<'_>, c: &ClusterSnapshot, pods: &[String]) -> Vec<NextStep> {
    let client = pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    let mut steps = vec![ctx.destination_rule_step(c)];
    let server = c.server.as_ref();
    if let Some((pod, cluster)) =
        server.and_then(|s| Some((s.pods.first()?, s.cluster.as_deref()?)))
    {
        steps.push(ctx.proxy_stats_step(
            pod,
            "Watch the server sidecar cut connections under requests",
            cluster,
            "upstream_cx_destroy_remote|upstream_rq_pending_failure_eject|upstream_cx_active",
        ));
        let ns = ctx.namespace_of(pod);
        steps.push(NextStep::run(
            "Check the idle timeout on the server's inbound cluster",
            format!("istioctl proxy-config cluster {pod}.{ns} --direction inbound -o json"),
        ));
    }
    steps.push(NextStep::say(
        "Compare with the app's keep-alive settings (server idle/keep-alive timeout, gRPC \
         MaxConnectionAge/MaxConnectionIdle): the pool idleTimeout must be shorter",
    ));
    steps.push(ctx.route_step_on(&client, c));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Severity;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;

    const DR_IDLE: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  host: inventory-svc\n\
        \x20 trafficPolicy:\n    connectionPool:\n      http: {idleTimeout: 1h}\n";

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn server_side_cut_names_the_dr_idle_timeout() {
        let snap = SnapBuilder::new()
            .istio(DR_IDLE)
            .cluster(INV, |c| {
                c.clients(&[ORDER_A, ORDER_B])
                    .counter("upstream_rq_total", 600)
                    .counter(CUT, 0)
                    .flag("200", "-", 575)
                    .flag("503", "-", 3)
                    .flag("504", "UT", 22)
                    .server(
                        &["inventory-svc-5c6d7-k8l9m", "inventory-svc-5c6d7-p0q1r"],
                        "inbound|8080||",
                    )
                    .server_counter(CUT, 2)
                    .server_flag("503", "UC", 3)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Warning, "3 of 600 is under 1 %");
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 3 requests lost in 30s when inventory-svc's app closed \
             kept-alive connections under its sidecar (pool idleTimeout 1h); callers see 503"
        );
        assert_eq!(
            f.scope.as_deref(),
            Some("server side: inbound|8080|| of 2 pod(s)")
        );
        let names: Vec<&str> = f.evidence.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "server inbound|8080|| upstream_cx_destroy_remote_with_active_rq",
                "UC (503, reporter=destination)",
                "- (503, reporter=source)",
                "DestinationRule prod/inventory-svc trafficPolicy.connectionPool.http.idleTimeout",
                "DestinationRule connectionPool.http.maxRequestsPerConnection (Istio default)",
            ]
        );
        assert_eq!(f.evidence[0].number, Some(2.0));
        assert_eq!(f.evidence[3].value, "1h");
        assert!(
            f.cause.contains("istio/istio#13848") && f.cause.contains("envoyproxy/envoy#14981")
        );
        assert_eq!(
            f.next_steps[1].command.as_deref(),
            Some(
                "kubectl exec -n prod inventory-svc-5c6d7-k8l9m -c istio-proxy -- pilot-agent \
                 request GET stats | grep -F 'cluster.inbound|8080||.' | grep -E \
                 'upstream_cx_destroy_remote|upstream_rq_pending_failure_eject|upstream_cx_active'"
            )
        );
    }

    #[test]
    fn client_side_uc_is_critical_above_one_percent() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 100)
                    .counter(CUT, 4)
                    .flag("503", "UC", 5)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        // counter + flag, but no config resolved: one level lower.
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0]
                .title
                .ends_with("closed kept-alive connections mid-request")
        );
        let snap = SnapBuilder::new()
            .istio(DR_IDLE)
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 100)
                    .counter(CUT, 4)
                    .flag("503", "UC", 5)
            })
            .build();
        assert_eq!(run(&snap)[0].severity, Severity::Critical);
    }

    #[test]
    fn client_side_cut_without_uc_counts_connections() {
        let snap = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 3000)
                    .counter(CUT, 1)
                    .flag("200", "-", 3000)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(
            found[0].title,
            "inventory-svc.prod:8080: 1 connections closed with requests on them in 30s: the \
             upstream closed kept-alive connections mid-request"
        );
        let names: Vec<&str> = found[0].evidence.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, [CUT], "no UC evidence when none was flagged");
    }

    #[test]
    fn quiet_when_collected_and_zero_or_when_tls_explains_it() {
        let snap = SnapBuilder::new()
            .istio(DR_IDLE)
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 600)
                    .counter(CUT, 0)
                    .flag("200", "-", 600)
                    .server_counter(CUT, 0)
                    .server_flag("200", "-", 600)
            })
            .build();
        assert!(run(&snap).is_empty());
        let tls = SnapBuilder::new()
            .istio(
                "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: inventory-svc, namespace: prod}\n\
                 spec:\n  host: inventory-svc\n  trafficPolicy:\n    tls: {mode: DISABLE}\n",
            )
            .cluster(INV, |c| c.counter(CUT, 300).flag("503", "UC", 300))
            .build();
        assert!(run(&tls).is_empty(), "plaintext to STRICT is R10's");
    }
}
