//! Discovery and version endpoints: `/version`, `/api`, `/apis`, `/api/v1`,
//! `/apis/networking.istio.io[/{version}]`. kubectl needs all of them before it lists
//! anything; kube-rs needs none unless discovery is called. Aggregated discovery
//! (`apidiscovery.k8s.io/v2`) is not offered: plain JSON makes kubectl fall back to the
//! legacy documents served here.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::kind::{ISTIO_GROUP, ISTIO_VERSIONS, ResourceKind};
use super::state::ServerState;
use super::status;

/// `GET /version`: the `version.Info` of a 1.32 API server.
pub async fn version() -> Json<Value> {
    Json(json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0-meshtop-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    }))
}

/// `GET /api`: the core `APIVersions`.
pub async fn core_versions(State(state): State<Arc<ServerState>>) -> Json<Value> {
    Json(json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": state.addr.to_string()}
        ],
    }))
}

fn istio_group() -> Value {
    let versions: Vec<Value> = ISTIO_VERSIONS
        .iter()
        .map(|v| json!({"groupVersion": format!("{ISTIO_GROUP}/{v}"), "version": v}))
        .collect();
    json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": ISTIO_GROUP,
        "versions": versions,
        "preferredVersion": versions[0],
    })
}

/// `GET /apis`: the `APIGroupList` with `networking.istio.io`.
pub async fn group_list() -> Json<Value> {
    let mut group = istio_group();
    if let Some(map) = group.as_object_mut() {
        map.remove("kind");
        map.remove("apiVersion");
    }
    Json(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]}))
}

/// `GET /apis/networking.istio.io`: the `APIGroup`.
pub async fn istio_group_document() -> Json<Value> {
    Json(istio_group())
}

fn resource_list(group_version: &str, resources: Vec<Value>) -> Value {
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    })
}

/// `GET /api/v1`: pods (with the `portforward` and `proxy` subresources), services and
/// namespaces.
pub async fn core_resources() -> Json<Value> {
    let mut resources: Vec<Value> = ResourceKind::CORE.iter().map(|k| k.discovery()).collect();
    resources.push(json!({
        "name": "pods/portforward", "singularName": "", "namespaced": true,
        "kind": "PodPortForwardOptions", "verbs": ["create", "get"],
    }));
    resources.push(json!({
        "name": "pods/proxy", "singularName": "", "namespaced": true,
        "kind": "PodProxyOptions", "verbs": ["create", "delete", "get", "patch", "update"],
    }));
    Json(resource_list("v1", resources))
}

/// `GET /apis/networking.istio.io/{version}`: DestinationRules and VirtualServices.
pub async fn istio_resources(Path(version): Path<String>) -> Response {
    if !ISTIO_VERSIONS.contains(&version.as_str()) {
        return status::unknown_path();
    }
    let resources = ResourceKind::ISTIO.iter().map(|k| k.discovery()).collect();
    Json(resource_list(
        &format!("{ISTIO_GROUP}/{version}"),
        resources,
    ))
    .into_response()
}
