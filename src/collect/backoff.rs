//! Exponential backoff with jitter for failing pods: after `n` consecutive failures a poller
//! waits `min(cap, base × 2^(n-1))`, scaled by a random factor in [0.5, 1] ("equal jitter") so
//! that many pods failing together (an API server hiccup) do not retry in lockstep.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// The retry schedule after failed polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Nominal wait after the first failure.
    pub base: Duration,
    /// Longest wait, whatever the number of failures.
    pub cap: Duration,
}

impl Default for Backoff {
    /// 1 s, doubling, capped at 30 s.
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait after `failures` consecutive failures (0 is treated as 1), for a `jitter`
    /// drawn from [0, 1] (values outside are clamped): between half and all of the nominal
    /// delay, never more than `cap`.
    pub fn delay(&self, failures: u32, jitter: f64) -> Duration {
        let exponent = failures.saturating_sub(1).min(31);
        let nominal = self
            .base
            .checked_mul(1u32 << exponent)
            .unwrap_or(self.cap)
            .min(self.cap);
        let factor = 0.5 + 0.5 * jitter.clamp(0.0, 1.0);
        nominal.mul_f64(factor).min(self.cap)
    }
}

/// A random number in [0, 1) from the standard library's randomly seeded hasher (no `rand`
/// dependency needed for jitter).
pub fn jitter() -> f64 {
    let bits = RandomState::new().build_hasher().finish() >> 11;
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_base_and_stops_at_the_cap() {
        let b = Backoff::default();
        let secs = |n, j| b.delay(n, j).as_secs_f64();
        assert_eq!(secs(1, 1.0), 1.0);
        assert_eq!(secs(2, 1.0), 2.0);
        assert_eq!(secs(5, 1.0), 16.0);
        assert_eq!(secs(6, 1.0), 30.0);
        assert_eq!(secs(u32::MAX, 1.0), 30.0);
        assert_eq!(secs(0, 1.0), 1.0);
        assert_eq!(secs(1, 0.0), 0.5);
        assert_eq!(secs(6, 0.0), 15.0);
        assert_eq!(secs(3, 7.0), 4.0, "jitter above 1 is clamped");
        assert_eq!(secs(3, -1.0), 2.0, "jitter below 0 is clamped");
    }

    #[test]
    fn jittered_delays_stay_within_bounds() {
        let b = Backoff::default();
        for failures in 1..40 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j), "{j}");
            let d = b.delay(failures, j);
            let nominal = b.delay(failures, 1.0);
            assert!(d <= Duration::from_secs(30), "{d:?}");
            assert!(
                d >= nominal / 2 && d <= nominal,
                "{failures}: {d:?} vs {nominal:?}"
            );
        }
    }
}
