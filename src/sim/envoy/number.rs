//! Numbers printed the way Envoy prints them. Envoy formats doubles with the `fmt` library, and
//! each output uses a different spec, so the emulator needs the same three:
//!
//! - [`shortest`] is fmt's `{}`: the shortest text that reads back to the same double, without
//!   a trailing `.0` (`11`, `11.25`, `929.9999999999999`), scientific from 1e16 or below 1e-4
//!   (`1e+16`), `nan` for NaN. Histogram summaries (`P25(nan,11.25)`), JSON quantiles and the
//!   `/clusters` success rates use it.
//! - [`general32`] is fmt's `{:.32g}`: 32 significant digits, trailing zeros dropped. Prometheus
//!   bucket bounds (`le="0.5"`) and `_sum` values (`1.0500000000000000444089209850063`) use it.
//!
//! Rust's own float formatting gives the digits (shortest round-trip for `{}`, exactly rounded
//! for `{:.Ne}`); this module only moves the decimal point and the exponent to fmt's layout.

/// fmt's `{}` for a double (see the module header).
pub(super) fn shortest(value: f64) -> String {
    if let Some(special) = non_finite(value) {
        return special.to_string();
    }
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        let sci = format!("{value:e}");
        return fmt_exponent(&sci);
    }
    format!("{value}")
}

/// fmt's `{:.32g}` for a double (see the module header).
pub(super) fn general32(value: f64) -> String {
    const PRECISION: i32 = 32;
    if let Some(special) = non_finite(value) {
        return special.to_string();
    }
    if value == 0.0 {
        return "0".to_string();
    }
    let sci = format!("{:.*e}", (PRECISION - 1) as usize, value.abs());
    let Some((mantissa, exponent)) = sci.split_once('e') else {
        return sci;
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if value < 0.0 { "-" } else { "" };
    if (-4..PRECISION).contains(&exponent) {
        return format!("{sign}{}", fixed_from_digits(&digits, exponent));
    }
    let (first, rest) = digits.split_at(1);
    let rest = rest.trim_end_matches('0');
    let mantissa = if rest.is_empty() {
        first.to_string()
    } else {
        format!("{first}.{rest}")
    };
    format!("{sign}{}", fmt_exponent(&format!("{mantissa}e{exponent}")))
}

fn non_finite(value: f64) -> Option<&'static str> {
    if value.is_nan() {
        Some("nan")
    } else if value == f64::INFINITY {
        Some("inf")
    } else if value == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}

/// Places the decimal point into significant `digits` whose first digit has decimal
/// `exponent`, and drops trailing fractional zeros.
fn fixed_from_digits(digits: &str, exponent: i32) -> String {
    let text = if exponent >= 0 {
        let split = (exponent as usize + 1).min(digits.len());
        let (int, frac) = digits.split_at(split);
        let padding = "0".repeat(exponent as usize + 1 - split);
        format!("{int}{padding}.{frac}")
    } else {
        let zeros = "0".repeat((-exponent - 1) as usize);
        format!("0.{zeros}{digits}")
    };
    let trimmed = text.trim_end_matches('0');
    trimmed.trim_end_matches('.').to_string()
}

/// Rust's `1.5e-5` → fmt's `1.5e-05`: a sign and at least two exponent digits.
fn fmt_exponent(rust_sci: &str) -> String {
    let Some((mantissa, exponent)) = rust_sci.split_once('e') else {
        return rust_sci.to_string();
    };
    let (sign, digits) = match exponent.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exponent),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_matches_fmt_braces() {
        let cases = [
            (11.0, "11"),
            (11.25, "11.25"),
            (0.0, "0"),
            (-1.0, "-1"),
            (929.9999999999999, "929.9999999999999"),
            (60101.91, "60101.91"),
            (1e16, "1e+16"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (1234567890123456.0, "1234567890123456"),
            (f64::NAN, "nan"),
        ];
        for (value, text) in cases {
            assert_eq!(shortest(value), text, "{value}");
        }
    }

    #[test]
    fn general32_matches_envoy_prometheus_captures() {
        // The first three from the netdata `/stats/prometheus` fixture; the last two as C printf
        // `%.32g` prints them.
        let cases = [
            (1.05, "1.0500000000000000444089209850063"),
            (170.15, "170.1500000000000056843418860808"),
            (86.1, "86.099999999999994315658113919199"),
            (0.5, "0.5"),
            (20.5, "20.5"),
            (3600000.0, "3600000"),
            (0.0, "0"),
            (28217741.5, "28217741.5"),
            (-2.0, "-2"),
            (1e40, "1.0000000000000000303786028427004e+40"),
            (0.00001, "1.0000000000000000818030539140313e-05"),
        ];
        for (value, text) in cases {
            assert_eq!(general32(value), text, "{value}");
        }
    }
}
