//! `StatsSet`: every stat of one `/stats` capture, grouped per upstream cluster.
//!
//! Built to be re-filled: a poller re-parses each new capture into the same `StatsSet`
//! ([`StatsSet::begin_reparse`]) and, because Envoy prints stats in a stable sorted order,
//! each line usually lands on the entry right after the previous one (a cursor), so the steady
//! state does no hashing and no allocation per line.

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::cluster_key::ClusterKey;
use super::error::LineIssue;
use super::stat::{Histogram, StatValue};
pub use super::stat_table::StatTable;

/// Which admin output a `StatsSet` was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatsFormat {
    #[default]
    Text,
    Json,
    Prometheus,
}

/// The stats of one cluster, keyed by the stat suffix after the cluster name
/// (`upstream_rq_timeout`, `circuit_breakers.default.rq_open`, `ssl.versions.TLSv1.3`).
#[derive(Debug, Clone)]
pub struct ClusterStats {
    /// Shared: a set handed on by a poller is a copy of the one it re-parses into, and the
    /// name parts never change.
    pub key: std::sync::Arc<ClusterKey>,
    pub stats: StatTable,
}

impl ClusterStats {
    pub fn name(&self) -> &str {
        &self.key.name
    }

    pub fn get(&self, suffix: &str) -> Option<&StatValue> {
        self.stats.get(suffix)
    }

    /// A counter or gauge; `None` when the capture does not have it (not collected).
    pub fn int(&self, suffix: &str) -> Option<u64> {
        self.get(suffix).and_then(StatValue::as_int)
    }

    pub fn histogram(&self, suffix: &str) -> Option<&Histogram> {
        self.get(suffix).and_then(StatValue::as_histogram)
    }
}

/// Every stat of one capture: per-cluster tables, everything else, and the damaged lines.
#[derive(Debug, Clone, Default)]
pub struct StatsSet {
    pub format: StatsFormat,
    clusters: Vec<ClusterStats>,
    cluster_index: FxHashMap<Box<str>, u32>,
    cluster_cursor: usize,
    other: StatTable,
    /// Suffixes already accepted as cluster stat suffixes in this set: a cheaper check than
    /// the catalog for the next cluster with the same stats.
    accepted_suffixes: rustc_hash::FxHashSet<Box<str>>,
    issues: Vec<LineIssue>,
    /// Number of stat lines (or JSON entries / Prometheus samples) read.
    pub stat_count: usize,
    /// Where each line of the current text parse was written, when asked for
    /// ([`track_placements`](Self::track_placements)): see [`placements`](Self::placements).
    placements: Option<Vec<u64>>,
}

impl StatsSet {
    pub fn new(format: StatsFormat) -> Self {
        StatsSet {
            format,
            ..StatsSet::default()
        }
    }

    /// A copy to read from: the same stats, clusters, issues and counts, without the accepted
    /// suffixes that only steer the next parse into this set (the poller hands this on and
    /// keeps the original for its next re-parse).
    pub fn reading_copy(&self) -> StatsSet {
        StatsSet {
            format: self.format,
            clusters: self.clusters.clone(),
            cluster_index: self.cluster_index.clone(),
            cluster_cursor: self.cluster_cursor,
            other: self.other.clone(),
            accepted_suffixes: Default::default(),
            issues: self.issues.clone(),
            stat_count: self.stat_count,
            placements: None,
        }
    }

    /// Makes text parses into this set record where each line was written.
    pub(crate) fn track_placements(&mut self) {
        self.placements.get_or_insert_with(Vec::new);
    }

    /// Where each stored line of the last text parse was written, in line order: its table
    /// (the cluster's position, `u32::MAX` for the other stats) and its position in that
    /// table, before scope splits were repaired. Empty unless tracked.
    pub(crate) fn placements(&self) -> &[u64] {
        self.placements.as_deref().unwrap_or_default()
    }

    /// Records that the line just stored went to `table` (`None`: the other stats); the table's
    /// cursor is just after the entry written.
    pub(crate) fn record_placement(&mut self, cluster: Option<usize>) {
        let Some(placements) = self.placements.as_mut() else {
            return;
        };
        let (table, entry) = match cluster.and_then(|i| Some((i, self.clusters.get(i)?))) {
            Some((i, c)) => (i, c.stats.last_written()),
            None => (u32::MAX as usize, self.other.last_written()),
        };
        let table = u64::try_from(table).unwrap_or(u64::MAX);
        let entry = u64::try_from(entry).unwrap_or(u64::MAX);
        placements.push(table << 32 | (entry & 0xffff_ffff));
    }

    /// The cluster the cursor is on (the table the last cluster stat went to).
    pub(crate) fn cursor_cluster(&self) -> usize {
        self.cluster_cursor
    }

    /// Forgets values and issues but keeps names and buffers, for parsing the next capture of
    /// the same proxy into the same memory.
    pub fn begin_reparse(&mut self) {
        for c in &mut self.clusters {
            c.stats.begin_reparse();
        }
        self.other.begin_reparse();
        self.cluster_cursor = 0;
        self.issues.clear();
        self.stat_count = 0;
        if let Some(placements) = self.placements.as_mut() {
            placements.clear();
        }
    }

    /// The stat table of cluster `name`, created on first use.
    pub fn cluster_mut(&mut self, name: &str) -> &mut StatTable {
        let i = self.cluster_slot(name);
        &mut self.clusters[i].stats
    }

    fn cluster_slot(&mut self, name: &str) -> usize {
        let i = match self.clusters.get(self.cluster_cursor) {
            Some(c) if c.key.name == name => self.cluster_cursor,
            _ => match self.cluster_index.get(name) {
                Some(&i) => i as usize,
                None => {
                    let i = self.clusters.len();
                    // Clusters of one proxy tend to have the same stats: size the new table
                    // like the previous one to avoid regrowing it line by line.
                    let mut stats = StatTable::default();
                    if let Some(prev) = self.clusters.last() {
                        let (n, bytes) = prev.stats.capacity_hint();
                        stats.reserve(n, bytes);
                    }
                    self.clusters.push(ClusterStats {
                        key: std::sync::Arc::new(ClusterKey::parse(name)),
                        stats,
                    });
                    self.cluster_index.insert(name.into(), i as u32);
                    i
                }
            },
        };
        self.cluster_cursor = i;
        i
    }

    /// Name of the cluster most recently written to, for the text parser's "same cluster as
    /// the previous line" fast path.
    pub(crate) fn current_cluster(&self) -> Option<&str> {
        self.clusters
            .get(self.cluster_cursor)
            .map(|c| c.key.name.as_str())
    }

    /// Name of the cluster after the current one: the next cluster when the capture has the
    /// same layout as the previous parse.
    pub(crate) fn next_cluster(&self) -> Option<&str> {
        self.clusters
            .get(self.cluster_cursor + 1)
            .map(|c| c.key.name.as_str())
    }

    /// The name of the cluster at `offset` from the cursor and the stat its table expects next.
    pub(crate) fn cursor_expectation(&self, offset: usize) -> Option<(&str, &str)> {
        let c = self.clusters.get(self.cluster_cursor + offset)?;
        Some((c.key.name.as_str(), c.stats.expected()?))
    }

    /// True when `suffix` is already a stat of the cluster at `offset` from the cursor (0 =
    /// current, 1 = next), from this parse or an earlier one.
    pub(crate) fn cluster_knows(&self, offset: usize, suffix: &str) -> bool {
        self.clusters
            .get(self.cluster_cursor + offset)
            .is_some_and(|c| c.stats.knows(suffix))
    }

    /// Moves the cluster cursor `offset` clusters ahead and returns that cluster's table. The
    /// caller has checked that the cluster exists ([`cluster_knows`](Self::cluster_knows) or
    /// [`next_cluster`](Self::next_cluster)); out of range it falls back to the other stats.
    pub(crate) fn advance_cursor_mut(&mut self, offset: usize) -> &mut StatTable {
        let i = self.cluster_cursor + offset;
        match self.clusters.get_mut(i) {
            Some(c) => {
                self.cluster_cursor = i;
                &mut c.stats
            }
            None => &mut self.other,
        }
    }

    /// True when a cluster of this name has stats in the current parse (what earlier captures
    /// held must not change how this one is read).
    pub(crate) fn has_cluster(&self, name: &str) -> bool {
        self.cluster(name).is_some()
    }

    /// True when `suffix` was accepted as a cluster stat suffix before.
    pub(crate) fn suffix_accepted(&self, suffix: &str) -> bool {
        self.accepted_suffixes.contains(suffix)
    }

    /// Remembers an accepted cluster stat suffix.
    pub(crate) fn accept_suffix(&mut self, suffix: &str) {
        if !self.accepted_suffixes.contains(suffix) {
            self.accepted_suffixes.insert(suffix.into());
        }
    }

    /// Longest cluster name of the current parse that `rest` starts with, followed by `.`.
    pub(crate) fn longest_known_prefix<'a>(&self, rest: &'a str) -> Option<(&'a str, &'a str)> {
        let mut best: Option<(&str, &str)> = None;
        for (i, _) in rest.match_indices('.') {
            let (name, tail) = (&rest[..i], &rest[i + 1..]);
            if self.has_cluster(name) {
                best = Some((name, tail));
            }
        }
        best
    }

    /// Stats that do not belong to a cluster (`server.*`, `cluster_manager.*`, `http.*`, …).
    pub fn other_mut(&mut self) -> &mut StatTable {
        &mut self.other
    }

    pub fn other(&self) -> &StatTable {
        &self.other
    }

    /// Clusters that have at least one stat in the current capture, in first-seen order.
    pub fn clusters(&self) -> impl Iterator<Item = &ClusterStats> {
        self.clusters.iter().filter(|c| !c.stats.is_empty())
    }

    pub fn cluster(&self, name: &str) -> Option<&ClusterStats> {
        let &i = self.cluster_index.get(name)?;
        let c = &self.clusters[i as usize];
        (!c.stats.is_empty()).then_some(c)
    }

    pub fn cluster_count(&self) -> usize {
        self.clusters().count()
    }

    pub fn push_issue(&mut self, line: usize, message: impl Into<String>) {
        self.issues.push(LineIssue {
            line,
            message: message.into(),
        });
    }

    /// Undoes a split at a scope word inside a host name. `outbound|80||metadata.google.internal`
    /// reads, on its first line `….internal.upstream_rq_200`, as cluster `…metadata.google` with
    /// the scoped stat `internal.upstream_rq_200`; once a cluster named `<A>.internal` shows up,
    /// a cluster `<A>` whose stats all sit under `internal.` is merged into it. (Not reported:
    /// the result is what a re-parse of the same bytes gives directly.)
    pub(crate) fn repair_scope_splits(&mut self) {
        let moves: Vec<(usize, usize, String)> = (0..self.clusters.len())
            .filter_map(|i| {
                let c = &self.clusters[i];
                let scope = sole_scope(&c.stats)?;
                let target = format!("{}.{scope}", c.key.name);
                let &j = self.cluster_index.get(target.as_str())?;
                (!self.clusters[j as usize].stats.is_empty()).then_some(())?;
                Some((i, j as usize, scope.to_string()))
            })
            .collect();
        for (from, to, scope) in moves {
            let stats: Vec<(String, StatValue)> = self.clusters[from]
                .stats
                .iter()
                .map(|(k, v)| (k[scope.len() + 1..].to_string(), v.clone()))
                .collect();
            self.clusters[from].stats.begin_reparse();
            for (k, v) in stats {
                self.clusters[to].stats.set_value(&k, v);
            }
        }
    }

    /// Damaged or unattributable lines, in input order.
    pub fn issues(&self) -> &[LineIssue] {
        &self.issues
    }

    /// `server.uptime` in seconds, when the capture has it.
    pub fn uptime_seconds(&self) -> Option<u64> {
        self.other.get("server.uptime").and_then(StatValue::as_int)
    }

    /// Approximate heap bytes held by the set.
    pub fn heap_bytes(&self) -> usize {
        let clusters: usize = self
            .clusters
            .iter()
            .map(|c| std::mem::size_of::<ClusterStats>() + c.key.name.len() + c.stats.heap_bytes())
            .sum();
        clusters + self.other.heap_bytes()
    }
}

/// The scope word (`internal`, `external`, `canary`, `zone`, `ssl`, …) every present stat of
/// `table` starts with, if they all share one.
fn sole_scope(table: &StatTable) -> Option<&str> {
    let mut scope: Option<&str> = None;
    for (name, _) in table.iter() {
        let (head, _) = name.split_once('.')?;
        match scope {
            None => scope = Some(head),
            Some(s) if s == head => {}
            Some(_) => return None,
        }
    }
    scope
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reparse_keeps_names_but_forgets_values() {
        let mut set = StatsSet::new(StatsFormat::Text);
        set.cluster_mut("outbound|80||a.b.svc.cluster.local")
            .set_int("upstream_rq_total", 5);
        set.cluster_mut("outbound|80||a.b.svc.cluster.local")
            .set_text("version_text", "v1");
        set.other_mut().set_int("server.uptime", 10);
        assert_eq!(set.cluster_count(), 1);
        let c = set.cluster("outbound|80||a.b.svc.cluster.local").unwrap();
        assert_eq!(c.int("upstream_rq_total"), Some(5));
        assert_eq!(c.int("version_text"), None);
        assert_eq!(set.uptime_seconds(), Some(10));

        set.begin_reparse();
        assert_eq!(set.cluster_count(), 0);
        assert!(set.cluster("outbound|80||a.b.svc.cluster.local").is_none());
        set.cluster_mut("outbound|80||a.b.svc.cluster.local")
            .set_int("upstream_rq_total", 7);
        let c = set.cluster("outbound|80||a.b.svc.cluster.local").unwrap();
        assert_eq!(c.int("upstream_rq_total"), Some(7));
        assert_eq!(c.get("version_text"), None, "absent in the new capture");
        assert_eq!(c.stats.len(), 1);
    }

    #[test]
    fn add_int_sums_within_one_parse_only() {
        let mut t = StatTable::default();
        t.add_int("upstream_rq_5xx", 2);
        t.add_int("upstream_rq_5xx", 3);
        assert_eq!(t.get("upstream_rq_5xx"), Some(&StatValue::Int(5)));
        t.begin_reparse();
        t.add_int("upstream_rq_5xx", 1);
        assert_eq!(t.get("upstream_rq_5xx"), Some(&StatValue::Int(1)));
    }

    #[test]
    fn longest_known_prefix_prefers_longer_names() {
        let mut set = StatsSet::default();
        set.cluster_mut("a").set_int("upstream_rq_total", 1);
        set.cluster_mut("a.b").set_int("upstream_rq_total", 1);
        set.cluster_mut("a.b.c.d");
        assert_eq!(set.longest_known_prefix("a.b.c"), Some(("a.b", "c")));
        assert_eq!(
            set.longest_known_prefix("a.b.c.d.e"),
            Some(("a.b", "c.d.e")),
            "a cluster without stats in this parse does not count"
        );
        assert_eq!(set.longest_known_prefix("x.y"), None);
    }
}
