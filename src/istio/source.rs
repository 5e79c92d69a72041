//! Provenance of every resolved value: which object and field set it, or that it is Istio's
//! default. The hint panel quotes these (`DestinationRule prod/inventory
//! trafficPolicy.connectionPool.tcp.connectTimeout`), so people can go and fix the right field.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::duration::millis;

/// The Istio object kinds meshtop reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
/// Serialises as the number, or the string `"unlimited"`, and reads back the same forms.
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

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LimitVisitor)
    }
}

/// Reads a [`Limit`]: a number that fits in `u32`, or the string `"unlimited"`.
struct LimitVisitor;

impl Visitor<'_> for LimitVisitor {
    type Value = Limit;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a limit: an integer from 0 to 4294967295, or \"unlimited\"")
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Limit, E> {
        u32::try_from(n)
            .map(Limit::At)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Limit, E> {
        u32::try_from(n)
            .map(Limit::At)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Limit, E> {
        match text {
            "unlimited" => Ok(Limit::Unlimited),
            _ => Err(E::invalid_value(de::Unexpected::Str(text), &self)),
        }
    }
}

/// Serde helpers writing `Sourced` durations as `{value: <ms>, source}` (`null` for `None`)
/// and reading that form back (sub-millisecond parts are not kept).
pub mod sourced_ms {
    use super::*;

    #[derive(Serialize)]
    struct Millis<'a> {
        value: Option<u64>,
        source: &'a Source,
    }

    /// The serialised form, as read back.
    #[derive(Deserialize)]
    struct SourcedMillis {
        value: Option<u64>,
        source: Source,
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

    /// Reads `{value: <ms>, source}`; a `null` value is an error.
    pub fn deserialize_required<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Sourced<Duration>, D::Error> {
        let m = SourcedMillis::deserialize(d)?;
        let ms = m
            .value
            .ok_or_else(|| de::Error::custom("value: expected milliseconds, found null"))?;
        Ok(Sourced {
            value: Duration::from_millis(ms),
            source: m.source,
        })
    }

    /// Reads `{value: <ms or null>, source}`.
    pub fn deserialize_optional<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Sourced<Option<Duration>>, D::Error> {
        let m = SourcedMillis::deserialize(d)?;
        Ok(Sourced {
            value: m.value.map(Duration::from_millis),
            source: m.source,
        })
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

    #[test]
    fn limits_read_back_numbers_and_unlimited() {
        let read = |text: &str| serde_json::from_str::<Limit>(text);
        assert_eq!(read("5").unwrap(), Limit::At(5));
        assert_eq!(read("0").unwrap(), Limit::At(0));
        assert_eq!(read("4294967295").unwrap(), Limit::At(u32::MAX));
        assert_eq!(read("\"unlimited\"").unwrap(), Limit::Unlimited);
        for bad in [
            "4294967296",
            "-1",
            "1.5",
            "\"5\"",
            "\"Unlimited\"",
            "null",
            "true",
            "[]",
        ] {
            let err = read(bad).unwrap_err().to_string();
            assert!(err.contains("a limit"), "{bad}: {err}");
        }
        for limit in [Limit::At(7), Limit::Unlimited] {
            let json = serde_json::to_string(&limit).unwrap();
            assert_eq!(read(&json).unwrap(), limit);
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Durations {
        #[serde(
            serialize_with = "sourced_ms::required",
            deserialize_with = "sourced_ms::deserialize_required"
        )]
        t: Sourced<Duration>,
        #[serde(
            serialize_with = "sourced_ms::optional",
            deserialize_with = "sourced_ms::deserialize_optional"
        )]
        o: Sourced<Option<Duration>>,
    }

    #[test]
    fn sourced_durations_read_back_milliseconds() {
        let vs = ObjectRef {
            kind: Kind::VirtualService,
            namespace: "prod".into(),
            name: "inventory".into(),
        };
        let configured = Durations {
            t: Sourced::configured(Duration::from_millis(1_500), &vs, "http[0].timeout"),
            o: Sourced::default_value(None),
        };
        let json = serde_json::to_string(&configured).unwrap();
        assert_eq!(
            json,
            r#"{"t":{"value":1500,"source":{"type":"configured","kind":"VirtualService","namespace":"prod","name":"inventory","field":"http[0].timeout"}},"o":{"value":null,"source":{"type":"istio_default"}}}"#
        );
        assert_eq!(
            serde_json::from_str::<Durations>(&json).unwrap(),
            configured
        );
        let some = r#"{"t":{"value":0,"source":{"type":"istio_default"}},
            "o":{"value":250,"source":{"type":"istio_default"}}}"#;
        let read = serde_json::from_str::<Durations>(some).unwrap();
        assert_eq!(read.t, Sourced::default_value(Duration::ZERO));
        assert_eq!(
            read.o,
            Sourced::default_value(Some(Duration::from_millis(250)))
        );
    }

    #[test]
    fn bad_sourced_durations_are_errors() {
        let default = r#"{"type":"istio_default"}"#;
        let cases = [
            (
                format!(r#"{{"value":null,"source":{default}}}"#),
                "found null",
            ),
            (
                format!(r#"{{"value":"1s","source":{default}}}"#),
                "invalid type",
            ),
            (
                format!(r#"{{"value":-1,"source":{default}}}"#),
                "invalid value",
            ),
            (r#"{"value":5}"#.to_string(), "missing field `source`"),
            (
                r#"{"value":5,"source":{"type":"guess"}}"#.to_string(),
                "unknown variant",
            ),
            ("5".to_string(), "invalid type"),
        ];
        for (t, message) in &cases {
            let json = format!(r#"{{"t":{t},"o":{{"value":null,"source":{default}}}}}"#);
            let err = serde_json::from_str::<Durations>(&json)
                .unwrap_err()
                .to_string();
            assert!(err.contains(message), "{t}: {err}");
        }
        let json = format!(
            r#"{{"t":{{"value":1,"source":{default}}},"o":{{"value":"x","source":{default}}}}}"#
        );
        let err = serde_json::from_str::<Durations>(&json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid type"), "{err}");
    }
}
