//! Protobuf JSON durations as Envoy prints them: `"0.250s"`, `"10s"`, `"3600s"`, and the
//! object form `{"seconds": "1", "nanos": 0}` that some tools emit.
//!
//! meshtop serializes every duration back in the protobuf string form (`"1.500s"`), so a JSON
//! export reads like the Envoy capture it came from.

use std::time::Duration;

use serde::Serializer;
use serde_json::Value;

/// The largest duration protobuf allows (10,000 years).
const MAX_SECONDS: u64 = 315_576_000_000;

/// Parses a protobuf JSON duration string: digits, an optional fraction of 1 to 9 digits, and
/// a final `s`. Negative durations are rejected: no Envoy timeout can be negative.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {text:?} (expected e.g. \"1.5s\")");
    let body = text.strip_suffix('s').ok_or_else(bad)?;
    if body.starts_with('-') {
        return Err(format!("negative duration {text:?}"));
    }
    let (secs, frac) = match body.split_once('.') {
        Some((s, f)) => (s, Some(f)),
        None => (body, None),
    };
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let secs: u64 = secs.parse().map_err(|_| bad())?;
    let nanos = match frac {
        None => 0,
        Some(f) if (1..=9).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()) => {
            let scale = 10u32.pow(9 - f.len() as u32);
            f.parse::<u32>().map_err(|_| bad())? * scale
        }
        Some(_) => return Err(bad()),
    };
    if secs > MAX_SECONDS {
        return Err(format!("duration {text:?} is out of range"));
    }
    Ok(Duration::new(secs, nanos))
}

/// Reads a duration from a JSON value: the protobuf string form or a
/// `{"seconds": …, "nanos": …}` object (seconds as a number or a decimal string).
pub fn duration_from_json(value: &Value) -> Result<Duration, String> {
    match value {
        Value::String(s) => parse_duration(s),
        Value::Object(map) => {
            let secs = match map.get("seconds") {
                None => 0,
                Some(Value::Number(n)) => n.as_u64().ok_or("seconds must be a whole number ≥ 0")?,
                Some(Value::String(s)) => s.parse().map_err(|_| format!("bad seconds {s:?}"))?,
                Some(other) => return Err(format!("bad seconds {other}")),
            };
            let nanos = match map.get("nanos") {
                None => 0,
                Some(v) => v
                    .as_u64()
                    .filter(|n| *n < 1_000_000_000)
                    .ok_or_else(|| format!("bad nanos {v}"))?,
            };
            if secs > MAX_SECONDS {
                return Err(format!("duration of {secs} seconds is out of range"));
            }
            Ok(Duration::new(secs, nanos as u32))
        }
        other => Err(format!(
            "expected a duration string like \"1.5s\", found {other}"
        )),
    }
}

/// Formats a duration the way protobuf's JSON printer does: `"10s"`, `"0.250s"`,
/// `"1.000500s"`, `"0.000000001s"` (0, 3, 6 or 9 fractional digits).
pub fn format_duration(d: Duration) -> String {
    let (secs, nanos) = (d.as_secs(), d.subsec_nanos());
    if nanos == 0 {
        format!("{secs}s")
    } else if nanos % 1_000_000 == 0 {
        format!("{secs}.{:03}s", nanos / 1_000_000)
    } else if nanos % 1_000 == 0 {
        format!("{secs}.{:06}s", nanos / 1_000)
    } else {
        format!("{secs}.{nanos:09}s")
    }
}

/// `serialize_with` for a `Duration`: the protobuf string form.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

/// `serialize_with` for an `Option<Duration>`: the protobuf string form or `null`.
pub fn serialize_opt<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&format_duration(*d)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_in_every_form_envoy_prints() {
        assert_eq!(parse_duration("0.250s"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("3600s"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0.000000001s"), Ok(Duration::from_nanos(1)));
    }

    #[test]
    fn malformed_strings_are_errors_not_panics() {
        for bad in [
            "",
            "s",
            "10",
            "1.s",
            ".5s",
            "1.0000000001s",
            "1e3s",
            "abc",
            "1 s",
            "+1s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            parse_duration("-1s"),
            Err("negative duration \"-1s\"".to_string())
        );
        assert!(parse_duration("99999999999999999999s").is_err());
        assert!(parse_duration("315576000001s").is_err());
    }

    #[test]
    fn object_form_with_string_or_number_seconds() {
        let d = duration_from_json(&json!({"seconds": "1", "nanos": 0}));
        assert_eq!(d, Ok(Duration::from_secs(1)));
        let d = duration_from_json(&json!({"seconds": 2, "nanos": 500_000_000}));
        assert_eq!(d, Ok(Duration::from_millis(2500)));
        assert_eq!(duration_from_json(&json!({})), Ok(Duration::ZERO));
        assert!(duration_from_json(&json!({"seconds": -1})).is_err());
        assert!(duration_from_json(&json!({"nanos": 1_000_000_000})).is_err());
        assert!(duration_from_json(&json!(5)).is_err());
    }

    #[test]
    fn formats_like_protobuf() {
        assert_eq!(format_duration(Duration::from_millis(250)), "0.250s");
        assert_eq!(format_duration(Duration::from_secs(10)), "10s");
        assert_eq!(
            format_duration(Duration::from_micros(1_000_500)),
            "1.000500s"
        );
        assert_eq!(format_duration(Duration::from_nanos(1)), "0.000000001s");
    }
}
