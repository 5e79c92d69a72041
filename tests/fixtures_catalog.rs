//! The cluster stat catalog against Envoy's own `cluster_stats.rst` and real `/stats` captures:
//! every documented stat is catalogued with its documented kind, and the leftmost-dot split
//! driven by `is_cluster_suffix` recovers the right cluster name for every `cluster.` line.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use meshtop::envoy::catalog::{self, CLUSTER_STATS, Section, StatKind};

/// One `Name, Type, …` row of a csv-table, with the table's section heading.
struct DocRow {
    heading: String,
    name: String,
    kind: String,
}

/// All csv-table rows of the rst, split into rows rooted at `cluster.<name>.` and the number of
/// rows rooted at `cluster_manager.` / `thread_local_cluster_manager.` (not cluster stats).
fn documented_rows(rst: &str) -> (Vec<DocRow>, usize) {
    let lines: Vec<&str> = rst.lines().collect();
    let (mut rows, mut manager_rows) = (Vec::new(), 0);
    let (mut heading, mut manager_root, mut in_table, mut started) =
        (String::new(), false, false, false);
    for (i, line) in lines.iter().enumerate() {
        let underline = lines
            .get(i + 1)
            .is_some_and(|next| next.len() >= 3 && next.chars().all(|c| c == '-' || c == '='));
        let text = line.trim();
        if underline && !text.is_empty() {
            (heading, manager_root) = (text.to_owned(), false);
        } else if text.starts_with(".. csv-table::") {
            (in_table, started) = (true, false);
        } else if in_table && line.starts_with(' ') && !text.starts_with(':') && !text.is_empty() {
            started = true;
            let mut fields = text.split(", ");
            let (name, kind) = (fields.next().unwrap(), fields.next().unwrap());
            if manager_root {
                manager_rows += 1;
            } else {
                let (name, kind) = (name.replace("``", ""), kind.to_owned());
                rows.push(DocRow {
                    heading: heading.clone(),
                    name,
                    kind,
                });
            }
        } else if in_table && (started || !text.is_empty()) && !text.starts_with(':') {
            in_table = false;
        }
        if !in_table {
            manager_root |= line.contains("cluster_manager.");
            manager_root &= !line.contains("cluster.<name>");
        }
    }
    (rows, manager_rows)
}

/// The catalog pattern prefix and section for each rst heading.
fn section_of(heading: &str) -> (&'static str, Section) {
    match heading {
        "General" | "Request Response Size statistics" => ("", Section::General),
        "HTTP/3 protocol statistics" => ("", Section::Transport),
        "Health check statistics" => ("health_check.", Section::HealthCheck),
        "Outlier detection statistics" => ("outlier_detection.", Section::OutlierDetection),
        "Circuit breakers statistics" => ("circuit_breakers.<priority>.", Section::CircuitBreakers),
        "Timeout budget statistics" => ("", Section::TimeoutBudget),
        "Dynamic HTTP statistics" => ("", Section::DynamicHttp),
        "Retry statistics" => ("retry.", Section::Retry),
        "Per service zone dynamic HTTP statistics" => {
            ("zone.<from_zone>.<to_zone>.", Section::PerZone)
        }
        "Load balancer statistics" => ("", Section::LoadBalancer),
        "Load balancer subset statistics" => ("", Section::SubsetLb),
        "Ring hash load balancer statistics" => ("ring_hash_lb.", Section::RingHashLb),
        "Maglev load balancer statistics" => ("maglev_lb.", Section::MaglevLb),
        other => panic!("csv-table under an unexpected heading {other:?}"),
    }
}

/// The rst's placeholders written the catalog's way.
fn catalog_pattern(prefix: &str, name: &str) -> String {
    format!(
        "{prefix}{}",
        name.replace(r"<\*xx>", "<Nxx>").replace(r"<\*>", "<code>")
    )
}

/// A concrete stat name for a pattern.
fn concrete(pattern: &str) -> String {
    pattern
        .replace("<priority>", "default")
        .replace("<Nxx>", "2xx")
        .replace("<code>", "404")
        .replace("<from_zone>", "eu-west-1a")
        .replace("<to_zone>", "eu-west-1c")
        .replace("<tx/rx>", "tx")
        .replace("<error_code>", "QUIC_HANDSHAKE_FAILED")
}

fn kind_of(doc: &str) -> StatKind {
    match doc {
        "Counter" => StatKind::Counter,
        "Gauge" => StatKind::Gauge,
        "Histogram" => StatKind::Histogram,
        other => panic!("unknown stat type {other:?} in the rst"),
    }
}

#[test]
fn every_documented_cluster_stat_is_catalogued_with_its_kind() {
    let Some(dir) = common::fixtures_dir("every_documented_cluster_stat_is_catalogued") else {
        return;
    };
    let rst = common::read_fixture(&dir, "envoy-docs/cluster_stats.rst");
    let (rows, manager_rows) = documented_rows(std::str::from_utf8(&rst).unwrap());
    // 9 cluster_manager.* rows and 1 thread_local_cluster_manager.* row are not cluster stats.
    assert_eq!(manager_rows, 10);
    assert_eq!(rows.len(), 168);
    let mut per_heading = BTreeMap::new();
    for row in &rows {
        let (prefix, section) = section_of(&row.heading);
        let pattern = catalog_pattern(prefix, &row.name);
        let entry = CLUSTER_STATS.iter().find(|info| info.pattern == pattern);
        let entry =
            entry.unwrap_or_else(|| panic!("{pattern} ({}) not in the catalog", row.heading));
        assert_eq!(entry.kind, kind_of(&row.kind), "{pattern}");
        assert_eq!(entry.section, section, "{pattern}");
        assert_eq!(
            catalog::lookup(&concrete(&pattern)),
            Some(entry),
            "{pattern}"
        );
        *per_heading.entry(row.heading.as_str()).or_insert(0) += 1;
    }
    assert_eq!(per_heading["General"], 79);
    assert_eq!(per_heading["Outlier detection statistics"], 19);
    assert_eq!(per_heading["Dynamic HTTP statistics"], 16);
    assert_eq!(per_heading["Circuit breakers statistics"], 9);
    assert_eq!(per_heading.len(), 14);
}

#[test]
fn cluster_manager_rows_are_not_cluster_stats() {
    for name in [
        "cluster_added",
        "active_clusters",
        "warming_clusters",
        "clusters_inflated",
    ] {
        assert_eq!(catalog::lookup(name), None, "{name}");
        assert!(!catalog::is_cluster_suffix(name), "{name}");
    }
}

/// Every `cluster.` stat name of a capture, split at the leftmost dot whose rest is a cluster
/// suffix; returns lines per cluster name. Panics on a line with no accepted split or whose
/// suffix is not in the catalog proper.
fn split_capture(dir: &Path, rel: &str) -> BTreeMap<String, usize> {
    let bytes = common::read_fixture(dir, rel);
    let mut clusters = BTreeMap::new();
    for line in std::str::from_utf8(&bytes).unwrap().lines() {
        let name = line.split_once(": ").map_or(line, |(name, _)| name);
        let Some(rest) = name.strip_prefix("cluster.") else {
            continue;
        };
        let split = rest
            .match_indices('.')
            .map(|(i, _)| i)
            .find(|&i| catalog::is_cluster_suffix(&rest[i + 1..]));
        let split = split.unwrap_or_else(|| panic!("no cluster suffix in {name}"));
        let suffix = &rest[split + 1..];
        assert!(
            catalog::lookup(suffix).is_some(),
            "{suffix} only matched a shape ({rel})"
        );
        *clusters.entry(rest[..split].to_owned()).or_insert(0) += 1;
    }
    clusters
}

#[test]
fn istio_capture_splits_into_the_catalog_cluster() {
    let Some(dir) = common::fixtures_dir("istio_capture_splits_into_the_catalog_cluster") else {
        return;
    };
    let rel = "envoy-stats/istio-1.17.8-sidecar-webapp-stats-grep-catalog-outbound-cluster.txt";
    let clusters = split_capture(&dir, rel);
    let expected = BTreeMap::from([(
        "outbound|80||catalog.istioinaction.svc.cluster.local".to_owned(),
        148,
    )]);
    assert_eq!(clusters, expected);
}

#[test]
fn datadog_capture_splits_into_service1_and_service2() {
    let Some(dir) = common::fixtures_dir("datadog_capture_splits_into_service1_and_service2")
    else {
        return;
    };
    let clusters = split_capture(
        &dir,
        "envoy-stats/datadog-envoy-front-proxy-multiple_services.stats.txt",
    );
    let expected = BTreeMap::from([("service1".to_owned(), 66), ("service2".to_owned(), 66)]);
    assert_eq!(clusters, expected);
}

#[test]
fn emissary_capture_splits_into_336_clusters() {
    let Some(dir) = common::fixtures_dir("emissary_capture_splits_into_336_clusters") else {
        return;
    };
    let rel = "envoy-stats/emissary-ambassador-large-production-stats-336-clusters.txt";
    let clusters = split_capture(&dir, rel);
    assert_eq!(clusters.len(), 336);
    assert_eq!(clusters.values().sum::<usize>(), 31_319);
    // 333 plain clusters carry the same 93 stats; three also have http2/ext_authz/per-code stats.
    assert_eq!(clusters.values().filter(|&&lines| lines == 93).count(), 333);
    assert_eq!(clusters["xds_cluster"], 115);
    assert_eq!(clusters["cluster_127_0_0_1_8500_ambassador"], 118);
    assert_eq!(clusters["cluster_extauth_127_0_0_1_8500_ambassador"], 117);
}
