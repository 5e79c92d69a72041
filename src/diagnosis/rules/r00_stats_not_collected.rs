//! R0: per-cluster stats not collected (HINTS.md R0). Istio's default stats matcher keeps only
//! `cluster_manager`, `listener_manager`, `server`, `cluster.xds-grpc` and its own metrics, so a
//! sidecar without the opt-in has no `cluster.outbound|…` counters at all: absent means
//! *unknown*, not "no errors". One finding per workload (`order-svc`, listing its pods), a
//! warning when the pods carry traffic (`istio_requests_total` or `/clusters` host counters
//! moved), an info otherwise. The opt-in snippet is the one `meshtop inspect` prints.

use std::collections::BTreeMap;

use super::Rule;
use crate::diagnosis::{Context, Evidence, EvidenceKind, Finding, NextStep, Severity, workload_of};
use crate::model::source::STATS_OPT_IN;
use crate::model::{CounterWindow, StatsCollection};

pub const RULE: Rule = Rule {
    id: "R0",
    name: "Per-cluster stats not collected",
    check,
};

/// What stays visible without the opt-in (DESIGN.md §4).
const STILL_COLLECTED: &str = "response flags and codes from istio_requests_total \
    (/stats/prometheus); /clusters per-host rq_total, rq_error, rq_timeout, cx_connect_fail and \
    health flags";

/// One pod's traffic in the window, by source.
#[derive(Default)]
struct Traffic {
    /// `istio_requests_total` reporter=source (requests the sidecar sent).
    sent: Vec<CounterWindow>,
    /// `istio_requests_total` reporter=destination (requests it received).
    received: Vec<CounterWindow>,
    /// `/clusters` per-host `rq_total` of the pod's outbound clusters.
    hosts: Vec<CounterWindow>,
}

/// The controller a pod name suggests: `order-svc-7d9f8c-a1b2c` → Deployment `order-svc`
/// ([`workload_of`]), `orders-db-0` → StatefulSet `orders-db`, anything else → the pod.
fn owner_of(pod: &str) -> (&str, Option<&'static str>) {
    let short = |s: &str, max: usize| {
        (1..=max).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let mut parts = pod.rsplitn(3, '-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(id), Some(hash), Some(_)) if id.len() == 5 && short(id, 5) && short(hash, 10) => {
            (workload_of(pod), Some("deployment"))
        }
        _ => match pod.rsplit_once('-') {
            Some((set, n)) if !set.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                (set, Some("statefulset"))
            }
            _ => (pod, None),
        },
    }
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    let mut by_workload: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &ctx.snap.sources {
        if s.stats_collection == StatsCollection::DefaultInclusionOnly {
            by_workload
                .entry(owner_of(&s.pod).0)
                .or_default()
                .push(&s.pod);
        }
    }
    by_workload
        .into_iter()
        .map(|(workload, pods)| finding(ctx, workload, pods))
        .collect()
}

/// The pod's traffic evidence: its proxy totals and its per-pod `/clusters` host counters.
fn traffic_of(ctx: &Context<'_>, pod: &str, into: &mut Traffic) {
    if let Some(p) = ctx.snap.proxy(pod) {
        into.sent.extend(p.outbound_requests);
        into.received.extend(p.inbound_requests);
    }
    // One window per pod: its outbound clusters' host counters summed.
    let per_pod = ctx.snap.clusters.iter().flat_map(|c| &c.per_pod);
    let hosts: Vec<CounterWindow> = per_pod
        .filter(|v| v.pod == pod)
        .filter_map(|v| v.counters.get("hosts.rq_total").copied())
        .collect();
    into.hosts.extend(sum(&hosts));
}

/// Several windows as one: increases and rates summed (no rate when one lacks it); `pods`
/// counts the windows that moved.
fn sum(windows: &[CounterWindow]) -> Option<CounterWindow> {
    if windows.is_empty() {
        return None;
    }
    Some(CounterWindow {
        increase: windows.iter().map(|w| w.increase).sum(),
        rate: windows
            .iter()
            .try_fold(0.0, |acc, w| w.rate.map(|r| acc + r)),
        resets: windows.iter().map(|w| w.resets).sum(),
        pods: windows.iter().filter(|w| w.increase > 0).count(),
    })
}

fn finding(ctx: &Context<'_>, workload: &str, mut pods: Vec<&str>) -> Finding {
    pods.sort_unstable();
    let mut traffic = Traffic::default();
    for pod in &pods {
        traffic_of(ctx, pod, &mut traffic);
    }
    let traffic_evidence = traffic_evidence(ctx, &traffic);
    let min = ctx.thresholds.min_requests.max(1);
    let busy = traffic_evidence
        .iter()
        .any(|e| e.number.is_some_and(|n| n >= min as f64));
    let severity = if busy {
        Severity::Warning
    } else {
        Severity::Info
    };
    let of = (ctx.snap.sources.iter())
        .filter(|s| owner_of(&s.pod).0 == workload)
        .count()
        .max(pods.len());
    let scope = format!("{} of {of} {workload} pods", pods.len());
    let first = pods.first().copied().unwrap_or(workload);
    let mut f = ctx.pod_finding(RULE.id, severity, first);
    f.target = workload.to_string();
    f.pods = pods.iter().map(|p| p.to_string()).collect();
    f.title = title(workload, &scope, &traffic, busy);
    f.scope = Some(scope.clone());
    f.evidence = evidence(&scope, pods.len(), traffic_evidence);
    f.cause = cause(busy);
    f.next_steps = next_steps(ctx, first);
    f
}

/// What was not collected, the traffic that makes it matter, and what is still there.
fn evidence(scope: &str, pods: usize, traffic: Vec<Evidence>) -> Vec<Evidence> {
    let collection = |name: &str, value: String, number: Option<f64>| Evidence {
        kind: EvidenceKind::Collection,
        name: name.into(),
        value,
        number,
        effective: None,
    };
    let missing = format!(
        "Istio default inclusion only on {scope}: no cluster.outbound|…/inbound|… stats \
         (absent, not 0)"
    );
    std::iter::once(collection("stats matcher", missing, Some(pods as f64)))
        .chain(traffic)
        .chain(std::iter::once(collection(
            "still collected",
            STILL_COLLECTED.into(),
            None,
        )))
        .collect()
}

fn title(workload: &str, scope: &str, traffic: &Traffic, busy: bool) -> String {
    let windows = [&traffic.sent, &traffic.received, &traffic.hosts];
    // Requests sent, else received, else the /clusters count: the first that moved.
    let requests = (windows.into_iter().filter_map(|w| sum(w)))
        .map(|w| w.increase)
        .find(|&n| n > 0);
    match (busy, requests) {
        (true, Some(n)) => format!(
            "{workload}: per-cluster stats not collected on {scope} carrying {n} requests — \
             missing counters are unknown, not zero"
        ),
        (true, None) => format!(
            "{workload}: per-cluster stats not collected on {scope} that carry traffic — \
             missing counters are unknown, not zero"
        ),
        (false, _) => {
            format!("{workload}: per-cluster stats not collected on {scope} (no HTTP traffic seen)")
        }
    }
}

fn traffic_evidence(ctx: &Context<'_>, t: &Traffic) -> Vec<Evidence> {
    let named = [
        ("istio_requests_total reporter=source (sent)", &t.sent),
        (
            "istio_requests_total reporter=destination (received)",
            &t.received,
        ),
        ("/clusters per-host rq_total", &t.hosts),
    ];
    named
        .into_iter()
        .filter_map(|(name, windows)| {
            let w = sum(windows)?;
            Some(Evidence {
                kind: EvidenceKind::Counter,
                name: name.into(),
                value: match w.pods {
                    0 => ctx.window_text(&w),
                    n => format!("{} on {n} pod(s)", ctx.window_text(&w)),
                },
                number: Some(w.increase as f64),
                effective: None,
            })
        })
        .collect()
}

fn cause(busy: bool) -> String {
    let now = match busy {
        true => "These pods carry traffic, so",
        false => "No traffic was seen in the window, but once there is,",
    };
    format!(
        "Istio's default stats matcher (proxyStatsMatcher unset) admits only cluster_manager, \
         listener_manager, server, cluster.xds-grpc and Istio's own metrics: Envoy does not \
         record per-cluster upstream stats (upstream_rq_timeout, upstream_cx_*, circuit \
         breakers, outlier detection). {now} a missing counter means \"not collected\", not \
         \"no errors\": rules that need those counters fire only from weaker signals, at a \
         lower severity. Still available: {STILL_COLLECTED}. Opt in with the pod annotation \
         proxy.istio.io/config (proxyStatsMatcher.inclusionRegexps) or mesh-wide with \
         meshConfig.defaultConfig.proxyStatsMatcher; the sidecar reads it at start, so the \
         pods must restart."
    )
}

/// The regexps of the `meshtop inspect` snippet, so the one-line form says the same.
fn inclusion_regexps() -> Vec<&'static str> {
    STATS_OPT_IN
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- \"")?.strip_suffix('"'))
        .collect()
}

/// `Deployment` for `deployment`: how people write the kind in prose.
fn kind_name(kind: &str) -> &str {
    match kind {
        "deployment" => "Deployment",
        "statefulset" => "StatefulSet",
        other => other,
    }
}

/// `kubectl patch` of the Deployment's pod template with the annotation in JSON form.
fn patch_command(kind: &str, name: &str, ns: &str) -> Option<String> {
    let regexps = inclusion_regexps();
    if regexps.is_empty() {
        return None;
    }
    let config = serde_json::json!({"proxyStatsMatcher": {"inclusionRegexps": regexps}});
    let patch = serde_json::json!({"spec": {"template": {"metadata": {"annotations":
        {"proxy.istio.io/config": config.to_string()}}}}});
    Some(format!(
        "kubectl patch {kind} {name} -n {ns} --type merge -p '{patch}'"
    ))
}

fn next_steps(ctx: &Context<'_>, pod: &str) -> Vec<NextStep> {
    let ns = ctx.namespace_of(pod);
    let (name, kind) = owner_of(pod);
    let owner = kind.map_or(format!("the workload that owns {pod}"), |k| {
        format!("{} {ns}/{name}", kind_name(k))
    });
    let mut steps = vec![
        NextStep::run(
            "Confirm: the stats matcher admits only Istio's defaults",
            format!(
                "istioctl proxy-config bootstrap {pod}.{ns} -o json | jq \
                 .bootstrap.statsConfig.statsMatcher"
            ),
        ),
        NextStep::run(
            format!(
                "Opt in: add this annotation to the pod template of {owner} (mesh-wide: \
                 meshConfig.defaultConfig.proxyStatsMatcher)"
            ),
            STATS_OPT_IN,
        ),
    ];
    if let Some(kind) = kind {
        steps.extend(controller_steps(kind, name, &ns));
    }
    steps.push(NextStep::run(
        "After the restart, the per-cluster stats are there",
        format!("istioctl experimental envoy-stats {pod}.{ns} --type clusters"),
    ));
    steps
}

/// The one-line patch and the restart, for a controller guessed from the pod name.
fn controller_steps(kind: &str, name: &str, ns: &str) -> Vec<NextStep> {
    let patch = patch_command(kind, name, ns).map(|cmd| {
        NextStep::run(
            "Or patch it in one line (this replaces an existing proxy.istio.io/config \
             annotation — merge by hand if the pods have one — and rolls the pods)",
            cmd,
        )
    });
    let restart = NextStep::run(
        "A pod restart is required: the sidecar reads the stats matcher only at start",
        format!("kubectl rollout restart {kind}/{name} -n {ns}"),
    );
    patch.into_iter().chain(std::iter::once(restart)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Thresholds;
    use crate::diagnosis::testkit::*;
    use crate::model::CollectionState;

    const ORDER_C: &str = "order-svc-7d9f8c-g5h6i";
    const ORDER_D: &str = "order-svc-7d9f8c-j7k8l";

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        check(&Context::new(snap, &Thresholds::default()))
    }

    #[test]
    fn groups_pods_by_workload_and_gives_the_opt_in() {
        let snap = SnapBuilder::new()
            .source(ORDER_A, StatsCollection::DefaultInclusionOnly)
            .source(ORDER_B, StatsCollection::DefaultInclusionOnly)
            .source(ORDER_C, StatsCollection::DefaultInclusionOnly)
            .source(ORDER_D, StatsCollection::Full)
            .proxy(ORDER_A, Some(300), Some(100), &[])
            .proxy(ORDER_B, Some(290), None, &[])
            .cluster(INV, |c| {
                c.clients(&[ORDER_A, ORDER_B, ORDER_C, ORDER_D]).per_pod(
                    ORDER_C,
                    "hosts.rq_total",
                    40,
                )
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!((f.rule.as_str(), f.severity), ("R0", Severity::Warning));
        assert_eq!(f.target, "order-svc");
        assert_eq!(f.cluster, None);
        assert_eq!(f.pods, [ORDER_A, ORDER_B, ORDER_C]);
        assert_eq!(f.scope.as_deref(), Some("3 of 4 order-svc pods"));
        assert_eq!(
            f.title,
            "order-svc: per-cluster stats not collected on 3 of 4 order-svc pods carrying 590 \
             requests — missing counters are unknown, not zero"
        );
        let sent = &f.evidence[1];
        assert_eq!(sent.name, "istio_requests_total reporter=source (sent)");
        assert_eq!(sent.value, "+590 in 30s (20/s) on 2 pod(s)");
        assert_eq!(f.evidence[2].number, Some(100.0));
        assert_eq!(f.evidence[3].name, "/clusters per-host rq_total");
        assert_eq!(f.evidence[3].value, "+40 in 30s (1.33/s) on 1 pod(s)");
        assert_eq!(f.evidence[4].name, "still collected");
        assert!(f.cause.contains("not \"no errors\""));
        let commands: Vec<&str> = f
            .next_steps
            .iter()
            .filter_map(|s| s.command.as_deref())
            .collect();
        assert_eq!(
            commands[0],
            "istioctl proxy-config bootstrap order-svc-7d9f8c-a1b2c.prod -o json | jq \
             .bootstrap.statsConfig.statsMatcher"
        );
        assert_eq!(commands[1], STATS_OPT_IN);
        assert!(
            f.next_steps[1]
                .text
                .contains("pod template of Deployment prod/order-svc")
        );
        assert_eq!(
            commands[2],
            r#"kubectl patch deployment order-svc -n prod --type merge -p '{"spec":{"template":{"metadata":{"annotations":{"proxy.istio.io/config":"{\"proxyStatsMatcher\":{\"inclusionRegexps\":[\".*(outbound|inbound)[|].*(upstream_rq|upstream_cx|circuit_breakers|outlier_detection|membership_).*\"]}}"}}}}}'"#
        );
        assert_eq!(
            commands[3],
            "kubectl rollout restart deployment/order-svc -n prod"
        );
        assert!(f.next_steps[3].text.contains("restart is required"));
    }

    #[test]
    fn without_traffic_it_is_info_and_full_stats_are_quiet() {
        let idle = SnapBuilder::new()
            .source("orders-db-0", StatsCollection::DefaultInclusionOnly)
            .source("batch", StatsCollection::DefaultInclusionOnly)
            .proxy("orders-db-0", None, Some(0), &[])
            .build();
        let found = run(&idle);
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].severity, Severity::Info);
        assert_eq!(
            found[1].title,
            "orders-db: per-cluster stats not collected on 1 of 1 orders-db pods (no HTTP \
             traffic seen)"
        );
        assert_eq!(
            found[1].next_steps[3].command.as_deref(),
            Some("kubectl rollout restart statefulset/orders-db -n prod")
        );
        // No controller to guess from the name: no patch/rollout command with a made-up name.
        assert_eq!(found[0].target, "batch");
        assert!(
            found[0].next_steps[1]
                .text
                .contains("the workload that owns batch")
        );
        assert_eq!(found[0].next_steps.len(), 3);
        let full = SnapBuilder::new()
            .source(ORDER_A, StatsCollection::Full)
            .source_state(ORDER_B, CollectionState::Pending, StatsCollection::None)
            .proxy(ORDER_A, Some(300), None, &[])
            .build();
        assert!(run(&full).is_empty());
    }

    #[test]
    fn owners_from_pod_names() {
        assert_eq!(
            owner_of("order-svc-drs84w455-nxhgh"),
            ("order-svc", Some("deployment"))
        );
        assert_eq!(owner_of("orders-db-0"), ("orders-db", Some("statefulset")));
        assert_eq!(owner_of("batch"), ("batch", None));
        assert_eq!(owner_of("my-job-abc"), ("my-job-abc", None));
    }
}
