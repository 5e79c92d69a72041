//! List, get and watch of namespaces, pods, services, DestinationRules and VirtualServices,
//! per namespace and across namespaces, as plain objects/lists or as kubectl Tables.
//!
//! Routes name their path captures `version` (Istio routes only), `ns`, `resource` and
//! `name`; [`Target::from_captures`] turns them into what to serve. Query parameters used:
//! `watch` (`true`/`1`), `timeoutSeconds`, `labelSelector`, `fieldSelector`,
//! `includeObject`; `limit`, `continue` and `resourceVersion` are accepted and ignored
//! (lists are never paginated; every response carries a fresh, increasing resourceVersion).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::ACCEPT;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::kind::{ISTIO_VERSIONS, ResourceKind, api_version};
use super::objects::{Clock, SimObject, collect, name_of};
use super::selector::Selector;
use super::state::ServerState;
use super::table::{RowObject, render_table, wants_table};
use super::{status, watch};

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: ResourceKind,
    /// API version the objects are served as (`v1` for core kinds).
    pub version: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl Target {
    /// Builds the target from a route's captures; `None` for an unknown kind or version.
    fn from_captures(mut captures: HashMap<String, String>) -> Option<Self> {
        let mut namespace = captures.remove("ns");
        let mut name = captures.remove("name");
        let (kind, version) = match (captures.remove("version"), captures.remove("resource")) {
            (Some(v), Some(r)) if ISTIO_VERSIONS.contains(&v.as_str()) => {
                (ResourceKind::istio_from_plural(&r)?, v)
            }
            (Some(_), _) => return None,
            (None, Some(r)) => (ResourceKind::core_from_plural(&r)?, "v1".to_string()),
            // `/api/v1/namespaces/{ns}`: the namespace object itself.
            (None, None) => {
                name = namespace.take();
                (ResourceKind::Namespace, "v1".to_string())
            }
        };
        // `/api/v1/namespaces/{ns}/namespaces` is not a thing.
        if kind == ResourceKind::Namespace && namespace.is_some() {
            return None;
        }
        Some(Self {
            kind,
            version,
            namespace,
            name,
        })
    }
}

/// The query parameters that change the response.
#[derive(Debug, Clone, Default)]
struct ListOptions {
    watch: bool,
    timeout: Option<Duration>,
    label_selector: Option<String>,
    field_selector: Option<String>,
    row_object: Option<String>,
}

impl ListOptions {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut opts = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "watch" => opts.watch = value == "true" || value == "1",
                "timeoutSeconds" => opts.timeout = value.parse().ok().map(Duration::from_secs),
                "labelSelector" => opts.label_selector = Some(value),
                "fieldSelector" => opts.field_selector = Some(value),
                "includeObject" => opts.row_object = Some(value),
                _ => {}
            }
        }
        opts
    }
}

/// The handler for every resource route.
pub async fn serve(
    State(state): State<Arc<ServerState>>,
    Path(captures): Path<HashMap<String, String>>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let Some(target) = Target::from_captures(captures) else {
        return status::unknown_path();
    };
    if state.controls().faults.api_500 {
        return status::internal_error();
    }
    let opts = ListOptions::from_pairs(pairs);
    let selector = match Selector::parse(
        opts.label_selector.as_deref(),
        opts.field_selector.as_deref(),
    ) {
        Ok(selector) => selector,
        Err(message) => return status::bad_request(&message),
    };
    if opts.watch {
        return watch::respond(state, target, selector, opts.timeout);
    }
    let (objects, clock) = snapshot(&state, &target, &selector);
    if let Some(name) = &target.name
        && objects.is_empty()
    {
        return status::not_found(target.kind.plural(), name);
    }
    let revision = state.next_revision();
    if wants_table(headers.get(ACCEPT).and_then(|v| v.to_str().ok())) {
        let row_object = RowObject::parse(opts.row_object.as_deref());
        let table = render_table(
            target.kind,
            &objects,
            clock.now_unix(),
            revision,
            row_object,
        );
        return Json(table).into_response();
    }
    Json(render_plain(&target, objects, revision)).into_response()
}

/// The object of a get, or the `…List` of a list, stamped with `revision`.
fn render_plain(target: &Target, objects: Vec<SimObject>, revision: u64) -> Value {
    let mut items: Vec<Value> = objects.into_iter().map(|o| o.json).collect();
    items.iter_mut().for_each(|item| stamp(item, revision));
    if target.name.is_some()
        && let Some(object) = items.pop()
    {
        return object;
    }
    json!({
        "apiVersion": api_version(target.kind, &target.version),
        "kind": format!("{}List", target.kind.kind()),
        "metadata": {"resourceVersion": revision.to_string()},
        "items": items,
    })
}

/// The objects a target selects right now, and the clock they were rendered with.
pub fn snapshot(
    state: &ServerState,
    target: &Target,
    selector: &Selector,
) -> (Vec<SimObject>, Clock) {
    let sim = state.simulation();
    let clock = state.clock(&sim);
    let namespace = target
        .namespace
        .as_deref()
        .filter(|_| target.kind.namespaced());
    let mut objects = collect(sim.world(), target.kind, &target.version, namespace, clock);
    drop(sim);
    objects.retain(|o| {
        target.name.as_deref().is_none_or(|n| n == name_of(&o.json)) && selector.matches(&o.json)
    });
    // The API server lists in storage-key order: namespace, then name.
    objects.sort_by(|a, b| sort_key(&a.json).cmp(&sort_key(&b.json)));
    (objects, clock)
}

fn sort_key(object: &Value) -> (&str, &str) {
    (
        object["metadata"]["namespace"].as_str().unwrap_or(""),
        name_of(object),
    )
}

/// Sets `metadata.resourceVersion`.
pub fn stamp(object: &mut Value, revision: u64) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), Value::from(revision.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captures(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn captures_map_to_targets() {
        let pods =
            Target::from_captures(captures(&[("ns", "prod"), ("resource", "pods")])).unwrap();
        assert_eq!(
            (pods.kind, pods.namespace.as_deref()),
            (ResourceKind::Pod, Some("prod"))
        );
        let ns = Target::from_captures(captures(&[("ns", "prod")])).unwrap();
        assert_eq!(
            (ns.kind, ns.name.as_deref()),
            (ResourceKind::Namespace, Some("prod"))
        );
        let dr = Target::from_captures(captures(&[
            ("version", "v1beta1"),
            ("resource", "destinationrules"),
        ]));
        assert_eq!(dr.unwrap().version, "v1beta1");
        assert!(
            Target::from_captures(captures(&[
                ("version", "v2"),
                ("resource", "destinationrules")
            ]))
            .is_none()
        );
        assert!(Target::from_captures(captures(&[("resource", "destinationrules")])).is_none());
        assert!(
            Target::from_captures(captures(&[("ns", "prod"), ("resource", "namespaces")]))
                .is_none()
        );
    }
}
