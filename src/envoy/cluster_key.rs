//! The meaning of an Envoy cluster name: Istio's `direction|port|subset|host` names, Istio's and
//! Envoy's special clusters, and plain names from any other Envoy.

use serde::{Deserialize, Serialize};

/// Which way traffic flows through the sidecar for an Istio cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// `outbound|…`: this pod calls a service (the *client* side).
    Outbound,
    /// `inbound|…`: calls arriving at this pod's app (the *server* side).
    Inbound,
    /// `inbound-vip|…`: waypoint / ambient service VIP clusters.
    InboundVip,
}

/// Clusters Istio (or Envoy itself) creates that are not an upstream service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpecialCluster {
    /// `BlackHoleCluster`: traffic to unknown hosts is dropped (REGISTRY_ONLY).
    BlackHole,
    /// `PassthroughCluster`: traffic to unknown hosts is passed through (ALLOW_ANY).
    Passthrough,
    /// `InboundPassthroughCluster…`: inbound traffic to ports no Service declares.
    InboundPassthrough,
    /// `xds-grpc`: the sidecar's control-plane connection to istiod.
    XdsGrpc,
    /// `sds-grpc`: certificates from the istio-agent.
    SdsGrpc,
    /// `agent`: the istio-agent health endpoint.
    Agent,
    /// `prometheus_stats`: Envoy's own stats listener loopback.
    PrometheusStats,
    /// Tracing and access-log sinks (`zipkin`, `envoy_accesslog_service`, …).
    Telemetry,
}

impl SpecialCluster {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "BlackHoleCluster" => SpecialCluster::BlackHole,
            "PassthroughCluster" => SpecialCluster::Passthrough,
            "xds-grpc" => SpecialCluster::XdsGrpc,
            "sds-grpc" => SpecialCluster::SdsGrpc,
            "agent" => SpecialCluster::Agent,
            "prometheus_stats" => SpecialCluster::PrometheusStats,
            "zipkin" | "envoy_accesslog_service" | "opencensus" | "datadog_agent" => {
                SpecialCluster::Telemetry
            }
            n if n.starts_with("InboundPassthroughCluster") => SpecialCluster::InboundPassthrough,
            _ => return None,
        })
    }
}

/// A parsed Istio cluster name `direction|port|subset|host`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IstioCluster {
    pub direction: Direction,
    pub port: u16,
    /// DestinationRule subset (`v1`); empty when the cluster covers every endpoint. For inbound
    /// clusters Istio puts the port name here (`http`) or leaves it empty.
    pub subset: String,
    /// FQDN of the service (`reviews.prod.svc.cluster.local`); empty for Istio ≥ 1.10 inbound.
    pub host: String,
    /// `reviews` when the host is a Kubernetes service name `svc.ns.svc.<domain>`.
    pub service: Option<String>,
    /// `prod` when the host is a Kubernetes service name.
    pub namespace: Option<String>,
}

/// What an Envoy cluster name refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ClusterKind {
    Istio(IstioCluster),
    Special {
        special: SpecialCluster,
    },
    /// Any other name (`service1`, an Emissary or Kuma name, an `outboundClusterStatName`).
    Plain,
}

/// An Envoy cluster name and what it means.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClusterKey {
    pub name: String,
    #[serde(flatten)]
    pub kind: ClusterKind,
}

impl ClusterKey {
    /// Interprets a full Envoy cluster name. Never fails: an unrecognised name is `Plain`.
    pub fn parse(name: &str) -> ClusterKey {
        let kind = parse_istio(name)
            .map(ClusterKind::Istio)
            .or_else(|| {
                SpecialCluster::from_name(name).map(|special| ClusterKind::Special { special })
            })
            .unwrap_or(ClusterKind::Plain);
        ClusterKey {
            name: name.to_string(),
            kind,
        }
    }

    pub fn istio(&self) -> Option<&IstioCluster> {
        match &self.kind {
            ClusterKind::Istio(c) => Some(c),
            _ => None,
        }
    }

    pub fn is_outbound(&self) -> bool {
        self.istio()
            .is_some_and(|c| c.direction == Direction::Outbound)
    }

    pub fn is_special(&self) -> bool {
        matches!(self.kind, ClusterKind::Special { .. })
    }

    /// Short human label: `reviews.prod:9080 v1` for Istio clusters, else the name.
    pub fn label(&self) -> String {
        match &self.kind {
            ClusterKind::Istio(c) => {
                let dir = match c.direction {
                    Direction::Outbound => "",
                    Direction::Inbound => "inbound ",
                    Direction::InboundVip => "inbound-vip ",
                };
                let host = match (&c.service, &c.namespace) {
                    (Some(s), Some(n)) => format!("{s}.{n}"),
                    _ if c.host.is_empty() => "*".to_string(),
                    _ => c.host.clone(),
                };
                let subset = if c.subset.is_empty() {
                    String::new()
                } else {
                    format!(" {}", c.subset)
                };
                format!("{dir}{host}:{}{subset}", c.port)
            }
            _ => self.name.clone(),
        }
    }
}

fn parse_istio(name: &str) -> Option<IstioCluster> {
    let mut parts = name.splitn(4, '|');
    let direction = match parts.next()? {
        "outbound" => Direction::Outbound,
        "inbound" => Direction::Inbound,
        "inbound-vip" => Direction::InboundVip,
        _ => return None,
    };
    let port = parts.next()?.parse::<u16>().ok()?;
    let subset = parts.next()?.to_string();
    let host = parts.next()?.to_string();
    let (service, namespace) = split_kubernetes_host(&host);
    Some(IstioCluster {
        direction,
        port,
        subset,
        host,
        service,
        namespace,
    })
}

/// `reviews.prod.svc.cluster.local` → (`reviews`, `prod`). Any cluster domain is accepted
/// after `.svc.`; hosts that are not Kubernetes services (`www.google.com`) give `None`.
fn split_kubernetes_host(host: &str) -> (Option<String>, Option<String>) {
    let mut labels = host.split('.');
    match (labels.next(), labels.next(), labels.next()) {
        (Some(svc), Some(ns), Some("svc")) if !svc.is_empty() && !ns.is_empty() => {
            (Some(svc.to_string()), Some(ns.to_string()))
        }
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_with_subset() {
        let key = ClusterKey::parse("outbound|8080|v1|reviews.prod.svc.cluster.local");
        let c = key.istio().unwrap();
        assert_eq!(c.direction, Direction::Outbound);
        assert_eq!(c.port, 8080);
        assert_eq!(c.subset, "v1");
        assert_eq!(c.host, "reviews.prod.svc.cluster.local");
        assert_eq!(c.service.as_deref(), Some("reviews"));
        assert_eq!(c.namespace.as_deref(), Some("prod"));
        assert_eq!(key.label(), "reviews.prod:8080 v1");
        assert!(key.is_outbound());
    }

    #[test]
    fn inbound_forms_old_and_new() {
        let new = ClusterKey::parse("inbound|9080||");
        let c = new.istio().unwrap();
        assert_eq!(
            (c.direction, c.port, c.subset.as_str(), c.host.as_str()),
            (Direction::Inbound, 9080, "", "")
        );
        assert_eq!(new.label(), "inbound *:9080");
        let old = ClusterKey::parse("inbound|9080|http|reviews.default.svc.cluster.local");
        assert_eq!(old.istio().unwrap().subset, "http");
        let vip = ClusterKey::parse("inbound-vip|8000|http|httpbin.default.svc.cluster.local");
        assert_eq!(vip.istio().unwrap().direction, Direction::InboundVip);
    }

    #[test]
    fn external_hosts_have_no_service() {
        let key = ClusterKey::parse("outbound|443||www.googleapis.com");
        let c = key.istio().unwrap();
        assert_eq!(c.service, None);
        assert_eq!(key.label(), "www.googleapis.com:443");
    }

    #[test]
    fn special_and_plain_names() {
        for (name, special) in [
            ("BlackHoleCluster", SpecialCluster::BlackHole),
            ("PassthroughCluster", SpecialCluster::Passthrough),
            (
                "InboundPassthroughClusterIpv4",
                SpecialCluster::InboundPassthrough,
            ),
            (
                "InboundPassthroughClusterIpv6",
                SpecialCluster::InboundPassthrough,
            ),
            ("xds-grpc", SpecialCluster::XdsGrpc),
            ("agent", SpecialCluster::Agent),
            ("prometheus_stats", SpecialCluster::PrometheusStats),
            ("sds-grpc", SpecialCluster::SdsGrpc),
        ] {
            assert_eq!(
                ClusterKey::parse(name).kind,
                ClusterKind::Special { special },
                "{name}"
            );
        }
        for name in [
            "service1",
            "outbound|notaport||x",
            "httpbin.default_8000",
            "cluster_127_0_0_1_8500_ambassador",
        ] {
            assert_eq!(ClusterKey::parse(name).kind, ClusterKind::Plain, "{name}");
        }
    }

    #[test]
    fn keys_round_trip_through_json() {
        let istio = ClusterKey::parse("outbound|8080|v1|reviews.prod.svc.cluster.local");
        assert_eq!(
            serde_json::to_value(&istio).unwrap(),
            serde_json::json!({"name": "outbound|8080|v1|reviews.prod.svc.cluster.local",
                "kind": "istio", "direction": "outbound", "port": 8080, "subset": "v1",
                "host": "reviews.prod.svc.cluster.local", "service": "reviews", "namespace": "prod"})
        );
        for name in [
            "outbound|8080|v1|reviews.prod.svc.cluster.local",
            "inbound-vip|8000|http|httpbin.default.svc.cluster.local",
            "outbound|443||www.googleapis.com",
            "BlackHoleCluster",
            "service1",
        ] {
            let key = ClusterKey::parse(name);
            let json = serde_json::to_string(&key).unwrap();
            assert_eq!(
                serde_json::from_str::<ClusterKey>(&json).unwrap(),
                key,
                "{json}"
            );
        }
        let bad = r#"{"name": "x", "kind": "istio", "direction": "outbound", "port": 70000}"#;
        assert!(serde_json::from_str::<ClusterKey>(bad).is_err());
    }
}
