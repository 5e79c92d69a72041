//! `AdminConnection`: one long-lived kube-rs port-forward to a pod's Envoy admin port, with
//! HTTP/1.1 keep-alive over the forwarded stream, so a poll costs one request and no new
//! WebSocket. A port-forward carries exactly one TCP connection per port, so requests on one
//! connection are sequential (`&mut self`). A broken forward is reopened on the next request;
//! a stale keep-alive connection (closed while idle) is retried once on a fresh forward.
//!
//! Only [`AdminPath`] requests, only GET: this type has no way to send anything else.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, Portforwarder};
use thiserror::Error;
use tokio::task::JoinHandle;

use super::admin_path::AdminPath;
use super::error::{ApiAction, api_status, chain};

/// The lifecycle of one pod's port-forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardState {
    /// Not open yet, or being (re)opened.
    Connecting,
    /// Open; requests go over a kept-alive HTTP/1.1 connection.
    Ready,
    /// Closed or failed; the next request reopens it.
    Broken { reason: String },
    /// RBAC denied the port-forward (`create pods/portforward in prod`).
    Forbidden { reason: String },
}

/// Per-request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminLimits {
    /// Opening the forward, or one request and its whole body, must finish within this.
    pub request_timeout: Duration,
    /// Larger bodies are an error (and the connection is dropped).
    pub max_body_bytes: usize,
}

impl Default for AdminLimits {
    /// 5 s and 64 MiB (a 1,000-cluster unfiltered `/stats` is about 10 MB).
    fn default() -> Self {
        AdminLimits {
            request_timeout: Duration::from_secs(5),
            max_body_bytes: 64 << 20,
        }
    }
}

/// Why an admin request failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AdminError {
    #[error("access denied: cannot {0} (RBAC)")]
    Forbidden(String),
    #[error("port-forward to {pod} port {port} failed: {reason}")]
    Forward {
        pod: String,
        port: u16,
        reason: String,
    },
    #[error("{path}: no complete answer within {}s", .after.as_secs_f64())]
    Timeout { path: String, after: Duration },
    #[error("{path}: HTTP {code}")]
    Status { path: String, code: u16 },
    #[error("{path}: response larger than {limit} bytes")]
    TooLarge { path: String, limit: usize },
    #[error("{path}: {reason}")]
    Transport { path: String, reason: String },
}

type ErrorMessage = Pin<Box<dyn Future<Output = Option<String>> + Send + Sync>>;

/// An open forward: the HTTP sender, the hyper connection task and kube's forwarder.
struct LiveForward {
    sender: Option<SendRequest<Empty<Bytes>>>,
    conn: JoinHandle<()>,
    forwarder: Portforwarder,
    error: Option<ErrorMessage>,
}

impl Drop for LiveForward {
    fn drop(&mut self) {
        self.conn.abort();
        self.forwarder.abort();
    }
}

/// The Envoy admin of one pod, reached through a port-forward.
pub struct AdminConnection {
    pods: Api<Pod>,
    pod: String,
    namespace: String,
    port: u16,
    limits: AdminLimits,
    live: Option<LiveForward>,
    state: ForwardState,
    generation: u64,
}

impl AdminConnection {
    /// A connection to `pod`'s admin `port`; nothing is opened until the first request.
    pub fn new(client: Client, namespace: &str, pod: &str, port: u16, limits: AdminLimits) -> Self {
        AdminConnection {
            pods: Api::namespaced(client, namespace),
            pod: pod.to_string(),
            namespace: namespace.to_string(),
            port,
            limits,
            live: None,
            state: ForwardState::Connecting,
            generation: 0,
        }
    }

    pub fn state(&self) -> &ForwardState {
        &self.state
    }

    /// How many forwards have been opened; a change means "new connection" (read
    /// `/server_info` again, the proxy may have restarted).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// GETs `path` and returns the whole body of a 2xx answer.
    pub async fn get(&mut self, path: &AdminPath) -> Result<Bytes, AdminError> {
        let fresh = self.ensure_forward().await?;
        match self.send(path).await {
            Err(AdminError::Transport { .. }) if !fresh => {
                self.ensure_forward().await?;
                self.send(path).await
            }
            other => other,
        }
    }

    /// Ends the HTTP connection first (Envoy sees a clean close, not a reset), then drops the
    /// forward. A later request opens a new one.
    pub async fn close(&mut self) {
        self.state = ForwardState::Connecting;
        if let Some(mut live) = self.live.take() {
            live.sender = None;
            let _ = tokio::time::timeout(Duration::from_secs(1), &mut live.conn).await;
        }
    }

    /// Opens the forward when there is none or it closed; `true` when a new one was opened.
    async fn ensure_forward(&mut self) -> Result<bool, AdminError> {
        let open = self.live.as_ref().and_then(|l| l.sender.as_ref());
        if open.is_some_and(|s| !s.is_closed()) {
            return Ok(false);
        }
        self.live = None;
        self.state = ForwardState::Connecting;
        match self.open_forward().await {
            Ok(live) => {
                self.live = Some(live);
                self.state = ForwardState::Ready;
                self.generation += 1;
                Ok(true)
            }
            Err(err) => {
                self.state = match &err {
                    AdminError::Forbidden(what) => ForwardState::Forbidden {
                        reason: what.clone(),
                    },
                    other => ForwardState::Broken {
                        reason: other.to_string(),
                    },
                };
                Err(err)
            }
        }
    }

    async fn open_forward(&self) -> Result<LiveForward, AdminError> {
        let fail = |reason: String| AdminError::Forward {
            pod: self.pod.clone(),
            port: self.port,
            reason,
        };
        let ports = [self.port];
        let opening = self.pods.portforward(&self.pod, &ports);
        let mut forwarder = match tokio::time::timeout(self.limits.request_timeout, opening).await {
            Err(_) => return Err(fail("the API server did not upgrade in time".into())),
            Ok(Err(e)) if api_status(&e) == Some(403) => {
                let action = ApiAction::new("create", "pods/portforward", Some(&self.namespace));
                return Err(AdminError::Forbidden(action.to_string()));
            }
            Ok(Err(kube::Error::Api(status))) => {
                return Err(fail(format!("HTTP {}: {}", status.code, status.message)));
            }
            Ok(Err(e)) => return Err(fail(chain(&e))),
            Ok(Ok(f)) => f,
        };
        let stream = forwarder
            .take_stream(self.port)
            .ok_or_else(|| fail("no stream for the port".into()))?;
        let error: Option<ErrorMessage> = forwarder
            .take_error(self.port)
            .map(|f| Box::pin(f) as ErrorMessage);
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| fail(chain(&e)))?;
        let conn = tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(LiveForward {
            sender: Some(sender),
            conn,
            forwarder,
            error,
        })
    }

    /// One request on the open forward. A failure other than an HTTP status breaks it.
    async fn send(&mut self, path: &AdminPath) -> Result<Bytes, AdminError> {
        let (uri, label) = (path.to_uri(), path.path());
        let (timeout, limit) = (self.limits.request_timeout, self.limits.max_body_bytes);
        let result = match self.live.as_mut().and_then(|l| l.sender.as_mut()) {
            None => Err(AdminError::Transport {
                path: label.to_string(),
                reason: "no open forward".into(),
            }),
            Some(sender) => {
                match tokio::time::timeout(timeout, request(sender, &uri, label, limit)).await {
                    Ok(result) => result,
                    Err(_) => Err(AdminError::Timeout {
                        path: label.to_string(),
                        after: timeout,
                    }),
                }
            }
        };
        match result {
            Err(AdminError::Status { .. }) | Ok(_) => result,
            Err(err) => Err(self.break_forward(err).await),
        }
    }

    /// Drops the forward after `err`, adding the pod-side reason when kube delivered one
    /// (`error forwarding port 15000 to pod …: connection refused`).
    async fn break_forward(&mut self, err: AdminError) -> AdminError {
        let mut err = err;
        if let Some(mut live) = self.live.take()
            && let Some(message) = live.error.take()
            && let Ok(Some(text)) = tokio::time::timeout(Duration::from_millis(50), message).await
            && let AdminError::Transport { reason, .. } = &mut err
        {
            *reason = format!("{reason} ({text})");
        }
        self.state = ForwardState::Broken {
            reason: err.to_string(),
        };
        err
    }
}

/// GET `uri` on an HTTP/1.1 connection and read at most `limit` bytes of body; errors name
/// the endpoint by `label` (the path without the long filter query).
async fn request(
    sender: &mut SendRequest<Empty<Bytes>>,
    uri: &str,
    label: &str,
    limit: usize,
) -> Result<Bytes, AdminError> {
    let transport = |reason: String| AdminError::Transport {
        path: label.to_string(),
        reason,
    };
    sender.ready().await.map_err(|e| transport(chain(&e)))?;
    let req = http::Request::get(uri)
        .header(http::header::HOST, "localhost")
        .body(Empty::<Bytes>::new())
        .map_err(|e| transport(e.to_string()))?;
    let response = sender
        .send_request(req)
        .await
        .map_err(|e| transport(chain(&e)))?;
    let code = response.status();
    let body = Limited::new(response.into_body(), limit).collect().await;
    let body = match body {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(AdminError::TooLarge {
                path: label.to_string(),
                limit,
            });
        }
        Err(e) => return Err(transport(chain(&*e))),
    };
    match code.is_success() {
        true => Ok(body),
        false => Err(AdminError::Status {
            path: label.to_string(),
            code: code.as_u16(),
        }),
    }
}
