//! A small `MeshSnapshot` builder for rule tests: clusters with window counters, gauges, p99,
//! response-flag series on both sides, endpoints, and Istio config resolved from YAML exactly
//! as `build_snapshot` does it.
//!
//! ```ignore
//! let snap = SnapBuilder::new()
//!     .istio(VS_1S)
//!     .cluster(INV, |c| c.clients(&["order-svc-a-1"]).counter("upstream_rq_total", 1000)
//!         .counter("upstream_rq_timeout", 38).flag("504", "UT", 38).p99(1400.0))
//!     .build();
//! ```

use std::collections::BTreeMap;

use crate::envoy::ClusterKey;
use crate::istio::{IstioConfig, ResolveOptions, load_yaml, resolve};
use crate::metrics::Timestamp;
use crate::model::envoy_view::EndpointView;
use crate::model::{
    ClusterSnapshot, CollectionState, ConfigMismatch, CounterWindow, GaugeView, MeshSnapshot,
    PodClusterView, ProxyView, RequestWindow, ServerSide, SourceState, StatMap, StatsCollection,
    SubsetPolicy, summarize,
};

/// `outbound|8080||inventory-svc.prod.svc.cluster.local`, the usual cluster under test.
pub const INV: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";
/// A client pod of order-svc.
pub const ORDER_A: &str = "order-svc-7d9f8c-a1b2c";
pub const ORDER_B: &str = "order-svc-7d9f8c-d3e4f";

pub struct SnapBuilder {
    snap: MeshSnapshot,
    istio: Option<IstioConfig>,
    mismatches: Vec<(String, ConfigMismatch)>,
}

impl SnapBuilder {
    /// An empty snapshot of namespace `prod` with a 30 s window.
    pub fn new() -> Self {
        SnapBuilder {
            snap: MeshSnapshot {
                meshtop_version: "test".into(),
                context: Some("test".into()),
                namespace: Some("prod".into()),
                taken_at_unix_ms: None,
                window_seconds: 30.0,
                sources: Vec::new(),
                clusters: Vec::new(),
                config_issues: Vec::new(),
                proxies: Vec::new(),
                subset_policies: Vec::new(),
            },
            istio: None,
            mismatches: Vec::new(),
        }
    }

    pub fn window(mut self, seconds: f64) -> Self {
        self.snap.window_seconds = seconds;
        self
    }

    /// A sidecar polled successfully, with the given stats collection.
    pub fn source(self, pod: &str, collection: StatsCollection) -> Self {
        let ok = CollectionState::Ok {
            at: Timestamp::from_secs(30),
        };
        self.source_state(pod, ok, collection)
    }

    pub fn source_state(
        mut self,
        pod: &str,
        state: CollectionState,
        collection: StatsCollection,
    ) -> Self {
        self.snap.sources.push(SourceState {
            pod: pod.into(),
            namespace: "prod".into(),
            state,
            stats_collection: collection,
        });
        self
    }

    /// Per-sidecar request totals (window increases) and proxy counters.
    pub fn proxy(
        mut self,
        pod: &str,
        outbound: Option<u64>,
        inbound: Option<u64>,
        counters: &[(&str, u64)],
    ) -> Self {
        let w = self.snap.window_seconds;
        self.snap.proxies.push(ProxyView {
            pod: pod.into(),
            outbound_requests: outbound.map(|n| window(n, w)),
            inbound_requests: inbound.map(|n| window(n, w)),
            counters: counters
                .iter()
                .map(|(k, n)| ((*k).into(), window(*n, w)))
                .collect(),
        });
        self
    }

    /// Istio objects (multi-document YAML); every outbound cluster gets its `config` from
    /// them at [`build`](Self::build), for clients in namespace `prod`.
    pub fn istio(mut self, yaml: &str) -> Self {
        self.istio = Some(load_yaml(yaml, "test.yaml"));
        self
    }

    pub fn subset_policy(mut self, p: SubsetPolicy) -> Self {
        self.snap.subset_policies.push(p);
        self
    }

    /// A cluster, filled by `fill`.
    pub fn cluster(
        mut self,
        name: &str,
        fill: impl FnOnce(ClusterBuilder) -> ClusterBuilder,
    ) -> Self {
        let b = fill(ClusterBuilder::new(name, self.snap.window_seconds));
        self.mismatches
            .extend(b.mismatches.into_iter().map(|m| (name.to_string(), m)));
        self.snap.clusters.push(b.c);
        self
    }

    pub fn build(mut self) -> MeshSnapshot {
        if let Some(istio) = &self.istio {
            for c in &mut self.snap.clusters {
                let policy = resolve(istio, &c.key, "prod", &ResolveOptions::default());
                c.config = policy.map(|p| Box::new(summarize(&p, c.effective_config.as_deref())));
            }
        }
        for (name, m) in self.mismatches {
            if let Some(cfg) = self
                .snap
                .clusters
                .iter_mut()
                .find(|c| c.key.name == name)
                .and_then(|c| c.config.as_mut())
            {
                cfg.mismatches.push(m);
            }
        }
        self.snap
    }
}

fn window(increase: u64, seconds: f64) -> CounterWindow {
    CounterWindow {
        increase,
        rate: (seconds > 0.0).then(|| increase as f64 / seconds),
        resets: 0,
        pods: 1,
    }
}

pub struct ClusterBuilder {
    c: ClusterSnapshot,
    seconds: f64,
    mismatches: Vec<ConfigMismatch>,
}

impl ClusterBuilder {
    fn new(name: &str, seconds: f64) -> Self {
        let key = ClusterKey::parse(name);
        ClusterBuilder {
            c: ClusterSnapshot {
                label: key.label(),
                key,
                clients: vec![ORDER_A.into()],
                counters: BTreeMap::new(),
                gauges: BTreeMap::new(),
                upstream_rq_time_p99_ms: None,
                endpoints: None,
                config: None,
                effective_config: None,
                per_pod: Vec::new(),
                requests: Vec::new(),
                server: None,
            },
            seconds,
            mismatches: Vec::new(),
        }
    }

    pub fn clients(mut self, pods: &[&str]) -> Self {
        self.c.clients = pods.iter().map(|p| p.to_string()).collect();
        self
    }

    /// A client-side counter that rose by `increase` over the window.
    pub fn counter(mut self, stat: &str, increase: u64) -> Self {
        let mut w = window(increase, self.seconds);
        w.pods = self.c.clients.len();
        self.c.counters.insert(stat.into(), w);
        self
    }

    pub fn gauge(mut self, stat: &str, value: f64) -> Self {
        let g = GaugeView {
            min: value,
            max: value,
            sum: value * self.c.clients.len() as f64,
            pods: self.c.clients.len(),
        };
        self.c.gauges.insert(stat.into(), g);
        self
    }

    pub fn p99(mut self, ms: f64) -> Self {
        self.c.upstream_rq_time_p99_ms = Some(ms);
        self
    }

    /// Client-side `istio_requests_total` responses (reporter=source).
    pub fn flag(mut self, code: &str, flags: &str, count: u64) -> Self {
        let r = request("source", code, flags, window(count, self.seconds));
        self.c.requests.push(r);
        self
    }

    /// Server-side responses (reporter=destination) on `server_pods` (call `server` first
    /// to name them; defaults to one inventory pod).
    pub fn server_flag(mut self, code: &str, flags: &str, count: u64) -> Self {
        let r = request("destination", code, flags, window(count, self.seconds));
        self.server_mut().requests.push(r);
        self
    }

    /// A counter of the server pods' inbound cluster.
    pub fn server_counter(mut self, stat: &str, increase: u64) -> Self {
        let w = window(increase, self.seconds);
        self.server_mut().counters.insert(stat.into(), w);
        self
    }

    /// Names the server pods and their inbound cluster.
    pub fn server(mut self, pods: &[&str], cluster: &str) -> Self {
        let s = self.server_mut();
        s.pods = pods.iter().map(|p| p.to_string()).collect();
        s.cluster = Some(cluster.into());
        self
    }

    fn server_mut(&mut self) -> &mut ServerSide {
        self.c.server.get_or_insert_with(|| ServerSide {
            pods: vec!["inventory-svc-5c6d7-k8l9m".into()],
            cluster: Some("inbound|8080||".into()),
            counters: BTreeMap::new(),
            requests: Vec::new(),
        })
    }

    /// Endpoint health from `/clusters`.
    pub fn endpoints(
        mut self,
        total: usize,
        healthy: usize,
        ejected: usize,
        unhealthy: &[&str],
    ) -> Self {
        self.c.endpoints = Some(EndpointView {
            total,
            healthy,
            ejected,
            rq_total: None,
            rq_timeout: None,
            rq_error: None,
            cx_connect_fail: None,
            unhealthy: unhealthy.iter().map(|s| s.to_string()).collect(),
        });
        self
    }

    /// One client pod's window increase of `stat` (the drill-down that gives "3 of 4 pods").
    pub fn per_pod(mut self, pod: &str, stat: &str, increase: u64) -> Self {
        let w = window(increase, self.seconds);
        match self.c.per_pod.iter_mut().find(|p| p.pod == pod) {
            Some(p) => {
                p.counters.insert(stat.into(), w);
            }
            None => self.c.per_pod.push(PodClusterView {
                pod: pod.into(),
                counters: [(stat.into(), w)].into_iter().collect(),
                gauges: StatMap::new(),
                upstream_rq_time_p99_ms: None,
            }),
        }
        self
    }

    /// Envoy runs with `effective` where the Istio objects say `configured`.
    pub fn mismatch(
        mut self,
        field: &str,
        configured: Option<u64>,
        effective: Option<u64>,
    ) -> Self {
        self.mismatches.push(ConfigMismatch {
            field: field.into(),
            configured,
            effective,
        });
        self
    }

    /// Direct access for anything the builder does not cover.
    pub fn with(mut self, edit: impl FnOnce(&mut ClusterSnapshot)) -> Self {
        edit(&mut self.c);
        self
    }
}

fn request(reporter: &str, code: &str, flags: &str, window: CounterWindow) -> RequestWindow {
    RequestWindow {
        reporter: reporter.into(),
        response_code: code.into(),
        response_flags: flags.into(),
        window,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_resolves_config_and_fills_both_sides() {
        let snap = SnapBuilder::new()
            .window(60.0)
            .istio(
                "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: inventory-svc, namespace: prod}\n\
                 spec:\n  hosts: [inventory-svc]\n  http:\n  - route: [{destination: {host: inventory-svc}}]\n    timeout: 1s\n",
            )
            .cluster(INV, |c| {
                c.counter("upstream_rq_timeout", 30)
                    .flag("504", "UT", 30)
                    .server_flag("0", "DC", 30)
                    .mismatch("route_timeout_ms", Some(1000), None)
            })
            .build();
        let c = snap.cluster(INV).unwrap();
        assert_eq!(c.increase("upstream_rq_timeout"), Some(30));
        assert_eq!(c.rate("upstream_rq_timeout"), Some(0.5));
        assert_eq!(snap.window_seconds, 60.0);
        let cfg = c.config.as_ref().unwrap();
        assert_eq!(cfg.route_timeout_ms, Some(1000));
        assert_eq!(cfg.mismatches.len(), 1);
        assert_eq!(c.server.as_ref().unwrap().requests[0].response_flags, "DC");
    }
}
