//! meshtop — an on-call terminal dashboard for Envoy/Istio service meshes.
//!
//! The crate is organised as in `docs/ARCHITECTURE.md`: pure modules (`envoy`) parse and
//! model; `inspect` is the postmortem command over saved captures; `cli` holds the flags.

pub mod app;
mod bytes;
pub mod cli;
pub mod collect;
pub mod command;
pub mod config;
pub mod dashboard;
pub mod diagnosis;
pub mod envoy;
pub mod export;
pub mod inspect;
pub mod istio;
pub mod kube;
pub mod metrics;
pub mod model;
pub mod runtime;
pub mod sim;
pub mod ui;
