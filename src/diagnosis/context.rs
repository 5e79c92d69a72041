//! `Context`: what every rule reads — the snapshot, the thresholds, and the shared vocabulary
//! for asking "did this counter move?", "how many responses had flag UT?", "what does the
//! VirtualService say, and where?", and for writing evidence and verify commands with real
//! names. Absent data answers `None` (not collected), never 0.

use crate::model::{ClusterSnapshot, CounterWindow, MeshSnapshot, RequestWindow};

use super::finding::{Evidence, EvidenceKind, Finding, NextStep, Severity};
use super::thresholds::Thresholds;
use crate::envoy::{ClusterKind, Direction};
use crate::istio::Sourced;

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

    /// `+38 in 30s (1.27/s)`.
    pub fn window_text(&self, w: &CounterWindow) -> String {
        let secs = human_seconds(self.snap.window_seconds);
        match w.rate {
            Some(rate) => format!("+{} in {secs} ({}/s)", w.increase, human_rate(rate)),
            None => format!("+{} in {secs}", w.increase),
        }
    }

    /// Evidence for a client-side counter (`None` when not collected).
    pub fn counter_evidence(&self, c: &ClusterSnapshot, stat: &str) -> Option<Evidence> {
        let w = self.counter(c, stat)?;
        Some(Evidence {
            kind: EvidenceKind::Counter,
            name: stat.to_string(),
            value: self.window_text(&w),
            number: Some(w.increase as f64),
            effective: None,
        })
    }

    /// Evidence for the server side's inbound counter.
    pub fn server_counter_evidence(&self, c: &ClusterSnapshot, stat: &str) -> Option<Evidence> {
        let server = c.server.as_ref()?;
        let w = server.counters.get(stat)?;
        let cluster = server.cluster.as_deref().unwrap_or("inbound");
        Some(Evidence {
            kind: EvidenceKind::Counter,
            name: format!("server {cluster} {stat}"),
            value: format!("{} on {} pod(s)", self.window_text(w), server.pods.len()),
            number: Some(w.increase as f64),
            effective: None,
        })
    }

    /// Evidence for the responses with `flag` on one side: `UT (504, reporter=source)`.
    pub fn flag_evidence(
        &self,
        c: &ClusterSnapshot,
        side: Reporter,
        flag: &str,
    ) -> Option<Evidence> {
        let series = self.series(c, side);
        let hits: Vec<&RequestWindow> = series.iter().filter(|r| r.has_flag(flag)).collect();
        let count: u64 = hits.iter().map(|r| r.window.increase).sum();
        if series.is_empty() {
            return None;
        }
        let mut codes: Vec<&str> = hits.iter().map(|r| r.response_code.as_str()).collect();
        codes.dedup();
        let reporter = match side {
            Reporter::Client => "source",
            Reporter::Server => "destination",
        };
        let codes = match codes.is_empty() {
            true => String::new(),
            false => format!("{}, ", codes.join("/")),
        };
        Some(Evidence {
            kind: EvidenceKind::Flag,
            name: format!("{flag} ({codes}reporter={reporter})"),
            value: format!(
                "{count} responses in {}",
                human_seconds(self.snap.window_seconds)
            ),
            number: Some(count as f64),
            effective: None,
        })
    }

    /// Evidence for the worst client p99 of `upstream_rq_time`.
    pub fn p99_evidence(&self, c: &ClusterSnapshot) -> Option<Evidence> {
        let p99 = c.upstream_rq_time_p99_ms?;
        Some(Evidence {
            kind: EvidenceKind::Latency,
            name: "upstream_rq_time p99".into(),
            value: human_ms(p99),
            number: Some(p99),
            effective: None,
        })
    }

    /// Evidence for a gauge's current maximum over client pods.
    pub fn gauge_evidence(&self, c: &ClusterSnapshot, stat: &str) -> Option<Evidence> {
        let g = c.gauges.get(stat)?;
        Some(Evidence {
            kind: EvidenceKind::Gauge,
            name: stat.to_string(),
            value: match g.pods {
                1 => format!("{}", g.max),
                n => format!("max {} over {n} pods", g.max),
            },
            number: Some(g.max),
            effective: None,
        })
    }

    /// Evidence for a field of the cluster's `config` summary (`route_timeout_ms`, …), quoted
    /// with its source object and, when Envoy runs with something else, the effective value.
    /// `None` when no Istio config was resolved.
    pub fn config_evidence(&self, c: &ClusterSnapshot, field: &str) -> Option<Evidence> {
        let cfg = c.config.as_ref()?;
        let (number, value) = config_value(cfg, field)?;
        let source = cfg
            .sources
            .get(field)
            .cloned()
            .unwrap_or_else(|| "Istio default".into());
        let effective = cfg
            .mismatches
            .iter()
            .find(|m| m.field == field)
            .map(|m| format!("Envoy runs with {}", show_config(field, m.effective)));
        Some(Evidence {
            kind: EvidenceKind::Config,
            name: source,
            value,
            number,
            effective,
        })
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

    /// `istioctl proxy-config <what> <pod>.<ns> <args>` for a client pod of the cluster.
    pub fn istioctl_pc(&self, c: &ClusterSnapshot, what: &str, args: &str) -> String {
        let pod = self.client_pod(c);
        let ns = self.namespace_of(&pod);
        let args = args
            .replace("{cluster}", &c.key.name)
            .replace("{fqdn}", &fqdn(c));
        format!("istioctl proxy-config {what} {pod}.{ns} {args}")
            .trim_end()
            .to_string()
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
            (stats.iter()).any(|s| p.counters.get(*s).is_some_and(|w| w.increase >= min))
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

    /// [`istioctl_pc`](Self::istioctl_pc) run against a chosen pod (one that shows the
    /// problem) instead of the cluster's first client.
    pub fn istioctl_pc_on(&self, pod: &str, c: &ClusterSnapshot, what: &str, args: &str) -> String {
        let ns = self.namespace_of(pod);
        let args = args
            .replace("{cluster}", &c.key.name)
            .replace("{fqdn}", &fqdn(c));
        format!("istioctl proxy-config {what} {pod}.{ns} {args}")
            .trim_end()
            .to_string()
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

    /// `kubectl get destinationrule -n <ns> <name> -o yaml` for the DestinationRule in effect,
    /// else every DestinationRule of the service's namespace.
    pub fn destination_rule_step(&self, c: &ClusterSnapshot) -> NextStep {
        let dr = (c.config.as_ref()).and_then(|cfg| cfg.destination_rule.as_deref());
        match dr.and_then(|d| d.split_once('/')) {
            Some((ns, name)) => NextStep::run(
                format!("Read the DestinationRule {ns}/{name}"),
                format!("kubectl get destinationrule -n {ns} {name} -o yaml"),
            ),
            None => {
                let (_, ns) = self.service_of(c);
                NextStep::run(
                    format!("No DestinationRule applies here; list the ones in {ns}"),
                    format!("kubectl get destinationrule -n {ns} -o yaml"),
                )
            }
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

    /// [`config_evidence`](Self::config_evidence), but a value nothing configured is named by
    /// its Istio field (`connectionPool.http.maxRequestsPerConnection (Istio default)`) rather
    /// than by its source alone.
    pub fn setting_evidence(
        &self,
        c: &ClusterSnapshot,
        field: &str,
        istio_field: &str,
    ) -> Option<Evidence> {
        let mut ev = self.config_evidence(c, field)?;
        if ev.name.starts_with("Istio default") {
            ev.name = format!("{istio_field} ({})", ev.name);
        }
        Some(ev)
    }

    /// `istioctl proxy-config cluster <pod>.<ns> --fqdn <host> [--subset s] -o json` on `pod`:
    /// the cluster as Envoy runs it (circuit breakers, transport socket, timeouts).
    pub fn cluster_step(&self, pod: &str, c: &ClusterSnapshot, text: &str) -> NextStep {
        let subset = c.key.istio().map_or("", |k| k.subset.as_str());
        let args = match subset.is_empty() {
            true => "--fqdn {fqdn} -o json".to_string(),
            false => format!("--fqdn {{fqdn}} --subset {subset} -o json"),
        };
        NextStep::run(text, self.istioctl_pc_on(pod, c, "cluster", &args))
    }

    /// Reads a sidecar's `/stats` for one cluster, keeping the stats matching `stats` (an
    /// extended regex): `kubectl exec … -- pilot-agent request GET stats | grep -F … | grep -E …`.
    pub fn proxy_stats_step(&self, pod: &str, text: &str, cluster: &str, stats: &str) -> NextStep {
        let ns = self.namespace_of(pod);
        NextStep::run(
            text,
            format!(
                "kubectl exec -n {ns} {pod} -c istio-proxy -- pilot-agent request GET stats \
                 | grep -F 'cluster.{cluster}.' | grep -E '{stats}'"
            ),
        )
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

    /// Evidence for a resolved policy setting [`config_evidence`](Self::config_evidence) has no
    /// field for (TLS mode, max connection duration, h2 upgrade), named by its source object.
    pub fn sourced_evidence<T>(&self, setting: &Sourced<T>, value: impl Into<String>) -> Evidence {
        Evidence {
            kind: EvidenceKind::Config,
            name: setting.source.to_string(),
            value: value.into(),
            number: None,
            effective: None,
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

    /// Evidence for [`membership`](Self::membership): `0 of 3 healthy`, named after where it
    /// was read.
    pub fn membership_evidence(&self, c: &ClusterSnapshot) -> Option<Evidence> {
        let (total, healthy) = self.membership(c)?;
        let healthy_gauge = c.gauges.get("membership_healthy");
        let from_gauges = c.gauges.contains_key("membership_total") && healthy_gauge.is_some();
        let name = match from_gauges {
            true => "membership_healthy / membership_total",
            false => "/clusters endpoints (healthy / total)",
        };
        // Client pods can disagree (one has ejected a host, another not yet): show the range.
        let value = match healthy_gauge.filter(|g| from_gauges && g.min < g.max) {
            Some(g) => format!(
                "{}–{healthy} of {total} healthy over {} pods",
                g.min, g.pods
            ),
            None => format!("{healthy} of {total} healthy"),
        };
        Some(Evidence {
            kind: EvidenceKind::Endpoint,
            name: name.into(),
            value,
            number: Some(healthy as f64),
            effective: None,
        })
    }

    /// [`route_step`](Self::route_step) on a chosen pod (one that shows the problem).
    pub fn route_step_on(&self, pod: &str, c: &ClusterSnapshot) -> NextStep {
        let port = c
            .key
            .istio()
            .map_or(String::from("<port>"), |k| k.port.to_string());
        NextStep::run(
            "Check the route Envoy runs with (timeout, retry_policy)",
            self.istioctl_pc_on(pod, c, "route", &format!("--name {port} -o json")),
        )
    }

    /// The standard "look at the route" step.
    pub fn route_step(&self, c: &ClusterSnapshot) -> NextStep {
        let port = c
            .key
            .istio()
            .map_or(String::from("<port>"), |k| k.port.to_string());
        NextStep::run(
            "Check the route Envoy runs with (timeout, retry_policy)",
            self.istioctl_pc(c, "route", &format!("--name {port} -o json")),
        )
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

/// `2s`, `1.5s`, `250ms`, `1h`: the way Istio writes durations.
pub fn human_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "—".into();
    }
    if ms >= 1000.0 {
        let s = ms / 1000.0;
        if s >= 3600.0 && (s % 3600.0) == 0.0 {
            return format!("{}h", s / 3600.0);
        }
        if s >= 60.0 && (s % 60.0) == 0.0 {
            return format!("{}m", s / 60.0);
        }
        return format!("{}s", trim_float(s));
    }
    format!("{}ms", trim_float(ms))
}

fn human_seconds(s: f64) -> String {
    human_ms(s * 1000.0)
}

fn human_rate(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.2}")
    }
}

fn trim_float(v: f64) -> String {
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The numeric value and its display for a `config` field.
fn config_value(cfg: &crate::model::ConfigSummary, field: &str) -> Option<(Option<f64>, String)> {
    let v = match field {
        "connect_timeout_ms" => Some(cfg.connect_timeout_ms),
        "idle_timeout_ms" => Some(cfg.idle_timeout_ms),
        "route_timeout_ms" => cfg.route_timeout_ms,
        "per_try_timeout_ms" => cfg.per_try_timeout_ms,
        "retry_attempts" => Some(u64::from(cfg.retry_attempts)),
        "max_connections" => Some(cfg.max_connections),
        "max_pending_requests" => Some(cfg.max_pending_requests),
        "max_requests" => Some(cfg.max_requests),
        "max_retries" => Some(cfg.max_retries),
        "max_requests_per_connection" => Some(cfg.max_requests_per_connection),
        "retry_on" => return Some((None, cfg.retry_on.clone())),
        _ => return None,
    };
    Some((v.map(|n| n as f64), show_config(field, v)))
}

fn show_config(field: &str, v: Option<u64>) -> String {
    match (field, v) {
        ("route_timeout_ms", None) => "none (no route timeout)".into(),
        ("per_try_timeout_ms", None) => "none (each try may use the route timeout)".into(),
        (_, None) => "none".into(),
        ("idle_timeout_ms", Some(0)) => "0 (disabled)".into(),
        ("max_requests_per_connection", Some(0)) => "0 (unlimited)".into(),
        (f, Some(n)) if f.ends_with("_ms") => human_ms(n as f64),
        (_, Some(n)) if n == crate::model::config_summary::UNLIMITED => {
            format!("{n} (unlimited)")
        }
        (_, Some(n)) => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_names_and_durations() {
        assert_eq!(workload_of("order-svc-drs84w455-nxhgh"), "order-svc");
        assert_eq!(workload_of("db-0"), "db-0");
        assert_eq!(
            workloads(&["b-1-x".into(), "a-2-y".into(), "b-3-z".into()]),
            "a/b"
        );
        assert_eq!(human_ms(1000.0), "1s");
        assert_eq!(human_ms(1500.0), "1.5s");
        assert_eq!(human_ms(3_600_000.0), "1h");
        assert_eq!(human_ms(987.5), "987.5ms");
        assert_eq!(
            show_config("max_connections", Some(4_294_967_295)),
            "4294967295 (unlimited)"
        );
        assert_eq!(show_config("route_timeout_ms", Some(1000)), "1s");
    }
}
