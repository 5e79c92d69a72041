//! Named scenarios of the simulated mesh: which services run (replicas, protocol, latency,
//! app behaviour), who calls whom at what rate, and what the DestinationRules and
//! VirtualServices say. One [`Scenario`] value is the single source of truth: the world
//! builder renders the Istio objects from it and the traffic model obeys the same numbers, so
//! the config a client reads always matches the counters it sees.
//!
//! Every scenario is documented in `docs/SCENARIOS.md` with the hint (HINTS.md rule) it must
//! lead to. Adding one: a [`ScenarioName`] variant, its kebab-case name, a branch in
//! [`Scenario::build`] that adjusts the healthy shop, and its section in the docs.

use super::model::StatsInclusion;
pub use super::scenario_name::{ScenarioName, UnknownScenario};

/// What `meshtop sim` / `meshtop demo` were asked to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    pub scenario: ScenarioName,
    pub seed: u64,
    /// Total meshed pods (`--pods N`), spread over the scenario's deployments in proportion
    /// to their default replicas; `None` = the scenario's own replica counts (10 pods).
    pub pods: Option<usize>,
    /// Idle outbound clusters added to every sidecar (`--clusters-per-pod M`).
    pub extra_clusters_per_pod: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            scenario: ScenarioName::default(),
            seed: 1,
            pods: None,
            extra_clusters_per_pod: 0,
        }
    }
}

/// How a service port is spoken (Istio derives it from the Service port name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Port name `http`: HTTP/1.1 between sidecars and to the app.
    Http1,
    /// Port name `grpc`: HTTP/2.
    Grpc,
    /// Port name `tcp-…`: opaque TCP proxying.
    Tcp,
}

/// An app's response-time distribution: log-normal with this median and 99th percentile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub median_ms: f64,
    pub p99_ms: f64,
}

impl Latency {
    /// The log-normal shape: `ln(p99 / median) / z(0.99)`.
    pub fn sigma(&self) -> f64 {
        (self.p99_ms / self.median_ms).ln() / 2.326
    }
}

/// One Kubernetes Service with its Deployments.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    pub name: &'static str,
    pub port: u16,
    pub protocol: Protocol,
    /// (version label, default replicas); one Deployment per version.
    pub versions: Vec<(&'static str, usize)>,
    pub latency: Latency,
    /// The app closes connections from its sidecar this long after opening them, even with
    /// requests in flight (gRPC `MaxConnectionAge` without grace, short keep-alive).
    pub keepalive_ms: Option<u64>,
    /// `(k, n)`: replica `i` (counted across versions) answers 500 when `i % n == k`.
    pub failing: Option<(usize, usize)>,
}

/// Traffic from every pod of `from` to `to` (optionally a DR subset).
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeSpec {
    pub from: &'static str,
    pub to: &'static str,
    /// The VirtualService routes this traffic to this subset.
    pub subset: Option<&'static str>,
    /// Requests (HTTP) or queries over pooled connections (TCP) per second per client pod.
    pub rate: f64,
    /// VirtualService `http[0].timeout`; `None` = no route timeout.
    pub timeout_ms: Option<u64>,
    /// VirtualService `retries: {attempts: 0}`. The simulator never retries, so every
    /// scenario whose failures Istio's default retry policy would retry sets this.
    pub retries_disabled: bool,
}

/// DestinationRule `outlierDetection`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutlierSpec {
    pub consecutive_5xx: u32,
    pub interval_ms: u64,
    pub base_ejection_ms: u64,
    pub max_ejection_percent: u32,
}

/// What one DestinationRule (top-level `trafficPolicy` plus subsets) says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicySpec {
    pub host: &'static str,
    /// Subset names; each selects pods with label `version: <name>`.
    pub subsets: Vec<&'static str>,
    pub max_connections: Option<u32>,
    pub max_pending: Option<u32>,
    pub idle_timeout_ms: Option<u64>,
    pub outlier: Option<OutlierSpec>,
    /// `trafficPolicy.tls.mode: DISABLE` (plaintext to the upstream).
    pub tls_disable: bool,
}

/// Rolling sidecar restarts: every `every_ms` the next pod's proxy goes down for `down_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChurnSpec {
    pub every_ms: u64,
    pub down_ms: u64,
}

/// A complete scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: ScenarioName,
    pub services: Vec<ServiceSpec>,
    pub edges: Vec<EdgeSpec>,
    pub policies: Vec<PolicySpec>,
    pub inclusion: StatsInclusion,
    /// Mesh-wide PeerAuthentication mode is STRICT (always true here; documented so the
    /// mTLS scenario's story is explicit).
    pub strict_mtls: bool,
    pub churn: Option<ChurnSpec>,
}

impl Scenario {
    /// The scenario `name`: the healthy shop with that scenario's fault applied.
    pub fn build(name: ScenarioName) -> Scenario {
        let mut s = healthy_shop(name);
        match name {
            ScenarioName::GrpcKeepalive | ScenarioName::StatsNotEnabled => slow_inventory(&mut s),
            ScenarioName::CircuitBreaker => {
                s.service_mut("pricing-svc").latency = lat(300.0, 900.0);
                let p = s.policy_mut("pricing-svc");
                p.max_connections = Some(1);
                p.max_pending = Some(1);
            }
            ScenarioName::MtlsMismatch => s.policy_mut("pricing-svc").tls_disable = true,
            ScenarioName::NoHealthyUpstream => {
                s.policy_mut("pricing-svc").subsets.push("v3");
                s.edge_mut("pricing-svc").subset = Some("v3");
            }
            ScenarioName::OutlierEjection => {
                s.service_mut("inventory-svc").failing = Some((1, 3));
                s.policy_mut("inventory-svc").outlier = Some(OutlierSpec {
                    consecutive_5xx: 5,
                    interval_ms: 10_000,
                    base_ejection_ms: 30_000,
                    max_ejection_percent: 50,
                });
            }
            ScenarioName::Healthy => {}
            ScenarioName::Churn => {
                s.churn = Some(ChurnSpec {
                    every_ms: 120_000,
                    down_ms: 10_000,
                })
            }
        }
        if name == ScenarioName::StatsNotEnabled {
            s.inclusion = StatsInclusion::IstioDefault;
        }
        s
    }

    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }

    pub fn policy(&self, host: &str) -> Option<&PolicySpec> {
        self.policies.iter().find(|p| p.host == host)
    }

    fn service_mut(&mut self, name: &str) -> &mut ServiceSpec {
        let i = self.service_index(name).unwrap_or(0);
        &mut self.services[i]
    }

    fn policy_mut(&mut self, host: &'static str) -> &mut PolicySpec {
        let i = match self.policies.iter().position(|p| p.host == host) {
            Some(i) => i,
            None => {
                let p = PolicySpec {
                    host,
                    ..PolicySpec::default()
                };
                self.policies.push(p);
                self.policies.len() - 1
            }
        };
        &mut self.policies[i]
    }

    fn edge_mut(&mut self, to: &str) -> &mut EdgeSpec {
        let i = self.edges.iter().position(|e| e.to == to).unwrap_or(0);
        &mut self.edges[i]
    }
}

fn lat(median_ms: f64, p99_ms: f64) -> Latency {
    Latency { median_ms, p99_ms }
}

fn service(
    name: &'static str,
    port: u16,
    protocol: Protocol,
    versions: Vec<(&'static str, usize)>,
    latency: Latency,
) -> ServiceSpec {
    ServiceSpec {
        name,
        port,
        protocol,
        versions,
        latency,
        keepalive_ms: None,
        failing: None,
    }
}

fn edge(from: &'static str, to: &'static str, rate: f64) -> EdgeSpec {
    EdgeSpec {
        from,
        to,
        subset: None,
        rate,
        timeout_ms: None,
        retries_disabled: false,
    }
}

/// frontend → order-svc → {inventory-svc (gRPC, VS timeout 1s), pricing-svc v2, orders-db}.
fn healthy_shop(name: ScenarioName) -> Scenario {
    Scenario {
        name,
        services: shop_services(),
        edges: shop_edges(),
        policies: vec![
            PolicySpec {
                host: "inventory-svc",
                idle_timeout_ms: Some(3_600_000),
                ..PolicySpec::default()
            },
            PolicySpec {
                host: "pricing-svc",
                subsets: vec!["v1", "v2"],
                ..PolicySpec::default()
            },
        ],
        inclusion: StatsInclusion::Full,
        strict_mtls: true,
        churn: None,
    }
}

fn shop_services() -> Vec<ServiceSpec> {
    use Protocol::{Grpc, Http1, Tcp};
    vec![
        service("frontend", 8080, Http1, vec![("v1", 2)], lat(20.0, 80.0)),
        service("order-svc", 8080, Http1, vec![("v1", 2)], lat(35.0, 150.0)),
        service(
            "inventory-svc",
            8080,
            Grpc,
            vec![("v1", 3)],
            lat(40.0, 120.0),
        ),
        service(
            "pricing-svc",
            8080,
            Http1,
            vec![("v1", 1), ("v2", 1)],
            lat(15.0, 60.0),
        ),
        service("orders-db", 5432, Tcp, vec![("v1", 1)], lat(2.0, 10.0)),
    ]
}

fn shop_edges() -> Vec<EdgeSpec> {
    let inventory = EdgeSpec {
        timeout_ms: Some(1000),
        retries_disabled: true,
        ..edge("order-svc", "inventory-svc", 10.0)
    };
    let pricing = EdgeSpec {
        subset: Some("v2"),
        ..edge("order-svc", "pricing-svc", 10.0)
    };
    vec![
        edge("frontend", "order-svc", 10.0),
        inventory,
        pricing,
        edge("order-svc", "orders-db", 20.0),
    ]
}

/// inventory-svc p99 1.4 s against the 1 s VS timeout; its gRPC server drops connections after
/// 60 s while the DR keeps idle connections for 1 h.
fn slow_inventory(s: &mut Scenario) {
    let inv = s.service_mut("inventory-svc");
    inv.latency = lat(250.0, 1400.0);
    inv.keepalive_ms = Some(60_000);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scenario_applies_its_fault() {
        let g = Scenario::build(ScenarioName::GrpcKeepalive);
        let inv = &g.services[g.service_index("inventory-svc").unwrap()];
        assert_eq!(
            (inv.latency.p99_ms, inv.keepalive_ms),
            (1400.0, Some(60_000))
        );
        assert_eq!(g.edges[1].timeout_ms, Some(1000));
        assert_eq!(
            g.policy("inventory-svc").unwrap().idle_timeout_ms,
            Some(3_600_000)
        );
        let cb = Scenario::build(ScenarioName::CircuitBreaker);
        assert_eq!(cb.policy("pricing-svc").unwrap().max_pending, Some(1));
        let nh = Scenario::build(ScenarioName::NoHealthyUpstream);
        assert_eq!(nh.edges[2].subset, Some("v3"));
        assert_eq!(
            nh.policy("pricing-svc").unwrap().subsets,
            vec!["v1", "v2", "v3"]
        );
        let se = Scenario::build(ScenarioName::StatsNotEnabled);
        assert_eq!(se.inclusion, StatsInclusion::IstioDefault);
        assert!(
            Scenario::build(ScenarioName::MtlsMismatch)
                .policy("pricing-svc")
                .unwrap()
                .tls_disable
        );
        assert!(Scenario::build(ScenarioName::Churn).churn.is_some());
        let h = Scenario::build(ScenarioName::Healthy);
        assert_eq!(
            h.services
                .iter()
                .map(|s| s.versions.iter().map(|v| v.1).sum::<usize>())
                .sum::<usize>(),
            10
        );
    }

    #[test]
    fn latency_shape_matches_the_stated_p99() {
        let l = lat(250.0, 1400.0);
        let p99 = l.median_ms * (2.326 * l.sigma()).exp();
        assert!((p99 - 1400.0).abs() < 1e-6);
    }
}
