//! `MeshSnapshot`: the immutable value a frame, a snapshot file and `meshtop check` are made
//! from — per upstream cluster, aggregated over client pods, the window deltas and rates of the
//! key counters, latency, endpoint health, the resolved Istio configuration beside the
//! Envoy-effective one, and the collection state of every source.
//!
//! Pure: built from the metrics store, parsed captures and Istio objects; no I/O, no clock
//! (time is passed in). To show a new fact, add a field to the snapshot types and fill it in
//! `build`; everything that renders (TUI, export, JSON) reads only this value.

pub mod envoy_view;
pub mod source;

pub use source::{CollectionState, SourceState, StatsCollection};
pub mod build;
pub mod collection;
pub mod config_summary;
pub mod requests;
pub mod snapshot;
pub mod stat_map;

pub use build::{SnapshotInput, build_snapshot, build_snapshot_visiting};
pub use collection::{Collection, stats_collection};
pub use config_summary::{ConfigMismatch, ConfigSummary, summarize};
pub use snapshot::{
    ClusterSnapshot, CounterWindow, GaugeView, MeshSnapshot, PodClusterView, ProxyView,
    RequestWindow, ServerSide, StatMap, StatName, SubsetPolicy,
};
