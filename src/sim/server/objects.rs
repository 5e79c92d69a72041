//! Renders the simulated [`World`] as the JSON objects a real API server returns: `Pod` with
//! an `istio-proxy` container, `Service`, `Namespace`, and the stored Istio objects.
//!
//! Times: the simulated epoch (sim time 0) is anchored to a Unix time chosen when the server
//! starts ([`Clock`]), so `creationTimestamp` is real RFC 3339 and ages follow the virtual
//! clock. Sidecar restarts are reported on the `istio-proxy` container (an Envoy restart is
//! what resets its counters); unmeshed pods report them on the app container.

use serde_json::{Value, json};

use super::kind::{ResourceKind, api_version};
use crate::sim::model::{SimPod, SimService, World};

/// The sidecar image; the world does not carry per-pod proxy versions.
const PROXY_IMAGE: &str = "docker.io/istio/proxyv2:1.22.3";

/// Maps simulated seconds to Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Unix seconds of simulated time 0.
    pub epoch_unix: i64,
    /// Current simulated time in seconds.
    pub now_secs: i64,
}

impl Clock {
    /// Unix seconds of simulated second `secs`.
    pub fn unix(self, secs: u64) -> i64 {
        self.epoch_unix
            .saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    /// The current simulated time as Unix seconds.
    pub fn now_unix(self) -> i64 {
        self.epoch_unix.saturating_add(self.now_secs)
    }
}

/// One rendered object and its creation time (Unix seconds) for ages.
#[derive(Debug, Clone, PartialEq)]
pub struct SimObject {
    pub json: Value,
    pub created_unix: i64,
}

/// All objects of `kind` (in `namespace` when given), served as API `version`.
pub fn collect(
    world: &World,
    kind: ResourceKind,
    version: &str,
    namespace: Option<&str>,
    clock: Clock,
) -> Vec<SimObject> {
    let in_scope = |ns: &str| namespace.is_none_or(|want| want == ns);
    let epoch = clock.unix(0);
    let at = |json, created_unix| SimObject { json, created_unix };
    let istio = |stored: &[Value]| -> Vec<SimObject> {
        let stored = stored.iter().filter(|o| in_scope(istio_namespace(o)));
        stored
            .map(|o| at(render_istio(o, kind, version, epoch), epoch))
            .collect()
    };
    match kind {
        ResourceKind::Namespace => (world.namespaces.iter())
            .map(|ns| at(render_namespace(ns, epoch), epoch))
            .collect(),
        ResourceKind::Pod => (world.served_pods().filter(|p| in_scope(&p.namespace)))
            .map(|p| at(render_pod(p, clock), clock.unix(p.started_at_secs)))
            .collect(),
        ResourceKind::Service => (world.services.iter().filter(|s| in_scope(&s.namespace)))
            .map(|s| at(render_service(s, epoch), epoch))
            .collect(),
        ResourceKind::DestinationRule => istio(&world.destination_rules),
        ResourceKind::VirtualService => istio(&world.virtual_services),
    }
}

/// The namespace of a stored Istio object (`default` when unset, as `kubectl apply` does).
fn istio_namespace(object: &Value) -> &str {
    object["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
}

/// `metadata.name` of a rendered object.
pub fn name_of(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or("")
}

/// A stable pseudo-UID for objects the world gives none.
fn uid_for(kind: &str, namespace: &str, name: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in kind.bytes().chain(namespace.bytes()).chain(name.bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let hex = format!(
        "{hash:016x}{:016x}",
        hash.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15
    );
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn render_namespace(name: &str, created: i64) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "uid": uid_for("Namespace", "", name),
            "creationTimestamp": rfc3339(created),
            "labels": {"kubernetes.io/metadata.name": name},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    })
}

/// The app container's name: the `app` label, else the pod name.
fn app_container(pod: &SimPod) -> &str {
    pod.labels
        .get("app")
        .map_or(pod.name.as_str(), String::as_str)
}

fn container_status(name: &str, image: &str, ready: bool, restarts: u32, started: &str) -> Value {
    json!({
        "name": name,
        "image": image,
        "imageID": format!("{image}@sha256:{}", "0".repeat(64)),
        "containerID": format!("containerd://{}", uid_for("Container", started, name).replace('-', "")),
        "ready": ready,
        "started": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": started}},
    })
}

/// The pod's containers and their statuses: the app, then `istio-proxy` when meshed.
fn containers(pod: &SimPod, started: &str) -> (Vec<Value>, Vec<Value>) {
    let app = app_container(pod);
    let app_image = format!("registry.sim.local/{app}:1.0");
    let app_restarts = if pod.meshed { 0 } else { pod.restarts };
    let mut specs = vec![json!({"name": app, "image": app_image})];
    let mut statuses = vec![container_status(
        app,
        &app_image,
        pod.ready,
        app_restarts,
        started,
    )];
    if pod.meshed {
        specs.push(json!({
            "name": "istio-proxy",
            "image": PROXY_IMAGE,
            "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
        }));
        let proxy = container_status("istio-proxy", PROXY_IMAGE, pod.ready, pod.restarts, started);
        statuses.push(proxy);
    }
    (specs, statuses)
}

fn render_pod(pod: &SimPod, clock: Clock) -> Value {
    let started = rfc3339(clock.unix(pod.started_at_secs));
    let (containers, statuses) = containers(pod, &started);
    let ready = if pod.ready { "True" } else { "False" };
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod.name,
            "namespace": pod.namespace,
            "uid": pod.uid,
            "creationTimestamp": started,
            "labels": pod.labels,
            "annotations": pod.annotations,
        },
        "spec": {"containers": containers, "nodeName": "sim-node-1", "restartPolicy": "Always"},
        "status": {
            "phase": pod.phase,
            "podIP": pod.ip,
            "podIPs": [{"ip": pod.ip}],
            "hostIP": "172.18.0.2",
            "startTime": started,
            "conditions": [
                {"type": "Ready", "status": ready},
                {"type": "ContainersReady", "status": ready},
            ],
            "containerStatuses": statuses,
        },
    })
}

fn render_service(svc: &SimService, created: i64) -> Value {
    let ports: Vec<Value> = svc
        .ports
        .iter()
        .map(|(name, port, target)| json!({"name": name, "port": port, "targetPort": target, "protocol": "TCP"}))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": svc.name,
            "namespace": svc.namespace,
            "uid": uid_for("Service", &svc.namespace, &svc.name),
            "creationTimestamp": rfc3339(created),
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": svc.cluster_ip,
            "clusterIPs": [svc.cluster_ip],
            "ports": ports,
            "selector": svc.selector,
        },
        "status": {"loadBalancer": {}},
    })
}

/// A stored Istio object with `apiVersion` set to the requested version and the metadata
/// fields a real API server always fills in (`uid`, `creationTimestamp`, `generation`).
fn render_istio(stored: &Value, kind: ResourceKind, version: &str, created: i64) -> Value {
    let mut object = stored.clone();
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), Value::from(api_version(kind, version)));
        map.insert("kind".into(), Value::from(kind.kind()));
    }
    let namespace = istio_namespace(&object).to_string();
    let name = name_of(&object).to_string();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.entry("namespace")
            .or_insert_with(|| Value::from(namespace.as_str()));
        meta.entry("uid")
            .or_insert_with(|| Value::from(uid_for(kind.kind(), &namespace, &name)));
        meta.entry("creationTimestamp")
            .or_insert_with(|| Value::from(rfc3339(created)));
        meta.entry("generation").or_insert_with(|| Value::from(1));
    }
    object
}

/// Formats Unix seconds as RFC 3339 UTC (`2026-11-26T14:08:49Z`).
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil-from-days (H. Hinnant), valid for the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_529_329), "2026-11-24T14:08:49Z");
    }

    #[test]
    fn uid_has_uuid_shape_and_is_stable() {
        let uid = uid_for("Service", "prod", "inventory-svc");
        assert_eq!(uid.len(), 36);
        assert_eq!(uid.matches('-').count(), 4);
        assert_eq!(uid, uid_for("Service", "prod", "inventory-svc"));
        assert_ne!(uid, uid_for("Service", "prod", "order-svc"));
    }
}
