//! End-to-end tests of the built `meshtop inspect` and `meshtop demo` binaries on the project's
//! own sample captures in `tests/data/` (the grpc-keepalive incident; every number asserted here
//! is promised by `tests/data/README.md` or was checked by hand with grep/python on the files).
//! JSON output is checked against `docs/INSPECT-JSON.md`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const INVENTORY: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";
const PRICING: &str = "outbound|8080|v2|pricing-svc.prod.svc.cluster.local";
const ORDERS_DB: &str = "outbound|5432||orders-db.prod.svc.cluster.local";
const STRIPE: &str = "outbound|443||api.stripe.com";
const INBOUND: &str = "inbound|8080||";

/// The 12 clusters Istio gave the order-svc sidecar.
const ALL_CLUSTERS: [&str; 12] = [
    INVENTORY,
    PRICING,
    ORDERS_DB,
    STRIPE,
    INBOUND,
    "xds-grpc",
    "BlackHoleCluster",
    "PassthroughCluster",
    "InboundPassthroughClusterIpv4",
    "agent",
    "prometheus_stats",
    "sds-grpc",
];

/// The five captures of the full incident, as `meshtop demo` embeds them.
const INCIDENT: [&str; 5] = [
    "order-svc/stats-before.txt",
    "order-svc/stats-after.txt",
    "order-svc/clusters.txt",
    "order-svc/config_dump.json",
    "order-svc/server_info.json",
];

const NOT_COLLECTED: &str = "—";

// ---------------------------------------------------------------------------------------------
// Running the binary

fn meshtop(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshtop"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run meshtop")
}

/// `meshtop inspect PATH… EXTRA…`.
fn inspect_paths(paths: &[PathBuf], extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec!["inspect".as_ref()];
    args.extend(paths.iter().map(|p| p.as_os_str()));
    args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
    meshtop(&args)
}

/// `meshtop inspect` on sample files named relative to `tests/data/`.
fn inspect(files: &[&str], extra: &[&str]) -> Output {
    let paths: Vec<PathBuf> = files.iter().map(|f| common::sample(f)).collect();
    inspect_paths(&paths, extra)
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit status; stderr:\n{}\nstdout:\n{}",
        stderr(out),
        stdout(out)
    );
}

/// Text output of a run that must succeed with nothing on stderr.
fn text_ok(files: &[&str], extra: &[&str]) -> String {
    let out = inspect(files, extra);
    assert_exit(&out, 0);
    assert_eq!(stderr(&out), "", "stderr of a clean run");
    stdout(&out)
}

fn parse_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", stdout(out)))
}

/// JSON output of a run that must succeed with nothing on stderr.
fn json_ok(files: &[&str], extra: &[&str]) -> Value {
    let mut args = vec!["--output", "json"];
    args.extend_from_slice(extra);
    let out = inspect(files, &args);
    assert_exit(&out, 0);
    assert_eq!(stderr(&out), "", "stderr of a clean run");
    parse_json(&out)
}

// ---------------------------------------------------------------------------------------------
// Reading the JSON report

fn clusters(report: &Value) -> &Vec<Value> {
    report["clusters"].as_array().expect("`clusters` array")
}

fn cluster_names(report: &Value) -> Vec<&str> {
    clusters(report)
        .iter()
        .map(|c| c["name"].as_str().expect("cluster name"))
        .collect()
}

fn cluster<'a>(report: &'a Value, name: &str) -> &'a Value {
    clusters(report)
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no cluster {name} in {:?}", cluster_names(report)))
}

fn stats<'a>(report: &'a Value, name: &str) -> &'a serde_json::Map<String, Value> {
    cluster(report, name)["stats"]
        .as_object()
        .expect("`stats` object")
}

/// A stat of a cluster as u64 (panics when absent).
fn stat(report: &Value, name: &str, suffix: &str) -> u64 {
    stats(report, name)
        .get(suffix)
        .unwrap_or_else(|| panic!("{name}: no stat {suffix}"))
        .as_u64()
        .unwrap_or_else(|| panic!("{name}.{suffix} is not a u64"))
}

fn delta(report: &Value, name: &str, suffix: &str) -> u64 {
    cluster(report, name)["change"]["deltas"][suffix]
        .as_u64()
        .unwrap_or_else(|| panic!("{name}: no delta for {suffix}"))
}

fn rate(report: &Value, name: &str, suffix: &str) -> f64 {
    cluster(report, name)["change"]["rates"][suffix]
        .as_f64()
        .unwrap_or_else(|| panic!("{name}: no rate for {suffix}"))
}

fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "{actual} != {expected} (within 1e-9)"
    );
}

fn input_kinds(report: &Value) -> Vec<Option<&str>> {
    report["inputs"]
        .as_array()
        .expect("`inputs` array")
        .iter()
        .map(|i| i["kind"].as_str())
        .collect()
}

/// Every number in the document, with its JSON path.
fn numbers<'a>(value: &'a Value, path: String, out: &mut Vec<(String, &'a serde_json::Number)>) {
    match value {
        Value::Number(n) => out.push((path, n)),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                numbers(v, format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                numbers(v, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the text report

/// The cluster blocks of the text output: (cluster name, whole block). The header comes first
/// and is separated from the blocks, and they from each other, by one blank line.
/// The cluster blocks of a text report: between the header and the findings section.
fn text_blocks(text: &str) -> Vec<(&str, &str)> {
    let clusters = text.split("\nfindings (").next().unwrap_or(text);
    clusters
        .split("\n\n")
        .skip(1)
        .map(|b| (b.lines().next().unwrap_or(""), b))
        .filter(|(name, _)| *name != "no clusters in these captures")
        .collect()
}

fn text_block<'a>(text: &'a str, name: &str) -> &'a str {
    text_blocks(text)
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("no text block for {name} in:\n{text}"))
}

/// One row of a cluster's stats table: (value, Δ, per s), trimmed. The table is laid out as
/// `  {stat:<44} {value:>14} {delta:>12} {rate:>10}  {gloss}` (widths in characters).
fn row(block: &str, stat: &str) -> (String, String, String) {
    let line = block
        .lines()
        .find(|l| l.split_whitespace().next() == Some(stat))
        .unwrap_or_else(|| panic!("no row {stat} in block:\n{block}"));
    let chars: Vec<char> = line.chars().collect();
    let cell = |from: usize, width: usize| -> String {
        chars
            .iter()
            .skip(from)
            .take(width)
            .collect::<String>()
            .trim()
            .to_string()
    };
    (cell(47, 14), cell(62, 12), cell(75, 10))
}

fn cells(value: &str, delta: &str, rate: &str) -> (String, String, String) {
    (value.to_string(), delta.to_string(), rate.to_string())
}

/// The stat rows of a block's table (first token of each line between the `stat` header and
/// `membership_healthy/total`).
fn table_stats(block: &str) -> Vec<&str> {
    block
        .lines()
        .skip_while(|l| l.split_whitespace().next() != Some("stat"))
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with("membership_healthy/total"))
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

/// The block has a line equal to `line`.
fn assert_line(block: &str, line: &str) {
    assert!(
        block.lines().any(|l| l == line),
        "no line {line:?} in block:\n{block}"
    );
}

/// No whitespace-separated token of the text reads as a negative number.
fn assert_no_negative_token(text: &str) {
    for token in text.split_whitespace() {
        let rest = token.strip_prefix("+-").or_else(|| token.strip_prefix('-'));
        if let Some(rest) = rest {
            assert!(
                !rest.starts_with(|c: char| c.is_ascii_digit() || c == '.'),
                "negative number `{token}` in:\n{text}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Text output, before + after

#[test]
fn text_incident_inventory_block_has_the_exact_numbers() {
    let text = text_ok(&INCIDENT, &[]);
    let before = common::sample("order-svc/stats-before.txt");
    let after = common::sample("order-svc/stats-after.txt");
    assert!(
        text.contains(&format!(
            "comparing {} → {}: 30s apart (from server.uptime)\n",
            before.display(),
            after.display()
        )),
        "{text}"
    );
    assert!(text.contains(
        "proxy: pod prod/order-svc-7d9f8b6c5-x2x4q · Envoy 1.30.4 · LIVE · uptime 1h0m30s\n"
    ));
    assert!(text.contains("stats collection: full (per-cluster stats present)\n"));

    let inv = text_block(&text, INVENTORY);
    assert_eq!(inv.lines().nth(1), Some("  inventory-svc.prod:8080"));
    assert_eq!(row(inv, "upstream_rq_timeout"), cells("449", "+37", "1.23"));
    assert_eq!(
        row(inv, "upstream_cx_destroy_remote_with_active_rq"),
        cells("108", "+12", "0.40")
    );
    assert_eq!(
        row(inv, "upstream_cx_destroy_with_active_rq"),
        cells("111", "+12", "0.40")
    );
    assert_eq!(
        row(inv, "upstream_cx_destroy_local_with_active_rq"),
        cells("3", "+0", "0.00")
    );
    assert_eq!(
        row(inv, "upstream_rq_total"),
        cells("177910", "+1500", "50.00")
    );
    assert_eq!(row(inv, "upstream_rq_retry"), cells("1204", "+20", "0.67"));
    assert_eq!(row(inv, "upstream_rq_5xx"), cells("470", "+39", "1.30"));
    // A gauge: value, no Δ, no rate.
    assert_eq!(
        row(inv, "outlier_detection.ejections_active"),
        cells("0", "", "")
    );
    assert_eq!(row(inv, "membership_healthy/total").0, "3/3");
    assert_line(
        inv,
        "  upstream_rq_time p99 (since start)                  1402 ms",
    );
    assert_line(
        inv,
        "  endpoints (/clusters): 3/3 healthy · 0 ejected · rq_total 177910 · rq_timeout 449 · rq_error 1494 · cx_connect_fail 0",
    );
    assert_line(
        inv,
        "  effective config (/config_dump): connect_timeout 2s · idle_timeout 1h · max_requests_per_connection unlimited (Envoy default)",
    );
    assert_line(
        inv,
        "    circuit breakers: max_connections 100 · max_pending_requests 1024 · max_requests 1024 · max_retries 3",
    );
    assert_line(
        inv,
        "    outlier detection: consecutive_5xx 5 · interval 10s · base_ejection_time 30s · max_ejection_percent 10%",
    );
    assert_line(inv, "    tcp keepalive: time 5m");
    let route = inv
        .lines()
        .find(|l| l.starts_with("    route 8080 / inventory-svc.prod.svc.cluster.local:8080: "))
        .unwrap_or_else(|| panic!("no inventory route line in:\n{inv}"));
    assert!(route.contains(": timeout 1s · "), "{route}");
    assert!(route.contains("per_try_timeout unset"), "{route}");
    assert!(
        route.ends_with(
            "2 retries on connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
        ),
        "{route}"
    );
}

#[test]
fn text_absent_stats_print_a_dash_never_zero() {
    let text = text_ok(&INCIDENT, &[]);
    assert!(text.contains("Never read it as 0."));
    // pricing v2 has no 5xx and no outlier detection stats in the capture (grep: 0 lines).
    let pricing = text_block(&text, PRICING);
    assert_eq!(
        row(pricing, "upstream_rq_5xx"),
        cells(NOT_COLLECTED, "", "")
    );
    assert_eq!(
        row(pricing, "outlier_detection.ejections_active"),
        cells(NOT_COLLECTED, "", "")
    );
    assert_eq!(
        row(pricing, "upstream_rq_total"),
        cells("71840", "+600", "20.00")
    );
    assert_line(
        pricing,
        "  upstream_rq_time p99 (since start)                    40 ms",
    );
    // orders-db is TCP: no upstream_rq_time values recorded → p99 not shown as 0.
    let db = text_block(&text, ORDERS_DB);
    assert_line(
        db,
        "  upstream_rq_time p99 (since start)                        —",
    );
    assert_line(db, "    unhealthy: 10.4.3.52:5432 /failed_eds_health");
    assert_eq!(row(db, "membership_healthy/total").0, "2/3");
    assert_eq!(
        row(db, "upstream_cx_connect_fail"),
        cells("4", "+0", "0.00")
    );
    // A cluster with no stats at all says so instead of printing zeros.
    let black_hole = text_block(&text, "BlackHoleCluster");
    assert_line(
        black_hole,
        "  stats: no stats for this cluster in the capture (not collected)",
    );
    assert!(black_hole.contains("rq_total — · rq_timeout — · rq_error — · cx_connect_fail —"));
}

/// Every stats-table cell in the text agrees with the JSON of the same run: the value when
/// present, `—` when the stat is absent (never `0`), and Δ/rate only for counters with a delta.
#[test]
fn text_tables_agree_with_json_for_every_cluster() {
    let text = text_ok(&INCIDENT, &[]);
    let report = json_ok(&INCIDENT, &[]);
    let mut tables = 0;
    for (name, block) in text_blocks(&text) {
        let c = cluster(&report, name);
        let stat_rows = table_stats(block);
        if stat_rows.is_empty() {
            continue;
        }
        tables += 1;
        assert_eq!(stat_rows.len(), 15, "{name}: 15 key stats");
        for s in stat_rows {
            let expected_value = c["stats"][s]
                .as_u64()
                .map_or(NOT_COLLECTED.to_string(), |v| v.to_string());
            let expected_delta = c["change"]["deltas"][s]
                .as_u64()
                .map_or(String::new(), |d| format!("+{d}"));
            let expected_rate = c["change"]["rates"][s]
                .as_f64()
                .map_or(String::new(), |r| format!("{r:.2}"));
            assert_eq!(
                row(block, s),
                (expected_value, expected_delta, expected_rate),
                "{name} / {s}"
            );
        }
    }
    // inventory, stripe (TCP: connections but no requests), orders-db, pricing, inbound,
    // xds-grpc.
    assert_eq!(tables, 6);
    let stripe = text_block(&text, STRIPE);
    assert_eq!(row(stripe, "upstream_rq_total"), cells("0", "+0", "0.00"));
    assert!(
        !stripe.contains("quiet:"),
        "a TCP cluster with connections is not quiet"
    );
}

#[test]
fn text_and_json_list_the_sick_cluster_first() {
    let text = text_ok(&INCIDENT, &[]);
    let blocks = text_blocks(&text);
    assert_eq!(blocks.first().map(|(n, _)| *n), Some(INVENTORY));
    let mut text_names: Vec<&str> = blocks.iter().map(|(n, _)| *n).collect();
    let report = json_ok(&INCIDENT, &[]);
    let json_names = cluster_names(&report);
    assert_eq!(json_names.first(), Some(&INVENTORY));
    assert_eq!(
        text_names, json_names,
        "text and JSON list clusters in one order"
    );
    text_names.sort_unstable();
    let mut all = ALL_CLUSTERS.to_vec();
    all.sort_unstable();
    assert_eq!(text_names, all, "each of the 12 clusters exactly once");
}

// ---------------------------------------------------------------------------------------------
// JSON output, before + after

#[test]
fn json_incident_report_top_level() {
    let report = json_ok(&INCIDENT, &[]);
    assert_eq!(report["meshtop_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(report["stats_collection"], "full");
    assert!(report.get("stats_opt_in").is_none());
    assert_eq!(
        input_kinds(&report),
        [
            Some("stats-text"),
            Some("stats-text"),
            Some("clusters-text"),
            Some("config-dump"),
            Some("server-info")
        ]
    );
    for input in report["inputs"].as_array().unwrap() {
        assert!(input.get("error").is_none(), "{input}");
        assert_eq!(input["warnings"], serde_json::json!([]), "{input}");
    }
    assert_eq!(
        report["proxy"],
        serde_json::json!({
            "envoy_version": "1.30.4", "state": "LIVE", "uptime_seconds": 3630,
            "pod": "order-svc-7d9f8b6c5-x2x4q", "namespace": "prod"
        })
    );
    let cmp = &report["comparison"];
    assert_eq!(cmp["interval_seconds"].as_f64(), Some(30.0));
    assert_eq!(cmp["interval_source"], "server-uptime");
    assert_eq!(cmp["proxy_restarted"], false);
    let shown = |f: &str| common::sample(f).display().to_string();
    assert_eq!(cmp["before"], shown("order-svc/stats-before.txt").as_str());
    assert_eq!(cmp["after"], shown("order-svc/stats-after.txt").as_str());
    assert_eq!(clusters(&report).len(), 12);
}

#[test]
fn json_incident_inventory_cluster() {
    let report = json_ok(&INCIDENT, &[]);
    let inv = cluster(&report, INVENTORY);
    assert_eq!(inv["kind"], "istio");
    assert_eq!(inv["direction"], "outbound");
    assert_eq!(inv["port"], 8080);
    assert_eq!(inv["subset"], "");
    assert_eq!(inv["host"], "inventory-svc.prod.svc.cluster.local");
    assert_eq!(inv["service"], "inventory-svc");
    assert_eq!(inv["namespace"], "prod");
    assert_eq!(inv["label"], "inventory-svc.prod:8080");
    assert_eq!(inv["upstream_rq_time_p99_ms"].as_f64(), Some(1402.0));
    assert_eq!(
        stats(&report, INVENTORY).len(),
        120,
        "README: 120 inventory stats"
    );
    for (suffix, value) in [
        ("upstream_rq_total", 177910),
        ("upstream_rq_timeout", 449),
        ("upstream_rq_504", 449),
        ("upstream_rq_5xx", 470),
        ("upstream_rq_active", 41),
        ("upstream_cx_destroy_remote_with_active_rq", 108),
        ("upstream_cx_destroy_with_active_rq", 111),
        ("membership_healthy", 3),
        ("membership_total", 3),
        ("circuit_breakers.default.remaining_rq", 983),
        ("outlier_detection.ejections_enforced_total", 1),
        ("upstream_rq_per_try_timeout", 0),
    ] {
        assert_eq!(stat(&report, INVENTORY, suffix), value, "{suffix}");
    }
    for (suffix, value) in [
        ("upstream_rq_timeout", 37),
        ("upstream_rq_total", 1500),
        ("upstream_rq_retry", 20),
        ("upstream_cx_destroy_remote_with_active_rq", 12),
        ("upstream_cx_total", 15),
        ("upstream_rq_retry_limit_exceeded", 0),
    ] {
        assert_eq!(delta(&report, INVENTORY, suffix), value, "Δ {suffix}");
    }
    assert_close(rate(&report, INVENTORY, "upstream_rq_timeout"), 37.0 / 30.0);
    assert_close(rate(&report, INVENTORY, "upstream_rq_total"), 50.0);
    let deltas = inv["change"]["deltas"].as_object().unwrap();
    for gauge in [
        "upstream_rq_active",
        "membership_healthy",
        "upstream_cx_active",
    ] {
        assert!(
            !deltas.contains_key(gauge),
            "gauge {gauge} is not differenced"
        );
    }
    assert!(
        inv["change"].get("reset_counters").is_none(),
        "no counter went down"
    );
}

#[test]
fn json_incident_inventory_endpoints_and_config() {
    let report = json_ok(&INCIDENT, &[]);
    let inv = cluster(&report, INVENTORY);
    assert_eq!(
        inv["endpoints"],
        serde_json::json!({
            "total": 3, "healthy": 3, "ejected": 0, "rq_total": 177910, "rq_timeout": 449,
            "rq_error": 1494, "cx_connect_fail": 0, "unhealthy": []
        })
    );
    let cfg = &inv["effective_config"];
    assert_eq!(cfg["connect_timeout_ms"], 2000);
    assert_eq!(cfg["idle_timeout_ms"], 3_600_000);
    assert_eq!(cfg["max_connections"], 100);
    assert_eq!(cfg["max_pending_requests"], 1024);
    assert_eq!(cfg["max_requests"], 1024);
    assert_eq!(cfg["max_retries"], 3);
    assert_eq!(cfg["max_requests_per_connection"], Value::Null, "unlimited");
    assert_eq!(
        cfg["envoy_defaults"],
        serde_json::json!(["max_requests_per_connection"])
    );
    assert_eq!(cfg["tcp_keepalive_time_ms"], 300_000);
    assert_eq!(cfg["outlier_detection"]["consecutive_5xx"], 5);
    assert_eq!(cfg["outlier_detection"]["base_ejection_time_ms"], 30_000);
    let routes = cfg["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(
        routes[0]["route"],
        "8080 / inventory-svc.prod.svc.cluster.local:8080"
    );
    assert_eq!(routes[0]["timeout_ms"], 1000);
    assert_eq!(routes[0]["timeout_is_envoy_default"], false);
    assert_eq!(routes[0]["per_try_timeout_ms"], Value::Null);
    assert_eq!(routes[0]["retry_attempts"], 2);
    assert_eq!(
        routes[0]["retry_on"],
        serde_json::json!([
            "connect-failure",
            "refused-stream",
            "unavailable",
            "cancelled",
            "retriable-status-codes"
        ])
    );
    // orders-db: one host failed EDS health.
    let db = &cluster(&report, ORDERS_DB)["endpoints"];
    assert_eq!(db["total"], 3);
    assert_eq!(db["healthy"], 2);
    assert_eq!(db["cx_connect_fail"], 4);
    assert_eq!(
        db["unhealthy"],
        serde_json::json!(["10.4.3.52:5432 /failed_eds_health"])
    );
}

#[test]
fn json_absent_stats_are_left_out_not_zero() {
    let report = json_ok(&INCIDENT, &[]);
    let pricing = stats(&report, PRICING);
    assert_eq!(pricing.len(), 97, "README: 97 pricing stats");
    assert_eq!(stat(&report, PRICING, "upstream_rq_404"), 59);
    assert_eq!(stat(&report, PRICING, "upstream_rq_timeout"), 0);
    for absent in [
        "upstream_rq_5xx",
        "upstream_rq_504",
        "outlier_detection.ejections_active",
    ] {
        assert!(!pricing.contains_key(absent), "pricing {absent} is absent");
        assert!(
            cluster(&report, PRICING)["change"]["deltas"]
                .get(absent)
                .is_none(),
            "no delta for absent {absent}"
        );
    }
    // Clusters the stats matcher left out entirely have an empty `stats` object.
    for name in ["BlackHoleCluster", "agent", "sds-grpc"] {
        assert!(stats(&report, name).is_empty(), "{name}");
        assert!(cluster(&report, name).get("change").is_none(), "{name}");
    }
    for (name, count) in [
        (ORDERS_DB, 88),
        (STRIPE, 70),
        (INBOUND, 79),
        ("xds-grpc", 122),
    ] {
        assert_eq!(stats(&report, name).len(), count, "{name}: stat count");
    }
}

#[test]
fn json_u64_values_above_i64_max_survive_exactly() {
    let report = json_ok(&INCIDENT, &[]);
    for (name, suffix, expected) in [
        (
            INVENTORY,
            "circuit_breakers.default.remaining_cx_pools",
            18446744073709551609_u64,
        ),
        (
            PRICING,
            "circuit_breakers.default.remaining_cx_pools",
            18446744073709551611,
        ),
        (
            INBOUND,
            "circuit_breakers.default.remaining_cx_pools",
            18446744073709551614,
        ),
        (PRICING, "circuit_breakers.default.remaining_cx", 4294967291),
    ] {
        let v = &stats(&report, name)[suffix];
        assert_eq!(v.as_u64(), Some(expected), "{name}.{suffix}");
        if expected > i64::MAX as u64 {
            assert_eq!(v.as_i64(), None, "{name}.{suffix} is above i64::MAX");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// --interval, restart

#[test]
fn interval_flag_wins_when_the_proxy_did_not_restart() {
    let files = ["order-svc/stats-before.txt", "order-svc/stats-after.txt"];
    let report = json_ok(&files, &["--interval", "1m"]);
    assert_eq!(
        report["comparison"]["interval_seconds"].as_f64(),
        Some(60.0)
    );
    assert_eq!(report["comparison"]["interval_source"], "flag");
    assert_eq!(report["comparison"]["proxy_restarted"], false);
    assert_eq!(delta(&report, INVENTORY, "upstream_rq_timeout"), 37);
    assert_close(rate(&report, INVENTORY, "upstream_rq_timeout"), 37.0 / 60.0);
    assert_close(rate(&report, INVENTORY, "upstream_rq_total"), 25.0);

    let text = text_ok(&files, &["--interval", "1m"]);
    assert!(text.contains(": 60s apart (--interval)\n"), "{text}");
    let inv = text_block(&text, INVENTORY);
    assert_eq!(row(inv, "upstream_rq_timeout"), cells("449", "+37", "0.62"));

    let report = json_ok(&files, &["--interval", "1m30s"]);
    assert_eq!(
        report["comparison"]["interval_seconds"].as_f64(),
        Some(90.0)
    );
}

#[test]
fn restart_gives_counts_since_restart_and_no_negative_numbers() {
    let files = [
        "order-svc/stats-before.txt",
        "order-svc/stats-restarted.txt",
    ];
    let report = json_ok(&files, &[]);
    let cmp = &report["comparison"];
    assert_eq!(cmp["proxy_restarted"], true);
    assert_eq!(cmp["interval_source"], "uptime-since-restart");
    assert_eq!(cmp["interval_seconds"].as_f64(), Some(12.0));
    for (suffix, value) in [
        ("upstream_rq_total", 523),
        ("upstream_rq_timeout", 3),
        ("upstream_rq_retry", 2),
        ("upstream_cx_total", 6),
        ("upstream_cx_destroy_remote_with_active_rq", 0),
    ] {
        assert_eq!(stat(&report, INVENTORY, suffix), value, "{suffix}");
        assert_eq!(delta(&report, INVENTORY, suffix), value, "Δ {suffix}");
    }
    assert_close(rate(&report, INVENTORY, "upstream_rq_timeout"), 3.0 / 12.0);
    // No 503 seen since the restart: absent, so no value and no delta.
    assert!(!stats(&report, INVENTORY).contains_key("upstream_rq_503"));
    assert!(!stats(&report, PRICING).contains_key("upstream_rq_404"));
    // Every delta of every cluster equals the value since the restart.
    for c in clusters(&report) {
        let Some(deltas) = c["change"]["deltas"].as_object() else {
            continue;
        };
        for (suffix, d) in deltas {
            assert_eq!(Some(d), c["stats"].get(suffix), "{} Δ {suffix}", c["name"]);
        }
        assert!(c["change"].get("reset_counters").is_none(), "{}", c["name"]);
    }
    let mut all = Vec::new();
    numbers(&report, String::new(), &mut all);
    assert!(all.len() > 1000, "{} numbers", all.len());
    for (path, n) in all {
        let negative = n.as_i64().is_some_and(|v| v < 0) || n.as_f64().is_some_and(|v| v < 0.0);
        assert!(!negative, "negative number {n} at {path}");
    }
}

#[test]
fn restart_text_says_so_and_has_no_negative_numbers() {
    let files = [
        "order-svc/stats-before.txt",
        "order-svc/stats-restarted.txt",
    ];
    let text = text_ok(&files, &[]);
    assert!(
        text.contains(": rates over the 12s since the restart\n"),
        "{text}"
    );
    assert!(text.contains(
        "proxy restarted between the captures (server.uptime went down): Δ counts since the restart\n"
    ));
    assert!(text.contains("proxy: uptime 12s\n"));
    let inv = text_block(&text, INVENTORY);
    assert_eq!(row(inv, "upstream_rq_timeout"), cells("3", "+3", "0.25"));
    assert_eq!(row(inv, "upstream_rq_total"), cells("523", "+523", "43.58"));
    assert_eq!(
        row(inv, "upstream_cx_destroy_remote_with_active_rq"),
        cells("0", "+0", "0.00")
    );
    assert_no_negative_token(&text);
    // --interval cannot turn a restart into a 30 s window.
    let report = json_ok(&files, &["--interval", "30s"]);
    assert_eq!(
        report["comparison"]["interval_source"],
        "uptime-since-restart"
    );
    assert_close(rate(&report, INVENTORY, "upstream_rq_timeout"), 0.25);
}

// ---------------------------------------------------------------------------------------------
// Istio's default stats inclusion

#[test]
fn default_inclusion_alone_says_not_collected_and_how_to_opt_in() {
    let files = ["order-svc/stats-default-inclusion.txt"];
    let report = json_ok(&files, &[]);
    assert_eq!(report["stats_collection"], "default-inclusion-only");
    let opt_in = report["stats_opt_in"].as_str().expect("stats_opt_in");
    for needle in [
        "proxy.istio.io/config",
        "proxyStatsMatcher",
        "inclusionRegexps",
    ] {
        assert!(opt_in.contains(needle), "{needle} in {opt_in}");
    }
    assert_eq!(cluster_names(&report), ["xds-grpc"]);
    assert_eq!(stat(&report, "xds-grpc", "upstream_cx_active"), 1);

    let text = text_ok(&files, &[]);
    assert!(
        text.contains("stats collection: DEFAULT INCLUSION ONLY."),
        "{text}"
    );
    assert!(text.contains("Cluster counters below are NOT COLLECTED"));
    for needle in [
        "        proxy.istio.io/config: |\n",
        "          proxyStatsMatcher:\n",
        "            inclusionRegexps:\n",
    ] {
        assert!(text.contains(needle), "{needle:?} in:\n{text}");
    }
    assert!(!text.contains(INVENTORY), "no inventory stats to show");
}

#[test]
fn default_inclusion_with_clusters_still_shows_per_host_counters() {
    let files = [
        "order-svc/stats-default-inclusion.txt",
        "order-svc/clusters.txt",
    ];
    let report = json_ok(&files, &[]);
    assert_eq!(report["stats_collection"], "default-inclusion-only");
    assert_eq!(clusters(&report).len(), 12);
    assert!(stats(&report, INVENTORY).is_empty(), "not collected, not 0");
    let endpoints = &cluster(&report, INVENTORY)["endpoints"];
    assert_eq!(endpoints["rq_timeout"], 449);
    assert_eq!(endpoints["rq_total"], 177910);
    assert_eq!(endpoints["healthy"], 3);

    let text = text_ok(&files, &[]);
    assert!(text.contains("NOT COLLECTED"));
    let inv = text_block(&text, INVENTORY);
    assert_line(inv, "  stats: cluster stats not collected");
    assert_line(
        inv,
        "  endpoints (/clusters): 3/3 healthy · 0 ejected · rq_total 177910 · rq_timeout 449 · rq_error 1494 · cx_connect_fail 0",
    );
    assert!(
        !inv.contains("upstream_rq_timeout"),
        "no table of zeros: {inv}"
    );
}

/// BUG (reported): the trouble ranking only looks at `/stats`, so without per-cluster stats
/// the cluster whose `/clusters` hosts show 449 route timeouts is listed after a quiet one.
#[test]

fn default_inclusion_with_clusters_lists_the_sick_cluster_first() {
    let files = [
        "order-svc/stats-default-inclusion.txt",
        "order-svc/clusters.txt",
    ];
    let report = json_ok(&files, &[]);
    assert_eq!(cluster_names(&report).first(), Some(&INVENTORY));
    let report = json_ok(&["order-svc/clusters.txt"], &[]);
    assert_eq!(cluster_names(&report).first(), Some(&INVENTORY));
}

// ---------------------------------------------------------------------------------------------
// Each kind alone

#[test]
fn each_kind_alone_is_detected_and_exits_0() {
    for (file, kind, collection) in [
        ("order-svc/stats-after.txt", "stats-text", "full"),
        ("order-svc/stats-after.json", "stats-json", "full"),
        ("order-svc/stats-prometheus.txt", "stats-prometheus", "full"),
        ("order-svc/stats-istio123.txt", "stats-text", "full"),
        ("order-svc/clusters.json", "clusters-json", "none"),
        ("order-svc/clusters.txt", "clusters-text", "none"),
        ("order-svc/config_dump.json", "config-dump", "none"),
        ("order-svc/server_info.json", "server-info", "none"),
    ] {
        let report = json_ok(&[file], &[]);
        assert_eq!(input_kinds(&report), [Some(kind)], "{file}");
        assert_eq!(report["stats_collection"], collection, "{file}");
        assert!(report.get("comparison").is_none(), "{file}: one capture");
        let text = text_ok(&[file], &[]);
        assert!(text.starts_with("meshtop inspect "), "{file}");
    }
}

#[test]
fn each_stats_kind_alone_has_the_inventory_numbers() {
    for file in [
        "order-svc/stats-after.txt",
        "order-svc/stats-after.json",
        "order-svc/stats-prometheus.txt",
        "order-svc/stats-istio123.txt",
    ] {
        let report = json_ok(&[file], &[]);
        assert_eq!(
            stat(&report, INVENTORY, "upstream_rq_timeout"),
            449,
            "{file}"
        );
        assert_eq!(
            stat(&report, INVENTORY, "upstream_rq_total"),
            177910,
            "{file}"
        );
        assert_eq!(stat(&report, INVENTORY, "upstream_rq_504"), 449, "{file}");
        assert_eq!(stat(&report, INVENTORY, "upstream_rq_5xx"), 470, "{file}");
        assert_eq!(stat(&report, INVENTORY, "membership_total"), 3, "{file}");
        assert_eq!(report["proxy"]["uptime_seconds"], 3630, "{file}");
        assert!(
            cluster(&report, INVENTORY).get("change").is_none(),
            "{file}"
        );
        assert!(
            cluster(&report, INVENTORY).get("endpoints").is_none(),
            "{file}"
        );
    }
    let istio123 = json_ok(&["order-svc/stats-istio123.txt"], &[]);
    assert_eq!(cluster_names(&istio123), [INVENTORY, "xds-grpc"]);
    assert_eq!(stat(&istio123, "xds-grpc", "upstream_cx_active"), 1);
    let after = json_ok(&["order-svc/stats-after.txt"], &[]);
    assert_eq!(clusters(&after).len(), 6, "clusters with stats");
}

#[test]
fn json_and_text_stats_of_the_same_state_are_identical() {
    let text = json_ok(&["order-svc/stats-after.txt"], &[]);
    let json = json_ok(&["order-svc/stats-after.json"], &[]);
    assert_eq!(cluster_names(&text), cluster_names(&json));
    for name in cluster_names(&text) {
        assert_eq!(stats(&text, name), stats(&json, name), "{name}");
        assert_eq!(
            cluster(&text, name)["upstream_rq_time_p99_ms"],
            cluster(&json, name)["upstream_rq_time_p99_ms"],
            "{name}"
        );
    }
    assert_eq!(stats(&json, INVENTORY).len(), 120);
    let istio123 = json_ok(&["order-svc/stats-istio123.txt"], &[]);
    for name in [INVENTORY, "xds-grpc"] {
        assert_eq!(stats(&istio123, name), stats(&text, name), "{name}");
    }
}

/// `?usedonly` Prometheus output has fewer stats, but each one it has equals the text value.
#[test]
fn prometheus_stats_agree_with_text_stats() {
    let text = json_ok(&["order-svc/stats-after.txt"], &[]);
    let prom = json_ok(&["order-svc/stats-prometheus.txt"], &[]);
    for name in [INVENTORY, PRICING] {
        let p = stats(&prom, name);
        assert!(p.len() > 30, "{name}: {} stats", p.len());
        for (suffix, value) in p {
            assert_eq!(
                stats(&text, name).get(suffix),
                Some(value),
                "{name}.{suffix}"
            );
        }
    }
    assert_eq!(stats(&prom, INVENTORY).len(), 57);
    assert_eq!(
        stat(
            &prom,
            INVENTORY,
            "circuit_breakers.default.remaining_cx_pools"
        ),
        18446744073709551609
    );
}

#[test]
fn clusters_text_and_json_give_the_same_endpoints() {
    let text = json_ok(&["order-svc/clusters.txt"], &[]);
    let json = json_ok(&["order-svc/clusters.json"], &[]);
    let mut names = cluster_names(&text);
    names.sort_unstable();
    let mut all = ALL_CLUSTERS.to_vec();
    all.sort_unstable();
    assert_eq!(names, all);
    for name in ALL_CLUSTERS {
        assert_eq!(
            cluster(&text, name)["endpoints"],
            cluster(&json, name)["endpoints"],
            "{name}"
        );
        assert!(stats(&text, name).is_empty(), "{name}: no /stats given");
    }
    assert_eq!(cluster(&json, INVENTORY)["endpoints"]["rq_timeout"], 449);
    assert_eq!(cluster(&json, ORDERS_DB)["endpoints"]["healthy"], 2);
}

#[test]
fn config_dump_and_server_info_alone() {
    let cd = json_ok(&["order-svc/config_dump.json"], &[]);
    assert_eq!(clusters(&cd).len(), 12);
    let cfg = &cluster(&cd, INVENTORY)["effective_config"];
    assert_eq!(cfg["connect_timeout_ms"], 2000);
    assert_eq!(cfg["routes"][0]["timeout_ms"], 1000);
    assert_eq!(
        cluster(&cd, PRICING)["effective_config"]["routes"][0]["timeout_ms"],
        Value::Null,
        "0s = no route timeout"
    );
    assert_eq!(
        cluster(&cd, "prometheus_stats")["effective_config"]["connect_timeout_ms"],
        250
    );
    assert!(cd.get("proxy").is_none());

    let si = json_ok(&["order-svc/server_info.json"], &[]);
    assert_eq!(si["proxy"]["envoy_version"], "1.30.4");
    assert_eq!(si["proxy"]["state"], "LIVE");
    assert_eq!(si["proxy"]["uptime_seconds"], 3630);
    assert_eq!(si["proxy"]["pod"], "order-svc-7d9f8b6c5-x2x4q");
    assert_eq!(si["proxy"]["namespace"], "prod");
    assert!(clusters(&si).is_empty());
    let text = text_ok(&["order-svc/server_info.json"], &[]);
    assert!(text.contains("no clusters in these captures"));
    assert!(text.contains("stats collection: no /stats capture given"));
}

// ---------------------------------------------------------------------------------------------
// Damaged and wrong inputs

#[test]
fn truncated_stats_warn_per_line_and_keep_the_valid_lines() {
    let file = "damaged/stats-truncated.txt";
    let path = common::sample(file).display().to_string();
    let report = json_ok(&[file], &[]);
    let warnings = report["inputs"][0]["warnings"].as_array().unwrap();
    let lines: Vec<u64> = warnings
        .iter()
        .map(|w| w["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [1, 5, 10, 14]);
    for (suffix, value) in [
        ("upstream_rq_504", 449),
        ("upstream_rq_timeout", 449),
        ("upstream_rq_retry", 1204),
        ("upstream_rq_active", 41),
        ("upstream_cx_destroy_with_active_rq", 111),
    ] {
        assert_eq!(stat(&report, INVENTORY, suffix), value, "{suffix}");
    }
    assert_eq!(report["proxy"]["uptime_seconds"], 3630);
    // The damaged lines' stats are absent, not 0.
    for damaged in [
        "upstream_rq_total",
        "upstream_cx_total",
        "upstream_cx_active",
    ] {
        assert!(
            !stats(&report, INVENTORY).contains_key(damaged),
            "{damaged}"
        );
    }

    let out = inspect(&[file], &[]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    for line in [1, 5, 10, 14] {
        assert!(
            text.contains(&format!("    warning: {path}:{line}: ")),
            "warning for line {line} in:\n{text}"
        );
    }
    assert!(text.contains("bad histogram token `P50(71,6`"), "{text}");
    let inv = text_block(&text, INVENTORY);
    assert_eq!(row(inv, "upstream_rq_total").0, NOT_COLLECTED);
    assert_eq!(row(inv, "upstream_rq_timeout").0, "449");
}

/// A file that cannot be parsed: exit 2, `meshtop: FILE:LINE: reason` on stderr, the input
/// marked unreadable in the text and with `error` (and no `kind`) in the JSON.
fn assert_unparseable(path: &Path, line: usize, reason: &str) {
    let shown = path.display().to_string();
    let out = inspect_paths(&[path.to_path_buf()], &[]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    let prefix = format!("meshtop: {shown}:{line}:");
    assert!(err.starts_with(&prefix), "expected {prefix:?} in:\n{err}");
    assert!(err.contains(reason), "expected {reason:?} in:\n{err}");
    assert_eq!(err.lines().count(), 1, "one error line:\n{err}");
    let text = stdout(&out);
    assert!(
        text.contains(&format!("  unreadable   {shown}\n")),
        "unreadable input listed in:\n{text}"
    );
    let out = inspect_paths(&[path.to_path_buf()], &["-o", "json"]);
    assert_exit(&out, 2);
    let report = parse_json(&out);
    let input = &report["inputs"][0];
    assert!(input.get("kind").is_none(), "{input}");
    let error = input["error"].as_str().expect("error");
    assert!(error.starts_with(&format!("{shown}:{line}:")), "{error}");
    assert!(error.contains(reason), "{error}");
}

#[test]
fn unparseable_inputs_exit_2_with_file_line_and_reason() {
    assert_unparseable(&common::sample("damaged/binary.bin"), 1, "binary data");
    assert_unparseable(
        &common::sample("damaged/not-envoy.txt"),
        1,
        "not an Envoy admin capture",
    );
    assert_unparseable(&common::sample("damaged"), 1, "is a directory");
    let dir = tempfile::tempdir().unwrap();
    assert_unparseable(&dir.path().join("missing.txt"), 1, "cannot read");
}

#[test]
fn broken_json_exits_2_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("stats-cut.json");
    std::fs::write(
        &cut,
        "{\n  \"stats\": [\n    {\"name\": \"server.uptime\", \"value\": 36\n",
    )
    .unwrap();
    assert_unparseable(&cut, 4, "EOF while parsing");
    let bad = dir.path().join("clusters-bad.json");
    std::fs::write(
        &bad,
        "{\n \"cluster_statuses\": [\n  {\"name\": \"x\",,}\n ]\n}\n",
    )
    .unwrap();
    assert_unparseable(&bad, 3, "key must be a string");
}

#[test]
fn empty_input_exits_2_and_says_empty() {
    let dir = tempfile::tempdir().unwrap();
    let blank = dir.path().join("blank.txt");
    std::fs::write(&blank, "\n\n   \n").unwrap();
    for path in [common::sample("damaged/empty.txt"), blank] {
        let out = inspect_paths(std::slice::from_ref(&path), &[]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("meshtop: {}:", path.display())),
            "{err}"
        );
        assert!(err.contains("empty"), "{err}");
    }
}

/// BUG (reported): `ParseError::Empty` renders as `capture: empty input`, so stderr reads
/// `FILE:capture: empty input` instead of `FILE:LINE: reason` as docs/INSPECT-JSON.md promises.
#[test]

fn empty_input_error_has_file_line_prefix() {
    assert_unparseable(&common::sample("damaged/empty.txt"), 1, "empty");
}

#[test]
fn a_bad_file_among_good_ones_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"stats\": [\n").unwrap();
    let mut paths: Vec<PathBuf> = vec![common::sample("damaged/binary.bin")];
    paths.extend(INCIDENT.iter().take(2).map(|f| common::sample(f)));
    paths.push(broken.clone());
    paths.extend(INCIDENT.iter().skip(2).map(|f| common::sample(f)));

    let out = inspect_paths(&paths, &["-o", "json"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.contains(&format!("meshtop: {}:1: binary data", paths[0].display())));
    assert!(err.contains(&format!("meshtop: {}:", broken.display())));
    let report = parse_json(&out);
    assert_eq!(
        input_kinds(&report),
        [
            None,
            Some("stats-text"),
            Some("stats-text"),
            None,
            Some("clusters-text"),
            Some("config-dump"),
            Some("server-info")
        ]
    );
    assert_eq!(
        report["comparison"]["interval_seconds"].as_f64(),
        Some(30.0)
    );
    assert_eq!(clusters(&report).len(), 12);
    assert_eq!(cluster_names(&report).first(), Some(&INVENTORY));
    assert_eq!(delta(&report, INVENTORY, "upstream_rq_timeout"), 37);
    assert_eq!(cluster(&report, INVENTORY)["endpoints"]["rq_timeout"], 449);
    assert_eq!(
        cluster(&report, INVENTORY)["effective_config"]["connect_timeout_ms"],
        2000
    );

    let out = inspect_paths(&paths, &[]);
    assert_exit(&out, 2);
    let text = stdout(&out);
    let inv = text_block(&text, INVENTORY);
    assert_eq!(row(inv, "upstream_rq_timeout"), cells("449", "+37", "1.23"));
    assert!(inv.contains("circuit breakers: max_connections 100 ·"));
}

// ---------------------------------------------------------------------------------------------
// --cluster, demo, usage

#[test]
fn cluster_flag_filters_by_name() {
    let report = json_ok(&INCIDENT, &["--cluster", "inventory"]);
    assert_eq!(cluster_names(&report), [INVENTORY]);
    assert_eq!(delta(&report, INVENTORY, "upstream_rq_timeout"), 37);
    let report = json_ok(&INCIDENT, &["--cluster", "|v2|"]);
    assert_eq!(cluster_names(&report), [PRICING]);

    let text = text_ok(&INCIDENT, &["--cluster", "inventory"]);
    let names: Vec<&str> = text_blocks(&text).iter().map(|(n, _)| *n).collect();
    assert_eq!(names, [INVENTORY]);
    assert!(text.contains("  /stats       "), "inputs still listed");
}

/// UX (reported): a filter that matches nothing prints "no clusters in these captures",
/// although the captures hold 12 clusters.
#[test]

fn cluster_flag_without_match_names_the_filter() {
    let text = text_ok(&INCIDENT, &["--cluster", "no-such-service"]);
    assert!(!text.contains("no clusters in these captures"), "{text}");
    assert!(text.contains("no-such-service"), "{text}");
}

#[test]
fn demo_prints_the_inventory_block() {
    let out = meshtop(&["demo".as_ref(), "--captures".as_ref()]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert_eq!(text_blocks(&text).first().map(|(n, _)| *n), Some(INVENTORY));
    let inv = text_block(&text, INVENTORY);
    assert_eq!(row(inv, "upstream_rq_timeout"), cells("449", "+37", "1.23"));
    assert_line(
        inv,
        "  upstream_rq_time p99 (since start)                  1402 ms",
    );
    assert!(stderr(&out).starts_with("meshtop demo: "));

    let out = meshtop(&[
        "demo".as_ref(),
        "--captures".as_ref(),
        "-o".as_ref(),
        "json".as_ref(),
    ]);
    assert_exit(&out, 0);
    let demo = parse_json(&out);
    let inspected = json_ok(&INCIDENT, &[]);
    assert_eq!(
        demo["clusters"], inspected["clusters"],
        "demo = inspect on the files"
    );
    assert_eq!(demo["proxy"], inspected["proxy"]);
    assert_eq!(demo["comparison"]["interval_seconds"].as_f64(), Some(30.0));
}

#[test]
fn inspect_without_files_or_with_bad_flags_prints_usage() {
    let out = meshtop(&["inspect".as_ref()]);
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(err.contains("Usage: meshtop inspect"), "{err}");
    assert!(err.contains("<FILE>"), "{err}");
    assert!(out.stdout.is_empty());

    let after = common::sample("order-svc/stats-after.txt");
    for (flag, value, needle) in [
        ("--interval", "0s", "invalid interval"),
        ("--interval", "30x", "invalid interval"),
        ("--output", "yaml", "yaml"),
    ] {
        let out = meshtop(&[
            "inspect".as_ref(),
            after.as_os_str(),
            flag.as_ref(),
            value.as_ref(),
        ]);
        assert_ne!(out.status.code(), Some(0), "{flag} {value}");
        assert!(
            stderr(&out).contains(needle),
            "{flag} {value}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{flag} {value}");
    }
}

#[test]
fn inspect_prints_the_findings_the_captures_support() {
    let text = text_ok(&INCIDENT, &[]);
    let findings = text
        .split("\nfindings (")
        .nth(1)
        .expect("a findings section");
    assert!(findings.starts_with("2):"), "{findings}");
    assert!(
        findings.contains("CRITICAL R1  inventory-svc.prod:8080: 37 of 1500 calls (2.5%) timed out at the 1s route timeout"),
        "{findings}"
    );
    assert!(
        findings.contains("upstream_rq_timeout        +37 in 30s (1.23/s)"),
        "{findings}"
    );
    assert!(
        findings.contains(
            "$ istioctl proxy-config route order-svc-7d9f8b6c5-x2x4q.prod --name 8080 -o json"
        ),
        "{findings}"
    );
    let json = json_ok(&INCIDENT, &[]);
    assert_eq!(json["findings"][0]["rule"], "R1");
    assert_eq!(json["findings"][0]["severity"], "critical");
}
