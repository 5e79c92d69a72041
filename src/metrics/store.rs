//! `MetricsStore`: the history of every tracked (pod, cluster, stat) series. `ingest` records
//! one scrape, `prune` enforces retention, `retain_pods` follows discovery, `freeze` hands
//! the pause key a read-only copy. Queries live in `query.rs`.
//!
//! Layout: per pod, one scrape-metadata row per scrape (time, `server.uptime`, restart epoch);
//! per (pod, cluster), one row of 8-byte slots per scrape, one slot per tracked stat, in
//! shared chunks (see `ring.rs`). A slot is a counter/gauge value, a quantile's `f64` bits, or
//! "absent" — a missing stat is never stored as 0.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use crate::envoy::StatsSet;

use super::series::PodSeries;
use super::timestamp::Timestamp;
use super::tracked::{ABSENT, StatSource, TrackedStats, encode};

/// History kept by default: 10 minutes.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(600);

/// What [`MetricsStore::ingest`] did with a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Recorded; `clusters` had at least one tracked stat.
    Stored { clusters: usize },
    /// Not after the pod's previous scrape: ignored, so rates never divide by zero time.
    OutOfOrder,
}

/// Per (pod, cluster, stat) history with retention; see the module docs for the layout.
#[derive(Debug, Clone)]
pub struct MetricsStore {
    tracked: Arc<TrackedStats>,
    retention: Duration,
    pub(crate) pods: BTreeMap<Box<str>, PodSeries>,
    /// Reused buffer for the row being ingested.
    row: Vec<u64>,
}

impl Default for MetricsStore {
    /// The default tracked stats and 10 minutes of retention.
    fn default() -> Self {
        MetricsStore::new(TrackedStats::default(), DEFAULT_RETENTION)
    }
}

impl MetricsStore {
    pub fn new(tracked: TrackedStats, retention: Duration) -> Self {
        MetricsStore {
            tracked: Arc::new(tracked),
            retention,
            pods: BTreeMap::new(),
            row: Vec::new(),
        }
    }

    pub fn tracked(&self) -> &TrackedStats {
        &self.tracked
    }

    pub fn retention(&self) -> Duration {
        self.retention
    }

    /// Records one `/stats` scrape of `pod` taken at `at`.
    pub fn ingest(&mut self, pod: &str, at: Timestamp, stats: &StatsSet) -> IngestOutcome {
        let clusters = stats.clusters().map(|c| (c.name(), c));
        self.ingest_from(pod, at, stats.uptime_seconds(), clusters)
    }

    /// Records one scrape of `pod` from any source: `uptime` is `server.uptime` in seconds
    /// when known (restart detection), `clusters` the per-cluster readings. Clusters without
    /// any tracked stat are not stored.
    pub fn ingest_from<'a, S: StatSource + 'a>(
        &mut self,
        pod: &str,
        at: Timestamp,
        uptime: Option<u64>,
        clusters: impl IntoIterator<Item = (&'a str, &'a S)>,
    ) -> IngestOutcome {
        if !self.pods.contains_key(pod) {
            self.pods.insert(pod.into(), PodSeries::new());
        }
        let MetricsStore {
            tracked, pods, row, ..
        } = self;
        let Some(series) = pods.get_mut(pod) else {
            return IngestOutcome::OutOfOrder;
        };
        let Some(seq) = series.begin_scrape(at, uptime) else {
            return IngestOutcome::OutOfOrder;
        };
        let mut stored = 0;
        for (name, source) in clusters {
            row.clear();
            row.extend(
                tracked
                    .specs()
                    .iter()
                    .map(|spec| source.read(spec).map_or(ABSENT, encode)),
            );
            if row.iter().any(|&bits| bits != ABSENT) {
                series.record(name, seq, row);
                stored += 1;
            }
        }
        IngestOutcome::Stored { clusters: stored }
    }

    /// Drops samples older than `now - retention`, clusters not seen since then and pods not
    /// scraped since then. Memory goes back a chunk (16 scrapes) at a time.
    pub fn prune(&mut self, now: Timestamp) {
        let cutoff = now.saturating_sub(self.retention);
        self.pods.retain(|_, p| p.prune(cutoff));
    }

    /// Keeps only the pods for which `keep` says yes (discovery says they still exist).
    pub fn retain_pods(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.pods.retain(|name, _| keep(name));
    }

    /// A read-only copy for the pause key. Cheap: it shares all full chunks with the live
    /// store, which copies only each series' open chunk on its next ingest.
    pub fn freeze(&self) -> FrozenStore {
        FrozenStore {
            store: MetricsStore {
                row: Vec::new(),
                ..self.clone()
            },
        }
    }

    /// Pods with history, in name order.
    pub fn pods(&self) -> impl Iterator<Item = &str> {
        self.pods.keys().map(|k| &**k)
    }

    /// Clusters with history for `pod`, in no particular order.
    pub fn clusters<'a>(&'a self, pod: &str) -> impl Iterator<Item = &'a str> + 'a {
        let clusters = self.pods.get(pod).map(|p| &p.clusters);
        clusters.into_iter().flat_map(|c| c.keys().map(|k| &**k))
    }

    /// Stored slots: scrapes × tracked stats over every (pod, cluster), absent ones included.
    pub fn stored_points(&self) -> usize {
        self.pods.values().map(PodSeries::slots).sum()
    }

    /// Estimated heap bytes of the history. Chunks shared with a frozen copy are counted here
    /// and there.
    pub fn memory_bytes(&self) -> usize {
        let tracked: usize = self
            .tracked
            .specs()
            .iter()
            .map(|s| 2 * (s.name.len() + s.source.len() + 40))
            .sum();
        let per_pod = std::mem::size_of::<(Box<str>, PodSeries)>() + 16;
        let pods: usize = self
            .pods
            .iter()
            .map(|(name, p)| per_pod + name.len() + p.heap_bytes())
            .sum();
        std::mem::size_of::<Self>() + tracked + pods + self.row.capacity() * 8
    }
}

/// The store as it was when the user paused: answers every query of [`MetricsStore`]
/// (through `Deref`) and cannot ingest.
#[derive(Debug, Clone)]
pub struct FrozenStore {
    store: MetricsStore,
}

impl Deref for FrozenStore {
    type Target = MetricsStore;

    fn deref(&self) -> &MetricsStore {
        &self.store
    }
}
