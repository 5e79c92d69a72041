//! The resource kinds the simulated API server serves, with the names discovery and URLs use.
//!
//! Adding a kind: one variant here, its discovery entry follows from [`ResourceKind::discovery`],
//! its JSON rendering goes in `objects.rs` and its table columns in `table.rs`.

use serde_json::{Value, json};

/// The Istio API group and the versions it is served under.
pub const ISTIO_GROUP: &str = "networking.istio.io";
/// Istio networking versions served; the first is preferred (Istio ≥ 1.22 serves `v1`).
pub const ISTIO_VERSIONS: [&str; 2] = ["v1", "v1beta1"];

/// One listable resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Namespace,
    Pod,
    Service,
    DestinationRule,
    VirtualService,
}

impl ResourceKind {
    /// The core (`/api/v1`) kinds, in discovery order.
    pub const CORE: [ResourceKind; 3] = [Self::Pod, Self::Service, Self::Namespace];
    /// The `networking.istio.io` kinds, in discovery order.
    pub const ISTIO: [ResourceKind; 2] = [Self::DestinationRule, Self::VirtualService];

    /// Finds a core kind by its URL plural (`pods`).
    pub fn core_from_plural(plural: &str) -> Option<Self> {
        Self::CORE.into_iter().find(|k| k.plural() == plural)
    }

    /// Finds an Istio kind by its URL plural (`destinationrules`).
    pub fn istio_from_plural(plural: &str) -> Option<Self> {
        Self::ISTIO.into_iter().find(|k| k.plural() == plural)
    }

    /// The URL plural: `pods`, `destinationrules`.
    pub fn plural(self) -> &'static str {
        match self {
            Self::Namespace => "namespaces",
            Self::Pod => "pods",
            Self::Service => "services",
            Self::DestinationRule => "destinationrules",
            Self::VirtualService => "virtualservices",
        }
    }

    /// The `kind` field: `Pod`, `DestinationRule`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Namespace => "Namespace",
            Self::Pod => "Pod",
            Self::Service => "Service",
            Self::DestinationRule => "DestinationRule",
            Self::VirtualService => "VirtualService",
        }
    }

    /// Whether objects live in a namespace.
    pub fn namespaced(self) -> bool {
        self != Self::Namespace
    }

    /// kubectl's short names (`kubectl get dr`).
    fn short_names(self) -> &'static [&'static str] {
        match self {
            Self::Namespace => &["ns"],
            Self::Pod => &["po"],
            Self::Service => &["svc"],
            Self::DestinationRule => &["dr"],
            Self::VirtualService => &["vs"],
        }
    }

    /// The `APIResource` entry of an `APIResourceList`.
    pub fn discovery(self) -> Value {
        let singular = self.kind().to_ascii_lowercase();
        let categories: &[&str] = match self {
            Self::Pod | Self::Service => &["all"],
            Self::Namespace => &[],
            Self::DestinationRule | Self::VirtualService => &["istio-io", "networking-istio-io"],
        };
        json!({
            "name": self.plural(),
            "singularName": singular,
            "namespaced": self.namespaced(),
            "kind": self.kind(),
            "verbs": ["get", "list", "watch"],
            "shortNames": self.short_names(),
            "categories": categories,
        })
    }
}

/// The `apiVersion` of objects of `kind` served under `version` (ignored for core kinds).
pub fn api_version(kind: ResourceKind, version: &str) -> String {
    match kind {
        ResourceKind::DestinationRule | ResourceKind::VirtualService => {
            format!("{ISTIO_GROUP}/{version}")
        }
        _ => "v1".to_string(),
    }
}
