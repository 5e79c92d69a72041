//! `/clusters` parsers over real captures from `$MESHTOP_FIXTURES/envoy-config/`. The expected
//! numbers were checked by hand with grep/awk/python on the fixture files.

mod common;

use meshtop::envoy::clusters::{
    ClustersDump, ClustersFormat, RoutingPriority, parse_clusters_json, parse_clusters_text,
};

const TEXT: &str = "envoy-config/istio-1.8dev-integration-test-vm-sidecar-clusters.txt";
const JSON: &str = "envoy-config/istio-1.2-istioctl-testdata-clusters.json";

fn read(test: &str, rel: &str) -> Option<String> {
    let dir = common::fixtures_dir(test)?;
    Some(String::from_utf8(common::read_fixture(&dir, rel)).expect("fixture is UTF-8"))
}

fn host<'a>(
    dump: &'a ClustersDump,
    cluster: &str,
    address: &str,
) -> &'a meshtop::envoy::clusters::HostStatus {
    let cluster = dump
        .cluster(cluster)
        .unwrap_or_else(|| panic!("no cluster {cluster}"));
    cluster
        .hosts
        .iter()
        .find(|h| h.address == address)
        .unwrap_or_else(|| panic!("no host {address} in {}", cluster.name))
}

#[test]
fn text_capture_counts_and_accounting() {
    let Some(input) = read("text_capture_counts_and_accounting", TEXT) else {
        return;
    };
    let dump = parse_clusters_text(&input).unwrap();
    assert_eq!(dump.format, ClustersFormat::Text);
    assert_eq!(dump.issues, vec![]);
    assert_eq!(dump.clusters.len(), 87);
    assert_eq!(dump.host_count(), 210);
    // Every one of the 4,563 lines went into the model (87 added_via_api, 696 circuit-breaker
    // and 210 × 18 per-host lines).
    assert_eq!(input.lines().count(), 4563);
    assert_eq!(dump.parsed_lines, 4563);
    assert_eq!(dump.version_info, None);

    assert_eq!(
        dump.clusters[0].name,
        "outbound|9091||c.echo-1-63613.svc.cluster.local"
    );
    assert_eq!(
        dump.clusters[86].name,
        "outbound|7071||a.echo-1-63613.svc.cluster.local"
    );
    assert_eq!(
        dump.clusters.iter().filter(|c| c.hosts.is_empty()).count(),
        14
    );

    let via_api: Vec<Option<bool>> = dump.clusters.iter().map(|c| c.added_via_api).collect();
    assert_eq!(via_api.iter().filter(|v| **v == Some(true)).count(), 82);
    let mut static_clusters: Vec<&str> = dump
        .clusters
        .iter()
        .filter(|c| c.added_via_api == Some(false))
        .map(|c| c.name.as_str())
        .collect();
    static_clusters.sort_unstable();
    assert_eq!(
        static_clusters,
        [
            "agent",
            "prometheus_stats",
            "sds-grpc",
            "xds-grpc",
            "zipkin"
        ]
    );

    // Every host has every per-host line; all are healthy, none has outlier data.
    for cluster in &dump.clusters {
        assert_eq!(cluster.thresholds.len(), 2, "{}", cluster.name);
        assert_eq!(
            cluster.healthy_count(),
            cluster.total_count(),
            "{}",
            cluster.name
        );
        for h in &cluster.hosts {
            let s = &h.stats;
            let counters = [s.cx_total, s.cx_active, s.cx_connect_fail, s.rq_total];
            let more = [s.rq_timeout, s.rq_success, s.rq_error, s.rq_active];
            assert!(
                counters.iter().chain(&more).all(Option::is_some),
                "{}",
                h.address
            );
            assert!(s.extra.is_empty());
            assert!(h.weight.is_some() && h.canary == Some(false) && h.priority == Some(0));
            assert_eq!((h.success_rate, h.local_origin_success_rate), (None, None));
        }
    }
    let hosts = dump.clusters.iter().flat_map(|c| &c.hosts);
    assert_eq!(hosts.clone().filter(|h| h.weight == Some(6)).count(), 166);
    assert_eq!(hosts.clone().filter(|h| h.weight == Some(2)).count(), 24);
    assert_eq!(hosts.clone().filter(|h| h.hostname.is_empty()).count(), 202);
    assert_eq!(hosts.clone().filter(|h| h.region.is_empty()).count(), 170);

    let sum = |f: fn(&meshtop::envoy::clusters::ClusterStatus) -> Option<u64>| {
        dump.clusters.iter().filter_map(|c| f(c)).sum::<u64>()
    };
    assert_eq!(sum(|c| c.rq_error_total()), 2);
    assert_eq!(sum(|c| c.cx_connect_fail_total()), 1);
    assert_eq!(sum(|c| c.rq_timeout_total()), 0);
}

#[test]
fn text_capture_exact_values() {
    let Some(input) = read("text_capture_exact_values", TEXT) else {
        return;
    };
    let dump = parse_clusters_text(&input).unwrap();

    let first = dump
        .cluster("outbound|9091||c.echo-1-63613.svc.cluster.local")
        .unwrap();
    let default = first.threshold(RoutingPriority::Default).unwrap();
    assert_eq!(default.max_connections, Some(4294967295));
    assert_eq!(default.max_retries, Some(4294967295));
    let high = first.threshold(RoutingPriority::High).unwrap();
    assert_eq!(
        (high.max_connections, high.max_pending_requests),
        (Some(1024), Some(1024))
    );
    assert_eq!((high.max_requests, high.max_retries), (Some(1024), Some(3)));
    let addresses: Vec<&str> = first.hosts.iter().map(|h| h.address.as_str()).collect();
    assert_eq!(
        addresses[..3],
        [
            "10.50.0.23:16060",
            "10.40.0.22:16060",
            "172.18.255.176:15443"
        ]
    );

    let xds = dump.cluster("xds-grpc").unwrap();
    let default = xds.threshold(RoutingPriority::Default).unwrap();
    assert_eq!(
        (default.max_connections, default.max_retries),
        (Some(100000), Some(3))
    );
    assert!(xds.key.is_special());
    let pipe = host(&dump, "xds-grpc", "./etc/istio/proxy/XDS");
    assert_eq!(
        (pipe.stats.rq_active, pipe.stats.rq_total),
        (Some(1), Some(1))
    );

    let failing = host(
        &dump,
        "outbound|7071||vm.echo-1-63613.svc.cluster.local",
        "172.18.255.166:15443",
    );
    assert_eq!(failing.stats.cx_connect_fail, Some(1));
    assert_eq!(failing.stats.rq_error, Some(2));
    assert_eq!(
        (failing.stats.cx_active, failing.stats.cx_total),
        (Some(1), Some(2))
    );
    assert_eq!(failing.stats.rq_success, Some(0));
    assert_eq!(failing.weight, Some(2));

    let b = host(
        &dump,
        "outbound|80||b.echo-1-63613.svc.cluster.local",
        "172.18.255.156:15443",
    );
    assert_eq!(
        (b.stats.rq_success, b.stats.rq_total, b.stats.cx_active),
        (Some(245), Some(245), Some(8))
    );

    let agent = host(&dump, "agent", "127.0.0.1:15020");
    assert_eq!((agent.stats.rq_success, agent.weight), (Some(36), Some(1)));

    let external = host(&dump, "outbound|81||fake.external.com", "10.255.40.65:81");
    assert_eq!(
        external.hostname,
        "external.external-2-68968.svc.cluster.local"
    );

    let local = host(
        &dump,
        "outbound|9091||a.echo-1-63613.svc.cluster.local",
        "10.40.0.20:16060",
    );
    assert_eq!(
        (
            local.region.as_str(),
            local.zone.as_str(),
            local.sub_zone.as_str()
        ),
        ("region", "zone", "subzone")
    );
    assert_eq!(local.health.to_string(), "healthy");
}

#[test]
fn text_capture_with_damage_reports_the_damaged_lines_only() {
    let Some(input) = read(
        "text_capture_with_damage_reports_the_damaged_lines_only",
        TEXT,
    ) else {
        return;
    };
    let mut lines: Vec<String> = input.lines().map(str::to_string).collect();
    // Line 100 cut short, line 200 with a non-numeric counter, a garbage line 4,000.
    lines[99].truncate(30);
    lines[199] = lines[199]
        .rsplit_once("::")
        .map(|(head, _)| format!("{head}::x"))
        .unwrap();
    lines[3999] = "<html>".to_string();
    let damaged = lines.join("\n");
    let dump = parse_clusters_text(&damaged).unwrap();
    let at: Vec<usize> = dump.issues.iter().map(|i| i.line).collect();
    assert_eq!(at, [100, 200, 4000], "{:?}", dump.issues);
    assert_eq!(dump.parsed_lines, 4560);
    assert_eq!(dump.clusters.len(), 87);
    assert_eq!(dump.host_count(), 210);
}

#[test]
fn json_capture() {
    let Some(input) = read("json_capture", JSON) else {
        return;
    };
    let dump = parse_clusters_json(&input).unwrap();
    assert_eq!(dump.format, ClustersFormat::Json);
    assert_eq!(dump.issues, vec![]);
    assert_eq!(dump.clusters.len(), 7);
    assert_eq!(dump.host_count(), 9);
    let names: Vec<&str> = dump.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names[0],
        "outbound|443||istio-sidecar-injector.istio-system.svc.cluster.local"
    );
    assert_eq!(names[6], "inbound_9092");
    // camelCase `addedViaApi: true` on six clusters; `inbound_9092` omits it (proto3 false).
    let via_api: Vec<Option<bool>> = dump.clusters.iter().map(|c| c.added_via_api).collect();
    assert_eq!(
        via_api,
        [
            Some(true),
            Some(true),
            Some(true),
            Some(true),
            Some(true),
            Some(true),
            Some(false)
        ]
    );
    assert!(
        dump.clusters.iter().all(|c| c.thresholds.is_empty()),
        "Istio 1.2 had no circuit_breakers"
    );

    let injector = &dump.clusters[0].hosts[0];
    assert_eq!(injector.address, "172.17.0.4:443");
    // Zero values are left out; the stats are listed, so they are 0, not unknown.
    assert_eq!(
        (injector.stats.cx_active, injector.stats.rq_total),
        (Some(0), Some(0))
    );
    assert_eq!(injector.weight, None);
    assert!(injector.health.is_healthy());

    let policy = dump
        .cluster("outbound|15014||istio-policy.istio-system.svc.cluster.local")
        .unwrap();
    assert_eq!((policy.healthy_count(), policy.total_count()), (0, 1));
    assert!(policy.hosts[0].health.failed_eds_health);

    let reviews = dump
        .cluster("outbound|9080||reviews.default.svc.cluster.local")
        .unwrap();
    assert_eq!(
        (
            reviews.total_count(),
            reviews.healthy_count(),
            reviews.ejected_count()
        ),
        (3, 2, 1)
    );
    assert_eq!(reviews.hosts[2].address, "172.17.0.27:9080");
    assert!(reviews.hosts[2].health.failed_outlier_check);
    assert_eq!(reviews.key.istio().unwrap().port, 9080);

    // snake_case host (`host_statuses`, `health_status`), a pipe address, string values.
    let mixer = &dump.cluster("inbound_9092").unwrap().hosts[0];
    assert_eq!(mixer.address, "/sock/mixer.socket");
    assert_eq!(mixer.weight, Some(1));
    let s = &mixer.stats;
    assert_eq!(
        (s.cx_connect_fail, s.cx_total, s.cx_active),
        (Some(64), Some(72), Some(8))
    );
    assert_eq!(
        (s.rq_error, s.rq_success, s.rq_total),
        (Some(78), Some(300076), Some(300076))
    );
    assert_eq!((s.rq_timeout, s.rq_active), (Some(0), Some(0)));
    assert!(mixer.health.is_healthy());
    assert_eq!(
        dump.cluster("inbound_9092").unwrap().rq_error_total(),
        Some(78)
    );
}
