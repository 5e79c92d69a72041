//! The `/stats?filter=` regex: only the stats meshtop reads, so a poll moves a few percent of
//! the unfiltered `/stats` (DESIGN.md §6). Envoy matches it (RE2, partial match) against full stat
//! names; cluster stats are `cluster.<name>.<suffix>` and, from Istio 1.23,
//! `cluster.<name>;.<suffix>`, so the suffix is anchored at the end and the cluster part may
//! contain dots, pipes and the `;` delimiter.

use crate::metrics::TrackedStats;

/// Cluster stat suffixes read besides the tracked set: every `membership_*` gauge and every
/// circuit breaker "open" gauge (`circuit_breakers.<priority>.<name>_open`), for the endpoint and overflow
/// rules.
const EXTRA_SUFFIXES: &[&str] = &[
    r"membership_[a-z_]+",
    r"circuit_breakers\.[a-z_]+\.[a-z_]+_open",
];

/// Whole-name patterns: proxy uptime (restart detection), the control-plane connection cluster
/// (always present in stock Istio), config rejections (R22) and Istio's request metric (its
/// `response_flags` tag is the flag evidence; `istiocustom.istio_requests_total.…` in Istio
/// ≥ 1.8, `…;.;_istio_requests_total` before).
const OTHER_STATS: &[&str] = &[
    r"^server\.uptime$",
    r"^cluster\.xds-grpc;?\.",
    r"^cluster_manager\.cds\.update_rejected$",
    r"^listener_manager\.lds\.update_rejected$",
    r"istio_requests_total",
];

/// The regex for `tracked`: the source names of its specs as cluster suffixes (those not
/// already covered by [`EXTRA_SUFFIXES`]), plus [`EXTRA_SUFFIXES`] and [`OTHER_STATS`].
pub fn stats_filter(tracked: &TrackedStats) -> String {
    let extras = regex::Regex::new(&format!("^(?:{})$", EXTRA_SUFFIXES.join("|"))).ok();
    let covered = |name: &str| extras.as_ref().is_some_and(|re| re.is_match(name));
    let mut suffixes: Vec<String> = tracked
        .specs()
        .iter()
        .filter(|s| !covered(&s.source))
        .map(|s| regex::escape(&s.source))
        .collect();
    suffixes.sort();
    suffixes.dedup();
    suffixes.extend(EXTRA_SUFFIXES.iter().map(|s| s.to_string()));
    let cluster = format!(r"^cluster\..+\.(?:{})$", suffixes.join("|"));
    std::iter::once(cluster.as_str())
        .chain(OTHER_STATS.iter().copied())
        .collect::<Vec<_>>()
        .join("|")
}

/// [`stats_filter`] for meshtop's default tracked stats.
pub fn default_stats_filter() -> String {
    stats_filter(&TrackedStats::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INV: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";

    fn filter() -> regex::Regex {
        regex::Regex::new(&default_stats_filter()).unwrap()
    }

    #[test]
    fn every_tracked_stat_matches_with_and_without_the_istio_delimiter() {
        let re = filter();
        for spec in TrackedStats::default().specs() {
            for name in [
                format!("cluster.{INV}.{}", spec.source),
                format!("cluster.{INV};.{}", spec.source),
                format!("cluster.service1.{}", spec.source),
            ] {
                assert!(re.is_match(&name), "{name}");
            }
        }
    }

    #[test]
    fn extras_match_and_unrelated_stats_do_not() {
        let re = filter();
        for name in [
            "server.uptime",
            "cluster.xds-grpc.upstream_cx_total",
            "cluster.xds-grpc;.upstream_rq_pending_overflow",
            "cluster_manager.cds.update_rejected",
            "listener_manager.lds.update_rejected",
            &format!("cluster.{INV};.membership_degraded"),
            &format!("cluster.{INV}.circuit_breakers.high.rq_pending_open"),
            &format!("cluster.{INV};.circuit_breakers.default.cx_pool_open"),
            "cluster.inbound|9080||.upstream_rq_timeout",
        ] {
            assert!(re.is_match(name), "{name}");
        }
        for name in [
            // `remaining_*` gauges were half of a filtered body (docs/PERFORMANCE.md); the
            // limits come from `/clusters` and the config instead.
            &format!("cluster.{INV};.circuit_breakers.default.remaining_retries"),
            "server.uptime_seconds",
            "server.memory_allocated",
            "http.outbound_0.0.0.0_8080;.downstream_rq_total",
            &format!("cluster.{INV}.upstream_cx_rx_bytes_total"),
            &format!("cluster.{INV}.upstream_rq_timeout_extra"),
            "upstream_rq_timeout",
            "listener_manager.lds.update_success",
            "cluster.xds-grpcx.upstream_cx_rx_bytes_total",
        ] {
            assert!(!re.is_match(name), "{name}");
        }
    }

    #[test]
    fn istio_request_series_match_in_both_encodings_but_other_istio_metrics_do_not() {
        let re = filter();
        assert!(re.is_match(
            "istiocustom.istio_requests_total.reporter.source.response_code.504.response_flags.UT"
        ));
        assert!(
            re.is_match("reporter=.=destination;.;response_flags=.=DC;.;_istio_requests_total")
        );
        assert!(!re.is_match("istiocustom.istio_request_bytes.reporter.source"));
        assert!(!re.is_match("istiocustom.istio_build.component.proxy"));
    }

    #[test]
    fn the_filter_is_stable_and_escapes_dots() {
        let text = default_stats_filter();
        assert!(
            text.starts_with(
                r"^cluster\..+\.(?:lb_healthy_panic|outlier_detection\.ejections_active|"
            ),
            "{text}"
        );
        assert!(
            !text.contains("membership_healthy"),
            "covered by membership_*: {text}"
        );
        assert!(text.contains(r"|membership_[a-z_]+|"), "{text}");
        assert!(
            text.ends_with(r"|^listener_manager\.lds\.update_rejected$|istio_requests_total"),
            "{text}"
        );
    }
}
