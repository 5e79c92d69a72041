//! The simulated Kubernetes API server against real clients: kube-rs (lists, dynamic Istio
//! objects, watcher, port-forward, pod proxy), raw HTTP, and the real `kubectl` when it is on
//! PATH. Every server listens on 127.0.0.1:0 with a manual clock, so outputs are exact.

use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::runtime::watcher;
use kube::{Client, Config};
use serde_json::Value;
use tokio::io::AsyncReadExt;

use meshtop::envoy::stats_text::parse_stats_text;
use meshtop::sim::envoy::respond_to_path;
use meshtop::sim::model::SimPod;
use meshtop::sim::scenario::SimConfig;
use meshtop::sim::server::{
    self, ClockMode, Faults, RunningServer, SimServerConfig, write_kubeconfig,
};
use meshtop::sim::traffic::Simulation;

const TOKEN: &str = "test-token-1";
const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

fn simulation() -> Simulation {
    Simulation::new(&SimConfig::default())
}

struct Fixture {
    server: RunningServer,
    sim: Arc<Mutex<Simulation>>,
}

impl Fixture {
    async fn start() -> Self {
        Self::start_with(false).await
    }

    async fn start_with(allow_anonymous: bool) -> Self {
        let sim = Arc::new(Mutex::new(simulation()));
        let cfg = SimServerConfig {
            token: TOKEN.into(),
            allow_anonymous,
            clock: ClockMode::Manual,
            ..SimServerConfig::default()
        };
        let server = server::start(sim.clone(), cfg)
            .await
            .expect("server starts");
        Fixture { server, sim }
    }

    fn client(&self) -> Client {
        let mut config = Config::new(self.server.url().parse().unwrap());
        config.auth_info.token = Some(TOKEN.to_string().into());
        config.default_namespace = "prod".into();
        // kube-rs 5 retries 503 (the pod proxy's "connection refused") without limit.
        config.default_retry = false;
        Client::try_from(config).unwrap()
    }

    /// The world's pods in `namespace`, in the API's name order.
    fn pods_in(&self, namespace: &str) -> Vec<SimPod> {
        let sim = self.sim.lock().unwrap();
        let mut pods: Vec<SimPod> = sim
            .world()
            .pods
            .iter()
            .filter(|p| p.namespace == namespace)
            .cloned()
            .collect();
        pods.sort_by(|a, b| a.name.cmp(&b.name));
        pods
    }

    /// A meshed prod pod: the port-forward and proxy target.
    fn meshed_pod(&self) -> SimPod {
        self.pods_in("prod")
            .into_iter()
            .find(|p| p.meshed)
            .expect("a meshed pod in prod")
    }

    /// What the Envoy admin emulator answers for `path` on `pod` right now.
    fn admin_body(&self, pod: &SimPod, path: &str) -> String {
        let sim = self.sim.lock().unwrap();
        let proxy = sim.proxy(&pod.namespace, &pod.name).expect("proxy state");
        let reply = respond_to_path(&proxy, path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        reply.body
    }
}

/// A plain HTTP/1.1 GET over a fresh connection: (status, body).
async fn raw_get(
    server: &RunningServer,
    path: &str,
    token: Option<&str>,
    accept: Option<&str>,
) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut request = http::Request::get(path).header("host", server.addr().to_string());
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = sender
        .send_request(request.body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn api_code(error: kube::Error) -> (u16, String) {
    match error {
        kube::Error::Api(status) => (status.code, status.message.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn wrong_or_missing_token_gets_401_status() {
    let fx = Fixture::start().await;
    for token in [Some("wrong"), None] {
        let (code, body) = raw_get(&fx.server, "/api/v1/namespaces/prod/pods", token, None).await;
        assert_eq!(code, 401);
        let status: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (status["kind"].as_str(), status["code"].as_u64()),
            (Some("Status"), Some(401))
        );
        assert_eq!(status["reason"], "Unauthorized");
    }
    let (code, _) = raw_get(&fx.server, "/version", Some(TOKEN), None).await;
    assert_eq!(code, 200);

    // With anonymous access (what kubectl over http:// needs) only a wrong token fails.
    let open = Fixture::start_with(true).await;
    assert_eq!(
        raw_get(&open.server, "/api/v1/pods", None, None).await.0,
        200
    );
    assert_eq!(
        raw_get(&open.server, "/api/v1/pods", Some("wrong"), None)
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn non_loopback_listen_is_refused() {
    let sim = Arc::new(Mutex::new(simulation()));
    let cfg = SimServerConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..SimServerConfig::default()
    };
    let error = server::start(sim, cfg).await.err().expect("refused");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn kube_client_lists_pods_with_sidecars_and_status() {
    let fx = Fixture::start().await;
    let expected = fx.pods_in("prod");
    assert!(!expected.is_empty());
    let pods: Api<Pod> = Api::namespaced(fx.client(), "prod");
    let list = pods.list(&ListParams::default()).await.unwrap();
    let names: Vec<String> = list
        .items
        .iter()
        .map(|p| p.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(
        names,
        expected.iter().map(|p| p.name.clone()).collect::<Vec<_>>()
    );
    for (pod, sim) in list.items.iter().zip(&expected) {
        let spec = pod.spec.as_ref().unwrap();
        let has_proxy = spec.containers.iter().any(|c| c.name == "istio-proxy");
        assert_eq!(has_proxy, sim.meshed, "{}", sim.name);
        let status = pod.status.as_ref().unwrap();
        assert_eq!(status.phase.as_deref(), Some(sim.phase.as_str()));
        assert_eq!(status.pod_ip.as_deref(), Some(sim.ip.as_str()));
        let statuses = status.container_statuses.as_ref().unwrap();
        let restarts: i32 = statuses.iter().map(|s| s.restart_count).sum();
        assert_eq!(restarts, i32::try_from(sim.restarts).unwrap());
        assert!(statuses.iter().all(|s| s.ready == sim.ready));
        assert_eq!(pod.metadata.uid.as_deref(), Some(sim.uid.as_str()));
    }
    let everywhere: Api<Pod> = Api::all(fx.client());
    let all = everywhere.list(&ListParams::default()).await.unwrap();
    assert_eq!(all.items.len(), fx.sim.lock().unwrap().world().pods.len());
    let one = pods.get(&expected[0].name).await.unwrap();
    assert_eq!(
        one.metadata.name.as_deref(),
        Some(expected[0].name.as_str())
    );
    let (code, message) = api_code(pods.get("no-such-pod").await.unwrap_err());
    assert_eq!(
        (code, message.as_str()),
        (404, "pods \"no-such-pod\" not found")
    );
}

#[tokio::test]
async fn kubeconfig_file_works_with_kube_rs_and_raw_lists_carry_increasing_versions() {
    let fx = Fixture::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    write_kubeconfig(&path, fx.server.addr(), TOKEN, "prod").unwrap();
    let kubeconfig = kube::config::Kubeconfig::read_from(&path).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    assert_eq!(config.default_namespace, "prod");
    let client = Client::try_from(config).unwrap();
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "32")
    );
    let mut revisions = Vec::new();
    for _ in 0..2 {
        let request = http::Request::get("/api/v1/namespaces/prod/pods?")
            .body(Vec::new())
            .unwrap();
        let list: Value =
            serde_json::from_str(&client.request_text(request).await.unwrap()).unwrap();
        assert_eq!(list["kind"], "PodList");
        assert_eq!(
            list["items"].as_array().unwrap().len(),
            fx.pods_in("prod").len()
        );
        revisions.push(
            list["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap(),
        );
    }
    assert!(revisions[1] > revisions[0], "{revisions:?}");
}

#[tokio::test]
async fn istio_objects_list_as_dynamic_objects_in_both_versions() {
    let fx = Fixture::start().await;
    let (drs, vss) = {
        let sim = fx.sim.lock().unwrap();
        let world = sim.world();
        (
            world.destination_rules.clone(),
            world.virtual_services.clone(),
        )
    };
    let in_prod = |objects: &[Value]| -> Vec<String> {
        let mut names: Vec<String> = objects
            .iter()
            .filter(|o| o["metadata"]["namespace"] == "prod")
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        assert!(!names.is_empty(), "the scenario has Istio objects in prod");
        names
    };
    for version in ["v1", "v1beta1"] {
        for (kind, plural, stored) in [
            ("DestinationRule", "destinationrules", &drs),
            ("VirtualService", "virtualservices", &vss),
        ] {
            let gvk = GroupVersionKind::gvk("networking.istio.io", version, kind);
            let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
            let api: Api<DynamicObject> = Api::namespaced_with(fx.client(), "prod", &resource);
            let list = api.list(&ListParams::default()).await.unwrap();
            let names: Vec<String> = list
                .items
                .iter()
                .map(|o| o.metadata.name.clone().unwrap())
                .collect();
            assert_eq!(names, in_prod(stored), "{kind} {version}");
            for object in &list.items {
                let stored = stored
                    .iter()
                    .find(|s| s["metadata"]["name"].as_str() == object.metadata.name.as_deref())
                    .unwrap();
                assert_eq!(object.data["spec"], stored["spec"]);
                assert_eq!(
                    object.types.as_ref().unwrap().api_version,
                    format!("networking.istio.io/{version}")
                );
            }
            let all: Api<DynamicObject> = Api::all_with(fx.client(), &resource);
            assert_eq!(
                all.list(&ListParams::default()).await.unwrap().items.len(),
                stored.len()
            );
        }
    }
}

#[tokio::test]
async fn tables_discovery_selectors_and_watch() {
    let fx = Fixture::start().await;
    let pod = fx.meshed_pod();
    let (code, body) = raw_get(
        &fx.server,
        "/api/v1/namespaces/prod/pods?limit=500",
        Some(TOKEN),
        Some(TABLE_ACCEPT),
    )
    .await;
    assert_eq!(code, 200);
    let table: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(table["kind"], "Table");
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node"]
    );
    let row = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cells"][0] == pod.name.as_str())
        .unwrap();
    let ready = if pod.ready { "2/2" } else { "0/2" };
    assert_eq!(row["cells"][1], ready);
    assert_eq!(row["cells"][2], pod.phase.as_str());
    assert_eq!(row["cells"][3], pod.restarts);
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");

    let (_, apis) = raw_get(&fx.server, "/apis", Some(TOKEN), None).await;
    let apis: Value = serde_json::from_str(&apis).unwrap();
    assert_eq!(apis["groups"][0]["name"], "networking.istio.io");
    let (_, istio) = raw_get(
        &fx.server,
        "/apis/networking.istio.io/v1beta1",
        Some(TOKEN),
        None,
    )
    .await;
    assert!(istio.contains(r#""shortNames":["dr"]"#) && istio.contains(r#""shortNames":["vs"]"#));

    let selector = format!("/api/v1/pods?fieldSelector=metadata.name%3D{}", pod.name);
    let (_, one) = raw_get(&fx.server, &selector, Some(TOKEN), None).await;
    let one: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    let (code, _) = raw_get(
        &fx.server,
        "/api/v1/pods?labelSelector=app%20in%20(a)",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(code, 400);

    // kube-rs's watcher: list + watch; the initial listing must complete with every pod.
    let pods: Api<Pod> = Api::namespaced(fx.client(), "prod");
    let mut events = watcher(pods, watcher::Config::default()).boxed();
    let mut seen = Vec::new();
    while let Some(event) = events.try_next().await.unwrap() {
        match event {
            watcher::Event::InitApply(p) => seen.push(p.metadata.name.unwrap()),
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    let expected: Vec<String> = fx.pods_in("prod").into_iter().map(|p| p.name).collect();
    assert_eq!(seen, expected);
    // Then the watch: it opens with ADDED for every pod, which the watcher applies.
    match events.try_next().await.unwrap() {
        Some(watcher::Event::Apply(p)) => assert_eq!(p.metadata.name.as_ref(), Some(&expected[0])),
        other => panic!("expected Apply, got {other:?}"),
    }
}

#[tokio::test]
async fn raw_watch_streams_added_lines_with_increasing_versions() {
    let fx = Fixture::start().await;
    let stream = tokio::net::TcpStream::connect(fx.server.addr())
        .await
        .unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let request = http::Request::get("/api/v1/namespaces/prod/pods?watch=1&timeoutSeconds=30")
        .header("host", "sim")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let expected = fx.pods_in("prod");
    let mut body = response.into_body();
    let mut text = String::new();
    while text.matches('\n').count() < expected.len() {
        let frame = body.frame().await.expect("stream stays open").unwrap();
        text.push_str(std::str::from_utf8(frame.data_ref().unwrap()).unwrap());
    }
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), expected.len());
    let mut last = 0;
    for (event, pod) in events.iter().zip(&expected) {
        assert_eq!(event["type"], "ADDED");
        assert_eq!(event["object"]["metadata"]["name"], pod.name.as_str());
        let version: u64 = event["object"]["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(version > last);
        last = version;
    }
    // Shutting down ends open watches instead of waiting for their timeout.
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(5), fx.server.shutdown());
    stopped.await.expect("prompt shutdown").unwrap();
    assert!(body.frame().await.is_none_or(|f| f.is_err()));
}

#[tokio::test]
async fn realtime_clock_advances_the_simulation_and_stops_with_the_server() {
    let sim = Arc::new(Mutex::new(simulation()));
    let cfg = SimServerConfig {
        clock: ClockMode::Realtime { speed: 100.0 },
        ..SimServerConfig::default()
    };
    let server = server::start(sim.clone(), cfg).await.unwrap();
    // One 100 ms driver tick at speed 100 is 10 simulated seconds; wait for it, bounded.
    let now = || sim.lock().unwrap().now_ms();
    let waited = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while now() < 10_000 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    });
    waited.await.expect("the driver advances the simulation");
    server.shutdown().await.unwrap();
    let after = now();
    tokio::task::yield_now().await;
    assert_eq!(now(), after, "the driver stops with the server");
}

#[tokio::test]
async fn port_forward_serves_envoy_admin_with_keep_alive() {
    let fx = Fixture::start().await;
    let pod = fx.meshed_pod();
    let pods: Api<Pod> = Api::namespaced(fx.client(), "prod");
    let mut forward = pods.portforward(&pod.name, &[15000]).await.unwrap();
    let stream = forward.take_stream(15000).unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    let expected = fx.admin_body(&pod, "/stats?usedonly");
    for _ in 0..2 {
        let request = http::Request::get("/stats?usedonly")
            .header("host", "localhost")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(std::str::from_utf8(&body).unwrap(), expected);
        let stats = parse_stats_text(&body).unwrap();
        assert!(stats.stat_count > 0);
        assert!(stats.issues().is_empty(), "{:?}", stats.issues());
    }
    drop(sender);
    conn.await.unwrap().unwrap();
    forward.join().await.unwrap();
}

#[tokio::test]
async fn port_forward_refusals_unknown_pods_and_rbac() {
    let fx = Fixture::start().await;
    let pod = fx.meshed_pod();
    let pods: Api<Pod> = Api::namespaced(fx.client(), "prod");

    let mut forward = pods.portforward(&pod.name, &[9999]).await.unwrap();
    let mut stream = forward.take_stream(9999).unwrap();
    let error = forward
        .take_error(9999)
        .unwrap()
        .await
        .expect("an error message");
    assert!(
        error.starts_with("error forwarding port 9999 to pod prod/"),
        "{error}"
    );
    assert!(error.ends_with("connect: connection refused"), "{error}");
    // As kubelet does, the server closes the WebSocket once no port is connected: EOF.
    let mut rest = Vec::new();
    assert_eq!(stream.read_to_end(&mut rest).await.unwrap(), 0);
    drop(stream);
    // kube-rs then tries to send its own Close after the server's and reports
    // SendAfterClosing; that is kube-rs's behaviour against a real kubelet too.
    let _ = forward.join().await;

    let (code, message) = api_code(
        pods.portforward("no-such-pod", &[15000])
            .await
            .err()
            .unwrap(),
    );
    assert_eq!(
        (code, message.as_str()),
        (404, "pods \"no-such-pod\" not found")
    );

    fx.server.set_deny_portforward(true);
    let (code, message) = api_code(pods.portforward(&pod.name, &[15000]).await.err().unwrap());
    assert_eq!(code, 403);
    let want = format!(
        "pods \"{}\" is forbidden: User \"meshtop\" cannot create resource \"pods/portforward\" in API group \"\" in the namespace \"prod\"",
        pod.name
    );
    assert_eq!(message, want);
}

#[tokio::test]
async fn pod_proxy_serves_admin_and_faults_apply() {
    let fx = Fixture::start().await;
    let pod = fx.meshed_pod();
    let client = fx.client();
    let get = |path: String| http::Request::get(path).body(Vec::new()).unwrap();
    let base = format!("/api/v1/namespaces/prod/pods/{}", pod.name);
    let stats = client
        .request_text(get(format!("{base}:15000/proxy/stats")))
        .await
        .unwrap();
    assert_eq!(stats, fx.admin_body(&pod, "/stats"));
    let (code, _) = api_code(
        client
            .request_text(get(format!("{base}:9999/proxy/stats")))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 503);

    fx.server.set_faults(Faults {
        truncate_admin: true,
        api_500: true,
        ..Faults::default()
    });
    let cut = client
        .request_text(get(format!("{base}:15000/proxy/stats")))
        .await
        .unwrap();
    assert_eq!(cut.len(), stats.len() / 2);
    assert!(stats.starts_with(&cut));
    let pods: Api<Pod> = Api::namespaced(client, "prod");
    let (code, _) = api_code(pods.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(code, 500);
}

/// Runs the real kubectl with an isolated HOME and discovery cache; `None` when absent.
async fn kubectl(dir: &Path, args: &[&str]) -> Option<String> {
    let Ok(found) = std::process::Command::new("which").arg("kubectl").output() else {
        println!("skipped: no `which`");
        return None;
    };
    if !found.status.success() {
        println!("skipped: kubectl not on PATH");
        return None;
    }
    let output = tokio::process::Command::new("kubectl")
        .args(args)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .env("HOME", dir)
        .env("KUBECONFIG", dir.join("config"))
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "kubectl {args:?} failed: {stderr}");
    Some(String::from_utf8(output.stdout).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_kubectl_gets_pods_istio_objects_and_raw_stats() {
    // client-go sends no credentials to an http:// server (kubernetes/kubectl#744).
    let fx = Fixture::start_with(true).await;
    let dir = tempfile::tempdir().unwrap();
    write_kubeconfig(&dir.path().join("config"), fx.server.addr(), TOKEN, "prod").unwrap();
    let Some(pods) = kubectl(dir.path(), &["get", "pods", "-n", "prod"]).await else {
        return;
    };
    let mut lines = pods.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    let expected = fx.pods_in("prod");
    assert_eq!(rows.len(), expected.len());
    for (row, pod) in rows.iter().zip(&expected) {
        let containers = if pod.meshed { 2 } else { 1 };
        let ready = if pod.ready { containers } else { 0 };
        assert_eq!(
            row[..4],
            [
                pod.name.as_str(),
                &format!("{ready}/{containers}"),
                pod.phase.as_str(),
                &pod.restarts.to_string()
            ]
        );
    }

    let wide = kubectl(dir.path(), &["get", "pods", "-n", "prod", "-o", "wide"])
        .await
        .unwrap();
    let wide_header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        wide_header,
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    );

    let yaml = kubectl(
        dir.path(),
        &["get", "destinationrules", "-n", "prod", "-o", "yaml"],
    )
    .await
    .unwrap();
    let drs = fx.sim.lock().unwrap().world().destination_rules.clone();
    for dr in drs.iter().filter(|d| d["metadata"]["namespace"] == "prod") {
        assert!(
            yaml.contains(&format!(
                "    name: {}\n",
                dr["metadata"]["name"].as_str().unwrap()
            )),
            "{yaml}"
        );
        assert!(
            yaml.contains(&format!("host: {}\n", dr["spec"]["host"].as_str().unwrap())),
            "{yaml}"
        );
    }
    assert!(yaml.contains("kind: DestinationRule\n"));
    let short = kubectl(dir.path(), &["get", "dr", "-n", "prod"])
        .await
        .unwrap();
    assert_eq!(
        short
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["NAME", "HOST", "AGE"]
    );

    let pod = fx.meshed_pod();
    let raw = format!(
        "/api/v1/namespaces/prod/pods/{}:15000/proxy/stats",
        pod.name
    );
    let stats = kubectl(dir.path(), &["get", "--raw", &raw]).await.unwrap();
    // kubectl prints the body and a newline of its own when the body lacks one.
    assert_eq!(stats.trim_end(), fx.admin_body(&pod, "/stats").trim_end());
    assert!(parse_stats_text(stats.as_bytes()).unwrap().stat_count > 0);
}
