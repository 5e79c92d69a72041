//! The simulated Kubernetes API server (DESIGN.md §5): plain HTTP on loopback with a bearer
//! token, serving discovery, namespaces, pods, services, DestinationRules and
//! VirtualServices (list, get, watch, kubectl Tables), the `pods/portforward` WebSocket
//! exactly as kube-rs speaks it, and the `pods/proxy` subresource — both backed by the Envoy
//! admin emulator. `kubectl` and kube-rs talk to it through [`write_kubeconfig`].
//! The real `kubectl` sends no credentials to an `http://` server, so it needs
//! [`SimServerConfig::allow_anonymous`]; kube-rs sends the token either way.
//!
//! It must not use the client's code (`crate::kube`, `crate::collect`, `crate::envoy`).
//! Adding a resource kind: `kind.rs`, `objects.rs`, `table.rs`; routes below.

mod admin;
mod clock;
mod discovery;
mod kind;
mod kubeconfig;
mod objects;
mod portforward;
mod resource;
mod selector;
mod state;
mod status;
mod table;
mod watch;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get};
use tokio::sync::watch as signal;
use tokio::task::JoinHandle;

pub use clock::ClockMode;
pub use kubeconfig::{CONTEXT, USER, write_kubeconfig};

use crate::sim::traffic::Simulation;
use state::{Auth, Controls, ServerState, User};

/// The simulation as the server shares it with its owner.
pub type SharedSimulation = Arc<Mutex<Simulation>>;

/// Injected failures; all off by default. They can be changed while the server runs
/// ([`RunningServer::set_faults`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Delay (real milliseconds) before every Envoy admin answer.
    pub slow_admin_ms: u64,
    /// Cut every Envoy admin body to half its bytes.
    pub truncate_admin: bool,
    /// Answer resource lists, gets and watches with 500 (discovery and pod subresources
    /// keep working).
    pub api_500: bool,
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct SimServerConfig {
    /// Must be a loopback address; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The bearer token clients must send.
    pub token: String,
    /// Serve requests that carry no `Authorization` header as `system:anonymous` (the API
    /// server's `--anonymous-auth` with permissive RBAC). A wrong token is still 401. Needed
    /// for the real `kubectl`: client-go sends no credentials to an `http://` server
    /// (kubernetes/kubectl#744).
    pub allow_anonymous: bool,
    /// Refuse `pods/portforward` with 403, as RBAC would.
    pub deny_portforward: bool,
    /// Injected failures at start (see [`RunningServer::set_faults`]).
    pub faults: Faults,
    /// Real-time driver (default, speed 1) or manual advancing by the owner.
    pub clock: ClockMode,
}

impl Default for SimServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            token: "meshtop-sim-token".to_string(),
            allow_anonymous: false,
            deny_portforward: false,
            faults: Faults::default(),
            clock: ClockMode::Realtime { speed: 1.0 },
        }
    }
}

/// A started server; dropping it stops it as well.
pub struct RunningServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    stop: signal::Sender<bool>,
    server: Option<JoinHandle<io::Result<()>>>,
    clock: Option<JoinHandle<()>>,
}

/// Binds, spawns the HTTP server and the clock driver on the current tokio runtime.
pub async fn start(sim: SharedSimulation, cfg: SimServerConfig) -> io::Result<RunningServer> {
    if !cfg.listen.ip().is_loopback() {
        let message = format!(
            "the simulated API server only listens on loopback, not {}",
            cfg.listen
        );
        return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
    }
    let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = signal::channel(false);
    let controls = Controls {
        deny_portforward: cfg.deny_portforward,
        faults: cfg.faults,
    };
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let wall = i64::try_from(wall).unwrap_or(0);
    let auth = Auth {
        token: cfg.token,
        allow_anonymous: cfg.allow_anonymous,
    };
    let state = Arc::new(ServerState::new(sim, auth, addr, controls, wall, stopped));
    let app = router(state.clone());
    let shutdown_state = state.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown_state.stopped().await })
            .await
    });
    let clock = clock::spawn_driver(cfg.clock, state.clone());
    Ok(RunningServer {
        addr,
        state,
        stop,
        server: Some(server),
        clock,
    })
}

impl RunningServer {
    /// The bound address (the real port when `listen` had port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The simulation the server serves.
    pub fn simulation(&self) -> &SharedSimulation {
        &self.state.sim
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        self.state.set_controls(|c| c.faults = faults);
    }

    /// Turns the simulated RBAC denial of `pods/portforward` on or off.
    pub fn set_deny_portforward(&self, deny: bool) {
        self.state.set_controls(|c| c.deny_portforward = deny);
    }

    /// Stops accepting, ends watches and forwards, and waits (at most 5 s) for open
    /// connections to finish.
    pub async fn shutdown(mut self) -> io::Result<()> {
        let _ = self.stop.send(true);
        if let Some(clock) = self.clock.take() {
            clock.abort();
        }
        let Some(mut server) = self.server.take() else {
            return Ok(());
        };
        match tokio::time::timeout(Duration::from_secs(5), &mut server).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(io::Error::other(join)),
            Err(_) => {
                server.abort();
                Ok(())
            }
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.clock.take().inspect(JoinHandle::abort);
        self.server.take().inspect(JoinHandle::abort);
    }
}

/// Every route; resource routes share one handler that reads the captures by name.
fn router(state: Arc<ServerState>) -> Router {
    const ISTIO: &str = "/apis/networking.istio.io/{version}";
    Router::new()
        .route("/version", get(discovery::version))
        .route("/api", get(discovery::core_versions))
        .route("/apis", get(discovery::group_list))
        .route("/api/v1", get(discovery::core_resources))
        .route(
            "/apis/networking.istio.io",
            get(discovery::istio_group_document),
        )
        .route(ISTIO, get(discovery::istio_resources))
        .route("/api/v1/{resource}", get(resource::serve))
        .route("/api/v1/namespaces/{ns}", get(resource::serve))
        .route("/api/v1/namespaces/{ns}/{resource}", get(resource::serve))
        .route(
            "/api/v1/namespaces/{ns}/{resource}/{name}",
            get(resource::serve),
        )
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}/portforward",
            get(portforward::handle),
        )
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}/proxy",
            any(admin::proxy),
        )
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}/proxy/{*path}",
            any(admin::proxy),
        )
        .route(&format!("{ISTIO}/{{resource}}"), get(resource::serve))
        .route(
            &format!("{ISTIO}/namespaces/{{ns}}/{{resource}}"),
            get(resource::serve),
        )
        .route(
            &format!("{ISTIO}/namespaces/{{ns}}/{{resource}}/{{name}}"),
            get(resource::serve),
        )
        .fallback(|| async { status::unknown_path() })
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .with_state(state)
}

/// Authenticates the request (401 for a wrong or, unless anonymous access is allowed,
/// missing token) and records who it is for RBAC messages.
async fn require_token(
    State(state): State<Arc<ServerState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .map(|v| v.to_str().ok());
    let user = match header {
        None if state.auth.allow_anonymous => User::Anonymous,
        Some(Some(value)) if value.strip_prefix("Bearer ") == Some(state.auth.token.as_str()) => {
            User::Meshtop
        }
        _ => return status::unauthorized(),
    };
    request.extensions_mut().insert(user);
    next.run(request).await
}
