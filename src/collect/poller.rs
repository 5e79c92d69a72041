//! The poller set: one task per pod (`pod_poller.rs`), each owning that pod's
//! [`AdminConnection`]. A pod is polled by exactly one task, sequentially, so two scrapes of
//! one pod never overlap; a shared semaphore bounds the polls in flight across all pods
//! (default 32). The set starts, stops and restarts tasks as a [`PollerPlan`] says, keyed by
//! [`poller_key`], so pods that come, go or are recreated are followed while meshtop runs.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::{AbortHandle, JoinSet};

use super::backoff::Backoff;
use super::filter::default_stats_filter;
use super::message::{CollectorMsg, MonotonicClock};
use super::plan::{PodIdentity, PollerPlan, poller_key};
use super::pod_poller::PodPoller;
use crate::envoy::StatsReparser;
use crate::envoy::clusters::{ClustersReparser, KeepBudget};
use crate::kube::{AdminConnection, AdminLimits, AdminPath, MeshPod};

/// How pods are polled.
#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// Time between the starts of two polls of one pod.
    pub interval: Duration,
    /// How often `/config_dump` is read (also after every reconnect).
    pub config_dump_every: Duration,
    /// How often `/clusters` (endpoint health, per-host counters) is read; zero: every poll.
    /// Its JSON is most of what a poll moves and parses; `/stats` carries the cluster
    /// counters every poll regardless.
    pub clusters_every: Duration,
    /// Polls in flight at once, over all pods.
    pub max_in_flight: usize,
    pub limits: AdminLimits,
    pub backoff: Backoff,
    /// The `/stats?filter=` regex.
    pub stats_filter: String,
    /// Bytes of previous `/clusters` captures the pollers keep together, so that the next
    /// capture re-reads only the clusters that changed ([`KeepBudget`]); past it a poller
    /// parses every capture afresh.
    pub clusters_keep_bytes: usize,
}

/// [`PollerConfig::clusters_keep_bytes`] by default. Captures grow with the mesh (every
/// sidecar lists every endpoint): in the poll bench 16 MiB keeps every pod's capture at 50
/// pods (80 KB each), about 80 pods' at 200 (207 KB) and about 18 at 1,000 (885 KB).
pub const CLUSTERS_KEEP_BYTES: usize = 16 << 20;

impl Default for PollerConfig {
    /// 2 s interval, `/clusters` every poll, config dump every 30 s, 32 in flight, the default
    /// filter, [`CLUSTERS_KEEP_BYTES`] of kept `/clusters` captures.
    fn default() -> Self {
        PollerConfig {
            interval: Duration::from_secs(2),
            config_dump_every: Duration::from_secs(30),
            clusters_every: Duration::ZERO,
            max_in_flight: 32,
            limits: AdminLimits::default(),
            backoff: Backoff::default(),
            stats_filter: default_stats_filter(),
            clusters_keep_bytes: CLUSTERS_KEEP_BYTES,
        }
    }
}

/// The running pollers; dropping the set stops them.
pub struct PollerSet {
    client: Client,
    config: Arc<PollerConfig>,
    permits: Arc<Semaphore>,
    /// What the pollers' kept `/clusters` captures share.
    keep: KeepBudget,
    clock: MonotonicClock,
    key: fn(&MeshPod) -> String,
    tx: mpsc::Sender<CollectorMsg>,
    tasks: JoinSet<()>,
    /// What each running poller was started for, by [`poller_key`].
    running: BTreeMap<String, PodIdentity>,
    handles: BTreeMap<String, AbortHandle>,
}

impl PollerSet {
    /// An empty set; [`PollerSet::apply`] starts pollers. `key` names a pod in messages (the
    /// pod name, or `namespace/name` when several namespaces are collected).
    pub fn new(
        client: &Client,
        config: &PollerConfig,
        clock: MonotonicClock,
        key: fn(&MeshPod) -> String,
        tx: &mpsc::Sender<CollectorMsg>,
    ) -> Self {
        PollerSet {
            client: client.clone(),
            config: Arc::new(config.clone()),
            permits: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
            keep: KeepBudget::new(config.clusters_keep_bytes),
            clock,
            key,
            tx: tx.clone(),
            tasks: JoinSet::new(),
            running: BTreeMap::new(),
            handles: BTreeMap::new(),
        }
    }

    /// Starts one poller per pod (whatever its phase). `key` as in [`PollerSet::new`].
    pub fn spawn(
        client: &Client,
        pods: &[MeshPod],
        config: &PollerConfig,
        clock: MonotonicClock,
        key: fn(&MeshPod) -> String,
        tx: &mpsc::Sender<CollectorMsg>,
    ) -> Self {
        let mut set = PollerSet::new(client, config, clock, key, tx);
        pods.iter().for_each(|pod| set.start(pod));
        set
    }

    /// The running pollers by [`poller_key`]: the input of [`super::plan_pollers`].
    pub fn running(&self) -> &BTreeMap<String, PodIdentity> {
        &self.running
    }

    /// Stops, restarts and starts pollers as `plan` says. When it returns, the stopped and
    /// replaced pollers have ended (their forwards dropped): nothing they send can follow.
    pub async fn apply(&mut self, plan: PollerPlan) {
        let replaced = plan.restart.iter().map(poller_key);
        let ended: HashSet<tokio::task::Id> = (plan.stop.into_iter().chain(replaced))
            .filter_map(|key| self.stop(&key))
            .collect();
        self.wait_for(ended).await;
        plan.restart
            .iter()
            .chain(&plan.start)
            .for_each(|pod| self.start(pod));
    }

    /// Stops every poller (dropping its forward) and waits until all have ended.
    pub async fn shutdown(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }

    /// Spawns the poller of `pod`, replacing one with the same key.
    fn start(&mut self, pod: &MeshPod) {
        let key = poller_key(pod);
        if let Some(old) = self.handles.remove(&key) {
            old.abort();
        }
        let conn = AdminConnection::new(
            self.client.clone(),
            &pod.namespace,
            &pod.name,
            pod.admin_port,
            self.config.limits,
        );
        let poller = PodPoller {
            conn,
            pod: (self.key)(pod),
            namespace: pod.namespace.clone(),
            config: Arc::clone(&self.config),
            permits: Arc::clone(&self.permits),
            clock: self.clock,
            tx: self.tx.clone(),
            seen_generation: 0,
            next_config_dump: None,
            next_clusters: None,
            stats_path: AdminPath::filtered_stats(&self.config.stats_filter),
            stats_parser: StatsReparser::new(),
            clusters_parser: ClustersReparser::with_budget(self.keep.clone()),
            sent_config: None,
        };
        let handle = self.tasks.spawn(poller.run());
        self.running.insert(key.clone(), PodIdentity::of(pod));
        self.handles.insert(key, handle);
    }

    /// Aborts the poller with `key`; the id of its task, `None` when there was none.
    fn stop(&mut self, key: &str) -> Option<tokio::task::Id> {
        self.running.remove(key);
        let handle = self.handles.remove(key)?;
        handle.abort();
        Some(handle.id())
    }

    /// Reaps finished tasks until every task in `ended` is among them.
    async fn wait_for(&mut self, mut ended: HashSet<tokio::task::Id>) {
        while !ended.is_empty() {
            let id = match self.tasks.join_next_with_id().await {
                Some(Ok((id, ()))) => id,
                Some(Err(e)) => e.id(),
                None => return,
            };
            ended.remove(&id);
        }
    }
}
