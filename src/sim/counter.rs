//! The cluster counters the traffic model moves, named by their Envoy stat suffix
//! (`cluster_stats.rst`). Counters Envoy has but the model never moves are listed (as zeros)
//! by the renderer; response-code counters (`upstream_rq_200`) are counted per code.

/// Cluster counters the traffic model moves (Envoy `cluster_stats.rst` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    RqTotal,
    RqTimeout,
    RqPendingTotal,
    RqPendingOverflow,
    RqPendingFailureEject,
    RqTxReset,
    CxTotal,
    CxHttp1Total,
    CxHttp2Total,
    CxConnectFail,
    CxDestroy,
    CxDestroyLocal,
    CxDestroyRemote,
    CxDestroyWithActiveRq,
    CxDestroyLocalWithActiveRq,
    CxDestroyRemoteWithActiveRq,
    CxNoneHealthy,
    CxOverflow,
    CxRxBytesTotal,
    CxTxBytesTotal,
    MembershipChange,
    EjectionsEnforcedTotal,
    EjectionsEnforcedConsecutive5xx,
    EjectionsDetectedConsecutive5xx,
    EjectionsTotal,
    EjectionsOverflow,
}

/// Number of [`Counter`]s.
pub const COUNTERS: usize = 26;

impl Counter {
    pub const ALL: [Counter; COUNTERS] = {
        use Counter::*;
        [
            RqTotal,
            RqTimeout,
            RqPendingTotal,
            RqPendingOverflow,
            RqPendingFailureEject,
            RqTxReset,
            CxTotal,
            CxHttp1Total,
            CxHttp2Total,
            CxConnectFail,
            CxDestroy,
            CxDestroyLocal,
            CxDestroyRemote,
            CxDestroyWithActiveRq,
            CxDestroyLocalWithActiveRq,
            CxDestroyRemoteWithActiveRq,
            CxNoneHealthy,
            CxOverflow,
            CxRxBytesTotal,
            CxTxBytesTotal,
            MembershipChange,
            EjectionsEnforcedTotal,
            EjectionsEnforcedConsecutive5xx,
            EjectionsDetectedConsecutive5xx,
            EjectionsTotal,
            EjectionsOverflow,
        ]
    };

    /// The stat suffix Envoy prints after `cluster.<name>.`.
    pub fn name(self) -> &'static str {
        use Counter::*;
        match self {
            RqTotal => "upstream_rq_total",
            RqTimeout => "upstream_rq_timeout",
            RqPendingTotal => "upstream_rq_pending_total",
            RqPendingOverflow => "upstream_rq_pending_overflow",
            RqPendingFailureEject => "upstream_rq_pending_failure_eject",
            RqTxReset => "upstream_rq_tx_reset",
            CxTotal => "upstream_cx_total",
            CxHttp1Total => "upstream_cx_http1_total",
            CxHttp2Total => "upstream_cx_http2_total",
            CxConnectFail => "upstream_cx_connect_fail",
            CxDestroy => "upstream_cx_destroy",
            CxDestroyLocal => "upstream_cx_destroy_local",
            CxDestroyRemote => "upstream_cx_destroy_remote",
            CxDestroyWithActiveRq => "upstream_cx_destroy_with_active_rq",
            CxDestroyLocalWithActiveRq => "upstream_cx_destroy_local_with_active_rq",
            CxDestroyRemoteWithActiveRq => "upstream_cx_destroy_remote_with_active_rq",
            CxNoneHealthy => "upstream_cx_none_healthy",
            CxOverflow => "upstream_cx_overflow",
            CxRxBytesTotal => "upstream_cx_rx_bytes_total",
            CxTxBytesTotal => "upstream_cx_tx_bytes_total",
            MembershipChange => "membership_change",
            EjectionsEnforcedTotal => "outlier_detection.ejections_enforced_total",
            EjectionsEnforcedConsecutive5xx => {
                "outlier_detection.ejections_enforced_consecutive_5xx"
            }
            EjectionsDetectedConsecutive5xx => {
                "outlier_detection.ejections_detected_consecutive_5xx"
            }
            EjectionsTotal => "outlier_detection.ejections_total",
            EjectionsOverflow => "outlier_detection.ejections_overflow",
        }
    }
}
