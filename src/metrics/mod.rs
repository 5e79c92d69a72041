//! Metrics history: per (pod, cluster, stat) ring buffers fed by scrapes, counter deltas and
//! rates with restart and reset detection, windows, retention pruning, and a frozen view for
//! the pause key.
//!
//! Pure: no tokio, kube or clock — time arrives as a [`Timestamp`] argument and nothing here
//! prints or panics on input. Data flow: `app::update` calls [`MetricsStore::ingest`] with each
//! parsed [`StatsSet`](crate::envoy::StatsSet) and [`MetricsStore::prune`] on every tick; views
//! and `model` read deltas, rates and series. To track another stat, add a [`StatSpec`] to the
//! [`TrackedStats`] passed to [`MetricsStore::new`]; to feed another source (e.g. `/clusters`
//! host counters), implement [`StatSource`] for it and call [`MetricsStore::ingest_from`].

mod delta;
mod query;
mod ring;
mod series;
mod store;
mod timestamp;
mod tracked;

pub use delta::Delta;
pub use query::{ClusterWindow, DeltaSum, RateSum};
pub use store::{DEFAULT_RETENTION, FrozenStore, IngestOutcome, MetricsStore};
pub use timestamp::Timestamp;
pub use tracked::{QuantilePeriod, Reading, StatKind, StatSource, StatSpec, TrackedStats};

#[cfg(test)]
mod tests;
