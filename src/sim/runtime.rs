//! The runtime state of the traffic model: per-sidecar cluster states, outcomes of requests
//! and the effects queued until they happen, and the routes (edges resolved against the
//! scenario's services and DestinationRules) requests follow.

use super::cluster_state::{ClusterState, PoolLimits};
use super::scenario::{OutlierSpec, Protocol, Scenario};

/// An outbound edge with everything a request over it needs.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Route {
    pub edge: usize,
    /// Service index of the destination.
    pub to: usize,
    /// Index into `Simulation::targets`.
    pub target: usize,
    pub protocol: Protocol,
    pub timeout_ms: Option<u64>,
    pub limits: PoolLimits,
    pub outlier: Option<OutlierSpec>,
    /// DR `tls.mode: DISABLE` toward a STRICT server: every connection is refused.
    pub plaintext: bool,
}

/// A (service, subset) pair: one Envoy outbound cluster per port.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Target {
    pub service: usize,
    pub subset: Option<&'static str>,
}

/// One client cluster with traffic.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Outbound {
    pub route: usize,
    pub state: ClusterState,
}

/// The moving state of one pod's sidecar.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct ProxyRuntime {
    /// Bumped at every restart; queued effects of an older generation are dropped.
    pub generation: u64,
    pub started_ms: u64,
    /// Restarting: the proxy is down until then.
    pub down_until: Option<u64>,
    pub outbound: Vec<Outbound>,
    pub inbound: ClusterState,
    /// App busy time planned this tick (sizes the HTTP/1.1 pool to the app).
    pub inbound_busy_ms: u64,
    /// Keep-alive closes to come: (close time, requests that will be cut).
    pub keepalive_cuts: Vec<(u64, u32)>,
    pub istio: Vec<IstioSeries>,
    /// Plaintext connections the inbound listener refused (`no_filter_chain_match`).
    pub refused_cx: u64,
}

/// One `istio_requests_total` series of a sidecar, with workloads as Deployment indices
/// (names are filled in when rendering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct IstioSeries {
    /// `reporter=source` (else `destination`).
    pub source_reporter: bool,
    pub client: usize,
    /// `None` = `unknown` (no endpoint was chosen).
    pub server: Option<usize>,
    /// Destination service index.
    pub service: usize,
    pub code: u16,
    pub flags: &'static str,
    pub count: u64,
}

/// How a request ended, as its client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClientResult {
    /// A response from upstream (its code may be 5xx).
    Response {
        code: u16,
        latency_ms: u64,
    },
    /// Envoy answered itself, 503 with this flag (`UO`, `UH`), without an upstream response.
    LocalReply {
        flags: &'static str,
    },
    Timeout,
    /// The connection went away before the response (UC).
    ConnReset,
}

/// How a request ended at the server's sidecar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ServerResult {
    Response {
        code: u16,
        latency_ms: u64,
    },
    /// The app closed the connection mid-request: 503 UC.
    AppClosed,
    /// The caller reset the stream (its timeout): DC, code 0.
    Disconnected,
}

/// A planned effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effect {
    /// `host` is (slot when planned, pod), `None` when no endpoint was chosen (UH).
    Client {
        slot: usize,
        host: Option<(usize, usize)>,
        attach: u64,
        result: ClientResult,
    },
    Server {
        client: usize,
        route: usize,
        start: u64,
        result: ServerResult,
    },
}

/// An effect due at `at` on `pod`'s sidecar (generation `generation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Due {
    pub at: u64,
    pub pod: usize,
    pub generation: u64,
    pub effect: Effect,
}

/// Every (service, subset) an outbound cluster exists for: each service, then each of its DR
/// subsets.
pub(super) fn targets(s: &Scenario) -> Vec<Target> {
    let mut out = Vec::new();
    for (i, svc) in s.services.iter().enumerate() {
        out.push(Target {
            service: i,
            subset: None,
        });
        let subsets = s
            .policy(svc.name)
            .map(|p| p.subsets.clone())
            .unwrap_or_default();
        out.extend(subsets.into_iter().map(|subset| Target {
            service: i,
            subset: Some(subset),
        }));
    }
    out
}

pub(super) fn routes(s: &Scenario, targets: &[Target]) -> Vec<Route> {
    let mut out = Vec::new();
    for (edge, e) in s.edges.iter().enumerate() {
        let Some(to) = s.service_index(e.to) else {
            continue;
        };
        let target = targets
            .iter()
            .position(|t| t.service == to && t.subset == e.subset);
        let policy = s.policy(e.to);
        let protocol = s.services[to].protocol;
        out.push(Route {
            edge,
            to,
            target: target.unwrap_or(0),
            protocol,
            timeout_ms: e.timeout_ms,
            limits: PoolLimits {
                max_connections: policy
                    .and_then(|p| p.max_connections)
                    .map_or(u64::MAX, u64::from),
                max_pending: policy
                    .and_then(|p| p.max_pending)
                    .map_or(u64::MAX, u64::from),
                http2: protocol == Protocol::Grpc,
            },
            outlier: policy.and_then(|p| p.outlier),
            plaintext: s.strict_mtls && policy.is_some_and(|p| p.tls_disable),
        });
    }
    out
}
