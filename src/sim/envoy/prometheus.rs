//! `GET /stats/prometheus` (and `/stats?format=prometheus`): Prometheus text exposition 0.0.4
//! as an Istio 1.22 sidecar prints it.
//!
//! Each stat's tag-extracted name (see [`tag_extract`](super::tag_extract)) becomes the family
//! `envoy_<name with non [a-zA-Z0-9_] → _>`; Istio's `istiocustom` metrics drop the namespace
//! instead of getting the prefix (`istio_requests_total`). Counters come first, then gauges,
//! then histograms; inside each, families are ordered by their dotted tag-extracted name and
//! samples by their full stat name, both compared token by token (Envoy's symbol-table order).
//! Every family has one `# TYPE` line and no `# HELP`. A sample without labels prints `{}`.
//! Histograms print Envoy's default bucket bounds with cumulative counts, `le="+Inf"`, `_sum`
//! and `_count`; bounds and sums use fmt's `{:.32g}`. Text readouts are not exported.

use std::collections::BTreeMap;

use crate::sim::model::SimHistogram;

use super::istio_stats::ISTIO_NAMESPACE;
use super::number::general32;
use super::proxy_stats::Kind;
use super::stat_set::{Scalar, StatSet};
use super::tag_extract::extract_tags;

/// Envoy's default histogram bucket upper bounds (ms for latency stats).
pub const DEFAULT_BUCKETS: [f64; 19] = [
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
];

/// One family: its Prometheus name and its sample blocks keyed by the stat's token list.
type Family = (String, BTreeMap<Vec<String>, String>);

/// The exposition body of a `/stats/prometheus` response.
pub(super) fn render_prometheus(set: &StatSet<'_>) -> String {
    let mut out = String::new();
    for (kind, type_name) in [(Kind::Counter, "counter"), (Kind::Gauge, "gauge")] {
        let mut families = BTreeMap::new();
        for s in set.scalars.iter().filter(|s| s.kind == kind) {
            let (extracted, metric, labels) = family_of(s);
            let line = format!("{metric}{{{labels}}} {}\n", s.value);
            add_sample(&mut families, &extracted, metric, &s.name, line);
        }
        write_families(&mut out, &families, type_name);
    }
    let mut families = BTreeMap::new();
    for (name, h) in &set.histograms {
        let tagged = extract_tags(name);
        let metric = envoy_metric(&tagged.extracted);
        let labels = label_text(tagged.tags.iter().map(|(k, v)| (*k, v.as_str())));
        let block = histogram_block(&metric, &labels, h);
        add_sample(&mut families, &tagged.extracted, metric, name, block);
    }
    write_families(&mut out, &families, "histogram");
    out
}

fn add_sample(
    families: &mut BTreeMap<Vec<String>, Family>,
    extracted: &str,
    metric: String,
    stat_name: &str,
    block: String,
) {
    let family = (families.entry(tokens(extracted))).or_insert_with(|| (metric, BTreeMap::new()));
    family.1.insert(tokens(stat_name), block);
}

fn write_families(out: &mut String, families: &BTreeMap<Vec<String>, Family>, type_name: &str) {
    for (metric, samples) in families.values() {
        out.push_str(&format!("# TYPE {metric} {type_name}\n"));
        samples.values().for_each(|block| out.push_str(block));
    }
}

/// (tag-extracted name, Prometheus metric name, label text) of a counter or gauge.
fn family_of(s: &Scalar) -> (String, String, String) {
    match &s.istio {
        Some(series) => {
            let labels = series.labels.iter().map(|(k, v)| (*k, v.as_str()));
            let metric = sanitize_name(series.metric);
            (series.extracted_name(), metric, label_text(labels))
        }
        None => {
            let tagged = extract_tags(&s.name);
            let labels = label_text(tagged.tags.iter().map(|(k, v)| (*k, v.as_str())));
            let metric = envoy_metric(&tagged.extracted);
            (tagged.extracted, metric, labels)
        }
    }
}

/// The Prometheus name of a tag-extracted stat name: Istio's namespace is stripped, anything
/// else gets Envoy's `envoy_` prefix.
fn envoy_metric(extracted: &str) -> String {
    match extracted
        .strip_prefix(ISTIO_NAMESPACE)
        .and_then(|r| r.strip_prefix('.'))
    {
        Some(custom) => sanitize_name(custom),
        None => format!("envoy_{}", sanitize_name(extracted)),
    }
}

fn histogram_block(metric: &str, labels: &str, h: &SimHistogram) -> String {
    let sep = if labels.is_empty() { "" } else { "," };
    let mut block = String::new();
    for bound in DEFAULT_BUCKETS {
        let count = cumulative_count(h, bound);
        let le = general32(bound);
        block.push_str(&format!(
            "{metric}_bucket{{{labels}{sep}le=\"{le}\"}} {count}\n"
        ));
    }
    let count = h.count;
    block.push_str(&format!(
        "{metric}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}\n"
    ));
    block.push_str(&format!("{metric}_sum{{{labels}}} {}\n", general32(h.sum)));
    block.push_str(&format!("{metric}_count{{{labels}}} {count}\n"));
    block
}

/// Observations `<= bound`: the count of the largest sim bucket not above `bound`.
fn cumulative_count(h: &SimHistogram, bound: f64) -> u64 {
    (h.buckets.iter())
        .filter(|(le, _)| *le <= bound * (1.0 + 1e-12))
        .map(|&(_, count)| count)
        .max()
        .unwrap_or(0)
}

fn label_text<'a>(labels: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let parts: Vec<String> = labels
        .map(|(k, v)| format!("{}=\"{}\"", sanitize_name(k), escape_value(v)))
        .collect();
    parts.join(",")
}

/// Prometheus names allow `[a-zA-Z0-9_]` (and no leading digit); Envoy maps the rest to `_`.
fn sanitize_name(name: &str) -> String {
    let mut out: String = (name.chars())
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn escape_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn tokens(name: &str) -> Vec<String> {
    name.split('.').map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names() {
        assert_eq!(
            envoy_metric("cluster.upstream_rq"),
            "envoy_cluster_upstream_rq"
        );
        assert_eq!(
            envoy_metric("cluster.ssl.versions.TLSv1.3"),
            "envoy_cluster_ssl_versions_TLSv1_3"
        );
        assert_eq!(
            envoy_metric("cluster.tlsMode-istio.total_match_count"),
            "envoy_cluster_tlsMode_istio_total_match_count"
        );
        assert_eq!(envoy_metric("istiocustom.istio_build"), "istio_build");
        assert_eq!(sanitize_name("0abc"), "_0abc");
    }

    #[test]
    fn histogram_uses_default_bounds_and_32_digit_sums() {
        let h = SimHistogram {
            buckets: vec![(1.0, 2), (5.0, 7), (3600000.0, 9)],
            count: 9,
            sum: 1.05,
            ..SimHistogram::default()
        };
        let block = histogram_block("envoy_x", "cluster_name=\"c\"", &h);
        let lines: Vec<&str> = block.lines().collect();
        assert_eq!(lines.len(), 22);
        assert_eq!(lines[0], "envoy_x_bucket{cluster_name=\"c\",le=\"0.5\"} 0");
        assert_eq!(lines[1], "envoy_x_bucket{cluster_name=\"c\",le=\"1\"} 2");
        assert_eq!(lines[3], "envoy_x_bucket{cluster_name=\"c\",le=\"10\"} 7");
        assert_eq!(
            lines[19],
            "envoy_x_bucket{cluster_name=\"c\",le=\"+Inf\"} 9"
        );
        assert_eq!(
            lines[20],
            "envoy_x_sum{cluster_name=\"c\"} 1.0500000000000000444089209850063"
        );
        assert_eq!(lines[21], "envoy_x_count{cluster_name=\"c\"} 9");
        let bare = histogram_block("envoy_y", "", &SimHistogram::default());
        assert!(bare.starts_with("envoy_y_bucket{le=\"0.5\"} 0\n"));
        assert!(bare.ends_with("envoy_y_sum{} 0\nenvoy_y_count{} 0\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        let text = label_text([("a", "x\"y\\z\nw")].into_iter());
        assert_eq!(text, r#"a="x\"y\\z\nw""#);
    }
}
