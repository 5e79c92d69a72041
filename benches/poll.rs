//! Poll-cycle benchmark (DESIGN.md §6): the real collection path — kube-rs port-forwards,
//! `PollerSet`, the Envoy parsers — against the simulated cluster started in-process, for 50,
//! 200 and 1,000 sidecars. Reports the cycle time (p50/p95/max), forwards opened, bytes per
//! poll filtered vs unfiltered, render and parse cost per poll, RSS and CPU, and times what an
//! on-call engineer does by hand (a sequential `kubectl get --raw …/proxy/stats` loop) on the
//! same pods.
//!
//! Each size runs in a child process (this binary re-executed with `MESHTOP_BENCH_RUN`), so RSS
//! does not carry over between sizes. `poll/cycles.rs` measures the cycles, `poll/probe.rs`
//! bytes, parse costs, kubectl and memory, `poll/report.rs` prints the tables.
//!
//! Run: `cargo bench --bench poll`. Knobs: `MESHTOP_BENCH_PODS=50,200,1000,1000x100b` (sizes:
//! `N` pods with 20 extra idle clusters each, `NxM` with M; a trailing `b` measures bytes
//! only, no poll cycles), `MESHTOP_BENCH_CYCLES` (steady cycles, default 20),
//! `MESHTOP_BENCH_BUDGET_S` (wall-clock cap on one size's polling, default 120 s),
//! `MESHTOP_BENCH_KUBECTL_MAX` (largest size timed with kubectl, default 200),
//! `MESHTOP_BENCH_CLUSTERS_EVERY_S` (seconds between a pod's `/clusters` reads, default 0:
//! every poll; the TUI uses 10), `MESHTOP_BENCH_KEEP_MIB` (the pollers' budget for kept
//! `/clusters` captures, default 16). The definitions
//! of the figures are in `docs/PERFORMANCE.md`.

#[path = "poll/cycles.rs"]
mod cycles;
#[path = "poll/probe.rs"]
mod probe;
#[path = "poll/report.rs"]
mod report;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meshtop::kube::{ClientOptions, MeshPod};
use meshtop::sim::scenario::SimConfig;
use meshtop::sim::server::{ClockMode, RunningServer, SimServerConfig, start, write_kubeconfig};
use meshtop::sim::traffic::Simulation;
use serde_json::{Value, json};

use cycles::measure_cycles;
use probe::{measure_bytes, memory_kib, time_kubectl};
use report::print_summary;

const RUN_VAR: &str = "MESHTOP_BENCH_RUN";
const DEFAULT_SIZES: &str = "50,200,1000,1000x100b";
const DEFAULT_EXTRA_CLUSTERS: usize = 20;
/// Simulated traffic computed before polling starts, so `usedonly` stats exist.
const WARM_SIM_MS: u64 = 60_000;

/// One benchmark run: `pods` sidecars with `clusters` extra idle outbound clusters each.
#[derive(Debug, Clone, Copy)]
struct RunSpec {
    pods: usize,
    clusters: usize,
    /// Steady cycles wanted; 0 = bytes only.
    cycles: usize,
    /// Seconds of polling at most.
    budget: usize,
    kubectl: bool,
}

impl RunSpec {
    fn encode(&self) -> String {
        let kubectl = u8::from(self.kubectl);
        let RunSpec { pods, clusters, .. } = self;
        format!(
            "{pods}:{clusters}:{}:{}:{kubectl}",
            self.cycles, self.budget
        )
    }

    fn decode(text: &str) -> Option<RunSpec> {
        let parts: Vec<usize> = text
            .split(':')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        match parts[..] {
            [pods, clusters, cycles, budget, kubectl] => Some(RunSpec {
                pods,
                clusters,
                cycles,
                budget,
                kubectl: kubectl == 1,
            }),
            _ => None,
        }
    }
}

fn main() {
    if let Ok(spec) = std::env::var(RUN_VAR) {
        let spec = RunSpec::decode(&spec)
            .expect("MESHTOP_BENCH_RUN is pods:clusters:cycles:budget:kubectl");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let result = runtime.block_on(run(spec));
        println!("RESULT {result}");
        return;
    }
    let results: Vec<Value> = planned_runs().into_iter().filter_map(run_child).collect();
    print_summary(&results);
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The runs asked for by `MESHTOP_BENCH_PODS` (`50,200,1000,1000x100b`).
fn planned_runs() -> Vec<RunSpec> {
    let sizes = std::env::var("MESHTOP_BENCH_PODS").unwrap_or_else(|_| DEFAULT_SIZES.into());
    let cycles = env_number("MESHTOP_BENCH_CYCLES", 20).max(2);
    let budget = env_number("MESHTOP_BENCH_BUDGET_S", 120);
    let kubectl_max = env_number("MESHTOP_BENCH_KUBECTL_MAX", 200);
    let mut runs = Vec::new();
    for item in sizes.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (size, bytes_only) = match item.strip_suffix('b') {
            Some(size) => (size, true),
            None => (item, false),
        };
        let (pods, clusters) = match size.split_once('x') {
            Some((p, c)) => (p.parse(), c.parse()),
            None => (size.parse(), Ok(DEFAULT_EXTRA_CLUSTERS)),
        };
        let (Ok(pods), Ok(clusters)) = (pods, clusters) else {
            eprintln!("ignoring size {item:?} (want N, NxM or NxMb)");
            continue;
        };
        runs.push(RunSpec {
            pods,
            clusters,
            cycles: if bytes_only { 0 } else { cycles },
            budget,
            kubectl: !bytes_only && pods <= kubectl_max,
        });
    }
    runs
}

/// Runs `spec` in a child process, echoing its output; its `RESULT` line.
fn run_child(spec: RunSpec) -> Option<Value> {
    println!(
        "\n== {} sidecars × {} extra clusters ==",
        spec.pods, spec.clusters
    );
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe)
        .env(RUN_VAR, spec.encode())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start child run");
    let mut result = None;
    let lines = child.stdout.take().map(|out| BufReader::new(out).lines());
    for line in lines.into_iter().flatten().map_while(Result::ok) {
        match line.strip_prefix("RESULT ") {
            Some(json) => result = serde_json::from_str(json).ok(),
            None => println!("  {line}"),
        }
    }
    match child.wait() {
        Ok(status) if status.success() => {}
        other => println!("  run failed: {other:?}"),
    }
    result
}

/// One child run: sim, poll cycles (unless bytes only), bytes, kubectl loop.
async fn run(spec: RunSpec) -> Value {
    let rss_start = memory_kib();
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, sim_setup) = start_cluster(spec, dir.path()).await;
    let rss_sim = memory_kib();
    println!(
        "sim ready in {:.2}s (world + {} s of simulated traffic); RSS {} MiB",
        sim_setup.as_secs_f64(),
        WARM_SIM_MS / 1000,
        rss_sim.0 / 1024
    );
    let (client, pods) = discover(dir.path(), spec.pods).await;
    let timing = match spec.cycles {
        0 => Value::Null,
        cycles => measure_cycles(&client, &pods, cycles, spec.budget).await,
    };
    let rss_polled = memory_kib();
    let bytes = measure_bytes(&client, &pods, server.simulation()).await;
    println!("bytes: {bytes}");
    let kubectl = match spec.kubectl {
        true => time_kubectl(dir.path(), &pods).await,
        false => Value::Null,
    };
    drop(server);
    json!({
        "pods": spec.pods, "clusters": spec.clusters, "timing": timing, "bytes": bytes,
        "kubectl": kubectl,
        "rss_kib": {"start": rss_start.0, "sim": rss_sim.0, "after_poll": rss_polled.0,
                    "peak": rss_polled.1},
    })
}

/// Connects through the written kubeconfig and lists the meshed pods, as meshtop does.
async fn discover(dir: &Path, expected: usize) -> (kube::Client, Vec<MeshPod>) {
    let options = ClientOptions {
        kubeconfig: Some(dir.join("config")),
        ..ClientOptions::default()
    };
    let (client, target) = meshtop::kube::connect(&options).await.expect("connect");
    let pods = meshtop::kube::list_mesh_pods(&client, Some("prod"), None, &target.server)
        .await
        .expect("list pods");
    assert_eq!(pods.len(), expected, "meshed pods discovered");
    (client, pods)
}

/// Builds the simulation, computes [`WARM_SIM_MS`] of traffic, serves it with a manual clock
/// (the sim spends no CPU between requests) and writes `dir/config`.
async fn start_cluster(spec: RunSpec, dir: &Path) -> (RunningServer, Duration) {
    let begun = Instant::now();
    let cfg = SimConfig {
        scenario: "healthy".parse().expect("scenario"),
        pods: Some(spec.pods),
        extra_clusters_per_pod: spec.clusters,
        ..SimConfig::default()
    };
    let mut sim = Simulation::new(&cfg);
    sim.advance_to(WARM_SIM_MS);
    let server_cfg = SimServerConfig {
        clock: ClockMode::Manual,
        allow_anonymous: true,
        ..SimServerConfig::default()
    };
    let token = server_cfg.token.clone();
    let server = start(Arc::new(Mutex::new(sim)), server_cfg)
        .await
        .expect("start sim");
    write_kubeconfig(&dir.join("config"), server.addr(), &token, "prod").expect("kubeconfig");
    (server, begun.elapsed())
}
