//! `Context`: what every rule reads — the snapshot, the thresholds, and the shared vocabulary
//! for asking "did this counter move?", "how many responses had flag UT?", "what does the
//! VirtualService say, and where?", and for writing evidence and verify commands with real
//! names. Absent data answers `None` (not collected), never 0.

use crate::model::{ClusterSnapshot, CounterWindow, MeshSnapshot, RequestWindow};

use super::finding::{Finding, Severity};
use super::thresholds::Thresholds;
use crate::envoy::{ClusterKind, Direction};

/// The input of every rule.
pub struct Context<'a> {
    pub snap: &'a MeshSnapshot,
    pub thresholds: &'a Thresholds,
}

/// Which sidecar reported an `istio_requests_total` series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reporter {
    /// The client's sidecar (`reporter=source`).
    Client,
    /// The server's sidecar (`reporter=destination`).
    Server,
}

impl<'a> Context<'a> {
    pub fn new(snap: &'a MeshSnapshot, thresholds: &'a Thresholds) -> Self {
        Context { snap, thresholds }
    }

    /// Upstream clusters a client calls: Istio `outbound|…` and plain Envoy clusters (not
    /// inbound, not Istio's own `BlackHoleCluster`, `xds-grpc`, …).
    pub fn upstreams(&self) -> impl Iterator<Item = &'a ClusterSnapshot> + 'a {
        self.snap.clusters.iter().filter(|c| match &c.key.kind {
            ClusterKind::Istio(ic) => ic.direction == Direction::Outbound,
            ClusterKind::Plain => true,
            ClusterKind::Special { .. } => false,
        })
    }

    /// The window counter when collected.
    pub fn counter(&self, c: &ClusterSnapshot, stat: &str) -> Option<CounterWindow> {
        c.counters.get(stat).copied()
    }

    /// The counter's window increase when it moved (≥ `min_events`); `None` when it did not
    /// move or was not collected.
    pub fn moved(&self, c: &ClusterSnapshot, stat: &str) -> Option<u64> {
        self.counter(c, stat)
            .map(|w| w.increase)
            .filter(|&n| n >= self.thresholds.min_events.max(1))
    }

    /// The server side's inbound counter increase when it moved.
    pub fn server_moved(&self, c: &ClusterSnapshot, stat: &str) -> Option<u64> {
        let w = c.server.as_ref()?.counters.get(stat)?;
        Some(w.increase).filter(|&n| n >= self.thresholds.min_events.max(1))
    }

    /// The latest value of a gauge, the maximum over client pods.
    pub fn gauge_max(&self, c: &ClusterSnapshot, stat: &str) -> Option<f64> {
        c.gauges.get(stat).map(|g| g.max)
    }

    /// The series reported by one side for this cluster's service (empty: not collected or
    /// no traffic — [`requests_total`](Self::requests_total) tells which).
    pub fn series(&self, c: &'a ClusterSnapshot, side: Reporter) -> &'a [RequestWindow] {
        match side {
            Reporter::Client => &c.requests,
            Reporter::Server => c.server.as_ref().map_or(&[], |s| &s.requests),
        }
    }

    /// Responses in the window carrying `flag`; `None` when the side reported no series at
    /// all (not collected), `Some(0)` when it did and none had the flag.
    pub fn flag_count(&self, c: &ClusterSnapshot, side: Reporter, flag: &str) -> Option<u64> {
        let series = match side {
            Reporter::Client => &c.requests,
            Reporter::Server => &c.server.as_ref()?.requests,
        };
        if series.is_empty() {
            return None;
        }
        Some(
            series
                .iter()
                .filter(|r| r.has_flag(flag))
                .map(|r| r.window.increase)
                .sum(),
        )
    }

    /// [`flag_count`](Self::flag_count) when at least `min_events`.
    pub fn flagged(&self, c: &ClusterSnapshot, side: Reporter, flag: &str) -> Option<u64> {
        self.flag_count(c, side, flag)
            .filter(|&n| n >= self.thresholds.min_events.max(1))
    }

    /// Requests to the cluster in the window, from the best source collected: cluster stats,
    /// `/clusters` host counters, then the client's `istio_requests_total`.
    pub fn requests_total(&self, c: &ClusterSnapshot) -> Option<u64> {
        c.increase("upstream_rq_total")
            .or_else(|| c.increase("hosts.rq_total"))
            .or_else(|| {
                (!c.requests.is_empty()).then(|| c.requests.iter().map(|r| r.window.increase).sum())
            })
    }

    /// True when the cluster had at least `min_requests` requests in the window.
    pub fn has_traffic(&self, c: &ClusterSnapshot) -> bool {
        self.requests_total(c)
            .is_some_and(|n| n >= self.thresholds.min_requests.max(1))
    }

    /// `base`, or one level lower when fewer than `strong` independent signals agree (a flag,
    /// a counter and a config value are three).
    pub fn grade(&self, base: Severity, signals: usize, strong: usize) -> Severity {
        if signals >= strong {
            base
        } else {
            base.lowered()
        }
    }

    /// Critical when `failed` is at least `critical_share` of the cluster's requests, else a
    /// warning.
    pub fn share_severity(&self, c: &ClusterSnapshot, failed: u64) -> Severity {
        let total = self.requests_total(c).unwrap_or(0).max(failed);
        if total > 0 && failed as f64 / total as f64 >= self.thresholds.critical_share {
            Severity::Critical
        } else {
            Severity::Warning
        }
    }

    /// A client pod of the cluster (for commands), the first by name.
    pub fn client_pod(&self, c: &ClusterSnapshot) -> String {
        busiest_client(c)
            .or_else(|| c.clients.first().cloned())
            .unwrap_or_else(|| "<client-pod>".into())
    }

    /// The namespace commands run in: the pod's, else the snapshot's, else `default`.
    pub fn namespace_of(&self, pod: &str) -> String {
        self.snap
            .source(pod)
            .map(|s| s.namespace.clone())
            .or_else(|| self.snap.namespace.clone())
            .unwrap_or_else(|| "default".into())
    }

    /// `3 of 4 order-svc pods` when the per-pod view shows which clients saw `stat` move.
    pub fn scope(&self, c: &ClusterSnapshot, stat: &str) -> Option<String> {
        self.moved_pods(c, &[stat]).1
    }

    /// The client pods that sent requests to the cluster in the window (every sidecar has an
    /// outbound cluster per Service, so `clients` lists pods that never call it); all clients
    /// when no per-pod view says.
    pub fn calling_pods(&self, c: &ClusterSnapshot) -> Vec<String> {
        let (pods, scope) = self.moved_pods(c, &["upstream_rq_total", "hosts.rq_total"]);
        match scope {
            Some(_) => pods,
            None => c.clients.clone(),
        }
    }

    /// The client pods whose per-pod window shows any of `stats` moved (sorted), with the
    /// scope `2 of 2 order-svc pods`: those pods out of the clients of the same workloads —
    /// every sidecar has an outbound cluster per Service, so `clients` also lists pods that
    /// never call it. Without a per-pod view, or when no pod shows it: all clients, no scope.
    pub fn moved_pods(&self, c: &ClusterSnapshot, stats: &[&str]) -> (Vec<String>, Option<String>) {
        let min = self.thresholds.min_events.max(1);
        let moved = |p: &&crate::model::PodClusterView| {
            (stats.iter()).any(|s| p.counters.get(s).is_some_and(|w| w.increase >= min))
        };
        let mut pods: Vec<String> = c
            .per_pod
            .iter()
            .filter(moved)
            .map(|p| p.pod.clone())
            .collect();
        if pods.is_empty() {
            return (c.clients.clone(), None);
        }
        pods.sort();
        let names: Vec<&str> = pods.iter().map(|p| workload_of(p)).collect();
        let of = (c.clients.iter())
            .filter(|p| names.contains(&workload_of(p)))
            .count()
            .max(pods.len());
        let scope = format!("{} of {of} {} pods", pods.len(), workloads(&pods));
        (pods, Some(scope))
    }

    /// A finding about cluster `c` seen by its client pods, to fill in.
    pub fn cluster_finding(&self, rule: &str, severity: Severity, c: &ClusterSnapshot) -> Finding {
        Finding {
            rule: rule.to_string(),
            severity,
            cluster: Some(c.key.name.clone()),
            target: c.label.clone(),
            pods: self.calling_pods(c),
            scope: None,
            title: String::new(),
            evidence: Vec::new(),
            cause: String::new(),
            next_steps: Vec::new(),
        }
    }

    /// A finding about one pod's sidecar, to fill in.
    pub fn pod_finding(&self, rule: &str, severity: Severity, pod: &str) -> Finding {
        Finding {
            rule: rule.to_string(),
            severity,
            cluster: None,
            target: pod.to_string(),
            pods: vec![pod.to_string()],
            scope: None,
            title: String::new(),
            evidence: Vec::new(),
            cause: String::new(),
            next_steps: Vec::new(),
        }
    }

    /// The Kubernetes Service name and namespace of an Istio cluster (`pricing-svc`, `prod`);
    /// for other hosts the host itself and the client pod's namespace.
    pub fn service_of(&self, c: &ClusterSnapshot) -> (String, String) {
        let ns = || self.namespace_of(&self.client_pod(c));
        match c.key.istio() {
            Some(k) => match (&k.service, &k.namespace) {
                (Some(s), Some(n)) => (s.clone(), n.clone()),
                _ => (k.host.clone(), ns()),
            },
            None => (c.key.name.clone(), ns()),
        }
    }

    /// [`moved_pods`](Self::moved_pods) for `stats`, else the clients that sent requests in the
    /// window (`upstream_rq_total`, `hosts.rq_total`), else every client: the pods to list and
    /// run commands on when the problem's own counter has no per-pod view (flags only).
    pub fn problem_pods(
        &self,
        c: &ClusterSnapshot,
        stats: &[&str],
    ) -> (Vec<String>, Option<String>) {
        let (pods, scope) = self.moved_pods(c, stats);
        match scope {
            Some(_) => (pods, scope),
            None => self.moved_pods(c, &["upstream_rq_total", "hosts.rq_total"]),
        }
    }

    /// A pod of the called service for commands: the first server pod that reported calls,
    /// else a shell lookup by the `app` label.
    pub fn callee_pod(&self, c: &ClusterSnapshot) -> String {
        let server = c.server.as_ref().and_then(|s| s.pods.first());
        match server {
            Some(pod) => format!("{pod}.{}", self.namespace_of(pod)),
            None => {
                let (svc, ns) = self.service_of(c);
                format!(
                    "$(kubectl get pod -n {ns} -l app={svc} -o name | head -n1 | cut -d/ -f2).{ns}"
                )
            }
        }
    }

    /// The cluster that carries the `istio_requests_total` series of `c`'s service: the metric
    /// has no port or subset, so the snapshot attaches a service's series to one of its
    /// clusters — `c` itself or an outbound sibling with the same host. `c` when none has any.
    pub fn service_series(&self, c: &'a ClusterSnapshot) -> &'a ClusterSnapshot {
        let Some(host) = c.key.istio().map(|k| k.host.as_str()) else {
            return c;
        };
        if !c.requests.is_empty() {
            return c;
        }
        let sibling = |o: &&ClusterSnapshot| o.key.istio().is_some_and(|k| k.host == host);
        (self.upstreams())
            .filter(sibling)
            .find(|o| !o.requests.is_empty())
            .unwrap_or(c)
    }

    /// The cluster's endpoints as `(total, healthy)`: the `membership_total` and
    /// `membership_healthy` gauges (highest over client pods), else `/clusters`; `None` when
    /// neither was collected.
    pub fn membership(&self, c: &ClusterSnapshot) -> Option<(u64, u64)> {
        let total = self.gauge_max(c, "membership_total");
        let gauges = total.zip(self.gauge_max(c, "membership_healthy"));
        match (gauges, &c.endpoints) {
            (Some((t, h)), _) => Some((t as u64, h as u64)),
            (None, Some(e)) => Some((e.total as u64, e.healthy as u64)),
            (None, None) => None,
        }
    }
}
/// The client pod that sent the most requests to the cluster in the window (every sidecar
/// has every outbound cluster, so the first by name is often one that never calls it).
fn busiest_client(c: &ClusterSnapshot) -> Option<String> {
    let sent = |p: &crate::model::PodClusterView| {
        p.counters
            .get("upstream_rq_total")
            .or_else(|| p.counters.get("hosts.rq_total"))
            .map_or(0, |w| w.increase)
    };
    c.per_pod
        .iter()
        .filter(|p| sent(p) > 0)
        .max_by(|a, b| sent(a).cmp(&sent(b)).then_with(|| b.pod.cmp(&a.pod)))
        .map(|p| p.pod.clone())
}

/// The service FQDN of an Istio cluster (`inventory-svc.prod.svc.cluster.local`), else the
/// cluster name.
pub fn fqdn(c: &ClusterSnapshot) -> String {
    c.key
        .istio()
        .map_or_else(|| c.key.name.clone(), |k| k.host.clone())
}

/// The workload name of a pod name made by a Deployment (`order-svc-7d9f8-x2x4z` →
/// `order-svc`), else the pod name.
pub fn workload_of(pod: &str) -> &str {
    let mut parts = pod.rsplitn(3, '-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(_), Some(_), Some(head)) if !head.is_empty() => head,
        _ => pod,
    }
}

/// The distinct workloads of `pods`, joined: `order-svc`, `frontend/order-svc`.
pub fn workloads(pods: &[String]) -> String {
    let mut names: Vec<&str> = pods.iter().map(|p| workload_of(p)).collect();
    names.sort_unstable();
    names.dedup();
    names.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_names() {
        assert_eq!(workload_of("order-svc-drs84w455-nxhgh"), "order-svc");
        assert_eq!(workload_of("db-0"), "db-0");
        assert_eq!(
            workloads(&["b-1-x".into(), "a-2-y".into(), "b-3-z".into()]),
            "a/b"
        );
    }
}
