//! Collection: scheduling the per-pod pollers that read each sidecar's Envoy admin through
//! [`crate::kube::AdminConnection`], parsing in the poller task with the `envoy` parsers, and
//! sending typed [`CollectorMsg`]s on a channel to the single writer. Failures are data
//! (`CollectionState::Stale`/`Failed`/`Forbidden`), never a crash.
//!
//! I/O module (tokio, kube). It must not touch app or UI state: the only way out is the
//! channel. [`collect_snapshot`] is the headless path (collect a window, build the snapshot).
//! To read another endpoint per poll, add it to `poller.rs`'s `poll_once` and a variant to
//! [`CollectorMsg`].

pub mod backoff;
mod failure;
pub mod filter;
pub mod message;
pub mod poller;
pub mod snapshot;

pub use backoff::Backoff;
pub use filter::{default_stats_filter, stats_filter};
pub use message::{CollectorMsg, MonotonicClock, stats_collection};
pub use poller::{PollerConfig, PollerSet};
pub use snapshot::{CollectError, CollectOptions, collect_snapshot};
