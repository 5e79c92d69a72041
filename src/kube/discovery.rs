//! Discovery by listing: meshed pods (a container named `istio-proxy` among `containers` or
//! `initContainers` — native sidecars are init containers) with phase, readiness, restarts and
//! Envoy admin port, and the Istio DestinationRules and VirtualServices as plain JSON for
//! `crate::istio::from_json_objects`.
//!
//! Namespaces are listed too, for `:ns` completion. These are one-shot lists (`meshtop
//! snapshot`, `check`, the namespace list at connect); `watch.rs` and `istio_watch.rs`
//! keep the same view up to date while meshtop runs. Istio objects are read as
//! `DynamicObject` with an `ApiResource` built from group/version/kind, which costs no
//! discovery call: `networking.istio.io/v1`, falling back to `v1beta1` on 404. Missing
//! CRDs or RBAC on them give [`IstioObjects::NotAvailable`], not an error: counters are still
//! worth showing without config.

use k8s_openapi::api::core::v1::{Namespace, Pod, PodStatus};
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde::Deserialize;

use super::error::{ApiAction, ClientError, api_status, classify};

/// Envoy's admin port in Istio sidecars unless `proxyAdminPort` says otherwise.
pub const DEFAULT_ADMIN_PORT: u16 = 15000;
const SIDECAR: &str = "istio-proxy";
const PROXY_CONFIG_ANNOTATION: &str = "proxy.istio.io/config";
pub(super) const ISTIO_GROUP: &str = "networking.istio.io";
const ISTIO_VERSIONS: [&str; 2] = ["v1", "v1beta1"];
pub(super) const ISTIO_KINDS: [(&str, &str); 2] = [
    ("DestinationRule", "destinationrules"),
    ("VirtualService", "virtualservices"),
];

/// A pod with an Istio sidecar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeshPod {
    pub name: String,
    pub namespace: String,
    /// `metadata.uid`: tells a pod recreated under the same name from the old one (empty when
    /// the API gave none).
    pub uid: String,
    /// `Running`, `Pending`, … (`Unknown` when the status has none).
    pub phase: String,
    /// The pod's `Ready` condition.
    pub ready: bool,
    /// Restarts of the `istio-proxy` container.
    pub proxy_restarts: u32,
    /// The Envoy admin port to forward to.
    pub admin_port: u16,
}

/// The Istio objects found, or why there are none.
#[derive(Debug, Clone, PartialEq)]
pub enum IstioObjects {
    /// The objects as the API returned them (`apiVersion`/`kind` filled in), and the kinds that
    /// could not be read (`VirtualService: CRD not installed`).
    Available {
        objects: Vec<serde_json::Value>,
        missing: Vec<String>,
    },
    /// Istio config not available: no Istio CRDs, or no permission to read them.
    NotAvailable { reason: String },
}

/// Lists the meshed pods in `namespace` (`None` = all), sorted by namespace and name.
pub async fn list_mesh_pods(
    client: &Client,
    namespace: Option<&str>,
    admin_port_override: Option<u16>,
    server: &str,
) -> Result<Vec<MeshPod>, ClientError> {
    let api: Api<Pod> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| classify(e, ApiAction::new("list", "pods", namespace), server))?;
    let mut pods: Vec<MeshPod> = list
        .items
        .iter()
        .filter_map(|p| mesh_pod(p, admin_port_override))
        .collect();
    pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(pods)
}

/// The namespace names, sorted, for `:ns` completion (a GET; RBAC may refuse it).
pub async fn list_namespaces(client: &Client, server: &str) -> Result<Vec<String>, ClientError> {
    let api: Api<Namespace> = Api::all(client.clone());
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| classify(e, ApiAction::cluster("list", "namespaces"), server))?;
    let mut names: Vec<String> = list
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    names.sort();
    Ok(names)
}

/// The pod as a [`MeshPod`], or `None` when it has no `istio-proxy` container.
pub fn mesh_pod(pod: &Pod, admin_port_override: Option<u16>) -> Option<MeshPod> {
    let spec = pod.spec.as_ref()?;
    let init = spec.init_containers.iter().flatten();
    if !spec
        .containers
        .iter()
        .chain(init)
        .any(|c| c.name == SIDECAR)
    {
        return None;
    }
    let status = pod.status.as_ref();
    let annotations = pod.metadata.annotations.as_ref();
    let proxy_config = annotations.and_then(|a| a.get(PROXY_CONFIG_ANNOTATION));
    Some(MeshPod {
        name: pod.metadata.name.clone()?,
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        uid: pod.metadata.uid.clone().unwrap_or_default(),
        phase: status
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".to_string()),
        ready: status.is_some_and(is_ready),
        proxy_restarts: status.map_or(0, proxy_restarts),
        admin_port: admin_port_override
            .or_else(|| proxy_config.and_then(|c| admin_port(c)))
            .unwrap_or(DEFAULT_ADMIN_PORT),
    })
}

/// The pod's `Ready` condition is `True`.
fn is_ready(status: &PodStatus) -> bool {
    let conditions = status.conditions.iter().flatten();
    conditions
        .into_iter()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// Restarts of the `istio-proxy` container (regular or native sidecar).
fn proxy_restarts(status: &PodStatus) -> u32 {
    let init = status.init_container_statuses.iter().flatten();
    status
        .container_statuses
        .iter()
        .flatten()
        .chain(init)
        .filter(|c| c.name == SIDECAR)
        .map(|c| u32::try_from(c.restart_count).unwrap_or(0))
        .max()
        .unwrap_or(0)
}

#[derive(Deserialize)]
struct ProxyConfig {
    #[serde(rename = "proxyAdminPort")]
    proxy_admin_port: Option<u16>,
}

/// `proxyAdminPort` from a `proxy.istio.io/config` annotation (YAML or JSON); `None` when it
/// is absent, zero or the annotation does not parse.
pub fn admin_port(annotation: &str) -> Option<u16> {
    let config: ProxyConfig = serde_saphyr::from_str(annotation).ok()?;
    config.proxy_admin_port.filter(|p| *p != 0)
}

/// Lists DestinationRules and VirtualServices in `namespace` (`None` = all).
pub async fn list_istio_objects(
    client: &Client,
    namespace: Option<&str>,
    server: &str,
) -> Result<IstioObjects, ClientError> {
    let mut objects = Vec::new();
    let mut missing = Vec::new();
    for (kind, plural) in ISTIO_KINDS {
        match list_kind(client, namespace, kind, plural, server).await? {
            Ok(found) => objects.extend(found),
            Err(reason) => missing.push(format!("{kind}: {reason}")),
        }
    }
    if missing.len() == ISTIO_KINDS.len() {
        let reason = unavailable_reason(&missing);
        return Ok(IstioObjects::NotAvailable { reason });
    }
    Ok(IstioObjects::Available { objects, missing })
}

/// Why Istio config is not available, from the `missing` kinds (`Kind: reason` each).
pub(super) fn unavailable_reason(missing: &[String]) -> String {
    format!("Istio config not available ({})", missing.join("; "))
}

/// One kind, newest API version first. `Ok(Err(reason))` = not available (404 for every
/// version, or 403); other failures are errors.
async fn list_kind(
    client: &Client,
    namespace: Option<&str>,
    kind: &str,
    plural: &str,
    server: &str,
) -> Result<Result<Vec<serde_json::Value>, String>, ClientError> {
    let lp = ListParams::default();
    let found = find_istio_kind(client, namespace, (kind, plural), &lp, server).await?;
    Ok(found.map(|(_, objects)| objects))
}

/// The API version `kind` is served as (newest first) and the objects a list with `lp`
/// returned. `Ok(Err(reason))` = not available (404 for every version, or 403); other
/// failures are errors.
pub(super) async fn find_istio_kind(
    client: &Client,
    namespace: Option<&str>,
    (kind, plural): (&str, &str),
    lp: &ListParams,
    server: &str,
) -> Result<Result<(ApiResource, Vec<serde_json::Value>), String>, ClientError> {
    for version in ISTIO_VERSIONS {
        let gvk = GroupVersionKind::gvk(ISTIO_GROUP, version, kind);
        let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
        let api = istio_api(client, namespace, &resource);
        match api.list(lp).await {
            Ok(list) => {
                let objects = list.items.into_iter().map(|o| to_json(o, &resource));
                return Ok(Ok((resource.clone(), objects.collect())));
            }
            Err(e) if api_status(&e) == Some(404) => continue,
            Err(e) if api_status(&e) == Some(403) => {
                let action = ApiAction::new("list", format!("{plural}.{ISTIO_GROUP}"), namespace);
                return Ok(Err(format!("cannot {action} (RBAC)")));
            }
            Err(e) => {
                let action = ApiAction::new("list", format!("{plural}.{ISTIO_GROUP}"), namespace);
                return Err(classify(e, action, server));
            }
        }
    }
    Ok(Err(format!(
        "CRD {plural}.{ISTIO_GROUP} not installed (v1 and v1beta1: 404)"
    )))
}

/// The dynamic API of `resource` in `namespace` (`None` = all).
pub(super) fn istio_api(
    client: &Client,
    namespace: Option<&str>,
    resource: &ApiResource,
) -> Api<DynamicObject> {
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, resource),
        None => Api::all_with(client.clone(), resource),
    }
}

/// The object as JSON with `apiVersion` and `kind` set (list items may omit them).
pub(super) fn to_json(object: DynamicObject, resource: &ApiResource) -> serde_json::Value {
    let mut value = serde_json::to_value(&object).unwrap_or(serde_json::Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.entry("apiVersion")
            .or_insert_with(|| resource.api_version.clone().into());
        map.entry("kind")
            .or_insert_with(|| resource.kind.clone().into());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn sidecars_are_found_in_containers_and_init_containers() {
        let classic = pod(serde_json::json!({
            "metadata": {"name": "order-1", "namespace": "prod", "uid": "u-1",
                "annotations": {"proxy.istio.io/config": "proxyAdminPort: 15001\nholdApplicationUntilProxyStarts: true\n"}},
            "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy"}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [
                    {"name": "app", "restartCount": 9, "ready": true, "image": "", "imageID": ""},
                    {"name": "istio-proxy", "restartCount": 2, "ready": true, "image": "", "imageID": ""}]}
        }));
        let got = mesh_pod(&classic, None).unwrap();
        assert_eq!(
            got,
            MeshPod {
                name: "order-1".into(),
                namespace: "prod".into(),
                uid: "u-1".into(),
                phase: "Running".into(),
                ready: true,
                proxy_restarts: 2,
                admin_port: 15001,
            }
        );
        assert_eq!(mesh_pod(&classic, Some(9901)).unwrap().admin_port, 9901);

        let native = pod(serde_json::json!({
            "metadata": {"name": "inv-1", "namespace": "prod"},
            "spec": {"containers": [{"name": "app"}], "initContainers": [{"name": "istio-proxy"}]},
            "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]}
        }));
        let got = mesh_pod(&native, None).unwrap();
        assert_eq!(
            (got.ready, got.admin_port, got.phase.as_str()),
            (false, 15000, "Pending")
        );

        let plain = pod(serde_json::json!({
            "metadata": {"name": "db-0"}, "spec": {"containers": [{"name": "postgres"}]}
        }));
        assert_eq!(mesh_pod(&plain, None), None);
    }

    #[test]
    fn admin_port_annotation_forms() {
        assert_eq!(admin_port("proxyAdminPort: 15001"), Some(15001));
        assert_eq!(admin_port(r#"{"proxyAdminPort": 15002}"#), Some(15002));
        assert_eq!(admin_port("concurrency: 2"), None);
        assert_eq!(admin_port("proxyAdminPort: 0"), None);
        assert_eq!(admin_port("proxyAdminPort: [oops"), None);
    }
}
