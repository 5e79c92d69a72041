//! Compact number formats for table cells and one-line summaries: rates (`0.83`, `1.3`,
//! `21.6`, `12k`), counts (`987`, `1.2k`), measured latencies (`955ms`, `1.2s`) and exact
//! configured durations (`1s`, `500ms`, `1h30m`). Every value that was not collected is
//! [`NOT_COLLECTED`], never a 0 that would lie. Domain-agnostic: plain numbers in, text out.

/// The placeholder for a value meshtop could not collect.
pub const NOT_COLLECTED: &str = "—";

/// A non-negative rate or quantity in at most four characters where possible: `0`, `<.01`,
/// `0.83`, `1.3`, `21.6`, `216`, `1.2k`, `12k`, `1.2M`.
pub fn compact(x: f64) -> String {
    if !x.is_finite() {
        return NOT_COLLECTED.to_string();
    }
    let a = x.abs();
    let sign = if x < 0.0 { "-" } else { "" };
    let body = match a {
        0.0 => "0".to_string(),
        a if a < 0.005 => "<.01".to_string(),
        a if a < 1.0 => format!("{a:.2}"),
        a if a < 100.0 => format!("{a:.1}"),
        a if a < 999.5 => format!("{a:.0}"),
        a => scaled(a),
    };
    format!("{sign}{body}")
}

/// `1.2k`, `12k`, `1.2M`, `12G` for values of a thousand and more.
fn scaled(a: f64) -> String {
    const UNITS: [(f64, &str); 4] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    let (div, unit) = UNITS
        .iter()
        .copied()
        .find(|(d, _)| a >= *d * 0.9995)
        .unwrap_or((1e3, "k"));
    let v = a / div;
    match v < 9.95 {
        true => format!("{v:.1}{unit}"),
        false => format!("{v:.0}{unit}"),
    }
}

/// A rate with its unit: `1.3/s`, `0/s`.
pub fn per_second(x: f64) -> String {
    format!("{}/s", compact(x))
}

/// A count: exact below a thousand (`987`), then compact (`1.2k`, `12k`).
pub fn count(n: u64) -> String {
    match n {
        0..1000 => n.to_string(),
        n => scaled(n as f64),
    }
}

/// A window increase with its sign: `+15`, `+1.2k`, `0`.
pub fn increase(n: u64) -> String {
    match n {
        0 => "0".to_string(),
        n => format!("+{}", count(n)),
    }
}

/// A measured duration in milliseconds, rounded for reading: `0.4ms`, `955ms`, `1.2s`, `15s`,
/// `2m30s`, `1h5m`.
pub fn millis(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return NOT_COLLECTED.to_string();
    }
    match ms {
        0.0 => "0ms".to_string(),
        m if m < 9.95 => format!("{}ms", trim_zero(format!("{m:.1}"))),
        m if m < 999.5 => format!("{m:.0}ms"),
        m if m < 9_950.0 => format!("{}s", trim_zero(format!("{:.1}", m / 1000.0))),
        m if m < 59_500.0 => format!("{:.0}s", m / 1000.0),
        m => duration_ms((m / 1000.0).round() as u64 * 1000),
    }
}

fn trim_zero(s: String) -> String {
    match s.strip_suffix(".0") {
        Some(t) => t.to_string(),
        None => s,
    }
}

/// An exact configured duration: `500ms`, `1s`, `1.5s`, `10s`, `1m30s`, `1h`.
pub fn duration_ms(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if !ms.is_multiple_of(1000) {
        let secs = format!("{:.3}", ms as f64 / 1000.0);
        return format!("{}s", secs.trim_end_matches('0'));
    }
    let s = ms / 1000;
    let parts = [(s / 3600, "h"), ((s % 3600) / 60, "m"), (s % 60, "s")];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect()
}

/// A clock time `HH:MM:SS` (UTC) of Unix milliseconds.
pub fn clock(unix_ms: u64) -> String {
    let s = unix_ms / 1000;
    format!("{:02}:{:02}:{:02}", (s / 3600) % 24, (s / 60) % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_compact() {
        let cases = [
            (0.0, "0"),
            (0.004, "<.01"),
            (0.8283, "0.83"),
            (1.27, "1.3"),
            (21.565, "21.6"),
            (216.4, "216"),
            (999.4, "999"),
            (999.6, "1.0k"),
            (1234.0, "1.2k"),
            (12_345.0, "12k"),
            (1_500_000.0, "1.5M"),
            (f64::NAN, "—"),
        ];
        for (x, want) in cases {
            assert_eq!(compact(x), want, "{x}");
        }
        assert_eq!(per_second(1.27), "1.3/s");
    }

    #[test]
    fn counts_and_increases() {
        assert_eq!(count(987), "987");
        assert_eq!(count(1234), "1.2k");
        assert_eq!(count(12_000), "12k");
        assert_eq!(increase(0), "0");
        assert_eq!(increase(15), "+15");
        assert_eq!(increase(1500), "+1.5k");
    }

    #[test]
    fn durations_read_like_an_engineer_writes_them() {
        assert_eq!(millis(954.8), "955ms");
        assert_eq!(millis(0.42), "0.4ms");
        assert_eq!(millis(1000.0), "1s");
        assert_eq!(millis(1234.0), "1.2s");
        assert_eq!(millis(15_000.0), "15s");
        assert_eq!(millis(150_000.0), "2m30s");
        assert_eq!(duration_ms(500), "500ms");
        assert_eq!(duration_ms(1000), "1s");
        assert_eq!(duration_ms(1500), "1.5s");
        assert_eq!(duration_ms(90_000), "1m30s");
        assert_eq!(duration_ms(3_600_000), "1h");
        assert_eq!(clock(1_700_000_000_000), "22:13:20");
    }
}
