//! Wall-clock times for snapshot headers and file names, in UTC, from Unix milliseconds —
//! without a date library: the civil-from-days conversion (proleptic Gregorian calendar).

/// A UTC date and time of day, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl UtcTime {
    /// The time `unix_ms` milliseconds after 1970-01-01 00:00:00 UTC (truncated to the second).
    pub fn from_unix_ms(unix_ms: u64) -> UtcTime {
        let secs = unix_ms / 1000;
        let (year, month, day) = civil_from_days((secs / 86_400) as i64);
        let of_day = secs % 86_400;
        UtcTime {
            year,
            month,
            day,
            hour: (of_day / 3600) as u32,
            minute: (of_day % 3600 / 60) as u32,
            second: (of_day % 60) as u32,
        }
    }

    /// `2026-11-26`.
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `03:12:40`.
    pub fn time(&self) -> String {
        format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }

    /// `20261126T031240Z`, the compact ISO 8601 form used in file names.
    pub fn stamp(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// `2026-11-26 03:12:10–03:12:40 UTC`; the date is repeated when the range crosses midnight.
pub fn utc_range(start_ms: u64, end_ms: u64) -> String {
    let (a, b) = (
        UtcTime::from_unix_ms(start_ms),
        UtcTime::from_unix_ms(end_ms),
    );
    if a.date() == b.date() {
        format!("{} {}–{} UTC", a.date(), a.time(), b.time())
    } else {
        format!("{} {}–{} {} UTC", a.date(), a.time(), b.date(), b.time())
    }
}

/// `03:12:40 UTC`.
pub fn utc_time_of_day(unix_ms: u64) -> String {
    format!("{} UTC", UtcTime::from_unix_ms(unix_ms).time())
}

/// Year, month (1–12) and day (1–31) of a day number counted from 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-26 03:12:40 UTC (`date -u -d @1795662760`).
    const T: u64 = 1_795_662_760_000;

    #[test]
    fn unix_milliseconds_become_utc_dates_and_stamps() {
        let t = UtcTime::from_unix_ms(T + 999);
        assert_eq!(t.date(), "2026-11-26");
        assert_eq!(t.time(), "03:12:40");
        assert_eq!(t.stamp(), "20261126T031240Z");
        assert_eq!(UtcTime::from_unix_ms(0).stamp(), "19700101T000000Z");
        // 2024-02-29 23:59:59 UTC: a leap day.
        assert_eq!(
            UtcTime::from_unix_ms(1_709_251_199_000).stamp(),
            "20240229T235959Z"
        );
        // The largest input does not overflow: ~584 million years after 1970.
        assert!(UtcTime::from_unix_ms(u64::MAX).year > 584_000_000);
    }

    #[test]
    fn ranges_repeat_the_date_only_across_midnight() {
        assert_eq!(utc_range(T - 30_000, T), "2026-11-26 03:12:10–03:12:40 UTC");
        assert_eq!(
            utc_range(1_709_251_190_000, 1_709_251_200_000),
            "2024-02-29 23:59:50–2024-03-01 00:00:00 UTC"
        );
        assert_eq!(utc_time_of_day(T), "03:12:40 UTC");
    }
}
