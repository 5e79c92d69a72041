//! Poll-cycle benchmark (DESIGN.md §6): the real collection path — kube-rs port-forwards,
//! `PollerSet`, the Envoy parsers — against the simulated cluster started in-process, for 50,
//! 200 and 1,000 sidecars. Reports the cycle time (p50/p95/max), polls in flight, forwards
//! opened, bytes per poll filtered vs unfiltered, RSS and CPU, and times what an on-call
//! engineer does by hand (a sequential `kubectl get --raw …/proxy/stats` loop) on the same pods.
//!
//! Each size runs in a child process (this binary re-executed with `MESHTOP_BENCH_RUN`), so RSS
//! does not carry over between sizes. Run: `cargo bench --bench poll`. Knobs:
//! `MESHTOP_BENCH_PODS=50,200,1000,1000x100b` (sizes: `N` pods with 20 extra idle clusters
//! each, `NxM` with M; a trailing `b` measures bytes only, no poll cycles),
//! `MESHTOP_BENCH_CYCLES` (steady cycles, default 20), `MESHTOP_BENCH_BUDGET_S` (wall-clock cap
//! on one size's polling, default 120 s), `MESHTOP_BENCH_KUBECTL_MAX` (largest size timed with
//! kubectl, default 200). The definitions of the figures are in `docs/PERFORMANCE.md`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meshtop::collect::default_stats_filter;
use meshtop::collect::{CollectorMsg, MonotonicClock, PollerConfig, PollerSet};
use meshtop::envoy::clusters::parse_clusters_json;
use meshtop::envoy::stats_text::parse_stats_text;
use meshtop::kube::{AdminConnection, AdminLimits, AdminPath, ClientOptions, MeshPod};
use meshtop::model::CollectionState;
use meshtop::sim::envoy::respond_to_path;
use meshtop::sim::scenario::SimConfig;
use meshtop::sim::server::{
    ClockMode, RunningServer, SharedSimulation, SimServerConfig, start, write_kubeconfig,
};
use meshtop::sim::traffic::Simulation;
use serde_json::{Value, json};
use tokio::sync::mpsc;

const RUN_VAR: &str = "MESHTOP_BENCH_RUN";
const DEFAULT_SIZES: &str = "50,200,1000,1000x100b";
const DEFAULT_EXTRA_CLUSTERS: usize = 20;
/// Simulated traffic computed before polling starts, so `usedonly` stats exist.
const WARM_SIM_MS: u64 = 60_000;
/// Pods whose unfiltered `/stats` is read for the bytes comparison.
const BYTES_SAMPLE: usize = 50;

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

/// One poll as the consumer saw it: `end` when the `Scraped` arrived, `start` = `end` minus
/// the poll's own `elapsed`.
struct Poll {
    start: Instant,
    end: Instant,
    bytes: usize,
}

/// Everything the pollers sent, per pod in arrival order.
#[derive(Default)]
struct Trace {
    polls: Vec<Vec<Poll>>,
    failures: Vec<String>,
    issues: usize,
    server_infos: usize,
    config_dumps: usize,
}

/// Polls for up to `cycles` steady cycles within `budget` seconds; the timing summary.
async fn measure_cycles(
    client: &kube::Client,
    pods: &[MeshPod],
    cycles: usize,
    budget: usize,
) -> Value {
    let (cpu_before, machine_before) = (cpu_seconds(), machine_busy_seconds());
    let budget = Duration::from_secs(u64::try_from(budget).unwrap_or(u64::MAX));
    let trace = poll_cycles(client, pods, cycles, budget).await;
    let cpu = cpu_seconds() - cpu_before;
    let mut timing = trace.summary(cpu);
    let others = machine_busy_seconds() - machine_before - cpu;
    timing["others_cores"] = json!(others / trace.wall().max(1e-9));
    println!("poll cycles: {timing}");
    timing
}

/// Runs the real pollers (default config: 2 s interval, 32 in flight) until every pod has
/// delivered `cycles + 1` polls (the first is the cold cycle) or `budget` has passed.
async fn poll_cycles(
    client: &kube::Client,
    pods: &[MeshPod],
    cycles: usize,
    budget: Duration,
) -> Trace {
    let index: HashMap<String, usize> = (pods.iter().enumerate())
        .map(|(i, p)| (p.name.clone(), i))
        .collect();
    let config = PollerConfig::default();
    let (tx, mut rx) = mpsc::channel(16_384);
    let clock = MonotonicClock::start();
    let set = PollerSet::spawn(client, pods, &config, clock, |p| p.name.clone(), &tx);
    drop(tx);
    let wanted = cycles + 1;
    let deadline = tokio::time::Instant::now() + budget;
    let mut trace = Trace {
        polls: (0..pods.len()).map(|_| Vec::new()).collect(),
        ..Trace::default()
    };
    while trace.polls.iter().any(|p| p.len() < wanted) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(msg)) => trace.record(msg, &index),
            _ => break,
        }
    }
    set.shutdown().await;
    trace
}

impl Trace {
    fn record(&mut self, msg: CollectorMsg, index: &HashMap<String, usize>) {
        let now = Instant::now();
        let slot = index.get(msg.pod()).copied();
        match msg {
            CollectorMsg::Scraped {
                bytes,
                elapsed,
                issues,
                ..
            } => {
                self.issues += issues.len();
                let poll = Poll {
                    start: now - elapsed,
                    end: now,
                    bytes,
                };
                if let Some(polls) = slot.and_then(|i| self.polls.get_mut(i)) {
                    polls.push(poll);
                }
            }
            CollectorMsg::State { pod, state, .. } => {
                if state != CollectionState::Pending {
                    self.failures.push(format!("{pod}: {state:?}"));
                }
            }
            CollectorMsg::ServerInfo { .. } => self.server_infos += 1,
            CollectorMsg::ConfigDump { .. } => self.config_dumps += 1,
        }
    }

    /// Cycle `k`: from the earliest start of any pod's `k`-th poll to the arrival of the last
    /// pod's `k`-th `Scraped`; `None` when some pod has no `k`-th poll.
    fn cycle(&self, k: usize) -> Option<Duration> {
        let polls: Vec<&Poll> = self.polls.iter().map(|p| p.get(k)).collect::<Option<_>>()?;
        let start = polls.iter().map(|p| p.start).min()?;
        let end = polls.iter().map(|p| p.end).max()?;
        Some(end - start)
    }

    /// Mean time between the starts of one pod's consecutive steady polls, over pods.
    fn mean_period(&self) -> Option<Duration> {
        let periods: Vec<Duration> = (self.polls.iter())
            .filter(|p| p.len() >= 3)
            .map(|p| (p[p.len() - 1].start - p[1].start) / u32::try_from(p.len() - 2).unwrap_or(1))
            .collect();
        let n = u32::try_from(periods.len()).ok().filter(|n| *n > 0)?;
        Some(periods.iter().sum::<Duration>() / n)
    }

    /// Seconds from the first poll's start to the last poll's arrival.
    fn wall(&self) -> f64 {
        let all = || self.polls.iter().flatten();
        let span = all().map(|p| p.end).max().zip(all().map(|p| p.start).min());
        span.map_or(0.0, |(end, start)| secs(end - start))
    }

    fn summary(&self, cpu_seconds: f64) -> Value {
        let complete = self.polls.iter().map(Vec::len).min().unwrap_or(0);
        let mut steady: Vec<f64> = (1..complete)
            .filter_map(|k| self.cycle(k))
            .map(secs)
            .collect();
        let steady_polls: Vec<&Poll> = self.polls.iter().flat_map(|p| p.iter().skip(1)).collect();
        let mut latency: Vec<f64> = steady_polls.iter().map(|p| secs(p.end - p.start)).collect();
        let polls: usize = self.polls.iter().map(Vec::len).sum();
        let (wall, per_poll) = (self.wall(), polls.max(1) as f64);
        json!({
            "cycles": steady.len(), "cold_s": self.cycle(0).map(secs),
            "p50_s": percentile(&mut steady, 0.50), "p95_s": percentile(&mut steady, 0.95),
            "max_s": steady.iter().copied().reduce(f64::max),
            "poll_p50_s": percentile(&mut latency, 0.50),
            "poll_p95_s": percentile(&mut latency, 0.95),
            "polls": polls, "polls_per_s": polls as f64 / wall.max(1e-9),
            "forwards_opened": self.server_infos, "config_dumps": self.config_dumps,
            "period_s": self.mean_period().map(secs),
            "poll_bytes": mean(steady_polls.iter().map(|p| p.bytes as f64)),
            "failures": self.failures.len(), "first_failure": self.failures.first(),
            "issues": self.issues, "cpu_s": cpu_seconds, "wall_s": wall,
            "cores": cpu_seconds / wall.max(1e-9), "cpu_ms_per_poll": cpu_seconds * 1e3 / per_poll,
        })
    }
}

/// Per sampled pod: body sizes and the CPU time to make (simulator) and parse (meshtop) them.
#[derive(Default)]
struct ByteSample {
    filtered: usize,
    clusters: usize,
    unfiltered: usize,
    sim_render: Duration,
    stats_parse: Duration,
    clusters_parse: Duration,
}

/// Reads the filtered `/stats`, `/clusters?format=json` and the unfiltered `/stats` through a
/// fresh port-forward for up to [`BYTES_SAMPLE`] pods spread over the list, and times, on
/// the same pods, the simulator rendering and meshtop parsing one poll's two bodies.
async fn measure_bytes(client: &kube::Client, pods: &[MeshPod], sim: &SharedSimulation) -> Value {
    let n = pods.len().min(BYTES_SAMPLE);
    let mut sum = ByteSample::default();
    for i in 0..n {
        let pod = &pods[i * pods.len() / n];
        let one = sample_pod(client, pod, sim).await;
        sum.filtered += one.filtered;
        sum.clusters += one.clusters;
        sum.unfiltered += one.unfiltered;
        sum.sim_render += one.sim_render;
        sum.stats_parse += one.stats_parse;
        sum.clusters_parse += one.clusters_parse;
    }
    let per = |total: usize| total as f64 / n.max(1) as f64;
    let ms = |total: Duration| total.as_secs_f64() * 1e3 / n.max(1) as f64;
    let (stats, clusters, all) = (per(sum.filtered), per(sum.clusters), per(sum.unfiltered));
    json!({
        "sampled": n, "filtered_stats": stats, "clusters_json": clusters,
        "unfiltered_stats": all, "stats_ratio": stats / all,
        "poll_ratio": (stats + clusters) / all,
        "sim_render_ms": ms(sum.sim_render), "stats_parse_ms": ms(sum.stats_parse),
        "clusters_parse_ms": ms(sum.clusters_parse),
    })
}

async fn sample_pod(client: &kube::Client, pod: &MeshPod, sim: &SharedSimulation) -> ByteSample {
    let filtered = AdminPath::filtered_stats(&default_stats_filter());
    let clusters = AdminPath::Clusters { json: true };
    let unfiltered = AdminPath::Stats {
        used_only: false,
        filter: None,
    };
    let limits = AdminLimits::default();
    let (ns, name) = (&pod.namespace, &pod.name);
    let mut conn = AdminConnection::new(client.clone(), ns, name, pod.admin_port, limits);
    let mut get = async |path: &AdminPath| conn.get(path).await.expect("admin GET");
    let (stats_body, clusters_body) = (get(&filtered).await, get(&clusters).await);
    let unfiltered_len = get(&unfiltered).await.len();
    conn.close().await;

    let begun = Instant::now();
    let proxy = sim
        .lock()
        .expect("sim lock")
        .proxy(ns, name)
        .expect("proxy up");
    let rendered = [&filtered, &clusters].map(|p| respond_to_path(&proxy, &p.to_uri()).body.len());
    let sim_render = begun.elapsed();
    assert_eq!(rendered, [stats_body.len(), clusters_body.len()]);

    let begun = Instant::now();
    let stats = parse_stats_text(&stats_body).expect("filtered /stats parses");
    let stats_parse = begun.elapsed();
    let begun = Instant::now();
    let text = std::str::from_utf8(&clusters_body).expect("/clusters is UTF-8");
    let dump = parse_clusters_json(text).expect("/clusters parses");
    let clusters_parse = begun.elapsed();
    std::hint::black_box((stats, dump));
    ByteSample {
        filtered: stats_body.len(),
        clusters: clusters_body.len(),
        unfiltered: unfiltered_len,
        sim_render,
        stats_parse,
        clusters_parse,
    }
}

/// `kubectl get --raw …/proxy/stats` for every pod, one after the other like a shell loop.
async fn time_kubectl(dir: &Path, pods: &[MeshPod]) -> Value {
    let present = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output();
    let version = match present {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        _ => {
            println!("kubectl: skipped (kubectl not on PATH)");
            return Value::Null;
        }
    };
    let version = version.lines().next().unwrap_or("").to_string();
    // One untimed call so the 57 MB binary is in the page cache, as on a warm laptop.
    let _ = kubectl_raw(dir, &pods[0]).await;
    let begun = Instant::now();
    let (mut bytes, mut failed) = (0usize, 0usize);
    for pod in pods {
        match kubectl_raw(dir, pod).await {
            Some(n) => bytes += n,
            None => failed += 1,
        }
    }
    let total = secs(begun.elapsed());
    println!(
        "kubectl loop: {} pods in {total:.2}s ({version})",
        pods.len()
    );
    json!({"total_s": total, "per_pod_s": total / pods.len() as f64, "bytes": bytes,
           "failed": failed, "version": version})
}

/// One `kubectl get --raw` of the pod's unfiltered `/stats`; the body size, `None` on failure.
async fn kubectl_raw(dir: &Path, pod: &MeshPod) -> Option<usize> {
    let raw = format!(
        "/api/v1/namespaces/{}/pods/{}:{}/proxy/stats",
        pod.namespace, pod.name, pod.admin_port
    );
    let out = tokio::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(dir.join("config"))
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args(["get", "--raw", &raw])
        .env("HOME", dir)
        .output()
        .await
        .ok()?;
    out.status.success().then_some(out.stdout.len())
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Nearest-rank percentile (`q` in 0..=1); `None` for no values.
fn percentile(values: &mut [f64], q: f64) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let rank = (q * values.len() as f64).ceil() as usize;
    values.get(rank.saturating_sub(1)).copied()
}

/// (`VmRSS`, `VmHWM`) of this process in KiB, from `/proc/self/status` (0 when unreadable).
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        (status.lines())
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// User + system CPU time of this process (all threads), from `/proc/self/stat` at the usual
/// 100 ticks per second.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = (after_name.split_whitespace())
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // Fields 14 and 15 of the line; index 0 here is field 3 (state).
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    ticks as f64 / 100.0
}

/// Busy CPU time of the whole machine (all processes), from the first line of `/proc/stat`,
/// to tell whether other processes competed for the 2 cores during a run.
fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = (stat.lines().next().unwrap_or("").split_whitespace())
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    let busy: u64 = (ticks.iter().enumerate())
        .filter(|(i, _)| !matches!(i, 3 | 4) && *i < 8)
        .map(|(_, t)| t)
        .sum();
    busy as f64 / 100.0
}

fn print_summary(results: &[Value]) {
    print_timing(results);
    print_bytes(results);
}

fn print_timing(results: &[Value]) {
    println!("\n== poll cycles, seconds (kubectl: the whole loop; ratio: loop / cycle p50) ==");
    let header = [
        "pods", "clus", "n", "p50", "p95", "max", "cold", "poll50", "poll95", "fwd", "period",
        "poll/s", "cores", "other", "cpu ms", "kubectl", "ratio",
    ];
    print_row(&header.map(String::from));
    for r in results.iter().filter(|r| !r["timing"].is_null()) {
        let (t, k) = (&r["timing"], &r["kubectl"]);
        let ratio = k["total_s"].as_f64().zip(t["p50_s"].as_f64());
        print_row(&[
            r["pods"].to_string(),
            r["clusters"].to_string(),
            t["cycles"].to_string(),
            num(&t["p50_s"], 3),
            num(&t["p95_s"], 3),
            num(&t["max_s"], 3),
            num(&t["cold_s"], 3),
            num(&t["poll_p50_s"], 3),
            num(&t["poll_p95_s"], 3),
            t["forwards_opened"].to_string(),
            num(&t["period_s"], 2),
            num(&t["polls_per_s"], 1),
            num(&t["cores"], 2),
            num(&t["others_cores"], 2),
            num(&t["cpu_ms_per_poll"], 1),
            num(&k["total_s"], 2),
            ratio.map_or("-".into(), |(a, b)| format!("{:.1}x", a / b)),
        ]);
    }
}

fn print_bytes(results: &[Value]) {
    println!("\n== bytes per poll (mean of sampled pods); CPU ms per poll; RSS MiB ==");
    let header = [
        "pods", "clus", "stats", "clusters", "poll", "unfilt", "stats%", "poll%", "sim ms",
        "stat ms", "clus ms", "simRSS", "peak", "poll",
    ];
    print_row(&header.map(String::from));
    for r in results {
        let (b, m) = (&r["bytes"], &r["rss_kib"]);
        let mib = |v: &Value| v.as_f64().map(|k| k / 1024.0);
        let peak = mib(&m["peak"]).filter(|_| !r["timing"].is_null());
        let share = peak.zip(mib(&m["sim"])).map(|(p, s)| p - s);
        print_row(&[
            r["pods"].to_string(),
            r["clusters"].to_string(),
            num(&b["filtered_stats"], 0),
            num(&b["clusters_json"], 0),
            num(&r["timing"]["poll_bytes"], 0),
            num(&b["unfiltered_stats"], 0),
            pct(&b["stats_ratio"]),
            pct(&b["poll_ratio"]),
            num(&b["sim_render_ms"], 2),
            num(&b["stats_parse_ms"], 2),
            num(&b["clusters_parse_ms"], 2),
            num(&mib(&m["sim"]).into(), 1),
            num(&peak.into(), 1),
            num(&share.into(), 1),
        ]);
    }
}

/// One table row, each cell right-aligned in 8 columns.
fn print_row(cells: &[String]) {
    let row: Vec<String> = cells.iter().map(|c| format!("{c:>8}")).collect();
    println!("{}", row.join(" "));
}

/// `v` with `places` decimals; `-` when absent.
fn num(v: &Value, places: usize) -> String {
    v.as_f64().map_or("-".into(), |x| format!("{x:.places$}"))
}

fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or("-".into(), |x| format!("{:.1}%", x * 100.0))
}
