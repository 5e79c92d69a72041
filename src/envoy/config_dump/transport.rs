//! A cluster's transport security: plaintext, TLS, Istio mutual TLS, or Istio's auto mTLS
//! (`transport_socket_matches` keyed on the endpoint label `tlsMode: istio`). Reads the v3
//! `transport_socket` / `transport_socket_matches` and the v2 `tls_context`, and looks
//! through wrapper sockets (`internal_upstream`, `tcp_stats`) to the socket they wrap.

use serde::Serialize;

use super::node::Node;

/// How a cluster secures connections to its endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportSecurity {
    /// No transport socket, or `raw_buffer`.
    Plaintext,
    /// TLS that is not Istio's mutual TLS (DestinationRule `SIMPLE`/`MUTUAL`, plain Envoy).
    Tls,
    /// Istio mutual TLS (`ISTIO_MUTUAL`): Istio's ALPN (`istio`, `istio-peer-exchange`) or
    /// the workload certificate from the SDS secret `default`.
    IstioMutualTls,
    /// Istio auto mTLS: mutual TLS to endpoints labelled `tlsMode: istio`, plaintext to others.
    IstioAutoMutualTls,
    /// A transport socket meshtop does not classify (a custom extension).
    Other,
}

/// The transport settings of one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transport {
    /// The socket name as written (`envoy.transport_sockets.tls`, `internal_upstream`, …);
    /// for auto mTLS the name of the `tlsMode-istio` socket. `None` when no socket is
    /// configured, including the v2 top-level `tls_context`, which has no name.
    pub socket: Option<String>,
    pub security: TransportSecurity,
    /// The SNI the TLS context sends (Istio: `outbound_.9080_.v1_.reviews.default.svc…`).
    pub sni: Option<String>,
}

/// Istio's ALPN values for its own mutual TLS.
const ISTIO_ALPN: [&str; 2] = ["istio", "istio-peer-exchange"];

/// Reads the transport of a cluster: Istio auto-mTLS matches first, then the cluster's
/// `transport_socket`, then the v2 `tls_context`; nothing means plaintext.
pub(super) fn parse_transport(cluster: &Node<'_>) -> Transport {
    if let Some(auto) = istio_auto_mtls(cluster) {
        return auto;
    }
    if let Some(socket) = cluster.object("transport_socket") {
        return classify_socket(&socket);
    }
    if let Some(ctx) = cluster.object("tls_context") {
        let (security, sni) = classify_tls(Some(&ctx));
        return Transport {
            socket: None,
            security,
            sni,
        };
    }
    Transport {
        socket: None,
        security: TransportSecurity::Plaintext,
        sni: None,
    }
}

/// The `tlsMode-istio` entry of `transport_socket_matches`, if it carries Istio mTLS.
fn istio_auto_mtls(cluster: &Node<'_>) -> Option<Transport> {
    let matches = cluster.items("transport_socket_matches");
    let istio = matches.iter().find(|m| {
        m.value.get("name").and_then(|n| n.as_str()) == Some("tlsMode-istio")
            || m.value.pointer("/match/tlsMode").and_then(|v| v.as_str()) == Some("istio")
    })?;
    let transport = classify_socket(&istio.object("transport_socket")?);
    (transport.security == TransportSecurity::IstioMutualTls).then_some(Transport {
        security: TransportSecurity::IstioAutoMutualTls,
        ..transport
    })
}

/// Classifies one `{name, typed_config}` transport socket.
fn classify_socket(socket: &Node<'_>) -> Transport {
    let name = socket.string("name");
    let config = socket
        .object("typed_config")
        .or_else(|| socket.object("config"));
    if let Some(inner) = config.as_ref().and_then(|c| c.object("transport_socket")) {
        return Transport {
            socket: name,
            ..classify_socket(&inner)
        };
    }
    let type_url = config.as_ref().and_then(Node::type_url).unwrap_or("");
    let short = name.as_deref().unwrap_or("");
    let (security, sni) = if short.ends_with("tls") || type_url.ends_with("UpstreamTlsContext") {
        classify_tls(config.as_ref())
    } else if short.ends_with("raw_buffer") || type_url.ends_with("RawBuffer") {
        (TransportSecurity::Plaintext, None)
    } else {
        (TransportSecurity::Other, None)
    };
    Transport {
        socket: name,
        security,
        sni,
    }
}

/// Tells Istio mTLS from other TLS in an `UpstreamTlsContext`, and reads its SNI.
fn classify_tls(ctx: Option<&Node<'_>>) -> (TransportSecurity, Option<String>) {
    let Some(ctx) = ctx else {
        return (TransportSecurity::Tls, None);
    };
    let common = ctx.object("common_tls_context");
    let istio = common.as_ref().is_some_and(|c| {
        let alpn = c.strings("alpn_protocols");
        let sds = c.items("tls_certificate_sds_secret_configs");
        alpn.iter().any(|a| ISTIO_ALPN.contains(&a.as_str()))
            || sds
                .iter()
                .any(|s| s.value.get("name").and_then(|n| n.as_str()) == Some("default"))
    });
    let security = if istio {
        TransportSecurity::IstioMutualTls
    } else {
        TransportSecurity::Tls
    };
    (security, ctx.string("sni"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::config_dump::parse_config_dump;
    use serde_json::{Value, json};

    fn transport_of(cluster: Value) -> Transport {
        let dump = json!({"configs": [{"static_clusters": [{"cluster": cluster}]}]});
        let dump = parse_config_dump(&dump.to_string()).unwrap();
        assert!(dump.issues.is_empty(), "{:?}", dump.issues);
        dump.clusters[0].transport.clone()
    }

    /// An `UpstreamTlsContext` socket as Istio writes it for ISTIO_MUTUAL.
    fn istio_tls_socket(sni: &str) -> Value {
        json!({
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                "common_tls_context": {
                    "alpn_protocols": ["istio-peer-exchange", "istio"],
                    "tls_certificate_sds_secret_configs": [{"name": "default"}]
                },
                "sni": sni
            }
        })
    }

    #[test]
    fn istio_auto_mtls_matches() {
        let sni = "outbound_.8080_._.orders.prod.svc.cluster.local";
        let t = transport_of(json!({
            "name": "c",
            "transport_socket_matches": [
                {"name": "tlsMode-istio", "match": {"tlsMode": "istio"}, "transport_socket": istio_tls_socket(sni)},
                {"name": "tlsMode-disabled", "match": {}, "transport_socket": {"name": "envoy.transport_sockets.raw_buffer"}}
            ]
        }));
        assert_eq!(t.security, TransportSecurity::IstioAutoMutualTls);
        assert_eq!(t.socket.as_deref(), Some("envoy.transport_sockets.tls"));
        assert_eq!(t.sni.as_deref(), Some(sni));
    }

    #[test]
    fn explicit_sockets_and_v2_tls_context() {
        let t = transport_of(json!({"name": "c", "transport_socket": istio_tls_socket("x")}));
        assert_eq!(t.security, TransportSecurity::IstioMutualTls);
        let simple = json!({"name": "tls", "typed_config": {"sni": "api.example.com", "common_tls_context": {}}});
        let t = transport_of(json!({"name": "c", "transport_socket": simple}));
        assert_eq!(
            (t.security, t.sni.as_deref()),
            (TransportSecurity::Tls, Some("api.example.com"))
        );
        let v2 = json!({"common_tls_context": {"alpn_protocols": ["istio"]}, "sni": "s"});
        let t = transport_of(json!({"name": "c", "tls_context": v2}));
        assert_eq!(
            t,
            Transport {
                socket: None,
                security: TransportSecurity::IstioMutualTls,
                sni: Some("s".into())
            }
        );
        let t = transport_of(json!({"name": "c"}));
        assert_eq!(
            t,
            Transport {
                socket: None,
                security: TransportSecurity::Plaintext,
                sni: None
            }
        );
        let t = transport_of(json!({"name": "c", "transport_socket": {"name": "acme.quantum"}}));
        assert_eq!(t.security, TransportSecurity::Other);
    }

    #[test]
    fn wrapper_sockets_are_seen_through() {
        let t = transport_of(json!({"name": "c", "transport_socket": {
            "name": "internal_upstream",
            "typed_config": {"transport_socket": {
                "name": "raw_buffer",
                "typed_config": {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer"}
            }}
        }}));
        assert_eq!(t.socket.as_deref(), Some("internal_upstream"));
        assert_eq!(t.security, TransportSecurity::Plaintext);
    }
}
