//! What a rule reports: a [`Finding`] with its [`Severity`], the [`Evidence`] it rests on and
//! the [`NextStep`]s to verify it. Plain data that serialises to the `meshtop check --output
//! json` schema (`docs/CHECK-JSON.md`).

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// How urgent a finding is. The rank is explicit: critical 3, warning 2, info 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn rank(self) -> u8 {
        match self {
            Severity::Info => 1,
            Severity::Warning => 2,
            Severity::Critical => 3,
        }
    }

    /// One level lower (info stays info): for findings that rest on a single signal.
    pub fn lowered(self) -> Severity {
        match self {
            Severity::Critical => Severity::Warning,
            Severity::Warning | Severity::Info => Severity::Info,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl PartialOrd for Severity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Severity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

/// Where a piece of evidence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// A cluster counter's window delta/rate (client side unless the name says otherwise).
    Counter,
    /// `istio_requests_total` responses with a response flag.
    Flag,
    /// A gauge's current value.
    Gauge,
    /// A latency quantile.
    Latency,
    /// An Istio setting (with its source object) or Envoy's effective value.
    Config,
    /// Endpoint health from `/clusters`.
    Endpoint,
    /// What was (not) collected.
    Collection,
}

/// One fact a finding rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub kind: EvidenceKind,
    /// What was looked at: `upstream_rq_timeout`, `UT (504, reporter=source)`,
    /// `VirtualService prod/inventory-svc http[0].timeout`.
    pub name: String,
    /// What it showed, for people: `+38 in 30s (1.27/s)`, `1s`, `0 of 3 healthy`.
    pub value: String,
    /// The machine value behind `value` (window increase, milliseconds, count), when one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<f64>,
    /// Envoy's effective value when it differs from the configured one (`config_dump`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
}

/// A step to verify or fix, optionally with a copy-pasteable command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextStep {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

impl NextStep {
    pub fn say(text: impl Into<String>) -> Self {
        NextStep {
            text: text.into(),
            command: None,
        }
    }

    pub fn run(text: impl Into<String>, command: impl Into<String>) -> Self {
        NextStep {
            text: text.into(),
            command: Some(command.into()),
        }
    }
}

/// One diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule id from `HINTS.md` (`R1`).
    pub rule: String,
    pub severity: Severity,
    /// The Envoy cluster concerned; `null` for pod- or mesh-wide findings.
    pub cluster: Option<String>,
    /// What the finding is about, for people: `inventory-svc.prod:8080`, a pod name.
    pub target: String,
    /// The pods that show it (client pods for a cluster, the sidecar for a pod finding).
    pub pods: Vec<String>,
    /// How many of the pods that could show it do: `3 of 4 order-svc pods`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// One line in plain language.
    pub title: String,
    pub evidence: Vec<Evidence>,
    /// The likely cause, with the Istio setting to look at.
    pub cause: String,
    pub next_steps: Vec<NextStep>,
}

impl Finding {
    /// The rule number (`R11` → 11) for ordering; unknown ids sort last.
    pub fn rule_number(&self) -> u32 {
        self.rule
            .strip_prefix('R')
            .and_then(|n| n.parse().ok())
            .unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_ranks_and_serialises_lowercase() {
        assert!(Severity::Critical > Severity::Warning && Severity::Warning > Severity::Info);
        assert_eq!(Severity::Critical.lowered(), Severity::Warning);
        assert_eq!(Severity::Info.lowered(), Severity::Info);
        assert_eq!(
            serde_json::to_string(&Severity::Warning).unwrap(),
            "\"warning\""
        );
    }
}
