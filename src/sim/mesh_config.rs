//! The Istio objects of a scenario as the Kubernetes API serves them (`apiVersion`, `kind`,
//! `metadata`, `spec`): one DestinationRule per [`PolicySpec`] and one VirtualService per
//! edge that needs one (a timeout, disabled retries or a subset route).
//!
//! They are written from the same [`Scenario`] values the traffic model obeys, so what the
//! client reads from the API always explains the counters it scrapes.

use serde_json::{Map, Value, json};

use super::scenario::{EdgeSpec, PolicySpec, Scenario};

/// The namespace the app (and every Istio object of a scenario) lives in.
pub const APP_NAMESPACE: &str = "prod";

/// When the simulated objects were created (fixed: the world has no wall clock).
const CREATED: &str = "2026-01-05T09:00:00Z";

/// A Go-style duration string (`1h`, `30s`, `250ms`) as people write them in CRDs.
pub fn duration_text(ms: u64) -> String {
    if ms > 0 && ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms > 0 && ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn metadata(name: &str, index: usize) -> Value {
    json!({
        "name": name,
        "namespace": APP_NAMESPACE,
        "uid": format!("5e1d0c3a-0000-4000-8000-{:012x}", 0xd00 + index),
        "resourceVersion": (1000 + index).to_string(),
        "generation": 1,
        "creationTimestamp": CREATED,
    })
}

fn object(kind: &str, name: &str, index: usize, spec: Value) -> Value {
    json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": kind,
        "metadata": metadata(name, index),
        "spec": spec,
    })
}

/// `trafficPolicy` of a DR; `None` when the DR sets none.
fn traffic_policy(p: &PolicySpec) -> Option<Value> {
    let mut policy = Map::new();
    let mut tcp = Map::new();
    let mut http = Map::new();
    if let Some(n) = p.max_connections {
        tcp.insert("maxConnections".into(), json!(n));
    }
    if let Some(n) = p.max_pending {
        http.insert("http1MaxPendingRequests".into(), json!(n));
    }
    if let Some(ms) = p.idle_timeout_ms {
        http.insert("idleTimeout".into(), json!(duration_text(ms)));
    }
    let mut pool = Map::new();
    if !tcp.is_empty() {
        pool.insert("tcp".into(), Value::Object(tcp));
    }
    if !http.is_empty() {
        pool.insert("http".into(), Value::Object(http));
    }
    if !pool.is_empty() {
        policy.insert("connectionPool".into(), Value::Object(pool));
    }
    if let Some(o) = p.outlier {
        let od = json!({
            "consecutive5xxErrors": o.consecutive_5xx,
            "interval": duration_text(o.interval_ms),
            "baseEjectionTime": duration_text(o.base_ejection_ms),
            "maxEjectionPercent": o.max_ejection_percent,
        });
        policy.insert("outlierDetection".into(), od);
    }
    if p.tls_disable {
        policy.insert("tls".into(), json!({"mode": "DISABLE"}));
    }
    (!policy.is_empty()).then_some(Value::Object(policy))
}

fn destination_rule(p: &PolicySpec, index: usize) -> Value {
    let mut spec = Map::new();
    spec.insert("host".into(), json!(p.host));
    if let Some(tp) = traffic_policy(p) {
        spec.insert("trafficPolicy".into(), tp);
    }
    if !p.subsets.is_empty() {
        let subsets: Vec<Value> = (p.subsets.iter())
            .map(|s| json!({"name": s, "labels": {"version": s}}))
            .collect();
        spec.insert("subsets".into(), Value::Array(subsets));
    }
    object("DestinationRule", p.host, index, Value::Object(spec))
}

/// Whether an edge's traffic needs a VirtualService to behave as the scenario says.
pub(super) fn needs_virtual_service(e: &EdgeSpec) -> bool {
    e.timeout_ms.is_some() || e.retries_disabled || e.subset.is_some()
}

fn virtual_service(e: &EdgeSpec, port: u16, index: usize) -> Value {
    let mut destination = json!({"host": e.to, "port": {"number": port}});
    if let Some(subset) = e.subset {
        destination["subset"] = json!(subset);
    }
    let mut route = Map::new();
    route.insert("route".into(), json!([{"destination": destination}]));
    if let Some(ms) = e.timeout_ms {
        route.insert("timeout".into(), json!(duration_text(ms)));
    }
    if e.retries_disabled {
        route.insert("retries".into(), json!({"attempts": 0}));
    }
    let spec = json!({"hosts": [e.to], "http": [Value::Object(route)]});
    object("VirtualService", e.to, index, spec)
}

/// Every DestinationRule of the scenario.
pub fn destination_rules(s: &Scenario) -> Vec<Value> {
    (s.policies.iter().enumerate())
        .map(|(i, p)| destination_rule(p, i))
        .collect()
}

/// Every VirtualService of the scenario (one per routed destination).
pub fn virtual_services(s: &Scenario) -> Vec<Value> {
    let mut out = Vec::new();
    for e in s.edges.iter().filter(|e| needs_virtual_service(e)) {
        let port = s
            .service_index(e.to)
            .and_then(|i| s.services.get(i))
            .map_or(80, |svc| svc.port);
        out.push(virtual_service(e, port, 100 + out.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::ScenarioName;

    #[test]
    fn durations_use_the_largest_whole_unit() {
        assert_eq!(duration_text(3_600_000), "1h");
        assert_eq!(duration_text(1000), "1s");
        assert_eq!(duration_text(30_000), "30s");
        assert_eq!(duration_text(250), "250ms");
        assert_eq!(duration_text(0), "0ms");
    }

    #[test]
    fn grpc_keepalive_objects_carry_the_scenario_values() {
        let s = Scenario::build(ScenarioName::GrpcKeepalive);
        let drs = destination_rules(&s);
        assert_eq!(drs.len(), 2);
        assert_eq!(drs[0]["kind"], "DestinationRule");
        assert_eq!(drs[0]["spec"]["host"], "inventory-svc");
        assert_eq!(
            drs[0]["spec"]["trafficPolicy"]["connectionPool"]["http"]["idleTimeout"],
            "1h"
        );
        assert_eq!(
            drs[1]["spec"]["subsets"][1],
            json!({"name": "v2", "labels": {"version": "v2"}})
        );
        assert!(drs[1]["spec"].get("trafficPolicy").is_none());
        let vss = virtual_services(&s);
        assert_eq!(vss.len(), 2);
        assert_eq!(vss[0]["spec"]["http"][0]["timeout"], "1s");
        assert_eq!(vss[0]["spec"]["http"][0]["retries"]["attempts"], 0);
        assert_eq!(
            vss[0]["spec"]["http"][0]["route"][0]["destination"]["port"]["number"],
            8080
        );
        assert_eq!(
            vss[1]["spec"]["http"][0]["route"][0]["destination"]["subset"],
            "v2"
        );
        assert_eq!(vss[1]["metadata"]["namespace"], "prod");
    }

    #[test]
    fn fault_scenarios_write_their_policy() {
        let cb = destination_rules(&Scenario::build(ScenarioName::CircuitBreaker));
        let pool = &cb[1]["spec"]["trafficPolicy"]["connectionPool"];
        assert_eq!(pool["tcp"]["maxConnections"], 1);
        assert_eq!(pool["http"]["http1MaxPendingRequests"], 1);
        let tls = destination_rules(&Scenario::build(ScenarioName::MtlsMismatch));
        assert_eq!(tls[1]["spec"]["trafficPolicy"]["tls"]["mode"], "DISABLE");
        let od = destination_rules(&Scenario::build(ScenarioName::OutlierEjection));
        let o = &od[0]["spec"]["trafficPolicy"]["outlierDetection"];
        assert_eq!(o["consecutive5xxErrors"], 5);
        assert_eq!(o["baseEjectionTime"], "30s");
    }
}
