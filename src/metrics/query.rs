//! Reading the store: counter deltas and rates over a window, gauge and quantile values,
//! chart series, and sums over all pods for one cluster.
//!
//! A window is `[now - window, now]`, both ends included. Every query answers `None` (or an
//! empty series) when the stat is not tracked, was never collected, or has too few samples —
//! never a made-up 0.

use std::time::Duration;

use serde::Serialize;

use super::delta::{Delta, rates_of};
use super::series::RowWindow;
use super::store::MetricsStore;
use super::timestamp::Timestamp;
use super::tracked::{Reading, StatKind, TrackedStats, decode};

/// A counter's increase summed over the pods that have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeltaSum {
    pub increase: u64,
    pub resets: u32,
    /// Pods with at least two samples in the window.
    pub pods: usize,
}

/// A counter's rate summed over the pods that have one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateSum {
    /// Per second, the sum of the per-pod rates.
    pub rate: f64,
    pub pods: usize,
}

/// One pod's rows of one cluster over a window ([`MetricsStore::cluster_window`]): pod, cluster
/// and the window's bounds looked up once, to read many tracked stats of the cluster (a
/// snapshot reads them all). Columns are positions in [`TrackedStats::specs`].
#[derive(Debug, Clone)]
pub struct ClusterWindow<'a> {
    tracked: &'a TrackedStats,
    rows: RowWindow<'a>,
}

impl ClusterWindow<'_> {
    /// [`MetricsStore::delta`] of the counter in `column`.
    pub fn delta(&self, column: usize) -> Option<Delta> {
        match self.tracked.spec(column)?.kind {
            StatKind::Counter => self.rows.delta(column),
            _ => None,
        }
    }

    /// [`MetricsStore::latest`] of the series in `column` (in the window or not).
    pub fn latest(&self, column: usize) -> Option<(Timestamp, Reading)> {
        let kind = self.tracked.spec(column)?.kind;
        let sample = self.rows.newest(column)?;
        Some((sample.meta.at, decode(kind, sample.bits)?))
    }
}

impl MetricsStore {
    /// The rows of `cluster` in `pod` over `[now - window, now]`; `None` when the pod or the
    /// cluster has no history.
    pub fn cluster_window(
        &self,
        pod: &str,
        cluster: &str,
        window: Duration,
        now: Timestamp,
    ) -> Option<ClusterWindow<'_>> {
        let rows = (self.pods.get(pod)?).window(cluster, now.saturating_sub(window), now)?;
        Some(ClusterWindow {
            tracked: self.tracked(),
            rows,
        })
    }

    /// Column and kind of tracked series `stat`.
    fn column(&self, stat: &str) -> Option<(usize, StatKind)> {
        let column = self.tracked().position(stat)?;
        Some((column, self.tracked().spec(column)?.kind))
    }

    /// A counter's increase over the window; `None` for non-counters, unknown series and
    /// fewer than two samples. Restart and reset rules: see `delta.rs`.
    pub fn delta(
        &self,
        pod: &str,
        cluster: &str,
        stat: &str,
        window: Duration,
        now: Timestamp,
    ) -> Option<Delta> {
        let column = self.tracked().position(stat)?;
        self.cluster_window(pod, cluster, window, now)?
            .delta(column)
    }

    /// A counter's average rate per second over the window ([`delta`](Self::delta) divided by
    /// the seconds it covers); `None` when there is no delta or it covers no time.
    pub fn rate(
        &self,
        pod: &str,
        cluster: &str,
        stat: &str,
        window: Duration,
        now: Timestamp,
    ) -> Option<f64> {
        self.delta(pod, cluster, stat, window, now)?.rate()
    }

    /// The newest stored value of any tracked series, with its scrape time.
    pub fn latest(&self, pod: &str, cluster: &str, stat: &str) -> Option<(Timestamp, Reading)> {
        let (column, kind) = self.column(stat)?;
        let sample = self.pods.get(pod)?.last_sample(cluster, column)?;
        Some((sample.meta.at, decode(kind, sample.bits)?))
    }

    /// The stored values in the window, oldest first (raw cumulative values for counters;
    /// use [`rate_series`](Self::rate_series) to chart a counter).
    pub fn series(
        &self,
        pod: &str,
        cluster: &str,
        stat: &str,
        window: Duration,
        now: Timestamp,
    ) -> Vec<(Timestamp, f64)> {
        let Some((column, kind)) = self.column(stat) else {
            return Vec::new();
        };
        let Some(p) = self.pods.get(pod) else {
            return Vec::new();
        };
        p.samples(cluster, column, now.saturating_sub(window), now)
            .filter_map(|s| Some((s.meta.at, decode(kind, s.bits)?.as_f64())))
            .collect()
    }

    /// A counter's rate between consecutive samples in the window, stamped with the later
    /// sample's time (a sparkline); pairs skipped for a reset have no point.
    pub fn rate_series(
        &self,
        pod: &str,
        cluster: &str,
        stat: &str,
        window: Duration,
        now: Timestamp,
    ) -> Vec<(Timestamp, f64)> {
        let (Some((column, StatKind::Counter)), Some(p)) = (self.column(stat), self.pods.get(pod))
        else {
            return Vec::new();
        };
        rates_of(p.samples(cluster, column, now.saturating_sub(window), now))
    }

    /// [`delta`](Self::delta) summed over every pod that has one for `cluster`.
    pub fn delta_sum(
        &self,
        cluster: &str,
        stat: &str,
        window: Duration,
        now: Timestamp,
    ) -> Option<DeltaSum> {
        let mut sum = DeltaSum {
            increase: 0,
            resets: 0,
            pods: 0,
        };
        for pod in self.pods() {
            if let Some(d) = self.delta(pod, cluster, stat, window, now) {
                sum.increase = sum.increase.saturating_add(d.increase);
                sum.resets = sum.resets.saturating_add(d.resets);
                sum.pods += 1;
            }
        }
        (sum.pods > 0).then_some(sum)
    }

    /// [`rate`](Self::rate) summed over every pod that has one for `cluster`.
    pub fn rate_sum(
        &self,
        cluster: &str,
        stat: &str,
        window: Duration,
        now: Timestamp,
    ) -> Option<RateSum> {
        let mut sum = RateSum { rate: 0.0, pods: 0 };
        for pod in self.pods() {
            if let Some(r) = self.rate(pod, cluster, stat, window, now) {
                sum.rate += r;
                sum.pods += 1;
            }
        }
        (sum.pods > 0).then_some(sum)
    }
}
