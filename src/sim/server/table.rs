//! `meta.k8s.io/v1` `Table` responses, served when the client asks with
//! `Accept: application/json;as=Table;…` (kubectl's default printing). Without them kubectl
//! prints only `NAME AGE`.

use serde_json::{Value, json};

use super::kind::ResourceKind;
use super::objects::SimObject;

/// What each row's `object` holds (`includeObject=` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowObject {
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The full object.
    Object,
    /// No object.
    Omitted,
}

impl RowObject {
    /// Parses `includeObject`; unknown values mean the default.
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            Some("Object") => Self::Object,
            Some("None") => Self::Omitted,
            _ => Self::Metadata,
        }
    }
}

/// Whether an `Accept` header asks for a Table.
pub fn wants_table(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.split(',').any(|part| part.contains("as=Table")))
}

/// Renders `objects` as a Table; `now_unix` (virtual clock) sets the AGE column.
pub fn render_table(
    kind: ResourceKind,
    objects: &[SimObject],
    now_unix: i64,
    revision: u64,
    row_object: RowObject,
) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut row =
                json!({"cells": cells(kind, &o.json, human_age(now_unix - o.created_unix))});
            match row_object {
                RowObject::Metadata => row["object"] = partial_metadata(&o.json),
                RowObject::Object => row["object"] = o.json.clone(),
                RowObject::Omitted => {}
            }
            row
        })
        .collect();
    let columns: Vec<Value> = columns(kind)
        .iter()
        .map(|(name, description)| {
            let format = if *name == "Name" { "name" } else { "" };
            // Priority 1 columns only show with `-o wide`.
            let priority = i32::from(WIDE.contains(name));
            json!({"name": name, "type": "string", "format": format, "description": description, "priority": priority})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": revision.to_string()},
        "columnDefinitions": columns,
        "rows": rows,
    })
}

fn partial_metadata(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object["metadata"],
    })
}

/// A column's name and description; every simulated column has type `string`.
type Column = (&'static str, &'static str);

/// Columns kubectl shows only with `-o wide`.
const WIDE: [&str; 2] = ["IP", "Node"];

const NAME: Column = ("Name", "Name must be unique within a namespace.");
const AGE: Column = (
    "Age",
    "CreationTimestamp is the time the object was created.",
);
const POD: [Column; 7] = [
    NAME,
    (
        "Ready",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    (
        "Status",
        "The aggregate status of the containers in this pod.",
    ),
    (
        "Restarts",
        "The number of times the containers in this pod have been restarted.",
    ),
    AGE,
    ("IP", "IP address allocated to the pod."),
    ("Node", "Name of the node the pod is scheduled on."),
];
const SERVICE: [Column; 5] = [
    NAME,
    ("Type", "The type of the service."),
    ("Cluster-IP", "The cluster IP of the service."),
    ("Port(s)", "The ports of the service."),
    AGE,
];
const NAMESPACE: [Column; 3] = [NAME, ("Status", "The phase of the namespace."), AGE];
const DESTINATION_RULE: [Column; 3] = [
    NAME,
    ("Host", "The name of a service from the service registry"),
    AGE,
];
const VIRTUAL_SERVICE: [Column; 4] = [
    NAME,
    (
        "Gateways",
        "The names of gateways and sidecars that should apply these routes",
    ),
    (
        "Hosts",
        "The destination hosts to which traffic is being sent",
    ),
    AGE,
];

/// The columns of `kind`, as its real server-side printer (or Istio's CRD) defines them.
fn columns(kind: ResourceKind) -> &'static [Column] {
    match kind {
        ResourceKind::Pod => &POD,
        ResourceKind::Service => &SERVICE,
        ResourceKind::Namespace => &NAMESPACE,
        ResourceKind::DestinationRule => &DESTINATION_RULE,
        ResourceKind::VirtualService => &VIRTUAL_SERVICE,
    }
}

fn cells(kind: ResourceKind, o: &Value, age: String) -> Value {
    let name = &o["metadata"]["name"];
    let (spec, status) = (&o["spec"], &o["status"]);
    match kind {
        ResourceKind::Pod => {
            let (ready, restarts) = pod_counts(status);
            let (phase, ip, node) = (&status["phase"], &status["podIP"], &spec["nodeName"]);
            json!([name, ready, phase, restarts, age, ip, node])
        }
        ResourceKind::Service => {
            let ports = array(&spec["ports"])
                .iter()
                .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP")));
            let ports = ports.collect::<Vec<_>>().join(",");
            json!([name, spec["type"], spec["clusterIP"], ports, age])
        }
        ResourceKind::Namespace => json!([name, status["phase"], age]),
        ResourceKind::DestinationRule => json!([name, spec["host"], age]),
        ResourceKind::VirtualService => json!([name, spec["gateways"], spec["hosts"], age]),
    }
}

/// READY (`ready/total` containers) and RESTARTS (sum) of a pod status.
fn pod_counts(status: &Value) -> (String, u64) {
    let statuses = array(&status["containerStatuses"]);
    let ready = statuses.iter().filter(|s| s["ready"] == true).count();
    let restarts = statuses
        .iter()
        .filter_map(|s| s["restartCount"].as_u64())
        .sum();
    (format!("{ready}/{}", statuses.len()), restarts)
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// kubectl's `HumanDuration`: `45s`, `3m20s`, `25m`, `5h10m`, `30h`, `3d4h`, `200d`, `1y20d`.
pub fn human_age(secs: i64) -> String {
    let secs = secs.max(0);
    let (minutes, hours) = (secs / 60, secs / 3_600);
    match secs {
        s if s < 120 => format!("{s}s"),
        _ if minutes < 10 => format!("{minutes}m{}s", secs % 60),
        _ if minutes < 180 => format!("{minutes}m"),
        _ if hours < 8 => format!("{hours}h{}m", minutes % 60),
        _ if hours < 48 => format!("{hours}h"),
        _ if hours < 24 * 8 => format!("{}d{}h", hours / 24, hours % 24),
        _ if hours < 24 * 365 * 2 => format!("{}d", hours / 24),
        _ if hours < 24 * 365 * 8 => format!("{}y{}d", hours / 24 / 365, hours / 24 % 365),
        _ => format!("{}y", hours / 24 / 365),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(human_age(-3), "0s");
        assert_eq!(human_age(45), "45s");
        assert_eq!(human_age(200), "3m20s");
        assert_eq!(human_age(25 * 60), "25m");
        assert_eq!(human_age(5 * 3_600 + 600), "5h10m");
        assert_eq!(human_age(30 * 3_600), "30h");
        assert_eq!(human_age(76 * 3_600), "3d4h");
        assert_eq!(human_age(200 * 86_400), "200d");
    }

    #[test]
    fn table_accept_is_detected() {
        assert!(wants_table(Some(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        )));
        assert!(!wants_table(Some("application/json")));
        assert!(!wants_table(None));
    }
}
