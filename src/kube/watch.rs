//! Discovery by watching: the meshed pods as a stream of [`PodEvent`]s, so that pods that come,
//! go or restart while meshtop runs are picked up without a restart (DESIGN.md §3). The Istio
//! objects have the same kind of stream in `istio_watch.rs`.
//!
//! Built on kube-rs's `watcher` (list, then watch from the list's resourceVersion, re-list
//! when the API says the version is gone) with `default_backoff()` between failed attempts.
//! A watcher error becomes a [`PodEvent::Error`] worded like the list errors
//! ([`super::error::classify`]) and the watch goes on retrying: errors are data, never a panic
//! and never the end of the stream.
//!
//! Why a `Stream` and not a spawned task with a channel: the stream is lazy and does nothing
//! until polled, stops (closing its watch) when dropped, and needs no task handle to keep or
//! abort; the runtime polls it in its `select!` loop, or forwards it to a channel with one
//! `tokio::spawn(stream.for_each(…))` when it wants that.
//!
//! Events are deduplicated: a watch that re-sends every object (a reconnect, a server that
//! keeps no history) yields no `Upsert` for a pod whose [`MeshPod`] did not change.

use std::collections::BTreeMap;

use futures::{Stream, StreamExt, future};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};

use super::discovery::{MeshPod, mesh_pod};
use super::error::{ApiAction, classify};

/// How long one watch request may last (`timeoutSeconds`). The API server ends the watch
/// after this and the watcher resumes it from the last resourceVersion. It must stay below
/// the client's read timeout ([`super::API_READ_TIMEOUT`], 30 s): a quiet watch longer than
/// that would be cut by the client as a dead connection and reported as an error.
pub const WATCH_TIMEOUT_SECS: u32 = 25;

/// What changed among the meshed pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodEvent {
    /// A meshed pod appeared or changed: phase, readiness, proxy restarts, uid (recreated
    /// under the same name) or admin port.
    Upsert(MeshPod),
    /// A pod reported earlier is gone (deleted, or no longer has an `istio-proxy`).
    Removed { namespace: String, name: String },
    /// The complete set after a (re)list, sorted by namespace and name. It replaces what was
    /// known: a pod reported earlier and absent here is gone.
    Resynced(Vec<MeshPod>),
    /// The watch failed, with a message saying what to check; it retries by itself with
    /// backoff and the events resume with a `Resynced` or further changes.
    Error(String),
}

/// The watcher settings: kube-rs's defaults with [`WATCH_TIMEOUT_SECS`].
pub fn watch_config() -> watcher::Config {
    watcher::Config::default().timeout(WATCH_TIMEOUT_SECS)
}

/// Watches the meshed pods in `namespace` (`None` = all). `admin_port` overrides every pod's
/// admin port (`--admin-port`); `server` is the API server URL for error messages. The stream
/// never ends on its own.
pub fn watch_mesh_pods(
    client: Client,
    namespace: Option<String>,
    admin_port: Option<u16>,
    server: &str,
) -> impl Stream<Item = PodEvent> + Send + 'static {
    let api: Api<Pod> = match namespace.as_deref() {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let server = server.to_string();
    watcher(api, watch_config())
        .default_backoff()
        .scan(PodTracker::new(admin_port), move |tracker, event| {
            let out = match event {
                Ok(event) => tracker.apply(event),
                Err(e) => Some(PodEvent::Error(describe_watch_error(
                    e,
                    "pods",
                    namespace.as_deref(),
                    &server,
                ))),
            };
            future::ready(Some(out))
        })
        .filter_map(future::ready)
}

/// A watcher error as the message a person can act on: RBAC, credentials, HTTP status or
/// transport, naming the verb (`list` for the initial list, else `watch`) and resource.
pub(super) fn describe_watch_error(
    err: watcher::Error,
    resource: &str,
    namespace: Option<&str>,
    server: &str,
) -> String {
    let (verb, source) = match err {
        watcher::Error::InitialListFailed(e) => ("list", e),
        watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => ("watch", e),
        watcher::Error::WatchError(status) => ("watch", kube::Error::Api(status)),
        other @ watcher::Error::NoResourceVersion => {
            let action = ApiAction::new("watch", resource, namespace);
            return format!("{action} failed: {other}");
        }
    };
    classify(source, ApiAction::new(verb, resource, namespace), server).to_string()
}

/// `(namespace, name)`: how pods are keyed.
type PodKey = (String, String);

/// Folds watcher events into the known meshed pods and tells what changed.
#[derive(Debug, Default)]
struct PodTracker {
    admin_port: Option<u16>,
    known: BTreeMap<PodKey, MeshPod>,
    /// The pods of a (re)list in progress, between `Init` and `InitDone`.
    relist: Option<BTreeMap<PodKey, MeshPod>>,
}

impl PodTracker {
    fn new(admin_port: Option<u16>) -> Self {
        PodTracker {
            admin_port,
            ..PodTracker::default()
        }
    }

    /// The change `event` makes, if any.
    fn apply(&mut self, event: watcher::Event<Pod>) -> Option<PodEvent> {
        match event {
            watcher::Event::Init => {
                self.relist = Some(BTreeMap::new());
                None
            }
            watcher::Event::InitApply(pod) => {
                let found = mesh_pod(&pod, self.admin_port);
                if let (Some(relist), Some(found)) = (self.relist.as_mut(), found) {
                    relist.insert(key_of(&found), found);
                }
                None
            }
            watcher::Event::InitDone => {
                self.known = self.relist.take().unwrap_or_default();
                Some(PodEvent::Resynced(self.known.values().cloned().collect()))
            }
            watcher::Event::Apply(pod) => match mesh_pod(&pod, self.admin_port) {
                Some(found) => self.upsert(found),
                None => self.remove(&pod),
            },
            watcher::Event::Delete(pod) => self.remove(&pod),
        }
    }

    fn upsert(&mut self, pod: MeshPod) -> Option<PodEvent> {
        let key = key_of(&pod);
        if self.known.get(&key) == Some(&pod) {
            return None;
        }
        self.known.insert(key, pod.clone());
        Some(PodEvent::Upsert(pod))
    }

    fn remove(&mut self, pod: &Pod) -> Option<PodEvent> {
        let key = (
            pod.metadata.namespace.clone().unwrap_or_default(),
            pod.metadata.name.clone()?,
        );
        let (namespace, name) = self.known.remove_entry(&key)?.0;
        Some(PodEvent::Removed { namespace, name })
    }
}

fn key_of(pod: &MeshPod) -> PodKey {
    (pod.namespace.clone(), pod.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, meshed: bool, restarts: u32, ready: bool) -> Pod {
        let containers = match meshed {
            true => serde_json::json!([{"name": "app"}, {"name": "istio-proxy"}]),
            false => serde_json::json!([{"name": "app"}]),
        };
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "prod", "uid": format!("uid-{name}")},
            "spec": {"containers": containers},
            "status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
                "containerStatuses": [{"name": "istio-proxy", "restartCount": restarts,
                    "ready": ready, "image": "", "imageID": ""}]}
        }))
        .unwrap()
    }

    fn mesh(name: &str, restarts: u32, ready: bool) -> MeshPod {
        MeshPod {
            name: name.into(),
            namespace: "prod".into(),
            uid: format!("uid-{name}"),
            phase: "Running".into(),
            ready,
            proxy_restarts: restarts,
            admin_port: 15000,
        }
    }

    #[test]
    fn a_relist_then_changes_give_resync_upsert_and_removed() {
        use watcher::Event::{Apply, Delete, Init, InitApply, InitDone};
        let mut t = PodTracker::new(None);
        let events = [
            Init,
            InitApply(pod("b", true, 0, true)),
            InitApply(pod("db", false, 0, true)),
            InitApply(pod("a", true, 0, true)),
            InitDone,
            // A watch that re-sends what the list said: nothing new.
            Apply(pod("a", true, 0, true)),
            Apply(pod("a", true, 1, false)),
            Apply(pod("c", true, 0, true)),
            Apply(pod("db", false, 3, true)),
            Delete(pod("db", false, 3, true)),
            Delete(pod("b", true, 0, true)),
            Delete(pod("b", true, 0, true)),
        ];
        let got: Vec<PodEvent> = events.into_iter().filter_map(|e| t.apply(e)).collect();
        let removed = |name: &str| PodEvent::Removed {
            namespace: "prod".into(),
            name: name.into(),
        };
        assert_eq!(
            got,
            [
                PodEvent::Resynced(vec![mesh("a", 0, true), mesh("b", 0, true)]),
                PodEvent::Upsert(mesh("a", 1, false)),
                PodEvent::Upsert(mesh("c", 0, true)),
                removed("b"),
            ]
        );
        // A re-list replaces the set; pods missing from it are simply not in the new set.
        let relist = [Init, InitApply(pod("c", true, 0, true)), InitDone];
        let got: Vec<PodEvent> = relist.into_iter().filter_map(|e| t.apply(e)).collect();
        assert_eq!(got, [PodEvent::Resynced(vec![mesh("c", 0, true)])]);
        assert_eq!(t.apply(Delete(pod("a", true, 1, false))), None);
    }

    #[test]
    fn a_pod_that_loses_its_sidecar_is_removed_and_overrides_apply() {
        let mut t = PodTracker::new(Some(9901));
        let Some(PodEvent::Upsert(found)) = t.apply(watcher::Event::Apply(pod("a", true, 0, true)))
        else {
            panic!("expected an upsert");
        };
        assert_eq!(found.admin_port, 9901);
        assert_eq!(
            t.apply(watcher::Event::Apply(pod("a", false, 0, true))),
            Some(PodEvent::Removed {
                namespace: "prod".into(),
                name: "a".into()
            })
        );
    }

    #[test]
    fn watches_end_before_the_client_read_timeout_cuts_them() {
        // With kube's default (290 s) a quiet watch failed every 30 s with "error reading a
        // body from connection: timed out" against the simulated cluster.
        let timeout = watch_config().timeout.map(u64::from);
        assert_eq!(timeout, Some(25));
        assert!(timeout < Some(super::super::API_READ_TIMEOUT.as_secs()));
        assert_eq!(
            watch_config(),
            watcher::Config {
                timeout: Some(25),
                ..watcher::Config::default()
            }
        );
    }

    #[test]
    fn watcher_errors_are_worded_like_list_errors() {
        let status = |code: u16| {
            kube::core::Status::failure("denied", "Forbidden")
                .with_code(code)
                .boxed()
        };
        let list = watcher::Error::InitialListFailed(kube::Error::Api(status(403)));
        assert_eq!(
            describe_watch_error(list, "pods", Some("prod"), "https://k8s:6443"),
            "access denied: cannot list pods in prod (RBAC); check with \
             `kubectl auth can-i list pods -n prod`"
        );
        let watch = watcher::Error::WatchError(status(500));
        assert_eq!(
            describe_watch_error(watch, "pods", None, "https://k8s:6443"),
            "watch pods in all namespaces failed: HTTP 500: denied"
        );
        let no_rv = watcher::Error::NoResourceVersion;
        assert_eq!(
            describe_watch_error(no_rv, "pods", Some("prod"), "https://k8s:6443"),
            "watch pods in prod failed: no metadata.resourceVersion in watch result (does \
             resource support watch?)"
        );
    }
}
