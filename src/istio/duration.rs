//! Durations as Istio CRDs spell them. The CRD schema checks them with CEL `duration(self)`,
//! which takes Go's `time.ParseDuration` syntax: a sequence of decimal numbers with a unit,
//! `1s`, `0.5s`, `100ms`, `1h`, `1h30m`, `1.5h`, `3600s`, `10us`/`10µs`, `5ns`, and a bare `0`.
//! Protobuf's JSON form (`1.500s`) is a special case of it.
//!
//! Serialisation: every duration meshtop writes out (spec types and resolved policy) is a
//! whole number of **milliseconds** (`u64`, sub-millisecond parts truncated); `None` is `null`.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Units Go accepts, longest suffix first so `ms` is not read as `m` + `s`.
const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses a Go-style duration (`1h30m`, `0.5s`, `100ms`). Negative durations and a missing
/// unit (other than the bare `0`) are errors; the message quotes the text.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = |why: &str| {
        format!("invalid duration {text:?}: {why} (expected e.g. 1s, 0.5s, 100ms, 1h30m)")
    };
    let trimmed = text.trim();
    if trimmed == "0" {
        return Ok(Duration::ZERO);
    }
    if trimmed.is_empty() {
        return Err(bad("empty"));
    }
    if trimmed.starts_with('-') {
        return Err(bad("negative"));
    }
    let mut rest = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let mut nanos: u128 = 0;
    while !rest.is_empty() {
        let (value, after) = split_number(rest).ok_or_else(|| bad("expected a number"))?;
        let (unit, scale) = UNITS
            .iter()
            .filter(|(u, _)| after.starts_with(u))
            .max_by_key(|(u, _)| u.len())
            .ok_or_else(|| bad("missing or unknown unit"))?;
        nanos += scaled(value, *scale).ok_or_else(|| bad("out of range"))?;
        rest = &after[unit.len()..];
    }
    let nanos = u64::try_from(nanos).map_err(|_| bad("out of range"))?;
    Ok(Duration::from_nanos(nanos))
}

/// A decimal number `12`, `0.5`, `.5` or `1.` at the start of `text`: (integer, fraction) digits.
fn split_number(text: &str) -> Option<((&str, &str), &str)> {
    let int_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (int, after) = text.split_at(int_end);
    let (frac, after) = match after.strip_prefix('.') {
        Some(tail) => {
            let end = tail
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(tail.len());
            tail.split_at(end)
        }
        None => ("", after),
    };
    (!int.is_empty() || !frac.is_empty()).then_some(((int, frac), after))
}

/// `int.frac × scale` in nanoseconds, exact for the digits that matter (fraction capped at 18).
fn scaled((int, frac): (&str, &str), scale: u128) -> Option<u128> {
    let whole: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac = &frac[..frac.len().min(18)];
    let part = if frac.is_empty() {
        0
    } else {
        frac.parse::<u128>().ok()? * scale / 10u128.pow(frac.len() as u32)
    };
    whole.checked_mul(scale)?.checked_add(part)
}

/// Whole milliseconds, the serialised form of every duration.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Serde adapter for `Option<Duration>` spec fields: reads an Istio duration string, writes
/// milliseconds. Use with `#[serde(default, with = "crate::istio::duration::option")]`.
pub mod option {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => parse_duration(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }

    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        value.map(millis).serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> u128 {
        parse_duration(text).unwrap().as_millis()
    }

    #[test]
    fn go_style_and_protobuf_forms() {
        assert_eq!(ms("1s"), 1_000);
        assert_eq!(ms("0.5s"), 500);
        assert_eq!(ms("100ms"), 100);
        assert_eq!(ms("1h"), 3_600_000);
        assert_eq!(ms("1m"), 60_000);
        assert_eq!(ms("1.5s"), 1_500);
        assert_eq!(ms("3600s"), 3_600_000);
        assert_eq!(ms("1h30m"), 5_400_000);
        assert_eq!(ms("1.5h"), 5_400_000);
        assert_eq!(ms("2m3.5s"), 123_500);
        assert_eq!(ms(".5s"), 500);
        assert_eq!(ms("0"), 0);
        assert_eq!(ms("0s"), 0);
        assert_eq!(ms("1.000s"), 1_000);
        assert_eq!(
            parse_duration("1500us").unwrap(),
            Duration::from_micros(1500)
        );
        assert_eq!(parse_duration("7µs").unwrap(), Duration::from_micros(7));
        assert_eq!(parse_duration("8ns").unwrap(), Duration::from_nanos(8));
    }

    #[test]
    fn bad_durations_are_errors_quoting_the_text() {
        for bad in [
            "", "s", "10", "1x", "-1s", "1s2", "abc", "1..5s", "ms", "1 s",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
        assert!(
            parse_duration("99999999999999h")
                .unwrap_err()
                .contains("out of range")
        );
    }

    #[test]
    fn millis_truncates() {
        assert_eq!(millis(Duration::from_micros(1_999)), 1);
    }
}
