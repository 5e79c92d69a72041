//! The findings `meshtop inspect` can support from captures: the captures are replayed into a
//! [`Collection`] as polls of one sidecar — `/stats` captures in order, at the times given by
//! `--interval` or by their `server.uptime` — and the diagnosis rules run on the resulting
//! [`MeshSnapshot`], exactly as for a live namespace. One `/stats` capture gives no window:
//! only rules that need no rates can fire (R0 with Istio's default stats inclusion, endpoint
//! health, configuration).

use std::time::Duration;

use crate::diagnosis::{Finding, evaluate};
use crate::envoy::StatsSet;
use crate::envoy::capture::Capture;
use crate::istio::{IstioConfig, ResolveOptions};
use crate::metrics::Timestamp;
use crate::model::{
    Collection, CollectionState, MeshSnapshot, SnapshotInput, SourceState, StatsCollection,
    build_snapshot, stats_collection,
};

use super::report::LoadedInput;

/// The sidecar the captures came from: from `/server_info`, else `capture`.
struct Sidecar {
    pod: String,
    namespace: Option<String>,
}

/// Replays the captures and builds the snapshot; `interval` is `--interval` in seconds,
/// `namespace` is `--namespace`.
pub fn capture_snapshot(
    inputs: &[LoadedInput],
    interval: Option<f64>,
    istio: Option<&IstioConfig>,
    namespace: Option<&str>,
) -> MeshSnapshot {
    let captures: Vec<&Capture> = inputs
        .iter()
        .filter_map(|i| i.result.as_ref().ok().map(|(_, c)| c))
        .collect();
    let sidecar = sidecar(&captures, namespace);
    let stats: Vec<&StatsSet> = captures
        .iter()
        .filter_map(|c| match c {
            Capture::Stats(s) => Some(&**s),
            _ => None,
        })
        .collect();
    let times = scrape_times(&stats, interval);
    // Without known times only the last capture is used: no window, no rates.
    let stats = &stats[stats.len() - times.len()..];
    let mut collection = Collection::default();
    let last = stats.len().saturating_sub(1);
    let mut collected = StatsCollection::None;
    for (i, (set, at)) in stats.iter().zip(&times).enumerate() {
        // `/clusters` belongs to the last scrape: its counters have no earlier value.
        let dump = (i == last).then(|| clusters_dump(&captures)).flatten();
        collected = stats_collection(set);
        collection.record_scrape(&sidecar.pod, *at, set, dump, collected);
    }
    for c in &captures {
        if let Capture::ConfigDump(d) = c {
            collection.record_config_dump(&sidecar.pod, (**d).clone());
        }
    }
    if stats.is_empty()
        && let Some(dump) = clusters_dump(&captures)
    {
        let empty = StatsSet::new(crate::envoy::StatsFormat::Text);
        collection.record_scrape(
            &sidecar.pod,
            Timestamp::from_millis(0),
            &empty,
            Some(dump),
            collected,
        );
    }
    let now = times.last().copied().unwrap_or(Timestamp::from_millis(0));
    let window = Duration::from_millis(
        now.as_millis()
            .saturating_sub(times.first().map_or(0, |t| t.as_millis())),
    );
    let sources = vec![SourceState {
        pod: sidecar.pod.clone(),
        namespace: sidecar.namespace.clone().unwrap_or_default(),
        state: CollectionState::Ok { at: now },
        stats_collection: collected,
    }];
    let input = SnapshotInput {
        store: &collection.clusters,
        now,
        window,
        context: None,
        namespace: sidecar.namespace,
        taken_at_unix_ms: None,
        sources,
        endpoints: collection
            .endpoints
            .iter()
            .map(|(k, v)| (k.clone(), v))
            .collect(),
        config_dumps: collection
            .config_dumps
            .iter()
            .map(|(k, v)| (k.clone(), v))
            .collect(),
        istio,
        resolve: ResolveOptions::default(),
        per_pod: false,
        hosts: Some(&collection.hosts),
        series: Some(&collection.series),
    };
    build_snapshot(&input)
}

/// The findings the captures support.
pub fn capture_findings(
    inputs: &[LoadedInput],
    interval: Option<f64>,
    istio: Option<&IstioConfig>,
    namespace: Option<&str>,
) -> Vec<Finding> {
    evaluate(&capture_snapshot(inputs, interval, istio, namespace))
}

fn sidecar(captures: &[&Capture], namespace: Option<&str>) -> Sidecar {
    let info = captures.iter().find_map(|c| match c {
        Capture::ServerInfo(s) => Some(s),
        _ => None,
    });
    Sidecar {
        pod: info
            .and_then(|s| s.pod_name())
            .filter(|p| !p.is_empty())
            .unwrap_or("capture")
            .to_string(),
        namespace: namespace
            .map(str::to_string)
            .or_else(|| info.and_then(|s| s.pod_namespace()).map(str::to_string))
            .filter(|ns| !ns.is_empty()),
    }
}

fn clusters_dump(captures: &[&Capture]) -> Option<crate::envoy::clusters::ClustersDump> {
    captures.iter().rev().find_map(|c| match c {
        Capture::Clusters(d) => Some((**d).clone()),
        _ => None,
    })
}

/// When each `/stats` capture was taken: evenly over `--interval`, else by `server.uptime`
/// (which must rise from one capture to the next). Otherwise only the last capture gets a
/// time (one scrape, no window): made-up times would make up rates.
fn scrape_times(stats: &[&StatsSet], interval: Option<f64>) -> Vec<Timestamp> {
    let n = stats.len();
    if let Some(total) = interval.filter(|t| t.is_finite() && *t > 0.0) {
        let step = total / (n.max(2) - 1) as f64;
        return (0..n)
            .map(|i| Timestamp::from_millis((i as f64 * step * 1000.0) as u64))
            .collect();
    }
    let uptimes: Option<Vec<u64>> = stats.iter().map(|s| s.uptime_seconds()).collect();
    match uptimes {
        Some(u) if u.windows(2).all(|w| w[0] < w[1]) => {
            let base = u.first().copied().unwrap_or(0);
            u.iter().map(|t| Timestamp::from_secs(t - base)).collect()
        }
        _ if n > 0 => vec![Timestamp::from_millis(0)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::capture::parse_capture;

    fn input(path: &str, text: &str) -> LoadedInput {
        LoadedInput {
            path: path.into(),
            result: parse_capture(text.as_bytes()),
        }
    }

    const INV: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";

    #[test]
    fn two_captures_with_an_interval_give_window_counters() {
        let before = format!(
            "cluster.{INV}.upstream_rq_total: 100\ncluster.{INV}.upstream_rq_timeout: 1\nserver.uptime: 50\n"
        );
        let after = format!(
            "cluster.{INV}.upstream_rq_total: 400\ncluster.{INV}.upstream_rq_timeout: 31\nserver.uptime: 80\n"
        );
        let inputs = [input("a", &before), input("b", &after)];
        let snap = capture_snapshot(&inputs, Some(30.0), None, Some("prod"));
        assert_eq!(snap.window_seconds, 30.0);
        let c = snap.cluster(INV).unwrap();
        assert_eq!(c.increase("upstream_rq_timeout"), Some(30));
        assert_eq!(c.rate("upstream_rq_timeout"), Some(1.0));
        // Same captures, times from server.uptime.
        let snap = capture_snapshot(&inputs, None, None, None);
        assert_eq!(
            snap.cluster(INV).unwrap().increase("upstream_rq_total"),
            Some(300)
        );
    }

    #[test]
    fn one_default_inclusion_capture_gives_r0_and_no_window() {
        let stock = "cluster.xds-grpc.upstream_cx_total: 3\nserver.uptime: 900\n\
            istiocustom.istio_requests_total.reporter.source.source_workload.order-svc.destination_service.inventory-svc.prod.svc.cluster.local.response_code.200.response_flags.-: 500\n";
        let inputs = [input("stats.txt", stock)];
        let snap = capture_snapshot(&inputs, None, None, None);
        assert_eq!(snap.window_seconds, 0.0);
        assert_eq!(
            snap.sources[0].stats_collection,
            StatsCollection::DefaultInclusionOnly
        );
        let findings = capture_findings(&inputs, None, None, None);
        assert!(findings.iter().any(|f| f.rule == "R0"), "{findings:#?}");
    }
}
