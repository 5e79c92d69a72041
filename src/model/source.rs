//! Per-source collection state: what meshtop knows about each sidecar it tries to read, so a
//! screen or a snapshot file can say "stale since 03:12:40" or "forbidden" instead of showing
//! zeros that would lie in a postmortem.

use serde::{Deserialize, Serialize};

use crate::metrics::Timestamp;

/// How the last attempts to read one source went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum CollectionState {
    /// Not read yet (connecting, first poll in flight).
    Pending,
    /// The last poll succeeded.
    Ok {
        #[serde(with = "ms")]
        at: Timestamp,
    },
    /// Polls fail or time out since `since`; the data shown is from `last_ok`.
    Stale {
        #[serde(with = "ms")]
        since: Timestamp,
        #[serde(with = "ms")]
        last_ok: Timestamp,
        reason: String,
    },
    /// Never read successfully: `reason` says why (connection refused, timeout, parse error).
    Failed {
        #[serde(with = "ms")]
        since: Timestamp,
        reason: String,
    },
    /// The Kubernetes API refused access (RBAC), e.g. `create pods/portforward in prod`.
    Forbidden { reason: String },
    /// Deliberately not read (not meshed, filtered out, admin port unknown).
    NotCollected { reason: String },
}

impl CollectionState {
    /// True when the data from this source is current.
    pub fn is_ok(&self) -> bool {
        matches!(self, CollectionState::Ok { .. })
    }

    /// One word for headers and tables.
    pub fn word(&self) -> &'static str {
        match self {
            CollectionState::Pending => "pending",
            CollectionState::Ok { .. } => "ok",
            CollectionState::Stale { .. } => "stale",
            CollectionState::Failed { .. } => "failed",
            CollectionState::Forbidden { .. } => "forbidden",
            CollectionState::NotCollected { .. } => "not collected",
        }
    }
}

/// Serde adapter writing and reading a [`Timestamp`] as plain milliseconds.
mod ms {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::metrics::Timestamp;

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(t.as_millis())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        u64::deserialize(d).map(Timestamp::from_millis)
    }
}

/// Whether a sidecar records per-cluster stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatsCollection {
    /// Per-upstream-cluster stats are present.
    Full,
    /// Only Istio's default inclusion: per-cluster counters are not collected.
    DefaultInclusionOnly,
    /// No `/stats` read from this source (yet).
    None,
}

/// The pod annotation that makes an Istio sidecar record per-cluster stats.
pub const STATS_OPT_IN: &str = r#"metadata:
  annotations:
    proxy.istio.io/config: |
      proxyStatsMatcher:
        inclusionRegexps:
        - ".*(outbound|inbound)[|].*(upstream_rq|upstream_cx|circuit_breakers|outlier_detection|membership_).*"
# then restart the pod (the stats matcher is read at sidecar start). Mesh-wide:
# meshConfig.defaultConfig.proxyStatsMatcher with the same inclusionRegexps."#;

/// One sidecar (or capture) meshtop reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceState {
    pub pod: String,
    pub namespace: String,
    pub state: CollectionState,
    pub stats_collection: StatsCollection,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_serialise_with_a_tag_and_millisecond_times() {
        let s = CollectionState::Stale {
            since: Timestamp::from_millis(5_000),
            last_ok: Timestamp::from_millis(3_000),
            reason: "timeout after 2s".into(),
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"state": "stale", "since": 5000, "last_ok": 3000, "reason": "timeout after 2s"})
        );
        assert_eq!(s.word(), "stale");
        assert!(!s.is_ok());
        assert!(
            CollectionState::Ok {
                at: Timestamp::from_millis(1)
            }
            .is_ok()
        );
    }
}
