//! `meshtop check --output json` end to end, per simulator scenario: the built binary runs
//! `meshtop sim` (simulated time 20× real time) and `meshtop check` against it through the
//! real kube-rs path, and the findings and exit codes are what each scenario's story promises
//! (docs/SCENARIOS.md, HINTS.md).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_meshtop");
const INV: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";

/// A running `meshtop sim`, killed on drop.
struct Sim {
    child: Child,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sim(scenario: &str, extra: &[&str]) -> Sim {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("k.yaml");
    let child = Command::new(BIN)
        .args([
            "sim",
            "--scenario",
            scenario,
            "--speed",
            "20",
            "--write-kubeconfig",
        ])
        .arg(&kubeconfig)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !kubeconfig.is_file() {
        assert!(Instant::now() < deadline, "meshtop sim wrote no kubeconfig");
        std::thread::sleep(Duration::from_millis(20));
    }
    Sim {
        child,
        kubeconfig,
        _dir: dir,
    }
}

/// Runs `meshtop check` for a 3 s window (one simulated minute) and returns (exit code, JSON).
fn check(kubeconfig: &Path) -> (i32, Value) {
    let out = Command::new(BIN)
        .args([
            "check",
            "-n",
            "prod",
            "--window",
            "3s",
            "--interval",
            "250ms",
            "-o",
            "json",
        ])
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn findings<'a>(json: &'a Value, rule: &str) -> Vec<&'a Value> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn evidence_text(f: &Value) -> String {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} = {}",
                e["name"].as_str().unwrap(),
                e["value"].as_str().unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn rules(json: &Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {} {}", f["rule"], f["severity"], f["title"]))
        .collect()
}

#[test]
fn grpc_keepalive_gives_r1_with_the_vs_timeout_and_p99_and_r11_with_the_idle_timeout() {
    let sim = start_sim("grpc-keepalive", &[]);
    let (code, json) = check(&sim.kubeconfig);
    let all = rules(&json);
    let r1 = findings(&json, "R1");
    let r1 = r1
        .iter()
        .find(|f| f["cluster"] == INV)
        .unwrap_or_else(|| panic!("no R1 on inventory: {all:#?}"));
    let ev = evidence_text(r1);
    assert!(
        ev.contains("VirtualService prod/inventory-svc") && ev.contains("= 1s"),
        "{ev}"
    );
    assert!(ev.contains("upstream_rq_time p99"), "{ev}");
    assert!(ev.contains("upstream_rq_timeout = +"), "{ev}");
    let r11 = findings(&json, "R11");
    let r11 = r11.first().unwrap_or_else(|| panic!("no R11: {all:#?}"));
    let ev11 = evidence_text(r11);
    assert!(
        ev11.contains("idleTimeout") && ev11.contains("1h"),
        "{ev11}"
    );
    assert_eq!(code, 2, "critical timeouts: {all:#?}");
    assert_eq!(json["exit_code"], 2);
    // pricing-svc and orders-db are healthy: nothing above info about them.
    for f in json["findings"].as_array().unwrap() {
        let target = f["target"].as_str().unwrap();
        if target.contains("pricing") || target.contains("orders-db") {
            assert_eq!(f["severity"], "info", "{f}");
        }
    }
}

#[test]
fn circuit_breaker_gives_r6() {
    let sim = start_sim("circuit-breaker", &[]);
    let (code, json) = check(&sim.kubeconfig);
    assert!(!findings(&json, "R6").is_empty(), "{:#?}", rules(&json));
    assert!(code >= 1, "{code}");
}

#[test]
fn mtls_mismatch_gives_r10() {
    let sim = start_sim("mtls-mismatch", &[]);
    let (code, json) = check(&sim.kubeconfig);
    assert!(!findings(&json, "R10").is_empty(), "{:#?}", rules(&json));
    assert!(code >= 1, "{code}");
}

#[test]
fn no_healthy_upstream_gives_r16() {
    let sim = start_sim("no-healthy-upstream", &[]);
    let (code, json) = check(&sim.kubeconfig);
    assert!(!findings(&json, "R16").is_empty(), "{:#?}", rules(&json));
    assert!(code >= 1, "{code}");
}

#[test]
fn outlier_ejection_gives_r14() {
    let sim = start_sim("outlier-ejection", &[]);
    let (_, json) = check(&sim.kubeconfig);
    assert!(!findings(&json, "R14").is_empty(), "{:#?}", rules(&json));
}

#[test]
fn stats_not_enabled_gives_r0_and_claims_no_zero_errors() {
    let sim = start_sim("stats-not-enabled", &[]);
    let (_, json) = check(&sim.kubeconfig);
    let r0 = findings(&json, "R0");
    assert!(!r0.is_empty(), "{:#?}", rules(&json));
    let text = serde_json::to_string(&json["findings"]).unwrap();
    assert!(
        text.contains("proxyStatsMatcher"),
        "R0 gives the opt-in: {text}"
    );
    // No finding may quote a cluster stat counter as evidence: none was collected.
    for f in json["findings"].as_array().unwrap() {
        for e in f["evidence"].as_array().unwrap() {
            let name = e["name"].as_str().unwrap();
            assert!(
                !(e["kind"] == "counter" && name.starts_with("upstream_")),
                "claims a cluster stat that was not collected: {f}"
            );
        }
    }
}

#[test]
fn healthy_exits_0_with_nothing_above_info() {
    let sim = start_sim("healthy", &[]);
    let (code, json) = check(&sim.kubeconfig);
    for f in json["findings"].as_array().unwrap() {
        assert_eq!(f["severity"], "info", "{f}");
    }
    assert_eq!(code, 0, "{:#?}", rules(&json));
}

#[test]
fn rbac_denial_exits_3_naming_the_permission() {
    let sim = start_sim("healthy", &["--deny-portforward"]);
    let (code, json) = check(&sim.kubeconfig);
    assert_eq!(code, 3);
    let reason = json["not_collected"].as_str().unwrap();
    assert!(
        reason.contains("create pods/portforward in prod"),
        "{reason}"
    );
}

#[test]
fn an_unreachable_api_server_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("k.yaml");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:9'}\n\
         contexts:\n- name: c\n  context: {cluster: c, user: u, namespace: prod}\ncurrent-context: c\n\
         users:\n- name: u\n  user: {token: t}\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["check", "-n", "prod", "--window", "1s", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("127.0.0.1:9"), "{stderr}");
}
