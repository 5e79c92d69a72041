//! The traffic model: a virtual clock advanced in 1 s ticks. Each tick every client pod sends
//! a Poisson number of requests per outbound edge; each request picks an endpoint, gets a
//! connection (pool and circuit breakers), meets the app's latency, the VS timeout, the app
//! closing connections and sidecar restarts, and is charged to the client's
//! `outbound|port|subset|host` cluster and the server's `inbound|port||` cluster (plus
//! `istio_requests_total` on both sides) exactly once each.
//!
//! Effects that happen later than the tick they were planned in (a response after the tick
//! ends) wait in a queue and are applied in the tick they happen, so counters at a tick
//! boundary are exact and in-flight requests show as `upstream_rq_active`.
//!
//! Pure and deterministic: no clock reads, no threads; randomness comes from
//! [`super::rng::Rng`] seeded by `--seed`. Per-request work lives in `call.rs`, restarts and
//! connection closes in `lifecycle.rs`, rendering in `proxy_state.rs`, the runtime types in
//! `runtime.rs`.

use super::cluster_state::ClusterState;
use super::model::{ProxyState, World};
use super::rng::Rng;
use super::runtime::{Due, Effect, ProxyRuntime, Route, Target, routes, targets};
use super::scenario::{Protocol, Scenario, SimConfig};
use super::world::{PodRole, build_world};

/// Length of one traffic step.
pub const TICK_MS: u64 = 1000;
/// Istio's stats flush interval (the "interval" histogram window).
pub const FLUSH_MS: u64 = 5000;

/// The simulated mesh.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub(super) scenario: Scenario,
    pub(super) world: World,
    pub(super) roles: Vec<PodRole>,
    pub(super) routes: Vec<Route>,
    pub(super) targets: Vec<Target>,
    /// Ready pods per target.
    pub(super) members: Vec<Vec<usize>>,
    pub(super) endpoints_version: u64,
    pub(super) proxies: Vec<ProxyRuntime>,
    pub(super) queue: Vec<Due>,
    pub(super) rng: Rng,
    pub(super) extra_clusters: usize,
    pub(super) now_ms: u64,
    /// Traffic is computed up to here (a tick boundary).
    pub(super) done_ms: u64,
    /// End of the tick being computed.
    pub(super) tick_end: u64,
}

impl Simulation {
    pub fn new(cfg: &SimConfig) -> Simulation {
        let scenario = Scenario::build(cfg.scenario);
        let (world, roles) = build_world(&scenario, cfg.pods, cfg.extra_clusters_per_pod, cfg.seed);
        let targets = targets(&scenario);
        let routes = routes(&scenario, &targets);
        let mut sim = Simulation {
            proxies: vec![ProxyRuntime::default(); roles.len()],
            scenario,
            world,
            roles,
            routes,
            targets,
            members: Vec::new(),
            endpoints_version: 0,
            queue: Vec::new(),
            rng: Rng::derive(cfg.seed, "traffic"),
            extra_clusters: cfg.extra_clusters_per_pod,
            now_ms: 0,
            done_ms: 0,
            tick_end: 0,
        };
        for pod in 0..sim.proxies.len() {
            sim.start_proxy(pod, 0);
        }
        sim.refresh_endpoints();
        sim
    }

    /// What the simulated Kubernetes API serves now.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The virtual clock.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Moves the virtual clock forward to `t_ms` (never back), computing traffic for every
    /// whole tick up to it. Counters reflect the last tick boundary at or before `t_ms`.
    pub fn advance_to(&mut self, t_ms: u64) {
        while self.done_ms + TICK_MS <= t_ms {
            let start = self.done_ms;
            self.run_tick(start);
            self.done_ms = start + TICK_MS;
        }
        self.now_ms = self.now_ms.max(t_ms);
    }

    /// The sidecar's Envoy state now; `None` for an unknown pod or while its proxy restarts
    /// (its admin port refuses connections).
    pub fn proxy(&self, namespace: &str, pod: &str) -> Option<ProxyState> {
        let i = (self.world.pods.iter()).position(|p| p.namespace == namespace && p.name == pod)?;
        let rt = self.proxies.get(i)?;
        rt.down_until.is_none().then(|| self.render_proxy(i))
    }

    fn run_tick(&mut self, start: u64) {
        let end = start + TICK_MS;
        self.tick_end = end;
        self.apply_churn(start);
        for pod in 0..self.proxies.len() {
            if self.proxies[pod].down_until.is_some() {
                continue;
            }
            for slot in 0..self.proxies[pod].outbound.len() {
                let route = self.proxies[pod].outbound[slot].route;
                match self.routes[route].protocol {
                    Protocol::Tcp => self.run_tcp(pod, slot, start),
                    Protocol::Http1 | Protocol::Grpc => self.run_requests(pod, slot, start),
                }
            }
        }
        self.close_keepalive_connections(start, end);
        self.size_inbound_pools(end);
        self.apply_due(end);
        self.run_timers(end);
    }

    /// The state of `pod`'s outbound cluster `slot`.
    pub(super) fn cluster(&mut self, pod: usize, slot: usize) -> &mut ClusterState {
        &mut self.proxies[pod].outbound[slot].state
    }

    /// A sampled duration in whole milliseconds.
    pub(super) fn sample_ms(&mut self, median: f64, sigma: f64) -> u64 {
        self.rng.log_normal(median, sigma).round().max(0.0) as u64
    }

    /// Time to open an in-cluster connection (1–3 ms).
    pub(super) fn connect_ms(&mut self) -> u64 {
        1 + self.rng.below(3)
    }

    /// Queues `due`, or applies it now when it happens within the current tick.
    pub(super) fn schedule(&mut self, due: Due) {
        if due.at <= self.tick_end {
            self.apply(due);
        } else {
            self.queue.push(due);
        }
    }

    fn apply_due(&mut self, end: u64) {
        let (now, later): (Vec<Due>, Vec<Due>) = std::mem::take(&mut self.queue)
            .into_iter()
            .partition(|d| d.at <= end);
        self.queue = later;
        for due in now {
            self.apply(due);
        }
    }

    fn apply(&mut self, due: Due) {
        let current = self
            .proxies
            .get(due.pod)
            .map(|p| (p.generation, p.down_until.is_none()));
        if current != Some((due.generation, true)) {
            return;
        }
        match due.effect {
            Effect::Client {
                slot, host, result, ..
            } => self.finish_client(due.pod, slot, host, result),
            Effect::Server {
                client,
                route,
                result,
                ..
            } => self.finish_server(due.pod, client, route, result),
        }
    }

    /// Histogram flushes and outlier-detection interval timers.
    fn run_timers(&mut self, end: u64) {
        let flush = end.is_multiple_of(FLUSH_MS);
        for rt in &mut self.proxies {
            for ob in &mut rt.outbound {
                let route = &self.routes[ob.route];
                if route
                    .outlier
                    .is_some_and(|s| end.is_multiple_of(s.interval_ms.max(1)))
                {
                    super::outlier::sweep(&mut ob.state, end);
                }
                if flush {
                    ob.state.flush_interval();
                }
            }
            if flush {
                rt.inbound.flush_interval();
            }
        }
    }

    /// Recomputes the ready pods of every target and re-syncs every client's host list.
    pub(super) fn refresh_endpoints(&mut self) {
        self.endpoints_version += 1;
        self.members = (self.targets.iter())
            .map(|t| {
                (0..self.roles.len())
                    .filter(|&p| self.is_member(p, t))
                    .collect()
            })
            .collect();
        let version = self.endpoints_version;
        for rt in &mut self.proxies {
            for ob in &mut rt.outbound {
                let target = self.routes[ob.route].target;
                ob.state.sync_hosts(&self.members[target], version);
            }
        }
    }

    fn is_member(&self, pod: usize, t: &Target) -> bool {
        let role = &self.roles[pod];
        let ready = self.world.pods.get(pod).is_some_and(|p| p.ready);
        ready && role.service == t.service && t.subset.is_none_or(|s| s == role.version)
    }
}
