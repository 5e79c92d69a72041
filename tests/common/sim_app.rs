//! An app fed from the simulated cluster offline, for the TUI tests and the TUI benchmark.
//!
//! The app is built the way the runtime builds it: the simulated cluster (`meshtop::sim`,
//! deterministic for its seed) is advanced in virtual time, every sidecar's Envoy admin answers
//! (`/stats?usedonly&filter=…`, `/clusters?format=json`,
//! `/config_dump?resource=dynamic_active_clusters`) are parsed by the client's own parsers into
//! `CollectorMsg`s, and those, the discovered pods and the Istio objects go through
//! `app::update` with `Msg::Tick`s — so snapshot, findings and histories are the real ones. The
//! clock is fixed (virtual time plus a fixed Unix epoch), so every screen is reproducible.
#![allow(dead_code)]

use std::time::Duration;

use meshtop::app::{App, MeshState, Msg, Session, update};
use meshtop::collect::{CollectorMsg, default_stats_filter, stats_collection};
use meshtop::diagnosis::Thresholds;
use meshtop::envoy::clusters::parse_clusters_json;
use meshtop::envoy::config_dump::parse_config_dump;
use meshtop::envoy::stats_text::parse_stats_text;
use meshtop::kube::{AdminPath, IstioEvent, IstioObjects, MeshPod, PodEvent};
use meshtop::metrics::Timestamp;
use meshtop::sim::envoy::respond_to_path;
use meshtop::sim::scenario::SimConfig;
use meshtop::sim::traffic::Simulation;
use meshtop::ui::theme_file::resolve_theme;

/// Wall-clock time of virtual time 0: 2025-03-14 03:10:00 UTC.
pub const EPOCH_UNIX_MS: u64 = 1_741_921_800_000;
pub const NAMESPACE: &str = "prod";
pub const INTERVAL_MS: u64 = 2_000;

/// The simulated cluster and the app reading it.
#[derive(Clone)]
pub struct Rig {
    pub sim: Simulation,
    pub app: App,
}

pub fn session() -> Session {
    Session {
        context: Some("sim".into()),
        namespace: Some(NAMESPACE.into()),
        interval: Duration::from_millis(INTERVAL_MS),
        window: Duration::from_secs(30),
        themes: resolve_theme(None, None, false, None).0.names(),
        theme: 0,
        contexts: vec!["sim".into(), "staging".into()],
        namespaces: vec!["prod".into(), "payments".into()],
        namespaces_error: None,
        snapshot_dir: None,
    }
}

impl Rig {
    pub fn new(scenario: &str, size: (u16, u16)) -> Rig {
        Rig::with_pods(scenario, None, size)
    }

    /// [`Rig::new`] with `pods` meshed pods (`meshtop sim --pods N`; `None`: the scenario's).
    pub fn with_pods(scenario: &str, pods: Option<usize>, size: (u16, u16)) -> Rig {
        let cfg = SimConfig {
            scenario: scenario.parse().unwrap(),
            pods,
            ..SimConfig::default()
        };
        let sim = Simulation::new(&cfg);
        let mut app = App::new(MeshState::new(Thresholds::default(), false), session());
        send(
            &mut app,
            Msg::Resize {
                width: size.0,
                height: size.1,
            },
        );
        let world = sim.world();
        let pods: Vec<MeshPod> = world
            .served_pods()
            .filter(|p| p.meshed && p.namespace == NAMESPACE)
            .map(|p| MeshPod {
                name: p.name.clone(),
                namespace: p.namespace.clone(),
                uid: p.uid.clone(),
                phase: p.phase.clone(),
                ready: p.ready,
                proxy_restarts: p.restarts,
                admin_port: 15000,
            })
            .collect();
        send(&mut app, Msg::Pods(PodEvent::Resynced(pods)));
        let objects = (world.destination_rules.iter())
            .chain(&world.virtual_services)
            .cloned()
            .collect();
        let istio = IstioObjects::Available {
            objects,
            missing: Vec::new(),
        };
        send(&mut app, Msg::Istio(IstioEvent::Objects(istio)));
        Rig { sim, app }
    }

    /// Every sidecar's poll at virtual time `t`, as collector messages.
    pub fn poll(&mut self, t: u64) -> Vec<CollectorMsg> {
        self.sim.advance_to(t);
        let pods = self.app.mesh.pods.keys();
        pods.flat_map(|pod| scrape(&self.sim, pod, t)).collect()
    }

    /// Delivers one poll of every sidecar at `t`, then the tick that rebuilds the view.
    pub fn poll_all(&mut self, t: u64) {
        for msg in self.poll(t) {
            send(&mut self.app, Msg::Collector(msg));
        }
        tick(&mut self.app, t);
    }
}

/// One poll of `pod` as the collector would report it (the config dump on the first poll).
pub fn scrape(sim: &Simulation, pod: &str, t: u64) -> Vec<CollectorMsg> {
    let Some(state) = sim.proxy(NAMESPACE, pod) else {
        return Vec::new();
    };
    let at = Timestamp::from_millis(t);
    let stats_path = AdminPath::filtered_stats(&default_stats_filter()).to_uri();
    let body = respond_to_path(&state, &stats_path).body;
    let stats = parse_stats_text(body.as_bytes()).unwrap();
    let clusters = respond_to_path(&state, "/clusters?format=json").body;
    let mut msgs = vec![CollectorMsg::Scraped {
        pod: pod.to_string(),
        namespace: NAMESPACE.to_string(),
        at,
        stats_collection: stats_collection(&stats),
        stats: Box::new(stats),
        clusters: Some(Box::new(parse_clusters_json(&clusters).unwrap())),
        bytes: body.len() + clusters.len(),
        elapsed: Duration::from_millis(3),
        issues: Vec::new(),
    }];
    if t <= INTERVAL_MS {
        let dump_path = AdminPath::active_clusters().to_uri();
        let dump = parse_config_dump(&respond_to_path(&state, &dump_path).body).unwrap();
        msgs.push(CollectorMsg::ConfigDump {
            pod: pod.to_string(),
            namespace: NAMESPACE.to_string(),
            at,
            dump: Box::new(dump),
        });
    }
    msgs
}

pub fn send(app: &mut App, msg: Msg) {
    update(app, msg);
}

pub fn tick(app: &mut App, t: u64) {
    let now = Timestamp::from_millis(t);
    send(
        app,
        Msg::Tick {
            now,
            unix_ms: EPOCH_UNIX_MS + t,
        },
    );
}

/// Virtual time of the last poll of the fixture (03:11:30 UTC).
pub const LAST_POLL_MS: u64 = 90_000;

/// The demo story: sidecars connected at 2 s (first poll and config dumps), then polled every
/// 2 s from 56 s to 90 s, so the 30 s window and the sparklines hold real rates.
pub fn keepalive_rig(size: (u16, u16)) -> Rig {
    keepalive_rig_with(None, size)
}

/// [`keepalive_rig`] with `pods` meshed pods (`None`: the scenario's 10).
pub fn keepalive_rig_with(pods: Option<usize>, size: (u16, u16)) -> Rig {
    let mut rig = Rig::with_pods("grpc-keepalive", pods, size);
    rig.poll_all(INTERVAL_MS);
    for t in (56_000..=LAST_POLL_MS).step_by(INTERVAL_MS as usize) {
        rig.poll_all(t);
    }
    rig
}

/// Gives every upstream cluster the next one's counters and p99.
pub fn move_numbers(snapshot: &mut meshtop::model::MeshSnapshot) {
    let upstream: Vec<usize> = (0..snapshot.clusters.len())
        .filter(|i| meshtop::app::is_upstream(&snapshot.clusters[*i]))
        .collect();
    let numbers: Vec<_> = (upstream.iter())
        .map(|i| {
            let c = &snapshot.clusters[*i];
            (c.counters.clone(), c.upstream_rq_time_p99_ms)
        })
        .collect();
    for (n, i) in upstream.iter().enumerate() {
        let (counters, p99) = numbers[(n + 1) % numbers.len()].clone();
        snapshot.clusters[*i].counters = counters;
        snapshot.clusters[*i].upstream_rq_time_p99_ms = p99;
    }
}
