//! Two `/stats` captures of the same proxy → per-cluster deltas and per-second rates.
//!
//! Counters are cumulative since proxy start. A lower `server.uptime` means the proxy
//! restarted between the captures; a counter that went down without that means the cluster's
//! stats were reset (cluster re-created). Either way the new value is the increase since the
//! reset — never a negative delta.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::envoy::StatsSet;
use crate::envoy::catalog::{self, StatKind};
use crate::envoy::stats_set::ClusterStats;

/// How the interval between the two captures is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntervalSource {
    /// `--interval` on the command line.
    Flag,
    /// The difference of `server.uptime` in the two captures.
    ServerUptime,
    /// After a restart: the uptime of the second capture (time since the restart).
    UptimeSinceRestart,
    /// Unknown: deltas only, no rates.
    Unknown,
}

/// What changed between the first and the last `/stats` capture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub before: String,
    pub after: String,
    /// Seconds between the captures, used for rates (`None`: rates not computed).
    pub interval_seconds: Option<f64>,
    pub interval_source: IntervalSource,
    /// The proxy restarted between the captures (`server.uptime` went down).
    pub proxy_restarted: bool,
    /// `--interval` was given but does not apply: after a restart the rates are over the
    /// time since the restart.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interval_flag_ignored: bool,
}

/// Per-cluster deltas (`after - before`, or `after` after a reset) and rates per second.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClusterDelta {
    pub deltas: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub rates: BTreeMap<String, f64>,
    /// Counters of this cluster that went down (reset) between the captures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reset_counters: Vec<String>,
}

/// Builds the comparison header: restart detection and the interval to divide by.
pub fn compare_sets(
    before: (&str, &StatsSet),
    after: (&str, &StatsSet),
    interval_flag: Option<f64>,
) -> Comparison {
    let (up_before, up_after) = (before.1.uptime_seconds(), after.1.uptime_seconds());
    let restarted = matches!((up_before, up_after), (Some(b), Some(a)) if a < b);
    let (interval_seconds, interval_source) = match (interval_flag, up_before, up_after) {
        (Some(s), ..) if !restarted => (Some(s), IntervalSource::Flag),
        (_, _, Some(a)) if restarted && a > 0 => {
            (Some(a as f64), IntervalSource::UptimeSinceRestart)
        }
        (_, Some(b), Some(a)) if a > b => (Some((a - b) as f64), IntervalSource::ServerUptime),
        (Some(s), ..) => (Some(s), IntervalSource::Flag),
        _ => (None, IntervalSource::Unknown),
    };
    Comparison {
        before: before.0.to_string(),
        after: after.0.to_string(),
        interval_seconds,
        interval_source,
        proxy_restarted: restarted,
        interval_flag_ignored: interval_flag.is_some()
            && interval_source == IntervalSource::UptimeSinceRestart,
    }
}

/// Deltas of one cluster's counters. Gauges and histograms are not differenced.
pub fn cluster_delta(
    before: Option<&ClusterStats>,
    after: &ClusterStats,
    cmp: &Comparison,
) -> ClusterDelta {
    let mut out = ClusterDelta::default();
    for (suffix, value) in after.stats.iter() {
        let Some(now) = value.as_int() else { continue };
        if !is_counter(suffix) {
            continue;
        }
        let was = if cmp.proxy_restarted {
            Some(0)
        } else {
            before.and_then(|b| b.int(suffix))
        };
        let Some(was) = was else { continue };
        let delta = if now >= was {
            now - was
        } else {
            out.reset_counters.push(suffix.to_string());
            now
        };
        out.deltas.insert(suffix.to_string(), delta);
        if let Some(secs) = cmp.interval_seconds.filter(|s| *s > 0.0) {
            out.rates.insert(suffix.to_string(), delta as f64 / secs);
        }
    }
    out
}

/// Counters are differenced; gauges (`membership_healthy`, `remaining_*`, `*_active`) are not.
/// Stats the catalog does not know are treated as counters unless they look like gauges.
fn is_counter(suffix: &str) -> bool {
    match catalog::lookup(suffix) {
        Some(info) => info.kind == StatKind::Counter,
        None => {
            !(suffix.ends_with("_active")
                || suffix.contains("remaining_")
                || suffix.ends_with("_open"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::stats_text::parse_stats_text;

    fn set(text: &str) -> StatsSet {
        parse_stats_text(text.as_bytes()).unwrap()
    }

    #[test]
    fn deltas_and_rates_from_uptime() {
        let a = set(
            "cluster.c.upstream_rq_total: 100\ncluster.c.upstream_rq_active: 5\nserver.uptime: 3600\n",
        );
        let b = set(
            "cluster.c.upstream_rq_total: 160\ncluster.c.upstream_rq_active: 2\nserver.uptime: 3630\n",
        );
        let cmp = compare_sets(("a", &a), ("b", &b), None);
        assert_eq!(cmp.interval_seconds, Some(30.0));
        assert_eq!(cmp.interval_source, IntervalSource::ServerUptime);
        assert!(!cmp.proxy_restarted);
        let d = cluster_delta(a.cluster("c"), b.cluster("c").unwrap(), &cmp);
        assert_eq!(d.deltas.get("upstream_rq_total"), Some(&60));
        assert_eq!(d.rates.get("upstream_rq_total"), Some(&2.0));
        assert_eq!(
            d.deltas.get("upstream_rq_active"),
            None,
            "gauges are not differenced"
        );
    }

    #[test]
    fn restart_is_not_a_negative_rate() {
        let a = set("cluster.c.upstream_rq_total: 1000\nserver.uptime: 3600\n");
        let b = set("cluster.c.upstream_rq_total: 40\nserver.uptime: 20\n");
        let cmp = compare_sets(("a", &a), ("b", &b), Some(30.0));
        assert!(cmp.proxy_restarted);
        assert_eq!(cmp.interval_source, IntervalSource::UptimeSinceRestart);
        let d = cluster_delta(a.cluster("c"), b.cluster("c").unwrap(), &cmp);
        assert_eq!(d.deltas.get("upstream_rq_total"), Some(&40));
        assert_eq!(d.rates.get("upstream_rq_total"), Some(&2.0));
    }

    #[test]
    fn a_counter_that_went_down_without_restart_is_a_reset() {
        let a = set("cluster.c.upstream_rq_total: 50\n");
        let b = set("cluster.c.upstream_rq_total: 7\n");
        let cmp = compare_sets(("a", &a), ("b", &b), Some(10.0));
        assert_eq!(cmp.interval_source, IntervalSource::Flag);
        let d = cluster_delta(a.cluster("c"), b.cluster("c").unwrap(), &cmp);
        assert_eq!(d.deltas.get("upstream_rq_total"), Some(&7));
        assert_eq!(d.reset_counters, vec!["upstream_rq_total".to_string()]);
    }

    #[test]
    fn no_interval_means_no_rates() {
        let a = set("cluster.c.upstream_rq_total: 1\n");
        let b = set("cluster.c.upstream_rq_total: 3\n");
        let cmp = compare_sets(("a", &a), ("b", &b), None);
        assert_eq!(cmp.interval_source, IntervalSource::Unknown);
        let d = cluster_delta(a.cluster("c"), b.cluster("c").unwrap(), &cmp);
        assert_eq!(d.deltas.get("upstream_rq_total"), Some(&2));
        assert!(d.rates.is_empty());
    }
}
