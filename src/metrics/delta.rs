//! Counter arithmetic over a window of samples: increases, rates and per-interval rates, with
//! proxy restarts and counter resets handled so that results never go negative and never spike.
//!
//! Consecutive present samples form pairs; each pair is one [`Step`]:
//! - same restart epoch, value not lower: a normal increase over the pair's time;
//! - the proxy restarted between them (`server.uptime` went down): the restart time is
//!   `at - uptime`. When it is not before the earlier sample — so the whole post-restart value
//!   accrued inside this pair, inside the window — the later value counts as the increase,
//!   over `uptime` seconds, at most the pair's (Envoy counters start at 0). Otherwise
//!   (uptime unknown or inconsistent, e.g. a new pod reusing a name) the pair is skipped;
//! - the counter went down without a proven restart (cluster removed and re-added, a
//!   different proxy under the same name): when it reset is unknown, so the pair is skipped.
//!
//! Skipped pairs add neither increase nor time, so a rate is the average over the time the
//! counter was actually observed. Both restarts and skips count as `resets`.

use serde::Serialize;

use super::series::{Sample, ScrapeMeta};
use super::timestamp::Timestamp;

/// A counter's increase over a window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Delta {
    /// Sum of the counted steps.
    pub increase: u64,
    /// Seconds the counted steps cover (the window's sampled span minus skipped pairs, and
    /// only the time since a restart for a restart step).
    pub seconds: f64,
    /// Restarts and counter resets seen between samples in the window.
    pub resets: u32,
    /// Present samples in the window.
    pub samples: usize,
}

impl Delta {
    /// Increase per second; `None` when no time was covered.
    pub fn rate(&self) -> Option<f64> {
        (self.seconds > 0.0).then(|| self.increase as f64 / self.seconds)
    }
}

/// What one pair of consecutive samples contributes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Increase { increase: u64, seconds: f64 },
    Restart { increase: u64, seconds: f64 },
    Skipped,
}

fn step(prev: &Sample, cur: &Sample) -> Step {
    let seconds = cur.meta.at.seconds_since(prev.meta.at);
    if cur.meta.epoch != prev.meta.epoch {
        return match cur.meta.uptime {
            Some(up) if restart_time(cur.meta.at, up) >= prev.meta.at => Step::Restart {
                increase: cur.bits,
                seconds: (up as f64).min(seconds),
            },
            _ => Step::Skipped,
        };
    }
    match cur.bits.checked_sub(prev.bits) {
        Some(increase) => Step::Increase { increase, seconds },
        None => Step::Skipped,
    }
}

/// When the proxy started, from a scrape's time and `server.uptime` (whole seconds).
fn restart_time(at: Timestamp, uptime_seconds: u64) -> Timestamp {
    at.saturating_sub(std::time::Duration::from_secs(uptime_seconds))
}

/// The increase over `samples` (oldest first); `None` with fewer than two samples.
pub(crate) fn delta_of(samples: impl Iterator<Item = Sample>) -> Option<Delta> {
    let mut delta = Delta {
        increase: 0,
        seconds: 0.0,
        resets: 0,
        samples: 0,
    };
    let mut prev: Option<Sample> = None;
    for cur in samples {
        delta.samples += 1;
        if let Some(p) = prev {
            match step(&p, &cur) {
                Step::Increase { increase, seconds } => {
                    delta.increase = delta.increase.saturating_add(increase);
                    delta.seconds += seconds;
                }
                Step::Restart { increase, seconds } => {
                    delta.increase = delta.increase.saturating_add(increase);
                    delta.seconds += seconds;
                    delta.resets = delta.resets.saturating_add(1);
                }
                Step::Skipped => delta.resets = delta.resets.saturating_add(1),
            }
        }
        prev = Some(cur);
    }
    (delta.samples >= 2).then_some(delta)
}

/// The seconds the consecutive pairs of `metas` cover, summed as [`delta_of`] sums them, when
/// no restart falls between them (`None` otherwise).
pub(crate) fn steady_seconds<'a>(metas: impl Iterator<Item = &'a ScrapeMeta>) -> Option<f64> {
    let mut seconds = 0.0;
    let mut prev: Option<&ScrapeMeta> = None;
    for cur in metas {
        if let Some(p) = prev {
            if cur.epoch != p.epoch {
                return None;
            }
            seconds += cur.at.seconds_since(p.at);
        }
        prev = Some(cur);
    }
    Some(seconds)
}

/// What [`delta_of`] gives for `samples` present samples of one unchanging value with no
/// restart between them, covering `seconds`: every pair an increase of 0.
pub(crate) fn flat_delta(seconds: f64, samples: usize) -> Option<Delta> {
    (samples >= 2).then_some(Delta {
        increase: 0,
        seconds,
        resets: 0,
        samples,
    })
}

/// The rate of each counted pair, stamped with the later sample's time (sparkline points).
pub(crate) fn rates_of(samples: impl Iterator<Item = Sample>) -> Vec<(Timestamp, f64)> {
    let mut out = Vec::new();
    let mut prev: Option<Sample> = None;
    for cur in samples {
        if let Some(p) = prev {
            match step(&p, &cur) {
                Step::Increase { increase, seconds } | Step::Restart { increase, seconds }
                    if seconds > 0.0 =>
                {
                    out.push((cur.meta.at, increase as f64 / seconds));
                }
                _ => {}
            }
        }
        prev = Some(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::series::ScrapeMeta;
    use super::*;

    fn s(at_s: u64, uptime: Option<u64>, epoch: u32, value: u64) -> Sample {
        Sample {
            meta: ScrapeMeta {
                at: Timestamp::from_secs(at_s),
                uptime,
                epoch,
            },
            bits: value,
        }
    }

    #[test]
    fn restart_inside_the_pair_counts_the_value_since_restart() {
        // Restarted 3 s before the second scrape, 10 s after the first.
        let d = delta_of([s(100, Some(500), 0, 9000), s(113, Some(3), 1, 30)].into_iter());
        assert_eq!(
            d,
            Some(Delta {
                increase: 30,
                seconds: 3.0,
                resets: 1,
                samples: 2
            })
        );
        assert_eq!(d.unwrap().rate(), Some(10.0));
    }

    #[test]
    fn restart_claimed_before_the_earlier_sample_is_skipped() {
        // Uptime 50 s at t=113 would put the start at t=63, before the sample at t=100.
        let d = delta_of([s(100, Some(500), 0, 10), s(113, Some(50), 1, 900)].into_iter());
        let d = d.unwrap();
        assert_eq!((d.increase, d.seconds, d.resets), (0, 0.0, 1));
        assert_eq!(d.rate(), None);
        let no_uptime = delta_of([s(100, Some(5), 0, 10), s(113, None, 1, 900)].into_iter());
        assert_eq!(no_uptime.unwrap().increase, 0);
    }

    #[test]
    fn rates_skip_resets_and_never_go_negative() {
        let samples = [
            s(0, None, 0, 100),
            s(2, None, 0, 120),
            s(4, None, 0, 5),
            s(6, None, 0, 25),
        ];
        let d = delta_of(samples.into_iter()).unwrap();
        assert_eq!(
            (d.increase, d.seconds, d.resets, d.samples),
            (40, 4.0, 1, 4)
        );
        let rates = rates_of(samples.into_iter());
        assert_eq!(
            rates,
            vec![
                (Timestamp::from_secs(2), 10.0),
                (Timestamp::from_secs(6), 10.0)
            ]
        );
        assert_eq!(delta_of([s(0, None, 0, 1)].into_iter()), None);
    }
}
