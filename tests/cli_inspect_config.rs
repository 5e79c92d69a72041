//! `meshtop inspect --config`: Istio DestinationRules and VirtualServices resolved next to each
//! cluster, on the project's own sample captures (`tests/data/order-svc/`).

mod common;

use serde_json::Value;

const INVENTORY: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";
const PRICING: &str = "outbound|8080|v2|pricing-svc.prod.svc.cluster.local";
const ORDERS_DB: &str = "outbound|5432||orders-db.prod.svc.cluster.local";

fn inspect(files: &[&str], extra: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_meshtop"));
    cmd.arg("inspect");
    for f in files {
        cmd.arg(common::sample(f));
    }
    cmd.args(extra);
    cmd.output().expect("meshtop runs")
}

fn json(files: &[&str], extra: &[&str]) -> Value {
    let mut args = vec!["-o", "json"];
    args.extend_from_slice(extra);
    let out = inspect(files, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn cluster<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no cluster {name}"))
}

fn config_path() -> String {
    common::sample("order-svc/istio-config.yaml")
        .display()
        .to_string()
}

#[test]
fn configured_values_and_sources_per_cluster() {
    let report = json(
        &["order-svc/stats-after.txt", "order-svc/server_info.json"],
        &["--config", &config_path()],
    );
    let inv = &cluster(&report, INVENTORY)["config"];
    assert_eq!(inv["destination_rule"], "prod/inventory");
    assert_eq!(inv["virtual_service"], "prod/inventory");
    assert_eq!(inv["connect_timeout_ms"], 2000);
    assert_eq!(inv["idle_timeout_ms"], 3_600_000);
    assert_eq!(inv["route_timeout_ms"], 1000);
    assert_eq!(inv["per_try_timeout_ms"], Value::Null);
    assert_eq!(inv["retry_attempts"], 2);
    assert_eq!(inv["max_pending_requests"], 1024);
    assert_eq!(inv["max_requests"], 1024);
    assert_eq!(inv["max_connections"], 100);
    assert_eq!(
        inv["sources"]["connect_timeout_ms"],
        "DestinationRule prod/inventory trafficPolicy.connectionPool.tcp.connectTimeout"
    );
    assert_eq!(
        inv["sources"]["route_timeout_ms"],
        "VirtualService prod/inventory http[0].timeout"
    );
    assert_eq!(inv["sources"]["retry_attempts"], "Istio default");
    let defaults: Vec<&str> = inv["defaults"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        defaults.contains(&"retry_attempts") && !defaults.contains(&"connect_timeout_ms"),
        "{defaults:?}"
    );

    // No DestinationRule for orders-db: Istio's defaults, marked as such.
    let db = &cluster(&report, ORDERS_DB)["config"];
    assert_eq!(db["destination_rule"], Value::Null);
    assert_eq!(db["virtual_service"], Value::Null);
    assert_eq!(db["connect_timeout_ms"], 10_000);
    assert_eq!(db["route_timeout_ms"], Value::Null);
    assert_eq!(db["max_pending_requests"], 4_294_967_295u64);
    assert_eq!(db["sources"]["connect_timeout_ms"], "Istio default");

    // Subset cluster: the DR with the subset and the VS routing to it.
    let pricing = &cluster(&report, PRICING)["config"];
    assert_eq!(pricing["destination_rule"], "prod/pricing");
    assert_eq!(pricing["virtual_service"], "prod/pricing");
    assert_eq!(pricing["policy"]["subset"], "v2");
}

#[test]
fn effective_config_mismatch_is_flagged() {
    // The config dump runs inventory with a 1s route timeout; a config saying 3s differs.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(config_path())
        .unwrap()
        .replace("timeout: 1s", "timeout: 3s");
    let path = dir.path().join("changed.yaml");
    std::fs::write(&path, text).unwrap();
    let report = json(
        &[
            "order-svc/stats-after.txt",
            "order-svc/config_dump.json",
            "order-svc/server_info.json",
        ],
        &["--config", path.to_str().unwrap()],
    );
    let inv = &cluster(&report, INVENTORY)["config"];
    assert_eq!(inv["route_timeout_ms"], 3000);
    assert_eq!(
        inv["mismatches"],
        serde_json::json!([{"field": "route_timeout_ms", "configured": 3000, "effective": 1000}])
    );
    let out = inspect(
        &[
            "order-svc/stats-after.txt",
            "order-svc/config_dump.json",
            "order-svc/server_info.json",
        ],
        &["--config", path.to_str().unwrap()],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("NOT APPLIED? route_timeout_ms: configured 3000, Envoy runs with 1000"),
        "{text}"
    );
    // The unchanged config matches what Envoy runs.
    let report = json(
        &[
            "order-svc/stats-after.txt",
            "order-svc/config_dump.json",
            "order-svc/server_info.json",
        ],
        &["--config", &config_path()],
    );
    assert_eq!(
        cluster(&report, INVENTORY)["config"]["mismatches"],
        serde_json::json!([])
    );
}

#[test]
fn text_shows_values_with_their_sources_and_a_folder_works() {
    let folder = common::sample("order-svc").display().to_string();
    let out = inspect(
        &["order-svc/stats-after.txt", "order-svc/server_info.json"],
        &["--config", &folder],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "istio config: DestinationRule prod/inventory · VirtualService prod/inventory"
        ),
        "{text}"
    );
    assert!(
        text.contains("VirtualService prod/inventory http[0].timeout"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("route timeout") && l.contains("1s")),
        "{text}"
    );
}

#[test]
fn malformed_objects_are_reported_and_skipped_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: broken, namespace: prod}\n\
         spec:\n  host: inventory-svc\n  trafficPolicy:\n    connectionPool:\n      tcp:\n        connectTimeout: soon\n",
    )
    .unwrap();
    let report = json(
        &["order-svc/stats-after.txt", "order-svc/server_info.json"],
        &["--config", path.to_str().unwrap()],
    );
    let issues = report["config_issues"].as_array().expect("issues listed");
    assert!(
        issues.iter().any(|i| i
            .as_str()
            .is_some_and(|s| s.contains("prod/broken") && s.contains("connectTimeout"))),
        "{issues:?}"
    );
    assert_eq!(
        cluster(&report, INVENTORY)["config"]["destination_rule"],
        Value::Null,
        "skipped"
    );
}
