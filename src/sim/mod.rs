//! The simulated cluster behind `meshtop sim` and `meshtop demo`: a faithful stand-in for a
//! Kubernetes API with Istio sidecars, so the real client path can be exercised on a machine
//! without Kubernetes or Envoy (DESIGN.md §5).
//!
//! It must not share code with the client (`kube/`, `collect/`, the `envoy/` parsers): it
//! writes Envoy's formats with its own writer, and tests hold that output against real
//! captures and against the client's parsers. `model` is the data; scenarios and the traffic
//! model fill it; the Envoy emulator renders it.

mod call;
mod cluster_render;
mod cluster_state;
mod completion;
mod counter;
pub mod envoy;
pub mod histogram;
mod lifecycle;
pub mod mesh_config;
pub mod model;
mod outlier;
mod proxy_state;
pub mod rng;
mod runtime;
pub mod scenario;
mod scenario_name;
pub mod server;
mod sidecar_config;
pub mod traffic;
pub mod world;
