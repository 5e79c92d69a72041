//! A latency recorder that summarises like Envoy: log-linear buckets with two significant
//! digits (Envoy's circllhist), linear interpolation inside a bucket for quantiles, a
//! cumulative view since proxy start, an interval view over the last completed flush period
//! (5 s in Istio), and Prometheus bucket counts at Envoy's default bounds.
//!
//! Values are whole milliseconds, as Envoy records `upstream_rq_time`. A single value 11 gives
//! `P0 11, P25 11.25, … P100 12`, exactly as real Envoy prints it. Buckets are stored sparsely
//! (sorted `(key, count)`), so thousands of histograms cost little memory.

use super::model::SimHistogram;

/// Envoy's default histogram bucket bounds (`stats_config.histogram_bucket_settings` unset).
pub const PROMETHEUS_BOUNDS: [f64; 19] = [
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
];

/// The percentiles Envoy prints in `/stats` text output.
pub const PERCENTILES: [f64; 10] = [0.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 100.0];

/// Sparse bucket counts, sorted by bucket key.
type Buckets = Vec<(u32, u64)>;

/// One histogram being recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Everything before the running interval.
    cumulative: Buckets,
    /// The running interval.
    current: Buckets,
    last_interval: Buckets,
    /// Disjoint counts per Prometheus bound; the last slot is `+Inf`.
    bounded: [u64; PROMETHEUS_BOUNDS.len() + 1],
    count: u64,
    sum: u64,
}

/// [`PROMETHEUS_BOUNDS`] above 0.5 as integers (values are whole milliseconds).
const WHOLE_BOUNDS: [u64; 18] = [
    1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000,
    1800000, 3600000,
];

/// Bucket key of a value: 0 for 0; otherwise `(decade + 1) * 100 + mantissa` where the
/// mantissa holds the first two significant digits (10..=99). Keys sort like values.
fn bucket_key(value: u64) -> u32 {
    if value == 0 {
        return 0;
    }
    if value < 10 {
        return 100 + value as u32 * 10;
    }
    let digits = value.ilog10() + 1;
    let mantissa = value / 10u64.pow(digits - 2);
    digits * 100 + mantissa as u32
}

/// Lower bound and width of a bucket.
fn bucket_range(key: u32) -> (f64, f64) {
    if key == 0 {
        return (0.0, 0.0);
    }
    let decade = key / 100; // 1 = values below 10
    let mantissa = f64::from(key % 100);
    let width = 10f64.powi(decade as i32 - 2);
    (mantissa * width, width)
}

/// Adds `n` to bucket `key`. A plain loop: this is the simulator's hottest path and must
/// stay quick in debug builds too.
fn add_to(buckets: &mut Buckets, key: u32, n: u64) {
    let (mut lo, mut hi) = (0, buckets.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        let k = buckets[mid].0;
        if k == key {
            buckets[mid].1 += n;
            return;
        }
        if k < key {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    buckets.insert(lo, (key, n));
}

/// `into` plus `from` (both sorted by key).
fn merge(into: &Buckets, from: &Buckets) -> Buckets {
    let mut out = Vec::with_capacity(into.len() + from.len());
    let (mut a, mut b) = (into.iter().peekable(), from.iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x.0 == y.0 => (x.0, x.1 + y.1),
            (Some(x), Some(y)) if x.0 < y.0 => **x,
            (Some(_), Some(y)) => **y,
            (Some(x), None) => **x,
            (None, Some(y)) => **y,
            (None, None) => return out,
        };
        if a.peek().is_some_and(|x| x.0 == next.0) {
            a.next();
        }
        if b.peek().is_some_and(|y| y.0 == next.0) {
            b.next();
        }
        out.push(next);
    }
}

/// The Prometheus bucket of a value (`le` bound index; `PROMETHEUS_BOUNDS.len()` = `+Inf`).
fn bound_slot(value: u64) -> usize {
    if value == 0 {
        return 0;
    }
    let mut i = 0;
    while i < WHOLE_BOUNDS.len() && WHOLE_BOUNDS[i] < value {
        i += 1;
    }
    i + 1
}

/// Envoy's approximate quantiles over `buckets`; empty when there are no values.
fn quantiles(buckets: &Buckets) -> Vec<(f64, f64)> {
    let total: u64 = buckets.iter().map(|&(_, c)| c).sum();
    if total == 0 {
        return Vec::new();
    }
    PERCENTILES
        .iter()
        .map(|&p| (p, quantile(buckets, total, p / 100.0)))
        .collect()
}

fn quantile(buckets: &Buckets, total: u64, q: f64) -> f64 {
    let rank = q * total as f64;
    let mut before = 0.0;
    for &(key, count) in buckets {
        let count = count as f64;
        if rank <= before + count {
            let (lower, width) = bucket_range(key);
            return lower + width * ((rank - before) / count);
        }
        before += count;
    }
    buckets.last().map_or(0.0, |&(k, _)| {
        let (lower, width) = bucket_range(k);
        lower + width
    })
}

impl Histogram {
    /// Records one value in milliseconds.
    pub fn record(&mut self, value: u64) {
        add_to(&mut self.current, bucket_key(value), 1);
        self.bounded[bound_slot(value)] += 1;
        self.count += 1;
        self.sum += value;
    }

    /// Ends a flush interval: what was recorded since the previous flush becomes the interval
    /// view (an interval without values shows `nan`).
    pub fn flush_interval(&mut self) {
        for &(key, n) in &self.current {
            add_to(&mut self.cumulative, key, n);
        }
        self.last_interval = std::mem::take(&mut self.current);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The summary the Envoy emulator prints.
    pub fn summary(&self) -> SimHistogram {
        let cumulative = merge(&self.cumulative, &self.current);
        let mut running = 0;
        let buckets = PROMETHEUS_BOUNDS
            .iter()
            .zip(self.bounded.iter())
            .map(|(&bound, &n)| {
                running += n;
                (bound, running)
            })
            .collect();
        SimHistogram {
            cumulative: quantiles(&cumulative),
            interval: quantiles(&self.last_interval),
            buckets,
            count: self.count,
            sum: self.sum as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_prints_like_envoy() {
        // Real capture: `upstream_rq_time: P0(nan,11) P25(nan,11.25) … P99.9(nan,11.999)
        // P100(nan,12)` for a single 11 ms request.
        let mut h = Histogram::default();
        h.record(11);
        let s = h.summary();
        let values: Vec<f64> = s.cumulative.iter().map(|&(_, v)| v).collect();
        let expected = [
            11.0, 11.25, 11.5, 11.75, 11.9, 11.95, 11.99, 11.995, 11.999, 12.0,
        ];
        for (got, want) in values.iter().zip(expected) {
            assert!((got - want).abs() < 1e-9, "{got} != {want}");
        }
        assert!(s.interval.is_empty(), "no flush yet: interval is nan");
        assert_eq!(s.count, 1);
        assert_eq!(s.sum, 11.0);
        assert_eq!(s.buckets[3], (10.0, 0));
        assert_eq!(s.buckets[4], (25.0, 1));
        assert_eq!(s.buckets.last(), Some(&(3600000.0, 1)));
    }

    #[test]
    fn bucket_keys_order_like_values_and_cover_small_values() {
        assert_eq!(bucket_key(0), 0);
        assert_eq!(bucket_key(5), 150);
        assert_eq!(bucket_range(150), (5.0, 0.1));
        assert_eq!(bucket_key(1400), 414);
        assert_eq!(bucket_range(414), (1400.0, 100.0));
        let keys: Vec<u32> = [0, 1, 9, 10, 99, 100, 999, 1000, 123456]
            .iter()
            .map(|&v| bucket_key(v))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    }

    #[test]
    fn interval_shows_only_the_last_completed_period() {
        let mut h = Histogram::default();
        h.record(100);
        h.flush_interval();
        h.record(500);
        let s = h.summary();
        assert_eq!(s.interval.first(), Some(&(0.0, 100.0)));
        assert_eq!(s.cumulative.last(), Some(&(100.0, 510.0)));
        h.flush_interval();
        assert_eq!(h.summary().interval.first(), Some(&(0.0, 500.0)));
        h.flush_interval();
        assert!(h.summary().interval.is_empty());
        assert_eq!(h.count(), 2);
    }

    #[test]
    fn merge_adds_counts_of_equal_keys() {
        let merged = merge(&vec![(100, 1), (210, 2)], &vec![(0, 4), (210, 1), (300, 1)]);
        assert_eq!(merged, vec![(0, 4), (100, 1), (210, 3), (300, 1)]);
        let slots: Vec<usize> = [0, 1, 2, 5, 6, 1000, 1001, 3600000, 3600001]
            .map(bound_slot)
            .to_vec();
        assert_eq!(slots, vec![0, 1, 2, 2, 3, 9, 10, 18, 19]);
    }

    #[test]
    fn quantiles_split_ranks_across_buckets() {
        let mut h = Histogram::default();
        for v in [10, 10, 20, 20] {
            h.record(v);
        }
        let s = h.summary();
        // P50: rank 2 is the end of the first bucket [10, 11).
        assert_eq!(s.cumulative[2], (50.0, 11.0));
        assert_eq!(s.cumulative[9], (100.0, 21.0));
        assert_eq!(s.buckets[2], (5.0, 0));
        assert_eq!(s.buckets[3], (10.0, 2));
        assert_eq!(s.buckets[4], (25.0, 4));
    }
}
