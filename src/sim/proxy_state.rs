//! Renders one sidecar's runtime state into the [`ProxyState`] the Envoy admin emulator
//! prints: every cluster a real Istio sidecar carries — an outbound cluster per Service port
//! and DR subset (idle ones included), the inbound cluster, `--clusters-per-pod` idle
//! clusters, Envoy/Istio's own clusters — plus `istio_requests_total` and proxy-wide counters.
//! Gauges count what is in flight at the last computed tick.

use super::cluster_render::{ClusterView, Shape, render_cluster};
use super::cluster_state::ClusterState;
use super::mesh_config::APP_NAMESPACE;
use super::model::{ProxyState, SimCluster, SimIstioRequests};
use super::runtime::{Effect, IstioSeries};
use super::scenario::Protocol;
use super::sidecar_config::{
    cluster_config, inbound_routes, plain_config, proxy_counters, routes_for, special_clusters,
};
use super::traffic::Simulation;
use super::world::{extra_endpoint, extra_service_name};

const ENVOY_VERSION: &str = "1.30.4";
const ISTIO_VERSION: &str = "1.22.3";
/// `reporter` label values, indexed by "reported by the client".
const REPORTERS: [&str; 2] = ["destination", "source"];

impl Simulation {
    /// The `ProxyState` of pod `pod` (which must be up).
    pub(super) fn render_proxy(&self, pod: usize) -> ProxyState {
        let rt = &self.proxies[pod];
        let uptime_secs = self.now_ms.saturating_sub(rt.started_ms) / 1000;
        let mut clusters: Vec<SimCluster> = (0..self.targets.len())
            .map(|t| self.render_outbound(pod, t))
            .collect();
        clusters.push(self.render_inbound(pod));
        clusters.extend((0..self.extra_clusters).map(render_extra));
        clusters.extend(special_clusters(uptime_secs));
        clusters.sort_by(|a, b| a.name.cmp(&b.name));
        let p = &self.world.pods[pod];
        ProxyState {
            pod: p.name.clone(),
            namespace: p.namespace.clone(),
            pod_ip: p.ip.clone(),
            envoy_version: ENVOY_VERSION.to_string(),
            istio_version: ISTIO_VERSION.to_string(),
            uptime_secs,
            inclusion: self.scenario.inclusion,
            proxy_counters: proxy_counters(clusters.len() as u64, uptime_secs, rt.refused_cx),
            clusters,
            istio_requests: rt.istio.iter().map(|s| self.render_series(s)).collect(),
        }
    }

    fn workload(&self, deployment: usize) -> &str {
        let role = self.roles.iter().find(|r| r.deployment == deployment);
        role.map_or("unknown", |r| r.workload.as_str())
    }

    fn render_series(&self, s: &IstioSeries) -> SimIstioRequests {
        let service = self.scenario.services[s.service].name;
        SimIstioRequests {
            reporter: REPORTERS[usize::from(s.source_reporter)].to_string(),
            source_workload: self.workload(s.client).to_string(),
            source_namespace: APP_NAMESPACE.to_string(),
            destination_service: format!("{service}.{APP_NAMESPACE}.svc.cluster.local"),
            destination_workload: s.server.map_or("unknown", |d| self.workload(d)).to_string(),
            destination_namespace: APP_NAMESPACE.to_string(),
            response_code: s.code,
            response_flags: s.flags.to_string(),
            count: s.count,
        }
    }

    /// In-flight requests of `pod`'s cluster (`slot` = outbound slot, `None` = inbound).
    fn in_flight(&self, pod: usize, slot: Option<usize>, hosts: &ClusterState) -> (Vec<u64>, u64) {
        let (now, generation) = (self.done_ms, self.proxies[pod].generation);
        let mut active = vec![0; hosts.hosts.len()];
        let mut pending = 0;
        for d in self
            .queue
            .iter()
            .filter(|d| d.pod == pod && d.generation == generation && d.at > now)
        {
            let (host, attach) = match (d.effect, slot) {
                (
                    Effect::Client {
                        slot: s,
                        host,
                        attach,
                        ..
                    },
                    Some(want),
                ) if s == want => (host, attach),
                // The server counted the request when it was planned: active until it ends.
                (Effect::Server { .. }, None) => (Some((0, pod)), 0),
                _ => continue,
            };
            match host.and_then(|(hint, p)| hosts.host_slot_near(hint, p)) {
                _ if attach > now => pending += u64::from(slot.is_some()),
                Some(i) => active[i] += 1,
                None => {}
            }
        }
        (active, pending)
    }

    fn host_addresses(&self, c: &ClusterState, port: u16) -> Vec<(String, String)> {
        (c.hosts.iter())
            .map(|h| {
                (
                    format!("{}:{port}", self.world.pods[h.pod].ip),
                    self.roles[h.pod].zone.to_string(),
                )
            })
            .collect()
    }

    /// The outbound cluster of `target` in `pod`'s sidecar: its traffic state, or an idle one
    /// over the target's current endpoints.
    fn render_outbound(&self, pod: usize, target: usize) -> SimCluster {
        let t = &self.targets[target];
        let svc = &self.scenario.services[t.service];
        let subset = t.subset.unwrap_or("");
        let fqdn = format!("{}.{APP_NAMESPACE}.svc.cluster.local", svc.name);
        let name = format!("outbound|{}|{subset}|{fqdn}", svc.port);
        let config = cluster_config(&self.scenario, t.service, true);
        let shape = Shape::of(&config, true);
        let routes = routes_for(self, t);
        let outbound = &self.proxies[pod].outbound;
        let owned =
            (outbound.iter().enumerate()).find(|(_, ob)| self.routes[ob.route].target == target);
        if let Some((slot, ob)) = owned {
            let (active, pending) = self.in_flight(pod, Some(slot), &ob.state);
            let addresses = self.host_addresses(&ob.state, svc.port);
            let view = ClusterView {
                state: &ob.state,
                shape,
                addresses,
                active,
                pending,
            };
            return render_cluster(name, &view, config, routes);
        }
        let mut idle = ClusterState::default();
        idle.sync_hosts(&self.members[target], self.endpoints_version);
        let view = ClusterView::idle(&idle, shape, self.host_addresses(&idle, svc.port));
        render_cluster(name, &view, config, routes)
    }

    fn render_inbound(&self, pod: usize) -> SimCluster {
        let service = self.roles[pod].service;
        let svc = &self.scenario.services[service];
        let state = &self.proxies[pod].inbound;
        let config = cluster_config(&self.scenario, service, false);
        let addresses = self.host_addresses(state, svc.port);
        let mut view = ClusterView::idle(state, Shape::of(&config, false), addresses);
        view.active = self.in_flight(pod, None, state).0;
        let routes = inbound_routes(svc.port, svc.protocol != Protocol::Tcp);
        render_cluster(format!("inbound|{}||", svc.port), &view, config, routes)
    }
}

/// An idle `--clusters-per-pod` cluster: one unmeshed endpoint, no traffic.
fn render_extra(i: usize) -> SimCluster {
    let mut state = ClusterState::default();
    state.sync_hosts(&[usize::MAX], 1);
    let config = plain_config(false);
    let addresses = vec![(extra_endpoint(i), String::new())];
    let view = ClusterView::idle(&state, Shape::of(&config, true), addresses);
    let service = extra_service_name(i);
    let name = format!("outbound|80||{service}.{APP_NAMESPACE}.svc.cluster.local");
    render_cluster(name, &view, config, Vec::new())
}
