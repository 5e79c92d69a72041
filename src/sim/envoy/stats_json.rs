//! `GET /stats?format=json`: one compact line without a trailing newline,
//! `{"stats":[{"name":…,"value":…},…,{"histograms":{"supported_quantiles":[…],
//! "computed_quantiles":[{"name":…,"values":[{"interval":…,"cumulative":…},…]}]}}]}`.
//!
//! Text readouts come first with string values, then counters and gauges with exact integer
//! values (also above 2^53), then — only when there is at least one histogram — the
//! histograms object. A quantile without data (Envoy's `nan`) is `null`; a histogram with no
//! recorded values has `null` everywhere.

use crate::sim::model::SimHistogram;

use super::json::Json;
use super::number::shortest;
use super::stat_set::StatSet;
use super::stats_text::{SUPPORTED_PERCENTILES, quantile_at};

/// The JSON body of a `/stats?format=json` response.
pub(super) fn render_stats_json(set: &StatSet<'_>) -> String {
    let entry = |name: &str, value: Json| {
        Json::object()
            .with("name", Json::str(name))
            .with("value", value)
    };
    let mut stats: Vec<Json> = Vec::new();
    stats.extend((set.readouts.iter()).map(|(n, v)| entry(n, Json::str(v.as_str()))));
    stats.extend((set.scalars.iter()).map(|s| entry(&s.name, Json::uint(s.value))));
    if !set.histograms.is_empty() {
        let computed = (set.histograms.iter()).map(|(name, h)| computed_quantiles(name, h));
        let supported = SUPPORTED_PERCENTILES.map(|(_, label)| Json::Number(label.to_string()));
        let histograms = Json::object()
            .with("supported_quantiles", Json::array(supported))
            .with("computed_quantiles", Json::array(computed));
        stats.push(Json::object().with("histograms", histograms));
    }
    Json::object().with("stats", Json::Array(stats)).compact()
}

fn computed_quantiles(name: &str, h: &SimHistogram) -> Json {
    let values = SUPPORTED_PERCENTILES.map(|(p, _)| {
        Json::object()
            .with("interval", number(quantile_at(&h.interval, p)))
            .with("cumulative", number(quantile_at(&h.cumulative, p)))
    });
    Json::object()
        .with("name", Json::str(name))
        .with("values", Json::array(values))
}

fn number(value: f64) -> Json {
    if value.is_finite() {
        Json::Number(shortest(value))
    } else {
        Json::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::envoy::proxy_stats::Kind;
    use crate::sim::envoy::stat_set::Scalar;

    #[test]
    fn layout_matches_envoy() {
        let h = SimHistogram {
            cumulative: vec![(0.0, 3.0), (99.0, 40.3)],
            ..SimHistogram::default()
        };
        let set = StatSet {
            readouts: vec![("cluster_manager.cds.version_text".into(), "v/1".into())],
            scalars: vec![Scalar {
                name: "cluster.a.remaining_cx_pools".into(),
                kind: Kind::Gauge,
                value: u64::MAX - 1,
                used: true,
                istio: None,
            }],
            histograms: vec![("cluster.a.upstream_rq_time".into(), &h)],
        };
        let body = render_stats_json(&set);
        assert!(body.starts_with(
            r#"{"stats":[{"name":"cluster_manager.cds.version_text","value":"v/1"},{"name":"cluster.a.remaining_cx_pools","value":18446744073709551614},{"histograms":{"supported_quantiles":[0,25,50,75,90,95,99,99.5,99.9,100],"computed_quantiles":[{"name":"cluster.a.upstream_rq_time","values":[{"interval":null,"cumulative":3},{"interval":null,"cumulative":null},"#
        ), "{body}");
        assert!(body.contains(r#"{"interval":null,"cumulative":40.3}"#));
        assert!(body.ends_with("]}}]}"), "{body}");
    }

    #[test]
    fn no_histograms_object_without_histograms() {
        let set = StatSet {
            readouts: Vec::new(),
            scalars: Vec::new(),
            histograms: Vec::new(),
        };
        assert_eq!(render_stats_json(&set), r#"{"stats":[]}"#);
    }
}
