//! `/stats` parsing throughput: our text parser (fresh and steady-state re-parse) against
//! `prometheus-parse` on the same data in Prometheus format, in one run so the ratio is fair.
//!
//! Also `/clusters?format=json` parsing against building a `serde_json::Value` tree.
//!
//! Inputs: a generated Istio-style 1,000-cluster payload (~10 MB) and, when `MESHTOP_FIXTURES`
//! is set, the real 3.1 MB Emissary capture. Run: `cargo bench --bench parse`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use meshtop::collect::default_stats_filter;
use meshtop::envoy::clusters::{ClustersReparser, parse_clusters_json};
use meshtop::envoy::stats_text::{parse_stats_text, parse_stats_text_into};
use meshtop::envoy::{StatsReparser, StatsSet};
use meshtop::kube::AdminPath;
use meshtop::sim::envoy::respond_to_path;
use meshtop::sim::scenario::SimConfig;
use meshtop::sim::traffic::Simulation;

/// Stat suffixes of one outbound cluster as an Istio sidecar with full stats prints them
/// (counters and gauges; histograms are added separately).
const SUFFIXES: &[&str] = &[
    "assignment_stale",
    "assignment_timeout_received",
    "bind_errors",
    "circuit_breakers.default.cx_open",
    "circuit_breakers.default.cx_pool_open",
    "circuit_breakers.default.remaining_cx",
    "circuit_breakers.default.remaining_pending",
    "circuit_breakers.default.remaining_retries",
    "circuit_breakers.default.remaining_rq",
    "circuit_breakers.default.rq_open",
    "circuit_breakers.default.rq_pending_open",
    "circuit_breakers.default.rq_retry_open",
    "circuit_breakers.high.cx_open",
    "circuit_breakers.high.cx_pool_open",
    "circuit_breakers.high.rq_open",
    "circuit_breakers.high.rq_pending_open",
    "circuit_breakers.high.rq_retry_open",
    "default.total_match_count",
    "external.upstream_rq_200",
    "external.upstream_rq_2xx",
    "external.upstream_rq_503",
    "external.upstream_rq_5xx",
    "external.upstream_rq_completed",
    "http2.header_overflow",
    "http2.headers_cb_no_stream",
    "http2.rx_reset",
    "http2.tx_reset",
    "internal.upstream_rq_200",
    "internal.upstream_rq_2xx",
    "internal.upstream_rq_504",
    "internal.upstream_rq_5xx",
    "internal.upstream_rq_completed",
    "lb_healthy_panic",
    "lb_local_cluster_not_ok",
    "lb_recalculate_zone_structures",
    "lb_subsets_active",
    "lb_subsets_created",
    "lb_subsets_fallback",
    "lb_subsets_removed",
    "lb_subsets_selected",
    "lb_zone_cluster_too_small",
    "lb_zone_no_capacity_left",
    "lb_zone_number_differs",
    "lb_zone_routing_all_directly",
    "lb_zone_routing_cross_zone",
    "lb_zone_routing_sampled",
    "max_host_weight",
    "membership_change",
    "membership_degraded",
    "membership_excluded",
    "membership_healthy",
    "membership_total",
    "original_dst_host_invalid",
    "outlier_detection.ejections_active",
    "outlier_detection.ejections_consecutive_5xx",
    "outlier_detection.ejections_enforced_total",
    "outlier_detection.ejections_overflow",
    "outlier_detection.ejections_total",
    "retry_or_shadow_abandoned",
    "ssl.connection_error",
    "ssl.fail_verify_san",
    "ssl.handshake",
    "ssl.no_certificate",
    "ssl.session_reused",
    "ssl.versions.TLSv1.3",
    "tlsMode-istio.total_match_count",
    "update_attempt",
    "update_empty",
    "update_failure",
    "update_no_rebuild",
    "update_success",
    "upstream_cx_active",
    "upstream_cx_close_notify",
    "upstream_cx_connect_attempts_exceeded",
    "upstream_cx_connect_fail",
    "upstream_cx_connect_timeout",
    "upstream_cx_destroy",
    "upstream_cx_destroy_local",
    "upstream_cx_destroy_local_with_active_rq",
    "upstream_cx_destroy_remote",
    "upstream_cx_destroy_remote_with_active_rq",
    "upstream_cx_destroy_with_active_rq",
    "upstream_cx_http1_total",
    "upstream_cx_http2_total",
    "upstream_cx_idle_timeout",
    "upstream_cx_max_requests",
    "upstream_cx_none_healthy",
    "upstream_cx_overflow",
    "upstream_cx_pool_overflow",
    "upstream_cx_protocol_error",
    "upstream_cx_rx_bytes_buffered",
    "upstream_cx_rx_bytes_total",
    "upstream_cx_total",
    "upstream_cx_tx_bytes_buffered",
    "upstream_cx_tx_bytes_total",
    "upstream_rq_200",
    "upstream_rq_2xx",
    "upstream_rq_504",
    "upstream_rq_5xx",
    "upstream_rq_active",
    "upstream_rq_cancelled",
    "upstream_rq_completed",
    "upstream_rq_maintenance_mode",
    "upstream_rq_pending_active",
    "upstream_rq_pending_failure_eject",
    "upstream_rq_pending_overflow",
    "upstream_rq_pending_total",
    "upstream_rq_per_try_timeout",
    "upstream_rq_retry",
    "upstream_rq_retry_backoff_exponential",
    "upstream_rq_retry_limit_exceeded",
    "upstream_rq_retry_overflow",
    "upstream_rq_retry_success",
    "upstream_rq_rx_reset",
    "upstream_rq_timeout",
    "upstream_rq_total",
    "upstream_rq_tx_reset",
];

const HISTOGRAMS: &[&str] = &[
    "upstream_cx_connect_ms",
    "upstream_cx_length_ms",
    "upstream_rq_time",
];

fn value(i: usize, j: usize) -> usize {
    (i * 7919 + j * 104_729) % 1_000_003
}

fn cluster_name(i: usize) -> String {
    format!(
        "outbound|{}|v{}|svc-{i:04}.team-{}.svc.cluster.local",
        8000 + i % 90,
        i % 3,
        i % 37
    )
}

/// The same data as text `/stats` and as Prometheus text.
fn generate(clusters: usize) -> (String, String) {
    let mut text = String::new();
    let mut prom = String::new();
    let mut names: Vec<String> = (0..clusters).map(cluster_name).collect();
    names.sort();
    for (i, name) in names.iter().enumerate() {
        text.push_str(&format!(
            "cluster.{name}.version_text: \"2026-11-26T10:00:00Z/{i}\"\n"
        ));
    }
    for (i, name) in names.iter().enumerate() {
        for (j, s) in SUFFIXES.iter().enumerate() {
            text.push_str(&format!("cluster.{name}.{s}: {}\n", value(i, j)));
        }
    }
    for name in &names {
        for h in HISTOGRAMS {
            text.push_str(&format!(
                "cluster.{name}.{h}: P0(nan,1) P25(nan,2.5) P50(nan,10.25) P75(nan,40) P90(nan,120) \
                 P95(nan,300) P99(nan,1388.5) P99.5(nan,1500) P99.9(nan,2900) P100(nan,3000)\n"
            ));
        }
    }
    // Prometheus groups samples by metric family, each under its `# TYPE` line.
    for (j, s) in SUFFIXES.iter().enumerate() {
        let metric = s.replace(['.', '-'], "_");
        prom.push_str(&format!("# TYPE envoy_cluster_{metric} counter\n"));
        for (i, name) in names.iter().enumerate() {
            prom.push_str(&format!(
                "envoy_cluster_{metric}{{cluster_name=\"{name}\"}} {}\n",
                value(i, j)
            ));
        }
    }
    for h in HISTOGRAMS {
        prom.push_str(&format!("# TYPE envoy_cluster_{h} histogram\n"));
        for name in &names {
            for (le, c) in [
                ("0.5", 1),
                ("1", 3),
                ("5", 40),
                ("10", 90),
                ("100", 300),
                ("+Inf", 310),
            ] {
                prom.push_str(&format!(
                    "envoy_cluster_{h}_bucket{{cluster_name=\"{name}\",le=\"{le}\"}} {c}\n"
                ));
            }
            prom.push_str(&format!(
                "envoy_cluster_{h}_sum{{cluster_name=\"{name}\"}} 12345.5\n"
            ));
            prom.push_str(&format!(
                "envoy_cluster_{h}_count{{cluster_name=\"{name}\"}} 310\n"
            ));
        }
    }
    (text, prom)
}

fn bench_generated(c: &mut Criterion) {
    let (text, prom) = generate(1000);
    let mut group = c.benchmark_group("stats_10MB_1000_clusters");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("meshtop_text_fresh", |b| {
        b.iter(|| parse_stats_text(black_box(text.as_bytes())).map(|s| s.stat_count))
    });
    let mut set: StatsSet = parse_stats_text(text.as_bytes()).expect("generated payload parses");
    group.bench_function("meshtop_text_steady", |b| {
        b.iter(|| parse_stats_text_into(black_box(text.as_bytes()), &mut set))
    });
    group.throughput(Throughput::Bytes(prom.len() as u64));
    group.bench_function("prometheus_parse_same_data", |b| {
        b.iter(|| {
            let lines = prom.lines().map(|l| Ok(l.to_string()));
            prometheus_parse::Scrape::parse(lines).map(|s| s.samples.len())
        })
    });
    group.finish();
}

fn bench_emissary(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("MESHTOP_FIXTURES") else {
        println!("skipped: MESHTOP_FIXTURES not set (real Emissary capture benchmark)");
        return;
    };
    let path = std::path::Path::new(&dir)
        .join("envoy-stats/emissary-ambassador-large-production-stats-336-clusters.txt");
    let Ok(bytes) = std::fs::read(&path) else {
        println!("skipped: cannot read {}", path.display());
        return;
    };
    let mut group = c.benchmark_group("stats_emissary_3MB_real");
    group.sample_size(30);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("meshtop_text_fresh", |b| {
        b.iter(|| parse_stats_text(black_box(&bytes)).map(|s| s.stat_count))
    });
    let mut set = parse_stats_text(&bytes).expect("emissary capture parses");
    group.bench_function("meshtop_text_steady", |b| {
        b.iter(|| parse_stats_text_into(black_box(&bytes), &mut set))
    });
    group.finish();
}

/// `/clusters?format=json` parsing: meshtop's parser (validated once, split into borrowed raw
/// objects, each read into typed structs) against building serde_json's generic `Value` tree
/// of the same document — the first step of the parser it replaced, and a lower bound of its
/// cost. Inputs: one sidecar's answer in the simulated `grpc-keepalive` mesh at 50 and 200
/// pods (every sidecar lists every endpoint), and the real Istio 1.2 capture when
/// `MESHTOP_FIXTURES` is set.
fn bench_clusters(c: &mut Criterion) {
    let mut inputs: Vec<(String, String)> = [50, 200]
        .into_iter()
        .map(|pods| (format!("sim_{pods}_pods"), sim_clusters_json(pods)))
        .collect();
    match std::env::var_os("MESHTOP_FIXTURES") {
        Some(dir) => {
            let path = std::path::Path::new(&dir)
                .join("envoy-config/istio-1.2-istioctl-testdata-clusters.json");
            match std::fs::read_to_string(&path) {
                Ok(text) => inputs.push(("istio_1_2_real".into(), text)),
                Err(e) => println!("skipped: cannot read {}: {e}", path.display()),
            }
        }
        None => println!("skipped: MESHTOP_FIXTURES not set (real /clusters capture)"),
    }
    for (name, text) in &inputs {
        let dump = parse_clusters_json(text).expect("the capture parses");
        assert!(dump.issues.is_empty(), "{name}: {:?}", dump.issues);
        let mut group = c.benchmark_group(format!("clusters_json_{name}"));
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function("meshtop", |b| {
            b.iter(|| parse_clusters_json(black_box(text)).map(|d| d.clusters.len()))
        });
        group.bench_function("serde_json_value_tree", |b| {
            b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(text)).is_ok())
        });
        group.finish();
    }
}

/// One poll's `/stats?usedonly&filter=…` of a simulated sidecar (~10 KB): a fresh parse, as
/// against the poller's `StatsReparser` on a capture listing the same stats as the previous
/// one (its checks, the re-parse into the previous set and the copy the poller hands on).
fn bench_poll_stats(c: &mut Criterion) {
    let path = AdminPath::filtered_stats(&default_stats_filter()).to_uri();
    let body = sim_answer(50, &path);
    let mut group = c.benchmark_group(format!("stats_poll_{}B_sim", body.len()));
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("fresh", |b| {
        b.iter(|| parse_stats_text(black_box(body.as_bytes())).map(|s| s.stat_count))
    });
    let mut parser = StatsReparser::new();
    group.bench_function("reparser", |b| {
        b.iter(|| {
            parser
                .parse(black_box(body.as_bytes()))
                .map(|s| s.stat_count)
        })
    });
    let (reparsed, fresh) = parser.counts();
    assert!(
        fresh <= 1,
        "parsed afresh only the first time ({fresh}, {reparsed} re-parsed)"
    );
    group.finish();
}

/// One poll's `/clusters?format=json` of a simulated sidecar of a 50-pod mesh, alternating
/// with a copy in which the host counter in the middle of the document moved (what a poll
/// sees when one cluster carries traffic): a fresh parse, as against the poller's
/// `ClustersReparser`.
fn bench_poll_clusters(c: &mut Criterion) {
    let first = sim_clusters_json(50);
    let hosts: Vec<usize> = first
        .match_indices("\"value\": \"")
        .map(|(at, m)| at + m.len())
        .collect();
    let at = *hosts
        .get(hosts.len() / 2)
        .expect("host counters in the capture");
    let mut second = first.clone();
    second.insert(at, '1');
    let docs = [first, second];
    let mut group = c.benchmark_group(format!("clusters_poll_{}B_sim", docs[0].len()));
    group.throughput(Throughput::Bytes(docs[0].len() as u64));
    let mut turn = 0;
    group.bench_function("fresh", |b| {
        b.iter(|| {
            turn += 1;
            parse_clusters_json(black_box(&docs[turn % 2])).map(|d| d.clusters.len())
        })
    });
    let mut parser = ClustersReparser::new();
    group.bench_function("reparser", |b| {
        b.iter(|| {
            turn += 1;
            (parser.parse(black_box(&docs[turn % 2]))).map(|d| d.clusters.len())
        })
    });
    let (reparsed, fresh) = parser.counts();
    assert!(
        fresh <= 1,
        "parsed afresh only the first time ({fresh}, {reparsed} re-parsed)"
    );
    group.finish();
}

/// The `/clusters?format=json` answer of the first sidecar of a simulated mesh of `pods`.
fn sim_clusters_json(pods: usize) -> String {
    sim_answer(pods, "/clusters?format=json")
}

/// The admin answer to `path` of the first sidecar of a simulated mesh of `pods`.
fn sim_answer(pods: usize, path: &str) -> String {
    let cfg = SimConfig {
        scenario: "grpc-keepalive".parse().expect("a scenario"),
        pods: Some(pods),
        ..SimConfig::default()
    };
    let mut sim = Simulation::new(&cfg);
    sim.advance_to(60_000);
    let pod = (sim.world().served_pods())
        .find(|p| p.meshed)
        .map(|p| (p.namespace.clone(), p.name.clone()))
        .expect("a meshed pod");
    let state = sim.proxy(&pod.0, &pod.1).expect("its proxy");
    respond_to_path(&state, path).body
}

criterion_group!(
    benches,
    bench_poll_stats,
    bench_clusters,
    bench_poll_clusters,
    bench_generated,
    bench_emissary
);
criterion_main!(benches);
