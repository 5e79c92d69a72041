//! Builds the Kubernetes side of a scenario: namespaces, Services and meshed pods named like
//! real ReplicaSet pods (`order-svc-7d9f8b6c5-x2x4q`), with Istio's labels and annotations,
//! plus the scenario's DestinationRules and VirtualServices ([`super::mesh_config`]).
//!
//! `--pods N` spreads N pods over the scenario's Deployments in proportion to their default
//! replicas (at least one each); `--clusters-per-pod M` adds M selector-less Services
//! `svc-<i>` (backed by unmeshed endpoints outside the pod list) whose idle outbound clusters
//! every sidecar carries.

use std::collections::BTreeMap;

use super::mesh_config::{APP_NAMESPACE, destination_rules, virtual_services};
use super::model::{SimPod, SimService, StatsInclusion, World};
use super::rng::Rng;
use super::scenario::{Protocol, Scenario};

/// Kubernetes' `SafeEncodeString` alphabet (no vowels, no confusable digits).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];
const SIDECAR_STATUS: &str = r#"{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}"#;
/// The opt-in that makes sidecars record per-cluster stats (HINTS.md R0).
pub const STATS_OPT_IN: &str =
    "proxyStatsMatcher:\n  inclusionPrefixes:\n  - cluster.outbound\n  - cluster.inbound\n";

/// What a pod runs, aligned with `World::pods`.
#[derive(Debug, Clone, PartialEq)]
pub struct PodRole {
    /// Index into `Scenario::services`.
    pub service: usize,
    pub version: &'static str,
    /// Replica number within the service, counted across its versions.
    pub replica: usize,
    /// The Deployment (Istio's workload name): `order-svc` or `pricing-svc-v2`.
    pub workload: String,
    /// Index of the Deployment, in `replica_counts` order.
    pub deployment: usize,
    pub zone: &'static str,
}

/// Replicas per Deployment, in `Scenario::services` × `versions` order.
pub fn replica_counts(s: &Scenario, total: Option<usize>) -> Vec<usize> {
    let base: Vec<usize> = (s.services.iter())
        .flat_map(|svc| svc.versions.iter().map(|&(_, n)| n))
        .collect();
    let Some(n) = total else { return base };
    let sum: usize = base.iter().sum::<usize>().max(1);
    let mut out: Vec<usize> = base.iter().map(|&b| (b * n / sum).max(1)).collect();
    let mut order: Vec<usize> = (0..base.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((base[i] * n) % sum));
    let mut next = 0;
    while out.iter().sum::<usize>() < n && !order.is_empty() {
        out[order[next % order.len()]] += 1;
        next += 1;
    }
    out
}

fn uid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// The pod IP of the `k`-th pod: `10.4.<node>.<n>`.
pub fn pod_ip(k: usize) -> String {
    format!("10.4.{}.{}", k / 250, k % 250 + 2)
}

fn pod_labels(app: &str, version: &str, hash: &str) -> BTreeMap<String, String> {
    [
        ("app", app),
        ("version", version),
        ("pod-template-hash", hash),
        ("security.istio.io/tlsMode", "istio"),
        ("service.istio.io/canonical-name", app),
        ("service.istio.io/canonical-revision", version),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn pod_annotations(app: &str, inclusion: StatsInclusion) -> BTreeMap<String, String> {
    let mut a: BTreeMap<String, String> = [
        ("sidecar.istio.io/status", SIDECAR_STATUS),
        ("kubectl.kubernetes.io/default-container", app),
        ("istio.io/rev", "default"),
        ("prometheus.io/scrape", "true"),
        ("prometheus.io/port", "15020"),
        ("prometheus.io/path", "/stats/prometheus"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if inclusion == StatsInclusion::Full {
        a.insert("proxy.istio.io/config".into(), STATS_OPT_IN.into());
    }
    a
}

/// One Deployment's pods.
struct Deployment<'a> {
    index: usize,
    service: usize,
    app: &'a str,
    version: &'static str,
    workload: String,
    first_replica: usize,
    replicas: usize,
}

fn deployment_pods(d: &Deployment, s: &Scenario, rng: &mut Rng, pods: &mut Vec<(SimPod, PodRole)>) {
    let hash_len = 9 + rng.below(2) as usize;
    let hash = rng.pick_chars(NAME_ALPHABET, hash_len);
    let mut taken = std::collections::BTreeSet::new();
    for r in 0..d.replicas {
        let k = pods.len();
        let mut suffix = rng.pick_chars(NAME_ALPHABET, 5);
        while !taken.insert(suffix.clone()) {
            suffix = rng.pick_chars(NAME_ALPHABET, 5);
        }
        let pod = SimPod {
            name: format!("{}-{hash}-{suffix}", d.workload),
            namespace: APP_NAMESPACE.to_string(),
            uid: uid(rng),
            ip: pod_ip(k),
            labels: pod_labels(d.app, d.version, &hash),
            annotations: pod_annotations(d.app, s.inclusion),
            meshed: true,
            phase: "Running".to_string(),
            ready: true,
            restarts: 0,
            started_at_secs: 0,
        };
        let role = PodRole {
            service: d.service,
            version: d.version,
            replica: d.first_replica + r,
            workload: d.workload.clone(),
            deployment: d.index,
            zone: ZONES[k % ZONES.len()],
        };
        pods.push((pod, role));
    }
}

fn port_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Http1 => "http",
        Protocol::Grpc => "grpc",
        Protocol::Tcp => "tcp-postgres",
    }
}

fn services(s: &Scenario, extra: usize) -> Vec<SimService> {
    let mut out: Vec<SimService> = (s.services.iter().enumerate())
        .map(|(i, svc)| SimService {
            name: svc.name.to_string(),
            namespace: APP_NAMESPACE.to_string(),
            cluster_ip: format!("10.96.0.{}", 10 + i),
            ports: vec![(port_name(svc.protocol).to_string(), svc.port, svc.port)],
            selector: BTreeMap::from([("app".to_string(), svc.name.to_string())]),
        })
        .collect();
    out.extend((0..extra).map(|i| SimService {
        name: extra_service_name(i),
        namespace: APP_NAMESPACE.to_string(),
        cluster_ip: format!("10.97.{}.{}", i / 250, i % 250 + 1),
        ports: vec![("http".to_string(), 80, 8080)],
        selector: BTreeMap::new(),
    }));
    out
}

/// Name of the `i`-th idle Service added by `--clusters-per-pod`.
pub fn extra_service_name(i: usize) -> String {
    format!("svc-{i}")
}

/// The endpoint behind idle Service `i` (an unmeshed backend, not in the pod list).
pub fn extra_endpoint(i: usize) -> String {
    format!("10.8.{}.{}:8080", i / 250, i % 250 + 1)
}

/// Every Deployment of the scenario with its replica count.
fn deployments(s: &Scenario, total_pods: Option<usize>) -> Vec<Deployment<'_>> {
    let counts = replica_counts(s, total_pods);
    let mut out = Vec::new();
    for (service, svc) in s.services.iter().enumerate() {
        let mut first_replica = 0;
        for &(version, _) in &svc.versions {
            let replicas = counts.get(out.len()).copied().unwrap_or(1);
            let workload = match svc.versions.len() {
                1 => svc.name.to_string(),
                _ => format!("{}-{version}", svc.name),
            };
            let (index, app) = (out.len(), svc.name);
            out.push(Deployment {
                index,
                service,
                app,
                version,
                workload,
                first_replica,
                replicas,
            });
            first_replica += replicas;
        }
    }
    out
}

/// The world of a scenario and the role of each pod.
pub fn build_world(
    s: &Scenario,
    total_pods: Option<usize>,
    extra: usize,
    seed: u64,
) -> (World, Vec<PodRole>) {
    let mut rng = Rng::derive(seed, "world");
    let mut pods = Vec::new();
    for d in deployments(s, total_pods) {
        deployment_pods(&d, s, &mut rng, &mut pods);
    }
    let (pods, roles): (Vec<SimPod>, Vec<PodRole>) = pods.into_iter().unzip();
    let world = World {
        namespaces: vec!["istio-system".to_string(), APP_NAMESPACE.to_string()],
        pods,
        services: services(s, extra),
        destination_rules: destination_rules(s),
        virtual_services: virtual_services(s),
        deleted: Default::default(),
    };
    (world, roles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::ScenarioName;

    #[test]
    fn default_world_has_ten_named_meshed_pods() {
        let s = Scenario::build(ScenarioName::GrpcKeepalive);
        let (w, roles) = build_world(&s, None, 0, 1);
        assert_eq!(w.pods.len(), 10);
        assert_eq!(roles.len(), 10);
        assert_eq!(w.namespaces, vec!["istio-system", "prod"]);
        let first = &w.pods[0];
        assert!(first.name.starts_with("frontend-"), "{}", first.name);
        let parts: Vec<&str> = first.name.rsplitn(3, '-').collect();
        assert_eq!(parts[0].len(), 5);
        assert!(
            parts[1].len() == 9 || parts[1].len() == 10,
            "{}",
            first.name
        );
        assert_eq!(first.labels["pod-template-hash"], parts[1]);
        assert_eq!(first.ip, "10.4.0.2");
        assert!(first.meshed && first.ready && first.phase == "Running");
        assert_eq!(first.annotations["proxy.istio.io/config"], STATS_OPT_IN);
        let pricing: Vec<&str> = (roles.iter().filter(|r| r.workload.starts_with("pricing")))
            .map(|r| r.workload.as_str())
            .collect();
        assert_eq!(pricing, vec!["pricing-svc-v1", "pricing-svc-v2"]);
        assert_eq!(w.services[2].ports, vec![("grpc".to_string(), 8080, 8080)]);
        assert_eq!(w.destination_rules.len(), 2);
    }

    #[test]
    fn pods_scale_to_the_requested_total() {
        let s = Scenario::build(ScenarioName::Healthy);
        assert_eq!(replica_counts(&s, Some(200)), vec![40, 40, 60, 20, 20, 20]);
        assert_eq!(replica_counts(&s, Some(13)).iter().sum::<usize>(), 13);
        assert_eq!(replica_counts(&s, Some(2)), vec![1; 6]);
        let (w, _) = build_world(&s, Some(2000), 3, 9);
        assert_eq!(w.pods.len(), 2000);
        assert_eq!(w.pods[1999].ip, "10.4.7.251");
        assert_eq!(w.services.len(), 8);
        assert!(w.services[7].selector.is_empty());
        let names: std::collections::BTreeSet<&str> =
            w.pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), 2000, "pod names are unique");
    }

    #[test]
    fn stats_not_enabled_pods_lack_the_opt_in() {
        let s = Scenario::build(ScenarioName::StatsNotEnabled);
        let (w, _) = build_world(&s, None, 0, 1);
        assert!(
            w.pods
                .iter()
                .all(|p| !p.annotations.contains_key("proxy.istio.io/config"))
        );
        let (again, _) = build_world(&s, None, 0, 1);
        assert_eq!(w, again);
        let (other, _) = build_world(&s, None, 0, 2);
        assert_ne!(w.pods[0].name, other.pods[0].name);
    }
}
