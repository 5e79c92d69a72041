//! Discovery by watching, through kube-rs against the simulated cluster started in-process:
//! the pod watch opens with the same set `list_mesh_pods` gives, then reports a churn restart
//! as an `Upsert` and a deleted pod as `Removed`; the Istio watch opens with what
//! `list_istio_objects` gives. Against a small fake API server without Istio CRDs and without
//! RBAC on pods: "Istio config not available" and retried errors, as data. Finally
//! `PollerSet::apply` stops and starts pollers as a plan says.
//!
//! No fixed sleeps: every wait is for an event, bounded by a timeout.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use futures::{Stream, StreamExt};
use meshtop::collect::{
    CollectorMsg, MonotonicClock, PollerConfig, PollerPlan, PollerSet, apply_pod_event,
    plan_pollers, poller_key,
};
use meshtop::kube::{
    ClientOptions, IstioEvent, IstioObjects, MeshPod, PodEvent, ResolvedTarget, connect,
    list_istio_objects, list_mesh_pods, list_namespaces, watch_istio_objects, watch_mesh_pods,
};
use meshtop::model::CollectionState;
use meshtop::sim::scenario::SimConfig;
use meshtop::sim::server::{
    ClockMode, RunningServer, SimServerConfig, start as start_sim, write_kubeconfig,
};
use meshtop::sim::traffic::Simulation;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(15);

/// The simulated cluster for `scenario` and a client connected to it (namespace `prod`).
async fn simulation(
    scenario: &str,
    clock: ClockMode,
) -> (
    RunningServer,
    tempfile::TempDir,
    kube::Client,
    ResolvedTarget,
) {
    let cfg = SimConfig {
        scenario: scenario.parse().unwrap(),
        ..SimConfig::default()
    };
    let sim = Arc::new(Mutex::new(Simulation::new(&cfg)));
    let server_cfg = SimServerConfig {
        clock,
        ..SimServerConfig::default()
    };
    let token = server_cfg.token.clone();
    let server = start_sim(sim, server_cfg).await.unwrap();
    let (dir, client, target) = client_for(server.addr(), &token).await;
    (server, dir, client, target)
}

async fn client_for(
    addr: SocketAddr,
    token: &str,
) -> (tempfile::TempDir, kube::Client, ResolvedTarget) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    write_kubeconfig(&path, addr, token, "prod").unwrap();
    let opts = ClientOptions {
        kubeconfig: Some(path),
        ..ClientOptions::default()
    };
    let (client, target) = connect(&opts).await.unwrap();
    (dir, client, target)
}

/// The next item, or a failed test after [`WAIT`].
async fn next<S: Stream + Unpin>(events: &mut S) -> S::Item {
    tokio::time::timeout(WAIT, events.next())
        .await
        .expect("an event within the timeout")
        .expect("the stream does not end")
}

/// Advances the manually clocked simulation to `t_ms`, off the async workers.
async fn advance(server: &RunningServer, t_ms: u64) {
    let sim = server.simulation().clone();
    tokio::task::spawn_blocking(move || sim.lock().unwrap().advance_to(t_ms))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_watch_opens_with_the_listed_set_then_reports_a_restart_and_a_deletion() {
    let (server, _dir, client, target) = simulation("churn", ClockMode::Manual).await;
    let listed = list_mesh_pods(&client, Some("prod"), None, &target.server)
        .await
        .unwrap();
    assert!(listed.len() >= 3, "{listed:?}");
    assert!(listed.iter().all(|p| p.uid.len() == 36), "{listed:?}");
    let mut events = Box::pin(watch_mesh_pods(
        client.clone(),
        Some("prod".into()),
        None,
        &target.server,
    ));
    let first = next(&mut events).await;
    assert_eq!(first, PodEvent::Resynced(listed.clone()));
    let mut desired = BTreeMap::new();
    apply_pod_event(&mut desired, &first);

    // `churn` restarts the sidecar of the world's first pod at 120 s (down for 10 s).
    let (restarted, deleted) = {
        let sim = server.simulation().lock().unwrap();
        let world = sim.world();
        (world.pods[0].name.clone(), world.pods[1].name.clone())
    };
    advance(&server, 121_000).await;
    let mut expected = listed.iter().find(|p| p.name == restarted).unwrap().clone();
    (expected.ready, expected.proxy_restarts) = (false, 1);
    let upsert = next(&mut events).await;
    assert_eq!(upsert, PodEvent::Upsert(expected.clone()));
    apply_pod_event(&mut desired, &upsert);

    assert!(
        server
            .simulation()
            .lock()
            .unwrap()
            .delete_pod("prod", &deleted)
    );
    let removed = next(&mut events).await;
    assert_eq!(
        removed,
        PodEvent::Removed {
            namespace: "prod".into(),
            name: deleted.clone()
        }
    );
    apply_pod_event(&mut desired, &removed);

    // What the planner makes of it, with a poller running for every listed pod: the
    // restarted pod keeps its poller (same uid and port), the deleted one's stops.
    let running = listed
        .iter()
        .map(|p| (poller_key(p), meshtop::collect::PodIdentity::of(p)))
        .collect();
    let desired: Vec<MeshPod> = desired.into_values().collect();
    assert_eq!(desired.len(), listed.len() - 1);
    assert_eq!(
        plan_pollers(&running, &desired),
        PollerPlan {
            stop: vec![format!("prod/{deleted}")],
            ..PollerPlan::default()
        }
    );
    let after = list_mesh_pods(&client, Some("prod"), None, &target.server)
        .await
        .unwrap();
    assert_eq!(after, desired, "the watch agrees with a fresh list");
}

/// `metadata.resourceVersion` removed: it differs between any two reads.
fn without_resource_version(mut object: Value) -> Value {
    if let Some(meta) = object["metadata"].as_object_mut() {
        meta.remove("resourceVersion");
    }
    object
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn istio_watch_opens_with_the_listed_objects() {
    let (_server, _dir, client, target) = simulation("healthy", ClockMode::Manual).await;
    let IstioObjects::Available { objects, missing } =
        list_istio_objects(&client, Some("prod"), &target.server)
            .await
            .unwrap()
    else {
        panic!("the simulated cluster serves Istio objects");
    };
    assert!(missing.is_empty(), "{missing:?}");
    let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    assert!(kinds.contains(&"DestinationRule") && kinds.contains(&"VirtualService"));
    let mut events = Box::pin(watch_istio_objects(
        client,
        Some("prod".into()),
        &target.server,
    ));
    let expected = IstioObjects::Available {
        objects: objects.into_iter().map(without_resource_version).collect(),
        missing: vec![],
    };
    assert_eq!(next(&mut events).await, IstioEvent::Objects(expected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_are_listed_for_completion() {
    let (_server, _dir, client, target) = simulation("healthy", ClockMode::Manual).await;
    let names = list_namespaces(&client, &target.server).await.unwrap();
    assert!(names.contains(&"prod".to_string()), "{names:?}");
    assert!(names.contains(&"istio-system".to_string()), "{names:?}");
    assert!(names.is_sorted(), "{names:?}");
}

/// A fake API server: `/version` answers, Istio paths are 404 (no CRDs), everything else 403.
async fn api_without_istio_or_rbac() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let status = |code: StatusCode, reason: &str, message: String| {
        let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason, "code": code.as_u16()});
        (code, axum::Json(body)).into_response()
    };
    let app = Router::new()
        .route(
            "/version",
            get(|| async {
                axum::Json(json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0"}))
            }),
        )
        .fallback(move |uri: Uri| async move {
            match uri.path().contains("networking.istio.io") {
                true => status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    "the server could not find the requested resource".into(),
                ),
                false => status(
                    StatusCode::FORBIDDEN,
                    "Forbidden",
                    format!("forbidden: {}", uri.path()),
                ),
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_crds_and_rbac_are_data_and_the_watch_goes_on() {
    let (addr, fake) = api_without_istio_or_rbac().await;
    let (_dir, client, target) = client_for(addr, "any-token").await;

    let reason = "Istio config not available (DestinationRule: CRD \
                  destinationrules.networking.istio.io not installed (v1 and v1beta1: 404); \
                  VirtualService: CRD virtualservices.networking.istio.io not installed (v1 \
                  and v1beta1: 404))";
    let not_available = IstioObjects::NotAvailable {
        reason: reason.into(),
    };
    let listed = list_istio_objects(&client, Some("prod"), &target.server)
        .await
        .unwrap();
    assert_eq!(listed, not_available);
    let mut istio = Box::pin(watch_istio_objects(
        client.clone(),
        Some("prod".into()),
        &target.server,
    ));
    assert_eq!(next(&mut istio).await, IstioEvent::Objects(not_available));
    let err = list_namespaces(&client, &target.server).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "access denied: cannot list namespaces (RBAC); check with \
         `kubectl auth can-i list namespaces`"
    );

    let denied = "access denied: cannot list pods in prod (RBAC); check with \
                  `kubectl auth can-i list pods -n prod`";
    let mut pods = Box::pin(watch_mesh_pods(
        client,
        Some("prod".into()),
        None,
        &target.server,
    ));
    assert_eq!(next(&mut pods).await, PodEvent::Error(denied.into()));
    // The watcher retries after a backoff and fails the same way: still an event, not an end.
    assert_eq!(next(&mut pods).await, PodEvent::Error(denied.into()));
    fake.abort();
}

/// The pod a collector message is about.
fn pod_of(msg: &CollectorMsg) -> &str {
    match msg {
        CollectorMsg::Scraped { pod, .. }
        | CollectorMsg::State { pod, .. }
        | CollectorMsg::ConfigDump { pod, .. }
        | CollectorMsg::ServerInfo { pod, .. } => pod,
    }
}

/// Receives until `done` holds for a message; all messages received, in order.
async fn receive_until(
    rx: &mut tokio::sync::mpsc::Receiver<CollectorMsg>,
    mut done: impl FnMut(&CollectorMsg) -> bool,
) -> Vec<CollectorMsg> {
    let mut seen = Vec::new();
    loop {
        let msg = tokio::time::timeout(WAIT, rx.recv())
            .await
            .expect("a message within the timeout")
            .expect("pollers are running");
        let stop = done(&msg);
        seen.push(msg);
        if stop {
            return seen;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poller_set_apply_stops_starts_and_restarts_pollers() {
    let speed = ClockMode::Realtime { speed: 20.0 };
    let (_server, _dir, client, target) = simulation("healthy", speed).await;
    let pods = list_mesh_pods(&client, Some("prod"), None, &target.server)
        .await
        .unwrap();
    let (a, b) = (pods[0].clone(), pods[1].clone());
    let config = PollerConfig {
        interval: Duration::from_millis(100),
        ..PollerConfig::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let clock = MonotonicClock::start();
    let mut set = PollerSet::new(&client, &config, clock, |p| p.name.clone(), &tx);
    assert!(set.running().is_empty());

    let plan = plan_pollers(set.running(), std::slice::from_ref(&a));
    assert_eq!(plan.start, std::slice::from_ref(&a));
    set.apply(plan).await;
    let scraped = |name: &str, msg: &CollectorMsg| matches!(msg, CollectorMsg::Scraped { pod, .. } if pod == name);
    receive_until(&mut rx, |m| scraped(&a.name, m)).await;

    let plan = plan_pollers(set.running(), std::slice::from_ref(&b));
    assert_eq!(
        plan,
        PollerPlan {
            start: vec![b.clone()],
            stop: vec![poller_key(&a)],
            restart: vec![],
        }
    );
    set.apply(plan).await;
    assert_eq!(set.running().keys().collect::<Vec<_>>(), [&poller_key(&b)]);
    // Whatever is queued now was sent before `apply` returned; nothing from `a` may follow.
    while rx.try_recv().is_ok() {}
    let mut scrapes_of_b = 0;
    let after = receive_until(&mut rx, |m| {
        scrapes_of_b += usize::from(scraped(&b.name, m));
        scrapes_of_b == 3
    })
    .await;
    let senders: Vec<&str> = after.iter().map(pod_of).collect();
    assert!(senders.iter().all(|p| *p == b.name), "{senders:?}");

    // Recreated under the same name: a new poller, which announces itself as pending.
    let recreated = MeshPod {
        uid: "00000000-0000-4000-8000-000000000001".into(),
        ..b.clone()
    };
    let plan = plan_pollers(set.running(), std::slice::from_ref(&recreated));
    assert_eq!(plan.restart, std::slice::from_ref(&recreated));
    set.apply(plan).await;
    assert_eq!(set.running()[&poller_key(&b)].uid, recreated.uid);
    receive_until(&mut rx, |m| {
        matches!(m, CollectorMsg::State { pod, state: CollectionState::Pending, .. } if *pod == b.name)
    })
    .await;
    set.shutdown().await;
}
