//! Watching the Istio objects: DestinationRules and VirtualServices as a stream of
//! [`IstioEvent`]s, each carrying the whole current set (resolving one cluster's policy needs
//! all of them), in the same form [`super::list_istio_objects`] returns.
//!
//! First a probe finds, per kind, the API version it is served as (`v1`, else `v1beta1`, like
//! the list). When no kind is served (CRDs not installed, or RBAC), the stream says
//! [`IstioObjects::NotAvailable`] once and probes again every [`ISTIO_REPROBE`], so Istio
//! installed later is picked up; collection of counters does not depend on it. Otherwise one
//! kube-rs `watcher` per served kind (with `default_backoff()`) feeds a store; a kind missing
//! at the probe stays reported in `missing` until meshtop restarts. Watch and probe failures
//! become [`IstioEvent::Error`] and are retried. Stored objects drop `resourceVersion` and
//! `managedFields`, so a watch that re-sends unchanged objects yields no event.
//!
//! A `Stream`, like `watch.rs`, for the same reasons: lazy, cancelled by dropping it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt, future};
use kube::Client;
use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, DefaultBackoff, watcher};
use serde_json::Value;

use super::discovery::{
    ISTIO_GROUP, ISTIO_KINDS, IstioObjects, find_istio_kind, istio_api, to_json, unavailable_reason,
};
use super::error::ClientError;
use super::watch::{describe_watch_error, watch_config};

/// How often the Istio CRDs are looked for again while they are not available.
pub const ISTIO_REPROBE: Duration = Duration::from_secs(60);

/// What changed among the Istio objects.
#[derive(Debug, Clone, PartialEq)]
pub enum IstioEvent {
    /// The DestinationRules and VirtualServices now (DestinationRules first, each kind by
    /// namespace and name), or why Istio config is not available.
    Objects(IstioObjects),
    /// A probe or watch failed, with a message saying what to check; it is retried.
    Error(String),
}

/// Watches DestinationRules and VirtualServices in `namespace` (`None` = all); `server` is the
/// API server URL for error messages. The stream never ends on its own.
pub fn watch_istio_objects(
    client: Client,
    namespace: Option<String>,
    server: &str,
) -> impl Stream<Item = IstioEvent> + Send + 'static {
    let scope = Arc::new(Scope {
        client,
        namespace,
        server: server.to_string(),
    });
    let first = Probe {
        wait: Duration::ZERO,
        backoff: DefaultBackoff::default(),
        reported: None,
    };
    stream::unfold(Some(first), move |probe| {
        let scope = Arc::clone(&scope);
        async move { Some(probe_step(scope, probe?).await) }
    })
    .flatten()
}

/// Where to watch.
struct Scope {
    client: Client,
    namespace: Option<String>,
    server: String,
}

/// The next probe: after `wait`; `reported` is the not-available reason already sent.
struct Probe {
    wait: Duration,
    backoff: DefaultBackoff,
    reported: Option<String>,
}

/// One probe: the events it yields (for served kinds, the endless watch) and the next probe,
/// `None` once watching.
async fn probe_step(
    scope: Arc<Scope>,
    mut probe: Probe,
) -> (BoxStream<'static, IstioEvent>, Option<Probe>) {
    tokio::time::sleep(probe.wait).await;
    let (served, missing) = match find_served(&scope).await {
        Ok(found) => found,
        Err(e) => {
            probe.wait = probe.backoff.next().unwrap_or(ISTIO_REPROBE);
            let error = stream::iter([IstioEvent::Error(e.to_string())]);
            return (error.boxed(), Some(probe));
        }
    };
    if !served.is_empty() {
        return (watch_served(scope, served, missing).boxed(), None);
    }
    let reason = unavailable_reason(&missing);
    let events = match probe.reported.as_ref() == Some(&reason) {
        true => Vec::new(),
        false => vec![IstioEvent::Objects(IstioObjects::NotAvailable {
            reason: reason.clone(),
        })],
    };
    let next = Probe {
        wait: ISTIO_REPROBE,
        backoff: DefaultBackoff::default(),
        reported: Some(reason),
    };
    (stream::iter(events).boxed(), Some(next))
}

/// The resource each served kind is watched as, and the kinds that are not served.
async fn find_served(scope: &Scope) -> Result<(Vec<ApiResource>, Vec<String>), ClientError> {
    let (mut served, mut missing) = (Vec::new(), Vec::new());
    let one = ListParams::default().limit(1);
    for kind in ISTIO_KINDS {
        let ns = scope.namespace.as_deref();
        match find_istio_kind(&scope.client, ns, kind, &one, &scope.server).await? {
            Ok((resource, _)) => served.push(resource),
            Err(reason) => missing.push(format!("{}: {reason}", kind.0)),
        }
    }
    Ok((served, missing))
}

/// One watcher per served kind, merged and folded into an [`IstioStore`].
fn watch_served(
    scope: Arc<Scope>,
    served: Vec<ApiResource>,
    missing: Vec<String>,
) -> impl Stream<Item = IstioEvent> + Send + 'static {
    let watches = served.iter().enumerate().map(|(i, resource)| {
        let api = istio_api(&scope.client, scope.namespace.as_deref(), resource);
        let events = watcher(api, watch_config()).default_backoff();
        events.map(move |event| (i, event)).boxed()
    });
    let watches: Vec<_> = watches.collect();
    let store = IstioStore::new(served, missing);
    stream::select_all(watches)
        .scan(store, move |store, (i, event)| {
            let out = match event {
                Ok(event) => store.apply(i, event),
                Err(e) => {
                    let resource = store.resource_name(i);
                    let ns = scope.namespace.as_deref();
                    let message = describe_watch_error(e, &resource, ns, &scope.server);
                    Some(IstioEvent::Error(message))
                }
            };
            future::ready(Some(out))
        })
        .filter_map(future::ready)
}

/// `(namespace, name)` of an object.
type ObjectKey = (String, String);

/// The watched objects of every served kind.
struct IstioStore {
    kinds: Vec<KindStore>,
    missing: Vec<String>,
}

/// The objects of one kind.
struct KindStore {
    resource: ApiResource,
    objects: BTreeMap<ObjectKey, Value>,
    /// The objects of a (re)list in progress, between `Init` and `InitDone`.
    relist: Option<BTreeMap<ObjectKey, Value>>,
    /// A first list has completed.
    synced: bool,
}

impl IstioStore {
    fn new(served: Vec<ApiResource>, missing: Vec<String>) -> Self {
        let kinds = served.into_iter().map(|resource| KindStore {
            resource,
            objects: BTreeMap::new(),
            relist: None,
            synced: false,
        });
        IstioStore {
            kinds: kinds.collect(),
            missing,
        }
    }

    /// `destinationrules.networking.istio.io`, for messages.
    fn resource_name(&self, kind: usize) -> String {
        let plural = self
            .kinds
            .get(kind)
            .map_or("", |k| k.resource.plural.as_str());
        format!("{plural}.{ISTIO_GROUP}")
    }

    /// The whole set when `event` changed it and every kind has been listed once.
    fn apply(&mut self, kind: usize, event: watcher::Event<DynamicObject>) -> Option<IstioEvent> {
        let changed = self.kinds.get_mut(kind)?.apply(event);
        let ready = self.kinds.iter().all(|k| k.synced);
        (changed && ready).then(|| IstioEvent::Objects(self.current()))
    }

    fn current(&self) -> IstioObjects {
        let objects = self.kinds.iter().flat_map(|k| k.objects.values().cloned());
        IstioObjects::Available {
            objects: objects.collect(),
            missing: self.missing.clone(),
        }
    }
}

impl KindStore {
    /// Folds `event` in; `true` when the set changed (or was listed for the first time).
    fn apply(&mut self, event: watcher::Event<DynamicObject>) -> bool {
        match event {
            watcher::Event::Init => {
                self.relist = Some(BTreeMap::new());
                false
            }
            watcher::Event::InitApply(object) => {
                let (key, value) = self.entry(object);
                self.relist.as_mut().map(|r| r.insert(key, value));
                false
            }
            watcher::Event::InitDone => {
                let listed = self.relist.take().unwrap_or_default();
                let changed = !self.synced || listed != self.objects;
                (self.objects, self.synced) = (listed, true);
                changed
            }
            watcher::Event::Apply(object) => {
                let (key, value) = self.entry(object);
                self.objects.insert(key, value.clone()) != Some(value)
            }
            watcher::Event::Delete(object) => {
                let (key, _) = self.entry(object);
                self.objects.remove(&key).is_some()
            }
        }
    }

    /// The object's key and its JSON without the fields that change on every write.
    fn entry(&self, object: DynamicObject) -> (ObjectKey, Value) {
        let key = (
            object.metadata.namespace.clone().unwrap_or_default(),
            object.metadata.name.clone().unwrap_or_default(),
        );
        let mut value = to_json(object, &self.resource);
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
            meta.remove("managedFields");
        }
        (key, value)
    }
}

#[cfg(test)]
mod tests {
    use kube::api::GroupVersionKind;
    use serde_json::json;

    use super::*;

    fn resource(kind: &str, plural: &str) -> ApiResource {
        let gvk = GroupVersionKind::gvk(ISTIO_GROUP, "v1", kind);
        ApiResource::from_gvk_with_plural(&gvk, plural)
    }

    fn object(name: &str, rv: &str, host: &str) -> DynamicObject {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "prod", "resourceVersion": rv},
            "spec": {"host": host}
        }))
        .unwrap()
    }

    fn names(event: Option<IstioEvent>) -> Vec<String> {
        match event {
            Some(IstioEvent::Objects(IstioObjects::Available { objects, missing })) => {
                assert_eq!(missing, ["VirtualService: CRD not installed"]);
                let name = |o: &Value| {
                    let rv = &o["metadata"]["resourceVersion"];
                    assert!(rv.is_null(), "{o}");
                    let kind = o["kind"].as_str().unwrap();
                    format!("{kind}/{}", o["metadata"]["name"].as_str().unwrap())
                };
                objects.iter().map(name).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_set_is_sent_after_the_first_list_and_on_real_changes_only() {
        use watcher::Event::{Apply, Delete, Init, InitApply, InitDone};
        let dr = resource("DestinationRule", "destinationrules");
        let missing = vec!["VirtualService: CRD not installed".to_string()];
        let mut store = IstioStore::new(vec![dr], missing);
        assert_eq!(store.apply(0, Init), None);
        assert_eq!(store.apply(0, InitApply(object("b", "1", "b"))), None);
        assert_eq!(store.apply(0, InitApply(object("a", "2", "a"))), None);
        let first = store.apply(0, InitDone);
        assert_eq!(names(first), ["DestinationRule/a", "DestinationRule/b"]);
        // Re-sent unchanged with a new resourceVersion: no event.
        assert_eq!(store.apply(0, Apply(object("a", "9", "a"))), None);
        let changed = store.apply(0, Apply(object("a", "10", "a.prod")));
        assert_eq!(names(changed), ["DestinationRule/a", "DestinationRule/b"]);
        assert_eq!(
            names(store.apply(0, Delete(object("b", "11", "b")))),
            ["DestinationRule/a"]
        );
        assert_eq!(store.apply(0, Delete(object("b", "11", "b"))), None);
        assert_eq!(store.apply(7, Init), None);
        assert_eq!(
            store.resource_name(0),
            "destinationrules.networking.istio.io"
        );
    }

    #[test]
    fn nothing_is_sent_until_every_kind_was_listed() {
        use watcher::Event::{Init, InitDone};
        let kinds = vec![
            resource("DestinationRule", "destinationrules"),
            resource("VirtualService", "virtualservices"),
        ];
        let mut store = IstioStore::new(kinds, Vec::new());
        store.apply(0, Init);
        assert_eq!(store.apply(0, InitDone), None);
        store.apply(1, Init);
        let both = store.apply(1, InitDone);
        assert_eq!(
            both,
            Some(IstioEvent::Objects(IstioObjects::Available {
                objects: vec![],
                missing: vec![]
            }))
        );
    }
}
