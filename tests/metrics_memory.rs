//! Real memory cost of the metrics history: a counting global allocator measures the bytes a
//! `MetricsStore` holds after 10 minutes of 2-second scrapes, per stored point (one slot of
//! one tracked stat of one cluster of one pod at one scrape).
//!
//! Workload (scaled down from 200 pods to keep the debug-mode run short; the per-point figure
//! does not depend on the pod count): 10 pods × 50 clusters × 37 default tracked stats ×
//! 301 kept scrapes = 5.57 M points. 330 scrapes are ingested and pruned every scrape as the
//! app's tick does, so the figure includes the steady state's dropped-but-kept chunk rows.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use meshtop::envoy::{Quantile, StatsFormat, StatsSet};
use meshtop::metrics::{MetricsStore, StatKind, Timestamp, TrackedStats};

/// Wraps the system allocator and keeps the number of live heap bytes.
struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const PODS: usize = 10;
const CLUSTERS: usize = 50;
/// Scrapes ingested; 10 minutes at 2 s keeps the last 301 (both window ends included).
const SCRAPES: u64 = 330;
const KEPT: usize = 301;
const INTERVAL_MS: u64 = 2_000;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

fn cluster_names() -> Vec<String> {
    (0..CLUSTERS)
        .map(|c| format!("outbound|8080||svc-{c:02}.prod.svc.cluster.local"))
        .collect()
}

/// Refills `set` with every tracked stat of every cluster for scrape `s` of pod `p`.
fn fill(set: &mut StatsSet, tracked: &TrackedStats, names: &[String], p: usize, s: u64) {
    set.begin_reparse();
    set.other_mut().set_int("server.uptime", 3_600 + 2 * s);
    for (c, name) in names.iter().enumerate() {
        let table = set.cluster_mut(name);
        for (i, spec) in tracked.specs().iter().enumerate() {
            let value = match spec.kind {
                StatKind::Counter => (p * 1_000 + c * 10 + i) as u64 * s,
                StatKind::Gauge => (s + i as u64) % 17,
                StatKind::Quantile { .. } => continue,
            };
            table.set_int(&spec.source, value);
        }
        let h = table.histogram_mut("upstream_rq_time");
        for (percentile, ms) in [(50.0, 12.0), (99.0, 250.0 + s as f64)] {
            h.quantiles.push(Quantile {
                percentile,
                interval: Some(ms),
                cumulative: Some(ms),
            });
        }
    }
}

#[test]
fn ten_minutes_of_history_costs_few_bytes_per_point() {
    let tracked = TrackedStats::default();
    let names = cluster_names();
    let pods: Vec<String> = (0..PODS)
        .map(|p| format!("order-svc-7d9f8c-{p:03}"))
        .collect();
    let mut set = StatsSet::new(StatsFormat::Text);
    fill(&mut set, &tracked, &names, 0, 0);
    let baseline = live();

    let mut store = MetricsStore::new(tracked.clone(), Duration::from_secs(600));
    let mut now = Timestamp::from_millis(0);
    for s in 0..SCRAPES {
        now = Timestamp::from_millis(s * INTERVAL_MS);
        for (p, pod) in pods.iter().enumerate() {
            fill(&mut set, &tracked, &names, p, s);
            store.ingest(pod, now, &set);
        }
        store.prune(now);
    }
    let held = live() - baseline;
    let points = store.stored_points();
    assert_eq!(points, PODS * CLUSTERS * tracked.len() * KEPT);
    let per_point = held as f64 / points as f64;
    let estimate = store.memory_bytes();
    println!(
        "metrics memory: {PODS} pods x {CLUSTERS} clusters x {} stats x {KEPT} scrapes = \
         {points} points kept, {held} bytes measured ({per_point:.2} B/point), estimate {estimate}",
        tracked.len()
    );
    assert!(per_point <= 128.0, "{per_point:.2} bytes per point");
    assert!(
        per_point <= 16.0,
        "aimed at 8-16 bytes per point: {per_point:.2}"
    );
    let ratio = estimate as f64 / held as f64;
    assert!((0.9..=1.1).contains(&ratio), "estimate off by {ratio:.3}");

    // Pausing shares the chunks: one more scrape after a freeze copies only the open tails.
    let before_freeze = live();
    let frozen = store.freeze();
    now = now.saturating_add(Duration::from_millis(INTERVAL_MS));
    for (p, pod) in pods.iter().enumerate() {
        fill(&mut set, &tracked, &names, p, SCRAPES);
        store.ingest(pod, now, &set);
    }
    let freeze_cost = live() - before_freeze;
    println!(
        "freeze + 1 scrape: {freeze_cost} bytes ({:.1}% of the store)",
        100.0 * freeze_cost as f64 / held as f64
    );
    assert!(freeze_cost < held / 10, "{freeze_cost} of {held}");
    assert!(frozen.stored_points() == points);

    // Forgetting every pod gives the memory back.
    drop(frozen);
    store.retain_pods(|_| false);
    let left = live().saturating_sub(baseline);
    println!("after retain_pods(none): {left} bytes held");
    assert!(left < 16 * 1024, "{left} bytes still held");
}
