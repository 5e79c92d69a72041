//! Every number a rule compares against, in one place, each with the reason for its default.
//! Users tune them in the `thresholds:` section of meshtop's config file
//! (`docs/CHECK-JSON.md`); a field left out keeps its default.

use serde::{Deserialize, Serialize};

/// The rules' thresholds. See each field for why the default is what it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// A counter "moves" when its window increase is at least this. Default 1: Envoy's error
    /// counters never move on their own, and one timeout is one failed user request.
    pub min_events: u64,
    /// Requests in the window for a cluster or pod to count as having traffic. Default 1:
    /// any traffic makes "no cluster stats" (R0) and "no timeouts" (R20) meaningful.
    pub min_requests: u64,
    /// Share of a cluster's requests that must fail for a failure finding to be critical
    /// rather than a warning. Default 0.01 (1 %): above it, users notice.
    pub critical_share: f64,
    /// R2: local connection destroys with active requests per timeout that count as "≈ the
    /// timeouts". Default 0.5: Envoy resets one HTTP/1.1 connection per timed-out request,
    /// and half leaves room for HTTP/2 and pooled streams.
    pub destroy_per_timeout: f64,
    /// A gauge at or above this share of its circuit-breaker limit is "near the limit" (R6,
    /// R7). Default 0.9.
    pub near_limit: f64,
    /// R20: upstream p99 above the route timeout times this counts as "slower than the
    /// timeout". Default 1.0.
    pub latency_over_timeout: f64,
    /// R1: a route timeout below the upstream p99 times this is "too tight" even before it
    /// fires. Default 1.0 (the timeout is below what 1 % of calls need).
    pub timeout_below_p99: f64,
    /// R17/R18: healthy share of endpoints under which a cluster is degraded. Default 0.5.
    pub min_healthy_share: f64,
    /// R11: a pool idle timeout (DR `connectionPool.http.idleTimeout`) at or above this, or 0
    /// (disabled), outlives the keep-alive of common app servers (Node.js 5 s, gunicorn 2 s,
    /// gRPC `MaxConnectionAge` often 30–60 s) and counts as evidence for the keep-alive race.
    /// Default 60000 ms; Istio's own default is 1 h.
    pub keepalive_idle_timeout_ms: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_events: 1,
            min_requests: 1,
            critical_share: 0.01,
            destroy_per_timeout: 0.5,
            near_limit: 0.9,
            latency_over_timeout: 1.0,
            timeout_below_p99: 1.0,
            min_healthy_share: 0.5,
            keepalive_idle_timeout_ms: 60_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_files_keep_defaults_and_typos_are_refused() {
        let t: Thresholds = serde_json::from_str(r#"{"critical_share": 0.05}"#).unwrap();
        assert_eq!(t.critical_share, 0.05);
        assert_eq!(t.min_events, 1);
        let err = serde_json::from_str::<Thresholds>(r#"{"critical_shar": 0.05}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `critical_shar`"),
            "{err}"
        );
    }
}
