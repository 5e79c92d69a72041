//! Istio configuration: meshtop's own serde types for DestinationRule and VirtualService
//! (`networking.istio.io` v1, v1beta1, v1alpha3), loading them from YAML files or Kubernetes
//! API JSON, and resolving the effective policy of one Envoy cluster
//! (`outbound|port|subset|host`) as seen from a client namespace — host matching, `exportTo`,
//! namespace precedence, subset and port-level merging, routes, and Istio's defaults, each value
//! tagged with the object and field it came from (or "Istio default").
//!
//! Pure: no tokio, kube, k8s-openapi, HTTP or terminal crates, no clock. `kube/` fetches objects
//! (e.g. as `DynamicObject`) and passes them to [`from_json_objects`]; nothing here derives
//! `CustomResource`. Loading never fails: problems become [`ConfigIssue`]s.
//!
//! Extending: a new spec field goes into `destination_rule.rs`/`virtual_service.rs` (serde
//! `default`, unknown fields stay ignored); a new resolved value gets a `Sourced` field in
//! `policy.rs` (with its Istio default) or `route.rs`. A new kind (PeerAuthentication, Sidecar)
//! gets its own spec file, a `Kind` variant and a branch in `load.rs`'s dispatch.

pub mod destination_rule;
pub mod duration;
mod field_error;
pub mod host;
mod issue;
pub mod load;
mod merge;
mod node;
pub mod policy;
pub mod resolve;
pub mod route;
mod select;
pub mod source;
pub mod subset_use;
pub mod virtual_service;

pub use destination_rule::DestinationRule;
pub use load::{ConfigIssue, IssueKind, IstioConfig, Object, from_json_objects, load_yaml};
pub use policy::{ResolvedOutlier, ResolvedPolicy};
pub use resolve::{ResolveOptions, resolve};
pub use route::{DEFAULT_RETRY_ON, ResolvedRetries, ResolvedRoute, RouteProtocol};
pub use source::{Kind, Limit, ObjectRef, Source, Sourced};
pub use subset_use::{SubsetUse, find_subset_policies};
pub use virtual_service::VirtualService;
