//! Envoy admin output: parsers for `/stats` (text, JSON, Prometheus), `/clusters` (text,
//! JSON), `/config_dump` and `/server_info`; the cluster-name model; the stat catalog.
//!
//! Pure: no tokio, kube, reqwest, ratatui or clock. Every parser takes the raw capture and
//! returns typed values or a [`ParseError`] with a position; damaged lines become
//! [`LineIssue`]s and parsing continues. To support a new admin output, add one file with a
//! `parse_*` function and teach [`detect`] to recognise it.

pub mod capture;
pub mod catalog;
pub mod cluster_key;
pub mod clusters;
pub mod config_dump;
pub mod error;
pub mod istio_stat;
pub mod prometheus;
pub mod server_info;
pub mod stat;
pub mod stat_name;
pub mod stat_table;
pub mod stats_json;
pub mod stats_reparse;
pub mod stats_set;
pub mod stats_text;

pub use cluster_key::{ClusterKey, ClusterKind, Direction, IstioCluster, SpecialCluster};
pub use error::{LineIssue, ParseError, Position};
pub use stat::{Bucket, Histogram, Quantile, StatValue};
pub use stats_reparse::StatsReparser;
pub use stats_set::{ClusterStats, StatTable, StatsFormat, StatsSet};
