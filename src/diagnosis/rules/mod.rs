//! The rule registry: one file per rule of `HINTS.md`, listed here in rule order.

use super::{Context, Finding};

/// One diagnosis rule.
pub struct Rule {
    /// The id from `HINTS.md` (`R1`).
    pub id: &'static str,
    /// Short name for help screens and docs.
    pub name: &'static str,
    pub check: fn(&Context<'_>) -> Vec<Finding>,
}

mod r00_stats_not_collected;
mod r01_route_timeout;
mod r02_timeout_connection_reset;
mod r03_per_try_timeout;
mod r04_retries_exhausted;
mod r05_retry_overflow;
mod r06_pending_overflow;
mod r07_connection_overflow;
mod r08_connect_timeout;
mod r09_connect_failure;
mod r10_tls_mismatch;
mod r11_upstream_closed_keepalive;
mod r12_upstream_reset;
mod r13_local_reset;
mod r14_outlier_ejection;
mod r15_ejection_overflow;
mod r16_no_endpoints;
mod r17_no_healthy_endpoints;
mod r18_panic_mode;
mod r19_no_route;
mod r20_timeout_not_applied;
mod r21_unused_subset_policy;
mod r22_config_rejected;
mod r23_duration_limit;
mod r24_downstream_disconnect;
mod r25_tcp_no_healthy;

/// Every rule, in `HINTS.md` order.
pub const RULES: &[Rule] = &[
    r00_stats_not_collected::RULE,
    r01_route_timeout::RULE,
    r02_timeout_connection_reset::RULE,
    r03_per_try_timeout::RULE,
    r04_retries_exhausted::RULE,
    r05_retry_overflow::RULE,
    r06_pending_overflow::RULE,
    r07_connection_overflow::RULE,
    r08_connect_timeout::RULE,
    r09_connect_failure::RULE,
    r10_tls_mismatch::RULE,
    r11_upstream_closed_keepalive::RULE,
    r12_upstream_reset::RULE,
    r13_local_reset::RULE,
    r14_outlier_ejection::RULE,
    r15_ejection_overflow::RULE,
    r16_no_endpoints::RULE,
    r17_no_healthy_endpoints::RULE,
    r18_panic_mode::RULE,
    r19_no_route::RULE,
    r20_timeout_not_applied::RULE,
    r21_unused_subset_policy::RULE,
    r22_config_rejected::RULE,
    r23_duration_limit::RULE,
    r24_downstream_disconnect::RULE,
    r25_tcp_no_healthy::RULE,
];
