//! `istio_requests_total` as it appears in text `/stats` (and `/stats?format=json`), where
//! Istio's stats filter encodes the labels into the stat name:
//!
//! - Istio ≥ 1.8: `istiocustom.istio_requests_total.reporter.source.source_workload.order-svc.…`
//!   — tag names and values joined with dots; an empty value leaves only the tag name
//!   (`….source_version.source_cluster.Kubernetes…`), and values contain dots themselves
//!   (`destination_service.inventory-svc.prod.svc.cluster.local`).
//! - Istio 1.7 and older: `reporter=.=source;.;source_workload=.=order-svc;.;…;.;_istio_requests_total`.
//!
//! The dotted form is split on Istio's known tag names: a value runs until the next token that
//! is a tag name not yet seen (each tag appears once). Text `/stats` carries these series even
//! with Istio's default stats inclusion, so they are meshtop's response-flag evidence when
//! per-cluster stats are not collected (HINTS.md R0).

use super::prometheus::IstioRequestSeries;
use super::stats_set::StatsSet;

const METRIC: &str = "istio_requests_total";
const DOTTED_PREFIX: &str = "istiocustom.istio_requests_total.";

/// Istio's standard metric tags, in the order Istio writes them.
const TAGS: &[&str] = &[
    "reporter",
    "source_workload",
    "source_canonical_service",
    "source_canonical_revision",
    "source_workload_namespace",
    "source_principal",
    "source_app",
    "source_version",
    "source_cluster",
    "destination_workload",
    "destination_workload_namespace",
    "destination_principal",
    "destination_app",
    "destination_version",
    "destination_service",
    "destination_canonical_service",
    "destination_canonical_revision",
    "destination_service_name",
    "destination_service_namespace",
    "destination_cluster",
    "request_protocol",
    "response_code",
    "grpc_response_status",
    "response_flags",
    "connection_security_policy",
];

/// Every `istio_requests_total` series of a parsed text or JSON `/stats`, in name order.
/// `line` is 0: the stat table does not keep input positions.
pub fn istio_requests_from_stats(set: &StatsSet) -> Vec<IstioRequestSeries> {
    let mut out: Vec<IstioRequestSeries> = set
        .other()
        .iter()
        .filter(|(name, _)| name.contains(METRIC))
        .filter_map(|(name, value)| {
            let count = value.as_int()? as f64;
            parse_request_stat_name(name, count)
        })
        .collect();
    out.sort_by(|a, b| series_key(a).cmp(&series_key(b)));
    out
}

fn series_key(s: &IstioRequestSeries) -> (&str, &str, &str, &str, &str, &str) {
    (
        &s.reporter,
        &s.source_workload,
        &s.destination_service,
        &s.destination_workload,
        &s.response_code,
        &s.response_flags,
    )
}

/// One series from a stat name in either encoding; `None` when the name is not an
/// `istio_requests_total` series.
pub fn parse_request_stat_name(name: &str, value: f64) -> Option<IstioRequestSeries> {
    if let Some(rest) = name.strip_prefix(DOTTED_PREFIX) {
        return Some(IstioRequestSeries::from_labels(
            dotted_labels(rest),
            value,
            0,
        ));
    }
    let head = name.strip_suffix(METRIC)?;
    let tags = head.strip_suffix('_').unwrap_or(head).strip_suffix(";.;")?;
    let labels = tags.split(";.;").filter_map(|pair| pair.split_once("=.="));
    Some(IstioRequestSeries::from_labels(labels, value, 0))
}

/// `(tag, value)` pairs of the dotted encoding.
fn dotted_labels(rest: &str) -> Vec<(&str, &str)> {
    let mut seen = [false; TAGS.len()];
    let mut marks: Vec<(usize, usize, &str)> = Vec::new(); // (tag start, tag end, tag)
    let mut start = 0;
    for token in rest.split('.') {
        let end = start + token.len();
        if let Some(i) = TAGS.iter().position(|t| *t == token)
            && !seen[i]
        {
            seen[i] = true;
            marks.push((start, end, TAGS[i]));
        }
        start = end + 1;
    }
    let mut labels = Vec::with_capacity(marks.len());
    for (i, &(_, tag_end, tag)) in marks.iter().enumerate() {
        let value_end = marks
            .get(i + 1)
            .map_or(rest.len(), |next| next.0.saturating_sub(1));
        let value = rest.get(tag_end + 1..value_end).unwrap_or("");
        labels.push((tag, value));
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::stats_text::parse_stats_text;

    const ISTIO_117: &str = "istiocustom.istio_requests_total.reporter.source.source_workload.webapp.source_canonical_service.webapp.source_canonical_revision.latest.source_workload_namespace.istioinaction.source_principal.spiffe://cluster.local/ns/istioinaction/sa/webapp.source_app.webapp.source_version.source_cluster.Kubernetes.destination_workload.catalog.destination_workload_namespace.istioinaction.destination_principal.spiffe://cluster.local/ns/istioinaction/sa/catalog.destination_app.catalog.destination_version.v1.destination_service.catalog.istioinaction.svc.cluster.local.destination_canonical_service.catalog.destination_canonical_revision.v1.destination_service_name.catalog.destination_service_namespace.istioinaction.destination_cluster.Kubernetes.request_protocol.http.response_code.200.grpc_response_status.response_flags.-.connection_security_policy.unknown";

    #[test]
    fn dotted_names_split_on_tags_with_dotted_and_empty_values() {
        let s = parse_request_stat_name(ISTIO_117, 1.0).unwrap();
        assert_eq!(s.reporter, "source");
        assert_eq!(s.source_workload, "webapp");
        assert_eq!(s.source_workload_namespace, "istioinaction");
        assert_eq!(
            s.destination_service,
            "catalog.istioinaction.svc.cluster.local"
        );
        assert_eq!(s.destination_workload, "catalog");
        assert_eq!(s.destination_service_name, "catalog");
        assert_eq!(s.request_protocol, "http");
        assert_eq!(s.response_code, "200");
        assert_eq!(s.grpc_response_status, "");
        assert_eq!(s.response_flags, "-");
        assert_eq!(s.value, 1.0);
    }

    #[test]
    fn several_flags_and_a_timeout_code() {
        let name = "istiocustom.istio_requests_total.reporter.source.source_workload.order-svc.destination_service.inventory-svc.prod.svc.cluster.local.response_code.504.response_flags.UT,URX";
        let s = parse_request_stat_name(name, 7.0).unwrap();
        assert_eq!(
            s.destination_service,
            "inventory-svc.prod.svc.cluster.local"
        );
        assert_eq!(
            (s.response_code.as_str(), s.response_flags.as_str()),
            ("504", "UT,URX")
        );
    }

    #[test]
    fn istio_17_tag_encoded_names() {
        let name = "reporter=.=destination;.;source_workload=.=productpage-v1;.;destination_service=.=reviews.default.svc.cluster.local;.;response_code=.=0;.;response_flags=.=DC;.;_istio_requests_total";
        let s = parse_request_stat_name(name, 3.0).unwrap();
        assert_eq!(s.reporter, "destination");
        assert_eq!(s.source_workload, "productpage-v1");
        assert_eq!(s.destination_service, "reviews.default.svc.cluster.local");
        assert_eq!(
            (s.response_code.as_str(), s.response_flags.as_str()),
            ("0", "DC")
        );
    }

    #[test]
    fn other_names_are_not_series() {
        assert_eq!(
            parse_request_stat_name("istiocustom.istio_build.component.proxy", 1.0),
            None
        );
        assert_eq!(
            parse_request_stat_name("cluster.x.upstream_rq_total", 1.0),
            None
        );
        assert_eq!(parse_request_stat_name("istio_requests_total", 1.0), None);
    }

    #[test]
    fn series_come_out_of_a_parsed_stats_text() {
        let text = format!(
            "{ISTIO_117}: 12\nistiocustom.istio_build.component.proxy.tag.1.17.8: 1\nserver.uptime: 5\n"
        );
        let set = parse_stats_text(text.as_bytes()).unwrap();
        let series = istio_requests_from_stats(&set);
        assert_eq!(series.len(), 1, "{series:?}");
        assert_eq!(series[0].value, 12.0);
        assert_eq!(series[0].destination_workload, "catalog");
    }
}
