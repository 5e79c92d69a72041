//! Stat values as Envoy reports them: integers (counters and gauges), text readouts and
//! histogram summaries.

use serde::Serialize;

/// One stat's value. Counters and gauges are `u64` because Envoy prints values above
/// `i64::MAX` (`remaining_cx_pools: 18446744073709551614`). Histograms are boxed to keep the
/// value (and every stat table entry) small.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum StatValue {
    Int(u64),
    Text(String),
    Histogram(Box<Histogram>),
}

impl StatValue {
    pub fn as_int(&self) -> Option<u64> {
        match self {
            StatValue::Int(v) => Some(*v),
            _ => None,
        }
    }

    pub fn as_histogram(&self) -> Option<&Histogram> {
        match self {
            StatValue::Histogram(h) => Some(h),
            _ => None,
        }
    }
}

/// One quantile of a histogram summary, `P99(interval,cumulative)` in the text format.
/// `None` is Envoy's `nan` / JSON `null`: no data in that period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quantile {
    /// Percentile, 0–100 (`99.9` for `P99.9`).
    pub percentile: f64,
    pub interval: Option<f64>,
    pub cumulative: Option<f64>,
}

/// A cumulative bucket from Prometheus output: `count` observations were `<= le`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bucket {
    pub le: f64,
    pub count: u64,
}

/// A histogram as far as the capture tells: quantile summaries (text and JSON `/stats`) or
/// cumulative buckets (Prometheus). Both empty means "No recorded values".
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Histogram {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub quantiles: Vec<Quantile>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<Bucket>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
}

impl Histogram {
    /// True when Envoy said "No recorded values" (or the buckets hold nothing).
    pub fn is_empty(&self) -> bool {
        self.quantiles.iter().all(|q| q.cumulative.is_none())
            && self.buckets.iter().all(|b| b.count == 0)
    }

    /// The cumulative (since proxy start) value at `percentile`, from the summary when Envoy
    /// computed it, else estimated from the buckets by linear interpolation inside the bucket.
    pub fn cumulative(&self, percentile: f64) -> Option<f64> {
        if let Some(q) = self
            .quantiles
            .iter()
            .find(|q| (q.percentile - percentile).abs() < 1e-9)
        {
            return q.cumulative;
        }
        estimate_from_buckets(&self.buckets, percentile)
    }

    /// The value at `percentile` over Envoy's last flush interval, when the capture has it.
    pub fn interval(&self, percentile: f64) -> Option<f64> {
        self.quantiles
            .iter()
            .find(|q| (q.percentile - percentile).abs() < 1e-9)
            .and_then(|q| q.interval)
    }

    /// Clears the histogram for reuse without giving back its memory.
    pub fn clear(&mut self) {
        self.quantiles.clear();
        self.buckets.clear();
        self.count = None;
        self.sum = None;
    }
}

/// Prometheus-style quantile estimate from cumulative buckets (as `histogram_quantile` does).
fn estimate_from_buckets(buckets: &[Bucket], percentile: f64) -> Option<f64> {
    let total = buckets.iter().map(|b| b.count).max()?;
    if total == 0 {
        return None;
    }
    let rank = percentile / 100.0 * total as f64;
    let mut prev_le = 0.0;
    let mut prev_count = 0u64;
    for b in buckets {
        if (b.count as f64) >= rank {
            if b.le.is_infinite() {
                // The answer lies above the highest finite bound: report that bound.
                return Some(prev_le);
            }
            let in_bucket = (b.count - prev_count.min(b.count)) as f64;
            if in_bucket == 0.0 {
                return Some(b.le);
            }
            let frac = (rank - prev_count as f64) / in_bucket;
            return Some(prev_le + (b.le - prev_le) * frac.clamp(0.0, 1.0));
        }
        prev_le = b.le;
        prev_count = b.count;
    }
    Some(prev_le)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_quantiles_are_looked_up_exactly() {
        let h = Histogram {
            quantiles: vec![
                Quantile {
                    percentile: 50.0,
                    interval: None,
                    cumulative: Some(11.5),
                },
                Quantile {
                    percentile: 99.0,
                    interval: Some(3.0),
                    cumulative: Some(11.99),
                },
            ],
            ..Histogram::default()
        };
        assert_eq!(h.cumulative(99.0), Some(11.99));
        assert_eq!(h.interval(99.0), Some(3.0));
        assert_eq!(h.interval(50.0), None);
        assert!(!h.is_empty());
    }

    #[test]
    fn bucket_estimate_interpolates_inside_the_bucket() {
        let h = Histogram {
            buckets: vec![
                Bucket { le: 10.0, count: 0 },
                Bucket {
                    le: 100.0,
                    count: 50,
                },
                Bucket {
                    le: 1000.0,
                    count: 100,
                },
                Bucket {
                    le: f64::INFINITY,
                    count: 100,
                },
            ],
            ..Histogram::default()
        };
        assert_eq!(h.cumulative(50.0), Some(100.0));
        let p99 = h.cumulative(99.0).unwrap();
        assert!((p99 - 982.0).abs() < 1e-6, "{p99}");
        assert_eq!(Histogram::default().cumulative(99.0), None);
        assert!(Histogram::default().is_empty());
    }

    #[test]
    fn estimate_above_last_finite_bucket_reports_that_bound() {
        let h = Histogram {
            buckets: vec![
                Bucket { le: 5.0, count: 1 },
                Bucket {
                    le: f64::INFINITY,
                    count: 10,
                },
            ],
            ..Histogram::default()
        };
        assert_eq!(h.cumulative(99.0), Some(5.0));
    }
}
