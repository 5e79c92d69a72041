//! The objects of a `/clusters?format=json` document (clusters, circuit-breaker thresholds,
//! hosts and their stats, addresses, health flags) and how each becomes the model's
//! [`ClusterStatus`]. Every key accepts its snake_case and camelCase spelling; proto3 JSON
//! leaves out default values. Reading the document around them is `json`'s part.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::MapAccess;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{
    CircuitThresholds, ClusterStatus, HealthFlags, HostStatus, RoutingPriority, known_rate,
};
use crate::envoy::error::json_type_name;

/// A cluster with its circuit-breaker thresholds `T` and hosts `H` typed or left raw.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>, H: Deserialize<'de>"))]
pub(super) struct JsonCluster<T, H> {
    pub(super) name: String,
    #[serde(default, alias = "addedViaApi")]
    added_via_api: bool,
    #[serde(default, alias = "successRateEjectionThreshold")]
    success_rate_ejection_threshold: Option<JsonPercent>,
    #[serde(default, alias = "localOriginSuccessRateEjectionThreshold")]
    local_origin_success_rate_ejection_threshold: Option<JsonPercent>,
    #[serde(default = "Option::default", alias = "circuitBreakers")]
    circuit_breakers: Option<JsonCircuitBreakers<T>>,
    #[serde(default = "Vec::new", alias = "hostStatuses")]
    host_statuses: Vec<H>,
}

pub(super) type TypedCluster<'a> = JsonCluster<JsonThreshold, JsonHost<'a>>;
pub(super) type RawCluster<'a> = JsonCluster<&'a RawValue, &'a RawValue>;

/// `envoy.type.v3.Percent`: `{"value": 99.5}`.
#[derive(Deserialize)]
struct JsonPercent {
    #[serde(default)]
    value: f64,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct JsonCircuitBreakers<T> {
    #[serde(default = "Vec::new")]
    thresholds: Vec<T>,
}

#[derive(Deserialize)]
pub(super) struct JsonThreshold {
    #[serde(default)]
    priority: Option<Value>,
    #[serde(default, alias = "maxConnections")]
    max_connections: Option<Value>,
    #[serde(default, alias = "maxPendingRequests")]
    max_pending_requests: Option<Value>,
    #[serde(default, alias = "maxRequests")]
    max_requests: Option<Value>,
    #[serde(default, alias = "maxRetries")]
    max_retries: Option<Value>,
}

#[derive(Deserialize)]
pub(super) struct JsonHost<'a> {
    address: Option<JsonAddress>,
    #[serde(default, borrow)]
    stats: Vec<JsonStat<'a>>,
    #[serde(default, alias = "healthStatus")]
    health_status: Map<String, Value>,
    #[serde(default)]
    weight: Option<u32>,
    #[serde(default)]
    priority: Option<u32>,
    #[serde(default)]
    hostname: String,
    #[serde(default)]
    locality: JsonLocality,
    #[serde(default, alias = "successRate")]
    success_rate: Option<JsonPercent>,
    #[serde(default, alias = "localOriginSuccessRate")]
    local_origin_success_rate: Option<JsonPercent>,
}

#[derive(Deserialize, Default)]
struct JsonLocality {
    #[serde(default)]
    region: String,
    #[serde(default)]
    zone: String,
    #[serde(default, alias = "subZone")]
    sub_zone: String,
}

/// `{"name": "rq_total", "value": "72", "type": "GAUGE"}`; uint64 values are JSON strings.
/// Read without an allocation per stat (about ten per host): the name borrowed from the
/// document, the value read straight into a number.
#[derive(Deserialize)]
struct JsonStat<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(default)]
    value: Option<JsonCount>,
}

/// A stat value as [`count`] reads it (a number, a number in a string, an object with
/// `value`, `null` for 0), read directly from the document rather than from a `Value`. A
/// value that is not a count is kept as the message [`count`] gives, so a bad stat costs only
/// itself.
#[derive(Debug, PartialEq)]
enum JsonCount {
    Count(u64),
    Bad(String),
}

impl JsonCount {
    fn into_result(self) -> Result<u64, String> {
        match self {
            JsonCount::Count(v) => Ok(v),
            JsonCount::Bad(e) => Err(e),
        }
    }
}

fn not_a_count(found: impl std::fmt::Display) -> JsonCount {
    JsonCount::Bad(format!("expected a non-negative integer, found {found}"))
}

impl<'de> Deserialize<'de> for JsonCount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CountVisitor)
    }
}

struct CountVisitor;

impl<'de> serde::de::Visitor<'de> for CountVisitor {
    type Value = JsonCount;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a count")
    }

    fn visit_u64<E>(self, v: u64) -> Result<JsonCount, E> {
        Ok(JsonCount::Count(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<JsonCount, E> {
        Ok(u64::try_from(v).map_or_else(|_| not_a_count(v), JsonCount::Count))
    }

    fn visit_f64<E>(self, v: f64) -> Result<JsonCount, E> {
        // Printed as `serde_json` prints the number (`1.5`, `1e20`).
        Ok(match serde_json::Number::from_f64(v) {
            Some(n) => not_a_count(n),
            None => not_a_count(v),
        })
    }

    fn visit_str<E>(self, s: &str) -> Result<JsonCount, E> {
        Ok(match s.trim().parse() {
            Ok(v) => JsonCount::Count(v),
            Err(_) => not_a_count(format_args!("{:?}", super::clip(s))),
        })
    }

    fn visit_unit<E>(self) -> Result<JsonCount, E> {
        Ok(JsonCount::Count(0))
    }

    fn visit_bool<E>(self, _: bool) -> Result<JsonCount, E> {
        Ok(not_a_count("a boolean"))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<JsonCount, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(not_a_count("an array"))
    }

    /// `{"value": …}` (the last `value` when repeated, as a JSON object keeps it); 0 without.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonCount, A::Error> {
        let mut count = JsonCount::Count(0);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "value" => count = map.next_value()?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(count)
    }
}

#[derive(Deserialize)]
struct JsonAddress {
    #[serde(default, alias = "socketAddress")]
    socket_address: Option<JsonSocketAddress>,
    #[serde(default)]
    pipe: Option<JsonPipe>,
    #[serde(default, alias = "envoyInternalAddress")]
    envoy_internal_address: Option<JsonInternalAddress>,
}

#[derive(Deserialize)]
struct JsonSocketAddress {
    #[serde(default)]
    address: String,
    #[serde(default, alias = "portValue")]
    port_value: u32,
}

#[derive(Deserialize)]
struct JsonPipe {
    #[serde(default)]
    path: String,
}

#[derive(Deserialize)]
struct JsonInternalAddress {
    #[serde(default, alias = "serverListenerName")]
    server_listener_name: String,
    #[serde(default, alias = "endpointId")]
    endpoint_id: String,
}

/// The cluster's status; `threshold` and `host` read its items (typed already, or raw).
pub(super) fn cluster_from_json<'a, T, H>(
    cluster: JsonCluster<T, H>,
    threshold: impl Fn(T) -> Result<JsonThreshold, String>,
    host: impl Fn(H) -> Result<JsonHost<'a>, String>,
    report: &mut dyn FnMut(String),
) -> ClusterStatus {
    let mut status = ClusterStatus::new(&cluster.name);
    let name = &cluster.name;
    status.added_via_api = Some(cluster.added_via_api);
    status.outlier.success_rate_ejection_threshold = cluster
        .success_rate_ejection_threshold
        .and_then(|p| known_rate(p.value));
    status.outlier.local_origin_success_rate_ejection_threshold = cluster
        .local_origin_success_rate_ejection_threshold
        .and_then(|p| known_rate(p.value));
    let thresholds = cluster
        .circuit_breakers
        .map(|c| c.thresholds)
        .unwrap_or_default();
    for (index, raw) in thresholds.into_iter().enumerate() {
        match threshold(raw).and_then(threshold_from_json) {
            Ok(t) => status.thresholds.push(t),
            Err(e) => report(format!(
                "cluster {name:?}: circuit_breakers.thresholds[{index}] skipped: {e}"
            )),
        }
    }
    for (index, raw) in cluster.host_statuses.into_iter().enumerate() {
        let mut host_report =
            |e: String| report(format!("cluster {name:?}: host_statuses[{index}]: {e}"));
        match host(raw).and_then(|h| host_from_json(h, &mut host_report)) {
            Ok(host) => status.hosts.push(host),
            Err(e) => host_report(format!("skipped: {e}")),
        }
    }
    status
}

fn threshold_from_json(t: JsonThreshold) -> Result<CircuitThresholds, String> {
    let priority = match &t.priority {
        None => RoutingPriority::Default,
        Some(Value::String(p)) if p == "DEFAULT" => RoutingPriority::Default,
        Some(Value::String(p)) if p == "HIGH" => RoutingPriority::High,
        Some(Value::Number(n)) if n.as_u64() == Some(0) => RoutingPriority::Default,
        Some(Value::Number(n)) if n.as_u64() == Some(1) => RoutingPriority::High,
        Some(other) => return Err(format!("unknown priority {other}")),
    };
    let limit = |v: Option<Value>| v.as_ref().map(count).transpose();
    Ok(CircuitThresholds {
        priority,
        max_connections: limit(t.max_connections)?,
        max_pending_requests: limit(t.max_pending_requests)?,
        max_requests: limit(t.max_requests)?,
        max_retries: limit(t.max_retries)?,
    })
}

/// One host. A stat with a bad value is reported and skipped; the rest of the host is kept.
fn host_from_json(h: JsonHost<'_>, report: &mut dyn FnMut(String)) -> Result<HostStatus, String> {
    let address = h.address.ok_or("no address")?;
    let mut host = HostStatus::new(&address_text(address)?);
    for stat in h.stats {
        // Envoy leaves out `value` when it is 0.
        match stat.value.map_or(Ok(0), JsonCount::into_result) {
            Ok(value) => host.stats.set(&stat.name, value),
            Err(e) => report(format!("stat {:?} skipped: {e}", stat.name)),
        }
    }
    host.health = health_from_json(&h.health_status);
    host.weight = h.weight;
    // Proto3 leaves out priority 0, the usual value.
    host.priority = Some(h.priority.unwrap_or(0));
    host.hostname = h.hostname;
    host.region = h.locality.region;
    host.zone = h.locality.zone;
    host.sub_zone = h.locality.sub_zone;
    host.success_rate = h.success_rate.and_then(|p| known_rate(p.value));
    host.local_origin_success_rate = h
        .local_origin_success_rate
        .and_then(|p| known_rate(p.value));
    Ok(host)
}

/// The address as Envoy's text format prints it: `ip:port`, `[ipv6]:port`, a pipe path, or
/// `envoy://listener/endpoint` for an internal address.
fn address_text(address: JsonAddress) -> Result<String, String> {
    if let Some(socket) = address.socket_address {
        let ip = socket.address;
        return Ok(if ip.contains(':') {
            format!("[{ip}]:{}", socket.port_value)
        } else {
            format!("{ip}:{}", socket.port_value)
        });
    }
    if let Some(pipe) = address.pipe {
        return Ok(pipe.path);
    }
    if let Some(internal) = address.envoy_internal_address {
        return Ok(format!(
            "envoy://{}/{}",
            internal.server_listener_name, internal.endpoint_id
        ));
    }
    Err("address has no socket_address, pipe or envoy_internal_address".to_string())
}

/// `health_status` to flags. Keys are compared in snake_case; a `true` key this version does
/// not know ends up in `other`, so a new Envoy flag is shown rather than dropped.
fn health_from_json(status: &Map<String, Value>) -> HealthFlags {
    let mut flags = HealthFlags::default();
    for (key, value) in status {
        let key = snake_case(key);
        match key.as_str() {
            "eds_health_status" => apply_eds_status(&mut flags, value),
            "failed_active_health_check" if value == &Value::Bool(true) => {
                flags.set("failed_active_hc")
            }
            "failed_active_degraded_check" if value == &Value::Bool(true) => {
                flags.set("degraded_active_hc");
            }
            _ if value == &Value::Bool(true) => flags.set(&key),
            _ => {}
        }
    }
    flags
}

/// `eds_health_status` (`config.core.v3.HealthStatus`), by name or by enum number.
fn apply_eds_status(flags: &mut HealthFlags, value: &Value) {
    let name = match value {
        Value::String(s) => s.as_str(),
        Value::Number(n) => match n.as_u64() {
            Some(0) => "UNKNOWN",
            Some(1) => "HEALTHY",
            Some(2) => "UNHEALTHY",
            Some(3) => "DRAINING",
            Some(4) => "TIMEOUT",
            Some(5) => "DEGRADED",
            _ => "",
        },
        _ => "",
    };
    match name {
        "UNKNOWN" | "HEALTHY" => {}
        // Envoy treats an EDS timeout as unhealthy.
        "UNHEALTHY" | "TIMEOUT" => flags.failed_eds_health = true,
        "DRAINING" => flags.eds_status_draining = true,
        "DEGRADED" => flags.degraded_eds_health = true,
        _ => flags.other.push(format!("eds_health_status={value}")),
    }
}

/// A uint64 as proto3 JSON writes it: a string (`"72"`), or a number; a wrapper object
/// `{"value": n}` is accepted too.
fn count(value: &Value) -> Result<u64, String> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| format!("expected a non-negative integer, found {n}")),
        Value::String(s) => s.trim().parse().map_err(|_| {
            format!(
                "expected a non-negative integer, found {:?}",
                super::clip(s)
            )
        }),
        Value::Object(o) => o.get("value").map_or(Ok(0), count),
        Value::Null => Ok(0),
        other => Err(format!(
            "expected a non-negative integer, found {}",
            json_type_name(other)
        )),
    }
}

/// `edsHealthStatus` → `eds_health_status`; snake_case keys are returned unchanged.
fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_value_read_directly_equals_the_value_read_through_a_value_tree() {
        let values = [
            "72",
            "0",
            "18446744073709551615",
            "-5",
            "1.5",
            "1e20",
            "\"72\"",
            "\" 9 \"",
            "\"\"",
            "\"12x\"",
            "\"18446744073709551616\"",
            &format!("\"{}\"", "9".repeat(300)),
            "null",
            "true",
            "[1, 2]",
            "{\"value\": \"3\"}",
            "{\"value\": 4, \"type\": \"GAUGE\"}",
            "{\"value\": 1, \"value\": 2}",
            "{\"type\": \"GAUGE\"}",
            "{\"value\": {\"value\": \"6\"}}",
            "{\"value\": -1}",
        ];
        for text in values {
            let tree: Value = serde_json::from_str(text).unwrap();
            let direct: JsonCount = serde_json::from_str(text).unwrap();
            assert_eq!(direct.into_result(), count(&tree), "{text}");
        }
        // A stat object without `value` (Envoy leaves out 0) and with escapes in its name.
        let stat: JsonStat = serde_json::from_str(r#"{"name": "rq_\u0074otal"}"#).unwrap();
        assert_eq!((stat.name.as_ref(), stat.value), ("rq_total", None));
    }

    #[test]
    fn health_status_variants() {
        let health = |json: &str| {
            let map: Map<String, Value> = serde_json::from_str(json).unwrap();
            health_from_json(&map)
        };
        assert!(health(r#"{"eds_health_status": "HEALTHY"}"#).is_healthy());
        assert!(health(r#"{}"#).is_healthy());
        assert!(health(r#"{"edsHealthStatus": "TIMEOUT"}"#).failed_eds_health);
        assert!(health(r#"{"eds_health_status": "DRAINING"}"#).eds_status_draining);
        assert!(health(r#"{"eds_health_status": 5}"#).is_degraded());
        let flags = health(
            r#"{"failedActiveHealthCheck": true, "activeHcTimeout": true, "pendingDynamicRemoval": true, "failed_active_degraded_check": true}"#,
        );
        assert!(
            flags.failed_active_hc
                && flags.active_hc_timeout
                && flags.pending_dynamic_removal
                && flags.degraded_active_hc
        );
        assert_eq!(
            flags.to_string(),
            "/failed_active_hc/degraded_active_hc/pending_dynamic_removal/active_hc_timeout"
        );
        let flags = health(
            r#"{"eds_health_status": "WEIRD", "brand_new_flag": true, "pending_active_hc": false}"#,
        );
        assert_eq!(
            flags.other,
            vec![
                "brand_new_flag".to_string(),
                "eds_health_status=\"WEIRD\"".to_string()
            ]
        );
        assert!(!flags.pending_active_hc);
    }
}
