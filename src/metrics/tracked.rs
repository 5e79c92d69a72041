//! Which stats the store keeps: `StatSpec` (series name, where to read it, its kind), the
//! `TrackedStats` list with meshtop's default, and `StatSource`, the seam that reads one spec
//! out of a poll result.
//!
//! A series name is free text: for `/stats` it is the cluster stat suffix
//! (`upstream_rq_timeout`), for a histogram quantile `<suffix>.p<percentile>`
//! (`upstream_rq_time.p99`), and a future `/clusters` source can use names that are not
//! `/stats` suffixes at all (`hosts.rq_timeout`) by implementing [`StatSource`] for its type.

use rustc_hash::FxHashMap;

use crate::envoy::ClusterStats;

/// Counters of the default tracked set (cumulative since proxy start).
const DEFAULT_COUNTERS: &[&str] = &[
    "upstream_rq_total",
    "upstream_rq_timeout",
    "upstream_rq_per_try_timeout",
    "upstream_cx_total",
    "upstream_cx_destroy_with_active_rq",
    "upstream_cx_destroy_local_with_active_rq",
    "upstream_cx_destroy_remote_with_active_rq",
    "upstream_cx_connect_fail",
    "upstream_cx_connect_timeout",
    "upstream_cx_overflow",
    "upstream_cx_none_healthy",
    "upstream_rq_pending_overflow",
    "upstream_rq_retry",
    "upstream_rq_retry_overflow",
    "upstream_rq_retry_limit_exceeded",
    "upstream_rq_rx_reset",
    "upstream_rq_tx_reset",
    "upstream_rq_5xx",
    "upstream_rq_504",
    "upstream_rq_503",
    "lb_healthy_panic",
    "outlier_detection.ejections_enforced_total",
    "outlier_detection.ejections_overflow",
    "ssl.connection_error",
    "ssl.fail_verify_san",
];

/// Gauges of the default tracked set (current values).
const DEFAULT_GAUGES: &[&str] = &[
    "upstream_cx_active",
    "upstream_rq_active",
    "upstream_rq_pending_active",
    "membership_healthy",
    "membership_total",
    "outlier_detection.ejections_active",
    "circuit_breakers.default.rq_pending_open",
    "circuit_breakers.default.rq_open",
    "circuit_breakers.default.cx_open",
    "circuit_breakers.default.rq_retry_open",
];

/// Which summary of a histogram a quantile series records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantilePeriod {
    /// Envoy's last stats-flush interval (the live value; absent when no request finished).
    Interval,
    /// Since proxy start (what Prometheus-format captures carry, as buckets).
    Cumulative,
}

/// How a tracked stat behaves, which decides the queries that make sense for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StatKind {
    /// Cumulative since proxy start: use `delta`/`rate`.
    Counter,
    /// A current level: use `latest`/`series`.
    Gauge,
    /// One percentile (0–100) of a histogram, in the histogram's unit (ms for `*_time`).
    Quantile {
        percentile: f64,
        period: QuantilePeriod,
    },
}

/// One tracked stat: the series `name` queries use, the `source` name read from a poll, and
/// its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct StatSpec {
    pub name: std::sync::Arc<str>,
    pub source: Box<str>,
    pub kind: StatKind,
}

impl StatSpec {
    /// A counter read from the stat (or other source name) of the same name.
    pub fn counter(name: &str) -> Self {
        StatSpec {
            name: name.into(),
            source: name.into(),
            kind: StatKind::Counter,
        }
    }

    /// A gauge read from the stat of the same name.
    pub fn gauge(name: &str) -> Self {
        StatSpec {
            name: name.into(),
            source: name.into(),
            kind: StatKind::Gauge,
        }
    }

    /// Percentile `percentile` of histogram `source`, named `<source>.p<percentile>`
    /// (`upstream_rq_time.p99`, `upstream_rq_time.p99.9`).
    pub fn quantile(source: &str, percentile: f64, period: QuantilePeriod) -> Self {
        StatSpec {
            name: format!("{source}.p{percentile}").into(),
            source: source.into(),
            kind: StatKind::Quantile { percentile, period },
        }
    }
}

/// The ordered list of tracked stats; a stat's position is its column in the store's rows.
#[derive(Debug, Clone)]
pub struct TrackedStats {
    specs: Vec<StatSpec>,
    index: FxHashMap<std::sync::Arc<str>, usize>,
    /// Columns in the order of their names.
    by_name: Vec<usize>,
    /// How many of the specs are counters.
    counters: usize,
}

impl TrackedStats {
    /// Tracks `specs` in this order; a repeated name keeps its first spec.
    pub fn new(specs: impl IntoIterator<Item = StatSpec>) -> Self {
        let mut tracked = TrackedStats {
            specs: Vec::new(),
            index: FxHashMap::default(),
            by_name: Vec::new(),
            counters: 0,
        };
        for spec in specs {
            if !tracked.index.contains_key(&spec.name) {
                tracked.index.insert(spec.name.clone(), tracked.specs.len());
                tracked.specs.push(spec);
            }
        }
        tracked.by_name = (0..tracked.specs.len()).collect();
        let specs = &tracked.specs;
        tracked
            .by_name
            .sort_by(|&a, &b| specs[a].name.cmp(&specs[b].name));
        tracked.counters = (specs.iter())
            .filter(|s| s.kind == StatKind::Counter)
            .count();
        tracked
    }

    /// How many tracked stats are counters.
    pub fn counter_count(&self) -> usize {
        self.counters
    }

    /// The column of series `name`, when it is tracked.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub fn spec(&self, column: usize) -> Option<&StatSpec> {
        self.specs.get(column)
    }

    pub fn specs(&self) -> &[StatSpec] {
        &self.specs
    }

    /// `(column, spec)` in the order of the names: maps keyed by name are built from it in
    /// one sorted pass.
    pub fn by_name(&self) -> impl Iterator<Item = (usize, &StatSpec)> {
        (self.by_name.iter()).filter_map(|&c| Some((c, self.specs.get(c)?)))
    }

    pub fn len(&self) -> usize {
        self.specs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }
}

impl Default for TrackedStats {
    /// meshtop's default: the counters and gauges the hint rules read, plus the interval p99
    /// and p50 of `upstream_rq_time`.
    fn default() -> Self {
        let counters = DEFAULT_COUNTERS.iter().map(|n| StatSpec::counter(n));
        let gauges = DEFAULT_GAUGES.iter().map(|n| StatSpec::gauge(n));
        let quantiles = [99.0, 50.0]
            .map(|p| StatSpec::quantile("upstream_rq_time", p, QuantilePeriod::Interval));
        TrackedStats::new(counters.chain(gauges).chain(quantiles))
    }
}

/// One stored value: counters and gauges are integers, quantiles are floats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    Int(u64),
    Float(f64),
}

impl Reading {
    pub fn as_f64(self) -> f64 {
        match self {
            Reading::Int(v) => v as f64,
            Reading::Float(v) => v,
        }
    }
}

/// Marks "absent in this scrape" in a stored slot. An integer equal to it is stored as
/// `u64::MAX - 1`; no finite float has these bits (they are a NaN, and NaN is stored absent).
pub(crate) const ABSENT: u64 = u64::MAX;

/// The slot bits of a reading (`ABSENT` for a NaN quantile).
pub(crate) fn encode(reading: Reading) -> u64 {
    match reading {
        Reading::Int(v) => v.min(ABSENT - 1),
        Reading::Float(v) if v.is_nan() => ABSENT,
        Reading::Float(v) => v.to_bits(),
    }
}

/// The reading stored in `bits` for a stat of `kind`; `None` when absent.
pub(crate) fn decode(kind: StatKind, bits: u64) -> Option<Reading> {
    match (bits, kind) {
        (ABSENT, _) => None,
        (_, StatKind::Quantile { .. }) => Some(Reading::Float(f64::from_bits(bits))),
        _ => Some(Reading::Int(bits)),
    }
}

/// Something a poll produced for one cluster, able to answer "what is this tracked stat now".
/// `None` means the poll did not carry the stat (not collected), never zero.
pub trait StatSource {
    fn read(&self, spec: &StatSpec) -> Option<Reading>;
}

impl StatSource for ClusterStats {
    fn read(&self, spec: &StatSpec) -> Option<Reading> {
        match spec.kind {
            StatKind::Counter | StatKind::Gauge => self.int(&spec.source).map(Reading::Int),
            StatKind::Quantile { percentile, period } => {
                let h = self.histogram(&spec.source)?;
                let value = match period {
                    QuantilePeriod::Interval => h.interval(percentile),
                    QuantilePeriod::Cumulative => h.cumulative(percentile),
                };
                value.map(Reading::Float)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_set_has_the_agreed_stats_in_order() {
        let t = TrackedStats::default();
        assert_eq!(t.len(), 25 + 10 + 2);
        assert_eq!(t.position("upstream_rq_total"), Some(0));
        assert_eq!(t.position("ssl.fail_verify_san"), Some(24));
        assert_eq!(t.position("upstream_cx_active"), Some(25));
        assert_eq!(t.position("upstream_rq_time.p99"), Some(35));
        assert_eq!(t.position("upstream_rq_time.p50"), Some(36));
        assert_eq!(t.position("upstream_rq_time"), None);
        let p99 = t.spec(35).unwrap();
        assert_eq!(&*p99.source, "upstream_rq_time");
        assert_eq!(
            p99.kind,
            StatKind::Quantile {
                percentile: 99.0,
                period: QuantilePeriod::Interval
            }
        );
    }

    #[test]
    fn repeated_names_keep_the_first_spec() {
        let t = TrackedStats::new([
            StatSpec::counter("hosts.rq_timeout"),
            StatSpec::gauge("hosts.rq_timeout"),
            StatSpec::quantile("upstream_rq_time", 99.9, QuantilePeriod::Cumulative),
        ]);
        assert_eq!(t.len(), 2);
        assert_eq!(t.spec(0).unwrap().kind, StatKind::Counter);
        assert_eq!(t.position("upstream_rq_time.p99.9"), Some(1));
    }

    #[test]
    fn encoding_keeps_absent_apart_from_every_value() {
        let counter = StatKind::Counter;
        let q = StatKind::Quantile {
            percentile: 99.0,
            period: QuantilePeriod::Interval,
        };
        assert_eq!(
            decode(counter, encode(Reading::Int(0))),
            Some(Reading::Int(0))
        );
        assert_eq!(
            decode(counter, encode(Reading::Int(u64::MAX))),
            Some(Reading::Int(u64::MAX - 1))
        );
        assert_eq!(
            decode(q, encode(Reading::Float(12.5))),
            Some(Reading::Float(12.5))
        );
        assert_eq!(
            decode(q, encode(Reading::Float(-0.0))),
            Some(Reading::Float(-0.0))
        );
        assert_eq!(decode(q, encode(Reading::Float(f64::NAN))), None);
        assert_eq!(decode(counter, ABSENT), None);
    }
}
