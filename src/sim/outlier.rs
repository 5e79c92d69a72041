//! Envoy's consecutive-5xx outlier detection for one client cluster (DestinationRule
//! `outlierDetection`): a host that returns `consecutive5xxErrors` 5xx in a row is ejected for
//! `baseEjectionTime × times ejected` (capped at Envoy's 300 s `max_ejection_time`) unless that
//! would exceed `maxEjectionPercent` (Envoy still ejects one host when none is ejected). The
//! `interval` timer brings hosts back and lets the ejection multiplier decay.
//!
//! Without split external/local-origin errors (Istio's default) timeouts and resets count as
//! 5xx; circuit-breaker overflows do not.

use super::cluster_state::ClusterState;
use super::counter::Counter;
use super::scenario::OutlierSpec;

/// Envoy's default `max_ejection_time`.
const MAX_EJECTION_MS: u64 = 300_000;

/// Outlier state of one host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutlierHost {
    consecutive_5xx: u32,
    ejected_until: Option<u64>,
    times_ejected: u32,
}

impl OutlierHost {
    /// Shown as `/failed_outlier_check` in `/clusters`.
    pub fn is_ejected(&self) -> bool {
        self.ejected_until.is_some()
    }
}

/// Hosts currently ejected (`outlier_detection.ejections_active`).
pub fn ejected_count(c: &ClusterState) -> usize {
    c.hosts.iter().filter(|h| h.outlier.is_ejected()).count()
}

/// Records the result of a request to host `slot` at `now`.
pub fn record_result(
    c: &mut ClusterState,
    slot: usize,
    is_5xx: bool,
    now: u64,
    spec: &OutlierSpec,
) {
    let Some(host) = c.hosts.get_mut(slot) else {
        return;
    };
    let o = &mut host.outlier;
    if !is_5xx {
        o.consecutive_5xx = 0;
        return;
    }
    o.consecutive_5xx += 1;
    if o.consecutive_5xx < spec.consecutive_5xx || o.is_ejected() {
        return;
    }
    o.consecutive_5xx = 0;
    c.inc(Counter::EjectionsDetectedConsecutive5xx);
    let ejected = ejected_count(c);
    let percent = 100.0 * (ejected + 1) as f64 / c.hosts.len() as f64;
    if ejected > 0 && percent > f64::from(spec.max_ejection_percent) {
        c.inc(Counter::EjectionsOverflow);
        return;
    }
    let o = &mut c.hosts[slot].outlier;
    o.times_ejected += 1;
    let cap = MAX_EJECTION_MS.max(spec.base_ejection_ms);
    o.ejected_until = Some(now + (spec.base_ejection_ms * u64::from(o.times_ejected)).min(cap));
    c.inc(Counter::EjectionsEnforcedTotal);
    c.inc(Counter::EjectionsEnforcedConsecutive5xx);
    c.inc(Counter::EjectionsTotal);
}

/// The detector's interval timer at `now`.
pub fn sweep(c: &mut ClusterState, now: u64) {
    for h in &mut c.hosts {
        let o = &mut h.outlier;
        match o.ejected_until {
            Some(until) if until <= now => o.ejected_until = None,
            Some(_) => {}
            None => o.times_ejected = o.times_ejected.saturating_sub(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: OutlierSpec = OutlierSpec {
        consecutive_5xx: 3,
        interval_ms: 10_000,
        base_ejection_ms: 30_000,
        max_ejection_percent: 50,
    };

    fn cluster(hosts: usize) -> ClusterState {
        let mut c = ClusterState::default();
        c.sync_hosts(&(0..hosts).collect::<Vec<_>>(), 1);
        c
    }

    #[test]
    fn consecutive_errors_eject_and_the_interval_brings_back() {
        let mut c = cluster(3);
        for t in 0..2 {
            record_result(&mut c, 1, true, t, &SPEC);
        }
        record_result(&mut c, 1, false, 2, &SPEC);
        assert_eq!(ejected_count(&c), 0, "a success resets the streak");
        for t in 3..6 {
            record_result(&mut c, 1, true, t, &SPEC);
        }
        assert!(c.hosts[1].outlier.is_ejected());
        assert_eq!(c.get(Counter::EjectionsEnforcedTotal), 1);
        assert_eq!(c.get(Counter::EjectionsDetectedConsecutive5xx), 1);
        sweep(&mut c, 30_000);
        assert!(c.hosts[1].outlier.is_ejected(), "ejected until 30 005 ms");
        sweep(&mut c, 40_000);
        assert!(!c.hosts[1].outlier.is_ejected());
        for t in 0..3 {
            record_result(&mut c, 1, true, 41_000 + t, &SPEC);
        }
        assert_eq!(
            c.hosts[1].outlier.ejected_until,
            Some(41_002 + 60_000),
            "second ejection is 2 × base"
        );
    }

    #[test]
    fn max_ejection_percent_caps_but_one_host_is_always_ejected() {
        let mut c = cluster(2);
        let spec = OutlierSpec {
            max_ejection_percent: 10,
            ..SPEC
        };
        for slot in [0, 1] {
            for t in 0..3 {
                record_result(&mut c, slot, true, t, &spec);
            }
        }
        assert_eq!(ejected_count(&c), 1);
        assert_eq!(c.get(Counter::EjectionsOverflow), 1);
        assert_eq!(c.get(Counter::EjectionsDetectedConsecutive5xx), 2);
        assert_eq!(c.get(Counter::EjectionsEnforcedTotal), 1);
    }
}
