//! Behaviour of the store through its public API, on synthetic scrapes and clocks.

use std::time::Duration;

use super::*;
use crate::envoy::{Quantile, StatsFormat, StatsSet};

const C: &str = "outbound|8080||inventory.prod.svc.cluster.local";

fn t(s: u64) -> Timestamp {
    Timestamp::from_secs(s)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// One capture with `uptime` and integer stats of cluster `C`.
fn capture(uptime: Option<u64>, stats: &[(&str, u64)]) -> StatsSet {
    let mut set = StatsSet::new(StatsFormat::Text);
    if let Some(up) = uptime {
        set.other_mut().set_int("server.uptime", up);
    }
    for (name, value) in stats {
        set.cluster_mut(C).set_int(name, *value);
    }
    set
}

/// A store fed a steady 10 requests/s, scraped every 2 s from t=0 to t=`until`.
fn steady(pod: &str, until: u64) -> MetricsStore {
    let mut store = MetricsStore::default();
    for s in (0..=until).step_by(2) {
        let set = capture(Some(1000 + s), &[("upstream_rq_total", 10 * s)]);
        store.ingest(pod, t(s), &set);
    }
    store
}

#[test]
fn steady_ten_per_second_is_rate_ten() {
    let store = steady("a", 60);
    let d = store
        .delta("a", C, "upstream_rq_total", secs(30), t(60))
        .unwrap();
    assert_eq!(
        d,
        Delta {
            increase: 300,
            seconds: 30.0,
            resets: 0,
            samples: 16
        }
    );
    assert_eq!(
        store.rate("a", C, "upstream_rq_total", secs(30), t(60)),
        Some(10.0)
    );
    let sparkline = store.rate_series("a", C, "upstream_rq_total", secs(6), t(60));
    assert_eq!(sparkline, vec![(t(56), 10.0), (t(58), 10.0), (t(60), 10.0)]);
}

#[test]
fn window_edges_are_inclusive_and_the_future_is_excluded() {
    let store = steady("a", 60);
    let d = |w, now| store.delta("a", C, "upstream_rq_total", secs(w), t(now));
    assert_eq!(d(2, 60).map(|d| (d.samples, d.increase)), Some((2, 20)));
    assert_eq!(d(1, 60), None, "one sample is not a delta");
    assert_eq!(
        d(3, 59).map(|d| (d.samples, d.increase)),
        Some((2, 20)),
        "56 and 58"
    );
    assert_eq!(
        d(10, 20).map(|d| d.increase),
        Some(100),
        "queried in the past"
    );
    assert_eq!(d(10, 500), None, "nothing in the window");
    assert_eq!(
        store
            .series("a", C, "upstream_rq_total", secs(2), t(4))
            .len(),
        2
    );
}

#[test]
fn a_missed_scrape_is_a_longer_pair_not_a_zero() {
    let mut store = MetricsStore::default();
    for s in [0, 2, 4, 8, 10] {
        store.ingest(
            "a",
            t(s),
            &capture(Some(s), &[("upstream_rq_total", 10 * s)]),
        );
    }
    let d = store
        .delta("a", C, "upstream_rq_total", secs(10), t(10))
        .unwrap();
    assert_eq!((d.increase, d.seconds, d.samples), (100, 10.0, 5));
    let rates = store.rate_series("a", C, "upstream_rq_total", secs(10), t(10));
    assert_eq!(rates[2], (t(8), 10.0), "4 s pair over the gap");
    assert_eq!(rates.len(), 4);
}

#[test]
fn a_decreasing_counter_skips_the_pair() {
    let mut store = MetricsStore::default();
    for (s, v) in [(0, 100), (2, 120), (4, 5), (6, 25)] {
        store.ingest(
            "a",
            t(s),
            &capture(Some(500 + s), &[("upstream_rq_total", v)]),
        );
    }
    let d = store
        .delta("a", C, "upstream_rq_total", secs(60), t(6))
        .unwrap();
    assert_eq!((d.increase, d.seconds, d.resets), (40, 4.0, 1));
    assert_eq!(
        store.rate("a", C, "upstream_rq_total", secs(60), t(6)),
        Some(10.0)
    );
    let rates = store.rate_series("a", C, "upstream_rq_total", secs(60), t(6));
    assert!(rates.iter().all(|&(_, r)| r == 10.0), "{rates:?}");
}

#[test]
fn a_lower_uptime_is_a_restart_counted_from_zero() {
    let mut store = MetricsStore::default();
    // Restart at t=3: 1 s of uptime at t=4 with 10 requests since.
    for (s, up, v) in [(0, 1000, 5000), (2, 1002, 5020), (4, 1, 10), (6, 3, 30)] {
        store.ingest("a", t(s), &capture(Some(up), &[("upstream_rq_total", v)]));
    }
    let d = store
        .delta("a", C, "upstream_rq_total", secs(60), t(6))
        .unwrap();
    assert_eq!(
        (d.increase, d.seconds, d.resets, d.samples),
        (50, 5.0, 1, 4)
    );
    assert_eq!(
        store.rate("a", C, "upstream_rq_total", secs(60), t(6)),
        Some(10.0)
    );
}

#[test]
fn a_restart_that_predates_the_previous_sample_never_spikes() {
    let mut store = MetricsStore::default();
    // A new proxy under the same name whose uptime puts its start before the last sample:
    // its 90000 requests are not an increase inside this pair, and not a negative one.
    for (s, up, v) in [
        (0, 1000, 50),
        (2, 1002, 70),
        (4, 100, 90_000),
        (6, 102, 90_020),
    ] {
        store.ingest("a", t(s), &capture(Some(up), &[("upstream_rq_total", v)]));
    }
    let d = store
        .delta("a", C, "upstream_rq_total", secs(60), t(6))
        .unwrap();
    assert_eq!((d.increase, d.seconds, d.resets), (40, 4.0, 1));
    let rates = store.rate_series("a", C, "upstream_rq_total", secs(60), t(6));
    assert_eq!(rates, vec![(t(2), 10.0), (t(6), 10.0)]);
}

#[test]
fn absent_stats_are_none_not_zero() {
    let mut store = MetricsStore::default();
    for s in [0, 2, 4] {
        let mut stats = vec![("upstream_rq_total", s)];
        if s == 4 {
            stats.push(("upstream_rq_timeout", 7));
        }
        store.ingest("a", t(s), &capture(Some(s), &stats));
    }
    let w = secs(60);
    assert_eq!(store.delta("a", C, "upstream_rq_timeout", w, t(4)), None);
    assert_eq!(store.rate("a", C, "upstream_rq_timeout", w, t(4)), None);
    assert_eq!(store.delta("a", C, "upstream_rq_503", w, t(4)), None);
    assert_eq!(store.latest("a", C, "upstream_rq_503"), None);
    assert!(store.series("a", C, "upstream_rq_503", w, t(4)).is_empty());
    assert_eq!(store.delta("a", C, "no_such_stat", w, t(4)), None);
    assert_eq!(store.delta("b", C, "upstream_rq_total", w, t(4)), None);
    assert_eq!(
        store.delta("a", "other", "upstream_rq_total", w, t(4)),
        None
    );
    let timeouts = store.series("a", C, "upstream_rq_timeout", w, t(4));
    assert_eq!(
        timeouts,
        vec![(t(4), 7.0)],
        "the earlier scrapes are absent, not 0"
    );
}

#[test]
fn gauges_answer_latest_and_series_but_no_delta() {
    let mut store = MetricsStore::default();
    for (s, active) in [(0, 3), (2, 9), (4, 4)] {
        store.ingest("a", t(s), &capture(None, &[("upstream_cx_active", active)]));
    }
    store.ingest("a", t(6), &capture(None, &[("upstream_rq_total", 1)]));
    assert_eq!(
        store.latest("a", C, "upstream_cx_active"),
        Some((t(4), Reading::Int(4))),
        "t=6 lacked the gauge"
    );
    let series = store.series("a", C, "upstream_cx_active", secs(60), t(6));
    assert_eq!(series, vec![(t(0), 3.0), (t(2), 9.0), (t(4), 4.0)]);
    assert_eq!(
        store.delta("a", C, "upstream_cx_active", secs(60), t(6)),
        None
    );
    assert!(
        store
            .rate_series("a", C, "upstream_cx_active", secs(60), t(6))
            .is_empty()
    );
}

#[test]
fn quantiles_store_the_interval_value_and_nan_is_absent() {
    let mut store = MetricsStore::default();
    for (s, p99) in [(0, Some(250.5)), (2, None)] {
        let mut set = capture(Some(s), &[("upstream_rq_total", s)]);
        let h = set.cluster_mut(C).histogram_mut("upstream_rq_time");
        h.quantiles.push(Quantile {
            percentile: 99.0,
            interval: p99,
            cumulative: Some(300.0),
        });
        h.quantiles.push(Quantile {
            percentile: 50.0,
            interval: Some(12.0),
            cumulative: Some(11.0),
        });
        store.ingest("a", t(s), &set);
    }
    assert_eq!(
        store.latest("a", C, "upstream_rq_time.p99"),
        Some((t(0), Reading::Float(250.5)))
    );
    assert_eq!(
        store.latest("a", C, "upstream_rq_time.p50"),
        Some((t(2), Reading::Float(12.0)))
    );
    let p50 = store.series("a", C, "upstream_rq_time.p50", secs(60), t(2));
    assert_eq!(p50, vec![(t(0), 12.0), (t(2), 12.0)]);
}

#[test]
fn out_of_order_scrapes_are_ignored_and_untracked_clusters_not_stored() {
    let mut store = MetricsStore::default();
    let mut set = capture(Some(1), &[("upstream_rq_total", 1)]);
    set.cluster_mut("xds-grpc").set_int("update_attempt", 4);
    assert_eq!(
        store.ingest("a", t(2), &set),
        IngestOutcome::Stored { clusters: 1 }
    );
    assert_eq!(store.ingest("a", t(2), &set), IngestOutcome::OutOfOrder);
    assert_eq!(store.ingest("a", t(1), &set), IngestOutcome::OutOfOrder);
    assert_eq!(store.clusters("a").collect::<Vec<_>>(), vec![C]);
    assert_eq!(store.stored_points(), 37);
}

#[test]
fn prune_drops_old_samples_and_releases_memory() {
    let store_full = steady("a", 598);
    let mut store = store_full.clone();
    let before = (store.stored_points(), store.memory_bytes());
    assert_eq!(before.0, 300 * 37);
    store.prune(t(598 + 300));
    // Keeps t >= 298: 151 scrapes.
    assert_eq!(store.stored_points(), 151 * 37);
    assert!(store.memory_bytes() < before.1 * 6 / 10, "{before:?}");
    let d = store
        .delta("a", C, "upstream_rq_total", secs(3600), t(598))
        .unwrap();
    assert_eq!((d.samples, d.increase), (151, 3000));
    store.prune(t(10_000));
    assert_eq!(
        store.pods().count(),
        0,
        "a pod with no scrape left is forgotten"
    );
    assert_eq!(store.stored_points(), 0);
}

#[test]
fn retain_pods_forgets_pods_that_are_gone() {
    let mut store = steady("a", 98);
    for s in (0..=98).step_by(2) {
        store.ingest("b", t(s), &capture(Some(s), &[("upstream_rq_total", s)]));
    }
    assert_eq!(store.pods().collect::<Vec<_>>(), vec!["a", "b"]);
    let bytes = store.memory_bytes();
    store.retain_pods(|p| p == "b");
    assert_eq!(store.pods().collect::<Vec<_>>(), vec!["b"]);
    assert_eq!(
        store.rate("a", C, "upstream_rq_total", secs(60), t(98)),
        None
    );
    assert_eq!(store.stored_points(), 50 * 37);
    assert!(store.memory_bytes() < bytes * 6 / 10, "{bytes}");
}

#[test]
fn a_cluster_unseen_for_longer_than_retention_is_forgotten() {
    let mut store = MetricsStore::new(TrackedStats::default(), secs(60));
    for s in (0..=200).step_by(2) {
        let mut set = capture(Some(s), &[("upstream_rq_total", s)]);
        if s <= 100 {
            set.cluster_mut("gone").set_int("upstream_rq_total", s);
        }
        store.ingest("a", t(s), &set);
        store.prune(t(s));
    }
    assert_eq!(store.clusters("a").collect::<Vec<_>>(), vec![C]);
    // Seen at t=100; at t=150 it is still within 60 s of retention.
    let mut store = MetricsStore::new(TrackedStats::default(), secs(60));
    for s in (0..=150).step_by(2) {
        let mut set = capture(Some(s), &[("upstream_rq_total", s)]);
        if s <= 100 {
            set.cluster_mut("gone").set_int("upstream_rq_total", s);
        }
        store.ingest("a", t(s), &set);
        store.prune(t(s));
    }
    assert_eq!(store.clusters("a").count(), 2);
    assert_eq!(
        store.latest("a", "gone", "upstream_rq_total"),
        Some((t(100), Reading::Int(100)))
    );
}

#[test]
fn a_frozen_view_ignores_later_ingest_and_prune() {
    let mut live = steady("a", 40);
    let frozen = live.freeze();
    for s in (42..=700).step_by(2) {
        live.ingest(
            "a",
            t(s),
            &capture(Some(1000 + s), &[("upstream_rq_total", 20 * s)]),
        );
        live.prune(t(s));
    }
    live.retain_pods(|_| false);
    assert_eq!(live.pods().count(), 0);
    assert_eq!(
        frozen.rate("a", C, "upstream_rq_total", secs(40), t(40)),
        Some(10.0)
    );
    assert_eq!(
        frozen.latest("a", C, "upstream_rq_total"),
        Some((t(40), Reading::Int(400)))
    );
    assert_eq!(frozen.stored_points(), 21 * 37);
}

#[test]
fn sums_over_pods_count_only_pods_with_the_stat() {
    let mut store = MetricsStore::default();
    for s in (0..=20).step_by(2) {
        store.ingest(
            "a",
            t(s),
            &capture(Some(s), &[("upstream_rq_total", 10 * s)]),
        );
        store.ingest(
            "b",
            t(s),
            &capture(Some(s), &[("upstream_rq_total", 20 * s)]),
        );
        store.ingest("c", t(s), &capture(Some(s), &[("upstream_cx_active", 1)]));
    }
    let w = secs(10);
    let sum = store.rate_sum(C, "upstream_rq_total", w, t(20)).unwrap();
    assert_eq!((sum.rate, sum.pods), (30.0, 2));
    let d = store.delta_sum(C, "upstream_rq_total", w, t(20));
    assert_eq!(
        d,
        Some(DeltaSum {
            increase: 300,
            resets: 0,
            pods: 2
        })
    );
    assert_eq!(store.rate_sum(C, "upstream_rq_timeout", w, t(20)), None);
    assert_eq!(
        store.delta_sum("other", "upstream_rq_total", w, t(20)),
        None
    );
}

/// A `/clusters`-style source: per-host counters summed per cluster.
struct HostTotals(u64);

impl StatSource for HostTotals {
    fn read(&self, spec: &StatSpec) -> Option<Reading> {
        (&*spec.source == "hosts.rq_timeout").then_some(Reading::Int(self.0))
    }
}

#[test]
fn series_names_need_not_be_stats_suffixes() {
    let tracked = TrackedStats::new([StatSpec::counter("hosts.rq_timeout")]);
    let mut store = MetricsStore::new(tracked, DEFAULT_RETENTION);
    for s in [0, 5, 10] {
        let hosts = HostTotals(3 * s);
        store.ingest_from("a", t(s), Some(s), [(C, &hosts)]);
    }
    assert_eq!(
        store.rate("a", C, "hosts.rq_timeout", secs(10), t(10)),
        Some(3.0)
    );
    assert_eq!(store.stored_points(), 3);
}

#[test]
fn a_window_of_unchanged_rows_reads_as_the_full_scan_does() {
    // Phases: traffic, a quiet stretch, a restart with every value still 0 before and after,
    // scrapes without the cluster, a stat that appears late, scrapes without an uptime.
    let mut store = MetricsStore::default();
    let mut uptime = 500;
    for i in 0..70u64 {
        let s = 2 * i;
        uptime = if i == 40 { 1 } else { uptime + 2 };
        let total = match i {
            0..10 => 7 * i,
            10..30 => 63,
            _ => 0,
        };
        let set = match i {
            45..48 => capture(Some(uptime), &[]),
            48..55 => capture(Some(uptime), &[("upstream_rq_total", 5)]),
            55.. => capture(
                (i < 62).then_some(uptime),
                &[("upstream_rq_total", 5), ("upstream_rq_timeout", 1)],
            ),
            _ => capture(Some(uptime), &[("upstream_rq_total", total)]),
        };
        store.ingest("a", t(s), &set);
    }
    let pod = store.pods.get("a").unwrap();
    let mut flat = 0;
    for stat in ["upstream_rq_total", "upstream_rq_timeout"] {
        let column = store.tracked().position(stat).unwrap();
        for to in 0..150 {
            for len in [0, 1, 2, 3, 7, 20, 31, 60] {
                let (now, window) = (t(to), secs(len));
                let scanned =
                    delta::delta_of(pod.samples(C, column, now.saturating_sub(window), now));
                let read = store.delta("a", C, stat, window, now);
                assert_eq!(read, scanned, "{stat} at {to} s over {len} s");
                let rows = pod.window(C, now.saturating_sub(window), now).unwrap();
                flat += usize::from(rows.is_flat() && read.is_some());
            }
        }
    }
    assert!(flat > 100, "the unchanged-rows path was taken {flat} times");
}
