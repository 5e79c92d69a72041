//! Collection: scheduling the per-pod pollers that read each sidecar's Envoy admin through
//! [`crate::kube::AdminConnection`], parsing in the poller task with the `envoy` parsers, and
//! sending typed [`CollectorMsg`]s on a channel to the single writer. Failures are data
//! (`CollectionState::Stale`/`Failed`/`Forbidden`), never a crash.
//!
//! I/O module (tokio, kube). It must not touch app or UI state: the only way out is the
//! channel. [`collect_snapshot`] is the headless path (collect a window, build the snapshot).
//! Live sessions follow discovery: `kube::watch_mesh_pods` events update the desired pod set,
//! [`plan_pollers`] (pure) says which pollers to start, stop or restart, and
//! [`PollerSet::apply`] does it. To read another endpoint per poll, add it to
//! `pod_poller.rs`'s `poll_once` and a variant to [`CollectorMsg`].

pub mod backoff;
mod failure;
pub mod filter;
pub mod message;
pub mod plan;
mod pod_poller;
pub mod poller;
pub mod snapshot;

pub use backoff::Backoff;
pub use filter::{default_stats_filter, stats_filter};
pub use message::{CollectorMsg, MonotonicClock, stats_collection};
pub use plan::{PodIdentity, PollerPlan, apply_pod_event, plan_pollers, poller_key};
pub use poller::{CLUSTERS_KEEP_BYTES, PollerConfig, PollerSet};
pub use snapshot::{CollectError, CollectOptions, collect_snapshot, collect_with_config};
