//! The names of the simulator's scenarios as the command line spells them
//! (`--scenario grpc-keepalive`), with a one-line summary each.

use std::fmt;
use std::str::FromStr;

/// The scenarios `meshtop sim --scenario NAME` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ScenarioName {
    #[default]
    GrpcKeepalive,
    CircuitBreaker,
    MtlsMismatch,
    NoHealthyUpstream,
    OutlierEjection,
    StatsNotEnabled,
    Healthy,
    Churn,
}

impl ScenarioName {
    pub const ALL: [ScenarioName; 8] = [
        ScenarioName::GrpcKeepalive,
        ScenarioName::CircuitBreaker,
        ScenarioName::MtlsMismatch,
        ScenarioName::NoHealthyUpstream,
        ScenarioName::OutlierEjection,
        ScenarioName::StatsNotEnabled,
        ScenarioName::Healthy,
        ScenarioName::Churn,
    ];

    /// The kebab-case name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioName::GrpcKeepalive => "grpc-keepalive",
            ScenarioName::CircuitBreaker => "circuit-breaker",
            ScenarioName::MtlsMismatch => "mtls-mismatch",
            ScenarioName::NoHealthyUpstream => "no-healthy-upstream",
            ScenarioName::OutlierEjection => "outlier-ejection",
            ScenarioName::StatsNotEnabled => "stats-not-enabled",
            ScenarioName::Healthy => "healthy",
            ScenarioName::Churn => "churn",
        }
    }

    /// One line for help texts: what goes wrong.
    pub fn summary(self) -> &'static str {
        match self {
            ScenarioName::GrpcKeepalive => {
                "inventory-svc slower than its 1s VS timeout (UT) and closing kept-alive connections (UC)"
            }
            ScenarioName::CircuitBreaker => "pricing-svc behind maxConnections 1 / pending 1 (UO)",
            ScenarioName::MtlsMismatch => "DR tls DISABLE toward a STRICT mTLS server (UC)",
            ScenarioName::NoHealthyUpstream => "VS routes to a DR subset that selects no pods (UH)",
            ScenarioName::OutlierEjection => {
                "one of three inventory pods returns 500s and is ejected"
            }
            ScenarioName::StatsNotEnabled => {
                "grpc-keepalive without proxyStatsMatcher: not collected"
            }
            ScenarioName::Healthy => "steady traffic, no errors",
            ScenarioName::Churn => "rolling sidecar restarts: counter resets and dropped forwards",
        }
    }
}

impl fmt::Display for ScenarioName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scenario name that is not one of [`ScenarioName::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scenario `{0}` (known: {known})", known = known_names())]
pub struct UnknownScenario(pub String);

fn known_names() -> String {
    let names: Vec<&str> = ScenarioName::ALL.iter().map(|s| s.as_str()).collect();
    names.join(", ")
}

impl FromStr for ScenarioName {
    type Err = UnknownScenario;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScenarioName::ALL
            .into_iter()
            .find(|n| n.as_str() == s)
            .ok_or_else(|| UnknownScenario(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for name in ScenarioName::ALL {
            assert_eq!(name.as_str().parse::<ScenarioName>(), Ok(name));
            assert_eq!(name.to_string(), name.as_str());
        }
        let err = "grpc".parse::<ScenarioName>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown scenario `grpc` (known: grpc-keepalive, circuit-breaker, mtls-mismatch, \
             no-healthy-upstream, outlier-ejection, stats-not-enabled, healthy, churn)"
        );
        assert_eq!(ScenarioName::default(), ScenarioName::GrpcKeepalive);
    }
}
