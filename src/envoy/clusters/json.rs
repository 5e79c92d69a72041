//! The `/clusters?format=json` rendering: Envoy's `admin.v3.Clusters` message as JSON.
//!
//! Keys come in snake_case, or in camelCase after a jsonpb round trip (istioctl's captures mix
//! both), so every key accepts both spellings. Proto3 JSON leaves out default values: `false`,
//! `0`, a stat's `value` of 0, the `DEFAULT` circuit-breaker priority, `UNKNOWN` EDS health.
//! Each cluster, threshold and host object is read on its own, so one damaged object becomes a
//! [`LineIssue`] at the line of its cluster's name instead of failing the whole capture.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::json_objects::{RawCluster, TypedCluster, cluster_from_json};
use super::{ClustersDump, ClustersFormat};
use crate::envoy::error::json_type_name;
use crate::envoy::{LineIssue, ParseError};

/// Parses `/clusters?format=json`.
///
/// Invalid JSON is a fatal error with its line and column; so is valid JSON that is not a
/// `/clusters` document (no `cluster_statuses`). `{}` is what Envoy prints when it has no
/// clusters at all, and gives an empty dump.
///
/// No `serde_json::Value` tree is built: a well-formed document is read into typed structs in
/// one pass; when that fails, the document is split into borrowed raw objects and each
/// cluster, threshold and host is read from its own slice, so the damage is reported where it
/// is and the rest kept.
pub fn parse_clusters_json(input: &str) -> Result<ClustersDump, ParseError> {
    if input.trim().is_empty() {
        return Err(ParseError::Empty("/clusters?format=json capture"));
    }
    match parse_typed(input) {
        Some(dump) => Ok(dump),
        None => parse_isolated(input),
    }
}

/// A well-formed document in one typed pass; `None` when any object does not fit the types.
fn parse_typed(input: &str) -> Option<ClustersDump> {
    let doc = serde_json::from_str::<JsonClusters<TypedCluster<'_>>>(input).ok()?;
    let mut dump = ClustersDump::empty(ClustersFormat::Json);
    let mut locator = LineLocator::new(input);
    for cluster in doc.cluster_statuses {
        let line = locator.line_of(Some(&cluster.name));
        let mut report = |message: String| dump.issues.push(LineIssue { line, message });
        let status = cluster_from_json(cluster, Ok, Ok, &mut report);
        dump.clusters.push(Arc::new(status));
    }
    Some(dump)
}

/// Each cluster, threshold and host read from its own slice, so that one damaged object
/// costs only itself.
fn parse_isolated(input: &str) -> Result<ClustersDump, ParseError> {
    let statuses = cluster_statuses(input)?;
    let mut dump = ClustersDump::empty(ClustersFormat::Json);
    let mut locator = LineLocator::new(input);
    for (index, raw) in statuses.into_iter().enumerate() {
        match serde_json::from_str::<RawCluster<'_>>(raw.get()) {
            Ok(cluster) => {
                let line = locator.line_of(Some(&cluster.name));
                let mut report = |message: String| dump.issues.push(LineIssue { line, message });
                let status = cluster_from_json(cluster, from_raw, from_raw, &mut report);
                dump.clusters.push(Arc::new(status));
            }
            Err(e) => {
                let name = serde_json::from_str::<JsonName>(raw.get()).ok();
                let line = locator.line_of(name.as_ref().and_then(|n| n.name.as_deref()));
                let message = format!("cluster_statuses[{index}] skipped: {}", message(&e));
                dump.issues.push(LineIssue { line, message });
            }
        }
    }
    Ok(dump)
}

/// Reads a typed object from its raw slice.
fn from_raw<'a, T: Deserialize<'a>>(raw: &'a RawValue) -> Result<T, String> {
    serde_json::from_str(raw.get()).map_err(|e| message(&e))
}

/// The `cluster_statuses` array's items, or why this is not a `/clusters` document.
fn cluster_statuses(input: &str) -> Result<Vec<&RawValue>, ParseError> {
    let not_clusters = |what: String| {
        ParseError::syntax(
            1,
            0,
            format!("not a /clusters?format=json document: {what}"),
        )
    };
    // Validates the whole document (errors carry line and column) without building it.
    let doc: &RawValue = serde_json::from_str(input).map_err(|e| ParseError::from_json(&e))?;
    let Ok(mut top) = serde_json::from_str::<BTreeMap<String, &RawValue>>(doc.get()) else {
        return Err(not_clusters(format!(
            "the top level is {}",
            raw_type_name(doc)
        )));
    };
    let list = top
        .remove("cluster_statuses")
        .or_else(|| top.remove("clusterStatuses"));
    match list {
        Some(raw) => serde_json::from_str(raw.get()).map_err(|_| {
            not_clusters(format!(
                "\"cluster_statuses\" is {}, expected an array",
                raw_type_name(raw)
            ))
        }),
        None if top.is_empty() => Ok(Vec::new()),
        None => {
            let keys: Vec<&str> = top.keys().map(String::as_str).take(5).collect();
            Err(not_clusters(format!(
                "no \"cluster_statuses\" key (top-level keys: {keys:?})"
            )))
        }
    }
}

/// The JSON type of a (valid) raw value, for messages.
fn raw_type_name(raw: &RawValue) -> &'static str {
    serde_json::from_str::<Value>(raw.get()).map_or("not JSON", |v| json_type_name(&v))
}

/// A serde error without the position serde adds (`at line 1 column 40`): errors here are
/// about one object read from its own slice, so that position would not be the document's.
fn message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) if e.line() > 0 => message.to_string(),
        _ => text,
    }
}

/// Just the name of a cluster that failed to parse, to place its issue.
#[derive(Deserialize)]
struct JsonName {
    name: Option<String>,
}

/// The document: its clusters, typed (`TypedCluster`) or raw.
#[derive(Deserialize)]
pub(super) struct JsonClusters<C> {
    #[serde(alias = "clusterStatuses")]
    pub(super) cluster_statuses: Vec<C>,
}

/// Finds the line of each cluster's `"name"` string, scanning forward only (clusters are in
/// document order), so locating every cluster costs one pass over the input.
struct LineLocator<'a> {
    bytes: &'a [u8],
    cursor: usize,
    line: usize,
}

impl<'a> LineLocator<'a> {
    fn new(input: &'a str) -> Self {
        LineLocator {
            bytes: input.as_bytes(),
            cursor: 0,
            line: 1,
        }
    }

    /// The line where `name` next appears as a JSON string; if it cannot be found, the line of
    /// the previous cluster.
    fn line_of(&mut self, name: Option<&str>) -> usize {
        let Some(needle) = name.and_then(|n| serde_json::to_string(n).ok()) else {
            return self.line;
        };
        let rest = self.bytes.get(self.cursor..).unwrap_or_default();
        if let Some(offset) = memchr::memmem::find(rest, needle.as_bytes()) {
            let skipped = rest.get(..offset).unwrap_or_default();
            self.line += memchr::memchr_iter(b'\n', skipped).count();
            self.cursor += offset + needle.len();
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::clusters::{CircuitThresholds, RoutingPriority};

    #[test]
    fn the_one_pass_reading_equals_the_object_by_object_one() {
        let camel = SNAKE
            .replace("cluster_statuses", "clusterStatuses")
            .replace("host_statuses", "hostStatuses");
        for doc in [SNAKE, camel.as_str()] {
            let typed = parse_typed(doc).expect("well-formed: one pass");
            assert!(
                !typed.clusters.is_empty() && typed.clusters.iter().any(|c| !c.hosts.is_empty())
            );
            assert_eq!(typed, parse_isolated(doc).unwrap());
        }
        let damaged = SNAKE.replacen("\"host_statuses\": [", "\"host_statuses\": [7, ", 1);
        assert_eq!(
            parse_typed(&damaged),
            None,
            "a damaged host: object by object"
        );
        let dump = parse_clusters_json(&damaged).unwrap();
        assert_eq!(dump.issues.len(), 1, "{:?}", dump.issues);
        assert!(dump.issues[0].message.contains("host_statuses[0]: skipped"));
        assert_eq!(dump.clusters, parse_typed(SNAKE).unwrap().clusters);
    }

    const SNAKE: &str = r#"{
 "cluster_statuses": [
  {
   "name": "outbound|9080||reviews.prod.svc.cluster.local",
   "added_via_api": true,
   "success_rate_ejection_threshold": {"value": 87.5},
   "circuit_breakers": {
    "thresholds": [
     {"max_connections": 4294967295, "max_pending_requests": 100, "max_requests": 1024, "max_retries": 3},
     {"priority": "HIGH", "max_connections": 1024, "max_pending_requests": 1024, "max_requests": 1024, "max_retries": 5}
    ]
   },
   "host_statuses": [
    {
     "address": {"socket_address": {"address": "10.0.0.1", "port_value": 9080}},
     "stats": [
      {"name": "cx_connect_fail", "value": "4"},
      {"name": "cx_total", "value": 12},
      {"name": "rq_error"},
      {"name": "rq_timeout", "value": "7"},
      {"name": "rq_active", "type": "GAUGE"}
     ],
     "health_status": {"eds_health_status": "HEALTHY", "failed_outlier_check": true},
     "weight": 6,
     "priority": 1,
     "hostname": "reviews-v1",
     "locality": {"region": "us-east1", "zone": "us-east1-b", "sub_zone": "rack-3"},
     "success_rate": {"value": 66.5},
     "local_origin_success_rate": {"value": 100}
    },
    {
     "address": {"socket_address": {"address": "fd00::1", "port_value": 9080}},
     "stats": [{"name": "rq_timeout", "value": "3"}],
     "health_status": {"eds_health_status": "UNHEALTHY"},
     "weight": 1
    }
   ]
  },
  {"name": "static_cluster"}
 ]
}"#;

    /// The same document as jsonpb writes it (istioctl's captures mix both spellings).
    fn camel() -> String {
        [
            ("added_via_api", "addedViaApi"),
            (
                "success_rate_ejection_threshold",
                "successRateEjectionThreshold",
            ),
            ("circuit_breakers", "circuitBreakers"),
            ("max_connections", "maxConnections"),
            ("max_pending_requests", "maxPendingRequests"),
            ("max_requests", "maxRequests"),
            ("max_retries", "maxRetries"),
            ("host_statuses", "hostStatuses"),
            ("socket_address", "socketAddress"),
            ("port_value", "portValue"),
            ("health_status", "healthStatus"),
            ("eds_health_status", "edsHealthStatus"),
            ("failed_outlier_check", "failedOutlierCheck"),
            ("sub_zone", "subZone"),
            ("local_origin_success_rate", "localOriginSuccessRate"),
            ("\"success_rate\"", "\"successRate\""),
        ]
        .iter()
        .fold(SNAKE.to_string(), |doc, (snake, camel)| {
            doc.replace(snake, camel)
        })
    }

    #[test]
    fn snake_case_document() {
        let dump = parse_clusters_json(SNAKE).unwrap();
        assert_eq!(dump.issues, vec![]);
        assert_eq!(dump.format, ClustersFormat::Json);
        assert_eq!(dump.clusters.len(), 2);
        let reviews = &dump.clusters[0];
        assert_eq!(reviews.added_via_api, Some(true));
        assert_eq!(reviews.outlier.success_rate_ejection_threshold, Some(87.5));
        assert_eq!(reviews.outlier.success_rate_average, None);
        assert_eq!(
            reviews.thresholds,
            vec![
                CircuitThresholds {
                    priority: RoutingPriority::Default,
                    max_connections: Some(4294967295),
                    max_pending_requests: Some(100),
                    max_requests: Some(1024),
                    max_retries: Some(3),
                },
                CircuitThresholds {
                    priority: RoutingPriority::High,
                    max_connections: Some(1024),
                    max_pending_requests: Some(1024),
                    max_requests: Some(1024),
                    max_retries: Some(5),
                },
            ]
        );
        let host = &reviews.hosts[0];
        assert_eq!(host.address, "10.0.0.1:9080");
        assert_eq!(host.stats.cx_connect_fail, Some(4), "uint64 as a string");
        assert_eq!(host.stats.cx_total, Some(12), "uint64 as a number");
        assert_eq!(host.stats.rq_error, Some(0), "value omitted = 0");
        assert_eq!(host.stats.rq_active, Some(0));
        assert_eq!(host.stats.rq_total, None, "stat not listed at all");
        assert_eq!(host.stats.rq_timeout, Some(7));
        assert!(host.health.failed_outlier_check && !host.health.is_healthy());
        assert_eq!(
            (host.weight, host.priority, host.canary),
            (Some(6), Some(1), None)
        );
        assert_eq!(host.hostname, "reviews-v1");
        assert_eq!(
            (
                host.region.as_str(),
                host.zone.as_str(),
                host.sub_zone.as_str()
            ),
            ("us-east1", "us-east1-b", "rack-3")
        );
        assert_eq!(
            (host.success_rate, host.local_origin_success_rate),
            (Some(66.5), Some(100.0))
        );

        let v6 = &reviews.hosts[1];
        assert_eq!(v6.address, "[fd00::1]:9080");
        assert!(v6.health.failed_eds_health);
        assert_eq!(v6.priority, Some(0), "proto3 omits priority 0");
        assert_eq!(reviews.ejected_count(), 1);
        assert_eq!(reviews.healthy_count(), 0);
        assert_eq!(reviews.rq_timeout_total(), Some(10));

        let fixed = &dump.clusters[1];
        assert_eq!(fixed.added_via_api, Some(false), "proto3 omits false");
        assert!(fixed.thresholds.is_empty() && fixed.hosts.is_empty());
    }

    #[test]
    fn camel_case_gives_the_same_model() {
        let camel = camel();
        assert!(camel.contains("hostStatuses") && !camel.contains("host_statuses"));
        assert_eq!(
            parse_clusters_json(&camel).unwrap(),
            parse_clusters_json(SNAKE).unwrap()
        );
        let top = camel.replacen("cluster_statuses", "clusterStatuses", 1);
        assert_eq!(parse_clusters_json(&top).unwrap().clusters.len(), 2);
    }

    #[test]
    fn other_address_kinds() {
        let doc = r#"{"cluster_statuses": [{"name": "a", "host_statuses": [
            {"address": {"pipe": {"path": "/sock/mixer.socket"}}},
            {"address": {"envoy_internal_address": {"server_listener_name": "l", "endpoint_id": "e"}}},
            {"address": {"socket_address": {"address": "10.0.0.9"}}}
        ]}]}"#;
        let dump = parse_clusters_json(doc).unwrap();
        let addresses: Vec<&str> = dump.clusters[0]
            .hosts
            .iter()
            .map(|h| h.address.as_str())
            .collect();
        assert_eq!(
            addresses,
            ["/sock/mixer.socket", "envoy://l/e", "10.0.0.9:0"]
        );
    }

    #[test]
    fn damaged_objects_become_issues_at_their_cluster_line() {
        let doc = "{\"cluster_statuses\": [\n{\"name\": \"a\", \"host_statuses\": [{\"address\": {\"pipe\": {\"path\": \"/p\"}}}]},\n{\"name\": \"b\",\n \"host_statuses\": [\n  {\"address\": {\"pipe\": {\"path\": \"/q\"}}, \"weight\": \"heavy\"},\n  {\"address\": {\"pipe\": {\"path\": \"/r\"}}, \"stats\": [{\"name\": \"rq_total\", \"value\": \"x\"}, {\"name\": \"rq_error\", \"value\": \"2\"}]},\n  {\"stats\": []}\n ],\n \"circuit_breakers\": {\"thresholds\": [{\"priority\": \"LOW\"}, {\"priority\": \"HIGH\", \"max_retries\": 2}]}},\n{\"added_via_api\": true},\n{\"name\": \"c\", \"added_via_api\": \"yes\"}\n]}";
        let dump = parse_clusters_json(doc).unwrap();
        let names: Vec<&str> = dump.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let b = &dump.clusters[1];
        assert_eq!(
            b.hosts.len(),
            1,
            "the host with a bad weight and the one without address are skipped"
        );
        assert_eq!(b.hosts[0].stats.rq_total, None);
        assert_eq!(b.hosts[0].stats.rq_error, Some(2));
        assert_eq!(b.thresholds.len(), 1);
        assert_eq!(b.thresholds[0].max_retries, Some(2));
        let issues: Vec<(usize, bool)> = dump
            .issues
            .iter()
            .map(|i| (i.line, i.message.contains("\"b\"")))
            .collect();
        assert_eq!(issues.len(), 6, "{:?}", dump.issues);
        assert_eq!(&issues[..4], &[(3, true); 4], "{:?}", dump.issues);
        let expected = [
            "thresholds[0] skipped: unknown priority \"LOW\"",
            "host_statuses[0]: skipped",
            "host_statuses[1]: stat \"rq_total\" skipped",
            "host_statuses[2]: skipped: no address",
        ];
        for (issue, text) in dump.issues.iter().zip(expected) {
            assert!(issue.message.contains(text), "{issue} lacks {text}");
        }
        assert!(
            dump.issues[4]
                .message
                .starts_with("cluster_statuses[2] skipped"),
            "{}",
            dump.issues[4]
        );
        assert_eq!(dump.issues[5].line, 11, "{}", dump.issues[5]);
    }

    #[test]
    fn documents_that_are_not_clusters_are_fatal() {
        let err = parse_clusters_json(r#"{"stats": []}"#).unwrap_err();
        assert!(
            err.to_string().contains("no \"cluster_statuses\" key"),
            "{err}"
        );
        assert!(err.to_string().contains("stats"), "{err}");
        let err = parse_clusters_json("[1, 2]").unwrap_err();
        assert!(
            err.to_string().contains("the top level is an array"),
            "{err}"
        );
        let err = parse_clusters_json(r#"{"cluster_statuses": {}}"#).unwrap_err();
        assert!(err.to_string().contains("expected an array"), "{err}");
        let err =
            parse_clusters_json("{\n \"cluster_statuses\": [\n {\"name\": }\n]}").unwrap_err();
        assert_eq!(err.line(), 3);
        assert!(matches!(
            parse_clusters_json("  "),
            Err(ParseError::Empty(_))
        ));
        let empty = parse_clusters_json("{}").unwrap();
        assert!(empty.clusters.is_empty() && empty.issues.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(input in "\\PC{0,200}") {
            let _ = parse_clusters_json(&input);
        }

        #[test]
        fn mutated_documents_never_panic(cut in 0usize..2000, byte in 0u8..128) {
            let mut doc = SNAKE.as_bytes().to_vec();
            if let Some(b) = doc.get_mut(cut % SNAKE.len()) {
                *b = byte;
            }
            if let Ok(text) = std::str::from_utf8(&doc) {
                let _ = parse_clusters_json(text);
            }
        }
    }
}
