//! The simulator's Envoy admin emulator (`meshtop::sim::envoy`) held against the client's
//! parsers, real captures (`$MESHTOP_FIXTURES`), the project's own samples and `promtool`.
//!
//! The emulator must not share code with the parsers; here the parsers read its output back
//! and must find exactly the values the hand-built `ProxyState` holds, with no issues.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use meshtop::envoy::clusters::{parse_clusters_json, parse_clusters_text};
use meshtop::envoy::config_dump::{
    Priority, RouteTimeout, TransportSecurity, UpstreamProtocol, parse_config_dump,
};
use meshtop::envoy::prometheus::{istio_requests, parse_prometheus};
use meshtop::envoy::server_info::parse_server_info;
use meshtop::envoy::stats_json::parse_stats_json;
use meshtop::envoy::stats_text::parse_stats_text;
use meshtop::envoy::{StatValue, StatsSet};
use meshtop::sim::envoy::{
    AdminError, AdminRequest, AdminResponse, ENVOY_DEFAULT_BUCKETS, StatsFormat, parse_admin_path,
    respond, respond_to_path, xds_pipe_address,
};
use meshtop::sim::model::{
    ProxyState, SimCluster, SimClusterConfig, SimHistogram, SimHost, SimIstioRequests, SimRoute,
    StatsInclusion,
};

const INVENTORY: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";
const PRICING: &str = "outbound|8080|v2|pricing-svc.prod.svc.cluster.local";
const STRIPE: &str = "outbound|443||api.stripe.com";
const ORDERS_DB: &str = "outbound|5432||orders-db.prod.svc.cluster.local";
const INBOUND: &str = "inbound|8080||";
const PERCENTILES: [f64; 10] = [0.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 100.0];
/// The meshtop poller's stats filter (DESIGN.md §4).
const MESHTOP_FILTER: &str = r"^cluster\.(outbound|inbound)\|.*\.(upstream_rq_time|upstream_rq_timeout|upstream_rq_total|upstream_cx_destroy.*with_active_rq)$";

// ---------------------------------------------------------------------------------------
// A hand-built sidecar
// ---------------------------------------------------------------------------------------

fn config(discovery: &str) -> SimClusterConfig {
    SimClusterConfig::istio_default(discovery, false)
}

fn host(address: &str, zone: &str, rq_total: u64, rq_timeout: u64) -> SimHost {
    SimHost {
        address: address.into(),
        health_flags: Vec::new(),
        cx_total: 450,
        cx_active: 2,
        cx_connect_fail: 0,
        rq_total,
        rq_timeout,
        rq_success: rq_total - rq_timeout,
        rq_error: rq_timeout,
        rq_active: 14,
        weight: 1,
        zone: zone.into(),
    }
}

fn cluster(name: &str, config: SimClusterConfig) -> SimCluster {
    SimCluster {
        name: name.into(),
        counters: BTreeMap::new(),
        gauges: BTreeMap::new(),
        histograms: BTreeMap::new(),
        hosts: Vec::new(),
        config,
        routes: Vec::new(),
    }
}

fn stats(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn histogram(
    cumulative: [f64; 10],
    interval: Option<[f64; 10]>,
    count: u64,
    sum: f64,
) -> SimHistogram {
    let zip = |values: [f64; 10]| PERCENTILES.iter().copied().zip(values).collect::<Vec<_>>();
    SimHistogram {
        cumulative: zip(cumulative),
        interval: interval.map(zip).unwrap_or_default(),
        buckets: vec![
            (1.0, 90),
            (50.0, 61_000),
            (1000.0, 168_000),
            (2500.0, count),
        ],
        count,
        sum,
    }
}

/// The sick gRPC cluster's counters (the sample story's numbers).
const INVENTORY_COUNTERS: [(&str, u64); 17] = [
    ("upstream_rq_total", 177_910),
    ("upstream_rq_timeout", 449),
    ("upstream_rq_per_try_timeout", 0),
    ("upstream_rq_200", 176_346),
    ("upstream_rq_2xx", 176_346),
    ("upstream_rq_504", 449),
    ("upstream_rq_503", 21),
    ("upstream_rq_5xx", 470),
    ("upstream_rq_retry", 1_204),
    ("upstream_cx_total", 1_348),
    ("upstream_cx_destroy_remote_with_active_rq", 108),
    ("upstream_cx_destroy_local_with_active_rq", 3),
    ("upstream_cx_destroy_with_active_rq", 111),
    ("upstream_cx_connect_fail", 0),
    ("internal.upstream_rq_504", 449),
    ("ssl.versions.TLSv1.3", 1_348),
    ("tlsMode-istio.total_match_count", 1_348),
];

const INVENTORY_GAUGES: [(&str, u64); 8] = [
    ("upstream_rq_active", 41),
    ("upstream_cx_active", 6),
    ("upstream_rq_pending_active", 0),
    ("membership_healthy", 2),
    ("membership_total", 3),
    ("circuit_breakers.default.remaining_cx", 94),
    (
        "circuit_breakers.default.remaining_cx_pools",
        18_446_744_073_709_551_609,
    ),
    ("outlier_detection.ejections_active", 1),
];

fn inventory_route() -> SimRoute {
    SimRoute {
        route_config: "8080".into(),
        virtual_host: "inventory-svc.prod.svc.cluster.local:8080".into(),
        domains: vec![
            "inventory-svc.prod.svc.cluster.local".into(),
            "inventory-svc".into(),
        ],
        timeout_ms: Some(1_000),
        num_retries: 2,
        per_try_timeout_ms: None,
        retry_on: String::new(),
    }
}

fn inventory() -> SimCluster {
    let config = SimClusterConfig {
        connect_timeout_ms: 2_000,
        idle_timeout_ms: Some(3_600_000),
        http2: true,
        max_connections: 100,
        max_pending_requests: 1024,
        max_requests: 1024,
        max_retries: 3,
        outlier_detection: Some((5, 10_000, 30_000, 10)),
        istio_mtls: true,
        ..config("EDS")
    };
    let mut c = cluster(INVENTORY, config);
    c.counters = stats(&INVENTORY_COUNTERS);
    c.gauges = stats(&INVENTORY_GAUGES);
    let cumulative = [
        1.0, 36.1, 68.4, 198.7, 584.3, 912.6, 1402.0, 1478.9, 1573.2, 2100.0,
    ];
    let interval = [
        2.0, 38.5, 71.0, 205.0, 612.0, 930.0, 1388.0, 1455.0, 1490.0, 1500.0,
    ];
    let rq_time = histogram(cumulative, Some(interval), 176_346, 28_217_741.5);
    c.histograms.insert("upstream_rq_time".into(), rq_time);
    c.histograms
        .insert("upstream_cx_connect_ms".into(), SimHistogram::default());
    let mut ejected = host("10.4.3.19:8080", "us-east-1c", 59_350, 150);
    ejected.health_flags = vec!["/failed_outlier_check".into()];
    c.hosts = vec![
        host("10.4.1.12:8080", "us-east-1a", 59_312, 151),
        host("10.4.2.7:8080", "us-east-1b", 59_248, 148),
        ejected,
    ];
    c.routes = vec![inventory_route()];
    c
}

fn pricing() -> SimCluster {
    let mut c = cluster(
        PRICING,
        SimClusterConfig {
            istio_mtls: true,
            ..config("EDS")
        },
    );
    c.counters = stats(&[("upstream_rq_total", 71_840), ("upstream_rq_timeout", 0)]);
    c.hosts = vec![host("10.4.1.33:8080", "us-east-1a", 35_911, 0)];
    c.routes = vec![SimRoute {
        route_config: "8080".into(),
        virtual_host: "pricing-svc.prod.svc.cluster.local:8080".into(),
        domains: vec!["pricing-svc.prod.svc.cluster.local".into()],
        timeout_ms: None,
        num_retries: 3,
        per_try_timeout_ms: Some(500),
        retry_on: "5xx,connect-failure".into(),
    }];
    c
}

fn stripe() -> SimCluster {
    let mut c = cluster(STRIPE, config("STRICT_DNS"));
    c.counters = stats(&[("upstream_cx_total", 215)]);
    c.hosts = vec![
        host("203.0.113.10:443", "", 0, 0),
        host("[2600:1f18::1]:443", "", 0, 0),
    ];
    c
}

fn orders_db() -> SimCluster {
    let mut c = cluster(
        ORDERS_DB,
        SimClusterConfig {
            istio_mtls: true,
            ..config("EDS")
        },
    );
    c.counters = stats(&[("upstream_cx_total", 47), ("upstream_cx_connect_fail", 4)]);
    c.histograms
        .insert("upstream_rq_time".into(), SimHistogram::default());
    let mut sick = host("10.4.3.52:5432", "us-east-1c", 0, 0);
    sick.health_flags = vec!["/failed_eds_health".into()];
    sick.cx_connect_fail = 4;
    c.hosts = vec![host("10.4.1.50:5432", "us-east-1a", 0, 0), sick];
    c
}

fn bootstrap_and_special() -> Vec<SimCluster> {
    let mut xds = cluster(
        "xds-grpc",
        SimClusterConfig {
            connect_timeout_ms: 1_000,
            http2: true,
            max_connections: 100_000,
            max_pending_requests: 100_000,
            max_requests: 100_000,
            max_retries: 3,
            ..config("STATIC")
        },
    );
    xds.counters = stats(&[("upstream_cx_total", 1), ("upstream_rq_total", 1)]);
    xds.gauges = stats(&[("upstream_cx_active", 1), ("upstream_rq_active", 1)]);
    xds.hosts = vec![host(&xds_pipe_address(), "", 1, 0)];
    let defaults = SimClusterConfig {
        max_connections: 1024,
        max_pending_requests: 1024,
        max_requests: 1024,
        max_retries: 3,
        ..config("STATIC")
    };
    let mut agent = cluster(
        "agent",
        SimClusterConfig {
            connect_timeout_ms: 250,
            ..defaults.clone()
        },
    );
    agent.hosts = vec![host("127.0.0.1:15020", "", 363, 0)];
    let mut inbound = cluster(INBOUND, config("ORIGINAL_DST"));
    inbound.counters = stats(&[("upstream_rq_total", 163_252)]);
    vec![xds, agent, cluster("BlackHoleCluster", defaults), inbound]
}

fn istio_series(code: u16, flags: &str, workload: &str, count: u64) -> SimIstioRequests {
    SimIstioRequests {
        reporter: "source".into(),
        source_workload: "order-svc".into(),
        source_namespace: "prod".into(),
        destination_service: "inventory-svc.prod.svc.cluster.local".into(),
        destination_workload: workload.into(),
        destination_namespace: if workload == "unknown" {
            "unknown"
        } else {
            "prod"
        }
        .into(),
        response_code: code,
        response_flags: flags.into(),
        count,
    }
}

fn sidecar() -> ProxyState {
    let mut clusters = vec![inventory(), pricing(), stripe(), orders_db()];
    clusters.extend(bootstrap_and_special());
    ProxyState {
        pod: "order-svc-7d9f8b6c5-x2x4q".into(),
        namespace: "prod".into(),
        pod_ip: "10.4.0.5".into(),
        envoy_version: "1.30.4".into(),
        istio_version: "1.22.3".into(),
        uptime_secs: 3630,
        inclusion: StatsInclusion::Full,
        clusters,
        proxy_counters: stats(&[
            ("cluster_manager.cds.update_success", 24),
            ("http.outbound_0.0.0.0_8080.downstream_rq_total", 248_546),
            ("listener.0.0.0.0_15006.downstream_cx_active", 4),
        ]),
        istio_requests: vec![
            istio_series(200, "-", "inventory-svc", 176_160),
            istio_series(504, "UT", "unknown", 449),
        ],
    }
}

fn get(state: &ProxyState, path: &str) -> AdminResponse {
    let response = respond_to_path(state, path);
    assert_eq!(response.status, 200, "{path}: {}", response.body);
    response
}

fn assert_no_issues(set: &StatsSet, what: &str) {
    assert!(set.issues().is_empty(), "{what}: {:?}", set.issues());
}

fn int(set: &StatsSet, cluster: &str, suffix: &str) -> Option<u64> {
    set.cluster(cluster)?.int(suffix)
}

/// Names of the stat lines of a text `/stats` body, with the line kind.
fn text_lines(body: &str) -> Vec<(&str, &str)> {
    (body.lines())
        .map(|l| l.split_once(": ").expect("every line has \": \""))
        .collect()
}

// ---------------------------------------------------------------------------------------
// /stats text and JSON
// ---------------------------------------------------------------------------------------

#[test]
fn stats_text_reads_back_exactly() {
    let state = sidecar();
    let response = get(&state, "/stats");
    assert_eq!(response.content_type, "text/plain; charset=UTF-8");
    let set = parse_stats_text(response.body.as_bytes()).unwrap();
    assert_no_issues(&set, "text");
    assert_eq!(set.uptime_seconds(), Some(3630));
    assert_eq!(int(&set, INVENTORY, "upstream_rq_timeout"), Some(449));
    assert_eq!(int(&set, INVENTORY, "upstream_rq_total"), Some(177_910));
    assert_eq!(int(&set, INVENTORY, "upstream_rq_active"), Some(41));
    assert_eq!(int(&set, INVENTORY, "internal.upstream_rq_504"), Some(449));
    assert_eq!(int(&set, INVENTORY, "ssl.versions.TLSv1.3"), Some(1_348));
    assert_eq!(
        int(
            &set,
            INVENTORY,
            "circuit_breakers.default.remaining_cx_pools"
        ),
        Some(18_446_744_073_709_551_609)
    );
}

#[test]
fn stats_text_histograms_and_proxy_stats_read_back() {
    let state = sidecar();
    let response = get(&state, "/stats");
    let set = parse_stats_text(response.body.as_bytes()).unwrap();
    let rq_time = set
        .cluster(INVENTORY)
        .unwrap()
        .histogram("upstream_rq_time")
        .unwrap();
    assert_eq!(rq_time.cumulative(99.0), Some(1402.0));
    assert_eq!(rq_time.interval(99.0), Some(1388.0));
    assert_eq!(rq_time.cumulative(99.9), Some(1573.2));
    let connect = set
        .cluster(INVENTORY)
        .unwrap()
        .histogram("upstream_cx_connect_ms")
        .unwrap();
    assert!(connect.is_empty(), "No recorded values");
    assert_eq!(int(&set, STRIPE, "upstream_cx_total"), Some(215));
    assert_eq!(int(&set, INBOUND, "upstream_rq_total"), Some(163_252));
    assert_eq!(int(&set, "xds-grpc", "upstream_cx_active"), Some(1));
    let other = |name: &str| set.other().get(name).and_then(StatValue::as_int);
    assert_eq!(other("cluster_manager.active_clusters"), Some(8));
    assert_eq!(other("cluster_manager.cds.update_success"), Some(24));
    assert_eq!(
        other("http.outbound_0.0.0.0_8080.downstream_rq_total"),
        Some(248_546)
    );
    assert!(response.body.contains(
        "cluster.outbound|8080||inventory-svc.prod.svc.cluster.local.upstream_rq_time: \
         P0(2,1) P25(38.5,36.1) P50(71,68.4) P75(205,198.7) P90(612,584.3) P95(930,912.6) \
         P99(1388,1402) P99.5(1455,1478.9) P99.9(1490,1573.2) P100(1500,2100)\n"
    ));
    assert!(response.body.contains(&format!(
        "cluster.{ORDERS_DB}.upstream_rq_time: No recorded values\n"
    )));
}

#[test]
fn stats_text_order_is_readouts_then_sorted_scalars_then_sorted_histograms() {
    let body = get(&sidecar(), "/stats").body;
    let lines = text_lines(&body);
    let is_readout = |v: &str| v.starts_with('"');
    let is_histogram = |v: &str| v.starts_with("P0(") || v == "No recorded values";
    let readouts = lines.iter().take_while(|(_, v)| is_readout(v)).count();
    let histograms = lines
        .iter()
        .rev()
        .take_while(|(_, v)| is_histogram(v))
        .count();
    let groups = [
        &lines[..readouts],
        &lines[readouts..lines.len() - histograms],
        &lines[lines.len() - histograms..],
    ];
    // 3 EDS clusters + CDS + LDS readouts; 3 histograms (2 with no recorded values).
    assert_eq!((readouts, histograms), (5, 3));
    assert!(groups[1].iter().all(|(_, v)| v.parse::<u64>().is_ok()));
    for group in groups {
        let names: Vec<&str> = group.iter().map(|(n, _)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "each group is in byte order");
    }
    assert_eq!(
        lines[0].0,
        "cluster.outbound|5432||orders-db.prod.svc.cluster.local.version_text"
    );
    assert_eq!(
        lines[3],
        (
            "cluster_manager.cds.version_text",
            "\"2026-11-26T08:30:00Z/24\""
        )
    );
}

#[test]
fn stats_json_reads_back_exactly() {
    let state = sidecar();
    let response = get(&state, "/stats?format=json");
    assert_eq!(response.content_type, "application/json");
    assert!(!response.body.ends_with('\n'), "one line without a newline");
    let json: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    let stats = json["stats"].as_array().unwrap();
    assert_eq!(
        stats[0]["value"], "2026-11-26T08:30:00Z/24",
        "readouts first, as strings"
    );
    let set = parse_stats_json(response.body.as_bytes()).unwrap();
    assert_no_issues(&set, "json");
    let text = parse_stats_text(get(&state, "/stats").body.as_bytes()).unwrap();
    assert_eq!(
        set.stat_count, text.stat_count,
        "same stats in both formats"
    );
    assert_eq!(int(&set, INVENTORY, "upstream_rq_timeout"), Some(449));
    assert_eq!(
        int(
            &set,
            INVENTORY,
            "circuit_breakers.default.remaining_cx_pools"
        ),
        Some(18_446_744_073_709_551_609)
    );
    let rq_time = set
        .cluster(INVENTORY)
        .unwrap()
        .histogram("upstream_rq_time")
        .unwrap();
    assert_eq!(rq_time.cumulative(99.0), Some(1402.0));
    assert_eq!(rq_time.interval(50.0), Some(71.0));
}

#[test]
fn stats_json_histograms_object() {
    let body = get(&sidecar(), "/stats?format=json").body;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let stats = json["stats"].as_array().unwrap();
    let histograms = &stats.last().unwrap()["histograms"];
    assert_eq!(
        histograms["supported_quantiles"],
        serde_json::json!([0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100])
    );
    let empty = (histograms["computed_quantiles"].as_array().unwrap().iter())
        .find(|h| h["name"] == format!("cluster.{ORDERS_DB}.upstream_rq_time"))
        .unwrap();
    assert!(
        empty["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["interval"].is_null() && v["cumulative"].is_null())
    );
}

#[test]
fn usedonly_keeps_only_what_changed() {
    let state = sidecar();
    let all = get(&state, "/stats").body;
    let used = get(&state, "/stats?usedonly").body;
    let has = |body: &str, line: &str| body.lines().any(|l| l.starts_with(line));
    let per_try = format!("cluster.{INVENTORY}.upstream_rq_per_try_timeout: 0");
    assert!(
        has(&all, &per_try) && !has(&used, &per_try),
        "zero counter dropped"
    );
    let pending = format!("cluster.{INVENTORY}.upstream_rq_pending_active: 0");
    assert!(
        has(&used, &pending),
        "level gauge of a cluster with connections went up and down"
    );
    let empty = format!("cluster.{INVENTORY}.upstream_cx_connect_ms: No recorded values");
    assert!(
        has(&all, &empty) && !has(&used, &empty),
        "unused histogram dropped"
    );
    assert!(has(
        &used,
        &format!("cluster.{INVENTORY}.upstream_rq_time: P0(")
    ));
    assert!(has(&used, "server.state: 0"), "set at startup");
    assert!(!has(&used, "server.hot_restart_epoch"));
    for (name, value) in text_lines(&used) {
        assert_ne!(value, "No recorded values", "{name}");
        assert!(
            value != "0" || name.ends_with("_active") || name.starts_with("server."),
            "{name}"
        );
    }
}

#[test]
fn filter_is_a_partial_regex_match_on_the_full_name() {
    let state = sidecar();
    let body = get(&state, "/stats?filter=upstream_rq_time").body;
    let names: Vec<&str> = text_lines(&body).iter().map(|(n, _)| *n).collect();
    // Byte order: `|v2|` sorts before `||`.
    assert_eq!(
        names,
        [
            format!("cluster.{PRICING}.upstream_rq_timeout"),
            format!("cluster.{INVENTORY}.upstream_rq_timeout"),
            format!("cluster.{ORDERS_DB}.upstream_rq_time"),
            format!("cluster.{INVENTORY}.upstream_rq_time"),
        ]
    );
    let encoded = "/stats?usedonly&filter=%5Ecluster%5C.outbound%5C%7C8080%5C%7C%5C%7Cinv.%2Brq_t";
    let body = get(&state, encoded).body;
    assert_eq!(text_lines(&body).len(), 3, "{body}");
    let bad = respond_to_path(&state, "/stats?filter=(unclosed");
    assert_eq!((bad.status, bad.body.as_str()), (400, "Invalid re2 regex"));
}

#[test]
fn meshtop_poll_is_small_next_to_the_full_dump() {
    let state = wide_sidecar(100);
    let full = get(&state, "/stats").body;
    let request = format!("/stats?usedonly&filter={}", percent_encode(MESHTOP_FILTER));
    let polled = get(&state, &request).body;
    let set = parse_stats_text(polled.as_bytes()).unwrap();
    assert_no_issues(&set, "polled");
    assert_eq!(set.cluster_count(), 100);
    assert_eq!(
        int(
            &set,
            "outbound|8080||svc-40.prod.svc.cluster.local",
            "upstream_rq_timeout"
        ),
        Some(42)
    );
    assert_eq!(
        int(
            &set,
            "outbound|8080||svc-41.prod.svc.cluster.local",
            "upstream_rq_timeout"
        ),
        None
    );
    let ratio = polled.len() as f64 / full.len() as f64;
    println!(
        "polled {} of {} bytes ({ratio:.3})",
        polled.len(),
        full.len()
    );
    assert!(
        ratio <= 0.05,
        "polled {} of {} bytes ({ratio:.3})",
        polled.len(),
        full.len()
    );
}

/// A sidecar with `n` outbound clusters carrying the inventory cluster's stats (names and
/// values) from the project's sample capture. One cluster in ten is sick like inventory;
/// the others have no timeouts and no connections closed under requests.
fn wide_sidecar(n: usize) -> ProxyState {
    let sample = std::fs::read_to_string(common::sample("order-svc/stats-after.txt")).unwrap();
    let prefix = format!("cluster.{INVENTORY}.");
    let counters: BTreeMap<String, u64> = (sample.lines())
        .filter_map(|l| l.strip_prefix(&prefix)?.split_once(": "))
        .filter_map(|(s, v)| Some((s.to_string(), v.parse::<u64>().ok()?)))
        .collect();
    assert!(counters.len() > 100, "{}", counters.len());
    let mut state = sidecar();
    state.clusters = (0..n)
        .map(|i| {
            let mut c = inventory();
            c.name = format!("outbound|8080||svc-{i}.prod.svc.cluster.local");
            c.counters = counters.clone();
            if i % 10 != 0 {
                (c.counters.iter_mut())
                    .filter(|(s, _)| s.contains("timeout") || s.ends_with("with_active_rq"))
                    .for_each(|(_, v)| *v = 0);
            }
            c.counters
                .insert("upstream_rq_timeout".into(), (i % 10 == 0) as u64 * 42);
            c.gauges.clear();
            let recorded = c.histograms["upstream_rq_time"].clone();
            for h in [
                "internal.upstream_rq_time",
                "upstream_cx_connect_ms",
                "upstream_cx_length_ms",
            ] {
                c.histograms.insert(h.into(), recorded.clone());
            }
            c
        })
        .collect();
    state
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn istio_default_inclusion_has_no_per_cluster_stats() {
    let mut state = sidecar();
    state.inclusion = StatsInclusion::IstioDefault;
    let body = get(&state, "/stats").body;
    assert!(!body.contains("cluster.outbound|"), "{body}");
    assert!(!body.contains("cluster.inbound|"));
    assert!(body.contains("cluster.xds-grpc.upstream_cx_active: 1\n"));
    assert!(body.contains("listener.0.0.0.0_15006.downstream_cx_active: 4\n"));
    assert!(!body.contains("http.outbound_0.0.0.0_8080.downstream_rq_total"));
    assert!(body.contains(".response_flags.UT.connection_security_policy.unknown: 449\n"));
    let readouts: Vec<&str> = (body.lines()).filter(|l| l.contains(": \"")).collect();
    assert_eq!(readouts.len(), 2, "CDS and LDS only: {readouts:?}");
    let set = parse_stats_text(body.as_bytes()).unwrap();
    assert_no_issues(&set, "default inclusion");
    assert_eq!(set.cluster_count(), 1, "only xds-grpc");
    let prom = get(&state, "/stats/prometheus").body;
    assert!(!prom.contains("cluster_name=\"outbound|"));
    assert!(prom.contains("response_flags=\"UT\""));
    let clusters = parse_clusters_text(&get(&state, "/clusters").body).unwrap();
    assert_eq!(
        clusters.cluster(INVENTORY).unwrap().rq_timeout_total(),
        Some(449),
        "always there"
    );
}

// ---------------------------------------------------------------------------------------
// /stats/prometheus
// ---------------------------------------------------------------------------------------

#[test]
fn prometheus_reads_back_with_istio_tag_names() {
    let state = sidecar();
    let body = get(&state, "/stats/prometheus").body;
    assert_eq!(body, get(&state, "/stats?format=prometheus").body);
    let set = parse_prometheus(&body).unwrap();
    assert_no_issues(&set, "prometheus");
    assert_eq!(set.uptime_seconds(), Some(3630));
    assert_eq!(int(&set, INVENTORY, "upstream_rq_timeout"), Some(449));
    assert_eq!(int(&set, INVENTORY, "upstream_rq_504"), Some(449));
    assert_eq!(int(&set, INVENTORY, "upstream_rq_5xx"), Some(470));
    assert_eq!(int(&set, INVENTORY, "internal.upstream_rq_504"), Some(449));
    assert_eq!(int(&set, INVENTORY, "membership_healthy"), Some(2));
    assert_eq!(
        int(
            &set,
            INVENTORY,
            "circuit_breakers.default.remaining_cx_pools"
        ),
        Some(18_446_744_073_709_551_609)
    );
    let rq_time = set
        .cluster(INVENTORY)
        .unwrap()
        .histogram("upstream_rq_time")
        .unwrap();
    assert_eq!(rq_time.count, Some(176_346));
    assert_eq!(rq_time.sum, Some(28_217_741.5));
    assert_eq!(rq_time.buckets.len(), ENVOY_DEFAULT_BUCKETS.len() + 1);
}

#[test]
fn prometheus_lines_as_istio_prints_them() {
    let body = get(&sidecar(), "/stats/prometheus").body;
    let code = r#"envoy_cluster_upstream_rq{response_code="504",cluster_name="outbound|8080||inventory-svc.prod.svc.cluster.local"} 449"#;
    let class = r#"envoy_cluster_upstream_rq{response_code_class="5xx",cluster_name="outbound|8080||inventory-svc.prod.svc.cluster.local"} 470"#;
    assert!(body.contains(code) && body.contains(class));
    assert!(body.contains("envoy_server_uptime{} 3630\n"));
    assert!(body.contains("envoy_cluster_upstream_rq_time_sum{cluster_name=\"outbound|8080||inventory-svc.prod.svc.cluster.local\"} 28217741.5\n"));
    assert!(body.contains("_bucket{cluster_name=\"outbound|8080||inventory-svc.prod.svc.cluster.local\",le=\"1000\"} 168000\n"));
    // Istio 1.22's cluster_name regex cuts a non-Kubernetes host at its first dot.
    assert!(body.contains(
        "envoy_cluster_stripe_com_upstream_cx_total{cluster_name=\"outbound|443||api\"} 215\n"
    ));
    assert!(body.contains("envoy_http_outbound_0_0_0_0_8080_downstream_rq_total{} 248546\n"));
    let series = istio_requests(&body);
    let ut = series.iter().find(|s| s.response_flags == "UT").unwrap();
    assert_eq!((ut.value, ut.response_code.as_str()), (449.0, "504"));
    assert_eq!(
        ut.destination_service,
        "inventory-svc.prod.svc.cluster.local"
    );
    assert_eq!(series.len(), 2);
}

#[test]
fn prometheus_families_are_grouped_counters_gauges_histograms() {
    let body = get(&sidecar(), "/stats/prometheus").body;
    let types: Vec<(&str, &str)> = (body.lines())
        .filter_map(|l| l.strip_prefix("# TYPE ")?.split_once(' '))
        .collect();
    let kinds: Vec<&str> = types.iter().map(|(_, k)| *k).collect();
    let first = |k: &str| kinds.iter().position(|x| *x == k).unwrap();
    let last = |k: &str| kinds.iter().rposition(|x| *x == k).unwrap();
    assert!(last("counter") < first("gauge") && last("gauge") < first("histogram"));
    let mut names: Vec<&str> = types.iter().map(|(n, _)| *n).collect();
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), count, "one TYPE line per family");
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        let family = line.split(['{', ' ']).next().unwrap();
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| family.strip_suffix(s).filter(|b| names.contains(b)))
            .unwrap_or(family);
        assert!(names.contains(&base), "sample without TYPE: {line}");
    }
}

#[test]
fn prometheus_passes_promtool() {
    let state = sidecar();
    let mut default_state = sidecar();
    default_state.inclusion = StatsInclusion::IstioDefault;
    for (what, body) in [
        ("full", get(&state, "/stats/prometheus").body),
        ("usedonly", get(&state, "/stats/prometheus?usedonly").body),
        (
            "default inclusion",
            get(&default_state, "/stats/prometheus").body,
        ),
    ] {
        let Some(problems) = promtool_problems(&body) else {
            println!("skipped: promtool not installed (apt-get install prometheus)");
            return;
        };
        // Envoy's names break promtool's naming lint (no HELP, counters without `_total`,
        // `_ms` units, camelCase); the real Envoy captures in the fixtures get the same
        // complaints. Anything else — a parse error above all — fails.
        assert!(
            !problems.contains("error while linting"),
            "{what}: {problems}"
        );
        let errors: Vec<&str> = (problems.lines())
            .filter(|l| !l.trim().is_empty())
            .filter(|l| !NAMING_LINT.iter().any(|lint| l.contains(lint)))
            .collect();
        assert!(errors.is_empty(), "{what}: {errors:?}");
    }
}

const NAMING_LINT: [&str; 7] = [
    "no help text",
    " use base unit ",
    "counter metrics should have \"_total\" suffix",
    "metric names should not contain abbreviated units",
    "non-histogram and non-summary metrics should not have \"_count\" suffix",
    "non-counter metrics should not have \"_total\" suffix",
    "metric names should be written in 'snake_case' not 'camelCase'",
];

/// `promtool check metrics` output, or `None` when promtool is not installed.
fn promtool_problems(body: &str) -> Option<String> {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(body.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

// ---------------------------------------------------------------------------------------
// /clusters
// ---------------------------------------------------------------------------------------

#[test]
fn clusters_text_reads_back_exactly() {
    let state = sidecar();
    let body = get(&state, "/clusters").body;
    let dump = parse_clusters_text(&body).unwrap();
    assert!(dump.issues.is_empty(), "{:?}", dump.issues);
    assert_eq!(dump.clusters.len(), 8);
    let inv = dump.cluster(INVENTORY).unwrap();
    assert_eq!(
        (inv.total_count(), inv.healthy_count(), inv.ejected_count()),
        (3, 2, 1)
    );
    assert_eq!(inv.rq_timeout_total(), Some(449));
    assert_eq!(inv.added_via_api, Some(true));
    let default = inv
        .threshold(meshtop::envoy::clusters::RoutingPriority::Default)
        .unwrap();
    assert_eq!(default.max_connections, Some(100));
    assert_eq!(default.max_retries, Some(3));
    let db = dump.cluster(ORDERS_DB).unwrap();
    assert_eq!(
        (db.healthy_count(), db.cx_connect_fail_total()),
        (1, Some(4))
    );
    let stripe = dump.cluster(STRIPE).unwrap();
    assert_eq!(stripe.hosts.len(), 2, "the IPv6 host with `::` is one host");
    assert_eq!(dump.cluster("xds-grpc").unwrap().added_via_api, Some(false));
    assert!(body.contains(&format!("{STRIPE}::[2600:1f18::1]:443::cx_total::450\n")));
    assert!(body.contains(&format!(
        "{STRIPE}::[2600:1f18::1]:443::hostname::api.stripe.com\n"
    )));
    assert!(body.contains(&format!(
        "{INVENTORY}::10.4.3.19:8080::health_flags::/failed_outlier_check\n"
    )));
    assert!(body.contains(&format!("{INVENTORY}::outlier::success_rate_average::-1\n")));
    assert!(body.contains(&format!("{INVENTORY}::eds_service_name::{INVENTORY}\n")));
    assert!(body.contains("xds-grpc::./etc/istio/proxy/XDS::rq_total::1\n"));
    assert!(body.contains("xds-grpc::high_priority::max_connections::100000\n"));
}

#[test]
fn clusters_json_reads_back_exactly() {
    let state = sidecar();
    let response = get(&state, "/clusters?format=json");
    assert_eq!(response.content_type, "application/json");
    let dump = parse_clusters_json(&response.body).unwrap();
    assert!(dump.issues.is_empty(), "{:?}", dump.issues);
    let text = parse_clusters_text(&get(&state, "/clusters").body).unwrap();
    assert_eq!(dump.host_count(), text.host_count());
    let inv = dump.cluster(INVENTORY).unwrap();
    assert_eq!(
        (inv.total_count(), inv.healthy_count(), inv.ejected_count()),
        (3, 2, 1)
    );
    assert_eq!(inv.rq_timeout_total(), Some(449));
    let db = dump.cluster(ORDERS_DB).unwrap();
    assert_eq!(
        (db.healthy_count(), db.cx_connect_fail_total()),
        (1, Some(4))
    );
}

#[test]
fn clusters_json_fields_follow_the_proto() {
    let response = get(&sidecar(), "/clusters?format=json");
    let json: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    let statuses = json["cluster_statuses"].as_array().unwrap();
    let stripe = statuses.iter().find(|c| c["name"] == STRIPE).unwrap();
    let v6 = &stripe["host_statuses"][1];
    assert_eq!(v6["address"]["socket_address"]["address"], "2600:1f18::1");
    assert_eq!(v6["address"]["socket_address"]["port_value"], 443);
    assert_eq!(v6["hostname"], "api.stripe.com");
    let stats = v6["stats"].as_array().unwrap();
    assert_eq!(
        stats[0],
        serde_json::json!({"name": "cx_connect_fail"}),
        "zero value left out"
    );
    assert_eq!(
        stats[1],
        serde_json::json!({"value": "450", "name": "cx_total"})
    );
    assert_eq!(
        stats[6],
        serde_json::json!({"type": "GAUGE", "value": "2", "name": "cx_active"})
    );
    let sick = &statuses.iter().find(|c| c["name"] == ORDERS_DB).unwrap()["host_statuses"][1];
    assert_eq!(sick["health_status"]["eds_health_status"], "UNHEALTHY");
    let xds = statuses.iter().find(|c| c["name"] == "xds-grpc").unwrap();
    assert_eq!(
        xds["host_statuses"][0]["address"]["pipe"]["path"],
        "./etc/istio/proxy/XDS"
    );
    assert!(xds.get("added_via_api").is_none(), "false is left out");
    assert!(
        response
            .body
            .starts_with("{\n \"cluster_statuses\": [\n  {\n   \"name\": ")
    );
}

// ---------------------------------------------------------------------------------------
// /config_dump, /server_info, /ready
// ---------------------------------------------------------------------------------------

#[test]
fn config_dump_reads_back_cluster_and_route_settings() {
    let state = sidecar();
    let dump = parse_config_dump(&get(&state, "/config_dump").body).unwrap();
    assert!(dump.issues.is_empty(), "{:?}", dump.issues);
    assert_eq!(dump.clusters.len(), 8);
    let inv = dump.cluster(INVENTORY).unwrap();
    assert_eq!(inv.discovery_type.as_deref(), Some("EDS"));
    assert_eq!(inv.connect_timeout, Some(Duration::from_secs(2)));
    assert_eq!(inv.http.idle_timeout, Some(Duration::from_secs(3600)));
    assert_eq!(inv.http.protocol, UpstreamProtocol::Http2);
    assert_eq!(inv.transport.security, TransportSecurity::IstioMutualTls);
    assert_eq!(
        inv.transport.sni.as_deref(),
        Some("outbound_.8080_._.inventory-svc.prod.svc.cluster.local")
    );
    let default = inv.thresholds(Priority::Default).unwrap();
    assert_eq!(
        (default.max_connections, default.max_retries),
        (Some(100), Some(3))
    );
    assert_eq!(
        inv.thresholds(Priority::High).unwrap().max_connections,
        Some(1024)
    );
    let outlier = inv.outlier_detection.as_ref().unwrap();
    assert_eq!(outlier.consecutive_5xx, Some(5));
    assert_eq!(outlier.base_ejection_time, Some(Duration::from_secs(30)));
}

#[test]
fn config_dump_reads_back_istio_and_bootstrap_defaults() {
    let dump = parse_config_dump(&get(&sidecar(), "/config_dump").body).unwrap();
    let pricing = dump.cluster(PRICING).unwrap();
    assert_eq!(pricing.connect_timeout, Some(Duration::from_secs(10)));
    assert_eq!(pricing.http.protocol, UpstreamProtocol::Unset);
    assert!(
        pricing.thresholds(Priority::High).is_none(),
        "Istio's unlimited DEFAULT only"
    );
    let xds = dump.cluster("xds-grpc").unwrap();
    assert_eq!(
        xds.thresholds(Priority::High).unwrap().max_connections,
        Some(100_000)
    );
    assert!(
        dump.cluster("BlackHoleCluster")
            .unwrap()
            .circuit_breakers
            .is_empty()
    );
}

#[test]
fn config_dump_reads_back_route_timeouts_and_retries() {
    let dump = parse_config_dump(&get(&sidecar(), "/config_dump").body).unwrap();
    let route = dump.routes_to(INVENTORY).next().unwrap();
    assert_eq!(route.timeout, RouteTimeout::After(Duration::from_secs(1)));
    let retry = route.retry_policy.as_ref().unwrap();
    assert_eq!(retry.num_retries, Some(2));
    assert_eq!(retry.retriable_status_codes, [503]);
    assert_eq!(retry.per_try_timeout, None);
    assert_eq!(retry.host_selection_retry_max_attempts, Some(5));
    assert_eq!(
        retry.retry_host_predicates,
        ["envoy.retry_host_predicates.previous_hosts"]
    );
    let pricing_route = dump.routes_to(PRICING).next().unwrap();
    assert_eq!(pricing_route.timeout, RouteTimeout::Disabled);
    let retry = pricing_route.retry_policy.as_ref().unwrap();
    assert_eq!(retry.per_try_timeout, Some(Duration::from_millis(500)));
    assert_eq!(retry.retry_on, ["5xx", "connect-failure"]);
    assert!(retry.retriable_status_codes.is_empty());
}

#[test]
fn config_dump_resources_are_single_typed_items() {
    let state = sidecar();
    let body = get(&state, "/config_dump?resource=dynamic_active_clusters").body;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let items = json["configs"].as_array().unwrap();
    assert_eq!(
        items.len(),
        6,
        "every cluster but the bootstrap xds-grpc and agent"
    );
    assert_eq!(
        items[0]["@type"],
        "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster"
    );
    let dump = parse_config_dump(&body).unwrap();
    assert!(dump.issues.is_empty(), "{:?}", dump.issues);
    assert_eq!(
        dump.cluster(INVENTORY).unwrap().connect_timeout,
        Some(Duration::from_secs(2))
    );
    let routes = get(&state, "/config_dump?resource=dynamic_route_configs").body;
    let dump = parse_config_dump(&routes).unwrap();
    assert_eq!(dump.routes.len(), 2);
    assert!(routes.contains("envoy.admin.v3.RoutesConfigDump.DynamicRouteConfig"));
}

#[test]
fn config_dump_resources_static_empty_and_missing() {
    let state = sidecar();
    let statics =
        parse_config_dump(&get(&state, "/config_dump?resource=static_clusters").body).unwrap();
    let names: Vec<&str> = statics.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["xds-grpc", "agent"]);
    assert_eq!(
        get(&state, "/config_dump?resource=dynamic_warming_clusters").body,
        "{}\n"
    );
    let missing = respond_to_path(&state, "/config_dump?resource=nope");
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (404, "nope not found in config dump")
    );
    assert_eq!(
        respond_to_path(&state, "/config_dump?resource=version_info").status,
        400
    );
}

#[test]
fn server_info_and_ready() {
    let state = sidecar();
    let response = get(&state, "/server_info");
    assert_eq!(response.content_type, "application/json");
    let info = parse_server_info(&response.body).unwrap();
    assert!(info.issues.is_empty(), "{:?}", info.issues);
    assert_eq!(info.envoy_version(), Some("1.30.4"));
    assert_eq!(info.user_agent_version.as_deref(), Some("1.30.4"));
    assert_eq!(info.uptime_current_epoch, Some(Duration::from_secs(3630)));
    assert_eq!(info.pod_name(), Some("order-svc-7d9f8b6c5-x2x4q"));
    assert_eq!(info.pod_namespace(), Some("prod"));
    assert_eq!(info.istio_version.as_deref(), Some("1.22.3"));
    assert_eq!(info.hot_restart_version.as_deref(), Some("disabled"));
    // `server.version` is the build revision's first six hex digits, as in real Envoy.
    let sha = info
        .version
        .as_deref()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let stats = parse_stats_text(
        get(&state, "/stats?filter=^server%5C.version$")
            .body
            .as_bytes(),
    )
    .unwrap();
    let number = stats
        .other()
        .get("server.version")
        .and_then(StatValue::as_int)
        .unwrap();
    assert_eq!(format!("{number:06x}"), sha[..6]);
    let ready = get(&state, "/ready");
    assert_eq!(
        (ready.body.as_str(), ready.content_type),
        ("LIVE\n", "text/plain; charset=UTF-8")
    );
}

// ---------------------------------------------------------------------------------------
// Request paths
// ---------------------------------------------------------------------------------------

/// Request lines and what they must read as.
fn admin_path_cases() -> Vec<(&'static str, AdminRequest)> {
    let stats = |used_only, filter: Option<&str>, format| AdminRequest::Stats {
        used_only,
        filter: filter.map(str::to_string),
        format,
    };
    vec![
        ("/stats", stats(false, None, StatsFormat::Text)),
        (
            "/stats?usedonly&filter=upstream_rq_.*",
            stats(true, Some("upstream_rq_.*"), StatsFormat::Text),
        ),
        ("/stats?format=json", stats(false, None, StatsFormat::Json)),
        (
            "/stats?format=prometheus&usedonly",
            stats(true, None, StatsFormat::Prometheus),
        ),
        (
            "/stats/prometheus",
            stats(false, None, StatsFormat::Prometheus),
        ),
        (
            "/stats?filter=%5Ecluster%5C.outbound%5C%7C.%2B&format=text&filter=ignored",
            stats(false, Some(r"^cluster\.outbound\|.+"), StatsFormat::Text),
        ),
        ("/stats?filter=", stats(false, None, StatsFormat::Text)),
        ("/clusters", AdminRequest::Clusters { json: false }),
        (
            "/clusters?format=json",
            AdminRequest::Clusters { json: true },
        ),
        ("/config_dump", AdminRequest::ConfigDump { resource: None }),
        (
            "/config_dump?resource=dynamic_active_clusters",
            AdminRequest::ConfigDump {
                resource: Some("dynamic_active_clusters".into()),
            },
        ),
        ("/server_info", AdminRequest::ServerInfo),
        ("/ready", AdminRequest::Ready),
    ]
}

#[test]
fn admin_paths() {
    let cases = admin_path_cases();
    for (path, expected) in cases {
        assert_eq!(parse_admin_path(path), Ok(expected), "{path}");
    }
}

#[test]
fn admin_paths_refused() {
    for path in [
        "/quitquitquit",
        "/reset_counters",
        "/logging?level=debug",
        "/healthcheck/fail",
        "/drain_listeners?graceful",
    ] {
        let err = parse_admin_path(path).unwrap_err();
        assert!(
            matches!(err, AdminError::MethodNotAllowed { .. }),
            "{path}: {err:?}"
        );
        let response = err.response();
        assert_eq!(
            (response.status, response.body.as_str()),
            (405, "Method GET not allowed, POST required.")
        );
    }
}

#[test]
fn admin_paths_unknown_or_not_emulated_or_bad() {
    let not_found = parse_admin_path("/statz").unwrap_err();
    assert_eq!(
        not_found,
        AdminError::NotFound {
            path: "/statz".into()
        }
    );
    let body = not_found.response().body;
    assert!(body.starts_with("invalid path. admin commands are:\n") && body.contains("  /stats: "));
    assert_eq!(not_found.response().status, 404);
    assert_eq!(
        parse_admin_path("/stats/").unwrap_err().response().status,
        404
    );
    assert_eq!(
        parse_admin_path("/listeners")
            .unwrap_err()
            .response()
            .status,
        501
    );
    assert_eq!(
        parse_admin_path("/stats?histogram_buckets=cumulative")
            .unwrap_err()
            .response()
            .status,
        501
    );
}

#[test]
fn admin_paths_with_bad_parameters() {
    let bad_format = parse_admin_path("/stats?format=xml").unwrap_err();
    assert_eq!(bad_format.response().status, 400);
    let bad_regex = parse_admin_path("/stats?filter=a(b").unwrap_err();
    assert_eq!(
        bad_regex,
        AdminError::BadRequest {
            message: "Invalid re2 regex".into()
        }
    );
    let state = sidecar();
    let direct = respond(
        &state,
        &AdminRequest::Stats {
            used_only: false,
            filter: Some("(".into()),
            format: StatsFormat::Json,
        },
    );
    assert_eq!(direct.status, 400);
}

// ---------------------------------------------------------------------------------------
// Against real captures ($MESHTOP_FIXTURES) and the project's own samples
// ---------------------------------------------------------------------------------------

fn fixture_text(test: &str, rel: &str) -> Option<String> {
    let dir = common::fixtures_dir(test)?;
    Some(String::from_utf8(common::read_fixture(&dir, rel)).unwrap())
}

/// What kind of `/stats` line this is: readout, number or histogram; `None` if malformed.
fn line_kind(value: &str) -> Option<&'static str> {
    let quantile = regex::Regex::new(r"^P[0-9.]+\((nan|[0-9.e+-]+),(nan|[0-9.e+-]+)\)$").unwrap();
    if value.starts_with('"') && value.ends_with('"') {
        Some("readout")
    } else if value.parse::<u64>().is_ok() {
        Some("number")
    } else if value == "No recorded values"
        || (value.split(' ').count() == 10 && value.split(' ').all(|q| quantile.is_match(q)))
    {
        Some("histogram")
    } else {
        None
    }
}

/// The kinds in line order with repeats collapsed: `["readout", "number", "histogram"]`.
fn kind_runs(body: &str) -> Vec<&'static str> {
    let mut runs: Vec<&'static str> = Vec::new();
    for (name, value) in text_lines(body) {
        let kind = line_kind(value).unwrap_or_else(|| panic!("malformed line {name}: {value}"));
        if runs.last() != Some(&kind) {
            runs.push(kind);
        }
    }
    runs
}

#[test]
fn stats_text_has_the_layout_of_a_real_istio_capture() {
    let Some(real) = fixture_text(
        "stats layout",
        "envoy-stats/istio-1.17.8-sidecar-webapp-stats-grep-catalog-outbound-cluster.txt",
    ) else {
        return;
    };
    // The real capture was grepped for one cluster (and Istio's metrics); the order of line
    // kinds and their grammar must be the same in the emulator's full dump.
    assert_eq!(kind_runs(&real), ["readout", "number", "histogram"]);
    assert_eq!(
        kind_runs(&get(&sidecar(), "/stats").body),
        ["readout", "number", "histogram"]
    );
    let sample = std::fs::read_to_string(common::sample("order-svc/stats-after.txt")).unwrap();
    assert_eq!(kind_runs(&sample), ["readout", "number", "histogram"]);
}

#[test]
fn clusters_text_has_the_line_order_of_a_real_istio_capture() {
    let Some(real) = fixture_text(
        "clusters layout",
        "envoy-config/istio-1.8dev-integration-test-vm-sidecar-clusters.txt",
    ) else {
        return;
    };
    // The field sequence of the first cluster and its first host (Envoy 1.16 had no
    // observability_name line; 1.30 prints it first, as in our sample).
    let fields = |body: &str, cluster: &str| -> Vec<String> {
        let prefix = format!("{cluster}::");
        let lines: Vec<&str> = body
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .collect();
        let host = lines
            .iter()
            .find(|l| l.contains(':') && l.contains("::cx_active::"))
            .unwrap();
        let host = host.split("::").next().unwrap();
        (lines.iter())
            .filter(|l| !l.starts_with("observability_name::"))
            .take_while(|l| {
                !l.starts_with(host) || !l.contains("::cx_active::") || l.starts_with(host)
            })
            .map(|l| l.strip_prefix(&format!("{host}::")).unwrap_or(l))
            .map(|l| l.rsplit_once("::").map_or(l, |(k, _)| k).to_string())
            .take(27)
            .collect()
    };
    let first = real.lines().next().unwrap().split("::").next().unwrap();
    let mine = get(&sidecar(), "/clusters").body;
    assert_eq!(fields(&mine, STRIPE), fields(&real, first));
    assert_eq!(fields(&mine, STRIPE).len(), 27);
    let sample = std::fs::read_to_string(common::sample("order-svc/clusters.txt")).unwrap();
    assert_eq!(fields(&mine, INVENTORY), fields(&sample, INVENTORY));
}

#[test]
fn prometheus_histograms_have_the_layout_of_a_real_capture() {
    let Some(real) = fixture_text(
        "prometheus layout",
        "envoy-stats/kuma-dp-envoy-sidecar-stats-prometheus-histograms.txt",
    ) else {
        return;
    };
    let shape = |body: &str, family: &str| -> Vec<String> {
        (body.lines())
            .filter(|l| {
                let rest = l.strip_prefix(family).unwrap_or("");
                ["_bucket{", "_sum{", "_count{"]
                    .iter()
                    .any(|p| rest.starts_with(p))
            })
            .take(22)
            .map(|l| {
                let le = l
                    .split("le=\"")
                    .nth(1)
                    .map(|r| r.split('"').next().unwrap());
                let part = l[family.len()..].split('{').next().unwrap();
                format!("{part} {}", le.unwrap_or(""))
            })
            .collect()
    };
    let mine = get(&sidecar(), "/stats/prometheus").body;
    let expected = shape(&real, "envoy_cluster_upstream_cx_connect_ms");
    assert_eq!(expected.len(), 22);
    assert_eq!(shape(&mine, "envoy_cluster_upstream_rq_time"), expected);
    let sample = std::fs::read_to_string(common::sample("order-svc/stats-prometheus.txt")).unwrap();
    assert_eq!(shape(&sample, "envoy_cluster_upstream_rq_time"), expected);
}

#[test]
fn real_envoy_prometheus_gets_the_same_promtool_lint() {
    let Some(real) = fixture_text(
        "promtool lint",
        "envoy-stats/netdata-envoy-standalone-stats-prometheus.txt",
    ) else {
        return;
    };
    let Some(problems) = promtool_problems(&real) else {
        println!("skipped: promtool not installed (apt-get install prometheus)");
        return;
    };
    assert!(!problems.contains("error while linting"));
    let unexpected: Vec<&str> = (problems.lines())
        .filter(|l| !l.trim().is_empty() && !NAMING_LINT.iter().any(|lint| l.contains(lint)))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    assert!(
        problems.lines().count() > 400,
        "the real capture does get the naming lint"
    );
}

/// Object keys at a JSON pointer, in document order (serde_json sorts; read the text).
fn key_order(json_text: &str, object_start: &str) -> Vec<String> {
    let start = json_text.find(object_start).unwrap() + object_start.len();
    let mut depth = 0i32;
    let mut keys = Vec::new();
    let mut chars = json_text[start..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' if depth == 0 => break,
            '}' | ']' => depth -= 1,
            '"' => {
                let rest = &json_text[start + i + 1..];
                let end = rest.find('"').unwrap();
                let after = rest[end + 1..].trim_start();
                if depth == 0 && after.starts_with(':') {
                    keys.push(rest[..end].to_string());
                }
                for _ in 0..=end {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    keys
}

/// True when the keys both lists share appear in the same order.
fn same_relative_order(a: &[String], b: &[String]) -> bool {
    let common_a: Vec<&String> = a.iter().filter(|k| b.contains(k)).collect();
    let common_b: Vec<&String> = b.iter().filter(|k| a.contains(k)).collect();
    common_a == common_b
}

#[test]
fn config_dump_keys_follow_protobuf_order_like_real_dumps() {
    let mine = get(&sidecar(), "/config_dump").body;
    let agent = "\"name\": \"agent\",";
    let my_agent = key_order(&mine, agent);
    assert_eq!(my_agent, ["type", "connect_timeout", "load_assignment"]);
    if let Some(real) = fixture_text(
        "config_dump keys",
        "envoy-config/istio-1.21-sidecar-config_dump.json",
    ) {
        assert_eq!(
            key_order(&real, agent),
            my_agent,
            "Istio 1.21's bootstrap cluster"
        );
    }
    let sample = std::fs::read_to_string(common::sample("order-svc/config_dump.json")).unwrap();
    for name in [
        INVENTORY,
        PRICING,
        STRIPE,
        INBOUND,
        "xds-grpc",
        "agent",
        "BlackHoleCluster",
    ] {
        let marker = format!("\"name\": \"{name}\",");
        let mine_keys = key_order(&mine, &marker);
        let sample_keys = key_order(&sample, &marker);
        assert!(mine_keys.len() >= 2, "{name}: {mine_keys:?}");
        assert!(
            same_relative_order(&mine_keys, &sample_keys),
            "{name}: {mine_keys:?} vs {sample_keys:?}"
        );
    }
}

#[test]
fn config_dump_sections_like_the_sample() {
    let mine = get(&sidecar(), "/config_dump").body;
    let sample = std::fs::read_to_string(common::sample("order-svc/config_dump.json")).unwrap();
    let top: serde_json::Value = serde_json::from_str(&mine).unwrap();
    let types: Vec<&str> = top["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["@type"].as_str().unwrap())
        .collect();
    let sample_top: serde_json::Value = serde_json::from_str(&sample).unwrap();
    let sample_types: Vec<&str> = sample_top["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["@type"].as_str().unwrap())
        .collect();
    assert_eq!(types, sample_types);
    assert!(
        mine.starts_with("{\n \"configs\": [\n  {\n   \"@type\": "),
        "protobuf's 1-space indent"
    );
    assert!(mine.ends_with("}\n"));
}

#[test]
fn server_info_has_the_shape_of_envoy_1_30() {
    let mine = get(&sidecar(), "/server_info").body;
    let sample = std::fs::read_to_string(common::sample("order-svc/server_info.json")).unwrap();
    let mine_json: serde_json::Value = serde_json::from_str(&mine).unwrap();
    let version = mine_json["version"].as_str().unwrap();
    let build = regex::Regex::new(r"^[0-9a-f]{40}/\d+\.\d+\.\d+/Clean/RELEASE/BoringSSL$").unwrap();
    assert!(build.is_match(version), "{version}");
    if let Some(real) = fixture_text(
        "server_info",
        "envoy-stats/datadog-envoy-1.31-server_info-trimmed.json",
    ) {
        let real: serde_json::Value = serde_json::from_str(&real).unwrap();
        assert!(
            build.is_match(real["version"].as_str().unwrap()),
            "the pattern fits Envoy 1.31"
        );
        assert_eq!(real["state"], mine_json["state"]);
    }
    assert_eq!(key_order(&mine, "{\n"), key_order(&sample, "{\n"));
    let options = "\"command_line_options\": {";
    assert_eq!(key_order(&mine, options), key_order(&sample, options));
    let node = "\"node\": {";
    assert!(same_relative_order(
        &key_order(&mine, node),
        &key_order(&sample, node)
    ));
}
