//! Istio's own metrics as a sidecar records them: `istio_requests_total` (one series per
//! [`SimIstioRequests`]) and `istio_build`.
//!
//! Istio's stats filter creates these with explicit tags in its `istiocustom` namespace. The
//! text `/stats` name joins tag names and values with dots, and an empty value leaves only the
//! tag name (`….source_version.source_cluster.Kubernetes…`); `/stats/prometheus` strips the
//! namespace and prints the tags as labels in the same order. The labels the model does not
//! carry are filled the way Istio fills them for a Kubernetes workload: canonical service =
//! workload, revision `latest`, SPIFFE principals from the service account (= workload), and
//! `unknown` for everything about a destination whose workload is `unknown` (no peer metadata).

use crate::sim::model::{ProxyState, SimIstioRequests};

/// Istio's stats namespace: text names start with it, Prometheus names drop it.
pub(super) const ISTIO_NAMESPACE: &str = "istiocustom";

/// One Istio metric series: its base name (`istio_requests_total`) and ordered labels.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct IstioSeries {
    pub metric: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: u64,
}

impl IstioSeries {
    /// The text `/stats` name: `istiocustom.<metric>.<tag>.<value>…`, empty values left out.
    pub(super) fn stat_name(&self) -> String {
        let mut parts: Vec<&str> = vec![ISTIO_NAMESPACE, self.metric];
        for (name, value) in &self.labels {
            parts.push(name);
            if !value.is_empty() {
                parts.push(value);
            }
        }
        parts.join(".")
    }

    /// The tag-extracted name Envoy groups by: `istiocustom.<metric>`.
    pub(super) fn extracted_name(&self) -> String {
        format!("{ISTIO_NAMESPACE}.{}", self.metric)
    }
}

/// `istio_build` (a gauge) and every `istio_requests_total` series (counters) of a sidecar.
pub(super) fn istio_series(state: &ProxyState) -> (IstioSeries, Vec<IstioSeries>) {
    let build = IstioSeries {
        metric: "istio_build",
        labels: vec![
            ("component", "proxy".to_string()),
            ("tag", state.istio_version.clone()),
        ],
        value: 1,
    };
    let requests = state.istio_requests.iter().map(request_series).collect();
    (build, requests)
}

fn request_series(r: &SimIstioRequests) -> IstioSeries {
    let peer_known = r.destination_workload != "unknown";
    let known = |value: String| if peer_known { value } else { "unknown".into() };
    let (service_name, service_namespace) = split_service(&r.destination_service);
    let mut labels = vec![("reporter", r.reporter.clone())];
    labels.extend(workload_labels(
        "source",
        &r.source_workload,
        &r.source_namespace,
    ));
    let dest = workload_labels(
        "destination",
        &r.destination_workload,
        &r.destination_namespace,
    );
    labels.extend(dest.into_iter().map(|(k, v)| (k, known(v))));
    labels.extend([
        ("destination_service", r.destination_service.clone()),
        (
            "destination_canonical_service",
            known(r.destination_workload.clone()),
        ),
        ("destination_canonical_revision", known("latest".into())),
        ("destination_service_name", service_name),
        ("destination_service_namespace", service_namespace),
        ("destination_cluster", known("Kubernetes".into())),
        ("request_protocol", "http".into()),
        ("response_code", r.response_code.to_string()),
        ("grpc_response_status", String::new()),
        ("response_flags", r.response_flags.clone()),
        ("connection_security_policy", security_policy(&r.reporter)),
    ]);
    IstioSeries {
        metric: "istio_requests_total",
        labels,
        value: r.count,
    }
}

/// The per-side labels Istio writes for a workload, in Istio's order. The source side also
/// gets its canonical service, revision, app, version and cluster right after the workload.
fn workload_labels(side: &'static str, workload: &str, ns: &str) -> Vec<(&'static str, String)> {
    let principal = format!("spiffe://cluster.local/ns/{ns}/sa/{workload}");
    if side == "source" {
        vec![
            ("source_workload", workload.to_string()),
            ("source_canonical_service", workload.to_string()),
            ("source_canonical_revision", "latest".into()),
            ("source_workload_namespace", ns.to_string()),
            ("source_principal", principal),
            ("source_app", workload.to_string()),
            ("source_version", String::new()),
            ("source_cluster", "Kubernetes".into()),
        ]
    } else {
        vec![
            ("destination_workload", workload.to_string()),
            ("destination_workload_namespace", ns.to_string()),
            ("destination_principal", principal),
            ("destination_app", workload.to_string()),
            ("destination_version", String::new()),
        ]
    }
}

/// `inventory-svc.prod.svc.cluster.local` → (`inventory-svc`, `prod`).
fn split_service(host: &str) -> (String, String) {
    let mut parts = host.split('.');
    let name = parts.next().unwrap_or_default().to_string();
    let namespace = parts.next().unwrap_or_default().to_string();
    (name, namespace)
}

/// The destination side sees the mTLS handshake; the source side reports `unknown`.
fn security_policy(reporter: &str) -> String {
    if reporter == "destination" {
        "mutual_tls".into()
    } else {
        "unknown".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ut_series() -> SimIstioRequests {
        SimIstioRequests {
            reporter: "source".into(),
            source_workload: "order-svc".into(),
            source_namespace: "prod".into(),
            destination_service: "inventory-svc.prod.svc.cluster.local".into(),
            destination_workload: "unknown".into(),
            destination_namespace: "unknown".into(),
            response_code: 504,
            response_flags: "UT".into(),
            count: 449,
        }
    }

    #[test]
    fn text_name_collapses_empty_values() {
        let s = request_series(&ut_series());
        let name = s.stat_name();
        assert!(name.starts_with(
            "istiocustom.istio_requests_total.reporter.source.source_workload.order-svc."
        ));
        assert!(name.contains(".source_version.source_cluster.Kubernetes."));
        assert!(name.contains(".destination_principal.unknown.destination_app.unknown."));
        assert!(name.ends_with(".response_code.504.grpc_response_status.response_flags.UT.connection_security_policy.unknown"));
        assert_eq!(s.extracted_name(), "istiocustom.istio_requests_total");
        assert_eq!(s.value, 449);
    }

    #[test]
    fn labels_follow_istio_order() {
        let s = request_series(&ut_series());
        let names: Vec<&str> = s.labels.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names[..3],
            ["reporter", "source_workload", "source_canonical_service"]
        );
        assert_eq!(names.len(), 25);
        let label = |k: &str| {
            s.labels
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(label("destination_service_name"), Some("inventory-svc"));
        assert_eq!(label("destination_service_namespace"), Some("prod"));
        assert_eq!(label("destination_canonical_revision"), Some("unknown"));
        assert_eq!(label("response_flags"), Some("UT"));
    }
}
