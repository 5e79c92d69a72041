//! `/stats/prometheus` parsing over the real captures in `$MESHTOP_FIXTURES/envoy-stats/`.
//!
//! Every expected value below was read off the capture by hand (grep); per-cluster stat counts
//! were counted independently with a small Python script (distinct metric name + response-code
//! labels per `envoy_cluster_name`, histogram pieces counted once).

mod common;

use meshtop::envoy::prometheus::{istio_requests, parse_prometheus, parse_prometheus_into};
use meshtop::envoy::{ClusterStats, Histogram, StatValue, StatsFormat, StatsSet};

/// The capture's text and its parse, or `None` (skip) without `MESHTOP_FIXTURES`.
fn load(test: &str, file: &str) -> Option<(String, StatsSet)> {
    let dir = common::fixtures_dir(test)?;
    let text =
        String::from_utf8(common::read_fixture(&dir, &format!("envoy-stats/{file}"))).unwrap();
    let set = parse_prometheus(&text).unwrap();
    assert_eq!(set.format, StatsFormat::Prometheus);
    Some((text, set))
}

fn sample_lines(text: &str) -> usize {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count()
}

/// Every sample line was stored or reported, and these clean captures report nothing.
fn assert_nothing_dropped(text: &str, set: &StatsSet, samples: usize) {
    assert_eq!(sample_lines(text), samples);
    assert_eq!(set.stat_count + set.issues().len(), samples);
    assert!(set.issues().is_empty(), "{:?}", set.issues());
}

fn cluster_names(set: &StatsSet) -> Vec<&str> {
    let mut names: Vec<&str> = set.clusters().map(ClusterStats::name).collect();
    names.sort_unstable();
    names
}

fn stat_counts(set: &StatsSet) -> Vec<(&str, usize)> {
    let mut counts: Vec<(&str, usize)> =
        set.clusters().map(|c| (c.name(), c.stats.len())).collect();
    counts.sort_unstable();
    counts
}

fn hist<'s>(set: &'s StatsSet, cluster: &str, suffix: &str) -> &'s Histogram {
    set.cluster(cluster)
        .unwrap()
        .histogram(suffix)
        .unwrap_or_else(|| panic!("{cluster} has no histogram {suffix}"))
}

fn bucket(h: &Histogram, le: f64) -> u64 {
    h.buckets
        .iter()
        .find(|b| b.le == le)
        .map(|b| b.count)
        .unwrap()
}

fn other<'s>(set: &'s StatsSet, name: &str) -> &'s StatValue {
    set.other()
        .get(name)
        .unwrap_or_else(|| panic!("no other stat {name}"))
}

#[test]
fn ambassador_2019_without_type_lines() {
    let Some((text, set)) = load("ambassador", "ambassador-2019-envoy-stats-prometheus.txt") else {
        return;
    };
    assert_nothing_dropped(&text, &set, 593);
    assert_eq!(
        cluster_names(&set),
        ["cluster_127_0_0_1_8877", "xds_cluster"]
    );
    assert_eq!(
        stat_counts(&set),
        [("cluster_127_0_0_1_8877", 86), ("xds_cluster", 98)]
    );
    assert_eq!(
        set.other().len(),
        199 + 40,
        "199 others plus 40 text-name aliases"
    );

    let xds = set.cluster("xds_cluster").unwrap();
    assert_eq!(xds.int("upstream_cx_total"), Some(1));
    assert_eq!(
        xds.int("upstream_rq_200"),
        Some(1),
        "envoy_response_code=\"200\""
    );
    assert_eq!(
        xds.int("upstream_rq_2xx"),
        Some(1),
        "envoy_response_code_class=\"2\""
    );
    assert_eq!(xds.int("internal.upstream_rq_2xx"), Some(1));
    assert_eq!(xds.int("circuit_breakers.default.rq_open"), Some(0));
    assert_eq!(xds.int("membership_total"), Some(1));
    let local = set.cluster("cluster_127_0_0_1_8877").unwrap();
    assert_eq!(local.int("upstream_cx_total"), Some(0));
    assert_eq!(local.int("circuit_breakers.default.rq_open"), Some(0));

    // Lines 440-461: buckets inferred from `_bucket` + `le`, no TYPE line.
    let h = hist(&set, "xds_cluster", "upstream_cx_connect_ms");
    assert_eq!(h.buckets.len(), 20);
    assert_eq!(
        (bucket(h, 1.0), bucket(h, 5.0), bucket(h, 3_600_000.0)),
        (0, 1, 1)
    );
    assert_eq!(bucket(h, f64::INFINITY), 1);
    assert_eq!((h.sum, h.count), (Some(1.05), Some(1)));

    assert_eq!(set.uptime_seconds(), Some(208));
    assert_eq!(other(&set, "envoy_server_uptime"), &StatValue::Int(208));
    assert_eq!(
        other(&set, "cluster_manager.cds.version"),
        &StatValue::Int(9_194_640_092_791_331_756)
    );
    assert_eq!(
        other(&set, "cluster_manager.active_clusters"),
        &StatValue::Int(2)
    );
}

#[test]
fn kuma_histograms_with_type_lines() {
    let Some((text, set)) = load(
        "kuma",
        "kuma-dp-envoy-sidecar-stats-prometheus-histograms.txt",
    ) else {
        return;
    };
    assert_nothing_dropped(&text, &set, 264);
    assert_eq!(set.cluster_count(), 12);
    assert!(
        set.clusters().all(|c| c.stats.len() == 1),
        "{:?}",
        stat_counts(&set)
    );
    assert!(cluster_names(&set).contains(&"echo-server_kuma-test_svc_8080-0382aaf295add2eb"));
    assert!(set.other().is_empty());

    let h = hist(&set, "ads_cluster", "upstream_cx_connect_ms");
    assert_eq!(h.buckets.len(), 20);
    assert_eq!(
        (bucket(h, 10.0), bucket(h, 25.0), bucket(h, f64::INFINITY)),
        (0, 1, 1)
    );
    assert_eq!((h.sum, h.count), (Some(20.5), Some(1)));
    assert_eq!(
        h.cumulative(50.0),
        Some(17.5),
        "halfway into the (10, 25] bucket"
    );
    let idle = hist(&set, "outbound_passthrough_ipv6", "upstream_cx_connect_ms");
    assert_eq!(
        (bucket(idle, f64::INFINITY), idle.count, idle.sum),
        (0, Some(0), Some(0.0))
    );
    assert!(idle.is_empty());
}

#[test]
fn consul_dataplane_cluster_stats() {
    let file = "netdata-consul-dataplane-envoy-sidecar-stats-prometheus.txt";
    let Some((text, set)) = load("consul", file) else {
        return;
    };
    assert_nothing_dropped(&text, &set, 1317);
    assert_eq!(
        stat_counts(&set),
        [
            ("consul-dataplane", 126),
            ("local_app", 101),
            ("original-destination", 101),
            ("prometheus_backend", 112)
        ]
    );
    assert_eq!(
        set.other().len(),
        414 + 61,
        "414 others plus 61 text-name aliases"
    );

    // Consul's local_cluster / consul_source_* labels are ignored on cluster stats.
    assert_eq!(
        set.cluster("local_app").unwrap().int("upstream_cx_total"),
        Some(6507)
    );
    assert_eq!(
        set.cluster("local_app")
            .unwrap()
            .int("circuit_breakers.default.cx_open"),
        Some(0)
    );
    assert_eq!(
        set.cluster("consul-dataplane")
            .unwrap()
            .int("upstream_rq_200"),
        Some(1)
    );
    let backend = set.cluster("prometheus_backend").unwrap();
    assert_eq!(
        (
            backend.int("upstream_rq_200"),
            backend.int("upstream_rq_2xx")
        ),
        (Some(3), Some(3))
    );
    // The sum is printed as 15.1000000000000014210854715202, the exact value of this double.
    for suffix in ["upstream_rq_time", "external.upstream_rq_time"] {
        let h = hist(&set, "prometheus_backend", suffix);
        assert_eq!(
            (bucket(h, 0.5), bucket(h, 25.0), bucket(h, f64::INFINITY)),
            (0, 2, 2),
            "{suffix}"
        );
        assert_eq!(
            (h.sum, h.count),
            (Some(15.100_000_000_000_001), Some(2)),
            "{suffix}"
        );
    }
}

#[test]
fn consul_dataplane_summaries_and_aliases() {
    let file = "netdata-consul-dataplane-envoy-sidecar-stats-prometheus.txt";
    let Some((_, set)) = load("consul summaries", file) else {
        return;
    };
    // The proxy-wide Consul labels do not block the text-name alias.
    assert_eq!(set.uptime_seconds(), Some(32527));
    let cds = other(&set, "cluster_manager.cds.update_duration")
        .as_histogram()
        .unwrap();
    assert_eq!((cds.sum, cds.count), (Some(34.5), Some(1)));

    let connect = other(&set, "consul_dataplane_connect_duration")
        .as_histogram()
        .unwrap();
    let percentiles: Vec<(f64, Option<f64>)> = connect
        .quantiles
        .iter()
        .map(|q| (q.percentile, q.cumulative))
        .collect();
    assert_eq!(
        percentiles,
        [(50.0, None), (90.0, None), (99.0, None)],
        "NaN quantiles"
    );
    assert_eq!(
        (connect.sum, connect.count),
        (Some(321.854_431_152_343_75), Some(1))
    );
    let gc = other(&set, "consul_dataplane_go_gc_duration_seconds")
        .as_histogram()
        .unwrap();
    assert_eq!(gc.quantiles.len(), 5);
    assert_eq!(
        (gc.cumulative(0.0), gc.cumulative(100.0)),
        (Some(2.194e-05), Some(0.000_139_612))
    );
    assert_eq!(gc.count, Some(273));
    assert_eq!(
        other(&set, "consul_dataplane_go_info{version=\"go1.19.1\"}"),
        &StatValue::Int(1)
    );
}

#[test]
fn standalone_envoy_with_type_lines() {
    let Some((text, set)) = load(
        "standalone",
        "netdata-envoy-standalone-stats-prometheus.txt",
    ) else {
        return;
    };
    assert_nothing_dropped(&text, &set, 630);
    assert_eq!(stat_counts(&set), [("service_envoyproxy_io", 116)]);
    assert_eq!(
        set.other().len(),
        325 + 46,
        "325 others plus 46 text-name aliases"
    );

    let c = set.cluster("service_envoyproxy_io").unwrap();
    assert_eq!(c.int("update_attempt"), Some(1242));
    assert_eq!(c.int("membership_healthy"), Some(1));
    assert_eq!(c.int("default.total_match_count"), Some(1));
    assert_eq!(c.int("ssl.handshake"), Some(0));
    assert_eq!(
        c.int("client_ssl_socket_factory.ssl_context_update_by_sds"),
        Some(0)
    );
    assert_eq!(c.int("circuit_breakers.high.rq_open"), Some(0));
    assert_eq!(c.int("upstream_cx_total"), Some(0));
    let h = hist(&set, "service_envoyproxy_io", "upstream_cx_length_ms");
    assert_eq!(
        (bucket(h, 1.0), bucket(h, f64::INFINITY), h.count, h.sum),
        (0, 0, Some(0), Some(0.0))
    );

    assert_eq!(set.uptime_seconds(), Some(6225));
    assert_eq!(other(&set, "server.live"), &StatValue::Int(1));
    assert_eq!(
        other(&set, "cluster_manager.active_clusters"),
        &StatValue::Int(1)
    );
    let admin_2xx = "envoy_http_downstream_rq_xx{envoy_http_conn_manager_prefix=\"admin\",envoy_response_code_class=\"2\"}";
    assert_eq!(other(&set, admin_2xx), &StatValue::Int(3));
    let worker = "envoy_listener_worker_downstream_cx_total{envoy_listener_address=\"0.0.0.0_10000\",envoy_worker_id=\"10\"}";
    assert_eq!(other(&set, worker), &StatValue::Int(0));
}

#[test]
fn reparsing_another_capture_into_the_same_set_forgets_the_first() {
    let Some(dir) = common::fixtures_dir("reparse") else {
        return;
    };
    let read = |f: &str| {
        String::from_utf8(common::read_fixture(&dir, &format!("envoy-stats/{f}"))).unwrap()
    };
    let consul = read("netdata-consul-dataplane-envoy-sidecar-stats-prometheus.txt");
    let kuma = read("kuma-dp-envoy-sidecar-stats-prometheus-histograms.txt");
    let mut set = parse_prometheus(&consul).unwrap();
    parse_prometheus_into(&kuma, &mut set).unwrap();
    assert_eq!(
        (set.cluster_count(), set.stat_count, set.other().len()),
        (12, 264, 0)
    );
    assert!(set.cluster("local_app").is_none());
    parse_prometheus_into(&consul, &mut set).unwrap();
    assert_eq!(
        set.cluster("local_app").unwrap().int("upstream_cx_total"),
        Some(6507)
    );
    assert_eq!(
        hist(&set, "prometheus_backend", "upstream_rq_time").count,
        Some(2),
        "not summed twice"
    );
    assert_eq!(set.stat_count, 1317);
}

#[test]
fn captures_without_istio_metrics_have_no_istio_request_series() {
    let Some(dir) = common::fixtures_dir("istio requests") else {
        return;
    };
    for file in [
        "ambassador-2019-envoy-stats-prometheus.txt",
        "kuma-dp-envoy-sidecar-stats-prometheus-histograms.txt",
        "netdata-consul-dataplane-envoy-sidecar-stats-prometheus.txt",
        "netdata-envoy-standalone-stats-prometheus.txt",
    ] {
        let text =
            String::from_utf8(common::read_fixture(&dir, &format!("envoy-stats/{file}"))).unwrap();
        assert_eq!(istio_requests(&text), [], "{file}");
    }
}
