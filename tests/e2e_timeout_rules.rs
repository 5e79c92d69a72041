//! The timeout rules (R0, R1, R2, R20, R24) on the simulated scenarios that target them,
//! through the real collection path: the simulated cluster in-process, kube-rs, port-forwards,
//! the pollers and `build_snapshot`, then `diagnosis::evaluate`. Simulated time is driven by the
//! test (as in `e2e_scenarios.rs`): held at `from` while the first polls read it, moved to `to`
//! in steps, then held there for the last polls.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use meshtop::collect::{CollectOptions, collect_snapshot};
use meshtop::diagnosis::{Finding, Severity, evaluate};
use meshtop::kube::ClientOptions;
use meshtop::model::MeshSnapshot;
use meshtop::sim::scenario::SimConfig;
use meshtop::sim::server::{ClockMode, SimServerConfig, start as start_sim, write_kubeconfig};
use meshtop::sim::traffic::Simulation;

const INV: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";
const INTERVAL: Duration = Duration::from_millis(250);
/// Real time simulated time stays at `from` (every pod's first poll) and at `to` (every pod's
/// last poll) on the first attempt; doubled on each retry, for a machine under load.
const HOLD: Duration = Duration::from_millis(1500);
const STEPS: u64 = 10;
const STEP: Duration = Duration::from_millis(60);
/// One collection at a time: each keeps most of a core busy, and a starved poller that misses
/// the hold at `from` leaves the window without deltas.
static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// One snapshot of `scenario` covering simulated time `from_ms`..`to_ms`. On a busy 2-core
/// machine a poller can miss the hold at `from`, leaving a pod without a window; such a
/// collection is repeated (up to three times) rather than judged.
async fn collect(scenario: &str, from_ms: u64, to_ms: u64) -> MeshSnapshot {
    let mut missed = String::new();
    for attempt in 0..3 {
        let hold = HOLD * 2u32.pow(attempt);
        let snap = collect_once(scenario, from_ms, to_ms, hold).await;
        match window_gaps(&snap, (to_ms - from_ms) as f64 / 1000.0) {
            None => return snap,
            Some(gap) => {
                eprintln!("{scenario}: collection missed the window ({gap}); collecting again");
                missed = gap;
            }
        }
    }
    panic!("{scenario}: three collections missed the window: {missed}");
}

async fn collect_once(scenario: &str, from_ms: u64, to_ms: u64, hold: Duration) -> MeshSnapshot {
    let _slot = SLOTS.acquire().await.unwrap();
    let cfg = SimConfig {
        scenario: scenario.parse().unwrap(),
        ..SimConfig::default()
    };
    let mut sim = Simulation::new(&cfg);
    sim.advance_to(from_ms);
    let sim = Arc::new(Mutex::new(sim));
    let server_cfg = SimServerConfig {
        clock: ClockMode::Manual,
        ..SimServerConfig::default()
    };
    let token = server_cfg.token.clone();
    let server = start_sim(sim.clone(), server_cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    write_kubeconfig(&path, server.addr(), &token, "prod").unwrap();
    let opts = CollectOptions {
        client: ClientOptions {
            kubeconfig: Some(path),
            ..ClientOptions::default()
        },
        ..CollectOptions::default()
    };
    let clock = tokio::spawn(drive(sim.clone(), from_ms, to_ms, hold));
    let window = hold * 2 + STEP * STEPS as u32;
    let snap = collect_snapshot(&opts, window, INTERVAL).await.unwrap();
    clock.await.unwrap();
    server.shutdown().await.unwrap();
    snap
}

/// Requests per simulated second each HTTP pod of the shop sends plus receives
/// (`docs/SCENARIOS.md`: 10 req/s per edge; orders-db and the idle pricing-svc-v1 have none).
const NOMINAL: &[(&str, f64)] = &[
    ("frontend-", 10.0),
    ("order-svc-", 30.0),
    ("inventory-svc-", 20.0 / 3.0),
    ("pricing-svc-v2-", 20.0),
];

/// Why the window does not cover the simulated span, if it does not: a source not read, or
/// an HTTP pod whose requests sent + received fell below half of what `seconds` of simulated
/// traffic carry — its first poll came after time moved, and the rules would be judged on a
/// partial window.
fn window_gaps(snap: &MeshSnapshot, seconds: f64) -> Option<String> {
    if let Some(s) = snap.sources.iter().find(|s| !s.state.is_ok()) {
        return Some(format!("{s:?}"));
    }
    let seen = |pod: &str| {
        let p = snap.proxy(pod);
        let windows = p
            .into_iter()
            .flat_map(|p| [p.outbound_requests, p.inbound_requests]);
        windows.flatten().map(|w| w.increase).sum::<u64>()
    };
    let short: Vec<String> = (snap.sources.iter())
        .filter_map(|s| {
            let (_, rate) = NOMINAL
                .iter()
                .find(|(prefix, _)| s.pod.starts_with(prefix))?;
            let n = seen(&s.pod);
            ((n as f64) < 0.5 * rate * seconds).then(|| format!("{} {n}", s.pod))
        })
        .collect();
    (!short.is_empty()).then(|| format!("too few requests in the window: {short:?}"))
}

async fn drive(sim: Arc<Mutex<Simulation>>, from_ms: u64, to_ms: u64, hold: Duration) {
    tokio::time::sleep(hold).await;
    for step in 1..=STEPS {
        let t = from_ms + (to_ms - from_ms) * step / STEPS;
        let sim = sim.clone();
        tokio::task::spawn_blocking(move || sim.lock().unwrap().advance_to(t))
            .await
            .unwrap();
        tokio::time::sleep(STEP).await;
    }
}

fn mine(findings: &[Finding]) -> Vec<&Finding> {
    const RULES: &[&str] = &["R0", "R1", "R2", "R3", "R4", "R5", "R20", "R24"];
    (findings.iter())
        .filter(|f| RULES.contains(&f.rule.as_str()))
        .collect()
}

fn one<'a>(findings: &'a [&'a Finding], rule: &str, target: &str) -> &'a Finding {
    let hits: Vec<&&Finding> = (findings.iter())
        .filter(|f| f.rule == rule && f.target == target)
        .collect();
    assert_eq!(hits.len(), 1, "{rule} {target}: {findings:#?}");
    hits[0]
}

fn evidence<'a>(f: &'a Finding, name: &str) -> &'a meshtop::diagnosis::Evidence {
    let found = f.evidence.iter().find(|e| e.name == name);
    found.unwrap_or_else(|| panic!("{}: no evidence {name}: {:#?}", f.rule, f.evidence))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_keepalive_gives_r1_with_the_vs_timeout_and_r24_pointing_at_it() {
    let snap = collect("grpc-keepalive", 80_000, 120_000).await;
    let all = evaluate(&snap);
    let found = mine(&all);
    let rules: Vec<&str> = found.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["R1", "R24"], "{found:#?}");

    let r1 = one(&found, "R1", "inventory-svc.prod:8080");
    assert_eq!(r1.cluster.as_deref(), Some(INV));
    assert_eq!(r1.severity, Severity::Critical);
    let timeouts = snap
        .cluster(INV)
        .unwrap()
        .increase("upstream_rq_timeout")
        .unwrap();
    assert!(timeouts > 0);
    assert!(
        r1.title
            .starts_with(&format!("inventory-svc.prod:8080: {timeouts} of ")),
        "{}",
        r1.title
    );
    assert!(
        r1.title
            .contains("timed out at the 1s VirtualService timeout (p99 ")
    );
    let vs = evidence(r1, "VirtualService prod/inventory-svc http[0].timeout");
    assert_eq!((vs.value.as_str(), vs.number), ("1s", Some(1000.0)));
    let p99 = evidence(r1, "upstream_rq_time p99").number.unwrap();
    assert!(p99 > 250.0 && p99 <= 1000.0, "{p99}");
    assert_eq!(
        evidence(r1, "upstream_rq_timeout").number,
        Some(timeouts as f64)
    );
    assert_eq!(
        evidence(r1, "UT (504, reporter=source)").number,
        Some(timeouts as f64)
    );
    let dc = evidence(r1, "DC (0, reporter=destination)").number.unwrap();
    assert!(dc > 0.0);
    assert!(r1.cause.contains("istio/istio#19320"));
    assert_eq!(r1.scope.as_deref(), Some("2 of 2 order-svc pods"));
    let route = r1.next_steps[0].command.as_deref().unwrap();
    assert!(
        route.starts_with("istioctl proxy-config route order-svc-")
            && route.ends_with(".prod --name 8080 -o json"),
        "{route}"
    );

    let r24 = one(&found, "R24", "inventory-svc.prod:8080");
    assert_eq!(r24.severity, Severity::Info);
    assert!(
        r24.title
            .contains("the caller's 1s route timeout gave up (R1)"),
        "{}",
        r24.title
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_not_enabled_gives_r0_per_workload_and_r1_from_what_remains() {
    let snap = collect("stats-not-enabled", 20_000, 50_000).await;
    let all = evaluate(&snap);
    let found = mine(&all);
    let r0: Vec<(&str, Severity)> = (found.iter())
        .filter(|f| f.rule == "R0")
        .map(|f| (f.target.as_str(), f.severity))
        .collect();
    // Every sidecar lacks the opt-in; the ones without HTTP traffic are infos.
    assert_eq!(
        r0,
        [
            ("frontend", Severity::Warning),
            ("inventory-svc", Severity::Warning),
            ("order-svc", Severity::Warning),
            ("pricing-svc-v2", Severity::Warning),
            ("orders-db", Severity::Info),
            ("pricing-svc-v1", Severity::Info),
        ]
    );
    let order = one(&found, "R0", "order-svc");
    assert_eq!(order.scope.as_deref(), Some("2 of 2 order-svc pods"));
    let restart = order.next_steps.iter().filter_map(|s| s.command.as_deref());
    assert!(
        restart
            .clone()
            .any(|c| c == "kubectl rollout restart deployment/order-svc -n prod")
    );
    assert!(restart.clone().any(|c| c.contains("inclusionRegexps")));

    let r1 = one(&found, "R1", "inventory-svc.prod:8080");
    assert_eq!(r1.severity, Severity::Critical);
    assert!(
        evidence(r1, "hosts.rq_timeout")
            .number
            .is_some_and(|n| n > 0.0)
    );
    assert!(
        evidence(r1, "UT (504, reporter=source)")
            .number
            .is_some_and(|n| n > 0.0)
    );
    assert_eq!(
        evidence(r1, "VirtualService prod/inventory-svc http[0].timeout").value,
        "1s"
    );
    assert!(
        !found.iter().any(|f| f.rule == "R20"),
        "not collected is not zero"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_shop_gives_none_of_them() {
    let snap = collect("healthy", 20_000, 50_000).await;
    let all = evaluate(&snap);
    assert!(mine(&all).is_empty(), "{:#?}", mine(&all));
}
