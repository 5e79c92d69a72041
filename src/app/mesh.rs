//! `MeshState`: the domain side of the app — what the collectors and discovery reported
//! (a [`Collection`], the pod set, the Istio objects), the snapshot and findings built from it
//! on each tick, the frozen copy shown while paused, and short rate histories for sparklines.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::time::Duration;

use super::row_keys::{RowKeys, RowKeysBuilder};
use crate::collect::CollectorMsg;
use crate::diagnosis::{Finding, Thresholds, WorstByCluster, evaluate_with_worst};
use crate::istio::{IstioConfig, ResolveOptions, from_json_objects};
use crate::kube::{IstioObjects, MeshPod, PodEvent};
use crate::metrics::Timestamp;
use crate::model::{
    ClusterSnapshot, Collection, CollectionState, MeshSnapshot, SnapshotInput, SourceState,
    StatsCollection, build_snapshot_visiting,
};

/// Points kept per sparkline.
pub const SPARK_POINTS: usize = 60;

/// The stats whose recent rate is kept as a history per cluster (drill-down chart; the first
/// is the overview's sparkline).
pub const HISTORY_STATS: &[&str] = &[
    "upstream_rq_timeout",
    "upstream_rq_total",
    "upstream_rq_5xx",
    "upstream_cx_destroy_remote_with_active_rq",
    "upstream_cx_destroy_local_with_active_rq",
];

/// Whether Istio objects could be read.
#[derive(Debug, Clone, PartialEq)]
pub enum IstioState {
    /// Not read yet.
    Pending,
    Available {
        config: IstioConfig,
        /// Kinds that could not be read (`VirtualService: CRD not installed`).
        missing: Vec<String>,
    },
    /// "Istio config not available": no CRDs or no permission; collection continues.
    NotAvailable { reason: String },
}

/// What the screen shows: one snapshot and its findings.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub snapshot: MeshSnapshot,
    pub findings: Vec<Finding>,
    /// Unique per built value (clones share it): what the overview's row order was computed
    /// for.
    generation: u64,
    /// The overview's sort and filter keys of this snapshot.
    keys: RowKeys,
}

impl Shown {
    pub fn new(snapshot: MeshSnapshot, findings: Vec<Finding>) -> Self {
        let keys = RowKeys::of(&snapshot, &findings);
        Shown::with_keys(snapshot, findings, keys)
    }

    /// Shows `snapshot` and its findings with the worst severity of each cluster's findings
    /// ([`evaluate_with_worst`]) and the row keys taken while it was built (`keys` has every
    /// cluster of `snapshot`, in order, added), after `previous` (whose row order is kept when
    /// the clusters are the same).
    pub fn with_row_keys(
        snapshot: MeshSnapshot,
        (findings, worst): (Vec<Finding>, WorstByCluster),
        keys: RowKeysBuilder,
        previous: &Shown,
    ) -> Self {
        let keys = keys.finish(&worst, Some(&previous.keys));
        // Every debug test that rebuilds checks the keys taken during the rebuild.
        debug_assert_eq!(keys, RowKeys::of(&snapshot, &findings));
        Shown::with_keys(snapshot, findings, keys)
    }

    fn with_keys(snapshot: MeshSnapshot, findings: Vec<Finding>, keys: RowKeys) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Shown {
            snapshot,
            findings,
            generation: NEXT.fetch_add(1, AtomicOrdering::Relaxed),
            keys,
        }
    }

    pub fn row_keys(&self) -> &RowKeys {
        &self.keys
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// The domain state.
#[derive(Debug, Clone)]
pub struct MeshState {
    pub collection: Collection,
    /// Discovered meshed pods by name (`namespace/name` when several namespaces).
    pub pods: BTreeMap<String, MeshPod>,
    /// The last discovery error, shown in the header until discovery recovers.
    pub discovery_error: Option<String>,
    pub istio: IstioState,
    pub thresholds: Thresholds,
    pub resolve: ResolveOptions,
    /// The latest snapshot and findings.
    pub live: Shown,
    /// The view while paused.
    pub frozen: Option<Shown>,
    /// Recent per-cluster rates of [`HISTORY_STATS`], oldest first.
    pub history: BTreeMap<String, Vec<VecDeque<f64>>>,
    /// The histories as they were when the view was frozen (sparklines stop too).
    pub frozen_history: Option<BTreeMap<String, Vec<VecDeque<f64>>>>,
    /// New data since the last rebuild.
    pub dirty: bool,
    /// When the live snapshot was last rebuilt.
    pub last_rebuild: Option<Timestamp>,
    /// Whether pod keys are `namespace/name` (all namespaces).
    pub qualified: bool,
}

impl MeshState {
    pub fn new(thresholds: Thresholds, qualified: bool) -> Self {
        MeshState {
            collection: Collection::default(),
            pods: BTreeMap::new(),
            discovery_error: None,
            istio: IstioState::Pending,
            thresholds,
            resolve: ResolveOptions::default(),
            live: Shown::new(empty_snapshot(), Vec::new()),
            frozen: None,
            history: BTreeMap::new(),
            frozen_history: None,
            dirty: true,
            last_rebuild: None,
            qualified,
        }
    }

    /// What the screen shows: the frozen copy while paused, else the live one.
    pub fn shown(&self) -> &Shown {
        self.frozen.as_ref().unwrap_or(&self.live)
    }

    /// The histories the screen shows: frozen with the view while paused.
    pub fn shown_history(&self) -> &BTreeMap<String, Vec<VecDeque<f64>>> {
        self.frozen_history.as_ref().unwrap_or(&self.history)
    }

    /// The pod's key in collector messages.
    pub fn key(&self, pod: &MeshPod) -> String {
        match self.qualified {
            true => format!("{}/{}", pod.namespace, pod.name),
            false => pod.name.clone(),
        }
    }

    /// Folds one collector message.
    pub fn apply_collector(&mut self, msg: CollectorMsg) {
        match msg {
            CollectorMsg::Scraped {
                pod,
                at,
                stats,
                clusters,
                stats_collection,
                ..
            } => self.collection.record_scrape(
                &pod,
                at,
                &stats,
                clusters.map(|c| *c),
                stats_collection,
            ),
            CollectorMsg::ConfigDump { pod, dump, .. } => {
                self.collection.record_config_dump(&pod, *dump)
            }
            CollectorMsg::ServerInfo { .. } => return,
            CollectorMsg::State { pod, state, .. } => self.collection.record_state(&pod, state),
        }
        self.dirty = true;
    }

    /// Folds one discovery event; the caller plans pollers from [`Self::pods`].
    pub fn apply_pods(&mut self, event: PodEvent) {
        match event {
            PodEvent::Upsert(pod) => {
                self.pods.insert(self.key(&pod), pod);
                self.discovery_error = None;
            }
            PodEvent::Removed { namespace, name } => {
                let key = match self.qualified {
                    true => format!("{namespace}/{name}"),
                    false => name,
                };
                self.pods.remove(&key);
            }
            PodEvent::Resynced(pods) => {
                self.pods = pods.into_iter().map(|p| (self.key(&p), p)).collect();
                self.discovery_error = None;
            }
            PodEvent::Error(e) => self.discovery_error = Some(e),
        }
        let pods = &self.pods;
        self.collection.retain_pods(|p| pods.contains_key(p));
        self.dirty = true;
    }

    /// Replaces the Istio objects.
    pub fn apply_istio(&mut self, objects: IstioObjects) {
        self.istio = match objects {
            IstioObjects::Available { objects, missing } => IstioState::Available {
                config: from_json_objects(objects, "kube"),
                missing,
            },
            IstioObjects::NotAvailable { reason } => IstioState::NotAvailable { reason },
        };
        self.dirty = true;
    }

    /// Rebuilds the live snapshot and findings (and the histories) when something changed.
    pub fn rebuild(&mut self, at: RebuildAt<'_>) {
        let recent = self
            .last_rebuild
            .is_some_and(|last| at.now.saturating_sub(at.min_gap) < last);
        if !self.dirty || recent {
            return;
        }
        self.dirty = false;
        // Retention is enforced here: nothing is stored between two rebuilds without news.
        self.collection.prune(at.now);
        let mut keys = RowKeysBuilder::with_capacity(self.live.snapshot.clusters.len());
        let snapshot = self.build_visiting(at, &mut |i, c| keys.add(i, c));
        // The gap starts once a scrape is shown: until then (start, `:ns`, `:ctx`) every
        // tick with news rebuilds, so the first data appears at once.
        let scraped = (snapshot.sources.iter()).any(|s| {
            matches!(
                s.state,
                CollectionState::Ok { .. } | CollectionState::Stale { .. }
            )
        });
        self.last_rebuild = scraped.then_some(at.now);
        let evaluated = evaluate_with_worst(&snapshot, &self.thresholds);
        self.record_history(at);
        self.live = Shown::with_row_keys(snapshot, evaluated, keys, &self.live);
    }

    /// The snapshot `rebuild` would show at `at` (without findings and histories).
    pub fn build(&self, at: RebuildAt<'_>) -> MeshSnapshot {
        self.build_visiting(at, &mut |_, _| {})
    }

    /// [`build`](Self::build), calling `visit` with each cluster and its position as soon as
    /// it is made.
    pub fn build_visiting(
        &self,
        at: RebuildAt<'_>,
        visit: &mut dyn FnMut(usize, &ClusterSnapshot),
    ) -> MeshSnapshot {
        let c = &self.collection;
        let istio = match &self.istio {
            IstioState::Available { config, .. } => Some(config),
            _ => None,
        };
        let input = SnapshotInput {
            store: &c.clusters,
            now: at.now,
            window: at.window,
            context: at.context.map(str::to_string),
            namespace: at.namespace.map(str::to_string),
            taken_at_unix_ms: Some(at.unix_ms),
            sources: self.sources(),
            endpoints: c.endpoints.iter().map(|(k, v)| (k.clone(), v)).collect(),
            config_dumps: c.config_dumps.iter().map(|(k, v)| (k.clone(), v)).collect(),
            istio,
            resolve: self.resolve.clone(),
            per_pod: true,
            hosts: Some(&c.hosts),
            series: Some(&c.series),
        };
        let mut snapshot = build_snapshot_visiting(&input, visit);
        if let IstioState::NotAvailable { reason } = &self.istio {
            snapshot
                .config_issues
                .push(format!("Istio config not available: {reason}"));
        }
        snapshot
    }

    /// One source per discovered pod, in the state its poller last reported.
    fn sources(&self) -> Vec<SourceState> {
        self.pods
            .iter()
            .map(|(key, pod)| {
                let (state, stats_collection) = match self.collection.states.get(key) {
                    Some((state, sc)) => (state.clone(), *sc),
                    None if pod.phase != "Running" => (
                        CollectionState::NotCollected {
                            reason: format!("pod is {}", pod.phase),
                        },
                        StatsCollection::None,
                    ),
                    None => (CollectionState::Pending, StatsCollection::None),
                };
                SourceState {
                    pod: key.clone(),
                    namespace: pod.namespace.clone(),
                    state,
                    stats_collection,
                }
            })
            .collect()
    }

    /// Appends each cluster's recent rate of every [`HISTORY_STATS`] (over `at.recent`).
    fn record_history(&mut self, at: RebuildAt<'_>) {
        let store = &self.collection.clusters;
        let mut names: Vec<String> = Vec::new();
        for pod in store.pods() {
            names.extend(store.clusters(pod).map(str::to_string));
        }
        names.sort();
        names.dedup();
        for name in &names {
            let rows = self
                .history
                .entry(name.clone())
                .or_insert_with(|| vec![VecDeque::new(); HISTORY_STATS.len()]);
            for (row, stat) in rows.iter_mut().zip(HISTORY_STATS) {
                let rate = store
                    .rate_sum(name, stat, at.recent, at.now)
                    .map_or(0.0, |r| r.rate);
                if row.len() == SPARK_POINTS {
                    row.pop_front();
                }
                row.push_back(rate);
            }
        }
        self.history.retain(|k, _| names.binary_search(k).is_ok());
    }

    /// Freezes or unfreezes the view.
    pub fn set_paused(&mut self, paused: bool) {
        self.frozen = paused.then(|| self.live.clone());
        self.frozen_history = paused.then(|| self.history.clone());
    }
}

/// The time and scope of a rebuild.
#[derive(Debug, Clone, Copy)]
pub struct RebuildAt<'a> {
    pub now: Timestamp,
    pub unix_ms: u64,
    /// The window rates and findings cover.
    pub window: Duration,
    /// The span of the "now" rate for histories (about two poll intervals).
    pub recent: Duration,
    /// Rebuild at most this often (the poll interval: a pod's data changes no faster, and
    /// with many pods some pod reports every tick).
    pub min_gap: Duration,
    pub context: Option<&'a str>,
    pub namespace: Option<&'a str>,
}

fn empty_snapshot() -> MeshSnapshot {
    MeshSnapshot {
        meshtop_version: env!("CARGO_PKG_VERSION").to_string(),
        context: None,
        namespace: None,
        taken_at_unix_ms: None,
        window_seconds: 0.0,
        sources: Vec::new(),
        clusters: Vec::new(),
        config_issues: Vec::new(),
        proxies: Vec::new(),
        subset_policies: Vec::new(),
    }
}
