//! `VirtualService` spec (`networking.istio.io` v1, v1beta1, v1alpha3): hosts, gateways,
//! exportTo, and HTTP/TCP/TLS routes with what meshtop shows (destinations, weights, timeout,
//! retries, fault, mirror, match conditions). Field docs summarise istio/api
//! `virtual_service.proto`. Unknown fields are ignored; durations as in [`super::duration`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::destination_rule::PortSelector;

/// The spec of a VirtualService.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VirtualService {
    /// Hosts the routes apply to; short names are relative to the VS namespace.
    pub hosts: Vec<String>,
    /// Gateways and/or `mesh` (all sidecars). Empty = `mesh`.
    pub gateways: Vec<String>,
    /// Namespaces that see the VS: `.` = own, `*` = all; empty = all.
    pub export_to: Vec<String>,
    pub http: Vec<HttpRoute>,
    pub tcp: Vec<L4Route>,
    pub tls: Vec<L4Route>,
}

/// One `http[]` rule: the first whose match conditions fit a request is used.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRoute {
    pub name: Option<String>,
    #[serde(rename = "match")]
    pub matches: Vec<HttpMatch>,
    pub route: Vec<RouteDestination>,
    /// Request timeout, retries included; absent = disabled.
    #[serde(with = "super::duration::option")]
    pub timeout: Option<Duration>,
    pub retries: Option<HttpRetry>,
    /// Kept as JSON: `delay{fixedDelay, percentage}`, `abort{httpStatus, percentage}`.
    pub fault: Option<Value>,
    pub mirror: Option<Destination>,
    pub delegate: Option<Value>,
    pub redirect: Option<Value>,
    pub direct_response: Option<Value>,
}

/// One `match[]` entry of an HTTP rule (conditions within it are ANDed, entries ORed).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpMatch {
    pub name: Option<String>,
    /// StringMatch objects (`{exact|prefix|regex: …}`) kept as JSON.
    pub uri: Option<Value>,
    pub scheme: Option<Value>,
    pub method: Option<Value>,
    pub authority: Option<Value>,
    pub headers: BTreeMap<String, Value>,
    pub query_params: BTreeMap<String, Value>,
    pub without_headers: BTreeMap<String, Value>,
    pub port: Option<u32>,
    /// Selects client workloads by label (not a runtime match).
    pub source_labels: BTreeMap<String, String>,
    /// Client namespace the rule is restricted to (not a runtime match).
    pub source_namespace: Option<String>,
    /// Overrides the VS `gateways` for this match.
    pub gateways: Vec<String>,
}

/// `route[]` entry: a destination and its relative weight.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteDestination {
    /// Required by Istio; optional here so a broken entry does not hide the rest of the VS.
    pub destination: Option<Destination>,
    /// Relative weight; a lone destination gets all traffic.
    pub weight: Option<u32>,
}

/// Where requests go: a host (short names relative to the VS namespace), subset and port.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Destination {
    pub host: String,
    pub subset: Option<String>,
    pub port: Option<PortSelector>,
}

/// `retries`: absent = Istio's default policy; `attempts: 0` (or no `attempts`) disables.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRetry {
    pub attempts: Option<u32>,
    #[serde(with = "super::duration::option")]
    pub per_try_timeout: Option<Duration>,
    pub retry_on: Option<String>,
    pub retry_remote_localities: Option<bool>,
}

/// A `tcp[]` or `tls[]` rule; only destinations matter to meshtop.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct L4Route {
    #[serde(rename = "match")]
    pub matches: Vec<Value>,
    pub route: Vec<RouteDestination>,
}

impl HttpMatch {
    /// One-line summary: `uri prefix /api, header end-user exact jason, port 80`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for (what, value) in [
            ("uri", &self.uri),
            ("scheme", &self.scheme),
            ("method", &self.method),
            ("authority", &self.authority),
        ] {
            if let Some(v) = value {
                parts.push(format!("{what} {}", string_match(v)));
            }
        }
        for (what, map) in [
            ("header", &self.headers),
            ("query", &self.query_params),
            ("without header", &self.without_headers),
        ] {
            for (key, v) in map {
                parts.push(format!("{what} {key} {}", string_match(v)));
            }
        }
        if let Some(port) = self.port {
            parts.push(format!("port {port}"));
        }
        parts.extend(
            self.source_labels
                .iter()
                .map(|(k, v)| format!("sourceLabels {k}={v}")),
        );
        if let Some(ns) = &self.source_namespace {
            parts.push(format!("sourceNamespace {ns}"));
        }
        if !self.gateways.is_empty() {
            parts.push(format!("gateways {}", self.gateways.join(",")));
        }
        if parts.is_empty() {
            parts.push("any request".to_string());
        }
        parts.join(", ")
    }
}

/// `{exact: "x"}` → `exact x`; `{}` (presence) → `present`.
fn string_match(value: &Value) -> String {
    match value.as_object() {
        Some(map) if map.is_empty() => "present".to_string(),
        Some(map) => map
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} {}",
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                )
            })
            .collect::<Vec<_>>()
            .join(" "),
        None => value.to_string(),
    }
}

impl Destination {
    /// `reviews v1:9080` style label.
    pub fn label(&self) -> String {
        let mut out = self.host.clone();
        if let Some(subset) = &self.subset {
            out.push(' ');
            out.push_str(subset);
        }
        if let Some(port) = &self.port {
            out.push_str(&format!(":{}", port.number));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_summary_lists_conditions() {
        let m = HttpMatch {
            uri: Some(serde_json::json!({"prefix": "/api"})),
            headers: BTreeMap::from([(
                "end-user".to_string(),
                serde_json::json!({"exact": "jason"}),
            )]),
            port: Some(80),
            ..HttpMatch::default()
        };
        assert_eq!(
            m.summary(),
            "uri prefix /api, header end-user exact jason, port 80"
        );
        assert_eq!(HttpMatch::default().summary(), "any request");
    }
}
