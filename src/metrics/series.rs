//! The history of one pod: one row of scrape metadata per scrape (time, `server.uptime`,
//! restart epoch) and, per cluster, rows of tracked-stat slots aligned with those scrapes by
//! sequence number. Reading a window yields [`Sample`]s that carry what the delta math needs.

use rustc_hash::FxHashMap;

use super::delta::{Delta, delta_of, flat_delta, steady_seconds};
use super::ring::ChunkedRing;
use super::timestamp::Timestamp;
use super::tracked::ABSENT;

/// What the store knows about one scrape of a pod, stored once per scrape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ScrapeMeta {
    pub(crate) at: Timestamp,
    /// `server.uptime` in seconds, when the capture had it.
    pub(crate) uptime: Option<u64>,
    /// Proxy restarts seen so far: bumped when `server.uptime` went down.
    pub(crate) epoch: u32,
}

/// One present value of one series with its scrape's metadata.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sample {
    pub(crate) meta: ScrapeMeta,
    pub(crate) bits: u64,
}

/// The tracked-stat slots of one cluster of one pod, one row per scrape of the pod from the
/// cluster's first appearance on (scrapes that lacked the cluster are all-absent rows).
#[derive(Debug, Clone)]
pub(crate) struct ClusterSeries {
    rows: ChunkedRing<u64>,
    /// Per column, the sequence number of the newest row with a present value ([`NONE`]:
    /// none yet), so the newest value is found without scanning back over absent rows.
    last_present: Vec<u64>,
    /// The newest row that differs from the row before it: every later row equals it. Most
    /// clusters of a sidecar carry no traffic, and their windows are read without a scan.
    changed: u64,
}

/// No present value in a column.
const NONE: u64 = u64::MAX;

impl ClusterSeries {
    fn new(width: usize, seq: u64) -> Self {
        ClusterSeries {
            rows: ChunkedRing::new(width, seq),
            last_present: vec![NONE; width],
            changed: seq,
        }
    }
}

/// The rows of one cluster of one pod inside a time window: the pod and cluster looked up and
/// the window's bounds searched once, however many columns are read.
#[derive(Debug, Clone)]
pub(crate) struct RowWindow<'a> {
    pod: &'a PodSeries,
    series: &'a ClusterSeries,
    seqs: std::ops::Range<u64>,
    /// When every row of the window is the same and no restart falls inside it: the seconds
    /// the window's consecutive pairs cover (each counter then has the same flat delta).
    flat: Option<f64>,
}

impl<'a> RowWindow<'a> {
    /// The increase of the counter in `column` over the window ([`delta_of`] its samples).
    pub(crate) fn delta(&self, column: usize) -> Option<Delta> {
        let Some(seconds) = self.flat else {
            return delta_of(self.samples(column));
        };
        // Absent in one row of the window is absent in all of them.
        if *self.series.rows.row(self.seqs.start)?.get(column)? == ABSENT {
            return None;
        }
        flat_delta(seconds, (self.seqs.end - self.seqs.start) as usize)
    }

    /// Present samples of `column` in the window, oldest first.
    pub(crate) fn samples(&self, column: usize) -> impl Iterator<Item = Sample> + use<'a> {
        // Both rings hold every row of `seqs` (see `PodSeries::window`), so they zip aligned.
        let metas = self.pod.scrapes.rows(self.seqs.clone());
        let rows = self.series.rows.rows(self.seqs.clone());
        metas.zip(rows).filter_map(move |(meta, row)| {
            let (meta, bits) = (*meta.first()?, *row.get(column)?);
            (bits != ABSENT).then_some(Sample { meta, bits })
        })
    }

    /// True when the window is read without a scan (every row the same, no restart).
    #[cfg(test)]
    pub(crate) fn is_flat(&self) -> bool {
        self.flat.is_some()
    }

    /// The newest present sample of `column`, in the window or not.
    pub(crate) fn newest(&self, column: usize) -> Option<Sample> {
        self.pod.newest(self.series, column)
    }
}

/// Everything kept for one pod.
#[derive(Debug, Clone)]
pub(crate) struct PodSeries {
    scrapes: ChunkedRing<ScrapeMeta>,
    pub(crate) clusters: FxHashMap<Box<str>, ClusterSeries>,
    epoch: u32,
    last_uptime: Option<u64>,
    last_at: Option<Timestamp>,
}

impl PodSeries {
    pub(crate) fn new() -> Self {
        PodSeries {
            scrapes: ChunkedRing::new(1, 0),
            clusters: FxHashMap::default(),
            epoch: 0,
            last_uptime: None,
            last_at: None,
        }
    }

    /// Starts a scrape at `at`: records its metadata and returns its sequence number, or
    /// `None` when `at` is not after the previous scrape (out of order; nothing recorded).
    pub(crate) fn begin_scrape(&mut self, at: Timestamp, uptime: Option<u64>) -> Option<u64> {
        if self.last_at.is_some_and(|last| at <= last) {
            return None;
        }
        if let (Some(prev), Some(now)) = (self.last_uptime, uptime)
            && now < prev
        {
            self.epoch = self.epoch.wrapping_add(1);
        }
        self.last_uptime = uptime.or(self.last_uptime);
        self.last_at = Some(at);
        let seq = self.scrapes.end_seq();
        let meta = ScrapeMeta {
            at,
            uptime,
            epoch: self.epoch,
        };
        self.scrapes.push_row(&[meta], meta);
        Some(seq)
    }

    /// Stores `row` as cluster `name`'s slots for scrape `seq`, padding the scrapes it missed
    /// with absent rows.
    pub(crate) fn record(&mut self, name: &str, seq: u64, row: &[u64]) {
        let oldest = self.scrapes.start_seq();
        if !self.clusters.contains_key(name) {
            let series = ClusterSeries::new(row.len(), seq);
            self.clusters.insert(name.into(), series);
        }
        let Some(series) = self.clusters.get_mut(name) else {
            return;
        };
        if series.rows.end_seq() < oldest || series.rows.end_seq() > seq {
            *series = ClusterSeries::new(row.len(), seq);
        }
        while series.rows.end_seq() < seq {
            series.changed = series.rows.end_seq();
            series.rows.push_row(&[], ABSENT);
        }
        series.rows.push_row(row, ABSENT);
        let same = (seq.checked_sub(1))
            .and_then(|prev| series.rows.row(prev))
            .is_some_and(|prev| series.rows.row(seq) == Some(prev));
        if !same {
            series.changed = seq;
        }
        if series.last_present.len() < row.len() {
            series.last_present.resize(row.len(), NONE);
        }
        for (last, bits) in series.last_present.iter_mut().zip(row) {
            if *bits != ABSENT {
                *last = seq;
            }
        }
    }

    /// Drops scrapes before `cutoff` and the cluster rows aligned with them; forgets clusters
    /// with no row left. Returns false when the pod has no scrape left.
    pub(crate) fn prune(&mut self, cutoff: Timestamp) -> bool {
        let keep_from = self.scrapes.partition_point(|m| at_before(m, cutoff));
        self.scrapes.drop_before(keep_from);
        self.clusters.retain(|_, c| {
            c.rows.drop_before(keep_from);
            !c.rows.is_empty()
        });
        !self.scrapes.is_empty()
    }

    /// Present samples of column `column` of cluster `name` with `from <= at <= to`, oldest
    /// first.
    pub(crate) fn samples(
        &self,
        name: &str,
        column: usize,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Iterator<Item = Sample> + '_ {
        (self.window(name, from, to).into_iter()).flat_map(move |w| w.samples(column))
    }

    /// The newest present sample of column `column` of cluster `name`.
    pub(crate) fn last_sample(&self, name: &str, column: usize) -> Option<Sample> {
        let series = self.clusters.get(name)?;
        self.newest(series, column)
    }

    /// Cluster `name`'s rows with `from <= at <= to`, found once to read several columns.
    pub(crate) fn window(
        &self,
        name: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Option<RowWindow<'_>> {
        let series = self.clusters.get(name)?;
        // Inside both rings: `partition_point` answers within the scrapes' kept rows.
        let lo =
            (self.scrapes.partition_point(|m| at_before(m, from))).max(series.rows.start_seq());
        let hi = (self.scrapes.partition_point(|m| !at_after(m, to))).min(series.rows.end_seq());
        let seqs = lo..hi.max(lo);
        let flat = (series.changed <= seqs.start)
            .then(|| steady_seconds(self.scrapes.rows(seqs.clone()).filter_map(|m| m.first())))
            .flatten();
        Some(RowWindow {
            pod: self,
            series,
            seqs,
            flat,
        })
    }

    fn newest(&self, series: &ClusterSeries, column: usize) -> Option<Sample> {
        let seq = *series.last_present.get(column)?;
        // Rows before `start_seq` were pruned; no later row has a value (`seq` is the newest).
        if seq == NONE || seq < series.rows.start_seq() {
            return None;
        }
        self.sample_at(series, column, seq)
    }

    fn sample_at(&self, series: &ClusterSeries, column: usize, seq: u64) -> Option<Sample> {
        let bits = *series.rows.row(seq)?.get(column)?;
        let meta = *self.scrapes.row(seq)?.first()?;
        (bits != ABSENT).then_some(Sample { meta, bits })
    }

    /// Stored slots (rows × tracked stats) over all clusters.
    pub(crate) fn slots(&self) -> usize {
        self.clusters.values().map(|c| c.rows.slots()).sum()
    }

    /// Approximate heap bytes: scrape metadata, cluster rows, map entries and names.
    pub(crate) fn heap_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(Box<str>, ClusterSeries)>() + 1;
        let map = self.clusters.capacity() * entry;
        let clusters: usize = self
            .clusters
            .iter()
            .map(|(name, c)| name.len() + c.rows.heap_bytes() + c.last_present.capacity() * 8)
            .sum();
        self.scrapes.heap_bytes() + map + clusters
    }
}

/// True when the scrape in `row` was taken before `t`.
fn at_before(row: &[ScrapeMeta], t: Timestamp) -> bool {
    row.first().is_some_and(|m| m.at < t)
}

/// True when the scrape in `row` was taken after `t`.
fn at_after(row: &[ScrapeMeta], t: Timestamp) -> bool {
    row.first().is_some_and(|m| m.at > t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> Timestamp {
        Timestamp::from_secs(s)
    }

    #[test]
    fn scrapes_must_move_forward_and_lower_uptime_bumps_the_epoch() {
        let mut p = PodSeries::new();
        assert_eq!(p.begin_scrape(t(10), Some(100)), Some(0));
        assert_eq!(p.begin_scrape(t(10), Some(101)), None, "same instant");
        assert_eq!(p.begin_scrape(t(9), Some(101)), None, "going back");
        assert_eq!(p.begin_scrape(t(12), None), Some(1));
        assert_eq!(p.begin_scrape(t(14), Some(3)), Some(2));
        let epochs: Vec<u32> = (0..3).map(|s| p.scrapes.row(s).unwrap()[0].epoch).collect();
        assert_eq!(epochs, vec![0, 0, 1], "compared with the last known uptime");
    }

    #[test]
    fn missed_scrapes_of_a_cluster_are_absent_rows() {
        let mut p = PodSeries::new();
        for (i, s) in [0, 2, 4, 6].into_iter().enumerate() {
            let seq = p.begin_scrape(t(s), Some(s)).unwrap();
            if i != 1 && i != 2 {
                p.record("c", seq, &[s * 10, ABSENT]);
            }
        }
        let got: Vec<(u64, u64)> = p
            .samples("c", 0, t(0), t(6))
            .map(|s| (s.meta.at.as_millis() / 1000, s.bits))
            .collect();
        assert_eq!(got, vec![(0, 0), (6, 60)]);
        assert_eq!(p.samples("c", 1, t(0), t(6)).count(), 0);
        assert_eq!(p.samples("nope", 0, t(0), t(6)).count(), 0);
        assert_eq!(p.last_sample("c", 0).unwrap().bits, 60);
        assert_eq!(p.slots(), 8);
    }

    #[test]
    fn the_newest_value_skips_absent_rows_and_forgets_pruned_ones() {
        let mut p = PodSeries::new();
        let seq = p.begin_scrape(t(0), None).unwrap();
        p.record("c", seq, &[5, 7]);
        let seq = p.begin_scrape(t(2), None).unwrap();
        p.record("c", seq, &[6, ABSENT]);
        assert_eq!(p.last_sample("c", 0).unwrap().bits, 6);
        let newest = p.last_sample("c", 1).unwrap();
        assert_eq!(
            (newest.bits, newest.meta.at),
            (7, t(0)),
            "absent now: the older value"
        );
        assert!(p.prune(t(1)));
        assert_eq!(p.last_sample("c", 1), None, "its row was pruned");
        assert_eq!(p.last_sample("c", 0).unwrap().bits, 6);
        assert_eq!(p.last_sample("c", 2), None, "no such column");
        let seq = p.begin_scrape(t(4), None).unwrap();
        p.record("c", seq, &[ABSENT, 9]);
        assert_eq!(p.last_sample("c", 0).unwrap().bits, 6);
        assert_eq!(p.last_sample("c", 1).unwrap().bits, 9);
    }

    #[test]
    fn prune_forgets_old_rows_and_vanished_clusters() {
        let mut p = PodSeries::new();
        for s in 0..10 {
            let seq = p.begin_scrape(t(s), None).unwrap();
            p.record("stays", seq, &[s]);
            if s < 3 {
                p.record("goes", seq, &[s]);
            }
        }
        assert!(p.prune(t(5)));
        assert_eq!(p.clusters.len(), 1);
        assert_eq!(p.samples("stays", 0, t(0), t(9)).next().unwrap().bits, 5);
        assert!(!p.prune(t(100)));
        assert!(p.clusters.is_empty());
    }
}
