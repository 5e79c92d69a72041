//! The Kubernetes client side: connecting like `kubectl` (kubeconfig, context, namespace,
//! in-cluster), discovering meshed pods and the Istio objects, and reading each sidecar's Envoy
//! admin through one long-lived port-forward.
//!
//! I/O module: uses tokio, kube, hyper. It hands out parsed, typed values and never touches app
//! state; errors are [`ClientError`]/[`AdminError`] values the collector turns into data. Inside
//! this module `kube::…` is the kube crate (the crate root is the only place where the name
//! would mean this module). To read another admin endpoint, add an [`AdminPath`] variant.

pub mod admin_path;
pub mod connect;
pub mod discovery;
pub mod error;
pub mod forward;
pub mod istio_watch;
pub mod watch;

pub use admin_path::AdminPath;
pub use connect::{
    API_READ_TIMEOUT, ClientOptions, ResolvedTarget, choose_context, connect, context_names,
};
pub use discovery::{
    DEFAULT_ADMIN_PORT, IstioObjects, MeshPod, admin_port, list_istio_objects, list_mesh_pods,
    list_namespaces, mesh_pod,
};
pub use error::{ApiAction, ClientError, classify};
pub use forward::{AdminConnection, AdminError, AdminLimits, ForwardState};
pub use istio_watch::{ISTIO_REPROBE, IstioEvent, watch_istio_objects};
pub use watch::{PodEvent, WATCH_TIMEOUT_SECS, watch_mesh_pods};
