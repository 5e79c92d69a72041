//! Istio's standard request metric `istio_requests_total` as typed series.
//!
//! Stock Istio sidecars do not emit per-cluster Envoy stats, but they always emit this metric,
//! and its `response_flags` label (`UT` upstream timeout, `UF` connect failure, `UO` overflow,
//! `NR` no route, …) is the best evidence meshtop has for them. Only the labels meshtop uses
//! are kept; a label the capture lacks is an empty string.

use serde::Serialize;

use super::exposition::{self, Label, LineKind};

/// One `istio_requests_total{…} value` sample.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IstioRequestSeries {
    /// `source` (client sidecar) or `destination` (server sidecar).
    pub reporter: String,
    pub source_workload: String,
    pub source_workload_namespace: String,
    /// Host of the destination service, `reviews.prod.svc.cluster.local`.
    pub destination_service: String,
    pub destination_service_name: String,
    pub destination_service_namespace: String,
    pub destination_workload: String,
    pub destination_workload_namespace: String,
    /// `http`, `grpc` or `tcp`.
    pub request_protocol: String,
    /// HTTP status as text (`"504"`); `"0"` when no response was received.
    pub response_code: String,
    /// Envoy's response flags, `-` when none, comma-separated when several (`UT,URX`).
    pub response_flags: String,
    pub grpc_response_status: String,
    /// Cumulative request count since the proxy started.
    pub value: f64,
    /// 1-based line of the sample in the capture.
    pub line: usize,
}

impl IstioRequestSeries {
    fn from_sample(labels: &[Label<'_>], value: f64, line: usize) -> Self {
        Self::from_labels(
            labels.iter().map(|l| (l.name, l.value.as_ref())),
            value,
            line,
        )
    }

    /// A series from `(label, value)` pairs; labels meshtop does not use are ignored.
    pub(crate) fn from_labels<'a>(
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
        value: f64,
        line: usize,
    ) -> Self {
        let mut s = IstioRequestSeries {
            value,
            line,
            ..Self::default()
        };
        for (name, value) in labels {
            let field = match name {
                "reporter" => &mut s.reporter,
                "source_workload" => &mut s.source_workload,
                "source_workload_namespace" => &mut s.source_workload_namespace,
                "destination_service" => &mut s.destination_service,
                "destination_service_name" => &mut s.destination_service_name,
                "destination_service_namespace" => &mut s.destination_service_namespace,
                "destination_workload" => &mut s.destination_workload,
                "destination_workload_namespace" => &mut s.destination_workload_namespace,
                "request_protocol" => &mut s.request_protocol,
                "response_code" => &mut s.response_code,
                "response_flags" => &mut s.response_flags,
                "grpc_response_status" => &mut s.grpc_response_status,
                _ => continue,
            };
            field.push_str(value);
        }
        s
    }
}

/// Every `istio_requests_total` sample of a `/stats/prometheus` capture, in input order.
/// Damaged lines are skipped here; [`parse_prometheus`](super::parse_prometheus) reports them.
pub fn istio_requests(input: &str) -> Vec<IstioRequestSeries> {
    const NAME: &str = "istio_requests_total";
    let mut labels = Vec::new();
    let mut out = Vec::new();
    for (i, line) in input.lines().enumerate() {
        if !line.trim_start().starts_with(NAME) || exposition::classify(line) != LineKind::Sample {
            continue;
        }
        if let Ok(head) = exposition::scan_sample(line, &mut labels)
            && head.name == NAME
        {
            out.push(IstioRequestSeries::from_sample(
                &labels,
                head.value.as_f64(),
                i + 1,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_response_flags_and_workloads() {
        let input = concat!(
            "# TYPE istio_requests_total counter\n",
            "istio_requests_total{response_code=\"504\",reporter=\"source\",source_workload=\"order\",",
            "source_workload_namespace=\"shop\",destination_service=\"inventory.shop.svc.cluster.local\",",
            "destination_service_name=\"inventory\",destination_service_namespace=\"shop\",",
            "destination_workload=\"inventory-v1\",request_protocol=\"grpc\",response_flags=\"UT\",",
            "grpc_response_status=\"4\",connection_security_policy=\"unknown\"} 17\n",
            "istio_requests_total_other{response_flags=\"UF\"} 1\n",
            "istio_request_bytes_sum{response_flags=\"-\"} 10\n",
            "istio_requests_total{response_flags=\"UF,URX\" 3\n",
            "istio_requests_total{reporter=\"destination\",response_flags=\"-\"} 2.5e+01\n",
        );
        let series = istio_requests(input);
        assert_eq!(series.len(), 2, "{series:?}");
        let s = &series[0];
        assert_eq!(s.line, 2);
        assert_eq!(s.response_code, "504");
        assert_eq!(s.response_flags, "UT");
        assert_eq!(s.reporter, "source");
        assert_eq!(s.source_workload, "order");
        assert_eq!(s.source_workload_namespace, "shop");
        assert_eq!(s.destination_service, "inventory.shop.svc.cluster.local");
        assert_eq!(s.destination_service_name, "inventory");
        assert_eq!(s.destination_service_namespace, "shop");
        assert_eq!(s.destination_workload, "inventory-v1");
        assert_eq!(s.destination_workload_namespace, "");
        assert_eq!(s.request_protocol, "grpc");
        assert_eq!(s.grpc_response_status, "4");
        assert_eq!(s.value, 17.0);
        assert_eq!(
            (series[1].line, series[1].reporter.as_str(), series[1].value),
            (6, "destination", 25.0)
        );
    }
}
