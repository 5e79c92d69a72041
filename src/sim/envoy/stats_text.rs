//! `GET /stats` in Envoy's text format:
//!
//! ```text
//! cluster_manager.cds.version_text: "2026-11-26T08:30:00Z/1"
//! cluster.outbound|8080||inventory-svc.prod.svc.cluster.local.upstream_rq_total: 177910
//! cluster.outbound|8080||inventory-svc.prod.svc.cluster.local.upstream_rq_time: P0(2,1) P25(38.5,36.1) … P100(1500,2100)
//! cluster.xds-grpc.upstream_rq_time: No recorded values
//! ```
//!
//! Text readouts first, then counters and gauges merged, then histograms, each sorted (the
//! order comes from [`StatSet`]). A histogram line lists the ten supported percentiles as
//! `P<percentile>(<interval>,<cumulative>)`; an interval without data prints `nan`.

use crate::sim::model::SimHistogram;

use super::number::shortest;
use super::stat_set::StatSet;

/// Envoy's supported quantiles: the percentile and how Envoy labels it (`{:g}`).
pub(super) const SUPPORTED_PERCENTILES: [(f64, &str); 10] = [
    (0.0, "0"),
    (25.0, "25"),
    (50.0, "50"),
    (75.0, "75"),
    (90.0, "90"),
    (95.0, "95"),
    (99.0, "99"),
    (99.5, "99.5"),
    (99.9, "99.9"),
    (100.0, "100"),
];

/// The value at `percentile` in a sim quantile list; NaN (Envoy: no data) when absent.
pub(super) fn quantile_at(quantiles: &[(f64, f64)], percentile: f64) -> f64 {
    (quantiles.iter())
        .find(|(p, _)| (p - percentile).abs() < 1e-9)
        .map_or(f64::NAN, |&(_, v)| v)
}

/// The text body of a `/stats` response.
pub(super) fn render_stats_text(set: &StatSet<'_>) -> String {
    let mut out = String::new();
    for (name, value) in &set.readouts {
        out.push_str(&format!("{name}: \"{value}\"\n"));
    }
    for s in &set.scalars {
        out.push_str(&format!("{}: {}\n", s.name, s.value));
    }
    for (name, h) in &set.histograms {
        out.push_str(&format!("{name}: {}\n", quantile_summary(h)));
    }
    out
}

/// `P0(2,1) P25(38.5,36.1) …`, or `No recorded values` for a histogram never recorded to.
pub(super) fn quantile_summary(h: &SimHistogram) -> String {
    if h.cumulative.is_empty() {
        return "No recorded values".to_string();
    }
    let parts: Vec<String> = (SUPPORTED_PERCENTILES.iter())
        .map(|&(p, label)| {
            let interval = shortest(quantile_at(&h.interval, p));
            let cumulative = shortest(quantile_at(&h.cumulative, p));
            format!("P{label}({interval},{cumulative})")
        })
        .collect();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percentiles(values: [f64; 10]) -> Vec<(f64, f64)> {
        SUPPORTED_PERCENTILES
            .iter()
            .map(|&(p, _)| p)
            .zip(values)
            .collect()
    }

    #[test]
    fn summary_prints_like_the_istio_capture() {
        // The catalog cluster's `upstream_rq_time` in the Istio 1.17.8 fixture.
        let h = SimHistogram {
            cumulative: percentiles([
                11.0, 11.25, 11.5, 11.75, 11.9, 11.95, 11.99, 11.995, 11.999, 12.0,
            ]),
            count: 1,
            ..SimHistogram::default()
        };
        assert_eq!(
            quantile_summary(&h),
            "P0(nan,11) P25(nan,11.25) P50(nan,11.5) P75(nan,11.75) P90(nan,11.9) P95(nan,11.95) \
             P99(nan,11.99) P99.5(nan,11.995) P99.9(nan,11.999) P100(nan,12)"
        );
        assert_eq!(
            quantile_summary(&SimHistogram::default()),
            "No recorded values"
        );
    }

    #[test]
    fn interval_values_when_present() {
        let h = SimHistogram {
            cumulative: percentiles([
                1.0, 36.1, 68.4, 198.7, 584.3, 912.6, 1402.0, 1478.9, 1573.2, 2100.0,
            ]),
            interval: percentiles([
                2.0, 38.5, 71.0, 205.0, 612.0, 930.0, 1388.0, 1455.0, 1490.0, 1500.0,
            ]),
            ..SimHistogram::default()
        };
        let summary = quantile_summary(&h);
        assert!(summary.starts_with("P0(2,1) P25(38.5,36.1) "), "{summary}");
        assert!(summary.contains(" P99(1388,1402) "), "{summary}");
        assert!(summary.ends_with(" P100(1500,2100)"), "{summary}");
    }
}
