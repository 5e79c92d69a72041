//! Envoy admin behind a pod: the in-process HTTP/1.1 server that port-forward bridges to,
//! and the `pods/{name}:{port}/proxy/{path}` subresource. Both answer with the Envoy admin
//! emulator (`crate::sim::envoy`) over the pod's current [`ProxyState`], with the
//! `slow_admin_ms` (delay before answering) and `truncate_admin` (body cut to half its
//! bytes, possibly mid-line, with a matching Content-Length) faults applied. Only `GET` and
//! `HEAD` are served; other methods get 405.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{Method, Response, StatusCode};
use axum::response::IntoResponse;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use regex::Regex;
use tokio::io::DuplexStream;

use super::state::ServerState;
use super::status;
use crate::sim::envoy::respond_to_path;
use crate::sim::model::{SimPod, World};

/// Envoy's admin port in an Istio sidecar unless `proxyAdminPort` says otherwise.
pub const DEFAULT_ADMIN_PORT: u16 = 15000;

/// `proxyAdminPort: 15001` in the `proxy.istio.io/config` annotation (YAML or JSON).
static ADMIN_PORT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"proxyAdminPort"?\s*:\s*"?(\d{1,5})"#).ok());

/// The port a meshed pod's Envoy admin listens on; `None` for a pod without a sidecar.
pub fn admin_port(pod: &SimPod) -> Option<u16> {
    if !pod.meshed {
        return None;
    }
    let configured = pod
        .annotations
        .get("proxy.istio.io/config")
        .and_then(|config| ADMIN_PORT.as_ref()?.captures(config))
        .and_then(|caps| caps.get(1)?.as_str().parse().ok());
    Some(configured.unwrap_or(DEFAULT_ADMIN_PORT))
}

/// Finds a pod the API serves (not a deleted one).
pub fn find_pod<'w>(world: &'w World, namespace: &str, name: &str) -> Option<&'w SimPod> {
    world
        .served_pods()
        .find(|p| p.namespace == namespace && p.name == name)
}

/// Which pod's Envoy admin answers.
#[derive(Clone)]
pub struct AdminTarget {
    pub state: Arc<ServerState>,
    pub namespace: String,
    pub pod: String,
}

impl AdminTarget {
    /// Answers one admin request (`path_and_query` like `/stats?usedonly`).
    pub async fn answer(&self, method: &Method, path_and_query: &str) -> Response<Full<Bytes>> {
        if method != Method::GET && method != Method::HEAD {
            return plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain",
                b"method not allowed\n".to_vec(),
            );
        }
        let faults = self.state.controls().faults;
        if faults.slow_admin_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.slow_admin_ms)).await;
        }
        let proxy = self.state.simulation().proxy(&self.namespace, &self.pod);
        let Some(proxy) = proxy else {
            // The sidecar went away under an open forward: the upstream connection is gone.
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                b"upstream connect error\n".to_vec(),
            );
        };
        let reply = respond_to_path(&proxy, path_and_query);
        let mut body = reply.body.into_bytes();
        if faults.truncate_admin {
            body.truncate(body.len() / 2);
        }
        let code = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        plain(code, reply.content_type, body)
    }
}

fn plain(code: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = code;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_TYPE, value);
    }
    response
}

/// Serves HTTP/1.1 (keep-alive) on one end of a duplex pipe until the peer closes it.
pub async fn serve_admin(io: DuplexStream, target: AdminTarget) {
    let service =
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let target = target.clone();
            async move {
                let path = request
                    .uri()
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_string();
                Ok::<_, Infallible>(target.answer(request.method(), &path).await)
            }
        });
    // A client that hangs up mid-request is not an error worth reporting.
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// `/api/v1/namespaces/{ns}/pods/{name}[:{port}]/proxy[/{path}]`: the API server's pod
/// proxy. The pod segment's port defaults to 80; a port other than the admin port is
/// refused like a dial to a closed port.
pub async fn proxy(
    State(state): State<Arc<ServerState>>,
    Path(captures): Path<HashMap<String, String>>,
    request: Request,
) -> axum::response::Response {
    let (Some(namespace), Some(segment)) = (captures.get("ns"), captures.get("name")) else {
        return status::unknown_path();
    };
    let (name, port) = match segment.rsplit_once(':') {
        Some((name, port)) => (name, port.parse::<u16>().ok()),
        None => (segment.as_str(), Some(80)),
    };
    let Some(port) = port else {
        return status::bad_request(&format!("invalid port in pod proxy name {segment:?}"));
    };
    let found = find_pod(state.simulation().world(), namespace, name)
        .map(|p| (p.ip.clone(), admin_port(p)));
    let Some((ip, admin)) = found else {
        return status::not_found("pods", name);
    };
    if admin != Some(port) {
        return status::proxy_refused(&ip, port);
    }
    let path = captures.get("path").map_or("", String::as_str);
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let target = AdminTarget {
        state: state.clone(),
        namespace: namespace.clone(),
        pod: name.to_string(),
    };
    target
        .answer(request.method(), &format!("/{path}{query}"))
        .await
        .map(Body::new)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn pod(meshed: bool, config: Option<&str>) -> SimPod {
        SimPod {
            name: "a".into(),
            namespace: "prod".into(),
            uid: "u".into(),
            ip: "10.0.0.1".into(),
            labels: BTreeMap::new(),
            annotations: config
                .map(|c| ("proxy.istio.io/config".to_string(), c.to_string()))
                .into_iter()
                .collect(),
            meshed,
            phase: "Running".into(),
            ready: true,
            restarts: 0,
            started_at_secs: 0,
        }
    }

    #[test]
    fn admin_port_comes_from_the_proxy_config_annotation() {
        assert_eq!(admin_port(&pod(true, None)), Some(15000));
        assert_eq!(
            admin_port(&pod(true, Some("proxyAdminPort: 15123\n"))),
            Some(15123)
        );
        assert_eq!(
            admin_port(&pod(true, Some(r#"{"proxyAdminPort": 15124}"#))),
            Some(15124)
        );
        assert_eq!(
            admin_port(&pod(true, Some("holdApplicationUntilProxyStarts: true"))),
            Some(15000)
        );
        assert_eq!(admin_port(&pod(false, None)), None);
    }
}
