//! Envoy's plain-text `/stats` output: `name: value` lines, where a value is an integer, a
//! quoted text readout, a histogram summary `P0(interval,cumulative) … P100(…)`, cumulative
//! buckets `B0.5(interval,cumulative) …` (`histogram_buckets=cumulative`) or
//! `No recorded values`.
//!
//! The hot loop borrows everything from the input and, when re-parsing into the same
//! [`StatsSet`], allocates nothing per line (see `stats_set`).

use super::error::{ParseError, require_text_start};
use super::stat::{Bucket, Histogram, Quantile};
use super::stat_name;
use super::stats_set::{StatTable, StatsFormat, StatsSet};

/// Parses a text `/stats` capture into a new [`StatsSet`].
pub fn parse_stats_text(input: &[u8]) -> Result<StatsSet, ParseError> {
    let mut set = StatsSet::new(StatsFormat::Text);
    parse_stats_text_into(input, &mut set)?;
    Ok(set)
}

/// Re-parses a text `/stats` capture into an existing set, reusing its memory.
///
/// Damaged lines are recorded as issues and skipped. It fails only when the input is empty,
/// starts with binary data, or has no line that reads as a stat.
pub fn parse_stats_text_into(input: &[u8], set: &mut StatsSet) -> Result<(), ParseError> {
    require_text_start(input, "/stats capture")?;
    set.begin_reparse();
    set.format = StatsFormat::Text;
    let mut scratch = Histogram::default();
    let (mut pos, mut line_no) = (0, 0);
    while pos < input.len() {
        line_no += 1;
        if let Some(len) = fast_int_line(&input[pos..], set) {
            // Same layout as the previous parse: an integer stat where the cursor expects it.
            pos += len;
            set.stat_count += 1;
            set.record_placement(Some(set.cursor_cluster()));
            continue;
        }
        let end = memchr::memchr(b'\n', &input[pos..]).map_or(input.len(), |i| pos + i);
        let raw = &input[pos..end];
        pos = end + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            continue;
        }
        let result = match std::str::from_utf8(raw) {
            Ok(line) if memchr::memchr(0, raw).is_none() => {
                parse_line(line, line_no, set, &mut scratch)
            }
            _ => Err("binary data on this line (not UTF-8 text)".to_string()),
        };
        if let Err(reason) = result {
            set.push_issue(line_no, reason);
        }
    }
    set.repair_scope_splits();
    if set.stat_count == 0 {
        let reason = match set.issues().first() {
            Some(first) => format!(
                "no Envoy stat line found (first problem: {})",
                first.message
            ),
            None => "no Envoy stat line found".to_string(),
        };
        return Err(ParseError::syntax(
            set.issues().first().map_or(1, |i| i.line),
            0,
            reason,
        ));
    }
    Ok(())
}

/// The steady-state fast path: `cluster.<name>.<suffix>: <digits>\n` where `<name>` is the
/// cluster at the cursor (or the next one) and `<suffix>` the stat its table expects next.
/// Returns the bytes consumed, newline included; `None` sends the line to the general path.
fn fast_int_line(bytes: &[u8], set: &mut StatsSet) -> Option<usize> {
    let rest = bytes.strip_prefix(b"cluster.")?;
    let (offset, value_at) = (0..2).find_map(|offset| {
        let (cluster, suffix) = set.cursor_expectation(offset)?;
        let after = rest.strip_prefix(cluster.as_bytes())?;
        let after = match after.first()? {
            b'.' => &after[1..],
            b';' => after.strip_prefix(b";.")?,
            _ => return None,
        };
        let tail = after.strip_prefix(suffix.as_bytes())?.strip_prefix(b": ")?;
        Some((offset, bytes.len() - tail.len()))
    })?;
    let (value, len) = scan_u64_line(&bytes[value_at..])?;
    set.advance_cursor_mut(offset)
        .set_int_at_cursor(value)
        .then_some(value_at + len)
}

/// Digits up to the end of the line: the value and the bytes consumed (newline included).
fn scan_u64_line(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            // At most 20 digits, as the general path's `parse_u64` reads them.
            b'0'..=b'9' if i < 20 => v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?,
            b'\n' => return (i > 0).then_some((v, i + 1)),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => return (i > 0).then_some((v, i + 2)),
            _ => return None,
        }
        i += 1;
    }
    (i > 0).then_some((v, i))
}

/// Reads one `name: value` line into the set.
fn parse_line(
    line: &str,
    line_no: usize,
    set: &mut StatsSet,
    scratch: &mut Histogram,
) -> Result<(), String> {
    let Some(sep) = find_separator(line) else {
        return Err(format!(
            "no `: ` between stat name and value in {:?}",
            clip(line)
        ));
    };
    let (name, value) = (&line[..sep], &line[sep + 2..]);
    if name.is_empty() {
        return Err("empty stat name".to_string());
    }
    let value = classify(value).map_err(|e| format!("{e} for `{}`", clip(name)))?;
    // Read histogram tokens before choosing the table, so a bad value is one issue only.
    scratch.clear();
    match value {
        RawValue::Summary(s) => parse_summary(s, scratch)?,
        RawValue::Buckets(s) => parse_buckets(s, scratch)?,
        _ => {}
    }
    let other: *const StatTable = set.other();
    let (table, stat) = stat_name::table_for(set, name, line_no);
    let is_other = std::ptr::eq(table, other);
    store(table, stat, value, scratch);
    set.stat_count += 1;
    set.record_placement((!is_other).then(|| set.cursor_cluster()));
    Ok(())
}

/// The value part of a line, classified but not yet stored.
#[derive(Debug, Clone, Copy)]
enum RawValue<'a> {
    Int(u64),
    Text(&'a str),
    Summary(&'a str),
    Buckets(&'a str),
    NoValues,
}

fn classify(value: &str) -> Result<RawValue<'_>, &'static str> {
    match value.as_bytes().first() {
        Some(b'0'..=b'9') => parse_u64(value)
            .map(RawValue::Int)
            .ok_or("bad integer value"),
        Some(b'"') => match value.len() >= 2 && value.ends_with('"') {
            true => Ok(RawValue::Text(&value[1..value.len() - 1])),
            false => Err("unterminated text readout"),
        },
        Some(b'P') => Ok(RawValue::Summary(value)),
        Some(b'B') => Ok(RawValue::Buckets(value)),
        _ if value == "No recorded values" => Ok(RawValue::NoValues),
        Some(_) => Err("unrecognised value"),
        None => Err("missing value"),
    }
}

/// Stores a classified value. Histograms were already parsed into `scratch`, so a cut line
/// leaves no half value behind; the stored histogram's buffers are reused, so nothing is
/// allocated in the steady state.
fn store(table: &mut StatTable, name: &str, value: RawValue<'_>, scratch: &Histogram) {
    match value {
        RawValue::Int(v) => table.set_int(name, v),
        RawValue::Text(t) => table.set_text(name, t),
        RawValue::NoValues => {
            table.histogram_mut(name);
        }
        RawValue::Summary(_) => {
            let h = table.histogram_mut(name);
            h.quantiles.extend_from_slice(&scratch.quantiles);
        }
        RawValue::Buckets(_) => {
            let h = table.histogram_mut(name);
            h.buckets.extend_from_slice(&scratch.buckets);
        }
    }
}

/// The first `": "`: names never contain a space, text readouts may contain `": "`.
fn find_separator(line: &str) -> Option<usize> {
    let space = memchr::memchr(b' ', line.as_bytes())?;
    (space > 0 && line.as_bytes()[space - 1] == b':').then(|| space - 1)
}

/// Fast decimal `u64` parse; `None` on any non-digit or overflow.
fn parse_u64(s: &str) -> Option<u64> {
    let bytes = s.as_bytes();
    if bytes.is_empty() || bytes.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in bytes {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// `P0(nan,11) P25(nan,11.25) …` → quantiles.
fn parse_summary(s: &str, h: &mut Histogram) -> Result<(), String> {
    for token in s.split(' ').filter(|t| !t.is_empty()) {
        let (label, interval, cumulative) = parse_pair(token, 'P')?;
        h.quantiles.push(Quantile {
            percentile: label,
            interval,
            cumulative,
        });
    }
    Ok(())
}

/// `B0.5(0,0) B1(0,2) …` (cumulative bucket mode) → buckets with cumulative counts.
fn parse_buckets(s: &str, h: &mut Histogram) -> Result<(), String> {
    for token in s.split(' ').filter(|t| !t.is_empty()) {
        let (le, _, cumulative) = parse_pair(token, 'B')?;
        let count = cumulative.filter(|c| *c >= 0.0).unwrap_or(0.0) as u64;
        h.buckets.push(Bucket { le, count });
    }
    Ok(())
}

/// One `X<label>(<interval>,<cumulative>)` token; `nan` becomes `None`.
fn parse_pair(token: &str, lead: char) -> Result<(f64, Option<f64>, Option<f64>), String> {
    let bad = || format!("bad histogram token `{}`", clip(token));
    let body = token.strip_prefix(lead).ok_or_else(bad)?.as_bytes();
    let open = memchr::memchr(b'(', body).ok_or_else(bad)?;
    let inner = body[open + 1..].strip_suffix(b")").ok_or_else(bad)?;
    let comma = memchr::memchr(b',', inner).ok_or_else(bad)?;
    let label = parse_float(&body[..open]).ok().flatten().ok_or_else(bad)?;
    let interval = parse_float(&inner[..comma]).map_err(|_| bad())?;
    let cumulative = parse_float(&inner[comma + 1..]).map_err(|_| bad())?;
    Ok((label, interval, cumulative))
}

/// A histogram number; `nan` is `None`. Plain decimals with up to 15 significant digits take
/// an exact fast path (an integer mantissa divided by a power of ten is correctly rounded);
/// anything else goes to the standard library's parser.
fn parse_float(s: &[u8]) -> Result<Option<f64>, ()> {
    if s.eq_ignore_ascii_case(b"nan") {
        return Ok(None);
    }
    if let Some(v) = fast_decimal(s) {
        return Ok(Some(v));
    }
    let v: f64 = std::str::from_utf8(s)
        .map_err(|_| ())?
        .parse()
        .map_err(|_| ())?;
    Ok(v.is_finite().then_some(v))
}

fn fast_decimal(s: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (mut mantissa, mut digits, mut frac_digits, mut seen_dot) = (0u64, 0usize, 0usize, false);
    for &b in s {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                digits += 1;
                frac_digits += usize::from(seen_dot);
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
        if digits > 15 {
            return None;
        }
    }
    (digits > 0).then(|| mantissa as f64 / POW10[frac_digits])
}

/// Shortens a name or line for a message, on a character boundary.
pub(crate) fn clip(s: &str) -> &str {
    match s.char_indices().nth(120) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::StatValue;

    const CAT: &str = "outbound|80||catalog.istioinaction.svc.cluster.local";

    fn parse(text: &str) -> StatsSet {
        parse_stats_text(text.as_bytes()).unwrap()
    }

    #[test]
    fn counters_text_readouts_and_big_values() {
        let set = parse(&format!(
            "cluster.{CAT}.version_text: \"2025-05-03T12:39:09Z/11\"\n\
             cluster.{CAT}.circuit_breakers.default.remaining_cx_pools: 18446744073709551614\n\
             cluster.{CAT}.upstream_rq_timeout: 3\n\
             cluster_manager.cds.version: 11549674845441926298\n\
             control_plane.identifier: \"\"\n"
        ));
        let c = set.cluster(CAT).unwrap();
        assert_eq!(
            c.get("version_text"),
            Some(&StatValue::Text("2025-05-03T12:39:09Z/11".into()))
        );
        assert_eq!(
            c.int("circuit_breakers.default.remaining_cx_pools"),
            Some(18446744073709551614)
        );
        assert_eq!(c.int("upstream_rq_timeout"), Some(3));
        assert_eq!(
            set.other().get("cluster_manager.cds.version"),
            Some(&StatValue::Int(11549674845441926298))
        );
        assert_eq!(
            set.other().get("control_plane.identifier"),
            Some(&StatValue::Text(String::new()))
        );
        assert_eq!(set.stat_count, 5);
        assert!(set.issues().is_empty());
    }

    #[test]
    fn histograms_with_nan_numbers_and_no_values() {
        let set = parse(&format!(
            "cluster.{CAT}.upstream_cx_length_ms: No recorded values\n\
             cluster.{CAT}.upstream_rq_time: P0(nan,11) P25(nan,11.25) P50(1,11.5) P99(2.5,929.9999999999999) P99.9(nan,11.999) P100(nan,12)\n"
        ));
        let c = set.cluster(CAT).unwrap();
        assert!(c.histogram("upstream_cx_length_ms").unwrap().is_empty());
        let h = c.histogram("upstream_rq_time").unwrap();
        assert_eq!(h.quantiles.len(), 6);
        assert_eq!(h.cumulative(99.0), Some(929.9999999999999));
        assert_eq!(h.interval(99.0), Some(2.5));
        assert_eq!(h.interval(0.0), None);
        assert_eq!(h.cumulative(99.9), Some(11.999));
    }

    #[test]
    fn cumulative_bucket_mode() {
        let set = parse("cluster.a.upstream_rq_time: B0.5(0,0) B1(0,1) B5(1,3)\n");
        let h = set
            .cluster("a")
            .unwrap()
            .histogram("upstream_rq_time")
            .unwrap();
        assert_eq!(
            h.buckets,
            vec![
                Bucket { le: 0.5, count: 0 },
                Bucket { le: 1.0, count: 1 },
                Bucket { le: 5.0, count: 3 }
            ]
        );
    }

    #[test]
    fn istio_123_delimiter_and_names_with_colons() {
        let set = parse(
            "cluster.outbound|9080||reviews.default.svc.cluster.local;.upstream_rq_total: 7\n\
             http.outbound_0.0.0.0_9080;.downstream_rq_total: 9\n\
             istiocustom.istio_requests_total.source_principal.spiffe://cluster.local/ns/a/sa/b.response_code.200: 4\n",
        );
        let c = set
            .cluster("outbound|9080||reviews.default.svc.cluster.local")
            .unwrap();
        assert_eq!(c.int("upstream_rq_total"), Some(7));
        assert_eq!(
            set.other()
                .get("http.outbound_0.0.0.0_9080;.downstream_rq_total"),
            Some(&StatValue::Int(9))
        );
        assert_eq!(
            set.other().get("istiocustom.istio_requests_total.source_principal.spiffe://cluster.local/ns/a/sa/b.response_code.200"),
            Some(&StatValue::Int(4))
        );
    }

    #[test]
    fn damaged_lines_are_reported_with_line_numbers_and_parsing_continues() {
        let set = parse(&format!(
            "luster.{CAT}.upstream_rq_total: 5\n\
             cluster.{CAT}.upstream_rq_total 5\n\
             cluster.{CAT}.upstream_rq_timeout: five\n\
             cluster.{CAT}.upstream_rq_time: P0(nan,11) P25(nan,1\n\
             \n\
             cluster.{CAT}.upstream_rq_retry: 2\n"
        ));
        let lines: Vec<usize> = set.issues().iter().map(|i| i.line).collect();
        assert_eq!(lines, vec![1, 2, 3, 4], "{:?}", set.issues());
        let c = set.cluster(CAT).unwrap();
        assert_eq!(c.int("upstream_rq_retry"), Some(2));
        assert_eq!(
            c.get("upstream_rq_time"),
            None,
            "a cut histogram is not stored"
        );
        assert_eq!(
            set.other().get(&format!("luster.{CAT}.upstream_rq_total")),
            Some(&StatValue::Int(5))
        );
    }

    #[test]
    fn nothing_parseable_is_fatal_with_the_first_problem() {
        let err = parse_stats_text(b"hello world\nsecond line\n").unwrap_err();
        assert_eq!(err.line(), 1);
        assert!(
            err.to_string().contains("no Envoy stat line found"),
            "{err}"
        );
        assert!(matches!(parse_stats_text(b""), Err(ParseError::Empty(_))));
        assert!(matches!(
            parse_stats_text(b"a: 1\n\x00"),
            Err(ParseError::Binary { .. })
        ));
    }

    #[test]
    fn reparse_into_the_same_set_gives_the_same_answer() {
        let text = format!(
            "cluster.{CAT}.upstream_rq_total: 5\ncluster.other.upstream_rq_total: 1\nserver.uptime: 3\n"
        );
        let mut set = parse(&text);
        parse_stats_text_into(text.replace(": 5", ": 6").as_bytes(), &mut set).unwrap();
        assert_eq!(set.cluster(CAT).unwrap().int("upstream_rq_total"), Some(6));
        assert_eq!(set.cluster_count(), 2);
        assert_eq!(set.uptime_seconds(), Some(3));
        assert_eq!(set.stat_count, 3);
    }

    #[test]
    fn integer_parser_rejects_overflow_and_junk() {
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), None);
        assert_eq!(parse_u64("12a"), None);
        assert_eq!(parse_u64("1.5"), None);
    }

    #[test]
    fn float_fast_path_agrees_with_the_standard_parser() {
        for s in [
            "0",
            "11.25",
            "929.9999999999999",
            "1.0269230769230768",
            "3600000.0",
            "0.5",
            "12",
            "2.0986000000000002",
            "1e3",
            "123456789012345.6",
        ] {
            assert_eq!(
                parse_float(s.as_bytes()),
                Ok(Some(s.parse::<f64>().unwrap())),
                "{s}"
            );
        }
        assert_eq!(parse_float(b"nan"), Ok(None));
        assert_eq!(parse_float(b"1.2.3"), Err(()));
        assert_eq!(parse_float(b""), Err(()));
        assert_eq!(parse_float(b"inf"), Ok(None));
    }
}
