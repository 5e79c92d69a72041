//! `Timestamp`: the store's notion of time — milliseconds since an arbitrary epoch chosen by
//! the caller (the runtime passes a monotonic clock reading, tests pass synthetic values).
//!
//! The metrics module never reads a clock; every instant arrives as a `Timestamp` argument.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// An instant as milliseconds since an arbitrary epoch. Only differences between timestamps
/// of the same clock are meaningful; arithmetic saturates instead of wrapping.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Timestamp(ms)
    }

    /// The instant `s` seconds after the epoch.
    pub const fn from_secs(s: u64) -> Self {
        Timestamp(s.saturating_mul(1000))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// This instant moved back by `d` (stops at the epoch).
    pub fn saturating_sub(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_sub(duration_millis(d)))
    }

    /// This instant moved forward by `d` (stops at the largest representable instant).
    pub fn saturating_add(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(duration_millis(d)))
    }

    /// Seconds from `earlier` to `self`; 0 when `earlier` is not before `self`.
    pub fn seconds_since(self, earlier: Timestamp) -> f64 {
        self.0.saturating_sub(earlier.0) as f64 / 1000.0
    }
}

/// Whole milliseconds of `d`, saturating at `u64::MAX`.
fn duration_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_and_measures_seconds() {
        let t = Timestamp::from_secs(10);
        assert_eq!(t.as_millis(), 10_000);
        assert_eq!(t.saturating_sub(Duration::from_secs(3)).as_millis(), 7_000);
        assert_eq!(
            t.saturating_sub(Duration::from_secs(30)),
            Timestamp::from_millis(0)
        );
        assert_eq!(
            t.saturating_add(Duration::from_millis(1_500)),
            Timestamp::from_millis(11_500)
        );
        assert_eq!(Timestamp::from_millis(12_500).seconds_since(t), 2.5);
        assert_eq!(t.seconds_since(Timestamp::from_secs(20)), 0.0);
        assert_eq!(Timestamp::from_secs(u64::MAX).as_millis(), u64::MAX);
    }
}
