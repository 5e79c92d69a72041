//! Provenance of every resolved value: which object and field set it, or that it is Istio's
//! default. The hint panel quotes these (`DestinationRule prod/inventory
//! trafficPolicy.connectionPool.tcp.connectTimeout`), so people can go and fix the right field.

use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::duration::millis;

/// The Istio object kinds meshtop reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Kind {
    DestinationRule,
    VirtualService,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::DestinationRule => "DestinationRule",
            Kind::VirtualService => "VirtualService",
        })
    }
}

/// `DestinationRule prod/reviews`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ObjectRef {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// Set in an object: `field` is the path inside `spec`, with subsets and ports named, e.g.
    /// `subsets[v1].trafficPolicy.portLevelSettings[8080].connectionPool.tcp.connectTimeout`.
    Configured {
        kind: Kind,
        namespace: String,
        name: String,
        field: String,
    },
    /// Not configured: Istio's documented default applies.
    IstioDefault,
}

impl Source {
    /// A configured value of `object` at `field`.
    pub fn configured(object: &ObjectRef, field: impl Into<String>) -> Source {
        Source::Configured {
            kind: object.kind,
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            field: field.into(),
        }
    }

    pub fn is_default(&self) -> bool {
        matches!(self, Source::IstioDefault)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Configured {
                kind,
                namespace,
                name,
                field,
            } => write!(f, "{kind} {namespace}/{name} {field}"),
            Source::IstioDefault => f.write_str("Istio default"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub fn default_value(value: T) -> Self {
        Sourced {
            value,
            source: Source::IstioDefault,
        }
    }

    pub fn configured(value: T, object: &ObjectRef, field: impl Into<String>) -> Self {
        Sourced {
            value,
            source: Source::configured(object, field),
        }
    }
}

/// A circuit-breaker style limit. Istio's "unset" default for connection and request limits is
/// 2^32-1, and `maxRequestsPerConnection: 0` means no limit: both are `Unlimited`.
/// Serialises as the number, or the string `"unlimited"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Unlimited,
    At(u32),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Unlimited => f.write_str("unlimited"),
            Limit::At(n) => write!(f, "{n}"),
        }
    }
}

impl Serialize for Limit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Limit::Unlimited => s.serialize_str("unlimited"),
            Limit::At(n) => s.serialize_u32(*n),
        }
    }
}

/// Serde helpers writing `Sourced` durations as `{value: <ms>, source}` (`null` for `None`).
pub mod sourced_ms {
    use super::*;

    #[derive(Serialize)]
    struct Millis<'a> {
        value: Option<u64>,
        source: &'a Source,
    }

    pub fn required<S: Serializer>(v: &Sourced<Duration>, s: S) -> Result<S::Ok, S::Error> {
        Millis {
            value: Some(millis(v.value)),
            source: &v.source,
        }
        .serialize(s)
    }

    pub fn optional<S: Serializer>(v: &Sourced<Option<Duration>>, s: S) -> Result<S::Ok, S::Error> {
        Millis {
            value: v.value.map(millis),
            source: &v.source,
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_object_and_field() {
        let dr = ObjectRef {
            kind: Kind::DestinationRule,
            namespace: "prod".into(),
            name: "inventory".into(),
        };
        let s = Source::configured(&dr, "trafficPolicy.connectionPool.tcp.connectTimeout");
        assert_eq!(
            s.to_string(),
            "DestinationRule prod/inventory trafficPolicy.connectionPool.tcp.connectTimeout"
        );
        assert_eq!(Source::IstioDefault.to_string(), "Istio default");
        assert_eq!(dr.to_string(), "DestinationRule prod/inventory");
    }

    #[test]
    fn serialised_forms() {
        #[derive(Serialize)]
        struct Probe {
            #[serde(serialize_with = "sourced_ms::required")]
            t: Sourced<Duration>,
            l: Limit,
            u: Limit,
        }
        let json = serde_json::to_value(Probe {
            t: Sourced::default_value(Duration::from_secs(10)),
            l: Limit::At(5),
            u: Limit::Unlimited,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"t": {"value": 10000, "source": {"type": "istio_default"}},
                "l": 5, "u": "unlimited"})
        );
    }
}
