//! The kube/collect path against a small fake API server (axum on 127.0.0.1:0): kubeconfig and
//! token, pod and Istio listing (v1 → v1beta1 fallback, missing CRDs), the port-forward
//! WebSocket exactly as kube-rs speaks it (TECH-NOTES §3), bridged to a fake Envoy admin served
//! by hyper, and RBAC denial and refused ports as per-pod states.
//!
//! The last tests run the same path against the simulated cluster (`crate::sim::server`).
//!
//! The fake Envoy answers with the project's own samples in `tests/data/order-svc/`; its
//! `/stats` counters grow with every request so that deltas are non-zero.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use meshtop::collect::Backoff;
use meshtop::collect::{
    CollectOptions, CollectorMsg, MonotonicClock, PollerConfig, PollerSet, collect_snapshot,
    default_stats_filter,
};
use meshtop::kube::MeshPod;
use meshtop::kube::admin_path::percent_encode;
use meshtop::kube::{
    AdminConnection, AdminError, AdminLimits, AdminPath, ClientError, ClientOptions, ForwardState,
    connect,
};
use meshtop::model::CollectionState;
use meshtop::sim::scenario::SimConfig;
use meshtop::sim::server::{
    ClockMode, RunningServer, SimServerConfig, start as start_sim, write_kubeconfig,
};
use meshtop::sim::traffic::Simulation;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "meshtop-test-token";
const INV: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";

#[derive(Clone, Copy, PartialEq)]
enum Forward {
    Ok,
    Forbidden,
    Refused,
    /// Envoy answers after 5 s.
    Slow,
    /// Envoy closes the connection (and so the forward) after every answer.
    CloseAfterEach,
    /// The first forward answers once and closes; every later one is refused.
    Dying,
}

#[derive(Default)]
struct Log {
    upgrades: HashMap<String, usize>,
    admin: Vec<(String, String)>,
}

struct Fake {
    pods: Vec<(String, Forward, Option<u16>)>,
    istio_installed: bool,
    log: Mutex<Log>,
}

type Shared = Arc<Fake>;

fn status(code: StatusCode, message: &str) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": message, "reason": "Test", "code": code.as_u16()});
    (code, axum::Json(body)).into_response()
}

fn deny(headers: &HeaderMap) -> Option<Response> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    (auth != Some(&format!("Bearer {TOKEN}")))
        .then(|| status(StatusCode::UNAUTHORIZED, "Unauthorized"))
}

async fn version(headers: HeaderMap) -> Response {
    deny(&headers).unwrap_or_else(|| {
        axum::Json(json!({"major": "1", "minor": "37", "gitVersion": "v1.37.0"})).into_response()
    })
}

async fn list_pods(
    State(fake): State<Shared>,
    Path(ns): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = deny(&headers) {
        return r;
    }
    let mut items: Vec<Value> = fake
        .pods
        .iter()
        .map(|(name, _, port)| {
            let annotations = match port {
                Some(p) => json!({"proxy.istio.io/config": format!("proxyAdminPort: {p}\n")}),
                None => json!({}),
            };
            json!({"metadata": {"name": name, "namespace": ns, "annotations": annotations},
            "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})
        })
        .collect();
    items.push(json!({"metadata": {"name": "db-0", "namespace": ns}, "spec": {"containers": [{"name": "postgres"}]}}));
    // A finished job with a sidecar, next to the running pods (none when there are none).
    if !fake.pods.is_empty() {
        items.push(json!({"metadata": {"name": "job-1", "namespace": ns},
        "spec": {"containers": [{"name": "migrate"}, {"name": "istio-proxy"}]}, "status": {"phase": "Succeeded"}}));
    }
    axum::Json(json!({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}))
        .into_response()
}

async fn istio(
    State(fake): State<Shared>,
    Path((version, ns, plural)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = deny(&headers) {
        return r;
    }
    if !fake.istio_installed || version != "v1beta1" {
        return status(
            StatusCode::NOT_FOUND,
            "the server could not find the requested resource",
        );
    }
    let items = match plural.as_str() {
        // List items without apiVersion/kind, as many API servers send them.
        "virtualservices" => vec![json!({"metadata": {"name": "inventory", "namespace": ns},
            "spec": {"hosts": ["inventory-svc"], "http": [{"route": [{"destination": {"host": "inventory-svc"}}], "timeout": "1s"}]}})],
        _ => vec![],
    };
    axum::Json(json!({"apiVersion": format!("networking.istio.io/{version}"), "kind": "List", "metadata": {}, "items": items})).into_response()
}

async fn portforward(
    State(fake): State<Shared>,
    Path((_ns, pod)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(r) = deny(&headers) {
        return r;
    }
    let Some(&(_, mode, _)) = fake.pods.iter().find(|p| p.0 == pod) else {
        return status(StatusCode::NOT_FOUND, "pod not found");
    };
    if mode == Forward::Forbidden {
        let msg = format!(
            "pods \"{pod}\" is forbidden: User \"bob\" cannot create resource \"pods/portforward\""
        );
        return status(StatusCode::FORBIDDEN, &msg);
    }
    let port: u16 = query.get("ports").and_then(|p| p.parse().ok()).unwrap_or(0);
    let upgrades = {
        let mut log = fake.log.lock().unwrap();
        let count = log.upgrades.entry(pod.clone()).or_default();
        *count += 1;
        *count
    };
    let mode = match mode {
        Forward::Dying if upgrades > 1 => Forward::Refused,
        Forward::Dying => Forward::CloseAfterEach,
        other => other,
    };
    ws.protocols(["v4.channel.k8s.io"])
        .on_upgrade(move |socket| bridge(socket, fake, pod, port, mode))
}

/// Speaks kube's port-forward framing on `socket` and bridges channel 0 to a fake Envoy.
async fn bridge(socket: WebSocket, fake: Shared, pod: String, port: u16, mode: Forward) {
    let (mut tx, mut rx) = socket.split();
    let [lo, hi] = port.to_le_bytes();
    for init in [[0, lo, hi], [1, lo, hi]] {
        let _ = tx
            .send(Message::Binary(Bytes::copy_from_slice(&init)))
            .await;
    }
    if mode == Forward::Refused {
        let text =
            format!("\x01error forwarding port {port} to pod {pod}, uid : connection refused");
        let _ = tx
            .send(Message::Binary(Bytes::from(text.into_bytes())))
            .await;
        let _ = tx.send(Message::Close(None)).await;
        // Like kubelet, keep the connection until the client is done, so a request the client
        // already sent does not race the error message.
        let drain = async { while let Some(Ok(_)) = rx.next().await {} };
        let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
        return;
    }
    let (client_end, server_end) = tokio::io::duplex(1 << 20);
    let service = hyper::service::service_fn(move |req| {
        let (fake, pod) = (fake.clone(), pod.clone());
        async move {
            if mode == Forward::Slow {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            Ok::<_, std::convert::Infallible>(envoy(&fake, &pod, &req))
        }
    });
    tokio::spawn(
        hyper::server::conn::http1::Builder::new()
            .keep_alive(mode != Forward::CloseAfterEach)
            .serve_connection(TokioIo::new(server_end), service),
    );
    let (mut read, mut write) = tokio::io::split(client_end);
    let up = async {
        while let Some(Ok(msg)) = rx.next().await {
            match msg {
                Message::Binary(b) if b.len() > 1 && b[0] == 0 => {
                    let written = write.write_all(&b[1..]).await;
                    if written.is_err() {
                        break;
                    }
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
    };
    let down = async {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = read.read(&mut buf).await {
            let mut frame = vec![0u8];
            frame.extend_from_slice(&buf[..n]);
            if tx.send(Message::Binary(Bytes::from(frame))).await.is_err() {
                break;
            }
        }
        let _ = tx.send(Message::Close(None)).await;
    };
    tokio::select! { _ = up => {}, _ = down => {} }
}

/// The fake Envoy admin: counters grow by 3 timeouts and 100 requests per `/stats` read.
fn envoy(
    fake: &Fake,
    pod: &str,
    req: &hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let uri = req.uri().to_string();
    let reads = {
        let mut log = fake.log.lock().unwrap();
        log.admin.push((pod.to_string(), uri.clone()));
        log.admin
            .iter()
            .filter(|(p, u)| p == pod && u.starts_with("/stats"))
            .count() as u64
    };
    let body: String = match req.uri().path() {
        "/stats" => format!(
            "cluster.{INV};.upstream_rq_timeout: {}\ncluster.{INV};.upstream_rq_total: {}\n\
             cluster.{INV};.membership_healthy: 3\ncluster.xds-grpc.upstream_cx_total: 1\nserver.uptime: {}\n",
            3 * reads,
            100 * reads,
            600 + reads
        ),
        "/clusters" => include_str!("data/order-svc/clusters.json").into(),
        "/config_dump" => include_str!("data/order-svc/config_dump.json").into(),
        "/server_info" => include_str!("data/order-svc/server_info.json").into(),
        _ => {
            return hyper::Response::builder()
                .status(404)
                .body(Full::new(Bytes::from("invalid path")))
                .unwrap();
        }
    };
    hyper::Response::new(Full::new(Bytes::from(body)))
}

/// Starts the fake and writes a kubeconfig for it (context `fake-prod`, namespace `prod`).
async fn start(fake: Fake, token: &str) -> (Shared, tempfile::TempDir, ClientOptions) {
    let fake = Arc::new(fake);
    let app = Router::new()
        .route("/version", get(version))
        .route("/api/v1/namespaces/{ns}/pods", get(list_pods))
        .route(
            "/api/v1/namespaces/{ns}/pods/{pod}/portforward",
            get(portforward),
        )
        .route(
            "/apis/networking.istio.io/{version}/namespaces/{ns}/{plural}",
            get(istio),
        )
        .fallback(|| async { status(StatusCode::NOT_FOUND, "not found") })
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    let config = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: fake-prod\n\
         clusters:\n- name: fake\n  cluster: {{server: 'http://{addr}'}}\n\
         users:\n- name: u\n  user: {{token: {token}}}\n\
         contexts:\n- name: fake-prod\n  context: {{cluster: fake, user: u, namespace: prod}}\n"
    );
    std::fs::write(&path, config).unwrap();
    let opts = ClientOptions {
        kubeconfig: Some(path),
        ..ClientOptions::default()
    };
    (fake, dir, opts)
}

fn pods(list: &[(&str, Forward, Option<u16>)]) -> Vec<(String, Forward, Option<u16>)> {
    list.iter()
        .map(|(n, f, p)| (n.to_string(), *f, *p))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_through_kept_alive_port_forwards_with_rbac_and_refusal_as_states() {
    let fake = Fake {
        pods: pods(&[
            ("order-1", Forward::Ok, Some(15001)),
            ("order-2", Forward::Forbidden, None),
            ("order-3", Forward::Refused, None),
        ]),
        istio_installed: true,
        log: Mutex::default(),
    };
    let (fake, _dir, client) = start(fake, TOKEN).await;
    let opts = CollectOptions {
        client,
        ..CollectOptions::default()
    };
    let snap = collect_snapshot(
        &opts,
        Duration::from_millis(1500),
        Duration::from_millis(200),
    )
    .await
    .unwrap();

    assert_eq!(
        (snap.context.as_deref(), snap.namespace.as_deref()),
        (Some("fake-prod"), Some("prod"))
    );
    let states: Vec<(&str, &CollectionState)> = snap
        .sources
        .iter()
        .map(|s| (s.pod.as_str(), &s.state))
        .collect();
    assert_eq!(states.len(), 4, "db-0 has no sidecar: {states:?}");
    let not_running = CollectionState::NotCollected {
        reason: "pod is Succeeded".into(),
    };
    assert_eq!(states[0], ("job-1", &not_running));
    assert!(
        matches!(states[1], ("order-1", CollectionState::Ok { .. })),
        "{states:?}"
    );
    assert_eq!(
        states[2],
        (
            "order-2",
            &CollectionState::Forbidden {
                reason: "create pods/portforward in prod".into()
            }
        )
    );
    match states[3] {
        ("order-3", CollectionState::Failed { reason, .. }) => assert!(
            reason.starts_with("/stats: ")
                && reason.contains(
                    "error forwarding port 15000 to pod order-3, uid : connection refused"
                ),
            "{reason}"
        ),
        other => panic!("order-3: {other:?}"),
    }

    let inv = snap.cluster(INV).expect("inventory cluster");
    let timeouts = inv.counters["upstream_rq_timeout"];
    assert!(
        timeouts.increase > 0 && timeouts.increase % 3 == 0,
        "{timeouts:?}"
    );
    assert_eq!(
        inv.increase("upstream_rq_total"),
        Some(timeouts.increase / 3 * 100)
    );
    let config = inv
        .config
        .as_ref()
        .expect("VirtualService resolved (v1beta1 fallback)");
    assert_eq!(config.route_timeout_ms, Some(1000));
    assert_eq!(config.virtual_service.as_deref(), Some("prod/inventory"));
    assert!(inv.endpoints.is_some(), "/clusters?format=json was read");
    assert!(inv.effective_config.is_some(), "/config_dump was read");

    let log = fake.log.lock().unwrap();
    assert_eq!(
        log.upgrades.get("order-1"),
        Some(&1),
        "one kept-alive forward for all polls"
    );
    let order1: Vec<&str> = log
        .admin
        .iter()
        .filter(|(p, _)| p == "order-1")
        .map(|(_, u)| u.as_str())
        .collect();
    let expected_stats = format!(
        "/stats?usedonly&filter={}",
        percent_encode(&default_stats_filter())
    );
    let stats_reads = order1.iter().filter(|u| u.starts_with("/stats")).count();
    assert!(stats_reads >= 3, "{order1:?}");
    assert!(
        order1
            .iter()
            .filter(|u| u.starts_with("/stats"))
            .all(|u| *u == expected_stats)
    );
    assert_eq!(
        order1
            .iter()
            .filter(|u| **u == "/clusters?format=json")
            .count(),
        stats_reads
    );
    assert_eq!(order1.iter().filter(|u| **u == "/server_info").count(), 1);
    assert_eq!(
        order1
            .iter()
            .filter(|u| **u == "/config_dump?resource=dynamic_active_clusters")
            .count(),
        1
    );
    assert!(
        log.admin
            .iter()
            .all(|(p, _)| p == "order-1" || p == "order-3")
    );
}

#[tokio::test]
async fn missing_istio_crds_are_a_note_not_an_error() {
    let fake = Fake {
        pods: pods(&[("order-1", Forward::Ok, None)]),
        istio_installed: false,
        log: Mutex::default(),
    };
    let (_fake, _dir, client) = start(fake, TOKEN).await;
    let opts = CollectOptions {
        client,
        ..CollectOptions::default()
    };
    let snap = collect_snapshot(
        &opts,
        Duration::from_millis(600),
        Duration::from_millis(200),
    )
    .await
    .unwrap();
    assert_eq!(
        snap.config_issues,
        [
            "Istio config not available (DestinationRule: CRD destinationrules.networking.istio.io not installed \
          (v1 and v1beta1: 404); VirtualService: CRD virtualservices.networking.istio.io not installed (v1 and v1beta1: 404))"
        ]
    );
    let inv = snap.cluster(INV).expect("counters still collected");
    assert!(inv.config.is_none());
}

#[tokio::test]
async fn a_wrong_token_is_reported_as_401_with_the_server_url() {
    let fake = Fake {
        pods: vec![],
        istio_installed: true,
        log: Mutex::default(),
    };
    let (_fake, _dir, opts) = start(fake, "stale-token").await;
    let Err(err) = connect(&opts).await else {
        panic!("accepted a wrong token")
    };
    assert!(matches!(err, ClientError::Unauthorized { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("the Kubernetes API server at http://127.0.0.1:"),
        "{text}"
    );
    assert!(text.ends_with("rejected the credentials (401 Unauthorized); log in again or refresh the token of the context's user"), "{text}");
}

#[tokio::test]
async fn no_meshed_pods_is_an_error_naming_the_namespace() {
    let fake = Fake {
        pods: vec![],
        istio_installed: true,
        log: Mutex::default(),
    };
    let (_fake, _dir, client) = start(fake, TOKEN).await;
    let opts = CollectOptions {
        client,
        ..CollectOptions::default()
    };
    let err = collect_snapshot(&opts, Duration::from_millis(100), Duration::from_millis(50))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no pods with an istio-proxy sidecar in namespace prod"
    );
}

#[tokio::test]
async fn admin_connection_caps_bodies_times_out_and_reopens_broken_forwards() {
    let fake = Fake {
        pods: pods(&[
            ("order-1", Forward::Ok, None),
            ("slow-1", Forward::Slow, None),
            ("flaky-1", Forward::CloseAfterEach, None),
        ]),
        istio_installed: true,
        log: Mutex::default(),
    };
    let (fake, _dir, opts) = start(fake, TOKEN).await;
    let (client, _) = connect(&opts).await.unwrap();
    let limits = AdminLimits {
        request_timeout: Duration::from_millis(300),
        max_body_bytes: 1_000,
    };
    let stats = AdminPath::filtered_stats("x");

    let mut conn = AdminConnection::new(client.clone(), "prod", "order-1", 15000, limits);
    assert_eq!(conn.state(), &ForwardState::Connecting);
    let body = conn.get(&stats).await.unwrap();
    assert!(
        body.starts_with(b"cluster.outbound|8080||inventory-svc"),
        "{body:?}"
    );
    assert_eq!((conn.state(), conn.generation()), (&ForwardState::Ready, 1));
    let err = conn.get(&AdminPath::Ready).await.unwrap_err();
    assert_eq!(
        err,
        AdminError::Status {
            path: "/ready".into(),
            code: 404
        }
    );
    assert_eq!(conn.generation(), 1, "an HTTP error keeps the connection");
    let err = conn.get(&AdminPath::active_clusters()).await.unwrap_err();
    assert_eq!(
        err,
        AdminError::TooLarge {
            path: "/config_dump".into(),
            limit: 1_000
        }
    );
    assert!(matches!(conn.state(), ForwardState::Broken { .. }));
    conn.get(&stats).await.unwrap();
    assert_eq!((conn.state(), conn.generation()), (&ForwardState::Ready, 2));
    conn.close().await;

    let mut slow = AdminConnection::new(client.clone(), "prod", "slow-1", 15000, limits);
    let err = slow.get(&AdminPath::ServerInfo).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "/server_info: no complete answer within 0.3s"
    );
    assert_eq!(
        slow.state(),
        &ForwardState::Broken {
            reason: err.to_string()
        }
    );

    let mut flaky = AdminConnection::new(client.clone(), "prod", "flaky-1", 15000, limits);
    for _ in 0..3 {
        flaky.get(&stats).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(flaky.generation(), 3, "every closed forward was reopened");

    let mut denied = AdminConnection::new(client, "prod", "order-2", 15000, limits);
    let err = denied.get(&stats).await.unwrap_err();
    assert_eq!(
        err,
        AdminError::Forward {
            pod: "order-2".into(),
            port: 15000,
            reason: "HTTP 404: pod not found".into()
        }
    );
    let log = fake.log.lock().unwrap();
    assert_eq!(log.upgrades.get("order-1"), Some(&2));
    assert_eq!(log.upgrades.get("flaky-1"), Some(&3));
}

/// The fake API with one meshed pod whose forward behaves as `forward`, a client for it, and
/// the pod as discovery reports it.
async fn one_pod(
    name: &str,
    forward: Forward,
) -> (Shared, tempfile::TempDir, kube::Client, MeshPod) {
    let fake = Fake {
        pods: pods(&[(name, forward, None)]),
        istio_installed: true,
        log: Mutex::default(),
    };
    let (fake, dir, opts) = start(fake, TOKEN).await;
    let (client, _) = connect(&opts).await.unwrap();
    let pod = MeshPod {
        name: name.into(),
        namespace: "prod".into(),
        uid: String::new(),
        phase: "Running".into(),
        ready: true,
        proxy_restarts: 0,
        admin_port: 15000,
    };
    (fake, dir, client, pod)
}

#[tokio::test]
async fn a_pod_that_stops_answering_goes_stale_and_backs_off() {
    let (fake, _dir, client, pod) = one_pod("order-9", Forward::Dying).await;
    let config = PollerConfig {
        interval: Duration::from_millis(50),
        backoff: Backoff {
            base: Duration::from_millis(200),
            cap: Duration::from_millis(400),
        },
        ..PollerConfig::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let clock = MonotonicClock::start();
    let pollers = PollerSet::spawn(&client, &[pod], &config, clock, |p| p.name.clone(), &tx);
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(900);
    while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        seen.push(msg);
    }
    pollers.shutdown().await;

    let kinds: Vec<String> = seen
        .iter()
        .map(|m| match m {
            CollectorMsg::Scraped { issues, .. } => format!("scraped({} issues)", issues.len()),
            CollectorMsg::State { state, .. } => state.word().to_string(),
            CollectorMsg::ConfigDump { .. } => "config_dump".into(),
            CollectorMsg::ServerInfo { .. } => "server_info".into(),
        })
        .collect();
    // One answer, then /server_info, /clusters and /config_dump fail on refused forwards.
    assert_eq!(&kinds[..2], ["pending", "scraped(3 issues)"], "{kinds:?}");
    assert!(
        kinds.len() >= 4 && kinds[2..].iter().all(|k| k == "stale"),
        "{kinds:?}"
    );
    let (first_at, states): (_, Vec<&CollectionState>) = match &seen[1] {
        CollectorMsg::Scraped { at, .. } => (
            *at,
            seen[2..]
                .iter()
                .filter_map(|m| match m {
                    CollectorMsg::State { state, .. } => Some(state),
                    _ => None,
                })
                .collect(),
        ),
        other => panic!("{other:?}"),
    };
    let CollectionState::Stale {
        since,
        last_ok,
        reason,
    } = states[0]
    else {
        panic!("{states:?}")
    };
    assert!(*last_ok <= first_at && *since >= first_at, "{states:?}");
    assert!(reason.contains("connection refused"), "{reason}");
    assert!(
        states
            .iter()
            .all(|s| matches!(s, CollectionState::Stale { since: s2, .. } if s2 == since)),
        "the streak keeps its start: {states:?}"
    );
    // The first poll opens 4 forwards (1 answer, 3 refused); then 900 ms with 100–400 ms of
    // backoff allow a few more attempts, far fewer than one per 50 ms interval.
    let upgrades = fake.log.lock().unwrap().upgrades["order-9"];
    assert!((4..=10).contains(&upgrades), "{upgrades} forwards opened");
}

#[tokio::test]
async fn clusters_are_read_at_their_own_cadence() {
    let (fake, _dir, client, pod) = one_pod("order-1", Forward::Ok).await;
    let config = PollerConfig {
        interval: Duration::from_millis(40),
        clusters_every: Duration::from_millis(400),
        ..PollerConfig::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let clock = MonotonicClock::start();
    let pollers = PollerSet::spawn(&client, &[pod], &config, clock, |p| p.name.clone(), &tx);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    pollers.shutdown().await;
    // What the pollers delivered (a poll cut off by the shutdown may have been served by the
    // fake and never delivered: at most one).
    let mut with_clusters = Vec::new();
    while let Ok(msg) = rx.try_recv() {
        if let CollectorMsg::Scraped {
            clusters, issues, ..
        } = msg
        {
            assert!(issues.is_empty(), "{issues:?}");
            with_clusters.push(clusters.is_some());
        }
    }
    let log = fake.log.lock().unwrap();
    let reads = |path: &str| {
        log.admin
            .iter()
            .filter(|(_, u)| u.starts_with(path))
            .count()
    };
    let (stats, clusters) = (reads("/stats"), reads("/clusters"));
    let delivered = with_clusters.iter().filter(|c| **c).count();
    // Every poll reads /stats; /clusters on the first poll, then at most once per 400 ms.
    assert!(
        with_clusters.len() >= 5,
        "{} polls in 1 s",
        with_clusters.len()
    );
    assert!(
        stats - with_clusters.len() <= 1,
        "{stats} reads, {with_clusters:?}"
    );
    assert!(
        (1..=4).contains(&clusters),
        "{clusters} /clusters reads in 1 s"
    );
    assert!(
        clusters - delivered <= 1,
        "{clusters} reads, {with_clusters:?}"
    );
    assert!(with_clusters[0], "the first poll reads /clusters");
    let skipped = with_clusters.iter().filter(|c| !**c).count();
    assert!(
        skipped >= with_clusters.len() / 2,
        "most polls skip /clusters: {with_clusters:?}"
    );
}

/// Starts the simulated cluster for `scenario` with simulated time 20× real time, and a
/// kubeconfig for it.
async fn start_simulation(
    scenario: &str,
    deny_portforward: bool,
) -> (RunningServer, tempfile::TempDir, CollectOptions) {
    let cfg = SimConfig {
        scenario: scenario.parse().unwrap(),
        ..SimConfig::default()
    };
    let sim = Arc::new(Mutex::new(Simulation::new(&cfg)));
    let server_cfg = SimServerConfig {
        clock: ClockMode::Realtime { speed: 20.0 },
        deny_portforward,
        ..SimServerConfig::default()
    };
    let token = server_cfg.token.clone();
    let server = start_sim(sim, server_cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    write_kubeconfig(&path, server.addr(), &token, "prod").unwrap();
    let opts = CollectOptions {
        client: ClientOptions {
            kubeconfig: Some(path),
            ..ClientOptions::default()
        },
        ..CollectOptions::default()
    };
    (server, dir, opts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_keepalive_scenario_end_to_end_through_the_simulated_cluster() {
    let (_server, _dir, opts) = start_simulation("grpc-keepalive", false).await;
    let snap = collect_snapshot(&opts, Duration::from_secs(2), Duration::from_millis(250))
        .await
        .unwrap();
    assert!(snap.sources.len() >= 2, "{:?}", snap.sources);
    for source in &snap.sources {
        assert!(source.state.is_ok(), "{source:?}");
    }
    let inv = snap.cluster(INV).expect("inventory cluster");
    let timeouts = inv.counters["upstream_rq_timeout"];
    assert!(timeouts.increase > 0, "{timeouts:?}");
    let config = inv.config.as_ref().expect("Istio config resolved");
    assert_eq!(config.route_timeout_ms, Some(1000));
    assert!(snap.config_issues.is_empty(), "{:?}", snap.config_issues);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_rbac_denial_makes_every_source_forbidden() {
    let (_server, _dir, opts) = start_simulation("healthy", true).await;
    let snap = collect_snapshot(
        &opts,
        Duration::from_millis(500),
        Duration::from_millis(250),
    )
    .await
    .unwrap();
    assert!(!snap.sources.is_empty());
    let forbidden = CollectionState::Forbidden {
        reason: "create pods/portforward in prod".into(),
    };
    for source in &snap.sources {
        assert_eq!(source.state, forbidden, "{source:?}");
    }
}
