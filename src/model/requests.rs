//! The request-level parts of a snapshot, from the series store of a
//! [`Collection`](super::Collection): each service's `istio_requests_total` series on the client
//! and on the server side, the server pods' inbound cluster counters, and per-sidecar totals.
//!
//! `istio_requests_total` carries the service host but neither port nor subset, so a
//! service's series go to one of its outbound clusters — the one with the most requests in the
//! window (ties: no subset, lowest port, name). The server side is every pod whose sidecar
//! reported calls to the host (reporter=destination), and its inbound cluster is
//! `inbound|<port>||` on those pods (or their only inbound service cluster).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::collection::{PROXY_COUNTERS, SERIES_VALUE, parse_request_key, proxy_key};
use super::snapshot::{ClusterSnapshot, CounterWindow, ProxyView, RequestWindow, ServerSide};
use crate::envoy::{ClusterKind, Direction};
use crate::metrics::{MetricsStore, Timestamp};

/// The window the request parts are computed over.
#[derive(Clone, Copy)]
pub struct Window<'a> {
    pub series: &'a MetricsStore,
    pub clusters: &'a MetricsStore,
    pub window: Duration,
    pub now: Timestamp,
}

impl Window<'_> {
    fn pod_counter(
        &self,
        store: &MetricsStore,
        pod: &str,
        key: &str,
        stat: &str,
    ) -> Option<CounterWindow> {
        store
            .delta(pod, key, stat, self.window, self.now)
            .map(|d| CounterWindow {
                increase: d.increase,
                rate: d.rate(),
                resets: d.resets,
                pods: 1,
            })
    }
}

/// Adds `b` into `a` (rates add; `None` stays `None` only when both are).
pub fn add_window(a: &mut CounterWindow, b: CounterWindow) {
    a.increase = a.increase.saturating_add(b.increase);
    a.rate = match (a.rate, b.rate) {
        (Some(x), Some(y)) => Some(x + y),
        (x, y) => x.or(y),
    };
    a.resets = a.resets.saturating_add(b.resets);
    a.pods += b.pods;
}

/// Adds `w` into the sum `into` (the first window starts it).
pub(super) fn merge(into: &mut Option<CounterWindow>, w: CounterWindow) {
    match into {
        Some(acc) => add_window(acc, w),
        None => *into = Some(w),
    }
}

/// One service's series as seen by a set of pods, grouped by (reporter, code, flags).
fn requests_for(w: &Window<'_>, pods: &[String], reporter: &str, host: &str) -> Vec<RequestWindow> {
    let mut groups: BTreeMap<(String, String), Option<CounterWindow>> = BTreeMap::new();
    for pod in pods {
        let mut pod_groups: BTreeMap<(String, String), Option<CounterWindow>> = BTreeMap::new();
        for key in w.series.clusters(pod) {
            let Some(k) = parse_request_key(key) else {
                continue;
            };
            if k.reporter != reporter || k.destination_service != host {
                continue;
            }
            if let Some(win) = w.pod_counter(w.series, pod, key, SERIES_VALUE) {
                let group = (k.response_code.to_string(), k.response_flags.to_string());
                merge(pod_groups.entry(group).or_default(), win);
            }
        }
        // Several source workloads in one pod's series still count the pod once.
        for (group, win) in pod_groups {
            if let Some(mut win) = win {
                win.pods = 1;
                merge(groups.entry(group).or_default(), win);
            }
        }
    }
    groups
        .into_iter()
        .filter_map(|((code, flags), win)| {
            Some(RequestWindow {
                reporter: reporter.to_string(),
                response_code: code,
                response_flags: flags,
                window: win?,
            })
        })
        .collect()
}

/// Pods that reported (reporter=destination) calls to `host`.
fn server_pods(w: &Window<'_>, host: &str) -> Vec<String> {
    w.series
        .pods()
        .filter(|pod| {
            w.series.clusters(pod).any(|key| {
                parse_request_key(key)
                    .is_some_and(|k| k.reporter == "destination" && k.destination_service == host)
            })
        })
        .map(str::to_string)
        .collect()
}

/// The inbound cluster of `pods` for service port `port`.
fn inbound_cluster(w: &Window<'_>, pods: &[String], port: Option<u16>) -> Option<String> {
    let mut inbound = BTreeSet::new();
    for pod in pods {
        for name in w.clusters.clusters(pod) {
            if let Some(c) = crate::envoy::ClusterKey::parse(name).istio()
                && c.direction == Direction::Inbound
            {
                inbound.insert(name.to_string());
            }
        }
    }
    let wanted = port.map(|p| format!("inbound|{p}||"));
    match wanted.filter(|n| inbound.contains(n)) {
        Some(name) => Some(name),
        None if inbound.len() == 1 => inbound.into_iter().next(),
        None => None,
    }
}

fn server_side(w: &Window<'_>, host: &str, port: Option<u16>) -> Option<ServerSide> {
    let pods = server_pods(w, host);
    if pods.is_empty() {
        return None;
    }
    let cluster = inbound_cluster(w, &pods, port);
    let mut counters = BTreeMap::new();
    if let Some(name) = &cluster {
        for spec in w.clusters.tracked().specs() {
            let mut sum = None;
            for pod in &pods {
                if let Some(win) = w.pod_counter(w.clusters, pod, name, &spec.name) {
                    merge(&mut sum, win);
                }
            }
            if let Some(sum) = sum {
                counters.insert(spec.name.clone(), sum);
            }
        }
    }
    let requests = requests_for(w, &pods, "destination", host);
    Some(ServerSide {
        pods,
        cluster,
        counters,
        requests,
    })
}

/// Requests in the window by the best available count (cluster stats, then `/clusters`).
fn traffic(c: &ClusterSnapshot) -> u64 {
    c.increase("upstream_rq_total")
        .or_else(|| c.increase("hosts.rq_total"))
        .unwrap_or(0)
}

/// Fills `requests` and `server` of each outbound service's busiest cluster.
pub fn attach_requests(w: &Window<'_>, clusters: &mut [ClusterSnapshot]) {
    let mut primary: BTreeMap<String, usize> = BTreeMap::new();
    for (i, c) in clusters.iter().enumerate() {
        let ClusterKind::Istio(ic) = &c.key.kind else {
            continue;
        };
        if ic.direction != Direction::Outbound {
            continue;
        }
        let rank = |c: &ClusterSnapshot| {
            let sub = c.key.istio().map(|k| (!k.subset.is_empty(), k.port));
            (std::cmp::Reverse(traffic(c)), sub, c.key.name.clone())
        };
        let slot = primary.entry(ic.host.clone()).or_insert(i);
        if rank(c) < rank(&clusters[*slot]) {
            *slot = i;
        }
    }
    for (host, i) in primary {
        let Some(c) = clusters.get_mut(i) else {
            continue;
        };
        let port = c.key.istio().map(|k| k.port);
        c.requests = requests_for(w, &c.clients, "source", &host);
        c.server = server_side(w, &host, port);
    }
}

/// Per-sidecar totals for every pod in the series store.
pub fn proxies(w: &Window<'_>) -> Vec<ProxyView> {
    w.series
        .pods()
        .map(|pod| {
            let (mut outbound, mut inbound) = (None, None);
            for key in w.series.clusters(pod) {
                let Some(k) = parse_request_key(key) else {
                    continue;
                };
                let Some(win) = w.pod_counter(w.series, pod, key, SERIES_VALUE) else {
                    continue;
                };
                match k.reporter {
                    "source" => merge(&mut outbound, win),
                    "destination" => merge(&mut inbound, win),
                    _ => {}
                }
            }
            for win in [&mut outbound, &mut inbound].into_iter().flatten() {
                win.pods = 1;
            }
            let counters = PROXY_COUNTERS
                .iter()
                .filter_map(|stat| {
                    let win = w.pod_counter(w.series, pod, &proxy_key(stat), SERIES_VALUE)?;
                    Some(((*stat).into(), win))
                })
                .collect();
            ProxyView {
                pod: pod.to_string(),
                outbound_requests: outbound,
                inbound_requests: inbound,
                counters,
            }
        })
        .collect()
}
