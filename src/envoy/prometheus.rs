//! Envoy's `/stats/prometheus` (Prometheus text exposition 0.0.4) into a [`StatsSet`], with
//! cluster stats under the same suffixes as the text `/stats` format, so
//! `set.cluster("outbound|80||x").int("upstream_rq_timeout")` works whatever the format.
//!
//! Owns: reading the exposition (submodule `exposition`), mapping metric names back to stat
//! names (`stat_suffix`) and Istio's `istio_requests_total` series (`istio_request`). Pure: no
//! I/O, no clock, never panics on input. To map a new Prometheus name, add a row to the tables
//! in `stat_suffix`.
//!
//! Where a sample goes:
//! - **Cluster stats**: the metric name starts with `envoy_cluster_` and a `cluster_name`
//!   (Istio) or `envoy_cluster_name` (Envoy) label names the cluster. The suffix is the rest of
//!   the name with sub-scopes dotted and tag labels (response codes, classes, cipher suites)
//!   put back. Other labels (Istio `source_*`, Consul `local_cluster`, `consul_source_*`) are
//!   ignored; when two samples map to the same (cluster, suffix), their integer values are
//!   **summed**. Values must be non-negative integers (`1e+06` is fine); others are reported.
//! - **Histograms** (`_bucket` with `le`, `_sum`, `_count`, known from `# TYPE … histogram` or,
//!   without TYPE lines, from an earlier `_bucket` sample with an `le` label) become one
//!   [`Histogram`] with cumulative buckets. **Summaries** (`quantile` label) become a
//!   `Histogram` with [`Quantile`]s: `percentile = 100 × quantile`, the value as `cumulative`
//!   (`NaN` = no data = `None`), no interval.
//! - **Everything else** goes to [`StatsSet::other`] under `name` or `name{k="v",…}` (labels
//!   sorted, values escaped as in the exposition). Values that are not non-negative integers
//!   (Go runtime gauges in merged outputs, `NaN`) are kept as their printed text. Label-free
//!   `envoy_server_*`, `envoy_cluster_manager_*` and `envoy_listener_manager_*` stats are also
//!   stored under their text names (`server.uptime`, used to detect restarts); Consul's
//!   proxy-wide labels do not prevent this.
//!
//! `stat_count` counts sample lines stored; every other sample line is a
//! [`LineIssue`](super::LineIssue), so samples = `stat_count + issues().len()`. Histogram
//! pieces whose `_sum` is not finite, or whose bucket count or `_count` is not an integer,
//! are reported too.

mod exposition;
mod istio_request;
mod stat_suffix;

pub use istio_request::{IstioRequestSeries, istio_requests};

use super::catalog;
use super::cluster_key::ClusterKey;
use super::error::{ParseError, require_text};
use super::stat::{Bucket, Histogram, Quantile};
use super::stats_set::{StatTable, StatsFormat, StatsSet};
use exposition::{Label, LineKind, MetricKind, Number, SampleHead, find_label};
use stat_suffix::{is_proxy_label, write_cluster_suffix, write_key, write_other_alias};

const WHAT: &str = "Prometheus stats capture";

/// Parses a whole `/stats/prometheus` capture. Damaged lines become issues and parsing goes
/// on; the result is an error only for empty or binary input, or when no sample could be read.
pub fn parse_prometheus(input: &str) -> Result<StatsSet, ParseError> {
    let mut set = StatsSet::new(StatsFormat::Prometheus);
    parse_prometheus_into(input, &mut set)?;
    Ok(set)
}

/// Parses a capture into an existing set, reusing its names and buffers (it calls
/// [`StatsSet::begin_reparse`] itself). Values of the previous capture are forgotten.
pub fn parse_prometheus_into(input: &str, set: &mut StatsSet) -> Result<(), ParseError> {
    check_text(input)?;
    set.begin_reparse();
    set.format = StatsFormat::Prometheus;
    let mut reader = SampleReader::default();
    for (i, line) in input.lines().enumerate() {
        reader.read_line(i + 1, line, set);
    }
    if set.stat_count > 0 {
        return Ok(());
    }
    Err(match set.issues().first() {
        Some(first) => ParseError::syntax(
            first.line,
            0,
            format!(
                "no Prometheus sample could be read; first problem: {}",
                first.message
            ),
        ),
        None => ParseError::syntax(1, 0, "no Prometheus samples, only comments"),
    })
}

/// Empty and NUL-bearing input are fatal, as [`require_text`] has it; `&str` is already UTF-8,
/// so the (costly) UTF-8 check is only repeated when there is a NUL to report.
fn check_text(input: &str) -> Result<(), ParseError> {
    if input.bytes().all(|b| b.is_ascii_whitespace())
        || memchr::memchr(0, input.as_bytes()).is_some()
    {
        require_text(input.as_bytes(), WHAT)?;
    }
    Ok(())
}

/// Which piece of a metric family a sample is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    Plain,
    Bucket(f64),
    Quantile(f64),
    Sum,
    Count,
}

/// A sample's value, checked for the piece it is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Observation<'a> {
    Int(u64),
    /// Printed text of a non-integer value (non-cluster stats only).
    Text(&'a str),
    Bucket {
        le: f64,
        count: u64,
    },
    Quantile {
        percentile: f64,
        value: Option<f64>,
    },
    Sum(f64),
    Count(u64),
}

/// Per-capture reading state; the buffers are reused from line to line.
#[derive(Default)]
struct SampleReader<'a> {
    labels: Vec<Label<'a>>,
    /// The family of the last `# TYPE` line.
    family: Option<(&'a str, MetricKind)>,
    /// Base name of the last histogram or summary inferred from a bucket or quantile sample.
    compound: Option<&'a str>,
    name: String,
    alias: String,
    /// A cluster name repaired from Istio's truncation (see [`heal_istio_cluster`]).
    cluster: String,
}

impl<'a> SampleReader<'a> {
    fn read_line(&mut self, line_no: usize, line: &'a str, set: &mut StatsSet) {
        match exposition::classify(line) {
            LineKind::Ignored => {}
            LineKind::Type { family, kind } => self.family = Some((family, kind)),
            LineKind::BadType(err) => set.push_issue(line_no, err.to_string()),
            LineKind::Sample => match self.read_sample(line, set) {
                Ok(()) => set.stat_count += 1,
                Err(message) => set.push_issue(line_no, message),
            },
        }
    }

    fn read_sample(&mut self, line: &'a str, set: &mut StatsSet) -> Result<(), String> {
        let head = exposition::scan_sample(line, &mut self.labels).map_err(|e| e.to_string())?;
        let (part, base) = self.part_of(head.name)?;
        match cluster_of(base, &self.labels) {
            Some((cluster, rest)) => {
                let obs = observe(part, head, false)?;
                write_cluster_suffix(rest, &self.labels, &mut self.name);
                let cluster = match catalog::is_cluster_suffix(&self.name) {
                    true => cluster,
                    false => heal_istio_cluster(
                        cluster,
                        rest,
                        &self.labels,
                        &mut self.name,
                        &mut self.cluster,
                    ),
                };
                store(set.cluster_mut(cluster), &self.name, obs, true);
            }
            None => {
                let obs = observe(part, head, true)?;
                self.store_other(base, part, obs, set.other_mut());
            }
        }
        Ok(())
    }

    /// Decides whether `name` is a plain value or a piece of a histogram or summary, and the
    /// family's base name.
    fn part_of(&mut self, name: &'a str) -> Result<(Part, &'a str), String> {
        if let Some((family, kind)) = self.family
            && family == name
            && !matches!(kind, MetricKind::Histogram | MetricKind::Summary)
        {
            return Ok((Part::Plain, name));
        }
        if let Some(base) = name.strip_suffix("_bucket")
            && let Some(le) = find_label(&self.labels, "le")
        {
            let le = Number::parse(le)
                .map(Number::as_f64)
                .filter(|le| !le.is_nan())
                .ok_or_else(|| format!("histogram bucket bound le=\"{le}\" is not a number"))?;
            self.compound = Some(base);
            return Ok((Part::Bucket(le), base));
        }
        if let Some(q) = find_label(&self.labels, "quantile") {
            let q = q
                .parse::<f64>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))
                .ok_or_else(|| format!("quantile=\"{q}\" is not a number between 0 and 1"))?;
            self.compound = Some(name);
            return Ok((Part::Quantile(q), name));
        }
        for (suffix, part) in [("_sum", Part::Sum), ("_count", Part::Count)] {
            if let Some(base) = name.strip_suffix(suffix)
                && self.is_compound(base)
            {
                return Ok((part, base));
            }
        }
        Ok((Part::Plain, name))
    }

    fn is_compound(&self, base: &str) -> bool {
        self.compound == Some(base)
            || matches!(self.family, Some((family, MetricKind::Histogram | MetricKind::Summary)) if family == base)
    }

    /// Stores a non-cluster sample under its canonical name, and under its text-format alias
    /// when it has one.
    fn store_other(&mut self, base: &str, part: Part, obs: Observation<'_>, table: &mut StatTable) {
        let skip = match part {
            Part::Bucket(_) => "le",
            Part::Quantile(_) => "quantile",
            Part::Plain | Part::Sum | Part::Count => "",
        };
        self.labels.sort_unstable_by(|a, b| a.name.cmp(b.name));
        write_key(base, &self.labels, skip, &mut self.name);
        store(table, &self.name, obs, false);
        let proxy_wide = self
            .labels
            .iter()
            .all(|l| l.name == skip || is_proxy_label(l.name));
        if proxy_wide && write_other_alias(base, &mut self.alias) {
            store(table, &self.alias, obs, false);
        }
    }
}

/// Istio ≤ 1.22 extracts `cluster_name` with the lazy regex
/// `^cluster\.((.+?(\..+?\.svc\.cluster\.local)?)\.)`, so for a host outside
/// `.svc.cluster.local` (a ServiceEntry like `api.stripe.com`) the label keeps only the first
/// DNS label (`outbound|443||api`) and the rest of the host lands in the metric name
/// (`envoy_cluster_stripe_com_upstream_cx_total`). This moves it back: the longest metric-name
/// tail that is a known stat suffix is the stat; what precedes it, with `_` read as `.` (DNS
/// names have no `_`), completes the host. `name` holds the stat suffix on return; the
/// repaired cluster name is written to `buf`. Anything else is returned unchanged.
fn heal_istio_cluster<'b>(
    cluster: &'b str,
    rest: &str,
    labels: &[Label<'_>],
    name: &mut String,
    buf: &'b mut String,
) -> &'b str {
    let truncated = ClusterKey::parse(cluster)
        .istio()
        .is_some_and(|c| !c.host.is_empty() && !c.host.contains('.'));
    if !truncated {
        return cluster;
    }
    let mut candidate = String::new();
    for (i, _) in rest.match_indices('_') {
        write_cluster_suffix(&rest[i + 1..], labels, &mut candidate);
        if catalog::is_cluster_suffix(&candidate) {
            buf.clear();
            buf.push_str(cluster);
            buf.push('.');
            buf.extend(rest[..i].chars().map(|c| if c == '_' { '.' } else { c }));
            std::mem::swap(name, &mut candidate);
            return buf;
        }
    }
    cluster
}

/// The cluster a sample belongs to and its metric name after `envoy_cluster_`.
fn cluster_of<'l, 'a>(base: &'a str, labels: &'l [Label<'_>]) -> Option<(&'l str, &'a str)> {
    let rest = base.strip_prefix("envoy_cluster_")?;
    let cluster =
        find_label(labels, "cluster_name").or_else(|| find_label(labels, "envoy_cluster_name"))?;
    (!cluster.is_empty() && !rest.is_empty()).then_some((cluster, rest))
}

/// Checks the value for the piece it is. `text_ok`: a non-integer plain value may be kept as
/// text (non-cluster stats).
fn observe(part: Part, head: SampleHead<'_>, text_ok: bool) -> Result<Observation<'_>, String> {
    let text = head.value_text;
    let int = |what: &str| {
        head.value
            .as_u64()
            .ok_or_else(|| format!("{what} {text} is not a non-negative integer"))
    };
    let float = head.value.as_f64();
    Ok(match part {
        Part::Plain if text_ok => head
            .value
            .as_u64()
            .map_or(Observation::Text(text), Observation::Int),
        Part::Plain => Observation::Int(int("cluster stat value")?),
        Part::Bucket(le) => Observation::Bucket {
            le,
            count: int("histogram bucket count")?,
        },
        Part::Count => Observation::Count(int("histogram count")?),
        Part::Sum if float.is_finite() => Observation::Sum(float),
        Part::Sum => return Err(format!("histogram sum {text} is not a finite number")),
        Part::Quantile(q) => Observation::Quantile {
            percentile: q * 100.0,
            value: float.is_finite().then_some(float),
        },
    })
}

/// Writes one observation into `table[name]`; integers are summed when `sum_ints`.
fn store(table: &mut StatTable, name: &str, obs: Observation<'_>, sum_ints: bool) {
    match obs {
        Observation::Int(v) if sum_ints => table.add_int(name, v),
        Observation::Int(v) => table.set_int(name, v),
        Observation::Text(t) => table.set_text(name, t),
        _ => record(table.histogram_accumulate(name), obs),
    }
}

/// Adds a histogram or summary piece. Buckets stay sorted by bound; a bound seen twice (the
/// same histogram under different ignored labels) has its counts added, as do sums and counts.
fn record(h: &mut Histogram, obs: Observation<'_>) {
    match obs {
        Observation::Bucket { le, count } => {
            let i = h.buckets.partition_point(|b| b.le < le);
            match h.buckets.get_mut(i) {
                Some(b) if b.le == le => b.count = b.count.saturating_add(count),
                _ => h.buckets.insert(i, Bucket { le, count }),
            }
        }
        Observation::Quantile { percentile, value } => {
            match h.quantiles.iter_mut().find(|q| q.percentile == percentile) {
                Some(q) => q.cumulative = value,
                None => h.quantiles.push(Quantile {
                    percentile,
                    interval: None,
                    cumulative: value,
                }),
            }
        }
        Observation::Sum(v) => h.sum = Some(h.sum.unwrap_or(0.0) + v),
        Observation::Count(v) => h.count = Some(h.count.unwrap_or(0).saturating_add(v)),
        Observation::Int(_) | Observation::Text(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::{LineIssue, StatValue};

    const ISTIO_CLUSTER: &str = "outbound|80||reviews.prod.svc.cluster.local";

    fn parse(input: &str) -> StatsSet {
        parse_prometheus(input).unwrap()
    }

    fn issue(line: usize, message: &str) -> LineIssue {
        LineIssue {
            line,
            message: message.to_string(),
        }
    }

    #[test]
    fn istio_122_truncated_service_entry_names_are_repaired() {
        let set = parse(concat!(
            "envoy_cluster_stripe_com_upstream_cx_total{cluster_name=\"outbound|443||api\"} 215\n",
            "envoy_cluster_stripe_com_circuit_breakers_default_cx_open{cluster_name=\"outbound|443||api\"} 0\n",
            "envoy_cluster_upstream_cx_total{cluster_name=\"outbound|8080||inventory-svc.prod.svc.cluster.local\"} 9\n",
        ));
        assert!(
            set.cluster("outbound|443||api").is_none(),
            "no half cluster left behind"
        );
        let stripe = set
            .cluster("outbound|443||api.stripe.com")
            .expect("repaired name");
        assert_eq!(stripe.int("upstream_cx_total"), Some(215));
        assert_eq!(stripe.int("circuit_breakers.default.cx_open"), Some(0));
        let inv = set
            .cluster("outbound|8080||inventory-svc.prod.svc.cluster.local")
            .unwrap();
        assert_eq!(inv.int("upstream_cx_total"), Some(9));
    }

    #[test]
    fn envoy_and_istio_cluster_labels() {
        let set = parse(concat!(
            "envoy_cluster_upstream_rq_timeout{envoy_cluster_name=\"service_a\"} 3\n",
            "envoy_cluster_upstream_rq_timeout{cluster_name=\"outbound|80||reviews.prod.svc.cluster.local\"} 4\n",
            "envoy_cluster_upstream_cx_total{source_workload=\"x\",cluster_name=\"outbound|80||reviews.prod.svc.cluster.local\"} 9\n",
        ));
        assert_eq!(set.format, StatsFormat::Prometheus);
        assert_eq!(set.cluster_count(), 2);
        assert_eq!(
            set.cluster("service_a").unwrap().int("upstream_rq_timeout"),
            Some(3)
        );
        let istio = set.cluster(ISTIO_CLUSTER).unwrap();
        assert_eq!(istio.int("upstream_rq_timeout"), Some(4));
        assert_eq!(istio.int("upstream_cx_total"), Some(9));
        assert_eq!(istio.stats.len(), 2);
        assert_eq!(
            (set.stat_count, set.issues().len(), set.other().len()),
            (3, 0, 0)
        );
    }

    #[test]
    fn response_codes_and_classes_envoy_and_istio() {
        let set = parse(concat!(
            "envoy_cluster_upstream_rq{envoy_response_code=\"503\",envoy_cluster_name=\"a\"} 2\n",
            "envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"5\",envoy_cluster_name=\"a\"} 2\n",
            "envoy_cluster_internal_upstream_rq_xx{envoy_response_code_class=\"2\",envoy_cluster_name=\"a\"} 7\n",
            "envoy_cluster_upstream_rq{response_code=\"200\",cluster_name=\"b\"} 10\n",
            "envoy_cluster_upstream_rq{response_code_class=\"2xx\",cluster_name=\"b\"} 10\n",
            "envoy_cluster_external_upstream_rq{response_code=\"504\",cluster_name=\"b\"} 1\n",
        ));
        let a = set.cluster("a").unwrap();
        assert_eq!(a.int("upstream_rq_503"), Some(2));
        assert_eq!(a.int("upstream_rq_5xx"), Some(2));
        assert_eq!(a.int("internal.upstream_rq_2xx"), Some(7));
        assert_eq!(a.int("upstream_rq"), None);
        let b = set.cluster("b").unwrap();
        assert_eq!(b.int("upstream_rq_200"), Some(10));
        assert_eq!(b.int("upstream_rq_2xx"), Some(10));
        assert_eq!(b.int("external.upstream_rq_504"), Some(1));
    }

    #[test]
    fn same_stat_under_different_extra_labels_is_summed() {
        let set = parse(concat!(
            "envoy_cluster_upstream_rq{response_code=\"503\",source_app=\"a\",cluster_name=\"c\"} 2\n",
            "envoy_cluster_upstream_rq{response_code=\"503\",source_app=\"b\",cluster_name=\"c\"} 5\n",
            "envoy_cluster_upstream_rq_total{local_cluster=\"x\",cluster_name=\"c\"} 1\n",
        ));
        assert_eq!(set.cluster("c").unwrap().int("upstream_rq_503"), Some(7));
        assert_eq!(set.stat_count, 3);
    }

    #[test]
    fn circuit_breakers_and_other_scopes() {
        let set = parse(concat!(
            "# TYPE envoy_cluster_circuit_breakers_default_rq_open gauge\n",
            "envoy_cluster_circuit_breakers_default_rq_open{envoy_cluster_name=\"a\"} 1\n",
            "envoy_cluster_circuit_breakers_high_cx_open{envoy_cluster_name=\"a\"} 0\n",
            "envoy_cluster_circuit_breakers_default_remaining_cx_pools{envoy_cluster_name=\"a\"} 18446744073709551614\n",
            "envoy_cluster_outlier_detection_ejections_active{envoy_cluster_name=\"a\"} 2\n",
            "envoy_cluster_default_total_match_count{envoy_cluster_name=\"a\"} 1\n",
            "envoy_cluster_tlsMode_istio_total_match_count{envoy_cluster_name=\"a\"} 4\n",
            "envoy_cluster_ssl_handshake{envoy_cluster_name=\"a\"} 6\n",
        ));
        let a = set.cluster("a").unwrap();
        assert_eq!(a.int("circuit_breakers.default.rq_open"), Some(1));
        assert_eq!(a.int("circuit_breakers.high.cx_open"), Some(0));
        assert_eq!(
            a.int("circuit_breakers.default.remaining_cx_pools"),
            Some(18_446_744_073_709_551_614)
        );
        assert_eq!(a.int("outlier_detection.ejections_active"), Some(2));
        assert_eq!(
            a.int("default.total_match_count"),
            Some(1),
            "a counter ending in _count"
        );
        assert_eq!(a.int("tlsMode-istio.total_match_count"), Some(4));
        assert_eq!(a.int("ssl.handshake"), Some(6));
    }

    const HISTOGRAM: &str = concat!(
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"a\",le=\"0.5\"} 0\n",
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"a\",le=\"1\"} 3\n",
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"a\",le=\"1e+06\"} 9\n",
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"a\",le=\"+Inf\"} 10\n",
        "envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"a\"} 1234.5\n",
        "envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"a\"} 10\n",
    );

    fn expected_histogram() -> Histogram {
        Histogram {
            buckets: vec![
                Bucket { le: 0.5, count: 0 },
                Bucket { le: 1.0, count: 3 },
                Bucket { le: 1e6, count: 9 },
                Bucket {
                    le: f64::INFINITY,
                    count: 10,
                },
            ],
            sum: Some(1234.5),
            count: Some(10),
            ..Histogram::default()
        }
    }

    #[test]
    fn histogram_without_type_lines() {
        let set = parse(HISTOGRAM);
        let a = set.cluster("a").unwrap();
        assert_eq!(a.histogram("upstream_rq_time"), Some(&expected_histogram()));
        assert_eq!(a.stats.len(), 1);
        assert_eq!(set.stat_count, 6);
    }

    #[test]
    fn histogram_with_type_line_and_sum_count_first() {
        let input = format!(
            "# TYPE envoy_cluster_upstream_rq_time histogram\n{}{}",
            "envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"a\"} 10\n",
            HISTOGRAM
                .lines()
                .rev()
                .skip(1)
                .collect::<Vec<_>>()
                .join("\n"),
        );
        let set = parse(&input);
        assert_eq!(
            set.cluster("a").unwrap().histogram("upstream_rq_time"),
            Some(&expected_histogram())
        );
        assert!(set.issues().is_empty(), "{:?}", set.issues());
    }

    #[test]
    fn plain_sum_and_count_are_not_histogram_parts_without_a_family() {
        let set =
            parse("envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"a\"} 4\nx_sum 2.5\n");
        assert_eq!(
            set.cluster("a").unwrap().int("upstream_rq_time_count"),
            Some(4)
        );
        assert_eq!(
            set.other().get("x_sum"),
            Some(&StatValue::Text("2.5".into()))
        );
    }

    #[test]
    fn nan_and_fractions_in_cluster_stats_are_reported_with_line_numbers() {
        let set = parse(concat!(
            "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"a\"} NaN\n",
            "envoy_cluster_upstream_rq_active{envoy_cluster_name=\"a\"} 1.5\n",
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"a\"} 1e+06\n",
            "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"a\",le=\"NaN\"} 1\n",
            "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"a\",le=\"+Inf\"} -Inf\n",
            "envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"a\"} +Inf\n",
        ));
        assert_eq!(
            set.cluster("a").unwrap().int("upstream_cx_total"),
            Some(1_000_000)
        );
        assert_eq!(set.cluster("a").unwrap().stats.len(), 1);
        assert_eq!(
            set.issues(),
            &[
                issue(1, "cluster stat value NaN is not a non-negative integer"),
                issue(2, "cluster stat value 1.5 is not a non-negative integer"),
                issue(4, "histogram bucket bound le=\"NaN\" is not a number"),
                issue(
                    5,
                    "histogram bucket count -Inf is not a non-negative integer"
                ),
                issue(6, "histogram sum +Inf is not a finite number"),
            ]
        );
        assert_eq!(set.stat_count, 1);
    }

    #[test]
    fn summaries_with_nan_quantiles_go_to_other() {
        let set = parse(concat!(
            "# TYPE consul_connect_duration summary\n",
            "consul_connect_duration{quantile=\"0.5\"} NaN\n",
            "consul_connect_duration{quantile=\"0.99\"} 12.5\n",
            "consul_connect_duration_sum 321.85443115234375\n",
            "consul_connect_duration_count 1\n",
            "go_gc_duration_seconds{quantile=\"0\"} 2.194e-05\n",
            "go_gc_duration_seconds_count 273\n",
        ));
        let h = set
            .other()
            .get("consul_connect_duration")
            .and_then(StatValue::as_histogram)
            .unwrap();
        assert_eq!(
            h.quantiles,
            vec![
                Quantile {
                    percentile: 50.0,
                    interval: None,
                    cumulative: None
                },
                Quantile {
                    percentile: 99.0,
                    interval: None,
                    cumulative: Some(12.5)
                },
            ]
        );
        assert_eq!((h.sum, h.count), (Some(321.854_431_152_343_75), Some(1)));
        assert_eq!(h.cumulative(99.0), Some(12.5));
        let gc = set
            .other()
            .get("go_gc_duration_seconds")
            .and_then(StatValue::as_histogram)
            .unwrap();
        assert_eq!(
            (gc.quantiles[0].cumulative, gc.count),
            (Some(2.194e-05), Some(273))
        );
        assert_eq!(set.other().len(), 2);
        assert_eq!(set.stat_count, 6);
    }

    #[test]
    fn escaped_label_values_and_timestamps() {
        let set = parse(concat!(
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"we\\\"ird, \\\\name\",} 5 1395066363000\n",
            "envoy_http_downstream_rq_total{b=\"x\\ny\", a=\"1\"} 2\n",
        ));
        assert_eq!(
            set.cluster("we\"ird, \\name")
                .unwrap()
                .int("upstream_cx_total"),
            Some(5)
        );
        let key = "envoy_http_downstream_rq_total{a=\"1\",b=\"x\\ny\"}";
        assert_eq!(set.other().get(key), Some(&StatValue::Int(2)));
    }

    #[test]
    fn bad_lines_are_reported_and_parsing_continues() {
        let set = parse(concat!(
            "# TYPE envoy_server_uptime gauge\n",
            "envoy_server_uptime 10\n",
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"a\" 5\n",
            "\n",
            "# TYPE broken\n",
            "not a sample\n",
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"a\"} 6\n",
        ));
        assert_eq!(
            set.issues(),
            &[
                issue(3, "column 56: expected ',' or '}' after a label value"),
                issue(5, "column 3: # TYPE needs a metric name and a type"),
                issue(6, "column 5: value is not a number"),
            ]
        );
        assert_eq!(set.cluster("a").unwrap().int("upstream_cx_total"), Some(6));
        assert_eq!(set.stat_count, 2);
    }

    #[test]
    fn old_envoy_without_type_lines_and_empty_label_sets() {
        let set = parse(concat!(
            "envoy_cluster_manager_cds_update_attempt{} 2\n",
            "envoy_server_uptime{} 208\n",
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"xds_cluster\"} 1\n",
            "envoy_http_downstream_rq_xx{envoy_response_code_class=\"2\",envoy_http_conn_manager_prefix=\"ingress_http\"} 0\n",
        ));
        assert_eq!(set.uptime_seconds(), Some(208));
        assert_eq!(
            set.other().get("envoy_server_uptime"),
            Some(&StatValue::Int(208))
        );
        assert_eq!(
            set.other().get("cluster_manager.cds.update_attempt"),
            Some(&StatValue::Int(2))
        );
        let key = "envoy_http_downstream_rq_xx{envoy_http_conn_manager_prefix=\"ingress_http\",envoy_response_code_class=\"2\"}";
        assert_eq!(set.other().get(key), Some(&StatValue::Int(0)));
        assert_eq!(set.cluster_count(), 1);
        assert_eq!(set.other().len(), 5, "two aliases");
    }

    #[test]
    fn server_uptime_alias_ignores_proxy_wide_labels_only() {
        let set = parse(concat!(
            "envoy_server_uptime{local_cluster=\"web\",consul_source_service=\"web\"} 32527\n",
            "envoy_server_watchdog_miss{thread_name=\"main_thread\"} 1\n",
            "envoy_server_memory_allocated 1.5e+07\n",
        ));
        assert_eq!(set.uptime_seconds(), Some(32527));
        let key = "envoy_server_uptime{consul_source_service=\"web\",local_cluster=\"web\"}";
        assert_eq!(set.other().get(key), Some(&StatValue::Int(32527)));
        assert_eq!(
            set.other().get("server.watchdog_miss"),
            None,
            "a stat label blocks the alias"
        );
        assert_eq!(
            set.other().get("server.memory_allocated"),
            Some(&StatValue::Int(15_000_000))
        );
    }

    #[test]
    fn non_cluster_histograms_and_non_integer_values() {
        let set = parse(concat!(
            "# TYPE istio_request_duration_milliseconds histogram\n",
            "istio_request_duration_milliseconds_bucket{reporter=\"source\",le=\"5\"} 1\n",
            "istio_request_duration_milliseconds_bucket{reporter=\"source\",le=\"+Inf\"} 2\n",
            "istio_request_duration_milliseconds_sum{reporter=\"source\"} 7.5\n",
            "istio_request_duration_milliseconds_count{reporter=\"source\"} 2\n",
            "process_resident_memory_bytes -1\n",
            "go_gauge NaN\n",
        ));
        let key = "istio_request_duration_milliseconds{reporter=\"source\"}";
        let h = set
            .other()
            .get(key)
            .and_then(StatValue::as_histogram)
            .unwrap();
        assert_eq!(
            h.buckets,
            vec![
                Bucket { le: 5.0, count: 1 },
                Bucket {
                    le: f64::INFINITY,
                    count: 2
                }
            ]
        );
        assert_eq!((h.sum, h.count), (Some(7.5), Some(2)));
        assert_eq!(
            set.other().get("process_resident_memory_bytes"),
            Some(&StatValue::Text("-1".into()))
        );
        assert_eq!(
            set.other().get("go_gauge"),
            Some(&StatValue::Text("NaN".into()))
        );
        assert!(set.issues().is_empty());
    }

    #[test]
    fn duplicate_histograms_under_ignored_labels_are_merged() {
        let input = concat!(
            "envoy_cluster_upstream_rq_time_bucket{cluster_name=\"c\",source_app=\"x\",le=\"1\"} 1\n",
            "envoy_cluster_upstream_rq_time_bucket{cluster_name=\"c\",source_app=\"x\",le=\"+Inf\"} 2\n",
            "envoy_cluster_upstream_rq_time_count{cluster_name=\"c\",source_app=\"x\"} 2\n",
            "envoy_cluster_upstream_rq_time_bucket{cluster_name=\"c\",source_app=\"y\",le=\"0.5\"} 1\n",
            "envoy_cluster_upstream_rq_time_bucket{cluster_name=\"c\",source_app=\"y\",le=\"1\"} 1\n",
            "envoy_cluster_upstream_rq_time_bucket{cluster_name=\"c\",source_app=\"y\",le=\"+Inf\"} 3\n",
            "envoy_cluster_upstream_rq_time_count{cluster_name=\"c\",source_app=\"y\"} 3\n",
        );
        let set = parse(input);
        let h = set
            .cluster("c")
            .unwrap()
            .histogram("upstream_rq_time")
            .unwrap();
        let bounds: Vec<(f64, u64)> = h.buckets.iter().map(|b| (b.le, b.count)).collect();
        assert_eq!(bounds, vec![(0.5, 1), (1.0, 2), (f64::INFINITY, 5)]);
        assert_eq!(h.count, Some(5));
    }

    #[test]
    fn reparse_replaces_values_instead_of_adding() {
        let mut set = parse(HISTOGRAM);
        let next = HISTOGRAM.replace("} 10\n", "} 12\n");
        parse_prometheus_into(&next, &mut set).unwrap();
        let h = set
            .cluster("a")
            .unwrap()
            .histogram("upstream_rq_time")
            .unwrap();
        assert_eq!(
            (h.count, h.buckets.len(), h.buckets[3].count),
            (Some(12), 4, 12)
        );
        parse_prometheus_into(
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"b\"} 1\n",
            &mut set,
        )
        .unwrap();
        assert_eq!(set.cluster_count(), 1);
        assert!(set.cluster("a").is_none());
        parse_prometheus_into(
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"b\"} 4\n",
            &mut set,
        )
        .unwrap();
        assert_eq!(set.cluster("b").unwrap().int("upstream_cx_total"), Some(4));
        assert_eq!(set.stat_count, 1);
    }

    #[test]
    fn fatal_only_when_nothing_parses() {
        assert_eq!(parse_prometheus("").unwrap_err(), ParseError::Empty(WHAT));
        assert_eq!(
            parse_prometheus(" \n\n").unwrap_err(),
            ParseError::Empty(WHAT)
        );
        assert_eq!(
            parse_prometheus("a 1\nb\0").unwrap_err(),
            ParseError::Binary { line: 2, byte: 5 }
        );
        let err = parse_prometheus("{\"stats\": []}\n").unwrap_err();
        assert_eq!(err.line(), 1);
        assert_eq!(
            err.to_string(),
            "1: no Prometheus sample could be read; first problem: column 1: expected a metric name"
        );
        let err = parse_prometheus("# HELP x y\n# TYPE x counter\n").unwrap_err();
        assert_eq!(err.to_string(), "1: no Prometheus samples, only comments");
        let set = parse("garbage line here\r\nm 1\r\n");
        assert_eq!((set.stat_count, set.issues().len()), (1, 1));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let alphabet = b"ab_{}=\",\\ \n#TYPE0.5+InfNaNle\"quantile_bucket_sum_count envoy_cluster_";
        for _ in 0..2000 {
            let text: String = (0..40)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize] as char
                })
                .collect();
            let _ = parse_prometheus(&text);
            let _ = istio_requests(&text);
        }
    }
}
