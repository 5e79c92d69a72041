//! VirtualService routes that send a client's traffic into one Envoy cluster, with the route
//! timeout and retry policy (Istio's defaults filled in and marked).
//!
//! A VS counts when it is exported to the client namespace, is bound to the `mesh` gateway
//! (no `gateways` = mesh), and one of its `hosts` covers the cluster host (short names relative
//! to the VS namespace; wildcards allowed). Within it, an `http[i]`/`tcp[i]`/`tls[i]` rule
//! counts when one of its destinations is the cluster: same host, the cluster's subset (none
//! for the plain cluster) and, if the destination names a port, the cluster port.
//!
//! Retry defaults follow istiod's `retry.ConvertPolicy`: no `retries` = 2 retries on
//! [`DEFAULT_RETRY_ON`]; `retries` without `attempts` (or `attempts: 0`) = retries disabled;
//! otherwise unset `retryOn` takes the default list. Mesh-wide `defaultHttpRetryPolicy` is not
//! modelled.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::host::resolve_host;
use super::source::{ObjectRef, Sourced, sourced_ms};
use super::virtual_service::{Destination, HttpRetry, HttpRoute, L4Route, RouteDestination};

/// istiod's default `retryOn` (the VS reference omits `retriable-status-codes`; older Istio
/// releases add status code 503 to it).
pub const DEFAULT_RETRY_ON: &str =
    "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

/// Which kind of VS rule a route is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteProtocol {
    Http,
    Tcp,
    Tls,
}

/// One VS rule that routes to the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedRoute {
    pub virtual_service: ObjectRef,
    pub protocol: RouteProtocol,
    /// `http[0]`, `tcp[1]`, …
    pub field: String,
    /// `http[i].name`.
    pub name: Option<String>,
    /// One summary per `match[]` entry (`uri prefix /api, header end-user exact jason`); empty
    /// = every request.
    pub matches: Vec<String>,
    /// Relative weight of this cluster in the rule; a lone destination gets 100 (default).
    pub weight: Sourced<u32>,
    /// `None` = no route timeout (Istio's default for HTTP; always for TCP/TLS).
    #[serde(
        serialize_with = "sourced_ms::optional",
        deserialize_with = "sourced_ms::deserialize_optional"
    )]
    pub timeout: Sourced<Option<Duration>>,
    /// `None` for TCP/TLS rules.
    pub retries: Option<ResolvedRetries>,
    /// `delay 7s (100%)`, `abort 500 (100%)`.
    pub fault: Option<String>,
    /// Mirror destination label.
    pub mirror: Option<String>,
}

/// The effective retry policy of an HTTP rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedRetries {
    /// Retries after the first try; 0 = disabled.
    pub attempts: Sourced<u32>,
    /// `None` = the route timeout applies to each try.
    #[serde(
        serialize_with = "sourced_ms::optional",
        deserialize_with = "sourced_ms::deserialize_optional"
    )]
    pub per_try_timeout: Sourced<Option<Duration>>,
    pub retry_on: Sourced<String>,
    pub retry_remote_localities: Sourced<bool>,
}

/// The cluster a route must target, with hosts already resolved.
pub(crate) struct Target<'a> {
    pub host: &'a str,
    pub subset: &'a str,
    pub port: u16,
    pub vs_namespace: &'a str,
    pub domain: &'a str,
}

impl Target<'_> {
    pub fn host_of(&self, d: &Destination) -> String {
        resolve_host(&d.host, self.vs_namespace, self.domain)
    }

    fn is_target(&self, d: &Destination) -> bool {
        self.host_of(d) == self.host
            && d.subset.as_deref().unwrap_or("") == self.subset
            && d.port
                .as_ref()
                .is_none_or(|p| p.number == u32::from(self.port))
    }

    /// The weight of the first destination that is the cluster, if any.
    pub fn weight(
        &self,
        route: &[RouteDestination],
        vs: &ObjectRef,
        field: &str,
    ) -> Option<Sourced<u32>> {
        let (i, rd) = route
            .iter()
            .enumerate()
            .find(|(_, rd)| rd.destination.as_ref().is_some_and(|d| self.is_target(d)))?;
        Some(match rd.weight {
            Some(w) => Sourced::configured(w, vs, format!("{field}.route[{i}].weight")),
            None if route.len() == 1 => Sourced::default_value(100),
            None => Sourced::default_value(0),
        })
    }
}

/// The resolved HTTP rule `http[index]`, if it routes to the target.
pub(crate) fn http_route(
    target: &Target<'_>,
    vs: &ObjectRef,
    index: usize,
    http: &HttpRoute,
) -> Option<ResolvedRoute> {
    let field = format!("http[{index}]");
    let weight = target.weight(&http.route, vs, &field)?;
    let timeout = match http.timeout {
        Some(t) => Sourced::configured(Some(t), vs, format!("{field}.timeout")),
        None => Sourced::default_value(None),
    };
    Some(ResolvedRoute {
        virtual_service: vs.clone(),
        protocol: RouteProtocol::Http,
        name: http.name.clone(),
        matches: http.matches.iter().map(|m| m.summary()).collect(),
        weight,
        timeout,
        retries: Some(resolve_retries(http.retries.as_ref(), vs, &field)),
        fault: http.fault.as_ref().map(fault_summary),
        mirror: http.mirror.as_ref().map(Destination::label),
        field,
    })
}

/// The resolved `tcp[index]`/`tls[index]` rule, if it routes to the target.
pub(crate) fn l4_route(
    target: &Target<'_>,
    vs: &ObjectRef,
    (protocol, index): (RouteProtocol, usize),
    rule: &L4Route,
) -> Option<ResolvedRoute> {
    let name = if protocol == RouteProtocol::Tcp {
        "tcp"
    } else {
        "tls"
    };
    let field = format!("{name}[{index}]");
    Some(ResolvedRoute {
        virtual_service: vs.clone(),
        protocol,
        weight: target.weight(&rule.route, vs, &field)?,
        name: None,
        matches: rule.matches.iter().map(Value::to_string).collect(),
        timeout: Sourced::default_value(None),
        retries: None,
        fault: None,
        mirror: None,
        field,
    })
}

fn resolve_retries(retries: Option<&HttpRetry>, vs: &ObjectRef, field: &str) -> ResolvedRetries {
    let Some(r) = retries else {
        return ResolvedRetries {
            attempts: Sourced::default_value(2),
            per_try_timeout: Sourced::default_value(None),
            retry_on: Sourced::default_value(DEFAULT_RETRY_ON.to_string()),
            retry_remote_localities: Sourced::default_value(false),
        };
    };
    let at = |name: &str| format!("{field}.retries.{name}");
    ResolvedRetries {
        attempts: match r.attempts {
            Some(n) => Sourced::configured(n, vs, at("attempts")),
            None => Sourced::configured(0, vs, format!("{field}.retries")),
        },
        per_try_timeout: match r.per_try_timeout {
            Some(t) => Sourced::configured(Some(t), vs, at("perTryTimeout")),
            None => Sourced::default_value(None),
        },
        retry_on: match &r.retry_on {
            Some(on) => Sourced::configured(on.clone(), vs, at("retryOn")),
            None => Sourced::default_value(DEFAULT_RETRY_ON.to_string()),
        },
        retry_remote_localities: match r.retry_remote_localities {
            Some(b) => Sourced::configured(b, vs, at("retryRemoteLocalities")),
            None => Sourced::default_value(false),
        },
    }
}

/// `delay 7s (100%)`, `abort 500 (100%)`; other shapes as compact JSON.
fn fault_summary(fault: &Value) -> String {
    let percent = |v: &Value| {
        v.pointer("/percentage/value")
            .map(|p| format!(" ({p}%)"))
            .unwrap_or_default()
    };
    let text =
        |v: Option<&Value>| v.map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string));
    let mut parts = Vec::new();
    if let Some(delay) = fault.get("delay") {
        let d = text(delay.get("fixedDelay")).unwrap_or_else(|| delay.to_string());
        parts.push(format!("delay {d}{}", percent(delay)));
    }
    if let Some(abort) = fault.get("abort") {
        let code = text(abort.get("httpStatus").or(abort.get("grpcStatus")));
        parts.push(format!(
            "abort {}{}",
            code.unwrap_or_else(|| abort.to_string()),
            percent(abort)
        ));
    }
    if parts.is_empty() {
        return fault.to_string();
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_summaries() {
        let delay =
            serde_json::json!({"delay": {"percentage": {"value": 100.0}, "fixedDelay": "7s"}});
        assert_eq!(fault_summary(&delay), "delay 7s (100.0%)");
        let abort = serde_json::json!({"abort": {"httpStatus": 555, "percentage": {"value": 100}}});
        assert_eq!(fault_summary(&abort), "abort 555 (100%)");
    }
}
