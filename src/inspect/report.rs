//! The facts `meshtop inspect` prints, built from parsed captures (pure, no I/O).

use std::collections::BTreeMap;

use serde::Serialize;

use super::compare::{ClusterDelta, Comparison, cluster_delta, compare_sets};
use crate::diagnosis::Finding;
use crate::envoy::capture::{Capture, CaptureKind};
use crate::envoy::clusters::ClustersDump;
use crate::envoy::config_dump::ConfigDump;
use crate::envoy::server_info::ServerInfo;
use crate::envoy::{ClusterKey, ClusterKind, Direction, LineIssue, ParseError, StatsSet};
use crate::istio::{IstioConfig, ResolveOptions, resolve};
use crate::model::envoy_view::{ConfigView, EndpointView, config_view, endpoint_view};
use crate::model::{ConfigSummary, StatsCollection, summarize};

/// One file given to `inspect`, parsed or not.
pub struct LoadedInput {
    pub path: String,
    pub result: Result<(CaptureKind, Capture), ParseError>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<CaptureKind>,
    /// `FILE:LINE: reason` when the file could not be parsed at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Damaged lines that were skipped; the rest of the file was used.
    pub warnings: Vec<LineIssue>,
}

/// The proxy, from `/server_info` and the `server.*` stats.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProxyReport {
    pub envoy_version: Option<String>,
    pub state: Option<String>,
    pub uptime_seconds: Option<u64>,
    pub pod: Option<String>,
    pub namespace: Option<String>,
}

/// Everything known about one upstream cluster.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterReport {
    #[serde(flatten)]
    pub key: ClusterKey,
    /// `inventory-svc.prod:8080`-style label.
    pub label: String,
    /// Integer stats of the (last) `/stats` capture, by Envoy stat suffix. Absent stats are
    /// left out: absent means *not collected*, never zero.
    pub stats: BTreeMap<String, u64>,
    /// `upstream_rq_time` p99 in ms (cumulative since proxy start), when collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_rq_time_p99_ms: Option<f64>,
    /// The p99 was interpolated from Prometheus buckets, not computed by Envoy.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub upstream_rq_time_p99_estimated: bool,
    /// Counter increases and rates between the first and last `/stats` capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<ClusterDelta>,
    /// Endpoint health from `/clusters`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<EndpointView>,
    /// The Istio configuration resolved for this cluster (`--config`), with sources, defaults
    /// and mismatches against `effective_config`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigSummary>,
    /// Effective Envoy settings from `/config_dump`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_config: Option<ConfigView>,
}

/// The whole `inspect` result; serialises as the `--output json` document.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub meshtop_version: &'static str,
    pub inputs: Vec<InputReport>,
    pub stats_collection: StatsCollection,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats_opt_in: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    pub clusters: Vec<ClusterReport>,
    /// Istio config files read (`--config`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config_files: Vec<String>,
    /// Problems in the Istio config files (malformed objects skipped, notes), `file:line: …`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config_issues: Vec<String>,
    /// `--cluster TEXT` when given, and how many clusters it left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_filter: Option<ClusterFilter>,
    /// Root-cause findings the captures support (see `inspect::findings`).
    pub findings: Vec<Finding>,
}

/// The `--cluster` filter applied to the report.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterFilter {
    pub contains: String,
    pub hidden: usize,
}

impl Report {
    /// Keeps only clusters whose name contains `text`, remembering how many were left out.
    pub fn retain_clusters_containing(&mut self, text: &str) {
        let before = self.clusters.len();
        self.clusters.retain(|c| c.key.name.contains(text));
        self.cluster_filter = Some(ClusterFilter {
            contains: text.to_string(),
            hidden: before - self.clusters.len(),
        });
    }

    /// True when some input could not be parsed at all (exit status 2).
    pub fn has_failed_input(&self) -> bool {
        self.inputs.iter().any(|i| i.error.is_some())
    }
}

pub use crate::model::source::STATS_OPT_IN;

/// Sources sorted out of the inputs.
#[derive(Default)]
struct Sources<'a> {
    stats: Vec<(&'a str, &'a StatsSet)>,
    clusters: Vec<&'a ClustersDump>,
    config: Vec<&'a ConfigDump>,
    server: Option<&'a ServerInfo>,
}

/// Builds the report. `interval` is `--interval` in seconds.
pub fn build_report(inputs: &[LoadedInput], interval: Option<f64>) -> Report {
    let mut sources = Sources::default();
    for input in inputs {
        if let Ok((_, capture)) = &input.result {
            match capture {
                Capture::Stats(s) => sources.stats.push((&input.path, s)),
                Capture::Clusters(c) => sources.clusters.push(c),
                Capture::ConfigDump(c) => sources.config.push(c),
                Capture::ServerInfo(s) => sources.server = Some(s),
            }
        }
    }
    let comparison = match (sources.stats.first(), sources.stats.last()) {
        (Some(first), Some(last)) if sources.stats.len() > 1 => {
            Some(compare_sets(*first, *last, interval))
        }
        _ => None,
    };
    let stats_collection = stats_collection(&sources.stats);
    Report {
        meshtop_version: env!("CARGO_PKG_VERSION"),
        inputs: inputs.iter().map(input_report).collect(),
        stats_collection,
        stats_opt_in: (stats_collection == StatsCollection::DefaultInclusionOnly)
            .then_some(STATS_OPT_IN),
        proxy: proxy_report(&sources),
        clusters: cluster_reports(&sources, comparison.as_ref()),
        comparison,
        config_files: Vec::new(),
        config_issues: Vec::new(),
        cluster_filter: None,
        findings: Vec::new(),
    }
}

/// Resolves the Istio objects for every outbound cluster of the report (`--config`). The
/// client namespace is `namespace` (`--namespace`), else the proxy's own (from
/// `/server_info`), else the namespace in the cluster name.
pub fn attach_istio_config(
    report: &mut Report,
    istio: &IstioConfig,
    files: Vec<String>,
    namespace: Option<&str>,
) {
    let proxy_ns = report.proxy.as_ref().and_then(|p| p.namespace.clone());
    let mut unresolved = Vec::new();
    for c in &mut report.clusters {
        let ns = namespace
            .map(str::to_string)
            .or_else(|| proxy_ns.clone())
            .or_else(|| c.key.istio().and_then(|i| i.namespace.clone()));
        let Some(ns) = ns else {
            if c.key.is_outbound() {
                unresolved.push(c.key.name.clone());
            }
            continue;
        };
        c.config = resolve(istio, &c.key, &ns, &ResolveOptions::default())
            .map(|policy| summarize(&policy, c.effective_config.as_ref()));
    }
    report.config_files = files;
    report.config_issues = istio.issues.iter().map(ToString::to_string).collect();
    if !unresolved.is_empty() {
        report.config_issues.push(format!(
            "client namespace unknown for {} (no /server_info among the inputs and not a Kubernetes service): pass --namespace",
            unresolved.join(", ")
        ));
    }
}

fn input_report(input: &LoadedInput) -> InputReport {
    match &input.result {
        Ok((kind, capture)) => InputReport {
            path: input.path.clone(),
            kind: Some(*kind),
            error: None,
            warnings: capture_issues(capture).to_vec(),
        },
        Err(e) => InputReport {
            path: input.path.clone(),
            kind: None,
            error: Some(format!("{}:{e}", input.path)),
            warnings: Vec::new(),
        },
    }
}

fn capture_issues(capture: &Capture) -> &[LineIssue] {
    match capture {
        Capture::Stats(s) => s.issues(),
        Capture::Clusters(c) => &c.issues,
        Capture::ConfigDump(c) => &c.issues,
        Capture::ServerInfo(_) => &[],
    }
}

/// What the last `/stats` capture says about per-cluster stats (`None` without one).
fn stats_collection(stats: &[(&str, &StatsSet)]) -> StatsCollection {
    stats.last().map_or(StatsCollection::None, |(_, last)| {
        crate::model::stats_collection(last)
    })
}

fn proxy_report(sources: &Sources<'_>) -> Option<ProxyReport> {
    let uptime = sources.stats.last().and_then(|(_, s)| s.uptime_seconds());
    let server = sources.server;
    if server.is_none() && uptime.is_none() {
        return None;
    }
    Some(ProxyReport {
        envoy_version: server.and_then(|s| s.envoy_version().map(str::to_string)),
        state: server.and_then(|s| s.state.as_ref().map(ToString::to_string)),
        uptime_seconds: uptime
            .or_else(|| server.and_then(|s| s.uptime_current_epoch.map(|d| d.as_secs()))),
        pod: server.and_then(|s| s.pod_name().map(str::to_string)),
        namespace: server.and_then(|s| s.pod_namespace().map(str::to_string)),
    })
}

fn cluster_reports(sources: &Sources<'_>, cmp: Option<&Comparison>) -> Vec<ClusterReport> {
    let mut reports: Vec<ClusterReport> = cluster_names(sources)
        .iter()
        .map(|n| cluster_report(n, sources, cmp))
        .collect();
    reports.sort_by(|a, b| {
        let (ka, kb) = (sort_key(&a.key), sort_key(&b.key));
        ka.0.cmp(&kb.0)
            .then_with(|| trouble(b).total_cmp(&trouble(a)))
            .then_with(|| ka.1.cmp(&kb.1))
            .then_with(|| a.key.name.cmp(&b.key.name))
    });
    reports
}

/// Counters that mean failed or degraded requests.
pub const TROUBLE_STATS: &[&str] = &[
    "upstream_rq_timeout",
    "upstream_rq_per_try_timeout",
    "upstream_cx_destroy_with_active_rq",
    "upstream_cx_connect_fail",
    "upstream_cx_connect_timeout",
    "upstream_rq_pending_overflow",
    "upstream_rq_retry_overflow",
    "upstream_rq_5xx",
];

/// How much trouble a cluster shows: the sum of its trouble counters' increases when two
/// captures are compared, else their totals. Clusters in trouble are listed first. Without
/// cluster stats (default inclusion), the always-recorded `/clusters` per-host counters rank
/// them instead.
fn trouble(c: &ClusterReport) -> f64 {
    let source = c.change.as_ref().map_or(&c.stats, |d| &d.deltas);
    let from_stats: u64 = TROUBLE_STATS.iter().filter_map(|s| source.get(*s)).sum();
    let from_hosts: u64 = match (&c.endpoints, c.stats.is_empty()) {
        (Some(e), true) => [e.rq_timeout, e.rq_error, e.cx_connect_fail]
            .iter()
            .flatten()
            .sum(),
        _ => 0,
    };
    (from_stats + from_hosts) as f64
}

/// Every cluster any source mentions, each once.
fn cluster_names(sources: &Sources<'_>) -> Vec<String> {
    let stats = sources
        .stats
        .last()
        .into_iter()
        .flat_map(|(_, s)| s.clusters().map(|c| c.name()));
    let clusters = sources
        .clusters
        .iter()
        .flat_map(|d| d.clusters.iter().map(|c| c.name.as_str()));
    let config = sources
        .config
        .iter()
        .flat_map(|d| d.clusters.iter().map(|c| c.name.as_str()));
    let mut seen = std::collections::HashSet::new();
    stats
        .chain(clusters)
        .chain(config)
        .filter(|n| seen.insert(*n))
        .map(str::to_string)
        .collect()
}

/// Outbound services first, then other upstreams, inbound, and Istio's special clusters;
/// within a group by host, port and subset.
fn sort_key(key: &ClusterKey) -> (u8, (&str, u16, &str)) {
    match &key.kind {
        ClusterKind::Istio(c) => {
            let rank = if c.direction == Direction::Outbound {
                0
            } else {
                2
            };
            (rank, (c.host.as_str(), c.port, c.subset.as_str()))
        }
        ClusterKind::Plain => (1, (key.name.as_str(), 0, "")),
        ClusterKind::Special { .. } => (3, (key.name.as_str(), 0, "")),
    }
}

fn cluster_report(name: &str, sources: &Sources<'_>, cmp: Option<&Comparison>) -> ClusterReport {
    let key = ClusterKey::parse(name);
    let after = sources.stats.last().and_then(|(_, s)| s.cluster(name));
    let before = sources.stats.first().and_then(|(_, s)| s.cluster(name));
    let stats = after
        .map(|c| {
            c.stats
                .iter()
                .filter_map(|(k, v)| Some((k.to_string(), v.as_int()?)))
                .collect()
        })
        .unwrap_or_default();
    let p99 = after.and_then(|c| c.histogram("upstream_rq_time"));
    ClusterReport {
        label: key.label(),
        stats,
        upstream_rq_time_p99_ms: p99.and_then(|h| h.cumulative(99.0)),
        upstream_rq_time_p99_estimated: p99
            .is_some_and(|h| h.quantiles.is_empty() && !h.buckets.is_empty()),
        change: match (cmp, after) {
            (Some(cmp), Some(after)) => Some(cluster_delta(before, after, cmp)),
            _ => None,
        },
        endpoints: sources
            .clusters
            .iter()
            .rev()
            .find_map(|d| d.cluster(name))
            .map(endpoint_view),
        config: None,
        effective_config: sources
            .config
            .iter()
            .rev()
            .find_map(|d| config_view(d, name)),
        key,
    }
}
