//! `collect_snapshot`: the headless path behind `meshtop snapshot` and `meshtop check` —
//! connect, discover, poll every meshed pod for a window, and build a [`MeshSnapshot`] from
//! the metrics store, the latest `/clusters` and `/config_dump` per pod, and the Istio objects.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use thiserror::Error;
use tokio::sync::mpsc;

use super::message::{CollectorMsg, MonotonicClock};
use super::poller::{PollerConfig, PollerSet};
use crate::istio::{IstioConfig, ResolveOptions, from_json_objects};
use crate::kube::{
    ClientError, ClientOptions, IstioObjects, MeshPod, list_istio_objects, list_mesh_pods,
};
use crate::model::{
    Collection, CollectionState, MeshSnapshot, SnapshotInput, SourceState, StatsCollection,
    build_snapshot,
};

/// What `collect_snapshot` collects, besides the window and interval.
#[derive(Debug, Clone, Default)]
pub struct CollectOptions {
    pub client: ClientOptions,
    /// `--admin-port`: overrides every pod's admin port.
    pub admin_port: Option<u16>,
    /// Polling settings; its `interval` is replaced by the `interval` argument.
    pub poller: PollerConfig,
    pub resolve: ResolveOptions,
}

/// Why no snapshot could be collected at all (per-pod failures are data in the snapshot).
#[derive(Debug, Error)]
pub enum CollectError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("no pods with an istio-proxy sidecar in {0}")]
    NoMeshedPods(String),
}

/// Folds one poller message into the collection.
fn apply(collected: &mut Collection, msg: CollectorMsg) {
    match msg {
        CollectorMsg::Scraped {
            pod,
            at,
            stats,
            clusters,
            stats_collection,
            ..
        } => collected.record_scrape(&pod, at, &stats, clusters.map(|c| *c), stats_collection),
        CollectorMsg::ConfigDump { pod, dump, .. } => collected.record_config_dump(&pod, *dump),
        CollectorMsg::ServerInfo { .. } => {}
        CollectorMsg::State { pod, state, .. } => collected.record_state(&pod, state),
    }
}

/// Collects for `window`, polling every `interval`, and builds the snapshot.
pub async fn collect_snapshot(
    opts: &CollectOptions,
    window: Duration,
    interval: Duration,
) -> Result<MeshSnapshot, CollectError> {
    collect_with_config(opts, window, interval)
        .await
        .map(|(snapshot, _)| snapshot)
}

/// [`collect_snapshot`], also returning the Istio objects it resolved against (`Err(reason)`
/// when Istio config was not available), for renderers that show them.
pub async fn collect_with_config(
    opts: &CollectOptions,
    window: Duration,
    interval: Duration,
) -> Result<(MeshSnapshot, Result<IstioConfig, String>), CollectError> {
    let (client, target) = crate::kube::connect(&opts.client).await?;
    let namespace = target.namespace.as_deref();
    let pods = list_mesh_pods(&client, namespace, opts.admin_port, &target.server).await?;
    if pods.is_empty() {
        let scope = namespace.map_or("any namespace".to_string(), |ns| format!("namespace {ns}"));
        return Err(CollectError::NoMeshedPods(scope));
    }
    let (istio, istio_note) =
        fetch_istio(&client, namespace, &opts.resolve, &target.server).await?;
    let key = match namespace {
        Some(_) => pod_name,
        None => qualified_pod_name,
    };
    let config = PollerConfig {
        interval,
        ..opts.poller.clone()
    };
    let clock = MonotonicClock::start();
    let running: Vec<MeshPod> = pods.iter().filter(|p| is_running(p)).cloned().collect();
    let collected = poll_for(&client, &running, &config, clock, key, window).await;

    let now = clock.now();
    let input = SnapshotInput {
        store: &collected.clusters,
        now,
        // The whole collection, so the first poll is inside the window.
        window: Duration::from_millis(now.as_millis()),
        context: target.context.clone(),
        namespace: target.namespace.clone(),
        taken_at_unix_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| u64::try_from(d.as_millis()).ok()),
        sources: sources(&pods, key, &collected, now),
        endpoints: collected
            .endpoints
            .iter()
            .map(|(k, v)| (k.clone(), v))
            .collect(),
        config_dumps: collected
            .config_dumps
            .iter()
            .map(|(k, v)| (k.clone(), v))
            .collect(),
        istio: istio.as_ref(),
        resolve: opts.resolve.clone(),
        per_pod: true,
        hosts: Some(&collected.hosts),
        series: Some(&collected.series),
    };
    let mut snapshot = build_snapshot(&input);
    snapshot.config_issues.extend(istio_note.clone());
    let istio = istio.ok_or_else(|| istio_note.unwrap_or_default());
    Ok((snapshot, istio))
}

/// Runs the pollers for `window` and folds everything they sent.
async fn poll_for(
    client: &kube::Client,
    pods: &[MeshPod],
    config: &PollerConfig,
    clock: MonotonicClock,
    key: fn(&MeshPod) -> String,
    window: Duration,
) -> Collection {
    let (tx, mut rx) = mpsc::channel(1024);
    let pollers = PollerSet::spawn(client, pods, config, clock, key, &tx);
    drop(tx);
    let mut collected = Collection::default();
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        apply(&mut collected, msg);
    }
    pollers.shutdown().await;
    while let Ok(msg) = rx.try_recv() {
        apply(&mut collected, msg);
    }
    collected
}

fn pod_name(pod: &MeshPod) -> String {
    pod.name.clone()
}

fn qualified_pod_name(pod: &MeshPod) -> String {
    format!("{}/{}", pod.namespace, pod.name)
}

/// Only running pods are polled; a completed or pending pod has no Envoy to read.
fn is_running(pod: &MeshPod) -> bool {
    pod.phase == "Running"
}

/// One source per discovered pod; a polled pod still pending at the end never answered in
/// time.
fn sources(
    pods: &[MeshPod],
    key: fn(&MeshPod) -> String,
    collected: &Collection,
    end: crate::metrics::Timestamp,
) -> Vec<SourceState> {
    pods.iter()
        .map(|pod| {
            let name = key(pod);
            let (state, stats_collection) = match collected.states.get(&name) {
                None if !is_running(pod) => (
                    CollectionState::NotCollected {
                        reason: format!("pod is {}", pod.phase),
                    },
                    StatsCollection::None,
                ),
                Some((CollectionState::Pending, _)) | None => (
                    CollectionState::Failed {
                        since: end,
                        reason: "no poll finished within the window".into(),
                    },
                    StatsCollection::None,
                ),
                Some((state, collection)) => (state.clone(), *collection),
            };
            SourceState {
                pod: name,
                namespace: pod.namespace.clone(),
                state,
                stats_collection,
            }
        })
        .collect()
}

/// The Istio objects of `namespace` (and, best effort, of the root namespace where mesh-wide
/// rules live); `None` plus a note when Istio config is not available.
async fn fetch_istio(
    client: &kube::Client,
    namespace: Option<&str>,
    resolve: &ResolveOptions,
    server: &str,
) -> Result<(Option<IstioConfig>, Option<String>), ClientError> {
    let mut objects = match list_istio_objects(client, namespace, server).await? {
        IstioObjects::NotAvailable { reason } => return Ok((None, Some(reason))),
        IstioObjects::Available { objects, .. } => objects,
    };
    let root = resolve.root_namespace.as_str();
    if namespace.is_some_and(|ns| ns != root)
        && let Ok(IstioObjects::Available { objects: more, .. }) =
            list_istio_objects(client, Some(root), server).await
    {
        objects.extend(more);
    }
    Ok((Some(from_json_objects(objects, "kube")), None))
}
