//! The Prometheus text exposition format 0.0.4, one line at a time: blank lines, `# HELP` /
//! `# TYPE` comments and samples `name{label="value",…} value [timestamp]`.
//!
//! A hand-written byte scanner, no regex. Names and label values are borrowed from the input;
//! only a label value that contains an escape (`\"`, `\\`, `\n`) is copied. The label list is a
//! caller-owned `Vec` that is cleared and refilled, so scanning a line allocates nothing.

use std::borrow::Cow;
use std::fmt;

/// One `name="value"` pair of a sample, with the escapes already resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Label<'a> {
    pub name: &'a str,
    pub value: Cow<'a, str>,
}

/// The value of a label called `name`, if the sample has it.
pub(crate) fn find_label<'l>(labels: &'l [Label<'_>], name: &str) -> Option<&'l str> {
    labels.iter().find(|l| l.name == name).map(|l| &*l.value)
}

/// A sample value. Plain digit strings are kept exact as `u64` (Envoy prints counters up to
/// `u64::MAX`, which `f64` cannot hold); everything else is a Prometheus float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(u64),
    Float(f64),
}

impl Number {
    /// Parses a value token: digits, Go floats (`1e+06`, `0.5`), `NaN`, `+Inf`, `-Inf`.
    pub fn parse(token: &str) -> Option<Number> {
        if !token.is_empty()
            && token.bytes().all(|b| b.is_ascii_digit())
            && let Ok(v) = token.parse::<u64>()
        {
            return Some(Number::Int(v));
        }
        token.parse::<f64>().ok().map(Number::Float)
    }

    /// The value as a counter or gauge: finite, non-negative and integral (`1e+06` counts).
    pub fn as_u64(self) -> Option<u64> {
        match self {
            Number::Int(v) => Some(v),
            // 2^64 is the first float that no longer fits.
            Number::Float(f)
                if f >= 0.0 && f.fract() == 0.0 && f < 18_446_744_073_709_551_616.0 =>
            {
                Some(f as u64)
            }
            Number::Float(_) => None,
        }
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(v) => v as f64,
            Number::Float(f) => f,
        }
    }
}

/// The metric kinds a `# TYPE` line can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetricKind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

/// What one line of the exposition is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LineKind<'a> {
    /// Empty, whitespace only, `# HELP …` or any other `#` comment.
    Ignored,
    /// `# TYPE family kind`.
    Type { family: &'a str, kind: MetricKind },
    /// A `# TYPE` line that could not be read.
    BadType(ScanError),
    /// Anything else; read it with [`scan_sample`].
    Sample,
}

/// Why a line could not be read, with the 1-based column of the offending byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScanError {
    pub column: usize,
    pub reason: &'static str,
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.reason)
    }
}

/// Name, value and the printed value text of a sample; the labels went to the caller's `Vec`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SampleHead<'a> {
    pub name: &'a str,
    pub value: Number,
    pub value_text: &'a str,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Bytes allowed in a label name (`[A-Za-z0-9_]`); metric names also allow `:`.
const LABEL_NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_';
        b += 1;
    }
    table
};

/// The end of the run of name bytes starting at `start` (`:` allowed when `colon`).
fn name_end(bytes: &[u8], start: usize, colon: bool) -> usize {
    let rest = bytes.get(start..).unwrap_or_default();
    let len = rest
        .iter()
        .position(|&b| !(LABEL_NAME_BYTE[usize::from(b)] || (colon && b == b':')))
        .unwrap_or(rest.len());
    start + len
}

fn skip_blanks(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).copied().is_some_and(is_blank) {
        i += 1;
    }
    i
}

fn fail<T>(i: usize, reason: &'static str) -> Result<T, ScanError> {
    Err(ScanError {
        column: i + 1,
        reason,
    })
}

/// Sorts a line into blank/comment, `# TYPE`, or sample, without reading the sample yet.
pub(crate) fn classify(line: &str) -> LineKind<'_> {
    let bytes = line.as_bytes();
    let start = skip_blanks(bytes, 0);
    match bytes.get(start) {
        None => LineKind::Ignored,
        Some(b'#') => classify_comment(line, start + 1),
        Some(_) => LineKind::Sample,
    }
}

fn classify_comment(line: &str, after_hash: usize) -> LineKind<'_> {
    let mut words = line
        .get(after_hash..)
        .unwrap_or("")
        .split_ascii_whitespace();
    if words.next() != Some("TYPE") {
        return LineKind::Ignored;
    }
    let column = line.find("TYPE").unwrap_or(0) + 1;
    let (Some(family), Some(kind)) = (words.next(), words.next()) else {
        return LineKind::BadType(ScanError {
            column,
            reason: "# TYPE needs a metric name and a type",
        });
    };
    let kind = match kind {
        "counter" => MetricKind::Counter,
        "gauge" => MetricKind::Gauge,
        "histogram" => MetricKind::Histogram,
        "summary" => MetricKind::Summary,
        "untyped" => MetricKind::Untyped,
        _ => {
            return LineKind::BadType(ScanError {
                column,
                reason: "unknown metric type",
            });
        }
    };
    LineKind::Type { family, kind }
}

/// Reads a sample line into its name, value and (into `labels`, cleared first) its labels.
/// A timestamp after the value is accepted and ignored.
pub(crate) fn scan_sample<'a>(
    line: &'a str,
    labels: &mut Vec<Label<'a>>,
) -> Result<SampleHead<'a>, ScanError> {
    labels.clear();
    let bytes = line.as_bytes();
    let start = skip_blanks(bytes, 0);
    let mut i = name_end(bytes, start, true);
    if i == start || bytes.get(start).is_some_and(u8::is_ascii_digit) {
        return fail(start, "expected a metric name");
    }
    let name = &line[start..i];
    match bytes.get(i) {
        Some(b'{') => i = scan_labels(line, i + 1, labels)?,
        Some(&b) if is_blank(b) => {}
        Some(_) => return fail(i, "invalid character in metric name"),
        None => return fail(i, "missing value after the metric name"),
    }
    let (value, value_text) = scan_value(line, i)?;
    Ok(SampleHead {
        name,
        value,
        value_text,
    })
}

/// Reads `value [timestamp]` starting at `i` (blanks first); nothing may follow.
fn scan_value(line: &str, i: usize) -> Result<(Number, &str), ScanError> {
    let bytes = line.as_bytes();
    let start = skip_blanks(bytes, i);
    if start == i && i < bytes.len() {
        return fail(i, "expected a blank before the value");
    }
    let end = token_end(bytes, start);
    if start == end {
        return fail(start, "missing value");
    }
    let text = &line[start..end];
    let Some(value) = Number::parse(text) else {
        return fail(start, "value is not a number");
    };
    let ts = skip_blanks(bytes, end);
    let ts_end = token_end(bytes, ts);
    if ts < ts_end {
        let stamp = line[ts..ts_end]
            .strip_prefix('-')
            .unwrap_or(&line[ts..ts_end]);
        if stamp.is_empty() || !stamp.bytes().all(|b| b.is_ascii_digit()) {
            return fail(ts, "timestamp after the value is not an integer");
        }
    }
    let rest = skip_blanks(bytes, ts_end);
    if rest < bytes.len() {
        return fail(rest, "unexpected text after the timestamp");
    }
    Ok((value, text))
}

fn token_end(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|&b| !is_blank(b)) {
        i += 1;
    }
    i
}

/// Reads `name="value", …}` from just after the `{`; returns the index after the `}`.
fn scan_labels<'a>(
    line: &'a str,
    mut i: usize,
    labels: &mut Vec<Label<'a>>,
) -> Result<usize, ScanError> {
    let bytes = line.as_bytes();
    loop {
        i = skip_blanks(bytes, i);
        match bytes.get(i) {
            Some(b'}') => return Ok(i + 1),
            None => return fail(i, "unterminated label set (no closing '}')"),
            Some(_) => {}
        }
        let (label, next) = scan_label(line, i)?;
        labels.push(label);
        i = skip_blanks(bytes, next);
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => return Ok(i + 1),
            None => return fail(i, "unterminated label set (no closing '}')"),
            Some(_) => return fail(i, "expected ',' or '}' after a label value"),
        }
    }
}

/// Reads one `name="value"` starting at `i`; returns it and the index after the closing quote.
fn scan_label(line: &str, start: usize) -> Result<(Label<'_>, usize), ScanError> {
    let bytes = line.as_bytes();
    let mut i = name_end(bytes, start, false);
    if i == start {
        return fail(i, "expected a label name");
    }
    let name = &line[start..i];
    i = skip_blanks(bytes, i);
    if bytes.get(i) != Some(&b'=') {
        return fail(i, "expected '=' after the label name");
    }
    i = skip_blanks(bytes, i + 1);
    if bytes.get(i) != Some(&b'"') {
        return fail(i, "expected '\"' to open the label value");
    }
    let (value, next) = scan_quoted(line, i + 1)?;
    Ok((Label { name, value }, next))
}

/// Reads a label value from just after its opening quote; returns it and the index after the
/// closing quote. Borrowed unless it contains an escape. `\"`, `\\` and `\n` are resolved; any
/// other backslash is kept as written.
fn scan_quoted(line: &str, start: usize) -> Result<(Cow<'_, str>, usize), ScanError> {
    let bytes = line.as_bytes();
    let rest = bytes.get(start..).unwrap_or_default();
    match memchr::memchr2(b'"', b'\\', rest) {
        None => fail(bytes.len(), "unterminated label value (no closing '\"')"),
        Some(n) if rest.get(n) == Some(&b'"') => {
            Ok((Cow::Borrowed(&line[start..start + n]), start + n + 1))
        }
        Some(_) => unescape(line, start),
    }
}

fn unescape(line: &str, start: usize) -> Result<(Cow<'_, str>, usize), ScanError> {
    let mut out = String::new();
    let mut chars = line.get(start..).unwrap_or("").char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((Cow::Owned(out), start + at + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, e @ ('"' | '\\'))) => out.push(e),
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    fail(line.len(), "unterminated label value (no closing '\"')")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(line: &str) -> Result<(SampleHead<'_>, Vec<(String, String)>), ScanError> {
        let mut labels = Vec::new();
        let head = scan_sample(line, &mut labels)?;
        let pairs = labels
            .iter()
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect();
        Ok((head, pairs))
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn plain_sample_with_and_without_labels() {
        let (h, l) = scan("envoy_server_uptime 6225").unwrap();
        assert_eq!(
            (h.name, h.value, h.value_text),
            ("envoy_server_uptime", Number::Int(6225), "6225")
        );
        assert!(l.is_empty());
        let (h, l) = scan("envoy_server_uptime{} 208").unwrap();
        assert_eq!((h.name, h.value), ("envoy_server_uptime", Number::Int(208)));
        assert!(l.is_empty());
        let (h, l) = scan(r#"a_b{x="1",y="two"} 3"#).unwrap();
        assert_eq!(h.value, Number::Int(3));
        assert_eq!(l, vec![pair("x", "1"), pair("y", "two")]);
    }

    #[test]
    fn escapes_commas_spaces_and_trailing_comma_in_labels() {
        let line = r#"m{ a = "x\"y" , b="c\\d",c="line\nbreak",d="has, comma } and space",} 1"#;
        let (_, l) = scan(line).unwrap();
        assert_eq!(
            l,
            vec![
                pair("a", "x\"y"),
                pair("b", "c\\d"),
                pair("c", "line\nbreak"),
                pair("d", "has, comma } and space"),
            ]
        );
        let (_, l) = scan(r#"m{a="\t"} 1"#).unwrap();
        assert_eq!(
            l,
            vec![pair("a", "\\t")],
            "unknown escapes are kept as written"
        );
        let (_, l) = scan(r#"m{a="é\"ü"} 1"#).unwrap();
        assert_eq!(l, vec![pair("a", "é\"ü")]);
    }

    #[test]
    fn values_floats_specials_and_timestamps() {
        assert_eq!(scan("m 1e+06").unwrap().0.value.as_u64(), Some(1_000_000));
        assert_eq!(scan("m 2.5").unwrap().0.value, Number::Float(2.5));
        assert_eq!(scan("m 2.5").unwrap().0.value.as_u64(), None);
        assert!(matches!(scan("m NaN").unwrap().0.value, Number::Float(f) if f.is_nan()));
        assert_eq!(
            scan("m +Inf").unwrap().0.value,
            Number::Float(f64::INFINITY)
        );
        assert_eq!(
            scan("m -Inf").unwrap().0.value,
            Number::Float(f64::NEG_INFINITY)
        );
        assert_eq!(scan("m +Inf").unwrap().0.value.as_u64(), None);
        assert_eq!(scan("m -3").unwrap().0.value.as_u64(), None);
        let big = scan("m 18446744073709551614").unwrap().0;
        assert_eq!(big.value, Number::Int(18_446_744_073_709_551_614));
        assert_eq!(
            scan("m 18446744073709551616").unwrap().0.value.as_u64(),
            None
        );
        let (h, _) = scan("m{a=\"b\"} 7 1395066363000").unwrap();
        assert_eq!(h.value, Number::Int(7));
        assert_eq!(scan("m 7 -12  ").unwrap().0.value, Number::Int(7));
        assert_eq!(
            scan("  m\t7\r").err(),
            Some(ScanError {
                column: 5,
                reason: "value is not a number"
            })
        );
    }

    #[test]
    fn damaged_lines_name_the_column() {
        let err = |line: &str| scan(line).unwrap_err();
        assert_eq!(
            err("m"),
            ScanError {
                column: 2,
                reason: "missing value after the metric name"
            }
        );
        assert_eq!(err("m{a=\"b\"}").reason, "missing value");
        assert_eq!(
            err("m{a=\"b\"}7").reason,
            "expected a blank before the value"
        );
        assert_eq!(err("m abc").column, 3);
        assert_eq!(
            err("m{a=\"b} 1").reason,
            "unterminated label value (no closing '\"')"
        );
        assert_eq!(
            err("m{a=\"b\\\"} 1").reason,
            "unterminated label value (no closing '\"')"
        );
        assert_eq!(
            err("m{a=\"b\"").reason,
            "unterminated label set (no closing '}')"
        );
        assert_eq!(
            err("m{a \"b\"} 1"),
            ScanError {
                column: 5,
                reason: "expected '=' after the label name"
            }
        );
        assert_eq!(
            err("m{a=b} 1").reason,
            "expected '\"' to open the label value"
        );
        assert_eq!(
            err("m{a=\"b\" c=\"d\"} 1").reason,
            "expected ',' or '}' after a label value"
        );
        assert_eq!(err("m{,} 1").reason, "expected a label name");
        assert_eq!(
            err("m-x 1"),
            ScanError {
                column: 2,
                reason: "invalid character in metric name"
            }
        );
        assert_eq!(err("9m 1").reason, "expected a metric name");
        assert_eq!(err("m 1 2 3").reason, "unexpected text after the timestamp");
        assert_eq!(
            err("m 1 x").reason,
            "timestamp after the value is not an integer"
        );
    }

    #[test]
    fn comments_and_type_lines() {
        assert_eq!(classify(""), LineKind::Ignored);
        assert_eq!(classify("   \t"), LineKind::Ignored);
        assert_eq!(classify("# HELP x some help"), LineKind::Ignored);
        assert_eq!(classify("# just a comment"), LineKind::Ignored);
        assert_eq!(
            classify("#TYPE"),
            LineKind::BadType(ScanError {
                column: 2,
                reason: "# TYPE needs a metric name and a type"
            })
        );
        assert_eq!(
            classify("# TYPE envoy_x histogram"),
            LineKind::Type {
                family: "envoy_x",
                kind: MetricKind::Histogram
            }
        );
        assert_eq!(
            classify("# TYPE x widget"),
            LineKind::BadType(ScanError {
                column: 3,
                reason: "unknown metric type"
            })
        );
        assert_eq!(classify("x 1"), LineKind::Sample);
    }

    #[test]
    fn arbitrary_text_never_panics() {
        let mut labels = Vec::new();
        for line in [
            "{",
            "}",
            "\"",
            "m{",
            "m{a",
            "m{a=",
            "m{a=\"",
            "m{a=\"\\",
            "m{a=\"\\é",
            "é",
            "m é",
            "m{é=\"x\"} 1",
        ] {
            let _ = scan_sample(line, &mut labels);
            let _ = classify(line);
        }
    }
}
