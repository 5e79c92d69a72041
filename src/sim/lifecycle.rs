//! Things that happen to connections and sidecars rather than to single requests: proxy
//! (re)starts, rolling restarts of the `churn` scenario, the app closing kept-alive
//! connections, sizing the sidecar-to-app HTTP/1.1 pool, and the long-lived TCP connections of
//! database clients.
//!
//! Schedules are pure functions of time (restart `k` at `k × every` hits pod `(k-1) mod n`; an
//! app's connection closes at `start + phase + j × keepalive`), so a request can tell when it
//! starts whether it will be cut.

use super::cluster_state::{Closer, ClusterState, HostState, Wire};
use super::counter::Counter;
use super::runtime::{Outbound, ProxyRuntime};
use super::scenario::Protocol;
use super::traffic::{Simulation, TICK_MS};

/// Connections a database client keeps open (its driver's pool).
const TCP_POOL: u64 = 4;
const QUERY_BYTES: u64 = 180;
const ROW_BYTES: u64 = 900;

/// Closes every connection of `host`, the first `cut` of them with an active request.
fn drop_host_connections(c: &mut ClusterState, slot: usize, now: u64, by: Closer) {
    let Some(host) = c.hosts.get_mut(slot) else {
        return;
    };
    let cut = std::mem::take(&mut host.cut) as usize;
    let n = host.conns.len();
    for i in (0..n).rev() {
        c.close_conn(slot, i, now, by, n - 1 - i < cut);
    }
}

impl Simulation {
    /// A fresh sidecar for `pod` starting at `at` (counters from zero, uptime from `at`).
    pub(super) fn start_proxy(&mut self, pod: usize, at: u64) {
        let from = self.scenario.services[self.roles[pod].service].name;
        let outbound = (0..self.routes.len())
            .filter(|&r| self.scenario.edges[self.routes[r].edge].from == from)
            .map(|route| Outbound {
                route,
                state: ClusterState::default(),
            })
            .collect();
        let mut inbound = ClusterState::default();
        inbound.sync_hosts(&[pod], 0);
        self.proxies[pod] = ProxyRuntime {
            generation: self.proxies[pod].generation + 1,
            started_ms: at,
            outbound,
            inbound,
            ..ProxyRuntime::default()
        };
    }

    /// The `churn` scenario at tick start `now`: sidecars coming back, and the next restart.
    pub(super) fn apply_churn(&mut self, now: u64) {
        let Some(churn) = self.scenario.churn else {
            return;
        };
        let back: Vec<usize> = (0..self.proxies.len())
            .filter(|&p| self.proxies[p].down_until.is_some_and(|t| t <= now))
            .collect();
        for &pod in &back {
            self.world.pods[pod].ready = true;
            self.start_proxy(pod, now);
        }
        let restart =
            now > 0 && now.is_multiple_of(churn.every_ms.max(1)) && !self.proxies.is_empty();
        if restart {
            let pod = ((now / churn.every_ms - 1) % self.proxies.len() as u64) as usize;
            // A deleted pod's turn passes without a restart: it must not come back.
            if !self.world.deleted.contains(&pod) {
                self.restart(pod, now, churn.down_ms);
            }
        }
        if restart || !back.is_empty() {
            self.refresh_endpoints();
        }
    }

    /// `pod`'s sidecar goes away at `now` for `down_ms` (see [`Self::take_down`]) and counts
    /// a restart.
    fn restart(&mut self, pod: usize, now: u64, down_ms: u64) {
        self.take_down(pod, now, now + down_ms);
        self.world.pods[pod].restarts += 1;
    }

    /// Deletes the pod `namespace/name` from the API, as `kubectl delete pod` does: it is no
    /// longer listed or watched (watches see `DELETED`), its admin stops answering, it leaves
    /// every endpoint list and sends no more traffic. `false` when no such pod is served.
    pub fn delete_pod(&mut self, namespace: &str, name: &str) -> bool {
        let found = (self.world.pods.iter().enumerate())
            .find(|(i, p)| {
                !self.world.deleted.contains(i) && p.namespace == namespace && p.name == name
            })
            .map(|(i, _)| i);
        let Some(pod) = found else {
            return false;
        };
        self.world.deleted.insert(pod);
        self.take_down(pod, self.now_ms, u64::MAX);
        self.refresh_endpoints();
        true
    }

    /// `pod`'s sidecar goes away at `now` until `down_until`: clients lose their connections
    /// to it (with the requests cut), servers lose its TCP connections, its counters are gone.
    fn take_down(&mut self, pod: usize, now: u64, down_until: u64) {
        for ob in self
            .proxies
            .iter_mut()
            .flat_map(|rt| rt.outbound.iter_mut())
        {
            if let Some(slot) = ob.state.host_slot(pod) {
                drop_host_connections(&mut ob.state, slot, now, Closer::Remote);
            }
        }
        let tcp_peers: Vec<(usize, usize)> = (self.proxies[pod].outbound.iter())
            .filter(|ob| self.routes[ob.route].protocol == Protocol::Tcp)
            .flat_map(|ob| ob.state.hosts.iter().map(|h| (h.pod, h.conns.len())))
            .collect();
        for (server, n) in tcp_peers {
            let inbound = &mut self.proxies[server].inbound;
            for _ in 0..n.min(inbound.open_conns() as usize) {
                let last = inbound.hosts[0].conns.len() - 1;
                inbound.close_conn(0, last, now, Closer::Local, false);
            }
        }
        self.world.pods[pod].ready = false;
        let rt = &mut self.proxies[pod];
        *rt = ProxyRuntime {
            generation: rt.generation + 1,
            down_until: Some(down_until),
            ..ProxyRuntime::default()
        };
    }

    /// The next restart of `server` in `(from, to]`, if the scenario churns.
    pub(super) fn restart_in(&self, server: usize, from: u64, to: u64) -> Option<u64> {
        let churn = self.scenario.churn?;
        let k = from / churn.every_ms + 1;
        let at = k * churn.every_ms;
        let n = self.proxies.len() as u64;
        (at <= to && (k - 1) % n.max(1) == server as u64).then_some(at)
    }

    /// The next time in `(from, to]` the app of `server` closes its connection from the
    /// sidecar, if it does that.
    pub(super) fn keepalive_close_in(&self, server: usize, from: u64, to: u64) -> Option<u64> {
        let ka = self.scenario.services[self.roles[server].service]
            .keepalive_ms?
            .max(1);
        // The first close comes between half a period and a period after start, staggered
        // per pod so the closes of a service's pods do not line up.
        let half = (ka / 2).max(1);
        let first = self.proxies[server].started_ms + half + (server as u64 * 7_919) % half;
        let j = if from < first {
            0
        } else {
            (from - first) / ka + 1
        };
        let at = first + j * ka;
        (at <= to).then_some(at)
    }

    /// Keep-alive closes in `(start, end]`: the sidecar's connection to its app goes, with
    /// the requests it carried, and the next request opens a new one.
    pub(super) fn close_keepalive_connections(&mut self, start: u64, end: u64) {
        for pod in 0..self.proxies.len() {
            let Some(at) = self.keepalive_close_in(pod, start, end) else {
                continue;
            };
            let http2 = self.scenario.services[self.roles[pod].service].protocol == Protocol::Grpc;
            let rt = &mut self.proxies[pod];
            if rt.down_until.is_some() || rt.inbound.open_conns() == 0 {
                continue;
            }
            let cut: u32 = (rt.keepalive_cuts.iter())
                .filter(|(c, _)| *c == at)
                .map(|&(_, n)| n)
                .sum();
            rt.keepalive_cuts.retain(|(c, _)| *c > end);
            if let Some(host) = rt.inbound.hosts.first_mut() {
                host.cut = cut;
            }
            drop_host_connections(&mut rt.inbound, 0, at, Closer::Remote);
            if http2 {
                rt.inbound.open_conn(0, at, 0, Wire::Http2);
            }
        }
    }

    /// Grows each HTTP/1.1 sidecar-to-app pool to this tick's concurrency (Little's law:
    /// busy milliseconds / tick length); connections stay open (1 h idle timeout).
    pub(super) fn size_inbound_pools(&mut self, end: u64) {
        for rt in &mut self.proxies {
            let busy = std::mem::take(&mut rt.inbound_busy_ms);
            let needed = busy.div_ceil(TICK_MS);
            while rt.down_until.is_none()
                && rt.inbound.open_conns() < needed
                && !rt.inbound.hosts.is_empty()
            {
                rt.inbound.inc(Counter::RqPendingTotal);
                rt.inbound.open_conn(0, end, 0, Wire::Http1);
            }
        }
    }

    /// A database client's tick: keep `TCP_POOL` connections open, send this tick's queries.
    pub(super) fn run_tcp(&mut self, pod: usize, slot: usize, tick: u64) {
        let route = self.proxies[pod].outbound[slot].route;
        let rate = self.scenario.edges[self.routes[route].edge].rate;
        let hosts = self.cluster(pod, slot).hosts.len() as u64;
        let open = self.cluster(pod, slot).open_conns();
        if hosts == 0 {
            self.cluster(pod, slot)
                .add(Counter::CxNoneHealthy, TCP_POOL - open.min(TCP_POOL));
            return;
        }
        for k in open..TCP_POOL {
            let connect_ms = self.connect_ms();
            let c = self.cluster(pod, slot);
            let host = (k % hosts) as usize;
            c.open_conn(host, tick, connect_ms, Wire::Tcp);
            let server = c.hosts[host].pod;
            let inbound = &mut self.proxies[server].inbound;
            if !inbound.hosts.is_empty() {
                inbound.open_conn(0, tick, 0, Wire::Tcp);
            }
        }
        let queries = self.rng.poisson(rate * TICK_MS as f64 / 1000.0);
        let c = self.cluster(pod, slot);
        c.add(Counter::CxTxBytesTotal, queries * QUERY_BYTES);
        c.add(Counter::CxRxBytesTotal, queries * ROW_BYTES);
        let shares: Vec<(usize, u64)> = (c.hosts.iter())
            .map(|h: &HostState| (h.pod, queries * h.conns.len() as u64 / TCP_POOL))
            .collect();
        for (server, q) in shares {
            let inbound = &mut self.proxies[server].inbound;
            inbound.add(Counter::CxTxBytesTotal, q * QUERY_BYTES);
            inbound.add(Counter::CxRxBytesTotal, q * ROW_BYTES);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::scenario::SimConfig;
    use super::*;

    #[test]
    fn a_deleted_pod_is_no_longer_served_polled_or_restarted() {
        let cfg = SimConfig {
            scenario: "churn".parse().unwrap(),
            ..SimConfig::default()
        };
        let mut sim = Simulation::new(&cfg);
        let pods = sim.world().pods.len();
        let first = sim.world().pods[0].clone();
        assert!(sim.delete_pod(&first.namespace, &first.name));
        assert!(!sim.delete_pod(&first.namespace, &first.name));
        assert!(!sim.delete_pod("prod", "no-such-pod"));
        assert_eq!(sim.world().served_pods().count(), pods - 1);
        assert!(sim.world().served_pods().all(|p| p.name != first.name));
        assert_eq!(sim.proxy(&first.namespace, &first.name), None);
        assert!(sim.members.iter().all(|m| !m.contains(&0)));
        // Pod 0 is churn's first restart (at 120 s); it stays down and uncounted.
        sim.advance_to(241_000);
        assert_eq!(sim.world().pods[0].restarts, 0);
        assert_eq!(sim.proxy(&first.namespace, &first.name), None);
        assert_eq!(sim.world().pods[1].restarts, 1);
    }
}
