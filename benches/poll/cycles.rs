//! The poll-cycle measurement: runs meshtop's `PollerSet` against the simulated pods, records
//! when each pod's polls start and arrive, and turns that into cycle times, poll latencies,
//! forwards opened and CPU per poll (definitions in `docs/PERFORMANCE.md`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use meshtop::collect::{CollectorMsg, MonotonicClock, PollerConfig, PollerSet};
use meshtop::kube::MeshPod;
use meshtop::model::CollectionState;
use serde_json::{Value, json};
use tokio::sync::mpsc;

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
pub async fn measure_cycles(
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
    // `/clusters` on every poll (the library's default) unless `MESHTOP_BENCH_CLUSTERS_EVERY_S`
    // asks for the TUI's spacing (10 s).
    let config = PollerConfig {
        clusters_every: Duration::from_secs(
            crate::env_number("MESHTOP_BENCH_CLUSTERS_EVERY_S", 0) as u64
        ),
        // `MESHTOP_BENCH_KEEP_MIB`: the kept `/clusters` captures' budget (default 16 MiB).
        clusters_keep_bytes: crate::env_number("MESHTOP_BENCH_KEEP_MIB", 16) << 20,
        ..PollerConfig::default()
    };
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
            // Sent only when the proxy's config changed since the last one sent.
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

pub fn secs(d: Duration) -> f64 {
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
